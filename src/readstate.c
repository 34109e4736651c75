/* SPDX-License-Identifier: ISC */
/*
 * readstate.c: how far a user has read each conversation (API.md,
 * Mentions and read state), counted on read: nothing is written per
 * recipient when a message is sent.
 *
 * A user's read position in a conversation is the highest of
 *   - what they acknowledged (channel_read_states / dm_read_states,
 *     written only by an ack, and only forward);
 *   - their own newest message there (a send marks the author's read
 *     state without writing it: messages_author finds it);
 *   - in a server channel, server_members.joined_seq: ids come from one
 *     sequence, so the number drawn at the join is "the last message
 *     before you joined" for every channel of the server, channels
 *     created later included (none of their messages is older).
 * The unread and mention counts are range scans of the conversation's
 * index and of message_mentions_count newer than that position, which
 * stop at READSTATE_COUNT_MAX (sql/013_read_state.sql).
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define READSTATE_COUNT_MAX	100	/* "100 or more" */

/* The conversation kinds, as indexes of the statements. */
#define READSTATE_CHANNEL	0
#define READSTATE_DM		1

/*
 * The channels of a user's servers, with their server and the user's
 * joined_seq there, ordered by server then channel; which of them the
 * user may view is access.c's to judge (readstate_visible_channels()).
 */
static struct db_stmt q_member_channels = DB_STMT(
    "SELECT c.server_id, c.id, sm.joined_seq FROM server_members sm"
    " JOIN channels c ON c.server_id = sm.server_id"
    " WHERE sm.user_id = ? ORDER BY c.server_id, c.id");

/*
 * The author's newest message in a conversation and the newest message
 * that is not deleted: each walks its index backwards and stops at the
 * first row (messages_author, messages_channel / messages_dm_channel).
 */
#define READSTATE_OWN_CHANNEL(c) \
	"COALESCE((SELECT o.id FROM messages o WHERE o.author_id = ?" \
	" AND o.channel_id = " c " AND o.dm_channel_id IS NULL" \
	" ORDER BY o.id DESC LIMIT 1), 0)"
#define READSTATE_OWN_DM(d) \
	"COALESCE((SELECT o.id FROM messages o WHERE o.author_id = ?" \
	" AND o.channel_id IS NULL AND o.dm_channel_id = " d \
	" ORDER BY o.id DESC LIMIT 1), 0)"
#define READSTATE_LAST(col, id) \
	"(SELECT l.id FROM messages l WHERE l." col " = " id \
	" AND l.deleted = 0 ORDER BY l.id DESC LIMIT 1)"
/* The oldest message of a conversation: the first entry of its index. */
#define READSTATE_FIRST(col, id) \
	"(SELECT f.id FROM messages f WHERE f." col " = " id \
	" ORDER BY f.id LIMIT 1)"
/* The newest message, deleted or not: the last entry of its index. */
#define READSTATE_NEWEST(col, id) \
	"COALESCE((SELECT MAX(n.id) FROM messages n WHERE n." col " = " id \
	"), 0)"

/*
 * The positions of channels given as [[channel_id, joined_seq], ...]:
 * channel id, read position, newest message, oldest message (user, user,
 * channels).
 */
