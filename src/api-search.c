/* SPDX-License-Identifier: ISC */
/*
 * api-search.c: GET /servers/{id}/messages/search,
 * GET /dms/{id}/messages/search and GET /users/search (API.md, Search and
 * Users).  The finding is search.c's; this file reads the parameters and
 * decides where the caller may look.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define SEARCH_LIMIT_MAX	25
#define SEARCH_Q_MAX		200	/* code points of a message query */
#define SEARCH_USER_Q_MAX	32

/*
 * Read q, 1..max code points: 0, or -1 (answered).  A value that is not
 * UTF-8, or that holds a NUL, reads as one control character, which
 * search_parse() then finds no word in.
 */
static int
api_search_q(struct request *req, long max, const char **q)
{
	long	n;

	if ((*q = request_query(req, "q")) == NULL ||
	    (n = text_codepoints(*q, strlen(*q))) < 1 || n > max) {
		response_invalid(req, "q", "q must be 1 to %ld characters",
		    max);
		return -1;
	}
	return 0;
}

/*
 * Read what every message search shares (q, before, limit) into sq and
 * sw: 0, or -1 (answered).
 */
static int
api_search_read(struct request *req, struct search_query *sq,
    struct search_where *sw, long *limit)
{
	const char	*q;
	int		 rc;

	*limit = SEARCH_LIMIT_MAX;
	sw->before = UINT64_MAX;
	sw->reader_id = req->user_id;
	if (param_query_id(req, "before", &sw->before) == -1 ||
	    param_query_int(req, "limit", 1, SEARCH_LIMIT_MAX, limit) == -1 ||
	    api_search_q(req, SEARCH_Q_MAX, &q) == -1)
		return -1;
	if ((rc = search_parse(q, strlen(q), sq)) == 1)
		return 0;
	if (rc == 0)
		response_invalid(req, "q", "q must hold at least one word "
		    "(letters or digits)");
	else
		response_db_error(req);
	return -1;
}

/*
 * Answer a search whose scope is set, when the caller's searches a
 * minute allow it (429 else): counted only here, once the request was
 * found valid and the caller may look where it asks.
 */
static void
api_search_answer(struct request *req, const struct search_query *sq,
    const struct search_where *sw, long limit)
{
	yajl_gen	g;

	if (ratelimit_check(req, RATELIMIT_SEARCH, 0) == -1)
		return;
	g = json_gen_new();
	if (search_messages(sq, sw, limit, g) == -1) {
		yajl_gen_free(g);
		response_db_error(req);
		return;
	}
	response_json(req, 200, g);
}

/* GET /servers/{id}/messages/search: in the channels the caller views. */
static void
api_search_server(struct request *req)
{
	struct search_query	sq;
	struct search_where	sw;
	struct member		m;
	uint64_t		channel_id = 0;
	char			*channels = NULL;
	long			limit;
	int			rc;

	memset(&sw, 0, sizeof sw);
	if (perm_require(req, req->ids[0], 0, &m) == -1 ||
	    param_query_id(req, "author_id", &sw.author_id) == -1 ||
	    param_query_id(req, "channel_id", &channel_id) == -1 ||
	    api_search_read(req, &sq, &sw, &limit) == -1)
		return;
	sw.server_id = req->ids[0];
	if ((rc = search_channels(req->ids[0], req->user_id, channel_id,
	    &channels, &sw.all_channels)) == 1) {
		sw.channels = channels;
		api_search_answer(req, &sq, &sw, limit);
	} else if (rc == 0)
		response_not_found(req, channel_id != 0 ? "channel" : "server");
	else
		response_db_error(req);
	free(channels);
	search_query_clear(&sq);
}

/* GET /dms/{id}/messages/search: in a DM of the caller's. */
static void
api_search_dm(struct request *req)
{
	struct search_query	sq;
	struct search_where	sw;
	struct dm		d;
	long			limit;
	int			rc;

	memset(&sw, 0, sizeof sw);
	sw.dm_channel_id = req->ids[0];
	if ((rc = dms_load(req->user_id, req->ids[0], &d)) != 1) {
		if (rc == 0)
			response_not_found(req, "DM channel");
		else
			response_db_error(req);
		return;
	}
	if (api_search_read(req, &sq, &sw, &limit) == -1)
		return;
	api_search_answer(req, &sq, &sw, limit);
	search_query_clear(&sq);
}

/* GET /users/search: people the caller shares a server or a DM with. */
static void
api_search_users(struct request *req)
{
	const char	*q;
	long		 limit = SEARCH_LIMIT_MAX;
	yajl_gen	 g;

	if (param_query_int(req, "limit", 1, SEARCH_LIMIT_MAX, &limit) == -1 ||
	    api_search_q(req, SEARCH_USER_Q_MAX, &q) == -1)
		return;
	g = json_gen_new();
	response_list(req, g, search_users(req->user_id, q, limit, g));
}

/* Listed before the routes whose {id} or {user} would take "search". */
const struct route api_search_routes[] = {
	{ "GET", API_PREFIX "/servers/{id}/messages/search", api_search_server,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms/{id}/messages/search", api_search_dm,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/users/search", api_search_users, ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
