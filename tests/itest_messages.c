/* SPDX-License-Identifier: ISC */
/*
 * itest_messages.c: integration tests of messages (API.md, Messages) in
 * both kinds of conversation, a server channel and a DM channel: the
 * message object, content rules, text stored verbatim, pagination and its
 * edges, nonces (retries and races), edit, soft delete, access, and the
 * events each change appends.  Most tests run once per kind (a loop
 * test: _i is the kind), since both share one implementation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "chat.h"
#include "check_run.h"

#define KIND_CHANNEL	0
#define KIND_DM		1
#define KINDS		2
#define PAGE_MESSAGES	7
#define MANY_MESSAGES	105
#define RACERS		8
#define UNCALLED_SENDS	8	/* sends without message_send */
#define PLAN_MESSAGES	160	/* a conversation of three pages and more */
#define PLAN_PAGE	50
#define PLAN_DELETED	5	/* deleted messages inside each page read */
#define EDGE_MESSAGES	30
#define EDGE_DELETED_TO	26	/* m[8..26) deleted: a run of 18 */

/* A conversation and two people in it who may both read and post. */
struct conv {
	int			 kind;
	struct chat_user	 a;	/* owner of the server (moderator) */
	struct chat_user	 b;	/* a plain member */
	char			*server;	/* channel kind only */
	char			*id;		/* channel or DM channel id */
	char			*base;		/* API_PREFIX "/channels/ID" */
};

/* Open a new conversation of a kind between two new accounts. */
static void
conv_open(struct conv *c, int kind)
{
	memset(c, 0, sizeof *c);
	c->kind = kind;
	chat_user(&c->a, "msg_a");
	chat_user(&c->b, "msg_b");
	if (kind == KIND_CHANNEL) {
		c->server = chat_server(&c->a, &c->id);
		chat_join(&c->a, c->server, &c->b);
		xasprintf(&c->base, API_PREFIX "/channels/%s", c->id);
	} else {
		c->id = chat_dm(&c->a, &c->b);
		xasprintf(&c->base, API_PREFIX "/dms/%s", c->id);
	}
}

/* Free a conversation's strings. */
static void
conv_close(struct conv *c)
{
	chat_user_free(&c->a);
	chat_user_free(&c->b);
	free(c->server);
	free(c->id);
	free(c->base);
}

/* Post a message with a JSON body (printf-formatted) to a conversation. */
static struct itest_response *
conv_send(const struct conv *c, const struct chat_user *u,
    const char *body)
{
	return chat_send(u, c->base, body);
}

/* Send a method to one message of a conversation, with a body or none. */
static struct itest_response *
conv_one(const struct conv *c, const struct chat_user *u, const char *method,
    const char *id, const char *body)
{
	struct itest_response	*r;
	char			*path;

	path = chat_path(c->base, id, NULL);
	if (body != NULL)
		r = itest_send(method, path, u->token, "%s", body);
	else
		r = itest_request(method, path, u->token, NULL, NULL, 0);
	free(path);
	return r;
}

/* Assert a JSON member is null. */
static void
expect_null(struct itest_response *r, const char *path)
{
	const struct json	*v = itest_at(r->json, path);

	ck_assert_msg(v != NULL && v->type == JSON_NULL, "%s is not null: %s",
	    path, itest_describe(r));
}

/* Assert a time member is RFC 3339 UTC with milliseconds. */
static void
expect_time(struct itest_response *r, const char *path)
{
	const char	*t = itest_str(r, path);

	ck_assert_msg(t != NULL && strlen(t) == 24 && t[10] == 'T' &&
	    t[19] == '.' && t[23] == 'Z', "%s is not a time: %s", path,
	    itest_describe(r));
}

/* Assert a message object's shape: its conversation and author. */
static void
expect_message(struct itest_response *r, const struct conv *c,
    const struct chat_user *author)
{
	const struct json	*reactions, *pinned;

	ck_assert_msg(r->json->type == JSON_OBJECT && r->json->count == 15,
	    "a message has id, channel_id, dm_channel_id, author, content, "
	    "created_at, edited_at, nonce, reply_to, mentions, mention_roles, "
	    "mention_everyone, reactions, pinned, attachments: %s",
	    itest_describe(r));
	/* A message that uses none of them: no reply, no reactions, no pin. */
	expect_null(r, "reply_to");
	reactions = itest_at(r->json, "reactions");
	pinned = itest_at(r->json, "pinned");
	ck_assert_msg(reactions != NULL && reactions->type == JSON_ARRAY &&
	    reactions->count == 0 && pinned != NULL &&
	    pinned->type == JSON_BOOL && !pinned->boolean, "reactions [] and "
	    "pinned false: %s", itest_describe(r));
	ck_assert_msg(itest_str(r, "id") != NULL, "no id: %s",
	    itest_describe(r));
	itest_expect_str(r, c->kind == KIND_CHANNEL ? "channel_id" :
	    "dm_channel_id", c->id);
	expect_null(r, c->kind == KIND_CHANNEL ? "dm_channel_id" :
	    "channel_id");
	itest_expect_str(r, "author.id", author->id);
	itest_expect_str(r, "author.username", author->username);
	ck_assert_msg(itest_at(r->json, "author")->count == 2, "author is "
	    "the public user {id, username}: %s", itest_describe(r));
	expect_time(r, "created_at");
}

/* Post count messages "<prefix> i"; their ids into ids. */
static void
post_many(const struct conv *c, const char *prefix, char **ids, int count)
{
	char	text[64];
	int	i;

	for (i = 0; i < count; i++) {
		snprintf(text, sizeof text, "%s %d", prefix, i);
		ids[i] = chat_post(i % 2 ? &c->b : &c->a, c->base, text);
	}
}

/* Free message ids. */
static void
free_ids(char **ids, int count)
{
	while (count > 0)
		free(ids[--count]);
}

/* Assert a page of history (query) holds exactly ids[from..from+n). */
static void
expect_page(const struct conv *c, const char *query, char **ids, int from,
    int n)
{
	struct itest_response	*r;

	r = chat_history(&c->a, c->base, query);
	chat_expect_ids(r, ids + from, (size_t)n);
	itest_free(r);
}

/* A query string with one id parameter and a limit (0: none). */
static char *
query(const char *name, const char *id, int limit)
{
	char	*q;

	if (limit > 0)
		xasprintf(&q, "%s=%s&limit=%d", name, id, limit);
	else
		xasprintf(&q, "%s=%s", name, id);
	return q;
}

/* Assert a page of history with one cursor holds ids[from..from+n). */
static void
expect_cursor(const struct conv *c, const char *name, const char *id,
    int limit, char **ids, int from, int n)
{
	char	*q = query(name, id, limit);

	expect_page(c, q, ids, from, n);
	free(q);
}

/* --- the message and its content -------------------------------------- */

START_TEST(test_send)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*id;

	conv_open(&c, _i);
	r = conv_send(&c, &c.b, "{\"content\":\"hello there\"}");
	itest_expect(r, 201);
	expect_message(r, &c, &c.b);
	itest_expect_str(r, "content", "hello there");
	expect_null(r, "edited_at");
	expect_null(r, "nonce");
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);

	/* The other participant reads the same message. */
	r = conv_one(&c, &c.a, "GET", id, NULL);
	itest_expect(r, 200);
	expect_message(r, &c, &c.b);
	itest_expect_str(r, "id", id);
	itest_expect_str(r, "content", "hello there");
	itest_free(r);

	/* Unknown fields are ignored. */
	r = conv_send(&c, &c.a, "{\"content\":\"x\",\"tts\":true,\"embeds\":[]}");
	itest_expect(r, 201);
	itest_free(r);
	free(id);
	conv_close(&c);
}
END_TEST

