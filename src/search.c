/* SPDX-License-Identifier: ISC */
/*
 * search.c: finding messages and users (API.md, Search and
 * GET /users/search).
 *
 * Messages are found through message_words (sql/014_search.sql): one row
 * per distinct word of a message, kept by triggers in the message's own
 * transaction, compared as the collation compares.  A search is one
 * statement that walks candidates newest first and keeps those that have
 * every word, a word starting with the last one, and each quoted phrase,
 * up to SEARCH_TOTAL_MAX of them: their number is the answer's total, the
 * first `limit` its page.  Where the candidates come from is chosen per
 * query (search_plan()), because no one order is fast for every query:
 *
 * - SEARCH_WORD: the index rows of the query's rarest exact word, read
 *   backwards (newest first) from its primary key;
 * - SEARCH_PREFIX: with no exact word, the messages of the words that
 *   start with the last word, when there are few of them;
 * - SEARCH_SCAN: the conversation's messages newest first, when its last
 *   word alone is so common that matches are dense (or a DM holds fewer
 *   messages than the rarest word has rows).
 *
 * docs/hacking.md ("Search") has the measurements behind this.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define SEARCH_TOTAL_MAX	1000	/* matches counted (API.md) */
#define SEARCH_ESTIMATE_CAP	20000	/* rows counted to choose a plan */
#define SEARCH_ESTIMATES	4	/* exact words whose rows are counted */
#define SEARCH_WORD_MAX		64	/* characters of a word kept */

enum search_plan {
	SEARCH_WORD,
	SEARCH_PREFIX,
	SEARCH_SCAN,
	SEARCH_PLANS
};
enum search_scope {
	SEARCH_SERVER,
	SEARCH_DM,
	SEARCH_SCOPES
};

/* The words of a text, cut as the index cuts them (sql/014_search.sql). */
static struct db_stmt q_words = DB_STMT(
    "SELECT LEFT(t.w, 64) FROM JSON_TABLE(search_words(?), '$[*]'"
    " COLUMNS (n FOR ORDINALITY, w VARCHAR(4000) CHARACTER SET utf8mb4"
    " PATH '$')) t WHERE t.w <> '' ORDER BY t.n");
static struct db_stmt q_word_rows = DB_STMT(
    "SELECT COUNT(*) FROM (SELECT 1 FROM message_words WHERE word = ?"
    " LIMIT 20000) t");
static struct db_stmt q_prefix_rows = DB_STMT(
    "SELECT COUNT(*) FROM (SELECT 1 FROM message_words WHERE word LIKE ?"
    " LIMIT 20000) t");
static struct db_stmt q_dm_rows = DB_STMT(
    "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE dm_channel_id = ?"
    " LIMIT 20000) t");

/*
 * The statements of a search, one per plan and scope, from the pieces
 * below.  Their parameters, in order: the plan's source (a word, a
 * prefix; none for SEARCH_SCAN), before, the scope (a comma list of
 * channel ids, or a DM channel id), the author (0: anyone), the words
 * (a JSON array), the last word's prefix pattern ('%' when the query
 * has none) and the phrases (a JSON array of patterns).
 *
 * The word tests are scalar subqueries (LIMIT 1, COUNT) on purpose:
 * written as EXISTS, MariaDB turns them into semi-joins that first
 * collect every message with the word, which for a common one is most
 * of the table (docs/hacking.md).  Words never hold '%', '_' or '\'
 * (search_words() keeps letters, digits and marks only), so they go into
 * LIKE patterns as they are.
 */
#define SEARCH_FROM_WORD \
	"SELECT d.message_id FROM message_words d STRAIGHT_JOIN messages m" \
	" ON m.id = d.message_id WHERE d.word = ? AND d.message_id < ?"
#define SEARCH_FROM_PREFIX \
	"SELECT m.id FROM messages m WHERE m.id IN (SELECT p.message_id" \
	" FROM message_words p WHERE p.word LIKE ?) AND m.id < ?"
#define SEARCH_FROM_SCAN \
	"SELECT m.id FROM messages m WHERE m.id < ?"
