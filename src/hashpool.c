/* SPDX-License-Identifier: ISC */
/*
 * hashpool.c: password hashing off the event loop.  scrypt takes a third
 * of a second and 128 MiB at its default strength; run inside a worker's
 * loop it stalls every request and parked poll that worker holds.  A
 * handler submits a job instead (hash a password, verify one against a
 * stored hash, or the dummy verification of an unknown user) with a
 * completion callback, and the request stays open, as a send waiting for
 * its batch does (sendbatch.c).  One of the worker's hashing threads
 * computes; it puts the finished job on a list and writes the pool's
 * eventfd, which the loop watches; the loop then runs the callback, which
 * does the database work and answers.  Only scrypt runs in the threads:
 * they touch no request, no database connection, nothing of the loop.
 *
 * The queue is bounded (hash_queue jobs waiting or running per worker): a
 * job beyond it is refused at once and its handler answers 503 with
 * Retry-After, instead of clients waiting seconds for a hash while the
 * memory of their requests piles up.  The hub's semaphore still bounds
 * the hashes running at once on the host (max_hashes), as each costs its
 * memory; a thread waits for a permit, the loop never does.  The threads
 * run at a lower priority than the loops, so that a flood of sign-ins
 * takes the CPU the rest of the host leaves over.
 *
 * A client that goes away while its job waits or runs: its connection is
 * watched, as a parked poll's is; the request is finished (499) at once,
 * a job still waiting is dropped, a running one finishes and is freed
 * without its callback.  A stopping worker answers the waiting jobs 503
 * and lets the running ones finish (its loop runs until every request is
 * answered).
 *
 * Locking: hashpool_lock guards the waiting queue, the finished list and
 * each job's state.  A thread touches a job's input and result only while
 * the job is HASHPOOL_RUNNING, which the loop never frees; everything else
 * (req, the watch, the callback) belongs to the loop thread.  A job is
 * freed only after the round of epoll events in which it ended
 * (hashpool_reap()), since an event of that round may still name it.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"

#define HASHPOOL_NICE		10	/* the threads' nice value */

enum hashpool_state {
	HASHPOOL_WAITING,
	HASHPOOL_RUNNING,
	HASHPOOL_FINISHED
};

struct hashpool_job {
	struct watch		 watch;		/* first: the connection */
	struct request		*req;		/* NULL once it is answered */
	int			 watched;	/* the connection is in epoll */
	enum hashpool_state	 state;		/* under hashpool_lock */
	enum hashpool_op	 op;
	char			*password;
	size_t			 len;
	char			*stored;	/* HASHPOOL_VERIFY */
	struct hashpool_result	 result;
	void			(*done)(struct request *,
				    struct hashpool_result *, void *);
	void			*arg;
	TAILQ_ENTRY(hashpool_job) entry;
};
TAILQ_HEAD(hashpool_list, hashpool_job);

static pthread_mutex_t		 hashpool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 hashpool_cond = PTHREAD_COND_INITIALIZER;
static struct hashpool_list	 hashpool_waiting =
    TAILQ_HEAD_INITIALIZER(hashpool_waiting);
static struct hashpool_list	 hashpool_finished =
    TAILQ_HEAD_INITIALIZER(hashpool_finished);
static int			 hashpool_quit;

/* The loop thread's own. */
static struct hashpool_list	 hashpool_dead =
    TAILQ_HEAD_INITIALIZER(hashpool_dead);
static size_t			 hashpool_jobs;	/* submitted, not ended */
static pthread_t		*hashpool_threads;
static int			 hashpool_nthreads;
static int			 hashpool_fd = -1;
static int			 hashpool_epfd = -1;	/* the worker's epoll */
static int			 hashpool_stopping;	/* no new jobs */

static void	 hashpool_ready(struct watch *);
static struct watch hashpool_watch = { hashpool_ready };

/* Run one job's scrypt work (in a hashing thread). */
static void
hashpool_compute(struct hashpool_job *job)
{
	struct hashpool_result	*r = &job->result;

	switch (job->op) {
	case HASHPOOL_HASH:
		r->hash = password_hash(job->password, job->len);
		r->match = r->hash != NULL ? 1 : -1;
		break;
	case HASHPOOL_VERIFY:
		r->match = password_verify(job->password, job->len,
		    job->stored, &r->upgrade);
		break;
	case HASHPOOL_DUMMY:
		password_dummy(job->password, job->len);
		r->match = 0;
		break;
	}
}

