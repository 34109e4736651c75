/* SPDX-License-Identifier: ISC */
/*
 * itest_readstate.c: integration tests of mentions and read state
 * (API.md, Mentions and read state): the mention fields of a message on
 * send, edit and in history; who counts as mentioned; the default read
 * positions (a member who joined late, a channel created after the join,
 * a DM); counts stopping at 100; deleted and own messages; acks and
 * read_state.update; and the attacks: a channel you cannot see, a kicked
 * member, a token stolen before logout-all.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "chat.h"
#include "check_run.h"

#define EVENTS	API_PREFIX "/events"
#define STATES	API_PREFIX "/users/@me/read-states"

/* One read state as the tests look at it (ids as strings, "" for null). */
struct state {
	char	last_read[24];
	char	last_message[24];
	long	unread;
	long	mentions;
	int	found;
};

/* A string at a path of a JSON value ("" for null or absent). */
static void
copy_id(char *dst, size_t size, const struct json *obj, const char *key)
{
	const struct json	*v = itest_at(obj, key);

	snprintf(dst, size, "%s", v != NULL && v->type == JSON_STRING ?
	    v->text : "");
}

/* A number at a key of a JSON value. */
static long
number_at(const struct json *obj, const char *key)
{
	const struct json	*v = itest_at(obj, key);

	ck_assert_msg(v != NULL && v->type == JSON_NUMBER, "no number %s",
	    key);
	return strtol(v->text, NULL, 10);
}

/* Fill a state from a read state object. */
static void
state_fill(struct state *s, const struct json *o)
{
	copy_id(s->last_read, sizeof s->last_read, o, "last_read_id");
	copy_id(s->last_message, sizeof s->last_message, o,
	    "last_message_id");
	s->unread = number_at(o, "unread_count");
	s->mentions = number_at(o, "mention_count");
	s->found = 1;
}

/*
 * The read state of a conversation in u's GET /users/@me/read-states
 * (key "channel_id" or "dm_channel_id"); found 0 when it is not listed.
 */
static struct state
state_of(const struct chat_user *u, const char *key, const char *id)
{
	struct itest_response	*r;
	const struct json	*o, *v;
	struct state		 s;
	size_t			 i;

	memset(&s, 0, sizeof s);
	r = itest_get(STATES, u->token);
	itest_expect(r, 200);
	ck_assert_msg(r->json->type == JSON_ARRAY, "not a list: %s",
	    itest_describe(r));
	for (i = 0; i < r->json->count; i++) {
		o = r->json->items[i];
		v = itest_at(o, key);
		if (v != NULL && v->type == JSON_STRING &&
		    strcmp(v->text, id) == 0)
			state_fill(&s, o);
	}
	itest_free(r);
	return s;
}

/* Assert the counts of a channel (or DM) for u. */
static void
expect_counts(const struct chat_user *u, const char *key, const char *id,
    long unread, long mentions)
{
	struct state	s = state_of(u, key, id);

	ck_assert_msg(s.found, "%s %s is not in %s's read states", key, id,
	    u->username);
	ck_assert_msg(s.unread == unread && s.mentions == mentions,
	    "%s in %s %s: unread %ld mentions %ld, expected %ld and %ld",
	    u->username, key, id, s.unread, s.mentions, unread, mentions);
}

/* POST content (plain; quoted here) as u; the whole answer, 201 asserted. */
static struct itest_response *
post(const struct chat_user *u, const char *base, const char *content)
{
	struct itest_response	*r;
	char			*path, *quoted;

	path = chat_path(base, NULL, NULL);
	quoted = itest_quote(content);
	r = itest_send("POST", path, u->token, "{\"content\":%s}", quoted);
	free(quoted);
	free(path);
	itest_expect(r, 201);
	return r;
}

/* PUT …/ack {message_id} as token; the answer. */
static struct itest_response *
ack(const char *token, const char *base, const char *message_id)
{
	char			*path;
	struct itest_response	*r;

	xasprintf(&path, "%s/ack", base);
	r = itest_send("PUT", path, token, "{\"message_id\":\"%s\"}",
	    message_id);
	free(path);
	return r;
}

/* Create a role in a server with permissions (a JSON list); its id. */
static char *
role_new(const struct chat_user *owner, const char *server,
    const char *name, const char *permissions)
{
	struct itest_response	*r;
	char			*path, *id;

	xasprintf(&path, API_PREFIX "/servers/%s/roles", server);
	r = itest_send("POST", path, owner->token,
	    "{\"name\":\"%s\",\"permissions\":%s}", name, permissions);
	free(path);
	itest_expect(r, 201);
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	return id;
}

/* Give a member a role (PUT) or take it (DELETE); 204 asserted. */
static void
role_member(const char *method, const struct chat_user *owner,
    const char *server, const char *role, const struct chat_user *u)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, API_PREFIX "/servers/%s/members/%s/roles/%s",
	    server, u->id, role);
	r = itest_request(method, path, owner->token, NULL, NULL, 0);
	free(path);
	ck_assert_msg(r->status == 204, "%s of the role: %s", method,
	    itest_describe(r));
	itest_free(r);
}

/* Give a member a role (204 asserted). */
static void
role_give(const struct chat_user *owner, const char *server,
    const char *role, const struct chat_user *u)
{
	role_member("PUT", owner, server, role, u);
}

/* Set the permissions of a server's default role (a JSON list). */
static void
default_role_set(const struct chat_user *owner, const char *server,
    const char *permissions)
{
	struct itest_response	*r;
	char			*path, *id = NULL;
	const struct json	*v;
	size_t			 i;

	xasprintf(&path, API_PREFIX "/servers/%s/roles", server);
	r = itest_get(path, owner->token);
	free(path);
	itest_expect(r, 200);
	for (i = 0; i < r->json->count; i++) {
		v = itest_at(r->json->items[i], "is_default");
		if (v != NULL && v->type == JSON_BOOL && v->boolean)
			id = xstrdup(itest_at(r->json->items[i], "id")->text);
	}
	itest_free(r);
	ck_assert_msg(id != NULL, "no default role");
	xasprintf(&path, API_PREFIX "/servers/%s/roles/%s", server, id);
	r = itest_send("PATCH", path, owner->token, "{\"permissions\":%s}",
	    permissions);
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	free(id);
}

/*
 * The rows of message_mentions that count mentions of a message: its
 * author's mention of themselves has none (nothing would read it).
 */
static long long
mention_rows(const char *message_id)
{
	char		*sql;
	long long	 n;

	xasprintf(&sql, "SELECT COUNT(*) FROM message_mentions"
	    " WHERE message_id = %s", message_id);
	n = itest_sql_number(sql);
	free(sql);
	return n;
}

