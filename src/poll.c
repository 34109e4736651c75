/* SPDX-License-Identifier: ISC */
/*
 * poll.c: parked long-polls.  A request with nothing to answer yet stays
 * open here, costing memory, never a process: it is indexed by the scope
 * keys it waits on (server, channel, DM, user), sits in a timer heap by its
 * deadline, and its connection is watched so that nginx closing it (the
 * client went away) drops it at once.
 *
 * On a wake-up the worker reads the new ring entries, sets aside those not
 * yet below the watermark, marks the polls whose keys the others match,
 * and hands the marked polls of each kind to that kind's batch function,
 * which reads the database once for all of them.
 *
 * A poll may see only what its user could read over REST at that moment.
 * An entry of a kind that may have taken some of that away (HUB_ACCESS:
 * a kick, a role change, a channel deleted, an account whose tokens were
 * revoked) marks the polls it concerns "recheck", and their kind's
 * recheck function asks again, before the batch function may hand them
 * anything, whether the token and the access they were parked with
 * still hold.  Every poll is indexed under its owner (POLL_OWNER), which
 * such entries about a user match, and which caps the polls one user may
 * park in a worker.  Ephemeral events (ephemeral.c: typing, presence)
 * come through a ring of their own and need no watermark: they "hint"
 * the polls of their server or DM, whose kind's hint function judges
 * them at once and answers the poll or hurries it (poll_hurry(): its
 * deadline moves to when it may be answered).  A hurried poll is hinted
 * no more: whatever comes until its deadline is gathered into its one
 * answer, so a storm of hints costs a poll one judgement, not one each.
 * The worker's caches
 * (cache.c) hear of every entry twice: when it is read from the ring and
 * when the watermark passes it.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"

#define POLL_BUCKETS		65536
#define POLL_RING_BATCH		512
#define POLL_DEFERRED_MAX	(HUB_RING * 2)
#define POLL_TRIM_MIN		256	/* vanished clients worth a trim */
#define POLL_EPHEMERAL_BATCH	64
#define POLL_HURRY_SLOTS	8192	/* ms counted ahead: 65,536 polls */

struct poll_link {
	LIST_ENTRY(poll_link)	 entry;
	TAILQ_ENTRY(poll_link)	 hint_entry;	/* in poll_hint_index */
	struct poll		*poll;
	uint64_t		 key;
	int			 hintable;	/* in poll_hint_index now */
};
LIST_HEAD(poll_bucket, poll_link);
TAILQ_HEAD(poll_hint_bucket, poll_link);

static struct poll_bucket	*poll_index;
/*
 * The same, of the server and DM keys of the polls ephemeral events may
 * still hint (poll_hint_key()): of a kind that takes hints, not hurried.
 * In a storm of typing nearly every poll is hurried, and a hint walks
 * the few that are not instead of every poll of its server.  In the
 * order they parked, which is the order of their turns (poll_hurry()).
 */
static struct poll_hint_bucket	*poll_hint_index;
static struct poll		**poll_heap;
static size_t			 poll_heap_len, poll_heap_size;
static TAILQ_HEAD(, poll)	 poll_all = TAILQ_HEAD_INITIALIZER(poll_all);
static TAILQ_HEAD(, poll)	 poll_dead = TAILQ_HEAD_INITIALIZER(poll_dead);
/* The polls hinted since the last answering, so that none is looked for. */
static TAILQ_HEAD(, poll)	 poll_hinted = TAILQ_HEAD_INITIALIZER(poll_hinted);
static size_t			 poll_count;
static uint64_t			 poll_ring_pos;
static uint64_t			 poll_ephemeral_pos;
static struct hub_entry		*poll_deferred;
static size_t			 poll_deferred_len;
static size_t			 poll_gone;	/* clients gone since a trim */
static int			 poll_epfd;	/* the worker's epoll */
static int			 poll_stopping;	/* the worker drains: no parking */
static int			 poll_any_marked; /* likewise */
/* How many hurried polls fall due in each millisecond to come. */
static struct poll_hurry_slot {
	long long	 ms;
	int		 n;
}				 poll_hurry_slots[POLL_HURRY_SLOTS];

