/* SPDX-License-Identifier: ISC */
/*
 * itest_schema.c: sohbetd against a database whose schema is not the one
 * it was built for (SCHEMA_VERSION; docs/operations.md, Upgrade).  Older:
 * the master refuses to start, naming both versions and sohbetctl
 * migrate; a worker that finds it older when it (re)connects answers 503
 * until the migration has run, then serves again without a restart.
 * Newer: a warning, and sohbetd serves.
 *
 * The schema is made one version older by moving its newest
 * schema_version row into a side table, and always moved back.
 */
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "itest.h"
#include "check_run.h"

#define SAVED		"itest_schema_saved"
#define NEWER_NAME	"itest_schema_newer"

/* Put back what the tests changed in schema_version. */
static void
schema_restore(void)
{
	itest_sql("CREATE TABLE IF NOT EXISTS " SAVED " LIKE schema_version;"
	    " INSERT IGNORE INTO schema_version SELECT * FROM " SAVED ";"
	    " DROP TABLE " SAVED ";"
	    " DELETE FROM schema_version WHERE name = '" NEWER_NAME "'");
}

/* The highest version schema_version lists. */
static long long
schema_version(void)
{
	return itest_sql_number("SELECT MAX(version) FROM schema_version");
}

/*
 * The version schema_lower() left: the one below SCHEMA_VERSION that the
 * database lists (SCHEMA_VERSION - 1 but on a branch whose migrations
 * are not numbered in a row yet).
 */
static long long schema_lowered;

/* Make the database's schema one version older than sohbetd needs. */
static void
schema_lower(void)
{
	char	*sql;

	ck_assert_int_eq(schema_version(), SCHEMA_VERSION);
	xasprintf(&sql, "CREATE TABLE " SAVED " LIKE schema_version;"
	    " INSERT INTO " SAVED " SELECT * FROM schema_version"
	    " WHERE version = %d;"
	    " DELETE FROM schema_version WHERE version = %d",
	    SCHEMA_VERSION, SCHEMA_VERSION);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);
	schema_lowered = schema_version();
	ck_assert_int_lt(schema_lowered, SCHEMA_VERSION);
}

/* Start from the right schema and a healthy stack. */
static void
schema_begin(void)
{
	schema_restore();
	itest_require_stack();
	ck_assert_int_eq(schema_version(), SCHEMA_VERSION);
}

/*
 * Unchecked teardown: the right schema, and a sohbetd started afresh so
 * that no worker still holds on to what it saw.
 */
static void
schema_teardown(void)
{
	schema_restore();
	if (itest_dev("sohbetd-start") != 0)
		fprintf(stderr, "itest_schema: sohbetd-start failed\n");
	itest_restore_teardown();
}

