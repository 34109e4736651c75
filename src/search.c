/* SPDX-License-Identifier: ISC */
/*
 * search.c: finding messages and users (API.md, Search and
 * GET /users/search).
 *
 * Messages are found through message_words (sql/014_search.sql, keyed by
 * sql/017_search_keys.sql): one row per distinct word of a message that
 * is not deleted, written with the message, compared as the collation
 * compares, keyed (word, in_dm, scope_id, message_id) so that a word's
 * messages in one server or DM lie together newest last, and carrying
 * the message's channel so that what a reader may not view is left out
 * without reading the message.  A search finds the newest matches below
 * `before`, SEARCH_TOTAL_MAX at most: their number is the answer's
 * total, the first `limit` its page.  How (search_ids()):
 *
 * - The last word, a prefix, is searched as each of the words of the
 *   index that start with it (search_prefix_words()), when there are
 *   SEARCH_PREFIX_WORDS or fewer: one run per such word, their matches
 *   merged (SEARCH_WORDS).  Each run reads its rarest word's rows in the
 *   scope backwards from the primary key, joins each row to its second
 *   rarest word's row by the same key, and checks what is left (more
 *   words, the author, phrases) on what passed those two.
 * - A prefix of more words is checked per candidate instead: the
 *   candidates are the rarest exact word's rows; with no exact word, the
 *   prefix's rows when they are few (SEARCH_PREFIX), else the scope's
 *   messages newest first (SEARCH_SCAN: matches are dense then).
 *
 * docs/hacking.md ("Search") has the measurements behind this.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define SEARCH_TOTAL_MAX	1000	/* matches counted (API.md) */
#define SEARCH_ESTIMATE_ROWS	2000	/* rows read to rank a word */
#define SEARCH_PREFIX_WORDS	16	/* words a prefix is searched as */
#define SEARCH_PREFIX_ROWS	20000	/* a prefix's rows sorted at most */

/* The words of a text, cut as the index cuts them (sql/routines.sql). */
static struct db_stmt q_words = DB_STMT(
    "SELECT LEFT(t.w, 64) FROM JSON_TABLE(search_words(?), '$[*]'"
    " COLUMNS (n FOR ORDINALITY, w VARCHAR(4000) CHARACTER SET utf8mb4"
    " PATH '$')) t WHERE t.w <> '' ORDER BY t.n");
/* The first word of the index after one (or '') that matches a prefix. */
static struct db_stmt q_prefix_next = DB_STMT(
    "SELECT word FROM message_words WHERE word LIKE ? AND word > ?"
    " ORDER BY word LIMIT 1");
/*
 * How rare a word is in a scope below before: how many of its newest
 * SEARCH_ESTIMATE_ROWS rows there are, and how far back the last of them
 * lies (the rarer of two common words reaches further back).
 */
static struct db_stmt q_estimate = DB_STMT(
    "SELECT COUNT(*), COALESCE(MIN(t.message_id), 0) FROM (SELECT"
    " message_id FROM message_words WHERE word = ? AND in_dm = ?"
    " AND scope_id = ? AND message_id < ? ORDER BY message_id DESC"
    " LIMIT 2000) t");
static struct db_stmt q_prefix_rows = DB_STMT(
    "SELECT COUNT(*) FROM (SELECT 1 FROM message_words WHERE word LIKE ?"
    " LIMIT 20000) t");

/*
 * The statements of a search, from the pieces below.  SEARCH_CHECK's
 * parameters come last in each, in this order: the author (0: anyone,
 * twice), the words left to check (a JSON array, twice), the prefix
 * left to check ('%' when none, twice) and the phrases (a JSON array of
 * patterns, twice).  A check whose parameter says "none" is folded away
 * when the statement is optimized for its values, so it costs nothing.
 *
 * The checks are scalar subqueries (LIMIT 1, COUNT) on purpose: written
 * as EXISTS, MariaDB turns them into semi-joins that first collect every
 * message with the word, which for a common one is most of the table
 * (docs/hacking.md).  They reach a candidate's words through the
 * (message_id, word) key, which only holds its own message's.  Words
 * never hold '%', '_' or '\' (search_words() keeps letters, digits and
 * marks only), so they go into LIKE patterns as they are.
 */
