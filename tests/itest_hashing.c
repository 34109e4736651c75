/* SPDX-License-Identifier: ISC */
/*
 * itest_hashing.c: password hashing does not stall a worker (issue 16,
 * item 4).  sohbetd is restarted with a slow scrypt and a short hashing
 * queue; then a flood of sign-ins runs while GET /users/@me is timed,
 * more sign-ins at once than the queues hold are answered 503 with
 * Retry-After at once, clients that give up during their hash are let go,
 * and a worker stopping with hashes in flight answers every one.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <check.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"
#include "check_run.h"

#define LOGIN		API_PREFIX "/auth/login"
#define REGISTER	API_PREFIX "/auth/register"
#define ME		API_PREFIX "/users/@me"
#define PASSWORD	"correct horse battery"

/* What the restarted sohbetd runs with. */
#define SLOW_N		"65536"		/* some 0.2 s a hash on this kind of box */
#define QUEUE		4		/* hash_queue: per worker */
#define THREADS		"1"		/* hash_threads */

#define FLOODERS	12	/* processes signing in, one at a time each */
#define FLOOD_MS	3000
#define PROBES		30	/* GET /users/@me during the flood */
#define PROBE_GAP_MS	50
#define PROBE_MEDIAN	0.1	/* seconds: a worker answers at once */
#define PROBE_MAX	1.0	/* ... even the slowest of them */
#define BURST		30	/* sign-ins at once */
#define BUSY_MAX	1.0	/* seconds a 503 may take: at once */
#define GIVE_UPS	6	/* clients that leave during their hash */
#define GIVE_UP_MS	100	/* ... this long after sending it */
#define BUSY_PAUSE_MS	20	/* a flooder's pause after a 503 */
#define IN_FLIGHT	6	/* sign-ins running when the workers stop */
#define FIRST_ADDR	60	/* 127.0.0.N the sign-ins come from */
#define ADDRS		40

static char	*conf_saved;
static char	*account_token;		/* of an account made beforehand */
static char	*account_name;

/* The whole of a file, or NULL. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*text = NULL;
	size_t	 size = 0;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (getdelim(&text, &size, '\0', f) == -1) {
		free(text);
		text = xstrdup("");
	}
	fclose(f);
	return text;
}

/* Replace sohbetd's configuration file with text and restart it. */
static void
conf_restart(const char *text)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(getenv("SOHBET_TEST_CONF"), "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(itest_dev("sohbetd-stop"), 0);
	ck_assert_int_eq(itest_dev("sohbetd-start"), 0);
}

/*
 * Keep the stack, make an account (with the cheap hash), then restart
 * sohbetd with a slow scrypt and short queues: the [auth] keys appended
 * win over the ones before.
 */
static void
hashing_setup(void)
{
	struct itest_response	*r;
	char			*text;

	itest_exclusive();
	itest_require_stack();
	account_name = itest_unique("hash");
	r = itest_send("POST", REGISTER, NULL, "{\"username\":\"%s\","
	    "\"email\":\"%s@example.com\",\"password\":\"" PASSWORD "\"}",
	    account_name, account_name);
	itest_expect(r, 201);
	account_token = xstrdup(itest_str(r, "access_token"));
	itest_free(r);
	ck_assert_ptr_nonnull(conf_saved = slurp(getenv("SOHBET_TEST_CONF")));
	xasprintf(&text, "%s\n[auth]\nscrypt_n = " SLOW_N "\nhash_queue = %d\n"
	    "hash_threads = " THREADS "\n", conf_saved, QUEUE);
	conf_restart(text);
	free(text);
}

/* Give the stack its configuration back. */
static void
hashing_teardown(void)
{
	if (conf_saved != NULL) {
		conf_restart(conf_saved);
		free(conf_saved);
		conf_saved = NULL;
	}
	itest_restore_teardown();
}

/* Send this process's later requests from the n-th address. */
static void
use_address(int n)
{
	char	addr[32];

	snprintf(addr, sizeof addr, "127.0.0.%d", FIRST_ADDR + n % ADDRS);
	itest_use_source(addr);
}

/* Sign in as an unknown user; the answer. */
static struct itest_response *
login_unknown(void)
{
	struct itest_response	*r;
	char			*name;

	name = itest_unique("nobody");
	r = itest_send("POST", LOGIN, NULL, "{\"login\":\"%s\",\"password\":"
	    "\"" PASSWORD "\"}", name);
	free(name);
	return r;
}

/* What the sign-ins of a flood or a burst got. */
struct tally {
	int	unauthorized;	/* 401 invalid_credentials */
	int	busy;		/* 503 with Retry-After */
	int	other;		/* anything else */
	long	busy_slowest_us;	/* of the 503s */
};

