/* SPDX-License-Identifier: ISC */
/*
 * check_text.c: unit tests of text.c, the UTF-8 and text shape checks
 * behind API.md's text limits.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"
#include "check_run.h"

/* Count the code points of a C string. */
static long
cps(const char *s)
{
	return text_codepoints(s, strlen(s));
}

START_TEST(test_codepoints_valid)
{
	ck_assert_int_eq(text_codepoints("", 0), 0);
	ck_assert_int_eq(cps("abc"), 3);
	ck_assert_int_eq(cps("\xc3\xa9"), 1);			/* é */
	ck_assert_int_eq(cps("caf\xc3\xa9"), 4);
	ck_assert_int_eq(cps("\xe2\x82\xac"), 1);		/* € */
	ck_assert_int_eq(cps("\xe4\xbd\xa0\xe5\xa5\xbd"), 2);	/* 你好 */
	ck_assert_int_eq(cps("\xf0\x9f\x98\x80"), 1);		/* 😀 */
	ck_assert_int_eq(cps("a\xf0\x9f\x98\x80z"), 3);
	/* 👍🏽: a base and a skin tone modifier are two code points. */
	ck_assert_int_eq(cps("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"), 2);
	/* The edges of each length. */
	ck_assert_int_eq(cps("\x7f"), 1);
	ck_assert_int_eq(cps("\xc2\x80"), 1);			/* U+0080 */
	ck_assert_int_eq(cps("\xdf\xbf"), 1);			/* U+07FF */
	ck_assert_int_eq(cps("\xe0\xa0\x80"), 1);		/* U+0800 */
	ck_assert_int_eq(cps("\xed\x9f\xbf"), 1);		/* U+D7FF */
	ck_assert_int_eq(cps("\xee\x80\x80"), 1);		/* U+E000 */
	ck_assert_int_eq(cps("\xef\xbf\xbf"), 1);		/* U+FFFF */
	ck_assert_int_eq(cps("\xf0\x90\x80\x80"), 1);		/* U+10000 */
	ck_assert_int_eq(cps("\xf4\x8f\xbf\xbf"), 1);		/* U+10FFFF */
	/* Only len bytes are read. */
	ck_assert_int_eq(text_codepoints("ab\xff", 2), 2);
	ck_assert_int_eq(text_codepoints("\xc3\xa9", 1), -1);
}
END_TEST

START_TEST(test_codepoints_invalid)
{
	static const char *bad[] = {
		"\x80",				/* lone continuation */
		"a\xbf",
		"\xc3",				/* truncated */
		"\xc3z",
		"\xe2\x82",
		"\xe2\x82z",
		"\xf0\x9f\x98",
		"\xf0\x9f\x98z",
		"\xc0\x80",			/* overlong */
		"\xc0\xaf",
		"\xc1\xbf",
		"\xe0\x80\x80",
		"\xe0\x9f\xbf",
		"\xf0\x80\x80\x80",
		"\xf0\x8f\xbf\xbf",
		"\xed\xa0\x80",			/* surrogates */
		"\xed\xaf\xbf",
		"\xed\xb0\x80",
		"\xed\xbf\xbf",
		"\xed\xa0\xbd\xed\xb8\x80",	/* a CESU-8 pair */
		"\xf4\x90\x80\x80",		/* above U+10FFFF */
		"\xf5\x80\x80\x80",
		"\xf7\xbf\xbf\xbf",
		"\xf8\x88\x80\x80\x80",
		"\xfc\x84\x80\x80\x80\x80",
		"\xfe", "\xff",
		"ok\xff",
	};
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(cps(bad[i]) == -1, "accepted bad[%zu]", i);
	/* NUL bytes. */
	ck_assert_int_eq(text_codepoints("\0", 1), -1);
	ck_assert_int_eq(text_codepoints("a\0b", 3), -1);
	ck_assert_int_eq(text_codepoints("ab\0", 3), -1);
}
END_TEST

START_TEST(test_has_control)
{
	ck_assert_int_eq(text_has_control("", 0), 0);
	ck_assert_int_eq(text_has_control("General", 7), 0);
	ck_assert_int_eq(text_has_control("a b", 3), 0);
	ck_assert_int_eq(text_has_control("caf\xc3\xa9", 5), 0);
	ck_assert_int_eq(text_has_control("\xc2\xa0", 2), 0);	/* NBSP */
	ck_assert_int_eq(text_has_control("\xf0\x9f\x98\x80", 4), 0);
	ck_assert_int_eq(text_has_control("~", 1), 0);
	ck_assert_int_eq(text_has_control("a\tb", 3), 1);
	ck_assert_int_eq(text_has_control("a\n", 2), 1);
	ck_assert_int_eq(text_has_control("\r", 1), 1);
	ck_assert_int_eq(text_has_control("\x01", 1), 1);
	ck_assert_int_eq(text_has_control("\x1f", 1), 1);
	ck_assert_int_eq(text_has_control("\x1b[31m", 5), 1);
	ck_assert_int_eq(text_has_control("a\0b", 3), 1);
	ck_assert_int_eq(text_has_control("\x7f", 1), 1);	/* DEL */
	ck_assert_int_eq(text_has_control("\xc2\x80", 2), 1);	/* C1 */
	ck_assert_int_eq(text_has_control("x\xc2\x85", 3), 1);	/* NEL */
	ck_assert_int_eq(text_has_control("\xc2\x9f", 2), 1);
	/* Not UTF-8 counts as control. */
	ck_assert_int_eq(text_has_control("\x85", 1), 1);
	ck_assert_int_eq(text_has_control("a\xff", 2), 1);
}
END_TEST

