/* SPDX-License-Identifier: ISC */
/*
 * request.c: one FastCGI request: accepting it (from the listen socket, or
 * as the next one on a connection nginx keeps open), reading its
 * parameters and body, the query string, and finishing it.  Each request
 * lives on the heap and never moves, since libfcgi keeps pointers into it.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

/* Told of every request that ends (request_on_done()). */
static void	(*request_done_hook)(struct request *);
/* Handed the connections kept for nginx's next request (request_on_idle()). */
static void	(*request_idle_hook)(int, int, struct request_conn *);

#define REQUEST_DRAIN_MAX	(16 * 1024 * 1024)

/* Allocate a request that will accept on the given listen socket. */
struct request *
request_new(int listen_fd)
{
	struct request	*req;

	req = xcalloc(1, sizeof *req);
	if (FCGX_InitRequest(&req->fcgi, listen_fd, 0) != 0)
		fatalx("FCGX_InitRequest failed");
	return req;
}

/*
 * Accept one connection and read its parameters: 0, -EAGAIN when another
 * worker took it, or another negative errno.
 */
int
request_accept(struct request *req)
{
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	return FCGX_Accept_r(&req->fcgi);
}

/*
 * Read the parameters of the next request on a connection nginx keeps
 * open (fastcgi_keep_conn), once it is readable: 0, or a negative errno
 * when no request came (the connection is closed then).  req comes from
 * request_new(-1): with no listen socket, libfcgi cannot take another
 * connection in its place.  Marked kept first so that FCGX_Accept_r(),
 * which finishes the request object's previous request, leaves the
 * connection open, and detached so that a failure closes it at once.
 */
int
request_accept_kept(struct request *req, int fd)
{
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	req->fcgi.ipcFd = fd;
	req->fcgi.keepConnection = 1;
	FCGX_Detach(&req->fcgi);
	return FCGX_Accept_r(&req->fcgi);
}

/* Return a CGI parameter such as "HTTP_AUTHORIZATION", or NULL. */
const char *
request_param(struct request *req, const char *name)
{
	return FCGX_GetParam(name, req->fcgi.envp);
}

/* Value of one hex digit, or -1. */
static int
request_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode len bytes into a new string (plus_space: '+' is a space);
 * NULL if an escape is malformed or decodes to NUL.  The caller frees it.
 */
char *
request_decode(const char *s, size_t len, int plus_space)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	o = out = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len)
				goto fail;
			if ((hi = request_hex(s[i + 1])) == -1 ||
			    (lo = request_hex(s[i + 2])) == -1 ||
			    (hi == 0 && lo == 0))
				goto fail;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && plus_space)
			*o++ = ' ';
		else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

/*
 * Read and drop what is left of the request's stdin, up to
 * REQUEST_DRAIN_MAX bytes, so that closing does not reset the connection
 * and a kept one holds nothing of this request when the next comes; note
 * whether its end was reached.  The bytes dropped.
 */
static size_t
request_drain(struct request *req)
{
	char	discard[8192];
	size_t	total = 0;
	int	n;

	while (total < REQUEST_DRAIN_MAX && (n = FCGX_GetStr(discard,
	    sizeof discard, req->fcgi.in)) > 0)
		total += (size_t)n;
	req->input_ended = FCGX_HasSeenEOF(req->fcgi.in) &&
	    FCGX_GetError(req->fcgi.in) == 0;
	return total;
}

/* Read the body up to BODY_MAX, draining and flagging anything past it. */
static int
request_read_body(struct request *req)
{
	const char	*cl;
	size_t		 cap;
	int		 n;

	/*
	 * An upload's body is not sent: nginx wrote it to a file and names
	 * it in this parameter (api-attachments.c).
	 */
	if (request_param(req, REQUEST_UPLOAD_FILE) != NULL) {
		req->body = xstrdup("");
		request_drain(req);
		return 0;
	}
	cl = request_param(req, "CONTENT_LENGTH");
	cap = cl != NULL ? strtoul(cl, NULL, 10) : 0;
	if (cap > BODY_MAX) {
		req->body_too_large = 1;
		cap = 0;
	}
	req->body = xmalloc(cap + 1);
	while (req->body_len < cap && (n = FCGX_GetStr(req->body +
	    req->body_len, (int)(cap - req->body_len), req->fcgi.in)) > 0)
		req->body_len += (size_t)n;
	req->body[req->body_len] = '\0';
	if (request_drain(req) > 0)
		req->body_too_large = 1;
	return 0;
}

