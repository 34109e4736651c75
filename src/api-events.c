/* SPDX-License-Identifier: ISC */
/*
 * api-events.c: GET /api/v1/events, the long-poll of everything a user may
 * see (API.md, Events).  A poll answers at once when an event newer than
 * its cursor is visible to the user; otherwise it parks until one is
 * committed or its timeout passes.  A wake-up reads the new events once
 * for every poll it concerns and filters them per user in memory.
 *
 * Polls of one wake-up whose answers come out the same (the same events,
 * cursor and ephemeral value, as when one message goes to every member
 * of a channel) share one rendering, written to each as the same bytes
 * (response.c).
 *
 * Every answer also carries the ephemeral events (typing, presence;
 * ephemeral.c) the user may see that came after the poll's "ephemeral"
 * value (or while it was parked), without a seq and leaving the cursor
 * as the durable events set it; a poll with only those waiting is
 * answered at once.  A wake-up's answer of durable events leaves them
 * waiting for the poll that follows (with the value the poll sent), so
 * that a message's fan-out during a storm of typing costs what it
 * costs without.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define EVENTS_MAX	100	/* per answer */
#define EVENTS_READ	1000	/* rows per database read */
#define EVENTS_TIMEOUT	30
#define EPHEMERAL_MAX	100	/* ephemeral events per answer */
#define EPHEMERAL_HOLD_MS 500	/* between answers of only those */
#define EPHEMERAL_RENDERED 1024	/* ephemeral events kept rendered */

/* The last channel of a server judged for the poll's user, and how. */
struct events_view {
	uint64_t	 channel_id;
	uint64_t	 generation;	/* of the access copy judged by */
	int		 may_view;
};

struct events_poll {
	uint64_t	 user_id;
	uint64_t	 cursor;	/* everything up to here was checked */
	struct scope	 scope;		/* what the user may see */
	struct events_view *views;	/* one for each server of the scope */
	int		 again;		/* its read was cut short */
	int		 failed;	/* an event it could not judge */
	uint64_t	 ephemeral_pos;	/* ephemeral events up to here seen */
	uint64_t	 ephemeral_judged; /* none up to here it may see */
	long long	 hold_until;	/* clock_ms(): hints alone not before */
	long long	 answered_ms;	/* its value's time, or 0: none sent */
	int		 presence;	/* counted open (presence.c) */
};

struct events_row {
	uint64_t	 seq;
	uint64_t	 server_id;
	uint64_t	 channel_id;
	uint64_t	 dm_channel_id;
	uint64_t	 user_id;
	char		*type;
	int		 internal;	/* sohbet's own: shown to nobody */
	int		 access;	/* may change who sees what */
	char		*data;
	size_t		 data_len;
	char		*audience;	/* only these users (events.c), or NULL */
	size_t		 audience_len;
};

/*
 * The last answer a wake-up rendered, for the next poll whose answer is
 * the same: the events picked, the cursor and the ephemeral value.
 */
struct events_shared {
	struct events_row	*picked[EVENTS_MAX];
	size_t			 n;
	uint64_t		 cursor;
	char			 mark[EPHEMERAL_MARK_LEN + 1];
	yajl_gen		 g;		/* its JSON; NULL: none yet */
	struct response_shared	 sh;
	int			 durable_first;	/* a wake-up's answers */
};

/*
 * An ephemeral event as rendered for answers, by its place in the ring
 * (and a presence.update's status, which a later one of the same user
 * replaces in an answer).
 */
struct events_rendered {
	uint64_t	 pos;
	int		 status;
	char		*text;		/* NULL: none yet */
	size_t		 len;
};

/* The user's servers, each with their roles there, in server order. */
static struct db_stmt q_scope_servers = DB_STMT(
    "SELECT m.server_id, m.joined_seq, mr.role_id FROM server_members m"
    " LEFT JOIN server_member_roles mr ON mr.server_id = m.server_id"
    " AND mr.user_id = m.user_id WHERE m.user_id = ?"
    " ORDER BY m.server_id, mr.role_id");
static struct db_stmt q_scope_dms = DB_STMT(
    "SELECT id FROM dm_channels WHERE user1_id = ?"
    " UNION SELECT id FROM dm_channels WHERE user2_id = ? ORDER BY id");

