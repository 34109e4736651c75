/* SPDX-License-Identifier: ISC */
/*
 * check_cache.c: unit tests of cache.c, the worker's cache of users,
 * standings and /events scopes: what is kept, for how long (cache_ms),
 * and what each kind of hub entry drops.  No database: the tables are
 * filled by hand.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sohbet.h"
#include "check_run.h"

#define SERVER_A	10
#define SERVER_B	20
#define CHANNEL_A	11	/* in SERVER_A */
#define CHANNEL_B	21	/* in SERVER_B */
#define DM		31
#define ALICE		1
#define BOB		2

static struct config	test_cfg;

/* The default configuration, which caches (shm sequencer, no watcher). */
static void
setup(void)
{
	config_init(&test_cfg);
	cfg = &test_cfg;
}

/* A member of a server with some permissions. */
static struct member
member(uint64_t server_id, uint64_t user_id, uint32_t perms)
{
	struct member	m;

	memset(&m, 0, sizeof m);
	perm_init(&m, server_id, user_id);
	m.is_member = 1;
	m.perms = perms;
	return m;
}

/* Cache Alice and Bob in both channels and Alice in the DM. */
static void
fill(void)
{
	struct member	m;

	cache_user_put(ALICE, 3, "alice");
	cache_user_put(BOB, 1, "bob");
	m = member(SERVER_A, ALICE, PERM_VIEW_CHANNELS);
	cache_standing_put(ALICE, CACHE_CHANNEL, CHANNEL_A, SERVER_A, &m);
	m = member(SERVER_B, ALICE, PERM_VIEW_CHANNELS);
	cache_standing_put(ALICE, CACHE_CHANNEL, CHANNEL_B, SERVER_B, &m);
	m = member(SERVER_A, BOB, PERM_SEND_MESSAGES);
	cache_standing_put(BOB, CACHE_CHANNEL, CHANNEL_A, SERVER_A, &m);
	cache_standing_put(ALICE, CACHE_DM, DM, 0, NULL);
}

/* Whether a standing is cached. */
static int
has(uint64_t user_id, int kind, uint64_t conversation)
{
	return cache_standing_get(user_id, kind, conversation, CACHE_FRESH,
	    NULL, NULL);
}

/* Whether a user is cached. */
static int
has_user(uint64_t user_id)
{
	char		name[USERNAME_SIZE];
	unsigned int	generation;

	return cache_user_get(user_id, &generation, name);
}

START_TEST(test_kept_as_put)
{
	struct member	m;
	uint64_t	server_id = 0;
	unsigned int	generation = 0;
	char		name[USERNAME_SIZE];

	fill();
	ck_assert(cache_user_get(ALICE, &generation, name));
	ck_assert_uint_eq(generation, 3);
	ck_assert_str_eq(name, "alice");
	ck_assert(cache_standing_get(BOB, CACHE_CHANNEL, CHANNEL_A, CACHE_FRESH,
	    &server_id, &m));
	ck_assert_uint_eq(server_id, SERVER_A);
	ck_assert_uint_eq(m.perms, PERM_SEND_MESSAGES);
	ck_assert(m.is_member);
	ck_assert(has(ALICE, CACHE_DM, DM));
	/* Nothing that was not put. */
	ck_assert(!has_user(99));
	ck_assert(!has(BOB, CACHE_DM, DM));
	ck_assert(!has(ALICE, CACHE_DM, CHANNEL_A));
}
END_TEST

START_TEST(test_expires_after_cache_ms)
{
	struct timespec	ts = { 0, 80 * 1000 * 1000 };

	test_cfg.cache_ms = 50;
	fill();
	ck_assert(has_user(ALICE));
	ck_assert(has(ALICE, CACHE_CHANNEL, CHANNEL_A));
	nanosleep(&ts, NULL);
	ck_assert(!has_user(ALICE));
	ck_assert(!has(ALICE, CACHE_CHANNEL, CHANNEL_A));
}
END_TEST

START_TEST(test_off_keeps_nothing)
{
	static const char *const sequencers[] = { "shm", "db" };
	int	i;

	ck_assert(cache_on());
	for (i = 0; i < 3; i++) {
		free(test_cfg.sequencer);
		test_cfg.sequencer = xstrdup(sequencers[i == 1]);
		test_cfg.cache_ms = i == 0 ? 0 : 1000;
		test_cfg.cluster_poll_ms = i == 2 ? 100 : 0;
		ck_assert(!cache_on());
		cache_user_put(77, 1, "nobody");
		ck_assert(!has_user(77));
	}
}
END_TEST