/* The number of users in a message's mentions, and whether id is one. */
static size_t
mentioned(struct itest_response *r, const char *prefix, const char *id,
    int *found)
{
	const struct json	*list;
	char			 path[64];
	size_t			 i;

	snprintf(path, sizeof path, "%s%smentions", prefix, *prefix ? "." :
	    "");
	list = itest_at(r->json, path);
	ck_assert_msg(list != NULL && list->type == JSON_ARRAY, "no %s: %s",
	    path, itest_describe(r));
	*found = 0;
	for (i = 0; i < list->count; i++) {
		if (strcmp(itest_at(list->items[i], "id")->text, id) == 0)
			*found = 1;
	}
	return list->count;
}

/* Whether the message at prefix says mention_everyone. */
static int
everyone(struct itest_response *r, const char *prefix)
{
	const struct json	*v;
	char			 path[64];

	snprintf(path, sizeof path, "%s%smention_everyone", prefix,
	    *prefix ? "." : "");
	v = itest_at(r->json, path);
	ck_assert_msg(v != NULL && v->type == JSON_BOOL, "no %s: %s", path,
	    itest_describe(r));
	return v->boolean;
}

/*
 * A send fills mentions (the users who can see it, once each, in order,
 * with their names), mention_roles and mention_everyone; unknown ids stay
 * text; history and an edit show the same; a plain message has [] and
 * false.
 */
START_TEST(test_mention_fields)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*role, *text, *id, *path;
	int			 found, page;

	chat_room_open(&room, "rs_fields");
	role = role_new(&room.owner, room.server, "crew", "[]");
	xasprintf(&text, "hi <@%s> <@999999999> <@&%s> <@%s> <@&1> @here "
	    "<@%s>", room.member.id, role, room.owner.id, room.member.id);
	r = post(&room.owner, room.base, text);
	itest_expect_str(r, "content", text);
	ck_assert_uint_eq(mentioned(r, "", room.member.id, &found), 2);
	itest_expect_str(r, "mentions.0.id", room.member.id);
	itest_expect_str(r, "mentions.0.username", room.member.username);
	itest_expect_str(r, "mentions.1.id", room.owner.id);
	itest_expect_str(r, "mention_roles.0", role);
	ck_assert_msg(itest_at(r->json, "mention_roles.1") == NULL,
	    "a foreign role counted: %s", itest_describe(r));
	ck_assert_msg(everyone(r, ""), "the owner's @here did not count");
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	/* The member, the role and @here: the owner's own has no row. */
	ck_assert_int_eq(mention_rows(id), 3);

	/* The latest page (kept) and a page before (read): with names. */
	for (page = 0; page < 2; page++) {
		r = chat_history(&room.member, room.base, page == 0 ? NULL :
		    "before=18446744073709551615");
		itest_expect_str(r, "0.id", id);
		itest_expect_str(r, "0.mentions.0.id", room.member.id);
		itest_expect_str(r, "0.mentions.0.username",
		    room.member.username);
		itest_expect_str(r, "0.mentions.1.id", room.owner.id);
		itest_expect_str(r, "0.mentions.1.username",
		    room.owner.username);
		itest_expect_str(r, "0.mention_roles.0", role);
		ck_assert(everyone(r, "0"));
		itest_free(r);
	}

	/* An edit replaces them; a plain message has none. */
	path = chat_path(room.base, id, NULL);
	r = itest_send("PATCH", path, room.owner.token,
	    "{\"content\":\"now only <@%s>\"}", room.owner.id);
	itest_expect(r, 200);
	ck_assert_uint_eq(mentioned(r, "", room.owner.id, &found), 1);
	ck_assert(found);
	ck_assert_msg(itest_at(r->json, "mention_roles.0") == NULL &&
	    !everyone(r, ""), "the edit kept old mentions: %s",
	    itest_describe(r));
	itest_free(r);
	ck_assert_int_eq(mention_rows(id), 0);
	r = itest_get(path, room.member.token);
	itest_expect(r, 200);
	ck_assert_uint_eq(mentioned(r, "", room.owner.id, &found), 1);
	itest_free(r);
	r = post(&room.member, room.base, "nothing to see");
	ck_assert_uint_eq(mentioned(r, "", room.owner.id, &found), 0);
	ck_assert(!everyone(r, ""));
	ck_assert_msg(itest_at(r->json, "mention_roles") != NULL &&
	    itest_at(r->json, "mention_roles")->count == 0,
	    "mention_roles is not []: %s", itest_describe(r));
	itest_free(r);
	free(path);
	free(id);
	free(text);
	free(role);
	chat_room_close(&room);
}
END_TEST

/*
 * Role mentions follow the server's roles at once (workers keep them):
 * a role created after a role mention is mentionable in the next
 * message, and a deleted one is text again.
 */
START_TEST(test_role_mentions_follow_changes)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*first, *second, *text, *path;
	int			 i;

	chat_room_open(&room, "rs_roles");
	first = role_new(&room.owner, room.server, "first", "[]");
	xasprintf(&text, "<@&%s>", first);
	for (i = 0; i < 4; i++) {
		r = post(&room.owner, room.base, text);
		itest_expect_str(r, "mention_roles.0", first);
		itest_free(r);
	}
	free(text);
	second = role_new(&room.owner, room.server, "second", "[]");
	xasprintf(&text, "<@&%s> <@&%s>", second, first);
	for (i = 0; i < 4; i++) {
		r = post(&room.owner, room.base, text);
		itest_expect_str(r, "mention_roles.0", second);
		itest_expect_str(r, "mention_roles.1", first);
		itest_free(r);
	}
	xasprintf(&path, API_PREFIX "/servers/%s/roles/%s", room.server, first);
	r = itest_delete(path, room.owner.token);
	ck_assert_int_eq(r->status, 204);
	itest_free(r);
	for (i = 0; i < 4; i++) {
		r = post(&room.owner, room.base, text);
		itest_expect_str(r, "mention_roles.0", second);
		ck_assert_msg(itest_at(r->json, "mention_roles.1") == NULL,
		    "a deleted role is mentioned: %s", itest_describe(r));
		itest_free(r);
	}
	free(path);
	free(text);
	free(first);
	free(second);
	chat_room_close(&room);
}
END_TEST

/*
 * More than 50 distinct resolved mentions is 400 validation_failed on
 * content; 50 is fine, and unknown ids never count towards the cap.
 */
