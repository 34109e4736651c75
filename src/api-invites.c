/* SPDX-License-Identifier: ISC */
/*
 * api-invites.c: the invite endpoints (API.md, Invites): create, list,
 * preview, join and delete.  An invite that has expired or is used up
 * does not exist for any of them (404).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "sohbet.h"

#define ER_DUP_ENTRY		1062

#define INVITE_RANDOM_BYTES	12	/* 16 base64url characters */
#define INVITE_CODE_MAX		32	/* invites.code */
#define INVITE_MAX_USES		100
#define INVITE_MAX_AGE		604800	/* seconds: 7 days */
#define INVITE_DEFAULT_AGE	86400
#define INVITE_INSERT_TRIES	3

#define INVITES_COLUMNS \
	"i.code, i.server_id, s.name, i.inviter_id, u.username, i.uses," \
	" i.max_uses, i.expires_at, i.created_at FROM invites i" \
	" JOIN servers s ON s.id = i.server_id" \
	" JOIN users u ON u.id = i.inviter_id"
#define INVITES_LIVE \
	"(i.max_uses = 0 OR i.uses < i.max_uses)" \
	" AND (i.expires_at IS NULL OR i.expires_at > NOW(3))"

struct invite {
	char		 code[INVITE_CODE_MAX + 1];
	uint64_t	 server_id;
	uint64_t	 inviter_id;
};

static struct db_stmt q_invite = DB_STMT(
    "SELECT " INVITES_COLUMNS " WHERE i.code = ? AND " INVITES_LIVE);
static struct db_stmt q_invites = DB_STMT(
    "SELECT " INVITES_COLUMNS " WHERE i.server_id = ? AND " INVITES_LIVE
    " ORDER BY i.created_at, i.code");
static struct db_stmt q_insert_invite = DB_STMT(
    "INSERT INTO invites (code, server_id, inviter_id, max_uses, expires_at)"
    " VALUES (?, ?, ?, ?, IF(? = 0, NULL, NOW(3) + INTERVAL ? SECOND))");
static struct db_stmt q_use_invite = DB_STMT(
    "UPDATE invites i SET i.uses = i.uses + 1 WHERE i.code = ? AND "
    INVITES_LIVE);
static struct db_stmt q_delete_invite = DB_STMT(
    "DELETE FROM invites WHERE code = ?");

/*
 * Write the invite object of a row of INVITES_COLUMNS: {code, server:
 * {id, name}, inviter: {id, username}, uses, max_uses, expires_at,
 * created_at}.
 */
static void
api_invites_gen_row(yajl_gen g, struct db_rows *rows)
{
	yajl_gen_map_open(g);
	json_gen_kstr(g, "code", db_str(rows, 0, NULL));
	json_gen_key(g, "server");
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", db_u64(rows, 1));
	json_gen_kstr(g, "name", db_str(rows, 2, NULL));
	yajl_gen_map_close(g);
	json_gen_key(g, "inviter");
	users_gen_public(g, db_u64(rows, 3), db_str(rows, 4, NULL));
	json_gen_kint(g, "uses", db_i64(rows, 5));
	json_gen_kint(g, "max_uses", db_i64(rows, 6));
	json_gen_ktime(g, "expires_at", db_str(rows, 7, NULL));
	json_gen_ktime(g, "created_at", db_str(rows, 8, NULL));
	yajl_gen_map_close(g);
}

/* Whether a path's code could be an invite code (else it is unknown). */
static int
api_invites_code_ok(const char *code)
{
	size_t	len = strlen(code);

	return len > 0 && len <= INVITE_CODE_MAX &&
	    strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == len;
}

/*
 * Find the live invite with a code, and write it into g when g is not
 * NULL: 0, or -1 with 404 or 500/503 answered.
 */
static int
api_invites_find(struct request *req, const char *code, struct invite *inv,
    yajl_gen g)
{
	struct db_rows	*rows = NULL;
	int		 found = 0;

	if (api_invites_code_ok(code)) {
		if ((rows = db_query(&q_invite, "s", code)) == NULL ||
		    (found = db_fetch(rows)) == -1) {
			db_rows_free(rows);
			response_db_error(req);
			return -1;
		}
	}
	if (found == 1) {
		snprintf(inv->code, sizeof inv->code, "%s", code);
		inv->server_id = db_u64(rows, 1);
		inv->inviter_id = db_u64(rows, 3);
		if (g != NULL)
			api_invites_gen_row(g, rows);
	}
	db_rows_free(rows);
	if (found == 1)
		return 0;
	response_not_found(req, "invite");
	return -1;
}

/* Insert a new invite with a fresh random code into code; 0 or -1. */
static int
api_invites_insert(uint64_t server_id, uint64_t inviter_id, int max_uses,
    int max_age, char *code)
{
	unsigned char	raw[INVITE_RANDOM_BYTES];
	int		i;

	for (i = 0; i < INVITE_INSERT_TRIES; i++) {
		if (RAND_bytes(raw, sizeof raw) != 1) {
			log_warnx("%s: RAND_bytes failed", __func__);
			return -1;
		}
		token_b64url_encode(raw, sizeof raw, code);
		if (db_exec(&q_insert_invite, "suuddd", code, server_id,
		    inviter_id, max_uses, max_age, max_age) == 1)
			return 0;
		if (db_errno() != ER_DUP_ENTRY)
			return -1;
	}
	return -1;
}