/* 4000 (or n) copies of an emoji, a code point of 4 UTF-8 bytes. */
static char *
emoji(int n)
{
	static const char	 e[] = "\xf0\x9f\x98\x80";	/* U+1F600 */
	char			*s;
	int			 i;

	s = xmalloc((size_t)n * 4 + 1);
	for (i = 0; i < n; i++)
		memcpy(s + i * 4, e, 4);
	s[n * 4] = '\0';
	return s;
}

START_TEST(test_content_rules)
{
	static const char	*bad[] = {
		"{}",
		"{\"content\":null}",
		"{\"content\":\"\"}",
		"{\"content\":\"   \"}",
		"{\"content\":\" \\n\\t\\r \\u00a0\\u3000\\u2003\"}",
		"{\"content\":42}",
		"{\"content\":[\"a\"]}",
		"{\"content\":\"a\\u0000b\"}",
		"{\"content\":\"\\u0000\"}",
		"{\"content\":\"lone \\ud800 surrogate\"}",
	};
	struct itest_response	*r;
	struct conv		 c;
	char			*text, *id, *body;
	size_t			 i;

	conv_open(&c, _i);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = conv_send(&c, &c.a, bad[i]);
		itest_expect_invalid(r, "content");
		itest_free(r);
	}

	/* Code points, not bytes: 4000 emoji (16000 bytes) pass. */
	text = emoji(4000);
	id = chat_post(&c.a, c.base, text);
	free(text);
	free(id);
	text = emoji(4001);
	xasprintf(&body, "{\"content\":\"%s\"}", text);
	r = conv_send(&c, &c.a, body);
	itest_expect_invalid(r, "content");
	itest_free(r);
	free(body);
	free(text);

	/* One code point, and text with white space around it. */
	id = chat_post(&c.b, c.base, "x");
	free(id);
	id = chat_post(&c.b, c.base, "  padded\n");
	free(id);

	/* Bodies that are not JSON objects. */
	r = conv_send(&c, &c.a, "[\"content\"]");
	itest_expect_error(r, 400, "invalid_json");
	itest_free(r);
	conv_close(&c);
}
END_TEST

/* Texts that must come back exactly as sent. */
static const char *const verbatim_texts[] = {
	"it's",
	"say \"hi\"",
	"back\\slash \\\\ and \\n literally",
	"100% _done_ %s %d %%",
	"'; DROP TABLE messages; --",
	"\"); DELETE FROM users WHERE ('1'='1",
	"`backticks` and $dollars and ${braces}",
	"<script>alert(1)</script> &amp;",
	"tab\there\nnew line\r\n",
	"\xc3\xa9\xe2\x80\x8b\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd "
	    "\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85",
};
#define VERBATIM	(sizeof verbatim_texts / sizeof verbatim_texts[0])

START_TEST(test_verbatim)
{
	const char *const	*texts = verbatim_texts;
	struct itest_response	*r;
	struct conv		 c;
	char			*ids[VERBATIM];
	size_t			 i, n = VERBATIM;

	conv_open(&c, _i);
	for (i = 0; i < n; i++)
		ids[i] = chat_post(&c.a, c.base, texts[i]);
	r = chat_history(&c.b, c.base, NULL);
	chat_expect_ids(r, ids, n);
	for (i = 0; i < n; i++)
		ck_assert_msg(strcmp(itest_at(r->json->items[i], "content")->text,
		    texts[i]) == 0, "message %zu came back changed: %s", i,
		    itest_describe(r));
	itest_free(r);
	for (i = 0; i < n; i++) {
		r = conv_one(&c, &c.b, "GET", ids[i], NULL);
		itest_expect(r, 200);
		itest_expect_str(r, "content", texts[i]);
		itest_free(r);
	}
	free_ids(ids, (int)n);
	conv_close(&c);
}
END_TEST

/* --- history -------------------------------------------------------------- */

START_TEST(test_pagination)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*m[PAGE_MESSAGES], *q, *want[4];

	conv_open(&c, _i);
	post_many(&c, "page", m, PAGE_MESSAGES);
	want[0] = m[1];
	want[1] = m[2];
	want[2] = m[4];
	want[3] = m[5];

	/* No cursor: the newest, oldest first. */
	expect_page(&c, NULL, m, 0, 7);
	expect_page(&c, "limit=3", m, 4, 3);
	expect_page(&c, "limit=1", m, 6, 1);

	/* before: the newest older than the cursor. */
	expect_cursor(&c, "before", m[3], 2, m, 1, 2);
	expect_cursor(&c, "before", m[3], 0, m, 0, 3);
	expect_cursor(&c, "before", m[1], 5, m, 0, 1);	/* first page */
	expect_cursor(&c, "before", m[0], 5, m, 0, 0);	/* before the first */
	expect_cursor(&c, "before", "18446744073709551615", 2, m, 5, 2);

	/* after: the oldest newer than the cursor. */
	expect_cursor(&c, "after", m[3], 2, m, 4, 2);
	expect_cursor(&c, "after", m[3], 0, m, 4, 3);
	expect_cursor(&c, "after", m[5], 5, m, 6, 1);	/* last page */
	expect_cursor(&c, "after", m[6], 5, m, 0, 0);	/* after the last */
	expect_cursor(&c, "after", "1", 2, m, 0, 2);
	expect_cursor(&c, "after", "18446744073709551615", 2, m, 0, 0);

	/* around: at most limit/2 older, the cursor, the rest newer. */
	expect_cursor(&c, "around", m[3], 3, m, 2, 3);
	expect_cursor(&c, "around", m[3], 4, m, 1, 4);
	expect_cursor(&c, "around", m[3], 0, m, 0, 7);
	expect_cursor(&c, "around", m[3], 1, m, 3, 1);
	expect_cursor(&c, "around", m[0], 5, m, 0, 5);	/* the first */
	expect_cursor(&c, "around", m[6], 5, m, 4, 3);	/* the last */
	expect_cursor(&c, "around", m[6], 1, m, 6, 1);
	expect_cursor(&c, "around", "1", 3, m, 0, 3);

	/* A cursor need not exist: around a deleted message. */
	r = conv_one(&c, &c.b, "DELETE", m[3], NULL);	/* b wrote odd ones */
	ck_assert_msg(r->status == 204, "delete: %s", itest_describe(r));
	itest_free(r);
	q = query("around", m[3], 4);
	r = chat_history(&c.a, c.base, q);
	chat_expect_ids(r, want, 4);
	itest_free(r);
	free(q);
	free_ids(m, PAGE_MESSAGES);
	conv_close(&c);
}
END_TEST

