/* SPDX-License-Identifier: ISC */
/*
 * itest.c: the harness of the integration tests: HTTPS requests to the
 * stack tools/dev started, their answers parsed with json.c, assertions
 * on the API's error shape, and the processes behind the stack (the
 * sohbetd master and its workers, the tools/dev subcommands).
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <mysql.h>

#include "itest.h"

#define ITEST_TIMEOUT		70	/* seconds per request */
#define ITEST_CONNECT_TIMEOUT	5
#define ITEST_HEALTH_TIMEOUT	3	/* per poll of itest_wait_health() */
#define ITEST_DESCRIBE_MAX	1500	/* characters of a body in messages */
#define ITEST_DESCRIBE_BUFS	4
#define ITEST_CACHE_SLACK_MS	200	/* ms past cache_ms */

static const char	*itest_base;
static const char	*itest_var;
static const char	*itest_devcmd;
static const char	*itest_conffile;
static long		 itest_timeout_ms = ITEST_TIMEOUT * 1000;
static char		 itest_source[64];	/* "": the system's choice */
static int		 itest_lock_fd = -1;
static char		*itest_conf_saved;	/* before itest_conf_set() */

/* The reused handle (keep-alive), and the process that made it. */
static CURL		*itest_curl;
static pid_t		 itest_curl_pid;

/* A growing buffer for a body or the header block. */
struct itest_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

static void	 itest_lock(int);

/* Read the environment tools/dev exports; exit 77 (SKIP) without it. */
void
itest_init(void)
{
	itest_base = getenv("SOHBET_TEST_URL");
	if (itest_base == NULL || *itest_base == '\0') {
		printf("SKIP: SOHBET_TEST_URL is unset: no nginx + sohbetd + "
		    "MariaDB to test (run the integration tests with "
		    "tools/dev test)\n");
		fflush(stdout);
		exit(77);
	}
	itest_var = getenv("SOHBET_TEST_VAR");
	itest_devcmd = getenv("SOHBET_TEST_DEV");
	itest_conffile = getenv("SOHBET_TEST_CONF");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "curl_global_init failed\n");
		exit(99);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	itest_lock(LOCK_SH);
}

/* Take (or convert) the lock on $SOHBET_TEST_VAR/run/itest.lock. */
static void
itest_lock(int how)
{
	char	*path;

	if (itest_var == NULL)
		return;
	if (itest_lock_fd == -1) {
		xasprintf(&path, "%s/run/itest.lock", itest_var);
		itest_lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (itest_lock_fd == -1)
			fprintf(stderr, "itest: %s: %s\n", path,
			    strerror(errno));
		free(path);
		if (itest_lock_fd == -1)
			return;
	}
	while (flock(itest_lock_fd, how) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "itest: flock: %s\n", strerror(errno));
			return;
		}
	}
}

/* Keep the stack to this program for tests that stop parts of it. */
void
itest_exclusive(void)
{
	itest_lock(LOCK_EX);
}

/* The base URL of the stack. */
const char *
itest_url(void)
{
	return itest_base;
}

/*
 * Send later requests of this process to another base URL (a second app
 * pool); NULL goes back to SOHBET_TEST_URL.
 */
void
itest_use_url(const char *base)
{
	itest_base = base != NULL ? base : getenv("SOHBET_TEST_URL");
}

/* Set the total timeout of later requests, in milliseconds. */
void
itest_set_timeout_ms(long ms)
{
	itest_timeout_ms = ms;
}

/*
 * Send later requests of this process from a local address (any of
 * 127.0.0.0/8 on Linux), as another client would; NULL: the default.
 */
void
itest_use_source(const char *addr)
{
	snprintf(itest_source, sizeof itest_source, "%s", addr != NULL ?
	    addr : "");
	/*
	 * A request that names no address may reuse a connection made from
	 * any: start with no connections (this process's own handle only;
	 * see itest_handle()).
	 */
	if (itest_curl != NULL && itest_curl_pid == getpid())
		curl_easy_cleanup(itest_curl);
	itest_curl = NULL;
}

/* Set the total timeout of later requests. */
void
itest_set_timeout(long seconds)
{
	itest_timeout_ms = seconds * 1000;
}

