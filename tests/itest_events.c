/* SPDX-License-Identifier: ISC */
/*
 * itest_events.c: integration tests of real-time delivery (API.md, Events
 * and the per-channel wait form of Messages): the head cursor and the
 * errors of GET /events, a parked poll answered by a post, the timeout,
 * who sees which event (every type), the kicked and the joining user, a
 * permission change, a client that goes away, exactly-once delivery under
 * concurrent writers on several workers, a lagging poll beside a current
 * one, and the graceful stop (last: it stops the stack).
 *
 * Live delivery is watched by followers: forked processes that poll as a
 * client does, each time with the cursor they were given, and log every
 * event (or message, for the wait form) into shared memory, where the
 * test reads it.  Every answer is checked on the way: status 200, seqs
 * above the cursor and strictly increasing, the cursor that comes back.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "chat.h"
#include "check_run.h"

#define EVENTS		API_PREFIX "/events"
#define LOG_MAX		2048	/* events one log holds */
#define FIELD_MAX	24	/* an id or an event type, NUL included */
#define FOLLOW_TIMEOUT	20	/* seconds per poll of a follower */
#define FOLLOW_SECONDS	90.0	/* a follower's whole life */
#define SETTLE_MS	200	/* for a follower to park again */
#define QUIET_MS	1500	/* how long "must not see" waits */
#define DELIVERY	5.0	/* seconds an expected event may take */
#define PROMPT		2.0	/* seconds a parked poll may take */
#define WRITERS_MAX	4
#define WRITES_MAX	256
#define ABORTERS	20	/* polls whose clients go away */
#define RACE_WRITERS	4
#define RACE_WRITES	50
#define RACE_POLLERS	3
#define LAG_WRITES	255	/* per writer: over a read's 1000 rows */
#define LAG_POLLERS	3	/* per side, so that some share a worker */

/* Users of the audience test, as bits of a step's audience. */
enum { A, B, C, D, USERS };

/* One event (or, for the wait form, one message) a feed delivered. */
struct seen {
	uint64_t	 seq;		/* the event's seq; a message's id */
	char		 type[FIELD_MAX];
	char		 about[FIELD_MAX];	/* the id it is about */
};

/* What a feed delivered so far; in shared memory for followers. */
struct seen_log {
	_Atomic size_t	 n;
	char		 cursor[FIELD_MAX];
	char		 error[768];
	struct seen	 ev[LOG_MAX];
};

/* How a client polls: /events, or one channel's messages with wait. */
struct feed {
	int		 wait_form;
	const char	*token;
	const char	*base;		/* wait form: the channel's path */
	long		 timeout;	/* seconds per poll */
};

/* A forked client following a feed until it is stopped. */
struct follower {
	pid_t		 pid;
	const char	*who;
	struct seen_log	*log;
};

/* Concurrent posters; in shared memory. */
struct writers {
	int		 k, m;
	long		 delay_ms;	/* after the start, before posting */
	int		 go[2];
	pid_t		 pids[WRITERS_MAX];
	double		 done_at;	/* when the last post was answered */
	char		 error[512];
	uint64_t	 ids[WRITERS_MAX][WRITES_MAX];
};

/* One expected event of the audience test and who must get it. */
struct step {
	char		 type[FIELD_MAX];
	char		 about[FIELD_MAX];
	unsigned	 audience;	/* bits 1 << A ... */
};

/* The audience test: four users, their followers, the expected events. */
struct scene {
	struct chat_user	 u[USERS];
	struct follower		 f[USERS];
	struct step		 steps[32];
	size_t			 nsteps;
};

static const char *const about_paths[] = {
	"message.id", "channel.id", "server.id", "member.user.id", "role.id",
	"dm.id", "user_id", "id", NULL
};

/* --- requests ---------------------------------------------------------- */

/*
 * Send a request as u (body: JSON text or NULL) to a printf-formatted
 * path and assert its status; the answer's "id" (a new string) or NULL.
 */
static char * PRINTFLIKE(5, 6)
act(const struct chat_user *u, long status, const char *method,
    const char *body, const char *fmt, ...)
{
	struct itest_response	*r;
	va_list			 ap;
	char			*path, *id;

	va_start(ap, fmt);
	if (vasprintf(&path, fmt, ap) < 0)
		abort();
	va_end(ap);
	r = itest_request(method, path, u->token, body != NULL ?
	    "application/json" : NULL, body, body != NULL ? strlen(body) : 0);
	free(path);
	if (status == 204)
		ck_assert_msg(r->status == 204, "expected 204: %s",
		    itest_describe(r));
	else
		itest_expect(r, status);
	id = itest_str(r, "id") != NULL ? xstrdup(itest_str(r, "id")) : NULL;
	itest_free(r);
	return id;
}

/* One GET /events from a cursor (NULL: none) with a timeout. */
static struct itest_response *
poll_once(const char *token, const char *cursor, long timeout)
{
	struct itest_response	*r;
	char			*path;

	if (cursor == NULL)
		xasprintf(&path, EVENTS "?timeout=%ld", timeout);
	else
		xasprintf(&path, EVENTS "?after=%s&timeout=%ld", cursor,
		    timeout);
	r = itest_get(path, token);
	free(path);
	return r;
}

/* Whether a string is a decimal number. */
static int
is_num(const char *s)
{
	return s != NULL && *s != '\0' && strspn(s, "0123456789") ==
	    strlen(s);
}

/* A decimal string as a number (0 if it is not one). */
static uint64_t
num(const char *s)
{
	return is_num(s) ? strtoull(s, NULL, 10) : 0;
}

/* The id of a server's default role (@everyone). */
static char *
default_role(const struct chat_user *owner, const char *server)
{
	struct itest_response	*r;
	const struct json	*v;
	char			*path, *id = NULL;
	size_t			 i;

	xasprintf(&path, API_PREFIX "/servers/%s/roles", server);
	r = itest_get(path, owner->token);
	free(path);
	itest_expect(r, 200);
	for (i = 0; r->json->type == JSON_ARRAY && i < r->json->count; i++) {
		v = itest_at(r->json->items[i], "is_default");
		if (v != NULL && v->type == JSON_BOOL && v->boolean)
			id = xstrdup(itest_at(r->json->items[i], "id")->text);
	}
	ck_assert_msg(id != NULL, "no default role: %s", itest_describe(r));
	itest_free(r);
	return id;
}

/* Set @everyone's permissions (a JSON array's text). */
static void
set_everyone(const struct chat_user *owner, const char *server,
    const char *role, const char *perms)
{
	char	*body;

	xasprintf(&body, "{\"permissions\":%s}", perms);
	free(act(owner, 200, "PATCH", body, API_PREFIX "/servers/%s/roles/%s",
	    server, role));
	free(body);
}

/* --- logs and feeds ---------------------------------------------------- */

