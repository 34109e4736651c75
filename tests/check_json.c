/* SPDX-License-Identifier: ISC */
/*
 * check_json.c: unit tests of json.c, the request body parser (with the
 * rejections API.md lists) and the response writing helpers.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sohbet.h"
#include "check_run.h"

/* Parse len bytes; the tree, or NULL when json_parse() refused them. */
static struct json *
parse_len(const char *s, size_t len)
{
	struct json	*v = (struct json *)1;
	int		 rc;

	rc = json_parse(s, len, &v);
	if (rc == -1) {
		ck_assert_ptr_eq(v, NULL);
		return NULL;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_ne(v, NULL);
	ck_assert_int_eq(v->type, JSON_OBJECT);
	return v;
}

/* Parse a C string. */
static struct json *
parse(const char *s)
{
	return parse_len(s, strlen(s));
}

/* Assert that a C string is refused. */
static void
assert_rejected(const char *s)
{
	struct json	*v;

	v = parse(s);
	ck_assert_msg(v == NULL, "accepted: %.200s", s);
}

/* Assert that a C string is accepted, and free its tree. */
static void
assert_accepted(const char *s)
{
	struct json	*v;

	v = parse(s);
	ck_assert_msg(v != NULL, "refused: %.200s", s);
	json_free(v);
}

/* Seconds elapsed since *t0. */
static double
elapsed(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Build "{...}" nesting depth levels in all, the inner ones arrays or not. */
static char *
nested(int depth, int arrays)
{
	char	*s, *p;
	int	 i;

	s = malloc((size_t)depth * 8 + 16);
	ck_assert_ptr_ne(s, NULL);
	p = s;
	if (arrays) {
		p += sprintf(p, "{\"a\":");
		for (i = 1; i < depth; i++)
			*p++ = '[';
		for (i = 1; i < depth; i++)
			*p++ = ']';
		*p++ = '}';
	} else {
		for (i = 1; i < depth; i++)
			p += sprintf(p, "{\"a\":");
		p += sprintf(p, "{}");
		for (i = 1; i < depth; i++)
			*p++ = '}';
	}
	*p = '\0';
	return s;
}

/* Write a parsed value back out with the json_gen helpers. */
static void
emit(yajl_gen g, const struct json *v)
{
	size_t	i;

	switch (v->type) {
	case JSON_NULL:
		yajl_gen_null(g);
		break;
	case JSON_BOOL:
		yajl_gen_bool(g, v->boolean);
		break;
	case JSON_NUMBER:
		json_gen_raw(g, v->text, v->len);
		break;
	case JSON_STRING:
		json_gen_strn(g, v->text, v->len);
		break;
	case JSON_ARRAY:
		yajl_gen_array_open(g);
		for (i = 0; i < v->count; i++)
			emit(g, v->items[i]);
		yajl_gen_array_close(g);
		break;
	case JSON_OBJECT:
		yajl_gen_map_open(g);
		for (i = 0; i < v->count; i++) {
			json_gen_strn(g, v->members[i].key,
			    v->members[i].key_len);
			emit(g, v->members[i].value);
		}
		yajl_gen_map_close(g);
		break;
	}
}

/* Assert that the generator holds exactly this text, then free it. */
static void
assert_gen(yajl_gen g, const char *want)
{
	const char	*text;
	size_t		 len;

	text = json_gen_text(g, &len);
	ck_assert_str_eq(text, want);
	ck_assert_uint_eq(len, strlen(want));
	yajl_gen_free(g);
}

START_TEST(test_round_trip)
{
	const char	*in = "{\"a\":1,\"b\":\"x\\\"y\\\\z\","
	    "\"c\":[true,false,null,[],{}],"
	    "\"d\":{\"e\":-1.5e3,\"f\":\"\xc3\xa9\xf0\x9f\x98\x80\"},"
	    "\"\":0}";
	struct json	*v, *c, *d;
	yajl_gen	 g;

	v = parse(in);
	ck_assert_ptr_ne(v, NULL);
	ck_assert_uint_eq(v->count, 5);
	ck_assert_int_eq(json_get(v, "a")->type, JSON_NUMBER);
	ck_assert_str_eq(json_get(v, "a")->text, "1");
	ck_assert_int_eq(json_get(v, "b")->type, JSON_STRING);
	ck_assert_str_eq(json_get(v, "b")->text, "x\"y\\z");
	ck_assert_uint_eq(json_get(v, "b")->len, 5);
	c = json_get(v, "c");
	ck_assert_int_eq(c->type, JSON_ARRAY);
	ck_assert_uint_eq(c->count, 5);
	ck_assert_int_eq(c->items[0]->type, JSON_BOOL);
	ck_assert_int_eq(c->items[0]->boolean, 1);
	ck_assert_int_eq(c->items[1]->boolean, 0);
	ck_assert_int_eq(c->items[2]->type, JSON_NULL);
	ck_assert_int_eq(c->items[3]->type, JSON_ARRAY);
	ck_assert_uint_eq(c->items[3]->count, 0);
	ck_assert_int_eq(c->items[4]->type, JSON_OBJECT);
	d = json_get(v, "d");
	ck_assert_str_eq(json_get(d, "e")->text, "-1.5e3");
	ck_assert_str_eq(json_get(d, "f")->text, "\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert_ptr_ne(json_get(v, ""), NULL);

	g = json_gen_new();
	emit(g, v);
	assert_gen(g, in);
	json_free(v);
}
END_TEST

START_TEST(test_whitespace)
{
	struct json	*v;

	v = parse(" \t\r\n{ \"a\" : [ 1 , 2 ] }\n ");
	ck_assert_ptr_ne(v, NULL);
	ck_assert_uint_eq(json_get(v, "a")->count, 2);
	json_free(v);
}
END_TEST

START_TEST(test_malformed)
{
	static const char *bad[] = {
		"{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}",
		"{'a':1}", "{a:1}", "{\"a\":tru}", "{\"a\":True}",
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}",
		"{\"a\":0x10}", "{\"a\":NaN}", "{\"a\":Infinity}",
		"{\"a\":\"x\ty\"}", "{\"a\":\"x\ny\"}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"abc}",
		"{\"a\":[1,2}", "{\"a\":[1,,2]}", "{\"a\" 1}", "{\"a\"::1}",
		"{\"a\":1 \"b\":2}", "\xef\xbb\xbf{}", "{\"a\":'x'}",
	};
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_rejected(bad[i]);
}
END_TEST

START_TEST(test_trailing_garbage)
{
	assert_rejected("{} x");
	assert_rejected("{}{}");
	assert_rejected("{} {}");
	assert_rejected("{}]");
	assert_rejected("{}}");
	assert_rejected("{},");
	assert_rejected("{\"a\":1}1");
	assert_accepted("{}  \n");
}
END_TEST

START_TEST(test_comments)
{
	assert_rejected("{/* c */}");
	assert_rejected("{\"a\":1 /* c */}");
	assert_rejected("{\"a\":1}// c");
	assert_rejected("// c\n{}");
}
END_TEST

START_TEST(test_not_object)
{
	static const char *bad[] = {
		"[]", "[{}]", "[1]", "\"s\"", "\"{}\"", "1", "-0", "1.5",
		"true", "false", "null",
	};
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_rejected(bad[i]);
}
END_TEST

START_TEST(test_empty)
{
	struct json	*v = (struct json *)1;

	ck_assert_int_eq(json_parse("", 0, &v), -1);
	ck_assert_ptr_eq(v, NULL);
	ck_assert_int_eq(json_parse("{}", 0, &v), -1);
	assert_rejected(" ");
	assert_rejected("\n\t ");
	assert_accepted("{}");
}
END_TEST

START_TEST(test_depth_objects)
{
	struct json	*v, *p;
	char		*s;
	int		 i;

	s = nested(JSON_DEPTH_MAX, 0);
	v = parse(s);
	ck_assert_msg(v != NULL, "depth 16 refused");
	for (p = v, i = 1; i < JSON_DEPTH_MAX; i++)
		p = json_get(p, "a");
	ck_assert_ptr_ne(p, NULL);
	ck_assert_int_eq(p->type, JSON_OBJECT);
	ck_assert_uint_eq(p->count, 0);
	json_free(v);
	free(s);

	s = nested(JSON_DEPTH_MAX + 1, 0);
	assert_rejected(s);
	free(s);
}
END_TEST

START_TEST(test_depth_arrays)
{
	struct json	*v, *p;
	char		*s;
	int		 i;

	s = nested(JSON_DEPTH_MAX, 1);
	v = parse(s);
	ck_assert_msg(v != NULL, "depth 16 refused");
	p = json_get(v, "a");
	for (i = 2; i < JSON_DEPTH_MAX; i++) {
		ck_assert_int_eq(p->type, JSON_ARRAY);
		ck_assert_uint_eq(p->count, 1);
		p = p->items[0];
	}
	ck_assert_int_eq(p->type, JSON_ARRAY);
	ck_assert_uint_eq(p->count, 0);
	json_free(v);
	free(s);

	s = nested(JSON_DEPTH_MAX + 1, 1);
	assert_rejected(s);
	free(s);

	/* Scalars at depth 16 are fine: depth counts containers. */
	assert_accepted("{\"a\":[[[[[[[[[[[[[[[1,\"x\",null]]]]]]]]]]]]]]]}");
}
END_TEST

START_TEST(test_depth_huge)
{
	static const char	*prefix[] = {
		"", "{\"a\":", "{\"a\":[{\"b\":"
	};
	struct timespec		 t0;
	const size_t		 n = 500000;
	size_t			 i, k, len;
	char			*s;

	s = malloc(n * 10 + 32);
	ck_assert_ptr_ne(s, NULL);
	for (k = 0; k < sizeof prefix / sizeof prefix[0]; k++) {
		/* Openers only, then balanced. */
		len = (size_t)sprintf(s, "%s", prefix[k]);
		memset(s + len, '[', n);
		len += n;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_ptr_eq(parse_len(s, len), NULL);
		memset(s + len, ']', n);
		ck_assert_ptr_eq(parse_len(s, len + n), NULL);
		ck_assert_msg(elapsed(&t0) < 1.0, "slow: %f s", elapsed(&t0));
	}

	/* Nested objects. */
	len = 0;
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "{\"a\":");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_ptr_eq(parse_len(s, len), NULL);
	ck_assert_msg(elapsed(&t0) < 1.0, "slow: %f s", elapsed(&t0));
	free(s);
}
END_TEST

