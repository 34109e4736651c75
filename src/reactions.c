/* SPDX-License-Identifier: ISC */
/*
 * reactions.c: the reactions of messages (API.md, Replies, reactions and
 * pins): one row per message, emoji and user (sql/011), read for a page
 * of messages with one statement, added and removed with their
 * reaction.add and reaction.remove events in one transaction.
 *
 * A change locks the message row first: that keeps a deleted message
 * from gaining reactions, and puts the changes of one message in a line,
 * so that two clients adding the same reaction at once add one row and
 * one event, a 21st emoji cannot slip in beside a 20th, and each emoji
 * keeps the place it had when it first came (emoji_order).
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

/* The refusals of reaction_add (sql/011), raised with SIGNAL. */
#define REACTIONS_ERR_NO_MESSAGE	30404
#define REACTIONS_ERR_TOO_MANY		30400

/* The message, locked, and its flag (q_mark). */
static struct db_stmt q_lock = DB_STMT(
    "SELECT reacted FROM messages WHERE id = ?"
    " AND channel_id <=> NULLIF(?, 0) AND dm_channel_id <=> NULLIF(?, 0)"
    " AND deleted = 0 FOR UPDATE");
static struct db_stmt q_exists = DB_STMT(
    "SELECT reacted FROM messages WHERE id = ?"
    " AND channel_id <=> NULLIF(?, 0) AND dm_channel_id <=> NULLIF(?, 0)"
    " AND deleted = 0");
/*
 * How an emoji stands on a message: its place (0: not on it) and whether
 * this user has it, two lookups by the primary key.
 */
static struct db_stmt q_emoji = DB_STMT(
    "SELECT COALESCE((SELECT emoji_order FROM reactions"
    " WHERE message_id = ? AND emoji = ? LIMIT 1), 0),"
    " EXISTS (SELECT 1 FROM reactions WHERE message_id = ? AND emoji = ?"
    " AND user_id = ?)");
/*
 * How a message stands, read when an emoji is new to it: its distinct
 * emoji and the highest place (a scan of all its reactions).
 */
static struct db_stmt q_spread = DB_STMT(
    "SELECT COUNT(DISTINCT emoji), COALESCE(MAX(emoji_order), 0)"
    " FROM reactions WHERE message_id = ?");
static struct db_stmt q_insert = DB_STMT(
    "INSERT INTO reactions (message_id, emoji, user_id, emoji_order)"
    " VALUES (?, ?, ?, ?)");
/*
 * The flag a history page reads to know whether the message has or had
 * reactions (sql/021): set by a reaction added to a message without it,
 * in its transaction.
 */
static struct db_stmt q_mark = DB_STMT(
    "UPDATE messages SET reacted = 1 WHERE id = ?");
static struct db_stmt q_delete = DB_STMT(
    "DELETE FROM reactions WHERE message_id = ? AND emoji = ?"
    " AND user_id = ?");
/* The one-call add (reaction_add, sql/routines.sql). */
static struct db_stmt q_add = DB_STMT(
    "CALL reaction_add(?, ?, ?, ?, ?, ?, ?, ?, ?)");
static struct db_routine r_add = DB_ROUTINE("reaction_add",
    "reactions are added statement by statement");
static struct db_stmt q_forget = DB_STMT(
    "DELETE FROM reactions WHERE message_id = ?");
/*
 * The reactions of a page of messages, whose ids come as a JSON array of
 * decimal strings: one group per message and emoji, each message's in
 * the order their emoji were first added.  The ids are looked up by the
 * primary key (message_id, emoji, user_id), a range each.
 */
static struct db_stmt q_page = DB_STMT(
    "SELECT r.message_id, r.emoji, COUNT(*), MAX(r.user_id = ?)"
    " FROM reactions r WHERE r.message_id IN (SELECT j.id FROM"
    " JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) AS j)"
    " GROUP BY r.message_id, r.emoji"
    " ORDER BY r.message_id, MIN(r.emoji_order)");
/* Who reacted to a page of messages, its emoji in their order; LIMIT. */
static struct db_stmt q_reactors = DB_STMT(
    "SELECT r.message_id, r.emoji, r.user_id"
    " FROM reactions r WHERE r.message_id IN (SELECT j.id FROM"
    " JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) AS j)"
    " ORDER BY r.message_id, r.emoji_order, r.user_id LIMIT ?");