/*
 * A watermark the worker saw and when (clock_ms()), and the retention
 * mark it read last and when: api_events_expired().
 */
static uint64_t		kept_seq, kept_mark;
static long long	kept_ms, kept_mark_ms;

/* The ephemeral events rendered last (EPHEMERAL_RENDERED, by place). */
static struct events_rendered	*rendered;

static void	api_events_wake(struct poll **, size_t, uint64_t);
static void	api_events_expire(struct poll *);
static void	api_events_recheck(struct poll *);
static void	api_events_free(void *);
static void	api_events_hint(struct poll *);

static const struct poll_type events_poll_type = {
	"events", api_events_wake, api_events_expire, api_events_recheck,
	api_events_free, api_events_hint
};

/* Free a poll's state. */
static void
api_events_free(void *data)
{
	struct events_poll	*ep = data;

	if (ep->presence)
		presence_poll_close(ep->user_id);
	cache_scope_clear(&ep->scope);
	free(ep->views);
	free(ep);
}

/* Add one row (a server, or one more role of the last) to a scope. */
static void
api_events_add_server(struct scope *sc, uint64_t user_id,
    struct db_rows *rows)
{
	struct scope_server	*s;
	struct access_member	*am;
	uint64_t		 id = db_u64(rows, 0);

	if (sc->nservers == 0 || sc->servers[sc->nservers - 1].id != id) {
		sc->servers = xreallocarray(sc->servers, sc->nservers + 1,
		    sizeof *sc->servers);
		s = &sc->servers[sc->nservers++];
		memset(s, 0, sizeof *s);
		s->id = id;
		s->joined_seq = db_u64(rows, 1);
		s->member.user_id = user_id;
	}
	if (db_is_null(rows, 2))
		return;
	am = &sc->servers[sc->nservers - 1].member;
	am->roles = xreallocarray(am->roles, am->nroles + 1,
	    sizeof *am->roles);
	am->roles[am->nroles++] = db_u64(rows, 2);
}

