/* SPDX-License-Identifier: ISC */
/*
 * sohbet.h: the shared types and prototypes of sohbetd and sohbetctl,
 * grouped by the file that defines them.
 *
 * The files keep one layer order (docs/hacking.md; tools/layers checks
 * it): a file calls its own layer and those below, never above, and no
 * files call each other round in a circle.
 *
 *   util     log xmalloc clock text json config emoji emoji-table
 *            imagehead
 *   store    hub ephemeral metrics db migrate sequencer events
 *   http     request response param
 *   domain   token users password refresh auth perm overwrites servers
 *            channels access cache replies reactions mentions words
 *            attachments messages pins history ratelimit throttle roles
 *            members bans change dms typing presence readcache readstate
 *            search
 *   runtime  poll wait sendbatch reactbatch ackbatch hashpool
 *   api      api-*.c
 *   process  router keeper worker master sohbetd sohbetctl seed setup
 *            filestore
 *
 * A lower layer that must reach up takes a callback that the upper one
 * registers (db_on_txn_end(), request_on_done(), api_metrics_init()).
 */
#ifndef SOHBET_H
#define SOHBET_H

#include <sys/types.h>
#include <sys/queue.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <fcgiapp.h>
#include <yajl/yajl_gen.h>

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) && ((tvar) = TAILQ_NEXT(var, field), 1);		\
	    (var) = (tvar))
#endif

#define API_PREFIX		"/api/v1"
#define BODY_MAX		(64 * 1024)
#define REQUEST_UPLOAD_FILE	"SOHBET_UPLOAD_FILE"	/* nginx's body file */
#define JSON_DEPTH_MAX		16
#define ROUTE_ARGS_MAX		4
#define HUB_SLOTS		64
#define ID_JSON_MAX		((uint64_t)1 << 53)
#define USERNAME_SIZE		(32 * 4 + 1)	/* 32 code points, UTF-8 */
#define METRIC_ROUTES		96	/* routes counted by /metrics */
#define METRIC_STATUSES		8	/* 200 201 204 4xx... see metrics.c */
#define METRIC_BUCKETS		10	/* delivery latency histogram */
#define METRIC_CACHES		5	/* users, standings, history, reads, scopes */

#define PRINTFLIKE(f, a)	__attribute__((format(printf, f, a)))
#define NORETURN		__attribute__((noreturn))

/* imagehead.c */
int		 imagehead_is_image(const char *);
int		 imagehead_check(int, const char *, uint32_t *, uint32_t *);

/* config.c */
/* A place to reach the database: a host and port, or a socket's path. */
struct config_db_place {
	char		*host;		/* NULL for a socket */
	unsigned int	 port;
	char		*socket;	/* NULL for a host */
};
#define CONFIG_DB_PLACES_MAX	16
struct config {
	char		*path;

	/* [database] */
	char		*db_host;
	unsigned int	 db_port;
	char		*db_socket;
	char		*db_user;
	char		*db_password;
	char		*db_name;
	int		 db_connect_timeout;	/* seconds */
	int		 db_read_timeout;
	int		 db_write_timeout;
	int		 db_retry_ms;		/* to retry lost conflicts in */
	/* Where to connect, in order: socket, or each of host's list. */
	struct config_db_place db_places[CONFIG_DB_PLACES_MAX];
	size_t		 db_nplaces;

	/* [server] */
	char		*listen;	/* unix path or host:port; NULL: inherited */
	int		 workers;	/* 0: one per CPU */
	int		 shutdown_timeout;
	char		*user;		/* drop privileges to this user */
	char		*pidfile;
	int		 max_parked;	/* parked long-polls per worker */
	int		 max_parked_per_user;	/* ... of one user */
	int		 cache_ms;	/* what a worker may reuse; 0: off */
	char		*listen_group;	/* group of the unix socket (0660) */

	/* [auth] */
	char		*token_key;	/* at least 32 bytes */
	int		 access_ttl;	/* seconds */
	int		 refresh_ttl_days;
	uint64_t	 scrypt_n;
	uint32_t	 scrypt_r;
	uint32_t	 scrypt_p;
	int		 max_hashes;	/* concurrent scrypt hashes per host */

	/* [auth]: hashing threads, sign-in throttling, refresh grace */
	int		 hash_threads;	/* per worker */
	int		 hash_queue;	/* hashes waiting or running, per worker */
	int		 login_free;	/* failures per address and login */
	int		 login_decay;	/* seconds to forget one of them */
	int		 address_free;	/* failures per address */
	int		 address_decay;
	int		 login_delay_max;	/* the longest delay, seconds */
	int		 refresh_grace;	/* seconds a used token still refreshes */

	/* [events] */
	char		*sequencer;	/* "shm" or "db" */
	int		 retention_days;
	int		 cluster_poll_ms;	/* 0: off */
	int		 presence_linger;	/* seconds connected after a poll */

	/* [limits]: writes and searches per user (ratelimit.c); 0 turns
	 * one off */
	int		 messages_per_second;	/* per conversation */
	int		 messages_burst;
	int		 servers_per_hour;
	int		 invites_per_hour;
	int		 searches_per_minute;	/* message searches */
	int		 searches_burst;

	/* [files]: attachments (attachments.c) */
	char		*files_dir;	/* the store; NULL: uploads refused */
	uint64_t	 files_max_size;	/* bytes per upload */
};
void		 config_init(struct config *);
int		 config_load(struct config *, const char *);
void		 config_clear(struct config *);
int		 config_workers(const struct config *);
extern struct config *cfg;

/* log.c */
void		 log_init(const char *, int);
int		 log_is_verbose(void);
void		 log_warn(const char *, ...) PRINTFLIKE(1, 2);
void		 log_warnx(const char *, ...) PRINTFLIKE(1, 2);
void		 log_info(const char *, ...) PRINTFLIKE(1, 2);
void		 log_debug(const char *, ...) PRINTFLIKE(1, 2);
void		 fatal(const char *, ...) PRINTFLIKE(1, 2) NORETURN;
void		 fatalx(const char *, ...) PRINTFLIKE(1, 2) NORETURN;
#define EXIT_CONFIG	78	/* sysexits.h EX_CONFIG: restarting cannot help */
void		 fatalx_config(const char *, ...) PRINTFLIKE(1, 2) NORETURN;

/* xmalloc.c */
void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);
char		*xstrndup(const char *, size_t);
int		 xasprintf(char **, const char *, ...) PRINTFLIKE(2, 3);

/* clock.c */
uint64_t	 clock_ns(void);
long long	 clock_ms(void);
void		 clock_sleep_ms(long long);

/* json.c */
enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};
struct json_member;
struct json {
	enum json_type	 type;
	int		 boolean;	/* JSON_BOOL */
	char		*text;		/* JSON_STRING (decoded), JSON_NUMBER */
	size_t		 len;		/* of text; may hold NUL bytes */
	struct json	**items;	/* JSON_ARRAY */
	struct json_member *members;	/* JSON_OBJECT */
	size_t		 count;		/* items or members */
};
struct json_member {
	char		*key;
	size_t		 key_len;
	struct json	*value;
};
int		 json_parse(const char *, size_t, struct json **);
void		 json_free(struct json *);
struct json	*json_get(const struct json *, const char *);
int		 json_integer(const struct json *, long long *);
yajl_gen	 json_gen_new(void);
void		 json_gen_key(yajl_gen, const char *);
void		 json_gen_str(yajl_gen, const char *);
void		 json_gen_strn(yajl_gen, const char *, size_t);
void		 json_gen_id(yajl_gen, uint64_t);
void		 json_gen_id_or_zero(yajl_gen, uint64_t);
void		 json_gen_kstr(yajl_gen, const char *, const char *);
void		 json_gen_kid(yajl_gen, const char *, uint64_t);
void		 json_gen_kint(yajl_gen, const char *, long long);
void		 json_gen_kbool(yajl_gen, const char *, int);
void		 json_gen_knull(yajl_gen, const char *);
void		 json_gen_ktime(yajl_gen, const char *, const char *);
void		 json_gen_kraw(yajl_gen, const char *, const char *, size_t);
void		 json_gen_raw(yajl_gen, const char *, size_t);
const char	*json_gen_text(yajl_gen, size_t *);
int		 json_time_format(const char *, char *, size_t);
yajl_gen	 json_id_list(const uint64_t *, size_t);
yajl_gen	 json_ids(const char *, uint64_t, const char *, uint64_t);

/* text.c */
#define TEXT_NO_CONTROL	0x1	/* refuse control characters */
#define TEXT_NOT_BLANK	0x2	/* refuse text that is only white space */
long		 text_codepoints(const char *, size_t);
int		 text_has_control(const char *, size_t);
int		 text_is_blank(const char *, size_t);
int		 text_is_filename(const char *, size_t, long);
int		 text_is_username(const char *, size_t);
int		 text_is_email(const char *, size_t);

/* emoji.c */
#define EMOJI_BYTES_MAX	32	/* of UTF-8 (API.md) */
const char	*emoji_lookup(const char *, size_t);

