/* SPDX-License-Identifier: ISC */
/*
 * itest_access.c: what a user may no longer read stays unread (issue 16).
 * A parked long-poll answers 404 once its user is kicked or loses view of
 * the channel, and 401 once the token it was parked with is revoked
 * (logout-all, a new password), never with what was posted since; a
 * deleted or edited message's older text is gone from /events too; a
 * member reads no server event from before they joined; one user parks
 * at most max_parked_per_user polls in a worker.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "check_run.h"

#define POLL_WAIT	20	/* seconds a test poll would wait */
#define ANSWER_WITHIN	3.0	/* seconds an answer may take (loaded CI) */
#define PARK_MS		600	/* for a started poll to be parked */

/* Two users in a channel, and the id of the member's first message. */
struct site {
	struct chat_room	 room;
	char			*last;
};

/* Make a site; the member posted one message. */
static void
site_open(struct site *s, const char *prefix)
{
	chat_room_open(&s->room, prefix);
	s->last = chat_post(&s->room.member, s->room.base, "hello");
}

/* Free a site. */
static void
site_close(struct site *s)
{
	chat_room_close(&s->room);
	free(s->last);
}

/* Park a per-channel poll as token, after the site's newest message. */
static struct itest_pending *
park_channel(const struct site *s, const char *token)
{
	struct itest_pending	*pd;
	char			*query, *path;

	xasprintf(&query, "after=%s&wait=%d", s->last, POLL_WAIT);
	path = chat_path(s->room.base, NULL, query);
	pd = itest_start(path, token);
	free(path);
	free(query);
	return pd;
}

/* Park an /events poll as token after its head cursor. */
static struct itest_pending *
park_events(const char *token)
{
	struct itest_pending	*pd;
	char			*head, *path;

	head = itest_events_head(token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d", head,
	    POLL_WAIT);
	pd = itest_start(path, token);
	free(path);
	free(head);
	return pd;
}

/* Post as u to the site's channel (201 asserted). */
static void
post(const struct site *s, const struct chat_user *u, const char *text)
{
	free(chat_post(u, s->room.base, text));
}

/* Send a request without a body and assert its status. */
static void
expect_status(const char *method, const char *path, const char *token,
    long status)
{
	struct itest_response	*r;

	r = itest_request(method, path, token, NULL, NULL, 0);
	ck_assert_msg(r->status == status, "expected %ld: %s", status,
	    itest_describe(r));
	itest_free(r);
}

/*
 * The reproduction: a member parks a channel poll and an /events poll and
 * is kicked; the owner posts.  The channel poll answers 404 at once and
 * the events poll hands over the member.leave, never the new message.
 */
START_TEST(test_kicked_member_polls)
{
	struct itest_response	*r;
	struct itest_pending	*chan, *events;
	struct site		 s;
	char			*path;

	site_open(&s, "acckick");
	chan = park_channel(&s, s.room.member.token);
	events = park_events(s.room.member.token);
	itest_sleep_ms(PARK_MS);
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", s.room.server,
	    s.room.member.id);
	expect_status("DELETE", path, s.room.owner.token, 204);
	free(path);
	post(&s, &s.room.owner, "after the kick");
	itest_expect_refused(chan, 404, "not_found", "after the kick",
	    ANSWER_WITHIN);

	r = itest_finish(events);
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "member.leave");
	ck_assert_msg(strstr(r->body, "after the kick") == NULL, "the events "
	    "poll handed over the message: %s", itest_describe(r));
	itest_free(r);
	site_close(&s);
}
END_TEST

/*
 * A stolen token's parked polls (a channel, a DM, /events) answer 401
 * when its owner logs out everywhere, before anything posted after it.
 */
START_TEST(test_logout_all_ends_stolen_polls)
{
	struct itest_pending	*chan, *events, *dm;
	struct site		 s;
	char			*stolen, *dm_id, *dm_base, *query, *path;
	char			*first;

	site_open(&s, "acclogout");
	stolen = chat_login(&s.room.member);
	dm_id = chat_dm(&s.room.owner, &s.room.member);
	xasprintf(&dm_base, API_PREFIX "/dms/%s", dm_id);
	first = chat_post(&s.room.owner, dm_base, "dm hello");
	xasprintf(&query, "after=%s&wait=%d", first, POLL_WAIT);
	path = chat_path(dm_base, NULL, query);
	chan = park_channel(&s, stolen);
	events = park_events(stolen);
	dm = itest_start(path, stolen);
	itest_sleep_ms(PARK_MS);

	expect_status("POST", API_PREFIX "/auth/logout-all",
	    s.room.member.token, 204);
	post(&s, &s.room.owner, "secret after logout");
	free(chat_post(&s.room.owner, dm_base, "secret dm after logout"));
	itest_expect_refused(chan, 401, "unauthorized", "secret after logout",
	    ANSWER_WITHIN);
	itest_expect_refused(events, 401, "unauthorized", "secret",
	    ANSWER_WITHIN);
	itest_expect_refused(dm, 401, "unauthorized", "secret dm after logout",
	    ANSWER_WITHIN);
	/* And over REST, as before. */
	expect_status("GET", API_PREFIX "/users/@me", stolen, 401);
	free(first);
	free(path);
	free(query);
	free(dm_base);
	free(dm_id);
	free(stolen);
	site_close(&s);
}
END_TEST

