/* SPDX-License-Identifier: ISC */
/*
 * check_poll.c: unit tests of poll.c, the parked long-polls: the timer
 * heap (deadline order, removal from the middle), a client that goes
 * away (dropped at once, freed only after the round), the caps, which
 * polls a hub entry wakes or rechecks, which ones an ephemeral event
 * hints (once each until they are answered), a worker that stops, and
 * the answers of parked polls, framed as FastCGI records by sohbetd.
 *
 * No database and no nginx: each poll's request is a zeroed one whose
 * connection is one end of a socketpair (FCGX_Detach and FCGX_Finish_r,
 * which request_done() calls, only close it), the test holds the other
 * end as the client, and the polls are of a kind of the test's own that
 * records what was asked of it.  The hub is this process's own, and its
 * counter is started by hand, so the watermark needs no database either.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"
#include "check_run.h"
#include "ended.h"

#define CLIENTS_MAX	1200
#define FUTURE_MS	(61 * 1000)	/* beyond poll_next_timeout()'s cap */

/* What happened to a client's poll. */
enum answer {
	ANSWER_NONE,
	ANSWER_EXPIRED,		/* the kind's expire(): a timeout's answer */
	ANSWER_WOKEN,		/* its wake() answered it */
	ANSWER_REVOKED		/* its recheck() answered it (404) */
};

/* A client with one long-poll, as the test sees it. */
struct client {
	struct ended	 end;		/* its request */
	struct poll	*poll;		/* until it was reaped */
	int		 peer;		/* the client's end, or -1 */
	enum answer	 answer;
	int		 answers;	/* answers given: never more than one */
	int		 woken;		/* wake() calls since woken_reset() */
	int		 rechecked;	/* recheck() calls, as woken */
	int		 freed;		/* free() calls */
	int		 revoked;	/* recheck() answers it */
	int		 answer_on_wake;	/* wake() answers it */
	int		 hinted;	/* hint() calls */
	long long	 hurry_ms;	/* hint() hurries it; 0: answers */
	long long	 hurry_at;	/* or hurries it to then (clock_ms()) */
	long long	 deadline;	/* when it expired */
};

static struct config	 test_cfg;
static struct client	 clients[CLIENTS_MAX];
static int		 nclients;
static int		 epfd;
static int		 expired_order[CLIENTS_MAX];
static int		 nexpired;

/* The client a poll's data points at. */
static struct client *
client_of(struct poll *p)
{
	return p->data;
}

/* Answer a parked poll with a status, as a kind does. */
static void
answer(struct poll *p, enum answer how, int status)
{
	struct client	*c = client_of(p);

	c->answer = how;
	c->answers++;
	p->req->status = status;
	poll_done(p);
}

/* expire(): the deadline passed, or the worker stops. */
static void
test_expire(struct poll *p)
{
	struct client	*c = client_of(p);

	c->deadline = p->deadline;
	expired_order[nexpired++] = (int)(c - clients);
	answer(p, ANSWER_EXPIRED, 200);
}

/* wake(): note each poll; answer those that asked to be. */
static void
test_wake(struct poll **batch, size_t n, uint64_t wm)
{
	size_t	i;

	(void)wm;
	for (i = 0; i < n; i++) {
		client_of(batch[i])->woken++;
		if (client_of(batch[i])->answer_on_wake)
			answer(batch[i], ANSWER_WOKEN, 200);
	}
}

/* recheck(): answer 404 when the client's access is gone. */
static void
test_recheck(struct poll *p)
{
	struct client	*c = client_of(p);

	c->rechecked++;
	if (c->revoked)
		answer(p, ANSWER_REVOKED, 404);
}

/* free(): the poll's memory goes too (poll_reap()). */
static void
test_free(void *data)
{
	struct client	*c = data;

	c->freed++;
	c->poll = NULL;
}

/* hint(): note it; hurry the poll, or answer it as woken. */
static void
test_hint(struct poll *p)
{
	struct client	*c = client_of(p);

	c->hinted++;
	if (c->hurry_at > 0)
		poll_hurry(p, c->hurry_at);
	else if (c->hurry_ms > 0)
		poll_hurry(p, clock_ms() + c->hurry_ms);
	else
		answer(p, ANSWER_WOKEN, 200);
}

/* A kind that ephemeral events do not concern (as wait.c's). */
static const struct poll_type test_type = {
	"test", test_wake, test_expire, test_recheck, test_free, NULL
};

/* A kind that ephemeral events concern (as api-events.c's). */
static const struct poll_type test_hinted_type = {
	"hinted", test_wake, test_expire, test_recheck, test_free, test_hint
};

/* A client of a user with a request and a poll of a kind (not parked yet). */
static struct client *
client_new_of(uint64_t user_id, const struct poll_type *type)
{
	struct client	*c;
	struct request	*req;
	int		 sv[2];

	ck_assert_int_lt(nclients, CLIENTS_MAX);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	c = &clients[nclients++];
	memset(c, 0, sizeof *c);
	req = xcalloc(1, sizeof *req);
	req->fcgi.ipcFd = sv[0];
	req->method = "GET";
	req->user_id = user_id;
	ended_watch(&c->end, req);
	c->peer = sv[1];
	c->poll = poll_new(req, type, c);
	req->poll = c->poll;
	return c;
}

