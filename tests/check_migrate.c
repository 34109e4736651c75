/* SPDX-License-Identifier: ISC */
/*
 * check_migrate.c: unit tests of migrate.c that need no database: the
 * schema version sohbetd needs (SCHEMA_VERSION) is the number of the
 * newest file in sql/, versions are compared the way the master and the
 * workers refuse or accept a database, and a file is split into the
 * statements the server is sent.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"
#include "check_run.h"

#ifndef SRCDIR
#error "SRCDIR (the source tree, which holds sql/) must be defined"
#endif

/* Create an empty file dir/name. */
static void
touch(const char *dir, const char *name)
{
	char	*path;
	FILE	*f;

	xasprintf(&path, "%s/%s", dir, name);
	ck_assert_msg((f = fopen(path, "w")) != NULL, "cannot create %s",
	    path);
	fclose(f);
	free(path);
}

/* Remove dir/name. */
static void
rm(const char *dir, const char *name)
{
	char	*path;

	xasprintf(&path, "%s/%s", dir, name);
	unlink(path);
	free(path);
}

START_TEST(test_schema_version_is_newest_file)
{
	unsigned int	latest = 0;

	ck_assert_int_eq(migrate_latest(SRCDIR "/sql", &latest), 0);
	ck_assert_msg(latest == SCHEMA_VERSION, "the newest migration in "
	    SRCDIR "/sql is %03u but SCHEMA_VERSION in src/sohbet.h is %u: "
	    "raise SCHEMA_VERSION with every new migration", latest,
	    SCHEMA_VERSION);
}
END_TEST

START_TEST(test_latest_by_number)
{
	char		dir[] = "/tmp/check_migrate.XXXXXX";
	unsigned int	latest = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* Nothing that looks like a migration: an error, not version 0. */
	touch(dir, "README");
	ck_assert_int_eq(migrate_latest(dir, &latest), -1);
	/* Numbers, not names, order them; other files are ignored. */
	touch(dir, "002_b.sql");
	touch(dir, "010_a.sql");
	touch(dir, "9_c.sql");
	touch(dir, "011.sql");
	touch(dir, "012_d.sql.orig");
	ck_assert_int_eq(migrate_latest(dir, &latest), 0);
	ck_assert_uint_eq(latest, 10);
	rm(dir, "README");
	rm(dir, "002_b.sql");
	rm(dir, "010_a.sql");
	rm(dir, "9_c.sql");
	rm(dir, "011.sql");
	rm(dir, "012_d.sql.orig");
	rmdir(dir);
}
END_TEST

START_TEST(test_check_older)
{
	char	msg[160], want[32];

	ck_assert_int_eq(db_schema_compare(SCHEMA_VERSION - 1, msg, sizeof msg),
	    -1);
	ck_assert_msg(strstr(msg, "run sohbetctl migrate") != NULL, "%s", msg);
	snprintf(want, sizeof want, "version %u,", SCHEMA_VERSION - 1);
	ck_assert_msg(strstr(msg, want) != NULL, "%s lacks %s", msg, want);
	snprintf(want, sizeof want, "version %u ", SCHEMA_VERSION);
	ck_assert_msg(strstr(msg, want) != NULL, "%s lacks %s", msg, want);
	/* A database never migrated has version 0. */
	ck_assert_int_eq(db_schema_compare(0, msg, sizeof msg), -1);
}
END_TEST

START_TEST(test_check_same_and_newer)
{
	char	msg[160];

	ck_assert_int_eq(db_schema_compare(SCHEMA_VERSION, msg, sizeof msg), 0);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(db_schema_compare(SCHEMA_VERSION + 1, msg, sizeof msg),
	    1);
	ck_assert_msg(strstr(msg, "newer") != NULL, "%s", msg);
}
END_TEST

/* What migrate_split() handed on: the statements and their lines. */
struct split_seen {
	char		*sql[8];
	unsigned int	 line[8];
	int		 n;
	int		 fail_at;	/* fail the statement of this index */
};