/*
 * The statements of a batch of additions (reactions_add_many), each for
 * all of them: the messages locked (in id order, so that batches wait
 * for each other instead of deadlocking), each emoji's place and whether
 * its user has it, the messages' spread of emoji, the new rows.  The
 * batch comes as a JSON array: ids as decimal strings, emoji as text.
 */
#define REACTIONS_IDS \
	" JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) AS j"
#define REACTIONS_ROWS \
	" FROM JSON_TABLE(?, '$[*]' COLUMNS (i INT PATH '$.i'," \
	" m BIGINT UNSIGNED PATH '$.m', e VARCHAR(32) CHARACTER SET utf8mb4" \
	" COLLATE utf8mb4_bin PATH '$.e', u BIGINT UNSIGNED PATH '$.u'," \
	" o INT UNSIGNED PATH '$.o')) AS j"
static struct db_stmt q_lock_many = DB_STMT(
    "SELECT id, COALESCE(channel_id, 0), COALESCE(dm_channel_id, 0), reacted"
    " FROM messages WHERE id IN (SELECT j.id FROM" REACTIONS_IDS ")"
    " AND deleted = 0 ORDER BY id FOR UPDATE");
static struct db_stmt q_emoji_many = DB_STMT(
    "SELECT j.i, COALESCE((SELECT r.emoji_order FROM reactions r"
    " WHERE r.message_id = j.m AND r.emoji = j.e LIMIT 1), 0),"
    " EXISTS (SELECT 1 FROM reactions r WHERE r.message_id = j.m"
    " AND r.emoji = j.e AND r.user_id = j.u)" REACTIONS_ROWS);
static struct db_stmt q_spread_many = DB_STMT(
    "SELECT message_id, COUNT(DISTINCT emoji), COALESCE(MAX(emoji_order), 0)"
    " FROM reactions WHERE message_id IN (SELECT j.id FROM" REACTIONS_IDS ")"
    " GROUP BY message_id");
static struct db_stmt q_insert_many = DB_STMT(
    "INSERT INTO reactions (message_id, emoji, user_id, emoji_order)"
    " SELECT j.m, CAST(j.e AS BINARY), j.u, j.o" REACTIONS_ROWS);
static struct db_stmt q_mark_many = DB_STMT(
    "UPDATE messages SET reacted = 1 WHERE id IN (SELECT j.id FROM"
    REACTIONS_IDS ") AND reacted = 0");
static struct db_stmt q_users = DB_STMT(
    "SELECT u.id, u.username FROM reactions r"
    " JOIN users u ON u.id = r.user_id"
    " WHERE r.message_id = ? AND r.emoji = ? AND r.user_id > ?"
    " ORDER BY r.user_id LIMIT ?");

/* The index of message id in ms[n], looking from hint first; -1. */
static long
reactions_find(const struct message *ms, long n, uint64_t id, long hint)
{
	long	i;

	if (hint >= 0 && hint < n && ms[hint].id == id)
		return hint;
	for (i = 0; i < n; i++) {
		if (ms[i].id == id)
			return i;
	}
	return -1;
}

/* Append one emoji's reaction to a message read from a row of q_page. */
static void
reactions_push(struct message *m, struct db_rows *rows)
{
	struct reaction	*r;
	const char	*emoji;
	size_t		 len;

	if ((emoji = db_str(rows, 1, &len)) == NULL || len > EMOJI_BYTES_MAX)
		return;
	m->reactions = xreallocarray(m->reactions, m->nreactions + 1,
	    sizeof *m->reactions);
	r = &m->reactions[m->nreactions++];
	memcpy(r->emoji, emoji, len);
	r->emoji[len] = '\0';
	r->count = db_i64(rows, 2);
	r->me = db_i64(rows, 3) != 0;
}

/* The ids of n messages as a JSON array of decimal strings (to free). */
static yajl_gen
reactions_ids(const struct message *ms, long n)
{
	yajl_gen	g;
	long		i;

	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++)
		json_gen_id_or_zero(g, ms[i].id);
	yajl_gen_array_close(g);
	return g;
}