START_TEST(test_is_blank)
{
	static const char *blank[] = {
		"", " ", "   ", "\t", "\n", "\r\n", "\v\f", " \t\n\r\v\f ",
		"\xc2\x85",			/* U+0085 */
		"\xc2\xa0",			/* U+00A0 */
		"\xe1\x9a\x80",			/* U+1680 */
		"\xe2\x80\x80",			/* U+2000 */
		"\xe2\x80\x8a",			/* U+200A */
		"\xe2\x80\x8b",			/* U+200B */
		"\xe2\x80\xa8",			/* U+2028 */
		"\xe2\x80\xa9",			/* U+2029 */
		"\xe2\x80\xaf",			/* U+202F */
		"\xe2\x81\x9f",			/* U+205F */
		"\xe3\x80\x80",			/* U+3000 */
		"\xef\xbb\xbf",			/* U+FEFF */
		" \xe3\x80\x80\xc2\xa0\n\xe2\x80\x8b ",
	};
	static const char *not_blank[] = {
		"a", " a", "a ", " . ", "\xc3\xa9", "\xf0\x9f\x98\x80",
		"\xe3\x80\x80x", "_", "\xe2\x80\x90",	/* U+2010 hyphen */
		"\xff", " \xff",			/* not UTF-8 */
	};
	size_t	i;

	for (i = 0; i < sizeof blank / sizeof blank[0]; i++)
		ck_assert_msg(text_is_blank(blank[i], strlen(blank[i])) == 1,
		    "not blank: blank[%zu]", i);
	for (i = 0; i < sizeof not_blank / sizeof not_blank[0]; i++)
		ck_assert_msg(text_is_blank(not_blank[i],
		    strlen(not_blank[i])) == 0, "blank: not_blank[%zu]", i);
	/* Only len bytes are read. */
	ck_assert_int_eq(text_is_blank("  x", 2), 1);
}
END_TEST

START_TEST(test_is_username)
{
	static const char *good[] = {
		"ab", "alice", "Alice_99", "a.b-c_d", "..", "--", "__",
		"0123456789", "abcdefghijklmnopqrstuvwxyzABCDEF",	/* 32 */
	};
	static const char *bad[] = {
		"", "a", "abcdefghijklmnopqrstuvwxyzABCDEFG",	/* 33 */
		"a b", " ab", "ab ", "a@b", "a/b", "a+b", "a:b", "a\tb",
		"caf\xc3\xa9", "\xc3\xa9\xc3\xa9", "ab\xff", "a'b", "a\"b",
	};
	size_t	i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(text_is_username(good[i], strlen(good[i])) == 1,
		    "refused: %s", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(text_is_username(bad[i], strlen(bad[i])) == 0,
		    "accepted: %s", bad[i]);
	ck_assert_int_eq(text_is_username("ab\0", 3), 0);
	ck_assert_int_eq(text_is_username("a\0b", 3), 0);
	ck_assert_int_eq(text_is_username("abc", 2), 1);
}
END_TEST

START_TEST(test_is_email)
{
	static const char *good[] = {
		"a@b", "alice@example.com", "a.b+tag@sub.example.org",
		"\xc3\xbc@\xc3\x9f.de", "x@[127.0.0.1]", "\"q\"@x",
	};
	static const char *bad[] = {
		"", "a", "ab", "@", "a@", "@b", "ab@", "@ab", "a@@b", "a@b@c",
		"alice.example.com", "a b@c", "a@b c", " a@b", "a@b ",
		"a@b\t", "a\n@b", "a@b\x7f", "a@b\xc2\x85", "a@b\xc2\xa0",
		"a@\xe2\x80\x83" "b", "a@\xe3\x80\x80" "b", "a@b\xff",
		"a@\xc0\xae", "a@b\xed\xa0\x80",
	};
	char	buf[300];
	size_t	i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(text_is_email(good[i], strlen(good[i])) == 1,
		    "refused: %s", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(text_is_email(bad[i], strlen(bad[i])) == 0,
		    "accepted bad[%zu]: %s", i, bad[i]);
	ck_assert_int_eq(text_is_email("a@b\0", 4), 0);
	ck_assert_int_eq(text_is_email("a\0@b", 4), 0);
	ck_assert_int_eq(text_is_email("a@bc", 3), 1);

	/* 254 bytes is the longest. */
	memset(buf, 'a', sizeof buf);
	memcpy(buf + 64, "@", 1);
	ck_assert_int_eq(text_is_email(buf, 254), 1);
	ck_assert_int_eq(text_is_email(buf, 255), 0);
	ck_assert_int_eq(text_is_email(buf, 65), 0);
	ck_assert_int_eq(text_is_email(buf, 66), 1);
}
END_TEST

/* Collect the tests into a suite. */
static Suite *
text_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("text");
	tc = tcase_create("text");
	tcase_add_test(tc, test_codepoints_valid);
	tcase_add_test(tc, test_codepoints_invalid);
	tcase_add_test(tc, test_has_control);
	tcase_add_test(tc, test_is_blank);
	tcase_add_test(tc, test_is_username);
	tcase_add_test(tc, test_is_email);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(text_suite());
}
