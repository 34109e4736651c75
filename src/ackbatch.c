/* SPDX-License-Identifier: ISC */
/*
 * ackbatch.c: group commit for acknowledgements, as reactbatch.c does
 * for reactions.  Under load a worker takes several connections from
 * the listen queue in one go (worker.c); the acks among them wait here,
 * checked but not written, until the worker has taken what was waiting.
 * Then they are written in one transaction (readstate_ack_many()): a
 * statement for the positions of all of them, one for the new rows, one
 * for the counts and one for the read_state.update events, where an ack
 * alone took as many for itself.
 *
 * When the batch fails with an error from the server (a deadlock
 * included), it rolled back as a whole, and each ack is written again
 * alone, so that each gets the answer it would have had; when the
 * connection failed, each gets the database error.
 */
#include <string.h>

#include "sohbet.h"

#define ACKBATCH_MAX		64	/* acks in one transaction */
#define ACKBATCH_SERVER_ERROR	2000	/* CR_* client errors start here */

static struct request		*requests[ACKBATCH_MAX];
static struct readstate_ack	 acks[ACKBATCH_MAX];
static size_t			 batch_len;
static int			 batch_flushed;	/* by a loop: ackbatch_init() */

/*
 * Let acks wait for their batch from now on: the caller's loop calls
 * ackbatch_flush() after each round of requests.
 */
void
ackbatch_init(void)
{
	batch_flushed = 1;
}

/*
 * Let a checked ack of conversation c up to message_id wait for the
 * batch: 0, the request is now the batch's to answer, or -1 when
 * batching is off (not in a loop, or the db sequencer, whose row lock
 * must come first in each transaction) and the caller must ack alone.
 */
int
ackbatch_add(struct request *req, const struct conversation *c,
    uint64_t message_id)
{
	struct readstate_ack	*a;

	if (!batch_flushed || !sequencer_local())
		return -1;
	if (batch_len == ACKBATCH_MAX)
		ackbatch_flush();
	requests[batch_len] = req;
	a = &acks[batch_len++];
	memset(a, 0, sizeof *a);
	a->user_id = req->user_id;
	a->c = *c;
	a->message_id = message_id;
	req->waiting = REQUEST_QUEUED;
	return 0;
}

/* Acknowledge one ack of a batch alone, again after a lost conflict. */
static void
ackbatch_ack_alone(size_t i)
{
	struct db_retry	r;

	db_retry_begin(&r);
	do
		readstate_ack(requests[i], &acks[i].c, acks[i].message_id);
	while (db_retry_again(&r));
}

/*
 * Write and answer the acks that wait, if any.  The worker calls it once
 * it has taken what the listen queue held.
 */
void
ackbatch_flush(void)
{
	size_t	i;
	int	written = 0, alone = 1;

	if (batch_len == 0)
		return;
	if (batch_len > 1) {
		if (readstate_ack_many(acks, batch_len) == 0)
			written = 1;
		else
			alone = db_errno() != 0 &&
			    db_errno() < ACKBATCH_SERVER_ERROR;
	}
	for (i = 0; i < batch_len; i++) {
		requests[i]->waiting = REQUEST_RUNNING;
		if (written)
			readstate_respond(requests[i], &acks[i]);
		else if (alone)
			ackbatch_ack_alone(i);
		else
			response_db_error(requests[i]);
		request_done(requests[i]);
	}
	batch_len = 0;
}