/* What sohbetd logged since tools/dev last started it; caller frees. */
static char *
schema_log(void)
{
	const char	*var = getenv("SOHBET_TEST_VAR");
	char		*path, *text, *from, *p;
	FILE		*f;
	long		 size;

	ck_assert_ptr_nonnull(var);
	xasprintf(&path, "%s/log/sohbetd.log", var);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot read %s", path);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = xcalloc(1, (size_t)size + 1);
	ck_assert_int_eq(fread(text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	free(path);
	from = text;
	while ((p = strstr(from, "tools/dev: starting sohbetd")) != NULL)
		from = p + 1;
	p = xstrdup(from);
	free(text);
	return p;
}

/* Assert that what sohbetd logged since its start holds want. */
static void
schema_expect_log(const char *want)
{
	char	*log = schema_log();

	ck_assert_msg(strstr(log, want) != NULL, "sohbetd.log lacks \"%s\" "
	    "since the last start:\n%s", want, log);
	free(log);
}

/* KILL every connection of the sohbet user: the workers must reconnect. */
static void
schema_kill_connections(void)
{
	static const char	 who[] = "FROM information_schema.PROCESSLIST"
	    " WHERE USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)"
	    " AND ID <> CONNECTION_ID()";
	char			*sql;
	long long		 id;
	double			 t0 = itest_now();

	do {
		xasprintf(&sql, "SELECT COALESCE(MIN(ID), 0) %s", who);
		id = itest_sql_number(sql);
		free(sql);
		if (id > 0) {
			/* It may have gone by itself in between. */
			xasprintf(&sql, "KILL CONNECTION %lld", id);
			itest_sql(sql);
			free(sql);
		}
	} while (id != 0 && itest_now() - t0 < 10);
	ck_assert_msg(id == 0, "connection %lld outlived 10 s of KILLs", id);
}

/*
 * Run sohbetd on the stack's configuration by hand, where it refuses to
 * start before it binds anything; its exit status.
 */
static int
sohbetd_status(void)
{
	const char	*build = getenv("SOHBET_TEST_BUILD");
	const char	*conf = getenv("SOHBET_TEST_CONF");
	char		*bin;
	pid_t		 pid;
	int		 ws;

	ck_assert_msg(build != NULL && conf != NULL, "no SOHBET_TEST_BUILD "
	    "or SOHBET_TEST_CONF");
	xasprintf(&bin, "%s/src/sohbetd", build);
	ck_assert((pid = fork()) != -1);
	if (pid == 0) {
		/* What a sanitizer would add at exit is not the point here. */
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
		execl(bin, "sohbetd", "-c", conf, (char *)NULL);
		_exit(127);
	}
	ck_assert(waitpid(pid, &ws, 0) == pid);
	free(bin);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

/* The master refuses an older schema at start, and starts once migrated. */
START_TEST(test_refuses_to_start)
{
	struct itest_response	*r;
	char			 want[64];

	schema_begin();
	schema_lower();
	ck_assert_int_eq(itest_dev("sohbetd-stop"), 0);
	ck_assert_msg(itest_dev("sohbetd-start") != 0, "sohbetd started on a "
	    "schema older than it needs");
	ck_assert_msg(!itest_alive(itest_master_pid()), "sohbetd still runs");
	/* EX_CONFIG, which sohbet.service does not restart on. */
	ck_assert_int_eq(sohbetd_status(), EXIT_CONFIG);
	r = itest_get(API_PREFIX "/health", NULL);
	ck_assert_msg(r->status != 200, "health: %s", itest_describe(r));
	itest_free(r);
	schema_expect_log("run sohbetctl migrate");
	snprintf(want, sizeof want, "at version %lld, older than the version "
	    "%d", schema_lowered, SCHEMA_VERSION);
	schema_expect_log(want);

	/* What sohbetctl migrate does: the version is there again. */
	schema_restore();
	ck_assert_int_eq(itest_dev("sohbetd-start"), 0);
	ck_assert_int_eq(itest_wait_health(30), 0);
}
END_TEST

/*
 * A running daemon whose workers reconnect to an older schema answers 503
 * to every request that needs the database, and heals by itself within
 * SCHEMA_RECHECK seconds of the migration.
 */
START_TEST(test_old_schema_on_reconnect)
{
	struct itest_response	*r;
	struct chat_user	 u;
	const struct json	*v;
	double			 t0;
	int			 i, outdated = 0;

	schema_begin();
	chat_user(&u, "schema");
	r = itest_get(API_PREFIX "/users/@me", u.token);
	itest_expect(r, 200);
	itest_free(r);

	/* Past the second a fresh worker waits before it reconnects. */
	itest_sleep_ms(1100);
	schema_lower();
	schema_kill_connections();
	/* Health names the cause once a worker has looked. */
	t0 = itest_now();
	do {
		r = itest_get(API_PREFIX "/health", NULL);
		outdated = r->status == 503 && itest_str(r, "db") != NULL &&
		    strcmp(itest_str(r, "db"), "schema_outdated") == 0;
		if (outdated) {
			itest_expect_str(r, "status", "degraded");
			v = itest_at(r->json, "schema_version");
			ck_assert_msg(v != NULL && v->type == JSON_NUMBER &&
			    atoll(v->text) == schema_lowered, "health: %s",
			    itest_describe(r));
		}
		itest_free(r);
		if (!outdated)
			itest_sleep_ms(200);
	} while (!outdated && itest_now() - t0 < 10);
	ck_assert_msg(outdated, "health never said schema_outdated");
	/* Every worker lost its connection: each one refuses now. */
	for (i = 0; i < 6; i++) {
		r = itest_get(API_PREFIX "/users/@me", u.token);
		itest_expect_error(r, 503, "service_unavailable");
		ck_assert_msg(strstr(itest_str(r, "error.message"),
		    "sohbetctl migrate") != NULL, "%s", itest_describe(r));
		itest_free(r);
	}

	/* sohbetctl migrate, in effect: no restart needed. */
	schema_restore();
	itest_sleep_ms((SCHEMA_RECHECK + 1) * 1000);
	for (i = 0; i < 6; i++) {
		r = itest_get(API_PREFIX "/users/@me", u.token);
		itest_expect(r, 200);
		itest_free(r);
		r = itest_get(API_PREFIX "/health", NULL);
		itest_expect(r, 200);
		itest_expect_str(r, "db", "ok");
		itest_free(r);
	}
	chat_user_free(&u);
}
END_TEST

/* A newer schema (an older sohbetd) is only a warning. */
START_TEST(test_newer_schema_warns)
{
	char	*sql, want[64];

	schema_begin();
	xasprintf(&sql, "INSERT INTO schema_version (version, name, applied_at)"
	    " VALUES (%d, '" NEWER_NAME "', UTC_TIMESTAMP(3))",
	    SCHEMA_VERSION + 1);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);
	ck_assert_int_eq(itest_dev("sohbetd-start"), 0);
	ck_assert_int_eq(itest_wait_health(30), 0);
	snprintf(want, sizeof want, "at version %d, newer than the version %d",
	    SCHEMA_VERSION + 1, SCHEMA_VERSION);
	schema_expect_log(want);

	schema_restore();
	ck_assert_int_eq(itest_dev("sohbetd-start"), 0);
	ck_assert_int_eq(itest_wait_health(30), 0);
}
END_TEST

/* --- upgrades with data in the database ------------------------------- */

#define UPGRADE_DB	"sohbet_upgrade"	/* tools/dev grants it */
#define UPGRADE_SOURCE(n) "source " SRCDIR "/sql/" n ";"
/*
 * The migrations after version 6 in order, up to one: the scratch
 * database of upgrade_v6 brought to that version.
 */
#define UPGRADE_007_TO_011 \
	UPGRADE_SOURCE("007_event_privacy.sql") \
	UPGRADE_SOURCE("008_bans.sql") \
	UPGRADE_SOURCE("009_more_permissions.sql") \
	UPGRADE_SOURCE("010_overwrites.sql") \
	UPGRADE_SOURCE("011_replies_reactions_pins.sql")
#define UPGRADE_007_TO_012 \
	UPGRADE_007_TO_011 UPGRADE_SOURCE("012_typing_presence.sql")
#define UPGRADE_007_TO_014 \
	UPGRADE_007_TO_012 UPGRADE_SOURCE("013_read_state.sql") \
	UPGRADE_SOURCE("014_search.sql")
#define UPGRADE_007_TO_016 \
	UPGRADE_007_TO_014 UPGRADE_SOURCE("015_attachments.sql") \
	UPGRADE_SOURCE("016_search_without_triggers.sql")
#define UPGRADE_007_TO_017 \
	UPGRADE_007_TO_016 UPGRADE_SOURCE("017_search_keys.sql")
/* After 017 (each test writes what it upgrades in between). */
#define UPGRADE_018_TO_020 \
	UPGRADE_SOURCE("018_mentions_keyed.sql") \
	UPGRADE_SOURCE("019_words_distinct.sql") \
	UPGRADE_SOURCE("020_search_postings.sql")

/* The scratch database at version 6, with what sohbet wrote there. */
static const char upgrade_v6[] =
    "DROP DATABASE IF EXISTS " UPGRADE_DB ";"
    " CREATE DATABASE " UPGRADE_DB " CHARACTER SET utf8mb4"
    " COLLATE utf8mb4_unicode_520_ci; USE " UPGRADE_DB ";"
    UPGRADE_SOURCE("001_initial.sql") UPGRADE_SOURCE("002_event_retention.sql")
    UPGRADE_SOURCE("003_email_key.sql")
    UPGRADE_SOURCE("004_events_scope_keys.sql")
    UPGRADE_SOURCE("005_message_send.sql")
    UPGRADE_SOURCE("006_message_send_many.sql")
    " INSERT INTO users (id, username, email, password_hash)"
    " VALUES (1, 'a', 'a@example.com', 'x');"
    " INSERT INTO servers (id, name, owner_id) VALUES (1, 's', 1);"
    " INSERT INTO server_members (server_id, user_id) VALUES (1, 1);"
    " INSERT INTO channels (id, server_id, name) VALUES (1, 1, 'general');"
    /* Deleted (its text erased in the row, as 006 does it) and edited. */
    " INSERT INTO messages (id, channel_id, author_id, content, deleted)"
    " VALUES (10, 1, 1, '', 1);"
    " INSERT INTO messages (id, channel_id, author_id, content, edited_at)"
    " VALUES (12, 1, 1, 'meet at the station', NOW(3));"
    " INSERT INTO messages (id, channel_id, author_id, content)"
    " VALUES (14, 1, 1, 'untouched words');"
    " INSERT INTO events (seq, type, server_id, channel_id, data) VALUES"
    " (11, 'message.create', 1, 1, '{\"message\":{\"id\":\"10\","
    "\"content\":\"OOPS my password is hunter2\"}}'),"
    " (13, 'message.create', 1, 1, '{\"message\":{\"id\":\"12\","
    "\"content\":\"meet at the old pier\"}}'),"
    " (15, 'message.create', 1, 1, '{\"message\":{\"id\":\"14\","
    "\"content\":\"untouched words\"}}'),"
    " (16, 'message.delete', 1, 1, '{\"id\":\"10\"}'),"
    " (17, 'message.update', 1, 1, '{\"message\":{\"id\":\"12\","
    "\"content\":\"meet at the old pier, no\"}}');";

/*
 * Migration 007 on a database with data: the text of messages deleted or
 * edited before it is gone from the events that still held it; other
 * events are as they were; members from before keep every event.
 */
START_TEST(test_upgrade_erases_old_text)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_SOURCE("007_event_privacy.sql")), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".events WHERE data LIKE '%hunter2%' OR data LIKE '%old pier%'"),
	    0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".events WHERE seq = 13 AND data LIKE '%meet at the station%'"),
	    1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".events WHERE seq = 15 AND data LIKE '%untouched words%'"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".events WHERE seq = 11"
	    " AND JSON_VALUE(data, '$.message.content') = ''"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT joined_seq FROM " UPGRADE_DB
	    ".server_members"), 0);
	/* The update already stored is listed for later rewrites. */
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_updates WHERE message_id = 12 AND seq = 17"), 1);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/*
 * Migration 014 on a database with data: the words of the messages there
 * are indexed (not those of a deleted one), and from then on the
 * triggers index a new message and follow an edit.
 */
