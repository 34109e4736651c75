/*
 * users.c: the user record: loading it by id or login, and writing it as
 * JSON (the full object for its owner, the public one inside others).
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
