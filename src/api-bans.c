/* SPDX-License-Identifier: ISC */
/*
 * api-bans.c: the ban endpoints (API.md, Bans): ban (removing a member
 * as a kick does, and sweeping their recent messages), unban, read one
 * ban, and list them.  Every one needs ban_members.
 */
#include "sohbet.h"

#define BANS_LIMIT_DEFAULT	50
#define BANS_LIMIT_MAX		100

/*
 * Check the target of a ban: a member must be outranked by the actor
 * (the owner never is: 403), anyone else must be an existing user (404).
 * 0, or -1 answered.
 */
static int
api_bans_target(struct request *req, const struct member *actor)
{
	struct member	target;
	struct user	u;
	int		rc;

	if ((rc = perm_load(req->ids[0], req->ids[1], &target)) == 1)
		return perm_check_member(req, actor, &target,
		    PERM_BAN_MEMBERS);
	if (rc == 0 && (rc = users_by_id(req->ids[1], &u)) == 1)
		return 0;
	if (rc == 0)
		response_not_found(req, "user");
	else
		response_db_error(req);
	return -1;
}

/*
 * PUT /servers/{id}/bans/{user_id} {reason?, delete_message_seconds?}
 * → 204: the ban and the member's removal commit together; then their
 * messages of the last delete_message_seconds are deleted in bounded
 * steps (bans_sweep).
 */
static void
api_bans_put(struct request *req)
{
	struct member	 actor;
	const char	*reason = "";
	size_t		 len = 0;
	long		 seconds = 0;
	char		 since[BANS_SINCE_SIZE];

	if (perm_require(req, req->ids[0], PERM_BAN_MEMBERS, &actor) == -1 ||
	    param_text(req, "reason", 0, BANS_REASON_MAX, TEXT_NO_CONTROL,
	    &reason, &len) == -1 ||
	    param_int(req, "delete_message_seconds", 0,
	    BANS_DELETE_SECONDS_MAX, &seconds) == -1)
		return;
	if (req->ids[1] == req->user_id) {
		response_invalid(req, "user_id", "You cannot ban yourself");
		return;
	}
	if (api_bans_target(req, &actor) == -1)
		return;
	if (bans_put(req->ids[0], req->ids[1], req->user_id, reason, len,
	    seconds, since) == -1 || (seconds > 0 &&
	    bans_sweep(req->ids[0], req->ids[1], since) == -1)) {
		response_db_error(req);
		return;
	}
	response_empty(req, 204);
}

/* DELETE /servers/{id}/bans/{user_id} → 204; not banned: 404. */
static void
api_bans_delete(struct request *req)
{
	struct member	actor;
	int		rc;

	if (perm_require(req, req->ids[0], PERM_BAN_MEMBERS, &actor) == -1)
		return;
	if ((rc = bans_remove(req->ids[0], req->ids[1])) == 1)
		response_empty(req, 204);
	else if (rc == 0)
		response_not_found(req, "ban");
	else
		response_db_error(req);
}

/* GET /servers/{id}/bans/{user_id} → the ban, or 404. */
static void
api_bans_get(struct request *req)
{
	struct member	actor;
	yajl_gen	g;
	int		rc;

	if (perm_require(req, req->ids[0], PERM_BAN_MEMBERS, &actor) == -1)
		return;
	if ((rc = bans_get(req->ids[0], req->ids[1], &g)) == 1)
		response_json(req, 200, g);
	else if (rc == 0)
		response_not_found(req, "ban");
	else
		response_db_error(req);
}

/* GET /servers/{id}/bans?after=<user_id>&limit= in user id order. */
static void
api_bans_list(struct request *req)
{
	perm_answer_page(req, PERM_BAN_MEMBERS, BANS_LIMIT_MAX,
	    BANS_LIMIT_DEFAULT, bans_list);
}

const struct route api_bans_routes[] = {
	{ "GET", API_PREFIX "/servers/{id}/bans", api_bans_list, ROUTE_AUTH },
	{ "GET", API_PREFIX "/servers/{id}/bans/{user}", api_bans_get,
	    ROUTE_AUTH },
	{ "PUT", API_PREFIX "/servers/{id}/bans/{user}", api_bans_put,
	    ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/servers/{id}/bans/{user}", api_bans_delete,
	    ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