START_TEST(test_upgrade_indexes_words)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_007_TO_014), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE message_id = 12"), 4);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE message_id = 14 AND word = 'WORDS'"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE message_id = 10"), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    " INSERT INTO messages (id, channel_id, author_id, content)"
	    " VALUES (20, 1, 1, 'Çay, çay!');"
	    " UPDATE messages SET content = 'left words' WHERE id = 14"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE message_id = 20 AND word = 'cay'"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE message_id = 14 AND word = 'untouched'"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE message_id = 14 AND word = 'left'"), 1);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/*
 * Migration 016 on a database with data: the word triggers are gone, the
 * words indexed before stay, and both send procedures index the words of
 * what they insert (words.c serves the other paths, tested through the
 * API by itest_search).
 */
START_TEST(test_upgrade_indexes_words_without_triggers)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_007_TO_016), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM"
	    " information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '"
	    UPGRADE_DB "'"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE message_id = 12"), 4);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    " CALL message_send(30, 1, 0, 1, 'Şimdi çay', NULL,"
	    " NOW(3), 1000, 'message.create', 0, 1, 0, 0, '{}', NULL);"
	    " CALL message_send_many('["
	    "{\"id\":31,\"c\":1,\"d\":0,\"a\":1,\"t\":\"kahve var\","
	    "\"at\":\"2026-12-06 10:00:00.000\",\"s\":1001,\"sc\":1,"
	    "\"e\":\"{}\"},"
	    "{\"id\":32,\"c\":1,\"d\":0,\"a\":1,\"t\":\"kahve yok\","
	    "\"at\":\"2026-12-06 10:00:00.000\",\"s\":1002,\"sc\":1,"
	    "\"e\":\"{}\"}]', 0, NULL);"
	    " INSERT INTO messages (id, channel_id, author_id, content)"
	    " VALUES (33, 1, 1, 'kahve raw')"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE message_id = 30 AND word = 'cay'"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE message_id = 30"), 2);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE word = 'kahve'"), 2);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_words WHERE message_id = 32 AND word = 'yok'"), 1);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/* Whether role id of the scratch database holds exactly the names of set. */
