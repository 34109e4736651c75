/* SPDX-License-Identifier: ISC */
/*
 * itest_hostile.c: integration tests of hostile clients (issue 9): requests
 * malformed or oversized in every part (request line, headers, framing,
 * body, query) get a 4xx in the API's error shape, never a 5xx; slow
 * headers, slow bodies and slow readers are buffered and cut by nginx and
 * take no capacity from normal clients; valid tokens of deleted users get
 * 401, and requests about deleted servers and channels 404.
 *
 * What no client library would send goes over raw sockets to nginx's
 * plain-HTTP listener (raw.h); the rest through the harness (HTTPS).
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>

#include "chat.h"
#include "raw.h"
#include "check_run.h"

#define HEALTH		API_PREFIX "/health"
#define ANSWER_SECONDS	5.0	/* for any answer of the malformed tests */
#define BIG_CONTENT	4000	/* code points of the longest message */
#define BIG_MESSAGES	100	/* one page of BIG_CONTENT messages */
#define SLOW_HEADERS	100
#define SLOW_BODIES	50
#define SLOW_READERS	50
#define SLOW_TOTAL	(SLOW_HEADERS + SLOW_BODIES + SLOW_READERS)
#define SLOW_RCVBUF	4096	/* a slow reader's receive buffer */
#define BODY_DRIBBLE	4	/* seconds a slow body sends, then stalls */
#define NORMAL_SECONDS	7.0	/* of normal requests beside the crowd */
#define NORMAL_MAX	1.0	/* seconds a normal request may take */
#define CUT_TIMEOUT	10	/* client_header/body_timeout of nginx */
#define CUT_MARGIN	4	/* seconds late a cut may come */
#define CROWD_SECONDS	(BODY_DRIBBLE + CUT_TIMEOUT + CUT_MARGIN + 2)

/* A raw request and the status it must get (0: any 4xx). */
struct probe {
	const char	*what;
	const char	*req;
	size_t		 len;
	long		 status;
};

#define PROBE(what, req, status)	{ what, req, sizeof req - 1, status }

/* An account with a server whose general channel holds some messages. */
struct site {
	struct chat_user	 owner;
	char			*server;
	char			*channel;
	char			*base;		/* API_PREFIX "/channels/ID" */
	char			*message;	/* a message id in it */
};

/* --- the API's error shape, on raw answers ------------------------------- */

/* Assert a client error in the API's shape: 4xx (or status), JSON, code. */
static void
expect_refused(struct raw_answer *a, const char *what, long status)
{
	const struct json	*code;

	ck_assert_msg(a->status >= 400 && a->status <= 499 && (status == 0 ||
	    a->status == status), "%s: expected %s%ld, got %s", what,
	    status == 0 ? "a 4xx, not " : "", status, raw_describe(a));
	code = itest_at(a->json, "error.code");
	ck_assert_msg(code != NULL && code->type == JSON_STRING &&
	    code->len > 0, "%s: not the API's error shape: %s", what,
	    raw_describe(a));
	ck_assert_msg(strcasestr(a->text, "\r\nContent-Type: application/json")
	    != NULL, "%s: not application/json: %s", what, raw_describe(a));
}

/* Send each probe on its own connection and check its answer. */
static void
expect_probes(const struct probe *p, size_t n)
{
	struct raw_answer	*a;
	size_t			 i;

	for (i = 0; i < n; i++) {
		a = raw_exchange(p[i].req, p[i].len, ANSWER_SECONDS);
		expect_refused(a, p[i].what, p[i].status);
		raw_free(a);
	}
}

/* GET a path on a raw connection as token; assert it is refused. */
static void
expect_get_refused(const char *path, const char *token, const char *what,
    long status)
{
	struct raw_answer	*a;
	char			*req;

	req = raw_request("GET", path, token, NULL);
	a = raw_exchange(req, strlen(req), ANSWER_SECONDS);
	expect_refused(a, what, status);
	raw_free(a);
	free(req);
}

/* A string of n copies of a piece; the caller frees it. */
static char *
repeat(const char *piece, size_t n)
{
	size_t	 len = strlen(piece), i;
	char	*s;

	s = xmalloc(len * n + 1);
	for (i = 0; i < n; i++)
		memcpy(s + i * len, piece, len);
	s[len * n] = '\0';
	return s;
}

/* Make the site: an owner, a server, and a message in its channel. */
static void
site_open(struct site *s, const char *prefix)
{
	chat_user(&s->owner, prefix);
	s->server = chat_server(&s->owner, &s->channel);
	xasprintf(&s->base, API_PREFIX "/channels/%s", s->channel);
	s->message = chat_post(&s->owner, s->base, "first");
	free(chat_post(&s->owner, s->base, "second"));
}

static void
site_close(struct site *s)
{
	chat_user_free(&s->owner);
	free(s->server);
	free(s->channel);
	free(s->base);
	free(s->message);
}

/* --- malformed and oversized requests --------------------------------- */

