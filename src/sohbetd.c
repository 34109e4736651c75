/* SPDX-License-Identifier: ISC */
/* sohbetd.c: the daemon's entry point; everything else is in master.c. */
#include "sohbet.h"

int
main(int argc, char **argv)
{
	return master_main(argc, argv);
}
