/* SPDX-License-Identifier: ISC */
/*
 * lpbench: the long-poll benchmark of sohbet (bench/longpoll/README.md).
 *
 * Through nginx's plain-HTTP listener on 127.0.0.1 (tools/dev bench-up) it
 * makes one server with N members (cached in a file for reruns), holds one
 * long-poll per member at once (GET /events?after=<head>&timeout=60, or
 * the per-channel GET /channels/{id}/messages?after=<last>&wait=60),
 * checks in /metrics that all are parked, measures sohbetd's memory and its
 * CPU while they wait, posts one message to the channel and measures for
 * each waiter the time from the send's response to its own answer (with
 * --reaction, a reaction's first).
 *
 * One thread, one epoll loop per "engine", raw HTTP/1.1; with --tls-port,
 * the polls and the broadcast go through nginx's TLS listener (OpenSSL,
 * non-blocking), as a browser's would.
 * Bounded: every wait has a deadline, every retry a count, and an alarm
 * ends the process whatever happens.  It only ever connects to 127.0.0.1.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_N		20000
#define MAX_PROCS	64
#define PASSWORD	"lpbench-password"
#define TOKEN_MAX_AGE	600	/* refresh access tokens older than this (s) */
#define JOB_RETRIES	3

enum job_state { JOB_NEW, JOB_QUEUED, JOB_RUNNING, JOB_DONE };
enum job_err { E_NONE, E_CONNECT, E_RESET, E_EOF, E_PARSE, E_TIMEOUT };
static const char *const job_err_names[] = {
	"none", "connect", "reset", "eof", "parse", "timeout"
};

struct job {
	char		*req;
	size_t		 reqlen;
	enum job_state	 state;
	enum job_err	 err;
	int		 status;
	int		 retries;
	int		 port;		/* 0: the engine's; else its own conn */
	char		*body;
	size_t		 bodylen;
	double		 t_start;	/* connection assigned */
	double		 t_sent;	/* request fully written */
	double		 t_done;	/* response complete */
	int		 idx;
};

struct engine;

struct conn {
	int		 fd;
	struct engine	*e;
	struct job	*job;
	char		*in;
	size_t		 inlen, incap;
	size_t		 out_off;
	int		 connected;
	SSL		*ssl;		/* NULL: plain HTTP */
	int		 handshaken;	/* TLS: the handshake is done */
	int		 used;		/* requests completed on it */
	int		 own;		/* made for one job of another port */
	size_t		 slot;		/* in e->conns */
};

struct engine {
	int		 epfd;
	struct job	**queue;
	size_t		 qhead, qlen, qcap;
	struct conn	**conns;
	size_t		 nconns, conns_cap;
	size_t		 maxconns;
	struct conn	**idle;
	size_t		 nidle;
	int		 keepalive;
	int		 port;		/* nginx's plain-HTTP port */
	SSL_CTX		*tls;		/* non-NULL: port is a TLS one */
	size_t		 ndone, nsent;
	/*
	 * With track set, every job that finishes is also listed here, so
	 * that a phase with thousands of jobs out (the storm) reads only
	 * those instead of looking at every one after each step.
	 */
	int		 track;
	struct job	**fin;
	size_t		 nfin, capfin;
};

struct account {
	uint64_t	 id;
	char		 name[40];
	char		 access[1024];
	char		 refresh[128];
	long long	 issued;	/* unix time of the access token */
	int		 ok;
};

struct procstat {
	int		 pid;
	char		 comm[32];
	long		 rss_kb, pss_kb;
	unsigned long long ticks;	/* utime + stime */
	long		 vcsw, ivcsw;	/* context switches */
	int		 fds;
};

struct procset {
	struct procstat	 p[MAX_PROCS];
	int		 n;
};

static struct {
	int		 port;
	int		 n;
	const char	*var;
	const char	*mode;
	const char	*cache;
	const char	*out;
	int		 conc;
	int		 ramp;
	int		 wait;
	int		 idle_s;
	int		 deliver_s;
	int		 limit_s;
	int		 setup_only;
	int		 cross_port;
	int		 rounds;
	int		 repoll;
	int		 typing;	/* broadcast a typing hint, not a message */
	int		 storm;		/* typists of the storm phase, 0: none */
	int		 storm_s;
	int		 storm_quiet;	/* the storm's typists send nothing */
	int		 reaction;	/* a reaction before the message */
	int		 warm;		/* and another before that one */
	int		 alternate;	/* then rounds of both, in turns */
	int		 nchan_port;	/* the nchan peer's nginx, 0: none */
	int		 tls_port;	/* polls and broadcast over TLS, 0: no */
} opt = {
	.port = 0, .n = 1000, .mode = "events", .conc = 64, .ramp = 500,
	.wait = 60, .idle_s = 5, .deliver_s = 30, .limit_s = 1200,
	.rounds = 20, .storm_s = 20,
};

static struct account	 owner;
static struct account	*members;
static int		 nmembers;
static char		 prefix[16];
static uint64_t		 server_id, channel_id;
static char		 invite[64];
static int		 next_serial;	/* of the next account name */
static struct engine	*ctl;
static FILE		*outf;

/* Seconds of the monotonic clock. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fprintf(stderr, "lpbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
xmalloc(size_t n)
{
	void	*p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		die("out of memory");
	return p;
}

static void *
xcalloc(size_t n, size_t m)
{
	void	*p = calloc(n == 0 ? 1 : n, m == 0 ? 1 : m);

	if (p == NULL)
		die("out of memory");
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL)
		die("out of memory");
	return p;
}

static char * __attribute__((format(printf, 1, 2)))
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		die("out of memory");
	va_end(ap);
	return s;
}

/* Print a result line to stdout and, as key=value, to the --out file. */
static void __attribute__((format(printf, 2, 3)))
result(const char *key, const char *fmt, ...)
{
	va_list	ap;
	char	buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	printf("  %-34s %s\n", key, buf);
	if (outf != NULL)
		fprintf(outf, "%s=%s\n", key, buf);
	fflush(stdout);
}

/* --- the HTTP engine ---------------------------------------------------- */

static struct engine *
engine_new(size_t maxconns, int keepalive)
{
	struct engine	*e = xcalloc(1, sizeof *e);

	if ((e->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	e->maxconns = maxconns;
	e->keepalive = keepalive;
	e->port = opt.port;
	return e;
}

/* Make a request; the caller frees it with job_free. */
static struct job *
job_new(const char *method, const char *path, const char *token,
    const char *body)
{
	struct job	*j = xcalloc(1, sizeof *j);
	char		 auth[1200] = "", ctype[128] = "";

	if (token != NULL)
		snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n",
		    token);
	if (body != NULL)
		snprintf(ctype, sizeof ctype, "Content-Type: application/json"
		    "\r\nContent-Length: %zu\r\n", strlen(body));
	j->req = xasprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "User-Agent: lpbench\r\n%s%s\r\n%s", method, path, auth, ctype,
	    body != NULL ? body : "");
	j->reqlen = strlen(j->req);
	return j;
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	free(j->req);
	free(j->body);
	free(j);
}

/* Put a job at the back (or, for a retry, the front) of the queue. */
static void
engine_queue(struct engine *e, struct job *j, int front)
{
	if (front && e->qhead > 0) {
		e->queue[--e->qhead] = j;
	} else {
		if (e->qlen == e->qcap) {
			e->qcap = e->qcap == 0 ? 256 : e->qcap * 2;
			e->queue = xrealloc(e->queue, e->qcap *
			    sizeof *e->queue);
		}
		e->queue[e->qlen++] = j;
	}
	j->state = JOB_QUEUED;
}

static void
engine_submit(struct engine *e, struct job *j)
{
	j->status = 0;
	j->err = E_NONE;
	engine_queue(e, j, 0);
}

/* Close a connection and forget it. */
static void
conn_close(struct conn *c)
{
	struct engine	*e = c->e;
	size_t		 i;

	epoll_ctl(e->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	SSL_free(c->ssl);
	close(c->fd);
	e->conns[c->slot] = e->conns[--e->nconns];
	e->conns[c->slot]->slot = c->slot;
	for (i = 0; i < e->nidle; i++) {
		if (e->idle[i] == c) {
			e->idle[i] = e->idle[--e->nidle];
			break;
		}
	}
	free(c->in);
	free(c);
}

/* --- TLS (--tls-port) ---------------------------------------------------- */

/* A client context for the instance's self-signed certificate. */
static SSL_CTX *
tls_client(void)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new failed");
	/* Loopback only, to an instance we started: nothing to verify. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* nginx ends a keep-alive connection without close_notify. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return ctx;
}

/*
 * What an SSL_read or SSL_write that returned rc means, in recv()'s and
 * send()'s terms: -1 with errno EAGAIN when it waits for the socket, 0
 * when the peer closed (reads only), -1 with ECONNRESET otherwise.
 */
static ssize_t
tls_result(SSL *ssl, int rc, int reading)
{
	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		if (reading)
			return 0;
		break;
	default:
		break;
	}
	ERR_clear_error();
	errno = ECONNRESET;
	return -1;
}

static ssize_t
conn_send(struct conn *c, const char *buf, size_t len)
{
	int	n;

	if (c->ssl == NULL)
		return send(c->fd, buf, len, MSG_NOSIGNAL);
	ERR_clear_error();
	if ((n = SSL_write(c->ssl, buf, (int)len)) > 0)
		return n;
	return tls_result(c->ssl, n, 0);
}

static ssize_t
conn_recv(struct conn *c, char *buf, size_t len)
{
	int	n;

	if (c->ssl == NULL)
		return recv(c->fd, buf, len, 0);
	ERR_clear_error();
	if ((n = SSL_read(c->ssl, buf, (int)len)) > 0)
		return n;
	return tls_result(c->ssl, n, 1);
}

/* Go on with a TLS handshake: 1 done, 0 waiting for the socket, -1 failed. */
static int
conn_handshake(struct conn *c)
{
	int	rc;

	ERR_clear_error();
	if ((rc = SSL_connect(c->ssl)) == 1) {
		c->handshaken = 1;
		return 1;
	}
	return tls_result(c->ssl, rc, 0) == -1 && errno == EAGAIN ? 0 : -1;
}

/* Connected, and through the handshake if there is one: requests may go. */
static int
conn_ready(const struct conn *c)
{
	return c->connected && (c->ssl == NULL || c->handshaken);
}

/*
 * With --tls-port, the engine of the measured polls (and of the broadcast
 * posted on it) talks to that port over TLS, as browsers reach nginx; the
 * set-up, /metrics and nchan's status stay on the plain-HTTP port.
 */
static void
engine_use_tls(struct engine *e)
{
	static SSL_CTX	*ctx;

	if (opt.tls_port == 0)
		return;
	if (ctx == NULL)
		ctx = tls_client();
	e->port = opt.tls_port;
	e->tls = ctx;
}

/*
 * Open a non-blocking connection to nginx (TLS with tls non-NULL); NULL
 * with errno set.
 */
