/* SPDX-License-Identifier: ISC */
/*
 * config.c: the ini-style configuration file.  Every key is declared in one
 * table with its type and bounds; an unknown key, a bad value or a missing
 * required key stops start-up with the file, line and key named.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"

struct config	*cfg;

enum config_type {
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_U64,
	CONFIG_U32,
	CONFIG_OBSOLETE		/* accepted with a warning, no effect */
};

struct config_key {
	const char	*section;
	const char	*name;
	enum config_type type;
	size_t		 offset;
	long long	 min;
	long long	 max;
	int		 required;
};

#define KEY(s, n, t, f, lo, hi, req) \
	{ s, n, t, offsetof(struct config, f), lo, hi, req }

static const struct config_key config_keys[] = {
	KEY("database", "host", CONFIG_STRING, db_host, 0, 0, 0),
	KEY("database", "port", CONFIG_INT, db_port, 1, 65535, 0),
	KEY("database", "socket", CONFIG_STRING, db_socket, 0, 0, 0),
	KEY("database", "user", CONFIG_STRING, db_user, 0, 0, 1),
	KEY("database", "password", CONFIG_STRING, db_password, 0, 0, 0),
	KEY("database", "name", CONFIG_STRING, db_name, 0, 0, 1),
	KEY("database", "connect_timeout", CONFIG_INT, db_connect_timeout,
	    1, 300, 0),
	KEY("database", "read_timeout", CONFIG_INT, db_read_timeout, 1, 3600,
	    0),
	KEY("database", "write_timeout", CONFIG_INT, db_write_timeout, 1,
	    3600, 0),
	KEY("database", "retry_ms", CONFIG_INT, db_retry_ms, 0, 600000, 0),
	KEY("server", "listen", CONFIG_STRING, listen, 0, 0, 0),
	KEY("server", "workers", CONFIG_INT, workers, 0, HUB_SLOTS / 2, 0),
	KEY("server", "shutdown_timeout", CONFIG_INT, shutdown_timeout, 1,
	    600, 0),
	KEY("server", "user", CONFIG_STRING, user, 0, 0, 0),
	KEY("server", "pidfile", CONFIG_STRING, pidfile, 0, 0, 0),
	KEY("server", "max_parked", CONFIG_INT, max_parked, 1, 1000000, 0),
	KEY("server", "max_parked_per_user", CONFIG_INT, max_parked_per_user,
	    1, 1000000, 0),
	KEY("server", "cache_ms", CONFIG_INT, cache_ms, 0, 3600000, 0),
	KEY("server", "listen_group", CONFIG_STRING, listen_group, 0, 0, 0),
	KEY("auth", "token_key", CONFIG_STRING, token_key, 0, 0, 1),
	KEY("auth", "access_ttl", CONFIG_INT, access_ttl, 10, 86400, 0),
	KEY("auth", "refresh_ttl_days", CONFIG_INT, refresh_ttl_days, 1, 365,
	    0),
	KEY("auth", "scrypt_n", CONFIG_U64, scrypt_n, 2, (long long)1 << 24,
	    0),
	KEY("auth", "scrypt_r", CONFIG_U32, scrypt_r, 1, 64, 0),
	KEY("auth", "scrypt_p", CONFIG_U32, scrypt_p, 1, 16, 0),
	KEY("auth", "max_hashes", CONFIG_INT, max_hashes, 1, 64, 0),
	/* Hashing threads, sign-in throttling, refresh grace. */
	KEY("auth", "hash_threads", CONFIG_INT, hash_threads, 1, 16, 0),
	KEY("auth", "hash_queue", CONFIG_INT, hash_queue, 1, 10000, 0),
	KEY("auth", "login_free", CONFIG_INT, login_free, 1, 1000000, 0),
	KEY("auth", "login_decay", CONFIG_INT, login_decay, 1, 86400, 0),
	KEY("auth", "address_free", CONFIG_INT, address_free, 1, 1000000, 0),
	KEY("auth", "address_decay", CONFIG_INT, address_decay, 1, 86400, 0),
	KEY("auth", "login_delay_max", CONFIG_INT, login_delay_max, 1, 86400,
	    0),
	KEY("auth", "refresh_grace", CONFIG_INT, refresh_grace, 0, 60, 0),
	/* The one-hour account lock before throttling by address. */
	{ "auth", "max_failed_logins", CONFIG_OBSOLETE, 0, 0, 0, 0 },
	KEY("events", "sequencer", CONFIG_STRING, sequencer, 0, 0, 0),
	KEY("events", "retention_days", CONFIG_INT, retention_days, 1, 3650,
	    0),
	KEY("events", "cluster_poll_ms", CONFIG_INT, cluster_poll_ms, 0,
	    60000, 0),
	KEY("events", "presence_linger", CONFIG_INT, presence_linger, 1,
	    3600, 0),
	/* [limits]: writes and searches per user, ratelimit.c */
	KEY("limits", "messages_per_second", CONFIG_INT, messages_per_second,
	    0, 1000000, 0),
	KEY("limits", "messages_burst", CONFIG_INT, messages_burst, 1,
	    1000000, 0),
	KEY("limits", "servers_per_hour", CONFIG_INT, servers_per_hour, 0,
	    1000000, 0),
	KEY("limits", "invites_per_hour", CONFIG_INT, invites_per_hour, 0,
	    1000000, 0),
	KEY("limits", "searches_per_minute", CONFIG_INT, searches_per_minute,
	    0, 1000000, 0),
	KEY("limits", "searches_burst", CONFIG_INT, searches_burst, 1,
	    1000000, 0),
	/* [files]: the attachment store, attachments.c */
	KEY("files", "directory", CONFIG_STRING, files_dir, 0, 0, 0),
	KEY("files", "max_size", CONFIG_U64, files_max_size, 1,
	    (long long)1 << 40, 0),
};

