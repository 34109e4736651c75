/* SPDX-License-Identifier: ISC */
/*
 * itest_keepalive.c: when nginx asks to keep a FastCGI connection open
 * (fastcgi_keep_conn sets FCGI_KEEP_CONN), sohbetd answers a request and
 * reads the next one on the same connection; it lets go of a kept
 * connection that nginx closes, idle or with a parked poll on it (the
 * client went away).  Without it, a crowd of clients polling again after
 * a broadcast made one new connection each, all at once, and overflowed
 * the socket's listen queue (nginx answered 502; docs/benchmarks.md).
 *
 * The tests speak FastCGI to sohbetd's socket themselves, as nginx does,
 * and read /metrics the same way (on connections not kept), so that
 * nginx's own connections do not move the gauges; the last one checks
 * through nginx that its configuration keeps the connections of /events
 * polls (and of nothing else).  The case has the stack to itself.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "itest.h"
#include "check_run.h"

/* FastCGI 1.0 (fastcgi.h is not installed by libfcgi-dev). */
#define FCGI_BEGIN_REQUEST	1
#define FCGI_END_REQUEST	3
#define FCGI_PARAMS		4
#define FCGI_STDIN		5
#define FCGI_STDOUT		6
#define FCGI_RESPONDER		1
#define FCGI_KEEP_CONN		1

#define IDLE_GAUGE	"sohbet_fastcgi_idle_connections"
#define KEPT_COUNTER	"sohbet_fastcgi_kept_requests_total"
#define ANSWER_WITHIN	10.0	/* seconds for any answer */
#define CONNECTIONS	16	/* kept open at once by one test */

/* A request's records: at most a few parameters of short values. */
struct fcgi_buf {
	unsigned char	 b[4096];
	size_t		 len;
};

/* Append a record of request 1 (no padding). */
static void
fcgi_record(struct fcgi_buf *f, int type, const void *content, size_t len)
{
	unsigned char	*h;

	ck_assert(f->len + 8 + len <= sizeof f->b);
	h = f->b + f->len;
	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = 0;
	h[3] = 1;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = 0;
	h[7] = 0;
	if (len > 0)
		memcpy(h + 8, content, len);
	f->len += 8 + len;
}

/* Append the length of a name or value to a PARAMS body (1 or 4 bytes). */
static size_t
fcgi_length(unsigned char *p, size_t len)
{
	if (len < 128) {
		p[0] = (unsigned char)len;
		return 1;
	}
	p[0] = (unsigned char)(0x80 | len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
	return 4;
}

/* Append one name-value pair to a PARAMS body of *len bytes. */
static void
fcgi_pair(unsigned char *p, size_t *len, size_t size, const char *name,
    const char *value)
{
	size_t	nl = strlen(name), vl = strlen(value);

	ck_assert(*len + 8 + nl + vl <= size);
	*len += fcgi_length(p + *len, nl);
	*len += fcgi_length(p + *len, vl);
	memcpy(p + *len, name, nl);
	memcpy(p + *len + nl, value, vl);
	*len += nl + vl;
}

/* A connection to sohbetd's FastCGI socket, as nginx makes one. */
static int
fcgi_connect(void)
{
	struct sockaddr_un	 sun;
	char			*path;
	int			 fd;

	path = itest_conf("server", "listen");
	ck_assert_msg(path != NULL && path[0] == '/', "the stack's sohbetd "
	    "listens on no unix socket");
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert(strlen(path) < sizeof sun.sun_path);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(fd != -1);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0,
	    "connect %s: %s", path, strerror(errno));
	free(path);
	return fd;
}

/*
 * Send a request for target (as token, unless NULL) on a connection,
 * asking to keep it open (keep) or not, as nginx does: BEGIN_REQUEST,
 * PARAMS and STDIN (the JSON body, unless NULL, then its end) in one
 * write.
 */
