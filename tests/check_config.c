/* SPDX-License-Identifier: ISC */
/* check_config.c: unit tests of the configuration file reader. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"
#include "check_run.h"

#define KEY64	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char	path[] = "/tmp/check_config.XXXXXX";

/* Write text to a fresh temporary file and load it; config_load's result. */
static int
load(struct config *c, const char *text)
{
	int	fd;

	strcpy(path, "/tmp/check_config.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	config_init(c);
	return config_load(c, path);
}

static const char good[] =
    "# a comment\n"
    "[database]\n"
    "host = 127.0.0.1\n"
    "port = 3307\n"
    "user = sohbet\n"
    "password = \"p#ss word\"\n"
    "name = sohbet   # trailing comment\n"
    "\n"
    "[server]\n"
    "listen = /run/sohbet/fcgi.sock\n"
    "workers = 3\n"
    "[auth]\n"
    "token_key = " KEY64 "\n"
    "scrypt_n = 1024\n"
    "[events]\n"
    "sequencer = db\n";

START_TEST(test_good_file)
{
	struct config	c;

	ck_assert_int_eq(load(&c, good), 0);
	ck_assert_str_eq(c.db_host, "127.0.0.1");
	ck_assert_uint_eq(c.db_port, 3307);
	ck_assert_str_eq(c.db_password, "p#ss word");
	ck_assert_str_eq(c.db_name, "sohbet");
	ck_assert_str_eq(c.listen, "/run/sohbet/fcgi.sock");
	ck_assert_int_eq(config_workers(&c), 3);
	ck_assert_uint_eq(c.scrypt_n, 1024);
	ck_assert_str_eq(c.sequencer, "db");
	/* Defaults stay where the file is silent. */
	ck_assert_int_eq(c.retention_days, 7);
	ck_assert_int_eq(c.access_ttl, 900);
	ck_assert_uint_eq(c.scrypt_r, 8);
	config_clear(&c);
	unlink(path);
}
END_TEST

/* Load text that must be refused. */
static void
refused(const char *text)
{
	struct config	c;

	ck_assert_int_eq(load(&c, text), -1);
	config_clear(&c);
	unlink(path);
}

START_TEST(test_unknown_key)
{
	refused("[database]\nuser = a\nname = b\ncolour = red\n"
	    "[auth]\ntoken_key = " KEY64 "\n");
}
END_TEST

START_TEST(test_unknown_section)
{
	refused("[databse]\nuser = a\n");
}
END_TEST

START_TEST(test_missing_required)
{
	refused("[database]\nuser = a\n[auth]\ntoken_key = " KEY64 "\n");
	refused("[database]\nuser = a\nname = b\n");
}
END_TEST

START_TEST(test_bad_numbers)
{
	refused("[database]\nuser = a\nname = b\nport = 70000\n"
	    "[auth]\ntoken_key = " KEY64 "\n");
	refused("[database]\nuser = a\nname = b\nport = 33o6\n"
	    "[auth]\ntoken_key = " KEY64 "\n");
	refused("[database]\nuser = a\nname = b\n"
	    "[auth]\ntoken_key = " KEY64 "\nscrypt_n = 1000\n");
}
END_TEST

START_TEST(test_auth_limits)
{
	struct config	c;

	/* The hashing, throttling and refresh keys, and their defaults. */
	ck_assert_int_eq(load(&c, "[database]\nuser = a\nname = b\n"
	    "[auth]\ntoken_key = " KEY64 "\nhash_threads = 2\n"
	    "hash_queue = 3\nlogin_free = 4\nrefresh_grace = 0\n"), 0);
	ck_assert_int_eq(c.hash_threads, 2);
	ck_assert_int_eq(c.hash_queue, 3);
	ck_assert_int_eq(c.login_free, 4);
	ck_assert_int_eq(c.refresh_grace, 0);
	ck_assert_int_eq(c.address_free, 100);
	ck_assert_int_eq(c.login_delay_max, 300);
	config_clear(&c);
	unlink(path);

	/* The old account lock's key is read, and changes nothing. */
	ck_assert_int_eq(load(&c, "[database]\nuser = a\nname = b\n"
	    "[auth]\ntoken_key = " KEY64 "\nmax_failed_logins = 7\n"), 0);
	ck_assert_int_eq(c.login_free, 5);
	config_clear(&c);
	unlink(path);

	refused("[database]\nuser = a\nname = b\n"
	    "[auth]\ntoken_key = " KEY64 "\nhash_threads = 0\n");
	refused("[database]\nuser = a\nname = b\n"
	    "[auth]\ntoken_key = " KEY64 "\nrefresh_grace = 61\n");
}
END_TEST

START_TEST(test_short_token_key)
{
	refused("[database]\nuser = a\nname = b\n[auth]\ntoken_key = abcd\n");
	refused("[database]\nuser = a\nname = b\n[auth]\ntoken_key = "
	    "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
}
END_TEST

START_TEST(test_bad_sequencer)
{
	refused("[database]\nuser = a\nname = b\n[auth]\ntoken_key = " KEY64
	    "\n[events]\nsequencer = redis\n");
}
END_TEST

START_TEST(test_syntax)
{
	refused("[database\nuser = a\n");
	refused("[database]\njust words\n");
}
END_TEST

START_TEST(test_include)
{
	struct config	 c;
	char		 secret[] = "/tmp/check_config_secret.XXXXXX";
	char		*text;
	const char	 body[] = "[database]\npassword = s3cret\n[auth]\n"
	    "token_key = " KEY64 "\n";
	int		 fd;

	fd = mkstemp(secret);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	xasprintf(&text, "[database]\nuser = a\nname = b\ninclude = %s\n",
	    secret);
	ck_assert_int_eq(load(&c, text), 0);
	ck_assert_str_eq(c.db_password, "s3cret");
	ck_assert_str_eq(c.db_user, "a");
	config_clear(&c);
	unlink(path);
	free(text);
	/* A missing include stops start-up like a missing file. */
	refused("[database]\nuser = a\nname = b\ninclude = /nonexistent\n"
	    "[auth]\ntoken_key = " KEY64 "\n");
	unlink(secret);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config	c;

	config_init(&c);
	ck_assert_int_eq(config_load(&c, "/nonexistent/sohbet.conf"), -1);
	config_clear(&c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");

	log_init("check_config", 0);
	tcase_add_test(tc, test_good_file);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_unknown_section);
	tcase_add_test(tc, test_missing_required);
	tcase_add_test(tc, test_bad_numbers);
	tcase_add_test(tc, test_auth_limits);
	tcase_add_test(tc, test_short_token_key);
	tcase_add_test(tc, test_bad_sequencer);
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	return check_run(s);
}
