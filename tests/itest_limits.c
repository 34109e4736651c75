/* SPDX-License-Identifier: ISC */
/*
 * itest_limits.c: who may talk to sohbetd and how much (issue 16, items
 * 7, 8 and 10): the FastCGI socket is 0660 in the configured group and
 * nobody else connects; each user's writes are limited (messages per
 * conversation, servers and invites an hour, message searches a
 * minute) with 429 rate_limited and Retry-After; GET /users/@me/servers is paged; nginx sends the packaged
 * site's headers and limits requests open at once per address.
 *
 * The test configuration (tools/dev test) raises [limits] out of the way
 * of the other tests; the write limits here run against the defaults, on
 * a sohbetd restarted without that section, with the stack kept to this
 * program.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>

#include "chat.h"
#include "check_run.h"

#define BURST_SENDS	30	/* a script's burst */
#define MESSAGE_BURST	10	/* [limits] messages_burst's default */
#define HUMAN_SENDS	12	/* one a second: past the burst */
#define SERVERS_HOUR	10	/* servers_per_hour's default */
#define INVITES_HOUR	50	/* invites_per_hour's default */
#define SEARCH_BURST	10	/* searches_burst's default */
#define SEARCH_WAIT	3	/* 60 s over searches_per_minute's 20 */
#define PAGE_SERVERS	5
#define CONN_LIMIT	64	/* limit_conn of the HTTPS site */
#define CONN_USERS	4	/* whose polls hold the connections */
#define POLL_SECONDS	8	/* how long they stay parked */

static char	*conf_path;	/* the stack's configuration */
static char	*conf_saved;	/* ... as tools/dev wrote it */

/* Send a request with a JSON body or none; the caller frees the answer. */
static struct itest_response *
call(const char *method, const char *path, const struct chat_user *u,
    const char *body)
{
	return itest_request(method, path, u->token, body != NULL ?
	    "application/json" : NULL, body, body != NULL ? strlen(body) : 0);
}

/* Post a message to a conversation (API_PREFIX "/channels/<id>"). */
static struct itest_response *
post(const struct chat_user *u, const char *base, int i)
{
	struct itest_response	*r;
	char			*path, *body;

	path = chat_path(base, NULL, NULL);
	xasprintf(&body, "{\"content\":\"message %d\"}", i);
	r = call("POST", path, u, body);
	free(body);
	free(path);
	return r;
}

/* How many messages a conversation's newest page holds. */
static size_t
history_count(const struct chat_user *u, const char *base)
{
	struct itest_response	*r;
	size_t			 n;

	r = chat_history(u, base, "limit=100");
	n = r->json->count;
	itest_free(r);
	return n;
}

/* Create a server "limits <i>"; the answer. */
static struct itest_response *
create_server(const struct chat_user *u, int i)
{
	struct itest_response	*r;
	char			*body;

	xasprintf(&body, "{\"name\":\"limits %d\"}", i);
	r = call("POST", API_PREFIX "/servers", u, body);
	free(body);
	return r;
}

/* --- the socket --------------------------------------------------------- */

/* In a child as user nobody: 0 if the socket at path accepts, else errno. */
static int
connect_as_nobody(const char *path)
{
	struct sockaddr_un	 sun;
	struct passwd		*pw;
	pid_t			 pid;
	int			 fd, status;

	ck_assert((pw = getpwnam("nobody")) != NULL);
	ck_assert((pid = fork()) != -1);
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
		    setuid(pw->pw_uid) == -1)
			_exit(100);
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			_exit(101);
		_exit(connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 ?
		    0 : errno);
	}
	ck_assert(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) < 100, "could not become nobody");
	return WEXITSTATUS(status);
}

/*
 * The FastCGI socket is 0660 in listen_group (nginx's), nobody else may
 * connect to it, and nginx still does.
 */
