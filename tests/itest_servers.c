/* SPDX-License-Identifier: ISC */
/*
 * itest_servers.c: integration tests of servers, members, invites, roles
 * and channels (API.md) against the real nginx + sohbetd + MariaDB: every
 * endpoint, the visibility rule (404 outside a server, 403 inside), the
 * IDOR probes a hostile member would try, the one-use invite race, and
 * privilege escalation by a manage_roles holder.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>

#include "chat.h"
#include "check_run.h"

#define RACERS		4
#define RACE_ROUNDS	3

/* A server for a test: its owner, id and general channel. */
struct fixture {
	struct chat_user	 owner;
	char			*id;
	char			*general;
};

/* Send method to a printf-formatted path as u (NULL: no token). */
static struct itest_response *
vcall(const char *method, const struct chat_user *u, const char *body,
    const char *fmt, va_list ap)
{
	struct itest_response	*r;
	char			*path;

	if (vasprintf(&path, fmt, ap) < 0)
		abort();
	if (body != NULL)
		r = itest_request(method, path, u != NULL ? u->token : NULL,
		    "application/json", body, strlen(body));
	else
		r = itest_request(method, path, u != NULL ? u->token : NULL,
		    NULL, NULL, 0);
	free(path);
	return r;
}

/* Send a request (body: JSON text or NULL); the caller frees the answer. */
static struct itest_response * PRINTFLIKE(4, 5)
call(const char *method, const struct chat_user *u, const char *body,
    const char *fmt, ...)
{
	struct itest_response	*r;
	va_list			 ap;

	va_start(ap, fmt);
	r = vcall(method, u, body, fmt, ap);
	va_end(ap);
	return r;
}

/* Send a request and assert its status (204: an empty body). */
static void PRINTFLIKE(5, 6)
expect(long status, const char *method, const struct chat_user *u,
    const char *body, const char *fmt, ...)
{
	struct itest_response	*r;
	va_list			 ap;

	va_start(ap, fmt);
	r = vcall(method, u, body, fmt, ap);
	va_end(ap);
	if (status == 204)
		ck_assert_msg(r->status == 204 && r->len == 0, "expected 204: "
		    "%s", itest_describe(r));
	else
		itest_expect(r, status);
	itest_free(r);
}

/* Send a request and assert an API error: status and code. */
static void PRINTFLIKE(6, 7)
expect_error(long status, const char *code, const char *method,
    const struct chat_user *u, const char *body, const char *fmt, ...)
{
	struct itest_response	*r;
	va_list			 ap;

	va_start(ap, fmt);
	r = vcall(method, u, body, fmt, ap);
	va_end(ap);
	itest_expect_error(r, status, code);
	itest_free(r);
}

/* The integer at a path of the body (asserted to be one). */
static long long
num(struct itest_response *r, const char *path)
{
	const struct json	*v;
	long long		 n;

	v = itest_at(r->json, path);
	ck_assert_msg(v != NULL && json_integer(v, &n) == 0, "%s is not an "
	    "integer: %s", path, itest_describe(r));
	return n;
}

/* Whether the value at a path is JSON null. */
static int
is_null(struct itest_response *r, const char *path)
{
	const struct json	*v;

	v = itest_at(r->json, path);
	return v != NULL && v->type == JSON_NULL;
}

/* The number of items of the array body. */
static size_t
count(struct itest_response *r)
{
	ck_assert_msg(r->json != NULL && r->json->type == JSON_ARRAY,
	    "not an array: %s", itest_describe(r));
	return r->json->count;
}

/* Assert an RFC 3339 UTC time with milliseconds at a path. */
static void
expect_time(struct itest_response *r, const char *path)
{
	const char	*t = itest_str(r, path);

	ck_assert_msg(t != NULL && strlen(t) == 24 && t[10] == 'T' &&
	    t[19] == '.' && t[23] == 'Z', "%s is not a time: %s", path,
	    itest_describe(r));
}

/* Make a server owned by a new user. */
static void
fixture(struct fixture *f, const char *prefix)
{
	chat_user(&f->owner, prefix);
	f->id = chat_server(&f->owner, &f->general);
}

/* Free a fixture. */
static void
fixture_free(struct fixture *f)
{
	chat_user_free(&f->owner);
	free(f->id);
	free(f->general);
}

/* A new user who joined f's server. */
static void
member(struct fixture *f, struct chat_user *u, const char *prefix)
{
	chat_user(u, prefix);
	chat_join(&f->owner, f->id, u);
}

/*
 * Assert a page of a server's members as u (after: a user id or NULL;
 * limit 0: the default) holds exactly the n user ids in want.
 */
static void
expect_page(const struct chat_user *u, const char *server, const char *after,
    int limit, const char *const *want, size_t n)
{
	struct itest_response	*r;
	char			 query[128], path[16];
	size_t			 i;

	if (after != NULL && limit != 0)
		snprintf(query, sizeof query, "after=%s&limit=%d", after,
		    limit);
	else if (after != NULL)
		snprintf(query, sizeof query, "after=%s", after);
	else
		snprintf(query, sizeof query, "limit=%d", limit);
	r = call("GET", u, NULL, API_PREFIX "/servers/%s/members?%s", server,
	    query);
	itest_expect(r, 200);
	ck_assert_msg(count(r) == n, "expected %zu members: %s", n,
	    itest_describe(r));
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%zu.user.id", i);
		itest_expect_str(r, path, want[i]);
	}
	itest_free(r);
}

/* Create a role as actor (201 asserted); its id. */
static char *
role(const struct fixture *f, const struct chat_user *actor,
    const char *name, const char *perms, int position)
{
	struct itest_response	*r;
	char			*body, *id;

	xasprintf(&body, "{\"name\":\"%s\",\"permissions\":%s,"
	    "\"position\":%d}", name, perms, position);
	r = call("POST", actor, body, API_PREFIX "/servers/%s/roles", f->id);
	itest_expect(r, 201);
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	free(body);
	return id;
}

/* Give a member a role as the server's owner (204 asserted). */
static void
give(const struct fixture *f, const struct chat_user *u, const char *role_id)
{
	expect(204, "PUT", &f->owner, NULL, API_PREFIX
	    "/servers/%s/members/%s/roles/%s", f->id, u->id, role_id);
}

/* The id of the server's default role. */
static char *
default_role(const struct fixture *f)
{
	struct itest_response	*r;
	char			*id;

	r = call("GET", &f->owner, NULL, API_PREFIX "/servers/%s/roles",
	    f->id);
	itest_expect(r, 200);
	ck_assert_msg(count(r) >= 1 && itest_at(r->json, "0.is_default") !=
	    NULL && itest_at(r->json, "0.is_default")->boolean, "the first "
	    "role is not the default: %s", itest_describe(r));
	id = xstrdup(itest_str(r, "0.id"));
	itest_free(r);
	return id;
}

/* Set the permissions of the default role as the owner. */
static void
default_perms(const struct fixture *f, const char *perms)
{
	char	*id, *body;

	id = default_role(f);
	xasprintf(&body, "{\"permissions\":%s}", perms);
	expect(200, "PATCH", &f->owner, body, API_PREFIX
	    "/servers/%s/roles/%s", f->id, id);
	free(body);
	free(id);
}

/* Create an invite as u with a body; its code (201 asserted). */
static char *
invite(const struct fixture *f, const struct chat_user *u, const char *body)
{
	struct itest_response	*r;
	char			*code;

	r = call("POST", u, body, API_PREFIX "/servers/%s/invites", f->id);
	itest_expect(r, 201);
	code = xstrdup(itest_str(r, "code"));
	itest_free(r);
	return code;
}

