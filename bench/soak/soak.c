/* SPDX-License-Identifier: ISC */
/*
 * soak: the soak benchmark of sohbet (bench/soak/run).
 *
 * For a bounded time it sends mixed traffic at a bounded rate through
 * nginx's plain-HTTP listener on 127.0.0.1 (tools/dev bench-up): chatters
 * sign in, refresh their tokens, send, read history and edit their own
 * messages, each at --rate actions a second; pollers hold long-polls of
 * both kinds (GET /events and a channel's messages?wait=) for the whole
 * run, as browsers do.  Every actor is a forked process with one
 * keep-alive connection.  Meanwhile the parent samples every --sample
 * seconds the resident memory (VmRSS) of each sohbetd worker and
 * sohbet_parked_polls from /metrics.  At the end it reports every answer
 * by action and class (2xx, 4xx, 5xx, no answer), latencies, the messages
 * the pollers received, and the workers' memory over time with its growth
 * after the warm-up; it exits 1 if there was any 5xx or failed request,
 * or a worker was replaced.
 *
 * Raw HTTP/1.1, no library.  Bounded: every request has a timeout, every
 * actor a deadline, and an alarm ends everything.  Only 127.0.0.1.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define API		"/api/v1"
#define PASSWORD	"soak-password-1"
#define MAX_ACTORS	200
#define MAX_WORKERS	64
#define MAX_SAMPLES	4096
#define OWN_IDS		16	/* a chatter's recent messages, to edit */
#define TOKEN_AGE	600	/* seconds before an actor refreshes */
#define POLL_WAIT	30	/* seconds of each long-poll */
#define REQ_TIMEOUT	(POLL_WAIT + 15)
#define BUCKETS		24	/* latency histogram: 1 ms * 2^i */

enum action {
	A_LOGIN, A_REFRESH, A_SEND, A_HISTORY, A_EDIT, A_SERVERS,
	A_POLL_EVENTS, A_POLL_CHANNEL, A_COUNT
};
static const char *const action_names[A_COUNT] = {
	"sign-in", "refresh", "send", "history", "edit", "servers",
	"poll /events", "poll channel"
};
/* The same as keys of the --out file. */
static const char *const action_keys[A_COUNT] = {
	"sign_in", "refresh", "send", "history", "edit", "servers",
	"poll_events", "poll_channel"
};
/* A chatter's mix, in percent of its actions. */
static const int chatter_mix[A_COUNT] = { 5, 5, 35, 30, 15, 10, 0, 0 };

enum answer { C_2XX, C_4XX, C_5XX, C_NONE, C_OTHER, C_COUNT };
static const char *const class_keys[C_COUNT] = {
	"2xx", "4xx", "5xx", "none", "other"
};

/* What one actor saw; in shared memory. */
struct stats {
	uint64_t	 n[A_COUNT][C_COUNT];
	uint64_t	 hist[A_COUNT][BUCKETS];
	double		 max[A_COUNT];
	uint64_t	 received;	/* messages or events polls returned */
	uint64_t	 reconnects;	/* keep-alive closes, retried */
	char		 first_bad[400];
};

struct account {
	char		 name[40];
	char		 access[600];
	char		 refresh[100];
	double		 issued;
};

/* One memory sample of every worker. */
struct sample {
	double		 t;
	int		 nworkers;
	pid_t		 pid[MAX_WORKERS];
	long		 rss[MAX_WORKERS];	/* KiB */
	long		 ticks[MAX_WORKERS];	/* CPU: utime + stime */
	long		 parked;
	uint64_t	 requests, bad;
};

struct conn {
	int		 fd;
	char		*buf;		/* bytes read past the last answer */
	size_t		 len, cap;
};

struct answer_buf {
	int		 status;
	char		*body;
	size_t		 len;
	double		 secs;
};

static struct {
	int		 port;
	const char	*var;
	int		 seconds;
	int		 chatters;
	double		 rate;
	int		 event_pollers;
	int		 channel_pollers;
	int		 sample;
	int		 warmup;
	long		 rss_bound;	/* KiB a worker may grow after warm-up */
	const char	*out;
	char		 stamp[16];
	char		 channel[24];	/* the busy channel's id */
	char		 first_id[24];	/* a message id before the run */
	double		 start, end;
} opt = {
	.seconds = 600, .chatters = 4, .rate = 4.0, .event_pollers = 10,
	.channel_pollers = 10, .sample = 10, .warmup = 120, .rss_bound = 8192,
};

static struct stats	*stats;		/* one per actor, shared */

