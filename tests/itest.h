/* SPDX-License-Identifier: ISC */
/*
 * itest.h: the harness of the integration tests.  They drive a running
 * nginx + sohbetd + MariaDB (started by `tools/dev test`) over HTTPS with
 * libcurl and read the answers with json.c's tree.
 *
 * The stack is described by the environment tools/dev exports:
 * SOHBET_TEST_URL (https://localhost:PORT), SOHBET_TEST_VAR (the instance's
 * var directory), SOHBET_TEST_DEV (a command prefix taking db-stop,
 * db-start, sohbetd-stop, sohbetd-start), SOHBET_TEST_BUILD and
 * SOHBET_TEST_CONF (sohbetd's configuration file).  Without
 * SOHBET_TEST_URL, itest_init() exits 77: automake's SKIP.
 *
 * A test program calls itest_init() first and then runs Check suites;
 * every helper that asserts uses Check's ck_assert_msg() with the request
 * and the answer in the message.
 */
#ifndef ITEST_H
#define ITEST_H

#include <sys/types.h>
#include <stddef.h>

#include "sohbet.h"

#define ITEST_JSON	"application/json; charset=utf-8"

/* One answer.  A transport failure has status 0 and curl_error set. */
struct itest_response {
	long		 status;	/* HTTP status; 0: no answer */
	char		*body;		/* NUL-terminated (may hold NULs) */
	size_t		 len;		/* of body */
	struct json	*json;		/* the parsed body; NULL if not JSON */
	char		*headers;	/* the raw header block, CRLF lines */
	double		 seconds;	/* how long the request took */
	char		*what;		/* "METHOD /path", for messages */
	char		 curl_error[256];	/* "" unless status is 0 */
	struct json	*root;		/* owns json (arrays are wrapped) */
};

/*
 * Read the environment, initialise libcurl; exit(77) without a stack.
 * Takes a shared lock on the stack for the life of the process.
 */
void		 itest_init(void);
/*
 * Wait until no other test program uses the stack and keep it to this
 * one, before tests that stop or signal parts of it (`make -j check`
 * runs test programs side by side).  Call it outside a test (an
 * unchecked fixture), as the wait has no bound.  The fixture of such a
 * test case: tcase_add_unchecked_fixture(tc, itest_exclusive,
 * itest_restore_teardown), and itest_require_stack() first in a test.
 */
void		 itest_exclusive(void);
/*
 * Unchecked teardown: leave a running stack to the next test program
 * (itest_restore()); a failure is said on stderr.
 */
void		 itest_restore_teardown(void);
/* Assert a healthy stack to start from, restoring what is down. */
void		 itest_require_stack(void);
/* The base URL, e.g. "https://localhost:8443". */
const char	*itest_url(void);
void		 itest_use_url(const char *);
/*
 * Send every later request of this process from this local address
 * ("127.0.0.7": another client to nginx); NULL goes back to the default.
 */
void		 itest_use_source(const char *);
/* Time out every later request of this process after this many seconds. */
void		 itest_set_timeout(long);
void		 itest_set_timeout_ms(long);

/*
 * Send a request to SOHBET_TEST_URL + path.  token (a bearer token),
 * content_type and body may be NULL; with content_type NULL no
 * Content-Type header is sent at all.  Never NULL; free with itest_free().
 */
struct itest_response *itest_request(const char *, const char *,
		    const char *, const char *, const char *, size_t);
struct itest_response *itest_get(const char *, const char *);
struct itest_response *itest_delete(const char *, const char *);
/* A request whose body is printf-formatted JSON (application/json). */
struct itest_response *itest_send(const char *, const char *, const char *,
		    const char *, ...) PRINTFLIKE(4, 5);
void		 itest_free(struct itest_response *);

/* A response header's value (name case-insensitive), or NULL; static. */
const char	*itest_header(struct itest_response *, const char *);
/* The value at "error.code", "user.id", "0.id" (array index), or NULL. */
const struct json *itest_at(const struct json *, const char *);
/* The string at a dotted path of the body, or NULL. */
const char	*itest_str(struct itest_response *, const char *);
/* A short description of an answer for failure messages. */
const char	*itest_describe(struct itest_response *);
/*
 * The head cursor of /events for a bearer token (GET without after),
 * asserting a 200 that carries one; the caller frees it.
 */
char		*itest_events_head(const char *);

/* Assert that the string at a dotted path of the body equals want. */
void		 itest_expect_str(struct itest_response *, const char *,
		    const char *);
/* Assert the status and that the body is JSON (any JSON answer). */
void		 itest_expect(struct itest_response *, long);
/*
 * Assert an API error: the status, Content-Type application/json;
 * charset=utf-8, error.code and a non-empty error.message.
 */
void		 itest_expect_error(struct itest_response *, long,
		    const char *);
/* Assert 400 validation_failed whose error.field is field. */
void		 itest_expect_invalid(struct itest_response *, const char *);
/*
 * Assert 429 rate_limited with Retry-After, 1 to max seconds, and the
 * same retry_after in the error object; returns the seconds.
 */
long		 itest_expect_rate_limited(struct itest_response *, long);

