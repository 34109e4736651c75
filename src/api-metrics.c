/* SPDX-License-Identifier: ISC */
/*
 * api-metrics.c: GET /metrics, the counters of metrics.c in Prometheus'
 * text format.  nginx serves it to loopback only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

/* The route at an index of the router's tables (api_metrics_init()). */
static const struct route *(*api_metrics_route_at)(int);

/*
 * Name the routes of sohbet_requests_total with at (router_at): the
 * router sits above this file and hands its index down.
 */
void
api_metrics_init(const struct route *(*at)(int))
{
	api_metrics_route_at = at;
}

/* Append formatted text to a growing buffer. */
static void
api_metrics_printf(char **buf, size_t *len, size_t *size, const char *fmt, ...)
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
api_metrics_write_requests(struct hub_stats *st, char **b, size_t *l, size_t *s)
{
	const struct route	*r;
	uint64_t		 v;
	int			 i, c;

	api_metrics_printf(b, l, s, "# HELP sohbet_requests_total Requests "
	    "answered, by route and status class.\n"
	    "# TYPE sohbet_requests_total counter\n");
	for (i = 0; i < METRIC_ROUTES; i++) {
		r = i == 0 || api_metrics_route_at == NULL ? NULL :
		    api_metrics_route_at(i - 1);
		if (i > 0 && r == NULL)
			break;
		for (c = 0; c < METRIC_STATUSES; c++) {
			if ((v = atomic_load(&st->requests[i][c])) == 0)
				continue;
			api_metrics_printf(b, l, s,
			    "sohbet_requests_total{method="
			    "\"%s\",route=\"%s\",status=\"%s\"} %llu\n",
			    r != NULL ? r->method : "", r != NULL ?
			    r->pattern : "unmatched", metrics_classes[c],
			    (unsigned long long)v);
		}
	}
}

/* Write the lookups of the worker caches, hits and misses by cache. */
static void
api_metrics_write_caches(struct hub_stats *st, char **b, size_t *l, size_t *s)
{
	static const char *const names[METRIC_CACHES] = {
		"users", "standings", "history", "read_states", "scopes"
	};
	static const char *const kinds[2] = { "hits", "misses" };
	int	i, k;

	for (k = 0; k < 2; k++) {
		api_metrics_printf(b, l, s,
		    "# HELP sohbet_cache_%s_total Lookups "
		    "in the workers' caches that found %s.\n"
		    "# TYPE sohbet_cache_%s_total counter\n", kinds[k],
		    k == 0 ? "what they sought" : "nothing fresh", kinds[k]);
		for (i = 0; i < METRIC_CACHES; i++)
			api_metrics_printf(b, l, s,
			    "sohbet_cache_%s_total{cache="
			    "\"%s\"} %llu\n", kinds[k], names[i],
			    (unsigned long long)atomic_load(k == 0 ?
			    &st->cache_hits[i] : &st->cache_misses[i]));
	}
}

/* Write the delivery latency histogram. */
static void
api_metrics_write_delivery(struct hub_stats *st, char **b, size_t *l, size_t *s)
{
	uint64_t	cum = 0;
	int		i;

	api_metrics_printf(b, l, s,
	    "# HELP sohbet_delivery_seconds Time from an "
	    "event's commit to a parked poll's answer.\n"
	    "# TYPE sohbet_delivery_seconds histogram\n");
	for (i = 0; i < METRIC_BUCKETS; i++) {
		cum += atomic_load(&st->delivery[i]);
		api_metrics_printf(b, l, s,
		    "sohbet_delivery_seconds_bucket{le=\"%g"
		    "\"} %llu\n", metrics_bounds[i] / 1000.0,
		    (unsigned long long)cum);
	}
	cum += atomic_load(&st->delivery[METRIC_BUCKETS]);
	api_metrics_printf(b, l, s,
	    "sohbet_delivery_seconds_bucket{le=\"+Inf\"} "
	    "%llu\nsohbet_delivery_seconds_sum %.6f\n"
	    "sohbet_delivery_seconds_count %llu\n", (unsigned long long)cum,
	    (double)atomic_load(&st->delivery_sum_us) / 1e6,
	    (unsigned long long)cum);
}

