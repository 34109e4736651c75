/* SPDX-License-Identifier: ISC */
/*
 * check_ratelimit.c: unit tests of the write limits' buckets.  The clock
 * is the tests' own (ratelimit_take() takes the time), so nothing waits.
 */
#include <check.h>
#include <stdlib.h>

#include "sohbet.h"
#include "check_run.h"

#define SECOND	1000000000ULL
#define T0	(1000 * SECOND)	/* any time after boot */

/* The defaults of [limits], in a table of the tests' own. */
static void
setup(void)
{
	cfg = xcalloc(1, sizeof *cfg);
	config_init(cfg);
	ratelimit_init();
}

/* Forget the configuration (the table is the next test's own). */
static void
teardown(void)
{
	config_clear(cfg);
	free(cfg);
	cfg = NULL;
}

/* Take n writes at now; how many were allowed. */
static int
take_n(enum ratelimit_kind kind, uint64_t user, uint64_t object,
    uint64_t now, int n)
{
	uint64_t	wait;
	int		i, allowed = 0;

	for (i = 0; i < n; i++)
		allowed += ratelimit_take(kind, user, object, now, &wait) == 0;
	return allowed;
}

START_TEST(test_message_burst)
{
	uint64_t	wait = 0;

	/* 5 a second with a burst of 10: the 11th at once waits 200 ms. */
	ck_assert_int_eq(take_n(RATELIMIT_CHANNEL_MESSAGE, 1, 7, T0, 10), 10);
	ck_assert_int_eq(ratelimit_take(RATELIMIT_CHANNEL_MESSAGE, 1, 7, T0,
	    &wait), -1);
	ck_assert_uint_eq(wait, SECOND / 5);
	/* Refused writes cost nothing: still 200 ms. */
	ck_assert_int_eq(ratelimit_take(RATELIMIT_CHANNEL_MESSAGE, 1, 7,
	    T0 + SECOND / 10, &wait), -1);
	ck_assert_uint_eq(wait, SECOND / 10);
	/* Once the wait is over, one more; then wait again. */
	ck_assert_int_eq(take_n(RATELIMIT_CHANNEL_MESSAGE, 1, 7,
	    T0 + SECOND / 5, 2), 1);
	/* A second later the bucket holds 5 again, not more. */
	ck_assert_int_eq(take_n(RATELIMIT_CHANNEL_MESSAGE, 1, 7,
	    T0 + SECOND / 5 + SECOND, 20), 5);
}
END_TEST

START_TEST(test_message_pace)
{
	uint64_t	now = T0, wait;
	int		i;

	/* Four a second, for ten minutes: never refused. */
	for (i = 0; i < 2400; i++, now += SECOND / 4)
		ck_assert_int_eq(ratelimit_take(RATELIMIT_CHANNEL_MESSAGE, 1, 7,
		    now, &wait), 0);
	/* Six a second: the burst runs out within ten seconds. */
	for (i = 0; i < 60; i++, now += SECOND / 6) {
		if (ratelimit_take(RATELIMIT_CHANNEL_MESSAGE, 2, 7, now,
		    &wait) == -1)
			break;
	}
	ck_assert_int_lt(i, 60);
	ck_assert_int_gt(i, 10);
}
END_TEST

START_TEST(test_keys_apart)
{
	uint64_t	wait;

	ck_assert_int_eq(take_n(RATELIMIT_CHANNEL_MESSAGE, 1, 7, T0, 11), 10);
	/* Another channel, the DM with the same id, another user: full. */
	ck_assert_int_eq(take_n(RATELIMIT_CHANNEL_MESSAGE, 1, 8, T0, 11), 10);
	ck_assert_int_eq(take_n(RATELIMIT_DM_MESSAGE, 1, 7, T0, 11), 10);
	ck_assert_int_eq(take_n(RATELIMIT_CHANNEL_MESSAGE, 2, 7, T0, 11), 10);
	/* Per-user kinds do not share a bucket either. */
	ck_assert_int_eq(take_n(RATELIMIT_SERVER, 1, 0, T0, 11), 10);
	ck_assert_int_eq(take_n(RATELIMIT_INVITE, 1, 0, T0, 51), 50);
	ck_assert_int_eq(ratelimit_take(RATELIMIT_CHANNEL_MESSAGE, 1, 7, T0,
	    &wait), -1);
}
END_TEST

START_TEST(test_hourly)
{
	uint64_t	wait = 0;

	/* 10 servers an hour: the 11th waits 6 minutes. */
	ck_assert_int_eq(take_n(RATELIMIT_SERVER, 3, 0, T0, 10), 10);
	ck_assert_int_eq(ratelimit_take(RATELIMIT_SERVER, 3, 0, T0 + SECOND,
	    &wait), -1);
	ck_assert_uint_eq(wait, 360 * SECOND - SECOND);
	ck_assert_int_eq(take_n(RATELIMIT_SERVER, 3, 0, T0 + 360 * SECOND, 2),
	    1);
	/* 50 invites an hour: the 51st waits 72 s. */
	ck_assert_int_eq(take_n(RATELIMIT_INVITE, 3, 0, T0, 50), 50);
	ck_assert_int_eq(ratelimit_take(RATELIMIT_INVITE, 3, 0, T0, &wait), -1);
	ck_assert_uint_eq(wait, 72 * SECOND);
}
END_TEST

START_TEST(test_configured)
{
	cfg->messages_per_second = 0;
	cfg->servers_per_hour = 1;
	ck_assert_int_eq(take_n(RATELIMIT_CHANNEL_MESSAGE, 1, 7, T0, 1000),
	    1000);
	ck_assert_int_eq(take_n(RATELIMIT_SERVER, 1, 0, T0, 3), 1);
	cfg->messages_per_second = 2;
	cfg->messages_burst = 1;
	ck_assert_int_eq(take_n(RATELIMIT_DM_MESSAGE, 1, 9, T0, 3), 1);
	ck_assert_int_eq(take_n(RATELIMIT_DM_MESSAGE, 1, 9, T0 + SECOND / 2,
	    3), 1);
}
END_TEST

START_TEST(test_table_full)
{
	uint64_t	user, wait;

	/*
	 * More live keys than the table holds: every new key still gets
	 * its burst (the limits loosen, never tighten), and the newest keys
	 * keep their buckets.
	 */
	for (user = 1; user <= 40000; user++)
		ck_assert_int_eq(take_n(RATELIMIT_CHANNEL_MESSAGE, user, 7, T0,
		    10), 10);
	ck_assert_int_eq(ratelimit_take(RATELIMIT_CHANNEL_MESSAGE, 40000, 7,
	    T0, &wait), -1);
	/* Once they have all refilled, their slots serve new keys. */
	for (user = 40001; user <= 50000; user++)
		ck_assert_int_eq(take_n(RATELIMIT_CHANNEL_MESSAGE, user, 7,
		    T0 + 10 * SECOND, 11), 10);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ratelimit");
	TCase	*tc = tcase_create("ratelimit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_message_burst);
	tcase_add_test(tc, test_message_pace);
	tcase_add_test(tc, test_keys_apart);
	tcase_add_test(tc, test_hourly);
	tcase_add_test(tc, test_configured);
	tcase_add_test(tc, test_table_full);
	suite_add_tcase(s, tc);
	return check_run(s);
}
