/*
 * api-messages.c: the messages of server channels (API.md, Messages):
 * /channels/{id}/messages and /channels/{id}/messages/{message_id}.  Only
 * the access check is here; messages.c does the rest for every kind of
 * conversation.
 */
#include <string.h>

#include "sohbet.h"

/*
 * Open the channel's conversation for the caller: view_channels for
 * everything, send_messages too to post; manage_messages makes the caller
 * a moderator.  Then let messages.c serve the request.
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
	messages_serve(req, &c);
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
	{ NULL, NULL, NULL, 0 }
};
