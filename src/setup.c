/* SPDX-License-Identifier: ISC */
/*
 * setup.c: `sohbetctl setup-db`, the database set-up of an installation
 * (the Debian package's postinst runs it).  It connects to the local
 * MariaDB as root through its unix socket (Debian's root logs in by
 * unix_socket authentication), creates the database sohbet and the user
 * 'sohbet'@'localhost' with a random password, grants it everything on
 * sohbet.* and nothing else, and writes the password into the [database]
 * section of the secret file the configuration includes.
 *
 * It is idempotent: when the configured password already logs in, it
 * does nothing, so running it again never breaks a working installation.
 *
 * No global privilege is granted.  The master KILLs a dead worker's
 * connection and waits until information_schema.PROCESSLIST lists it no
 * more; both connections belong to the same user, and MariaDB lets a user
 * see and kill its own connections without PROCESS or CONNECTION ADMIN
 * (checked on 10.11).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>
#include <mysqld_error.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "sohbet.h"

#define SETUP_ADMIN_SOCKET	"/run/mysqld/mysqld.sock"
#define SETUP_SECRET_NAME	"secret.conf"
#define SETUP_DATABASE		"sohbet"
#define SETUP_USER		"sohbet"
#define SETUP_PASSWORD_LEN	32
#define SETUP_SECRET_MAX	(64 * 1024)

/*
 * MariaDB cannot take the password of CREATE USER, ALTER USER or SET
 * PASSWORD as a statement parameter (PREPARE rejects "IDENTIFIED BY ?"
 * as a syntax error on 10.11).  So the password is generated from
 * [A-Za-z0-9] only, checked again before use, and only then placed
 * between the quotes of the statement: no other input ever reaches SQL.
 */
static const char setup_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static const char setup_sql_database[] =
    "CREATE DATABASE IF NOT EXISTS " SETUP_DATABASE
    " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci";
static const char setup_sql_create[] =
    "CREATE USER IF NOT EXISTS '" SETUP_USER "'@'localhost' IDENTIFIED BY '%s'";
static const char setup_sql_alter[] =
    "ALTER USER '" SETUP_USER "'@'localhost' IDENTIFIED BY '%s'";
static const char setup_sql_grant[] =
    "GRANT ALL PRIVILEGES ON " SETUP_DATABASE ".* TO '" SETUP_USER
    "'@'localhost'";

/*
 * Open a connection with the configured timeouts; NULL with the reason in
 * why and the error number in *err.
 */
