/* SPDX-License-Identifier: ISC */
/*
 * check_hub.c: unit tests of hub.c's ring and wake-ups: a reader that
 * keeps up reads every entry in order across the ring's wrap, one that
 * fell more than a ring behind is told so and starts again at the head,
 * and publishing wakes every other worker once through its eventfd.
 * The hub is this process's own; a forked child shares it as a worker
 * does.
 */
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"
#include "check_run.h"

#define READ_BATCH	100	/* not a divisor of a publisher's chunk */

static struct config	test_cfg;

/* The default configuration and a hub of this process's own. */
static void
setup(void)
{
	config_init(&test_cfg);
	cfg = &test_cfg;
	hub_init();
}

/* Publish entries seq from..to, in chunks of chunk, each naming itself. */
static void
publish_range(uint64_t from, uint64_t to, size_t chunk)
{
	struct hub_entry	*es;
	size_t			 n = 0;

	es = xcalloc(chunk, sizeof *es);
	for (; from <= to; from++) {
		es[n].seq = from;
		es[n].channel_id = from * 7;
		es[n].user_id = from % 3;
		if (++n == chunk || from == to) {
			hub_publish(es, n);
			n = 0;
		}
	}
	free(es);
}

/*
 * Read everything after *pos in batches; assert it is exactly the entries
 * want..last in order, as published.  The number read.
 */
static long
read_expect(uint64_t *pos, uint64_t want, uint64_t last)
{
	struct hub_entry	out[READ_BATCH];
	long			n, i, total = 0;

	while ((n = hub_read(pos, out, READ_BATCH)) > 0) {
		for (i = 0; i < n; i++, want++) {
			ck_assert_uint_eq(out[i].seq, want);
			ck_assert_uint_eq(out[i].channel_id, want * 7);
			ck_assert_uint_eq(out[i].user_id, want % 3);
			ck_assert_uint_ne(out[i].published_ns, 0);
		}
		total += n;
	}
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(want, last + 1);
	return total;
}

/* The count an eventfd holds (read at once), 0 when nothing woke it. */
static uint64_t
wakes(int slot)
{
	uint64_t	count = 0;

	if (read(hub_wake_fd(slot), &count, sizeof count) == -1) {
		ck_assert_int_eq(errno, EAGAIN);
		return 0;
	}
	return count;
}

START_TEST(test_reader_keeps_up)
{
	uint64_t	pos = hub_ring_head(), seq = 1, next;

	/* Three rings and a bit, read after each chunk: all, in order. */
	ck_assert_uint_eq(pos, 0);
	while (seq <= 3 * HUB_RING + 77) {
		next = seq + 1000 + seq % 333;
		publish_range(seq, next - 1, 256);
		ck_assert_int_eq(read_expect(&pos, seq, next - 1),
		    (long)(next - seq));
		seq = next;
	}
	ck_assert_uint_eq(pos, hub_ring_head());
	ck_assert_uint_eq(hub_stats()->events_published, seq - 1);
}
END_TEST

START_TEST(test_exactly_a_ring_behind)
{
	uint64_t	pos = hub_ring_head();

	/* A reader HUB_RING behind still finds the oldest entry intact. */
	publish_range(1, 5, 5);
	ck_assert_int_eq(read_expect(&pos, 1, 5), 5);
	publish_range(6, 5 + HUB_RING, 1000);
	ck_assert_int_eq(read_expect(&pos, 6, 5 + HUB_RING), HUB_RING);
}
END_TEST

START_TEST(test_reader_fell_behind)
{
	struct hub_entry	out[READ_BATCH];
	uint64_t		pos = hub_ring_head(), head;

	/*
	 * One entry more than the ring holds: the oldest was overwritten,
	 * so the reader is told (-1), nothing stale is handed out, and it
	 * goes on from the head.
	 */
	publish_range(1, HUB_RING + 1, 512);
	head = hub_ring_head();
	ck_assert_int_eq(hub_read(&pos, out, READ_BATCH), -1);
	ck_assert_uint_eq(pos, head);
	ck_assert_int_eq(hub_read(&pos, out, READ_BATCH), 0);
	publish_range(HUB_RING + 2, HUB_RING + 4, 3);
	ck_assert_int_eq(read_expect(&pos, HUB_RING + 2, HUB_RING + 4), 3);
}
END_TEST

START_TEST(test_readers_apart)
{
	uint64_t	fast = hub_ring_head(), slow = fast;

	/* Each worker keeps its own position: one does not move another. */
	publish_range(1, 300, 300);
	ck_assert_int_eq(read_expect(&fast, 1, 300), 300);
	publish_range(301, 400, 50);
	ck_assert_int_eq(read_expect(&slow, 1, 400), 400);
	ck_assert_int_eq(read_expect(&fast, 301, 400), 100);
}
END_TEST

START_TEST(test_publish_wakes_the_others)
{
	struct hub_entry	e = { .seq = 1, .user_id = 5 };
	int			self, other, third, unused;

	self = hub_slot_claim(getpid());
	other = hub_slot_claim(getpid() + 1);
	third = hub_slot_claim(getpid() + 2);
	unused = third + 1;
	hub_set_self(self);

	hub_publish(&e, 1);
	ck_assert_uint_eq(wakes(other), 1);
	ck_assert_uint_eq(wakes(third), 1);
	/* Not through its own eventfd: it notes it must look, once. */
	ck_assert_uint_eq(wakes(self), 0);
	ck_assert_int_eq(hub_self_woken(), 1);
	ck_assert_int_eq(hub_self_woken(), 0);
	ck_assert_uint_eq(wakes(unused), 0);

	/* Two publications before a worker looks: one read takes both. */
	hub_publish(&e, 1);
	hub_publish(&e, 1);
	ck_assert_uint_eq(wakes(other), 2);
	ck_assert_uint_eq(wakes(other), 0);

	/* A released slot is woken no more. */
	hub_slot_release(third);
	ck_assert_uint_eq(wakes(third), 2);
	hub_publish(&e, 1);
	ck_assert_uint_eq(wakes(third), 0);
	ck_assert_uint_eq(wakes(other), 1);
	/* Nothing published, nobody woken. */
	hub_publish(&e, 0);
	ck_assert_uint_eq(wakes(other), 0);
}
END_TEST

START_TEST(test_shared_with_a_child)
{
	uint64_t	pos = hub_ring_head();
	pid_t		pid;
	int		status, self, child;

	/* A worker forked after hub_init() publishes; the parent sees it. */
	self = hub_slot_claim(getpid());
	child = hub_slot_claim(0);
	hub_set_self(self);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		hub_set_self(child);
		publish_range(1, 10, 4);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(read_expect(&pos, 1, 10), 10);
	ck_assert_uint_eq(wakes(self), 3);
	ck_assert_uint_eq(wakes(child), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("hub");
	TCase	*tc = tcase_create("hub");

	log_init("check_hub", 0);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_reader_keeps_up);
	tcase_add_test(tc, test_exactly_a_ring_behind);
	tcase_add_test(tc, test_reader_fell_behind);
	tcase_add_test(tc, test_readers_apart);
	tcase_add_test(tc, test_publish_wakes_the_others);
	tcase_add_test(tc, test_shared_with_a_child);
	suite_add_tcase(s, tc);
	return check_run(s);
}