/* A migrate_split() callback that records what it is given. */
static int
split_record(void *arg, const char *sql, unsigned int line)
{
	struct split_seen	*seen = arg;

	ck_assert_int_lt(seen->n, 8);
	if (seen->n == seen->fail_at)
		return -1;
	seen->sql[seen->n] = xstrdup(sql);
	seen->line[seen->n++] = line;
	return 0;
}

/* Split text (copied) into seen; migrate_split()'s result. */
static int
split(const char *text, struct split_seen *seen, int fail_at)
{
	char	*copy = xstrdup(text);
	int	 rc;

	memset(seen, 0, sizeof *seen);
	seen->fail_at = fail_at;
	rc = migrate_split(copy, split_record, seen);
	free(copy);
	return rc;
}

/* Free what split() recorded. */
static void
split_free(struct split_seen *seen)
{
	while (seen->n > 0)
		free(seen->sql[--seen->n]);
}

START_TEST(test_split_plain)
{
	struct split_seen	seen;

	/* Comments and blank lines are skipped, lines trimmed, a statement
	 * may span lines, and the last one needs no ';'. */
	ck_assert_int_eq(split("-- a comment\n\nCREATE TABLE t (\n"
	    "\ta INT\n);\n  ;\nDROP TABLE u;  \nSELECT 1", &seen, -1), 0);
	ck_assert_int_eq(seen.n, 3);
	ck_assert_str_eq(seen.sql[0], "CREATE TABLE t (\na INT\n)");
	ck_assert_uint_eq(seen.line[0], 3);
	ck_assert_str_eq(seen.sql[1], "DROP TABLE u");
	ck_assert_uint_eq(seen.line[1], 7);
	ck_assert_str_eq(seen.sql[2], "SELECT 1");
	split_free(&seen);
}
END_TEST

START_TEST(test_split_delimiter)
{
	struct split_seen	seen;

	/* A procedure's body keeps its ';' until the delimiter ends it. */
	ck_assert_int_eq(split("SET @a = 1;\nDELIMITER //\n"
	    "CREATE PROCEDURE p()\nBEGIN\n\tSELECT 1;\n\tSELECT 2;\n"
	    "END //\ndelimiter ;\nSELECT 3;\n", &seen, -1), 0);
	ck_assert_int_eq(seen.n, 3);
	ck_assert_str_eq(seen.sql[0], "SET @a = 1");
	ck_assert_str_eq(seen.sql[1], "CREATE PROCEDURE p()\nBEGIN\n"
	    "SELECT 1;\nSELECT 2;\nEND ");
	ck_assert_uint_eq(seen.line[1], 3);
	ck_assert_str_eq(seen.sql[2], "SELECT 3");
	split_free(&seen);
	/* DELIMITER inside a statement is part of it; without an argument
	 * it is an error, and so is a failed statement. */
	ck_assert_int_eq(split("SELECT\nDELIMITER x;\n", &seen, -1), 0);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_str_eq(seen.sql[0], "SELECT\nDELIMITER x");
	split_free(&seen);
	ck_assert_int_eq(split("DELIMITER  \nSELECT 1;\n", &seen, -1), -1);
	ck_assert_int_eq(seen.n, 0);
	ck_assert_int_eq(split("DELIMITER 01234567890123456789\n", &seen,
	    -1), -1);
	ck_assert_int_eq(split("SELECT 1;\nSELECT 2;\nSELECT 3;\n", &seen,
	    1), -1);
	ck_assert_int_eq(seen.n, 1);
	split_free(&seen);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("migrate");
	TCase	*tc = tcase_create("migrate");

	log_init("check_migrate", 0);
	tcase_add_test(tc, test_schema_version_is_newest_file);
	tcase_add_test(tc, test_latest_by_number);
	tcase_add_test(tc, test_check_older);
	tcase_add_test(tc, test_check_same_and_newer);
	tcase_add_test(tc, test_split_plain);
	tcase_add_test(tc, test_split_delimiter);
	suite_add_tcase(s, tc);
	return check_run(s);
}