START_TEST(test_duplicates)
{
	assert_rejected("{\"a\":1,\"a\":2}");
	assert_rejected("{\"a\":1,\"b\":2,\"a\":1}");
	assert_rejected("{\"a\":{},\"a\":{}}");
	assert_rejected("{\"x\":{\"a\":1,\"a\":2}}");
	assert_rejected("{\"x\":[{\"a\":1,\"b\":2,\"a\":3}]}");
	assert_rejected("{\"x\":[1,{\"y\":{\"a\":1,\"a\":null}}]}");
	assert_rejected("{\"a\":1,\"\\u0061\":2}");
	assert_rejected("{\"\":1,\"\":2}");
	assert_rejected("{\"a\\u0000\":1,\"a\\u0000\":2}");
	assert_rejected("{\"\xc3\xa9\":1,\"\\u00e9\":2}");
	/* Keys differ by length or by byte: not duplicates. */
	assert_accepted("{\"a\":1,\"a\\u0000\":2}");
	assert_accepted("{\"a\":1,\"A\":2,\"ab\":3,\"b\":4}");
	assert_accepted("{\"a\":{\"a\":{\"a\":1}},"
	    "\"b\":[{\"a\":1},{\"a\":2}]}");
}
END_TEST

/* Build an object of n keys "k0".."k<n-1>", then one more key if extra. */
static char *
many_keys(size_t n, const char *extra)
{
	char	*s, *p;
	size_t	 i;

	s = malloc(n * 24 + 64);
	ck_assert_ptr_ne(s, NULL);
	p = s;
	*p++ = '{';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\"k%zu\":%zu", i == 0 ? "" : ",", i, i);
	if (extra != NULL)
		p += sprintf(p, ",\"%s\":0", extra);
	*p++ = '}';
	*p = '\0';
	return s;
}