/*
 * Set up the index and start reading the ring at its head; parked
 * connections are watched in the worker's epoll instance epfd.
 */
void
poll_init(int epfd)
{
	size_t	i;

	poll_epfd = epfd;
	poll_index = xcalloc(POLL_BUCKETS, sizeof *poll_index);
	poll_hint_index = xcalloc(POLL_BUCKETS, sizeof *poll_hint_index);
	for (i = 0; i < POLL_BUCKETS; i++)
		TAILQ_INIT(&poll_hint_index[i]);
	poll_deferred = xcalloc(POLL_DEFERRED_MAX, sizeof *poll_deferred);
	poll_ring_pos = hub_ring_head();
	poll_ephemeral_pos = ephemeral_head();
}

/* The number of parked polls. */
size_t
poll_parked(void)
{
	return poll_count;
}

/* Combine a key kind and an id into one index key. */
static uint64_t
poll_key_of(enum poll_key kind, uint64_t id)
{
	return id * POLL_KINDS + (uint64_t)kind;
}

/* The bucket of an index key. */
static struct poll_bucket *
poll_bucket_of(uint64_t key)
{
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 32;
	return &poll_index[key % POLL_BUCKETS];
}

/* The bucket of an index key among those hints look for. */
static struct poll_hint_bucket *
poll_hint_bucket_of(uint64_t key)
{
	return poll_hint_index + (poll_bucket_of(key) - poll_index);
}

/*
 * Make a parked poll's server and DM keys findable by hints, when its
 * kind takes them (poll_hint_key()).
 */
static void
poll_hint_index_add(struct poll *p)
{
	struct poll_link	*l;
	size_t			 i;
	uint64_t		 kind;

	if (p->type->hint == NULL)
		return;
	for (i = 0; i < p->nlinks; i++) {
		l = p->links[i];
		kind = l->key % POLL_KINDS;
		if (kind != POLL_SERVER && kind != POLL_DM)
			continue;
		TAILQ_INSERT_TAIL(poll_hint_bucket_of(l->key), l, hint_entry);
		l->hintable = 1;
	}
}

/* Hints no longer look for a poll (hurried, or unparked). */
static void
poll_hint_index_remove(struct poll *p)
{
	size_t	i;

	for (i = 0; i < p->nlinks; i++) {
		if (!p->links[i]->hintable)
			continue;
		TAILQ_REMOVE(poll_hint_bucket_of(p->links[i]->key),
		    p->links[i], hint_entry);
		p->links[i]->hintable = 0;
	}
}

/* The loop saw an event on a parked poll's connection. */
static void
poll_ready(struct watch *w)
{
	poll_closed((struct poll *)w);
}

/* Make a poll for a request, of a kind, with the kind's private data. */
struct poll *
poll_new(struct request *req, const struct poll_type *type, void *data)
{
	struct poll	*p;

	p = xcalloc(1, sizeof *p);
	p->watch.ready = poll_ready;
	p->req = req;
	p->type = type;
	p->data = data;
	p->heap_index = SIZE_MAX;
	return p;
}

/* Index a poll under a scope key. */
void
poll_key(struct poll *p, enum poll_key kind, uint64_t id)
{
	struct poll_link	*l;

	if (p->nlinks == p->links_size) {
		p->links_size = p->links_size == 0 ? 4 : p->links_size * 2;
		p->links = xreallocarray(p->links, p->links_size,
		    sizeof *p->links);
	}
	l = xcalloc(1, sizeof *l);
	l->poll = p;
	l->key = poll_key_of(kind, id);
	p->links[p->nlinks++] = l;
}

