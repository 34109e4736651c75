/* SPDX-License-Identifier: ISC */
/*
 * events.c: the event log.  Every change appends its event inside the
 * transaction that makes the change, so the two commit or vanish together;
 * once the transaction has committed, its events are published to the hub
 * so that parked polls wake.  Also the reads the polls make, and the
 * retention job.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define EVENTS_TXN_MAX	256	/* announced per transaction; more wake all */
#define PRUNE_BATCH	1000

static struct db_stmt q_event_insert = DB_STMT(
    "INSERT INTO events (seq, type, server_id, channel_id, dm_channel_id,"
    " user_id, data, audience) VALUES (?, ?, NULLIF(?, 0), NULLIF(?, 0),"
    " NULLIF(?, 0), NULLIF(?, 0), ?, ?)");
/*
 * The events that carry a message (sql/007_event_privacy.sql): its
 * message.create, found forward from the message id by the primary key
 * (its seq is drawn a few numbers after the id) and no further than the
 * first event written ten minutes after the message; and its
 * message.update events, which message_updates lists as they are written.
 * The sends pay nothing for either.
 */
static struct db_stmt q_event_bound = DB_STMT(
    "SELECT seq FROM events WHERE created_at > ? + INTERVAL 10 MINUTE"
    " ORDER BY created_at LIMIT 1");
static struct db_stmt q_event_create_of = DB_STMT(
    "SELECT seq FROM events WHERE seq > ? AND seq <= ?"
    " AND type = 'message.create'"
    " AND CAST(JSON_VALUE(data, '$.message.id') AS UNSIGNED) = ?"
    " ORDER BY seq LIMIT 1");
static struct db_stmt q_event_rewrite_seq = DB_STMT(
    "UPDATE events SET data = ? WHERE seq = ?");
static struct db_stmt q_event_rewrite_updates = DB_STMT(
    "UPDATE events e JOIN message_updates u ON u.seq = e.seq"
    " SET e.data = ? WHERE u.message_id = ?");
/*
 * Events of one type from a JSON array of {s: seq, sv, sc, sd: the
 * scope's server, channel and DM channel ids (0: none), d: the data as
 * a JSON text}, written by events_append_many().
 */
static struct db_stmt q_event_insert_many = DB_STMT(
    "INSERT INTO events (seq, type, server_id, channel_id, dm_channel_id,"
    " user_id, data) SELECT j.s, ?, NULLIF(j.sv, 0), NULLIF(j.sc, 0),"
    " NULLIF(j.sd, 0), NULLIF(j.su, 0), j.d FROM JSON_TABLE(?, '$[*]'"
    " COLUMNS (s BIGINT UNSIGNED PATH '$.s', sv BIGINT UNSIGNED PATH '$.sv',"
    " sc BIGINT UNSIGNED PATH '$.sc', sd BIGINT UNSIGNED PATH '$.sd',"
    " su BIGINT UNSIGNED PATH '$.su',"
    " d MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$.d'))"
    " AS j");
static struct db_stmt q_update_note = DB_STMT(
    "INSERT INTO message_updates (message_id, seq) VALUES (?, ?)");
static struct db_stmt q_updates_prune = DB_STMT(
    "DELETE FROM message_updates WHERE seq <= ?");
/*
 * The text of the message events of an author's deleted messages in a
 * server, after a seq (a sweep's first message id): one statement for a
 * step of a ban's sweep, where a rewrite per message would read the same
 * later events once for each (sql/007_event_privacy.sql erased the text
 * of the messages deleted before it the same way).
 */
static struct db_stmt q_event_erase_author = DB_STMT(
    "UPDATE events e JOIN messages m"
    " ON m.id = CAST(JSON_VALUE(e.data, '$.message.id') AS UNSIGNED)"
    " SET e.data = JSON_REPLACE(e.data, '$.message.content', '')"
    " WHERE e.seq > ? AND e.server_id = ?"
    " AND e.type IN ('message.create', 'message.update')"
    " AND m.author_id = ? AND m.deleted = 1"
    " AND JSON_VALUE(e.data, '$.message.content') <> ''");
static struct db_stmt q_event_range = DB_STMT(
    "SELECT seq, type, COALESCE(server_id, 0), COALESCE(channel_id, 0),"
    " COALESCE(dm_channel_id, 0), COALESCE(user_id, 0), data, audience"
    " FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?");
static struct db_stmt q_pruned = DB_STMT(
    "SELECT pruned_upto FROM event_retention WHERE id = 1");
static struct db_stmt q_prune_edge = DB_STMT(
    "SELECT MAX(seq) FROM (SELECT seq FROM events WHERE created_at <"
    " NOW(3) - INTERVAL ? DAY ORDER BY seq LIMIT 1000) AS old");
