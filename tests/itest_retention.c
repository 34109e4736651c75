/* SPDX-License-Identifier: ISC */
/*
 * itest_retention.c: events older than the retention period are deleted
 * in the background, and a cursor from before them gets 410
 * cursor_expired (API.md, Events; DESIGN.md, Retention).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "itest.h"
#include "check_run.h"

/* Forget the retention mark so later cursors are not refused. */
static void
retention_teardown(void)
{
	itest_sql("UPDATE event_retention SET pruned_upto = 0");
	itest_restore_teardown();
}

START_TEST(test_old_events_pruned)
{
	struct itest_response	*r;
	struct chat_user	 u;
	char			*server, *channel, *before, *base, *sql, *path;
	long long		 last, old, pruned = 0;
	double			 t0;
	int			 i;

	chat_user(&u, "ret");
	before = itest_events_head(u.token);
	server = chat_server(&u, &channel);
	xasprintf(&base, API_PREFIX "/channels/%s", channel);
	for (i = 0; i < 5; i++)
		free(chat_post(&u, base, "soon forgotten"));
	last = itest_sql_number("SELECT MAX(seq) FROM events");
	ck_assert_msg(last > 0, "no events were written");

	/* Age every event so far past the 7 days kept. */
	xasprintf(&sql, "UPDATE events SET created_at = NOW(3) - INTERVAL 8 "
	    "DAY WHERE seq <= %lld", last);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);

	/* The job runs 5 s after a worker starts, then every minute. */
	ck_assert_int_eq(itest_dev("sohbetd-stop"), 0);
	ck_assert_int_eq(itest_dev("sohbetd-start"), 0);
	t0 = itest_now();
	do {
		itest_sleep_ms(500);
		old = itest_sql_number("SELECT COUNT(*) FROM events WHERE "
		    "created_at < NOW(3) - INTERVAL 7 DAY");
	} while (old != 0 && itest_now() - t0 < 20);
	ck_assert_msg(old == 0, "%lld expired events are still there", old);
	pruned = itest_sql_number("SELECT pruned_upto FROM event_retention");
	ck_assert_msg(pruned >= last, "retention mark %lld, want >= %lld",
	    pruned, last);

	/* A client whose cursor predates the deletion must reload. */
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=0", before);
	r = itest_get(path, u.token);
	itest_expect_error(r, 410, "cursor_expired");
	itest_free(r);
	free(path);
	/* From the mark on, polling works. */
	xasprintf(&path, API_PREFIX "/events?after=%lld&timeout=0", pruned);
	r = itest_get(path, u.token);
	itest_expect(r, 200);
	itest_free(r);
	free(path);

	free(base);
	free(before);
	free(server);
	free(channel);
	chat_user_free(&u);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("retention");
	TCase	*tc = tcase_create("retention");

	itest_init();
	tcase_set_timeout(tc, 120);
	/* The stack alone: the test restarts sohbetd and ages events. */
	tcase_add_unchecked_fixture(tc, itest_exclusive, retention_teardown);
	tcase_add_test(tc, test_old_events_pruned);
	suite_add_tcase(s, tc);
	return check_run(s);
}
