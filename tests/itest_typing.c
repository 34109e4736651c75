/* SPDX-License-Identifier: ISC */
/*
 * itest_typing.c: typing hints and the ephemeral events that carry them
 * (API.md, Typing and presence; issue 22).  A parked poll gets
 * typing.start at once, without a seq and with the cursor it sent; the
 * typist never gets their own; a poll that sends back its previous
 * "ephemeral" value gets what came after it, once; an old cursor never
 * replays one; hints that come less than 0.5 s after the answer whose
 * value a poll sent wait for then and come in one answer, and a
 * message meanwhile goes out alone before them; the throttle; the audiences of a private channel and a
 * DM; and the refusals: no send_messages, a hidden channel, a stranger's
 * DM, a kicked member, a token revoked by logout-all; no hints after a
 * role that gave the view is taken, or after a kick.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "check_run.h"

#define POLL_WAIT	20	/* seconds a parked test poll would wait */
#define ANSWER_WITHIN	3.0	/* seconds an answer may take (loaded CI) */
#define PARK_MS		600	/* for a started poll to be parked */
#define QUIET_S		2	/* a poll that must see nothing waits this */
#define THROTTLE_MS	5000	/* typing.c */
#define HOLD_S		0.5	/* api-events.c: answers of hints alone */
#define TRANSIT_S	0.1	/* an answer's way back, at most */

/* Where a client's /events polls stand: its cursor and ephemeral value. */
struct place {
	char	*cursor;
	char	*ephemeral;
};

/* Take the cursor and ephemeral value of an answer into a place. */
static void
place_take(struct place *pl, struct itest_response *r)
{
	ck_assert_msg(itest_str(r, "cursor") != NULL &&
	    itest_str(r, "ephemeral") != NULL, "no cursor or ephemeral: %s",
	    itest_describe(r));
	free(pl->cursor);
	free(pl->ephemeral);
	pl->cursor = xstrdup(itest_str(r, "cursor"));
	pl->ephemeral = xstrdup(itest_str(r, "ephemeral"));
}

/* A user's place now: GET /events without after. */
static void
place_head(struct place *pl, const char *token)
{
	struct itest_response	*r;

	memset(pl, 0, sizeof *pl);
	r = itest_get(API_PREFIX "/events", token);
	itest_expect(r, 200);
	place_take(pl, r);
	itest_free(r);
}

static void
place_free(struct place *pl)
{
	free(pl->cursor);
	free(pl->ephemeral);
}

/* The path of a poll from a place (its ephemeral value if with_ephemeral). */
static char *
place_path(const struct place *pl, int with_ephemeral, int timeout)
{
	char	*path;

	if (with_ephemeral)
		xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d"
		    "&ephemeral=%s", pl->cursor, timeout, pl->ephemeral);
	else
		xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d",
		    pl->cursor, timeout);
	return path;
}

/* Start a poll from a place; it parks. */
static struct itest_pending *
poll_start(const struct place *pl, const char *token, int with_ephemeral)
{
	struct itest_pending	*p;
	char			*path;

	path = place_path(pl, with_ephemeral, POLL_WAIT);
	p = itest_start(path, token);
	free(path);
	itest_sleep_ms(PARK_MS);
	return p;
}

/* Poll from a place once, for at most timeout seconds; the answer. */
static struct itest_response *
poll_once(const struct place *pl, const char *token, int with_ephemeral,
    int timeout)
{
	struct itest_response	*r;
	char			*path;

	path = place_path(pl, with_ephemeral, timeout);
	r = itest_get(path, token);
	free(path);
	itest_expect(r, 200);
	return r;
}

/* How many typing.start events from a user an answer holds. */
static int
count_typing(struct itest_response *r, const char *user_id)
{
	const char	*type, *who;
	char		 key[64];
	int		 i, n = 0;

	for (i = 0;; i++) {
		snprintf(key, sizeof key, "events.%d.type", i);
		if ((type = itest_str(r, key)) == NULL)
			break;
		snprintf(key, sizeof key, "events.%d.data.user_id", i);
		who = itest_str(r, key);
		if (strcmp(type, "typing.start") == 0 && who != NULL &&
		    strcmp(who, user_id) == 0)
			n++;
	}
	return n;
}

/* POST …/typing as a token; the response. */
static struct itest_response *
typing(const char *base, const char *token)
{
	char			*path;
	struct itest_response	*r;

	xasprintf(&path, "%s/typing", base);
	r = itest_request("POST", path, token, NULL, NULL, 0);
	free(path);
	return r;
}

