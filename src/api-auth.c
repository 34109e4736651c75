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
static struct db_stmt q_username_taken = DB_STMT(
    "SELECT 1 FROM users WHERE username = ? AND id <> ?");
static struct db_stmt q_failed_logins = DB_STMT(
    "SELECT failed_logins, TIMESTAMPDIFF(SECOND, NOW(3),"
    " failed_login_window + INTERVAL 1 HOUR) FROM users WHERE id = ?"
    " AND failed_login_window > NOW(3) - INTERVAL 1 HOUR");
static struct db_stmt q_login_failed = DB_STMT(
    "UPDATE users SET"
    " failed_logins = IF(failed_login_window > NOW(3) - INTERVAL 1 HOUR,"
    " failed_logins + 1, 1),"
    " failed_login_window = IF(failed_login_window > NOW(3) - INTERVAL 1 HOUR,"
    " failed_login_window, NOW(3)) WHERE id = ?");
static struct db_stmt q_login_ok = DB_STMT(
    "UPDATE users SET failed_logins = 0, failed_login_window = NULL"
    " WHERE id = ? AND failed_logins <> 0");
static struct db_stmt q_rehash = DB_STMT(
    "UPDATE users SET password_hash = ? WHERE id = ?");
static struct db_stmt q_bump_generation = DB_STMT(
    "UPDATE users SET token_generation = token_generation + 1 WHERE id = ?");

/* Write the access token, refresh token and expiry members. */
void
api_auth_gen_tokens(yajl_gen g, const struct user *u, const char *refresh)
{
	char	*access;

	access = token_issue(u->id, u->generation, cfg->access_ttl);
	json_gen_kstr(g, "access_token", access);
	json_gen_kstr(g, "refresh_token", refresh);
	json_gen_kint(g, "expires_in", cfg->access_ttl);
	free(access);
}

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
	api_auth_gen_tokens(g, u, refresh);
	yajl_gen_map_close(g);
	response_json(req, status, g);
}

/*
 * Read and check one account field (username, email, password or another
 * password-like field): 0, PARAM_ABSENT when optional and not given, or
 * -1 when answered.
 */
int
api_auth_check(struct request *req, const char *field, int required,
    const char **out)
{
	int	rc;

	if (strcmp(field, "username") == 0)
		rc = param_text(req, field, 2, 32, 0, out, NULL);
	else if (strcmp(field, "email") == 0)
		rc = param_text(req, field, 3, 254, 0, out, NULL);
	else
		rc = param_text(req, field, 8, 128, 0, out, NULL);
	if (rc == PARAM_ABSENT && required) {
		response_invalid(req, field, "%s is required", field);
		return -1;
	}
	if (rc != 0)
		return rc;
	if (strcmp(field, "username") == 0 &&
	    !text_is_username(*out, strlen(*out))) {
		response_invalid(req, field, "username may only hold letters, "
		    "digits, '_', '.' and '-'");
		return -1;
	}
	if (strcmp(field, "email") == 0 && !text_is_email(*out, strlen(*out))) {
		response_invalid(req, field, "email must be an address with "
		    "one @");
		return -1;
	}
	return 0;
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

/*
 * Answer 409 for a duplicate username or email: username_taken when a user
 * other than self (0: anyone) has the username (NULL: none was given).
 */
void
api_auth_taken(struct request *req, const char *username, uint64_t self)
{
	struct db_rows	*rows;
	int		 taken = 0;

	if (username != NULL) {
		rows = db_query(&q_username_taken, "su", username, self);
		taken = rows != NULL && db_fetch(rows) == 1;
		db_rows_free(rows);
	}
	if (taken)
		response_error(req, 409, "username_taken", "That username is "
		    "taken");
	else
		response_error(req, 409, "email_taken", "That email address "
		    "is already registered");
}

/* POST /auth/register {username, email, password}. */
static void
api_auth_register(struct request *req)
{
	const char	*username, *email, *password;
	char		*hash, refresh[REFRESH_TOKEN_LEN];
	struct user	 u;
	uint64_t	 id;

	if (param_body(req) == -1 ||
	    api_auth_check(req, "username", 1, &username) == -1 ||
	    api_auth_check(req, "email", 1, &email) == -1 ||
	    api_auth_check(req, "password", 1, &password) == -1)
		return;
	if ((hash = password_hash(password, strlen(password))) == NULL) {
		response_busy(req);
		return;
	}
	if (db_begin() == -1)
		goto fail;
	if (db_exec(&q_insert_user, "sss", username, email, hash) != 1) {
		db_rollback();
		if (db_errno() == ER_DUP_ENTRY)
			api_auth_taken(req, username, 0);
		else
			response_db_error(req);
		free(hash);
		return;
	}
	id = db_insert_id();
	if (refresh_issue(id, refresh) == -1 || users_by_id(id, &u) != 1 ||
	    db_commit() == -1)
		goto fail;
	free(hash);
	api_auth_session(req, 201, &u, refresh);
	return;
fail:
	db_rollback();
	free(hash);
	response_db_error(req);
}

/* Answer 429 rate_limited with Retry-After and "retry_after" (API.md). */
static void
api_auth_rate_limited(struct request *req, long long wait)
{
	yajl_gen	g;
	char		message[128];

	snprintf(message, sizeof message, "Too many failed sign-ins for this "
	    "account; try again in %lld seconds", wait);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "error");
	yajl_gen_map_open(g);
	json_gen_kstr(g, "code", "rate_limited");
	json_gen_kstr(g, "message", message);
	json_gen_kint(g, "retry_after", wait);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	response_header(req, "Retry-After: %lld", wait);
	response_json(req, 429, g);
}

