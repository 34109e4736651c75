/* SPDX-License-Identifier: ISC */
/*
 * history.c: reading the messages of a conversation (API.md, Messages):
 * one page of history before, after or around a cursor, never above the
 * sequencer's watermark.
 *
 * And the newest messages of the conversations a worker serves, kept
 * rendered as JSON, so that the request every client makes most (the
 * latest page, no cursor) costs no database read.  A page holds the
 * newest HISTORY_KEEP messages at or below the watermark it was read
 * under; it is dropped by the hub entries of its conversation (cache.c
 * says when, and why that keeps it exact) and after cfg->cache_ms.
 *
 * Reactions carry "me", which differs from reader to reader: a page is
 * kept with every "me" false, along with who reacted and where each
 * reaction's "false" is in its text (history_me); a reader's answer is
 * the text with their own turned to "true " (the same length: JSON
 * allows the space).  A page whose messages have more than
 * HISTORY_REACTORS_MAX reactions in all keeps no such list: readers of
 * its reacted messages are answered from the database.
 *
 * The table is direct-mapped and its pages hold at most
 * HISTORY_BYTES_MAX bytes in all: a page that does not fit evicts others,
 * round the table, until it does.
 *
 * A page keeps its attachments' links unsigned, and where their queries
 * go: each answer signs them afresh (attachments_sign_text()).
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define HISTORY_SLOTS		1024	/* a power of two */
#define HISTORY_KEEP		MESSAGES_LIMIT_MAX	/* the largest page asked */
#define HISTORY_BYTES_MAX	(32 * 1024 * 1024)
#define HISTORY_LIMIT_DEFAULT	50
#define HISTORY_REACTORS_MAX	4096	/* reactions a page keeps "me" of */
/* A reaction's "me", false, as reactions_gen() writes it. */
#define HISTORY_ME		"\"me\":false}"

/* The conversation kinds, as indexes of the history statements. */
#define HISTORY_CHANNEL		0
#define HISTORY_DM		1

/*
 * History.  Both statements are range scans of the conversation's index,
 * messages_channel (channel_id, id) or messages_dm_channel (dm_channel_id,
 * id): the older side walks it backwards from an id, the newer side
 * forwards, and each stops after LIMIT rows, so a page costs the same in
 * a channel of 100 messages and of 1,000,000.  EXPLAIN (MariaDB 10.11):
 * m type range, key messages_channel, key_len 17 (both columns), "Using
 * where" (the deleted flag, read from the rows the scan visits), no
 * filesort; u eq_ref on the primary key.  The index is forced: without
 * the hint the optimizer picked ref on channel_id alone (key_len 9) in a
 * big channel and walked it from its newest end to the cursor, filtering
 * on id, which took 4.5 s for a before= in the middle of 1,000,000 rows.
 */
#define MESSAGES_OLDER(col) \
	MESSAGES_SELECT " FORCE INDEX (messages_" col ")" MESSAGES_AUTHOR \
	" WHERE m." col "_id = ? AND m.id <= ? AND m.deleted = 0" \
	" ORDER BY m.id DESC LIMIT ?"
#define MESSAGES_NEWER(col) \
	MESSAGES_SELECT " FORCE INDEX (messages_" col ")" MESSAGES_AUTHOR \
	" WHERE m." col "_id = ? AND m.id > ? AND m.id <= ?" \
	" AND m.deleted = 0 ORDER BY m.id LIMIT ?"

static struct db_stmt q_older[] = {
	DB_STMT(MESSAGES_OLDER("channel")),
	DB_STMT(MESSAGES_OLDER("dm_channel")),
};
static struct db_stmt q_newer[] = {
	DB_STMT(MESSAGES_NEWER("channel")),
	DB_STMT(MESSAGES_NEWER("dm_channel")),
};

