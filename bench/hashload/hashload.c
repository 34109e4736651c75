/* SPDX-License-Identifier: ISC */
/*
 * hashload.c: the sign-in flood benchmark (issue 16, item 4).  On one
 * libcurl multi loop, for a bounded time and count, it
 *
 *   - signs in as unknown users at a fixed rate (open loop: a request is
 *     sent when it is due, whatever the earlier ones do), from several
 *     loopback addresses (127.0.0.A..);
 *   - sends GET /users/@me every few milliseconds with a user's token and
 *     records how long each takes;
 *   - parks a per-channel long-poll, posts a message into that channel a
 *     moment later and records the time from the post being sent to the
 *     poll's answer, once a round.
 *
 * It prints the numbers as key=value lines.  Only the given port on
 * 127.0.0.1 is ever contacted.  Built by bench/hashload/run.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES	100000

enum kind {
	KIND_LOGIN,
	KIND_ME,
	KIND_POLL,
	KIND_POST
};

struct transfer {
	enum kind	 kind;
	double		 started;
	char		*body;
	size_t		 len;
	char		*send;		/* request body, freed at the end */
	struct curl_slist *headers;
};

struct samples {
	double		*v;
	size_t		 n;
};

static const char	*opt_port = "8444";
static const char	*opt_token;
static const char	*opt_channel;
static char		 last_id[32];
static double		 opt_rate = 50;		/* sign-ins a second */
static double		 opt_seconds = 30;
static long		 opt_count = 1500;	/* sign-ins at most */
static int		 opt_addrs = 10;
static int		 opt_first_addr = 11;
static double		 opt_me_ms = 50;
static double		 opt_round_ms = 1000;

static struct samples	 me_lat, wake_lat, login_lat;
static long		 login_status[6], me_errors, poll_errors;
static long		 logins_sent, login_429;
static int		 poll_live;	/* a poll is out */
static double		 poll_posted;	/* when its post was sent, or 0 */
static double		 poll_parked_at;

/* Seconds of the monotonic clock. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keep one sample. */
static void
sample(struct samples *s, double v)
{
	if (s->v == NULL)
		s->v = calloc(MAX_SAMPLES, sizeof *s->v);
	if (s->v == NULL || s->n == MAX_SAMPLES)
		return;
	s->v[s->n++] = v;
}

/* Order doubles for qsort. */
static int
cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Print the count, p50, p99 and max of a sample set, in ms. */
static void
report(const char *name, struct samples *s)
{
	if (s->n == 0) {
		printf("%s_n=0\n", name);
		return;
	}
	qsort(s->v, s->n, sizeof *s->v, cmp);
	printf("%s_n=%zu\n%s_p50_ms=%.1f\n%s_p99_ms=%.1f\n%s_max_ms=%.1f\n",
	    name, s->n, name, s->v[s->n / 2] * 1000, name,
	    s->v[(size_t)((double)(s->n - 1) * 0.99)] * 1000, name,
	    s->v[s->n - 1] * 1000);
}

/* libcurl's write callback: keep the body. */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct transfer	*t = arg;
	char		*b;

	if ((b = realloc(t->body, t->len + size * n + 1)) == NULL)
		return 0;
	t->body = b;
	memcpy(t->body + t->len, p, size * n);
	t->len += size * n;
	t->body[t->len] = '\0';
	return size * n;
}

