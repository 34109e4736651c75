/* SPDX-License-Identifier: ISC */
/*
 * hub.c: the memory the master shares with its workers, set up before the
 * first fork.  It holds one slot per worker (pid, database connection id,
 * wake-up eventfd, the number it has drawn but not finished) and the event
 * sequencer's counter.
 *
 * The sequencer hands out numbers under one process-shared mutex.  A worker
 * runs one transaction at a time, so its slot remembers the lowest number
 * its open transaction drew; the watermark, below which every number is
 * finished, is the counter capped by the lowest pending number of any slot.
 * Drawing and recording happen under the same lock the watermark is read
 * under, so no reader ever sees a drawn number that is not yet pending.
 *
 * After a commit, the writer publishes (seq, scope) entries into a ring
 * and writes to every worker's eventfd.  Each worker keeps its own read
 * position; one that fell more than a ring behind is told so and wakes
 * everything it holds.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"

struct hub_slot {
	_Atomic int		 used;
	_Atomic pid_t		 pid;
	_Atomic uint64_t	 seq_pending;
	_Atomic unsigned long	 thread_id;
	_Atomic int		 hashes_held;
	int			 wake_fd;
};

struct hub {
	pthread_mutex_t		 lock;
	uint64_t		 seq_last;	/* the last number drawn */
	int			 seq_ready;	/* seq_last resumed from the db */
	sem_t			 hash_sem;	/* password hashes at once */
	struct hub_slot		 slots[HUB_SLOTS];
	uint64_t		 ring_head;	/* entries ever published */
	struct hub_entry	 ring[HUB_RING];
	_Atomic pid_t		 keeper_pid;	/* runs the periodic jobs */
	struct hub_stats	 stats;
};

struct hub	*hub;
static int	 hub_self_slot = -1;
static int	 hub_self_wake;	/* see hub_self_woken() */

/*
 * Make a mutex in shared memory that the workers and the master share: a
 * robust one, so that a process dying with it held does not block the
 * others (hub_mutex_lock() recovers it).
 */
void
hub_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t	attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	if (pthread_mutex_init(m, &attr) != 0)
		fatalx("hub: pthread_mutex_init failed");
	pthread_mutexattr_destroy(&attr);
}

/* Take a shared mutex, recovering it if its holder died. */
void
hub_mutex_lock(pthread_mutex_t *m)
{
	int	rc;

	rc = pthread_mutex_lock(m);
	if (rc == EOWNERDEAD)
		pthread_mutex_consistent(m);
	else if (rc != 0)
		fatalx("hub: lock failed: %s", strerror(rc));
}

/*
 * Map size bytes of zeroed memory that the processes forked after this
 * share.
 */
void *
hub_shared(size_t size)
{
	void	*p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("hub: mmap");
	memset(p, 0, size);
	return p;
}

/* Map the shared memory and create the per-slot eventfds. */
void
hub_init(void)
{
	int	i;

	hub = hub_shared(sizeof *hub);
	hub_mutex_init(&hub->lock);
	if (sem_init(&hub->hash_sem, 1, (unsigned int)cfg->max_hashes) == -1)
		fatal("hub: sem_init");
	for (i = 0; i < HUB_SLOTS; i++) {
		hub->slots[i].wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (hub->slots[i].wake_fd == -1)
			fatal("hub: eventfd");
	}
}

/* Take the hub lock, recovering it if its holder died. */
static void
hub_lock(void)
{
	hub_mutex_lock(&hub->lock);
}

/* Release the hub lock. */
static void
hub_unlock(void)
{
	pthread_mutex_unlock(&hub->lock);
}

/* Claim a free slot for a new worker; its index, or -1 if none is free. */
int
hub_slot_claim(pid_t pid)
{
	int	i;

	for (i = 0; i < HUB_SLOTS; i++) {
		if (!atomic_load(&hub->slots[i].used)) {
			atomic_store(&hub->slots[i].used, 1);
			atomic_store(&hub->slots[i].pid, pid);
			atomic_store(&hub->slots[i].seq_pending, 0);
			atomic_store(&hub->slots[i].thread_id, 0);
			return i;
		}
	}
	return -1;
}