/* Walk the history with limit 2 in one direction; assert all of ids, once. */
static void
walk(const struct conv *c, const char *direction, char **ids, int n)
{
	struct itest_response	*r;
	char			*cursor = NULL, *q;
	int			 forward, seen = 0, i, got, k;

	forward = strcmp(direction, "after") == 0;
	for (;;) {
		if (cursor == NULL)
			q = xstrdup(forward ? "after=1&limit=2" : "limit=2");
		else
			q = query(direction, cursor, 2);
		r = chat_history(&c->a, c->base, q);
		free(q);
		if ((got = (int)r->json->count) == 0) {
			itest_free(r);
			break;
		}
		ck_assert_msg(seen + got <= n, "more pages than messages: %s",
		    itest_describe(r));
		for (i = 0; i < got; i++) {
			k = forward ? seen + i : n - seen - got + i;
			ck_assert_msg(strcmp(itest_at(r->json->items[i],
			    "id")->text, ids[k]) == 0, "page out of order: %s",
			    itest_describe(r));
		}
		free(cursor);
		cursor = xstrdup(itest_at(r->json->items[forward ? got - 1 : 0],
		    "id")->text);
		seen += got;
		itest_free(r);
	}
	free(cursor);
	ck_assert_msg(seen == n, "walking %s saw %d of %d messages",
	    direction, seen, n);
}

START_TEST(test_limits)
{
	static const char	*bad[] = {
		"limit=0", "limit=101", "limit=-1", "limit=abc", "limit=",
		"limit=1.5", "limit=99999999999999999999999",
	};
	struct itest_response	*r;
	struct conv		 c;
	char			*m[MANY_MESSAGES], *path;
	size_t			 i;

	conv_open(&c, _i);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		path = chat_path(c.base, NULL, bad[i]);
		r = itest_get(path, c.a.token);
		itest_expect_invalid(r, "limit");
		itest_free(r);
		free(path);
	}
	post_many(&c, "many", m, MANY_MESSAGES);
	expect_page(&c, NULL, m, MANY_MESSAGES - 50, 50);	/* default */
	expect_page(&c, "limit=100", m, MANY_MESSAGES - 100, 100);
	expect_cursor(&c, "before", m[MANY_MESSAGES - 100], 100, m, 0,
	    MANY_MESSAGES - 100);
	expect_cursor(&c, "after", m[0], 100, m, 1, 100);
	expect_cursor(&c, "around", m[52], 100, m, 2, 100);
	expect_page(&c, "limit=1", m, MANY_MESSAGES - 1, 1);
	walk(&c, "before", m, MANY_MESSAGES);
	walk(&c, "after", m, MANY_MESSAGES);
	free_ids(m, MANY_MESSAGES);
	conv_close(&c);
}
END_TEST

/* Assert a page of history (query) of a conversation holds ids[0..n). */
static void
r_expect_ids(const struct chat_user *u, const char *base, const char *q,
    char **ids, int n)
{
	struct itest_response	*r;

	r = chat_history(u, base, q);
	chat_expect_ids(r, ids, (size_t)n);
	itest_free(r);
}

/* A second conversation of c's kind, whose id is above c's: its base. */
static char *
conv_second(const struct conv *c, struct chat_user *third, char **id)
{
	struct itest_response	*r;
	char			*base, *path;

	if (c->kind == KIND_CHANNEL) {
		xasprintf(&path, API_PREFIX "/servers/%s/channels", c->server);
		r = itest_send("POST", path, c->a.token, "{\"name\":\"next\"}");
		itest_expect(r, 201);
		*id = xstrdup(itest_str(r, "id"));
		itest_free(r);
		free(path);
		xasprintf(&base, API_PREFIX "/channels/%s", *id);
	} else {
		chat_user(third, "msg_c");
		*id = chat_dm(&c->a, third);
		xasprintf(&base, API_PREFIX "/dms/%s", *id);
	}
	return base;
}

/* Delete messages ids[from..to) as a, their author. */
static void
delete_range(const struct conv *c, char **ids, int from, int to)
{
	struct itest_response	*r;

	for (; from < to; from++) {
		r = conv_one(c, &c->a, "DELETE", ids[from], NULL);
		ck_assert_msg(r->status == 204, "delete: %s",
		    itest_describe(r));
		itest_free(r);
	}
}

/*
 * A page ends where its conversation does, though the index walked goes
 * on into the next conversation's messages (posted in between, with ids
 * between ours), and skips deleted messages at its edge, however many:
 * history.c reads pages below the newest through a HANDLER that knows
 * neither conversations nor deleted flags.
 */
START_TEST(test_history_edges)
{
	struct chat_user	 third;
	struct conv		 c;
	char			*m[EDGE_MESSAGES], *n[3], *other, *other_id, *q;
	char			*want[4];
	int			 i;

	memset(&third, 0, sizeof third);
	conv_open(&c, _i);
	other = conv_second(&c, &third, &other_id);
	for (i = 0; i < EDGE_MESSAGES; i++) {
		m[i] = chat_post(&c.a, c.base, "edge");
		if (i == 4 || i == 9 || i == EDGE_MESSAGES - 1)
			n[i == 4 ? 0 : i == 9 ? 1 : 2] = chat_post(&c.a, other,
			    "next door");
	}
	/* Below the first and above the last: the other conversation. */
	expect_cursor(&c, "before", m[0], 5, m, 0, 0);
	expect_cursor(&c, "after", m[EDGE_MESSAGES - 1], 5, m, 0, 0);
	q = query("before", n[0], 5);
	r_expect_ids(&c.a, other, q, n, 0);
	free(q);
	q = query("after", n[2], 5);
	r_expect_ids(&c.a, other, q, n, 0);
	free(q);
	q = query("around", n[1], 10);
	r_expect_ids(&c.a, other, q, n, 3);
	free(q);
	expect_cursor(&c, "before", m[7], 10, m, 0, 7);
	expect_cursor(&c, "after", m[2], 4, m, 3, 4);

	/* Deleted at the edge: m[3], m[4] right below m[5]. */
	delete_range(&c, m, 3, 5);
	expect_cursor(&c, "before", m[5], 2, m, 1, 2);
	expect_cursor(&c, "after", m[2], 2, m, 5, 2);
	/* A run longer than the page: m[8..EDGE_DELETED_TO). */
	delete_range(&c, m, 8, EDGE_DELETED_TO);
	expect_cursor(&c, "before", m[EDGE_DELETED_TO], 2, m, 6, 2);
	expect_cursor(&c, "after", m[7], 2, m, EDGE_DELETED_TO, 2);
	want[0] = m[6];
	want[1] = m[7];
	want[2] = m[EDGE_DELETED_TO];
	want[3] = m[EDGE_DELETED_TO + 1];
	q = query("around", m[EDGE_DELETED_TO], 4);
	r_expect_ids(&c.a, c.base, q, want, 4);
	free(q);
	/* Deleted down to the first: nothing older. */
	delete_range(&c, m, 0, 3);
	expect_cursor(&c, "before", m[5], 5, m, 0, 0);
	free_ids(m, EDGE_MESSAGES);
	free_ids(n, 3);
	free(other);
	free(other_id);
	if (third.id != NULL)
		chat_user_free(&third);
	conv_close(&c);
}
END_TEST

/*
 * A page below the newest names each author as they are named now: the
 * names come from the worker's users cache, which a rename leaves.
 */
