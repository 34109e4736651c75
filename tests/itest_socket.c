/* SPDX-License-Identifier: ISC */
/*
 * itest_socket.c: sohbetd takes its listening socket from a supervisor as
 * systemd passes it (sd_listen_fds: LISTEN_PID, LISTEN_FDS, fd 3) and
 * keeps serving when another holder of the socket makes it blocking.
 *
 * systemd once handed the socket to ExecReload's kill in blocking mode;
 * the socket's flags are shared by all its holders, and the workers then
 * slept in accept() after their first connection (issue 18).  This test
 * is such a holder: it creates the socket at the stack's path, passes it
 * to a sohbetd of its own, clears O_NONBLOCK on its copy, and expects
 * sends and a parked poll served in time.  The stack's sohbetd is put
 * back afterwards.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "itest.h"
#include "check_run.h"

#define SD_LISTEN_FDS_START	3
#define ANSWER_WITHIN		5.0	/* seconds for a send or a wake-up */
#define SENDS			6	/* more than the workers, each batch */
#define PASSED_LOG		"log/sohbetd-passed.log"

static int	 listen_fd = -1;	/* our copy of the passed socket */

/*
 * Write the stack's configuration to path without its listen keys, so
 * that sohbetd takes the socket it is passed.
 */
static void
socket_conf_without_listen(const char *path)
{
	FILE	*in, *out;
	char	 line[1024];

	in = fopen(getenv("SOHBET_TEST_CONF"), "r");
	ck_assert_msg(in != NULL, "%s: %s", getenv("SOHBET_TEST_CONF"),
	    strerror(errno));
	ck_assert_msg((out = fopen(path, "w")) != NULL, "%s: %s", path,
	    strerror(errno));
	while (fgets(line, sizeof line, in) != NULL) {
		if (strncmp(line, "listen", 6) != 0)
			fputs(line, out);
	}
	fclose(in);
	ck_assert(fclose(out) == 0);
}

/* A listening unix socket at path, non-blocking as systemd makes it. */
static int
socket_listen(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert(strlen(path) < sizeof sun.sun_path);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert(fd != -1);
	unlink(path);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0,
	    "bind %s: %s", path, strerror(errno));
	ck_assert(listen(fd, 128) == 0);
	return fd;
}

/* In the child: the socket on fd 3 and the variables, then sohbetd. */
static void NORETURN
socket_exec(const char *conf)
{
	char	*bin, *log, pid[32];
	int	 fd;

	setsid();
	xasprintf(&log, "%s/" PASSED_LOG, getenv("SOHBET_TEST_VAR"));
	xasprintf(&bin, "%s/src/sohbetd", getenv("SOHBET_TEST_BUILD"));
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1 ||
	    dup2(fd, 1) == -1 || dup2(fd, 2) == -1 ||
	    dup2(listen_fd, SD_LISTEN_FDS_START) == -1)
		_exit(127);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	execl(bin, "sohbetd", "-c", conf, (char *)NULL);
	_exit(127);
}

/*
 * The file that names the sohbetd we passed the socket to: the test runs
 * in a child of the suite (check's fork mode), and the teardown, which
 * stops it, runs in the suite itself.
 */
static char *
socket_pid_path(void)
{
	char	*path;

	xasprintf(&path, "%s/run/sohbetd-passed.pid",
	    getenv("SOHBET_TEST_VAR"));
	return path;
}

/* Note the pid of the sohbetd we passed the socket to. */
static void
socket_pid_write(pid_t pid)
{
	char	*path;
	FILE	*f;

	path = socket_pid_path();
	ck_assert((f = fopen(path, "w")) != NULL);
	fprintf(f, "%ld\n", (long)pid);
	ck_assert(fclose(f) == 0);
	free(path);
}

/*
 * Stop the sohbetd the file names, if any, and wait (at most 20 s) until
 * it and its workers are gone.
 */
static void
socket_pid_stop(void)
{
	char	*path;
	FILE	*f;
	long	 pid = 0;
	int	 i;

	path = socket_pid_path();
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
		unlink(path);
	}
	free(path);
	if (pid <= 0 || kill((pid_t)pid, SIGTERM) == -1)
		return;
	for (i = 0; i < 200 && itest_alive((pid_t)pid); i++)
		itest_sleep_ms(100);
}

