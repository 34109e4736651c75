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