static struct db_stmt q_channel_positions = DB_STMT(
    "SELECT j.c, GREATEST(j.f, COALESCE(r.last_read_id, 0), "
    READSTATE_OWN_CHANNEL("j.c") "), " READSTATE_LAST("channel_id", "j.c")
    ", " READSTATE_FIRST("channel_id", "j.c")
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (ord FOR ORDINALITY,"
    " c BIGINT UNSIGNED PATH '$[0]', f BIGINT UNSIGNED PATH '$[1]')) j"
    " LEFT JOIN channel_read_states r ON r.user_id = ? AND r.channel_id = j.c"
    " ORDER BY j.ord");
/* The positions of a user's DMs (user, user, user, user), by id. */
static struct db_stmt q_dm_positions = DB_STMT(
    "SELECT d.id, GREATEST(COALESCE(r.last_read_id, 0), "
    READSTATE_OWN_DM("d.id") "), " READSTATE_LAST("dm_channel_id", "d.id")
    ", " READSTATE_FIRST("dm_channel_id", "d.id")
    " FROM (SELECT id FROM dm_channels WHERE user1_id = ?"
    " UNION ALL SELECT id FROM dm_channels WHERE user2_id = ?) d"
    " LEFT JOIN dm_read_states r ON r.user_id = ? AND r.dm_channel_id = d.id"
    " ORDER BY d.id");
/*
 * The position of one channel of a member, and its newest message
 * (user, user, channel).
 */
static struct db_stmt q_channel_position = DB_STMT(
    "SELECT c.id, GREATEST(sm.joined_seq, COALESCE(r.last_read_id, 0), "
    READSTATE_OWN_CHANNEL("c.id") "), " READSTATE_LAST("channel_id", "c.id")
    ", " READSTATE_FIRST("channel_id", "c.id")
    ", " READSTATE_NEWEST("channel_id", "c.id")
    " FROM channels c JOIN server_members sm ON sm.server_id = c.server_id"
    " AND sm.user_id = ?"
    " LEFT JOIN channel_read_states r ON r.user_id = sm.user_id"
    " AND r.channel_id = c.id WHERE c.id = ?");
/* The same of one DM of a participant (user, user, DM). */
static struct db_stmt q_dm_position = DB_STMT(
    "SELECT d.id, GREATEST(COALESCE(r.last_read_id, 0), "
    READSTATE_OWN_DM("d.id") "), " READSTATE_LAST("dm_channel_id", "d.id")
    ", " READSTATE_FIRST("dm_channel_id", "d.id")
    ", " READSTATE_NEWEST("dm_channel_id", "d.id")
    " FROM dm_channels d LEFT JOIN dm_read_states r ON r.user_id = ?"
    " AND r.dm_channel_id = d.id WHERE d.id = ?");

/*
 * The counts of a conversation above a position, each stopping at
 * READSTATE_COUNT_MAX: others' messages that are not deleted, read from
 * the conversation's index alone (it carries author_id and deleted); and
 * in a server channel those that mention the user (by name, by a role
 * they hold, or everyone), from message_mentions_count (the author is in
 * it; a deleted message has no rows).  In a DM every message of the
 * other participant mentions you: one count serves both.  The two counts
 * of a channel are two rows of a UNION ALL, each tagged with what it
 * counts (0 unread, 1 mentions), which costs MariaDB half of what the
 * same counts as two scalar subqueries of one row did.
 */
#define READSTATE_UNREAD(col) \
	"SELECT 0, COUNT(*) FROM (SELECT 1 FROM messages FORCE INDEX" \
	" (messages_" col ") WHERE " col "_id = ? AND id > ? AND deleted = 0" \
	" AND author_id <> ? ORDER BY id LIMIT 100) u"
static struct db_stmt q_counts[] = {
	DB_STMT(READSTATE_UNREAD("channel") " UNION ALL"
	    " SELECT 1, COUNT(*) FROM (SELECT DISTINCT mm.message_id"
	    " FROM message_mentions mm WHERE mm.channel_id = ?"
	    " AND mm.message_id > ? AND mm.author_id <> ?"
	    " AND ((mm.kind = 0 AND mm.target_id = 0)"
	    " OR (mm.kind = 1 AND mm.target_id = ?)"
	    " OR (mm.kind = 2 AND mm.target_id IN (SELECT mr.role_id"
	    " FROM server_member_roles mr WHERE mr.server_id = ?"
	    " AND mr.user_id = ?))) LIMIT 100) x"),
	DB_STMT(READSTATE_UNREAD("dm_channel")),
};

/* Acknowledge: the stored position moves only forward. */
static struct db_stmt q_ack[] = {
	DB_STMT("INSERT INTO channel_read_states (user_id, channel_id,"
	    " last_read_id) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE"
	    " last_read_id = GREATEST(last_read_id, VALUES(last_read_id))"),
	DB_STMT("INSERT INTO dm_read_states (user_id, dm_channel_id,"
	    " last_read_id) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE"
	    " last_read_id = GREATEST(last_read_id, VALUES(last_read_id))"),
};

/* A list of read states. */
struct readstate_list {
	struct read_state	*v;
	size_t			 n;
	size_t			 cap;
};

/* The index of the statements for a conversation's kind. */
static int
readstate_kind(const struct conversation *c)
{
	return c->channel_id != 0 ? READSTATE_CHANNEL : READSTATE_DM;
}

/* Write a read state object. */
void
readstate_gen(yajl_gen g, const struct read_state *rs)
{
	yajl_gen_map_open(g);
	json_gen_kid(g, "channel_id", rs->channel_id);
	json_gen_kid(g, "dm_channel_id", rs->dm_channel_id);
	json_gen_kid(g, "server_id", rs->server_id);
	json_gen_kid(g, "last_read_id", rs->last_read_id);
	json_gen_kid(g, "last_message_id", rs->last_message_id);
	json_gen_kint(g, "unread_count", rs->unread_count);
	json_gen_kint(g, "mention_count", rs->mention_count);
	yajl_gen_map_close(g);
}

/* Append an empty read state to a list; it is the list's. */
static struct read_state *
readstate_push(struct readstate_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	return &l->v[l->n++];
}

/*
 * Keep, of the read states of l (ordered by server), those of channels
 * the user may view, judged by the worker's copy of each server's roles
 * and overwrites (access.c) and the user's roles there.  0 or -1.
 */
static int
readstate_keep_viewable(uint64_t user_id, struct readstate_list *l)
{
	const struct access_server	*sa = NULL;
	struct access_member		 am;
	uint64_t			 server_id = 0;
	size_t				 i, kept = 0;
	int				 rc = 0;

	memset(&am, 0, sizeof am);
	for (i = 0; i < l->n && rc != -1; i++) {
		if (l->v[i].server_id != server_id) {
			server_id = l->v[i].server_id;
			free(am.roles);
			if ((rc = access_member_load(server_id, user_id,
			    &am)) == 1)
				rc = access_cached(server_id, 0, &sa);
		}
		if (rc == 1 && access_may_view(sa, &am, l->v[i].channel_id))
			l->v[kept++] = l->v[i];
	}
	free(am.roles);
	l->n = kept;
	return rc == -1 ? -1 : 0;
}

/*
 * The channels a user can view, as read states holding their server and
 * channel ids and, as their position so far, the user's joined_seq:
 * ordered by server then channel; 0 or -1.  The one place that answers
 * "which channels can this user view" for read states.
 */
static int
readstate_visible_channels(uint64_t user_id, struct readstate_list *l)
{
	struct read_state	*rs;
	struct db_rows		*rows;
	int			 rc;

	if ((rows = db_query(&q_member_channels, "u", user_id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		rs = readstate_push(l);
		rs->server_id = db_u64(rows, 0);
		rs->channel_id = db_u64(rows, 1);
		rs->last_read_id = db_u64(rows, 2);
	}
	db_rows_free(rows);
	if (rc == -1)
		return -1;
	return readstate_keep_viewable(user_id, l);
}

/*
 * Read a position row (id, position, newest message, oldest message)
 * into rs.  A position below the conversation's first message (a channel
 * created after the join, a DM never read) is "nothing read": 0.
 */
static void
readstate_read_position(struct db_rows *rows, struct read_state *rs)
{
	uint64_t	first = db_u64(rows, 3);

	rs->last_read_id = db_u64(rows, 1);
	rs->last_message_id = db_u64(rows, 2);
	if (first == 0 || first > rs->last_read_id)
		rs->last_read_id = 0;
}

/*
 * Fill the positions of the channels of l (from
 * readstate_visible_channels()) with one statement; 0 or -1.
 */
static int
readstate_channel_positions(uint64_t user_id, struct readstate_list *l)
{
	struct db_rows	*rows;
	const char	*text;
	size_t		 i = 0, len;
	yajl_gen	 g;
	int		 rc;

	if (l->n == 0)
		return 0;
	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = 0; i < l->n; i++) {
		yajl_gen_array_open(g);
		yajl_gen_integer(g, (long long)l->v[i].channel_id);
		yajl_gen_integer(g, (long long)l->v[i].last_read_id);
		yajl_gen_array_close(g);
	}
	yajl_gen_array_close(g);
	text = json_gen_text(g, &len);
	rows = db_query(&q_channel_positions, "ubu", user_id, text, len,
	    user_id);
	yajl_gen_free(g);
	if (rows == NULL)
		return -1;
	i = 0;
	while ((rc = db_fetch(rows)) == 1 && i < l->n &&
	    db_u64(rows, 0) == l->v[i].channel_id)
		readstate_read_position(rows, &l->v[i++]);
	db_rows_free(rows);
	return rc == -1 || i != l->n ? -1 : 0;
}

/* Append the read states of a user's DMs, positions filled; 0 or -1. */
static int
readstate_dm_positions(uint64_t user_id, struct readstate_list *l)
{
	struct read_state	*rs;
	struct db_rows		*rows;
	int			 rc;

	if ((rows = db_query(&q_dm_positions, "uuuu", user_id, user_id,
	    user_id, user_id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		rs = readstate_push(l);
		rs->dm_channel_id = db_u64(rows, 0);
		readstate_read_position(rows, rs);
	}
	db_rows_free(rows);
	return rc;
}

/*
 * Count the unread messages and mentions of a read state whose position
 * is filled, for its user: no statement when nothing is newer than the
 * position; 0 or -1.
 */
static int
readstate_count(uint64_t user_id, struct read_state *rs)
{
	struct db_rows	*rows;
	int		 rc;

	rs->unread_count = rs->mention_count = 0;
	if (rs->last_message_id <= rs->last_read_id)
		return 0;
	if (rs->channel_id != 0)
		rows = db_query(&q_counts[READSTATE_CHANNEL], "uuuuuuuuu",
		    rs->channel_id, rs->last_read_id, user_id,
		    rs->channel_id, rs->last_read_id, user_id, user_id,
		    rs->server_id, user_id);
	else
		rows = db_query(&q_counts[READSTATE_DM], "uuu",
		    rs->dm_channel_id, rs->last_read_id, user_id);
	if (rows == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		if (db_u64(rows, 0) == 1)
			rs->mention_count = (int)db_u64(rows, 1);
		else
			rs->unread_count = (int)db_u64(rows, 1);
	}
	db_rows_free(rows);
	if (rs->dm_channel_id != 0)
		rs->mention_count = rs->unread_count;
	return rc == -1 ? -1 : 0;
}

/*
 * Write the read states of every conversation the user can see as an
 * array: server channels by server then channel, then DMs by id.  0 or
 * -1 (g is then incomplete).
 */
int
readstate_list(uint64_t user_id, yajl_gen g)
{
	struct readstate_list	l = { NULL, 0, 0 };
	size_t			i;
	int			rc = -1;

	if (readstate_visible_channels(user_id, &l) == -1 ||
	    readstate_channel_positions(user_id, &l) == -1 ||
	    readstate_dm_positions(user_id, &l) == -1)
		goto done;
	yajl_gen_array_open(g);
	for (i = 0; i < l.n; i++) {
		if (readstate_count(user_id, &l.v[i]) == -1)
			goto done;
		readstate_gen(g, &l.v[i]);
	}
	yajl_gen_array_close(g);
	rc = 0;
done:
	free(l.v);
	return rc;
}

/*
 * Load the position of one conversation the user may open (the caller
 * checked), without its counts, and the id of its newest message
 * (deleted or not) into *newest: 1, 0 (not a member any more, or gone)
 * or -1.
 */
static int
readstate_position(uint64_t user_id, const struct conversation *c,
    struct read_state *rs, uint64_t *newest)
{
	struct db_rows	*rows;
	int		 rc;

	memset(rs, 0, sizeof *rs);
	rs->server_id = c->server_id;
	rs->channel_id = c->channel_id;
	rs->dm_channel_id = c->dm_channel_id;
	if (c->channel_id != 0)
		rows = db_query(&q_channel_position, "uuu", user_id, user_id,
		    c->channel_id);
	else
		rows = db_query(&q_dm_position, "uuu", user_id, user_id,
		    c->dm_channel_id);
	if (rows == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1) {
		readstate_read_position(rows, rs);
		*newest = db_u64(rows, 4);
	}
	db_rows_free(rows);
	return rc;
}

/*
 * The position an ack of message_id reaches: an id beyond the newest
 * message is taken as the newest, and nothing beyond the sequencer's
 * watermark (a message with a lower id may not have committed yet).
 */
static uint64_t
readstate_ack_target(uint64_t message_id, uint64_t newest)
{
	uint64_t	target, visible;

	target = message_id < newest ? message_id : newest;
	if ((visible = sequencer_visible()) != 0 && target > visible)
		target = visible;
	return target;
}

/* Append read_state.update {read state}, scoped to its user alone. */
static int
readstate_event(uint64_t user_id, const struct read_state *rs)
{
	struct event_scope	scope;
	yajl_gen		g;
	int			rc;

	memset(&scope, 0, sizeof scope);
	scope.user_id = user_id;
	g = json_gen_new();
	readstate_gen(g, rs);
	rc = events_append("read_state.update", &scope, g);
	yajl_gen_free(g);
	return rc;
}

/* Answer with a read state. */
static void
readstate_respond(struct request *req, const struct read_state *rs)
{
	yajl_gen	g;

	g = json_gen_new();
	readstate_gen(g, rs);
	response_json(req, 200, g);
}

/*
 * Acknowledge a conversation the caller may open up to message_id and
 * answer 200 with the read state.  When the position moves, it is stored
 * and read_state.update appended in one transaction; an ack that does
 * not move it (an older id) writes nothing.
 */
void
readstate_ack(struct request *req, const struct conversation *c,
    uint64_t message_id)
{
	struct read_state	rs;
	uint64_t		target, newest = 0;
	int			rc, moved;

	if (db_begin() == -1) {
		response_db_error(req);
		return;
	}
	if ((rc = readstate_position(req->user_id, c, &rs, &newest)) == 0) {
		db_rollback();
		response_not_found(req, c->channel_id != 0 ? "channel" :
		    "DM channel");
		return;
	}
	if (rc == -1)
		goto fail;
	target = readstate_ack_target(message_id, newest);
	if ((moved = target > rs.last_read_id)) {
		rs.last_read_id = target;
		if (db_exec(&q_ack[readstate_kind(c)], "uuu", req->user_id,
		    c->channel_id != 0 ? c->channel_id : c->dm_channel_id,
		    target) == -1)
			goto fail;
	}
	if (readstate_count(req->user_id, &rs) == -1 ||
	    (moved && readstate_event(req->user_id, &rs) == -1) ||
	    db_commit() == -1)
		goto fail;
	readstate_respond(req, &rs);
	return;
fail:
	db_rollback();
	response_db_error(req);
}
