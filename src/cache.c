/* SPDX-License-Identifier: ISC */
/*
 * cache.c: what a worker keeps of the database between requests: each
 * user's token generation and name (auth.c, which reads those looked up
 * lately again in bulk before they expire), each member's standing in
 * the conversations they open (channels.c, api-dms.c), the roles of
 * the servers whose messages mention roles (mentions.c), and each user's
 * scope of /events, their servers, roles there and DMs (api-events.c:
 * a client polls again after every answer); history.c keeps
 * the newest messages of conversations on the same terms.
 *
 * Every change made through the API reaches every worker of the host as a
 * hub entry before its writer is answered (events.c), and every request
 * first reads the entries that arrived (poll_sync() in router.c), so no
 * request is ever served from a cache older than a change already
 * answered.  An entry is applied twice: when it is read, and again when
 * the sequencer's watermark passes it, since a page read in between may
 * not yet show its change.  cache_ms bounds how long a change made behind
 * sohbetd's back (by hand in the database) can go unseen; 30 s for the
 * scopes that every /events poll needs (CACHE_KEPT_MS).
 *
 * Caching needs every change to pass through this host's hub: it is on
 * with the shared-memory sequencer and no cluster watcher only.  Several
 * hosts on one database would learn of each other's changes a watcher
 * interval late.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define CACHE_USER_SLOTS	32768	/* powers of two */
/*
 * How long after its last lookup a user's token generation is still
 * read again in bulk (cache_users_due()): a client polls again when its
 * /events poll is answered, 60 s after it parked at the latest, and on
 * either worker.
 */
#define CACHE_USER_LIVE_MS	(120 * 1000)
#define CACHE_STANDING_SLOTS	16384
#define CACHE_ROLE_SLOTS	256
#define CACHE_SCOPE_SLOTS	32768
/*
 * Users and scopes are kept in groups of CACHE_WAYS slots: a user may
 * take any slot of their group, and a new one takes the slot of the
 * group looked up longest ago.  With one slot a user, 9,000 clients of
 * a busy channel (every one on either worker) shared slots two by two
 * (4,096 users, 16,384 scopes), and each poll of such a pair threw the
 * other out: the users cache hit 0.2-6 % of lookups, the scopes about
 * half, and every miss cost statements (issue 22).
 */
#define CACHE_WAYS		4
/*
 * How long a scope of /events is kept (at least cache_ms).  Every poll
 * needs one, and a client polls again after every answer: kept cache_ms
 * (1 s), each of 9,000 clients of a busy channel read its servers,
 * roles and DMs (two statements) again every second, and with typing
 * hints answered every 0.5 s that made the hints late (issue 22: p99
 * 1.8-2.8 s).  A scope cannot go stale unseen while kept: every change
 * of it made through the API (a join, a leave or kick, a role given or
 * taken, a role's permissions, a DM made, a server deleted) drops it by
 * its hub entry before its writer is answered (cache_forget()), as
 * readstate.c's lists are kept 30 s on the same terms.  What is left to
 * the lifetime is a membership changed by hand in the database.  Token
 * generations stay cache_ms: an account deleted by hand must lose its
 * tokens within it (API.md).
 */
#define CACHE_KEPT_MS		(30 * 1000)

/* What a slot of a group (CACHE_WAYS) starts with. */
struct cache_way {
	uint64_t	 id;		/* the user's; 0: empty */
	long long	 used_ms;	/* its last lookup (or fill) */
};

struct cache_user {
	struct cache_way way;
	unsigned int	 generation;
	long long	 filled_ms;
	char		*username;
};

struct cache_standing {
	uint64_t	 user_id;	/* 0: empty */
	uint64_t	 conversation;	/* channel or DM channel id */
	int		 kind;		/* CACHE_CHANNEL, CACHE_DM */
	long long	 filled_ms;
	uint64_t	 server_id;	/* a channel's */
	struct member	 member;	/* the user's standing there */
};

/* The roles of a server, its default role left out. */
struct cache_roles {
	uint64_t	 server_id;	/* 0: empty */
	long long	 filled_ms;
	size_t		 n;
	uint64_t	 ids[CACHE_ROLES_MAX];
};

/* A user's scope of /events. */
struct cache_scope {
	struct cache_way way;
	long long	 filled_ms;
	struct scope	 scope;
};

static struct cache_user	*cache_users;
static struct cache_standing	*cache_standings;
static struct cache_roles	*cache_roles;
static struct cache_scope	*cache_scopes;

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

