/* SPDX-License-Identifier: ISC */
/*
 * keeper.c: the periodic jobs one worker per host runs between requests:
 * event retention, clean-up of expired refresh tokens and nonces and of
 * uploads no message took within an hour (attachments.c), and the
 * cluster watcher, which feeds events committed by other hosts into this
 * host's ring (events.cluster_poll_ms; DESIGN.md, Wake-ups) and their
 * ephemeral events into this host's (ephemeral.c); the sweep of this
 * host's connections (presence.c); and the search index of the messages
 * queued since the last look (words.c).
 */
#include <string.h>

#include "sohbet.h"

#define JOBS_INTERVAL_MS	60000
#define JOBS_FIRST_MS		5000
#define PRUNE_ROUNDS		20
#define WATCH_BATCH		1000
#define WORDS_DRAIN_MS		200	/* how often queued words are indexed */

static struct db_stmt q_nonce_cleanup = DB_STMT(
    "DELETE FROM message_nonces WHERE created_at < NOW(3) - INTERVAL 10"
    " MINUTE LIMIT 1000");
static struct db_stmt q_watch = DB_STMT(
    "SELECT seq, COALESCE(server_id, 0), COALESCE(channel_id, 0),"
    " COALESCE(dm_channel_id, 0), COALESCE(user_id, 0), type FROM events"
    " WHERE seq > ? ORDER BY seq LIMIT 1000");
static struct db_stmt q_watch_start = DB_STMT(
    "SELECT COALESCE(MAX(seq), 0) FROM events");

static long long	keeper_jobs_at;
static long long	keeper_watch_at;
static long long	keeper_presence_at;
static long long	keeper_words_at;
static uint64_t		keeper_watch_pos;
static int		keeper_watch_ready;

/* Milliseconds until the next job is due, or -1 when none ever is. */
int
keeper_next_ms(void)
{
	long long	now = clock_ms(), next;

	if (keeper_jobs_at == 0)
		keeper_jobs_at = now + JOBS_FIRST_MS;
	next = keeper_jobs_at;
	if (cfg->cluster_poll_ms > 0 && keeper_watch_at < next)
		next = keeper_watch_at;
	if (keeper_presence_at < next)
		next = keeper_presence_at;
	if (keeper_words_at < next)
		next = keeper_words_at;
	return next <= now ? 0 : (int)(next - now);
}

/*
 * Delete expired events, refresh tokens, nonces and unattached uploads,
 * in small batches.
 */
static void
keeper_jobs(void)
{
	int	i;

	for (i = 0; i < PRUNE_ROUNDS && events_prune() >= 1000; i++)
		;
	refresh_cleanup();
	db_exec(&q_nonce_cleanup, "");
	ephemeral_relay_prune();
	attachments_prune();
}

/* Publish events other hosts committed since the last look. */
static void
keeper_watch(void)
{
	struct hub_entry	 batch[WATCH_BATCH];
	struct db_rows		*rows;
	size_t			 n = 0;

	if (!keeper_watch_ready) {
		if ((rows = db_query(&q_watch_start, "")) == NULL)
			return;
		if (db_fetch(rows) == 1) {
			keeper_watch_pos = db_u64(rows, 0);
			keeper_watch_ready = 1;
		}
		db_rows_free(rows);
		return;
	}
	if ((rows = db_query(&q_watch, "u", keeper_watch_pos)) == NULL)
		return;
	while (db_fetch(rows) == 1) {
		memset(&batch[n], 0, sizeof batch[n]);
		batch[n].seq = db_u64(rows, 0);
		batch[n].server_id = db_u64(rows, 1);
		batch[n].channel_id = db_u64(rows, 2);
		batch[n].dm_channel_id = db_u64(rows, 3);
		batch[n].user_id = db_u64(rows, 4);
		batch[n].flags = events_flags(db_str(rows, 5, NULL));
		keeper_watch_pos = batch[n].seq;
		n++;
	}
	db_rows_free(rows);
	hub_publish(batch, n);
}

/* Run whatever is due, if this worker is the host's keeper. */
void
keeper_run(void)
{
	long long	now = clock_ms();

	sequencer_recover();
	if (now < keeper_jobs_at && now < keeper_presence_at &&
	    now < keeper_words_at &&
	    (cfg->cluster_poll_ms == 0 || now < keeper_watch_at))
		return;
	if (!hub_is_keeper()) {
		keeper_jobs_at = now + JOBS_INTERVAL_MS;
		keeper_watch_at = now + JOBS_INTERVAL_MS;
		keeper_presence_at = now + JOBS_INTERVAL_MS;
		keeper_words_at = now + JOBS_INTERVAL_MS;
		return;
	}
	if (now >= keeper_words_at) {
		words_drain();
		keeper_words_at = now + WORDS_DRAIN_MS;
	}
	if (now >= keeper_presence_at) {
		presence_sweep();
		keeper_presence_at = now + PRESENCE_SWEEP_MS;
	}
	if (now >= keeper_jobs_at) {
		keeper_jobs();
		keeper_jobs_at = now + JOBS_INTERVAL_MS;
	}
	if (cfg->cluster_poll_ms > 0 && now >= keeper_watch_at) {
		keeper_watch();
		ephemeral_relay_watch();
		keeper_watch_at = now + cfg->cluster_poll_ms;
	}
}