START_TEST(test_duplicates_many)
{
	struct timespec	 t0;
	struct json	*v;
	char		*s;
	size_t		 n;

	/* Around 64 KiB of distinct keys: accepted, quickly. */
	s = many_keys(6000, NULL);
	ck_assert_uint_le(strlen(s), 96 * 1024);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	v = parse(s);
	ck_assert_msg(elapsed(&t0) < 0.5, "slow: %f s", elapsed(&t0));
	ck_assert_ptr_ne(v, NULL);
	ck_assert_uint_eq(v->count, 6000);
	ck_assert_str_eq(json_get(v, "k5999")->text, "5999");
	ck_assert_ptr_eq(json_get(v, "k6000"), NULL);
	json_free(v);
	free(s);

	/* One duplicate among many, at either end. */
	s = many_keys(6000, "k0");
	assert_rejected(s);
	free(s);
	s = many_keys(6000, "k5999");
	assert_rejected(s);
	free(s);

	/* Around the switch from pairwise to sorted comparison. */
	for (n = 30; n <= 34; n++) {
		s = many_keys(n, NULL);
		assert_accepted(s);
		free(s);
		s = many_keys(n, "k1");
		assert_rejected(s);
		free(s);
	}
}
END_TEST

START_TEST(test_invalid_utf8)
{
	static const char *bad[] = {
		"{\"a\":\"\xff\"}",			/* never valid */
		"{\"a\":\"\x80\"}",			/* lone continuation */
		"{\"a\":\"\xc3\"}",			/* truncated */
		"{\"a\":\"\xe2\x82\"}",
		"{\"a\":\"\xf0\x9f\x98\"}",
		"{\"a\":\"\xc0\x80\"}",			/* overlong NUL */
		"{\"a\":\"\xc1\xbf\"}",			/* overlong */
		"{\"a\":\"\xe0\x80\xaf\"}",
		"{\"a\":\"\xf0\x80\x80\xaf\"}",
		"{\"a\":\"\xed\xa0\x80\"}",		/* surrogate */
		"{\"a\":\"\xed\xbf\xbf\"}",
		"{\"a\":\"\xf4\x90\x80\x80\"}",		/* above U+10FFFF */
		"{\"a\":\"\xf8\x88\x80\x80\x80\"}",
		"{\"\xff\":1}",				/* in keys */
		"{\"\xc0\xaf\":1}",
		"{\"\xed\xa0\x80\":1}",
		"{\"a\":[\"ok\",\"\xfe\"]}",
		"{\"a\":1}\xff",
		"\xff{}",
	};
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_rejected(bad[i]);
	/* A raw NUL byte is never JSON. */
	ck_assert_ptr_eq(parse_len("{\"a\":\"x\0y\"}", 11), NULL);
	ck_assert_ptr_eq(parse_len("{}\0", 3), NULL);
	/* The edges of the valid ranges. */
	assert_accepted("{\"\xc2\x80\xdf\xbf\":\"\xe0\xa0\x80\xed\x9f\xbf"
	    "\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}");
}
END_TEST