/* emoji-table.c: generated by tools/emoji-table */
extern const unsigned int emoji_table_count;
extern const char emoji_table_text[];
extern const unsigned short emoji_table_starts[];

/* request.c */
struct route;
/* What a request whose handler returned without an answer waits for. */
enum request_wait {
	REQUEST_RUNNING,		/* nothing: answered in its handler */
	REQUEST_PARKED,			/* an event: a long-poll (poll.c) */
	REQUEST_QUEUED			/* its batch: a send (sendbatch.c) */
};
/*
 * A source of events in a worker's epoll loop (its data.ptr): the loop
 * calls ready() and knows nothing else of it.
 */
struct watch {
	void		(*ready)(struct watch *);
};
/*
 * A connection nginx keeps open for its next request, in the worker's
 * epoll set under this one watch for as long as it is open: its events
 * go to whoever hears it now (the worker while it is idle, a parked
 * poll), so that a request after request on it, parked and answered,
 * changes no epoll registration (request_conn_hear()).  Its owner
 * (worker.c) allocates it and frees it once fd is closed (-1).
 */
struct request_conn {
	struct watch	 watch;		/* first: epoll hands it back */
	struct watch	*target;	/* hears its events; NULL: nobody */
	int		 fd;		/* -1: closed */
	int		 epfd;		/* the epoll set it is in */
	int		 muted;		/* its events off while nobody hears */
};
struct request {
	FCGX_Request	 fcgi;		/* must never move: heap only */
	struct worker	*worker;
	const char	*method;	/* in its parameters, or method_kept */
	char		 method_kept[8];	/* released: the method */
	char		*path;		/* decoded, without the query */
	char		*query;		/* raw query string */
	char		**query_pairs;	/* decoded name, value, name, ... */
	size_t		 nquery;	/* pairs in query_pairs */
	int		 query_parsed;
	char		*body;
	size_t		 body_len;
	int		 body_too_large;
	struct json	*json;		/* the parsed body, or NULL */
	const struct route *route;
	int		 route_index;	/* for metrics: 1 + router's, 0 none */
	char		*args[ROUTE_ARGS_MAX];	/* path captures */
	uint64_t	 ids[ROUTE_ARGS_MAX];	/* captures parsed as ids */
	size_t		 nargs;
	uint64_t	 user_id;	/* authenticated user, or 0 */
	unsigned int	 token_generation;	/* of the user's bearer token */
	char		 username[USERNAME_SIZE];	/* ... and their name */
	int		 status;	/* 0 until answered */
	enum request_wait waiting;
	char		 headers[256];	/* extra response header lines */
	struct timespec	 started;
	void		*poll;		/* the parked long-poll, if any */
	int		 released;	/* libfcgi's streams freed (parked) */
	char		*out;		/* released: the answer written so far */
	size_t		 out_len;
	int		 sent;		/* released: its records written */
	int		 write_failed;	/* released: its answer was cut */
	int		 input_ended;	/* stdin read to its end */
	int		 watch_left;	/* still in the worker's epoll set */
	struct request_conn *conn;	/* read on a kept connection, or NULL */
	TAILQ_ENTRY(request) entry;
};
struct request	*request_new(int);
int		 request_accept(struct request *);
int		 request_accept_kept(struct request *, int);
int		 request_read(struct request *);
const char	*request_param(struct request *, const char *);
const char	*request_query(struct request *, const char *);
char		*request_decode(const char *, size_t, int);
int		 request_watch(struct request *, int, struct watch *);
void		 request_unwatch(struct request *, int);
void		 request_unwatch_ending(struct request *);
void		 request_conn_init(struct request_conn *, int, int);
void		 request_conn_hear(struct request_conn *, struct watch *);
void		 request_on_done(void (*)(struct request *));
void		 request_on_idle(void (*)(int, int, struct request_conn *));
void		 request_run(struct request *, void (*)(struct request *,
		    void *), void *);
void		 request_release(struct request *);
void		 request_done(struct request *);
void		 request_free(struct request *);

/* auth.c */
int		 auth_request(struct request *);
int		 auth_refuse(struct request *);
int		 auth_recheck(struct request *);
struct db_rows	*auth_users_read(const uint64_t *, size_t);

/* password.c */
char		*password_hash(const char *, size_t);
int		 password_verify(const char *, size_t, const char *, int *);
void		 password_dummy(const char *, size_t);

/* hashpool.c */
enum hashpool_op {
	HASHPOOL_HASH,		/* hash a new password */
	HASHPOOL_VERIFY,	/* check one against a stored hash */
	HASHPOOL_DUMMY		/* the work of a check, for unknown users */
};
struct hashpool_result {
	int		 match;		/* 1 yes, 0 no; -1: hashing failed */
	int		 upgrade;	/* verify: stored parameters weaker */
	char		*hash;		/* hash: the new one, freed after done */
};
struct hashpool_task {
	enum hashpool_op op;
	const char	*password;
	size_t		 len;
	const char	*stored;	/* HASHPOOL_VERIFY: the stored hash */
	/* Runs in the loop when the hash is done; answers the request. */
	void		(*done)(struct request *, struct hashpool_result *,
			    void *);
	/* Copied for done (which may run again after a conflict), or NULL. */
	const void	*arg;
	size_t		 arg_size;
};
void		 hashpool_start(int);
int		 hashpool_submit(struct request *, const struct hashpool_task *);
void		 hashpool_stop(void);
void		 hashpool_reap(void);
void		 hashpool_join(void);

/* throttle.c */
void		 throttle_init(void);
long long	 throttle_check(const char *, const char *);
void		 throttle_failed(const char *, const char *);
void		 throttle_succeeded(const char *, const char *);
const char	*throttle_address(struct request *);

/* refresh.c */
#define REFRESH_TOKEN_LEN	48	/* buffer for a token string */
#define REFRESH_OK		0
#define REFRESH_INVALID		1
#define REFRESH_REUSED		2
int		 refresh_issue(uint64_t, char *);
int		 refresh_rotate(const char *, uint64_t *, char *);
int		 refresh_revoke(const char *);
int		 refresh_revoke_user(uint64_t);
long long	 refresh_cleanup(void);

/* users.c */
struct user {
	uint64_t	 id;
	char		 username[USERNAME_SIZE];
	char		 email[254 * 4 + 1];
	char		 password_hash[256];
	unsigned int	 generation;
	char		 created_at[32];
	char		 updated_at[32];
};
int		 users_by_id(uint64_t, struct user *);
int		 users_by_login(const char *, struct user *);
void		 users_gen_public(yajl_gen, uint64_t, const char *);
void		 users_gen_fields(yajl_gen, const struct user *, int);
void		 users_gen(yajl_gen, const struct user *, int);
int		 users_check_field(struct request *, const char *, int,
		    const char **);
int		 users_fields(struct request *, int, const char **,
		    const char **, const char **);
void		 users_taken(struct request *, const char *, uint64_t);
int		 users_revoke_all(uint64_t);
void		 users_gen_tokens(yajl_gen, const struct user *, const char *);

/* cache.c */
struct hub_entry;
struct member;
#define CACHE_CHANNEL	1	/* conversation kinds */
#define CACHE_DM	2
#define CACHE_FRESH	0	/* how old a standing may be: cache_ms */
#define CACHE_KEPT	1	/* CACHE_KEPT_MS (cache_standing_get()) */
#define CACHE_USERS	0	/* the caches, for metrics_cache() */
#define CACHE_STANDINGS	1
#define CACHE_HISTORY	2
#define CACHE_READ_STATES 3
#define CACHE_SCOPES	4
int		 cache_on(void);
int		 cache_fresh(long long);
int		 cache_user_get(uint64_t, unsigned int *, char *);
void		 cache_user_put(uint64_t, unsigned int, const char *);
size_t		 cache_users_due(uint64_t *, size_t, long long);
void		 cache_user_refill(uint64_t, unsigned int, const char *,
		    long long);
void		 cache_users_drop_unread(const uint64_t *, size_t, long long);
int		 cache_standing_get(uint64_t, int, uint64_t, int, uint64_t *,
		    struct member *);
void		 cache_standing_put(uint64_t, int, uint64_t, uint64_t,
		    const struct member *);
#define CACHE_ROLES_MAX	64	/* of a server; one with more is not kept */
int		 cache_roles_get(uint64_t, uint64_t *, size_t *);
void		 cache_roles_put(uint64_t, const uint64_t *, size_t);
struct scope;
void		 cache_scope_clear(struct scope *);
int		 cache_scope_get(uint64_t, struct scope *);
void		 cache_scope_put(uint64_t, const struct scope *);
void		 cache_forget(const struct hub_entry *);
void		 cache_forget_all(void);

/* token.c */
char		*token_issue(uint64_t, unsigned int, int);
int		 token_mac(const char *, size_t, unsigned char[32]);
int		 token_verify(const char *, uint64_t *, unsigned int *);
size_t		 token_b64url_encode(const unsigned char *, size_t, char *);
long		 token_b64url_decode(const char *, size_t, unsigned char *,
		    size_t);