static void
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "soak: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_until(double t)
{
	double		d;
	struct timespec	ts;

	while ((d = t - now()) > 0) {
		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* --- HTTP/1.1 ------------------------------------------------------------ */

static int
conn_open(struct conn *c)
{
	struct sockaddr_in	sin;
	struct timeval		tv = { REQ_TIMEOUT, 0 };

	c->len = 0;
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)opt.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Read more bytes into the connection's buffer; bytes read, 0 or -1. */
static ssize_t
conn_fill(struct conn *c)
{
	ssize_t	n;

	if (c->cap - c->len < 65536) {
		c->cap = c->cap == 0 ? 131072 : c->cap * 2;
		if ((c->buf = realloc(c->buf, c->cap + 1)) == NULL)
			die("out of memory");
	}
	do
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

/*
 * Read one answer (status and a Content-Length body) into a; -1 with
 * nothing read (peer closed or timeout), -2 when it broke off later.
 */
static int
conn_answer(struct conn *c, struct answer_buf *a, int *keep)
{
	char	*end, *cl, *p;
	size_t	 head, need;

	while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
		if (conn_fill(c) <= 0)
			return c->len == 0 ? -1 : -2;
	*end = '\0';
	head = (size_t)(end - c->buf) + 4;
	if (sscanf(c->buf, "HTTP/1.%*d %d", &a->status) != 1 ||
	    (cl = strcasestr(c->buf, "\r\nContent-Length:")) == NULL)
		return -2;
	need = head + strtoul(cl + 17, NULL, 10);
	*keep = strcasestr(c->buf, "\r\nConnection: close") == NULL;
	while (c->len < need)
		if (conn_fill(c) <= 0)
			return -2;
	a->len = need - head;
	if ((a->body = malloc(a->len + 1)) == NULL)
		die("out of memory");
	memcpy(a->body, c->buf + head, a->len);
	a->body[a->len] = '\0';
	for (p = a->body; p < a->body + a->len; p++)
		if (*p == '\0')
			*p = ' ';
	memmove(c->buf, c->buf + need, c->len - need);
	c->len -= need;
	return 0;
}

/*
 * One request on a keep-alive connection.  A request that finds its
 * reused connection closed before any answer is sent again once on a new
 * one (as browsers and curl do).  a->status 0: no answer.
 */
static void
http(struct conn *c, struct stats *st, const char *method, const char *path,
    const char *token, const char *body, struct answer_buf *a)
{
	char	*req;
	int	 n, rc = -1, tries, keep = 1, reused;
	double	 t0 = now();

	memset(a, 0, sizeof *a);
	if (body != NULL)
		n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
		    "%s%s%sContent-Type: application/json\r\nContent-Length: "
		    "%zu\r\n\r\n%s", method, path, token != NULL ?
		    "Authorization: Bearer " : "", token != NULL ? token : "",
		    token != NULL ? "\r\n" : "", strlen(body), body);
	else
		n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
		    "%s%s%s\r\n", method, path, token != NULL ?
		    "Authorization: Bearer " : "", token != NULL ? token : "",
		    token != NULL ? "\r\n" : "");
	if (n < 0)
		die("out of memory");
	for (tries = 0; tries < 2 && rc == -1; tries++) {
		reused = c->fd != -1;
		if (!reused && conn_open(c) == -1)
			break;
		if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
			conn_close(c);
			if (reused) {
				st->reconnects++;
				continue;
			}
			break;
		}
		rc = conn_answer(c, a, &keep);
		if (rc != 0)
			conn_close(c);
		if (rc == -1 && reused)
			st->reconnects++;
		else if (rc == -1)
			break;
	}
	if (rc != 0)
		a->status = 0;
	else if (!keep)
		conn_close(c);
	free(req);
	a->secs = now() - t0;
}

/* Count an answer; 1 if it was a 2xx. */
static int
tally(struct stats *st, enum action act, struct answer_buf *a,
    const char *what)
{
	enum answer	 k;
	int		 b;

	k = a->status == 0 ? C_NONE : a->status >= 200 && a->status < 300 ?
	    C_2XX : a->status >= 400 && a->status < 500 ? C_4XX :
	    a->status >= 500 && a->status < 600 ? C_5XX : C_OTHER;
	st->n[act][k]++;
	for (b = 0; b < BUCKETS - 1 && a->secs > 0.001 * ldexp(1, b); b++)
		;
	st->hist[act][b]++;
	if (a->secs > st->max[act])
		st->max[act] = a->secs;
	if (k != C_2XX && st->first_bad[0] == '\0')
		snprintf(st->first_bad, sizeof st->first_bad, "%s %s -> %d "
		    "after %.2f s: %.200s", action_names[act], what, a->status,
		    a->secs, a->body != NULL ? a->body : "(none)");
	return k == C_2XX;
}