/*
 * Pages below the newest, when the worker caches (cache_on()), are read
 * through a HANDLER on the messages table, open on the worker's
 * connection: HANDLER READ walks the conversation's index from a key
 * (down for older, up for newer) and returns the rows it passes, as the
 * table has them, with no optimizer, no join and no sort: about half the
 * MariaDB time of the statement above (docs/benchmarks.md, issue 27).  A
 * HANDLER READ knows no conversation and no deleted flag, so
 * history_walk() stops at the first row of another conversation and
 * skips deleted rows itself; the authors' names come from the users cache
 * (messages_name_authors()).  It reads committed rows as each statement
 * starts, as the statements above do under READ COMMITTED.
 *
 * An open HANDLER holds a metadata lock on the table: a DDL statement on
 * messages (a migration) waits until the holder's next statement, which
 * closes it and reopens it for the next read (MariaDB does both).  A
 * worker that reads no such page for HISTORY_HANDLER_IDLE_MS closes its
 * HANDLER (history_handler_idle()), so that an idle worker holds up no
 * migration for longer.  Without the cache (a cluster, or cache_ms 0)
 * pages are the statements above.
 */
#define HISTORY_HANDLER_IDLE_MS	1000
#define HISTORY_WALK_MAX	1000	/* rows a HANDLER READ asks at most */
#define MESSAGES_WALK(col, op) \
	"HANDLER history READ messages_" col " " op " (?, ?) LIMIT ?"

static struct db_stmt q_walk_older[] = {
	DB_STMT(MESSAGES_WALK("channel", "<=")),
	DB_STMT(MESSAGES_WALK("dm_channel", "<=")),
};
static struct db_stmt q_walk_newer[] = {
	DB_STMT(MESSAGES_WALK("channel", ">")),
	DB_STMT(MESSAGES_WALK("dm_channel", ">")),
};

/* The connection the HANDLER is open on (db_connection()); 0: none. */
static unsigned int	 history_handler_on;
static long long	 history_handler_used_ms;

static long	history_read_older(const struct conversation *, uint64_t,
		    long, struct message *);
static long	history_render(const struct conversation *, uint64_t, long,
		    yajl_gen, size_t *, struct attachment_links *);

/* A reaction of a kept page: whose, and where its "me" value starts. */
struct history_me {
	uint64_t	 user_id;
	size_t		 at;		/* in the page's json */
};

struct history_page {
	uint64_t	 conversation;	/* 0: empty */
	int		 kind;		/* CACHE_CHANNEL, CACHE_DM */
	long long	 filled_ms;
	long		 count;		/* messages, oldest first */
	long		 newest_reacted;	/* the last with reactions */
	int		 me_known;	/* me lists every reaction */
	struct history_me *me;		/* by user id */
	size_t		 nme;
	char		*json;		/* "m1,m2,...": the messages' objects */
	size_t		 starts[HISTORY_KEEP + 1];	/* [count]: the end */
	struct attachment_links links;	/* unsigned links in json */
};

static struct history_page	*history_pages;
static size_t			 history_bytes;	/* of all pages' json */
static size_t			 history_hand;	/* the next to evict */

/* The slot of a conversation. */
static struct history_page *
history_slot(int kind, uint64_t conversation)
{
	uint64_t	h;

	h = (conversation * 0x9e3779b97f4a7c15ULL) + (uint64_t)kind;
	return &history_pages[(h >> 40) & (HISTORY_SLOTS - 1)];
}

/* Empty a page. */
static void
history_clear(struct history_page *p)
{
	if (p->json != NULL)
		history_bytes -= p->starts[p->count];
	history_bytes -= p->nme * sizeof *p->me;
	free(p->json);
	free(p->me);
	p->json = NULL;
	p->me = NULL;
	p->nme = 0;
	attachments_links_clear(&p->links);
	p->conversation = 0;
	p->count = 0;
}

/* Forget the page of a conversation. */
void
history_forget(int kind, uint64_t conversation)
{
	struct history_page	*p;

	if (history_pages == NULL)
		return;
	p = history_slot(kind, conversation);
	if (p->conversation == conversation && p->kind == kind)
		history_clear(p);
}

/* Forget every page. */
void
history_forget_all(void)
{
	size_t	i;

	if (history_pages == NULL)
		return;
	for (i = 0; i < HISTORY_SLOTS; i++)
		history_clear(&history_pages[i]);
}