/* Read a user's scope from the database into an empty one: 0 or -1. */
static int
api_events_read_scope(uint64_t user_id, struct scope *sc)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_scope_servers, "u", user_id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1)
		api_events_add_server(sc, user_id, rows);
	db_rows_free(rows);
	if (rc == -1)
		return -1;
	if ((rows = db_query(&q_scope_dms, "uu", user_id, user_id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		sc->dms = xreallocarray(sc->dms, sc->ndms + 1,
		    sizeof *sc->dms);
		sc->dms[sc->ndms++] = db_u64(rows, 0);
	}
	db_rows_free(rows);
	return rc == -1 ? -1 : 0;
}

/*
 * Load what the user may see: their servers (with their roles there:
 * which channels they view is judged per event, access.c) and DMs, from
 * the worker's cache when it has them (a client polls again after every
 * answer, and the scope changes only by events that drop it, cache.c).
 */
static int
api_events_load_scope(struct events_poll *ep)
{
	if (cache_scope_get(ep->user_id, &ep->scope) == 0) {
		if (api_events_read_scope(ep->user_id, &ep->scope) == -1)
			return -1;
		cache_scope_put(ep->user_id, &ep->scope);
	}
	ep->views = xcalloc(ep->scope.nservers + 1, sizeof *ep->views);
	return 0;
}

/* Find a server of the scope, or NULL (bsearch may not take NULL). */
static struct scope_server *
api_events_server(struct events_poll *ep, uint64_t id)
{
	if (ep->scope.nservers == 0)
		return NULL;
	return bsearch(&id, ep->scope.servers, ep->scope.nservers,
	    sizeof *ep->scope.servers, access_cmp_id);
}

/*
 * Whether the user may view a channel of a server of the scope, by the
 * worker's copy of its access: the verdict is kept per server until
 * another channel or another copy is judged, so that a storm of hints
 * or messages in one channel costs a poll one judgement.
 */
static int
api_events_judge(struct events_poll *ep, const struct scope_server *s,
    const struct access_server *sa, uint64_t channel_id)
{
	struct events_view	*v = &ep->views[s - ep->scope.servers];

	if (v->generation != sa->generation || v->channel_id != channel_id) {
		v->generation = sa->generation;
		v->channel_id = channel_id;
		v->may_view = access_may_view(sa, &s->member, channel_id);
	}
	return v->may_view;
}

/*
 * Whether every change of access reaches this worker's hub before a
 * client can hear of it: on one host, yes (events.c publishes at
 * commit, before the answer).  With several hosts, another host's change
 * arrives a watcher interval late, and a client that hops hosts may poll
 * here with a cursor past it before it has.
 */
static int
api_events_one_host(void)
{
	return sequencer_local() && cfg->cluster_poll_ms == 0;
}

/*
 * Whether the user may view a channel of one of their servers, judged by
 * the worker's copy of the server's access, read again first when the
 * event is one that may have changed it, or (several hosts) when the
 * copy is older than the event: then at most once a wake-up, since the
 * copy read covers every event the wake-up read.
 */
static int
api_events_may_view(struct events_poll *ep, const struct scope_server *s,
    const struct events_row *e)
{
	const struct access_server	*sa;
	uint64_t			 need;
	int				 rc;

	need = e->access || !api_events_one_host() ? e->seq : 0;
	if ((rc = access_cached(s->id, need, &sa)) != 1)
		return rc;
	return api_events_judge(ep, s, sa, e->channel_id);
}

/*
 * Whether the user may see an event (1 or 0; -1 when the database could
 * not tell): their own, their DMs', and their servers' from after they
 * joined (channel and message events only in the channels they may
 * view; an event with an audience only to those it names).  Internal
 * events (events.c) are nobody's.
 */
static int
api_events_visible(struct events_poll *ep, const struct events_row *e)
{
	struct scope_server	*s;

	if (e->internal)
		return 0;
	if (e->user_id != 0 && e->user_id == ep->user_id)
		return 1;
	if (e->dm_channel_id != 0)
		return access_has_id(ep->scope.dms, ep->scope.ndms,
		    e->dm_channel_id);
	if (e->server_id == 0 || (s = api_events_server(ep, e->server_id)) ==
	    NULL || e->seq <= s->joined_seq)
		return 0;
	if (e->audience != NULL)
		return events_audience_has(e->audience, e->audience_len,
		    ep->user_id);
	return e->channel_id == 0 || api_events_may_view(ep, s, e);
}

/*
 * Whether an event may change what the user sees (joining or leaving a
 * server, a new DM, a role change).  The answer stops after it, so the
 * client's next poll loads the scope afresh.
 */
static int
api_events_changes_scope(struct events_poll *ep, const struct events_row *e)
{
	if (strncmp(e->type, "role.", 5) == 0)
		return 1;
	return e->user_id == ep->user_id && (strncmp(e->type, "member.",
	    7) == 0 || strcmp(e->type, "dm.create") == 0 ||
	    strcmp(e->type, "server.delete") == 0);
}

/* Read events in (after, upto] into rows; the number read, or -1. */
static long
api_events_read(uint64_t after, uint64_t upto, struct events_row *rows)
{
	struct db_rows	*r;
	const char	*data;
	long		 n = 0;
	int		 rc;

	if ((r = events_read(after, upto, EVENTS_READ)) == NULL)
		return -1;
	while ((rc = db_fetch(r)) == 1) {
		rows[n].seq = db_u64(r, 0);
		rows[n].type = xstrdup(db_str(r, 1, NULL));
		rows[n].internal = events_internal(rows[n].type);
		rows[n].access = events_changes_access(rows[n].type);
		rows[n].server_id = db_u64(r, 2);
		rows[n].channel_id = db_u64(r, 3);
		rows[n].dm_channel_id = db_u64(r, 4);
		rows[n].user_id = db_u64(r, 5);
		data = db_str(r, 6, &rows[n].data_len);
		rows[n].data = xstrndup(data, rows[n].data_len);
		rows[n].audience = NULL;
		if ((data = db_str(r, 7, &rows[n].audience_len)) != NULL) {
			rows[n].audience = xmalloc(rows[n].audience_len + 1);
			memcpy(rows[n].audience, data, rows[n].audience_len);
		}
		n++;
	}
	db_rows_free(r);
	return rc == -1 ? -1 : n;
}

/* Free the strings of n rows. */
static void
api_events_rows_clear(struct events_row *rows, long n)
{
	while (n > 0) {
		n--;
		free(rows[n].type);
		free(rows[n].data);
		free(rows[n].audience);
	}
}

/*
 * Whether the user may see an ephemeral event: never their own; a DM's
 * if it is theirs; a server's if they are a member, and one of a channel
 * only if they may view it (access.c, as for the durable events).
 */
static int
api_events_ephemeral_visible(struct events_poll *ep, const struct ephemeral *e)
{
	const struct access_server	*sa;
	struct scope_server		*s;

	if (e->user_id == ep->user_id)
		return 0;
	if (e->dm_channel_id != 0)
		return access_has_id(ep->scope.dms, ep->scope.ndms,
		    e->dm_channel_id);
	if ((s = api_events_server(ep, e->server_id)) == NULL)
		return 0;
	if (e->channel_id == 0)
		return 1;
	/* A hint the database could not judge is dropped: only a hint. */
	if (access_cached(s->id, 0, &sa) != 1)
		return 0;
	return api_events_judge(ep, s, sa, e->channel_id);
}

/*
 * Add an ephemeral event to those picked; a presence.update of a user
 * already picked (they share several servers with the reader) replaces
 * the earlier one's status instead.  1 when it took a new place.
 */
static int
api_events_ephemeral_add(struct ephemeral *picked, size_t n,
    const struct ephemeral *e)
{
	size_t	i;

	if (e->kind == EPHEMERAL_PRESENCE) {
		for (i = 0; i < n; i++) {
			if (picked[i].kind == EPHEMERAL_PRESENCE &&
			    picked[i].user_id == e->user_id) {
				picked[i].status = e->status;
				return 0;
			}
		}
	}
	picked[n] = *e;
	return 1;
}

/*
 * Pick the ephemeral events after *pos the user may see (at most
 * EPHEMERAL_MAX) and move *pos past what was looked at.  The number.
 */
static size_t
api_events_ephemeral_pick(struct events_poll *ep, uint64_t *pos,
    struct ephemeral *picked)
{
	struct ephemeral	batch[EPHEMERAL_MAX];
	uint64_t		read_pos = *pos;
	size_t			n, i, npicked = 0;

	do {
		n = ephemeral_read(&read_pos, batch, EPHEMERAL_MAX);
		for (i = 0; i < n; i++) {
			if (!api_events_ephemeral_visible(ep, &batch[i]))
				continue;
			npicked += api_events_ephemeral_add(picked, npicked,
			    &batch[i]);
			if (npicked == EPHEMERAL_MAX) {
				*pos = batch[i].pos;
				return npicked;
			}
		}
		*pos = read_pos;
	} while (n == EPHEMERAL_MAX);
	return npicked;
}

/*
 * Whether ephemeral events the user may see wait for the poll.  Those
 * judged at an earlier look and found to be for others are not judged
 * again.
 */
static int
api_events_ephemeral_waiting(struct events_poll *ep)
{
	struct ephemeral	batch[EPHEMERAL_MAX];
	uint64_t		pos;
	size_t			n, i;

	if (ep->ephemeral_judged < ep->ephemeral_pos)
		ep->ephemeral_judged = ep->ephemeral_pos;
	do {
		pos = ep->ephemeral_judged;
		n = ephemeral_read(&pos, batch, EPHEMERAL_MAX);
		for (i = 0; i < n; i++) {
			if (api_events_ephemeral_visible(ep, &batch[i]))
				return 1;
			ep->ephemeral_judged = batch[i].pos;
		}
	} while (n == EPHEMERAL_MAX);
	return 0;
}

/* Render an ephemeral event as the API shows it (no seq). */
static void
api_events_ephemeral_render(yajl_gen g, const struct ephemeral *e)
{
	yajl_gen_map_open(g);
	if (e->kind == EPHEMERAL_TYPING) {
		json_gen_kstr(g, "type", "typing.start");
		json_gen_key(g, "data");
		typing_gen(g, e);
	} else {
		json_gen_kstr(g, "type", "presence.update");
		json_gen_key(g, "data");
		yajl_gen_map_open(g);
		json_gen_kid(g, "user_id", e->user_id);
		json_gen_kstr(g, "status", presence_name(e->status));
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

/*
 * Write an ephemeral event into an answer, rendered once for all the
 * answers that carry it: in a storm of typing hints every answer of
 * the 9,000 clients of a channel carries the same dozens of them, and
 * writing each afresh (ids and a time through printf, strings checked
 * by yajl) was most of what an answer cost sohbetd (issue 22).
 */
static void
api_events_ephemeral_gen(yajl_gen g, const struct ephemeral *e)
{
	struct events_rendered		*r;
	yajl_gen			 one;
	const char			*text;
	size_t				 len;

	if (rendered == NULL)
		rendered = xcalloc(EPHEMERAL_RENDERED, sizeof *rendered);
	r = &rendered[e->pos % EPHEMERAL_RENDERED];
	if (r->text == NULL || r->pos != e->pos || r->status != e->status) {
		one = json_gen_new();
		api_events_ephemeral_render(one, e);
		text = json_gen_text(one, &len);
		free(r->text);
		r->text = xstrndup(text, len);
		r->len = len;
		r->pos = e->pos;
		r->status = e->status;
		yajl_gen_free(one);
	}
	json_gen_raw(g, r->text, r->len);
}

/* Free the answer a wake-up rendered last. */
static void
api_events_shared_clear(struct events_shared *last)
{
	if (last->g == NULL)
		return;
	response_shared_clear(&last->sh);
	yajl_gen_free(last->g);
	last->g = NULL;
}

/*
 * Whether a poll's answer is the one last rendered: the same events
 * picked, cursor and ephemeral value, and no ephemeral events of its own.
 */
static int
api_events_same_answer(const struct events_shared *last,
    struct events_row **picked, size_t n, uint64_t cursor, const char *mark)
{
	return last->g != NULL && last->n == n && last->cursor == cursor &&
	    (n == 0 || memcmp(last->picked, picked, n * sizeof *picked) ==
	    0) && strcmp(last->mark, mark) == 0;
}

/* Keep a rendered answer as the last one of a wake-up. */
static void
api_events_keep_answer(struct events_shared *last, yajl_gen g,
    struct events_row **picked, size_t n, uint64_t cursor, const char *mark)
{
	const char	*text;
	size_t		 len;

	api_events_shared_clear(last);
	last->g = g;
	if (n > 0)
		memcpy(last->picked, picked, n * sizeof *picked);
	last->n = n;
	last->cursor = cursor;
	snprintf(last->mark, sizeof last->mark, "%s", mark);
	text = json_gen_text(g, &len);
	response_shared_init(&last->sh, 200, text, len);
}

/*
 * Whether a poll's answer of durable events leaves the ephemeral events
 * waiting for it to the poll that follows: in a wake-up's answers
 * (last->durable_first), so that a message sent during a storm of
 * typing goes to every client of the channel as the small answer it
 * is, not beside the dozens of typing.starts each client waits for
 * (issue 22: the message's fan-out then cost sohbetd, nginx and the
 * clients about twice what it does without typing).  The answer then
 * carries the value the poll came with, so that its next poll gets
 * them, held no longer than they were (api_events_ephemeral_start()).
 */
static int
api_events_ephemeral_left(struct events_poll *ep, size_t n,
    const struct events_shared *last)
{
	return n > 0 && last != NULL && last->durable_first &&
	    api_events_ephemeral_waiting(ep);
}

/*
 * Answer {"events": [...], "cursor": "...", "ephemeral": "..."}: the
 * durable events picked, then the ephemeral ones waiting (none after an
 * event that changes what the user sees: the next poll judges them by
 * the new scope; none in a wake-up's answer of durable events, which
 * leaves them to the next poll); finish the poll.  An answer without
 * ephemeral events is rendered once for the polls of a wake-up that get
 * the same (last, or NULL when there is no other).
 */
static void
api_events_answer(struct poll *p, struct events_row **picked, size_t n,
    struct events_shared *last)
{
	struct events_poll	*ep = p->data;
	struct ephemeral	 eph[EPHEMERAL_MAX];
	char			 mark[EPHEMERAL_MARK_LEN + 1];
	uint64_t		 cursor;
	yajl_gen		 g;
	size_t			 i, neph = 0;
	int			 left = 0;

	if (n == 0 || !api_events_changes_scope(ep, picked[n - 1])) {
		if ((left = api_events_ephemeral_left(ep, n, last)) == 0)
			neph = api_events_ephemeral_pick(ep,
			    &ep->ephemeral_pos, eph);
	}
	cursor = n > 0 ? picked[n - 1]->seq : ep->cursor;
	ephemeral_mark_format(ep->ephemeral_pos, left ? ep->answered_ms :
	    ephemeral_now_ms(), mark, sizeof mark);
	if (last != NULL && neph == 0 &&
	    api_events_same_answer(last, picked, n, cursor, mark)) {
		response_shared_send(p->req, &last->sh);
		poll_done(p);
		return;
	}
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "events");
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		json_gen_kid(g, "seq", picked[i]->seq);
		json_gen_kstr(g, "type", picked[i]->type);
		json_gen_kraw(g, "data", picked[i]->data, picked[i]->data_len);
		yajl_gen_map_close(g);
	}
	for (i = 0; i < neph; i++)
		api_events_ephemeral_gen(g, &eph[i]);
	yajl_gen_array_close(g);
	json_gen_key(g, "cursor");
	json_gen_id_or_zero(g, cursor);
	json_gen_kstr(g, "ephemeral", mark);
	yajl_gen_map_close(g);
	if (last == NULL || neph > 0 || left) {
		response_json(p->req, 200, g);
		poll_done(p);
		return;
	}
	api_events_keep_answer(last, g, picked, n, cursor, mark);
	response_shared_send(p->req, &last->sh);
	poll_done(p);
}

/*
 * Offer rows (after a read of (from, upto], n rows, full when the read was
 * cut short) to one poll: answer it if any is visible, else move its
 * cursor past what it has seen.  A row the database could not judge
 * stops the offer there: the poll is answered with those before it, or
 * keeps its cursor and is marked failed, never moved past an event it
 * may see.
 */
static void
api_events_offer(struct poll *p, struct events_row *rows, long n, int full,
    uint64_t upto, struct events_shared *last)
{
	struct events_poll	*ep = p->data;
	struct events_row	*picked[EVENTS_MAX];
	size_t			 npicked = 0;
	long			 i;
	int			 visible = 0;

	ep->failed = 0;
	for (i = 0; i < n && npicked < EVENTS_MAX; i++) {
		if (rows[i].seq <= ep->cursor)
			continue;
		if ((visible = api_events_visible(ep, &rows[i])) == -1)
			break;
		if (!visible)
			continue;
		picked[npicked++] = &rows[i];
		if (api_events_changes_scope(ep, &rows[i]))
			break;
	}
	if (npicked > 0) {
		api_events_answer(p, picked, npicked, last);
		return;
	}
	if (visible == -1) {
		ep->failed = 1;
		return;
	}
	if (full) {
		/*
		 * The read started at the batch's smallest cursor: one
		 * already past these rows must not move back over events
		 * it has answered.
		 */
		if (rows[n - 1].seq > ep->cursor)
			ep->cursor = rows[n - 1].seq;
		ep->again = 1;
	} else if (upto > ep->cursor)
		ep->cursor = upto;
}

/*
 * Read the events after the smallest cursor of n polls once and offer
 * them to each; durable_first for a wake-up's (api_events_answer()).
 * Polls whose read was cut short are marked "again".
 */
static int
api_events_deliver(struct poll **ps, size_t n, uint64_t wm, int durable_first)
{
	struct events_row	*rows;
	struct events_poll	*ep;
	struct events_shared	*last;
	uint64_t		 from = UINT64_MAX;
	long			 nrows;
	size_t			 i;

	for (i = 0; i < n; i++) {
		ep = ps[i]->data;
		ep->again = 0;
		ep->failed = 0;
		if (ep->cursor < from)
			from = ep->cursor;
	}
	if (from >= wm)
		return 0;
	rows = xcalloc(EVENTS_READ, sizeof *rows);
	if ((nrows = api_events_read(from, wm, rows)) == -1) {
		free(rows);
		return -1;
	}
	last = xcalloc(1, sizeof *last);
	last->durable_first = durable_first;
	for (i = 0; i < n; i++)
		api_events_offer(ps[i], rows, nrows, nrows == EVENTS_READ, wm,
		    last);
	api_events_shared_clear(last);
	free(last);
	api_events_rows_clear(rows, nrows);
	free(rows);
	return 0;
}

/* Wake-up: deliver to the marked polls, again for those cut short. */
static void
api_events_wake(struct poll **ps, size_t n, uint64_t wm)
{
	struct events_poll	*ep;
	size_t			 i;

	if (api_events_deliver(ps, n, wm, 1) == -1) {
		/* The database failed: they stay parked and retry later. */
		return;
	}
	for (i = 0; i < n; i++) {
		if (ps[i]->dead)
			continue;
		ep = ps[i]->data;
		/* One the database could not judge waits for the next. */
		if (ep->failed)
			continue;
		if (ep->again)
			ps[i]->marked = 1;
		else
			api_events_hint(ps[i]);
	}
}

/*
 * Hurry a parked poll that ephemeral events it may see wait for: to now,
 * or, when its previous answer went less than EPHEMERAL_HOLD_MS ago, to
 * that moment: what comes meanwhile joins the same answer.  A storm of
 * typing hints so costs a client one answer (and one poll again) every
 * EPHEMERAL_HOLD_MS at most, not one for every hint, and the answers of
 * a crowd take turns (poll_hurry()); a hint after a quiet moment is
 * answered at once.
 */
static void
api_events_hint(struct poll *p)
{
	struct events_poll	*ep = p->data;

	if (p->hurried || !api_events_ephemeral_waiting(ep))
		return;
	poll_hurry(p, ep->hold_until > clock_ms() ? ep->hold_until :
	    clock_ms());
}

/*
 * The user's tokens may have been revoked (logout-all, a new password):
 * a stolen token's poll is answered 401 before it can read anything more.
 * Changes of the servers it sees travel as events (member.leave,
 * role.*), which end the answer that carries them.
 */
static void
api_events_recheck(struct poll *p)
{
	if (auth_recheck(p->req) == -1)
		poll_done(p);
}

/* The timeout passed: answer no events and the cursor reached. */
static void
api_events_expire(struct poll *p)
{
	api_events_answer(p, NULL, 0, NULL);
}

/* Parse a cursor: decimal digits, 0 allowed; -1 if malformed. */
static int
api_events_parse_cursor(const char *s, uint64_t *out)
{
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	return param_parse_id(s, out);
}

/* Answer at once with no events and the current cursor. */
static void
api_events_head(struct request *req)
{
	char		mark[EPHEMERAL_MARK_LEN + 1];
	yajl_gen	g;
	uint64_t	head;

	if (events_head(&head) == -1) {
		response_db_error(req);
		return;
	}
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "events");
	yajl_gen_array_open(g);
	yajl_gen_array_close(g);
	json_gen_key(g, "cursor");
	json_gen_id_or_zero(g, head);
	ephemeral_mark_format(ephemeral_head(), ephemeral_now_ms(), mark,
	    sizeof mark);
	json_gen_kstr(g, "ephemeral", mark);
	yajl_gen_map_close(g);
	response_json(req, 200, g);
}