START_TEST(test_socket_mode)
{
	struct itest_response	*r;
	struct group		*gr;
	struct stat		 st;
	char			*sock, *group;
	int			 err;

	sock = itest_conf("server", "listen");
	ck_assert_msg(sock != NULL && sock[0] == '/', "no unix socket in "
	    "[server] listen");
	ck_assert_msg(stat(sock, &st) == 0, "%s: %s", sock, strerror(errno));
	ck_assert_msg(S_ISSOCK(st.st_mode), "%s is no socket", sock);
	ck_assert_msg((st.st_mode & 07777) == 0660, "%s has mode %04o, not "
	    "0660", sock, (unsigned int)(st.st_mode & 07777));
	group = itest_conf("server", "listen_group");
	ck_assert_msg(group != NULL, "no listen_group in [server]");
	ck_assert_msg((gr = getgrnam(group)) != NULL, "no group %s", group);
	ck_assert_msg(st.st_gid == gr->gr_gid, "%s has group %u, not %s (%u)",
	    sock, (unsigned int)st.st_gid, group, (unsigned int)gr->gr_gid);
	if (geteuid() == 0) {
		err = connect_as_nobody(sock);
		ck_assert_msg(err == EACCES, "user nobody connected to %s "
		    "(%s)", sock, err == 0 ? "accepted" : strerror(err));
	} else
		fprintf(stderr, "itest: not root: the connect as nobody is "
		    "not tried\n");
	r = itest_get(API_PREFIX "/health", NULL);
	itest_expect_str(r, "status", "ok");
	itest_free(r);
	free(sock);
	free(group);
}
END_TEST

/* --- nginx ------------------------------------------------------------- */

/* How many header lines named name the answer has. */
static int
header_count(struct itest_response *r, const char *name)
{
	const char	*line;
	size_t		 len = strlen(name);
	int		 n = 0;

	for (line = r->headers; line != NULL && *line != '\0';
	    line = strchr(line, '\n') != NULL ? strchr(line, '\n') + 1 : "") {
		if (strncasecmp(line, name, len) == 0 && line[len] == ':')
			n++;
	}
	return n;
}

/* Assert the packaged site's headers, and Cache-Control once, as want. */
static void
expect_site_headers(struct itest_response *r, const char *cache)
{
	static const char *const want[][2] = {
		{ "X-Content-Type-Options", "nosniff" },
		{ "X-Frame-Options", "DENY" },
		{ "Referrer-Policy", "no-referrer" },
	};
	const char	*v;
	size_t		 i;

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		v = itest_header(r, want[i][0]);
		ck_assert_msg(v != NULL && strcmp(v, want[i][1]) == 0,
		    "%s: %s is \"%s\", not \"%s\"", r->what, want[i][0],
		    v != NULL ? v : "(none)", want[i][1]);
	}
	v = itest_header(r, "Strict-Transport-Security");
	ck_assert_msg(v != NULL && strncmp(v, "max-age=", 8) == 0 &&
	    atol(v + 8) > 0, "%s: no Strict-Transport-Security max-age (%s)",
	    r->what, v != NULL ? v : "none");
	v = itest_header(r, "Content-Security-Policy");
	ck_assert_msg(v != NULL && strstr(v, "frame-ancestors 'none'") !=
	    NULL && strstr(v, "script-src 'self'") != NULL, "%s: "
	    "Content-Security-Policy is %s", r->what, v != NULL ? v : "none");
	ck_assert_msg(header_count(r, "Cache-Control") == 1 &&
	    strcmp(itest_header(r, "Cache-Control"), cache) == 0, "%s: want "
	    "one Cache-Control: %s; got %d (%s)", r->what, cache,
	    header_count(r, "Cache-Control"), itest_header(r, "Cache-Control"));
}

/* The API's answers and the web client carry the packaged site's headers. */
START_TEST(test_site_headers)
{
	struct itest_response	*r;
	const char		*type;

	r = itest_get(API_PREFIX "/health", NULL);
	itest_expect(r, 200);
	expect_site_headers(r, "no-store");
	itest_free(r);

	r = itest_get(API_PREFIX "/no/such/thing", NULL);
	itest_expect_error(r, 404, "not_found");
	expect_site_headers(r, "no-store");
	itest_free(r);

	r = itest_get("/", NULL);
	ck_assert_msg(r->status == 200, "GET /: %s", itest_describe(r));
	type = itest_header(r, "Content-Type");
	ck_assert_msg(type != NULL && strncmp(type, "text/html", 9) == 0,
	    "GET / is %s", type != NULL ? type : "untyped");
	expect_site_headers(r, "no-cache");
	itest_free(r);
}
END_TEST