START_TEST(test_mention_cap)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*roles[51], *text, *more, *path, name[16];
	int			 i;

	chat_room_open(&room, "rs_cap");
	text = xstrdup("");
	for (i = 0; i < 51; i++) {
		snprintf(name, sizeof name, "r%d", i);
		roles[i] = role_new(&room.owner, room.server, name, "[]");
		xasprintf(&more, "%s<@&%s><@%d>", text, roles[i], 900000000 + i);
		free(text);
		text = more;
		if (i == 49) {
			r = post(&room.owner, room.base, text);
			ck_assert_uint_eq(itest_at(r->json,
			    "mention_roles")->count, 50);
			itest_free(r);
		}
	}
	path = chat_path(room.base, NULL, NULL);
	r = itest_send("POST", path, room.owner.token, "{\"content\":\"%s\"}",
	    text);
	itest_expect_invalid(r, "content");
	itest_free(r);
	for (i = 0; i < 51; i++)
		free(roles[i]);
	free(path);
	free(text);
	chat_room_close(&room);
}
END_TEST

/*
 * @everyone without mention_everyone in the channel is text: false, and
 * it mentions nobody; with a role that grants it, it counts for every
 * member but its author.
 */
START_TEST(test_mention_everyone_permission)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*role;

	chat_room_open(&room, "rs_every");
	r = post(&room.member, room.base, "@everyone look");
	ck_assert_msg(!everyone(r, ""), "@everyone without the permission");
	itest_free(r);
	expect_counts(&room.owner, "channel_id", room.channel, 1, 0);

	role = role_new(&room.owner, room.server, "herald",
	    "[\"mention_everyone\"]");
	role_give(&room.owner, room.server, role, &room.member);
	r = post(&room.member, room.base, "@here now");
	ck_assert_msg(everyone(r, ""), "@here with the permission: %s",
	    itest_describe(r));
	itest_free(r);
	expect_counts(&room.owner, "channel_id", room.channel, 2, 1);
	expect_counts(&room.member, "channel_id", room.channel, 0, 0);
	free(role);
	chat_room_close(&room);
}
END_TEST

/*
 * Mentions of users who cannot see the message are dropped: a user of no
 * server, and a member without view_channels; the owner always sees.  A
 * role mention counts only for holders of the role.
 */
START_TEST(test_mention_viewers_and_roles)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct chat_user	 stranger, blind;
	char			*text, *role;
	int			 found;

	chat_room_open(&room, "rs_view");
	chat_user(&stranger, "rs_stranger");
	chat_user(&blind, "rs_blind");
	chat_join(&room.owner, room.server, &blind);
	role = role_new(&room.owner, room.server, "readers",
	    "[\"view_channels\",\"send_messages\"]");
	role_give(&room.owner, room.server, role, &room.member);
	default_role_set(&room.owner, room.server, "[\"send_messages\"]");

	xasprintf(&text, "<@%s> <@%s> <@%s> <@%s>", stranger.id, blind.id,
	    room.member.id, room.owner.id);
	r = post(&room.member, room.base, text);
	ck_assert_uint_eq(mentioned(r, "", room.member.id, &found), 2);
	ck_assert(found);
	ck_assert(mentioned(r, "", room.owner.id, &found) == 2 && found);
	itest_free(r);
	free(text);

	/* The role mention: the member holds it, blind (given view) not. */
	default_role_set(&room.owner, room.server,
	    "[\"view_channels\",\"send_messages\"]");
	xasprintf(&text, "calling <@&%s>", role);
	r = post(&room.owner, room.base, text);
	itest_expect_str(r, "mention_roles.0", role);
	itest_free(r);
	expect_counts(&room.member, "channel_id", room.channel, 1, 1);
	expect_counts(&blind, "channel_id", room.channel, 2, 0);
	free(text);
	free(role);
	chat_user_free(&stranger);
	chat_user_free(&blind);
	chat_room_close(&room);
}
END_TEST

#define RACERS		12
#define HOLD_WAIT_MS	2000	/* at most, for a send to block */
#define HOLD_MS		1000	/* then held on while the rest queue up */

/*
 * Hold the rows a SELECT ... FOR UPDATE locks from a connection of the
 * test's own, in a child process: a send waits for its channel's row
 * (the message's foreign key), an ack's batch for the read state it
 * writes, and blocks its worker, so the requests that come meanwhile
 * queue up.  The row is held
 * until a request waits for it (a busy box may take longer to bring the
 * first ones than any fixed time), then HOLD_MS more for the others to
 * arrive: in all less than the server's lock wait timeout (db.c: half
 * the read timeout, 5 s), after which the blocked request would give up.
 * Returns once the row is held; the child's pid.
 */
static pid_t
hold_rows(const char *select)
{
	void	*db;
	pid_t	 pid;
	int	 held[2], waited;
	char	 c = 0;

	ck_assert(pipe(held) == 0);
	if ((pid = fork()) == 0) {
		close(held[0]);
		db = itest_db_open();
		itest_db_run(db, "START TRANSACTION");
		itest_db_run(db, "%s FOR UPDATE", select);
		if (write(held[1], &c, 1) != 1)
			_exit(1);
		for (waited = 0; waited < HOLD_WAIT_MS && itest_db_number(db,
		    "SELECT COUNT(*) FROM information_schema.INNODB_TRX"
		    " WHERE trx_state = 'LOCK WAIT'") == 0;
		    waited += 20)
			itest_sleep_ms(20);
		itest_sleep_ms(HOLD_MS);
		itest_db_run(db, "ROLLBACK");
		itest_db_close(db);
		_exit(0);
	}
	ck_assert(pid > 0);
	close(held[1]);
	ck_assert_msg(read(held[0], &c, 1) == 1, "the channel was not held");
	close(held[0]);
	return pid;
}

/*
 * Race RACERS sends of the owner into the room, every third mentioning
 * the member and the rest the owner, while the channel's row is held, so
 * that they queue up and are written in batches; assert
 * each posted, the member's counts (all of them unread, a third
 * mentions), each message's own mention in history, and a row to count
 * it only where it names the member.
 */