/* The string value of the last "key":"..." in a body, into out. */
static int
json_last(const char *body, const char *key, char *out, size_t size)
{
	char		 pat[64];
	const char	*p, *last = NULL, *e;

	if (body == NULL)
		return -1;
	snprintf(pat, sizeof pat, "\"%s\":\"", key);
	for (p = body; (p = strstr(p, pat)) != NULL; p++)
		last = p;
	if (last == NULL)
		return -1;
	last += strlen(pat);
	if ((e = strchr(last, '"')) == NULL || (size_t)(e - last) >= size)
		return -1;
	memcpy(out, last, (size_t)(e - last));
	out[e - last] = '\0';
	return 0;
}

/*
 * The id of the last message in a body (one message or a page): the last
 * {"id":"N","channel_id" (an author is {"id":"N","username").
 */
static int
last_message(const char *body, char *out, size_t size)
{
	const char	*p, *q, *last = NULL, *end = NULL;

	for (p = body; p != NULL && (p = strstr(p, "{\"id\":\"")) != NULL;
	    p++) {
		q = p + 7;
		while (isdigit((unsigned char)*q))
			q++;
		if (strncmp(q, "\",\"channel_id\":", 15) == 0) {
			last = p + 7;
			end = q;
		}
	}
	if (last == NULL || end == last || (size_t)(end - last) >= size)
		return -1;
	memcpy(out, last, (size_t)(end - last));
	out[end - last] = '\0';
	return 0;
}

/* --- accounts ------------------------------------------------------------- */

/* Take the tokens of a register, login or refresh answer. */
static int
account_take(struct account *u, struct answer_buf *a)
{
	if (json_last(a->body, "access_token", u->access, sizeof u->access) ==
	    -1 || json_last(a->body, "refresh_token", u->refresh,
	    sizeof u->refresh) == -1)
		return -1;
	u->issued = now();
	return 0;
}

/* Register an account (setup: any failure ends the run). */
static void
account_new(struct conn *c, struct stats *st, struct account *u, int i)
{
	struct answer_buf	 a;
	char			*body;

	snprintf(u->name, sizeof u->name, "soak%s_%d", opt.stamp, i);
	if (asprintf(&body, "{\"username\":\"%s\",\"email\":\"%s@example.com\","
	    "\"password\":\"" PASSWORD "\"}", u->name, u->name) < 0)
		die("out of memory");
	http(c, st, "POST", API "/auth/register", NULL, body, &a);
	if (a.status != 201 || account_take(u, &a) == -1)
		die("register %s: %d %.200s", u->name, a.status, a.body);
	free(body);
	free(a.body);
}

/*
 * New tokens for an account: sign in again with the password (A_LOGIN) or
 * trade the refresh token (A_REFRESH).
 */
static void
account_renew(struct conn *c, struct stats *st, struct account *u,
    enum action how)
{
	struct answer_buf	 a;
	char			*body;
	int			 n;

	if (how == A_LOGIN)
		n = asprintf(&body, "{\"login\":\"%s\",\"password\":\""
		    PASSWORD "\"}", u->name);
	else
		n = asprintf(&body, "{\"refresh_token\":\"%s\"}", u->refresh);
	if (n < 0)
		die("out of memory");
	http(c, st, "POST", how == A_LOGIN ? API "/auth/login" :
	    API "/auth/refresh", NULL, body, &a);
	if (tally(st, how, &a, u->name))
		account_take(u, &a);
	free(body);
	free(a.body);
}

/* --- actors --------------------------------------------------------------- */

/* A chatter's state. */
struct chatter {
	struct conn	 c;
	struct stats	*st;
	struct account	*u;
	int		 id;
	uint64_t	 sent;
	char		 own[OWN_IDS][24];
	int		 nown;
};

