/* SPDX-License-Identifier: ISC */
/*
 * throttle.c: slowing down password guessing without locking anyone out.
 * Failed sign-ins are counted per (client address, login) and per client
 * address; once a count passes its free allowance, the next attempt from
 * there must wait 1 second, then 2, 4, ... up to login_delay_max, and is
 * answered 429 until then.  A count forgets one failure every
 * login_decay (address_decay) seconds, and a successful sign-in clears
 * the (address, login) count.  So a stranger guessing from elsewhere
 * slows only themselves: the owner, from an address that has not been
 * guessing, signs in at once.
 *
 * The login is the string the client sent, lowercased, not the account
 * it names: an unknown login is counted, delayed and answered exactly as
 * a known one, so a 429 tells nothing about whether an account exists.
 * An attacker who rotates addresses is slowed per (address, login); one
 * who tries many logins from one address, by the address's count.
 *
 * The counts live in memory shared by the workers of this host (mapped
 * by the master before the first fork, like the hub), in a fixed table:
 * a key is a keyed hash of what it counts, placed in one of a few slots
 * near its hash; a new key takes an empty or forgotten slot there, else
 * the one whose count is lowest, so the counts that hold attackers back
 * are the last to go.  Several app hosts count separately.
 */
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "sohbet.h"

#define THROTTLE_SLOTS		16384
#define THROTTLE_PROBE		8	/* slots a key may take */
#define THROTTLE_ADDR_MAX	64	/* bytes of an address that count */
#define THROTTLE_LOGIN_MAX	254	/* bytes of a login that count */

struct throttle_entry {
	uint64_t	 key;		/* 0: free */
	double		 failures;	/* as of updated_ms */
	long long	 updated_ms;
	long long	 until_ms;	/* no attempt before this */
};

struct throttle_table {
	pthread_mutex_t		 lock;
	unsigned char		 secret[32];	/* keys the hash */
	struct throttle_entry	 entries[THROTTLE_SLOTS];
};

/* What a count is kept for. */
struct throttle_kind {
	char		 tag;		/* 'L': address and login, 'A': address */
	int		 free;		/* failures before the delays */
	int		 decay;		/* seconds to forget one */
};

static struct throttle_table	*throttle;

/* Map the shared table; the master calls it before forking workers. */
void
throttle_init(void)
{
	throttle = hub_shared(sizeof *throttle);
	hub_mutex_init(&throttle->lock);
	if (RAND_bytes(throttle->secret, sizeof throttle->secret) != 1)
		fatalx("throttle: RAND_bytes failed");
}

/* The counts of a kind, from the configuration. */
static void
throttle_kind(char tag, struct throttle_kind *k)
{
	k->tag = tag;
	k->free = tag == 'L' ? cfg->login_free : cfg->address_free;
	k->decay = tag == 'L' ? cfg->login_decay : cfg->address_decay;
}

/*
 * The key of a count: the table's secret, the kind, the address and
 * (kind 'L') the login lowercased, hashed.  Never 0.
 */
static uint64_t
throttle_key(char tag, const char *addr, const char *login)
{
	unsigned char	buf[sizeof throttle->secret + 1 + THROTTLE_ADDR_MAX +
			    1 + THROTTLE_LOGIN_MAX];
	unsigned char	d[SHA256_DIGEST_LENGTH];
	uint64_t	key;
	size_t		n = 0, i;

	memcpy(buf, throttle->secret, sizeof throttle->secret);
	n += sizeof throttle->secret;
	buf[n++] = (unsigned char)tag;
	for (i = 0; addr[i] != '\0' && i < THROTTLE_ADDR_MAX; i++)
		buf[n++] = (unsigned char)addr[i];
	buf[n++] = '\0';
	for (i = 0; tag == 'L' && login[i] != '\0' &&
	    i < THROTTLE_LOGIN_MAX; i++)
		buf[n++] = (unsigned char)tolower((unsigned char)login[i]);
	SHA256(buf, n, d);
	memcpy(&key, d, sizeof key);
	return key != 0 ? key : 1;
}

/* An entry's failures as of now, after what it forgot. */
static double
throttle_failures(const struct throttle_entry *e, const struct throttle_kind *k,
    long long now)
{
	double	f;

	if (e->key == 0)
		return 0;
	f = e->failures - (double)(now - e->updated_ms) / (1000.0 * k->decay);
	return f > 0 ? f : 0;
}

