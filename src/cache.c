/* SPDX-License-Identifier: ISC */
/*
 * cache.c: what a worker keeps of the database between requests: each
 * user's token generation and name (auth.c), and each member's standing
 * in the conversations they open (channels.c, api-dms.c); history.c keeps
 * the newest messages of conversations on the same terms.
 *
 * Every change made through the API reaches every worker of the host as a
 * hub entry before its writer is answered (events.c), and every request
 * first reads the entries that arrived (poll_sync() in router.c), so no
 * request is ever served from a cache older than a change already
 * answered.  An entry is applied twice: when it is read, and again when
 * the sequencer's watermark passes it, since a page read in between may
 * not yet show its change.  cache_ms bounds how long a change made behind
 * sohbetd's back (by hand in the database) can go unseen.
 *
 * Caching needs every change to pass through this host's hub: it is on
 * with the shared-memory sequencer and no cluster watcher only.  Several
 * hosts on one database would learn of each other's changes a watcher
 * interval late.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define CACHE_USER_SLOTS	4096	/* powers of two */
#define CACHE_STANDING_SLOTS	16384

struct cache_user {
	uint64_t	 id;		/* 0: empty */
	unsigned int	 generation;
	long long	 filled_ms;
	char		 username[USERNAME_SIZE];
};

struct cache_standing {
	uint64_t	 user_id;	/* 0: empty */
	uint64_t	 conversation;	/* channel or DM channel id */
	int		 kind;		/* CACHE_CHANNEL, CACHE_DM */
	long long	 filled_ms;
	uint64_t	 server_id;	/* a channel's */
	struct member	 member;	/* the user's standing there */
};

static struct cache_user	*cache_users;
static struct cache_standing	*cache_standings;

/* Whether this worker caches at all (see the top of the file). */
int
cache_on(void)
{
	return cfg->cache_ms > 0 && sequencer_local() &&
	    cfg->cluster_poll_ms == 0;
}

/* A slot index for a key in a table of size slots (a power of two). */
static size_t
cache_slot(uint64_t a, uint64_t b, size_t size)
{
	uint64_t	h;

	h = (a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xc2b2ae3d27d4eb4fULL);
	return (size_t)(h >> 32) & (size - 1);
}

/* Whether something filled at filled_ms may still be used. */
int
cache_fresh(long long filled_ms)
{
	return clock_ms() - filled_ms < cfg->cache_ms;
}

/*
 * Look a user up: 1 with their token generation and name copied out (the
 * name into USERNAME_SIZE bytes), 0 when not cached.
 */
int
cache_user_get(uint64_t id, unsigned int *generation, char *username)
{
	struct cache_user	*u;

	if (!cache_on())
		return 0;
	u = cache_users != NULL ?
	    &cache_users[cache_slot(id, 0, CACHE_USER_SLOTS)] : NULL;
	if (u == NULL || u->id != id || !cache_fresh(u->filled_ms)) {
		metrics_cache(CACHE_USERS, 0);
		return 0;
	}
	metrics_cache(CACHE_USERS, 1);
	*generation = u->generation;
	memcpy(username, u->username, sizeof u->username);
	return 1;
}

/* Remember a user's token generation and name, as just read. */
void
cache_user_put(uint64_t id, unsigned int generation, const char *username)
{
	struct cache_user	*u;

	if (!cache_on())
		return;
	if (cache_users == NULL)
		cache_users = xcalloc(CACHE_USER_SLOTS, sizeof *cache_users);
	u = &cache_users[cache_slot(id, 0, CACHE_USER_SLOTS)];
	u->id = id;
	u->generation = generation;
	u->filled_ms = clock_ms();
	strncpy(u->username, username, sizeof u->username - 1);
	u->username[sizeof u->username - 1] = '\0';
}

/*
 * Look up a user's standing in a conversation (a channel: its server's id
 * and the member; a DM: that they take part): 1 found, 0 not cached.
 */
int
cache_standing_get(uint64_t user_id, int kind, uint64_t conversation,
    uint64_t *server_id, struct member *m)
{
	struct cache_standing	*s;

	if (!cache_on())
		return 0;
	s = cache_standings != NULL ? &cache_standings[cache_slot(user_id,
	    conversation, CACHE_STANDING_SLOTS)] : NULL;
	if (s == NULL || s->user_id != user_id ||
	    s->conversation != conversation || s->kind != kind ||
	    !cache_fresh(s->filled_ms)) {
		metrics_cache(CACHE_STANDINGS, 0);
		return 0;
	}
	metrics_cache(CACHE_STANDINGS, 1);
	if (server_id != NULL)
		*server_id = s->server_id;
	if (m != NULL)
		*m = s->member;
	return 1;
}

/* Remember a user's standing in a conversation, as just read. */
void
cache_standing_put(uint64_t user_id, int kind, uint64_t conversation,
    uint64_t server_id, const struct member *m)
{
	struct cache_standing	*s;

	if (!cache_on())
		return;
	if (cache_standings == NULL)
		cache_standings = xcalloc(CACHE_STANDING_SLOTS,
		    sizeof *cache_standings);
	s = &cache_standings[cache_slot(user_id, conversation,
	    CACHE_STANDING_SLOTS)];
	memset(s, 0, sizeof *s);
	s->user_id = user_id;
	s->kind = kind;
	s->conversation = conversation;
	s->server_id = server_id;
	if (m != NULL)
		s->member = *m;
	s->filled_ms = clock_ms();
}

/*
 * Forget the standings in a server's channels (server_id, or 0) and those
 * of a user (user_id, or 0).
 */
static void
cache_forget_standings(uint64_t server_id, uint64_t user_id)
{
	struct cache_standing	*s;
	size_t			 i;

	if (cache_standings == NULL)
		return;
	for (i = 0; i < CACHE_STANDING_SLOTS; i++) {
		s = &cache_standings[i];
		if ((server_id != 0 && s->kind == CACHE_CHANNEL &&
		    s->server_id == server_id) ||
		    (user_id != 0 && s->user_id == user_id))
			s->user_id = 0;
	}
}

/* Forget the users and standings this worker cached. */
void
cache_forget_all(void)
{
	if (cache_users != NULL)
		memset(cache_users, 0, CACHE_USER_SLOTS * sizeof *cache_users);
	if (cache_standings != NULL)
		memset(cache_standings, 0,
		    CACHE_STANDING_SLOTS * sizeof *cache_standings);
}

/*
 * Forget the users and standings a hub entry may have changed (the pages
 * of history go by history_forget_entry()).  A message event changes
 * neither.  A user's change drops the user.  Any other event (membership,
 * roles, channels, servers) may change who sees what in its server, or
 * for its user (server.delete is scoped to each former member alone):
 * those standings go.
 */
void
cache_forget(const struct hub_entry *e)
{
	if (e->server_id == HUB_ANY) {
		cache_forget_all();
		return;
	}
	if (e->flags & HUB_USER) {
		if (cache_users != NULL)
			cache_users[cache_slot(e->user_id, 0,
			    CACHE_USER_SLOTS)].id = 0;
		return;
	}
	if (!(e->flags & HUB_MESSAGE))
		cache_forget_standings(e->server_id, e->user_id);
}