/* Seconds of the monotonic clock. */
double
itest_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep for ms milliseconds. */
void
itest_sleep_ms(long ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Append len bytes to a buffer, keeping it NUL-terminated. */
static void
itest_buf_add(struct itest_buf *b, const char *p, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = b->cap == 0 ? 1024 : b->cap;
		while (b->len + len + 1 > b->cap)
			b->cap *= 2;
		b->data = xreallocarray(b->data, 1, b->cap);
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* libcurl's body callback. */
static size_t
itest_write_body(char *p, size_t size, size_t n, void *arg)
{
	itest_buf_add(arg, p, size * n);
	return size * n;
}

/* libcurl's header callback: keep only the last block (after a 100). */
static size_t
itest_write_header(char *p, size_t size, size_t n, void *arg)
{
	struct itest_buf	*b = arg;

	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		b->len = 0;
	itest_buf_add(b, p, size * n);
	return size * n;
}

/*
 * The handle of this process.  A child forked after a request must not
 * share its parent's connection, so each process makes its own (the
 * inherited one is abandoned, not cleaned up, as that would close the
 * parent's TLS session).
 */
static CURL *
itest_handle(void)
{
	if (itest_curl == NULL || itest_curl_pid != getpid()) {
		if ((itest_curl = curl_easy_init()) == NULL) {
			fprintf(stderr, "curl_easy_init failed\n");
			abort();
		}
		itest_curl_pid = getpid();
	}
	return itest_curl;
}

/* Parse the body as JSON; arrays are wrapped so json_parse takes them. */
static void
itest_parse(struct itest_response *r)
{
	const char	*p = r->body;
	char		*wrapped;
	size_t		 n;

	while (p < r->body + r->len && isspace((unsigned char)*p))
		p++;
	if (p == r->body + r->len)
		return;
	if (*p == '{') {
		if (json_parse(r->body, r->len, &r->root) == 0)
			r->json = r->root;
		return;
	}
	/* Any other JSON value: parse {"v": body} and point at v. */
	n = r->len + 6;
	wrapped = xmalloc(n + 1);
	memcpy(wrapped, "{\"v\":", 5);
	memcpy(wrapped + 5, r->body, r->len);
	wrapped[n - 1] = '}';
	wrapped[n] = '\0';
	if (json_parse(wrapped, n, &r->root) == 0)
		r->json = json_get(r->root, "v");
	free(wrapped);
}

/* Send one request with a given total timeout in milliseconds. */
static struct itest_response *
itest_request_timeout(const char *method, const char *path, const char *token,
    const char *content_type, const char *body, size_t len, long timeout_ms)
{
	struct itest_response	*r;
	struct itest_buf	 b = { 0 }, h = { 0 };
	struct curl_slist	*hdrs = NULL;
	CURL			*c;
	CURLcode		 rc;
	char			*url, *line;
	double			 t0;

	if (itest_base == NULL) {
		fprintf(stderr, "itest_init() was not called\n");
		abort();
	}
	r = xcalloc(1, sizeof *r);
	xasprintf(&r->what, "%s %s", method, path);
	xasprintf(&url, "%s%s", itest_base, path);
	c = itest_handle();
	/* A reset keeps the connection cache: everything is set anew. */
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)ITEST_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_error);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, itest_write_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, itest_write_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	if (itest_source[0] != '\0') {
		curl_easy_setopt(c, CURLOPT_INTERFACE, itest_source);
		curl_easy_setopt(c, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
	}

	if (strcmp(method, "GET") == 0 && body == NULL)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else {
		if (body != NULL || strcmp(method, "POST") == 0 ||
		    strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") ==
		    0) {
			/* Even an empty POST says Content-Length: 0. */
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)(body != NULL ? len : 0));
			curl_easy_setopt(c, CURLOPT_POSTFIELDS,
			    body != NULL ? body : "");
		}
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}

	/* No "Expect: 100-continue" pause; no Content-Type unless asked. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (content_type != NULL) {
		xasprintf(&line, "Content-Type: %s", content_type);
		hdrs = curl_slist_append(hdrs, line);
		free(line);
	} else
		hdrs = curl_slist_append(hdrs, "Content-Type:");
	if (token != NULL) {
		xasprintf(&line, "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, line);
		free(line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

	t0 = itest_now();
	rc = curl_easy_perform(c);
	r->seconds = itest_now() - t0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else {
		r->status = 0;
		if (r->curl_error[0] == '\0')
			snprintf(r->curl_error, sizeof r->curl_error, "%s",
			    curl_easy_strerror(rc));
	}
	/* The error buffer must not outlive r. */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	free(url);

	itest_buf_add(&b, "", 0);
	itest_buf_add(&h, "", 0);
	r->body = b.data;
	r->len = b.len;
	r->headers = h.data;
	if (r->status != 0)
		itest_parse(r);
	return r;
}

/* Send one request to the stack. */
struct itest_response *
itest_request(const char *method, const char *path, const char *token,
    const char *content_type, const char *body, size_t len)
{
	return itest_request_timeout(method, path, token, content_type, body,
	    len, itest_timeout_ms);
}

/* GET a path. */
struct itest_response *
itest_get(const char *path, const char *token)
{
	return itest_request("GET", path, token, NULL, NULL, 0);
}

/* DELETE a path, with no body. */
struct itest_response *
itest_delete(const char *path, const char *token)
{
	return itest_request("DELETE", path, token, NULL, NULL, 0);
}

/* Send a printf-formatted JSON body as application/json. */
struct itest_response *
itest_send(const char *method, const char *path, const char *token,
    const char *fmt, ...)
{
	struct itest_response	*r;
	va_list			 ap;
	char			*body;
	int			 n;

	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "vasprintf failed\n");
		abort();
	}
	r = itest_request(method, path, token, "application/json", body,
	    (size_t)n);
	free(body);
	return r;
}

/* Free an answer. */
void
itest_free(struct itest_response *r)
{
	if (r == NULL)
		return;
	json_free(r->root);
	free(r->body);
	free(r->headers);
	free(r->what);
	free(r);
}

/*
 * Find a header's value (case-insensitive name), without its CRLF, in a
 * static buffer (a few rotate, so that two can be in one expression).
 */
