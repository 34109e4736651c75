/* SPDX-License-Identifier: ISC */
/*
 * ephemeral.c: the events that are never stored for replay and never
 * move a cursor (API.md, Typing and presence): typing.start and
 * presence.update.  They travel beside the durable events, not through
 * the events table: a ring in memory the master shares with its workers
 * (set up before the first fork, like the hub), in which each entry has
 * its place (pos, from 1) and the time it reached this host.
 *
 * The ring is also the short window that a poll reads back: a poll that
 * sends the "ephemeral" value of its previous answer gets the entries of
 * the last EPHEMERAL_WINDOW_MS after that answer.  The value names this
 * host, the place reached and the wall-clock time of the answer; a value
 * from another host (the client's next poll went elsewhere) is read by
 * its time alone.
 *
 * Other app hosts: with the cluster watcher on (events.cluster_poll_ms),
 * every entry made here is also inserted into ephemeral_relay (sql/012),
 * and each host's keeper copies the rows of the other hosts into its own
 * ring every cluster_poll_ms (ephemeral_relay_watch()).  The relay is an
 * InnoDB table, not a MEMORY one, because a Galera cluster replicates
 * only InnoDB; rows live some seconds (ephemeral_relay_prune()).  On a
 * single host (no watcher) an ephemeral event writes nothing at all.
 */
#include <sys/random.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sohbet.h"

#define EPHEMERAL_RING		8192
#define RELAY_READ		1000	/* rows per look */
#define RELAY_LOOK_BACK_MS	3000	/* commits later than this are lost */
#define RELAY_KEEP_S		30

struct ephemeral_ring {
	pthread_mutex_t		 lock;
	uint64_t		 host_id;	/* this run of this host */
	uint64_t		 head;		/* entries ever made */
	struct ephemeral	 entries[EPHEMERAL_RING];
};

static struct ephemeral_ring	*ephemeral_ring;

/* The rows the relay watcher saw at its last look, sorted. */
static uint64_t			*relay_seen;
static size_t			 relay_nseen;

static struct db_stmt q_relay_insert = DB_STMT(
    "INSERT INTO ephemeral_relay (host_id, created_ms, at_ms, kind, status,"
    " server_id, channel_id, dm_channel_id, user_id, expires_ms)"
    " VALUES (?, ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000), ?, ?, ?, ?, ?, ?, ?,"
    " ?)");
static struct db_stmt q_relay_read = DB_STMT(
    "SELECT id, host_id, at_ms, kind, status, server_id, channel_id,"
    " dm_channel_id, user_id, expires_ms FROM ephemeral_relay"
    " WHERE created_ms >= ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000) - ?"
    " ORDER BY id LIMIT 1000");
static struct db_stmt q_relay_prune = DB_STMT(
    "DELETE FROM ephemeral_relay WHERE created_ms <"
    " ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000) - ? LIMIT 10000");

/* Map the ring and draw this run's host id. */
void
ephemeral_init(void)
{
	ephemeral_ring = hub_shared(sizeof *ephemeral_ring);
	hub_mutex_init(&ephemeral_ring->lock);
	while (ephemeral_ring->host_id == 0) {
		if (getrandom(&ephemeral_ring->host_id,
		    sizeof ephemeral_ring->host_id, 0) == -1)
			fatal("ephemeral: getrandom");
	}
}

/* This run of this host, as the other hosts know it. */
uint64_t
ephemeral_host(void)
{
	return ephemeral_ring != NULL ? ephemeral_ring->host_id : 0;
}

/* Milliseconds of the wall clock (the time a client may compare). */
long long
ephemeral_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether two entries are about the same thing (one typist, one place). */
static int
ephemeral_same(const struct ephemeral *a, const struct ephemeral *b)
{
	return a->kind == b->kind && a->user_id == b->user_id &&
	    a->channel_id == b->channel_id &&
	    a->dm_channel_id == b->dm_channel_id &&
	    a->server_id == b->server_id;
}

/*
 * Whether the ring holds an entry about the same thing as e that reached
 * it less than within_ms ago.  Called with the lock held.
 */
