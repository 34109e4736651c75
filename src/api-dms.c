/* SPDX-License-Identifier: ISC */
/*
 * api-dms.c: the direct-message endpoints (API.md, Direct messages): POST
 * /dms opens one, GET /dms and /dms/{id} read them, and /dms/{id}/messages
 * is handed to api-messages.c once the caller is known to be one of the
 * two participants.  Anyone else gets 404: a DM they are not in does not
 * exist for them.  The rows are dms.c's.
 */
#include <string.h>

#include "sohbet.h"

/* Load the caller's DM channel of the path; 0, or -1 (404/503 answered). */
static int
api_dms_require(struct request *req, struct dm *d)
{
	int	rc;

	if ((rc = dms_load(req->user_id, req->ids[0], d)) == 1)
		return 0;
	if (rc == 0)
		response_not_found(req, "DM channel");
	else
		response_db_error(req);
	return -1;
}

/* Answer with a DM channel. */
static void
api_dms_respond(struct request *req, int status, const struct dm *d)
{
	yajl_gen	g;

	g = json_gen_new();
	dms_gen(g, d);
	response_json(req, status, g);
}

/* GET /dms/{id}. */
static void
api_dms_get(struct request *req)
{
	struct dm	d;

	if (api_dms_require(req, &d) == 0)
		api_dms_respond(req, 200, &d);
}

/* GET /dms: the caller's DM channels, in id order. */
static void
api_dms_list(struct request *req)
{
	yajl_gen	g;

	g = json_gen_new();
	response_list(req, g, dms_list(req->user_id, g));
}

/* POST /dms {user_id}: 201 with a new DM channel, 200 with the existing. */
static void
api_dms_create(struct request *req)
{
	struct user	u;
	struct dm	d;
	uint64_t	other, id;
	int		rc;

	if (param_body(req) == -1 || (rc = param_id(req, "user_id",
	    &other)) == -1)
		return;
	if (rc == PARAM_ABSENT) {
		response_invalid(req, "user_id", "user_id is required");
		return;
	}
	if (other == req->user_id) {
		response_invalid(req, "user_id", "You cannot open a DM channel "
		    "with yourself");
		return;
	}
	if ((rc = users_by_id(other, &u)) == 0) {
		response_not_found(req, "user");
		return;
	}
	if (rc == -1 || (rc = dms_open(req->user_id, other, &id)) == -1 ||
	    dms_load(req->user_id, id, &d) != 1) {
		response_db_error(req);
		return;
	}
	api_dms_respond(req, rc == 1 ? 201 : 200, &d);
}

/*
 * Open the conversation of the path's DM for one of its participants
 * (anyone else: 404 answered, -1), that the caller takes part coming
 * from the worker's cache (cache.c) when it is there and no older than
 * age (cache_standing_get()).
 */
static int
api_dms_open(struct request *req, struct conversation *c, int age)
{
	struct dm	d;

	memset(c, 0, sizeof *c);
	c->dm_channel_id = req->ids[0];
	if (!cache_standing_get(req->user_id, CACHE_DM, c->dm_channel_id, age,
	    NULL, NULL)) {
		if (api_dms_require(req, &d) == -1)
			return -1;
		cache_standing_put(req->user_id, CACHE_DM, c->dm_channel_id, 0,
		    NULL);
	}
	return 0;
}

/* Open the conversation of the path's DM (api_dms_open()). */
int
api_dms_conversation(struct request *req, struct conversation *c)
{
	return api_dms_open(req, c, CACHE_FRESH);
}

/*
 * The same for an ack, whose transaction finds the DM and its
 * participants again (readstate_ack_many()).
 */
int
api_dms_conversation_kept(struct request *req, struct conversation *c)
{
	return api_dms_open(req, c, CACHE_KEPT);
}

/* /dms/{id}/messages…: the participants' conversation. */
static void
api_dms_messages(struct request *req)
{
	struct conversation	c;

	if (api_dms_conversation(req, &c) == -1)
		return;
	c.may_react = 1;
	api_messages_serve(req, &c);
}

const struct route api_dms_routes[] = {
	{ "POST", API_PREFIX "/dms", api_dms_create, ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms", api_dms_list, ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms/{id}", api_dms_get, ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms/{id}/messages", api_dms_messages,
	    ROUTE_AUTH },
	{ "POST", API_PREFIX "/dms/{id}/messages", api_dms_messages,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms/{id}/messages/{id}", api_dms_messages,
	    ROUTE_AUTH },
	{ "PATCH", API_PREFIX "/dms/{id}/messages/{id}", api_dms_messages,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms/{id}/messages/{id}/reactions/{emoji}",
	    api_dms_messages, ROUTE_AUTH },
	{ "PUT", API_PREFIX "/dms/{id}/messages/{id}/reactions/{emoji}/@me",
	    api_dms_messages, ROUTE_AUTH },
	{ "DELETE", API_PREFIX
	    "/dms/{id}/messages/{id}/reactions/{emoji}/{user}",
	    api_dms_messages, ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms/{id}/pins", api_dms_messages, ROUTE_AUTH },
	{ "PUT", API_PREFIX "/dms/{id}/pins/{id}", api_dms_messages,
	    ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/dms/{id}/pins/{id}", api_dms_messages,
	    ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/dms/{id}/messages/{id}", api_dms_messages,
	    ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
