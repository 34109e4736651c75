/* SPDX-License-Identifier: ISC */
/*
 * wait.c: the per-conversation long-poll, GET …/messages?after=&wait=
 * (API.md, Messages).  A request that finds no message newer than its
 * cursor parks, indexed by its channel or DM, until a change there is
 * committed or wait seconds pass (then 200 []).  On a wake-up, polls of the
 * same conversation with the same page share one read of the history and
 * one answer, written to each as the same bytes (response.c).
 */
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define WAIT_MAX	60

struct wait_poll {
	struct conversation	 conv;
	struct messages_page	 page;
};

static void	wait_wake(struct poll **, size_t, uint64_t);
static void	wait_expire(struct poll *);
static void	wait_recheck(struct poll *);

static const struct poll_type wait_poll_type = {
	"messages", wait_wake, wait_expire, wait_recheck, free,
	NULL	/* typing and presence are for /events only */
};

/*
 * Read the wait parameter (0..60 seconds; it needs after=).  0, or -1
 * when answered (400).
 */
int
wait_parse(struct request *req, const struct messages_page *page,
    long *wait)
{
	int	rc;

	*wait = 0;
	if ((rc = param_query_int(req, "wait", 0, WAIT_MAX, wait)) == -1)
		return -1;
	if (rc == 0 && page->from != MESSAGES_AFTER) {
		response_invalid(req, "wait", "wait needs an after cursor");
		return -1;
	}
	return 0;
}

/* Order polls by conversation and page, so equal ones sit together. */
static int
wait_cmp(const void *a, const void *b)
{
	const struct wait_poll	*x = (*(struct poll *const *)a)->data;
	const struct wait_poll	*y = (*(struct poll *const *)b)->data;

	if (x->conv.channel_id != y->conv.channel_id)
		return x->conv.channel_id < y->conv.channel_id ? -1 : 1;
	if (x->conv.dm_channel_id != y->conv.dm_channel_id)
		return x->conv.dm_channel_id < y->conv.dm_channel_id ? -1 : 1;
	if (x->page.cursor != y->page.cursor)
		return x->page.cursor < y->page.cursor ? -1 : 1;
	return (x->page.limit > y->page.limit) - (x->page.limit < y->page.limit);
}

/* Whether two polls would read the same page. */
static int
wait_same(struct poll *a, struct poll *b)
{
	return wait_cmp(&a, &b) == 0;
}

/*
 * Answer polls[0..n) (all reading the same page) if that page now holds
 * messages; they stay parked when it is empty or the read failed.
 */
static void
wait_answer_group(struct poll **ps, size_t n)
{
	struct wait_poll	*wp = ps[0]->data;
	struct response_shared	 sh;
	const char		*text;
	size_t			 len, i;
	yajl_gen		 g;

	g = json_gen_new();
	if (history_list(&wp->conv, &wp->page, g) > 0) {
		text = json_gen_text(g, &len);
		response_shared_init(&sh, 200, text, len);
		for (i = 0; i < n; i++) {
			response_shared_send(ps[i]->req, &sh);
			poll_done(ps[i]);
		}
		response_shared_clear(&sh);
	}
	yajl_gen_free(g);
}

/* Wake-up: read each distinct page once and answer its polls. */
static void
wait_wake(struct poll **ps, size_t n, uint64_t wm)
{
	size_t	i, j;

	qsort(ps, n, sizeof *ps, wait_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && wait_same(ps[i], ps[j]); j++)
			;
		wait_answer_group(ps + i, j - i);
	}
}

/* The wait passed with nothing new: 200 []. */
static void
wait_expire(struct poll *p)
{
	response_raw(p->req, 200, "[]", 2);
	poll_done(p);
}

/*
 * Whether the caller may still read the conversation: a DM's two
 * participants never change; a channel needs its server's membership and
 * view_channels in it (channels_access() answers 404 without).  0, or -1
 * with 404 (or 503) answered.
 */
static int
wait_may_read(struct request *req, const struct conversation *c)
{
	struct member	m;

	if (c->channel_id == 0)
		return 0;
	return channels_access(req, c->channel_id, PERM_VIEW_CHANNELS, &m,
	    NULL);
}

/*
 * Something that may take access away happened (a kick, a role change,
 * revoked tokens): a poll whose user may no longer read its conversation
 * is answered 401 or 404 now, never with what was posted since.
 */
static void
wait_recheck(struct poll *p)
{
	struct wait_poll	*wp = p->data;

	if (auth_recheck(p->req) == -1 || wait_may_read(p->req,
	    &wp->conv) == -1)
		poll_done(p);
}

/*
 * Park a request whose page came back empty until the conversation
 * changes or wait seconds pass.
 */
void
wait_park(struct request *req, const struct conversation *c,
    const struct messages_page *page, long wait)
{
	struct wait_poll	*wp;
	struct poll		*p;

	wp = xcalloc(1, sizeof *wp);
	wp->conv = *c;
	wp->page = *page;
	p = poll_new(req, &wait_poll_type, wp);
	req->poll = p;
	if (c->channel_id != 0) {
		poll_key(p, POLL_CHANNEL, c->channel_id);
		poll_key(p, POLL_ACCESS, c->server_id);
	} else
		poll_key(p, POLL_DM, c->dm_channel_id);
	if (poll_park(p, wait * 1000LL) == -1) {
		response_busy(req);
		poll_done(p);
	}
}
