/* SPDX-License-Identifier: ISC */
/*
 * itest_search.c: message and user search (API.md, Search and
 * GET /users/search; issue 24).  Every matching rule as a user meets it
 * (every word, the last as a prefix, phrases, no stopwords or minimum
 * length, case and accents, Turkish dotted and dotless i), operator
 * characters taken as text, the refusals, newest first with `before`
 * and `total`, the cap of 1,000, edits and deletions at once, filters,
 * and where one may not look: a private channel, a message from before
 * one joined (found), a kicked member, a token after logout-all, a DM of
 * others, users one shares nothing with.
 */
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "check_run.h"

#define TOTAL_MAX	1000	/* API.md: total counts up to this */

/* Percent-encode s for a query string; the caller frees it. */
static char *
encode(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			*out, *o;

	o = out = xmalloc(strlen(s) * 3 + 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_') {
			*o++ = (char)*p;
			continue;
		}
		*o++ = '%';
		*o++ = hex[*p >> 4];
		*o++ = hex[*p & 15];
	}
	*o = '\0';
	return out;
}

/* GET a server's search for q with more parameters (or ""); the answer. */
static struct itest_response *
search(const struct chat_user *u, const char *server, const char *q,
    const char *more)
{
	struct itest_response	*r;
	char			*path, *eq;

	eq = encode(q);
	xasprintf(&path, API_PREFIX "/servers/%s/messages/search?q=%s%s",
	    server, eq, more);
	r = itest_get(path, u->token);
	free(path);
	free(eq);
	return r;
}

/*
 * Assert a search's answer: 200, this total, and exactly these message
 * ids in this order (newest first).
 */
static void
expect_found(struct itest_response *r, long total, char *const *ids,
    size_t n)
{
	const struct json	*list;
	char			 key[32];
	size_t			 i;

	itest_expect(r, 200);
	ck_assert_msg(itest_at(r->json, "total") != NULL &&
	    atol(itest_at(r->json, "total")->text) == total,
	    "total %ld expected: %s", total, itest_describe(r));
	list = itest_at(r->json, "messages");
	ck_assert_msg(list != NULL && list->type == JSON_ARRAY &&
	    list->count == n, "%zu messages expected: %s", n,
	    itest_describe(r));
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "messages.%zu.id", i);
		ck_assert_msg(strcmp(itest_str(r, key), ids[i]) == 0,
		    "message %zu should be %s: %s", i, ids[i],
		    itest_describe(r));
	}
}

/* Search and assert exactly these ids (newest first), total = n. */
static void
finds(const struct chat_user *u, const char *server, const char *q,
    char *const *ids, size_t n)
{
	struct itest_response	*r;

	r = search(u, server, q, "");
	expect_found(r, (long)n, ids, n);
	itest_free(r);
}

/* Search and assert nothing is found. */
static void
finds_nothing(const struct chat_user *u, const char *server, const char *q)
{
	finds(u, server, q, NULL, 0);
}

/* Search and assert 400 validation_failed on q. */
static void
refused(const struct chat_user *u, const char *server, const char *q)
{
	struct itest_response	*r;

	r = search(u, server, q, "");
	itest_expect_invalid(r, "q");
	itest_free(r);
}

/* Free n ids. */
static void
ids_free(char **ids, size_t n)
{
	while (n > 0)
		free(ids[--n]);
}

START_TEST(test_every_word_and_prefix)
{
	struct chat_room	 room;
	char			*m[6];

	chat_room_open(&room, "srw");
	m[0] = chat_post(&room.member, room.base, "the quick brown fox");
	m[1] = chat_post(&room.owner, room.base, "a dog is here");
	m[2] = chat_post(&room.owner, room.base, "this here is not it");
	m[3] = chat_post(&room.member, room.base, "go home now");
	m[4] = chat_post(&room.member, room.base, "Gopher land");
	m[5] = chat_post(&room.owner, room.base, "ago homes");

	/* Every word, in any order; the last also as a prefix. */
	finds(&room.owner, room.server, "fox quick", &m[0], 1);
	finds(&room.owner, room.server, "brown qui", &m[0], 1);
	/* No stopwords, no minimum length: "a" and "is" are words. */
	finds(&room.owner, room.server, "a dog", &m[1], 1);
	finds(&room.owner, room.server, "is here", (char *[]){ m[2], m[1] },
	    2);
	/* A word is whole unless it is the last: "go" is not "ago". */
	finds(&room.owner, room.server, "go home", &m[3], 1);
	finds(&room.owner, room.server, "go", (char *[]){ m[4], m[3] }, 2);
	finds(&room.owner, room.server, "home", (char *[]){ m[5], m[3] }, 2);
	finds_nothing(&room.owner, room.server, "quick cat");
	ids_free(m, 6);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_phrases)
{
	struct chat_room	 room;
	char			*m[3];

	chat_room_open(&room, "srp");
	m[0] = chat_post(&room.owner, room.base, "red big ball");
	m[1] = chat_post(&room.owner, room.base, "a big, red ball!");
	m[2] = chat_post(&room.owner, room.base, "big redder ball");
	finds(&room.owner, room.server, "\"big red\"", &m[1], 1);
	finds(&room.owner, room.server, "\"red big\" ball", &m[0], 1);
	finds(&room.owner, room.server, "ball \"BIG RED\"", &m[1], 1);
	/* Not quoted: both words anywhere, "red" whole. */
	finds(&room.owner, room.server, "red ball", (char *[]){ m[1], m[0] },
	    2);
	/* A '"' without its pair is text. */
	finds(&room.owner, room.server, "\"redder", &m[2], 1);
	ids_free(m, 3);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_case_accents_turkish)
{
	struct chat_room	 room;
	char			*m[6];

	chat_room_open(&room, "srt");
	m[0] = chat_post(&room.owner, room.base, "İstanbul'da kar var");
	m[1] = chat_post(&room.owner, room.base, "ıstanbul yazımı");
	m[2] = chat_post(&room.owner, room.base, "ISTANBUL TRIP");
	m[3] = chat_post(&room.owner, room.base, "istanbul");
	m[4] = chat_post(&room.owner, room.base, "un Café crème");
	m[5] = chat_post(&room.owner, room.base, "İstanbul ve ıstanbul");
	/*
	 * utf8mb4_unicode_520_ci compares İ, I and i alike and ı apart
	 * (docs/api.md says so): the dotted spellings find each other,
	 * the dotless one finds itself.
	 */
	finds(&room.owner, room.server, "istanbul",
	    (char *[]){ m[5], m[3], m[2], m[0] }, 4);
	finds(&room.owner, room.server, "İstanbul",
	    (char *[]){ m[5], m[3], m[2], m[0] }, 4);
	finds(&room.owner, room.server, "ISTANBUL",
	    (char *[]){ m[5], m[3], m[2], m[0] }, 4);
	/* Both spellings in one message: each finds it. */
	finds(&room.owner, room.server, "ıstanbul", (char *[]){ m[5], m[1] },
	    2);
	finds(&room.owner, room.server, "YAZIMI", NULL, 0);
	finds(&room.owner, room.server, "yazımı", &m[1], 1);
	finds(&room.owner, room.server, "cafe CREME", &m[4], 1);
	finds(&room.owner, room.server, "CAFÉ crè", &m[4], 1);
	ids_free(m, 6);
	chat_room_close(&room);
}
END_TEST