static struct conn *
conn_new(struct engine *e, int port, SSL_CTX *tls)
{
	struct sockaddr_in	 sin;
	struct epoll_event	 ev;
	struct conn		*c;
	int			 fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1 &&
	    errno != EINPROGRESS) {
		int	saved = errno;

		close(fd);
		errno = saved;
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->e = e;
	if (tls != NULL) {
		if ((c->ssl = SSL_new(tls)) == NULL ||
		    SSL_set_fd(c->ssl, fd) != 1 ||
		    SSL_set_tlsext_host_name(c->ssl, "localhost") != 1)
			die("SSL_new failed");
		SSL_set_connect_state(c->ssl);
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
	if (e->nconns == e->conns_cap) {
		e->conns_cap = e->conns_cap == 0 ? 256 : e->conns_cap * 2;
		e->conns = xrealloc(e->conns, e->conns_cap * sizeof *e->conns);
		e->idle = xrealloc(e->idle, e->conns_cap * sizeof *e->idle);
	}
	c->slot = e->nconns;
	e->conns[e->nconns++] = c;
	return c;
}

/* A job finished: count it, and list it when the engine tracks them. */
static void
job_finished(struct engine *e, struct job *j)
{
	j->state = JOB_DONE;
	j->t_done = now();
	e->ndone++;
	if (!e->track)
		return;
	if (e->nfin == e->capfin) {
		e->capfin = e->capfin == 0 ? 1024 : e->capfin * 2;
		e->fin = xrealloc(e->fin, e->capfin * sizeof *e->fin);
	}
	e->fin[e->nfin++] = j;
}

/*
 * Hand the caller the jobs listed as finished (track) since the last
 * call, in *list (of *cap entries, swapped with the engine's, which
 * goes on listing in the caller's old one); their number.
 */
static size_t
engine_take_finished(struct engine *e, struct job ***list, size_t *cap)
{
	struct job	**l = *list;
	size_t		  c = *cap, n = e->nfin;

	*list = e->fin;
	*cap = e->capfin;
	e->fin = l;
	e->capfin = c;
	e->nfin = 0;
	return n;
}

/* Finish a job with an error. */
static void
job_fail(struct engine *e, struct job *j, enum job_err err)
{
	j->err = err;
	job_finished(e, j);
}

/* Write what is left of the request; -1 on error. */
static int
conn_write(struct conn *c)
{
	struct job	*j = c->job;
	ssize_t		 n;

	while (c->out_off < j->reqlen) {
		n = conn_send(c, j->req + c->out_off, j->reqlen - c->out_off);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (j->t_sent == 0) {
		j->t_sent = now();
		c->e->nsent++;
	}
	return 0;
}

/* Give a job to a connection. */
static void
conn_start(struct conn *c, struct job *j)
{
	c->job = j;
	c->out_off = 0;
	c->inlen = 0;
	j->state = JOB_RUNNING;
	j->t_start = now();
	j->t_sent = 0;
	if (conn_ready(c) && conn_write(c) == -1) {
		struct engine	*e = c->e;

		/* A keep-alive connection nginx closed meanwhile. */
		c->job = NULL;
		conn_close(c);
		if (j->retries++ < JOB_RETRIES)
			engine_queue(e, j, 1);
		else
			job_fail(e, j, E_RESET);
	}
}

/* Hand queued jobs to idle or new connections. */
static void
engine_pump(struct engine *e)
{
	struct conn	*c;
	struct job	*j;

	while (e->qhead < e->qlen) {
		j = e->queue[e->qhead];
		if (j->port == 0 && e->nidle > 0)
			c = e->idle[--e->nidle];
		else if (e->nconns < e->maxconns) {
			if ((c = conn_new(e, j->port != 0 ? j->port :
			    e->port, j->port != 0 ? NULL : e->tls)) != NULL)
				c->own = j->port != 0;
			if (c == NULL) {
				e->qhead++;
				fprintf(stderr, "lpbench: connect: %s\n",
				    strerror(errno));
				job_fail(e, j, E_CONNECT);
				continue;
			}
		} else
			break;
		e->qhead++;
		conn_start(c, j);
	}
	if (e->qhead == e->qlen)
		e->qhead = e->qlen = 0;
}

/* Find a header's value in [p, end); NULL if absent. */
static const char *
http_header(const char *p, const char *end, const char *name, size_t *len)
{
	size_t		 nl = strlen(name);
	const char	*eol, *v;

	while (p < end) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			v = p + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*len = (size_t)(eol - v);
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

/*
 * Parse the response in c->in: 1 when complete (body copied into the job,
 * *close set when the connection cannot be reused), 0 when more is needed,
 * -1 when malformed.  eof: the peer closed the connection.
 */
static int
http_parse(struct conn *c, int eof, int *close_it)
{
	struct job	*j = c->job;
	const char	*p = c->in, *hend, *v, *b;
	char		 tmp[32];
	size_t		 vlen, cl = 0, pos, sz, blen = 0;
	int		 have_cl = 0, chunked = 0, status;
	char		*body = NULL;

	if ((hend = memmem(p, c->inlen, "\r\n\r\n", 4)) == NULL)
		return eof ? -1 : 0;
	if (c->inlen < 12 || strncmp(p, "HTTP/1.", 7) != 0)
		return -1;
	status = atoi(p + 9);
	if (status < 100 || status > 599)
		return -1;
	*close_it = !c->e->keepalive;
	if ((v = http_header(p, hend + 2, "Connection", &vlen)) != NULL &&
	    memmem(v, vlen, "close", 5) != NULL)
		*close_it = 1;
	if ((v = http_header(p, hend + 2, "Transfer-Encoding", &vlen)) !=
	    NULL && memmem(v, vlen, "chunked", 7) != NULL)
		chunked = 1;
	else if ((v = http_header(p, hend + 2, "Content-Length", &vlen)) !=
	    NULL) {
		have_cl = 1;
		snprintf(tmp, sizeof tmp, "%.*s", (int)(vlen < 31 ? vlen : 31),
		    v);
		cl = strtoull(tmp, NULL, 10);
	}
	b = hend + 4;
	pos = (size_t)(b - p);
	if (chunked) {
		body = xmalloc(c->inlen - pos + 1);
		for (;;) {
			const char	*eol;

			eol = memmem(p + pos, c->inlen - pos, "\r\n", 2);
			if (eol == NULL)
				goto more;
			sz = strtoull(p + pos, NULL, 16);
			pos = (size_t)(eol - p) + 2;
			if (sz == 0) {
				/* No trailers from nginx: a final CRLF. */
				if (c->inlen < pos + 2)
					goto more;
				break;
			}
			if (c->inlen < pos + sz + 2)
				goto more;
			memcpy(body + blen, p + pos, sz);
			blen += sz;
			pos += sz + 2;
		}
		body[blen] = '\0';
		j->body = body;
		j->bodylen = blen;
	} else if (have_cl || status == 204 || status == 304 || status < 200) {
		if (!have_cl)
			cl = 0;
		if (c->inlen < pos + cl)
			return eof ? -1 : 0;
		j->body = xmalloc(cl + 1);
		memcpy(j->body, b, cl);
		j->body[cl] = '\0';
		j->bodylen = cl;
	} else {
		/* Delimited by the end of the connection. */
		if (!eof)
			return 0;
		blen = c->inlen - pos;
		j->body = xmalloc(blen + 1);
		memcpy(j->body, b, blen);
		j->body[blen] = '\0';
		j->bodylen = blen;
		*close_it = 1;
	}
	j->status = status;
	return 1;
more:
	free(body);
	return eof ? -1 : 0;
}

/* A connection failed or closed with its job unfinished. */
static void
conn_lost(struct conn *c, enum job_err err)
{
	struct engine	*e = c->e;
	struct job	*j = c->job;

	c->job = NULL;
	/* A reused connection closed by nginx before answering: retry. */
	if (j != NULL && c->used > 0 && c->inlen == 0 &&
	    j->retries++ < JOB_RETRIES) {
		conn_close(c);
		engine_queue(e, j, 1);
		return;
	}
	conn_close(c);
	if (j != NULL)
		job_fail(e, j, err);
}

/* Handle one epoll event of a connection. */
static void
conn_event(struct conn *c, uint32_t events)
{
	struct engine	*e = c->e;
	struct job	*j;
	ssize_t		 n;
	size_t		 room;
	int		 err = 0, rc, eof = 0, close_it = 0;
	socklen_t	 len = sizeof err;

	if (!c->connected) {
		if (events & (EPOLLERR | EPOLLHUP)) {
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
			conn_lost(c, E_CONNECT);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			conn_lost(c, E_CONNECT);
			return;
		}
		c->connected = 1;
	}
	if (c->ssl != NULL && !c->handshaken) {
		if ((rc = conn_handshake(c)) == -1) {
			conn_lost(c, E_CONNECT);
			return;
		}
		if (rc == 0)
			return;
	}
	if (c->job == NULL) {
		/* Idle keep-alive connection: nginx closed it. */
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			conn_close(c);
		return;
	}
	if (c->out_off < c->job->reqlen && conn_write(c) == -1) {
		conn_lost(c, E_RESET);
		return;
	}
	/*
	 * Edge-triggered, the socket also reports room to write (the ACK of
	 * the request just sent): with nothing come to read, no recv().
	 */
	if (c->ssl == NULL && !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
	    EPOLLERR)))
		return;
	j = c->job;
	for (;;) {
		if (c->incap - c->inlen < 4096) {
			c->incap = c->incap == 0 ? 8192 : c->incap * 2;
			c->in = xrealloc(c->in, c->incap);
		}
		room = c->incap - c->inlen - 1;
		n = conn_recv(c, c->in + c->inlen, room);
		if (n > 0) {
			c->inlen += (size_t)n;
			/*
			 * A short read emptied the socket: a whole answer
			 * needs no recv() that says EAGAIN (what comes later
			 * is a new edge).
			 */
			if (c->ssl == NULL && (size_t)n < room &&
			    (rc = http_parse(c, 0, &close_it)) != 0) {
				if (rc == -1) {
					conn_lost(c, E_PARSE);
					return;
				}
				goto whole;
			}
			continue;
		}
		if (n == 0) {
			eof = 1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			break;
		conn_lost(c, E_RESET);
		return;
	}
	if (c->inlen == 0) {
		if (eof)
			conn_lost(c, E_EOF);
		return;
	}
	if ((rc = http_parse(c, eof, &close_it)) == 0)
		return;
	if (rc == -1) {
		conn_lost(c, eof ? E_EOF : E_PARSE);
		return;
	}
whole:
	job_finished(e, j);
	c->job = NULL;
	c->used++;
	c->inlen = 0;
	if (close_it || eof || c->own)
		conn_close(c);
	else
		e->idle[e->nidle++] = c;
}

/* Run the loop for up to ms milliseconds (one epoll_wait). */
static void
engine_step(struct engine *e, int ms)
{
	struct epoll_event	evs[256];
	int			n, i;

	engine_pump(e);
	n = epoll_wait(e->epfd, evs, 256, ms);
	if (n == -1) {
		if (errno == EINTR)
			return;
		die("epoll_wait: %s", strerror(errno));
	}
	for (i = 0; i < n; i++)
		conn_event(evs[i].data.ptr, evs[i].events);
	engine_pump(e);
}

/* Run until ndone reaches target or the deadline passes; 0 if reached. */
static int
engine_until(struct engine *e, size_t target, double deadline)
{
	double	t;

	while (e->ndone < target) {
		if ((t = now()) >= deadline)
			return -1;
		engine_step(e, (int)((deadline - t) * 1000 > 50 ? 50 :
		    (deadline - t) * 1000 + 1));
	}
	return 0;
}

/* Close every connection; unfinished jobs end with E_TIMEOUT. */
static void
engine_abort(struct engine *e)
{
	struct job	*j;

	while (e->qhead < e->qlen) {
		j = e->queue[e->qhead++];
		job_fail(e, j, E_TIMEOUT);
	}
	e->qhead = e->qlen = 0;
	while (e->nconns > 0) {
		j = e->conns[0]->job;
		e->conns[0]->job = NULL;
		conn_close(e->conns[0]);
		if (j != NULL)
			job_fail(e, j, E_TIMEOUT);
	}
}

/*
 * One request on the control connection, waiting for its answer (at most
 * timeout seconds).  Returns the status (-1 on failure); *body, if given,
 * gets the body, which the caller frees.
 */
static int
http_on(struct engine *e, const char *method, const char *path,
    const char *token, const char *body, char **resp, double timeout)
{
	struct job	*j = job_new(method, path, token, body);
	int		 status;

	engine_submit(e, j);
	if (engine_until(e, e->ndone + 1, now() + timeout) == -1)
		engine_abort(e);
	status = j->err == E_NONE ? j->status : -1;
	if (resp != NULL) {
		*resp = j->body;
		j->body = NULL;
	}
	job_free(j);
	return status;
}

/* The same on the control connection of the main port. */
static int
http(const char *method, const char *path, const char *token,
    const char *body, char **resp, double timeout)
{
	return http_on(ctl, method, path, token, body, resp, timeout);
}

/* --- JSON, the little we need ------------------------------------------ */

/*
 * The string value of the first "key" at or after p (no escapes in the
 * values we read: ids, tokens, codes).  0 on success.
 */
static int
json_str(const char *p, const char *key, char *out, size_t outlen)
{
	char		 pat[64];
	const char	*s, *e;

	if (p == NULL)
		return -1;
	snprintf(pat, sizeof pat, "\"%s\"", key);
	if ((s = strstr(p, pat)) == NULL)
		return -1;
	s += strlen(pat);
	while (isspace((unsigned char)*s) || *s == ':')
		s++;
	if (*s != '"')
		return -1;
	s++;
	if ((e = strchr(s, '"')) == NULL || (size_t)(e - s) >= outlen)
		return -1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

static uint64_t
json_id(const char *p, const char *key)
{
	char	buf[32];

	if (json_str(p, key, buf, sizeof buf) == -1)
		return 0;
	return strtoull(buf, NULL, 10);
}

/* --- accounts and their cache ------------------------------------------- */

static void
cache_save(void)
{
	char	*tmp = xasprintf("%s.tmp", opt.cache);
	FILE	*f;
	int	 i;

	if ((f = fopen(tmp, "w")) == NULL)
		die("%s: %s", tmp, strerror(errno));
	fprintf(f, "lpbench-accounts 1\nport %d\nprefix %s\nnext %d\n",
	    opt.port, prefix, next_serial);
	fprintf(f, "server %" PRIu64 " %" PRIu64 " %s\n", server_id,
	    channel_id, invite[0] ? invite : "-");
	fprintf(f, "owner %" PRIu64 " %s %s %s %lld\n", owner.id, owner.name,
	    owner.access, owner.refresh, owner.issued);
	for (i = 0; i < nmembers; i++) {
		if (!members[i].ok)
			continue;
		fprintf(f, "user %" PRIu64 " %s %s %s %lld\n", members[i].id,
		    members[i].name, members[i].access, members[i].refresh,
		    members[i].issued);
	}
	if (fclose(f) != 0 || rename(tmp, opt.cache) == -1)
		die("%s: %s", opt.cache, strerror(errno));
	free(tmp);
}

static int
account_scan(const char *line, const char *tag, struct account *a)
{
	char	fmt[128];

	snprintf(fmt, sizeof fmt, "%s %%" SCNu64 " %%39s %%1023s %%127s "
	    "%%lld", tag);
	memset(a, 0, sizeof *a);
	if (sscanf(line, fmt, &a->id, a->name, a->access, a->refresh,
	    &a->issued) != 5)
		return -1;
	a->ok = 1;
	return 0;
}

/* Load the cache; 0 if it holds an owner and a server. */
static int
cache_load(void)
{
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0;
	int		 port = 0;
	struct account	 a;

	if ((f = fopen(opt.cache, "r")) == NULL)
		return -1;
	while (getline(&line, &cap, f) != -1) {
		if (sscanf(line, "port %d", &port) == 1)
			continue;
		if (sscanf(line, "prefix %15s", prefix) == 1)
			continue;
		if (sscanf(line, "next %d", &next_serial) == 1)
			continue;
		if (sscanf(line, "server %" SCNu64 " %" SCNu64 " %63s",
		    &server_id, &channel_id, invite) == 3)
			continue;
		if (account_scan(line, "owner", &a) == 0)
			owner = a;
		else if (account_scan(line, "user", &a) == 0 &&
		    nmembers < MAX_N)
			members[nmembers++] = a;
	}
	free(line);
	fclose(f);
	if (port != opt.port || !owner.ok || server_id == 0 ||
	    channel_id == 0 || invite[0] == '\0' || strcmp(invite, "-") == 0)
		return -1;
	return 0;
}

static long long
unix_now(void)
{
	return (long long)time(NULL);
}

/* The body of a registration. */
static char *
register_body(const char *name)
{
	return xasprintf("{\"username\":\"%s\",\"email\":\"%s@bench.invalid\","
	    "\"password\":\"" PASSWORD "\"}", name, name);
}

/* Take the tokens of a register/refresh answer into an account. */
static int
account_tokens(struct account *a, const char *body)
{
	if (json_str(body, "access_token", a->access, sizeof a->access) ==
	    -1 || json_str(body, "refresh_token", a->refresh,
	    sizeof a->refresh) == -1)
		return -1;
	a->issued = unix_now();
	return 0;
}

/* Make the owner, the server, its channel and an invite. */
static void
setup_server(void)
{
	char	*body, *resp = NULL, path[128];
	int	 st;

	snprintf(prefix, sizeof prefix, "lp%06lx", (unsigned long)
	    ((unix_now() ^ (getpid() << 8)) & 0xffffff));
	memset(&owner, 0, sizeof owner);
	snprintf(owner.name, sizeof owner.name, "%s_owner", prefix);
	body = register_body(owner.name);
	st = http("POST", "/api/v1/auth/register", NULL, body, &resp, 30);
	free(body);
	if (st != 201 || account_tokens(&owner, resp) == -1 ||
	    (owner.id = json_id(strstr(resp, "\"user\""), "id")) == 0)
		die("register %s: %d %s", owner.name, st, resp ? resp : "");
	owner.ok = 1;
	free(resp);
	st = http("POST", "/api/v1/servers", owner.access,
	    "{\"name\":\"lpbench\"}", &resp, 30);
	if (st != 201 || (server_id = json_id(resp, "id")) == 0)
		die("create server: %d %s", st, resp ? resp : "");
	free(resp);
	snprintf(path, sizeof path, "/api/v1/servers/%" PRIu64 "/channels",
	    server_id);
	st = http("GET", path, owner.access, NULL, &resp, 30);
	if (st != 200 || (channel_id = json_id(resp, "id")) == 0)
		die("list channels: %d %s", st, resp ? resp : "");
	free(resp);
	snprintf(path, sizeof path, "/api/v1/servers/%" PRIu64 "/invites",
	    server_id);
	st = http("POST", path, owner.access,
	    "{\"max_uses\":0,\"max_age\":0}", &resp, 30);
	if (st != 201 || json_str(resp, "code", invite, sizeof invite) == -1)
		die("create invite: %d %s", st, resp ? resp : "");
	free(resp);
	nmembers = 0;
	next_serial = 0;
	cache_save();
}

/*
 * Run jobs[0..n) on a pool of opt.conc keep-alive connections within
 * timeout seconds; those left end with E_TIMEOUT.
 */
static void
run_pool(struct job **jobs, int n, double timeout)
{
	struct engine	*e = engine_new((size_t)opt.conc, 1);
	int		 i;

	for (i = 0; i < n; i++)
		engine_submit(e, jobs[i]);
	if (engine_until(e, (size_t)n, now() + timeout) == -1)
		engine_abort(e);
	engine_abort(e);
	close(e->epfd);
	free(e->queue);
	free(e->conns);
	free(e->idle);
	free(e);
}

/* Refresh the access tokens older than TOKEN_MAX_AGE; drop dead accounts. */
static void
refresh_tokens(void)
{
	struct job	**jobs;
	int		 *who, n = 0, i, bad = 0, st;
	char		 *body, *resp = NULL;
	long long	  old = unix_now() - TOKEN_MAX_AGE;

	if (owner.issued < old) {
		body = xasprintf("{\"refresh_token\":\"%s\"}", owner.refresh);
		st = http("POST", "/api/v1/auth/refresh", NULL, body, &resp,
		    30);
		free(body);
		if (st != 200 || account_tokens(&owner, resp) == -1)
			owner.ok = 0;
		free(resp);
		if (!owner.ok)
			return;
	}
	jobs = xcalloc((size_t)nmembers, sizeof *jobs);
	who = xcalloc((size_t)nmembers, sizeof *who);
	for (i = 0; i < nmembers; i++) {
		if (!members[i].ok || members[i].issued >= old)
			continue;
		body = xasprintf("{\"refresh_token\":\"%s\"}",
		    members[i].refresh);
		jobs[n] = job_new("POST", "/api/v1/auth/refresh", NULL, body);
		free(body);
		who[n++] = i;
	}
	if (n > 0) {
		printf("refreshing %d access tokens\n", n);
		run_pool(jobs, n, 300);
	}
	for (i = 0; i < n; i++) {
		if (jobs[i]->err != E_NONE || jobs[i]->status != 200 ||
		    account_tokens(&members[who[i]], jobs[i]->body) == -1) {
			members[who[i]].ok = 0;
			bad++;
		}
		job_free(jobs[i]);
	}
	if (bad > 0)
		printf("dropped %d accounts whose refresh failed\n", bad);
	free(jobs);
	free(who);
	cache_save();
}

/* Compact members[] to the valid accounts. */
static void
members_compact(void)
{
	int	i, k = 0;

	for (i = 0; i < nmembers; i++)
		if (members[i].ok)
			members[k++] = members[i];
	nmembers = k;
}

/* Register and join accounts until there are opt.n members. */
static void
add_members(void)
{
	struct job	**jobs;
	struct account	 *fresh;
	char		 *body, path[128];
	int		  want, i, round, ok, shown = 0;
	double		  t0;

	for (round = 0; round < 3 && nmembers < opt.n; round++) {
		want = opt.n - nmembers;
		t0 = now();
		printf("registering %d accounts (%d connections)\n", want,
		    opt.conc);
		fresh = xcalloc((size_t)want, sizeof *fresh);
		jobs = xcalloc((size_t)want, sizeof *jobs);
		for (i = 0; i < want; i++) {
			snprintf(fresh[i].name, sizeof fresh[i].name,
			    "%s_%d", prefix, next_serial++);
			body = register_body(fresh[i].name);
			jobs[i] = job_new("POST", "/api/v1/auth/register",
			    NULL, body);
			free(body);
		}
		run_pool(jobs, want, 900);
		for (i = 0, ok = 0; i < want; i++) {
			if (jobs[i]->err == E_NONE && jobs[i]->status == 201 &&
			    account_tokens(&fresh[i], jobs[i]->body) == 0 &&
			    (fresh[i].id = json_id(strstr(jobs[i]->body,
			    "\"user\""), "id")) != 0) {
				fresh[i].ok = 1;
				ok++;
			} else if (shown++ < 3)
				fprintf(stderr, "register: %d %s %s\n",
				    jobs[i]->status,
				    job_err_names[jobs[i]->err],
				    jobs[i]->body ? jobs[i]->body : "");
			job_free(jobs[i]);
		}
		printf("  %d registered in %.1f s\n", ok, now() - t0);
		t0 = now();
		snprintf(path, sizeof path, "/api/v1/invites/%s", invite);
		for (i = 0; i < want; i++)
			jobs[i] = job_new("POST", path, fresh[i].ok ?
			    fresh[i].access : "-", NULL);
		run_pool(jobs, want, 900);
		for (i = 0, ok = 0; i < want; i++) {
			if (fresh[i].ok && jobs[i]->err == E_NONE &&
			    jobs[i]->status == 200) {
				members[nmembers++] = fresh[i];
				ok++;
			}
			job_free(jobs[i]);
		}
		printf("  %d joined in %.1f s\n", ok, now() - t0);
		free(jobs);
		free(fresh);
		cache_save();
	}
	if (nmembers < opt.n)
		die("could make only %d of %d members", nmembers, opt.n);
}

/* Load or make the server and its members, all with fresh tokens. */
static void
setup(void)
{
	char	*resp = NULL, path[128];
	int	 st;

	if (cache_load() == 0) {
		refresh_tokens();
		snprintf(path, sizeof path, "/api/v1/channels/%" PRIu64,
		    channel_id);
		if (owner.ok && (st = http("GET", path, owner.access, NULL,
		    &resp, 30)) == 200) {
			free(resp);
			members_compact();
			printf("cache %s: %d members of server %" PRIu64 "\n",
			    opt.cache, nmembers, server_id);
			add_members();
			return;
		}
		free(resp);
		printf("cache %s is stale; starting over\n", opt.cache);
	}
	nmembers = 0;
	setup_server();
	add_members();
}

/* --- processes: memory and CPU ------------------------------------------ */

static int
read_pidfile(const char *name)
{
	char	*path = xasprintf("%s/run/%s", opt.var, name);
	FILE	*f = fopen(path, "r");
	int	 pid = 0;

	free(path);
	if (f == NULL)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid;
}

/* Fill one process's numbers; -1 if it is gone. */
static int
proc_read(int pid, struct procstat *ps)
{
	char		 path[64], line[512], *p;
	FILE		*f;
	DIR		*d;
	unsigned long long ut, st;

	memset(ps, 0, sizeof *ps);
	ps->pid = pid;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof line, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	if ((p = strchr(line, '(')) != NULL) {
		char	*q = strrchr(line, ')');

		if (q != NULL && q > p)
			snprintf(ps->comm, sizeof ps->comm, "%.*s",
			    (int)(q - p - 1), p + 1);
		p = q;
	}
	/* After ")": state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime. */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	ps->ticks = ut + st;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			sscanf(line, "VmRSS: %ld", &ps->rss_kb);
			sscanf(line, "voluntary_ctxt_switches: %ld",
			    &ps->vcsw);
			sscanf(line, "nonvoluntary_ctxt_switches: %ld",
			    &ps->ivcsw);
		}
		fclose(f);
	}
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL)
			if (sscanf(line, "Pss: %ld", &ps->pss_kb) == 1)
				break;
		fclose(f);
	}
	snprintf(path, sizeof path, "/proc/%d/fd", pid);
	if ((d = opendir(path)) != NULL) {
		while (readdir(d) != NULL)
			ps->fds++;
		ps->fds -= 2;
		closedir(d);
	}
	return 0;
}