/* Park one /events poll as u in a child; its pid. */
static pid_t
park_child(const struct chat_user *u, const char *cursor)
{
	struct itest_response	*r;
	char			*path;
	pid_t			 pid;

	if ((pid = fork()) != 0)
		return pid;
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d", cursor,
	    POLL_SECONDS);
	r = itest_get(path, u->token);
	_exit(r->status == 200 ? 0 : 1);
}

/* The parked polls gauge, read over the plain-HTTP listener. */
static long
parked_now(long lo, double seconds)
{
	long	v;

	itest_use_url(getenv("SOHBET_TEST_HTTP"));
	v = itest_await_metric(ITEST_PARKED, lo, 1L << 30, seconds);
	itest_use_url(NULL);
	return v;
}

/*
 * limit_conn: with 64 requests of one address open (parked long-polls,
 * several users), the next is answered 429 rate_limited by nginx, with
 * Retry-After and the site's headers; once they are answered, requests
 * pass again.  The plain-HTTP listener of the tests is not limited.
 */
START_TEST(test_conn_limit)
{
	struct chat_user	 users[CONN_USERS];
	struct itest_response	*r;
	pid_t			 pids[CONN_LIMIT];
	char			*cursors[CONN_USERS];
	long			 base;
	int			 i, status, failed = 0;

	itest_require_stack();
	for (i = 0; i < CONN_USERS; i++) {
		chat_user(&users[i], "conn");
		cursors[i] = itest_events_head(users[i].token);
	}
	base = parked_now(0, 0);
	for (i = 0; i < CONN_LIMIT; i++)
		pids[i] = park_child(&users[i % CONN_USERS],
		    cursors[i % CONN_USERS]);
	ck_assert_msg(parked_now(base + CONN_LIMIT, 20.0) >= base + CONN_LIMIT,
	    "the %d polls did not park", CONN_LIMIT);

	r = itest_get(API_PREFIX "/health", NULL);
	itest_expect_rate_limited(r, 1);
	expect_site_headers(r, "no-store");
	ck_assert_int_eq(header_count(r, "Retry-After"), 1);
	itest_free(r);

	itest_use_url(getenv("SOHBET_TEST_HTTP"));
	r = itest_get(API_PREFIX "/health", NULL);
	itest_use_url(NULL);
	itest_expect_str(r, "status", "ok");
	itest_free(r);

	for (i = 0; i < CONN_LIMIT; i++) {
		ck_assert(waitpid(pids[i], &status, 0) == pids[i]);
		failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	ck_assert_msg(failed == 0, "%d of the parked polls did not end 200",
	    failed);
	r = itest_get(API_PREFIX "/health", NULL);
	itest_expect_str(r, "status", "ok");
	itest_free(r);
	for (i = 0; i < CONN_USERS; i++) {
		free(cursors[i]);
		chat_user_free(&users[i]);
	}
}
END_TEST

/* --- paging GET /users/@me/servers ---------------------------------------- */

/* GET a page of the user's servers; asserts 200. */
static struct itest_response *
servers_page(const struct chat_user *u, const char *query)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, API_PREFIX "/users/@me/servers%s%s", *query != '\0' ?
	    "?" : "", query);
	r = itest_get(path, u->token);
	free(path);
	itest_expect(r, 200);
	return r;
}

/* Assert a page holds n servers: ids[from..from+n) in order (ids NULL: any). */
static void
expect_servers(struct itest_response *r, char **ids, int from, int n)
{
	char	key[32];
	int	i;

	ck_assert_msg(r->json->type == JSON_ARRAY && r->json->count ==
	    (size_t)n, "%s: want %d servers: %s", r->what, n,
	    itest_describe(r));
	for (i = 0; ids != NULL && i < n; i++) {
		snprintf(key, sizeof key, "%d.id", i);
		itest_expect_str(r, key, ids[from + i]);
	}
}