static void
fcgi_request(int fd, const char *method, const char *target,
    const char *token, const char *body, int keep)
{
	struct fcgi_buf	 f;
	unsigned char	 begin[8] = { 0, FCGI_RESPONDER, 0 };
	unsigned char	 params[2048];
	const char	*q = strchr(target, '?');
	char		*auth = NULL, *uri, cl[32];
	size_t		 len = 0;

	memset(&f, 0, sizeof f);
	begin[2] = keep ? FCGI_KEEP_CONN : 0;
	uri = strndup(target, q != NULL ? (size_t)(q - target) :
	    strlen(target));
	fcgi_pair(params, &len, sizeof params, "REQUEST_METHOD", method);
	fcgi_pair(params, &len, sizeof params, "REQUEST_URI", target);
	fcgi_pair(params, &len, sizeof params, "DOCUMENT_URI", uri);
	fcgi_pair(params, &len, sizeof params, "QUERY_STRING",
	    q != NULL ? q + 1 : "");
	fcgi_pair(params, &len, sizeof params, "REMOTE_ADDR", "127.0.0.1");
	fcgi_pair(params, &len, sizeof params, "SERVER_PROTOCOL",
	    "HTTP/1.1");
	if (token != NULL) {
		xasprintf(&auth, "Bearer %s", token);
		fcgi_pair(params, &len, sizeof params, "HTTP_AUTHORIZATION",
		    auth);
	}
	if (body != NULL) {
		snprintf(cl, sizeof cl, "%zu", strlen(body));
		fcgi_pair(params, &len, sizeof params, "CONTENT_TYPE",
		    "application/json");
		fcgi_pair(params, &len, sizeof params, "CONTENT_LENGTH", cl);
	}
	fcgi_record(&f, FCGI_BEGIN_REQUEST, begin, sizeof begin);
	fcgi_record(&f, FCGI_PARAMS, params, len);
	fcgi_record(&f, FCGI_PARAMS, NULL, 0);
	if (body != NULL && body[0] != '\0')
		fcgi_record(&f, FCGI_STDIN, body, strlen(body));
	fcgi_record(&f, FCGI_STDIN, NULL, 0);
	ck_assert_msg(send(fd, f.b, f.len, MSG_NOSIGNAL) == (ssize_t)f.len,
	    "%s %s: the connection is gone (%s)", method, target,
	    strerror(errno));
	free(auth);
	free(uri);
}

/* Send GET target (as token, unless NULL) on a connection (above). */
static void
fcgi_get(int fd, const char *target, const char *token, int keep)
{
	fcgi_request(fd, "GET", target, token, NULL, keep);
}