START_TEST(test_history_renamed_author)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*m[3], *q, *name, *body;
	int			 round;

	conv_open(&c, _i);
	post_many(&c, "renamed", m, 3);
	q = query("before", m[2], 2);
	name = itest_unique("msg_renamed");
	xasprintf(&body, "{\"username\":\"%s\"}", name);
	for (round = 0; round < 2; round++) {
		/* b wrote m[1]. */
		r = chat_history(&c.a, c.base, q);
		chat_expect_ids(r, m, 2);
		ck_assert_msg(strcmp(itest_at(r->json->items[1],
		    "author.username")->text, round == 0 ? c.b.username :
		    name) == 0, "round %d: %s", round, itest_describe(r));
		itest_free(r);
		if (round == 0) {
			r = itest_send("PATCH", API_PREFIX "/users/@me",
			    c.b.token, "%s", body);
			itest_expect(r, 200);
			itest_free(r);
		}
	}
	free(body);
	free(name);
	free(q);
	free_ids(m, 3);
	conv_close(&c);
}
END_TEST

/*
 * A worker that read a page below the newest holds the messages table
 * open (a HANDLER) and closes it after a second without such pages, so
 * that a change of the table (a migration) waits about that long for an
 * idle worker, not for ever.
 */
START_TEST(test_history_handler_idle)
{
	struct conv	c;
	char		*m[3];
	double		 start;

	conv_open(&c, _i);
	post_many(&c, "idle", m, 3);
	expect_cursor(&c, "before", m[2], 2, m, 0, 2);
	start = itest_now();
	ck_assert_int_eq(itest_sql("ALTER TABLE messages WAIT 10"
	    " COMMENT = 'itest'"), 0);
	ck_assert_msg(itest_now() - start < 5, "the table change waited "
	    "%.1f s", itest_now() - start);
	ck_assert_int_eq(itest_sql("ALTER TABLE messages COMMENT = ''"), 0);
	/* And pages read on, the HANDLER opened again. */
	expect_cursor(&c, "before", m[2], 2, m, 0, 2);
	expect_cursor(&c, "after", m[0], 2, m, 1, 2);
	free_ids(m, 3);
	conv_close(&c);
}
END_TEST

/* Whether an EXPLAIN object describes the table of this alias. */
static int
plan_is_table(const struct json *v, const char *alias)
{
	const struct json	*name = json_get(v, "table_name");

	return name != NULL && name->type == JSON_STRING &&
	    strcmp(name->text, alias) == 0;
}

/* Whether an EXPLAIN object has a member of this name. */
static int
plan_has(const struct json *v, const char *key)
{
	return json_get(v, key) != NULL;
}

/* The first object of a JSON document, at any depth, that matches. */
static const struct json *
plan_find(const struct json *v,
    int (*match)(const struct json *, const char *), const char *arg)
{
	const struct json	*found;
	size_t			 i;

	if (match(v, arg))
		return v;
	for (i = 0; i < v->count; i++) {
		found = plan_find(v->type == JSON_OBJECT ?
		    v->members[i].value : v->items[i], match, arg);
		if (found != NULL)
			return found;
	}
	return NULL;
}

/* How many objects of a JSON document, at any depth, name a table. */
static size_t
plan_tables(const struct json *v)
{
	size_t	i, n;

	n = json_get(v, "table_name") != NULL;
	for (i = 0; i < v->count; i++)
		n += plan_tables(v->type == JSON_OBJECT ?
		    v->members[i].value : v->items[i]);
	return n;
}

/* A statement with its ? placeholders replaced by the numbers given. */
static char *
plan_statement(const char *sql, const unsigned long long *args, int nargs)
{
	size_t	 size = strlen(sql) + (size_t)nargs * 24 + 1, len = 0;
	char	*out;
	int	 used = 0;

	out = xmalloc(size);
	for (; *sql != '\0'; sql++) {
		if (*sql != '?')
			out[len++] = *sql;
		else {
			ck_assert_msg(used < nargs, "more placeholders than "
			    "the %d arguments", nargs);
			len += (size_t)snprintf(out + len, size - len, "%llu",
			    args[used++]);
		}
	}
	out[len] = '\0';
	ck_assert_int_eq(used, nargs);
	return out;
}

/*
 * Run one of the server's history statements under ANALYZE and assert
 * what makes a page cost the same in any conversation: a range scan of
 * the conversation's index, no sort, no table but the messages and their
 * authors, and no more rows read than the page and the deleted messages
 * inside it.
 */
static void
expect_page_scan(const char *sql, const unsigned long long *args,
    int nargs, int kind)
{
	const char		*key = kind == KIND_CHANNEL ?
			    "messages_channel" : "messages_dm_channel";
	const struct json	*m, *v;
	struct json		*plan;
	char			*stmt, *analyze, *text;
	double			 rows;

	stmt = plan_statement(sql, args, nargs);
	xasprintf(&analyze, "ANALYZE FORMAT=JSON %s", stmt);
	text = itest_sql_text(analyze);
	ck_assert_msg(text != NULL, "%s failed", analyze);
	ck_assert_msg(json_parse(text, strlen(text), &plan) == 0,
	    "ANALYZE gave no JSON: %s", text);
	m = plan_find(plan, plan_is_table, "m");
	ck_assert_msg(m != NULL, "no table m in %s", text);
	v = json_get(m, "access_type");
	ck_assert_msg(v != NULL && strcmp(v->text, "range") == 0,
	    "messages are not read by a range scan: %s", text);
	v = json_get(m, "key");
	ck_assert_msg(v != NULL && strcmp(v->text, key) == 0,
	    "the scan does not use %s: %s", key, text);
	v = json_get(m, "used_key_parts");
	ck_assert_msg(v != NULL && v->type == JSON_ARRAY && v->count == 2,
	    "the scan does not use both columns of %s: %s", key, text);
	ck_assert_msg(plan_find(plan, plan_has, "filesort") == NULL,
	    "the page is sorted: %s", text);
	/*
	 * The messages and their authors, nothing else: what a row points
	 * at is read after, and only when a message of the page has it.
	 */
	ck_assert_msg(plan_find(plan, plan_is_table, "u") != NULL &&
	    plan_tables(plan) == 2, "the page reads more than its messages "
	    "and their authors: %s", text);
	v = json_get(m, "r_rows");
	ck_assert_msg(v != NULL && v->type == JSON_NUMBER, "no r_rows: %s",
	    text);
	rows = strtod(v->text, NULL);
	ck_assert_msg(rows >= PLAN_PAGE && rows <= PLAN_PAGE + PLAN_DELETED + 1,
	    "%.0f messages read for a page of %d with %d deleted in it, in a "
	    "conversation of %d: %s", rows, PLAN_PAGE, PLAN_DELETED,
	    PLAN_MESSAGES, stmt);
	json_free(plan);
	free(text);
	free(analyze);
	free(stmt);
}

/*
 * A page of history reads only that page, in a conversation three times
 * longer: both of the server's statements (the older side, the newer
 * side) are run under ANALYZE in the middle of it.
 */
START_TEST(test_history_plan)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*m[PLAN_MESSAGES];
	unsigned long long	 older[3], newer[4];
	int			 i;

	conv_open(&c, _i);
	post_many(&c, "plan", m, PLAN_MESSAGES);
	/* a wrote the even ones and may delete them in either kind. */
	for (i = 0; i < 2 * PLAN_DELETED; i++) {
		r = conv_one(&c, &c.a, "DELETE", m[i < PLAN_DELETED ?
		    100 + 2 * i : 30 + 2 * (i - PLAN_DELETED)], NULL);
		ck_assert_msg(r->status == 204, "delete: %s",
		    itest_describe(r));
		itest_free(r);
	}
	/* The newest 50 up to m[120]: m[66..120] less five deleted. */
	older[0] = strtoull(c.id, NULL, 10);
	older[1] = strtoull(m[120], NULL, 10);
	older[2] = PLAN_PAGE;
	expect_page_scan(history_sql(1, _i == KIND_DM), older, 3, _i);
	/* The oldest 50 after m[20], up to the last: m[21..75]. */
	newer[0] = older[0];
	newer[1] = strtoull(m[20], NULL, 10);
	newer[2] = strtoull(m[PLAN_MESSAGES - 1], NULL, 10);
	newer[3] = PLAN_PAGE;
	expect_page_scan(history_sql(0, _i == KIND_DM), newer, 4, _i);
	free_ids(m, PLAN_MESSAGES);
	conv_close(&c);
}
END_TEST

