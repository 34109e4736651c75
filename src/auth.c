/* SPDX-License-Identifier: ISC */
/*
 * auth.c: turning the bearer header into the user, for every protected
 * route.  A token is good when its signature and expiry are, and its
 * generation still matches the user's (logout-all and password changes
 * bump it, so older tokens fail at once).  The generation and the user's
 * name come from the worker's cache (cache.c) when it has them.
 */
#include <string.h>
#include <strings.h>

#include "sohbet.h"

static struct db_stmt q_generation = DB_STMT(
    "SELECT token_generation, username FROM users WHERE id = ?");

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
 * Read a user's current token generation and name (USERNAME_SIZE bytes):
 * 1, 0 when there is no such user, -1 on a database error.
 */
static int
auth_user(uint64_t user_id, unsigned int *generation, char *username)
{
	struct db_rows	*rows;
	int		 found;

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
