/*
 * servers.c: what the server, member, role and invite endpoints share:
 * loading servers, roles and members, one JSON writer per object (used
 * for the HTTP answers and the event data alike), reading names, and
 * finishing a change with its event in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define SERVERS_COLUMNS		"s.id, s.owner_id, s.name, s.created_at"
#define SERVERS_ROLE_COLUMNS	"id, server_id, name, permissions, position," \
				" is_default"
#define SERVERS_MEMBER_COLUMNS \
	"m.user_id, u.username, m.nickname, m.joined_at," \
	" (SELECT GROUP_CONCAT(mr.role_id ORDER BY mr.role_id)" \
	" FROM server_member_roles mr WHERE mr.server_id = m.server_id" \
	" AND mr.user_id = m.user_id)"

static struct db_stmt q_server = DB_STMT(
    "SELECT " SERVERS_COLUMNS " FROM servers s WHERE s.id = ?");
static struct db_stmt q_user_servers = DB_STMT(
    "SELECT " SERVERS_COLUMNS " FROM server_members m"
    " JOIN servers s ON s.id = m.server_id WHERE m.user_id = ?"
    " AND m.server_id > ? ORDER BY m.server_id LIMIT ?");
static struct db_stmt q_role = DB_STMT(
    "SELECT " SERVERS_ROLE_COLUMNS " FROM roles WHERE id = ?"
    " AND server_id = ?");
static struct db_stmt q_roles = DB_STMT(
    "SELECT " SERVERS_ROLE_COLUMNS " FROM roles WHERE server_id = ?"
    " ORDER BY id");
static struct db_stmt q_member = DB_STMT(
    "SELECT " SERVERS_MEMBER_COLUMNS " FROM server_members m"
    " JOIN users u ON u.id = m.user_id"
    " WHERE m.server_id = ? AND m.user_id = ?");
static struct db_stmt q_members = DB_STMT(
    "SELECT " SERVERS_MEMBER_COLUMNS " FROM server_members m"
    " JOIN users u ON u.id = m.user_id"
    " WHERE m.server_id = ? AND m.user_id > ? ORDER BY m.user_id LIMIT ?");
static struct db_stmt q_insert_member = DB_STMT(
    "INSERT INTO server_members (server_id, user_id, joined_seq)"
    " VALUES (?, ?, ?)");
static struct db_stmt q_insert_role = DB_STMT(
    "INSERT INTO roles (server_id, name, permissions, position, is_default)"
    " VALUES (?, ?, ?, ?, ?)");

/* Copy a text column into a fixed buffer ("" for NULL). */
void
servers_copy(char *dst, size_t size, struct db_rows *rows, unsigned int col)
{
	const char	*s = db_str(rows, col, NULL);

	snprintf(dst, size, "%s", s != NULL ? s : "");
}

/*
 * Write every row of a result as a JSON array, one object per row written
 * by gen_row, and free the result.  0, or -1 on a database error.
 */
int
servers_rows(yajl_gen g, struct db_rows *rows,
    void (*gen_row)(yajl_gen, struct db_rows *))
{
	int	rc;

	if (rows == NULL)
		return -1;
	yajl_gen_array_open(g);
	while ((rc = db_fetch(rows)) == 1)
		gen_row(g, rows);
	yajl_gen_array_close(g);
	db_rows_free(rows);
	return rc;
}

/* Answer 200 with the array a list function wrote in g (rc 0), or 500. */
void
servers_answer_list(struct request *req, yajl_gen g, int rc)
{
	if (rc == -1) {
		yajl_gen_free(g);
		response_db_error(req);
		return;
	}
	response_json(req, 200, g);
}

/* Answer 200 with the object in g, or 500/503 when g is NULL. */
void
servers_answer(struct request *req, yajl_gen g)
{
	if (g == NULL)
		response_db_error(req);
	else
		response_json(req, 200, g);
}

/*
 * Answer the array list writes of the things in server ids[0], for a
 * member holding need (else 404 or 403).
 */
void
servers_answer_in(struct request *req, uint32_t need,
    int (*list)(uint64_t, yajl_gen))
{
	struct member	m;
	yajl_gen	g;

	if (perm_require(req, req->ids[0], need, &m) == -1)
		return;
	g = json_gen_new();
	servers_answer_list(req, g, list(req->ids[0], g));
}

/*
 * Load the membership of user_id in a server into target: 0, or -1 with
 * 404 (not a member) or 500/503 answered.
 */