static int
schema_role_is(int id, const char *set)
{
	char	sql[512];

	snprintf(sql, sizeof sql, "SELECT JSON_LENGTH(permissions) ="
	    " JSON_LENGTH('%s') AND JSON_CONTAINS(permissions, '%s')"
	    " AND JSON_CONTAINS('%s', permissions) FROM " UPGRADE_DB
	    ".roles WHERE id = %d", set, set, set, id);
	return (int)itest_sql_number(sql);
}

/*
 * Migration 009 on a database with data: every server's default role
 * gains add_reactions and attach_files (once, even where an operator gave
 * one already); other roles and the permissions already held are as
 * they were; nobody gains mention_everyone.
 */
START_TEST(test_upgrade_grants_new_permissions)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_SOURCE("007_event_privacy.sql")
	    UPGRADE_SOURCE("008_bans.sql")
	    " INSERT INTO roles (id, server_id, name, permissions, position,"
	    " is_default) VALUES"
	    " (1, 1, '@everyone', '[\"view_channels\",\"send_messages\"]',"
	    " 0, 1),"
	    " (2, 1, 'mod', '[\"kick_members\"]', 1, 0);"
	    " INSERT INTO servers (id, name, owner_id) VALUES (2, 't', 1);"
	    " INSERT INTO roles (id, server_id, name, permissions, position,"
	    " is_default) VALUES"
	    " (3, 2, '@everyone', '[\"attach_files\"]', 0, 1);"
	    UPGRADE_SOURCE("009_more_permissions.sql")), 0);
	ck_assert_int_eq(schema_role_is(1, "[\"view_channels\","
	    "\"send_messages\",\"add_reactions\",\"attach_files\"]"), 1);
	ck_assert_int_eq(schema_role_is(2, "[\"kick_members\"]"), 1);
	ck_assert_int_eq(schema_role_is(3, "[\"attach_files\","
	    "\"add_reactions\"]"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".roles WHERE permissions LIKE '%mention_everyone%'"), 0);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/* --- the migration lock ------------------------------------------------ */

/* Wait up to seconds for a migrate to end: its exit status, -1 if not. */
static int
schema_migrate_wait(pid_t pid, double seconds)
{
	double	until = itest_now() + seconds;
	int	status;

	do {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		itest_sleep_ms(50);
	} while (itest_now() < until);
	return -1;
}

/*
 * Assert that a migrate ends well within 5 s (killed otherwise) and
 * leaves the lock free.
 */
static void
schema_migrate_finish(pid_t pid, const char *when)
{
	int	status;

	if ((status = schema_migrate_wait(pid, 5)) == -1)
		kill(pid, SIGKILL);
	ck_assert_msg(status == 0, "migrate %s: exit %d", when, status);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM schema_lock "
	    "WHERE owner IS NULL"), 1);
}

/*
 * The migration lock is a row (it replicates, unlike GET_LOCK): a migrate
 * waits while another run's lease holds it, goes on once it is released,
 * and releases it at the end; a lease that ran out (a crashed run) is
 * taken over at once.
 */
START_TEST(test_migration_lock_row)
{
	pid_t	pid;
	int	status;

	ck_assert_int_eq(itest_sql("UPDATE schema_lock SET owner = 'other "
	    "host', expires_at = UTC_TIMESTAMP(3) + INTERVAL 1 HOUR"), 0);
	pid = itest_migrate_start(NULL, SRCDIR "/sql");
	status = schema_migrate_wait(pid, 1.5);
	ck_assert_msg(status == -1, "migrate did not wait for the lock held "
	    "by another run (exit %d)", status);
	ck_assert_int_eq(itest_sql("UPDATE schema_lock SET owner = NULL, "
	    "expires_at = NULL"), 0);
	schema_migrate_finish(pid, "after the release");

	ck_assert_int_eq(itest_sql("UPDATE schema_lock SET owner = 'crashed', "
	    "expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND"), 0);
	schema_migrate_finish(itest_migrate_start(NULL, SRCDIR "/sql"),
	    "over an expired lease");
}
END_TEST

/*
 * Migration 011 on a database with data: the messages from before are
 * no replies and not pinned, keep their text, and take reactions, which
 * go with a message deleted for good (a server deleted).
 */
START_TEST(test_upgrade_replies_reactions_pins)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_007_TO_011), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".messages WHERE reply_to_id IS NULL AND pin_order IS NULL"), 3);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".messages WHERE id = 12 AND content = 'meet at the station'"), 1);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    " INSERT INTO reactions (message_id, emoji, user_id, emoji_order)"
	    " VALUES (14, 0xf09f918d, 1, 1);"
	    " UPDATE messages SET reply_to_id = 12, pin_order = 1"
	    " WHERE id = 14;"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".reactions"), 1);
	ck_assert_int_eq(itest_sql("DELETE FROM " UPGRADE_DB ".servers"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".reactions"), 0);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/*
 * Migration 012 on a database with data: every user has chosen online,
 * and nobody is connected yet.
 */
START_TEST(test_upgrade_presence)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_007_TO_012), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".users WHERE id = 1 AND presence = 0"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".presence_connections"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".ephemeral_relay"), 0);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/*
 * Migration 013 on a database with data: every member of a server is
 * given a read state at the newest message of each of its channels, and
 * each DM participant at the DM's newest, so that nothing reads as
 * unread after the upgrade; a channel without messages gets none, nor a
 * user of no server.  The send procedures take the mentions.
 */