const char *
itest_header(struct itest_response *r, const char *name)
{
	static char	 values[ITEST_DESCRIBE_BUFS][1024];
	static int	 next;
	char		*value = values[next++ % ITEST_DESCRIBE_BUFS];
	const char	*line, *end, *p;
	size_t		 nlen = strlen(name), vlen;

	if (r->headers == NULL)
		return NULL;
	for (line = r->headers; *line != '\0'; line = *end != '\0' ? end + 1 :
	    end) {
		end = line + strcspn(line, "\n");
		if ((size_t)(end - line) <= nlen || line[nlen] != ':' ||
		    strncasecmp(line, name, nlen) != 0)
			continue;
		p = line + nlen + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		vlen = (size_t)(end - p);
		while (vlen > 0 && (p[vlen - 1] == '\r' || p[vlen - 1] == ' '))
			vlen--;
		if (vlen >= sizeof values[0])
			vlen = sizeof values[0] - 1;
		memcpy(value, p, vlen);
		value[vlen] = '\0';
		return value;
	}
	return NULL;
}

/* Walk a dotted path: object keys, or decimal indexes into arrays. */
const struct json *
itest_at(const struct json *v, const char *path)
{
	const char	*p = path, *end;
	char		 key[256], *ep;
	size_t		 n;
	unsigned long	 i;

	while (v != NULL && *p != '\0') {
		end = p + strcspn(p, ".");
		n = (size_t)(end - p);
		if (n >= sizeof key)
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (v->type == JSON_OBJECT)
			v = json_get(v, key);
		else if (v->type == JSON_ARRAY && n > 0 &&
		    isdigit((unsigned char)key[0])) {
			i = strtoul(key, &ep, 10);
			v = *ep == '\0' && i < v->count ? v->items[i] : NULL;
		} else
			return NULL;
		p = *end == '.' ? end + 1 : end;
	}
	return v;
}

/* The string at a dotted path of the answer's body, or NULL. */
const char *
itest_str(struct itest_response *r, const char *path)
{
	const struct json	*v;

	v = itest_at(r->json, path);
	return v != NULL && v->type == JSON_STRING ? v->text : NULL;
}

/*
 * Describe an answer in a static buffer (a few rotate, so that two can be
 * in one message): the request, the status, the time and the body.
 */
const char *
itest_describe(struct itest_response *r)
{
	static char	 bufs[ITEST_DESCRIBE_BUFS][ITEST_DESCRIBE_MAX + 256];
	static int	 next;
	char		*buf = bufs[next++ % ITEST_DESCRIBE_BUFS];
	char		 body[ITEST_DESCRIBE_MAX + 1];
	size_t		 i, n;

	if (r->status == 0) {
		snprintf(buf, sizeof bufs[0], "%s: no answer after %.2f s (%s)",
		    r->what, r->seconds, r->curl_error);
		return buf;
	}
	n = r->len < ITEST_DESCRIBE_MAX ? r->len : ITEST_DESCRIBE_MAX;
	for (i = 0; i < n; i++) {
		body[i] = isprint((unsigned char)r->body[i]) ? r->body[i] :
		    '.';
	}
	body[n] = '\0';
	snprintf(buf, sizeof bufs[0], "%s -> %ld in %.2f s, Content-Type "
	    "\"%s\", body (%zu bytes): %s%s", r->what, r->status, r->seconds,
	    itest_header(r, "Content-Type") != NULL ? itest_header(r,
	    "Content-Type") : "(none)", r->len, body,
	    r->len > n ? "..." : "");
	return buf;
}

/* Assert a JSON answer with this status. */
void
itest_expect(struct itest_response *r, long status)
{
	const char	*ct;

	ck_assert_msg(r->status == status, "expected %ld: %s", status,
	    itest_describe(r));
	ct = itest_header(r, "Content-Type");
	ck_assert_msg(ct != NULL && strcasecmp(ct, ITEST_JSON) == 0,
	    "expected Content-Type %s: %s", ITEST_JSON, itest_describe(r));
	ck_assert_msg(r->json != NULL, "the body is not JSON: %s",
	    itest_describe(r));
}

/* Assert that the string at a dotted path of the body equals want. */
void
itest_expect_str(struct itest_response *r, const char *path,
    const char *want)
{
	const char	*got;

	got = itest_str(r, path);
	ck_assert_msg(got != NULL && strcmp(got, want) == 0, "expected %s "
	    "\"%s\": %s", path, want, itest_describe(r));
}

/* Assert an API error answer: status, content type, code and message. */
void
itest_expect_error(struct itest_response *r, long status, const char *code)
{
	const struct json	*err, *msg;

	ck_assert_msg(r->status == status, "expected %ld %s: %s", status,
	    code, itest_describe(r));
	itest_expect(r, status);
	err = itest_at(r->json, "error");
	ck_assert_msg(err != NULL && err->type == JSON_OBJECT,
	    "no \"error\" object: %s", itest_describe(r));
	itest_expect_str(r, "error.code", code);
	msg = itest_at(r->json, "error.message");
	ck_assert_msg(msg != NULL && msg->type == JSON_STRING && msg->len > 0,
	    "error.message is not a non-empty string: %s", itest_describe(r));
}

/* Assert an API error 400 validation_failed naming field. */
void
itest_expect_invalid(struct itest_response *r, const char *field)
{
	itest_expect_error(r, 400, "validation_failed");
	itest_expect_str(r, "error.field", field);
}

/*
 * Assert 429 rate_limited in the API's shape: Retry-After in whole
 * seconds from 1 to max, and the same number as error.retry_after.
 * Returns the seconds.
 */