/* A client of a user with a request and a poll (not parked yet). */
static struct client *
client_new(uint64_t user_id)
{
	return client_new_of(user_id, &test_type);
}

/* Park a client's poll (indexed by its keys) for timeout_ms. */
static void
park(struct client *c, long long timeout_ms)
{
	ck_assert_int_eq(poll_park(c->poll, timeout_ms), 0);
	ck_assert_int_eq(c->end.req->waiting, REQUEST_PARKED);
}

/* A client whose poll is parked under one more key, for timeout_ms. */
static struct client *
client_parked(uint64_t user_id, enum poll_key kind, uint64_t id,
    long long timeout_ms)
{
	struct client	*c = client_new(user_id);

	poll_key(c->poll, kind, id);
	park(c, timeout_ms);
	return c;
}

/* The client goes away: nginx closes the connection. */
static void
client_close(struct client *c)
{
	close(c->peer);
	c->peer = -1;
}

/* The epoll events waiting now: the first half of a loop round. */
static int
round_events(struct epoll_event *evs, int max)
{
	int	n;

	n = epoll_wait(epfd, evs, max, 0);
	ck_assert_int_ge(n, 0);
	return n;
}

/* Dispatch a round's events to their watches, as worker.c does. */
static void
round_dispatch(struct epoll_event *evs, int n)
{
	struct watch	*w;
	int		 i;

	for (i = 0; i < n; i++) {
		w = evs[i].data.ptr;
		w->ready(w);
	}
}

/* Publish one entry below the watermark and let the worker act on it. */
static void
publish(struct hub_entry e)
{
	static uint64_t	seq = 100;

	e.seq = ++seq;
	hub_publish(&e, 1);
	ck_assert(hub_self_woken());
	poll_woken();
	poll_reap();
}

/* Publish an ephemeral event and let the worker act on it. */
static void
publish_hint(uint64_t server_id, uint64_t channel_id, uint64_t dm_channel_id)
{
	struct ephemeral	e = { .kind = EPHEMERAL_TYPING, .user_id = 99,
	    .server_id = server_id, .channel_id = channel_id,
	    .dm_channel_id = dm_channel_id };

	ck_assert_int_eq(ephemeral_publish(&e, 0), 1);
	ck_assert(hub_self_woken());
	poll_woken();
	poll_reap();
}

/* Forget which polls were woken and rechecked. */
static void
woken_reset(void)
{
	int	i;

	for (i = 0; i < nclients; i++)
		clients[i].woken = clients[i].rechecked = 0;
}

/* Assert exactly the clients in a mask were woken and rechecked. */
static void
woken_expect(const char *what, struct client **cs, int n,
    unsigned int woken, unsigned int rechecked)
{
	int	i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(cs[i]->woken == (int)((woken >> i) & 1),
		    "%s: poll %d woken %d times", what, i, cs[i]->woken);
		ck_assert_msg(cs[i]->rechecked == (int)((rechecked >> i) & 1),
		    "%s: poll %d rechecked %d times", what, i,
		    cs[i]->rechecked);
	}
	woken_reset();
}

/*
 * A worker's state: the hub in this process (slot 0 is the worker), its
 * counter resumed at 1000 so the watermark needs no database, an epoll
 * instance, and the defaults of the configuration.
 */
static void
setup(void)
{
	config_init(&test_cfg);
	cfg = &test_cfg;
	hub_init();
	ephemeral_init();
	hub_set_self(hub_slot_claim(getpid()));
	hub_seq_start(1000);
	ck_assert_int_ne(epfd = epoll_create1(EPOLL_CLOEXEC), -1);
	poll_init(epfd);
	ended_init();
	nclients = 0;
	nexpired = 0;
}

START_TEST(test_heap_deadline_order)
{
	struct client	*c;
	int		 i, n = 1000, gone = 0, past = 0, seen[CLIENTS_MAX];

	/*
	 * Deadlines at random, most of them already past (a negative
	 * timeout: no waiting), the rest a minute or more away.  Parked in
	 * random order; then a third of the past ones go away before they
	 * expire, which takes them out of the middle of the heap.
	 */
	srandom(17);
	for (i = 0; i < n; i++) {
		if (random() % 4 != 0)
			c = client_parked(i + 1, POLL_USER, i + 1,
			    -1 - random() % 1000000);
		else
			c = client_parked(i + 1, POLL_USER, i + 1,
			    FUTURE_MS + random() % 3600000);
	}
	for (i = 0; i < n; i++) {
		c = &clients[i];
		if (c->poll->deadline <= clock_ms() && random() % 3 == 0) {
			poll_closed(c->poll);
			gone++;
		}
	}
	poll_reap();
	ck_assert_int_eq(poll_parked(), n - gone);

	poll_expire();
	memset(seen, 0, sizeof seen);
	for (i = 0; i < nexpired; i++) {
		c = &clients[expired_order[i]];
		ck_assert_msg(c->end.status == 200 && c->end.count == 1 &&
		    c->answers == 1, "poll %d: answered %d times, status %d",
		    expired_order[i], c->answers, c->end.status);
		if (i > 0)
			ck_assert_msg(c->deadline >=
			    clients[expired_order[i - 1]].deadline,
			    "poll %d expired after a later deadline",
			    expired_order[i]);
		seen[expired_order[i]] = 1;
	}
	/* Every poll past its deadline expired, and no other. */
	for (i = 0; i < n; i++) {
		c = &clients[i];
		if (c->end.status == 499)
			ck_assert(!seen[i]);
		else if (c->answer == ANSWER_EXPIRED)
			past++;
		else
			ck_assert_msg(c->end.req != NULL &&
			    c->end.req->waiting == REQUEST_PARKED,
			    "poll %d neither expired nor parked", i);
	}
	ck_assert_int_eq(past, nexpired);
	ck_assert_int_gt(nexpired, n / 3);
	ck_assert_int_eq(poll_parked(), n - gone - nexpired);
	/* The next deadline is the soonest of the rest: past the cap. */
	ck_assert_int_eq(poll_next_timeout(), 60000);
	poll_stop_all();
	ck_assert_int_eq(poll_parked(), 0);
	ck_assert_int_eq(poll_next_timeout(), -1);
}
END_TEST