/*
 * Stop the stack's sohbetd and start one that is passed a socket at the
 * stack's path, as systemd would; wait until it answers.
 */
static void
socket_pass(void)
{
	char	*conf, *sock;
	pid_t	 passed;

	sock = itest_conf("server", "listen");
	ck_assert_msg(sock != NULL && sock[0] == '/', "the stack's sohbetd "
	    "listens on no unix socket");
	xasprintf(&conf, "%s/etc/sohbet-passed.conf",
	    getenv("SOHBET_TEST_VAR"));
	socket_conf_without_listen(conf);
	ck_assert_int_eq(itest_dev("sohbetd-stop"), 0);
	listen_fd = socket_listen(sock);
	if ((passed = fork()) == 0)
		socket_exec(conf);
	ck_assert(passed > 0);
	socket_pid_write(passed);
	ck_assert_msg(itest_wait_health(30) == 0, "the sohbetd passed the "
	    "socket does not answer (see %s/" PASSED_LOG ")",
	    getenv("SOHBET_TEST_VAR"));
	free(conf);
	free(sock);
}

/* Stop our sohbetd and give the stack its own back. */
static void
socket_teardown(void)
{
	socket_pid_stop();
	if (listen_fd != -1) {
		close(listen_fd);
		listen_fd = -1;
	}
	itest_dev("sohbetd-start");
	itest_restore_teardown();
}

/* Post as the room's owner; assert the answer came in ANSWER_WITHIN s. */
static char *
socket_post(const struct chat_room *room, const char *text)
{
	double	 t0 = itest_now();
	char	*id;

	id = chat_post(&room->owner, room->base, text);
	ck_assert_msg(itest_now() - t0 < ANSWER_WITHIN, "'%s' was answered "
	    "after %.1f s", text, itest_now() - t0);
	return id;
}

START_TEST(test_made_blocking_by_another_holder)
{
	struct chat_room	 room;
	struct itest_pending	*pd;
	struct itest_response	*r;
	char			*head, *path, *id, text[64];
	int			 flags, i;
	long			 log_at;

	itest_require_stack();
	chat_room_open(&room, "sock");
	socket_pass();
	free(socket_post(&room, "before the flag changes"));

	/* What systemd's ExecReload did to the shared socket. */
	log_at = itest_var_size(PASSED_LOG);
	flags = fcntl(listen_fd, F_GETFL);
	ck_assert(fcntl(listen_fd, F_SETFL, flags & ~O_NONBLOCK) == 0);

	/* Each send would have left a worker asleep in accept(). */
	itest_set_timeout_ms((long)(ANSWER_WITHIN * 1000) * 2);
	for (i = 0; i < SENDS; i++) {
		snprintf(text, sizeof text, "send %d after the flag changed",
		    i);
		free(socket_post(&room, text));
	}
	head = itest_events_head(room.member.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=30", head);
	pd = itest_start(path, room.member.token);
	ck_assert_msg(itest_await_metric(ITEST_PARKED, 1, 1000,
	    ANSWER_WITHIN) >= 1, "the poll did not park");
	id = socket_post(&room, "wakes the parked poll");
	r = itest_finish(pd);
	itest_expect(r, 200);
	ck_assert_msg(r->seconds < ANSWER_WITHIN * 2 &&
	    strstr(r->body, id) != NULL,
	    "the parked poll was not woken by the send: %s",
	    itest_describe(r));
	itest_free(r);

	ck_assert_msg(fcntl(listen_fd, F_GETFL) & O_NONBLOCK, "the socket "
	    "is still blocking");
	ck_assert_msg(itest_var_grep(PASSED_LOG, log_at,
	    "made it non-blocking again", NULL) >= 1, "no warning in %s",
	    PASSED_LOG);
	free(id);
	free(path);
	free(head);
	chat_room_close(&room);
}
END_TEST

/* The suite: one case, with the stack to itself. */
static Suite *
socket_suite(void)
{
	Suite	*s = suite_create("socket");
	TCase	*tc = tcase_create("passed");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, itest_exclusive, socket_teardown);
	tcase_add_test(tc, test_made_blocking_by_another_holder);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite against the stack tools/dev started. */
int
main(void)
{
	itest_init();
	signal(SIGPIPE, SIG_IGN);
	return check_run(socket_suite());
}
