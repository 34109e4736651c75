/* SPDX-License-Identifier: ISC */
/*
 * migrate.c: brings the schema up to date.  The sql directory holds files
 * named NNN_name.sql; each one schema_version does not list yet is applied
 * in the order of its number and then recorded there.  A file is split
 * into statements at every line that ends in the delimiter, ';' unless a
 * line "DELIMITER //" changed it as in the mysql client, so a stored
 * procedure's body can hold its own ';'.  Lines starting with "--" are
 * skipped.
 *
 * The stored routines are not copied from migration to migration: the
 * sql directory's routines.sql holds each as it is now, and is applied
 * after the migrations whenever the database may not hold that text (see
 * migrate_routines()).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "sohbet.h"

#define MIGRATE_FILE_MAX	(4 * 1024 * 1024)
#define MIGRATE_LOCK_WAIT	60	/* seconds to wait for another run */
#define MIGRATE_LOCK_LEASE	900	/* seconds a lock holds unrenewed */
#define MIGRATE_LOCK_POLL_MS	500	/* between looks at a taken lock */
#define MIGRATE_OWNER_SIZE	128
#define MIGRATE_ROUTINES	"routines.sql"
#define MIGRATE_CHECKSUM_SIZE	(2 * SHA256_DIGEST_LENGTH + 1)

/* One migration file. */
struct migration {
	unsigned int	 version;
	char		*name;		/* the file name, 001_initial.sql */
	char		*path;
};

/* The applied versions, ascending. */
struct migrate_applied {
	unsigned int	*versions;
	size_t		 n;
};

static const char migrate_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INT UNSIGNED NOT NULL,"
    " name VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,"
    " applied_at DATETIME(3) NOT NULL,"
    " PRIMARY KEY (version)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci";

static struct db_stmt q_table_exists = DB_STMT(
    "SELECT COUNT(*) FROM information_schema.TABLES"
    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?");
static struct db_stmt q_applied = DB_STMT(
    "SELECT version FROM schema_version ORDER BY version");
static struct db_stmt q_record = DB_STMT(
    "INSERT INTO schema_version (version, name, applied_at)"
    " VALUES (?, ?, UTC_TIMESTAMP(3))");

/*
 * What routines.sql was when it was last applied: its SHA-256 in hex,
 * and how many routines the database then held.  (A REPLACE of a row
 * that was there affects two.)
 */
static const char migrate_routines_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_routines ("
    " file VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,"
    " checksum CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    " routines INT UNSIGNED NOT NULL,"
    " applied_at DATETIME(3) NOT NULL,"
    " PRIMARY KEY (file)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci";
static struct db_stmt q_routines_applied = DB_STMT(
    "SELECT checksum, routines FROM schema_routines WHERE file = ?");
static struct db_stmt q_routines_count = DB_STMT(
    "SELECT COUNT(*) FROM information_schema.ROUTINES"
    " WHERE ROUTINE_SCHEMA = DATABASE()");
static struct db_stmt q_routines_record = DB_STMT(
    "REPLACE INTO schema_routines (file, checksum, routines, applied_at)"
    " VALUES (?, ?, ?, UTC_TIMESTAMP(3))");
/*
 * The migration lock: one row, taken by writing an owner and a lease in
 * a transaction.  A row replicates (Galera, Group Replication, a
 * replica) where GET_LOCK does not; two hosts that take it at once on
 * two Galera nodes conflict at certification, and the loser looks again.
 * It is a lease, not a lock held by a transaction, since every DDL
 * statement commits the open transaction: renewed before each migration,
 * it frees itself MIGRATE_LOCK_LEASE seconds after a crashed run.
 */
static const char migrate_lock_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_lock ("
    " id TINYINT UNSIGNED NOT NULL,"
    " owner VARCHAR(128) COLLATE utf8mb4_bin NULL,"
    " expires_at DATETIME(3) NULL,"
    " PRIMARY KEY (id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci";
static const char migrate_lock_row_sql[] =
    "INSERT IGNORE INTO schema_lock (id) VALUES (1)";

static struct db_stmt q_lock_read = DB_STMT(
    "SELECT owner, expires_at > UTC_TIMESTAMP(3), expires_at"
    " FROM schema_lock WHERE id = 1 FOR UPDATE");
static struct db_stmt q_lock_take = DB_STMT(
    "UPDATE schema_lock SET owner = ?,"
    " expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND WHERE id = 1");
static struct db_stmt q_lock_renew = DB_STMT(
    "UPDATE schema_lock SET"
    " expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND"
    " WHERE id = 1 AND owner = ?");
static struct db_stmt q_lock_release = DB_STMT(
    "UPDATE schema_lock SET owner = NULL, expires_at = NULL"
    " WHERE id = 1 AND owner = ?");

/* Order migrations by number. */
static int
migrate_compare(const void *a, const void *b)
{
	const struct migration	*ma = a, *mb = b;

	if (ma->version != mb->version)
		return ma->version < mb->version ? -1 : 1;
	return 0;
}

/* The number of a migration file name (NNN_name.sql), or 0 if it is not. */
static unsigned int
migrate_parse_name(const char *name)
{
	const char	*p = name;
	unsigned long	 v = 0;
	size_t		 len = strlen(name);

	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 999999)
			return 0;
		p++;
	}
	if (*p != '_' || len < 5 || strcmp(name + len - 4, ".sql") != 0 ||
	    (size_t)(p - name) + 1 >= len - 4)
		return 0;
	return (unsigned int)v;
}

/* Free a list of migrations. */
static void
migrate_list_free(struct migration *list, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].path);
	}
	free(list);
}

