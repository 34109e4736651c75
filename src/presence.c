/* SPDX-License-Identifier: ISC */
/*
 * presence.c: who is online (API.md, Typing and presence).
 *
 * A user is connected while one of their /events polls is open or ended
 * less than presence_linger seconds ago.  Each host counts its users'
 * open polls in a table in shared memory (mapped by the master before
 * the first fork), one counter per worker, so that the master can clear
 * a dead worker's (presence_worker_gone()).  Opening and ending a poll
 * touch only that table: polling never writes to the database.
 *
 * Once a second the host's keeper sweeps the table (presence_sweep()):
 * a user who became connected on this host gets a row in
 * presence_connections, one who is no longer loses it, and when what
 * the others see changes (no other host had them; their chosen status
 * is not invisible) presence.update goes out as ephemeral events
 * (ephemeral.c), one per server of at most PRESENCE_SERVER_MAX members
 * they are in and one per DM, which api-events.c shows once per user.
 * So a connection or a disconnection costs one write.  The rows are
 * what the member lists and DM recipients read (PRESENCE_SHOWN_SQL), on
 * every host alike; a host's rows count while its keeper writes its
 * heartbeat into app_hosts, so that those of a host that died stop
 * counting by themselves.
 *
 * The chosen status (PUT /users/@me/presence) is a column of users:
 * one write when it changes, and presence.update when that changes
 * what the others see of a connected user.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define PRESENCE_SLOTS		32768	/* users connected to one host */
#define PRESENCE_GONE		UINT64_MAX	/* a slot freed again */
#define PRESENCE_BEAT_MS	10000
#define PRESENCE_CHANGES_MAX	1000	/* written per sweep */

struct presence_slot {
	uint64_t	 user_id;	/* 0: never used */
	long long	 last_end_ms;	/* clock_ms() of the last poll's end */
	int		 recorded;	/* the keeper wrote their row */
	uint16_t	 open[HUB_SLOTS];	/* their polls, per worker */
};

struct presence_table {
	pthread_mutex_t		 lock;
	struct presence_slot	 slots[PRESENCE_SLOTS];
};

/* A change the sweep writes: a user connected here, or gone. */
struct presence_change {
	uint64_t	 user_id;
	int		 connected;
};

static struct presence_table	*presence_table;
static long long		 presence_beat_at;

static const char *const presence_names[PRESENCE_STATUSES] = {
	"online", "idle", "dnd", "invisible", "offline"
};

static struct db_stmt q_beat = DB_STMT(
    "INSERT INTO app_hosts (host_id, seen_ms) VALUES (?, " PRESENCE_NOW_MS
    ") ON DUPLICATE KEY UPDATE seen_ms = VALUES(seen_ms)");
static struct db_stmt q_forget_hosts = DB_STMT(
    "DELETE FROM app_hosts WHERE seen_ms < " PRESENCE_NOW_MS " - ?");
static struct db_stmt q_forget_others = DB_STMT(
    "DELETE FROM presence_connections WHERE host_id <> ?");
static struct db_stmt q_connect = DB_STMT(
    "INSERT IGNORE INTO presence_connections (user_id, host_id)"
    " VALUES (?, ?)");
static struct db_stmt q_disconnect = DB_STMT(
    "DELETE FROM presence_connections WHERE user_id = ? AND host_id = ?");
/* The chosen status, and whether another live host has the user. */
static struct db_stmt q_standing = DB_STMT(
    "SELECT u.presence, EXISTS (SELECT 1 FROM presence_connections pc"
    " JOIN app_hosts h ON h.host_id = pc.host_id WHERE pc.user_id = u.id"
    " AND pc.host_id <> ? AND h.seen_ms >= " PRESENCE_NOW_MS " - "
    PRESENCE_HOST_DEAD_MS ") FROM users u WHERE u.id = ?");
static struct db_stmt q_chosen = DB_STMT(
    "SELECT presence FROM users WHERE id = ?");
static struct db_stmt q_choose = DB_STMT(
    "UPDATE users SET presence = ? WHERE id = ? AND presence <> ?");
/*
 * Where others may see a user's presence.update: their servers without a
 * member past the first PRESENCE_SERVER_MAX (so that a big server costs
 * a bounded index range, not a count of all its members), and their DMs.
 */
static struct db_stmt q_audience = DB_STMT(
    "SELECT m.server_id, 0 FROM server_members m WHERE m.user_id = ?"
    " AND (SELECT c.user_id FROM server_members c"
    " WHERE c.server_id = m.server_id ORDER BY c.user_id"
    " LIMIT 1 OFFSET ?) IS NULL"
    " UNION ALL SELECT 0, id FROM dm_channels WHERE user1_id = ?"
    " UNION ALL SELECT 0, id FROM dm_channels WHERE user2_id = ?");

/* Map the table of connections. */
void
presence_init(void)
{
	presence_table = hub_shared(sizeof *presence_table);
	hub_mutex_init(&presence_table->lock);
}

