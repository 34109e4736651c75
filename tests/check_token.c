/* SPDX-License-Identifier: ISC */
/*
 * check_token.c: unit tests of the access tokens (HS256 JWTs) and of the
 * base64url coding under them.  Tokens are forged with forge.c's
 * independent signer, so any header and payload can be tried.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sohbet.h"
#include "forge.h"
#include "check_run.h"

#define KEY_HEX		"000102030405060708090a0b0c0d0e0f" \
			"101112131415161718191a1b1c1d1e1f"
#define TOKEN_MAX	1024	/* token.c's limit on a token's length */
#define HS256		"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static struct config	test_cfg;

/* Point cfg at a configuration with the test key. */
static void
setup(void)
{
	config_init(&test_cfg);
	test_cfg.token_key = xstrdup(KEY_HEX);
	cfg = &test_cfg;
}

/* A correctly signed token of a header and a payload (JSON text). */
static char *
forge(const char *header, const char *payload)
{
	return forge_token(KEY_HEX, header, payload);
}

/* A payload for user 42 at generation 3 expiring at exp. */
static char *
payload_exp(long long exp)
{
	char	*p;

	xasprintf(&p, "{\"sub\":\"42\",\"gen\":3,\"iat\":%lld,\"exp\":%lld}",
	    (long long)time(NULL), exp);
	return p;
}

/* Verify a token and say whether it was accepted. */
static int
accepted(const char *token)
{
	uint64_t	user_id;
	unsigned int	gen;

	return token_verify(token, &user_id, &gen) == 0;
}

/* Assert that a signed token of header and payload is refused. */
static void
refused_forged(const char *header, const char *payload)
{
	char	*t;

	t = forge(header, payload);
	ck_assert_msg(!accepted(t), "accepted header %s payload %s", header,
	    payload);
	free(t);
}

START_TEST(test_round_trip)
{
	char		*t;
	uint64_t	 user_id = 0;
	unsigned int	 gen = 0;

	t = token_issue(12345678901234ULL, 7, 900);
	ck_assert_int_eq(token_verify(t, &user_id, &gen), 0);
	ck_assert_uint_eq(user_id, 12345678901234ULL);
	ck_assert_uint_eq(gen, 7);
	free(t);

	/* The largest id and generation survive too. */
	t = token_issue(UINT64_MAX, UINT32_MAX, 60);
	ck_assert_int_eq(token_verify(t, &user_id, &gen), 0);
	ck_assert_uint_eq(user_id, UINT64_MAX);
	ck_assert_uint_eq(gen, UINT32_MAX);
	free(t);
}
END_TEST

/* The integer claim of a payload, asserting that it is one. */
static long long
claim_int(const struct json *payload, const char *name)
{
	long long	v;

	ck_assert_msg(json_get(payload, name) != NULL &&
	    json_integer(json_get(payload, name), &v) == 0, "no integer %s",
	    name);
	return v;
}

START_TEST(test_issued_shape)
{
	struct json	*claims, *sub;
	char		*t, *head, *pay, *want, *sig;
	const char	*dot1, *dot2;
	long long	 iat;
	time_t		 now = time(NULL);

	t = token_issue(42, 3, 900);
	dot1 = strchr(t, '.');
	ck_assert_ptr_nonnull(dot1);
	dot2 = strchr(dot1 + 1, '.');
	ck_assert_ptr_nonnull(dot2);
	head = forge_segment(t, (size_t)(dot1 - t));
	ck_assert_ptr_nonnull(head);
	ck_assert_str_eq(head, HS256);

	/* sub (a string, as ids are), gen, iat now and exp 900 s on. */
	pay = forge_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	ck_assert_ptr_nonnull(pay);
	ck_assert_int_eq(json_parse(pay, strlen(pay), &claims), 0);
	sub = json_get(claims, "sub");
	ck_assert_msg(sub != NULL && sub->type == JSON_STRING &&
	    strcmp(sub->text, "42") == 0, "payload %s", pay);
	ck_assert_int_eq(claim_int(claims, "gen"), 3);
	iat = claim_int(claims, "iat");
	ck_assert_msg(iat >= now - 1 && iat <= now + 1, "iat %lld", iat);
	ck_assert_int_eq(claim_int(claims, "exp") - iat, 900);
	json_free(claims);

	/* The signature is HMAC-SHA256 of "header.payload" with the key. */
	want = xstrndup(t, (size_t)(dot2 - t));
	sig = forge_sign(KEY_HEX, want);
	ck_assert_str_eq(dot2 + 1, sig);
	free(t);
	free(head);
	free(pay);
	free(want);
	free(sig);
}
END_TEST

