/* SPDX-License-Identifier: ISC */
/*
 * messages.c: the rows of messages and their writing (API.md, Messages),
 * a server channel and a DM channel alike: send with nonce deduplication,
 * edit and soft delete, each change written with its event in one
 * transaction.  history.c reads them; api-messages.c serves both kinds
 * of conversation over HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sohbet.h"

#define MESSAGES_SEND_ATTEMPTS	3
#define ER_DUP_ENTRY		1062
#define MESSAGES_NO_ORIGINAL	2	/* reply_to names no message here */
/* A send's attachments are not the sender's to use. */
#define MESSAGES_REFUSED	-2

/* One message of a conversation (the zero ids stand for the other kind). */
static struct db_stmt q_message = DB_STMT(
    MESSAGES_SELECT MESSAGES_AUTHOR " WHERE m.id = ?"
    " AND m.channel_id <=> NULLIF(?, 0)"
    " AND m.dm_channel_id <=> NULLIF(?, 0) AND m.deleted = 0");
static struct db_stmt q_lock = DB_STMT(
    "SELECT author_id FROM messages WHERE id = ?"
    " AND channel_id <=> NULLIF(?, 0) AND dm_channel_id <=> NULLIF(?, 0)"
    " AND deleted = 0 FOR UPDATE");
static struct db_stmt q_insert = DB_STMT(
    "INSERT INTO messages (id, channel_id, dm_channel_id, author_id,"
    " content, nonce, created_at, reply_to_id, mentions, attached)"
    " VALUES (?, NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, ?, NULLIF(?, 0), ?,"
    " ?)");