/*
 * Read the reactions of n messages into them with one statement, "me"
 * meaning reader (0: nobody), written by messages_gen() when with_me is
 * set (a REST answer; events carry none).  0, or -1.
 */
int
reactions_attach(struct message *ms, long n, uint64_t reader, int with_me)
{
	struct db_rows	*rows;
	const char	*ids;
	size_t		 len;
	yajl_gen	 g;
	long		 i, at = -1;
	int		 rc;

	for (i = 0; i < n; i++)
		ms[i].reactions_me = with_me;
	if (n == 0)
		return 0;
	g = reactions_ids(ms, n);
	ids = json_gen_text(g, &len);
	rows = db_query(&q_page, "ub", reader, ids, len);
	yajl_gen_free(g);
	if (rows == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		if ((at = reactions_find(ms, n, db_u64(rows, 0), at)) != -1)
			reactions_push(&ms[at], rows);
	}
	db_rows_free(rows);
	return rc == -1 ? -1 : 0;
}

/* The index of emoji among a message's reactions, or -1. */
static long
reactions_index(const struct message *m, const char *emoji, size_t len)
{
	size_t	j;

	for (j = 0; j < m->nreactions; j++) {
		if (strlen(m->reactions[j].emoji) == len &&
		    memcmp(m->reactions[j].emoji, emoji, len) == 0)
			return (long)j;
	}
	return -1;
}

/*
 * Who reacted to n messages read with their reactions: one reactor per
 * user and emoji, the message's index in ms and the reaction's in it,
 * into *out (malloc'd; the caller frees it).  Their number, max + 1 when
 * there are more than max (none listed then), or -1.  A reaction that
 * came or went since ms were read is left out.
 */
long
reactions_reactors(const struct message *ms, long n, long max,
    struct reactor **out)
{
	struct db_rows	*rows;
	const char	*emoji, *ids;
	size_t		 len;
	yajl_gen	 g;
	long		 count = 0, fetched = 0, j, at = -1;
	int		 rc;

	*out = NULL;
	if (n == 0)
		return 0;
	g = reactions_ids(ms, n);
	ids = json_gen_text(g, &len);
	rows = db_query(&q_reactors, "bi", ids, len, (long long)max + 1);
	yajl_gen_free(g);
	if (rows == NULL)
		return -1;
	*out = xcalloc((size_t)max + 1, sizeof **out);
	while ((rc = db_fetch(rows)) == 1) {
		fetched++;
		if ((at = reactions_find(ms, n, db_u64(rows, 0), at)) == -1 ||
		    (emoji = db_str(rows, 1, &len)) == NULL ||
		    (j = reactions_index(&ms[at], emoji, len)) == -1)
			continue;
		(*out)[count].user_id = db_u64(rows, 2);
		(*out)[count].message = at;
		(*out)[count++].reaction = j;
	}
	db_rows_free(rows);
	if (rc == -1 || fetched > max) {
		free(*out);
		*out = NULL;
		return rc == -1 ? -1 : max + 1;
	}
	return count;
}

/* Write a message's reactions: [{emoji, count, me}] ("me" in REST). */
void
reactions_gen(yajl_gen g, const struct message *m)
{
	size_t	i;

	json_gen_key(g, "reactions");
	yajl_gen_array_open(g);
	for (i = 0; i < m->nreactions; i++) {
		yajl_gen_map_open(g);
		json_gen_kstr(g, "emoji", m->reactions[i].emoji);
		json_gen_kint(g, "count", m->reactions[i].count);
		if (m->reactions_me)
			json_gen_kbool(g, "me", m->reactions[i].me);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

/* Free a message's reactions. */
void
reactions_clear(struct message *m)
{
	free(m->reactions);
	m->reactions = NULL;
	m->nreactions = 0;
}

/*
 * Find message id of the conversation, not deleted, with q (q_exists, or
 * q_lock in the open transaction), and whether it is flagged as reacted
 * to (reacted may be NULL): 1, 0 (none here), -1.
 */
static int
reactions_message(struct db_stmt *q, const struct conversation *c,
    uint64_t id, int *reacted)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(q, "uuu", id, c->channel_id,
	    c->dm_channel_id)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1 && reacted != NULL)
		*reacted = db_u64(rows, 0) != 0;
	db_rows_free(rows);
	return rc;
}