START_TEST(test_forged_good)
{
	char	*p, *t;

	/* The independent signer makes tokens token_verify accepts. */
	p = payload_exp((long long)time(NULL) + 60);
	t = forge(HS256, p);
	ck_assert(accepted(t));
	free(t);
	t = forge("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", p);
	ck_assert(accepted(t));
	free(t);
	free(p);
}
END_TEST

START_TEST(test_tampered_signature)
{
	char	*t, *longer, saved;
	size_t	 len, i;

	t = token_issue(42, 3, 900);
	len = strlen(t);
	/* Any changed character of the signature: the middle and the end. */
	i = len - 20;
	saved = t[i];
	t[i] = saved == 'A' ? 'B' : 'A';
	ck_assert(!accepted(t));
	t[i] = saved;
	ck_assert(accepted(t));
	t[len - 1] = t[len - 1] == 'A' ? 'E' : 'A';
	ck_assert(!accepted(t));
	free(t);

	/* A truncated, missing or over-long signature. */
	t = token_issue(42, 3, 900);
	t[strlen(t) - 4] = '\0';
	ck_assert(!accepted(t));
	*(strrchr(t, '.') + 1) = '\0';
	ck_assert(!accepted(t));
	free(t);
	t = token_issue(42, 3, 900);
	xasprintf(&longer, "%sAAAA", t);
	ck_assert(!accepted(longer));
	free(t);
	free(longer);
}
END_TEST

START_TEST(test_tampered_payload)
{
	char	*t, *forged, *p, *pay64, *rest;

	/* Another user's payload under the original signature. */
	t = token_issue(42, 3, 900);
	p = payload_exp((long long)time(NULL) + 900);
	p[8] = '3';	/* "sub":"32" */
	pay64 = forge_b64(p, strlen(p));
	rest = strrchr(t, '.');
	*strchr(t, '.') = '\0';
	xasprintf(&forged, "%s.%s%s", t, pay64, rest);
	ck_assert(!accepted(forged));
	free(t);
	free(p);
	free(pay64);
	free(forged);
}
END_TEST

START_TEST(test_tampered_header)
{
	char	*t, *head64, *forged;

	/* A different header (even an equivalent one) breaks the signature. */
	t = token_issue(42, 3, 900);
	head64 = forge_b64("{\"alg\":\"HS256\"}", 15);
	xasprintf(&forged, "%s%s", head64, strchr(t, '.'));
	ck_assert(!accepted(forged));
	free(t);
	free(head64);
	free(forged);
}
END_TEST

START_TEST(test_alg_none)
{
	char	*p, *h, *pay, *t;

	p = payload_exp((long long)time(NULL) + 900);
	/* Unsigned, as "none" means. */
	h = forge_b64("{\"alg\":\"none\",\"typ\":\"JWT\"}", 26);
	pay = forge_b64(p, strlen(p));
	xasprintf(&t, "%s.%s.", h, pay);
	ck_assert(!accepted(t));
	free(t);
	/* Even signed with the right key, only HS256 is taken. */
	refused_forged("{\"alg\":\"none\",\"typ\":\"JWT\"}", p);
	refused_forged("{\"alg\":\"None\"}", p);
	free(h);
	free(pay);
	free(p);
}
END_TEST

START_TEST(test_other_algs)
{
	static const char	*headers[] = {
		"{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
		"{\"alg\":\"HS384\"}",
		"{\"alg\":\"RS256\"}",
		"{\"alg\":\"hs256\"}",
		"{\"alg\":\"HS256 \"}",
		"{\"alg\":\"HS256\\u0000\"}",
		"{\"alg\":[\"HS256\"]}",
		"{\"alg\":null}",
		"{\"typ\":\"JWT\"}",		/* missing alg */
		"{}",
		"{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
		"{\"alg\":\"HS256\",\"alg\":\"none\"}",	/* duplicate key */
		"[\"HS256\"]",
		"not json",
		"",
	};
	char			*p;
	size_t			 i;

	p = payload_exp((long long)time(NULL) + 900);
	for (i = 0; i < sizeof headers / sizeof headers[0]; i++)
		refused_forged(headers[i], p);
	free(p);
}
END_TEST

