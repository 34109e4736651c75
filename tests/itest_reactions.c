/* SPDX-License-Identifier: ISC */
/*
 * itest_reactions.c: integration tests of replies, reactions and pins
 * (API.md, "Replies, reactions and pins") in both kinds of conversation:
 * the reply preview and what becomes of it, the emoji accepted and
 * refused, counts and "me" per reader (from the cached page too), the
 * 20 emoji of a message, removal by a moderator (the owner, and a member
 * given manage_messages by one channel's overwrite), racing PUTs and
 * DELETEs, a message with more reactions than a kept page lists the
 * reactors of, reactions gone with their message, pins and their limit,
 * who receives the events (a channel hidden from a member included), a
 * reply to another conversation's message, and attacks (a kicked member, a member without
 * add_reactions, a token after logout-all).  Loop tests run once per
 * kind (_i).
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
#define RACERS		8
#define PINS		50

/* The emoji of the tests, as UTF-8. */
#define THUMBS		"\xf0\x9f\x91\x8d"			/* 👍 */
#define HEART		"\xe2\x9d\xa4\xef\xb8\x8f"		/* ❤️ */
#define HEART_BARE	"\xe2\x9d\xa4"				/* ❤ */
#define THUMBS_TONE	"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"	/* 👍🏽 */
#define FAMILY		"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9" \
			"\xe2\x80\x8d\xf0\x9f\x91\xa7"		/* 👨‍👩‍👧 */
#define KEYCAP_ONE	"1\xef\xb8\x8f\xe2\x83\xa3"		/* 1️⃣ */
#define FLAG_TR		"\xf0\x9f\x87\xb9\xf0\x9f\x87\xb7"	/* 🇹🇷 */

/* A conversation and two people in it who may both read and post. */
struct conv {
	int			 kind;
	struct chat_room	 room;	/* the channel kind */
	struct chat_user	*a;	/* the server's owner (moderator) */
	struct chat_user	*b;	/* a plain member */
	struct chat_user	 dm_a, dm_b;	/* the DM kind */
	char			*base;	/* API_PREFIX "/channels/ID" */
	char			*dm;	/* the DM channel's id */
};

/* Open a new conversation of a kind between two new accounts. */
static void
conv_open(struct conv *c, int kind)
{
	memset(c, 0, sizeof *c);
	c->kind = kind;
	if (kind == KIND_CHANNEL) {
		chat_room_open(&c->room, "rx");
		c->a = &c->room.owner;
		c->b = &c->room.member;
		c->base = xstrdup(c->room.base);
		return;
	}
	chat_user(&c->dm_a, "rxd");
	chat_user(&c->dm_b, "rxe");
	c->a = &c->dm_a;
	c->b = &c->dm_b;
	c->dm = chat_dm(c->a, c->b);
	xasprintf(&c->base, API_PREFIX "/dms/%s", c->dm);
}

/* Free a conversation's strings. */
static void
conv_close(struct conv *c)
{
	if (c->kind == KIND_CHANNEL)
		chat_room_close(&c->room);
	else {
		chat_user_free(&c->dm_a);
		chat_user_free(&c->dm_b);
	}
	free(c->dm);
	free(c->base);
}

/* An emoji percent-encoded for a path; the caller frees it. */
static char *
pct(const char *s)
{
	char	*out;
	size_t	 i, n = strlen(s);

	out = xmalloc(n * 3 + 1);
	for (i = 0; i < n; i++)
		snprintf(out + i * 3, 4, "%%%02X", (unsigned char)s[i]);
	return out;
}

/*
 * Send method to …/messages/{msg}/reactions/{emoji}[/{who}] as u (who
 * NULL: the list of users, with query).
 */
static struct itest_response *
react(const struct conv *c, const struct chat_user *u, const char *method,
    const char *msg, const char *emoji, const char *who)
{
	struct itest_response	*r;
	char			*path, *e = pct(emoji);

	xasprintf(&path, "%s/messages/%s/reactions/%s%s%s", c->base, msg, e,
	    who != NULL ? "/" : "", who != NULL ? who : "");
	r = itest_request(method, path, u->token, NULL, NULL, 0);
	free(path);
	free(e);
	return r;
}

/* Send method and assert its status. */
static void
react_expect(const struct conv *c, const struct chat_user *u,
    const char *method, const char *msg, const char *emoji, const char *who,
    long status)
{
	struct itest_response	*r;

	r = react(c, u, method, msg, emoji, who);
	ck_assert_msg(r->status == status, "%s %s as %s: %s", method, emoji,
	    u->username, itest_describe(r));
	itest_free(r);
}

/* GET one message as u (200). */
static struct itest_response *
message_get(const struct conv *c, const struct chat_user *u, const char *id)
{
	struct itest_response	*r;
	char			*path;

	path = chat_path(c->base, id, NULL);
	r = itest_get(path, u->token);
	free(path);
	itest_expect(r, 200);
	return r;
}

/* The message of id in a page, or NULL. */
static const struct json *
page_message(struct itest_response *r, const char *id)
{
	const struct json	*v;
	size_t			 i;

	for (i = 0; r->json->type == JSON_ARRAY && i < r->json->count; i++) {
		v = itest_at(r->json->items[i], "id");
		if (v != NULL && strcmp(v->text, id) == 0)
			return r->json->items[i];
	}
	return NULL;
}

/*
 * Assert a message object's reactions are exactly emoji[i] with
 * counts[i] and mine[i] ("me"; -1: no "me" at all), in this order.
 */
static void
expect_reactions(const struct json *m, const char *const *emoji,
    const long *counts, const int *mine, size_t n, const char *what)
{
	const struct json	*list, *e, *count, *me;
	size_t			 i;

	ck_assert_msg(m != NULL, "%s: no message", what);
	list = itest_at(m, "reactions");
	ck_assert_msg(list != NULL && list->type == JSON_ARRAY &&
	    list->count == n, "%s: %zu reactions expected", what, n);
	for (i = 0; i < n; i++) {
		e = list->items[i];
		count = itest_at(e, "count");
		me = itest_at(e, "me");
		ck_assert_msg(strcmp(itest_at(e, "emoji")->text, emoji[i]) == 0,
		    "%s: reaction %zu is %s", what, i,
		    itest_at(e, "emoji")->text);
		ck_assert_msg(count != NULL && atol(count->text) == counts[i],
		    "%s: count of %s", what, emoji[i]);
		if (mine[i] == -1)
			ck_assert_msg(me == NULL, "%s: \"me\" in an event",
			    what);
		else
			ck_assert_msg(me != NULL && me->type == JSON_BOOL &&
			    me->boolean == mine[i], "%s: me of %s is not %d",
			    what, emoji[i], mine[i]);
	}
}

