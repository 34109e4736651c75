/* SPDX-License-Identifier: ISC */
/*
 * sendbatch.c: group commit for sends.  Under load a worker takes several
 * connections from the listen queue in one go (worker.c); the sends among
 * them wait here, checked and parsed but not yet written, until the worker
 * has taken what was waiting.  Then all of them are written with one CALL
 * of message_send_many (sql/routines.sql), in one transaction, and
 * answered.  MariaDB's work per message falls by half
 * (docs/benchmarks.md); a send alone still goes through messages_send()
 * and costs what it did.
 *
 * Nothing is drawn from the sequencer before the batch is written: the
 * requests the worker handles in between run their own transactions, and
 * a number drawn early would hold the watermark back across them.
 *
 * When the CALL fails with an error from the server, the batch rolled
 * back as a whole (a nonce already taken, a channel deleted in between,
 * a deadlock), and each message is sent again alone, so that each gets
 * the answer it would have had without the batch.  When the connection
 * failed, nobody can tell whether it committed: each gets the database
 * error, as a send alone would.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define SENDBATCH_MAX		16	/* messages in one CALL */
#define SENDBATCH_SERVER_ERROR	2000	/* CR_* client errors start here */

/* A send that waits for the batch to be written. */
struct sendbatch_entry {
	struct request		*req;
	struct conversation	 c;
	const char		*content;	/* in req's body */
	size_t			 len;
	const char		*nonce;		/* in req's body, or NULL */
	struct mentions		 mentions;	/* from content */
	struct message		 m;		/* filled when written */
};

/* How a batch was written. */
enum sendbatch_result {
	SENDBATCH_WRITTEN,		/* every message posted */
	SENDBATCH_ALONE,		/* rolled back: send each alone */
	SENDBATCH_FAILED		/* the database failed: answer so */
};

static struct db_stmt q_send_many = DB_STMT(
    "CALL message_send_many(?, ?, ?, ?)");

static struct db_routine r_send_many = DB_ROUTINE("message_send_many",
    "messages are sent one by one");

static struct sendbatch_entry	batch[SENDBATCH_MAX];
static size_t			batch_len;
static int			batch_flushed;	/* by a loop: sendbatch_init() */

/*
 * Let sends wait for their batch from now on: the caller's loop calls
 * sendbatch_flush() after each round of requests (a worker; sohbetctl
 * and the tests send alone).
 */
void
sendbatch_init(void)
{
	batch_flushed = 1;
}

/*
 * Whether sends may wait for a batch: in a loop that flushes them, with
 * the shm sequencer (the db one must lock its row first in
 * each transaction), unless the procedure was found missing lately.
 */
static int
sendbatch_usable(void)
{
	return batch_flushed && sequencer_local() &&
	    db_routine_usable(&r_send_many);
}

/*
 * Let a checked send wait for the batch: 0, the request is now the
 * batch's to answer, or -1 when batching is off and the caller must send
 * it alone.  content and nonce must live as long as req; on 0 the batch
 * has taken what ms held (ms is left empty), which the caller resolved
 * for this send alone: a copy would cost an allocation per mention and
 * name for nothing.
 */
int
sendbatch_add(struct request *req, const struct conversation *c,
    const char *content, size_t len, const char *nonce, struct mentions *ms)
{
	struct sendbatch_entry	*e;

	if (!sendbatch_usable())
		return -1;
	if (batch_len == SENDBATCH_MAX)
		sendbatch_flush();
	e = &batch[batch_len++];
	memset(e, 0, sizeof *e);
	e->req = req;
	e->c = *c;
	e->content = content;
	e->len = len;
	e->nonce = nonce;
	if (ms != NULL) {
		e->mentions = *ms;
		memset(ms, 0, sizeof *ms);
	}
	req->waiting = REQUEST_QUEUED;
	return 0;
}

/* Write an id as a decimal string, 0 included (JSON_TABLE reads it). */
static void
sendbatch_kid(yajl_gen g, const char *key, uint64_t id)
{
	json_gen_key(g, key);
	json_gen_id_or_zero(g, id);
}

/*
 * Write one message as a row of message_send_many into g, and its event
 * as a row into eg: apart, since the events are most of the batch's
 * bytes, which the statements that write the messages need not read
 * (sql/routines.sql).
 */
static void
sendbatch_row(yajl_gen g, yajl_gen eg, const struct sendbatch_entry *e,
    uint64_t seq, const struct event_scope *s)
{
	const char	*data;
	char		*list;
	size_t		 data_len;
	yajl_gen	 event;

	yajl_gen_map_open(g);
	sendbatch_kid(g, "id", e->m.id);
	sendbatch_kid(g, "c", e->c.channel_id);
	sendbatch_kid(g, "d", e->c.dm_channel_id);
	sendbatch_kid(g, "a", e->m.author_id);
	json_gen_key(g, "t");
	yajl_gen_string(g, (const unsigned char *)e->content, e->len);
	json_gen_kstr(g, "n", e->nonce);
	json_gen_kstr(g, "at", e->m.created_at);
	list = mentions_column_text(&e->mentions);
	json_gen_kstr(g, "m", list);
	free(list);
	yajl_gen_map_close(g);

	event = messages_event_data(&e->m);
	data = json_gen_text(event, &data_len);
	yajl_gen_map_open(eg);
	sendbatch_kid(eg, "s", seq);
	sendbatch_kid(eg, "sv", s->server_id);
	sendbatch_kid(eg, "sc", s->channel_id);
	sendbatch_kid(eg, "sd", s->dm_channel_id);
	json_gen_key(eg, "e");
	yajl_gen_string(eg, (const unsigned char *)data, data_len);
	yajl_gen_map_close(eg);
	yajl_gen_free(event);
}