START_TEST(test_cursor_errors)
{
	static const char	*malformed[] = {
		"before=abc", "after=0", "around=-1", "before=", "after=1e3",
		"around=18446744073709551616", "before=007", "after=%201",
	};
	static const char	*two[] = {
		"before=5&after=3", "around=5&before=9", "after=1&around=2",
		"before=1&after=1&around=1",
	};
	struct itest_response	*r;
	struct conv		 c;
	char			*path;
	size_t			 i;

	conv_open(&c, _i);
	for (i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		path = chat_path(c.base, NULL, malformed[i]);
		r = itest_get(path, c.a.token);
		itest_expect_error(r, 400, "invalid_id");
		itest_free(r);
		free(path);
	}
	for (i = 0; i < sizeof two / sizeof two[0]; i++) {
		path = chat_path(c.base, NULL, two[i]);
		r = itest_get(path, c.a.token);
		itest_expect_error(r, 400, "validation_failed");
		itest_free(r);
		free(path);
	}
	/* A malformed message id in the path. */
	r = conv_one(&c, &c.a, "GET", "12x", NULL);
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);
	r = conv_one(&c, &c.a, "PATCH", "0", "{\"content\":\"x\"}");
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);
	conv_close(&c);
}
END_TEST

/* --- nonces --------------------------------------------------------------- */

/* Send content with a nonce; assert the status; the message id. */
static char *
send_nonce(const struct conv *c, const struct chat_user *u,
    const char *content, const char *nonce, long status)
{
	struct itest_response	*r;
	char			*body, *id;

	xasprintf(&body, "{\"content\":\"%s\",\"nonce\":\"%s\"}", content,
	    nonce);
	r = conv_send(c, u, body);
	free(body);
	itest_expect(r, status);
	itest_expect_str(r, "nonce", nonce);
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	return id;
}

START_TEST(test_nonce)
{
	struct itest_response	*r;
	struct conv		 c, other;
	char			*first, *again, *id, *nonce, *path;
	char			 long_nonce[66];

	conv_open(&c, _i);
	nonce = itest_unique("n");
	first = send_nonce(&c, &c.a, "once", nonce, 201);

	/* A retry answers 200 with the first message, whatever it says. */
	again = send_nonce(&c, &c.a, "twice?", nonce, 200);
	ck_assert_str_eq(again, first);
	free(again);
	path = chat_path(c.base, NULL, NULL);
	r = itest_send("POST", path, c.a.token, "{\"content\":\"thrice?\","
	    "\"nonce\":\"%s\"}", nonce);
	itest_expect(r, 200);
	itest_expect_str(r, "content", "once");
	itest_expect_str(r, "id", first);
	itest_free(r);
	free(path);

	/* The same nonce from another author, or elsewhere, is another. */
	id = send_nonce(&c, &c.b, "from b", nonce, 201);
	ck_assert_str_ne(id, first);
	free(id);
	conv_open(&other, _i);
	id = send_nonce(&other, &other.a, "elsewhere", nonce, 201);
	free(id);
	conv_close(&other);

	/* History holds the first message once. */
	r = chat_history(&c.a, c.base, NULL);
	ck_assert_msg(r->json->count == 2, "two messages expected: %s",
	    itest_describe(r));
	itest_free(r);

	/* Nonce rules: a string of 1 to 64. */
	memset(long_nonce, 'n', 64);
	long_nonce[64] = '\0';
	id = send_nonce(&c, &c.a, "long nonce", long_nonce, 201);
	free(id);
	long_nonce[64] = 'n';
	long_nonce[65] = '\0';
	path = chat_path(c.base, NULL, NULL);
	r = itest_send("POST", path, c.a.token, "{\"content\":\"x\","
	    "\"nonce\":\"%s\"}", long_nonce);
	itest_expect_invalid(r, "nonce");
	itest_free(r);
	r = itest_send("POST", path, c.a.token, "{\"content\":\"x\","
	    "\"nonce\":\"\"}");
	itest_expect_invalid(r, "nonce");
	itest_free(r);
	r = itest_send("POST", path, c.a.token, "{\"content\":\"x\","
	    "\"nonce\":12}");
	itest_expect_invalid(r, "nonce");
	itest_free(r);
	r = itest_send("POST", path, c.a.token, "{\"content\":\"x\","
	    "\"nonce\":\"a\\u0000b\"}");
	itest_expect_invalid(r, "nonce");
	itest_free(r);
	/* A null nonce is no nonce: two sends, two messages. */
	r = itest_send("POST", path, c.a.token, "{\"content\":\"x\","
	    "\"nonce\":null}");
	itest_expect(r, 201);
	expect_null(r, "nonce");
	itest_free(r);
	r = itest_send("POST", path, c.a.token, "{\"content\":\"x\","
	    "\"nonce\":null}");
	itest_expect(r, 201);
	itest_free(r);
	free(path);

	/* Deleting the message frees its nonce: a retry posts anew. */
	r = conv_one(&c, &c.a, "DELETE", first, NULL);
	ck_assert_msg(r->status == 204, "delete: %s", itest_describe(r));
	itest_free(r);
	id = send_nonce(&c, &c.a, "after delete", nonce, 201);
	ck_assert_str_ne(id, first);
	free(id);
	free(first);
	free(nonce);
	conv_close(&c);
}
END_TEST

START_TEST(test_nonce_race)
{
	struct itest_response	*r;
	struct conv		 c;
	const char		*tokens[RACERS], *bodies[RACERS];
	char			*ids[RACERS], *body, *nonce, *path;
	long			 status[RACERS];
	int			 i, created = 0;

	conv_open(&c, _i);
	nonce = itest_unique("race");
	xasprintf(&body, "{\"content\":\"racing\",\"nonce\":\"%s\"}", nonce);
	for (i = 0; i < RACERS; i++) {
		tokens[i] = c.b.token;
		bodies[i] = body;
	}
	path = chat_path(c.base, NULL, NULL);
	chat_race(RACERS, "POST", path, tokens, bodies, status, ids);
	for (i = 0; i < RACERS; i++) {
		ck_assert_msg(status[i] == 201 || status[i] == 200,
		    "racer %d: status %ld", i, status[i]);
		created += status[i] == 201;
		ck_assert_msg(strcmp(ids[i], ids[0]) == 0, "racers got "
		    "different messages: %s and %s", ids[0], ids[i]);
	}
	ck_assert_msg(created == 1, "%d racers created a message", created);
	r = chat_history(&c.a, c.base, NULL);
	chat_expect_ids(r, ids, 1);
	itest_free(r);
	free_ids(ids, RACERS);
	free(path);
	free(body);
	free(nonce);
	conv_close(&c);
}
END_TEST