/*
 * Forget the pages a hub entry may have changed: its conversation's; all
 * of them for a user's change (pages show authors' names) or an entry
 * that stands for many.
 */
void
history_forget_entry(const struct hub_entry *e)
{
	if (e->server_id == HUB_ANY || (e->flags & HUB_USER)) {
		history_forget_all();
		return;
	}
	if (e->channel_id != 0)
		history_forget(CACHE_CHANNEL, e->channel_id);
	if (e->dm_channel_id != 0)
		history_forget(CACHE_DM, e->dm_channel_id);
}

/* Evict pages round the table until len more bytes fit. */
static void
history_make_room(size_t len)
{
	size_t	tried;

	for (tried = 0; tried < HISTORY_SLOTS &&
	    history_bytes + len > HISTORY_BYTES_MAX; tried++) {
		history_clear(&history_pages[history_hand]);
		history_hand = (history_hand + 1) % HISTORY_SLOTS;
	}
}

/*
 * Keep the newest messages of a conversation as its page, evicting others
 * until the budget holds it: g holds "[m1,m2,..." (the array still open)
 * and ends[i] is where message i ends in its text; links (or NULL) notes
 * the unsigned links in g's text, and the page takes what it holds.
 */
void
history_keep(int kind, uint64_t conversation, yajl_gen g,
    const size_t *ends, long n, struct attachment_links *links)
{
	struct history_page	*p;
	const char		*text;
	size_t			 len, i;

	if (history_pages == NULL)
		history_pages = xcalloc(HISTORY_SLOTS, sizeof *history_pages);
	text = json_gen_text(g, &len);
	p = history_slot(kind, conversation);
	history_clear(p);
	history_make_room(len);
	p->conversation = conversation;
	p->kind = kind;
	p->filled_ms = clock_ms();
	p->count = n;
	p->newest_reacted = -1;
	p->me_known = 1;
	/*
	 * Without the "[", message i starts where message i - 1 ended in g
	 * (past its comma), and the text ends one before the last end.
	 */
	for (i = 0; i < (size_t)n; i++)
		p->starts[i] = i == 0 ? 0 : ends[i - 1];
	p->starts[n] = n == 0 ? 0 : ends[n - 1] - 1;
	p->json = xmalloc(p->starts[n] + 1);
	memcpy(p->json, text + 1, p->starts[n]);
	p->json[p->starts[n]] = '\0';
	history_bytes += p->starts[n];
	if (links != NULL) {
		/* Offsets in the page, which lacks g's "[". */
		for (i = 0; i < links->n; i++)
			links->at[i]--;
		p->links = *links;
		memset(links, 0, sizeof *links);
	}
}

