/* SPDX-License-Identifier: ISC */
/*
 * typing.c: the typing hint (API.md, Typing and presence).  POST
 * …/typing makes an ephemeral typing.start (ephemeral.c) for everyone
 * else who can view the conversation; a user's hints in one conversation
 * are passed on at most once every TYPING_THROTTLE_MS, the ring itself
 * remembering the last one, so the throttle holds across the workers of
 * a host and (once the watcher has relayed it) across hosts.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sohbet.h"

#define TYPING_THROTTLE_MS	5000
#define TYPING_LASTS_MS		10000	/* expires_at, after the hint */

/*
 * Tell the others in a conversation that the user types: 1 when the hint
 * was passed on, 0 when one of theirs there is less than
 * TYPING_THROTTLE_MS old.
 */
int
typing_start(uint64_t user_id, const struct conversation *c)
{
	struct ephemeral	e;

	memset(&e, 0, sizeof e);
	e.kind = EPHEMERAL_TYPING;
	e.server_id = c->server_id;
	e.channel_id = c->channel_id;
	e.dm_channel_id = c->dm_channel_id;
	e.user_id = user_id;
	e.expires_ms = ephemeral_now_ms() + TYPING_LASTS_MS;
	return ephemeral_publish(&e, TYPING_THROTTLE_MS);
}

/* Write a wall-clock time in milliseconds as the API writes times. */
static void
typing_gen_time(yajl_gen g, const char *key, long long ms)
{
	char		buf[64];
	struct tm	tm;
	time_t		secs = (time_t)(ms / 1000);

	gmtime_r(&secs, &tm);
	snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	json_gen_kstr(g, key, buf);
}

/* Write an id, or null for 0. */
static void
typing_gen_id(yajl_gen g, const char *key, uint64_t id)
{
	if (id == 0)
		json_gen_knull(g, key);
	else
		json_gen_kid(g, key, id);
}

/* Write typing.start's data: {channel_id, dm_channel_id, user_id, expires_at}. */
void
typing_gen(yajl_gen g, const struct ephemeral *e)
{
	yajl_gen_map_open(g);
	typing_gen_id(g, "channel_id", e->channel_id);
	typing_gen_id(g, "dm_channel_id", e->dm_channel_id);
	json_gen_kid(g, "user_id", e->user_id);
	typing_gen_time(g, "expires_at", e->expires_ms);
	yajl_gen_map_close(g);
}
