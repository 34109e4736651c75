/* SPDX-License-Identifier: ISC */
/*
 * check_throttle.c: unit tests of sign-in throttling: the free failures,
 * the delays that double up to the ceiling, what a count is kept for
 * (address and login ignoring case; address alone), a success clearing
 * its pair, and a full table keeping the counts that hold someone back.
 * No test waits: each looks at the delay set by the failure just counted.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sohbet.h"
#include "check_run.h"

#define ADDR	"192.0.2.1"
#define OTHER	"192.0.2.2"

static struct config	test_cfg;

/* A fresh table and the default limits. */
static void
setup(void)
{
	config_init(&test_cfg);
	cfg = &test_cfg;
	throttle_init();
}

/* Count n failed guesses of login from addr. */
static void
guess(const char *addr, const char *login, int n)
{
	while (n-- > 0)
		throttle_failed(addr, login);
}

START_TEST(test_free_then_doubling)
{
	int	i;

	/* login_free - 1 failures: no wait; the login_free-th: 1 s. */
	guess(ADDR, "alice", cfg->login_free - 1);
	ck_assert_int_eq(throttle_check(ADDR, "alice"), 0);
	guess(ADDR, "alice", 1);
	ck_assert_int_eq(throttle_check(ADDR, "alice"), 1);
	guess(ADDR, "alice", 1);
	ck_assert_int_eq(throttle_check(ADDR, "alice"), 2);
	guess(ADDR, "alice", 1);
	ck_assert_int_eq(throttle_check(ADDR, "alice"), 4);
	/* Up to the ceiling, never beyond. */
	for (i = 0; i < 40; i++)
		guess(ADDR, "alice", 1);
	ck_assert_int_eq(throttle_check(ADDR, "alice"), cfg->login_delay_max);
}
END_TEST

START_TEST(test_what_is_counted)
{
	guess(ADDR, "Alice@Example.com", cfg->login_free);
	/* The login ignoring case, from that address only. */
	ck_assert_int_eq(throttle_check(ADDR, "alice@example.COM"), 1);
	ck_assert_int_eq(throttle_check(OTHER, "alice@example.com"), 0);
	/* Another login from the same address is not held back yet. */
	ck_assert_int_eq(throttle_check(ADDR, "bob"), 0);
}
END_TEST

START_TEST(test_address_budget)
{
	char	login[32];
	int	i;

	/* address_free failures of different logins: every login waits. */
	for (i = 0; i < cfg->address_free; i++) {
		snprintf(login, sizeof login, "user%d", i);
		ck_assert_int_eq(throttle_check(ADDR, login), 0);
		throttle_failed(ADDR, login);
	}
	ck_assert_int_eq(throttle_check(ADDR, "anyone"), 1);
	ck_assert_int_eq(throttle_check(OTHER, "anyone"), 0);
}
END_TEST

START_TEST(test_success_clears_pair)
{
	guess(ADDR, "carol", cfg->login_free);
	ck_assert_int_eq(throttle_check(ADDR, "carol"), 1);
	throttle_succeeded(ADDR, "CAROL");
	ck_assert_int_eq(throttle_check(ADDR, "carol"), 0);
	/* The count starts again from nothing. */
	guess(ADDR, "carol", cfg->login_free - 1);
	ck_assert_int_eq(throttle_check(ADDR, "carol"), 0);
}
END_TEST

START_TEST(test_full_table_keeps_held)
{
	char	addr[32];
	int	i;

	/* One pair held back, then far more counts than the table holds. */
	guess(ADDR, "dave", cfg->login_free + 3);
	ck_assert_int_eq(throttle_check(ADDR, "dave"), 8);
	for (i = 0; i < 100000; i++) {
		snprintf(addr, sizeof addr, "10.%d.%d.%d", i >> 16,
		    (i >> 8) & 255, i & 255);
		throttle_failed(addr, "x");
	}
	ck_assert_int_eq(throttle_check(ADDR, "dave"), 8);
}
END_TEST

static Suite *
throttle_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("throttle");
	tc = tcase_create("counts");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_free_then_doubling);
	tcase_add_test(tc, test_what_is_counted);
	tcase_add_test(tc, test_address_budget);
	tcase_add_test(tc, test_success_clears_pair);
	tcase_add_test(tc, test_full_table_keeps_held);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(throttle_suite());
}