/* Post a message (its own nonce) and remember its id. */
static void
chatter_send(struct chatter *ch)
{
	struct answer_buf	 a;
	char			*path, *body, pad[401];
	size_t			 len = 10 + (size_t)(random() % 390);

	memset(pad, 'a' + (int)(ch->sent % 26), len);
	pad[len] = '\0';
	if (asprintf(&path, API "/channels/%s/messages", opt.channel) < 0 ||
	    asprintf(&body, "{\"content\":\"soak %d/%" PRIu64 " %s\","
	    "\"nonce\":\"%s-%d-%" PRIu64 "\"}", ch->id, ch->sent, pad,
	    opt.stamp, ch->id, ch->sent) < 0)
		die("out of memory");
	http(&ch->c, ch->st, "POST", path, ch->u->access, body, &a);
	if (tally(ch->st, A_SEND, &a, path) && last_message(a.body,
	    ch->own[ch->nown % OWN_IDS], sizeof ch->own[0]) == 0)
		ch->nown++;
	ch->sent++;
	free(a.body);
	free(body);
	free(path);
}

/* A recent message of its own, or NULL. */
static const char *
chatter_pick(struct chatter *ch)
{
	int	n = ch->nown < OWN_IDS ? ch->nown : OWN_IDS;

	return n == 0 ? NULL : ch->own[random() % n];
}

/* Read a page: the newest, or before one of its messages. */
static void
chatter_history(struct chatter *ch)
{
	struct answer_buf	 a;
	const char		*id = chatter_pick(ch);
	char			*path;

	if (id == NULL || random() % 2)
		id = NULL;
	if (asprintf(&path, API "/channels/%s/messages?limit=50%s%s",
	    opt.channel, id != NULL ? "&before=" : "", id != NULL ? id : "") <
	    0)
		die("out of memory");
	http(&ch->c, ch->st, "GET", path, ch->u->access, NULL, &a);
	tally(ch->st, A_HISTORY, &a, path);
	free(a.body);
	free(path);
}

/* Edit one of its recent messages. */
static void
chatter_edit(struct chatter *ch)
{
	struct answer_buf	 a;
	const char		*id = chatter_pick(ch);
	char			*path;

	if (id == NULL) {
		chatter_send(ch);
		return;
	}
	if (asprintf(&path, API "/channels/%s/messages/%s", opt.channel,
	    id) < 0)
		die("out of memory");
	http(&ch->c, ch->st, "PATCH", path, ch->u->access,
	    "{\"content\":\"edited by the soak\"}", &a);
	tally(ch->st, A_EDIT, &a, path);
	free(a.body);
	free(path);
}

/* List its servers. */
static void
chatter_servers(struct chatter *ch)
{
	struct answer_buf	a;

	http(&ch->c, ch->st, "GET", API "/users/@me/servers", ch->u->access,
	    NULL, &a);
	tally(ch->st, A_SERVERS, &a, "/users/@me/servers");
	free(a.body);
}

/* One action of the mix. */
static void
chatter_act(struct chatter *ch)
{
	int	r = (int)(random() % 100), a;

	for (a = 0; a < A_COUNT - 1 && r >= chatter_mix[a]; a++)
		r -= chatter_mix[a];
	switch (a) {
	case A_LOGIN:
	case A_REFRESH:
		account_renew(&ch->c, ch->st, ch->u, a);
		break;
	case A_HISTORY:
		chatter_history(ch);
		break;
	case A_EDIT:
		chatter_edit(ch);
		break;
	case A_SERVERS:
		chatter_servers(ch);
		break;
	default:
		chatter_send(ch);
		break;
	}
}

/* A chatter: --rate actions a second (spaced at random) until the end. */
static void
chatter_run(int id, struct account *u)
{
	struct chatter	ch;
	double		next = now();

	memset(&ch, 0, sizeof ch);
	ch.c.fd = -1;
	ch.st = &stats[id];
	ch.u = u;
	ch.id = id;
	srandom((unsigned)(getpid() ^ (unsigned)time(NULL)));
	while ((next += (0.5 + (double)(random() % 1000) / 1000.0) /
	    opt.rate) < opt.end) {
		sleep_until(next);
		chatter_act(&ch);
	}
}

/* A poller: long-polls back to back, from the cursor it was given. */
static void
poller_run(int id, struct account *u, int events)
{
	struct conn		 c = { .fd = -1 };
	struct stats		*st = &stats[id];
	struct answer_buf	 a;
	char			 cursor[24], *path;
	enum action		 act = events ? A_POLL_EVENTS : A_POLL_CHANNEL;

	snprintf(cursor, sizeof cursor, "%s", opt.first_id);
	if (events) {
		http(&c, st, "GET", API "/events", u->access, NULL, &a);
		if (!tally(st, act, &a, "head") || json_last(a.body, "cursor",
		    cursor, sizeof cursor) == -1)
			return;
		free(a.body);
	}
	while (now() < opt.end) {
		if (now() - u->issued > TOKEN_AGE)
			account_renew(&c, st, u, A_REFRESH);
		if ((events ? asprintf(&path, API "/events?after=%s&timeout=%d",
		    cursor, POLL_WAIT) : asprintf(&path, API "/channels/%s/"
		    "messages?after=%s&wait=%d&limit=100", opt.channel, cursor,
		    POLL_WAIT)) < 0)
			die("out of memory");
		http(&c, st, "GET", path, u->access, NULL, &a);
		if (tally(st, act, &a, path)) {
			if (events)
				json_last(a.body, "cursor", cursor,
				    sizeof cursor);
			else
				last_message(a.body, cursor, sizeof cursor);
			st->received += a.len > 20;
		} else
			sleep_until(now() + 1.0);
		free(a.body);
		free(path);
	}
}

