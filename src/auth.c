/* SPDX-License-Identifier: ISC */
/*
 * auth.c: turning the bearer header into the user, for every protected
 * route.  A token is good when its signature and expiry are, and its
 * generation still matches the user's (logout-all and password changes
 * bump it, so older tokens fail at once).  The generation and the user's
 * name come from the worker's cache (cache.c) when it has them; the
 * cached users looked up lately are read again together, a statement
 * for AUTH_REFRESH_BATCH of them, before they grow stale.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sohbet.h"

#define AUTH_REFRESH_BATCH	1000	/* users read again in a statement */

static struct db_stmt q_generation = DB_STMT(
    "SELECT token_generation, username FROM users WHERE id = ?");
static struct db_stmt q_generations = DB_STMT(
    "SELECT u.id, u.token_generation, u.username FROM JSON_TABLE(?, '$[*]'"
    " COLUMNS (id BIGINT UNSIGNED PATH '$')) j"
    " STRAIGHT_JOIN users u ON u.id = j.id");

/* When the cached users were last read again (clock_ms()). */
static long long	auth_refreshed_ms;

/* Answer 401 unauthorized (the token names nobody who may act); -1. */
int
auth_refuse(struct request *req)
{
	response_header(req, "WWW-Authenticate: Bearer");
	response_error(req, 401, "unauthorized", "A valid access token is "
	    "required");
	return -1;
}

/*
 * The rows (id, token generation, name) of n users, those that exist, in
 * no order; NULL on a database error.  What the users cache holds of
 * each (cache_user_put()).
 */
struct db_rows *
auth_users_read(const uint64_t *ids, size_t n)
{
	return db_query_ids(&q_generations, ids, n);
}

/*
 * Read again the generations and names of n cached users, as of now;
 * those not found (accounts deleted) are forgotten.  0, or -1 when the
 * database failed (they stay as they were, and grow stale).
 */
static int
auth_refresh_users(const uint64_t *ids, size_t n, long long now)
{
	struct db_rows	*rows;
	char		 name[USERNAME_SIZE];
	int		 rc;

	if ((rows = auth_users_read(ids, n)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		db_copy(name, sizeof name, rows, 2);
		cache_user_refill(db_u64(rows, 0),
		    (unsigned int)db_u64(rows, 1), name, now);
	}
	db_rows_free(rows);
	if (rc == -1)
		return -1;
	cache_users_drop_unread(ids, n, now);
	return 0;
}

/*
 * Every quarter of cache_ms at most, read again the cached users looked
 * up lately whose copies are three quarters of cache_ms old (cache.c,
 * cache_users_due()): a client that polls again every second or two, on
 * either worker, then finds its user fresh instead of costing a
 * statement a poll.  A change made through the API drops the user at
 * once (their hub entry); one made by hand shows within cache_ms.
 */
static void
auth_refresh(void)
{
	uint64_t	*ids;
	long long	 now = clock_ms();
	size_t		 n;

	if (!cache_on() || now - auth_refreshed_ms < cfg->cache_ms / 4)
		return;
	auth_refreshed_ms = now;
	ids = xreallocarray(NULL, AUTH_REFRESH_BATCH, sizeof *ids);
	do {
		n = cache_users_due(ids, AUTH_REFRESH_BATCH, now);
	} while (n > 0 && auth_refresh_users(ids, n, now) == 0 &&
	    n == AUTH_REFRESH_BATCH);
	free(ids);
}

/*
 * Read a user's current token generation and name (USERNAME_SIZE bytes):
 * 1, 0 when there is no such user, -1 on a database error.
 */
static int
auth_user(uint64_t user_id, unsigned int *generation, char *username)
{
	struct db_rows	*rows;
	int		 found;

	auth_refresh();
	if (cache_user_get(user_id, generation, username))
		return 1;
	if ((rows = db_query(&q_generation, "u", user_id)) == NULL)
		return -1;
	if ((found = db_fetch(rows)) == 1) {
		*generation = (unsigned int)db_u64(rows, 0);
		db_copy(username, USERNAME_SIZE, rows, 1);
		cache_user_put(user_id, *generation, username);
	}
	db_rows_free(rows);
	return found;
}

/*
 * Authenticate the request: set req->user_id and req->username, or answer
 * and return -1.
 */
int
auth_request(struct request *req)
{
	const char	*h;
	uint64_t	 user_id;
	unsigned int	 generation, current;
	int		 found;

	h = request_param(req, "HTTP_AUTHORIZATION");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return auth_refuse(req);
	if (token_verify(h + 7, &user_id, &generation) == -1)
		return auth_refuse(req);
	if ((found = auth_user(user_id, &current, req->username)) == -1) {
		response_db_error(req);
		return -1;
	}
	if (found == 0 || current != generation)
		return auth_refuse(req);
	req->user_id = user_id;
	req->token_generation = generation;
	return 0;
}

/*
 * Ask again whether the token a request was authenticated with still
 * holds (a parked poll, after logout-all or a password change): 0, or -1
 * with 401 (revoked) or 503 answered.
 */
int
auth_recheck(struct request *req)
{
	unsigned int	current;
	char		username[USERNAME_SIZE];
	int		found;

	if ((found = auth_user(req->user_id, &current, username)) == -1) {
		response_db_error(req);
		return -1;
	}
	if (found == 0 || current != req->token_generation)
		return auth_refuse(req);
	return 0;
}
