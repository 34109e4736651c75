/* SPDX-License-Identifier: ISC */
/*
 * db.c: the process's one MariaDB connection (a worker has exactly one):
 * connecting with timeouts and fixed session settings to the first
 * healthy place of a list (a Galera node must be Synced), and back to an
 * earlier one when it is healthy again; prepared statements that are
 * prepared again after a reconnect, parameters bound from a type string,
 * buffered results read as text, transactions that tell events.c how
 * they ended, retry scopes that run a body again after it lost a
 * conflict, causal reads on a cluster, and fast failure while the
 * database is down.
 *
 * Everything here is single-threaded and blocking.  After fork() a child
 * must not use a connection its parent opened: connect after forking.
 */
#include <sys/types.h>

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "sohbet.h"

#define DB_PARAMS_MAX		32	/* parameters of one statement */
#define DB_RETRY_INTERVAL	1	/* seconds between connect attempts */
#define DB_FAILBACK_INTERVAL	10	/* seconds between looks back */
#define DB_ROWS_KEEP		(64 * 1024)	/* column buffer kept for reuse */

/* MySQL 8 closes idle connections with this error; MariaDB has no name. */
#define DB_ER_CLIENT_INTERACTION_TIMEOUT	4031
/* MySQL Group Replication rolled the transaction back at its COMMIT. */
#define DB_ER_GR_ROLLBACK_DURING_COMMIT		3101

#define DB_RETRY_FIRST_MS	5	/* the first back-off after a conflict */
#define DB_RETRY_LONGEST_MS	500	/* back-offs double up to this */

#define DB_SQL_MODE	"STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE," \
			"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

/*
 * The state of the transaction: FAILED means it ended without the caller
 * (the connection died, or the server rolled it back on a deadlock):
 * the end hook has already been called with 0, every statement fails until
 * the caller's db_rollback() (or the next db_begin()), so nothing meant for
 * the transaction can run on a fresh connection in autocommit mode.
 */
enum db_txn {
	DB_TXN_NONE,
	DB_TXN_OPEN,
	DB_TXN_FAILED
};

/* One result column: a text buffer and what the fetch wrote about it. */
struct db_col {
	char		*buf;
	size_t		 size;		/* bytes of buf, the NUL included */
	unsigned long	 length;
	my_bool		 is_null;
	my_bool		 error;		/* truncated */
};

/*
 * A stored result.  Handles are pooled: db_rows_free() keeps the arrays
 * and buffers for the next query, so a query allocates nothing once warm.
 */
struct db_rows {
	struct db_stmt	*owner;
	MYSQL_STMT	*stmt;		/* NULL once the connection was lost */
	unsigned int	 ncols;
	unsigned int	 cap;		/* columns bind and cols hold */
	MYSQL_BIND	*bind;
	struct db_col	*cols;
	LIST_ENTRY(db_rows) entry;	/* in db_rows_open or db_rows_pool */
};

/* A parameter value while its statement executes. */
union db_value {
	uint64_t	 u;
	long long	 i;
	int		 d;
};

static MYSQL		*db;

/* What a connection reached (db_cluster_check()). */
enum db_cluster {
	DB_CLUSTER_NONE,		/* a server alone, or not told */
	DB_CLUSTER_GALERA,
	DB_CLUSTER_GR			/* MySQL Group Replication */
};
struct db_node {
	enum db_cluster	 cluster;
	char		 sync_restore[64];	/* the session's own setting */
};
static struct db_node	 db_node;
static size_t		 db_place_index;	/* in config.c's list */
static struct timespec	 db_place_since;	/* or the last failback look */
static unsigned int	 db_generation;
static struct timespec	 db_last_attempt;
static int		 db_attempted;
static enum db_txn	 db_txn;
static unsigned int	 db_txn_errno;	/* what made the transaction fail */
static unsigned int	 db_last_errno;
static char		 db_last_error[MYSQL_ERRMSG_SIZE];
static uint64_t		 db_last_insert_id;

/*
 * Changes that reached the database for good: commits, and statements
 * that changed rows in autocommit mode.  A retry scope only runs its body
 * again while this has not moved since it began (db_retry_claim()).
 */
static uint64_t		 db_committed;
static struct db_retry	*db_retry_current;	/* the innermost scope */
static uint64_t		 db_jitter_state;

/*
 * Told of the end of every transaction (db_on_txn_end()): events.c
 * publishes what committed.  A call up the layers, made through a hook.
 */
static void		(*db_txn_hook)(int);

/* The schema check of a worker's connections (db_schema_require()). */
static int		 db_schema_need;
static unsigned int	 db_schema_found;	/* what the last check read */
static int		 db_schema_old;		/* ... older than needed */
static char		 db_schema_msg[160];

/* The statements prepared on the current connection. */
static struct db_stmt	**db_prepared;
static size_t		 db_nprepared;
static size_t		 db_prepared_cap;

static LIST_HEAD(, db_rows) db_rows_open = LIST_HEAD_INITIALIZER(db_rows_open);
static LIST_HEAD(, db_rows) db_rows_pool = LIST_HEAD_INITIALIZER(db_rows_pool);

static MYSQL_BIND	 db_params[DB_PARAMS_MAX];
static union db_value	 db_values[DB_PARAMS_MAX];

/* Forget the last error before a new call. */
static void
db_clear_error(void)
{
	db_last_errno = 0;
	db_last_error[0] = '\0';
}

/* Remember an error for db_errno() and db_errstr(). */
static void
db_set_error(unsigned int err, const char *msg)
{
	db_last_errno = err;
	snprintf(db_last_error, sizeof db_last_error, "%s", msg);
}

/* 1 if an error means the connection is gone or must not be trusted. */
static int
db_is_connection_error(unsigned int err)
{
	switch (err) {
	case CR_SOCKET_CREATE_ERROR:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_IPSOCK_ERROR:
	case CR_UNKNOWN_HOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_HANDSHAKE_ERR:
	case CR_SERVER_LOST:
	case CR_COMMANDS_OUT_OF_SYNC:
	case CR_NET_PACKET_TOO_LARGE:
	case CR_SERVER_LOST_EXTENDED:
	case CR_STMT_CLOSED:
	case CR_ERR_NET_READ:
	case CR_ERR_NET_WRITE:
	case ER_CON_COUNT_ERROR:
	case ER_UNKNOWN_COM_ERROR:	/* Galera: node not ready for use */
	case ER_SERVER_SHUTDOWN:
	case ER_NET_PACKET_TOO_LARGE:
	case ER_NET_READ_ERROR:
	case ER_NET_READ_INTERRUPTED:
	case ER_NET_ERROR_ON_WRITE:
	case ER_NET_WRITE_INTERRUPTED:
	case ER_CONNECTION_KILLED:
	case DB_ER_CLIENT_INTERACTION_TIMEOUT:
		return 1;
	}
	return 0;
}

