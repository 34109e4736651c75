/* SPDX-License-Identifier: ISC */
/*
 * chat.c: helpers of the integration tests of conversations: accounts,
 * servers, DM channels, posting and reading messages (see chat.h).
 */
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "chat.h"

/* Register a new account whose username starts with prefix. */
void
chat_user(struct chat_user *u, const char *prefix)
{
	struct itest_response	*r;

	u->username = itest_unique(prefix);
	r = itest_send("POST", API_PREFIX "/auth/register", NULL,
	    "{\"username\":\"%s\",\"email\":\"%s@example.com\","
	    "\"password\":\"correct horse battery\"}", u->username,
	    u->username);
	itest_expect(r, 201);
	ck_assert_msg(itest_str(r, "user.id") != NULL &&
	    itest_str(r, "access_token") != NULL, "no user.id or "
	    "access_token: %s", itest_describe(r));
	u->id = xstrdup(itest_str(r, "user.id"));
	u->token = xstrdup(itest_str(r, "access_token"));
	itest_free(r);
}

/* Free what an account holds. */
void
chat_user_free(struct chat_user *u)
{
	free(u->id);
	free(u->username);
	free(u->token);
	memset(u, 0, sizeof *u);
}

/* Another access token of u, from a login of its own (another device). */
char *
chat_login(const struct chat_user *u)
{
	struct itest_response	*r;
	char			*token;

	r = itest_send("POST", API_PREFIX "/auth/login", NULL,
	    "{\"login\":\"%s\",\"password\":\"correct horse battery\"}",
	    u->username);
	itest_expect(r, 200);
	token = xstrdup(itest_str(r, "access_token"));
	itest_free(r);
	return token;
}

/*
 * Two users in a channel: a new server of a new owner and a new member
 * who joined it; the accounts' names start with prefix.
 */
void
chat_room_open(struct chat_room *r, const char *prefix)
{
	char	*who;

	memset(r, 0, sizeof *r);
	chat_user(&r->owner, prefix);
	xasprintf(&who, "%sm", prefix);
	chat_user(&r->member, who);
	free(who);
	r->server = chat_server(&r->owner, &r->channel);
	chat_join(&r->owner, r->server, &r->member);
	xasprintf(&r->base, API_PREFIX "/channels/%s", r->channel);
}

/* Free what chat_room_open() made (the accounts and server stay). */
void
chat_room_close(struct chat_room *r)
{
	chat_user_free(&r->owner);
	chat_user_free(&r->member);
	free(r->server);
	free(r->channel);
	free(r->base);
}

/* Create a server owned by owner: its id; its general channel's in *channel. */
char *
chat_server(const struct chat_user *owner, char **channel)
{
	struct itest_response	*r;
	char			*id, *path;

	r = itest_send("POST", API_PREFIX "/servers", owner->token,
	    "{\"name\":\"messages test\"}");
	itest_expect(r, 201);
	ck_assert_msg(itest_str(r, "id") != NULL, "no server id: %s",
	    itest_describe(r));
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	xasprintf(&path, API_PREFIX "/servers/%s/channels", id);
	r = itest_get(path, owner->token);
	itest_expect(r, 200);
	ck_assert_msg(itest_str(r, "0.id") != NULL, "no channel: %s",
	    itest_describe(r));
	*channel = xstrdup(itest_str(r, "0.id"));
	itest_free(r);
	free(path);
	return id;
}

/* A new invite of a server made by u with body (201 asserted): its code. */
char *
chat_invite(const struct chat_user *u, const char *server, const char *body)
{
	struct itest_response	*r;
	char			*path, *code;

	xasprintf(&path, API_PREFIX "/servers/%s/invites", server);
	r = itest_send("POST", path, u->token, "%s", body);
	free(path);
	itest_expect(r, 201);
	ck_assert_msg(itest_str(r, "code") != NULL, "no invite code: %s",
	    itest_describe(r));
	code = xstrdup(itest_str(r, "code"));
	itest_free(r);
	return code;
}

/* Make u a member of a server, through an invite of its owner. */
void
chat_join(const struct chat_user *owner, const char *server,
    const struct chat_user *u)
{
	struct itest_response	*r;
	char			*path, *code;

	code = chat_invite(owner, server, "{}");
	xasprintf(&path, API_PREFIX "/invites/%s", code);
	free(code);
	r = itest_send("POST", path, u->token, "{}");
	free(path);
	itest_expect(r, 200);
	itest_free(r);
}