/* The API's name of a status. */
const char *
presence_name(int status)
{
	if (status < 0 || status >= PRESENCE_STATUSES)
		return "offline";
	return presence_names[status];
}

/* What others see of a chosen status while connected. */
int
presence_shown(int chosen)
{
	return chosen == PRESENCE_INVISIBLE ? PRESENCE_OFFLINE : chosen;
}

/* The status of a name (not "offline": nobody chooses it); -1 if none. */
int
presence_parse(const char *name, size_t len)
{
	int	i;

	for (i = 0; i < PRESENCE_OFFLINE; i++) {
		if (strlen(presence_names[i]) == len &&
		    memcmp(presence_names[i], name, len) == 0)
			return i;
	}
	return -1;
}

/*
 * The slot of a user, made if create and the table has room; NULL if
 * none.  Called with the lock held.
 */
static struct presence_slot *
presence_find(uint64_t user_id, int create)
{
	struct presence_slot	*s, *free_slot = NULL;
	uint64_t		 h = user_id * 0x9e3779b97f4a7c15ULL;
	size_t			 i, at;

	for (i = 0; i < PRESENCE_SLOTS; i++) {
		at = (size_t)((h >> 40) + i) % PRESENCE_SLOTS;
		s = &presence_table->slots[at];
		if (s->user_id == user_id)
			return s;
		if (s->user_id == PRESENCE_GONE && free_slot == NULL)
			free_slot = s;
		if (s->user_id == 0) {
			if (free_slot == NULL)
				free_slot = s;
			break;
		}
	}
	if (!create || free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof *free_slot);
	free_slot->user_id = user_id;
	return free_slot;
}

/* A poll of the user opened in this worker. */
void
presence_poll_open(uint64_t user_id)
{
	struct presence_slot	*s;

	if (presence_table == NULL || hub_self() < 0)
		return;
	hub_mutex_lock(&presence_table->lock);
	if ((s = presence_find(user_id, 1)) != NULL)
		s->open[hub_self()]++;
	pthread_mutex_unlock(&presence_table->lock);
	if (s == NULL)
		log_warnx("%s: the table is full; user %llu shows offline",
		    __func__, (unsigned long long)user_id);
}

/* A poll of the user that presence_poll_open() counted ended. */
void
presence_poll_close(uint64_t user_id)
{
	struct presence_slot	*s;

	if (presence_table == NULL || hub_self() < 0)
		return;
	hub_mutex_lock(&presence_table->lock);
	if ((s = presence_find(user_id, 0)) != NULL &&
	    s->open[hub_self()] > 0) {
		s->open[hub_self()]--;
		s->last_end_ms = clock_ms();
	}
	pthread_mutex_unlock(&presence_table->lock);
}

/* A worker died: its polls ended now (the master calls it). */
void
presence_worker_gone(int slot)
{
	struct presence_slot	*s;
	long long		 now = clock_ms();
	size_t			 i;

	if (presence_table == NULL)
		return;
	hub_mutex_lock(&presence_table->lock);
	for (i = 0; i < PRESENCE_SLOTS; i++) {
		s = &presence_table->slots[i];
		if (s->open[slot] > 0) {
			s->open[slot] = 0;
			s->last_end_ms = now;
		}
	}
	pthread_mutex_unlock(&presence_table->lock);
}

/* Whether a slot's user is connected to this host at now. */
static int
presence_slot_connected(const struct presence_slot *s, long long now)
{
	int	i;

	for (i = 0; i < HUB_SLOTS; i++) {
		if (s->open[i] > 0)
			return 1;
	}
	return s->last_end_ms != 0 && now - s->last_end_ms <
	    (long long)cfg->presence_linger * 1000;
}

/* Whether a user is connected to this host now. */
static int
presence_here(uint64_t user_id)
{
	struct presence_slot	*s;
	int			 here;

	hub_mutex_lock(&presence_table->lock);
	s = presence_find(user_id, 0);
	here = s != NULL && presence_slot_connected(s, clock_ms());
	pthread_mutex_unlock(&presence_table->lock);
	return here;
}

/*
 * Send presence.update {user_id, status} to those who may see it: the
 * members of the user's servers of at most PRESENCE_SERVER_MAX members,
 * and their DMs' other participants.
 */
static int
presence_announce(uint64_t user_id, int status)
{
	struct ephemeral	 e;
	struct db_rows		*rows;
	int			 rc;

	if ((rows = db_query(&q_audience, "udud", user_id,
	    (int)PRESENCE_SERVER_MAX, user_id, user_id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		memset(&e, 0, sizeof e);
		e.kind = EPHEMERAL_PRESENCE;
		e.user_id = user_id;
		e.status = status;
		e.server_id = db_u64(rows, 0);
		e.dm_channel_id = db_u64(rows, 1);
		ephemeral_publish(&e, 0);
	}
	db_rows_free(rows);
	return rc == -1 ? -1 : 0;
}

/*
 * Load the user's chosen status and whether another live host has them
 * connected: 0, or -1.
 */
static int
presence_standing(uint64_t user_id, int *chosen, int *elsewhere)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_standing, "uu", ephemeral_host(), user_id)) ==
	    NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1) {
		*chosen = (int)db_i64(rows, 0);
		*elsewhere = db_i64(rows, 1) != 0;
	}
	db_rows_free(rows);
	return rc == 1 ? 0 : -1;
}