/*
 * The data of reaction.add and reaction.remove, {message_id, channel_id,
 * dm_channel_id, user_id, emoji}; the caller frees it.
 */
static yajl_gen
reactions_event_data(const struct conversation *c, uint64_t id,
    const char *emoji, uint64_t user_id)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_kid(g, "message_id", id);
	json_gen_kid(g, "channel_id", c->channel_id);
	json_gen_kid(g, "dm_channel_id", c->dm_channel_id);
	json_gen_kid(g, "user_id", user_id);
	json_gen_kstr(g, "emoji", emoji);
	yajl_gen_map_close(g);
	return g;
}

/* Append reaction.add or reaction.remove in the open transaction. */
static int
reactions_event(const char *type, const struct conversation *c,
    const struct event_scope *scope, uint64_t id, const char *emoji,
    uint64_t user_id)
{
	yajl_gen	g;
	int		rc;

	g = reactions_event_data(c, id, emoji, user_id);
	rc = events_append(type, scope, g);
	yajl_gen_free(g);
	return rc;
}

/* How a message stands, for a new reaction (q_emoji, q_spread). */
struct reactions_standing {
	int		 mine;		/* the user has this emoji on it */
	uint64_t	 order;		/* the emoji's place; 0: not on it */
	long		 distinct;	/* emoji on it (order 0 only) */
	uint64_t	 last;		/* the highest place (order 0 only) */
};

/* Read two numbers of a one-row result; 0, or -1. */
static int
reactions_pair(struct db_rows *rows, uint64_t *a, uint64_t *b)
{
	int	rc;

	if (rows == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1) {
		*a = db_u64(rows, 0);
		*b = db_u64(rows, 1);
	}
	db_rows_free(rows);
	return rc == 1 ? 0 : -1;
}

/*
 * Read how message id stands in the open transaction (its row locked)
 * for user_id's emoji: the emoji alone, and the whole message only when
 * the emoji is new to it.  0, or -1.
 */
static int
reactions_standing(uint64_t id, const char *emoji, uint64_t user_id,
    struct reactions_standing *st)
{
	uint64_t	mine = 0, distinct = 0;

	if (reactions_pair(db_query(&q_emoji, "ususu", id, emoji, id, emoji,
	    user_id), &st->order, &mine) == -1)
		return -1;
	st->mine = mine != 0;
	if (st->order != 0 || st->mine)
		return 0;
	if (reactions_pair(db_query(&q_spread, "u", id), &distinct,
	    &st->last) == -1)
		return -1;
	st->distinct = (long)distinct;
	return 0;
}

/*
 * Add a reaction as reactions_add() does with one CALL of reaction_add
 * (sql/011), its event's seq drawn before: REACTIONS_CHANGED (or there
 * already: the procedure tells them apart, the answer does not),
 * REACTIONS_NO_MESSAGE, REACTIONS_TOO_MANY or REACTIONS_FAILED (rolled
 * back; the procedure may be missing).
 */
static int
reactions_add_call(const struct conversation *c,
    const struct event_scope *scope, uint64_t id, const char *emoji,
    uint64_t user_id)
{
	const char	*data;
	size_t		 len;
	uint64_t	 seq;
	yajl_gen	 g;
	long long	 rc;

	if (db_begin_call() == -1)
		return REACTIONS_FAILED;
	if (events_reserve("reaction.add", scope, &seq) == -1) {
		db_rollback();
		return REACTIONS_FAILED;
	}
	g = reactions_event_data(c, id, emoji, user_id);
	data = json_gen_text(g, &len);
	rc = db_exec(&q_add, "uuusuiuub", id, c->channel_id, c->dm_channel_id,
	    emoji, user_id, (long long)REACTIONS_DISTINCT_MAX, seq,
	    scope->server_id, data, len);
	yajl_gen_free(g);
	if (rc == -1) {
		db_rollback();
		if (db_errno() == REACTIONS_ERR_NO_MESSAGE)
			return REACTIONS_NO_MESSAGE;
		if (db_errno() == REACTIONS_ERR_TOO_MANY)
			return REACTIONS_TOO_MANY;
		db_routine_lost(&r_add);
		return REACTIONS_FAILED;
	}
	db_end_call();
	return REACTIONS_CHANGED;
}

