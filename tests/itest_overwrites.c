/* SPDX-License-Identifier: ISC */
/*
 * itest_overwrites.c: private channels (API.md, Channel permission
 * overwrites; issue 19).  Setting and deleting overwrites, their order in
 * the channel object, every refusal (bad names, unknown targets, the
 * hierarchy), a channel created private, the order in which overwrites
 * apply as members see it, a hidden channel being 404 on every path
 * (messages, overwrites, reactions, pins, typing, acks, search) and
 * absent from lists and read states, and the events: channel.delete and channel.create
 * to exactly the members who lost or gained view (by an overwrite, a
 * role's permissions, a role taken away), parked polls answered 404, and
 * no message of a hidden channel on /events.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "check_run.h"

#define POLL_WAIT	20	/* seconds a parked test poll would wait */
#define ANSWER_WITHIN	3.0	/* seconds an answer may take (loaded CI) */
#define PARK_MS		600	/* for a started poll to be parked */

/* A server with a member, its default role and a second channel. */
struct site {
	struct chat_room	 room;
	char			*everyone;	/* the default role's id */
	char			*channel;	/* the second channel */
	char			*base;		/* API_PREFIX "/channels/ID" */
};

/* Create a channel in the site's server as the owner; its id. */
static char *
channel_make(const struct site *s, const char *body)
{
	struct itest_response	*r;
	char			*path, *id;

	xasprintf(&path, API_PREFIX "/servers/%s/channels", s->room.server);
	r = itest_send("POST", path, s->room.owner.token, "%s", body);
	itest_expect(r, 201);
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	free(path);
	return id;
}

/* Open a site: a room, its default role, a channel "second". */
static void
site_open(struct site *s, const char *prefix)
{
	struct itest_response	*r;
	char			*path;

	memset(s, 0, sizeof *s);
	chat_room_open(&s->room, prefix);
	xasprintf(&path, API_PREFIX "/servers/%s/roles", s->room.server);
	r = itest_get(path, s->room.owner.token);
	itest_expect(r, 200);
	ck_assert(itest_at(r->json, "0.is_default")->boolean);
	s->everyone = xstrdup(itest_str(r, "0.id"));
	itest_free(r);
	free(path);
	s->channel = channel_make(s, "{\"name\":\"second\"}");
	xasprintf(&s->base, API_PREFIX "/channels/%s", s->channel);
}

static void
site_close(struct site *s)
{
	chat_room_close(&s->room);
	free(s->everyone);
	free(s->channel);
	free(s->base);
}

/* PUT or DELETE an overwrite of channel as token; the response. */
static struct itest_response *
overwrite(const char *method, const char *token, const char *channel,
    const char *type, const char *target, const char *body)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, API_PREFIX "/channels/%s/overwrites/%s/%s", channel,
	    type, target);
	if (body != NULL)
		r = itest_send(method, path, token, "%s", body);
	else
		r = itest_request(method, path, token, NULL, NULL, 0);
	free(path);
	return r;
}

/* PUT an overwrite as token and assert 200. */
static void
overwrite_ok(const char *token, const char *channel, const char *type,
    const char *target, const char *body)
{
	struct itest_response	*r;

	r = overwrite("PUT", token, channel, type, target, body);
	itest_expect(r, 200);
	itest_free(r);
}

/* Create a role as the owner; its id. */
static char *
role_make(const struct site *s, const char *name, const char *perms,
    int position)
{
	struct itest_response	*r;
	char			*path, *id;

	xasprintf(&path, API_PREFIX "/servers/%s/roles", s->room.server);
	r = itest_send("POST", path, s->room.owner.token,
	    "{\"name\":\"%s\",\"permissions\":%s,\"position\":%d}", name,
	    perms, position);
	itest_expect(r, 201);
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	free(path);
	return id;
}

/* Give (PUT) or take (DELETE) a role of a member as the owner: 204. */
static void
role_member(const struct site *s, const char *method, const char *user,
    const char *role)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, API_PREFIX "/servers/%s/members/%s/roles/%s",
	    s->room.server, user, role);
	r = itest_request(method, path, s->room.owner.token, NULL, NULL, 0);
	ck_assert_msg(r->status == 204, "role %s: %s", method,
	    itest_describe(r));
	itest_free(r);
	free(path);
}

