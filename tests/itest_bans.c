/* SPDX-License-Identifier: ISC */
/*
 * itest_bans.c: bans (API.md, Bans; issue 28).  Who may ban whom (the
 * kick hierarchy, never the owner, never yourself, any existing user),
 * the reason and its checks, a ban keeping its user out of every invite
 * until it is lifted, the list paged by user id, a banned member removed
 * as a kick removes (parked polls, member.leave and nothing after), and
 * the sweep of their recent messages with message.delete events.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "check_run.h"

#define POLL_WAIT	20	/* seconds a test poll would wait */
#define ANSWER_WITHIN	3.0	/* seconds an answer may take (loaded CI) */
#define PARK_MS		600	/* for a started poll to be parked */
#define SWEEP_MESSAGES	3000	/* messages of the measured sweep */
#define UNKNOWN_USER	"999999999999999"

/* A server's owner, a moderator holding ban_members, and a plain member. */
struct site {
	struct chat_room	 room;
	struct chat_user	 mod;
	char			*mod_role;
};

/* Assert a 204 answer. */
static void
expect_empty(struct itest_response *r)
{
	ck_assert_msg(r->status == 204, "expected 204: %s", itest_describe(r));
}

/* Make a role in the site's server as its owner; its id. */
static char *
role_new(const struct site *s, const char *name, const char *perms,
    int position)
{
	struct itest_response	*r;
	char			*path, *id;

	xasprintf(&path, API_PREFIX "/servers/%s/roles", s->room.server);
	r = itest_send("POST", path, s->room.owner.token, "{\"name\":\"%s\","
	    "\"permissions\":[%s],\"position\":%d}", name, perms, position);
	free(path);
	itest_expect(r, 201);
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	return id;
}

/* Give a member a role of the site's server (204 asserted). */
static void
role_give(const struct site *s, const struct chat_user *u, const char *role)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, API_PREFIX "/servers/%s/members/%s/roles/%s",
	    s->room.server, u->id, role);
	r = itest_request("PUT", path, s->room.owner.token, NULL, NULL, 0);
	free(path);
	expect_empty(r);
	itest_free(r);
}

/* Make a site: the moderator's role has ban_members at position 2. */
static void
site_open(struct site *s, const char *prefix)
{
	char	*who;

	chat_room_open(&s->room, prefix);
	xasprintf(&who, "%sd", prefix);
	chat_user(&s->mod, who);
	free(who);
	chat_join(&s->room.owner, s->room.server, &s->mod);
	s->mod_role = role_new(s, "mods", "\"ban_members\"", 2);
	role_give(s, &s->mod, s->mod_role);
}

/* Free a site (the accounts and server stay). */
static void
site_close(struct site *s)
{
	chat_room_close(&s->room);
	chat_user_free(&s->mod);
	free(s->mod_role);
}

/* The path of a ban (user NULL: the list, with query if any). */
static char *
ban_path(const struct site *s, const char *user, const char *query)
{
	char	*path;

	if (user != NULL)
		xasprintf(&path, API_PREFIX "/servers/%s/bans/%s",
		    s->room.server, user);
	else
		xasprintf(&path, API_PREFIX "/servers/%s/bans%s%s",
		    s->room.server, query != NULL ? "?" : "",
		    query != NULL ? query : "");
	return path;
}

/* PUT a ban of user as actor with a body (JSON text, or NULL: none). */
static struct itest_response *
ban(const struct site *s, const struct chat_user *actor, const char *user,
    const char *body)
{
	struct itest_response	*r;
	char			*path;

	path = ban_path(s, user, NULL);
	r = itest_request("PUT", path, actor->token, body != NULL ?
	    "application/json" : NULL, body, body != NULL ? strlen(body) : 0);
	free(path);
	return r;
}

/* Ban and assert the answer: 204, or the error status and code. */
static void
expect_ban(const struct site *s, const struct chat_user *actor,
    const char *user, const char *body, long status, const char *code)
{
	struct itest_response	*r;

	r = ban(s, actor, user, body);
	if (code == NULL)
		ck_assert_msg(r->status == status, "expected %ld: %s", status,
		    itest_describe(r));
	else
		itest_expect_error(r, status, code);
	itest_free(r);
}