START_TEST(test_heap_removal_keeps_order)
{
	struct client	*c;
	int		 i, n = 512, k;

	/* Deadlines falling as parked: each new one sifts up to the top. */
	for (i = 0; i < n; i++)
		client_parked(i + 1, POLL_USER, i + 1, -1 - 2 * i);
	/* Answer every third by its key (a wake), from the middle out. */
	for (i = n / 2, k = 0; k < n; k++, i = (i + 7) % n) {
		if (i % 3 != 0)
			continue;
		clients[i].answer_on_wake = 1;
		publish((struct hub_entry){ .user_id = i + 1 });
		ck_assert_int_eq(clients[i].answer, ANSWER_WOKEN);
	}
	poll_expire();
	ck_assert_int_eq(nexpired, n - (n + 2) / 3);
	for (i = 0; i < nexpired; i++) {
		c = &clients[expired_order[i]];
		ck_assert_int_ne(expired_order[i] % 3, 0);
		ck_assert_int_eq(c->answers, 1);
		if (i > 0)
			ck_assert_int_ge(c->deadline,
			    clients[expired_order[i - 1]].deadline);
	}
}
END_TEST

START_TEST(test_client_gone)
{
	struct epoll_event	 evs[8];
	struct client		*a, *b;
	int			 n;

	a = client_parked(1, POLL_CHANNEL, 11, 30000);
	b = client_parked(2, POLL_CHANNEL, 11, 30000);
	client_close(a);
	n = round_events(evs, 8);
	ck_assert_int_eq(n, 1);
	round_dispatch(evs, n);

	/* Dropped at once: ended 499, not answered, no longer parked. */
	ck_assert_int_eq(a->end.count, 1);
	ck_assert_int_eq(a->end.status, 499);
	ck_assert_int_eq(a->answers, 0);
	ck_assert_int_eq(poll_parked(), 1);
	/* Unlinked: an event of its channel reaches only b. */
	publish((struct hub_entry){ .server_id = 10, .channel_id = 11 });
	ck_assert_int_eq(b->woken, 1);
	ck_assert_int_eq(a->woken, 0);
	ck_assert_ptr_null(a->poll);
	ck_assert_int_eq(a->freed, 1);
	/* Once it is freed, its channel's events still reach b alone. */
	publish((struct hub_entry){ .server_id = 10, .channel_id = 11 });
	ck_assert_int_eq(b->woken, 2);
	ck_assert_int_eq(b->answers, 0);
}
END_TEST

START_TEST(test_freed_after_the_round)
{
	struct epoll_event	 evs[8];
	struct client		*a, *b;
	struct poll		*pb;
	int			 n;

	/*
	 * One round of the loop holds two events: the first answers b (a
	 * wake-up), the second is b's own connection closing.  The second
	 * still names b's poll, whose memory must outlive the round; it is
	 * dropped without a second ending.
	 */
	a = client_parked(1, POLL_DM, 31, 30000);
	b = client_parked(2, POLL_DM, 32, 30000);
	pb = b->poll;
	client_close(b);
	n = round_events(evs, 8);
	ck_assert_int_eq(n, 1);
	b->answer_on_wake = 1;
	hub_publish(&(struct hub_entry){ .seq = 7, .dm_channel_id = 32 }, 1);
	poll_woken();
	ck_assert_int_eq(b->end.count, 1);
	ck_assert_int_eq(b->end.status, 200);
	ck_assert_int_eq(b->freed, 0);
	ck_assert(pb->dead);
	round_dispatch(evs, n);
	ck_assert_int_eq(b->end.count, 1);
	ck_assert_int_eq(b->end.status, 200);
	ck_assert_int_eq(b->answers, 1);
	ck_assert_int_eq(b->freed, 0);
	poll_reap();
	ck_assert_int_eq(b->freed, 1);
	/* A poll closed twice in one round ends once. */
	client_close(a);
	n = round_events(evs, 8);
	ck_assert_int_eq(n, 1);
	round_dispatch(evs, n);
	round_dispatch(evs, n);
	ck_assert_int_eq(a->end.count, 1);
	ck_assert_int_eq(a->freed, 0);
	poll_reap();
	ck_assert_int_eq(a->freed, 1);
	ck_assert_int_eq(poll_parked(), 0);
}
END_TEST

