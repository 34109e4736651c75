/* SPDX-License-Identifier: ISC */
/*
 * itest_cache.c: integration tests of the workers' caches (src/cache.c,
 * src/history.c).  Whatever a worker keeps (token generations, names,
 * standings, the newest page of history), a change answered through the
 * API shows in every request made after its answer, on every worker: each
 * test warms the caches of all workers with a round of requests, makes
 * one change, and asserts the next round sees it in every answer.  A
 * change made by hand in the database shows within cache_ms.  A send
 * not yet committed holds later messages back from the latest page.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "chat.h"
#include "check_run.h"

/*
 * Requests per round: with two workers taking connections as they come,
 * the chance that one worker sees none of 16 is 2^-15.
 */
#define ROUND		16

/* The value of a message's field in a page, or NULL when it is not there. */
static const char *
page_field(struct itest_response *r, const char *id, const char *field)
{
	const struct json	*v;
	size_t			 i;

	for (i = 0; i < r->json->count; i++) {
		v = itest_at(r->json->items[i], "id");
		if (v != NULL && v->type == JSON_STRING &&
		    strcmp(v->text, id) == 0) {
			v = itest_at(r->json->items[i], field);
			return v != NULL && v->type == JSON_STRING ? v->text :
			    NULL;
		}
	}
	return NULL;
}

/*
 * A round of latest-page reads by u; with field, assert the message id
 * has it equal to want in every answer (want NULL: the message is not in
 * the page at all).
 */
static void
round_of_pages(const struct chat_user *u, const char *base, const char *id,
    const char *field, const char *want)
{
	struct itest_response	*r;
	const char		*got;
	int			 i;

	for (i = 0; i < ROUND; i++) {
		r = chat_history(u, base, NULL);
		if (id != NULL && want == NULL)
			ck_assert_msg(!chat_holds(r, id), "round %d: message %s "
			    "still listed: %s", i, id, itest_describe(r));
		else if (id != NULL) {
			got = page_field(r, id, field);
			ck_assert_msg(got != NULL && strcmp(got, want) == 0,
			    "round %d: message %s has %s \"%s\", not \"%s\": "
			    "%s", i, id, field, got != NULL ? got : "(none)",
			    want, itest_describe(r));
		}
		itest_free(r);
	}
}

/* A round of requests that must all be refused with status and code. */
static void
round_refused(const char *method, const char *path, const char *token,
    const char *body, long status, const char *code)
{
	struct itest_response	*r;
	int			 i;

	for (i = 0; i < ROUND; i++) {
		r = itest_request(method, path, token, body != NULL ?
		    "application/json" : NULL, body, body != NULL ?
		    strlen(body) : 0);
		itest_expect_error(r, status, code);
		itest_free(r);
	}
}

/* Send a JSON body and assert the status. */
static void
call(const char *method, const char *path, const char *token, long status,
    const char *body)
{
	struct itest_response	*r;

	r = itest_request(method, path, token, body != NULL ?
	    "application/json" : NULL, body, body != NULL ? strlen(body) : 0);
	ck_assert_msg(r->status == status, "expected %ld: %s", status,
	    itest_describe(r));
	itest_free(r);
}

START_TEST(test_edit_delete_and_new_messages)
{
	struct chat_room	 r;
	char		*id, *path, *fresh;

	chat_room_open(&r, "cache");
	id = chat_post(&r.owner, r.base, "before the edit");
	round_of_pages(&r.member, r.base, id, "content", "before the edit");

	path = chat_path(r.base, id, NULL);
	call("PATCH", path, r.owner.token, 200, "{\"content\":\"after it\"}");
	round_of_pages(&r.member, r.base, id, "content", "after it");

	fresh = chat_post(&r.owner, r.base, "a new one");
	round_of_pages(&r.member, r.base, fresh, "content", "a new one");

	call("DELETE", path, r.owner.token, 204, NULL);
	round_of_pages(&r.member, r.base, id, "content", NULL);
	round_of_pages(&r.member, r.base, fresh, "content", "a new one");
	free(path);
	free(fresh);
	free(id);
	chat_room_close(&r);
}
END_TEST

