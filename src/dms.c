/* SPDX-License-Identifier: ISC */
/*
 * dms.c: the rows of direct-message channels (API.md, Direct messages):
 * one DM channel per pair of users (dm_channels keeps the smaller id
 * first, under a unique key), loaded as one participant sees it, listed,
 * and opened (got or created, with a dm.create event for each of the
 * two).  api-dms.c serves them.
 */
#include <string.h>

#include "sohbet.h"

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
dms_fill(struct db_rows *rows, void *out)
{
	struct dm	*d = out;

	memset(d, 0, sizeof *d);
	d->id = db_u64(rows, 0);
	d->recipient_id = db_u64(rows, 1);
	db_copy(d->recipient, sizeof d->recipient, rows, 2);
	db_copy(d->created_at, sizeof d->created_at, rows, 3);
}

/* Write a DM channel object {id, recipient, created_at}. */
void
dms_gen(yajl_gen g, const struct dm *d)
{
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", d->id);
	json_gen_key(g, "recipient");
	users_gen_public(g, d->recipient_id, d->recipient);
	json_gen_ktime(g, "created_at", d->created_at);
	yajl_gen_map_close(g);
}

/* Load a DM channel as the viewer sees it: 1, 0 (not theirs) or -1. */
int
dms_load(uint64_t viewer, uint64_t id, struct dm *d)
{
	return db_fetch_one(db_query(&q_dm, "uuuu", viewer, id, viewer,
	    viewer), dms_fill, d);
}

/* Write the DM channel object of a row. */
static void
dms_gen_row(yajl_gen g, struct db_rows *rows)
{
	struct dm	d;

	dms_fill(rows, &d);
	dms_gen(g, &d);
}

/*
 * Append dm.create {dm} for one participant, scoped to that user: the
 * object names the other one as its recipient, so each participant gets
 * their own view (one event scoped to the DM could not be right for both).
 */
static int
dms_event(uint64_t viewer, uint64_t id)
{
	struct event_scope	scope;
	struct dm		d;
	yajl_gen		g;
	int			rc;

	if (dms_load(viewer, id, &d) != 1)
		return -1;
	memset(&scope, 0, sizeof scope);
	scope.user_id = viewer;
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "dm");
	dms_gen(g, &d);
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
int
dms_open(uint64_t self, uint64_t other, uint64_t *id)
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
	if (created == 1 && (dms_event(self, *id) == -1 ||
	    dms_event(other, *id) == -1))
		goto fail;
	if (db_commit() == -1)
		return -1;
	return created == 1;
fail:
	db_rollback();
	return -1;
}


/* Write a user's DM channels as an array, in id order; 0 or -1. */
int
dms_list(uint64_t user_id, yajl_gen g)
{
	return db_rows_json(g, db_query(&q_dms, "uu", user_id, user_id),
	    dms_gen_row);
}
