/* SPDX-License-Identifier: ISC */
/*
 * perm.c: the permission model (API.md, Roles and permissions; Channel
 * permission overwrites).  A member's permissions in a server are the
 * union of the default role and their roles; the owner and holders of
 * administrator have all.  In a channel, its overwrites then apply in
 * Discord's order (perm_channel()), and without view_channels there a
 * member has nothing in it.  Rank is the highest position among a
 * member's roles; the owner outranks everyone.  Every endpoint, every
 * audience of an event (access.c) and the web client (web/js/perm.js)
 * ask the same rules; none re-implements one.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

static const char *const perm_names[PERM_COUNT] = {
	"administrator", "manage_server", "manage_roles", "manage_channels",
	"kick_members", "create_invite", "change_nickname",
	"manage_nicknames", "view_channels", "send_messages",
	"manage_messages", "ban_members", "add_reactions", "attach_files",
	"mention_everyone",
};

/*
 * A member's standing in one statement: the server's owner, membership,
 * and one row per role that applies (the default role and theirs).
 */
static struct db_stmt q_member = DB_STMT(
    "SELECT " PERM_COLUMNS " FROM servers s" PERM_JOINS " WHERE s.id = ?");

/* The bit indexes in the alphabetical order of their names. */
static unsigned int	perm_by_name[PERM_COUNT];
static int		perm_by_name_ready;

/* The name of one permission bit's index. */
const char *
perm_name(unsigned int i)
{
	return i < PERM_COUNT ? perm_names[i] : NULL;
}

/* The bit of a permission name (with its length), or 0 if unknown. */
uint32_t
perm_bit(const char *name, size_t len)
{
	unsigned int	i;

	for (i = 0; i < PERM_COUNT; i++) {
		if (strlen(perm_names[i]) == len &&
		    memcmp(perm_names[i], name, len) == 0)
			return 1u << i;
	}
	return 0;
}

/* Parse a JSON array of permission names; -1 if any is not one. */
int
perm_parse(const struct json *arr, uint32_t *out)
{
	uint32_t	bits = 0, bit;
	size_t		i;

	if (arr == NULL || arr->type != JSON_ARRAY)
		return -1;
	for (i = 0; i < arr->count; i++) {
		if (arr->items[i]->type != JSON_STRING ||
		    (bit = perm_bit(arr->items[i]->text,
		    arr->items[i]->len)) == 0)
			return -1;
		bits |= bit;
	}
	*out = bits;
	return 0;
}

/* Parse a stored permissions column (a JSON array of names). */
uint32_t
perm_parse_text(const char *text, size_t len)
{
	struct json	*wrapped;
	char		*doc;
	uint32_t	 bits = 0;

	/* json_parse wants an object: wrap the array. */
	xasprintf(&doc, "{\"p\":%.*s}", (int)len, text);
	if (json_parse(doc, strlen(doc), &wrapped) == 0) {
		if (perm_parse(json_get(wrapped, "p"), &bits) == -1)
			log_warnx("%s: bad stored permissions", __func__);
		json_free(wrapped);
	}
	free(doc);
	return bits;
}

/* Write permission bits as a JSON array of names, in canonical order. */
void
perm_gen(yajl_gen g, uint32_t bits)
{
	unsigned int	i;

	yajl_gen_array_open(g);
	for (i = 0; i < PERM_COUNT; i++) {
		if (bits & (1u << i))
			json_gen_str(g, perm_names[i]);
	}
	yajl_gen_array_close(g);
}

/* Order two bit indexes by their names. */
static int
perm_cmp_name(const void *a, const void *b)
{
	return strcmp(perm_names[*(const unsigned int *)a],
	    perm_names[*(const unsigned int *)b]);
}

/*
 * Write permission bits as a JSON array of names sorted by name, the
 * order of an overwrite's lists.
 */
