/* SPDX-License-Identifier: ISC */
/*
 * master.c: the sohbetd master.  It reads the configuration, opens (or
 * inherits on fd 0) the FastCGI listen socket, sets up the hub, forks the
 * workers and keeps them running: a dead worker is replaced (with back-off
 * when it keeps dying), SIGTERM stops everything gracefully, SIGHUP re-reads
 * the configuration and replaces the workers one at a time.  It never
 * touches a request; at start-up it refuses a database whose schema is
 * older than this sohbetd.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"

#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		30000
#define QUICK_DEATH_MS		2000

enum child_state {
	CHILD_FREE,		/* slot unused by the master */
	CHILD_RUNNING,
	CHILD_RETIRING,		/* told to stop (reload or shutdown) */
	CHILD_DEAD		/* exited; its slot awaits release */
};

struct child {
	enum child_state state;
	pid_t		 pid;
	long long	 started_ms;
	int		 respawn;	/* replace it once released */
};

static struct child	 children[HUB_SLOTS];
static int		 listen_fd = -1;
static char		*listen_path;	/* unix socket we created */
static int		 stopping;
static int		 reloading;	/* slots still to replace */
static long long	 respawn_at_ms;
static long long	 release_at_ms;
static int		 backoff_ms;
static const char	*config_path;

/*
 * Give the socket at path to listen_group, if one is configured.  Who may
 * connect is who may write the socket: its owner (sohbetd's user) and
 * that group (nginx's), nobody else.
 */
static void
master_socket_group(const char *path)
{
	struct group	*gr;

	if (cfg->listen_group == NULL)
		return;
	if ((gr = getgrnam(cfg->listen_group)) == NULL)
		fatalx_config("listen_group: no group \"%s\"", cfg->listen_group);
	if (chown(path, (uid_t)-1, gr->gr_gid) == -1)
		fatal("chown %s to group %s", path, cfg->listen_group);
}

/*
 * Open a unix socket at path for FastCGI, mode 0660.  It is created with
 * that mode (the umask), and accepts nothing before listen(), so no other
 * user can connect in between.
 */
static int
master_listen_unix(const char *path)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		fatalx("%s: socket path too long", path);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	unlink(path);
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		fatal("bind %s", path);
	umask(old);
	if (chmod(path, 0660) == -1)
		fatal("chmod %s", path);
	master_socket_group(path);
	listen_path = xstrdup(path);
	return fd;
}

/* Open a TCP socket at host:port for FastCGI. */
static int
master_listen_tcp(const char *spec)
{
	struct sockaddr_in	sin;
	char			host[64];
	const char		*colon;
	int			fd, on = 1;

	colon = strrchr(spec, ':');
	if (colon == NULL || (size_t)(colon - spec) >= sizeof host)
		fatalx("listen: \"%s\" is neither a path nor host:port", spec);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		fatalx("listen: bad address %s", host);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		fatal("bind %s", spec);
	return fd;
}

/* Open the listen socket, or take the one inherited on fd 0. */
static void
master_listen(void)
{
	int		accepting = 0;
	socklen_t	len = sizeof accepting;

	if (cfg->listen == NULL) {
		if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &accepting,
		    &len) == -1 || !accepting)
			fatalx("no listen key in [server] and fd 0 is not a "
			    "listening socket");
		listen_fd = 0;
	} else if (strchr(cfg->listen, '/') != NULL)
		listen_fd = master_listen_unix(cfg->listen);
	else
		listen_fd = master_listen_tcp(cfg->listen);
	/*
	 * A deep queue: after a broadcast every client polls again at once.
	 * The kernel caps it at net.core.somaxconn (see docs/operations.md).
	 */
	if (listen_fd != 0 && listen(listen_fd, 65535) == -1)
		fatal("listen");
	if (fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) |
	    O_NONBLOCK) == -1)
		fatal("fcntl");
}

/* Do-nothing handler, so libfcgi does not install its own. */
static void
master_ignore(int sig)
{
}

/* Block the signals the master reads from a signalfd. */
static int
master_signals(void)
{
	struct sigaction	sa;
	sigset_t		mask;
	int			fd;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = master_ignore;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	return fd;
}

/* Fork a worker into a free hub slot. */
static int
master_spawn(void)
{
	pid_t	pid;
	int	slot;

	if ((slot = hub_slot_claim(0)) == -1) {
		log_warnx("no free worker slot");
		return -1;
	}
	switch (pid = fork()) {
	case -1:
		log_warn("fork");
		hub_slot_release(slot);
		return -1;
	case 0:
		log_init("sohbetd-worker", log_is_verbose());
		db_schema_require();
		worker_main(slot, listen_fd);
	default:
		break;
	}
	hub_slot_set_pid(slot, pid);
	children[slot].state = CHILD_RUNNING;
	children[slot].pid = pid;
	children[slot].started_ms = clock_ms();
	children[slot].respawn = 0;
	log_debug("worker %d started as pid %ld", slot, (long)pid);
	return slot;
}