static void
race_mentions(void)
{
	struct itest_response	*r;
	struct chat_room	 room;
	const char		*tokens[RACERS], *bodies[RACERS];
	char			*path, *texts[RACERS], *ids[RACERS], *held;
	char			 prefix[16];
	long			 status[RACERS];
	pid_t			 holder;
	int			 i, found, wstatus;

	chat_room_open(&room, "rs_batch");
	path = chat_path(room.base, NULL, NULL);
	for (i = 0; i < RACERS; i++) {
		tokens[i] = room.owner.token;
		xasprintf(&texts[i], "{\"content\":\"%d <@%s>\"}", i,
		    i % 3 == 0 ? room.member.id : room.owner.id);
		bodies[i] = texts[i];
	}
	xasprintf(&held, "SELECT id FROM channels WHERE id = %s", room.channel);
	holder = hold_rows(held);
	free(held);
	chat_race(RACERS, "POST", path, tokens, bodies, status, ids);
	ck_assert(waitpid(holder, &wstatus, 0) == holder &&
	    WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
	for (i = 0; i < RACERS; i++) {
		ck_assert_int_eq(status[i], 201);
		free(ids[i]);
		free(texts[i]);
	}
	expect_counts(&room.member, "channel_id", room.channel, RACERS,
	    RACERS / 3);
	r = chat_history(&room.member, room.base, NULL);
	for (i = 0; i < RACERS; i++) {
		snprintf(prefix, sizeof prefix, "%d", i);
		ck_assert_uint_eq(mentioned(r, prefix, room.member.id,
		    &found), 1);
		/* A row for the member; the owner's of themselves, none. */
		snprintf(prefix, sizeof prefix, "%d.id", i);
		ck_assert_int_eq(mention_rows(itest_str(r, prefix)), found);
	}
	itest_free(r);
	free(path);
	chat_room_close(&room);
}

/*
 * Sends that arrive together are written as one batch (sendbatch.c):
 * each keeps its own mentions, and each counts.  They are made to queue
 * up behind a held row, so that some are batched on any box.
 */
START_TEST(test_batched_mentions)
{
	long	before = itest_metric("sohbet_batched_sends_total");

	race_mentions();
	ck_assert_msg(itest_metric("sohbet_batched_sends_total") > before,
	    "%d sends queued behind a held row were not written together",
	    RACERS);
}
END_TEST

/*
 * A mention resolved from the workers' caches (both users active in the
 * channel) follows a change of permissions at once: the member who loses
 * view_channels is dropped from the next message's mentions.
 */
START_TEST(test_mention_cached_standing)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*text;
	int			 found, i;

	chat_room_open(&room, "rs_cached");
	xasprintf(&text, "hello <@%s>", room.member.id);
	/* Both users use the channel on every worker first. */
	for (i = 0; i < 4; i++) {
		free(chat_post(&room.member, room.base, "here"));
		r = post(&room.owner, room.base, text);
		ck_assert_uint_eq(mentioned(r, "", room.member.id, &found), 1);
		ck_assert(found);
		itest_free(r);
	}
	default_role_set(&room.owner, room.server, "[\"send_messages\"]");
	for (i = 0; i < 4; i++) {
		r = post(&room.owner, room.base, text);
		ck_assert_msg(mentioned(r, "", room.member.id, &found) == 0,
		    "a member who cannot see the channel is mentioned: %s",
		    itest_describe(r));
		itest_free(r);
	}
	free(text);
	chat_room_close(&room);
}
END_TEST

/*
 * A message mentioning a user the workers' caches know, then one they do
 * not (an unknown id, a user who never made a request): the caches
 * cannot answer for all, so the mentions are resolved by a query, and
 * each user who can see the channel is there once, in order.
 */
START_TEST(test_mention_cache_miss_after_hit)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct chat_user	 quiet;
	char			*text;
	int			 found, i;

	chat_room_open(&room, "rs_miss");
	chat_user(&quiet, "rs_quiet");
	chat_join(&room.owner, room.server, &quiet);
	xasprintf(&text, "<@%s> <@999999999> <@%s> <@%s>", room.member.id,
	    quiet.id, room.member.id);
	/* The member uses the channel on every worker first. */
	for (i = 0; i < 4; i++)
		free(chat_post(&room.member, room.base, "here"));
	for (i = 0; i < 4; i++) {
		r = post(&room.owner, room.base, text);
		ck_assert_msg(mentioned(r, "", room.member.id, &found) == 2 &&
		    found, "not the member and the quiet user once each: %s",
		    itest_describe(r));
		itest_expect_str(r, "mentions.0.id", room.member.id);
		itest_expect_str(r, "mentions.1.id", quiet.id);
		itest_expect_str(r, "mentions.1.username", quiet.username);
		itest_free(r);
	}
	free(text);
	chat_user_free(&quiet);
	chat_room_close(&room);
}
END_TEST

/*
 * The read position of a conversation never acknowledged: a member who
 * joined late has read what came before; a channel created after the
 * join has nothing read; a DM has nothing read.
 */
START_TEST(test_default_positions)
{
	struct itest_response	*r;
	struct chat_user	 owner, late, other;
	char			*server, *channel, *base, *path, *before;
	char			*dm, *dm_base, *created;
	struct state		 s;

	chat_user(&owner, "rs_def");
	chat_user(&late, "rs_late");
	chat_user(&other, "rs_other");
	server = chat_server(&owner, &channel);
	xasprintf(&base, API_PREFIX "/channels/%s", channel);
	free(chat_post(&owner, base, "one"));
	before = chat_post(&owner, base, "two");
	chat_join(&owner, server, &late);
	s = state_of(&late, "channel_id", channel);
	ck_assert_msg(s.found && s.unread == 0 && s.mentions == 0,
	    "a late joiner finds old messages unread");
	ck_assert_str_eq(s.last_message, before);
	free(chat_post(&owner, base, "three"));
	expect_counts(&late, "channel_id", channel, 1, 0);

	/* A channel created after the join. */
	xasprintf(&path, API_PREFIX "/servers/%s/channels", server);
	r = itest_send("POST", path, owner.token, "{\"name\":\"later\"}");
	itest_expect(r, 201);
	created = xstrdup(itest_str(r, "id"));
	itest_free(r);
	free(base);
	xasprintf(&base, API_PREFIX "/channels/%s", created);
	expect_counts(&late, "channel_id", created, 0, 0);
	free(chat_post(&owner, base, "a"));
	free(chat_post(&owner, base, "b"));
	expect_counts(&late, "channel_id", created, 2, 0);
	ck_assert_str_eq(state_of(&late, "channel_id", created).last_read,
	    "");

	/* A DM: nothing read, every message of the other one mentions. */
	dm = chat_dm(&other, &late);
	xasprintf(&dm_base, API_PREFIX "/dms/%s", dm);
	free(chat_post(&other, dm_base, "psst"));
	free(chat_post(&other, dm_base, "hello?"));
	expect_counts(&late, "dm_channel_id", dm, 2, 2);
	expect_counts(&other, "dm_channel_id", dm, 0, 0);

	free(dm_base);
	free(dm);
	free(created);
	free(path);
	free(before);
	free(base);
	free(server);
	free(channel);
	chat_user_free(&owner);
	chat_user_free(&late);
	chat_user_free(&other);
}
END_TEST

/*
 * Counts stop at 100; a deleted message leaves both counts and
 * last_message_id; your own messages are never unread, and a send marks
 * the conversation read for its author.
 */
