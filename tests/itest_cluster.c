/* SPDX-License-Identifier: ISC */
/*
 * itest_cluster.c: two sohbetd pools on one database deliver each other's
 * events and find each other's messages in a search, as two app hosts
 * would (DESIGN.md, Scale past one machine).
 *
 * The stack's own pool is switched to the database sequencer with the
 * cluster watcher, and a second pool is started on the same database with
 * its own FastCGI socket, which the test nginx serves on
 * SOHBET_TEST_URL2.  Everything is put back afterwards.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "itest.h"
#include "check_run.h"

#define WATCH_MS	100	/* events.cluster_poll_ms of both pools */
#define LINGER_S	3	/* events.presence_linger of both pools */
#define SWEEP_S		1	/* presence.c: the keeper's sweep */
#define WRITERS		2	/* per pool */
#define POSTS		25	/* per writer */

static char	*conf_path;	/* the stack's configuration */
static char	*conf_saved;	/* its text before the test */
static char	*url2;		/* the second pool, through nginx */
static pid_t	 pool2 = -1;

/* Read a whole file; the caller frees it. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*text;
	long	 n;

	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = xcalloc(1, (size_t)n + 1);
	ck_assert(fread(text, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	return text;
}

/* Write text to a file. */
static void
spill(const char *path, const char *text)
{
	FILE	*f;

	ck_assert_msg((f = fopen(path, "w")) != NULL, "%s: %s", path,
	    strerror(errno));
	fputs(text, f);
	fclose(f);
}

/*
 * The configuration of a cluster member: the database sequencer and the
 * watcher, and (listen not NULL) another FastCGI socket.  Caller frees.
 */
static char *
cluster_conf(const char *base, const char *listen)
{
	char		*out, *p;
	const char	*line, *end;
	size_t		 len;

	out = xcalloc(1, strlen(base) + 512);
	p = out;
	for (line = base; *line != '\0'; line = end) {
		end = strchr(line, '\n');
		end = end != NULL ? end + 1 : line + strlen(line);
		len = (size_t)(end - line);
		if (strncmp(line, "sequencer", 9) == 0)
			p += sprintf(p, "sequencer = db\n");
		else if (strncmp(line, "cluster_poll_ms", 15) == 0)
			p += sprintf(p, "cluster_poll_ms = %d\n"
			    "presence_linger = %d\n", WATCH_MS, LINGER_S);
		else if (listen != NULL && strncmp(line, "listen", 6) == 0)
			p += sprintf(p, "listen = %s\n", listen);
		else {
			memcpy(p, line, len);
			p += len;
		}
	}
	return out;
}

/* Start the second pool on run/sohbetd2.sock and wait for its socket. */
static void
pool2_start(void)
{
	char	*sock, *conf2, *text, *log;

	xasprintf(&sock, "%s/run/sohbetd2.sock", getenv("SOHBET_TEST_VAR"));
	xasprintf(&conf2, "%s/etc/sohbet2.conf", getenv("SOHBET_TEST_VAR"));
	xasprintf(&log, "%s/log/sohbetd2.log", getenv("SOHBET_TEST_VAR"));
	text = cluster_conf(conf_saved, sock);
	spill(conf2, text);
	pool2 = itest_pool_start(conf2, sock, log);
	free(sock);
	free(conf2);
	free(text);
	free(log);
}

/* Switch the stack's pool to cluster mode and start the second one. */
static void
cluster_setup(void)
{
	char	*text;

	itest_exclusive();
	conf_path = xstrdup(getenv("SOHBET_TEST_CONF"));
	conf_saved = slurp(conf_path);
	text = cluster_conf(conf_saved, NULL);
	spill(conf_path, text);
	free(text);
	ck_assert_int_eq(itest_dev("sohbetd-stop"), 0);
	ck_assert_int_eq(itest_dev("sohbetd-start"), 0);
	pool2_start();
	url2 = getenv("SOHBET_TEST_URL2");
	ck_assert_msg(url2 != NULL, "SOHBET_TEST_URL2 is unset");
}