/*
 * 1 if an error means the transaction lost a conflict with another one
 * and was rolled back, so that running it again from its start can work:
 * a deadlock (on Galera also a certification failure), a lock wait that
 * timed out, or Group Replication's rollback at COMMIT.
 */
static int
db_is_conflict(unsigned int err)
{
	return err == ER_LOCK_DEADLOCK || err == ER_LOCK_WAIT_TIMEOUT ||
	    err == DB_ER_GR_ROLLBACK_DURING_COMMIT;
}

/*
 * Close the connection.  mysql_close() detaches every statement handle
 * from it (Connector/C sets stmt->mysql to NULL), after which
 * mysql_stmt_close() only frees client memory; open results lose their
 * statement and fail from then on.
 */
static void
db_close(void)
{
	struct db_rows	*rows;
	size_t		 i;

	if (db == NULL)
		return;
	mysql_close(db);
	db = NULL;
	for (i = 0; i < db_nprepared; i++) {
		mysql_stmt_close(db_prepared[i]->stmt);
		db_prepared[i]->stmt = NULL;
	}
	db_nprepared = 0;
	LIST_FOREACH(rows, &db_rows_open, entry)
		rows->stmt = NULL;
}

/*
 * Have fn called once at the end of every transaction that db_begin() or
 * db_begin_call() opened: fn(1) after it committed, fn(0) otherwise.
 */
void
db_on_txn_end(void (*fn)(int))
{
	db_txn_hook = fn;
}

/* Tell the hook that the open transaction ended (committed or not). */
static void
db_txn_ended(int committed)
{
	if (db_txn_hook != NULL)
		db_txn_hook(committed);
}

/* End an open transaction that failed on its own; tell the hook once. */
static void
db_txn_fail(void)
{
	if (db_txn != DB_TXN_OPEN)
		return;
	db_txn = DB_TXN_FAILED;
	db_txn_errno = db_last_errno;
	db_txn_ended(0);
}

/* The connection died: close it and fail any open transaction. */
static void
db_lost(void)
{
	db_close();
	db_txn_fail();
}

/*
 * Record and log an error of a call, then act on it: a connection error
 * closes the connection; a deadlock or lock wait timeout inside a
 * transaction rolls the whole transaction back (InnoDB already did so for
 * a deadlock), so that later statements cannot run outside it.
 */
static void
db_failed(const char *func, unsigned int err, const char *msg,
    const char *sql)
{
	db_set_error(err, msg);
	metrics_db_error(0);
	/* A duplicate key, or a procedure's refusal (SIGNAL): an answer. */
	if (err == ER_DUP_ENTRY || err >= DB_REFUSAL_MIN)
		log_debug("%s: %s", func, db_last_error);
	else if (sql != NULL)
		log_warnx("%s: %s (%.80s)", func, db_last_error, sql);
	else
		log_warnx("%s: %s", func, db_last_error);

	if (db_is_connection_error(err))
		db_lost();
	else if (db_is_conflict(err) && db_txn == DB_TXN_OPEN) {
		if (mysql_real_query(db, "ROLLBACK", 8) != 0)
			db_close();
		db_txn_fail();
	}
}