/* Count the children in a state. */
static int
master_count(enum child_state state)
{
	int	i, n = 0;

	for (i = 0; i < HUB_SLOTS; i++)
		n += children[i].state == state;
	return n;
}

/*
 * Free a dead worker's slot.  If its transaction had drawn a number, the
 * slot is released only once its database connection is gone: KILL it and
 * wait until the server lists it no more, so no commit can land behind the
 * watermark.  0 when released, -1 to try again later.
 */
static int
master_release(int slot)
{
	unsigned long	tid = hub_thread_id(slot);
	int		rc;

	if (hub_seq_pending(slot) != 0 && tid != 0) {
		if (db_connect() == -1)
			return -1;
		rc = sequencer_kill(tid);
		db_disconnect();
		if (rc == -1)
			return -1;
		log_info("worker %d: connection %lu is gone, sequence released",
		    slot, tid);
	}
	hub_slot_release(slot);
	children[slot].state = CHILD_FREE;
	return 0;
}

/* Reap exited workers and note which must be replaced. */
static void
master_reap(void)
{
	pid_t	pid;
	int	status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < HUB_SLOTS; i++) {
			if (children[i].pid == pid)
				break;
		}
		if (i == HUB_SLOTS)
			continue;
		if (children[i].state == CHILD_RUNNING && !stopping) {
			if (WIFSIGNALED(status))
				log_warnx("worker %d (pid %ld) killed by signal "
				    "%d", i, (long)pid, WTERMSIG(status));
			else
				log_warnx("worker %d (pid %ld) exited with %d",
				    i, (long)pid, WEXITSTATUS(status));
			metrics_worker_restart();
			if (clock_ms() - children[i].started_ms <
			    QUICK_DEATH_MS)
				backoff_ms = backoff_ms == 0 ? BACKOFF_MIN_MS :
				    backoff_ms * 2 > BACKOFF_MAX_MS ?
				    BACKOFF_MAX_MS : backoff_ms * 2;
			else
				backoff_ms = 0;
			respawn_at_ms = clock_ms() + backoff_ms;
		}
		children[i].state = CHILD_DEAD;
		children[i].pid = 0;
	}
}

/* Release dead slots and start workers until the configured number run. */
static void
master_maintain(void)
{
	int	i;

	for (i = 0; i < HUB_SLOTS && clock_ms() >= release_at_ms; i++) {
		/* Without the database, try again in a second. */
		if (children[i].state == CHILD_DEAD && master_release(i) == -1)
			release_at_ms = clock_ms() + 1000;
	}
	if (stopping || clock_ms() < respawn_at_ms)
		return;
	while (master_count(CHILD_RUNNING) < config_workers(cfg) &&
	    master_spawn() != -1)
		;
}

/*
 * Retire one old worker of a reload once its replacement runs.  While
 * more run than the new configuration asks for, an old worker is retired
 * without a replacement, so a reload can also lower the count.
 */
static void
master_reload_step(void)
{
	int	i;

	if (reloading == 0 || master_count(CHILD_RETIRING) > 0)
		return;
	for (i = 0; i < HUB_SLOTS; i++) {
		if (children[i].state == CHILD_RUNNING && children[i].respawn) {
			if (master_count(CHILD_RUNNING) <= config_workers(cfg) &&
			    master_spawn() == -1)
				return;
			children[i].respawn = 0;
			children[i].state = CHILD_RETIRING;
			kill(children[i].pid, SIGTERM);
			reloading--;
			return;
		}
	}
	reloading = 0;
}

/* Whether two optional strings are equal (both NULL counts). */
static int
master_same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* Re-read the configuration and start replacing the workers. */
static void
master_reload(void)
{
	struct config	*next;
	int		 i;

	next = xcalloc(1, sizeof *next);
	config_init(next);
	if (config_load(next, config_path) == -1) {
		log_warnx("reload: keeping the old configuration");
		config_clear(next);
		free(next);
		return;
	}
	if (!master_same(next->listen, cfg->listen) ||
	    !master_same(next->listen_group, cfg->listen_group))
		log_warnx("reload: a new listen address or group needs a "
		    "restart");
	config_clear(cfg);
	free(cfg);
	cfg = next;
	for (i = 0; i < HUB_SLOTS; i++) {
		if (children[i].state == CHILD_RUNNING) {
			children[i].respawn = 1;
			reloading++;
		}
	}
	log_info("reload: replacing %d workers", reloading);
}

