/* SPDX-License-Identifier: ISC */
/*
 * api-auth.c: register, login, refresh, logout and logout-all
 * (API.md, Auth).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define ER_DUP_ENTRY	1062

static struct db_stmt q_insert_user = DB_STMT(
    "INSERT INTO users (username, email, password_hash, created_at,"
    " updated_at) VALUES (?, ?, ?, NOW(3), NOW(3))");
/* Only over the hash it verified: a password changed meanwhile stays. */
static struct db_stmt q_rehash = DB_STMT(
    "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?");

/* Answer {user, access_token, refresh_token, expires_in}. */
static void
api_auth_session(struct request *req, int status, const struct user *u,
    const char *refresh)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "user");
	users_gen(g, u, 1);
	users_gen_tokens(g, u, refresh);
	yajl_gen_map_close(g);
	response_json(req, status, g);
}

/*
 * Hand a password to the hashing threads, with a copy of the user (or
 * NULL) for the callback: 0, or -1 when they are full.
 */
static int
api_auth_submit(struct request *req, enum hashpool_op op,
    const char *password, const char *stored, void (*done)(struct request *,
    struct hashpool_result *, void *), const struct user *u)
{
	struct hashpool_task	t;

	memset(&t, 0, sizeof t);
	t.op = op;
	t.password = password;
	t.len = strlen(password);
	t.stored = stored;
	t.done = done;
	t.arg = u;
	t.arg_size = u != NULL ? sizeof *u : 0;
	return hashpool_submit(req, &t);
}

/*
 * Hand a password to the hashing threads, with the callback that goes on
 * with the request (given a copy of u, or NULL); when they are too busy,
 * answer 503.
 */
void
api_auth_hash(struct request *req, enum hashpool_op op, const char *password,
    const char *stored, void (*done)(struct request *,
    struct hashpool_result *, void *), const struct user *u)
{
	if (api_auth_submit(req, op, password, stored, done, u) != 0)
		response_busy(req);
}

/* The password of a registration is hashed: make the account, answer. */
static void
api_auth_registered(struct request *req, struct hashpool_result *res,
    void *arg)
{
	const char	*username, *email, *password;
	char		 refresh[REFRESH_TOKEN_LEN];
	struct user	 u;
	uint64_t	 id;

	(void)arg;
	if (users_fields(req, 1, &username, &email, &password) == -1)
		return;
	if (res->hash == NULL) {
		response_busy(req);
		return;
	}
	if (db_begin() == -1)
		goto fail;
	if (db_exec(&q_insert_user, "sss", username, email, res->hash) != 1) {
		db_rollback();
		if (db_errno() == ER_DUP_ENTRY)
			users_taken(req, username, 0);
		else
			response_db_error(req);
		return;
	}
	id = db_insert_id();
	if (refresh_issue(id, refresh) == -1 || users_by_id(id, &u) != 1 ||
	    db_commit() == -1)
		goto fail;
	api_auth_session(req, 201, &u, refresh);
	return;
fail:
	db_rollback();
	response_db_error(req);
}

/* POST /auth/register {username, email, password}. */
static void
api_auth_register(struct request *req)
{
	const char	*username, *email, *password;

	if (param_body(req) == -1 ||
	    users_fields(req, 1, &username, &email, &password) == -1)
		return;
	api_auth_hash(req, HASHPOOL_HASH, password, NULL, api_auth_registered,
	    NULL);
}

/*
 * Whether this client must wait before trying a password for login
 * (throttle.c); answers 429 if so.
 */
int
api_auth_throttled(struct request *req, const char *login)
{
	long long	wait;

	if ((wait = throttle_check(throttle_address(req), login)) == 0)
		return 0;
	response_rate_limited(req, (long)wait, "Too many failed sign-ins; "
	    "try again in %lld second%s", wait, wait == 1 ? "" : "s");
	return 1;
}

/* Count a wrong password for login from this client. */
void
api_auth_failed(struct request *req, const char *login)
{
	throttle_failed(throttle_address(req), login);
}

/* A right password for login from this client: forget its failures. */
void
api_auth_passed(struct request *req, const char *login)
{
	throttle_succeeded(throttle_address(req), login);
}

/* Answer 401 invalid_credentials. */
static void
api_auth_bad_credentials(struct request *req)
{
	response_error(req, 401, "invalid_credentials", "Wrong login or "
	    "password");
}

/* Read a required text field of min..max code points. */
static int
api_auth_field(struct request *req, const char *field, long min, long max,
    const char **out)
{
	int	rc;

	rc = param_text(req, field, min, max, 0, out, NULL);
	if (rc == PARAM_ABSENT) {
		response_invalid(req, field, "%s is required", field);
		return -1;
	}
	return rc;
}

/* Read the fields of a login; -1 (answered) if bad. */
static int
api_auth_login_fields(struct request *req, const char **login,
    const char **password)
{
	if (api_auth_field(req, "login", 1, 254, login) == -1 ||
	    api_auth_field(req, "password", 1, 128, password) == -1)
		return -1;
	return 0;
}

