/* SPDX-License-Identifier: ISC */
/*
 * check_password.c: unit tests of password hashing: the stored string's
 * format, verification, the upgrade flag and stored strings that cannot
 * be read.  The parameters are small (N = 1024) so the tests run fast.
 */
#include <check.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"
#include "check_run.h"

#define PW		"correct horse battery"
#define PREFIX_LEN	22	/* "$scrypt$ln=10,r=8,p=1$" */
#define SALT64_LEN	22
#define SALT64		"AAECAwQFBgcICQoLDA0ODw"	/* bytes 0 .. 15 */
/* Made with Python's hashlib.scrypt, an independent implementation. */
#define KNOWN_N1024	"$scrypt$ln=10,r=8,p=1$" SALT64 \
			"$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWk"
#define KNOWN_N16	"$scrypt$ln=4,r=2,p=3$" SALT64 \
			"$xiwmjytlRaMCzTUCPzTJh8HIijoOWB5eXFI0D-vQoc4"

static struct config	test_cfg;

/* Point cfg at a configuration with small scrypt parameters. */
static void
setup(void)
{
	config_init(&test_cfg);
	test_cfg.token_key = xstrdup("000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f");
	test_cfg.scrypt_n = 1024;
	test_cfg.scrypt_r = 8;
	test_cfg.scrypt_p = 1;
	cfg = &test_cfg;
}

/* Hash a password with the current parameters; the caller frees it. */
static char *
hash(const char *pw)
{
	char	*h;

	h = password_hash(pw, strlen(pw));
	ck_assert_ptr_nonnull(h);
	return h;
}

/* Verify pw against stored; assert the result and the upgrade flag. */
static void
verify(const char *pw, const char *stored, int want, int want_upgrade)
{
	int	upgrade = -1, rc;

	rc = password_verify(pw, strlen(pw), stored, &upgrade);
	ck_assert_msg(rc == want, "verify \"%s\" against %s: %d, want %d", pw,
	    stored, rc, want);
	ck_assert_msg(upgrade == want_upgrade, "verify \"%s\" against %s: "
	    "upgrade %d, want %d", pw, stored, upgrade, want_upgrade);
}

START_TEST(test_format)
{
	regex_t	 re;
	char	*h;

	/* 16 bytes of salt and 32 of key, both unpadded base64url. */
	ck_assert_int_eq(regcomp(&re, "^\\$scrypt\\$ln=10,r=8,p=1\\$"
	    "[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$", REG_EXTENDED | REG_NOSUB),
	    0);
	h = hash(PW);
	ck_assert_msg(regexec(&re, h, 0, NULL, 0) == 0, "stored %s", h);
	free(h);

	/* The parameters written are the configured ones. */
	test_cfg.scrypt_n = 16;
	test_cfg.scrypt_r = 2;
	test_cfg.scrypt_p = 3;
	h = hash(PW);
	ck_assert_msg(strncmp(h, "$scrypt$ln=4,r=2,p=3$", 21) == 0, "stored %s",
	    h);
	free(h);
	regfree(&re);
}
END_TEST

START_TEST(test_round_trip)
{
	char	*h;

	h = hash(PW);
	verify(PW, h, 1, 0);
	free(h);

	/* Any text: multi-byte characters, and the longest allowed. */
	h = hash("p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91");
	verify("p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91", h, 1, 0);
	verify("passw\xc3\xb6rd \xf0\x9f\x94\x91", h, 0, 0);
	free(h);
}
END_TEST

START_TEST(test_salted)
{
	char	*a, *b;

	/* The same password twice gives two different strings. */
	a = hash(PW);
	b = hash(PW);
	ck_assert_str_ne(a, b);
	ck_assert(strncmp(a + PREFIX_LEN, b + PREFIX_LEN, SALT64_LEN) != 0);
	verify(PW, a, 1, 0);
	verify(PW, b, 1, 0);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_wrong_password)
{
	char	*h;

	h = hash(PW);
	verify("correct horse batterY", h, 0, 0);
	verify("correct horse battery ", h, 0, 0);
	verify("correct horse batter", h, 0, 0);
	verify("", h, 0, 0);
	free(h);
}
END_TEST

START_TEST(test_known_answer)
{
	/* Strings another implementation made verify here. */
	verify(PW, KNOWN_N1024, 1, 0);
	verify("correct horse", KNOWN_N1024, 0, 0);

	/* Other parameters verify too, and ask for an upgrade. */
	verify(PW, KNOWN_N16, 1, 1);
	verify("wrong horse battery", KNOWN_N16, 0, 0);
}
END_TEST

START_TEST(test_upgrade)
{
	char	*h;

	h = hash(PW);
	/* Stronger parameters configured since: upgrade on a match only. */
	test_cfg.scrypt_n = 2048;
	verify(PW, h, 1, 1);
	verify("wrong", h, 0, 0);
	test_cfg.scrypt_n = 1024;
	test_cfg.scrypt_r = 16;
	verify(PW, h, 1, 1);
	test_cfg.scrypt_r = 8;
	test_cfg.scrypt_p = 2;
	verify(PW, h, 1, 1);
	test_cfg.scrypt_p = 1;
	verify(PW, h, 1, 0);
	free(h);
}
END_TEST

START_TEST(test_unreadable)
{
	static const char	*stored[] = {
		"",
		"hunter22",
		PW,
		"$scrypt$",
		"$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$c29tZWtleQ",
		"$scrypt$ln=10,r=8$" SALT64 "$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvy"
		    "pfAlYOWk",
		"$scrypt$ln=0,r=8,p=1$" SALT64 "$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIK"
		    "vypfAlYOWk",
		"$scrypt$ln=25,r=8,p=1$" SALT64 "$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZI"
		    "KvypfAlYOWk",
		"$scrypt$ln=10,r=0,p=1$" SALT64 "$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZI"
		    "KvypfAlYOWk",
		"$scrypt$ln=10,r=8,p=17$" SALT64 "$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZ"
		    "IKvypfAlYOWk",
		"$scrypt$ln=10,r=8,p=1$" SALT64 "$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZI"
		    "KvypfAlYOWk$",
		"$scrypt$ln=10,r=8,p=1$" SALT64 "$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZI"
		    "KvypfAlYOWkAA",
		"$scrypt$ln=10,r=8,p=1$" SALT64 "$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZI"
		    "KvypfAlYOW",
		"$scrypt$ln=10,r=8,p=1$" SALT64 "$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZI"
		    "KvypfAlYOWk=",
		"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0O$hKGWL22WtdGfIbxEPAZ06B"
		    "S2bWyYKuZIKvypfAlYOWk",
		"$scrypt$ln=10,r=8,p=1$$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOW"
		    "k",
		" " KNOWN_N1024,
		"$SCRYPT$ln=10,r=8,p=1$" SALT64 "$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZI"
		    "KvypfAlYOWk",
	};
	size_t			 i;

	/* No match (and no upgrade), whatever the password. */
	for (i = 0; i < sizeof stored / sizeof stored[0]; i++) {
		verify(PW, stored[i], 0, 0);
		verify(stored[i], stored[i], 0, 0);
	}
}
END_TEST

static Suite *
password_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("password");
	tc = tcase_create("scrypt");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_salted);
	tcase_add_test(tc, test_wrong_password);
	tcase_add_test(tc, test_known_answer);
	tcase_add_test(tc, test_upgrade);
	tcase_add_test(tc, test_unreadable);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(password_suite());
}
