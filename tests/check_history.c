/* SPDX-License-Identifier: ISC */
/*
 * check_history.c: unit tests of history.c's pages, the newest messages of
 * each conversation kept rendered by a worker: what a page answers, which
 * hub entries drop which pages, how long one is served, and the byte
 * budget that evicts others.
 *
 * A page is read from the database by history_fill(); here it is put in
 * with history_keep(), the half of it that takes the rendered messages,
 * so no database is needed.  Reading pages of history with a cursor
 * (before, after, around) is always a database read: itest_messages tests
 * it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sohbet.h"
#include "check_run.h"

#define BIG		(5 * 1024 * 1024)	/* a page's bytes, of 32 MB */
#define BIG_FIT		6			/* such pages in the budget */

static struct config	test_cfg;

/* The default configuration (which caches), no database to reach. */
static void
setup(void)
{
	config_init(&test_cfg);
	cfg = &test_cfg;
	free(test_cfg.db_socket);
	test_cfg.db_socket = xstrdup("/nonexistent/check_history.sock");
	test_cfg.cache_ms = 3600000;	/* no page grows stale while tested */
}

/* The text of message id of a conversation, padded to size bytes. */
static char *
message_text(uint64_t conversation, uint64_t id, size_t size)
{
	char	*s;
	int	 len;

	len = xasprintf(&s, "%llu:%llu:", (unsigned long long)conversation,
	    (unsigned long long)id);
	if ((size_t)len < size) {
		s = xreallocarray(s, size + 1, 1);
		memset(s + len, 'x', size - (size_t)len);
		s[size] = '\0';
	}
	return s;
}

/* Write message id of a conversation as history_render() writes one. */
static void
message_gen(yajl_gen g, uint64_t conversation, uint64_t id, size_t size)
{
	char	*text = message_text(conversation, id, size);

	yajl_gen_map_open(g);
	json_gen_key(g, "id");
	json_gen_id_or_zero(g, id);
	json_gen_key(g, "content");
	json_gen_str(g, text);
	yajl_gen_map_close(g);
	free(text);
}

/* Keep messages 1..n (each of about size bytes) as a conversation's page. */
static void
keep(int kind, uint64_t conversation, long n, size_t size)
{
	yajl_gen	g = json_gen_new();
	size_t		ends[MESSAGES_LIMIT_MAX];
	long		i;

	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		message_gen(g, conversation, (uint64_t)i + 1, size);
		json_gen_text(g, &ends[i]);
	}
	history_keep(kind, conversation, g, ends, n, NULL);
	yajl_gen_free(g);
}

/* The array messages from..to of a conversation make, as a new string. */
static char *
expected(uint64_t conversation, uint64_t from, uint64_t to, size_t size)
{
	yajl_gen	 g = json_gen_new();
	char		*s;

	yajl_gen_array_open(g);
	for (; from <= to; from++)
		message_gen(g, conversation, from, size);
	yajl_gen_array_close(g);
	s = xstrdup(json_gen_text(g, NULL));
	yajl_gen_free(g);
	return s;
}

/*
 * What a conversation's page answers for limit, as an array (a new
 * string); *n is the number of messages, or -1 when no page is kept.
 */
static char *
cached(int kind, uint64_t conversation, long limit, long *n)
{
	yajl_gen	 g = json_gen_new();
	char		*s;

	yajl_gen_array_open(g);
	*n = history_cached(kind, conversation, limit, g);
	yajl_gen_array_close(g);
	s = xstrdup(json_gen_text(g, NULL));
	yajl_gen_free(g);
	return s;
}

/* Whether a conversation's page is kept. */
static int
held(int kind, uint64_t conversation)
{
	long	 n;

	free(cached(kind, conversation, 1, &n));
	return n != -1;
}

/* Assert a page answers messages from..to for limit. */
static void
expect_page(int kind, uint64_t conversation, long limit, uint64_t from,
    uint64_t to)
{
	char	*got, *want;
	long	 n;

	got = cached(kind, conversation, limit, &n);
	want = expected(conversation, from, to, 0);
	ck_assert_int_eq(n, (long)(to + 1 - from));
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
}