/* 1 if the server has closed its end of the connection since last use. */
static int
db_peer_closed(void)
{
	struct pollfd	pfd;

	pfd.fd = mysql_get_socket(db);
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 1;
	if (poll(&pfd, 1, 0) != 1)
		return 0;
	return (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* Set the session up the way every statement of sohbet expects it. */
static int
db_session(MYSQL *m)
{
	char	sql[256];
	int	lock_wait = 0;

	/*
	 * A lock wait must fail on the server (a statement error, the
	 * connection kept) before the client's read timeout gives up on an
	 * answer and leaves the statement's outcome unknown.
	 */
	if (cfg->db_read_timeout > 0)
		lock_wait = cfg->db_read_timeout > 2 ?
		    cfg->db_read_timeout / 2 : 1;
	if (lock_wait > 0)
		snprintf(sql, sizeof sql, "SET time_zone = '+00:00',"
		    " sql_mode = '%s', innodb_lock_wait_timeout = %d,"
		    " autocommit = 1", DB_SQL_MODE, lock_wait);
	else
		snprintf(sql, sizeof sql, "SET time_zone = '+00:00',"
		    " sql_mode = '%s', autocommit = 1", DB_SQL_MODE);
	if (mysql_real_query(m, sql, strlen(sql)) != 0)
		return -1;
	/* MariaDB 10.11 has no transaction_isolation variable yet. */
	snprintf(sql, sizeof sql,
	    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (mysql_real_query(m, sql, strlen(sql)) != 0)
		return -1;
	return 0;
}

/*
 * Read the schema version on a new connection, if this process needs one.
 * An older schema fails the connect (every request then answers 503 and
 * the next attempt looks again), so a worker never runs statements the
 * database cannot understand yet.  0 or -1, with the error set.
 */
static int
db_schema_check(MYSQL *m)
{
	static const char	 sql[] =
	    "SELECT COALESCE(MAX(version), 0) FROM schema_version";
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	unsigned int		 found = 0;
	int			 was_old = db_schema_old, rc;

	if (!db_schema_need)
		return 0;
	if (mysql_real_query(m, sql, sizeof sql - 1) != 0) {
		/* No table: a database never migrated. */
		if (mysql_errno(m) != ER_NO_SUCH_TABLE)
			goto fail;
	} else {
		if ((res = mysql_store_result(m)) == NULL)
			goto fail;
		if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
			found = (unsigned int)strtoul(row[0], NULL, 10);
		mysql_free_result(res);
	}
	db_schema_found = found;
	rc = db_schema_compare(found, db_schema_msg, sizeof db_schema_msg);
	if ((db_schema_old = rc == -1)) {
		db_set_error(CR_CONNECTION_ERROR, db_schema_msg);
		return -1;
	}
	if (rc == 1)
		log_warnx("%s", db_schema_msg);
	if (was_old)
		log_info("the database schema is at version %u now; serving "
		    "again", found);
	return 0;
fail:
	db_set_error(mysql_errno(m), mysql_error(m));
	return -1;
}

/*
 * Compare a database's schema version with the SCHEMA_VERSION this build
 * needs: 0 when they match, -1 when the database is older (sohbetctl
 * migrate must run first), 1 when it is newer (this sohbet is older than
 * its database: it works as long as the migrations after it only added).
 * A mismatch is described in msg.
 */
int
db_schema_compare(unsigned int found, char *msg, size_t size)
{
	if (found < SCHEMA_VERSION) {
		snprintf(msg, size, "the database schema is at version %u, "
		    "older than the version %u this sohbet needs: run "
		    "sohbetctl migrate", found, SCHEMA_VERSION);
		return -1;
	}
	if (found > SCHEMA_VERSION) {
		snprintf(msg, size, "the database schema is at version %u, "
		    "newer than the version %u this sohbet was built for: "
		    "upgrade sohbet", found, SCHEMA_VERSION);
		return 1;
	}
	if (size > 0)
		msg[0] = '\0';
	return 0;
}

/*
 * Note the end of a connect attempt: the next one waits a second from
 * here, so that even attempts that hang until connect_timeout leave the
 * calls between them failing at once.
 */
static void
db_attempt_done(void)
{
	clock_gettime(CLOCK_MONOTONIC, &db_last_attempt);
	db_attempted = 1;
}

/*
 * Run a query on a connection being set up and copy the first column of
 * its first row to out ("" for NULL): 1, 0 no row, -1 error (mysql_errno).
 */
static int
db_setup_value(MYSQL *m, const char *sql, char *out, size_t size)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	int		 found = 0;

	out[0] = '\0';
	if (mysql_real_query(m, sql, strlen(sql)) != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return -1;
	if ((row = mysql_fetch_row(res)) != NULL) {
		found = 1;
		snprintf(out, size, "%s", row[0] != NULL ? row[0] : "");
	}
	mysql_free_result(res);
	return found;
}

/* 1 if a value read from the server may go back into a SET statement. */
static int
db_setting_plain(const char *v)
{
	return *v != '\0' && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(v);
}

/*
 * Tell what a new connection reached (a Galera node, a Group Replication
 * member, or a server alone) into node, with the session's own value of
 * the setting db_sync_wait() turns on.  A Galera node that is not ready
 * for clients, or not Synced (a donor, a joiner, cut off from the
 * primary component), fails it: the next place is tried instead.
 * 0 or -1 with the error set.
 */
static int
db_cluster_check(MYSQL *m, struct db_node *node)
{
	char	on[16], ready[16], state[16], why[128];

	memset(node, 0, sizeof *node);
	if (db_setup_value(m, "SELECT @@wsrep_on", on, sizeof on) == -1) {
		if (mysql_errno(m) != ER_UNKNOWN_SYSTEM_VARIABLE)
			goto fail;
		/* MySQL: Group Replication when its plugin is there. */
		if (db_setup_value(m, "SELECT "
		    "@@session.group_replication_consistency",
		    node->sync_restore, sizeof node->sync_restore) == 1) {
			node->cluster = DB_CLUSTER_GR;
			return 0;
		}
		if (mysql_errno(m) != ER_UNKNOWN_SYSTEM_VARIABLE)
			goto fail;
		return 0;
	}
	if (strcmp(on, "1") != 0)
		return 0;
	if (db_setup_value(m, "SELECT VARIABLE_VALUE FROM "
	    "information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = "
	    "'WSREP_READY'", ready, sizeof ready) == -1 ||
	    db_setup_value(m, "SELECT VARIABLE_VALUE FROM "
	    "information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = "
	    "'WSREP_LOCAL_STATE'", state, sizeof state) == -1 ||
	    db_setup_value(m, "SELECT @@session.wsrep_sync_wait",
	    node->sync_restore, sizeof node->sync_restore) == -1)
		goto fail;
	if (strcasecmp(ready, "ON") != 0 || strcmp(state, "4") != 0) {
		snprintf(why, sizeof why, "a Galera node not ready for clients "
		    "(wsrep_ready %s, wsrep_local_state %s; 4 is Synced)",
		    ready, state);
		db_set_error(ER_UNKNOWN_COM_ERROR, why);
		return -1;
	}
	node->cluster = DB_CLUSTER_GALERA;
	return 0;
fail:
	db_set_error(mysql_errno(m), mysql_error(m));
	return -1;
}

/* The number of places to connect to (config.c's list). */
static size_t
db_nplaces(void)
{
	return cfg->db_nplaces > 0 ? cfg->db_nplaces : 1;
}

/*
 * The ith place to connect to.  A configuration that config_load() did
 * not read (the unit tests set socket or host) has one: its socket, or
 * else its host.
 */
static const struct config_db_place *
db_place_at(size_t i)
{
	static struct config_db_place	one;

	if (cfg->db_nplaces > 0)
		return &cfg->db_places[i];
	one.socket = cfg->db_socket != NULL && *cfg->db_socket != '\0' ?
	    cfg->db_socket : NULL;
	one.host = one.socket != NULL ? NULL : cfg->db_host;
	one.port = cfg->db_port;
	return &one;
}

/* A place as "host:port" or the socket's path, for logs; static. */
static const char *
db_place_name(const struct config_db_place *p)
{
	static char	name[300];

	if (p->socket != NULL)
		return p->socket;
	snprintf(name, sizeof name, "%s:%u", p->host != NULL ? p->host :
	    "localhost", p->port);
	return name;
}

/*
 * Connect to one place and set the connection up: the session, what
 * kind of node it is (healthy, if Galera) and the schema.  The new
 * connection, or NULL with the error set and logged.
 */
static MYSQL *
db_open_place(const struct config_db_place *p, struct db_node *node,
    const char *func)
{
	MYSQL		*m;
	unsigned int	 connect_timeout, read_timeout, write_timeout;

	if ((m = mysql_init(NULL)) == NULL) {
		db_set_error(CR_OUT_OF_MEMORY, "mysql_init failed");
		log_warnx("%s: %s", func, db_last_error);
		return NULL;
	}
	connect_timeout = cfg->db_connect_timeout;
	read_timeout = cfg->db_read_timeout;
	write_timeout = cfg->db_write_timeout;
	if (connect_timeout > 0)
		mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	if (read_timeout > 0)
		mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
	if (write_timeout > 0)
		mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &write_timeout);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");

	/*
	 * CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, not only
	 * those it changed, so "0 rows" always means "no such row".
	 */
	if (mysql_real_connect(m, p->host, cfg->db_user, cfg->db_password,
	    cfg->db_name, p->port, p->socket, CLIENT_FOUND_ROWS) == NULL ||
	    db_session(m) != 0) {
		db_set_error(mysql_errno(m), mysql_error(m));
		goto fail;
	}
	if (db_cluster_check(m, node) == -1 || db_schema_check(m) == -1)
		goto fail;
	return m;
fail:
	log_warnx("%s: %s: %s", func, db_place_name(p), db_last_error);
	mysql_close(m);
	return NULL;
}

/*
 * Connect to the first place before limit in the list where a healthy
 * node answers, and make it the connection (closing the one there was).
 * 0, or -1 with the last place's error set.
 */
static int
db_open_first(const char *func, size_t limit)
{
	const struct config_db_place	*p;
	struct db_node			 node;
	MYSQL				*m = NULL;
	size_t				 i;

	for (i = 0; i < limit && m == NULL; i++)
		m = db_open_place(db_place_at(i), &node, func);
	if (m == NULL)
		return -1;
	p = db_place_at(--i);
	db_close();
	db = m;
	db_node = node;
	if (db_nplaces() > 1)
		log_info("connected to the database at %s%s", db_place_name(p),
		    i > 0 ? " (the places before it failed)" : "");
	db_place_index = i;
	clock_gettime(CLOCK_MONOTONIC, &db_place_since);
	if (db_generation++ > 0)
		metrics_db_error(1);
	log_debug("%s: connected, thread %lu", func, mysql_thread_id(db));
	return 0;
}

/* Open the connection now, whatever the time of the last attempt. */
static int
db_open(const char *func)
{
	int	rc;

	rc = db_open_first(func, db_nplaces());
	db_attempt_done();
	return rc;
}

/*
 * While connected to a later place than the first, look again now and
 * then whether an earlier one is healthy, and move there: every worker
 * of every host comes back to the same first healthy node (a single
 * writer: no certification conflicts between them).  Only between
 * transactions and with no result open, which the move would end.
 */
static void
db_failback(const char *func)
{
	struct timespec	now;

	if (db_place_index == 0 || db_txn != DB_TXN_NONE ||
	    !LIST_EMPTY(&db_rows_open))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - db_place_since.tv_sec < DB_FAILBACK_INTERVAL)
		return;
	db_place_since = now;
	if (db_open_first(func, db_place_index) == -1)
		db_clear_error();
}

/*
 * Make sure there is a live connection.  A dead one is noticed before a
 * statement is sent on it (no statement is ever sent twice); a new one is
 * attempted at most once a second (every SCHEMA_RECHECK seconds while the
 * schema was too old), so during an outage calls fail at once.
 * Inside an open transaction the look is skipped: its statement before
 * just succeeded, and a connection lost now takes the whole transaction
 * with it, so nothing of it can run twice.
 */
static int
db_ready(const char *func)
{
	struct timespec	now;
	time_t		retry;

	if (db_txn == DB_TXN_FAILED) {
		db_set_error(db_txn_errno != 0 ? db_txn_errno : CR_SERVER_LOST,
		    "the transaction failed; roll it back first");
		log_warnx("%s: %s", func, db_last_error);
		return -1;
	}
	if (db != NULL && db_txn != DB_TXN_OPEN && db_peer_closed()) {
		db_set_error(CR_SERVER_GONE_ERROR,
		    "the server closed the connection");
		log_warnx("%s: %s", func, db_last_error);
		db_lost();
		if (db_txn == DB_TXN_FAILED)
			return -1;
	}
	if (db != NULL) {
		db_failback(func);
		return 0;
	}
	if (db_attempted) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		retry = db_schema_old ? SCHEMA_RECHECK : DB_RETRY_INTERVAL;
		if (now.tv_sec - db_last_attempt.tv_sec < retry ||
		    (now.tv_sec - db_last_attempt.tv_sec == retry &&
		    now.tv_nsec < db_last_attempt.tv_nsec)) {
			db_set_error(CR_SERVER_GONE_ERROR, db_schema_old ?
			    db_schema_msg : "database unavailable");
			return -1;
		}
	}
	return db_open(func);
}

