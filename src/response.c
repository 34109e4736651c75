/* SPDX-License-Identifier: ISC */
/*
 * response.c: writing answers: the status line, headers, a JSON body, and
 * the API's error shape {"error": {"code", "message", "field"}}.
 *
 * A request that waits (a parked poll) has given libfcgi's buffers back
 * (request_release()): its answer is framed here as FastCGI records (the
 * FastCGI 1.0 specification, 3.3 and 5.5) and written in one write().  A
 * wake-up that gives many polls the same answer frames it once
 * (struct response_shared) and writes the same bytes to each.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define JSON_CONTENT_TYPE	"application/json; charset=utf-8"
#define RESPONSE_HEAD_MAX	768	/* status, headers and the extra */

/* FastCGI record framing (fastcgi.h is not installed by libfcgi-dev). */
#define FCGI_HEADER_LEN		8
#define FCGI_VERSION_1		1
#define FCGI_END_REQUEST	3
#define FCGI_STDOUT		6
#define FCGI_CONTENT_MAX	65528	/* per record, a multiple of 8 */

static const struct {
	int		 status;
	const char	*reason;
} response_reasons[] = {
	{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" },
	{ 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 409, "Conflict" },
	{ 410, "Gone" }, { 413, "Payload Too Large" },
	{ 415, "Unsupported Media Type" }, { 429, "Too Many Requests" },
	{ 500, "Internal Server Error" }, { 503, "Service Unavailable" },
};

/* The reason phrase of an HTTP status. */
const char *
response_reason(int status)
{
	size_t	i;

	for (i = 0; i < sizeof response_reasons / sizeof response_reasons[0];
	    i++) {
		if (response_reasons[i].status == status)
			return response_reasons[i].reason;
	}
	return "Unknown";
}

/* Add one header line ("Name: value") to the next response. */
void
response_header(struct request *req, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 used = strlen(req->headers);
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(req->headers + used, sizeof req->headers - used, fmt,
	    ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= sizeof req->headers - used) {
		req->headers[used] = '\0';
		log_warnx("%s: header too long", __func__);
		return;
	}
	strcat(req->headers, "\r\n");
}

/*
 * Append bytes to the answer: to libfcgi's stream, or, once it was
 * released, to the request's own buffer, framed at its end.
 */
static void
response_put(struct request *req, const char *s, size_t len)
{
	if (!req->released) {
		FCGX_PutStr(s, (int)len, req->fcgi.out);
		return;
	}
	req->out = xreallocarray(req->out, req->out_len + len + 1, 1);
	memcpy(req->out + req->out_len, s, len);
	req->out_len += len;
}

/* Append a string to the answer. */
static void
response_puts(struct request *req, const char *s)
{
	response_put(req, s, strlen(s));
}

/*
 * Format the status and headers into head (RESPONSE_HEAD_MAX bytes);
 * body_type NULL means no body.  Their length.
 */
static size_t
response_head_format(const struct request *req, int status,
    const char *body_type, size_t len, char *head)
{
	char	type[160] = "";
	int	n;

	if (body_type != NULL)
		snprintf(type, sizeof type, "Content-Type: %s\r\n"
		    "Content-Length: %zu\r\n", body_type, len);
	n = snprintf(head, RESPONSE_HEAD_MAX, "Status: %d %s\r\n%s"
	    "Cache-Control: no-store\r\n%s\r\n", status,
	    response_reason(status), type, req->headers);
	if (n < 0)
		return 0;
	/* Cut short (it never is: the extra lines are at most 256 bytes). */
	return (size_t)n < RESPONSE_HEAD_MAX ? (size_t)n :
	    RESPONSE_HEAD_MAX - 1;
}

/* Write the status and headers; body_type NULL means no body. */
static void
response_head(struct request *req, int status, const char *body_type,
    size_t len)
{
	char	head[RESPONSE_HEAD_MAX];

	req->status = status;
	response_put(req, head, response_head_format(req, status, body_type,
	    len, head));
}

/* Fill in a record header. */
static void
response_record_header(unsigned char *h, int type, int request_id,
    size_t content, size_t padding)
{
	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(request_id >> 8);
	h[3] = (unsigned char)request_id;
	h[4] = (unsigned char)(content >> 8);
	h[5] = (unsigned char)content;
	h[6] = (unsigned char)padding;
	h[7] = 0;
}

/*
 * Frame the two pieces of an answer (head, then body) as a request's
 * records: its stdout, the stdout's end and the request's end (status
 * 0, complete).  A new buffer; its length in *len.
 */
static char *
response_frame(int request_id, const char *head, size_t head_len,
    const char *body, size_t body_len, size_t *len)
{
	unsigned char	*out, *o;
	size_t		 total = head_len + body_len, at = 0, n, piece;

	out = xmalloc(total + (total / FCGI_CONTENT_MAX + 1) *
	    (FCGI_HEADER_LEN + 8) + 3 * FCGI_HEADER_LEN + 8);
	o = out;
	while (at < total) {
		n = total - at < FCGI_CONTENT_MAX ? total - at :
		    FCGI_CONTENT_MAX;
		response_record_header(o, FCGI_STDOUT, request_id, n,
		    (8 - n % 8) % 8);
		o += FCGI_HEADER_LEN;
		piece = 0;
		if (at < head_len) {
			piece = head_len - at < n ? head_len - at : n;
			memcpy(o, head + at, piece);
		}
		if (n > piece)
			memcpy(o + piece, body + (at + piece - head_len),
			    n - piece);
		o += n;
		memset(o, 0, (8 - n % 8) % 8);
		o += (8 - n % 8) % 8;
		at += n;
	}
	response_record_header(o, FCGI_STDOUT, request_id, 0, 0);
	o += FCGI_HEADER_LEN;
	response_record_header(o, FCGI_END_REQUEST, request_id, 8, 0);
	o += FCGI_HEADER_LEN;
	memset(o, 0, 8);
	o += 8;
	*len = (size_t)(o - out);
	return (char *)out;
}

/*
 * Write a released request's records in one write (a short one goes on):
 * its connection is a blocking socket with nothing else queued.  A client
 * gone meanwhile is no signal (MSG_NOSIGNAL), only an error ignored.
 */
static void
response_write(struct request *req, const char *bytes, size_t len)
{
	ssize_t	n;

	req->sent = 1;
	while (len > 0) {
		if ((n = send(req->fcgi.ipcFd, bytes, len, MSG_NOSIGNAL)) ==
		    -1) {
			if (errno == EINTR)
				continue;
			/* The client went away meanwhile: nobody reads. */
			log_debug("%s: %s", __func__, strerror(errno));
			req->write_failed = 1;
			return;
		}
		bytes += n;
		len -= (size_t)n;
	}
}

/*
 * Frame and write the answer of a released request that was not written
 * yet (request_done()); one whose client went away (499) gets nothing.
 */
void
response_finish_released(struct request *req)
{
	char	*records;
	size_t	 len;

	if (!req->released || req->sent || req->status == 499)
		return;
	records = response_frame(req->fcgi.requestId, req->out, req->out_len,
	    NULL, 0, &len);
	response_write(req, records, len);
	free(records);
}

/*
 * Prepare an answer (status and JSON body, which the caller keeps until
 * response_shared_clear()) for many requests: framed at the first
 * response_shared_send() and written as it is to each.
 */
void
response_shared_init(struct response_shared *sh, int status,
    const char *body, size_t len)
{
	memset(sh, 0, sizeof *sh);
	sh->status = status;
	sh->body = body;
	sh->body_len = len;
}

/*
 * Answer a request with a shared answer: one write of the framed bytes
 * when it was released and has no header lines of its own; otherwise
 * (and for another request id, which nginx does not use) as usual.
 */
void
response_shared_send(struct request *req, struct response_shared *sh)
{
	char	head[RESPONSE_HEAD_MAX];
	size_t	head_len;

	if (req->status != 0 || !req->released || req->headers[0] != '\0') {
		response_raw(req, sh->status, sh->body, sh->body_len);
		return;
	}
	if (sh->records == NULL || sh->request_id != req->fcgi.requestId) {
		free(sh->records);
		head_len = response_head_format(req, sh->status,
		    JSON_CONTENT_TYPE, sh->body_len, head);
		sh->records = response_frame(req->fcgi.requestId, head,
		    head_len, sh->body, sh->body_len, &sh->len);
		sh->request_id = req->fcgi.requestId;
	}
	req->status = sh->status;
	response_write(req, sh->records, sh->len);
}

/* Free a shared answer's records. */
void
response_shared_clear(struct response_shared *sh)
{
	free(sh->records);
	sh->records = NULL;
}

/* Answer with already serialised JSON. */
void
response_raw(struct request *req, int status, const char *body, size_t len)
{
	if (req->status != 0) {
		log_warnx("%s: request answered twice", __func__);
		return;
	}
	response_head(req, status, JSON_CONTENT_TYPE, len);
	response_put(req, body, len);
}

/* Answer with the JSON a generator holds, and free the generator. */
void
response_json(struct request *req, int status, yajl_gen g)
{
	const char	*body;
	size_t		 len;

	body = json_gen_text(g, &len);
	response_raw(req, status, body, len);
	yajl_gen_free(g);
}

/* Answer with a status and no body (204). */
void
response_empty(struct request *req, int status)
{
	if (req->status != 0) {
		log_warnx("%s: request answered twice", __func__);
		return;
	}
	response_head(req, status, NULL, 0);
}

/*
 * Answer 200 with an internal redirect: nginx serves the file at its
 * internal uri itself (X-Accel-Redirect), with byte ranges, keeping the
 * content type and disposition given here.  No body comes from sohbetd.
 */
void
response_accel(struct request *req, const char *uri, const char *type,
    const char *disposition)
{
	if (req->status != 0) {
		log_warnx("%s: request answered twice", __func__);
		return;
	}
	req->status = 200;
	response_puts(req, "Status: 200 OK\r\nX-Accel-Redirect: ");
	response_puts(req, uri);
	response_puts(req, "\r\nContent-Type: ");
	response_puts(req, type);
	response_puts(req, "\r\nContent-Disposition: ");
	response_puts(req, disposition);
	response_puts(req, "\r\n\r\n");
}

/*
 * Build the error shape's JSON; field may be NULL, and retry_after (the
 * seconds of a 429) is left out when negative.  The caller frees it.
 */
static yajl_gen
response_error_shape(const char *code, const char *message, const char *field,
    long retry_after)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "error");
	yajl_gen_map_open(g);
	json_gen_kstr(g, "code", code);
	json_gen_kstr(g, "message", message);
	if (field != NULL)
		json_gen_kstr(g, "field", field);
	if (retry_after >= 0)
		json_gen_kint(g, "retry_after", retry_after);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	return g;
}