/* Zeroed memory that children forked later share; munmap() it. */
static void *
shared_new(size_t size)
{
	void	*p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(p != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(p, 0, size);
	return p;
}

/* A new, empty log (shared with children) starting at a cursor. */
static struct seen_log *
log_new(const char *cursor)
{
	struct seen_log	*log;

	log = shared_new(sizeof *log);
	snprintf(log->cursor, sizeof log->cursor, "%s", cursor);
	return log;
}

static void
log_free(struct seen_log *log)
{
	munmap(log, sizeof *log);
}

/* Note the first thing that went wrong in a log. */
static void PRINTFLIKE(2, 3)
log_fail(struct seen_log *log, const char *fmt, ...)
{
	va_list	ap;

	if (log->error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(log->error, sizeof log->error, fmt, ap);
	va_end(ap);
}

/* Append one delivery; -1 when the log is full. */
static int
log_add(struct seen_log *log, uint64_t seq, const char *type,
    const char *about)
{
	size_t		 n = atomic_load(&log->n);
	struct seen	*s;

	if (n == LOG_MAX) {
		log_fail(log, "more than %d events", LOG_MAX);
		return -1;
	}
	s = &log->ev[n];
	s->seq = seq;
	snprintf(s->type, sizeof s->type, "%s", type);
	snprintf(s->about, sizeof s->about, "%s", about);
	atomic_store(&log->n, n + 1);
	return 0;
}

/* The id an event's data is about (its object's id, or its own "id"). */
static const char *
event_about(const struct json *data)
{
	const struct json	*v;
	size_t			 i;

	for (i = 0; about_paths[i] != NULL; i++) {
		v = itest_at(data, about_paths[i]);
		if (v != NULL && v->type == JSON_STRING)
			return v->text;
	}
	return "-";
}

/* Check one event of an answer (seq above prev) and log it; its seq. */
static uint64_t
log_event(struct seen_log *log, struct itest_response *r,
    const struct json *e, uint64_t prev)
{
	const struct json	*v, *type, *data;
	uint64_t		 seq;

	v = itest_at(e, "seq");
	seq = num(v != NULL && v->type == JSON_STRING ? v->text : NULL);
	type = itest_at(e, "type");
	data = itest_at(e, "data");
	if (seq <= prev || type == NULL || type->type != JSON_STRING ||
	    data == NULL || data->type != JSON_OBJECT) {
		log_fail(log, "an event with no seq above %" PRIu64 ", no type"
		    " or no data object (a repeat or out of order?): %s", prev,
		    itest_describe(r));
		return 0;
	}
	if (log_add(log, seq, type->text, event_about(data)) == -1)
		return 0;
	return seq;
}

/*
 * Whether an event is ephemeral (typing, presence: API.md, Typing and
 * presence): no seq, after the durable events of its answer, not logged.
 */
static int
is_ephemeral(const struct json *e)
{
	const struct json	*type = itest_at(e, "type");

	return itest_at(e, "seq") == NULL && type != NULL &&
	    type->type == JSON_STRING && (strcmp(type->text,
	    "typing.start") == 0 || strcmp(type->text,
	    "presence.update") == 0);
}

/* Check and log an answer of /events; 0 or -1. */
static int
log_events(struct seen_log *log, struct itest_response *r)
{
	const struct json	*events;
	const char		*cursor = itest_str(r, "cursor");
	uint64_t		 after = num(log->cursor), prev = after;
	size_t			 i, durable = 0;

	events = itest_at(r->json, "events");
	if (events == NULL || events->type != JSON_ARRAY || !is_num(cursor)) {
		log_fail(log, "no events array or cursor: %s",
		    itest_describe(r));
		return -1;
	}
	for (i = 0; i < events->count; i++) {
		if (is_ephemeral(events->items[i]))
			continue;
		if (durable++ < i) {
			log_fail(log, "a durable event after an ephemeral one: "
			    "%s", itest_describe(r));
			return -1;
		}
		if ((prev = log_event(log, r, events->items[i], prev)) == 0)
			return -1;
	}
	if (durable > 0 ? num(cursor) != prev : num(cursor) < after) {
		log_fail(log, "the cursor is not the last seq, or went back "
		    "from %s: %s", log->cursor, itest_describe(r));
		return -1;
	}
	snprintf(log->cursor, sizeof log->cursor, "%s", cursor);
	return 0;
}

/* Check and log an answer of the wait form (messages after an id). */
static int
log_messages(struct seen_log *log, struct itest_response *r)
{
	const struct json	*id;
	uint64_t		 prev = num(log->cursor);
	size_t			 i;

	if (r->json->type != JSON_ARRAY) {
		log_fail(log, "not an array: %s", itest_describe(r));
		return -1;
	}
	for (i = 0; i < r->json->count; i++) {
		id = itest_at(r->json->items[i], "id");
		if (id == NULL || id->type != JSON_STRING || num(id->text) <=
		    prev) {
			log_fail(log, "a message id not above %" PRIu64 " (a "
			    "repeat or out of order?): %s", prev,
			    itest_describe(r));
			return -1;
		}
		prev = num(id->text);
		if (log_add(log, prev, "message", id->text) == -1)
			return -1;
		snprintf(log->cursor, sizeof log->cursor, "%s", id->text);
	}
	return 0;
}

/* One poll of a feed from the log's cursor; 0, or -1 (noted). */
static int
feed_poll(const struct feed *f, struct seen_log *log, long timeout)
{
	struct itest_response	*r;
	char			*path;
	int			 rc;

	if (f->wait_form) {
		xasprintf(&path, "%s/messages?after=%s&wait=%ld", f->base,
		    log->cursor, timeout);
		r = itest_get(path, f->token);
		free(path);
	} else
		r = poll_once(f->token, log->cursor, timeout);
	if (r->status != 200 || r->json == NULL) {
		log_fail(log, "a poll failed: %s", itest_describe(r));
		rc = -1;
	} else
		rc = f->wait_form ? log_messages(log, r) : log_events(log, r);
	itest_free(r);
	return rc;
}

/*
 * Poll a feed again and again, each time from the cursor the last answer
 * gave, until the log holds want entries, something fails, or seconds
 * pass.
 */
static void
feed_run(const struct feed *f, struct seen_log *log, size_t want,
    double seconds)
{
	double	end = itest_now() + seconds, left;
	long	timeout;

	while (atomic_load(&log->n) < want && log->error[0] == '\0' &&
	    (left = end - itest_now()) > 0) {
		timeout = (long)left + ((double)(long)left < left);
		if (timeout > f->timeout)
			timeout = f->timeout;
		if (feed_poll(f, log, timeout) == -1)
			break;
	}
}

/*
 * Poll /events as u from a cursor until want events came or seconds
 * passed; the log (log_free() it).  Asserts that every answer was right.
 */
static struct seen_log *
collect(const struct chat_user *u, const char *cursor, size_t want,
    double seconds)
{
	struct feed	 f = { 0, u->token, NULL, 60 };
	struct seen_log	*log;

	log = log_new(cursor);
	feed_run(&f, log, want, seconds);
	ck_assert_msg(log->error[0] == '\0', "%s: %s", u->username,
	    log->error);
	return log;
}

/* How many entries of a log have a type and (about non-NULL) an id. */
static size_t
log_count(const struct seen_log *log, const char *type, const char *about)
{
	size_t	i, n = atomic_load(&log->n), c = 0;

	for (i = 0; i < n; i++)
		if (strcmp(log->ev[i].type, type) == 0 && (about == NULL ||
		    strcmp(log->ev[i].about, about) == 0))
			c++;
	return c;
}

/* The position of the first entry of a type about an id, or -1. */
static long
log_find(const struct seen_log *log, const char *type, const char *about)
{
	size_t	i, n = atomic_load(&log->n);

	for (i = 0; i < n; i++)
		if (strcmp(log->ev[i].type, type) == 0 &&
		    strcmp(log->ev[i].about, about) == 0)
			return (long)i;
	return -1;
}

/* The last entries of a log, for failure messages (static). */
static const char *
log_describe(const struct seen_log *log)
{
	static char	buf[2048];
	size_t		i, n = atomic_load(&log->n), used;

	used = (size_t)snprintf(buf, sizeof buf, "%zu events%s", n,
	    n > 12 ? ", the last (seq:type(id)):" : " (seq:type(id)):");
	for (i = n > 12 ? n - 12 : 0; i < n && used < sizeof buf - 128; i++)
		used += (size_t)snprintf(buf + used, sizeof buf - used,
		    " %" PRIu64 ":%s(%s)", log->ev[i].seq, log->ev[i].type,
		    log->ev[i].about);
	if (log->error[0] != '\0')
		snprintf(buf + used, sizeof buf - used, "; error: %s",
		    log->error);
	return buf;
}

/* --- followers --------------------------------------------------------- */

/* Start a process following a feed from a cursor. */
static void
follow_feed(struct follower *fl, const char *who, const struct feed *f,
    const char *cursor)
{
	fl->who = who;
	fl->log = log_new(cursor);
	fflush(stdout);
	fflush(stderr);
	fl->pid = fork();
	ck_assert_msg(fl->pid != -1, "fork: %s", strerror(errno));
	if (fl->pid == 0) {
		/* A test that fails must not leave it polling. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		feed_run(f, fl->log, LOG_MAX, FOLLOW_SECONDS);
		_exit(0);
	}
}

/* Follow u's /events from a cursor, timeout seconds per poll. */
static void
follow(struct follower *fl, const struct chat_user *u, const char *cursor,
    long timeout)
{
	struct feed	f = { 0, u->token, NULL, timeout };

	follow_feed(fl, u->username, &f, cursor);
}

/* Kill a follower (its client goes away) and reap it; the log stays. */
static void
follow_stop(struct follower *fl)
{
	if (fl->pid > 0) {
		kill(fl->pid, SIGKILL);
		while (waitpid(fl->pid, NULL, 0) == -1 && errno == EINTR)
			;
		fl->pid = 0;
	}
}

static void
follow_free(struct follower *fl)
{
	follow_stop(fl);
	log_free(fl->log);
}

/* Wait until a follower logged n entries of a type (and id); whether. */
static int
follow_await(struct follower *fl, const char *type, const char *about,
    size_t n, double seconds)
{
	double	end = itest_now() + seconds;

	while (log_count(fl->log, type, about) < n) {
		if (itest_now() > end || fl->log->error[0] != '\0')
			return 0;
		itest_sleep_ms(20);
	}
	return 1;
}

/* Assert a follower gets an event about an id within DELIVERY seconds. */
static void
expect_delivered(struct follower *fl, const char *type, const char *about)
{
	ck_assert_msg(follow_await(fl, type, about, 1, DELIVERY), "%s did not "
	    "get %s about %s within %.0f s; %s", fl->who, type, about,
	    DELIVERY, log_describe(fl->log));
}

/* Assert a follower never logged an event about an id, nor failed. */
static void
expect_not_delivered(struct follower *fl, const char *type,
    const char *about)
{
	ck_assert_msg(log_count(fl->log, type, about) == 0 &&
	    fl->log->error[0] == '\0', "%s got %s about %s, which it may not "
	    "see; %s", fl->who, type, about, log_describe(fl->log));
}

/* --- writers ----------------------------------------------------------- */

/* A writer: wait for the start, post m messages, record their ids. */
static void NORETURN
writer_run(struct writers *w, int i, const char *token, const char *base)
{
	struct itest_response	*r;
	char			*path, c;
	int			 j;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (read(w->go[0], &c, 1) == -1 && errno == EINTR)
		;
	itest_sleep_ms(w->delay_ms);
	path = chat_path(base, NULL, NULL);
	for (j = 0; j < w->m; j++) {
		r = itest_send("POST", path, token, "{\"content\":\"writer %d "
		    "message %d\"}", i, j);
		w->ids[i][j] = num(r->status == 201 ? itest_str(r, "id") :
		    NULL);
		if (w->ids[i][j] == 0) {
			snprintf(w->error, sizeof w->error, "writer %d: %s", i,
			    itest_describe(r));
			_exit(1);
		}
		itest_free(r);
	}
	w->done_at = itest_now();
	_exit(0);
}

/*
 * Fork k writers that will post m messages each to a conversation,
 * writer i as tokens[i]; they start at writers_go().
 */
static struct writers *
writers_start(int k, int m, const char *const *tokens, const char *base)
{
	struct writers	*w;
	pid_t		 pid;
	int		 i;

	ck_assert(k <= WRITERS_MAX && m <= WRITES_MAX);
	w = shared_new(sizeof *w);
	w->k = k;
	w->m = m;
	ck_assert(pipe(w->go) == 0);
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < k; i++) {
		/* Only the parent writes the shared pids. */
		pid = fork();
		ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
		if (pid == 0)
			writer_run(w, i, tokens[i], base);
		w->pids[i] = pid;
	}
	close(w->go[0]);
	return w;
}

/*
 * Let the writers post, after a delay: a byte each (closing the pipe
 * would not do, as processes forked since hold it open too).
 */
static void
writers_go(struct writers *w, long delay_ms)
{
	int	i;

	w->delay_ms = delay_ms;
	for (i = 0; i < w->k; i++)
		ck_assert(write(w->go[1], "g", 1) == 1);
	close(w->go[1]);
}

/* Wait for the writers; assert they all posted. */
static void
writers_wait(struct writers *w)
{
	int	i;

	for (i = 0; i < w->k; i++)
		while (waitpid(w->pids[i], NULL, 0) == -1 && errno == EINTR)
			;
	ck_assert_msg(w->error[0] == '\0', "a writer failed: %s", w->error);
}

static void
writers_free(struct writers *w)
{
	munmap(w, sizeof *w);
}

/* Compare two ids for qsort. */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Assert that a follower logged each posted message exactly once (as
 * entries of a type) and nothing else of that type.
 */
static void
expect_exactly_once(struct follower *fl, const char *type,
    const struct writers *w)
{
	uint64_t	*want, *got;
	size_t		 n = (size_t)(w->k * w->m), ngot = 0, i;

	want = xcalloc(n, sizeof *want);
	got = xcalloc(LOG_MAX, sizeof *got);
	for (i = 0; i < n; i++)
		want[i] = w->ids[i / (size_t)w->m][i % (size_t)w->m];
	for (i = 0; i < atomic_load(&fl->log->n); i++)
		if (strcmp(fl->log->ev[i].type, type) == 0)
			got[ngot++] = num(fl->log->ev[i].about);
	qsort(want, n, sizeof *want, cmp_u64);
	qsort(got, ngot, sizeof *got, cmp_u64);
	for (i = 1; i < ngot; i++)
		ck_assert_msg(got[i] != got[i - 1], "%s got message %" PRIu64
		    " twice", fl->who, got[i]);
	ck_assert_msg(ngot == n, "%s got %zu of the %zu messages; %s",
	    fl->who, ngot, n, log_describe(fl->log));
	ck_assert_msg(memcmp(want, got, n * sizeof *want) == 0, "%s got "
	    "other messages than were posted", fl->who);
	free(want);
	free(got);
}

/* --- the audience test ------------------------------------------------- */

/*
 * Record an event that just happened and wait until everybody in its
 * audience has it (then give them time to park again).
 */
static void
scene_expect(struct scene *s, const char *type, const char *about,
    unsigned audience)
{
	struct step	*st;
	int		 i;

	ck_assert(s->nsteps < sizeof s->steps / sizeof s->steps[0]);
	st = &s->steps[s->nsteps++];
	snprintf(st->type, sizeof st->type, "%s", type);
	snprintf(st->about, sizeof st->about, "%s", about);
	st->audience = audience;
	for (i = 0; i < USERS; i++)
		if (audience & (1U << i))
			expect_delivered(&s->f[i], type, about);
	itest_sleep_ms(SETTLE_MS);
}

/* Assert a user got exactly the steps meant for them, in order. */
static void
scene_check(struct scene *s, int who)
{
	const struct seen_log	*log = s->f[who].log;
	const struct step	*st;
	size_t			 i, j = 0, n = atomic_load(&log->n);

	ck_assert_msg(log->error[0] == '\0', "%s: %s", s->f[who].who,
	    log_describe(log));
	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		if (!(st->audience & (1U << who)))
			continue;
		ck_assert_msg(j < n && strcmp(log->ev[j].type, st->type) == 0 &&
		    strcmp(log->ev[j].about, st->about) == 0, "%s: event %zu "
		    "should be %s(%s); %s", s->f[who].who, j, st->type,
		    st->about, log_describe(log));
		j++;
	}
	ck_assert_msg(j == n, "%s got events it may not see; %s",
	    s->f[who].who, log_describe(log));
}

/* --- tests ------------------------------------------------------------- */

/* Assert an answer holds no events and a cursor not below after. */
static void
expect_empty(struct itest_response *r, const char *after)
{
	const struct json	*events;

	itest_expect(r, 200);
	events = itest_at(r->json, "events");
	ck_assert_msg(events != NULL && events->type == JSON_ARRAY &&
	    events->count == 0, "expected no events: %s", itest_describe(r));
	ck_assert_msg(is_num(itest_str(r, "cursor")) &&
	    num(itest_str(r, "cursor")) >= num(after), "the cursor is not at "
	    "or above %s: %s", after, itest_describe(r));
}

/* Assert a poll from a cursor is refused with a status and code. */
static void
expect_refused(const struct chat_user *u, const char *query, long status,
    const char *code)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, EVENTS "?%s", query);
	r = itest_get(path, u != NULL ? u->token : NULL);
	free(path);
	itest_expect_error(r, status, code);
	if (strcmp(code, "validation_failed") == 0)
		itest_expect_str(r, "error.field", "timeout");
	itest_free(r);
}