/* Read exactly len bytes within the deadline; 0, or -1 (closed, late). */
static int
fcgi_read(int fd, unsigned char *p, size_t len, double deadline)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	ssize_t		n;
	double		left;

	while (len > 0) {
		if ((left = deadline - itest_now()) <= 0 ||
		    poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			return -1;
		if ((n = read(fd, p, len)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read one answer: its HTTP status (from the Status line) and its body
 * in *body (free it; NULL allowed); 0 when the connection closed (or
 * nothing came within ANSWER_WITHIN s) before the request's end.
 */
static long
fcgi_answer(int fd, char **body)
{
	unsigned char	 h[8], content[65536 + 256];
	char		*out = NULL, *p;
	size_t		 out_len = 0, len;
	double		 deadline = itest_now() + ANSWER_WITHIN;
	long		 status = 0;

	for (;;) {
		if (fcgi_read(fd, h, sizeof h, deadline) == -1)
			goto closed;
		len = (size_t)h[4] << 8 | h[5];
		if (fcgi_read(fd, content, len + h[6], deadline) == -1)
			goto closed;
		if (h[1] == FCGI_END_REQUEST)
			break;
		if (h[1] != FCGI_STDOUT)
			continue;
		out = xreallocarray(out, out_len + len + 1, 1);
		memcpy(out + out_len, content, len);
		out_len += len;
		out[out_len] = '\0';
	}
	if (out != NULL && strncmp(out, "Status: ", 8) == 0)
		status = strtol(out + 8, NULL, 10);
	if (body != NULL) {
		p = out != NULL ? strstr(out, "\r\n\r\n") : NULL;
		*body = xstrdup(p != NULL ? p + 4 : "");
	}
	free(out);
	return status;
closed:
	free(out);
	if (body != NULL)
		*body = NULL;
	return 0;
}

/* Whether the peer closed the connection (within a second). */
static int
fcgi_closed(int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		c;

	return poll(&pfd, 1, 1000) == 1 && read(fd, &c, 1) == 0;
}

/* A counter or gauge of /metrics, read on a connection of its own. */
static long
fcgi_metric(const char *name)
{
	char	*body;
	long	 v;
	int	 fd;

	fd = fcgi_connect();
	fcgi_get(fd, "/metrics", NULL, 0);
	ck_assert_int_eq(fcgi_answer(fd, &body), 200);
	close(fd);
	v = itest_metric_in(body, name);
	free(body);
	return v;
}

/*
 * Read a metric until it is within lo..hi, at most ANSWER_WITHIN s; its
 * value.
 */
static long
fcgi_await_metric(const char *name, long lo, long hi)
{
	double	deadline = itest_now() + ANSWER_WITHIN;
	long	v;

	while (((v = fcgi_metric(name)) < lo || v > hi) &&
	    itest_now() < deadline)
		itest_sleep_ms(50);
	return v;
}

/* GET target on a kept connection; assert a 200 whose body holds text. */
static void
fcgi_expect(int fd, const char *target, const char *token, const char *text)
{
	char	*body;
	long	 status;

	fcgi_get(fd, target, token, 1);
	status = fcgi_answer(fd, &body);
	ck_assert_msg(status == 200 && strstr(body, text) != NULL,
	    "GET %s on a kept connection: %ld %s", target, status,
	    body != NULL ? body : "(closed)");
	free(body);
}

/*
 * Requests one after the other on one connection are each answered, in
 * order; one that does not ask to keep it is answered and the connection
 * closed after it.
 */
START_TEST(test_requests_in_order_on_one_connection)
{
	struct chat_user	 u;
	long			 kept0;
	int			 fd, i;

	itest_require_stack();
	chat_user(&u, "keep");
	kept0 = fcgi_metric(KEPT_COUNTER);
	fd = fcgi_connect();
	for (i = 0; i < 3; i++) {
		fcgi_expect(fd, API_PREFIX "/health", NULL, "\"ok\"");
		fcgi_expect(fd, API_PREFIX "/users/@me", u.token, u.username);
	}
	ck_assert_int_ge(fcgi_metric(KEPT_COUNTER), kept0 + 5);
	fcgi_get(fd, API_PREFIX "/health", NULL, 0);
	ck_assert_int_eq(fcgi_answer(fd, NULL), 200);
	ck_assert_msg(fcgi_closed(fd), "a connection nginx did not ask to "
	    "keep stayed open");
	close(fd);
	chat_user_free(&u);
}
END_TEST

/*
 * A poll parked on a kept connection (its libfcgi buffers given back) is
 * woken by a message, and the connection then takes the next request.
 */
START_TEST(test_parked_poll_on_kept_connection)
{
	struct chat_room	 room;
	char			*head, *path, *id, *body;
	long			 parked0;
	int			 fd;

	itest_require_stack();
	chat_room_open(&room, "keeppoll");
	head = itest_events_head(room.member.token);
	fd = fcgi_connect();
	fcgi_expect(fd, API_PREFIX "/health", NULL, "\"ok\"");
	parked0 = fcgi_metric(ITEST_PARKED);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=30", head);
	fcgi_get(fd, path, room.member.token, 1);
	ck_assert_int_eq(fcgi_await_metric(ITEST_PARKED, parked0 + 1,
	    parked0 + 1), parked0 + 1);
	id = chat_post(&room.owner, room.base, "wakes a kept connection");
	ck_assert_int_eq(fcgi_answer(fd, &body), 200);
	ck_assert_msg(strstr(body, id) != NULL, "the poll's answer lacks the "
	    "message: %s", body);
	fcgi_expect(fd, API_PREFIX "/users/@me", room.member.token,
	    room.member.username);
	close(fd);
	free(body);
	free(id);
	free(path);
	free(head);
	chat_room_close(&room);
}
END_TEST

/*
 * Kept connections that nginx closes while idle are let go: the workers'
 * count of idle connections falls by as many.  (nginx's own idle
 * connections to the stack, which it may close meanwhile, can only make
 * the count smaller.)
 */
START_TEST(test_idle_connections_closed_are_released)
{
	long	idle;
	int	fds[CONNECTIONS], i;

	itest_require_stack();
	for (i = 0; i < CONNECTIONS; i++) {
		fds[i] = fcgi_connect();
		fcgi_expect(fds[i], API_PREFIX "/health", NULL, "\"ok\"");
	}
	idle = fcgi_await_metric(IDLE_GAUGE, CONNECTIONS, LONG_MAX);
	ck_assert_msg(idle >= CONNECTIONS, "%ld idle connections, with %d "
	    "kept", idle, CONNECTIONS);
	for (i = 0; i < CONNECTIONS; i++)
		close(fds[i]);
	ck_assert_int_le(fcgi_await_metric(IDLE_GAUGE, 0, idle - CONNECTIONS),
	    idle - CONNECTIONS);
}
END_TEST

/*
 * A poll parked on a kept connection whose client goes away (nginx
 * closes the connection) is dropped, and the connection is not kept.
 */
START_TEST(test_parked_poll_aborted_on_kept_connection)
{
	struct chat_user	 u;
	char			*head, *path;
	long			 parked0, idle;
	int			 fd;

	itest_require_stack();
	chat_user(&u, "keepgone");
	head = itest_events_head(u.token);
	fd = fcgi_connect();
	fcgi_expect(fd, API_PREFIX "/health", NULL, "\"ok\"");
	parked0 = fcgi_metric(ITEST_PARKED);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=30", head);
	fcgi_get(fd, path, u.token, 1);
	ck_assert_int_eq(fcgi_await_metric(ITEST_PARKED, parked0 + 1,
	    parked0 + 1), parked0 + 1);
	idle = fcgi_metric(IDLE_GAUGE);
	close(fd);
	ck_assert_int_eq(fcgi_await_metric(ITEST_PARKED, parked0, parked0),
	    parked0);
	/* Dropped, not kept: the idle count does not grow back. */
	itest_sleep_ms(200);
	ck_assert_int_le(fcgi_metric(IDLE_GAUGE), idle);
	free(path);
	free(head);
	chat_user_free(&u);
}
END_TEST

/*
 * Polls parked one after the other on one kept connection, as a client
 * polling again through nginx does: each is answered (its timeout), the
 * connection takes the next, and the last, whose client goes away while
 * it is parked, is dropped at once (the worker keeps a kept connection
 * in its epoll set under one watch and hands its events to whoever
 * waits on it: the worker while idle, the parked poll).
 */
START_TEST(test_polls_parked_again_on_kept_connection)
{
	struct chat_user	 u;
	char			*head, *path, *body;
	long			 parked0;
	double			 t0;
	int			 fd, i;

	itest_require_stack();
	chat_user(&u, "keepagain");
	head = itest_events_head(u.token);
	fd = fcgi_connect();
	fcgi_expect(fd, API_PREFIX "/health", NULL, "\"ok\"");
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=1", head);
	for (i = 0; i < 3; i++) {
		t0 = itest_now();
		fcgi_get(fd, path, u.token, 1);
		ck_assert_int_eq(fcgi_answer(fd, &body), 200);
		ck_assert_msg(itest_now() - t0 >= 0.9, "poll %d on the kept "
		    "connection was answered after %.3f s, before its "
		    "timeout: %s", i, itest_now() - t0, body);
		free(body);
	}
	free(path);
	parked0 = fcgi_metric(ITEST_PARKED);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=30", head);
	fcgi_get(fd, path, u.token, 1);
	ck_assert_int_eq(fcgi_await_metric(ITEST_PARKED, parked0 + 1,
	    parked0 + 1), parked0 + 1);
	close(fd);
	ck_assert_int_eq(fcgi_await_metric(ITEST_PARKED, parked0, parked0),
	    parked0);
	free(path);
	free(head);
	chat_user_free(&u);
}
END_TEST

/*
 * nginx's configuration keeps its connections to sohbetd for /events
 * polls, and for them only.
 */
START_TEST(test_nginx_keeps_event_connections)
{
	struct chat_user	 u;
	struct itest_response	*r;
	char			*head, *path;
	long			 kept0;
	int			 i;

	itest_require_stack();
	chat_user(&u, "keepnginx");
	head = itest_events_head(u.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=0", head);
	kept0 = fcgi_metric(KEPT_COUNTER);
	for (i = 0; i < 5; i++) {
		r = itest_get(path, u.token);
		itest_expect(r, 200);
		itest_free(r);
	}
	/* Two nginx workers may each open one first. */
	ck_assert_int_ge(fcgi_metric(KEPT_COUNTER), kept0 + 3);
	kept0 = fcgi_metric(KEPT_COUNTER);
	for (i = 0; i < 5; i++) {
		r = itest_get(API_PREFIX "/health", NULL);
		itest_expect(r, 200);
		itest_free(r);
	}
	ck_assert_int_eq(fcgi_metric(KEPT_COUNTER), kept0);
	free(path);
	free(head);
	chat_user_free(&u);
}
END_TEST

/*
 * This stack's workers' parked polls, from /metrics
 * (sohbet_worker_parked_polls, one line a worker) into parked (at most
 * max); how many workers.
 */
static int
fcgi_parked_per_worker(long *parked, int max)
{
	const char	*line = "sohbet_worker_parked_polls{pid=\"", *p;
	char		*body;
	int		 fd, n = 0;

	fd = fcgi_connect();
	fcgi_get(fd, "/metrics", NULL, 0);
	ck_assert_int_eq(fcgi_answer(fd, &body), 200);
	close(fd);
	for (p = body; n < max && (p = strstr(p, line)) != NULL; n++) {
		p = strchr(p, '}');
		ck_assert_ptr_nonnull(p);
		parked[n] = strtol(p + 1, NULL, 10);
	}
	free(body);
	return n;
}

#define SPREAD_USERS	12
#define SPREAD_POLLS	(SPREAD_USERS * 20)	/* at most the per-user cap */
#define SPREAD_SLACK	32			/* worker.c's */

/*
 * Long-polls on kept connections are spread over the workers: a worker
 * that holds more than an even share of the connections and
 * WORKER_SHARE_SLACK leaves the listen queue to the others
 * (worker_over_share()).  A connection nginx keeps stays with the
 * worker that accepted it, and EPOLLEXCLUSIVE wakes the worker that
 * waits first: polls coming one after the other, each parked before
 * the next, went 219 and 21 to two workers here without it, and 9,000
 * through nginx about 6,000 and 3,000, the fuller worker's clients
 * waiting twice as long for their turn of typing hints (poll_hurry();
 * issue 22).
 */
START_TEST(test_polls_spread_over_workers)
{
	struct chat_user	 u[SPREAD_USERS];
	long			 before[4], after[4], most = 0, least = LONG_MAX;
	long			 parked0;
	char			*head, *path, name[32];
	int			 fds[SPREAD_POLLS], i, n;

	itest_require_stack();
	n = fcgi_parked_per_worker(before, 4);
	if (n < 2)
		return;		/* one worker: nothing to spread */
	for (i = 0; i < SPREAD_USERS; i++) {
		snprintf(name, sizeof name, "spread%d", i);
		chat_user(&u[i], name);
	}
	head = itest_events_head(u[0].token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=30", head);
	/* One after the other, each parked before the next comes. */
	parked0 = fcgi_metric(ITEST_PARKED);
	for (i = 0; i < SPREAD_POLLS; i++) {
		fds[i] = fcgi_connect();
		fcgi_get(fds[i], path, u[i % SPREAD_USERS].token, 1);
		ck_assert_int_ge(fcgi_await_metric(ITEST_PARKED,
		    parked0 + i + 1, LONG_MAX), parked0 + i + 1);
	}
	ck_assert_int_eq(fcgi_parked_per_worker(after, 4), n);
	for (i = 0; i < n; i++) {
		after[i] -= before[i];
		most = after[i] > most ? after[i] : most;
		least = after[i] < least ? after[i] : least;
	}
	ck_assert_msg(most - least <= 2 * SPREAD_SLACK + 8, "%d polls parked "
	    "%ld and %ld in the fullest and emptiest of %d workers",
	    SPREAD_POLLS, most, least, n);
	for (i = 0; i < SPREAD_POLLS; i++)
		close(fds[i]);
	for (i = 0; i < SPREAD_USERS; i++)
		chat_user_free(&u[i]);
	free(path);
	free(head);
}
END_TEST

#define LOOK_KEPT	192	/* kept connections with a request waiting */
#define LOOK_EVERY	16	/* worker.c's WORKER_LOOK_EVERY */

/*
 * A connection waiting on the listen socket is taken before the requests
 * that came on kept connections before it, or at most LOOK_EVERY of
 * them: epoll names ready descriptors in the order they became ready,
 * and in a storm of typing a POST (every request but a poll comes on a
 * new connection) waited behind rounds of polls (issue 22).  The
 * workers are stopped while the requests come: LOOK_KEPT polls with
 * timeout=0 on kept connections, which are answered at once, then a
 * message sent on a new connection.  One worker goes on alone; every
 * poll it answers after it took the send holds the message.  The other
 * goes on once the send is answered.  Spread over the workers
 * (test_polls_spread_over_workers), each holds more than a round of
 * epoll events (64) of the kept connections, all ready before the
 * listen socket: without the look at the queue, the first worker
 * answered a round of them before the send.
 */
START_TEST(test_new_connection_before_kept_requests)
{
	struct chat_room	 room;
	pid_t			 pids[8];
	char			*head, *path, *text, *body, *answer, *mpath;
	int			 fds[LOOK_KEPT], fd, i, n, without = 0;
	long			 status;

	itest_require_stack();
	n = itest_worker_pids(pids, 8);
	ck_assert_int_ge(n, 1);
	chat_room_open(&room, "lookfirst");
	head = itest_events_head(room.member.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=0", head);
	for (i = 0; i < LOOK_KEPT; i++) {
		fds[i] = fcgi_connect();
		fcgi_expect(fds[i], API_PREFIX "/health", NULL, "\"ok\"");
	}
	text = itest_unique("taken before the polls");
	xasprintf(&body, "{\"content\":\"%s\"}", text);
	xasprintf(&mpath, "%s/messages", room.base);
	/* A worker over its share looks at the queue again after 5 ms. */
	itest_sleep_ms(100);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(kill(pids[i], SIGSTOP), 0);
	for (i = 0; i < LOOK_KEPT; i++)
		fcgi_get(fds[i], path, room.member.token, 1);
	fd = fcgi_connect();
	fcgi_request(fd, "POST", mpath, room.owner.token, body, 0);
	ck_assert_int_eq(kill(pids[0], SIGCONT), 0);
	status = fcgi_answer(fd, NULL);
	for (i = 1; i < n; i++)
		ck_assert_int_eq(kill(pids[i], SIGCONT), 0);
	ck_assert_int_eq(status, 201);
	for (i = 0; i < LOOK_KEPT; i++) {
		ck_assert_int_eq(fcgi_answer(fds[i], &answer), 200);
		if (strstr(answer, text) == NULL)
			without++;
		free(answer);
		close(fds[i]);
	}
	ck_assert_msg(without < LOOK_EVERY, "%d of %d polls on kept "
	    "connections were answered before the send waiting on the "
	    "listen socket", without, LOOK_KEPT);
	close(fd);
	free(mpath);
	free(body);
	free(text);
	free(path);
	free(head);
	chat_room_close(&room);
}
END_TEST

/* The suite: one case, with the stack to itself. */
static Suite *
keepalive_suite(void)
{
	Suite	*s = suite_create("keepalive");
	TCase	*tc = tcase_create("connections");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, itest_exclusive,
	    itest_restore_teardown);
	tcase_add_test(tc, test_requests_in_order_on_one_connection);
	tcase_add_test(tc, test_parked_poll_on_kept_connection);
	tcase_add_test(tc, test_idle_connections_closed_are_released);
	tcase_add_test(tc, test_parked_poll_aborted_on_kept_connection);
	tcase_add_test(tc, test_polls_parked_again_on_kept_connection);
	tcase_add_test(tc, test_nginx_keeps_event_connections);
	tcase_add_test(tc, test_polls_spread_over_workers);
	tcase_add_test(tc, test_new_connection_before_kept_requests);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite against the stack tools/dev started. */
int
main(void)
{
	itest_init();
	signal(SIGPIPE, SIG_IGN);
	return check_run(keepalive_suite());
}