START_TEST(test_expired)
{
	char	*p, *t;
	time_t	 now = time(NULL);

	p = payload_exp((long long)now - 1);
	refused_forged(HS256, p);
	free(p);
	p = payload_exp(0);
	refused_forged(HS256, p);
	free(p);
	/* A token is dead at its exp second. */
	p = payload_exp((long long)now);
	refused_forged(HS256, p);
	free(p);

	/* One issued with a negative lifetime is dead at once. */
	t = token_issue(42, 3, -1);
	ck_assert(!accepted(t));
	free(t);
}
END_TEST

START_TEST(test_bad_claims)
{
	static const char	*payloads[] = {
		"{\"gen\":3,\"exp\":%lld}",			/* no sub */
		"{\"sub\":42,\"gen\":3,\"exp\":%lld}",		/* sub a number */
		"{\"sub\":\"0\",\"gen\":3,\"exp\":%lld}",
		"{\"sub\":\"042\",\"gen\":3,\"exp\":%lld}",
		"{\"sub\":\"4x\",\"gen\":3,\"exp\":%lld}",
		"{\"sub\":\"42\\u0000\",\"gen\":3,\"exp\":%lld}",
		"{\"sub\":\"18446744073709551616\",\"gen\":3,\"exp\":%lld}",
		"{\"sub\":\"42\",\"exp\":%lld}",			/* no gen */
		"{\"sub\":\"42\",\"gen\":-1,\"exp\":%lld}",
		"{\"sub\":\"42\",\"gen\":4294967296,\"exp\":%lld}",
		"{\"sub\":\"42\",\"gen\":\"3\",\"exp\":%lld}",
		"{\"sub\":\"42\",\"gen\":3,\"exp\":\"%lld\"}",
		"{\"sub\":\"42\",\"gen\":3,\"exp\":%lld.5}",
		"{\"sub\":\"42\",\"gen\":3,\"iat\":%lld}",		/* no exp */
		"[\"sub\",\"42\",%lld]",
	};
	char			*p;
	size_t			 i;

	for (i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		xasprintf(&p, payloads[i], (long long)time(NULL) + 900);
		refused_forged(HS256, p);
		free(p);
	}
}
END_TEST

START_TEST(test_malformed_base64url)
{
	char	*p, *h, *pay, *t;

	p = payload_exp((long long)time(NULL) + 900);
	h = forge_b64(HS256, strlen(HS256));
	pay = forge_b64(p, strlen(p));

	/* Signed correctly, but a segment is not unpadded base64url. */
	t = forge_join(KEY_HEX, h, "e30=");			/* padding */
	ck_assert(!accepted(t));
	free(t);
	t = forge_join(KEY_HEX, "eyJhbGciOiJIUzI1NiJ9+", pay);	/* '+' */
	ck_assert(!accepted(t));
	free(t);
	t = forge_join(KEY_HEX, h, "@@@@");
	ck_assert(!accepted(t));
	free(t);
	t = forge_join(KEY_HEX, h, "");
	ck_assert(!accepted(t));
	free(t);
	t = forge_join(KEY_HEX, "", pay);
	ck_assert(!accepted(t));
	free(t);

	/* A control: the same parts, correctly encoded, are accepted. */
	t = forge_join(KEY_HEX, h, pay);
	ck_assert(accepted(t));
	free(t);
	free(h);
	free(pay);
	free(p);
}
END_TEST

START_TEST(test_segment_count)
{
	char	*t, *more;

	t = token_issue(42, 3, 900);
	xasprintf(&more, "%s.%s", t, strrchr(t, '.') + 1);
	ck_assert(!accepted(more));
	free(more);
	xasprintf(&more, "%s.", t);
	ck_assert(!accepted(more));
	free(more);
	*strrchr(t, '.') = '\0';
	ck_assert(!accepted(t));
	*strchr(t, '.') = '\0';
	ck_assert(!accepted(t));
	free(t);
	ck_assert(!accepted(""));
	ck_assert(!accepted("."));
	ck_assert(!accepted(".."));
	ck_assert(!accepted("..."));
}
END_TEST

/* A signed, valid token padded to exactly len characters. */
static char *
token_of_length(size_t len)
{
	char	*p, *t;
	size_t	 pad;

	for (pad = 0; pad < 2 * len; pad++) {
		xasprintf(&p, "{\"sub\":\"42\",\"gen\":3,\"exp\":%lld,"
		    "\"pad\":\"%*s\"}", (long long)time(NULL) + 900, (int)pad,
		    "");
		t = forge(HS256, p);
		free(p);
		if (strlen(t) == len)
			return t;
		free(t);
	}
	ck_abort_msg("no token of length %zu", len);
	return NULL;
}

