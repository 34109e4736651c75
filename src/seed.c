/* SPDX-License-Identifier: ISC */
/*
 * seed.c: `sohbetctl seed`, which fills a database with realistic volume
 * for benchmarks and for trying the web client: users, servers (each with
 * its default role, a few channels and members), DM channels, and messages
 * spread over them the way chat is (a few busy channels, many quiet ones),
 * optionally with one big channel.
 *
 * Rows go in through prepared INSERTs executed in bulk (MariaDB's array
 * binding: one round trip sends a whole batch), one transaction a batch,
 * with foreign key checks off for this session only: every row is made
 * valid by construction.  Ids are chosen here, above the largest in each
 * table, so the seed adds to what is there.
 *
 * Every seeded user is seed_user_<id> with the password "password123"
 * (hashed once).  Message ids are drawn above every message id and event
 * seq in the database, but sohbetd's shared-memory sequencer resumes from
 * the database only when it starts: seed with sohbetd stopped, or restart
 * it afterwards (tools/dev seed does), or it would hand out ids below the
 * seeded ones.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

#include "sohbet.h"

#define SEED_PASSWORD		"password123"
#define SEED_BATCH		2000	/* rows a round trip */
#define SEED_COLS		6	/* columns of the widest insert */
#define SEED_SPAN_MS		(60LL * 24 * 3600 * 1000)	/* of history */
#define SEED_MEMBERSHIPS	8	/* servers a user joins, at most */
#define SEED_CHANNELS		5	/* channels of a server, at most */
#define SEED_BIG_MEMBERS	500
#define SEED_DM_SHARE		10	/* one message in this many is a DM */
#define SEED_PROGRESS		250000
#define SEED_BIG_SERVER		"Seed big server"
#define SEED_BIG_CHANNEL	"firehose"

/* Prepared INSERTs, executed a batch of rows at a time. */
struct seed_batch {
	MYSQL_STMT	*stmt;
	const char	*types;		/* 'u' uint64_t, 's' string */
	unsigned int	 ncols;
	unsigned int	 n;		/* rows waiting */
	long long	 total;		/* rows inserted */
	uint64_t	*u;		/* [col * SEED_BATCH + row] */
	char		**s;
	unsigned long	*len;
	int		 words;		/* messages: index their words too */
};

/* A seeded server: its members, for choosing message authors. */
struct seed_server {
	uint64_t	 id;
	uint64_t	*members;
	size_t		 nmembers;
	size_t		 cap;
};

/* A seeded channel. */
struct seed_channel {
	uint64_t	 id;
	size_t		 server;	/* index in servers */
};

/* The whole run. */
struct seed {
	long		 users, nservers, messages, big;
	uint64_t	 rng;
	long long	 now_ms;
	char		*hash;
	/* The largest ids before the seed. */
	uint64_t	 user0, server0, role0, channel0, dm0, message0;
	struct seed_server *servers;
	struct seed_channel *channels;
	size_t		 nchannels;
	double		*channel_cdf;	/* how busy, cumulative */
	double		*server_cdf;	/* how popular, cumulative */
	uint64_t	(*dms)[2];
	size_t		 ndms;
	size_t		 big_channel;	/* index in channels, if big */
	struct seed_batch users_b, servers_b, roles_b, channels_b, members_b,
			 dms_b, messages_b, dm_messages_b;
};

static struct db_stmt q_largest = DB_STMT(
    "SELECT (SELECT COALESCE(MAX(id), 0) FROM users),"
    " (SELECT COALESCE(MAX(id), 0) FROM servers),"
    " (SELECT COALESCE(MAX(id), 0) FROM roles),"
    " (SELECT COALESCE(MAX(id), 0) FROM channels),"
    " (SELECT COALESCE(MAX(id), 0) FROM dm_channels),"
    " GREATEST((SELECT COALESCE(MAX(id), 0) FROM messages),"
    " (SELECT COALESCE(MAX(seq), 0) FROM events),"
    " (SELECT COALESCE(MAX(value), 0) FROM sequence))");
static struct db_stmt q_sequence = DB_STMT(
    "UPDATE sequence SET value = GREATEST(value, ?) WHERE id = 1");

