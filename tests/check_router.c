/* SPDX-License-Identifier: ISC */
/* check_router.c: unit tests of path patterns, routing and id parsing. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"
#include "check_run.h"

/* Free n captured arguments. */
static void
free_args(char **args, size_t n)
{
	while (n > 0)
		free(args[--n]);
}

START_TEST(test_literal)
{
	char	*args[ROUTE_ARGS_MAX];
	size_t	 n = 99;

	ck_assert_int_eq(router_pattern_match("/api/v1/health",
	    "/api/v1/health", args, &n), 1);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(router_pattern_match("/api/v1/health",
	    "/api/v1/healthz", args, &n), 0);
	ck_assert_int_eq(router_pattern_match("/api/v1/health",
	    "/api/v1/health/", args, &n), 0);
	ck_assert_int_eq(router_pattern_match("/api/v1/health",
	    "/api/v1", args, &n), 0);
}
END_TEST

START_TEST(test_captures)
{
	char	*args[ROUTE_ARGS_MAX];
	size_t	 n;

	ck_assert_int_eq(router_pattern_match("/servers/{id}/members/{user}",
	    "/servers/12/members/@me", args, &n), 1);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(args[0], "12");
	ck_assert_str_eq(args[1], "@me");
	free_args(args, n);
	/* An empty segment never fills a capture. */
	ck_assert_int_eq(router_pattern_match("/servers/{id}",
	    "/servers/", args, &n), 0);
	ck_assert_int_eq(router_pattern_match("/servers/{id}",
	    "/servers/1/2", args, &n), 0);
	ck_assert_int_eq(router_pattern_match("/servers/{id}/roles",
	    "/servers/1/rules", args, &n), 0);
}
END_TEST

START_TEST(test_match_method)
{
	char			*args[ROUTE_ARGS_MAX];
	char			 allow[64];
	size_t			 n;
	const struct route	*r;

	r = router_match("GET", API_PREFIX "/health", args, &n, allow,
	    sizeof allow);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->pattern, API_PREFIX "/health");
	r = router_match("DELETE", API_PREFIX "/health", args, &n, allow,
	    sizeof allow);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(allow, "GET");
	r = router_match("GET", API_PREFIX "/nothing", args, &n, allow,
	    sizeof allow);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(allow, "");
}
END_TEST

START_TEST(test_parse_id)
{
	uint64_t	id;

	ck_assert_int_eq(param_parse_id("42", &id), 0);
	ck_assert_uint_eq(id, 42);
	ck_assert_int_eq(param_parse_id("18446744073709551615", &id), 0);
	ck_assert_uint_eq(id, UINT64_MAX);
	ck_assert_int_eq(param_parse_id("18446744073709551616", &id), -1);
	ck_assert_int_eq(param_parse_id("0", &id), -1);
	ck_assert_int_eq(param_parse_id("042", &id), -1);
	ck_assert_int_eq(param_parse_id("", &id), -1);
	ck_assert_int_eq(param_parse_id("-1", &id), -1);
	ck_assert_int_eq(param_parse_id("1e3", &id), -1);
	ck_assert_int_eq(param_parse_id(" 1", &id), -1);
	ck_assert_int_eq(param_parse_id("@me", &id), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("router");
	TCase	*tc = tcase_create("router");

	tcase_add_test(tc, test_literal);
	tcase_add_test(tc, test_captures);
	tcase_add_test(tc, test_match_method);
	tcase_add_test(tc, test_parse_id);
	suite_add_tcase(s, tc);
	return check_run(s);
}