int
servers_member_require(struct request *req, uint64_t server_id,
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
 * Read the one row of a result into out with fill, and free the result:
 * 1 found, 0 not found, -1 error.
 */
int
servers_fetch(struct db_rows *rows, void (*fill)(struct db_rows *, void *),
    void *out)
{
	int	found;

	if (rows == NULL)
		return -1;
	if ((found = db_fetch(rows)) == 1)
		fill(rows, out);
	db_rows_free(rows);
	return found;
}

/*
 * Run a one-row query into a generator with gen_row: the new generator,
 * or NULL when there is no such row or the query failed.
 */
yajl_gen
servers_row_json(struct db_rows *rows,
    void (*gen_row)(yajl_gen, struct db_rows *))
{
	yajl_gen	g = NULL;

	if (rows != NULL && db_fetch(rows) == 1) {
		g = json_gen_new();
		gen_row(g, rows);
	}
	db_rows_free(rows);
	return g;
}

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
	return servers_row_json(db_query(&q_server, "u", id),
	    servers_gen_row);
}

/*
 * Write a page of the servers a user is a member of as an array: the
 * first limit with an id above after, in id order; 0 or -1.
 */
int
servers_list(uint64_t user_id, uint64_t after, int limit, yajl_gen g)
{
	return servers_rows(g, db_query(&q_user_servers, "uud", user_id,
	    after, limit), servers_gen_row);
}

/* Fill a struct role from a row of SERVERS_ROLE_COLUMNS. */
static void
servers_role_fill(struct db_rows *rows, void *out)
{
	struct role	*r = out;
	const char	*perms;
	size_t		 len;

	memset(r, 0, sizeof *r);
	r->id = db_u64(rows, 0);
	r->server_id = db_u64(rows, 1);
	servers_copy(r->name, sizeof r->name, rows, 2);
	if ((perms = db_str(rows, 3, &len)) != NULL)
		r->perms = perm_parse_text(perms, len);
	r->position = (int)db_i64(rows, 4);
	r->is_default = db_i64(rows, 5) != 0;
}

/* Write a role object {id, server_id, name, permissions, position, ...}. */
static void
servers_role_gen(yajl_gen g, const struct role *r)
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
servers_role_gen_row(yajl_gen g, struct db_rows *rows)
{
	struct role	r;

	servers_role_fill(rows, &r);
	servers_role_gen(g, &r);
}

/* Load a role of a server; 1 found, 0 not (or not that server's), -1. */
int
servers_role_load(uint64_t server_id, uint64_t role_id, struct role *r)
{
	return servers_fetch(db_query(&q_role, "uu", role_id, server_id),
	    servers_role_fill, r);
}

/* A new generator holding a role object, or NULL. */
yajl_gen
servers_role_json(uint64_t server_id, uint64_t role_id)
{
	return servers_row_json(db_query(&q_role, "uu", role_id, server_id),
	    servers_role_gen_row);
}

/* Insert a role; its id, or 0 on a database error. */
uint64_t
servers_role_insert(uint64_t server_id, const char *name, uint32_t perms,
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
servers_role_list(uint64_t server_id, yajl_gen g)
{
	return servers_rows(g, db_query(&q_roles, "u", server_id),
	    servers_role_gen_row);
}

/* Write a comma-separated list of ids as an array of id strings. */
static void
servers_gen_id_list(yajl_gen g, const char *list)
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
 * Write the member object of a row of SERVERS_MEMBER_COLUMNS:
 * {user: {id, username}, nickname, joined_at, roles: [role_id]}.
 */
static void
servers_member_gen_row(yajl_gen g, struct db_rows *rows)
{
	yajl_gen_map_open(g);
	json_gen_key(g, "user");
	users_gen_public(g, db_u64(rows, 0), db_str(rows, 1, NULL));
	json_gen_kstr(g, "nickname", db_str(rows, 2, NULL));
	json_gen_ktime(g, "joined_at", db_str(rows, 3, NULL));
	json_gen_key(g, "roles");
	servers_gen_id_list(g, db_str(rows, 4, NULL));
	yajl_gen_map_close(g);
}

/* A new generator holding a member object, or NULL. */
yajl_gen
servers_member_json(uint64_t server_id, uint64_t user_id)
{
	return servers_row_json(db_query(&q_member, "uu", server_id, user_id),
	    servers_member_gen_row);
}

/* Write up to limit members with user ids above after; 0 or -1. */
int
servers_member_list(uint64_t server_id, uint64_t after, int limit,
    yajl_gen g)
{
	return servers_rows(g, db_query(&q_members, "uud", server_id, after,
	    limit), servers_member_gen_row);
}

/*
 * Read a name field (server, role or channel: 1..100 code points, no
 * control characters).  0, PARAM_ABSENT when optional and absent, or -1
 * when answered; null is refused.
 */
int
servers_name(struct request *req, const char *field, int required,
    const char **out)
{
	int	rc;

	if (param_is_null(req, field)) {
		response_invalid(req, field, "%s must be a string", field);
		return -1;
	}
	rc = param_text(req, field, 1, 100, TEXT_NO_CONTROL, out, NULL);
	if (rc == PARAM_ABSENT && required) {
		response_invalid(req, field, "%s is required", field);
		return -1;
	}
	return rc;
}

/* A new generator holding {k1: v1, k2: v2} (k2 NULL: one member). */
yajl_gen
servers_ids(const char *k1, uint64_t v1, const char *k2, uint64_t v2)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_kid(g, k1, v1);
	if (k2 != NULL)
		json_gen_kid(g, k2, v2);
	yajl_gen_map_close(g);
	return g;
}