static const char *const seed_words[] = {
	"the", "a", "and", "to", "of", "is", "it", "you", "that", "in",
	"we", "for", "on", "this", "with", "be", "have", "not", "are",
	"just", "so", "but", "what", "do", "can", "if", "was", "my", "at",
	"lol", "yeah", "ok", "nice", "thanks", "build", "deploy", "server",
	"channel", "message", "today", "tomorrow", "meeting", "lunch",
	"coffee", "game", "tonight", "anyone", "here", "there", "really",
	"think", "know", "should", "would", "could", "merge", "review",
	"patch", "test", "broken", "fixed", "again", "weekend", "music",
	"link", "video", "picture", "cat", "dog", "weather", "rain",
	"sunny", "ship", "release", "bug", "feature", "docs", "question",
	"answer", "maybe", "later", "soon", "now", "never", "always",
	"great", "idea", "plan", "works", "fails", "on-call", "pager",
	"\xf0\x9f\x98\x80", "\xf0\x9f\x91\x8d", "\xf0\x9f\x8e\x89",
	"caf\xc3\xa9", "na\xc3\xafve", "\xc3\xbc" "ber",
};
#define SEED_NWORDS	(sizeof seed_words / sizeof seed_words[0])

/* The next pseudo-random number (xorshift64*; reproducible runs). */
static uint64_t
seed_rand(struct seed *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ULL;
}

/* A pseudo-random number below n (n > 0). */
static size_t
seed_below(struct seed *s, size_t n)
{
	return (size_t)(seed_rand(s) % n);
}

/* A pseudo-random number in [0, 1). */
static double
seed_unit(struct seed *s)
{
	return (double)(seed_rand(s) >> 11) / 9007199254740992.0;
}

/*
 * A cumulative distribution over n items with Zipf-like weights 1/k^0.9
 * in a shuffled order, so that a few items get most of the picks.
 */
static double *
seed_zipf(struct seed *s, size_t n)
{
	double	*cdf, total = 0, tmp;
	size_t	 i, j;

	cdf = xcalloc(n, sizeof *cdf);
	for (i = 0; i < n; i++)
		cdf[i] = 1.0 / pow((double)(i + 1), 0.9);
	for (i = n; i > 1; i--) {
		j = seed_below(s, i);
		tmp = cdf[i - 1];
		cdf[i - 1] = cdf[j];
		cdf[j] = tmp;
	}
	for (i = 0; i < n; i++) {
		total += cdf[i];
		cdf[i] = total;
	}
	for (i = 0; i < n; i++)
		cdf[i] /= total;
	return cdf;
}

/* Pick an index from a cumulative distribution over n items. */
static size_t
seed_pick(struct seed *s, const double *cdf, size_t n)
{
	double	x = seed_unit(s);
	size_t	lo = 0, hi = n - 1, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (cdf[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Format milliseconds since the epoch as a DATETIME(3) in UTC. */
static void
seed_time(long long ms, char *buf, size_t size)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);
	size_t		len;

	gmtime_r(&t, &tm);
	len = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + len, size - len, ".%03lld", ms % 1000);
}

/* Prepare a batch for an INSERT with one '?' per letter of types. */
static int
seed_batch_open(struct seed_batch *b, const char *sql, const char *types)
{
	memset(b, 0, sizeof *b);
	b->types = types;
	b->ncols = (unsigned int)strlen(types);
	if ((b->stmt = mysql_stmt_init(db_handle())) == NULL ||
	    mysql_stmt_prepare(b->stmt, sql, strlen(sql)) != 0) {
		log_warnx("%s: %s", __func__, b->stmt != NULL ?
		    mysql_stmt_error(b->stmt) : "mysql_stmt_init failed");
		return -1;
	}
	b->u = xcalloc(b->ncols * SEED_BATCH, sizeof *b->u);
	b->s = xcalloc(b->ncols * SEED_BATCH, sizeof *b->s);
	b->len = xcalloc(b->ncols * SEED_BATCH, sizeof *b->len);
	return 0;
}

/*
 * Insert the waiting rows in one bulk execution and one transaction.
 * Column-wise array binding: each column is an array of values, strings
 * an array of pointers with an array of lengths.
 */