long
itest_expect_rate_limited(struct itest_response *r, long max)
{
	const struct json	*v;
	const char		*h;
	long long		 body_wait;
	long			 wait;
	char			*end;

	itest_expect_error(r, 429, "rate_limited");
	h = itest_header(r, "Retry-After");
	ck_assert_msg(h != NULL, "429 without Retry-After: %s\n%s",
	    itest_describe(r), r->headers);
	wait = strtol(h, &end, 10);
	ck_assert_msg(*h != '\0' && *end == '\0' && wait >= 1 && wait <= max,
	    "Retry-After \"%s\" is not 1..%ld seconds: %s", h, max,
	    itest_describe(r));
	v = itest_at(r->json, "error.retry_after");
	ck_assert_msg(v != NULL && json_integer(v, &body_wait) == 0 &&
	    body_wait == wait, "error.retry_after is not Retry-After (%ld): "
	    "%s", wait, itest_describe(r));
	return wait;
}

/* The head cursor of /events for a token; the caller frees it. */
char *
itest_events_head(const char *token)
{
	struct itest_response	*r;
	char			*cursor;

	r = itest_get(API_PREFIX "/events", token);
	itest_expect(r, 200);
	ck_assert_msg(itest_str(r, "cursor") != NULL, "no cursor: %s",
	    itest_describe(r));
	cursor = xstrdup(itest_str(r, "cursor"));
	itest_free(r);
	return cursor;
}

/* Quote s as a JSON string literal; the caller frees it. */
char *
itest_quote(const char *s)
{
	struct itest_buf	 b = { 0 };
	const unsigned char	*p;
	char			 esc[8];

	itest_buf_add(&b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			itest_buf_add(&b, esc, 2);
		} else if (*p < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			itest_buf_add(&b, esc, 6);
		} else
			itest_buf_add(&b, (const char *)p, 1);
	}
	itest_buf_add(&b, "\"", 1);
	return b.data;
}

/* prefix + "_" + 10 random base-36 characters; the caller frees it. */
char *
itest_unique(const char *prefix)
{
	static const char	 digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	static unsigned int	 counter;
	unsigned long long	 x;
	char			 suffix[11], *s;
	int			 i;

	if (getrandom(&x, sizeof x, 0) != (ssize_t)sizeof x)
		x = (unsigned long long)time(NULL) * 2654435761ULL ^
		    (unsigned long long)getpid() << 32 ^ counter++;
	for (i = 0; i < 10; i++) {
		suffix[i] = digits[x % 36];
		x /= 36;
	}
	suffix[10] = '\0';
	xasprintf(&s, "%s_%s", prefix, suffix);
	return s;
}

/*
 * Run a tools/dev subcommand.  Its output goes to standard error (the
 * test's log); the files this process has open (the connection to nginx,
 * Check's) are not passed on to what it starts, such as sohbetd.
 */