/* Assert that an answer is 204 No Content. */
static void
expect_no_content(struct itest_response *r)
{
	ck_assert_msg(r->status == 204, "%s", itest_describe(r));
	itest_free(r);
}

/* POST …/typing and assert 204. */
static void
typing_ok(const char *base, const char *token)
{
	expect_no_content(typing(base, token));
}

/* The index of an answer's first typing.start (presence may come too). */
static int
typing_index(struct itest_response *r)
{
	const char	*type;
	char		 key[64];
	int		 i;

	for (i = 0;; i++) {
		snprintf(key, sizeof key, "events.%d.type", i);
		ck_assert_msg((type = itest_str(r, key)) != NULL, "no "
		    "typing.start: %s", itest_describe(r));
		if (strcmp(type, "typing.start") == 0)
			return i;
	}
}

/* The value at a field of an answer's event number i, or NULL. */
static const struct json *
event_at(struct itest_response *r, int i, const char *field)
{
	char	key[64];

	snprintf(key, sizeof key, "events.%d.%s", i, field);
	return itest_at(r->json, key);
}

/* Assert that a field of event i is the id want, or null (want NULL). */
static void
expect_event_id(struct itest_response *r, int i, const char *field,
    const char *want)
{
	const struct json	*v = event_at(r, i, field);

	ck_assert_msg(v != NULL, "no %s: %s", field, itest_describe(r));
	if (want == NULL)
		ck_assert_msg(v->type == JSON_NULL, "%s is not null: %s",
		    field, itest_describe(r));
	else
		ck_assert_msg(v->type == JSON_STRING && strcmp(v->text, want) ==
		    0, "%s is not %s: %s", field, want, itest_describe(r));
}

/* Assert that an answer holds typing.start from user in channel (or DM). */
static void
expect_typing(struct itest_response *r, const char *user_id,
    const char *channel, const char *dm)
{
	int	i;

	itest_expect(r, 200);
	i = typing_index(r);
	expect_event_id(r, i, "data.user_id", user_id);
	expect_event_id(r, i, "data.channel_id", channel);
	expect_event_id(r, i, "data.dm_channel_id", dm);
	ck_assert_msg(event_at(r, i, "data.expires_at") != NULL, "%s",
	    itest_describe(r));
	ck_assert_msg(event_at(r, i, "seq") == NULL, "an ephemeral event "
	    "with a seq: %s", itest_describe(r));
	ck_assert_int_eq(count_typing(r, user_id), 1);
}

/*
 * A parked poll gets typing.start at once, with the cursor it sent; the
 * typist's own poll does not; a poll with the old cursor and no
 * ephemeral value never gets it again.
 */
START_TEST(test_typing_live)
{
	struct itest_pending	*bob;
	struct itest_response	*r;
	struct chat_room	 room;
	struct place		 bp, ap;

	chat_room_open(&room, "tylive");
	place_head(&bp, room.member.token);
	place_head(&ap, room.owner.token);
	bob = poll_start(&bp, room.member.token, 0);
	typing_ok(room.base, room.owner.token);
	r = itest_finish(bob);
	expect_typing(r, room.owner.id, room.channel, NULL);
	ck_assert_msg(r->seconds < PARK_MS / 1000.0 + ANSWER_WITHIN, "%s",
	    itest_describe(r));
	itest_expect_str(r, "cursor", bp.cursor);
	ck_assert_msg(strcmp(itest_str(r, "ephemeral"), bp.ephemeral) != 0,
	    "the ephemeral value did not move: %s", itest_describe(r));
	itest_free(r);
	/* The typist's window holds the hint, but not for them. */
	r = poll_once(&ap, room.owner.token, 1, QUIET_S);
	ck_assert_msg(count_typing(r, room.owner.id) == 0, "the typist got "
	    "their own hint: %s", itest_describe(r));
	itest_free(r);
	/* Replay with the old cursor: the durable events only. */
	r = poll_once(&bp, room.member.token, 0, 0);
	ck_assert_int_eq(count_typing(r, room.owner.id), 0);
	itest_expect_str(r, "cursor", bp.cursor);
	itest_free(r);
	place_free(&bp);
	place_free(&ap);
	chat_room_close(&room);
}
END_TEST

/*
 * A poll that sends back an earlier ephemeral value gets what came after
 * it (answered at once, cursor unchanged); polling again with the new
 * value does not repeat it.
 */