/* Swap two heap entries and fix their indexes. */
static void
poll_heap_swap(size_t a, size_t b)
{
	struct poll	*t = poll_heap[a];

	poll_heap[a] = poll_heap[b];
	poll_heap[b] = t;
	poll_heap[a]->heap_index = a;
	poll_heap[b]->heap_index = b;
}

/* Restore the heap order from i upwards and downwards. */
static void
poll_heap_fix(size_t i)
{
	size_t	c;

	while (i > 0 && poll_heap[(i - 1) / 2]->deadline >
	    poll_heap[i]->deadline) {
		poll_heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		c = 2 * i + 1;
		if (c >= poll_heap_len)
			break;
		if (c + 1 < poll_heap_len && poll_heap[c + 1]->deadline <
		    poll_heap[c]->deadline)
			c++;
		if (poll_heap[i]->deadline <= poll_heap[c]->deadline)
			break;
		poll_heap_swap(i, c);
		i = c;
	}
}

/* Add a poll to the timer heap. */
static void
poll_heap_add(struct poll *p)
{
	if (poll_heap_len == poll_heap_size) {
		poll_heap_size = poll_heap_size == 0 ? 1024 :
		    poll_heap_size * 2;
		poll_heap = xreallocarray(poll_heap, poll_heap_size,
		    sizeof *poll_heap);
	}
	poll_heap[poll_heap_len] = p;
	p->heap_index = poll_heap_len++;
	poll_heap_fix(p->heap_index);
}

/* Remove a poll from the timer heap. */
static void
poll_heap_remove(struct poll *p)
{
	size_t	i = p->heap_index;

	if (i == SIZE_MAX)
		return;
	poll_heap_swap(i, --poll_heap_len);
	p->heap_index = SIZE_MAX;
	if (i < poll_heap_len)
		poll_heap_fix(i);
}

/*
 * Keep a user below max_parked_per_user polls in this worker: answer
 * their oldest as if it timed out (no events, its cursor), so that a
 * client with many tabs still works and a script cannot hoard
 * connections.  The owner links of a bucket run newest first.
 */
static void
poll_owner_make_room(uint64_t user_id)
{
	struct poll_link	*l, *oldest;
	uint64_t		 want = poll_key_of(POLL_OWNER, user_id);
	int			 n;

	for (;;) {
		n = 0;
		oldest = NULL;
		LIST_FOREACH(l, poll_bucket_of(want), entry) {
			if (l->key == want) {
				n++;
				oldest = l;
			}
		}
		if (n < cfg->max_parked_per_user)
			return;
		oldest->poll->type->expire(oldest->poll);
	}
}

/*
 * Park a poll until timeout_ms from now: index it, arm its deadline and
 * watch its connection.  -1 (nothing parked) when the worker is full; a
 * stopping worker answers the poll as timed out instead.
 */
int
poll_park(struct poll *p, long long timeout_ms)
{
	size_t	i;

	if (poll_stopping) {
		/* No parking while the worker drains: answer as timed out. */
		p->type->expire(p);
		return 0;
	}
	if (poll_count >= (size_t)cfg->max_parked)
		return -1;
	poll_owner_make_room(p->req->user_id);
	poll_key(p, POLL_OWNER, p->req->user_id);
	if (request_watch(p->req, poll_epfd, &p->watch) == -1)
		return -1;
	for (i = 0; i < p->nlinks; i++)
		LIST_INSERT_HEAD(poll_bucket_of(p->links[i]->key),
		    p->links[i], entry);
	poll_hint_index_add(p);
	p->deadline = clock_ms() + timeout_ms;
	poll_heap_add(p);
	TAILQ_INSERT_TAIL(&poll_all, p, all_entry);
	p->parked = 1;
	p->req->waiting = REQUEST_PARKED;
	request_release(p->req);
	poll_count++;
	metrics_parked((long)poll_count);
	return 0;
}

