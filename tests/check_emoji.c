/* SPDX-License-Identifier: ISC */
/*
 * check_emoji.c: unit tests of emoji.c, the check that a reaction is one
 * emoji (API.md, Replies, reactions and pins), against the table that
 * tools/emoji-table generated from Unicode's data.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"
#include "check_run.h"

/* The emoji a C string is, fully qualified, or NULL. */
static const char *
lookup(const char *s)
{
	return emoji_lookup(s, strlen(s));
}

/* Check that s is one emoji whose fully-qualified form is want. */
static void
accepts(const char *s, const char *want)
{
	const char	*e;

	e = lookup(s);
	ck_assert_msg(e != NULL, "refused: %s", s);
	ck_assert_str_eq(e, want);
}

START_TEST(test_valid)
{
	accepts("\xf0\x9f\x91\x8d", "\xf0\x9f\x91\x8d");		/* 👍 */
	/* ❤️, and ❤ typed without its variation selector. */
	accepts("\xe2\x9d\xa4\xef\xb8\x8f", "\xe2\x9d\xa4\xef\xb8\x8f");
	accepts("\xe2\x9d\xa4", "\xe2\x9d\xa4\xef\xb8\x8f");
	/* 👍🏽: a skin tone. */
	accepts("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
	    "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd");
	/* 👨‍👩‍👧: a ZWJ sequence of three. */
	accepts("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
	    "\xf0\x9f\x91\xa7", "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9"
	    "\xe2\x80\x8d\xf0\x9f\x91\xa7");
	/* 1️⃣: a keycap, with and without its variation selector. */
	accepts("1\xef\xb8\x8f\xe2\x83\xa3", "1\xef\xb8\x8f\xe2\x83\xa3");
	accepts("1\xe2\x83\xa3", "1\xef\xb8\x8f\xe2\x83\xa3");
	/* 🇹🇷: a flag, two regional indicators. */
	accepts("\xf0\x9f\x87\xb9\xf0\x9f\x87\xb7",
	    "\xf0\x9f\x87\xb9\xf0\x9f\x87\xb7");
	/* 🏴󠁧󠁢󠁥󠁮󠁧󠁿: a tag sequence (28 bytes). */
	accepts("\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xa2\xf3\xa0\x81"
	    "\xa5\xf3\xa0\x81\xae\xf3\xa0\x81\xa7\xf3\xa0\x81\xbf",
	    "\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xa2\xf3\xa0\x81"
	    "\xa5\xf3\xa0\x81\xae\xf3\xa0\x81\xa7\xf3\xa0\x81\xbf");
	/* The first and last of the table are found (the binary search). */
	ck_assert_ptr_nonnull(lookup(emoji_table_text));
	ck_assert_ptr_nonnull(lookup(emoji_table_text +
	    emoji_table_starts[emoji_table_count - 1]));
}
END_TEST

START_TEST(test_invalid)
{
	ck_assert_ptr_null(lookup(""));
	ck_assert_ptr_null(lookup("a"));
	ck_assert_ptr_null(lookup("1"));	/* a digit is no keycap */
	ck_assert_ptr_null(lookup(":smile:"));
	ck_assert_ptr_null(lookup("\xf0\x9f\x91\x8d\xf0\x9f\x91\x8d"));	/* 👍👍 */
	ck_assert_ptr_null(lookup("\xf0\x9f\x91\x8d "));	/* a space */
	ck_assert_ptr_null(lookup("\xef\xb8\x8f"));	/* a selector alone */
	ck_assert_ptr_null(lookup("\xf0\x9f\x87\xb9"));	/* half a flag */
	ck_assert_ptr_null(lookup("\xf0\x9f\x87\xbd\xf0\x9f\x87\xbd"));	/* XX */
	ck_assert_ptr_null(lookup("\xf0\x9f\x91"));	/* cut UTF-8 */
	ck_assert_ptr_null(lookup("\xe2\x80\x8d"));	/* a ZWJ alone */
	/* 👍🏽 with a second tone: no such sequence. */
	ck_assert_ptr_null(lookup("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"
	    "\xf0\x9f\x8f\xbd"));
	/* 👍 followed by selectors past 32 bytes. */
	ck_assert_ptr_null(lookup("\xf0\x9f\x91\x8d\xef\xb8\x8f\xef\xb8\x8f"
	    "\xef\xb8\x8f\xef\xb8\x8f\xef\xb8\x8f\xef\xb8\x8f\xef\xb8\x8f"
	    "\xef\xb8\x8f\xef\xb8\x8f"));
	/* 🧑🏻‍❤️‍💋‍🧑🏼: a real emoji, but 35 bytes. */
	ck_assert_ptr_null(lookup("\xf0\x9f\xa7\x91\xf0\x9f\x8f\xbb\xe2\x80"
	    "\x8d\xe2\x9d\xa4\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x92\x8b\xe2\x80"
	    "\x8d\xf0\x9f\xa7\x91\xf0\x9f\x8f\xbc"));
}
END_TEST

START_TEST(test_table_sorted)
{
	unsigned int	i;

	ck_assert_uint_gt(emoji_table_count, 3000);
	/* Every entry finds itself: the order is the one lookup uses. */
	for (i = 0; i < emoji_table_count; i++) {
		const char *e = emoji_table_text + emoji_table_starts[i];

		ck_assert_msg(lookup(e) == e, "entry %u not found", i);
		ck_assert_uint_le(strlen(e), EMOJI_BYTES_MAX);
	}
}
END_TEST

/* Collect the tests into a suite. */
static Suite *
emoji_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("emoji");
	tc = tcase_create("emoji");
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_invalid);
	tcase_add_test(tc, test_table_sorted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(emoji_suite());
}
