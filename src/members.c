/* SPDX-License-Identifier: ISC */
/*
 * members.c: the rows of server members (API.md, Members): the member
 * object written as JSON for the HTTP answers and the event data alike,
 * a page of a server's members, joining, leaving, and finishing a
 * change to a member with its member.update event.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define MEMBERS_COLUMNS \
	"m.user_id, u.username, m.nickname, m.joined_at," \
	" (SELECT GROUP_CONCAT(mr.role_id ORDER BY mr.role_id)" \
	" FROM server_member_roles mr WHERE mr.server_id = m.server_id" \
	" AND mr.user_id = m.user_id)"

static struct db_stmt q_member = DB_STMT(
    "SELECT " MEMBERS_COLUMNS " FROM server_members m"
    " JOIN users u ON u.id = m.user_id"
    " WHERE m.server_id = ? AND m.user_id = ?");
static struct db_stmt q_members = DB_STMT(
    "SELECT " MEMBERS_COLUMNS " FROM server_members m"
    " JOIN users u ON u.id = m.user_id"
    " WHERE m.server_id = ? AND m.user_id > ? ORDER BY m.user_id LIMIT ?");
static struct db_stmt q_insert_member = DB_STMT(
    "INSERT INTO server_members (server_id, user_id, joined_seq)"
    " VALUES (?, ?, ?)");
static struct db_stmt q_delete_member = DB_STMT(
    "DELETE FROM server_members WHERE server_id = ? AND user_id = ?");

/* Write a comma-separated list of ids as an array of id strings. */
static void
members_gen_roles(yajl_gen g, const char *list)
{
	const char	*p = list;
	char		*end;
	uint64_t	 id;

	yajl_gen_array_open(g);
	while (p != NULL && *p != '\0') {
		id = strtoull(p, &end, 10);
		if (end == p)
			break;
		json_gen_id(g, id);
		p = *end == ',' ? end + 1 : end;
	}
	yajl_gen_array_close(g);
}

/*
 * Write the member object of a row of MEMBERS_COLUMNS:
 * {user: {id, username}, nickname, joined_at, roles: [role_id]}.
 */
static void
members_gen_row(yajl_gen g, struct db_rows *rows)
{
	yajl_gen_map_open(g);
	json_gen_key(g, "user");
	users_gen_public(g, db_u64(rows, 0), db_str(rows, 1, NULL));
	json_gen_kstr(g, "nickname", db_str(rows, 2, NULL));
	json_gen_ktime(g, "joined_at", db_str(rows, 3, NULL));
	json_gen_key(g, "roles");
	members_gen_roles(g, db_str(rows, 4, NULL));
	yajl_gen_map_close(g);
}

/* A new generator holding a member object, or NULL. */
yajl_gen
members_json(uint64_t server_id, uint64_t user_id)
{
	return db_row_json(db_query(&q_member, "uu", server_id, user_id),
	    members_gen_row);
}

/* Write up to limit members with user ids above after; 0 or -1. */
int
members_list(uint64_t server_id, uint64_t after, int limit,
    yajl_gen g)
{
	return db_rows_json(g, db_query(&q_members, "uud", server_id, after,
	    limit), members_gen_row);
}

/*
 * Load the membership of user_id in a server into target: 0, or -1 with
 * 404 (not a member) or 500/503 answered.
 */
int
members_require(struct request *req, uint64_t server_id,
    uint64_t user_id, struct member *target)
{
	int	rc;

	if ((rc = perm_load(server_id, user_id, target)) == 1)
		return 0;
	if (rc == 0)
		response_not_found(req, "member");
	else
		response_db_error(req);
	return -1;
}

/*
 * Make a user a member, with the member.join event, inside the open
 * transaction; 0 or -1 (db_errno() tells a member already, ER_DUP_ENTRY,
 * from a server that is gone).
 */
int
members_join(uint64_t server_id, uint64_t user_id)
{
	/* The joiner too: their poll's scope does not hold the server yet. */
	struct event_scope	 scope = { .server_id = server_id,
				    .user_id = user_id };
	yajl_gen		 member;
	uint64_t		 joined;
	int			 rc;

	/*
	 * The member's start in the event log: the server's events at or
	 * below it happened before they joined (api-events.c).
	 */
	if (sequencer_next(&joined) == -1 ||
	    db_exec(&q_insert_member, "uuu", server_id, user_id, joined) != 1 ||
	    (member = members_json(server_id, user_id)) == NULL)
		return -1;
	rc = change_event("member.join", &scope, server_id, "member", member);
	yajl_gen_free(member);
	return rc;
}

/*
 * Remove a member inside the open transaction, with their channel
 * overwrites, and with member.leave scoped to the server and to the user
 * who left (who is no longer a member to see it otherwise): 1 removed,
 * 0 not a member, -1 on an error.
 */
int
members_remove(uint64_t server_id, uint64_t user_id)
{
	struct event_scope	 scope = { .server_id = server_id,
				    .user_id = user_id };
	yajl_gen		 g;
	long long		 n;
	int			 rc;

	if ((n = db_exec(&q_delete_member, "uu", server_id, user_id)) != 1)
		return n == 0 ? 0 : -1;
	if (overwrites_forget_target(server_id, OVERWRITE_MEMBER,
	    user_id) == -1)
		return -1;
	g = json_ids("server_id", server_id, "user_id", user_id);
	rc = change_event("member.leave", &scope, 0, NULL, g);
	yajl_gen_free(g);
	return rc == -1 ? -1 : 1;
}

/*
 * Finish a change to a member inside the open transaction: member.update
 * with the member object, commit, and answer status (200 with the member,
 * or 204).
 */
void
members_updated(struct request *req, int status, uint64_t server_id,
    uint64_t user_id)
{
	/* The member too: the change may alter what their poll may see. */
	struct event_scope	scope = { .server_id = server_id,
				    .user_id = user_id };

	change_commit(req, &(struct change){ .status = status,
	    .event = "member.update", .scope = &scope, .server_id = server_id,
	    .key = "member", .object = members_json(server_id, user_id) });
}