void
perm_gen_sorted(yajl_gen g, uint32_t bits)
{
	unsigned int	i;

	if (!perm_by_name_ready) {
		for (i = 0; i < PERM_COUNT; i++)
			perm_by_name[i] = i;
		qsort(perm_by_name, PERM_COUNT, sizeof *perm_by_name,
		    perm_cmp_name);
		perm_by_name_ready = 1;
	}
	yajl_gen_array_open(g);
	for (i = 0; i < PERM_COUNT; i++) {
		if (bits & (1u << perm_by_name[i]))
			json_gen_str(g, perm_names[perm_by_name[i]]);
	}
	yajl_gen_array_close(g);
}

/* Serialise permission bits to a newly allocated JSON array text. */
char *
perm_to_text(uint32_t bits)
{
	yajl_gen	 g;
	const char	*text;
	size_t		 len;
	char		*out;

	g = json_gen_new();
	perm_gen(g, bits);
	text = json_gen_text(g, &len);
	out = xstrndup(text, len);
	yajl_gen_free(g);
	return out;
}

/* Add one row's role (if any) to m: permissions and rank. */
static void
perm_add_role(struct db_rows *rows, unsigned int col, struct member *m)
{
	const char	*text;
	size_t		 len;

	if ((text = db_str(rows, col + 2, &len)) == NULL)
		return;
	m->perms |= perm_parse_text(text, len);
	if (db_u64(rows, col + 4) == 0 && db_i64(rows, col + 3) > m->rank)
		m->rank = (int)db_i64(rows, col + 3);
}

/*
 * Add one row's overwrites to o: at column col, the overwrite of the
 * row's role (the default role's when the row's is_default, at rcol + 4,
 * is set), and at col + 2 the member's own (the same on every row).
 * NULL columns: no overwrite.
 */
static void
perm_add_overwrites(struct db_rows *rows, unsigned int rcol,
    unsigned int col, int first, struct perm_overwrites *o)
{
	if (!db_is_null(rows, col))
		perm_overwrites_add(o, db_u64(rows, rcol + 4) != 0 ?
		    PERM_LAYER_EVERYONE : PERM_LAYER_ROLES,
		    (uint32_t)db_u64(rows, col), (uint32_t)db_u64(rows, col + 1));
	if (first && !db_is_null(rows, col + 2))
		perm_overwrites_add(o, PERM_LAYER_MEMBER,
		    (uint32_t)db_u64(rows, col + 2),
		    (uint32_t)db_u64(rows, col + 3));
}

/*
 * Read the PERM_COLUMNS rows of a member's standing (and, with o, the
 * PERM_OVERWRITE_COLUMNS at ocol into o), then settle owner and
 * administrator.  1 member, 0 not, -1 on a database error.
 */
static int
perm_read_rows(struct db_rows *rows, unsigned int col, unsigned int ocol,
    struct member *m, struct perm_overwrites *o)
{
	int	rc, first = 1;

	m->owner_id = db_u64(rows, col);
	m->is_member = db_u64(rows, col + 1) != 0;
	do {
		perm_add_role(rows, col, m);
		if (o != NULL)
			perm_add_overwrites(rows, col, ocol, first, o);
		first = 0;
	} while ((rc = db_fetch(rows)) == 1);
	if (rc == -1)
		return -1;
	if (!m->is_member) {
		m->perms = 0;
		m->rank = 0;
		return 0;
	}
	if (m->owner_id == m->user_id) {
		m->rank = INT_MAX;
		m->perms = PERM_ALL;
	} else if (m->perms & PERM_ADMINISTRATOR)
		m->perms = PERM_ALL;
	return 1;
}

/*
 * Read a member's standing from the PERM_COLUMNS of a result, starting at
 * column col of the current row (the caller fetched it) and going through
 * the remaining rows; m holds server_id and user_id.  1 if they are a
 * member, 0 if not, -1 on a database error.  The caller frees rows.
 */
int
perm_read(struct db_rows *rows, unsigned int col, struct member *m)
{
	return perm_read_rows(rows, col, 0, m, NULL);
}

/*
 * As perm_read(), for a channel: the rows also carry the
 * PERM_OVERWRITE_COLUMNS at ocol, and m->perms ends as the member's
 * permissions in the channel (perm_channel()).
 */
int
perm_read_channel(struct db_rows *rows, unsigned int col, unsigned int ocol,
    struct member *m)
{
	struct perm_overwrites	o;
	int			rc;