/*
 * Draw every message's id and event seq inside the open transaction, fill
 * the messages and write their rows into g, their events' into eg and
 * their mentions' rows into mg (all arrays).  0, or -1 (nothing filled).
 * *nonces tells whether any message has a nonce, *mentions whether mg
 * has rows (mentions in a server channel).
 */
static int
sendbatch_number(yajl_gen g, yajl_gen eg, yajl_gen mg, int *nonces,
    int *mentions)
{
	struct event_scope	 s;
	char			 created_at[32];
	uint64_t		 id, seq;
	size_t			 i;

	messages_now(created_at, sizeof created_at);
	*nonces = *mentions = 0;
	yajl_gen_array_open(g);
	yajl_gen_array_open(eg);
	yajl_gen_array_open(mg);
	for (i = 0; i < batch_len; i++) {
		*nonces |= batch[i].nonce != NULL;
		messages_scope(&batch[i].c, &s);
		if (sequencer_next(&id) == -1 ||
		    events_reserve("message.create", &s, &seq) == -1) {
			while (i > 0)
				messages_clear(&batch[--i].m);
			return -1;
		}
		messages_new(&batch[i].m, id, &batch[i].c, batch[i].req,
		    batch[i].content, batch[i].len, batch[i].nonce, created_at,
		    &batch[i].mentions);
		sendbatch_row(g, eg, &batch[i], seq, &s);
		*mentions |= mentions_gen_rows(mg, &batch[i].mentions, id,
		    &batch[i].c, batch[i].m.author_id) > 0;
	}
	yajl_gen_array_close(g);
	yajl_gen_array_close(eg);
	yajl_gen_array_close(mg);
	return 0;
}

/*
 * Why a CALL that failed left the batch unwritten: an error from the
 * server (the procedure missing included) rolled it back.
 */
static enum sendbatch_result
sendbatch_failure(void)
{
	unsigned int	err = db_errno();

	db_routine_lost(&r_send_many);
	return err != 0 && err < SENDBATCH_SERVER_ERROR ? SENDBATCH_ALONE :
	    SENDBATCH_FAILED;
}

/* Write the whole batch with one CALL, in one transaction. */
static enum sendbatch_result
sendbatch_write(void)
{
	enum sendbatch_result	 result = SENDBATCH_WRITTEN;
	const char		*rows, *erows, *mrows;
	size_t			 rows_len, erows_len, mrows_len, i;
	yajl_gen		 g, eg, mg;
	int			 nonces, mentions;

	if (db_begin_call() == -1)
		return SENDBATCH_FAILED;
	g = json_gen_new();
	eg = json_gen_new();
	mg = json_gen_new();
	if (sendbatch_number(g, eg, mg, &nonces, &mentions) == -1) {
		yajl_gen_free(g);
		yajl_gen_free(eg);
		yajl_gen_free(mg);
		db_rollback();
		return SENDBATCH_FAILED;
	}
	rows = json_gen_text(g, &rows_len);
	erows = json_gen_text(eg, &erows_len);
	mrows = json_gen_text(mg, &mrows_len);
	if (db_exec(&q_send_many, "bibb", rows, rows_len, (long long)nonces,
	    mentions ? mrows : NULL, mrows_len, erows, erows_len) == -1) {
		result = sendbatch_failure();
		db_rollback();
		for (i = 0; i < batch_len; i++)
			messages_clear(&batch[i].m);
	} else {
		db_end_call();
		metrics_send_batch(batch_len);
	}
	yajl_gen_free(g);
	yajl_gen_free(eg);
	yajl_gen_free(mg);
	return result;
}

/* Send one message of a batch alone, again after a lost conflict. */
static void
sendbatch_send_alone(struct sendbatch_entry *e)
{
	struct db_retry	r;

	db_retry_begin(&r);
	do
		messages_send(e->req, &e->c, e->content, e->len, e->nonce,
		    0, &e->mentions);
	while (db_retry_again(&r));
}

/*
 * Write and answer the sends that wait, if any.  The worker calls it once
 * it has taken what the listen queue held, and before it sleeps.
 */
void
sendbatch_flush(void)
{
	enum sendbatch_result	 result = SENDBATCH_ALONE;
	struct sendbatch_entry	*e;
	size_t			 i;

	if (batch_len == 0)
		return;
	if (batch_len > 1)
		result = sendbatch_write();
	for (i = 0; i < batch_len; i++) {
		e = &batch[i];
		if (result == SENDBATCH_WRITTEN)
			messages_respond(e->req, 201, &e->m);
		else if (result == SENDBATCH_ALONE)
			sendbatch_send_alone(e);
		else
			response_db_error(e->req);
		messages_clear(&e->m);
		mentions_clear(&e->mentions);
		e->req->waiting = REQUEST_RUNNING;
		request_done(e->req);
	}
	batch_len = 0;
}
