/* SPDX-License-Identifier: ISC */
/*
 * api-channels.c: the channel endpoints (API.md, Channels): list and
 * create a server's channels (a private one with its overwrites, API.md,
 * Channel permission overwrites); read, rename and delete one.  Deleting
 * a channel deletes its messages and overwrites (foreign keys).
 */
#include <stdlib.h>

#include "sohbet.h"

#define CHANNELS_OVERWRITES_MAX	100	/* in a new channel */

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

/* GET /servers/{id}/channels: those the caller may view. */
static void
api_channels_list(struct request *req)
{
	struct member	m;
	yajl_gen	g;

	if (perm_require(req, req->ids[0], 0, &m) == -1)
		return;
	g = json_gen_new();
	response_list(req, g, access_list_channels(req->ids[0], req->user_id,
	    g));
}

/* Whether an overwrite names the same target as one of the first n. */
static int
api_channels_repeated(const struct overwrite *o, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (o[i].type == o[n].type && o[i].id == o[n].id)
			return 1;
	}
	return 0;
}

/*
 * Read one overwrite of a new channel's list ({type, id, allow?, deny?})
 * into o[n] and check it as a PUT would (api-overwrites.c), and that it
 * names a target the first n do not.  0, or -1 with 400/403 answered.
 */
static int
api_channels_overwrite(struct request *req, const struct member *m,
    const struct json *item, struct overwrite *o, size_t n)
{
	const struct json	*type, *id;

	type = item->type == JSON_OBJECT ? json_get(item, "type") : NULL;
	id = item->type == JSON_OBJECT ? json_get(item, "id") : NULL;
	if (type == NULL || type->type != JSON_STRING ||
	    (o[n].type = overwrites_type_parse(type->text, type->len)) == -1 ||
	    id == NULL || id->type != JSON_STRING ||
	    param_parse_id(id->text, &o[n].id) == -1) {
		response_invalid(req, "overwrites", "Each overwrite needs a "
		    "type (\"role\" or \"member\") and an id");
		return -1;
	}
	if (overwrites_parse(req, item, "overwrites", &o[n]) == -1 ||
	    api_overwrites_check(req, m, req->ids[0], &o[n],
	    "overwrites") == -1)
		return -1;
	if (api_channels_repeated(o, n)) {
		response_invalid(req, "overwrites", "Each target may have "
		    "one overwrite");
		return -1;
	}
	return 0;
}

/*
 * Read a new channel's overwrites (the field, if any): manage_roles when
 * there are some, each checked.  Their number, or -1 with the refusal
 * answered; *out is the caller's to free.
 */
static long
api_channels_overwrites(struct request *req, const struct member *m,
    struct overwrite **out)
{
	const struct json	*list = json_get(req->json, "overwrites");
	size_t			 i;

	*out = NULL;
	if (list == NULL || list->type == JSON_NULL ||
	    (list->type == JSON_ARRAY && list->count == 0))
		return 0;
	if (list->type != JSON_ARRAY || list->count > CHANNELS_OVERWRITES_MAX) {
		response_invalid(req, "overwrites", "must be an array of at "
		    "most %d overwrites", CHANNELS_OVERWRITES_MAX);
		return -1;
	}
	if (perm_check(req, m, PERM_MANAGE_ROLES) == -1)
		return -1;
	*out = xcalloc(list->count, sizeof **out);
	for (i = 0; i < list->count; i++) {
		if (api_channels_overwrite(req, m, list->items[i], *out,
		    i) == -1)
			return -1;
	}
	return (long)list->count;
}

/*
 * POST /servers/{id}/channels {name, overwrites?} (manage_channels, and
 * manage_roles for overwrites) → 201: private from its first moment,
 * the channel and its overwrites commit together.
 */
static void
api_channels_create(struct request *req)
{
	struct member		 m;
	struct overwrite	*o = NULL;
	const char		*name;
	uint64_t		 id;
	long			 n, i;

	if (param_body(req) == -1 ||
	    perm_require(req, req->ids[0], PERM_MANAGE_CHANNELS, &m) == -1 ||
	    param_name(req, "name", 1, &name) == -1 ||
	    (n = api_channels_overwrites(req, &m, &o)) == -1) {
		free(o);
		return;
	}
	if (db_begin() == -1 || (id = channels_insert(req->ids[0], name)) ==
	    0) {
		free(o);
		change_abort(req);
		return;
	}
	for (i = 0; i < n; i++) {
		if (overwrites_put(id, req->ids[0], &o[i]) == -1) {
			free(o);
			change_abort(req);
			return;
		}
	}
	free(o);
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
	if ((g = channels_json(c.id)) == NULL) {
		response_not_found(req, "channel");
		return;
	}
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

/*
 * DELETE /channels/{id} (manage_channels) → 204: channel.delete to the
 * members who could view it (a channel gone is nobody's to judge by).
 */
static void
api_channels_delete(struct request *req)
{
	struct access_change	 ch;
	struct member		 m;
	struct channel		 c;
	uint64_t		*viewers;
	size_t			 n;
	int			 rc;

	if (channels_require(req, req->ids[0], PERM_MANAGE_CHANNELS, &m,
	    &c) == -1)
		return;
	if (db_begin() == -1 || access_change_begin(&ch, c.server_id, c.id,
	    0) == -1) {
		change_abort(req);
		return;
	}
	n = access_change_viewers(&ch, c.id, &viewers);
	access_change_free(&ch);
	rc = db_exec(&q_delete_channel, "u", c.id) == 1 ? access_announce(
	    "channel.delete", c.server_id, c.id, viewers, n) : -1;
	free(viewers);
	if (rc == -1) {
		change_abort(req);
		return;
	}
	change_commit(req, &(struct change){ .status = 204 });
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