/*
 * A hurried poll answered or gone before its turn (poll_hurry()) hands
 * the turn back: when a message's wake-up answers every hurried poll of
 * a storm at once, their next polls are paced from that moment, not
 * queued behind the turns of the answers already given.  One answered
 * at its turn keeps it, or the polls hurried in that millisecond could
 * take more than its POLL_HURRIED_PER_MS.
 */
static void
poll_hurry_hand_back(struct poll *p)
{
	struct poll_hurry_slot	*slot;

	if (!p->hurried || p->turn_ms <= clock_ms())
		return;
	slot = &poll_hurry_slots[p->turn_ms % POLL_HURRY_SLOTS];
	if (slot->ms == p->turn_ms && slot->n > 0)
		slot->n--;
}

/* Take a poll off the list of the hinted (poll_hint_key()), if on it. */
static void
poll_unhint(struct poll *p)
{
	if (!p->hinted)
		return;
	p->hinted = 0;
	TAILQ_REMOVE(&poll_hinted, p, hint_entry);
}

/*
 * Unpark a poll and queue it for freeing.  The memory outlives the current
 * round of epoll events, which may still name it; poll_reap() frees it.
 */
static void
poll_free(struct poll *p)
{
	size_t	i;

	if (p->parked) {
		poll_hurry_hand_back(p);
		poll_unhint(p);
		poll_hint_index_remove(p);
		/* request_done() follows: poll_done(), poll_closed(). */
		request_unwatch_ending(p->req);
		for (i = 0; i < p->nlinks; i++)
			LIST_REMOVE(p->links[i], entry);
		poll_heap_remove(p);
		TAILQ_REMOVE(&poll_all, p, all_entry);
		poll_count--;
		metrics_parked((long)poll_count);
	}
	p->dead = 1;
	TAILQ_INSERT_TAIL(&poll_dead, p, all_entry);
}

/*
 * Free the polls unparked during the last round of events.  When many
 * clients went away (at least as many as are still parked), hand the
 * freed memory back to the system: glibc keeps a heap at its peak, and a
 * crowd of vanished long-polls (some 4 KB each once parked, 21 KB while
 * their request was read) would otherwise stay in the worker's RSS for
 * good.
 */
void
poll_reap(void)
{
	struct poll	*p;
	size_t		 i;

	while ((p = TAILQ_FIRST(&poll_dead)) != NULL) {
		TAILQ_REMOVE(&poll_dead, p, all_entry);
		for (i = 0; i < p->nlinks; i++)
			free(p->links[i]);
		free(p->links);
		if (p->type->free != NULL)
			p->type->free(p->data);
		free(p);
	}
	if (poll_gone >= POLL_TRIM_MIN && poll_gone >= poll_count) {
		malloc_trim(0);
		poll_gone = 0;
	}
}

/*
 * Finish a poll whose request has been answered: close the request if
 * it was parked (a poll answered at once is closed by the worker).
 */
void
poll_done(struct poll *p)
{
	struct request	*req = p->req;
	int		 parked = p->parked;

	if (parked && p->woken_ns != 0)
		metrics_delivered(p->woken_ns);
	poll_free(p);
	req->poll = NULL;
	if (parked) {
		req->waiting = REQUEST_RUNNING;
		request_done(req);
	}
}

/* The connection of a parked poll closed (or sent data): drop it. */
void
poll_closed(struct poll *p)
{
	struct request	*req = p->req;

	if (p->dead)
		return;
	poll_free(p);
	req->poll = NULL;
	req->waiting = REQUEST_RUNNING;
	/* Nobody reads the answer; close without writing one. */
	req->status = 499;
	request_done(req);
	poll_gone++;
}

/* Mark one poll for a wake-up, and for a recheck if asked. */
static void
poll_mark(struct poll *p, uint64_t published_ns, int recheck)
{
	if (recheck)
		p->recheck = 1;
	if (p->marked)
		return;
	p->marked = 1;
	p->woken_ns = published_ns;
	poll_any_marked = 1;
}