/* The one-call send (message_send, sql/routines.sql). */
static struct db_stmt q_send = DB_STMT(
    "CALL message_send(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
static struct db_stmt q_edit = DB_STMT(
    "UPDATE messages SET content = ?, edited_at = NOW(3), mentions = ?"
    " WHERE id = ?");
static struct db_stmt q_delete = DB_STMT(
    "UPDATE messages SET deleted = 1, content = '', pin_order = NULL,"
    " mentions = NULL WHERE id = ?");
/*
 * The candidates of one step of a sweep (messages_delete_recent): the
 * oldest of an author's messages in a server's channels since a time.  A
 * plain read, which locks nothing: each is then locked alone by its
 * primary key (q_lock), so a step locks exactly the rows it deletes.
 */
static struct db_stmt q_recent = DB_STMT(
    "SELECT m.id, m.channel_id FROM messages m"
    " JOIN channels c ON c.id = m.channel_id"
    " WHERE m.author_id = ? AND c.server_id = ? AND m.deleted = 0"
    " AND m.created_at >= ? ORDER BY m.id LIMIT ?");

/*
 * Nonces (sql/001_initial.sql, message_nonces): the primary key (author,
 * channel, DM channel, nonce) decides which of two racing sends posts.
 */
static struct db_stmt q_nonce_expire = DB_STMT(
    "DELETE FROM message_nonces WHERE author_id = ? AND channel_id = ?"
    " AND dm_channel_id = ? AND nonce = ?"
    " AND created_at < NOW(3) - INTERVAL 10 MINUTE");
static struct db_stmt q_nonce_insert = DB_STMT(
    "INSERT INTO message_nonces (author_id, channel_id, dm_channel_id,"
    " nonce, message_id, created_at) VALUES (?, ?, ?, ?, ?, NOW(3))");
static struct db_stmt q_nonce_holder = DB_STMT(
    "SELECT message_id, created_at < NOW(3) - INTERVAL 10 MINUTE"
    " FROM message_nonces WHERE author_id = ? AND channel_id = ?"
    " AND dm_channel_id = ? AND nonce = ?");
static struct db_stmt q_nonce_forget = DB_STMT(
    "DELETE FROM message_nonces WHERE message_id = ?");

/* A new copy of a column, or NULL for SQL NULL. */
static char *
messages_copy(struct db_rows *rows, unsigned int col)
{
	const char	*s;
	size_t		 len;

	if ((s = db_str(rows, col, &len)) == NULL)
		return NULL;
	return xstrndup(s, len);
}

/* Fill m from the current row of a MESSAGES_SELECT query. */
static void
messages_read(struct db_rows *rows, void *out)
{
	struct message	*m = out;

	memset(m, 0, sizeof *m);
	m->id = db_u64(rows, 0);
	m->channel_id = db_u64(rows, 1);
	m->dm_channel_id = db_u64(rows, 2);
	m->author_id = db_u64(rows, 3);
	m->username = messages_copy(rows, 4);
	m->content = messages_copy(rows, 5);
	m->created_at = messages_copy(rows, 6);
	m->edited_at = messages_copy(rows, 7);
	m->nonce = messages_copy(rows, 8);
	m->pinned = db_u64(rows, 9) != 0;
	m->reply.id = db_u64(rows, MESSAGES_REPLY_COLUMN);
	mentions_read(rows, MESSAGES_MENTIONS_COLUMN, &m->mentions);
	m->reacted = db_u64(rows, MESSAGES_REACTED_COLUMN) != 0;
	m->attached = db_u64(rows, MESSAGES_ATTACHED_COLUMN) != 0;
}

/* The names of the messages table's columns, as enum messages_column. */
static const char *const messages_column_names[MESSAGES_COLS] = {
	"id", "channel_id", "dm_channel_id", "author_id", "content",
	"created_at", "edited_at", "nonce", "deleted", "pin_order",
	"reply_to_id", "mentions", "reacted", "attached"
};

/*
 * Find the messages table's columns in a result that has them all as the
 * table names them: 0, or -1 (with a warning) when one is missing.
 */
int
messages_columns_find(struct db_rows *rows, struct messages_columns *cols)
{
	int	i, at;

	for (i = 0; i < MESSAGES_COLS; i++) {
		if ((at = db_column(rows, messages_column_names[i])) == -1) {
			log_warnx("%s: no column %s in the messages read",
			    __func__, messages_column_names[i]);
			return -1;
		}
		cols->at[i] = (unsigned int)at;
	}
	return 0;
}

/*
 * Fill m from the current row of a result of the table's own columns
 * (messages_columns_find()), without its author's name
 * (messages_name_authors()): 1, or 0 for a deleted message, of which m
 * then holds the id and conversation alone.
 */
int
messages_read_columns(struct db_rows *rows,
    const struct messages_columns *cols, struct message *m)
{
	const unsigned int	*at = cols->at;

	memset(m, 0, sizeof *m);
	m->id = db_u64(rows, at[MESSAGES_COL_ID]);
	m->channel_id = db_u64(rows, at[MESSAGES_COL_CHANNEL]);
	m->dm_channel_id = db_u64(rows, at[MESSAGES_COL_DM]);
	if (db_u64(rows, at[MESSAGES_COL_DELETED]) != 0)
		return 0;
	m->author_id = db_u64(rows, at[MESSAGES_COL_AUTHOR]);
	m->content = messages_copy(rows, at[MESSAGES_COL_CONTENT]);
	m->created_at = messages_copy(rows, at[MESSAGES_COL_CREATED]);
	m->edited_at = messages_copy(rows, at[MESSAGES_COL_EDITED]);
	m->nonce = messages_copy(rows, at[MESSAGES_COL_NONCE]);
	m->pinned = !db_is_null(rows, at[MESSAGES_COL_PIN]);
	m->reply.id = db_u64(rows, at[MESSAGES_COL_REPLY]);
	mentions_read(rows, at[MESSAGES_COL_MENTIONS], &m->mentions);
	m->reacted = db_u64(rows, at[MESSAGES_COL_REACTED]) != 0;
	m->attached = db_u64(rows, at[MESSAGES_COL_ATTACHED]) != 0;
	return 1;
}

/*
 * Name the authors of n messages read without their names, from the
 * worker's users cache (cache.c), which keeps the users looked up lately
 * fresh in bulk (auth.c): those it lacks with one statement for all,
 * which puts them there.  0, or -1.
 */
int
messages_name_authors(struct message *ms, long n)
{
	struct db_rows	*rows;
	char		 name[USERNAME_SIZE];
	uint64_t	*ids = NULL, id;
	unsigned int	 generation;
	size_t		 nids = 0, j;
	long		 i;
	int		 rc;

	for (i = 0; i < n; i++) {
		if (ms[i].username != NULL)
			continue;
		if (cache_user_get(ms[i].author_id, &generation, name)) {
			ms[i].username = xstrdup(name);
			continue;
		}
		if (ids == NULL)
			ids = xcalloc((size_t)n, sizeof *ids);
		for (j = 0; j < nids && ids[j] != ms[i].author_id; j++)
			continue;
		if (j == nids)
			ids[nids++] = ms[i].author_id;
	}
	if (nids == 0)
		return 0;
	rows = auth_users_read(ids, nids);
	free(ids);
	if (rows == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		id = db_u64(rows, 0);
		db_copy(name, sizeof name, rows, 2);
		cache_user_put(id, (unsigned int)db_u64(rows, 1), name);
		for (i = 0; i < n; i++) {
			if (ms[i].author_id == id && ms[i].username == NULL)
				ms[i].username = xstrdup(name);
		}
	}
	db_rows_free(rows);
	return rc;
}

/*
 * Whether any of n messages read from rows has attachments (attached) or
 * has or had reactions (!attached): without, a page needs no statement
 * for them.
 */
static int
messages_any(const struct message *ms, long n, int attached)
{
	long	i;

	for (i = 0; i < n; i++) {
		if (attached ? ms[i].attached : ms[i].reacted)
			return 1;
	}
	return 0;
}

/*
 * Complete n messages read from rows with what their rows point at, one
 * statement for each kind that some of them have: the originals they
 * answer (replies.c), the names of the users they mention (mentions.c),
 * their attachments, their reactions as reader sees them (reactions.c).
 * 0, or -1.
 */
int
messages_complete(struct message *ms, long n, uint64_t reader)
{
	if (replies_originals(ms, n) == -1 || mentions_name(ms, n) == -1 ||
	    (messages_any(ms, n, 1) && attachments_of_messages(ms, n) == -1))
		return -1;
	if (messages_any(ms, n, 0) &&
	    reactions_attach(ms, n, reader, 1) == -1)
		return -1;
	return 0;
}

/*
 * Fill m as the row messages_insert() just wrote reads back, without
 * reading it: the author's name is the caller's (auth.c).
 */
void
messages_new(struct message *m, uint64_t id, const struct conversation *c,
    const struct request *req, const char *content, size_t len,
    const char *nonce, const char *created_at, const struct mentions *ms)
{
	memset(m, 0, sizeof *m);
	m->id = id;
	m->channel_id = c->channel_id;
	m->dm_channel_id = c->dm_channel_id;
	m->author_id = req->user_id;
	m->username = xstrdup(req->username);
	m->content = xstrndup(content, len);
	m->created_at = xstrdup(created_at);
	m->nonce = nonce != NULL ? xstrdup(nonce) : NULL;
	mentions_copy(&m->mentions, ms);
}

/* The time now as MariaDB writes a DATETIME(3) in UTC (32 bytes). */
void
messages_now(char *buf, size_t size)
{
	struct timespec	ts;
	struct tm	tm;
	size_t		len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + len, size - len, ".%03ld", ts.tv_nsec / 1000000);
}

