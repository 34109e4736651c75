/* SPDX-License-Identifier: ISC */
/*
 * worker.c: one worker process, a single-threaded epoll loop over the
 * shared listen socket (EPOLLEXCLUSIVE, so one worker wakes per
 * connection), its signals and its open requests.  A normal request is
 * read, handled and answered in one go; a send is answered once the others
 * taken from the listen queue with it are handled too, and written with
 * them (sendbatch.c); a request that parks stays open in the worker's
 * tables while the loop goes on, and so does one whose password is being
 * hashed by the worker's hashing threads (hashpool.c).  A connection nginx
 * keeps open for its next request (fastcgi_keep_conn) is watched while
 * idle and read again when that request comes, so that a crowd of
 * clients polling again does not make one new connection each.  Every
 * descriptor in the loop carries its own ready() callback: the loop only
 * calls it.
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"

#define WORKER_ACCEPT_BATCH	32
#define WORKER_EVENTS		64
#define WORKER_DRAIN_MS		300
#define WORKER_STARVED_MS	100	/* out of fds: look for a free one */
#define WORKER_SHARE_SLACK	32	/* connections over an even share */
#define WORKER_YIELD_MS		5	/* ... leave the queue to the others */
#define WORKER_LOOK_EVERY	16	/* events between looks at the queue */

/*
 * A connection nginx keeps open between requests (fastcgi_keep_conn): in
 * the epoll set under its conn's watch from the end of its first request
 * until it closes, idle (on worker_idle, heard by the worker) until nginx
 * sends its next request on it or closes it, then heard by whoever its
 * request has wait on it (request_watch()).  Freed after the round of
 * epoll events that closed it, which may still name it.
 */
struct worker_kept {
	struct request_conn	 conn;		/* first: epoll hands it back */
	struct watch		 idle_watch;	/* heard while idle */
	int			 idle;		/* on worker_idle */
	TAILQ_ENTRY(worker_kept) entry;	/* worker_idle or worker_closed */
};
TAILQ_HEAD(worker_kept_list, worker_kept);

static void	 worker_accept_some(int);
static void	 worker_listen_ready(struct watch *);
static void	 worker_signal_ready(struct watch *);
static void	 worker_wake_ready(struct watch *);
static void	 worker_idle_ready(struct watch *);

struct worker		*worker;
static struct worker	 worker_state;
static struct watch	 watch_listen = { worker_listen_ready };
static struct watch	 watch_signal = { worker_signal_ready };
static struct watch	 watch_wake = { worker_wake_ready };
static struct worker_kept_list worker_idle =
    TAILQ_HEAD_INITIALIZER(worker_idle);
static struct worker_kept_list worker_closed =
    TAILQ_HEAD_INITIALIZER(worker_closed);
static long		 worker_idle_count;

/* Drop root privileges to the configured user, if any. */
static void
worker_drop_privileges(void)
{
	struct passwd	*pw;

	if (cfg->user == NULL || getuid() != 0)
		return;
	if ((pw = getpwnam(cfg->user)) == NULL)
		fatalx("unknown user %s", cfg->user);
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
		fatal("dropping privileges to %s", cfg->user);
}

/* Route signals to a signalfd: SIGTERM and SIGINT stop the worker. */
static int
worker_signals(void)
{
	sigset_t	mask;
	int		fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	return fd;
}