START_TEST(test_nul_escape)
{
	struct json	*v, *a;

	v = parse("{\"a\":\"x\\u0000y\",\"b\\u0000c\":1,\"d\":\"\\u0000\"}");
	ck_assert_ptr_ne(v, NULL);
	a = json_get(v, "a");
	ck_assert_uint_eq(a->len, 3);
	ck_assert(memcmp(a->text, "x\0y", 4) == 0);
	ck_assert_int_eq(text_codepoints(a->text, a->len), -1);
	ck_assert_uint_eq(json_get(v, "d")->len, 1);
	/* A key holding NUL never matches a C string. */
	ck_assert_ptr_eq(json_get(v, "b"), NULL);
	ck_assert_uint_eq(v->members[1].key_len, 3);
	ck_assert(memcmp(v->members[1].key, "b\0c", 4) == 0);
	json_free(v);
}
END_TEST

START_TEST(test_surrogate_escapes)
{
	struct json	*v, *s;

	/* A pair decodes to one 4-byte character, in either case. */
	v = parse("{\"a\":\"\\ud83d\\ude00\",\"b\":\"\\uD83D\\uDE00!\"}");
	ck_assert_ptr_ne(v, NULL);
	s = json_get(v, "a");
	ck_assert_str_eq(s->text, "\xf0\x9f\x98\x80");
	ck_assert_uint_eq(s->len, 4);
	ck_assert_int_eq(text_codepoints(s->text, s->len), 1);
	ck_assert_str_eq(json_get(v, "b")->text, "\xf0\x9f\x98\x80!");
	json_free(v);

	/* Lone surrogates parse but are not text (validation_failed). */
	v = parse("{\"h\":\"\\ud800\",\"l\":\"\\udc00\","
	    "\"x\":\"\\ud800\\u0041\","
	    "\"y\":\"a\\ud83d\\ud83d\\ude00b\",\"z\":\"\\ude00\\ud83d\","
	    "\"e\":\"x\\ud800\\n\\\"\"}");
	ck_assert_ptr_ne(v, NULL);
	s = json_get(v, "h");
	ck_assert_str_eq(s->text, "\xed\xa0\x80");
	ck_assert_int_eq(text_codepoints(s->text, s->len), -1);
	s = json_get(v, "l");
	ck_assert_str_eq(s->text, "\xed\xb0\x80");
	ck_assert_int_eq(text_codepoints(s->text, s->len), -1);
	/* Not paired with a following escape that is no low surrogate. */
	s = json_get(v, "x");
	ck_assert_str_eq(s->text, "\xed\xa0\x80" "A");
	ck_assert_int_eq(text_codepoints(s->text, s->len), -1);
	s = json_get(v, "y");
	ck_assert_str_eq(s->text, "a\xed\xa0\xbd\xf0\x9f\x98\x80" "b");
	ck_assert_int_eq(text_codepoints(s->text, s->len), -1);
	s = json_get(v, "z");
	ck_assert_int_eq(text_codepoints(s->text, s->len), -1);
	s = json_get(v, "e");
	ck_assert_str_eq(s->text, "x\xed\xa0\x80\n\"");
	json_free(v);

	/* An escaped backslash before "ud800" is no escape. */
	v = parse("{\"a\":\"\\\\ud800\",\"b\":\"\\\\\\ud83d\\ude00\"}");
	ck_assert_ptr_ne(v, NULL);
	ck_assert_str_eq(json_get(v, "a")->text, "\\ud800");
	ck_assert_str_eq(json_get(v, "b")->text, "\\\xf0\x9f\x98\x80");
	json_free(v);

	/* In keys too, and after strings that hold quotes. */
	v = parse("{\"q\\\"\":\"\\\"\",\"k\\ud800\":1,\"\\ud83d\\ude00\":2}");
	ck_assert_ptr_ne(v, NULL);
	ck_assert_uint_eq(v->count, 3);
	ck_assert_str_eq(v->members[1].key, "k\xed\xa0\x80");
	ck_assert_ptr_ne(json_get(v, "\xf0\x9f\x98\x80"), NULL);
	json_free(v);

	/* A lone high and a lone low surrogate are different keys. */
	assert_accepted("{\"\\ud800\":1,\"\\udc00\":2}");
	assert_rejected("{\"\\ud800\":1,\"\\uD800\":2}");
}
END_TEST