/* Order reactions of a page by user. */
static int
history_me_cmp(const void *a, const void *b)
{
	const struct history_me	*x = a, *y = b;

	if (x->user_id != y->user_id)
		return x->user_id < y->user_id ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/*
 * Find where each reaction's "me" value starts in the text of message i
 * (text[from..to)): into at[], n of them.  0, or -1 when the text does
 * not hold exactly n.
 */
static int
history_me_find(const char *text, size_t from, size_t to, size_t *at,
    size_t n)
{
	const char	*p = text + from, *end = text + to, *hit;
	size_t		 found = 0, len = strlen(HISTORY_ME);

	while ((hit = memmem(p, (size_t)(end - p), HISTORY_ME, len)) != NULL) {
		if (found == n)
			return -1;
		at[found++] = (size_t)(hit - text) + len - strlen("false}");
		p = hit + len;
	}
	return found == n ? 0 : -1;
}

/*
 * Keep who reacted to a page's messages (ms, newest first, as
 * history_fill() rendered them; at[i] the offsets of message i's "me"
 * values in g's text, first[i] where they start in at): the page's me.
 */
static void
history_me_keep(struct history_page *p, const struct message *ms, long n,
    const size_t *at, const size_t *first)
{
	struct reactor	*rs;
	long		 count, k;

	if ((count = reactions_reactors(ms, n, HISTORY_REACTORS_MAX,
	    &rs)) == -1 || count > HISTORY_REACTORS_MAX) {
		p->me_known = 0;
		return;
	}
	p->me = xcalloc((size_t)count + 1, sizeof *p->me);
	for (k = 0; k < count; k++) {
		p->me[k].user_id = rs[k].user_id;
		/* The page's json is g's text without its "[". */
		p->me[k].at = at[first[rs[k].message] + rs[k].reaction] - 1;
	}
	p->nme = (size_t)count;
	qsort(p->me, p->nme, sizeof *p->me, history_me_cmp);
	history_bytes += p->nme * sizeof *p->me;
	free(rs);
}

/*
 * Read the newest messages of a conversation up to the watermark into its
 * page, every "me" false, and who reacted: the page, or NULL on a
 * database error.
 */
static struct history_page *
history_fill(const struct conversation *c, int kind, uint64_t conversation,
    uint64_t visible)
{
	struct attachment_links	 links = { NULL, NULL, 0, 0 };
	struct conversation	 nobody = *c;
	struct history_page	*p;
	struct message		*ms;
	const char		*text;
	yajl_gen		 g;
	size_t			 ends[HISTORY_KEEP], first[HISTORY_KEEP];
	size_t			*at, nat = 0, from;
	long			 n, i, reacted = -1;
	int			 me_found = 1;

	/* Kept for every reader: no reaction is anyone's "me". */
	nobody.reader_id = 0;
	ms = xcalloc(HISTORY_KEEP, sizeof *ms);
	if ((n = history_read_older(&nobody, visible, HISTORY_KEEP,
	    ms)) == -1) {
		free(ms);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		first[i] = nat;
		nat += ms[i].nreactions;
	}
	at = xcalloc(nat + 1, sizeof *at);
	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = n - 1; i >= 0; i--) {
		json_gen_text(g, &from);
		/* Links left unsigned: each answer signs them afresh. */
		messages_gen_links(g, &ms[i], &links);
		text = json_gen_text(g, &ends[n - 1 - i]);
		if (ms[i].nreactions > 0) {
			reacted = n - 1 - i;
			if (history_me_find(text, from, ends[n - 1 - i],
			    at + first[i], ms[i].nreactions) == -1)
				me_found = 0;
		}
	}
	history_keep(kind, conversation, g, ends, n, &links);
	p = history_slot(kind, conversation);
	p->newest_reacted = reacted;
	if (!me_found)
		p->me_known = 0;
	else if (nat > 0)
		history_me_keep(p, ms, n, at, first);
	yajl_gen_free(g);
	for (i = 0; i < n; i++)
		messages_clear(&ms[i]);
	free(ms);
	free(at);
	return p;
}

/*
 * Write the newest limit messages of a page into g as reader sees them
 * (0: every "me" false), their attachments' links signed now; their
 * number.
 */
static long
history_write(const struct history_page *p, long limit, uint64_t reader,
    yajl_gen g)
{
	const struct history_me	*me = NULL;
	const char		*text;
	char			*copy = NULL, *signed_text;
	size_t			 from, to, len, lo = 0, hi = p->nme, mid;

	if (limit > p->count)
		limit = p->count;
	if (limit == 0)
		return 0;
	from = p->starts[p->count - limit];
	to = p->starts[p->count];
	/* The reader's first reaction on the page, if any. */
	while (reader != 0 && lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->me[mid].user_id < reader)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (reader != 0 && lo < p->nme && p->me[lo].user_id == reader)
		me = &p->me[lo];
	text = p->json + from;
	if (me != NULL) {
		/* "false" and "true " are as long: the links stay put. */
		copy = xmalloc(to - from);
		memcpy(copy, p->json + from, to - from);
		for (; me < p->me + p->nme && me->user_id == reader; me++) {
			if (me->at >= from && me->at < to)
				memcpy(copy + (me->at - from), "true ", 5);
		}
		text = copy;
	}
	if (p->links.n == 0)
		json_gen_raw(g, text, to - from);
	else {
		signed_text = attachments_sign_text(text, to - from, from,
		    &p->links, &len);
		json_gen_raw(g, signed_text, len);
		free(signed_text);
	}
	free(copy);
	return limit;
}

