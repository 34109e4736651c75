/* SPDX-License-Identifier: ISC */
/*
 * ended.c: which requests of a unit test ended through request_done(),
 * told by the hook the worker uses to count its open requests.
 */
#include <check.h>
#include <string.h>

#include "sohbet.h"
#include "ended.h"

#define ENDED_MAX	2048

static struct ended	*ended_watched[ENDED_MAX];
static size_t		 ended_n;

/* Told of every request that ends, just before it is freed. */
static void
ended_hook(struct request *req)
{
	size_t	i;

	for (i = 0; i < ended_n; i++) {
		if (ended_watched[i]->req == req) {
			ended_watched[i]->count++;
			ended_watched[i]->status = req->status;
			ended_watched[i]->req = NULL;
			return;
		}
	}
	ck_abort_msg("a request no test watches ended");
}

/* Watch requests from now on, none yet. */
void
ended_init(void)
{
	ended_n = 0;
	request_on_done(ended_hook);
}

/* Watch a request until it ends; e must not move meanwhile. */
void
ended_watch(struct ended *e, struct request *req)
{
	ck_assert_uint_lt(ended_n, ENDED_MAX);
	memset(e, 0, sizeof *e);
	e->req = req;
	ended_watched[ended_n++] = e;
}