static MYSQL *
setup_connect(const struct config *c, const char *user, const char *password,
    const char *socket, const char *database, char *why, size_t whysz,
    unsigned int *err)
{
	MYSQL		*m;
	unsigned int	 connect_timeout, read_timeout, write_timeout;
	const char	*host = c->db_host;

	*err = 0;
	if ((m = mysql_init(NULL)) == NULL) {
		snprintf(why, whysz, "mysql_init failed");
		return NULL;
	}
	connect_timeout = (unsigned int)c->db_connect_timeout;
	read_timeout = (unsigned int)c->db_read_timeout;
	write_timeout = (unsigned int)c->db_write_timeout;
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &write_timeout);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (socket != NULL)
		host = NULL;
	if (mysql_real_connect(m, host, user, password, database, c->db_port,
	    socket, 0) == NULL) {
		snprintf(why, whysz, "%s", mysql_error(m));
		*err = mysql_errno(m);
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* The socket the configuration connects through, or NULL for TCP. */
static const char *
setup_config_socket(const struct config *c)
{
	if (c->db_socket != NULL && *c->db_socket != '\0')
		return c->db_socket;
	return NULL;
}

/*
 * Whether the configured user and password log in to the database: 1 they
 * do, 0 the server refuses them (or there is no password), -1 it cannot
 * tell (the server is down, or busy), with the reason in why.
 */
static int
setup_login_works(const struct config *c, char *why, size_t whysz)
{
	MYSQL		*m;
	unsigned int	 err;

	if (c->db_password == NULL || *c->db_password == '\0') {
		snprintf(why, whysz, "no password is configured");
		return 0;
	}
	m = setup_connect(c, c->db_user, c->db_password,
	    setup_config_socket(c), c->db_name, why, whysz, &err);
	if (m != NULL) {
		mysql_close(m);
		return 1;
	}
	switch (err) {
	case ER_ACCESS_DENIED_ERROR:
	case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
	case ER_BAD_DB_ERROR:
		return 0;
	}
	return -1;
}

/* 1 if the configuration reaches the database through the local socket. */
static int
setup_is_local(const struct config *c)
{
	return setup_config_socket(c) != NULL ||
	    strcmp(c->db_host, "localhost") == 0;
}

/* Fill buf with a random password of [A-Za-z0-9] and a NUL; 0 or -1. */
static int
setup_password(char *buf, size_t len)
{
	unsigned char	 rnd[64];
	size_t		 n = 0, i;
	const size_t	 nalpha = sizeof setup_alphabet - 1;

	while (n < len) {
		if (RAND_bytes(rnd, sizeof rnd) != 1) {
			log_warnx("%s: RAND_bytes failed", __func__);
			return -1;
		}
		/* Rejecting bytes above a multiple of 62 keeps it uniform. */
		for (i = 0; i < sizeof rnd && n < len; i++) {
			if (rnd[i] < 256 - 256 % nalpha)
				buf[n++] = setup_alphabet[rnd[i] % nalpha];
		}
	}
	buf[n] = '\0';
	OPENSSL_cleanse(rnd, sizeof rnd);
	return 0;
}

/* 1 if a password holds only characters of the safe alphabet. */
static int
setup_password_safe(const char *pw)
{
	return *pw != '\0' && strspn(pw, setup_alphabet) == strlen(pw);
}

/* Read a whole file of at most SETUP_SECRET_MAX bytes; NULL on error. */
static char *
setup_read_file(const char *path, struct stat *st)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if (fstat(fileno(f), st) == -1) {
		log_warn("%s", path);
		goto fail;
	}
	if (!S_ISREG(st->st_mode) || st->st_size > SETUP_SECRET_MAX) {
		log_warnx("%s: not a regular file of at most %d bytes", path,
		    SETUP_SECRET_MAX);
		goto fail;
	}
	buf = xmalloc((size_t)st->st_size + 1);
	n = fread(buf, 1, (size_t)st->st_size, f);
	if (ferror(f)) {
		log_warn("%s", path);
		free(buf);
		buf = NULL;
		goto fail;
	}
	buf[n] = '\0';
fail:
	fclose(f);
	return buf;
}

