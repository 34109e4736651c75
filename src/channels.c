/* SPDX-License-Identifier: ISC */
/*
 * channels.c: server channels: loading one, writing it as JSON with its
 * overwrites, and the access check every channel endpoint (messages
 * included) starts with: a channel the caller cannot view does not exist
 * for them, and what they may do there is their permissions in it.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define CHANNELS_COLUMNS	"id, server_id, name, created_at"

static struct db_stmt q_channel = DB_STMT(
    "SELECT " CHANNELS_COLUMNS " FROM channels WHERE id = ?");
static struct db_stmt q_channels = DB_STMT(
    "SELECT " CHANNELS_COLUMNS " FROM channels WHERE server_id = ?"
    " ORDER BY id");
/*
 * A channel with its server's standing of one user and the channel's
 * overwrites that apply to them: each role row with its role's overwrite,
 * and the member's own on every row.  The access check.
 */
static struct db_stmt q_channel_access = DB_STMT(
    "SELECT c.id, c.server_id, c.name, c.created_at, " PERM_COLUMNS ","
    " ro.allow_bits, ro.deny_bits, mo.allow_bits, mo.deny_bits"
    " FROM channels c JOIN servers s ON s.id = c.server_id" PERM_JOINS
    " LEFT JOIN channel_overwrites ro ON ro.channel_id = c.id"
    " AND ro.target_type = 0 AND ro.target_id = pr.id"
    " LEFT JOIN channel_overwrites mo ON mo.channel_id = c.id"
    " AND mo.target_type = 1 AND mo.target_id = pm.user_id"
    " WHERE c.id = ?");
#define CHANNELS_ACCESS_PERM	4	/* the first of PERM_COLUMNS */
#define CHANNELS_ACCESS_OVERWRITES 9	/* the first overwrite column */
static struct db_stmt q_insert_channel = DB_STMT(
    "INSERT INTO channels (server_id, name) VALUES (?, ?)");

/* Fill a struct channel from a row of CHANNELS_COLUMNS. */
static void
channels_fill(struct db_rows *rows, void *out)
{
	struct channel	*c = out;

	memset(c, 0, sizeof *c);
	c->id = db_u64(rows, 0);
	c->server_id = db_u64(rows, 1);
	db_copy(c->name, sizeof c->name, rows, 2);
	db_copy(c->created_at, sizeof c->created_at, rows, 3);
}

/*
 * Write a channel object {id, server_id, name, created_at, overwrites}
 * with its n overwrites (in the contract's order).
 */
void
channels_gen(yajl_gen g, const struct channel *c, const struct overwrite *o,
    size_t n)
{
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", c->id);
	json_gen_kid(g, "server_id", c->server_id);
	json_gen_kstr(g, "name", c->name);
	json_gen_ktime(g, "created_at", c->created_at);
	json_gen_key(g, "overwrites");
	overwrites_gen(g, o, n);
	yajl_gen_map_close(g);
}

/* A new generator holding a channel object, or NULL (gone, or an error). */
yajl_gen
channels_json(uint64_t id)
{
	struct channel	 c;
	struct overwrite *o;
	yajl_gen	 g;
	long		 n;

	if (db_fetch_one(db_query(&q_channel, "u", id), channels_fill,
	    &c) != 1 || (n = overwrites_load(id, &o)) == -1)
		return NULL;
	g = json_gen_new();
	channels_gen(g, &c, o, (size_t)n);
	free(o);
	return g;
}

/*
 * Load a server's channels in id order into *out (the caller frees it):
 * their number, or -1.
 */
long
channels_load_all(uint64_t server_id, struct channel **out)
{
	struct db_rows	*rows;
	long		 n = 0;
	int		 rc;

	*out = NULL;
	if ((rows = db_query(&q_channels, "u", server_id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		*out = xreallocarray(*out, n + 1, sizeof **out);
		channels_fill(rows, &(*out)[n++]);
	}
	db_rows_free(rows);
	if (rc == -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return n;
}

/* Insert a channel; its id, or 0 on a database error. */
uint64_t
channels_insert(uint64_t server_id, const char *name)
{
	if (db_exec(&q_insert_channel, "us", server_id, name) != 1)
		return 0;
	return db_insert_id();
}

/*
 * Load a channel and a user's standing there (m->perms: their permissions
 * in the channel): 1, 0 when there is no such channel or they may not
 * view it, -1 on a database error.
 */
static int
channels_load_access(uint64_t user_id, uint64_t channel_id,
    struct member *m, struct channel *c)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_channel_access, "uu", user_id,
	    channel_id)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1) {
		channels_fill(rows, c);
		perm_init(m, c->server_id, user_id);
		rc = perm_read_channel(rows, CHANNELS_ACCESS_PERM,
		    CHANNELS_ACCESS_OVERWRITES, m);
	}
	db_rows_free(rows);
	if (rc == 1 && !perm_has(m, PERM_VIEW_CHANNELS))
		rc = 0;
	return rc;
}

/* Answer the failure of channels_load_access(): 500/503 or 404. */
static int
channels_refuse(struct request *req, int rc)
{
	if (rc == -1)
		response_db_error(req);
	else
		response_not_found(req, "channel");
	return -1;
}

/*
 * Load a channel and the caller's standing in it, and check need: 0, or
 * -1 with 404 (no such channel, not a member of its server, or not
 * allowed to view it), 403 missing_permission or 500/503 answered.
 */
int
channels_require(struct request *req, uint64_t channel_id, uint32_t need,
    struct member *m, struct channel *c)
{
	int	rc;

	if ((rc = channels_load_access(req->user_id, channel_id, m, c)) != 1)
		return channels_refuse(req, rc);
	return perm_check(req, m, need);
}

/*
 * The access check of a server channel from the caller's standing in the
 * worker's cache when it is no older than age (cache_standing_get()).
 */
static int
channels_access_cached(struct request *req, uint64_t channel_id,
    uint32_t need, int age, struct member *m, uint64_t *server_id)
{
	struct channel	c;
	int		rc;

	if (!cache_standing_get(req->user_id, CACHE_CHANNEL, channel_id, age,
	    &c.server_id, m)) {
		if ((rc = channels_load_access(req->user_id, channel_id, m,
		    &c)) != 1)
			return channels_refuse(req, rc);
		cache_standing_put(req->user_id, CACHE_CHANNEL, channel_id,
		    c.server_id, m);
	}
	if (perm_check(req, m, need) == -1)
		return -1;
	if (server_id != NULL)
		*server_id = c.server_id;
	return 0;
}

/*
 * The access check of a server channel for endpoints that only need its
 * server's id (the messages): as channels_require(), with the caller's
 * standing from the worker's cache (cache.c) when it is there.
 */
int
channels_access(struct request *req, uint64_t channel_id, uint32_t need,
    struct member *m, uint64_t *server_id)
{
	return channels_access_cached(req, channel_id, need, CACHE_FRESH, m,
	    server_id);
}

/*
 * The same for a request whose own transaction checks the membership and
 * the channel again (an ack, readstate_ack_many()): the standing may be
 * as old as a kept one (CACHE_KEPT), so that acks, which come
 * as a user reads, seconds after the page that cached it, cost no
 * statement for their check.  What a change by hand in the database can
 * leave unseen that long is a permission (a role's, an overwrite).
 */
int
channels_access_kept(struct request *req, uint64_t channel_id, uint32_t need,
    struct member *m, uint64_t *server_id)
{
	return channels_access_cached(req, channel_id, need, CACHE_KEPT, m,
	    server_id);
}
