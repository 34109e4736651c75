/*
 * check_migrate.c: unit tests of migrate.c that need no database: the
 * schema version sohbetd needs (SCHEMA_VERSION) is the number of the
 * newest file in sql/, and versions are compared the way the master and
 * the workers refuse or accept a database.
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

	ck_assert_int_eq(migrate_check(SCHEMA_VERSION - 1, msg, sizeof msg),
	    -1);
	ck_assert_msg(strstr(msg, "run sohbetctl migrate") != NULL, "%s", msg);
	snprintf(want, sizeof want, "version %u,", SCHEMA_VERSION - 1);
	ck_assert_msg(strstr(msg, want) != NULL, "%s lacks %s", msg, want);
	snprintf(want, sizeof want, "version %u ", SCHEMA_VERSION);
	ck_assert_msg(strstr(msg, want) != NULL, "%s lacks %s", msg, want);
	/* A database never migrated has version 0. */
	ck_assert_int_eq(migrate_check(0, msg, sizeof msg), -1);
}
END_TEST

START_TEST(test_check_same_and_newer)
{
	char	msg[160];

	ck_assert_int_eq(migrate_check(SCHEMA_VERSION, msg, sizeof msg), 0);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(migrate_check(SCHEMA_VERSION + 1, msg, sizeof msg),
	    1);
	ck_assert_msg(strstr(msg, "newer") != NULL, "%s", msg);
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
	suite_add_tcase(s, tc);
	return check_run(s);
}