#define BIG_BODY	100000	/* more than one record's 65,535 bytes */
#define HEAD_OF(extra)	"Status: 200 OK\r\nContent-Type: application/json; " \
			"charset=utf-8\r\nContent-Length: 100000\r\n" \
			"Cache-Control: no-store\r\n" extra "\r\n"

/*
 * Read what a client's connection got until it closed: the records'
 * bytes into a new buffer (*len).
 */
static unsigned char *
read_all(struct client *c, size_t *len)
{
	unsigned char	*buf = NULL;
	size_t		 size = 0;
	ssize_t		 n;

	*len = 0;
	do {
		if (*len == size) {
			size = size == 0 ? 65536 : size * 2;
			buf = xreallocarray(buf, size, 1);
		}
		n = read(c->peer, buf + *len, size - *len);
		ck_assert_int_ge(n, 0);
		*len += (size_t)n;
	} while (n > 0);
	return buf;
}

/*
 * Check FastCGI records (the specification, 3.3 and 5.5): stdout
 * records, each of at most 65,535 bytes and padded to 8, whose content
 * is want; one empty stdout record; the request's end, complete; nothing
 * after.  The number of stdout records with content.
 */
static int
expect_records(const unsigned char *b, size_t len, const char *want,
    size_t want_len)
{
	size_t	at = 0, got = 0, clen, plen;
	int	nrecords = 0;

	for (;;) {
		ck_assert_uint_le(at + 8, len);
		ck_assert_int_eq(b[at], 1);
		clen = (size_t)b[at + 4] << 8 | b[at + 5];
		plen = b[at + 6];
		ck_assert_uint_eq((clen + plen) % 8, 0);
		if (b[at + 1] != 6)
			break;
		at += 8;
		if (clen == 0)
			continue;
		ck_assert_uint_le(got + clen, want_len);
		ck_assert_msg(memcmp(b + at, want + got, clen) == 0,
		    "stdout differs after %zu bytes", got);
		got += clen;
		at += clen + plen;
		nrecords++;
	}
	ck_assert_uint_eq(got, want_len);
	/* The empty stdout record came just before the end. */
	ck_assert_int_eq(b[at - 8 + 1], 6);
	ck_assert_int_eq(b[at + 1], 3);
	ck_assert_uint_eq(clen, 8);
	ck_assert_int_eq(b[at + 8 + 4], 0);	/* FCGI_REQUEST_COMPLETE */
	ck_assert_uint_eq(at + 16, len);
	return nrecords;
}

/* The head and body a client of a big answer must get; free it. */
static char *
big_answer(const char *head, const char *body, size_t *len)
{
	char	*want;

	*len = strlen(head) + BIG_BODY;
	want = xmalloc(*len);
	memcpy(want, head, strlen(head));
	memcpy(want + strlen(head), body, BIG_BODY);
	return want;
}

/*
 * A parked poll gave libfcgi's buffers back: its answer comes as records
 * sohbetd frames itself, over 64 KB split in several; a shared answer
 * is the same bytes for each poll, and one with a header line of its
 * own gets that line too.
 */
START_TEST(test_released_answers_framed)
{
	struct response_shared	 sh;
	struct client		*c[4];
	unsigned char		*got[4];
	size_t			 len[4], want_len, own_len;
	char			*body, *want, *own;
	int			 i;

	body = xmalloc(BIG_BODY);
	for (i = 0; i < BIG_BODY; i++)
		body[i] = (char)('a' + i % 26);
	for (i = 0; i < 4; i++) {
		c[i] = client_parked((uint64_t)i + 1, POLL_CHANNEL, 11,
		    30000);
		ck_assert(c[i]->end.req->released);
		ck_assert_ptr_null(c[i]->end.req->fcgi.in);
		ck_assert_ptr_null(c[i]->end.req->fcgi.out);
	}
	response_raw(c[0]->end.req, 200, body, BIG_BODY);
	poll_done(c[0]->poll);
	response_header(c[3]->end.req, "X-Own: yes");
	response_shared_init(&sh, 200, body, BIG_BODY);
	for (i = 1; i < 4; i++) {
		response_shared_send(c[i]->end.req, &sh);
		poll_done(c[i]->poll);
	}
	response_shared_clear(&sh);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(c[i]->end.count, 1);
		ck_assert_int_eq(c[i]->end.status, 200);
		got[i] = read_all(c[i], &len[i]);
	}
	want = big_answer(HEAD_OF(""), body, &want_len);
	own = big_answer(HEAD_OF("X-Own: yes\r\n"), body, &own_len);
	ck_assert_int_eq(expect_records(got[0], len[0], want, want_len), 2);
	ck_assert_int_eq(expect_records(got[1], len[1], want, want_len), 2);
	ck_assert_int_eq(expect_records(got[3], len[3], own, own_len), 2);
	ck_assert_uint_eq(len[1], len[2]);
	ck_assert(memcmp(got[1], got[2], len[1]) == 0);
	for (i = 0; i < 4; i++)
		free(got[i]);
	free(want);
	free(own);
	free(body);
}
END_TEST

