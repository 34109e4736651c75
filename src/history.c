/*
 * history.c: the newest messages of the conversations a worker serves,
 * kept rendered as JSON, so that the request every client makes most
 * (the latest page, no cursor) costs no database read.  A page holds the
 * newest HISTORY_KEEP messages at or below the watermark it was read
 * under; it is dropped by the hub entries of its conversation (cache.c
 * says when, and why that keeps it exact) and after cfg->cache_ms.
 *
 * The table is direct-mapped and its pages hold at most
 * HISTORY_BYTES_MAX bytes in all: a page that does not fit evicts others,
 * round the table, until it does.
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define HISTORY_SLOTS		1024	/* a power of two */
#define HISTORY_KEEP		MESSAGES_LIMIT_MAX	/* the largest page asked */
#define HISTORY_BYTES_MAX	(32 * 1024 * 1024)

struct history_page {
	uint64_t	 conversation;	/* 0: empty */
	int		 kind;		/* CACHE_CHANNEL, CACHE_DM */
	long long	 filled_ms;
	long		 count;		/* messages, oldest first */
	char		*json;		/* "m1,m2,...": the messages' objects */
	size_t		 starts[HISTORY_KEEP + 1];	/* [count]: the end */
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
	free(p->json);
	p->json = NULL;
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
 * Read the newest messages of a conversation up to the watermark into its
 * page: the page, or NULL on a database error.  The array's text in g is
 * "[m1,m2,...]" and ends[i] is where message i ends in it.
 */
static struct history_page *
history_fill(const struct conversation *c, int kind, uint64_t conversation,
    uint64_t visible)
{
	struct history_page	*p;
	yajl_gen		 g;
	const char		*text;
	size_t			 ends[HISTORY_KEEP], len, i;
	long			 n;

	g = json_gen_new();
	yajl_gen_array_open(g);
	if ((n = messages_render(c, visible, HISTORY_KEEP, g, ends)) == -1) {
		yajl_gen_free(g);
		return NULL;
	}
	text = json_gen_text(g, &len);
	p = history_slot(kind, conversation);
	history_clear(p);
	history_make_room(len);
	p->conversation = conversation;
	p->kind = kind;
	p->filled_ms = poll_now_ms();
	p->count = n;
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
	yajl_gen_free(g);
	return p;
}

/*
 * Write the newest limit (at most HISTORY_KEEP) messages of a
 * conversation at or below the watermark into g (inside the caller's
 * array), from its page, reading the page first when there is none:
 * their number, or -1 on a database error.  Only for workers that cache
 * (cache_on()).
 */
long
history_latest(const struct conversation *c, uint64_t visible, long limit,
    yajl_gen g)
{
	struct history_page	*p;
	int			 kind;
	uint64_t		 conversation;
	size_t			 from;

	kind = c->channel_id != 0 ? CACHE_CHANNEL : CACHE_DM;
	conversation = c->channel_id != 0 ? c->channel_id : c->dm_channel_id;
	if (history_pages == NULL)
		history_pages = xcalloc(HISTORY_SLOTS, sizeof *history_pages);
	p = history_slot(kind, conversation);
	if (p->conversation != conversation || p->kind != kind ||
	    !cache_fresh(p->filled_ms)) {
		metrics_cache(CACHE_HISTORY, 0);
		if ((p = history_fill(c, kind, conversation, visible)) == NULL)
			return -1;
	} else
		metrics_cache(CACHE_HISTORY, 1);
	if (limit > p->count)
		limit = p->count;
	if (limit == 0)
		return 0;
	from = p->starts[p->count - limit];
	json_gen_raw(g, p->json + from, p->starts[p->count] - from);
	return limit;
}
