/* SPDX-License-Identifier: ISC */
/*
 * itest_dms.c: integration tests of direct messages (API.md, Direct
 * messages): opening a DM channel (get-or-create, also under a race),
 * listing and reading DM channels, the rules on user_id, a non-participant
 * probing DM ids, the dm.create events, and messages in a DM.  The message
 * rules shared with server channels are in itest_messages.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "chat.h"
#include "check_run.h"

#define RACERS	8

/* POST /dms {user_id: <raw JSON>} as u. */
static struct itest_response *
open_dm(const struct chat_user *u, const char *user_id)
{
	return itest_send("POST", API_PREFIX "/dms", u->token,
	    "{\"user_id\":%s}", user_id);
}

/* Assert a DM channel object: id (if given) and recipient. */
static void
expect_dm(struct itest_response *r, const char *prefix, const char *id,
    const struct chat_user *recipient)
{
	char	path[64];

	snprintf(path, sizeof path, "%s%sid", prefix, *prefix ? "." : "");
	ck_assert_msg(itest_str(r, path) != NULL, "no %s: %s", path,
	    itest_describe(r));
	if (id != NULL)
		itest_expect_str(r, path, id);
	snprintf(path, sizeof path, "%s%srecipient.id", prefix,
	    *prefix ? "." : "");
	itest_expect_str(r, path, recipient->id);
	snprintf(path, sizeof path, "%s%srecipient.username", prefix,
	    *prefix ? "." : "");
	itest_expect_str(r, path, recipient->username);
	snprintf(path, sizeof path, "%s%screated_at", prefix,
	    *prefix ? "." : "");
	ck_assert_msg(itest_str(r, path) != NULL, "no %s: %s", path,
	    itest_describe(r));
}

START_TEST(test_open)
{
	struct itest_response	*r;
	struct chat_user	 a, b;
	char			*id, *quoted;

	chat_user(&a, "dm_a");
	chat_user(&b, "dm_b");
	quoted = itest_quote(b.id);
	r = open_dm(&a, quoted);
	itest_expect(r, 201);
	expect_dm(r, "", NULL, &b);
	ck_assert_msg(r->json->count == 3, "a DM channel is {id, recipient, "
	    "created_at}: %s", itest_describe(r));
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);

	/* Again, from either side, as a string or an integer: the same. */
	r = open_dm(&a, quoted);
	itest_expect(r, 200);
	expect_dm(r, "", id, &b);
	itest_free(r);
	r = open_dm(&a, b.id);
	itest_expect(r, 200);
	expect_dm(r, "", id, &b);
	itest_free(r);
	free(quoted);
	quoted = itest_quote(a.id);
	r = open_dm(&b, quoted);
	itest_expect(r, 200);
	expect_dm(r, "", id, &a);
	itest_free(r);
	free(quoted);
	free(id);
	chat_user_free(&a);
	chat_user_free(&b);
}
END_TEST

START_TEST(test_open_errors)
{
	struct itest_response	*r;
	struct chat_user	 a;
	char			*quoted;

	chat_user(&a, "dm_err");
	quoted = itest_quote(a.id);
	r = open_dm(&a, quoted);
	itest_expect_invalid(r, "user_id");
	itest_free(r);
	free(quoted);

	r = itest_send("POST", API_PREFIX "/dms", a.token, "{}");
	itest_expect_invalid(r, "user_id");
	itest_free(r);
	r = open_dm(&a, "null");
	itest_expect_error(r, 400, "validation_failed");
	itest_free(r);
	r = open_dm(&a, "\"abc\"");
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);
	r = open_dm(&a, "-4");
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);
	r = open_dm(&a, "\"18446744073709551615\"");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = itest_request("POST", API_PREFIX "/dms", a.token, NULL, NULL, 0);
	itest_expect_error(r, 400, "invalid_json");
	itest_free(r);
	r = itest_send("POST", API_PREFIX "/dms", NULL, "{\"user_id\":\"1\"}");
	itest_expect_error(r, 401, "unauthorized");
	itest_free(r);
	chat_user_free(&a);
}
END_TEST