	memset(&o, 0, sizeof o);
	if ((rc = perm_read_rows(rows, col, ocol, m, &o)) == 1)
		m->perms = perm_channel(m->perms, &o);
	return rc;
}

/*
 * Add an overwrite to the layer it belongs to: the default role's, the
 * member's roles' (their denies and allows each united), or the member's
 * own.
 */
void
perm_overwrites_add(struct perm_overwrites *o, enum perm_layer layer,
    uint32_t allow, uint32_t deny)
{
	o->allow[layer] |= allow;
	o->deny[layer] |= deny;
}

/*
 * A member's permissions in a channel, from their server-wide set (as
 * perm_read() leaves it: all of them for the owner and administrators)
 * and the overwrites that apply to them, in Discord's order: the owner
 * and administrators keep all; otherwise the default role's overwrite
 * (its deny removed, then its allow added), then the member's roles'
 * overwrites together, then the member's own.  Without view_channels in
 * the channel, nothing at all.
 */
uint32_t
perm_channel(uint32_t server_perms, const struct perm_overwrites *o)
{
	uint32_t	p = server_perms;
	int		layer;

	if (p & PERM_ADMINISTRATOR)
		return PERM_ALL;
	for (layer = PERM_LAYER_EVERYONE; layer <= PERM_LAYER_MEMBER;
	    layer++) {
		p &= ~o->deny[layer];
		p |= o->allow[layer];
	}
	return (p & PERM_VIEW_CHANNELS) ? p : 0;
}

/* Start a member record for a user in a server. */
void
perm_init(struct member *m, uint64_t server_id, uint64_t user_id)
{
	memset(m, 0, sizeof *m);
	m->server_id = server_id;
	m->user_id = user_id;
}

/*
 * Load what a user may do in a server.  1 if they are a member, 0 if the
 * server does not exist or they are not in it, -1 on a database error.
 */