/* Mark the polls indexed under a key of a kind and an id. */
static void
poll_mark_key(enum poll_key kind, uint64_t id, uint64_t published_ns,
    int recheck)
{
	struct poll_link	*l;
	uint64_t		 want = poll_key_of(kind, id);

	LIST_FOREACH(l, poll_bucket_of(want), entry) {
		if (l->key == want)
			poll_mark(l->poll, published_ns, recheck);
	}
}

/* Mark every parked poll (the ring overflowed, or a wildcard entry). */
static void
poll_mark_all(uint64_t published_ns)
{
	struct poll	*p;

	TAILQ_FOREACH(p, &poll_all, all_entry)
		poll_mark(p, published_ns, 1);
}

/*
 * Mark the polls one ring entry concerns.  An entry that may have taken
 * access away (HUB_ACCESS) also marks for a recheck the polls it may
 * have taken it from: one user's (POLL_OWNER) when it is about a user
 * (a kick, their roles, their account), a channel's when it is about a
 * channel, and every channel poll of the server (POLL_ACCESS) when it
 * is about everyone there (a role's permissions).
 */
static void
poll_mark_entry(const struct hub_entry *e)
{
	int		access = (e->flags & HUB_ACCESS) != 0;
	uint64_t	ns = e->published_ns;

	if (e->server_id == HUB_ANY) {
		poll_mark_all(ns);
		return;
	}
	if (e->server_id != 0)
		poll_mark_key(POLL_SERVER, e->server_id, ns, 0);
	if (e->channel_id != 0)
		poll_mark_key(POLL_CHANNEL, e->channel_id, ns, access);
	if (e->dm_channel_id != 0)
		poll_mark_key(POLL_DM, e->dm_channel_id, ns, 0);
	if (e->user_id != 0)
		poll_mark_key(POLL_USER, e->user_id, ns, 0);
	if (!access)
		return;
	if (e->user_id != 0)
		poll_mark_key(POLL_OWNER, e->user_id, ns, 1);
	else if (e->server_id != 0 && e->channel_id == 0)
		poll_mark_key(POLL_ACCESS, e->server_id, ns, 1);
}

/* Forget what the worker cached that a ring entry may have changed. */
static void
poll_forget(const struct hub_entry *e)
{
	cache_forget(e);
	readcache_forget(e);
	history_forget_entry(e);
	access_forget(e);
}

/* Pull new ring entries into the deferred list; -1 when we fell behind. */
static int
poll_pull_ring(void)
{
	long	n;
	size_t	i;

	do {
		if (poll_deferred_len + POLL_RING_BATCH > POLL_DEFERRED_MAX)
			return -1;
		n = hub_read(&poll_ring_pos, poll_deferred + poll_deferred_len,
		    POLL_RING_BATCH);
		if (n == -1)
			return -1;
		for (i = 0; i < (size_t)n; i++)
			poll_forget(&poll_deferred[poll_deferred_len + i]);
		poll_deferred_len += (size_t)n;
	} while (n == POLL_RING_BATCH);
	return 0;
}

/* Mark polls for entries at or below the watermark; keep the rest. */
static void
poll_match_deferred(uint64_t wm)
{
	size_t	i, kept = 0;

	for (i = 0; i < poll_deferred_len; i++) {
		if (poll_deferred[i].seq <= wm) {
			poll_forget(&poll_deferred[i]);
			poll_mark_entry(&poll_deferred[i]);
		} else
			poll_deferred[kept++] = poll_deferred[i];
	}
	poll_deferred_len = kept;
}

/*
 * Hint the polls indexed under a key of a kind and an id (a server's, a
 * DM's): those of a kind that takes hints and not hurried already, which
 * alone poll_hint_index holds.  They are listed, so that answering them
 * walks those alone, not every parked poll: a storm of typing wakes a
 * worker dozens of times a second, where nearly every poll is hurried
 * already.
 */
