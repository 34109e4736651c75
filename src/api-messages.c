/* SPDX-License-Identifier: ISC */
/*
 * api-messages.c: the messages endpoints of both kinds of conversation
 * (API.md, Messages): …/messages and …/messages/{message_id} under
 * /channels/{id} (the access check of a server channel is here) and under
 * /dms/{id} (api-dms.c checks the participants, then calls
 * api_messages_serve()).  Reading is history.c's, writing messages.c's.
 * The reactions and pins of both kinds go on to api-reactions.c and
 * api-pins.c through the same access checks.
 */
#include <string.h>

#include "sohbet.h"

#define API_MESSAGES_CONTENT_MAX	4000	/* code points */
#define API_MESSAGES_NONCE_MAX		64

/* GET …/messages: one page of history. */
static void
api_messages_page(struct request *req, const struct conversation *c)
{
	struct messages_page	p;
	yajl_gen		g;
	long			n, wait;

	if (history_page_parse(req, &p) == -1 ||
	    wait_parse(req, &p, &wait) == -1)
		return;
	g = json_gen_new();
	if ((n = history_list(c, &p, g)) == -1) {
		yajl_gen_free(g);
		response_db_error(req);
		return;
	}
	if (n == 0 && wait > 0) {
		yajl_gen_free(g);
		wait_park(req, c, &p, wait);
		return;
	}
	response_json(req, 200, g);
}

/* GET …/messages/{message_id}. */
static void
api_messages_get(struct request *req, const struct conversation *c,
    uint64_t id)
{
	struct message	m;
	int		rc;

	if ((rc = messages_load(c, id, &m)) == -1)
		response_db_error(req);
	else if (rc == 0)
		response_not_found(req, "message");
	else {
		messages_respond(req, 200, &m);
		messages_clear(&m);
	}
}

/*
 * Read the required content field (the same rules for send and edit); it
 * may be "" when the message has attachments.
 */
static int
api_messages_content(struct request *req, int attached, const char **content,
    size_t *len)
{
	int	rc;

	if (param_body(req) == -1)
		return -1;
	rc = param_text(req, "content", attached ? 0 : 1,
	    API_MESSAGES_CONTENT_MAX, attached ? 0 : TEXT_NOT_BLANK, content,
	    len);
	if (rc == PARAM_ABSENT) {
		response_invalid(req, "content", "content is required");
		return -1;
	}
	return rc;
}

/*
 * POST …/messages {content, nonce?, reply_to?, attachments?}: checked
 * here (and counted against the sender's limit, ratelimit.c), its
 * mentions resolved (mentions.c), then posted with the other sends the
 * worker holds (sendbatch.c), or alone; a reply always alone (messages.c
 * checks its original in the transaction that posts it), and a message
 * with attachments (messages.c claims them).
 */
static void
api_messages_post(struct request *req, const struct conversation *c)
{
	struct mentions	 ms;
	const char	*content, *nonce = NULL;
	uint64_t	 att[ATTACHMENTS_PER_MESSAGE];
	size_t		 len, natt = 0;
	uint64_t	 reply_to = 0;

	if (param_body(req) == -1 || param_ids(req, "attachments",
	    ATTACHMENTS_PER_MESSAGE, att, &natt) == -1 ||
	    api_messages_content(req, natt > 0, &content, &len) == -1 ||
	    param_text(req, "nonce", 1, API_MESSAGES_NONCE_MAX, 0, &nonce,
	    NULL) == -1 || param_id(req, "reply_to", &reply_to) == -1 ||
	    ratelimit_send(req, c) == -1 ||
	    mentions_resolve(req, c, content, len, &ms) == -1)
		return;
	if (natt > 0)
		messages_send_attached(req, c, content, len, nonce, reply_to,
		    &ms, att, natt);
	else if (reply_to != 0 || sendbatch_add(req, c, content, len, nonce,
	    &ms) == -1)
		messages_send(req, c, content, len, nonce, reply_to, &ms);
	mentions_clear(&ms);
}

