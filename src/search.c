/* SPDX-License-Identifier: ISC */
/*
 * search.c: finding messages and users (API.md, Search and
 * GET /users/search).
 *
 * Messages are found through message_postings (sql/020_search_postings.sql):
 * one row per word, server or DM, and chunk of messages indexed together
 * (words.c), holding the ids (and channels) of the chunk's messages with
 * the word, keyed (word, in_dm, scope_id, last_id) so that a word's rows
 * in one server or DM lie together, the newest last, each holding no id
 * above its last_id and none below its first_id (bounds: an edit or a
 * deletion takes its message's id out and leaves them, words.c).  A search finds the newest matches below `before`,
 * SEARCH_TOTAL_MAX at most: their number is the answer's total, the
 * first `limit` its page.  How (search_ids()):
 *
 * - The messages queued for the index and not yet in it (words.c) are
 *   checked on their text, all of them (the queue is short: each host's
 *   keeper empties it every 200 ms); their matches join the index's.
 *   The queue is read before anything of the index (the words of a
 *   prefix too): a message a drain takes out of the queue after that
 *   read is committed in the index before the index is read, so none
 *   falls between the two (each statement reads what is committed when
 *   it starts: READ COMMITTED).
 * - Each word is a term; the last word, a prefix, is one term of each of
 *   the words of the index that start with it (search_prefix_words()),
 *   when there are SEARCH_PREFIX_WORDS or fewer.  A term's rows are read
 *   newest first, a few more each time (SEARCH_CHUNK_FIRST, doubling),
 *   their ids kept when they lie below `before` in a channel the reader
 *   views.  The ids every term holds down to where each has been read
 *   are the candidates, newest first (search_intersect()).
 * - Candidates are checked against the messages as they are
 *   (search_verify()): there, not deleted, by the author asked for, and,
 *   when edited (its new words are queued, and rows read before the
 *   edit committed may still hold its old ones), holding the words and
 *   the prefix in their text; phrases always on the text.  So an edit's
 *   new words find it at once and its old ones no more, and a deleted
 *   message is never found.
 * - A term read to its end beside another that is not, the other having
 *   read SEARCH_ALONE_ROWS rows (a rare word beside a common one), its
 *   ids are checked on the messages' text for the other words instead.
 * - A prefix of more words is checked on the text: the candidates are
 *   the exact words' ones; with no exact word, the prefix's rows when
 *   they are few (SEARCH_PREFIX_ROWS), else the scope's messages newest
 *   first (matches are dense then).
 *
 * docs/hacking.md ("Search") has the measurements behind this.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define SEARCH_TOTAL_MAX	1000	/* matches counted (API.md) */
#define SEARCH_PREFIX_WORDS	16	/* words a prefix is searched as */
#define SEARCH_PREFIX_ROWS	20000	/* a prefix's rows read at most */
#define SEARCH_CHUNK_FIRST	4	/* rows a term's first read */
#define SEARCH_CHUNK_MAX	256	/* rows a term's read at most */
#define SEARCH_ALONE_ROWS	256	/* rows read beside a term read out */
#define SEARCH_VERIFY_IDS	256	/* candidates checked a statement */

/* The words of a text, cut as the index cuts them (sql/routines.sql). */
static struct db_stmt q_words = DB_STMT(
    "SELECT LEFT(t.w, 64) FROM JSON_TABLE(search_words(?), '$[*]'"
    " COLUMNS (n FOR ORDINALITY, w VARCHAR(4000) CHARACTER SET utf8mb4"
    " PATH '$')) t WHERE t.w <> '' ORDER BY t.n");
/* The first word of the index after one (or '') that matches a prefix. */
static struct db_stmt q_prefix_next = DB_STMT(
    "SELECT word FROM message_postings WHERE word LIKE ? AND word > ?"
    " ORDER BY word LIMIT 1");
/* A word's rows in a scope below a last_id, newest first, so many. */
static struct db_stmt q_rows = DB_STMT(
    "SELECT ids, last_id FROM message_postings WHERE word = ?"
    " AND in_dm = ? AND scope_id = ? AND last_id < ?"
    " ORDER BY last_id DESC LIMIT ?");