/* Connect now unless connected; 0 or -1. */
int
db_connect(void)
{
	db_clear_error();
	if (db != NULL)
		return 0;
	return db_open(__func__);
}

/* Close the connection; an open transaction ends unfinished. */
void
db_disconnect(void)
{
	struct db_rows	*rows;
	size_t		 i;

	if (db_txn == DB_TXN_OPEN)
		log_warnx("%s: a transaction was still open", __func__);
	db_close();
	db_txn_fail();
	db_txn = DB_TXN_NONE;
	while ((rows = LIST_FIRST(&db_rows_pool)) != NULL) {
		LIST_REMOVE(rows, entry);
		for (i = 0; i < rows->cap; i++)
			free(rows->cols[i].buf);
		free(rows->cols);
		free(rows->bind);
		free(rows);
	}
	free(db_prepared);
	db_prepared = NULL;
	db_prepared_cap = 0;
}

/*
 * Check the schema version on every connect from now on: a database older
 * than SCHEMA_VERSION is refused.  Workers need this; sohbetctl (which
 * migrates) and the master (which checks at start-up) do not.
 */
void
db_schema_require(void)
{
	db_schema_need = 1;
}

/*
 * 1 if the last connect was refused for an old schema, with the version it
 * found; else 0.
 */
int
db_schema_outdated(unsigned int *found)
{
	if (db_schema_old && found != NULL)
		*found = db_schema_found;
	return db_schema_old;
}

/*
 * Have the statements that follow wait (on 1) until the node has applied
 * every transaction the cluster committed before each of them, a causal
 * read: wsrep_sync_wait on Galera, group_replication_consistency BEFORE
 * on Group Replication; or (on 0) give the session its own setting back.
 * Nothing to do on a server alone.  0 or -1.
 */
int
db_sync_wait(int on)
{
	char	sql[128];

	db_clear_error();
	if (db_ready(__func__) == -1)
		return -1;
	switch (db_node.cluster) {
	case DB_CLUSTER_GALERA:
		snprintf(sql, sizeof sql, "SET SESSION wsrep_sync_wait = %s",
		    on ? "1" : db_setting_plain(db_node.sync_restore) ?
		    db_node.sync_restore : "0");
		break;
	case DB_CLUSTER_GR:
		snprintf(sql, sizeof sql, "SET SESSION "
		    "group_replication_consistency = '%s'", on ? "BEFORE" :
		    db_setting_plain(db_node.sync_restore) ?
		    db_node.sync_restore : "EVENTUAL");
		break;
	default:
		return 0;
	}
	return db_sql(sql);
}

/* 1 while connected and believed healthy, else 0. */
int
db_available(void)
{
	return db != NULL;
}