START_TEST(test_server_create)
{
	struct itest_response	*r;
	struct fixture		 f;
	char			 name[100 * 2 + 1];
	int			 i;

	chat_user(&f.owner, "srv");
	f.general = NULL;
	r = call("POST", &f.owner, "{\"name\":\"My  Server \\u00e9\"}",
	    API_PREFIX "/servers");
	itest_expect(r, 201);
	itest_expect_str(r, "name", "My  Server \xc3\xa9");
	itest_expect_str(r, "owner_id", f.owner.id);
	expect_time(r, "created_at");
	f.id = xstrdup(itest_str(r, "id"));
	itest_free(r);

	r = call("GET", &f.owner, NULL, API_PREFIX "/servers/%s", f.id);
	itest_expect(r, 200);
	itest_expect_str(r, "id", f.id);
	itest_expect_str(r, "name", "My  Server \xc3\xa9");
	itest_free(r);

	/* The general channel and the default role come with it. */
	r = call("GET", &f.owner, NULL, API_PREFIX "/servers/%s/channels",
	    f.id);
	itest_expect(r, 200);
	ck_assert_uint_eq(count(r), 1);
	itest_expect_str(r, "0.name", "general");
	itest_expect_str(r, "0.server_id", f.id);
	expect_time(r, "0.created_at");
	itest_free(r);
	r = call("GET", &f.owner, NULL, API_PREFIX "/servers/%s/roles", f.id);
	itest_expect(r, 200);
	ck_assert_uint_eq(count(r), 1);
	itest_expect_str(r, "0.name", "@everyone");
	itest_expect_str(r, "0.server_id", f.id);
	ck_assert_int_eq(num(r, "0.position"), 0);
	ck_assert(itest_at(r->json, "0.is_default")->boolean);
	ck_assert_uint_eq(itest_at(r->json, "0.permissions")->count, 6);
	itest_expect_str(r, "0.permissions.0", "create_invite");
	itest_expect_str(r, "0.permissions.1", "change_nickname");
	itest_expect_str(r, "0.permissions.2", "view_channels");
	itest_expect_str(r, "0.permissions.3", "send_messages");
	itest_expect_str(r, "0.permissions.4", "add_reactions");
	itest_expect_str(r, "0.permissions.5", "attach_files");
	itest_free(r);

	/* The owner is the only member; the default role is not listed. */
	r = call("GET", &f.owner, NULL, API_PREFIX "/servers/%s/members",
	    f.id);
	itest_expect(r, 200);
	ck_assert_uint_eq(count(r), 1);
	itest_expect_str(r, "0.user.id", f.owner.id);
	itest_expect_str(r, "0.user.username", f.owner.username);
	ck_assert(is_null(r, "0.nickname"));
	expect_time(r, "0.joined_at");
	ck_assert_uint_eq(itest_at(r->json, "0.roles")->count, 0);
	itest_free(r);

	r = call("GET", &f.owner, NULL, API_PREFIX "/users/@me/servers");
	itest_expect(r, 200);
	ck_assert_uint_eq(count(r), 1);
	itest_expect_str(r, "0.id", f.id);
	itest_free(r);

	/* Names: 1..100 code points, no control characters. */
	for (i = 0; i < 100; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[200] = '\0';
	r = itest_send("POST", API_PREFIX "/servers", f.owner.token,
	    "{\"name\":\"%s\"}", name);
	itest_expect(r, 201);
	itest_expect_str(r, "name", name);
	itest_free(r);
	r = itest_send("POST", API_PREFIX "/servers", f.owner.token,
	    "{\"name\":\"%sx\"}", name);
	itest_expect_error(r, 400, "validation_failed");
	itest_expect_str(r, "error.field", "name");
	itest_free(r);
	expect_error(400, "validation_failed", "POST", &f.owner, "{}",
	    API_PREFIX "/servers");
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":\"\"}", API_PREFIX "/servers");
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":null}", API_PREFIX "/servers");
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":5}", API_PREFIX "/servers");
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":\"a\\u0007b\"}", API_PREFIX "/servers");
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":\"a\\nb\"}", API_PREFIX "/servers");
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":\"a\\u0000b\"}", API_PREFIX "/servers");
	expect_error(400, "invalid_json", "POST", &f.owner, NULL,
	    API_PREFIX "/servers");
	expect_error(401, "unauthorized", "POST", NULL, "{\"name\":\"x\"}",
	    API_PREFIX "/servers");
	fixture_free(&f);
}
END_TEST

START_TEST(test_server_visibility)
{
	struct fixture		f;
	struct chat_user	stranger, m;

	fixture(&f, "vis");
	chat_user(&stranger, "visx");
	member(&f, &m, "vism");
	expect_error(404, "not_found", "GET", &stranger, NULL,
	    API_PREFIX "/servers/%s", f.id);
	expect_error(404, "not_found", "PATCH", &stranger, "{\"name\":\"x\"}",
	    API_PREFIX "/servers/%s", f.id);
	expect_error(404, "not_found", "DELETE", &stranger, NULL,
	    API_PREFIX "/servers/%s", f.id);
	expect_error(404, "not_found", "GET", &stranger, NULL,
	    API_PREFIX "/servers/%s/members", f.id);
	expect_error(404, "not_found", "GET", &stranger, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, f.owner.id);
	expect_error(404, "not_found", "GET", &stranger, NULL,
	    API_PREFIX "/servers/%s/roles", f.id);
	expect_error(404, "not_found", "GET", &stranger, NULL,
	    API_PREFIX "/servers/%s/channels", f.id);
	expect_error(404, "not_found", "POST", &stranger, "{\"name\":\"x\"}",
	    API_PREFIX "/servers/%s/channels", f.id);
	expect_error(404, "not_found", "GET", &stranger, NULL,
	    API_PREFIX "/channels/%s", f.general);
	expect_error(404, "not_found", "PATCH", &stranger, "{\"name\":\"x\"}",
	    API_PREFIX "/channels/%s", f.general);
	expect_error(404, "not_found", "DELETE", &stranger, NULL,
	    API_PREFIX "/channels/%s", f.general);
	expect_error(404, "not_found", "POST", &stranger, "{}",
	    API_PREFIX "/servers/%s/invites", f.id);
	expect_error(404, "not_found", "GET", &stranger, NULL,
	    API_PREFIX "/servers/%s/invites", f.id);
	expect_error(404, "not_found", "GET", &stranger, NULL,
	    API_PREFIX "/servers/99999999999999");
	expect_error(404, "not_found", "GET", &stranger, NULL,
	    API_PREFIX "/channels/99999999999999");
	expect_error(400, "invalid_id", "GET", &stranger, NULL,
	    API_PREFIX "/servers/abc");
	expect_error(400, "invalid_id", "GET", &stranger, NULL,
	    API_PREFIX "/servers/0");
	expect_error(400, "invalid_id", "GET", &stranger, NULL,
	    API_PREFIX "/channels/-1");
	expect_error(400, "invalid_id", "GET", &m, NULL,
	    API_PREFIX "/servers/%s/members/x1", f.id);
	/* A member sees the server, and not what they may not change. */
	expect(200, "GET", &m, NULL, API_PREFIX "/servers/%s", f.id);
	expect_error(403, "missing_permission", "PATCH", &m,
	    "{\"name\":\"x\"}", API_PREFIX "/servers/%s", f.id);
	expect_error(403, "missing_permission", "DELETE", &m, NULL,
	    API_PREFIX "/servers/%s", f.id);
	chat_user_free(&stranger);
	chat_user_free(&m);
	fixture_free(&f);
}
END_TEST

