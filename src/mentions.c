/* SPDX-License-Identifier: ISC */
/*
 * mentions.c: the mentions of a message (API.md, Mentions and read
 * state): found in its content on send and edit (<@USER_ID>, <@&ROLE_ID>,
 * @everyone, @here), resolved to the users who can see the message and
 * the roles of its server, stored with the message and written back as
 * its `mentions`, `mention_roles` and `mention_everyone`.  They are kept
 * twice (sql/018_mentions_keyed.sql): in the message's row
 * (messages.mentions, [[kind, "target_id"], ...]), which shows them, and,
 * in a server channel, as rows of message_mentions keyed by what
 * readstate.c counts.  A user's mention of themselves has no row: their
 * own messages never count for them (mentions_counted()).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

/* The most candidates content can hold: "<@1>" is four characters. */
#define MENTIONS_CANDIDATES_MAX	1000

/* A mention found in the content, before it is resolved. */
struct mentions_candidate {
	int		 kind;
	uint64_t	 id;
	size_t		 offset;	/* of its first appearance */
};

/* The candidates of one content, distinct, in order of appearance. */
struct mentions_found {
	struct mentions_candidate v[MENTIONS_CANDIDATES_MAX];
	size_t		 n;
	size_t		 users;		/* of them MENTION_USER */
	size_t		 roles;
	long		 everyone;	/* of @everyone or @here, or -1 */
};

/*
 * The candidate users who are members of a channel's server, with their
 * names and roles there (a row per role; NULL for none), in the
 * candidates' order; which of them may view the channel is access.c's to
 * judge (mentions_channel_viewers()).  The candidates come first
 * (STRAIGHT_JOIN): each is one probe of server_members' primary key,
 * however big the server.
 */
static struct db_stmt q_channel_members = DB_STMT(
    "SELECT j.id, u.username, mr.role_id FROM JSON_TABLE(?, '$[*]'"
    " COLUMNS (ord FOR ORDINALITY, id BIGINT UNSIGNED PATH '$')) j"
    " STRAIGHT_JOIN server_members sm ON sm.server_id = ? AND sm.user_id = j.id"
    " JOIN users u ON u.id = sm.user_id"
    " LEFT JOIN server_member_roles mr ON mr.server_id = sm.server_id"
    " AND mr.user_id = sm.user_id ORDER BY j.ord, mr.role_id");
/* Which candidate users take part in a DM: its two participants. */
static struct db_stmt q_dm_viewers = DB_STMT(
    "SELECT j.id, u.username FROM JSON_TABLE(?, '$[*]' COLUMNS ("
    " ord FOR ORDINALITY, id BIGINT UNSIGNED PATH '$')) j"
    " JOIN dm_channels d ON d.id = ?"
    " AND j.id IN (d.user1_id, d.user2_id)"
    " JOIN users u ON u.id = j.id ORDER BY j.ord");
/*
 * The names of the users a page of messages mentions, whose ids come as a
 * JSON array of decimal strings: each looked up by the primary key.
 */
static struct db_stmt q_names = DB_STMT(
    "SELECT u.id, u.username FROM users u WHERE u.id IN (SELECT j.id FROM"
    " JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) AS j)");
/*
 * The roles of a server but its default one, up to one more than a
 * worker keeps (server, limit).
 */
static struct db_stmt q_server_roles = DB_STMT(
    "SELECT id FROM roles WHERE server_id = ? AND is_default = 0"
    " ORDER BY id LIMIT ?");
/*
 * Which candidate roles are the server's (its default role is not), for
 * a server with more roles than a worker keeps.
 */
static struct db_stmt q_roles = DB_STMT(
    "SELECT j.id FROM JSON_TABLE(?, '$[*]' COLUMNS ("
    " ord FOR ORDINALITY, id BIGINT UNSIGNED PATH '$')) j"
    " JOIN roles r ON r.id = j.id AND r.server_id = ? AND r.is_default = 0"
    " ORDER BY j.ord");
/*
 * A server channel message's rows (channel, message, author), from its
 * mentions as mentions_column_text() writes them, but the author's
 * mention of themselves (author again; mentions_counted()).
 */
static struct db_stmt q_insert = DB_STMT(
    "INSERT INTO message_mentions (channel_id, kind, target_id, message_id,"
    " author_id)"
    " SELECT ?, j.kind, j.target_id, ?, ?"
    " FROM JSON_TABLE(?, '$[*]' COLUMNS ("
    " kind TINYINT UNSIGNED PATH '$[0]',"
    " target_id BIGINT UNSIGNED PATH '$[1]')) j"
    " WHERE NOT (j.kind = 1 AND j.target_id = ?)");