/* --- edit and delete ------------------------------------------------------ */

START_TEST(test_edit)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*id, *created;

	conv_open(&c, _i);
	id = chat_post(&c.b, c.base, "first draft");
	r = conv_one(&c, &c.b, "GET", id, NULL);
	created = xstrdup(itest_str(r, "created_at"));
	itest_free(r);

	r = conv_one(&c, &c.b, "PATCH", id, "{\"content\":\"second draft\"}");
	itest_expect(r, 200);
	expect_message(r, &c, &c.b);
	itest_expect_str(r, "id", id);
	itest_expect_str(r, "content", "second draft");
	itest_expect_str(r, "created_at", created);
	expect_time(r, "edited_at");
	itest_free(r);

	r = chat_history(&c.a, c.base, NULL);
	ck_assert_msg(r->json->count == 1 && strcmp(itest_str(r, "0.content"),
	    "second draft") == 0 && itest_str(r, "0.edited_at") != NULL,
	    "history does not show the edit: %s", itest_describe(r));
	itest_free(r);

	/* The same content rules as a send. */
	r = conv_one(&c, &c.b, "PATCH", id, "{\"content\":\"  \"}");
	itest_expect_invalid(r, "content");
	itest_free(r);
	r = conv_one(&c, &c.b, "PATCH", id, "{}");
	itest_expect_invalid(r, "content");
	itest_free(r);

	/* Only the author, whoever else asks (the server's owner too). */
	r = conv_one(&c, &c.a, "PATCH", id, "{\"content\":\"hijacked\"}");
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);

	/* Unknown messages. */
	r = conv_one(&c, &c.b, "PATCH", "18446744073709551615",
	    "{\"content\":\"x\"}");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	free(created);
	free(id);
	conv_close(&c);
}
END_TEST

/* Assert a message is gone: 404 for GET, PATCH and DELETE. */
static void
expect_gone(const struct conv *c, const struct chat_user *u, const char *id)
{
	struct itest_response	*r;

	r = conv_one(c, u, "GET", id, NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = conv_one(c, u, "PATCH", id, "{\"content\":\"back\"}");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = conv_one(c, u, "DELETE", id, NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
}

START_TEST(test_delete)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*m[3], *q;
	const char		*names[] = { "before", "after", "around" };
	size_t			 i;

	conv_open(&c, _i);
	post_many(&c, "del", m, 3);	/* a, b, a */

	/* Another plain participant may not delete b's message... */
	r = conv_one(&c, c.kind == KIND_CHANNEL ? &c.b : &c.a, "DELETE",
	    c.kind == KIND_CHANNEL ? m[0] : m[1], NULL);
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);

	/* ... the author may. */
	r = conv_one(&c, &c.b, "DELETE", m[1], NULL);
	ck_assert_msg(r->status == 204 && r->len == 0, "delete: %s",
	    itest_describe(r));
	itest_free(r);
	expect_gone(&c, &c.b, m[1]);
	expect_gone(&c, &c.a, m[1]);

	/* Invisible in every page. */
	r = chat_history(&c.a, c.base, NULL);
	ck_assert_msg(!chat_holds(r, m[1]) && r->json->count == 2,
	    "deleted message listed: %s", itest_describe(r));
	itest_free(r);
	for (i = 0; i < 3; i++) {
		q = query(names[i], i == 1 ? m[0] : i == 0 ? m[2] : m[1], 0);
		r = chat_history(&c.b, c.base, q);
		ck_assert_msg(!chat_holds(r, m[1]), "deleted message listed: "
		    "%s", itest_describe(r));
		itest_free(r);
		free(q);
	}
	free_ids(m, 3);
	conv_close(&c);
}
END_TEST

START_TEST(test_moderator)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*id;

	/* In a server channel the owner (manage_messages) deletes others'. */
	conv_open(&c, KIND_CHANNEL);
	id = chat_post(&c.b, c.base, "moderate me");
	r = conv_one(&c, &c.a, "DELETE", id, NULL);
	ck_assert_msg(r->status == 204, "moderator delete: %s",
	    itest_describe(r));
	itest_free(r);
	expect_gone(&c, &c.b, id);
	free(id);
	conv_close(&c);
}
END_TEST

/* --- access --------------------------------------------------------------- */

/* Assert every message endpoint of a conversation answers status. */
static void
expect_all(const struct conv *c, const struct chat_user *u, const char *id,
    long status, const char *code)
{
	struct itest_response	*r;
	char			*path;

	path = chat_path(c->base, NULL, NULL);
	r = itest_get(path, u->token);
	itest_expect_error(r, status, code);
	itest_free(r);
	r = itest_send("POST", path, u->token, "{\"content\":\"probe\"}");
	itest_expect_error(r, status, code);
	itest_free(r);
	free(path);
	r = conv_one(c, u, "GET", id, NULL);
	itest_expect_error(r, status, code);
	itest_free(r);
	r = conv_one(c, u, "PATCH", id, "{\"content\":\"probe\"}");
	itest_expect_error(r, status, code);
	itest_free(r);
	r = conv_one(c, u, "DELETE", id, NULL);
	itest_expect_error(r, status, code);
	itest_free(r);
}

START_TEST(test_outsider)
{
	struct conv		 c;
	struct chat_user	 nobody = { 0 };
	char			*id;

	conv_open(&c, _i);
	chat_user(&nobody, "outsider");
	id = chat_post(&c.a, c.base, "private");
	expect_all(&c, &nobody, id, 404, "not_found");
	/* No token at all. */
	free(nobody.token);
	nobody.token = NULL;
	expect_all(&c, &nobody, id, 401, "unauthorized");
	free(id);
	chat_user_free(&nobody);
	conv_close(&c);
}
END_TEST

