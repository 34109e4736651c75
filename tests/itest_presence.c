/* SPDX-License-Identifier: ISC */
/*
 * itest_presence.c: who is online (API.md, Typing and presence; issue
 * 22) on one app host: an open /events poll makes its user online for
 * the others (presence.update, and `presence` in member lists and DM
 * recipients), a chosen status is shown while connected, invisible shows
 * offline, a status change that others do not see sends nothing, a
 * server of more than 1,000 members hears nothing, and PUT
 * /users/@me/presence refuses what is not a status.  Across two
 * pools and the disconnection: itest_cluster.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "check_run.h"

#define POLL_WAIT	20	/* seconds a parked test poll would wait */
#define SWEEP_WITHIN	4.0	/* seconds a presence.update may take */
#define QUIET_S		3	/* a poll that must see nothing waits this */
#define PARK_MS		600
#define ONLINE_POLL	5	/* seconds: connected 45 s after it ends */
#define BIG_SERVER	1001	/* members: over presence.update's 1,000 */

/* A user whose /events poll stays open in a child for the test. */
struct online {
	struct itest_pending	*poll;
};

/*
 * Open an /events poll for token that stays parked ONLINE_POLL seconds:
 * its user is connected from now until presence_linger after it.
 */
static void
online_start(struct online *o, const char *token)
{
	char	*head, *path;

	head = itest_events_head(token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d", head,
	    ONLINE_POLL);
	o->poll = itest_start(path, token);
	free(path);
	free(head);
	itest_sleep_ms(PARK_MS);
}

/* Wait for the poll's end and forget it. */
static void
online_stop(struct online *o)
{
	itest_free(itest_finish(o->poll));
}

/* PUT /users/@me/presence as a token; the response. */
static struct itest_response *
status_put(const char *token, const char *body)
{
	return itest_send("PUT", API_PREFIX "/users/@me/presence", token,
	    "%s", body);
}

/* Choose a status and assert 204. */
static void
choose_status(const char *token, const char *status)
{
	struct itest_response	*r;

	r = status_put(token, status);
	ck_assert_msg(r->status == 204, "%s", itest_describe(r));
	itest_free(r);
}

/* GET /users/@me/presence reads back the status chosen. */
static void
expect_chosen(const char *token, const char *status)
{
	struct itest_response	*r;

	r = itest_get(API_PREFIX "/users/@me/presence", token);
	itest_expect(r, 200);
	itest_expect_str(r, "status", status);
	itest_free(r);
}

/* The presence of a user in a server's member list, as token sees it. */
static char *
member_presence(const char *token, const char *server, const char *user)
{
	struct itest_response	*r;
	char			*path, *out = NULL;
	const char		*id;
	char			 key[64];
	int			 i;

	xasprintf(&path, API_PREFIX "/servers/%s/members?limit=100", server);
	r = itest_get(path, token);
	itest_expect(r, 200);
	for (i = 0;; i++) {
		snprintf(key, sizeof key, "%d.user.id", i);
		if ((id = itest_str(r, key)) == NULL)
			break;
		if (strcmp(id, user) == 0) {
			snprintf(key, sizeof key, "%d.presence", i);
			ck_assert_msg(itest_str(r, key) != NULL, "%s",
			    itest_describe(r));
			out = xstrdup(itest_str(r, key));
		}
	}
	ck_assert_msg(out != NULL, "user %s not listed: %s", user,
	    itest_describe(r));
	itest_free(r);
	free(path);
	return out;
}

/* Wait up to SWEEP_WITHIN s until the member list shows want. */
static void
expect_member_presence(const char *token, const char *server,
    const char *user, const char *want)
{
	double	until = itest_now() + SWEEP_WITHIN;
	char	*got;

	for (;;) {
		got = member_presence(token, server, user);
		if (strcmp(got, want) == 0 || itest_now() > until)
			break;
		free(got);
		itest_sleep_ms(200);
	}
	ck_assert_msg(strcmp(got, want) == 0, "member %s shows %s, not %s",
	    user, got, want);
	free(got);
}

/*
 * Poll (from a fresh head) until a presence.update about user arrives or
 * timeout seconds pass; its status, or NULL.
 */