/* Whether a scope filled at filled_ms may still be used (CACHE_KEPT_MS). */
static int
cache_kept(long long filled_ms)
{
	return clock_ms() - filled_ms < (cfg->cache_ms > CACHE_KEPT_MS ?
	    cfg->cache_ms : CACHE_KEPT_MS);
}

/*
 * The slot of a table of slots (each size bytes, starting with a struct
 * cache_way) that holds a user: in their group (CACHE_WAYS slots), or
 * NULL.  With pick, a slot to put them in when none does: an empty one
 * of the group, or the one looked up longest ago (to be emptied).
 */
static struct cache_way *
cache_way(void *table, size_t slots, size_t size, uint64_t id, int pick)
{
	struct cache_way	*w, *victim = NULL;
	char			*group;
	size_t			 i;

	if (table == NULL)
		return NULL;
	group = (char *)table + cache_slot(id, 0, slots / CACHE_WAYS) *
	    CACHE_WAYS * size;
	for (i = 0; i < CACHE_WAYS; i++) {
		w = (struct cache_way *)(void *)(group + i * size);
		if (w->id == id)
			return w;
		if (victim == NULL || (victim->id != 0 && (w->id == 0 ||
		    w->used_ms < victim->used_ms)))
			victim = w;
	}
	return pick ? victim : NULL;
}

/* The slot that holds a user, or NULL. */
static struct cache_user *
cache_user_find(uint64_t id)
{
	return (struct cache_user *)(void *)cache_way(cache_users,
	    CACHE_USER_SLOTS, sizeof *cache_users, id, 0);
}

/* Empty a user's slot. */
static void
cache_user_drop(struct cache_user *u)
{
	u->way.id = 0;
	free(u->username);
	u->username = NULL;
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
	if ((u = cache_user_find(id)) == NULL || !cache_fresh(u->filled_ms)) {
		metrics_cache(CACHE_USERS, 0);
		return 0;
	}
	metrics_cache(CACHE_USERS, 1);
	u->way.used_ms = clock_ms();
	*generation = u->generation;
	strcpy(username, u->username);
	return 1;
}

/* Set a slot's generation and name, as read at filled_ms. */
static void
cache_user_fill(struct cache_user *u, unsigned int generation,
    const char *username, long long filled_ms)
{
	char	*name;

	u->generation = generation;
	u->filled_ms = filled_ms;
	if (u->username == NULL || strcmp(u->username, username) != 0) {
		name = xstrndup(username, strnlen(username,
		    USERNAME_SIZE - 1));
		free(u->username);
		u->username = name;
	}
}

/*
 * Remember a user's token generation and name, as just read: in their
 * slot, an empty one of their group, or the one of the group looked up
 * longest ago.
 */
void
cache_user_put(uint64_t id, unsigned int generation, const char *username)
{
	struct cache_user	*u;

	if (!cache_on())
		return;
	if (cache_users == NULL)
		cache_users = xcalloc(CACHE_USER_SLOTS, sizeof *cache_users);
	u = (struct cache_user *)(void *)cache_way(cache_users,
	    CACHE_USER_SLOTS, sizeof *cache_users, id, 1);
	if (u->way.id != id) {
		if (u->way.id != 0)
			cache_user_drop(u);
		u->way.id = id;
	}
	u->way.used_ms = clock_ms();
	cache_user_fill(u, generation, username, u->way.used_ms);
}

/*
 * Up to max users whose generations are due to be read again, into ids
 * (with the time their read starts, now): looked up within
 * CACHE_USER_LIVE_MS and read more than three quarters of cache_ms ago.
 * Read again in bulk (auth.c) at most every quarter of cache_ms, each
 * such user is found fresh by their next request: 9,000 clients polling
 * every second or two cost a worker a few statements a second, not one
 * each (issue 22).  Returns how many.
 */
size_t
cache_users_due(uint64_t *ids, size_t max, long long now)
{
	struct cache_user	*u;
	size_t			 i, n = 0;

	if (!cache_on() || cache_users == NULL)
		return 0;
	for (i = 0; i < CACHE_USER_SLOTS && n < max; i++) {
		u = &cache_users[i];
		if (u->way.id != 0 && now - u->way.used_ms <
		    CACHE_USER_LIVE_MS && (now - u->filled_ms) * 4 >
		    (long long)cfg->cache_ms * 3)
			ids[n++] = u->way.id;
	}
	return n;
}

/*
 * Set the generation and name of a user read again at filled_ms (a user
 * dropped meanwhile stays dropped).
 */
void
cache_user_refill(uint64_t id, unsigned int generation, const char *username,
    long long filled_ms)
{
	struct cache_user	*u;

	if ((u = cache_user_find(id)) != NULL)
		cache_user_fill(u, generation, username, filled_ms);
}