/* Read the method, path, query and body of an accepted request. */
int
request_read(struct request *req)
{
	const char	*uri, *q;

	req->method = request_param(req, "REQUEST_METHOD");
	if (req->method == NULL)
		req->method = "GET";
	if ((uri = request_param(req, "REQUEST_URI")) == NULL &&
	    (uri = request_param(req, "DOCUMENT_URI")) == NULL)
		uri = "/";
	q = strchr(uri, '?');
	req->path = request_decode(uri, q != NULL ? (size_t)(q - uri) :
	    strlen(uri), 0);
	if (q != NULL)
		req->query = xstrdup(q + 1);
	else if ((q = request_param(req, "QUERY_STRING")) != NULL)
		req->query = xstrdup(q);
	return request_read_body(req);
}

/* Split the query string into decoded name/value pairs, once. */
static void
request_parse_query(struct request *req)
{
	const char	*p, *end, *eq;
	char		*name, *value;

	req->query_parsed = 1;
	if (req->query == NULL)
		return;
	for (p = req->query; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, "&");
		if (end == p)
			continue;
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL)
			eq = end;
		name = request_decode(p, (size_t)(eq - p), 1);
		value = request_decode(eq < end ? eq + 1 : end,
		    eq < end ? (size_t)(end - eq - 1) : 0, 1);
		if (name == NULL || value == NULL) {
			/* Undecodable pairs are kept with no value. */
			free(value);
			value = NULL;
			if (name == NULL)
				continue;
		}
		req->query_pairs = xreallocarray(req->query_pairs,
		    2 * (req->nquery + 1), sizeof *req->query_pairs);
		req->query_pairs[2 * req->nquery] = name;
		req->query_pairs[2 * req->nquery + 1] = value != NULL ? value :
		    xstrdup("\x01");
		req->nquery++;
	}
}

/*
 * Return the decoded value of a query parameter (the first if repeated),
 * "" when it has none, or NULL when absent.  An undecodable value reads as
 * "\x01", which no parameter accepts.
 */
const char *
request_query(struct request *req, const char *name)
{
	size_t	i;

	if (!req->query_parsed)
		request_parse_query(req);
	for (i = 0; i < req->nquery; i++) {
		if (strcmp(req->query_pairs[2 * i], name) == 0)
			return req->query_pairs[2 * i + 1];
	}
	return NULL;
}

/*
 * Have fn told of every request that ends (the worker counts its open
 * ones), just before it is freed.
 */
void
request_on_done(void (*fn)(struct request *))
{
	request_done_hook = fn;
}

/*
 * Have fn handed the connection of every request that ends when nginx
 * may send its next request on it (the worker watches it), and whether
 * it is still in the worker's epoll set (request_unwatch_ending()), with
 * its struct request_conn if it has one; and told (fd -1) when the
 * connection of a request that had one was closed.  Without fn, every
 * connection is closed.
 */
void
request_on_idle(void (*fn)(int, int, struct request_conn *))
{
	request_idle_hook = fn;
}

/*
 * Run a request's handler (fn with arg), and run it again from its start
 * while its database failures are conflicts the retry scope claims
 * (db.c): the one way every handler and every continuation of one (a
 * hashed password's) is run.  Extra headers it set before failing go;
 * nothing else of the request changes.
 */
void
request_run(struct request *req, void (*fn)(struct request *, void *),
    void *arg)
{
	struct db_retry	r;
	size_t		headers = strlen(req->headers);

	db_retry_begin(&r);
	do {
		req->headers[headers] = '\0';
		fn(req, arg);
	} while (db_retry_again(&r));
}

/*
 * Whether a request's connection may carry nginx's next request: nginx
 * asked for that (fastcgi_keep_conn sets FCGI_KEEP_CONN), the request's
 * stdin was read to its end, its answer went out whole, its client did
 * not go away (nginx closes the connection then), and somebody watches
 * kept connections.
 */
static int
request_keepable(struct request *req)
{
	return req->fcgi.keepConnection && req->input_ended &&
	    !req->write_failed && req->status != 499 &&
	    request_idle_hook != NULL;
}

/*
 * End a request, the one way every request ends: answered in its handler,
 * after it was parked or queued, or dropped by its client (status 499,
 * nothing written).  A request its handler left unanswered gets a 500.
 * Counted in /metrics by route and status; the request is freed, and its
 * connection handed to the idle hook when it may carry nginx's next
 * request (request_keepable(), and libfcgi wrote the answer without an
 * error), else closed without waiting on nginx.
 */