START_TEST(test_rename_shows_in_history)
{
	struct chat_room	 r;
	char		*id, *name, *body;

	chat_room_open(&r, "cache");
	id = chat_post(&r.member, r.base, "who wrote this?");
	round_of_pages(&r.owner, r.base, id, "author.username",
	    r.member.username);
	name = itest_unique("cache_renamed");
	xasprintf(&body, "{\"username\":\"%s\"}", name);
	call("PATCH", API_PREFIX "/users/@me", r.member.token, 200, body);
	round_of_pages(&r.owner, r.base, id, "author.username", name);
	/* New messages carry the new name too. */
	free(id);
	id = chat_post(&r.member, r.base, "renamed");
	round_of_pages(&r.owner, r.base, id, "author.username", name);
	free(body);
	free(name);
	free(id);
	chat_room_close(&r);
}
END_TEST

/* The default role's id of a server. */
static char *
default_role(const struct chat_room *r)
{
	struct itest_response	*resp;
	const struct json	*v;
	char			*path, *id = NULL;
	size_t			 i;

	xasprintf(&path, API_PREFIX "/servers/%s/roles", r->server);
	resp = itest_get(path, r->owner.token);
	itest_expect(resp, 200);
	for (i = 0; i < resp->json->count; i++) {
		v = itest_at(resp->json->items[i], "is_default");
		if (v != NULL && v->type == JSON_BOOL && v->boolean)
			id = xstrdup(itest_at(resp->json->items[i],
			    "id")->text);
	}
	ck_assert_msg(id != NULL, "no default role: %s", itest_describe(resp));
	itest_free(resp);
	free(path);
	return id;
}

START_TEST(test_permissions_apply_at_once)
{
	struct chat_room	 r;
	char		*role, *path, *posts;

	chat_room_open(&r, "cache");
	free(chat_post(&r.member, r.base, "allowed"));
	round_of_pages(&r.member, r.base, NULL, NULL, NULL);
	role = default_role(&r);
	xasprintf(&path, API_PREFIX "/servers/%s/roles/%s", r.server, role);
	posts = chat_path(r.base, NULL, NULL);

	/* Without send_messages: reading goes on, posting is refused. */
	call("PATCH", path, r.owner.token, 200,
	    "{\"permissions\":[\"view_channels\"]}");
	round_refused("POST", posts, r.member.token, "{\"content\":\"no\"}",
	    403, "missing_permission");
	round_of_pages(&r.member, r.base, NULL, NULL, NULL);

	/*
	 * Without view_channels: the channel no longer exists for them
	 * (API.md, Channel permission overwrites).
	 */
	call("PATCH", path, r.owner.token, 200, "{\"permissions\":[]}");
	round_refused("GET", posts, r.member.token, NULL, 404, "not_found");

	/* Given back: both work again. */
	call("PATCH", path, r.owner.token, 200,
	    "{\"permissions\":[\"view_channels\",\"send_messages\"]}");
	round_of_pages(&r.member, r.base, NULL, NULL, NULL);
	free(chat_post(&r.member, r.base, "allowed again"));
	free(posts);
	free(path);
	free(role);
	chat_room_close(&r);
}
END_TEST

/* Create a channel in the room's server: its id. */
static char *
room_channel(const struct chat_room *r, const char *name)
{
	struct itest_response	*resp;
	char			*path, *id;

	xasprintf(&path, API_PREFIX "/servers/%s/channels", r->server);
	resp = itest_send("POST", path, r->owner.token, "{\"name\":\"%s\"}",
	    name);
	itest_expect(resp, 201);
	id = xstrdup(itest_str(resp, "id"));
	itest_free(resp);
	free(path);
	return id;
}