/* Send a request without a body to a ban path; the caller frees it. */
static struct itest_response *
ban_request(const struct site *s, const struct chat_user *actor,
    const char *method, const char *user, const char *query)
{
	struct itest_response	*r;
	char			*path;

	path = ban_path(s, user, query);
	r = itest_request(method, path, actor->token, NULL, NULL, 0);
	free(path);
	return r;
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

/* Assert whether u is a member of the site's server. */
static void
expect_member(const struct site *s, const struct chat_user *u, int member)
{
	char	*path;

	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", s->room.server,
	    u->id);
	expect_status("GET", path, s->room.owner.token, member ? 200 : 404);
	free(path);
}

/*
 * Who may ban whom: ban_members and a higher rank than a member target;
 * never the owner (403), never yourself (400), an unknown user 404; the
 * inputs checked; a second ban replaces the reason; unban once.
 */
START_TEST(test_who_may_ban)
{
	struct itest_response	*r;
	struct site		 s;
	struct chat_user	 high;
	char			*high_role, *long_reason, *body;

	site_open(&s, "banwho");
	chat_user(&high, "banwhoh");
	chat_join(&s.room.owner, s.room.server, &high);
	high_role = role_new(&s, "high", "", 3);
	role_give(&s, &high, high_role);

	/* Without ban_members; above the moderator; the owner; yourself. */
	expect_ban(&s, &s.room.member, high.id, NULL, 403,
	    "missing_permission");
	expect_ban(&s, &s.mod, high.id, NULL, 403, "missing_permission");
	expect_ban(&s, &s.mod, s.room.owner.id, NULL, 403,
	    "missing_permission");
	expect_ban(&s, &s.mod, s.mod.id, NULL, 400, "validation_failed");
	expect_ban(&s, &s.room.owner, s.room.owner.id, NULL, 400,
	    "validation_failed");
	expect_ban(&s, &s.mod, "@me", NULL, 400, "validation_failed");
	expect_ban(&s, &s.mod, UNKNOWN_USER, NULL, 404, "not_found");
	expect_member(&s, &high, 1);

	/* Bad input, each refused with the field named. */
	long_reason = xcalloc(514, 1);
	memset(long_reason, 'x', 513);
	xasprintf(&body, "{\"reason\":\"%s\"}", long_reason);
	r = ban(&s, &s.mod, s.room.member.id, body);
	itest_expect_invalid(r, "reason");
	itest_free(r);
	free(body);
	r = ban(&s, &s.mod, s.room.member.id, "{\"reason\":\"a\\u0007b\"}");
	itest_expect_invalid(r, "reason");
	itest_free(r);
	r = ban(&s, &s.mod, s.room.member.id, "{\"reason\":5}");
	itest_expect_invalid(r, "reason");
	itest_free(r);
	r = ban(&s, &s.mod, s.room.member.id,
	    "{\"delete_message_seconds\":604801}");
	itest_expect_invalid(r, "delete_message_seconds");
	itest_free(r);
	r = ban(&s, &s.mod, s.room.member.id,
	    "{\"delete_message_seconds\":-1}");
	itest_expect_invalid(r, "delete_message_seconds");
	itest_free(r);
	r = ban(&s, &s.mod, s.room.member.id,
	    "{\"delete_message_seconds\":\"60\"}");
	itest_expect_invalid(r, "delete_message_seconds");
	itest_free(r);
	expect_member(&s, &s.room.member, 1);

	/* The ban: the member is gone; a second one replaces the reason. */
	long_reason[512] = '\0';
	expect_ban(&s, &s.mod, s.room.member.id, "{\"reason\":\"spam\"}", 204,
	    NULL);
	expect_member(&s, &s.room.member, 0);
	r = ban_request(&s, &s.mod, "GET", s.room.member.id, NULL);
	itest_expect(r, 200);
	itest_expect_str(r, "user.id", s.room.member.id);
	itest_expect_str(r, "user.username", s.room.member.username);
	itest_expect_str(r, "reason", "spam");
	ck_assert_msg(itest_str(r, "created_at") != NULL, "no created_at: %s",
	    itest_describe(r));
	itest_free(r);
	xasprintf(&body, "{\"reason\":\"%s\"}", long_reason);
	expect_ban(&s, &s.mod, s.room.member.id, body, 204, NULL);
	free(body);
	r = ban_request(&s, &s.room.owner, "GET", s.room.member.id, NULL);
	itest_expect(r, 200);
	itest_expect_str(r, "reason", long_reason);
	itest_free(r);
	/* No body at all: the reason becomes "". */
	expect_ban(&s, &s.mod, s.room.member.id, NULL, 204, NULL);
	r = ban_request(&s, &s.mod, "GET", s.room.member.id, NULL);
	itest_expect_str(r, "reason", "");
	itest_free(r);

	/* Reading bans needs ban_members; one not banned is 404. */
	r = ban_request(&s, &high, "GET", s.room.member.id, NULL);
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	r = ban_request(&s, &high, "GET", NULL, NULL);
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	r = ban_request(&s, &high, "DELETE", s.room.member.id, NULL);
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	r = ban_request(&s, &s.room.member, "GET", NULL, NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = ban_request(&s, &s.mod, "GET", high.id, NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);

	/* Unban once; a second time there is no ban. */
	r = ban_request(&s, &s.mod, "DELETE", s.room.member.id, NULL);
	expect_empty(r);
	itest_free(r);
	r = ban_request(&s, &s.mod, "DELETE", s.room.member.id, NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);

	free(long_reason);
	free(high_role);
	chat_user_free(&high);
	site_close(&s);
}
END_TEST

/*
 * A ban keeps its user out of every invite (403 banned, the preview still
 * answering) until it is lifted; a user who never joined can be banned
 * ahead of time.
 */
START_TEST(test_banned_cannot_join)
{
	struct itest_response	*r;
	struct site		 s;
	struct chat_user	 outsider;
	char			*code, *path;

	site_open(&s, "banjoin");
	chat_user(&outsider, "banjoino");
	code = chat_invite(&s.room.owner, s.room.server,
	    "{\"max_uses\":1}");
	xasprintf(&path, API_PREFIX "/invites/%s", code);

	expect_ban(&s, &s.mod, outsider.id, "{\"reason\":\"known troll\"}",
	    204, NULL);
	expect_ban(&s, &s.mod, s.room.member.id, NULL, 204, NULL);
	r = itest_get(path, outsider.token);
	itest_expect(r, 200);
	itest_free(r);
	r = itest_send("POST", path, outsider.token, "{}");
	itest_expect_error(r, 403, "banned");
	itest_free(r);
	r = itest_send("POST", path, s.room.member.token, "{}");
	itest_expect_error(r, 403, "banned");
	itest_free(r);
	expect_member(&s, &outsider, 0);
	expect_member(&s, &s.room.member, 0);
	/* The refused joins did not use the one use up: it joins below. */
	r = ban_request(&s, &s.mod, "DELETE", outsider.id, NULL);
	expect_empty(r);
	itest_free(r);
	r = itest_send("POST", path, outsider.token, "{}");
	itest_expect(r, 200);
	itest_free(r);
	expect_member(&s, &outsider, 1);

	free(path);
	free(code);
	chat_user_free(&outsider);
	site_close(&s);
}
END_TEST

/* Compare two id strings as numbers, for qsort. */
static int
id_cmp(const void *a, const void *b)
{
	unsigned long long	x, y;

	x = strtoull(*(char *const *)a, NULL, 10);
	y = strtoull(*(char *const *)b, NULL, 10);
	return x < y ? -1 : x > y;
}

/* The ban list comes in user id order, paged with after and limit. */
START_TEST(test_list_paged)
{
	struct itest_response	*r;
	struct site		 s;
	struct chat_user	 u[3];
	char			*ids[3], *query;
	int			 i;

	site_open(&s, "banlist");
	for (i = 0; i < 3; i++) {
		chat_user(&u[i], "banlistu");
		ids[i] = u[i].id;
	}
	/* Banned in reverse order: the list still goes by id. */
	for (i = 2; i >= 0; i--)
		expect_ban(&s, &s.mod, u[i].id, NULL, 204, NULL);
	qsort(ids, 3, sizeof ids[0], id_cmp);

	r = ban_request(&s, &s.mod, "GET", NULL, "limit=2");
	itest_expect(r, 200);
	ck_assert_uint_eq(r->json->count, 2);
	itest_expect_str(r, "0.user.id", ids[0]);
	itest_expect_str(r, "1.user.id", ids[1]);
	itest_free(r);
	xasprintf(&query, "after=%s&limit=2", ids[1]);
	r = ban_request(&s, &s.mod, "GET", NULL, query);
	free(query);
	itest_expect(r, 200);
	ck_assert_uint_eq(r->json->count, 1);
	itest_expect_str(r, "0.user.id", ids[2]);
	itest_free(r);
	r = ban_request(&s, &s.mod, "GET", NULL, NULL);
	itest_expect(r, 200);
	ck_assert_uint_eq(r->json->count, 3);
	itest_free(r);
	r = ban_request(&s, &s.mod, "GET", NULL, "limit=0");
	itest_expect_invalid(r, "limit");
	itest_free(r);
	r = ban_request(&s, &s.mod, "GET", NULL, "limit=101");
	itest_expect_invalid(r, "limit");
	itest_free(r);

	for (i = 0; i < 3; i++)
		chat_user_free(&u[i]);
	site_close(&s);
}
END_TEST

/* The posting rows of the search index that hold a message's id. */
static long long
postings_holding(const char *id)
{
	return itest_sql_numberf("SELECT COUNT(*) FROM message_postings WHERE"
	    " word = 'sweep' AND CONCAT(',', ids, ',') LIKE '%%,%s:%%'", id);
}

/*
 * delete_message_seconds deletes the banned user's messages of that time
 * in the server's channels, as DELETE would (message.delete events, the
 * text erased from older events); older ones stay, and so do their DMs.
 */
START_TEST(test_recent_messages_deleted)
{
	struct itest_response	*r;
	struct site		 s;
	char			*old, *recent[2], *dm, *dm_base, *head, *path;
	char			*sql;
	int			 i;

	site_open(&s, "bansweep");
	old = chat_post(&s.room.member, s.room.base, "sweep old one");
	recent[0] = chat_post(&s.room.member, s.room.base, "sweep recent one");
	recent[1] = chat_post(&s.room.member, s.room.base, "sweep recent two");
	dm = chat_dm(&s.room.member, &s.room.owner);
	xasprintf(&dm_base, API_PREFIX "/dms/%s", dm);
	free(chat_post(&s.room.member, dm_base, "sweep a dm"));
	xasprintf(&sql, "UPDATE messages SET created_at = NOW(3) - INTERVAL 2"
	    " DAY WHERE id = %s", old);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);
	/* Indexed for search (the keeper may hold the queue a moment). */
	for (i = 0; i < 100 && itest_sql_number("SELECT COUNT(*) FROM"
	    " search_queue") > 0; i++) {
		ck_assert_int_eq(itest_sql("CALL message_words_drain(100000,"
		    " @n)"), 0);
		usleep(50000);
	}
	ck_assert_int_eq(postings_holding(recent[0]), 1);
	head = itest_events_head(s.room.owner.token);

	expect_ban(&s, &s.mod, s.room.member.id,
	    "{\"delete_message_seconds\":86400}", 204, NULL);

	r = chat_history(&s.room.owner, s.room.base, NULL);
	ck_assert_msg(chat_holds(r, old), "the older message went: %s",
	    itest_describe(r));
	for (i = 0; i < 2; i++)
		ck_assert_msg(!chat_holds(r, recent[i]), "a recent message "
		    "stayed: %s", itest_describe(r));
	itest_free(r);
	r = chat_history(&s.room.owner, dm_base, NULL);
	ck_assert_msg(strstr(r->body, "sweep a dm") != NULL, "the DM went: "
	    "%s", itest_describe(r));
	itest_free(r);

	/* The owner's /events: member.leave, then one delete per message. */
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=1", head);
	r = itest_get(path, s.room.owner.token);
	free(path);
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "member.leave");
	itest_expect_str(r, "events.1.type", "message.delete");
	itest_expect_str(r, "events.1.data.id", recent[0]);
	itest_expect_str(r, "events.2.type", "message.delete");
	itest_expect_str(r, "events.2.data.id", recent[1]);
	ck_assert_msg(itest_at(r->json, "events.3") == NULL, "more events: "
	    "%s", itest_describe(r));
	itest_free(r);
	/* The text is gone from the stored events, as after a DELETE. */
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM events"
	    " WHERE data LIKE '%sweep recent%'"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM events"
	    " WHERE data LIKE '%sweep old one%'"), 1);
	/* And their words from the search index. */
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(postings_holding(recent[i]), 0);
	ck_assert_int_eq(postings_holding(old), 1);

	free(head);
	free(dm_base);
	free(dm);
	free(old);
	free(recent[0]);
	free(recent[1]);
	site_close(&s);
}
END_TEST