/* Assert the reactions of id as u sees them, read alone and in a page. */
static void
expect_seen(const struct conv *c, const struct chat_user *u, const char *id,
    const char *const *emoji, const long *counts, const int *mine, size_t n)
{
	struct itest_response	*r;
	int			 round;

	r = message_get(c, u, id);
	expect_reactions(r->json, emoji, counts, mine, n, "GET message");
	itest_free(r);
	/* Twice: the second may come from the worker's cached page. */
	for (round = 0; round < 2; round++) {
		r = chat_history(u, c->base, NULL);
		expect_reactions(page_message(r, id), emoji, counts, mine, n,
		    "the latest page");
		itest_free(r);
	}
	r = chat_history(u, c->base, "limit=5&before=18446744073709551615");
	expect_reactions(page_message(r, id), emoji, counts, mine, n,
	    "a page before");
	itest_free(r);
}

/* How many events of a type an answer of /events holds. */
static size_t
events_count(struct itest_response *r, const char *type)
{
	const struct json	*events = itest_at(r->json, "events");
	size_t			 i, n = 0;

	for (i = 0; events != NULL && i < events->count; i++) {
		if (strcmp(itest_at(events->items[i], "type")->text, type) == 0)
			n++;
	}
	return n;
}

/* The first event of a type in an answer of /events, or NULL. */
static const struct json *
events_first(struct itest_response *r, const char *type)
{
	const struct json	*events = itest_at(r->json, "events");
	size_t			 i;

	for (i = 0; events != NULL && i < events->count; i++) {
		if (strcmp(itest_at(events->items[i], "type")->text, type) == 0)
			return events->items[i];
	}
	return NULL;
}

/* Post a reply to id as u: the answer (201 asserted). */
static struct itest_response *
reply(const struct conv *c, const struct chat_user *u, const char *id,
    const char *text)
{
	struct itest_response	*r;
	char			*body, *quoted = itest_quote(text);

	xasprintf(&body, "{\"content\":%s,\"reply_to\":\"%s\"}", quoted, id);
	r = chat_send(u, c->base, body);
	free(body);
	free(quoted);
	itest_expect(r, 201);
	return r;
}

/* Delete a message as u (204). */
static void
message_delete(const struct conv *c, const struct chat_user *u,
    const char *id)
{
	struct itest_response	*r;
	char			*path;

	path = chat_path(c->base, id, NULL);
	r = itest_delete(path, u->token);
	free(path);
	ck_assert_msg(r->status == 204, "DELETE: %s", itest_describe(r));
	itest_free(r);
}

/* Assert a reply_to shows a deleted original: {id, null, null}. */
static void
expect_gone(const struct json *m, const char *id, const char *what)
{
	const struct json	*to;

	ck_assert_msg(m != NULL, "%s: no message", what);
	to = itest_at(m, "reply_to");
	ck_assert_msg(to != NULL && to->type == JSON_OBJECT && to->count == 3,
	    "%s: reply_to is not {id, author, content}", what);
	ck_assert_str_eq(itest_at(to, "id")->text, id);
	ck_assert_msg(itest_at(to, "author")->type == JSON_NULL &&
	    itest_at(to, "content")->type == JSON_NULL, "%s: the deleted "
	    "original still shows", what);
}

/* --- replies ------------------------------------------------------------ */

START_TEST(test_reply)
{
	struct itest_response	*r;
	struct conv		 c;
	const struct json	*m;
	char			*original, *id, *second, *cursor, *path, *body;
	char			 long_text[512], want[512];
	int			 i;

	conv_open(&c, _i);
	/* 150 code points, two bytes each: the preview keeps 100. */
	long_text[0] = want[0] = '\0';
	for (i = 0; i < 150; i++) {
		strcat(long_text, "\xc3\xa9");
		if (i < 100)
			strcat(want, "\xc3\xa9");
	}
	original = chat_post(c.a, c.base, long_text);
	cursor = itest_events_head(c.b->token);
	r = reply(&c, c.b, original, "an answer");
	id = xstrdup(itest_str(r, "id"));
	itest_expect_str(r, "reply_to.id", original);
	itest_expect_str(r, "reply_to.author.id", c.a->id);
	itest_expect_str(r, "reply_to.author.username", c.a->username);
	itest_expect_str(r, "reply_to.content", want);
	itest_free(r);

	/* The page shows it; an edit of the original shows in it at once. */
	r = chat_history(c.a, c.base, NULL);
	m = page_message(r, id);
	ck_assert_msg(m != NULL && strcmp(itest_at(m, "reply_to.content")->text,
	    want) == 0, "page: %s", itest_describe(r));
	itest_free(r);
	path = chat_path(c.base, original, NULL);
	r = itest_send("PATCH", path, c.a->token,
	    "{\"content\":\"now short\"}");
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	r = chat_history(c.b, c.base, NULL);
	m = page_message(r, id);
	ck_assert_msg(m != NULL && strcmp(itest_at(m, "reply_to.content")->text,
	    "now short") == 0, "after the edit: %s", itest_describe(r));
	itest_free(r);
	/* Two replies to one original in a page before (read, not kept). */
	r = reply(&c, c.a, original, "a second answer");
	second = xstrdup(itest_str(r, "id"));
	itest_free(r);
	r = chat_history(c.b, c.base, "before=18446744073709551615");
	for (i = 0; i < 2; i++) {
		m = page_message(r, i == 0 ? id : second);
		ck_assert_msg(m != NULL && strcmp(itest_at(m,
		    "reply_to.content")->text, "now short") == 0 &&
		    strcmp(itest_at(m, "reply_to.author.username")->text,
		    c.a->username) == 0, "a page before: %s",
		    itest_describe(r));
	}
	itest_free(r);

	/* Deleted: {id, author: null, content: null}, page and alone. */
	message_delete(&c, c.a, original);
	r = chat_history(c.b, c.base, NULL);
	expect_gone(page_message(r, id), original, "page after the delete");
	itest_free(r);
	r = message_get(&c, c.b, id);
	expect_gone(r->json, original, "GET after the delete");
	itest_free(r);
	/* ... and no stored event keeps the preview of its text. */
	r = chat_events(c.b, cursor);
	m = events_first(r, "message.create");
	ck_assert_msg(m != NULL, "no message.create: %s", itest_describe(r));
	ck_assert_msg(itest_at(m, "data.message.reply_to.content")->type ==
	    JSON_NULL, "the event keeps the preview: %s", itest_describe(r));
	itest_free(r);
	/* A reply to the deleted message is refused. */
	xasprintf(&body, "{\"content\":\"late\",\"reply_to\":\"%s\"}",
	    original);
	r = chat_send(c.b, c.base, body);
	itest_expect_invalid(r, "reply_to");
	itest_free(r);
	free(body);
	free(cursor);
	free(second);
	free(id);
	free(original);
	conv_close(&c);
}
END_TEST

