/* SPDX-License-Identifier: ISC */
/*
 * api-users.c: the user endpoints (API.md, Users): your own profile and
 * its changes, and other users' public profiles.
 */
#include <string.h>

#include "sohbet.h"

#define ER_DUP_ENTRY	1062

static struct db_stmt q_update_user = DB_STMT(
    "UPDATE users SET username = COALESCE(?, username),"
    " email = COALESCE(?, email), password_hash = COALESCE(?, password_hash),"
    " updated_at = NOW(3) WHERE id = ?");

/* Load the authenticated user; -1 (answered) if that fails. */
static int
api_users_me(struct request *req, struct user *u)
{
	int	found;

	if ((found = users_by_id(req->user_id, u)) == 1)
		return 0;
	if (found == 0)
		auth_refuse(req);
	else
		response_db_error(req);
	return -1;
}

/* GET /users/@me. */
static void
api_users_get_me(struct request *req)
{
	struct user	u;
	yajl_gen	g;

	if (api_users_me(req, &u) == -1)
		return;
	g = json_gen_new();
	users_gen(g, &u, 1);
	response_json(req, 200, g);
}

/* GET /users/{id}: the public user plus created_at. */
static void
api_users_get(struct request *req)
{
	struct user	u;
	yajl_gen	g;
	int		found;

	if ((found = users_by_id(req->ids[0], &u)) == -1) {
		response_db_error(req);
		return;
	}
	if (found == 0) {
		response_not_found(req, "user");
		return;
	}
	g = json_gen_new();
	users_gen(g, &u, 0);
	response_json(req, 200, g);
}

/* Answer the updated user, with new tokens when the password changed. */
static void
api_users_patched(struct request *req, const struct user *u,
    const char *refresh)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	users_gen_fields(g, u, 1);
	if (refresh != NULL)
		users_gen_tokens(g, u, refresh);
	yajl_gen_map_close(g);
	response_json(req, 200, g);
}

/*
 * Store the changes; a new password also revokes every session and
 * starts a new one, whose refresh token goes into refresh.
 */
static int
api_users_store(struct request *req, const char *username, const char *email,
    const char *hash, char *refresh)
{
	if (db_begin() == -1)
		return -1;
	if (db_exec(&q_update_user, "sssu", username, email, hash,
	    req->user_id) == -1)
		goto fail;
	/* A new password revokes every session, which announces the change. */
	if (hash == NULL ? events_user_changed(req->user_id) == -1 :
	    (users_revoke_all(req->user_id) == -1 ||
	    refresh_issue(req->user_id, refresh) == -1))
		goto fail;
	return db_commit();
fail:
	db_rollback();
	return -1;
}

/* Store the changes (hash: the new password's, or NULL) and answer. */
static void
api_users_apply(struct request *req, const char *hash)
{
	const char	*username, *email, *password;
	char		 refresh[REFRESH_TOKEN_LEN];
	struct user	 u;

	if (users_fields(req, 0, &username, &email, &password) == -1)
		return;
	if (api_users_store(req, username, email, hash, refresh) == -1) {
		if (db_errno() == ER_DUP_ENTRY)
			users_taken(req, username, req->user_id);
		else
			response_db_error(req);
		return;
	}
	if (api_users_me(req, &u) == -1)
		return;
	api_users_patched(req, &u, hash != NULL ? refresh : NULL);
}

/* The new password is hashed: store it with the other changes. */
static void
api_users_hashed(struct request *req, struct hashpool_result *res, void *arg)
{
	(void)arg;
	if (res->hash == NULL)
		response_busy(req);
	else
		api_users_apply(req, res->hash);
}

/*
 * current_password is checked: 403 when wrong (a guess, counted as a
 * sign-in's is), else go on to hash the new password, if any.
 */
static void
api_users_checked(struct request *req, struct hashpool_result *res, void *arg)
{
	const char	*username, *email, *password;

	(void)arg;
	if (users_fields(req, 0, &username, &email, &password) == -1)
		return;
	if (res->match == -1) {
		response_busy(req);
		return;
	}
	if (res->match == 0) {
		api_auth_failed(req, req->username);
		response_error(req, 403, "invalid_credentials",
		    "current_password is wrong");
		return;
	}
	api_auth_passed(req, req->username);
	if (password != NULL)
		api_auth_hash(req, HASHPOOL_HASH, password, NULL,
		    api_users_hashed, NULL);
	else
		api_users_apply(req, NULL);
}

/* PATCH /users/@me {username?, email?, password?, current_password}. */
static void
api_users_patch_me(struct request *req)
{
	const char	*username, *email, *password, *current;
	struct user	 u;
	int		 rc;

	if (param_body(req) == -1 || api_users_me(req, &u) == -1 ||
	    users_fields(req, 0, &username, &email, &password) == -1)
		return;
	if (email == NULL && password == NULL) {
		api_users_apply(req, NULL);
		return;
	}
	/* current_password is needed to change the email or password. */
	rc = param_text(req, "current_password", 1, 128, 0, &current, NULL);
	if (rc == -1)
		return;
	if (rc == PARAM_ABSENT) {
		response_invalid(req, "current_password", "current_password is "
		    "required to change the email address or password");
		return;
	}
	/* Guesses here are throttled as sign-ins by username are. */
	if (api_auth_throttled(req, req->username))
		return;
	api_auth_hash(req, HASHPOOL_VERIFY, current, u.password_hash,
	    api_users_checked, NULL);
}

const struct route api_users_routes[] = {
	{ "GET", API_PREFIX "/users/@me", api_users_get_me, ROUTE_AUTH },
	{ "PATCH", API_PREFIX "/users/@me", api_users_patch_me, ROUTE_AUTH },
	{ "GET", API_PREFIX "/users/{id}", api_users_get, ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
