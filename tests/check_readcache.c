/* SPDX-License-Identifier: ISC */
/*
 * check_readcache.c: unit tests of readcache.c, the worker's read-state
 * lists and the generations that tell readstate.c what to read again:
 * which generation each kind of hub entry moves, and which lists are
 * kept.  No database: the lists are made by hand.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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

/* The default configuration (cache_ms 1000: read states are kept). */
static void
setup(void)
{
	config_init(&test_cfg);
	cfg = &test_cfg;
	readcache_forget_all();
}

/* The generations of every kind and id the tests use, in one array. */
struct gens {
	uint32_t	channel_a, channel_b, dm, server_a, server_b;
	uint32_t	user_alice, user_bob, read_alice, read_bob;
};

/* Read the generations now. */
static struct gens
gens_now(void)
{
	struct gens	g;

	g.channel_a = readcache_gen(READCACHE_CHANNEL, CHANNEL_A);
	g.channel_b = readcache_gen(READCACHE_CHANNEL, CHANNEL_B);
	g.dm = readcache_gen(READCACHE_DM, DM);
	g.server_a = readcache_gen(READCACHE_SERVER, SERVER_A);
	g.server_b = readcache_gen(READCACHE_SERVER, SERVER_B);
	g.user_alice = readcache_gen(READCACHE_USER, ALICE);
	g.user_bob = readcache_gen(READCACHE_USER, BOB);
	g.read_alice = readcache_gen(READCACHE_READ, ALICE);
	g.read_bob = readcache_gen(READCACHE_READ, BOB);
	return g;
}

/* A hub entry of some flags and scope. */
static struct hub_entry
entry(uint64_t flags, uint64_t server, uint64_t channel, uint64_t dm,
    uint64_t user)
{
	struct hub_entry	e;

	memset(&e, 0, sizeof e);
	e.seq = 7;
	e.flags = flags;
	e.server_id = server;
	e.channel_id = channel;
	e.dm_channel_id = dm;
	e.user_id = user;
	return e;
}

/* A list of a user's with one channel of SERVER_A, kept. */
static struct readcache_list *
put_list(uint64_t user_id)
{
	struct readcache_list	*l;

	l = xcalloc(1, sizeof *l);
	l->user_id = user_id;
	l->n = l->cap = 1;
	l->v = xcalloc(1, sizeof *l->v);
	l->v[0].rs.server_id = SERVER_A;
	l->v[0].rs.channel_id = CHANNEL_A;
	readcache_put(l);
	return l;
}

/*
 * A message (or reaction) moves its conversation's generation only:
 * the user's list and the other conversations stay as they were read.
 */
START_TEST(test_message_moves_its_conversation)
{
	struct hub_entry	e;
	struct gens		before, after;

	before = gens_now();
	e = entry(HUB_MESSAGE, SERVER_A, CHANNEL_A, 0, 0);
	readcache_forget(&e);
	after = gens_now();
	ck_assert_uint_ne(after.channel_a, before.channel_a);
	ck_assert_uint_eq(after.channel_b, before.channel_b);
	ck_assert_uint_eq(after.server_a, before.server_a);
	ck_assert_uint_eq(after.user_alice, before.user_alice);
	ck_assert_uint_eq(after.read_alice, before.read_alice);

	e = entry(HUB_MESSAGE, 0, 0, DM, 0);
	readcache_forget(&e);
	ck_assert_uint_ne(gens_now().dm, after.dm);
	ck_assert_uint_eq(gens_now().channel_a, after.channel_a);
}
END_TEST

/*
 * An ack (read_state.update, scoped to its user) moves that user's
 * acknowledgements only: another session's ack is read again, nothing
 * else is.
 */
START_TEST(test_ack_moves_its_users_positions)
{
	struct hub_entry	e;
	struct gens		before, after;

	before = gens_now();
	e = entry(HUB_READ, 0, 0, 0, ALICE);
	readcache_forget(&e);
	after = gens_now();
	ck_assert_uint_ne(after.read_alice, before.read_alice);
	ck_assert_uint_eq(after.read_bob, before.read_bob);
	ck_assert_uint_eq(after.user_alice, before.user_alice);
	ck_assert_uint_eq(after.channel_a, before.channel_a);
}
END_TEST