/* --- setup ---------------------------------------------------------------- */

/* A request during setup that must succeed; the body (caller frees). */
static char *
setup_call(struct conn *c, const char *method, const char *path,
    const char *token, const char *body, int want)
{
	struct answer_buf	a;

	http(c, &stats[0], method, path, token, body, &a);
	if (a.status != want)
		die("setup: %s %s: %d %.300s", method, path, a.status, a.body);
	return a.body;
}

/*
 * The owner makes a server; every actor registers and joins it through
 * an invite.  accounts[0] is the owner.
 */
static void
setup(struct account *accounts, int nactors)
{
	struct conn	 c = { .fd = -1 };
	char		 server[24], code[64], *body, *path;
	int		 i;

	account_new(&c, &stats[0], &accounts[0], 0);
	body = setup_call(&c, "POST", API "/servers", accounts[0].access,
	    "{\"name\":\"soak\"}", 201);
	json_last(body, "id", server, sizeof server);
	free(body);
	if (asprintf(&path, API "/servers/%s/channels", server) < 0)
		die("out of memory");
	body = setup_call(&c, "GET", path, accounts[0].access, NULL, 200);
	if (json_last(body, "id", opt.channel, sizeof opt.channel) == -1)
		die("setup: no channel: %.200s", body);
	free(body);
	free(path);
	if (asprintf(&path, API "/servers/%s/invites", server) < 0)
		die("out of memory");
	body = setup_call(&c, "POST", path, accounts[0].access,
	    "{\"max_uses\":0,\"max_age\":0}", 201);
	json_last(body, "code", code, sizeof code);
	free(body);
	free(path);
	if (asprintf(&path, API "/invites/%s", code) < 0)
		die("out of memory");
	for (i = 1; i <= nactors; i++) {
		account_new(&c, &stats[0], &accounts[i], i);
		free(setup_call(&c, "POST", path, accounts[i].access, "{}",
		    200));
	}
	free(path);
	if (asprintf(&path, API "/channels/%s/messages", opt.channel) < 0)
		die("out of memory");
	body = setup_call(&c, "POST", path, accounts[0].access,
	    "{\"content\":\"the soak begins\"}", 201);
	if (last_message(body, opt.first_id, sizeof opt.first_id) == -1)
		die("setup: no message id: %.200s", body);
	free(body);
	free(path);
	conn_close(&c);
	memset(&stats[0], 0, sizeof stats[0]);
}

/* --- sampling ------------------------------------------------------------- */

/* The CPU ticks (user + system) a process used, or -1. */
static long
cpu_ticks(pid_t pid)
{
	FILE	*f;
	char	 path[64], buf[1024], *p;
	long	 ut, st;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	/* After "pid (comm)": state and 10 fields, then utime stime. */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL || sscanf(p + 1,
	    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut,
	    &st) != 2)
		return -1;
	return ut + st;
}

static long
rss_kib(pid_t pid)
{
	FILE	*f;
	char	 path[64], line[256];
	long	 kib = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* The children of sohbetd's master (its workers), sorted by pid. */
static int
workers(pid_t *pids)
{
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	char		 path[300], buf[512], *p;
	long		 master = -1, ppid;
	int		 n = 0, i, j;
	pid_t		 t;

	snprintf(path, sizeof path, "%s/run/sohbetd.pid", opt.var);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &master) != 1)
			master = -1;
		fclose(f);
	}
	if (master <= 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < MAX_WORKERS) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(buf, sizeof buf, f);
		fclose(f);
		if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid != master)
			continue;
		pids[n++] = (pid_t)atol(de->d_name);
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && pids[j - 1] > pids[j]; j--)
			t = pids[j], pids[j] = pids[j - 1], pids[j - 1] = t;
	return n;
}

/*
 * sohbet_parked_polls from /metrics, or -1.  It comes chunked to
 * HTTP/1.1, so ask in HTTP/1.0 and read until nginx closes.
 */