START_TEST(test_server_patch)
{
	struct itest_response	*r;
	struct fixture		 f;
	struct chat_user	 m;
	char			*admin;

	fixture(&f, "pat");
	member(&f, &m, "patm");
	r = call("PATCH", &f.owner, "{\"name\":\"Renamed\"}",
	    API_PREFIX "/servers/%s", f.id);
	itest_expect(r, 200);
	itest_expect_str(r, "id", f.id);
	itest_expect_str(r, "name", "Renamed");
	itest_expect_str(r, "owner_id", f.owner.id);
	expect_time(r, "created_at");
	itest_free(r);
	expect_error(400, "validation_failed", "PATCH", &f.owner, "{}",
	    API_PREFIX "/servers/%s", f.id);
	expect_error(400, "validation_failed", "PATCH", &f.owner,
	    "{\"name\":\"\\t\"}", API_PREFIX "/servers/%s", f.id);
	expect_error(403, "missing_permission", "PATCH", &m,
	    "{\"name\":\"Mine\"}", API_PREFIX "/servers/%s", f.id);
	admin = role(&f, &f.owner, "server admin", "[\"manage_server\"]", 1);
	give(&f, &m, admin);
	r = call("PATCH", &m, "{\"name\":\"Mine\"}", API_PREFIX "/servers/%s",
	    f.id);
	itest_expect(r, 200);
	itest_expect_str(r, "name", "Mine");
	itest_free(r);
	r = call("GET", &f.owner, NULL, API_PREFIX "/servers/%s", f.id);
	itest_expect_str(r, "name", "Mine");
	itest_free(r);
	free(admin);
	chat_user_free(&m);
	fixture_free(&f);
}
END_TEST

