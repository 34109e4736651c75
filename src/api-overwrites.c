/* SPDX-License-Identifier: ISC */
/*
 * api-overwrites.c: a channel's permission overwrites (API.md, Channel
 * permission overwrites): PUT and DELETE
 * /channels/{id}/overwrites/{role|member}/{target_id}, and the checks a
 * new private channel's overwrites pass (api-channels.c).  Both need
 * manage_roles in the channel; without being the owner, a role's
 * overwrite only for a role below your rank, and only permissions you
 * have there.  A change tells the members who lost or gained view of
 * the channel (access.c), then everyone who views it channel.update.
 */
#include <inttypes.h>

#include "sohbet.h"

/*
 * Check the target of an overwrite exists in the server (a role of it,
 * or a member) and, for a role, that the actor may manage it.  0, or -1
 * with the refusal answered: an unknown target is 404, or 400 on field
 * when field is not NULL (a channel's creation).
 */
static int
api_overwrites_target(struct request *req, const struct member *actor,
    uint64_t server_id, const struct overwrite *o, const char *field)
{
	struct member	target;
	struct role	r;
	int		rc;

	if (o->type == OVERWRITE_ROLE)
		rc = roles_load(server_id, o->id, &r);
	else
		rc = perm_load(server_id, o->id, &target);
	if (rc == -1) {
		response_db_error(req);
		return -1;
	}
	if (rc == 0) {
		if (field != NULL)
			response_invalid(req, field, "Unknown %s %" PRIu64,
			    o->type == OVERWRITE_ROLE ? "role" : "member",
			    o->id);
		else
			response_not_found(req, o->type == OVERWRITE_ROLE ?
			    "role" : "member");
		return -1;
	}
	if (o->type == OVERWRITE_ROLE && !perm_may_manage_role(actor,
	    r.position)) {
		response_error(req, 403, "missing_permission", "You may only "
		    "set overwrites for roles below your highest role");
		return -1;
	}
	return 0;
}

/* Check the actor has every permission of bits (the owner: all). */
static int
api_overwrites_grant(struct request *req, const struct member *actor,
    uint32_t bits)
{
	if (perm_may_grant(actor, bits))
		return 0;
	response_error(req, 403, "missing_permission", "You may only allow "
	    "or deny permissions you have in this channel");
	return -1;
}

/*
 * Check an overwrite of a channel being created, as a PUT would check it
 * with the actor's server-wide permissions; an unknown target is 400 on
 * field.  0, or -1 with the refusal answered.
 */
int
api_overwrites_check(struct request *req, const struct member *actor,
    uint64_t server_id, const struct overwrite *o, const char *field)
{
	if (api_overwrites_target(req, actor, server_id, o, field) == -1)
		return -1;
	return api_overwrites_grant(req, actor, o->allow | o->deny);
}

/*
 * Write a change of one overwrite in a transaction: note who views the
 * channel, run write (a put or a delete), tell those who lost or gained
 * view, then commit with channel.update to those who view it now and
 * answer status (200 with the channel, or 204).
 */
static void
api_overwrites_change(struct request *req, const struct channel *c,
    const struct overwrite *o, int status)
{
	struct event_scope	 scope = { .server_id = c->server_id,
				    .channel_id = c->id };
	struct access_change	 ch;

	if (db_begin() == -1 || access_change_begin(&ch, c->server_id, c->id,
	    o->type == OVERWRITE_MEMBER ? o->id : 0) == -1) {
		change_abort(req);
		return;
	}
	if ((status == 200 ? overwrites_put(c->id, c->server_id, o) :
	    (int)overwrites_delete(c->id, o->type, o->id)) == -1) {
		access_change_free(&ch);
		change_abort(req);
		return;
	}
	if (access_change_finish(&ch) == -1) {
		change_abort(req);
		return;
	}
	change_commit(req, &(struct change){ .status = status,
	    .event = "channel.update", .scope = &scope, .key = "channel",
	    .object = channels_json(c->id) });
}

/* PUT /channels/{id}/overwrites/{type}/{target_id} {allow?, deny?}. */
static void
api_overwrites_put(struct request *req, int type)
{
	struct member		m;
	struct channel		c;
	struct overwrite	o = { .type = type, .id = req->ids[1] };

	if (param_body(req) == -1 ||
	    channels_require(req, req->ids[0], PERM_MANAGE_ROLES, &m,
	    &c) == -1 || overwrites_parse(req, req->json, NULL, &o) == -1 ||
	    api_overwrites_check(req, &m, c.server_id, &o, NULL) == -1)
		return;
	api_overwrites_change(req, &c, &o, 200);
}

/*
 * DELETE /channels/{id}/overwrites/{type}/{target_id} → 204, also when
 * there was none (then nothing changes and no event is sent).  Deleting
 * one changes the permissions it allowed or denied: the actor must have
 * them all.
 */
static void
api_overwrites_delete(struct request *req, int type)
{
	struct member		m;
	struct channel		c;
	struct overwrite	o = { .type = type, .id = req->ids[1] };
	struct overwrite	old;
	int			rc;

	if (channels_require(req, req->ids[0], PERM_MANAGE_ROLES, &m,
	    &c) == -1 ||
	    api_overwrites_target(req, &m, c.server_id, &o, NULL) == -1)
		return;
	if ((rc = overwrites_get(c.id, type, o.id, &old)) == -1) {
		response_db_error(req);
		return;
	}
	if (rc == 0) {
		response_empty(req, 204);
		return;
	}
	if (api_overwrites_grant(req, &m, old.allow | old.deny) == -1)
		return;
	api_overwrites_change(req, &c, &o, 204);
}

static void
api_overwrites_put_role(struct request *req)
{
	api_overwrites_put(req, OVERWRITE_ROLE);
}

static void
api_overwrites_put_member(struct request *req)
{
	api_overwrites_put(req, OVERWRITE_MEMBER);
}

static void
api_overwrites_delete_role(struct request *req)
{
	api_overwrites_delete(req, OVERWRITE_ROLE);
}

static void
api_overwrites_delete_member(struct request *req)
{
	api_overwrites_delete(req, OVERWRITE_MEMBER);
}

const struct route api_overwrites_routes[] = {
	{ "PUT", API_PREFIX "/channels/{id}/overwrites/role/{id}",
	    api_overwrites_put_role, ROUTE_AUTH },
	{ "PUT", API_PREFIX "/channels/{id}/overwrites/member/{id}",
	    api_overwrites_put_member, ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/channels/{id}/overwrites/role/{id}",
	    api_overwrites_delete_role, ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/channels/{id}/overwrites/member/{id}",
	    api_overwrites_delete_member, ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