static long
parked_polls(void)
{
	static const char	 req[] = "GET /metrics HTTP/1.0\r\n"
	    "Host: localhost\r\n\r\n";
	struct conn		 c = { .fd = -1 };
	const char		*p;
	long			 v = -1;

	if (conn_open(&c) == -1)
		return -1;
	if (send(c.fd, req, sizeof req - 1, MSG_NOSIGNAL) ==
	    (ssize_t)sizeof req - 1) {
		while (conn_fill(&c) > 0)
			;
		c.buf[c.len] = '\0';
		if ((p = strstr(c.buf, "\nsohbet_parked_polls ")) != NULL)
			v = strtol(p + strlen("\nsohbet_parked_polls "),
			    NULL, 10);
	}
	conn_close(&c);
	free(c.buf);
	return v;
}

/* Requests so far, and those that were not 2xx. */
static void
totals(int nactors, uint64_t *requests, uint64_t *bad)
{
	int	i, a, k;

	*requests = *bad = 0;
	for (i = 1; i <= nactors; i++)
		for (a = 0; a < A_COUNT; a++)
			for (k = 0; k < C_COUNT; k++) {
				*requests += stats[i].n[a][k];
				if (k != C_2XX)
					*bad += stats[i].n[a][k];
			}
}

static void
take_sample(struct sample *s, int nactors)
{
	int	i;

	s->t = now() - opt.start;
	s->nworkers = workers(s->pid);
	for (i = 0; i < s->nworkers; i++) {
		s->rss[i] = rss_kib(s->pid[i]);
		s->ticks[i] = cpu_ticks(s->pid[i]);
	}
	s->parked = parked_polls();
	totals(nactors, &s->requests, &s->bad);
	printf("%6.0f s  workers", s->t);
	for (i = 0; i < s->nworkers; i++)
		printf(" %d:%ld", (int)s->pid[i], s->rss[i]);
	printf(" KiB  parked %ld  requests %" PRIu64 "  not 2xx %" PRIu64 "\n",
	    s->parked, s->requests, s->bad);
	fflush(stdout);
}

/* --- report --------------------------------------------------------------- */

/*
 * A bound on the latency below which a fraction q of an action's answers
 * fall: the histogram bucket's upper edge, or the maximum if lower.
 */
static double
quantile(const uint64_t *hist, uint64_t n, double q, double max)
{
	uint64_t	seen = 0;
	int		b;

	for (b = 0; b < BUCKETS; b++)
		if ((seen += hist[b]) >= (uint64_t)ceil(q * (double)n))
			return fmin(0.001 * ldexp(1, b), max);
	return max;
}

/* Print (and write to out) the answers by action, class and latency. */
static uint64_t
report_answers(FILE *out, int nactors)
{
	uint64_t	 n[C_COUNT], hist[BUCKETS], total, failed = 0;
	uint64_t	 received = 0, reconnects = 0;
	double		 max;
	int		 i, a, k, b;

	printf("\n%-14s %9s %7s %7s %7s %9s %8s %8s\n", "action", "2xx",
	    "4xx", "5xx", "none", "p50<=", "p99<=", "max");
	for (a = 0; a < A_COUNT; a++) {
		memset(n, 0, sizeof n);
		memset(hist, 0, sizeof hist);
		max = 0;
		for (i = 1; i <= nactors; i++) {
			for (k = 0; k < C_COUNT; k++)
				n[k] += stats[i].n[a][k];
			for (b = 0; b < BUCKETS; b++)
				hist[b] += stats[i].hist[a][b];
			if (stats[i].max[a] > max)
				max = stats[i].max[a];
		}
		for (total = 0, k = 0; k < C_COUNT; k++)
			total += n[k];
		failed += n[C_5XX] + n[C_NONE] + n[C_OTHER];
		printf("%-14s %9" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
		    " %8.3fs %7.3fs %7.3fs\n", action_names[a], n[C_2XX],
		    n[C_4XX], n[C_5XX], n[C_NONE] + n[C_OTHER], total ?
		    quantile(hist, total, 0.5, max) : 0, total ?
		    quantile(hist, total, 0.99, max) : 0, max);
		for (k = 0; k < C_COUNT; k++)
			fprintf(out, "%s_%s=%" PRIu64 "\n", action_keys[a],
			    class_keys[k], n[k]);
	}
	for (i = 1; i <= nactors; i++) {
		received += stats[i].received;
		reconnects += stats[i].reconnects;
		if (stats[i].first_bad[0] != '\0')
			printf("actor %d, first answer not 2xx: %s\n", i,
			    stats[i].first_bad);
	}
	printf("long-polls answered with something: %" PRIu64 "; keep-alive "
	    "connections closed by nginx and retried: %" PRIu64 "\n", received,
	    reconnects);
	fprintf(out, "polls_with_data=%" PRIu64 "\nreconnects=%" PRIu64
	    "\nfailed=%" PRIu64 "\n", received, reconnects, failed);
	return failed;
}