/* PATCH …/messages/{message_id} {content}: the author edits. */
static void
api_messages_patch(struct request *req, const struct conversation *c,
    uint64_t id)
{
	struct mentions	 ms;
	const char	*content;
	size_t		 len;

	if (api_messages_content(req, 0, &content, &len) == -1 ||
	    mentions_resolve(req, c, content, len, &ms) == -1)
		return;
	messages_edit(req, c, id, content, len, &ms);
	mentions_clear(&ms);
}

/*
 * Serve a request on …/messages (req->nargs 1) or …/messages/{message_id}
 * (the message id in req->ids[1]), their reactions or the pins of a
 * conversation the caller may open: a server channel (below) or a DM
 * (api-dms.c).  The caller is the reader whose reactions are "me".
 */
void
api_messages_serve(struct request *req, const struct conversation *opened)
{
	struct conversation	 conversation = *opened, *c = &conversation;
	const char		*method = req->method;
	uint64_t		 id = req->nargs > 1 ? req->ids[1] : 0;

	c->reader_id = req->user_id;
	if (strstr(req->route->pattern, "/reactions/") != NULL)
		api_reactions_serve(req, c);
	else if (strstr(req->route->pattern, "/pins") != NULL)
		api_pins_serve(req, c);
	else if (id == 0 && strcmp(method, "GET") == 0)
		api_messages_page(req, c);
	else if (id == 0 && strcmp(method, "POST") == 0)
		api_messages_post(req, c);
	else if (strcmp(method, "GET") == 0)
		api_messages_get(req, c, id);
	else if (strcmp(method, "PATCH") == 0)
		api_messages_patch(req, c, id);
	else if (strcmp(method, "DELETE") == 0)
		messages_delete(req, c, id);
	else
		response_error(req, 405, "method_not_allowed", "%s is not "
		    "allowed here", method);
}

/*
 * Open the channel's conversation for the caller: view_channels for
 * everything, send_messages too to post; manage_messages makes the caller
 * a moderator, add_reactions lets them react, mention_everyone lets
 * @everyone and @here count, all as the caller holds them in that
 * channel.  Then let messages.c serve the request.
 */
static void
api_messages_channel(struct request *req)
{
	struct conversation	c;
	struct member		m;
	uint32_t		need = PERM_VIEW_CHANNELS;

	if (strcmp(req->method, "POST") == 0)
		need |= PERM_SEND_MESSAGES;
	memset(&c, 0, sizeof c);
	c.channel_id = req->ids[0];
	if (channels_access(req, c.channel_id, need, &m, &c.server_id) == -1)
		return;
	c.moderator = perm_has(&m, PERM_MANAGE_MESSAGES);
	c.may_react = perm_has(&m, PERM_ADD_REACTIONS);
	c.mention_everyone = perm_has(&m, PERM_MENTION_EVERYONE);
	api_messages_serve(req, &c);
}

const struct route api_messages_routes[] = {
	{ "GET", API_PREFIX "/channels/{id}/messages", api_messages_channel,
	    ROUTE_AUTH },
	{ "POST", API_PREFIX "/channels/{id}/messages", api_messages_channel,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/channels/{id}/messages/{id}",
	    api_messages_channel, ROUTE_AUTH },
	{ "PATCH", API_PREFIX "/channels/{id}/messages/{id}",
	    api_messages_channel, ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/channels/{id}/messages/{id}",
	    api_messages_channel, ROUTE_AUTH },
	{ "GET", API_PREFIX "/channels/{id}/messages/{id}/reactions/{emoji}",
	    api_messages_channel, ROUTE_AUTH },
	{ "PUT", API_PREFIX
	    "/channels/{id}/messages/{id}/reactions/{emoji}/@me",
	    api_messages_channel, ROUTE_AUTH },
	{ "DELETE", API_PREFIX
	    "/channels/{id}/messages/{id}/reactions/{emoji}/{user}",
	    api_messages_channel, ROUTE_AUTH },
	{ "GET", API_PREFIX "/channels/{id}/pins", api_messages_channel,
	    ROUTE_AUTH },
	{ "PUT", API_PREFIX "/channels/{id}/pins/{id}", api_messages_channel,
	    ROUTE_AUTH },
	{ "DELETE", API_PREFIX "/channels/{id}/pins/{id}",
	    api_messages_channel, ROUTE_AUTH },
	{ NULL, NULL, NULL, 0 }
};