/* Stop the second pool and give the stack its configuration back. */
static void
cluster_teardown(void)
{
	int	status;

	if (pool2 > 0) {
		kill(pool2, SIGTERM);
		waitpid(pool2, &status, 0);
		pool2 = -1;
	}
	if (conf_saved != NULL) {
		spill(conf_path, conf_saved);
		itest_dev("sohbetd-stop");
		itest_dev("sohbetd-start");
	}
	itest_restore_teardown();
}

/*
 * In a child, poll path on base once; write "<arrival time> <status>
 * <body>" to fd.  Returns the child's pid.
 */
static pid_t
poll_in_child(const char *base, const char *path, const char *token, int fd)
{
	struct itest_response	*r;
	pid_t			 pid;

	if ((pid = fork()) != 0)
		return pid;
	itest_use_url(base);
	r = itest_get(path, token);
	dprintf(fd, "%.6f %ld %s\n", itest_now(), r->status, r->body);
	itest_free(r);
	_exit(0);
}

/*
 * Park a poll on one pool, post on the other, and check the poll gets the
 * message; returns the delivery time in seconds after the post's answer.
 */
static double
cross_deliver(const char *poll_base, const char *post_base,
    const char *path, const struct chat_user *u, const char *channel)
{
	char		 line[8192], *base, *id;
	double		 arrived, posted;
	long		 status;
	pid_t		 pid;
	FILE		*in;
	int		 pipefd[2], ws, off = 0;

	ck_assert(pipe(pipefd) == 0);
	pid = poll_in_child(poll_base, path, u->token, pipefd[1]);
	close(pipefd[1]);
	itest_sleep_ms(500);	/* let it park */
	itest_use_url(post_base);
	xasprintf(&base, API_PREFIX "/channels/%s", channel);
	id = chat_post(u, base, "across the pools");
	posted = itest_now();
	itest_use_url(NULL);
	ck_assert((in = fdopen(pipefd[0], "r")) != NULL);
	ck_assert_msg(fgets(line, sizeof line, in) != NULL, "no answer");
	fclose(in);
	waitpid(pid, &ws, 0);
	ck_assert(sscanf(line, "%lf %ld %n", &arrived, &status, &off) == 2);
	ck_assert_msg(status == 200, "poll answered %ld: %s", status, line);
	ck_assert_msg(strstr(line + off, id) != NULL, "the poll did not get "
	    "message %s: %s", id, line + off);
	free(base);
	free(id);
	return arrived - posted;
}

