/* SPDX-License-Identifier: ISC */
/*
 * api-presence.c: PUT /users/@me/presence {status} (API.md, Typing and
 * presence): the status the caller wants shown while connected, and GET
 * the same to read it back (an extension: a client that starts needs
 * it).  Who is connected, and what the others are told, is presence.c's.
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

/* GET /users/@me/presence: {status}, the status the caller chose. */
static void
api_presence_get(struct request *req)
{
	yajl_gen	g;
	int		status;

	if (presence_chosen(req->user_id, &status) == -1) {
		response_db_error(req);
		return;
	}
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_kstr(g, "status", presence_name(status));
	yajl_gen_map_close(g);
	response_json(req, 200, g);
}

const struct route api_presence_routes[] = {
	{ "GET", API_PREFIX "/users/@me/presence", api_presence_get,
	    ROUTE_AUTH },
	{ "PUT", API_PREFIX "/users/@me/presence", api_presence_put,
	    ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
