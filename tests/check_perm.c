/* SPDX-License-Identifier: ISC */
/*
 * check_perm.c: unit tests of perm.c, the permission model: permission
 * names, parsing and writing them, and every rule on loaded members
 * (owner, administrator, each permission, ranks, grants).  Pure functions
 * on struct member: no database.
 */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"
#include "check_run.h"

#define OWNER_ID	1

/* Every permission name, in bit order. */
static const char *const names[PERM_COUNT] = {
	"administrator", "manage_server", "manage_roles", "manage_channels",
	"kick_members", "create_invite", "change_nickname",
	"manage_nicknames", "view_channels", "send_messages",
	"manage_messages", "ban_members", "add_reactions", "attach_files",
	"mention_everyone",
};

/*
 * A member as perm_load() leaves it: the owner and administrators hold
 * every permission, and the owner's rank is INT_MAX.
 */
static struct member
member(uint64_t user_id, uint32_t perms, int rank)
{
	struct member	m;

	memset(&m, 0, sizeof m);
	m.server_id = 100;
	m.user_id = user_id;
	m.owner_id = OWNER_ID;
	m.is_member = 1;
	m.perms = perms;
	m.rank = rank;
	if (user_id == OWNER_ID) {
		m.perms = PERM_ALL;
		m.rank = INT_MAX;
	} else if (perms & PERM_ADMINISTRATOR)
		m.perms = PERM_ALL;
	return m;
}

/* Parse {"p": <text>} and run perm_parse() on p. */
static int
parse(const char *text, uint32_t *bits)
{
	struct json	*doc;
	char		*s;
	int		 rc;

	xasprintf(&s, "{\"p\":%s}", text);
	ck_assert_msg(json_parse(s, strlen(s), &doc) == 0, "bad JSON %s", s);
	rc = perm_parse(json_get(doc, "p"), bits);
	json_free(doc);
	free(s);
	return rc;
}

START_TEST(test_names)
{
	unsigned int	i;

	ck_assert_int_eq(PERM_ALL, (1u << PERM_COUNT) - 1);
	for (i = 0; i < PERM_COUNT; i++) {
		ck_assert_str_eq(perm_name(i), names[i]);
		ck_assert_uint_eq(perm_bit(names[i], strlen(names[i])),
		    1u << i);
	}
	ck_assert_ptr_null(perm_name(PERM_COUNT));
	ck_assert_uint_eq(perm_bit("", 0), 0);
	ck_assert_uint_eq(perm_bit("admin", 5), 0);
	ck_assert_uint_eq(perm_bit("Administrator", 13), 0);
	ck_assert_uint_eq(perm_bit("administrators", 14), 0);
	/* Only len bytes count. */
	ck_assert_uint_eq(perm_bit("send_messagesX", 13), PERM_SEND_MESSAGES);
	ck_assert_uint_eq(PERM_DEFAULT_ROLE, PERM_VIEW_CHANNELS |
	    PERM_SEND_MESSAGES | PERM_CREATE_INVITE | PERM_CHANGE_NICKNAME |
	    PERM_ADD_REACTIONS | PERM_ATTACH_FILES);
}
END_TEST

START_TEST(test_parse)
{
	static const struct {
		const char	*json;
		int		 rc;
		uint32_t	 bits;
	} cases[] = {
		{ "[]", 0, 0 },
		{ "[\"send_messages\"]", 0, PERM_SEND_MESSAGES },
		{ "[\"administrator\",\"manage_messages\"]", 0,
		    PERM_ADMINISTRATOR | PERM_MANAGE_MESSAGES },
		{ "[\"kick_members\",\"kick_members\"]", 0, PERM_KICK_MEMBERS },
		{ "[\"view_channels\",\"send_messages\",\"create_invite\","
		    "\"change_nickname\",\"add_reactions\",\"attach_files\"]",
		    0, PERM_DEFAULT_ROLE },
		{ "[\"fly\"]", -1, 0 },
		{ "[\"send_messages\",\"fly\"]", -1, 0 },
		{ "[\"SEND_MESSAGES\"]", -1, 0 },
		{ "[\"\"]", -1, 0 },
		{ "[\"send_messages\\u0000\"]", -1, 0 },
		{ "[1]", -1, 0 },
		{ "[null]", -1, 0 },
		{ "[[\"send_messages\"]]", -1, 0 },
		{ "\"send_messages\"", -1, 0 },
		{ "{}", -1, 0 },
		{ "null", -1, 0 },
		{ "7", -1, 0 },
	};
	uint32_t	bits;
	size_t		i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bits = 0xdead;
		ck_assert_msg(parse(cases[i].json, &bits) == cases[i].rc,
		    "perm_parse(%s) should be %d", cases[i].json, cases[i].rc);
		if (cases[i].rc == 0)
			ck_assert_msg(bits == cases[i].bits, "perm_parse(%s) "
			    "gave %#x, not %#x", cases[i].json, bits,
			    cases[i].bits);
	}
	ck_assert_int_eq(perm_parse(NULL, &bits), -1);
}
END_TEST