START_TEST(test_escapes)
{
	struct json	*v;

	v = parse("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t"
	    "\\u00e9\\u20ac\\u0041\"}");
	ck_assert_ptr_ne(v, NULL);
	ck_assert_str_eq(json_get(v, "a")->text,
	    "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac" "A");
	json_free(v);
}
END_TEST

START_TEST(test_numbers)
{
	struct json	*v;
	long long	 n;

	v = parse("{\"big\":18446744073709551616,\"max\":9223372036854775807,"
	    "\"min\":-9223372036854775808,\"over\":9223372036854775808,"
	    "\"under\":-9223372036854775809,\"huge\":1e400,\"frac\":1.5,"
	    "\"exp\":1E2,\"negz\":-0,\"zero\":0,\"fz\":1.0,\"s\":\"42\","
	    "\"n\":42,\"neg\":-7,\"long\":"
	    "123456789012345678901234567890123456789012345678901234567890}");
	ck_assert_ptr_ne(v, NULL);
	ck_assert_str_eq(json_get(v, "big")->text, "18446744073709551616");
	ck_assert_uint_eq(json_get(v, "big")->len, 20);
	ck_assert_str_eq(json_get(v, "huge")->text, "1e400");
	ck_assert_str_eq(json_get(v, "long")->text,
	    "123456789012345678901234567890123456789012345678901234567890");

	ck_assert_int_eq(json_integer(json_get(v, "max"), &n), 0);
	ck_assert(n == INT64_MAX);
	ck_assert_int_eq(json_integer(json_get(v, "min"), &n), 0);
	ck_assert(n == INT64_MIN);
	ck_assert_int_eq(json_integer(json_get(v, "n"), &n), 0);
	ck_assert(n == 42);
	ck_assert_int_eq(json_integer(json_get(v, "neg"), &n), 0);
	ck_assert(n == -7);
	ck_assert_int_eq(json_integer(json_get(v, "zero"), &n), 0);
	ck_assert(n == 0);
	ck_assert_int_eq(json_integer(json_get(v, "negz"), &n), 0);
	ck_assert(n == 0);

	n = 99;
	ck_assert_int_eq(json_integer(json_get(v, "over"), &n), -1);
	ck_assert_int_eq(json_integer(json_get(v, "under"), &n), -1);
	ck_assert_int_eq(json_integer(json_get(v, "big"), &n), -1);
	ck_assert_int_eq(json_integer(json_get(v, "huge"), &n), -1);
	ck_assert_int_eq(json_integer(json_get(v, "frac"), &n), -1);
	ck_assert_int_eq(json_integer(json_get(v, "exp"), &n), -1);
	ck_assert_int_eq(json_integer(json_get(v, "fz"), &n), -1);
	ck_assert_int_eq(json_integer(json_get(v, "s"), &n), -1);
	ck_assert_int_eq(json_integer(json_get(v, "long"), &n), -1);
	ck_assert_int_eq(json_integer(json_get(v, "absent"), &n), -1);
	ck_assert_int_eq(json_integer(v, &n), -1);
	ck_assert(n == 99);
	json_free(v);
}
END_TEST