START_TEST(test_request_line_and_headers)
{
	static const struct probe	probes[] = {
		PROBE("lower-case method",
		    "get " HEALTH " HTTP/1.1\r\nHost: x\r\n\r\n", 400),
		PROBE("unknown method",
		    "FROB " HEALTH " HTTP/1.1\r\nHost: x\r\n\r\n", 405),
		PROBE("CONNECT", "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n"
		    "\r\n", 400),
		PROBE("TRACE", "TRACE " HEALTH " HTTP/1.1\r\nHost: x\r\n\r\n",
		    405),
		PROBE("%zz in the path",
		    "GET " API_PREFIX "/users/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
		    400),
		PROBE("%00 in the path",
		    "GET " API_PREFIX "/users/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
		    400),
		PROBE("a path ending in %",
		    "GET " HEALTH "% HTTP/1.1\r\nHost: x\r\n\r\n", 400),
		PROBE("%2e%2e above the root",
		    "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
		    400),
		PROBE("../ above the root",
		    "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
		PROBE("NUL in the path",
		    "GET " API_PREFIX "/he\0alth HTTP/1.1\r\nHost: x\r\n\r\n",
		    400),
		PROBE("control character in the path",
		    "GET " API_PREFIX "/he\001alth HTTP/1.1\r\nHost: x\r\n\r\n",
		    400),
		PROBE("space in the path",
		    "GET " API_PREFIX "/he alth HTTP/1.1\r\nHost: x\r\n\r\n",
		    400),
		PROBE("NUL in a header value",
		    "GET " HEALTH " HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n",
		    400),
		PROBE("NUL in a header name",
		    "GET " HEALTH " HTTP/1.1\r\nHost: x\r\nX\0A: ab\r\n\r\n",
		    400),
		PROBE("no Host in HTTP/1.1",
		    "GET " HEALTH " HTTP/1.1\r\n\r\n", 400),
		PROBE("two Hosts",
		    "GET " HEALTH " HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
		PROBE("HTTP/2.0 in an HTTP/1 request line",
		    "GET " HEALTH " HTTP/2.0\r\nHost: x\r\n\r\n", 400),
		PROBE("HTTP/9.9", "GET " HEALTH " HTTP/9.9\r\nHost: x\r\n\r\n",
		    400),
		PROBE("a TLS handshake on plain HTTP",
		    "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400),
		PROBE("binary garbage", "\xff\xfe\xfd\r\n\r\n", 400),
	};
	struct probe	 big[4];
	char		*pad, *req[4];
	size_t		 i;

	expect_probes(probes, sizeof probes / sizeof probes[0]);

	/* Oversized: nginx's header buffers are 4 x 8 KiB. */
	pad = repeat("a", 20000);
	xasprintf(&req[0], "GET " API_PREFIX "/%s HTTP/1.1\r\nHost: x\r\n\r\n",
	    pad);
	xasprintf(&req[1], "GET " HEALTH "?q=%s HTTP/1.1\r\nHost: x\r\n\r\n",
	    pad);
	xasprintf(&req[2], "GET " HEALTH " HTTP/1.1\r\nHost: x\r\nX-Big: %s"
	    "\r\n\r\n", pad);
	free(pad);
	pad = repeat("X-Many: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
	    2000);
	xasprintf(&req[3], "GET " HEALTH " HTTP/1.1\r\nHost: x\r\n%s\r\n", pad);
	free(pad);
	big[0] = (struct probe){ "a path of 20 KB", req[0], 0, 414 };
	big[1] = (struct probe){ "a query of 20 KB", req[1], 0, 414 };
	big[2] = (struct probe){ "a header of 20 KB", req[2], 0, 400 };
	big[3] = (struct probe){ "2,000 headers", req[3], 0, 400 };
	for (i = 0; i < 4; i++)
		big[i].len = strlen(big[i].req);
	expect_probes(big, 4);
	for (i = 0; i < 4; i++)
		free(req[i]);
}
END_TEST

START_TEST(test_framing)
{
#define JSON_POST	"POST " API_PREFIX "/auth/login HTTP/1.1\r\nHost: x\r\n" \
			"Content-Type: application/json\r\n"
	static const struct probe	probes[] = {
		PROBE("Content-Length not a number",
		    JSON_POST "Content-Length: abc\r\n\r\n{}", 400),
		PROBE("a negative Content-Length",
		    JSON_POST "Content-Length: -5\r\n\r\n{}", 400),
		PROBE("Content-Length of 10^23",
		    JSON_POST "Content-Length: 100000000000000000000000\r\n\r\n"
		    "{}", 400),
		PROBE("two Content-Lengths",
		    JSON_POST "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
		    400),
		PROBE("Content-Length and chunked",
		    JSON_POST "Content-Length: 2\r\nTransfer-Encoding: chunked"
		    "\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400),
		PROBE("a bad chunk size",
		    JSON_POST "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0"
		    "\r\n\r\n", 400),
		PROBE("an unknown Transfer-Encoding",
		    JSON_POST "Transfer-Encoding: gzip\r\n\r\n", 400),
		PROBE("a Content-Length over 64 KiB",
		    JSON_POST "Content-Length: 70000\r\n\r\n{}", 413),
		PROBE("a chunked body over 64 KiB",
		    JSON_POST "Transfer-Encoding: chunked\r\n\r\n20000\r\n{}",
		    413),
	};
	static const char	 longer[] = JSON_POST "Content-Length: 2\r\n"
	    "\r\n{}xyz\r\n\r\n";
	struct raw_answer	*a;
	const char		*second;
	int			 fd;

	expect_probes(probes, sizeof probes / sizeof probes[0]);

	/*
	 * A body longer than its Content-Length: the rest is read as the
	 * next request on the connection, and refused as one (then nginx
	 * closes the connection).
	 */
	fd = raw_connect(0);
	ck_assert_msg(fd != -1, "connect: %s", strerror(errno));
	ck_assert(raw_write(fd, longer, sizeof longer - 1) == 0);
	a = raw_read_all(fd, ANSWER_SECONDS);
	close(fd);
	expect_refused(a, "a body of its Content-Length", 400);
	ck_assert_msg(strstr(a->body, "\"validation_failed\"") != NULL,
	    "the first request did not reach sohbetd: %s", raw_describe(a));
	second = strstr(a->body, "HTTP/1.1 ");
	ck_assert_msg(second != NULL && strncmp(second, "HTTP/1.1 400 ", 13) ==
	    0 && strstr(second, "\"bad_request\"") != NULL, "the bytes after "
	    "the body: %s", raw_describe(a));
	raw_free(a);

	/*
	 * A body shorter than its Content-Length, then the client shuts its
	 * side: nothing reaches sohbetd, nginx closes; no 5xx.
	 */
	fd = raw_connect(0);
	ck_assert(fd != -1);
	ck_assert(raw_write(fd, JSON_POST "Content-Length: 100\r\n\r\n{}",
	    sizeof JSON_POST "Content-Length: 100\r\n\r\n{}" - 1) == 0);
	shutdown(fd, SHUT_WR);
	a = raw_read(fd, ANSWER_SECONDS);
	close(fd);
	ck_assert_msg(a->status == 0 || (a->status >= 400 && a->status < 500),
	    "a short body then EOF: %s", raw_describe(a));
	raw_free(a);
#undef JSON_POST
}
END_TEST

/* Send a body to POST base/messages as the site's owner; the answer. */
static struct raw_answer *
post_body(const struct site *s, const char *body)
{
	struct raw_answer	*a;
	char			*path, *req;

	path = chat_path(s->base, NULL, NULL);
	req = raw_request("POST", path, s->owner.token, body);
	a = raw_exchange(req, strlen(req), ANSWER_SECONDS);
	free(req);
	free(path);
	return a;
}

/*
 * fmt (two %zu, both given i) for i = 0..n-1, concatenated; the caller
 * frees it.
 */
static char *
numbered(const char *fmt, size_t n)
{
	char	*s, piece[64];
	size_t	 len = 0, cap = 64, i;
	int	 k;

	s = xmalloc(cap);
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		k = snprintf(piece, sizeof piece, fmt, i, i);
		while (len + (size_t)k + 1 > cap) {
			cap *= 2;
			s = xreallocarray(s, 1, cap);
		}
		memcpy(s + len, piece, (size_t)k + 1);
		len += (size_t)k;
	}
	return s;
}

/* A JSON nest of depth arrays around a value: [[[...]]]; caller frees. */
static char *
nest(const char *open, const char *value, const char *close, size_t depth)
{
	char	*l, *r, *s;

	l = repeat(open, depth);
	r = repeat(close, depth);
	xasprintf(&s, "%s%s%s", l, value, r);
	free(l);
	free(r);
	return s;
}

START_TEST(test_json_bombs)
{
	struct site		 s;
	struct raw_answer	*a;
	char			*body, *part, *keys;
	size_t			 i;
	struct {
		const char	*what;
		char		*body;
		long		 status;
	} cases[7];

	site_open(&s, "hostile_json");
	part = repeat("[", 60000);
	cases[0].what = "60,000 open brackets";
	cases[0].body = part;
	cases[0].status = 400;
	part = nest("[", "1", "]", 20000);
	xasprintf(&cases[1].body, "{\"content\":%s}", part);
	free(part);
	cases[1].what = "a value nested 20,000 deep";
	cases[1].status = 400;
	part = nest("{\"a\":", "1", "}", 8000);
	cases[2].body = part;
	cases[2].what = "objects nested 8,000 deep";
	cases[2].status = 400;
	keys = numbered("k%zu\":%zu,\"", 5000);
	xasprintf(&cases[3].body, "{\"%scontent\":\"wide\"}", keys);
	free(keys);
	cases[3].what = "5,000 unknown keys (ignored; the message is posted)";
	cases[3].status = 201;
	part = repeat("\\u00e9", BIG_CONTENT + 1);
	xasprintf(&cases[4].body, "{\"content\":\"%s\"}", part);
	free(part);
	cases[4].what = "4,001 escaped code points";
	cases[4].status = 400;
	cases[5].what = "a lone surrogate";
	cases[5].body = xstrdup("{\"content\":\"a\\ud800b\"}");
	cases[5].status = 400;
	cases[6].what = "a number too large for any type";
	cases[6].body = xstrdup("{\"content\":\"x\",\"nonce\":1e400}");
	cases[6].status = 400;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		a = post_body(&s, cases[i].body);
		if (cases[i].status == 201)
			ck_assert_msg(a->status == 201, "%s: %s",
			    cases[i].what, raw_describe(a));
		else
			expect_refused(a, cases[i].what, cases[i].status);
		raw_free(a);
		free(cases[i].body);
	}

	/* One byte over 64 KiB of a valid JSON body. */
	part = repeat("x", BODY_MAX + 1 - strlen("{\"content\":\"\"}"));
	xasprintf(&body, "{\"content\":\"%s\"}", part);
	a = post_body(&s, body);
	expect_refused(a, "65,537 bytes", 413);
	raw_free(a);
	free(body);
	free(part);
	site_close(&s);
}
END_TEST

START_TEST(test_query_strings)
{
	static const struct {
		const char	*what;
		const char	*query;
		long		 status;
	} cases[] = {
		{ "limit=%ff", "limit=%ff", 400 },
		{ "raw non-UTF-8 bytes", "limit=\xff\xfe", 400 },
		{ "an overlong UTF-8 sequence", "after=%c0%b1", 400 },
		{ "after=%zz", "after=%zz", 400 },
		{ "after=%00", "after=%00", 400 },
		{ "after beyond 64 bits", "after=99999999999999999999999", 400 },
		{ "after=-1", "after=-1", 400 },
		{ "after=1e3", "after=1e3", 400 },
		{ "limit=0", "limit=0", 400 },
		{ "limit=101", "limit=101", 400 },
		{ "wait=61", "after=1&wait=61", 400 },
		{ "wait without after", "wait=1", 400 },
		{ "before and after", "before=5&after=1", 400 },
		{ "before, after and around", "before=5&after=1&around=3", 400 },
	};
	struct site		 s;
	struct raw_answer	*a;
	char			*path, *req, *params, *part;
	size_t			 i;

	site_open(&s, "hostile_query");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		path = chat_path(s.base, NULL, cases[i].query);
		expect_get_refused(path, s.owner.token, cases[i].what,
		    cases[i].status);
		free(path);
	}

	/* 100 unknown parameters are ignored. */
	part = numbered("p%zu=%zu&", 100);
	xasprintf(&params, "%slimit=1", part);
	free(part);
	path = chat_path(s.base, NULL, params);
	req = raw_request("GET", path, s.owner.token, NULL);
	a = raw_exchange(req, strlen(req), ANSWER_SECONDS);
	ck_assert_msg(a->status == 200, "100 parameters: %s",
	    raw_describe(a));
	raw_free(a);
	free(req);
	free(path);
	free(params);

	/* A repeated parameter: the first one counts. */
	path = chat_path(s.base, NULL, "limit=1&limit=100&limit=x");
	req = raw_request("GET", path, s.owner.token, NULL);
	a = raw_exchange(req, strlen(req), ANSWER_SECONDS);
	ck_assert_msg(a->status == 200 && a->body != NULL && strstr(a->body,
	    "\"second\"") != NULL && strstr(a->body, "\"first\"") == NULL,
	    "limit=1&limit=100: %s", raw_describe(a));
	raw_free(a);
	free(req);
	free(path);
	site_close(&s);
}
END_TEST

START_TEST(test_bad_ids_and_tokens)
{
	static const char	*paths[] = {
		API_PREFIX "/channels/abc/messages",
		API_PREFIX "/channels/-1/messages",
		API_PREFIX "/channels/1.5/messages",
		API_PREFIX "/channels/99999999999999999999999/messages",
		API_PREFIX "/channels/0x10/messages",
		API_PREFIX "/users/%2540me",
	};
	struct site		 s;
	char			*junk;
	size_t			 i;

	site_open(&s, "hostile_ids");
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++)
		expect_get_refused(paths[i], s.owner.token, paths[i], 0);

	/* Tokens that are no tokens: 401, whatever the bytes. */
	junk = repeat("\xff", 5000);
	expect_get_refused(API_PREFIX "/users/@me", junk, "a token of 5,000 "
	    "0xff bytes", 401);
	free(junk);
	expect_get_refused(API_PREFIX "/users/@me", "a.b.c", "a token a.b.c",
	    401);
	xasprintf(&junk, "%s.", s.owner.token);
	expect_get_refused(API_PREFIX "/users/@me", junk, "a token with a "
	    "fourth part", 401);
	free(junk);
	site_close(&s);
}
END_TEST

