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
 * index and of message_mentions' primary key (channel, kind, target,
 * message; sql/018_mentions_keyed.sql) newer than that position, which
 * stop at READSTATE_COUNT_MAX (sql/013_read_state.sql); one statement
 * counts every conversation that needs it (a long one has its own).
 *
 * A worker keeps each user's list between requests (readcache.c) and
 * reads again only what moved since: the positions of conversations
 * with new messages, the counts of those whose position or newest
 * message moved; all of it when the user's servers, roles or channels
 * changed, or the list is old.  Acknowledgements wait for a batch of
 * them (ackbatch.c) and are written together (readstate_ack_many()).
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define READSTATE_COUNT_MAX	100	/* "100 or more" */
#define READSTATE_LIST_MAX_AGE	(30 * 1000)	/* ms, at least cache_ms */

/*
 * The channels of a user's servers, with their server, ordered by
 * server then channel (a server without
 * channels: one row, channel 0); which of them the user may view is
 * access.c's to judge (readstate_keep_viewable()).
 */
static struct db_stmt q_member_channels = DB_STMT(
    "SELECT sm.server_id, COALESCE(c.id, 0) FROM server_members sm"
    " LEFT JOIN channels c ON c.server_id = sm.server_id"
    " WHERE sm.user_id = ? ORDER BY sm.server_id, c.id");

/*
 * The statements that ask about many conversations with correlated
 * subqueries run without MariaDB's subquery cache: it keeps each
 * subquery's answers in a temporary table made at every execution, by
 * the values of the outer row, and each row here asks about another
 * conversation, so that nothing is ever found there (an ack's batch made
 * about ten such tables; turned off, bench/readstate's counts statement
 * of 32 acks took 13-36 % less MariaDB time, the positions statement
 * 9-28 %, replayed through the client).
 */
#define READSTATE_UNCACHED \
	"SET STATEMENT optimizer_switch = 'subquery_cache=off' FOR "

/*
 * The author's newest message in a conversation, the newest message
 * that is not deleted, the oldest and the newest of all: each walks its
 * index from one end and stops at the first row (messages_author,
 * messages_channel / messages_dm_channel).  The index is named: MariaDB
 * would otherwise read a correlated ORDER BY ... LIMIT 1 by another key
 * and read every message of the conversation (0.1 s for 1,000
 * conversations of 1,000 messages, where these take 10 ms).
 */
#define READSTATE_OWN(col, other, u, c) \
	"COALESCE((SELECT o.id FROM messages o FORCE INDEX (messages_author)" \
	" WHERE o.author_id = " u " AND o." col " = " c " AND o." other \
	" IS NULL ORDER BY o.id DESC LIMIT 1), 0)"
#define READSTATE_EDGE(alias, col, c, cond, dir) \
	"(SELECT " alias ".id FROM messages " alias " FORCE INDEX" \
	" (messages_" col ") WHERE " alias "." col "_id = " c cond \
	" ORDER BY " alias ".id " dir " LIMIT 1)"
#define READSTATE_EDGES(col, c) \
	READSTATE_EDGE("l", col, c, " AND l.deleted = 0", "DESC") ", " \
	READSTATE_EDGE("f", col, c, "", "") ", COALESCE(" \
	READSTATE_EDGE("n", col, c, "", "DESC") ", 0)"

/*
 * The positions of channels given as [[index, channel, server, user],
 * ...]: index, read position, newest message not deleted, oldest message,
 * newest message (0: none), and whether the channel is there and the
 * user a member (the position of a former member means nothing).  The
 * rows come in no order (each names its index): sorting them cost
 * MariaDB a filesort, a fifth of the statement for an ack's batch.
 */