static char *
await_update(const char *token, const char *user, int timeout)
{
	struct itest_response	*r;
	char			*head, *path, *eph = NULL, *status = NULL;
	const char		*type, *who;
	double			 until = itest_now() + timeout;
	char			 key[64];
	int			 i;

	head = itest_events_head(token);
	while (status == NULL && itest_now() < until) {
		if (eph != NULL)
			xasprintf(&path, API_PREFIX "/events?after=%s&timeout="
			    "%d&ephemeral=%s", head, timeout, eph);
		else
			xasprintf(&path, API_PREFIX "/events?after=%s&timeout="
			    "%d", head, timeout);
		r = itest_get(path, token);
		free(path);
		itest_expect(r, 200);
		for (i = 0; status == NULL; i++) {
			snprintf(key, sizeof key, "events.%d.type", i);
			if ((type = itest_str(r, key)) == NULL)
				break;
			snprintf(key, sizeof key, "events.%d.data.user_id", i);
			who = itest_str(r, key);
			if (strcmp(type, "presence.update") != 0 || who ==
			    NULL || strcmp(who, user) != 0)
				continue;
			snprintf(key, sizeof key, "events.%d.seq", i);
			ck_assert_msg(itest_at(r->json, key) == NULL,
			    "presence.update with a seq: %s",
			    itest_describe(r));
			snprintf(key, sizeof key, "events.%d.data.status", i);
			status = xstrdup(itest_str(r, key));
		}
		free(head);
		free(eph);
		head = xstrdup(itest_str(r, "cursor"));
		eph = xstrdup(itest_str(r, "ephemeral"));
		itest_free(r);
	}
	free(head);
	free(eph);
	return status;
}

/* Start waiting for a presence.update in a child; a pending request. */
static struct itest_pending *
watch_start(const char *token)
{
	struct itest_pending	*p;
	char			*head, *path;

	head = itest_events_head(token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d", head,
	    POLL_WAIT);
	p = itest_start(path, token);
	free(path);
	free(head);
	itest_sleep_ms(PARK_MS);
	return p;
}

/* The watch ended with presence.update {user, status} in time. */
static void
watch_expect(struct itest_pending *p, const char *user, const char *status)
{
	struct itest_response	*r;

	r = itest_finish(p);
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "presence.update");
	itest_expect_str(r, "events.0.data.user_id", user);
	itest_expect_str(r, "events.0.data.status", status);
	ck_assert_msg(itest_at(r->json, "events.0.seq") == NULL, "%s",
	    itest_describe(r));
	ck_assert_msg(r->seconds < PARK_MS / 1000.0 + SWEEP_WITHIN, "%s",
	    itest_describe(r));
	itest_free(r);
}

/*
 * A member whose poll opens shows online to the others, live and in the
 * member list; one who never polled shows offline.
 */
START_TEST(test_online_when_polling)
{
	struct itest_pending	*watch;
	struct chat_room	 room;
	struct chat_user	 idle;
	struct online		 o;
	char			*got;

	chat_room_open(&room, "pron");
	chat_user(&idle, "pronidle");
	chat_join(&room.owner, room.server, &idle);
	got = member_presence(room.member.token, room.server, idle.id);
	ck_assert_str_eq(got, "offline");
	free(got);
	watch = watch_start(room.member.token);
	online_start(&o, room.owner.token);
	watch_expect(watch, room.owner.id, "online");
	expect_member_presence(room.member.token, room.server, room.owner.id,
	    "online");
	got = member_presence(room.member.token, room.server, idle.id);
	ck_assert_str_eq(got, "offline");
	free(got);
	online_stop(&o);
	chat_user_free(&idle);
	chat_room_close(&room);
}
END_TEST

/*
 * A connected user's chosen status is what the others see; invisible is
 * offline; choosing again what they already see sends nothing.
 */
START_TEST(test_chosen_status)
{
	struct itest_pending	*watch;
	struct chat_room	 room;
	struct online		 o;
	char			*status;

	chat_room_open(&room, "prst");
	online_start(&o, room.owner.token);
	expect_member_presence(room.member.token, room.server, room.owner.id,
	    "online");
	watch = watch_start(room.member.token);
	choose_status(room.owner.token, "{\"status\":\"dnd\"}");
	watch_expect(watch, room.owner.id, "dnd");
	expect_chosen(room.owner.token, "dnd");
	expect_member_presence(room.member.token, room.server, room.owner.id,
	    "dnd");
	watch = watch_start(room.member.token);
	choose_status(room.owner.token, "{\"status\":\"invisible\"}");
	watch_expect(watch, room.owner.id, "offline");
	expect_chosen(room.owner.token, "invisible");
	expect_member_presence(room.member.token, room.server, room.owner.id,
	    "offline");
	/* Invisible again, and still invisible: nothing to tell. */
	choose_status(room.owner.token, "{\"status\":\"invisible\"}");
	status = await_update(room.member.token, room.owner.id, QUIET_S);
	ck_assert_msg(status == NULL, "told %s", status);
	choose_status(room.owner.token, "{\"status\":\"idle\"}");
	expect_member_presence(room.member.token, room.server, room.owner.id,
	    "idle");
	choose_status(room.owner.token, "{\"status\":\"online\"}");
	online_stop(&o);
	chat_room_close(&room);
}
END_TEST

/*
 * An invisible user who connects is never announced, and shows offline
 * in the member list while connected.
 */
START_TEST(test_invisible_connects_unseen)
{
	struct chat_room	 room;
	struct chat_user	 ghost;
	struct online		 o;
	char			*status, *got;

	chat_room_open(&room, "prin");
	chat_user(&ghost, "pringhost");
	chat_join(&room.owner, room.server, &ghost);
	choose_status(ghost.token, "{\"status\":\"invisible\"}");
	online_start(&o, ghost.token);
	status = await_update(room.member.token, ghost.id, QUIET_S);
	ck_assert_msg(status == NULL, "an invisible user was announced %s",
	    status);
	got = member_presence(room.member.token, room.server, ghost.id);
	ck_assert_str_eq(got, "offline");
	free(got);
	online_stop(&o);
	chat_user_free(&ghost);
	chat_room_close(&room);
}
END_TEST