/* Free what a message owns. */
void
messages_clear(struct message *m)
{
	free(m->username);
	free(m->content);
	free(m->created_at);
	free(m->edited_at);
	free(m->nonce);
	replies_clear(&m->reply);
	reactions_clear(m);
	mentions_clear(&m->mentions);
	attachments_free(m->attachments, m->nattachments);
	memset(m, 0, sizeof *m);
}

/*
 * Read every row of a result into ms (room for max), completed as
 * messages_complete() does, their reactions as reader sees them: the
 * count or -1.
 */
long
messages_read_reacted(struct db_rows *rows, struct message *ms, long max,
    uint64_t reader)
{
	long	n = 0;
	int	rc = 0;

	if (rows == NULL)
		return -1;
	while (n < max && (rc = db_fetch(rows)) == 1)
		messages_read(rows, &ms[n++]);
	db_rows_free(rows);
	if (rc != -1 && messages_complete(ms, n, reader) == -1)
		rc = -1;
	if (rc == -1) {
		while (n > 0)
			messages_clear(&ms[--n]);
		return -1;
	}
	return n;
}

/* Write a message object, its attachments' links signed now. */
void
messages_gen(yajl_gen g, const struct message *m)
{
	messages_gen_links(g, m, NULL);
}

/*
 * Write a message object; with links, its attachments' links are left
 * unsigned and their places noted (attachments_gen_list()).
 */