/*
 * A message's rows, found by their keys from its row's mentions: one
 * probe of the primary key each (STRAIGHT_JOIN: else MariaDB reads the
 * channel's whole range).  Before the row's mentions are replaced.
 */
static struct db_stmt q_forget = DB_STMT(
    "DELETE mm FROM messages m STRAIGHT_JOIN JSON_TABLE(m.mentions,"
    " '$[*]' COLUMNS (kind TINYINT UNSIGNED PATH '$[0]',"
    " target_id BIGINT UNSIGNED PATH '$[1]')) j"
    " STRAIGHT_JOIN message_mentions mm ON mm.channel_id = m.channel_id"
    " AND mm.kind = j.kind AND mm.target_id = j.target_id"
    " AND mm.message_id = m.id WHERE m.id = ?");

/* Free what a list of mentions owns. */
void
mentions_clear(struct mentions *ms)
{
	size_t	i;

	for (i = 0; i < ms->n; i++)
		free(ms->v[i].username);
	free(ms->v);
	ms->v = NULL;
	ms->n = 0;
}

/* Append a mention (the name copied, when there is one). */
static void
mentions_add(struct mentions *ms, int kind, uint64_t id, const char *name,
    size_t name_len)
{
	struct mention	*m;

	ms->v = xreallocarray(ms->v, ms->n + 1, sizeof *ms->v);
	m = &ms->v[ms->n++];
	m->kind = kind;
	m->id = id;
	m->username = name != NULL ? xstrndup(name, name_len) : NULL;
}

/* Make dst a copy of src (dst empty before). */
void
mentions_copy(struct mentions *dst, const struct mentions *src)
{
	size_t		 i;
	const char	*name;

	memset(dst, 0, sizeof *dst);
	for (i = 0; src != NULL && i < src->n; i++) {
		name = src->v[i].username;
		mentions_add(dst, src->v[i].kind, src->v[i].id, name,
		    name != NULL ? strlen(name) : 0);
	}
}

/*
 * Fill ms from a row's messages.mentions column, [[kind, "id"], ...] in
 * order, or NULL for none; the users' names are mentions_name()'s.  A
 * text that does not read so leaves ms empty (mentions_column_text()
 * writes it).  json_parse() reads objects, so the list is read as the
 * member "m" of one.
 */
void
mentions_read(struct db_rows *rows, unsigned int col, struct mentions *ms)
{
	static const char	 open[] = "{\"m\":", close[] = "}";
	const struct json	*e, *list;
	struct json		*doc;
	const char		*text;
	char			*buf;
	size_t			 len, i;
	long long		 kind;
	uint64_t		 id;
	int			 rc;

	memset(ms, 0, sizeof *ms);
	if ((text = db_str(rows, col, &len)) == NULL)
		return;
	buf = xmalloc(sizeof open - 1 + len + sizeof close - 1);
	memcpy(buf, open, sizeof open - 1);
	memcpy(buf + sizeof open - 1, text, len);
	memcpy(buf + sizeof open - 1 + len, close, sizeof close - 1);
	rc = json_parse(buf, sizeof open - 1 + len + sizeof close - 1, &doc);
	free(buf);
	if (rc == -1)
		return;
	list = json_get(doc, "m");
	for (i = 0; list != NULL && list->type == JSON_ARRAY &&
	    i < list->count; i++) {
		e = list->items[i];
		id = 0;
		if (e->type != JSON_ARRAY || e->count != 2 ||
		    json_integer(e->items[0], &kind) == -1 ||
		    e->items[1]->type != JSON_STRING ||
		    (kind != MENTION_EVERYONE &&
		    param_parse_id(e->items[1]->text, &id) == -1))
			continue;
		mentions_add(ms, (int)kind, id, NULL, 0);
	}
	json_free(doc);
}

/*
 * Name the users n messages mention (as mentions_read() left them), with
 * one statement for all, none when they mention nobody: the names they
 * have now.  0, or -1.
 */
