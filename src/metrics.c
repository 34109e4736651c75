/* SPDX-License-Identifier: ISC */
/*
 * metrics.c: the counters shared by all workers (in the hub): requests by
 * route and status class, parked polls, kept FastCGI connections,
 * wake-ups, events published, delivery latency, the workers' cache
 * lookups, database errors and reconnects, worker restarts.
 * api-metrics.c serves them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

/* Upper bounds of the delivery latency buckets, in milliseconds. */
const double metrics_bounds[METRIC_BUCKETS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000
};

/* The names of the status classes metrics_request() counts by. */
const char *const metrics_classes[METRIC_STATUSES] = {
	"other", "1xx", "2xx", "3xx", "4xx", "5xx", "client_closed", "other"
};

/*
 * Count a request that ended, by route (1 + its index in the router's
 * tables, 0 for none) and status class (499: the client went away).
 */
void
metrics_request(int route, int status)
{
	struct hub_stats	*st = hub_stats();
	int			 cls;

	if (st == NULL)
		return;
	if (route < 0 || route >= METRIC_ROUTES)
		route = 0;
	cls = status == 499 ? 6 : status / 100;
	if (cls < 0 || cls >= METRIC_STATUSES)
		cls = 0;
	atomic_fetch_add(&st->requests[route][cls], 1);
}

/* Count a lookup in one of the worker caches (CACHE_USERS, ...). */
void
metrics_cache(int cache, int hit)
{
	struct hub_stats	*st = hub_stats();

	if (st == NULL || cache < 0 || cache >= METRIC_CACHES)
		return;
	atomic_fetch_add(hit ? &st->cache_hits[cache] :
	    &st->cache_misses[cache], 1);
}

/* Record how many polls this worker holds. */
void
metrics_parked(long n)
{
	struct hub_stats	*st = hub_stats();

	if (st != NULL && hub_self() >= 0)
		atomic_store(&st->parked[hub_self()], (uint64_t)n);
}

/* Record how many idle FastCGI connections this worker keeps open. */
void
metrics_idle(long n)
{
	struct hub_stats	*st = hub_stats();

	if (st != NULL && hub_self() >= 0)
		atomic_store(&st->idle[hub_self()], (uint64_t)n);
}

/* Count a request read on a connection kept from an earlier one. */
void
metrics_kept_request(void)
{
	struct hub_stats	*st = hub_stats();

	if (st != NULL)
		atomic_fetch_add(&st->kept_requests, 1);
}

/* Count a wake-up of this worker. */
void
metrics_wakeup(void)
{
	struct hub_stats	*st = hub_stats();

	if (st != NULL)
		atomic_fetch_add(&st->wakeups, 1);
}

/* Record the time from an event's publication to a poll's answer. */
void
metrics_delivered(uint64_t published_ns)
{
	struct hub_stats	*st = hub_stats();
	uint64_t		 now = clock_ns(), us;
	double			 ms;
	int			 i;

	if (st == NULL || published_ns == 0 || now < published_ns)
		return;
	us = (now - published_ns) / 1000;
	ms = (double)us / 1000.0;
	for (i = 0; i < METRIC_BUCKETS && ms > metrics_bounds[i]; i++)
		;
	atomic_fetch_add(&st->delivery[i], 1);
	atomic_fetch_add(&st->delivery_sum_us, us);
}

/* Count a database error, or (reconnect set) a reconnection. */
void
metrics_db_error(int reconnect)
{
	struct hub_stats	*st = hub_stats();

	if (st == NULL)
		return;
	atomic_fetch_add(reconnect ? &st->db_reconnects : &st->db_errors, 1);
}

/*
 * Count a body run again after a conflict (again set), or one whose
 * conflicts outlasted the retry budget.
 */
void
metrics_db_retry(int again)
{
	struct hub_stats	*st = hub_stats();

	if (st == NULL)
		return;
	atomic_fetch_add(again ? &st->db_retries : &st->db_retries_exhausted,
	    1);
}

/* Count a worker the master had to replace. */
void
metrics_worker_restart(void)
{
	struct hub_stats	*st = hub_stats();

	if (st != NULL)
		atomic_fetch_add(&st->worker_restarts, 1);
}

/* Count a batch of n sends written with one CALL (sendbatch.c). */
void
metrics_send_batch(size_t n)
{
	struct hub_stats	*st = hub_stats();

	if (st == NULL)
		return;
	atomic_fetch_add(&st->send_batches, 1);
	atomic_fetch_add(&st->batched_sends, n);
}