/* The parent of a process, or 0. */
static int
proc_ppid(int pid)
{
	char	 path[64], line[512], *p;
	FILE	*f;
	int	 ppid = 0;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof line, f) != NULL &&
	    (p = strrchr(line, ')')) != NULL)
		sscanf(p + 2, "%*c %d", &ppid);
	fclose(f);
	return ppid;
}

/* A process (from a pid file) and its children. */
static void
procset_read(struct procset *s, const char *pidfile)
{
	struct dirent	*de;
	DIR		*d;
	int		 master = read_pidfile(pidfile), pid;

	s->n = 0;
	if (master <= 0 || proc_read(master, &s->p[s->n]) == -1)
		return;
	s->n++;
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL && s->n < MAX_PROCS) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (proc_ppid(pid) == master && proc_read(pid, &s->p[s->n]) ==
		    0)
			s->n++;
	}
	closedir(d);
}

/* Read the same processes again (for CPU deltas). */
static void
procset_again(const struct procset *a, struct procset *b)
{
	int	i;

	b->n = 0;
	for (i = 0; i < a->n; i++)
		if (proc_read(a->p[i].pid, &b->p[b->n]) == 0)
			b->n++;
}

static long
procset_sum(const struct procset *s, int pss)
{
	long	sum = 0;
	int	i;

	for (i = 0; i < s->n; i++)
		sum += pss ? s->p[i].pss_kb : s->p[i].rss_kb;
	return sum;
}