/*
 * DM recipients carry presence, and a DM partner who shares no server
 * hears of the change; a stranger does not.
 */
START_TEST(test_dm_presence)
{
	struct itest_pending	*watch;
	struct itest_response	*r;
	struct chat_user	 a, b, stranger;
	struct online		 o;
	char			*dm, *status;

	chat_user(&a, "prdma");
	chat_user(&b, "prdmb");
	chat_user(&stranger, "prdms");
	dm = chat_dm(&a, &b);
	r = itest_get(API_PREFIX "/dms", b.token);
	itest_expect(r, 200);
	itest_expect_str(r, "0.recipient.id", a.id);
	itest_expect_str(r, "0.recipient.presence", "offline");
	itest_free(r);
	watch = watch_start(b.token);
	online_start(&o, a.token);
	watch_expect(watch, a.id, "online");
	r = itest_get(API_PREFIX "/dms", b.token);
	itest_expect(r, 200);
	itest_expect_str(r, "0.recipient.presence", "online");
	itest_free(r);
	choose_status(a.token, "{\"status\":\"idle\"}");
	status = await_update(stranger.token, a.id, QUIET_S);
	ck_assert_msg(status == NULL, "a stranger was told %s", status);
	online_stop(&o);
	free(dm);
	chat_user_free(&a);
	chat_user_free(&b);
	chat_user_free(&stranger);
}
END_TEST

/*
 * A server of more than 1,000 members: its members hear of nobody's
 * presence (they read it from the member list); one of at most 1,000
 * (the general room, made 1,000 exactly) does.
 */
START_TEST(test_big_server_silent)
{
	struct itest_pending	*watch;
	struct chat_room	 room;
	struct online		 o;
	char			*sql, *prefix, *status;

	chat_room_open(&room, "prbig");
	/* 998 more members, made in the database: nobody signs in as them. */
	prefix = itest_unique("prbigcrowd");
	xasprintf(&sql, "INSERT INTO users (username, email, password_hash)"
	    " SELECT CONCAT('%s', seq), CONCAT('%s', seq, '@example.com'),"
	    " 'none' FROM seq_1_to_%d; INSERT INTO server_members (server_id,"
	    " user_id) SELECT %s, id FROM users WHERE username LIKE '%s%%'",
	    prefix, prefix, BIG_SERVER - 3, room.server, prefix);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);
	/* 1,000 members: still small enough. */
	watch = watch_start(room.member.token);
	online_start(&o, room.owner.token);
	watch_expect(watch, room.owner.id, "online");
	online_stop(&o);
	/* One more: 1,001. The owner's next change reaches nobody. */
	xasprintf(&sql, "INSERT INTO users (username, email, password_hash)"
	    " VALUES ('%slast', '%slast@example.com', 'none');"
	    " INSERT INTO server_members (server_id, user_id) SELECT %s, id"
	    " FROM users WHERE username = '%slast'", prefix, prefix,
	    room.server, prefix);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);
	choose_status(room.owner.token, "{\"status\":\"dnd\"}");
	status = await_update(room.member.token, room.owner.id, QUIET_S);
	ck_assert_msg(status == NULL, "told %s in a server of %d", status,
	    BIG_SERVER);
	expect_member_presence(room.member.token, room.server, room.owner.id,
	    "dnd");
	free(prefix);
	chat_room_close(&room);
}
END_TEST

/* What is not a status: 400, field status. */
START_TEST(test_put_refusals)
{
	static const char *const bad[] = { "{}", "{\"status\":null}",
	    "{\"status\":1}", "{\"status\":\"offline\"}",
	    "{\"status\":\"busy\"}", "{\"status\":\"Online\"}" };
	struct itest_response	*r;
	struct chat_user	 u;
	size_t			 i;

	chat_user(&u, "prbad");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = status_put(u.token, bad[i]);
		itest_expect_invalid(r, "status");
		itest_free(r);
	}
	r = itest_send("PUT", API_PREFIX "/users/@me/presence", NULL,
	    "{\"status\":\"online\"}");
	itest_expect_error(r, 401, "unauthorized");
	itest_free(r);
	chat_user_free(&u);
}
END_TEST

static Suite *
presence_suite(void)
{
	Suite	*s = suite_create("presence");
	TCase	*tc;

	tc = tcase_create("presence");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_online_when_polling);
	tcase_add_test(tc, test_chosen_status);
	tcase_add_test(tc, test_invisible_connects_unseen);
	tcase_add_test(tc, test_dm_presence);
	tcase_add_test(tc, test_big_server_silent);
	tcase_add_test(tc, test_put_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(presence_suite());
}