START_TEST(test_open_race)
{
	struct itest_response	*r;
	struct chat_user	 a, b;
	const char		*tokens[RACERS], *bodies[RACERS];
	char			*body_a, *body_b, *ids[RACERS];
	long			 status[RACERS];
	int			 i, created = 0;

	chat_user(&a, "race_a");
	chat_user(&b, "race_b");
	xasprintf(&body_a, "{\"user_id\":\"%s\"}", b.id);
	xasprintf(&body_b, "{\"user_id\":\"%s\"}", a.id);
	for (i = 0; i < RACERS; i++) {
		tokens[i] = i % 2 ? b.token : a.token;
		bodies[i] = i % 2 ? body_b : body_a;
	}
	chat_race(RACERS, "POST", API_PREFIX "/dms", tokens, bodies, status,
	    ids);
	for (i = 0; i < RACERS; i++) {
		ck_assert_msg(status[i] == 201 || status[i] == 200,
		    "racer %d: status %ld", i, status[i]);
		created += status[i] == 201;
		ck_assert_msg(strcmp(ids[i], ids[0]) == 0, "racers got "
		    "different DM channels: %s and %s", ids[0], ids[i]);
	}
	ck_assert_msg(created == 1, "%d racers created the DM channel",
	    created);
	r = itest_get(API_PREFIX "/dms", a.token);
	itest_expect(r, 200);
	ck_assert_msg(r->json->count == 1, "one DM channel expected: %s",
	    itest_describe(r));
	itest_free(r);
	for (i = 0; i < RACERS; i++)
		free(ids[i]);
	free(body_a);
	free(body_b);
	chat_user_free(&a);
	chat_user_free(&b);
}
END_TEST

START_TEST(test_list_and_get)
{
	struct itest_response	*r;
	struct chat_user	 a, b, c;
	char			*ab, *ca, *path;

	chat_user(&a, "list_a");
	chat_user(&b, "list_b");
	chat_user(&c, "list_c");
	r = itest_get(API_PREFIX "/dms", a.token);
	itest_expect(r, 200);
	ck_assert_msg(r->json->type == JSON_ARRAY && r->json->count == 0,
	    "a new user has DM channels: %s", itest_describe(r));
	itest_free(r);

	ab = chat_dm(&a, &b);
	ca = chat_dm(&c, &a);	/* a is the second user of this pair */
	r = itest_get(API_PREFIX "/dms", a.token);
	itest_expect(r, 200);
	ck_assert_msg(r->json->count == 2, "two DM channels expected: %s",
	    itest_describe(r));
	expect_dm(r, "0", ab, &b);
	expect_dm(r, "1", ca, &c);
	itest_free(r);
	r = itest_get(API_PREFIX "/dms", b.token);
	itest_expect(r, 200);
	ck_assert_msg(r->json->count == 1, "one DM channel expected: %s",
	    itest_describe(r));
	expect_dm(r, "0", ab, &a);
	itest_free(r);

	xasprintf(&path, API_PREFIX "/dms/%s", ab);
	r = itest_get(path, b.token);
	itest_expect(r, 200);
	expect_dm(r, "", ab, &a);
	itest_free(r);
	r = itest_get(path, a.token);
	itest_expect(r, 200);
	expect_dm(r, "", ab, &b);
	itest_free(r);
	free(path);
	free(ab);
	free(ca);
	chat_user_free(&a);
	chat_user_free(&b);
	chat_user_free(&c);
}
END_TEST

/* Assert an answer is 404 not_found. */
static void
expect_404(struct itest_response *r)
{
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
}