static void
procset_print(const char *label, const struct procset *s)
{
	int	i;

	printf("  %s:", label);
	for (i = 0; i < s->n; i++)
		printf(" %d(%s rss %ld KiB pss %ld KiB fds %d)", s->p[i].pid,
		    i == 0 ? "master" : "worker", s->p[i].rss_kb,
		    s->p[i].pss_kb, s->p[i].fds);
	printf("\n");
}

/* CPU ticks and context switches between two reads of the same set. */
static void
procset_delta(const struct procset *a, const struct procset *b,
    unsigned long long *ticks, long *csw)
{
	int	i, k;

	*ticks = 0;
	*csw = 0;
	for (i = 0; i < a->n; i++)
		for (k = 0; k < b->n; k++)
			if (a->p[i].pid == b->p[k].pid) {
				*ticks += b->p[k].ticks - a->p[i].ticks;
				*csw += (b->p[k].vcsw - a->p[i].vcsw) +
				    (b->p[k].ivcsw - a->p[i].ivcsw);
			}
}

/*
 * CPU time spent in a phase: by sohbetd, nginx, MariaDB, this tool, and
 * the whole machine (which shows what else ran meanwhile).
 */
struct cpuwatch {
	struct procset	 sohbetd, nginx, db;
	unsigned long long self, busy, total;
	double		 t;
};

/* Busy and total ticks of all CPUs from /proc/stat. */
static void
cpu_machine(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long	v[10] = { 0 };
	FILE			*f;
	int			 i;

	*busy = *total = 0;
	if ((f = fopen("/proc/stat", "r")) == NULL)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		for (i = 0; i < 8; i++)
			*total += v[i];
		*busy = *total - v[3] - v[4];	/* minus idle and iowait */
	}
	fclose(f);
}

/*
 * Start counting CPU: sohbetd's, MariaDB's, ours, the machine's, and the
 * nginx whose pid file is nginx_pid (in DIR/run; the nchan peer's is
 * "../nchan/nginx.pid").
 */
static void
cpuwatch_start_nginx(struct cpuwatch *w, const char *nginx_pid)
{
	struct procstat	self;

	procset_read(&w->sohbetd, "sohbetd.pid");
	procset_read(&w->nginx, nginx_pid);
	procset_read(&w->db, "mysqld.pid");
	w->self = proc_read(getpid(), &self) == 0 ? self.ticks : 0;
	cpu_machine(&w->busy, &w->total);
	w->t = now();
}

static void
cpuwatch_start(struct cpuwatch *w)
{
	cpuwatch_start_nginx(w, "nginx.pid");
}

/* Print (and record as key) the CPU seconds since cpuwatch_start. */
static void
cpuwatch_report(const struct cpuwatch *w, const char *key)
{
	struct procset	 s, n, d;
	struct procstat	 self;
	unsigned long long ts, tn, td, busy, total;
	long		 csw, hz = sysconf(_SC_CLK_TCK);
	double		 secs = now() - w->t;
	char		 buf[300];

	procset_again(&w->sohbetd, &s);
	procset_again(&w->nginx, &n);
	procset_again(&w->db, &d);
	procset_delta(&w->sohbetd, &s, &ts, &csw);
	procset_delta(&w->nginx, &n, &tn, &csw);
	procset_delta(&w->db, &d, &td, &csw);
	if (proc_read(getpid(), &self) == -1)
		self.ticks = w->self;
	cpu_machine(&busy, &total);
	snprintf(buf, sizeof buf, "sohbetd %.2f nginx %.2f mariadbd %.2f "
	    "lpbench %.2f machine %.2f of %.2f (%.1f s wall)", (double)ts / hz,
	    (double)tn / hz, (double)td / hz, (double)(self.ticks - w->self) /
	    hz, (double)(busy - w->busy) / hz, (double)(total - w->total) / hz,
	    secs);
	result(key, "%s", buf);
}

/* --- /metrics ------------------------------------------------------------ */

struct metrics {
	long long	parked;
	long long	wakeups;
	long long	delivered;	/* sohbet_delivery_seconds_count */
	double		delivery_sum;
	long long	le[16];		/* cumulative buckets */
	char		le_name[16][16];
	int		nle;
};