START_TEST(test_typing_window)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct place		 bp;

	chat_room_open(&room, "tywin");
	place_head(&bp, room.member.token);
	typing_ok(room.base, room.owner.token);
	r = poll_once(&bp, room.member.token, 1, POLL_WAIT);
	expect_typing(r, room.owner.id, room.channel, NULL);
	ck_assert_msg(r->seconds < ANSWER_WITHIN, "not answered at once: %s",
	    itest_describe(r));
	itest_expect_str(r, "cursor", bp.cursor);
	place_take(&bp, r);
	itest_free(r);
	r = poll_once(&bp, room.member.token, 1, QUIET_S);
	ck_assert_msg(count_typing(r, room.owner.id) == 0, "repeated: %s",
	    itest_describe(r));
	itest_free(r);
	place_free(&bp);
	chat_room_close(&room);
}
END_TEST

/*
 * Hints that come less than 0.5 s after an answer, for a poll that sends
 * back its value, are gathered: the poll is answered once, at the end of
 * those 0.5 s, with all of them and the cursor it sent.
 */
START_TEST(test_typing_gathered)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct chat_user	 third;
	struct place		 tp;
	double			 answered;

	chat_room_open(&room, "tygath");
	chat_user(&third, "tygath3");
	chat_join(&room.owner, room.server, &third);
	place_head(&tp, third.token);
	answered = itest_now();
	typing_ok(room.base, room.owner.token);
	typing_ok(room.base, room.member.token);
	r = poll_once(&tp, third.token, 1, POLL_WAIT);
	ck_assert_msg(count_typing(r, room.owner.id) == 1 &&
	    count_typing(r, room.member.id) == 1, "not both hints in one "
	    "answer: %s", itest_describe(r));
	itest_expect_str(r, "cursor", tp.cursor);
	ck_assert_msg(itest_now() - answered >= HOLD_S - TRANSIT_S, "answered "
	    "%.3f s after the previous answer: %s", itest_now() - answered,
	    itest_describe(r));
	place_take(&tp, r);
	itest_free(r);
	/* Gathered once: polling again does not repeat them. */
	r = poll_once(&tp, third.token, 1, QUIET_S);
	ck_assert_msg(count_typing(r, room.owner.id) == 0 &&
	    count_typing(r, room.member.id) == 0, "repeated: %s",
	    itest_describe(r));
	itest_free(r);
	place_free(&tp);
	chat_user_free(&third);
	chat_room_close(&room);
}
END_TEST

/* Whether an answer holds the message.create of a message id. */
static int
holds_message(struct itest_response *r, const char *id)
{
	const char	*type, *mid;
	char		 key[64];
	int		 i;

	for (i = 0;; i++) {
		snprintf(key, sizeof key, "events.%d.type", i);
		if ((type = itest_str(r, key)) == NULL)
			return 0;
		snprintf(key, sizeof key, "events.%d.data.message.id", i);
		mid = itest_str(r, key);
		if (strcmp(type, "message.create") == 0 && mid != NULL &&
		    strcmp(mid, id) == 0)
			return 1;
	}
}

/*
 * A message that comes while a poll's hints wait for their hold to end
 * (the poll sent back a value answered less than 0.5 s before) goes out
 * at once as the small answer it is: the message alone, with the value
 * the poll sent; the next poll with that value gets the hints.  Returns
 * 0 when the box was too slow for the hold (the hints went out alone
 * first), so that the caller tries again.
 */
static int
typing_then_message(struct chat_room *room, struct chat_user *third,
    const char *text)
{
	struct itest_pending	*poll;
	struct itest_response	*r;
	struct place		 tp;
	char			*id, *path;
	long			 base;

	place_head(&tp, third->token);
	base = itest_metric(ITEST_PARKED);
	path = place_path(&tp, 1, POLL_WAIT);
	poll = itest_start(path, third->token);
	free(path);
	ck_assert_msg(itest_await_metric(ITEST_PARKED, base + 1, LONG_MAX,
	    ANSWER_WITHIN) >= base + 1, "the poll did not park");
	typing_ok(room->base, room->owner.token);
	id = chat_post(&room->member, room->base, text);
	r = itest_finish(poll);
	itest_expect(r, 200);
	if (count_typing(r, room->owner.id) == 1 && !holds_message(r, id)) {
		/* The hold ended before the message: start again. */
		itest_free(r);
		free(id);
		place_free(&tp);
		return 0;
	}
	ck_assert_msg(holds_message(r, id) && count_typing(r, room->owner.id) ==
	    0, "not the message alone: %s", itest_describe(r));
	itest_expect_str(r, "ephemeral", tp.ephemeral);
	free(tp.cursor);
	tp.cursor = xstrdup(itest_str(r, "cursor"));
	itest_free(r);
	r = poll_once(&tp, third->token, 1, POLL_WAIT);
	ck_assert_msg(count_typing(r, room->owner.id) == 1, "the hint did not "
	    "follow: %s", itest_describe(r));
	itest_free(r);
	free(id);
	place_free(&tp);
	return 1;
}