START_TEST(test_get)
{
	struct json	*v;

	v = parse("{\"a\":[1],\"ab\":2,\"\":3}");
	ck_assert_ptr_ne(v, NULL);
	ck_assert_str_eq(json_get(v, "ab")->text, "2");
	ck_assert_str_eq(json_get(v, "")->text, "3");
	ck_assert_int_eq(json_get(v, "a")->type, JSON_ARRAY);
	ck_assert_ptr_eq(json_get(v, "b"), NULL);
	ck_assert_ptr_eq(json_get(v, "A"), NULL);
	ck_assert_ptr_eq(json_get(v, "abc"), NULL);
	ck_assert_ptr_eq(json_get(json_get(v, "a"), "0"), NULL);
	ck_assert_ptr_eq(json_get(json_get(v, "ab"), "ab"), NULL);
	ck_assert_ptr_eq(json_get(NULL, "a"), NULL);
	json_free(v);
	json_free(NULL);
}
END_TEST

START_TEST(test_gen_values)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", 42);
	json_gen_kid(g, "none", 0);
	json_gen_kid(g, "max", UINT64_MAX);
	json_gen_kstr(g, "s", "a\"b\\c\n\x01\xc3\xa9");
	json_gen_kstr(g, "null", NULL);
	json_gen_kint(g, "i", -9223372036854775807LL - 1);
	json_gen_kbool(g, "t", 1);
	json_gen_kbool(g, "f", 0);
	json_gen_kbool(g, "t2", 7);
	json_gen_knull(g, "n");
	json_gen_key(g, "k");
	json_gen_strn(g, "x\0y", 3);
	json_gen_key(g, "ids");
	yajl_gen_array_open(g);
	json_gen_id(g, 1);
	json_gen_id(g, 0);
	json_gen_str(g, "z");
	json_gen_str(g, NULL);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	assert_gen(g, "{\"id\":\"42\",\"none\":null,"
	    "\"max\":\"18446744073709551615\","
	    "\"s\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\",\"null\":null,"
	    "\"i\":-9223372036854775808,\"t\":true,\"f\":false,\"t2\":true,"
	    "\"n\":null,\"k\":\"x\\u0000y\",\"ids\":[\"1\",null,\"z\",null]}");
}
END_TEST

