/* SPDX-License-Identifier: ISC */
/*
 * bans.c: the rows of server bans (API.md, Bans): banning (the ban and
 * the member's removal in one transaction), the sweep of a banned user's
 * recent messages in bounded steps, unbanning, and the ban list.
 */
#include <string.h>

#include "sohbet.h"

/*
 * Messages a sweep step deletes in one transaction: each costs a few
 * statements (its lock, the row, its nonce, message.delete) and the step
 * one erase of their events' text, so a step holds its row locks for
 * tens of milliseconds, not seconds (docs/benchmarks.md, "Ban sweep").
 */
#define BANS_SWEEP_STEP		100

#define BANS_COLUMNS \
	"b.user_id, u.username, b.reason, b.created_at"

static struct db_stmt q_banned = DB_STMT(
    "SELECT 1 FROM server_bans WHERE server_id = ? AND user_id = ?"
    " LOCK IN SHARE MODE");
/* A second ban replaces the reason; the first's time and author stay. */
static struct db_stmt q_insert_ban = DB_STMT(
    "INSERT INTO server_bans (server_id, user_id, reason, banned_by)"
    " VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE reason = VALUES(reason)");
static struct db_stmt q_since = DB_STMT(
    "SELECT NOW(3) - INTERVAL ? SECOND");
static struct db_stmt q_delete_ban = DB_STMT(
    "DELETE FROM server_bans WHERE server_id = ? AND user_id = ?");
static struct db_stmt q_ban = DB_STMT(
    "SELECT " BANS_COLUMNS " FROM server_bans b"
    " JOIN users u ON u.id = b.user_id"
    " WHERE b.server_id = ? AND b.user_id = ?");
static struct db_stmt q_bans = DB_STMT(
    "SELECT " BANS_COLUMNS " FROM server_bans b"
    " JOIN users u ON u.id = b.user_id"
    " WHERE b.server_id = ? AND b.user_id > ? ORDER BY b.user_id LIMIT ?");

/*
 * Whether a user is banned from a server, read with a shared lock inside
 * the open transaction (a join's, so that a ban committing meanwhile is
 * waited for): 1 banned, 0 not, -1 on an error.
 */
int
bans_check(uint64_t server_id, uint64_t user_id)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_banned, "uu", server_id, user_id)) == NULL)
		return -1;
	rc = db_fetch(rows);
	db_rows_free(rows);
	return rc;
}

/*
 * Ban a user from a server as by, in one transaction: the ban (or its
 * reason replaced), and the user removed with member.leave if they are a
 * member.  With seconds > 0, since receives the time from which their
 * messages are to be swept (BANS_SINCE_SIZE bytes), read in the same
 * transaction.  0, or -1 after rolling back.
 */
int
bans_put(uint64_t server_id, uint64_t user_id, uint64_t by,
    const char *reason, size_t len, long seconds, char *since)
{
	struct db_rows	*rows;

	if (db_begin() == -1 ||
	    db_exec(&q_insert_ban, "uubu", server_id, user_id, reason, len,
	    by) == -1 ||
	    members_remove(server_id, user_id) == -1)
		goto fail;
	if (seconds > 0) {
		if ((rows = db_query(&q_since, "d", (int)seconds)) == NULL)
			goto fail;
		if (db_fetch(rows) != 1) {
			db_rows_free(rows);
			goto fail;
		}
		db_copy(since, BANS_SINCE_SIZE, rows, 0);
		db_rows_free(rows);
	}
	if (db_commit() == -1)
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

/*
 * Delete a banned user's messages in a server's channels created at or
 * after since, step by step (BANS_SWEEP_STEP messages a transaction).
 * The user is no longer a member, so no new message joins the set while
 * it shrinks.  The number deleted, or -1 (the steps before stay done: a
 * second ban sweeps the rest).
 */
int
bans_sweep(uint64_t server_id, uint64_t user_id, const char *since)
{
	int	n, total = 0;

	do {
		if ((n = messages_delete_recent(server_id, user_id, since,
		    BANS_SWEEP_STEP)) == -1)
			return -1;
		total += n;
	} while (n == BANS_SWEEP_STEP);
	return total;
}

/* Lift a ban: 1, 0 if there was none, -1 on an error. */
int
bans_remove(uint64_t server_id, uint64_t user_id)
{
	long long	n;

	n = db_exec(&q_delete_ban, "uu", server_id, user_id);
	return n < 0 ? -1 : n > 0;
}

/*
 * Write the ban object of a row of BANS_COLUMNS:
 * {user: {id, username}, reason, created_at}.
 */
static void
bans_gen_row(yajl_gen g, struct db_rows *rows)
{
	yajl_gen_map_open(g);
	json_gen_key(g, "user");
	users_gen_public(g, db_u64(rows, 0), db_str(rows, 1, NULL));
	json_gen_kstr(g, "reason", db_str(rows, 2, NULL));
	json_gen_ktime(g, "created_at", db_str(rows, 3, NULL));
	yajl_gen_map_close(g);
}

/*
 * Load one ban into a new generator (*g, the caller's to free): 1, 0 if
 * the user is not banned, -1 on an error.
 */
int
bans_get(uint64_t server_id, uint64_t user_id, yajl_gen *g)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_ban, "uu", server_id, user_id)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1) {
		*g = json_gen_new();
		bans_gen_row(*g, rows);
	}
	db_rows_free(rows);
	return rc;
}

/* Write up to limit bans with user ids above after; 0 or -1. */
int
bans_list(uint64_t server_id, uint64_t after, int limit, yajl_gen g)
{
	return db_rows_json(g, db_query(&q_bans, "uud", server_id, after,
	    limit), bans_gen_row);
}