START_TEST(test_per_user_cap)
{
	struct client	*c[6], *other;
	int		 i;

	/* Three polls per user: a fourth answers the oldest as timed out. */
	test_cfg.max_parked_per_user = 3;
	for (i = 0; i < 3; i++)
		c[i] = client_parked(7, POLL_USER, 7, 30000);
	other = client_parked(8, POLL_USER, 8, 30000);
	c[3] = client_parked(7, POLL_USER, 7, 30000);
	ck_assert_int_eq(c[0]->answer, ANSWER_EXPIRED);
	ck_assert_int_eq(c[0]->end.count, 1);
	for (i = 1; i < 4; i++)
		ck_assert_int_eq(c[i]->answer, ANSWER_NONE);
	c[4] = client_parked(7, POLL_USER, 7, 30000);
	ck_assert_int_eq(c[1]->answer, ANSWER_EXPIRED);
	ck_assert_int_eq(c[2]->answer, ANSWER_NONE);
	/* A poll that ended meanwhile frees its place. */
	poll_closed(c[2]->poll);
	c[5] = client_parked(7, POLL_USER, 7, 30000);
	ck_assert_int_eq(c[3]->answer, ANSWER_NONE);
	ck_assert_int_eq(other->answer, ANSWER_NONE);
	ck_assert_int_eq(poll_parked(), 4);
	/* The user's three polls all still hear their events. */
	publish((struct hub_entry){ .user_id = 7 });
	ck_assert_int_eq(c[3]->woken + c[4]->woken + c[5]->woken, 3);
	ck_assert_int_eq(other->woken, 0);
}
END_TEST

START_TEST(test_worker_full)
{
	struct client	*c;

	test_cfg.max_parked = 2;
	client_parked(1, POLL_USER, 1, 30000);
	client_parked(2, POLL_USER, 2, 30000);
	c = client_new(3);
	ck_assert_int_eq(poll_park(c->poll, 30000), -1);
	ck_assert_int_eq(c->end.req->waiting, REQUEST_RUNNING);
	ck_assert_int_eq(poll_parked(), 2);
	/* Its handler answers it (busy) and the worker ends it. */
	poll_done(c->poll);
	c->end.req->status = 503;
	request_done(c->end.req);
	ck_assert_int_eq(c->end.count, 1);
	poll_reap();
	ck_assert_int_eq(c->freed, 1);
}
END_TEST

START_TEST(test_marking_by_keys)
{
	struct client	*cs[5];
	int		 i;

	/*
	 * Indexed as api-events.c and wait.c index theirs.  0: the events
	 * of user 1 (server 10, DM 31); 1: user 2 waits in channel 11 of
	 * server 10; 2: user 3 in channel 21 of server 20; 3: user 4 in DM
	 * 31; 4: the events of user 5 (server 20).
	 */
	cs[0] = client_new(1);
	poll_key(cs[0]->poll, POLL_USER, 1);
	poll_key(cs[0]->poll, POLL_SERVER, 10);
	poll_key(cs[0]->poll, POLL_DM, 31);
	cs[1] = client_new(2);
	poll_key(cs[1]->poll, POLL_CHANNEL, 11);
	poll_key(cs[1]->poll, POLL_ACCESS, 10);
	cs[2] = client_new(3);
	poll_key(cs[2]->poll, POLL_CHANNEL, 21);
	poll_key(cs[2]->poll, POLL_ACCESS, 20);
	cs[3] = client_new(4);
	poll_key(cs[3]->poll, POLL_DM, 31);
	cs[4] = client_new(5);
	poll_key(cs[4]->poll, POLL_USER, 5);
	poll_key(cs[4]->poll, POLL_SERVER, 20);
	for (i = 0; i < 5; i++)
		park(cs[i], 30000);

	publish((struct hub_entry){ .server_id = 10, .channel_id = 11,
	    .flags = HUB_MESSAGE });
	woken_expect("a message in channel 11", cs, 5, 0x03, 0);
	publish((struct hub_entry){ .dm_channel_id = 31,
	    .flags = HUB_MESSAGE });
	woken_expect("a message in DM 31", cs, 5, 0x09, 0);
	publish((struct hub_entry){ .user_id = 5 });
	woken_expect("an event for user 5", cs, 5, 0x10, 0);
	publish((struct hub_entry){ .server_id = 20, .channel_id = 21 });
	woken_expect("an event in channel 21", cs, 5, 0x14, 0);
	/* Ids of another kind's key match nothing. */
	publish((struct hub_entry){ .server_id = 30, .channel_id = 31,
	    .dm_channel_id = 11, .user_id = 3 });
	woken_expect("other kinds' ids", cs, 5, 0, 0);

	/* Access entries recheck the owner's, the channel's, the server's. */
	publish((struct hub_entry){ .server_id = 10, .user_id = 2,
	    .flags = HUB_ACCESS });
	woken_expect("user 2 kicked from server 10", cs, 5, 0x03, 0x02);
	publish((struct hub_entry){ .user_id = 1, .flags = HUB_ACCESS });
	woken_expect("user 1's tokens revoked", cs, 5, 0x01, 0x01);
	publish((struct hub_entry){ .server_id = 20, .flags = HUB_ACCESS });
	woken_expect("a role of server 20", cs, 5, 0x14, 0x04);
	publish((struct hub_entry){ .server_id = 10, .channel_id = 11,
	    .flags = HUB_ACCESS });
	woken_expect("channel 11's overwrites", cs, 5, 0x03, 0x02);
	publish((struct hub_entry){ .server_id = 10, .channel_id = 12,
	    .flags = HUB_ACCESS });
	woken_expect("channel 12's overwrites", cs, 5, 0x01, 0);
	publish((struct hub_entry){ .server_id = HUB_ANY,
	    .channel_id = HUB_ANY, .dm_channel_id = HUB_ANY,
	    .user_id = HUB_ANY });
	woken_expect("a wildcard", cs, 5, 0x1f, 0x1f);
	ck_assert_int_eq(poll_parked(), 5);
}
END_TEST

