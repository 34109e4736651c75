/* SPDX-License-Identifier: ISC */
/*
 * api-channels.c: the channel endpoints (API.md, Channels): list and
 * create a server's channels; read, rename and delete one.  Deleting a
 * channel deletes its messages (foreign keys).
 */
#include "sohbet.h"

static struct db_stmt q_rename_channel = DB_STMT(
    "UPDATE channels SET name = ? WHERE id = ?");
static struct db_stmt q_delete_channel = DB_STMT(
    "DELETE FROM channels WHERE id = ?");

/*
 * Finish a change to a channel inside the open transaction: its event
 * with the channel object, commit, and answer status with the channel.
 */
static void
api_channels_finish(struct request *req, int status, const char *type,
    uint64_t server_id, uint64_t id)
{
	struct event_scope	scope = { .server_id = server_id,
				    .channel_id = id };

	change_commit(req, &(struct change){ .status = status, .event = type,
	    .scope = &scope, .key = "channel", .object = channels_json(id) });
}

/* GET /servers/{id}/channels (view_channels). */
static void
api_channels_list(struct request *req)
{
	perm_answer_list(req, PERM_VIEW_CHANNELS, channels_list);
}

/* POST /servers/{id}/channels {name} (manage_channels) → 201. */
static void
api_channels_create(struct request *req)
{
	struct member	 m;
	const char	*name;
	uint64_t	 id;

	if (param_body(req) == -1 ||
	    perm_require(req, req->ids[0], PERM_MANAGE_CHANNELS, &m) == -1 ||
	    param_name(req, "name", 1, &name) == -1)
		return;
	if (db_begin() == -1 || (id = channels_insert(req->ids[0], name)) ==
	    0) {
		change_abort(req);
		return;
	}
	api_channels_finish(req, 201, "channel.create", req->ids[0], id);
}

/* GET /channels/{id} (view_channels). */
static void
api_channels_get(struct request *req)
{
	struct member	m;
	struct channel	c;
	yajl_gen	g;

	if (channels_require(req, req->ids[0], PERM_VIEW_CHANNELS, &m,
	    &c) == -1)
		return;
	g = json_gen_new();
	channels_gen(g, &c);
	response_json(req, 200, g);
}

/* PATCH /channels/{id} {name} (manage_channels). */
static void
api_channels_patch(struct request *req)
{
	struct member	 m;
	struct channel	 c;
	const char	*name;

	if (param_body(req) == -1 ||
	    channels_require(req, req->ids[0], PERM_MANAGE_CHANNELS, &m,
	    &c) == -1 || param_name(req, "name", 1, &name) == -1)
		return;
	if (db_begin() == -1 || db_exec(&q_rename_channel, "su", name,
	    c.id) != 1) {
		change_abort(req);
		return;
	}
	api_channels_finish(req, 200, "channel.update", c.server_id, c.id);
}

/* DELETE /channels/{id} (manage_channels) → 204. */
static void
api_channels_delete(struct request *req)
{
	struct event_scope	scope;
	struct member		m;
	struct channel		c;

	if (channels_require(req, req->ids[0], PERM_MANAGE_CHANNELS, &m,
	    &c) == -1)
		return;
	if (db_begin() == -1 || db_exec(&q_delete_channel, "u", c.id) != 1) {
		change_abort(req);
		return;
	}
	scope = (struct event_scope){ .server_id = c.server_id,
	    .channel_id = c.id };
	change_commit(req, &(struct change){ .status = 204,
	    .event = "channel.delete", .scope = &scope,
	    .object = json_ids("id", c.id, "server_id", c.server_id) });
}

const struct route api_channels_routes[] = {
	{ "GET", API_PREFIX "/servers/{id}/channels", api_channels_list,
	    ROUTE_AUTH },
	{ "POST", API_PREFIX "/servers/{id}/channels", api_channels_create,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/channels/{id}", api_channels_get, ROUTE_AUTH },
	{ "PATCH", API_PREFIX "/channels/{id}", api_channels_patch,
	    ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/channels/{id}", api_channels_delete,
	    ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