START_TEST(test_head_and_errors)
{
	struct itest_response	*r, *expired;
	struct chat_user	 u;
	struct seen_log		*log;
	char			*first, *second, *server, *general, *msg;
	char			*sql, *q;

	chat_user(&u, "ev_head");
	/* Without after: at once, whatever the timeout says. */
	r = poll_once(u.token, NULL, 30);
	expect_empty(r, "0");
	ck_assert_msg(r->seconds < PROMPT, "GET /events without after took "
	    "%.2f s", r->seconds);
	first = xstrdup(itest_str(r, "cursor"));
	itest_free(r);

	/* A change moves the head; the old cursor reads it at once. */
	server = chat_server(&u, &general);
	xasprintf(&msg, API_PREFIX "/channels/%s", general);
	free(general);
	general = msg;
	msg = chat_post(&u, general, "after the first cursor");
	second = itest_events_head(u.token);
	ck_assert_msg(num(second) > num(first), "the head did not move from "
	    "%s after a post: %s", first, second);
	log = collect(&u, first, 2, PROMPT);
	ck_assert_msg(log_find(log, "member.join", u.id) == 0 &&
	    log_find(log, "message.create", msg) == 1, "from %s: %s", first,
	    log_describe(log));
	ck_assert_msg(num(log->cursor) <= num(second), "the cursor %s passed "
	    "the head %s", log->cursor, second);
	log_free(log);

	/* Malformed, negative, overflowing and future cursors. */
	expect_refused(&u, "after=abc", 400, "invalid_cursor");
	expect_refused(&u, "after=-1", 400, "invalid_cursor");
	expect_refused(&u, "after=18446744073709551616", 400,
	    "invalid_cursor");
	xasprintf(&q, "after=%" PRIu64, num(second) + 1000000);
	expect_refused(&u, q, 400, "invalid_cursor");
	free(q);
	expect_refused(&u, "after=0&timeout=61", 400, "validation_failed");
	expect_refused(&u, "after=0&timeout=abc", 400, "validation_failed");
	expect_refused(&u, "after=0&timeout=-1", 400, "validation_failed");
	expect_refused(NULL, "after=0", 401, "unauthorized");

	/* Below the retention mark: 410; at the mark: still readable. */
	xasprintf(&sql, "UPDATE event_retention SET pruned_upto = %s",
	    second);
	ck_assert_msg(itest_sql(sql) == 0, "mariadb failed: %s", sql);
	/* Made by hand: the workers read the mark again within cache_ms. */
	itest_settle_cache();
	expired = poll_once(u.token, first, 0);
	r = poll_once(u.token, second, 0);
	ck_assert_msg(itest_sql("UPDATE event_retention SET pruned_upto = "
	    "0") == 0, "could not restore event_retention");
	itest_expect_error(expired, 410, "cursor_expired");
	expect_empty(r, second);
	itest_free(expired);
	itest_free(r);

	free(sql);
	free(msg);
	free(general);
	free(server);
	free(first);
	free(second);
	chat_user_free(&u);
}
END_TEST