/* Tell every worker to stop. */
static void
master_stop_workers(int sig)
{
	int	i;

	for (i = 0; i < HUB_SLOTS; i++) {
		if (children[i].pid > 0) {
			kill(children[i].pid, sig);
			if (children[i].state == CHILD_RUNNING)
				children[i].state = CHILD_RETIRING;
		}
	}
}

/* Handle the signals the master received. */
static void
master_signal(int sfd)
{
	struct signalfd_siginfo	si;

	while (read(sfd, &si, sizeof si) == sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			master_reap();
			break;
		case SIGHUP:
			if (!stopping)
				master_reload();
			break;
		case SIGTERM:
		case SIGINT:
			if (!stopping)
				log_info("stopping");
			/*
			 * Stop accepting first: with the path gone nginx
			 * connects no more, and the workers drain what is
			 * already queued before they close.
			 */
			if (listen_path != NULL)
				unlink(listen_path);
			stopping = 1;
			master_stop_workers(SIGTERM);
			break;
		}
	}
}

/* Remove what the master created on disk. */
static void
master_cleanup(void)
{
	if (listen_path != NULL)
		unlink(listen_path);
	if (cfg->pidfile != NULL)
		unlink(cfg->pidfile);
}

/* Write the pid file, if one is configured. */
static void
master_pidfile(void)
{
	FILE	*f;

	if (cfg->pidfile == NULL)
		return;
	if ((f = fopen(cfg->pidfile, "w")) == NULL)
		fatal("%s", cfg->pidfile);
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

/* Run the master loop until a graceful stop has finished. */
static void
master_loop(int sfd)
{
	struct pollfd	 pfd = { .fd = sfd, .events = POLLIN };
	long long	 deadline = 0;
	int		 timeout;

	for (;;) {
		if (!stopping) {
			master_maintain();
			master_reload_step();
		} else {
			if (deadline == 0)
				deadline = clock_ms() +
				    cfg->shutdown_timeout * 1000LL;
			if (master_count(CHILD_RUNNING) +
			    master_count(CHILD_RETIRING) == 0)
				return;
			if (clock_ms() >= deadline) {
				log_warnx("shutdown timeout: killing workers");
				master_stop_workers(SIGKILL);
				deadline = clock_ms() + 5000;
			}
		}
		timeout = stopping || master_count(CHILD_DEAD) > 0 ||
		    reloading > 0 || master_count(CHILD_RUNNING) <
		    config_workers(cfg) ? 100 : -1;
		if (poll(&pfd, 1, timeout) == -1 && errno != EINTR)
			fatal("poll");
		if (pfd.revents & POLLIN)
			master_signal(sfd);
	}
}

/*
 * Refuse to start on a database whose schema is older than this sohbetd
 * (sohbetctl migrate has not run); warn about a newer one.  An unreachable
 * database is no reason to stop (systemd may start us before MariaDB):
 * each worker checks again when it connects.
 */
static void
master_check_schema(void)
{
	unsigned int	version;
	char		msg[160];

	if (migrate_version(&version) == -1) {
		log_warnx("cannot read the database's schema version now; "
		    "each worker checks it when it connects");
		db_disconnect();
		return;
	}
	db_disconnect();
	switch (db_schema_compare(version, msg, sizeof msg)) {
	case -1:
		fatalx_config("cannot start: %s", msg);
	case 1:
		log_warnx("%s", msg);
		break;
	default:
		log_debug("database schema at version %u", version);
		break;
	}
}

/* Print how to run sohbetd and exit. */
static void NORETURN
master_usage(void)
{
	fprintf(stderr, "usage: sohbetd [-dt] [-c config]\n");
	exit(2);
}

/* The entry point of sohbetd. */
int
master_main(int argc, char **argv)
{
	int	ch, verbose = 0, check_only = 0, sfd;

	config_path = SOHBET_CONFFILE;
	while ((ch = getopt(argc, argv, "c:dt")) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'd':
			verbose = 1;
			break;
		case 't':
			check_only = 1;
			break;
		default:
			master_usage();
		}
	}
	log_init("sohbetd", verbose);
	cfg = xcalloc(1, sizeof *cfg);
	config_init(cfg);
	if (config_load(cfg, config_path) == -1)
		fatalx("cannot start: fix %s", config_path);
	if (check_only) {
		log_info("%s: configuration OK", config_path);
		return 0;
	}
	master_check_schema();
	sfd = master_signals();
	master_listen();
	if (FCGX_Init() != 0)
		fatalx("FCGX_Init failed");
	hub_init();
	/* Shared by the workers too: write limits and sign-in counts. */
	ratelimit_init();
	throttle_init();
	master_pidfile();
	log_info("started with %d workers", config_workers(cfg));
	master_loop(sfd);
	master_cleanup();
	log_info("stopped");
	return 0;
}
