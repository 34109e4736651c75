/* SPDX-License-Identifier: ISC */
/*
 * itest_foundation.c: integration tests of the foundation against the real
 * nginx + sohbetd + MariaDB: health, the error answers every endpoint
 * shares (404, 405, 413, 415, invalid_json), and the process model: 503
 * while MariaDB is down and recovery, kill -9 of a worker, SIGHUP, SIGTERM.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "itest.h"
#include "check_run.h"

#define HEALTH		API_PREFIX "/health"
#define REGISTER	API_PREFIX "/auth/register"
#define MAX_WORKERS	64
#define LOADERS		4	/* concurrent clients during signals */

/* The number of workers the configuration asks for. */
static int
expected_workers(void)
{
	long	n;

	n = itest_conf_int("server", "workers", 0);
	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* Whether pid is in a list. */
static int
pid_in(pid_t pid, const pid_t *pids, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (pids[i] == pid)
			return 1;
	}
	return 0;
}

/* Format a pid list for messages (a few static buffers rotate). */
static const char *
pid_list(const pid_t *pids, int n)
{
	static char	bufs[4][512];
	static int	next;
	char		*buf = bufs[next++ % 4];
	size_t		used = 0;
	int		i;

	buf[0] = '\0';
	for (i = 0; i < n && used < sizeof bufs[0] - 16; i++)
		used += (size_t)snprintf(buf + used, sizeof bufs[0] - used,
		    "%s%ld", i > 0 ? " " : "", (long)pids[i]);
	return buf;
}

/* Assert one healthy answer. */
static void
expect_healthy(struct itest_response *r)
{
	itest_expect(r, 200);
	itest_expect_str(r, "status", "ok");
	itest_expect_str(r, "db", "ok");
}

/* --- basics --------------------------------------------------------------- */

START_TEST(test_health)
{
	struct itest_response	*r;

	r = itest_get(HEALTH, NULL);
	expect_healthy(r);
	ck_assert_msg(r->json->type == JSON_OBJECT && r->json->count == 2,
	    "health has other members than status and db: %s",
	    itest_describe(r));
	itest_free(r);

	/* A query string does not change the route. */
	r = itest_get(HEALTH "?x=1", NULL);
	expect_healthy(r);
	itest_free(r);
}
END_TEST

START_TEST(test_not_found)
{
	static const char	*paths[] = {
		API_PREFIX "/nope",
		HEALTH "/extra",
		API_PREFIX "/healthz",
		API_PREFIX "/",
		API_PREFIX,
		"/api/v2/health",
	};
	struct itest_response	*r;
	size_t			 i;

	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		r = itest_get(paths[i], NULL);
		itest_expect_error(r, 404, "not_found");
		itest_free(r);
	}
	/* An unknown path is 404 whatever the method. */
	r = itest_send("POST", API_PREFIX "/nope", NULL, "{}");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = itest_delete(API_PREFIX "/nope", NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
}
END_TEST

START_TEST(test_method_not_allowed)
{
	static const char	*methods[] = { "DELETE", "PUT", "PATCH" };
	struct itest_response	*r;
	const char		*allow;
	size_t			 i;

	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		r = itest_request(methods[i], HEALTH, NULL, NULL, NULL, 0);
		itest_expect_error(r, 405, "method_not_allowed");
		allow = itest_header(r, "Allow");
		ck_assert_msg(allow != NULL && strstr(allow, "GET") != NULL,
		    "405 without an Allow header naming GET: %s\n%s",
		    itest_describe(r), r->headers);
		itest_free(r);
	}

	/*
	 * Routing comes before the body: a POST to a GET-only path is 405
	 * whatever its body and content type (not 415 or 400).
	 */
	r = itest_request("POST", HEALTH "?x", NULL, "text/plain", "hello", 5);
	itest_expect_error(r, 405, "method_not_allowed");
	itest_free(r);
	r = itest_send("POST", HEALTH "?x", NULL, "{\"a\":");
	itest_expect_error(r, 405, "method_not_allowed");
	ck_assert_msg(itest_header(r, "Allow") != NULL &&
	    strstr(itest_header(r, "Allow"), "GET") != NULL,
	    "405 without an Allow header naming GET: %s", itest_describe(r));
	itest_free(r);
}
END_TEST