static int
ephemeral_recent(const struct ephemeral *e, long long within_ms)
{
	const struct ephemeral	*o;
	long long		 since = ephemeral_now_ms() - within_ms;
	uint64_t		 pos;

	for (pos = ephemeral_ring->head; pos > 0 &&
	    ephemeral_ring->head - pos < EPHEMERAL_RING; pos--) {
		o = &ephemeral_ring->entries[(pos - 1) % EPHEMERAL_RING];
		if (o->seen_ms < since)
			break;
		if (ephemeral_same(o, e))
			return 1;
	}
	return 0;
}

/* Append an entry to the ring, its place and arrival filled in. */
static void
ephemeral_append(struct ephemeral *e)
{
	e->seen_ms = ephemeral_now_ms();
	e->pos = ++ephemeral_ring->head;
	ephemeral_ring->entries[(e->pos - 1) % EPHEMERAL_RING] = *e;
}

/* Hand an entry made here to the other hosts (the watcher is on). */
static void
ephemeral_relay(const struct ephemeral *e)
{
	if (cfg->cluster_poll_ms == 0)
		return;
	if (db_exec(&q_relay_insert, "uidduuuui", e->origin, e->at_ms,
	    e->kind, e->status, e->server_id, e->channel_id, e->dm_channel_id,
	    e->user_id, e->expires_ms) == -1)
		log_warnx("%s: the other hosts miss a %s", __func__,
		    e->kind == EPHEMERAL_TYPING ? "typing.start" :
		    "presence.update");
}

/*
 * Make an ephemeral event of this host, unless within_ms > 0 and one
 * about the same thing was made (here or elsewhere) less than within_ms
 * ago: then 0.  1 when it was made, and every worker woken for it.
 */
int
ephemeral_publish(struct ephemeral *e, long long within_ms)
{
	if (ephemeral_ring == NULL)
		return 0;
	e->origin = ephemeral_ring->host_id;
	e->at_ms = ephemeral_now_ms();
	hub_mutex_lock(&ephemeral_ring->lock);
	if (within_ms > 0 && ephemeral_recent(e, within_ms)) {
		pthread_mutex_unlock(&ephemeral_ring->lock);
		return 0;
	}
	ephemeral_append(e);
	pthread_mutex_unlock(&ephemeral_ring->lock);
	ephemeral_relay(e);
	hub_wake_all();
	return 1;
}

/* The place of the newest entry (0: none yet). */
uint64_t
ephemeral_head(void)
{
	uint64_t	head;

	if (ephemeral_ring == NULL)
		return 0;
	hub_mutex_lock(&ephemeral_ring->lock);
	head = ephemeral_ring->head;
	pthread_mutex_unlock(&ephemeral_ring->lock);
	return head;
}

/*
 * Copy up to max entries after *pos into out and advance *pos past them;
 * entries the ring has overwritten are skipped.  The number copied.
 */
size_t
ephemeral_read(uint64_t *pos, struct ephemeral *out, size_t max)
{
	size_t	n = 0;

	if (ephemeral_ring == NULL)
		return 0;
	hub_mutex_lock(&ephemeral_ring->lock);
	if (ephemeral_ring->head - *pos > EPHEMERAL_RING)
		*pos = ephemeral_ring->head - EPHEMERAL_RING;
	while (*pos < ephemeral_ring->head && n < max) {
		out[n++] = ephemeral_ring->entries[*pos % EPHEMERAL_RING];
		(*pos)++;
	}
	pthread_mutex_unlock(&ephemeral_ring->lock);
	return n;
}

/*
 * The place after which a poll starts reading: the head for a poll that
 * sent no value; for one that did, the last place it was answered up to
 * (its time, for a value made by another host), though never more than
 * the window back.
 */
uint64_t
ephemeral_start(const struct ephemeral_mark *m)
{
	const struct ephemeral	*e;
	long long		 since = ephemeral_now_ms() -
			    EPHEMERAL_WINDOW_MS;
	uint64_t		 pos, head;

	hub_mutex_lock(&ephemeral_ring->lock);
	head = ephemeral_ring->head;
	if (m == NULL) {
		pthread_mutex_unlock(&ephemeral_ring->lock);
		return head;
	}
	/* Walk back to the first entry the mark has not seen. */
	for (pos = head; pos > 0 && head - pos < EPHEMERAL_RING; pos--) {
		e = &ephemeral_ring->entries[(pos - 1) % EPHEMERAL_RING];
		if (e->seen_ms < since)
			break;
		if (m->host_id == ephemeral_ring->host_id ? e->pos <= m->pos :
		    e->at_ms <= m->at_ms)
			break;
	}
	pthread_mutex_unlock(&ephemeral_ring->lock);
	return pos;
}