void
messages_gen_links(yajl_gen g, const struct message *m,
    struct attachment_links *links)
{
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", m->id);
	json_gen_kid(g, "channel_id", m->channel_id);
	json_gen_kid(g, "dm_channel_id", m->dm_channel_id);
	json_gen_key(g, "author");
	users_gen_public(g, m->author_id, m->username);
	json_gen_kstr(g, "content", m->content);
	json_gen_ktime(g, "created_at", m->created_at);
	json_gen_ktime(g, "edited_at", m->edited_at);
	json_gen_kstr(g, "nonce", m->nonce);
	replies_gen(g, &m->reply);
	mentions_gen(g, &m->mentions);
	reactions_gen(g, m);
	json_gen_kbool(g, "pinned", m->pinned);
	json_gen_key(g, "attachments");
	attachments_gen_list(g, m->attachments, m->nattachments, links);
	yajl_gen_map_close(g);
}

/*
 * Load a message of a conversation that is not deleted, with its
 * reactions as c's reader sees them; 1, 0 or -1.
 */
int
messages_load(const struct conversation *c, uint64_t id, struct message *m)
{
	int	rc;

	memset(m, 0, sizeof *m);
	if ((rc = db_fetch_one(db_query(&q_message, "uuu", id, c->channel_id,
	    c->dm_channel_id), messages_read, m)) != 1)
		return rc;
	if (messages_complete(m, 1, c->reader_id) == -1) {
		messages_clear(m);
		return -1;
	}
	return 1;
}

/* Answer with a message (200 or 201). */
void
messages_respond(struct request *req, int status, const struct message *m)
{
	yajl_gen	g;

	g = json_gen_new();
	messages_gen(g, m);
	response_json(req, status, g);
}

/* The scope of a conversation's events: who may see them. */
void
messages_scope(const struct conversation *c, struct event_scope *scope)
{
	memset(scope, 0, sizeof *scope);
	scope->server_id = c->server_id;
	scope->channel_id = c->channel_id;
	scope->dm_channel_id = c->dm_channel_id;
}

/*
 * The data of a message.* event, {message}, its reactions without "me"
 * (each reader has their own); the caller frees it.
 */
yajl_gen
messages_event_data(const struct message *m)
{
	struct message	shown = *m;
	yajl_gen	g;

	shown.reactions_me = 0;
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "message");
	messages_gen(g, &shown);
	yajl_gen_map_close(g);
	return g;
}

/*
 * Append a message.create or message.update event {message}; an update is
 * noted for events_rewrite_message().
 */
int
messages_event(const char *type, const struct conversation *c,
    const struct message *m)
{
	struct event_scope	scope;
	yajl_gen		g;
	uint64_t		seq;
	int			rc;

	messages_scope(c, &scope);
	g = messages_event_data(m);
	rc = events_append_seq(type, &scope, g, &seq);
	yajl_gen_free(g);
	if (rc == 0 && strcmp(type, "message.update") == 0)
		rc = events_note_update(m->id, seq);
	return rc;
}

/*
 * Read the holder of a taken nonce key: 1 (its message id in *held, and
 * whether it is older than 10 minutes), 0 if there is none, -1.  A plain
 * read: it takes no lock, so racing sends that all found the key taken
 * wait on nothing here.
 */
static int
messages_nonce_holder(const struct conversation *c, uint64_t author,
    const char *nonce, uint64_t *held, int *expired)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_nonce_holder, "uuus", author, c->channel_id,
	    c->dm_channel_id, nonce)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1) {
		*held = db_u64(rows, 0);
		*expired = db_u64(rows, 1) != 0;
	}
	db_rows_free(rows);
	return rc;
}

/* Insert a nonce's row: 1, 0 if its key is taken, -1 on another error. */
static int
messages_nonce_insert(const struct conversation *c, uint64_t author,
    const char *nonce, uint64_t id)
{
	if (db_exec(&q_nonce_insert, "uuusu", author, c->channel_id,
	    c->dm_channel_id, nonce, id) == 1)
		return 1;
	return db_errno() == ER_DUP_ENTRY ? 0 : -1;
}

/*
 * Record the nonce of a new message: 1, 0 if a send of the last 10
 * minutes holds it (that message's id in *held), -1.  The insert comes
 * first, a fresh nonce being the common case (one statement).  A racing
 * send with the same nonce waits on the first one's uncommitted key and,
 * once that commits, finds the key taken by a live holder.  Only an
 * expired holder is deleted, and the insert tried again; two sends racing
 * over one expired nonce can deadlock there, and the retry scope of the
 * request runs the loser again (db_retry_claim()).
 */