/* Make a JSON object body of exactly len bytes: {"pad":"xxx..."}. */
static char *
padded_body(size_t len)
{
	char	*b;

	ck_assert(len >= 10);
	b = xmalloc(len + 1);
	memcpy(b, "{\"pad\":\"", 8);
	memset(b + 8, 'x', len - 10);
	memcpy(b + len - 2, "\"}", 2);
	b[len] = '\0';
	return b;
}

START_TEST(test_payload_too_large)
{
	struct itest_response	*r;
	char			*body;
	size_t			 len = 70 * 1024;

	/*
	 * nginx refuses bodies over 64 KiB before routing (so this holds
	 * for any path); its answer must be the API's error shape too.
	 */
	body = padded_body(len);
	r = itest_request("POST", REGISTER, NULL, "application/json", body,
	    len);
	itest_expect_error(r, 413, "payload_too_large");
	itest_free(r);

	/* The size is checked before the content type. */
	r = itest_request("POST", REGISTER, NULL, "text/plain", body, len);
	itest_expect_error(r, 413, "payload_too_large");
	itest_free(r);

	/* A megabyte is refused just as well, and the server lives on. */
	free(body);
	len = 1024 * 1024;
	body = padded_body(len);
	r = itest_request("POST", REGISTER, NULL, "application/json", body,
	    len);
	itest_expect_error(r, 413, "payload_too_large");
	itest_free(r);
	free(body);

	r = itest_get(HEALTH, NULL);
	expect_healthy(r);
	itest_free(r);
}
END_TEST

/* --- bodies (need a route that takes POST: /auth/register) ----------------- */

START_TEST(test_unsupported_media_type)
{
	static const char	*types[] = {
		"text/plain",
		"application/x-www-form-urlencoded",
		"application/jsonx",
		"application/json-patch+json",
		"text/json",
		"multipart/form-data; boundary=x",
	};
	static const char	 body[] = "{\"username\":\"x\"}";
	struct itest_response	*r;
	size_t			 i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		r = itest_request("POST", REGISTER, NULL, types[i], body,
		    sizeof body - 1);
		ck_assert_msg(r->status == 415, "Content-Type %s: %s", types[i],
		    itest_describe(r));
		itest_expect_error(r, 415, "unsupported_media_type");
		itest_free(r);
	}
	/* A body without any Content-Type. */
	r = itest_request("POST", REGISTER, NULL, NULL, body, sizeof body - 1);
	itest_expect_error(r, 415, "unsupported_media_type");
	itest_free(r);
}
END_TEST

START_TEST(test_json_content_types_accepted)
{
	static const char	*types[] = {
		"application/json",
		"application/json; charset=utf-8",
		"application/json;charset=UTF-8",
		"Application/JSON",
	};
	struct itest_response	*r;
	size_t			 i;

	/*
	 * Each is taken as JSON, so a malformed body gets 400 invalid_json
	 * rather than 415.
	 */
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		r = itest_request("POST", REGISTER, NULL, types[i], "{\"a\":",
		    5);
		ck_assert_msg(r->status == 400, "Content-Type %s: %s", types[i],
		    itest_describe(r));
		itest_expect_error(r, 400, "invalid_json");
		itest_free(r);
	}
}
END_TEST

/* Make an object nested depth deep: {"a":{"a":...{}...}}. */
static char *
nested_body(int depth)
{
	char	*b, *p;
	int	 i;

	p = b = xmalloc((size_t)depth * 6 + 1);
	for (i = 1; i < depth; i++) {
		memcpy(p, "{\"a\":", 5);
		p += 5;
	}
	*p++ = '{';
	for (i = 0; i < depth; i++)
		*p++ = '}';
	*p = '\0';
	return b;
}