/* --- slow clients --------------------------------------------------------- */

enum slow_kind { SLOW_HEADER, SLOW_BODY, SLOW_READER };

/* What the crowd of slow clients saw; in shared memory. */
struct crowd {
	volatile int	 ready;		/* all connected and started */
	int		 failed;	/* could not connect */
	double		 started;	/* itest_now() when they began */
	int		 cut[3];	/* by kind: cut by the server */
	double		 first_cut[3], last_cut[3];	/* seconds */
	int		 readers_whole;	/* slow readers that got it all */
	char		 error[512];
};

/* One slow client's connection. */
struct slow {
	enum slow_kind	 kind;
	int		 fd;
};

/* Open one slow client of a kind and send its first bytes. */
static int
slow_open(struct slow *c, enum slow_kind kind, const char *reader_req)
{
	static const char	header[] = "GET " HEALTH " HTTP/1.1\r\n"
	    "Host: localhost\r\nX-Slow: ";
	static const char	body[] = "POST " API_PREFIX "/servers HTTP/1.1"
	    "\r\nHost: localhost\r\nContent-Type: application/json\r\n"
	    "Content-Length: 1000\r\n\r\n{\"name\":\"";
	const char		*first;

	c->kind = kind;
	c->fd = raw_connect(kind == SLOW_READER ? SLOW_RCVBUF : 0);
	if (c->fd == -1)
		return -1;
	first = kind == SLOW_HEADER ? header : kind == SLOW_BODY ? body :
	    reader_req;
	return raw_write(c->fd, first, strlen(first));
}