/* Pages of ?after=&limit= walk the servers in id order; bad limits 400. */
START_TEST(test_servers_paging)
{
	static const char *const bad[] = {
		"limit=0", "limit=201", "limit=-1", "limit=abc", "limit=",
		"limit=1e2",
	};
	struct itest_response	*r;
	struct chat_user	 u;
	char			*ids[PAGE_SERVERS], *q;
	size_t			 i;

	chat_user(&u, "pager");
	for (i = 0; i < PAGE_SERVERS; i++) {
		r = create_server(&u, (int)i);
		itest_expect(r, 201);
		ids[i] = xstrdup(itest_str(r, "id"));
		itest_free(r);
	}
	r = servers_page(&u, "");
	expect_servers(r, ids, 0, PAGE_SERVERS);
	itest_free(r);
	r = servers_page(&u, "limit=2");
	expect_servers(r, ids, 0, 2);
	itest_free(r);
	xasprintf(&q, "after=%s&limit=2", ids[1]);
	r = servers_page(&u, q);
	expect_servers(r, ids, 2, 2);
	itest_free(r);
	free(q);
	xasprintf(&q, "after=%s&limit=200", ids[3]);
	r = servers_page(&u, q);
	expect_servers(r, ids, 4, 1);
	itest_free(r);
	free(q);
	xasprintf(&q, "after=%s", ids[PAGE_SERVERS - 1]);
	r = servers_page(&u, q);
	expect_servers(r, ids, 0, 0);
	itest_free(r);
	free(q);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		xasprintf(&q, API_PREFIX "/users/@me/servers?%s", bad[i]);
		r = itest_get(q, u.token);
		itest_expect_invalid(r, "limit");
		itest_free(r);
		free(q);
	}
	r = itest_get(API_PREFIX "/users/@me/servers?after=x", u.token);
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);
	for (i = 0; i < PAGE_SERVERS; i++)
		free(ids[i]);
	chat_user_free(&u);
}
END_TEST

/* --- the write limits, at their defaults ---------------------------------- */

/*
 * Keep the stack to this program and restart sohbetd on the test
 * configuration without its [limits] section (the defaults).
 */
static void
defaults_setup(void)
{
	FILE	*in, *out;
	char	*line = NULL;
	size_t	 cap = 0;
	int	 skip = 0;

	itest_exclusive();
	conf_path = xstrdup(getenv("SOHBET_TEST_CONF"));
	xasprintf(&conf_saved, "%s.limits", conf_path);
	if (rename(conf_path, conf_saved) == -1 ||
	    (in = fopen(conf_saved, "r")) == NULL ||
	    (out = fopen(conf_path, "w")) == NULL) {
		fprintf(stderr, "itest: %s: %s\n", conf_path, strerror(errno));
		abort();
	}
	while (getline(&line, &cap, in) != -1) {
		if (line[0] == '[')
			skip = strncmp(line, "[limits]", 8) == 0;
		if (!skip)
			fputs(line, out);
	}
	free(line);
	fclose(in);
	fclose(out);
	if (itest_dev("sohbetd-stop") != 0 || itest_dev("sohbetd-start") != 0)
		fprintf(stderr, "itest: sohbetd did not restart\n");
}

/* Give the stack its configuration back and restart sohbetd on it. */
static void
defaults_teardown(void)
{
	if (conf_saved != NULL && rename(conf_saved, conf_path) == 0) {
		itest_dev("sohbetd-stop");
		itest_dev("sohbetd-start");
	}
	itest_restore_teardown();
}

/*
 * A script posting 30 messages at once gets its burst, then 429 with
 * Retry-After; after waiting that long it may send again; another
 * channel and a DM have budgets of their own.
 */