START_TEST(test_kick_channel_and_server_delete)
{
	struct chat_room	 r;
	char		*path, *posts, *other, *other_base;

	chat_room_open(&r, "cache");
	free(chat_post(&r.member, r.base, "soon gone"));
	round_of_pages(&r.member, r.base, NULL, NULL, NULL);
	posts = chat_path(r.base, NULL, NULL);

	/* A second channel, deleted while the member reads it. */
	other = room_channel(&r, "doomed");
	xasprintf(&other_base, API_PREFIX "/channels/%s", other);
	free(chat_post(&r.owner, other_base, "in the doomed channel"));
	round_of_pages(&r.member, other_base, NULL, NULL, NULL);
	call("DELETE", other_base, r.owner.token, 204, NULL);
	free(other_base);
	xasprintf(&other_base, API_PREFIX "/channels/%s/messages", other);
	round_refused("GET", other_base, r.member.token, NULL, 404,
	    "not_found");

	/* Kicked: the channel no longer exists for the member. */
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", r.server,
	    r.member.id);
	call("DELETE", path, r.owner.token, 204, NULL);
	free(path);
	round_refused("GET", posts, r.member.token, NULL, 404, "not_found");
	round_refused("POST", posts, r.member.token, "{\"content\":\"x\"}",
	    404, "not_found");

	/* The server deleted: not for its owner either. */
	round_of_pages(&r.owner, r.base, NULL, NULL, NULL);
	xasprintf(&path, API_PREFIX "/servers/%s", r.server);
	call("DELETE", path, r.owner.token, 204, NULL);
	free(path);
	round_refused("GET", posts, r.owner.token, NULL, 404, "not_found");
	free(other_base);
	free(other);
	free(posts);
	chat_room_close(&r);
}
END_TEST

START_TEST(test_revoked_tokens_fail_at_once)
{
	struct chat_room	 r;
	char		*posts, *old, *body;

	chat_room_open(&r, "cache");
	posts = chat_path(r.base, NULL, NULL);
	round_of_pages(&r.member, r.base, NULL, NULL, NULL);
	call("POST", API_PREFIX "/auth/logout-all", r.member.token, 204, NULL);
	round_refused("GET", posts, r.member.token, NULL, 401,
	    "unauthorized");

	/* A password change, after the owner warmed every cache. */
	round_of_pages(&r.owner, r.base, NULL, NULL, NULL);
	old = xstrdup(r.owner.token);
	xasprintf(&body, "{\"password\":\"a brand new secret\","
	    "\"current_password\":\"correct horse battery\"}");
	call("PATCH", API_PREFIX "/users/@me", r.owner.token, 200, body);
	round_refused("GET", posts, old, NULL, 401, "unauthorized");
	round_refused("POST", posts, old, "{\"content\":\"x\"}", 401,
	    "unauthorized");
	free(body);
	free(old);
	free(posts);
	chat_room_close(&r);
}
END_TEST

START_TEST(test_dm_history)
{
	struct chat_user	 a, b, c;
	char			*dm, *base, *id, *path;

	chat_user(&a, "cache_dm_a");
	chat_user(&b, "cache_dm_b");
	chat_user(&c, "cache_dm_c");
	dm = chat_dm(&a, &b);
	xasprintf(&base, API_PREFIX "/dms/%s", dm);
	id = chat_post(&a, base, "just us");
	round_of_pages(&b, base, id, "content", "just us");
	path = chat_path(base, id, NULL);
	call("PATCH", path, a.token, 200, "{\"content\":\"still us\"}");
	round_of_pages(&b, base, id, "content", "still us");
	/* Someone else never gets in, however warm the caches. */
	free(path);
	path = chat_path(base, NULL, NULL);
	round_refused("GET", path, c.token, NULL, 404, "not_found");
	free(path);
	free(id);
	free(base);
	free(dm);
	chat_user_free(&a);
	chat_user_free(&b);
	chat_user_free(&c);
}
END_TEST

/* Assert the latest page with a limit holds ids[n - want .. n - 1]. */
static void
expect_latest(const struct chat_room *r, char **ids, size_t n, long limit,
    size_t want)
{
	struct itest_response	*resp;
	char			*query;
	int			 i;

	xasprintf(&query, "limit=%ld", limit);
	for (i = 0; i < 4; i++) {
		resp = chat_history(&r->member, r->base, query);
		chat_expect_ids(resp, ids + (n - want), want);
		itest_free(resp);
	}
	free(query);
}