/* Whether an account is over its failed-login budget; answers 429 if so. */
int
api_auth_throttled(struct request *req, uint64_t user_id)
{
	struct db_rows	*rows;
	long long	 failures, wait;

	if ((rows = db_query(&q_failed_logins, "u", user_id)) == NULL) {
		response_db_error(req);
		return 1;
	}
	if (db_fetch(rows) != 1) {
		db_rows_free(rows);
		return 0;
	}
	failures = db_i64(rows, 0);
	wait = db_i64(rows, 1);
	db_rows_free(rows);
	if (failures < cfg->max_failed_logins)
		return 0;
	api_auth_rate_limited(req, wait < 1 ? 1 : wait);
	return 1;
}

/* Count a wrong password against an account's hourly budget. */
void
api_auth_failed(uint64_t user_id)
{
	db_exec(&q_login_failed, "u", user_id);
}

/* After a successful login: reset the failure count, upgrade the hash. */
static void
api_auth_login_succeeded(struct user *u, const char *password, int upgrade)
{
	char	*hash;

	db_exec(&q_login_ok, "u", u->id);
	if (upgrade && (hash = password_hash(password,
	    strlen(password))) != NULL) {
		db_exec(&q_rehash, "su", hash, u->id);
		free(hash);
	}
}

/* Answer 401 invalid_credentials. */
static void
api_auth_bad_credentials(struct request *req)
{
	response_error(req, 401, "invalid_credentials", "Wrong login or "
	    "password");
}

/* POST /auth/login {login, password}. */
static void
api_auth_login(struct request *req)
{
	const char	*login, *password;
	char		 refresh[REFRESH_TOKEN_LEN];
	struct user	 u;
	int		 found, match, upgrade;

	if (param_body(req) == -1 ||
	    api_auth_field(req, "login", 1, 254, &login) == -1 ||
	    api_auth_field(req, "password", 1, 128, &password) == -1)
		return;
	if ((found = users_by_login(login, &u)) == -1) {
		response_db_error(req);
		return;
	}
	if (found == 0) {
		/* The same work as a wrong password, so timing tells nothing. */
		password_dummy(password, strlen(password));
		api_auth_bad_credentials(req);
		return;
	}
	if (api_auth_throttled(req, u.id))
		return;
	match = password_verify(password, strlen(password), u.password_hash,
	    &upgrade);
	if (match == -1) {
		response_busy(req);
		return;
	}
	if (match == 0) {
		api_auth_failed(u.id);
		api_auth_bad_credentials(req);
		return;
	}
	api_auth_login_succeeded(&u, password, upgrade);
	if (refresh_issue(u.id, refresh) == -1) {
		response_db_error(req);
		return;
	}
	api_auth_session(req, 200, &u, refresh);
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
	api_auth_gen_tokens(g, &u, next);
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

/*
 * Revoke every refresh token of a user and invalidate their access tokens,
 * inside the caller's transaction.
 */
int
api_auth_revoke_all(uint64_t user_id)
{
	if (refresh_revoke_user(user_id) == -1 ||
	    db_exec(&q_bump_generation, "u", user_id) != 1 ||
	    events_user_changed(user_id) == -1)
		return -1;
	return 0;
}

/* POST /auth/logout-all (bearer). */
static void
api_auth_logout_all(struct request *req)
{
	if (db_begin() == -1 || api_auth_revoke_all(req->user_id) == -1 ||
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
