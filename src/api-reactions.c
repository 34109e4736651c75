/* SPDX-License-Identifier: ISC */
/*
 * api-reactions.c: the reactions of a message (API.md, Replies, reactions
 * and pins) under …/messages/{message_id}/reactions/{emoji} of a channel
 * or a DM.  api-messages.c and api-dms.c open the conversation (its
 * access checks and the caller's permissions in it) and pass it here;
 * the rows and events are reactions.c's.
 */
#include <string.h>

#include "sohbet.h"

#define API_REACTIONS_LIMIT_DEFAULT	50

/*
 * PUT …/reactions/{emoji}/@me: add_reactions (a DM: both may); added
 * with the other PUTs the worker holds (reactbatch.c), or alone.
 */
static void
api_reactions_put(struct request *req, const struct conversation *c,
    uint64_t id, const char *emoji)
{
	struct event_scope	scope;

	if (!c->may_react) {
		response_error(req, 403, "missing_permission", "You need the "
		    "add_reactions permission to react");
		return;
	}
	if (reactbatch_add(req, c, id, emoji) == 0)
		return;
	messages_scope(c, &scope);
	reactions_respond(req, reactions_add(c, &scope, id, emoji,
	    req->user_id));
}

/*
 * DELETE …/reactions/{emoji}/{user_id|@me}: your own, or anyone's with
 * manage_messages in a server channel.
 */
static void
api_reactions_delete(struct request *req, const struct conversation *c,
    uint64_t id, const char *emoji, uint64_t user_id)
{
	struct event_scope	scope;

	if (user_id != req->user_id && !c->moderator) {
		response_error(req, 403, "missing_permission", "You need the "
		    "manage_messages permission to remove others' reactions");
		return;
	}
	messages_scope(c, &scope);
	reactions_respond(req, reactions_remove(c, &scope, id, emoji,
	    user_id));
}

/* GET …/reactions/{emoji}?after=<user_id>&limit=: who reacted. */
static void
api_reactions_users(struct request *req, const struct conversation *c,
    uint64_t id, const char *emoji)
{
	uint64_t	after = 0;
	long		limit = API_REACTIONS_LIMIT_DEFAULT;
	yajl_gen	g;
	int		rc;

	if (param_query_page(req, MESSAGES_LIMIT_MAX, &after, &limit) == -1)
		return;
	g = json_gen_new();
	if ((rc = reactions_users(c, id, emoji, after, limit, g)) == 0) {
		yajl_gen_free(g);
		response_not_found(req, "message");
		return;
	}
	response_list(req, g, rc == 1 ? 0 : -1);
}

/*
 * Serve …/messages/{message_id}/reactions/{emoji}[/{user}] of an opened
 * conversation: the emoji, percent-decoded from the path, must be one
 * emoji (emoji.c), which is then used in its fully-qualified form.
 */
void
api_reactions_serve(struct request *req, const struct conversation *c)
{
	const char	*emoji;
	uint64_t	 id = req->ids[1];

	if ((emoji = emoji_lookup(req->args[2], strlen(req->args[2]))) ==
	    NULL) {
		response_invalid(req, "emoji", "emoji must be one Unicode "
		    "emoji of at most %d bytes", EMOJI_BYTES_MAX);
		return;
	}
	if (strcmp(req->method, "PUT") == 0)
		api_reactions_put(req, c, id, emoji);
	else if (strcmp(req->method, "DELETE") == 0)
		api_reactions_delete(req, c, id, emoji, req->ids[3]);
	else
		api_reactions_users(req, c, id, emoji);
}