START_TEST(test_typing_after_message)
{
	struct chat_room	 room;
	struct chat_user	 third;
	int			 tries;

	chat_room_open(&room, "tymsg");
	chat_user(&third, "tymsg3");
	chat_join(&room.owner, room.server, &third);
	for (tries = 1; !typing_then_message(&room, &third, "first come");
	    tries++) {
		ck_assert_msg(tries < 4, "the hold always ended first");
		itest_sleep_ms(THROTTLE_MS);
	}
	chat_user_free(&third);
	chat_room_close(&room);
}
END_TEST

/* At most one hint per user and conversation every 5 s; all answer 204. */
START_TEST(test_typing_throttle)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct place		 bp;
	double			 first;

	chat_room_open(&room, "tythr");
	place_head(&bp, room.member.token);
	first = itest_now();
	typing_ok(room.base, room.owner.token);
	typing_ok(room.base, room.owner.token);
	typing_ok(room.base, room.owner.token);
	r = poll_once(&bp, room.member.token, 1, QUIET_S);
	ck_assert_int_eq(count_typing(r, room.owner.id), 1);
	place_take(&bp, r);
	itest_free(r);
	/* The member's own hint is theirs to throttle, not the owner's. */
	typing_ok(room.base, room.member.token);
	itest_sleep_ms((long)((first + THROTTLE_MS / 1000.0 - itest_now()) *
	    1000) + 300);
	typing_ok(room.base, room.owner.token);
	r = poll_once(&bp, room.member.token, 1, QUIET_S);
	ck_assert_int_eq(count_typing(r, room.owner.id), 1);
	itest_free(r);
	place_free(&bp);
	chat_room_close(&room);
}
END_TEST

/*
 * Poll from a place with its ephemeral value until an answer holds a
 * typing.start from user, for at most POLL_WAIT seconds; that answer.
 * No answer on the way may hold one of channel never.
 */
static struct itest_response *
await_typing(struct place *pl, const char *token, const char *user,
    const char *never)
{
	struct itest_response	*r;
	double			 until = itest_now() + POLL_WAIT;
	char			 hidden[64];

	snprintf(hidden, sizeof hidden, "\"channel_id\":\"%s\"", never);
	for (;;) {
		r = poll_once(pl, token, 1, POLL_WAIT);
		ck_assert_msg(strstr(r->body, hidden) == NULL, "a hint of a "
		    "hidden channel: %s", itest_describe(r));
		place_take(pl, r);
		if (count_typing(r, user) > 0)
			return r;
		ck_assert_msg(itest_now() < until, "no typing.start: %s",
		    itest_describe(r));
		itest_free(r);
	}
}

/* Create a channel the default role cannot view; its path. */
static char *
private_channel(const struct chat_room *room, char **id)
{
	struct itest_response	*r;
	char			*path, *everyone, *base;

	xasprintf(&path, API_PREFIX "/servers/%s/roles", room->server);
	r = itest_get(path, room->owner.token);
	itest_expect(r, 200);
	ck_assert(itest_at(r->json, "0.is_default")->boolean);
	everyone = xstrdup(itest_str(r, "0.id"));
	itest_free(r);
	free(path);
	xasprintf(&path, API_PREFIX "/servers/%s/channels", room->server);
	r = itest_send("POST", path, room->owner.token, "{\"name\":\"secret\","
	    "\"overwrites\":[{\"type\":\"role\",\"id\":\"%s\",\"deny\":"
	    "[\"view_channels\"]}]}", everyone);
	itest_expect(r, 201);
	*id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	free(path);
	free(everyone);
	xasprintf(&base, API_PREFIX "/channels/%s", *id);
	return base;
}

/*
 * A private channel: the member who cannot view it gets none of its
 * hints (parked, or read back from the window) and may not type there
 * (404); the owner does get a viewer's.
 */