/* A hashing thread: take waiting jobs until told to quit. */
static void *
hashpool_thread(void *unused)
{
	struct hashpool_job	*job;
	uint64_t		 one = 1;
	int			 nice_now;

	(void)unused;
	/*
	 * On Linux the nice value is the calling thread's.  A sohbetd
	 * started nicer than that already (under nice) leaves it: raising
	 * a priority needs a privilege it does not have.
	 */
	errno = 0;
	nice_now = getpriority(PRIO_PROCESS, 0);
	if ((errno != 0 || nice_now < HASHPOOL_NICE) &&
	    setpriority(PRIO_PROCESS, 0, HASHPOOL_NICE) == -1)
		log_warn("%s: setpriority", __func__);
	pthread_mutex_lock(&hashpool_lock);
	for (;;) {
		while (!hashpool_quit && TAILQ_EMPTY(&hashpool_waiting))
			pthread_cond_wait(&hashpool_cond, &hashpool_lock);
		if ((job = TAILQ_FIRST(&hashpool_waiting)) == NULL)
			break;
		TAILQ_REMOVE(&hashpool_waiting, job, entry);
		job->state = HASHPOOL_RUNNING;
		pthread_mutex_unlock(&hashpool_lock);
		hashpool_compute(job);
		pthread_mutex_lock(&hashpool_lock);
		job->state = HASHPOOL_FINISHED;
		TAILQ_INSERT_TAIL(&hashpool_finished, job, entry);
		if (write(hashpool_fd, &one, sizeof one) == -1 &&
		    errno != EAGAIN)
			log_warn("%s: eventfd", __func__);
	}
	pthread_mutex_unlock(&hashpool_lock);
	return NULL;
}

/*
 * Start the worker's hashing threads and watch their eventfd, and the
 * connections of the requests that wait, in the worker's epoll instance
 * epfd.  Call it in the worker, after fork.
 */