/*
 * Anything else (a kick, roles, an overwrite, a channel made or gone)
 * moves its server, channel and user: the lists of that server's
 * members are read again whole, the other servers' are not.
 */
START_TEST(test_other_events_move_server_and_user)
{
	struct hub_entry	e;
	struct gens		before, after;

	before = gens_now();
	/* member.leave of Bob: HUB_ACCESS, server and user. */
	e = entry(HUB_ACCESS, SERVER_A, 0, 0, BOB);
	readcache_forget(&e);
	after = gens_now();
	ck_assert_uint_ne(after.server_a, before.server_a);
	ck_assert_uint_ne(after.user_bob, before.user_bob);
	ck_assert_uint_eq(after.server_b, before.server_b);
	ck_assert_uint_eq(after.user_alice, before.user_alice);

	/* An overwrite of a channel: channel.update of that channel. */
	before = after;
	e = entry(HUB_ACCESS, SERVER_B, CHANNEL_B, 0, 0);
	readcache_forget(&e);
	after = gens_now();
	ck_assert_uint_ne(after.server_b, before.server_b);
	ck_assert_uint_ne(after.channel_b, before.channel_b);
	ck_assert_uint_eq(after.server_a, before.server_a);

	/* dm.create, scoped to each participant. */
	before = after;
	e = entry(0, 0, 0, DM, ALICE);
	readcache_forget(&e);
	after = gens_now();
	ck_assert_uint_ne(after.user_alice, before.user_alice);
	ck_assert_uint_ne(after.dm, before.dm);
}
END_TEST

/* A list is kept per user, found again, and replaced in its slot. */
START_TEST(test_lists_kept_per_user)
{
	struct readcache_list	*a, *b;

	ck_assert_ptr_null(readcache_get(ALICE));
	a = put_list(ALICE);
	b = put_list(BOB);
	ck_assert_ptr_eq(readcache_get(ALICE), a);
	ck_assert_ptr_eq(readcache_get(BOB), b);
	/* Putting it again keeps it; a new one replaces it. */
	readcache_put(a);
	ck_assert_ptr_eq(readcache_get(ALICE), a);
	a = put_list(ALICE);
	ck_assert_ptr_eq(readcache_get(ALICE), a);
	ck_assert_uint_eq(readcache_get(ALICE)->v[0].rs.channel_id, CHANNEL_A);
}
END_TEST

/*
 * Many users: a list found is always its own user's, and the one put
 * last is found.
 */
START_TEST(test_many_users_never_mixed)
{
	struct readcache_list	*l;
	uint64_t		 id;
	size_t			 found = 0;

	for (id = 1; id <= 3000; id++) {
		put_list(id);
		ck_assert_ptr_nonnull(readcache_get(id));
	}
	for (id = 1; id <= 3000; id++) {
		if ((l = readcache_get(id)) == NULL)
			continue;
		ck_assert_uint_eq(l->user_id, id);
		found++;
	}
	ck_assert_uint_gt(found, 500);
	ck_assert_uint_le(found, 1024);
}
END_TEST

/* A wildcard entry (too many to list) forgets every list. */
START_TEST(test_wildcard_forgets_lists)
{
	struct hub_entry	e;

	put_list(ALICE);
	put_list(BOB);
	e = entry(0, HUB_ANY, HUB_ANY, HUB_ANY, HUB_ANY);
	readcache_forget(&e);
	ck_assert_ptr_null(readcache_get(ALICE));
	ck_assert_ptr_null(readcache_get(BOB));
}
END_TEST

/* With cache_ms 0, nothing is kept. */
START_TEST(test_off_keeps_nothing)
{
	test_cfg.cache_ms = 0;
	ck_assert(!readcache_on());
	ck_assert_ptr_null(readcache_get(ALICE));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("readcache");
	TCase	*tc = tcase_create("readcache");

	log_init("check_readcache", 0);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_message_moves_its_conversation);
	tcase_add_test(tc, test_ack_moves_its_users_positions);
	tcase_add_test(tc, test_other_events_move_server_and_user);
	tcase_add_test(tc, test_lists_kept_per_user);
	tcase_add_test(tc, test_many_users_never_mixed);
	tcase_add_test(tc, test_wildcard_forgets_lists);
	tcase_add_test(tc, test_off_keeps_nothing);
	suite_add_tcase(s, tc);
	return check_run(s);
}