START_TEST(test_typing_private_channel)
{
	struct itest_pending	*p;
	struct itest_response	*r;
	struct chat_room	 room;
	struct chat_user	 viewer;
	struct place		 bp, op;
	char			*secret, *base, *path;

	chat_room_open(&room, "typriv");
	base = private_channel(&room, &secret);
	chat_user(&viewer, "typrivv");
	chat_join(&room.owner, room.server, &viewer);
	xasprintf(&path, "%s/overwrites/member/%s", base, viewer.id);
	r = itest_send("PUT", path, room.owner.token, "{\"allow\":"
	    "[\"view_channels\"]}");
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	place_head(&bp, room.member.token);
	place_head(&op, room.owner.token);
	p = poll_start(&bp, room.member.token, 1);
	typing_ok(base, viewer.token);
	typing_ok(base, room.owner.token);
	r = await_typing(&op, room.owner.token, viewer.id, "none");
	expect_typing(r, viewer.id, secret, NULL);
	itest_free(r);
	/* The member's parked poll: at most presence, never those hints. */
	r = itest_finish(p);
	ck_assert_msg(strstr(r->body, "typing.start") == NULL, "%s",
	    itest_describe(r));
	itest_free(r);
	/* Read back from before them: only the general channel's hint. */
	typing_ok(room.base, viewer.token);
	r = await_typing(&bp, room.member.token, viewer.id, secret);
	expect_typing(r, viewer.id, room.channel, NULL);
	ck_assert_int_eq(count_typing(r, room.owner.id), 0);
	itest_free(r);
	r = typing(base, room.member.token);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	place_free(&bp);
	place_free(&op);
	chat_user_free(&viewer);
	free(secret);
	free(base);
	chat_room_close(&room);
}
END_TEST

/* Without send_messages in a channel one may view: 403. */
START_TEST(test_typing_needs_send)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*path;

	chat_room_open(&room, "tysend");
	xasprintf(&path, "%s/overwrites/member/%s", room.base, room.member.id);
	r = itest_send("PUT", path, room.owner.token, "{\"deny\":"
	    "[\"send_messages\"]}");
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	r = typing(room.base, room.member.token);
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	chat_room_close(&room);
}
END_TEST

/* A DM's hint reaches the other participant; a stranger gets 404. */
START_TEST(test_typing_dm)
{
	struct itest_pending	*p;
	struct itest_response	*r;
	struct chat_user	 a, b, stranger;
	struct place		 bp;
	char			*dm, *base;

	chat_user(&a, "tydma");
	chat_user(&b, "tydmb");
	chat_user(&stranger, "tydms");
	dm = chat_dm(&a, &b);
	xasprintf(&base, API_PREFIX "/dms/%s", dm);
	place_head(&bp, b.token);
	p = poll_start(&bp, b.token, 1);
	typing_ok(base, a.token);
	r = itest_finish(p);
	expect_typing(r, a.id, NULL, dm);
	itest_free(r);
	r = typing(base, stranger.token);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	free(base);
	free(dm);
	chat_user_free(&a);
	chat_user_free(&b);
	chat_user_free(&stranger);
}
END_TEST

/* A kicked member may not type (404); a revoked token: 401. */
START_TEST(test_typing_refused)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*path;

	chat_room_open(&room, "tyref");
	expect_no_content(itest_request("POST", API_PREFIX "/auth/logout-all",
	    room.owner.token, NULL, NULL, 0));
	r = typing(room.base, room.owner.token);
	itest_expect_error(r, 401, "unauthorized");
	itest_free(r);
	free(room.owner.token);
	room.owner.token = chat_login(&room.owner);
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", room.server,
	    room.member.id);
	expect_no_content(itest_delete(path, room.owner.token));
	free(path);
	r = typing(room.base, room.member.token);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	chat_room_close(&room);
}
END_TEST

/* Give (PUT) or take (DELETE) a member's role; 204 expected. */
static void
member_role(const struct chat_room *room, const char *method,
    const char *user_id, const char *role)
{
	char	*path;

	xasprintf(&path, API_PREFIX "/servers/%s/members/%s/roles/%s",
	    room->server, user_id, role);
	expect_no_content(itest_request(method, path, room->owner.token, NULL,
	    NULL, 0));
	free(path);
}

/*
 * Poll from a place until an answer comes empty after QUIET_S; no answer
 * on the way may hold a typing.start from user.
 */