/* Whether the channel list of the server, as token, holds channel. */
static int
listed(const struct site *s, const char *token, const char *channel)
{
	struct itest_response	*r;
	const struct json	*list;
	char			*path, key[32];
	size_t			 i;
	int			 found = 0;

	xasprintf(&path, API_PREFIX "/servers/%s/channels", s->room.server);
	r = itest_get(path, token);
	itest_expect(r, 200);
	list = r->json;
	for (i = 0; i < list->count; i++) {
		snprintf(key, sizeof key, "%zu.id", i);
		if (strcmp(itest_str(r, key), channel) == 0)
			found = 1;
	}
	itest_free(r);
	free(path);
	return found;
}

/* Whether token's read states name channel. */
static int
read_state_of(const char *token, const char *channel)
{
	struct itest_response	*r;
	char			*want;
	int			 found;

	r = itest_get(API_PREFIX "/users/@me/read-states", token);
	itest_expect(r, 200);
	xasprintf(&want, "\"channel_id\":\"%s\"", channel);
	found = strstr(r->body, want) != NULL;
	free(want);
	itest_free(r);
	return found;
}

/* Assert a request's status. */
static void
expect_status(const char *method, const char *path, const char *token,
    const char *body, long status)
{
	struct itest_response	*r;

	if (body != NULL)
		r = itest_send(method, path, token, "%s", body);
	else
		r = itest_request(method, path, token, NULL, NULL, 0);
	ck_assert_msg(r->status == status, "%s %s: expected %ld: %s", method,
	    path, status, itest_describe(r));
	if (status == 404)
		itest_expect_error(r, 404, "not_found");
	itest_free(r);
}

/*
 * A channel token may not view does not exist for them: 404 on every
 * path under it, absent from the list.
 */
static void
expect_hidden(const struct site *s, const char *token, const char *channel)
{
	/* Paths under the channel (%s: its id, then the default role's). */
	static const struct {
		const char	*method;
		const char	*path;
		const char	*body;
	} probes[] = {
		{ "GET", "", NULL },
		{ "PATCH", "", "{\"name\":\"x\"}" },
		{ "DELETE", "", NULL },
		{ "GET", "/messages", NULL },
		{ "POST", "/messages", "{\"content\":\"hi\"}" },
		{ "GET", "/messages?after=1&wait=1", NULL },
		{ "PUT", "/overwrites/role/%s", "{}" },
		{ "DELETE", "/overwrites/role/%s", NULL },
		/* The later features' paths: none tells it exists. */
		{ "PUT", "/messages/1/reactions/%%F0%%9F%%91%%8D/@me", NULL },
		{ "GET", "/pins", NULL },
		{ "PUT", "/pins/1", NULL },
		{ "POST", "/typing", NULL },
		{ "PUT", "/ack", "{\"message_id\":\"1\"}" },
	};
	char	*tail, *path;
	size_t	 i;

	for (i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		xasprintf(&tail, probes[i].path, s->everyone);
		xasprintf(&path, API_PREFIX "/channels/%s%s", channel, tail);
		expect_status(probes[i].method, path, token, probes[i].body,
		    404);
		free(path);
		free(tail);
	}
	xasprintf(&path, API_PREFIX "/servers/%s/messages/search?q=hello"
	    "&channel_id=%s", s->room.server, channel);
	expect_status("GET", path, token, NULL, 404);
	free(path);
	ck_assert_msg(!listed(s, token, channel), "the hidden channel %s is "
	    "listed", channel);
	ck_assert_msg(!read_state_of(token, channel), "the hidden channel %s "
	    "has a read state", channel);
}

/* Assert token may read and post in channel. */
static void
expect_visible(const struct site *s, const char *token, const char *channel)
{
	char	*base, *path;

	xasprintf(&base, API_PREFIX "/channels/%s", channel);
	expect_status("GET", base, token, NULL, 200);
	xasprintf(&path, "%s/messages", base);
	expect_status("GET", path, token, NULL, 200);
	free(path);
	ck_assert_msg(listed(s, token, channel), "channel %s not listed",
	    channel);
	free(base);
}

/* The events after cursor as token (timeout seconds at most). */
static struct itest_response *
events_after(const char *token, const char *cursor, int timeout)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d", cursor,
	    timeout);
	r = itest_get(path, token);
	itest_expect(r, 200);
	free(path);
	return r;
}

/*
 * Every event token receives from cursor on, page after page until a
 * quiet page: the bodies joined, as a new string.
 */
