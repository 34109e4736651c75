/* SPDX-License-Identifier: ISC */
/*
 * ratelimit.c: limits on what one user may write (API.md, Conventions:
 * 429 rate_limited with Retry-After): messages to one conversation a
 * second with a burst, servers and invites created an hour; and on the
 * one read that can cost seconds, message searches a minute with a burst
 * (a quoted phrase of common words checks each candidate on its text,
 * search.c, inside the worker that asks).  Each limit
 * is a bucket per key (kind, user, object), kept as the generic cell
 * rate algorithm keeps it: one time, the "theoretical arrival time"
 * (TAT).  A write is due one emission interval T (the period over the
 * count) after the last; it may come early by the burst tolerance
 * (burst - 1) T.  A write that would come earlier than that is refused,
 * and the wait is how much earlier.  A key whose TAT has passed has its
 * whole burst again and is as good as absent.  Another kind of write
 * (uploads) is one more value of enum ratelimit_kind, its case in
 * ratelimit_rule() with its [limits] keys, and a ratelimit_check() call
 * where its endpoint has checked the request.
 *
 * A user's requests land on any worker of the host, so the buckets live
 * in memory the master shares with its workers, mapped before the first
 * fork (beside the hub's, which it keeps out of).  The table has a fixed
 * size: RATELIMIT_SHARDS shards of RATELIMIT_SLOTS slots.  A key hashes
 * to one shard and a run of RATELIMIT_PROBE slots in it; a new key takes
 * the first slot of its run whose TAT has passed (or an empty one), else
 * the one nearest to passing: under more live keys than slots the limits
 * grow looser for some keys, never stricter.  Nothing ever deletes, so a
 * lookup reads the whole run and needs no tombstones.
 *
 * Concurrency: each shard has its own process-shared robust mutex, held
 * for one look at RATELIMIT_PROBE slots and one store; workers meet on
 * one only when their keys hash to the same shard.  A worker that dies
 * holding one leaves it to the next taker (EOWNERDEAD), which marks it
 * consistent: the slots are a few plain integers, each write of which
 * leaves a usable bucket.  Times are CLOCK_MONOTONIC, one clock for all
 * processes of the host.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sohbet.h"

#define RATELIMIT_SHARDS	64
#define RATELIMIT_SLOTS		256	/* per shard */
#define RATELIMIT_PROBE		16	/* slots a key may take */
#define RATELIMIT_SECOND	1000000000ULL
#define RATELIMIT_MINUTE	(60 * RATELIMIT_SECOND)
#define RATELIMIT_HOUR		(3600 * RATELIMIT_SECOND)

struct ratelimit_slot {
	uint64_t	 user_id;
	uint64_t	 object_id;
	uint64_t	 tat_ns;	/* 0: never used */
	uint32_t	 kind;
};

struct ratelimit_shard {
	pthread_mutex_t		 lock;
	struct ratelimit_slot	 slots[RATELIMIT_SLOTS];
};

/* What one kind of write may do: count per period, burst at once. */
struct ratelimit_rule {
	uint64_t	 count;		/* 0: no limit */
	uint64_t	 burst;
	uint64_t	 period_ns;
	const char	*what;		/* for the error message */
};

static struct ratelimit_shard	*ratelimit_table;

/* Map the shared table; the master calls it once, before forking. */
void
ratelimit_init(void)
{
	size_t	i;

	ratelimit_table = hub_shared(RATELIMIT_SHARDS *
	    sizeof *ratelimit_table);
	for (i = 0; i < RATELIMIT_SHARDS; i++)
		hub_mutex_init(&ratelimit_table[i].lock);
}

/* The rule of a kind under the current configuration. */
static struct ratelimit_rule
ratelimit_rule(enum ratelimit_kind kind)
{
	struct ratelimit_rule	r = { 0 };

	switch (kind) {
	case RATELIMIT_CHANNEL_MESSAGE:
	case RATELIMIT_DM_MESSAGE:
		r.count = (uint64_t)cfg->messages_per_second;
		r.burst = (uint64_t)cfg->messages_burst;
		r.period_ns = RATELIMIT_SECOND;
		r.what = "messages to this conversation";
		break;
	case RATELIMIT_SERVER:
		r.count = r.burst = (uint64_t)cfg->servers_per_hour;
		r.period_ns = RATELIMIT_HOUR;
		r.what = "servers created";
		break;
	case RATELIMIT_INVITE:
		r.count = r.burst = (uint64_t)cfg->invites_per_hour;
		r.period_ns = RATELIMIT_HOUR;
		r.what = "invites created";
		break;
	case RATELIMIT_SEARCH:
		r.count = (uint64_t)cfg->searches_per_minute;
		r.burst = (uint64_t)cfg->searches_burst;
		r.period_ns = RATELIMIT_MINUTE;
		r.what = "searches";
		break;
	}
	return r;
}

