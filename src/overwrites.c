/* SPDX-License-Identifier: ISC */
/*
 * overwrites.c: the rows of channel permission overwrites (API.md,
 * Channel permission overwrites): reading a request's {allow, deny},
 * storing, deleting and listing a channel's, and writing them as JSON.
 * What they mean for a member is perm.c's (perm_channel()); who may set
 * them is api-overwrites.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define OVERWRITES_COLUMNS \
	"o.target_type, o.target_id, o.allow_bits, o.deny_bits"

/* A channel's overwrites in the contract's order (see overwrites_gen()). */
static struct db_stmt q_channel_overwrites = DB_STMT(
    "SELECT " OVERWRITES_COLUMNS " FROM channel_overwrites o"
    " LEFT JOIN roles r ON o.target_type = 0 AND r.id = o.target_id"
    " WHERE o.channel_id = ? ORDER BY o.target_type, r.position,"
    " o.target_id");
static struct db_stmt q_overwrite = DB_STMT(
    "SELECT " OVERWRITES_COLUMNS " FROM channel_overwrites o"
    " WHERE o.channel_id = ? AND o.target_type = ? AND o.target_id = ?");
static struct db_stmt q_put = DB_STMT(
    "INSERT INTO channel_overwrites (channel_id, target_type, target_id,"
    " server_id, allow_bits, deny_bits) VALUES (?, ?, ?, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE allow_bits = VALUES(allow_bits),"
    " deny_bits = VALUES(deny_bits)");
static struct db_stmt q_delete = DB_STMT(
    "DELETE FROM channel_overwrites WHERE channel_id = ?"
    " AND target_type = ? AND target_id = ?");
static struct db_stmt q_delete_target = DB_STMT(
    "DELETE FROM channel_overwrites WHERE server_id = ?"
    " AND target_type = ? AND target_id = ?");

/* Fill a struct overwrite from a row of OVERWRITES_COLUMNS. */
static void
overwrites_fill(struct db_rows *rows, void *out)
{
	struct overwrite	*o = out;

	o->type = (int)db_u64(rows, 0);
	o->id = db_u64(rows, 1);
	o->allow = (uint32_t)db_u64(rows, 2);
	o->deny = (uint32_t)db_u64(rows, 3);
}

/* The type of an overwrite as the contract names it. */
const char *
overwrites_type_name(int type)
{
	return type == OVERWRITE_MEMBER ? "member" : "role";
}

/* The type of a name of len bytes ("role" or "member"), or -1. */
int
overwrites_type_parse(const char *name, size_t len)
{
	if (len == 4 && memcmp(name, "role", 4) == 0)
		return OVERWRITE_ROLE;
	if (len == 6 && memcmp(name, "member", 6) == 0)
		return OVERWRITE_MEMBER;
	return -1;
}

/*
 * Write overwrites as an array of {type, id, allow, deny}, in the order
 * given (the contract's: role overwrites by role position, the default
 * role first, then member overwrites by user id); each list sorted by
 * name.
 */
void
overwrites_gen(yajl_gen g, const struct overwrite *o, size_t n)
{
	size_t	i;

	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		json_gen_kstr(g, "type", overwrites_type_name(o[i].type));
		json_gen_kid(g, "id", o[i].id);
		json_gen_key(g, "allow");
		perm_gen_sorted(g, o[i].allow);
		json_gen_key(g, "deny");
		perm_gen_sorted(g, o[i].deny);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

/*
 * Load a channel's overwrites in the contract's order into *out (freed
 * by the caller; NULL when none): their number, or -1.
 */
long
overwrites_load(uint64_t channel_id, struct overwrite **out)
{
	struct db_rows	*rows;
	long		 n = 0;
	int		 rc;

	*out = NULL;
	if ((rows = db_query(&q_channel_overwrites, "u", channel_id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		*out = xreallocarray(*out, n + 1, sizeof **out);
		overwrites_fill(rows, &(*out)[n++]);
	}
	db_rows_free(rows);
	if (rc == -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return n;
}

/* Load one overwrite: 1 found, 0 none, -1 on a database error. */
int
overwrites_get(uint64_t channel_id, int type, uint64_t target_id,
    struct overwrite *o)
{
	memset(o, 0, sizeof *o);
	return db_fetch_one(db_query(&q_overwrite, "udu", channel_id, type,
	    target_id), overwrites_fill, o);
}

/*
 * Read one permission list of an overwrite (the field allow or deny,
 * missing meaning none): only the names an overwrite may hold.  0, or -1
 * with 400 answered.
 */
static int
overwrites_parse_list(struct request *req, const struct json *body,
    const char *field, uint32_t *bits)
{
	const struct json	*arr = json_get(body, field);

	*bits = 0;
	if (arr == NULL || arr->type == JSON_NULL)
		return 0;
	if (perm_parse(arr, bits) == -1 || (*bits & ~PERM_OVERWRITABLE)) {
		response_invalid(req, field, "must be an array of the "
		    "permission names an overwrite may hold");
		return -1;
	}
	return 0;
}

/*
 * Read {allow?, deny?} of a JSON object into o (its type and id are the
 * caller's): 0, or -1 with 400 answered.  field names the object in the
 * message when it is not the body itself (NULL).
 */
int
overwrites_parse(struct request *req, const struct json *obj,
    const char *field, struct overwrite *o)
{
	if (overwrites_parse_list(req, obj, "allow", &o->allow) == -1 ||
	    overwrites_parse_list(req, obj, "deny", &o->deny) == -1)
		return -1;
	if (o->allow & o->deny) {
		response_invalid(req, field != NULL ? field : "allow",
		    "may not both allow and deny a permission");
		return -1;
	}
	return 0;
}

/* Create or replace a channel's overwrite, in the open transaction. */
int
overwrites_put(uint64_t channel_id, uint64_t server_id,
    const struct overwrite *o)
{
	return db_exec(&q_put, "uduuuu", channel_id, o->type, o->id,
	    server_id, (uint64_t)o->allow, (uint64_t)o->deny) == -1 ? -1 : 0;
}

/* Delete a channel's overwrite: 1, 0 when there was none, or -1. */
long long
overwrites_delete(uint64_t channel_id, int type, uint64_t target_id)
{
	return db_exec(&q_delete, "udu", channel_id, type, target_id);
}

/*
 * Delete every overwrite of a target in a server's channels (a role
 * deleted, a member gone), in the open transaction: 0 or -1.
 */
int
overwrites_forget_target(uint64_t server_id, int type, uint64_t target_id)
{
	return db_exec(&q_delete_target, "udu", server_id, type,
	    target_id) == -1 ? -1 : 0;
}