START_TEST(test_gen_invalid_utf8)
{
	yajl_gen	 g;
	struct json	*v;
	const char	*text;
	size_t		 len;

	/* Text that is not UTF-8 becomes null and the JSON stays valid. */
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_kstr(g, "a", "\xff");
	json_gen_kstr(g, "b", "ok");
	json_gen_kstr(g, "c", "\xc0\x80");		/* overlong */
	json_gen_kstr(g, "d", "\xed\xa0\x80");	/* surrogate */
	json_gen_kstr(g, "e", "\xf4\x90\x80\x80");	/* above U+10FFFF */
	json_gen_key(g, "f");
	json_gen_strn(g, "\0\xc3\xa9\0", 4);
	json_gen_key(g, "g");
	json_gen_strn(g, "\0\xc3", 2);
	yajl_gen_map_close(g);
	text = json_gen_text(g, &len);
	ck_assert_str_eq(text, "{\"a\":null,\"b\":\"ok\",\"c\":null,"
	    "\"d\":null,\"e\":null,\"f\":\"\\u0000\xc3\xa9\\u0000\","
	    "\"g\":null}");
	v = parse_len(text, len);
	ck_assert_ptr_ne(v, NULL);
	json_free(v);
	yajl_gen_free(g);
}
END_TEST

START_TEST(test_gen_empty)
{
	yajl_gen	 g;
	size_t		 len = 99;

	g = json_gen_new();
	ck_assert_str_eq(json_gen_text(g, &len), "");
	ck_assert_uint_eq(len, 0);
	yajl_gen_free(g);
}
END_TEST

START_TEST(test_time_format)
{
	static const struct {
		const char	*in;
		const char	*out;
	} good[] = {
		{ "2026-11-27 08:19:50.123", "2026-11-27T08:19:50.123Z" },
		{ "2026-11-27 08:19:50", "2026-11-27T08:19:50.000Z" },
		{ "2026-11-27 08:19:50.", "2026-11-27T08:19:50.000Z" },
		{ "2026-11-27 08:19:50.1", "2026-11-27T08:19:50.100Z" },
		{ "2026-11-27 08:19:50.12", "2026-11-27T08:19:50.120Z" },
		{ "2026-11-27 08:19:50.123456", "2026-11-27T08:19:50.123Z" },
		{ "2026-11-27 08:19:50.999999", "2026-11-27T08:19:50.999Z" },
		{ "1970-01-01 00:00:00.000", "1970-01-01T00:00:00.000Z" },
		{ "2026-11-27T08:19:50.5", "2026-11-27T08:19:50.500Z" },
	};
	static const char *bad[] = {
		"", "2026-11-27", "2026-11-27 08:19", "2026-11-27 08:19:5",
		"2026-11-27 08:19:50.1234567", "2026-11-27 08:19:50Z",
		"2026-11-27 08:19:50.123Z", "2026-11-27 08:19:50 ",
		"2026/11/27 08:19:50", "2026-11-27_08:19:50",
		"20261-1-27 08:19:50", "2026-11-27 08:19:5x", "x",
		"2026-11-27 08:19:50.12a",
	};
	char	buf[64];
	size_t	i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		memset(buf, 'X', sizeof buf);
		ck_assert_int_eq(json_time_format(good[i].in, buf, sizeof buf),
		    0);
		ck_assert_str_eq(buf, good[i].out);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(json_time_format(bad[i], buf, sizeof buf) == -1,
		    "accepted: %s", bad[i]);
	ck_assert_int_eq(json_time_format(NULL, buf, sizeof buf), -1);
	ck_assert_int_eq(json_time_format(good[0].in, buf, 24), -1);
	ck_assert_int_eq(json_time_format(good[0].in, buf, 25), 0);
	ck_assert_str_eq(buf, good[0].out);
}
END_TEST

