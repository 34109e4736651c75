/* SPDX-License-Identifier: ISC */
/*
 * itest_metrics.c: every request is counted in /metrics once, when it
 * ends (request_done()): answered at once, after being parked, or dropped
 * by its client (status "client_closed").  The test case has the stack to
 * itself, so that the counters move only by what it does.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "raw.h"
#include "check_run.h"

#define EVENTS_ROUTE	"method=\"GET\",route=\"/api/v1/events\""
#define WAIT_ROUTE \
	"method=\"GET\",route=\"/api/v1/channels/{id}/messages\""

/* sohbet_requests_total of a route and status class, 0 when not listed. */
static long
requests(const char *route, const char *status)
{
	struct itest_response	*r;
	const char		*p;
	char			*needle;
	long			 v = 0;

	r = itest_get("/metrics", NULL);
	ck_assert_msg(r->status == 200 && r->body != NULL, "GET /metrics: %s",
	    itest_describe(r));
	xasprintf(&needle, "\nsohbet_requests_total{%s,status=\"%s\"} ", route,
	    status);
	if ((p = strstr(r->body, needle)) != NULL)
		v = strtol(p + strlen(needle), NULL, 10);
	free(needle);
	itest_free(r);
	return v;
}

/*
 * A parked /events poll that times out is counted once, as 2xx, when it
 * answers; a parked channel poll whose client goes away is counted once,
 * as client_closed.
 */
START_TEST(test_parked_requests_counted_when_they_end)
{
	struct chat_user	 u;
	struct itest_response	*r;
	char			*head, *path, *server, *channel, *last, *req;
	char			*base;
	long			 ok0, closed0, parked0;
	int			 fd;

	chat_user(&u, "metrics");
	server = chat_server(&u, &channel);
	xasprintf(&base, API_PREFIX "/channels/%s", channel);
	last = chat_post(&u, base, "before the polls");
	head = itest_events_head(u.token);

	ok0 = requests(EVENTS_ROUTE, "2xx");
	xasprintf(&path, API_PREFIX "/events?after=%s&timeout=1", head);
	r = itest_get(path, u.token);
	itest_expect(r, 200);
	ck_assert_msg(r->seconds >= 0.9, "the poll did not park: %s",
	    itest_describe(r));
	itest_free(r);
	ck_assert_int_eq(requests(EVENTS_ROUTE, "2xx"), ok0 + 1);
	free(path);

	closed0 = requests(WAIT_ROUTE, "client_closed");
	parked0 = itest_metric(ITEST_PARKED);
	xasprintf(&path, "%s/messages?after=%s&wait=30", base, last);
	req = raw_request("GET", path, u.token, NULL);
	ck_assert_int_ne(fd = raw_connect(0), -1);
	ck_assert_int_eq(raw_write(fd, req, strlen(req)), 0);
	ck_assert_int_eq(itest_await_metric(ITEST_PARKED, parked0 + 1,
	    parked0 + 1, 5.0), parked0 + 1);
	close(fd);
	ck_assert_int_eq(itest_await_metric(ITEST_PARKED, parked0, parked0,
	    5.0), parked0);
	ck_assert_int_eq(requests(WAIT_ROUTE, "client_closed"), closed0 + 1);
	free(req);
	free(path);
	free(head);
	free(last);
	free(base);
	free(channel);
	free(server);
	chat_user_free(&u);
}
END_TEST

/* The suite: one case with the stack to itself. */
static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("requests");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, itest_exclusive,
	    itest_restore_teardown);
	tcase_add_test(tc, test_parked_requests_counted_when_they_end);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite against the stack. */
int
main(void)
{
	itest_init();
	signal(SIGPIPE, SIG_IGN);
	return check_run(metrics_suite());
}