/* Add a file descriptor to the loop. */
static void
worker_watch(int fd, uint32_t events, struct watch *w)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.ptr = w;
	if (epoll_ctl(worker->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		fatal("epoll_ctl");
}

/* Watch the listen socket, unless the loop does already. */
static void
worker_listen_on(void)
{
	if (worker->listening)
		return;
	worker_watch(worker->listen_fd, EPOLLIN | EPOLLEXCLUSIVE,
	    &watch_listen);
	worker->listening = 1;
}

/* Stop watching the listen socket; connections wait in its queue. */
static void
worker_listen_off(void)
{
	if (!worker->listening)
		return;
	if (epoll_ctl(worker->epfd, EPOLL_CTL_DEL, worker->listen_fd,
	    NULL) == -1)
		fatal("epoll_ctl");
	worker->listening = 0;
}

/*
 * accept() found no descriptor free (EMFILE, ENFILE).  The connection
 * stays in the queue and the level-triggered listen socket would wake
 * the loop again at once, round and round at full speed: instead stop
 * watching it, as tmux's server does, until worker_accept_resume() finds
 * a descriptor free.  Said once per episode of shortage.
 */
static void
worker_accept_starved(int err)
{
	if (worker->starved_since == 0) {
		worker->starved_since = clock_ms();
		log_warnx("accept: %s; not accepting until a descriptor is "
		    "free (looking every %d ms)", strerror(err),
		    WORKER_STARVED_MS);
	}
	worker_listen_off();
	worker->accept_resume = clock_ms() + WORKER_STARVED_MS;
}

/*
 * Every WORKER_STARVED_MS of a shortage, see whether a descriptor is free
 * (a duplicate of the listen socket, closed again at once): if so, the
 * episode is over and the listen socket watched again, unless the worker
 * has stopped accepting for good meanwhile.
 */
static void
worker_accept_resume(void)
{
	int	fd;

	if (worker->accept_resume == 0 || clock_ms() < worker->accept_resume)
		return;
	if (worker->yielding) {
		/*
		 * One that still waits, no other worker took meanwhile:
		 * take it (one, since the others may just be busy).
		 */
		worker->yielding = 0;
		worker->accept_resume = 0;
		if (worker->stopping && worker->drain_until == 0)
			return;
		worker_listen_on();
		worker_accept_some(1);
		return;
	}
	if ((fd = fcntl(worker->listen_fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		worker->accept_resume = clock_ms() + WORKER_STARVED_MS;
		return;
	}
	close(fd);
	log_info("accept: descriptors free again after %lld ms",
	    clock_ms() - worker->starved_since);
	worker->starved_since = 0;
	worker->accept_resume = 0;
	if (!worker->stopping || worker->drain_until != 0)
		worker_listen_on();
}

/* A request of this worker ended (request_done()): one fewer open. */
static void
worker_request_done(struct request *req)
{
	(void)req;
	worker->active--;
}

/*
 * Make fd non-blocking; 0 if it was already, 1 if the flag had to be set.
 * A listen socket's O_NONBLOCK is a flag of its file description, shared
 * by every process holding the socket: one that clears it (a supervisor
 * handing it to another command, say) would leave the workers asleep in
 * accept() once another worker took the connection.
 */
int
worker_nonblocking(int fd)
{
	int	flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1)
		fatal("fcntl F_GETFL");
	if (flags & O_NONBLOCK)
		return 0;
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal("fcntl F_SETFL");
	return 1;
}

/*
 * Write the sends that wait for a batch (sendbatch.c), the reactions
 * (reactbatch.c) and the acks (ackbatch.c): once the requests taken
 * together are handled.
 */
static void
worker_flush(void)
{
	sendbatch_flush();
	reactbatch_flush();
	ackbatch_flush();
}

/*
 * Read, route and handle a request just accepted (or read on a kept
 * connection); a parked or queued one ends later, elsewhere.
 */
static void
worker_serve(struct request *req)
{
	worker->active++;
	req->worker = worker;
	request_read(req);
	router_dispatch(req);
	if (req->waiting == REQUEST_RUNNING)
		request_done(req);
}

/*
 * Whether this worker holds more than an even share of the host's
 * connections from nginx (its parked polls and idle kept connections,
 * as the hub counts them for /metrics) and WORKER_SHARE_SLACK.  nginx
 * keeps a connection for as long as it is used, so the share a worker
 * took when a crowd of long-polls came stays its share: with
 * EPOLLEXCLUSIVE waking whichever worker waits first, 9,000 polls
 * parked 6,000 and 3,000 (issue 22), and the fuller worker paced the
 * typing hints of twice the clients (poll_hurry()) and fell behind
 * with their requests.
 */
static int
worker_over_share(void)
{
	struct hub_stats	*st = hub_stats();
	uint64_t		 mine, total = 0;
	int			 i, n = config_workers(cfg);

	if (n < 2 || st == NULL)
		return 0;
	for (i = 0; i < HUB_SLOTS; i++)
		total += atomic_load(&st->parked[i]) +
		    atomic_load(&st->idle[i]);
	mine = atomic_load(&st->parked[worker->slot]) +
	    atomic_load(&st->idle[worker->slot]);
	return mine * (uint64_t)n > total + WORKER_SHARE_SLACK * (uint64_t)n;
}

/*
 * Leave the listen queue to the other workers for WORKER_YIELD_MS: a
 * worker over its share stops watching the socket, and takes one
 * connection still waiting when it looks again (worker_accept_resume()),
 * so that the queue moves on, if slowly, when no other worker comes.
 */
static void
worker_accept_yield(void)
{
	worker_listen_off();
	worker->yielding = 1;
	worker->accept_resume = clock_ms() + WORKER_YIELD_MS;
}

/*
 * Accept and handle the connections waiting on the listen socket, then
 * write the sends among them together (worker_flush()): the first
 * `anyway` of them in any case, and the others while this worker holds
 * no more than its share (worker_over_share()).  The socket is made
 * non-blocking again first if another process cleared the flag.
 */
static void
worker_accept_some(int anyway)
{
	struct request	*req;
	int		 i, rc;

	if (worker_nonblocking(worker->listen_fd))
		log_warnx("the listen socket was made blocking by another "
		    "process; made it non-blocking again");
	for (i = 0; i < WORKER_ACCEPT_BATCH; i++) {
		if (i >= anyway && !worker->stopping && worker_over_share()) {
			worker_accept_yield();
			break;
		}
		req = request_new(worker->listen_fd);
		if ((rc = request_accept(req)) < 0) {
			if (rc == -EMFILE || rc == -ENFILE)
				worker_accept_starved(-rc);
			else if (rc != -EAGAIN && rc != -EWOULDBLOCK &&
			    rc != -EINTR)
				log_warnx("accept: %s", strerror(-rc));
			request_free(req);
			break;
		}
		worker_serve(req);
	}
	worker_flush();
}

/* Accept and handle the connections waiting, this worker's share. */
static void
worker_accept(void)
{
	worker_accept_some(0);
}

/*
 * Take the connections waiting on the listen socket now, whether or not
 * epoll has named the socket yet (worker_main() looks before a round's
 * events and after every WORKER_LOOK_EVERY of them).  epoll hands back
 * its ready descriptors in the order they became ready, WORKER_EVENTS a
 * round: in a storm of typing hundreds of kept connections' polls are
 * ready before the listen socket, on which every request but a poll
 * comes (nginx keeps only the connections of /events), and a typing
 * POST waited behind them for rounds, up to 350 ms (docs/benchmarks.md,
 * issue 22).  An empty queue costs an accept() that fails with EAGAIN.
 * Not while the worker leaves the queue to the others, nor when it has
 * no descriptor free, nor once it has stopped accepting.
 */
static void
worker_accept_waiting(void)
{
	if (worker->listening)
		worker_accept();
}

/* A kept connection is idle no more: its request runs, or it closed. */
static void
worker_kept_busy(struct worker_kept *k)
{
	if (!k->idle)
		return;
	TAILQ_REMOVE(&worker_idle, k, entry);
	k->idle = 0;
	metrics_idle(--worker_idle_count);
	request_conn_hear(&k->conn, NULL);
}

/*
 * A kept connection was closed (which took it out of the epoll set): its
 * memory goes after the round.
 */
static void
worker_kept_closed(struct worker_kept *k)
{
	if (k->conn.fd == -1)
		return;
	worker_kept_busy(k);
	k->conn.fd = -1;
	TAILQ_INSERT_TAIL(&worker_closed, k, entry);
}

/*
 * A request ended on a connection nginx keeps open (request_on_idle()):
 * watch it for the next one.  One kept already (conn) stays in the epoll
 * set under the same watch and is heard by the worker again, with no
 * system call; another joins the set, with a change of its watch when it
 * is in it already (a parked poll's, registered), else an addition.  A
 * stopping worker closes it instead, and so does one whose epoll cannot
 * take it.  fd -1: the end of the request on conn closed it.
 */
static void
worker_keep(int fd, int registered, struct request_conn *conn)
{
	struct worker_kept	*k = (struct worker_kept *)conn;
	struct epoll_event	 ev;

	if (fd == -1 || worker->stopping) {
		if (fd != -1)
			close(fd);
		if (k != NULL)
			worker_kept_closed(k);
		return;
	}
	if (k == NULL) {
		k = xcalloc(1, sizeof *k);
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = &k->conn.watch;
		if (epoll_ctl(worker->epfd, registered ? EPOLL_CTL_MOD :
		    EPOLL_CTL_ADD, fd, &ev) == -1) {
			log_warn("%s: epoll_ctl", __func__);
			close(fd);
			free(k);
			return;
		}
		request_conn_init(&k->conn, fd, worker->epfd);
		k->idle_watch.ready = worker_idle_ready;
	}
	request_conn_hear(&k->conn, &k->idle_watch);
	k->idle = 1;
	TAILQ_INSERT_TAIL(&worker_idle, k, entry);
	metrics_idle(++worker_idle_count);
}

/*
 * An idle connection became readable: nginx sent its next request on
 * it, which is read and handled as if just accepted, or closed it (an
 * end of file), which closes it here too.  A wake-up with nothing to
 * read leaves it idle.
 */
static void
worker_idle_ready(struct watch *w)
{
	struct worker_kept	*k = (struct worker_kept *)((char *)w -
				    offsetof(struct worker_kept, idle_watch));
	struct request		*req;
	ssize_t			 n;
	char			 c;

	if (!k->idle)
		return;
	n = recv(k->conn.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	worker_kept_busy(k);
	if (n <= 0) {
		close(k->conn.fd);
		worker_kept_closed(k);
		return;
	}
	req = request_new(-1);
	if (request_accept_kept(req, k->conn.fd) < 0) {
		/* Not a request: libfcgi closed the connection. */
		log_warnx("a kept FastCGI connection sent no request; closed");
		request_free(req);
		worker_kept_closed(k);
		return;
	}
	req->conn = &k->conn;
	metrics_kept_request();
	worker_serve(req);
}

/*
 * The worker stops: handle what nginx already sent on idle connections
 * (answered, then closed), and close the others.
 */
static void
worker_idle_close_all(void)
{
	struct worker_kept	*k;

	while ((k = TAILQ_FIRST(&worker_idle)) != NULL) {
		worker_idle_ready(&k->idle_watch);
		if (k->idle) {
			close(k->conn.fd);
			worker_kept_closed(k);
		}
	}
}

/* Free the kept connections closed during the last round of events. */
static void
worker_idle_reap(void)
{
	struct worker_kept	*k;

	while ((k = TAILQ_FIRST(&worker_closed)) != NULL) {
		TAILQ_REMOVE(&worker_closed, k, entry);
		free(k);
	}
}

/* Handle the signals the worker received. */
static void
worker_signal(void)
{
	struct signalfd_siginfo	si;

	while (read(worker->signal_fd, &si, sizeof si) == sizeof si) {
		if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) &&
		    !worker->stopping) {
			log_debug("worker %d: stopping", worker->slot);
			worker->stopping = 1;
			/*
			 * Keep accepting a moment: connections nginx made
			 * before the master removed the socket may still sit
			 * in its queue, and closing would reset them.
			 */
			worker->drain_until = clock_ms() + WORKER_DRAIN_MS;
			/* Parked polls get their empty answer now. */
			poll_stop_all();
			/* Hashes not started yet are answered 503. */
			hashpool_stop();
		}
	}
}

/* The listen socket has connections waiting. */
static void
worker_listen_ready(struct watch *w)
{
	(void)w;
	worker_accept();
}

/* The signalfd has signals to read. */
static void
worker_signal_ready(struct watch *w)
{
	(void)w;
	worker_signal();
}

/* Another worker (or the watcher) published entries into the hub ring. */
static void
worker_wake_ready(struct watch *w)
{
	(void)w;
	poll_wake();
}

/* The sooner of two epoll timeouts in ms, where -1 is never. */
static int
worker_sooner(int a, int b)
{
	if (a == -1)
		return b;
	if (b == -1)
		return a;
	return a < b ? a : b;
}

/*
 * How long epoll may sleep: until the next deadline, periodic job, look
 * at a draining queue or end of an accept pause.
 */
static int
worker_timeout(void)
{
	long long	left;
	int		ms;

	if (worker->drain_until != 0)
		ms = WORKER_DRAIN_MS / 10;
	else
		ms = worker_sooner(worker_sooner(poll_next_timeout(),
		    keeper_next_ms()), history_handler_next_ms());
	if (worker->accept_resume != 0) {
		left = worker->accept_resume - clock_ms();
		ms = worker_sooner(ms, left > 0 ? (int)left : 0);
	}
	return ms;
}

/* Run a worker in the given hub slot until it is told to stop. */
void
worker_main(int slot, int listen_fd)
{
	struct epoll_event	evs[WORKER_EVENTS];
	struct watch		*w;
	int			n, i;

	worker = &worker_state;
	memset(worker, 0, sizeof *worker);
	worker->slot = slot;
	worker->listen_fd = listen_fd;
	hub_set_self(slot);
	worker->signal_fd = worker_signals();
	worker_drop_privileges();
	if ((worker->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	events_init();
	request_on_done(worker_request_done);
	request_on_idle(worker_keep);
	sendbatch_init();
	reactbatch_init();
	ackbatch_init();
	api_metrics_init(router_at);
	poll_init(worker->epfd);
	hashpool_start(worker->epfd);
	worker_listen_on();
	worker_watch(worker->signal_fd, EPOLLIN, &watch_signal);
	worker_watch(hub_wake_fd(slot), EPOLLIN, &watch_wake);
	if (db_connect() == -1)
		log_warnx("worker %d: database unavailable at start", slot);
	log_debug("worker %d: ready", slot);

	while (!worker->stopping || worker->active > 0 ||
	    worker->drain_until != 0) {
		n = epoll_wait(worker->epfd, evs, WORKER_EVENTS,
		    worker_timeout());
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			if (i % WORKER_LOOK_EVERY == 0)
				worker_accept_waiting();
			w = evs[i].data.ptr;
			w->ready(w);
		}
		/* Sends read on kept connections. */
		worker_flush();
		poll_expire();
		poll_reap();
		hashpool_reap();
		history_handler_idle();
		worker_idle_reap();
		worker_accept_resume();
		if (worker->drain_until != 0 &&
		    clock_ms() >= worker->drain_until) {
			/* Whatever is still queued, take it, then close. */
			worker_accept_some(WORKER_ACCEPT_BATCH);
			worker_idle_close_all();
			worker_flush();
			worker_listen_off();
			worker->drain_until = 0;
		}
		if (!worker->stopping)
			keeper_run();
		/* This worker's own changes, before it sleeps again. */
		while (hub_self_woken())
			poll_woken();
	}
	hashpool_join();
	db_disconnect();
	log_debug("worker %d: stopped", slot);
	exit(0);
}