/*
 * A banned member is removed as a kick removes: their parked channel
 * poll answers 404 at once, their /events poll hands over member.leave,
 * and nothing of the server comes after it.
 */
START_TEST(test_banned_member_polls)
{
	struct itest_response	*r;
	struct itest_pending	*chan, *events;
	struct site		 s;
	char			*last, *head, *query, *path, *cursor;

	site_open(&s, "banpoll");
	last = chat_post(&s.room.member, s.room.base, "hello");
	xasprintf(&query, "after=%s&wait=%d", last, POLL_WAIT);
	path = chat_path(s.room.base, NULL, query);
	chan = itest_start(path, s.room.member.token);
	free(path);
	free(query);
	head = itest_events_head(s.room.member.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d", head,
	    POLL_WAIT);
	events = itest_start(path, s.room.member.token);
	free(path);
	itest_sleep_ms(PARK_MS);

	expect_ban(&s, &s.mod, s.room.member.id, NULL, 204, NULL);
	free(chat_post(&s.room.owner, s.room.base, "after the ban"));
	itest_expect_refused(chan, 404, "not_found", "after the ban",
	    ANSWER_WITHIN);
	r = itest_finish(events);
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "member.leave");
	itest_expect_str(r, "events.0.data.user_id", s.room.member.id);
	ck_assert_msg(strstr(r->body, "after the ban") == NULL, "the events "
	    "poll handed over the message: %s", itest_describe(r));
	cursor = xstrdup(itest_str(r, "cursor"));
	itest_free(r);

	/* After the member.leave: nothing of the server. */
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=1", cursor);
	r = itest_get(path, s.room.member.token);
	free(path);
	itest_expect(r, 200);
	ck_assert_msg(itest_at(r->json, "events.0") == NULL, "events after "
	    "the ban: %s", itest_describe(r));
	itest_free(r);

	free(cursor);
	free(head);
	free(last);
	site_close(&s);
}
END_TEST