int
perm_load(uint64_t server_id, uint64_t user_id, struct member *m)
{
	struct db_rows	*rows;
	int		 rc;

	perm_init(m, server_id, user_id);
	if ((rows = db_query(&q_member, "uu", user_id, server_id)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1)
		rc = perm_read(rows, 0, m);
	db_rows_free(rows);
	return rc;
}

/* Whether the member holds every permission in need. */
int
perm_has(const struct member *m, uint32_t need)
{
	return (m->perms & need) == need;
}

/* Whether the member is the server's owner. */
int
perm_is_owner(const struct member *m)
{
	return m->owner_id == m->user_id;
}

/* Whether actor outranks target (the owner outranks all, none the owner). */
int
perm_outranks(const struct member *actor, const struct member *target)
{
	if (perm_is_owner(target))
		return 0;
	if (perm_is_owner(actor))
		return 1;
	return actor->rank > target->rank;
}

/* Whether actor may create, edit, assign or remove a role at position. */
int
perm_may_manage_role(const struct member *actor, int position)
{
	return perm_is_owner(actor) || position < actor->rank;
}

/* Whether actor may grant these permissions (only ones they hold). */
int
perm_may_grant(const struct member *actor, uint32_t bits)
{
	return perm_is_owner(actor) || (actor->perms & bits) == bits;
}

/* The permission name for a message naming what is missing. */
static const char *
perm_first_name(uint32_t bits)
{
	unsigned int	i;

	for (i = 0; i < PERM_COUNT; i++) {
		if (bits & (1u << i))
			return perm_names[i];
	}
	return "permission";
}

/*
 * Load the caller's membership of a server and check need: 0, or -1 with
 * 404 (not a member, or no such server), 403 missing_permission or 503
 * answered.
 */
int
perm_require(struct request *req, uint64_t server_id, uint32_t need,
    struct member *m)
{
	int	rc;

	if ((rc = perm_load(server_id, req->user_id, m)) == -1) {
		response_db_error(req);
		return -1;
	}
	if (rc == 0) {
		response_not_found(req, "server");
		return -1;
	}
	return perm_check(req, m, need);
}

/* Check a loaded member holds need: 0, or -1 with 403 answered. */
int
perm_check(struct request *req, const struct member *m, uint32_t need)
{
	if (perm_has(m, need))
		return 0;
	response_error(req, 403, "missing_permission", "You need the %s "
	    "permission", perm_first_name(need & ~m->perms));
	return -1;
}

/*
 * The permission changing target's nickname takes: change_nickname for
 * your own, manage_nicknames for someone else's.
 */
uint32_t
perm_nickname_need(const struct member *actor, const struct member *target)
{
	return actor->user_id == target->user_id ? PERM_CHANGE_NICKNAME :
	    PERM_MANAGE_NICKNAMES;
}

/*
 * Whether actor may act on target with need: they hold it and, unless
 * the target is themself, outrank the target.
 */
int
perm_may_act_on(const struct member *actor, const struct member *target,
    uint32_t need)
{
	return perm_has(actor, need) && (actor->user_id == target->user_id ||
	    perm_outranks(actor, target));
}

/* Whether actor may delete an invite made by inviter_id. */
int
perm_may_delete_invite(const struct member *actor, uint64_t inviter_id)
{
	return actor->user_id == inviter_id ||
	    perm_has(actor, PERM_MANAGE_SERVER);
}

/* Answer 403 missing_permission with a message. */
static int
perm_refuse(struct request *req, const char *message)
{
	response_error(req, 403, "missing_permission", "%s", message);
	return -1;
}

/* Check the member owns the server: 0, or -1 with 403 answered. */
int
perm_check_owner(struct request *req, const struct member *m)
{
	if (perm_is_owner(m))
		return 0;
	return perm_refuse(req, "Only the server's owner may do that");
}

/*
 * Check actor may act on target with need (perm_may_act_on): 0, or -1
 * with 403 answered.
 */
int
perm_check_member(struct request *req, const struct member *actor,
    const struct member *target, uint32_t need)
{
	if (perm_check(req, actor, need) == -1)
		return -1;
	if (perm_may_act_on(actor, target, need))
		return 0;
	return perm_refuse(req, "You may only do that to members below your "
	    "highest role");
}

/*
 * Check actor may create, edit, delete, assign or remove a role at
 * position and grant the permissions in grant: manage_roles, a position
 * below their rank, only permissions they hold.  0, or -1 with 403.
 */
int
perm_check_role(struct request *req, const struct member *actor,
    int position, uint32_t grant)
{
	if (perm_check(req, actor, PERM_MANAGE_ROLES) == -1)
		return -1;
	if (!perm_may_manage_role(actor, position))
		return perm_refuse(req, "You may only manage roles below your "
		    "highest role");
	if (!perm_may_grant(actor, grant))
		return perm_refuse(req, "You may only grant permissions you "
		    "have");
	return 0;
}

/* Check actor may delete an invite made by inviter_id: 0, or -1 with 403. */
int
perm_check_invite(struct request *req, const struct member *actor,
    uint64_t inviter_id)
{
	if (perm_may_delete_invite(actor, inviter_id))
		return 0;
	return perm_refuse(req, "Only the invite's creator or a member with "
	    "manage_server may delete it");
}

/*
 * Answer the array list writes of the things in server ids[0], for a
 * member holding need (else 404 or 403).
 */
void
perm_answer_list(struct request *req, uint32_t need,
    int (*list)(uint64_t, yajl_gen))
{
	struct member	m;
	yajl_gen	g;

	if (perm_require(req, req->ids[0], need, &m) == -1)
		return;
	g = json_gen_new();
	response_list(req, g, list(req->ids[0], g));
}

/*
 * Answer a page of the things in server ids[0] (after and limit from the
 * query, limit 1..max, default limit) in id order, for a member holding
 * need (else 404 or 403).
 */
void
perm_answer_page(struct request *req, uint32_t need, long max, long limit,
    int (*list)(uint64_t, uint64_t, int, yajl_gen))
{
	struct member	m;
	uint64_t	after = 0;
	yajl_gen	g;

	if (perm_require(req, req->ids[0], need, &m) == -1 ||
	    param_query_page(req, max, &after, &limit) == -1)
		return;
	g = json_gen_new();
	response_list(req, g, list(req->ids[0], after, (int)limit, g));
}