START_TEST(test_text_round_trip)
{
	char		*text;
	uint32_t	 bits;

	text = perm_to_text(0);
	ck_assert_str_eq(text, "[]");
	free(text);
	text = perm_to_text(PERM_DEFAULT_ROLE);
	ck_assert_str_eq(text, "[\"create_invite\",\"change_nickname\","
	    "\"view_channels\",\"send_messages\",\"add_reactions\","
	    "\"attach_files\"]");
	free(text);
	/* Every combination survives writing and reading back. */
	for (bits = 0; bits <= PERM_ALL; bits++) {
		text = perm_to_text(bits);
		ck_assert_uint_eq(perm_parse_text(text, strlen(text)), bits);
		free(text);
	}
	/* Bits above the known ones are not written. */
	text = perm_to_text(PERM_ALL + 1);
	ck_assert_str_eq(text, "[]");
	free(text);
	ck_assert_uint_eq(perm_parse_text("[\"fly\"]", 7), 0);
}
END_TEST

START_TEST(test_has_each_permission)
{
	struct member	m;
	unsigned int	i, j;

	for (i = 0; i < PERM_COUNT; i++) {
		m = member(5, 1u << i, 1);
		if (i == 0) {
			/* administrator: every permission. */
			ck_assert_uint_eq(m.perms, PERM_ALL);
			continue;
		}
		ck_assert(perm_has(&m, 0));
		ck_assert_msg(perm_has(&m, 1u << i), "%s", names[i]);
		for (j = 0; j < PERM_COUNT; j++) {
			if (j == i)
				continue;
			ck_assert_msg(!perm_has(&m, 1u << j), "%s has %s",
			    names[i], names[j]);
			ck_assert_msg(!perm_has(&m, 1u << i | 1u << j),
			    "%s has %s too", names[i], names[j]);
		}
	}
}
END_TEST

START_TEST(test_owner_and_administrator)
{
	struct member	owner = member(OWNER_ID, 0, 0);
	struct member	admin = member(5, PERM_ADMINISTRATOR, 2);
	struct member	plain = member(6, PERM_DEFAULT_ROLE, 0);

	ck_assert(perm_is_owner(&owner));
	ck_assert(!perm_is_owner(&admin));
	ck_assert(perm_has(&owner, PERM_ALL));
	ck_assert(perm_has(&admin, PERM_ALL));
	ck_assert(!perm_has(&plain, PERM_MANAGE_SERVER));
	ck_assert(perm_has(&plain, PERM_SEND_MESSAGES | PERM_VIEW_CHANNELS));
	/* Administrator is every permission, not a place in the hierarchy. */
	ck_assert(!perm_outranks(&admin, &owner));
	ck_assert(!perm_may_manage_role(&admin, 2));
	ck_assert(perm_may_manage_role(&admin, 1));
	ck_assert(perm_may_grant(&admin, PERM_ALL));
	ck_assert(perm_may_grant(&owner, PERM_ALL));
}
END_TEST

START_TEST(test_outranks)
{
	static const struct {
		uint64_t	 actor, target;
		uint32_t	 actor_perms;
		int		 actor_rank, target_rank, want;
	} cases[] = {
		{ OWNER_ID, 5, 0, 0, 10, 1 },	/* the owner outranks all */
		{ OWNER_ID, 5, 0, 0, 1000000, 1 },
		{ 5, OWNER_ID, 0, 1000000, 0, 0 },	/* nobody the owner */
		{ 5, OWNER_ID, PERM_ADMINISTRATOR, 1000000, 0, 0 },
		{ OWNER_ID, OWNER_ID, 0, 0, 0, 0 },
		{ 5, 6, 0, 5, 3, 1 },
		{ 5, 6, 0, 3, 3, 0 },		/* equal rank: no */
		{ 5, 6, 0, 3, 5, 0 },
		{ 5, 6, 0, 1, 0, 1 },
		{ 5, 6, 0, 0, 0, 0 },
		{ 5, 6, PERM_ADMINISTRATOR, 1, 2, 0 },
		{ 5, 6, PERM_KICK_MEMBERS, 2, 1, 1 },
	};
	struct member	a, t;
	size_t		i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		a = member(cases[i].actor, cases[i].actor_perms,
		    cases[i].actor_rank);
		t = member(cases[i].target, 0, cases[i].target_rank);
		ck_assert_msg(perm_outranks(&a, &t) == cases[i].want,
		    "case %zu", i);
	}
}
END_TEST