START_TEST(test_invalid_json)
{
	static const struct {
		const char	*what;
		const char	*body;
	} cases[] = {
		{ "truncated", "{\"username\":" },
		{ "unterminated string", "{\"username\":\"abc" },
		{ "trailing comma", "{\"a\":1,}" },
		{ "single quotes", "{'a':1}" },
		{ "bare word", "{\"a\":nope}" },
		{ "comment", "{/* c */\"a\":1}" },
		{ "trailing garbage", "{\"a\":1}x" },
		{ "two values", "{\"a\":1} {\"b\":2}" },
		{ "top-level array", "[]" },
		{ "top-level array of an object", "[{\"a\":1}]" },
		{ "top-level string", "\"text\"" },
		{ "top-level number", "42" },
		{ "top-level null", "null" },
		{ "top-level true", "true" },
		{ "duplicate key", "{\"a\":1,\"a\":2}" },
		{ "duplicate key, other values", "{\"username\":\"x\","
		    "\"email\":\"a@b.c\",\"username\":\"y\"}" },
		{ "duplicate key nested", "{\"x\":{\"k\":1,\"k\":[]}}" },
		{ "duplicate key in an array's object",
		    "{\"x\":[{\"k\":1},{\"k\":1,\"k\":2}]}" },
		{ "invalid UTF-8 byte", "{\"a\":\"\xff\"}" },
		{ "truncated UTF-8 sequence", "{\"a\":\"\xc3\"}" },
		{ "overlong UTF-8", "{\"a\":\"\xc0\xaf\"}" },
		{ "UTF-8 encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}" },
		{ "above U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}" },
		{ "invalid UTF-8 in a key", "{\"\xfe\":1}" },
		{ "invalid UTF-8 in an unknown field",
		    "{\"username\":\"abc\",\"zzz\":\"\x80\"}" },
		{ "bad escape", "{\"a\":\"\\x41\"}" },
		{ "raw control character", "{\"a\":\"a\tb\"}" },
	};
	struct itest_response	*r;
	char			*deep;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = itest_request("POST", REGISTER, NULL, "application/json",
		    cases[i].body, strlen(cases[i].body));
		ck_assert_msg(r->status == 400 && itest_str(r, "error.code") !=
		    NULL && strcmp(itest_str(r, "error.code"), "invalid_json") ==
		    0, "%s: expected 400 invalid_json: %s", cases[i].what,
		    itest_describe(r));
		itest_expect_error(r, 400, "invalid_json");
		itest_free(r);
	}

	/* 17 levels (the top-level object is depth 1): one too many. */
	deep = nested_body(JSON_DEPTH_MAX + 1);
	r = itest_request("POST", REGISTER, NULL, "application/json", deep,
	    strlen(deep));
	ck_assert_msg(r->status == 400, "depth %d: %s", JSON_DEPTH_MAX + 1,
	    itest_describe(r));
	itest_expect_error(r, 400, "invalid_json");
	itest_free(r);
	free(deep);

	/* Far deeper (just under 64 KiB): refused the same way, no crash. */
	deep = nested_body(10000);
	r = itest_request("POST", REGISTER, NULL, "application/json", deep,
	    strlen(deep));
	itest_expect_error(r, 400, "invalid_json");
	itest_free(r);
	free(deep);

	r = itest_get(HEALTH, NULL);
	expect_healthy(r);
	itest_free(r);
}
END_TEST

START_TEST(test_valid_json_reaches_handler)
{
	struct itest_response	*r;
	char			*body;
	const char		*code;

	/*
	 * Bodies within the limits pass the JSON checks and reach the
	 * handler, which finds no username: 400 validation_failed.
	 */
	body = nested_body(JSON_DEPTH_MAX);
	r = itest_request("POST", REGISTER, NULL, "application/json", body,
	    strlen(body));
	code = itest_str(r, "error.code");
	ck_assert_msg(r->status == 400 && code != NULL && strcmp(code,
	    "validation_failed") == 0, "depth %d must be accepted as JSON: %s",
	    JSON_DEPTH_MAX, itest_describe(r));
	itest_expect_error(r, 400, "validation_failed");
	itest_free(r);
	free(body);

	/* The same key in different objects is no duplicate. */
	r = itest_send("POST", REGISTER, NULL, "{\"x\":{\"k\":1},"
	    "\"y\":{\"k\":1},\"z\":[{\"k\":1},{\"k\":2}]}");
	itest_expect_error(r, 400, "validation_failed");
	itest_free(r);

	/* Exactly 64 KiB is allowed; one byte more is not. */
	body = padded_body(BODY_MAX);
	r = itest_request("POST", REGISTER, NULL, "application/json", body,
	    BODY_MAX);
	ck_assert_msg(r->status == 400, "a body of exactly %d bytes: %s",
	    BODY_MAX, itest_describe(r));
	itest_expect_error(r, 400, "validation_failed");
	itest_free(r);
	free(body);
	body = padded_body(BODY_MAX + 1);
	r = itest_request("POST", REGISTER, NULL, "application/json", body,
	    BODY_MAX + 1);
	itest_expect_error(r, 413, "payload_too_large");
	itest_free(r);
	free(body);
}
END_TEST

