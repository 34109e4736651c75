/* SPDX-License-Identifier: ISC */
/*
 * servers.c: the rows of servers (API.md, Servers): one server's object
 * and a page of the servers a user is in, written as JSON for the HTTP
 * answers and the event data alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define SERVERS_COLUMNS		"s.id, s.owner_id, s.name, s.created_at"

static struct db_stmt q_server = DB_STMT(
    "SELECT " SERVERS_COLUMNS " FROM servers s WHERE s.id = ?");
static struct db_stmt q_user_servers = DB_STMT(
    "SELECT " SERVERS_COLUMNS " FROM server_members m"
    " JOIN servers s ON s.id = m.server_id WHERE m.user_id = ?"
    " AND m.server_id > ? ORDER BY m.server_id LIMIT ?");

/*
 * Write the server object {id, name, owner_id, created_at} of a row of
 * SERVERS_COLUMNS.
 */
static void
servers_gen_row(yajl_gen g, struct db_rows *rows)
{
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", db_u64(rows, 0));
	json_gen_kstr(g, "name", db_str(rows, 2, NULL));
	json_gen_kid(g, "owner_id", db_u64(rows, 1));
	json_gen_ktime(g, "created_at", db_str(rows, 3, NULL));
	yajl_gen_map_close(g);
}

/* A new generator holding a server object, or NULL (gone, or an error). */
yajl_gen
servers_json(uint64_t id)
{
	return db_row_json(db_query(&q_server, "u", id),
	    servers_gen_row);
}

/*
 * Write a page of the servers a user is a member of as an array: the
 * first limit with an id above after, in id order; 0 or -1.
 */
int
servers_list(uint64_t user_id, uint64_t after, int limit, yajl_gen g)
{
	return db_rows_json(g, db_query(&q_user_servers, "uud", user_id,
	    after, limit), servers_gen_row);
}