/* response.c */
void		 response_json(struct request *, int, yajl_gen);
void		 response_raw(struct request *, int, const char *, size_t);
void		 response_empty(struct request *, int);
void		 response_accel(struct request *, const char *, const char *,
		    const char *);
/* One answer written to many released requests (request_release()). */
struct response_shared {
	int		 status;
	const char	*body;		/* the caller's, until cleared */
	size_t		 body_len;
	int		 request_id;	/* of the records built; 0: none */
	char		*records;
	size_t		 len;
};
void		 response_shared_init(struct response_shared *, int,
		    const char *, size_t);
void		 response_shared_send(struct request *,
		    struct response_shared *);
void		 response_shared_clear(struct response_shared *);
void		 response_finish_released(struct request *);
void		 response_error(struct request *, int, const char *,
		    const char *, ...) PRINTFLIKE(4, 5);
void		 response_invalid(struct request *, const char *,
		    const char *, ...) PRINTFLIKE(3, 4);
void		 response_header(struct request *, const char *, ...)
		    PRINTFLIKE(2, 3);
void		 response_db_error(struct request *);
void		 response_busy(struct request *);
void		 response_rate_limited(struct request *, long, const char *, ...)
		    PRINTFLIKE(3, 4);
void		 response_not_found(struct request *, const char *);
const char	*response_reason(int);
yajl_gen	 response_error_body(const char *, const char *, const char *);
void		 response_list(struct request *, yajl_gen, int);
void		 response_object(struct request *, yajl_gen);

/* param.c */
#define PARAM_ABSENT	1
int		 param_parse_id(const char *, uint64_t *);
int		 param_query_id(struct request *, const char *, uint64_t *);
int		 param_query_int(struct request *, const char *, long, long,
		    long *);
int		 param_query_page(struct request *, long, uint64_t *, long *);
int		 param_body(struct request *);
int		 param_text(struct request *, const char *, long, long, int,
		    const char **, size_t *);
int		 param_ids(struct request *, const char *, size_t, uint64_t *,
		    size_t *);
int		 param_id(struct request *, const char *, uint64_t *);
int		 param_int(struct request *, const char *, long, long, long *);
int		 param_is_null(struct request *, const char *);
int		 param_name(struct request *, const char *, int, const char **);

/* router.c */
#define ROUTE_AUTH	0x1	/* needs a bearer token */
struct route {
	const char	*method;
	const char	*pattern;	/* "/servers/{id}/members/{user}" */
	void		(*handler)(struct request *);
	int		 flags;
};
void		 router_dispatch(struct request *);
int		 router_pattern_match(const char *, const char *, char **,
		    size_t *);
int		 router_index(const struct route *);
const struct route *router_at(int);
const struct route *router_match(const char *, const char *, char **,
		    size_t *, char *, size_t);

/* db.c */
struct db_stmt {
	const char	*sql;
	void		*stmt;		/* MYSQL_STMT, per process */
	unsigned int	 generation;
};
#define DB_STMT(s)	{ .sql = (s) }
/* A stored procedure of sql/routines.sql, which a restore may have lost. */
struct db_routine {
	const char	*name;		/* message_send */
	const char	*fallback;	/* what sohbet does without it */
	long long	 lost_ms;	/* when a CALL found it missing, or 0 */
};
#define DB_ROUTINE(n, how)	{ .name = (n), .fallback = (how) }
#define DB_ROUTINE_RETRY_MS	60000	/* before a lost routine is tried again */
/* The MYSQL_ERRNO of a procedure's own refusals (SIGNAL in sql/). */
#define DB_REFUSAL_MIN		30000
struct db_rows;
int		 db_connect(void);
void		 db_disconnect(void);
int		 db_available(void);
unsigned long	 db_thread_id(void);
unsigned int	 db_connection(void);
long long	 db_exec(struct db_stmt *, const char *, ...);
struct db_rows	*db_query(struct db_stmt *, const char *, ...);
struct db_rows	*db_query_ids(struct db_stmt *, const uint64_t *, size_t);
int		 db_fetch(struct db_rows *);
int		 db_column(struct db_rows *, const char *);
int		 db_is_null(struct db_rows *, unsigned int);
const char	*db_str(struct db_rows *, unsigned int, size_t *);
uint64_t	 db_u64(struct db_rows *, unsigned int);
long long	 db_i64(struct db_rows *, unsigned int);
void		 db_rows_free(struct db_rows *);
void		 db_copy(char *, size_t, struct db_rows *, unsigned int);
int		 db_fetch_one(struct db_rows *, void (*)(struct db_rows *,
		    void *), void *);
yajl_gen	 db_row_json(struct db_rows *, void (*)(yajl_gen,
		    struct db_rows *));
int		 db_rows_json(yajl_gen, struct db_rows *,
		    void (*)(yajl_gen, struct db_rows *));
uint64_t	 db_insert_id(void);
int		 db_errno(void);
const char	*db_errstr(void);
int		 db_begin(void);
int		 db_begin_call(void);
void		 db_end_call(void);
int		 db_routine_lost(struct db_routine *);
int		 db_routine_usable(const struct db_routine *);
int		 db_commit(void);
void		 db_rollback(void);
int		 db_sql(const char *);
void		*db_handle(void);
#define SCHEMA_RECHECK		5	/* seconds between looks at an old schema */
void		 db_schema_require(void);
int		 db_schema_outdated(unsigned int *);
int		 db_schema_compare(unsigned int, char *, size_t);
void		 db_on_txn_end(void (*)(int));
/* A body run again after a lost conflict (db_retry_begin() in db.c). */
struct db_retry {
	long long	 deadline;	/* clock_ms(): no run after it */
	uint64_t	 committed;	/* db.c's count of commits at the start */
	unsigned int	 attempt;	/* runs of the body so far, minus one */
	long long	 wait_ms;	/* the back-off a failure claimed, or -1 */
	int		 exhausted;	/* a conflict outlasted the budget */
	struct db_retry	*outer;
};
void		 db_retry_begin(struct db_retry *);
int		 db_retry_claim(void);
int		 db_retry_again(struct db_retry *);
int		 db_retry_rerun(void);
int		 db_conflicted(void);
int		 db_sync_wait(int);

/* migrate.c */
#define SCHEMA_VERSION		21	/* the number of the newest sql/ file */
int		 migrate_run(const char *);
int		 migrate_pending(const char *, int *);
int		 migrate_routines_pending(const char *, const char **);
int		 migrate_version(unsigned int *);
int		 migrate_latest(const char *, unsigned int *);
int		 migrate_split(char *, int (*)(void *, const char *, unsigned int),
		    void *);

/* hub.c */
#define HUB_RING	8192
#define HUB_ANY		UINT64_MAX	/* an entry field that matches all */
#define HUB_MESSAGE	0x1	/* a message.* event: only history changed */
#define HUB_USER	0x2	/* user_id's account changed (internal event) */
#define HUB_ACCESS	0x4	/* may have taken access away (events.c) */
#define HUB_READ	0x8	/* a read state: no standing changed */
struct hub_entry {
	uint64_t	 seq;		/* the event's */
	uint64_t	 published_ns;	/* CLOCK_MONOTONIC */
	uint64_t	 flags;		/* HUB_MESSAGE, HUB_USER, ... */
	uint64_t	 server_id;
	uint64_t	 channel_id;
	uint64_t	 dm_channel_id;
	uint64_t	 user_id;
};
struct hub_stats {
	_Atomic uint64_t events_published;
	_Atomic uint64_t wakeups;
	_Atomic uint64_t db_errors;
	_Atomic uint64_t db_reconnects;
	_Atomic uint64_t db_retries;	/* bodies run again after a conflict */
	_Atomic uint64_t db_retries_exhausted;	/* ... that ran out of time */
	_Atomic uint64_t worker_restarts;
	_Atomic uint64_t send_batches;	/* CALLs of message_send_many */
	_Atomic uint64_t batched_sends;	/* the messages they wrote */
	_Atomic uint64_t parked[HUB_SLOTS];
	_Atomic uint64_t idle[HUB_SLOTS];	/* kept FastCGI connections */
	_Atomic uint64_t kept_requests;	/* read on a kept connection */
	_Atomic uint64_t requests[METRIC_ROUTES][METRIC_STATUSES];
	_Atomic uint64_t delivery[METRIC_BUCKETS + 1];
	_Atomic uint64_t delivery_sum_us;
	_Atomic uint64_t cache_hits[METRIC_CACHES];
	_Atomic uint64_t cache_misses[METRIC_CACHES];
};
struct hub;
extern struct hub *hub;
void		*hub_shared(size_t);
void		 hub_init(void);
void		 hub_mutex_init(pthread_mutex_t *);
void		 hub_mutex_lock(pthread_mutex_t *);
int		 hub_slot_claim(pid_t);
void		 hub_slot_set_pid(int, pid_t);
void		 hub_slot_release(int);
pid_t		 hub_slot_pid(int);
int		 hub_self(void);
void		 hub_set_self(int);
void		 hub_set_thread_id(unsigned long);
unsigned long	 hub_thread_id(int);
uint64_t	 hub_seq_draw(void);
int		 hub_seq_finish(int);
uint64_t	 hub_seq_last(void);
int		 hub_wake_fd(int);
void		 hub_wake_all(void);
int		 hub_self_woken(void);
void		 hub_publish(const struct hub_entry *, size_t);
uint64_t	 hub_ring_head(void);
long		 hub_read(uint64_t *, struct hub_entry *, size_t);
int		 hub_is_keeper(void);
struct hub_stats *hub_stats(void);
uint64_t	 hub_seq_watermark(void);
int		 hub_seq_ready(void);
void		 hub_seq_start(uint64_t);
uint64_t	 hub_seq_pending(int);
int		 hub_hash_acquire(int);
void		 hub_hash_release(void);