#define NKEYS	(sizeof config_keys / sizeof config_keys[0])

/* Fill a configuration with the defaults. */
void
config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->db_host = xstrdup("localhost");
	c->db_port = 3306;
	c->db_connect_timeout = 2;
	c->db_read_timeout = 10;
	c->db_write_timeout = 10;
	c->db_retry_ms = 8000;
	c->workers = 0;
	c->shutdown_timeout = 10;
	c->max_parked = 10000;
	c->max_parked_per_user = 20;
	c->cache_ms = 1000;
	c->access_ttl = 900;
	c->refresh_ttl_days = 30;
	c->scrypt_n = 131072;
	c->scrypt_r = 8;
	c->scrypt_p = 1;
	c->max_hashes = 2;
	c->hash_threads = 1;
	c->hash_queue = 8;
	c->login_free = 5;
	c->login_decay = 300;
	c->address_free = 100;
	c->address_decay = 30;
	c->login_delay_max = 300;
	c->refresh_grace = 5;
	c->sequencer = xstrdup("shm");
	c->files_max_size = 25 * 1024 * 1024;
	c->retention_days = 7;
	c->cluster_poll_ms = 0;
	c->presence_linger = 45;
	/* [limits] */
	c->messages_per_second = 5;
	c->messages_burst = 10;
	c->servers_per_hour = 10;
	c->invites_per_hour = 50;
	c->searches_per_minute = 20;
	c->searches_burst = 10;
}

/* Forget the places to reach the database. */
static void
config_db_places_clear(struct config *c)
{
	size_t	i;

	for (i = 0; i < c->db_nplaces; i++) {
		free(c->db_places[i].host);
		free(c->db_places[i].socket);
	}
	memset(c->db_places, 0, sizeof c->db_places);
	c->db_nplaces = 0;
}

/*
 * Read one entry of host's list into a place: "/path" (a socket),
 * "name", "name:port", "[v6 address]" or "[v6 address]:port"; a bare
 * IPv6 address has no port.  0, or -1 if the port is not one.
 */
static int
config_db_place(struct config_db_place *p, const char *s, size_t len,
    unsigned int default_port)
{
	const char	*host = s, *colon = NULL, *end = s + len;
	size_t		 hostlen = len;
	char		 digits[8], *e;
	long		 port;

	memset(p, 0, sizeof *p);
	if (*s == '/') {
		p->socket = xstrndup(s, len);
		return 0;
	}
	if (*s == '[' && (colon = memchr(s, ']', len)) != NULL) {
		host = s + 1;
		hostlen = (size_t)(colon - host);
		colon = colon + 1 < end && colon[1] == ':' ? colon + 1 : NULL;
	} else if ((colon = memchr(s, ':', len)) != NULL &&
	    memchr(colon + 1, ':', (size_t)(end - colon - 1)) == NULL)
		hostlen = (size_t)(colon - s);
	else
		colon = NULL;
	p->port = default_port;
	if (colon != NULL) {
		if ((size_t)(end - colon - 1) >= sizeof digits ||
		    end == colon + 1)
			return -1;
		memcpy(digits, colon + 1, (size_t)(end - colon - 1));
		digits[end - colon - 1] = '\0';
		port = strtol(digits, &e, 10);
		if (*e != '\0' || port < 1 || port > 65535)
			return -1;
		p->port = (unsigned int)port;
	}
	if (hostlen == 0)
		return -1;
	p->host = xstrndup(host, hostlen);
	return 0;
}