START_TEST(test_page_sizes)
{
	struct chat_room	 r;
	char		*ids[120];
	char		 text[32];
	size_t		 i, n = 0;

	chat_room_open(&r, "cache");
	/* An empty channel. */
	expect_latest(&r, ids, 0, 50, 0);
	for (; n < 3; n++) {
		snprintf(text, sizeof text, "message %zu", n);
		ids[n] = chat_post(&r.owner, r.base, text);
	}
	expect_latest(&r, ids, n, 100, 3);
	expect_latest(&r, ids, n, 1, 1);
	for (; n < 120; n++) {
		snprintf(text, sizeof text, "message %zu", n);
		ids[n] = chat_post(&r.owner, r.base, text);
	}
	expect_latest(&r, ids, n, 1, 1);
	expect_latest(&r, ids, n, 37, 37);
	expect_latest(&r, ids, n, 100, 100);
	expect_latest(&r, ids, n, 50, 50);
	for (i = 0; i < n; i++)
		free(ids[i]);
	chat_room_close(&r);
}
END_TEST

START_TEST(test_change_behind_our_back)
{
	struct chat_room	 r;
	char		*id, *sql;

	chat_room_open(&r, "cache");
	id = chat_post(&r.owner, r.base, "as posted");
	round_of_pages(&r.member, r.base, id, "content", "as posted");
	xasprintf(&sql, "UPDATE messages SET content = 'by hand' WHERE id = %s",
	    id);
	ck_assert_msg(itest_sql(sql) == 0, "mariadb failed: %s", sql);
	itest_settle_cache();
	round_of_pages(&r.member, r.base, id, "content", "by hand");
	free(sql);
	free(id);
	chat_room_close(&r);
}
END_TEST

/* Run SQL in a new process; its pid. */
static pid_t
sql_in_child(const char *sql)
{
	pid_t	pid;

	ck_assert((pid = fork()) != -1);
	if (pid == 0)
		_exit(itest_sql(sql) == 0 ? 0 : 1);
	return pid;
}

/* Post as u in a new process, which exits 0 on a 201; its pid. */
static pid_t
post_in_child(const struct chat_user *u, const char *base, const char *text)
{
	struct itest_response	*r;
	char			*path;
	pid_t			 pid;

	ck_assert((pid = fork()) != -1);
	if (pid == 0) {
		path = chat_path(base, NULL, NULL);
		r = itest_send("POST", path, u->token, "{\"content\":\"%s\"}",
		    text);
		_exit(r->status == 201 ? 0 : 1);
	}
	return pid;
}

/* Wait (up to 10 s) until a statement starting with prefix runs. */
static void
wait_for_statement(const char *prefix)
{
	char	*sql;
	double	 deadline = itest_now() + 10;

	xasprintf(&sql, "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
	    " WHERE INFO LIKE '%s%%'", prefix);
	while (itest_sql_number(sql) < 1) {
		ck_assert_msg(itest_now() < deadline, "no statement \"%s...\" "
		    "ran", prefix);
		itest_sleep_ms(20);
	}
	free(sql);
}

/* Wait for a child and assert it exited 0. */
static void
expect_child_ok(pid_t pid, const char *what)
{
	int	ws;

	ck_assert(waitpid(pid, &ws, 0) == pid);
	ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "%s failed",
	    what);
}

/*
 * A send that drew its id but has not committed holds back every later
 * message from the latest page, cached or not: a client that took the
 * page and then polled after its newest id would otherwise never see the
 * held one.  The owner's send is held by a row lock on the owner (its
 * author check waits for it), while the member's send commits past it.
 */
START_TEST(test_uncommitted_send_holds_back_the_page)
{
	struct chat_room		 r;
	struct itest_response	*resp;
	const char		*first;
	pid_t			 lock, held;
	char			*sql, *later;

	chat_room_open(&r, "cache");
	free(chat_post(&r.member, r.base, "before"));
	round_of_pages(&r.member, r.base, NULL, NULL, NULL);
	xasprintf(&sql, "START TRANSACTION; SELECT id FROM users WHERE id = %s"
	    " FOR UPDATE; DO SLEEP(3); COMMIT", r.owner.id);
	lock = sql_in_child(sql);
	wait_for_statement("DO SLEEP(3)");
	held = post_in_child(&r.owner, r.base, "held by the lock");
	wait_for_statement("INSERT INTO messages");
	later = chat_post(&r.member, r.base, "committed past it");

	resp = chat_history(&r.member, r.base, NULL);
	ck_assert_msg(!chat_holds(resp, later), "message %s shown while an "
	    "earlier send is uncommitted: %s", later, itest_describe(resp));
	itest_free(resp);

	expect_child_ok(held, "the held send");
	expect_child_ok(lock, "the lock");
	resp = chat_history(&r.member, r.base, "limit=2");
	first = itest_str(resp, "0.content");
	ck_assert_msg(resp->json->count == 2 && chat_holds(resp, later) &&
	    first != NULL && strcmp(first, "held by the lock") == 0,
	    "the held send and the later one, in order: %s",
	    itest_describe(resp));
	itest_free(resp);
	free(later);
	free(sql);
	chat_room_close(&r);
}
END_TEST