#define SEARCH_IN_SERVER \
	" AND FIND_IN_SET(m.channel_id, ?)"
#define SEARCH_IN_DM \
	" AND m.dm_channel_id = CAST(? AS UNSIGNED)"
#define SEARCH_MATCH \
	" AND NOT m.deleted" \
	" AND m.author_id = COALESCE(NULLIF(?, 0), m.author_id)" \
	" AND (SELECT COUNT(*) FROM JSON_TABLE(?, '$[*]' COLUMNS (w" \
	" VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci" \
	" PATH '$')) q WHERE (SELECT 1 FROM message_words x" \
	" WHERE x.message_id = m.id AND x.word = q.w LIMIT 1) IS NULL) = 0" \
	" AND (SELECT 1 FROM message_words x WHERE x.message_id = m.id" \
	" AND x.word LIKE ? LIMIT 1) IS NOT NULL" \
	" AND (SELECT COUNT(*) FROM JSON_TABLE(?, '$[*]' COLUMNS (p" \
	" VARCHAR(4000) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci" \
	" PATH '$')) ph WHERE search_words(m.content) COLLATE" \
	" utf8mb4_unicode_520_ci NOT LIKE ph.p) = 0"
#define SEARCH_NEWEST(col) \
	" ORDER BY " col " DESC LIMIT 1000"

static struct db_stmt q_search[SEARCH_PLANS][SEARCH_SCOPES] = {
	[SEARCH_WORD] = {
		DB_STMT(SEARCH_FROM_WORD SEARCH_IN_SERVER SEARCH_MATCH
		    SEARCH_NEWEST("d.message_id")),
		DB_STMT(SEARCH_FROM_WORD SEARCH_IN_DM SEARCH_MATCH
		    SEARCH_NEWEST("d.message_id")),
	},
	[SEARCH_PREFIX] = {
		DB_STMT(SEARCH_FROM_PREFIX SEARCH_IN_SERVER SEARCH_MATCH
		    SEARCH_NEWEST("m.id")),
		DB_STMT(SEARCH_FROM_PREFIX SEARCH_IN_DM SEARCH_MATCH
		    SEARCH_NEWEST("m.id")),
	},
	[SEARCH_SCAN] = {
		DB_STMT(SEARCH_FROM_SCAN SEARCH_IN_SERVER SEARCH_MATCH
		    SEARCH_NEWEST("m.id")),
		DB_STMT(SEARCH_FROM_SCAN SEARCH_IN_DM SEARCH_MATCH
		    SEARCH_NEWEST("m.id")),
	},
};

/* The page's messages, newest first. */
static struct db_stmt q_page = DB_STMT(
    MESSAGES_SELECT MESSAGES_AUTHOR
    " WHERE m.id IN (SELECT j.id FROM JSON_TABLE(?, '$[*]'"
    " COLUMNS (id BIGINT UNSIGNED PATH '$')) j) ORDER BY m.id DESC");

/*
 * Users who share a server or a DM with the caller, whose username
 * starts with a prefix, by username.
 */
static struct db_stmt q_users = DB_STMT(
    "SELECT u.id, u.username FROM users u WHERE u.username LIKE ?"
    " AND u.id <> ? AND (EXISTS (SELECT 1 FROM server_members a"
    " JOIN server_members b ON b.server_id = a.server_id"
    " WHERE a.user_id = ? AND b.user_id = u.id)"
    " OR EXISTS (SELECT 1 FROM dm_channels d WHERE d.user1_id = ?"
    " AND d.user2_id = u.id)"
    " OR EXISTS (SELECT 1 FROM dm_channels d WHERE d.user2_id = ?"
    " AND d.user1_id = u.id))"
    " ORDER BY u.username, u.id LIMIT ?");

/* One stretch of a query, between two '"' or not. */
struct search_stretch {
	char		**words;
	size_t		 n;
	int		 quoted;
};

/* Free what a parsed query holds. */
void
search_query_clear(struct search_query *sq)
{
	size_t	i;

	for (i = 0; i < sq->nwords; i++)
		free(sq->words[i]);
	free(sq->words);
	free(sq->prefix);
	if (sq->phrases != NULL)
		yajl_gen_free(sq->phrases);
	memset(sq, 0, sizeof *sq);
}

