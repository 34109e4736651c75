/* SPDX-License-Identifier: ISC */
/*
 * attachments.c: uploaded files (API.md, Attachments): their rows, the
 * store they live in, and their signed links.
 *
 * nginx writes an upload's body to a file under the store's incoming/
 * directory and hands sohbetd its path (api-attachments.c); the checks
 * here read only its header (imagehead.c), and the file is renamed into
 * the store under its row's id, never under the client's name.  A
 * message takes its uploader's unattached uploads of its conversation
 * (attachments_claim(), in the send's transaction); deleting it deletes
 * their rows in its transaction and their files after the commit, so a
 * failed delete never leaves a row without its file.  A file whose row
 * is gone (a crash between the two, a channel deleted) is an orphan that
 * `sohbetctl files` finds.
 *
 * Links: /api/v1/attachments/{id}/{filename}?ex=&sig=, sig being
 * HMAC-SHA256(token_key, "attachment-link:{id}:{ex}") in base64url.  They
 * are signed when a message is written out, so every read hands out
 * links valid ATTACHMENTS_LINK_TTL from then.  The pages history.c keeps
 * as text hold links without their query, and the places where a query
 * goes (struct attachment_links): attachments_sign_text() signs them
 * when the page is answered, never in the kept text.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sohbet.h"

#define ATTACHMENTS_LINK_TTL	(24 * 3600)
#define ATTACHMENTS_SIG_LEN	43	/* base64url of 32 bytes */
#define ATTACHMENTS_PRUNE_BATCH	100
#define ATTACHMENTS_CACHE_SLOTS	1024	/* a power of two */
/* A stored file: nginx's (its owner) to serve, sohbetd's group's to read. */
#define ATTACHMENTS_FILE_MODE	0640

#define ATTACHMENTS_COLUMNS \
	"SELECT id, COALESCE(message_id, 0), filename, content_type, size," \
	" COALESCE(width, 0), COALESCE(height, 0) FROM attachments"

static struct db_stmt q_insert = DB_STMT(
    "INSERT INTO attachments (uploader_id, channel_id, dm_channel_id,"
    " filename, content_type, size, width, height)"
    " VALUES (?, NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, NULLIF(?, 0),"
    " NULLIF(?, 0))");
static struct db_stmt q_one = DB_STMT(
    ATTACHMENTS_COLUMNS " WHERE id = ?");
static struct db_stmt q_of_message = DB_STMT(
    ATTACHMENTS_COLUMNS " WHERE message_id = ? ORDER BY id");
/* The attachments of a page of messages: one range of message ids. */
static struct db_stmt q_of_range = DB_STMT(
    ATTACHMENTS_COLUMNS " WHERE message_id BETWEEN ? AND ?"
    " ORDER BY message_id, id");
/*
 * Taken by a message: only an unattached upload of this uploader to this
 * conversation, so that two sends racing for one upload cannot both have
 * it (the second matches no row once the first commits).
 */
static struct db_stmt q_claim = DB_STMT(
    "UPDATE attachments SET message_id = ? WHERE id = ? AND uploader_id = ?"
    " AND channel_id <=> NULLIF(?, 0) AND dm_channel_id <=> NULLIF(?, 0)"
    " AND message_id IS NULL");
static struct db_stmt q_message_ids = DB_STMT(
    "SELECT id FROM attachments WHERE message_id = ? FOR UPDATE");
static struct db_stmt q_delete_message = DB_STMT(
    "DELETE FROM attachments WHERE message_id = ?");
static struct db_stmt q_stale = DB_STMT(
    "SELECT id FROM attachments WHERE message_id IS NULL"
    " AND created_at < NOW(3) - INTERVAL 1 HOUR ORDER BY created_at"
    " LIMIT 100");
static struct db_stmt q_delete_stale = DB_STMT(
    "DELETE FROM attachments WHERE id = ? AND message_id IS NULL");

/* Free what a list of attachments owns, and the list. */
void
attachments_free(struct attachment *a, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(a[i].filename);
		free(a[i].content_type);
	}
	free(a);
}