START_TEST(test_upgrade_reads_what_was_there)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_007_TO_012
	    " INSERT INTO users (id, username, email, password_hash) VALUES"
	    " (2, 'b', 'b@example.com', 'x'), (3, 'c', 'c@example.com', 'x');"
	    " INSERT INTO server_members (server_id, user_id) VALUES (1, 2);"
	    " INSERT INTO channels (id, server_id, name) VALUES (2, 1, 'quiet');"
	    " INSERT INTO dm_channels (id, user1_id, user2_id) VALUES (1, 1, 3);"
	    " INSERT INTO messages (id, dm_channel_id, author_id, content)"
	    " VALUES (20, 1, 3, 'hi'), (21, 1, 1, 'hello');"
	    UPGRADE_SOURCE("013_read_state.sql")), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".channel_read_states WHERE channel_id = 1 AND last_read_id = 14"
	    " AND user_id IN (1, 2)"), 2);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".channel_read_states"), 2);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".dm_read_states WHERE dm_channel_id = 1 AND last_read_id = 21"
	    " AND user_id IN (1, 3)"), 2);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".dm_read_states"), 2);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*)"
	    " FROM information_schema.PARAMETERS"
	    " WHERE SPECIFIC_SCHEMA = '" UPGRADE_DB "'"
	    " AND SPECIFIC_NAME = 'message_send'"
	    " AND PARAMETER_NAME = 'p_mentions'"), 1);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/*
 * Migration 015 on a database with data: messages from before have no
 * attachments; an upload of a channel goes with the channel (its file is
 * then an orphan for sohbetctl files); a row naming both kinds of
 * conversation, or neither, is refused.
 */
START_TEST(test_upgrade_adds_attachments)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_007_TO_014
	    UPGRADE_SOURCE("015_attachments.sql")), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".attachments"), 0);
	ck_assert_int_eq(itest_sql("INSERT INTO " UPGRADE_DB ".attachments"
	    " (uploader_id, channel_id, message_id, filename, content_type,"
	    " size, width, height) VALUES (1, 1, 14, 'a.png', 'image/png', 10,"
	    " 2, 2)"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".attachments a JOIN " UPGRADE_DB ".messages m"
	    " ON m.id = a.message_id WHERE m.content = 'untouched words'"), 1);
	ck_assert_int_eq(itest_sql("INSERT INTO " UPGRADE_DB ".attachments"
	    " (uploader_id, filename, content_type, size) VALUES"
	    " (1, 'b.txt', 'text/plain', 1)"), -1);
	ck_assert_int_eq(itest_sql("DELETE FROM " UPGRADE_DB ".channels"
	    " WHERE id = 1"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".attachments"), 0);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/*
 * Migration 018 on a database with data: each message's mentions move
 * into its row, in their order (a DM's too); the counted rows of server
 * channels stay, keyed by what is counted, in one B-tree; a DM's are
 * gone.  Then routines.sql's sends write both, and the rows go with
 * their channel.
 */