/* The server's id of this connection (for KILL), or 0. */
unsigned long
db_thread_id(void)
{
	return db != NULL ? mysql_thread_id(db) : 0;
}

/*
 * Which connection this is, 0 while there is none: it changes with every
 * (re)connection, and so does what the session held (a HANDLER table:
 * history.c).
 */
unsigned int
db_connection(void)
{
	return db != NULL ? db_generation : 0;
}

/* The MYSQL handle, or NULL while disconnected. */
void *
db_handle(void)
{
	return db;
}

/* The AUTO_INCREMENT id (or LAST_INSERT_ID(expr)) of the last statement. */
uint64_t
db_insert_id(void)
{
	return db_last_insert_id;
}

/* The MySQL errno of the last failed call (CR_* or ER_*), 0 if it worked. */
int
db_errno(void)
{
	return (int)db_last_errno;
}

/* The message of the last failed call, "" if it worked. */
const char *
db_errstr(void)
{
	return db_last_error;
}

/* 1 if a statement still has an open result, which running it would end. */
static int
db_rows_busy(struct db_stmt *s, const char *func)
{
	struct db_rows	*rows;

	LIST_FOREACH(rows, &db_rows_open, entry) {
		if (rows->owner == s) {
			db_set_error(CR_COMMANDS_OUT_OF_SYNC,
			    "statement run again before db_rows_free");
			log_warnx("%s: %s (%.80s)", func, db_last_error,
			    s->sql);
			return 1;
		}
	}
	return 0;
}

/* The statement's handle on this connection, prepared if need be. */
static MYSQL_STMT *
db_prepare(struct db_stmt *s, const char *func)
{
	MYSQL_STMT	*st;
	my_bool		 on = 1;
	unsigned int	 err;
	char		 msg[MYSQL_ERRMSG_SIZE];

	if (s->stmt != NULL && s->generation == db_generation)
		return s->stmt;
	if (s->stmt != NULL) {
		/* Only possible for a handle inherited across fork(). */
		mysql_stmt_close(s->stmt);
		s->stmt = NULL;
	}
	if ((st = mysql_stmt_init(db)) == NULL) {
		db_failed(func, mysql_errno(db), mysql_error(db), s->sql);
		return NULL;
	}
	mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	if (mysql_stmt_prepare(st, s->sql, strlen(s->sql)) != 0) {
		err = mysql_stmt_errno(st);
		snprintf(msg, sizeof msg, "%s", mysql_stmt_error(st));
		mysql_stmt_close(st);
		db_failed(func, err, msg, s->sql);
		return NULL;
	}
	if (db_nprepared == db_prepared_cap) {
		db_prepared_cap = db_prepared_cap == 0 ? 64 :
		    db_prepared_cap * 2;
		db_prepared = xreallocarray(db_prepared, db_prepared_cap,
		    sizeof *db_prepared);
	}
	db_prepared[db_nprepared++] = s;
	s->stmt = st;
	s->generation = db_generation;
	return st;
}

/* Fill the parameter array from the type string and the arguments. */
static int
db_bind_params(MYSQL_STMT *st, const char *types, va_list ap,
    const char *func, const char *sql)
{
	MYSQL_BIND	*b;
	const char	*p;
	size_t		 n, i, len;

	n = strlen(types);
	if (n != mysql_stmt_param_count(st) || n > DB_PARAMS_MAX) {
		db_set_error(CR_INVALID_PARAMETER_NO,
		    "parameter count does not match the statement");
		log_warnx("%s: %s: \"%s\" (%.80s)", func, db_last_error,
		    types, sql);
		return -1;
	}
	if (n == 0)
		return 0;
	memset(db_params, 0, n * sizeof db_params[0]);
	for (i = 0; i < n; i++) {
		b = &db_params[i];
		switch (types[i]) {
		case 'u':
			db_values[i].u = va_arg(ap, uint64_t);
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &db_values[i].u;
			b->is_unsigned = 1;
			break;
		case 'i':
			db_values[i].i = va_arg(ap, long long);
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &db_values[i].i;
			break;
		case 'd':
			db_values[i].d = va_arg(ap, int);
			b->buffer_type = MYSQL_TYPE_LONG;
			b->buffer = &db_values[i].d;
			break;
		case 's':
		case 'b':
			p = va_arg(ap, const char *);
			len = types[i] == 'b' ? va_arg(ap, size_t) :
			    (p != NULL ? strlen(p) : 0);
			if (p == NULL) {
				b->buffer_type = MYSQL_TYPE_NULL;
				break;
			}
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = (void *)p;
			b->buffer_length = len;
			break;
		case 'n':
			b->buffer_type = MYSQL_TYPE_NULL;
			break;
		default:
			db_set_error(CR_UNSUPPORTED_PARAM_TYPE,
			    "unknown parameter type");
			log_warnx("%s: %s '%c' (%.80s)", func, db_last_error,
			    types[i], sql);
			return -1;
		}
	}
	if (mysql_stmt_bind_param(st, db_params) != 0) {
		db_failed(func, mysql_stmt_errno(st), mysql_stmt_error(st),
		    sql);
		return -1;
	}
	return 0;
}

/* Prepare if need be, bind and execute a statement; its handle or NULL. */
static MYSQL_STMT *
db_run(struct db_stmt *s, const char *func, const char *types, va_list ap)
{
	MYSQL_STMT	*st;

	db_clear_error();
	if (db_ready(func) == -1 || db_rows_busy(s, func))
		return NULL;
	if ((st = db_prepare(s, func)) == NULL)
		return NULL;
	if (db_bind_params(st, types, ap, func, s->sql) == -1)
		return NULL;
	if (mysql_stmt_execute(st) != 0) {
		db_failed(func, mysql_stmt_errno(st), mysql_stmt_error(st),
		    s->sql);
		return NULL;
	}
	return st;
}

/*
 * Run a statement that returns no rows (or whose rows are only counted);
 * the rows it affected (matched, for an UPDATE) or returned, or -1.
 * The type string has one letter per parameter, each taking arguments:
 *   u  uint64_t                 i  long long          d  int
 *   s  const char * (NUL-terminated; NULL binds SQL NULL)
 *   b  const char *, size_t     (any bytes; NULL binds SQL NULL)
 *   n  SQL NULL, no argument
 * Pass exactly these types: a plain 0 for 'u' or an int for 'b''s length
 * is undefined behaviour in a variadic call.
 */
