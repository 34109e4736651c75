/* SPDX-License-Identifier: ISC */
/*
 * access.c: who may view which channel of a server, where the question
 * is asked of many members at once (API.md, Channel permission
 * overwrites).  The rule itself is perm.c's (perm_channel()); this file
 * holds a server's roles and overwrites in memory so that it can be
 * asked without the database:
 *
 * - The /events long-polls (api-events.c) judge every channel event of a
 *   server for each of their users.  A worker keeps one copy of each
 *   server's roles, channels and overwrites (access_cached()), dropped
 *   when a hub entry of that server that is not a message passes
 *   (access_forget(), from poll.c), so a wake-up of 9,000 polls reads
 *   the database once, not once per member.
 * - The list of a server's channels keeps those its caller can view.
 * - A change of access (an overwrite, a role's permissions, a member's
 *   roles, a role deleted, a channel deleted) finds, inside its
 *   transaction, who lost or gained view of which channel, and tells
 *   exactly them: channel.delete or channel.create with an audience
 *   (events.c).  The server's row is locked first, so two changes of one
 *   server's access are judged one after the other.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define ACCESS_SLOTS	1024	/* servers a worker keeps; a power of two */

static struct db_stmt q_lock = DB_STMT(
    "SELECT owner_id FROM servers WHERE id = ? FOR UPDATE");
static struct db_stmt q_owner = DB_STMT(
    "SELECT owner_id FROM servers WHERE id = ?");
static struct db_stmt q_roles = DB_STMT(
    "SELECT id, permissions, is_default FROM roles WHERE server_id = ?"
    " ORDER BY id");
static struct db_stmt q_channels = DB_STMT(
    "SELECT id FROM channels WHERE server_id = ? ORDER BY id");
/* Each channel's overwrites in the contract's order (overwrites.c). */
static struct db_stmt q_overwrites = DB_STMT(
    "SELECT o.channel_id, o.target_type, o.target_id, o.allow_bits,"
    " o.deny_bits FROM channel_overwrites o"
    " LEFT JOIN roles r ON o.target_type = 0 AND r.id = o.target_id"
    " WHERE o.server_id = ?"
    " ORDER BY o.channel_id, o.target_type, r.position, o.target_id");
/*
 * Members with their roles, a row per role (NULL for none): (server,
 * user, role), ordered by server, user and role.  Of a server, of one
 * member of a server, or every membership of a user.
 */
#define ACCESS_MEMBERS(where, order) \
	"SELECT m.server_id, m.user_id, mr.role_id FROM server_members m" \
	" LEFT JOIN server_member_roles mr ON mr.server_id = m.server_id" \
	" AND mr.user_id = m.user_id WHERE " where " ORDER BY " order
static struct db_stmt q_members = DB_STMT(
    ACCESS_MEMBERS("m.server_id = ?", "m.user_id, mr.role_id"));
static struct db_stmt q_member = DB_STMT(
    ACCESS_MEMBERS("m.server_id = ? AND m.user_id = ?", "mr.role_id"));
static struct db_stmt q_memberships = DB_STMT(
    ACCESS_MEMBERS("m.user_id = ?", "m.server_id, mr.role_id"));

static struct access_server	*access_slots[ACCESS_SLOTS];
static uint64_t			 access_reads;	/* a copy's generation */