static char *
events_all(const char *token, const char *cursor)
{
	struct itest_response	*r;
	char			*all = xstrdup(""), *next, *cur;

	cur = xstrdup(cursor);
	for (;;) {
		r = events_after(token, cur, 0);
		if (itest_at(r->json, "events")->count == 0) {
			itest_free(r);
			break;
		}
		xasprintf(&next, "%s%s", all, r->body);
		free(all);
		all = next;
		free(cur);
		cur = xstrdup(itest_str(r, "cursor"));
		itest_free(r);
	}
	free(cur);
	return all;
}

/* Whether text holds an event of type whose data names id first. */
static int
holds_event(const char *text, const char *type, const char *id)
{
	char		 want[64], idq[48];
	const char	*p = text, *next, *found;

	snprintf(want, sizeof want, "\"type\":\"%s\"", type);
	snprintf(idq, sizeof idq, "\"id\":\"%s\"", id);
	for (; (p = strstr(p, want)) != NULL; p++) {
		next = strstr(p + 1, "\"type\":\"");
		found = strstr(p, idq);
		if (found != NULL && (next == NULL || found < next))
			return 1;
	}
	return 0;
}

/*
 * PUT answers the whole channel; overwrites come back as the contract
 * orders them: role overwrites by role position (the default role first),
 * then member overwrites by user id, each list sorted by name.  GET shows
 * the same; DELETE removes one (204, and 204 again when it is gone).
 */
START_TEST(test_put_order_and_delete)
{
	struct itest_response	*r;
	struct site		 s;
	char			*high, *low;

	site_open(&s, "owput");
	high = role_make(&s, "high", "[]", 5);
	low = role_make(&s, "low", "[]", 2);
	overwrite_ok(s.room.owner.token, s.channel, "member",
	    s.room.member.id, "{\"deny\":[\"send_messages\"]}");
	overwrite_ok(s.room.owner.token, s.channel, "role", high,
	    "{\"allow\":[\"send_messages\",\"add_reactions\"],"
	    "\"deny\":[\"attach_files\"]}");
	overwrite_ok(s.room.owner.token, s.channel, "role", low,
	    "{\"allow\":[\"view_channels\"]}");
	r = overwrite("PUT", s.room.owner.token, s.channel, "role",
	    s.everyone, "{\"allow\":[],\"deny\":[\"view_channels\","
	    "\"create_invite\"]}");
	itest_expect(r, 200);
	itest_expect_str(r, "id", s.channel);
	itest_expect_str(r, "name", "second");
	ck_assert_uint_eq(itest_at(r->json, "overwrites")->count, 4);
	itest_expect_str(r, "overwrites.0.type", "role");
	itest_expect_str(r, "overwrites.0.id", s.everyone);
	itest_expect_str(r, "overwrites.0.deny.0", "create_invite");
	itest_expect_str(r, "overwrites.0.deny.1", "view_channels");
	ck_assert_uint_eq(itest_at(r->json, "overwrites.0.allow")->count, 0);
	itest_expect_str(r, "overwrites.1.id", low);
	itest_expect_str(r, "overwrites.2.id", high);
	itest_expect_str(r, "overwrites.2.allow.0", "add_reactions");
	itest_expect_str(r, "overwrites.2.allow.1", "send_messages");
	itest_expect_str(r, "overwrites.2.deny.0", "attach_files");
	itest_expect_str(r, "overwrites.3.type", "member");
	itest_expect_str(r, "overwrites.3.id", s.room.member.id);
	itest_free(r);

	r = itest_get(s.base, s.room.owner.token);
	itest_expect(r, 200);
	ck_assert_uint_eq(itest_at(r->json, "overwrites")->count, 4);
	itest_expect_str(r, "overwrites.1.id", low);
	itest_free(r);

	/* Replacing one keeps its place and takes the new lists. */
	overwrite_ok(s.room.owner.token, s.channel, "role", high,
	    "{\"deny\":[\"manage_messages\"]}");
	r = itest_get(s.base, s.room.owner.token);
	itest_expect_str(r, "overwrites.2.id", high);
	ck_assert_uint_eq(itest_at(r->json, "overwrites.2.allow")->count, 0);
	itest_expect_str(r, "overwrites.2.deny.0", "manage_messages");
	itest_free(r);

	r = overwrite("DELETE", s.room.owner.token, s.channel, "role", low,
	    NULL);
	ck_assert_msg(r->status == 204, "%s", itest_describe(r));
	itest_free(r);
	r = overwrite("DELETE", s.room.owner.token, s.channel, "role", low,
	    NULL);
	ck_assert_msg(r->status == 204, "again: %s", itest_describe(r));
	itest_free(r);
	r = itest_get(s.base, s.room.owner.token);
	ck_assert_uint_eq(itest_at(r->json, "overwrites")->count, 3);
	itest_free(r);
	/* A channel without overwrites says so with []. */
	r = itest_get(s.room.base, s.room.owner.token);
	itest_expect(r, 200);
	ck_assert_uint_eq(itest_at(r->json, "overwrites")->count, 0);
	itest_free(r);
	free(high);
	free(low);
	site_close(&s);
}
END_TEST