/* A JSON string literal (quotes included) for s; the caller frees it. */
char		*itest_quote(const char *);
/* prefix plus a suffix unique across processes and runs; caller frees. */
char		*itest_unique(const char *);

/* Run "$SOHBET_TEST_DEV subcommand"; its exit status (-1: not run). */
int		 itest_dev(const char *);
/*
 * Start sohbetctl migrate with a configuration file (NULL: the stack's)
 * and an sql directory; its pid.  Its output goes to standard error.
 */
pid_t		 itest_migrate_start(const char *, const char *);
/* Run sohbetctl migrate as itest_migrate_start(); its exit status. */
int		 itest_migrate(const char *, const char *);
/* Routines dropped by a test back, sohbetd restarted (itest.c). */
void		 itest_routines_restore(const char *);
/* A key of the sohbetd configuration as a new string, or NULL. */
char		*itest_conf(const char *, const char *);
/* An integer key of the configuration, or def when absent. */
long		 itest_conf_int(const char *, const char *, long);
/*
 * Set a key in a section of the configuration file (sohbetd reads it on
 * its next start); itest_conf_reset() gives the file its first text back.
 */
void		 itest_conf_set(const char *, const char *, const char *);
void		 itest_conf_reset(void);
/* The same on another configuration file; a copy of sohbetd's. */
void		 itest_conf_file_set(const char *, const char *, const char *,
		    const char *);
void		 itest_conf_copy(const char *);
/*
 * Start another sohbetd pool on a configuration file (listen on sock,
 * output to log) and wait for its socket; its pid.
 */
pid_t		 itest_pool_start(const char *, const char *, const char *);
/* Restart sohbetd to read the configuration file again; asserts. */
void		 itest_conf_restart(void);
/*
 * Unchecked teardown of a test case that changed the configuration:
 * itest_conf_reset(), a restart, itest_restore_teardown().
 */
void		 itest_conf_teardown(void);
/*
 * A connection of the test's own to the database (a MYSQL *), to hold
 * locks while sohbetd works; statements on it assert that they ran.
 */
void		*itest_db_open(void);
void		 itest_db_run(void *, const char *, ...) PRINTFLIKE(2, 3);
long long	 itest_db_number(void *, const char *);
void		 itest_db_close(void *);
/* The master's pid from $SOHBET_TEST_VAR/run/sohbetd.pid, or -1. */
pid_t		 itest_master_pid(void);
/*
 * The fields of /proc/PID/stat after "pid (comm)", read into a buffer of
 * the given size; NULL if the process is gone.
 */
const char	*itest_proc_fields(pid_t, char *, size_t);
/* Whether a process is alive (not a zombie). */
int		 itest_alive(pid_t);
/* The live children of the master, at most max of them; their number. */
int		 itest_worker_pids(pid_t *, int);
/* Poll /api/v1/health until it answers 200: 0, or -1 after seconds. */
int		 itest_wait_health(int);
/* The size of a file under $SOHBET_TEST_VAR ("log/sohbetd.log"), or 0. */
long		 itest_var_size(const char *);
/*
 * The lines of that file from an offset on holding a string: their
 * number, and the first (to free) in *first unless it is NULL.
 */
int		 itest_var_grep(const char *, long, const char *, char **);
/*
 * Bring the stack back after a destructive test: start MariaDB and
 * sohbetd if they are not running and wait for health.  0 or -1.
 */
int		 itest_restore(void);
/* Run SQL in the stack's database as the sohbet user; 0 or -1. */
int		 itest_sql(const char *);
/* The first value a query gives, as a number; -1 on failure. */
long long	 itest_sql_number(const char *);
long long	 itest_sql_numberf(const char *, ...) PRINTFLIKE(1, 2);
/* A query's output, values only and unescaped; NULL on failure (free it). */
char		*itest_sql_text(const char *);
/*
 * A counter or gauge of GET /metrics, by its name with any labels
 * ("sohbet_cache_hits_total{cache=\"users\"}"); asserts it is there.
 */
long		 itest_metric(const char *);
long		 itest_metric_in(const char *, const char *);
#define ITEST_PARKED	"sohbet_parked_polls"	/* the parked polls gauge */
/* Read a metric until it is within lo..hi or seconds pass; its value. */
long		 itest_await_metric(const char *, long, long, double);
/* A request started in a child process (itest_start). */
struct itest_pending {
	pid_t		 pid;
	int		 fd;		/* the child's answer comes here */
	char		*what;
};
/*
 * GET path as token in a child process, so that a long-poll can park
 * while the test acts; itest_finish() waits for it and returns its
 * answer and frees the pending request.
 */
struct itest_pending *itest_start(const char *, const char *);
struct itest_response *itest_finish(struct itest_pending *);
/*
 * itest_finish() and assert an API error (status, code) that came within
 * seconds and does not hold the secret text.
 */
void		 itest_expect_refused(struct itest_pending *, long,
		    const char *, const char *, double);
/* Seconds of the monotonic clock. */
double		 itest_now(void);
/* Sleep for a number of milliseconds. */
void		 itest_sleep_ms(long);
/*
 * Sleep until a change made by hand in the database has reached
 * sohbetd's caches: its cache_ms and a margin.
 */
void		 itest_settle_cache(void);

#endif /* ITEST_H */