START_TEST(test_gen_time)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_ktime(g, "a", "2026-11-27 08:19:50.123");
	json_gen_ktime(g, "b", "2026-11-27 08:19:50");
	json_gen_ktime(g, "c", "2026-11-27 08:19:50.123456");
	json_gen_ktime(g, "d", NULL);
	json_gen_ktime(g, "e", "garbage");
	yajl_gen_map_close(g);
	assert_gen(g, "{\"a\":\"2026-11-27T08:19:50.123Z\","
	    "\"b\":\"2026-11-27T08:19:50.000Z\","
	    "\"c\":\"2026-11-27T08:19:50.123Z\",\"d\":null,\"e\":null}");
}
END_TEST

START_TEST(test_gen_raw)
{
	static const char	 obj[] = "{\"x\":1,\"y\":[true,{}]}";
	yajl_gen		 g;
	struct json		*v;
	const char		*text;
	size_t			 len;

	/* In an array: first, middle and last, between plain values. */
	g = json_gen_new();
	yajl_gen_array_open(g);
	json_gen_raw(g, obj, strlen(obj));
	json_gen_str(g, "a");
	json_gen_raw(g, "[1,2]", 5);
	json_gen_raw(g, "{}", 2);
	json_gen_id(g, 3);
	json_gen_raw(g, "\"s\"", 3);
	yajl_gen_array_close(g);
	assert_gen(g, "[{\"x\":1,\"y\":[true,{}]},\"a\",[1,2],{},\"3\",\"s\"]");

	/* In an object: first, middle, last, nested, and null. */
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_kraw(g, "p", obj, strlen(obj));
	json_gen_kstr(g, "a", "x");
	json_gen_kraw(g, "q", "[]", 2);
	json_gen_kraw(g, "r", "{\"z\":null}", 10);
	json_gen_key(g, "in");
	yajl_gen_map_open(g);
	json_gen_kraw(g, "d", obj, strlen(obj));
	yajl_gen_map_close(g);
	json_gen_kraw(g, "n", NULL, 0);
	json_gen_kint(g, "b", 1);
	json_gen_kraw(g, "e", "{}", 2);
	yajl_gen_map_close(g);
	text = json_gen_text(g, &len);
	ck_assert_str_eq(text, "{\"p\":{\"x\":1,\"y\":[true,{}]},\"a\":\"x\","
	    "\"q\":[],\"r\":{\"z\":null},\"in\":{\"d\":{\"x\":1,\"y\":[true,"
	    "{}]}},\"n\":null,\"b\":1,\"e\":{}}");
	v = parse_len(text, len);
	ck_assert_ptr_ne(v, NULL);
	ck_assert_str_eq(json_get(json_get(v, "p"), "x")->text, "1");
	json_free(v);
	yajl_gen_free(g);

	/* As the whole document. */
	g = json_gen_new();
	json_gen_raw(g, obj, strlen(obj));
	assert_gen(g, obj);
}
END_TEST

/* Collect the tests into a suite. */
static Suite *
json_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("json");

	tc = tcase_create("parse");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_whitespace);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_trailing_garbage);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_not_object);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_depth_objects);
	tcase_add_test(tc, test_depth_arrays);
	tcase_add_test(tc, test_depth_huge);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_duplicates_many);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_nul_escape);
	tcase_add_test(tc, test_surrogate_escapes);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_get);
	suite_add_tcase(s, tc);

	tc = tcase_create("gen");
	tcase_add_test(tc, test_gen_values);
	tcase_add_test(tc, test_gen_invalid_utf8);
	tcase_add_test(tc, test_gen_empty);
	tcase_add_test(tc, test_time_format);
	tcase_add_test(tc, test_gen_time);
	tcase_add_test(tc, test_gen_raw);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(json_suite());
}