START_TEST(test_may_manage_role)
{
	static const struct {
		uint64_t	 actor;
		int		 rank, position, want;
	} cases[] = {
		{ OWNER_ID, 0, 0, 1 },
		{ OWNER_ID, 0, 5, 1 },
		{ OWNER_ID, 0, ROLE_POSITION_MAX, 1 },
		{ 5, 5, 4, 1 },
		{ 5, 5, 1, 1 },
		{ 5, 5, 0, 1 },		/* the default role */
		{ 5, 5, 5, 0 },		/* your own rank: no */
		{ 5, 5, 6, 0 },
		{ 5, 5, ROLE_POSITION_MAX, 0 },
		{ 5, 0, 0, 0 },		/* only the default role: nothing */
		{ 5, 1, 0, 1 },
		{ 5, 1, 1, 0 },
	};
	struct member	a;
	size_t		i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		a = member(cases[i].actor, PERM_MANAGE_ROLES, cases[i].rank);
		ck_assert_msg(perm_may_manage_role(&a, cases[i].position) ==
		    cases[i].want, "case %zu", i);
	}
}
END_TEST

START_TEST(test_may_grant)
{
	struct member	mod, owner;
	unsigned int	i;

	mod = member(5, PERM_DEFAULT_ROLE | PERM_MANAGE_ROLES |
	    PERM_KICK_MEMBERS, 3);
	owner = member(OWNER_ID, 0, 0);
	ck_assert(perm_may_grant(&mod, 0));
	ck_assert(perm_may_grant(&mod, PERM_KICK_MEMBERS));
	ck_assert(perm_may_grant(&mod, PERM_MANAGE_ROLES | PERM_SEND_MESSAGES));
	ck_assert(!perm_may_grant(&mod, PERM_ADMINISTRATOR));
	ck_assert(!perm_may_grant(&mod, PERM_KICK_MEMBERS |
	    PERM_MANAGE_SERVER));
	/* Above your own: each permission you lack, alone. */
	for (i = 0; i < PERM_COUNT; i++) {
		ck_assert_msg(perm_may_grant(&mod, 1u << i) ==
		    ((mod.perms & (1u << i)) != 0), "%s", names[i]);
		ck_assert(perm_may_grant(&owner, 1u << i));
	}
}
END_TEST

START_TEST(test_acting_on_members)
{
	struct member	owner = member(OWNER_ID, 0, 0);
	struct member	mod = member(5, PERM_DEFAULT_ROLE | PERM_KICK_MEMBERS |
			    PERM_MANAGE_NICKNAMES, 3);
	struct member	peer = member(6, PERM_DEFAULT_ROLE, 3);
	struct member	low = member(7, PERM_DEFAULT_ROLE, 1);
	struct member	bare = member(8, 0, 0);

	ck_assert_uint_eq(perm_nickname_need(&mod, &mod),
	    PERM_CHANGE_NICKNAME);
	ck_assert_uint_eq(perm_nickname_need(&mod, &low),
	    PERM_MANAGE_NICKNAMES);
	ck_assert_uint_eq(perm_nickname_need(&owner, &owner),
	    PERM_CHANGE_NICKNAME);

	ck_assert(perm_may_act_on(&mod, &low, PERM_KICK_MEMBERS));
	ck_assert(!perm_may_act_on(&mod, &peer, PERM_KICK_MEMBERS));
	ck_assert(!perm_may_act_on(&mod, &owner, PERM_KICK_MEMBERS));
	ck_assert(!perm_may_act_on(&low, &bare, PERM_KICK_MEMBERS));
	ck_assert(perm_may_act_on(&owner, &mod, PERM_KICK_MEMBERS));
	/* Yourself: the permission, no rank needed. */
	ck_assert(perm_may_act_on(&low, &low, PERM_CHANGE_NICKNAME));
	ck_assert(!perm_may_act_on(&bare, &bare, PERM_CHANGE_NICKNAME));
	ck_assert(perm_may_act_on(&owner, &owner, PERM_CHANGE_NICKNAME));

	ck_assert(perm_may_delete_invite(&low, 7));
	ck_assert(!perm_may_delete_invite(&low, 5));
	ck_assert(perm_may_delete_invite(&owner, 5));
	ck_assert(!perm_may_delete_invite(&mod, 7));
}
END_TEST