/* Its rows at or above before that hold ids below it: before, twice. */
static struct db_stmt q_rows_across = DB_STMT(
    "SELECT ids FROM message_postings WHERE word = ? AND in_dm = ?"
    " AND scope_id = ? AND last_id >= ? AND first_id < ?");
/* How many rows the words of a prefix have (SEARCH_PREFIX_ROWS at most). */
static struct db_stmt q_prefix_count = DB_STMT(
    "SELECT COUNT(*) FROM (SELECT 1 FROM message_postings WHERE word LIKE ?"
    " LIMIT 20000) t");
/* The rows of a prefix's words in a scope. */
static struct db_stmt q_prefix_rows = DB_STMT(
    "SELECT ids FROM message_postings WHERE word LIKE ? AND in_dm = ?"
    " AND scope_id = ?");

/*
 * What a candidate must pass, on the message as it is.  The parameters,
 * in order: the author (0: anyone, twice), whether to check the words
 * and the prefix on the text even when the message was never edited,
 * the words (a JSON array, twice), the prefix ('%' when none, twice) and
 * the phrases (a JSON array of patterns, twice).  A check whose
 * parameter says "none" is folded away when the statement is optimized
 * for its values, so it costs nothing.
 *
 * A message never edited has in the index exactly the words of its
 * text: what its rows found it by, it has.  The checks on the text are
 * scalar subqueries (LIMIT 1, COUNT) on purpose: written as EXISTS,
 * MariaDB turns them into semi-joins (docs/hacking.md).  The text's
 * words are compared as the index compares them (its collation, its 64
 * characters).  Words never hold '%', '_' or '\' (search_words() keeps
 * letters, digits and marks only), so they go into LIKE patterns as
 * they are.
 */
#define SEARCH_TEXT_WORDS \
	" FROM JSON_TABLE(search_words(m.content), '$[*]' COLUMNS" \
	" (w VARCHAR(4000) CHARACTER SET utf8mb4 PATH '$')) c WHERE" \
	" LEFT(c.w, 64) COLLATE utf8mb4_unicode_520_ci"
#define SEARCH_CHECK \
	" AND (? = 0 OR m.author_id = ?)" \
	" AND ((? = 0 AND m.edited_at IS NULL) OR ((? = '[]' OR" \
	" (SELECT COUNT(*) FROM JSON_TABLE(?, '$[*]' COLUMNS (w VARCHAR(64)" \
	" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci PATH '$')) q" \
	" WHERE (SELECT 1" SEARCH_TEXT_WORDS " = q.w LIMIT 1) IS NULL) = 0)" \
	" AND (? = '%' OR (SELECT 1" SEARCH_TEXT_WORDS " LIKE ? LIMIT 1)" \
	" IS NOT NULL)))" \
	" AND (? = '[]' OR (SELECT COUNT(*) FROM JSON_TABLE(?, '$[*]'" \
	" COLUMNS (p VARCHAR(4000) CHARACTER SET utf8mb4" \
	" COLLATE utf8mb4_unicode_520_ci PATH '$')) ph" \
	" WHERE search_words(m.content) COLLATE utf8mb4_unicode_520_ci" \
	" NOT LIKE ph.p) = 0)" \
	" ORDER BY m.id DESC LIMIT 1000"

/* Candidates (a JSON array of ids) that pass, newest first. */
static struct db_stmt q_verify = DB_STMT(
    "SELECT m.id FROM messages m WHERE m.id IN (SELECT j.id FROM"
    " JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) j)"
    " AND NOT m.deleted" SEARCH_CHECK);
/* What a scan of messages m reads: a server's, or a DM's. */
#define SEARCH_SERVER \
	" WHERE m.id < ? AND NOT m.deleted AND FIND_IN_SET(m.channel_id, ?)"
#define SEARCH_DM \
	" WHERE m.dm_channel_id = ? AND m.id < ? AND NOT m.deleted"
#define SEARCH_QUEUED \
	" FROM search_queue q JOIN messages m ON m.id = q.message_id"