/* The sum of MariaDB's status counters names (a quoted list), so far. */
static long long
global_status(const char *names)
{
	char		*sql;
	long long	 n;

	xasprintf(&sql, "SELECT SUM(VARIABLE_VALUE)"
	    " FROM information_schema.GLOBAL_STATUS"
	    " WHERE VARIABLE_NAME IN (%s)", names);
	n = itest_sql_number(sql);
	free(sql);
	return n;
}

/* The rows MariaDB has read from its indexes so far, on every connection. */
static long long
index_rows_read(void)
{
	return global_status("'HANDLER_READ_NEXT', 'HANDLER_READ_PREV'");
}

/*
 * The temporary tables MariaDB has made so far, on every connection: one
 * more than before for this question itself.
 */
static long long
tmp_tables_made(void)
{
	return global_status("'CREATED_TMP_TABLES'");
}

/*
 * Write n messages of the room's owner into its channel straight
 * (posting thousands takes too long), above every id drawn so far, each
 * mentioning the member when mention is set, and restart sohbetd so that
 * it draws above them, as `sohbetctl seed` does.  The id before the
 * first of them.
 */
static long long
history_insert(const struct chat_room *room, int n, int mention)
{
	char		*sql;
	long long	 base;

	base = itest_sql_number("SELECT GREATEST((SELECT MAX(seq) FROM events),"
	    " (SELECT MAX(id) FROM messages),"
	    " (SELECT MAX(value) FROM sequence)) + 1000");
	ck_assert_int_gt(base, 1000);
	xasprintf(&sql, "INSERT INTO messages (id, channel_id, author_id,"
	    " content, created_at, mentions) SELECT %lld + seq, %s, %s,"
	    " IF(%d, '<@%s> history', 'history'), NOW(3),"
	    " IF(%d, '[[1,\"%s\"]]', NULL) FROM seq_1_to_%d", base,
	    room->channel, room->owner.id, mention, room->member.id, mention,
	    room->member.id, n);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);
	if (mention) {
		xasprintf(&sql, "INSERT INTO message_mentions (channel_id,"
		    " kind, target_id, message_id, author_id) SELECT %s, 1,"
		    " %s, %lld + seq, %s FROM seq_1_to_%d", room->channel,
		    room->member.id, base, room->owner.id, n);
		ck_assert_int_eq(itest_sql(sql), 0);
		free(sql);
	}
	itest_conf_restart();
	return base;
}

/*
 * A count reads a conversation from its read position on, however many
 * messages lie below it: a member who read a channel of years of history
 * and has one message unread is counted from that message, not from the
 * channel's first (the old statement read every message below the
 * position, twice: 0.3 s for a channel of 450,000).
 */
START_TEST(test_counts_from_position)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*read, *id;
	long long		 base, before, rows;

	chat_room_open(&room, "rs_deep");
	base = history_insert(&room, 6000, 0);
	xasprintf(&read, "%lld", base + 6000);
	r = ack(room.member.token, room.base, read);
	itest_expect(r, 200);
	ck_assert_str_eq(itest_str(r, "last_read_id"), read);
	ck_assert_int_eq(number_at(r->json, "unread_count"), 0);
	itest_free(r);
	id = chat_post(&room.owner, room.base, "one more");
	before = index_rows_read();
	expect_counts(&room.member, "channel_id", room.channel, 1, 0);
	rows = index_rows_read() - before;
	ck_assert_msg(rows < 1000, "counting one unread message read %lld "
	    "index rows", rows);
	free(id);
	free(read);
	chat_room_close(&room);
}
END_TEST

/*
 * "100 or more" is told by the 100th message from the newest end: a
 * position a thousand messages into a conversation (counted with others,
 * from the conversation's first message) costs no read of the thousand
 * below it, for the unread messages nor for the mentions by name.  And
 * the ack's statements make no temporary table (the subquery cache's,
 * which would never be asked twice about one conversation).
 */
START_TEST(test_counts_from_newest)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*read;
	long long		 base, before, rows, tables;

	chat_room_open(&room, "rs_newest");
	base = history_insert(&room, 3000, 1);
	xasprintf(&read, "%lld", base + 1000);
	before = index_rows_read();
	tables = tmp_tables_made();
	r = ack(room.member.token, room.base, read);
	tables = tmp_tables_made() - tables - 1;
	rows = index_rows_read() - before;
	ck_assert_msg(tables < 3, "an ack made %lld temporary tables", tables);
	itest_expect(r, 200);
	ck_assert_str_eq(itest_str(r, "last_read_id"), read);
	ck_assert_int_eq(number_at(r->json, "unread_count"), 100);
	ck_assert_int_eq(number_at(r->json, "mention_count"), 100);
	itest_free(r);
	ck_assert_msg(rows < 600, "an ack 1,000 messages in read %lld index "
	    "rows", rows);
	free(read);
	chat_room_close(&room);
}
END_TEST

START_TEST(test_counts)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*text, *id, *path, *first = NULL, *last = NULL;
	struct state		 s;
	int			 i;

	chat_room_open(&room, "rs_count");
	xasprintf(&text, "<@%s> again", room.member.id);
	for (i = 0; i < 102; i++) {
		id = chat_post(&room.owner, room.base, text);
		if (i == 0)
			first = id;
		else
			free(id);
	}
	expect_counts(&room.member, "channel_id", room.channel, 100, 100);
	r = ack(room.member.token, room.base, first);
	itest_expect(r, 200);
	ck_assert_int_eq(number_at(r->json, "unread_count"), 100);
	itest_free(r);
	free(first);

	/* Read them all, then a mention arrives and is deleted. */
	r = ack(room.member.token, room.base, "99999999999");
	itest_expect(r, 200);
	ck_assert_int_eq(number_at(r->json, "unread_count"), 0);
	last = xstrdup(itest_str(r, "last_message_id"));
	itest_free(r);
	id = chat_post(&room.owner, room.base, text);
	expect_counts(&room.member, "channel_id", room.channel, 1, 1);
	path = chat_path(room.base, id, NULL);
	r = itest_delete(path, room.owner.token);
	ck_assert_int_eq(r->status, 204);
	itest_free(r);
	expect_counts(&room.member, "channel_id", room.channel, 0, 0);
	s = state_of(&room.member, "channel_id", room.channel);
	ck_assert_str_eq(s.last_message, last);
	free(path);
	free(id);

	/* Own messages, with every kind of mention of oneself. */
	free(text);
	xasprintf(&text, "me <@%s> @everyone", room.owner.id);
	free(chat_post(&room.member, room.base, "for the owner"));
	expect_counts(&room.owner, "channel_id", room.channel, 1, 0);
	id = chat_post(&room.owner, room.base, text);
	expect_counts(&room.owner, "channel_id", room.channel, 0, 0);
	expect_counts(&room.member, "channel_id", room.channel, 1, 1);
	ck_assert_int_eq(mention_rows(id), 1);
	s = state_of(&room.owner, "channel_id", room.channel);
	ck_assert_str_eq(s.last_read, id);
	free(id);
	free(last);
	free(text);
	chat_room_close(&room);
}
END_TEST