static int
messages_nonce_claim(const struct conversation *c, uint64_t author,
    const char *nonce, uint64_t id, uint64_t *held)
{
	int	expired = 0, rc;

	if ((rc = messages_nonce_insert(c, author, nonce, id)) != 0)
		return rc;
	if ((rc = messages_nonce_holder(c, author, nonce, held,
	    &expired)) != 1)
		return -1;
	if (!expired)
		return 0;
	if (db_exec(&q_nonce_expire, "uuus", author, c->channel_id,
	    c->dm_channel_id, nonce) != 1)
		return -1;
	return messages_nonce_insert(c, author, nonce, id) == 1 ? 1 : -1;
}

/*
 * Post a message in one transaction, statement by statement: the id drawn
 * from the sequencer (so ids become visible in commit order, like event
 * seqs), the original it replies to locked (replies.c), the row, its
 * nonce's row, its attachments (att, natt), the message.create event.
 * 1 posted (m filled), 0 the nonce was already used (rolled back; the
 * first message's id in *held), MESSAGES_NO_ORIGINAL or MESSAGES_REFUSED
 * (an attachment is not the sender's to use here; rolled back), -1
 * error (rolled back).
 *
 * The nonce's primary key is the arbiter of a race: a second send with
 * the same nonce blocks on the first one's uncommitted key and fails with
 * a duplicate once that commits, or goes on if it rolled back.
 */
static int
messages_insert_steps(const struct conversation *c,
    const struct request *req, const char *content, size_t len,
    const char *nonce, uint64_t reply_to, const struct mentions *ms,
    const uint64_t *att, size_t natt, struct message *m, uint64_t *held)
{
	struct reply	 reply;
	char		 created_at[32];
	char		*list;
	uint64_t	 id;
	long long	 inserted;
	int		 rc;

	memset(&reply, 0, sizeof reply);
	if (db_begin() == -1)
		return -1;
	messages_now(created_at, sizeof created_at);
	if (sequencer_next(&id) == -1)
		goto fail;
	if (reply_to != 0 && (rc = replies_lock(c, reply_to, &reply)) != 1) {
		db_rollback();
		return rc == 0 ? MESSAGES_NO_ORIGINAL : -1;
	}
	list = mentions_column_text(ms);
	/* With its attachments' flag (sql/021), claimed below. */
	inserted = db_exec(&q_insert, "uuuubssusd", id, c->channel_id,
	    c->dm_channel_id, req->user_id, content, len, nonce, created_at,
	    reply_to, list, natt > 0);
	free(list);
	if (inserted != 1 || words_queue(id) == -1 ||
	    mentions_insert(id, c, req->user_id, ms) == -1)
		goto fail;
	if (nonce != NULL && (rc = messages_nonce_claim(c, req->user_id,
	    nonce, id, held)) != 1) {
		replies_clear(&reply);
		db_rollback();
		return rc;
	}
	if (natt > 0 && (rc = attachments_claim(c, req->user_id, id, att,
	    natt)) != 1) {
		db_rollback();
		return rc == 0 ? MESSAGES_REFUSED : -1;
	}
	messages_new(m, id, c, req, content, len, nonce, created_at, ms);
	m->reply = reply;
	memset(&reply, 0, sizeof reply);
	if ((natt > 0 && attachments_of_message(m) == -1) ||
	    messages_event("message.create", c, m) == -1 ||
	    db_commit() == -1) {
		messages_clear(m);
		goto fail;
	}
	return 1;
fail:
	replies_clear(&reply);
	db_rollback();
	return -1;
}

/*
 * Post a message with one CALL of message_send (sql/routines.sql),
 * which writes what messages_insert_steps() does, numbers drawn before:
 * 1 posted (m filled), -1 not (rolled back).  A nonce already taken
 * fails it with ER_DUP_ENTRY.
 */