START_TEST(test_events_across_pools)
{
	struct chat_user	 u;
	char			*server, *channel, *cursor, *path;
	double			 there, back;

	chat_user(&u, "cl");
	server = chat_server(&u, &channel);
	cursor = itest_events_head(u.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=20", cursor);
	there = cross_deliver(itest_url(), url2, path, &u, channel);
	free(cursor);
	free(path);
	cursor = itest_events_head(u.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=20", cursor);
	back = cross_deliver(url2, itest_url(), path, &u, channel);
	fprintf(stderr, "itest: cross-pool /events delivery %.0f ms and "
	    "%.0f ms (watcher every %d ms)\n", there * 1000, back * 1000,
	    WATCH_MS);
	/* The target is the interval + 100 ms; a loaded CI box gets slack. */
	ck_assert_msg(there < 2.0 && back < 2.0, "cross-pool delivery took "
	    "%.3f s and %.3f s", there, back);
	free(path);
	free(cursor);
	free(server);
	free(channel);
	chat_user_free(&u);
}
END_TEST

START_TEST(test_wait_across_pools)
{
	struct chat_user	 u;
	char			*server, *channel, *path, *last;

	chat_user(&u, "cl");
	server = chat_server(&u, &channel);
	xasprintf(&path, API_PREFIX "/channels/%s", channel);
	last = chat_post(&u, path, "first");
	free(path);
	xasprintf(&path, API_PREFIX "/channels/%s/messages?after=%s&wait=20",
	    channel, last);
	cross_deliver(url2, itest_url(), path, &u, channel);
	free(path);
	free(last);
	free(server);
	free(channel);
	chat_user_free(&u);
}
END_TEST

/* Start a GET on the second pool (the child keeps its base URL). */
static struct itest_pending *
start_on_pool2(const char *path, const char *token)
{
	struct itest_pending	*pd;

	itest_use_url(url2);
	pd = itest_start(path, token);
	itest_use_url(NULL);
	return pd;
}

/*
 * Access taken away on one app host ends the polls parked on the other,
 * through the watcher: a stolen token's /events and channel polls answer
 * 401 after logout-all, a kicked member's and a banned member's channel
 * polls 404.
 */
START_TEST(test_revoked_across_pools)
{
	struct itest_response	*r;
	struct itest_pending	*events, *chan, *kicked, *banned;
	struct chat_user	 owner, m, k, b;
	char			*server, *channel, *base, *last, *stolen;
	char			*head, *path, *wait;

	chat_user(&owner, "clrv");
	chat_user(&m, "clrvm");
	chat_user(&k, "clrvk");
	chat_user(&b, "clrvb");
	server = chat_server(&owner, &channel);
	chat_join(&owner, server, &m);
	chat_join(&owner, server, &k);
	chat_join(&owner, server, &b);
	xasprintf(&base, API_PREFIX "/channels/%s", channel);
	last = chat_post(&owner, base, "first");
	stolen = chat_login(&m);
	head = itest_events_head(stolen);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=20", head);
	xasprintf(&wait, "%s/messages?after=%s&wait=20", base, last);
	events = start_on_pool2(path, stolen);
	chan = start_on_pool2(wait, stolen);
	kicked = start_on_pool2(wait, k.token);
	banned = start_on_pool2(wait, b.token);
	itest_sleep_ms(700);	/* let them park */

	r = itest_send("POST", API_PREFIX "/auth/logout-all", m.token, "{}");
	ck_assert_msg(r->status == 204, "logout-all: %s", itest_describe(r));
	itest_free(r);
	free(path);
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", server, k.id);
	r = itest_delete(path, owner.token);
	ck_assert_msg(r->status == 204, "kick: %s", itest_describe(r));
	itest_free(r);
	free(path);
	xasprintf(&path, API_PREFIX "/servers/%s/bans/%s", server, b.id);
	r = itest_request("PUT", path, owner.token, NULL, NULL, 0);
	ck_assert_msg(r->status == 204, "ban: %s", itest_describe(r));
	itest_free(r);
	free(chat_post(&owner, base, "secret across the pools"));
	itest_expect_refused(events, 401, "unauthorized", "secret", 3.0);
	itest_expect_refused(chan, 401, "unauthorized", "secret", 3.0);
	itest_expect_refused(kicked, 404, "not_found", "secret", 3.0);
	itest_expect_refused(banned, 404, "not_found", "secret", 3.0);
	free(path);
	free(wait);
	free(head);
	free(stolen);
	free(last);
	free(base);
	free(server);
	free(channel);
	chat_user_free(&owner);
	chat_user_free(&m);
	chat_user_free(&k);
	chat_user_free(&b);
}
END_TEST

/* In a child, post POSTS messages to a channel through base. */
static pid_t
writer_in_child(const char *base, const struct chat_user *u,
    const char *channel, int n)
{
	char	*path, text[32];
	pid_t	 pid;
	int	 i;

	if ((pid = fork()) != 0)
		return pid;
	itest_use_url(base);
	xasprintf(&path, API_PREFIX "/channels/%s", channel);
	for (i = 0; i < POSTS; i++) {
		snprintf(text, sizeof text, "w%d-%d", n, i);
		free(chat_post(u, path, text));
	}
	_exit(0);
}

/*
 * Follow /events on base from cursor until want message.create events
 * arrived (or 30 s): assert seqs strictly increase and no message comes
 * twice; the number seen.
 */
static size_t
follow(const char *base, const struct chat_user *u, const char *from,
    size_t want)
{
	struct itest_response	*r;
	const struct json	*events, *e;
	char			*cursor, *path, **ids;
	unsigned long long	 last = 0, seq;
	double			 t0 = itest_now();
	size_t			 seen = 0, i, k;

	itest_use_url(base);
	ids = xcalloc(want + 1, sizeof *ids);
	cursor = xstrdup(from);
	while (seen < want && itest_now() - t0 < 30) {
		xasprintf(&path, API_PREFIX "/events?after=%s&timeout=5",
		    cursor);
		r = itest_get(path, u->token);
		free(path);
		itest_expect(r, 200);
		events = itest_at(r->json, "events");
		for (i = 0; events != NULL && i < events->count; i++) {
			e = events->items[i];
			seq = strtoull(json_get(e, "seq")->text, NULL, 10);
			ck_assert_msg(seq > last, "seq %llu after %llu", seq,
			    last);
			last = seq;
			if (strcmp(json_get(e, "type")->text,
			    "message.create") != 0)
				continue;
			ck_assert(seen < want);
			ids[seen] = xstrdup(itest_at(e, "data.message.id")->text);
			for (k = 0; k < seen; k++)
				ck_assert_msg(strcmp(ids[k], ids[seen]) != 0,
				    "message %s twice", ids[seen]);
			seen++;
		}
		free(cursor);
		cursor = xstrdup(itest_str(r, "cursor"));
		itest_free(r);
	}
	for (k = 0; k < seen; k++)
		free(ids[k]);
	free(ids);
	free(cursor);
	itest_use_url(NULL);
	return seen;
}

/*
 * Overwrites set on the first pool reach polls parked on the second
 * (issue 19): a member who loses view of the channel has their wait poll
 * answered 404 and their /events poll handed channel.delete, never the
 * message posted after; a member who gains view of a private channel is
 * handed channel.create.
 */
/* Choose a status for a user, on the pool in use. */
static void
choose_status(const char *token, const char *status)
{
	struct itest_response	*r;
	char			*body;

	xasprintf(&body, "{\"status\":\"%s\"}", status);
	r = itest_send("PUT", API_PREFIX "/users/@me/presence", token, "%s",
	    body);
	ck_assert_msg(r->status == 204, "%s", itest_describe(r));
	itest_free(r);
	free(body);
}

/* Choose the status invisible for a user (nobody is told of them). */
static void
go_invisible(const char *token)
{
	choose_status(token, "invisible");
}

START_TEST(test_overwrites_across_pools)
{
	struct itest_response	*r;
	struct itest_pending	*events, *chan, *gained;
	struct chat_user	 owner, m, g;
	char			*server, *channel, *base, *last, *roles;
	char			*everyone, *secret, *path, *wait, *head;

	chat_user(&owner, "clow");
	chat_user(&m, "clowm");
	chat_user(&g, "clowg");
	server = chat_server(&owner, &channel);
	chat_join(&owner, server, &m);
	chat_join(&owner, server, &g);
	xasprintf(&roles, API_PREFIX "/servers/%s/roles", server);
	r = itest_get(roles, owner.token);
	itest_expect(r, 200);
	everyone = xstrdup(itest_str(r, "0.id"));
	itest_free(r);
	xasprintf(&path, API_PREFIX "/servers/%s/channels", server);
	r = itest_send("POST", path, owner.token, "{\"name\":\"vault\","
	    "\"overwrites\":[{\"type\":\"role\",\"id\":\"%s\","
	    "\"deny\":[\"view_channels\"]}]}", everyone);
	itest_expect(r, 201);
	secret = xstrdup(itest_str(r, "id"));
	itest_free(r);
	free(path);
	xasprintf(&base, API_PREFIX "/channels/%s", channel);
	last = chat_post(&owner, base, "first");
	/* No presence.update of the two polling comes before the events. */
	go_invisible(m.token);
	go_invisible(g.token);

	head = itest_events_head(m.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=20", head);
	events = start_on_pool2(path, m.token);
	free(path);
	free(head);
	head = itest_events_head(g.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=20", head);
	gained = start_on_pool2(path, g.token);
	free(path);
	xasprintf(&wait, "%s/messages?after=%s&wait=20", base, last);
	chan = start_on_pool2(wait, m.token);
	itest_sleep_ms(700);	/* let them park */

	/* g's first event is the channel.create, m's the channel.delete. */
	xasprintf(&path, API_PREFIX "/channels/%s/overwrites/member/%s",
	    secret, g.id);
	r = itest_send("PUT", path, owner.token,
	    "{\"allow\":[\"view_channels\"]}");
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	xasprintf(&path, "%s/overwrites/member/%s", base, m.id);
	r = itest_send("PUT", path, owner.token,
	    "{\"deny\":[\"view_channels\"]}");
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	free(chat_post(&owner, base, "secret across the pools"));
	itest_expect_refused(chan, 404, "not_found", "secret", 3.0);
	r = itest_finish(events);
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "channel.delete");
	itest_expect_str(r, "events.0.data.id", channel);
	ck_assert_msg(strstr(r->body, "secret") == NULL, "%s",
	    itest_describe(r));
	itest_free(r);
	r = itest_finish(gained);
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "channel.create");
	itest_expect_str(r, "events.0.data.channel.id", secret);
	itest_free(r);
	free(wait);
	free(head);
	free(last);
	free(base);
	free(server);
	free(channel);
	free(roles);
	free(everyone);
	free(secret);
	chat_user_free(&owner);
	chat_user_free(&m);
	chat_user_free(&g);
}
END_TEST

START_TEST(test_order_across_pools)
{
	struct chat_user	 u;
	char			*server, *channel, *cursor;
	pid_t			 pids[2 * WRITERS];
	size_t			 want = 2 * WRITERS * POSTS, got1, got2;
	int			 i, ws;

	chat_user(&u, "cl");
	server = chat_server(&u, &channel);
	cursor = itest_events_head(u.token);
	for (i = 0; i < 2 * WRITERS; i++)
		pids[i] = writer_in_child(i % 2 == 0 ? itest_url() : url2, &u,
		    channel, i);
	got1 = follow(itest_url(), &u, cursor, want);
	got2 = follow(url2, &u, cursor, want);
	for (i = 0; i < 2 * WRITERS; i++) {
		waitpid(pids[i], &ws, 0);
		ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		    "writer %d failed", i);
	}
	ck_assert_msg(got1 == want && got2 == want, "pool 1 saw %zu and pool "
	    "2 saw %zu of %zu messages", got1, got2, want);
	free(cursor);
	free(server);
	free(channel);
	chat_user_free(&u);
}
END_TEST

/* Park an /events poll on the default pool as token from a fresh head. */
static struct itest_pending *
park_fresh(const char *token, int timeout)
{
	struct itest_pending	*pending;
	char			*head, *path;

	head = itest_events_head(token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d", head,
	    timeout);
	pending = itest_start(path, token);
	free(path);
	free(head);
	itest_sleep_ms(700);	/* let it park */
	return pending;
}

/* The presence a pool's member list shows for user, as token sees it. */
static char *
presence_on(const char *base, const char *token, const char *server,
    const char *user)
{
	struct itest_response	*r;
	char			*path, *out = NULL, key[64];
	const char		*id;
	int			 i;

	itest_use_url(base);
	xasprintf(&path, API_PREFIX "/servers/%s/members", server);
	r = itest_get(path, token);
	itest_use_url(NULL);
	itest_expect(r, 200);
	for (i = 0; out == NULL; i++) {
		snprintf(key, sizeof key, "%d.user.id", i);
		ck_assert_msg((id = itest_str(r, key)) != NULL, "%s not "
		    "listed: %s", user, itest_describe(r));
		snprintf(key, sizeof key, "%d.presence", i);
		if (strcmp(id, user) == 0)
			out = xstrdup(itest_str(r, key));
	}
	itest_free(r);
	free(path);
	return out;
}

/* Wait up to seconds until a pool's member list shows want for user. */
static void
expect_presence_on(const char *base, const char *token, const char *server,
    const char *user, const char *want, double seconds)
{
	double	until = itest_now() + seconds;
	char	*got;

	while (strcmp((got = presence_on(base, token, server, user)), want) !=
	    0 && itest_now() < until) {
		free(got);
		itest_sleep_ms(100);
	}
	ck_assert_msg(strcmp(got, want) == 0, "%s shows %s, not %s", base,
	    got, want);
	free(got);
}

/* A poll's answer is presence.update {user, status}. */
static void
expect_update(struct itest_response *r, const char *user, const char *status)
{
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "presence.update");
	itest_expect_str(r, "events.0.data.user_id", user);
	itest_expect_str(r, "events.0.data.status", status);
}

