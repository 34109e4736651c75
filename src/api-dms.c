/*
 * api-dms.c: direct messages (API.md, Direct messages).  One DM channel
 * per pair of users (dm_channels keeps the smaller id first, under a
 * unique key), opened with POST /dms, read with GET /dms and /dms/{id},
 * and its messages under /dms/{id}/messages, which api-messages.c serves once
 * the caller is known to be one of the two participants.  Anyone else
 * gets 404: a DM they are not in does not exist for them.
 */
#include <string.h>

#include "sohbet.h"

/* A DM channel as one participant sees it. */
struct dm {
	uint64_t	 id;
	uint64_t	 recipient_id;		/* the other participant */
	char		 recipient[32 * 4 + 1];
	char		 created_at[32];
};

#define DMS_COLUMNS \
	"SELECT d.id, u.id, u.username, d.created_at FROM dm_channels d"

/* A DM channel of a participant (viewer, id, viewer, viewer). */
static struct db_stmt q_dm = DB_STMT(
    DMS_COLUMNS " JOIN users u"
    " ON u.id = IF(d.user1_id = ?, d.user2_id, d.user1_id)"
    " WHERE d.id = ? AND (d.user1_id = ? OR d.user2_id = ?)");
/* A user's DM channels: an index lookup on each side of the pair. */
static struct db_stmt q_dms = DB_STMT(
    DMS_COLUMNS " JOIN users u ON u.id = d.user2_id WHERE d.user1_id = ?"
    " UNION ALL "
    DMS_COLUMNS " JOIN users u ON u.id = d.user1_id WHERE d.user2_id = ?"
    " ORDER BY 1");
/*
 * Get-or-create: a racing second INSERT IGNORE waits on the first one's
 * uncommitted key and then inserts nothing; READ COMMITTED lets the
 * SELECT after it see the row the first one committed.
 */
static struct db_stmt q_dm_insert = DB_STMT(
    "INSERT IGNORE INTO dm_channels (user1_id, user2_id, created_at)"
    " VALUES (?, ?, NOW(3))");
static struct db_stmt q_dm_pair = DB_STMT(
    "SELECT id FROM dm_channels WHERE user1_id = ? AND user2_id = ?");

/* Fill a DM from a row of DMS_COLUMNS. */
static void
api_dms_fill(struct db_rows *rows, void *out)
{
	struct dm	*d = out;

	memset(d, 0, sizeof *d);
	d->id = db_u64(rows, 0);
	d->recipient_id = db_u64(rows, 1);
	db_copy(d->recipient, sizeof d->recipient, rows, 2);
	db_copy(d->created_at, sizeof d->created_at, rows, 3);
}

/* Write a DM channel object {id, recipient, created_at}. */
static void
api_dms_gen(yajl_gen g, const struct dm *d)
{
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", d->id);
	json_gen_key(g, "recipient");
	users_gen_public(g, d->recipient_id, d->recipient);
	json_gen_ktime(g, "created_at", d->created_at);
	yajl_gen_map_close(g);
}

/* Load a DM channel as the viewer sees it: 1, 0 (not theirs) or -1. */
static int
api_dms_load(uint64_t viewer, uint64_t id, struct dm *d)
{
	return db_fetch_one(db_query(&q_dm, "uuuu", viewer, id, viewer,
	    viewer), api_dms_fill, d);
}

/* Load the caller's DM channel of the path; 0, or -1 (404/503 answered). */
static int
api_dms_require(struct request *req, struct dm *d)
{
	int	rc;

	if ((rc = api_dms_load(req->user_id, req->ids[0], d)) == 1)
		return 0;
	if (rc == 0)
		response_not_found(req, "DM channel");
	else
		response_db_error(req);
	return -1;
}

/* Answer with a DM channel. */
static void
api_dms_respond(struct request *req, int status, const struct dm *d)
{
	yajl_gen	g;

	g = json_gen_new();
	api_dms_gen(g, d);
	response_json(req, status, g);
}

/* GET /dms/{id}. */
static void
api_dms_get(struct request *req)
{
	struct dm	d;

	if (api_dms_require(req, &d) == 0)
		api_dms_respond(req, 200, &d);
}

/* Write the DM channel object of a row. */
static void
api_dms_gen_row(yajl_gen g, struct db_rows *rows)
{
	struct dm	d;

	api_dms_fill(rows, &d);
	api_dms_gen(g, &d);
}

