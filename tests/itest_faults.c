/* SPDX-License-Identifier: ISC */
/*
 * itest_faults.c: faults under load (issue 9).  While writers post
 * messages and followers hold long-polls, a worker is killed with
 * SIGKILL, MariaDB is restarted, sohbetd and nginx reload, and 5,000
 * long-poll clients vanish at once.  What must hold: every message that
 * was acknowledged is in the history exactly once (a writer retries an
 * unacknowledged send with the same nonce), followers see each exactly
 * once, no request hangs, the errors are the ones a client retries
 * (nginx's 502 for a dead worker, a fast 503 while the database is down)
 * and none at all on a reload, and the parked polls and memory of 5,000
 * vanished clients are given back.  A worker without a descriptor to
 * accept with waits for one without spinning, and serves again after.
 *
 * The load runs in forked children that record what they saw in shared
 * memory and stop by themselves (LOAD_SECONDS).  Destructive: the whole
 * program keeps the stack to itself and restores it after each test.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "chat.h"
#include "forge.h"
#include "raw.h"
#include "check_run.h"

#define WRITERS		4
#define WRITES_MAX	2000	/* per writer */
#define WRITE_PAUSE_MS	25	/* between two messages of a writer */
#define RETRY_MS	100	/* before a client retries */
#define CHATTY		3	/* followers of the busy channel */
#define IDLE		4	/* followers parked on a quiet channel */
#define FOLLOWERS	(CHATTY + IDLE)
#define CHATTY_WAIT	10	/* seconds, the wait= of their polls */
#define IDLE_WAIT	25
#define HANG_SLACK	3.0	/* a poll may take its wait plus this */
#define SEEN_MAX	(WRITERS * WRITES_MAX)
#define LOAD_SECONDS	90.0	/* every load child stops by then */
#define WARM_MS		1500	/* load before a fault */
#define AFTER_MS	3000	/* load after a recovery */
#define CATCH_UP	15.0	/* seconds for followers to catch up */
#define GATEWAY_PROMPT	2.0	/* seconds from kill -9 to the 502s */
#define FAST_503	3.0	/* seconds a 503 may take */
#define RECOVERY	30	/* seconds for health after a restart */
#define MAX_WORKERS	64
#define CROWD		5000	/* long-poll clients that vanish */
#define CROWD_BATCH	500
#define CROWD_PARK	60.0	/* seconds for all of them to park */
#define CROWD_GONE	5.0	/* seconds for the parked count to drop */
#define CROWD_USERS	300	/* people in the crowd: 17 polls each */
#define RSS_SLACK	(20L * 1024)	/* KiB a worker may keep after them */
#define H2_RESETS	3	/* HTTP/2 requests an nginx reload may cut */
#define STARVED_WAITING	4	/* requests that arrive without descriptors */
#define STARVED_SETTLE_MS 300	/* for them to reach the listen queue */
#define STARVED_MS	1000	/* how long a worker is watched then */
#define STARVED_CPU	0.05	/* seconds of CPU it may use meanwhile */
#define STARVED_LINE	"warning: accept: Too many open files"
#define STARVED_END	"accept: descriptors free again"

/* What one client's answers were. */
struct tally {
	int	 requests;
	int	 ok;		/* 200, 201 */
	int	 gateway;	/* nginx's 502 bad_gateway */
	int	 unavailable;	/* sohbetd's 503 service_unavailable */
	int	 reset;		/* no answer: the connection failed */
	int	 other;		/* any other answer */
	double	 slowest;	/* seconds */
	double	 slowest_503;
	double	 first_gateway;	/* itest_now() of the first 502, or 0 */
	char	 first_other[600];
};

/* A writer: messages posted and acknowledged (201, or 200 for a nonce). */
struct writer {
	pid_t		 pid;
	struct tally	 t;
	int		 sent;
	int		 replays;	/* acknowledged with 200 */
	int		 gave_up;
	uint64_t	 ids[WRITES_MAX];
};

/* A follower: a client polling a channel's messages with wait=. */
struct follower {
	pid_t		 pid;
	int		 idle;		/* on the quiet channel */
	long		 wait;
	struct tally	 t;
	char		 error[300];	/* order broken, or a hang */
	_Atomic size_t	 nseen;
	uint64_t	 seen[SEEN_MAX];
};

/* The load; in shared memory. */
struct load {
	volatile int	 stop;		/* writers: no new message */
	double		 deadline;
	const char	*url;		/* the base URL; NULL: the harness's */
	struct writer	 w[WRITERS];
	struct follower	 f[FOLLOWERS];
};

/* Accounts, a server with a busy channel and a quiet one. */
struct scene {
	struct chat_user	 owner;
	struct chat_user	 u[WRITERS];
	char			*server;
	char			*busy;		/* API_PREFIX "/channels/ID" */
	char			*quiet;
	char			*run;		/* this run's nonce prefix */
	uint64_t		 start;		/* the busy channel's last id */
};

/* --- the scene --------------------------------------------------------- */

/* A decimal id as a number (0 if it is none). */
static uint64_t
num(const char *s)
{
	return s != NULL && *s >= '0' && *s <= '9' ? strtoull(s, NULL, 10) :
	    0;
}

static void
scene_open(struct scene *s)
{
	struct itest_response	*r;
	char			*general, *path, *id;
	int			 i;

	chat_user(&s->owner, "fault_owner");
	s->server = chat_server(&s->owner, &general);
	xasprintf(&s->busy, API_PREFIX "/channels/%s", general);
	free(general);
	for (i = 0; i < WRITERS; i++) {
		chat_user(&s->u[i], "fault_writer");
		chat_join(&s->owner, s->server, &s->u[i]);
	}
	xasprintf(&path, API_PREFIX "/servers/%s/channels", s->server);
	r = itest_send("POST", path, s->owner.token, "{\"name\":\"quiet\"}");
	itest_expect(r, 201);
	xasprintf(&s->quiet, API_PREFIX "/channels/%s", itest_str(r, "id"));
	itest_free(r);
	free(path);
	id = chat_post(&s->owner, s->busy, "before the load");
	s->start = num(id);
	free(id);
	s->run = itest_unique("run");
}

