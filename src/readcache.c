/* SPDX-License-Identifier: ISC */
/*
 * readcache.c: what a worker keeps of its users' read states between
 * requests (readstate.c), and the generations that tell it what went
 * stale.
 *
 * A user's list (every conversation they see, its position and counts)
 * costs a few statements to build and nothing to answer again; what
 * makes it stale reaches every worker as a hub entry (poll.c calls
 * readcache_forget() for each, the watcher's entries from other hosts
 * included).  Instead of searching the lists for each entry, an entry
 * bumps a generation: of its conversation (a message, sent, edited or
 * deleted, or a reaction), of its server and user (anything else:
 * members, roles, channels, overwrites, DMs made), or of its user's
 * acknowledgements (read_state.update).  The generations live in one
 * table per worker, indexed by a hash of (kind, id): two ids that share
 * a slot only make each other's lists be read again, never kept too
 * long.  Each entry of a list notes the generations it was read at, and
 * readstate.c reads again what moved.
 *
 * An entry is applied when it is read and again when the watermark
 * passes it (poll.c); bumping twice costs a second read at most.  A
 * list is also read again whole after a while (readstate.c), for what
 * changed behind sohbetd's back (by hand in the database), its counts
 * kept where the position and newest message did not move.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define READCACHE_GEN_SLOTS	65536	/* a power of two */
#define READCACHE_LIST_SLOTS	1024	/* a power of two */

static uint32_t			*readcache_gens;
static struct readcache_list	**readcache_lists;

/* Whether this worker keeps read states (cache_ms 0: never). */
int
readcache_on(void)
{
	return cfg->cache_ms > 0;
}

/* The slot of (kind, id) in the generation table. */
static size_t
readcache_gen_slot(int kind, uint64_t id)
{
	uint64_t	h;

	h = (id + (uint64_t)kind) * 0x9e3779b97f4a7c15ULL;
	h ^= (uint64_t)kind * 0xc2b2ae3d27d4eb4fULL;
	return (size_t)(h >> 40) & (READCACHE_GEN_SLOTS - 1);
}

/* The generation of (kind, id): READCACHE_CHANNEL, _DM, _SERVER, ... */
uint32_t
readcache_gen(int kind, uint64_t id)
{
	if (readcache_gens == NULL)
		return 0;
	return readcache_gens[readcache_gen_slot(kind, id)];
}

/* Move the generation of (kind, id) on. */
static void
readcache_bump(int kind, uint64_t id)
{
	if (id == 0)
		return;
	if (readcache_gens == NULL)
		readcache_gens = xcalloc(READCACHE_GEN_SLOTS,
		    sizeof *readcache_gens);
	readcache_gens[readcache_gen_slot(kind, id)]++;
}

/* Free a list and what it holds. */
void
readcache_list_free(struct readcache_list *l)
{
	if (l == NULL)
		return;
	free(l->v);
	free(l->servers);
	free(l);
}

/*
 * The first of the two slots a user's list may be in (a pair: two users
 * whose ids share one take both, rather than reading each other out).
 */
static size_t
readcache_list_slot(uint64_t user_id)
{
	return (size_t)((user_id * 0x9e3779b97f4a7c15ULL) >> 40) &
	    (READCACHE_LIST_SLOTS - 2);
}

/*
 * A user's list as this worker keeps it, or NULL; it stays the cache's
 * (readcache_put() replaces it).
 */
struct readcache_list *
readcache_get(uint64_t user_id)
{
	struct readcache_list	*l;
	size_t			 i, slot;

	if (!readcache_on() || readcache_lists == NULL)
		return NULL;
	slot = readcache_list_slot(user_id);
	for (i = slot; i < slot + 2; i++) {
		if ((l = readcache_lists[i]) != NULL &&
		    l->user_id == user_id) {
			metrics_cache(CACHE_READ_STATES, 1);
			l->used_ms = clock_ms();
			return l;
		}
	}
	metrics_cache(CACHE_READ_STATES, 0);
	return NULL;
}

/*
 * Keep a user's list (l->user_id) in one of its two slots: the one with
 * the user's older list, else an empty one, else the one used least
 * lately.  The cache takes it.  Only while readcache_on().
 */
void
readcache_put(struct readcache_list *l)
{
	struct readcache_list	**pair, **slot;

	if (readcache_lists == NULL)
		readcache_lists = xcalloc(READCACHE_LIST_SLOTS,
		    sizeof *readcache_lists);
	pair = &readcache_lists[readcache_list_slot(l->user_id)];
	l->used_ms = clock_ms();
	if (pair[0] != NULL && pair[0]->user_id == l->user_id)
		slot = &pair[0];
	else if (pair[1] != NULL && pair[1]->user_id == l->user_id)
		slot = &pair[1];
	else if (pair[0] == NULL || (pair[1] != NULL &&
	    pair[0]->used_ms <= pair[1]->used_ms))
		slot = &pair[0];
	else
		slot = &pair[1];
	if (*slot != l)
		readcache_list_free(*slot);
	*slot = l;
}

/* Forget every list (a wildcard entry, or the ring was overrun). */
void
readcache_forget_all(void)
{
	size_t	i;

	if (readcache_lists == NULL)
		return;
	for (i = 0; i < READCACHE_LIST_SLOTS; i++) {
		readcache_list_free(readcache_lists[i]);
		readcache_lists[i] = NULL;
	}
}

/*
 * Note what a hub entry made stale: a message or reaction its
 * conversation, an acknowledgement its user's positions, anything else
 * its server, channel, DM and user.
 */
void
readcache_forget(const struct hub_entry *e)
{
	if (e->server_id == HUB_ANY) {
		readcache_forget_all();
		return;
	}
	if (e->flags & HUB_READ) {
		readcache_bump(READCACHE_READ, e->user_id);
		return;
	}
	readcache_bump(READCACHE_CHANNEL, e->channel_id);
	readcache_bump(READCACHE_DM, e->dm_channel_id);
	if (e->flags & HUB_MESSAGE)
		return;
	readcache_bump(READCACHE_SERVER, e->server_id);
	readcache_bump(READCACHE_USER, e->user_id);
}