static struct db_stmt q_prune_mark = DB_STMT(
    "UPDATE event_retention SET pruned_upto = GREATEST(pruned_upto, ?)"
    " WHERE id = 1");
static struct db_stmt q_prune = DB_STMT(
    "DELETE FROM events WHERE seq <= ?");

static struct hub_entry	 txn_entries[EVENTS_TXN_MAX];
static size_t		 txn_count;
static int		 txn_overflowed;	/* more than the array holds */
static uint64_t		 txn_overflow;	/* largest seq past the array */

/*
 * Remember an entry to announce once its transaction commits.  Past the
 * array, one entry matching everything (at the largest seq) stands for
 * the rest.
 */
static void
events_remember(uint64_t seq, uint64_t flags, const struct event_scope *scope)
{
	struct hub_entry	*e;

	if (txn_count == EVENTS_TXN_MAX) {
		txn_overflowed = 1;
		if (seq > txn_overflow)
			txn_overflow = seq;
		return;
	}
	e = &txn_entries[txn_count++];
	e->seq = seq;
	e->flags = flags;
	e->server_id = scope->server_id;
	e->channel_id = scope->channel_id;
	e->dm_channel_id = scope->dm_channel_id;
	e->user_id = scope->user_id;
}

/*
 * The event types after which someone may read less than before: the
 * polls they concern ask again what their user may see (poll.c).
 */
static const char *const events_access_types[] = {
	"member.leave", "member.update", "role.update", "role.delete",
	"channel.update", "channel.delete", "server.delete", NULL
};

/*
 * The event types after which someone may see more or less of a server
 * than before: the copies of its roles and overwrites that the polls
 * judge by (access.c) are read again before such an event is judged.
 */
static const char *const events_scope_types[] = {
	"role.create", "role.update", "role.delete", "channel.create",
	"channel.update", "channel.delete", NULL
};

/* Whether an event of a type may change who sees what in its server. */
int
events_changes_access(const char *type)
{
	size_t	i;

	for (i = 0; events_scope_types[i] != NULL; i++) {
		if (strcmp(type, events_scope_types[i]) == 0)
			return 1;
	}
	return 0;
}

/*
 * The hub flags of an event type: HUB_MESSAGE for message.* and
 * reaction.* events (they change history, never who sees what),
 * HUB_READ for read_state.update, HUB_USER for the internal account
 * change, HUB_ACCESS for a change that may take access away.
 */
uint64_t
events_flags(const char *type)
{
	size_t	i;

	if (strncmp(type, "message.", 8) == 0 ||
	    strncmp(type, "reaction.", 9) == 0)
		return HUB_MESSAGE;
	if (strcmp(type, "read_state.update") == 0)
		return HUB_READ;
	if (events_internal(type))
		return HUB_USER | HUB_ACCESS;
	for (i = 0; events_access_types[i] != NULL; i++) {
		if (strcmp(type, events_access_types[i]) == 0)
			return HUB_ACCESS;
	}
	return 0;
}

/* Whether an event type is sohbet's own, never shown to a client. */
int
events_internal(const char *type)
{
	return strcmp(type, EVENTS_ACCOUNT) == 0;
}

/*
 * Append, inside the caller's transaction, that a user's account changed
 * (name, email, password, token generation).  It is no event of the API,
 * but every host must hear of it: the workers' caches of that user
 * (cache.c) must go, and polls parked with a token it revoked must be
 * answered 401.  The cluster watcher (keeper.c) reads it from the table
 * like any event.  0 or -1.
 */
int
events_user_changed(uint64_t user_id)
{
	struct event_scope	 scope = { .user_id = user_id };
	yajl_gen		 g;
	int			 rc;

	g = json_gen_new();
	yajl_gen_map_open(g);
	yajl_gen_map_close(g);
	rc = events_append(EVENTS_ACCOUNT, &scope, g);
	yajl_gen_free(g);
	return rc;
}

/*
 * Draw the seq of an event of a type, visible to the scope, that the
 * caller's own statement writes in the open transaction (messages.c's
 * one-call send), and announce it with the commit.  0 or -1.
 */
int
events_reserve(const char *type, const struct event_scope *scope,
    uint64_t *seq)
{
	if (sequencer_next(seq) == -1)
		return -1;
	events_remember(*seq, events_flags(type), scope);
	return 0;
}

/*
 * The audience column of a scope: its user ids as 8-byte little-endian
 * numbers (sql/010_overwrites.sql), in a new buffer; NULL for none.
 */