/*
 * Texts with words that two collations tell apart differently, letters
 * of every kind, marks (combining, spacing, enclosing), numbers of every
 * kind, what is none of them (emoji, joiners, other spaces,
 * punctuation), words longer than 64 code points, and letters newer
 * than the database's regular expressions know.
 */
static const char *const tricky[] = {
	"the quick brown fox, it's c++ (really) @home snake_case kebab-case",
	"İstanbul'da ıstanbul yazımı ISTANBUL Iğdır",
	"un Café crème, cafe\xcc\x81 e\xcc\x81\xcc\xa3 na\xc3\xafve",
	"Привет, мир! Ёлка ёлка",
	"東京タワー 日本語のテキスト 한국어 텍스트",
	"مَرْحَبًا بالعالم שָׁלוֹם",
	"हिन्दी भाषा ภาษาไทย ᠮᠣᠩᠭᠣᠯ",
	"٣٤ ۵۶ ０１２ ² ½ Ⅻ 𝐀𝐁𝐂 ① ₁",
	"ʼokina ªº µ ℃ ℕ ﬁ Ǆ ǅ",
	"1\xef\xb8\x8f\xe2\x83\xa3 keycap tea\xf0\x9f\x8d\xb5time "
	    "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb done",
	"zero\xe2\x80\x8bwidth soft\xc2\xadhyphen non\xc2\xa0" "break "
	    "em\xe2\x80\x83space ideo\xe3\x80\x80space zw\xe2\x80\x8cnj",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaa tail "
	    "éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
	"+-*\"@~<>()%_\\ `'; DROP TABLE x; --",
	/* Letters of Unicode 15.0 (Nag Mundari, Kawi). */
	"nag\xf0\x9e\x93\x90mundari kawi\xf0\x91\xbc\x84" "a",
};

#define TRICKY		(sizeof tricky / sizeof tricky[0])
#define RACE_ROUNDS	5	/* races until some sends were batched */

/*
 * Index what is queued, as each host's keeper does every 200 ms
 * (words.c), until the message id is no longer queued (the keeper may
 * hold it a moment: the drain skips what another has taken).
 */
static void
drain(const char *id)
{
	char	*sql;
	int	 tries;

	xasprintf(&sql, "SELECT COUNT(*) FROM search_queue"
	    " WHERE message_id = %s", id);
	for (tries = 0; tries < 100; tries++) {
		ck_assert_int_eq(itest_sql("CALL message_words_drain(100000,"
		    " @n)"), 0);
		if (itest_sql_number(sql) == 0)
			break;
		usleep(50000);
	}
	ck_assert_msg(tries < 100, "message %s stays queued", id);
	free(sql);
}

/*
 * How many times the posting rows of a word (NULL: of any word) hold
 * message id: each token "id:channel" counted.
 */
static long long
postings_holding(const char *word, const char *id)
{
	return itest_sql_numberf("SELECT IFNULL(SUM((LENGTH(CONCAT(',', ids, ','))"
	    " - LENGTH(REPLACE(CONCAT(',', ids, ','), ',%s:', '')))"
	    " DIV LENGTH(',%s:')), 0) FROM message_postings WHERE %s%s%s"
	    " CONCAT(',', ids, ',') LIKE '%%,%s:%%'", id, id,
	    word != NULL ? "word = '" : "", word != NULL ? word : "",
	    word != NULL ? "' AND" : "", id);
}

/*
 * Assert a message's rows in the index are the distinct words
 * search_words() cuts from its content, as the index's collation tells
 * words apart.
 */
static void
expect_indexed_as_cut(const char *id, const char *text)
{
	char	*sql;

	drain(id);
	xasprintf(&sql, "SELECT (SELECT COUNT(DISTINCT word)"
	    " FROM message_postings WHERE CONCAT(',', ids) LIKE '%%,%s:%%')"
	    " = (SELECT COUNT(DISTINCT t.w)"
	    " FROM messages m, JSON_TABLE(search_words(m.content),"
	    " '$[*]' COLUMNS (w VARCHAR(64) CHARACTER SET utf8mb4"
	    " COLLATE utf8mb4_unicode_520_ci PATH '$')) t WHERE m.id = %s"
	    " AND t.w <> '') AND NOT EXISTS (SELECT 1 FROM messages m,"
	    " JSON_TABLE(search_words(m.content), '$[*]' COLUMNS"
	    " (w VARCHAR(64) CHARACTER SET utf8mb4"
	    " COLLATE utf8mb4_unicode_520_ci PATH '$')) t"
	    " WHERE m.id = %s AND t.w <> '' AND NOT EXISTS (SELECT 1"
	    " FROM message_postings x WHERE x.word = t.w"
	    " AND CONCAT(',', x.ids) LIKE CONCAT('%%,', m.id, ':%%')))",
	    id, id, id);
	ck_assert_msg(itest_sql_number(sql) == 1, "\"%s\": its rows in the "
	    "index are not the words search_words() cuts", text);
	free(sql);
}