/*
 * Print the workers' memory: at the end of the warm-up, the highest
 * after it and at the end; 1 if the set of workers changed or one grew
 * by more than the bound after the warm-up.
 */
static int
report_memory(FILE *out, const struct sample *s, int n)
{
	const struct sample	*w = NULL, *last = &s[n - 1];
	long			 peak, growth, worst = 0;
	int			 i, j, changed = 0;

	for (i = 0; i < n; i++) {
		if (w == NULL && s[i].t >= opt.warmup)
			w = &s[i];
		changed |= s[i].nworkers != s[0].nworkers || memcmp(s[i].pid,
		    s[0].pid, (size_t)s[0].nworkers * sizeof s[0].pid[0]) != 0;
	}
	if (w == NULL)
		w = last;
	printf("\nworker memory (VmRSS, KiB): start, after the %d s warm-up, "
	    "highest after it, end\n", opt.warmup);
	for (j = 0; j < s[0].nworkers && !changed; j++) {
		for (peak = 0, i = (int)(w - s); i < n; i++)
			if (s[i].rss[j] > peak)
				peak = s[i].rss[j];
		growth = peak - w->rss[j];
		if (growth > worst)
			worst = growth;
		printf("  worker %d: %ld, %ld, %ld, %ld (growth after warm-up "
		    "%+ld); CPU %.1f s (%.1f %% of a core)\n", (int)s[0].pid[j],
		    s[0].rss[j], w->rss[j], peak, last->rss[j], growth,
		    (double)(last->ticks[j] - s[0].ticks[j]) / (double)
		    sysconf(_SC_CLK_TCK), 100.0 * (double)(last->ticks[j] -
		    s[0].ticks[j]) / (double)sysconf(_SC_CLK_TCK) /
		    (last->t - s[0].t));
		fprintf(out, "worker%d_rss_start=%ld\nworker%d_rss_warm=%ld\n"
		    "worker%d_rss_peak=%ld\nworker%d_rss_end=%ld\n", j,
		    s[0].rss[j], j, w->rss[j], j, peak, j, last->rss[j]);
	}
	fprintf(out, "rss_growth_after_warmup_kib=%ld\nrss_bound_kib=%ld\n"
	    "workers_changed=%d\n", worst, opt.rss_bound, changed);
	if (changed)
		printf("  the set of workers CHANGED during the run (a worker "
		    "died?)\n");
	printf("  growth after the warm-up: at most %ld KiB (bound %ld KiB)\n",
	    worst, opt.rss_bound);
	return changed || worst > opt.rss_bound;
}

/* Write the samples: "t:rss0/rss1/...:parked" each, KiB. */
static void
samples_write(FILE *out, const struct sample *s, int n)
{
	int	i, j;

	fprintf(out, "samples=");
	for (i = 0; i < n; i++) {
		fprintf(out, "%s%.0f:", i ? "," : "", s[i].t);
		for (j = 0; j < s[i].nworkers; j++)
			fprintf(out, "%s%ld", j ? "/" : "", s[i].rss[j]);
		fprintf(out, ":%ld", s[i].parked);
	}
	fprintf(out, "\n");
}