/*
 * An ephemeral event hints the polls of its server or DM of a kind that
 * takes hints, and no other; a poll its kind hurried is hinted no more,
 * whatever follows, and is answered at its new deadline; one that a
 * durable entry wakes in the same round is woken, not hinted.
 */
START_TEST(test_hints_gathered)
{
	struct client	*cs[5];
	long long	 before;
	int		 i;

	/*
	 * 0: /events of user 1 (server 10), hurried by a hint; 1: /events
	 * of user 2 (server 10, DM 31), answered by a hint; 2: user 3
	 * waits in channel 11 of server 10 and in DM 31, of the kind
	 * without hints; 3: /events of user 4 (server 20); 4: /events of
	 * user 5 (DM 31), hurried.
	 */
	cs[0] = client_new_of(1, &test_hinted_type);
	poll_key(cs[0]->poll, POLL_SERVER, 10);
	cs[0]->hurry_ms = 300;
	cs[1] = client_new_of(2, &test_hinted_type);
	poll_key(cs[1]->poll, POLL_SERVER, 10);
	poll_key(cs[1]->poll, POLL_DM, 31);
	cs[2] = client_new(3);
	poll_key(cs[2]->poll, POLL_CHANNEL, 11);
	poll_key(cs[2]->poll, POLL_ACCESS, 10);
	poll_key(cs[2]->poll, POLL_DM, 31);
	cs[3] = client_new_of(4, &test_hinted_type);
	poll_key(cs[3]->poll, POLL_SERVER, 20);
	cs[4] = client_new_of(5, &test_hinted_type);
	poll_key(cs[4]->poll, POLL_DM, 31);
	cs[4]->hurry_ms = 20000;
	for (i = 0; i < 5; i++)
		park(cs[i], 30000);

	before = clock_ms();
	publish_hint(10, 11, 0);
	ck_assert_int_eq(cs[0]->hinted, 1);
	ck_assert_int_eq(cs[1]->hinted, 1);
	ck_assert_int_eq(cs[1]->answer, ANSWER_WOKEN);
	ck_assert_int_eq(cs[2]->hinted + cs[2]->woken, 0);
	ck_assert_int_eq(cs[3]->hinted, 0);
	ck_assert_int_eq(cs[4]->hinted, 0);
	ck_assert(cs[0]->poll->hurried);
	ck_assert_int_le(cs[0]->poll->deadline, clock_ms() + 300);
	ck_assert_int_ge(cs[0]->poll->deadline, before + 300);
	ck_assert_int_eq(poll_next_timeout() <= 300, 1);

	/* A storm: the hurried poll is not hinted again. */
	for (i = 0; i < 50; i++)
		publish_hint(10, 11, 0);
	ck_assert_int_eq(cs[0]->hinted, 1);
	ck_assert_int_eq(cs[0]->answers, 0);
	ck_assert_int_eq(cs[2]->hinted + cs[2]->woken, 0);

	/* A DM's: its polls that take hints; hurrying never delays. */
	publish_hint(0, 0, 31);
	ck_assert_int_eq(cs[4]->hinted, 1);
	ck_assert_int_eq(cs[4]->poll->deadline > clock_ms() + 19000, 1);
	ck_assert_int_eq(cs[4]->poll->deadline <= before + 30000, 1);
	ck_assert_int_eq(cs[2]->hinted + cs[2]->woken, 0);

	/* A durable entry and a hint in one round: woken, not hinted. */
	cs[3]->hurry_ms = 1000;
	ck_assert_int_eq(ephemeral_publish(&(struct ephemeral){
	    .kind = EPHEMERAL_TYPING, .user_id = 99, .server_id = 20,
	    .channel_id = 21 }, 0), 1);
	publish((struct hub_entry){ .server_id = 20, .channel_id = 21,
	    .flags = HUB_MESSAGE });
	ck_assert_int_eq(cs[3]->woken, 1);
	ck_assert_int_eq(cs[3]->hinted, 0);

	/* The hurried poll is answered at its new deadline, once. */
	while (cs[0]->answers == 0 && clock_ms() < before + 5000) {
		usleep(20000);
		poll_expire();
		poll_reap();
	}
	ck_assert_int_eq(cs[0]->answer, ANSWER_EXPIRED);
	ck_assert_int_lt(clock_ms(), before + 5000);
	ck_assert_int_eq(cs[0]->answers, 1);
	ck_assert_int_eq(cs[4]->answers, 0);
	ck_assert_int_eq(poll_parked(), 3);
}
END_TEST