/*
 * A message's rows in the index are its distinct words as the index's
 * collation tells them apart, however it was sent: alone (message_send
 * and message_words_index) or with others in one batch
 * (message_send_many and message_words_index_many), once the queue is
 * indexed (message_words_drain, one row per word of what it indexes).
 * 017's writers lost one of "ıstanbul" and "İstanbul" (their DISTINCT
 * compared as utf8mb4_general_ci).
 */
START_TEST(test_sent_words_indexed_as_cut)
{
	struct chat_room	 room;
	const char		*paths[TRICKY], *tokens[TRICKY];
	const char		*bodies[TRICKY];
	char			*path, *id, *mine[TRICKY], *ids[TRICKY];
	long			 status[TRICKY], before;
	int			 order[TRICKY], round;
	size_t			 i;

	chat_room_open(&room, "srx");
	for (i = 0; i < TRICKY; i++) {
		id = chat_post(&room.owner, room.base, tricky[i]);
		expect_indexed_as_cut(id, tricky[i]);
		free(id);
	}
	path = chat_path(room.base, NULL, NULL);
	for (i = 0; i < TRICKY; i++) {
		paths[i] = path;
		tokens[i] = i % 2 ? room.member.token : room.owner.token;
		id = itest_quote(tricky[i]);
		xasprintf(&mine[i], "{\"content\":%s}", id);
		bodies[i] = mine[i];
		free(id);
	}
	before = itest_metric("sohbet_batched_sends_total");
	for (round = 0; round < RACE_ROUNDS; round++) {
		chat_race_paths((int)TRICKY, "POST", paths, tokens, bodies,
		    status, ids, order);
		for (i = 0; i < TRICKY; i++) {
			ck_assert_msg(status[i] == 201, "send %d: %ld",
			    order[i], status[i]);
			expect_indexed_as_cut(ids[i], tricky[order[i]]);
			free(ids[i]);
		}
		if (itest_metric("sohbet_batched_sends_total") > before)
			break;
	}
	ck_assert_msg(round < RACE_ROUNDS, "in %d races of %zu sends, none "
	    "were written together", RACE_ROUNDS, TRICKY);
	for (i = 0; i < TRICKY; i++)
		free(mine[i]);
	free(path);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_operators_are_text)
{
	struct chat_room	 room;
	struct itest_response	*r;
	char			*m[2];
	long long		 before, after;

	chat_room_open(&room, "sro");
	m[0] = chat_post(&room.owner, room.base, "the quick brown fox");
	m[1] = chat_post(&room.owner, room.base, "c++ is fun (really) @home");
	/* Boolean-mode signs are not syntax: '-' does not exclude. */
	finds(&room.owner, room.server, "+fox -quick", &m[0], 1);
	finds(&room.owner, room.server, "~brown <fox> (the) @quick*",
	    &m[0], 1);
	finds(&room.owner, room.server, "c++ (really)", &m[1], 1);
	finds(&room.owner, room.server, "\"c++ is\" @home", &m[1], 1);
	/* LIKE's wildcards are not wildcards either. */
	finds_nothing(&room.owner, room.server, "qu%k");
	finds_nothing(&room.owner, room.server, "f_x");
	/* SQL is text. */
	before = itest_sql_number("SELECT COUNT(*) FROM messages");
	finds_nothing(&room.owner, room.server,
	    "fox'; DELETE FROM messages; --");
	finds_nothing(&room.owner, room.server, "\\\" OR 1=1 --");
	after = itest_sql_number("SELECT COUNT(*) FROM messages");
	ck_assert_int_ge(after, before);
	r = search(&room.owner, room.server, "fox", "");
	expect_found(r, 1, &m[0], 1);
	itest_free(r);
	ids_free(m, 2);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_refusals)
{
	struct chat_room	 room;
	struct itest_response	*r;
	char			*path, long_q[202 * 2];
	size_t			 i;

	chat_room_open(&room, "srr");
	refused(&room.owner, room.server, "");
	refused(&room.owner, room.server, "+-*\"@~<>()");
	refused(&room.owner, room.server, "   ");
	refused(&room.owner, room.server, "%_\\");
	refused(&room.owner, room.server, "\xf0\x9f\x98\x80");
	/* 201 code points (two bytes each) is one too many; 200 is fine. */
	for (i = 0; i < 201; i++)
		memcpy(long_q + 2 * i, "\xc3\xa9", 2);
	long_q[2 * 201] = '\0';
	refused(&room.owner, room.server, long_q);
	long_q[2 * 200] = '\0';
	r = search(&room.owner, room.server, long_q, "");
	itest_expect(r, 200);
	itest_free(r);
	/* One letter is a word. */
	r = search(&room.owner, room.server, "a", "");
	itest_expect(r, 200);
	itest_free(r);
	/* No q at all. */
	xasprintf(&path, API_PREFIX "/servers/%s/messages/search",
	    room.server);
	r = itest_get(path, room.owner.token);
	itest_expect_invalid(r, "q");
	itest_free(r);
	free(path);
	r = search(&room.owner, room.server, "x", "&limit=26");
	itest_expect_invalid(r, "limit");
	itest_free(r);
	r = search(&room.owner, room.server, "x", "&limit=0");
	itest_expect_invalid(r, "limit");
	itest_free(r);
	r = search(&room.owner, room.server, "x", "&before=abc");
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);
	r = search(&room.owner, room.server, "x", "&author_id=-1");
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_paging_and_total)
{
	struct chat_room	 room;
	struct itest_response	*r;
	char			*m[30], more[64];
	char			*newest[10], *next[10];
	size_t			 i;

	chat_room_open(&room, "srg");
	for (i = 0; i < 30; i++) {
		char	text[64];

		snprintf(text, sizeof text, "pager number %zu", i);
		m[i] = chat_post(&room.member, room.base, text);
	}
	for (i = 0; i < 10; i++) {
		newest[i] = m[29 - i];
		next[i] = m[19 - i];
	}
	r = search(&room.owner, room.server, "pager", "&limit=10");
	expect_found(r, 30, newest, 10);
	itest_free(r);
	/* before: the newest older ones; total counts what before leaves. */
	snprintf(more, sizeof more, "&limit=10&before=%s", m[20]);
	r = search(&room.owner, room.server, "pager", more);
	expect_found(r, 20, next, 10);
	itest_free(r);
	snprintf(more, sizeof more, "&before=%s", m[3]);
	r = search(&room.owner, room.server, "pager number", more);
	expect_found(r, 3, (char *[]){ m[2], m[1], m[0] }, 3);
	itest_free(r);
	/* The default limit is 25. */
	r = search(&room.owner, room.server, "pager", "");
	expect_found(r, 30, (char *[]){ m[29], m[28], m[27], m[26], m[25],
	    m[24], m[23], m[22], m[21], m[20], m[19], m[18], m[17], m[16],
	    m[15], m[14], m[13], m[12], m[11], m[10], m[9], m[8], m[7], m[6],
	    m[5] }, 25);
	itest_free(r);
	ids_free(m, 30);
	chat_room_close(&room);
}
END_TEST