START_TEST(test_parked_poll_answers_promptly)
{
	struct itest_response	*r;
	struct chat_user	 a, b;
	struct writers		*w;
	const char		*token;
	char			*server, *general, *base, *cursor, *id;

	chat_user(&a, "ev_poster");
	chat_user(&b, "ev_reader");
	server = chat_server(&a, &general);
	chat_join(&a, server, &b);
	xasprintf(&base, API_PREFIX "/channels/%s", general);
	cursor = itest_events_head(b.token);

	/* The post comes a second after the poll has parked. */
	token = a.token;
	w = writers_start(1, 1, &token, base);
	writers_go(w, 1000);
	r = poll_once(b.token, cursor, 30);
	writers_wait(w);
	xasprintf(&id, "%" PRIu64, w->ids[0][0]);
	itest_expect(r, 200);
	ck_assert_msg(r->seconds > 0.8, "the poll answered after %.2f s, "
	    "before the post", r->seconds);
	ck_assert_msg(itest_now() - w->done_at < PROMPT, "the poll answered "
	    "%.2f s after the post", itest_now() - w->done_at);
	itest_expect_str(r, "events.0.type", "message.create");
	itest_expect_str(r, "events.0.data.message.id", id);
	itest_expect_str(r, "events.0.data.message.content",
	    "writer 0 message 0");
	itest_expect_str(r, "events.0.data.message.author.id", a.id);
	itest_expect_str(r, "events.0.data.message.author.username",
	    a.username);
	itest_expect_str(r, "events.0.data.message.channel_id", general);
	itest_expect_str(r, "cursor", itest_str(r, "events.0.seq"));
	itest_free(r);

	writers_free(w);
	free(id);
	free(cursor);
	free(base);
	free(general);
	free(server);
	chat_user_free(&a);
	chat_user_free(&b);
}
END_TEST