/* 1 if line (up to its newline) is the section header of name. */
static int
setup_is_section(const char *line, size_t len, const char *name)
{
	size_t	nlen = strlen(name);

	while (len > 0 && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	return len == nlen + 2 && line[0] == '[' && line[len - 1] == ']' &&
	    strncmp(line + 1, name, nlen) == 0;
}

/* 1 if line (up to its newline) sets key, else 0. */
static int
setup_is_key(const char *line, size_t len, const char *key)
{
	size_t	klen = strlen(key);

	while (len > 0 && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	if (len < klen || strncmp(line, key, klen) != 0)
		return 0;
	line += klen;
	len -= klen;
	while (len > 0 && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	return len > 0 && *line == '=';
}

/*
 * The secret file's text with "password = pw" in its [database] section:
 * an existing password line replaced, else one added below the section
 * header, else a new section appended.  The caller frees it.
 */
static char *
setup_secret_text(const char *old, const char *pw)
{
	const char	*line, *nl;
	char		*out = NULL;
	size_t		 len, outsz = 0;
	FILE		*f;
	int		 in_db = 0, found = 0;

	if ((f = open_memstream(&out, &outsz)) == NULL)
		fatal("open_memstream");
	for (line = old; *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		nl = nl != NULL ? nl + 1 : line + strlen(line);
		len = (size_t)(nl - line);
		if (line[strspn(line, " \t")] == '[')
			in_db = 0;
		if (in_db && setup_is_key(line, len, "password"))
			continue;
		fwrite(line, 1, len, f);
		if (setup_is_section(line, len, "database")) {
			if (line[len - 1] != '\n')
				fputc('\n', f);
			fprintf(f, "password = %s\n", pw);
			in_db = found = 1;
		}
	}
	if (!found) {
		if (*old != '\0' && old[strlen(old) - 1] != '\n')
			fputc('\n', f);
		fprintf(f, "%s[database]\npassword = %s\n",
		    *old != '\0' ? "\n" : "", pw);
	}
	if (fclose(f) != 0)
		fatal("open_memstream");
	return out;
}

/*
 * Write the password into the secret file: a new file with the old one's
 * owner and mode, renamed over it.  0 or -1.
 */
static int
setup_secret_write(const char *path, const char *pw)
{
	struct stat	 st;
	char		*old, *text, *tmp = NULL;
	int		 fd = -1, rc = -1;
	size_t		 len;

	if ((old = setup_read_file(path, &st)) == NULL)
		return -1;
	text = setup_secret_text(old, pw);
	xasprintf(&tmp, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		log_warn("%s", tmp);
		goto fail;
	}
	if (fchown(fd, st.st_uid, st.st_gid) == -1 ||
	    fchmod(fd, st.st_mode & 07777) == -1) {
		log_warn("%s", tmp);
		goto fail;
	}
	len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) == -1) {
		log_warn("%s", tmp);
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		log_warn("%s", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		log_warn("rename %s", path);
		goto fail;
	}
	rc = 0;
fail:
	if (fd != -1)
		close(fd);
	if (rc == -1 && tmp != NULL)
		unlink(tmp);
	OPENSSL_cleanse(text, strlen(text));
	OPENSSL_cleanse(old, strlen(old));
	free(text);
	free(old);
	free(tmp);
	return rc;
}

/* Run one statement on the admin connection; 0 or -1 (logged). */
static int
setup_sql(MYSQL *m, const char *sql, const char *what)
{
	if (mysql_real_query(m, sql, strlen(sql)) != 0) {
		log_warnx("%s: %s", what, mysql_error(m));
		return -1;
	}
	return 0;
}

/* Create the database and the user with password pw; 0 or -1. */
static int
setup_create(MYSQL *m, const char *pw)
{
	char	sql[256];
	int	rc = -1;

	if (!setup_password_safe(pw)) {
		log_warnx("%s: refusing a password outside [A-Za-z0-9]",
		    __func__);
		return -1;
	}
	if (setup_sql(m, setup_sql_database, "create database") == -1)
		goto fail;
	snprintf(sql, sizeof sql, setup_sql_create, pw);
	if (setup_sql(m, sql, "create user") == -1)
		goto fail;
	/* The user may have existed with another password. */
	snprintf(sql, sizeof sql, setup_sql_alter, pw);
	if (setup_sql(m, sql, "set password") == -1)
		goto fail;
	if (setup_sql(m, setup_sql_grant, "grant") == -1)
		goto fail;
	rc = 0;
fail:
	OPENSSL_cleanse(sql, sizeof sql);
	return rc;
}

/*
 * Read the configuration again, as sohbetd will: 0 if it holds password
 * pw, and then, when login is set, if that password logs in; else -1.
 */
static int
setup_check(const char *pw, int login)
{
	struct config	 c;
	char		 why[512];
	int		 rc = -1;

	config_init(&c);
	if (config_load(&c, cfg->path) == -1)
		goto fail;
	if (c.db_password == NULL || strcmp(c.db_password, pw) != 0) {
		log_warnx("%s does not read the new password: it must include "
		    "the secret file (include = ...) after its own [database] "
		    "keys", cfg->path);
		goto fail;
	}
	if (login && setup_login_works(&c, why, sizeof why) != 1) {
		log_warnx("the new password does not log in: %s", why);
		goto fail;
	}
	rc = 0;
fail:
	config_clear(&c);
	return rc;
}

/* The default secret file: secret.conf next to the configuration. */
static char *
setup_default_secret(void)
{
	const char	*slash;
	char		*path;

	if ((slash = strrchr(cfg->path, '/')) == NULL)
		return xstrdup(SETUP_SECRET_NAME);
	xasprintf(&path, "%.*s/%s", (int)(slash - cfg->path), cfg->path,
	    SETUP_SECRET_NAME);
	return path;
}

/* Print how to call setup-db; always -1. */
static int
setup_usage(void)
{
	fprintf(stderr, "usage: sohbetctl [-c config] setup-db "
	    "[--admin-socket PATH] [--secret-file PATH]\n");
	return -1;
}

/*
 * sohbetctl setup-db: create the database and its user unless the
 * configured password already works.  0 or -1.
 */
int
setup_run(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "admin-socket", required_argument, NULL, 'a' },
		{ "secret-file", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char			*admin = SETUP_ADMIN_SOCKET;
	char				*secret = NULL;
	char				 pw[SETUP_PASSWORD_LEN + 1], why[512];
	MYSQL				*m = NULL;
	unsigned int			 err;
	int				 ch, rc = -1;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			admin = optarg;
			break;
		case 's':
			free(secret);
			secret = xstrdup(optarg);
			break;
		default:
			free(secret);
			return setup_usage();
		}
	}
	if (optind != argc) {
		free(secret);
		return setup_usage();
	}
	if (secret == NULL)
		secret = setup_default_secret();

	/*
	 * Only a refused login leads to a new password: a server that is
	 * down or busy says nothing about the password sohbetd runs with.
	 */
	switch (setup_login_works(cfg, why, sizeof why)) {
	case 1:
		log_info("the configured password of %s works: nothing to do",
		    cfg->db_user);
		rc = 0;
		goto fail;
	case -1:
		log_warnx("cannot check the configured login: %s", why);
		goto fail;
	}
	log_info("the configured login does not work (%s): setting up the "
	    "database", why);
	if (strcmp(cfg->db_name, SETUP_DATABASE) != 0 ||
	    strcmp(cfg->db_user, SETUP_USER) != 0 || !setup_is_local(cfg)) {
		log_warnx("setup-db only sets up database \"%s\" and user "
		    "\"%s\" on the local MariaDB (socket, or host localhost); "
		    "create other set-ups by hand (sohbetctl(8))",
		    SETUP_DATABASE, SETUP_USER);
		goto fail;
	}
	m = setup_connect(cfg, "root", NULL, admin, NULL, why, sizeof why,
	    &err);
	if (m == NULL) {
		log_warnx("cannot connect to MariaDB as root through %s: %s",
		    admin, why);
		goto fail;
	}
	if (setup_password(pw, sizeof pw - 1) == -1)
		goto fail;
	/*
	 * The file first, and checked to be the one the configuration
	 * reads, before the server's user changes: if a later step fails,
	 * the next run finds a password that does not work and starts over.
	 */
	if (setup_secret_write(secret, pw) == -1 || setup_check(pw, 0) == -1)
		goto fail;
	if (setup_create(m, pw) == -1 || setup_check(pw, 1) == -1)
		goto fail;
	log_info("database %s and user %s@localhost are ready; the password is "
	    "in %s", SETUP_DATABASE, SETUP_USER, secret);
	rc = 0;
fail:
	if (m != NULL)
		mysql_close(m);
	OPENSSL_cleanse(pw, sizeof pw);
	free(secret);
	return rc;
}