START_TEST(test_upgrade_keys_mentions)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_007_TO_017
	    " INSERT INTO users (id, username, email, password_hash)"
	    " VALUES (2, 'b', 'b@example.com', 'x');"
	    " INSERT INTO dm_channels (id, user1_id, user2_id) VALUES (1, 1, 2);"
	    " INSERT INTO messages (id, dm_channel_id, author_id, content)"
	    " VALUES (20, 1, 2, 'hi <@1>');"
	    " INSERT INTO message_mentions (message_id, position, kind,"
	    " target_id, channel_id, author_id) VALUES (12, 0, 2, 5, 1, 1),"
	    " (12, 1, 1, 2, 1, 1), (20, 0, 1, 1, NULL, 2);"
	    UPGRADE_SOURCE("018_mentions_keyed.sql")), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".messages WHERE id = 12 AND mentions = '[[2,\"5\"],[1,\"2\"]]'"),
	    1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".messages WHERE id = 20 AND mentions = '[[1,\"1\"]]'"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".messages WHERE mentions IS NULL"), 2);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_mentions"), 2);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_mentions WHERE channel_id = 1 AND kind = 2"
	    " AND target_id = 5 AND message_id = 12 AND author_id = 1"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT GROUP_CONCAT(COLUMN_NAME"
	    " ORDER BY SEQ_IN_INDEX) = 'channel_id,kind,target_id,message_id'"
	    " AND COUNT(DISTINCT INDEX_NAME) = 1"
	    " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '"
	    UPGRADE_DB "' AND TABLE_NAME = 'message_mentions'"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM"
	    " information_schema.TABLES WHERE TABLE_SCHEMA = '" UPGRADE_DB
	    "' AND TABLE_NAME LIKE 'message_mentions%'"), 1);

	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_SOURCE("019_words_distinct.sql")
	    UPGRADE_SOURCE("020_search_postings.sql")
	    UPGRADE_SOURCE("021_history_flags.sql")
	    UPGRADE_SOURCE("routines.sql")
	    " CALL message_send(30, 1, 0, 1, '<@2> hi', NULL, NOW(3), 1000,"
	    " 'message.create', 0, 1, 0, 0, '{}', '[[1,\"2\"]]');"
	    " CALL message_send(31, 0, 1, 1, '<@2> hi', NULL, NOW(3), 1001,"
	    " 'message.create', 0, 0, 1, 0, '{}', '[[1,\"2\"]]');"
	    " CALL message_send_many('["
	    "{\"id\":32,\"c\":1,\"d\":0,\"a\":2,\"t\":\"<@1> <@&5>\","
	    "\"m\":\"[[1,\\\\\"1\\\\\"],[2,\\\\\"5\\\\\"]]\","
	    "\"at\":\"2026-12-06 10:00:00.000\"},"
	    "{\"id\":33,\"c\":1,\"d\":0,\"a\":2,\"t\":\"plain\","
	    "\"at\":\"2026-12-06 10:00:00.000\"}]', 0,"
	    " '[[1,\"1\",\"32\",\"1\",\"2\"],[2,\"5\",\"32\",\"1\",\"2\"]]',"
	    " '[{\"s\":1002,\"sv\":1,\"sc\":1,\"e\":\"{}\"},"
	    "{\"s\":1003,\"sv\":1,\"sc\":1,\"e\":\"{}\"}]')"),
	    0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".messages WHERE (id IN (30, 31) AND mentions = '[[1,\"2\"]]')"
	    " OR (id = 32 AND mentions = '[[1,\"1\"],[2,\"5\"]]')"
	    " OR (id = 33 AND mentions IS NULL)"), 4);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_mentions WHERE message_id IN (30, 31)"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_mentions WHERE message_id = 32 AND author_id = 2"), 2);

	ck_assert_int_eq(itest_sql("DELETE FROM " UPGRADE_DB ".channels"
	    " WHERE id = 1"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_mentions"), 0);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/* The words of a scratch database's posting rows that hold message id. */
#define POSTED(id)	" FROM " UPGRADE_DB ".message_postings WHERE" \
	" CONCAT(',', ids, ',') LIKE '%," id ":%'"

/*
 * Migration 020 on a database with data: message_words' rows become
 * posting rows, one per word and server or DM of each chunk of
 * messages (the word of two messages is one row holding both), none for
 * a deleted message, and message_words is gone.  Then routines.sql's
 * sends and edits queue their messages, and the drain indexes the queue:
 * one row per word of what it indexes; an edit's old words taken out
 * first (message_words_forget: a row keeps its bounds, one left empty
 * goes), its new words added.
 */
START_TEST(test_upgrade_posts_words)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_007_TO_017
	    " INSERT INTO messages (id, channel_id, author_id, content)"
	    " VALUES (16, 1, 1, 'the station again');"
	    " CALL message_words_index(16, 'the station again');"
	    UPGRADE_018_TO_020
	    UPGRADE_SOURCE("021_history_flags.sql")), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM"
	    " information_schema.TABLES WHERE TABLE_SCHEMA = '" UPGRADE_DB
	    "' AND TABLE_NAME = 'message_words'"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(DISTINCT word)"
	    POSTED("12")), 4);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*)" POSTED("10")), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_postings WHERE word = 'station' AND in_dm = 0"
	    " AND scope_id = 1 AND last_id = 16 AND first_id = 12"
	    " AND ids = '16:1,12:1'"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_postings WHERE word = 'WORDS' AND ids = '14:1'"), 1);

	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_SOURCE("routines.sql")
	    " CALL message_send_many('["
	    "{\"id\":31,\"c\":1,\"d\":0,\"a\":1,\"t\":\"kahve var\","
	    "\"at\":\"2026-12-06 10:00:00.000\"},"
	    "{\"id\":32,\"c\":1,\"d\":0,\"a\":1,\"t\":\"Kahve yok\","
	    "\"at\":\"2026-12-06 10:00:00.000\"}]', 0, NULL,"
	    " '[{\"s\":1001,\"sv\":1,\"sc\":1,\"e\":\"{}\"},"
	    "{\"s\":1002,\"sv\":1,\"sc\":1,\"e\":\"{}\"}]')"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".search_queue WHERE message_id IN (31, 32)"), 2);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*)" POSTED("31")), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    " CALL message_words_drain(1000, @n)"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".search_queue"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_postings WHERE word = 'kahve' AND last_id = 32"
	    " AND first_id = 31 AND ids = '32:1,31:1'"), 1);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    " START TRANSACTION;"
	    " SELECT id FROM messages WHERE id = 31 FOR UPDATE;"
	    " CALL message_words_forget(31);"
	    " UPDATE messages SET content = 'çay var', edited_at = NOW(3)"
	    " WHERE id = 31;"
	    " CALL message_words_index(31);"
	    " COMMIT;"
	    " CALL message_words_drain(1000, @n)"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_postings WHERE word = 'kahve' AND last_id = 32"
	    " AND first_id = 31 AND ids = '32:1'"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_postings WHERE word = 'var'"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_postings WHERE word = 'var' AND ids = '31:1'"), 1);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM " UPGRADE_DB
	    ".message_postings WHERE word = 'cay' AND last_id = 31"
	    " AND ids = '31:1'"), 1);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/*
 * Migration 021 on a database with data: the messages with reactions or
 * attachments from before get their flags, the others none, so that a
 * page of them still reads their reactions and attachments; then
 * routines.sql's reaction_add flags a message with its first reaction.
 */
