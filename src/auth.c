/*
 * auth.c: turning the bearer header into the user, for every protected
 * route.  A token is good when its signature and expiry are, and its
 * generation still matches the user's (logout-all and password changes
 * bump it, so older tokens fail at once).
 */
#include <string.h>
#include <strings.h>

#include "sohbet.h"

static struct db_stmt q_generation = DB_STMT(
    "SELECT token_generation FROM users WHERE id = ?");

/* Answer 401 unauthorized. */
static int
auth_refuse(struct request *req)
{
	response_header(req, "WWW-Authenticate: Bearer");
	response_error(req, 401, "unauthorized", "A valid access token is "
	    "required");
	return -1;
}

/* Authenticate the request: set req->user_id, or answer and return -1. */
int
auth_request(struct request *req)
{
	const char	*h;
	struct db_rows	*rows;
	uint64_t	 user_id;
	unsigned int	 generation;
	int		 found;

	h = request_param(req, "HTTP_AUTHORIZATION");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return auth_refuse(req);
	if (token_verify(h + 7, &user_id, &generation) == -1)
		return auth_refuse(req);
	if ((rows = db_query(&q_generation, "u", user_id)) == NULL) {
		response_db_error(req);
		return -1;
	}
	found = db_fetch(rows);
	if (found == -1) {
		db_rows_free(rows);
		response_db_error(req);
		return -1;
	}
	if (found == 0 || db_u64(rows, 0) != generation) {
		db_rows_free(rows);
		return auth_refuse(req);
	}
	db_rows_free(rows);
	req->user_id = user_id;
	return 0;
}
