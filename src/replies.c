/* SPDX-License-Identifier: ISC */
/*
 * replies.c: the message a reply answers (API.md, Replies, reactions and
 * pins).  A message row names its original (reply_to_id); every read of
 * messages then reads the originals of those that are replies, with one
 * statement for all of a page (replies_originals()), so a page of replies
 * costs no query per message, a page without replies none at all, and
 * each original shows as it is now: its edited text, or nothing once it
 * is deleted.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

/*
 * The original of a new reply, locked in share mode in the open
 * transaction: a delete of it waits for the reply to commit, and one that
 * committed first leaves nothing to answer.
 */
static struct db_stmt q_lock = DB_STMT(
    "SELECT r.id, r.author_id, u.username, LEFT(r.content, 100)"
    " FROM messages r JOIN users u ON u.id = r.author_id"
    " WHERE r.id = ? AND r.channel_id <=> NULLIF(?, 0)"
    " AND r.dm_channel_id <=> NULLIF(?, 0) AND r.deleted = 0"
    " LOCK IN SHARE MODE");
/*
 * The originals of a page's replies that are not deleted, whose ids come
 * as a JSON array of decimal strings: each looked up by the primary key.
 */
static struct db_stmt q_originals = DB_STMT(
    "SELECT r.id, r.author_id, u.username, LEFT(r.content, 100)"
    " FROM messages r JOIN users u ON u.id = r.author_id"
    " WHERE r.id IN (SELECT j.id FROM JSON_TABLE(?, '$[*]'"
    " COLUMNS (id BIGINT UNSIGNED PATH '$')) AS j) AND r.deleted = 0");
static struct db_stmt q_replies = DB_STMT(
    "SELECT id FROM messages WHERE reply_to_id = ? AND deleted = 0"
    " ORDER BY id");

/* A new copy of a column, or NULL for SQL NULL. */
static char *
replies_copy(struct db_rows *rows, unsigned int col)
{
	const char	*s;
	size_t		 len;

	if ((s = db_str(rows, col, &len)) == NULL)
		return NULL;
	return xstrndup(s, len);
}

/* Free what a reply owns. */
void
replies_clear(struct reply *r)
{
	free(r->username);
	free(r->content);
	memset(r, 0, sizeof *r);
}

/*
 * Write a message's reply_to: null, {id, author, content}, or {id,
 * author: null, content: null} once the original is deleted.
 */
void
replies_gen(yajl_gen g, const struct reply *r)
{
	json_gen_key(g, "reply_to");
	if (r->id == 0) {
		yajl_gen_null(g);
		return;
	}
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", r->id);
	json_gen_key(g, "author");
	if (r->author_id != 0)
		users_gen_public(g, r->author_id, r->username);
	else
		yajl_gen_null(g);
	json_gen_kstr(g, "content", r->author_id != 0 ? r->content : NULL);
	yajl_gen_map_close(g);
}

/* Fill r from the current row of q_lock or q_originals. */
static void
replies_read_row(struct db_rows *rows, void *out)
{
	struct reply	*r = out;

	r->id = db_u64(rows, 0);
	r->author_id = db_u64(rows, 1);
	r->username = replies_copy(rows, 2);
	r->content = replies_copy(rows, 3);
}

/*
 * Lock the message id of conversation c that a new message answers, in
 * the open transaction, and fill r with its preview: 1, 0 when there is
 * no such message here that is not deleted, -1 on an error.
 */
int
replies_lock(const struct conversation *c, uint64_t id, struct reply *r)
{
	memset(r, 0, sizeof *r);
	return db_fetch_one(db_query(&q_lock, "uuu", id, c->channel_id,
	    c->dm_channel_id), replies_read_row, r);
}

/*
 * Read the originals of the replies among n messages (reply.id set, the
 * rest of reply empty) with one statement, none when there are none: an
 * original deleted since stays without author (replies_gen()).  0, or -1.
 */
int
replies_originals(struct message *ms, long n)
{
	struct db_rows	*rows;
	struct reply	 r;
	uint64_t	*ids;
	size_t		 nids = 0;
	long		 i;
	int		 rc;

	ids = xcalloc((size_t)n + 1, sizeof *ids);
	for (i = 0; i < n; i++) {
		if (ms[i].reply.id != 0)
			ids[nids++] = ms[i].reply.id;
	}
	if (nids == 0) {
		free(ids);
		return 0;
	}
	rows = db_query_ids(&q_originals, ids, nids);
	free(ids);
	if (rows == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		replies_read_row(rows, &r);
		/* Several replies may answer one original. */
		for (i = 0; i < n; i++) {
			if (ms[i].reply.id != r.id || ms[i].reply.author_id != 0)
				continue;
			ms[i].reply.author_id = r.author_id;
			ms[i].reply.username = r.username != NULL ?
			    xstrdup(r.username) : NULL;
			ms[i].reply.content = r.content != NULL ?
			    xstrdup(r.content) : NULL;
		}
		replies_clear(&r);
	}
	db_rows_free(rows);
	return rc == -1 ? -1 : 0;
}

/*
 * The ids of the replies to a message that are not deleted, oldest
 * first: their number (*ids malloc'd, the caller frees it), or -1.
 */
long
replies_of(uint64_t id, uint64_t **ids)
{
	struct db_rows	*rows;
	size_t		 n = 0, size = 16;
	int		 rc;

	*ids = NULL;
	if ((rows = db_query(&q_replies, "u", id)) == NULL)
		return -1;
	*ids = xcalloc(size, sizeof **ids);
	while ((rc = db_fetch(rows)) == 1) {
		if (n == size) {
			size *= 2;
			*ids = xreallocarray(*ids, size, sizeof **ids);
		}
		(*ids)[n++] = db_u64(rows, 0);
	}
	db_rows_free(rows);
	if (rc == -1) {
		free(*ids);
		*ids = NULL;
		return -1;
	}
	return (long)n;
}