/* The fresh page of a conversation, or NULL. */
static struct history_page *
history_fresh(int kind, uint64_t conversation)
{
	struct history_page	*p;

	if (history_pages == NULL)
		return NULL;
	p = history_slot(kind, conversation);
	if (p->conversation != conversation || p->kind != kind ||
	    !cache_fresh(p->filled_ms))
		return NULL;
	return p;
}

/*
 * Write the newest limit messages of a conversation's page into g (inside
 * the caller's array), every reaction's "me" false: their number, or -1
 * when no fresh page is kept.
 */
long
history_cached(int kind, uint64_t conversation, long limit, yajl_gen g)
{
	struct history_page	*p;

	if ((p = history_fresh(kind, conversation)) == NULL)
		return -1;
	return history_write(p, limit, 0, g);
}

/*
 * Write the newest limit (at most HISTORY_KEEP) messages of a
 * conversation at or below the watermark into g (inside the caller's
 * array), from its page, reading the page first when there is none:
 * their number, or -1 on a database error.  Only for workers that cache
 * (cache_on()).
 */
static long
history_latest(const struct conversation *c, uint64_t visible, long limit,
    yajl_gen g)
{
	struct history_page	*p;
	int			 kind;
	uint64_t		 conversation;

	kind = c->channel_id != 0 ? CACHE_CHANNEL : CACHE_DM;
	conversation = c->channel_id != 0 ? c->channel_id : c->dm_channel_id;
	if ((p = history_fresh(kind, conversation)) != NULL)
		metrics_cache(CACHE_HISTORY, 1);
	else {
		metrics_cache(CACHE_HISTORY, 0);
		if ((p = history_fill(c, kind, conversation, visible)) == NULL)
			return -1;
	}
	/* A page too reacted to keep who reacted: the reader's own. */
	if (!p->me_known && c->reader_id != 0 &&
	    p->newest_reacted >= p->count - limit)
		return history_render(c, visible, limit, g, NULL, NULL);
	return history_write(p, limit, c->reader_id, g);
}

/* --- reading ------------------------------------------------------------ */

/*
 * The text of a history statement: older (up to an id, newest first) or
 * newer (above an id), of a DM channel or a server channel.  Tests EXPLAIN
 * it, so that the plan they check is the one the server runs.
 */
const char *
history_sql(int older, int dm)
{
	const struct db_stmt	*q = older ? q_older : q_newer;

	return q[dm ? HISTORY_DM : HISTORY_CHANNEL].sql;
}

/* The index of the history statements for a conversation's kind. */
static int
history_kind(const struct conversation *c)
{
	return c->channel_id != 0 ? HISTORY_CHANNEL : HISTORY_DM;
}

/* The id of the conversation in its kind's column. */
static uint64_t
history_conversation_id(const struct conversation *c)
{
	return c->channel_id != 0 ? c->channel_id : c->dm_channel_id;
}

/*
 * The highest id history may show: the sequencer's watermark.  Above it a
 * message with a lower id may still be uncommitted, and a client that
 * moved its cursor (after=) past the newest id it was given would skip
 * that message for ever once it commits.  The watermark is 0 until some
 * worker of this daemon drew a number; resume the counter from the
 * database then, or a fresh daemon would show no history at all.
 */
static int
history_visible(uint64_t *visible)
{
	if ((*visible = sequencer_visible()) != 0)
		return 0;
	if (sequencer_start() == -1)
		return -1;
	*visible = sequencer_visible();
	return 0;
}

/* Open the HANDLER on this connection unless it is: 0, or -1. */
static int
history_handler_open(void)
{
	history_handler_used_ms = clock_ms();
	if (history_handler_on != 0 && history_handler_on == db_connection())
		return 0;
	if (db_sql("HANDLER messages OPEN AS history") == -1)
		return -1;
	history_handler_on = db_connection();
	return 0;
}

/*
 * Close the HANDLER when no page read it for HISTORY_HANDLER_IDLE_MS
 * (the worker's loop calls it): a migration then waits for no idle
 * worker.
 */