static void
poll_hint_key(enum poll_key kind, uint64_t id)
{
	struct poll_link	*l;
	struct poll		*p;
	uint64_t		 want = poll_key_of(kind, id);

	TAILQ_FOREACH(l, poll_hint_bucket_of(want), hint_entry) {
		p = l->poll;
		if (l->key == want && !p->hinted) {
			p->hinted = 1;
			TAILQ_INSERT_TAIL(&poll_hinted, p, hint_entry);
		}
	}
}

/* Whether an entry of a batch concerns the same polls as an earlier one. */
static int
poll_hinted_before(const struct ephemeral *batch, size_t i)
{
	size_t	j;

	for (j = 0; j < i; j++) {
		if (batch[j].server_id == batch[i].server_id &&
		    batch[j].dm_channel_id == batch[i].dm_channel_id)
			return 1;
	}
	return 0;
}

/*
 * Hint the polls that new ephemeral entries concern (ephemeral.c), once
 * for the entries of a batch that concern the same: a storm of typing
 * in one channel walks its server's polls once a wake-up, not once a
 * hint.
 */
static void
poll_pull_ephemeral(void)
{
	struct ephemeral	batch[POLL_EPHEMERAL_BATCH];
	size_t			n, i;

	do {
		n = ephemeral_read(&poll_ephemeral_pos, batch,
		    POLL_EPHEMERAL_BATCH);
		for (i = 0; i < n; i++) {
			if (poll_hinted_before(batch, i))
				continue;
			if (batch[i].server_id != 0)
				poll_hint_key(POLL_SERVER, batch[i].server_id);
			if (batch[i].dm_channel_id != 0)
				poll_hint_key(POLL_DM, batch[i].dm_channel_id);
		}
	} while (n == POLL_EPHEMERAL_BATCH);
}

/*
 * Have a parked poll answered at about at (clock_ms()): its deadline
 * moves there if that is sooner, where its kind's expire answers it,
 * and no ephemeral event hints it any more.  At most
 * POLL_HURRIED_PER_MS hurried polls fall due in one millisecond, 7,000
 * answers a second per worker: a storm of typing hints to the 9,000
 * clients of a channel, spread evenly over two workers
 * (worker_over_share()), is answered at that pace, each client in turn
 * in some 640 ms, rather than as fast as they poll again, which
 * saturated the box, so that a message sent meanwhile waited seconds
 * behind the hints (docs/benchmarks.md; the pace was 2 while an answer
 * cost twice as much).  It was 8 while nginx's kept connections sat
 * 2:1 on two workers, the fuller one's clients waiting 750-930 ms for
 * a turn; spread evenly, both at 8 asked more of the box (2 cores,
 * nginx and the 9,000 clients on it) than it serves, and every wait
 * grew (issue 22).  Answers of durable
 * events do not queue here, and a hurried poll they answer before its
 * turn hands the turn back (poll_hurry_hand_back()).
 */
void
poll_hurry(struct poll *p, long long at)
{
	struct poll_hurry_slot	*slot;

	if (!p->parked || p->dead)
		return;
	p->hurried = 1;
	poll_unhint(p);
	poll_hint_index_remove(p);
	for (;; at++) {
		slot = &poll_hurry_slots[at % POLL_HURRY_SLOTS];
		if (slot->ms != at) {
			slot->ms = at;
			slot->n = 0;
		}
		if (slot->n < POLL_HURRIED_PER_MS)
			break;
	}
	slot->n++;
	p->turn_ms = at;
	if (at < p->deadline) {
		p->deadline = at;
		poll_heap_fix(p->heap_index);
	}
}

/*
 * Ask the kind of a poll marked for a recheck whether its user may still
 * have it; 1 when it stays, 0 when the recheck answered it.
 */
static int
poll_still_allowed(struct poll *p)
{
	if (!p->recheck)
		return 1;
	p->recheck = 0;
	p->type->recheck(p);
	return !p->dead;
}