static char *
events_pack_audience(const struct event_scope *scope)
{
	unsigned char	*out;
	size_t		 i, b;

	if (scope->audience == NULL)
		return NULL;
	out = xreallocarray(NULL, scope->naudience + 1, EVENTS_AUDIENCE_ID);
	for (i = 0; i < scope->naudience; i++) {
		for (b = 0; b < EVENTS_AUDIENCE_ID; b++)
			out[i * EVENTS_AUDIENCE_ID + b] =
			    (unsigned char)(scope->audience[i] >> (8 * b));
	}
	return (char *)out;
}

/* The i-th user id of an audience column. */
uint64_t
events_audience_id(const char *audience, size_t i)
{
	const unsigned char	*p = (const unsigned char *)audience +
				    i * EVENTS_AUDIENCE_ID;
	uint64_t		 id = 0;
	size_t			 b;

	for (b = EVENTS_AUDIENCE_ID; b > 0; b--)
		id = id << 8 | p[b - 1];
	return id;
}

/* Whether an audience column of len bytes names user_id. */
int
events_audience_has(const char *audience, size_t len, uint64_t user_id)
{
	size_t		lo = 0, hi = len / EVENTS_AUDIENCE_ID, mid;
	uint64_t	id;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((id = events_audience_id(audience, mid)) == user_id)
			return 1;
		if (id < user_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/*
 * Append an event of a type, visible to the scope, with data (a generator
 * holding one JSON object), inside the caller's transaction; its seq in
 * *out unless out is NULL.
 */
int
events_append_seq(const char *type, const struct event_scope *scope,
    yajl_gen data, uint64_t *out)
{
	const char	*text;
	char		*audience;
	size_t		 len;
	uint64_t	 seq;
	long long	 n;

	if (events_reserve(type, scope, &seq) == -1)
		return -1;
	text = json_gen_text(data, &len);
	audience = events_pack_audience(scope);
	n = db_exec(&q_event_insert, "usuuuubb", seq, type, scope->server_id,
	    scope->channel_id, scope->dm_channel_id, scope->user_id, text,
	    len, audience, scope->naudience * EVENTS_AUDIENCE_ID);
	free(audience);
	if (n != 1)
		return -1;
	if (out != NULL)
		*out = seq;
	return 0;
}

/* Append an event (events_append_seq() without the seq). */
int
events_append(const char *type, const struct event_scope *scope,
    yajl_gen data)
{
	return events_append_seq(type, scope, data, NULL);
}

/* Write an id as a decimal string, 0 included (JSON_TABLE reads it). */
static void
events_kid(yajl_gen g, const char *key, uint64_t id)
{
	json_gen_key(g, key);
	json_gen_id_or_zero(g, id);
}

/*
 * Append n events of one type, event i visible to scopes[i] with data[i]
 * (no audience), inside the caller's transaction, with one statement.
 * 0 or -1.
 */
int
events_append_many(const char *type, const struct event_scope *scopes,
    yajl_gen *data, size_t n)
{
	const char	*text;
	size_t		 len, i;
	uint64_t	 seq;
	yajl_gen	 g;
	long long	 rc;

	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		if (events_reserve(type, &scopes[i], &seq) == -1) {
			yajl_gen_free(g);
			return -1;
		}
		text = json_gen_text(data[i], &len);
		yajl_gen_map_open(g);
		events_kid(g, "s", seq);
		events_kid(g, "sv", scopes[i].server_id);
		events_kid(g, "sc", scopes[i].channel_id);
		events_kid(g, "sd", scopes[i].dm_channel_id);
		events_kid(g, "su", scopes[i].user_id);
		json_gen_key(g, "d");
		yajl_gen_string(g, (const unsigned char *)text, len);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	text = json_gen_text(g, &len);
	rc = db_exec(&q_event_insert_many, "sb", type, text, len);
	yajl_gen_free(g);
	return rc == (long long)n ? 0 : -1;
}

/*
 * Note, in the caller's transaction, that the event at seq is a
 * message.update of a message, for events_rewrite_message().  0 or -1.
 */
int
events_note_update(uint64_t message_id, uint64_t seq)
{
	return db_exec(&q_update_note, "uu", message_id, seq) == 1 ? 0 : -1;
}

/*
 * The seq of a message's message.create event, if it is still kept: 1
 * (in *seq), 0 when it is gone (pruned), -1.  created_at is the
 * message's.
 */
static int
events_create_of(uint64_t message_id, const char *created_at, uint64_t *seq)
{
	struct db_rows	*rows;
	uint64_t	 bound = UINT64_MAX;
	int		 rc;

	if ((rows = db_query(&q_event_bound, "s", created_at)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1)
		bound = db_u64(rows, 0);
	db_rows_free(rows);
	if (rc == -1 || (rows = db_query(&q_event_create_of, "uuu",
	    message_id, bound, message_id)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1)
		*seq = db_u64(rows, 0);
	db_rows_free(rows);
	return rc;
}

/*
 * Replace the data of the message.create and message.update events of a
 * message (created at created_at), inside the caller's transaction, with
 * data ({message} as it is now): after an edit or a delete, no older
 * event tells the text it had before (API.md, Messages).  The number of
 * events rewritten, or -1.
 */
long long
events_rewrite_message(uint64_t message_id, const char *created_at,
    yajl_gen data)
{
	const char	*text;
	size_t		 len;
	uint64_t	 seq;
	long long	 n = 0, updates;
	int		 rc;

	text = json_gen_text(data, &len);
	if ((rc = events_create_of(message_id, created_at, &seq)) == -1 ||
	    (rc == 1 && (n = db_exec(&q_event_rewrite_seq, "bu", text, len,
	    seq)) == -1))
		return -1;
	if ((updates = db_exec(&q_event_rewrite_updates, "bu", text, len,
	    message_id)) == -1)
		return -1;
	return n + updates;
}

/*
 * Erase the text from the message.create and message.update events,
 * after seq after, of every deleted message of an author in a server,
 * inside the caller's transaction.  The number of events rewritten, or
 * -1.
 */
long long
events_erase_author(uint64_t server_id, uint64_t author_id, uint64_t after)
{
	return db_exec(&q_event_erase_author, "uuu", after, server_id,
	    author_id);
}

/*
 * Called by db.c once a transaction has committed (1) or not (0): finish
 * its sequence numbers, then announce what committed.  Finishing first
 * means the watermark already covers the events when the workers wake.
 */
static void
events_txn_end(int committed)
{
	struct hub_entry	any = { .server_id = HUB_ANY,
				    .channel_id = HUB_ANY,
				    .dm_channel_id = HUB_ANY, .user_id = HUB_ANY };
	int			later;

	later = sequencer_txn_end();
	if (committed && txn_overflowed) {
		/* Too many to list: one entry that matches every poll. */
		any.seq = txn_overflow;
		hub_publish(&any, 1);
	} else if (committed && txn_count > 0)
		hub_publish(txn_entries, txn_count);
	else if (later)
		hub_wake_all();
	txn_count = 0;
	txn_overflowed = 0;
	txn_overflow = 0;
}

/*
 * Hear of the end of every transaction of this process, to publish its
 * events: a worker calls this before its first transaction.
 */
void
events_init(void)
{
	db_on_txn_end(events_txn_end);
}

/*
 * Read events with seq in (after, upto], oldest first, at most limit.
 * The caller fetches rows (seq, type, server_id, channel_id,
 * dm_channel_id, user_id, data) and frees them.
 */
struct db_rows *
events_read(uint64_t after, uint64_t upto, long limit)
{
	return db_query(&q_event_range, "uui", after, upto, (long long)limit);
}

/* Read one number from a one-value query; -1 on error. */
static int
events_scalar(struct db_stmt *q, uint64_t *out)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(q, "")) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1)
		*out = db_u64(rows, 0);
	db_rows_free(rows);
	return rc == 1 ? 0 : -1;
}

/* The cursor a new client starts from: everything up to it is visible. */
int
events_head(uint64_t *out)
{
	*out = sequencer_visible();
	return 0;
}

/* The largest number drawn so far: a cursor above it is from the future. */
int
events_last(uint64_t *out)
{
	return sequencer_last(out);
}

/*
 * events_last() read once this database node has applied every commit
 * the cluster made before now (db_sync_wait()): what a cursor another
 * node gave out may be ahead of until then.  Off a cluster, the same.
 */
int
events_last_synced(uint64_t *out)
{
	int	rc;

	if (db_sync_wait(1) == -1)
		return -1;
	rc = events_last(out);
	if (db_sync_wait(0) == -1)
		rc = -1;
	return rc;
}

/* The highest seq the retention job deleted. */
int
events_pruned(uint64_t *out)
{
	return events_scalar(&q_pruned, out);
}

/*
 * Delete one batch of events older than the retention period; the number
 * deleted, or -1.  The mark is raised first, in the same transaction, so
 * no poll can read past a gap unknowingly.
 */
long long
events_prune(void)
{
	struct db_rows	*rows;
	uint64_t	 edge = 0;
	long long	 n;

	if ((rows = db_query(&q_prune_edge, "d", cfg->retention_days)) ==
	    NULL)
		return -1;
	if (db_fetch(rows) == 1 && !db_is_null(rows, 0))
		edge = db_u64(rows, 0);
	db_rows_free(rows);
	if (edge == 0)
		return 0;
	if (db_begin() == -1)
		return -1;
	if (db_exec(&q_prune_mark, "u", edge) == -1 ||
	    (n = db_exec(&q_prune, "u", edge)) == -1 ||
	    db_exec(&q_updates_prune, "u", edge) == -1 || db_commit() == -1) {
		db_rollback();
		return -1;
	}
	return n;
}