/* Build the error shape's JSON; field may be NULL.  The caller frees it. */
yajl_gen
response_error_body(const char *code, const char *message, const char *field)
{
	return response_error_shape(code, message, field, -1);
}

/* Answer with the error shape; field may be NULL. */
static void
response_verror(struct request *req, int status, const char *code,
    const char *field, const char *fmt, va_list ap)
{
	char	message[512];

	vsnprintf(message, sizeof message, fmt, ap);
	response_json(req, status, response_error_body(code, message, field));
}

/* Answer with an error: status, machine code and a human message. */
void
response_error(struct request *req, int status, const char *code,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	response_verror(req, status, code, NULL, fmt, ap);
	va_end(ap);
}

/* Answer 400 validation_failed naming the field at fault. */
void
response_invalid(struct request *req, const char *field, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	response_verror(req, 400, "validation_failed", field, fmt, ap);
	va_end(ap);
}

/* Answer 404 not_found for a kind of thing ("Unknown channel"). */
void
response_not_found(struct request *req, const char *what)
{
	response_error(req, 404, "not_found", "Unknown %s", what);
}

/*
 * Answer a failed database call: 503 while it is down or its schema is
 * older than this sohbetd, or when its transaction kept losing conflicts
 * with others; else 500.  Nothing is answered when the failure was a
 * conflict that the retry scope around the handler will try again
 * (db_retry_claim()): the handler returns and runs once more.
 */