/* ephemeral.c */
#define EPHEMERAL_WINDOW_MS	10000	/* read back by a poll's value */
#define EPHEMERAL_MARK_LEN	63	/* the longest value, as text */
enum ephemeral_kind {
	EPHEMERAL_TYPING = 1,
	EPHEMERAL_PRESENCE
};
/* One typing.start or presence.update, as the hosts pass it on. */
struct ephemeral {
	uint64_t	 pos;		/* its place in this host's ring */
	long long	 seen_ms;	/* when it reached this host */
	long long	 at_ms;		/* when its origin made it */
	uint64_t	 origin;	/* the host that made it */
	int		 kind;
	int		 status;	/* presence: enum presence_status */
	uint64_t	 server_id;	/* a server's members may see it */
	uint64_t	 channel_id;	/* typing: in a channel, or 0 */
	uint64_t	 dm_channel_id;	/* a DM's participants may see it */
	uint64_t	 user_id;	/* the typist, or the user whose */
	long long	 expires_ms;	/* typing: its end, wall clock */
};
/* Where a poll's previous answer left off (its "ephemeral" value). */
struct ephemeral_mark {
	uint64_t	 host_id;
	uint64_t	 pos;
	long long	 at_ms;
};
void		 ephemeral_init(void);
uint64_t	 ephemeral_host(void);
long long	 ephemeral_now_ms(void);
int		 ephemeral_publish(struct ephemeral *, long long);
uint64_t	 ephemeral_head(void);
size_t		 ephemeral_read(uint64_t *, struct ephemeral *, size_t);
uint64_t	 ephemeral_start(const struct ephemeral_mark *);
void		 ephemeral_mark_format(uint64_t, long long, char *, size_t);
int		 ephemeral_mark_parse(const char *, struct ephemeral_mark *);
void		 ephemeral_relay_watch(void);
void		 ephemeral_relay_prune(void);

/* ratelimit.c */
enum ratelimit_kind {
	RATELIMIT_CHANNEL_MESSAGE,	/* per user and channel */
	RATELIMIT_DM_MESSAGE,		/* per user and DM channel */
	RATELIMIT_SERVER,		/* servers a user creates */
	RATELIMIT_INVITE,		/* invites a user creates */
	RATELIMIT_SEARCH		/* message searches a user makes */
};
void		 ratelimit_init(void);
int		 ratelimit_take(enum ratelimit_kind, uint64_t, uint64_t,
		    uint64_t, uint64_t *);
int		 ratelimit_check(struct request *, enum ratelimit_kind,
		    uint64_t);
struct conversation;
int		 ratelimit_send(struct request *, const struct conversation *);

/* sequencer.c */
/* One way of numbering (shm or db); sequencer.c picks one by config. */
struct sequencer {
	const char	*name;		/* the [events] sequencer value */
	int		 local;		/* numbers drawn before any statement */
	int		(*start)(void);	/* resume above the database's largest */
	int		(*next)(uint64_t *);
	int		(*txn_end)(void);	/* 1: the watermark may have moved */
	uint64_t	(*visible)(void);	/* all finished below; 0 unknown */
	int		(*last)(uint64_t *);	/* the largest handed out */
};
int		 sequencer_local(void);
int		 sequencer_start(void);
int		 sequencer_next(uint64_t *);
int		 sequencer_txn_end(void);
int		 sequencer_kill(unsigned long);
int		 sequencer_recover(void);
uint64_t	 sequencer_visible(void);
int		 sequencer_last(uint64_t *);

/* events.c */
struct event_scope {
	uint64_t	 server_id;	/* members of this server */
	uint64_t	 channel_id;	/* ... who may view this channel */
	uint64_t	 dm_channel_id;	/* the two participants */
	uint64_t	 user_id;	/* this user (too) */
	const uint64_t	*audience;	/* only these users (sorted), or NULL */
	size_t		 naudience;
};
int		 events_reserve(const char *, const struct event_scope *,
		    uint64_t *);
int		 events_append(const char *, const struct event_scope *,
		    yajl_gen);
long long	 events_rewrite_message(uint64_t, const char *, yajl_gen);
int		 events_append_seq(const char *, const struct event_scope *,
		    yajl_gen, uint64_t *);
int		 events_note_update(uint64_t, uint64_t);
int		 events_append_many(const char *, const struct event_scope *,
		    yajl_gen *, size_t);
long long	 events_erase_author(uint64_t, uint64_t, uint64_t);
#define EVENTS_ACCOUNT	"account.update"	/* internal: an account changed */
#define EVENTS_AUDIENCE_ID	8	/* bytes per user id in an audience */
uint64_t	 events_audience_id(const char *, size_t);
int		 events_audience_has(const char *, size_t, uint64_t);
int		 events_changes_access(const char *);
uint64_t	 events_flags(const char *);
int		 events_internal(const char *);
int		 events_user_changed(uint64_t);
void		 events_init(void);
struct db_rows	*events_read(uint64_t, uint64_t, long);
int		 events_head(uint64_t *);
int		 events_last(uint64_t *);
int		 events_last_synced(uint64_t *);
int		 events_pruned(uint64_t *);
long long	 events_prune(void);

/* poll.c */
enum poll_key {
	POLL_SERVER,		/* events of a server */
	POLL_CHANNEL,		/* ... of a channel */
	POLL_DM,		/* ... of a DM channel */
	POLL_USER,		/* ... addressed to a user */
	POLL_ACCESS,		/* who may see a server's channels changed */
	POLL_OWNER,		/* the poll's own user (every poll has it) */
	POLL_KINDS
};
struct poll;
struct poll_link;
struct poll_type {
	const char	*name;
	/* Answer what it can of n marked polls; wm is the watermark. */
	void		(*wake)(struct poll **, size_t, uint64_t);
	/* Answer a poll whose deadline passed (or the worker stops). */
	void		(*expire)(struct poll *);
	/*
	 * Answer a poll (401, 404) whose user may no longer have it: its
	 * token was revoked, or its access to what it waits on is gone.
	 */
	void		(*recheck)(struct poll *);
	void		(*free)(void *);
	/*
	 * A parked poll an ephemeral event (ephemeral.c) may concern, and
	 * no durable one marked: answer it, hurry it (poll_hurry()) or
	 * leave it.  NULL: ephemeral events concern no poll of the kind.
	 */
	void		(*hint)(struct poll *);
};
struct poll {
	struct watch	 watch;		/* first: epoll hands it back */
	struct request	*req;
	const struct poll_type *type;
	void		*data;		/* the kind's own state */
	long long	 deadline;	/* clock_ms() */
	size_t		 heap_index;
	struct poll_link **links;
	size_t		 nlinks;
	size_t		 links_size;
	int		 parked;
	int		 marked;
	int		 recheck;	/* marked by a change of access */
	int		 hinted;	/* an ephemeral event may concern it */
	TAILQ_ENTRY(poll) hint_entry;	/* in poll.c's list of those */
	int		 hurried;	/* deadline moved closer: no hints */
	long long	 turn_ms;	/* the hurried answer's turn: clock_ms() */
	int		 dead;		/* unparked, freed by poll_reap() */
	uint64_t	 woken_ns;	/* publication that woke it */
	TAILQ_ENTRY(poll) all_entry;
};
#define POLL_HURRIED_PER_MS	7	/* a worker's hurried answers, at most */
void		 poll_init(int);
size_t		 poll_parked(void);
struct poll	*poll_new(struct request *, const struct poll_type *, void *);
void		 poll_key(struct poll *, enum poll_key, uint64_t);
int		 poll_park(struct poll *, long long);
void		 poll_hurry(struct poll *, long long);
void		 poll_done(struct poll *);
void		 poll_closed(struct poll *);
uint64_t	 poll_sync(void);
void		 poll_wake(void);
void		 poll_woken(void);
int		 poll_next_timeout(void);
void		 poll_expire(void);
void		 poll_stop_all(void);
void		 poll_reap(void);