/* Bad bodies and targets: 400 with the field, 404 for unknown targets. */
START_TEST(test_refusals)
{
	struct itest_response	*r;
	struct site		 s, other;
	const char		*t;

	site_open(&s, "owbad");
	site_open(&other, "owbado");
	t = s.room.owner.token;
	r = overwrite("PUT", t, s.channel, "role", s.everyone,
	    "{\"allow\":[\"fly\"]}");
	itest_expect_invalid(r, "allow");
	itest_free(r);
	r = overwrite("PUT", t, s.channel, "role", s.everyone,
	    "{\"deny\":[\"kick_members\"]}");
	itest_expect_invalid(r, "deny");
	itest_free(r);
	r = overwrite("PUT", t, s.channel, "role", s.everyone,
	    "{\"allow\":\"send_messages\"}");
	itest_expect_invalid(r, "allow");
	itest_free(r);
	r = overwrite("PUT", t, s.channel, "role", s.everyone,
	    "{\"allow\":[\"send_messages\"],\"deny\":[\"send_messages\"]}");
	itest_expect_invalid(r, "allow");
	itest_free(r);
	r = overwrite("PUT", t, s.channel, "role", s.everyone, "[1]");
	itest_expect_error(r, 400, "invalid_json");
	itest_free(r);
	/* Another server's role, a non-member, a user that does not exist. */
	r = overwrite("PUT", t, s.channel, "role", other.everyone, "{}");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = overwrite("PUT", t, s.channel, "member", other.room.member.id,
	    "{}");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = overwrite("PUT", t, s.channel, "member", "999999999999", "{}");
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = overwrite("DELETE", t, s.channel, "role", other.everyone, NULL);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = overwrite("PUT", t, s.channel, "everyone", s.everyone, "{}");
	ck_assert_msg(r->status == 404, "%s", itest_describe(r));
	itest_free(r);
	/* Nothing was stored by any of these. */
	r = itest_get(s.base, t);
	ck_assert_uint_eq(itest_at(r->json, "overwrites")->count, 0);
	itest_free(r);
	site_close(&s);
	site_close(&other);
}
END_TEST

/*
 * manage_roles in the channel, roles below your rank, only permissions
 * you have there; the owner may do all of it.
 */
START_TEST(test_hierarchy)
{
	struct itest_response	*r;
	struct site		 s;
	char			*mod, *peer, *below;

	site_open(&s, "owrank");
	/* Without manage_roles: 403. */
	r = overwrite("PUT", s.room.member.token, s.channel, "role",
	    s.everyone, "{\"deny\":[\"send_messages\"]}");
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	mod = role_make(&s, "mod", "[\"manage_roles\",\"view_channels\","
	    "\"send_messages\"]", 5);
	peer = role_make(&s, "peer", "[]", 5);
	below = role_make(&s, "below", "[]", 4);
	role_member(&s, "PUT", s.room.member.id, mod);
	/* A role at their rank: 403; below: fine. */
	r = overwrite("PUT", s.room.member.token, s.channel, "role", peer,
	    "{\"deny\":[\"send_messages\"]}");
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	r = overwrite("PUT", s.room.member.token, s.channel, "role", mod,
	    "{\"deny\":[\"send_messages\"]}");
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	overwrite_ok(s.room.member.token, s.channel, "role", below,
	    "{\"allow\":[\"send_messages\"]}");
	overwrite_ok(s.room.member.token, s.channel, "role", s.everyone,
	    "{\"deny\":[\"send_messages\"]}");
	/* A permission they do not have, to allow or to deny: 403. */
	r = overwrite("PUT", s.room.member.token, s.channel, "role", below,
	    "{\"allow\":[\"manage_messages\"]}");
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	r = overwrite("PUT", s.room.member.token, s.channel, "member",
	    s.room.owner.id, "{\"deny\":[\"manage_channels\"]}");
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	/* An overwrite holding one they lack cannot be deleted by them. */
	overwrite_ok(s.room.owner.token, s.channel, "role", below,
	    "{\"allow\":[\"manage_messages\"]}");
	r = overwrite("DELETE", s.room.member.token, s.channel, "role", below,
	    NULL);
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	/* manage_roles itself is not a permission an overwrite may hold. */
	r = overwrite("PUT", s.room.owner.token, s.channel, "role", s.everyone,
	    "{\"deny\":[\"manage_roles\"]}");
	itest_expect_invalid(r, "deny");
	itest_free(r);
	/* The owner: any role, any permission. */
	overwrite_ok(s.room.owner.token, s.channel, "role", mod,
	    "{\"allow\":[\"manage_messages\",\"mention_everyone\"]}");
	free(mod);
	free(peer);
	free(below);
	site_close(&s);
}
END_TEST