/*
 * The last word, a prefix, is searched as each word that starts with
 * it: a message with two of them is found once, and a prefix no word
 * starts with finds nothing.
 */
START_TEST(test_prefix_of_few_words)
{
	struct chat_room	 room;
	char			*m[4];

	chat_room_open(&room, "srf");
	m[0] = chat_post(&room.owner, room.base, "alpha apricot");
	m[1] = chat_post(&room.member, room.base, "alpha apple");
	m[2] = chat_post(&room.owner, room.base, "apple apricot alpha");
	m[3] = chat_post(&room.member, room.base, "apex");
	finds(&room.owner, room.server, "alpha ap",
	    (char *[]){ m[2], m[1], m[0] }, 3);
	finds(&room.owner, room.server, "ap",
	    (char *[]){ m[3], m[2], m[1], m[0] }, 4);
	finds(&room.owner, room.server, "apricot alpha app", &m[2], 1);
	finds_nothing(&room.owner, room.server, "alpha apz");
	ids_free(m, 4);
	chat_room_close(&room);
}
END_TEST

/*
 * A prefix that more words start with than a search takes one by one
 * (16) is checked on each message instead: alone, and beside a word.
 */
START_TEST(test_prefix_of_many_words)
{
	struct chat_room	 room;
	char			*all[20], *marked[10], *text;
	int			 i;

	chat_room_open(&room, "srm");
	for (i = 0; i < 20; i++) {
		xasprintf(&text, "kvq%c%s", 'a' + i, i % 2 == 0 ? " mark" :
		    "");
		all[19 - i] = chat_post(&room.owner, room.base, text);
		if (i % 2 == 0)
			marked[9 - i / 2] = all[19 - i];
		free(text);
	}
	finds(&room.owner, room.server, "kvq", all, 20);
	finds(&room.owner, room.server, "mark kvq", marked, 10);
	finds_nothing(&room.owner, room.server, "mark kvqz");
	ids_free(all, 20);
	chat_room_close(&room);
}
END_TEST

/*
 * A prefix of many words with rows enough that a search walks the
 * messages newest first: in a server and in a DM, each finding only its
 * own, though the words are the same.
 */
START_TEST(test_prefix_walk)
{
	struct chat_room	 room;
	struct itest_response	*r;
	char			*text, *last = NULL, *id, *dm, *base, *path;
	char			*in_dm[2];
	size_t			 len = 0;
	int			 i;

	chat_room_open(&room, "srk");
	/* 1,000 messages of 20 words starting with "yzq": 20,000 rows. */
	text = xmalloc(20 * 6);
	for (i = 0; i < 20; i++)
		len += (size_t)sprintf(text + len, "%syzq%c", i > 0 ? " " : "",
		    'a' + i);
	for (i = 0; i < TOTAL_MAX; i++) {
		id = chat_post(&room.owner, room.base, text);
		free(last);
		last = id;
	}
	dm = chat_dm(&room.owner, &room.member);
	xasprintf(&base, API_PREFIX "/dms/%s", dm);
	in_dm[1] = chat_post(&room.member, base, "yzqa hello");
	in_dm[0] = chat_post(&room.owner, base, text);
	r = search(&room.owner, room.server, "yzq", "&limit=1");
	expect_found(r, TOTAL_MAX, &last, 1);
	itest_free(r);
	xasprintf(&path, API_PREFIX "/dms/%s/messages/search?q=yzq", dm);
	r = itest_get(path, room.member.token);
	expect_found(r, 2, in_dm, 2);
	itest_free(r);
	free(path);
	ids_free(in_dm, 2);
	free(base);
	free(dm);
	free(text);
	free(last);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_total_cap)
{
	struct chat_room	 room;
	struct itest_response	*r;
	char			*id, *last = NULL;
	int			 i;

	chat_room_open(&room, "src");
	for (i = 0; i < TOTAL_MAX + 5; i++) {
		id = chat_post(&room.owner, room.base, "flood of words");
		free(last);
		last = id;
	}
	r = search(&room.owner, room.server, "flood words", "&limit=1");
	expect_found(r, TOTAL_MAX, &last, 1);
	itest_free(r);
	r = search(&room.owner, room.server, "of", "&limit=1");
	expect_found(r, TOTAL_MAX, &last, 1);
	itest_free(r);
	free(last);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_edit_and_delete_at_once)
{
	struct chat_room	 room;
	struct itest_response	*r;
	char			*id, *path;

	chat_room_open(&room, "sre");
	id = chat_post(&room.member, room.base, "alpha beta");
	finds(&room.owner, room.server, "beta alpha", &id, 1);
	drain(id);
	ck_assert_int_eq(postings_holding("beta", id), 1);
	path = chat_path(room.base, id, NULL);
	r = itest_send("PATCH", path, room.member.token,
	    "{\"content\":\"alpha gamma\"}");
	itest_expect(r, 200);
	itest_free(r);
	finds_nothing(&room.owner, room.server, "beta");
	finds(&room.owner, room.server, "gamma", &id, 1);
	/* The edit took its old words out; its new ones, once indexed, in. */
	ck_assert_int_eq(postings_holding("beta", id), 0);
	drain(id);
	ck_assert_int_eq(postings_holding("beta", id), 0);
	ck_assert_int_eq(postings_holding("alpha", id), 1);
	ck_assert_int_eq(postings_holding("gamma", id), 1);
	r = itest_delete(path, room.member.token);
	ck_assert_msg(r->status == 204, "delete: %s", itest_describe(r));
	itest_free(r);
	finds_nothing(&room.owner, room.server, "gamma");
	finds_nothing(&room.owner, room.server, "alpha");
	/* The erased text leaves no word behind. */
	ck_assert_int_eq(postings_holding(NULL, id), 0);
	free(path);
	free(id);
	chat_room_close(&room);
}
END_TEST

