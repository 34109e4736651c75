/* SPDX-License-Identifier: ISC */
/*
 * api-servers.c: the server endpoints (API.md, Servers): create, read,
 * rename and delete a server, and list the caller's servers.
 */
#include "sohbet.h"

#define SERVERS_LIMIT_MAX	200	/* a page of GET /users/@me/servers */

static struct db_stmt q_insert_server = DB_STMT(
    "INSERT INTO servers (name, owner_id) VALUES (?, ?)");
static struct db_stmt q_rename_server = DB_STMT(
    "UPDATE servers SET name = ? WHERE id = ?");
static struct db_stmt q_lock_server = DB_STMT(
    "SELECT id FROM servers WHERE id = ? FOR UPDATE");
static struct db_stmt q_member_ids = DB_STMT(
    "SELECT user_id FROM server_members WHERE server_id = ?"
    " ORDER BY user_id");
static struct db_stmt q_delete_server = DB_STMT(
    "DELETE FROM servers WHERE id = ?");

/*
 * POST /servers {name}: the server, its owner's membership, the default
 * role and the general channel, in one transaction; servers_per_hour
 * per user (429 beyond).
 */
static void
api_servers_create(struct request *req)
{
	const char	*name;
	uint64_t	 id;

	if (param_body(req) == -1 || param_name(req, "name", 1, &name) == -1 ||
	    ratelimit_check(req, RATELIMIT_SERVER, 0) == -1)
		return;
	if (db_begin() == -1 || db_exec(&q_insert_server, "su", name,
	    req->user_id) != 1) {
		change_abort(req);
		return;
	}
	id = db_insert_id();
	if (roles_insert(id, "@everyone", PERM_DEFAULT_ROLE, 0, 1) ==
	    0 || channels_insert(id, "general") == 0 ||
	    members_join(id, req->user_id) == -1) {
		change_abort(req);
		return;
	}
	change_commit(req, &(struct change){ .status = 201,
	    .object = servers_json(id) });
}

/* GET /servers/{id} (members only). */
static void
api_servers_get(struct request *req)
{
	struct member	m;

	if (perm_require(req, req->ids[0], 0, &m) == -1)
		return;
	response_object(req, servers_json(req->ids[0]));
}

/* PATCH /servers/{id} {name} (manage_server). */
static void
api_servers_patch(struct request *req)
{
	struct event_scope	 scope = { .server_id = req->ids[0] };
	struct member		 m;
	const char		*name;

	if (param_body(req) == -1 ||
	    perm_require(req, req->ids[0], PERM_MANAGE_SERVER, &m) == -1 ||
	    param_name(req, "name", 1, &name) == -1)
		return;
	if (db_begin() == -1 || db_exec(&q_rename_server, "su", name,
	    req->ids[0]) != 1) {
		change_abort(req);
		return;
	}
	change_commit(req, &(struct change){ .status = 200,
	    .event = "server.update", .scope = &scope, .key = "server",
	    .object = servers_json(req->ids[0]) });
}

/*
 * Append server.delete {id} once per member, scoped to that user alone:
 * after the cascade there are no members left to scope it by.
 */
static int
api_servers_delete_events(uint64_t id)
{
	struct event_scope	 scope = { 0 };
	struct db_rows		*rows;
	yajl_gen		 data;
	int			 rc;

	if ((rows = db_query(&q_member_ids, "u", id)) == NULL)
		return -1;
	data = json_ids("id", id, NULL, 0);
	while ((rc = db_fetch(rows)) == 1) {
		scope.user_id = db_u64(rows, 0);
		if (events_append("server.delete", &scope, data) == -1) {
			rc = -1;
			break;
		}
	}
	yajl_gen_free(data);
	db_rows_free(rows);
	return rc;
}

/*
 * DELETE /servers/{id} (owner only).  The server row is locked first, so
 * no one can join between listing the members and the delete; foreign
 * keys remove everything in it.
 */
static void
api_servers_delete(struct request *req)
{
	struct member	m;

	if (perm_require(req, req->ids[0], 0, &m) == -1 ||
	    perm_check_owner(req, &m) == -1)
		return;
	if (db_begin() == -1 ||
	    db_exec(&q_lock_server, "u", req->ids[0]) != 1 ||
	    api_servers_delete_events(req->ids[0]) == -1 ||
	    db_exec(&q_delete_server, "u", req->ids[0]) != 1) {
		change_abort(req);
		return;
	}
	change_commit(req, &(struct change){ .status = 204 });
}

/*
 * GET /users/@me/servers?after=<server_id>&limit=1..200 (default 200):
 * the caller's servers in id order, a page at a time.
 */
static void
api_servers_list_mine(struct request *req)
{
	uint64_t	after = 0;
	long		limit = SERVERS_LIMIT_MAX;
	yajl_gen	g;

	if (param_query_page(req, SERVERS_LIMIT_MAX, &after, &limit) == -1)
		return;
	g = json_gen_new();
	response_list(req, g, servers_list(req->user_id, after,
	    (int)limit, g));
}

const struct route api_servers_routes[] = {
	{ "POST", API_PREFIX "/servers", api_servers_create, ROUTE_AUTH },
	{ "GET", API_PREFIX "/servers/{id}", api_servers_get, ROUTE_AUTH },
	{ "PATCH", API_PREFIX "/servers/{id}", api_servers_patch, ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/servers/{id}", api_servers_delete,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/users/@me/servers", api_servers_list_mine,
	    ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