/*
 * The order as members live it: the default role denies view, a role
 * allows it back, one holder's own overwrite denies it again; another
 * member's deny of sending; an administrator ignores them all.
 */
START_TEST(test_order_as_lived)
{
	struct itest_response	*r;
	struct chat_user	 third, admin;
	struct site		 s;
	char			*staff, *boss, *post;

	site_open(&s, "owlive");
	chat_user(&third, "owlive3");
	chat_join(&s.room.owner, s.room.server, &third);
	chat_user(&admin, "owlive4");
	chat_join(&s.room.owner, s.room.server, &admin);
	staff = role_make(&s, "staff", "[]", 2);
	boss = role_make(&s, "boss", "[\"administrator\"]", 3);
	role_member(&s, "PUT", s.room.member.id, staff);
	role_member(&s, "PUT", third.id, staff);
	role_member(&s, "PUT", admin.id, boss);
	overwrite_ok(s.room.owner.token, s.channel, "role", s.everyone,
	    "{\"deny\":[\"view_channels\"]}");
	overwrite_ok(s.room.owner.token, s.channel, "role", staff,
	    "{\"allow\":[\"view_channels\"]}");
	overwrite_ok(s.room.owner.token, s.channel, "member", third.id,
	    "{\"deny\":[\"view_channels\"]}");
	expect_visible(&s, s.room.member.token, s.channel);
	expect_hidden(&s, third.token, s.channel);
	expect_visible(&s, admin.token, s.channel);
	expect_visible(&s, s.room.owner.token, s.channel);
	/* The general channel is untouched for everyone. */
	expect_visible(&s, third.token, s.room.channel);

	/* A member's deny of sending beats the role's allow. */
	overwrite_ok(s.room.owner.token, s.channel, "role", staff,
	    "{\"allow\":[\"view_channels\",\"send_messages\"]}");
	overwrite_ok(s.room.owner.token, s.channel, "member",
	    s.room.member.id, "{\"deny\":[\"send_messages\"]}");
	xasprintf(&post, "%s/messages", s.base);
	expect_status("POST", post, s.room.member.token,
	    "{\"content\":\"muted\"}", 403);
	expect_status("GET", post, s.room.member.token, NULL, 200);
	expect_status("POST", post, admin.token, "{\"content\":\"admin\"}",
	    201);
	/* The mute lifted, they post again. */
	overwrite_ok(s.room.owner.token, s.channel, "member",
	    s.room.member.id, "{}");
	expect_status("POST", post, s.room.member.token,
	    "{\"content\":\"back\"}", 201);
	/* A mention of someone who may not view the channel is dropped. */
	r = itest_send("POST", post, s.room.owner.token, "{\"content\":"
	    "\"<@%s> and <@%s>\"}", third.id, s.room.member.id);
	itest_expect(r, 201);
	ck_assert_msg(itest_at(r->json, "mentions")->count == 1, "mentions: "
	    "%s", itest_describe(r));
	itest_expect_str(r, "mentions.0.id", s.room.member.id);
	itest_free(r);
	free(post);
	free(staff);
	free(boss);
	chat_user_free(&third);
	chat_user_free(&admin);
	site_close(&s);
}
END_TEST

/*
 * A channel created private: invisible to the member from its first
 * event on; its overwrites need manage_roles and are checked as a PUT;
 * an unknown target or a repeated one is 400 on overwrites.
 */