START_TEST(test_nul_in_text)
{
	struct itest_response	*r;
	char			*name, *email;

	/* \u0000 is valid JSON, but not valid text: validation_failed. */
	name = itest_unique("nul");
	xasprintf(&email, "%s@example.com", name);
	r = itest_send("POST", REGISTER, NULL, "{\"username\":\"a\\u0000b\","
	    "\"email\":\"%s\",\"password\":\"correct horse battery\"}", email);
	itest_expect_error(r, 400, "validation_failed");
	itest_expect_str(r, "error.field", "username");
	itest_free(r);
	free(email);
	free(name);
}
END_TEST

/* --- the process model: run in this order, each from a running stack ------ */

START_TEST(test_db_down_and_recovery)
{
	struct itest_response	*r;
	double			 deadline, t0;
	int			 i;

	itest_require_stack();
	ck_assert_msg(itest_dev("db-stop") == 0, "tools/dev db-stop failed");

	/* Every request answers 503 at once, not after a timeout. */
	for (i = 0; i < 8; i++) {
		r = itest_get(HEALTH, NULL);
		ck_assert_msg(r->status == 503, "request %d with MariaDB "
		    "stopped: %s", i, itest_describe(r));
		itest_expect(r, 503);
		itest_expect_str(r, "status", "degraded");
		itest_expect_str(r, "db", "down");
		ck_assert_msg(r->seconds < 3.0, "request %d with MariaDB "
		    "stopped was slow: %s", i, itest_describe(r));
		itest_free(r);
	}
	/* Other endpoints still answer their own errors meanwhile. */
	r = itest_get(API_PREFIX "/nope", NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);

	ck_assert_msg(itest_dev("db-start") == 0, "tools/dev db-start failed");
	t0 = itest_now();
	ck_assert_msg(itest_wait_health(15) == 0, "health is not 200 within "
	    "15 s of MariaDB's start");
	fprintf(stderr, "itest: healthy %.2f s after MariaDB's start\n",
	    itest_now() - t0);

	/*
	 * And stays healthy, on every worker: no stale connection left.  A
	 * worker whose last try to connect failed less than a second ago
	 * (db.c's DB_RETRY_INTERVAL: during an outage requests fail at once)
	 * may still answer 503 within that second; every try was made
	 * before db-start returned at t0.
	 */
	while (itest_now() < t0 + 1.1)
		itest_sleep_ms(50);
	deadline = itest_now() + 2.0;
	for (i = 0; itest_now() < deadline || i < 20; i++) {
		r = itest_get(HEALTH, NULL);
		ck_assert_msg(r->status == 200, "request %d after recovery: %s",
		    i, itest_describe(r));
		expect_healthy(r);
		itest_free(r);
	}
}
END_TEST