#define SEARCH_IN_SCOPE \
	" d.in_dm = ? AND d.scope_id = ? AND d.message_id < ?" \
	" AND (? = '*' OR FIND_IN_SET(d.channel_id, ?))"
#define SEARCH_CHECK(id) \
	" AND (? = 0 OR (SELECT a.author_id FROM messages a" \
	" WHERE a.id = " id ") = ?)" \
	" AND (? = '[]' OR (SELECT COUNT(*) FROM JSON_TABLE(?, '$[*]'" \
	" COLUMNS (w VARCHAR(64) CHARACTER SET utf8mb4" \
	" COLLATE utf8mb4_unicode_520_ci PATH '$')) q WHERE (SELECT 1" \
	" FROM message_words y WHERE y.message_id = " id \
	" AND y.word = q.w LIMIT 1) IS NULL) = 0)" \
	" AND (? = '%' OR (SELECT 1 FROM message_words p" \
	" WHERE p.message_id = " id " AND p.word LIKE ? LIMIT 1) IS NOT NULL)" \
	" AND (? = '[]' OR (SELECT COUNT(*) FROM messages t, JSON_TABLE(?," \
	" '$[*]' COLUMNS (p VARCHAR(4000) CHARACTER SET utf8mb4" \
	" COLLATE utf8mb4_unicode_520_ci PATH '$')) ph WHERE t.id = " id \
	" AND search_words(t.content) COLLATE utf8mb4_unicode_520_ci" \
	" NOT LIKE ph.p) = 0)" \
	" ORDER BY " id " DESC LIMIT 1000"

/* One word's rows in a scope: its word, in_dm, scope, before, channels. */
static struct db_stmt q_one_word = DB_STMT(
    "SELECT d.message_id FROM message_words d WHERE d.word = ? AND"
    SEARCH_IN_SCOPE SEARCH_CHECK("d.message_id"));
/* The same joined to a second word's rows: that word first. */
static struct db_stmt q_two_words = DB_STMT(
    "SELECT d.message_id FROM message_words d STRAIGHT_JOIN message_words x"
    " ON x.word = ? AND x.in_dm = d.in_dm AND x.scope_id = d.scope_id"
    " AND x.message_id = d.message_id WHERE d.word = ? AND"
    SEARCH_IN_SCOPE SEARCH_CHECK("d.message_id"));
/* A prefix's rows in a scope, sorted: as q_one_word, a pattern first. */
static struct db_stmt q_prefix = DB_STMT(
    "SELECT d.message_id FROM message_words d WHERE d.word LIKE ? AND"
    SEARCH_IN_SCOPE SEARCH_CHECK("d.message_id"));
/* A server's messages newest first: before, its channels the reader views. */
static struct db_stmt q_scan_server = DB_STMT(
    "SELECT m.id FROM messages m WHERE m.id < ? AND NOT m.deleted"
    " AND FIND_IN_SET(m.channel_id, ?)" SEARCH_CHECK("m.id"));
/* A DM's messages newest first: the DM channel, before. */
static struct db_stmt q_scan_dm = DB_STMT(
    "SELECT m.id FROM messages m WHERE m.dm_channel_id = ? AND m.id < ?"
    " AND NOT m.deleted" SEARCH_CHECK("m.id"));

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

/* A word of a search and how rare it is where the search looks. */
struct search_term {
	const char	*word;
	long		 rows;		/* of its newest SEARCH_ESTIMATE_ROWS */
	uint64_t	 reach;		/* the id of the oldest of those */
};

/* What a run checks beyond the index rows it reads (SEARCH_CHECK). */
struct search_checks {
	uint64_t	 author_id;	/* 0: anyone */
	const char	*words;		/* a JSON array */
	const char	*prefix;	/* a LIKE pattern, "%" for none */
	const char	*phrases;	/* a JSON array of LIKE patterns */
};

