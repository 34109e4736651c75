/* SPDX-License-Identifier: ISC */
/*
 * api-readstate.c: the read state endpoints (API.md, Mentions and read
 * state): GET /users/@me/read-states, and PUT /channels/{id}/ack and
 * /dms/{id}/ack, each checked as the conversation's messages are (a
 * channel the caller cannot view, a DM they are not in: 404).  The
 * counting and the rows are readstate.c's; acks wait for a batch of
 * them when they can (ackbatch.c).
 */
#include <string.h>

#include "sohbet.h"

/* GET /users/@me/read-states: every conversation the caller can see. */
static void
api_readstate_list(struct request *req)
{
	yajl_gen	g;

	g = json_gen_new();
	response_list(req, g, readstate_list(req->user_id, g));
}

/* Read the required message_id of an ack; 0, or -1 (400 answered). */
static int
api_readstate_message_id(struct request *req, uint64_t *id)
{
	int	rc;

	if (param_body(req) == -1 || (rc = param_id(req, "message_id",
	    id)) == -1)
		return -1;
	if (rc == PARAM_ABSENT) {
		response_invalid(req, "message_id", "message_id is required");
		return -1;
	}
	return 0;
}

/*
 * PUT /channels/{id}/ack {message_id}: view_channels in that channel.
 * Without it the channel does not exist for the caller (404, API.md,
 * "Channel permission overwrites"), as it is absent from their read
 * states.  The standing may come from the worker's cache as long as a
 * kept one (channels_access_kept()): the ack's transaction finds the
 * membership and the channel again.
 */
static void
api_readstate_ack_channel(struct request *req)
{
	struct conversation	c;
	struct member		m;
	uint64_t		id;

	memset(&c, 0, sizeof c);
	c.channel_id = req->ids[0];
	if (channels_access_kept(req, c.channel_id, PERM_VIEW_CHANNELS, &m,
	    &c.server_id) == -1 || api_readstate_message_id(req, &id) == -1)
		return;
	if (ackbatch_add(req, &c, id) == -1)
		readstate_ack(req, &c, id);
}

/*
 * PUT /dms/{id}/ack {message_id}: the two participants only (from the
 * worker's cache as for a channel; the transaction finds the DM again).
 */
static void
api_readstate_ack_dm(struct request *req)
{
	struct conversation	c;
	uint64_t		id;

	if (api_dms_conversation_kept(req, &c) == -1 ||
	    api_readstate_message_id(req, &id) == -1)
		return;
	if (ackbatch_add(req, &c, id) == -1)
		readstate_ack(req, &c, id);
}

const struct route api_readstate_routes[] = {
	{ "GET", API_PREFIX "/users/@me/read-states", api_readstate_list,
	    ROUTE_AUTH },
	{ "PUT", API_PREFIX "/channels/{id}/ack", api_readstate_ack_channel,
	    ROUTE_AUTH },
	{ "PUT", API_PREFIX "/dms/{id}/ack", api_readstate_ack_dm, ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