/* A second of the crowd: note the cuts, send the next byte of the rest. */
static void
crowd_tick(struct crowd *cw, struct slow *c, int n, double t)
{
	int	i, k;

	for (i = 0; i < n; i++) {
		if (c[i].fd == -1 || c[i].kind == SLOW_READER)
			continue;
		k = c[i].kind;
		if (raw_cut(c[i].fd)) {
			if (cw->cut[k]++ == 0)
				cw->first_cut[k] = t;
			cw->last_cut[k] = t;
			close(c[i].fd);
			c[i].fd = -1;
		} else if (k == SLOW_HEADER || t < BODY_DRIBBLE)
			(void)raw_write(c[i].fd, "a", 1);
	}
}

/* At last, read each slow reader's answer whole. */
static void
crowd_read(struct crowd *cw, struct slow *c, int n)
{
	struct raw_answer	*a;
	int			 i;

	for (i = 0; i < n; i++) {
		if (c[i].kind != SLOW_READER || c[i].fd == -1)
			continue;
		a = raw_read(c[i].fd, ANSWER_SECONDS);
		if (a->status == 200 && a->json == NULL && a->body != NULL &&
		    a->body[0] == '[' && a->text[a->len - 1] == ']')
			cw->readers_whole++;
		else if (cw->error[0] == '\0')
			snprintf(cw->error, sizeof cw->error, "slow reader: "
			    "%s", raw_describe(a));
		raw_free(a);
		close(c[i].fd);
	}
}

