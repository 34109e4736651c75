/* SPDX-License-Identifier: ISC */
/*
 * cache.c: what a worker keeps of the database between requests: each
 * user's token generation and name (auth.c), each member's standing in
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

#define CACHE_USER_SLOTS	4096	/* powers of two */
#define CACHE_STANDING_SLOTS	16384
#define CACHE_ROLE_SLOTS	256
#define CACHE_SCOPE_SLOTS	16384
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

/* The roles of a server, its default role left out. */
struct cache_roles {
	uint64_t	 server_id;	/* 0: empty */
	long long	 filled_ms;
	size_t		 n;
	uint64_t	 ids[CACHE_ROLES_MAX];
};

/* A user's scope of /events. */
struct cache_scope {
	uint64_t	 user_id;	/* 0: empty */
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

/* The slot of a user's scope. */
static struct cache_scope *
cache_scope_slot(uint64_t user_id)
{
	return &cache_scopes[cache_slot(user_id, 0, CACHE_SCOPE_SLOTS)];
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
	c = cache_scopes != NULL ? cache_scope_slot(user_id) : NULL;
	if (c == NULL || c->user_id != user_id || !cache_kept(c->filled_ms)) {
		metrics_cache(CACHE_SCOPES, 0);
		return 0;
	}
	metrics_cache(CACHE_SCOPES, 1);
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
	c = cache_scope_slot(user_id);
	cache_scope_clear(&c->scope);
	cache_scope_copy(&c->scope, sc);
	c->user_id = user_id;
	c->filled_ms = clock_ms();
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
	c->user_id = 0;
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
	if (user_id != 0 && (c = cache_scope_slot(user_id))->user_id ==
	    user_id)
		cache_scope_drop(c);
	if (server_id == 0)
		return;
	for (i = 0; i < CACHE_SCOPE_SLOTS; i++) {
		c = &cache_scopes[i];
		if (c->user_id != 0 && cache_scope_holds(&c->scope, server_id))
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
	if (cache_users != NULL)
		memset(cache_users, 0, CACHE_USER_SLOTS * sizeof *cache_users);
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
	if (e->flags & (HUB_MESSAGE | HUB_READ))
		return;
	cache_forget_standings(e->server_id, e->user_id);
	cache_forget_scopes(e->user_id == 0 ? e->server_id : 0, e->user_id);
	if (e->server_id != 0)
		cache_forget_roles(e->server_id);
}
