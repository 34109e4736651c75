/*
 * metrics.c: counters shared by all workers (in the hub) and GET /metrics
 * in Prometheus' text format: requests by route and status class, parked
 * polls, wake-ups, events published, delivery latency, the workers' cache
 * lookups, database errors and reconnects, worker restarts.  nginx serves
 * it to loopback only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

/* Upper bounds of the delivery latency buckets, in milliseconds. */
static const double metrics_bounds[METRIC_BUCKETS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000
};

static const char *const metrics_classes[METRIC_STATUSES] = {
	"other", "1xx", "2xx", "3xx", "4xx", "5xx", "client_closed", "other"
};

/* Nanoseconds of the monotonic clock (shared by all processes). */
uint64_t
metrics_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Count an answered (or parked) request by route and status class. */
void
metrics_request(const struct request *req)
{
	struct hub_stats	*st = hub_stats();
	int			 route, cls;

	if (st == NULL)
		return;
	route = req->route != NULL ? router_index(req->route) + 1 : 0;
	if (route < 0 || route >= METRIC_ROUTES)
		route = 0;
	cls = req->status == 499 ? 6 : req->status / 100;
	if (req->parked)
		return;
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
	uint64_t		 now = metrics_now_ns(), us;
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

/* Append formatted text to a growing buffer. */
static void
metrics_printf(char **buf, size_t *len, size_t *size, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *size - *len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < *size - *len) {
			*len += (size_t)n;
			return;
		}
		*size *= 2;
		*buf = xreallocarray(*buf, *size, 1);
	}
}

/* Write the request counters. */
static void
metrics_write_requests(struct hub_stats *st, char **b, size_t *l, size_t *s)
{
	const struct route	*r;
	uint64_t		 v;
	int			 i, c;

	metrics_printf(b, l, s, "# HELP sohbet_requests_total Requests "
	    "answered, by route and status class.\n"
	    "# TYPE sohbet_requests_total counter\n");
	for (i = 0; i < METRIC_ROUTES; i++) {
		r = i == 0 ? NULL : router_at(i - 1);
		if (i > 0 && r == NULL)
			break;
		for (c = 0; c < METRIC_STATUSES; c++) {
			if ((v = atomic_load(&st->requests[i][c])) == 0)
				continue;
			metrics_printf(b, l, s, "sohbet_requests_total{method="
			    "\"%s\",route=\"%s\",status=\"%s\"} %llu\n",
			    r != NULL ? r->method : "", r != NULL ?
			    r->pattern : "unmatched", metrics_classes[c],
			    (unsigned long long)v);
		}
	}
}

/* Write the lookups of the worker caches, hits and misses by cache. */
static void
metrics_write_caches(struct hub_stats *st, char **b, size_t *l, size_t *s)
{
	static const char *const names[METRIC_CACHES] = {
		"users", "standings", "history"
	};
	static const char *const kinds[2] = { "hits", "misses" };
	int	i, k;

	for (k = 0; k < 2; k++) {
		metrics_printf(b, l, s, "# HELP sohbet_cache_%s_total Lookups "
		    "in the workers' caches that found %s.\n"
		    "# TYPE sohbet_cache_%s_total counter\n", kinds[k],
		    k == 0 ? "what they sought" : "nothing fresh", kinds[k]);
		for (i = 0; i < METRIC_CACHES; i++)
			metrics_printf(b, l, s, "sohbet_cache_%s_total{cache="
			    "\"%s\"} %llu\n", kinds[k], names[i],
			    (unsigned long long)atomic_load(k == 0 ?
			    &st->cache_hits[i] : &st->cache_misses[i]));
	}
}

/* Write the delivery latency histogram. */
static void
metrics_write_delivery(struct hub_stats *st, char **b, size_t *l, size_t *s)
{
	uint64_t	cum = 0;
	int		i;

	metrics_printf(b, l, s, "# HELP sohbet_delivery_seconds Time from an "
	    "event's commit to a parked poll's answer.\n"
	    "# TYPE sohbet_delivery_seconds histogram\n");
	for (i = 0; i < METRIC_BUCKETS; i++) {
		cum += atomic_load(&st->delivery[i]);
		metrics_printf(b, l, s, "sohbet_delivery_seconds_bucket{le=\"%g"
		    "\"} %llu\n", metrics_bounds[i] / 1000.0,
		    (unsigned long long)cum);
	}
	cum += atomic_load(&st->delivery[METRIC_BUCKETS]);
	metrics_printf(b, l, s, "sohbet_delivery_seconds_bucket{le=\"+Inf\"} "
	    "%llu\nsohbet_delivery_seconds_sum %.6f\n"
	    "sohbet_delivery_seconds_count %llu\n", (unsigned long long)cum,
	    (double)atomic_load(&st->delivery_sum_us) / 1e6,
	    (unsigned long long)cum);
}

/* Write one counter or gauge with its help line. */
static void
metrics_write_one(char **b, size_t *l, size_t *s, const char *name,
    const char *type, const char *help, uint64_t v)
{
	metrics_printf(b, l, s, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name,
	    help, name, type, name, (unsigned long long)v);
}

/* GET /metrics. */
static void
api_metrics_get(struct request *req)
{
	struct hub_stats	*st = hub_stats();
	char			*buf;
	size_t			 len = 0, size = 8192;
	uint64_t		 parked = 0;
	int			 i;

	buf = xmalloc(size);
	buf[0] = '\0';
	for (i = 0; i < HUB_SLOTS; i++)
		parked += atomic_load(&st->parked[i]);
	metrics_write_requests(st, &buf, &len, &size);
	metrics_write_one(&buf, &len, &size, "sohbet_parked_polls", "gauge",
	    "Long-polls parked now.", parked);
	metrics_write_one(&buf, &len, &size, "sohbet_wakeups_total", "counter",
	    "Worker wake-ups.", atomic_load(&st->wakeups));
	metrics_write_one(&buf, &len, &size, "sohbet_events_published_total",
	    "counter", "Events announced after commit.",
	    atomic_load(&st->events_published));
	metrics_write_delivery(st, &buf, &len, &size);
	metrics_write_caches(st, &buf, &len, &size);
	metrics_write_one(&buf, &len, &size, "sohbet_db_errors_total",
	    "counter", "Failed database calls.", atomic_load(&st->db_errors));
	metrics_write_one(&buf, &len, &size, "sohbet_db_reconnects_total",
	    "counter", "Database reconnections.",
	    atomic_load(&st->db_reconnects));
	metrics_write_one(&buf, &len, &size, "sohbet_worker_restarts_total",
	    "counter", "Workers that died and were replaced.",
	    atomic_load(&st->worker_restarts));
	metrics_write_one(&buf, &len, &size, "sohbet_send_batches_total",
	    "counter", "Sends written together, several in one transaction.",
	    atomic_load(&st->send_batches));
	metrics_write_one(&buf, &len, &size, "sohbet_batched_sends_total",
	    "counter", "Messages those batches wrote.",
	    atomic_load(&st->batched_sends));
	req->status = 200;
	FCGX_FPrintF(req->fcgi.out, "Status: 200 OK\r\nContent-Type: text/plain;"
	    " version=0.0.4; charset=utf-8\r\nCache-Control: no-store\r\n\r\n");
	FCGX_PutStr(buf, (int)len, req->fcgi.out);
	free(buf);
}

const struct route api_metrics_routes[] = {
	{ "GET", "/metrics", api_metrics_get, 0 },
	{ NULL, NULL, NULL, 0 }
};
