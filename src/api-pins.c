/* SPDX-License-Identifier: ISC */
/*
 * api-pins.c: the pinned messages of a conversation (API.md, Replies,
 * reactions and pins): …/pins and …/pins/{message_id} of a channel or a
 * DM, opened by api-messages.c or api-dms.c; the rows are pins.c's.
 */
#include <string.h>

#include "sohbet.h"

/*
 * Serve GET …/pins, or PUT and DELETE …/pins/{message_id}: these need
 * manage_messages in a server channel (in a DM either participant may).
 */
void
api_pins_serve(struct request *req, const struct conversation *c)
{
	if (strcmp(req->method, "GET") == 0) {
		pins_list(req, c);
		return;
	}
	if (c->channel_id != 0 && !c->moderator) {
		response_error(req, 403, "missing_permission", "You need the "
		    "manage_messages permission to pin messages");
		return;
	}
	pins_set(req, c, req->ids[1], strcmp(req->method, "PUT") == 0);
}