/*
 * Each worker keeps a user's read states between requests (readcache.c):
 * what it keeps must follow every change at once, on whichever worker
 * the next request lands.  So every check here is asked READS times in a
 * row (both workers answer some), with no wait for a cache to expire.
 */
#define READS	6

/* expect_counts() READS times. */
static void
expect_counts_kept(const struct chat_user *u, const char *id, long unread,
    long mentions)
{
	int	i;

	for (i = 0; i < READS; i++)
		expect_counts(u, "channel_id", id, unread, mentions);
}

/* Assert READS times whether a channel is in u's read states. */
static void
expect_listed_kept(const struct chat_user *u, const char *id, int listed)
{
	int	i;

	for (i = 0; i < READS; i++)
		ck_assert_msg(state_of(u, "channel_id", id).found == listed,
		    "channel %s %s in %s's read states", id, listed ? "not" :
		    "still", u->username);
}

/* PUT or DELETE a member overwrite of a channel denying view_channels. */
static void
hide_channel(const struct chat_user *owner, const char *channel,
    const struct chat_user *u, int hide)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, API_PREFIX "/channels/%s/overwrites/member/%s",
	    channel, u->id);
	if (hide) {
		r = itest_send("PUT", path, owner->token,
		    "{\"deny\":[\"view_channels\"]}");
		itest_expect(r, 200);
	} else {
		r = itest_delete(path, owner->token);
		ck_assert_msg(r->status == 204, "%s", itest_describe(r));
	}
	itest_free(r);
	free(path);
}

/*
 * The read states a worker keeps follow, at once: a new message, an ack
 * from the user's other session, a deletion, an edit that adds a
 * mention, a role given, an overwrite hiding the channel and taking it
 * back, a channel made, and a kick.
 */
START_TEST(test_kept_lists_follow_changes)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*other, *a, *b, *path, *role, *text, *ch2, *p2;
	int			 i;

	chat_room_open(&room, "rs_kept");
	for (i = 0; i < READS; i++)
		expect_counts(&room.member, "channel_id", room.channel, 0, 0);

	/* New messages, one mentioning the member. */
	a = chat_post(&room.owner, room.base, "one");
	expect_counts_kept(&room.member, room.channel, 1, 0);
	xasprintf(&text, "hey <@%s>", room.member.id);
	b = chat_post(&room.owner, room.base, text);
	expect_counts_kept(&room.member, room.channel, 2, 1);

	/* An ack from the member's other session. */
	other = chat_login(&room.member);
	r = ack(other, room.base, a);
	itest_expect(r, 200);
	itest_free(r);
	expect_counts_kept(&room.member, room.channel, 1, 1);

	/* The mention deleted; an edit that mentions them instead. */
	path = chat_path(room.base, b, NULL);
	r = itest_delete(path, room.owner.token);
	ck_assert_int_eq(r->status, 204);
	itest_free(r);
	free(path);
	expect_counts_kept(&room.member, room.channel, 0, 0);
	free(b);
	b = chat_post(&room.owner, room.base, "plain");
	expect_counts_kept(&room.member, room.channel, 1, 0);
	path = chat_path(room.base, b, NULL);
	r = itest_send("PATCH", path, room.owner.token,
	    "{\"content\":\"%s\"}", text);
	itest_expect(r, 200);
	itest_free(r);
	free(path);
	expect_counts_kept(&room.member, room.channel, 1, 1);

	/* A role mention counts once the member holds the role. */
	role = role_new(&room.owner, room.server, "kept", "[]");
	free(text);
	xasprintf(&text, "crew <@&%s>", role);
	free(chat_post(&room.owner, room.base, text));
	expect_counts_kept(&room.member, room.channel, 2, 1);
	role_give(&room.owner, room.server, role, &room.member);
	expect_counts_kept(&room.member, room.channel, 2, 2);

	/* Hidden by an overwrite, and back. */
	hide_channel(&room.owner, room.channel, &room.member, 1);
	expect_listed_kept(&room.member, room.channel, 0);
	hide_channel(&room.owner, room.channel, &room.member, 0);
	expect_listed_kept(&room.member, room.channel, 1);
	expect_counts_kept(&room.member, room.channel, 2, 2);

	/* A channel made after the join: listed, all of it unread. */
	xasprintf(&p2, API_PREFIX "/servers/%s/channels", room.server);
	r = itest_send("POST", p2, room.owner.token, "{\"name\":\"later\"}");
	itest_expect(r, 201);
	ch2 = xstrdup(itest_str(r, "id"));
	itest_free(r);
	free(p2);
	expect_listed_kept(&room.member, ch2, 1);
	xasprintf(&p2, API_PREFIX "/channels/%s", ch2);
	free(chat_post(&room.owner, p2, "in the new one"));
	expect_counts_kept(&room.member, ch2, 1, 0);

	/* Kicked: the server's channels leave the list. */
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", room.server,
	    room.member.id);
	r = itest_delete(path, room.owner.token);
	ck_assert_int_eq(r->status, 204);
	itest_free(r);
	free(path);
	expect_listed_kept(&room.member, room.channel, 0);
	expect_listed_kept(&room.member, ch2, 0);

	free(p2);
	free(ch2);
	free(role);
	free(text);
	free(other);
	free(a);
	free(b);
	chat_room_close(&room);
}
END_TEST

/*
 * How many events of a type a poll's answer holds: all of them (key
 * NULL), or those whose string at key is id (a conversation's).
 */
static size_t
events_for(struct itest_response *r, const char *type, const char *key,
    const char *id)
{
	const struct json	*events = itest_at(r->json, "events"), *v;
	size_t			 i, n = 0;

	for (i = 0; events != NULL && i < events->count; i++) {
		if (strcmp(itest_at(events->items[i], "type")->text,
		    type) != 0)
			continue;
		v = key != NULL ? itest_at(events->items[i], key) : NULL;
		if (key == NULL || (v != NULL && v->type == JSON_STRING &&
		    strcmp(v->text, id) == 0))
			n++;
	}
	return n;
}

/* Whether a poll's answer holds an event of a type. */
static int
has_event(struct itest_response *r, const char *type)
{
	return events_for(r, type, NULL, NULL) > 0;
}

/* GET /events?after=cursor&timeout=0 as token. */
static struct itest_response *
poll_now(const char *token, const char *cursor)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, EVENTS "?after=%s&timeout=0", cursor);
	r = itest_get(path, token);
	free(path);
	itest_expect(r, 200);
	return r;
}