/*
 * Make the list of places to reach the database from socket, or else
 * from host: names separated by commas or spaces, tried in this order
 * (db.c).  0, or -1 with the reason logged.
 */
static int
config_db_places(struct config *c, const char *path)
{
	const char	*s = c->db_host, *end;
	size_t		 len;

	config_db_places_clear(c);
	if (c->db_socket != NULL && *c->db_socket != '\0') {
		c->db_places[0].socket = xstrdup(c->db_socket);
		c->db_nplaces = 1;
		return 0;
	}
	for (; s != NULL && *s != '\0'; s = end) {
		s += strspn(s, ", \t");
		if ((len = strcspn(s, ", \t")) == 0)
			break;
		end = s + len;
		if (c->db_nplaces == CONFIG_DB_PLACES_MAX) {
			log_warnx("%s: key \"host\" in [database] lists more "
			    "than %d hosts", path, CONFIG_DB_PLACES_MAX);
			return -1;
		}
		if (config_db_place(&c->db_places[c->db_nplaces], s, len,
		    c->db_port) == -1) {
			log_warnx("%s: key \"host\" in [database]: \"%.*s\" is "
			    "not host, host:port or /socket", path, (int)len, s);
			return -1;
		}
		c->db_nplaces++;
	}
	if (c->db_nplaces == 0) {
		log_warnx("%s: key \"host\" in [database] is empty", path);
		return -1;
	}
	/*
	 * The shm sequencer settles a transaction whose connection was lost
	 * by KILLing that connection's thread id, which names a connection
	 * only on the server it was made to: after a failover it could name
	 * another.
	 */
	if (c->db_nplaces > 1 && strcmp(c->sequencer, "db") != 0) {
		log_warnx("%s: key \"host\" in [database] lists several "
		    "places: that needs sequencer = db in [events]", path);
		return -1;
	}
	return 0;
}

/* Free the strings a configuration holds. */
void
config_clear(struct config *c)
{
	size_t	i;

	for (i = 0; i < NKEYS; i++) {
		if (config_keys[i].type == CONFIG_STRING)
			free(*(char **)((char *)c + config_keys[i].offset));
	}
	config_db_places_clear(c);
	free(c->path);
	memset(c, 0, sizeof *c);
}

/* The number of workers to run: the configured one, else one per CPU. */
int
config_workers(const struct config *c)
{
	long	n;

	if (c->workers > 0)
		return c->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > HUB_SLOTS / 2)
		n = HUB_SLOTS / 2;
	return (int)n;
}