/*
 * Forget the users of ids not read again at filled_ms (their accounts
 * are gone).
 */
void
cache_users_drop_unread(const uint64_t *ids, size_t n, long long filled_ms)
{
	struct cache_user	*u;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if ((u = cache_user_find(ids[i])) != NULL &&
		    u->filled_ms < filled_ms)
			cache_user_drop(u);
	}
}

/*
 * Look up a user's standing in a conversation filled less than age ago:
 * CACHE_FRESH, cache_ms (a change made by hand shows within it), or
 * CACHE_KEPT, CACHE_KEPT_MS as the scopes are, for a request whose own
 * transaction checks again what a change by hand could take away (an
 * ack: readstate_ack_many() finds the membership, the channel, the DM's
 * participants).  Changes through the API drop a standing at once
 * (cache_forget()) either way.  1 found (a channel: its server's id and
 * the member; a DM: that they take part), 0 not cached.
 */
int
cache_standing_get(uint64_t user_id, int kind, uint64_t conversation,
    int age, uint64_t *server_id, struct member *m)
{
	struct cache_standing	*s;

	if (!cache_on())
		return 0;
	s = cache_standings != NULL ? &cache_standings[cache_slot(user_id,
	    conversation, CACHE_STANDING_SLOTS)] : NULL;
	if (s == NULL || s->user_id != user_id ||
	    s->conversation != conversation || s->kind != kind ||
	    !(age == CACHE_KEPT ? cache_kept(s->filled_ms) :
	    cache_fresh(s->filled_ms))) {
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

/*
 * Look up the roles of a server (its default role left out): 1 with
 * their ids copied into ids (room for CACHE_ROLES_MAX) and their number
 * in *n, 0 when not cached.
 */
int
cache_roles_get(uint64_t server_id, uint64_t *ids, size_t *n)
{
	struct cache_roles	*r;

	if (!cache_on() || cache_roles == NULL)
		return 0;
	r = &cache_roles[cache_slot(server_id, 0, CACHE_ROLE_SLOTS)];
	if (r->server_id != server_id || !cache_fresh(r->filled_ms))
		return 0;
	memcpy(ids, r->ids, r->n * sizeof *ids);
	*n = r->n;
	return 1;
}

/* Remember the roles of a server (default left out; at most CACHE_ROLES_MAX). */
void
cache_roles_put(uint64_t server_id, const uint64_t *ids, size_t n)
{
	struct cache_roles	*r;

	if (!cache_on() || n > CACHE_ROLES_MAX)
		return;
	if (cache_roles == NULL)
		cache_roles = xcalloc(CACHE_ROLE_SLOTS, sizeof *cache_roles);
	r = &cache_roles[cache_slot(server_id, 0, CACHE_ROLE_SLOTS)];
	r->server_id = server_id;
	r->filled_ms = clock_ms();
	r->n = n;
	memcpy(r->ids, ids, n * sizeof *ids);
}

/* Forget the roles of a server. */
static void
cache_forget_roles(uint64_t server_id)
{
	struct cache_roles	*r;

	if (cache_roles == NULL)
		return;
	r = &cache_roles[cache_slot(server_id, 0, CACHE_ROLE_SLOTS)];
	if (r->server_id == server_id)
		r->server_id = 0;
}

/* Free what a scope holds and empty it. */
void
cache_scope_clear(struct scope *sc)
{
	size_t	i;

	for (i = 0; i < sc->nservers; i++)
		free(sc->servers[i].member.roles);
	free(sc->servers);
	free(sc->dms);
	memset(sc, 0, sizeof *sc);
}

/* A copy of n ids (room for one more, so never a zero-size allocation). */
static uint64_t *
cache_ids_copy(const uint64_t *ids, size_t n)
{
	uint64_t	*copy;

	copy = xreallocarray(NULL, n + 1, sizeof *copy);
	if (n > 0)
		memcpy(copy, ids, n * sizeof *copy);
	return copy;
}

/* Copy a scope into an empty one. */
static void
cache_scope_copy(struct scope *to, const struct scope *from)
{
	struct access_member	*m;
	size_t			 i;

	to->nservers = from->nservers;
	to->servers = xreallocarray(NULL, from->nservers + 1,
	    sizeof *to->servers);
	for (i = 0; i < from->nservers; i++) {
		to->servers[i] = from->servers[i];
		m = &to->servers[i].member;
		m->roles = cache_ids_copy(from->servers[i].member.roles,
		    m->nroles);
	}
	to->ndms = from->ndms;
	to->dms = cache_ids_copy(from->dms, from->ndms);
}

/* The slot that holds a user's scope (NULL), or with pick one for it. */
static struct cache_scope *
cache_scope_slot(uint64_t user_id, int pick)
{
	return (struct cache_scope *)(void *)cache_way(cache_scopes,
	    CACHE_SCOPE_SLOTS, sizeof *cache_scopes, user_id, pick);
}

/*
 * Look up a user's scope of /events: 1 with a copy of it in *out (empty
 * before; the caller clears it), 0 when not cached.
 */
int
cache_scope_get(uint64_t user_id, struct scope *out)
{
	struct cache_scope	*c;

	if (!cache_on())
		return 0;
	c = cache_scope_slot(user_id, 0);
	if (c == NULL || !cache_kept(c->filled_ms)) {
		metrics_cache(CACHE_SCOPES, 0);
		return 0;
	}
	metrics_cache(CACHE_SCOPES, 1);
	c->way.used_ms = clock_ms();
	cache_scope_copy(out, &c->scope);
	return 1;
}

/* Remember a user's scope of /events, as just read. */
void
cache_scope_put(uint64_t user_id, const struct scope *sc)
{
	struct cache_scope	*c;

	if (!cache_on())
		return;
	if (cache_scopes == NULL)
		cache_scopes = xcalloc(CACHE_SCOPE_SLOTS, sizeof *cache_scopes);
	c = cache_scope_slot(user_id, 1);
	cache_scope_clear(&c->scope);
	cache_scope_copy(&c->scope, sc);
	c->way.id = user_id;
	c->filled_ms = c->way.used_ms = clock_ms();
}

/* Whether a scope holds a server. */
static int
cache_scope_holds(const struct scope *sc, uint64_t server_id)
{
	size_t	i;

	for (i = 0; i < sc->nservers; i++) {
		if (sc->servers[i].id == server_id)
			return 1;
	}
	return 0;
}

/* Empty a slot of the scopes. */
static void
cache_scope_drop(struct cache_scope *c)
{
	c->way.id = 0;
	cache_scope_clear(&c->scope);
}

/*
 * Forget the scopes that hold a server (server_id, or 0) and the scope
 * of a user (user_id, or 0).
 */
static void
cache_forget_scopes(uint64_t server_id, uint64_t user_id)
{
	struct cache_scope	*c;
	size_t			 i;

	if (cache_scopes == NULL)
		return;
	if (user_id != 0 && (c = cache_scope_slot(user_id, 0)) != NULL)
		cache_scope_drop(c);
	if (server_id == 0)
		return;
	for (i = 0; i < CACHE_SCOPE_SLOTS; i++) {
		c = &cache_scopes[i];
		if (c->way.id != 0 && cache_scope_holds(&c->scope, server_id))
			cache_scope_drop(c);
	}
}

/* Forget the users, standings, roles and scopes this worker cached. */
void
cache_forget_all(void)
{
	size_t	i;

	if (cache_scopes != NULL) {
		for (i = 0; i < CACHE_SCOPE_SLOTS; i++)
			cache_scope_drop(&cache_scopes[i]);
	}
	if (cache_users != NULL) {
		for (i = 0; i < CACHE_USER_SLOTS; i++)
			cache_user_drop(&cache_users[i]);
	}
	if (cache_standings != NULL)
		memset(cache_standings, 0,
		    CACHE_STANDING_SLOTS * sizeof *cache_standings);
	if (cache_roles != NULL)
		memset(cache_roles, 0, CACHE_ROLE_SLOTS * sizeof *cache_roles);
}

/*
 * Forget the users, standings, roles and scopes a hub entry may have
 * changed (the pages of history go by history_forget_entry()).  A
 * message event changes none, nor a read state (an ack).  A user's
 * change drops the user.  Any other event (membership, roles, channels,
 * servers, a new DM) may change who sees what in its server, or for its
 * user (server.delete and dm.create are scoped to each user alone):
 * those standings and scopes go, and the server's roles.  A change of
 * the whole server (a role deleted from its members) drops the scopes
 * that hold it.
 */
void
cache_forget(const struct hub_entry *e)
{
	struct cache_user	*u;

	if (e->server_id == HUB_ANY) {
		cache_forget_all();
		return;
	}
	if (e->flags & HUB_USER) {
		if ((u = cache_user_find(e->user_id)) != NULL)
			cache_user_drop(u);
		return;
	}
	if (e->flags & (HUB_MESSAGE | HUB_READ))
		return;
	cache_forget_standings(e->server_id, e->user_id);
	cache_forget_scopes(e->user_id == 0 ? e->server_id : 0, e->user_id);
	if (e->server_id != 0)
		cache_forget_roles(e->server_id);
}
