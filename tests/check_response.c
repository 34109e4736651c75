/* SPDX-License-Identifier: ISC */
/* check_response.c: unit tests of the error shape and status reasons. */
#include <check.h>
#include <string.h>

#include "sohbet.h"
#include "check_run.h"

/* Parse what a generator holds; the caller frees the tree. */
static struct json *
parse_gen(yajl_gen g)
{
	struct json	*j;
	const char	*text;
	size_t		 len;

	text = json_gen_text(g, &len);
	ck_assert_int_eq(json_parse(text, len, &j), 0);
	return j;
}

START_TEST(test_error_shape)
{
	yajl_gen	 g;
	struct json	*j, *e;

	g = response_error_body("validation_failed", "name is too long",
	    "name");
	j = parse_gen(g);
	ck_assert_uint_eq(j->count, 1);
	e = json_get(j, "error");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->type, JSON_OBJECT);
	ck_assert_str_eq(json_get(e, "code")->text, "validation_failed");
	ck_assert_str_eq(json_get(e, "message")->text, "name is too long");
	ck_assert_str_eq(json_get(e, "field")->text, "name");
	json_free(j);
	yajl_gen_free(g);
}
END_TEST

START_TEST(test_error_without_field)
{
	yajl_gen	 g;
	struct json	*j, *e;

	g = response_error_body("not_found", "Unknown \"channel\"\n", NULL);
	j = parse_gen(g);
	e = json_get(j, "error");
	ck_assert_uint_eq(e->count, 2);
	ck_assert_ptr_null(json_get(e, "field"));
	ck_assert_str_eq(json_get(e, "message")->text, "Unknown \"channel\"\n");
	json_free(j);
	yajl_gen_free(g);
}
END_TEST

START_TEST(test_reasons)
{
	ck_assert_str_eq(response_reason(200), "OK");
	ck_assert_str_eq(response_reason(413), "Payload Too Large");
	ck_assert_str_eq(response_reason(429), "Too Many Requests");
	ck_assert_str_eq(response_reason(503), "Service Unavailable");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("response");
	TCase	*tc = tcase_create("response");

	tcase_add_test(tc, test_error_shape);
	tcase_add_test(tc, test_error_without_field);
	tcase_add_test(tc, test_reasons);
	suite_add_tcase(s, tc);
	return check_run(s);
}
