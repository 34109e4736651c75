/* SPDX-License-Identifier: ISC */
/*
 * roles.c: the rows of roles (API.md, Roles and permissions): load one,
 * list a server's, insert one, and the role object written as JSON for
 * the HTTP answers and the event data alike.  perm.c decides who may.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define ROLES_COLUMNS	"id, server_id, name, permissions, position," \
				" is_default"

static struct db_stmt q_role = DB_STMT(
    "SELECT " ROLES_COLUMNS " FROM roles WHERE id = ?"
    " AND server_id = ?");
static struct db_stmt q_roles = DB_STMT(
    "SELECT " ROLES_COLUMNS " FROM roles WHERE server_id = ?"
    " ORDER BY id");
static struct db_stmt q_insert_role = DB_STMT(
    "INSERT INTO roles (server_id, name, permissions, position, is_default)"
    " VALUES (?, ?, ?, ?, ?)");

/* Fill a struct role from a row of ROLES_COLUMNS. */
static void
roles_fill(struct db_rows *rows, void *out)
{
	struct role	*r = out;
	const char	*perms;
	size_t		 len;

	memset(r, 0, sizeof *r);
	r->id = db_u64(rows, 0);
	r->server_id = db_u64(rows, 1);
	db_copy(r->name, sizeof r->name, rows, 2);
	if ((perms = db_str(rows, 3, &len)) != NULL)
		r->perms = perm_parse_text(perms, len);
	r->position = (int)db_i64(rows, 4);
	r->is_default = db_i64(rows, 5) != 0;
}

/* Write a role object {id, server_id, name, permissions, position, ...}. */
static void
roles_gen(yajl_gen g, const struct role *r)
{
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", r->id);
	json_gen_kid(g, "server_id", r->server_id);
	json_gen_kstr(g, "name", r->name);
	json_gen_key(g, "permissions");
	perm_gen(g, r->perms);
	json_gen_kint(g, "position", r->position);
	json_gen_kbool(g, "is_default", r->is_default);
	yajl_gen_map_close(g);
}

/* Write the role object of a row. */
static void
roles_gen_row(yajl_gen g, struct db_rows *rows)
{
	struct role	r;

	roles_fill(rows, &r);
	roles_gen(g, &r);
}

/* Load a role of a server; 1 found, 0 not (or not that server's), -1. */
int
roles_load(uint64_t server_id, uint64_t role_id, struct role *r)
{
	return db_fetch_one(db_query(&q_role, "uu", role_id, server_id),
	    roles_fill, r);
}

/* A new generator holding a role object, or NULL. */
yajl_gen
roles_json(uint64_t server_id, uint64_t role_id)
{
	return db_row_json(db_query(&q_role, "uu", role_id, server_id),
	    roles_gen_row);
}

/* Insert a role; its id, or 0 on a database error. */
uint64_t
roles_insert(uint64_t server_id, const char *name, uint32_t perms,
    int position, int is_default)
{
	char		*text;
	long long	 n;

	text = perm_to_text(perms);
	n = db_exec(&q_insert_role, "ussdd", server_id, name, text, position,
	    is_default);
	free(text);
	return n == 1 ? db_insert_id() : 0;
}

/* Write a server's roles as an array, in id order; 0 or -1. */
int
roles_list(uint64_t server_id, yajl_gen g)
{
	return db_rows_json(g, db_query(&q_roles, "u", server_id),
	    roles_gen_row);
}