int
itest_dev(const char *subcommand)
{
	char	*cmd;
	pid_t	 pid;
	int	 status, fd;

	if (itest_devcmd == NULL || *itest_devcmd == '\0') {
		fprintf(stderr, "SOHBET_TEST_DEV is unset\n");
		return -1;
	}
	xasprintf(&cmd, "%s %s", itest_devcmd, subcommand);
	fprintf(stderr, "itest: running %s\n", cmd);
	fflush(stdout);
	fflush(stderr);
	switch (pid = fork()) {
	case -1:
		free(cmd);
		return -1;
	case 0:
		dup2(2, 1);
		if (close_range(3, ~0U, 0) == -1) {
			for (fd = 3; fd < 1024; fd++)
				close(fd);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	default:
		break;
	}
	free(cmd);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


/* Start sohbetctl migrate (itest.h); its pid. */
pid_t
itest_migrate_start(const char *conf, const char *sqldir)
{
	char	*bin;
	pid_t	 pid;

	if (conf == NULL)
		conf = getenv("SOHBET_TEST_CONF");
	ck_assert_ptr_nonnull(conf);
	xasprintf(&bin, "%s/src/sohbetctl", getenv("SOHBET_TEST_BUILD"));
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		dup2(2, 1);
		setenv("SOHBET_SQLDIR", sqldir, 1);
		execl(bin, "sohbetctl", "-c", conf, "migrate", (char *)NULL);
		_exit(127);
	}
	ck_assert(pid > 0);
	free(bin);
	return pid;
}

/* Run sohbetctl migrate (itest.h); its exit status. */
int
itest_migrate(const char *conf, const char *sqldir)
{
	pid_t	pid = itest_migrate_start(conf, sqldir);
	int	status;

	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Create the routines a test dropped again as an operator would
 * (operations.md, Backup: sohbetctl migrate finds some missing and
 * applies routines.sql), and restart sohbetd: a worker that found a
 * routine missing does not call it for a minute (db.c), which the next
 * test, or program, must not inherit.  Asserts.
 */
void
itest_routines_restore(const char *sqldir)
{
	ck_assert_int_eq(itest_migrate(NULL, sqldir), 0);
	itest_conf_restart();
}
/* Read a key of a section of the sohbetd configuration; caller frees. */
char *
itest_conf(const char *section, const char *key)
{
	FILE	*f;
	char	 line[1024], cur[128] = "", *p, *e, *eq, *value = NULL;
	size_t	 n;

	if (itest_conffile == NULL || (f = fopen(itest_conffile, "r")) == NULL)
		return NULL;
	while (value == NULL && fgets(line, sizeof line, f) != NULL) {
		p = line;
		while (isspace((unsigned char)*p))
			p++;
		e = p + strlen(p);
		while (e > p && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			n = strcspn(p + 1, "]");
			if (n >= sizeof cur)
				n = sizeof cur - 1;
			memcpy(cur, p + 1, n);
			cur[n] = '\0';
			continue;
		}
		if (strcmp(cur, section) != 0 || (eq = strchr(p, '=')) == NULL)
			continue;
		e = eq;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if ((size_t)(e - p) != strlen(key) || strncmp(p, key,
		    (size_t)(e - p)) != 0)
			continue;
		eq++;
		while (isspace((unsigned char)*eq))
			eq++;
		value = xstrdup(eq);
	}
	fclose(f);
	return value;
}

/* An integer key of the configuration, or def. */
long
itest_conf_int(const char *section, const char *key, long def)
{
	char	*s, *end;
	long	 v;

	if ((s = itest_conf(section, key)) == NULL)
		return def;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0')
		v = def;
	free(s);
	return v;
}

/* Read a whole file into a new string, or NULL. */
static char *
itest_file_read(const char *path)
{
	FILE	*f;
	char	*text = NULL;
	long	 n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0) {
		rewind(f);
		text = xcalloc(1, (size_t)n + 1);
		if (fread(text, 1, (size_t)n, f) != (size_t)n) {
			free(text);
			text = NULL;
		}
	}
	fclose(f);
	return text;
}

/* Replace a file's text; asserts it worked. */
static void
itest_file_write(const char *path, const char *text)
{
	FILE	*f;

	ck_assert_msg((f = fopen(path, "w")) != NULL, "%s: %s", path,
	    strerror(errno));
	ck_assert_msg(fputs(text, f) >= 0 && fclose(f) == 0, "%s: %s", path,
	    strerror(errno));
}

/* 1 if line (up to its newline) sets key: "key =" or "key=". */
static int
itest_line_sets(const char *line, const char *key)
{
	size_t	n = strlen(key);

	while (*line == ' ' || *line == '\t')
		line++;
	if (strncmp(line, key, n) != 0)
		return 0;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == '=';
}

/*
 * Set a key of sohbetd's configuration file, in its section (added at
 * the end when missing); the file's first text is kept for
 * itest_conf_reset().  sohbetd reads it when it starts again.
 */
void
itest_conf_set(const char *section, const char *key, const char *value)
{
	char	*text;

	ck_assert_msg(itest_conffile != NULL, "SOHBET_TEST_CONF is unset");
	if (itest_conf_saved == NULL) {
		ck_assert_msg((text = itest_file_read(itest_conffile)) !=
		    NULL, "%s: %s", itest_conffile, strerror(errno));
		itest_conf_saved = text;
	}
	itest_conf_file_set(itest_conffile, section, key, value);
}

/* Set a key in a section of a configuration file (another pool's). */
void
itest_conf_file_set(const char *path, const char *section, const char *key,
    const char *value)
{
	char		*text, *out, *p, header[128];
	const char	*line, *end;
	size_t		 len;
	int		 in = 0, done = 0;

	ck_assert_msg((text = itest_file_read(path)) != NULL, "%s: %s", path,
	    strerror(errno));
	snprintf(header, sizeof header, "[%s]", section);
	out = xcalloc(1, strlen(text) + strlen(header) + strlen(key) +
	    strlen(value) + 16);
	p = out;
	for (line = text; *line != '\0'; line = end) {
		end = strchr(line, '\n');
		end = end != NULL ? end + 1 : line + strlen(line);
		len = (size_t)(end - line);
		if (*line == '[')
			in = strncmp(line, header, strlen(header)) == 0;
		if (in && itest_line_sets(line, key))
			continue;
		memcpy(p, line, len);
		p += len;
		if (in && *line == '[' && !done) {
			p += sprintf(p, "%s = %s\n", key, value);
			done = 1;
		}
	}
	if (!done)
		sprintf(p, "\n%s\n%s = %s\n", header, key, value);
	itest_file_write(path, out);
	free(out);
	free(text);
}

/*
 * Start another sohbetd pool (another app host) on a configuration file
 * whose listen is sock, its output going to log, and wait up to 10 s for
 * its socket; asserts.  Its pid (stop it with SIGTERM).
 */
pid_t
itest_pool_start(const char *conf, const char *sock, const char *log)
{
	struct stat	 st;
	char		*bin;
	pid_t		 pid;
	int		 i, fd;

	xasprintf(&bin, "%s/src/sohbetd", getenv("SOHBET_TEST_BUILD"));
	unlink(sock);
	if ((pid = fork()) == 0) {
		setsid();
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, "sohbetd", "-c", conf, (char *)NULL);
		_exit(127);
	}
	ck_assert(pid > 0);
	for (i = 0; i < 100 && stat(sock, &st) == -1; i++)
		itest_sleep_ms(100);
	ck_assert_msg(stat(sock, &st) == 0, "the pool of %s did not start "
	    "(see %s)", conf, log);
	free(bin);
	return pid;
}

/* Copy sohbetd's configuration file, as it is now, to path. */
void
itest_conf_copy(const char *path)
{
	char	*text;

	ck_assert_msg((text = itest_file_read(itest_conffile)) != NULL,
	    "%s: %s", itest_conffile, strerror(errno));
	itest_file_write(path, text);
	free(text);
}

/* Give sohbetd's configuration file back its text before itest_conf_set(). */
void
itest_conf_reset(void)
{
	if (itest_conf_saved == NULL)
		return;
	itest_file_write(itest_conffile, itest_conf_saved);
	free(itest_conf_saved);
	itest_conf_saved = NULL;
}