/*
 * A member's permissions in a channel, in Discord's order (API.md,
 * Channel permission overwrites), one row per case: the server-wide set
 * as perm_read() leaves it, the three layers of overwrites, and what
 * the member may do in the channel.
 */
START_TEST(test_channel_order)
{
	static const struct {
		const char	*what;
		uint32_t	 server;
		uint32_t	 everyone_allow, everyone_deny;
		uint32_t	 roles_allow, roles_deny;
		uint32_t	 member_allow, member_deny;
		uint32_t	 want;
	} cases[] = {
		{ "no overwrites: the server-wide set", PERM_DEFAULT_ROLE,
		    0, 0, 0, 0, 0, 0, PERM_DEFAULT_ROLE },
		{ "the default role's deny of view hides the channel",
		    PERM_DEFAULT_ROLE, 0, PERM_VIEW_CHANNELS, 0, 0, 0, 0, 0 },
		{ "a role's allow beats the default role's deny",
		    PERM_DEFAULT_ROLE, 0, PERM_VIEW_CHANNELS,
		    PERM_VIEW_CHANNELS, 0, 0, 0, PERM_DEFAULT_ROLE },
		{ "a role's deny beats the default role's allow",
		    PERM_VIEW_CHANNELS, PERM_SEND_MESSAGES, 0, 0,
		    PERM_SEND_MESSAGES, 0, 0, PERM_VIEW_CHANNELS },
		{ "a member's deny beats a role's allow", PERM_VIEW_CHANNELS,
		    0, 0, PERM_SEND_MESSAGES, 0, 0, PERM_SEND_MESSAGES,
		    PERM_VIEW_CHANNELS },
		{ "a member's allow beats a role's deny", PERM_DEFAULT_ROLE,
		    0, 0, 0, PERM_SEND_MESSAGES, PERM_SEND_MESSAGES, 0,
		    PERM_DEFAULT_ROLE },
		{ "roles together: one role's allow beats another's deny",
		    PERM_VIEW_CHANNELS, 0, 0, PERM_SEND_MESSAGES,
		    PERM_SEND_MESSAGES, 0, 0,
		    PERM_VIEW_CHANNELS | PERM_SEND_MESSAGES },
		{ "the default role's allow adds to the server-wide set",
		    PERM_VIEW_CHANNELS, PERM_MANAGE_MESSAGES, 0, 0, 0, 0, 0,
		    PERM_VIEW_CHANNELS | PERM_MANAGE_MESSAGES },
		{ "no view in the channel: nothing at all",
		    PERM_DEFAULT_ROLE | PERM_MANAGE_MESSAGES, 0, 0, 0, 0, 0,
		    PERM_VIEW_CHANNELS, 0 },
		{ "view allowed to one member only", PERM_DEFAULT_ROLE, 0,
		    PERM_VIEW_CHANNELS, 0, 0, PERM_VIEW_CHANNELS, 0,
		    PERM_DEFAULT_ROLE },
		{ "default deny, role allow, member deny: the member's wins",
		    PERM_DEFAULT_ROLE, 0, PERM_VIEW_CHANNELS,
		    PERM_VIEW_CHANNELS, 0, 0, PERM_VIEW_CHANNELS, 0 },
		{ "no server-wide view, a role's overwrite allows it", 0, 0,
		    0, PERM_VIEW_CHANNELS | PERM_SEND_MESSAGES, 0, 0, 0,
		    PERM_VIEW_CHANNELS | PERM_SEND_MESSAGES },
		{ "administrator ignores every overwrite", PERM_ALL, 0,
		    PERM_VIEW_CHANNELS, 0, PERM_SEND_MESSAGES, 0,
		    PERM_VIEW_CHANNELS, PERM_ALL },
	};
	struct perm_overwrites	o;
	size_t			i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&o, 0, sizeof o);
		perm_overwrites_add(&o, PERM_LAYER_EVERYONE,
		    cases[i].everyone_allow, cases[i].everyone_deny);
		perm_overwrites_add(&o, PERM_LAYER_ROLES, cases[i].roles_allow,
		    cases[i].roles_deny);
		perm_overwrites_add(&o, PERM_LAYER_MEMBER,
		    cases[i].member_allow, cases[i].member_deny);
		ck_assert_msg(perm_channel(cases[i].server, &o) ==
		    cases[i].want, "%s: got %#x, want %#x", cases[i].what,
		    perm_channel(cases[i].server, &o), cases[i].want);
	}
}
END_TEST

/*
 * The overwrites of several roles apply together: a deny of one role and
 * an allow of another, added one by one, end as the union of each.
 */