/*
 * A second channel of a channel conversation's server, which both of
 * its people can read: its API_PREFIX "/channels/ID" (to free).
 */
static char *
sibling_open(const struct conv *c)
{
	struct itest_response	*r;
	char			*path, *base;

	xasprintf(&path, API_PREFIX "/servers/%s/channels", c->room.server);
	r = itest_send("POST", path, c->a->token, "{\"name\":\"sibling\"}");
	itest_expect(r, 201);
	xasprintf(&base, API_PREFIX "/channels/%s", itest_str(r, "id"));
	itest_free(r);
	free(path);
	return base;
}

/* Assert that u's reply in base to id is refused (400, reply_to). */
static void
reply_refused(const struct chat_user *u, const char *base, const char *id)
{
	struct itest_response	*r;
	char			*body;

	xasprintf(&body, "{\"content\":\"x\",\"reply_to\":\"%s\"}", id);
	r = chat_send(u, base, body);
	itest_expect_invalid(r, "reply_to");
	itest_free(r);
	free(body);
}

/*
 * A reply names a message of its own conversation: one of another
 * channel of the same server, of the sender's DM with the same person,
 * or of a DM the sender is not in is refused, though the sender may
 * read the first two.
 */
START_TEST(test_reply_refused)
{
	struct itest_response	*r;
	struct conv		 c, other;
	char			*elsewhere, *sibling, *in_dm, *in_channel;
	char			*dm, *dm_base, *sibling_base;

	conv_open(&c, KIND_CHANNEL);
	conv_open(&other, KIND_DM);
	elsewhere = chat_post(other.a, other.base, "over there");
	reply_refused(c.a, c.base, elsewhere);
	/* Another channel of the same server, which both can read. */
	sibling_base = sibling_open(&c);
	sibling = chat_post(c.a, sibling_base, "in the sibling channel");
	reply_refused(c.a, c.base, sibling);
	reply_refused(c.b, c.base, sibling);
	/* The two members' DM and their channel: neither answers the other. */
	dm = chat_dm(c.a, c.b);
	xasprintf(&dm_base, API_PREFIX "/dms/%s", dm);
	in_dm = chat_post(c.b, dm_base, "in our DM");
	in_channel = chat_post(c.b, c.base, "in our channel");
	reply_refused(c.a, c.base, in_dm);
	reply_refused(c.a, dm_base, in_channel);
	reply_refused(c.b, dm_base, sibling);
	r = reply(&c, c.a, in_channel, "the same channel is fine");
	itest_free(r);
	free(in_channel);
	free(in_dm);
	free(dm_base);
	free(dm);
	free(sibling);
	free(sibling_base);
	r = chat_send(c.a, c.base, "{\"content\":\"x\",\"reply_to\":"
	    "\"18446744073709551615\"}");
	itest_expect_invalid(r, "reply_to");
	itest_free(r);
	r = chat_send(c.a, c.base, "{\"content\":\"x\",\"reply_to\":\"abc\"}");
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);
	/* null is no reply. */
	r = chat_send(c.a, c.base, "{\"content\":\"x\",\"reply_to\":null}");
	itest_expect(r, 201);
	ck_assert_msg(itest_at(r->json, "reply_to")->type == JSON_NULL,
	    "reply_to: %s", itest_describe(r));
	itest_free(r);
	free(elsewhere);
	conv_close(&other);
	conv_close(&c);
}
END_TEST

/* --- reactions --------------------------------------------------------- */

START_TEST(test_emoji)
{
	static const char *const valid[] = {
		THUMBS, HEART, THUMBS_TONE, FAMILY, KEYCAP_ONE, FLAG_TR
	};
	static const char *const invalid[] = {
		"a", THUMBS THUMBS, ":smile:", "1",
		/* 33 bytes: 👍 and ten variation selectors (of 3). */
		THUMBS "\xef\xb8\x8f\xef\xb8\x8f\xef\xb8\x8f\xef\xb8\x8f"
		    "\xef\xb8\x8f\xef\xb8\x8f\xef\xb8\x8f\xef\xb8\x8f"
		    "\xef\xb8\x8f\xef\xb8\x8f",
	};
	long			 counts[6] = { 1, 1, 1, 1, 1, 1 };
	int			 mine[6] = { 1, 1, 1, 1, 1, 1 };
	struct itest_response	*r;
	struct conv		 c;
	char			*id;
	size_t			 i;

	conv_open(&c, KIND_CHANNEL);
	id = chat_post(c.a, c.base, "react to me");
	for (i = 0; i < sizeof valid / sizeof valid[0]; i++)
		react_expect(&c, c.a, "PUT", id, valid[i], "@me", 204);
	expect_seen(&c, c.a, id, valid, counts, mine, 6);
	for (i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		r = react(&c, c.a, "PUT", id, invalid[i], "@me");
		itest_expect_invalid(r, "emoji");
		itest_free(r);
		r = react(&c, c.a, "DELETE", id, invalid[i], "@me");
		itest_expect_invalid(r, "emoji");
		itest_free(r);
	}
	/* ❤ typed bare is the same reaction as ❤️. */
	react_expect(&c, c.b, "PUT", id, HEART_BARE, "@me", 204);
	counts[1] = 2;
	mine[0] = mine[2] = mine[3] = mine[4] = mine[5] = 0;
	expect_seen(&c, c.b, id, valid, counts, mine, 6);
	free(id);
	conv_close(&c);
}
END_TEST