static void
expect_no_typing_from(struct place *pl, const char *token, const char *user)
{
	struct itest_response	*r;
	int			 i, quiet = 0;

	for (i = 0; i < 4 && !quiet; i++) {
		r = poll_once(pl, token, 1, QUIET_S);
		ck_assert_msg(count_typing(r, user) == 0, "a hint after losing "
		    "access: %s", itest_describe(r));
		quiet = itest_at(r->json, "events.0") == NULL;
		place_take(pl, r);
		itest_free(r);
	}
	ck_assert_msg(quiet, "the polls never came quiet");
}

/*
 * A member whose role that let them view a channel is taken away gets
 * none of its hints any more, and a kicked member none of the server's,
 * although each polled just before (the worker keeps their scope): the
 * change drops it.
 */
START_TEST(test_typing_after_losing_access)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct chat_user	 viewer;
	struct place		 mp, vp;
	char			*secret, *base, *path, *role;

	chat_room_open(&room, "tylose");
	base = private_channel(&room, &secret);
	chat_user(&viewer, "tylosev");
	chat_join(&room.owner, room.server, &viewer);
	xasprintf(&path, API_PREFIX "/servers/%s/roles", room.server);
	r = itest_send("POST", path, room.owner.token, "{\"name\":"
	    "\"insiders\"}");
	itest_expect(r, 201);
	role = xstrdup(itest_str(r, "id"));
	itest_free(r);
	free(path);
	xasprintf(&path, "%s/overwrites/role/%s", base, role);
	r = itest_send("PUT", path, room.owner.token, "{\"allow\":"
	    "[\"view_channels\"]}");
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	member_role(&room, "PUT", room.member.id, role);
	member_role(&room, "PUT", viewer.id, role);
	place_head(&mp, room.member.token);
	typing_ok(base, viewer.token);
	r = await_typing(&mp, room.member.token, viewer.id, "none");
	expect_typing(r, viewer.id, secret, NULL);
	itest_free(r);
	/* The role goes: the owner's hint there is hidden, not the next. */
	member_role(&room, "DELETE", room.member.id, role);
	typing_ok(base, room.owner.token);
	typing_ok(room.base, viewer.token);
	r = await_typing(&mp, room.member.token, viewer.id, secret);
	expect_typing(r, viewer.id, room.channel, NULL);
	ck_assert_int_eq(count_typing(r, room.owner.id), 0);
	itest_free(r);
	/* Kicked: the owner's hint in general reaches the viewer only. */
	place_head(&vp, viewer.token);
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", room.server,
	    room.member.id);
	expect_no_content(itest_delete(path, room.owner.token));
	free(path);
	typing_ok(room.base, room.owner.token);
	r = await_typing(&vp, viewer.token, room.owner.id, "none");
	itest_free(r);
	expect_no_typing_from(&mp, room.member.token, room.owner.id);
	place_free(&mp);
	place_free(&vp);
	free(role);
	free(secret);
	free(base);
	chat_user_free(&viewer);
	chat_room_close(&room);
}
END_TEST

/* An ephemeral value the API did not make: 400, field ephemeral. */
START_TEST(test_bad_ephemeral)
{
	static const char *const bad[] = { "x", "0.1.2", "zz.1.2",
	    "0123456789abcdef.1", "0123456789abcdef.1.2.3" };
	struct itest_response	*r;
	struct chat_user	 u;
	char			*head, *path;
	size_t			 i;

	chat_user(&u, "tybad");
	head = itest_events_head(u.token);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		xasprintf(&path, API_PREFIX "/events?after=%s&timeout=0"
		    "&ephemeral=%s", head, bad[i]);
		r = itest_get(path, u.token);
		itest_expect_invalid(r, "ephemeral");
		itest_free(r);
		free(path);
	}
	free(head);
	chat_user_free(&u);
}
END_TEST

static Suite *
typing_suite(void)
{
	Suite	*s = suite_create("typing");
	TCase	*tc;

	tc = tcase_create("typing");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_typing_live);
	tcase_add_test(tc, test_typing_window);
	tcase_add_test(tc, test_typing_gathered);
	tcase_add_test(tc, test_typing_after_message);
	tcase_add_test(tc, test_typing_throttle);
	tcase_add_test(tc, test_typing_private_channel);
	tcase_add_test(tc, test_typing_needs_send);
	tcase_add_test(tc, test_typing_dm);
	tcase_add_test(tc, test_typing_refused);
	tcase_add_test(tc, test_typing_after_losing_access);
	tcase_add_test(tc, test_bad_ephemeral);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(typing_suite());
}