/* An owner's new server (its id; its channel in *channel) with a member. */
static char *
presence_room(struct chat_user *owner, struct chat_user *m, const char *name,
    char **channel)
{
	char	*server, *mname;

	xasprintf(&mname, "%sm", name);
	chat_user(owner, name);
	chat_user(m, mname);
	server = chat_server(owner, channel);
	chat_join(owner, server, m);
	free(mname);
	return server;
}

/* Free what presence_room() made. */
static void
presence_room_free(struct chat_user *owner, struct chat_user *m,
    char *server, char *channel)
{
	free(server);
	free(channel);
	chat_user_free(owner);
	chat_user_free(m);
}

/*
 * The owner's parked poll (watch) is told that user went offline, within
 * presence_linger + the sweep of since (after what), and both pools'
 * member lists of the server show them offline.
 */
static void
expect_offline_after(struct itest_pending *watch, const struct chat_user *owner,
    const char *server, const char *user, double since, const char *what)
{
	struct itest_response	*r;
	double			 offline;

	r = itest_finish(watch);
	offline = itest_now() - since;
	expect_update(r, user, "offline");
	itest_free(r);
	fprintf(stderr, "itest: offline on the other pool %.1f s after %s "
	    "(linger %d s)\n", offline, what, LINGER_S);
	ck_assert_msg(offline < LINGER_S + SWEEP_S + 1.5, "offline after "
	    "%.1f s", offline);
	expect_presence_on(itest_url(), owner->token, server, user,
	    "offline", 0);
	expect_presence_on(url2, owner->token, server, user, "offline", 0);
}