START_TEST(test_reactions)
{
	static const char *const both[] = { THUMBS, HEART };
	long			 counts[2];
	int			 mine[2];
	struct itest_response	*r;
	struct conv		 c;
	char			*id;

	conv_open(&c, _i);
	id = chat_post(c.a, c.base, "react");
	/* Again: 204, still one. */
	react_expect(&c, c.a, "PUT", id, THUMBS, "@me", 204);
	react_expect(&c, c.a, "PUT", id, THUMBS, "@me", 204);
	react_expect(&c, c.b, "PUT", id, HEART, "@me", 204);
	react_expect(&c, c.b, "PUT", id, THUMBS, "@me", 204);
	/* In the order first added; "me" differs per reader. */
	counts[0] = 2;
	counts[1] = 1;
	mine[0] = 1;
	mine[1] = 0;
	expect_seen(&c, c.a, id, both, counts, mine, 2);
	mine[1] = 1;
	expect_seen(&c, c.b, id, both, counts, mine, 2);

	/* Who reacted, by user id, paged. */
	r = react(&c, c.a, "GET", id, THUMBS, NULL);
	itest_expect(r, 200);
	ck_assert_msg(r->json->count == 2 && strcmp(itest_str(r, "0.id"),
	    strtoull(c.a->id, NULL, 10) < strtoull(c.b->id, NULL, 10) ?
	    c.a->id : c.b->id) == 0, "users: %s", itest_describe(r));
	ck_assert_msg(itest_at(r->json->items[0], "username") != NULL &&
	    r->json->items[0]->count == 2, "{id, username}: %s",
	    itest_describe(r));
	itest_free(r);

	/* DELETE @me, and again (204, nothing to do). */
	react_expect(&c, c.a, "DELETE", id, THUMBS, "@me", 204);
	react_expect(&c, c.a, "DELETE", id, THUMBS, "@me", 204);
	react_expect(&c, c.a, "DELETE", id, FLAG_TR, "@me", 204);
	counts[0] = 1;
	mine[0] = 0;
	mine[1] = 0;
	expect_seen(&c, c.a, id, both, counts, mine, 2);
	/* The last one gone: the emoji goes. */
	react_expect(&c, c.b, "DELETE", id, THUMBS, "@me", 204);
	counts[0] = 1;
	mine[0] = 1;
	expect_seen(&c, c.b, id, both + 1, counts, mine, 1);

	/* Unknown messages: 404. */
	react_expect(&c, c.a, "PUT", "18446744073709551615", THUMBS, "@me",
	    404);
	react_expect(&c, c.a, "GET", "18446744073709551615", THUMBS, NULL,
	    404);
	free(id);
	conv_close(&c);
}
END_TEST

START_TEST(test_distinct_limit)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*id, emoji[8];
	int			 i;

	conv_open(&c, _i);
	id = chat_post(c.a, c.base, "twenty");
	/* 😀 U+1F600 onwards: twenty different emoji. */
	for (i = 0; i < 20; i++) {
		snprintf(emoji, sizeof emoji, "\xf0\x9f\x98%c", 0x80 + i);
		react_expect(&c, c.a, "PUT", id, emoji, "@me", 204);
	}
	snprintf(emoji, sizeof emoji, "\xf0\x9f\x98%c", 0x80 + 20);
	r = react(&c, c.b, "PUT", id, emoji, "@me");
	itest_expect_invalid(r, "emoji");
	itest_free(r);
	/* One of the twenty still takes more people. */
	snprintf(emoji, sizeof emoji, "\xf0\x9f\x98%c", 0x80 + 3);
	react_expect(&c, c.b, "PUT", id, emoji, "@me", 204);
	r = message_get(&c, c.b, id);
	ck_assert_msg(itest_at(r->json, "reactions")->count == 20,
	    "20 emoji: %s", itest_describe(r));
	itest_free(r);
	free(id);
	conv_close(&c);
}
END_TEST

/*
 * Removing another's reaction takes manage_messages in the message's
 * channel: the owner has it; a member given it by that channel's
 * overwrite has it there and not in another channel.  The person whose
 * reaction went hears of it (reaction.remove with their user_id).  In a
 * DM nobody removes the other's.
 */
START_TEST(test_moderator)
{
	static const char *const thumbs[] = { THUMBS };
	long			 count = 1;
	int			 mine = 0;
	struct itest_response	*r;
	const struct json	*e;
	struct chat_user	 mod;
	struct conv		 c, d;
	char			*id, *cursor, *sibling_base, *elsewhere;

	conv_open(&c, KIND_CHANNEL);
	chat_user(&mod, "rxmod");
	chat_join(c.a, c.room.server, &mod);
	chat_member_overwrite(c.a, c.base, &mod,
	    "{\"allow\":[\"manage_messages\"]}");
	id = chat_post(c.a, c.base, "moderated");
	react_expect(&c, c.b, "PUT", id, THUMBS, "@me", 204);
	react_expect(&c, c.a, "PUT", id, HEART, "@me", 204);
	/* A member may not remove another's; the moderators may. */
	react_expect(&c, c.b, "DELETE", id, HEART, c.a->id, 403);
	cursor = itest_events_head(c.b->token);
	react_expect(&c, &mod, "DELETE", id, THUMBS, c.b->id, 204);
	react_expect(&c, &mod, "DELETE", id, THUMBS, c.b->id, 204);
	r = chat_events(c.b, cursor);
	ck_assert_msg(events_count(r, "reaction.remove") == 1,
	    "one reaction.remove: %s", itest_describe(r));
	e = events_first(r, "reaction.remove");
	ck_assert_str_eq(itest_at(e, "data.user_id")->text, c.b->id);
	ck_assert_str_eq(itest_at(e, "data.emoji")->text, THUMBS);
	itest_free(r);
	free(cursor);
	react_expect(&c, c.a, "DELETE", id, HEART, c.a->id, 204);
	expect_seen(&c, c.b, id, thumbs, &count, &mine, 0);
	react_expect(&c, c.b, "PUT", id, THUMBS, "@me", 204);
	react_expect(&c, c.a, "DELETE", id, THUMBS, c.b->id, 204);
	expect_seen(&c, c.b, id, thumbs, &count, &mine, 0);
	/* The overwrite is of this channel only. */
	sibling_base = sibling_open(&c);
	elsewhere = chat_post(c.a, sibling_base, "not moderated by mod");
	react_expect(&c, c.b, "PUT", elsewhere, THUMBS, "@me", 404);
	free(c.base);
	c.base = sibling_base;
	react_expect(&c, c.b, "PUT", elsewhere, THUMBS, "@me", 204);
	react_expect(&c, &mod, "DELETE", elsewhere, THUMBS, c.b->id, 403);
	count = 1;
	mine = 1;
	expect_seen(&c, c.b, elsewhere, thumbs, &count, &mine, 1);
	free(elsewhere);
	free(id);
	chat_user_free(&mod);
	/* In a DM nobody removes the other's. */
	conv_open(&d, KIND_DM);
	id = chat_post(d.a, d.base, "private");
	react_expect(&d, d.b, "PUT", id, THUMBS, "@me", 204);
	react_expect(&d, d.a, "DELETE", id, THUMBS, d.b->id, 403);
	react_expect(&d, d.a, "DELETE", id, THUMBS, d.a->id, 204);
	free(id);
	conv_close(&d);
	conv_close(&c);
}
END_TEST

