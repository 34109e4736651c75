/* SPDX-License-Identifier: ISC */
/*
 * check_sequencer.c: unit tests of the shared-memory sequencer (hub.c's
 * counter and watermark, and sequencer.c's shm side): numbers finished
 * out of order keep the watermark below the lowest unfinished one, a
 * transaction's first number holds it however many it draws, a dead
 * worker's number holds it until the master releases the slot, and a
 * transaction whose connection broke keeps its numbers until that
 * connection is known to be gone.
 *
 * Several workers are slots of this process's hub, taken in turn with
 * hub_set_self(); one test forks a real one.  The counter is resumed by
 * hand (hub_seq_start()), so no database is needed; the one that is
 * configured does not exist, so a test that reached for it would fail.
 */
#include <sys/wait.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"
#include "check_run.h"

#define WORKERS		8
#define START		100	/* the largest number "in the database" */

static struct config	test_cfg;
static int		slots[WORKERS];

/* A hub with WORKERS claimed slots and no database to reach. */
static void
setup(void)
{
	int	i;

	config_init(&test_cfg);
	cfg = &test_cfg;
	free(test_cfg.db_socket);
	test_cfg.db_socket = xstrdup("/nonexistent/check_sequencer.sock");
	test_cfg.db_connect_timeout = 1;
	hub_init();
	for (i = 0; i < WORKERS; i++)
		slots[i] = hub_slot_claim(getpid());
}

/* Worker w draws a number for its open transaction. */
static uint64_t
draw(int w)
{
	hub_set_self(slots[w]);
	return hub_seq_draw();
}

START_TEST(test_resumed_from_the_database)
{
	/* Before the counter is resumed, nothing is handed out. */
	ck_assert(!hub_seq_ready());
	ck_assert_uint_eq(draw(0), 0);
	ck_assert_uint_eq(hub_seq_last(), 0);
	ck_assert_uint_eq(hub_seq_pending(slots[0]), 0);
	hub_seq_start(START);
	ck_assert(hub_seq_ready());
	ck_assert_uint_eq(hub_seq_watermark(), START);
	ck_assert_uint_eq(draw(0), START + 1);
	ck_assert_int_eq(hub_seq_finish(slots[0]), 0);
	/* Resumed again from an older count: never hands a number out twice. */
	hub_seq_start(START - 50);
	ck_assert_uint_eq(draw(1), START + 2);
	hub_seq_finish(slots[1]);
	hub_seq_start(START + 1000);
	ck_assert_uint_eq(draw(1), START + 1001);
}
END_TEST

START_TEST(test_out_of_order_finishes)
{
	hub_seq_start(START);
	ck_assert_uint_eq(draw(0), START + 1);
	ck_assert_uint_eq(draw(1), START + 2);
	ck_assert_uint_eq(draw(2), START + 3);
	ck_assert_uint_eq(hub_seq_watermark(), START);
	/* 102 commits first: 101 may still commit, so the mark stays. */
	ck_assert_int_eq(hub_seq_finish(slots[1]), 1);
	ck_assert_uint_eq(hub_seq_watermark(), START);
	ck_assert_int_eq(hub_seq_finish(slots[2]), 0);
	ck_assert_uint_eq(hub_seq_watermark(), START);
	/* 101 commits (with later ones drawn: say so): all visible. */
	ck_assert_int_eq(hub_seq_finish(slots[0]), 1);
	ck_assert_uint_eq(hub_seq_watermark(), START + 3);
	ck_assert_uint_eq(hub_seq_last(), START + 3);
	/* Finishing a slot with nothing pending changes nothing. */
	ck_assert_int_eq(hub_seq_finish(slots[0]), 0);
	ck_assert_uint_eq(hub_seq_watermark(), START + 3);
}
END_TEST

START_TEST(test_first_number_holds)
{
	hub_seq_start(START);
	/* A transaction draws 101 and 103 (a message and its event). */
	ck_assert_uint_eq(draw(0), START + 1);
	ck_assert_uint_eq(draw(1), START + 2);
	ck_assert_uint_eq(draw(0), START + 3);
	ck_assert_uint_eq(hub_seq_pending(slots[0]), START + 1);
	hub_seq_finish(slots[1]);
	ck_assert_uint_eq(hub_seq_watermark(), START);
	hub_seq_finish(slots[0]);
	ck_assert_uint_eq(hub_seq_watermark(), START + 3);
	/* Its next transaction starts afresh. */
	ck_assert_uint_eq(draw(0), START + 4);
	ck_assert_uint_eq(hub_seq_pending(slots[0]), START + 4);
	ck_assert_uint_eq(hub_seq_watermark(), START + 3);
}
END_TEST