/*
 * The sweep of thousands of messages (docs/benchmarks.md, "Ban sweep"):
 * every one deleted with its message.delete event and its text erased
 * from its message.create; prints the time the ban took and so what one
 * step of BANS_SWEEP_STEP (100) messages holds its locks for.
 */
START_TEST(test_sweep_thousands)
{
	struct site	 s;
	char		*sql;
	double		 t0, took;
	int		 i;

	site_open(&s, "banmany");
	for (i = 0; i < SWEEP_MESSAGES; i++)
		free(chat_post(&s.room.member, s.room.base, "flood"));
	t0 = itest_now();
	expect_ban(&s, &s.mod, s.room.member.id,
	    "{\"delete_message_seconds\":3600}", 204, NULL);
	took = itest_now() - t0;
	fprintf(stderr, "ban sweep: %d messages deleted in %.3f s, %.1f ms "
	    "a step of 100\n", SWEEP_MESSAGES, took,
	    took * 1000 / ((SWEEP_MESSAGES + 99) / 100));

	xasprintf(&sql, "SELECT COUNT(*) FROM messages WHERE author_id = %s"
	    " AND deleted = 0", s.room.member.id);
	ck_assert_int_eq(itest_sql_number(sql), 0);
	free(sql);
	xasprintf(&sql, "SELECT COUNT(*) FROM events WHERE channel_id = %s"
	    " AND type = 'message.delete'", s.room.channel);
	ck_assert_int_eq(itest_sql_number(sql), SWEEP_MESSAGES);
	free(sql);
	xasprintf(&sql, "SELECT COUNT(*) FROM events WHERE channel_id = %s"
	    " AND type = 'message.create' AND data LIKE '%%flood%%'",
	    s.room.channel);
	ck_assert_int_eq(itest_sql_number(sql), 0);
	free(sql);
	site_close(&s);
}
END_TEST

/* The suite. */
static Suite *
bans_suite(void)
{
	Suite	*s = suite_create("bans");
	TCase	*tc;

	tc = tcase_create("rules");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_who_may_ban);
	tcase_add_test(tc, test_banned_cannot_join);
	tcase_add_test(tc, test_list_paged);
	suite_add_tcase(s, tc);
	tc = tcase_create("removal");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_recent_messages_deleted);
	tcase_add_test(tc, test_banned_member_polls);
	tcase_add_test(tc, test_sweep_thousands);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite against the stack. */
int
main(void)
{
	itest_init();
	return check_run(bans_suite());
}