/*
 * List the migration files of a directory, sorted by number; the caller
 * frees the list with migrate_list_free().  0 or -1.
 */
static int
migrate_list(const char *dir, struct migration **out, size_t *count)
{
	DIR			*d;
	struct dirent		*de;
	struct migration	*list = NULL;
	size_t			 n = 0, cap = 0, i;
	unsigned int		 v;

	if ((d = opendir(dir)) == NULL) {
		log_warn("migrations: %s", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if ((v = migrate_parse_name(de->d_name)) == 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			list = xreallocarray(list, cap, sizeof *list);
		}
		list[n].version = v;
		list[n].name = xstrdup(de->d_name);
		xasprintf(&list[n].path, "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	if (n == 0) {
		log_warnx("migrations: no NNN_name.sql files in %s", dir);
		free(list);
		return -1;
	}
	qsort(list, n, sizeof *list, migrate_compare);
	for (i = 1; i < n; i++) {
		if (list[i].version == list[i - 1].version) {
			log_warnx("migrations: %s and %s have the same number",
			    list[i - 1].path, list[i].path);
			migrate_list_free(list, n);
			return -1;
		}
	}
	*out = list;
	*count = n;
	return 0;
}

/* Whether the database has a table of that name: 1, 0, or -1. */
static int
migrate_table_exists(const char *table)
{
	struct db_rows	*rows;
	int		 rc, exists;

	if ((rows = db_query(&q_table_exists, "s", table)) == NULL)
		return -1;
	rc = db_fetch(rows);
	exists = rc == 1 && db_u64(rows, 0) != 0;
	db_rows_free(rows);
	return rc == 1 ? exists : -1;
}

/* Read the versions schema_version lists (none if it does not exist). */
static int
migrate_read_applied(struct migrate_applied *ap)
{
	struct db_rows	*rows;
	size_t		 cap = 0;
	int		 rc, exists;

	ap->versions = NULL;
	ap->n = 0;
	if ((exists = migrate_table_exists("schema_version")) != 1)
		return exists;

	if ((rows = db_query(&q_applied, "")) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		if (ap->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			ap->versions = xreallocarray(ap->versions, cap,
			    sizeof *ap->versions);
		}
		ap->versions[ap->n++] = (unsigned int)db_u64(rows, 0);
	}
	db_rows_free(rows);
	if (rc == -1) {
		free(ap->versions);
		ap->versions = NULL;
		ap->n = 0;
		return -1;
	}
	return 0;
}

/* 1 if a version is among the applied ones. */
static int
migrate_is_applied(const struct migrate_applied *ap, unsigned int version)
{
	size_t	i;

	for (i = 0; i < ap->n; i++) {
		if (ap->versions[i] == version)
			return 1;
	}
	return 0;
}

/* Warn about applied versions this sql directory has no file for. */
static void
migrate_check_unknown(const struct migrate_applied *ap,
    const struct migration *list, size_t n, const char *dir)
{
	size_t	i, j;

	for (i = 0; i < ap->n; i++) {
		for (j = 0; j < n; j++) {
			if (list[j].version == ap->versions[i])
				break;
		}
		if (j == n)
			log_warnx("migrations: the database has version %u,"
			    " which %s lacks (is this sohbet older than its"
			    " database?)", ap->versions[i], dir);
	}
}

/* Read a whole file into a NUL-terminated buffer the caller frees. */
static char *
migrate_read_file(const char *path)
{
	FILE		*f;
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if (fstat(fileno(f), &st) == -1) {
		log_warn("%s", path);
		goto fail;
	}
	if (st.st_size > MIGRATE_FILE_MAX) {
		log_warnx("%s: larger than %d bytes", path, MIGRATE_FILE_MAX);
		goto fail;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	len = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		log_warn("%s", path);
		free(buf);
		buf = NULL;
		goto fail;
	}
	buf[len] = '\0';
fail:
	fclose(f);
	return buf;
}

/* What migrate_apply() passes each statement of a file. */
struct migrate_progress {
	const struct migration	*m;
	unsigned int		 done;	/* statements applied so far */
};

/* Run one statement of a migration, naming the file and line on error. */
static int
migrate_statement(void *arg, const char *sql, unsigned int line)
{
	struct migrate_progress	*mp = arg;

	if (db_sql(sql) == 0) {
		mp->done++;
		return 0;
	}
	log_warnx("%s: the statement at line %u failed: %s (MySQL error %d)",
	    mp->m->path, line, db_errstr(), db_errno());
	if (mp->done > 0)
		log_warnx("%s: its %u statement%s before it stay applied (DDL"
		    " commits at once); repair the database, then migrate"
		    " again", mp->m->name, mp->done, mp->done == 1 ? "" : "s");
	return -1;
}

/*
 * If a line (trimmed, NUL-terminated) is "DELIMITER x", copy x into delim
 * and return 1; 0 for any other line, -1 for a delimiter that is empty
 * or too long.
 */
static int
migrate_delimiter(const char *line, char *delim, size_t size)
{
	const char	*arg;

	if (strncasecmp(line, "DELIMITER", 9) != 0 ||
	    (line[9] != '\0' && !isspace((unsigned char)line[9])))
		return 0;
	for (arg = line + 9; isspace((unsigned char)*arg); arg++)
		;
	if (*arg == '\0' || strlen(arg) >= size)
		return -1;
	snprintf(delim, size, "%s", arg);
	return 1;
}

/* Trim a line in place: its first non-space byte, *len its new length. */
static char *
migrate_trim(char *line, size_t *len)
{
	char	*end;

	while (isspace((unsigned char)*line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	*len = (size_t)(end - line);
	return line;
}

/*
 * Split the text of a migration (modified in place) into statements and
 * hand each to fn with the line it starts on, stopping at the first that
 * fn fails.  A statement ends with a line that ends in the delimiter,
 * which is not passed on, or with the file.  0 or -1.
 */
int
migrate_split(char *text, int (*fn)(void *, const char *, unsigned int),
    void *arg)
{
	char		 delim[16] = ";", *line, *next, *sql = NULL;
	size_t		 len = 0, cap = 0, n, dlen = 1;
	unsigned int	 lineno = 0, start = 0;
	int		 rc = -1, d;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = migrate_trim(line, &n);
		if (n == 0 || strncmp(line, "--", 2) == 0)
			continue;
		if (len == 0 && (d = migrate_delimiter(line, delim,
		    sizeof delim)) != 0) {
			if (d == -1) {
				log_warnx("line %u: a DELIMITER needs one"
				    " short word", lineno);
				goto fail;
			}
			dlen = strlen(delim);
			continue;
		}
		if (len == 0)
			start = lineno;
		if (len + n + 2 > cap) {
			cap = (len + n + 2) * 2;
			sql = xreallocarray(sql, cap, 1);
		}
		memcpy(sql + len, line, n);
		len += n;
		if (n < dlen || memcmp(line + n - dlen, delim, dlen) != 0) {
			sql[len++] = '\n';
			continue;
		}
		sql[len - dlen] = '\0';
		if (len > dlen && fn(arg, sql, start) == -1)
			goto fail;
		len = 0;
	}
	if (len > 0) {
		sql[len - 1] = '\0';	/* the last line's '\n' */
		if (fn(arg, sql, start) == -1)
			goto fail;
	}
	rc = 0;
fail:
	free(sql);
	return rc;
}

/*
 * Run every statement of a file's text (modified in place) in turn.
 * 0 or -1.
 */
static int
migrate_statements(const struct migration *m, char *text)
{
	struct migrate_progress	 mp = { m, 0 };

	if (migrate_split(text, migrate_statement, &mp) == 0)
		return 0;
	if (mp.done == 0)
		log_warnx("%s: not applied", m->path);
	return -1;
}

/*
 * Apply one migration file: every statement in turn, then its
 * schema_version row.  0 or -1.
 */
static int
migrate_apply(const struct migration *m)
{
	char	*text;
	int	 rc = -1;

	if ((text = migrate_read_file(m->path)) == NULL)
		return -1;
	if (migrate_statements(m, text) == -1)
		goto fail;
	if (db_exec(&q_record, "us", (uint64_t)m->version, m->name) != 1) {
		log_warnx("%s: applied, but recording it in schema_version"
		    " failed: %s", m->name, db_errstr());
		goto fail;
	}
	rc = 0;
fail:
	free(text);
	return rc;
}

/*
 * Try once to take the lock row for owner, in one transaction: 1 taken,
 * 0 another run holds it (named in held), -1 error.
 */
static int
migrate_lock_try(const char *owner, char *held, size_t heldsz)
{
	struct db_rows	*rows;
	int		 taken;

	if (db_begin() == -1 || (rows = db_query(&q_lock_read, "")) == NULL)
		goto fail;
	if (db_fetch(rows) != 1) {
		db_rows_free(rows);
		goto fail;
	}
	taken = !db_is_null(rows, 0) && db_u64(rows, 1) == 1;
	if (taken)
		snprintf(held, heldsz, "%s (until %s UTC)", db_str(rows, 0,
		    NULL), db_str(rows, 2, NULL));
	db_rows_free(rows);
	if (taken) {
		db_rollback();
		return 0;
	}
	if (db_exec(&q_lock_take, "sd", owner, MIGRATE_LOCK_LEASE) != 1 ||
	    db_commit() == -1)
		goto fail;
	return 1;
fail:
	db_rollback();
	/* Lost a race for the row (a Galera certification failure). */
	return db_conflicted() ? 0 : -1;
}

/*
 * Take the lock row that keeps two migrations (two hosts' installs) from
 * running at once, waiting up to MIGRATE_LOCK_WAIT seconds for another
 * run: 0, or -1 when busy or on error.
 */
static int
migrate_lock(const char *owner)
{
	char		held[MIGRATE_OWNER_SIZE + 64] = "";
	long long	until = clock_ms() + MIGRATE_LOCK_WAIT * 1000LL;
	int		rc;

	if (db_sql(migrate_lock_table_sql) == -1 ||
	    db_sql(migrate_lock_row_sql) == -1)
		return -1;
	while ((rc = migrate_lock_try(owner, held, sizeof held)) == 0 &&
	    clock_ms() < until)
		clock_sleep_ms(MIGRATE_LOCK_POLL_MS);
	if (rc == 0)
		log_warnx("migrations: another migration holds the lock: %s; "
		    "if none runs, clear it with UPDATE schema_lock SET "
		    "owner = NULL", held[0] != '\0' ? held : "(a race)");
	return rc == 1 ? 0 : -1;
}

/* Extend the lock's lease before a migration; 0, or -1 if it was lost. */
static int
migrate_lock_renew(const char *owner)
{
	if (db_exec(&q_lock_renew, "ds", MIGRATE_LOCK_LEASE, owner) == 1)
		return 0;
	log_warnx("migrations: the lock was lost (its lease ran out, or it "
	    "was cleared by hand); stopping");
	return -1;
}

/* Release the lock row. */
static void
migrate_unlock(const char *owner)
{
	db_exec(&q_lock_release, "s", owner);
}

/* A name for this run in the lock row: host, pid and start time. */
static void
migrate_owner(char *owner, size_t size)
{
	char	host[64];

	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	snprintf(owner, size, "%s pid %ld at %lld", host, (long)getpid(),
	    clock_ms());
}

/* routines.sql of sqldir: its path, text and checksum. */
struct migrate_routines {
	struct migration	 file;
	char			*text;
	char			 checksum[MIGRATE_CHECKSUM_SIZE];
};

/* Read routines.sql of sqldir and hash it.  0 or -1. */
static int
migrate_routines_read(const char *sqldir, struct migrate_routines *r)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 digest[SHA256_DIGEST_LENGTH];
	size_t			 i;

	memset(r, 0, sizeof *r);
	r->file.name = xstrdup(MIGRATE_ROUTINES);
	xasprintf(&r->file.path, "%s/%s", sqldir, MIGRATE_ROUTINES);
	if ((r->text = migrate_read_file(r->file.path)) == NULL)
		return -1;
	SHA256((const unsigned char *)r->text, strlen(r->text), digest);
	for (i = 0; i < sizeof digest; i++) {
		r->checksum[2 * i] = hex[digest[i] >> 4];
		r->checksum[2 * i + 1] = hex[digest[i] & 0xf];
	}
	r->checksum[2 * i] = '\0';
	return 0;
}

/* Free what migrate_routines_read() filled. */
static void
migrate_routines_free(struct migrate_routines *r)
{
	free(r->file.name);
	free(r->file.path);
	free(r->text);
}

/* How many stored routines the database holds, or -1. */
static long long
migrate_routines_count(void)
{
	struct db_rows	*rows;
	long long	 n = -1;

	if ((rows = db_query(&q_routines_count, "")) == NULL)
		return -1;
	if (db_fetch(rows) == 1)
		n = (long long)db_u64(rows, 0);
	db_rows_free(rows);
	return n;
}

/*
 * Why the routines of r must be applied, or NULL when the database
 * holds them as they were applied last: the same text, and as many
 * routines as it left.  *failed is set on an error.
 */
static const char *
migrate_routines_reason(const struct migrate_routines *r, int *failed)
{
	struct db_rows	*rows;
	const char	*reason = NULL;
	long long	 count;
	int		 exists, rc;

	*failed = 0;
	if ((exists = migrate_table_exists("schema_routines")) == 0)
		return "never applied";
	if (exists == -1 || (count = migrate_routines_count()) == -1 ||
	    (rows = db_query(&q_routines_applied, "s", r->file.name)) ==
	    NULL) {
		*failed = 1;
		return NULL;
	}
	if ((rc = db_fetch(rows)) == 0)
		reason = "never applied";
	else if (rc == 1 && strcmp(db_str(rows, 0, NULL), r->checksum) != 0)
		reason = "its text changed";
	else if (rc == 1 && (long long)db_u64(rows, 1) != count)
		reason = "the database holds another number of routines";
	db_rows_free(rows);
	if (rc == -1)
		*failed = 1;
	return reason;
}

/*
 * Apply routines.sql of sqldir when the database may not hold it as it
 * is: its text changed, a routine is missing, or migrations ran (one may
 * have replaced a routine with its own copy).  A restart of an
 * up-to-date database re-creates nothing: every CREATE is a DDL, which a
 * Galera cluster applies on every node in turn.  0 or -1.
 */
static int
migrate_routines(const char *sqldir, int migrated, const char *owner)
{
	struct migrate_routines	 r;
	const char		*reason;
	long long		 count;
	int			 failed, rc = -1;

	if (migrate_routines_read(sqldir, &r) == -1 ||
	    db_sql(migrate_routines_table_sql) == -1)
		goto fail;
	reason = migrate_routines_reason(&r, &failed);
	if (failed)
		goto fail;
	if (reason == NULL && migrated)
		reason = "migrations were applied";
	if (reason == NULL) {
		log_info("%s is applied as it is; nothing to re-create",
		    r.file.path);
		rc = 0;
		goto fail;
	}
	log_info("applying %s (%s)", r.file.path, reason);
	if (migrate_lock_renew(owner) == -1 ||
	    migrate_statements(&r.file, r.text) == -1 ||
	    (count = migrate_routines_count()) == -1)
		goto fail;
	if (db_exec(&q_routines_record, "ssu", r.file.name, r.checksum,
	    (uint64_t)count) < 1) {
		log_warnx("%s: applied, but recording it in schema_routines"
		    " failed: %s", r.file.name, db_errstr());
		goto fail;
	}
	rc = 0;
fail:
	if (rc == -1)
		log_warnx("migrations: %s was not applied; the database may"
		    " lack routines or hold old ones", MIGRATE_ROUTINES);
	migrate_routines_free(&r);
	return rc;
}

/*
 * Connect for migrating: without a read timeout, since DDL on big tables
 * takes as long as it takes (a human runs this and can stop it).
 */
static int
migrate_connect(void)
{
	int	saved = cfg->db_read_timeout, rc;

	db_disconnect();
	cfg->db_read_timeout = 0;
	rc = db_connect();
	cfg->db_read_timeout = saved;
	return rc;
}

/*
 * Apply the pending migrations of sqldir, in order, recording each one;
 * the connection stays open.  0, or -1 after naming what failed.
 */
int
migrate_run(const char *sqldir)
{
	struct migration	*list;
	struct migrate_applied	 ap = { NULL, 0 };
	char			 owner[MIGRATE_OWNER_SIZE];
	size_t			 n, i;
	unsigned int		 applied = 0, latest = 0;
	int			 locked = 0, rc = -1;

	if (migrate_list(sqldir, &list, &n) == -1)
		return -1;
	if (migrate_connect() == -1) {
		log_warnx("migrations: cannot connect to the database");
		goto fail;
	}
	migrate_owner(owner, sizeof owner);
	if (db_sql(migrate_table_sql) == -1 || migrate_lock(owner) == -1)
		goto fail;
	locked = 1;
	if (migrate_read_applied(&ap) == -1)
		goto fail;
	migrate_check_unknown(&ap, list, n, sqldir);

	for (i = 0; i < n; i++) {
		if (migrate_is_applied(&ap, list[i].version))
			continue;
		log_info("applying %s", list[i].path);
		if (migrate_lock_renew(owner) == -1 ||
		    migrate_apply(&list[i]) == -1) {
			log_warnx("migrations: stopped at %s; later ones were"
			    " not applied", list[i].name);
			goto fail;
		}
		applied++;
	}
	if (migrate_routines(sqldir, applied > 0, owner) == -1)
		goto fail;
	for (i = 0; i < ap.n; i++) {
		if (ap.versions[i] > latest)
			latest = ap.versions[i];
	}
	if (applied > 0 && list[n - 1].version > latest)
		latest = list[n - 1].version;
	if (applied == 0)
		log_info("schema is up to date at version %u; nothing to apply",
		    latest);
	else
		log_info("applied %u migration%s; schema at version %u",
		    applied, applied == 1 ? "" : "s", latest);
	rc = 0;
fail:
	if (locked)
		migrate_unlock(owner);
	free(ap.versions);
	migrate_list_free(list, n);
	return rc;
}

/* Count the migrations of sqldir not applied yet.  0 or -1. */
int
migrate_pending(const char *sqldir, int *count)
{
	struct migration	*list;
	struct migrate_applied	 ap;
	size_t			 n, i;
	int			 rc = -1;

	if (migrate_list(sqldir, &list, &n) == -1)
		return -1;
	if (db_connect() == -1 || migrate_read_applied(&ap) == -1)
		goto fail;
	migrate_check_unknown(&ap, list, n, sqldir);
	*count = 0;
	for (i = 0; i < n; i++) {
		if (!migrate_is_applied(&ap, list[i].version))
			(*count)++;
	}
	free(ap.versions);
	rc = 0;
fail:
	migrate_list_free(list, n);
	return rc;
}

/*
 * Whether sohbetctl migrate would apply routines.sql of sqldir even with
 * no migration pending: *reason says why, or is NULL.  0 or -1.
 */
int
migrate_routines_pending(const char *sqldir, const char **reason)
{
	struct migrate_routines	r;
	int			failed = 1;

	if (migrate_routines_read(sqldir, &r) == 0 && db_connect() == 0)
		*reason = migrate_routines_reason(&r, &failed);
	migrate_routines_free(&r);
	return failed ? -1 : 0;
}

/* The highest applied version (0 for an empty database).  0 or -1. */
int
migrate_version(unsigned int *version)
{
	struct migrate_applied	ap;

	if (db_connect() == -1 || migrate_read_applied(&ap) == -1)
		return -1;
	*version = ap.n > 0 ? ap.versions[ap.n - 1] : 0;
	free(ap.versions);
	return 0;
}

/* The number of the newest migration file of sqldir.  0 or -1. */
int
migrate_latest(const char *sqldir, unsigned int *version)
{
	struct migration	*list;
	size_t			 n;

	if (migrate_list(sqldir, &list, &n) == -1)
		return -1;
	*version = list[n - 1].version;
	migrate_list_free(list, n);
	return 0;
}