START_TEST(test_server_delete)
{
	struct itest_response	*r;
	struct fixture		 f;
	struct chat_user	 m;
	char			*admin, *code, *chan;

	fixture(&f, "del");
	member(&f, &m, "delm");
	admin = role(&f, &f.owner, "admin", "[\"administrator\"]", 3);
	give(&f, &m, admin);
	code = invite(&f, &f.owner, "{}");
	r = call("POST", &f.owner, "{\"name\":\"second\"}",
	    API_PREFIX "/servers/%s/channels", f.id);
	itest_expect(r, 201);
	chan = xstrdup(itest_str(r, "id"));
	itest_free(r);

	/* Administrator is not ownership. */
	expect_error(403, "missing_permission", "DELETE", &m, NULL,
	    API_PREFIX "/servers/%s", f.id);
	expect(204, "DELETE", &f.owner, NULL, API_PREFIX "/servers/%s", f.id);

	/* Everything in it is gone, for everyone. */
	expect_error(404, "not_found", "GET", &f.owner, NULL,
	    API_PREFIX "/servers/%s", f.id);
	expect_error(404, "not_found", "GET", &m, NULL,
	    API_PREFIX "/servers/%s", f.id);
	expect_error(404, "not_found", "GET", &f.owner, NULL,
	    API_PREFIX "/channels/%s", f.general);
	expect_error(404, "not_found", "GET", &m, NULL,
	    API_PREFIX "/channels/%s", chan);
	expect_error(404, "not_found", "GET", &m, NULL,
	    API_PREFIX "/invites/%s", code);
	expect_error(404, "not_found", "PATCH", &f.owner, "{\"name\":\"x\"}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, admin);
	expect_error(404, "not_found", "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s", f.id);
	r = call("GET", &m, NULL, API_PREFIX "/users/@me/servers");
	itest_expect(r, 200);
	ck_assert_uint_eq(count(r), 0);
	itest_free(r);
	free(admin);
	free(code);
	free(chan);
	chat_user_free(&m);
	fixture_free(&f);
}
END_TEST

START_TEST(test_members_list)
{
	struct itest_response	*r;
	struct fixture		 f;
	struct chat_user	 u[4], out;
	const char		*ids[5];
	unsigned long long	 prev, id;
	size_t			 i;

	fixture(&f, "lst");
	for (i = 0; i < 4; i++)
		member(&f, &u[i], "lstm");
	r = call("GET", &u[0], NULL, API_PREFIX "/servers/%s/members",
	    f.id);
	itest_expect(r, 200);
	ck_assert_uint_eq(count(r), 5);
	prev = 0;
	for (i = 0; i < 5; i++) {
		ids[i] = itest_at(r->json->items[i], "user.id")->text;
		id = strtoull(ids[i], NULL, 10);
		ck_assert_msg(id > prev, "not in user id order: %s",
		    itest_describe(r));
		prev = id;
	}
	/* Pages by user id. */
	expect_page(&u[1], f.id, NULL, 2, ids, 2);
	expect_page(&u[1], f.id, ids[1], 2, ids + 2, 2);
	expect_page(&u[1], f.id, ids[3], 0, ids + 4, 1);
	expect_page(&u[1], f.id, ids[4], 0, NULL, 0);
	expect_error(400, "validation_failed", "GET", &u[0], NULL,
	    API_PREFIX "/servers/%s/members?limit=0", f.id);
	expect_error(400, "validation_failed", "GET", &u[0], NULL,
	    API_PREFIX "/servers/%s/members?limit=101", f.id);
	expect_error(400, "validation_failed", "GET", &u[0], NULL,
	    API_PREFIX "/servers/%s/members?limit=x", f.id);
	expect_error(400, "invalid_id", "GET", &u[0], NULL,
	    API_PREFIX "/servers/%s/members?after=x", f.id);
	itest_free(r);

	/* One member, by id and as @me. */
	r = call("GET", &u[0], NULL, API_PREFIX "/servers/%s/members/%s",
	    f.id, u[2].id);
	itest_expect(r, 200);
	itest_expect_str(r, "user.id", u[2].id);
	itest_expect_str(r, "user.username", u[2].username);
	ck_assert(itest_at(r->json, "user.email") == NULL);
	ck_assert(is_null(r, "nickname"));
	expect_time(r, "joined_at");
	ck_assert_uint_eq(itest_at(r->json, "roles")->count, 0);
	itest_free(r);
	r = call("GET", &u[3], NULL, API_PREFIX "/servers/%s/members/@me",
	    f.id);
	itest_expect(r, 200);
	itest_expect_str(r, "user.id", u[3].id);
	itest_free(r);
	chat_user(&out, "lsto");
	expect_error(404, "not_found", "GET", &u[0], NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, out.id);
	chat_user_free(&out);
	for (i = 0; i < 4; i++)
		chat_user_free(&u[i]);
	fixture_free(&f);
}
END_TEST

START_TEST(test_nicknames)
{
	struct itest_response	*r;
	struct fixture		 f;
	struct chat_user	 mod, peer, low;
	char			*rmod, *rpeer, *rlow;

	fixture(&f, "nck");
	member(&f, &mod, "nckm");
	member(&f, &peer, "nckp");
	member(&f, &low, "nckl");
	rmod = role(&f, &f.owner, "mod", "[\"manage_nicknames\"]", 5);
	rpeer = role(&f, &f.owner, "peer", "[]", 5);
	rlow = role(&f, &f.owner, "low", "[]", 2);
	give(&f, &mod, rmod);
	give(&f, &peer, rpeer);
	give(&f, &low, rlow);

	/* Your own: change_nickname (the default role has it). */
	r = call("PATCH", &low, "{\"nickname\":\"Lowly \\u00fc\"}",
	    API_PREFIX "/servers/%s/members/@me", f.id);
	itest_expect(r, 200);
	itest_expect_str(r, "nickname", "Lowly \xc3\xbc");
	itest_expect_str(r, "user.id", low.id);
	itest_expect_str(r, "roles.0", rlow);
	expect_time(r, "joined_at");
	itest_free(r);
	r = call("PATCH", &low, "{\"nickname\":null}",
	    API_PREFIX "/servers/%s/members/%s", f.id, low.id);
	itest_expect(r, 200);
	ck_assert(is_null(r, "nickname"));
	itest_free(r);
	expect_error(400, "validation_failed", "PATCH", &low, "{}",
	    API_PREFIX "/servers/%s/members/@me", f.id);
	expect_error(400, "validation_failed", "PATCH", &low,
	    "{\"nickname\":\"\"}", API_PREFIX "/servers/%s/members/@me", f.id);
	expect_error(400, "validation_failed", "PATCH", &low,
	    "{\"nickname\":\"123456789012345678901234567890123\"}",
	    API_PREFIX "/servers/%s/members/@me", f.id);
	expect(200, "PATCH", &low,
	    "{\"nickname\":\"12345678901234567890123456789012\"}",
	    API_PREFIX "/servers/%s/members/@me", f.id);

	/* Others': manage_nicknames and a higher rank. */
	expect_error(403, "missing_permission", "PATCH", &low,
	    "{\"nickname\":\"x\"}", API_PREFIX "/servers/%s/members/%s", f.id,
	    peer.id);
	r = call("PATCH", &mod, "{\"nickname\":\"renamed\"}",
	    API_PREFIX "/servers/%s/members/%s", f.id, low.id);
	itest_expect(r, 200);
	itest_expect_str(r, "nickname", "renamed");
	itest_free(r);
	expect_error(403, "missing_permission", "PATCH", &mod,
	    "{\"nickname\":\"x\"}", API_PREFIX "/servers/%s/members/%s", f.id,
	    peer.id);
	expect_error(403, "missing_permission", "PATCH", &mod,
	    "{\"nickname\":\"x\"}", API_PREFIX "/servers/%s/members/%s", f.id,
	    f.owner.id);
	expect(200, "PATCH", &f.owner, "{\"nickname\":\"boss says\"}",
	    API_PREFIX "/servers/%s/members/%s", f.id, mod.id);
	expect(200, "PATCH", &f.owner, "{\"nickname\":\"me\"}",
	    API_PREFIX "/servers/%s/members/@me", f.id);

	/* Without change_nickname on the default role, not even your own. */
	default_perms(&f, "[\"view_channels\",\"send_messages\"]");
	expect_error(403, "missing_permission", "PATCH", &low,
	    "{\"nickname\":\"x\"}", API_PREFIX "/servers/%s/members/@me", f.id);
	r = call("GET", &peer, NULL, API_PREFIX "/servers/%s/members/%s",
	    f.id, low.id);
	itest_expect_str(r, "nickname", "renamed");
	itest_free(r);
	free(rmod);
	free(rpeer);
	free(rlow);
	chat_user_free(&mod);
	chat_user_free(&peer);
	chat_user_free(&low);
	fixture_free(&f);
}
END_TEST

START_TEST(test_kick_and_leave)
{
	struct fixture		f;
	struct chat_user	mod, peer, low, other;
	char			*rmod, *rlow;

	fixture(&f, "kck");
	member(&f, &mod, "kckm");
	member(&f, &peer, "kckp");
	member(&f, &low, "kckl");
	member(&f, &other, "kcko");
	rmod = role(&f, &f.owner, "mod", "[\"kick_members\"]", 5);
	rlow = role(&f, &f.owner, "low", "[]", 2);
	give(&f, &mod, rmod);
	give(&f, &peer, rmod);
	give(&f, &low, rlow);

	expect_error(403, "missing_permission", "DELETE", &low, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, other.id);
	expect_error(403, "missing_permission", "DELETE", &mod, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, peer.id);
	expect_error(403, "missing_permission", "DELETE", &mod, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, f.owner.id);
	expect(204, "DELETE", &mod, NULL, API_PREFIX "/servers/%s/members/%s",
	    f.id, low.id);

	/* A kicked member loses access at once. */
	expect_error(404, "not_found", "GET", &low, NULL,
	    API_PREFIX "/servers/%s", f.id);
	expect_error(404, "not_found", "GET", &low, NULL,
	    API_PREFIX "/servers/%s/channels", f.id);
	expect_error(404, "not_found", "GET", &low, NULL,
	    API_PREFIX "/channels/%s", f.general);
	expect_error(404, "not_found", "GET", &mod, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, low.id);
	expect_error(404, "not_found", "DELETE", &mod, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, low.id);

	/* The owner cannot leave; others can, by @me or their id. */
	expect_error(409, "owner_cannot_leave", "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/@me", f.id);
	expect_error(409, "owner_cannot_leave", "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, f.owner.id);
	expect(204, "DELETE", &other, NULL,
	    API_PREFIX "/servers/%s/members/@me", f.id);
	expect_error(404, "not_found", "GET", &other, NULL,
	    API_PREFIX "/servers/%s", f.id);
	expect(204, "DELETE", &peer, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, peer.id);
	expect_error(404, "not_found", "DELETE", &peer, NULL,
	    API_PREFIX "/servers/%s/members/@me", f.id);
	/* The owner kicks anyone. */
	expect(204, "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, mod.id);
	expect(200, "GET", &f.owner, NULL, API_PREFIX "/servers/%s", f.id);
	free(rmod);
	free(rlow);
	chat_user_free(&mod);
	chat_user_free(&peer);
	chat_user_free(&low);
	chat_user_free(&other);
	fixture_free(&f);
}
END_TEST

START_TEST(test_invites)
{
	struct itest_response	*r;
	struct fixture		 f;
	struct chat_user	 m, guest, late, third, outsider;
	const char		*code;
	char			*c1, *c2, *manager;

	fixture(&f, "inv");
	member(&f, &m, "invm");
	chat_user(&guest, "invg");
	chat_user(&late, "invl");

	r = call("POST", &m, NULL, API_PREFIX "/servers/%s/invites", f.id);
	itest_expect(r, 201);
	code = itest_str(r, "code");
	ck_assert_msg(code != NULL && strlen(code) >= 8 && strspn(code,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
	    == strlen(code), "bad code: %s", itest_describe(r));
	itest_expect_str(r, "server.id", f.id);
	itest_expect_str(r, "server.name", "messages test");
	itest_expect_str(r, "inviter.id", m.id);
	itest_expect_str(r, "inviter.username", m.username);
	ck_assert_int_eq(num(r, "uses"), 0);
	ck_assert_int_eq(num(r, "max_uses"), 0);
	expect_time(r, "expires_at");
	expect_time(r, "created_at");
	/* Default max_age: one day. */
	ck_assert_msg(strncmp(itest_str(r, "expires_at"),
	    itest_str(r, "created_at"), 4) == 0 && strcmp(itest_str(r,
	    "expires_at"), itest_str(r, "created_at")) > 0, "expiry: %s",
	    itest_describe(r));
	c1 = xstrdup(code);
	itest_free(r);

	r = call("POST", &f.owner, "{\"max_uses\":1,\"max_age\":0}",
	    API_PREFIX "/servers/%s/invites", f.id);
	itest_expect(r, 201);
	ck_assert(is_null(r, "expires_at"));
	ck_assert_int_eq(num(r, "max_uses"), 1);
	c2 = xstrdup(itest_str(r, "code"));
	itest_free(r);
	ck_assert_str_ne(c1, c2);

	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"max_uses\":101}", API_PREFIX "/servers/%s/invites", f.id);
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"max_uses\":-1}", API_PREFIX "/servers/%s/invites", f.id);
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"max_uses\":\"1\"}", API_PREFIX "/servers/%s/invites", f.id);
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"max_age\":604801}", API_PREFIX "/servers/%s/invites", f.id);
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"max_age\":1.5}", API_PREFIX "/servers/%s/invites", f.id);
	expect(201, "POST", &f.owner, "{\"max_uses\":100,\"max_age\":604800}",
	    API_PREFIX "/servers/%s/invites", f.id);

	/* The preview is for any signed-in user. */
	r = call("GET", &guest, NULL, API_PREFIX "/invites/%s", c1);
	itest_expect(r, 200);
	itest_expect_str(r, "code", c1);
	itest_expect_str(r, "server.id", f.id);
	itest_expect_str(r, "inviter.id", m.id);
	ck_assert(itest_at(r->json, "server.owner_id") == NULL);
	itest_free(r);
	expect_error(401, "unauthorized", "GET", NULL, NULL,
	    API_PREFIX "/invites/%s", c1);
	expect_error(404, "not_found", "GET", &guest, NULL,
	    API_PREFIX "/invites/AAAAAAAAAAAAAAAA");
	expect_error(404, "not_found", "GET", &guest, NULL,
	    API_PREFIX "/invites/%%27%%20OR%%201%%3D1");
	expect_error(404, "not_found", "POST", &guest, NULL,
	    API_PREFIX "/invites/AAAAAAAAAAAAAAAA");

	/* Join: 200 with the server; again: 200, no second use. */
	r = call("POST", &guest, NULL, API_PREFIX "/invites/%s", c1);
	itest_expect(r, 200);
	itest_expect_str(r, "id", f.id);
	itest_expect_str(r, "owner_id", f.owner.id);
	itest_free(r);
	expect(200, "POST", &guest, NULL, API_PREFIX "/invites/%s", c1);
	expect(200, "POST", &m, "{}", API_PREFIX "/invites/%s", c1);
	r = call("GET", &guest, NULL, API_PREFIX "/invites/%s", c1);
	ck_assert_int_eq(num(r, "uses"), 1);
	itest_free(r);
	expect(200, "GET", &guest, NULL, API_PREFIX "/servers/%s/members/@me",
	    f.id);

	/* One use: the second user is turned away; used up is gone. */
	expect(200, "POST", &late, NULL, API_PREFIX "/invites/%s", c2);
	chat_user(&third, "inv3");
	expect_error(404, "not_found", "POST", &third, NULL,
	    API_PREFIX "/invites/%s", c2);
	expect_error(404, "not_found", "GET", &third, NULL,
	    API_PREFIX "/invites/%s", c2);
	chat_user_free(&third);

	/* Listing needs manage_server. */
	expect_error(403, "missing_permission", "GET", &m, NULL,
	    API_PREFIX "/servers/%s/invites", f.id);
	r = call("GET", &f.owner, NULL, API_PREFIX "/servers/%s/invites",
	    f.id);
	itest_expect(r, 200);
	/* c1, the 100-use one and member()'s; c2 is used up. */
	ck_assert_uint_eq(count(r), 3);
	itest_free(r);
	manager = role(&f, &f.owner, "manager", "[\"manage_server\"]", 2);
	give(&f, &late, manager);
	expect(200, "GET", &late, NULL, API_PREFIX "/servers/%s/invites",
	    f.id);

	/* Delete: its creator, or manage_server. */
	expect_error(403, "missing_permission", "DELETE", &guest, NULL,
	    API_PREFIX "/invites/%s", c1);
	expect(204, "DELETE", &m, NULL, API_PREFIX "/invites/%s", c1);
	expect_error(404, "not_found", "GET", &guest, NULL,
	    API_PREFIX "/invites/%s", c1);
	expect_error(404, "not_found", "DELETE", &m, NULL,
	    API_PREFIX "/invites/%s", c1);
	free(c1);
	c1 = invite(&f, &guest, "{}");
	expect(204, "DELETE", &late, NULL, API_PREFIX "/invites/%s", c1);
	free(c1);
	c1 = invite(&f, &f.owner, "{}");
	chat_user(&outsider, "invx");
	expect_error(404, "not_found", "DELETE", &outsider, NULL,
	    API_PREFIX "/invites/%s", c1);
	chat_user_free(&outsider);

	/* Creating needs create_invite. */
	default_perms(&f, "[\"view_channels\"]");
	expect_error(403, "missing_permission", "POST", &m, "{}",
	    API_PREFIX "/servers/%s/invites", f.id);
	free(c1);
	free(c2);
	free(manager);
	chat_user_free(&m);
	chat_user_free(&guest);
	chat_user_free(&late);
	fixture_free(&f);
}
END_TEST

