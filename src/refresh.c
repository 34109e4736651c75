/* SPDX-License-Identifier: ISC */
/*
 * refresh.c: refresh tokens.  A token is 256 random bits, shown to the
 * client once and stored only as its SHA-256.  Tokens rotate on every use
 * and form a family (the chain from one login); the consume step is one
 * conditional UPDATE, so two refreshes with the same token never both win.
 *
 * The successor of a token is not random but derived from it,
 * HMAC-SHA256(token_key, "refresh-successor:" token): the server can make
 * it again from the presented token, and the stored successor's digest
 * proves it was issued.  That is what lets a client that refreshes from
 * two tabs at once keep its session: a consumed token presented again
 * within refresh_grace seconds of its use is the same client racing
 * itself, and gets the same successor back (OAuth servers do the same).
 * Later, a consumed token presented again is theft: its whole family,
 * successor included, is revoked.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define REFRESH_BYTES	32
#define REFRESH_MAX_LEN	128
#define REFRESH_SUCCESSOR	"refresh-successor:"

static struct db_stmt q_insert = DB_STMT(
    "INSERT INTO refresh_tokens (user_id, token, family_id, expires_at,"
    " created_at) VALUES (?, ?, 0, NOW(3) + INTERVAL ? DAY, NOW(3))");
static struct db_stmt q_set_family = DB_STMT(
    "UPDATE refresh_tokens SET family_id = id WHERE id = ?");
static struct db_stmt q_consume = DB_STMT(
    "UPDATE refresh_tokens SET consumed_at = NOW(3) WHERE token = ?"
    " AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > NOW(3)");
static struct db_stmt q_lookup = DB_STMT(
    "SELECT id, user_id, family_id, consumed_at IS NOT NULL,"
    " revoked_at IS NULL AND expires_at > NOW(3),"
    " consumed_at > NOW(3) - INTERVAL ? SECOND"
    " FROM refresh_tokens WHERE token = ?");
static struct db_stmt q_successor_live = DB_STMT(
    "SELECT 1 FROM refresh_tokens WHERE token = ? AND family_id = ?"
    " AND revoked_at IS NULL AND expires_at > NOW(3)");
static struct db_stmt q_successor = DB_STMT(
    "INSERT INTO refresh_tokens (user_id, token, family_id, expires_at,"
    " created_at) SELECT user_id, ?, family_id, expires_at, NOW(3)"
    " FROM refresh_tokens WHERE id = ?");
static struct db_stmt q_revoke_family = DB_STMT(
    "UPDATE refresh_tokens SET revoked_at = NOW(3) WHERE family_id = ?"
    " AND revoked_at IS NULL");
static struct db_stmt q_revoke_one = DB_STMT(
    "UPDATE refresh_tokens SET revoked_at = NOW(3) WHERE token = ?"
    " AND revoked_at IS NULL");
static struct db_stmt q_revoke_user = DB_STMT(
    "UPDATE refresh_tokens SET revoked_at = NOW(3) WHERE user_id = ?"
    " AND revoked_at IS NULL");
static struct db_stmt q_cleanup = DB_STMT(
    "DELETE FROM refresh_tokens WHERE expires_at < NOW(3) - INTERVAL 1 DAY"
    " LIMIT 1000");

/* SHA-256 of a presented token, the form it is stored in. */
static void
refresh_digest(const char *token, unsigned char out[SHA256_DIGEST_LENGTH])
{
	SHA256((const unsigned char *)token, strlen(token), out);
}

/* Make a new random token string into out (at least 44 bytes). */
static int
refresh_random(char *out)
{
	unsigned char	raw[REFRESH_BYTES];

	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	token_b64url_encode(raw, sizeof raw, out);
	return 0;
}

/*
 * The successor of a presented token into out (at least 44 bytes): the
 * same every time it is asked for, by any worker.
 */
static int
refresh_successor(const char *token, char *out)
{
	unsigned char	 mac[SHA256_DIGEST_LENGTH];
	char		*data;
	int		 rc;

	xasprintf(&data, REFRESH_SUCCESSOR "%s", token);
	rc = token_mac(data, strlen(data), mac);
	free(data);
	if (rc == -1)
		return -1;
	token_b64url_encode(mac, sizeof mac, out);
	return 0;
}