/* A new password revokes the other sessions' parked polls too. */
START_TEST(test_password_change_ends_polls)
{
	struct itest_response	*r;
	struct itest_pending	*chan;
	struct site		 s;
	char			*stolen, *sql;

	site_open(&s, "accpass");
	stolen = chat_login(&s.room.member);
	chan = park_channel(&s, stolen);
	itest_sleep_ms(PARK_MS);
	r = itest_send("PATCH", API_PREFIX "/users/@me", s.room.member.token,
	    "{\"password\":\"a brand new secret\","
	    "\"current_password\":\"correct horse battery\"}");
	itest_expect(r, 200);
	itest_free(r);
	post(&s, &s.room.owner, "secret after the new password");
	itest_expect_refused(chan, 401, "unauthorized", "secret after",
	    ANSWER_WITHIN);
	/* One announcement of the change (the other hosts read it). */
	xasprintf(&sql, "SELECT COUNT(*) FROM events WHERE type ="
	    " 'account.update' AND user_id = %s", s.room.member.id);
	ck_assert_int_eq(itest_sql_number(sql), 1);
	free(sql);
	free(stolen);
	site_close(&s);
}
END_TEST

/*
 * A member whose roles no longer let them view channels: their parked
 * channel poll answers 404, as REST does from then on.
 */
START_TEST(test_lost_view_ends_poll)
{
	struct itest_response	*r;
	struct itest_pending	*chan;
	struct site		 s;
	char			*path, *roles;

	site_open(&s, "accview");
	xasprintf(&roles, API_PREFIX "/servers/%s/roles", s.room.server);
	r = itest_get(roles, s.room.owner.token);
	itest_expect(r, 200);
	xasprintf(&path, "%s/%s", roles, itest_str(r, "0.id"));
	itest_free(r);
	chan = park_channel(&s, s.room.member.token);
	itest_sleep_ms(PARK_MS);
	r = itest_send("PATCH", path, s.room.owner.token,
	    "{\"permissions\":[\"send_messages\"]}");
	itest_expect(r, 200);
	itest_free(r);
	post(&s, &s.room.owner, "after the view went");
	r = itest_finish(chan);
	ck_assert_msg(r->status == 404 || r->status == 403, "expected the "
	    "poll refused: %s", itest_describe(r));
	ck_assert_msg(strstr(r->body, "after the view went") == NULL &&
	    r->seconds < ANSWER_WITHIN, "the poll handed over the message "
	    "or hung: %s", itest_describe(r));
	itest_free(r);
	free(path);
	free(roles);
	site_close(&s);
}
END_TEST

/*
 * Every event token may read from the start of the log, polled page by
 * page (an answer ends at a change of the user's scope): the pages'
 * bodies one after the other, as a new string.
 */
static char *
events_from_start(const char *token)
{
	struct itest_response	*r;
	char			*all = xstrdup(""), *cursor, *path, *more;
	size_t			 n;

	cursor = xstrdup("0");
	do {
		xasprintf(&path, API_PREFIX "/events?after=%s&timeout=0",
		    cursor);
		r = itest_get(path, token);
		itest_expect(r, 200);
		n = itest_at(r->json, "events")->count;
		free(cursor);
		cursor = xstrdup(itest_str(r, "cursor"));
		xasprintf(&more, "%s%s", all, r->body);
		free(all);
		all = more;
		itest_free(r);
		free(path);
	} while (n > 0);
	free(cursor);
	return all;
}

/*
 * The reproduction: A deletes "OOPS my password is hunter2"; nobody reads
 * it from /events afterwards (the member who saw it live included), and
 * an edit's older text is gone from the older events the same way.
 */