/*
 * A hint to many polls at once hurries them over many milliseconds,
 * POLL_HURRIED_PER_MS in each, so that answers carrying only
 * hints go out at a pace the box keeps up with; each is answered once.
 * A poll hurried to a later moment before does not delay them.
 */
START_TEST(test_hurried_spread)
{
	struct client	*c, *later;
	long long	 first = 0, last = 0, d;
	int		 i, j, n = 240, same, most = 0;

	later = client_new_of(1000, &test_hinted_type);
	poll_key(later->poll, POLL_DM, 40);
	later->hurry_ms = 10000;
	park(later, 30000);
	publish_hint(0, 0, 40);
	ck_assert_int_eq(later->hinted, 1);
	for (i = 1; i <= n; i++) {
		c = client_new_of(i + 1, &test_hinted_type);
		poll_key(c->poll, POLL_SERVER, 10);
		c->hurry_ms = 1;
		park(c, 30000);
	}
	publish_hint(10, 11, 0);
	for (i = 1; i <= n; i++) {
		ck_assert_int_eq(clients[i].hinted, 1);
		d = clients[i].poll->deadline;
		first = first == 0 || d < first ? d : first;
		last = d > last ? d : last;
		for (same = 0, j = 1; j <= n; j++)
			same += clients[j].poll->deadline == d;
		most = same > most ? same : most;
	}
	ck_assert_int_le(most, POLL_HURRIED_PER_MS);
	ck_assert_int_ge(last - first, n / POLL_HURRIED_PER_MS - 1);
	ck_assert_int_lt(last, clock_ms() + 1000);
	while (poll_parked() > 1 && clock_ms() < last + 5000) {
		usleep(1000);
		poll_expire();
		poll_reap();
	}
	for (i = 1; i <= n; i++)
		ck_assert_int_eq(clients[i].answers, 1);
	ck_assert_int_eq(later->answers, 0);
}
END_TEST

/*
 * A message answers the hurried polls of a storm before their turns
 * (poll.c's poll_hurry_hand_back()): they hand the turns back, so that
 * the polls that follow, hurried to the same moment, take those turns
 * rather than queueing behind the answers already given.
 */