/* How many roles of a server are cached, or -1 when they are not. */
static long
roles_of(uint64_t server_id)
{
	uint64_t	ids[CACHE_ROLES_MAX];
	size_t		n;

	return cache_roles_get(server_id, ids, &n) ? (long)n : -1;
}

/*
 * A server's roles stay through message events and other servers'
 * events, and go with any other event of their server or a wildcard.
 */
START_TEST(test_roles_dropped_by_their_server)
{
	const uint64_t		ids[] = { 41, 42 };
	struct hub_entry	message = { .seq = 5, .flags = HUB_MESSAGE,
				    .server_id = SERVER_A,
				    .channel_id = CHANNEL_A };
	struct hub_entry	other = { .seq = 6, .server_id = SERVER_B };
	struct hub_entry	role = { .seq = 7, .server_id = SERVER_A };
	struct hub_entry	any = { .seq = 8, .server_id = HUB_ANY,
				    .channel_id = HUB_ANY,
				    .dm_channel_id = HUB_ANY,
				    .user_id = HUB_ANY };

	cache_roles_put(SERVER_A, ids, 2);
	ck_assert_int_eq(roles_of(SERVER_A), 2);
	cache_forget(&message);
	cache_forget(&other);
	ck_assert_int_eq(roles_of(SERVER_A), 2);
	cache_forget(&role);
	ck_assert_int_eq(roles_of(SERVER_A), -1);
	cache_roles_put(SERVER_A, ids, 2);
	cache_forget(&any);
	ck_assert_int_eq(roles_of(SERVER_A), -1);
}
END_TEST

/* A server with more roles than CACHE_ROLES_MAX is not kept. */
START_TEST(test_roles_of_a_big_server_not_kept)
{
	uint64_t	ids[CACHE_ROLES_MAX + 1];
	size_t		i;

	for (i = 0; i <= CACHE_ROLES_MAX; i++)
		ids[i] = 100 + i;
	cache_roles_put(SERVER_A, ids, CACHE_ROLES_MAX + 1);
	ck_assert_int_eq(roles_of(SERVER_A), -1);
	cache_roles_put(SERVER_A, ids, CACHE_ROLES_MAX);
	ck_assert_int_eq(roles_of(SERVER_A), CACHE_ROLES_MAX);
}
END_TEST

START_TEST(test_message_events_keep_standings)
{
	struct hub_entry	e = { .seq = 5, .flags = HUB_MESSAGE,
				    .server_id = SERVER_A,
				    .channel_id = CHANNEL_A };

	fill();
	cache_forget(&e);
	ck_assert(has(ALICE, CACHE_CHANNEL, CHANNEL_A));
	ck_assert(has(BOB, CACHE_CHANNEL, CHANNEL_A));
	ck_assert(has_user(ALICE));
}
END_TEST

/* An ack's read_state.update (scoped to its user) changes no standing. */
START_TEST(test_read_states_keep_standings)
{
	struct hub_entry	e = { .seq = 5, .flags = HUB_READ,
				    .user_id = ALICE };

	fill();
	cache_forget(&e);
	ck_assert(has(ALICE, CACHE_CHANNEL, CHANNEL_A));
	ck_assert(has(ALICE, CACHE_CHANNEL, CHANNEL_B));
	ck_assert(has(ALICE, CACHE_DM, DM));
	ck_assert(has_user(ALICE));
}
END_TEST

START_TEST(test_server_events_drop_that_server)
{
	struct hub_entry	e = { .seq = 5, .server_id = SERVER_A };

	fill();
	cache_forget(&e);
	ck_assert(!has(ALICE, CACHE_CHANNEL, CHANNEL_A));
	ck_assert(!has(BOB, CACHE_CHANNEL, CHANNEL_A));
	ck_assert(has(ALICE, CACHE_CHANNEL, CHANNEL_B));
	ck_assert(has(ALICE, CACHE_DM, DM));
	ck_assert(has_user(ALICE));
}
END_TEST

START_TEST(test_user_scoped_events_drop_that_user)
{
	/* server.delete is scoped to each former member alone. */
	struct hub_entry	e = { .seq = 5, .user_id = ALICE };

	fill();
	cache_forget(&e);
	ck_assert(!has(ALICE, CACHE_CHANNEL, CHANNEL_A));
	ck_assert(!has(ALICE, CACHE_CHANNEL, CHANNEL_B));
	ck_assert(has(BOB, CACHE_CHANNEL, CHANNEL_A));
}
END_TEST

START_TEST(test_account_changes_drop_the_user)
{
	struct hub_entry	e = { .flags = HUB_USER, .user_id = BOB };

	fill();
	cache_forget(&e);
	ck_assert(!has_user(BOB));
	ck_assert(has_user(ALICE));
	/* Standings do not hang on the account. */
	ck_assert(has(BOB, CACHE_CHANNEL, CHANNEL_A));
}
END_TEST