void
request_done(struct request *req)
{
	if (req->status == 0) {
		log_warnx("%s %s: handler gave no answer", req->method,
		    req->path != NULL ? req->path : "?");
		response_error(req, 500, "internal_error",
		    "Internal server error");
	}
	response_finish_released(req);
	metrics_request(req->route_index, req->status);
	if (request_done_hook != NULL)
		request_done_hook(req);
	if (!request_keepable(req))
		req->fcgi.keepConnection = 0;
	FCGX_Detach(&req->fcgi);
	FCGX_Finish_r(&req->fcgi);
	/* Closed by libfcgi unless kept; the close leaves the epoll set. */
	if (req->fcgi.ipcFd != -1 || req->conn != NULL)
		request_idle_hook(req->fcgi.ipcFd, req->watch_left, req->conn);
	request_free(req);
}

/* Free a request and everything it owns. */
void
request_free(struct request *req)
{
	size_t	i;

	for (i = 0; i < req->nargs; i++)
		free(req->args[i]);
	for (i = 0; i < 2 * req->nquery; i++)
		free(req->query_pairs[i]);
	free(req->query_pairs);
	json_free(req->json);
	free(req->path);
	free(req->query);
	free(req->body);
	free(req->out);
	free(req);
}

/*
 * Give libfcgi's buffers and parameters of an unanswered request back
 * while it waits (poll.c parks it): its stdin was read to the end
 * (request_read()), its answer is written as records of its own
 * (response.c), and what it needs of its parameters was read when it
 * began (the method is copied): some 17 KB of buffers and some 30
 * parameter strings of each parked poll, freed now rather than when a
 * fan-out answers thousands of them at once.  With its stdin stream
 * gone, FCGX_Finish_r() no longer writes to the connection; it closes.
 */
void
request_release(struct request *req)
{
	if (req->released || req->status != 0)
		return;
	snprintf(req->method_kept, sizeof req->method_kept, "%s",
	    req->method);
	req->method = req->method_kept;
	FCGX_Free(&req->fcgi, 0);
	req->fcgi.envp = NULL;		/* request_param() finds nothing */
	req->released = 1;
}

/*
 * Watch the connection of a request that waits (parked, queued) in the
 * epoll instance epfd: any event on it means nginx closed it (the client
 * went away), and epoll hands back w.  A request read on a kept
 * connection has it heard by w (request_conn_hear()): no system call.
 * 0, or -1 logged.
 */
int
request_watch(struct request *req, int epfd, struct watch *w)
{
	struct epoll_event	ev;

	if (req->conn != NULL) {
		request_conn_hear(req->conn, w);
		return 0;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = w;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, req->fcgi.ipcFd, &ev) == -1) {
		log_warn("%s: epoll_ctl", __func__);
		return -1;
	}
	return 0;
}

/* Stop watching a request's connection (request_watch()). */
void
request_unwatch(struct request *req, int epfd)
{
	if (req->conn != NULL)
		request_conn_hear(req->conn, NULL);
	else
		epoll_ctl(epfd, EPOLL_CTL_DEL, req->fcgi.ipcFd, NULL);
}

/* An event of a kept connection: to whoever hears it. */
static void
request_conn_ready(struct watch *w)
{
	struct request_conn	*c = (struct request_conn *)w;
	struct epoll_event	 ev;

	if (c->fd == -1)
		return;		/* closed in this round of events */
	if (c->target != NULL) {
		c->target->ready(c->target);
		return;
	}
	/*
	 * Nobody: its request runs or waits unwatched, and nginx closed it.
	 * Level-triggered, the event would come back at every wait: off
	 * until somebody hears it again.
	 */
	memset(&ev, 0, sizeof ev);
	ev.data.ptr = &c->watch;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->muted = 1;
}

/*
 * Make c the watch of a kept connection fd, already in the epoll set
 * epfd under &c->watch (the caller added it), heard by nobody yet.
 */
void
request_conn_init(struct request_conn *c, int fd, int epfd)
{
	c->watch.ready = request_conn_ready;
	c->target = NULL;
	c->fd = fd;
	c->epfd = epfd;
	c->muted = 0;
}

/* Have w (or nobody, NULL) hear the events of a kept connection. */
void
request_conn_hear(struct request_conn *c, struct watch *w)
{
	struct epoll_event	ev;

	c->target = w;
	if (w == NULL || !c->muted)
		return;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = &c->watch;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		log_warn("%s: epoll_ctl", __func__);
	else
		c->muted = 0;
}

/*
 * Stop watching the connection of a request that request_done() ends
 * before the loop waits again (a parked poll answered or gone), watched
 * in the worker's own epoll set: it stays in the set until then, where
 * the close removes it, or the idle hook, keeping it for nginx's next
 * request, has the worker hear it again (a kept connection's, no system
 * call) or gives it its new watch with one epoll_ctl() instead of a
 * removal and an addition.  Events the current round already holds
 * still name the old watch, as after a removal.
 */
void
request_unwatch_ending(struct request *req)
{
	if (req->conn != NULL)
		request_conn_hear(req->conn, NULL);
	req->watch_left = 1;
}
