/* SPDX-License-Identifier: ISC */
/*
 * check_sendbatch.c: unit tests of sendbatch.c's choices that need no
 * database: when a send may wait for a batch and when it must go alone,
 * that a full batch is written before the next send joins, and that
 * every send waiting is answered exactly once, when the database cannot
 * be reached too (each gets the 503 a send alone would get).
 *
 * The sends are real FastCGI requests: the test plays nginx on a unix
 * socket of its own, so what each client reads back is checked.  What a
 * written batch answers, and a batch rolled back and sent again message
 * by message, need the database: itest_messages (test_batched,
 * test_without_batch_procedure) covers them.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"
#include "check_run.h"
#include "ended.h"

#define SENDERS_MAX	20
#define BATCH_MAX	16	/* SENDBATCH_MAX: messages in one CALL */
#define FCGI_BEGIN	1
#define FCGI_END	3
#define FCGI_PARAMS	4
#define FCGI_STDIN	5
#define FCGI_STDOUT	6

/* A client whose send the worker accepted. */
struct sender {
	int		 fd;		/* the client's end */
	struct ended	 end;		/* its request */
};

static struct config		 test_cfg;
static struct sender		 senders[SENDERS_MAX];
static int			 nsenders;
static int			 listen_fd;
static const struct conversation conv = { .channel_id = 11,
				    .server_id = 10 };

/*
 * The default configuration with a database that cannot be reached, the
 * hub, and a FastCGI listen socket (abstract: nothing to clean up).
 */
static void
setup(void)
{
	struct sockaddr_un	sun;
	socklen_t		len;

	config_init(&test_cfg);
	cfg = &test_cfg;
	free(test_cfg.db_socket);
	test_cfg.db_socket = xstrdup("/nonexistent/check_sendbatch.sock");
	hub_init();
	hub_set_self(hub_slot_claim(getpid()));
	hub_seq_start(1000);
	ck_assert_int_eq(FCGX_Init(), 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    (size_t)snprintf(sun.sun_path + 1, sizeof sun.sun_path - 1,
	    "check_sendbatch.%ld", (long)getpid()));
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(listen_fd, -1);
	ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)&sun, len), 0);
	ck_assert_int_eq(listen(listen_fd, SENDERS_MAX), 0);
	ended_init();
	nsenders = 0;
}

/* Append one FastCGI record of request 1 to a buffer. */
static size_t
record(unsigned char *buf, int type, const void *body, size_t len)
{
	buf[0] = 1;
	buf[1] = (unsigned char)type;
	buf[2] = 0;
	buf[3] = 1;
	buf[4] = (unsigned char)(len >> 8);
	buf[5] = (unsigned char)len;
	buf[6] = buf[7] = 0;
	if (len > 0)
		memcpy(buf + 8, body, len);
	return 8 + len;
}

/*
 * A client connects and sends a request as nginx would (a responder,
 * no parameters, an empty body); the worker accepts it.
 */
static struct sender *
sender_new(void)
{
	static const unsigned char	begin[8] = { 0, 1 };	/* responder */
	struct sender			*s;
	struct sockaddr_un		 sun;
	socklen_t			 len = sizeof sun;
	unsigned char			 buf[64];
	size_t				 n = 0;

	ck_assert_int_lt(nsenders, SENDERS_MAX);
	s = &senders[nsenders++];
	memset(s, 0, sizeof *s);
	ck_assert_int_eq(getsockname(listen_fd, (struct sockaddr *)&sun,
	    &len), 0);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(s->fd, (struct sockaddr *)&sun, len), 0);
	n += record(buf + n, FCGI_BEGIN, begin, sizeof begin);
	n += record(buf + n, FCGI_PARAMS, NULL, 0);
	n += record(buf + n, FCGI_STDIN, NULL, 0);
	ck_assert_int_eq(write(s->fd, buf, n), (ssize_t)n);
	ended_watch(&s->end, request_new(listen_fd));
	ck_assert_int_eq(request_accept(s->end.req), 0);
	ck_assert_int_eq(request_read(s->end.req), 0);
	return s;
}

/*
 * What the client read once the worker closed the connection: the
 * status of the answer's header, 0 when no answer came.
 */
