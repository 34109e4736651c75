/* SPDX-License-Identifier: ISC */
/*
 * words.c: the word index of messages (message_postings,
 * sql/020_search_postings.sql), which search.c reads.  It is written
 * apart from the sends: every path that writes a message's text queues
 * the message in the same transaction (search_queue; the send procedures
 * in sql/routines.sql, and messages.c through words_queue() for a
 * message written statement by statement and an edit), and the keeper
 * of each host turns the queue into posting rows (words_drain()).
 * search.c checks the queued messages on their text, so nothing waits
 * for the drain to be found.  sohbetctl seed indexes its batches at
 * once (words_index_ids()).  The words are cut by the database's
 * search_words(), the one definition that search.c splits a query with.
 *
 * An edit or a deletion takes the message's words out first
 * (words_forget(), message_words_forget): its id leaves every row of each
 * word of its old text, a row left empty goes, so that no row keeps the
 * id of a message under a word of text that is gone; an edit then
 * queues the message again.  A row's last_id and first_id stay as they
 * were, bounds of the ids it holds.  search.c still checks what it finds
 * against the messages as they are (an edited message's text, none
 * deleted), for what it read before an edit or deletion committed.
 *
 * Not triggers: on Galera, a brute-force abort that reaches a session
 * while it loads the triggers of messages leaves them "has an error in
 * its body" in the table cache, and every later write of a message on
 * that node fails until the table is flushed.
 */
#include "sohbet.h"

#define WORDS_DRAIN_CHUNK	1000	/* messages a transaction */
#define WORDS_DRAIN_CHUNKS	8	/* transactions a drain at most */

static struct db_stmt q_queue = DB_STMT(
    "CALL message_words_index(?)");
static struct db_stmt q_forget = DB_STMT(
    "CALL message_words_forget(?)");
static struct db_stmt q_drain = DB_STMT(
    "CALL message_words_drain(?, @sohbet_drained)");
static struct db_stmt q_drained = DB_STMT(
    "SELECT @sohbet_drained");
/* The posting rows of the messages of a JSON array of ids. */
static struct db_stmt q_post = DB_STMT(
    "CALL message_words_post(?)");

/*
 * Queue a message whose text was written (new, or edited) for the index,
 * inside the caller's transaction: 0, or -1 on a database error.
 */
int
words_queue(uint64_t id)
{
	return db_exec(&q_queue, "u", id) == -1 ? -1 : 0;
}

/*
 * Take a message's words out of the index before its text is replaced or
 * erased (an edit, a deletion), inside the caller's transaction, which
 * holds the message's row locked: 0, or -1 on a database error.  An edit
 * then queues it again (words_queue()).
 */
int
words_forget(uint64_t id)
{
	return db_exec(&q_forget, "u", id) == -1 ? -1 : 0;
}

/*
 * Index what is queued (the keeper's job), WORDS_DRAIN_CHUNK messages a
 * transaction, until the queue holds no more than a chunk's remainder
 * or WORDS_DRAIN_CHUNKS were done: the messages indexed, or -1 on a
 * database error.
 */
long
words_drain(void)
{
	struct db_rows	*rows;
	long		 n, total = 0;
	int		 i;

	for (i = 0; i < WORDS_DRAIN_CHUNKS; i++) {
		if (db_exec(&q_drain, "i", (long long)WORDS_DRAIN_CHUNK) == -1 ||
		    (rows = db_query(&q_drained, "")) == NULL)
			return -1;
		n = db_fetch(rows) == 1 ? (long)db_u64(rows, 0) : -1;
		db_rows_free(rows);
		if (n == -1)
			return -1;
		total += n;
		if (n < WORDS_DRAIN_CHUNK)
			break;
	}
	return total;
}

/* Index n messages (ids) as the drain would; 0, or -1. */
int
words_index_ids(const uint64_t *ids, size_t n)
{
	yajl_gen	 g = json_id_list(ids, n);
	const char	*text;
	size_t		 len;
	long long	 rc;

	text = json_gen_text(g, &len);
	rc = db_exec(&q_post, "s", text);
	yajl_gen_free(g);
	return rc == -1 ? -1 : 0;
}