/*
 * Whether events after a cursor may have been deleted by the retention
 * job (1; 0 when all are kept; -1 when the database failed).  A client
 * polls again after every answer, so a worker that caches reads the
 * retention mark at most every cache_ms (what a change made by hand
 * waits at most) for a cursor at or above a watermark it saw less than
 * a quarter of the retention period ago: the job deletes only events
 * older than the period, and every event above that watermark was
 * written after it was seen.
 */
static int
api_events_expired(uint64_t cursor)
{
	long long	now = clock_ms();

	if (cache_on()) {
		if (kept_ms == 0 || now - kept_ms >
		    (long long)cfg->retention_days * 86400000LL / 4) {
			kept_seq = sequencer_visible();
			kept_ms = now;
		}
		if (cursor >= kept_seq && cursor >= kept_mark &&
		    kept_mark_ms != 0 && cache_fresh(kept_mark_ms))
			return 0;
	}
	if (events_pruned(&kept_mark) == -1) {
		kept_mark_ms = 0;
		return -1;
	}
	kept_mark_ms = now;
	return cursor < kept_mark;
}

/*
 * Check a cursor against the future and the retention horizon.  A cursor
 * that looks ahead may come from another host whose database node is
 * ahead of ours: it is from the future only if it still is once our node
 * has caught up with the cluster (events_last_synced()).
 */