/* A server's messages newest first: before, its channels the reader views. */
static struct db_stmt q_scan_server = DB_STMT(
    "SELECT m.id FROM messages m" SEARCH_SERVER SEARCH_CHECK);
/* A DM's messages newest first: the DM channel, before. */
static struct db_stmt q_scan_dm = DB_STMT(
    "SELECT m.id FROM messages m" SEARCH_DM SEARCH_CHECK);
/* The same of the messages queued for the index (words.c). */
static struct db_stmt q_queued_server = DB_STMT(
    "SELECT m.id" SEARCH_QUEUED SEARCH_SERVER SEARCH_CHECK);
static struct db_stmt q_queued_dm = DB_STMT(
    "SELECT m.id" SEARCH_QUEUED SEARCH_DM SEARCH_CHECK);

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

/* What a candidate is checked for (SEARCH_CHECK). */
struct search_checks {
	uint64_t	 author_id;	/* 0: anyone */
	int		 text;		/* words and prefix on every text */
	const char	*words;		/* a JSON array */
	const char	*prefix;	/* a LIKE pattern, "%" for none */
	const char	*phrases;	/* a JSON array of LIKE patterns */
};

/* Where a search looks. */
struct search_scope {
	int		 in_dm;
	uint64_t	 scope_id;	/* the server, or the DM channel */
	uint64_t	 before;
	uint64_t	*channels;	/* those the reader views, sorted */
	size_t		 nchannels;
	int		 all;		/* every channel (or a DM) */
};

/* One word's rows in a scope, read newest first. */
struct search_cursor {
	const char	*word;
	uint64_t	 below;		/* its ids at or above it are read */
	long		 chunk;		/* rows its next read asks for */
};

/*
 * A term: the messages that have one of its words (one, or those of a
 * prefix), as far as its rows have been read.
 */
struct search_term {
	struct search_cursor	*cursors;
	size_t			 ncursors;
	uint64_t		*ids;		/* newest first, once sorted */
	size_t			 nids;
	size_t			 cap;
	long			 rows;		/* read so far */
};

/* Free n words. */
static void
search_words_free(char **words, size_t n)
{
	while (n > 0)
		free(words[--n]);
	free(words);
}

/*
 * The words of the index that start with a prefix (a LIKE pattern
 * "word%"), into *out (the caller frees them with search_words_free()),
 * n of them: 1, 0 when there are more than SEARCH_PREFIX_WORDS (*out is
 * then NULL), -1 on a database error.  Each is found after the one
 * before with one descent of the primary key, never reading a word's
 * rows.
 */
static int
search_prefix_words(const char *prefix, char ***out, size_t *n)
{
	struct db_rows	*rows;
	char		**words = NULL;
	const char	*w;
	size_t		 nw = 0;
	int		 rc;

	*out = NULL;
	*n = 0;
	do {
		if ((rows = db_query(&q_prefix_next, "ss", prefix,
		    nw > 0 ? words[nw - 1] : "")) == NULL) {
			search_words_free(words, nw);
			return -1;
		}
		if ((rc = db_fetch(rows)) == 1 && nw < SEARCH_PREFIX_WORDS &&
		    (w = db_str(rows, 0, NULL)) != NULL) {
			words = xreallocarray(words, nw + 1, sizeof *words);
			words[nw++] = xstrdup(w);
		} else if (rc == 1)
			rc = -2;	/* one word too many */
		db_rows_free(rows);
	} while (rc == 1);
	if (rc != 0) {
		search_words_free(words, nw);
		return rc == -2 ? 0 : -1;
	}
	*out = words;
	*n = nw;
	return 1;
}

/* Order ids newest first. */
static int
search_id_compare(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x > y ? -1 : x < y;
}

/* Sort ids newest first and drop the repeated ones: how many are left. */
static size_t
search_ids_sort(uint64_t *ids, size_t n)
{
	size_t	i, kept = 0;

	if (n == 0)
		return 0;
	qsort(ids, n, sizeof *ids, search_id_compare);
	for (i = 0; i < n; i++) {
		if (kept == 0 || ids[kept - 1] != ids[i])
			ids[kept++] = ids[i];
	}
	return kept;
}

