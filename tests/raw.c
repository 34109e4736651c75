/* SPDX-License-Identifier: ISC */
/*
 * raw.c: raw HTTP/1.1 over plain TCP to nginx on 127.0.0.1 (see raw.h).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>

#include "itest.h"
#include "raw.h"

#define RAW_CHUNK	16384

/* The port of SOHBET_TEST_HTTP ("http://127.0.0.1:PORT"). */
int
raw_port(void)
{
	const char	*url = getenv("SOHBET_TEST_HTTP");
	const char	*colon;
	long		 port;

	ck_assert_msg(url != NULL && strncmp(url, "http://127.0.0.1:", 17) ==
	    0, "SOHBET_TEST_HTTP is not http://127.0.0.1:PORT (run the tests "
	    "with tools/dev test, which starts nginx's plain-HTTP listener)");
	colon = strrchr(url, ':');
	port = strtol(colon + 1, NULL, 10);
	ck_assert_msg(port > 0 && port < 65536, "bad SOHBET_TEST_HTTP %s", url);
	return (int)port;
}

/* Connect to the plain-HTTP listener; -1 on failure. */
int
raw_connect(int rcvbuf)
{
	struct sockaddr_in	sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)raw_port());
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Write all of a buffer. */
int
raw_write(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A header's value in a header block (name with its colon), or NULL. */
static const char *
raw_header(const char *head, const char *end, const char *name)
{
	const char	*line;
	size_t		 n = strlen(name);

	for (line = strstr(head, "\r\n"); line != NULL && line < end;
	    line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, name, n) == 0)
			return line + 2 + n;
	}
	return NULL;
}

/*
 * Whether what was read so far holds a whole answer; set status and body
 * once the (final) header block is there.
 */
static int
raw_complete(struct raw_answer *a)
{
	const char	*head = a->text, *end, *cl, *te;

	/* Skip interim answers (100 Continue). */
	while ((end = strstr(head, "\r\n\r\n")) != NULL &&
	    strncmp(head, "HTTP/1.1 1", 10) == 0)
		head = end + 4;
	if (end == NULL)
		return 0;
	if (sscanf(head, "HTTP/%*d.%*d %ld", &a->status) != 1)
		a->status = 0;
	a->body = end + 4;
	a->body_len = a->len - (size_t)(a->body - a->text);
	if ((cl = raw_header(head, end, "Content-Length:")) != NULL) {
		if (a->body_len < strtoul(cl, NULL, 10))
			return 0;
		a->body_len = strtoul(cl, NULL, 10);
		return 1;
	}
	te = raw_header(head, end, "Transfer-Encoding:");
	if (te != NULL && strstr(te, "chunked") != NULL)
		return strstr(a->body, "\r\n0\r\n\r\n") != NULL ||
		    strncmp(a->body, "0\r\n\r\n", 5) == 0;
	return 0;
}

/* Read one answer, or (all) everything until the peer closes. */
static struct raw_answer *
raw_read_some(int fd, double seconds, int all)
{
	struct raw_answer	*a;
	struct pollfd		 pfd;
	size_t			 cap = RAW_CHUNK;
	double			 t0 = itest_now(), left;
	ssize_t			 n;
	int			 done = 0, timeout = 0;

	a = xcalloc(1, sizeof *a);
	a->text = xmalloc(cap + 1);
	a->text[0] = '\0';
	while (!done) {
		if ((left = t0 + seconds - itest_now()) <= 0) {
			timeout = 1;
			break;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) == 0)
			continue;
		if (a->len == cap) {
			cap *= 2;
			a->text = xreallocarray(a->text, 1, cap + 1);
		}
		n = recv(fd, a->text + a->len, cap - a->len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		a->len += (size_t)n;
		a->text[a->len] = '\0';
		done = raw_complete(a) && !all;
	}
	a->seconds = itest_now() - t0;
	raw_complete(a);
	if (a->body == NULL)
		a->status = timeout ? -1 : 0;
	else if (*a->body == '{')
		json_parse(a->body, a->body_len, &a->json);
	return a;
}

/* Read one answer (or until the peer closes, or seconds pass). */
struct raw_answer *
raw_read(int fd, double seconds)
{
	return raw_read_some(fd, seconds, 0);
}

/* Read until the peer closes (or seconds pass); parse the first answer. */
struct raw_answer *
raw_read_all(int fd, double seconds)
{
	return raw_read_some(fd, seconds, 1);
}

/* A request with a token and a JSON body, each optional. */
char *
raw_request(const char *method, const char *target, const char *token,
    const char *body)
{
	char	*req, *auth = NULL, *type = NULL;

	if (token != NULL)
		xasprintf(&auth, "Authorization: Bearer %s\r\n", token);
	if (body != NULL)
		xasprintf(&type, "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n", strlen(body));
	xasprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n%s%s\r\n%s",
	    method, target, auth != NULL ? auth : "", type != NULL ? type : "",
	    body != NULL ? body : "");
	free(auth);
	free(type);
	return req;
}

/* Send a request on a new connection and read its answer. */
struct raw_answer *
raw_exchange(const void *req, size_t len, double seconds)
{
	struct raw_answer	*a;
	int			 fd;

	fd = raw_connect(0);
	ck_assert_msg(fd != -1, "connect to %s: %s", getenv("SOHBET_TEST_HTTP"),
	    strerror(errno));
	/* A refused request may be cut off mid-write: read what came back. */
	(void)raw_write(fd, req, len);
	a = raw_read(fd, seconds);
	close(fd);
	return a;
}

void
raw_free(struct raw_answer *a)
{
	if (a == NULL)
		return;
	json_free(a->json);
	free(a->text);
	free(a);
}

/* Up to 300 bytes of an answer, CRLF as "|", other controls as ".". */
const char *
raw_describe(const struct raw_answer *a)
{
	static char	buf[400];
	size_t		i, n = 0;

	n = (size_t)snprintf(buf, sizeof buf, "%ld after %.2f s: ", a->status,
	    a->seconds);
	for (i = 0; i < a->len && i < 300 && n < sizeof buf - 4; i++) {
		if (a->text[i] == '\r')
			continue;
		buf[n++] = a->text[i] == '\n' ? '|' :
		    isprint((unsigned char)a->text[i]) ? a->text[i] : '.';
	}
	if (i < a->len)
		buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
	buf[n] = '\0';
	return buf;
}

/* The first line of a request, at most 100 characters, printable. */
const char *
raw_what(const char *req, size_t len)
{
	static char	buf[128];
	size_t		i;

	for (i = 0; i < 100 && i < len && req[i] != '\r'; i++)
		buf[i] = isprint((unsigned char)req[i]) ? req[i] : '.';
	buf[i] = '\0';
	return buf;
}

/* Whether the server answered or closed a connection (no waiting). */
int
raw_cut(int fd)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = POLLIN | POLLRDHUP;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLRDHUP |
	    POLLHUP | POLLERR)) != 0;
}
