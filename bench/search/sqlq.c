/* SPDX-License-Identifier: ISC */
/*
 * sqlq: run SQL queries against MariaDB from several connections at once
 * and print the latency of each query text (p50, p99, max) and the rate.
 * It compares search engines on the same rows (bench/search/engines).
 *
 *   sqlq SOCKET DATABASE CONNECTIONS SECONDS < queries
 *
 * Each input line is one query; every connection runs them in turn,
 * starting at a different line, until SECONDS pass.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

#define SQLQ_QUERIES	64
#define SQLQ_SAMPLES	200000

struct sqlq_query {
	char		*text;
	double		*ms;
	size_t		 n;
	long		 rows;
	pthread_mutex_t	 lock;
};

static struct sqlq_query	 queries[SQLQ_QUERIES];
static size_t			 nqueries;
static const char		*sock, *dbname;
static double			 seconds;

/* Milliseconds on the monotonic clock. */
static double
sqlq_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One connection: run the queries in turn until the time is up. */
static void *
sqlq_run(void *arg)
{
	struct sqlq_query	*q;
	MYSQL			*db;
	MYSQL_RES		*res;
	double			 start, end, t0;
	size_t			 i = (size_t)(uintptr_t)arg;
	long			 rows;

	if ((db = mysql_init(NULL)) == NULL || mysql_real_connect(db, NULL,
	    "root", NULL, dbname, 0, sock, 0) == NULL) {
		fprintf(stderr, "sqlq: connect: %s\n", mysql_error(db));
		exit(1);
	}
	start = sqlq_now();
	end = start + seconds * 1e3;
	while (sqlq_now() < end) {
		q = &queries[i++ % nqueries];
		t0 = sqlq_now();
		if (mysql_query(db, q->text) != 0 ||
		    (res = mysql_store_result(db)) == NULL) {
			fprintf(stderr, "sqlq: %s: %s\n", q->text,
			    mysql_error(db));
			exit(1);
		}
		rows = (long)mysql_num_rows(res);
		mysql_free_result(res);
		pthread_mutex_lock(&q->lock);
		if (q->n < SQLQ_SAMPLES)
			q->ms[q->n++] = sqlq_now() - t0;
		q->rows = rows;
		pthread_mutex_unlock(&q->lock);
	}
	mysql_close(db);
	return NULL;
}

/* Compare two doubles for qsort. */
static int
sqlq_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	pthread_t	*t;
	char		 line[8192];
	size_t		 i, len;
	int		 nconn;

	if (argc != 5) {
		fprintf(stderr, "usage: sqlq SOCKET DATABASE CONNECTIONS "
		    "SECONDS < queries\n");
		return 2;
	}
	sock = argv[1];
	dbname = argv[2];
	nconn = atoi(argv[3]);
	seconds = atof(argv[4]);
	while (nqueries < SQLQ_QUERIES && fgets(line, sizeof line, stdin)) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		if (len == 0)
			continue;
		queries[nqueries].text = strdup(line);
		queries[nqueries].ms = calloc(SQLQ_SAMPLES, sizeof(double));
		pthread_mutex_init(&queries[nqueries].lock, NULL);
		nqueries++;
	}
	if (nqueries == 0 || nconn < 1)
		return 2;
	mysql_library_init(0, NULL, NULL);
	t = calloc((size_t)nconn, sizeof *t);
	for (i = 0; i < (size_t)nconn; i++)
		pthread_create(&t[i], NULL, sqlq_run, (void *)(uintptr_t)i);
	for (i = 0; i < (size_t)nconn; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < nqueries; i++) {
		struct sqlq_query	*q = &queries[i];

		qsort(q->ms, q->n, sizeof *q->ms, sqlq_cmp);
		printf("%6zu runs  p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms"
		    "  rows %ld  %s\n", q->n, q->ms[q->n / 2],
		    q->ms[q->n * 99 / 100], q->ms[q->n - 1], q->rows,
		    q->text);
	}
	return 0;
}