/* Record the pid of the worker in a slot. */
void
hub_slot_set_pid(int slot, pid_t pid)
{
	atomic_store(&hub->slots[slot].pid, pid);
}

/* The pid of the worker in a slot, 0 when it has none. */
pid_t
hub_slot_pid(int slot)
{
	return atomic_load(&hub->slots[slot].pid);
}

/*
 * Free a dead worker's slot, finishing its pending number.  The master
 * calls it only once that worker's database connection is gone.
 */
void
hub_slot_release(int slot)
{
	hub_lock();
	/* Give back the hashing permits a dead worker held. */
	while (atomic_load(&hub->slots[slot].hashes_held) > 0) {
		atomic_fetch_sub(&hub->slots[slot].hashes_held, 1);
		sem_post(&hub->hash_sem);
	}
	atomic_store(&hub->slots[slot].seq_pending, 0);
	atomic_store(&hub->slots[slot].thread_id, 0);
	atomic_store(&hub->slots[slot].pid, 0);
	atomic_store(&hub->slots[slot].used, 0);
	hub_unlock();
}

/* The slot of this worker process, or -1 outside a worker. */
int
hub_self(void)
{
	return hub_self_slot;
}

/* Tell the hub which slot this process runs in. */
void
hub_set_self(int slot)
{
	hub_self_slot = slot;
}

/* Record this worker's current database connection id. */
void
hub_set_thread_id(unsigned long id)
{
	if (hub != NULL && hub_self_slot >= 0)
		atomic_store(&hub->slots[hub_self_slot].thread_id, id);
}

/* The database connection id of the worker in a slot. */
unsigned long
hub_thread_id(int slot)
{
	return atomic_load(&hub->slots[slot].thread_id);
}

/* The number a slot's open transaction drew first, 0 if none. */
uint64_t
hub_seq_pending(int slot)
{
	return atomic_load(&hub->slots[slot].seq_pending);
}

/* Whether the counter has been resumed from the database yet. */
int
hub_seq_ready(void)
{
	int	ready;

	hub_lock();
	ready = hub->seq_ready;
	hub_unlock();
	return ready;
}

/* Resume the counter above value (the largest number in the database). */
void
hub_seq_start(uint64_t value)
{
	hub_lock();
	if (!hub->seq_ready || value > hub->seq_last)
		hub->seq_last = value;
	hub->seq_ready = 1;
	hub_unlock();
}

/* Draw the next number for this worker's open transaction; 0 if not ready. */
uint64_t
hub_seq_draw(void)
{
	struct hub_slot	*s = &hub->slots[hub_self_slot];
	uint64_t	 n = 0;

	hub_lock();
	if (hub->seq_ready) {
		n = ++hub->seq_last;
		if (atomic_load(&s->seq_pending) == 0)
			atomic_store(&s->seq_pending, n);
	}
	hub_unlock();
	return n;
}

/*
 * Finish the numbers a slot's transaction drew (committed or not).
 * Returns 1 when a later number had been drawn meanwhile, so that
 * finishing may move the watermark past events already announced.
 */
int
hub_seq_finish(int slot)
{
	uint64_t	pending;
	int		later;

	hub_lock();
	pending = atomic_load(&hub->slots[slot].seq_pending);
	later = pending != 0 && pending < hub->seq_last;
	atomic_store(&hub->slots[slot].seq_pending, 0);
	hub_unlock();
	return later;
}

/* The last number drawn; 0 before the counter was resumed. */
uint64_t
hub_seq_last(void)
{
	uint64_t	last;

	hub_lock();
	last = hub->seq_ready ? hub->seq_last : 0;
	hub_unlock();
	return last;
}

/* The watermark: every number at or below it is finished. */
uint64_t
hub_seq_watermark(void)
{
	uint64_t	wm, p;
	int		i;

	hub_lock();
	wm = hub->seq_last;
	for (i = 0; i < HUB_SLOTS; i++) {
		p = atomic_load(&hub->slots[i].seq_pending);
		if (p != 0 && p - 1 < wm)
			wm = p - 1;
	}
	hub_unlock();
	return wm;
}