START_TEST(test_kill_worker)
{
	struct itest_response	*r;
	pid_t			 master, before[MAX_WORKERS],
				 after[MAX_WORKERS], victim;
	double			 deadline;
	int			 n, m = 0, want, i, ok;

	itest_require_stack();
	master = itest_master_pid();
	want = expected_workers();
	n = itest_worker_pids(before, MAX_WORKERS);
	ck_assert_msg(n == want, "%d workers running (%s), the configuration "
	    "asks for %d", n, pid_list(before, n), want);

	victim = before[0];
	fprintf(stderr, "itest: kill -9 worker %ld of master %ld\n",
	    (long)victim, (long)master);
	ck_assert_msg(kill(victim, SIGKILL) == 0, "kill %ld: %s",
	    (long)victim, strerror(errno));

	/* No request was in flight on it: every one succeeds. */
	deadline = itest_now() + 3.0;
	for (i = 0; itest_now() < deadline; i++) {
		r = itest_get(HEALTH, NULL);
		ck_assert_msg(r->status == 200, "request %d after kill -9 of "
		    "worker %ld: %s", i, (long)victim, itest_describe(r));
		expect_healthy(r);
		itest_free(r);
	}
	ck_assert_msg(i >= 10, "only %d requests in 3 s", i);

	/* The master lives on and replaces the worker. */
	deadline = itest_now() + 5.0;
	do {
		m = itest_worker_pids(after, MAX_WORKERS);
		ok = m == want && !pid_in(victim, after, m) &&
		    !itest_alive(victim);
		if (!ok)
			itest_sleep_ms(100);
	} while (!ok && itest_now() < deadline);
	ck_assert_msg(ok, "5 s after kill -9 of %ld: workers %s (want %d)",
	    (long)victim, pid_list(after, m), want);
	ck_assert_msg(itest_alive(master) && itest_master_pid() == master,
	    "the master %ld is gone", (long)master);
	for (i = 0; i < n; i++) {
		if (before[i] != victim)
			ck_assert_msg(pid_in(before[i], after, m), "worker %ld "
			    "was replaced too (workers now %s)",
			    (long)before[i], pid_list(after, m));
	}

	r = itest_get(HEALTH, NULL);
	expect_healthy(r);
	itest_free(r);
}
END_TEST

/* What one client of a load saw; shared with the test process. */
struct load_client {
	pid_t		 pid;
	int		 requests;
	int		 ok;		/* 200 */
	int		 gateway;	/* nginx's 502 bad_gateway */
	int		 other;		/* anything else */
	char		 first[1024];	/* the first "other" answer */
};

/* Clients sending health requests in their own processes until stopped. */
struct load {
	volatile int		 stop;
	int			 nclients;
	struct load_client	 clients[LOADERS];
	int			 requests;	/* totals, after load_stop() */
	int			 ok;
	int			 gateway;
	int			 other;
	const char		*first;		/* "" when other is 0 */
};

/* One client: health requests until told to stop or the deadline. */
static void NORETURN
load_client_run(struct load *l, struct load_client *c, double until)
{
	struct itest_response	*r;
	const char		*code;

	while (!l->stop && itest_now() < until) {
		r = itest_get(HEALTH, NULL);
		code = itest_str(r, "error.code");
		if (r->status == 200)
			c->ok++;
		else if (r->status == 502 && code != NULL && strcmp(code,
		    "bad_gateway") == 0)
			c->gateway++;
		else if (c->other++ == 0)
			snprintf(c->first, sizeof c->first, "%s",
			    itest_describe(r));
		c->requests++;
		itest_free(r);
	}
	_exit(0);
}