START_TEST(test_message_burst)
{
	struct itest_response	*r;
	struct chat_user	 a, b;
	char			*server, *general, *base, *other, *dm, *dm_id;
	int			 i, created = 0, limited = 0;
	long			 wait = 0, status;

	itest_require_stack();
	chat_user(&a, "burst");
	chat_user(&b, "burst");
	server = chat_server(&a, &general);
	xasprintf(&base, API_PREFIX "/channels/%s", general);
	for (i = 0; i < BURST_SENDS; i++) {
		r = post(&a, base, i);
		if ((status = r->status) == 429)
			wait = itest_expect_rate_limited(r, 1);
		itest_free(r);
		ck_assert_msg(i >= MESSAGE_BURST || status == 201, "send %d of "
		    "the burst answered %ld", i + 1, status);
		created += status == 201;
		limited += status == 429;
	}
	ck_assert_msg(limited > 0 && created + limited == BURST_SENDS,
	    "%d sent, %d refused of %d", created, limited, BURST_SENDS);
	ck_assert_int_eq(history_count(&a, base), (size_t)created);

	/* Other conversations of the same user have budgets of their own. */
	xasprintf(&other, API_PREFIX "/servers/%s/channels", server);
	r = call("POST", other, &a, "{\"name\":\"second\"}");
	itest_expect(r, 201);
	free(other);
	xasprintf(&other, API_PREFIX "/channels/%s", itest_str(r, "id"));
	itest_free(r);
	dm_id = chat_dm(&a, &b);
	xasprintf(&dm, API_PREFIX "/dms/%s", dm_id);
	for (i = 0; i < MESSAGE_BURST; i++) {
		r = post(&a, other, i);
		itest_expect(r, 201);
		itest_free(r);
		r = post(&a, dm, i);
		itest_expect(r, 201);
		itest_free(r);
	}

	/* Retry-After is honest: after it, the first channel takes one. */
	itest_sleep_ms(wait * 1000);
	r = post(&a, base, BURST_SENDS);
	itest_expect(r, 201);
	itest_free(r);
	free(other);
	free(dm);
	free(dm_id);
	free(base);
	free(general);
	free(server);
	chat_user_free(&a);
	chat_user_free(&b);
}
END_TEST

/* One message a second, past the burst, is never refused. */
START_TEST(test_message_human)
{
	struct itest_response	*r;
	struct chat_user	 u;
	char			*server, *general, *base;
	double			 next;
	int			 i;

	itest_require_stack();
	chat_user(&u, "human");
	server = chat_server(&u, &general);
	xasprintf(&base, API_PREFIX "/channels/%s", general);
	next = itest_now();
	for (i = 0; i < HUMAN_SENDS; i++) {
		r = post(&u, base, i);
		itest_expect(r, 201);
		itest_free(r);
		next += 1.0;
		if (next > itest_now())
			itest_sleep_ms((long)((next - itest_now()) * 1000));
	}
	ck_assert_int_eq(history_count(&u, base), HUMAN_SENDS);
	free(base);
	free(general);
	free(server);
	chat_user_free(&u);
}
END_TEST

/* The 11th server within an hour is refused, for about 6 minutes. */
START_TEST(test_servers_hourly)
{
	struct itest_response	*r;
	struct chat_user	 u, v;
	int			 i;

	itest_require_stack();
	chat_user(&u, "founder");
	chat_user(&v, "founder");
	for (i = 0; i < SERVERS_HOUR; i++) {
		r = create_server(&u, i);
		itest_expect(r, 201);
		itest_free(r);
	}
	r = create_server(&u, SERVERS_HOUR);
	ck_assert_int_ge(itest_expect_rate_limited(r, 360), 300);
	itest_free(r);
	r = servers_page(&u, "");
	expect_servers(r, NULL, 0, SERVERS_HOUR);
	itest_free(r);
	/* Another user is not held back. */
	r = create_server(&v, 0);
	itest_expect(r, 201);
	itest_free(r);
	chat_user_free(&u);
	chat_user_free(&v);
}
END_TEST