START_TEST(test_timeout)
{
	struct itest_response	*r;
	struct chat_user	 u, other;
	struct writers		*w;
	const char		*token;
	char			*cursor, *next, *server, *general, *base;

	chat_user(&u, "ev_idle");
	chat_user(&other, "ev_busy");
	server = chat_server(&other, &general);
	xasprintf(&base, API_PREFIX "/channels/%s", general);
	cursor = itest_events_head(u.token);

	/* A post u may not see does not end u's wait. */
	token = other.token;
	w = writers_start(1, 1, &token, base);
	writers_go(w, 500);
	r = poll_once(u.token, cursor, 2);
	writers_wait(w);
	expect_empty(r, cursor);
	ck_assert_msg(r->seconds > 1.5 && r->seconds < 4.5, "timeout=2 "
	    "answered after %.2f s", r->seconds);
	next = xstrdup(itest_str(r, "cursor"));
	itest_free(r);

	/* timeout=0 answers at once; the cursor given back is usable. */
	r = poll_once(u.token, next, 0);
	expect_empty(r, next);
	ck_assert_msg(r->seconds < PROMPT, "timeout=0 took %.2f s",
	    r->seconds);
	itest_free(r);
	free(server);
	server = act(&u, 201, "POST", "{\"name\":\"idle no more\"}",
	    API_PREFIX "/servers");
	r = poll_once(u.token, next, 5);
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "member.join");
	itest_expect_str(r, "events.0.data.server_id", server);
	ck_assert_msg(r->seconds < PROMPT, "an event after the cursor took "
	    "%.2f s", r->seconds);
	itest_free(r);

	writers_free(w);
	free(next);
	free(cursor);
	free(base);
	free(general);
	free(server);
	chat_user_free(&u);
	chat_user_free(&other);
}
END_TEST

/* GET a conversation's messages as u with a printf-formatted query. */
static struct itest_response * PRINTFLIKE(3, 4)
messages_get(const struct chat_user *u, const char *base, const char *fmt,
    ...)
{
	struct itest_response	*r;
	va_list			 ap;
	char			*query, *path;

	va_start(ap, fmt);
	if (vasprintf(&query, fmt, ap) < 0)
		abort();
	va_end(ap);
	path = chat_path(base, NULL, query);
	r = itest_get(path, u->token);
	free(path);
	free(query);
	return r;
}

/*
 * The per-channel wait form: nothing newer answers [] after wait seconds,
 * a post answers a parked request promptly, bad requests are refused at
 * once and a channel one may not see is 404, not a wait.
 */
START_TEST(test_wait_form)
{
	struct itest_response	*r;
	struct chat_user	 a, b, outsider;
	struct writers		*w;
	const char		*token;
	char			*server, *general, *base, *seed, *id;

	chat_user(&a, "ev_waitee");
	chat_user(&b, "ev_waiter");
	chat_user(&outsider, "ev_outside");
	server = chat_server(&a, &general);
	xasprintf(&base, API_PREFIX "/channels/%s", general);
	chat_join(&a, server, &b);
	seed = chat_post(&a, base, "seed");

	r = messages_get(&b, base, "after=%s&wait=2", seed);
	itest_expect(r, 200);
	ck_assert_msg(r->json->type == JSON_ARRAY && r->json->count == 0 &&
	    r->seconds > 1.5 && r->seconds < 4.5, "wait=2 with nothing new: "
	    "%s", itest_describe(r));
	itest_free(r);

	token = a.token;
	w = writers_start(1, 1, &token, base);
	writers_go(w, 1000);
	r = messages_get(&b, base, "after=%s&wait=30", seed);
	writers_wait(w);
	xasprintf(&id, "%" PRIu64, w->ids[0][0]);
	itest_expect(r, 200);
	ck_assert_msg(r->seconds > 0.8 && itest_now() - w->done_at < PROMPT,
	    "a parked wait answered %.2f s after the post (%.2f s in all)",
	    itest_now() - w->done_at, r->seconds);
	ck_assert_msg(r->json->type == JSON_ARRAY && r->json->count == 1,
	    "expected the one new message: %s", itest_describe(r));
	itest_expect_str(r, "0.id", id);
	itest_free(r);

	r = messages_get(&b, base, "wait=5");
	itest_expect_error(r, 400, "validation_failed");
	itest_expect_str(r, "error.field", "wait");
	itest_free(r);
	r = messages_get(&b, base, "after=%s&wait=61", seed);
	itest_expect_error(r, 400, "validation_failed");
	itest_expect_str(r, "error.field", "wait");
	itest_free(r);
	r = messages_get(&outsider, base, "after=%s&wait=30", id);
	ck_assert_msg(r->status == 404 && r->seconds < PROMPT, "an outsider's "
	    "wait: %s", itest_describe(r));
	itest_free(r);

	writers_free(w);
	free(id);
	free(seed);
	free(base);
	free(general);
	free(server);
	chat_user_free(&a);
	chat_user_free(&b);
	chat_user_free(&outsider);
}
END_TEST

/*
 * Every event type reaches exactly the users who may see it.  A owns the
 * server, B and D are members (D is kicked on the way), C is outside it
 * and A's DM partner.  The followers are live: each event is awaited by
 * its audience before the next change, and at the end every user's
 * sequence must be exactly the steps meant for them.
 */
