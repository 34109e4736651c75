/* SPDX-License-Identifier: ISC */
/*
 * itest_failover.c: a worker connects to the first place of [database]
 * host's list that answers, moves on to the next when its connection is
 * lost, without a restart and without an error to the client, and comes
 * back to the first place once it answers again (issue 26).
 *
 * The places are two sockets: first.sock, which the test makes and
 * removes as a link to the stack's MariaDB socket, and that socket
 * itself.  sohbetd's log says where each worker connected.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "itest.h"
#include "check_run.h"

#define FAILBACK_S	10	/* db.c's DB_FAILBACK_INTERVAL */

static char	*first;		/* $VAR/run/first.sock */
static char	*real;		/* the stack's MariaDB socket */
static int	 posted;	/* messages failover_traffic() sent */

/*
 * sohbetd with the list "first.sock, the real socket" and no socket (a
 * list needs the database sequencer).
 */
static void
failover_setup(void)
{
	char	*list;

	itest_exclusive();
	real = itest_conf("database", "socket");
	ck_assert_msg(real != NULL && *real == '/', "the stack has no socket");
	xasprintf(&first, "%s/run/first.sock", getenv("SOHBET_TEST_VAR"));
	unlink(first);
	xasprintf(&list, "%s, %s", first, real);
	itest_conf_set("database", "socket", "");
	itest_conf_set("database", "host", list);
	itest_conf_set("events", "sequencer", "db");
	itest_conf_restart();
	free(list);
}

/* Give sohbetd its configuration back. */
static void
failover_teardown(void)
{
	unlink(first);
	itest_conf_teardown();
}

/* Lines of sohbetd's log from offset on saying a worker connected at path. */
static int
failover_connected_at(long offset, const char *path)
{
	char	*needle;
	int	 n;

	xasprintf(&needle, "connected to the database at %s", path);
	n = itest_var_grep("log/sohbetd.log", offset, needle, NULL);
	free(needle);
	return n;
}

/*
 * Post to the room and check the health, n times: every answer a
 * success (no 5xx while the workers move), the posts all stored.
 */
static void
failover_traffic(struct chat_room *room, int n)
{
	struct itest_response	*r;
	char			*id;
	int			 i;

	for (i = 0; i < n; i++) {
		r = itest_get("/api/v1/health", NULL);
		itest_expect(r, 200);
		itest_free(r);
		id = chat_post(&room->member, room->base, "across the move");
		free(id);
		posted++;
	}
}

/* Drop every connection sohbetd's workers hold (as a node going away). */
static void
failover_kill_connections(void)
{
	char	*kills;

	kills = itest_sql_text("SELECT GROUP_CONCAT(CONCAT('KILL ', ID) "
	    "SEPARATOR '; ') FROM information_schema.PROCESSLIST WHERE "
	    "USER = 'sohbet' AND ID <> CONNECTION_ID()");
	ck_assert_msg(kills != NULL && strncmp(kills, "KILL", 4) == 0,
	    "no connection of sohbetd to kill: %s", kills);
	ck_assert_int_eq(itest_sql(kills), 0);
	free(kills);
}

/*
 * The first place does not answer: the workers serve through the second
 * one.  Once it answers, they move back to it (a single writer again);
 * when it goes away under them, they move on at once.
 */
START_TEST(test_failover_and_back)
{
	struct chat_room	 room;
	char			*sql;
	long			 offset;
	double			 until;

	itest_require_stack();
	chat_room_open(&room, "failover");
	failover_traffic(&room, 3);
	ck_assert_msg(failover_connected_at(0, real) > 0, "no worker said "
	    "it connected at %s", real);

	/* The first place answers: the workers come back to it. */
	offset = itest_var_size("log/sohbetd.log");
	ck_assert_int_eq(symlink(real, first), 0);
	until = itest_now() + FAILBACK_S + 10;
	while (failover_connected_at(offset, first) < 1 &&
	    itest_now() < until) {
		failover_traffic(&room, 1);
		itest_sleep_ms(200);
	}
	ck_assert_msg(failover_connected_at(offset, first) >= 1, "no worker "
	    "moved back to %s within %d s", first, FAILBACK_S + 10);

	/* It goes away: the next requests are served through the second. */
	offset = itest_var_size("log/sohbetd.log");
	unlink(first);
	failover_kill_connections();
	failover_traffic(&room, 10);
	ck_assert_msg(failover_connected_at(offset, real) >= 1, "no worker "
	    "moved on to %s", real);
	xasprintf(&sql, "SELECT COUNT(*) FROM messages WHERE channel_id = %s",
	    room.channel);
	ck_assert_int_eq(itest_sql_number(sql), posted);
	free(sql);
	chat_room_close(&room);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;

	itest_init();
	s = suite_create("failover");
	tc = tcase_create("places");
	tcase_add_unchecked_fixture(tc, failover_setup, failover_teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_failover_and_back);
	suite_add_tcase(s, tc);
	return check_run(s);
}
