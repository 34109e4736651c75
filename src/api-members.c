/* SPDX-License-Identifier: ISC */
/*
 * api-members.c: the member endpoints (API.md, Members): list and read
 * members, change nicknames, kick, and leave.
 */
#include "sohbet.h"

#define MEMBERS_LIMIT_DEFAULT	50
#define MEMBERS_LIMIT_MAX	100

static struct db_stmt q_set_nickname = DB_STMT(
    "UPDATE server_members SET nickname = ? WHERE server_id = ?"
    " AND user_id = ?");

/*
 * Load the caller's membership of server ids[0] into actor and that of
 * the user ids[1] into target: 0, or -1 with 404 (either is not a member)
 * or 500/503 answered.
 */
static int
api_members_target(struct request *req, struct member *actor,
    struct member *target)
{
	if (perm_require(req, req->ids[0], 0, actor) == -1)
		return -1;
	return members_require(req, req->ids[0], req->ids[1], target);
}

/* GET /servers/{id}/members?after=<user_id>&limit= in user id order. */
static void
api_members_list(struct request *req)
{
	perm_answer_page(req, 0, MEMBERS_LIMIT_MAX, MEMBERS_LIMIT_DEFAULT,
	    members_list);
}

/* GET /servers/{id}/members/{user_id|@me}. */
static void
api_members_get(struct request *req)
{
	struct member	actor, target;

	if (api_members_target(req, &actor, &target) == -1)
		return;
	response_object(req, members_json(req->ids[0], req->ids[1]));
}

/*
 * PATCH /servers/{id}/members/{user_id|@me} {nickname} (null clears it):
 * change_nickname for yourself; manage_nicknames and a higher rank for
 * others.
 */
static void
api_members_patch(struct request *req)
{
	struct member	 actor, target;
	const char	*nickname = NULL;
	int		 rc;

	if (param_body(req) == -1 ||
	    api_members_target(req, &actor, &target) == -1 ||
	    perm_check_member(req, &actor, &target,
	    perm_nickname_need(&actor, &target)) == -1)
		return;
	rc = param_text(req, "nickname", 1, 32, TEXT_NO_CONTROL, &nickname,
	    NULL);
	if (rc == -1)
		return;
	if (rc == PARAM_ABSENT && !param_is_null(req, "nickname")) {
		response_invalid(req, "nickname", "nickname is required (null "
		    "clears it)");
		return;
	}
	if (db_begin() == -1 || db_exec(&q_set_nickname, "suu", nickname,
	    req->ids[0], req->ids[1]) != 1) {
		change_abort(req);
		return;
	}
	members_updated(req, 200, req->ids[0], req->ids[1]);
}

/* Remove a member with member.leave (members_remove); answers 204. */
static void
api_members_remove(struct request *req, uint64_t server_id,
    uint64_t user_id)
{
	if (change_check(req, db_begin() == -1 ? -1 :
	    members_remove(server_id, user_id), "member") == -1)
		return;
	change_commit(req, &(struct change){ .status = 204 });
}

/*
 * DELETE /servers/{id}/members/{user_id|@me}: leaving (yourself; the
 * owner cannot, 409) or kicking (kick_members and a higher rank).
 */
static void
api_members_delete(struct request *req)
{
	struct member	actor, target;

	if (api_members_target(req, &actor, &target) == -1)
		return;
	if (req->ids[1] == req->user_id && perm_is_owner(&actor)) {
		response_error(req, 409, "owner_cannot_leave", "The owner "
		    "cannot leave the server; delete it instead");
		return;
	}
	if (req->ids[1] != req->user_id && perm_check_member(req, &actor,
	    &target, PERM_KICK_MEMBERS) == -1)
		return;
	api_members_remove(req, req->ids[0], req->ids[1]);
}

const struct route api_members_routes[] = {
	{ "GET", API_PREFIX "/servers/{id}/members", api_members_list,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/servers/{id}/members/{user}", api_members_get,
	    ROUTE_AUTH },
	{ "PATCH", API_PREFIX "/servers/{id}/members/{user}",
	    api_members_patch, ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/servers/{id}/members/{user}",
	    api_members_delete, ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