static void
scene_close(struct scene *s)
{
	int	i;

	chat_user_free(&s->owner);
	for (i = 0; i < WRITERS; i++)
		chat_user_free(&s->u[i]);
	free(s->server);
	free(s->busy);
	free(s->quiet);
	free(s->run);
}

/* --- the load ---------------------------------------------------------- */

/* Count an answer; 1 when it is a success (200 or 201). */
static int
tally_add(struct tally *t, struct itest_response *r)
{
	const char	*code = itest_str(r, "error.code");

	t->requests++;
	if (r->seconds > t->slowest)
		t->slowest = r->seconds;
	if (r->status == 200 || r->status == 201) {
		t->ok++;
		return 1;
	}
	if (r->status == 502 && code != NULL && strcmp(code, "bad_gateway") ==
	    0) {
		if (t->gateway++ == 0)
			t->first_gateway = itest_now();
	} else if (r->status == 503 && code != NULL && strcmp(code,
	    "service_unavailable") == 0) {
		t->unavailable++;
		if (r->seconds > t->slowest_503)
			t->slowest_503 = r->seconds;
	} else if ((r->status == 0 ? t->reset++ : t->other++) == 0)
		snprintf(t->first_other, sizeof t->first_other, "%s",
		    itest_describe(r));
	return 0;
}

/*
 * Post one message until it is acknowledged, the same nonce each time
 * (a 200 gives the message the nonce first made, which must be this
 * one): its id, or 0 when the load's time ran out.
 */
static uint64_t
writer_send(struct load *l, struct writer *w, const char *path,
    const char *token, const char *text, const char *nonce)
{
	struct itest_response	*r;
	const char		*got;
	uint64_t		 id = 0;

	while (id == 0 && itest_now() < l->deadline) {
		r = itest_send("POST", path, token, "{\"content\":\"%s\","
		    "\"nonce\":\"%s\"}", text, nonce);
		if (tally_add(&w->t, r)) {
			id = num(itest_str(r, "id"));
			w->replays += r->status == 200;
			got = itest_str(r, "content");
			if ((got == NULL || strcmp(got, text) != 0) &&
			    w->t.other++ == 0)
				snprintf(w->t.first_other,
				    sizeof w->t.first_other, "not the message "
				    "sent: %s", itest_describe(r));
		} else
			itest_sleep_ms(RETRY_MS);
		itest_free(r);
	}
	return id;
}

/* A writer: post numbered messages to the busy channel until stopped. */
static void NORETURN
writer_run(struct load *l, int i, const struct scene *s)
{
	struct writer	*w = &l->w[i];
	char		*path, *text, *nonce;
	uint64_t	 id;
	int		 j;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	itest_use_url(l->url);
	path = chat_path(s->busy, NULL, NULL);
	for (j = 0; j < WRITES_MAX && !l->stop; j++) {
		xasprintf(&text, "%s w%d m%d", s->run, i, j);
		xasprintf(&nonce, "%s-%d-%d", s->run, i, j);
		id = writer_send(l, w, path, s->u[i].token, text, nonce);
		free(nonce);
		free(text);
		if (id == 0) {
			w->gave_up++;
			break;
		}
		w->ids[w->sent++] = id;
		itest_sleep_ms(WRITE_PAUSE_MS);
	}
	_exit(0);
}

/* Take a page of messages: ids above the cursor, increasing. */
static void
follower_take(struct follower *f, struct itest_response *r,
    uint64_t *cursor)
{
	const struct json	*v;
	size_t			 i, n;
	uint64_t		 id;

	if (r->json == NULL || r->json->type != JSON_ARRAY) {
		snprintf(f->error, sizeof f->error, "not an array: %s",
		    itest_describe(r));
		return;
	}
	for (i = 0; i < r->json->count; i++) {
		v = itest_at(r->json->items[i], "id");
		id = v != NULL && v->type == JSON_STRING ? num(v->text) : 0;
		if (id <= *cursor && f->error[0] == '\0')
			snprintf(f->error, sizeof f->error, "message %" PRIu64
			    " after cursor %" PRIu64 ": %s", id, *cursor,
			    itest_describe(r));
		if (id <= *cursor)
			continue;
		*cursor = id;
		n = atomic_load(&f->nseen);
		if (n < SEEN_MAX) {
			f->seen[n] = id;
			atomic_store(&f->nseen, n + 1);
		}
	}
}

/* A follower: poll a channel from a cursor, as a client does, for ever. */
static void NORETURN
follower_run(struct load *l, struct follower *f, const char *token,
    const char *base, uint64_t cursor)
{
	struct itest_response	*r;
	char			*query, *path;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	itest_use_url(l->url);
	itest_set_timeout(f->wait + 10);
	while (itest_now() < l->deadline) {
		xasprintf(&query, "after=%" PRIu64 "&wait=%ld&limit=100",
		    cursor, f->wait);
		path = chat_path(base, NULL, query);
		r = itest_get(path, token);
		if (r->seconds > f->wait + HANG_SLACK && f->error[0] == '\0')
			snprintf(f->error, sizeof f->error, "a poll hung: %s",
			    itest_describe(r));
		if (tally_add(&f->t, r))
			follower_take(f, r, &cursor);
		else
			itest_sleep_ms(RETRY_MS);
		itest_free(r);
		free(path);
		free(query);
	}
	_exit(0);
}