START_TEST(test_create_private)
{
	struct itest_response	*r;
	struct site		 s;
	char			*path, *body, *id, *head, *seen, *mod;

	site_open(&s, "owmake");
	head = itest_events_head(s.room.member.token);
	xasprintf(&body, "{\"name\":\"secret\",\"overwrites\":[{\"type\":"
	    "\"role\",\"id\":\"%s\",\"deny\":[\"view_channels\"]}]}",
	    s.everyone);
	id = channel_make(&s, body);
	expect_hidden(&s, s.room.member.token, id);
	seen = events_all(s.room.member.token, head);
	ck_assert_msg(strstr(seen, id) == NULL, "the member heard of the "
	    "private channel: %s", seen);
	free(seen);

	xasprintf(&path, API_PREFIX "/servers/%s/channels", s.room.server);
	mod = role_make(&s, "maker", "[\"manage_channels\",\"view_channels\"]",
	    3);
	role_member(&s, "PUT", s.room.member.id, mod);
	r = itest_send("POST", path, s.room.member.token, "%s", body);
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	/* Without overwrites manage_channels is enough. */
	r = itest_send("POST", path, s.room.member.token,
	    "{\"name\":\"open\",\"overwrites\":[]}");
	itest_expect(r, 201);
	ck_assert_uint_eq(itest_at(r->json, "overwrites")->count, 0);
	itest_free(r);
	r = itest_send("POST", path, s.room.owner.token, "{\"name\":\"x\","
	    "\"overwrites\":[{\"type\":\"role\",\"id\":\"999999999\"}]}");
	itest_expect_invalid(r, "overwrites");
	itest_free(r);
	r = itest_send("POST", path, s.room.owner.token, "{\"name\":\"x\","
	    "\"overwrites\":[{\"type\":\"group\",\"id\":\"%s\"}]}",
	    s.everyone);
	itest_expect_invalid(r, "overwrites");
	itest_free(r);
	r = itest_send("POST", path, s.room.owner.token, "{\"name\":\"x\","
	    "\"overwrites\":[{\"type\":\"role\",\"id\":\"%s\"},"
	    "{\"type\":\"role\",\"id\":\"%s\"}]}", s.everyone, s.everyone);
	itest_expect_invalid(r, "overwrites");
	itest_free(r);
	r = itest_send("POST", path, s.room.owner.token, "{\"name\":\"x\","
	    "\"overwrites\":{}}");
	itest_expect_invalid(r, "overwrites");
	itest_free(r);
	/* None of the refused ones exists. */
	ck_assert_int_eq(itest_sql_number("SELECT COUNT(*) FROM channels"
	    " WHERE name = 'x'"), 0);
	free(mod);
	free(path);
	free(body);
	free(id);
	free(head);
	site_close(&s);
}
END_TEST

/* A role deleted and a member gone take their overwrites with them. */
START_TEST(test_targets_gone)
{
	struct itest_response	*r;
	struct site		 s;
	char			*role, *path;

	site_open(&s, "owgone");
	role = role_make(&s, "temp", "[]", 2);
	overwrite_ok(s.room.owner.token, s.channel, "role", role,
	    "{\"allow\":[\"send_messages\"]}");
	overwrite_ok(s.room.owner.token, s.channel, "member",
	    s.room.member.id, "{\"deny\":[\"send_messages\"]}");
	xasprintf(&path, API_PREFIX "/servers/%s/roles/%s", s.room.server,
	    role);
	expect_status("DELETE", path, s.room.owner.token, NULL, 204);
	free(path);
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", s.room.server,
	    s.room.member.id);
	expect_status("DELETE", path, s.room.owner.token, NULL, 204);
	free(path);
	r = itest_get(s.base, s.room.owner.token);
	itest_expect(r, 200);
	ck_assert_msg(itest_at(r->json, "overwrites")->count == 0,
	    "overwrites left: %s", itest_describe(r));
	itest_free(r);
	xasprintf(&path, "SELECT COUNT(*) FROM channel_overwrites"
	    " WHERE channel_id = %s", s.channel);
	ck_assert_int_eq(itest_sql_number(path), 0);
	free(path);
	free(role);
	site_close(&s);
}
END_TEST

/*
 * Losing view mid-poll: the member's parked channel poll answers 404,
 * their /events poll gets channel.delete {id, server_id}, and nothing
 * later of that channel reaches them; the owner, who still views it, gets
 * channel.update and no channel.delete.
 */
