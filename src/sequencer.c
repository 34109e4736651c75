/*
 * sequencer.c: numbers for events and messages that become visible in the
 * order they were drawn, behind one interface with two implementations
 * (DESIGN.md, Events):
 *   shm: an atomic counter in the hub with a watermark (one host);
 *   db:  a row lock on the one-row sequence table, taken as the first
 *        statement of the transaction (several hosts on one database).
 * Numbers are drawn only inside a transaction; sequencer_txn_end() runs
 * after its commit or rollback.
 */
#include <string.h>

#include "sohbet.h"

static struct db_stmt q_largest = DB_STMT(
    "SELECT GREATEST("
    "(SELECT COALESCE(MAX(seq), 0) FROM events),"
    "(SELECT COALESCE(MAX(id), 0) FROM messages),"
    "(SELECT COALESCE(MAX(value), 0) FROM sequence))");
static struct db_stmt q_row_resume = DB_STMT(
    "UPDATE sequence SET value = GREATEST(value,"
    "(SELECT COALESCE(MAX(seq), 0) FROM events),"
    "(SELECT COALESCE(MAX(id), 0) FROM messages)) WHERE id = 1");
static struct db_stmt q_row_next = DB_STMT(
    "UPDATE sequence SET value = LAST_INSERT_ID(value + 1) WHERE id = 1");

/* 1 when the database row-lock sequencer is configured. */
static int
sequencer_uses_db(void)
{
	return strcmp(cfg->sequencer, "db") == 0;
}

/* Resume numbering above the largest number in the database. */
int
sequencer_start(void)
{
	struct db_rows	*rows;
	uint64_t	 largest;

	if (sequencer_uses_db())
		return db_exec(&q_row_resume, "") == -1 ? -1 : 0;
	if ((rows = db_query(&q_largest, "")) == NULL)
		return -1;
	if (db_fetch(rows) != 1) {
		db_rows_free(rows);
		return -1;
	}
	largest = db_u64(rows, 0);
	db_rows_free(rows);
	hub_seq_start(largest);
	return 0;
}

/* Draw the next number inside the open transaction. */
int
sequencer_next(uint64_t *out)
{
	if (sequencer_uses_db()) {
		if (db_exec(&q_row_next, "") != 1)
			return -1;
		*out = db_insert_id();
		return 0;
	}
	hub_set_thread_id(db_thread_id());
	if ((*out = hub_seq_draw()) != 0)
		return 0;
	if (sequencer_start() == -1)
		return -1;
	if ((*out = hub_seq_draw()) == 0)
		return -1;
	return 0;
}

/*
 * Finish this worker's numbers after its transaction ended; 1 when that
 * may have moved the watermark past numbers drawn later.
 */
int
sequencer_txn_end(void)
{
	if (!sequencer_uses_db() && hub != NULL && hub_self() >= 0)
		return hub_seq_finish(hub_self());
	return 0;
}

/*
 * The highest number below which every number is finished.  With the row
 * lock, drawing order is commit order, so everything committed is visible.
 */
uint64_t
sequencer_visible(void)
{
	if (sequencer_uses_db())
		return UINT64_MAX;
	/* A fresh daemon resumes its counter before it can tell. */
	if (!hub_seq_ready() && sequencer_start() == -1)
		return 0;
	return hub_seq_watermark();
}
