/* SPDX-License-Identifier: ISC */
/*
 * users.c: the user record: loading it by id or login, writing it as JSON
 * (the full object for its owner, the public one inside others), and the
 * account's shared rules: its fields (username, email, password) read and
 * checked, a taken name told from a taken address, every session revoked,
 * the tokens of a new session written.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define USER_COLUMNS \
	"id, username, email, password_hash, token_generation, created_at," \
	" updated_at"

static struct db_stmt q_by_id = DB_STMT(
    "SELECT " USER_COLUMNS " FROM users WHERE id = ?");
static struct db_stmt q_by_login = DB_STMT(
    "SELECT " USER_COLUMNS " FROM users WHERE username = ?"
    " OR email_key = LOWER(?) ORDER BY username = ? DESC LIMIT 1");

static struct db_stmt q_username_taken = DB_STMT(
    "SELECT 1 FROM users WHERE username = ? AND id <> ?");
static struct db_stmt q_bump_generation = DB_STMT(
    "UPDATE users SET token_generation = token_generation + 1 WHERE id = ?");

/* Fill a struct user from a row of USER_COLUMNS. */
static void
users_fill(struct db_rows *rows, void *out)
{
	struct user	*u = out;

	memset(u, 0, sizeof *u);
	u->id = db_u64(rows, 0);
	db_copy(u->username, sizeof u->username, rows, 1);
	db_copy(u->email, sizeof u->email, rows, 2);
	db_copy(u->password_hash, sizeof u->password_hash, rows, 3);
	u->generation = (unsigned int)db_u64(rows, 4);
	db_copy(u->created_at, sizeof u->created_at, rows, 5);
	db_copy(u->updated_at, sizeof u->updated_at, rows, 6);
}

/* Load a user by id; 1 found, 0 not found, -1 error. */
int
users_by_id(uint64_t id, struct user *u)
{
	return db_fetch_one(db_query(&q_by_id, "u", id), users_fill, u);
}

/* Load a user by username or email (ignoring case); 1, 0 or -1. */
int
users_by_login(const char *login, struct user *u)
{
	return db_fetch_one(db_query(&q_by_login, "sss", login, login, login),
	    users_fill, u);
}

/* Write the public user object {id, username}. */
void
users_gen_public(yajl_gen g, uint64_t id, const char *username)
{
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", id);
	json_gen_kstr(g, "username", username);
	yajl_gen_map_close(g);
}

/* Write the members of a user object; email only for the user themself. */
void
users_gen_fields(yajl_gen g, const struct user *u, int self)
{
	json_gen_kid(g, "id", u->id);
	json_gen_kstr(g, "username", u->username);
	if (self)
		json_gen_kstr(g, "email", u->email);
	json_gen_ktime(g, "created_at", u->created_at);
	if (self)
		json_gen_ktime(g, "updated_at", u->updated_at);
}

/* Write a whole user object. */
void
users_gen(yajl_gen g, const struct user *u, int self)
{
	yajl_gen_map_open(g);
	users_gen_fields(g, u, self);
	yajl_gen_map_close(g);
}

/* Write the access token, refresh token and expiry members. */
void
users_gen_tokens(yajl_gen g, const struct user *u, const char *refresh)
{
	char	*access;

	access = token_issue(u->id, u->generation, cfg->access_ttl);
	json_gen_kstr(g, "access_token", access);
	json_gen_kstr(g, "refresh_token", refresh);
	json_gen_kint(g, "expires_in", cfg->access_ttl);
	free(access);
}

/*
 * Read and check one account field (username, email, password or another
 * password-like field): 0, PARAM_ABSENT when optional and not given, or
 * -1 when answered.
 */
int
users_check_field(struct request *req, const char *field, int required,
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

/*
 * Answer 409 for a duplicate username or email: username_taken when a user
 * other than self (0: anyone) has the username (NULL: none was given).
 */
void
users_taken(struct request *req, const char *username, uint64_t self)
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

/*
 * Read and check username, email and password (all required, or each
 * optional: then NULL when not given); -1 when answered.
 */
int
users_fields(struct request *req, int required, const char **username,
    const char **email, const char **password)
{
	*username = *email = *password = NULL;
	if (users_check_field(req, "username", required, username) == -1 ||
	    users_check_field(req, "email", required, email) == -1 ||
	    users_check_field(req, "password", required, password) == -1)
		return -1;
	return 0;
}

/*
 * Revoke every refresh token of a user and invalidate their access tokens,
 * inside the caller's transaction.
 */
int
users_revoke_all(uint64_t user_id)
{
	if (refresh_revoke_user(user_id) == -1 ||
	    db_exec(&q_bump_generation, "u", user_id) != 1 ||
	    events_user_changed(user_id) == -1)
		return -1;
	return 0;
}
