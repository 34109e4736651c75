/* SPDX-License-Identifier: ISC */
/*
 * response.c: writing answers: the status line, headers, a JSON body, and
 * the API's error shape {"error": {"code", "message", "field"}}.
 */
#include <stdio.h>
#include <string.h>

#include "sohbet.h"

#define JSON_CONTENT_TYPE	"application/json; charset=utf-8"

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
 * Write the status and headers; body_type NULL means no body.  libfcgi's
 * printf knows no "z" modifier (it stops at one), hence %lu.
 */
static void
response_head(struct request *req, int status, const char *body_type,
    size_t len)
{
	req->status = status;
	FCGX_FPrintF(req->fcgi.out, "Status: %d %s\r\n", status,
	    response_reason(status));
	if (body_type != NULL)
		FCGX_FPrintF(req->fcgi.out, "Content-Type: %s\r\n"
		    "Content-Length: %lu\r\n", body_type, (unsigned long)len);
	FCGX_FPrintF(req->fcgi.out, "Cache-Control: no-store\r\n%s\r\n",
	    req->headers);
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
	FCGX_PutStr(body, (int)len, req->fcgi.out);
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
	FCGX_FPrintF(req->fcgi.out, "Status: 200 OK\r\n"
	    "X-Accel-Redirect: %s\r\nContent-Type: %s\r\n"
	    "Content-Disposition: ", uri, type);
	FCGX_PutS(disposition, req->fcgi.out);
	FCGX_PutS("\r\n\r\n", req->fcgi.out);
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