/* Add a word to the words every match must have (once). */
static void
search_add_word(struct search_query *sq, const char *w)
{
	size_t	i;

	for (i = 0; i < sq->nwords; i++) {
		if (strcmp(sq->words[i], w) == 0)
			return;
	}
	sq->words = xreallocarray(sq->words, sq->nwords + 1,
	    sizeof *sq->words);
	sq->words[sq->nwords++] = xstrdup(w);
}

/*
 * Read the words of one stretch of the query (between quotes or not)
 * into *out, n of them: 0, or -1 on a database error.
 */
static int
search_split(const char *text, size_t len, char ***out, size_t *n)
{
	struct db_rows	*rows;
	const char	*w;
	size_t		 wlen;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((rows = db_query(&q_words, "b", text, len)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		if ((w = db_str(rows, 0, &wlen)) == NULL)
			continue;
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[(*n)++] = xstrdup(w);
	}
	db_rows_free(rows);
	return rc;
}

/* Add a quoted stretch of two words or more as a phrase pattern. */
static void
search_add_phrase(struct search_query *sq, char **w, size_t n)
{
	char	*pattern, *p;
	size_t	 i, len = 3;

	for (i = 0; i < n; i++)
		len += strlen(w[i]) + 3;
	/* search_words() writes ["w1","w2",...]: %"w1","w2"% finds a run. */
	p = pattern = xmalloc(len);
	*p++ = '%';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\"%s\"", i > 0 ? "," : "", w[i]);
	*p++ = '%';
	*p = '\0';
	json_gen_str(sq->phrases, pattern);
	free(pattern);
}

/* Free the words of the stretches of a query. */
static void
search_stretches_free(struct search_stretch *st, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		while (st[i].n > 0)
			free(st[i].words[--st[i].n]);
		free(st[i].words);
	}
	free(st);
}

/*
 * Cut q into stretches at each '"' and read their words; a stretch is
 * quoted when it has an opening and a closing '"' (a last '"' without
 * its pair is only text).  Their number, or -1 on a database error.
 */
static long
search_stretches(const char *q, size_t len, struct search_stretch **out)
{
	struct search_stretch	*st = NULL;
	const char		*start = q, *end = q + len, *quote;
	size_t			 nquotes = 0, n = 0, i;

	for (i = 0; i < len; i++)
		nquotes += q[i] == '"';
	for (;;) {
		quote = memchr(start, '"', (size_t)(end - start));
		st = xreallocarray(st, n + 1, sizeof *st);
		st[n].quoted = n % 2 == 1 && n < nquotes;
		if (search_split(start, (size_t)((quote != NULL ? quote : end) -
		    start), &st[n].words, &st[n].n) == -1) {
			search_stretches_free(st, n);
			return -1;
		}
		n++;
		if (quote == NULL)
			break;
		start = quote + 1;
	}
	*out = st;
	return (long)n;
}

/*
 * Parse q (valid UTF-8, len bytes) into sq: every word must be there,
 * the last one (when it is not quoted) also as a prefix, each quoted
 * run of words together.  1, 0 when q has no word, -1 on a database
 * error.
 */