/* Assert the reaction events of a poll: adds, removes and their data. */
static void
expect_reaction_events(const struct conv *c, const struct chat_user *u,
    const char *cursor, size_t adds, size_t removes, const char *id)
{
	struct itest_response	*r;
	const struct json	*e;

	r = chat_events(u, cursor);
	ck_assert_msg(events_count(r, "reaction.add") == adds &&
	    events_count(r, "reaction.remove") == removes, "%zu adds and %zu "
	    "removes expected: %s", adds, removes, itest_describe(r));
	if ((e = events_first(r, "reaction.add")) != NULL) {
		ck_assert_str_eq(itest_at(e, "data.message_id")->text, id);
		ck_assert_str_eq(itest_at(e, "data.emoji")->text, THUMBS);
		ck_assert_msg(itest_at(e, "data.user_id") != NULL &&
		    itest_at(e, "data")->count == 5, "reaction.add data: %s",
		    itest_describe(r));
		ck_assert_msg(itest_at(e, c->kind == KIND_CHANNEL ?
		    "data.dm_channel_id" : "data.channel_id")->type ==
		    JSON_NULL, "the other kind's id: %s", itest_describe(r));
	}
	itest_free(r);
}

/*
 * Clients adding (then removing) the same reaction at once: one row and
 * one event; two people at once: two of each.
 */
START_TEST(test_race)
{
	static const char *const thumbs[] = { THUMBS };
	const char		*tokens[RACERS], *bodies[RACERS];
	char			*ids[RACERS], *id, *cursor, *path, *e;
	long			 status[RACERS], count;
	int			 i, mine = 1;
	struct conv		 c;

	conv_open(&c, _i);
	id = chat_post(c.a, c.base, "raced");
	cursor = itest_events_head(c.b->token);
	e = pct(THUMBS);
	xasprintf(&path, "%s/messages/%s/reactions/%s/@me", c.base, id, e);
	for (i = 0; i < RACERS; i++) {
		tokens[i] = i < RACERS - 1 ? c.a->token : c.b->token;
		bodies[i] = "";
	}
	chat_race(RACERS, "PUT", path, tokens, bodies, status, ids);
	for (i = 0; i < RACERS; i++) {
		ck_assert_msg(status[i] == 204, "racer %d: %ld", i, status[i]);
		free(ids[i]);
	}
	count = 2;
	expect_seen(&c, c.a, id, thumbs, &count, &mine, 1);
	expect_reaction_events(&c, c.b, cursor, 2, 0, id);
	free(cursor);
	cursor = itest_events_head(c.b->token);
	chat_race(RACERS, "DELETE", path, tokens, bodies, status, ids);
	for (i = 0; i < RACERS; i++) {
		ck_assert_msg(status[i] == 204, "racer %d: %ld", i, status[i]);
		free(ids[i]);
	}
	expect_seen(&c, c.a, id, thumbs, &count, &mine, 0);
	expect_reaction_events(&c, c.b, cursor, 0, 2, id);
	free(cursor);
	free(path);
	free(e);
	free(id);
	conv_close(&c);
}
END_TEST

START_TEST(test_deleted_message)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*id, *sql;

	conv_open(&c, _i);
	id = chat_post(c.a, c.base, "short-lived");
	react_expect(&c, c.a, "PUT", id, THUMBS, "@me", 204);
	react_expect(&c, c.b, "PUT", id, HEART, "@me", 204);
	message_delete(&c, c.a, id);
	xasprintf(&sql, "SELECT COUNT(*) FROM reactions WHERE message_id = %s",
	    id);
	ck_assert_int_eq(itest_sql_number(sql), 0);
	free(sql);
	react_expect(&c, c.b, "PUT", id, THUMBS, "@me", 404);
	react_expect(&c, c.b, "DELETE", id, HEART, "@me", 404);
	react_expect(&c, c.b, "GET", id, THUMBS, NULL, 404);
	r = chat_history(c.a, c.base, NULL);
	ck_assert_msg(page_message(r, id) == NULL, "deleted in the page: %s",
	    itest_describe(r));
	itest_free(r);
	free(id);
	conv_close(&c);
}
END_TEST

#define BATCHED		8	/* PUTs at once */

/* The count of emoji on message id as u sees it (0: none). */
static long
count_of(const struct conv *c, const struct chat_user *u, const char *id,
    const char *emoji, size_t *distinct)
{
	struct itest_response	*r;
	const struct json	*list;
	long			 n = 0;
	size_t			 i;

	r = message_get(c, u, id);
	list = itest_at(r->json, "reactions");
	for (i = 0; i < list->count; i++) {
		if (strcmp(itest_at(list->items[i], "emoji")->text, emoji) == 0)
			n = atol(itest_at(list->items[i], "count")->text);
	}
	*distinct = list->count;
	itest_free(r);
	return n;
}

/*
 * PUTs arriving together, which a worker adds in one transaction
 * (reactbatch.c): each gets the answer it would have had alone, and each
 * reaction added has its one event: a repeat adds nothing, an unknown
 * message is 404, and of two new emoji racing to be a message's 20th,
 * one is 400.
 */