/* Where a run looks (struct search_where, as the statements take it). */
struct search_scope {
	int		 in_dm;
	uint64_t	 scope_id;	/* the server, or the DM channel */
	uint64_t	 before;
	const char	*channels;	/* "*" when the reader views them all */
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

/* Read how rare a term's word is in a scope; 0, or -1. */
static int
search_estimate(struct search_term *t, const struct search_scope *ss)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_estimate, "sduu", t->word, ss->in_dm,
	    ss->scope_id, ss->before)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1) {
		t->rows = (long)db_u64(rows, 0);
		t->reach = db_u64(rows, 1);
	}
	db_rows_free(rows);
	return rc == 1 ? 0 : -1;
}

/* Order terms rarest first: fewer rows, then reaching further back. */
static int
search_term_compare(const void *a, const void *b)
{
	const struct search_term	*ta = a, *tb = b;

	if (ta->rows != tb->rows)
		return ta->rows < tb->rows ? -1 : 1;
	if (ta->reach != tb->reach)
		return ta->reach < tb->reach ? -1 : 1;
	return 0;
}

/* Append the ids a run's rows hold to found (room for them); 0, or -1. */
static int
search_collect(struct db_rows *rows, uint64_t *found, size_t *n)
{
	size_t	got = 0;
	int	rc;

	if (rows == NULL)
		return -1;
	while (got < SEARCH_TOTAL_MAX && (rc = db_fetch(rows)) == 1)
		found[(*n)++] = db_u64(rows, 0), got++;
	db_rows_free(rows);
	return got < SEARCH_TOTAL_MAX && rc == -1 ? -1 : 0;
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
 * The terms of a run into terms (room for sq->nwords + 1): the query's
 * words, and prefix_word unless it is NULL.  Their number.
 */
static size_t
search_terms_of(const struct search_query *sq, const char *prefix_word,
    struct search_term *terms)
{
	size_t	n;

	for (n = 0; n < sq->nwords; n++)
		terms[n] = (struct search_term){ .word = sq->words[n] };
	if (prefix_word != NULL)
		terms[n++] = (struct search_term){ .word = prefix_word };
	return n;
}

/*
 * One run over the index: the messages of the scope that have every
 * term's word and pass the checks (but for their words: the terms
 * beyond the two rarest are the words it checks), newest first,
 * appended to found.  0, or -1.
 */
static int
search_run_terms(struct search_term *terms, size_t n,
    const struct search_scope *ss, const struct search_checks *sc,
    uint64_t *found, size_t *nfound)
{
	struct db_rows	*rows;
	yajl_gen	 rest;
	const char	*rest_json;
	size_t		 i, len;

	if (n > 1) {
		for (i = 0; i < n; i++) {
			if (search_estimate(&terms[i], ss) == -1)
				return -1;
		}
		qsort(terms, n, sizeof *terms, search_term_compare);
	}
	rest = json_gen_new();
	yajl_gen_array_open(rest);
	for (i = 2; i < n; i++)
		json_gen_str(rest, terms[i].word);
	yajl_gen_array_close(rest);
	rest_json = json_gen_text(rest, &len);
	if (n > 1)
		rows = db_query(&q_two_words, "ssduussuussssss", terms[1].word,
		    terms[0].word, ss->in_dm, ss->scope_id, ss->before,
		    ss->channels, ss->channels, sc->author_id, sc->author_id,
		    rest_json, rest_json, sc->prefix, sc->prefix, sc->phrases,
		    sc->phrases);
	else
		rows = db_query(&q_one_word, "sduussuussssss", terms[0].word,
		    ss->in_dm, ss->scope_id, ss->before, ss->channels,
		    ss->channels, sc->author_id, sc->author_id, rest_json,
		    rest_json, sc->prefix, sc->prefix, sc->phrases,
		    sc->phrases);
	yajl_gen_free(rest);
	return search_collect(rows, found, nfound);
}

/*
 * A run that reads no word's rows in order: a prefix's rows sorted
 * (SEARCH_PREFIX), or the scope's messages newest first (SEARCH_SCAN);
 * the checks hold every word and the prefix.  0, or -1.
 */
static int
search_run_wide(const struct search_scope *ss, const char *channel_list,
    const struct search_checks *sc, int prefix_rows_few, uint64_t *found,
    size_t *nfound)
{
	struct db_rows	*rows;

	if (prefix_rows_few)
		rows = db_query(&q_prefix, "sduussuussssss", sc->prefix,
		    ss->in_dm, ss->scope_id, ss->before, ss->channels,
		    ss->channels, sc->author_id, sc->author_id, sc->words,
		    sc->words, "%", "%", sc->phrases, sc->phrases);
	else if (ss->in_dm)
		rows = db_query(&q_scan_dm, "uuuussssss", ss->scope_id,
		    ss->before, sc->author_id, sc->author_id, sc->words,
		    sc->words, sc->prefix, sc->prefix, sc->phrases,
		    sc->phrases);
	else
		rows = db_query(&q_scan_server, "usuussssss", ss->before,
		    channel_list, sc->author_id, sc->author_id, sc->words,
		    sc->words, sc->prefix, sc->prefix, sc->phrases,
		    sc->phrases);
	return search_collect(rows, found, nfound);
}

/* Order ids newest first. */
static int
search_id_compare(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x > y ? -1 : x < y;
}

/*
 * Merge the ids of several runs into their newest SEARCH_TOTAL_MAX
 * distinct ones, newest first, at the start of found: their number.  A
 * run's newest SEARCH_TOTAL_MAX hold every one of its ids among them.
 */
static size_t
search_merge(uint64_t *found, size_t n)
{
	size_t	i, kept = 0;

	qsort(found, n, sizeof *found, search_id_compare);
	for (i = 0; i < n && kept < SEARCH_TOTAL_MAX; i++) {
		if (kept == 0 || found[kept - 1] != found[i])
			found[kept++] = found[i];
	}
	return kept;
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
	size_t			 nalts = 0, nfound = 0, len, i;
	long			 few;
	int			 rc = 0;

	ss.in_dm = sw->dm_channel_id != 0;
	ss.scope_id = ss.in_dm ? sw->dm_channel_id : sw->server_id;
	ss.before = sw->before;
	ss.channels = ss.in_dm || sw->all_channels ? "*" : sw->channels;
	sc.author_id = sw->author_id;
	sc.prefix = "%";
	sc.phrases = json_gen_text(sq->phrases, &len);
	words = json_gen_new();
	yajl_gen_array_open(words);
	for (i = 0; i < sq->nwords; i++)
		json_gen_str(words, sq->words[i]);
	yajl_gen_array_close(words);
	sc.words = json_gen_text(words, &len);
	if (sq->prefix != NULL &&
	    (rc = search_prefix_words(sq->prefix, &alts, &nalts)) == 0)
		sc.prefix = sq->prefix;	/* too many words: checked per row */
	terms = xcalloc(sq->nwords + 1, sizeof *terms);
	found = xreallocarray(NULL, (nalts > 0 ? nalts : 1) *
	    SEARCH_TOTAL_MAX, sizeof *found);
	if (rc == -1)
		goto done;
	if (rc == 1) {
		/* One run per word of the prefix, merged. */
		for (i = 0; i < nalts && rc != -1; i++)
			rc = search_run_terms(terms, search_terms_of(sq,
			    alts[i], terms), &ss, &sc, found, &nfound);
	} else if (sq->nwords > 0) {
		rc = search_run_terms(terms, search_terms_of(sq, NULL, terms),
		    &ss, &sc, found, &nfound);
	} else if ((few = search_count(db_query(&q_prefix_rows, "s",
	    sq->prefix))) == -1)
		rc = -1;
	else
		rc = search_run_wide(&ss, sw->channels, &sc,
		    few < SEARCH_PREFIX_ROWS, found, &nfound);
done:
	yajl_gen_free(words);
	search_words_free(alts, nalts);
	free(terms);
	if (rc == -1) {
		free(found);
		return -1;
	}
	*out = found;
	return (long)search_merge(found, nfound);
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
