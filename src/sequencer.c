/* SPDX-License-Identifier: ISC */
/*
 * sequencer.c: numbers for events and messages that become visible in the
 * order they were drawn, behind one interface (struct sequencer) with two
 * implementations, chosen by the configuration (DESIGN.md, Events):
 *   shm: an atomic counter in the hub with a watermark (one host);
 *   db:  a row lock on the one-row sequence table, taken as the first
 *        statement of the transaction (several hosts on one database).
 * Numbers are drawn only inside a transaction; sequencer_txn_end() runs
 * after its commit or rollback.  All of the sequencer's SQL is here.
 */
#include <string.h>
#include <unistd.h>

#include "sohbet.h"

/*
 * The largest number ever handed out, as far as the database can tell:
 * events are pruned (their mark remains) and messages may be deleted with
 * their channel, so all three count.  Handing a number out again would let
 * a client whose cursor passed it skip the new event.
 */
#define SEQUENCER_LARGEST \
    "(SELECT COALESCE(MAX(seq), 0) FROM events)," \
    "(SELECT COALESCE(MAX(id), 0) FROM messages)," \
    "(SELECT COALESCE(MAX(pruned_upto), 0) FROM event_retention)"

static struct db_stmt q_largest = DB_STMT(
    "SELECT GREATEST(" SEQUENCER_LARGEST ","
    "(SELECT COALESCE(MAX(value), 0) FROM sequence))");
static struct db_stmt q_row_resume = DB_STMT(
    "UPDATE sequence SET value = GREATEST(value, " SEQUENCER_LARGEST ")"
    " WHERE id = 1");
static struct db_stmt q_row_next = DB_STMT(
    "UPDATE sequence SET value = LAST_INSERT_ID(value + 1) WHERE id = 1");
static struct db_stmt q_row_value = DB_STMT(
    "SELECT value FROM sequence WHERE id = 1");