/* Restart sohbetd on the configuration file as it is now; asserts. */
void
itest_conf_restart(void)
{
	ck_assert_int_eq(itest_dev("sohbetd-stop"), 0);
	ck_assert_int_eq(itest_dev("sohbetd-start"), 0);
}

/*
 * Unchecked teardown after itest_conf_set(): the first configuration
 * back, sohbetd restarted on it, the stack left to the next program.
 */
void
itest_conf_teardown(void)
{
	itest_conf_reset();
	itest_dev("sohbetd-stop");
	itest_dev("sohbetd-start");
	itest_restore_teardown();
}

/*
 * A connection of the test's own to the stack's database, as sohbetd's
 * user (a MYSQL *): for holding locks while sohbetd works.  Asserts.
 */
void *
itest_db_open(void)
{
	MYSQL		*m;
	char		*socket, *user, *password, *name;
	unsigned int	 timeout = 30;

	socket = itest_conf("database", "socket");
	user = itest_conf("database", "user");
	password = itest_conf("database", "password");
	name = itest_conf("database", "name");
	ck_assert((m = mysql_init(NULL)) != NULL);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
	ck_assert_msg(mysql_real_connect(m, NULL, user, password, name, 0,
	    socket, 0) != NULL, "connecting to the database: %s",
	    mysql_error(m));
	free(socket);
	free(user);
	free(password);
	free(name);
	return m;
}

/* Run a printf-formatted statement on such a connection; asserts. */
void
itest_db_run(void *db, const char *fmt, ...)
{
	MYSQL_RES	*res;
	va_list		 ap;
	char		*sql;

	va_start(ap, fmt);
	ck_assert(vasprintf(&sql, fmt, ap) != -1);
	va_end(ap);
	ck_assert_msg(mysql_query(db, sql) == 0, "%s: %s", sql,
	    mysql_error(db));
	if ((res = mysql_store_result(db)) != NULL)
		mysql_free_result(res);
	free(sql);
}

/* The first value of a query on such a connection, as a number; asserts. */
long long
itest_db_number(void *db, const char *sql)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	long long	 v;

	ck_assert_msg(mysql_query(db, sql) == 0 &&
	    (res = mysql_store_result(db)) != NULL, "%s: %s", sql,
	    mysql_error(db));
	row = mysql_fetch_row(res);
	ck_assert_msg(row != NULL && row[0] != NULL, "%s: no value", sql);
	v = strtoll(row[0], NULL, 10);
	mysql_free_result(res);
	return v;
}

/* Close a connection of itest_db_open(); what it held is rolled back. */
void
itest_db_close(void *db)
{
	mysql_close(db);
}

/*
 * Wait out sohbetd's caches (cache_ms in [server], 1 s by default): a
 * change made behind its back in the database shows within cache_ms.
 */
void
itest_settle_cache(void)
{
	itest_sleep_ms(itest_conf_int("server", "cache_ms", 1000) +
	    ITEST_CACHE_SLACK_MS);
}

/* The master's pid, from its pid file; -1 when there is none. */
pid_t
itest_master_pid(void)
{
	FILE	*f;
	char	*path;
	long	 pid = -1;

	if (itest_var == NULL)
		return -1;
	xasprintf(&path, "%s/run/sohbetd.pid", itest_var);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &pid) != 1 || pid <= 0)
			pid = -1;
		fclose(f);
	}
	free(path);
	return (pid_t)pid;
}

/*
 * Read /proc/PID/stat into buf and return its fields after "pid (comm)"
 * (state, ppid, ...); NULL if the process is gone.
 */
const char *
itest_proc_fields(pid_t pid, char *buf, size_t len)
{
	FILE	*f;
	char	 path[64], *p;
	size_t	 n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold spaces and ')': the last ')' ends it. */
	if ((p = strrchr(buf, ')')) == NULL)
		return NULL;
	return p + 1;
}

/* Read the state and parent of a process from /proc; -1 if it is gone. */
static int
itest_proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	const char	*fields;
	char		 buf[1024];
	long		 pp;

	if ((fields = itest_proc_fields(pid, buf, sizeof buf)) == NULL ||
	    sscanf(fields, " %c %ld", state, &pp) != 2)
		return -1;
	*ppid = (pid_t)pp;
	return 0;
}

/* Whether a process exists and is not a zombie. */
int
itest_alive(pid_t pid)
{
	char	state;
	pid_t	ppid;

	if (pid <= 0 || itest_proc_stat(pid, &state, &ppid) == -1)
		return 0;
	return state != 'Z' && state != 'X' && state != 'x';
}

/* Order pids for qsort. */
static int
itest_pid_cmp(const void *a, const void *b)
{
	pid_t	x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* The live children of the master, sorted; their number. */
int
itest_worker_pids(pid_t *pids, int max)
{
	DIR		*d;
	struct dirent	*de;
	pid_t		 master, pid, ppid;
	char		 state, *end;
	int		 n = 0;

	if ((master = itest_master_pid()) == -1)
		return 0;
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		pid = (pid_t)strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (itest_proc_stat(pid, &state, &ppid) == -1 ||
		    ppid != master || state == 'Z' || state == 'X')
			continue;
		pids[n++] = pid;
	}
	closedir(d);
	qsort(pids, (size_t)n, sizeof *pids, itest_pid_cmp);
	return n;
}