/*
 * The entry of a key; with create, a slot is taken for it if it has none
 * (see the file's comment).  NULL when absent.  Under the lock.
 */
static struct throttle_entry *
throttle_find(uint64_t key, const struct throttle_kind *k, long long now,
    int create)
{
	struct throttle_entry	*e, *victim = NULL;
	double			 f, lowest = HUGE_VAL;
	size_t			 i;

	for (i = 0; i < THROTTLE_PROBE; i++) {
		e = &throttle->entries[(key + i) % THROTTLE_SLOTS];
		if (e->key == key)
			return e;
		/* Kinds decay alike enough to compare their counts here. */
		f = e->until_ms > now ? HUGE_VAL / 2 :
		    throttle_failures(e, k, now);
		if (f < lowest) {
			lowest = f;
			victim = e;
		}
	}
	if (!create || victim == NULL)
		return NULL;
	memset(victim, 0, sizeof *victim);
	victim->key = key;
	victim->updated_ms = now;
	return victim;
}

/* Milliseconds until a count lets the next attempt through, or 0. */
static long long
throttle_wait_one(char tag, const char *addr, const char *login,
    long long now)
{
	struct throttle_kind	 k;
	struct throttle_entry	*e;

	throttle_kind(tag, &k);
	e = throttle_find(throttle_key(tag, addr, login), &k, now, 0);
	return e != NULL && e->until_ms > now ? e->until_ms - now : 0;
}

/*
 * Whether a sign-in for login from addr must wait: 0, or the seconds
 * to wait (at least 1) before the next attempt.
 */
long long
throttle_check(const char *addr, const char *login)
{
	long long	now = clock_ms(), a, l;

	if (throttle == NULL)
		return 0;
	hub_mutex_lock(&throttle->lock);
	l = throttle_wait_one('L', addr, login, now);
	a = throttle_wait_one('A', addr, login, now);
	pthread_mutex_unlock(&throttle->lock);
	if (a > l)
		l = a;
	return l > 0 ? (l + 999) / 1000 : 0;
}

/* Count one failure under a key and set its delay. */
static void
throttle_count(char tag, const char *addr, const char *login, long long now)
{
	struct throttle_kind	 k;
	struct throttle_entry	*e;
	double			 f;
	long long		 delay_ms;
	int			 over;

	throttle_kind(tag, &k);
	e = throttle_find(throttle_key(tag, addr, login), &k, now, 1);
	f = throttle_failures(e, &k, now) + 1;
	e->failures = f;
	e->updated_ms = now;
	/* The free-th failure costs 1 s, each one after it twice more. */
	over = (int)ceil(f - 0.001) - k.free;
	if (over < 0)
		return;
	delay_ms = over >= 20 ? (long long)cfg->login_delay_max * 1000 :
	    1000LL << over;
	if (delay_ms > (long long)cfg->login_delay_max * 1000)
		delay_ms = (long long)cfg->login_delay_max * 1000;
	e->until_ms = now + delay_ms;
}

/* Count a failed sign-in (or current password) for login from addr. */
void
throttle_failed(const char *addr, const char *login)
{
	long long	now = clock_ms();

	if (throttle == NULL)
		return;
	hub_mutex_lock(&throttle->lock);
	throttle_count('L', addr, login, now);
	throttle_count('A', addr, login, now);
	pthread_mutex_unlock(&throttle->lock);
}

/* A sign-in for login from addr succeeded: forget that pair's failures. */
void
throttle_succeeded(const char *addr, const char *login)
{
	struct throttle_kind	 k;
	struct throttle_entry	*e;
	long long		 now = clock_ms();

	if (throttle == NULL)
		return;
	throttle_kind('L', &k);
	hub_mutex_lock(&throttle->lock);
	if ((e = throttle_find(throttle_key('L', addr, login), &k, now,
	    0)) != NULL)
		memset(e, 0, sizeof *e);
	pthread_mutex_unlock(&throttle->lock);
}

/* The client address of a request ("" when the server gave none). */
const char *
throttle_address(struct request *req)
{
	const char	*addr;

	addr = request_param(req, "REMOTE_ADDR");
	return addr != NULL ? addr : "";
}