/*
 * Add user_id's reaction emoji (checked, fully qualified) to message id
 * of the conversation, with its reaction.add to scope, in a transaction
 * of its own: REACTIONS_CHANGED, REACTIONS_UNCHANGED (it was there),
 * REACTIONS_NO_MESSAGE, REACTIONS_TOO_MANY (a new emoji past the 20th)
 * or REACTIONS_FAILED.  One round trip when the sequencer allows it
 * (reactions_add_call), statement by statement otherwise.
 */
int
reactions_add(const struct conversation *c, const struct event_scope *scope,
    uint64_t id, const char *emoji, uint64_t user_id)
{
	struct reactions_standing	st;
	int				rc, reacted = 0;

	memset(&st, 0, sizeof st);
	if (sequencer_local() && db_routine_usable(&r_add) &&
	    ((rc = reactions_add_call(c, scope, id, emoji, user_id)) !=
	    REACTIONS_FAILED || db_routine_usable(&r_add)))
		return rc;
	if (db_begin() == -1)
		return REACTIONS_FAILED;
	if ((rc = reactions_message(&q_lock, c, id, &reacted)) != 1 ||
	    reactions_standing(id, emoji, user_id, &st) == -1) {
		db_rollback();
		return rc == 0 ? REACTIONS_NO_MESSAGE : REACTIONS_FAILED;
	}
	if (st.mine || (st.order == 0 &&
	    st.distinct >= REACTIONS_DISTINCT_MAX)) {
		db_rollback();
		return st.mine ? REACTIONS_UNCHANGED : REACTIONS_TOO_MANY;
	}
	if (db_exec(&q_insert, "usuu", id, emoji, user_id,
	    st.order != 0 ? st.order : st.last + 1) != 1 ||
	    (!reacted && db_exec(&q_mark, "u", id) == -1) ||
	    reactions_event("reaction.add", c, scope, id, emoji,
	    user_id) == -1 || db_commit() == -1) {
		db_rollback();
		return REACTIONS_FAILED;
	}
	return REACTIONS_CHANGED;
}

/*
 * Remove user_id's reaction emoji from message id of the conversation,
 * with its reaction.remove, in a transaction of its own:
 * REACTIONS_CHANGED, REACTIONS_UNCHANGED (there was none),
 * REACTIONS_NO_MESSAGE or REACTIONS_FAILED.
 */
int
reactions_remove(const struct conversation *c,
    const struct event_scope *scope, uint64_t id, const char *emoji,
    uint64_t user_id)
{
	long long	n;
	int		rc;

	if (db_begin() == -1)
		return REACTIONS_FAILED;
	if ((rc = reactions_message(&q_lock, c, id, NULL)) != 1 ||
	    (n = db_exec(&q_delete, "usu", id, emoji, user_id)) == -1) {
		db_rollback();
		return rc == 0 ? REACTIONS_NO_MESSAGE : REACTIONS_FAILED;
	}
	if (n == 0) {
		db_rollback();
		return REACTIONS_UNCHANGED;
	}
	if (reactions_event("reaction.remove", c, scope, id, emoji,
	    user_id) == -1 || db_commit() == -1) {
		db_rollback();
		return REACTIONS_FAILED;
	}
	return REACTIONS_CHANGED;
}

/*
 * Answer a change of reactions: 204 when done or when there was nothing
 * to do, else the error.
 */
void
reactions_respond(struct request *req, int result)
{
	switch (result) {
	case REACTIONS_CHANGED:
	case REACTIONS_UNCHANGED:
		response_empty(req, 204);
		break;
	case REACTIONS_NO_MESSAGE:
		response_not_found(req, "message");
		break;
	case REACTIONS_TOO_MANY:
		response_invalid(req, "emoji", "A message has at most %d "
		    "different reactions", REACTIONS_DISTINCT_MAX);
		break;
	default:
		response_db_error(req);
		break;
	}
}

/* Write a reacting user as {id, username}. */
static void
reactions_user_row(yajl_gen g, struct db_rows *rows)
{
	const char	*name;
	size_t		 len;

	name = db_str(rows, 1, &len);
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", db_u64(rows, 0));
	json_gen_key(g, "username");
	json_gen_strn(g, name, len);
	yajl_gen_map_close(g);
}