/* Fill an attachment from the current row of an ATTACHMENTS_COLUMNS query. */
static void
attachments_read(struct db_rows *rows, void *out)
{
	struct attachment	*a = out;
	const char		*s;
	size_t			 len;

	a->id = db_u64(rows, 0);
	a->message_id = db_u64(rows, 1);
	s = db_str(rows, 2, &len);
	a->filename = xstrndup(s != NULL ? s : "", s != NULL ? len : 0);
	s = db_str(rows, 3, &len);
	a->content_type = xstrndup(s != NULL ? s : "", s != NULL ? len : 0);
	a->size = db_u64(rows, 4);
	a->width = (uint32_t)db_u64(rows, 5);
	a->height = (uint32_t)db_u64(rows, 6);
}

/* --- links -------------------------------------------------------------- */

/* The signature of a link to an attachment valid until ex, into sig. */
static int
attachments_sign(uint64_t id, long long ex, char sig[ATTACHMENTS_SIG_LEN + 1])
{
	unsigned char	mac[32];
	char		data[64];
	int		len;

	len = snprintf(data, sizeof data, "attachment-link:%" PRIu64 ":%lld",
	    id, ex);
	if (token_mac(data, (size_t)len, mac) == -1) {
		log_warnx("%s: HMAC failed", __func__);
		return -1;
	}
	token_b64url_encode(mac, sizeof mac, sig);
	return 0;
}

/*
 * Say whether ex and sig (a link's query) make a valid link to the
 * attachment now: not expired, and the signature compared in constant
 * time.
 */
int
attachments_link_valid(uint64_t id, const char *ex, const char *sig)
{
	char		 want[ATTACHMENTS_SIG_LEN + 1];
	long long	 until;
	char		*end;

	if (ex == NULL || sig == NULL || strlen(sig) != ATTACHMENTS_SIG_LEN)
		return 0;
	errno = 0;
	until = strtoll(ex, &end, 10);
	if (errno != 0 || end == ex || *end != '\0' || until < time(NULL))
		return 0;
	if (attachments_sign(id, until, want) == -1)
		return 0;
	return CRYPTO_memcmp(want, sig, ATTACHMENTS_SIG_LEN) == 0;
}

/* Append s to a link, percent-encoding all but unreserved characters. */
static void
attachments_escape(char *out, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*u;

	out += strlen(out);
	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
		    (*u >= '0' && *u <= '9') || strchr("-._~", *u) != NULL)
			*out++ = (char)*u;
		else {
			*out++ = '%';
			*out++ = hex[*u >> 4];
			*out++ = hex[*u & 0xf];
		}
	}
	*out = '\0';
}

/*
 * The Content-Type an attachment is served with: its own for the four
 * image types whose bytes were checked (and so never HTML or SVG), else
 * application/octet-stream.
 */
const char *
attachments_served_type(const struct attachment *a)
{
	return a->width > 0 ? a->content_type : "application/octet-stream";
}

/*
 * The Content-Disposition of an attachment's download: inline for the
 * checked images, attachment for anything else, with its name as RFC
 * 6266 gives it (an ASCII fallback, then filename* in UTF-8).  The caller
 * frees it.
 */
char *
attachments_disposition(const struct attachment *a)
{
	const unsigned char	*u;
	char			*out, *p;
	size_t			 len = strlen(a->filename);

	out = xmalloc(64 + len + 3 * len);
	p = out + sprintf(out, "%s; filename=\"", a->width > 0 ? "inline" :
	    "attachment");
	for (u = (const unsigned char *)a->filename; *u != '\0'; u++)
		*p++ = *u < 0x20 || *u >= 0x7f || *u == '"' || *u == '\\' ?
		    '_' : (char)*u;
	strcpy(p, "\"; filename*=UTF-8''");
	attachments_escape(out, a->filename);
	return out;
}

/*
 * Write the query of a link to an attachment valid ATTACHMENTS_LINK_TTL
 * from now ("?ex=…&sig=…") at the end of out (room for 80 more bytes);
 * 0 or -1.
 */
static int
attachments_query(char *out, uint64_t id)
{
	char		 sig[ATTACHMENTS_SIG_LEN + 1];
	long long	 ex = (long long)time(NULL) + ATTACHMENTS_LINK_TTL;

	if (attachments_sign(id, ex, sig) == -1)
		return -1;
	snprintf(out + strlen(out), 80, "?ex=%lld&sig=%s", ex, sig);
	return 0;
}