/*
 * A user who keeps coming back is read again with the others, in bulk,
 * before the workers' copies grow stale: after more than cache_ms
 * without a request from them, a round of their requests finds them in
 * every worker's cache (issue 22: 9,000 clients polling every second or
 * two cost a statement each when their copies had expired).  What was
 * read again is the database's: a generation bumped by hand refuses
 * their token within cache_ms, every round after.
 */
START_TEST(test_users_read_again_before_stale)
{
	static const char *const misses =
	    "sohbet_cache_misses_total{cache=\"users\"}";
	struct chat_room	 r;
	long			 before;
	char			*sql, *posts;

	chat_room_open(&r, "cache");
	posts = chat_path(r.base, NULL, NULL);
	round_of_pages(&r.member, r.base, NULL, NULL, NULL);
	itest_settle_cache();
	before = itest_metric(misses);
	round_of_pages(&r.member, r.base, NULL, NULL, NULL);
	ck_assert_msg(itest_metric(misses) == before, "%ld lookups of users "
	    "found nothing fresh in a round after cache_ms",
	    itest_metric(misses) - before);

	xasprintf(&sql, "UPDATE users SET token_generation ="
	    " token_generation + 1 WHERE id = %s", r.member.id);
	ck_assert_msg(itest_sql(sql) == 0, "mariadb failed: %s", sql);
	itest_settle_cache();
	round_refused("GET", posts, r.member.token, NULL, 401,
	    "unauthorized");
	itest_settle_cache();
	round_refused("GET", posts, r.member.token, NULL, 401,
	    "unauthorized");
	free(sql);
	free(posts);
	chat_room_close(&r);
}
END_TEST

/*
 * /metrics counts the lookups: after a round of reads of one page by one
 * user, each cache found what it sought in all but the first read of each
 * worker.  (Other test programs may add to the counts meanwhile.)
 */
START_TEST(test_lookups_counted)
{
	static const char *const caches[] = { "users", "standings", "history" };
	struct chat_room	 r;
	long		 before[3];
	char		*name;
	int		 i;

	chat_room_open(&r, "cache");
	free(chat_post(&r.owner, r.base, "counted"));
	for (i = 0; i < 3; i++) {
		xasprintf(&name, "sohbet_cache_hits_total{cache=\"%s\"}",
		    caches[i]);
		before[i] = itest_metric(name);
		free(name);
	}
	round_of_pages(&r.member, r.base, NULL, NULL, NULL);
	for (i = 0; i < 3; i++) {
		xasprintf(&name, "sohbet_cache_hits_total{cache=\"%s\"}",
		    caches[i]);
		ck_assert_msg(itest_metric(name) - before[i] >= ROUND - 2,
		    "%s: fewer than %d hits in a round of %d", name, ROUND - 2,
		    ROUND);
		free(name);
	}
	chat_room_close(&r);
}
END_TEST

static Suite *
cache_suite(void)
{
	Suite	*s = suite_create("cache");
	TCase	*tc = tcase_create("cache");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_edit_delete_and_new_messages);
	tcase_add_test(tc, test_rename_shows_in_history);
	tcase_add_test(tc, test_permissions_apply_at_once);
	tcase_add_test(tc, test_kick_channel_and_server_delete);
	tcase_add_test(tc, test_revoked_tokens_fail_at_once);
	tcase_add_test(tc, test_dm_history);
	tcase_add_test(tc, test_page_sizes);
	tcase_add_test(tc, test_uncommitted_send_holds_back_the_page);
	tcase_add_test(tc, test_change_behind_our_back);
	tcase_add_test(tc, test_lookups_counted);
	tcase_add_test(tc, test_users_read_again_before_stale);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(cache_suite());
}