/*
 * POST /servers/{id}/invites {max_uses?: 0..100, max_age?: 0..604800}
 * (create_invite) → 201 with the invite; invites_per_hour per user (429
 * beyond).
 */
static void
api_invites_create(struct request *req)
{
	struct member	m;
	struct invite	inv;
	char		code[INVITE_RANDOM_BYTES * 4 / 3 + 2];
	long		max_uses = 0, max_age = INVITE_DEFAULT_AGE;
	yajl_gen	g;

	if (perm_require(req, req->ids[0], PERM_CREATE_INVITE, &m) == -1 ||
	    param_int(req, "max_uses", 0, INVITE_MAX_USES, &max_uses) == -1 ||
	    param_int(req, "max_age", 0, INVITE_MAX_AGE, &max_age) == -1 ||
	    ratelimit_check(req, RATELIMIT_INVITE, 0) == -1)
		return;
	if (api_invites_insert(req->ids[0], req->user_id, (int)max_uses,
	    (int)max_age, code) == -1) {
		response_db_error(req);
		return;
	}
	g = json_gen_new();
	if (api_invites_find(req, code, &inv, g) == -1) {
		yajl_gen_free(g);
		return;
	}
	response_json(req, 201, g);
}

/* Write a server's live invites as an array, oldest first; 0 or -1. */
static int
api_invites_rows(uint64_t server_id, yajl_gen g)
{
	return db_rows_json(g, db_query(&q_invites, "u", server_id),
	    api_invites_gen_row);
}

/* GET /servers/{id}/invites (manage_server). */
static void
api_invites_list(struct request *req)
{
	perm_answer_list(req, PERM_MANAGE_SERVER, api_invites_rows);
}

/* GET /invites/{code}: the preview, for any signed-in user. */
static void
api_invites_preview(struct request *req)
{
	struct invite	inv;
	yajl_gen	g;

	g = json_gen_new();
	if (api_invites_find(req, req->args[0], &inv, g) == -1) {
		yajl_gen_free(g);
		return;
	}
	response_json(req, 200, g);
}

/*
 * Find the live invite of the path and load the caller's membership of
 * its server: 1 a member, 0 not, -1 answered (404, 500 or 503).
 */
static int
api_invites_member(struct request *req, struct invite *inv,
    struct member *m)
{
	int	rc;

	if (api_invites_find(req, req->args[0], inv, NULL) == -1)
		return -1;
	if ((rc = perm_load(inv->server_id, req->user_id, m)) == -1)
		response_db_error(req);
	return rc;
}

/*
 * POST /invites/{code}: join → 200 with the server, or 403 banned.  A
 * member joins again without using the invite up.  The use is counted
 * by one conditional UPDATE, which two racing joins on the last use
 * cannot both pass: the second waits for the first's row lock and then
 * matches nothing.
 */
static void
api_invites_join(struct request *req)
{
	struct invite	inv;
	struct member	m;
	int		rc;

	if ((rc = api_invites_member(req, &inv, &m)) != 0) {
		if (rc == 1)
			response_object(req, servers_json(inv.server_id));
		return;
	}
	/* A ban committing meanwhile is waited for (bans_check). */
	if (db_begin() == -1 || (rc = bans_check(inv.server_id,
	    req->user_id)) == -1) {
		change_abort(req);
		return;
	}
	if (rc == 1) {
		db_rollback();
		response_error(req, 403, "banned", "You are banned from this "
		    "server");
		return;
	}
	/* No row: used up or expired since it was found. */
	if (change_check(req, db_exec(&q_use_invite, "s", inv.code),
	    "invite") == -1)
		return;
	if (members_join(inv.server_id, req->user_id) == -1) {
		rc = db_errno();
		db_rollback();
		if (rc == ER_DUP_ENTRY)
			response_object(req, servers_json(inv.server_id));
		else
			response_db_error(req);
		return;
	}
	change_commit(req, &(struct change){ .status = 200,
	    .object = servers_json(inv.server_id) });
}

/* DELETE /invites/{code}: by its creator or with manage_server. */
static void
api_invites_delete(struct request *req)
{
	struct invite	inv;
	struct member	m;
	int		rc;

	if ((rc = api_invites_member(req, &inv, &m)) != 1) {
		if (rc == 0)
			response_not_found(req, "invite");
		return;
	}
	if (perm_check_invite(req, &m, inv.inviter_id) == -1)
		return;
	if (db_exec(&q_delete_invite, "s", inv.code) == -1) {
		response_db_error(req);
		return;
	}
	response_empty(req, 204);
}

const struct route api_invites_routes[] = {
	{ "POST", API_PREFIX "/servers/{id}/invites", api_invites_create,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/servers/{id}/invites", api_invites_list,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/invites/{code}", api_invites_preview,
	    ROUTE_AUTH },
	{ "POST", API_PREFIX "/invites/{code}", api_invites_join, ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/invites/{code}", api_invites_delete,
	    ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