void
response_db_error(struct request *req)
{
	unsigned int	found;

	if (db_schema_outdated(&found)) {
		response_header(req, "Retry-After: %d", SCHEMA_RECHECK);
		response_error(req, 503, "service_unavailable", "The database "
		    "schema is out of date (version %u, this server needs %u); "
		    "an administrator must run sohbetctl migrate", found,
		    SCHEMA_VERSION);
	} else if (db_retry_claim()) {
		/* The retry scope runs the handler again: no answer yet. */
		return;
	} else if (db_conflicted()) {
		response_header(req, "Retry-After: 1");
		response_error(req, 503, "service_unavailable",
		    "The database is busy with conflicting changes; try again "
		    "shortly");
	} else if (!db_available()) {
		response_header(req, "Retry-After: 1");
		response_error(req, 503, "service_unavailable",
		    "The database is unavailable; try again shortly");
	} else
		response_error(req, 500, "internal_error",
		    "Internal server error");
}

/* Answer 503 when the host is too busy (password hashing, parked polls). */
void
response_busy(struct request *req)
{
	response_header(req, "Retry-After: 1");
	response_error(req, 503, "service_unavailable", "Too busy; try again "
	    "shortly");
}

/*
 * Answer 429 rate_limited: the seconds to wait in Retry-After and in the
 * error object's retry_after (API.md, Conventions).
 */
void
response_rate_limited(struct request *req, long seconds, const char *fmt, ...)
{
	va_list	ap;
	char	message[512];

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	response_header(req, "Retry-After: %ld", seconds);
	response_json(req, 429, response_error_shape("rate_limited", message,
	    NULL, seconds));
}

/* Answer 200 with the array a list function wrote in g (rc 0), or 500. */
void
response_list(struct request *req, yajl_gen g, int rc)
{
	if (rc == -1) {
		yajl_gen_free(g);
		response_db_error(req);
		return;
	}
	response_json(req, 200, g);
}

/* Answer 200 with the object in g, or 500/503 when g is NULL. */
void
response_object(struct request *req, yajl_gen g)
{
	if (g == NULL)
		response_db_error(req);
	else
		response_json(req, 200, g);
}
