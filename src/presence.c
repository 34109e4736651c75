/*
 * presence.c: who is online (API.md, Typing and presence).  The statuses
 * and their names.
 */
#include <string.h>

#include "sohbet.h"

static const char *const presence_names[PRESENCE_STATUSES] = {
	"online", "idle", "dnd", "invisible", "offline"
};

/* The API's name of a status. */
const char *
presence_name(int status)
{
	if (status < 0 || status >= PRESENCE_STATUSES)
		return "offline";
	return presence_names[status];
}

/* The status of a name (not "offline": nobody chooses it); -1 if none. */
int
presence_parse(const char *name)
{
	int	i;

	for (i = 0; i < PRESENCE_OFFLINE; i++) {
		if (strcmp(presence_names[i], name) == 0)
			return i;
	}
	return -1;
}