START_TEST(test_audience)
{
	static const char *const names[USERS] = { "ev_a", "ev_b", "ev_c",
	    "ev_d" };
	struct scene	 s;
	char		*cursor[USERS], *server, *general, *base, *id, *dm;
	const unsigned	 members = 1U << A | 1U << B | 1U << D;
	int		 i;

	/* Each starts from a cursor taken just before they joined. */
	memset(&s, 0, sizeof s);
	for (i = 0; i < USERS; i++)
		chat_user(&s.u[i], names[i]);
	cursor[A] = itest_events_head(s.u[A].token);
	cursor[C] = itest_events_head(s.u[C].token);
	server = chat_server(&s.u[A], &general);
	xasprintf(&base, API_PREFIX "/channels/%s", general);
	cursor[B] = itest_events_head(s.u[B].token);
	chat_join(&s.u[A], server, &s.u[B]);
	cursor[D] = itest_events_head(s.u[D].token);
	chat_join(&s.u[A], server, &s.u[D]);
	for (i = 0; i < USERS; i++)
		follow(&s.f[i], &s.u[i], cursor[i], FOLLOW_TIMEOUT);
	scene_expect(&s, "member.join", s.u[A].id, 1U << A);
	scene_expect(&s, "member.join", s.u[B].id, 1U << A | 1U << B);
	scene_expect(&s, "member.join", s.u[D].id, members);

	id = chat_post(&s.u[A], base, "hello");
	scene_expect(&s, "message.create", id, members);
	free(act(&s.u[A], 200, "PATCH", "{\"content\":\"hello again\"}",
	    "%s/messages/%s", base, id));
	scene_expect(&s, "message.update", id, members);
	free(act(&s.u[A], 204, "DELETE", NULL, "%s/messages/%s", base, id));
	scene_expect(&s, "message.delete", id, members);
	free(id);

	id = act(&s.u[A], 201, "POST", "{\"name\":\"side\"}", API_PREFIX
	    "/servers/%s/channels", server);
	scene_expect(&s, "channel.create", id, members);
	free(act(&s.u[A], 200, "PATCH", "{\"name\":\"aside\"}", API_PREFIX
	    "/channels/%s", id));
	scene_expect(&s, "channel.update", id, members);
	free(act(&s.u[A], 204, "DELETE", NULL, API_PREFIX "/channels/%s", id));
	scene_expect(&s, "channel.delete", id, members);
	free(id);

	free(act(&s.u[A], 200, "PATCH", "{\"name\":\"renamed\"}", API_PREFIX
	    "/servers/%s", server));
	scene_expect(&s, "server.update", server, members);
	free(act(&s.u[B], 200, "PATCH", "{\"nickname\":\"bee\"}", API_PREFIX
	    "/servers/%s/members/@me", server));
	scene_expect(&s, "member.update", s.u[B].id, members);

	id = act(&s.u[A], 201, "POST", "{\"name\":\"mods\"}", API_PREFIX
	    "/servers/%s/roles", server);
	scene_expect(&s, "role.create", id, members);
	free(act(&s.u[A], 200, "PATCH", "{\"name\":\"moderators\"}",
	    API_PREFIX "/servers/%s/roles/%s", server, id));
	scene_expect(&s, "role.update", id, members);
	free(act(&s.u[A], 204, "DELETE", NULL, API_PREFIX
	    "/servers/%s/roles/%s", server, id));
	scene_expect(&s, "role.delete", id, members);
	free(id);

	dm = chat_dm(&s.u[A], &s.u[C]);
	scene_expect(&s, "dm.create", dm, 1U << A | 1U << C);
	xasprintf(&id, API_PREFIX "/dms/%s", dm);
	free(dm);
	dm = id;
	id = chat_post(&s.u[A], dm, "psst");
	scene_expect(&s, "message.create", id, 1U << A | 1U << C);
	free(id);

	free(act(&s.u[A], 204, "DELETE", NULL, API_PREFIX
	    "/servers/%s/members/%s", server, s.u[D].id));
	scene_expect(&s, "member.leave", s.u[D].id, members);
	id = chat_post(&s.u[A], base, "D is gone");
	scene_expect(&s, "message.create", id, 1U << A | 1U << B);
	free(id);
	free(act(&s.u[A], 204, "DELETE", NULL, API_PREFIX "/servers/%s",
	    server));
	scene_expect(&s, "server.delete", server, 1U << A | 1U << B);

	itest_sleep_ms(QUIET_MS);
	for (i = 0; i < USERS; i++) {
		follow_stop(&s.f[i]);
		scene_check(&s, i);
		follow_free(&s.f[i]);
		chat_user_free(&s.u[i]);
		free(cursor[i]);
	}
	free(dm);
	free(base);
	free(general);
	free(server);
}
END_TEST

/*
 * A kicked user, polling afterwards from a cursor of before the kick,
 * gets their own member.leave and nothing of that server after it.
 */
START_TEST(test_kicked)
{
	struct chat_user	 a, b;
	struct seen_log		*log;
	char			*server, *general, *base, *cursor, *id, *later;
	long			 at;

	chat_user(&a, "ev_kicker");
	chat_user(&b, "ev_kicked");
	server = chat_server(&a, &general);
	xasprintf(&base, API_PREFIX "/channels/%s", general);
	chat_join(&a, server, &b);
	cursor = itest_events_head(b.token);
	free(chat_post(&a, base, "before the kick"));
	free(act(&a, 204, "DELETE", NULL, API_PREFIX "/servers/%s/members/%s",
	    server, b.id));
	later = chat_post(&a, base, "after the kick");
	id = act(&a, 201, "POST", "{\"name\":\"secret\"}", API_PREFIX
	    "/servers/%s/channels", server);
	free(act(&a, 200, "PATCH", "{\"name\":\"without b\"}", API_PREFIX
	    "/servers/%s", server));

	log = collect(&b, cursor, LOG_MAX, PROMPT);
	at = log_find(log, "member.leave", b.id);
	ck_assert_msg(at >= 0 && log_count(log, "member.leave", b.id) == 1,
	    "the kicked user did not get its member.leave once; %s",
	    log_describe(log));
	ck_assert_msg((size_t)at + 1 == atomic_load(&log->n), "the kicked "
	    "user got events of the server after its member.leave; %s",
	    log_describe(log));
	log_free(log);

	free(id);
	free(later);
	free(cursor);
	free(base);
	free(general);
	free(server);
	chat_user_free(&a);
	chat_user_free(&b);
}
END_TEST

/*
 * view_channels taken from @everyone: B stops getting message and channel
 * events but still gets server events; given back, B gets messages again.
 */