/* 1 if ids (newest first) holds id. */
static int
search_ids_have(const uint64_t *ids, size_t n, uint64_t id)
{
	return n > 0 &&
	    bsearch(&id, ids, n, sizeof *ids, search_id_compare) != NULL;
}

/*
 * Read the channels a reader views (a comma list, or "*" for all) into
 * ss, sorted.
 */
static void
search_scope_channels(struct search_scope *ss, const char *list)
{
	const char	*p;
	char		*end;

	ss->all = ss->in_dm || strcmp(list, "*") == 0;
	ss->channels = NULL;
	ss->nchannels = 0;
	if (ss->all)
		return;
	for (p = list; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		ss->channels = xreallocarray(ss->channels, ss->nchannels + 1,
		    sizeof *ss->channels);
		ss->channels[ss->nchannels++] = strtoull(p, &end, 10);
		if (end == p)
			break;
	}
	if (ss->nchannels > 0)
		qsort(ss->channels, ss->nchannels, sizeof *ss->channels,
		    search_id_compare);
}

/*
 * Add the ids a row's ids column holds ("id:channel_id,...") to ids,
 * those below before in a channel the reader views.
 */
static void
search_row_ids(const struct search_scope *ss, const char *text,
    uint64_t **ids, size_t *n, size_t *cap)
{
	const char	*p = text;
	char		*end;
	uint64_t	 id, channel;

	while (*p != '\0') {
		id = strtoull(p, &end, 10);
		if (*end != ':')
			break;
		channel = strtoull(end + 1, &end, 10);
		if (id < ss->before && (ss->all ||
		    search_ids_have(ss->channels, ss->nchannels, channel))) {
			if (*n == *cap) {
				*cap = *cap > 0 ? *cap * 2 : 256;
				*ids = xreallocarray(*ids, *cap, sizeof **ids);
			}
			(*ids)[(*n)++] = id;
		}
		if (*end != ',')
			break;
		p = end + 1;
	}
}

/*
 * Add every row's ids (its first column) to a term, and the last row's
 * second column to *last unless last is NULL: the rows read, or -1
 * (rows may be NULL).
 */
static long
search_term_add(struct search_term *t, const struct search_scope *ss,
    struct db_rows *rows, uint64_t *last)
{
	long	n = 0;
	int	rc;

	if (rows == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		search_row_ids(ss, db_str(rows, 0, NULL), &t->ids, &t->nids,
		    &t->cap);
		if (last != NULL)
			*last = db_u64(rows, 1);
		n++;
	}
	db_rows_free(rows);
	return rc == -1 ? -1 : n;
}

/* Down to where a term's ids are all read: 0 when they all are. */
static uint64_t
search_term_below(const struct search_term *t)
{
	uint64_t	below = 0;
	size_t		i;

	for (i = 0; i < t->ncursors; i++) {
		if (t->cursors[i].below > below)
			below = t->cursors[i].below;
	}
	return below;
}

/*
 * Read more of a term: the next rows of its word read the least far
 * (first those above before that reach below it).  0, or -1.
 */
static int
search_term_read(struct search_term *t, const struct search_scope *ss)
{
	struct search_cursor	*c = &t->cursors[0];
	uint64_t		 last = 0;
	long			 n;
	size_t			 i;

	for (i = 1; i < t->ncursors; i++) {
		if (t->cursors[i].below > c->below)
			c = &t->cursors[i];
	}
	if (c->chunk == 0) {
		c->chunk = SEARCH_CHUNK_FIRST;
		if (ss->before != UINT64_MAX && search_term_add(t, ss,
		    db_query(&q_rows_across, "sduuu", c->word, ss->in_dm,
		    ss->scope_id, ss->before, ss->before), NULL) == -1)
			return -1;
	}
	if ((n = search_term_add(t, ss, db_query(&q_rows, "sduui", c->word,
	    ss->in_dm, ss->scope_id, c->below, (long long)c->chunk),
	    &last)) == -1)
		return -1;
	t->rows += n;
	c->below = n < c->chunk ? 0 : last;
	if (c->chunk < SEARCH_CHUNK_MAX)
		c->chunk *= 2;
	t->nids = search_ids_sort(t->ids, t->nids);
	return 0;
}

