/* SPDX-License-Identifier: ISC */
/*
 * sohbetctl.c: the administration tool,
 *	sohbetctl [-v] [-c config] command [arguments]
 * Each command is one entry of ctl_commands, run with the configuration
 * loaded; it returns 0 or -1 (the exit status is then 0 or 1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#ifndef SOHBET_CONFFILE
#define SOHBET_CONFFILE	"/etc/sohbet/sohbet.conf"
#endif
#ifndef SOHBET_SQLDIR
#define SOHBET_SQLDIR	"/usr/share/sohbet/sql"
#endif

struct ctl_command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*args;
	const char	*help;
};

static int	ctl_migrate(int, char **);
static int	ctl_status(int, char **);

static const struct ctl_command ctl_commands[] = {
	{ "migrate", ctl_migrate, "[--sql-dir DIR]",
	    "apply the pending schema migrations" },
	{ "status", ctl_status, "[--sql-dir DIR]",
	    "show the schema version, how many migrations are pending and the"
	    " version sohbetd needs" },
	{ "seed", seed_run, "[--users N] [--servers N] [--messages N]"
	    " [--big-channel N]", "fill the database with test data (users "
	    "seed_user_<id>, password \"password123\"); restart sohbetd "
	    "after it" },
	{ "files", filestore_run, "[--delete-orphans]",
	    "report the attachment store: its size, orphaned files (no "
	    "attachment row, or left in incoming/) and attachments whose file "
	    "is missing; with --delete-orphans, unlink the orphans older than "
	    "an hour" },
	{ "setup-db", setup_run, "[--admin-socket PATH] [--secret-file PATH]",
	    "create database sohbet and user sohbet on the local MariaDB (as "
	    "root over its socket) with a random password written into the "
	    "secret file (default: secret.conf beside the config); nothing "
	    "to do when the configured password works" },
};

#define CTL_NCOMMANDS	(sizeof ctl_commands / sizeof ctl_commands[0])

/* Print how to call sohbetctl and exit with status 1. */
static void NORETURN
ctl_usage(void)
{
	size_t	i;

	fprintf(stderr, "usage: sohbetctl [-v] [-c config] command"
	    " [arguments]\n(config default: %s)\ncommands:\n",
	    SOHBET_CONFFILE);
	for (i = 0; i < CTL_NCOMMANDS; i++)
		fprintf(stderr, "  %s %s\n      %s\n", ctl_commands[i].name,
		    ctl_commands[i].args, ctl_commands[i].help);
	exit(1);
}

/*
 * The sql directory from a command's arguments: --sql-dir DIR, else the
 * SOHBET_SQLDIR environment variable, else the installed directory.
 * NULL after a usage error.
 */
static const char *
ctl_sqldir(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "sql-dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char			*dir = NULL;
	int				 ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (ch != 'd')
			return NULL;
		dir = optarg;
	}
	if (optind != argc)
		return NULL;
	if (dir == NULL)
		dir = getenv("SOHBET_SQLDIR");
	if (dir == NULL || *dir == '\0')
		dir = SOHBET_SQLDIR;
	return dir;
}

/* sohbetctl migrate: apply what is pending. */
static int
ctl_migrate(int argc, char **argv)
{
	const char	*dir;

	if ((dir = ctl_sqldir(argc, argv)) == NULL)
		ctl_usage();
	return migrate_run(dir);
}

/*
 * sohbetctl status: the schema version, the pending migrations, whether
 * the stored routines are those of routines.sql, and the version this
 * build of sohbetd needs.
 */
static int
ctl_status(int argc, char **argv)
{
	const char	*dir, *routines;
	unsigned int	 version;
	int		 pending;

	if ((dir = ctl_sqldir(argc, argv)) == NULL)
		ctl_usage();
	if (migrate_version(&version) == -1 ||
	    migrate_pending(dir, &pending) == -1 ||
	    migrate_routines_pending(dir, &routines) == -1)
		return -1;
	printf("database: %s\n", cfg->db_name);
	printf("schema version: %u\n", version);
	printf("pending migrations: %d (in %s)\n", pending, dir);
	if (routines != NULL || pending > 0)
		printf("stored routines: to be created again from routines.sql"
		    " (%s)\n", routines != NULL ? routines :
		    "migrations are pending");
	else
		printf("stored routines: as routines.sql defines them\n");
	printf("sohbetd needs schema version: %u%s\n", SCHEMA_VERSION,
	    version < SCHEMA_VERSION ? " (run sohbetctl migrate; until then "
	    "sohbetd refuses to start or answers 503)" : "");
	return 0;
}

int
main(int argc, char **argv)
{
	struct config			 conf;
	const struct ctl_command	*cmd = NULL;
	const char			*path = SOHBET_CONFFILE;
	size_t				 i;
	int				 ch, verbose = 0, rc;

	log_init("sohbetctl", 0);
	while ((ch = getopt(argc, argv, "+c:hv")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			ctl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		ctl_usage();
	for (i = 0; i < CTL_NCOMMANDS; i++) {
		if (strcmp(argv[0], ctl_commands[i].name) == 0)
			cmd = &ctl_commands[i];
	}
	if (cmd == NULL) {
		log_warnx("unknown command: %s", argv[0]);
		ctl_usage();
	}
	log_init("sohbetctl", verbose);

	config_init(&conf);
	if (config_load(&conf, path) == -1) {
		config_clear(&conf);
		return 1;
	}
	cfg = &conf;
	rc = cmd->run(argc, argv);
	db_disconnect();
	cfg = NULL;
	config_clear(&conf);
	return rc == 0 ? 0 : 1;
}
