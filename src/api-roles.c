/* SPDX-License-Identifier: ISC */
/*
 * api-roles.c: the role endpoints (API.md, Roles and permissions): list,
 * create, edit and delete roles, and give them to members or take them
 * back.  perm.c decides who may; this file only asks it.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define ROLE_POSITION_DEFAULT	1	/* just above the default role */

static struct db_stmt q_update_role = DB_STMT(
    "UPDATE roles SET name = COALESCE(?, name),"
    " permissions = COALESCE(?, permissions),"
    " position = COALESCE(NULLIF(?, 0), position)"
    " WHERE id = ? AND server_id = ?");
static struct db_stmt q_delete_role = DB_STMT(
    "DELETE FROM roles WHERE id = ? AND server_id = ?");
static struct db_stmt q_add_member_role = DB_STMT(
    "INSERT IGNORE INTO server_member_roles (server_id, user_id, role_id)"
    " VALUES (?, ?, ?)");
static struct db_stmt q_remove_member_role = DB_STMT(
    "DELETE FROM server_member_roles WHERE server_id = ? AND user_id = ?"
    " AND role_id = ?");

/* The fields of a role a request may set. */
struct api_roles_input {
	const char	*name;		/* NULL: not given */
	uint32_t	 perms;
	int		 has_perms;
	int		 position;	/* 0: not given */
};

/*
 * Read name, permissions and position from the body (each optional
 * unless name_required): 0, or -1 when answered.
 */
static int
api_roles_input(struct request *req, int name_required,
    struct api_roles_input *in)
{
	const struct json	*v;
	long			 position;
	int			 rc;

	in->name = NULL;
	in->has_perms = 0;
	in->perms = 0;
	in->position = 0;
	if (param_name(req, "name", name_required, &in->name) == -1)
		return -1;
	if ((v = json_get(req->json, "permissions")) != NULL) {
		if (perm_parse(v, &in->perms) == -1) {
			response_invalid(req, "permissions", "permissions must "
			    "be an array of permission names");
			return -1;
		}
		in->has_perms = 1;
	}
	if ((rc = param_int(req, "position", 1, ROLE_POSITION_MAX,
	    &position)) == -1)
		return -1;
	if (rc == 0)
		in->position = (int)position;
	return 0;
}

/*
 * Load the caller's membership of server ids[0] and its role role_id:
 * 0, or -1 with 404 (not a member, no such role in that server) or
 * 500/503 answered.
 */
static int
api_roles_load(struct request *req, uint64_t role_id, struct member *m,
    struct role *r)
{
	int	rc;

	if (perm_require(req, req->ids[0], 0, m) == -1)
		return -1;
	if ((rc = roles_load(req->ids[0], role_id, r)) == -1) {
		response_db_error(req);
		return -1;
	}
	if (rc == 0) {
		response_not_found(req, "role");
		return -1;
	}
	return 0;
}

/* Refuse (400) a change the default role does not allow; 0 or -1. */
static int
api_roles_default(struct request *req, const struct role *r,
    const char *field, const char *what)
{
	if (!r->is_default)
		return 0;
	response_invalid(req, field, "The default role cannot be %s", what);
	return -1;
}

/* GET /servers/{id}/roles (members). */
static void
api_roles_list(struct request *req)
{
	perm_answer_list(req, 0, roles_list);
}

/*
 * POST /servers/{id}/roles {name, permissions?, position?} (manage_roles;
 * below your rank; only permissions you have) → 201.
 */
static void
api_roles_create(struct request *req)
{
	struct event_scope	scope = { .server_id = req->ids[0] };
	struct api_roles_input	in;
	struct member		m;
	uint64_t		id;

	if (param_body(req) == -1 ||
	    perm_require(req, req->ids[0], PERM_MANAGE_ROLES, &m) == -1 ||
	    api_roles_input(req, 1, &in) == -1)
		return;
	if (in.position == 0)
		in.position = ROLE_POSITION_DEFAULT;
	if (perm_check_role(req, &m, in.position, in.perms) == -1)
		return;
	if (db_begin() == -1 || (id = roles_insert(req->ids[0], in.name,
	    in.perms, in.position, 0)) == 0) {
		change_abort(req);
		return;
	}
	change_commit(req, &(struct change){ .status = 201,
	    .event = "role.create", .scope = &scope, .key = "role",
	    .object = roles_json(req->ids[0], id) });
}

/*
 * PATCH /servers/{id}/roles/{role_id} {name?, permissions?, position?}:
 * the role must be below your rank before and after, and only
 * permissions you have may be added.  The default role keeps its name
 * and position.
 */