/* A new load in shared memory (to a base URL); nothing runs yet. */
static struct load *
load_new(const char *url)
{
	struct load	*l;

	l = mmap(NULL, sizeof *l, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(l != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(l, 0, sizeof *l);
	l->deadline = itest_now() + LOAD_SECONDS;
	l->url = url;
	return l;
}

/* Fork the idle followers, parked on the quiet channel. */
static void
load_idle(struct load *l, const struct scene *s)
{
	struct follower	*f;
	pid_t		 pid;
	int		 i;

	fflush(stderr);
	for (i = CHATTY; i < FOLLOWERS; i++) {
		f = &l->f[i];
		f->idle = 1;
		f->wait = IDLE_WAIT;
		/* Only the parent writes the shared pid. */
		ck_assert_msg((pid = fork()) != -1, "fork: %s",
		    strerror(errno));
		if (pid == 0)
			follower_run(l, f, s->owner.token, s->quiet,
			    s->start);
		f->pid = pid;
	}
}

/* Fork the writers and the followers of the busy channel. */
static void
load_busy(struct load *l, const struct scene *s)
{
	struct follower	*f;
	pid_t		 pid;
	int		 i;

	fflush(stderr);
	for (i = 0; i < CHATTY; i++) {
		f = &l->f[i];
		f->wait = CHATTY_WAIT;
		ck_assert_msg((pid = fork()) != -1, "fork: %s",
		    strerror(errno));
		if (pid == 0)
			follower_run(l, f, s->owner.token, s->busy, s->start);
		f->pid = pid;
	}
	for (i = 0; i < WRITERS; i++) {
		ck_assert_msg((pid = fork()) != -1, "fork: %s",
		    strerror(errno));
		if (pid == 0)
			writer_run(l, i, s);
		l->w[i].pid = pid;
	}
}

/* Start the whole load and let it warm up. */
static struct load *
load_start(const struct scene *s, const char *url)
{
	struct load	*l;

	l = load_new(url);
	load_idle(l, s);
	load_busy(l, s);
	itest_sleep_ms(WARM_MS);
	return l;
}

/* Reap a child, killing it first if asked. */
static void
reap(pid_t pid, int kill_it)
{
	if (pid <= 0)
		return;
	if (kill_it)
		kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

/* The largest id any writer had acknowledged. */
static uint64_t
load_last_id(const struct load *l)
{
	uint64_t	last = 0;
	int		i, j;

	for (i = 0; i < WRITERS; i++)
		for (j = 0; j < l->w[i].sent; j++)
			if (l->w[i].ids[j] > last)
				last = l->w[i].ids[j];
	return last;
}

/* Whether every busy follower has seen up to an id. */
static int
load_caught_up(struct load *l, uint64_t last)
{
	size_t	n;
	int	i;

	for (i = 0; i < CHATTY; i++) {
		n = atomic_load(&l->f[i].nseen);
		if (n == 0 || l->f[i].seen[n - 1] < last)
			return 0;
	}
	return 1;
}

/*
 * Stop the writers, give the busy followers time to see the last
 * message, then stop every follower (their clients go away).
 */
static void
load_stop(struct load *l)
{
	double	until;
	int	i;

	l->stop = 1;
	for (i = 0; i < WRITERS; i++)
		reap(l->w[i].pid, 0);
	until = itest_now() + CATCH_UP;
	while (!load_caught_up(l, load_last_id(l)) && itest_now() < until)
		itest_sleep_ms(50);
	for (i = 0; i < FOLLOWERS; i++)
		reap(l->f[i].pid, 1);
}

/* Log what a client saw. */
static void
tally_log(const char *who, int i, const struct tally *t)
{
	fprintf(stderr, "itest: %s %d: %d requests: %d ok, %d 502, %d 503 "
	    "(slowest %.2f s), %d without answer, %d other; slowest %.2f s%s%s"
	    "\n", who, i, t->requests, t->ok, t->gateway, t->unavailable,
	    t->slowest_503, t->reset, t->other, t->slowest,
	    t->first_other[0] != '\0' ? "; first other: " : "",
	    t->first_other);
}

/* The requests of the load that got no answer at all. */
static int
load_resets(const struct load *l)
{
	int	i, n = 0;

	for (i = 0; i < WRITERS + FOLLOWERS; i++)
		n += i < WRITERS ? l->w[i].t.reset : l->f[i - WRITERS].t.reset;
	return n;
}

/*
 * Assert the load saw only the answers a fault allows: successes and,
 * if allowed, nginx's 502, fast 503s and a few requests without answer
 * (retried); no follower hung or saw a message twice or out of order;
 * no writer gave up.
 */
static void
expect_load(const struct load *l, int allow_502, int allow_503,
    int max_resets)
{
	const struct tally	*t;
	int			 i;

	for (i = 0; i < WRITERS + FOLLOWERS; i++) {
		t = i < WRITERS ? &l->w[i].t : &l->f[i - WRITERS].t;
		tally_log(i < WRITERS ? "writer" : i < WRITERS + CHATTY ?
		    "follower" : "idle follower", i < WRITERS ? i : i - WRITERS,
		    t);
	}
	for (i = 0; i < WRITERS + FOLLOWERS; i++) {
		t = i < WRITERS ? &l->w[i].t : &l->f[i - WRITERS].t;
		ck_assert_msg(t->other == 0 && (t->reset == 0 || max_resets >
		    0), "client %d got %d unexpected answers and %d requests "
		    "failed; first: %s", i, t->other, t->reset,
		    t->first_other);
		ck_assert_msg(allow_502 || t->gateway == 0, "client %d got %d "
		    "502s", i, t->gateway);
		ck_assert_msg(allow_503 || t->unavailable == 0, "client %d "
		    "got %d 503s", i, t->unavailable);
		ck_assert_msg(t->slowest_503 < FAST_503, "client %d waited "
		    "%.2f s for a 503", i, t->slowest_503);
	}
	ck_assert_msg(load_resets(l) <= max_resets, "%d requests got no "
	    "answer (at most %d may)", load_resets(l), max_resets);
	for (i = 0; i < WRITERS; i++)
		ck_assert_msg(l->w[i].gave_up == 0 && l->w[i].sent > 0,
		    "writer %d: %d acknowledged, gave up %d", i,
		    l->w[i].sent, l->w[i].gave_up);
	for (i = 0; i < FOLLOWERS; i++)
		ck_assert_msg(l->f[i].error[0] == '\0', "follower %d: %s", i,
		    l->f[i].error);
}

/* --- the history ------------------------------------------------------- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The busy channel's messages after the start: ids and contents. */
static size_t
history(const struct scene *s, uint64_t *ids, char **texts, size_t max)
{
	struct itest_response	*r;
	const struct json	*m;
	char			*query;
	uint64_t		 after = s->start;
	size_t			 n = 0, i, page;

	do {
		xasprintf(&query, "after=%" PRIu64 "&limit=100", after);
		r = chat_history(&s->owner, s->busy, query);
		free(query);
		page = r->json->count;
		for (i = 0; i < page && n < max; i++, n++) {
			m = itest_at(r->json->items[i], "id");
			ids[n] = m != NULL && m->type == JSON_STRING ?
			    num(m->text) : 0;
			m = itest_at(r->json->items[i], "content");
			texts[n] = xstrdup(m != NULL && m->type == JSON_STRING ?
			    m->text : "");
			ck_assert_msg(ids[n] > after, "history out of order "
			    "after %" PRIu64 ": %s", after, itest_describe(r));
			after = ids[n];
		}
		itest_free(r);
	} while (page > 0 && n < max);
	return n;
}

/*
 * Assert every acknowledged message is in the history exactly once and
 * nothing else is (no second copy of a retried send), and that each busy
 * follower saw exactly the history, in order.
 */
static void
expect_exactly_once(const struct scene *s, const struct load *l)
{
	uint64_t	*ids, *acked;
	char		**texts;
	size_t		 n, nacked = 0, i, j;
	int		 replays = 0;

	ids = xcalloc(SEEN_MAX + 1, sizeof *ids);
	acked = xcalloc(SEEN_MAX, sizeof *acked);
	texts = xcalloc(SEEN_MAX + 1, sizeof *texts);
	n = history(s, ids, texts, SEEN_MAX + 1);
	for (i = 0; i < WRITERS; i++) {
		for (j = 0; j < (size_t)l->w[i].sent; j++)
			acked[nacked++] = l->w[i].ids[j];
		replays += l->w[i].replays;
	}
	qsort(acked, nacked, sizeof *acked, cmp_u64);
	for (i = 1; i < nacked; i++)
		ck_assert_msg(acked[i] != acked[i - 1], "two sends were "
		    "acknowledged with one id %" PRIu64, acked[i]);
	for (i = 0; i < nacked; i++)
		ck_assert_msg(bsearch(&acked[i], ids, n, sizeof *ids, cmp_u64)
		    != NULL, "acknowledged message %" PRIu64 " is not in the "
		    "history", acked[i]);
	qsort(texts, n, sizeof *texts, cmp_str);
	for (i = 1; i < n; i++)
		ck_assert_msg(strcmp(texts[i], texts[i - 1]) != 0, "\"%s\" is "
		    "in the history twice", texts[i]);
	ck_assert_msg(n == nacked, "%zu messages in the history, %zu "
	    "acknowledged", n, nacked);
	for (i = 0; i < CHATTY; i++) {
		ck_assert_msg(atomic_load(&l->f[i].nseen) == n &&
		    memcmp(l->f[i].seen, ids, n * sizeof *ids) == 0,
		    "follower %zu saw %zu messages, not the %zu of the "
		    "history in order", i, atomic_load(&l->f[i].nseen), n);
	}
	fprintf(stderr, "itest: %zu messages acknowledged (%d by a retry's "
	    "200), each in the history once and seen once by each of %d "
	    "followers\n", n, replays, CHATTY);
	for (i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(acked);
	free(ids);
}

/* --- the processes ----------------------------------------------------- */

/* The resident set of a process in KiB (/proc/PID/statm), or -1. */
static long
rss_kib(pid_t pid)
{
	FILE	*f;
	char	 path[64];
	long	 pages = -1;

	snprintf(path, sizeof path, "/proc/%ld/statm", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%*s %ld", &pages) != 1)
		pages = -1;
	fclose(f);
	return pages < 0 ? -1 : pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Assert the master and exactly these workers run. */
static void
expect_workers(pid_t master, const pid_t *want, int n)
{
	pid_t	now[MAX_WORKERS];
	int	m;

	m = itest_worker_pids(now, MAX_WORKERS);
	ck_assert_msg(itest_alive(master) && itest_master_pid() == master,
	    "the master %ld is gone", (long)master);
	ck_assert_msg(m == n && memcmp(now, want, (size_t)n * sizeof *now) ==
	    0, "the workers changed: %d running, %d before", m, n);
}

/* Wait until the master runs want workers; how many it runs. */
static int
await_workers(pid_t *pids, int want, double seconds)
{
	double	until = itest_now() + seconds;
	int	n;

	while ((n = itest_worker_pids(pids, MAX_WORKERS)) != want &&
	    itest_now() < until)
		itest_sleep_ms(100);
	return n;
}

/*
 * Start each test from a healthy stack with the workers the
 * configuration asks for (the test configuration names a number).
 */
static void
require_stack(pid_t *pids, int *n)
{
	long	want = itest_conf_int("server", "workers", 2);

	itest_require_stack();
	*n = await_workers(pids, (int)want, 10.0);
	ck_assert_msg(*n == want, "%d workers run, the configuration asks "
	    "for %ld", *n, want);
}

/* --- kill -9 of a worker ----------------------------------------------- */

/*
 * The worker holding the most of the idle followers' parked polls (its
 * gauge in /metrics; its open files do not tell, as the polls may come
 * on connections nginx kept open) and how many.
 */
static pid_t
busiest_worker(const pid_t *pids, int n, int *parked)
{
	pid_t	 victim = pids[0];
	char	*name;
	int	 i, d;

	*parked = -1;
	for (i = 0; i < n; i++) {
		xasprintf(&name, "sohbet_worker_parked_polls{pid=\"%ld\"}",
		    (long)pids[i]);
		d = (int)itest_metric(name);
		free(name);
		if (d > *parked) {
			*parked = d;
			victim = pids[i];
		}
	}
	return victim;
}

/* The number of idle followers that got a 502 soon after a moment. */
static int
gateways_after(const struct load *l, double when)
{
	const struct tally	*t;
	int			 i, n = 0;

	for (i = CHATTY; i < FOLLOWERS; i++) {
		t = &l->f[i].t;
		n += t->gateway > 0 && t->first_gateway >= when &&
		    t->first_gateway <= when + GATEWAY_PROMPT;
	}
	return n;
}

START_TEST(test_kill_worker)
{
	struct scene	 s;
	struct load	*l;
	pid_t		 master, pids[MAX_WORKERS], victim;
	double		 killed_at;
	int		 n, parked, prompt;

	require_stack(pids, &n);
	master = itest_master_pid();
	scene_open(&s);

	/* The idle polls first, alone, to see where they park. */
	l = load_new(NULL);
	load_idle(l, &s);
	ck_assert_msg(itest_await_metric(ITEST_PARKED, IDLE, IDLE, 10.0) ==
	    IDLE, "the %d idle polls did not park", IDLE);
	victim = busiest_worker(pids, n, &parked);
	load_busy(l, &s);
	itest_sleep_ms(WARM_MS);

	fprintf(stderr, "itest: kill -9 worker %ld (%d idle polls parked "
	    "there)\n", (long)victim, parked);
	killed_at = itest_now();
	ck_assert_msg(kill(victim, SIGKILL) == 0, "kill: %s", strerror(errno));
	itest_sleep_ms(AFTER_MS);
	load_stop(l);

	expect_load(l, 1, 0, 0);
	prompt = gateways_after(l, killed_at);
	ck_assert_msg(prompt >= 1 && prompt >= parked, "%d idle polls were "
	    "parked on the killed worker, %d got a 502 within %.0f s",
	    parked, prompt, GATEWAY_PROMPT);
	expect_exactly_once(&s, l);
	ck_assert_msg(await_workers(pids, n, 5.0) == n && itest_alive(master) &&
	    !itest_alive(victim), "the master did not replace the worker");
	munmap(l, sizeof *l);
	scene_close(&s);
}
END_TEST

/* --- a MariaDB restart ------------------------------------------------- */

START_TEST(test_db_restart)
{
	struct scene	 s;
	struct load	*l;
	pid_t		 master, pids[MAX_WORKERS];
	double		 t0;
	int		 n, i, outage = 0;

	require_stack(pids, &n);
	master = itest_master_pid();
	scene_open(&s);
	l = load_start(&s, NULL);

	ck_assert_msg(itest_dev("db-stop") == 0, "tools/dev db-stop failed");
	itest_sleep_ms(AFTER_MS);
	ck_assert_msg(itest_dev("db-start") == 0, "tools/dev db-start failed");
	t0 = itest_now();
	ck_assert_msg(itest_wait_health(RECOVERY) == 0, "no health %d s after "
	    "MariaDB started", RECOVERY);
	fprintf(stderr, "itest: healthy %.2f s after MariaDB started\n",
	    itest_now() - t0);
	itest_sleep_ms(AFTER_MS);
	load_stop(l);

	expect_load(l, 0, 1, 0);
	for (i = 0; i < WRITERS; i++)
		outage += l->w[i].t.unavailable;
	ck_assert_msg(outage > 0, "no writer saw the database down");
	expect_exactly_once(&s, l);
	expect_workers(master, pids, n);
	munmap(l, sizeof *l);
	scene_close(&s);
}
END_TEST

/* --- reloads ------------------------------------------------------------- */

/* nginx's master pid, from its pid file; -1 if none. */
static pid_t
nginx_pid(void)
{
	FILE	*f;
	char	*path;
	long	 pid = -1;

	xasprintf(&path, "%s/run/nginx.pid", getenv("SOHBET_TEST_VAR"));
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = -1;
		fclose(f);
	}
	free(path);
	return (pid_t)pid;
}

/* Whether none of the old workers runs and as many new ones do. */
static int
workers_replaced(const pid_t *old, int n)
{
	pid_t	now[MAX_WORKERS];
	int	m, i, j;

	m = itest_worker_pids(now, MAX_WORKERS);
	if (m != n)
		return 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < m; j++)
			if (old[i] == now[j] || itest_alive(old[i]))
				return 0;
	return 1;
}

/*
 * Reload sohbetd (SIGHUP) and then nginx under load, over HTTP/1.1 (_i
 * 0: nginx's plain listener) and over HTTP/2 (_i 1: TLS).  No request may
 * fail, but for one race of HTTP/2: nginx's old worker closes an idle
 * HTTP/2 connection at once (GOAWAY, close), so a request the client sent
 * on it at that moment is reset with no answer.  A client retries it (a
 * browser does so by itself; libcurl does for HTTP/1.1 but not HTTP/2),
 * so over HTTP/2 a few requests without answer are allowed, retried, and
 * must change nothing (the exactly-once check).
 */
START_TEST(test_reloads)
{
	struct scene	 s;
	struct load	*l;
	pid_t		 master, pids[MAX_WORKERS], nginx;
	double		 until;
	int		 n, h2 = _i;

	require_stack(pids, &n);
	master = itest_master_pid();
	nginx = nginx_pid();
	ck_assert_msg(itest_alive(nginx), "nginx (pid %ld) does not run",
	    (long)nginx);
	scene_open(&s);
	l = load_start(&s, h2 ? NULL : getenv("SOHBET_TEST_HTTP"));
	fprintf(stderr, "itest: over %s\n", h2 ? "HTTP/2" : "HTTP/1.1");

	fprintf(stderr, "itest: SIGHUP to sohbetd %ld\n", (long)master);
	ck_assert(kill(master, SIGHUP) == 0);
	until = itest_now() + 15.0;
	while (!workers_replaced(pids, n) && itest_now() < until)
		itest_sleep_ms(100);
	ck_assert_msg(workers_replaced(pids, n), "the workers were not "
	    "replaced within 15 s of SIGHUP");
	itest_sleep_ms(WARM_MS);
	ck_assert_msg(load_resets(l) == 0, "%d requests got no answer during "
	    "sohbetd's reload", load_resets(l));
	fprintf(stderr, "itest: SIGHUP to nginx %ld\n", (long)nginx);
	ck_assert(kill(nginx, SIGHUP) == 0);
	itest_sleep_ms(AFTER_MS);
	load_stop(l);

	expect_load(l, 0, 0, h2 ? H2_RESETS : 0);
	expect_exactly_once(&s, l);
	ck_assert_msg(itest_alive(master) && itest_alive(nginx) &&
	    nginx_pid() == nginx, "sohbetd's master or nginx's changed");
	munmap(l, sizeof *l);
	scene_close(&s);
}
END_TEST

/* --- 5,000 long-polls vanish --------------------------------------------- */

/* The crowd's progress; in shared memory. */
struct crowd {
	volatile int	 opened;
	volatile int	 vanish;	/* set by the test: exit now */
	char		 error[256];
};

/* Open one long-poll of the crowd; -1 if it could not. */
static int
crowd_poll(const char *req, size_t len)
{
	int	fd;

	if ((fd = raw_connect(0)) == -1)
		return -1;
	if (raw_write(fd, req, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The people of the crowd: CROWD_USERS accounts made in the database,
 * members of the scene's server, each with an access token forged with
 * the instance's key (registering them would take a minute), and the
 * raw long-poll request of each on path.  One account may park only
 * max_parked_per_user polls in a worker, so a crowd is many people, as
 * it is in life.
 */
static char **
crowd_people(const struct scene *s, const char *path)
{
	char	**reqs, *prefix, *sql, *ids, *id, *next, *key, *payload;
	char	 *token;
	int	  i;

	prefix = itest_unique("crowd");
	xasprintf(&sql, "INSERT INTO users (username, email, password_hash)"
	    " SELECT CONCAT('%s', seq), CONCAT('%s', seq, '@example.com'),"
	    " 'none' FROM seq_1_to_%d;"
	    " INSERT INTO server_members (server_id, user_id) SELECT %s, id"
	    " FROM users WHERE username LIKE '%s%%'", prefix, prefix,
	    CROWD_USERS, s->server, prefix);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);
	xasprintf(&sql, "SELECT GROUP_CONCAT(id) FROM users WHERE username"
	    " LIKE '%s%%'", prefix);
	ids = itest_sql_text(sql);
	ck_assert_msg(ids != NULL, "no ids of the crowd");
	free(sql);
	key = itest_conf("auth", "token_key");
	ck_assert_msg(key != NULL, "no token_key in the configuration");
	reqs = xcalloc(CROWD_USERS, sizeof *reqs);
	for (i = 0, id = ids; i < CROWD_USERS; i++, id = next) {
		ck_assert_msg(id != NULL && *id != '\0', "only %d of the crowd",
		    i);
		if ((next = strchr(id, ',')) != NULL)
			*next++ = '\0';
		id[strcspn(id, "\n")] = '\0';
		xasprintf(&payload, "{\"sub\":\"%s\",\"gen\":0,\"iat\":%lld,"
		    "\"exp\":%lld}", id, (long long)time(NULL) - 60,
		    (long long)time(NULL) + 900);
		token = forge_token(key, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
		    payload);
		reqs[i] = raw_request("GET", path, token, NULL);
		free(token);
		free(payload);
	}
	free(key);
	free(ids);
	free(prefix);
	return reqs;
}

/*
 * The crowd (a child): CROWD long-polls on raw connections, a batch at a
 * time, each batch parked before the next (sohbetd's listen queue is
 * 4,096), taking turns among the people; then it waits to be told to
 * vanish and exits, which closes them all at once.
 */
static void NORETURN
crowd_run(struct crowd *c, char **reqs, long base)
{
	double	until;
	int	i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	until = itest_now() + CROWD_PARK;
	for (i = 0; i < CROWD; i++) {
		if (crowd_poll(reqs[i % CROWD_USERS],
		    strlen(reqs[i % CROWD_USERS])) == -1) {
			snprintf(c->error, sizeof c->error, "poll %d: %s", i,
			    strerror(errno));
			break;
		}
		c->opened = i + 1;
		if ((i + 1) % CROWD_BATCH == 0)
			itest_await_metric(ITEST_PARKED, base + i + 1,
			    LONG_MAX, until - itest_now());
	}
	until = itest_now() + CROWD_PARK;
	while (!c->vanish && itest_now() < until)
		itest_sleep_ms(20);
	_exit(0);
}

/* The RSS of each worker in KiB, logged with a label. */
static void
workers_rss(const pid_t *pids, int n, long *kib, const char *label)
{
	int	i;

	for (i = 0; i < n; i++) {
		kib[i] = rss_kib(pids[i]);
		fprintf(stderr, "itest: worker %ld RSS %s: %ld KiB\n",
		    (long)pids[i], label, kib[i]);
	}
}

/*
 * Whether sohbetd runs under the sanitizers (tools/dev test --sanitizers):
 * AddressSanitizer's allocator holds freed memory in quarantine, so its
 * RSS says nothing about ours.
 */
static int
sanitized(void)
{
	char	*path, line[64];
	FILE	*f;
	int	 yes = 0;

	xasprintf(&path, "%s/etc/dev.env", getenv("SOHBET_TEST_VAR"));
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL)
			yes |= strcmp(line, "SANITIZERS=1\n") == 0;
		fclose(f);
	}
	free(path);
	return yes;
}

/* Whether every worker's RSS is at most its baseline plus the slack. */
static int
rss_back(const pid_t *pids, int n, const long *base, long *now)
{
	int	i, ok = 1;

	for (i = 0; i < n; i++) {
		now[i] = rss_kib(pids[i]);
		ok = ok && now[i] <= base[i] + RSS_SLACK;
	}
	return ok;
}

START_TEST(test_crowd_vanishes)
{
	struct scene	 s;
	struct crowd	*c;
	pid_t		 master, pids[MAX_WORKERS], pid;
	long		 base, parked, rss0[MAX_WORKERS], rss1[MAX_WORKERS];
	double		 t0, until;
	char		*path, *query, **reqs;
	int		 n, i, back;

	require_stack(pids, &n);
	master = itest_master_pid();
	scene_open(&s);
	xasprintf(&query, "after=%" PRIu64 "&wait=60", s.start);
	path = chat_path(s.quiet, NULL, query);
	free(query);
	reqs = crowd_people(&s, path);
	free(path);
	base = itest_await_metric(ITEST_PARKED, 0, 0, 5.0);
	workers_rss(pids, n, rss0, "before");

	c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(c != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(c, 0, sizeof *c);
	fflush(stderr);
	ck_assert((pid = fork()) != -1);
	if (pid == 0)
		crowd_run(c, reqs, base);
	t0 = itest_now();
	parked = itest_await_metric(ITEST_PARKED, base + CROWD, LONG_MAX,
	    CROWD_PARK);
	fprintf(stderr, "itest: %ld polls parked in %.1f s\n", parked - base,
	    itest_now() - t0);
	ck_assert_msg(parked >= base + CROWD, "%d polls opened, %ld parked "
	    "(%s)", c->opened, parked - base, c->error);
	workers_rss(pids, n, rss1, "with them parked");

	c->vanish = 1;
	reap(pid, 0);
	t0 = itest_now();
	parked = itest_await_metric(ITEST_PARKED, 0, base, CROWD_GONE);
	fprintf(stderr, "itest: parked polls back to %ld in %.2f s\n", parked,
	    itest_now() - t0);
	ck_assert_msg(parked <= base, "%d clients vanished; %.0f s later "
	    "%ld polls are still parked (was %ld)", CROWD, CROWD_GONE,
	    parked, base);
	until = itest_now() + CROWD_GONE;
	while (!(back = rss_back(pids, n, rss0, rss1)) && itest_now() < until)
		itest_sleep_ms(200);
	workers_rss(pids, n, rss1, "after they vanished");
	for (i = 0; i < n && !sanitized(); i++)
		ck_assert_msg(rss1[i] <= rss0[i] + RSS_SLACK, "worker %ld "
		    "kept %ld KiB after %d clients vanished (was %ld KiB, "
		    "bound +%ld KiB)", (long)pids[i], rss1[i], CROWD, rss0[i],
		    RSS_SLACK);
	if (sanitized())
		fprintf(stderr, "itest: memory not checked: sohbetd runs under "
		    "AddressSanitizer, whose allocator keeps what is freed\n");
	else
		ck_assert(back);
	expect_workers(master, pids, n);
	munmap(c, sizeof *c);
	for (i = 0; i < CROWD_USERS; i++)
		free(reqs[i]);
	free(reqs);
	scene_close(&s);
}
END_TEST

/* --- no descriptor left ------------------------------------------------ */

/* Workers whose open-file limit the test lowered, and their limits. */
static pid_t		 starved[MAX_WORKERS];
static struct rlimit	 starved_limit[MAX_WORKERS];
static int		 nstarved;

/* Order descriptor numbers for qsort. */
static int
cmp_int(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The lowest descriptor number a process has free, or -1. */
static int
lowest_free_fd(pid_t pid)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[64];
	int		*fds = NULL, n = 0, cap = 0, low, i;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			fds = xreallocarray(fds, (size_t)cap, sizeof *fds);
		}
		fds[n++] = atoi(de->d_name);
	}
	closedir(d);
	qsort(fds, (size_t)n, sizeof *fds, cmp_int);
	for (low = 0, i = 0; i < n && fds[i] <= low; i++)
		if (fds[i] == low)
			low++;
	free(fds);
	return low;
}

/*
 * Lower a worker's soft limit of open files to the lowest descriptor it
 * has free: every number below is taken, so its next accept() fails with
 * EMFILE, as in a worker whose connections used up its limit.  That
 * limit, or -1 with the reason in err.
 */
static int
starve(pid_t pid, char *err, size_t len)
{
	struct rlimit	 rl, *was = &starved_limit[nstarved];
	int		 low;

	if ((low = lowest_free_fd(pid)) <= 0) {
		snprintf(err, len, "cannot read the descriptors of %ld",
		    (long)pid);
		return -1;
	}
	if (prlimit(pid, RLIMIT_NOFILE, NULL, was) == -1) {
		snprintf(err, len, "prlimit %ld: %s", (long)pid,
		    strerror(errno));
		return -1;
	}
	rl.rlim_cur = (rlim_t)low;
	rl.rlim_max = was->rlim_max;
	if (prlimit(pid, RLIMIT_NOFILE, &rl, NULL) == -1) {
		snprintf(err, len, "prlimit %ld to %d files: %s", (long)pid,
		    low, strerror(errno));
		return -1;
	}
	starved[nstarved++] = pid;
	return low;
}

/* Give the starved workers their limits back. */
static void
unstarve(void)
{
	int	i;

	for (i = 0; i < nstarved; i++) {
		if (prlimit(starved[i], RLIMIT_NOFILE, &starved_limit[i],
		    NULL) == -1 && errno != ESRCH)
			fprintf(stderr, "itest: prlimit %ld: %s\n",
			    (long)starved[i], strerror(errno));
	}
	nstarved = 0;
}

/* The CPU seconds a process used (utime + stime, /proc/PID/stat); -1. */
static double
cpu_seconds(pid_t pid)
{
	const char	*fields;
	char		 buf[1024];
	unsigned long	 user, sys;

	/* After "pid (comm)": state, 5 numbers, flags, 4 fault counts. */
	if ((fields = itest_proc_fields(pid, buf, sizeof buf)) == NULL ||
	    sscanf(fields, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &user, &sys) != 2)
		return -1;
	return (double)(user + sys) / (double)sysconf(_SC_CLK_TCK);
}

/* How many lines of sohbetd.log from logpos on are pid's and hold what. */
static int
starved_said(pid_t pid, long logpos, const char *what)
{
	char	*needle;
	int	 n;

	xasprintf(&needle, "[%ld]: %s", (long)pid, what);
	n = itest_var_grep("log/sohbetd.log", logpos, needle, NULL);
	free(needle);
	return n;
}

/*
 * Out of descriptors, a worker stops watching the listen socket for a
 * moment instead of waking for the waiting connection again at once: it
 * uses next to no CPU while it cannot accept, says so once, and serves
 * the requests that waited as soon as descriptors are free again.  The
 * limits go back before anything is asserted, so that a failure leaves
 * working workers to the tests that follow.
 */
START_TEST(test_out_of_descriptors)
{
	struct itest_pending	*waiting[STARVED_WAITING];
	struct itest_response	*r;
	pid_t			 master, pids[MAX_WORKERS];
	double			 used[MAX_WORKERS];
	char			 err[256] = "";
	long			 logpos;
	int			 n, i, said, ended, total = 0, low;
	double			 until;

	require_stack(pids, &n);
	master = itest_master_pid();
	logpos = itest_var_size("log/sohbetd.log");
	for (i = 0; i < n && err[0] == '\0'; i++) {
		if ((low = starve(pids[i], err, sizeof err)) != -1)
			fprintf(stderr, "itest: worker %ld may open %d files "
			    "now\n", (long)pids[i], low);
	}
	if (err[0] != '\0') {
		unstarve();
		ck_abort_msg("%s", err);
	}

	/* They wait in the listen queue: no worker can take them. */
	for (i = 0; i < STARVED_WAITING; i++)
		waiting[i] = itest_start(API_PREFIX "/health", NULL);
	itest_sleep_ms(STARVED_SETTLE_MS);
	for (i = 0; i < n; i++)
		used[i] = cpu_seconds(pids[i]);
	itest_sleep_ms(STARVED_MS);
	for (i = 0; i < n; i++)
		used[i] = used[i] < 0 ? -1 : cpu_seconds(pids[i]) - used[i];
	unstarve();

	for (i = 0; i < n; i++) {
		fprintf(stderr, "itest: worker %ld used %.2f s of CPU in "
		    "%.1f s without descriptors\n", (long)pids[i], used[i],
		    STARVED_MS / 1000.0);
		ck_assert_msg(used[i] >= 0 && used[i] < STARVED_CPU, "worker "
		    "%ld used %.2f s of CPU in %.1f s while it could not "
		    "accept (a full core would be %.1f)", (long)pids[i],
		    used[i], STARVED_MS / 1000.0, STARVED_MS / 1000.0);
	}

	/* Descriptors free again: what waited is served, and what comes. */
	for (i = 0; i < STARVED_WAITING; i++) {
		r = itest_finish(waiting[i]);
		itest_expect(r, 200);
		itest_free(r);
	}
	r = itest_get(API_PREFIX "/health", NULL);
	itest_expect(r, 200);
	itest_free(r);

	/*
	 * Said once by each worker that ran out, not at every attempt, and
	 * its end once (within a moment of the limit going back).
	 */
	for (i = 0; i < n; i++) {
		said = starved_said(pids[i], logpos, STARVED_LINE);
		ck_assert_msg(said <= 1, "worker %ld said %d times that it "
		    "ran out of descriptors", (long)pids[i], said);
		until = itest_now() + 2.0;
		while ((ended = starved_said(pids[i], logpos, STARVED_END)) <
		    said && itest_now() < until)
			itest_sleep_ms(50);
		ck_assert_msg(ended == said, "worker %ld said %d times that "
		    "it ran out of descriptors and %d times that they were "
		    "free again", (long)pids[i], said, ended);
		total += said;
	}
	ck_assert_msg(total >= 1, "no worker said it ran out of descriptors "
	    "(\"%s\" in sohbetd.log)", STARVED_LINE);
	expect_workers(master, pids, n);
}
END_TEST

/*
 * A test in a case of its own (CK_RUN_CASE=name runs it alone), with the
 * stack to itself and restored after it.
 */
static void
faults_case(Suite *s, const char *name, const TTest *test, int loops)
{
	TCase	*tc;

	tc = tcase_create(name);
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, itest_exclusive,
	    itest_restore_teardown);
	tcase_add_loop_test(tc, test, 0, loops);
	suite_add_tcase(s, tc);
}

static Suite *
faults_suite(void)
{
	Suite	*s;

	s = suite_create("faults");
	faults_case(s, "kill", test_kill_worker, 1);
	faults_case(s, "db", test_db_restart, 1);
	faults_case(s, "reload", test_reloads, 2);
	faults_case(s, "crowd", test_crowd_vanishes, 1);
	faults_case(s, "descriptors", test_out_of_descriptors, 1);
	return s;
}

int
main(void)
{
	itest_init();
	signal(SIGPIPE, SIG_IGN);
	return check_run(faults_suite());
}