START_TEST(test_batched)
{
	const char		*paths[BATCHED], *tokens[BATCHED];
	const char		*bodies[BATCHED];
	const char *const	 emoji[BATCHED] = {
		THUMBS, THUMBS, THUMBS, HEART, THUMBS,
		"\xf0\x9f\x98\x93", "\xf0\x9f\x98\x94", "\xf0\x9f\x98\x81"
	};
	char			*ids[BATCHED], *owned[BATCHED], *first, *full;
	char			*cursor, *e;
	char			 emoji20[8];
	long			 status[BATCHED];
	int			 order[BATCHED], i, k, ok20 = 0, bad20 = 0;
	size_t			 distinct;
	struct conv		 c;
	struct itest_response	*r;

	conv_open(&c, _i);
	first = chat_post(c.a, c.base, "batched");
	full = chat_post(c.a, c.base, "nineteen");
	for (i = 0; i < 19; i++) {
		snprintf(emoji20, sizeof emoji20, "\xf0\x9f\x98%c", 0x80 + i);
		react_expect(&c, c.b, "PUT", full, emoji20, "@me", 204);
	}
	cursor = itest_events_head(c.b->token);
	for (i = 0; i < BATCHED; i++) {
		const char *msg = i < 4 ? first : i == 4 ?
		    "18446744073709551615" : full;

		e = pct(emoji[i]);
		xasprintf(&owned[i], "%s/messages/%s/reactions/%s/@me",
		    c.base, msg, e);
		paths[i] = owned[i];
		free(e);
		tokens[i] = i == 2 || i == 6 ? c.b->token : c.a->token;
		bodies[i] = "";
	}
	chat_race_paths(BATCHED, "PUT", paths, tokens, bodies, status, ids,
	    order);
	for (i = 0; i < BATCHED; i++) {
		k = order[i];
		if (k == 4)
			ck_assert_msg(status[i] == 404, "unknown message: %ld",
			    status[i]);
		else if (k == 5 || k == 6) {
			ok20 += status[i] == 204;
			bad20 += status[i] == 400;
		} else
			ck_assert_msg(status[i] == 204, "racer %d: %ld", k,
			    status[i]);
		free(ids[i]);
	}
	ck_assert_msg(ok20 == 1 && bad20 == 1, "the 20th emoji: %d added, "
	    "%d refused", ok20, bad20);
	ck_assert_int_eq(count_of(&c, c.a, first, THUMBS, &distinct), 2);
	ck_assert_int_eq(count_of(&c, c.a, first, HEART, &distinct), 1);
	ck_assert_int_eq(distinct, 2);
	ck_assert_int_eq(count_of(&c, c.a, full, emoji[7], &distinct), 2);
	ck_assert_int_eq(distinct, 20);
	/* 👍 by a and b, ❤️ by a, the 20th, a's 😁: five events. */
	r = chat_events(c.b, cursor);
	ck_assert_msg(events_count(r, "reaction.add") == 5,
	    "five reaction.add: %s", itest_describe(r));
	itest_free(r);
	for (i = 0; i < BATCHED; i++)
		free(owned[i]);
	free(cursor);
	free(full);
	free(first);
	conv_close(&c);
}
END_TEST

#define MANY_REACTORS	4100	/* more than a kept page lists */

/*
 * A message with more reactions than a worker's kept page lists the
 * reactors of (HISTORY_REACTORS_MAX): readers still see their own "me",
 * read from the database then.  The reactors are accounts made by SQL.
 */
START_TEST(test_many_reactions)
{
	static const char *const thumbs[] = { THUMBS };
	struct conv		 c;
	char			*id, *prefix, *sql;
	long			 count = MANY_REACTORS + 1;
	int			 mine = 1;

	conv_open(&c, KIND_CHANNEL);
	id = chat_post(c.a, c.base, "popular");
	prefix = itest_unique("rxm");
	xasprintf(&sql, "INSERT INTO users (username, email, password_hash)"
	    " SELECT CONCAT('%s', seq), CONCAT('%s', seq, '@example.org'), 'x'"
	    " FROM seq_1_to_%d; INSERT INTO reactions (message_id, emoji,"
	    " user_id, emoji_order) SELECT %s, 0xf09f918d, id, 1 FROM users"
	    " WHERE username LIKE '%s%%'", prefix, prefix, MANY_REACTORS, id,
	    prefix);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);
	/* The rows came without an event: one now drops any kept page. */
	react_expect(&c, c.a, "PUT", id, THUMBS, "@me", 204);
	expect_seen(&c, c.a, id, thumbs, &count, &mine, 1);
	mine = 0;
	expect_seen(&c, c.b, id, thumbs, &count, &mine, 1);
	xasprintf(&sql, "DELETE FROM users WHERE username LIKE '%s%%'", prefix);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);
	free(prefix);
	free(id);
	conv_close(&c);
}
END_TEST

/* --- pins -------------------------------------------------------------- */

/* Send method to …/pins[/{id}] as u. */
static struct itest_response *
pin(const struct conv *c, const struct chat_user *u, const char *method,
    const char *id)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, "%s/pins%s%s", c->base, id != NULL ? "/" : "",
	    id != NULL ? id : "");
	r = itest_request(method, path, u->token, NULL, NULL, 0);
	free(path);
	return r;
}

/* Send method to …/pins/{id} and assert its status. */
static void
pin_expect(const struct conv *c, const struct chat_user *u,
    const char *method, const char *id, long status)
{
	struct itest_response	*r;

	r = pin(c, u, method, id);
	ck_assert_msg(r->status == status, "%s pin as %s: %s", method,
	    u->username, itest_describe(r));
	itest_free(r);
}