static int
seed_batch_flush(struct seed_batch *b)
{
	MYSQL_BIND	bind[SEED_COLS];
	unsigned int	i, size = b->n;

	if (b->n == 0)
		return 0;
	memset(bind, 0, sizeof bind);
	for (i = 0; i < b->ncols; i++) {
		if (b->types[i] == 'u') {
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = &b->u[i * SEED_BATCH];
			bind[i].is_unsigned = 1;
		} else {
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			bind[i].buffer = &b->s[i * SEED_BATCH];
			bind[i].length = &b->len[i * SEED_BATCH];
		}
	}
	if (db_begin() == -1)
		return -1;
	if (mysql_stmt_attr_set(b->stmt, STMT_ATTR_ARRAY_SIZE, &size) != 0 ||
	    mysql_stmt_bind_param(b->stmt, bind) != 0 ||
	    mysql_stmt_execute(b->stmt) != 0) {
		log_warnx("%s: %s", __func__, mysql_stmt_error(b->stmt));
		db_rollback();
		return -1;
	}
	/* The ids are the batch's first column. */
	if ((b->words && words_index_ids(b->u, b->n) == -1) ||
	    db_commit() == -1) {
		db_rollback();
		return -1;
	}
	for (i = 0; i < b->ncols * SEED_BATCH; i++) {
		free(b->s[i]);
		b->s[i] = NULL;
	}
	b->total += b->n;
	b->n = 0;
	return 0;
}

/* Add a row (arguments as the types say; strings are copied). */
static int
seed_batch_add(struct seed_batch *b, ...)
{
	va_list		 ap;
	unsigned int	 i, k;
	const char	*str;

	va_start(ap, b);
	for (i = 0; i < b->ncols; i++) {
		k = i * SEED_BATCH + b->n;
		if (b->types[i] == 'u')
			b->u[k] = va_arg(ap, uint64_t);
		else {
			str = va_arg(ap, const char *);
			b->s[k] = xstrdup(str);
			b->len[k] = (unsigned long)strlen(str);
		}
	}
	va_end(ap);
	if (++b->n == SEED_BATCH)
		return seed_batch_flush(b);
	return 0;
}

/* Flush and free a batch. */
static int
seed_batch_close(struct seed_batch *b)
{
	int	rc = 0;

	if (b->stmt != NULL) {
		rc = seed_batch_flush(b);
		mysql_stmt_close(b->stmt);
	}
	free(b->u);
	free(b->s);
	free(b->len);
	b->u = NULL;
	b->s = NULL;
	b->len = NULL;
	b->stmt = NULL;
	return rc;
}

/* Prepare every batch of the run. */
static int
seed_batches_open(struct seed *s)
{
	if (seed_batch_open(&s->users_b, "INSERT INTO users (id, username,"
	    " email, password_hash, created_at, updated_at)"
	    " VALUES (?, ?, ?, ?, ?, ?)", "usssss") == -1 ||
	    seed_batch_open(&s->servers_b, "INSERT INTO servers (id, name,"
	    " owner_id, created_at) VALUES (?, ?, ?, ?)", "usus") == -1 ||
	    seed_batch_open(&s->roles_b, "INSERT INTO roles (id, server_id,"
	    " name, permissions, position, is_default)"
	    " VALUES (?, ?, '@everyone', ?, 0, 1)", "uus") == -1 ||
	    seed_batch_open(&s->channels_b, "INSERT INTO channels (id,"
	    " server_id, name, created_at) VALUES (?, ?, ?, ?)", "uuss") ==
	    -1 ||
	    seed_batch_open(&s->members_b, "INSERT INTO server_members"
	    " (server_id, user_id, joined_at) VALUES (?, ?, ?)", "uus") ==
	    -1 ||
	    seed_batch_open(&s->dms_b, "INSERT INTO dm_channels (id,"
	    " user1_id, user2_id, created_at) VALUES (?, ?, ?, ?)", "uuus") ==
	    -1 ||
	    seed_batch_open(&s->messages_b, "INSERT INTO messages (id,"
	    " channel_id, author_id, content, created_at)"
	    " VALUES (?, ?, ?, ?, ?)", "uuuss") == -1 ||
	    seed_batch_open(&s->dm_messages_b, "INSERT INTO messages (id,"
	    " dm_channel_id, author_id, content, created_at)"
	    " VALUES (?, ?, ?, ?, ?)", "uuuss") == -1)
		return -1;
	s->messages_b.words = s->dm_messages_b.words = 1;
	return 0;
}

/* Flush and free every batch; -1 if a flush failed. */
static int
seed_batches_close(struct seed *s)
{
	struct seed_batch	*all[] = { &s->users_b, &s->servers_b,
				    &s->roles_b, &s->channels_b, &s->members_b,
				    &s->dms_b, &s->messages_b,
				    &s->dm_messages_b };
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (seed_batch_close(all[i]) == -1)
			rc = -1;
	}
	return rc;
}