static struct db_stmt q_kill = DB_STMT("KILL CONNECTION ?");
static struct db_stmt q_alive = DB_STMT(
    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?");

#define ER_NO_SUCH_THREAD	1094
#define KILL_WAIT_TRIES		50

/*
 * The connection of a transaction whose commit may or may not have landed
 * (the connection broke during it).  Its numbers stay pending until that
 * connection is known to be gone.
 */
static unsigned long	orphan_thread;

/* --- shm: an atomic counter in the hub, with a watermark -------------- */

/* Resume the hub's counter above the largest number in the database. */
static int
sequencer_shm_start(void)
{
	struct db_rows	*rows;
	uint64_t	 largest;

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

/* Draw the hub's next number, resuming the counter first if need be. */
static int
sequencer_shm_next(uint64_t *out)
{
	hub_set_thread_id(db_thread_id());
	if ((*out = hub_seq_draw()) != 0)
		return 0;
	if (sequencer_shm_start() == -1)
		return -1;
	if ((*out = hub_seq_draw()) == 0)
		return -1;
	return 0;
}

/*
 * Finish this worker's numbers after its transaction ended; 1 when that
 * may have moved the watermark past numbers drawn later.
 */
static int
sequencer_shm_txn_end(void)
{
	if (hub == NULL || hub_self() < 0 || hub_seq_pending(hub_self()) == 0)
		return 0;
	if (!db_available()) {
		/* The commit's fate is unknown until its connection is gone. */
		orphan_thread = hub_thread_id(hub_self());
		return 0;
	}
	return hub_seq_finish(hub_self());
}

/* The watermark; a fresh daemon resumes its counter before it can tell. */
static uint64_t
sequencer_shm_visible(void)
{
	if (!hub_seq_ready() && sequencer_shm_start() == -1)
		return 0;
	return hub_seq_watermark();
}

/* The largest number the hub handed out. */
static int
sequencer_shm_last(uint64_t *out)
{
	if (!hub_seq_ready() && sequencer_shm_start() == -1)
		return -1;
	*out = hub_seq_last();
	return 0;
}

/* --- db: a row lock on the one-row sequence table ------------------------ */

/* Lift the row above every number in the database. */
static int
sequencer_row_start(void)
{
	return db_exec(&q_row_resume, "") == -1 ? -1 : 0;
}

/*
 * Lift the row once per process (the shm sequencer may have run before).
 * 0 or -1.
 */
static int
sequencer_row_ready(void)
{
	static int	resumed;

	if (!resumed && sequencer_row_start() == 0)
		resumed = 1;
	return resumed ? 0 : -1;
}

/* Take the row lock and the next number: the transaction's first step. */
static int
sequencer_row_next(uint64_t *out)
{
	if (sequencer_row_ready() == -1 || db_exec(&q_row_next, "") != 1)
		return -1;
	*out = db_insert_id();
	return 0;
}

/* The lock goes with the transaction: nothing to finish. */
static int
sequencer_row_txn_end(void)
{
	return 0;
}

/* Read the row's value (committed, under READ COMMITTED); 0 or -1. */
static int
sequencer_row_last(uint64_t *out)
{
	struct db_rows	*rows;
	int		 rc;

	if (sequencer_row_ready() == -1 ||
	    (rows = db_query(&q_row_value, "")) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1)
		*out = db_u64(rows, 0);
	db_rows_free(rows);
	return rc == 1 ? 0 : -1;
}

/*
 * Drawing order is commit order: the row's committed value (what READ
 * COMMITTED shows while a writer holds the lock) is the mark.  0 when it
 * cannot be told.
 */
static uint64_t
sequencer_row_visible(void)
{
	uint64_t	value;

	return sequencer_row_last(&value) == 0 ? value : 0;
}

/* --- the interface -------------------------------------------------------- */

static const struct sequencer sequencer_shm = {
	"shm", 1, sequencer_shm_start, sequencer_shm_next,
	sequencer_shm_txn_end, sequencer_shm_visible, sequencer_shm_last
};
static const struct sequencer sequencer_row = {
	"db", 0, sequencer_row_start, sequencer_row_next,
	sequencer_row_txn_end, sequencer_row_visible, sequencer_row_last
};

/* The implementation the configuration names (config.c checked it). */
static const struct sequencer *
sequencer(void)
{
	static const struct sequencer	*chosen;

	if (chosen == NULL || strcmp(chosen->name, cfg->sequencer) != 0)
		chosen = strcmp(cfg->sequencer, sequencer_row.name) == 0 ?
		    &sequencer_row : &sequencer_shm;
	return chosen;
}

/*
 * 1 when numbers come from shared memory: a transaction may then draw
 * them before its first statement, which the row lock cannot allow, and
 * a worker may cache what it read (cache.c).
 */
int
sequencer_local(void)
{
	return sequencer()->local;
}

/* Resume numbering above the largest number in the database. */
int
sequencer_start(void)
{
	return sequencer()->start();
}

/*
 * Kill a database connection and wait until the server lists it no more,
 * so nothing it was doing (a commit) can still land.  0, or -1 if that
 * could not be made sure of.
 */
int
sequencer_kill(unsigned long thread)
{
	struct db_rows	*rows;
	int		 alive = 1, tries;

	if (db_exec(&q_kill, "u", (uint64_t)thread) == -1 &&
	    db_errno() != ER_NO_SUCH_THREAD)
		return -1;
	for (tries = 0; alive && tries < KILL_WAIT_TRIES; tries++) {
		if ((rows = db_query(&q_alive, "u", (uint64_t)thread)) ==
		    NULL || db_fetch(rows) != 1) {
			db_rows_free(rows);
			return -1;
		}
		alive = db_u64(rows, 0) != 0;
		db_rows_free(rows);
		if (alive)
			usleep(20000);
	}
	return alive ? -1 : 0;
}

/*
 * Settle an orphaned transaction once the database answers again: when its
 * connection is gone, its numbers can be finished.  0 when nothing is
 * left to settle.
 */
int
sequencer_recover(void)
{
	if (orphan_thread == 0)
		return 0;
	/* db.c reconnects here, at most once a second. */
	if (sequencer_kill(orphan_thread) == -1)
		return -1;
	log_info("connection %lu is gone; its sequence numbers are released",
	    orphan_thread);
	orphan_thread = 0;
	if (hub_seq_finish(hub_self()))
		hub_wake_all();
	return 0;
}

/* Draw the next number inside the open transaction. */
int
sequencer_next(uint64_t *out)
{
	if (sequencer_recover() == -1)
		return -1;
	return sequencer()->next(out);
}

/*
 * Finish this worker's numbers after its transaction ended; 1 when that
 * may have moved the watermark past numbers drawn later.
 */
int
sequencer_txn_end(void)
{
	return sequencer()->txn_end();
}

/* The highest number below which every number is finished; 0: unknown. */
uint64_t
sequencer_visible(void)
{
	return sequencer()->visible();
}

/* The largest number drawn so far (a cursor above it is from the future). */
int
sequencer_last(uint64_t *out)
{
	return sequencer()->last(out);
}