START_TEST(test_invite_expiry)
{
	struct fixture		f;
	struct chat_user	u;
	char			*code;

	fixture(&f, "exp");
	chat_user(&u, "expu");
	code = invite(&f, &f.owner, "{\"max_age\":1}");
	expect(200, "GET", &u, NULL, API_PREFIX "/invites/%s", code);
	itest_sleep_ms(1500);
	expect_error(404, "not_found", "GET", &u, NULL,
	    API_PREFIX "/invites/%s", code);
	expect_error(404, "not_found", "POST", &u, NULL,
	    API_PREFIX "/invites/%s", code);
	expect_error(404, "not_found", "GET", &u, NULL,
	    API_PREFIX "/servers/%s", f.id);
	free(code);
	chat_user_free(&u);
	fixture_free(&f);
}
END_TEST

START_TEST(test_invite_race)
{
	struct itest_response	*r;
	struct fixture		 f;
	struct chat_user	 u[RACERS];
	const char		*tokens[RACERS], *bodies[RACERS];
	char			*code, *path, *ids[RACERS];
	long			 status[RACERS];
	int			 i, round, admitted, refused;

	fixture(&f, "race");
	for (round = 0; round < RACE_ROUNDS; round++) {
		for (i = 0; i < RACERS; i++) {
			chat_user(&u[i], "racer");
			tokens[i] = u[i].token;
			bodies[i] = "{}";
		}
		code = invite(&f, &f.owner, "{\"max_uses\":1}");
		xasprintf(&path, API_PREFIX "/invites/%s", code);
		chat_race(RACERS, "POST", path, tokens, bodies, status, ids);
		admitted = refused = 0;
		for (i = 0; i < RACERS; i++) {
			admitted += status[i] == 200;
			refused += status[i] == 404;
			free(ids[i]);
		}
		ck_assert_msg(admitted == 1 && refused == RACERS - 1,
		    "round %d: %d admitted, %d refused", round, admitted,
		    refused);
		r = call("GET", &f.owner, NULL, API_PREFIX
		    "/servers/%s/members", f.id);
		itest_expect(r, 200);
		ck_assert_uint_eq(count(r), (size_t)round + 2);
		itest_free(r);
		free(path);
		free(code);
		for (i = 0; i < RACERS; i++)
			chat_user_free(&u[i]);
	}
	fixture_free(&f);
}
END_TEST