/* Start n clients; they stop by themselves after max_seconds. */
static struct load *
load_start(int n, double max_seconds)
{
	struct load	*l;
	double		 until = itest_now() + max_seconds;
	pid_t		 pid;
	int		 i;

	l = mmap(NULL, sizeof *l, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(l != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(l, 0, sizeof *l);
	l->nclients = n;
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < n; i++) {
		/*
		 * Only the parent writes the shared pid.  Were fork()'s result
		 * stored there by both, the child's 0 could land after the
		 * parent's pid: the parent would then turn client, or the
		 * child go on with the test as a second test process (which
		 * restarted sohbetd under test_sigterm's socket check).
		 */
		pid = fork();
		ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
		if (pid == 0)
			load_client_run(l, &l->clients[i], until);
		l->clients[i].pid = pid;
	}
	return l;
}

/* Stop the clients, wait for them, log and total what they saw. */
static void
load_stop(struct load *l)
{
	struct load_client	*c;
	int			 i, status;

	l->stop = 1;
	l->first = "";
	for (i = 0; i < l->nclients; i++) {
		c = &l->clients[i];
		while (waitpid(c->pid, &status, 0) == -1 && errno == EINTR)
			;
		fprintf(stderr, "itest: client %d: %d requests: %d ok, %d "
		    "bad_gateway, %d other%s%s\n", i, c->requests, c->ok,
		    c->gateway, c->other, c->other ? ", first: " : "",
		    c->first);
		l->requests += c->requests;
		l->ok += c->ok;
		l->gateway += c->gateway;
		l->other += c->other;
		if (c->other && l->first[0] == '\0')
			l->first = c->first;
	}
}

START_TEST(test_sighup)
{
	struct load	*l;
	pid_t		 master, before[MAX_WORKERS], after[MAX_WORKERS];
	int		 n, m = 0, want, j, ok;
	double		 t0;

	itest_require_stack();
	master = itest_master_pid();
	want = expected_workers();
	n = itest_worker_pids(before, MAX_WORKERS);
	ck_assert_msg(n == want, "%d workers running (%s), the configuration "
	    "asks for %d", n, pid_list(before, n), want);

	/* Clients keep requesting while the workers are replaced. */
	l = load_start(LOADERS, 30.0);
	itest_sleep_ms(500);
	fprintf(stderr, "itest: SIGHUP to master %ld (workers %s)\n",
	    (long)master, pid_list(before, n));
	t0 = itest_now();
	ck_assert_msg(kill(master, SIGHUP) == 0, "kill -HUP %ld: %s",
	    (long)master, strerror(errno));

	/* Until all the old workers are gone and as many new ones run. */
	do {
		itest_sleep_ms(100);
		m = itest_worker_pids(after, MAX_WORKERS);
		ok = m == want;
		for (j = 0; ok && j < n; j++)
			ok = !pid_in(before[j], after, m) &&
			    !itest_alive(before[j]);
	} while (!ok && itest_now() - t0 < 15.0);
	if (ok)
		fprintf(stderr, "itest: workers replaced in %.2f s: %s\n",
		    itest_now() - t0, pid_list(after, m));
	itest_sleep_ms(1000);
	load_stop(l);

	ck_assert_msg(ok, "15 s after SIGHUP: workers %s, before %s (want %d "
	    "new ones)", pid_list(after, m), pid_list(before, n), want);
	ck_assert_msg(l->ok == l->requests, "%d of %d requests failed during "
	    "SIGHUP (%d nginx 502 bad_gateway); first other: %s",
	    l->requests - l->ok, l->requests, l->gateway, l->first);
	ck_assert_msg(l->ok >= 20, "only %d requests during SIGHUP", l->ok);
	ck_assert_msg(itest_alive(master) && itest_master_pid() == master,
	    "the master %ld is gone after SIGHUP", (long)master);
	munmap(l, sizeof *l);
}
END_TEST

/* sohbetd's configuration as it was before test_reload_worker_count. */
static char	*saved_conf;

/* The whole of a file as a new string, or NULL. */
static char *
file_read(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 size;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == -1 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1) {
		fclose(f);
		return NULL;
	}
	buf = xmalloc((size_t)size + 1);
	buf[fread(buf, 1, (size_t)size, f)] = '\0';
	fclose(f);
	return buf;
}

/* Replace a file's contents with text; 0 or -1. */
static int
file_write(const char *path, const char *text)
{
	FILE	*f;
	int	 rc;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	rc = fputs(text, f) == EOF ? -1 : 0;
	return fclose(f) == EOF ? -1 : rc;
}

/*
 * The configuration text conf with `workers = n` in its [server] section,
 * as a new string: an existing workers line goes, the new one follows the
 * section header (or a new [server] section at the end).
 */
static char *
conf_with_workers(const char *conf, int n)
{
	const char	*line = conf, *next;
	char		*out, *setting;
	size_t		 used = 0, len;
	int		 in_server = 0, placed = 0;

	xasprintf(&setting, "workers = %d\n", n);
	out = xmalloc(strlen(conf) + strlen(setting) + sizeof "\n[server]\n");
	for (; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			next++;
		len = (size_t)(next - line);
		if (line[0] == '[')
			in_server = strncmp(line, "[server]", 8) == 0;
		else if (in_server && strncmp(line, "workers", 7) == 0)
			continue;
		memcpy(out + used, line, len);
		used += len;
		if (in_server && line[0] == '[' && !placed) {
			if (len == 0 || line[len - 1] != '\n')
				out[used++] = '\n';
			used += (size_t)sprintf(out + used, "%s", setting);
			placed = 1;
		}
	}
	if (!placed)
		used += (size_t)sprintf(out + used, "%s[server]\n%s",
		    used > 0 && out[used - 1] != '\n' ? "\n" : "", setting);
	out[used] = '\0';
	free(setting);
	return out;
}