START_TEST(test_newest_of_the_page)
{
	yajl_gen			 g;
	struct conversation		 c = { .channel_id = 11,
					    .server_id = 10 };
	struct messages_page		 page = { MESSAGES_LATEST, 0, 3 };
	char				*want;
	long				 n;

	/* Nothing kept yet. */
	ck_assert(!held(CACHE_CHANNEL, 11));
	keep(CACHE_CHANNEL, 11, 5, 0);
	/* The newest limit messages, oldest first. */
	expect_page(CACHE_CHANNEL, 11, 2, 4, 5);
	expect_page(CACHE_CHANNEL, 11, 1, 5, 5);
	expect_page(CACHE_CHANNEL, 11, 5, 1, 5);
	expect_page(CACHE_CHANNEL, 11, MESSAGES_LIMIT_MAX, 1, 5);
	/* A conversation without messages has an empty page. */
	keep(CACHE_DM, 31, 0, 0);
	free(cached(CACHE_DM, 31, 50, &n));
	ck_assert_int_eq(n, 0);
	/* A full page: the largest limit asked. */
	keep(CACHE_CHANNEL, 12, MESSAGES_LIMIT_MAX, 0);
	expect_page(CACHE_CHANNEL, 12, MESSAGES_LIMIT_MAX, 1,
	    MESSAGES_LIMIT_MAX);
	expect_page(CACHE_CHANNEL, 12, 50, 51, MESSAGES_LIMIT_MAX);

	/* The latest page of history is the page: no database read. */
	hub_init();
	hub_seq_start(1000);
	g = json_gen_new();
	ck_assert_int_eq(history_list(&c, &page, g), 3);
	want = expected(11, 3, 5, 0);
	ck_assert_str_eq(json_gen_text(g, NULL), want);
	free(want);
	yajl_gen_free(g);
}
END_TEST

START_TEST(test_kinds_apart)
{
	char	*got, *dm;
	long	 n;

	/* Channel 5 and DM 5 share a slot: neither answers for the other. */
	keep(CACHE_CHANNEL, 5, 3, 0);
	ck_assert(!held(CACHE_DM, 5));
	keep(CACHE_DM, 5, 2, 7);
	dm = expected(5, 1, 2, 7);
	got = cached(CACHE_DM, 5, 10, &n);
	ck_assert_str_eq(got, dm);
	free(got);
	got = cached(CACHE_CHANNEL, 5, 10, &n);
	ck_assert_str_ne(got, dm);
	ck_assert_int_ne(n, 2);
	free(got);
	free(dm);
}
END_TEST

/* Keep the pages of channels 11, 12 (server 10), 21 (server 20), DM 31. */
static void
keep_four(void)
{
	keep(CACHE_CHANNEL, 11, 3, 0);
	keep(CACHE_CHANNEL, 12, 3, 0);
	keep(CACHE_CHANNEL, 21, 3, 0);
	keep(CACHE_DM, 31, 3, 0);
}

/* Assert which of keep_four()'s pages are kept, as a mask. */
static void
expect_held(const char *what, unsigned int mask)
{
	ck_assert_msg(held(CACHE_CHANNEL, 11) == (int)(mask & 1),
	    "%s: channel 11", what);
	ck_assert_msg(held(CACHE_CHANNEL, 12) == (int)(mask >> 1 & 1),
	    "%s: channel 12", what);
	ck_assert_msg(held(CACHE_CHANNEL, 21) == (int)(mask >> 2 & 1),
	    "%s: channel 21", what);
	ck_assert_msg(held(CACHE_DM, 31) == (int)(mask >> 3 & 1),
	    "%s: DM 31", what);
}

START_TEST(test_forget_by_entry)
{
	keep_four();
	expect_held("kept", 0xf);
	history_forget_entry(&(struct hub_entry){ .seq = 1, .server_id = 10,
	    .channel_id = 11, .flags = HUB_MESSAGE });
	expect_held("a message in channel 11", 0xe);
	/* A role or a member changed: pages hold no permissions. */
	history_forget_entry(&(struct hub_entry){ .seq = 2, .server_id = 10,
	    .flags = HUB_ACCESS });
	history_forget_entry(&(struct hub_entry){ .seq = 3, .server_id = 20,
	    .user_id = 4 });
	expect_held("server events", 0xe);
	history_forget_entry(&(struct hub_entry){ .seq = 4,
	    .dm_channel_id = 31, .flags = HUB_MESSAGE });
	expect_held("a message in DM 31", 0x6);
	/* Ids of the other kind: channel 31 is not DM 31. */
	keep_four();
	history_forget_entry(&(struct hub_entry){ .seq = 5, .channel_id = 31,
	    .dm_channel_id = 12 });
	expect_held("other kinds' ids", 0xf);
	/* An account changed: its name may be on any page. */
	history_forget_entry(&(struct hub_entry){ .flags = HUB_USER,
	    .user_id = 3 });
	expect_held("an account", 0);
	keep_four();
	history_forget_entry(&(struct hub_entry){ .seq = 6,
	    .server_id = HUB_ANY, .channel_id = HUB_ANY,
	    .dm_channel_id = HUB_ANY, .user_id = HUB_ANY });
	expect_held("a wildcard", 0);
}
END_TEST