long long
db_exec(struct db_stmt *s, const char *types, ...)
{
	MYSQL_STMT	*st;
	va_list		 ap;
	long long	 n;

	va_start(ap, types);
	st = db_run(s, __func__, types, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	if (mysql_stmt_field_count(st) != 0) {
		if (mysql_stmt_store_result(st) != 0) {
			db_failed(__func__, mysql_stmt_errno(st),
			    mysql_stmt_error(st), s->sql);
			return -1;
		}
		n = (long long)mysql_stmt_num_rows(st);
		mysql_stmt_free_result(st);
		return n;
	}
	db_last_insert_id = mysql_stmt_insert_id(st);
	n = (long long)mysql_stmt_affected_rows(st);
	if (n > 0 && db_txn == DB_TXN_NONE)
		db_committed++;
	return n;
}

/* Make a column buffer hold at least size bytes (its content is lost). */
static void
db_col_reserve(struct db_col *col, size_t size)
{
	if (col->size >= size)
		return;
	if (size < 64)
		size = 64;
	free(col->buf);
	col->buf = xmalloc(size);
	col->size = size;
}

/* Point the result binding of a column at its buffer. */
static void
db_col_bind(MYSQL_BIND *b, struct db_col *col)
{
	memset(b, 0, sizeof *b);
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = col->buf;
	b->buffer_length = col->size - 1;	/* room for our NUL */
	b->length = &col->length;
	b->is_null = &col->is_null;
	b->error = &col->error;
}

/* A result handle from the pool, with room for ncols columns. */
static struct db_rows *
db_rows_get(unsigned int ncols)
{
	struct db_rows	*rows;

	if ((rows = LIST_FIRST(&db_rows_pool)) != NULL)
		LIST_REMOVE(rows, entry);
	else
		rows = xcalloc(1, sizeof *rows);
	if (rows->cap < ncols) {
		rows->bind = xreallocarray(rows->bind, ncols,
		    sizeof *rows->bind);
		rows->cols = xreallocarray(rows->cols, ncols,
		    sizeof *rows->cols);
		memset(rows->cols + rows->cap, 0,
		    (ncols - rows->cap) * sizeof *rows->cols);
		rows->cap = ncols;
	}
	rows->ncols = ncols;
	return rows;
}

/*
 * Run a query and store its whole result; a handle to read it with
 * db_fetch() and free with db_rows_free(), or NULL.  Several results may
 * be open at once, but not two of the same statement.
 */
struct db_rows *
db_query(struct db_stmt *s, const char *types, ...)
{
	MYSQL_STMT	*st;
	MYSQL_FIELD	*fields;
	struct db_rows	*rows;
	va_list		 ap;
	unsigned int	 i, ncols;

	va_start(ap, types);
	st = db_run(s, __func__, types, ap);
	va_end(ap);
	if (st == NULL)
		return NULL;
	if ((ncols = mysql_stmt_field_count(st)) == 0) {
		db_set_error(CR_NO_STMT_METADATA, "statement returns no rows");
		log_warnx("%s: %s (%.80s)", __func__, db_last_error, s->sql);
		return NULL;
	}
	if (mysql_stmt_store_result(st) != 0) {
		db_failed(__func__, mysql_stmt_errno(st), mysql_stmt_error(st),
		    s->sql);
		return NULL;
	}

	fields = mariadb_stmt_fetch_fields(st);
	rows = db_rows_get(ncols);
	rows->owner = s;
	rows->stmt = st;
	for (i = 0; i < ncols; i++) {
		db_col_reserve(&rows->cols[i], (size_t)fields[i].max_length + 1);
		db_col_bind(&rows->bind[i], &rows->cols[i]);
	}
	LIST_INSERT_HEAD(&db_rows_open, rows, entry);
	if (mysql_stmt_bind_result(st, rows->bind) != 0) {
		db_failed(__func__, mysql_stmt_errno(st), mysql_stmt_error(st),
		    s->sql);
		db_rows_free(rows);
		return NULL;
	}
	return rows;
}

/*
 * Run a query whose one parameter is n ids, as a JSON array of decimal
 * strings (json_id_list(): a statement reads them with JSON_TABLE); as
 * db_query().
 */
struct db_rows *
db_query_ids(struct db_stmt *s, const uint64_t *ids, size_t n)
{
	struct db_rows	*rows;
	const char	*text;
	size_t		 len;
	yajl_gen	 g;

	g = json_id_list(ids, n);
	text = json_gen_text(g, &len);
	rows = db_query(s, "b", text, len);
	yajl_gen_free(g);
	return rows;
}

/*
 * Fetch again the columns of the current row that did not fit their
 * buffer (max_length is only an estimate for some types), and keep the
 * bigger buffers bound for the rows after it.
 */
static int
db_rows_refetch(struct db_rows *rows)
{
	struct db_col	*col;
	unsigned int	 i;

	for (i = 0; i < rows->ncols; i++) {
		col = &rows->cols[i];
		if (!col->error)
			continue;
		db_col_reserve(col, (size_t)col->length + 1);
		db_col_bind(&rows->bind[i], col);
		if (mysql_stmt_fetch_column(rows->stmt, &rows->bind[i], i,
		    0) != 0)
			goto fail;
	}
	if (mysql_stmt_bind_result(rows->stmt, rows->bind) != 0)
		goto fail;
	return 0;

fail:
	db_failed("db_fetch", mysql_stmt_errno(rows->stmt),
	    mysql_stmt_error(rows->stmt), rows->owner->sql);
	return -1;
}

/* Move to the next row: 1 there is one, 0 no more rows, -1 error. */
int
db_fetch(struct db_rows *rows)
{
	struct db_col	*col;
	unsigned int	 i;
	int		 rc;

	if (rows == NULL)
		return -1;
	if (rows->stmt == NULL) {
		db_set_error(CR_SERVER_LOST, "the connection was lost");
		return -1;
	}
	rc = mysql_stmt_fetch(rows->stmt);
	if (rc == MYSQL_NO_DATA)
		return 0;
	if (rc == MYSQL_DATA_TRUNCATED) {
		if (db_rows_refetch(rows) == -1)
			return -1;
	} else if (rc != 0) {
		db_failed(__func__, mysql_stmt_errno(rows->stmt),
		    mysql_stmt_error(rows->stmt), rows->owner->sql);
		return -1;
	}
	for (i = 0; i < rows->ncols; i++) {
		col = &rows->cols[i];
		if (!col->is_null)
			col->buf[col->length] = '\0';
	}
	return 1;
}

/*
 * The position of a result's column by name, or -1: for a statement
 * whose columns are a table's own, in the table's order (HANDLER READ).
 */
int
db_column(struct db_rows *rows, const char *name)
{
	MYSQL_FIELD	*fields;
	unsigned int	 i;

	if (rows == NULL || rows->stmt == NULL ||
	    (fields = mariadb_stmt_fetch_fields(rows->stmt)) == NULL)
		return -1;
	for (i = 0; i < rows->ncols; i++) {
		if (strcmp(fields[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* 1 if a column of the current row is SQL NULL (or out of range). */
int
db_is_null(struct db_rows *rows, unsigned int i)
{
	return i >= rows->ncols || rows->cols[i].is_null;
}

/*
 * A column of the current row as NUL-terminated text (binary columns may
 * hold NULs: use the length), or NULL for SQL NULL.  Valid until the next
 * db_fetch() or db_rows_free().
 */
const char *
db_str(struct db_rows *rows, unsigned int i, size_t *len)
{
	if (db_is_null(rows, i)) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = rows->cols[i].length;
	return rows->cols[i].buf;
}

/* A column of the current row as an unsigned integer; NULL is 0. */
uint64_t
db_u64(struct db_rows *rows, unsigned int i)
{
	if (db_is_null(rows, i))
		return 0;
	return strtoull(rows->cols[i].buf, NULL, 10);
}

/* A column of the current row as a signed integer; NULL is 0. */
long long
db_i64(struct db_rows *rows, unsigned int i)
{
	if (db_is_null(rows, i))
		return 0;
	return strtoll(rows->cols[i].buf, NULL, 10);
}

/* Free a result (NULL is fine); its statement can be run again. */
void
db_rows_free(struct db_rows *rows)
{
	unsigned int	i;

	if (rows == NULL)
		return;
	if (rows->stmt != NULL)
		mysql_stmt_free_result(rows->stmt);
	LIST_REMOVE(rows, entry);
	rows->owner = NULL;
	rows->stmt = NULL;
	for (i = 0; i < rows->cap; i++) {
		if (rows->cols[i].size > DB_ROWS_KEEP) {
			free(rows->cols[i].buf);
			rows->cols[i].buf = NULL;
			rows->cols[i].size = 0;
		}
	}
	LIST_INSERT_HEAD(&db_rows_pool, rows, entry);
}

/* Run fixed SQL on a live connection and discard any result. */
static int
db_text(const char *func, const char *sql)
{
	MYSQL_RES	*res;

	if (mysql_real_query(db, sql, strlen(sql)) != 0) {
		db_failed(func, mysql_errno(db), mysql_error(db), sql);
		return -1;
	}
	if ((res = mysql_store_result(db)) != NULL)
		mysql_free_result(res);
	else if (mysql_field_count(db) != 0) {
		db_failed(func, mysql_errno(db), mysql_error(db), sql);
		return -1;
	} else if (db_txn == DB_TXN_NONE && mysql_affected_rows(db) > 0 &&
	    mysql_affected_rows(db) != (my_ulonglong)-1)
		db_committed++;
	db_last_insert_id = mysql_insert_id(db);
	return 0;
}

/*
 * Run fixed SQL without parameters (migrations, session statements);
 * never SQL that holds anything a user sent.  0 or -1.
 */
int
db_sql(const char *sql)
{
	db_clear_error();
	if (db_ready(__func__) == -1)
		return -1;
	return db_text(__func__, sql);
}

/*
 * Open a transaction, sending begin unless the statement that follows
 * begins it itself (NULL).  Each call that returns 0 is ended by exactly
 * one call of the end hook (db_on_txn_end()): 1 after the commit, 0 after
 * db_rollback(), a failed commit, or the loss of the transaction.
 */
static int
db_open_txn(const char *func, const char *begin)
{
	db_clear_error();
	if (db_txn == DB_TXN_OPEN) {
		log_warnx("%s: a transaction was left open; rolling it back",
		    func);
		db_rollback();
	}
	db_txn = DB_TXN_NONE;
	if (db_ready(func) == -1 ||
	    (begin != NULL && db_text(func, begin) == -1))
		return -1;
	db_txn = DB_TXN_OPEN;
	return 0;
}

/* Start a transaction; end it with db_commit() or db_rollback(). */
int
db_begin(void)
{
	return db_open_txn(__func__, "START TRANSACTION");
}

/*
 * Start a transaction that the next statement, the CALL of a stored
 * procedure, begins and commits inside the server: no round trip of its
 * own.  It counts as open, so that a connection lost during the CALL
 * leaves its sequence numbers pending as a lost COMMIT does.  End it with
 * db_end_call() once the CALL succeeded, or with db_rollback().
 */
int
db_begin_call(void)
{
	return db_open_txn(__func__, NULL);
}

/*
 * After a CALL of r failed: 1 when the server says r does not exist (a
 * dump restored without --routines has every table and no procedure),
 * noted with a warning, and 0 for any other failure.  r is then not
 * usable for DB_ROUTINE_RETRY_MS: the caller does without it.
 */
int
db_routine_lost(struct db_routine *r)
{
	if (db_last_errno != ER_SP_DOES_NOT_EXIST)
		return 0;
	log_warnx("the stored procedure %s is missing (a dump restored "
	    "without --routines?): %s until sohbetctl migrate creates it "
	    "again from routines.sql (operations.md, Backup)", r->name,
	    r->fallback);
	r->lost_ms = clock_ms();
	return 1;
}

/* Whether to CALL r: unless it was found missing in the last minute. */
int
db_routine_usable(const struct db_routine *r)
{
	return r->lost_ms == 0 ||
	    clock_ms() - r->lost_ms >= DB_ROUTINE_RETRY_MS;
}

/* The CALL of a db_begin_call() transaction committed it. */
void
db_end_call(void)
{
	if (db_txn != DB_TXN_OPEN)
		return;
	db_txn = DB_TXN_NONE;
	db_committed++;
	db_txn_ended(1);
}

/*
 * Commit the open transaction; 0, or -1 when it did not commit (it is
 * over either way: a db_rollback() after a failed commit does nothing).
 */
int
db_commit(void)
{
	db_clear_error();
	if (db_txn != DB_TXN_OPEN) {
		if (db_txn == DB_TXN_FAILED)
			db_set_error(db_txn_errno, "the transaction failed");
		else {
			db_set_error(CR_COMMANDS_OUT_OF_SYNC,
			    "no transaction to commit");
			log_warnx("%s: %s", __func__, db_last_error);
		}
		db_txn = DB_TXN_NONE;
		return -1;
	}
	if (db_ready(__func__) == -1 || db_text(__func__, "COMMIT") == -1) {
		if (db_txn == DB_TXN_OPEN) {
			/* Refused by the server, connection alive. */
			db_txn = DB_TXN_NONE;
			if (mysql_real_query(db, "ROLLBACK", 8) != 0)
				db_close();
			db_txn_ended(0);
		}
		db_txn = DB_TXN_NONE;
		return -1;
	}
	db_txn = DB_TXN_NONE;
	db_committed++;
	db_txn_ended(1);
	return 0;
}

/*
 * Roll the open transaction back.  Without one (never begun, already
 * committed, or already failed) it does nothing, so a fail: path may call
 * it unconditionally.  It keeps db_errno() of the call that failed.
 */
void
db_rollback(void)
{
	enum db_txn	was = db_txn;
	unsigned int	err = db_last_errno;
	char		msg[MYSQL_ERRMSG_SIZE];

	db_txn = DB_TXN_NONE;
	if (was != DB_TXN_OPEN)
		return;
	if (db != NULL) {
		snprintf(msg, sizeof msg, "%s", db_last_error);
		if (db_text(__func__, "ROLLBACK") == 0 && err != 0)
			db_set_error(err, msg);
	}
	db_txn_ended(0);
}

/*
 * Retry scopes.  A body that runs write transactions (a request's
 * handler, a send of a batch) runs inside one:
 *
 *	db_retry_begin(&r);
 *	do
 *		body();
 *	while (db_retry_again(&r));
 *
 * When a transaction of the body loses a conflict (db_is_conflict()) its
 * failure is claimed with db_retry_claim() where it would be answered;
 * the body then returns without answering, and db_retry_again() waits a
 * jittered, doubling back-off and has it run again from its first
 * statement, which reads again what the winner wrote.  A body runs again
 * only while nothing of it has committed, so nothing is ever written
 * twice, and only inside cfg->db_retry_ms from the scope's start; then
 * the failure is answered (503 with Retry-After, response_db_error()).
 */
void
db_retry_begin(struct db_retry *r)
{
	memset(r, 0, sizeof *r);
	r->deadline = clock_ms() + cfg->db_retry_ms;
	r->committed = db_committed;
	r->wait_ms = -1;
	r->outer = db_retry_current;
	db_retry_current = r;
}

/* A pseudo-random number below n, different in every process. */
static long long
db_jitter(long long n)
{
	uint64_t	x;

	if (db_jitter_state == 0)
		db_jitter_state = ((uint64_t)getpid() << 32) ^
		    (uint64_t)clock_ms() ^ 0x9e3779b97f4a7c15ULL;
	/* xorshift64 */
	x = db_jitter_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	db_jitter_state = x;
	return n > 0 ? (long long)(x % (uint64_t)n) : 0;
}

/*
 * Claim the failure of the last call for the innermost retry scope: 1
 * when the body is to run again (its caller then answers nothing and
 * returns), 0 when the failure is to be answered: not a conflict,
 * something of the body already committed, no scope, or the budget would
 * run out during the back-off (db_retry_exhausted()).
 */
int
db_retry_claim(void)
{
	struct db_retry	*r = db_retry_current;
	long long	 base, wait;

	if (r == NULL || !db_is_conflict(db_last_errno) ||
	    db_committed != r->committed)
		return 0;
	base = DB_RETRY_FIRST_MS << (r->attempt < 7 ? r->attempt : 7);
	if (base > DB_RETRY_LONGEST_MS)
		base = DB_RETRY_LONGEST_MS;
	/* Half fixed, half random: losers of one conflict spread out. */
	wait = base / 2 + db_jitter(base / 2 + 1);
	if (clock_ms() + wait > r->deadline) {
		r->exhausted = 1;
		metrics_db_retry(0);
		log_warnx("a transaction lost %u conflicts in a row; giving up "
		    "after %d ms: %s", r->attempt + 1, cfg->db_retry_ms,
		    db_last_error);
		return 0;
	}
	r->wait_ms = wait;
	return 1;
}

/*
 * End one run of a scope's body: 1 after the back-off when a failure
 * claimed another run, else 0, and the scope is over.
 */
int
db_retry_again(struct db_retry *r)
{
	if (r->wait_ms < 0) {
		db_retry_current = r->outer;
		return 0;
	}
	log_debug("%s: conflict (%s); again in %lld ms", __func__,
	    db_last_error, r->wait_ms);
	metrics_db_retry(1);
	clock_sleep_ms(r->wait_ms);
	r->wait_ms = -1;
	r->attempt++;
	return 1;
}

/* 1 while the body of a retry scope runs again after a conflict. */
int
db_retry_rerun(void)
{
	return db_retry_current != NULL && db_retry_current->attempt > 0;
}

/*
 * 1 if the last call failed on a conflict with other transactions (the
 * database works, but the change did not go through: worth trying again
 * shortly), whether or not a retry scope tried it again already.
 */
int
db_conflicted(void)
{
	return db_is_conflict(db_last_errno);
}

/* Copy a text column into a fixed buffer ("" for NULL). */
void
db_copy(char *dst, size_t size, struct db_rows *rows, unsigned int col)
{
	const char	*s = db_str(rows, col, NULL);

	snprintf(dst, size, "%s", s != NULL ? s : "");
}

/*
 * Read the one row of a result into out with fill, and free the result:
 * 1 found, 0 not found, -1 error.
 */
int
db_fetch_one(struct db_rows *rows, void (*fill)(struct db_rows *, void *),
    void *out)
{
	int	found;

	if (rows == NULL)
		return -1;
	if ((found = db_fetch(rows)) == 1)
		fill(rows, out);
	db_rows_free(rows);
	return found;
}

/*
 * Run a one-row query into a generator with gen_row: the new generator,
 * or NULL when there is no such row or the query failed.
 */
yajl_gen
db_row_json(struct db_rows *rows,
    void (*gen_row)(yajl_gen, struct db_rows *))
{
	yajl_gen	g = NULL;

	if (rows != NULL && db_fetch(rows) == 1) {
		g = json_gen_new();
		gen_row(g, rows);
	}
	db_rows_free(rows);
	return g;
}

/*
 * Write every row of a result as a JSON array, one object per row written
 * by gen_row, and free the result.  0, or -1 on a database error.
 */
int
db_rows_json(yajl_gen g, struct db_rows *rows,
    void (*gen_row)(yajl_gen, struct db_rows *))
{
	int	rc;

	if (rows == NULL)
		return -1;
	yajl_gen_array_open(g);
	while ((rc = db_fetch(rows)) == 1)
		gen_row(g, rows);
	yajl_gen_array_close(g);
	db_rows_free(rows);
	return rc;
}
