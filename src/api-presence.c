/*
 * api-presence.c: PUT /users/@me/presence {status} (API.md, Typing and
 * presence): the status the caller wants shown while connected.  Who is
 * connected, and what the others are told, is presence.c's.
 */
#include "sohbet.h"

/* PUT /users/@me/presence {status: online | idle | dnd | invisible}. */
static void
api_presence_put(struct request *req)
{
	const char	*name;
	size_t		 len;
	int		 rc, status;

	if (param_body(req) == -1 || (rc = param_text(req, "status", 1, 16, 0,
	    &name, &len)) == -1)
		return;
	if (rc == PARAM_ABSENT) {
		response_invalid(req, "status", "status is required");
		return;
	}
	if ((status = presence_parse(name, len)) == -1) {
		response_invalid(req, "status", "status must be online, idle, "
		    "dnd or invisible");
		return;
	}
	if (presence_choose(req->user_id, status) == -1) {
		response_db_error(req);
		return;
	}
	response_empty(req, 204);
}

const struct route api_presence_routes[] = {
	{ "PUT", API_PREFIX "/users/@me/presence", api_presence_put,
	    ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