START_TEST(test_channel_roles_united)
{
	struct perm_overwrites	o;

	memset(&o, 0, sizeof o);
	perm_overwrites_add(&o, PERM_LAYER_ROLES, 0, PERM_SEND_MESSAGES);
	perm_overwrites_add(&o, PERM_LAYER_ROLES, PERM_SEND_MESSAGES, 0);
	perm_overwrites_add(&o, PERM_LAYER_ROLES, 0, PERM_ADD_REACTIONS);
	ck_assert_uint_eq(perm_channel(PERM_DEFAULT_ROLE, &o),
	    PERM_DEFAULT_ROLE & ~PERM_ADD_REACTIONS);
}
END_TEST

/*
 * access.c sorts a channel's overwrites into the layers of one member:
 * the default role's, their roles' (not others'), their own (not
 * another member's), in a server copy built by hand.
 */
START_TEST(test_access_layers)
{
	struct access_role	roles[] = {
		{ 10, PERM_DEFAULT_ROLE, 1 }, { 11, PERM_KICK_MEMBERS, 0 },
		{ 12, 0, 0 }, { 13, PERM_ADMINISTRATOR, 0 },
	};
	uint64_t		channels[] = { 100, 200 };
	struct overwrite	ows[] = {
		{ OVERWRITE_ROLE, 10, 0, PERM_VIEW_CHANNELS },
		{ OVERWRITE_ROLE, 11, PERM_VIEW_CHANNELS, 0 },
		{ OVERWRITE_ROLE, 12, PERM_MANAGE_MESSAGES, 0 },
		{ OVERWRITE_MEMBER, 7, 0, PERM_SEND_MESSAGES },
		{ OVERWRITE_MEMBER, 8, PERM_VIEW_CHANNELS, 0 },
	};
	uint64_t		ow_channels[] = { 200, 200, 200, 200, 200 };
	uint64_t		mod_roles[] = { 11 }, admin_roles[] = { 13 };
	struct access_server	sa = {
		.id = 1, .owner_id = 1, .default_role = roles[0],
		.roles = roles, .nroles = 4, .channels = channels,
		.nchannels = 2, .overwrites = ows,
		.overwrite_channels = ow_channels, .noverwrites = 5,
	};
	struct access_member	plain = { .server_id = 1, .user_id = 6 };
	struct access_member	mod = { .server_id = 1, .user_id = 7,
	    .roles = mod_roles, .nroles = 1 };
	struct access_member	guest = { .server_id = 1, .user_id = 8 };
	struct access_member	admin = { .server_id = 1, .user_id = 9,
	    .roles = admin_roles, .nroles = 1 };
	struct access_member	owner = { .server_id = 1, .user_id = 1 };
	size_t			n;

	ck_assert_uint_eq(access_perms(&sa, &plain, 100), PERM_DEFAULT_ROLE);
	ck_assert_uint_eq(access_perms(&sa, &plain, 200), 0);
	ck_assert_uint_eq(access_perms(&sa, &mod, 200), (PERM_DEFAULT_ROLE |
	    PERM_KICK_MEMBERS) & ~PERM_SEND_MESSAGES);
	ck_assert_uint_eq(access_perms(&sa, &guest, 200), PERM_DEFAULT_ROLE);
	ck_assert_uint_eq(access_perms(&sa, &admin, 200), PERM_ALL);
	ck_assert_uint_eq(access_perms(&sa, &owner, 200), PERM_ALL);
	ck_assert(!access_may_view(&sa, &plain, 200));
	ck_assert(access_may_view(&sa, &guest, 200));
	/* A channel the server does not have is nobody's to view. */
	ck_assert(!access_may_view(&sa, &owner, 300));
	ck_assert_ptr_eq(access_channel_overwrites(&sa, 200, &n), ows);
	ck_assert_uint_eq(n, 5);
	ck_assert_ptr_null(access_channel_overwrites(&sa, 100, &n));
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* The suite of perm.c. */
static Suite *
perm_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("perm");
	tc = tcase_create("names");
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_text_round_trip);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_test(tc, test_has_each_permission);
	tcase_add_test(tc, test_owner_and_administrator);
	tcase_add_test(tc, test_outranks);
	tcase_add_test(tc, test_may_manage_role);
	tcase_add_test(tc, test_may_grant);
	tcase_add_test(tc, test_acting_on_members);
	suite_add_tcase(s, tc);
	tc = tcase_create("channels");
	tcase_add_test(tc, test_channel_order);
	tcase_add_test(tc, test_channel_roles_united);
	tcase_add_test(tc, test_access_layers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(perm_suite());
}