static int
metrics_read_on(struct engine *e, struct metrics *m)
{
	char		*resp = NULL, *line, *save = NULL;
	int		 st;

	memset(m, 0, sizeof *m);
	m->parked = -1;
	st = http_on(e, "GET", "/metrics", NULL, NULL, &resp, 10);
	if (st != 200) {
		free(resp);
		return -1;
	}
	for (line = strtok_r(resp, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		sscanf(line, "sohbet_parked_polls %lld", &m->parked);
		sscanf(line, "sohbet_wakeups_total %lld", &m->wakeups);
		sscanf(line, "sohbet_delivery_seconds_count %lld",
		    &m->delivered);
		sscanf(line, "sohbet_delivery_seconds_sum %lf",
		    &m->delivery_sum);
		if (strncmp(line, "sohbet_delivery_seconds_bucket{le=\"", 35) ==
		    0 && m->nle < 16) {
			char	*q = strchr(line + 35, '"');

			if (q != NULL && q - (line + 35) < 15) {
				snprintf(m->le_name[m->nle], 16, "%.*s",
				    (int)(q - (line + 35)), line + 35);
				m->le[m->nle] = atoll(strchr(q, ' ') ?
				    strchr(q, ' ') + 1 : "0");
				m->nle++;
			}
		}
	}
	free(resp);
	return 0;
}

static int
metrics_read(struct metrics *m)
{
	return metrics_read_on(ctl, m);
}

/* --- the benchmark ------------------------------------------------------ */

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double
pct(const double *v, int n, double p)
{
	int	k;

	if (n == 0)
		return 0;
	k = (int)(p / 100.0 * n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* Post a message as the owner; its id, or 0. */
static uint64_t
post_message(const char *content)
{
	char		*body, *resp = NULL, path[128];
	uint64_t	 id;
	int		 st;

	snprintf(path, sizeof path, "/api/v1/channels/%" PRIu64 "/messages",
	    channel_id);
	body = xasprintf("{\"content\":\"%s\"}", content);
	st = http("POST", path, owner.access, body, &resp, 30);
	free(body);
	id = st == 201 ? json_id(resp, "id") : 0;
	if (id == 0)
		fprintf(stderr, "lpbench: post: %d %s\n", st, resp ? resp : "");
	free(resp);
	return id;
}

/*
 * Cross-host delivery (two sohbetd pools on one database): opt.rounds
 * times, park opt.n polls on the second pool (cross_port), post on the
 * first, and time every answer from the send's response.
 */
static int
cross_run(void)
{
	struct engine	*ctlb, *lp;
	struct job	**jobs, *post;
	struct metrics	 mb;
	char		 path[256], cursor[32], *resp = NULL, *body, mid[48];
	double		*lat, *rmax, *rmin, deadline, t0;
	uint64_t	 msg_id;
	int		 r, i, st, nlat = 0, delivered = 0, early = 0, bad = 0,
			 unfinished = 0, rounds_ok = 0;

	ctlb = engine_new(1, 1);
	ctlb->port = opt.cross_port;
	if (http_on(ctlb, "GET", "/api/v1/health", NULL, NULL, NULL, 10) !=
	    200)
		die("no healthy second pool at http://127.0.0.1:%d",
		    opt.cross_port);
	lat = xcalloc((size_t)opt.n * (size_t)opt.rounds, sizeof *lat);
	rmax = xcalloc((size_t)opt.rounds, sizeof *rmax);
	rmin = xcalloc((size_t)opt.rounds, sizeof *rmin);
	jobs = xcalloc((size_t)opt.n, sizeof *jobs);
	srandom((unsigned)getpid());
	printf("cross-host: %d rounds of %d polls (%s) on :%d, posts on "
	    ":%d\n", opt.rounds, opt.n, opt.mode, opt.cross_port, opt.port);
	for (r = 0; r < opt.rounds; r++) {
		/* The cursor (events) or newest message id (channel) on B. */
		if (strcmp(opt.mode, "events") == 0) {
			st = http_on(ctlb, "GET", "/api/v1/events",
			    owner.access, NULL, &resp, 10);
			if (st != 200 || json_str(resp, "cursor", cursor,
			    sizeof cursor) == -1)
				die("GET /events on the second pool: %d", st);
			snprintf(path, sizeof path, "/api/v1/events?after=%s"
			    "&timeout=%d", cursor, opt.wait);
		} else {
			snprintf(path, sizeof path, "/api/v1/channels/%"
			    PRIu64 "/messages?limit=1", channel_id);
			st = http_on(ctlb, "GET", path, owner.access, NULL,
			    &resp, 10);
			if (st != 200 || json_str(resp, "id", cursor,
			    sizeof cursor) == -1)
				die("GET messages on the second pool: %d", st);
			snprintf(path, sizeof path, "/api/v1/channels/%"
			    PRIu64 "/messages?after=%s&wait=%d", channel_id,
			    cursor, opt.wait);
		}
		free(resp);
		resp = NULL;
		lp = engine_new((size_t)opt.n + 16, 1);
		lp->port = opt.cross_port;
		for (i = 0; i < opt.n; i++) {
			jobs[i] = job_new("GET", path, members[i].access, NULL);
			engine_submit(lp, jobs[i]);
		}
		/* Parked on the second pool, as its /metrics says. */
		deadline = now() + 40;
		mb.parked = -1;
		while (now() < deadline) {
			engine_step(lp, 50);
			if (lp->nsent + lp->ndone >= (size_t)opt.n &&
			    metrics_read_on(ctlb, &mb) == 0 &&
			    mb.parked + (long long)lp->ndone >= opt.n)
				break;
		}
		early += (int)lp->ndone;
		/* A random phase against the watcher's period. */
		t0 = now() + (double)(random() % 250) / 1000.0;
		while (now() < t0)
			engine_step(lp, 10);
		snprintf(path, sizeof path, "/api/v1/channels/%" PRIu64
		    "/messages", channel_id);
		body = xasprintf("{\"content\":\"lpbench cross %d\"}", r);
		post = job_new("POST", path, owner.access, body);
		free(body);
		post->port = opt.port;
		engine_submit(lp, post);
		engine_until(lp, (size_t)opt.n + 1, now() + opt.deliver_s);
		engine_abort(lp);
		if (post->err != E_NONE || post->status != 201 ||
		    (msg_id = json_id(post->body, "id")) == 0)
			die("post on the first pool: %d %s", post->status,
			    post->body ? post->body : "");
		snprintf(mid, sizeof mid, "\"id\":\"%" PRIu64 "\"", msg_id);
		for (i = 0; i < opt.n; i++) {
			struct job	*j = jobs[i];

			if (j->err == E_TIMEOUT)
				unfinished++;
			else if (j->t_done < post->t_start)
				;	/* counted as early */
			else if (j->err != E_NONE || j->status != 200 ||
			    j->body == NULL || strstr(j->body, mid) == NULL)
				bad++;
			else {
				delivered++;
				lat[nlat] = j->t_done - post->t_done;
				if (lat[nlat] > rmax[r])
					rmax[r] = lat[nlat];
				if (rmin[r] == 0 || lat[nlat] < rmin[r])
					rmin[r] = lat[nlat];
				nlat++;
			}
			job_free(j);
		}
		job_free(post);
		close(lp->epfd);
		free(lp->queue);
		free(lp->conns);
		free(lp->idle);
		free(lp);
		rounds_ok++;
		printf("  round %d: first answer %.1f ms, slowest %.1f ms "
		    "after the send's response\n", r + 1, rmin[r] * 1e3,
		    rmax[r] * 1e3);
	}
	qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
	qsort(rmax, (size_t)rounds_ok, sizeof *rmax, cmp_double);
	qsort(rmin, (size_t)rounds_ok, sizeof *rmin, cmp_double);
	printf("\nresults\n");
	result("cross_mode", "%s", opt.mode);
	result("cross_rounds", "%d", rounds_ok);
	result("cross_polls_per_round", "%d", opt.n);
	result("cross_delivered", "%d of %d", delivered, opt.n * rounds_ok);
	result("cross_errors_early_bad_unanswered", "%d/%d/%d", early, bad,
	    unfinished);
	result("cross_latency_from_send_response_ms", "p50 %.1f p90 %.1f "
	    "p99 %.1f max %.1f", pct(lat, nlat, 50) * 1e3,
	    pct(lat, nlat, 90) * 1e3, pct(lat, nlat, 99) * 1e3,
	    nlat ? lat[nlat - 1] * 1e3 : 0);
	result("cross_round_slowest_ms", "min %.1f median %.1f max %.1f",
	    rounds_ok ? rmax[0] * 1e3 : 0, pct(rmax, rounds_ok, 50) * 1e3,
	    rounds_ok ? rmax[rounds_ok - 1] * 1e3 : 0);
	result("cross_round_first_ms", "min %.1f median %.1f max %.1f",
	    rounds_ok ? rmin[0] * 1e3 : 0, pct(rmin, rounds_ok, 50) * 1e3,
	    rounds_ok ? rmin[rounds_ok - 1] * 1e3 : 0);
	free(lat);
	free(rmax);
	free(rmin);
	free(jobs);
	if (outf != NULL)
		fclose(outf);
	return delivered == opt.n * opt.rounds ? 0 : 1;
}

/*
 * What every client does next: poll again at once with what it was given,
 * on its keep-alive connection.  The time until all are parked again is
 * what one broadcast costs in steady state.
 */
static void
repoll(struct engine *lp, struct job **jobs, uint64_t msg_id)
{
	struct job	**again = xcalloc((size_t)opt.n, sizeof *again);
	struct metrics	  m;
	struct cpuwatch	  cw;
	char		  path[256], cursor[32];
	size_t		  base = lp->ndone;
	double		  t0, deadline, tlast = 0;
	int		  i, n = 0, non200 = 0, errs = 0, answered = 0;

	cpuwatch_start(&cw);
	t0 = now();
	for (i = 0; i < opt.n; i++) {
		struct job	*j = jobs[i];

		if (j->state != JOB_DONE || j->err != E_NONE ||
		    j->status != 200)
			continue;
		if (strcmp(opt.mode, "events") == 0) {
			if (json_str(j->body, "cursor", cursor,
			    sizeof cursor) == -1)
				continue;
			snprintf(path, sizeof path, "/api/v1/events?after=%s"
			    "&timeout=%d", cursor, opt.wait);
		} else
			snprintf(path, sizeof path, "/api/v1/channels/%"
			    PRIu64 "/messages?after=%" PRIu64 "&wait=%d",
			    channel_id, msg_id, opt.wait);
		again[n] = job_new("GET", path, members[i].access, NULL);
		engine_submit(lp, again[n++]);
	}
	deadline = t0 + 40;
	m.parked = -1;
	while (now() < deadline) {
		engine_step(lp, 20);
		if (now() - tlast < 0.05)
			continue;
		tlast = now();
		if (metrics_read(&m) == 0 && m.parked +
		    (long long)(lp->ndone - base) >= n)
			break;
	}
	for (i = 0; i < n; i++) {
		if (again[i]->state != JOB_DONE)
			continue;
		answered++;
		if (again[i]->err != E_NONE)
			errs++;
		else if (again[i]->status != 200) {
			if (non200++ < 3)
				fprintf(stderr, "re-poll: %d %.200s\n",
				    again[i]->status, again[i]->body ?
				    again[i]->body : "");
		}
	}
	result("repoll_seconds_until_parked", "%.2f (%lld of %d parked)",
	    now() - t0, m.parked, n);
	result("repoll_answered_instead", "%d (non-200 %d, errors %d)",
	    answered, non200, errs);
	cpuwatch_report(&cw, "cpu_seconds_repolling");
	engine_abort(lp);
	for (i = 0; i < n; i++)
		job_free(again[i]);
	free(again);
}

/* The latencies a storm measured: typing deliveries and a message's. */
struct storm_stats {
	double		*typing;	/* per typing.start received */
	long		 ntyping, captyping;
	double		*message;	/* per poller, once */
	int		 nmessage;
	int		 non200;
	long		 answered;	/* polls answered 200 in the storm */
	double		*transit;	/* an answer's rendering to its receipt */
	long		 ntransit, captransit;
	double		*post_pub;	/* a hint's POST to its publication */
	long		 npost_pub, cappost_pub;
	double		*pub_mark;	/* its publication to an answer */
	long		 npub_mark, cappub_mark;
	double		*pub;		/* per typist: its hint's publication */
	double		*pub_for;	/* ... of the hint sent then */
	struct storm_typist {
		uint64_t	 id;
		int		 k;	/* in members[] */
	}		*typists;	/* sorted by id */
};

static int
storm_typist_cmp(const void *a, const void *b)
{
	const struct storm_typist	*x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The typist (members[k]) of a user id, -1 if none. */
static int
storm_typist(const struct storm_stats *st, uint64_t id)
{
	struct storm_typist	 key = { id, 0 }, *t;

	t = bsearch(&key, st->typists, (size_t)opt.storm, sizeof key,
	    storm_typist_cmp);
	return t != NULL ? t->k : -1;
}

/* Append a value to a growing array. */
static void
storm_push(double **v, long *n, long *cap, double x)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 65536 : *cap * 2;
		*v = xrealloc(*v, (size_t)*cap * sizeof **v);
	}
	(*v)[(*n)++] = x;
}

/* An expires_at ("YYYY-MM-DDTHH:MM:SS.mmmZ") as seconds since the epoch. */
static double
storm_parse_time(const char *s)
{
	struct tm	tm;
	int		ms = 0;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + ms / 1000.0;
}

/*
 * Note the typing.starts of an answer: each one's latency from its
 * hint's POST; and its phases, on the realtime clock (rt_off from the
 * monotonic one): the POST's start to the hint's publication (its
 * expires_at less the 10 s it lasts), once a hint, and the publication
 * to the answer's rendering (the time of its "ephemeral" value, mark).
 */
static void
storm_note_typing(struct storm_stats *st, const char *body, double t,
    const double *hint_sent, double rt_off, double mark)
{
	const char	*p = body, *u, *x;
	uint64_t	 who;
	int		 k;

	while ((p = strstr(p, "\"typing.start\"")) != NULL) {
		p++;
		if ((u = strstr(p, "\"user_id\":\"")) == NULL)
			break;
		who = strtoull(u + 11, NULL, 10);
		if ((k = storm_typist(st, who)) == -1 || hint_sent[k] == 0)
			continue;
		storm_push(&st->typing, &st->ntyping, &st->captyping,
		    t - hint_sent[k]);
		if (st->pub_for[k] != hint_sent[k] && (x = strstr(u,
		    "\"expires_at\":\"")) != NULL) {
			st->pub_for[k] = hint_sent[k];
			st->pub[k] = storm_parse_time(x + 14) - 10.0;
			storm_push(&st->post_pub, &st->npost_pub,
			    &st->cappost_pub, st->pub[k] -
			    (hint_sent[k] + rt_off));
		}
		if (st->pub_for[k] == hint_sent[k] && mark > 0)
			storm_push(&st->pub_mark, &st->npub_mark,
			    &st->cappub_mark, mark - st->pub[k]);
	}
}

/* Report sorted latencies (seconds) as p50/p99/max in ms. */
static void
storm_report(const char *key, double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	result(key, "n %d p50 %.1f p90 %.1f p99 %.1f max %.1f", n,
	    pct(v, n, 50) * 1000, pct(v, n, 90) * 1000, pct(v, n, 99) * 1000,
	    n > 0 ? v[n - 1] * 1000 : 0);
}

static void	repark_all(struct engine *, struct job **, struct job **,
		    const char *, int);

/*
 * The typing storm (--storm K): every client is parked again first,
 * opt.ramp at a time (repark_all()), then every answered client polls
 * again at once with its cursor and "ephemeral" value, as a browser does, while
 * members 0..K-1 each send a typing hint every STORM_HINT_EVERY seconds
 * (spread evenly; a little over the server's 5-s throttle, so that none
 * is dropped), for opt.storm_s seconds; halfway the owner posts a
 * message.  Reports the latency of every typing.start received and of
 * the message to each poller, both from their POST's start, to compare
 * with latency_from_send_start_ms of the broadcast measured before
 * without hints.  With --storm-quiet the typists send nothing: the same
 * clients polling again at once, the same message, no typing (the run
 * without typing that issue 22's target compares with).
 */
#define STORM_HINT_EVERY	5.5

static void
storm(struct engine *lp, struct job **jobs)
{
	struct storm_stats st = { 0 };
	struct job	**cur = xcalloc((size_t)opt.n, sizeof *cur);
	struct job	**hint = xcalloc((size_t)opt.storm, sizeof *hint);
	double		 *hint_sent = xcalloc((size_t)opt.storm,
			    sizeof *hint_sent);
	char		 *got_msg = xcalloc((size_t)opt.n, 1);
	struct job	 *post = NULL;
	struct cpuwatch	  cw;
	char		  path[512], cursor[32], eph[80], content[64];
	char		  tpath[128], mpath[128];
	double		  t0, t, next_hint, post_sent = 0, rt_off;
	struct timespec	  rt;
	struct job	**fin = NULL;
	size_t		  f, nfin, capfin = 0;
	int		  i, k, h = 0, sent = 0, throttled = 0;

	st.message = xcalloc((size_t)opt.n, sizeof *st.message);
	st.typists = xcalloc((size_t)opt.storm + 1, sizeof *st.typists);
	for (k = 0; k < opt.storm; k++) {
		st.typists[k].id = members[k].id;
		st.typists[k].k = k;
	}
	qsort(st.typists, (size_t)opt.storm, sizeof *st.typists,
	    storm_typist_cmp);
	st.pub = xcalloc((size_t)opt.storm + 1, sizeof *st.pub);
	st.pub_for = xcalloc((size_t)opt.storm + 1, sizeof *st.pub_for);
	snprintf(tpath, sizeof tpath, "/api/v1/channels/%" PRIu64 "/typing",
	    channel_id);
	snprintf(mpath, sizeof mpath, "/api/v1/channels/%" PRIu64
	    "/messages", channel_id);
	snprintf(content, sizeof content, "lpbench storm %lld", unix_now());
	/* Parked again first, a ramp at a time: no burst of 9,000. */
	repark_all(lp, jobs, cur, "storm", 1);
	cpuwatch_start(&cw);
	t0 = now();
	/* Realtime less monotonic: the server's times are realtime. */
	clock_gettime(CLOCK_REALTIME, &rt);
	rt_off = (double)rt.tv_sec + (double)rt.tv_nsec / 1e9 - t0;
	next_hint = t0;
	/* From here the answers are read from the engine's list. */
	lp->nfin = 0;
	lp->track = 1;
	while ((t = now()) < t0 + opt.storm_s) {
		/* The hints due now, one typist after the other. */
		while (!opt.storm_quiet && next_hint <= t) {
			if (hint[h] == NULL || hint[h]->state == JOB_DONE) {
				if (hint[h] != NULL && hint[h]->status != 204)
					throttled++;
				job_free(hint[h]);
				hint[h] = job_new("POST", tpath,
				    members[h].access, "{}");
				engine_submit(lp, hint[h]);
				hint_sent[h] = t;
				sent++;
			}
			h = (h + 1) % opt.storm;
			next_hint += STORM_HINT_EVERY / opt.storm;
		}
		if (post == NULL && t >= t0 + opt.storm_s / 2) {
			char	*body = xasprintf("{\"content\":\"%s\"}",
			    content);

			post = job_new("POST", mpath, owner.access, body);
			free(body);
			engine_submit(lp, post);
			post_sent = t;
		}
		engine_step(lp, 5);
		nfin = engine_take_finished(lp, &fin, &capfin);
		for (f = 0; f < nfin; f++) {
			struct job	*j = fin[f];

			/* The hints' and the message's POSTs are not polls. */
			i = j->idx;
			if (i < 0 || i >= opt.n || cur[i] != j)
				continue;
			if (j->err != E_NONE || j->status != 200 ||
			    j->body == NULL || json_str(j->body, "cursor",
			    cursor, sizeof cursor) == -1 || json_str(j->body,
			    "ephemeral", eph, sizeof eph) == -1) {
				st.non200++;
				cur[i] = NULL;
				continue;
			}
			if (j->t_done >= t0) {
				const char	*dot = strrchr(eph, '.');
				double		 mark = 0;

				st.answered++;
				/* An answer with hints: its value's time is now. */
				if (dot != NULL && strstr(j->body,
				    "typing.start") != NULL) {
					mark = strtod(dot + 1, NULL) / 1000.0;
					storm_push(&st.transit, &st.ntransit,
					    &st.captransit, j->t_done + rt_off -
					    mark);
				}
				storm_note_typing(&st, j->body, j->t_done,
				    hint_sent, rt_off, mark);
				if (post != NULL && !got_msg[i] &&
				    strstr(j->body, content) != NULL) {
					got_msg[i] = 1;
					st.message[st.nmessage++] = j->t_done -
					    post_sent;
				}
			}
			snprintf(path, sizeof path, "/api/v1/events?after=%s"
			    "&timeout=%d&ephemeral=%s", cursor, opt.wait, eph);
			if (j != jobs[i])
				job_free(j);
			cur[i] = job_new("GET", path, members[i].access, NULL);
			cur[i]->idx = i;
			engine_submit(lp, cur[i]);
		}
	}
	lp->track = 0;
	lp->nfin = 0;
	result("storm_typists", "%d (a hint each every %.1f s, %d sent in %d "
	    "s, %d not 204)", opt.storm, STORM_HINT_EVERY, sent, opt.storm_s,
	    throttled);
	storm_report("storm_typing_latency_ms", st.typing,
	    (int)st.ntyping);
	storm_report("storm_message_latency_ms", st.message, st.nmessage);
	storm_report("storm_typing_post_to_publish_ms", st.post_pub,
	    (int)st.npost_pub);
	storm_report("storm_typing_publish_to_answer_ms", st.pub_mark,
	    (int)st.npub_mark);
	storm_report("storm_typing_answer_to_client_ms", st.transit,
	    (int)st.ntransit);
	result("storm_message_delivered", "%d of %d", st.nmessage, opt.n);
	result("storm_polls_failed", "%d", st.non200);
	result("storm_polls_answered", "%ld (%.0f a second)", st.answered,
	    (double)st.answered / opt.storm_s);
	cpuwatch_report(&cw, "cpu_seconds_storm");
	engine_abort(lp);
	for (i = 0; i < opt.n; i++) {
		if (cur[i] != jobs[i])
			job_free(cur[i]);
	}
	for (k = 0; k < opt.storm; k++)
		job_free(hint[k]);
	job_free(post);
	free(cur);
	free(hint);
	free(hint_sent);
	free(got_msg);
	free(st.typing);
	free(st.message);
	free(st.transit);
	free(st.post_pub);
	free(st.pub_mark);
	free(st.pub);
	free(st.pub_for);
	free(st.typists);
	free(fin);
}

/* --- a reaction to the parked polls (--reaction) ---------------------- */

/* 👍, percent-encoded for the path of a reaction. */
#define REACTION_EMOJI	"%F0%9F%91%8D"
/* 🎉, for the reaction that warms the workers first (--warm). */
#define WARM_EMOJI	"%F0%9F%8E%89"

/* How many of the opt.n polls are not answered yet. */
static size_t
jobs_pending(struct job **jobs)
{
	size_t	n = 0;
	int	i;

	for (i = 0; i < opt.n; i++)
		n += jobs[i]->state != JOB_DONE;
	return n;
}

/*
 * The polls of jobs[0..n) that ended with a 200 after ref started and
 * hold mark: their latencies from ref's response (lat) and from its
 * start (lat_start), sorted; their number.  The others that ended after
 * ref started are counted in *bad.
 */
static int
deliveries(struct job **jobs, int n, const struct job *ref, const char *mark,
    double *lat, double *lat_start, int *bad)
{
	int	i, k = 0;

	*bad = 0;
	for (i = 0; i < n; i++) {
		const struct job	*j = jobs[i];

		if (j->state != JOB_DONE || j->t_done < ref->t_start)
			continue;
		if (j->err != E_NONE || j->status != 200 || j->body == NULL ||
		    strstr(j->body, mark) == NULL) {
			(*bad)++;
			continue;
		}
		lat[k] = j->t_done - ref->t_done;
		lat_start[k++] = j->t_done - ref->t_start;
	}
	qsort(lat, (size_t)k, sizeof *lat, cmp_double);
	qsort(lat_start, (size_t)k, sizeof *lat_start, cmp_double);
	return k;
}

/* Record the percentiles of sorted v[0..n) in ms as key. */
static void
latency_result(const char *key, const double *v, int n)
{
	result(key, "p50 %.1f p90 %.1f p99 %.1f max %.1f", pct(v, n, 50) * 1e3,
	    pct(v, n, 90) * 1e3, pct(v, n, 99) * 1e3, n ? v[n - 1] * 1e3 : 0);
}

/*
 * Step lp until /metrics counts n polls parked or answered since base
 * answers were done, or the deadline passes.
 */
static void
repark_wait(struct engine *lp, size_t base, int n, double deadline,
    struct metrics *m)
{
	double	tlast = 0;

	while (now() < deadline) {
		engine_step(lp, 20);
		if (now() - tlast < 0.05)
			continue;
		tlast = now();
		if (metrics_read(m) == 0 && m->parked +
		    (long long)(lp->ndone - base) >= n)
			return;
	}
}

/*
 * Park every /events poll answered in from again with the cursor it was
 * given (and its ephemeral value, with_ephemeral: as the web client
 * does) as a new job in to (from itself: the answered job is freed),
 * opt.ramp at a time as they were parked
 * first (all at once, they overflow sohbetd's listen queue and nginx
 * answers 502), each batch confirmed by /metrics.  Reported as
 * <name>_repark_seconds.
 */
static void
repark_all(struct engine *lp, struct job **from, struct job **to,
    const char *name, int with_ephemeral)
{
	struct metrics	 m;
	char		 path[512], cursor[32], eph[80], key[96];
	size_t		 base = lp->ndone;
	double		 t0 = now(), deadline = now() + 40;
	int		 i, n = 0;

	m.parked = -1;
	for (i = 0; i < opt.n; i++) {
		if (from[i]->state != JOB_DONE || from[i]->body == NULL ||
		    json_str(from[i]->body, "cursor", cursor,
		    sizeof cursor) == -1)
			continue;
		if (with_ephemeral && json_str(from[i]->body, "ephemeral", eph,
		    sizeof eph) == 0)
			snprintf(path, sizeof path, "/api/v1/events?after=%s"
			    "&timeout=%d&ephemeral=%s", cursor, opt.wait, eph);
		else
			snprintf(path, sizeof path, "/api/v1/events?after=%s"
			    "&timeout=%d", cursor, opt.wait);
		if (to == from)
			job_free(from[i]);
		to[i] = job_new("GET", path, members[i].access, NULL);
		to[i]->idx = i;
		engine_submit(lp, to[i]);
		if (++n % opt.ramp == 0)
			repark_wait(lp, base, n, deadline, &m);
	}
	repark_wait(lp, base, n, deadline, &m);
	snprintf(key, sizeof key, "%s_repark_seconds", name);
	result(key, "%.2f (%lld of %d parked, %zu answered meanwhile)",
	    now() - t0, m.parked, n, lp->ndone - base);
}

/* A result's key: the phase's name, then what it counts. */
#define NAMED(what)	(snprintf(key, sizeof key, "%s_%s", name, what), key)

/* The p99s of a broadcast's answers, from its request's response and start. */
struct p99s {
	double	 response, start;
};

/*
 * Wait for every parked /events poll to be answered after the broadcast
 * req (submitted by the caller, pending polls then): report req's time,
 * the server's wake-ups and deliveries (since m0) and the latency of
 * each answer that holds mark (NULL: made from req's answer, the id of
 * the message it posted), then park every poll again.  Results are
 * named after name and the request's verb (put, send); the p99s go to
 * *p unless it is NULL.
 */
static void
broadcast_timed(struct engine *lp, struct job **jobs, struct job *req,
    size_t pending, const struct metrics *m0, const char *mark,
    const char *name, const char *verb, struct p99s *p)
{
	struct metrics	 m1;
	char		 key[96], what[64], made[64];
	double		*lat, *lat_start;
	int		 k, bad;

	metrics_read(&m1);
	snprintf(what, sizeof what, "%s_response_ms", verb);
	result(NAMED(what), "%.2f", (req->t_done - req->t_start) * 1e3);
	result(NAMED("server_wakeups"), "%lld", m1.wakeups - m0->wakeups);
	result(NAMED("server_delivered"), "%lld", m1.delivered -
	    m0->delivered);
	result(NAMED("server_delivery_mean_ms"), "%.1f", m1.delivered >
	    m0->delivered ? (m1.delivery_sum - m0->delivery_sum) * 1e3 /
	    (double)(m1.delivered - m0->delivered) : 0);
	if (mark == NULL) {
		snprintf(made, sizeof made, "\"id\":\"%" PRIu64 "\"",
		    json_id(req->body, "id"));
		mark = made;
	}
	lat = xcalloc((size_t)opt.n, sizeof *lat);
	lat_start = xcalloc((size_t)opt.n, sizeof *lat_start);
	k = deliveries(jobs, opt.n, req, mark, lat, lat_start, &bad);
	result(NAMED("delivered"), "%d (%d wrong or failed, %d unanswered)",
	    k, bad, (int)pending - k - bad);
	snprintf(what, sizeof what, "latency_from_%s_response_ms", verb);
	latency_result(NAMED(what), lat, k);
	snprintf(what, sizeof what, "latency_from_%s_start_ms", verb);
	latency_result(NAMED(what), lat_start, k);
	if (p != NULL) {
		p->response = pct(lat, k, 99) * 1e3;
		p->start = pct(lat_start, k, 99) * 1e3;
	}
	result(NAMED("clock_monotonic"), "start %.6f response %.6f "
	    "first answer %.6f last %.6f", req->t_start, req->t_done,
	    req->t_start + (k ? lat_start[0] : 0), req->t_start +
	    (k ? lat_start[k - 1] : 0));
	free(lat);
	free(lat_start);
	repark_all(lp, jobs, jobs, name, 0);
}

/*
 * Before the message: the owner adds a reaction to message msg_id, whose
 * reaction.add goes through the hub to the same parked polls.  /events
 * polls are each answered with it (timed as the message is, then parked
 * again with their new cursor: broadcast_timed()); per-channel polls
 * wait for messages only, so they must all stay parked: it counts any
 * answered within REACTION_QUIET_S and what waking them cost.  The
 * p99s of an /events run go to *p unless it is NULL.
 */
#define REACTION_QUIET_S	2.0

static void
reaction_phase(struct engine *lp, struct job **jobs, uint64_t msg_id,
    const char *emoji, const char *name, struct p99s *p)
{
	struct metrics	 m0;
	struct cpuwatch	 cw;
	struct job	*put;
	char		 path[256], mark[64], key[96];
	double		*lat, *lat_start;
	size_t		 pending;
	int		 k, bad, events = strcmp(opt.mode, "events") == 0;

	pending = jobs_pending(jobs);
	snprintf(path, sizeof path, "/api/v1/channels/%" PRIu64 "/messages/%"
	    PRIu64 "/reactions/%s/@me", channel_id, msg_id, emoji);
	put = job_new("PUT", path, owner.access, NULL);
	metrics_read(&m0);
	cpuwatch_start(&cw);
	engine_submit(lp, put);
	if (events)
		engine_until(lp, lp->ndone + pending + 1, now() + opt.deliver_s);
	else {
		engine_until(lp, lp->ndone + 1, now() + opt.deliver_s);
		while (now() - put->t_done < REACTION_QUIET_S)
			engine_step(lp, 50);
	}
	snprintf(key, sizeof key, "cpu_seconds_delivering_%s", name);
	cpuwatch_report(&cw, key);
	if (put->err != E_NONE || put->status != 204)
		die("the reaction PUT failed: %d %s %s", put->status,
		    job_err_names[put->err], put->body ? put->body : "");
	snprintf(mark, sizeof mark, "\"message_id\":\"%" PRIu64 "\"", msg_id);
	if (events)
		broadcast_timed(lp, jobs, put, pending, &m0, mark, name, "put",
		    p);
	else {
		lat = xcalloc((size_t)opt.n, sizeof *lat);
		lat_start = xcalloc((size_t)opt.n, sizeof *lat_start);
		k = deliveries(jobs, opt.n, put, "", lat, lat_start, &bad);
		result(NAMED("channel_polls_answered"), "%d of %zu (0 "
		    "expected: they wait for messages)", k + bad, pending);
		free(lat);
		free(lat_start);
	}
	job_free(put);
}

/*
 * A message to the parked /events polls, timed as a reaction is
 * (broadcast_timed()), for the rounds of --alternate.
 */
static void
message_phase(struct engine *lp, struct job **jobs, const char *name,
    struct p99s *p)
{
	struct metrics	 m0;
	struct cpuwatch	 cw;
	struct job	*post;
	char		 path[128], key[96], *body;
	size_t		 pending;

	pending = jobs_pending(jobs);
	snprintf(path, sizeof path, "/api/v1/channels/%" PRIu64 "/messages",
	    channel_id);
	body = xasprintf("{\"content\":\"lpbench %s %lld\"}", name,
	    unix_now());
	post = job_new("POST", path, owner.access, body);
	free(body);
	metrics_read(&m0);
	cpuwatch_start(&cw);
	engine_submit(lp, post);
	engine_until(lp, lp->ndone + pending + 1, now() + opt.deliver_s);
	snprintf(key, sizeof key, "cpu_seconds_delivering_%s", name);
	cpuwatch_report(&cw, key);
	if (post->err != E_NONE || post->status != 201 ||
	    json_id(post->body, "id") == 0)
		die("posting the message failed: %d %s %s", post->status,
		    job_err_names[post->err], post->body ? post->body : "");
	broadcast_timed(lp, jobs, post, pending, &m0, NULL, name, "send",
	    p);
	job_free(post);
}

/* The median of v[0..n), sorted in place. */
static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * --alternate K: K rounds of a reaction (each round a new emoji, on
 * message msg_id) and a message to the same parked /events polls, the
 * reaction first in odd rounds and the message first in even ones, so
 * that neither profits from its place; each round's ratio of the p99s
 * (reaction over message), then over all rounds the median ratio and
 * the mean p99 of each kind, from the request's response and start.
 */
#define ALTERNATE_MAX	16	/* the emoji U+1F600..U+1F60F */

static void
alternate(struct engine *lp, struct job **jobs, uint64_t msg_id)
{
	struct p99s	 r, m, rsum = { 0, 0 }, msum = { 0, 0 };
	double		 resp[ALTERNATE_MAX], start[ALTERNATE_MAX];
	char		 emoji[16], name[32], key[96];
	int		 i, k, n = opt.alternate;

	for (i = 0; i < n; i++) {
		snprintf(emoji, sizeof emoji, "%%F0%%9F%%98%%%02X", 0x80 + i);
		for (k = 0; k < 2; k++) {
			if ((k == 0) == (i % 2 == 0)) {
				snprintf(name, sizeof name, "round%d_reaction",
				    i + 1);
				reaction_phase(lp, jobs, msg_id, emoji, name,
				    &r);
			} else {
				snprintf(name, sizeof name, "round%d_message",
				    i + 1);
				message_phase(lp, jobs, name, &m);
			}
		}
		resp[i] = r.response / m.response;
		start[i] = r.start / m.start;
		rsum.response += r.response;
		rsum.start += r.start;
		msum.response += m.response;
		msum.start += m.start;
		snprintf(name, sizeof name, "round%d", i + 1);
		result(NAMED("ratio_p99"), "from the request's response %.2f, "
		    "from its start %.2f (reaction %s)", resp[i], start[i],
		    i % 2 == 0 ? "first" : "second");
	}
	result("alternate_median_ratio_p99", "from the request's response "
	    "%.2f, from its start %.2f (%d rounds)", median(resp, n),
	    median(start, n), n);
	result("alternate_mean_p99_ms", "from the request's response: "
	    "reaction %.1f message %.1f (ratio %.2f); from its start: "
	    "reaction %.1f message %.1f (ratio %.2f)", rsum.response / n,
	    msum.response / n, rsum.response / msum.response, rsum.start / n,
	    msum.start / n, rsum.start / msum.start);
}

/* --- the peer: nchan's long-poll inside nginx (--nchan-port) ----------- */

/* Subscribers nchan counts now (nchan_stub_status), or -1. */
static long
nchan_subscribers(struct engine *e)
{
	const char	*p;
	char		*resp = NULL;
	long		 n = -1;

	if (http_on(e, "GET", "/nchan_status", NULL, NULL, &resp, 10) == 200 &&
	    resp != NULL && (p = strstr(resp, "subscribers: ")) != NULL)
		n = strtol(p + strlen("subscribers: "), NULL, 10);
	free(resp);
	return n;
}

/*
 * The same measurement against nchan (libnginx-mod-nchan), answering from
 * inside nginx (bench/longpoll/run --nchan starts it privately): N
 * long-polls on a new channel, parked opt.ramp at a time and confirmed
 * by nchan's own count, one message published, every answer timed from
 * the publisher's response as sohbet's are from the send's.
 */
static int
nchan_run(void)
{
	struct engine	*ctln, *lp;
	struct cpuwatch	 cw;
	struct job	**jobs, *pub;
	char		 path[128], chan[40], mark[96], *body;
	double		*lat, *lat_start, deadline, t0;
	long		 subs = -1;
	int		 i, k, bad;

	ctln = engine_new(1, 1);
	ctln->port = opt.nchan_port;
	if (nchan_subscribers(ctln) < 0)
		die("no nchan status at http://127.0.0.1:%d/nchan_status",
		    opt.nchan_port);
	snprintf(chan, sizeof chan, "lp%lld_%d", unix_now(), (int)getpid());
	snprintf(mark, sizeof mark, "lpbench nchan %s", chan);
	printf("nchan: %d long-polls on channel %s at :%d\n", opt.n, chan,
	    opt.nchan_port);
	jobs = xcalloc((size_t)opt.n, sizeof *jobs);
	lp = engine_new((size_t)opt.n + 16, 1);
	lp->port = opt.nchan_port;
	engine_use_tls(lp);
	snprintf(path, sizeof path, "/sub/%s", chan);
	t0 = now();
	deadline = now() + 40;
	for (i = 0; i < opt.n; i++) {
		jobs[i] = job_new("GET", path, NULL, NULL);
		engine_submit(lp, jobs[i]);
		if ((i + 1) % opt.ramp != 0 && i + 1 < opt.n)
			continue;
		while (now() < deadline && (subs = nchan_subscribers(ctln)) +
		    (long)lp->ndone < i + 1)
			engine_step(lp, 20);
	}
	result("nchan_parked_confirmed", "%ld", subs);
	result("nchan_park_seconds", "%.2f", now() - t0);
	result("nchan_answered_before_publish", "%zu", lp->ndone);
	for (t0 = now(); now() - t0 < 1;)
		engine_step(lp, 50);
	snprintf(path, sizeof path, "/pub/%s", chan);
	body = xasprintf("{\"content\":\"%s\"}", mark);
	pub = job_new("POST", path, NULL, body);
	free(body);
	cpuwatch_start_nginx(&cw, "../nchan/nginx.pid");
	engine_submit(lp, pub);
	engine_until(lp, lp->ndone + jobs_pending(jobs) + 1, now() +
	    opt.deliver_s);
	/* "nginx" is nchan's here. */
	cpuwatch_report(&cw, "nchan_cpu_seconds_delivering");
	if (pub->err != E_NONE || pub->status < 200 || pub->status > 202)
		die("the nchan publish failed: %d %s", pub->status,
		    job_err_names[pub->err]);
	lat = xcalloc((size_t)opt.n, sizeof *lat);
	lat_start = xcalloc((size_t)opt.n, sizeof *lat_start);
	k = deliveries(jobs, opt.n, pub, mark, lat, lat_start, &bad);
	result("nchan_delivered", "%d (%d wrong or failed, %zu unanswered)",
	    k, bad, jobs_pending(jobs));
	latency_result("nchan_latency_from_publish_response_ms", lat, k);
	latency_result("nchan_latency_from_publish_start_ms", lat_start, k);
	engine_abort(lp);
	return k == opt.n ? 0 : 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: lpbench --port P --var DIR [--n N] "
	    "[--mode events|channel]\n"
	    "\t[--cache FILE] [--out FILE] [--conc C] [--ramp R] "
	    "[--idle S]\n\t[--deliver S] [--limit S] [--setup-only]\n"
	    "\t[--repoll] [--typing] [--storm K [--storm-seconds S] "
	    "[--storm-quiet]]\n"
	    "\t[--reaction [--warm] [--alternate K]]\n"
	    "\t[--cross-port P2 [--rounds K]] [--nchan-port P3] "
	    "[--tls-port P4]\n");
	exit(2);
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "n", required_argument, NULL, 'n' },
		{ "var", required_argument, NULL, 'v' },
		{ "mode", required_argument, NULL, 'm' },
		{ "cache", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "conc", required_argument, NULL, 'C' },
		{ "ramp", required_argument, NULL, 'r' },
		{ "idle", required_argument, NULL, 'i' },
		{ "deliver", required_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'l' },
		{ "setup-only", no_argument, NULL, 'S' },
		{ "cross-port", required_argument, NULL, 'X' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "repoll", no_argument, NULL, 'P' },
		{ "typing", no_argument, NULL, 'T' },
		{ "storm", required_argument, NULL, 'Y' },
		{ "storm-seconds", required_argument, NULL, 'Z' },
		{ "storm-quiet", no_argument, NULL, 'Q' },
		{ "reaction", no_argument, NULL, 'A' },
		{ "warm", no_argument, NULL, 'W' },
		{ "alternate", required_argument, NULL, 'L' },
		{ "nchan-port", required_argument, NULL, 'N' },
		{ "tls-port", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': opt.port = atoi(optarg); break;
		case 'n': opt.n = atoi(optarg); break;
		case 'v': opt.var = optarg; break;
		case 'm': opt.mode = optarg; break;
		case 'c': opt.cache = optarg; break;
		case 'o': opt.out = optarg; break;
		case 'C': opt.conc = atoi(optarg); break;
		case 'r': opt.ramp = atoi(optarg); break;
		case 'i': opt.idle_s = atoi(optarg); break;
		case 'd': opt.deliver_s = atoi(optarg); break;
		case 'l': opt.limit_s = atoi(optarg); break;
		case 'S': opt.setup_only = 1; break;
		case 'X': opt.cross_port = atoi(optarg); break;
		case 'R': opt.rounds = atoi(optarg); break;
		case 'P': opt.repoll = 1; break;
		case 'T': opt.typing = 1; break;
		case 'Y': opt.storm = atoi(optarg); break;
		case 'Z': opt.storm_s = atoi(optarg); break;
		case 'Q': opt.storm_quiet = 1; break;
		case 'A': opt.reaction = 1; break;
		case 'W': opt.warm = 1; break;
		case 'L': opt.alternate = atoi(optarg); break;
		case 'N': opt.nchan_port = atoi(optarg); break;
		case 'E': opt.tls_port = atoi(optarg); break;
		default: usage();
		}
	}
	if (opt.port <= 0 || opt.port > 65535 || opt.var == NULL ||
	    opt.n < 1 || opt.n > MAX_N || opt.conc < 1 || opt.conc > 1024 ||
	    opt.ramp < 1 || opt.idle_s < 0 || opt.idle_s > 30 ||
	    opt.deliver_s < 1 || opt.deliver_s > 120 || opt.limit_s < 10 ||
	    opt.cross_port < 0 || opt.cross_port > 65535 ||
	    opt.nchan_port < 0 || opt.nchan_port > 65535 ||
	    opt.tls_port < 0 || opt.tls_port > 65535 ||
	    (opt.tls_port != 0 && opt.cross_port != 0) ||
	    opt.rounds < 1 || opt.rounds > 1000 ||
	    (strcmp(opt.mode, "events") != 0 &&
	    strcmp(opt.mode, "channel") != 0) ||
	    (opt.typing && (strcmp(opt.mode, "events") != 0 || opt.repoll)) ||
	    opt.storm < 0 || opt.storm > opt.n || opt.storm_s < 4 ||
	    opt.storm_s > 300 || (opt.storm_quiet && opt.storm == 0) ||
	    (opt.storm > 0 && (opt.repoll ||
	    opt.typing || strcmp(opt.mode, "events") != 0)) ||
	    (opt.reaction && (opt.typing || opt.storm > 0)) ||
	    opt.alternate < 0 || opt.alternate > ALTERNATE_MAX ||
	    (opt.alternate > 0 && (!opt.reaction ||
	    strcmp(opt.mode, "events") != 0)))
		usage();
	if (opt.cache == NULL)
		opt.cache = xasprintf("%s/bench-accounts.txt", opt.var);
}