/* SIGHUP the master and wait until n workers run; 0, or -1 after 20 s. */
static int
reload_until_workers(pid_t master, int n)
{
	pid_t	pids[MAX_WORKERS];
	double	t0 = itest_now();

	ck_assert_msg(kill(master, SIGHUP) == 0, "kill -HUP %ld: %s",
	    (long)master, strerror(errno));
	do {
		itest_sleep_ms(100);
		if (itest_worker_pids(pids, MAX_WORKERS) == n) {
			/* Still n a moment later: the reload has settled. */
			itest_sleep_ms(1500);
			if (itest_worker_pids(pids, MAX_WORKERS) == n)
				return 0;
		}
	} while (itest_now() - t0 < 20.0);
	return -1;
}

/* Put the configuration back if test_reload_worker_count changed it. */
static void
reload_restore_teardown(void)
{
	pid_t	master;

	if (saved_conf == NULL)
		return;
	if (file_write(getenv("SOHBET_TEST_CONF"), saved_conf) == -1)
		fprintf(stderr, "itest: could not restore %s\n",
		    getenv("SOHBET_TEST_CONF"));
	else if ((master = itest_master_pid()) > 0)
		reload_until_workers(master, expected_workers());
	free(saved_conf);
	saved_conf = NULL;
}

/*
 * A reload follows the configured number of workers both ways: one more,
 * then back to as many as before (fewer than run at that moment).
 */
START_TEST(test_reload_worker_count)
{
	const char	*path = getenv("SOHBET_TEST_CONF");
	pid_t		 master, pids[MAX_WORKERS];
	char		*more;
	int		 want, n;

	itest_require_stack();
	ck_assert_msg(path != NULL, "SOHBET_TEST_CONF is not set");
	master = itest_master_pid();
	want = expected_workers();
	saved_conf = file_read(path);
	ck_assert_msg(saved_conf != NULL, "cannot read %s", path);

	more = conf_with_workers(saved_conf, want + 1);
	ck_assert_msg(file_write(path, more) == 0, "cannot write %s", path);
	free(more);
	n = reload_until_workers(master, want + 1);
	ck_assert_msg(n == 0, "20 s after a reload asking for %d workers, "
	    "%d run", want + 1, itest_worker_pids(pids, MAX_WORKERS));

	ck_assert_msg(file_write(path, saved_conf) == 0, "cannot write %s",
	    path);
	free(saved_conf);
	saved_conf = NULL;
	n = reload_until_workers(master, want);
	ck_assert_msg(n == 0, "20 s after a reload back to %d workers, %d run",
	    want, itest_worker_pids(pids, MAX_WORKERS));
	ck_assert_msg(itest_alive(master) && itest_master_pid() == master,
	    "the master %ld is gone after the reloads", (long)master);
	ck_assert_msg(itest_wait_health(5) == 0, "no healthy answer after "
	    "the reloads");
}
END_TEST