void
history_handler_idle(void)
{
	if (history_handler_on == 0 ||
	    clock_ms() - history_handler_used_ms < HISTORY_HANDLER_IDLE_MS)
		return;
	if (history_handler_on == db_connection())
		(void)db_sql("HANDLER history CLOSE");
	history_handler_on = 0;
}

/* How long the worker may sleep before history_handler_idle(); -1: any. */
int
history_handler_next_ms(void)
{
	long long	left;

	if (history_handler_on == 0)
		return -1;
	left = history_handler_used_ms + HISTORY_HANDLER_IDLE_MS - clock_ms();
	return left > 0 ? (int)left : 0;
}

/*
 * Read at most limit messages of c that are not deleted into ms, walking
 * its index through the HANDLER from the id from: with older, from it
 * down (from included), else up from above it to the id to: their
 * number, in the order walked, or -1.  Deleted rows are skipped: a
 * further read asks for the messages still missing, twice as many as the
 * read before it did (at most HISTORY_WALK_MAX rows), so that a deleted
 * message or two cost a few rows more and a long run of them a few reads.
 */
static long
history_walk(const struct conversation *c, int older, uint64_t from,
    uint64_t to, long limit, struct message *ms)
{
	struct messages_columns	 cols;
	struct db_rows		*rows;
	struct db_stmt		*q;
	uint64_t		 conversation, cursor = from;
	long			 n = 0, ask = limit, scale = 1, got;
	int			 rc = 0, shown, end = 0;

	conversation = history_conversation_id(c);
	q = older ? &q_walk_older[history_kind(c)] :
	    &q_walk_newer[history_kind(c)];
	if (history_handler_open() == -1)
		return -1;
	while (n < limit && !end) {
		if ((rows = db_query(q, "uui", conversation, cursor,
		    (long long)ask)) == NULL ||
		    messages_columns_find(rows, &cols) == -1) {
			db_rows_free(rows);
			goto fail;
		}
		for (got = 0; n < limit && (rc = db_fetch(rows)) == 1; got++) {
			shown = messages_read_columns(rows, &cols, &ms[n]);
			if ((c->channel_id != 0 ? ms[n].channel_id :
			    ms[n].dm_channel_id) != conversation ||
			    (!older && ms[n].id > to)) {
				messages_clear(&ms[n]);
				end = 1;
				break;
			}
			cursor = older ? ms[n].id - 1 : ms[n].id;
			if (shown)
				n++;
			else
				messages_clear(&ms[n]);
		}
		db_rows_free(rows);
		if (rc == -1)
			goto fail;
		if (got < ask || cursor == 0)
			end = 1;
		if (scale < HISTORY_WALK_MAX)
			scale *= 2;
		ask = (limit - n) * scale < HISTORY_WALK_MAX ?
		    (limit - n) * scale : HISTORY_WALK_MAX;
	}
	if (messages_name_authors(ms, n) == -1 ||
	    messages_complete(ms, n, c->reader_id) == -1)
		goto fail;
	return n;
fail:
	while (n > 0)
		messages_clear(&ms[--n]);
	return -1;
}

/*
 * Read the newest messages with ids up to hi, at most limit of them,
 * with their reactions as c's reader sees them, into ms (room for limit),
 * newest first: their number or -1.
 */
static long
history_read_older(const struct conversation *c, uint64_t hi, long limit,
    struct message *ms)
{
	if (limit == 0 || hi == 0)
		return 0;
	if (cache_on())
		return history_walk(c, 1, hi, 0, limit, ms);
	return messages_read_reacted(db_query(&q_older[history_kind(c)], "uui",
	    history_conversation_id(c), hi, (long long)limit), ms, limit,
	    c->reader_id);
}

/*
 * Write the newest messages with ids up to hi, at most limit of them, in
 * ascending order; their number or -1.  With ends, ends[i] is the length
 * of g's text after the i-th message written (history.c cuts it there);
 * with links, their attachments' links are left unsigned (a kept page).
 */