START_TEST(test_wrong_conversation)
{
	struct itest_response	*r;
	struct conv		 c, d;
	char			*id;

	/* A message of one conversation is unknown in every other one. */
	conv_open(&c, KIND_CHANNEL);
	conv_open(&d, KIND_DM);
	id = chat_post(&c.a, c.base, "here");
	r = conv_one(&d, &d.a, "GET", id, NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = conv_one(&d, &d.a, "DELETE", id, NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	free(id);
	id = chat_post(&d.a, d.base, "there");
	r = conv_one(&c, &c.a, "PATCH", id, "{\"content\":\"moved\"}");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = conv_one(&c, &c.a, "DELETE", id, NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	free(id);
	conv_close(&c);
	conv_close(&d);
}
END_TEST

START_TEST(test_channel_permissions)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*id, *path;

	conv_open(&c, KIND_CHANNEL);
	id = chat_post(&c.b, c.base, "before the change");

	/* Without send_messages: reading works, posting does not. */
	chat_default_permissions(&c.a, c.server, "[\"view_channels\"]");
	path = chat_path(c.base, NULL, NULL);
	r = itest_send("POST", path, c.b.token, "{\"content\":\"no\"}");
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	r = chat_history(&c.b, c.base, NULL);
	ck_assert_msg(chat_holds(r, id), "cannot read: %s", itest_describe(r));
	itest_free(r);
	/* An author still edits and deletes what they wrote. */
	r = conv_one(&c, &c.b, "PATCH", id, "{\"content\":\"edited\"}");
	itest_expect(r, 200);
	itest_free(r);

	/* Without view_channels nothing is readable. */
	chat_default_permissions(&c.a, c.server, "[]");
	r = itest_get(path, c.b.token);
	ck_assert_msg(r->status == 403 || r->status == 404, "read without "
	    "view_channels: %s", itest_describe(r));
	itest_free(r);
	/* The owner has every permission whatever the roles say. */
	free(id);
	id = chat_post(&c.a, c.base, "owner speaks");
	free(id);

	/* Unknown and malformed channels. */
	r = itest_get(API_PREFIX "/channels/18446744073709551615/messages",
	    c.a.token);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = itest_get(API_PREFIX "/channels/abc/messages", c.a.token);
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);
	free(path);
	conv_close(&c);
}
END_TEST

/* --- events --------------------------------------------------------------- */

/* Assert the events after a cursor are exactly these types about id. */
static void
expect_events(const struct chat_user *u, const char *cursor,
    const char *const *types, size_t n, const char *id)
{
	struct itest_response	*r;
	const struct json	*events, *e, *mid;
	char			*path;
	size_t			 i;

	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=0", cursor);
	r = itest_get(path, u->token);
	free(path);
	itest_expect(r, 200);
	events = itest_at(r->json, "events");
	ck_assert_msg(events != NULL && events->count == n, "expected %zu "
	    "events: %s", n, itest_describe(r));
	for (i = 0; i < n; i++) {
		e = events->items[i];
		ck_assert_msg(strcmp(itest_at(e, "type")->text, types[i]) == 0,
		    "event %zu is not %s: %s", i, types[i], itest_describe(r));
		mid = itest_at(e, strcmp(types[i], "message.delete") == 0 ?
		    "data.id" : "data.message.id");
		ck_assert_msg(mid != NULL && strcmp(mid->text, id) == 0,
		    "event %zu is not about %s: %s", i, id, itest_describe(r));
	}
	itest_free(r);
}

START_TEST(test_events)
{
	static const char *const types[] = {
		"message.create", "message.update", "message.delete"
	};
	struct itest_response	*r;
	struct conv		 c;
	char			*cursor_a, *cursor_b, *id;

	conv_open(&c, _i);
	cursor_a = itest_events_head(c.a.token);
	cursor_b = itest_events_head(c.b.token);
	id = chat_post(&c.a, c.base, "eventful");
	r = conv_one(&c, &c.a, "PATCH", id, "{\"content\":\"edited\"}");
	itest_expect(r, 200);
	itest_free(r);
	r = conv_one(&c, &c.a, "DELETE", id, NULL);
	ck_assert_int_eq(r->status, 204);
	itest_free(r);
	/* Both participants see all three, in order. */
	expect_events(&c.a, cursor_a, types, 3, id);
	expect_events(&c.b, cursor_b, types, 3, id);
	free(cursor_a);
	free(cursor_b);
	free(id);
	conv_close(&c);
}
END_TEST

/* --- without the stored procedure ---------------------------------------- */

#define PROCEDURE_COUNT(name) "SELECT COUNT(*)" \
	" FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()" \
	" AND ROUTINE_NAME = '" name "'"

/* The routines back and sohbetd restarted (itest_routines_restore()). */
static void
procedure_restore(void)
{
	itest_routines_restore(SRCDIR "/sql");
}

/*
 * A database restored from a dump without its routines has no
 * message_send: sends still post, once each, with their events, and a
 * nonce still answers its first message.
 */
START_TEST(test_without_procedure)
{
	static const char *const types[] = { "message.create" };
	struct conv	 c;
	char		*cursor, *ids[UNCALLED_SENDS], *nonce, *first, *again;
	int		 i;

	conv_open(&c, _i);
	ck_assert_int_eq(itest_sql("DROP PROCEDURE message_send"), 0);
	cursor = itest_events_head(c.b.token);
	ids[0] = chat_post(&c.a, c.base, "no procedure");
	expect_events(&c.b, cursor, types, 1, ids[0]);
	/* Enough sends that every worker posts some. */
	for (i = 1; i < UNCALLED_SENDS; i++)
		ids[i] = chat_post(&c.a, c.base, "no procedure");
	expect_page(&c, "limit=100", ids, 0, UNCALLED_SENDS);
	nonce = itest_unique("n");
	first = send_nonce(&c, &c.a, "once", nonce, 201);
	again = send_nonce(&c, &c.a, "twice?", nonce, 200);
	ck_assert_str_eq(again, first);

	procedure_restore();
	ck_assert_int_eq(itest_sql_number(PROCEDURE_COUNT("message_send")),
	    1);
	free(first);
	free(again);
	free(nonce);
	free(cursor);
	free_ids(ids, UNCALLED_SENDS);
	conv_close(&c);
}
END_TEST

/* --- sends written together (sendbatch.c) ------------------------------ */

#define BATCH_RACERS	24	/* sends released at the same moment */
#define BATCH_ROUNDS	5	/* races until some were written together */
#define BATCH_LONG	3990	/* emoji in racer 1's content */

/* What racer i sends: a verbatim text (or a long one) and its number. */
static char *
batch_content(int i)
{
	char	*s, *p;
	int	 k;

	if (i != 1) {
		xasprintf(&s, "%s #%d", verbatim_texts[i % VERBATIM], i);
		return s;
	}
	p = s = xmalloc(BATCH_LONG * 4 + 16);
	for (k = 0; k < BATCH_LONG; k++, p += 4)
		memcpy(p, "\xf0\x9f\x98\x80", 4);
	snprintf(p, 16, " #%d", i);
	return s;
}

/* The nonce racer i sends (every third has one), or NULL. */
static char *
batch_nonce(const char *tag, int i)
{
	char	*s;

	if (i % 3 != 0)
		return NULL;
	xasprintf(&s, "%s-%d", tag, i);
	return s;
}

/* The body racer i sends, as a new string. */
static char *
batch_body(const char *tag, int i)
{
	char	*content, *quoted, *nonce, *body;

	content = batch_content(i);
	quoted = itest_quote(content);
	if ((nonce = batch_nonce(tag, i)) != NULL)
		xasprintf(&body, "{\"content\":%s,\"nonce\":\"%s\"}", quoted,
		    nonce);
	else
		xasprintf(&body, "{\"content\":%s}", quoted);
	free(nonce);
	free(quoted);
	free(content);
	return body;
}

/* The racer a message's content names: its " #i" suffix, or -1. */
static int
batch_racer(const char *content)
{
	const char	*p = strrchr(content, '#');
	char		*end;
	long		 i;

	if (p == NULL)
		return -1;
	i = strtol(p + 1, &end, 10);
	return *end == '\0' && i >= 0 && i < BATCH_RACERS ? (int)i : -1;
}

/*
 * Assert what racer i sent is the message m: its content, author and
 * nonce exactly as sent.
 */
static void
batch_expect_message(const struct conv *c, const struct json *m, int i,
    const char *tag)
{
	const struct chat_user	*author = i % 2 ? &c->b : &c->a;
	const struct json	*nonce = itest_at(m, "nonce");
	char			*content = batch_content(i), *want;

	ck_assert_msg(strcmp(itest_at(m, "content")->text, content) == 0,
	    "racer %d's message came back changed", i);
	ck_assert_str_eq(itest_at(m, "author.id")->text, author->id);
	want = batch_nonce(tag, i);
	if (want == NULL)
		ck_assert_msg(nonce == NULL || nonce->type == JSON_NULL,
		    "racer %d sent no nonce but got one", i);
	else
		ck_assert_msg(nonce != NULL && nonce->type == JSON_STRING &&
		    strcmp(nonce->text, want) == 0, "racer %d's nonce is "
		    "not %s", i, want);
	free(want);
	free(content);
}

/*
 * Release BATCH_RACERS sends into the conversation at once, from both
 * participants, and assert what each would notice: every send 201 with
 * its own message; history holds each message once, oldest first, as
 * sent; the other participant's events hold one message.create for each,
 * in the same order.
 */
static void
batch_race(struct conv *c)
{
	const char		*tokens[BATCH_RACERS], *bodies[BATCH_RACERS];
	char			*ids[BATCH_RACERS], *mine[BATCH_RACERS];
	char			*tag, *cursor, *path;
	struct itest_response	*h, *r;
	const struct json	*m, *events;
	const char		*first = NULL;
	long			 status[BATCH_RACERS];
	int			 i, k, seen[BATCH_RACERS] = { 0 };

	tag = itest_unique("batch");
	cursor = itest_events_head(c->b.token);
	for (i = 0; i < BATCH_RACERS; i++) {
		tokens[i] = i % 2 ? c->b.token : c->a.token;
		mine[i] = batch_body(tag, i);
		bodies[i] = mine[i];
	}
	path = chat_path(c->base, NULL, NULL);
	chat_race(BATCH_RACERS, "POST", path, tokens, bodies, status, ids);
	free(path);
	for (i = 0; i < BATCH_RACERS; i++)
		ck_assert_msg(status[i] == 201, "send %d: status %ld", i,
		    status[i]);

	/* History: each racer's message once, as sent. */
	h = chat_history(&c->b, c->base, "limit=100");
	ck_assert_msg(h->json->count == BATCH_RACERS, "history holds %zu "
	    "messages, not %d: %s", h->json->count, BATCH_RACERS,
	    itest_describe(h));
	for (k = 0; k < BATCH_RACERS; k++) {
		m = h->json->items[k];
		i = batch_racer(itest_at(m, "content")->text);
		ck_assert_msg(i >= 0 && !seen[i], "message %d is not one "
		    "racer's own: %s", k, itest_describe(h));
		seen[i] = 1;
		batch_expect_message(c, m, i, tag);
		ck_assert_msg(chat_holds(h, ids[k]), "the answer %s is not in "
		    "history", ids[k]);
		if (i == 0)
			first = itest_at(m, "id")->text;
	}

	/* A retry of a nonce sent in the race answers its message. */
	path = chat_path(c->base, NULL, NULL);
	r = itest_send("POST", path, c->a.token, "%s", mine[0]);
	free(path);
	itest_expect(r, 200);
	itest_expect_str(r, "id", first);
	itest_free(r);

	/*
	 * Events: one message.create for each message.  Their order is
	 * the sequencer's, which can differ from the ids' where two
	 * workers' transactions drew numbers at the same time.
	 */
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=0", cursor);
	r = itest_get(path, c->b.token);
	itest_expect(r, 200);
	events = itest_at(r->json, "events");
	ck_assert_msg(events != NULL && events->count == BATCH_RACERS,
	    "expected %d events: %s", BATCH_RACERS, itest_describe(r));
	for (k = 0; k < BATCH_RACERS; k++) {
		ck_assert_str_eq(itest_at(events->items[k], "type")->text,
		    "message.create");
		m = itest_at(events->items[k], "data.message");
		ck_assert_msg(m != NULL, "event %d: %s", k, itest_describe(r));
		i = batch_racer(itest_at(m, "content")->text);
		ck_assert_msg(i >= 0 && seen[i] == 1, "event %d is not one "
		    "racer's message, or a second one: %s", k,
		    itest_describe(r));
		seen[i] = 2;
		batch_expect_message(c, m, i, tag);
		ck_assert_msg(chat_holds(h, itest_at(m, "id")->text),
		    "event %d's message is not in history", k);
	}
	itest_free(r);
	itest_free(h);
	free_ids(ids, BATCH_RACERS);
	free_ids(mine, BATCH_RACERS);
	free(path);
	free(cursor);
	free(tag);
}

/*
 * Sends that arrive together are written together (the batch counter
 * moves), and each comes back exactly as a send alone would.
 */
START_TEST(test_batched)
{
	struct conv	c;
	long		before = itest_metric("sohbet_batched_sends_total");
	int		round;

	for (round = 0; round < BATCH_ROUNDS; round++) {
		conv_open(&c, _i);
		batch_race(&c);
		conv_close(&c);
		if (itest_metric("sohbet_batched_sends_total") > before)
			break;
	}
	ck_assert_msg(round < BATCH_ROUNDS, "in %d races of %d sends, none "
	    "were written together", BATCH_ROUNDS, BATCH_RACERS);
}
END_TEST

/*
 * Without message_send_many (a dump restored without its routines),
 * sends that arrive together still post, each once and as sent.
 */
START_TEST(test_without_batch_procedure)
{
	struct conv	c;

	procedure_restore();
	conv_open(&c, _i);
	ck_assert_int_eq(itest_sql("DROP PROCEDURE message_send_many"), 0);
	batch_race(&c);
	procedure_restore();
	ck_assert_int_eq(itest_sql_number(
	    PROCEDURE_COUNT("message_send_many")), 1);
	conv_close(&c);
}
END_TEST

/* Build the suite. */
static Suite *
messages_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("messages");
	tc = tcase_create("content");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_send, 0, KINDS);
	tcase_add_loop_test(tc, test_content_rules, 0, KINDS);
	tcase_add_loop_test(tc, test_verbatim, 0, KINDS);
	suite_add_tcase(s, tc);

	tc = tcase_create("history");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_pagination, 0, KINDS);
	tcase_add_loop_test(tc, test_limits, 0, KINDS);
	tcase_add_loop_test(tc, test_cursor_errors, 0, KINDS);
	tcase_add_loop_test(tc, test_history_plan, 0, KINDS);
	tcase_add_loop_test(tc, test_history_edges, 0, KINDS);
	tcase_add_loop_test(tc, test_history_renamed_author, 0, KINDS);
	tcase_add_loop_test(tc, test_history_handler_idle, 0, KINDS);
	suite_add_tcase(s, tc);

	tc = tcase_create("nonce");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_nonce, 0, KINDS);
	tcase_add_loop_test(tc, test_nonce_race, 0, KINDS);
	suite_add_tcase(s, tc);

	tc = tcase_create("changes");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_edit, 0, KINDS);
	tcase_add_loop_test(tc, test_delete, 0, KINDS);
	tcase_add_test(tc, test_moderator);
	tcase_add_loop_test(tc, test_events, 0, KINDS);
	suite_add_tcase(s, tc);

	/* Before "procedure": a missing procedure stops batches a while. */
	tc = tcase_create("batch");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_batched, 0, KINDS);
	suite_add_tcase(s, tc);

	tc = tcase_create("procedure");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, procedure_restore);
	tcase_add_loop_test(tc, test_without_procedure, 0, KINDS);
	tcase_add_loop_test(tc, test_without_batch_procedure, 0, KINDS);
	suite_add_tcase(s, tc);

	tc = tcase_create("access");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_outsider, 0, KINDS);
	tcase_add_test(tc, test_wrong_conversation);
	tcase_add_test(tc, test_channel_permissions);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(messages_suite());
}