/* --- main ----------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: soak --port P --var DIR [--seconds 600] "
	    "[--chatters 4] [--rate 4] [--event-pollers 10]\n"
	    "            [--channel-pollers 10] [--sample 10] [--warmup 120] "
	    "[--rss-bound KIB] [--out FILE]\n");
	exit(2);
}

static void
options(int argc, char **argv)
{
	static const struct option	longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "var", required_argument, NULL, 'v' },
		{ "seconds", required_argument, NULL, 's' },
		{ "chatters", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "event-pollers", required_argument, NULL, 'e' },
		{ "channel-pollers", required_argument, NULL, 'h' },
		{ "sample", required_argument, NULL, 'i' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "rss-bound", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	int				ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': opt.port = atoi(optarg); break;
		case 'v': opt.var = optarg; break;
		case 's': opt.seconds = atoi(optarg); break;
		case 'c': opt.chatters = atoi(optarg); break;
		case 'r': opt.rate = atof(optarg); break;
		case 'e': opt.event_pollers = atoi(optarg); break;
		case 'h': opt.channel_pollers = atoi(optarg); break;
		case 'i': opt.sample = atoi(optarg); break;
		case 'w': opt.warmup = atoi(optarg); break;
		case 'b': opt.rss_bound = atol(optarg); break;
		case 'o': opt.out = optarg; break;
		default: usage();
		}
	}
	if (opt.port <= 0 || opt.var == NULL || opt.seconds <= 0 ||
	    opt.rate <= 0 || opt.rate > 50 || opt.sample <= 0 ||
	    opt.chatters + opt.event_pollers + opt.channel_pollers >
	    MAX_ACTORS - 1)
		usage();
}

/* Fork actor i (1-based); 0..chatters-1 chat, the rest poll. */
static pid_t
actor_start(int i, struct account *u)
{
	pid_t	pid;
	int	k = i - 1;

	if ((pid = fork()) != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (k < opt.chatters)
		chatter_run(i, u);
	else
		poller_run(i, u, k < opt.chatters + opt.event_pollers);
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct account	*accounts;
	struct sample	*samples;
	pid_t		 pids[MAX_ACTORS];
	FILE		*out;
	uint64_t	 failed;
	double		 next;
	int		 nactors, i, n = 0, changed;

	options(argc, argv);
	nactors = opt.chatters + opt.event_pollers + opt.channel_pollers;
	alarm((unsigned)opt.seconds + 300);
	signal(SIGPIPE, SIG_IGN);
	snprintf(opt.stamp, sizeof opt.stamp, "%lx", (long)time(NULL) % 0xffffff);
	stats = mmap(NULL, (size_t)(nactors + 1) * sizeof *stats, PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stats == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(stats, 0, (size_t)(nactors + 1) * sizeof *stats);
	accounts = calloc((size_t)nactors + 1, sizeof *accounts);
	samples = calloc(MAX_SAMPLES, sizeof *samples);
	if (accounts == NULL || samples == NULL)
		die("out of memory");
	out = fopen(opt.out != NULL ? opt.out : "/dev/null", "w");
	if (out == NULL)
		die("%s: %s", opt.out, strerror(errno));

	printf("setting up %d accounts...\n", nactors + 1);
	setup(accounts, nactors);
	opt.start = now();
	opt.end = opt.start + opt.seconds;
	printf("soak: %d s, %d chatters at %.1f actions/s, %d /events and %d "
	    "channel pollers (wait %d s), samples every %d s\n", opt.seconds,
	    opt.chatters, opt.rate, opt.event_pollers, opt.channel_pollers,
	    POLL_WAIT, opt.sample);
	fflush(stdout);
	take_sample(&samples[n++], nactors);
	for (i = 1; i <= nactors; i++)
		pids[i] = actor_start(i, &accounts[i]);
	for (next = opt.start + opt.sample; next <= opt.end + 0.5 && n <
	    MAX_SAMPLES; next += opt.sample) {
		sleep_until(next);
		take_sample(&samples[n++], nactors);
	}
	/* The chatters end by themselves; the pollers' last polls go. */
	for (i = 1; i <= nactors; i++) {
		if (i > opt.chatters)
			kill(pids[i], SIGKILL);
		while (waitpid(pids[i], NULL, 0) == -1 && errno == EINTR)
			;
	}
	take_sample(&samples[n++], nactors);
	totals(nactors, &samples[n - 1].requests, &samples[n - 1].bad);
	printf("%" PRIu64 " requests in %d s: %.0f a second\n",
	    samples[n - 1].requests, opt.seconds,
	    (double)samples[n - 1].requests / opt.seconds);
	fprintf(out, "requests=%" PRIu64 "\n", samples[n - 1].requests);

	fprintf(out, "seconds=%d\nchatters=%d\nrate=%.1f\nevent_pollers=%d\n"
	    "channel_pollers=%d\nwarmup=%d\n", opt.seconds, opt.chatters,
	    opt.rate, opt.event_pollers, opt.channel_pollers, opt.warmup);
	failed = report_answers(out, nactors);
	changed = report_memory(out, samples, n);
	samples_write(out, samples, n);
	fclose(out);
	printf("\n%s: %" PRIu64 " requests failed (5xx or no answer)%s\n",
	    failed == 0 && !changed ? "PASS" : "FAIL", failed, changed ?
	    "; the workers changed or grew past the bound" : "");
	return failed == 0 && !changed ? 0 : 1;
}