START_TEST(test_over_long)
{
	char	*t;

	t = token_of_length(TOKEN_MAX);
	ck_assert(accepted(t));
	free(t);
	t = token_of_length(TOKEN_MAX + 1);
	ck_assert(!accepted(t));
	free(t);
	t = token_of_length(8 * TOKEN_MAX);
	ck_assert(!accepted(t));
	free(t);
}
END_TEST

START_TEST(test_bad_key)
{
	char	*t;

	/* A key that does not decode signs nothing, not even half of it. */
	free(test_cfg.token_key);
	test_cfg.token_key = xstrdup("0011223344556677zz" KEY_HEX);
	t = forge(HS256, "{\"sub\":\"42\",\"gen\":3,\"exp\":9999999999}");
	ck_assert(!accepted(t));
	ck_assert(!accepted(t));
	free(t);
	t = token_issue(42, 3, 900);	/* fatal: exits 1 */
	free(t);
}
END_TEST

/* Assert that encoding bytes gives text, and decoding gives them back. */
static void
vector(const char *bytes, size_t len, const char *text)
{
	char		out[256];
	unsigned char	back[256];
	long		n;

	ck_assert(len < 180);
	ck_assert_uint_eq(token_b64url_encode((const unsigned char *)bytes,
	    len, out), strlen(text));
	ck_assert_str_eq(out, text);
	n = token_b64url_decode(text, strlen(text), back, sizeof back);
	ck_assert_int_eq(n, (long)len);
	ck_assert(memcmp(back, bytes, len) == 0);
}

START_TEST(test_b64url_vectors)
{
	/* RFC 4648, section 10, without padding. */
	vector("", 0, "");
	vector("f", 1, "Zg");
	vector("fo", 2, "Zm8");
	vector("foo", 3, "Zm9v");
	vector("foob", 4, "Zm9vYg");
	vector("fooba", 5, "Zm9vYmE");
	vector("foobar", 6, "Zm9vYmFy");
	/* The URL-safe alphabet: '-' and '_' where base64 has '+' and '/'. */
	vector("\xfb\xff", 2, "-_8");
	vector("\xff\xfe\xfd", 3, "__79");
	vector("\0", 1, "AA");
	vector("\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93"
	    "\x51\x55\x97\x61\x96\x9b\x71\xd7\x9f\x82\x18\xa3\x92\x59\xa7\xa2"
	    "\x9a\xab\xb2\xdb\xaf\xc3\x1c\xb3\xd3\x5d\xb7\xe3\x9e\xbb\xf3\xdf"
	    "\xbf", 48, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123"
	    "456789-_");
}
END_TEST

/* Assert that text is refused by the decoder. */
static void
undecodable(const char *text)
{
	unsigned char	out[64];

	ck_assert_msg(token_b64url_decode(text, strlen(text), out,
	    sizeof out) == -1, "decoded \"%s\"", text);
}

START_TEST(test_b64url_malformed)
{
	unsigned char	out[4];

	undecodable("Zg==");		/* padding */
	undecodable("Zm9v+A");		/* standard alphabet */
	undecodable("Zm9v/A");
	undecodable("Zm 9v");
	undecodable("Z");		/* a length of 4n + 1 */
	undecodable("Zm9vY");
	undecodable("Zh");		/* non-zero leftover bits */
	undecodable("Zm9");
	undecodable("Zm9v\x80");

	/* It never writes past the buffer. */
	ck_assert_int_eq(token_b64url_decode("Zm9vYg", 6, out, 3), -1);
	ck_assert_int_eq(token_b64url_decode("Zm9vYg", 6, out, 4), 4);
}
END_TEST

static Suite *
token_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("token");
	tc = tcase_create("jwt");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_issued_shape);
	tcase_add_test(tc, test_forged_good);
	tcase_add_test(tc, test_tampered_signature);
	tcase_add_test(tc, test_tampered_payload);
	tcase_add_test(tc, test_tampered_header);
	tcase_add_test(tc, test_alg_none);
	tcase_add_test(tc, test_other_algs);
	tcase_add_test(tc, test_expired);
	tcase_add_test(tc, test_bad_claims);
	tcase_add_test(tc, test_malformed_base64url);
	tcase_add_test(tc, test_segment_count);
	tcase_add_test(tc, test_over_long);
	tcase_add_exit_test(tc, test_bad_key, 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64url");
	tcase_add_test(tc, test_b64url_vectors);
	tcase_add_test(tc, test_b64url_malformed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(token_suite());
}