/* Count one sign-in's answer. */
static void
tally_add(struct tally *t, struct itest_response *r)
{
	const char	*code = itest_str(r, "error.code");
	long		 us, seen;

	if (r->status == 401 && code != NULL &&
	    strcmp(code, "invalid_credentials") == 0)
		__atomic_add_fetch(&t->unauthorized, 1, __ATOMIC_SEQ_CST);
	else if (r->status == 503 && code != NULL &&
	    strcmp(code, "service_unavailable") == 0 &&
	    itest_header(r, "Retry-After") != NULL) {
		__atomic_add_fetch(&t->busy, 1, __ATOMIC_SEQ_CST);
		us = (long)(r->seconds * 1e6);
		seen = __atomic_load_n(&t->busy_slowest_us, __ATOMIC_SEQ_CST);
		while (us > seen && !__atomic_compare_exchange_n(
		    &t->busy_slowest_us, &seen, us, 0, __ATOMIC_SEQ_CST,
		    __ATOMIC_SEQ_CST))
			;
	} else {
		fprintf(stderr, "unexpected: %s\n", itest_describe(r));
		__atomic_add_fetch(&t->other, 1, __ATOMIC_SEQ_CST);
	}
}

/* A tally in memory the children share. */
static struct tally *
tally_new(void)
{
	struct tally	*t;

	t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	ck_assert(t != MAP_FAILED);
	memset(t, 0, sizeof *t);
	return t;
}

/*
 * Fork n children that wait on a pipe, then each sign in once (seconds
 * 0) or one after another until seconds have passed.  Returns the write
 * end of the pipe: closing it starts them.
 */
static int
signers_start(int n, double seconds, struct tally *t, pid_t *pids)
{
	struct itest_response	*r;
	double			 until;
	int			 fds[2], i;
	char			 c;

	ck_assert_int_eq(pipe(fds), 0);
	for (i = 0; i < n; i++) {
		ck_assert_int_ne(pids[i] = fork(), -1);
		if (pids[i] != 0)
			continue;
		close(fds[1]);
		/* Connected before the start, from an address of its own. */
		use_address(i);
		itest_free(itest_get(API_PREFIX "/health", NULL));
		if (read(fds[0], &c, 1) != 0)
			_exit(1);
		until = itest_now() + seconds;
		do {
			r = login_unknown();
			tally_add(t, r);
			if (r->status == 503)
				itest_sleep_ms(BUSY_PAUSE_MS);
			itest_free(r);
		} while (itest_now() < until);
		_exit(0);
	}
	close(fds[0]);
	return fds[1];
}

/* Start n signers at once, each signing in once; their tally. */
static struct tally *
burst_start(int n, pid_t *pids)
{
	struct tally	*t;

	t = tally_new();
	close(signers_start(n, 0, t, pids));
	return t;
}

/* Wait for the signers. */
static void
signers_wait(int n, pid_t *pids)
{
	int	i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(waitpid(pids[i], NULL, 0), pids[i]);
}

/* Assert that sohbetd answered each of n sign-ins 401 or 503 (and say so). */
static void
expect_answered(const struct tally *t, int n, const char *what)
{
	fprintf(stderr, "%s: %d sign-ins, %d 401, %d 503 (slowest 503 %.3f "
	    "s), %d other\n", what, n, t->unauthorized, t->busy,
	    t->busy_slowest_us / 1e6, t->other);
	ck_assert_msg(t->other == 0 && t->unauthorized + t->busy == n,
	    "%s: of %d sign-ins %d got 401 and %d 503", what, n,
	    t->unauthorized, t->busy);
}

/* Order doubles for qsort. */
static int
double_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

START_TEST(test_loop_answers_during_flood)
{
	struct itest_response	*r;
	struct tally		*t;
	pid_t			 pids[FLOODERS];
	double			 took[PROBES];
	int			 start, i;

	t = tally_new();
	start = signers_start(FLOODERS, FLOOD_MS / 1000.0, t, pids);
	close(start);
	itest_sleep_ms(300);
	for (i = 0; i < PROBES; i++) {
		r = itest_get(ME, account_token);
		itest_expect(r, 200);
		took[i] = r->seconds;
		itest_free(r);
		itest_sleep_ms(PROBE_GAP_MS);
	}
	signers_wait(FLOODERS, pids);
	qsort(took, PROBES, sizeof *took, double_cmp);
	fprintf(stderr, "during the flood (%d sign-ins: %d 401, %d 503): GET "
	    "/users/@me median %.1f ms, slowest %.1f ms\n", t->unauthorized +
	    t->busy + t->other, t->unauthorized, t->busy, took[PROBES / 2] *
	    1000, took[PROBES - 1] * 1000);
	ck_assert_msg(t->other == 0, "%d sign-ins got neither 401 nor 503",
	    t->other);
	ck_assert_msg(t->unauthorized > 0, "no sign-in was checked");
	ck_assert_msg(took[PROBES / 2] < PROBE_MEDIAN && took[PROBES - 1] <
	    PROBE_MAX, "GET /users/@me took %.3f s (median), %.3f s (slowest) "
	    "while passwords were hashed", took[PROBES / 2],
	    took[PROBES - 1]);
	munmap(t, sizeof *t);
}
END_TEST