static int
messages_insert_call(const struct conversation *c,
    const struct request *req, const char *content, size_t len,
    const char *nonce, const struct mentions *ms, struct message *m)
{
	struct event_scope	 s;
	char			 created_at[32];
	char			*list;
	const char		*data;
	size_t			 data_len;
	uint64_t		 id, seq;
	yajl_gen		 g;
	long long		 rc;

	if (db_begin_call() == -1)
		return -1;
	messages_scope(c, &s);
	if (sequencer_next(&id) == -1 ||
	    events_reserve("message.create", &s, &seq) == -1) {
		db_rollback();
		return -1;
	}
	messages_now(created_at, sizeof created_at);
	messages_new(m, id, c, req, content, len, nonce, created_at, ms);
	g = messages_event_data(m);
	data = json_gen_text(g, &data_len);
	list = mentions_column_text(ms);
	rc = db_exec(&q_send, "uuuubssusuuuubs", id, c->channel_id,
	    c->dm_channel_id, req->user_id, content, len, nonce, created_at,
	    seq, "message.create", s.server_id, s.channel_id, s.dm_channel_id,
	    s.user_id, data, data_len, list);
	free(list);
	yajl_gen_free(g);
	if (rc == -1) {
		messages_clear(m);
		db_rollback();
		return -1;
	}
	db_end_call();
	return 1;
}

/* The one-call send; without it, sends go statement by statement. */
static struct db_routine r_send = DB_ROUTINE("message_send",
    "messages are sent statement by statement");

/*
 * Post a message: 1 posted (m filled), 0 the nonce was already used (the
 * first message's id in *held), MESSAGES_NO_ORIGINAL, MESSAGES_REFUSED
 * (attachments), -1 error.  One round trip when the sequencer allows it,
 * the nonce, if any, is new and the message replies to none and has no
 * attachments; statement by statement otherwise.
 */
static int
messages_insert(const struct conversation *c, const struct request *req,
    const char *content, size_t len, const char *nonce, uint64_t reply_to,
    const struct mentions *ms, const uint64_t *att, size_t natt,
    struct message *m, uint64_t *held)
{
	int	rc;

	if (reply_to == 0 && natt == 0 && sequencer_local() &&
	    db_routine_usable(&r_send)) {
		rc = messages_insert_call(c, req, content, len, nonce, ms, m);
		if (rc == 1)
			return 1;
		if (!db_routine_lost(&r_send) &&
		    (nonce == NULL || db_errno() != ER_DUP_ENTRY))
			return rc;
	}
	return messages_insert_steps(c, req, content, len, nonce, reply_to, ms,
	    att, natt, m, held);
}

/*
 * Post a message now and answer: 201 with the new message, or 200 with
 * the first one when this author sent the same nonce to this conversation
 * within 10 minutes; 400 when reply_to (0: none) names no message of the
 * conversation that is not deleted.  content and nonce were checked, ms
 * resolved from content, by api-messages.c.
 */
void
messages_send(struct request *req, const struct conversation *c,
    const char *content, size_t len, const char *nonce, uint64_t reply_to,
    const struct mentions *ms)
{
	messages_send_attached(req, c, content, len, nonce, reply_to, ms,
	    NULL, 0);
}

/*
 * Post a message with natt uploads of the sender to this conversation
 * (distinct ids, API.md, Attachments) and answer as messages_send(); 400
 * validation_failed when one of them is not the sender's unattached
 * upload to this conversation, or reply_to names no message here.
 */
void
messages_send_attached(struct request *req, const struct conversation *c,
    const char *content, size_t len, const char *nonce, uint64_t reply_to,
    const struct mentions *ms, const uint64_t *att, size_t natt)
{
	struct message	m;
	uint64_t	held = 0;
	int		attempt, rc = -1, status = 0;

	/*
	 * Again when the first message of a nonce was deleted in between.
	 * A deadlock is answered by response_db_error(), which has the
	 * whole request run again (db_retry_claim()).
	 */
	for (attempt = 0; attempt < MESSAGES_SEND_ATTEMPTS; attempt++) {
		if ((rc = messages_insert(c, req, content, len, nonce,
		    reply_to, ms, att, natt, &m, &held)) == 1) {
			status = 201;
			break;
		}
		if (rc == MESSAGES_NO_ORIGINAL) {
			response_invalid(req, "reply_to", "reply_to must be a "
			    "message of this conversation that is not deleted");
			return;
		}
		if (rc == 0 && (rc = messages_load(c, held, &m)) != 0) {
			status = 200;
			break;
		}
		if (rc == -1)
			break;
	}
	if (rc == MESSAGES_REFUSED) {
		response_invalid(req, "attachments", "Each attachment must be "
		    "your own upload to this conversation, not yet used");
		return;
	}
	if (rc != 1) {
		response_db_error(req);
		return;
	}
	messages_respond(req, status, &m);
	messages_clear(&m);
}

/*
 * Bring the message's stored message.create and message.update events
 * to what m is now (an edit's text, a delete's erased one), in the open
 * transaction: no older event keeps text the message no longer has.
 */