START_TEST(test_sigterm)
{
	static const char	*dropped[] = {
		"prematurely closed", "reset by peer", "Broken pipe",
	};
	struct itest_response	*r;
	struct load		*l;
	struct stat		 st;
	pid_t			 master, workers[MAX_WORKERS];
	double			 t0, limit, took;
	char			*sock, *line;
	long			 logpos;
	size_t			 i;
	int			 n;

	itest_require_stack();
	master = itest_master_pid();
	n = itest_worker_pids(workers, MAX_WORKERS);
	sock = itest_conf("server", "listen");
	limit = itest_conf_int("server", "shutdown_timeout", 10) + 3.0;
	logpos = itest_var_size("log/nginx-error.log");

	/* Clients keep requesting while sohbetd stops. */
	l = load_start(LOADERS, 60.0);
	itest_sleep_ms(500);
	fprintf(stderr, "itest: SIGTERM to master %ld\n", (long)master);
	t0 = itest_now();
	ck_assert_msg(kill(master, SIGTERM) == 0, "kill -TERM %ld: %s",
	    (long)master, strerror(errno));
	while (itest_alive(master) && itest_now() - t0 < limit)
		itest_sleep_ms(50);
	took = itest_now() - t0;
	itest_sleep_ms(500);
	load_stop(l);
	ck_assert_msg(!itest_alive(master), "the master %ld still runs %.0f s "
	    "after SIGTERM", (long)master, limit);
	fprintf(stderr, "itest: master exited %.2f s after SIGTERM\n", took);
	for (i = 0; i < (size_t)n; i++)
		ck_assert_msg(!itest_alive(workers[i]), "worker %ld outlived "
		    "its master", (long)workers[i]);
	if (sock != NULL && sock[0] == '/')
		ck_assert_msg(stat(sock, &st) == -1 && errno == ENOENT,
		    "the socket %s is still there after a graceful stop",
		    sock);
	free(sock);

	/*
	 * Every request was answered: by sohbetd (200) before it stopped,
	 * by nginx (502 bad_gateway, in the API's shape) once the socket was
	 * gone.  And none that a worker had taken was dropped: nginx saw no
	 * upstream connection closed or reset under a request.
	 */
	ck_assert_msg(l->other == 0, "%d of %d requests during SIGTERM got "
	    "neither 200 nor 502 bad_gateway; first: %s", l->other,
	    l->requests, l->first);
	ck_assert_msg(l->ok > 0 && l->gateway > 0, "during SIGTERM: %d "
	    "answers 200 and %d 502 bad_gateway (want some of each)", l->ok,
	    l->gateway);
	munmap(l, sizeof *l);
	for (i = 0; i < sizeof dropped / sizeof dropped[0]; i++) {
		itest_var_grep("log/nginx-error.log", logpos, dropped[i],
		    &line);
		ck_assert_msg(line == NULL, "a request was dropped during the "
		    "graceful stop; nginx-error.log: %s", line);
	}

	/* Without sohbetd, nginx answers with the API's error shape. */
	r = itest_get(HEALTH, NULL);
	itest_expect_error(r, 502, "bad_gateway");
	itest_free(r);

	/* Leave a stack to the test programs that follow. */
	ck_assert_msg(itest_dev("sohbetd-start") == 0,
	    "tools/dev sohbetd-start failed");
	ck_assert_msg(itest_wait_health(20) == 0, "no health 20 s after "
	    "sohbetd-start");
	ck_assert_msg(itest_master_pid() != master, "the pid file still names "
	    "the old master");
}
END_TEST

static Suite *
foundation_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("foundation");

	tc = tcase_create("basics");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_health);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_method_not_allowed);
	tcase_add_test(tc, test_payload_too_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_unsupported_media_type);
	tcase_add_test(tc, test_json_content_types_accepted);
	tcase_add_test(tc, test_invalid_json);
	tcase_add_test(tc, test_valid_json_reaches_handler);
	tcase_add_test(tc, test_nul_in_text);
	suite_add_tcase(s, tc);

	/* Destructive, in this order; each restores first. */
	tc = tcase_create("lifecycle");
	tcase_set_timeout(tc, 180);
	tcase_add_unchecked_fixture(tc, itest_exclusive,
	    itest_restore_teardown);
	tcase_add_test(tc, test_db_down_and_recovery);
	tcase_add_test(tc, test_kill_worker);
	tcase_add_test(tc, test_sighup);
	suite_add_tcase(s, tc);

	/* Stops sohbetd and starts it again (CK_RUN_CASE=sigterm alone). */
	tc = tcase_create("sigterm");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, itest_exclusive,
	    itest_restore_teardown);
	tcase_add_test(tc, test_sigterm);
	suite_add_tcase(s, tc);

	/* Rewrites sohbetd's configuration; puts it back even on failure. */
	tc = tcase_create("reload");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, itest_exclusive,
	    itest_restore_teardown);
	tcase_add_checked_fixture(tc, NULL, reload_restore_teardown);
	tcase_add_test(tc, test_reload_worker_count);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	itest_init();
	return check_run(foundation_suite());
}