/* Read the largest ids in the database; new rows go above them. */
static int
seed_largest(struct seed *s)
{
	struct db_rows	*rows;
	int		 rc;

	if ((rows = db_query(&q_largest, "")) == NULL)
		return -1;
	if ((rc = db_fetch(rows)) == 1) {
		s->user0 = db_u64(rows, 0);
		s->server0 = db_u64(rows, 1);
		s->role0 = db_u64(rows, 2);
		s->channel0 = db_u64(rows, 3);
		s->dm0 = db_u64(rows, 4);
		s->message0 = db_u64(rows, 5);
	}
	db_rows_free(rows);
	return rc == 1 ? 0 : -1;
}

/* The users: seed_user_<id>, all with the same password hash. */
static int
seed_users(struct seed *s)
{
	char		name[64], email[96], when[32];
	uint64_t	id;
	long		i;

	for (i = 0; i < s->users; i++) {
		id = s->user0 + 1 + (uint64_t)i;
		snprintf(name, sizeof name, "seed_user_%llu",
		    (unsigned long long)id);
		snprintf(email, sizeof email, "%s@seed.example.com", name);
		seed_time(s->now_ms - 2 * SEED_SPAN_MS + i * 1000LL, when,
		    sizeof when);
		if (seed_batch_add(&s->users_b, id, name, email, s->hash,
		    when, when) == -1)
			return -1;
	}
	return 0;
}

/* Add a member to a server (and its row); 0 if already one. */
static int
seed_join(struct seed *s, struct seed_server *sv, uint64_t user)
{
	char	when[32];
	size_t	i;

	for (i = 0; i < sv->nmembers; i++) {
		if (sv->members[i] == user)
			return 0;
	}
	if (sv->nmembers == sv->cap) {
		sv->cap = sv->cap == 0 ? 16 : sv->cap * 2;
		sv->members = xreallocarray(sv->members, sv->cap,
		    sizeof *sv->members);
	}
	sv->members[sv->nmembers++] = user;
	seed_time(s->now_ms - SEED_SPAN_MS - 3600000LL, when, sizeof when);
	return seed_batch_add(&s->members_b, sv->id, user, when);
}

/* A random seeded user's id. */
static uint64_t
seed_any_user(struct seed *s)
{
	return s->user0 + 1 + seed_below(s, (size_t)s->users);
}

/* One server: its row, default role, owner's membership and channels. */
static int
seed_server(struct seed *s, size_t i, const char *name, int nchannels,
    char *perms)
{
	struct seed_server	*sv = &s->servers[i];
	static const char	*names[] = { "general", "random", "dev",
				    "music", "games", "off-topic" };
	char			 when[32], cname[32];
	uint64_t		 owner = seed_any_user(s);
	int			 k;

	sv->id = s->server0 + 1 + i;
	seed_time(s->now_ms - SEED_SPAN_MS - 7200000LL, when, sizeof when);
	if (seed_batch_add(&s->servers_b, sv->id, name, owner, when) == -1 ||
	    seed_batch_add(&s->roles_b, s->role0 + 1 + i, sv->id, perms) ==
	    -1 || seed_join(s, sv, owner) == -1)
		return -1;
	for (k = 0; k < nchannels; k++) {
		s->channels[s->nchannels].id = s->channel0 + 1 + s->nchannels;
		s->channels[s->nchannels].server = i;
		snprintf(cname, sizeof cname, "%s", nchannels == 1 && i ==
		    (size_t)s->nservers ? SEED_BIG_CHANNEL : names[k]);
		if (seed_batch_add(&s->channels_b,
		    s->channels[s->nchannels].id, sv->id, cname, when) == -1)
			return -1;
		s->nchannels++;
	}
	return 0;
}

/*
 * The servers and their channels, then the members: each user joins a
 * few servers, the popular ones more often; the big server, if any, gets
 * its own members.
 */