static int
messages_rewrite_events(const struct message *m)
{
	yajl_gen	g;
	long long	n;

	g = messages_event_data(m);
	n = events_rewrite_message(m->id, m->created_at, g);
	yajl_gen_free(g);
	return n == -1 ? -1 : 0;
}

/*
 * Lock a message of the conversation that is not deleted, in the open
 * transaction, and read its author: 1, 0 (no such message here, or
 * deleted), or -1 on an error.
 */
static int
messages_lock_row(const struct conversation *c, uint64_t id,
    uint64_t *author)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_lock, "uuu", id, c->channel_id,
	    c->dm_channel_id)) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1)
		*author = db_u64(rows, 0);
	db_rows_free(rows);
	return rc;
}

/*
 * Lock a message of the conversation for a change by the caller.  0, or
 * -1 with 404 (no such message here, or deleted) or 403 (not the author,
 * and not a moderator where moderators may act) answered.
 */
static int
messages_lock(struct request *req, const struct conversation *c,
    uint64_t id, int moderators_too)
{
	uint64_t	author = 0;
	int		rc;

	if ((rc = messages_lock_row(c, id, &author)) == -1)
		response_db_error(req);
	else if (rc == 0)
		response_not_found(req, "message");
	else if (author == req->user_id || (moderators_too && c->moderator))
		return 0;
	else if (moderators_too && c->channel_id != 0)
		response_error(req, 403, "missing_permission", "You need the "
		    "manage_messages permission to delete others' messages");
	else
		response_error(req, 403, "missing_permission", "Cannot %s a "
		    "message authored by another user", moderators_too ?
		    "delete" : "edit");
	return -1;
}

/*
 * Edit a message of the conversation as the caller (its author only) and
 * answer 200 with it, its older events rewritten and message.update
 * appended in the same transaction; or 404/403/5xx.  content was checked
 * and its mentions resolved (ms), which replace the message's.
 */
void
messages_edit(struct request *req, const struct conversation *c,
    uint64_t id, const char *content, size_t len, const struct mentions *ms)
{
	struct message	 m;
	char		*list;
	long long	 edited;

	if (db_begin() == -1) {
		response_db_error(req);
		return;
	}
	if (messages_lock(req, c, id, 0) == -1) {
		db_rollback();
		return;
	}
	if (mentions_forget(id) == -1 || words_forget(id) == -1)
		goto fail;
	list = mentions_column_text(ms);
	edited = db_exec(&q_edit, "bsu", content, len, list, id);
	free(list);
	if (edited != 1 || words_queue(id) == -1 ||
	    mentions_insert(id, c, req->user_id, ms) == -1 ||
	    messages_load(c, id, &m) != 1)
		goto fail;
	if (messages_rewrite_events(&m) == -1 ||
	    messages_event("message.update", c, &m) == -1 ||
	    db_commit() == -1) {
		messages_clear(&m);
		goto fail;
	}
	messages_respond(req, 200, &m);
	messages_clear(&m);
	return;
fail:
	db_rollback();
	response_db_error(req);
}

/* Append the message.delete event {id, channel_id, dm_channel_id}. */
static int
messages_delete_event(const struct conversation *c, uint64_t id)
{
	struct event_scope	scope;
	yajl_gen		g;
	int			rc;

	messages_scope(c, &scope);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", id);
	json_gen_kid(g, "channel_id", c->channel_id);
	json_gen_kid(g, "dm_channel_id", c->dm_channel_id);
	yajl_gen_map_close(g);
	rc = events_append("message.delete", &scope, g);
	yajl_gen_free(g);
	return rc;
}

/*
 * Erase a message's text from the events that carried it: they keep the
 * message's id, author and times, with content "" and no mentions or
 * attachments.
 */
static int
messages_erase_events(const struct conversation *c, uint64_t id)
{
	struct message	m;
	int		rc;

	if (messages_load(c, id, &m) != 1)
		return -1;
	free(m.content);
	m.content = xstrdup("");
	mentions_clear(&m.mentions);
	attachments_free(m.attachments, m.nattachments);
	m.attachments = NULL;
	m.nattachments = 0;
	rc = messages_rewrite_events(&m);
	messages_clear(&m);
	return rc;
}

/*
 * Bring the events of the replies to a message just deleted (in the open
 * transaction) to what they show now, an original with no author and no
 * text: no event keeps a preview of text the original no longer has.
 */