/* Wait up to ms for a password-hashing permit; 0, or -1 when none came. */
int
hub_hash_acquire(int ms)
{
	struct timespec	ts;

	if (hub == NULL || hub_self_slot < 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (sem_timedwait(&hub->hash_sem, &ts) == -1) {
		if (errno != EINTR)
			return -1;
	}
	atomic_fetch_add(&hub->slots[hub_self_slot].hashes_held, 1);
	return 0;
}

/* Give back a password-hashing permit. */
void
hub_hash_release(void)
{
	if (hub == NULL || hub_self_slot < 0)
		return;
	atomic_fetch_sub(&hub->slots[hub_self_slot].hashes_held, 1);
	sem_post(&hub->hash_sem);
}

/* The eventfd that wakes the worker in a slot. */
int
hub_wake_fd(int slot)
{
	return hub->slots[slot].wake_fd;
}

/*
 * Wake every worker (each reads the ring and its watermark again).  The
 * calling worker does not signal itself: it notes that it must look
 * (hub_self_woken()) before it next sleeps, which saves a write, a wake
 * of its own epoll and a read per change it makes.
 */
void
hub_wake_all(void)
{
	uint64_t	one = 1;
	int		i;

	for (i = 0; i < HUB_SLOTS; i++) {
		if (!atomic_load(&hub->slots[i].used))
			continue;
		if (i == hub_self_slot) {
			hub_self_wake = 1;
			continue;
		}
		if (write(hub->slots[i].wake_fd, &one, sizeof one) == -1 &&
		    errno != EAGAIN)
			log_warn("%s: eventfd", __func__);
	}
}

/* 1 once after this worker woke everyone, itself included; then 0. */
int
hub_self_woken(void)
{
	int	woken = hub_self_wake;

	hub_self_wake = 0;
	return woken;
}

/* Publish entries into the ring and wake every worker. */
void
hub_publish(const struct hub_entry *entries, size_t n)
{
	uint64_t	now = clock_ns(), events = 0;
	size_t		i;

	if (hub == NULL || n == 0)
		return;
	hub_lock();
	for (i = 0; i < n; i++) {
		hub->ring[hub->ring_head % HUB_RING] = entries[i];
		hub->ring[hub->ring_head++ % HUB_RING].published_ns = now;
		if (!(entries[i].flags & HUB_USER))
			events++;
	}
	hub_unlock();
	/* Account changes travel the ring too, but are no events. */
	atomic_fetch_add(&hub->stats.events_published, events);
	hub_wake_all();
}

/* The ring position a new reader starts from. */
uint64_t
hub_ring_head(void)
{
	uint64_t	head;

	hub_lock();
	head = hub->ring_head;
	hub_unlock();
	return head;
}

/*
 * Copy up to max entries after *pos into out and advance *pos.  Returns
 * the number copied, or -1 when the reader fell more than a ring behind
 * (then *pos jumps to the head and the caller must re-read everything).
 */
long
hub_read(uint64_t *pos, struct hub_entry *out, size_t max)
{
	size_t	n = 0;

	hub_lock();
	if (hub->ring_head - *pos > HUB_RING) {
		*pos = hub->ring_head;
		hub_unlock();
		return -1;
	}
	while (*pos < hub->ring_head && n < max)
		out[n++] = hub->ring[(*pos)++ % HUB_RING];
	hub_unlock();
	return (long)n;
}

/*
 * Whether this worker runs the periodic jobs (retention, clean-up, the
 * cluster watcher): one worker per host holds the part, and another takes
 * it over when that one has died.
 */
int
hub_is_keeper(void)
{
	pid_t	keeper, self = getpid();

	keeper = atomic_load(&hub->keeper_pid);
	if (keeper == self)
		return 1;
	if (keeper != 0 && kill(keeper, 0) == 0)
		return 0;
	return atomic_compare_exchange_strong(&hub->keeper_pid, &keeper, self);
}

/* The shared counters, for /metrics. */
struct hub_stats *
hub_stats(void)
{
	return hub != NULL ? &hub->stats : NULL;
}