int
search_parse(const char *q, size_t len, struct search_query *sq)
{
	struct search_stretch	*st;
	long			 n, i, last = -1;
	size_t			 j;

	memset(sq, 0, sizeof *sq);
	if ((n = search_stretches(q, len, &st)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (st[i].n > 0)
			last = i;
	}
	sq->phrases = json_gen_new();
	yajl_gen_array_open(sq->phrases);
	for (i = 0; i < n; i++) {
		for (j = 0; j < st[i].n; j++) {
			if (i == last && !st[i].quoted && j == st[i].n - 1)
				xasprintf(&sq->prefix, "%s%%", st[i].words[j]);
			else
				search_add_word(sq, st[i].words[j]);
		}
		if (st[i].quoted && st[i].n >= 2)
			search_add_phrase(sq, st[i].words, st[i].n);
	}
	yajl_gen_array_close(sq->phrases);
	search_stretches_free(st, (size_t)n);
	if (last == -1) {
		search_query_clear(sq);
		return 0;
	}
	return 1;
}

/* The count an estimate statement's rows hold, or -1 (rows may be NULL). */
static long
search_count(struct db_rows *rows)
{
	long	n = -1;

	if (rows == NULL)
		return -1;
	if (db_fetch(rows) == 1)
		n = (long)db_u64(rows, 0);
	db_rows_free(rows);
	return n;
}

/*
 * Choose where a search's candidates come from (the top of this file):
 * the plan, and in *source the word or prefix it reads.  -1 on a
 * database error.
 */
static int
search_plan(const struct search_query *sq, uint64_t dm_channel_id,
    const char **source)
{
	long	rows, best = SEARCH_ESTIMATE_CAP + 1, dm_rows;
	size_t	i;

	*source = NULL;
	for (i = 0; i < sq->nwords && i < SEARCH_ESTIMATES; i++) {
		if ((rows = search_count(db_query(&q_word_rows, "s",
		    sq->words[i]))) == -1)
			return -1;
		if (rows < best) {
			best = rows;
			*source = sq->words[i];
		}
	}
	if (*source == NULL) {
		if ((rows = search_count(db_query(&q_prefix_rows, "s",
		    sq->prefix))) == -1)
			return -1;
		if (rows < SEARCH_ESTIMATE_CAP) {
			best = rows;
			*source = sq->prefix;
		}
	}
	if (dm_channel_id != 0 && *source != NULL) {
		if ((dm_rows = search_count(db_query(&q_dm_rows, "u",
		    dm_channel_id))) == -1)
			return -1;
		if (dm_rows < best)
			*source = NULL;
	}
	if (*source == NULL)
		return SEARCH_SCAN;
	return *source == sq->prefix ? SEARCH_PREFIX : SEARCH_WORD;
}

/*
 * Find the newest matches below before in a scope (a comma list of
 * channel ids, or the decimal id of a DM channel), SEARCH_TOTAL_MAX at
 * most, into ids (room for that many), newest first: their number, or
 * -1 on a database error.
 */
static long
search_ids(const struct search_query *sq, const struct search_where *sw,
    uint64_t *ids)
{
	struct db_stmt	*q;
	struct db_rows	*rows;
	const char	*source, *words_json, *phrases_json;
	char		 dm[24];
	const char	*scope = sw->channels;
	yajl_gen	 words;
	long		 n = 0;
	size_t		 i, len;
	int		 plan, rc = 0;

	if ((plan = search_plan(sq, sw->dm_channel_id, &source)) == -1)
		return -1;
	if (sw->dm_channel_id != 0) {
		snprintf(dm, sizeof dm, "%llu",
		    (unsigned long long)sw->dm_channel_id);
		scope = dm;
	}
	q = &q_search[plan][sw->dm_channel_id != 0 ? SEARCH_DM :
	    SEARCH_SERVER];
	words = json_gen_new();
	yajl_gen_array_open(words);
	for (i = 0; i < sq->nwords; i++) {
		/* The plan's own word needs no second look. */
		if (sq->words[i] != source)
			json_gen_str(words, sq->words[i]);
	}
	yajl_gen_array_close(words);
	words_json = json_gen_text(words, &len);
	phrases_json = json_gen_text(sq->phrases, &len);
	if (plan == SEARCH_SCAN)
		rows = db_query(q, "ususss", sw->before, scope, sw->author_id,
		    words_json, sq->prefix != NULL ? sq->prefix : "%",
		    phrases_json);
	else
		rows = db_query(q, "sususss", source, sw->before, scope,
		    sw->author_id, words_json, sq->prefix != NULL ?
		    sq->prefix : "%", phrases_json);
	yajl_gen_free(words);
	if (rows == NULL)
		return -1;
	while (n < SEARCH_TOTAL_MAX && (rc = db_fetch(rows)) == 1)
		ids[n++] = db_u64(rows, 0);
	db_rows_free(rows);
	return rc == -1 ? -1 : n;
}

/*
 * Write a search's answer, {total, messages}, into g: the newest limit
 * matches of sq in sw's scope, newest first.  0, or -1 on a database
 * error.
 */
int
search_messages(const struct search_query *sq, const struct search_where *sw,
    long limit, yajl_gen g)
{
	struct message	*ms;
	yajl_gen	 page;
	const char	*page_json;
	uint64_t	*ids;
	long		 total, n, i;
	size_t		 len;
	int		 rc = -1;

	ids = xreallocarray(NULL, SEARCH_TOTAL_MAX, sizeof *ids);
	if ((total = search_ids(sq, sw, ids)) == -1) {
		free(ids);
		return -1;
	}
	page = json_gen_new();
	yajl_gen_array_open(page);
	for (i = 0; i < total && i < limit; i++)
		yajl_gen_integer(page, (long long)ids[i]);
	yajl_gen_array_close(page);
	page_json = json_gen_text(page, &len);
	ms = xcalloc((size_t)limit, sizeof *ms);
	n = messages_read_reacted(db_query(&q_page, "s", page_json), ms,
	    limit, sw->reader_id);
	if (n != -1) {
		yajl_gen_map_open(g);
		json_gen_kint(g, "total", total);
		json_gen_key(g, "messages");
		yajl_gen_array_open(g);
		for (i = 0; i < n; i++) {
			messages_gen(g, &ms[i]);
			messages_clear(&ms[i]);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
		rc = 0;
	}
	free(ms);
	yajl_gen_free(page);
	free(ids);
	return rc;
}

/*
 * The channels of a server a member may view, as a comma list for a
 * search's scope (the caller frees it): all of them, or only channel_id
 * when it is not 0.  1, 0 when they are no member or channel_id is not a
 * channel they may view, -1 on a database error.
 */
int
search_channels(uint64_t server_id, uint64_t user_id, uint64_t channel_id,
    char **out)
{
	struct access_server	sa;
	struct access_member	am;
	char			*list = xstrdup(""), *next;
	size_t			i;
	int			rc;

	*out = NULL;
	if ((rc = access_load(server_id, &sa)) != 1) {
		free(list);
		return rc;
	}
	if ((rc = access_member_load(server_id, user_id, &am)) == 1) {
		for (i = 0; i < sa.nchannels; i++) {
			if ((channel_id != 0 && sa.channels[i] != channel_id) ||
			    !access_may_view(&sa, &am, sa.channels[i]))
				continue;
			xasprintf(&next, "%s%s%llu", list, list[0] != '\0' ?
			    "," : "", (unsigned long long)sa.channels[i]);
			free(list);
			list = next;
		}
		if (channel_id != 0 && list[0] == '\0')
			rc = 0;
	}
	free(am.roles);
	access_clear(&sa);
	if (rc != 1) {
		free(list);
		return rc;
	}
	*out = list;
	return 1;
}

/*
 * Write the users who share a server or a DM with user_id and whose
 * username starts with prefix (ignoring case), by username, at most
 * limit: 0, or -1 on a database error.
 */
int
search_users(uint64_t user_id, const char *prefix, long limit, yajl_gen g)
{
	struct db_rows	*rows;
	char		*pattern, *p;
	int		 rc;

	/* Usernames may hold '_', which LIKE reads as any character. */
	p = pattern = xmalloc(strlen(prefix) * 2 + 2);
	for (; *prefix != '\0'; prefix++) {
		if (*prefix == '%' || *prefix == '_' || *prefix == '\\')
			*p++ = '\\';
		*p++ = *prefix;
	}
	*p++ = '%';
	*p = '\0';
	rows = db_query(&q_users, "suuuui", pattern, user_id, user_id,
	    user_id, user_id, (long long)limit);
	free(pattern);
	if (rows == NULL)
		return -1;
	yajl_gen_array_open(g);
	while ((rc = db_fetch(rows)) == 1) {
		yajl_gen_map_open(g);
		json_gen_kid(g, "id", db_u64(rows, 0));
		json_gen_kstr(g, "username", db_str(rows, 1, NULL));
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	db_rows_free(rows);
	return rc;
}