START_TEST(test_hurried_turns_handed_back)
{
	struct client	*c;
	long long	 at = clock_ms() + 20000, first = 0, last = 0, d;
	int		 i, n = 400;

	for (i = 0; i < 2 * n; i++) {
		c = client_new_of(i + 1, &test_hinted_type);
		poll_key(c->poll, POLL_SERVER, 10);
		c->hurry_at = at;
		c->answer_on_wake = 1;
		if (i < n)
			park(c, 30000);
	}
	publish_hint(10, 11, 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(clients[i].poll->deadline,
		    at + i / POLL_HURRIED_PER_MS);

	/* The message: every hurried poll answered at once, with it. */
	publish((struct hub_entry){ .server_id = 10, .channel_id = 11,
	    .flags = HUB_MESSAGE });
	for (i = 0; i < n; i++)
		ck_assert_int_eq(clients[i].answer, ANSWER_WOKEN);
	ck_assert_int_eq(poll_parked(), 0);

	/* Their next polls, hurried to the same moment: the same turns. */
	for (i = n; i < 2 * n; i++)
		park(&clients[i], 30000);
	publish_hint(10, 11, 0);
	for (i = n; i < 2 * n; i++) {
		ck_assert_int_eq(clients[i].hinted, 1);
		d = clients[i].poll->deadline;
		first = first == 0 || d < first ? d : first;
		last = d > last ? d : last;
	}
	ck_assert_int_eq(first, at);
	ck_assert_int_eq(last, at + (n - 1) / POLL_HURRIED_PER_MS);
}
END_TEST

/*
 * A hurried poll answered at its turn keeps it: the polls hurried to the
 * same millisecond afterwards go to the next one, never more than
 * POLL_HURRIED_PER_MS in one.
 */
START_TEST(test_hurried_turn_kept)
{
	struct client	*c;
	long long	 at = clock_ms();
	int		 i, per = POLL_HURRIED_PER_MS;

	for (i = 0; i < 2 * per; i++) {
		c = client_new_of(i + 1, &test_hinted_type);
		poll_key(c->poll, POLL_SERVER, 10);
		c->hurry_at = at;
		if (i < per)
			park(c, 30000);
	}
	publish_hint(10, 11, 0);
	poll_expire();
	poll_reap();
	for (i = 0; i < per; i++)
		ck_assert_int_eq(clients[i].answer, ANSWER_EXPIRED);
	for (i = per; i < 2 * per; i++)
		park(&clients[i], 30000);
	publish_hint(10, 11, 0);
	for (i = per; i < 2 * per; i++)
		ck_assert_int_eq(clients[i].poll->deadline, at + 1);
}
END_TEST

START_TEST(test_recheck_answers)
{
	struct client	*keep, *gone;

	/* A recheck that finds access gone answers 404, and no wake follows. */
	keep = client_parked(2, POLL_CHANNEL, 11, 30000);
	gone = client_parked(3, POLL_CHANNEL, 11, 30000);
	gone->revoked = 1;
	publish((struct hub_entry){ .server_id = 10, .channel_id = 11,
	    .flags = HUB_ACCESS });
	ck_assert_int_eq(gone->answer, ANSWER_REVOKED);
	ck_assert_int_eq(gone->end.status, 404);
	ck_assert_int_eq(gone->woken, 0);
	ck_assert_int_eq(gone->end.count, 1);
	ck_assert_int_eq(keep->rechecked, 1);
	ck_assert_int_eq(keep->woken, 1);
	ck_assert_int_eq(poll_parked(), 1);
}
END_TEST

START_TEST(test_waits_for_the_watermark)
{
	struct client	*w, *x;
	int		 self = hub_self(), other;

	/*
	 * Another worker drew 1001 and has not committed; this one drew
	 * 1002, committed and published it.  A poll must not hear of 1002
	 * before 1001 is finished, or a client moving its cursor past
	 * 1002 would skip 1001 for ever.
	 */
	w = client_parked(2, POLL_CHANNEL, 11, 30000);
	x = client_parked(3, POLL_CHANNEL, 21, 30000);
	other = hub_slot_claim(getpid());
	hub_set_self(other);
	ck_assert_uint_eq(hub_seq_draw(), 1001);
	hub_set_self(self);
	ck_assert_uint_eq(hub_seq_draw(), 1002);
	hub_seq_finish(self);
	hub_publish(&(struct hub_entry){ .seq = 1002, .channel_id = 11 }, 1);
	poll_woken();
	ck_assert_int_eq(w->woken, 0);
	ck_assert_uint_eq(poll_sync(), 1000);
	ck_assert_int_eq(w->woken, 0);
	/* 1001 commits: both wake, each once. */
	hub_seq_finish(other);
	hub_publish(&(struct hub_entry){ .seq = 1001, .channel_id = 21 }, 1);
	poll_woken();
	ck_assert_int_eq(w->woken, 1);
	ck_assert_int_eq(x->woken, 1);
	poll_woken();
	ck_assert_int_eq(w->woken, 1);
}
END_TEST

START_TEST(test_fell_behind_wakes_all)
{
	struct hub_entry	 e = { .user_id = 999 };
	struct client		*cs[3];
	int			 i;

	/* More entries than the ring holds, none of them for these polls. */
	cs[0] = client_parked(1, POLL_CHANNEL, 11, 30000);
	cs[1] = client_parked(2, POLL_DM, 31, 30000);
	cs[2] = client_parked(3, POLL_USER, 3, 30000);
	for (i = 0; i < HUB_RING + 1; i++) {
		e.seq = 101 + (uint64_t)i % 800;
		hub_publish(&e, 1);
	}
	poll_woken();
	/* Every poll reads again, after a recheck: slow, never wrong. */
	woken_expect("fell behind", cs, 3, 0x07, 0x07);
	/* Caught up: the next entry wakes only its own. */
	publish((struct hub_entry){ .dm_channel_id = 31 });
	woken_expect("caught up", cs, 3, 0x02, 0);
}
END_TEST

START_TEST(test_stop_all)
{
	struct client	*c;
	int		 i;

	for (i = 0; i < 5; i++)
		client_parked(i + 1, POLL_USER, i + 1, 30000 + i);
	poll_stop_all();
	ck_assert_int_eq(poll_parked(), 0);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(clients[i].answer, ANSWER_EXPIRED);
		ck_assert_int_eq(clients[i].end.count, 1);
		ck_assert_int_eq(clients[i].end.status, 200);
	}
	/* Parked after that: answered at once, its handler's to end. */
	c = client_new(9);
	poll_key(c->poll, POLL_USER, 9);
	ck_assert_int_eq(poll_park(c->poll, 30000), 0);
	ck_assert_int_eq(c->answer, ANSWER_EXPIRED);
	ck_assert_int_eq(c->end.req->waiting, REQUEST_RUNNING);
	ck_assert_int_eq(c->end.count, 0);
	ck_assert_int_eq(poll_parked(), 0);
	request_done(c->end.req);
	ck_assert_int_eq(c->end.count, 1);
	ck_assert_int_eq(poll_next_timeout(), -1);
	poll_reap();
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(clients[i].freed, 1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("poll");
	TCase	*tc = tcase_create("poll");

	log_init("check_poll", 0);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_heap_deadline_order);
	tcase_add_test(tc, test_heap_removal_keeps_order);
	tcase_add_test(tc, test_client_gone);
	tcase_add_test(tc, test_freed_after_the_round);
	tcase_add_test(tc, test_released_answers_framed);
	tcase_add_test(tc, test_per_user_cap);
	tcase_add_test(tc, test_worker_full);
	tcase_add_test(tc, test_marking_by_keys);
	tcase_add_test(tc, test_hints_gathered);
	tcase_add_test(tc, test_hurried_spread);
	tcase_add_test(tc, test_hurried_turns_handed_back);
	tcase_add_test(tc, test_hurried_turn_kept);
	tcase_add_test(tc, test_recheck_answers);
	tcase_add_test(tc, test_waits_for_the_watermark);
	tcase_add_test(tc, test_fell_behind_wakes_all);
	tcase_add_test(tc, test_stop_all);
	suite_add_tcase(s, tc);
	return check_run(s);
}