/* metrics.c */
extern const double metrics_bounds[METRIC_BUCKETS];
extern const char *const metrics_classes[METRIC_STATUSES];
void		 metrics_request(int, int);
void		 metrics_parked(long);
void		 metrics_idle(long);
void		 metrics_kept_request(void);
void		 metrics_wakeup(void);
void		 metrics_delivered(uint64_t);
void		 metrics_db_error(int);
void		 metrics_db_retry(int);
void		 metrics_cache(int, int);
void		 metrics_worker_restart(void);
void		 metrics_send_batch(size_t);

/* worker.c */
struct worker {
	int		 slot;		/* in the hub */
	int		 epfd;
	int		 listen_fd;
	int		 signal_fd;
	int		 stopping;
	long long	 drain_until;	/* stopping: accept until then */
	unsigned int	 active;	/* open requests, parked included */
	int		 listening;	/* the listen socket is in the loop */
	long long	 accept_resume;	/* out of fds: look for one then */
	long long	 starved_since;	/* when accept first lacked one; 0 */
	int		 yielding;	/* left the queue to a worker with fewer */
};
extern struct worker *worker;
int		 worker_nonblocking(int);
void		 worker_main(int, int) NORETURN;

/* master.c */
int		 master_main(int, char **);

/*
 * Each api-*.c file exports its routes as one table ending in an entry
 * whose method is NULL; router.c lists the tables.
 */

/* perm.c */
#define PERM_ADMINISTRATOR	0x0001
#define PERM_MANAGE_SERVER	0x0002
#define PERM_MANAGE_ROLES	0x0004
#define PERM_MANAGE_CHANNELS	0x0008
#define PERM_KICK_MEMBERS	0x0010
#define PERM_CREATE_INVITE	0x0020
#define PERM_CHANGE_NICKNAME	0x0040
#define PERM_MANAGE_NICKNAMES	0x0080
#define PERM_VIEW_CHANNELS	0x0100
#define PERM_SEND_MESSAGES	0x0200
#define PERM_MANAGE_MESSAGES	0x0400
#define PERM_BAN_MEMBERS	0x0800
#define PERM_ADD_REACTIONS	0x1000
#define PERM_ATTACH_FILES	0x2000
#define PERM_MENTION_EVERYONE	0x4000
#define PERM_COUNT		15
#define PERM_ALL		0x7fff
#define PERM_DEFAULT_ROLE	(PERM_VIEW_CHANNELS | PERM_SEND_MESSAGES | \
				 PERM_CREATE_INVITE | PERM_CHANGE_NICKNAME | \
				 PERM_ADD_REACTIONS | PERM_ATTACH_FILES)
struct member {
	uint64_t	 server_id;
	uint64_t	 user_id;
	uint64_t	 owner_id;	/* the server's */
	int		 is_member;
	uint32_t	 perms;		/* effective: owner/admin have all */
	int		 rank;		/* highest role position; owner INT_MAX */
};
const char	*perm_name(unsigned int);
uint32_t	 perm_bit(const char *, size_t);
int		 perm_parse(const struct json *, uint32_t *);
uint32_t	 perm_parse_text(const char *, size_t);
void		 perm_gen(yajl_gen, uint32_t);
void		 perm_gen_sorted(yajl_gen, uint32_t);
char		*perm_to_text(uint32_t);
/* The permissions a channel's overwrite may allow or deny. */
#define PERM_OVERWRITABLE	(PERM_VIEW_CHANNELS | PERM_SEND_MESSAGES | \
				 PERM_MANAGE_MESSAGES | PERM_ADD_REACTIONS | \
				 PERM_ATTACH_FILES | PERM_MENTION_EVERYONE | \
				 PERM_CREATE_INVITE | PERM_MANAGE_CHANNELS)
/* The overwrites of a channel that apply to one member, by layer. */
enum perm_layer {
	PERM_LAYER_EVERYONE,	/* the default role's */
	PERM_LAYER_ROLES,	/* the member's roles', united */
	PERM_LAYER_MEMBER,	/* the member's own */
	PERM_LAYERS
};
struct perm_overwrites {
	uint32_t	 allow[PERM_LAYERS];
	uint32_t	 deny[PERM_LAYERS];
};
void		 perm_overwrites_add(struct perm_overwrites *, enum perm_layer,
		    uint32_t, uint32_t);
uint32_t	 perm_channel(uint32_t, const struct perm_overwrites *);
/*
 * The columns and joins that load a member's standing along with another
 * query: servers aliased s; one parameter, the user id, in the joins.
 */
#define PERM_COLUMNS \
	"s.owner_id, pm.user_id IS NOT NULL, pr.permissions, pr.position," \
	" pr.is_default"
#define PERM_JOINS \
	" LEFT JOIN server_members pm ON pm.server_id = s.id" \
	" AND pm.user_id = ?" \
	" LEFT JOIN roles pr ON pm.user_id IS NOT NULL AND pr.server_id = s.id" \
	" AND (pr.is_default OR pr.id IN (SELECT mr.role_id FROM" \
	" server_member_roles mr WHERE mr.server_id = s.id" \
	" AND mr.user_id = pm.user_id))"
void		 perm_init(struct member *, uint64_t, uint64_t);
int		 perm_read(struct db_rows *, unsigned int, struct member *);
int		 perm_read_channel(struct db_rows *, unsigned int, unsigned int,
		    struct member *);
int		 perm_load(uint64_t, uint64_t, struct member *);
int		 perm_has(const struct member *, uint32_t);
int		 perm_is_owner(const struct member *);
int		 perm_outranks(const struct member *, const struct member *);
int		 perm_may_manage_role(const struct member *, int);
int		 perm_may_grant(const struct member *, uint32_t);
int		 perm_require(struct request *, uint64_t, uint32_t,
		    struct member *);
int		 perm_check(struct request *, const struct member *, uint32_t);
uint32_t	 perm_nickname_need(const struct member *,
		    const struct member *);
int		 perm_may_act_on(const struct member *, const struct member *,
		    uint32_t);
int		 perm_may_delete_invite(const struct member *, uint64_t);
int		 perm_check_owner(struct request *, const struct member *);
int		 perm_check_member(struct request *, const struct member *,
		    const struct member *, uint32_t);
int		 perm_check_role(struct request *, const struct member *, int,
		    uint32_t);
int		 perm_check_invite(struct request *, const struct member *,
		    uint64_t);
void		 perm_answer_list(struct request *, uint32_t,
		    int (*)(uint64_t, yajl_gen));
void		 perm_answer_page(struct request *, uint32_t, long, long,
		    int (*)(uint64_t, uint64_t, int, yajl_gen));

/* servers.c */
#define NAME_SIZE		(100 * 4 + 1)	/* 100 code points, UTF-8 */
yajl_gen	 servers_json(uint64_t);
int		 servers_list(uint64_t, uint64_t, int, yajl_gen);

/* roles.c */
#define ROLE_POSITION_MAX	1000000
struct role {
	uint64_t	 id;
	uint64_t	 server_id;
	char		 name[NAME_SIZE];
	uint32_t	 perms;
	int		 position;
	int		 is_default;
};
int		 roles_load(uint64_t, uint64_t, struct role *);
yajl_gen	 roles_json(uint64_t, uint64_t);
int		 roles_list(uint64_t, yajl_gen);
uint64_t	 roles_insert(uint64_t, const char *, uint32_t, int, int);

/* members.c */
yajl_gen	 members_json(uint64_t, uint64_t);
int		 members_list(uint64_t, uint64_t, int, yajl_gen);
int		 members_require(struct request *, uint64_t, uint64_t,
		    struct member *);
int		 members_join(uint64_t, uint64_t);
int		 members_remove(uint64_t, uint64_t);
void		 members_updated(struct request *, int, uint64_t, uint64_t);

/* bans.c */
#define BANS_REASON_MAX		512	/* code points */
#define BANS_DELETE_SECONDS_MAX	604800	/* a week */
#define BANS_SINCE_SIZE		32	/* a DATETIME(3) text */
int		 bans_check(uint64_t, uint64_t);
int		 bans_put(uint64_t, uint64_t, uint64_t, const char *, size_t,
		    long, char *);
int		 bans_sweep(uint64_t, uint64_t, const char *);
int		 bans_remove(uint64_t, uint64_t);
int		 bans_get(uint64_t, uint64_t, yajl_gen *);
int		 bans_list(uint64_t, uint64_t, int, yajl_gen);

/* change.c */
/* A change being finished: the event it appends and the answer it gives. */
struct change {
	int		 status;	/* 200, 201, or 204 (no body) */
	const char	*event;		/* the event's type; NULL: none */
	const struct event_scope *scope;	/* who sees the event */
	uint64_t	 server_id;	/* in the data beside key, or 0 */
	const char	*key;		/* data {key: object}; NULL: object */
	yajl_gen	 object;	/* the answer and the event's; freed */
};
int		 change_event(const char *, const struct event_scope *,
		    uint64_t, const char *, yajl_gen);