START_TEST(test_probe)
{
	struct itest_response	*r;
	struct chat_user	 a, b, eve;
	char			*dm, *msg, *base, *path;

	chat_user(&a, "probe_a");
	chat_user(&b, "probe_b");
	chat_user(&eve, "probe_eve");
	dm = chat_dm(&a, &b);
	xasprintf(&base, API_PREFIX "/dms/%s", dm);
	msg = chat_post(&a, base, "for b only");

	/* Everything about the DM channel is unknown to eve... */
	expect_404(itest_get(base, eve.token));
	path = chat_path(base, NULL, NULL);
	expect_404(itest_get(path, eve.token));
	expect_404(itest_send("POST", path, eve.token,
	    "{\"content\":\"let me in\"}"));
	free(path);
	path = chat_path(base, NULL, "after=1");
	expect_404(itest_get(path, eve.token));
	free(path);
	path = chat_path(base, msg, NULL);
	expect_404(itest_get(path, eve.token));
	expect_404(itest_send("PATCH", path, eve.token,
	    "{\"content\":\"mine\"}"));
	expect_404(itest_delete(path, eve.token));
	free(path);
	/* ... exactly as a DM channel id that does not exist. */
	expect_404(itest_get(API_PREFIX "/dms/18446744073709551615",
	    eve.token));
	expect_404(itest_get(API_PREFIX "/dms/18446744073709551615/messages",
	    eve.token));
	r = itest_get(API_PREFIX "/dms/x1", eve.token);
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);

	/* Nothing was changed by the probes. */
	r = chat_history(&b, base, NULL);
	ck_assert_msg(r->json->count == 1 && strcmp(itest_str(r,
	    "0.content"), "for b only") == 0, "the probes changed the DM: %s",
	    itest_describe(r));
	itest_free(r);
	free(msg);
	free(base);
	free(dm);
	chat_user_free(&a);
	chat_user_free(&b);
	chat_user_free(&eve);
}
END_TEST

START_TEST(test_messages)
{
	struct itest_response	*r;
	struct chat_user	 a, b;
	char			*dm, *base, *ids[2];

	chat_user(&a, "talk_a");
	chat_user(&b, "talk_b");
	dm = chat_dm(&a, &b);
	xasprintf(&base, API_PREFIX "/dms/%s", dm);
	ids[0] = chat_post(&a, base, "hi b");
	ids[1] = chat_post(&b, base, "hi a");
	r = chat_history(&a, base, NULL);
	chat_expect_ids(r, ids, 2);
	itest_expect_str(r, "0.dm_channel_id", dm);
	itest_expect_str(r, "1.author.id", b.id);
	ck_assert_msg(itest_at(r->json, "0.channel_id")->type == JSON_NULL,
	    "channel_id is not null: %s", itest_describe(r));
	itest_free(r);
	free(ids[0]);
	free(ids[1]);
	free(base);
	free(dm);
	chat_user_free(&a);
	chat_user_free(&b);
}
END_TEST

/* The dm.create events after cursor for u: assert one, naming recipient. */
static void
expect_dm_event(const struct chat_user *u, const char *cursor,
    const char *dm, const struct chat_user *recipient)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=0", cursor);
	r = itest_get(path, u->token);
	free(path);
	itest_expect(r, 200);
	ck_assert_msg(itest_at(r->json, "events")->count == 1, "one event "
	    "expected: %s", itest_describe(r));
	itest_expect_str(r, "events.0.type", "dm.create");
	expect_dm(r, "events.0.data.dm", dm, recipient);
	itest_free(r);
}

START_TEST(test_events)
{
	struct chat_user	 a, b;
	char			*ca, *cb, *dm;

	chat_user(&a, "ev_a");
	chat_user(&b, "ev_b");
	ca = itest_events_head(a.token);
	cb = itest_events_head(b.token);
	dm = chat_dm(&a, &b);
	/* Opening it again is no event. */
	free(chat_dm(&b, &a));
	/* Each participant sees the DM channel from their side. */
	expect_dm_event(&a, ca, dm, &b);
	expect_dm_event(&b, cb, dm, &a);
	free(ca);
	free(cb);
	free(dm);
	chat_user_free(&a);
	chat_user_free(&b);
}
END_TEST

/* Build the suite. */
static Suite *
dms_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("dms");
	tc = tcase_create("dms");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_open_race);
	tcase_add_test(tc, test_list_and_get);
	tcase_add_test(tc, test_probe);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_events);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(dms_suite());
}