/*
 * Write a change of the user's connection to this host, and announce it
 * when the others see it.  A connection is announced as soon as no other
 * host had the user before the write, a disconnection when none has
 * them after it: two hosts racing may both announce, never neither.
 */
static int
presence_record(const struct presence_change *c)
{
	uint64_t	host = ephemeral_host();
	int		chosen, elsewhere;

	if (c->connected) {
		if (presence_standing(c->user_id, &chosen, &elsewhere) == -1 ||
		    db_exec(&q_connect, "uu", c->user_id, host) == -1)
			return -1;
	} else {
		if (db_exec(&q_disconnect, "uu", c->user_id, host) == -1 ||
		    presence_standing(c->user_id, &chosen, &elsewhere) == -1)
			return -1;
	}
	if (!elsewhere && chosen != PRESENCE_INVISIBLE)
		presence_announce(c->user_id, c->connected ?
		    presence_shown(chosen) : PRESENCE_OFFLINE);
	return 0;
}

/*
 * Note under the lock which users' connection to this host changed
 * since it was written, and free the slots of those long gone.  The
 * number noted.
 */
static size_t
presence_collect(struct presence_change *out, size_t max)
{
	struct presence_slot	*s;
	long long		 now = clock_ms();
	size_t			 i, n = 0;
	int			 connected;

	hub_mutex_lock(&presence_table->lock);
	for (i = 0; i < PRESENCE_SLOTS && n < max; i++) {
		s = &presence_table->slots[i];
		if (s->user_id == 0 || s->user_id == PRESENCE_GONE)
			continue;
		connected = presence_slot_connected(s, now);
		if (connected != s->recorded) {
			out[n].user_id = s->user_id;
			out[n++].connected = connected;
		} else if (!connected)
			s->user_id = PRESENCE_GONE;
	}
	pthread_mutex_unlock(&presence_table->lock);
	return n;
}

/* Remember that a change was written. */
static void
presence_recorded(const struct presence_change *c)
{
	struct presence_slot	*s;

	hub_mutex_lock(&presence_table->lock);
	if ((s = presence_find(c->user_id, 0)) != NULL)
		s->recorded = c->connected;
	pthread_mutex_unlock(&presence_table->lock);
}

/*
 * Write this host's heartbeat, and forget the hosts silent for an hour.
 * On a host without the cluster watcher (no other host) the first beat
 * also deletes the rows a previous run of this host left.
 */
static void
presence_beat(void)
{
	if (presence_beat_at == 0 && cfg->cluster_poll_ms == 0)
		db_exec(&q_forget_others, "u", ephemeral_host());
	db_exec(&q_beat, "u", ephemeral_host());
	db_exec(&q_forget_hosts, "i", 3600LL * 1000);
}

/*
 * The keeper's sweep (every PRESENCE_SWEEP_MS): write and announce what
 * changed.
 */
void
presence_sweep(void)
{
	struct presence_change	*changes;
	long long		 now = clock_ms();
	size_t			 n, i;

	if (presence_table == NULL)
		return;
	if (now >= presence_beat_at) {
		presence_beat();
		presence_beat_at = now + PRESENCE_BEAT_MS;
	}
	changes = xcalloc(PRESENCE_CHANGES_MAX, sizeof *changes);
	n = presence_collect(changes, PRESENCE_CHANGES_MAX);
	for (i = 0; i < n; i++) {
		if (presence_record(&changes[i]) == -1)
			break;
		presence_recorded(&changes[i]);
	}
	free(changes);
}

/* Load the status the user chose: 0, or -1. */
int
presence_chosen(uint64_t user_id, int *status)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_chosen, "u", user_id)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1)
		*status = (int)db_i64(rows, 0);
	db_rows_free(rows);
	return rc == 1 ? 0 : -1;
}

/*
 * Set the status the user chose: at most one write, and presence.update
 * when what the others see of them changes.  0, or -1.
 */
int
presence_choose(uint64_t user_id, int status)
{
	long long	changed;
	int		old, elsewhere;

	if (presence_standing(user_id, &old, &elsewhere) == -1 ||
	    (changed = db_exec(&q_choose, "dud", status, user_id,
	    status)) == -1)
		return -1;
	if (changed == 0 || (!elsewhere && !presence_here(user_id)))
		return 0;
	if (presence_shown(old) != presence_shown(status))
		presence_announce(user_id, presence_shown(status));
	return 0;
}
