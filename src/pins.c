/* SPDX-License-Identifier: ISC */
/*
 * pins.c: the pinned messages of a conversation (API.md, Replies,
 * reactions and pins).  A pin is the message's pin_order (sql/011), set
 * and cleared with a message.update event in one transaction; deleting
 * the message clears it (messages.c).  At most PINS_MAX per
 * conversation: a pin locks the conversation's row first and counts
 * after, so that two pins at once cannot both be the 50th.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

/* The conversation kinds, as indexes of the statements below. */
#define PINS_CHANNEL	0
#define PINS_DM		1

static struct db_stmt q_lock_conversation[] = {
	DB_STMT("SELECT id FROM channels WHERE id = ? FOR UPDATE"),
	DB_STMT("SELECT id FROM dm_channels WHERE id = ? FOR UPDATE"),
};
/* The pins of a conversation: how many, and the highest place. */
static struct db_stmt q_count[] = {
	DB_STMT("SELECT COUNT(*), COALESCE(MAX(pin_order), 0) FROM messages"
	    " WHERE channel_id = ? AND pin_order IS NOT NULL"),
	DB_STMT("SELECT COUNT(*), COALESCE(MAX(pin_order), 0) FROM messages"
	    " WHERE dm_channel_id = ? AND pin_order IS NOT NULL"),
};
static struct db_stmt q_list[] = {
	DB_STMT(MESSAGES_SELECT MESSAGES_AUTHOR " WHERE m.channel_id = ?"
	    " AND m.pin_order IS NOT NULL ORDER BY m.pin_order DESC LIMIT ?"),
	DB_STMT(MESSAGES_SELECT MESSAGES_AUTHOR " WHERE m.dm_channel_id = ?"
	    " AND m.pin_order IS NOT NULL ORDER BY m.pin_order DESC LIMIT ?"),
};
static struct db_stmt q_lock_message = DB_STMT(
    "SELECT pin_order IS NOT NULL FROM messages WHERE id = ?"
    " AND channel_id <=> NULLIF(?, 0) AND dm_channel_id <=> NULLIF(?, 0)"
    " AND deleted = 0 FOR UPDATE");
static struct db_stmt q_pin = DB_STMT(
    "UPDATE messages SET pin_order = ? WHERE id = ?");
static struct db_stmt q_unpin = DB_STMT(
    "UPDATE messages SET pin_order = NULL WHERE id = ?");

/* The statements' index for a conversation, and its id. */
static int
pins_kind(const struct conversation *c, uint64_t *id)
{
	*id = c->channel_id != 0 ? c->channel_id : c->dm_channel_id;
	return c->channel_id != 0 ? PINS_CHANNEL : PINS_DM;
}

/* Read one number from a one-row query; 1, 0 (no row) or -1. */
static int
pins_number(struct db_rows *rows, long long *n)
{
	int	rc;

	if (rows == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1)
		*n = db_i64(rows, 0);
	db_rows_free(rows);
	return rc;
}

/* Lock the conversation's row in the open transaction: 0, or -1. */
static int
pins_lock_conversation(const struct conversation *c)
{
	long long	n;
	uint64_t	id;
	int		kind;

	kind = pins_kind(c, &id);
	return pins_number(db_query(&q_lock_conversation[kind], "u", id),
	    &n) == 1 ? 0 : -1;
}

/*
 * Count the conversation's pins (its row locked): 1 when there is room
 * for one more (its place in *order), 0 when there is not, -1.
 */
static int
pins_room(const struct conversation *c, uint64_t *order)
{
	struct db_rows	*rows;
	long long	 n = 0;
	uint64_t	 id;
	int		 kind, rc;

	kind = pins_kind(c, &id);
	if ((rows = db_query(&q_count[kind], "u", id)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1) {
		n = db_i64(rows, 0);
		*order = db_u64(rows, 1) + 1;
	}
	db_rows_free(rows);
	if (rc != 1)
		return -1;
	return n < PINS_MAX;
}

/*
 * Pin (or unpin) message id of the conversation and answer 204: the
 * change and its message.update in one transaction, nothing when it was
 * so already (at the limit too); 404 when there is no such message that
 * is not deleted, 409 too_many_pins past PINS_MAX.
 */
void
pins_set(struct request *req, const struct conversation *c, uint64_t id,
    int pin)
{
	struct message	m;
	long long	pinned = 0;
	uint64_t	order = 0;
	int		rc;

	if (db_begin() == -1) {
		response_db_error(req);
		return;
	}
	if ((pin && pins_lock_conversation(c) == -1) ||
	    (rc = pins_number(db_query(&q_lock_message, "uuu", id,
	    c->channel_id, c->dm_channel_id), &pinned)) == -1)
		goto fail;
	if (rc == 0) {
		db_rollback();
		response_not_found(req, "message");
		return;
	}
	if ((pinned != 0) == pin) {
		db_rollback();
		response_empty(req, 204);
		return;
	}
	if (pin && (rc = pins_room(c, &order)) != 1) {
		if (rc == -1)
			goto fail;
		db_rollback();
		response_error(req, 409, "too_many_pins", "A conversation has "
		    "at most %d pinned messages", PINS_MAX);
		return;
	}
	if ((pin ? db_exec(&q_pin, "uu", order, id) :
	    db_exec(&q_unpin, "u", id)) != 1 || messages_load(c, id, &m) != 1)
		goto fail;
	rc = messages_event("message.update", c, &m);
	messages_clear(&m);
	if (rc == -1 || db_commit() == -1)
		goto fail;
	response_empty(req, 204);
	return;
fail:
	db_rollback();
	response_db_error(req);
}

/* GET …/pins: the pinned messages, most recently pinned first. */
void
pins_list(struct request *req, const struct conversation *c)
{
	struct message	*ms;
	yajl_gen	 g;
	uint64_t	 id;
	long		 n, i;
	int		 kind;

	kind = pins_kind(c, &id);
	ms = xcalloc(PINS_MAX, sizeof *ms);
	if ((n = messages_read_reacted(db_query(&q_list[kind], "ui", id,
	    (long long)PINS_MAX), ms, PINS_MAX, c->reader_id)) == -1) {
		free(ms);
		response_db_error(req);
		return;
	}
	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		messages_gen(g, &ms[i]);
		messages_clear(&ms[i]);
	}
	yajl_gen_array_close(g);
	free(ms);
	response_json(req, 200, g);
}