/*
 * Write the value a poll's answer carries for having read up to pos, at
 * at_ms (ephemeral_now_ms(): when it was answered with them).
 */
void
ephemeral_mark_format(uint64_t pos, long long at_ms, char *buf, size_t size)
{
	snprintf(buf, size, "%016" PRIx64 ".%" PRIu64 ".%lld",
	    ephemeral_ring->host_id, pos, at_ms);
}

/* Parse a value ephemeral_mark_format() wrote; -1 if it is not one. */
int
ephemeral_mark_parse(const char *s, struct ephemeral_mark *m)
{
	char	tail;

	if (strlen(s) > EPHEMERAL_MARK_LEN)
		return -1;
	if (sscanf(s, "%16" SCNx64 ".%" SCNu64 ".%lld%c", &m->host_id,
	    &m->pos, &m->at_ms, &tail) != 3 || m->host_id == 0 ||
	    m->at_ms < 0)
		return -1;
	return 0;
}

/* Fill an entry from a relay row. */
static void
ephemeral_relay_fill(struct db_rows *rows, struct ephemeral *e)
{
	memset(e, 0, sizeof *e);
	e->origin = db_u64(rows, 1);
	e->at_ms = db_i64(rows, 2);
	e->kind = (int)db_i64(rows, 3);
	e->status = (int)db_i64(rows, 4);
	e->server_id = db_u64(rows, 5);
	e->channel_id = db_u64(rows, 6);
	e->dm_channel_id = db_u64(rows, 7);
	e->user_id = db_u64(rows, 8);
	e->expires_ms = db_i64(rows, 9);
}

/* Order row ids, for bsearch and qsort. */
static int
ephemeral_cmp_id(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether a relay row id was seen at the watcher's last look. */
static int
ephemeral_relay_seen(uint64_t id)
{
	if (relay_nseen == 0)
		return 0;
	return bsearch(&id, relay_seen, relay_nseen, sizeof *relay_seen,
	    ephemeral_cmp_id) != NULL;
}

/*
 * The keeper's watch: copy the other hosts' new relay rows into this
 * host's ring and wake the workers.  Rows are read by the database's
 * time over the last RELAY_LOOK_BACK_MS, not by id alone, since ids are
 * drawn before their inserts commit (a row may appear below one already
 * read); those read at the previous look are passed over.
 */
void
ephemeral_relay_watch(void)
{
	struct db_rows	*rows;
	struct ephemeral e;
	uint64_t	*seen, id;
	size_t		 nseen = 0, added = 0;
	int		 rc;

	if ((rows = db_query(&q_relay_read, "i",
	    (long long)RELAY_LOOK_BACK_MS)) == NULL)
		return;
	seen = xcalloc(RELAY_READ, sizeof *seen);
	while ((rc = db_fetch(rows)) == 1) {
		id = db_u64(rows, 0);
		seen[nseen++] = id;
		if (ephemeral_relay_seen(id) || db_u64(rows, 1) ==
		    ephemeral_ring->host_id)
			continue;
		ephemeral_relay_fill(rows, &e);
		hub_mutex_lock(&ephemeral_ring->lock);
		ephemeral_append(&e);
		pthread_mutex_unlock(&ephemeral_ring->lock);
		added++;
	}
	db_rows_free(rows);
	if (rc == -1 && relay_nseen > 0) {
		/*
		 * The look broke off: what it did not reach is read again
		 * next time, so remember both looks' rows.
		 */
		seen = xreallocarray(seen, nseen + relay_nseen, sizeof *seen);
		memcpy(seen + nseen, relay_seen, relay_nseen * sizeof *seen);
		nseen += relay_nseen;
		qsort(seen, nseen, sizeof *seen, ephemeral_cmp_id);
	}
	free(relay_seen);
	relay_seen = seen;
	relay_nseen = nseen;
	if (added > 0)
		hub_wake_all();
}

/* Delete relay rows every host has had time to read. */
void
ephemeral_relay_prune(void)
{
	if (cfg->cluster_poll_ms > 0)
		db_exec(&q_relay_prune, "i", (long long)RELAY_KEEP_S * 1000);
}