/* Start one request. */
static void
start(CURLM *m, enum kind kind, const char *method, const char *path,
    const char *token, const char *body, const char *source)
{
	struct transfer	*t;
	CURL		*c;
	char		 url[512], auth[1024];

	t = calloc(1, sizeof *t);
	c = curl_easy_init();
	if (t == NULL || c == NULL) {
		fprintf(stderr, "hashload: out of memory\n");
		exit(1);
	}
	t->kind = kind;
	t->started = now();
	snprintf(url, sizeof url, "http://127.0.0.1:%s%s", opt_port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 70L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c, CURLOPT_PRIVATE, t);
	if (source != NULL)
		curl_easy_setopt(c, CURLOPT_INTERFACE, source);
	t->headers = curl_slist_append(NULL, "Expect:");
	if (token != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		t->headers = curl_slist_append(t->headers, auth);
	}
	if (body != NULL) {
		t->send = strdup(body);
		t->headers = curl_slist_append(t->headers,
		    "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, t->send);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
	curl_multi_add_handle(m, c);
}

/* Start a sign-in of an unknown user from the next address. */
static void
start_login(CURLM *m)
{
	char	source[32], body[160];

	snprintf(source, sizeof source, "127.0.0.%d", opt_first_addr +
	    (int)(logins_sent % opt_addrs));
	snprintf(body, sizeof body, "{\"login\":\"hashload-%ld-%ld\","
	    "\"password\":\"correct horse battery\"}", (long)getpid(),
	    logins_sent);
	logins_sent++;
	start(m, KIND_LOGIN, "POST", "/api/v1/auth/login", NULL, body, source);
}

/* Park the long-poll of a round: messages after the last id, wait 20 s. */
static void
start_poll(CURLM *m)
{
	char	path[256];

	snprintf(path, sizeof path, "/api/v1/channels/%s/messages?after=%s"
	    "&wait=20", opt_channel, last_id);
	start(m, KIND_POLL, "GET", path, opt_token, NULL, NULL);
	poll_live = 1;
	poll_posted = 0;
	poll_parked_at = now();
}

/* Post the message that wakes the poll. */
static void
start_post(CURLM *m)
{
	char	path[256];

	snprintf(path, sizeof path, "/api/v1/channels/%s/messages",
	    opt_channel);
	poll_posted = now();
	start(m, KIND_POST, "POST", path, opt_token, "{\"content\":\"wake\"}",
	    NULL);
}

/* Take the id of a posted message as the next poll's cursor. */
static void
take_id(const char *body)
{
	const char	*p;
	size_t		 n;

	if (body == NULL || (p = strstr(body, "\"id\":\"")) == NULL)
		return;
	p += 6;
	n = strspn(p, "0123456789");
	if (n > 0 && n < sizeof last_id) {
		memcpy(last_id, p, n);
		last_id[n] = '\0';
	}
}

/* Account for a finished request and free it. */
static void
finish(CURLM *m, CURLMsg *msg)
{
	struct transfer	*t;
	CURL		*c = msg->easy_handle;
	long		 status = 0;
	double		 took;

	curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&t);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	took = now() - t->started;
	if (msg->data.result != CURLE_OK)
		status = 0;
	switch (t->kind) {
	case KIND_LOGIN:
		login_status[status / 100 < 6 ? status / 100 : 0]++;
		login_429 += status == 429;
		if (status == 401)
			sample(&login_lat, took);
		break;
	case KIND_ME:
		if (status == 200)
			sample(&me_lat, took);
		else
			me_errors++;
		break;
	case KIND_POLL:
		poll_live = 0;
		if (status == 200 && poll_posted != 0)
			sample(&wake_lat, now() - poll_posted);
		else
			poll_errors++;
		break;
	case KIND_POST:
		if (status == 201)
			take_id(t->body);
		else
			poll_errors++;
		break;
	}
	curl_multi_remove_handle(m, c);
	curl_easy_cleanup(c);
	curl_slist_free_all(t->headers);
	free(t->send);
	free(t->body);
	free(t);
}

/* Print how to run it and exit. */
static void
usage(void)
{
	fprintf(stderr, "usage: hashload --port P --token T --channel C "
	    "--after ID [--rate N] [--seconds S] [--count N] [--addrs N]\n");
	exit(2);
}

/* Run the flood, the probes and the poll rounds; print the numbers. */
int
main(int argc, char **argv)
{
	CURLM		*m;
	CURLMsg		*msg;
	double		 t0, end, next_login, next_me, next_round, t;
	int		 i, running, left;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0)
			opt_port = argv[i + 1];
		else if (strcmp(argv[i], "--token") == 0)
			opt_token = argv[i + 1];
		else if (strcmp(argv[i], "--channel") == 0)
			opt_channel = argv[i + 1];
		else if (strcmp(argv[i], "--after") == 0)
			snprintf(last_id, sizeof last_id, "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--rate") == 0)
			opt_rate = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			opt_seconds = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--count") == 0)
			opt_count = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--addrs") == 0)
			opt_addrs = atoi(argv[i + 1]);
		else
			usage();
	}
	if (i != argc || opt_token == NULL || opt_channel == NULL ||
	    last_id[0] == '\0' || opt_rate <= 0 || opt_addrs < 1)
		usage();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (m = curl_multi_init()) == NULL)
		return 1;
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 1000L);
	t0 = now();
	end = t0 + opt_seconds;
	next_login = next_me = t0;
	next_round = t0 + 0.5;
	for (;;) {
		t = now();
		if (t < end) {
			while (next_login <= t && logins_sent < opt_count) {
				start_login(m);
				next_login += 1 / opt_rate;
			}
			while (next_me <= t) {
				start(m, KIND_ME, "GET", "/api/v1/users/@me",
				    opt_token, NULL, NULL);
				next_me += opt_me_ms / 1000;
			}
			if (!poll_live && t >= next_round) {
				start_poll(m);
				next_round = t + opt_round_ms / 1000;
			}
			/* Post once the poll has had time to park. */
			if (poll_live && poll_posted == 0 &&
			    t >= poll_parked_at + 0.2)
				start_post(m);
		}
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg == CURLMSG_DONE)
				finish(m, msg);
		}
		if (t >= end && running == 0)
			break;
		if (t >= end + 75)
			break;
		curl_multi_poll(m, NULL, 0, 2, NULL);
	}
	printf("seconds=%.1f\nlogin_rate=%.1f\nlogins_sent=%ld\n",
	    now() - t0, opt_rate, logins_sent);
	printf("logins_401=%ld\nlogins_429=%ld\nlogins_5xx=%ld\n"
	    "logins_failed=%ld\n", login_status[4] - login_429, login_429,
	    login_status[5], login_status[0]);
	report("login_401", &login_lat);
	report("me", &me_lat);
	printf("me_errors=%ld\n", me_errors);
	report("wake", &wake_lat);
	printf("wake_errors=%ld\n", poll_errors);
	curl_multi_cleanup(m);
	curl_global_cleanup();
	return 0;
}