int
mentions_name(struct message *ms, long n)
{
	struct db_rows	*rows;
	const char	*name;
	uint64_t	*ids = NULL, id;
	size_t		 len, nids = 0, size = 0, j;
	long		 i;
	int		 rc;

	for (i = 0; i < n; i++) {
		for (j = 0; j < ms[i].mentions.n; j++) {
			if (ms[i].mentions.v[j].kind != MENTION_USER)
				continue;
			if (nids == size) {
				size = size == 0 ? 16 : size * 2;
				ids = xreallocarray(ids, size, sizeof *ids);
			}
			ids[nids++] = ms[i].mentions.v[j].id;
		}
	}
	if (nids == 0)
		return 0;
	rows = db_query_ids(&q_names, ids, nids);
	free(ids);
	if (rows == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		id = db_u64(rows, 0);
		if ((name = db_str(rows, 1, &len)) == NULL)
			continue;
		for (i = 0; i < n; i++) {
			for (j = 0; j < ms[i].mentions.n; j++) {
				if (ms[i].mentions.v[j].kind != MENTION_USER ||
				    ms[i].mentions.v[j].id != id ||
				    ms[i].mentions.v[j].username != NULL)
					continue;
				ms[i].mentions.v[j].username =
				    xstrndup(name, len);
			}
		}
	}
	db_rows_free(rows);
	return rc == -1 ? -1 : 0;
}

/*
 * Write a message's mention fields: mentions [{id, username}],
 * mention_roles [id] and mention_everyone.
 */
void
mentions_gen(yajl_gen g, const struct mentions *ms)
{
	size_t	i;
	int	everyone = 0;

	json_gen_key(g, "mentions");
	yajl_gen_array_open(g);
	for (i = 0; i < ms->n; i++) {
		if (ms->v[i].kind == MENTION_USER)
			users_gen_public(g, ms->v[i].id, ms->v[i].username);
		everyone |= ms->v[i].kind == MENTION_EVERYONE;
	}
	yajl_gen_array_close(g);
	json_gen_key(g, "mention_roles");
	yajl_gen_array_open(g);
	for (i = 0; i < ms->n; i++) {
		if (ms->v[i].kind == MENTION_ROLE)
			json_gen_id(g, ms->v[i].id);
	}
	yajl_gen_array_close(g);
	json_gen_kbool(g, "mention_everyone", everyone);
}

/*
 * Whether a mention of a message by author_id has a row of
 * message_mentions: not the author's mention of themselves, which
 * readstate.c would never count (a user's own messages are never unread
 * to them), so that writing it cost a send a row for nothing.
 */
static int
mentions_counted(const struct mention *m, uint64_t author_id)
{
	return m->kind != MENTION_USER || m->id != author_id;
}

/*
 * Write the rows of message_mentions of a message, as message_send_many
 * reads them, into the caller's array: [kind, "target_id", "message_id",
 * "channel_id", "author_id"] each; none in a DM (nothing counts them).
 * The number of rows written.
 */
size_t
mentions_gen_rows(yajl_gen g, const struct mentions *ms, uint64_t message_id,
    const struct conversation *c, uint64_t author_id)
{
	size_t	i, rows = 0;

	for (i = 0; ms != NULL && c->channel_id != 0 && i < ms->n; i++) {
		if (!mentions_counted(&ms->v[i], author_id))
			continue;
		rows++;
		yajl_gen_array_open(g);
		yajl_gen_integer(g, ms->v[i].kind);
		json_gen_id_or_zero(g, ms->v[i].id);
		json_gen_id_or_zero(g, message_id);
		json_gen_id_or_zero(g, c->channel_id);
		json_gen_id_or_zero(g, author_id);
		yajl_gen_array_close(g);
	}
	return rows;
}

/*
 * The room a mention is given in mentions_column_text(): ,[K,"ID"] with
 * a one-digit kind and an id of up to 20 digits is 27 bytes; the text's
 * brackets and NUL fit in what the first one leaves.
 */
#define MENTIONS_COLUMN_ENTRY	28

/*
 * A message's mentions as its row keeps them (messages.mentions), a JSON
 * array [[kind, "target_id"], ...] in a new string, or NULL when it has
 * none; the caller frees it.  Written by hand, kinds and ids being
 * digits: a generator for it cost each message with mentions a few
 * allocations more than the text.
 */
char *
mentions_column_text(const struct mentions *ms)
{
	char	*text;
	size_t	 size, len = 0, i;

	if (ms == NULL || ms->n == 0)
		return NULL;
	size = ms->n * MENTIONS_COLUMN_ENTRY + 2;
	text = xmalloc(size);
	text[len++] = '[';
	for (i = 0; i < ms->n; i++)
		len += (size_t)snprintf(text + len, size - len,
		    "%s[%d,\"%" PRIu64 "\"]", i > 0 ? "," : "",
		    ms->v[i].kind, ms->v[i].id);
	text[len++] = ']';
	text[len] = '\0';
	return text;
}