/* The 51st invite within an hour is refused. */
START_TEST(test_invites_hourly)
{
	struct itest_response	*r;
	struct chat_user	 u;
	char			*server, *general, *path;
	int			 i;

	itest_require_stack();
	chat_user(&u, "inviter");
	server = chat_server(&u, &general);
	xasprintf(&path, API_PREFIX "/servers/%s/invites", server);
	for (i = 0; i < INVITES_HOUR; i++) {
		r = call("POST", path, &u, "{}");
		itest_expect(r, 201);
		itest_free(r);
	}
	r = call("POST", path, &u, "{}");
	itest_expect_rate_limited(r, 72);
	itest_free(r);
	free(path);
	free(general);
	free(server);
	chat_user_free(&u);
}
END_TEST

/* Search a server's or a DM's messages (base API_PREFIX "/servers/<id>"). */
static struct itest_response *
search(const struct chat_user *u, const char *base, const char *q)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, "%s/messages/search?q=%s", base, q);
	r = call("GET", path, u, NULL);
	free(path);
	return r;
}

/*
 * A member searching again and again gets the burst, then 429 for about
 * 3 seconds, on a DM as on a server; searches that were refused as
 * invalid or out of reach cost nothing; another user is not held back.
 */
START_TEST(test_searches)
{
	struct itest_response	*r;
	struct chat_user	 u, v;
	char			*server, *general, *base, *dm_id, *dm, *other;
	long			 wait;
	int			 i;

	itest_require_stack();
	chat_user(&u, "seeker");
	chat_user(&v, "seeker");
	server = chat_server(&u, &general);
	xasprintf(&base, API_PREFIX "/servers/%s", server);
	dm_id = chat_dm(&u, &v);
	xasprintf(&dm, API_PREFIX "/dms/%s", dm_id);
	for (i = 0; i < 2 * SEARCH_BURST; i++) {
		r = search(&u, base, "%22%22");	/* no word */
		itest_expect_error(r, 400, "validation_failed");
		itest_free(r);
	}
	xasprintf(&other, API_PREFIX "/servers/%s", dm_id); /* not a server */
	r = search(&u, other, "message");
	itest_expect(r, 404);
	itest_free(r);
	for (i = 0; i < SEARCH_BURST; i++) {
		r = search(&u, i % 2 == 0 ? base : dm, "message");
		itest_expect(r, 200);
		itest_free(r);
	}
	r = search(&u, dm, "message");
	wait = itest_expect_rate_limited(r, SEARCH_WAIT);
	itest_free(r);
	r = search(&u, base, "message");
	itest_expect_rate_limited(r, SEARCH_WAIT);
	itest_free(r);
	r = search(&v, dm, "message");
	itest_expect(r, 200);
	itest_free(r);
	itest_sleep_ms(wait * 1000);
	r = search(&u, base, "message");
	itest_expect(r, 200);
	itest_free(r);
	free(other);
	free(dm);
	free(dm_id);
	free(base);
	free(general);
	free(server);
	chat_user_free(&u);
	chat_user_free(&v);
}
END_TEST

/* A test case; exclusive ones keep the stack to this program. */
static void
limits_case(Suite *s, const char *name, const TTest *const *tests,
    void (*setup)(void), void (*teardown)(void))
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	if (setup != NULL)
		tcase_add_unchecked_fixture(tc, setup, teardown);
	for (; *tests != NULL; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
}

int
main(void)
{
	const TTest	*open[] = {
		test_socket_mode, test_site_headers, test_servers_paging, NULL
	};
	const TTest	*conn[] = { test_conn_limit, NULL };
	const TTest	*defaults[] = {
		test_message_burst, test_message_human, test_servers_hourly,
		test_invites_hourly, test_searches, NULL
	};
	Suite	*s;

	itest_init();
	s = suite_create("limits");
	limits_case(s, "open", open, NULL, NULL);
	limits_case(s, "conn", conn, itest_exclusive, itest_restore_teardown);
	limits_case(s, "defaults", defaults, defaults_setup,
	    defaults_teardown);
	return check_run(s);
}