static int
sender_answer(struct sender *s)
{
	unsigned char	 hdr[8], body[65536 + 256];
	char		*out = NULL, *p;
	size_t		 len, outlen = 0;
	int		 status = 0;

	while (read(s->fd, hdr, sizeof hdr) == (ssize_t)sizeof hdr) {
		len = (size_t)hdr[4] << 8 | hdr[5];
		len += hdr[6];
		ck_assert_int_eq(read(s->fd, body, len), (ssize_t)len);
		if (hdr[1] != FCGI_STDOUT || len == hdr[6])
			continue;
		out = xreallocarray(out, outlen + len + 1, 1);
		memcpy(out + outlen, body, len - hdr[6]);
		outlen += len - hdr[6];
		out[outlen] = '\0';
	}
	if (out != NULL && (p = strstr(out, "Status: ")) != NULL)
		status = atoi(p + 8);
	free(out);
	close(s->fd);
	return status;
}

/* A send of a checked message asks to wait for the batch. */
static int
add(struct sender *s)
{
	return sendbatch_add(s->end.req, &conv, "hello", 5, NULL);
}

/* Assert a sender was answered once, the database being unreachable. */
static void
expect_unavailable(struct sender *s)
{
	ck_assert_int_eq(s->end.count, 1);
	ck_assert_int_eq(s->end.status, 503);
	ck_assert_int_eq(sender_answer(s), 503);
}

START_TEST(test_alone_outside_a_loop)
{
	struct sender	*s;

	/* sohbetctl and the tests: no loop flushes, each send goes alone. */
	s = sender_new();
	ck_assert_int_eq(add(s), -1);
	ck_assert_int_eq(s->end.req->waiting, REQUEST_RUNNING);
	sendbatch_flush();
	ck_assert_int_eq(s->end.count, 0);
}
END_TEST

START_TEST(test_alone_with_the_db_sequencer)
{
	struct sender	*s;

	/* The row lock must come first in each transaction: no batches. */
	sendbatch_init();
	free(test_cfg.sequencer);
	test_cfg.sequencer = xstrdup("db");
	s = sender_new();
	ck_assert_int_eq(add(s), -1);
	ck_assert_int_eq(s->end.req->waiting, REQUEST_RUNNING);
	sendbatch_flush();
	ck_assert_int_eq(s->end.count, 0);
	/* Back to shm: it may wait. */
	free(test_cfg.sequencer);
	test_cfg.sequencer = xstrdup("shm");
	ck_assert_int_eq(add(s), 0);
	ck_assert_int_eq(s->end.req->waiting, REQUEST_QUEUED);
}
END_TEST

START_TEST(test_every_send_answered)
{
	static const int	sizes[] = { 1, 3 };
	size_t			k;
	int			i, first;

	/*
	 * One send alone (sent by messages_send()), then three together
	 * (one CALL): each waits until the flush, then each is answered
	 * once.  The database is out of reach, so that answer is 503.
	 */
	sendbatch_init();
	for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		first = nsenders;
		for (i = 0; i < sizes[k]; i++) {
			sender_new();
			ck_assert_int_eq(add(&senders[first + i]), 0);
			ck_assert_int_eq(senders[first + i].end.req->waiting,
			    REQUEST_QUEUED);
		}
		for (i = first; i < nsenders; i++)
			ck_assert_int_eq(senders[i].end.count, 0);
		sendbatch_flush();
		for (i = first; i < nsenders; i++)
			expect_unavailable(&senders[i]);
		/* The batch is empty again: nothing ends twice. */
		sendbatch_flush();
		for (i = first; i < nsenders; i++)
			ck_assert_int_eq(senders[i].end.count, 1);
	}
}
END_TEST

START_TEST(test_full_batch_written_first)
{
	int	i;

	/* The send after a full batch waits for the next one. */
	sendbatch_init();
	for (i = 0; i < BATCH_MAX + 1; i++) {
		sender_new();
		ck_assert_int_eq(add(&senders[i]), 0);
	}
	for (i = 0; i < BATCH_MAX; i++)
		expect_unavailable(&senders[i]);
	ck_assert_int_eq(senders[BATCH_MAX].end.count, 0);
	ck_assert_int_eq(senders[BATCH_MAX].end.req->waiting, REQUEST_QUEUED);
	sendbatch_flush();
	expect_unavailable(&senders[BATCH_MAX]);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("sendbatch");
	TCase	*tc = tcase_create("sendbatch");

	log_init("check_sendbatch", 0);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_alone_outside_a_loop);
	tcase_add_test(tc, test_alone_with_the_db_sequencer);
	tcase_add_test(tc, test_every_send_answered);
	tcase_add_test(tc, test_full_batch_written_first);
	suite_add_tcase(s, tc);
	return check_run(s);
}