static int
api_events_check_cursor(struct request *req, const char *s, uint64_t *after)
{
	uint64_t	last;
	int		expired;

	if (api_events_parse_cursor(s, after) == -1) {
		response_error(req, 400, "invalid_cursor", "after must be a "
		    "cursor this API returned");
		return -1;
	}
	if (events_last(&last) == -1 ||
	    (*after > last && events_last_synced(&last) == -1) ||
	    (expired = api_events_expired(*after)) == -1) {
		response_db_error(req);
		return -1;
	}
	if (*after > last) {
		response_error(req, 400, "invalid_cursor", "That cursor is "
		    "from the future");
		return -1;
	}
	if (expired) {
		response_error(req, 410, "cursor_expired", "Events after that "
		    "cursor are no longer kept; reload and poll without after");
		return -1;
	}
	return 0;
}

/*
 * Where the poll starts reading ephemeral events: after the place its
 * previous answer's "ephemeral" value names, or (none sent) from now;
 * and when it may be answered with only those: EPHEMERAL_HOLD_MS after
 * that answer (the value's time, never more than that from now).
 */
static int
api_events_ephemeral_start(struct request *req, struct events_poll *ep)
{
	struct ephemeral_mark	 m;
	const char		*s;
	long long		 left;

	if ((s = request_query(req, "ephemeral")) == NULL) {
		ep->ephemeral_pos = ephemeral_start(NULL);
		return 0;
	}
	if (ephemeral_mark_parse(s, &m) == -1) {
		response_invalid(req, "ephemeral", "ephemeral must be a value "
		    "this API returned");
		return -1;
	}
	ep->ephemeral_pos = ephemeral_start(&m);
	ep->answered_ms = m.at_ms;
	left = m.at_ms + EPHEMERAL_HOLD_MS - ephemeral_now_ms();
	if (left > EPHEMERAL_HOLD_MS)
		left = EPHEMERAL_HOLD_MS;
	if (left > 0)
		ep->hold_until = clock_ms() + left;
	return 0;
}