static struct db_stmt q_channel_positions = DB_STMT(READSTATE_UNCACHED
    "SELECT j.i, GREATEST(COALESCE(sm.joined_seq, 0),"
    " COALESCE(r.last_read_id, 0), "
    READSTATE_OWN("channel_id", "dm_channel_id", "j.u", "j.c") "), "
    READSTATE_EDGES("channel", "j.c") ","
    " sm.user_id IS NOT NULL AND ch.id IS NOT NULL"
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (i INT PATH '$[0]',"
    " c BIGINT UNSIGNED PATH '$[1]', s BIGINT UNSIGNED PATH '$[2]',"
    " u BIGINT UNSIGNED PATH '$[3]')) j"
    " LEFT JOIN channels ch ON ch.id = j.c AND ch.server_id = j.s"
    " LEFT JOIN server_members sm ON sm.server_id = j.s AND sm.user_id = j.u"
    " LEFT JOIN channel_read_states r ON r.user_id = j.u AND r.channel_id = j.c");
/* The same of DMs given as [[index, DM, user], ...]. */
static struct db_stmt q_dm_positions = DB_STMT(READSTATE_UNCACHED
    "SELECT j.i, GREATEST(COALESCE(r.last_read_id, 0), "
    READSTATE_OWN("dm_channel_id", "channel_id", "j.u", "j.d") "), "
    READSTATE_EDGES("dm_channel", "j.d") ", d.id IS NOT NULL"
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (i INT PATH '$[0]',"
    " d BIGINT UNSIGNED PATH '$[1]', u BIGINT UNSIGNED PATH '$[2]')) j"
    " LEFT JOIN dm_channels d ON d.id = j.d"
    " AND (d.user1_id = j.u OR d.user2_id = j.u)"
    " LEFT JOIN dm_read_states r ON r.user_id = j.u AND r.dm_channel_id = j.d");
/* The DMs of a user (user, user), by id. */
static struct db_stmt q_user_dms = DB_STMT(
    "SELECT id FROM dm_channels WHERE user1_id = ?"
    " UNION SELECT id FROM dm_channels WHERE user2_id = ? ORDER BY id");

/*
 * The counts of conversations given as [[index, conversation, server,
 * position, user], ...] above their positions, each stopping at
 * READSTATE_COUNT_MAX: others' messages that are not deleted, read from
 * the conversation's index alone (it carries author_id and deleted); in
 * a server channel also those that mention the user (by name, by a role
 * they hold, or everyone), from message_mentions' primary key (the
 * author is in the row; a deleted message has no rows).  In a DM every message of the
 * other participant mentions you: one count serves both.
 *
 * "Stopping at 100" without a derived table (MariaDB lets none see the
 * row it is counted for): the 100th row, if there is one, answers 100;
 * else the rows are fewer than 100 and counted.  The 100th is sought
 * from the newest end: counted with others (READSTATE_COUNT_MANY),
 * MariaDB reads the index from one end of the conversation, and from
 * the oldest it would first pass every message up to the position,
 * where from the newest it stops after the 100th (a conversation with
 * fewer reads all of it either way).  A message may mention
 * the user in several ways (by name and by a role, or everyone), so the
 * mentions are counted as distinct messages up to a bound: the 100th
 * message of the kind (or role) that has the most, if one has 100, since
 * the first 100 mentioning messages are all below it.  That takes a scan
 * of each kind and a temporary table; most conversations have only
 * mentions by name above the position (no @everyone, none of the user's
 * roles), and a message names a user once, so those count their rows as
 * the unread count does.
 */
#define READSTATE_UNREAD(col, c) \
	"IFNULL((SELECT 100 FROM messages m FORCE INDEX (messages_" col ")" \
	" WHERE m." col "_id = " c " AND m.id > j.p AND m.deleted = 0" \
	" AND m.author_id <> j.u ORDER BY m.id DESC LIMIT 99, 1)," \
	" (SELECT COUNT(*) FROM messages m FORCE INDEX (messages_" col ")" \
	" WHERE m." col "_id = " c " AND m.id > j.p AND m.deleted = 0" \
	" AND m.author_id <> j.u))"
/* The mentions of one kind and target above the position, from alias. */
#define READSTATE_MENTIONS_OF(alias, kind, target) \
	" FROM message_mentions " alias " WHERE " alias ".channel_id = j.c" \
	" AND " alias ".kind = " kind " AND " alias ".target_id = " target \
	" AND " alias ".message_id > j.p AND " alias ".author_id <> j.u"
#define READSTATE_HUNDREDTH(alias, kind, target) \
	"IFNULL((SELECT " alias ".message_id" \
	READSTATE_MENTIONS_OF(alias, kind, target) " ORDER BY " alias \
	".message_id LIMIT 99, 1), 18446744073709551615)"
#define READSTATE_BY_NAME \
	"IFNULL((SELECT 100" READSTATE_MENTIONS_OF("n", "1", "j.u") \
	" ORDER BY n.message_id DESC LIMIT 99, 1), (SELECT COUNT(*)" \
	READSTATE_MENTIONS_OF("n", "1", "j.u") "))"
#define READSTATE_ROLES \
	"(SELECT mr.role_id FROM server_member_roles mr" \
	" WHERE mr.server_id = j.s AND mr.user_id = j.u)"
#define READSTATE_NOT_BY_NAME \
	"EXISTS (SELECT 1" READSTATE_MENTIONS_OF("e0", "0", "0") ")" \
	" OR EXISTS (SELECT 1 FROM server_member_roles mr" \
	" JOIN message_mentions e2 ON e2.channel_id = j.c AND e2.kind = 2" \
	" AND e2.target_id = mr.role_id AND e2.message_id > j.p" \
	" AND e2.author_id <> j.u WHERE mr.server_id = j.s" \
	" AND mr.user_id = j.u)"
/*
 * The conversations to count, as rows j (i, c, s, p, u): many, from the
 * JSON [[index, conversation, server, position, user], ...]; or one, as
 * a row of constants.  Given as rows of a JSON_TABLE, the subqueries
 * above see the position as a value of another table: MariaDB reads
 * their index from the conversation's first message (by its equality
 * prefix) and skips what lies below the position, which costs nothing
 * in a conversation of a few thousand messages and 0.3 s in one of
 * 450,000.  Given as constants, each reads its index as a range from
 * the position, for the cost of a statement of its own
 * (readstate_counts() picks).
 */
#define READSTATE_COUNT_MANY \
	" FROM JSON_TABLE(?, '$[*]' COLUMNS (i INT PATH '$[0]'," \
	" c BIGINT UNSIGNED PATH '$[1]', s BIGINT UNSIGNED PATH '$[2]'," \
	" p BIGINT UNSIGNED PATH '$[3]', u BIGINT UNSIGNED PATH '$[4]')) j"
#define READSTATE_COUNT_ONE \
	" FROM (SELECT CAST(? AS UNSIGNED) AS i, CAST(? AS UNSIGNED) AS c," \
	" CAST(? AS UNSIGNED) AS s, CAST(? AS UNSIGNED) AS p," \
	" CAST(? AS UNSIGNED) AS u) j"
/*
 * A channel's unread count, and its mentions when only mentions by name
 * lie above the position; NULL when there are others, whose count
 * (READSTATE_CHANNEL_MENTIONS) is a statement apart: in one, MariaDB
 * optimized its dozen subqueries at every execution, wherever they were
 * needed, which cost an ack's batch about 0.2 ms.
 */
#define READSTATE_CHANNEL_COUNTS \
	"SELECT j.i, " READSTATE_UNREAD("channel", "j.c") "," \
	" CASE WHEN " READSTATE_NOT_BY_NAME " THEN NULL ELSE " \
	READSTATE_BY_NAME " END"
#define READSTATE_CHANNEL_MENTIONS \
	"SELECT j.i, NULL, LEAST(100," \
	" (SELECT COUNT(DISTINCT mm.message_id) FROM message_mentions mm" \
	" FORCE INDEX (PRIMARY) WHERE mm.channel_id = j.c" \
	" AND mm.message_id > j.p AND mm.author_id <> j.u" \
	" AND mm.message_id <= LEAST(" \
	READSTATE_HUNDREDTH("m0", "0", "0") ", " \
	READSTATE_HUNDREDTH("m1", "1", "j.u") ", IFNULL((SELECT MIN(" \
	READSTATE_HUNDREDTH("m2", "2", "mr.role_id") ")" \
	" FROM server_member_roles mr WHERE mr.server_id = j.s" \
	" AND mr.user_id = j.u), 18446744073709551615))" \
	" AND ((mm.kind = 0 AND mm.target_id = 0)" \
	" OR (mm.kind = 1 AND mm.target_id = j.u)" \
	" OR (mm.kind = 2 AND mm.target_id IN " READSTATE_ROLES "))))"
#define READSTATE_DM_COUNTS \
	"SELECT j.i, " READSTATE_UNREAD("dm_channel", "j.c") ", 0"
/*
 * By what they count (READSTATE_CHANNEL, READSTATE_DM,
 * READSTATE_MENTIONS): many, and one.
 */
static struct db_stmt q_counts[3][2] = {
	{ DB_STMT(READSTATE_UNCACHED READSTATE_CHANNEL_COUNTS
	    READSTATE_COUNT_MANY),
	    DB_STMT(READSTATE_UNCACHED READSTATE_CHANNEL_COUNTS
	    READSTATE_COUNT_ONE) },
	{ DB_STMT(READSTATE_UNCACHED READSTATE_DM_COUNTS
	    READSTATE_COUNT_MANY),
	    DB_STMT(READSTATE_UNCACHED READSTATE_DM_COUNTS
	    READSTATE_COUNT_ONE) },
	{ DB_STMT(READSTATE_UNCACHED READSTATE_CHANNEL_MENTIONS
	    READSTATE_COUNT_MANY),
	    DB_STMT(READSTATE_UNCACHED READSTATE_CHANNEL_MENTIONS
	    READSTATE_COUNT_ONE) },
};
/*
 * How far (in ids) a position may lie above its conversation's first
 * message for the conversation to be counted with others: ids are drawn
 * for every conversation from one sequence, so that many ids hold at
 * most as many messages of it to skip, which costs about what a
 * statement of its own does.
 */
#define READSTATE_SHALLOW_IDS	4096

/* Acknowledge, given [[user, conversation, position], ...]: forward only. */
#define READSTATE_ACK(table, col) \
	"INSERT INTO " table " (user_id, " col ", last_read_id)" \
	" SELECT j.u, j.c, j.p FROM JSON_TABLE(?, '$[*]' COLUMNS (" \
	" u BIGINT UNSIGNED PATH '$[0]', c BIGINT UNSIGNED PATH '$[1]'," \
	" p BIGINT UNSIGNED PATH '$[2]')) j ORDER BY j.u, j.c" \
	" ON DUPLICATE KEY UPDATE" \
	" last_read_id = GREATEST(last_read_id, VALUES(last_read_id))"
static struct db_stmt q_ack[] = {
	DB_STMT(READSTATE_ACK("channel_read_states", "channel_id")),
	DB_STMT(READSTATE_ACK("dm_read_states", "dm_channel_id")),
};

/*
 * The conversation kinds, as indexes of q_ack and q_counts; and the
 * mentions of channels counted apart, an index of q_counts.
 */
#define READSTATE_CHANNEL	0
#define READSTATE_DM		1
#define READSTATE_MENTIONS	2

/*
 * A conversation whose position or counts are to be read, for the
 * statements above: its read state, its user, and what they found.
 */
struct readstate_job {
	struct read_state	*rs;
	uint64_t		 user_id;
	uint64_t		 newest;	/* deleted or not */
	int			 found;		/* the user may still read it */
	int			 mentions_apart; /* READSTATE_MENTIONS */
};

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

/* Append an empty entry to a list; it is the list's. */
static struct readcache_entry *
readstate_push(struct readcache_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	return &l->v[l->n++];
}

/*
 * Run a statement about many jobs whose one parameter is the array g
 * holds open ([[job index, ...], ...]): g is closed and freed here.  Its
 * rows, each starting with a job's index, in no particular order, or
 * NULL.
 */
static struct db_rows *
readstate_query_jobs(struct db_stmt *q, yajl_gen g)
{
	struct db_rows	*rows;
	const char	*text;
	size_t		 len;

	yajl_gen_array_close(g);
	text = json_gen_text(g, &len);
	rows = db_query(q, "b", text, len);
	yajl_gen_free(g);
	return rows;
}

/*
 * Read the positions of n jobs of one kind (READSTATE_CHANNEL: channel
 * read states with their server; READSTATE_DM) with one statement: each
 * read state's last_read_id and last_message_id, and the job's newest
 * and found.  A position below the conversation's first message (a
 * channel created after the join, a DM never read) is "nothing read":
 * 0.  0 or -1.
 */
static int
readstate_positions(int kind, struct readstate_job *jobs, size_t n)
{
	struct read_state	*rs;
	struct db_rows		*rows;
	size_t			 i;
	uint64_t		 first;
	yajl_gen		 g;
	int			 rc;

	if (n == 0)
		return 0;
	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		rs = jobs[i].rs;
		yajl_gen_array_open(g);
		yajl_gen_integer(g, (long long)i);
		if (kind == READSTATE_CHANNEL) {
			json_gen_id_or_zero(g, rs->channel_id);
			json_gen_id_or_zero(g, rs->server_id);
		} else
			json_gen_id_or_zero(g, rs->dm_channel_id);
		json_gen_id_or_zero(g, jobs[i].user_id);
		yajl_gen_array_close(g);
		jobs[i].found = 0;
	}
	if ((rows = readstate_query_jobs(kind == READSTATE_CHANNEL ?
	    &q_channel_positions : &q_dm_positions, g)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		if ((i = (size_t)db_u64(rows, 0)) >= n)
			continue;
		rs = jobs[i].rs;
		rs->last_read_id = db_u64(rows, 1);
		rs->last_message_id = db_u64(rows, 2);
		rs->first_message_id = first = db_u64(rows, 3);
		if (first == 0 || first > rs->last_read_id)
			rs->last_read_id = 0;
		jobs[i].newest = db_u64(rows, 4);
		jobs[i].found = db_u64(rows, 5) != 0;
	}
	db_rows_free(rows);
	return rc;
}

/*
 * Fill the counts of the jobs from rows of q_counts (index, unread,
 * mentions; NULL: not counted by that statement), which are freed.  A
 * channel whose mentions are NULL is to be counted apart.  0 or -1.
 */
static int
readstate_read_counts(int what, struct readstate_job *jobs, size_t n,
    struct db_rows *rows)
{
	struct read_state	*rs;
	size_t			 i;
	int			 rc;

	if (rows == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		if ((i = (size_t)db_u64(rows, 0)) >= n)
			continue;
		rs = jobs[i].rs;
		if (!db_is_null(rows, 1))
			rs->unread_count = (int)db_u64(rows, 1);
		if (what == READSTATE_DM)
			rs->mention_count = rs->unread_count;
		else if (db_is_null(rows, 2))
			jobs[i].mentions_apart = 1;
		else
			rs->mention_count = (int)db_u64(rows, 2);
	}
	db_rows_free(rows);
	return rc;
}

/*
 * Count what q_counts[what] counts of n jobs whose positions are filled:
 * the unread messages and mentions of jobs of one kind (those with
 * nothing newer than their position count 0 without any statement), or
 * READSTATE_MENTIONS, the channels' mentions left to count apart.  Jobs
 * whose position lies far above their conversation's first message get
 * a statement each, the others one statement.  0 or -1.
 */
static int
readstate_count(int what, struct readstate_job *jobs, size_t n)
{
	struct read_state	*rs;
	size_t			 i, asked = 0;
	uint64_t		 c;
	yajl_gen		 g;

	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		rs = jobs[i].rs;
		if (what == READSTATE_MENTIONS) {
			if (!jobs[i].mentions_apart)
				continue;
		} else {
			rs->unread_count = rs->mention_count = 0;
			jobs[i].mentions_apart = 0;
			if (rs->last_message_id <= rs->last_read_id)
				continue;
		}
		c = what == READSTATE_DM ? rs->dm_channel_id : rs->channel_id;
		if (rs->last_read_id > rs->first_message_id +
		    READSTATE_SHALLOW_IDS) {
			if (readstate_read_counts(what, jobs, n,
			    db_query(&q_counts[what][1], "uuuuu", (uint64_t)i,
			    c, rs->server_id, rs->last_read_id,
			    jobs[i].user_id)) == -1) {
				yajl_gen_free(g);
				return -1;
			}
			continue;
		}
		yajl_gen_array_open(g);
		yajl_gen_integer(g, (long long)i);
		json_gen_id_or_zero(g, c);
		json_gen_id_or_zero(g, rs->server_id);
		json_gen_id_or_zero(g, rs->last_read_id);
		json_gen_id_or_zero(g, jobs[i].user_id);
		yajl_gen_array_close(g);
		asked++;
	}
	if (asked == 0) {
		yajl_gen_free(g);
		return 0;
	}
	return readstate_read_counts(what, jobs, n,
	    readstate_query_jobs(&q_counts[what][0], g));
}

/*
 * Count the unread messages and mentions of n jobs of one kind whose
 * positions are filled (readstate_count()), a channel's mentions apart
 * when they need more than its mentions by name.  0 or -1.
 */
static int
readstate_counts(int kind, struct readstate_job *jobs, size_t n)
{
	if (readstate_count(kind, jobs, n) == -1)
		return -1;
	return kind == READSTATE_CHANNEL ?
	    readstate_count(READSTATE_MENTIONS, jobs, n) : 0;
}

/*
 * Keep, of the channels of l (ordered by server), those the user may
 * view, judged by the worker's copy of each server's roles and
 * overwrites (access.c) and the user's roles there, read for all their
 * servers with one query.  A server they are no longer a member of
 * keeps none.  0 or -1.
 */
static int
readstate_keep_viewable(struct readcache_list *l)
{
	const struct access_server	*sa = NULL;
	struct access_member		*ms;
	uint64_t			 server_id = 0;
	size_t				 i, kept = 0, j = 0;
	long				 n;
	int				 rc = 0;

	if ((n = access_memberships_load(l->user_id, &ms)) == -1)
		return -1;
	for (i = 0; i < l->n && rc != -1; i++) {
		if (l->v[i].rs.server_id != server_id) {
			server_id = l->v[i].rs.server_id;
			while (j < (size_t)n && ms[j].server_id < server_id)
				j++;
			rc = j < (size_t)n && ms[j].server_id == server_id ?
			    access_cached(server_id, 0, &sa) : 0;
		}
		if (rc == 1 && access_may_view(sa, &ms[j],
		    l->v[i].rs.channel_id))
			l->v[kept++] = l->v[i];
	}
	access_members_free(ms, (size_t)n);
	l->n = kept;
	return rc == -1 ? -1 : 0;
}

/*
 * Note a server of l's user with its generation now, once: the list is
 * stale when it changes, even with none of its channels in view.
 */
static void
readstate_note_server(struct readcache_list *l, uint64_t server_id)
{
	if (l->nservers > 0 && l->servers[l->nservers - 1].id == server_id)
		return;
	l->servers = xreallocarray(l->servers, l->nservers + 1,
	    sizeof *l->servers);
	l->servers[l->nservers].id = server_id;
	l->servers[l->nservers++].gen = readcache_gen(READCACHE_SERVER,
	    server_id);
}

/*
 * Fill l with the channels its user can view, ordered by server then
 * channel, then their DMs by id: ids only.  0 or -1.  The one place that
 * answers "which conversations does this user see" for read states.
 */
static int
readstate_visible(struct readcache_list *l)
{
	struct readcache_entry	*e;
	struct db_rows		*rows;
	int			 rc;

	if ((rows = db_query(&q_member_channels, "u", l->user_id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		readstate_note_server(l, db_u64(rows, 0));
		if (db_u64(rows, 1) == 0)
			continue;
		e = readstate_push(l);
		e->rs.server_id = db_u64(rows, 0);
		e->rs.channel_id = db_u64(rows, 1);
	}
	db_rows_free(rows);
	if (rc == -1 || readstate_keep_viewable(l) == -1)
		return -1;
	if ((rows = db_query(&q_user_dms, "uu", l->user_id,
	    l->user_id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1)
		readstate_push(l)->rs.dm_channel_id = db_u64(rows, 0);
	db_rows_free(rows);
	return rc;
}

/* The generations an entry of a list is read at, now. */
static void
readstate_note_gens(struct readcache_entry *e)
{
	if (e->rs.channel_id != 0) {
		e->conversation_gen = readcache_gen(READCACHE_CHANNEL,
		    e->rs.channel_id);
		e->server_gen = readcache_gen(READCACHE_SERVER,
		    e->rs.server_id);
	} else
		e->conversation_gen = readcache_gen(READCACHE_DM,
		    e->rs.dm_channel_id);
}

/* Whether an entry was read before its conversation or server changed. */
static int
readstate_entry_stale(const struct readcache_entry *e)
{
	struct readcache_entry	now = *e;

	readstate_note_gens(&now);
	return now.conversation_gen != e->conversation_gen ||
	    now.server_gen != e->server_gen;
}

/* Compare two entries in the order of a list (channels, then DMs). */
static int
readstate_entry_cmp(const struct readcache_entry *a,
    const struct readcache_entry *b)
{
	if ((a->rs.dm_channel_id != 0) != (b->rs.dm_channel_id != 0))
		return a->rs.dm_channel_id != 0 ? 1 : -1;
	if (a->rs.server_id != b->rs.server_id)
		return a->rs.server_id < b->rs.server_id ? -1 : 1;
	if (a->rs.channel_id != b->rs.channel_id)
		return a->rs.channel_id < b->rs.channel_id ? -1 : 1;
	if (a->rs.dm_channel_id != b->rs.dm_channel_id)
		return a->rs.dm_channel_id < b->rs.dm_channel_id ? -1 : 1;
	return 0;
}

/*
 * Read the positions of the entries of l that need it (all, or those
 * whose conversation changed), then count the entries whose position or
 * newest message differ from what old (the list as kept before, or
 * NULL) had for them, or that changed since: with a statement per kind
 * for each step.  0 or -1.
 */
static int
readstate_refresh(struct readcache_list *l, const struct readcache_list *old,
    int all)
{
	struct readstate_job	*jobs[2];
	size_t			 njobs[2] = { 0, 0 }, i, o = 0;
	const struct readcache_entry *prev;
	struct readcache_entry	*e;
	int			 kind, cmp, rc = -1, k;

	jobs[0] = xcalloc(l->n + 1, sizeof *jobs[0]);
	jobs[1] = xcalloc(l->n + 1, sizeof *jobs[1]);
	for (i = 0; i < l->n; i++) {
		e = &l->v[i];
		if (!all && !readstate_entry_stale(e))
			continue;
		kind = e->rs.channel_id != 0 ? READSTATE_CHANNEL :
		    READSTATE_DM;
		jobs[kind][njobs[kind]].rs = &e->rs;
		jobs[kind][njobs[kind]++].user_id = l->user_id;
	}
	for (k = 0; k < 2; k++)
		if (readstate_positions(k, jobs[k], njobs[k]) == -1)
			goto done;
	/* The counts of what moved; the rest keep theirs. */
	njobs[0] = njobs[1] = 0;
	for (i = 0; i < l->n; i++) {
		e = &l->v[i];
		prev = NULL;
		while (old != NULL && o < old->n && (cmp =
		    readstate_entry_cmp(&old->v[o], e)) <= 0) {
			if (cmp == 0)
				prev = &old->v[o];
			o++;
		}
		if (prev != NULL && !readstate_entry_stale(prev) &&
		    prev->rs.last_read_id == e->rs.last_read_id &&
		    prev->rs.last_message_id == e->rs.last_message_id) {
			e->rs.unread_count = prev->rs.unread_count;
			e->rs.mention_count = prev->rs.mention_count;
		} else {
			kind = e->rs.channel_id != 0 ? READSTATE_CHANNEL :
			    READSTATE_DM;
			jobs[kind][njobs[kind]].rs = &e->rs;
			jobs[kind][njobs[kind]++].user_id = l->user_id;
		}
		readstate_note_gens(e);
	}
	for (k = 0; k < 2; k++)
		if (readstate_counts(k, jobs[k], njobs[k]) == -1)
			goto done;
	rc = 0;
done:
	free(jobs[0]);
	free(jobs[1]);
	return rc;
}

/*
 * Whether a kept list must be read again whole: the user's servers,
 * roles, channels or DMs changed (their generation, or their servers'),
 * or it is old.
 */
static int
readstate_list_stale(const struct readcache_list *l)
{
	long long	max_age;
	size_t		i;

	max_age = cfg->cache_ms > READSTATE_LIST_MAX_AGE ? cfg->cache_ms :
	    READSTATE_LIST_MAX_AGE;
	if (l->user_gen != readcache_gen(READCACHE_USER, l->user_id) ||
	    l->built_ms == 0 || clock_ms() - l->built_ms >= max_age)
		return 1;
	for (i = 0; i < l->nservers; i++) {
		if (l->servers[i].gen != readcache_gen(READCACHE_SERVER,
		    l->servers[i].id))
			return 1;
	}
	return 0;
}

/*
 * The read states of every conversation a user sees, current: the list
 * the worker keeps, brought up to date, or a new one.  It is the
 * cache's (readcache_put()); NULL on failure.
 */
static struct readcache_list *
readstate_current(uint64_t user_id)
{
	struct readcache_list	*old, *l, before;
	uint32_t		 user_gen, read_gen;
	int			 rc;

	user_gen = readcache_gen(READCACHE_USER, user_id);
	read_gen = readcache_gen(READCACHE_READ, user_id);
	old = readcache_get(user_id);
	if (old != NULL && !readstate_list_stale(old)) {
		/* Only positions moved: read them, count what changed. */
		before = *old;
		before.v = xreallocarray(NULL, old->n + 1, sizeof *old->v);
		if (old->n > 0)
			memcpy(before.v, old->v, old->n * sizeof *old->v);
		rc = readstate_refresh(old, &before, old->read_gen != read_gen);
		free(before.v);
		if (rc == -1) {
			/* Half refreshed: read it whole next time. */
			old->built_ms = 0;
			return NULL;
		}
		old->read_gen = read_gen;
		return old;
	}
	l = xcalloc(1, sizeof *l);
	l->user_id = user_id;
	l->user_gen = user_gen;
	l->read_gen = read_gen;
	l->built_ms = clock_ms();
	if ((rc = readstate_visible(l)) == 0)
		rc = readstate_refresh(l, old, 1);
	if (rc == -1) {
		readcache_list_free(l);
		return NULL;
	}
	if (readcache_on())
		readcache_put(l);
	return l;
}

/*
 * Write the read states of every conversation the user can see as an
 * array: server channels by server then channel, then DMs by id.  0 or
 * -1 (g is then incomplete).
 */
int
readstate_list(uint64_t user_id, yajl_gen g)
{
	struct readcache_list	*l;
	size_t			 i;

	if ((l = readstate_current(user_id)) == NULL)
		return -1;
	yajl_gen_array_open(g);
	for (i = 0; i < l->n; i++)
		readstate_gen(g, &l->v[i].rs);
	yajl_gen_array_close(g);
	if (!readcache_on())
		readcache_list_free(l);
	return 0;
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

/*
 * Store the positions of the acks of one kind that moved, with one
 * statement: [[user, conversation, position], ...].  0 or -1.
 */
static int
readstate_store(int kind, const struct readstate_ack *acks, size_t n)
{
	const char	*text;
	size_t		 i, len, moved = 0;
	yajl_gen	 g;
	long long	 rc;

	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		if (acks[i].result != READSTATE_MOVED ||
		    (acks[i].c.channel_id != 0) != (kind == READSTATE_CHANNEL))
			continue;
		yajl_gen_array_open(g);
		json_gen_id_or_zero(g, acks[i].user_id);
		json_gen_id_or_zero(g, kind == READSTATE_CHANNEL ?
		    acks[i].c.channel_id : acks[i].c.dm_channel_id);
		json_gen_id_or_zero(g, acks[i].rs.last_read_id);
		yajl_gen_array_close(g);
		moved++;
	}
	yajl_gen_array_close(g);
	text = json_gen_text(g, &len);
	rc = moved == 0 ? 0 : db_exec(&q_ack[kind], "b", text, len);
	yajl_gen_free(g);
	return rc == -1 ? -1 : 0;
}

/*
 * Append read_state.update {read state} for each ack that moved, each
 * scoped to its user alone, with one statement.  0 or -1.
 */
static int
readstate_events(const struct readstate_ack *acks, size_t n)
{
	struct event_scope	*scopes;
	yajl_gen		*data;
	size_t			 i, moved = 0;
	int			 rc;

	scopes = xcalloc(n, sizeof *scopes);
	data = xcalloc(n, sizeof *data);
	for (i = 0; i < n; i++) {
		if (acks[i].result != READSTATE_MOVED)
			continue;
		scopes[moved].user_id = acks[i].user_id;
		data[moved] = json_gen_new();
		readstate_gen(data[moved++], &acks[i].rs);
	}
	rc = moved == 0 ? 0 : events_append_many("read_state.update", scopes,
	    data, moved);
	for (i = 0; i < moved; i++)
		yajl_gen_free(data[i]);
	free(data);
	free(scopes);
	return rc;
}

/*
 * Acknowledge n conversations, each up to its message_id for its user
 * (who may open it: the caller checked), in one transaction: their
 * positions, counts and events read and written with a statement per
 * step for all of them.  Each ack's result is READSTATE_MOVED (its
 * position moved: stored, read_state.update appended), READSTATE_KEPT
 * (an older id: nothing written) or READSTATE_GONE (no longer a member,
 * or the DM is gone), with its read state in rs.  0, or -1 when the
 * transaction failed (nothing written).
 */
int
readstate_ack_many(struct readstate_ack *acks, size_t n)
{
	struct readstate_job	*jobs[2];
	size_t			 njobs[2] = { 0, 0 }, i;
	uint64_t		 target;
	int			 kind, k;

	jobs[0] = xcalloc(n, sizeof *jobs[0]);
	jobs[1] = xcalloc(n, sizeof *jobs[1]);
	for (i = 0; i < n; i++) {
		memset(&acks[i].rs, 0, sizeof acks[i].rs);
		acks[i].rs.server_id = acks[i].c.server_id;
		acks[i].rs.channel_id = acks[i].c.channel_id;
		acks[i].rs.dm_channel_id = acks[i].c.dm_channel_id;
		kind = acks[i].c.channel_id != 0 ? READSTATE_CHANNEL :
		    READSTATE_DM;
		jobs[kind][njobs[kind]].rs = &acks[i].rs;
		jobs[kind][njobs[kind]++].user_id = acks[i].user_id;
	}
	if (db_begin() == -1)
		goto fail;
	for (k = 0; k < 2; k++)
		if (readstate_positions(k, jobs[k], njobs[k]) == -1)
			goto rollback;
	njobs[0] = njobs[1] = 0;
	for (i = 0; i < n; i++) {
		kind = acks[i].c.channel_id != 0 ? READSTATE_CHANNEL :
		    READSTATE_DM;
		if (!jobs[kind][njobs[kind]++].found) {
			acks[i].result = READSTATE_GONE;
			continue;
		}
		target = readstate_ack_target(acks[i].message_id,
		    jobs[kind][njobs[kind] - 1].newest);
		acks[i].result = READSTATE_KEPT;
		if (target > acks[i].rs.last_read_id) {
			acks[i].rs.last_read_id = target;
			acks[i].result = READSTATE_MOVED;
		}
	}
	for (k = 0; k < 2; k++)
		if (readstate_store(k, acks, n) == -1 ||
		    readstate_counts(k, jobs[k], njobs[k]) == -1)
			goto rollback;
	if (readstate_events(acks, n) == -1 || db_commit() == -1)
		goto rollback;
	free(jobs[0]);
	free(jobs[1]);
	return 0;
rollback:
	db_rollback();
fail:
	free(jobs[0]);
	free(jobs[1]);
	return -1;
}

/* Answer an ack with its read state, or the 404 of a conversation gone. */
void
readstate_respond(struct request *req, const struct readstate_ack *a)
{
	yajl_gen	g;

	if (a->result == READSTATE_GONE) {
		response_not_found(req, a->c.channel_id != 0 ? "channel" :
		    "DM channel");
		return;
	}
	g = json_gen_new();
	readstate_gen(g, &a->rs);
	response_json(req, 200, g);
}

/*
 * Acknowledge a conversation the caller may open up to message_id and
 * answer 200 with the read state, alone (not in a batch: ackbatch.c).
 */
void
readstate_ack(struct request *req, const struct conversation *c,
    uint64_t message_id)
{
	struct readstate_ack	a;

	memset(&a, 0, sizeof a);
	a.user_id = req->user_id;
	a.c = *c;
	a.message_id = message_id;
	if (readstate_ack_many(&a, 1) == -1)
		response_db_error(req);
	else
		readstate_respond(req, &a);
}