/* Note that the link of attachment id needs its query at offset at. */
static void
attachments_links_add(struct attachment_links *l, size_t at, uint64_t id)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : 2 * l->cap;
		l->at = xreallocarray(l->at, l->cap, sizeof *l->at);
		l->ids = xreallocarray(l->ids, l->cap, sizeof *l->ids);
	}
	l->at[l->n] = at;
	l->ids[l->n++] = id;
}

/* Free what a list of link places holds, and empty it. */
void
attachments_links_clear(struct attachment_links *l)
{
	free(l->at);
	free(l->ids);
	memset(l, 0, sizeof *l);
}

/*
 * Write an attachment's link as a JSON string: signed now, valid
 * ATTACHMENTS_LINK_TTL (null if signing failed); or, with links, without
 * its query, whose place (before the closing quote) is noted in links.
 */
static void
attachments_gen_url(yajl_gen g, const struct attachment *a,
    struct attachment_links *links)
{
	char	*url;
	size_t	 len;

	/* Each byte of the name takes at most three. */
	url = xmalloc(sizeof API_PREFIX + 64 + 3 * strlen(a->filename) + 80);
	snprintf(url, 64 + sizeof API_PREFIX, API_PREFIX "/attachments/%"
	    PRIu64 "/", a->id);
	attachments_escape(url, a->filename);
	if (links == NULL && attachments_query(url, a->id) == -1)
		yajl_gen_null(g);
	else
		json_gen_str(g, url);
	free(url);
	if (links != NULL) {
		json_gen_text(g, &len);
		attachments_links_add(links, len - 1, a->id);
	}
}

/*
 * Copy len bytes of kept text, which began at offset base of the text
 * whose link places links noted, with those links signed now: the copy
 * (*outlen bytes), which the caller frees.
 */