static int
messages_erase_replies(const struct conversation *c, uint64_t id)
{
	struct message	 m;
	uint64_t	*ids;
	long		 n, i;
	int		 rc = 0;

	if ((n = replies_of(id, &ids)) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (messages_load(c, ids[i], &m) != 1) {
			rc = -1;
			break;
		}
		rc = messages_rewrite_events(&m);
		messages_clear(&m);
	}
	free(ids);
	return rc;
}

/*
 * Delete a locked message of the conversation inside the open
 * transaction, but for its events' text (the caller erases it): deleted
 * set, its content erased and its pin dropped; its reactions gone; its
 * words taken out of the search index (words_forget()); its nonce
 * forgotten, so a later retry posts anew rather than answering with a
 * message nobody can see; its mentions forgotten, so
 * that they count no more; the previews of its replies erased; its
 * attachments' rows deleted (their ids added to doomed, for the caller to unlink their
 * files once committed); message.delete appended.
 */
static int
messages_delete_locked(const struct conversation *c, uint64_t id,
    struct attachment_ids *doomed)
{
	if (mentions_forget(id) == -1 || words_forget(id) == -1 ||
	    db_exec(&q_delete, "u", id) != 1 ||
	    db_exec(&q_nonce_forget, "u", id) == -1 ||
	    reactions_forget(id) == -1 ||
	    messages_erase_replies(c, id) == -1 ||
	    attachments_take(id, doomed) == -1 ||
	    messages_delete_event(c, id) == -1)
		return -1;
	return 0;
}

/*
 * Delete a message of the conversation as the caller (its author, or a
 * moderator of a server channel) and answer 204.
 */
void
messages_delete(struct request *req, const struct conversation *c,
    uint64_t id)
{
	struct attachment_ids	doomed = { NULL, 0, 0 };

	if (db_begin() == -1) {
		response_db_error(req);
		return;
	}
	if (messages_lock(req, c, id, 1) == -1) {
		db_rollback();
		return;
	}
	if (messages_erase_events(c, id) == -1 ||
	    messages_delete_locked(c, id, &doomed) == -1 ||
	    db_commit() == -1) {
		db_rollback();
		attachments_unlink(&doomed, 0);
		response_db_error(req);
		return;
	}
	attachments_unlink(&doomed, 1);
	response_empty(req, 204);
}

/*
 * One step of deleting an author's messages in a server's channels
 * created at or after since (a DATETIME text), as messages_delete()
 * would, in a transaction of its own: at most limit messages, so that a
 * step holds its row locks for a bounded time.  Their events' text is
 * erased by one statement for the step (events_erase_author).  The
 * number the step found (each now deleted, by it or by someone
 * meanwhile; below limit: none are left), or -1 after rolling back.
 */
int
messages_delete_recent(uint64_t server_id, uint64_t author_id,
    const char *since, int limit)
{
	struct conversation	 c = { .server_id = server_id, .moderator = 1 };
	struct attachment_ids	 doomed = { NULL, 0, 0 };
	struct db_rows		*rows;
	uint64_t		*ids, *channels, author;
	int			 n = 0, i, rc = 0;

	ids = xcalloc((size_t)limit, sizeof *ids);
	channels = xcalloc((size_t)limit, sizeof *channels);
	if (db_begin() == -1)
		goto fail;
	if ((rows = db_query(&q_recent, "uusd", author_id, server_id, since,
	    limit)) == NULL)
		goto fail;
	while (n < limit && (rc = db_fetch(rows)) == 1) {
		ids[n] = db_u64(rows, 0);
		channels[n++] = db_u64(rows, 1);
	}
	db_rows_free(rows);
	if (rc == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		c.channel_id = channels[i];
		/* Deleted since it was read: nothing left to do. */
		if ((rc = messages_lock_row(&c, ids[i], &author)) == 0)
			continue;
		if (rc == -1 || messages_delete_locked(&c, ids[i],
		    &doomed) == -1)
			goto fail;
	}
	if ((n > 0 && events_erase_author(server_id, author_id,
	    ids[0]) == -1) || db_commit() == -1)
		goto fail;
	attachments_unlink(&doomed, 1);
	free(ids);
	free(channels);
	return n;
fail:
	db_rollback();
	attachments_unlink(&doomed, 0);
	free(ids);
	free(channels);
	return -1;
}