/*
 * Presence across the pools: a member whose one poll ran on the second
 * pool is online on the first (live and in the member list); after it
 * ended they go offline within presence_linger + the sweep, on both.
 */
START_TEST(test_presence_across_pools)
{
	struct itest_pending	*watch;
	struct itest_response	*r;
	struct chat_user	 owner, m;
	char			*server, *channel, *head, *path;
	double			 ended;

	server = presence_room(&owner, &m, "clpr", &channel);
	expect_presence_on(url2, owner.token, server, m.id, "offline", 0);
	watch = park_fresh(owner.token, 20);
	head = itest_events_head(m.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=1", head);
	itest_use_url(url2);
	r = itest_get(path, m.token);
	itest_use_url(NULL);
	ended = itest_now();
	itest_expect(r, 200);
	itest_free(r);
	r = itest_finish(watch);
	expect_update(r, m.id, "online");
	itest_free(r);
	expect_presence_on(itest_url(), owner.token, server, m.id, "online",
	    SWEEP_S + 1.0);
	watch = park_fresh(owner.token, 20);
	expect_offline_after(watch, &owner, server, m.id, ended,
	    "the last poll");
	free(path);
	free(head);
	presence_room_free(&owner, &m, server, channel);
}
END_TEST

/*
 * A member chooses a status on the second pool; the owner's poll on the
 * first is told they show as seen.
 */
static void
choose_status_seen(const struct chat_user *owner, const struct chat_user *m,
    const char *status, const char *seen)
{
	struct itest_pending	*watch;
	struct itest_response	*r;

	watch = park_fresh(owner->token, 20);
	itest_use_url(url2);
	choose_status(m->token, status);
	itest_use_url(NULL);
	r = itest_finish(watch);
	expect_update(r, m->id, seen);
	itest_free(r);
}

/*
 * A member connected through the second pool who chooses invisible there
 * shows offline on the first (live and in the member list), and online
 * again when they choose it; when their client goes away mid-poll (the
 * connection closed, never answered) they go offline on the first
 * within presence_linger + the sweep.
 */
START_TEST(test_presence_invisible_and_dropped)
{
	struct itest_pending	*watch, *client;
	struct itest_response	*r;
	struct chat_user	 owner, m;
	char			*server, *channel, *head, *path;
	double			 dropped;

	server = presence_room(&owner, &m, "cldr", &channel);
	/* The member's poll must stay parked: nothing of the owner's. */
	go_invisible(owner.token);
	watch = park_fresh(owner.token, 20);
	itest_use_url(url2);
	head = itest_events_head(m.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=40", head);
	client = itest_start(path, m.token);
	itest_use_url(NULL);
	free(path);
	free(head);
	r = itest_finish(watch);
	expect_update(r, m.id, "online");
	itest_free(r);

	choose_status_seen(&owner, &m, "invisible", "offline");
	expect_presence_on(itest_url(), owner.token, server, m.id, "offline",
	    0);
	choose_status_seen(&owner, &m, "online", "online");

	watch = park_fresh(owner.token, 20);
	ck_assert_int_eq(kill(client->pid, SIGKILL), 0);
	dropped = itest_now();
	r = itest_finish(client);
	ck_assert_msg(r->status == 0, "the dropped poll was answered: %s",
	    itest_describe(r));
	itest_free(r);
	expect_offline_after(watch, &owner, server, m.id, dropped,
	    "the client went away");
	presence_room_free(&owner, &m, server, channel);
}
END_TEST

/* A typing hint made on one pool reaches a poll parked on the other. */
START_TEST(test_typing_across_pools)
{
	struct itest_pending	*watch;
	struct itest_response	*r;
	struct chat_user	 owner, m;
	char			*server, *channel, *path;
	double			 typed;

	chat_user(&owner, "clty");
	chat_user(&m, "cltym");
	server = chat_server(&owner, &channel);
	chat_join(&owner, server, &m);
	watch = park_fresh(m.token, 20);
	xasprintf(&path, API_PREFIX "/channels/%s/typing", channel);
	itest_use_url(url2);
	r = itest_request("POST", path, owner.token, NULL, NULL, 0);
	itest_use_url(NULL);
	typed = itest_now();
	ck_assert_msg(r->status == 204, "%s", itest_describe(r));
	itest_free(r);
	r = itest_finish(watch);
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "typing.start");
	itest_expect_str(r, "events.0.data.user_id", owner.id);
	itest_expect_str(r, "events.0.data.channel_id", channel);
	fprintf(stderr, "itest: typing across the pools within %.0f ms\n",
	    (itest_now() - typed) * 1000);
	/* The target is the interval + 100 ms; a loaded box gets slack. */
	ck_assert_msg(itest_now() - typed < 2.0, "typing took %.3f s",
	    itest_now() - typed);
	itest_free(r);
	free(path);
	free(server);
	free(channel);
	chat_user_free(&owner);
	chat_user_free(&m);
}
END_TEST

/*
 * The unread count of a channel in u's read states on the pool at base:
 * -1 when the channel is not listed.
 */
static long
unread_on(const char *base, const struct chat_user *u, const char *channel)
{
	struct itest_response	*r;
	const struct json	*o, *id, *n;
	long			 unread = -1;
	size_t			 i;

	itest_use_url(base);
	r = itest_get(API_PREFIX "/users/@me/read-states", u->token);
	itest_use_url(NULL);
	itest_expect(r, 200);
	for (i = 0; i < r->json->count; i++) {
		o = r->json->items[i];
		id = itest_at(o, "channel_id");
		n = itest_at(o, "unread_count");
		if (id != NULL && id->type == JSON_STRING && n != NULL &&
		    strcmp(id->text, channel) == 0)
			unread = strtol(n->text, NULL, 10);
	}
	itest_free(r);
	return unread;
}

/*
 * Wait until u's read states on the second pool give a channel want
 * unread messages, asking both of its workers (the first pool's
 * changes reach it through the watcher); fail after 2 s.
 */
static void
expect_unread_on_pool2(const struct chat_user *u, const char *channel,
    long want)
{
	double	until = itest_now() + 2.0;
	long	got;
	int	agreed = 0;

	while (agreed < 4) {
		got = unread_on(url2, u, channel);
		agreed = got == want ? agreed + 1 : 0;
		ck_assert_msg(agreed > 0 || itest_now() < until,
		    "unread on the second pool: %ld, expected %ld", got, want);
		if (agreed == 0)
			itest_sleep_ms(50);
	}
}

/*
 * The read states the second pool's workers keep follow what happens on
 * the first: its sends, its acks (the user's other host) and its
 * deletions arrive through the watcher.
 */
START_TEST(test_read_states_across_pools)
{
	struct itest_response	*r;
	struct chat_user	 owner, m;
	char			*server, *channel, *base, *a, *b, *path;

	chat_user(&owner, "clrs");
	chat_user(&m, "clrsm");
	server = chat_server(&owner, &channel);
	chat_join(&owner, server, &m);
	xasprintf(&base, API_PREFIX "/channels/%s", channel);
	expect_unread_on_pool2(&m, channel, 0);

	a = chat_post(&owner, base, "one");
	b = chat_post(&owner, base, "two");
	expect_unread_on_pool2(&m, channel, 2);
	ck_assert_int_eq(unread_on(NULL, &m, channel), 2);

	xasprintf(&path, "%s/ack", base);
	r = itest_send("PUT", path, m.token, "{\"message_id\":\"%s\"}", a);
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	expect_unread_on_pool2(&m, channel, 1);

	path = chat_path(base, b, NULL);
	r = itest_delete(path, owner.token);
	ck_assert_int_eq(r->status, 204);
	itest_free(r);
	free(path);
	expect_unread_on_pool2(&m, channel, 0);

	free(a);
	free(b);
	free(base);
	free(server);
	free(channel);
	chat_user_free(&owner);
	chat_user_free(&m);
}
END_TEST

/*
 * Search on the pool at base for q in server: assert it finds exactly
 * the message id (or nothing when id is NULL).
 */
static void
search_on(const char *base, const struct chat_user *u, const char *server,
    const char *q, const char *id)
{
	struct itest_response	*r;
	const struct json	*total;
	char			*path;

	xasprintf(&path, API_PREFIX "/servers/%s/messages/search?q=%s",
	    server, q);
	itest_use_url(base);
	r = itest_get(path, u->token);
	itest_use_url(NULL);
	itest_expect(r, 200);
	total = itest_at(r->json, "total");
	ck_assert_msg(total != NULL && atol(total->text) == (id != NULL),
	    "q=%s on %s: %s", q, base, itest_describe(r));
	if (id != NULL)
		ck_assert_str_eq(itest_str(r, "messages.0.id"), id);
	itest_free(r);
	free(path);
}

/*
 * Search finds what either pool sent or edited, at once (queued for the
 * index) and once a keeper has indexed it: both pools' keepers drain one
 * queue (words.c), and an edit made on one pool is searched on the
 * other by its new words, not its old ones.
 */
START_TEST(test_search_across_pools)
{
	struct itest_response	*r;
	struct chat_user	 u;
	char			*server, *channel, *path, *id, *sql;
	int			 tries;

	chat_user(&u, "cq");
	server = chat_server(&u, &channel);
	xasprintf(&path, API_PREFIX "/channels/%s", channel);
	id = chat_post(&u, path, "zirve toplantisi");
	free(path);
	search_on(url2, &u, server, "zirve", id);
	xasprintf(&sql, "SELECT COUNT(*) FROM search_queue"
	    " WHERE message_id = %s", id);
	for (tries = 0; tries < 100 && itest_sql_number(sql) != 0; tries++)
		usleep(100000);
	ck_assert_msg(tries < 100, "message %s stays queued", id);
	free(sql);
	search_on(url2, &u, server, "zirve", id);
	search_on(itest_url(), &u, server, "toplantisi", id);

	xasprintf(&path, API_PREFIX "/channels/%s/messages/%s", channel, id);
	itest_use_url(url2);
	r = itest_send("PATCH", path, u.token,
	    "{\"content\":\"zirve ertelendi\"}");
	itest_use_url(NULL);
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	search_on(itest_url(), &u, server, "ertelendi", id);
	search_on(itest_url(), &u, server, "toplantisi", NULL);
	search_on(url2, &u, server, "zirve", id);
	free(id);
	free(server);
	free(channel);
	chat_user_free(&u);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("cluster");
	TCase	*tc = tcase_create("two pools");

	itest_init();
	tcase_set_timeout(tc, 180);
	tcase_add_unchecked_fixture(tc, cluster_setup, cluster_teardown);
	tcase_add_test(tc, test_events_across_pools);
	tcase_add_test(tc, test_wait_across_pools);
	tcase_add_test(tc, test_revoked_across_pools);
	tcase_add_test(tc, test_overwrites_across_pools);
	tcase_add_test(tc, test_order_across_pools);
	tcase_add_test(tc, test_presence_across_pools);
	tcase_add_test(tc, test_presence_invisible_and_dropped);
	tcase_add_test(tc, test_typing_across_pools);
	tcase_add_test(tc, test_read_states_across_pools);
	tcase_add_test(tc, test_search_across_pools);
	suite_add_tcase(s, tc);
	return check_run(s);
}