/*
 * Append an event to the open transaction.  With key NULL, obj is the
 * data; otherwise the data is {"server_id": server_id, key: obj}, the
 * server_id left out when 0.  obj stays the caller's.  0 or -1.
 */
static int
servers_event(const char *type, const struct event_scope *scope,
    uint64_t server_id, const char *key, yajl_gen obj)
{
	yajl_gen	 data;
	const char	*text;
	size_t		 len;
	int		 rc;

	if (key == NULL)
		return events_append(type, scope, obj);
	text = json_gen_text(obj, &len);
	data = json_gen_new();
	yajl_gen_map_open(data);
	if (server_id != 0)
		json_gen_kid(data, "server_id", server_id);
	json_gen_kraw(data, key, text, len);
	yajl_gen_map_close(data);
	rc = events_append(type, scope, data);
	yajl_gen_free(data);
	return rc;
}

/*
 * Make a user a member, with the member.join event, inside the open
 * transaction; 0 or -1 (db_errno() tells a member already, ER_DUP_ENTRY,
 * from a server that is gone).
 */
int
servers_join(uint64_t server_id, uint64_t user_id)
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
	    (member = servers_member_json(server_id, user_id)) == NULL)
		return -1;
	rc = servers_event("member.join", &scope, server_id, "member", member);
	yajl_gen_free(member);
	return rc;
}

/* Roll the open transaction back and answer the database error. */
void
servers_abort(struct request *req)
{
	db_rollback();
	response_db_error(req);
}

/*
 * Check the rows a statement of the open transaction changed (n, or -1
 * when it failed): 0 when it changed one; else -1 after rolling back and
 * answering 404 (no such what) or 500/503.
 */
int
servers_changed(struct request *req, long long n, const char *what)
{
	if (n > 0)
		return 0;
	if (n == 0) {
		db_rollback();
		response_not_found(req, what);
	} else
		servers_abort(req);
	return -1;
}

/*
 * Finish a change: append its event (type NULL: none; see servers_event
 * for server_id, key and obj), commit, and answer status with obj (204:
 * no body).  obj (NULL for none) is freed.  A failure rolls back and
 * answers 500 or 503.
 */
void
servers_finish(struct request *req, int status, const char *type,
    const struct event_scope *scope, uint64_t server_id, const char *key,
    yajl_gen obj)
{
	if (obj == NULL && status != 204) {
		servers_abort(req);
		return;
	}
	if ((type != NULL && servers_event(type, scope, server_id, key,
	    obj) == -1) || db_commit() == -1) {
		if (obj != NULL)
			yajl_gen_free(obj);
		servers_abort(req);
		return;
	}
	if (status == 204) {
		if (obj != NULL)
			yajl_gen_free(obj);
		response_empty(req, status);
	} else
		response_json(req, status, obj);
}

/*
 * Finish a change to a member inside the open transaction: member.update
 * with the member object, commit, and answer status (200 with the member,
 * or 204).
 */
void
servers_member_updated(struct request *req, int status, uint64_t server_id,
    uint64_t user_id)
{
	/* The member too: the change may alter what their poll may see. */
	struct event_scope	scope = { .server_id = server_id,
				    .user_id = user_id };

	servers_finish(req, status, "member.update", &scope, server_id,
	    "member", servers_member_json(server_id, user_id));
}