/*
 * An ack moves last_read_id only forward (an older id: 200, unchanged;
 * beyond the newest: the newest) and sends read_state.update to every
 * session of its user, and to nobody else; an ack that changes nothing
 * and a send send none.  Bad bodies are 400.
 */
START_TEST(test_ack)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*a, *b, *second, *mine, *theirs, *path;
	const struct json	*e;
	char			*dm, *dm_base;

	chat_room_open(&room, "rs_ack");
	a = chat_post(&room.owner, room.base, "a");
	b = chat_post(&room.owner, room.base, "b");
	second = chat_login(&room.member);
	mine = itest_events_head(room.member.token);
	theirs = itest_events_head(room.owner.token);

	r = ack(room.member.token, room.base, b);
	itest_expect(r, 200);
	itest_expect_str(r, "last_read_id", b);
	itest_expect_str(r, "channel_id", room.channel);
	itest_expect_str(r, "server_id", room.server);
	ck_assert_msg(itest_at(r->json, "dm_channel_id")->type == JSON_NULL,
	    "dm_channel_id: %s", itest_describe(r));
	itest_free(r);
	r = ack(room.member.token, room.base, a);
	itest_expect(r, 200);
	itest_expect_str(r, "last_read_id", b);
	itest_free(r);

	/* Both sessions of the member see one update; the owner none. */
	r = poll_now(second, mine);
	e = itest_at(r->json, "events");
	ck_assert_msg(e != NULL && e->count == 1 &&
	    has_event(r, "read_state.update"), "the other session: %s",
	    itest_describe(r));
	itest_expect_str(r, "events.0.data.last_read_id", b);
	itest_expect_str(r, "events.0.data.channel_id", room.channel);
	itest_free(r);
	r = poll_now(room.member.token, mine);
	ck_assert(has_event(r, "read_state.update"));
	itest_free(r);
	free(chat_post(&room.member, room.base, "my own"));
	r = poll_now(room.owner.token, theirs);
	ck_assert_msg(!has_event(r, "read_state.update"),
	    "another user saw a read state: %s", itest_describe(r));
	itest_free(r);
	r = poll_now(second, mine);
	e = itest_at(r->json, "events");
	ck_assert_msg(e->count == 2 && has_event(r, "message.create"),
	    "a send or a second ack sent read_state.update: %s",
	    itest_describe(r));
	itest_free(r);

	/* Bad bodies. */
	path = NULL;
	xasprintf(&path, "%s/ack", room.base);
	r = itest_send("PUT", path, room.member.token, "{}");
	itest_expect_invalid(r, "message_id");
	itest_free(r);
	r = itest_send("PUT", path, room.member.token,
	    "{\"message_id\":\"x1\"}");
	itest_expect_error(r, 400, "invalid_id");
	itest_free(r);
	free(path);

	/* A DM ack: its participants only. */
	dm = chat_dm(&room.owner, &room.member);
	xasprintf(&dm_base, API_PREFIX "/dms/%s", dm);
	free(b);
	b = chat_post(&room.owner, dm_base, "dm");
	r = ack(room.member.token, dm_base, b);
	itest_expect(r, 200);
	itest_expect_str(r, "dm_channel_id", dm);
	ck_assert_int_eq(number_at(r->json, "unread_count"), 0);
	itest_free(r);
	free(dm_base);
	free(dm);
	free(a);
	free(b);
	free(second);
	free(mine);
	free(theirs);
	chat_room_close(&room);
}
END_TEST

/*
 * Attacks: acking a channel you cannot see, or a DM you are not in, is
 * 404 (and a hidden channel is absent from your read states); a kicked
 * member's acks are 404 and the server's channels leave their list; a
 * token stolen before logout-all is 401.
 */
START_TEST(test_attacks)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct chat_user	 outsider;
	char			*m, *path, *dm, *dm_base;

	chat_room_open(&room, "rs_att");
	chat_user(&outsider, "rs_out");
	m = chat_post(&room.owner, room.base, "secret");
	r = ack(outsider.token, room.base, m);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	ck_assert(!state_of(&outsider, "channel_id", room.channel).found);
	dm = chat_dm(&room.owner, &room.member);
	xasprintf(&dm_base, API_PREFIX "/dms/%s", dm);
	r = ack(outsider.token, dm_base, m);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);

	/* view_channels taken from everyone: hidden from the member. */
	default_role_set(&room.owner, room.server, "[\"send_messages\"]");
	itest_settle_cache();
	r = ack(room.member.token, room.base, m);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	ck_assert(!state_of(&room.member, "channel_id", room.channel).found);
	ck_assert(state_of(&room.owner, "channel_id", room.channel).found);
	default_role_set(&room.owner, room.server,
	    "[\"view_channels\",\"send_messages\"]");
	itest_settle_cache();
	ck_assert(state_of(&room.member, "channel_id", room.channel).found);

	/* Kicked. */
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", room.server,
	    room.member.id);
	r = itest_delete(path, room.owner.token);
	ck_assert_int_eq(r->status, 204);
	itest_free(r);
	itest_settle_cache();
	r = ack(room.member.token, room.base, m);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	ck_assert(!state_of(&room.member, "channel_id", room.channel).found);
	ck_assert(state_of(&room.member, "dm_channel_id", dm).found);

	/* A token stolen before logout-all. */
	r = itest_request("POST", API_PREFIX "/auth/logout-all",
	    room.member.token, NULL, NULL, 0);
	ck_assert_int_eq(r->status, 204);
	itest_free(r);
	r = ack(room.member.token, dm_base, m);
	itest_expect_error(r, 401, "unauthorized");
	itest_free(r);
	r = itest_get(STATES, room.member.token);
	itest_expect_error(r, 401, "unauthorized");
	itest_free(r);

	free(dm_base);
	free(dm);
	free(path);
	free(m);
	chat_user_free(&outsider);
	chat_room_close(&room);
}
END_TEST

/* Ack READS times in a row (both workers answer some): each status. */
static void
expect_acks(const struct chat_room *room, const char *message_id,
    int status)
{
	struct itest_response	*r;
	int			 i;

	for (i = 0; i < READS; i++) {
		r = ack(room->member.token, room->base, message_id);
		ck_assert_msg(r->status == status, "ack %d: %s", i + 1,
		    itest_describe(r));
		if (status == 404)
			itest_expect_error(r, 404, "not_found");
		itest_free(r);
	}
}

/* Take a role from a member (204 asserted). */
static void
role_take(const struct chat_user *owner, const char *server,
    const char *role, const struct chat_user *u)
{
	role_member("DELETE", owner, server, role, u);
}