/*
 * The crowd (a child process): slow headers send a byte a second for
 * ever; slow bodies send a byte a second for BODY_DRIBBLE seconds and
 * then stall; slow readers ask for a big page and read nothing until the
 * end.  Runs CROWD_SECONDS at most, or until every writer was cut.
 */
static void NORETURN
crowd_run(struct crowd *cw, const char *reader_req)
{
	struct slow	 c[SLOW_TOTAL];
	double		 t = 0;
	int		 i, tick;

	for (i = 0; i < SLOW_TOTAL; i++) {
		if (slow_open(&c[i], i < SLOW_HEADERS ? SLOW_HEADER :
		    i < SLOW_HEADERS + SLOW_BODIES ? SLOW_BODY : SLOW_READER,
		    reader_req) == -1)
			cw->failed++;
	}
	cw->started = itest_now();
	cw->ready = 1;
	for (tick = 1; tick <= CROWD_SECONDS && cw->cut[SLOW_HEADER] +
	    cw->cut[SLOW_BODY] < SLOW_HEADERS + SLOW_BODIES; tick++) {
		itest_sleep_ms(1000);
		t = itest_now() - cw->started;
		crowd_tick(cw, c, SLOW_TOTAL, t);
	}
	crowd_read(cw, c, SLOW_TOTAL);
	for (i = 0; i < SLOW_TOTAL; i++) {
		if (c[i].kind != SLOW_READER && c[i].fd != -1)
			close(c[i].fd);
	}
	_exit(0);
}