static void
api_roles_patch(struct request *req)
{
	struct event_scope	 scope = { .server_id = req->ids[0] };
	struct api_roles_input	 in;
	struct member		 m;
	struct role		 r;
	struct access_change	 ch;
	char			*perms = NULL;
	long long		 n;
	int			 view;

	if (param_body(req) == -1 ||
	    api_roles_load(req, req->ids[1], &m, &r) == -1 ||
	    perm_check_role(req, &m, r.position, 0) == -1 ||
	    api_roles_input(req, 0, &in) == -1)
		return;
	if ((in.name != NULL && api_roles_default(req, &r, "name",
	    "renamed") == -1) || (in.position != 0 && api_roles_default(req,
	    &r, "position", "moved") == -1))
		return;
	if (perm_check_role(req, &m, in.position != 0 ? in.position :
	    r.position, in.has_perms ? in.perms & ~r.perms : 0) == -1)
		return;
	if (in.has_perms)
		perms = perm_to_text(in.perms);
	/* Who views what changes only with view_channels or administrator. */
	view = in.has_perms && ((in.perms ^ r.perms) & (PERM_VIEW_CHANNELS |
	    PERM_ADMINISTRATOR));
	memset(&ch, 0, sizeof ch);
	if (db_begin() == -1 || (view && access_change_begin(&ch, r.server_id,
	    0, 0) == -1))
		n = -1;
	else
		n = db_exec(&q_update_role, "ssduu", in.name, perms,
		    in.position, r.id, r.server_id);
	free(perms);
	if (n == 1 && view && access_change_finish(&ch) == -1)
		n = -1;
	access_change_free(&ch);
	if (change_check(req, n, "role") == -1)
		return;
	change_commit(req, &(struct change){ .status = 200,
	    .event = "role.update", .scope = &scope, .key = "role",
	    .object = roles_json(r.server_id, r.id) });
}

/*
 * DELETE /servers/{id}/roles/{role_id} → 204 (not the default role): its
 * holders lose it and its overwrites go, which may change who views
 * what.
 */
static void
api_roles_delete(struct request *req)
{
	struct event_scope	scope = { .server_id = req->ids[0] };
	struct access_change	ch;
	struct member		m;
	struct role		r;

	if (api_roles_load(req, req->ids[1], &m, &r) == -1 ||
	    perm_check_role(req, &m, r.position, 0) == -1 ||
	    api_roles_default(req, &r, "role_id", "deleted") == -1)
		return;
	memset(&ch, 0, sizeof ch);
	if (db_begin() == -1 || access_change_begin(&ch, r.server_id, 0,
	    0) == -1 || db_exec(&q_delete_role, "uu", r.id,
	    r.server_id) != 1 || overwrites_forget_target(r.server_id,
	    OVERWRITE_ROLE, r.id) == -1 || access_change_finish(&ch) == -1) {
		access_change_free(&ch);
		change_abort(req);
		return;
	}
	change_commit(req, &(struct change){ .status = 204,
	    .event = "role.delete", .scope = &scope,
	    .object = json_ids("id", r.id, "server_id", r.server_id) });
}

/*
 * Give (q_add_member_role) or take back (q_remove_member_role) the role
 * ids[2] of member ids[1] → 204, with member.update when it changed
 * anything.  The role must be below your rank and hold only permissions
 * you have (a moderator may not hand out administrator, to anyone or to
 * themselves); not the default role.
 */
static void
api_roles_member_change(struct request *req, struct db_stmt *q)
{
	struct access_change	ch;
	struct member		m, target;
	struct role		r;
	long long		n;

	if (api_roles_load(req, req->ids[2], &m, &r) == -1 ||
	    members_require(req, req->ids[0], req->ids[1],
	    &target) == -1)
		return;
	if (perm_check_role(req, &m, r.position, r.perms) == -1 ||
	    api_roles_default(req, &r, "role_id", "assigned") == -1)
		return;
	memset(&ch, 0, sizeof ch);
	if (db_begin() == -1 || access_change_begin(&ch, req->ids[0], 0,
	    req->ids[1]) == -1 || (n = db_exec(q, "uuu", req->ids[0],
	    req->ids[1], r.id)) == -1 || (n > 0 &&
	    access_change_finish(&ch) == -1)) {
		access_change_free(&ch);
		change_abort(req);
		return;
	}
	access_change_free(&ch);
	if (n == 0)
		change_commit(req, &(struct change){ .status = 204 });
	else
		members_updated(req, 204, req->ids[0], req->ids[1]);
}

/* PUT /servers/{id}/members/{user_id}/roles/{role_id}. */
static void
api_roles_add(struct request *req)
{
	api_roles_member_change(req, &q_add_member_role);
}

/* DELETE /servers/{id}/members/{user_id}/roles/{role_id}. */
static void
api_roles_remove(struct request *req)
{
	api_roles_member_change(req, &q_remove_member_role);
}

const struct route api_roles_routes[] = {
	{ "GET", API_PREFIX "/servers/{id}/roles", api_roles_list,
	    ROUTE_AUTH },
	{ "POST", API_PREFIX "/servers/{id}/roles", api_roles_create,
	    ROUTE_AUTH },
	{ "PATCH", API_PREFIX "/servers/{id}/roles/{id}", api_roles_patch,
	    ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/servers/{id}/roles/{id}", api_roles_delete,
	    ROUTE_AUTH },
	{ "PUT", API_PREFIX "/servers/{id}/members/{user}/roles/{id}",
	    api_roles_add, ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/servers/{id}/members/{user}/roles/{id}",
	    api_roles_remove, ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