START_TEST(test_pins)
{
	struct itest_response	*r;
	const struct json	*e;
	struct conv		 c;
	char			*ids[PINS + 1], *cursor;
	const struct chat_user	*pinner;
	int			 i;

	conv_open(&c, _i);
	/* A member without manage_messages may not pin in a channel. */
	pinner = c.kind == KIND_CHANNEL ? c.a : c.b;
	for (i = 0; i <= PINS; i++)
		ids[i] = chat_post(c.a, c.base, "pin me");
	if (c.kind == KIND_CHANNEL) {
		pin_expect(&c, c.b, "PUT", ids[0], 403);
		pin_expect(&c, c.b, "DELETE", ids[0], 403);
	}
	cursor = itest_events_head(c.a->token);
	pin_expect(&c, pinner, "PUT", ids[0], 204);
	pin_expect(&c, pinner, "PUT", ids[0], 204);
	/* One message.update, pinned true. */
	r = chat_events(c.a, cursor);
	ck_assert_msg(events_count(r, "message.update") == 1, "one update: %s",
	    itest_describe(r));
	e = events_first(r, "message.update");
	ck_assert_msg(itest_at(e, "data.message.pinned")->boolean,
	    "pinned: %s", itest_describe(r));
	itest_free(r);
	r = message_get(&c, c.b, ids[0]);
	ck_assert_msg(itest_at(r->json, "pinned")->boolean, "GET: %s",
	    itest_describe(r));
	itest_free(r);
	for (i = 1; i < PINS; i++)
		pin_expect(&c, pinner, "PUT", ids[i], 204);
	r = pin(&c, pinner, "PUT", ids[PINS]);
	itest_expect_error(r, 409, "too_many_pins");
	itest_free(r);
	/* Most recently pinned first, 50 of them. */
	r = pin(&c, c.b, "GET", NULL);
	itest_expect(r, 200);
	ck_assert_msg(r->json->count == PINS && strcmp(itest_str(r, "0.id"),
	    ids[PINS - 1]) == 0 && strcmp(itest_str(r, "49.id"), ids[0]) == 0,
	    "pins: %s", itest_describe(r));
	itest_free(r);
	/* Unpinned, and deleted (which unpins): room again. */
	pin_expect(&c, pinner, "DELETE", ids[1], 204);
	pin_expect(&c, pinner, "DELETE", ids[1], 204);
	message_delete(&c, c.a, ids[2]);
	pin_expect(&c, pinner, "PUT", ids[PINS], 204);
	pin_expect(&c, pinner, "PUT", ids[1], 204);
	r = pin(&c, pinner, "PUT", ids[3]);
	ck_assert_msg(r->status == 204, "already pinned: %s",
	    itest_describe(r));
	itest_free(r);
	pin_expect(&c, pinner, "PUT", ids[2], 404);
	r = pin(&c, c.a, "GET", NULL);
	ck_assert_msg(r->json->count == PINS && strcmp(itest_str(r, "0.id"),
	    ids[1]) == 0, "pins: %s", itest_describe(r));
	itest_free(r);
	pin_expect(&c, pinner, "DELETE", ids[2], 404);
	pin_expect(&c, pinner, "PUT", "18446744073709551615", 404);
	for (i = 0; i <= PINS; i++)
		free(ids[i]);
	free(cursor);
	conv_close(&c);
}
END_TEST

/* --- who receives the events, and attacks -------------------------------- */

START_TEST(test_audience)
{
	struct conv		 c;
	struct chat_user	 outsider;
	char			*id, *cursor_b, *cursor_out, *cursor_a;

	conv_open(&c, KIND_CHANNEL);
	chat_user(&outsider, "rxo");
	id = chat_post(c.a, c.base, "who sees this");
	cursor_a = itest_events_head(c.a->token);
	cursor_b = itest_events_head(c.b->token);
	cursor_out = itest_events_head(outsider.token);
	react_expect(&c, c.a, "PUT", id, THUMBS, "@me", 204);
	expect_reaction_events(&c, c.b, cursor_b, 1, 0, id);
	expect_reaction_events(&c, c.a, cursor_a, 1, 0, id);
	expect_reaction_events(&c, &outsider, cursor_out, 0, 0, id);
	free(cursor_b);
	free(cursor_a);

	/* Without view_channels the member gets none. */
	chat_default_permissions(c.a, c.room.server, "[]");
	cursor_b = itest_events_head(c.b->token);
	cursor_a = itest_events_head(c.a->token);
	react_expect(&c, c.a, "DELETE", id, THUMBS, "@me", 204);
	react_expect(&c, c.a, "PUT", id, THUMBS, "@me", 204);
	expect_reaction_events(&c, c.b, cursor_b, 0, 0, id);
	expect_reaction_events(&c, c.a, cursor_a, 1, 1, id);
	free(cursor_b);
	free(cursor_a);
	free(cursor_out);
	free(id);
	chat_user_free(&outsider);
	conv_close(&c);
}
END_TEST

/*
 * A channel hidden from one member by an overwrite: they stay in the
 * server and poll /events, but get none of its reaction events (their
 * own reaction's removal included), while a member who views it gets
 * each.  A DM's reactions reach its two people only.
 */
START_TEST(test_audience_private)
{
	struct conv		 c, d;
	struct chat_user	 viewer;
	char			*id, *dm_msg, *cursor_b, *cursor_v, *cursor_d;

	conv_open(&c, KIND_CHANNEL);
	chat_user(&viewer, "rxv");
	chat_join(c.a, c.room.server, &viewer);
	id = chat_post(c.a, c.base, "for the viewers");
	react_expect(&c, c.b, "PUT", id, THUMBS, "@me", 204);
	chat_member_overwrite(c.a, c.base, c.b,
	    "{\"deny\":[\"view_channels\"]}");
	cursor_b = itest_events_head(c.b->token);
	cursor_v = itest_events_head(viewer.token);
	react_expect(&c, c.a, "PUT", id, THUMBS, "@me", 204);
	react_expect(&c, c.a, "DELETE", id, THUMBS, c.b->id, 204);
	react_expect(&c, c.b, "PUT", id, THUMBS, "@me", 404);
	expect_reaction_events(&c, &viewer, cursor_v, 1, 1, id);
	expect_reaction_events(&c, c.b, cursor_b, 0, 0, id);
	free(cursor_v);
	free(cursor_b);

	conv_open(&d, KIND_DM);
	dm_msg = chat_post(d.a, d.base, "between two");
	cursor_d = itest_events_head(d.b->token);
	cursor_v = itest_events_head(viewer.token);
	react_expect(&d, d.a, "PUT", dm_msg, THUMBS, "@me", 204);
	react_expect(&d, &viewer, "PUT", dm_msg, THUMBS, "@me", 404);
	expect_reaction_events(&d, d.b, cursor_d, 1, 0, dm_msg);
	expect_reaction_events(&d, &viewer, cursor_v, 0, 0, dm_msg);
	free(cursor_v);
	free(cursor_d);
	free(dm_msg);
	conv_close(&d);
	free(id);
	chat_user_free(&viewer);
	conv_close(&c);
}
END_TEST