/* Append the ids rows hold to found, up to SEARCH_TOTAL_MAX; 0, or -1. */
static int
search_collect(struct db_rows *rows, uint64_t *found, size_t *n)
{
	int	rc = 0;

	if (rows == NULL)
		return -1;
	while (*n < SEARCH_TOTAL_MAX && (rc = db_fetch(rows)) == 1)
		found[(*n)++] = db_u64(rows, 0);
	db_rows_free(rows);
	return rc == -1 ? -1 : 0;
}

/*
 * Check candidates (newest first) and append those that pass to found
 * (newest first), until it holds SEARCH_TOTAL_MAX.  0, or -1.
 */
static int
search_verify(const uint64_t *ids, size_t n, const struct search_checks *sc,
    uint64_t *found, size_t *nfound)
{
	struct db_rows	*rows;
	yajl_gen	 list;
	const char	*json;
	size_t		 i, at, len;
	int		 rc = 0;

	for (at = 0; at < n && *nfound < SEARCH_TOTAL_MAX && rc == 0;
	    at += SEARCH_VERIFY_IDS) {
		list = json_gen_new();
		yajl_gen_array_open(list);
		for (i = at; i < n && i < at + SEARCH_VERIFY_IDS; i++)
			yajl_gen_integer(list, (long long)ids[i]);
		yajl_gen_array_close(list);
		json = json_gen_text(list, &len);
		rows = db_query(&q_verify, "suudssssss", json, sc->author_id,
		    sc->author_id, sc->text, sc->words, sc->words, sc->prefix,
		    sc->prefix, sc->phrases, sc->phrases);
		rc = search_collect(rows, found, nfound);
		yajl_gen_free(list);
	}
	return rc;
}

/*
 * The ids of terms[0] in [low, high) that every other term holds, newest
 * first, into *out (the caller frees it): their number.
 */
static size_t
search_common(const struct search_term *terms, size_t n, uint64_t low,
    uint64_t high, uint64_t **out)
{
	uint64_t	*ids;
	size_t		 i, k, got = 0;

	ids = xreallocarray(NULL, terms[0].nids + 1, sizeof *ids);
	for (i = 0; i < terms[0].nids; i++) {
		if (terms[0].ids[i] >= high)
			continue;
		if (terms[0].ids[i] < low)
			break;
		for (k = 1; k < n && search_ids_have(terms[k].ids,
		    terms[k].nids, terms[0].ids[i]); k++)
			;
		if (k < n)
			continue;
		ids[got++] = terms[0].ids[i];
	}
	*out = ids;
	return got;
}

/*
 * The matches of terms (every one's word, and the checks), newest
 * first, into found.  The terms are read in turn, the one read the least
 * far first; the ids all of them hold down to where the least read one
 * is read are checked, and so on down, until SEARCH_TOTAL_MAX pass or
 * the rows end.  A term read out beside one that has read
 * SEARCH_ALONE_ROWS rows has its remaining ids checked on the text
 * instead.  0, or -1.
 */
static int
search_intersect(struct search_term *terms, size_t n,
    const struct search_scope *ss, const struct search_checks *sc,
    uint64_t *found, size_t *nfound)
{
	struct search_checks	 text = *sc;
	uint64_t		*ids, below, checked = ss->before;
	size_t			 i, k, out, nids;
	int			 rc;

	text.text = 1;
	for (;;) {
		below = 0;
		k = 0;
		for (i = 0; i < n; i++) {
			if (search_term_below(&terms[i]) > below)
				below = search_term_below(&terms[i]), k = i;
		}
		if (below < checked) {
			nids = search_common(terms, n, below, checked, &ids);
			rc = search_verify(ids, nids, sc, found, nfound);
			free(ids);
			if (rc == -1 || *nfound >= SEARCH_TOTAL_MAX)
				return rc;
			checked = below;
		}
		if (below == 0)
			return 0;
		for (out = 0; out < n; out++) {
			if (search_term_below(&terms[out]) != 0)
				continue;
			for (i = 0; i < terms[out].nids &&
			    terms[out].ids[i] >= checked; i++)
				;
			if (i == terms[out].nids)
				return 0;	/* nothing below: no more */
			if (terms[k].rows >= SEARCH_ALONE_ROWS)
				return search_verify(terms[out].ids + i,
				    terms[out].nids - i, &text, found,
				    nfound);
		}
		if (search_term_read(&terms[k], ss) == -1)
			return -1;
	}
}