START_TEST(test_view_channels_removed)
{
	struct chat_user	 a, b;
	struct follower		 fa, fb;
	char			*server, *general, *base, *role, *cursor;
	char			*m1, *m2, *m3, *chan;

	chat_user(&a, "ev_admin");
	chat_user(&b, "ev_viewer");
	server = chat_server(&a, &general);
	xasprintf(&base, API_PREFIX "/channels/%s", general);
	chat_join(&a, server, &b);
	role = default_role(&a, server);
	cursor = itest_events_head(a.token);
	follow(&fa, &a, cursor, FOLLOW_TIMEOUT);
	follow(&fb, &b, cursor, FOLLOW_TIMEOUT);
	itest_sleep_ms(SETTLE_MS);

	m1 = chat_post(&a, base, "seen by all");
	expect_delivered(&fb, "message.create", m1);
	set_everyone(&a, server, role, "[\"send_messages\",\"create_invite\","
	    "\"change_nickname\"]");
	expect_delivered(&fb, "role.update", role);
	itest_sleep_ms(SETTLE_MS);

	m2 = chat_post(&a, base, "for those who may view");
	chan = act(&a, 201, "POST", "{\"name\":\"hidden\"}", API_PREFIX
	    "/servers/%s/channels", server);
	free(act(&a, 200, "PATCH", "{\"name\":\"still a member\"}", API_PREFIX
	    "/servers/%s", server));
	expect_delivered(&fa, "message.create", m2);
	expect_delivered(&fa, "channel.create", chan);
	expect_delivered(&fb, "server.update", server);
	itest_sleep_ms(QUIET_MS);
	expect_not_delivered(&fb, "message.create", m2);
	expect_not_delivered(&fb, "channel.create", chan);

	set_everyone(&a, server, role, "[\"view_channels\",\"send_messages\"]");
	expect_delivered(&fb, "role.update", role);
	itest_sleep_ms(SETTLE_MS);
	m3 = chat_post(&a, base, "visible again");
	expect_delivered(&fb, "message.create", m3);

	follow_free(&fa);
	follow_free(&fb);
	free(m1);
	free(m2);
	free(m3);
	free(chan);
	free(cursor);
	free(role);
	free(base);
	free(general);
	free(server);
	chat_user_free(&a);
	chat_user_free(&b);
}
END_TEST

/*
 * A user whose poll is parked joins a server: the poll gets their own
 * member.join, and nothing of the server is lost when something else
 * (here a new DM) answers the poll first.
 */
START_TEST(test_joiner)
{
	struct chat_user	 a, b;
	struct follower		 fb;
	char			*server, *general, *base, *cursor, *msg, *dm;

	chat_user(&a, "ev_host");
	chat_user(&b, "ev_joiner");
	server = chat_server(&a, &general);
	xasprintf(&base, API_PREFIX "/channels/%s", general);
	cursor = itest_events_head(b.token);
	follow(&fb, &b, cursor, FOLLOW_TIMEOUT);
	itest_sleep_ms(SETTLE_MS * 2);

	chat_join(&a, server, &b);
	msg = chat_post(&a, base, "welcome");
	dm = chat_dm(&a, &b);
	expect_delivered(&fb, "dm.create", dm);
	ck_assert_msg(log_find(fb.log, "member.join", b.id) == 0 &&
	    log_find(fb.log, "message.create", msg) == 1, "the joiner's parked "
	    "poll lost its member.join and the message after it (expected "
	    "member.join(%s) message.create(%s) dm.create(%s)); %s", b.id, msg,
	    dm, log_describe(fb.log));

	follow_free(&fb);
	free(msg);
	free(dm);
	free(cursor);
	free(base);
	free(general);
	free(server);
	chat_user_free(&a);
	chat_user_free(&b);
}
END_TEST

/* Clients that go away free their parked polls at once. */
START_TEST(test_client_abort)
{
	struct chat_user	 u;
	struct follower		 f[ABORTERS];
	char			*cursor;
	long			 base, v;
	int			 i;

	chat_user(&u, "ev_quitter");
	cursor = itest_events_head(u.token);
	itest_sleep_ms(SETTLE_MS);
	base = itest_metric(ITEST_PARKED);
	for (i = 0; i < ABORTERS; i++)
		follow(&f[i], &u, cursor, 30);
	v = itest_await_metric(ITEST_PARKED, base + ABORTERS, LONG_MAX,
	    DELIVERY);
	ck_assert_msg(v >= base + ABORTERS, "%d polls started but "
	    "sohbet_parked_polls is %ld (was %ld)", ABORTERS, v, base);
	for (i = 0; i < ABORTERS; i++)
		follow_stop(&f[i]);
	v = itest_await_metric(ITEST_PARKED, 0, base, PROMPT);
	ck_assert_msg(v <= base, "%d clients went away but "
	    "sohbet_parked_polls is %ld after %.0f s (was %ld)", ABORTERS, v,
	    PROMPT, base);
	for (i = 0; i < ABORTERS; i++) {
		ck_assert_msg(f[i].log->error[0] == '\0', "poller %d: %s", i,
		    f[i].log->error);
		follow_free(&f[i]);
	}
	free(cursor);
	chat_user_free(&u);
}
END_TEST

/* Members of one server with a channel, for the concurrency tests. */
struct crowd {
	struct chat_user	 u[RACE_POLLERS];
	char			*server, *general, *base;
};

static void
crowd_open(struct crowd *c, const char *prefix)
{
	int	i;

	for (i = 0; i < RACE_POLLERS; i++)
		chat_user(&c->u[i], prefix);
	c->server = chat_server(&c->u[0], &c->general);
	xasprintf(&c->base, API_PREFIX "/channels/%s", c->general);
	for (i = 1; i < RACE_POLLERS; i++)
		chat_join(&c->u[0], c->server, &c->u[i]);
}

static void
crowd_close(struct crowd *c)
{
	int	i;

	for (i = 0; i < RACE_POLLERS; i++)
		chat_user_free(&c->u[i]);
	free(c->server);
	free(c->general);
	free(c->base);
}

/*
 * Concurrent writers on several workers, several pollers of /events and
 * of the channel's wait form: each poller sees every message exactly
 * once, in increasing order.
 */
START_TEST(test_exactly_once)
{
	struct crowd		 c;
	struct follower		 ev[RACE_POLLERS], wt[RACE_POLLERS];
	struct feed		 wf;
	struct writers		*w;
	const char		*tokens[RACE_WRITERS];
	const size_t		 n = RACE_WRITERS * RACE_WRITES;
	char			*cursor, *seed;
	int			 i;

	crowd_open(&c, "ev_race");
	seed = chat_post(&c.u[0], c.base, "seed");
	cursor = itest_events_head(c.u[0].token);
	for (i = 0; i < RACE_WRITERS; i++)
		tokens[i] = c.u[i % RACE_POLLERS].token;
	w = writers_start(RACE_WRITERS, RACE_WRITES, tokens, c.base);
	for (i = 0; i < RACE_POLLERS; i++) {
		follow(&ev[i], &c.u[i], cursor, 5);
		wf = (struct feed){ 1, c.u[i].token, c.base, 5 };
		follow_feed(&wt[i], c.u[i].username, &wf, seed);
	}
	itest_sleep_ms(SETTLE_MS);
	writers_go(w, 0);
	writers_wait(w);
	for (i = 0; i < RACE_POLLERS; i++) {
		follow_await(&ev[i], "message.create", NULL, n, 30.0);
		follow_await(&wt[i], "message", NULL, n, 10.0);
	}
	for (i = 0; i < RACE_POLLERS; i++) {
		follow_stop(&ev[i]);
		follow_stop(&wt[i]);
		ck_assert_msg(ev[i].log->error[0] == '\0', "/events poller %d: "
		    "%s", i, ev[i].log->error);
		expect_exactly_once(&ev[i], "message.create", w);
		ck_assert_msg(wt[i].log->error[0] == '\0', "wait poller %d: "
		    "%s", i, wt[i].log->error);
		expect_exactly_once(&wt[i], "message", w);
		follow_free(&ev[i]);
		follow_free(&wt[i]);
	}
	writers_free(w);
	free(seed);
	free(cursor);
	crowd_close(&c);
}
END_TEST