/*
 * Store the rows that count a message's mentions in the open transaction
 * (nothing in a DM, or when it has none; its row's mentions are the
 * caller's to write); 0 or -1.
 */
int
mentions_insert(uint64_t message_id, const struct conversation *c,
    uint64_t author_id, const struct mentions *ms)
{
	char		*list;
	long long	 n, rows = 0;
	size_t		 i;

	if (c->channel_id == 0 || (list = mentions_column_text(ms)) == NULL)
		return 0;
	for (i = 0; i < ms->n; i++)
		rows += mentions_counted(&ms->v[i], author_id);
	n = db_exec(&q_insert, "uuusu", c->channel_id, message_id, author_id,
	    list, author_id);
	free(list);
	return n == rows ? 0 : -1;
}

/*
 * Delete the rows that count a message's mentions (an edit, a delete),
 * before its row's mentions change; 0 or -1.
 */
int
mentions_forget(uint64_t message_id)
{
	return db_exec(&q_forget, "u", message_id) == -1 ? -1 : 0;
}

/* Note a candidate once, at its first appearance. */
static void
mentions_note(struct mentions_found *f, int kind, uint64_t id,
    size_t offset)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		if (f->v[i].kind == kind && f->v[i].id == id)
			return;
	}
	if (f->n == MENTIONS_CANDIDATES_MAX)
		return;
	f->v[f->n].kind = kind;
	f->v[f->n].id = id;
	f->v[f->n++].offset = offset;
	if (kind == MENTION_USER)
		f->users++;
	else
		f->roles++;
}

/*
 * Read a <@ID> or <@&ID> at s (len bytes left): its length, with its
 * kind and id, or 0 when s holds neither (an id of 0, or above what a
 * JSON integer carries, is plain text too).
 */
static size_t
mentions_token(const char *s, size_t len, int *kind, uint64_t *id)
{
	size_t		i = 2, start;
	uint64_t	v = 0;

	if (len < 4 || s[0] != '<' || s[1] != '@')
		return 0;
	*kind = MENTION_USER;
	if (s[2] == '&') {
		*kind = MENTION_ROLE;
		i++;
	}
	for (start = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (i - start == 19)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == start || i == len || s[i] != '>' || v == 0 ||
	    v >= ((uint64_t)1 << 63))
		return 0;
	*id = v;
	return i + 1;
}

/* Find the mentions in content, distinct, in order. */
static void
mentions_scan(const char *content, size_t len, struct mentions_found *f)
{
	size_t		i = 0, n;
	uint64_t	id;
	int		kind;

	f->n = f->users = f->roles = 0;
	f->everyone = -1;
	while (i < len) {
		if ((n = mentions_token(content + i, len - i, &kind,
		    &id)) > 0) {
			mentions_note(f, kind, id, i);
			i += n;
			continue;
		}
		if (f->everyone == -1 && content[i] == '@' &&
		    ((len - i >= 9 &&
		    memcmp(content + i, "@everyone", 9) == 0) ||
		    (len - i >= 5 && memcmp(content + i, "@here", 5) == 0)))
			f->everyone = (long)i;
		i++;
	}
}

/* Write the ids of one kind of candidate as a JSON array. */
static char *
mentions_candidates_text(const struct mentions_found *f, int kind)
{
	const char	*text;
	char		*copy;
	size_t		 i, len;
	yajl_gen	 g;

	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = 0; i < f->n; i++) {
		if (f->v[i].kind == kind)
			yajl_gen_integer(g, (long long)f->v[i].id);
	}
	yajl_gen_array_close(g);
	text = json_gen_text(g, &len);
	copy = xstrndup(text, len);
	yajl_gen_free(g);
	return copy;
}

/*
 * Append to out the rows of a resolving query (an id, and a username for
 * MENTION_USER), as mentions of kind; 0 or -1.
 */
static int
mentions_read_resolved(struct db_rows *rows, int kind, struct mentions *out)
{
	const char	*name;
	size_t		 len = 0;
	int		 rc;

	if (rows == NULL)
		return -1;
	while ((rc = db_fetch(rows)) == 1) {
		name = kind == MENTION_USER ? db_str(rows, 1, &len) : NULL;
		mentions_add(out, kind, db_u64(rows, 0), name, len);
	}
	db_rows_free(rows);
	return rc;
}