/*
 * The parked polls of each running worker, by its pid: a kept FastCGI
 * connection ties its requests to one worker, so the sum alone does not
 * show how they are spread.
 */
static void
api_metrics_write_workers(struct hub_stats *st, char **b, size_t *l,
    size_t *s)
{
	pid_t	pid;
	int	i;

	api_metrics_printf(b, l, s, "# HELP sohbet_worker_parked_polls "
	    "Long-polls parked now in each worker.\n"
	    "# TYPE sohbet_worker_parked_polls gauge\n");
	for (i = 0; i < HUB_SLOTS; i++) {
		if ((pid = hub_slot_pid(i)) > 0)
			api_metrics_printf(b, l, s, "sohbet_worker_parked_polls"
			    "{pid=\"%ld\"} %llu\n", (long)pid,
			    (unsigned long long)atomic_load(&st->parked[i]));
	}
}

/* Write one counter or gauge with its help line. */
static void
api_metrics_write_one(char **b, size_t *l, size_t *s, const char *name,
    const char *type, const char *help, uint64_t v)
{
	api_metrics_printf(b, l, s,
	    "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name,
	    help, name, type, name, (unsigned long long)v);
}

/* GET /metrics. */
static void
api_metrics_get(struct request *req)
{
	struct hub_stats	*st = hub_stats();
	char			*buf;
	size_t			 len = 0, size = 8192;
	uint64_t		 parked = 0, idle = 0;
	int			 i;

	buf = xmalloc(size);
	buf[0] = '\0';
	for (i = 0; i < HUB_SLOTS; i++) {
		parked += atomic_load(&st->parked[i]);
		idle += atomic_load(&st->idle[i]);
	}
	api_metrics_write_requests(st, &buf, &len, &size);
	api_metrics_write_one(&buf, &len, &size, "sohbet_parked_polls", "gauge",
	    "Long-polls parked now.", parked);
	api_metrics_write_workers(st, &buf, &len, &size);
	api_metrics_write_one(&buf, &len, &size,
	    "sohbet_fastcgi_idle_connections", "gauge",
	    "FastCGI connections nginx keeps open, idle now.", idle);
	api_metrics_write_one(&buf, &len, &size,
	    "sohbet_fastcgi_kept_requests_total", "counter",
	    "Requests read on a FastCGI connection kept from an earlier one.",
	    atomic_load(&st->kept_requests));
	api_metrics_write_one(&buf, &len, &size,
	    "sohbet_wakeups_total", "counter",
	    "Worker wake-ups.", atomic_load(&st->wakeups));
	api_metrics_write_one(&buf, &len, &size,
	    "sohbet_events_published_total",
	    "counter", "Events announced after commit.",
	    atomic_load(&st->events_published));
	api_metrics_write_delivery(st, &buf, &len, &size);
	api_metrics_write_caches(st, &buf, &len, &size);
	api_metrics_write_one(&buf, &len, &size, "sohbet_db_errors_total",
	    "counter", "Failed database calls.", atomic_load(&st->db_errors));
	api_metrics_write_one(&buf, &len, &size, "sohbet_db_reconnects_total",
	    "counter", "Database reconnections.",
	    atomic_load(&st->db_reconnects));
	api_metrics_write_one(&buf, &len, &size, "sohbet_db_retries_total",
	    "counter", "Transactions run again after losing a conflict.",
	    atomic_load(&st->db_retries));
	api_metrics_write_one(&buf, &len, &size,
	    "sohbet_db_retries_exhausted_total", "counter",
	    "Conflicts that outlasted the retry budget (answered 503).",
	    atomic_load(&st->db_retries_exhausted));
	api_metrics_write_one(&buf, &len, &size, "sohbet_worker_restarts_total",
	    "counter", "Workers that died and were replaced.",
	    atomic_load(&st->worker_restarts));
	api_metrics_write_one(&buf, &len, &size, "sohbet_send_batches_total",
	    "counter", "Sends written together, several in one transaction.",
	    atomic_load(&st->send_batches));
	api_metrics_write_one(&buf, &len, &size, "sohbet_batched_sends_total",
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