/* Strip leading and trailing white space in place. */
static char *
config_trim(char *s)
{
	char	*end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Cut a value at an unquoted " #" or " ;" comment and remove quotes. */
static char *
config_unquote(char *v)
{
	char	*p;
	size_t	 len;

	len = strlen(v);
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v[len - 1] = '\0';
		return v + 1;
	}
	for (p = v; *p != '\0'; p++) {
		if ((*p == '#' || *p == ';') && p > v &&
		    isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	}
	return config_trim(v);
}

/* Find the table entry of section.name, or NULL. */
static const struct config_key *
config_find(const char *section, const char *name)
{
	size_t	i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

/* Store one value into the configuration; -1 if it is not valid. */
static int
config_set(struct config *c, const struct config_key *k, const char *value)
{
	void		*field = (char *)c + k->offset;
	long long	 n;
	char		*end;

	if (k->type == CONFIG_OBSOLETE) {
		log_warnx("%s: key \"%s\" in [%s] no longer has an effect; "
		    "remove it (see sohbet.conf(5))", c->path != NULL ?
		    c->path : "configuration", k->name, k->section);
		return 0;
	}
	if (k->type == CONFIG_STRING) {
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	}
	errno = 0;
	n = strtoll(value, &end, 10);
	if (*value == '\0' || *end != '\0' || errno != 0 || n < k->min ||
	    n > k->max)
		return -1;
	switch (k->type) {
	case CONFIG_INT:
		*(int *)field = (int)n;
		break;
	case CONFIG_U64:
		*(uint64_t *)field = (uint64_t)n;
		break;
	case CONFIG_U32:
		*(uint32_t *)field = (uint32_t)n;
		break;
	default:
		break;
	}
	return 0;
}

/* Check the values that depend on each other or on a format. */
static int
config_check(const struct config *c, const char *path)
{
	size_t	i, len;

	for (i = 0; i < NKEYS; i++) {
		if (config_keys[i].required && config_keys[i].type ==
		    CONFIG_STRING && *(char **)((const char *)c +
		    config_keys[i].offset) == NULL) {
			log_warnx("%s: missing key \"%s\" in [%s]", path,
			    config_keys[i].name, config_keys[i].section);
			return -1;
		}
	}
	len = strlen(c->token_key);
	if (len < 64 || len % 2 != 0 ||
	    strspn(c->token_key, "0123456789abcdefABCDEF") != len) {
		log_warnx("%s: key \"token_key\" in [auth] must be at least 64 "
		    "hex digits (32 random bytes)", path);
		return -1;
	}
	if (strcmp(c->sequencer, "shm") != 0 &&
	    strcmp(c->sequencer, "db") != 0) {
		log_warnx("%s: key \"sequencer\" in [events] must be shm or db",
		    path);
		return -1;
	}
	if ((c->scrypt_n & (c->scrypt_n - 1)) != 0) {
		log_warnx("%s: key \"scrypt_n\" in [auth] must be a power of 2",
		    path);
		return -1;
	}
	return 0;
}

static int	config_read(struct config *, const char *, int);

/* Parse one line; -1 (logged) if it is not valid. */
static int
config_line(struct config *c, char *line, char *section, size_t sectionsz,
    const char *path, unsigned int lineno, int depth)
{
	const struct config_key	*k;
	char			*p, *eq, *name, *value;

	p = config_trim(line);
	if (*p == '\0' || *p == '#' || *p == ';')
		return 0;
	if (*p == '[') {
		if (p[strlen(p) - 1] != ']' || strlen(p) - 2 >= sectionsz ||
		    strlen(p) < 3) {
			log_warnx("%s:%u: bad section header", path, lineno);
			return -1;
		}
		p[strlen(p) - 1] = '\0';
		snprintf(section, sectionsz, "%s", p + 1);
		return 0;
	}
	if ((eq = strchr(p, '=')) == NULL) {
		log_warnx("%s:%u: expected key = value", path, lineno);
		return -1;
	}
	*eq = '\0';
	name = config_trim(p);
	value = config_unquote(config_trim(eq + 1));
	if (strcmp(name, "include") == 0) {
		/* Secrets live in a file of their own (debian/postinst). */
		if (depth >= 2) {
			log_warnx("%s:%u: includes nest too deep", path, lineno);
			return -1;
		}
		return config_read(c, value, depth + 1);
	}
	if ((k = config_find(section, name)) == NULL) {
		log_warnx("%s:%u: unknown key \"%s\" in [%s]", path, lineno,
		    name, section);
		return -1;
	}
	if (config_set(c, k, value) == -1) {
		log_warnx("%s:%u: key \"%s\": \"%s\" is not a number from %lld "
		    "to %lld", path, lineno, name, value, k->min, k->max);
		return -1;
	}
	return 0;
}

/* Read one file's keys into c; includes are read where they stand. */
static int
config_read(struct config *c, const char *path, int depth)
{
	FILE		*f;
	char		*line = NULL;
	size_t		 linesz = 0;
	char		 section[32] = "";
	unsigned int	 lineno = 0;
	int		 rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while (getline(&line, &linesz, f) != -1) {
		lineno++;
		if (config_line(c, line, section, sizeof section, path,
		    lineno, depth) == -1)
			goto fail;
	}
	if (ferror(f)) {
		log_warn("%s", path);
		goto fail;
	}
	rc = 0;
fail:
	free(line);
	fclose(f);
	return rc;
}

/* Read a configuration file over the defaults; 0, or -1 with the reason logged. */
int
config_load(struct config *c, const char *path)
{
	free(c->path);
	c->path = xstrdup(path);
	if (config_read(c, path, 0) == -1 || config_check(c, path) == -1)
		return -1;
	return config_db_places(c, path);
}