/* Open the DM channel of a with b (201 or 200); its id. */
char *
chat_dm(const struct chat_user *a, const struct chat_user *b)
{
	struct itest_response	*r;
	char			*id;

	r = itest_send("POST", API_PREFIX "/dms", a->token,
	    "{\"user_id\":\"%s\"}", b->id);
	ck_assert_msg(r->status == 201 || r->status == 200, "POST /dms: %s",
	    itest_describe(r));
	ck_assert_msg(itest_str(r, "id") != NULL, "no DM id: %s",
	    itest_describe(r));
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	return id;
}

/* base + "/messages" + ("/" + id, if any) + (query, if any); caller frees. */
char *
chat_path(const char *base, const char *id, const char *query)
{
	char	*path;

	xasprintf(&path, "%s/messages%s%s%s%s", base, id != NULL ? "/" : "",
	    id != NULL ? id : "", query != NULL ? "?" : "",
	    query != NULL ? query : "");
	return path;
}

/* Post text (plain, quoted here) to a conversation: 201, the new id. */
char *
chat_post(const struct chat_user *u, const char *base, const char *text)
{
	struct itest_response	*r;
	char			*path, *quoted, *id;

	path = chat_path(base, NULL, NULL);
	quoted = itest_quote(text);
	r = itest_send("POST", path, u->token, "{\"content\":%s}", quoted);
	itest_expect(r, 201);
	itest_expect_str(r, "content", text);
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	free(quoted);
	free(path);
	return id;
}

/* GET a page of history (query may be NULL); asserts 200 and an array. */
struct itest_response *
chat_history(const struct chat_user *u, const char *base, const char *query)
{
	struct itest_response	*r;
	char			*path;

	path = chat_path(base, NULL, query);
	r = itest_get(path, u->token);
	free(path);
	itest_expect(r, 200);
	ck_assert_msg(r->json->type == JSON_ARRAY, "not an array: %s",
	    itest_describe(r));
	return r;
}

/* Assert a page holds exactly these message ids, in this order. */
void
chat_expect_ids(struct itest_response *r, char *const *ids, size_t n)
{
	const struct json	*item, *id;
	size_t			 i;

	ck_assert_msg(r->json->count == n, "expected %zu messages, got %zu: "
	    "%s", n, r->json->count, itest_describe(r));
	for (i = 0; i < n; i++) {
		item = r->json->items[i];
		id = itest_at(item, "id");
		ck_assert_msg(id != NULL && id->type == JSON_STRING &&
		    strcmp(id->text, ids[i]) == 0, "message %zu is not %s: %s",
		    i, ids[i], itest_describe(r));
	}
}

/* Whether a page holds a message id. */
int
chat_holds(struct itest_response *r, const char *id)
{
	const struct json	*v;
	size_t			 i;

	for (i = 0; i < r->json->count; i++) {
		v = itest_at(r->json->items[i], "id");
		if (v != NULL && v->type == JSON_STRING &&
		    strcmp(v->text, id) == 0)
			return 1;
	}
	return 0;
}

/*
 * A racer: connect, say it is ready, wait for the start, send, report
 * "index status id" on out, exit.  It connects first (a request of
 * GET /health, whose kept connection the race's request reuses): n
 * TLS handshakes made after the start spread the requests over tens
 * of milliseconds on a busy box (under the sanitizers most of all), and
 * requests that arrive one by one are never batched.
 */
static void NORETURN
chat_racer(int ready, int go, int out, const char *method, const char *path,
    const char *token, const char *body, int index)
{
	struct itest_response	*r;
	char			 line[64], c = 'r';
	const char		*id;
	int			 n;

	itest_free(itest_get(API_PREFIX "/health", NULL));
	if (write(ready, &c, 1) != 1)
		_exit(2);
	close(ready);
	while (read(go, &c, 1) == -1 && errno == EINTR)
		;
	r = itest_request(method, path, token, "application/json", body,
	    strlen(body));
	id = r->status != 0 ? itest_str(r, "id") : NULL;
	n = snprintf(line, sizeof line, "%d %ld %.30s\n", index, r->status,
	    id != NULL ? id : "-");
	if (write(out, line, (size_t)n) != n)
		_exit(2);
	_exit(0);
}

/*
 * Send n requests at the same moment from n processes, request i to
 * paths[i] with tokens[i] and bodies[i]; each answer's status and "id"
 * (or "-") come back in status[i] and ids[i] (new strings), in the order
 * they finished; order, unless NULL, gets in order[i] the index of the
 * request that status[i] answered.
 */