START_TEST(test_roles)
{
	struct itest_response	*r;
	struct fixture		 f, g;
	struct chat_user	 m;
	char			*rid, *everyone, *other;

	fixture(&f, "rol");
	fixture(&g, "rolg");
	member(&f, &m, "rolm");
	r = call("POST", &f.owner, "{\"name\":\"Mods\",\"permissions\":"
	    "[\"manage_messages\",\"kick_members\",\"kick_members\"],"
	    "\"position\":3}", API_PREFIX "/servers/%s/roles", f.id);
	itest_expect(r, 201);
	itest_expect_str(r, "name", "Mods");
	itest_expect_str(r, "server_id", f.id);
	ck_assert_int_eq(num(r, "position"), 3);
	ck_assert(!itest_at(r->json, "is_default")->boolean);
	ck_assert_uint_eq(itest_at(r->json, "permissions")->count, 2);
	itest_expect_str(r, "permissions.0", "kick_members");
	itest_expect_str(r, "permissions.1", "manage_messages");
	rid = xstrdup(itest_str(r, "id"));
	itest_free(r);

	/* Defaults: no permissions, position 1. */
	r = call("POST", &f.owner, "{\"name\":\"plain\"}",
	    API_PREFIX "/servers/%s/roles", f.id);
	itest_expect(r, 201);
	ck_assert_int_eq(num(r, "position"), 1);
	ck_assert_uint_eq(itest_at(r->json, "permissions")->count, 0);
	itest_free(r);

	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":\"x\",\"permissions\":[\"fly\"]}",
	    API_PREFIX "/servers/%s/roles", f.id);
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":\"x\",\"permissions\":\"kick_members\"}",
	    API_PREFIX "/servers/%s/roles", f.id);
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":\"x\",\"permissions\":[1]}",
	    API_PREFIX "/servers/%s/roles", f.id);
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":\"x\",\"position\":0}",
	    API_PREFIX "/servers/%s/roles", f.id);
	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"permissions\":[]}", API_PREFIX "/servers/%s/roles", f.id);
	expect_error(403, "missing_permission", "POST", &m,
	    "{\"name\":\"x\"}", API_PREFIX "/servers/%s/roles", f.id);
	expect_error(404, "not_found", "POST", &g.owner,
	    "{\"name\":\"x\"}", API_PREFIX "/servers/%s/roles", f.id);

	/* Members see the roles. */
	r = call("GET", &m, NULL, API_PREFIX "/servers/%s/roles", f.id);
	itest_expect(r, 200);
	ck_assert_uint_eq(count(r), 3);
	itest_free(r);

	/* PATCH answers the whole role. */
	r = call("PATCH", &f.owner, "{\"name\":\"Moderators\",\"permissions\":"
	    "[\"send_messages\"],\"position\":4}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, rid);
	itest_expect(r, 200);
	itest_expect_str(r, "id", rid);
	itest_expect_str(r, "name", "Moderators");
	ck_assert_int_eq(num(r, "position"), 4);
	ck_assert_uint_eq(itest_at(r->json, "permissions")->count, 1);
	itest_expect_str(r, "permissions.0", "send_messages");
	itest_free(r);
	r = call("PATCH", &f.owner, "{\"position\":2}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, rid);
	itest_expect(r, 200);
	itest_expect_str(r, "name", "Moderators");
	ck_assert_int_eq(num(r, "position"), 2);
	itest_expect_str(r, "permissions.0", "send_messages");
	itest_free(r);
	expect_error(400, "validation_failed", "PATCH", &f.owner,
	    "{\"permissions\":[\"nope\"]}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, rid);
	expect_error(400, "validation_failed", "PATCH", &f.owner,
	    "{\"name\":null}", API_PREFIX "/servers/%s/roles/%s", f.id, rid);

	/* The default role: permissions yes; name, position, delete no. */
	everyone = default_role(&f);
	expect_error(400, "validation_failed", "PATCH", &f.owner,
	    "{\"name\":\"everybody\"}", API_PREFIX "/servers/%s/roles/%s",
	    f.id, everyone);
	expect_error(400, "validation_failed", "PATCH", &f.owner,
	    "{\"position\":2}", API_PREFIX "/servers/%s/roles/%s", f.id,
	    everyone);
	expect_error(400, "validation_failed", "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s/roles/%s", f.id, everyone);
	r = call("PATCH", &f.owner, "{\"permissions\":[\"view_channels\"]}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, everyone);
	itest_expect(r, 200);
	itest_expect_str(r, "name", "@everyone");
	ck_assert_int_eq(num(r, "position"), 0);
	ck_assert(itest_at(r->json, "is_default")->boolean);
	ck_assert_uint_eq(itest_at(r->json, "permissions")->count, 1);
	itest_free(r);
	expect_error(400, "validation_failed", "PUT", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id,
	    everyone);
	/* Without manage_roles, that is 403 before it is 400. */
	expect_error(403, "missing_permission", "PUT", &m, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id,
	    everyone);
	expect_error(403, "missing_permission", "DELETE", &m, NULL,
	    API_PREFIX "/servers/%s/roles/%s", f.id, everyone);
	expect_error(400, "validation_failed", "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id,
	    everyone);

	/* IDOR: another server's role is not in this one. */
	other = default_role(&g);
	expect_error(404, "not_found", "PATCH", &f.owner,
	    "{\"permissions\":[]}", API_PREFIX "/servers/%s/roles/%s", f.id,
	    other);
	expect_error(404, "not_found", "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s/roles/%s", f.id, other);
	expect_error(404, "not_found", "PATCH", &g.owner,
	    "{\"name\":\"x\"}", API_PREFIX "/servers/%s/roles/%s", g.id, rid);
	expect_error(404, "not_found", "PATCH", &g.owner,
	    "{\"name\":\"x\"}", API_PREFIX "/servers/%s/roles/%s", f.id, rid);

	/* Delete. */
	expect_error(403, "missing_permission", "DELETE", &m, NULL,
	    API_PREFIX "/servers/%s/roles/%s", f.id, rid);
	expect(204, "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s/roles/%s", f.id, rid);
	expect_error(404, "not_found", "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s/roles/%s", f.id, rid);
	expect_error(404, "not_found", "PATCH", &f.owner, "{\"name\":\"x\"}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, rid);
	r = call("GET", &m, NULL, API_PREFIX "/servers/%s/roles", f.id);
	ck_assert_uint_eq(count(r), 2);
	itest_free(r);
	free(rid);
	free(everyone);
	free(other);
	chat_user_free(&m);
	fixture_free(&f);
	fixture_free(&g);
}
END_TEST

START_TEST(test_role_assignment)
{
	struct itest_response	*r;
	struct fixture		 f, g;
	struct chat_user	 m, outsider;
	char			*chans, *other;

	fixture(&f, "asg");
	fixture(&g, "asgg");
	member(&f, &m, "asgm");
	chat_user(&outsider, "asgx");
	chans = role(&f, &f.owner, "builders", "[\"manage_channels\"]", 2);
	expect_error(403, "missing_permission", "POST", &m,
	    "{\"name\":\"mine\"}", API_PREFIX "/servers/%s/channels", f.id);

	expect(204, "PUT", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, chans);
	expect(204, "PUT", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, chans);
	r = call("GET", &m, NULL, API_PREFIX "/servers/%s/members/@me", f.id);
	itest_expect(r, 200);
	ck_assert_uint_eq(itest_at(r->json, "roles")->count, 1);
	itest_expect_str(r, "roles.0", chans);
	itest_free(r);
	/* The role's permission works at once. */
	expect(201, "POST", &m, "{\"name\":\"mine\"}",
	    API_PREFIX "/servers/%s/channels", f.id);

	expect(204, "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, chans);
	expect(204, "DELETE", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, chans);
	r = call("GET", &m, NULL, API_PREFIX "/servers/%s/members/@me", f.id);
	ck_assert_uint_eq(itest_at(r->json, "roles")->count, 0);
	itest_free(r);
	expect_error(403, "missing_permission", "POST", &m,
	    "{\"name\":\"mine2\"}", API_PREFIX "/servers/%s/channels", f.id);

	/* IDOR: a role of server G given in server F, and the reverse. */
	other = role(&g, &g.owner, "g role", "[\"administrator\"]", 1);
	expect_error(404, "not_found", "PUT", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, other);
	expect_error(404, "not_found", "PUT", &g.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", g.id, g.owner.id,
	    chans);
	expect_error(404, "not_found", "PUT", &g.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, chans);
	/* Only members get roles. */
	expect_error(404, "not_found", "PUT", &f.owner, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, outsider.id,
	    chans);
	expect_error(403, "missing_permission", "PUT", &m, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, chans);
	free(chans);
	free(other);
	chat_user_free(&m);
	chat_user_free(&outsider);
	fixture_free(&f);
	fixture_free(&g);
}
END_TEST

START_TEST(test_escalation)
{
	struct fixture		f;
	struct chat_user	mod, m, adm;
	char			*rmod, *high, *low, *tiny, *radm, *everyone;

	fixture(&f, "esc");
	member(&f, &mod, "escmod");
	member(&f, &m, "escm");
	member(&f, &adm, "escadm");
	rmod = role(&f, &f.owner, "mod", "[\"manage_roles\",\"kick_members\"]",
	    5);
	high = role(&f, &f.owner, "high", "[]", 10);
	low = role(&f, &f.owner, "low", "[]", 2);
	tiny = role(&f, &f.owner, "tiny", "[]", 1);
	radm = role(&f, &f.owner, "adm", "[\"administrator\"]", 3);
	give(&f, &mod, rmod);
	give(&f, &adm, radm);

	/* Creating: only below your rank, only permissions you have. */
	expect_error(403, "missing_permission", "POST", &mod,
	    "{\"name\":\"x\",\"position\":5}", API_PREFIX "/servers/%s/roles",
	    f.id);
	expect_error(403, "missing_permission", "POST", &mod,
	    "{\"name\":\"x\",\"position\":6}", API_PREFIX "/servers/%s/roles",
	    f.id);
	expect_error(403, "missing_permission", "POST", &mod,
	    "{\"name\":\"x\",\"permissions\":[\"administrator\"]}",
	    API_PREFIX "/servers/%s/roles", f.id);
	expect_error(403, "missing_permission", "POST", &mod,
	    "{\"name\":\"x\",\"permissions\":[\"kick_members\","
	    "\"manage_server\"]}", API_PREFIX "/servers/%s/roles", f.id);
	expect(201, "POST", &mod, "{\"name\":\"x\",\"position\":4,"
	    "\"permissions\":[\"kick_members\",\"manage_roles\"]}",
	    API_PREFIX "/servers/%s/roles", f.id);

	/* Editing: not at or above your rank, not into it, no new powers. */
	expect_error(403, "missing_permission", "PATCH", &mod,
	    "{\"name\":\"mine\"}", API_PREFIX "/servers/%s/roles/%s", f.id,
	    high);
	expect_error(403, "missing_permission", "PATCH", &mod,
	    "{\"permissions\":[\"administrator\"]}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, rmod);
	expect_error(403, "missing_permission", "PATCH", &mod,
	    "{\"position\":5}", API_PREFIX "/servers/%s/roles/%s", f.id, low);
	expect_error(403, "missing_permission", "PATCH", &mod,
	    "{\"position\":100}", API_PREFIX "/servers/%s/roles/%s", f.id,
	    low);
	expect_error(403, "missing_permission", "PATCH", &mod,
	    "{\"permissions\":[\"administrator\"]}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, low);
	expect_error(403, "missing_permission", "PATCH", &mod,
	    "{\"permissions\":[\"manage_server\"]}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, radm);
	expect(200, "PATCH", &mod, "{\"name\":\"lower\",\"position\":4,"
	    "\"permissions\":[\"kick_members\"]}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, low);
	everyone = default_role(&f);
	expect_error(403, "missing_permission", "PATCH", &mod,
	    "{\"permissions\":[\"manage_server\"]}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, everyone);
	expect(200, "PATCH", &mod, "{\"permissions\":[\"view_channels\","
	    "\"send_messages\",\"kick_members\"]}",
	    API_PREFIX "/servers/%s/roles/%s", f.id, everyone);

	/* Assigning and deleting: only roles below your rank. */
	expect_error(403, "missing_permission", "PUT", &mod, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, mod.id, high);
	expect_error(403, "missing_permission", "PUT", &mod, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, rmod);
	expect(204, "PUT", &mod, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, low);
	expect(204, "DELETE", &mod, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, low);
	expect_error(403, "missing_permission", "DELETE", &mod, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, mod.id, rmod);
	expect_error(403, "missing_permission", "DELETE", &mod, NULL,
	    API_PREFIX "/servers/%s/roles/%s", f.id, high);
	expect_error(403, "missing_permission", "DELETE", &mod, NULL,
	    API_PREFIX "/servers/%s/roles/%s", f.id, rmod);
	/* An administrator (rank 3) still answers to the hierarchy. */
	expect_error(403, "missing_permission", "DELETE", &adm, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, mod.id);
	expect_error(403, "missing_permission", "PATCH", &adm,
	    "{\"name\":\"x\"}", API_PREFIX "/servers/%s/roles/%s", f.id, rmod);
	expect_error(403, "missing_permission", "PUT", &adm, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, adm.id, rmod);
	expect_error(403, "missing_permission", "PUT", &adm, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, low);
	expect(204, "PUT", &adm, NULL,
	    API_PREFIX "/servers/%s/members/%s/roles/%s", f.id, m.id, tiny);
	/* The moderator outranks the administrator. */
	expect(204, "DELETE", &mod, NULL, API_PREFIX "/servers/%s/roles/%s",
	    f.id, low);
	expect(204, "DELETE", &mod, NULL,
	    API_PREFIX "/servers/%s/members/%s", f.id, adm.id);
	free(rmod);
	free(high);
	free(low);
	free(tiny);
	free(radm);
	free(everyone);
	chat_user_free(&mod);
	chat_user_free(&m);
	chat_user_free(&adm);
	fixture_free(&f);
}
END_TEST

/*
 * One row of the grant rule's table: the actor (a member holding the
 * "mod" role {manage_roles, kick_members, manage_messages} at position 5,
 * or "adm" {administrator} at 3) gives or takes a role with these
 * permissions at this position, to itself or to another member.
 */
struct grant_case {
	const char	*actor;		/* "mod" or "adm" */
	const char	*method;	/* PUT gives, DELETE takes */
	int		 self;		/* to the actor itself */
	const char	*perms;
	int		 position;
	long		 status;
};

static const struct grant_case grant_cases[] = {
	/* The reproduction: Mod makes themself administrator. */
	{ "mod", "PUT", 1, "[\"administrator\"]", 1, 403 },
	{ "mod", "PUT", 0, "[\"administrator\"]", 1, 403 },
	{ "mod", "DELETE", 0, "[\"administrator\"]", 1, 403 },
	{ "mod", "PUT", 0, "[\"manage_server\"]", 1, 403 },
	{ "mod", "PUT", 1, "[\"kick_members\",\"manage_nicknames\"]", 2, 403 },
	{ "mod", "PUT", 0, "[\"manage_channels\",\"kick_members\"]", 4, 403 },
	{ "mod", "PUT", 0, "[\"kick_members\",\"manage_messages\"]", 4, 204 },
	{ "mod", "DELETE", 0, "[\"kick_members\",\"manage_messages\"]", 4,
	    204 },
	{ "mod", "PUT", 1, "[\"manage_roles\"]", 1, 204 },
	{ "mod", "PUT", 0, "[]", 1, 204 },
	{ "mod", "PUT", 0, "[]", 5, 403 },	/* the rank rule still holds */
	{ "adm", "PUT", 0, "[\"administrator\"]", 1, 204 },
	{ "adm", "PUT", 1, "[\"manage_server\",\"manage_nicknames\"]", 2, 204 },
	{ "adm", "DELETE", 0, "[\"administrator\"]", 2, 204 },
};

/* Whether a member object's roles list role_id. */
static int
holds_role(struct itest_response *r, const char *role_id)
{
	const struct json	*roles = itest_at(r->json, "roles");
	size_t			 i;

	ck_assert_msg(roles != NULL && roles->type == JSON_ARRAY, "no roles: "
	    "%s", itest_describe(r));
	for (i = 0; i < roles->count; i++) {
		if (roles->items[i]->type == JSON_STRING &&
		    strcmp(roles->items[i]->text, role_id) == 0)
			return 1;
	}
	return 0;
}

/*
 * Assigning or removing a role passes the rank rule and the grant rule:
 * nobody but the owner hands out (or takes away) permissions they lack.
 */
START_TEST(test_grant_rule)
{
	const struct grant_case	*c;
	struct itest_response	*r;
	struct fixture		 f;
	struct chat_user	 mod, adm, m;
	const struct chat_user	*actor, *target;
	char			*rmod, *radm, *id, name[16];
	size_t			 i;

	fixture(&f, "grant");
	member(&f, &mod, "grantmod");
	member(&f, &adm, "grantadm");
	member(&f, &m, "grantm");
	rmod = role(&f, &f.owner, "Mod", "[\"manage_roles\",\"kick_members\","
	    "\"manage_messages\"]", 5);
	radm = role(&f, &f.owner, "Adm", "[\"administrator\"]", 3);
	give(&f, &mod, rmod);
	give(&f, &adm, radm);
	for (i = 0; i < sizeof grant_cases / sizeof grant_cases[0]; i++) {
		c = &grant_cases[i];
		actor = strcmp(c->actor, "mod") == 0 ? &mod : &adm;
		target = c->self ? actor : &m;
		snprintf(name, sizeof name, "case%zu", i);
		id = role(&f, &f.owner, name, c->perms, c->position);
		if (strcmp(c->method, "DELETE") == 0)
			give(&f, target, id);
		r = call(c->method, actor, NULL, API_PREFIX
		    "/servers/%s/members/%s/roles/%s", f.id, c->self ? "@me" :
		    target->id, id);
		ck_assert_msg(r->status == c->status, "case %zu: %s %s %s of "
		    "%s at %d: expected %ld, %s", i, c->actor, c->method,
		    c->self ? "own" : "other's", c->perms, c->position,
		    c->status, itest_describe(r));
		itest_free(r);
		/* What was refused changed nothing. */
		r = call("GET", &f.owner, NULL, API_PREFIX
		    "/servers/%s/members/%s", f.id, target->id);
		itest_expect(r, 200);
		ck_assert_msg(holds_role(r, id) == (strcmp(c->method, "PUT") ==
		    0 ? c->status == 204 : c->status != 204), "case %zu: the "
		    "member's roles are wrong (role %s): %s", i, id,
		    itest_describe(r));
		itest_free(r);
		free(id);
	}
	/* Mod is still no administrator. */
	expect_error(403, "missing_permission", "PATCH", &mod,
	    "{\"name\":\"mine\"}", API_PREFIX "/servers/%s", f.id);
	expect_error(403, "missing_permission", "POST", &mod,
	    "{\"name\":\"mine\"}", API_PREFIX "/servers/%s/channels", f.id);
	expect_error(403, "missing_permission", "GET", &mod, NULL,
	    API_PREFIX "/servers/%s/invites", f.id);
	free(rmod);
	free(radm);
	chat_user_free(&mod);
	chat_user_free(&adm);
	chat_user_free(&m);
	fixture_free(&f);
}
END_TEST

START_TEST(test_channels)
{
	struct itest_response	*r;
	struct fixture		 f, g;
	struct chat_user	 m;
	char			*id, *gchan, *builder;

	fixture(&f, "chn");
	fixture(&g, "chng");
	member(&f, &m, "chnm");
	r = call("POST", &f.owner, "{\"name\":\"Stra\\u00dfe  \\ud83d\\ude00 "
	    "Off-Topic\"}", API_PREFIX "/servers/%s/channels", f.id);
	itest_expect(r, 201);
	itest_expect_str(r, "name", "Stra\xc3\x9f" "e  \xf0\x9f\x98\x80 "
	    "Off-Topic");
	itest_expect_str(r, "server_id", f.id);
	expect_time(r, "created_at");
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);

	r = call("GET", &m, NULL, API_PREFIX "/servers/%s/channels", f.id);
	itest_expect(r, 200);
	ck_assert_uint_eq(count(r), 2);
	itest_expect_str(r, "0.id", f.general);
	itest_expect_str(r, "1.id", id);
	itest_free(r);
	r = call("GET", &m, NULL, API_PREFIX "/channels/%s", id);
	itest_expect(r, 200);
	itest_expect_str(r, "id", id);
	itest_expect_str(r, "server_id", f.id);
	itest_expect_str(r, "name", "Stra\xc3\x9f" "e  \xf0\x9f\x98\x80 "
	    "Off-Topic");
	itest_free(r);

	expect_error(400, "validation_failed", "POST", &f.owner,
	    "{\"name\":\"a\\rb\"}", API_PREFIX "/servers/%s/channels", f.id);
	expect_error(400, "validation_failed", "POST", &f.owner, "{}",
	    API_PREFIX "/servers/%s/channels", f.id);
	expect_error(403, "missing_permission", "POST", &m,
	    "{\"name\":\"x\"}", API_PREFIX "/servers/%s/channels", f.id);
	expect_error(403, "missing_permission", "PATCH", &m,
	    "{\"name\":\"x\"}", API_PREFIX "/channels/%s", id);
	expect_error(403, "missing_permission", "DELETE", &m, NULL,
	    API_PREFIX "/channels/%s", id);

	r = call("PATCH", &f.owner, "{\"name\":\"renamed\"}",
	    API_PREFIX "/channels/%s", id);
	itest_expect(r, 200);
	itest_expect_str(r, "id", id);
	itest_expect_str(r, "name", "renamed");
	itest_expect_str(r, "server_id", f.id);
	expect_time(r, "created_at");
	itest_free(r);
	expect_error(400, "validation_failed", "PATCH", &f.owner, "{}",
	    API_PREFIX "/channels/%s", id);

	/* A manage_channels role. */
	builder = role(&f, &f.owner, "builder", "[\"manage_channels\"]", 1);
	give(&f, &m, builder);
	expect(200, "PATCH", &m, "{\"name\":\"by member\"}",
	    API_PREFIX "/channels/%s", id);

	/* IDOR: server G's channel through a server F role. */
	gchan = xstrdup(g.general);
	expect_error(404, "not_found", "GET", &m, NULL,
	    API_PREFIX "/channels/%s", gchan);
	expect_error(404, "not_found", "PATCH", &m, "{\"name\":\"pwned\"}",
	    API_PREFIX "/channels/%s", gchan);
	expect_error(404, "not_found", "DELETE", &m, NULL,
	    API_PREFIX "/channels/%s", gchan);
	expect(200, "GET", &g.owner, NULL, API_PREFIX "/channels/%s", gchan);

	/*
	 * Without view_channels the channels do not exist for them: the
	 * list is empty and each channel is 404 (API.md, Channel permission
	 * overwrites), even with manage_channels.
	 */
	default_perms(&f, "[\"send_messages\"]");
	r = call("GET", &m, NULL, API_PREFIX "/servers/%s/channels", f.id);
	itest_expect(r, 200);
	ck_assert_uint_eq(count(r), 0);
	itest_free(r);
	expect_error(404, "not_found", "GET", &m, NULL,
	    API_PREFIX "/channels/%s", f.general);
	expect_error(404, "not_found", "DELETE", &m, NULL,
	    API_PREFIX "/channels/%s", id);
	default_perms(&f, "[\"view_channels\",\"send_messages\"]");

	/* Delete. */
	expect(204, "DELETE", &m, NULL, API_PREFIX "/channels/%s", id);
	expect_error(404, "not_found", "GET", &f.owner, NULL,
	    API_PREFIX "/channels/%s", id);
	expect_error(404, "not_found", "DELETE", &f.owner, NULL,
	    API_PREFIX "/channels/%s", id);
	r = call("GET", &f.owner, NULL, API_PREFIX "/servers/%s/channels",
	    f.id);
	ck_assert_uint_eq(count(r), 1);
	itest_free(r);
	free(id);
	free(gchan);
	free(builder);
	chat_user_free(&m);
	fixture_free(&f);
	fixture_free(&g);
}
END_TEST

/* The suite of the server endpoints. */
static Suite *
servers_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("servers");
	tc = tcase_create("servers");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_server_create);
	tcase_add_test(tc, test_server_visibility);
	tcase_add_test(tc, test_server_patch);
	tcase_add_test(tc, test_server_delete);
	suite_add_tcase(s, tc);
	tc = tcase_create("members");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_members_list);
	tcase_add_test(tc, test_nicknames);
	tcase_add_test(tc, test_kick_and_leave);
	suite_add_tcase(s, tc);
	tc = tcase_create("invites");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_invites);
	tcase_add_test(tc, test_invite_expiry);
	tcase_add_test(tc, test_invite_race);
	suite_add_tcase(s, tc);
	tc = tcase_create("roles");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_roles);
	tcase_add_test(tc, test_role_assignment);
	tcase_add_test(tc, test_escalation);
	tcase_add_test(tc, test_grant_rule);
	suite_add_tcase(s, tc);
	tc = tcase_create("channels");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_channels);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(servers_suite());
}