/*
 * Run a scan of a server's or a DM's messages (server or dm, the
 * statements of SEARCH_SERVER and SEARCH_DM) that checks every message
 * on its text, appending what passes to found.  0, or -1.
 */
static int
search_text(struct db_stmt *server, struct db_stmt *dm,
    const struct search_scope *ss, const char *channel_list,
    const struct search_checks *sc, uint64_t *found, size_t *nfound)
{
	struct db_rows	*rows;

	if (ss->in_dm)
		rows = db_query(dm, "uuuudssssss", ss->scope_id, ss->before,
		    sc->author_id, sc->author_id, 1, sc->words, sc->words,
		    sc->prefix, sc->prefix, sc->phrases, sc->phrases);
	else
		rows = db_query(server, "usuudssssss", ss->before, channel_list,
		    sc->author_id, sc->author_id, 1, sc->words, sc->words,
		    sc->prefix, sc->prefix, sc->phrases, sc->phrases);
	return search_collect(rows, found, nfound);
}

/*
 * The matches of a query with no exact word and a prefix of too many
 * words to be terms: the prefix's rows read and sorted when they are few
 * (their ids have a word of the prefix: only the edited ones are checked
 * on the text), else the scope's messages newest first, each checked on
 * the text.  0, or -1.
 */
static int
search_wide(const struct search_scope *ss, const char *channel_list,
    const struct search_checks *sc, uint64_t *found, size_t *nfound)
{
	struct search_checks	 indexed;
	struct search_term	 t;
	struct db_rows		*rows;
	long			 few;
	int			 rc;

	rows = db_query(&q_prefix_count, "s", sc->prefix);
	if (rows == NULL || db_fetch(rows) != 1) {
		db_rows_free(rows);
		return -1;
	}
	few = (long)db_u64(rows, 0);
	db_rows_free(rows);
	if (few < SEARCH_PREFIX_ROWS) {
		memset(&t, 0, sizeof t);
		rc = search_term_add(&t, ss, db_query(&q_prefix_rows, "sdu",
		    sc->prefix, ss->in_dm, ss->scope_id), NULL) == -1 ? -1 : 0;
		t.nids = search_ids_sort(t.ids, t.nids);
		indexed = *sc;
		indexed.text = 0;
		if (rc == 0)
			rc = search_verify(t.ids, t.nids, &indexed, found,
			    nfound);
		free(t.ids);
		return rc;
	}
	return search_text(&q_scan_server, &q_scan_dm, ss, channel_list, sc,
	    found, nfound);
}

/*
 * A term of each word into terms, and one of the prefix's words (alts,
 * nalts of them) when prefixed: their number.
 */
static size_t
search_terms_make(const struct search_query *sq, int prefixed, char **alts,
    size_t nalts, uint64_t before, struct search_term *terms)
{
	struct search_cursor	*c;
	size_t			 n, i;

	for (n = 0; n < sq->nwords + (prefixed != 0); n++) {
		terms[n].ncursors = n < sq->nwords ? 1 : nalts;
		terms[n].cursors = c = xcalloc(terms[n].ncursors + 1,
		    sizeof *c);
		for (i = 0; i < terms[n].ncursors; i++) {
			c[i].word = n < sq->nwords ? sq->words[n] : alts[i];
			c[i].below = before;
		}
	}
	return n;
}

/* Free what terms hold. */
static void
search_terms_free(struct search_term *terms, size_t n)
{
	while (n > 0) {
		n--;
		free(terms[n].cursors);
		free(terms[n].ids);
	}
	free(terms);
}