START_TEST(test_attacks)
{
	struct itest_response	*r;
	struct conv		 c;
	char			*id, *path;

	conv_open(&c, KIND_CHANNEL);
	id = chat_post(c.a, c.base, "target");
	/* A member without add_reactions: 403; still reads and removes. */
	chat_default_permissions(c.a, c.room.server,
	    "[\"view_channels\",\"send_messages\"]");
	react_expect(&c, c.b, "PUT", id, THUMBS, "@me", 403);
	react_expect(&c, c.b, "DELETE", id, THUMBS, "@me", 204);
	react_expect(&c, c.b, "GET", id, THUMBS, NULL, 200);
	react_expect(&c, c.a, "PUT", id, THUMBS, "@me", 204);
	chat_default_permissions(c.a, c.room.server,
	    "[\"view_channels\",\"send_messages\",\"add_reactions\"]");
	react_expect(&c, c.b, "PUT", id, HEART, "@me", 204);

	/* Kicked: nothing of the channel exists for them. */
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", c.room.server,
	    c.b->id);
	r = itest_delete(path, c.a->token);
	ck_assert_msg(r->status == 204, "kick: %s", itest_describe(r));
	itest_free(r);
	free(path);
	react_expect(&c, c.b, "PUT", id, THUMBS, "@me", 404);
	react_expect(&c, c.b, "DELETE", id, HEART, "@me", 404);
	react_expect(&c, c.b, "GET", id, THUMBS, NULL, 404);
	r = pin(&c, c.b, "GET", NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);

	/* A token from before logout-all: 401. */
	r = itest_request("POST", API_PREFIX "/auth/logout-all", c.a->token,
	    NULL, NULL, 0);
	ck_assert_msg(r->status == 204, "logout-all: %s", itest_describe(r));
	itest_free(r);
	react_expect(&c, c.a, "PUT", id, FLAG_TR, "@me", 401);
	react_expect(&c, c.a, "DELETE", id, THUMBS, "@me", 401);
	r = pin(&c, c.a, "PUT", id);
	itest_expect_error(r, 401, "unauthorized");
	itest_free(r);
	xasprintf(&path, "SELECT COUNT(*) FROM reactions WHERE message_id = %s",
	    id);
	ck_assert_int_eq(itest_sql_number(path), 2);
	free(path);
	free(id);
	conv_close(&c);
}
END_TEST

/* --- without the stored procedure ---------------------------------------- */

/* The routines back and sohbetd restarted (itest_routines_restore()). */
static void
procedure_restore(void)
{
	itest_routines_restore(SRCDIR "/sql");
}

/*
 * A database restored without its routines has no reaction_add: a
 * reaction is still added once, with its event, alone or among PUTs that
 * arrive together, and refused as before.
 */
START_TEST(test_without_procedure)
{
	static const char *const thumbs[] = { THUMBS };
	const char		*tokens[RACERS], *bodies[RACERS];
	struct itest_response	*r;
	char			*ids[RACERS], *id, *cursor, *path, *e;
	char			 emoji[8];
	long			 count = 1, status[RACERS];
	int			 i, mine = 1;
	struct conv		 c;

	conv_open(&c, _i);
	ck_assert_int_eq(itest_sql("DROP PROCEDURE reaction_add"), 0);
	id = chat_post(c.a, c.base, "no procedure");
	cursor = itest_events_head(c.b->token);
	/* Enough that every worker adds some. */
	for (i = 0; i < 4; i++)
		react_expect(&c, c.a, "PUT", id, THUMBS, "@me", 204);
	expect_seen(&c, c.a, id, thumbs, &count, &mine, 1);
	expect_reaction_events(&c, c.b, cursor, 1, 0, id);
	free(cursor);
	/* Together: one reaction, one event. */
	cursor = itest_events_head(c.b->token);
	e = pct(HEART);
	xasprintf(&path, "%s/messages/%s/reactions/%s/@me", c.base, id, e);
	for (i = 0; i < RACERS; i++) {
		tokens[i] = c.b->token;
		bodies[i] = "";
	}
	chat_race(RACERS, "PUT", path, tokens, bodies, status, ids);
	for (i = 0; i < RACERS; i++) {
		ck_assert_msg(status[i] == 204, "racer %d: %ld", i, status[i]);
		free(ids[i]);
	}
	r = chat_events(c.b, cursor);
	ck_assert_msg(events_count(r, "reaction.add") == 1, "one "
	    "reaction.add: %s", itest_describe(r));
	itest_free(r);
	react_expect(&c, c.b, "DELETE", id, HEART, "@me", 204);
	for (i = 1; i < 20; i++) {
		snprintf(emoji, sizeof emoji, "\xf0\x9f\x98%c", 0x80 + i);
		react_expect(&c, c.b, "PUT", id, emoji, "@me", 204);
	}
	react_expect(&c, c.b, "PUT", id, HEART, "@me", 400);
	react_expect(&c, c.b, "PUT", "18446744073709551615", THUMBS, "@me",
	    404);
	procedure_restore();
	react_expect(&c, c.b, "PUT", id, HEART, "@me", 400);
	free(path);
	free(e);
	free(cursor);
	free(id);
	conv_close(&c);
}
END_TEST

/* Collect the tests into a suite. */
static Suite *
reactions_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("reactions");
	tc = tcase_create("reactions");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_reply, 0, KINDS);
	tcase_add_test(tc, test_reply_refused);
	tcase_add_test(tc, test_emoji);
	tcase_add_loop_test(tc, test_reactions, 0, KINDS);
	tcase_add_loop_test(tc, test_distinct_limit, 0, KINDS);
	tcase_add_test(tc, test_moderator);
	tcase_add_loop_test(tc, test_race, 0, KINDS);
	tcase_add_loop_test(tc, test_batched, 0, KINDS);
	tcase_add_loop_test(tc, test_deleted_message, 0, KINDS);
	tcase_add_test(tc, test_many_reactions);
	tcase_add_loop_test(tc, test_pins, 0, KINDS);
	tcase_add_test(tc, test_audience);
	tcase_add_test(tc, test_audience_private);
	tcase_add_test(tc, test_attacks);
	suite_add_tcase(s, tc);
	tc = tcase_create("procedure");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, procedure_restore);
	tcase_add_loop_test(tc, test_without_procedure, 0, KINDS);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(reactions_suite());
}