START_TEST(test_lost_view_live)
{
	struct itest_response	*r;
	struct itest_pending	*chan, *events;
	struct site		 s;
	char			*path, *head, *owner_head, *seen, *last;

	site_open(&s, "owlost");
	last = chat_post(&s.room.owner, s.base, "before");
	owner_head = itest_events_head(s.room.owner.token);
	head = itest_events_head(s.room.member.token);
	xasprintf(&path, "%s/messages?after=%s&wait=%d", s.base, last,
	    POLL_WAIT);
	chan = itest_start(path, s.room.member.token);
	free(path);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d", head,
	    POLL_WAIT);
	events = itest_start(path, s.room.member.token);
	free(path);
	itest_sleep_ms(PARK_MS);
	overwrite_ok(s.room.owner.token, s.channel, "member",
	    s.room.member.id, "{\"deny\":[\"view_channels\"]}");
	free(chat_post(&s.room.owner, s.base, "after the door closed"));
	itest_expect_refused(chan, 404, "not_found", "after the door closed",
	    ANSWER_WITHIN);
	r = itest_finish(events);
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "channel.delete");
	itest_expect_str(r, "events.0.data.id", s.channel);
	itest_expect_str(r, "events.0.data.server_id", s.room.server);
	ck_assert_msg(r->seconds < ANSWER_WITHIN, "%s", itest_describe(r));
	itest_free(r);
	seen = events_all(s.room.member.token, head);
	ck_assert_msg(strstr(seen, "after the door closed") == NULL &&
	    !holds_event(seen, "channel.update", s.channel), "a hidden "
	    "channel's event reached the member: %s", seen);
	ck_assert_msg(holds_event(seen, "channel.delete", s.channel), "%s",
	    seen);
	free(seen);
	seen = events_all(s.room.owner.token, owner_head);
	ck_assert_msg(holds_event(seen, "channel.update", s.channel) &&
	    !holds_event(seen, "channel.delete", s.channel) &&
	    strstr(seen, "after the door closed") != NULL, "%s", seen);
	free(seen);
	expect_hidden(&s, s.room.member.token, s.channel);
	free(head);
	free(owner_head);
	free(last);
	site_close(&s);
}
END_TEST

/*
 * Gaining view: a private channel's member overwrite allows view; the
 * member's parked /events poll gets channel.create with the channel, and
 * then the channel's messages; a member who still may not view it hears
 * of none of it.
 */
START_TEST(test_gained_view_live)
{
	struct itest_response	*r;
	struct itest_pending	*events;
	struct chat_user	 other;
	struct site		 s;
	char			*body, *id, *head, *other_head, *path, *base;
	char			*seen;

	site_open(&s, "owgain");
	chat_user(&other, "owgain3");
	chat_join(&s.room.owner, s.room.server, &other);
	xasprintf(&body, "{\"name\":\"vault\",\"overwrites\":[{\"type\":"
	    "\"role\",\"id\":\"%s\",\"deny\":[\"view_channels\"]}]}",
	    s.everyone);
	id = channel_make(&s, body);
	xasprintf(&base, API_PREFIX "/channels/%s", id);
	free(chat_post(&s.room.owner, base, "old secret"));
	head = itest_events_head(s.room.member.token);
	other_head = itest_events_head(other.token);
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=%d", head,
	    POLL_WAIT);
	events = itest_start(path, s.room.member.token);
	free(path);
	itest_sleep_ms(PARK_MS);
	overwrite_ok(s.room.owner.token, id, "member", s.room.member.id,
	    "{\"allow\":[\"view_channels\"]}");
	r = itest_finish(events);
	itest_expect(r, 200);
	itest_expect_str(r, "events.0.type", "channel.create");
	itest_expect_str(r, "events.0.data.channel.id", id);
	itest_expect_str(r, "events.0.data.channel.name", "vault");
	ck_assert_uint_eq(itest_at(r->json,
	    "events.0.data.channel.overwrites")->count, 2);
	itest_free(r);
	free(chat_post(&s.room.owner, base, "new secret"));
	seen = events_all(s.room.member.token, head);
	ck_assert_msg(strstr(seen, "new secret") != NULL, "%s", seen);
	free(seen);
	expect_visible(&s, s.room.member.token, id);
	seen = events_all(other.token, other_head);
	ck_assert_msg(strstr(seen, id) == NULL, "a member without view heard "
	    "of the channel: %s", seen);
	free(seen);
	expect_hidden(&s, other.token, id);
	free(body);
	free(id);
	free(base);
	free(head);
	free(other_head);
	chat_user_free(&other);
	site_close(&s);
}
END_TEST

/*
 * View given and taken by roles: a role whose overwrite allows a private
 * channel, given to the member (channel.create), taken back
 * (channel.delete); then the default role's permissions losing
 * view_channels hides every channel (a channel.delete for each) but the
 * one a role overwrite still opens to them.
 */
