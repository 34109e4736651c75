/*
 * users.c: the user record: loading it by id or login, and writing it as
 * JSON (the full object for its owner, the public one inside others).
 */
#include <stdlib.h>
#include <stdio.h>
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

/* Copy a column into a fixed buffer. */
static void
users_copy(char *dst, size_t size, struct db_rows *rows, unsigned int col)
{
	const char	*s = db_str(rows, col, NULL);

	snprintf(dst, size, "%s", s != NULL ? s : "");
}

/* Run a user query and fill u; 1 found, 0 not found, -1 error. */
static int
users_fetch(struct db_rows *rows, struct user *u)
{
	int	found;

	if (rows == NULL)
		return -1;
	if ((found = db_fetch(rows)) == 1) {
		memset(u, 0, sizeof *u);
		u->id = db_u64(rows, 0);
		users_copy(u->username, sizeof u->username, rows, 1);
		users_copy(u->email, sizeof u->email, rows, 2);
		users_copy(u->password_hash, sizeof u->password_hash, rows, 3);
		u->generation = (unsigned int)db_u64(rows, 4);
		users_copy(u->created_at, sizeof u->created_at, rows, 5);
		users_copy(u->updated_at, sizeof u->updated_at, rows, 6);
	}
	db_rows_free(rows);
	return found;
}

/* Load a user by id; 1 found, 0 not found, -1 error. */
int
users_by_id(uint64_t id, struct user *u)
{
	return users_fetch(db_query(&q_by_id, "u", id), u);
}

/* Load a user by username or email (ignoring case); 1, 0 or -1. */
int
users_by_login(const char *login, struct user *u)
{
	return users_fetch(db_query(&q_by_login, "sss", login, login, login),
	    u);
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