/* Insert a token (its digest) as the successor of row prev, or anew. */
static int
refresh_store(const char *token, uint64_t user_id, uint64_t prev)
{
	unsigned char	digest[SHA256_DIGEST_LENGTH];

	refresh_digest(token, digest);
	if (prev != 0)
		return db_exec(&q_successor, "bu", (const char *)digest,
		    sizeof digest, prev) == 1 ? 0 : -1;
	if (db_exec(&q_insert, "ubd", user_id, (const char *)digest,
	    sizeof digest, cfg->refresh_ttl_days) != 1)
		return -1;
	return db_exec(&q_set_family, "u", db_insert_id()) == 1 ? 0 : -1;
}

/*
 * Start a new family for a user (a login), inside the caller's
 * transaction.  The token goes into out (REFRESH_TOKEN_LEN bytes).
 */
int
refresh_issue(uint64_t user_id, char *out)
{
	if (refresh_random(out) == -1)
		return -1;
	return refresh_store(out, user_id, 0);
}

/*
 * Whether the successor of a token consumed moments ago is still live in
 * its family (the race of two tabs): 1 with it in out, 0 if not, -1 on a
 * database error.
 */
static int
refresh_grace(const char *token, uint64_t family, char *out)
{
	unsigned char	 digest[SHA256_DIGEST_LENGTH];
	struct db_rows	*rows;
	int		 found;

	if (refresh_successor(token, out) == -1)
		return -1;
	refresh_digest(out, digest);
	if ((rows = db_query(&q_successor_live, "bu", (const char *)digest,
	    sizeof digest, family)) == NULL)
		return -1;
	found = db_fetch(rows) == 1;
	db_rows_free(rows);
	return found;
}

/*
 * Consume a token and issue its successor into out.  Returns REFRESH_OK
 * (with *user_id), REFRESH_INVALID, REFRESH_REUSED (its family is now
 * revoked) or -1 on a database error.  A token consumed less than
 * refresh_grace seconds ago gives REFRESH_OK with the successor it gave
 * then.
 */
int
refresh_rotate(const char *token, uint64_t *user_id, char *out)
{
	unsigned char	 digest[SHA256_DIGEST_LENGTH];
	struct db_rows	*rows;
	uint64_t	 id, family;
	int		 consumed, live, recent, won, rc;

	if (strlen(token) > REFRESH_MAX_LEN)
		return REFRESH_INVALID;
	refresh_digest(token, digest);
	if (db_begin() == -1)
		return -1;
	/* The losers of a race wait here until the winner committed. */
	if ((won = (int)db_exec(&q_consume, "b", (const char *)digest,
	    sizeof digest)) == -1)
		goto fail;
	if ((rows = db_query(&q_lookup, "db", cfg->refresh_grace,
	    (const char *)digest, sizeof digest)) == NULL)
		goto fail;
	if (db_fetch(rows) != 1) {
		db_rows_free(rows);
		db_rollback();
		return REFRESH_INVALID;
	}
	id = db_u64(rows, 0);
	*user_id = db_u64(rows, 1);
	family = db_u64(rows, 2);
	consumed = db_u64(rows, 3) != 0;
	live = db_u64(rows, 4) != 0;
	recent = db_u64(rows, 5) != 0;
	db_rows_free(rows);
	if (won == 1) {
		if (refresh_successor(token, out) == -1 ||
		    refresh_store(out, 0, id) == -1 || db_commit() == -1)
			goto fail;
		return REFRESH_OK;
	}
	if (!consumed || !live) {
		db_rollback();
		return REFRESH_INVALID;
	}
	if (recent) {
		if ((rc = refresh_grace(token, family, out)) == -1)
			goto fail;
		if (rc == 1) {
			db_rollback();
			return REFRESH_OK;
		}
	}
	/* A consumed token again, later: theft.  Revoke the family. */
	if (db_exec(&q_revoke_family, "u", family) == -1 || db_commit() == -1)
		return -1;
	return REFRESH_REUSED;
fail:
	db_rollback();
	return -1;
}

/* Revoke one token (logout); unknown tokens are fine.  0 or -1. */
int
refresh_revoke(const char *token)
{
	unsigned char	digest[SHA256_DIGEST_LENGTH];

	if (strlen(token) > REFRESH_MAX_LEN)
		return 0;
	refresh_digest(token, digest);
	return db_exec(&q_revoke_one, "b", (const char *)digest,
	    sizeof digest) == -1 ? -1 : 0;
}

/* Revoke every token of a user, inside the caller's transaction. */
int
refresh_revoke_user(uint64_t user_id)
{
	return db_exec(&q_revoke_user, "u", user_id) == -1 ? -1 : 0;
}

/* Delete a batch of long-expired tokens; the number deleted or -1. */
long long
refresh_cleanup(void)
{
	return db_exec(&q_cleanup, "");
}