/* GET /dms: the caller's DM channels, in id order. */
static void
api_dms_list(struct request *req)
{
	yajl_gen	g;

	g = json_gen_new();
	response_list(req, g, db_rows_json(g, db_query(&q_dms, "uu",
	    req->user_id, req->user_id), api_dms_gen_row));
}

/*
 * Append dm.create {dm} for one participant, scoped to that user: the
 * object names the other one as its recipient, so each participant gets
 * their own view (one event scoped to the DM could not be right for both).
 */
static int
api_dms_event(uint64_t viewer, uint64_t id)
{
	struct event_scope	scope;
	struct dm		d;
	yajl_gen		g;
	int			rc;

	if (api_dms_load(viewer, id, &d) != 1)
		return -1;
	memset(&scope, 0, sizeof scope);
	scope.user_id = viewer;
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "dm");
	api_dms_gen(g, &d);
	yajl_gen_map_close(g);
	rc = events_append("dm.create", &scope, g);
	yajl_gen_free(g);
	return rc;
}

/*
 * Get or create the DM channel of the caller and another user in one
 * transaction, with the dm.create events when it is new: its id, 1 if it
 * was created (0 if it existed), or -1.
 */
static int
api_dms_open(uint64_t self, uint64_t other, uint64_t *id)
{
	struct db_rows	*rows;
	uint64_t	 lo, hi;
	long long	 created;
	int		 rc;

	lo = self < other ? self : other;
	hi = self < other ? other : self;
	if (db_begin() == -1)
		return -1;
	if ((created = db_exec(&q_dm_insert, "uu", lo, hi)) == -1 ||
	    (rows = db_query(&q_dm_pair, "uu", lo, hi)) == NULL)
		goto fail;
	if ((rc = db_fetch(rows)) == 1)
		*id = db_u64(rows, 0);
	db_rows_free(rows);
	if (rc != 1)
		goto fail;
	if (created == 1 && (api_dms_event(self, *id) == -1 ||
	    api_dms_event(other, *id) == -1))
		goto fail;
	if (db_commit() == -1)
		return -1;
	return created == 1;
fail:
	db_rollback();
	return -1;
}

/* POST /dms {user_id}: 201 with a new DM channel, 200 with the existing. */
static void
api_dms_create(struct request *req)
{
	struct user	u;
	struct dm	d;
	uint64_t	other, id;
	int		rc;

	if (param_body(req) == -1 || (rc = param_id(req, "user_id",
	    &other)) == -1)
		return;
	if (rc == PARAM_ABSENT) {
		response_invalid(req, "user_id", "user_id is required");
		return;
	}
	if (other == req->user_id) {
		response_invalid(req, "user_id", "You cannot open a DM channel "
		    "with yourself");
		return;
	}
	if ((rc = users_by_id(other, &u)) == 0) {
		response_not_found(req, "user");
		return;
	}
	if (rc == -1 || (rc = api_dms_open(req->user_id, other, &id)) == -1 ||
	    api_dms_load(req->user_id, id, &d) != 1) {
		response_db_error(req);
		return;
	}
	api_dms_respond(req, rc == 1 ? 201 : 200, &d);
}

/*
 * /dms/{id}/messages…: the participants' conversation.  That the caller
 * takes part comes from the worker's cache (cache.c) when it is there.
 */
static void
api_dms_messages(struct request *req)
{
	struct conversation	c;
	struct dm		d;

	memset(&c, 0, sizeof c);
	c.dm_channel_id = req->ids[0];
	if (!cache_standing_get(req->user_id, CACHE_DM, c.dm_channel_id, NULL,
	    NULL)) {
		if (api_dms_require(req, &d) == -1)
			return;
		cache_standing_put(req->user_id, CACHE_DM, c.dm_channel_id, 0,
		    NULL);
	}
	api_messages_serve(req, &c);
}

const struct route api_dms_routes[] = {
	{ "POST", API_PREFIX "/dms", api_dms_create, ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms", api_dms_list, ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms/{id}", api_dms_get, ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms/{id}/messages", api_dms_messages,
	    ROUTE_AUTH },
	{ "POST", API_PREFIX "/dms/{id}/messages", api_dms_messages,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/dms/{id}/messages/{id}", api_dms_messages,
	    ROUTE_AUTH },
	{ "PATCH", API_PREFIX "/dms/{id}/messages/{id}", api_dms_messages,
	    ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/dms/{id}/messages/{id}", api_dms_messages,
	    ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