/*
 * A worker keeps every user of a crowd that polls it: 10,000 clients of
 * a busy channel come to either worker, each every second or two.
 */
START_TEST(test_crowd_kept)
{
	uint64_t	id;
	long		missing = 0;

	for (id = 1000; id < 11000; id++)
		cache_user_put(id, 1, "crowd");
	for (id = 1000; id < 11000; id++)
		missing += !has_user(id);
	ck_assert_msg(missing == 0, "%ld of 10,000 users not kept", missing);
}
END_TEST

/*
 * The users looked up lately are due to be read again when their copies
 * are three quarters of cache_ms old; a copy read again is fresh with
 * what was read, one not found is dropped, and one dropped meanwhile by
 * its hub entry is not put back.
 */
START_TEST(test_users_due_read_again)
{
	struct hub_entry	 e = { .flags = HUB_USER, .user_id = ALICE };
	uint64_t		 ids[4];
	unsigned int		 generation = 0;
	char			 name[USERNAME_SIZE];
	long long		 later;

	test_cfg.cache_ms = 100;
	fill();
	ck_assert_uint_eq(cache_users_due(ids, 4, clock_ms()), 0);
	later = clock_ms() + 80;
	ck_assert_uint_eq(cache_users_due(ids, 4, later), 2);
	ck_assert_uint_eq(cache_users_due(ids, 1, later), 1);
	/* Looked up two minutes ago: nobody polls for them any more. */
	ck_assert_uint_eq(cache_users_due(ids, 4, later + 120 * 1000), 0);

	ck_assert_uint_eq(cache_users_due(ids, 4, later), 2);
	cache_user_refill(ALICE, 4, "alice2", later);
	cache_users_drop_unread(ids, 2, later);
	ck_assert_uint_eq(cache_users_due(ids, 4, later), 0);
	ck_assert(cache_user_get(ALICE, &generation, name));
	ck_assert_uint_eq(generation, 4);
	ck_assert_str_eq(name, "alice2");
	ck_assert(!has_user(BOB));

	cache_forget(&e);
	cache_user_refill(ALICE, 5, "alice3", later);
	ck_assert(!has_user(ALICE));
}
END_TEST

START_TEST(test_wildcard_drops_everything)
{
	struct hub_entry	e = { .seq = 9, .server_id = HUB_ANY,
				    .channel_id = HUB_ANY,
				    .dm_channel_id = HUB_ANY,
				    .user_id = HUB_ANY };

	fill();
	cache_forget(&e);
	ck_assert(!has_user(ALICE));
	ck_assert(!has_user(BOB));
	ck_assert(!has(ALICE, CACHE_CHANNEL, CHANNEL_B));
	ck_assert(!has(ALICE, CACHE_DM, DM));
}
END_TEST

/*
 * Cache the /events scopes of Alice (servers A and B, two roles in A, the
 * DM) and Bob (server A).
 */
static void
fill_scopes(void)
{
	static uint64_t		alice_roles[] = { 101, 102 };
	struct scope_server	servers[2];
	struct scope		sc;
	uint64_t		dms[] = { DM };

	memset(servers, 0, sizeof servers);
	servers[0].id = SERVER_A;
	servers[0].joined_seq = 7;
	servers[0].member.user_id = ALICE;
	servers[0].member.roles = alice_roles;
	servers[0].member.nroles = 2;
	servers[1].id = SERVER_B;
	servers[1].member.user_id = ALICE;
	sc = (struct scope){ servers, 2, dms, 1 };
	cache_scope_put(ALICE, &sc);
	servers[0].member.user_id = BOB;
	servers[0].member.nroles = 0;
	sc = (struct scope){ servers, 1, NULL, 0 };
	cache_scope_put(BOB, &sc);
}

/* Whether a user's scope is cached. */
static int
has_scope(uint64_t user_id)
{
	struct scope	sc;
	int		rc;

	memset(&sc, 0, sizeof sc);
	rc = cache_scope_get(user_id, &sc);
	cache_scope_clear(&sc);
	return rc;
}

/* And the scopes of such a crowd. */
START_TEST(test_crowd_scopes_kept)
{
	struct scope	sc;
	uint64_t	id;
	long		missing = 0;

	memset(&sc, 0, sizeof sc);
	for (id = 1000; id < 11000; id++)
		cache_scope_put(id, &sc);
	for (id = 1000; id < 11000; id++)
		missing += !has_scope(id);
	ck_assert_msg(missing == 0, "%ld of 10,000 scopes not kept", missing);
}
END_TEST