/* Hand the marked polls of each kind to its batch function. */
static void
poll_answer_marked(uint64_t wm)
{
	struct poll		*p, *tmp, **batch;
	const struct poll_type	*type;
	size_t			 n;

	/* A wake-up of hints alone (typing) walks no poll here. */
	if (!poll_any_marked)
		return;
	poll_any_marked = 0;
	batch = xcalloc(poll_count + 1, sizeof *batch);
	for (;;) {
		type = NULL;
		n = 0;
		TAILQ_FOREACH_SAFE(p, &poll_all, all_entry, tmp) {
			if (!p->marked || (type != NULL && p->type != type))
				continue;
			p->marked = 0;
			/* Its wake sees the ephemeral events too. */
			poll_unhint(p);
			if (!poll_still_allowed(p))
				continue;
			type = p->type;
			batch[n++] = p;
		}
		if (n == 0)
			break;
		type->wake(batch, n, wm);
	}
	free(batch);
	/* Polls the batch left parked wait for the next entry. */
	TAILQ_FOREACH_SAFE(p, &poll_all, all_entry, tmp)
		p->woken_ns = 0;
}

/*
 * Hand each poll that only ephemeral events concern to its kind; a
 * wake-up that hinted none (a durable event) finds the list empty.
 */
static void
poll_answer_hinted(void)
{
	struct poll	*p;

	while ((p = TAILQ_FIRST(&poll_hinted)) != NULL) {
		poll_unhint(p);
		p->type->hint(p);
	}
}

/*
 * Catch up with the ring: read the new entries and mark the polls of
 * those at or below the watermark, which it returns.  The polls are
 * answered by poll_woken(), which the entries' publisher has woken.  A
 * request calls this first, so that the caches reflect every change
 * whose writer has been answered.
 */
uint64_t
poll_sync(void)
{
	uint64_t	wm;

	if (poll_pull_ring() == -1) {
		/* Fell behind: every poll reads again, every cache goes. */
		poll_deferred_len = 0;
		poll_ring_pos = hub_ring_head();
		poll_mark_all(0);
		cache_forget_all();
		readcache_forget_all();
		history_forget_all();
		access_forget_all();
	}
	wm = sequencer_visible();
	poll_match_deferred(wm);
	return wm;
}

/*
 * The worker's eventfd fired: take its count (one read: it is not a
 * semaphore), then act on the new entries.
 */
void
poll_wake(void)
{
	uint64_t	count;

	if (read(hub_wake_fd(hub_self()), &count, sizeof count) == -1 &&
	    errno != EAGAIN)
		log_warn("%s: eventfd", __func__);
	poll_woken();
}

/*
 * Woken by another worker's eventfd write or by this worker's own change
 * (hub_self_woken()): match new entries and answer polls.
 */
void
poll_woken(void)
{
	uint64_t	wm;

	metrics_wakeup();
	wm = poll_sync();
	poll_pull_ephemeral();
	if (poll_count > 0)
		poll_answer_marked(wm);
	if (poll_count > 0)
		poll_answer_hinted();
}

/* Milliseconds until the next deadline, or -1 when nothing is parked. */
int
poll_next_timeout(void)
{
	long long	d;

	if (poll_heap_len == 0)
		return -1;
	d = poll_heap[0]->deadline - clock_ms();
	return d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
}

/* Answer the polls whose deadline has passed. */
void
poll_expire(void)
{
	long long	now = clock_ms();
	struct poll	*p;

	while (poll_heap_len > 0 && poll_heap[0]->deadline <= now) {
		p = poll_heap[0];
		p->type->expire(p);
	}
}

/*
 * Answer every parked poll as if it timed out, and any parked from now on
 * at once (the worker stops gracefully).
 */
void
poll_stop_all(void)
{
	struct poll	*p;

	poll_stopping = 1;
	while ((p = TAILQ_FIRST(&poll_all)) != NULL)
		p->type->expire(p);
}