void
hashpool_start(int epfd)
{
	struct epoll_event	ev;
	int			i, rc;

	hashpool_epfd = epfd;
	if ((hashpool_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("hashpool: eventfd");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = &hashpool_watch;
	if (epoll_ctl(hashpool_epfd, EPOLL_CTL_ADD, hashpool_fd, &ev) == -1)
		fatal("hashpool: epoll_ctl");
	hashpool_nthreads = cfg->hash_threads;
	hashpool_threads = xcalloc((size_t)hashpool_nthreads,
	    sizeof *hashpool_threads);
	for (i = 0; i < hashpool_nthreads; i++) {
		if ((rc = pthread_create(&hashpool_threads[i], NULL,
		    hashpool_thread, NULL)) != 0)
			fatalx("hashpool: pthread_create: %s", strerror(rc));
	}
}

/* Stop watching a job's connection. */
static void
hashpool_unwatch(struct hashpool_job *job)
{
	if (!job->watched)
		return;
	request_unwatch(job->req, hashpool_epfd);
	job->watched = 0;
}

/*
 * A job has ended (delivered, dropped or refused): it leaves the count
 * and waits in the dead list for hashpool_reap().
 */
static void
hashpool_end(struct hashpool_job *job)
{
	hashpool_jobs--;
	TAILQ_INSERT_TAIL(&hashpool_dead, job, entry);
}

/*
 * The client of a waiting or running job went away: finish its request
 * now, without an answer, and drop the job if no thread has it yet.
 */
static void
hashpool_closed(struct watch *w)
{
	struct hashpool_job	*job = (struct hashpool_job *)w;
	struct request		*req = job->req;
	int			 waiting;

	if (req == NULL)
		return;
	hashpool_unwatch(job);
	job->req = NULL;
	pthread_mutex_lock(&hashpool_lock);
	if ((waiting = job->state == HASHPOOL_WAITING))
		TAILQ_REMOVE(&hashpool_waiting, job, entry);
	pthread_mutex_unlock(&hashpool_lock);
	if (waiting)
		hashpool_end(job);
	req->waiting = REQUEST_RUNNING;
	req->status = 499;
	request_done(req);
}

/*
 * Hand a job to the pool: 0, the request is now the pool's until the
 * callback ran (which answers it, or submits again), or -1 when the
 * queue is full or the worker stops; the caller answers then
 * (response_busy()).  The password, the stored hash and arg (arg_size
 * bytes) are copied; the pool frees its copies when the job ends.
 */
int
hashpool_submit(struct request *req, const struct hashpool_task *t)
{
	struct hashpool_job	*job;

	if (hashpool_fd == -1 || hashpool_stopping ||
	    hashpool_jobs >= (size_t)cfg->hash_queue)
		return -1;
	job = xcalloc(1, sizeof *job);
	job->watch.ready = hashpool_closed;
	job->req = req;
	job->op = t->op;
	job->password = xstrndup(t->password, t->len);
	job->len = t->len;
	job->stored = t->stored != NULL ? xstrdup(t->stored) : NULL;
	job->done = t->done;
	if (t->arg != NULL) {
		job->arg = xmalloc(t->arg_size);
		memcpy(job->arg, t->arg, t->arg_size);
	}
	job->watched = request_watch(req, hashpool_epfd, &job->watch) == 0;
	req->waiting = REQUEST_QUEUED;
	hashpool_jobs++;
	pthread_mutex_lock(&hashpool_lock);
	job->state = HASHPOOL_WAITING;
	TAILQ_INSERT_TAIL(&hashpool_waiting, job, entry);
	pthread_cond_signal(&hashpool_cond);
	pthread_mutex_unlock(&hashpool_lock);
	return 0;
}

/* A finished job's callback, as request_run() runs it. */
static void
hashpool_callback(struct request *req, void *arg)
{
	struct hashpool_job	*job = arg;

	job->done(req, &job->result, job->arg);
}

/*
 * Run a finished job's callback and close its request, unless gone.  The
 * callback is the rest of a handler: run again after a conflict as one.
 */
static void
hashpool_deliver(struct hashpool_job *job)
{
	struct request	*req = job->req;

	hashpool_end(job);
	if (req == NULL)
		return;
	hashpool_unwatch(job);
	job->req = NULL;
	req->waiting = REQUEST_RUNNING;
	request_run(req, hashpool_callback, job);
	/* Answered, or handed to the pool again (then it ends later). */
	if (req->waiting == REQUEST_RUNNING)
		request_done(req);
}

/* The eventfd fired: deliver every finished job. */
static void
hashpool_ready(struct watch *w)
{
	struct hashpool_list	 done = TAILQ_HEAD_INITIALIZER(done);
	struct hashpool_job	*job;
	uint64_t		 count;

	(void)w;
	if (read(hashpool_fd, &count, sizeof count) == -1 && errno != EAGAIN)
		log_warn("%s: eventfd", __func__);
	pthread_mutex_lock(&hashpool_lock);
	TAILQ_CONCAT(&done, &hashpool_finished, entry);
	pthread_mutex_unlock(&hashpool_lock);
	while ((job = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, job, entry);
		hashpool_deliver(job);
	}
}

/*
 * The worker stops: answer the jobs no thread has taken yet 503 at once;
 * the running ones finish and are answered as usual.
 */
void
hashpool_stop(void)
{
	struct hashpool_list	 waiting = TAILQ_HEAD_INITIALIZER(waiting);
	struct hashpool_job	*job;
	struct request		*req;

	hashpool_stopping = 1;
	pthread_mutex_lock(&hashpool_lock);
	TAILQ_CONCAT(&waiting, &hashpool_waiting, entry);
	pthread_mutex_unlock(&hashpool_lock);
	while ((job = TAILQ_FIRST(&waiting)) != NULL) {
		TAILQ_REMOVE(&waiting, job, entry);
		req = job->req;
		hashpool_unwatch(job);
		job->req = NULL;
		hashpool_end(job);
		req->waiting = REQUEST_RUNNING;
		response_busy(req);
		request_done(req);
	}
}

/* Free the jobs that ended during the last round of events. */
void
hashpool_reap(void)
{
	struct hashpool_job	*job;

	while ((job = TAILQ_FIRST(&hashpool_dead)) != NULL) {
		TAILQ_REMOVE(&hashpool_dead, job, entry);
		OPENSSL_cleanse(job->password, job->len);
		free(job->password);
		free(job->stored);
		free(job->result.hash);
		free(job->arg);
		free(job);
	}
}

/* Let the threads finish and join them (the worker exits). */
void
hashpool_join(void)
{
	int	i;

	pthread_mutex_lock(&hashpool_lock);
	hashpool_quit = 1;
	pthread_cond_broadcast(&hashpool_cond);
	pthread_mutex_unlock(&hashpool_lock);
	for (i = 0; i < hashpool_nthreads; i++)
		pthread_join(hashpool_threads[i], NULL);
	free(hashpool_threads);
	hashpool_threads = NULL;
	hashpool_nthreads = 0;
	hashpool_ready(&hashpool_watch);
	hashpool_reap();
}