/* Raise the open-file limit to the hard limit; die if N cannot fit. */
static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit: %s", strerror(errno));
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)opt.n + 100)
		die("open-file limit %llu is too low for %d connections",
		    (unsigned long long)rl.rlim_cur, opt.n);
}

int
main(int argc, char **argv)
{
	struct procset	 base, parked, idle0, idle1, after, ngx0, ngx1, db0,
			 db1, ngx_base, db_base;
	struct metrics	 m0, m1, mp;
	struct cpuwatch	 cw;
	struct engine	*lp;
	struct job	**jobs, *post;
	char		 path[256], *resp = NULL, cursor[32] = "", mid[48],
			 content[64];
	double		 t_first, t_parked, t_idle, t_end, *lat, *lat_start,
			 ramp_deadline, t_last_metrics, deadline, first_ans = 0,
			 last_ans = 0;
	uint64_t	 last_id, msg_id = 0;
	unsigned long long ticks, ngx_ticks, db_ticks;
	long		 csw, ngx_csw, db_csw, hz = sysconf(_SC_CLK_TCK);
	int		 i, k, st, submitted, early = 0, delivered = 0,
			 wrong = 0, non200 = 0, errs[6] = { 0 }, unfinished = 0,
			 before_resp = 0, nlat = 0;

	options(argc, argv);
	alarm((unsigned)opt.limit_s);	/* the last resort: SIGALRM ends us */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	members = xcalloc(MAX_N, sizeof *members);
	ctl = engine_new(1, 1);
	if (opt.out != NULL && (outf = fopen(opt.out, "w")) == NULL)
		die("%s: %s", opt.out, strerror(errno));

	printf("lpbench: N=%d mode=%s http://127.0.0.1:%d var=%s\n", opt.n,
	    opt.mode, opt.port, opt.var);
	if (opt.tls_port != 0)
		result("transport", "tls to 127.0.0.1:%d", opt.tls_port);
	else
		result("transport", "plain http");
	if (opt.nchan_port != 0)
		return nchan_run();
	if (http("GET", "/api/v1/health", NULL, NULL, NULL, 10) != 200)
		die("no healthy sohbet at http://127.0.0.1:%d", opt.port);
	{
		char	 la[128] = "";
		FILE	*f = fopen("/proc/loadavg", "r");

		if (f != NULL) {
			if (fgets(la, sizeof la, f) != NULL)
				la[strcspn(la, "\n")] = '\0';
			fclose(f);
		}
		result("loadavg_at_start", "%s", la);
	}
	setup();
	if (opt.setup_only) {
		printf("setup done: %d members\n", nmembers);
		return 0;
	}
	if (opt.cross_port != 0)
		return cross_run();

	/* Warm-up: a message (so after= has an id), a few short requests. */
	snprintf(content, sizeof content, "lpbench warm-up %lld", unix_now());
	if ((last_id = post_message(content)) == 0)
		die("cannot post the warm-up message");
	for (i = 0; i < 200; i++) {
		snprintf(path, sizeof path, i % 2 ? "/api/v1/events" :
		    "/api/v1/channels/%" PRIu64 "/messages?limit=5",
		    channel_id);
		if ((st = http("GET", path, members[i % nmembers].access, NULL,
		    NULL, 10)) != 200)
			die("warm-up GET %s: %d", path, st);
	}
	st = http("GET", "/api/v1/events", owner.access, NULL, &resp, 10);
	if (st != 200 || json_str(resp, "cursor", cursor, sizeof cursor) == -1)
		die("GET /events: %d %s", st, resp ? resp : "");
	free(resp);
	if (metrics_read(&m0) == -1)
		die("GET /metrics failed (is it allowed from 127.0.0.1?)");
	if (m0.parked != 0)
		printf("warning: %lld polls parked before we start\n",
		    m0.parked);

	sleep(1);
	procset_read(&base, "sohbetd.pid");
	procset_read(&ngx_base, "nginx.pid");
	procset_read(&db_base, "mysqld.pid");
	if (base.n == 0)
		die("no sohbetd found through %s/run/sohbetd.pid", opt.var);

	/* Park N polls, opt.ramp at a time, each confirmed in /metrics. */
	/*
	 * Answered polls keep their connection open (keep-alive, as a
	 * browser about to poll again would) until the measurement is over,
	 * so closing sockets does not compete with the delivery for CPU.
	 */
	lp = engine_new((size_t)opt.n + 16, 1);
	engine_use_tls(lp);
	jobs = xcalloc((size_t)opt.n, sizeof *jobs);
	for (i = 0; i < opt.n; i++) {
		if (strcmp(opt.mode, "events") == 0)
			snprintf(path, sizeof path, "/api/v1/events?after=%s"
			    "&timeout=%d", cursor, opt.wait);
		else
			snprintf(path, sizeof path, "/api/v1/channels/%"
			    PRIu64 "/messages?after=%" PRIu64 "&wait=%d",
			    channel_id, last_id, opt.wait);
		jobs[i] = job_new("GET", path, members[i].access, NULL);
		jobs[i]->idx = i;
	}
	printf("parking %d long-polls (%s), %d at a time\n", opt.n, opt.mode,
	    opt.ramp);
	cpuwatch_start(&cw);
	t_first = now();
	/* All must be parked well before the first one's wait runs out. */
	ramp_deadline = t_first + opt.wait - 20;
	for (submitted = 0; submitted < opt.n; ) {
		k = submitted + opt.ramp > opt.n ? opt.n : submitted + opt.ramp;
		for (; submitted < k; submitted++)
			engine_submit(lp, jobs[submitted]);
		mp.parked = -1;
		t_last_metrics = 0;
		for (;;) {
			engine_step(lp, 20);
			if (now() > ramp_deadline)
				break;
			if (lp->nsent + lp->ndone < (size_t)submitted ||
			    now() - t_last_metrics < 0.05)
				continue;
			t_last_metrics = now();
			if (metrics_read(&mp) == 0 && mp.parked +
			    (long long)lp->ndone >= submitted)
				break;
		}
		if (now() > ramp_deadline) {
			printf("  ramp too slow: %lld parked after %.1f s\n",
			    mp.parked, now() - t_first);
			break;
		}
	}
	t_parked = now();
	early = (int)lp->ndone;
	metrics_read(&mp);
	printf("  %lld parked in %.2f s (%d answered early)\n", mp.parked,
	    t_parked - t_first, early);

	/* Memory with N parked, then CPU while idle. */
	procset_read(&parked, "sohbetd.pid");
	procset_read(&ngx0, "nginx.pid");
	procset_read(&db0, "mysqld.pid");
	cpuwatch_report(&cw, "cpu_seconds_parking");
	idle0 = parked;
	cpuwatch_start(&cw);
	t_idle = now();
	while (now() - t_idle < opt.idle_s)
		engine_step(lp, 100);
	procset_again(&idle0, &idle1);
	procset_again(&ngx0, &ngx1);
	procset_again(&db0, &db1);
	t_idle = now() - t_idle;
	cpuwatch_report(&cw, "cpu_seconds_idle");
	procset_delta(&idle0, &idle1, &ticks, &csw);
	procset_delta(&ngx0, &ngx1, &ngx_ticks, &ngx_csw);
	procset_delta(&db0, &db1, &db_ticks, &db_csw);
	int answered_idle = (int)lp->ndone - early;

	/*
	 * Post one message (or, with --typing, the owner's typing hint: an
	 * ephemeral typing.start to every poll); time every waiter's answer.
	 */
	if (now() - t_first > opt.wait - 5)
		printf("warning: %.0f s since the first poll: some may have "
		    "timed out\n", now() - t_first);
	if (opt.reaction && opt.warm)
		reaction_phase(lp, jobs, last_id, WARM_EMOJI, "warm_reaction",
		    NULL);
	if (opt.reaction)
		reaction_phase(lp, jobs, last_id, REACTION_EMOJI, "reaction",
		    NULL);
	if (opt.alternate > 0)
		alternate(lp, jobs, last_id);
	metrics_read(&m0);
	snprintf(content, sizeof content, "lpbench %d %lld", opt.n,
	    unix_now());
	snprintf(path, sizeof path, "/api/v1/channels/%" PRIu64 "/%s",
	    channel_id, opt.typing ? "typing" : "messages");
	{
		char	*body = opt.typing ? xasprintf("{}") :
			    xasprintf("{\"content\":\"%s\"}", content);

		post = job_new("POST", path, owner.access, body);
		free(body);
	}
	cpuwatch_start(&cw);
	engine_submit(lp, post);
	deadline = now() + opt.deliver_s;
	engine_until(lp, lp->ndone + jobs_pending(jobs) + 1, deadline);
	t_end = now();
	cpuwatch_report(&cw, "cpu_seconds_delivering");
	if (opt.typing) {
		if (post->err != E_NONE || post->status != 204)
			die("the typing hint failed: %d %s %s", post->status,
			    job_err_names[post->err], post->body ? post->body :
			    "");
		snprintf(mid, sizeof mid, "\"type\":\"typing.start\"");
	} else {
		if (post->err != E_NONE || post->status != 201 ||
		    (msg_id = json_id(post->body, "id")) == 0)
			die("posting the message failed: %d %s %s",
			    post->status, job_err_names[post->err],
			    post->body ? post->body : "");
		snprintf(mid, sizeof mid, "\"id\":\"%" PRIu64 "\"",
		    msg_id);
	}
	if (opt.repoll)
		repoll(lp, jobs, msg_id);
	if (opt.storm > 0)
		storm(lp, jobs);
	engine_abort(lp);

	lat = xcalloc((size_t)opt.n, sizeof *lat);
	lat_start = xcalloc((size_t)opt.n, sizeof *lat_start);
	for (i = 0; i < opt.n; i++) {
		struct job	*j = jobs[i];

		if (j->state != JOB_DONE || j->err == E_TIMEOUT) {
			unfinished++;
			continue;
		}
		if (j->err != E_NONE) {
			errs[j->err]++;
			continue;
		}
		if (j->status != 200 && j->t_done >= post->t_start) {
			non200++;
			if (non200 <= 3)
				fprintf(stderr, "poll %d: %d %.200s\n", i,
				    j->status, j->body ? j->body : "");
			continue;
		}
		if (j->t_done < post->t_start)
			continue;	/* counted in answered_before_send */
		if (j->body == NULL || strstr(j->body, mid) == NULL) {
			wrong++;
			if (wrong <= 3)
				fprintf(stderr, "poll %d: 200 without the "
				    "message: %.200s\n", i, j->body ? j->body :
				    "");
			continue;
		}
		delivered++;
		lat[nlat] = j->t_done - post->t_done;
		lat_start[nlat++] = j->t_done - post->t_start;
		if (j->t_done < post->t_done)
			before_resp++;
		if (first_ans == 0 || j->t_done < first_ans)
			first_ans = j->t_done;
		if (j->t_done > last_ans)
			last_ans = j->t_done;
	}
	qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
	qsort(lat_start, (size_t)nlat, sizeof *lat_start, cmp_double);
	metrics_read(&m1);
	sleep(1);
	procset_read(&after, "sohbetd.pid");

	printf("\nresults\n");
	result("n", "%d", opt.n);
	result("mode", "%s", opt.mode);
	result("broadcast", "%s", opt.typing ? "typing" : "message");
	result("parked_confirmed", "%lld", mp.parked);
	result("park_seconds", "%.2f", t_parked - t_first);
	result("answered_before_send", "%d", early + answered_idle);
	procset_print("sohbetd before", &base);
	procset_print("sohbetd parked", &parked);
	result("sohbetd_procs", "%d", base.n);
	result("sohbetd_rss_before_kib", "%ld", procset_sum(&base, 0));
	result("sohbetd_rss_parked_kib", "%ld", procset_sum(&parked, 0));
	result("sohbetd_pss_before_kib", "%ld", procset_sum(&base, 1));
	result("sohbetd_pss_parked_kib", "%ld", procset_sum(&parked, 1));
	result("rss_bytes_per_parked_poll", "%.0f", mp.parked > 0 ?
	    (procset_sum(&parked, 0) - procset_sum(&base, 0)) * 1024.0 /
	    (double)mp.parked : 0);
	result("pss_bytes_per_parked_poll", "%.0f", mp.parked > 0 ?
	    (procset_sum(&parked, 1) - procset_sum(&base, 1)) * 1024.0 /
	    (double)mp.parked : 0);
	result("sohbetd_rss_after_delivery_kib", "%ld", procset_sum(&after,
	    0));
	result("nginx_rss_before_kib", "%ld", procset_sum(&ngx_base, 0));
	result("nginx_rss_parked_kib", "%ld", procset_sum(&ngx0, 0));
	result("idle_seconds", "%.1f", t_idle);
	result("idle_sohbetd_cpu_ticks", "%llu (1 tick = %ld ms)", ticks,
	    1000 / hz);
	result("idle_sohbetd_cpu_percent", "%.2f", ticks * 100.0 /
	    (double)hz / t_idle);
	result("idle_sohbetd_context_switches", "%ld", csw);
	result("idle_nginx_cpu_ticks", "%llu (csw %ld)", ngx_ticks, ngx_csw);
	result("idle_mariadb_cpu_ticks", "%llu (csw %ld)", db_ticks, db_csw);
	result("send_response_ms", "%.2f", (post->t_done - post->t_start) *
	    1e3);
	result("delivered", "%d", delivered);
	result("errors_non200", "%d", non200);
	result("errors_without_message", "%d", wrong);
	result("errors_connect_reset_eof_parse", "%d/%d/%d/%d", errs[E_CONNECT],
	    errs[E_RESET], errs[E_EOF], errs[E_PARSE]);
	result("errors_unanswered_after_s", "%d (%d s)", unfinished,
	    opt.deliver_s);
	result("arrived_before_send_response", "%d", before_resp);
	result("latency_from_send_response_ms", "p50 %.1f p90 %.1f p99 %.1f "
	    "max %.1f", pct(lat, nlat, 50) * 1e3, pct(lat, nlat, 90) * 1e3,
	    pct(lat, nlat, 99) * 1e3, nlat ? lat[nlat - 1] * 1e3 : 0);
	result("latency_from_send_start_ms", "p50 %.1f p90 %.1f p99 %.1f "
	    "max %.1f", pct(lat_start, nlat, 50) * 1e3,
	    pct(lat_start, nlat, 90) * 1e3, pct(lat_start, nlat, 99) * 1e3,
	    nlat ? lat_start[nlat - 1] * 1e3 : 0);
	result("first_to_last_answer_ms", "%.1f", nlat ? (last_ans -
	    first_ans) * 1e3 : 0);
	result("server_wakeups", "%lld", m1.wakeups - m0.wakeups);
	result("server_delivered", "%lld", m1.delivered - m0.delivered);
	result("server_delivery_mean_ms", "%.1f", m1.delivered > m0.delivered ?
	    (m1.delivery_sum - m0.delivery_sum) * 1e3 / (double)(m1.delivered -
	    m0.delivered) : 0);
	{
		char	 buf[400];
		size_t	 off = 0;

		buf[0] = '\0';
		for (i = 0; i < m1.nle && i < m0.nle; i++)
			off += (size_t)snprintf(buf + off, sizeof buf - off,
			    "%s%s:%lld", i ? " " : "", m1.le_name[i],
			    m1.le[i] - m0.le[i]);
		result("server_delivery_le_seconds", "%s", buf);
	}
	result("parked_after", "%lld", m1.parked);
	result("total_seconds", "%.1f", t_end - t_first);
	result("clock_monotonic_send_start_end", "%.6f %.6f", post->t_start,
	    t_end);

	for (i = 0; i < opt.n; i++)
		job_free(jobs[i]);
	job_free(post);
	free(jobs);
	free(lat);
	free(lat_start);
	if (outf != NULL)
		fclose(outf);
	return delivered == opt.n ? 0 : 1;
}