#define QUEUED_SENDS	8
#define PAGE(n)		((n) < 25 ? (n) : 25)	/* a page of limit=25 */

/*
 * Messages are found at once, queued for the index or in it, the same:
 * newest first, `before` anywhere among them (rows of the index hold
 * several messages each: inside one too), and one of them deleted, or
 * edited, found no more by what it lost, and by its new words at once.
 */
START_TEST(test_queued_and_indexed)
{
	struct chat_room	 room;
	struct itest_response	*r;
	char			*all[QUEUED_SENDS], *more, *path;
	int			 pass;
	size_t			 n, k;

	chat_room_open(&room, "srq");
	for (k = 0; k < QUEUED_SENDS; k++)
		all[QUEUED_SENDS - 1 - k] = chat_post(&room.owner, room.base,
		    "batched kelime");
	n = QUEUED_SENDS;
	for (pass = 0; pass < 2; pass++) {
		for (k = 0; k <= n; k++) {
			xasprintf(&more, "&limit=25%s%s", k > 0 ?
			    "&before=" : "", k > 0 ? all[k - 1] : "");
			r = search(&room.owner, room.server, "batched kelime",
			    more);
			expect_found(r, (long)(n - k), all + k, PAGE(n - k));
			itest_free(r);
			free(more);
		}
		if (pass == 1)
			break;
		for (k = 0; k < n; k++)
			drain(all[k]);
	}

	path = chat_path(room.base, all[1], NULL);
	r = itest_delete(path, room.owner.token);
	ck_assert_msg(r->status == 204, "delete: %s", itest_describe(r));
	itest_free(r);
	free(path);
	path = chat_path(room.base, all[2], NULL);
	r = itest_send("PATCH", path, room.owner.token,
	    "{\"content\":\"batched sozcuk\"}");
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	for (pass = 0; pass < 2; pass++) {
		finds(&room.owner, room.server, "sozcuk", &all[2], 1);
		finds(&room.owner, room.server, "kelime", (char *[]){ all[0],
		    all[3], all[4], all[5], all[6], all[7] }, 6);
		finds(&room.owner, room.server, "batched", (char *[]){ all[0],
		    all[2], all[3], all[4], all[5], all[6], all[7] }, 7);
		drain(all[2]);
	}
	/*
	 * Out of rows that hold other messages too: the deleted one's id
	 * under no word, the edited one's under what it lost no more.
	 */
	ck_assert_int_eq(postings_holding(NULL, all[1]), 0);
	ck_assert_int_eq(postings_holding("kelime", all[2]), 0);
	ck_assert_int_eq(postings_holding("batched", all[2]), 1);
	ck_assert_int_eq(postings_holding("kelime", all[3]), 1);
	for (k = 0; k < n; k++)
		free(all[k]);
	chat_room_close(&room);
}
END_TEST

#define EDIT_ROUNDS	40	/* rounds of sends and edits beside drains */
#define EDIT_RACE	4	/* messages sent, then edited together, a round */
#define DRAIN_CALLS	5000	/* drains the child makes at most */

/*
 * Drain the queue over and over, as a keeper does (the child of
 * test_drain_beside_edits), until the parent closes the other end of
 * the pipe stop or DRAIN_CALLS were made: exits 0, or 1 when a drain
 * failed.
 */
static void
drain_until_closed(int stop)
{
	char	c;
	int	i;

	if (fcntl(stop, F_SETFL, O_NONBLOCK) == -1)
		_exit(1);
	for (i = 0; i < DRAIN_CALLS && read(stop, &c, 1) == -1; i++) {
		if (itest_sql("CALL message_words_drain(100000, @n)") != 0)
			_exit(1);
	}
	_exit(0);
}

/*
 * The index is drained while messages are sent and older ones edited at
 * the same moment (a child process drains, as a keeper would, the
 * parent sends and edits): no drain and no edit fails, and every edited
 * message ends indexed under its last words alone.  The drain once
 * deleted its queue rows with a statement that read the whole queue and
 * waited there for the row an edit's forget held, while the edit waited
 * for the posting rows the drain had written: InnoDB killed one of
 * them.
 */
