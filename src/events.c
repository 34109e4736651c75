/*
 * events.c: the event log.  Every change appends its event inside the
 * transaction that makes the change, so the two commit or vanish together.
 */
#include <string.h>

#include "sohbet.h"

static struct db_stmt q_event_insert = DB_STMT(
    "INSERT INTO events (seq, type, server_id, channel_id, dm_channel_id,"
    " user_id, data) VALUES (?, ?, NULLIF(?, 0), NULLIF(?, 0), NULLIF(?, 0),"
    " NULLIF(?, 0), ?)");

/*
 * Append an event of a type, visible to the scope, with data (a generator
 * holding one JSON object), inside the caller's transaction.
 */
int
events_append(const char *type, const struct event_scope *scope,
    yajl_gen data)
{
	const char	*text;
	size_t		 len;
	uint64_t	 seq;

	if (sequencer_next(&seq) == -1)
		return -1;
	text = json_gen_text(data, &len);
	if (db_exec(&q_event_insert, "usuuuub", seq, type, scope->server_id,
	    scope->channel_id, scope->dm_channel_id, scope->user_id, text,
	    len) != 1)
		return -1;
	return 0;
}

/* Called by db.c once a transaction has committed (1) or not (0). */
void
events_txn_end(int committed)
{
	sequencer_txn_end();
}