/*
 * Write the users who reacted to message id of the conversation with
 * emoji, by user id after after, at most limit, as a JSON array into g:
 * 1, 0 when there is no such message here, -1.
 */
int
reactions_users(const struct conversation *c, uint64_t id, const char *emoji,
    uint64_t after, long limit, yajl_gen g)
{
	int	rc;

	if ((rc = reactions_message(&q_exists, c, id, NULL)) != 1)
		return rc;
	if (db_rows_json(g, db_query(&q_users, "usui", id, emoji, after,
	    (long long)limit), reactions_user_row) == -1)
		return -1;
	return 1;
}

/* Drop the reactions of a message being deleted (in its transaction). */
int
reactions_forget(uint64_t id)
{
	return db_exec(&q_forget, "u", id) == -1 ? -1 : 0;
}

/* --- additions in a batch ------------------------------------------------ */

/* How the messages of a batch stand (reactions_add_many). */
struct reactions_spread {
	int		 found;		/* the message is there, not deleted */
	int		 reacted;	/* and flagged (q_mark) */
	uint64_t	 order;		/* the emoji's place; 0: not on it */
	int		 mine;		/* the user has the emoji on it */
	long		 distinct;	/* emoji on the message */
	uint64_t	 last;		/* their highest place */
};

/* The batch as a JSON array: ids only, or rows {i, m, e, u, o}. */
static yajl_gen
reactions_batch_json(const struct reaction_add *adds, size_t n, int rows,
    int changed_only)
{
	yajl_gen	g;
	size_t		i;

	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		if (changed_only && adds[i].result != REACTIONS_CHANGED)
			continue;
		if (!rows) {
			json_gen_id_or_zero(g, adds[i].id);
			continue;
		}
		yajl_gen_map_open(g);
		json_gen_kint(g, "i", (long long)i);
		json_gen_key(g, "m");
		json_gen_id_or_zero(g, adds[i].id);
		json_gen_kstr(g, "e", adds[i].emoji);
		json_gen_key(g, "u");
		json_gen_id_or_zero(g, adds[i].user_id);
		json_gen_kint(g, "o", (long long)adds[i].order);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	return g;
}

/* Run q with the batch's JSON as its one parameter; the rows or NULL. */
static struct db_rows *
reactions_batch_query(struct db_stmt *q, const struct reaction_add *adds,
    size_t n, int rows)
{
	struct db_rows	*r;
	const char	*text;
	size_t		 len;
	yajl_gen	 g;

	g = reactions_batch_json(adds, n, rows, 0);
	text = json_gen_text(g, &len);
	r = db_query(q, "b", text, len);
	yajl_gen_free(g);
	return r;
}

/*
 * Read, in the open transaction, how each addition's message and emoji
 * stand: the messages locked, then the emoji, then (only when one is new
 * to its message) the messages' spread.  0, or -1.
 */
static int
reactions_batch_read(const struct reaction_add *adds, size_t n,
    struct reactions_spread *st)
{
	struct db_rows	*rows;
	uint64_t	 id;
	size_t		 i;
	int		 rc, spread = 0;