START_TEST(test_deleted_text_gone_from_events)
{
	struct itest_response	*r;
	struct site		 s;
	struct chat_user	 late;
	char			*oops, *edited, *path, *all, *drafts;

	site_open(&s, "acctext");
	oops = chat_post(&s.room.member, s.room.base,
	    "OOPS my password is hunter2");
	edited = chat_post(&s.room.member, s.room.base, "meet at the old pier");
	path = chat_path(s.room.base, oops, NULL);
	expect_status("DELETE", path, s.room.member.token, 204);
	free(path);
	path = chat_path(s.room.base, edited, NULL);
	r = itest_send("PATCH", path, s.room.member.token,
	    "{\"content\":\"meet at the station\"}");
	itest_expect(r, 200);
	itest_free(r);
	free(path);

	all = events_from_start(s.room.owner.token);
	ck_assert_msg(strstr(all, "message.delete") != NULL &&
	    strstr(all, "meet at the station") != NULL, "the events are not "
	    "there: %s", all);
	ck_assert_msg(strstr(all, "hunter2") == NULL, "deleted text in "
	    "/events: %s", all);
	ck_assert_msg(strstr(all, "old pier") == NULL, "text from before an "
	    "edit in /events: %s", all);
	free(all);
	/* In the database, too. */
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM events WHERE"
	    " data LIKE '%hunter2%' OR data LIKE '%old pier%'"), 0);

	/* Edited twice, then deleted: no draft is left in any event. */
	drafts = chat_post(&s.room.member, s.room.base, "draft alpha");
	path = chat_path(s.room.base, drafts, NULL);
	r = itest_send("PATCH", path, s.room.member.token,
	    "{\"content\":\"draft beta\"}");
	itest_expect(r, 200);
	itest_free(r);
	r = itest_send("PATCH", path, s.room.member.token,
	    "{\"content\":\"draft gamma\"}");
	itest_expect(r, 200);
	itest_free(r);
	expect_status("DELETE", path, s.room.member.token, 204);
	free(path);
	free(drafts);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM events WHERE"
	    " data LIKE '%draft alpha%' OR data LIKE '%draft beta%'"
	    " OR data LIKE '%draft gamma%'"), 0);

	/* A later member reads no event from before they joined. */
	chat_user(&late, "acctextl");
	chat_join(&s.room.owner, s.room.server, &late);
	all = events_from_start(late.token);
	ck_assert_msg(strstr(all, "message.") == NULL && strstr(all,
	    "meet at") == NULL && strstr(all, "member.join") != NULL,
	    "events from before the join, or not the join: %s", all);
	free(all);
	post(&s, &s.room.owner, "welcome late one");
	all = events_from_start(late.token);
	ck_assert_msg(strstr(all, "welcome late one") != NULL, "no event "
	    "after the join: %s", all);
	free(all);
	chat_user_free(&late);
	free(oops);
	free(edited);
	site_close(&s);
}
END_TEST

/*
 * One account parks more /events polls than every worker together may
 * hold for it: the oldest beyond the cap answer at once, empty, with
 * their cursor, and nothing is refused.
 */
START_TEST(test_parked_polls_capped_per_user)
{
	struct itest_pending	**pds;
	struct itest_response	*r;
	struct chat_user	 u;
	pid_t			 workers[64];
	char			*head, *path;
	long			 cap;
	int			 n, i, early = 0, late = 0;

	cap = itest_conf_int("server", "max_parked_per_user", 20);
	n = itest_worker_pids(workers, 64);
	ck_assert_int_gt(n, 0);
	n = (int)cap * n + 3;
	chat_user(&u, "acccap");
	head = itest_events_head(u.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=6", head);
	pds = xcalloc((size_t)n, sizeof *pds);
	for (i = 0; i < n; i++)
		pds[i] = itest_start(path, u.token);
	for (i = 0; i < n; i++) {
		r = itest_finish(pds[i]);
		itest_expect(r, 200);
		ck_assert_msg(itest_at(r->json, "events")->count == 0,
		    "%s", itest_describe(r));
		ck_assert_msg(itest_str(r, "cursor") != NULL &&
		    strtoull(itest_str(r, "cursor"), NULL, 10) >=
		    strtoull(head, NULL, 10), "no cursor: %s",
		    itest_describe(r));
		if (r->seconds < 4.0)
			early++;
		else
			late++;
		itest_free(r);
	}
	ck_assert_msg(early >= 3, "only %d of %d polls answered early (cap "
	    "%ld)", early, n, cap);
	ck_assert_msg(late >= 1, "no poll stayed parked");
	free(pds);
	free(path);
	free(head);
	chat_user_free(&u);
}
END_TEST

/* The suite. */
static Suite *
access_suite(void)
{
	Suite	*s = suite_create("access");
	TCase	*tc;

	tc = tcase_create("polls");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kicked_member_polls);
	tcase_add_test(tc, test_logout_all_ends_stolen_polls);
	tcase_add_test(tc, test_password_change_ends_polls);
	tcase_add_test(tc, test_lost_view_ends_poll);
	tcase_add_test(tc, test_parked_polls_capped_per_user);
	suite_add_tcase(s, tc);
	tc = tcase_create("events");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_deleted_text_gone_from_events);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite against the stack. */
int
main(void)
{
	itest_init();
	return check_run(access_suite());
}
