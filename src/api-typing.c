/* SPDX-License-Identifier: ISC */
/*
 * api-typing.c: POST /channels/{id}/typing and /dms/{id}/typing (API.md,
 * Typing and presence).  The caller must be able to send in the
 * conversation; a channel they cannot view is 404, as everywhere.  The
 * answer is 204 whether the hint was passed on or throttled (typing.c).
 */
#include <string.h>

#include "sohbet.h"

/* Pass the caller's hint on and answer 204. */
static void
api_typing_post(struct request *req, const struct conversation *c)
{
	typing_start(req->user_id, c);
	response_empty(req, 204);
}

/* POST /channels/{id}/typing: needs send_messages there. */
static void
api_typing_channel(struct request *req)
{
	struct conversation	c;
	struct member		m;

	memset(&c, 0, sizeof c);
	c.channel_id = req->ids[0];
	if (channels_access(req, c.channel_id, PERM_VIEW_CHANNELS |
	    PERM_SEND_MESSAGES, &m, &c.server_id) == -1)
		return;
	api_typing_post(req, &c);
}

/* POST /dms/{id}/typing: either participant. */
static void
api_typing_dm(struct request *req)
{
	struct conversation	c;

	if (api_dms_conversation(req, &c) == 0)
		api_typing_post(req, &c);
}

const struct route api_typing_routes[] = {
	{ "POST", API_PREFIX "/channels/{id}/typing", api_typing_channel,
	    ROUTE_AUTH },
	{ "POST", API_PREFIX "/dms/{id}/typing", api_typing_dm, ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
