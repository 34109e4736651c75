/* SPDX-License-Identifier: ISC */
/*
 * check_mentions.c: unit tests of mentions.c that need no database: the
 * text a message's row keeps of its mentions (messages.mentions), which
 * mentions_read() and the stored procedures read back.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"
#include "check_run.h"

/* The column text of n mentions given as kinds and ids. */
static char *
column(const int *kinds, const uint64_t *ids, size_t n)
{
	struct mention	v[8];
	struct mentions	ms = { v, n };
	size_t		i;

	memset(v, 0, sizeof v);
	for (i = 0; i < n; i++) {
		v[i].kind = kinds[i];
		v[i].id = ids[i];
	}
	return mentions_column_text(&ms);
}

START_TEST(test_column_none)
{
	struct mentions	ms = { NULL, 0 };

	ck_assert_ptr_null(mentions_column_text(NULL));
	ck_assert_ptr_null(mentions_column_text(&ms));
}
END_TEST

START_TEST(test_column_kinds)
{
	static const int	kinds[] = { MENTION_USER, MENTION_ROLE,
				    MENTION_EVERYONE };
	static const uint64_t	ids[] = { 12, 345, 0 };
	char			*text;

	text = column(kinds, ids, 1);
	ck_assert_str_eq(text, "[[1,\"12\"]]");
	free(text);
	text = column(kinds, ids, 3);
	ck_assert_str_eq(text, "[[1,\"12\"],[2,\"345\"],[0,\"0\"]]");
	free(text);
}
END_TEST

/* The longest ids fill the room each mention is given, and no more. */
START_TEST(test_column_longest)
{
	static const int	kinds[] = { MENTION_ROLE, MENTION_USER,
				    MENTION_USER, MENTION_ROLE, MENTION_USER };
	static const uint64_t	ids[] = { UINT64_MAX, 9223372036854775807ULL,
				    UINT64_MAX, 1, UINT64_MAX };
	char			*text;

	text = column(kinds, ids, 5);
	ck_assert_str_eq(text, "[[2,\"18446744073709551615\"],"
	    "[1,\"9223372036854775807\"],[1,\"18446744073709551615\"],"
	    "[2,\"1\"],[1,\"18446744073709551615\"]]");
	free(text);
	text = column(kinds, ids, 1);
	ck_assert_str_eq(text, "[[2,\"18446744073709551615\"]]");
	free(text);
}
END_TEST

/* Collect the tests into a suite. */
static Suite *
mentions_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("mentions");
	tc = tcase_create("column");
	tcase_add_test(tc, test_column_none);
	tcase_add_test(tc, test_column_kinds);
	tcase_add_test(tc, test_column_longest);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(mentions_suite());
}