/*
 * Find the newest matches of sq in sw's scope, SEARCH_TOTAL_MAX at most:
 * into *out (the caller frees it), newest first; their number, or -1 on
 * a database error.  The top of this file says how.
 */
static long
search_ids(const struct search_query *sq, const struct search_where *sw,
    uint64_t **out)
{
	struct search_scope	 ss;
	struct search_checks	 sc;
	struct search_term	*terms;
	yajl_gen		 words;
	char			**alts = NULL;
	uint64_t		*found;
	size_t			 nalts = 0, nfound = 0, nqueued = 0;
	size_t			 nterms = 0, len, i;
	int			 rc, few = 1;

	ss.in_dm = sw->dm_channel_id != 0;
	ss.scope_id = ss.in_dm ? sw->dm_channel_id : sw->server_id;
	ss.before = sw->before;
	search_scope_channels(&ss, ss.in_dm || sw->all_channels ? "*" :
	    sw->channels);
	sc.author_id = sw->author_id;
	sc.text = 0;
	sc.prefix = sq->prefix != NULL ? sq->prefix : "%";
	sc.phrases = json_gen_text(sq->phrases, &len);
	words = json_gen_new();
	yajl_gen_array_open(words);
	for (i = 0; i < sq->nwords; i++)
		json_gen_str(words, sq->words[i]);
	yajl_gen_array_close(words);
	sc.words = json_gen_text(words, &len);
	terms = xcalloc(sq->nwords + 1, sizeof *terms);
	found = xreallocarray(NULL, 2 * SEARCH_TOTAL_MAX, sizeof *found);
	/* The queue first: what leaves it later is in the index by then. */
	rc = search_text(&q_queued_server, &q_queued_dm, &ss, sw->channels,
	    &sc, found + SEARCH_TOTAL_MAX, &nqueued);
	if (rc != -1 && sq->prefix != NULL) {
		few = search_prefix_words(sq->prefix, &alts, &nalts);
		if (few == 0)
			sc.text = 1;	/* too many words: checked on the text */
		else if (few == -1)
			rc = -1;
	}
	if (rc == -1)
		;
	else if (sq->nwords > 0 || few == 1) {
		nterms = search_terms_make(sq, sq->prefix != NULL && few == 1,
		    alts, nalts, ss.before, terms);
		rc = search_intersect(terms, nterms, &ss, &sc, found, &nfound);
	} else
		rc = search_wide(&ss, sw->channels, &sc, found, &nfound);
	/* The queued matches beside the index's, each newest first. */
	memmove(found + nfound, found + SEARCH_TOTAL_MAX,
	    nqueued * sizeof *found);
	nfound = search_ids_sort(found, nfound + nqueued);
	if (nfound > SEARCH_TOTAL_MAX)
		nfound = SEARCH_TOTAL_MAX;
	yajl_gen_free(words);
	search_words_free(alts, nalts);
	search_terms_free(terms, nterms);
	free(ss.channels);
	if (rc == -1) {
		free(found);
		return -1;
	}
	*out = found;
	return (long)nfound;
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

	if ((total = search_ids(sq, sw, &ids)) == -1)
		return -1;
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
 * when it is not 0; *all says whether that is every channel of the
 * server.  1, 0 when they are no member or channel_id is not a channel
 * they may view, -1 on a database error.
 */
int
search_channels(uint64_t server_id, uint64_t user_id, uint64_t channel_id,
    char **out, int *all)
{
	struct access_server	sa;
	struct access_member	am;
	char			*list = xstrdup(""), *next;
	size_t			i;
	int			rc, view;

	*out = NULL;
	*all = channel_id == 0;
	if ((rc = access_load(server_id, &sa)) != 1) {
		free(list);
		return rc;
	}
	if ((rc = access_member_load(server_id, user_id, &am)) == 1) {
		for (i = 0; i < sa.nchannels; i++) {
			if (!(view = access_may_view(&sa, &am, sa.channels[i])))
				*all = 0;
			if (!view || (channel_id != 0 &&
			    sa.channels[i] != channel_id))
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