static int
seed_servers(struct seed *s)
{
	char	*perms, name[64];
	size_t	 i, total = (size_t)s->nservers + (s->big > 0);
	long	 u;
	int	 k, joins;

	s->servers = xcalloc(total, sizeof *s->servers);
	s->channels = xcalloc(total * SEED_CHANNELS + 1, sizeof *s->channels);
	perms = perm_to_text(PERM_DEFAULT_ROLE);
	for (i = 0; i < (size_t)s->nservers; i++) {
		snprintf(name, sizeof name, "Seed server %zu", i + 1);
		if (seed_server(s, i, name, 1 + (int)seed_below(s,
		    SEED_CHANNELS), perms) == -1)
			goto fail;
	}
	if (s->big > 0) {
		s->big_channel = s->nchannels;
		if (seed_server(s, (size_t)s->nservers, SEED_BIG_SERVER, 1,
		    perms) == -1)
			goto fail;
		for (k = 0; k < SEED_BIG_MEMBERS && k < s->users; k++) {
			if (seed_join(s, &s->servers[s->nservers],
			    seed_any_user(s)) == -1)
				goto fail;
		}
	}
	s->server_cdf = seed_zipf(s, (size_t)s->nservers);
	for (u = 0; u < s->users; u++) {
		joins = 1 + (int)seed_below(s, SEED_MEMBERSHIPS);
		for (k = 0; k < joins; k++) {
			i = seed_pick(s, s->server_cdf, (size_t)s->nservers);
			if (seed_join(s, &s->servers[i], s->user0 + 1 +
			    (uint64_t)u) == -1)
				goto fail;
		}
	}
	s->channel_cdf = seed_zipf(s, (size_t)(s->nchannels - (s->big > 0)));
	free(perms);
	return 0;
fail:
	free(perms);
	return -1;
}

/* DM channels between random pairs of users, one per two users. */
static int
seed_dms(struct seed *s)
{
	char		when[32];
	uint64_t	a, b;
	size_t		i, want = (size_t)s->users / 2;

	if (s->users < 2)
		return 0;
	s->dms = xcalloc(want, sizeof *s->dms);
	seed_time(s->now_ms - SEED_SPAN_MS, when, sizeof when);
	for (i = 0; i < want; i++) {
		/* Pair user k with a later one: no pair comes twice. */
		a = s->user0 + 1 + (uint64_t)(2 * i);
		b = a + 1 + seed_below(s, (size_t)s->users - 2 * i - 1);
		s->dms[i][0] = a;
		s->dms[i][1] = b;
		if (seed_batch_add(&s->dms_b, s->dm0 + 1 + i, a, b, when) == -1)
			return -1;
	}
	s->ndms = want;
	return 0;
}

/* Some chat text: 1 to 30 words, now and then longer. */
static void
seed_text(struct seed *s, char *buf, size_t size)
{
	size_t	n, i, used = 0;
	int	w;

	n = 1 + seed_below(s, 30);
	if (seed_below(s, 50) == 0)
		n += 100 + seed_below(s, 300);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		w = snprintf(buf + used, size - used, "%s%s", i > 0 ? " " : "",
		    seed_words[seed_below(s, SEED_NWORDS)]);
		if (w < 0 || (size_t)w >= size - used)
			break;
		used += (size_t)w;
	}
}

/* One message: in the big channel, a DM or a channel chosen by busyness. */
static int
seed_message(struct seed *s, uint64_t id, int big, const char *when)
{
	const struct seed_channel	*c;
	const struct seed_server	*sv;
	char				 text[4096];
	size_t				 d;

	seed_text(s, text, sizeof text);
	if (!big && s->ndms > 0 && seed_below(s, SEED_DM_SHARE) == 0) {
		d = seed_below(s, s->ndms);
		return seed_batch_add(&s->dm_messages_b, id, s->dm0 + 1 + d,
		    s->dms[d][seed_below(s, 2)], text, when);
	}
	c = big ? &s->channels[s->big_channel] : &s->channels[seed_pick(s,
	    s->channel_cdf, s->nchannels - (s->big > 0))];
	sv = &s->servers[c->server];
	return seed_batch_add(&s->messages_b, id, c->id,
	    sv->members[seed_below(s, sv->nmembers)], text, when);
}

/*
 * The messages, ids and times ascending together over the last 60 days;
 * the big channel's share is interleaved with the rest.
 */
static int
seed_messages(struct seed *s)
{
	long long	total = s->messages + s->big, i, big_left = s->big;
	char		when[32];
	int		big;

	if (total == 0)
		return 0;
	/* The word index takes each message's server from its channel row. */
	if (seed_batch_flush(&s->channels_b) == -1)
		return -1;
	for (i = 0; i < total; i++) {
		big = (long long)seed_below(s, (size_t)(total - i)) < big_left;
		big_left -= big;
		seed_time(s->now_ms - SEED_SPAN_MS + i * (SEED_SPAN_MS /
		    total), when, sizeof when);
		if (seed_message(s, s->message0 + 1 + (uint64_t)i, big,
		    when) == -1)
			return -1;
		if ((i + 1) % SEED_PROGRESS == 0)
			log_info("seed: %lld of %lld messages", i + 1, total);
	}
	return 0;
}