void		 change_commit(struct request *, const struct change *);
void		 change_abort(struct request *);
int		 change_check(struct request *, long long, const char *);

/* overwrites.c */
#define OVERWRITE_ROLE		0	/* a role of the server, the default too */
#define OVERWRITE_MEMBER	1	/* a member, by user id */
struct overwrite {
	int		 type;		/* OVERWRITE_ROLE, OVERWRITE_MEMBER */
	uint64_t	 id;		/* the role's or the user's */
	uint32_t	 allow;		/* permission bits */
	uint32_t	 deny;
};
const char	*overwrites_type_name(int);
int		 overwrites_type_parse(const char *, size_t);
void		 overwrites_gen(yajl_gen, const struct overwrite *, size_t);
long		 overwrites_load(uint64_t, struct overwrite **);
int		 overwrites_get(uint64_t, int, uint64_t, struct overwrite *);
int		 overwrites_parse(struct request *, const struct json *,
		    const char *, struct overwrite *);
int		 overwrites_put(uint64_t, uint64_t, const struct overwrite *);
long long	 overwrites_delete(uint64_t, int, uint64_t);
int		 overwrites_forget_target(uint64_t, int, uint64_t);

/* channels.c */
struct channel {
	uint64_t	 id;
	uint64_t	 server_id;
	char		 name[NAME_SIZE];
	char		 created_at[32];
};
void		 channels_gen(yajl_gen, const struct channel *,
		    const struct overwrite *, size_t);
yajl_gen	 channels_json(uint64_t);
long		 channels_load_all(uint64_t, struct channel **);
uint64_t	 channels_insert(uint64_t, const char *);
int		 channels_require(struct request *, uint64_t, uint32_t,
		    struct member *, struct channel *);
int		 channels_access(struct request *, uint64_t, uint32_t,
		    struct member *, uint64_t *);
int		 channels_access_kept(struct request *, uint64_t, uint32_t,
		    struct member *, uint64_t *);

/* access.c */
struct access_role {
	uint64_t	 id;
	uint32_t	 perms;
	int		 is_default;
};
/* A server's roles, channels and overwrites, as one worker holds them. */
struct access_server {
	uint64_t	 id;
	uint64_t	 owner_id;
	uint64_t	 loaded_seq;	/* events up to here are reflected */
	uint64_t	 generation;	/* which of the worker's reads */
	struct access_role default_role;
	struct access_role *roles;	/* by id */
	size_t		 nroles;
	uint64_t	*channels;	/* sorted */
	size_t		 nchannels;
	struct overwrite *overwrites;	/* by channel, in the contract's order */
	uint64_t	*overwrite_channels;	/* the channel of each */
	size_t		 noverwrites;
};
/*
 * A member of a server as access.c judges them: their roles there
 * (sorted, not the default).
 */
struct access_member {
	uint64_t	 server_id;
	uint64_t	 user_id;
	uint64_t	*roles;
	size_t		 nroles;
};
/*
 * A server of what /events may show a user (api-events.c; cache.c keeps a
 * copy): since when, their roles there.
 */
struct scope_server {
	uint64_t	 id;		/* first: bsearch by id */
	uint64_t	 joined_seq;	/* its events up to here are older */
	struct access_member member;	/* the user there: their roles */
};
/* What /events may show a user: their servers (by id) and DMs (sorted). */
struct scope {
	struct scope_server *servers;
	size_t		 nservers;
	uint64_t	*dms;
	size_t		 ndms;
};
/* Who viewed which channels when a change of access began. */
struct access_change {
	uint64_t	 server_id;
	uint64_t	 user_id;	/* the one member concerned, or 0: all */
	uint64_t	*channels;	/* the channels judged */
	size_t		 nchannels;
	struct access_member *members;	/* sorted by user */
	size_t		 nmembers;
	uint8_t		*view;		/* [member * nchannels + channel] */
};
int		 access_cmp_id(const void *, const void *);
int		 access_has_id(const uint64_t *, size_t, uint64_t);
int		 access_load(uint64_t, struct access_server *);
void		 access_clear(struct access_server *);
int		 access_cached(uint64_t, uint64_t,
		    const struct access_server **);
void		 access_forget(const struct hub_entry *);
void		 access_forget_all(void);
int		 access_channel_exists(const struct access_server *, uint64_t);
const struct overwrite *access_channel_overwrites(
		    const struct access_server *, uint64_t, size_t *);
uint32_t	 access_perms(const struct access_server *,
		    const struct access_member *, uint64_t);
int		 access_may_view(const struct access_server *,
		    const struct access_member *, uint64_t);
int		 access_member_load(uint64_t, uint64_t, struct access_member *);
long		 access_memberships_load(uint64_t, struct access_member **);
void		 access_members_free(struct access_member *, size_t);
int		 access_list_channels(uint64_t, uint64_t, yajl_gen);
int		 access_change_begin(struct access_change *, uint64_t, uint64_t,
		    uint64_t);
size_t		 access_change_viewers(const struct access_change *, uint64_t,
		    uint64_t **);
int		 access_announce(const char *, uint64_t, uint64_t,
		    const uint64_t *, size_t);
int		 access_change_finish(struct access_change *);
void		 access_change_free(struct access_change *);

/* replies.c */
#define REPLIES_PREVIEW_MAX	100	/* code points of the original */
/* The message a reply answers, as it is now. */
struct reply {
	uint64_t	 id;		/* 0: not a reply */
	uint64_t	 author_id;	/* 0: deleted since */
	char		*username;
	char		*content;	/* its first REPLIES_PREVIEW_MAX */
};
struct db_rows;
struct conversation;
struct message;
void		 replies_clear(struct reply *);
void		 replies_gen(yajl_gen, const struct reply *);
int		 replies_lock(const struct conversation *, uint64_t,
		    struct reply *);
int		 replies_originals(struct message *, long);
long		 replies_of(uint64_t, uint64_t **);

/* reactions.c */
#define REACTIONS_DISTINCT_MAX	20	/* emoji on one message */
/* What a change of reactions did (reactions_add, reactions_remove). */
enum reactions_result {
	REACTIONS_CHANGED,		/* added or removed, event appended */
	REACTIONS_UNCHANGED,		/* it was there already, or was not */
	REACTIONS_NO_MESSAGE,		/* none here, or deleted */
	REACTIONS_TOO_MANY,		/* a new emoji past the 20th */
	REACTIONS_FAILED		/* the database: rolled back */
};
/* One emoji on a message: how many reacted with it, and the reader. */
struct reaction {
	char		 emoji[EMOJI_BYTES_MAX + 1];
	long		 count;
	int		 me;
};
/* One user's reaction on a message of a list (reactions_reactors). */
struct reactor {
	uint64_t	 user_id;
	long		 message;	/* its index in the list */
	long		 reaction;	/* the emoji's index on the message */
};
struct message;
struct event_scope;
int		 reactions_attach(struct message *, long, uint64_t, int);
long		 reactions_reactors(const struct message *, long, long,
		    struct reactor **);
void		 reactions_gen(yajl_gen, const struct message *);
void		 reactions_clear(struct message *);
int		 reactions_add(const struct conversation *,
		    const struct event_scope *, uint64_t, const char *,
		    uint64_t);
int		 reactions_remove(const struct conversation *,
		    const struct event_scope *, uint64_t, const char *,
		    uint64_t);
int		 reactions_users(const struct conversation *, uint64_t,
		    const char *, uint64_t, long, yajl_gen);
int		 reactions_forget(uint64_t);
/* A reaction to add in a batch (reactbatch.c), and what became of it. */
struct reaction_add {
	const struct conversation *c;
	struct event_scope	 scope;	/* of its event */
	uint64_t		 id;	/* the message */
	const char		*emoji;	/* fully qualified (emoji.c) */
	uint64_t		 user_id;
	int			 result;	/* enum reactions_result */
	uint64_t		 order;	/* its emoji's place, when added */
	int			 fresh;	/* the emoji is new to the message */
};
int		 reactions_add_many(struct reaction_add *, size_t);
void		 reactions_respond(struct request *, int);

/* search.c */
/* A message query: every word, the last one's prefix, the phrases. */
struct search_query {
	char		**words;	/* distinct, as the index cuts them */
	size_t		 nwords;
	char		*prefix;	/* LIKE pattern "word%", or NULL */
	yajl_gen	 phrases;	/* a JSON array of LIKE patterns */
};
/* Where a message search looks. */
struct search_where {
	uint64_t	 server_id;	/* a server */
	const char	*channels;	/* the channels the reader views */
	int		 all_channels;	/* all of the server's */
	uint64_t	 dm_channel_id;	/* or a DM channel */
	uint64_t	 before;	/* ids below this */
	uint64_t	 author_id;	/* 0: anyone */
	uint64_t	 reader_id;	/* whose reactions are "me" */
};
int		 search_parse(const char *, size_t, struct search_query *);
void		 search_query_clear(struct search_query *);
int		 search_messages(const struct search_query *,
		    const struct search_where *, long, yajl_gen);