/*
 * The candidate users who can see a message of the conversation, from
 * the worker's caches alone (cache.c: the standing channels_access()
 * keeps of each user who opened the conversation lately, and the names
 * of users who made requests): 1 when every candidate is known there
 * (those who can see it appended to out, in order), 0 when one is not
 * (out as it was: what was appended is taken back).  A send that
 * mentions people who are about costs no query this way.
 */
static int
mentions_viewers_cached(const struct conversation *c,
    const struct mentions_found *f, struct mentions *out)
{
	struct member	 m;
	char		 name[USERNAME_SIZE];
	unsigned int	 generation;
	size_t		 i, had = out->n;

	for (i = 0; i < f->n; i++) {
		if (f->v[i].kind != MENTION_USER)
			continue;
		if (!cache_user_get(f->v[i].id, &generation, name))
			goto miss;
		if (c->channel_id != 0) {
			if (!cache_standing_get(f->v[i].id, CACHE_CHANNEL,
			    c->channel_id, CACHE_FRESH, NULL, &m))
				goto miss;
			if (!m.is_member || !perm_has(&m, PERM_VIEW_CHANNELS))
				continue;
		} else if (!cache_standing_get(f->v[i].id, CACHE_DM,
		    c->dm_channel_id, CACHE_FRESH, NULL, NULL))
			goto miss;
		mentions_add(out, MENTION_USER, f->v[i].id, name,
		    strlen(name));
	}
	return 1;
miss:
	while (out->n > had)
		free(out->v[--out->n].username);
	return 0;
}

/*
 * Append to out the rows of q_channel_members (a candidate and one of
 * their roles a row) whose users may view the channel, judged by the
 * worker's copy of the server's access (access.c); 0 or -1.
 */
static int
mentions_channel_viewers(const struct conversation *c, struct db_rows *rows,
    struct mentions *out)
{
	const struct access_server	*sa;
	struct access_member		 am;
	char				 name[USERNAME_SIZE];
	uint64_t			 id;
	int				 rc, more;

	if (rows == NULL)
		return -1;
	if (access_cached(c->server_id, 0, &sa) != 1) {
		db_rows_free(rows);
		return -1;
	}
	memset(&am, 0, sizeof am);
	for (rc = db_fetch(rows); rc == 1; ) {
		id = db_u64(rows, 0);
		db_copy(name, sizeof name, rows, 1);
		am.user_id = id;
		am.nroles = 0;
		do {
			if (!db_is_null(rows, 2)) {
				am.roles = xreallocarray(am.roles,
				    am.nroles + 1, sizeof *am.roles);
				am.roles[am.nroles++] = db_u64(rows, 2);
			}
			more = (rc = db_fetch(rows)) == 1 &&
			    db_u64(rows, 0) == id;
		} while (more);
		if (access_may_view(sa, &am, c->channel_id))
			mentions_add(out, MENTION_USER, id, name,
			    strlen(name));
	}
	free(am.roles);
	db_rows_free(rows);
	return rc;
}

/*
 * The candidate users who can see a message of the conversation, with
 * their names, appended to out in the candidates' order; 0 or -1.  The
 * one place that answers "who can view this conversation" for mentions:
 * from the caches when they know every candidate (the standings there
 * are channels_access()'s, so they follow its rule: a channel's
 * permissions with its overwrites), else members of the server judged
 * by access.c, or the DM's participants.
 */
static int
mentions_viewers(const struct conversation *c,
    const struct mentions_found *f, struct mentions *out)
{
	struct db_rows	*rows;
	char		*ids;
	int		 rc;

	if (f->users == 0 || mentions_viewers_cached(c, f, out))
		return 0;
	ids = mentions_candidates_text(f, MENTION_USER);
	if (c->channel_id != 0) {
		rc = mentions_channel_viewers(c, db_query(&q_channel_members,
		    "su", ids, c->server_id), out);
		free(ids);
		return rc;
	}
	rows = db_query(&q_dm_viewers, "su", ids, c->dm_channel_id);
	free(ids);
	return mentions_read_resolved(rows, MENTION_USER, out);
}

/*
 * The roles of a server but its default one, from the worker's cache or
 * read and kept there: 1 (their ids in ids, room for CACHE_ROLES_MAX + 1,
 * and their number in *n), 0 when the server has more than a worker
 * keeps, -1 on an error.
 */