START_TEST(test_roles_move_view)
{
	struct itest_response	*r;
	struct site		 s;
	char			*body, *id, *role, *head, *seen, *path;

	site_open(&s, "owroles");
	role = role_make(&s, "insiders", "[]", 2);
	xasprintf(&body, "{\"name\":\"inside\",\"overwrites\":[{\"type\":"
	    "\"role\",\"id\":\"%s\",\"deny\":[\"view_channels\"]},"
	    "{\"type\":\"role\",\"id\":\"%s\",\"allow\":[\"view_channels\"]}"
	    "]}", s.everyone, role);
	id = channel_make(&s, body);
	head = itest_events_head(s.room.member.token);
	role_member(&s, "PUT", s.room.member.id, role);
	expect_visible(&s, s.room.member.token, id);
	role_member(&s, "DELETE", s.room.member.id, role);
	expect_hidden(&s, s.room.member.token, id);
	seen = events_all(s.room.member.token, head);
	ck_assert_msg(holds_event(seen, "channel.create", id) &&
	    holds_event(seen, "channel.delete", id), "%s", seen);
	ck_assert_msg(strstr(seen, "channel.create") <
	    strstr(seen, "channel.delete"), "out of order: %s", seen);
	free(seen);

	/* The default role loses view: all but the role's channel hide. */
	role_member(&s, "PUT", s.room.member.id, role);
	free(head);
	head = itest_events_head(s.room.member.token);
	xasprintf(&path, API_PREFIX "/servers/%s/roles/%s", s.room.server,
	    s.everyone);
	r = itest_send("PATCH", path, s.room.owner.token,
	    "{\"permissions\":[\"send_messages\"]}");
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	seen = events_all(s.room.member.token, head);
	ck_assert_msg(holds_event(seen, "channel.delete", s.room.channel) &&
	    holds_event(seen, "channel.delete", s.channel) &&
	    !holds_event(seen, "channel.delete", id), "general %s, second "
	    "%s, inside %s: %s", s.room.channel, s.channel, id, seen);
	free(seen);
	expect_hidden(&s, s.room.member.token, s.room.channel);
	expect_visible(&s, s.room.member.token, id);
	free(body);
	free(id);
	free(role);
	free(head);
	site_close(&s);
}
END_TEST

/*
 * Deleting a private channel tells those who could view it, and nobody
 * else: a member who never saw it gets no channel.delete.
 */
START_TEST(test_delete_private_audience)
{
	struct chat_user	 insider;
	struct site		 s;
	char			*body, *id, *head, *inside_head, *seen, *base;

	site_open(&s, "owdel");
	chat_user(&insider, "owdel3");
	chat_join(&s.room.owner, s.room.server, &insider);
	xasprintf(&body, "{\"name\":\"brief\",\"overwrites\":[{\"type\":"
	    "\"role\",\"id\":\"%s\",\"deny\":[\"view_channels\"]},"
	    "{\"type\":\"member\",\"id\":\"%s\",\"allow\":[\"view_channels\"]}"
	    "]}", s.everyone, insider.id);
	id = channel_make(&s, body);
	head = itest_events_head(s.room.member.token);
	inside_head = itest_events_head(insider.token);
	xasprintf(&base, API_PREFIX "/channels/%s", id);
	expect_status("DELETE", base, s.room.owner.token, NULL, 204);
	seen = events_all(s.room.member.token, head);
	ck_assert_msg(strstr(seen, id) == NULL, "%s", seen);
	free(seen);
	seen = events_all(insider.token, inside_head);
	ck_assert_msg(holds_event(seen, "channel.delete", id), "%s", seen);
	free(seen);
	free(base);
	free(body);
	free(id);
	free(head);
	free(inside_head);
	chat_user_free(&insider);
	site_close(&s);
}
END_TEST

static Suite *
overwrites_suite(void)
{
	Suite	*s = suite_create("overwrites");
	TCase	*tc;

	tc = tcase_create("rest");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_put_order_and_delete);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_hierarchy);
	tcase_add_test(tc, test_order_as_lived);
	tcase_add_test(tc, test_create_private);
	tcase_add_test(tc, test_targets_gone);
	suite_add_tcase(s, tc);
	tc = tcase_create("events");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_lost_view_live);
	tcase_add_test(tc, test_gained_view_live);
	tcase_add_test(tc, test_roles_move_view);
	tcase_add_test(tc, test_delete_private_audience);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(overwrites_suite());
}