static long
history_render(const struct conversation *c, uint64_t hi, long limit,
    yajl_gen g, size_t *ends, struct attachment_links *links)
{
	struct message	*ms;
	long		 n, i;

	if (limit == 0)
		return 0;
	ms = xcalloc((size_t)limit, sizeof *ms);
	n = history_read_older(c, hi, limit, ms);
	for (i = n - 1; i >= 0; i--) {
		messages_gen_links(g, &ms[i], links);
		if (ends != NULL)
			json_gen_text(g, &ends[n - 1 - i]);
		messages_clear(&ms[i]);
	}
	free(ms);
	return n;
}

/*
 * Write the oldest messages with ids above lo and up to hi, at most limit
 * of them, in ascending order; their number or -1.
 */
static long
history_newer(const struct conversation *c, uint64_t lo, uint64_t hi,
    long limit, yajl_gen g)
{
	struct message	*ms;
	long		 n, i;

	if (limit == 0 || lo >= hi)
		return 0;
	ms = xcalloc((size_t)limit, sizeof *ms);
	if (cache_on())
		n = history_walk(c, 0, lo, hi, limit, ms);
	else
		n = messages_read_reacted(db_query(&q_newer[history_kind(c)],
		    "uuui", history_conversation_id(c), lo, hi,
		    (long long)limit), ms, limit, c->reader_id);
	for (i = 0; i < n; i++) {
		messages_gen(g, &ms[i]);
		messages_clear(&ms[i]);
	}
	free(ms);
	return n;
}

/*
 * Read the pagination parameters of a history request: limit and at most
 * one of before, after and around.  0, or -1 when answered (400).
 */
int
history_page_parse(struct request *req, struct messages_page *p)
{
	static const char *const cursors[] = { "before", "after", "around" };
	static const enum messages_from froms[] = {
		MESSAGES_BEFORE, MESSAGES_AFTER, MESSAGES_AROUND
	};
	uint64_t	id;
	size_t		i;
	int		rc;

	p->from = MESSAGES_LATEST;
	p->cursor = 0;
	p->limit = HISTORY_LIMIT_DEFAULT;
	for (i = 0; i < sizeof cursors / sizeof cursors[0]; i++) {
		if ((rc = param_query_id(req, cursors[i], &id)) == -1)
			return -1;
		if (rc == PARAM_ABSENT)
			continue;
		if (p->from != MESSAGES_LATEST) {
			response_invalid(req, cursors[i], "Give at most one of "
			    "before, after and around");
			return -1;
		}
		p->from = froms[i];
		p->cursor = id;
	}
	if (param_query_int(req, "limit", 1, MESSAGES_LIMIT_MAX,
	    &p->limit) == -1)
		return -1;
	return 0;
}

/*
 * Write one page of a conversation's history into g as a JSON array,
 * oldest first, deleted messages left out, nothing above the sequencer's
 * watermark: the number of messages, or -1 on a database error (g is then
 * incomplete).  A parked poll calls it again with the same page when it
 * wakes up.
 */
long
history_list(const struct conversation *c, const struct messages_page *p,
    yajl_gen g)
{
	uint64_t	visible, hi;
	long		older = 0, newer = 0;

	if (history_visible(&visible) == -1)
		return -1;
	yajl_gen_array_open(g);
	switch (p->from) {
	case MESSAGES_LATEST:
		older = cache_on() ? history_latest(c, visible, p->limit, g) :
		    history_render(c, visible, p->limit, g, NULL,
		    NULL);
		break;
	case MESSAGES_BEFORE:
		hi = p->cursor - 1 < visible ? p->cursor - 1 : visible;
		older = history_render(c, hi, p->limit, g, NULL, NULL);
		break;
	case MESSAGES_AFTER:
		newer = history_newer(c, p->cursor, visible, p->limit, g);
		break;
	case MESSAGES_AROUND:
		/* At most limit/2 older, then the cursor and newer ones. */
		hi = p->cursor - 1 < visible ? p->cursor - 1 : visible;
		older = history_render(c, hi, p->limit / 2, g, NULL,
		    NULL);
		if (older != -1)
			newer = history_newer(c, p->cursor - 1, visible,
			    p->limit - older, g);
		break;
	}
	yajl_gen_array_close(g);
	if (older == -1 || newer == -1)
		return -1;
	return older + newer;
}