/* Normal requests while the crowd is there: each answers in time. */
static void
normal_requests(const struct site *s, double seconds)
{
	struct itest_response	*r;
	char			*page, *post;
	double			 until = itest_now() + seconds, worst = 0;
	int			 i, n = 0;

	page = chat_path(s->base, NULL, "limit=5");
	post = chat_path(s->base, NULL, NULL);
	while (itest_now() < until) {
		for (i = 0; i < 3; i++) {
			if (i == 0)
				r = itest_get(HEALTH, NULL);
			else if (i == 1)
				r = itest_get(page, s->owner.token);
			else
				r = itest_send("POST", post, s->owner.token,
				    "{\"content\":\"normal %d\"}", n);
			ck_assert_msg(r->status == 200 || r->status == 201,
			    "a normal request beside the slow clients: %s",
			    itest_describe(r));
			ck_assert_msg(r->seconds < NORMAL_MAX, "a normal request "
			    "took %.2f s beside %d slow clients: %s",
			    r->seconds, SLOW_TOTAL, itest_describe(r));
			if (r->seconds > worst)
				worst = r->seconds;
			itest_free(r);
			n++;
		}
		itest_sleep_ms(50);
	}
	free(page);
	free(post);
	fprintf(stderr, "itest: %d normal requests beside %d slow clients, "
	    "slowest %.3f s\n", n, SLOW_TOTAL, worst);
}

/* Post BIG_MESSAGES messages of BIG_CONTENT characters (a big page). */
static void
fill_big(const struct site *s)
{
	char	*text;
	int	 i;

	text = repeat("x", BIG_CONTENT);
	for (i = 0; i < BIG_MESSAGES; i++)
		free(chat_post(&s->owner, s->base, text));
	free(text);
}

/* Assert the writers of a kind were all cut, within a window. */
static void
expect_cut(const struct crowd *cw, enum slow_kind k, int n, double from,
    double to, const char *what)
{
	ck_assert_msg(cw->cut[k] == n, "%d of %d %s were cut by the server "
	    "within %.0f s", cw->cut[k], n, what, to);
	ck_assert_msg(cw->first_cut[k] >= from && cw->last_cut[k] <= to,
	    "%s were cut from %.1f s to %.1f s (want %.0f..%.0f s)", what,
	    cw->first_cut[k], cw->last_cut[k], from, to);
}