static int
mentions_server_roles(uint64_t server_id, uint64_t *ids, size_t *n)
{
	struct db_rows	*rows;
	int		 rc;

	if (cache_roles_get(server_id, ids, n))
		return 1;
	if ((rows = db_query(&q_server_roles, "ui", server_id,
	    (long long)CACHE_ROLES_MAX + 1)) == NULL)
		return -1;
	*n = 0;
	while (*n <= CACHE_ROLES_MAX && (rc = db_fetch(rows)) == 1)
		ids[(*n)++] = db_u64(rows, 0);
	db_rows_free(rows);
	if (rc == -1)
		return -1;
	if (*n > CACHE_ROLES_MAX)
		return 0;
	cache_roles_put(server_id, ids, *n);
	return 1;
}

/*
 * The candidate roles of the server, appended to out in their order; 0
 * or -1.  Checked against the server's roles as the worker keeps them
 * (a send mentioning a role costs no query then), or with one query in a
 * server of more roles.
 */
static int
mentions_roles(const struct conversation *c, const struct mentions_found *f,
    struct mentions *out)
{
	struct db_rows	*rows;
	uint64_t	 known[CACHE_ROLES_MAX + 1];
	size_t		 nknown, i, j;
	char		*ids;
	int		 rc;

	if (f->roles == 0 || c->channel_id == 0)
		return 0;
	if ((rc = mentions_server_roles(c->server_id, known, &nknown)) == -1)
		return -1;
	if (rc == 1) {
		for (i = 0; i < f->n; i++) {
			for (j = 0; f->v[i].kind == MENTION_ROLE &&
			    j < nknown; j++) {
				if (known[j] == f->v[i].id)
					mentions_add(out, MENTION_ROLE,
					    f->v[i].id, NULL, 0);
			}
		}
		return 0;
	}
	ids = mentions_candidates_text(f, MENTION_ROLE);
	rows = db_query(&q_roles, "su", ids, c->server_id);
	free(ids);
	return mentions_read_resolved(rows, MENTION_ROLE, out);
}

/* Where a resolved mention first appeared in the content. */
static size_t
mentions_offset(const struct mentions_found *f, const struct mention *m)
{
	size_t	i;

	if (m->kind == MENTION_EVERYONE)
		return (size_t)f->everyone;
	for (i = 0; i < f->n; i++) {
		if (f->v[i].kind == m->kind && f->v[i].id == m->id)
			return f->v[i].offset;
	}
	return 0;
}

/* Put resolved mentions in order of first appearance (insertion sort). */
static void
mentions_order(const struct mentions_found *f, struct mentions *ms)
{
	struct mention	m;
	size_t		i, j;

	for (i = 1; i < ms->n; i++) {
		m = ms->v[i];
		for (j = i; j > 0 && mentions_offset(f, &ms->v[j - 1]) >
		    mentions_offset(f, &m); j--)
			ms->v[j] = ms->v[j - 1];
		ms->v[j] = m;
	}
}

/*
 * Resolve the mentions of a message's content in the conversation into
 * ms: the users who can see it, the server's roles, @everyone / @here
 * when the author may (c->mention_everyone; never in a DM), in order of
 * first appearance; unknown ids stay plain text.  0, or -1 with 400
 * (more than MENTIONS_MAX users and roles) or a database error answered.
 * Content without a mention costs no query.
 */
int
mentions_resolve(struct request *req, const struct conversation *c,
    const char *content, size_t len, struct mentions *ms)
{
	struct mentions_found	*f;

	memset(ms, 0, sizeof *ms);
	f = xmalloc(sizeof *f);
	mentions_scan(content, len, f);
	if (mentions_viewers(c, f, ms) == -1 ||
	    mentions_roles(c, f, ms) == -1) {
		free(f);
		mentions_clear(ms);
		response_db_error(req);
		return -1;
	}
	if (ms->n > MENTIONS_MAX) {
		free(f);
		mentions_clear(ms);
		response_invalid(req, "content", "A message may mention at "
		    "most %d users and roles", MENTIONS_MAX);
		return -1;
	}
	if (f->everyone != -1 && c->channel_id != 0 && c->mention_everyone)
		mentions_add(ms, MENTION_EVERYONE, 0, NULL, 0);
	mentions_order(f, ms);
	free(f);
	return 0;
}