/* Index a poll under every key its user may see events of. */
static void
api_events_index(struct poll *p, struct events_poll *ep)
{
	size_t	i;

	poll_key(p, POLL_USER, ep->user_id);
	for (i = 0; i < ep->scope.nservers; i++)
		poll_key(p, POLL_SERVER, ep->scope.servers[i].id);
	for (i = 0; i < ep->scope.ndms; i++)
		poll_key(p, POLL_DM, ep->scope.dms[i]);
}

/* GET /events?after=&timeout=. */
static void
api_events_get(struct request *req)
{
	struct events_poll	*ep;
	struct poll		*p;
	const char		*after;
	long			 timeout = EVENTS_TIMEOUT;
	uint64_t		 cursor, wm;
	int			 waiting;

	if (param_query_int(req, "timeout", 0, 60, &timeout) == -1)
		return;
	if ((after = request_query(req, "after")) == NULL) {
		api_events_head(req);
		return;
	}
	if (api_events_check_cursor(req, after, &cursor) == -1)
		return;
	ep = xcalloc(1, sizeof *ep);
	if (api_events_ephemeral_start(req, ep) == -1) {
		free(ep);
		return;
	}
	ep->user_id = req->user_id;
	ep->cursor = cursor;
	/* Its user is connected while it is open and a while after. */
	presence_poll_open(ep->user_id);
	ep->presence = 1;
	p = poll_new(req, &events_poll_type, ep);
	req->poll = p;
	if (api_events_load_scope(ep) == -1) {
		response_db_error(req);
		poll_done(p);
		return;
	}
	wm = sequencer_visible();
	do {
		if (api_events_deliver(&p, 1, wm, 0) == -1 || (!p->dead &&
		    ep->failed)) {
			response_db_error(req);
			poll_done(p);
			return;
		}
	} while (!p->dead && ep->again);
	if (p->dead)
		return;
	if (timeout == 0) {
		api_events_expire(p);
		return;
	}
	waiting = api_events_ephemeral_waiting(ep);
	api_events_index(p, ep);
	if (poll_park(p, timeout * 1000LL) == -1) {
		/* A full worker still answers what it has. */
		if (waiting)
			api_events_expire(p);
		else {
			response_busy(req);
			poll_done(p);
		}
		return;
	}
	/*
	 * Ephemeral events wait: answered when their hold ends, or at once,
	 * but parked first, so that the answer takes its turn among the
	 * hurried ones (poll_hurry()).
	 */
	if (waiting)
		poll_hurry(p, ep->hold_until > clock_ms() ? ep->hold_until :
		    clock_ms());
}

const struct route api_events_routes[] = {
	{ "GET", API_PREFIX "/events", api_events_get, ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