int		 search_channels(uint64_t, uint64_t, uint64_t, char **, int *);
int		 search_users(uint64_t, const char *, long, yajl_gen);

/* messages.c */
struct conversation {
	uint64_t	 channel_id;	/* a server channel, or 0 */
	uint64_t	 dm_channel_id;	/* a DM channel, or 0 */
	uint64_t	 server_id;	/* channel_id's server, or 0 */
	int		 moderator;	/* may delete others' messages */
	int		 may_react;	/* add_reactions (a DM: both may) */
	uint64_t	 reader_id;	/* whose reactions are "me", or 0 */
	int		 mention_everyone; /* @everyone / @here count */
};

/* mentions.c */
#define MENTIONS_MAX		50	/* resolved users and roles */
#define MENTION_EVERYONE	0	/* the kinds, as in message_mentions */
#define MENTION_USER		1
#define MENTION_ROLE		2
struct mention {
	int		 kind;
	uint64_t	 id;		/* a user or role; 0 for everyone */
	char		*username;	/* MENTION_USER */
};
/* A message's mentions in order of first appearance; owned. */
struct mentions {
	struct mention	*v;
	size_t		 n;
};
/*
 * A message's mentions are read from its row (messages.mentions,
 * mentions_read()); the users' names come after, one statement for a
 * page (mentions_name()).
 */
void		 mentions_read(struct db_rows *, unsigned int,
		    struct mentions *);
void		 mentions_copy(struct mentions *, const struct mentions *);
void		 mentions_clear(struct mentions *);
int		 mentions_name(struct message *, long);
void		 mentions_gen(yajl_gen, const struct mentions *);
size_t		 mentions_gen_rows(yajl_gen, const struct mentions *,
		    uint64_t, const struct conversation *, uint64_t);
char		*mentions_column_text(const struct mentions *);
int		 mentions_insert(uint64_t, const struct conversation *,
		    uint64_t, const struct mentions *);
int		 mentions_forget(uint64_t);
int		 mentions_resolve(struct request *,
		    const struct conversation *, const char *, size_t,
		    struct mentions *);
enum messages_from {
	MESSAGES_LATEST,		/* no cursor: the newest */
	MESSAGES_BEFORE,
	MESSAGES_AFTER,
	MESSAGES_AROUND
};
#define MESSAGES_LIMIT_MAX	100	/* the largest page */
struct messages_page {
	enum messages_from from;
	uint64_t	 cursor;	/* the before/after/around id */
	long		 limit;		/* 1..100 */
};
/* A message as read from the database; the strings are owned. */
struct message {
	uint64_t	 id;
	uint64_t	 channel_id;
	uint64_t	 dm_channel_id;
	uint64_t	 author_id;
	char		*username;
	char		*content;
	char		*created_at;
	char		*edited_at;	/* NULL until edited */
	char		*nonce;		/* NULL unless sent */
	struct reply	 reply;		/* reply.id 0: not a reply */
	int		 pinned;
	struct reaction	*reactions;	/* in the order first added */
	size_t		 nreactions;
	int		 reactions_me;	/* write "me" (a REST answer) */
	struct mentions	 mentions;
	struct attachment *attachments;	/* attachments.c */
	size_t		 nattachments;
	/* As its row says (sql/021): it has or had reactions; attachments. */
	int		 reacted;
	int		 attached;
};

/*
 * The columns messages_read() reads, and the author's join: one table
 * more, no subquery, so that MariaDB plans a page quickly (issue 27).
 * What a row only points at (the original of a reply, the names of the
 * users it mentions, its reactions and attachments) is read after, one
 * statement for a page, and only when some message of it has any.
 */
#define MESSAGES_SELECT \
	"SELECT m.id, m.channel_id, m.dm_channel_id, m.author_id," \
	" u.username, m.content, m.created_at, m.edited_at, m.nonce," \
	" m.pin_order IS NOT NULL, m.reply_to_id, m.mentions," \
	" m.reacted, m.attached FROM messages m"
#define MESSAGES_AUTHOR \
	" JOIN users u ON u.id = m.author_id"
#define MESSAGES_REPLY_COLUMN	10
#define MESSAGES_MENTIONS_COLUMN 11
#define MESSAGES_REACTED_COLUMN	12
#define MESSAGES_ATTACHED_COLUMN 13
/*
 * A row of the messages table as the table has it (every column in its
 * order: a HANDLER READ, history.c): where each column is, found by name.
 */
enum messages_column {
	MESSAGES_COL_ID, MESSAGES_COL_CHANNEL, MESSAGES_COL_DM,
	MESSAGES_COL_AUTHOR, MESSAGES_COL_CONTENT, MESSAGES_COL_CREATED,
	MESSAGES_COL_EDITED, MESSAGES_COL_NONCE, MESSAGES_COL_DELETED,
	MESSAGES_COL_PIN, MESSAGES_COL_REPLY, MESSAGES_COL_MENTIONS,
	MESSAGES_COL_REACTED, MESSAGES_COL_ATTACHED, MESSAGES_COLS
};
struct messages_columns {
	unsigned int	 at[MESSAGES_COLS];
};
int		 messages_columns_find(struct db_rows *,
		    struct messages_columns *);
int		 messages_read_columns(struct db_rows *,
		    const struct messages_columns *, struct message *);
int		 messages_name_authors(struct message *, long);
int		 messages_complete(struct message *, long, uint64_t);
void		 messages_new(struct message *, uint64_t,
		    const struct conversation *, const struct request *,
		    const char *, size_t, const char *, const char *,
		    const struct mentions *);
void		 messages_now(char *, size_t);
void		 messages_clear(struct message *);
long		 messages_read_reacted(struct db_rows *, struct message *, long,
		    uint64_t);
void		 messages_gen(yajl_gen, const struct message *);
struct attachment_links;
void		 messages_gen_links(yajl_gen, const struct message *,
		    struct attachment_links *);
int		 messages_load(const struct conversation *, uint64_t,
		    struct message *);
void		 messages_scope(const struct conversation *,
		    struct event_scope *);
yajl_gen	 messages_event_data(const struct message *);
void		 messages_respond(struct request *, int,
		    const struct message *);
void		 messages_send(struct request *, const struct conversation *,
		    const char *, size_t, const char *, uint64_t,
		    const struct mentions *);
void		 messages_send_attached(struct request *,
		    const struct conversation *, const char *, size_t,
		    const char *, uint64_t, const struct mentions *,
		    const uint64_t *, size_t);
void		 messages_edit(struct request *, const struct conversation *,
		    uint64_t, const char *, size_t, const struct mentions *);
void		 messages_delete(struct request *,
		    const struct conversation *, uint64_t);
int		 messages_delete_recent(uint64_t, uint64_t, const char *, int);
int		 messages_event(const char *, const struct conversation *,
		    const struct message *);

/* pins.c */
#define PINS_MAX		50	/* pinned messages per conversation */
void		 pins_set(struct request *, const struct conversation *,
		    uint64_t, int);
void		 pins_list(struct request *, const struct conversation *);

/* typing.c */
int		 typing_start(uint64_t, const struct conversation *);
void		 typing_gen(yajl_gen, const struct ephemeral *);

/* presence.c */
enum presence_status {
	PRESENCE_ONLINE,
	PRESENCE_IDLE,
	PRESENCE_DND,
	PRESENCE_INVISIBLE,	/* chosen; others see offline */
	PRESENCE_OFFLINE,
	PRESENCE_STATUSES
};
#define PRESENCE_SERVER_MAX	1000	/* members, for presence.update */
#define PRESENCE_SWEEP_MS	1000	/* the keeper's look at connections */
#define PRESENCE_NOW_MS		"ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000)"
#define PRESENCE_HOST_DEAD_MS	"30000"	/* a host silent this long is gone */
/*
 * SQL of the status others see of a user (an id column) whose chosen
 * status is another column: the chosen one while a live host has them
 * connected, else PRESENCE_OFFLINE (pass it through presence_shown()).
 */
#define PRESENCE_SHOWN_SQL(id, chosen)					\
	"IF(EXISTS (SELECT 1 FROM presence_connections pc"		\
	" JOIN app_hosts h ON h.host_id = pc.host_id"			\
	" WHERE pc.user_id = " id " AND h.seen_ms >= " PRESENCE_NOW_MS	\
	" - " PRESENCE_HOST_DEAD_MS "), " chosen ", 4)"
void		 presence_init(void);
const char	*presence_name(int);
int		 presence_shown(int);
int		 presence_parse(const char *, size_t);
void		 presence_poll_open(uint64_t);
void		 presence_poll_close(uint64_t);
void		 presence_worker_gone(int);
void		 presence_sweep(void);
int		 presence_choose(uint64_t, int);
int		 presence_chosen(uint64_t, int *);