char *
attachments_sign_text(const char *text, size_t len, size_t base,
    const struct attachment_links *links, size_t *outlen)
{
	char	*out;
	size_t	 i, from = 0, o = 0;

	out = xmalloc(len + 80 * links->n + 1);
	for (i = 0; i < links->n; i++) {
		if (links->at[i] < base || links->at[i] - base > len)
			continue;
		memcpy(out + o, text + from, links->at[i] - base - from);
		o += links->at[i] - base - from;
		from = links->at[i] - base;
		out[o] = '\0';
		if (attachments_query(out + o, links->ids[i]) == 0)
			o += strlen(out + o);
	}
	memcpy(out + o, text + from, len - from);
	o += len - from;
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* Write an attachment object, its link as attachments_gen_url() does. */
static void
attachments_gen_one(yajl_gen g, const struct attachment *a,
    struct attachment_links *links)
{
	yajl_gen_map_open(g);
	json_gen_kid(g, "id", a->id);
	json_gen_kstr(g, "filename", a->filename);
	json_gen_kstr(g, "content_type", a->content_type);
	json_gen_kint(g, "size", (long long)a->size);
	if (a->width > 0) {
		json_gen_kint(g, "width", a->width);
		json_gen_kint(g, "height", a->height);
	} else {
		json_gen_knull(g, "width");
		json_gen_knull(g, "height");
	}
	json_gen_key(g, "url");
	attachments_gen_url(g, a, links);
	yajl_gen_map_close(g);
}

/* Write an attachment object (API.md, Attachments), its link signed now. */
void
attachments_gen(yajl_gen g, const struct attachment *a)
{
	attachments_gen_one(g, a, NULL);
}

/*
 * Write a list of attachments as a JSON array: their links signed now,
 * or with links, left for attachments_sign_text() (history.c's pages).
 */
void
attachments_gen_list(yajl_gen g, const struct attachment *a, size_t n,
    struct attachment_links *links)
{
	size_t	i;

	yajl_gen_array_open(g);
	for (i = 0; i < n; i++)
		attachments_gen_one(g, &a[i], links);
	yajl_gen_array_close(g);
}

/* --- reading ------------------------------------------------------------ */

/* Load one attachment by id: 1, 0 if there is none, -1. */
int
attachments_load(uint64_t id, struct attachment *a)
{
	memset(a, 0, sizeof *a);
	return db_fetch_one(db_query(&q_one, "u", id), attachments_read, a);
}

/*
 * What downloads read of an attachment, kept by each worker in a
 * direct-mapped table: a row's name, type, size and image size never
 * change, and an attachment deleted since its row was kept has no file
 * any more, which nginx answers 404 for like sohbetd would.  So a link
 * to an image many readers load costs one row read per worker, not one
 * per download.
 */
static struct attachment	attachments_cache[ATTACHMENTS_CACHE_SLOTS];

/* Copy an attachment's fields into a (new strings, freed by the caller). */
static void
attachments_copy(struct attachment *a, const struct attachment *from)
{
	*a = *from;
	a->filename = xstrdup(from->filename);
	a->content_type = xstrdup(from->content_type);
}

/*
 * Load what a download needs of an attachment, from the worker's table
 * when it is there: 1, 0 if there is no such row, -1.
 */
int
attachments_load_kept(uint64_t id, struct attachment *a)
{
	struct attachment	*slot;
	int			 rc;

	slot = &attachments_cache[id & (ATTACHMENTS_CACHE_SLOTS - 1)];
	if (slot->id == id && id != 0) {
		attachments_copy(a, slot);
		return 1;
	}
	if ((rc = attachments_load(id, a)) != 1)
		return rc;
	free(slot->filename);
	free(slot->content_type);
	attachments_copy(slot, a);
	return 1;
}

/* Read every row of an ATTACHMENTS_COLUMNS result into a new list. */
static long
attachments_read_all(struct db_rows *rows, struct attachment **out)
{
	struct attachment	*a = NULL;
	size_t			 n = 0, cap = 0;
	int			 rc;

	*out = NULL;
	if (rows == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		if (n == cap) {
			cap = cap == 0 ? 4 : 2 * cap;
			a = xreallocarray(a, cap, sizeof *a);
		}
		memset(&a[n], 0, sizeof a[n]);
		attachments_read(rows, &a[n++]);
	}
	db_rows_free(rows);
	if (rc == -1) {
		attachments_free(a, n);
		return -1;
	}
	*out = a;
	return (long)n;
}

/* Load the attachments of one message into it; 0 or -1. */
int
attachments_of_message(struct message *m)
{
	long	n;

	n = attachments_read_all(db_query(&q_of_message, "u", m->id),
	    &m->attachments);
	if (n == -1)
		return -1;
	m->nattachments = (size_t)n;
	return 0;
}

/*
 * Load the attachments of n messages (of one page, in either order) into
 * them with one range read over their ids; 0 or -1.
 */
int
attachments_of_messages(struct message *ms, long n)
{
	struct attachment	*all;
	uint64_t		 lo, hi;
	long			 i, j, count, first;

	if (n <= 0)
		return 0;
	lo = hi = ms[0].id;
	for (i = 1; i < n; i++) {
		lo = ms[i].id < lo ? ms[i].id : lo;
		hi = ms[i].id > hi ? ms[i].id : hi;
	}
	if ((count = attachments_read_all(db_query(&q_of_range, "uu", lo, hi),
	    &all)) == -1)
		return -1;
	/* Rows come by message id: each message takes its run of them. */
	for (i = 0; i < n; i++) {
		for (first = 0; first < count && all[first].message_id !=
		    ms[i].id; first++)
			;
		for (j = first; j < count && all[j].message_id == ms[i].id;
		    j++)
			;
		if (j == first)
			continue;
		ms[i].attachments = xcalloc((size_t)(j - first),
		    sizeof *ms[i].attachments);
		memcpy(ms[i].attachments, &all[first], (size_t)(j - first) *
		    sizeof *all);
		ms[i].nattachments = (size_t)(j - first);
		memset(&all[first], 0, (size_t)(j - first) * sizeof *all);
	}
	/* Rows of messages not in the page (deleted ones): freed here. */
	attachments_free(all, (size_t)count);
	return 0;
}

/* --- the store ---------------------------------------------------------- */

/* The path of an attachment's file in the store; the caller frees it. */
char *
attachments_path(uint64_t id)
{
	char	*path;

	xasprintf(&path, "%s/%" PRIu64, cfg->files_dir, id);
	return path;
}

/* Unlink an attachment's file; a file already gone is no error. */
static void
attachments_unlink_file(uint64_t id)
{
	char	*path = attachments_path(id);

	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: unlink %s", __func__, path);
	free(path);
}

/*
 * Say whether path names a file directly inside the store's incoming/
 * directory, where nginx writes upload bodies: sohbetd renames nothing
 * else into the store.
 */
static int
attachments_incoming(const char *path)
{
	size_t	len = strlen(cfg->files_dir);

	return strncmp(path, cfg->files_dir, len) == 0 &&
	    strncmp(path + len, "/incoming/", 10) == 0 &&
	    path[len + 10] != '\0' && strchr(path + len + 10, '/') == NULL &&
	    path[len + 10] != '.';
}

/*
 * Make an upload nginx wrote readable to sohbetd and to nginx, for good
 * (ATTACHMENTS_FILE_MODE); 0, or -1 answered (500).
 *
 * nginx creates its body files 0600, owned by its user, and in incoming/
 * (setgid, group sohbet) in sohbetd's group: the group may read once the
 * mode says so.  The file is not sohbetd's, so the package gives it
 * CAP_FOWNER for this chmod, which ProtectSystem=strict confines to the
 * store (operations.md, Files).  A symbolic link is refused, never
 * followed.
 */
static int
attachments_readable(struct request *req, const char *path)
{
	if (fchmodat(AT_FDCWD, path, ATTACHMENTS_FILE_MODE,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		log_warn("%s: chmod %s (sohbetd reads uploads through its "
		    "group and needs CAP_FOWNER for this: operations.md, "
		    "Files)", __func__, path);
		response_error(req, 500, "internal_error", "The upload could "
		    "not be read");
		return -1;
	}
	return 0;
}

/*
 * Check an upload nginx wrote to path against the limits and, for the
 * four image types, its bytes; fill a with what it is.  0, or -1 answered
 * (413 too large, 400 empty or not the image its type says, 500).
 *
 * This runs in the worker's loop: it opens a local file, fstat()s it and
 * reads at most a few dozen bytes of its header at known offsets
 * (imagehead.c), which the page cache answers in microseconds; the body
 * itself was written by nginx before the request reached sohbetd and is
 * never read here.
 */
static int
attachments_inspect(struct request *req, const char *path,
    struct attachment *a)
{
	struct stat	st;
	int		fd, rc;

	if (!attachments_incoming(path)) {
		log_warnx("%s: upload path %s is not in %s/incoming", __func__,
		    path, cfg->files_dir);
		response_error(req, 500, "internal_error", "The upload was "
		    "not stored where sohbet expects it");
		return -1;
	}
	if (attachments_readable(req, path) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_warn("%s: open %s", __func__, path);
		response_error(req, 500, "internal_error", "The upload could "
		    "not be read");
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warn("%s: fstat %s", __func__, path);
		close(fd);
		response_error(req, 500, "internal_error", "The upload could "
		    "not be read");
		return -1;
	}
	a->size = (uint64_t)st.st_size;
	rc = 1;
	if (a->size > cfg->files_max_size)
		response_error(req, 413, "payload_too_large", "The file is "
		    "larger than %llu bytes",
		    (unsigned long long)cfg->files_max_size);
	else if (a->size == 0)
		response_invalid(req, "file", "The file is empty");
	else if (imagehead_is_image(a->content_type) &&
	    (rc = imagehead_check(fd, a->content_type, &a->width,
	    &a->height)) != 1) {
		if (rc == 0)
			response_invalid(req, "file", "The file is not a %s "
			    "image", a->content_type);
		else
			response_error(req, 500, "internal_error", "The upload "
			    "could not be read");
	}
	close(fd);
	return req->status != 0 ? -1 : 0;
}

/*
 * Store an upload nginx wrote to path as an attachment of the caller in
 * the conversation, named filename (checked by the caller), of the given
 * content type, and answer 201 with it; or answer why not.  The row is
 * written and the file renamed into the store under its id in one
 * transaction: when the commit fails the file is unlinked again.
 */
void
attachments_upload(struct request *req, const struct conversation *c,
    const char *path, const char *filename, const char *content_type)
{
	struct attachment	 a;
	yajl_gen		 g;
	char			*dest = NULL;

	memset(&a, 0, sizeof a);
	a.filename = xstrdup(filename);
	a.content_type = xstrdup(content_type);
	if (attachments_inspect(req, path, &a) == -1)
		goto done;
	if (db_begin() == -1)
		goto fail;
	if (db_exec(&q_insert, "uuussuuu", req->user_id, c->channel_id,
	    c->dm_channel_id, a.filename, a.content_type, a.size,
	    (uint64_t)a.width, (uint64_t)a.height) != 1)
		goto rollback;
	a.id = db_insert_id();
	dest = attachments_path(a.id);
	if (rename(path, dest) == -1) {
		log_warn("%s: rename %s to %s", __func__, path, dest);
		goto rollback;
	}
	if (db_commit() == -1) {
		attachments_unlink_file(a.id);
		goto fail;
	}
	g = json_gen_new();
	attachments_gen(g, &a);
	response_json(req, 201, g);
	goto done;
rollback:
	db_rollback();
fail:
	response_db_error(req);
done:
	free(dest);
	free(a.filename);
	free(a.content_type);
}

/* --- messages ----------------------------------------------------------- */

/*
 * Give n uploads (distinct ids) to a new message of the conversation, in
 * the open transaction: 1, 0 when one of them is not an unattached upload
 * of this uploader to this conversation, -1 on an error.
 */
int
attachments_claim(const struct conversation *c, uint64_t uploader,
    uint64_t message_id, const uint64_t *ids, size_t n)
{
	long long	rc;
	size_t		i;

	for (i = 0; i < n; i++) {
		if ((rc = db_exec(&q_claim, "uuuuu", message_id, ids[i],
		    uploader, c->channel_id, c->dm_channel_id)) != 1)
			return rc == 0 ? 0 : -1;
	}
	return 1;
}

/*
 * Delete the rows of a message's attachments in the open transaction,
 * adding their ids to doomed, whose files attachments_unlink() removes
 * once the transaction committed; 0 or -1.
 */
int
attachments_take(uint64_t message_id, struct attachment_ids *doomed)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_message_ids, "u", message_id)) == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		if (doomed->n == doomed->cap) {
			doomed->cap = doomed->cap == 0 ? 10 : 2 * doomed->cap;
			doomed->ids = xreallocarray(doomed->ids, doomed->cap,
			    sizeof *doomed->ids);
		}
		doomed->ids[doomed->n++] = db_u64(rows, 0);
	}
	db_rows_free(rows);
	if (rc == -1)
		return -1;
	return db_exec(&q_delete_message, "u", message_id) == -1 ? -1 : 0;
}