	if ((rows = reactions_batch_query(&q_lock_many, adds, n, 0)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		id = db_u64(rows, 0);
		for (i = 0; i < n; i++) {
			if (adds[i].id == id &&
			    adds[i].c->channel_id == db_u64(rows, 1) &&
			    adds[i].c->dm_channel_id == db_u64(rows, 2)) {
				st[i].found = 1;
				st[i].reacted = db_u64(rows, 3) != 0;
			}
		}
	}
	db_rows_free(rows);
	if (rc == -1 ||
	    (rows = reactions_batch_query(&q_emoji_many, adds, n, 1)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		i = (size_t)db_u64(rows, 0);
		if (i < n) {
			st[i].order = db_u64(rows, 1);
			st[i].mine = db_u64(rows, 2) != 0;
			spread |= st[i].found && !st[i].mine && st[i].order == 0;
		}
	}
	db_rows_free(rows);
	if (rc == -1 || !spread)
		return rc == -1 ? -1 : 0;
	if ((rows = reactions_batch_query(&q_spread_many, adds, n, 0)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		for (i = 0; i < n; i++) {
			if (adds[i].id == db_u64(rows, 0)) {
				st[i].distinct = db_i64(rows, 1);
				st[i].last = db_u64(rows, 2);
			}
		}
	}
	db_rows_free(rows);
	return rc == -1 ? -1 : 0;
}

/*
 * Decide what becomes of addition i, given what the additions before it
 * in the batch did: its result, and its emoji's place when it is added.
 */
static void
reactions_batch_decide(struct reaction_add *adds, size_t i,
    const struct reactions_spread *st)
{
	struct reaction_add	*a = &adds[i];
	long			 distinct = st[i].distinct;
	uint64_t		 order = st[i].order, last = st[i].last;
	size_t			 j;

	if (!st[i].found) {
		a->result = REACTIONS_NO_MESSAGE;
		return;
	}
	for (j = 0; j < i; j++) {
		if (adds[j].result != REACTIONS_CHANGED || adds[j].id != a->id)
			continue;
		if (strcmp(adds[j].emoji, a->emoji) == 0) {
			if (adds[j].user_id == a->user_id) {
				a->result = REACTIONS_UNCHANGED;
				return;
			}
			order = adds[j].order;
		}
		/* An emoji new to the message earlier in the batch. */
		if (adds[j].fresh) {
			distinct++;
			if (adds[j].order > last)
				last = adds[j].order;
		}
	}
	if (st[i].mine) {
		a->result = REACTIONS_UNCHANGED;
		return;
	}
	if (order == 0 && distinct >= REACTIONS_DISTINCT_MAX) {
		a->result = REACTIONS_TOO_MANY;
		return;
	}
	a->fresh = order == 0;
	a->order = order != 0 ? order : last + 1;
	a->result = REACTIONS_CHANGED;
}

/*
 * Set the flag of the messages the batch's additions reacted to, for
 * those without it (q_mark): 0, or -1.
 */
static int
reactions_batch_mark(const struct reaction_add *adds, size_t n)
{
	const char	*text;
	size_t		 len;
	yajl_gen	 g;
	long long	 rc;

	g = reactions_batch_json(adds, n, 0, 1);
	text = json_gen_text(g, &len);
	rc = db_exec(&q_mark_many, "b", text, len);
	yajl_gen_free(g);
	return rc == -1 ? -1 : 0;
}

/*
 * Add n reactions in one transaction, as reactions_add() adds each, with
 * one statement for each step of all of them: every adds[i].result set
 * (REACTIONS_CHANGED, _UNCHANGED, _NO_MESSAGE or _TOO_MANY) and 0, or -1
 * after rolling back (db_errno() says why).
 */
int
reactions_add_many(struct reaction_add *adds, size_t n)
{
	struct reactions_spread	*st;
	struct event_scope	*scopes;
	yajl_gen		*data, g;
	const char		*text;
	size_t			 len, i, changed = 0;
	int			 rc = -1, unflagged = 0;

	st = xcalloc(n, sizeof *st);
	scopes = xcalloc(n, sizeof *scopes);
	data = xcalloc(n, sizeof *data);
	if (db_begin() == -1)
		goto done;
	if (reactions_batch_read(adds, n, st) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		reactions_batch_decide(adds, i, st);
		if (adds[i].result != REACTIONS_CHANGED)
			continue;
		unflagged |= !st[i].reacted;
		scopes[changed] = adds[i].scope;
		data[changed++] = reactions_event_data(adds[i].c, adds[i].id,
		    adds[i].emoji, adds[i].user_id);
	}
	if (changed > 0) {
		g = reactions_batch_json(adds, n, 1, 1);
		text = json_gen_text(g, &len);
		rc = db_exec(&q_insert_many, "b", text, len) == (long long)changed ?
		    0 : -1;
		yajl_gen_free(g);
		if (rc == -1 || (unflagged && reactions_batch_mark(adds, n) == -1) ||
		    events_append_many("reaction.add", scopes, data,
		    changed) == -1)
			goto fail;
	}
	rc = db_commit();
	if (rc == 0)
		goto done;
fail:
	db_rollback();
	rc = -1;
done:
	for (i = 0; i < changed; i++)
		yajl_gen_free(data[i]);
	free(data);
	free(scopes);
	free(st);
	return rc;
}