START_TEST(test_random_interleaving)
{
	uint64_t	first[WORKERS] = { 0 }, n, want, last = START;
	int		step, w, i;

	/*
	 * Workers draw (one to three numbers a transaction) and finish in
	 * random order; after every step the watermark is exactly one
	 * below the lowest first number of an open transaction, or the
	 * last number drawn when none is open.
	 */
	srandom(7);
	hub_seq_start(START);
	for (step = 0; step < 20000; step++) {
		w = (int)(random() % WORKERS);
		if (first[w] != 0 && random() % 2 == 0) {
			hub_seq_finish(slots[w]);
			first[w] = 0;
		} else {
			n = draw(w);
			ck_assert_uint_eq(n, ++last);
			if (first[w] == 0)
				first[w] = n;
		}
		want = last;
		for (i = 0; i < WORKERS; i++) {
			if (first[i] != 0 && first[i] - 1 < want)
				want = first[i] - 1;
		}
		ck_assert_uint_eq(hub_seq_watermark(), want);
	}
}
END_TEST

START_TEST(test_dead_worker)
{
	pid_t		pid;
	int		status, dead = slots[3];
	uint64_t	n;

	/* A worker draws 101 and dies before its commit or rollback. */
	hub_seq_start(START);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		hub_slot_set_pid(dead, getpid());
		hub_set_self(dead);
		hub_set_thread_id(4242);
		_exit(hub_seq_draw() == START + 1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* What the master reads to KILL its connection first. */
	ck_assert_uint_eq(hub_seq_pending(dead), START + 1);
	ck_assert_uint_eq(hub_thread_id(dead), 4242);
	ck_assert_int_eq(hub_slot_pid(dead), pid);
	/* The others go on; their numbers stay behind 101. */
	for (n = START + 2; n < START + 20; n++) {
		ck_assert_uint_eq(draw(0), n);
		hub_seq_finish(slots[0]);
		ck_assert_uint_eq(hub_seq_watermark(), START);
	}
	/* Released once its connection is gone: everything is visible. */
	hub_slot_release(dead);
	ck_assert_uint_eq(hub_seq_watermark(), START + 19);
	ck_assert_uint_eq(hub_seq_pending(dead), 0);
	ck_assert_int_eq(hub_slot_pid(dead), 0);
	/* Its replacement takes the slot with nothing pending. */
	ck_assert_int_eq(hub_slot_claim(getpid()), dead);
	ck_assert_uint_eq(hub_seq_pending(dead), 0);
	ck_assert_uint_eq(hub_seq_watermark(), START + 19);
}
END_TEST

START_TEST(test_sequencer_shm)
{
	uint64_t	n, last;

	/* The shm sequencer is local; the db one is not. */
	ck_assert(sequencer_local());
	hub_seq_start(START);
	hub_set_self(slots[1]);
	ck_assert_int_eq(sequencer_next(&n), 0);
	ck_assert_uint_eq(n, START + 1);
	hub_set_self(slots[0]);
	ck_assert_int_eq(sequencer_next(&n), 0);
	ck_assert_uint_eq(n, START + 2);
	hub_seq_finish(slots[0]);
	ck_assert_uint_eq(sequencer_visible(), START);
	ck_assert_int_eq(sequencer_last(&last), 0);
	ck_assert_uint_eq(last, START + 2);
	hub_seq_finish(slots[1]);
	ck_assert_uint_eq(sequencer_visible(), START + 2);

	free(test_cfg.sequencer);
	test_cfg.sequencer = xstrdup("db");
	ck_assert(!sequencer_local());
}
END_TEST

START_TEST(test_connection_broke)
{
	uint64_t	n;

	/*
	 * A transaction drew 101 and its connection broke during the
	 * commit: nobody can tell whether it landed, so 101 stays pending
	 * (the watermark below it) until that connection is known to be
	 * gone, and this worker draws nothing more until then.  Here the
	 * database cannot be reached to make sure, so it stays so.
	 */
	hub_seq_start(START);
	hub_set_self(slots[0]);
	ck_assert_int_eq(sequencer_next(&n), 0);
	ck_assert_uint_eq(n, START + 1);
	hub_set_thread_id(4242);	/* its connection's id, were it real */
	hub_set_self(slots[1]);
	ck_assert_int_eq(sequencer_next(&n), 0);
	hub_seq_finish(slots[1]);

	hub_set_self(slots[0]);
	ck_assert(!db_available());
	ck_assert_int_eq(sequencer_txn_end(), 0);
	ck_assert_uint_eq(hub_seq_pending(slots[0]), START + 1);
	ck_assert_uint_eq(sequencer_visible(), START);
	ck_assert_int_eq(sequencer_next(&n), -1);
	ck_assert_uint_eq(hub_seq_last(), START + 2);
	ck_assert_uint_eq(sequencer_visible(), START);
	ck_assert_int_eq(sequencer_recover(), -1);
	ck_assert_uint_eq(hub_seq_pending(slots[0]), START + 1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("sequencer");
	TCase	*tc = tcase_create("sequencer");

	log_init("check_sequencer", 0);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_resumed_from_the_database);
	tcase_add_test(tc, test_out_of_order_finishes);
	tcase_add_test(tc, test_first_number_holds);
	tcase_add_test(tc, test_random_interleaving);
	tcase_add_test(tc, test_dead_worker);
	tcase_add_test(tc, test_sequencer_shm);
	tcase_add_test(tc, test_connection_broke);
	suite_add_tcase(s, tc);
	return check_run(s);
}