/*
 * Remove the files of attachments whose rows a committed transaction
 * deleted (commit 1), or only forget them (0: rolled back); doomed is
 * emptied either way.
 */
void
attachments_unlink(struct attachment_ids *doomed, int commit)
{
	size_t	i;

	for (i = 0; commit && i < doomed->n; i++)
		attachments_unlink_file(doomed->ids[i]);
	free(doomed->ids);
	memset(doomed, 0, sizeof *doomed);
}

/*
 * Delete uploads no message took within an hour, rows first and then
 * files, a batch at a time (the keeper's job): the number deleted, or -1.
 * An upload a send takes meanwhile keeps its row: the delete matches only
 * an unattached one.
 */
int
attachments_prune(void)
{
	struct db_rows	*rows;
	uint64_t	 ids[ATTACHMENTS_PRUNE_BATCH];
	int		 n = 0, i, deleted = 0, rc = 0;

	if (cfg->files_dir == NULL)
		return 0;
	if ((rows = db_query(&q_stale, "")) == NULL)
		return -1;
	while (n < ATTACHMENTS_PRUNE_BATCH && (rc = db_fetch(rows)) == 1)
		ids[n++] = db_u64(rows, 0);
	db_rows_free(rows);
	if (rc == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((rc = (int)db_exec(&q_delete_stale, "u", ids[i])) == -1)
			return -1;
		if (rc == 1) {
			attachments_unlink_file(ids[i]);
			deleted++;
		}
	}
	return deleted;
}