/* dms.c */
/* A DM channel as one participant sees it. */
struct dm {
	uint64_t	 id;
	uint64_t	 recipient_id;		/* the other participant */
	char		 recipient[USERNAME_SIZE];
	char		 created_at[32];
	int		 recipient_presence;	/* as others see them */
};
void		 dms_gen(yajl_gen, const struct dm *);
int		 dms_load(uint64_t, uint64_t, struct dm *);
int		 dms_list(uint64_t, yajl_gen);
int		 dms_open(uint64_t, uint64_t, uint64_t *);

/* readcache.c */
/* A user's read state of one conversation (API.md). */
struct read_state {
	uint64_t	 server_id;	/* a server channel's, or 0 */
	uint64_t	 channel_id;	/* a server channel, or 0 */
	uint64_t	 dm_channel_id;	/* a DM channel, or 0 */
	uint64_t	 last_read_id;	/* 0: nothing read */
	uint64_t	 last_message_id; /* 0: none */
	int		 unread_count;	/* 0..100 */
	int		 mention_count;	/* 0..100 */
	uint64_t	 first_message_id; /* deleted or not; not written */
};
#define READCACHE_CHANNEL	1	/* the kinds of generations */
#define READCACHE_DM		2
#define READCACHE_SERVER	3
#define READCACHE_USER		4
#define READCACHE_READ		5	/* a user's acknowledgements */
/* One conversation of a user's list, as read, with what it was read at. */
struct readcache_entry {
	struct read_state	 rs;
	uint32_t		 conversation_gen;
	uint32_t		 server_gen;	/* a channel's server's */
};
/* A server of a user's, with the generation it was read at. */
struct readcache_server {
	uint64_t		 id;
	uint32_t		 gen;
};
/* A user's read states: channels by server and id, then DMs by id. */
struct readcache_list {
	uint64_t		 user_id;
	long long		 built_ms;	/* visibility and positions */
	long long		 used_ms;	/* last asked for */
	uint32_t		 user_gen;
	uint32_t		 read_gen;
	struct readcache_entry	*v;
	size_t			 n;
	size_t			 cap;
	struct readcache_server	*servers;	/* all, those hidden too */
	size_t			 nservers;
};
int		 readcache_on(void);
uint32_t	 readcache_gen(int, uint64_t);
struct readcache_list *readcache_get(uint64_t);
void		 readcache_put(struct readcache_list *);
void		 readcache_list_free(struct readcache_list *);
void		 readcache_forget(const struct hub_entry *);
void		 readcache_forget_all(void);

/* readstate.c */
#define READSTATE_MOVED	1	/* an ack's results */
#define READSTATE_KEPT	2
#define READSTATE_GONE	3
/* An acknowledgement, and what it found. */
struct readstate_ack {
	uint64_t		 user_id;
	struct conversation	 c;
	uint64_t		 message_id;
	int			 result;	/* READSTATE_MOVED, ... */
	struct read_state	 rs;		/* as it is now */
};
void		 readstate_gen(yajl_gen, const struct read_state *);
int		 readstate_list(uint64_t, yajl_gen);
int		 readstate_ack_many(struct readstate_ack *, size_t);
void		 readstate_respond(struct request *,
		    const struct readstate_ack *);
void		 readstate_ack(struct request *,
		    const struct conversation *, uint64_t);

/* sendbatch.c */
int		 sendbatch_add(struct request *, const struct conversation *,
		    const char *, size_t, const char *, struct mentions *);
void		 sendbatch_init(void);
void		 sendbatch_flush(void);

/* ackbatch.c */
int		 ackbatch_add(struct request *, const struct conversation *,
		    uint64_t);
void		 ackbatch_init(void);
void		 ackbatch_flush(void);

/* reactbatch.c */
int		 reactbatch_add(struct request *, const struct conversation *,
		    uint64_t, const char *);
void		 reactbatch_init(void);
void		 reactbatch_flush(void);

/* words.c */
int		 words_queue(uint64_t);
int		 words_forget(uint64_t);
long		 words_drain(void);
int		 words_index_ids(const uint64_t *, size_t);

/* attachments.c */
struct attachment {
	uint64_t	 id;
	uint64_t	 message_id;	/* 0: not attached yet */
	char		*filename;
	char		*content_type;
	uint64_t	 size;
	uint32_t	 width;		/* 0 unless one of the image types */
	uint32_t	 height;
};
/* Ids of attachments whose rows a transaction deletes (their files). */
struct attachment_ids {
	uint64_t	*ids;
	size_t		 n;
	size_t		 cap;
};
/* Where kept text needs the queries of its links (history.c's pages). */
struct attachment_links {
	size_t		*at;		/* offsets, ascending */
	uint64_t	*ids;		/* the attachment of each */
	size_t		 n;
	size_t		 cap;
};
#define ATTACHMENTS_PER_MESSAGE	10
void		 attachments_free(struct attachment *, size_t);
int		 attachments_link_valid(uint64_t, const char *, const char *);
const char	*attachments_served_type(const struct attachment *);
char		*attachments_disposition(const struct attachment *);
void		 attachments_gen(yajl_gen, const struct attachment *);
void		 attachments_gen_list(yajl_gen, const struct attachment *,
		    size_t, struct attachment_links *);
void		 attachments_links_clear(struct attachment_links *);
char		*attachments_sign_text(const char *, size_t, size_t,
		    const struct attachment_links *, size_t *);
int		 attachments_load(uint64_t, struct attachment *);
int		 attachments_load_kept(uint64_t, struct attachment *);
int		 attachments_of_message(struct message *);
int		 attachments_of_messages(struct message *, long);
char		*attachments_path(uint64_t);
void		 attachments_upload(struct request *,
		    const struct conversation *, const char *, const char *,
		    const char *);
int		 attachments_claim(const struct conversation *, uint64_t,
		    uint64_t, const uint64_t *, size_t);
int		 attachments_take(uint64_t, struct attachment_ids *);
void		 attachments_unlink(struct attachment_ids *, int);
int		 attachments_prune(void);

/* history.c */
int		 history_page_parse(struct request *, struct messages_page *);
long		 history_list(const struct conversation *,
		    const struct messages_page *, yajl_gen);
const char	*history_sql(int, int);
void		 history_forget(int, uint64_t);
void		 history_forget_all(void);
void		 history_forget_entry(const struct hub_entry *);
void		 history_keep(int, uint64_t, yajl_gen, const size_t *, long,
		    struct attachment_links *);
long		 history_cached(int, uint64_t, long, yajl_gen);
void		 history_handler_idle(void);
int		 history_handler_next_ms(void);

/* wait.c */
int		 wait_parse(struct request *, const struct messages_page *,
		    long *);
void		 wait_park(struct request *, const struct conversation *,
		    const struct messages_page *, long);

/* seed.c */
int		 seed_run(int, char **);

/* filestore.c */
int		 filestore_run(int, char **);

/* setup.c */
int		 setup_run(int, char **);

/* api-messages.c */
extern const struct route api_messages_routes[];
void		 api_messages_serve(struct request *, const struct conversation *);

/* api-reactions.c */
void		 api_reactions_serve(struct request *,
		    const struct conversation *);

/* api-pins.c */
void		 api_pins_serve(struct request *, const struct conversation *);

/* api-dms.c */
extern const struct route api_dms_routes[];
int		 api_dms_conversation(struct request *, struct conversation *);
int		 api_dms_conversation_kept(struct request *,
		    struct conversation *);

/* api-typing.c */
extern const struct route api_typing_routes[];

/* api-presence.c */
extern const struct route api_presence_routes[];

/* api-readstate.c */
extern const struct route api_readstate_routes[];

/* api-search.c */
extern const struct route api_search_routes[];

/* api-attachments.c */
extern const struct route api_attachments_routes[];


/* api-servers.c */
extern const struct route api_servers_routes[];

/* api-members.c */
extern const struct route api_members_routes[];

/* api-bans.c */
extern const struct route api_bans_routes[];

/* api-invites.c */
extern const struct route api_invites_routes[];

/* api-roles.c */
extern const struct route api_roles_routes[];

/* api-channels.c */
extern const struct route api_channels_routes[];

/* api-overwrites.c */
int		 api_overwrites_check(struct request *, const struct member *,
		    uint64_t, const struct overwrite *, const char *);
extern const struct route api_overwrites_routes[];

/* api-auth.c */
extern const struct route api_auth_routes[];
void		 api_auth_hash(struct request *, enum hashpool_op,
		    const char *, const char *, void (*)(struct request *,
		    struct hashpool_result *, void *), const struct user *);
int		 api_auth_throttled(struct request *, const char *);
void		 api_auth_failed(struct request *, const char *);
void		 api_auth_passed(struct request *, const char *);

/* api-users.c */
extern const struct route api_users_routes[];

/* api-events.c */
extern const struct route api_events_routes[];

/* keeper.c */
int		 keeper_next_ms(void);
void		 keeper_run(void);

/* api-metrics.c */
extern const struct route api_metrics_routes[];
void		 api_metrics_init(const struct route *(*)(int));

/* api-health.c */
extern const struct route api_health_routes[];

#endif /* SOHBET_H */
