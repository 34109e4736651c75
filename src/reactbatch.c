/* SPDX-License-Identifier: ISC */
/*
 * reactbatch.c: group commit for reactions, as sendbatch.c does for
 * sends.  Under load a worker takes several connections from the listen
 * queue in one go (worker.c); the reaction PUTs among them wait here,
 * checked but not written, until the worker has taken what was waiting.
 * Then they are added in one transaction (reactions_add_many), one
 * statement for each step of all of them, and answered.  A PUT alone
 * still goes through reactions_add() (one CALL of reaction_add).
 *
 * Nothing is drawn from the sequencer before the batch is written, for
 * the reason sendbatch.c gives.  When the batch fails with an error from
 * the server (a deadlock included), it rolled back as a whole, and each
 * reaction is added again alone, so that each gets the answer it would
 * have had; when the connection failed, each gets the database error.
 */
#include <string.h>

#include "sohbet.h"

/*
 * Reactions in one transaction: as many as a worker takes from the
 * listen queue in one round (WORKER_ACCEPT_BATCH), so that a round is
 * written with one transaction instead of two one after the other.
 */
#define REACTBATCH_MAX		32
#define REACTBATCH_SERVER_ERROR	2000	/* CR_* client errors start here */

/* A PUT that waits for the batch to be written. */
struct reactbatch_entry {
	struct request		*req;
	struct conversation	 c;
};

static struct reactbatch_entry	entries[REACTBATCH_MAX];
static struct reaction_add	adds[REACTBATCH_MAX];
static size_t			batch_len;
static int			batch_flushed;	/* by a loop: reactbatch_init() */

/*
 * Let PUTs wait for their batch from now on: the caller's loop calls
 * reactbatch_flush() after each round of requests.
 */
void
reactbatch_init(void)
{
	batch_flushed = 1;
}

/*
 * Let a checked PUT of user_id's emoji on message id wait for the batch:
 * 0, the request is now the batch's to answer, or -1 when batching is
 * off (not in a loop, or the db sequencer, whose row lock must come
 * first in each transaction) and the caller must add it alone.
 */
int
reactbatch_add(struct request *req, const struct conversation *c,
    uint64_t id, const char *emoji)
{
	size_t	i;

	if (!batch_flushed || !sequencer_local())
		return -1;
	if (batch_len == REACTBATCH_MAX)
		reactbatch_flush();
	i = batch_len++;
	entries[i].req = req;
	entries[i].c = *c;
	memset(&adds[i], 0, sizeof adds[i]);
	adds[i].c = &entries[i].c;
	messages_scope(&entries[i].c, &adds[i].scope);
	adds[i].id = id;
	adds[i].emoji = emoji;
	adds[i].user_id = req->user_id;
	req->waiting = REQUEST_QUEUED;
	return 0;
}

/*
 * Write and answer the PUTs that wait, if any.  The worker calls it once
 * it has taken what the listen queue held.
 */
void
reactbatch_flush(void)
{
	size_t	i;
	int	alone = 1, failed = 0;

	if (batch_len == 0)
		return;
	if (batch_len > 1 && reactions_add_many(adds, batch_len) == 0)
		alone = 0;
	else if (batch_len > 1)
		failed = db_errno() == 0 || db_errno() >= REACTBATCH_SERVER_ERROR;
	for (i = 0; i < batch_len; i++) {
		if (failed)
			adds[i].result = REACTIONS_FAILED;
		else if (alone)
			adds[i].result = reactions_add(adds[i].c, &adds[i].scope,
			    adds[i].id, adds[i].emoji, adds[i].user_id);
		reactions_respond(entries[i].req, adds[i].result);
		entries[i].req->waiting = REQUEST_RUNNING;
		request_done(entries[i].req);
	}
	batch_len = 0;
}