/*
 * A poll parked long ago (its user saw none of the last thousand events)
 * and a current one, woken together on one worker by an event both may
 * see: the current one must not be handed events it already had.
 */
START_TEST(test_lagging_poll)
{
	struct chat_user	 x, y;
	struct follower		 fx[LAG_POLLERS], fy[LAG_POLLERS];
	struct writers		*w;
	const char		*tokens[WRITERS_MAX];
	char			*sx, *gx, *bx, *sy, *gy, *by, *cursor, *trigger;
	const size_t		 n = WRITERS_MAX * LAG_WRITES;
	int			 i;

	chat_user(&x, "ev_lagging");
	chat_user(&y, "ev_current");
	sx = chat_server(&x, &gx);
	sy = chat_server(&y, &gy);
	xasprintf(&bx, API_PREFIX "/channels/%s", gx);
	xasprintf(&by, API_PREFIX "/channels/%s", gy);
	chat_join(&x, sx, &y);
	cursor = itest_events_head(x.token);
	for (i = 0; i < WRITERS_MAX; i++)
		tokens[i] = y.token;
	w = writers_start(WRITERS_MAX, LAG_WRITES, tokens, by);
	for (i = 0; i < LAG_POLLERS; i++) {
		follow(&fx[i], &x, cursor, 50);
		follow(&fy[i], &y, cursor, 50);
	}
	itest_sleep_ms(SETTLE_MS);
	writers_go(w, 0);
	writers_wait(w);
	for (i = 0; i < LAG_POLLERS; i++)
		ck_assert_msg(follow_await(&fy[i], "message.create", NULL, n,
		    30.0), "%s's poller %d: %s", y.username, i,
		    log_describe(fy[i].log));
	itest_sleep_ms(SETTLE_MS);

	trigger = chat_post(&x, bx, "wake up, both of you");
	for (i = 0; i < LAG_POLLERS; i++) {
		expect_delivered(&fx[i], "message.create", trigger);
		expect_delivered(&fy[i], "message.create", trigger);
	}
	itest_sleep_ms(SETTLE_MS);
	for (i = 0; i < LAG_POLLERS; i++) {
		follow_stop(&fx[i]);
		follow_stop(&fy[i]);
		ck_assert_msg(fy[i].log->error[0] == '\0' &&
		    fx[i].log->error[0] == '\0' && atomic_load(&fy[i].log->n) ==
		    n + 1, "after the wake-up: %s's poller: %s; %s's poller: "
		    "%s", y.username, log_describe(fy[i].log), x.username,
		    fx[i].log->error);
		follow_free(&fx[i]);
		follow_free(&fy[i]);
	}
	writers_free(w);
	free(trigger);
	free(cursor);
	free(bx);
	free(by);
	free(gx);
	free(gy);
	free(sx);
	free(sy);
	chat_user_free(&x);
	chat_user_free(&y);
}
END_TEST

/* A parked poll in a child: report "status seconds count cursor". */
static void NORETURN
stopper_poll(int out, const char *token, const char *cursor)
{
	struct itest_response	*r;
	const struct json	*events;
	char			 line[160];
	int			 n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	r = poll_once(token, cursor, 30);
	events = r->status == 200 ? itest_at(r->json, "events") : NULL;
	n = snprintf(line, sizeof line, "%ld %.3f %ld %.30s\n", r->status,
	    itest_now(), events != NULL ? (long)events->count : -1L,
	    itest_str(r, "cursor") != NULL ? itest_str(r, "cursor") : "-");
	if (write(out, line, (size_t)n) != n)
		_exit(2);
	_exit(0);
}

/* A graceful stop answers parked polls with no events (last test). */
START_TEST(test_graceful_stop)
{
	struct chat_user	 u;
	struct pollfd		 pfd;
	char			*cursor, line[160], got[40];
	double			 sent, answered;
	long			 status, count, base, limit;
	pid_t			 pid, master;
	int			 fds[2];
	ssize_t			 len;

	itest_require_stack();
	chat_user(&u, "ev_stopped");
	cursor = itest_events_head(u.token);
	master = itest_master_pid();
	limit = itest_conf_int("server", "shutdown_timeout", 10) + 3;
	base = itest_metric(ITEST_PARKED);
	ck_assert(pipe(fds) == 0);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		stopper_poll(fds[1], u.token, cursor);
	}
	close(fds[1]);
	ck_assert_msg(itest_await_metric(ITEST_PARKED, base + 1, LONG_MAX,
	    DELIVERY) > base, "the poll did not park");

	fprintf(stderr, "itest: SIGTERM to master %ld\n", (long)master);
	sent = itest_now();
	ck_assert_msg(kill(master, SIGTERM) == 0, "kill: %s", strerror(errno));
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	len = poll(&pfd, 1, 10000) == 1 ? read(fds[0], line, sizeof line - 1) :
	    -1;
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	while (itest_alive(master) && itest_now() - sent < limit)
		itest_sleep_ms(50);
	ck_assert_msg(len > 0, "the parked poll got no answer within 10 s of "
	    "SIGTERM");
	line[len] = '\0';
	ck_assert_msg(sscanf(line, "%ld %lf %ld %39s", &status, &answered,
	    &count, got) == 4 && status == 200 && count == 0 && num(got) >=
	    num(cursor), "the parked poll's answer to a graceful stop: %s "
	    "(want 200, no events, a cursor from %s)", line, cursor);
	ck_assert_msg(answered - sent < 5.0, "the parked poll was answered "
	    "%.2f s after SIGTERM", answered - sent);
	ck_assert_msg(!itest_alive(master), "the master still runs %ld s "
	    "after SIGTERM", limit);
	close(fds[0]);
	ck_assert_msg(itest_restore() == 0, "the stack did not come back");
	free(cursor);
	chat_user_free(&u);
}
END_TEST

static Suite *
events_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("events");

	tc = tcase_create("polls");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_head_and_errors);
	tcase_add_test(tc, test_parked_poll_answers_promptly);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_wait_form);
	suite_add_tcase(s, tc);

	tc = tcase_create("audience");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_audience);
	tcase_add_test(tc, test_kicked);
	tcase_add_test(tc, test_view_channels_removed);
	tcase_add_test(tc, test_joiner);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_exactly_once);
	tcase_add_test(tc, test_lagging_poll);
	suite_add_tcase(s, tc);

	/*
	 * Alone on the stack: the parked-polls gauge and the stack's life
	 * are ours (other test programs may run side by side).  The
	 * graceful stop last, as it stops it.
	 */
	tc = tcase_create("exclusive");
	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, itest_exclusive,
	    itest_restore_teardown);
	tcase_add_test(tc, test_client_abort);
	tcase_add_test(tc, test_graceful_stop);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	itest_init();
	return check_run(events_suite());
}