START_TEST(test_forget)
{
	keep_four();
	history_forget(CACHE_DM, 12);
	history_forget(CACHE_CHANNEL, 31);
	expect_held("other kinds", 0xf);
	history_forget(CACHE_CHANNEL, 12);
	expect_held("channel 12", 0xd);
	history_forget_all();
	expect_held("all", 0);
	/* A page kept again after forgetting answers its new messages. */
	keep(CACHE_CHANNEL, 11, 4, 0);
	expect_page(CACHE_CHANNEL, 11, 10, 1, 4);
}
END_TEST

START_TEST(test_served_for_cache_ms)
{
	struct timespec	ts = { 0, 60 * 1000 * 1000 };

	test_cfg.cache_ms = 30;
	keep(CACHE_CHANNEL, 11, 2, 0);
	ck_assert(held(CACHE_CHANNEL, 11));
	nanosleep(&ts, NULL);
	ck_assert(!held(CACHE_CHANNEL, 11));
	/* With caching off, a page is never served. */
	test_cfg.cache_ms = 0;
	keep(CACHE_CHANNEL, 12, 2, 0);
	ck_assert(!held(CACHE_CHANNEL, 12));
}
END_TEST

/* How many of conversations 1..n have their pages kept. */
static int
count_held(uint64_t n)
{
	uint64_t	i;
	int		k = 0;

	for (i = 1; i <= n; i++)
		k += held(CACHE_CHANNEL, i);
	return k;
}

START_TEST(test_byte_budget)
{
	uint64_t	i;
	long		n;
	char		*got, *want;

	/*
	 * Pages of 5 MB, in a budget of 32 MB: six fit.  Each page kept
	 * past them evicts one other, never itself, and the budget is never
	 * exceeded however many come.
	 */
	for (i = 1; i <= 20; i++) {
		keep(CACHE_CHANNEL, i, 1, BIG);
		ck_assert(held(CACHE_CHANNEL, i));
		ck_assert_int_eq(count_held(i), i < BIG_FIT ? (int)i :
		    BIG_FIT);
	}
	/* The page kept is whole. */
	got = cached(CACHE_CHANNEL, 20, 1, &n);
	want = expected(20, 1, 1, BIG);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	/* Pages forgotten give their bytes back: six fit again. */
	history_forget_all();
	for (i = 101; i <= 100 + BIG_FIT; i++)
		keep(CACHE_CHANNEL, i, 1, BIG);
	for (i = 101; i <= 100 + BIG_FIT; i++)
		ck_assert(held(CACHE_CHANNEL, i));
	/* So do pages replaced in their own slot. */
	for (i = 101; i <= 100 + BIG_FIT; i++)
		keep(CACHE_CHANNEL, i, 1, BIG);
	for (i = 101; i <= 100 + BIG_FIT; i++)
		ck_assert(held(CACHE_CHANNEL, i));
	/* Small pages are not evicted by small ones. */
	history_forget_all();
	for (i = 1; i <= 20; i++)
		keep(CACHE_CHANNEL, i, MESSAGES_LIMIT_MAX, 100);
	ck_assert_int_eq(count_held(20), 20);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("history");
	TCase	*tc = tcase_create("history");

	log_init("check_history", 0);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_newest_of_the_page);
	tcase_add_test(tc, test_kinds_apart);
	tcase_add_test(tc, test_forget_by_entry);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_served_for_cache_ms);
	tcase_add_test(tc, test_byte_budget);
	suite_add_tcase(s, tc);
	return check_run(s);
}