/* Read the options; -1 (usage printed) when they are wrong. */
static int
seed_options(struct seed *s, int argc, char **argv)
{
	static const struct option	opts[] = {
		{ "users", required_argument, NULL, 'u' },
		{ "servers", required_argument, NULL, 's' },
		{ "messages", required_argument, NULL, 'm' },
		{ "big-channel", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	char				*end;
	long				 v;
	int				 ch;

	s->users = 5000;
	s->nservers = 300;
	s->messages = 1000000;
	s->big = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (ch == '?' || optarg == NULL)
			goto usage;
		v = strtol(optarg, &end, 10);
		if (*end != '\0' || v < 0 || v > 100000000)
			goto usage;
		if (ch == 'u')
			s->users = v;
		else if (ch == 's')
			s->nservers = v;
		else if (ch == 'm')
			s->messages = v;
		else
			s->big = v;
	}
	if (optind != argc || s->users < 1 || s->nservers < 1)
		goto usage;
	return 0;
usage:
	fprintf(stderr, "usage: sohbetctl seed [--users N (>= 1)] [--servers "
	    "N (>= 1)] [--messages N] [--big-channel N]\n");
	return -1;
}

/* Free what a run holds. */
static void
seed_free(struct seed *s)
{
	long	i;

	for (i = 0; s->servers != NULL && i <= s->nservers; i++) {
		if (i < s->nservers || s->big > 0)
			free(s->servers[i].members);
	}
	free(s->servers);
	free(s->channels);
	free(s->channel_cdf);
	free(s->server_cdf);
	free(s->dms);
	free(s->hash);
}

/* Print what was seeded and what to do next. */
static void
seed_report(struct seed *s, double seconds)
{
	printf("seeded in %.1f s: %lld users (seed_user_%llu ..., password "
	    "\"%s\"), %lld servers, %lld channels, %lld memberships, %lld DM "
	    "channels, %lld messages (ids %llu..%llu)\n", seconds,
	    s->users_b.total, (unsigned long long)s->user0 + 1, SEED_PASSWORD,
	    s->servers_b.total, s->channels_b.total, s->members_b.total,
	    s->dms_b.total, s->messages_b.total + s->dm_messages_b.total,
	    (unsigned long long)s->message0 + 1,
	    (unsigned long long)(s->message0 + (uint64_t)(s->messages +
	    s->big)));
	if (s->big > 0)
		printf("big channel: id %llu (\"%s\" in \"%s\", server %llu), "
		    "%ld messages\n", (unsigned long long)
		    s->channels[s->big_channel].id, SEED_BIG_CHANNEL,
		    SEED_BIG_SERVER, (unsigned long long)
		    s->servers[s->nservers].id, s->big);
	printf("restart sohbetd now: it resumes its message ids from the "
	    "database only when it starts\n");
}

/*
 * sohbetctl seed [--users N] [--servers N] [--messages N]
 * [--big-channel N]: 0 or -1.
 */
int
seed_run(int argc, char **argv)
{
	struct seed	s;
	struct timespec	t0, t1;
	int		rc = -1;

	memset(&s, 0, sizeof s);
	if (seed_options(&s, argc, argv) == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_REALTIME, &t1);
	s.now_ms = (long long)t1.tv_sec * 1000 + t1.tv_nsec / 1000000;
	s.rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)s.now_ms;
	if ((s.hash = password_hash(SEED_PASSWORD, strlen(SEED_PASSWORD))) ==
	    NULL || db_connect() == -1 ||
	    db_sql("SET SESSION foreign_key_checks = 0") == -1 ||
	    seed_largest(&s) == -1 || seed_batches_open(&s) == -1)
		goto done;
	if (seed_users(&s) == -1 || seed_servers(&s) == -1 ||
	    seed_dms(&s) == -1 || seed_messages(&s) == -1)
		goto done;
	if (seed_batches_close(&s) == -1 ||
	    db_exec(&q_sequence, "u", s.message0 + (uint64_t)(s.messages +
	    s.big)) == -1)
		goto done;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	seed_report(&s, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	rc = 0;
done:
	seed_batches_close(&s);
	seed_free(&s);
	return rc;
}