/* Poll the health endpoint until it answers 200. */
int
itest_wait_health(int seconds)
{
	struct itest_response	*r;
	double			 deadline = itest_now() + seconds;
	long			 status;

	for (;;) {
		r = itest_request_timeout("GET", API_PREFIX "/health", NULL,
		    NULL, NULL, 0, ITEST_HEALTH_TIMEOUT * 1000);
		status = r->status;
		itest_free(r);
		if (status == 200)
			return 0;
		if (itest_now() >= deadline)
			return -1;
		itest_sleep_ms(100);
	}
}

/* Whether the process in a pid file under $SOHBET_TEST_VAR/run lives. */
static int
itest_pidfile_alive(const char *name)
{
	FILE	*f;
	char	*path;
	long	 pid = -1;

	xasprintf(&path, "%s/run/%s", itest_var, name);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = -1;
		fclose(f);
	}
	free(path);
	return itest_alive((pid_t)pid);
}

/* The size of a file under $SOHBET_TEST_VAR (a log), 0 if there is none. */
long
itest_var_size(const char *name)
{
	struct stat	 st;
	char		*path;
	long		 size;

	if (itest_var == NULL)
		return 0;
	xasprintf(&path, "%s/%s", itest_var, name);
	size = stat(path, &st) == 0 ? (long)st.st_size : 0;
	free(path);
	return size;
}

/*
 * The lines of a file under $SOHBET_TEST_VAR, from offset on, that hold
 * needle: their number, and the first of them in *first (the caller
 * frees it; NULL if none) unless first is NULL.
 */
int
itest_var_grep(const char *name, long offset, const char *needle,
    char **first)
{
	FILE	*f;
	char	*path, line[2048];
	int	 n = 0;

	if (first != NULL)
		*first = NULL;
	if (itest_var == NULL)
		return 0;
	xasprintf(&path, "%s/%s", itest_var, name);
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return 0;
	if (fseek(f, offset, SEEK_SET) == 0) {
		while (fgets(line, sizeof line, f) != NULL) {
			if (strstr(line, needle) == NULL)
				continue;
			if (n++ == 0 && first != NULL)
				*first = xstrdup(line);
		}
	}
	fclose(f);
	return n;
}

/* Start what a destructive test left stopped and wait for health. */
int
itest_restore(void)
{
	if (itest_var == NULL)
		return -1;
	if (!itest_pidfile_alive("mysqld.pid") && itest_dev("db-start") != 0)
		return -1;
	if (!itest_alive(itest_master_pid()) &&
	    itest_dev("sohbetd-start") != 0)
		return -1;
	return itest_wait_health(30);
}

/* Unchecked teardown: leave a running stack to the next test program. */
void
itest_restore_teardown(void)
{
	if (itest_restore() != 0)
		fprintf(stderr, "itest: could not restore the stack\n");
}

/* Start a test that stops parts of the stack from a healthy one. */
void
itest_require_stack(void)
{
	ck_assert_msg(itest_restore() == 0, "the stack is not healthy before "
	    "the test and could not be restored (see %s/log/)",
	    itest_var != NULL ? itest_var : "$SOHBET_TEST_VAR");
}

/* How the mariadb client prints what a query gives. */
enum itest_output {
	ITEST_OUTPUT_TABLE,	/* with column names, in a table */
	ITEST_OUTPUT_RAW	/* values only, unescaped */
};

/* Run SQL with the mariadb client as the sohbet database user; status. */
static int
itest_mariadb(const char *sql, int out_fd, enum itest_output output)
{
	const char	*var = getenv("SOHBET_TEST_VAR");
	const char	*argv[8];
	char		*arg;
	pid_t		 pid;
	int		 argc = 0, status;

	if (var == NULL)
		return -1;
	xasprintf(&arg, "--defaults-file=%s/etc/client.cnf", var);
	argv[argc++] = "mariadb";
	argv[argc++] = arg;
	if (output == ITEST_OUTPUT_RAW) {
		argv[argc++] = "-N";
		argv[argc++] = "-B";
		argv[argc++] = "-r";
	}
	argv[argc++] = "-e";
	argv[argc++] = sql;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		if (out_fd != -1)
			dup2(out_fd, 1);
		execvp("mariadb", (char *const *)argv);
		_exit(127);
	}
	free(arg);
	if (pid == -1)
		return -1;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Run SQL in the stack's database as the sohbet user; 0 or -1. */
int
itest_sql(const char *sql)
{
	return itest_mariadb(sql, -1, ITEST_OUTPUT_TABLE);
}

/*
 * Run a query and return what it prints, values only and unescaped (a
 * JSON document stays as it is); NULL when it fails.  The caller frees it.
 */
char *
itest_sql_text(const char *sql)
{
	FILE	*f;
	char	*text = NULL;
	long	 size;

	if ((f = tmpfile()) == NULL)
		return NULL;
	if (itest_mariadb(sql, fileno(f), ITEST_OUTPUT_RAW) == 0 &&
	    fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0) {
		rewind(f);
		text = xmalloc((size_t)size + 1);
		if (fread(text, 1, (size_t)size, f) != (size_t)size) {
			free(text);
			text = NULL;
		} else
			text[size] = '\0';
	}
	fclose(f);
	return text;
}

/*
 * Run a query and return its first column of the first row as a number;
 * -1 when it fails or gives nothing.
 */