void
chat_race_paths(int n, const char *method, const char *const *paths,
    const char *const *tokens, const char *const *bodies, long *status,
    char **ids, int *order)
{
	FILE	*in;
	pid_t	*pids;
	char	 id[64], c;
	int	 ready[2], go[2], res[2], i, ws, who;
	ssize_t	 got;

	ck_assert(pipe(ready) == 0 && pipe(go) == 0 && pipe(res) == 0);
	pids = xcalloc((size_t)n, sizeof *pids);
	for (i = 0; i < n; i++) {
		ck_assert_msg((pids[i] = fork()) != -1, "fork: %s",
		    strerror(errno));
		if (pids[i] == 0) {
			close(ready[0]);
			close(go[1]);
			close(res[0]);
			chat_racer(ready[1], go[0], res[1], method, paths[i],
			    tokens[i], bodies[i], i);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(res[1]);
	/*
	 * Start them when every racer waits at its read(): on a busy box
	 * forking n processes can take longer than any fixed pause, and
	 * racers that came late would send one by one.
	 */
	for (i = 0; i < n; i += got == 1)
		ck_assert_msg((got = read(ready[0], &c, 1)) == 1 ||
		    (got == -1 && errno == EINTR), "racer %d never got ready",
		    i);
	close(ready[0]);
	close(go[1]);
	ck_assert((in = fdopen(res[0], "r")) != NULL);
	for (i = 0; i < n; i++) {
		ck_assert_msg(fscanf(in, "%d %ld %63s", &who, &status[i], id) ==
		    3 && who >= 0 && who < n, "racer %d gave no answer", i);
		ids[i] = xstrdup(id);
		if (order != NULL)
			order[i] = who;
	}
	fclose(in);
	/* Its own children only: the caller may have others running. */
	for (i = 0; i < n; i++)
		ck_assert(waitpid(pids[i], &ws, 0) == pids[i]);
	free(pids);
}

/* Set the permissions of a server's default role, as its owner. */
void
chat_default_permissions(const struct chat_user *owner, const char *server,
    const char *permissions)
{
	struct itest_response	*r;
	const struct json	*roles, *d;
	char			*path, *role = NULL;
	size_t			 i;

	xasprintf(&path, API_PREFIX "/servers/%s/roles", server);
	r = itest_get(path, owner->token);
	itest_expect(r, 200);
	roles = r->json;
	for (i = 0; i < roles->count; i++) {
		d = itest_at(roles->items[i], "is_default");
		if (d != NULL && d->type == JSON_BOOL && d->boolean)
			role = xstrdup(itest_at(roles->items[i], "id")->text);
	}
	ck_assert_msg(role != NULL, "no default role: %s", itest_describe(r));
	itest_free(r);
	free(path);
	xasprintf(&path, API_PREFIX "/servers/%s/roles/%s", server, role);
	r = itest_send("PATCH", path, owner->token, "{\"permissions\":%s}",
	    permissions);
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	free(role);
}

/*
 * Set the overwrite of one member on a channel (base: API_PREFIX
 * "/channels/ID") as its server's owner, body {allow, deny} (200
 * asserted).
 */
void
chat_member_overwrite(const struct chat_user *owner, const char *base,
    const struct chat_user *u, const char *body)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, "%s/overwrites/member/%s", base, u->id);
	r = itest_send("PUT", path, owner->token, "%s", body);
	itest_expect(r, 200);
	itest_free(r);
	free(path);
}

/* The events of u after a cursor, without waiting (200 asserted). */
struct itest_response *
chat_events(const struct chat_user *u, const char *cursor)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=0", cursor);
	r = itest_get(path, u->token);
	free(path);
	itest_expect(r, 200);
	return r;
}

/* chat_race_paths() with one path for all, answers in finishing order. */
void
chat_race(int n, const char *method, const char *path,
    const char *const *tokens, const char *const *bodies, long *status,
    char **ids)
{
	const char	**paths;
	int		  i;

	paths = xcalloc((size_t)n, sizeof *paths);
	for (i = 0; i < n; i++)
		paths[i] = path;
	chat_race_paths(n, method, paths, tokens, bodies, status, ids, NULL);
	free(paths);
}

/* POST a JSON body (as it is) to a conversation's messages as u. */
struct itest_response *
chat_send(const struct chat_user *u, const char *base, const char *body)
{
	struct itest_response	*r;
	char			*path;

	path = chat_path(base, NULL, NULL);
	r = itest_send("POST", path, u->token, "%s", body);
	free(path);
	return r;
}