START_TEST(test_slow_clients)
{
	struct site	 s;
	struct crowd	*cw;
	pid_t		 pid;
	char		*path, *reader;
	int		 status;

	site_open(&s, "hostile_slow");
	fill_big(&s);
	path = chat_path(s.base, NULL, "limit=100");
	reader = raw_request("GET", path, s.owner.token, NULL);
	free(path);
	itest_set_timeout(5);

	cw = mmap(NULL, sizeof *cw, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(cw != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(cw, 0, sizeof *cw);
	fflush(stderr);
	ck_assert_msg((pid = fork()) != -1, "fork: %s", strerror(errno));
	if (pid == 0)
		crowd_run(cw, reader);
	while (!cw->ready && waitpid(pid, &status, WNOHANG) == 0)
		itest_sleep_ms(20);
	ck_assert_msg(cw->ready && cw->failed == 0, "%d of %d slow clients "
	    "could not connect", cw->failed, SLOW_TOTAL);

	normal_requests(&s, NORMAL_SECONDS);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	fprintf(stderr, "itest: slow headers cut %d (%.1f..%.1f s), slow "
	    "bodies cut %d (%.1f..%.1f s), slow readers whole %d\n",
	    cw->cut[SLOW_HEADER], cw->first_cut[SLOW_HEADER],
	    cw->last_cut[SLOW_HEADER], cw->cut[SLOW_BODY],
	    cw->first_cut[SLOW_BODY], cw->last_cut[SLOW_BODY],
	    cw->readers_whole);
	expect_cut(cw, SLOW_HEADER, SLOW_HEADERS, CUT_TIMEOUT - 1,
	    CUT_TIMEOUT + CUT_MARGIN, "slow headers");
	expect_cut(cw, SLOW_BODY, SLOW_BODIES, BODY_DRIBBLE + CUT_TIMEOUT - 2,
	    BODY_DRIBBLE + CUT_TIMEOUT + CUT_MARGIN, "stalled bodies");
	ck_assert_msg(cw->readers_whole == SLOW_READERS, "%d of %d slow "
	    "readers got their whole answer at last; %s", cw->readers_whole,
	    SLOW_READERS, cw->error);
	munmap(cw, sizeof *cw);
	free(reader);
	site_close(&s);
}
END_TEST

/* --- deleted users, servers and channels -------------------------------- */

/* Send a request (body: JSON or NULL) and assert a status and code. */
static void
expect_call(const struct chat_user *u, const char *method, const char *path,
    const char *body, long status, const char *code)
{
	struct itest_response	*r;

	r = itest_request(method, path, u->token, body != NULL ?
	    "application/json" : NULL, body, body != NULL ? strlen(body) : 0);
	itest_expect_error(r, status, code);
	itest_free(r);
}

START_TEST(test_deleted_user)
{
	struct chat_user	 u, v;
	struct site		 s;
	struct itest_response	*r;
	char			*sql, *path, *dm;

	chat_user(&u, "hostile_gone");
	chat_user(&v, "hostile_stays");
	site_open(&s, "hostile_site");
	chat_join(&s.owner, s.server, &u);
	free(chat_post(&u, s.base, "from a user about to vanish"));
	dm = chat_dm(&u, &v);

	xasprintf(&sql, "DELETE FROM users WHERE id = %s", u.id);
	ck_assert_msg(itest_sql(sql) == 0, "mariadb failed: %s", sql);
	free(sql);
	itest_settle_cache();

	/* The token is well signed and unexpired, but names nobody. */
	expect_call(&u, "GET", API_PREFIX "/users/@me", NULL, 401,
	    "unauthorized");
	expect_call(&u, "GET", API_PREFIX "/users/@me/servers", NULL, 401,
	    "unauthorized");
	expect_call(&u, "POST", API_PREFIX "/servers", "{\"name\":\"x\"}", 401,
	    "unauthorized");
	path = chat_path(s.base, NULL, NULL);
	expect_call(&u, "POST", path, "{\"content\":\"ghost\"}", 401,
	    "unauthorized");
	free(path);
	expect_call(&u, "GET", API_PREFIX "/events", NULL, 401,
	    "unauthorized");
	expect_call(&u, "GET", API_PREFIX "/dms", NULL, 401, "unauthorized");

	/* To others the user is gone, and so is the DM with them. */
	xasprintf(&path, API_PREFIX "/users/%s", u.id);
	expect_call(&v, "GET", path, NULL, 404, "not_found");
	free(path);
	xasprintf(&path, API_PREFIX "/dms/%s", dm);
	expect_call(&v, "GET", path, NULL, 404, "not_found");
	free(path);
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", s.server, u.id);
	expect_call(&s.owner, "GET", path, NULL, 404, "not_found");
	free(path);
	r = itest_send("POST", API_PREFIX "/auth/login", NULL,
	    "{\"login\":\"%s\",\"password\":\"correct horse battery\"}",
	    u.username);
	itest_expect_error(r, 401, "invalid_credentials");
	itest_free(r);

	free(dm);
	site_close(&s);
	chat_user_free(&v);
	chat_user_free(&u);
}
END_TEST

/* A long-poll on a channel's messages in a child: its status on a pipe. */
static pid_t
wait_poll_start(const struct chat_user *u, const char *base,
    const char *after, long wait, int *out)
{
	struct itest_response	*r;
	char			*query, *path, line[32];
	pid_t			 pid;
	int			 p[2], n;

	ck_assert(pipe(p) == 0);
	fflush(stderr);
	ck_assert((pid = fork()) != -1);
	if (pid == 0) {
		close(p[0]);
		xasprintf(&query, "after=%s&wait=%ld", after, wait);
		path = chat_path(base, NULL, query);
		r = itest_get(path, u->token);
		n = snprintf(line, sizeof line, "%ld %.1f\n", r->status,
		    r->seconds);
		_exit(write(p[1], line, (size_t)n) == n ? 0 : 1);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

/* The status a long-poll child reported (0: none), after waiting. */
static long
wait_poll_end(pid_t pid, int fd, double *seconds)
{
	FILE	*f;
	long	 status = 0;
	int	 ws;

	*seconds = -1;
	f = fdopen(fd, "r");
	if (f == NULL || fscanf(f, "%ld %lf", &status, seconds) != 2)
		status = 0;
	if (f != NULL)
		fclose(f);
	while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
		;
	return status;
}

/* Assert every request about a channel of the site is 404 for u. */
static void
expect_channel_gone(const struct chat_user *u, const char *channel,
    const char *message)
{
	char	*base, *path;

	xasprintf(&base, API_PREFIX "/channels/%s", channel);
	expect_call(u, "GET", base, NULL, 404, "not_found");
	expect_call(u, "PATCH", base, "{\"name\":\"x\"}", 404, "not_found");
	path = chat_path(base, NULL, NULL);
	expect_call(u, "GET", path, NULL, 404, "not_found");
	expect_call(u, "POST", path, "{\"content\":\"late\"}", 404,
	    "not_found");
	free(path);
	path = chat_path(base, NULL, "after=0&wait=5");
	expect_call(u, "GET", path, NULL, 404, "not_found");
	free(path);
	path = chat_path(base, message, NULL);
	expect_call(u, "PATCH", path, "{\"content\":\"edit\"}", 404,
	    "not_found");
	expect_call(u, "DELETE", path, NULL, 404, "not_found");
	free(path);
	free(base);
}

/*
 * A poll parked on a channel that is deleted ends by its wait with 200
 * [] or at once with 404; never a 5xx, never a hang.
 */
static void
expect_poll_ended(pid_t pid, int fd, long wait)
{
	double	seconds;
	long	status;

	status = wait_poll_end(pid, fd, &seconds);
	ck_assert_msg((status == 200 || status == 404) && seconds < wait + 2.0,
	    "a poll parked on a deleted channel ended with %ld after %.1f s "
	    "(wait=%ld)", status, seconds, wait);
}

/* POST a JSON body to a server's sub-path as u (201); the new "field". */
static char *
create(const struct chat_user *u, const char *server, const char *what,
    const char *body, const char *field)
{
	struct itest_response	*r;
	char			*path, *v;

	xasprintf(&path, API_PREFIX "/servers/%s/%s", server, what);
	r = itest_send("POST", path, u->token, "%s", body);
	itest_expect(r, 201);
	ck_assert_msg(itest_str(r, field) != NULL, "no %s: %s", field,
	    itest_describe(r));
	v = xstrdup(itest_str(r, field));
	itest_free(r);
	free(path);
	return v;
}

/*
 * Delete what is at path (204) while m holds a long-poll on a channel's
 * messages; the poll must end by its wait, never hang or fail.
 */
static void
delete_under_poll(const struct chat_user *owner, const char *path,
    const struct chat_user *m, const char *base, const char *after)
{
	struct itest_response	*r;
	pid_t			 pid;
	int			 fd;

	pid = wait_poll_start(m, base, after, 3, &fd);
	itest_sleep_ms(300);
	r = itest_delete(path, owner->token);
	ck_assert_msg(r->status == 204, "DELETE %s: %s", path,
	    itest_describe(r));
	itest_free(r);
	expect_poll_ended(pid, fd, 3);
}

START_TEST(test_deleted_channel)
{
	struct site		 s;
	struct chat_user	 m;
	char			*channel, *base, *msg;

	site_open(&s, "hostile_chan");
	chat_user(&m, "hostile_member");
	chat_join(&s.owner, s.server, &m);
	channel = create(&s.owner, s.server, "channels", "{\"name\":\"doomed\"}",
	    "id");
	xasprintf(&base, API_PREFIX "/channels/%s", channel);
	msg = chat_post(&m, base, "in a doomed channel");
	delete_under_poll(&s.owner, base, &m, base, msg);
	expect_channel_gone(&m, channel, msg);
	expect_channel_gone(&s.owner, channel, msg);

	/* The rest of the server is untouched. */
	free(chat_post(&m, s.base, "still here"));
	free(msg);
	free(base);
	free(channel);
	chat_user_free(&m);
	site_close(&s);
}
END_TEST

START_TEST(test_deleted_server)
{
	struct site		 s;
	struct chat_user	 m;
	struct itest_response	*r;
	char			*path, *code;

	site_open(&s, "hostile_srv");
	chat_user(&m, "hostile_member");
	chat_join(&s.owner, s.server, &m);
	code = create(&s.owner, s.server, "invites", "{}", "code");
	xasprintf(&path, API_PREFIX "/servers/%s", s.server);
	delete_under_poll(&s.owner, path, &m, s.base, s.message);

	expect_call(&m, "GET", path, NULL, 404, "not_found");
	expect_call(&s.owner, "GET", path, NULL, 404, "not_found");
	expect_call(&s.owner, "PATCH", path, "{\"name\":\"x\"}", 404,
	    "not_found");
	expect_call(&s.owner, "DELETE", path, NULL, 404, "not_found");
	free(path);
	xasprintf(&path, API_PREFIX "/servers/%s/channels", s.server);
	expect_call(&m, "GET", path, NULL, 404, "not_found");
	expect_call(&s.owner, "POST", path, "{\"name\":\"x\"}", 404,
	    "not_found");
	free(path);
	xasprintf(&path, API_PREFIX "/servers/%s/members/@me", s.server);
	expect_call(&m, "GET", path, NULL, 404, "not_found");
	expect_call(&m, "DELETE", path, NULL, 404, "not_found");
	free(path);
	xasprintf(&path, API_PREFIX "/servers/%s/roles", s.server);
	expect_call(&s.owner, "GET", path, NULL, 404, "not_found");
	free(path);
	xasprintf(&path, API_PREFIX "/invites/%s", code);
	expect_call(&m, "GET", path, NULL, 404, "not_found");
	expect_call(&m, "POST", path, "{}", 404, "not_found");
	free(path);
	expect_channel_gone(&m, s.channel, s.message);
	expect_channel_gone(&s.owner, s.channel, s.message);

	/* Their accounts live on. */
	r = itest_get(API_PREFIX "/users/@me/servers", m.token);
	itest_expect(r, 200);
	itest_free(r);

	free(code);
	chat_user_free(&m);
	site_close(&s);
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("hostile");

	tc = tcase_create("malformed");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_request_line_and_headers);
	tcase_add_test(tc, test_framing);
	tcase_add_test(tc, test_json_bombs);
	tcase_add_test(tc, test_query_strings);
	tcase_add_test(tc, test_bad_ids_and_tokens);
	suite_add_tcase(s, tc);

	tc = tcase_create("deleted");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_deleted_user);
	tcase_add_test(tc, test_deleted_channel);
	tcase_add_test(tc, test_deleted_server);
	suite_add_tcase(s, tc);

	tc = tcase_create("slow");
	tcase_set_timeout(tc, 90);
	/* The latency measurements want the stack alone. */
	tcase_add_unchecked_fixture(tc, itest_exclusive, NULL);
	tcase_add_test(tc, test_slow_clients);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	itest_init();
	signal(SIGPIPE, SIG_IGN);
	return check_run(hostile_suite());
}