/* Mix a key into a hash (splitmix64's finaliser over the three parts). */
static uint64_t
ratelimit_hash(enum ratelimit_kind kind, uint64_t user_id, uint64_t object_id)
{
	uint64_t	h;

	h = user_id * 0x9e3779b97f4a7c15ULL ^ object_id ^
	    ((uint64_t)kind << 56);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/*
 * The slot of a key in its shard (locked by the caller): the key's own,
 * else a free or expired one, else the one nearest to expiring, which
 * the key then takes over.
 */
static struct ratelimit_slot *
ratelimit_slot(struct ratelimit_shard *sh, uint64_t h, enum ratelimit_kind kind,
    uint64_t user_id, uint64_t object_id, uint64_t now_ns)
{
	struct ratelimit_slot	*s, *spare = NULL;
	size_t			 i, start = (size_t)(h >> 32) % RATELIMIT_SLOTS;

	for (i = 0; i < RATELIMIT_PROBE; i++) {
		s = &sh->slots[(start + i) % RATELIMIT_SLOTS];
		if (s->tat_ns != 0 && s->kind == (uint32_t)kind &&
		    s->user_id == user_id && s->object_id == object_id)
			return s;
		if (spare == NULL || (spare->tat_ns > now_ns &&
		    s->tat_ns < spare->tat_ns))
			spare = s;
	}
	spare->kind = (uint32_t)kind;
	spare->user_id = user_id;
	spare->object_id = object_id;
	spare->tat_ns = 0;
	return spare;
}

/*
 * Count one write of a kind by a user on an object (a conversation; 0
 * for per-user kinds) at now_ns: 0 allowed, or -1 refused with the wait
 * until it would be allowed in *wait_ns.
 */
int
ratelimit_take(enum ratelimit_kind kind, uint64_t user_id, uint64_t object_id,
    uint64_t now_ns, uint64_t *wait_ns)
{
	struct ratelimit_rule	 r = ratelimit_rule(kind);
	struct ratelimit_shard	*sh;
	struct ratelimit_slot	*s;
	uint64_t		 h, t, tolerance, tat;
	int			 rc = 0;

	if (ratelimit_table == NULL || r.count == 0)
		return 0;
	t = r.period_ns / r.count;
	tolerance = (r.burst > 0 ? r.burst - 1 : 0) * t;
	h = ratelimit_hash(kind, user_id, object_id);
	sh = &ratelimit_table[h % RATELIMIT_SHARDS];
	hub_mutex_lock(&sh->lock);
	s = ratelimit_slot(sh, h, kind, user_id, object_id, now_ns);
	tat = s->tat_ns > now_ns ? s->tat_ns : now_ns;
	if (tat - now_ns > tolerance) {
		*wait_ns = tat - now_ns - tolerance;
		rc = -1;
	} else
		s->tat_ns = tat + t;
	pthread_mutex_unlock(&sh->lock);
	return rc;
}

/*
 * Count a write of the request's user, or answer 429 rate_limited with
 * the seconds to wait (rounded up): 0 allowed, -1 answered.  A request
 * run again after a database conflict (db_retry_rerun()) was counted by
 * its first run.
 */
int
ratelimit_check(struct request *req, enum ratelimit_kind kind,
    uint64_t object_id)
{
	uint64_t	wait = 0;
	long		seconds;

	if (db_retry_rerun() || ratelimit_take(kind, req->user_id, object_id,
	    clock_ns(), &wait) == 0)
		return 0;
	seconds = (long)((wait + RATELIMIT_SECOND - 1) / RATELIMIT_SECOND);
	if (seconds < 1)
		seconds = 1;
	response_rate_limited(req, seconds, "Too many %s; try again in %ld "
	    "second%s", ratelimit_rule(kind).what, seconds,
	    seconds == 1 ? "" : "s");
	return -1;
}

/*
 * Count a message the request's user sends to a conversation, or answer
 * 429: 0 allowed, -1 answered.  Called before the send joins a batch.
 */
int
ratelimit_send(struct request *req, const struct conversation *c)
{
	if (c->channel_id != 0)
		return ratelimit_check(req, RATELIMIT_CHANNEL_MESSAGE,
		    c->channel_id);
	return ratelimit_check(req, RATELIMIT_DM_MESSAGE, c->dm_channel_id);
}