/* Start a session for a user who signed in: 200 with new tokens. */
static void
api_auth_login_session(struct request *req, const struct user *u)
{
	char	refresh[REFRESH_TOKEN_LEN];

	if (refresh_issue(u->id, refresh) == -1) {
		response_db_error(req);
		return;
	}
	api_auth_session(req, 200, u, refresh);
}

/* The stronger hash of a signed-in user is made: store it, answer. */
static void
api_auth_login_upgraded(struct request *req, struct hashpool_result *res,
    void *arg)
{
	struct user	*u = arg;

	if (res->hash != NULL)
		db_exec(&q_rehash, "sus", res->hash, u->id, u->password_hash);
	api_auth_login_session(req, u);
}

/*
 * The password of a login is checked (u NULL: the login named nobody and
 * a dummy check ran): answer, after upgrading a weak stored hash.
 */
static void
api_auth_login_checked(struct request *req, struct hashpool_result *res,
    void *arg)
{
	struct user	*u = arg;
	const char	*login, *password;

	if (api_auth_login_fields(req, &login, &password) == -1)
		return;
	if (res->match == -1) {
		response_busy(req);
		return;
	}
	if (u == NULL || res->match == 0) {
		api_auth_failed(req, login);
		api_auth_bad_credentials(req);
		return;
	}
	api_auth_passed(req, login);
	/* A busy pool only postpones the upgrade to another login. */
	if (res->upgrade && api_auth_submit(req, HASHPOOL_HASH, password,
	    NULL, api_auth_login_upgraded, u) == 0)
		return;
	api_auth_login_session(req, u);
}

/* POST /auth/login {login, password}. */
static void
api_auth_login(struct request *req)
{
	const char	*login, *password;
	struct user	 u;
	int		 found;

	if (param_body(req) == -1 ||
	    api_auth_login_fields(req, &login, &password) == -1 ||
	    api_auth_throttled(req, login))
		return;
	if ((found = users_by_login(login, &u)) == -1) {
		response_db_error(req);
		return;
	}
	if (found == 0) {
		/* The same work as a wrong password, so timing tells nothing. */
		api_auth_hash(req, HASHPOOL_DUMMY, password, NULL,
		    api_auth_login_checked, NULL);
		return;
	}
	api_auth_hash(req, HASHPOOL_VERIFY, password, u.password_hash,
	    api_auth_login_checked, &u);
}

/* Read the required refresh_token field; -1 (answered) when bad. */
static int
api_auth_refresh_field(struct request *req, const char **token)
{
	int	rc;

	if (param_body(req) == -1)
		return -1;
	rc = param_text(req, "refresh_token", 1, 1024, 0, token, NULL);
	if (rc == PARAM_ABSENT) {
		response_invalid(req, "refresh_token", "refresh_token is "
		    "required");
		return -1;
	}
	return rc;
}

/* POST /auth/refresh {refresh_token}. */
static void
api_auth_refresh(struct request *req)
{
	const char	*token;
	char		 next[REFRESH_TOKEN_LEN];
	struct user	 u;
	uint64_t	 user_id;
	yajl_gen	 g;
	int		 rc;

	if (api_auth_refresh_field(req, &token) == -1)
		return;
	rc = refresh_rotate(token, &user_id, next);
	if (rc == REFRESH_REUSED) {
		response_error(req, 401, "token_reused", "This refresh token "
		    "was already used; every session of its sign-in is now "
		    "revoked");
		return;
	}
	if (rc == REFRESH_INVALID) {
		response_error(req, 401, "invalid_token", "Unknown, revoked or "
		    "expired refresh token");
		return;
	}
	if (rc == -1 || users_by_id(user_id, &u) != 1) {
		response_db_error(req);
		return;
	}
	g = json_gen_new();
	yajl_gen_map_open(g);
	users_gen_tokens(g, &u, next);
	yajl_gen_map_close(g);
	response_json(req, 200, g);
}

/* POST /auth/logout {refresh_token}: 204 whether or not it was known. */
static void
api_auth_logout(struct request *req)
{
	const char	*token;

	if (api_auth_refresh_field(req, &token) == -1)
		return;
	if (refresh_revoke(token) == -1) {
		response_db_error(req);
		return;
	}
	response_empty(req, 204);
}

/* POST /auth/logout-all (bearer). */
static void
api_auth_logout_all(struct request *req)
{
	if (db_begin() == -1 || users_revoke_all(req->user_id) == -1 ||
	    db_commit() == -1) {
		db_rollback();
		response_db_error(req);
		return;
	}
	response_empty(req, 204);
}

const struct route api_auth_routes[] = {
	{ "POST", API_PREFIX "/auth/register", api_auth_register, 0 },
	{ "POST", API_PREFIX "/auth/login", api_auth_login, 0 },
	{ "POST", API_PREFIX "/auth/refresh", api_auth_refresh, 0 },
	{ "POST", API_PREFIX "/auth/logout", api_auth_logout, 0 },
	{ "POST", API_PREFIX "/auth/logout-all", api_auth_logout_all,
	    ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