/* A scope comes back as put, as a copy of its own. */
START_TEST(test_scope_kept_as_put)
{
	struct scope	sc, again;

	fill_scopes();
	memset(&sc, 0, sizeof sc);
	ck_assert(cache_scope_get(ALICE, &sc));
	ck_assert_uint_eq(sc.nservers, 2);
	ck_assert_uint_eq(sc.servers[0].id, SERVER_A);
	ck_assert_uint_eq(sc.servers[0].joined_seq, 7);
	ck_assert_uint_eq(sc.servers[0].member.user_id, ALICE);
	ck_assert_uint_eq(sc.servers[0].member.nroles, 2);
	ck_assert_uint_eq(sc.servers[0].member.roles[1], 102);
	ck_assert_uint_eq(sc.servers[1].id, SERVER_B);
	ck_assert_uint_eq(sc.ndms, 1);
	ck_assert_uint_eq(sc.dms[0], DM);
	/* The copy is the caller's: changing it changes no later copy. */
	sc.servers[0].member.roles[1] = 999;
	memset(&again, 0, sizeof again);
	ck_assert(cache_scope_get(ALICE, &again));
	ck_assert_uint_eq(again.servers[0].member.roles[1], 102);
	cache_scope_clear(&sc);
	cache_scope_clear(&again);
	ck_assert(has_scope(BOB));
	ck_assert(!has_scope(99));
}
END_TEST

/*
 * Scopes go with their user's events (a join, a kick, a role of theirs,
 * a new DM) and with a change of a whole server they hold; messages,
 * read states and account changes keep them, and so does time past
 * cache_ms (a scope is kept CACHE_KEPT_MS, 30 s, since every change of it
 * drops it); with caching off (cache_ms 0) there are none.
 */
START_TEST(test_scope_dropped_by_changes)
{
	struct hub_entry	msg = { .server_id = SERVER_A,
				    .channel_id = CHANNEL_A,
				    .flags = HUB_MESSAGE };
	struct hub_entry	read = { .user_id = ALICE, .flags = HUB_READ };
	struct hub_entry	account = { .user_id = ALICE,
				    .flags = HUB_USER | HUB_ACCESS };
	struct hub_entry	joined = { .server_id = SERVER_B,
				    .user_id = BOB };
	struct hub_entry	dm = { .user_id = ALICE };
	struct hub_entry	role = { .server_id = SERVER_B,
				    .flags = HUB_ACCESS };
	struct timespec		ts = { 0, 80 * 1000 * 1000 };

	fill_scopes();
	cache_forget(&msg);
	cache_forget(&read);
	cache_forget(&account);
	ck_assert(has_scope(ALICE) && has_scope(BOB));
	cache_forget(&joined);
	ck_assert(has_scope(ALICE));
	ck_assert(!has_scope(BOB));
	cache_forget(&dm);
	ck_assert(!has_scope(ALICE));

	/* A server-wide change: those who hold the server. */
	fill_scopes();
	cache_forget(&role);
	ck_assert(!has_scope(ALICE));
	ck_assert(has_scope(BOB));

	test_cfg.cache_ms = 50;
	fill_scopes();
	ck_assert(has_scope(ALICE));
	nanosleep(&ts, NULL);
	ck_assert(has_scope(ALICE));
	cache_forget_all();
	test_cfg.cache_ms = 0;
	fill_scopes();
	ck_assert(!has_scope(BOB));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("cache");
	TCase	*tc = tcase_create("cache");

	log_init("check_cache", 0);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_kept_as_put);
	tcase_add_test(tc, test_expires_after_cache_ms);
	tcase_add_test(tc, test_off_keeps_nothing);
	tcase_add_test(tc, test_message_events_keep_standings);
	tcase_add_test(tc, test_read_states_keep_standings);
	tcase_add_test(tc, test_roles_dropped_by_their_server);
	tcase_add_test(tc, test_roles_of_a_big_server_not_kept);
	tcase_add_test(tc, test_server_events_drop_that_server);
	tcase_add_test(tc, test_user_scoped_events_drop_that_user);
	tcase_add_test(tc, test_account_changes_drop_the_user);
	tcase_add_test(tc, test_wildcard_drops_everything);
	tcase_add_test(tc, test_crowd_kept);
	tcase_add_test(tc, test_users_due_read_again);
	tcase_add_test(tc, test_crowd_scopes_kept);
	tcase_add_test(tc, test_scope_kept_as_put);
	tcase_add_test(tc, test_scope_dropped_by_changes);
	suite_add_tcase(s, tc);
	return check_run(s);
}