/*
 * A worker keeps the standing it checked an ack with as long as the
 * scopes of /events (CACHE_KEPT): access lost through the
 * API must refuse the next acks at once, on every worker, with no wait
 * for a cache to expire: an overwrite hiding the channel, the role that
 * let the member view it taken, a kick.
 */
START_TEST(test_ack_refused_at_once)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*m, *role, *path;

	chat_room_open(&room, "rs_once");
	m = chat_post(&room.owner, room.base, "m");
	expect_acks(&room, m, 200);

	hide_channel(&room.owner, room.channel, &room.member, 1);
	expect_acks(&room, m, 404);
	hide_channel(&room.owner, room.channel, &room.member, 0);
	expect_acks(&room, m, 200);

	/* Viewing by a role alone, then the role taken. */
	role = role_new(&room.owner, room.server, "viewers",
	    "[\"view_channels\"]");
	role_give(&room.owner, room.server, role, &room.member);
	default_role_set(&room.owner, room.server, "[\"send_messages\"]");
	expect_acks(&room, m, 200);
	role_take(&room.owner, room.server, role, &room.member);
	expect_acks(&room, m, 404);
	role_give(&room.owner, room.server, role, &room.member);
	expect_acks(&room, m, 200);

	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", room.server,
	    room.member.id);
	r = itest_delete(path, room.owner.token);
	ck_assert_int_eq(r->status, 204);
	itest_free(r);
	expect_acks(&room, m, 404);

	free(path);
	free(role);
	free(m);
	chat_room_close(&room);
}
END_TEST

/*
 * Race RACERS acks of the member, each of a channel of its own to its
 * newest message, while the member's read state of the first channel is
 * held, so that they queue up and are written in batches (ackbatch.c);
 * assert each answered 200, each position stored, and one
 * read_state.update for each channel.  The room's first channel must be
 * acked once already (the held row).
 */
static void
race_acks(struct chat_room *room, char **channels, char **messages)
{
	struct itest_response	*r;
	const char		*paths[RACERS], *tokens[RACERS];
	const char		*bodies[RACERS];
	char			*path[RACERS], *body[RACERS];
	char			*cursor, *held, *ids[RACERS];
	long			 status[RACERS];
	pid_t			 holder;
	int			 i, wstatus;
	struct state		 st;

	cursor = itest_events_head(room->member.token);
	for (i = 0; i < RACERS; i++) {
		xasprintf(&path[i], API_PREFIX "/channels/%s/ack",
		    channels[i]);
		xasprintf(&body[i], "{\"message_id\":\"%s\"}",
		    messages[i]);
		paths[i] = path[i];
		bodies[i] = body[i];
		tokens[i] = room->member.token;
	}
	xasprintf(&held, "SELECT last_read_id FROM channel_read_states"
	    " WHERE user_id = %s AND channel_id = %s", room->member.id,
	    channels[0]);
	holder = hold_rows(held);
	chat_race_paths(RACERS, "PUT", paths, tokens, bodies, status, ids,
	    NULL);
	ck_assert(waitpid(holder, &wstatus, 0) == holder &&
	    WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
	r = poll_now(room->member.token, cursor);
	for (i = 0; i < RACERS; i++) {
		ck_assert_msg(status[i] == 200, "ack %d: %ld", i, status[i]);
		st = state_of(&room->member, "channel_id", channels[i]);
		ck_assert_msg(st.found && strcmp(st.last_read,
		    messages[i]) == 0, "channel %s read up to %s, acked %s",
		    channels[i], st.last_read, messages[i]);
		ck_assert_msg(events_for(r, "read_state.update",
		    "data.channel_id", channels[i]) == 1, "channel %s: not "
		    "one read_state.update: %s", channels[i],
		    itest_describe(r));
		free(ids[i]);
		free(path[i]);
		free(body[i]);
	}
	itest_free(r);
	free(held);
	free(cursor);
}

/*
 * A room whose member can ack RACERS channels: the room's and more made
 * for it, each with two messages, the first channel acked up to its
 * first; the second messages go to messages[].
 */
static void
ack_room_open(struct chat_room *room, const char *name, char **channels,
    char **messages)
{
	struct itest_response	*r;
	char			*path, *base, *first;
	int			 i;

	chat_room_open(room, name);
	for (i = 0; i < RACERS; i++) {
		if (i == 0)
			channels[i] = xstrdup(room->channel);
		else {
			xasprintf(&path, API_PREFIX "/servers/%s/channels",
			    room->server);
			r = itest_send("POST", path, room->owner.token,
			    "{\"name\":\"acks%d\"}", i);
			itest_expect(r, 201);
			channels[i] = xstrdup(itest_str(r, "id"));
			itest_free(r);
			free(path);
		}
		xasprintf(&base, API_PREFIX "/channels/%s", channels[i]);
		first = chat_post(&room->owner, base, "first");
		messages[i] = chat_post(&room->owner, base, "second");
		if (i == 0) {
			r = ack(room->member.token, base, first);
			itest_expect(r, 200);
			itest_free(r);
		}
		free(first);
		free(base);
	}
}

/* Free what ack_room_open() made. */
static void
ack_room_close(struct chat_room *room, char **channels, char **messages)
{
	int	i;

	for (i = 0; i < RACERS; i++) {
		free(channels[i]);
		free(messages[i]);
	}
	chat_room_close(room);
}

/*
 * Acks that arrive together are written together (readstate_ack_many()):
 * each is answered, stored and announced as if alone.
 */
START_TEST(test_acks_together)
{
	struct chat_room	 room;
	char			*channels[RACERS], *messages[RACERS];

	ack_room_open(&room, "rs_together", channels, messages);
	race_acks(&room, channels, messages);
	ack_room_close(&room, channels, messages);
}
END_TEST

/* Build the suite. */
static Suite *
readstate_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("readstate");
	tc = tcase_create("readstate");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mention_fields);
	tcase_add_test(tc, test_mention_cap);
	tcase_add_test(tc, test_role_mentions_follow_changes);
	tcase_add_test(tc, test_mention_everyone_permission);
	tcase_add_test(tc, test_mention_viewers_and_roles);
	tcase_add_test(tc, test_mention_cached_standing);
	tcase_add_test(tc, test_mention_cache_miss_after_hit);
	tcase_add_test(tc, test_batched_mentions);
	tcase_add_test(tc, test_default_positions);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_counts_from_position);
	tcase_add_test(tc, test_counts_from_newest);
	tcase_add_test(tc, test_ack);
	tcase_add_test(tc, test_attacks);
	tcase_add_test(tc, test_ack_refused_at_once);
	tcase_add_test(tc, test_kept_lists_follow_changes);
	tcase_add_test(tc, test_acks_together);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(readstate_suite());
}