START_TEST(test_drain_beside_edits)
{
	struct chat_room	 room;
	const char		*paths[EDIT_RACE], *tokens[EDIT_RACE];
	const char		*bodies[EDIT_RACE];
	char			*older[EDIT_RACE], *newer[EDIT_RACE];
	char			*edited[EDIT_RACE], *text[EDIT_RACE];
	char			*ids[EDIT_RACE], *words;
	long			 status[EDIT_RACE];
	int			 round, k, wstatus, stop[2];
	pid_t			 pid;

	chat_room_open(&room, "srd");
	for (k = 0; k < EDIT_RACE; k++) {
		older[k] = chat_post(&room.owner, room.base, "eski kelime");
		edited[k] = NULL;
		text[k] = NULL;
		tokens[k] = room.owner.token;
	}
	ck_assert(pipe(stop) == 0);
	ck_assert((pid = fork()) != -1);
	if (pid == 0) {
		close(stop[1]);
		drain_until_closed(stop[0]);
	}
	close(stop[0]);
	for (round = 0; round < EDIT_ROUNDS &&
	    waitpid(pid, &wstatus, WNOHANG) == 0; round++) {
		for (k = 0; k < EDIT_RACE; k++) {
			newer[k] = chat_post(&room.owner, room.base,
			    "yeni kelime");
			paths[k] = chat_path(room.base, older[k], NULL);
			free(text[k]);
			xasprintf(&text[k], "{\"content\":\"duzelt%d kelime\"}",
			    round);
			bodies[k] = text[k];
		}
		chat_race_paths(EDIT_RACE, "PATCH", paths, tokens, bodies,
		    status, ids, NULL);
		for (k = 0; k < EDIT_RACE; k++) {
			ck_assert_msg(status[k] == 200, "edit in round %d: %ld",
			    round, status[k]);
			free(ids[k]);
			free((char *)paths[k]);
			free(edited[k]);
			edited[k] = older[k];
			older[k] = newer[k];
		}
	}
	close(stop[1]);
	if (round == EDIT_ROUNDS)
		ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
	ck_assert_msg(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0,
	    "a drain failed beside the edits (see the log above)");
	ck_assert_msg(round == EDIT_ROUNDS, "the drains ended after %d "
	    "rounds of %d", round, EDIT_ROUNDS);
	xasprintf(&words, "duzelt%d kelime", round - 1);
	for (k = 0; k < EDIT_RACE; k++) {
		expect_indexed_as_cut(edited[k], words);
		ck_assert_int_eq(postings_holding(round > 1 ? "yeni" : "eski",
		    edited[k]), 0);
		free(edited[k]);
		free(older[k]);
		free(text[k]);
	}
	free(words);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_filters)
{
	struct chat_room	 room;
	struct itest_response	*r;
	char			*m[3], *second, *cpath, *more, *base;

	chat_room_open(&room, "srf");
	xasprintf(&cpath, API_PREFIX "/servers/%s/channels", room.server);
	r = itest_send("POST", cpath, room.owner.token, "{\"name\":\"two\"}");
	itest_expect(r, 201);
	second = xstrdup(itest_str(r, "id"));
	itest_free(r);
	xasprintf(&base, API_PREFIX "/channels/%s", second);
	m[0] = chat_post(&room.owner, room.base, "filter me");
	m[1] = chat_post(&room.member, room.base, "filter me");
	m[2] = chat_post(&room.owner, base, "filter me");
	xasprintf(&more, "&author_id=%s", room.owner.id);
	r = search(&room.member, room.server, "filter", more);
	expect_found(r, 2, (char *[]){ m[2], m[0] }, 2);
	itest_free(r);
	free(more);
	xasprintf(&more, "&channel_id=%s", second);
	r = search(&room.member, room.server, "filter", more);
	expect_found(r, 1, &m[2], 1);
	itest_free(r);
	free(more);
	xasprintf(&more, "&channel_id=%s&author_id=%s", room.channel,
	    room.member.id);
	r = search(&room.member, room.server, "filter", more);
	expect_found(r, 1, &m[1], 1);
	itest_free(r);
	free(more);
	/* A channel of another server, or none: 404. */
	r = search(&room.member, room.server, "filter",
	    "&channel_id=99999999999");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	ids_free(m, 3);
	free(second);
	free(base);
	free(cpath);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_private_channel)
{
	struct chat_room	 room;
	struct itest_response	*r;
	char			*secret, *open, *path, *everyone, *more, *base;
	char			*hidden;

	chat_room_open(&room, "srv");
	xasprintf(&path, API_PREFIX "/servers/%s/roles", room.server);
	r = itest_get(path, room.owner.token);
	itest_expect(r, 200);
	everyone = xstrdup(itest_str(r, "0.id"));
	itest_free(r);
	free(path);
	xasprintf(&path, API_PREFIX "/servers/%s/channels", room.server);
	r = itest_send("POST", path, room.owner.token, "{\"name\":\"staff\","
	    "\"overwrites\":[{\"type\":\"role\",\"id\":\"%s\",\"allow\":[],"
	    "\"deny\":[\"view_channels\"]}]}", everyone);
	itest_expect(r, 201);
	hidden = xstrdup(itest_str(r, "id"));
	itest_free(r);
	free(path);
	xasprintf(&base, API_PREFIX "/channels/%s", hidden);
	secret = chat_post(&room.owner, base, "launch codes tuesday");
	open = chat_post(&room.owner, room.base, "launch party tuesday");
	/* The owner sees both; the member only the open one. */
	finds(&room.owner, room.server, "launch tuesday",
	    (char *[]){ open, secret }, 2);
	finds(&room.member, room.server, "launch tuesday", &open, 1);
	finds_nothing(&room.member, room.server, "codes");
	/* Probing the hidden channel's id: as if it did not exist. */
	xasprintf(&more, "&channel_id=%s", hidden);
	r = search(&room.member, room.server, "codes", more);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = search(&room.member, room.server, "launch", more);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	/* Given view by a member overwrite: found at once. */
	xasprintf(&path, API_PREFIX "/channels/%s/overwrites/member/%s",
	    hidden, room.member.id);
	r = itest_send("PUT", path, room.owner.token,
	    "{\"allow\":[\"view_channels\"],\"deny\":[]}");
	itest_expect(r, 200);
	itest_free(r);
	finds(&room.member, room.server, "codes", &secret, 1);
	r = itest_delete(path, room.owner.token);
	ck_assert_msg(r->status == 204, "%s", itest_describe(r));
	itest_free(r);
	finds_nothing(&room.member, room.server, "codes");
	free(path);
	free(more);
	free(base);
	free(hidden);
	free(everyone);
	free(secret);
	free(open);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_before_join_and_outsiders)
{
	struct chat_room	 room;
	struct chat_user	 late, stranger;
	struct itest_response	*r;
	char			*old, *path, *token2;

	chat_room_open(&room, "srj");
	old = chat_post(&room.owner, room.base, "ancient history lesson");
	chat_user(&late, "srjl");
	chat_user(&stranger, "srjs");
	/* Not a member: the server does not exist for them. */
	r = search(&stranger, room.server, "ancient", "");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	/* Joining later still finds what was said before. */
	chat_join(&room.owner, room.server, &late);
	finds(&late, room.server, "ancient history", &old, 1);
	/* Kicked: 404 again. */
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", room.server,
	    late.id);
	r = itest_delete(path, room.owner.token);
	ck_assert_msg(r->status == 204, "kick: %s", itest_describe(r));
	itest_free(r);
	free(path);
	r = search(&late, room.server, "ancient", "");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	/* A token from before logout-all is refused at once. */
	token2 = chat_login(&room.member);
	r = itest_request("POST", API_PREFIX "/auth/logout-all",
	    room.member.token, NULL, NULL, 0);
	ck_assert_msg(r->status == 204, "logout-all: %s", itest_describe(r));
	itest_free(r);
	r = itest_get(API_PREFIX "/users/search?q=a", token2);
	itest_expect_error(r, 401, "unauthorized");
	itest_free(r);
	free(room.member.token);
	room.member.token = token2;
	r = search(&room.member, room.server, "ancient", "");
	itest_expect_error(r, 401, "unauthorized");
	itest_free(r);
	free(old);
	chat_user_free(&late);
	chat_user_free(&stranger);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_dm_search)
{
	struct chat_user	 a, b, c;
	struct itest_response	*r;
	char			*dm, *base, *id, *path, *q, *other, *other_base;

	chat_user(&a, "srda");
	chat_user(&b, "srdb");
	chat_user(&c, "srdc");
	dm = chat_dm(&a, &b);
	xasprintf(&base, API_PREFIX "/dms/%s", dm);
	id = chat_post(&b, base, "meet me at the köprü");
	/* The same words in another DM of a's are not this DM's. */
	other = chat_dm(&a, &c);
	xasprintf(&other_base, API_PREFIX "/dms/%s", other);
	free(chat_post(&c, other_base, "meet me at the köprü"));
	q = encode("kopru me");
	xasprintf(&path, API_PREFIX "/dms/%s/messages/search?q=%s", dm, q);
	r = itest_get(path, a.token);
	expect_found(r, 1, &id, 1);
	itest_free(r);
	r = itest_get(path, b.token);
	expect_found(r, 1, &id, 1);
	itest_free(r);
	/* Someone else's DM does not exist for c. */
	r = itest_get(path, c.token);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	free(path);
	xasprintf(&path, API_PREFIX "/dms/%s/messages/search?q=%%2B%%2B",
	    dm);
	r = itest_get(path, a.token);
	itest_expect_invalid(r, "q");
	itest_free(r);
	free(path);
	free(q);
	free(id);
	free(base);
	free(dm);
	free(other_base);
	free(other);
	chat_user_free(&a);
	chat_user_free(&b);
	chat_user_free(&c);
}
END_TEST