long long
itest_sql_number(const char *sql)
{
	char		*text;
	long long	 v = -1;

	if ((text = itest_sql_text(sql)) != NULL && *text != '\0')
		v = strtoll(text, NULL, 10);
	free(text);
	return v;
}

/* itest_sql_number() of a query formatted as printf(3) formats. */
long long
itest_sql_numberf(const char *fmt, ...)
{
	va_list		 ap;
	char		*sql;
	long long	 v;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) == -1)
		ck_abort_msg("vasprintf");
	va_end(ap);
	v = itest_sql_number(sql);
	free(sql);
	return v;
}

/* A counter or gauge of GET /metrics; asserts it is there. */
long
itest_metric(const char *name)
{
	struct itest_response	*r;
	long			 v;

	r = itest_get("/metrics", NULL);
	ck_assert_msg(r->status == 200 && r->body != NULL, "GET /metrics: %s",
	    itest_describe(r));
	v = itest_metric_in(r->body, name);
	itest_free(r);
	return v;
}

/* A counter or gauge of an answer of /metrics (asserted there). */
long
itest_metric_in(const char *body, const char *name)
{
	const char	*p;
	char		*needle;
	long		 v;

	xasprintf(&needle, "\n%s ", name);
	p = strstr(body, needle);
	ck_assert_msg(p != NULL, "no %s in /metrics", name);
	v = strtol(p + strlen(needle), NULL, 10);
	free(needle);
	return v;
}

/* Read a metric until it is within lo..hi or seconds pass; its value. */
long
itest_await_metric(const char *name, long lo, long hi, double seconds)
{
	double	until = itest_now() + seconds;
	long	v;

	while (((v = itest_metric(name)) < lo || v > hi) &&
	    itest_now() < until)
		itest_sleep_ms(50);
	return v;
}

/*
 * Start a GET in a child process (a long-poll to be parked while the
 * test goes on): its answer comes back through a pipe to itest_finish().
 */
struct itest_pending *
itest_start(const char *path, const char *token)
{
	struct itest_pending	*pd;
	struct itest_response	*r;
	char			 head[64];
	int			 p[2], n, ok;

	pd = xcalloc(1, sizeof *pd);
	pd->what = xstrdup(path);
	if (pipe(p) == -1) {
		fprintf(stderr, "pipe: %s\n", strerror(errno));
		abort();
	}
	fflush(NULL);
	if ((pd->pid = fork()) == -1) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		abort();
	}
	if (pd->pid == 0) {
		close(p[0]);
		r = itest_get(path, token);
		n = snprintf(head, sizeof head, "%ld %.3f %zu %zu\n",
		    r->status, r->seconds, strlen(r->headers), r->len);
		ok = write(p[1], head, (size_t)n) == n &&
		    write(p[1], r->headers, strlen(r->headers)) ==
		    (ssize_t)strlen(r->headers) &&
		    write(p[1], r->body, r->len) == (ssize_t)r->len;
		_exit(ok ? 0 : 1);
	}
	close(p[1]);
	pd->fd = p[0];
	return pd;
}

/*
 * Wait for a request itest_start() began and take its answer (status 0
 * when the child said nothing); frees pd.
 */
struct itest_response *
itest_finish(struct itest_pending *pd)
{
	struct itest_response	*r;
	struct itest_buf	 b = { 0 }, h = { 0 };
	char			 chunk[4096];
	FILE			*f;
	size_t			 hlen = 0, len = 0, n;
	int			 ws;

	r = xcalloc(1, sizeof *r);
	r->what = xstrdup(pd->what);
	f = fdopen(pd->fd, "r");
	if (f == NULL || fscanf(f, "%ld %lf %zu %zu", &r->status, &r->seconds,
	    &hlen, &len) != 4 || fgetc(f) != '\n') {
		r->status = 0;
		snprintf(r->curl_error, sizeof r->curl_error, "the child "
		    "reported no answer");
		hlen = 0;
	}
	while (f != NULL && hlen > 0 && (n = fread(chunk, 1, hlen <
	    sizeof chunk ? hlen : sizeof chunk, f)) > 0) {
		itest_buf_add(&h, chunk, n);
		hlen -= n;
	}
	while (f != NULL && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		itest_buf_add(&b, chunk, n);
	if (f != NULL)
		fclose(f);
	else
		close(pd->fd);
	while (waitpid(pd->pid, &ws, 0) == -1 && errno == EINTR)
		;
	itest_buf_add(&b, "", 0);
	r->body = b.data;
	r->len = b.len;
	itest_buf_add(&h, "", 0);
	r->headers = h.data;
	if (r->status != 0 && r->len == len)
		itest_parse(r);
	free(pd->what);
	free(pd);
	return r;
}

/*
 * Take the answer of a request itest_start() began (a parked poll) and
 * assert that it is the error status and code, that it came within
 * seconds, and that its body does not hold secret (what was posted after
 * the poll had lost its access).
 */
void
itest_expect_refused(struct itest_pending *pd, long status, const char *code,
    const char *secret, double seconds)
{
	struct itest_response	*r;

	r = itest_finish(pd);
	itest_expect_error(r, status, code);
	ck_assert_msg(r->seconds < seconds, "answered after %.1f s (within "
	    "%.1f s expected): %s", r->seconds, seconds, itest_describe(r));
	ck_assert_msg(strstr(r->body, secret) == NULL, "the poll handed over "
	    "\"%s\": %s", secret, itest_describe(r));
	itest_free(r);
}