START_TEST(test_upgrade_flags_messages)
{
	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_007_TO_017
	    UPGRADE_018_TO_020
	    " INSERT INTO reactions (message_id, emoji, user_id, emoji_order)"
	    " VALUES (12, 'x', 1, 1), (12, 'y', 1, 2);"
	    " INSERT INTO attachments (uploader_id, channel_id, message_id,"
	    " filename, content_type, size) VALUES"
	    " (1, 1, 14, 'a.txt', 'text/plain', 1),"
	    " (1, 1, NULL, 'b.txt', 'text/plain', 1);"
	    UPGRADE_SOURCE("021_history_flags.sql")), 0);
	ck_assert_int_eq(itest_sql_number("SELECT GROUP_CONCAT(id, ':', reacted,"
	    " attached ORDER BY id SEPARATOR ' ') = '10:00 12:10 14:01'"
	    " FROM " UPGRADE_DB ".messages"), 1);

	ck_assert_int_eq(itest_sql("USE " UPGRADE_DB ";"
	    UPGRADE_SOURCE("routines.sql")
	    " CALL reaction_add(14, 1, 0, 'z', 1, 20, 1000, 1, '{}');"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT reacted FROM " UPGRADE_DB
	    ".messages WHERE id = 14"), 1);
	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
}
END_TEST

/* --- the stored routines (sql/routines.sql) ---------------------------- */

/*
 * The routines a database holds (schema: an SQL expression naming it),
 * one "TYPE name" a line, by name; with bodies, each line also carries
 * the MD5 of its body and of its parameters.  The caller frees it.
 */
static char *
routines_of(const char *schema, int bodies)
{
	char	*sql, *text;
	size_t	 len;

	xasprintf(&sql, "SELECT GROUP_CONCAT(r.ROUTINE_TYPE, ' ',"
	    " r.ROUTINE_NAME%s ORDER BY BINARY r.ROUTINE_NAME SEPARATOR '\\n')"
	    " FROM information_schema.ROUTINES r WHERE r.ROUTINE_SCHEMA = %s",
	    bodies ? ", ' ', MD5(r.ROUTINE_DEFINITION), ' ', (SELECT"
	    " MD5(GROUP_CONCAT(p.PARAMETER_NAME, ' ', p.DTD_IDENTIFIER"
	    " ORDER BY p.ORDINAL_POSITION)) FROM information_schema.PARAMETERS p"
	    " WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA"
	    " AND p.SPECIFIC_NAME = r.ROUTINE_NAME)" : "", schema);
	ck_assert_ptr_nonnull(text = itest_sql_text(sql));
	if ((len = strlen(text)) > 0 && text[len - 1] == '\n')
		text[len - 1] = '\0';
	free(sql);
	return text;
}

/* Order "TYPE name" strings by name, as strcmp() does. */
static int
routines_compare(const void *a, const void *b)
{
	return strcmp(strchr(*(char *const *)a, ' '),
	    strchr(*(char *const *)b, ' '));
}

/* The routines sql/routines.sql creates, as routines_of() lists them. */
static char *
routines_of_file(void)
{
	FILE	*f;
	char	 line[512], type[16], name[64], *list[64], *text;
	size_t	 n = 0, len = 0, i;

	ck_assert((f = fopen(SRCDIR "/sql/routines.sql", "r")) != NULL);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "CREATE OR REPLACE %15[A-Z] %63[a-z_](", type,
		    name) != 2)
			continue;
		ck_assert_uint_lt(n, sizeof list / sizeof list[0]);
		xasprintf(&list[n], "%s %s", type, name);
		len += strlen(list[n++]) + 1;
	}
	fclose(f);
	ck_assert_uint_gt(n, 0);
	qsort(list, n, sizeof list[0], routines_compare);
	text = xcalloc(1, len + 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(text, "\n");
		strcat(text, list[i]);
		free(list[i]);
	}
	return text;
}

/*
 * A configuration file for sohbetctl on the scratch database: the
 * stack's, with another database name.  The caller frees its path.
 */