/* GET /users/search?q= as u; the answer. */
static struct itest_response *
users_search(const struct chat_user *u, const char *q, const char *more)
{
	struct itest_response	*r;
	char			*path, *eq;

	eq = encode(q);
	xasprintf(&path, API_PREFIX "/users/search?q=%s%s", eq, more);
	r = itest_get(path, u->token);
	free(path);
	free(eq);
	return r;
}

/* Whether a list of users holds this id. */
static int
lists_user(struct itest_response *r, const char *id)
{
	char	key[32];
	size_t	i;

	for (i = 0; i < r->json->count; i++) {
		snprintf(key, sizeof key, "%zu.id", i);
		if (strcmp(itest_str(r, key), id) == 0)
			return 1;
	}
	return 0;
}

START_TEST(test_users)
{
	struct chat_room	 room;
	struct chat_user	 dmpal, stranger;
	struct itest_response	*r;
	char			*dm, *upper, *p;

	chat_room_open(&room, "sru_");
	chat_user(&dmpal, "srux");
	chat_user(&stranger, "sruy");
	dm = chat_dm(&dmpal, &room.owner);
	/* A server in common, ignoring case; never yourself. */
	upper = xstrdup(room.owner.username);
	for (p = upper; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	r = users_search(&room.member, upper, "");
	itest_expect(r, 200);
	ck_assert_msg(r->json->count == 1 && lists_user(r, room.owner.id),
	    "the owner by name: %s", itest_describe(r));
	ck_assert_str_eq(itest_str(r, "0.username"), room.owner.username);
	itest_free(r);
	r = users_search(&room.member, "sru_", "");
	itest_expect(r, 200);
	ck_assert_msg(lists_user(r, room.owner.id) &&
	    !lists_user(r, room.member.id), "%s", itest_describe(r));
	itest_free(r);
	/* '_' is a character, not LIKE's wildcard. */
	r = users_search(&room.owner, "sru_", "");
	itest_expect(r, 200);
	ck_assert_msg(!lists_user(r, dmpal.id), "%s", itest_describe(r));
	itest_free(r);
	/* A DM in common. */
	r = users_search(&room.owner, dmpal.username, "");
	itest_expect(r, 200);
	ck_assert_msg(r->json->count == 1 && lists_user(r, dmpal.id), "%s",
	    itest_describe(r));
	itest_free(r);
	/* Nothing in common: nobody, whatever the name. */
	r = users_search(&stranger, room.owner.username, "");
	itest_expect(r, 200);
	ck_assert_msg(r->json->count == 0, "%s", itest_describe(r));
	itest_free(r);
	r = users_search(&room.owner, stranger.username, "");
	itest_expect(r, 200);
	ck_assert_msg(r->json->count == 0, "%s", itest_describe(r));
	itest_free(r);
	/* 1..32 characters, limit 1..25. */
	r = users_search(&room.owner, "", "");
	itest_expect_invalid(r, "q");
	itest_free(r);
	r = users_search(&room.owner, "abcdefghijklmnopqrstuvwxyz0123456",
	    "");
	itest_expect_invalid(r, "q");
	itest_free(r);
	r = users_search(&room.owner, "s", "&limit=26");
	itest_expect_invalid(r, "limit");
	itest_free(r);
	r = users_search(&room.owner, "s", "&limit=1");
	itest_expect(r, 200);
	ck_assert_msg(r->json->count == 1, "%s", itest_describe(r));
	itest_free(r);
	free(upper);
	free(dm);
	chat_user_free(&dmpal);
	chat_user_free(&stranger);
	chat_room_close(&room);
}
END_TEST

/*
 * sohbetctl seed (tools/dev seed, restarting sohbetd) indexes what it
 * writes: every message of its big server that has words (a few seeded
 * texts are emoji alone) has them under the server, and a member finds
 * the newest such message by its first word.  More messages than a seed
 * batch holds (SEED_BATCH, 2,000), so that some are written while the
 * rest of the seed still waits in its batches.
 */
START_TEST(test_seeded_messages)
{
	struct itest_response	*r;
	struct chat_user	 u;
	long long		 server;
	char			*sql, *word, *newest;

	ck_assert_int_eq(itest_dev("seed --users 3 --servers 1 --messages 0"
	    " --big-channel 2500"), 0);
	server = itest_sql_number("SELECT MAX(id) FROM servers"
	    " WHERE name = 'Seed big server'");
	ck_assert_msg(server > 0, "no seeded big server");
	xasprintf(&sql, "SELECT COUNT(*) FROM messages m JOIN channels c"
	    " ON c.id = m.channel_id WHERE c.server_id = %lld", server);
	ck_assert_int_eq(itest_sql_number(sql), 2500);
	free(sql);
	xasprintf(&sql, "SELECT COUNT(*) FROM messages m JOIN channels c"
	    " ON c.id = m.channel_id WHERE c.server_id = %lld"
	    " AND search_words(m.content) <> '[\"\"]' AND NOT EXISTS"
	    " (SELECT 1 FROM message_postings w WHERE w.word ="
	    " LEFT(JSON_VALUE(search_words(m.content), '$[0]'), 64)"
	    " COLLATE utf8mb4_unicode_520_ci AND w.in_dm = 0"
	    " AND w.scope_id = c.server_id AND CONCAT(',', w.ids, ',')"
	    " LIKE CONCAT('%%,', m.id, ':', c.id, ',%%'))", server);
	ck_assert_int_eq(itest_sql_number(sql), 0);
	free(sql);

	memset(&u, 0, sizeof u);
	xasprintf(&sql, "SELECT u.username FROM server_members s JOIN users u"
	    " ON u.id = s.user_id WHERE s.server_id = %lld"
	    " AND u.username LIKE 'seed\\_user\\_%%' LIMIT 1", server);
	u.username = itest_sql_text(sql);
	free(sql);
	ck_assert_msg(u.username != NULL && *u.username != '\0',
	    "no seeded member");
	u.username[strcspn(u.username, "\n")] = '\0';
	r = itest_send("POST", API_PREFIX "/auth/login", NULL,
	    "{\"login\":\"%s\",\"password\":\"password123\"}", u.username);
	itest_expect(r, 200);
	u.token = xstrdup(itest_str(r, "access_token"));
	itest_free(r);

	xasprintf(&sql, "SELECT m.id FROM messages m JOIN channels c"
	    " ON c.id = m.channel_id WHERE c.server_id = %lld"
	    " AND search_words(m.content) <> '[\"\"]'"
	    " ORDER BY m.id DESC LIMIT 1", server);
	newest = itest_sql_text(sql);
	free(sql);
	xasprintf(&sql, "SELECT JSON_VALUE(search_words(content), '$[0]')"
	    " FROM messages WHERE id = %s", newest);
	word = itest_sql_text(sql);
	free(sql);
	ck_assert_msg(newest != NULL && word != NULL && *word != '\0',
	    "no newest seeded message");
	newest[strcspn(newest, "\n")] = '\0';
	word[strcspn(word, "\n")] = '\0';
	xasprintf(&sql, "%lld", server);
	r = search(&u, sql, word, "&limit=1");
	itest_expect(r, 200);
	ck_assert_msg(strcmp(itest_str(r, "messages.0.id"), newest) == 0,
	    "the newest seeded message (%s) should come first for \"%s\": %s",
	    newest, word, itest_describe(r));
	itest_free(r);
	free(sql);
	free(word);
	free(newest);
	chat_user_free(&u);
}
END_TEST

static Suite *
search_suite(void)
{
	Suite	*s = suite_create("search");
	TCase	*tc;

	tc = tcase_create("matching");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_word_and_prefix);
	tcase_add_test(tc, test_phrases);
	tcase_add_test(tc, test_case_accents_turkish);
	tcase_add_test(tc, test_operators_are_text);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_edit_and_delete_at_once);
	tcase_add_test(tc, test_sent_words_indexed_as_cut);
	tcase_add_test(tc, test_queued_and_indexed);
	tcase_add_test(tc, test_drain_beside_edits);
	suite_add_tcase(s, tc);
	tc = tcase_create("pages");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_paging_and_total);
	tcase_add_test(tc, test_total_cap);
	tcase_add_test(tc, test_filters);
	suite_add_tcase(s, tc);
	tc = tcase_create("prefixes");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_prefix_of_few_words);
	tcase_add_test(tc, test_prefix_of_many_words);
	tcase_add_test(tc, test_prefix_walk);
	suite_add_tcase(s, tc);
	tc = tcase_create("where");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_private_channel);
	tcase_add_test(tc, test_before_join_and_outsiders);
	tcase_add_test(tc, test_dm_search);
	tcase_add_test(tc, test_users);
	suite_add_tcase(s, tc);
	tc = tcase_create("seed");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_seeded_messages);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(search_suite());
}
