/* SPDX-License-Identifier: ISC */
/*
 * raw.h: raw HTTP/1.1 over plain TCP on loopback, for the integration
 * tests that send what no client library would: malformed and oversized
 * requests, clients that dribble or never read, thousands of connections
 * at once.  They go to nginx's plain-HTTP listener on 127.0.0.1, which
 * `tools/dev test` exports as SOHBET_TEST_HTTP (http://127.0.0.1:PORT);
 * it is the same nginx server block as SOHBET_TEST_URL.
 */
#ifndef RAW_H
#define RAW_H

#include <stddef.h>

/* What came back on a connection. */
struct raw_answer {
	long		 status;	/* 0: closed with no answer, -1: timeout */
	char		*text;		/* all that was read, NUL-terminated */
	size_t		 len;
	const char	*body;		/* after the header block, or NULL */
	size_t		 body_len;	/* of the first answer's body */
	struct json	*json;		/* the body parsed, if a JSON object */
	double		 seconds;
};

/* The port of SOHBET_TEST_HTTP; asserts that it is set. */
int		 raw_port(void);
/*
 * A socket connected to the plain-HTTP listener, its receive buffer set
 * to rcvbuf bytes first unless rcvbuf is 0; -1 on failure.
 */
int		 raw_connect(int);
/* Write all of a buffer; 0, or -1 when the peer is gone. */
int		 raw_write(int, const void *, size_t);
/*
 * Read one answer from a connection: the header block and a body of its
 * Content-Length, or what comes until the peer closes or seconds pass.
 * Free with raw_free().
 */
struct raw_answer *raw_read(int, double);
/* Read until the peer closes or seconds pass; the first answer parsed. */
struct raw_answer *raw_read_all(int, double);
/*
 * An HTTP/1.1 request for method and target with a bearer token and a
 * JSON body (each may be NULL); the caller frees it.
 */
char		*raw_request(const char *, const char *, const char *,
		    const char *);
/* Connect, send len bytes, read one answer and close. */
struct raw_answer *raw_exchange(const void *, size_t, double);
void		 raw_free(struct raw_answer *);
/* An answer, printable and cut short, for messages (static buffer). */
const char	*raw_describe(const struct raw_answer *);
/* A request's first line, printable, for messages (static buffer). */
const char	*raw_what(const char *, size_t);
/*
 * Whether the server has answered or closed a connection this side
 * only writes to (without waiting).
 */
int		 raw_cut(int);

#endif /* RAW_H */