static char *
routines_conf(void)
{
	FILE	*f;
	char	*path;

	xasprintf(&path, "%s/etc/itest_schema_upgrade.conf",
	    getenv("SOHBET_TEST_VAR"));
	ck_assert((f = fopen(path, "w")) != NULL);
	fprintf(f, "include = %s\n[database]\nname = " UPGRADE_DB "\n",
	    getenv("SOHBET_TEST_CONF"));
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Make the scratch database empty. */
static void
routines_empty_db(void)
{
	ck_assert_int_eq(itest_sql("DROP DATABASE IF EXISTS " UPGRADE_DB ";"
	    " CREATE DATABASE " UPGRADE_DB " CHARACTER SET utf8mb4"
	    " COLLATE utf8mb4_unicode_520_ci"), 0);
}

/*
 * A database made by sohbetctl migrate from nothing, and one brought up
 * from version 6 (with 005's and 006's send procedures, which took other
 * parameters), both end with exactly the routines of routines.sql, with
 * the same bodies and parameters; so does the stack's.
 */
START_TEST(test_routines_fresh_and_upgraded)
{
	char	*conf = routines_conf(), *want = routines_of_file();
	char	*got, *fresh, *upgraded;

	got = routines_of("DATABASE()", 0);
	ck_assert_str_eq(got, want);
	free(got);

	routines_empty_db();
	ck_assert_int_eq(itest_migrate(conf, SRCDIR "/sql"), 0);
	got = routines_of("'" UPGRADE_DB "'", 0);
	ck_assert_str_eq(got, want);
	fresh = routines_of("'" UPGRADE_DB "'", 1);

	ck_assert_int_eq(itest_sql(upgrade_v6), 0);
	ck_assert_int_eq(itest_sql("CREATE TABLE " UPGRADE_DB ".schema_version"
	    " LIKE schema_version; INSERT INTO " UPGRADE_DB ".schema_version"
	    " SELECT * FROM schema_version WHERE version <= 6"), 0);
	ck_assert_int_eq(itest_migrate(conf, SRCDIR "/sql"), 0);
	ck_assert_int_eq(itest_sql_number("SELECT MAX(version) FROM "
	    UPGRADE_DB ".schema_version"), SCHEMA_VERSION);
	upgraded = routines_of("'" UPGRADE_DB "'", 1);
	ck_assert_str_eq(upgraded, fresh);

	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
	free(got);
	free(fresh);
	free(upgraded);
	free(want);
	unlink(conf);
	free(conf);
}
END_TEST

#define ROUTINES_PROBE	"itest_routines_probe"

/*
 * An sql directory of its own: the migrations of the source, linked, and
 * a copy of its routines.sql that the test may change.  The caller
 * removes it with routines_dir_remove().
 */
static char *
routines_dir(void)
{
	DIR		*d;
	struct dirent	*de;
	char		*dir, *to, *from, *cmd;

	xasprintf(&dir, "%s/itest_schema_sql.XXXXXX",
	    getenv("SOHBET_TEST_VAR"));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert((d = opendir(SRCDIR "/sql")) != NULL);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		xasprintf(&from, SRCDIR "/sql/%s", de->d_name);
		xasprintf(&to, "%s/%s", dir, de->d_name);
		ck_assert_int_eq(symlink(from, to), 0);
		free(from);
		free(to);
	}
	closedir(d);
	xasprintf(&cmd, "cp " SRCDIR "/sql/routines.sql %s/", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	return dir;
}

/* Remove what routines_dir() made. */
static void
routines_dir_remove(char *dir)
{
	char	*cmd;

	xasprintf(&cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

/* What search_words() of the scratch database gives for "a b". */
static char *
routines_words(void)
{
	char	*text;

	ck_assert_ptr_nonnull(text = itest_sql_text("SELECT " UPGRADE_DB
	    ".search_words('a b')"));
	text[strcspn(text, "\n")] = '\0';
	return text;
}

/*
 * routines.sql is applied again only when the database may not hold it:
 * not on a migrate with nothing to do (a routine changed by hand stays
 * changed), but when the file's text changed, and when a routine is
 * missing (a dump restored without --routines).
 */
START_TEST(test_routines_applied_when_changed)
{
	char	*conf = routines_conf(), *dir = routines_dir(), *words, *path;
	FILE	*f;

	routines_empty_db();
	ck_assert_int_eq(itest_migrate(conf, dir), 0);
	words = routines_words();
	ck_assert_str_eq(words, "[\"a\",\"b\"]");
	free(words);

	/* Unchanged: nothing re-created. */
	ck_assert_int_eq(itest_sql("CREATE OR REPLACE FUNCTION " UPGRADE_DB
	    ".search_words(p_text TEXT) RETURNS TEXT DETERMINISTIC NO SQL"
	    " RETURN 'by hand'"), 0);
	ck_assert_int_eq(itest_migrate(conf, dir), 0);
	words = routines_words();
	ck_assert_str_eq(words, "by hand");
	free(words);

	/* Changed: every routine re-created, the new one too. */
	xasprintf(&path, "%s/routines.sql", dir);
	ck_assert((f = fopen(path, "a")) != NULL);
	fputs("DELIMITER //\nCREATE OR REPLACE FUNCTION " ROUTINES_PROBE "()"
	    "\n\tRETURNS INT DETERMINISTIC NO SQL SQL SECURITY INVOKER\n"
	    "\tRETURN 7//\nDELIMITER ;\n", f);
	ck_assert_int_eq(fclose(f), 0);
	free(path);
	ck_assert_int_eq(itest_migrate(conf, dir), 0);
	words = routines_words();
	ck_assert_str_eq(words, "[\"a\",\"b\"]");
	free(words);
	ck_assert_int_eq(itest_sql_number("SELECT " UPGRADE_DB "."
	    ROUTINES_PROBE "()"), 7);

	/* A routine missing: created again. */
	ck_assert_int_eq(itest_sql("DROP PROCEDURE " UPGRADE_DB
	    ".reaction_add"), 0);
	ck_assert_int_eq(itest_migrate(conf, dir), 0);
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM"
	    " information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '" UPGRADE_DB
	    "' AND ROUTINE_NAME = 'reaction_add'"), 1);

	ck_assert_int_eq(itest_sql("DROP DATABASE " UPGRADE_DB), 0);
	routines_dir_remove(dir);
	unlink(conf);
	free(conf);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("schema");
	TCase	*tc = tcase_create("schema");

	itest_init();
	tcase_set_timeout(tc, 120);
	/* The stack alone: the tests restart sohbetd and edit its schema. */
	tcase_add_unchecked_fixture(tc, itest_exclusive, schema_teardown);
	tcase_add_test(tc, test_refuses_to_start);
	tcase_add_test(tc, test_old_schema_on_reconnect);
	tcase_add_test(tc, test_newer_schema_warns);
	suite_add_tcase(s, tc);
	tc = tcase_create("upgrade");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_upgrade_erases_old_text);
	tcase_add_test(tc, test_upgrade_grants_new_permissions);
	tcase_add_test(tc, test_migration_lock_row);
	tcase_add_test(tc, test_upgrade_replies_reactions_pins);
	tcase_add_test(tc, test_upgrade_presence);
	tcase_add_test(tc, test_upgrade_reads_what_was_there);
	tcase_add_test(tc, test_upgrade_indexes_words);
	tcase_add_test(tc, test_upgrade_adds_attachments);
	tcase_add_test(tc, test_upgrade_indexes_words_without_triggers);
	tcase_add_test(tc, test_upgrade_keys_mentions);
	tcase_add_test(tc, test_upgrade_posts_words);
	tcase_add_test(tc, test_upgrade_flags_messages);
	tcase_add_test(tc, test_routines_fresh_and_upgraded);
	tcase_add_test(tc, test_routines_applied_when_changed);
	suite_add_tcase(s, tc);
	return check_run(s);
}