/* Compare two ids for bsearch and qsort. */
int
access_cmp_id(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether a sorted array of n ids holds id. */
int
access_has_id(const uint64_t *ids, size_t n, uint64_t id)
{
	return n > 0 && bsearch(&id, ids, n, sizeof *ids,
	    access_cmp_id) != NULL;
}

/* Free what a server's copy holds (not the struct). */
void
access_clear(struct access_server *sa)
{
	free(sa->roles);
	free(sa->channels);
	free(sa->overwrites);
	free(sa->overwrite_channels);
	memset(sa, 0, sizeof *sa);
}

/* Read the server's roles; 0 or -1. */
static int
access_load_roles(struct access_server *sa)
{
	struct access_role	*r;
	struct db_rows		*rows;
	const char		*text;
	size_t			 len;
	int			 rc;

	if ((rows = db_query(&q_roles, "u", sa->id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		sa->roles = xreallocarray(sa->roles, sa->nroles + 1,
		    sizeof *sa->roles);
		r = &sa->roles[sa->nroles++];
		r->id = db_u64(rows, 0);
		text = db_str(rows, 1, &len);
		r->perms = text != NULL ? perm_parse_text(text, len) : 0;
		r->is_default = db_u64(rows, 2) != 0;
		if (r->is_default)
			sa->default_role = *r;
	}
	db_rows_free(rows);
	return rc;
}

/* Read the server's channel ids; 0 or -1. */
static int
access_load_channels(struct access_server *sa)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_channels, "u", sa->id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		sa->channels = xreallocarray(sa->channels, sa->nchannels + 1,
		    sizeof *sa->channels);
		sa->channels[sa->nchannels++] = db_u64(rows, 0);
	}
	db_rows_free(rows);
	return rc;
}

/*
 * Read the overwrites of the server's channels, each channel's together
 * and in the contract's order; overwrite_channels[i] is the channel of
 * overwrites[i].  0 or -1.
 */
static int
access_load_overwrites(struct access_server *sa)
{
	struct overwrite	*o;
	struct db_rows		*rows;
	int			 rc;

	if ((rows = db_query(&q_overwrites, "u", sa->id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		sa->overwrites = xreallocarray(sa->overwrites,
		    sa->noverwrites + 1, sizeof *sa->overwrites);
		sa->overwrite_channels = xreallocarray(sa->overwrite_channels,
		    sa->noverwrites + 1, sizeof *sa->overwrite_channels);
		sa->overwrite_channels[sa->noverwrites] = db_u64(rows, 0);
		o = &sa->overwrites[sa->noverwrites++];
		o->type = (int)db_u64(rows, 1);
		o->id = db_u64(rows, 2);
		o->allow = (uint32_t)db_u64(rows, 3);
		o->deny = (uint32_t)db_u64(rows, 4);
	}
	db_rows_free(rows);
	return rc;
}

/*
 * Read a server's owner, roles, channels and overwrites into sa, through
 * q (q_lock inside a change, which also locks the row): 1, 0 when there
 * is no such server, -1 on a database error (sa is then cleared).
 */
static int
access_read(uint64_t server_id, struct db_stmt *q, struct access_server *sa)
{
	struct db_rows	*rows;
	int		 rc;

	memset(sa, 0, sizeof *sa);
	sa->id = server_id;
	sa->loaded_seq = sequencer_visible();
	sa->generation = ++access_reads;
	if ((rows = db_query(q, "u", server_id)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1)
		sa->owner_id = db_u64(rows, 0);
	db_rows_free(rows);
	if (rc != 1)
		return rc;
	if (access_load_roles(sa) == -1 || access_load_channels(sa) == -1 ||
	    access_load_overwrites(sa) == -1) {
		access_clear(sa);
		return -1;
	}
	return 1;
}

/* Read a server's access as it is now: 1, 0 (no such server) or -1. */
int
access_load(uint64_t server_id, struct access_server *sa)
{
	return access_read(server_id, &q_owner, sa);
}

/* The slot of a server in the worker's table. */
static struct access_server **
access_slot(uint64_t server_id)
{
	return &access_slots[(server_id * 0x9e3779b97f4a7c15ULL) >> 54 &
	    (ACCESS_SLOTS - 1)];
}

/* Drop the worker's copy of a server. */
static void
access_drop(struct access_server **slot)
{
	if (*slot == NULL)
		return;
	access_clear(*slot);
	free(*slot);
	*slot = NULL;
}

/*
 * The worker's copy of a server's access in *out, read when it has none
 * (or one that another server shares the slot with, or one older than
 * seq, an event about to be judged that may have changed it): 1, 0 when
 * the server is gone, -1 when the database failed (which no caller may
 * take for "sees nothing").  Valid until the next call.
 */
int
access_cached(uint64_t server_id, uint64_t seq,
    const struct access_server **out)
{
	struct access_server	**slot = access_slot(server_id);
	int			  rc = 1;

	if (*slot != NULL && ((*slot)->id != server_id ||
	    (*slot)->loaded_seq < seq))
		access_drop(slot);
	if (*slot == NULL) {
		*slot = xcalloc(1, sizeof **slot);
		if ((rc = access_load(server_id, *slot)) != 1) {
			free(*slot);
			*slot = NULL;
		}
	}
	*out = *slot;
	return rc;
}

/* Drop the worker's copies of every server. */
void
access_forget_all(void)
{
	size_t	i;

	for (i = 0; i < ACCESS_SLOTS; i++)
		access_drop(&access_slots[i]);
}

/*
 * A hub entry passed: a change that is not a message may have changed
 * who sees what in its server (roles, overwrites, channels), so the
 * worker's copy of that server goes; a change of unknown scope drops
 * them all.
 */
void
access_forget(const struct hub_entry *e)
{
	if (e->server_id == HUB_ANY) {
		access_forget_all();
		return;
	}
	if (e->server_id == 0 || (e->flags & HUB_MESSAGE))
		return;
	if (*access_slot(e->server_id) != NULL &&
	    (*access_slot(e->server_id))->id == e->server_id)
		access_drop(access_slot(e->server_id));
}

/* Whether the server has a channel of that id. */
int
access_channel_exists(const struct access_server *sa, uint64_t channel_id)
{
	return access_has_id(sa->channels, sa->nchannels, channel_id);
}

/*
 * A channel's overwrites in the contract's order: a pointer into sa and
 * their number in *n (0 when it has none).
 */
const struct overwrite *
access_channel_overwrites(const struct access_server *sa,
    uint64_t channel_id, size_t *n)
{
	size_t	lo = 0, hi = sa->noverwrites, mid;

	/* The first overwrite of the channel or a later one. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sa->overwrite_channels[mid] < channel_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (*n = 0; lo + *n < sa->noverwrites &&
	    sa->overwrite_channels[lo + *n] == channel_id; (*n)++)
		;
	return *n > 0 ? &sa->overwrites[lo] : NULL;
}

/* The permissions of a role of the server, 0 when it has none. */
static uint32_t
access_role_perms(const struct access_server *sa, uint64_t role_id)
{
	const struct access_role	*r;

	if (sa->nroles == 0 || (r = bsearch(&role_id, sa->roles, sa->nroles,
	    sizeof *sa->roles, access_cmp_id)) == NULL)
		return 0;
	return r->perms;
}

/*
 * A member's permissions in a channel of the server (channel 0: in the
 * server), the way perm.c's perm_channel() reckons them.
 */
uint32_t
access_perms(const struct access_server *sa, const struct access_member *am,
    uint64_t channel_id)
{
	struct perm_overwrites	 po;
	const struct overwrite	*o;
	uint32_t		 base;
	size_t			 i, n;

	if (am->user_id == sa->owner_id)
		return PERM_ALL;
	base = sa->default_role.perms;
	for (i = 0; i < am->nroles; i++)
		base |= access_role_perms(sa, am->roles[i]);
	if (base & PERM_ADMINISTRATOR)
		return PERM_ALL;
	if (channel_id == 0)
		return base;
	memset(&po, 0, sizeof po);
	o = access_channel_overwrites(sa, channel_id, &n);
	for (i = 0; i < n; i++) {
		if (o[i].type == OVERWRITE_MEMBER) {
			if (o[i].id == am->user_id)
				perm_overwrites_add(&po, PERM_LAYER_MEMBER,
				    o[i].allow, o[i].deny);
		} else if (o[i].id == sa->default_role.id)
			perm_overwrites_add(&po, PERM_LAYER_EVERYONE,
			    o[i].allow, o[i].deny);
		else if (access_has_id(am->roles, am->nroles, o[i].id))
			perm_overwrites_add(&po, PERM_LAYER_ROLES, o[i].allow,
			    o[i].deny);
	}
	return perm_channel(base, &po);
}

/* Whether a member may view a channel of the server that exists. */
int
access_may_view(const struct access_server *sa,
    const struct access_member *am, uint64_t channel_id)
{
	return access_channel_exists(sa, channel_id) &&
	    (access_perms(sa, am, channel_id) & PERM_VIEW_CHANNELS);
}

/*
 * Write the channels of a server a member may view, with their
 * overwrites, as an array in id order: 0, or -1 on a database error (or
 * when they are no member).
 */
int
access_list_channels(uint64_t server_id, uint64_t user_id, yajl_gen g)
{
	struct access_server	 sa;
	struct access_member	 am;
	const struct overwrite	*o;
	struct channel		*c = NULL;
	size_t			 no;
	long			 n, i;
	int			 rc = -1;

	if (access_load(server_id, &sa) != 1)
		return -1;
	if (access_member_load(server_id, user_id, &am) == 1 &&
	    (n = channels_load_all(server_id, &c)) != -1) {
		yajl_gen_array_open(g);
		for (i = 0; i < n; i++) {
			if (!access_may_view(&sa, &am, c[i].id))
				continue;
			o = access_channel_overwrites(&sa, c[i].id, &no);
			channels_gen(g, &c[i], o, no);
		}
		yajl_gen_array_close(g);
		rc = 0;
	}
	free(c);
	free(am.roles);
	access_clear(&sa);
	return rc;
}

/* Free the role lists of n members and the array. */
void
access_members_free(struct access_member *members, size_t n)
{
	while (n > 0)
		free(members[--n].roles);
	free(members);
}

/*
 * Read memberships and their roles (rows of ACCESS_MEMBERS, a member's
 * together) into *out: their number, or -1.
 */
static long
access_read_members(struct db_rows *rows, struct access_member **out)
{
	struct access_member	*m = NULL;
	long			 n = 0;
	uint64_t		 server_id, user_id;
	int			 rc;

	*out = NULL;
	if (rows == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		server_id = db_u64(rows, 0);
		user_id = db_u64(rows, 1);
		if (n == 0 || m[n - 1].user_id != user_id ||
		    m[n - 1].server_id != server_id) {
			m = xreallocarray(m, n + 1, sizeof *m);
			memset(&m[n], 0, sizeof m[n]);
			m[n].server_id = server_id;
			m[n++].user_id = user_id;
		}
		if (db_is_null(rows, 2))
			continue;
		m[n - 1].roles = xreallocarray(m[n - 1].roles,
		    m[n - 1].nroles + 1, sizeof *m[n - 1].roles);
		m[n - 1].roles[m[n - 1].nroles++] = db_u64(rows, 2);
	}
	db_rows_free(rows);
	if (rc == -1) {
		access_members_free(m, n);
		return -1;
	}
	*out = m;
	return n;
}

/*
 * Read one member's roles: 1 (a member), 0 (not one) or -1.  am->roles
 * is the caller's to free.
 */
int
access_member_load(uint64_t server_id, uint64_t user_id,
    struct access_member *am)
{
	struct access_member	*m;
	long			 n;

	memset(am, 0, sizeof *am);
	am->server_id = server_id;
	am->user_id = user_id;
	if ((n = access_read_members(db_query(&q_member, "uu", server_id,
	    user_id), &m)) <= 0)
		return (int)n;
	*am = m[0];
	free(m);
	return 1;
}

/*
 * Read every membership of a user with their roles, ordered by server,
 * into *out (the caller frees it with access_members_free()): their
 * number, or -1.  One query, where access_member_load() a server takes
 * one each.
 */
long
access_memberships_load(uint64_t user_id, struct access_member **out)
{
	return access_read_members(db_query(&q_memberships, "u", user_id),
	    out);
}

/*
 * Note who views which of the judged channels in sa (the change's server
 * as read): the members (all, or the one the change concerns) and a bit
 * per member and channel.  0 or -1.
 */
static int
access_change_judge(const struct access_change *ch,
    const struct access_server *sa, struct access_member **members,
    size_t *n, uint8_t **view)
{
	long	nm;
	size_t	i, j;

	nm = ch->user_id != 0 ? access_read_members(db_query(&q_member, "uu",
	    ch->server_id, ch->user_id), members) :
	    access_read_members(db_query(&q_members, "u", ch->server_id),
	    members);
	if (nm == -1)
		return -1;
	*n = (size_t)nm;
	*view = xcalloc(*n * ch->nchannels + 1, 1);
	for (i = 0; i < *n; i++)
		for (j = 0; j < ch->nchannels; j++)
			(*view)[i * ch->nchannels + j] = access_may_view(sa,
			    &(*members)[i], ch->channels[j]);
	return 0;
}

/*
 * Start a change of access in a server, inside the open transaction:
 * lock the server's row (changes of one server's access go one at a
 * time) and, from what that read, note who views what.  channel_id 0:
 * every channel may change; user_id 0: every member may.  0 or -1 (a
 * database error, or the server is gone).
 */
int
access_change_begin(struct access_change *ch, uint64_t server_id,
    uint64_t channel_id, uint64_t user_id)
{
	struct access_server	sa;
	int			rc;

	memset(ch, 0, sizeof *ch);
	ch->server_id = server_id;
	ch->user_id = user_id;
	if (access_read(server_id, &q_lock, &sa) != 1)
		return -1;
	if (channel_id != 0) {
		ch->channels = xmalloc(sizeof *ch->channels);
		ch->channels[0] = channel_id;
		ch->nchannels = 1;
	} else if (sa.nchannels > 0) {
		ch->channels = xreallocarray(NULL, sa.nchannels,
		    sizeof *ch->channels);
		memcpy(ch->channels, sa.channels,
		    sa.nchannels * sizeof *ch->channels);
		ch->nchannels = sa.nchannels;
	}
	rc = access_change_judge(ch, &sa, &ch->members, &ch->nmembers,
	    &ch->view);
	access_clear(&sa);
	return rc;
}

/* Free what a change holds. */
void
access_change_free(struct access_change *ch)
{
	free(ch->channels);
	access_members_free(ch->members, ch->nmembers);
	free(ch->view);
	memset(ch, 0, sizeof *ch);
}

/*
 * The members who viewed a judged channel when the change began (the
 * audience of its channel.delete): a sorted array in *out (the caller
 * frees it) and their number.
 */
size_t
access_change_viewers(const struct access_change *ch, uint64_t channel_id,
    uint64_t **out)
{
	size_t	i, j, n = 0;

	*out = xreallocarray(NULL, ch->nmembers + 1, sizeof **out);
	for (j = 0; j < ch->nchannels && ch->channels[j] != channel_id; j++)
		;
	if (j == ch->nchannels)
		return 0;
	for (i = 0; i < ch->nmembers; i++) {
		if (ch->view[i * ch->nchannels + j])
			(*out)[n++] = ch->members[i].user_id;
	}
	return n;
}

/*
 * Append, in the open transaction, an event of a channel to an audience
 * (sorted user ids): channel.delete {id, server_id}, or channel.create
 * {channel}.  0 or -1.
 */
int
access_announce(const char *type, uint64_t server_id, uint64_t channel_id,
    const uint64_t *audience, size_t n)
{
	struct event_scope	 scope = { .server_id = server_id,
				    .channel_id = channel_id,
				    .audience = audience, .naudience = n };
	yajl_gen		 obj;
	int			 rc;

	if (strcmp(type, "channel.delete") == 0) {
		obj = json_ids("id", channel_id, "server_id", server_id);
		rc = change_event(type, &scope, 0, NULL, obj);
	} else {
		if ((obj = channels_json(channel_id)) == NULL)
			return -1;
		rc = change_event(type, &scope, 0, "channel", obj);
	}
	yajl_gen_free(obj);
	return rc;
}

/*
 * Announce one judged channel's change: channel.delete to the members
 * who viewed it and no longer do, channel.create to those who now do
 * and did not.  The member lists of before and after are both sorted by
 * user.  0 or -1.
 */
static int
access_change_channel(const struct access_change *ch, size_t j,
    const struct access_member *after, size_t nafter, const uint8_t *view)
{
	uint64_t	*lost, *gained;
	size_t		 i = 0, k = 0, nlost = 0, ngained = 0;
	int		 was, is, rc = 0;

	lost = xreallocarray(NULL, ch->nmembers + 1, sizeof *lost);
	gained = xreallocarray(NULL, nafter + 1, sizeof *gained);
	while (i < ch->nmembers || k < nafter) {
		if (k == nafter || (i < ch->nmembers &&
		    ch->members[i].user_id < after[k].user_id)) {
			i++;	/* gone from the server: member.leave says so */
			continue;
		}
		if (i == ch->nmembers ||
		    after[k].user_id < ch->members[i].user_id) {
			k++;	/* joined meanwhile: sees it from its join */
			continue;
		}
		was = ch->view[i * ch->nchannels + j];
		is = view[k * ch->nchannels + j];
		if (was && !is)
			lost[nlost++] = after[k].user_id;
		else if (!was && is)
			gained[ngained++] = after[k].user_id;
		i++;
		k++;
	}
	if (nlost > 0)
		rc = access_announce("channel.delete", ch->server_id,
		    ch->channels[j], lost, nlost);
	if (rc == 0 && ngained > 0)
		rc = access_announce("channel.create", ch->server_id,
		    ch->channels[j], gained, ngained);
	free(lost);
	free(gained);
	return rc;
}

/*
 * Finish a change of access, inside the open transaction, after the
 * change was written: judge again, and tell each member who lost or
 * gained view of a channel.  The change is freed.  0 or -1.
 */
int
access_change_finish(struct access_change *ch)
{
	struct access_server	 sa;
	struct access_member	*after = NULL;
	uint8_t			*view = NULL;
	size_t			 nafter = 0, j;
	int			 rc;

	rc = access_load(ch->server_id, &sa) == 1 ? access_change_judge(ch,
	    &sa, &after, &nafter, &view) : -1;
	for (j = 0; rc == 0 && j < ch->nchannels; j++) {
		if (access_channel_exists(&sa, ch->channels[j]))
			rc = access_change_channel(ch, j, after, nafter, view);
	}
	access_clear(&sa);
	access_members_free(after, nafter);
	free(view);
	access_change_free(ch);
	return rc;
}