START_TEST(test_full_queue_busy_at_once)
{
	struct tally	*t;
	pid_t		 pids[BURST];

	/* More at once than the queues of both workers hold. */
	t = burst_start(BURST, pids);
	signers_wait(BURST, pids);
	expect_answered(t, BURST, "a burst");
	ck_assert_msg(t->unauthorized >= 1, "no sign-in was hashed");
	/* Both workers' queues together hold 2 * QUEUE. */
	ck_assert_msg(t->busy >= 1, "none of %d sign-ins at once got 503 (the "
	    "queues hold %d)", BURST, 2 * QUEUE);
	ck_assert_msg(t->busy_slowest_us < BUSY_MAX * 1e6, "a 503 took %.3f s",
	    t->busy_slowest_us / 1e6);
	munmap(t, sizeof *t);
}
END_TEST

/* The number of sign-ins whose client went away, from /metrics (0: none). */
static long
login_gone(void)
{
	static const char	 needle[] = "sohbet_requests_total{method="
	    "\"POST\",route=\"" LOGIN "\",status=\"client_closed\"} ";
	struct itest_response	*r;
	const char		*p;
	long			 n = 0;

	r = itest_get("/metrics", NULL);
	ck_assert_msg(r->status == 200, "GET /metrics: %s", itest_describe(r));
	if ((p = strstr(r->body, needle)) != NULL)
		n = strtol(p + strlen(needle), NULL, 10);
	itest_free(r);
	return n;
}

START_TEST(test_client_gives_up)
{
	struct itest_response	*r;
	pid_t			 before[64], after[64];
	long			 gone;
	int			 nbefore, nafter, i;

	nbefore = itest_worker_pids(before, 64);
	gone = login_gone();
	/* Sign-ins that give up a moment after they were sent. */
	itest_set_timeout_ms(GIVE_UP_MS);
	for (i = 0; i < GIVE_UPS; i++) {
		use_address(i);
		r = login_unknown();
		ck_assert_msg(r->status == 0, "a sign-in did not give up: %s",
		    itest_describe(r));
		itest_free(r);
	}
	itest_use_source(NULL);
	itest_set_timeout(60);
	for (i = 0; i < 50 && login_gone() == gone; i++)
		itest_sleep_ms(100);
	ck_assert_msg(login_gone() > gone, "no sign-in was seen to go away");
	/* No worker died of it; the next sign-in works. */
	nafter = itest_worker_pids(after, 64);
	ck_assert_int_eq(nafter, nbefore);
	for (i = 0; i < nbefore; i++)
		ck_assert_int_eq(after[i], before[i]);
	r = itest_send("POST", LOGIN, NULL, "{\"login\":\"%s\",\"password\":"
	    "\"" PASSWORD "\"}", account_name);
	itest_expect(r, 200);
	itest_free(r);
}
END_TEST

START_TEST(test_stop_answers_in_flight)
{
	struct tally	*t;
	pid_t		 pids[IN_FLIGHT];

	/* Sign-ins hashing or queued when sohbetd is told to stop. */
	t = burst_start(IN_FLIGHT, pids);
	itest_sleep_ms(100);
	ck_assert_msg(itest_dev("sohbetd-stop") == 0, "sohbetd did not stop "
	    "by itself");
	signers_wait(IN_FLIGHT, pids);
	ck_assert_int_eq(itest_dev("sohbetd-start"), 0);
	expect_answered(t, IN_FLIGHT, "in flight at a stop");
	munmap(t, sizeof *t);
}
END_TEST

static Suite *
hashing_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("hashing");
	tc = tcase_create("slow scrypt");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, hashing_setup, hashing_teardown);
	tcase_add_test(tc, test_loop_answers_during_flood);
	tcase_add_test(tc, test_full_queue_busy_at_once);
	tcase_add_test(tc, test_client_gives_up);
	tcase_add_test(tc, test_stop_answers_in_flight);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(hashing_suite());
}
