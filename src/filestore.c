/* SPDX-License-Identifier: ISC */
/*
 * filestore.c: `sohbetctl files`, the attachment store seen from the
 * administrator's side (operations.md, Files): where it is, how many
 * files and bytes it holds, and its inconsistencies with the database.
 *
 * An orphan is a file of the store that no attachment row names (its row
 * went with a deleted channel, or a crash came between a delete's commit
 * and its unlink), or a body left in incoming/ (nginx stopped mid-upload).
 * A missing file is a row whose file is gone (a restore of the database
 * newer than the files).  With --delete-orphans the orphans older than
 * an hour are unlinked: younger ones may be uploads in progress, renamed
 * into the store a moment before their row commits.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sohbet.h"

/* Seconds before a file of the store can be an orphan. */
#define FILESTORE_GRACE	3600

static struct db_stmt q_ids = DB_STMT(
    "SELECT id FROM attachments ORDER BY id");

/* Ids, sorted. */
struct filestore_ids {
	uint64_t	*v;
	size_t		 n;
	size_t		 cap;
};

/* Append an id. */
static void
filestore_add(struct filestore_ids *ids, uint64_t id)
{
	if (ids->n == ids->cap) {
		ids->cap = ids->cap == 0 ? 1024 : 2 * ids->cap;
		ids->v = xreallocarray(ids->v, ids->cap, sizeof *ids->v);
	}
	ids->v[ids->n++] = id;
}

/* Order two ids (qsort). */
static int
filestore_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether a sorted list holds an id. */
static int
filestore_has(const struct filestore_ids *ids, uint64_t id)
{
	return ids->n > 0 && bsearch(&id, ids->v, ids->n, sizeof *ids->v,
	    filestore_cmp) != NULL;
}

/* Read every attachment row's id, sorted; 0 or -1. */
static int
filestore_rows(struct filestore_ids *rows)
{
	struct db_rows	*r;
	int		 rc;

	if ((r = db_query(&q_ids, "")) == NULL)
		return -1;
	while ((rc = db_fetch(r)) == 1)
		filestore_add(rows, db_u64(r, 0));
	db_rows_free(r);
	return rc == -1 ? -1 : 0;
}

/*
 * Report one orphan (and unlink it when asked and it is older than the
 * grace period); 1 if it was unlinked, else 0.
 */
static int
filestore_orphan(const char *path, const struct stat *st, int delete)
{
	int	old = time(NULL) - st->st_mtime > FILESTORE_GRACE;

	printf("orphan: %s (%lld bytes%s)\n", path, (long long)st->st_size,
	    old ? "" : ", younger than an hour");
	if (!delete || !old)
		return 0;
	if (unlink(path) == -1) {
		log_warn("unlink %s", path);
		return 0;
	}
	return 1;
}

/*
 * Walk one directory of the store: count its files and bytes, collect the
 * ids of those named by an id into found, and report orphans (every file
 * of incoming/; a file of the store that rows lacks, or is not named by
 * an id).  The number of orphans, or -1 if the directory cannot be read.
 */
static long
filestore_walk(const char *dir, int incoming, const struct filestore_ids *rows,
    struct filestore_ids *found, long long *files, long long *bytes,
    int delete, long *deleted)
{
	struct dirent	*e;
	struct stat	 st;
	DIR		*d;
	char		*path;
	uint64_t	 id;
	long		 orphans = 0;

	if ((d = opendir(dir)) == NULL) {
		log_warn("%s", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		xasprintf(&path, "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		(*files)++;
		*bytes += st.st_size;
		if (!incoming && param_parse_id(e->d_name, &id) == 0) {
			filestore_add(found, id);
			if (filestore_has(rows, id)) {
				free(path);
				continue;
			}
		}
		orphans++;
		*deleted += filestore_orphan(path, &st, delete);
		free(path);
	}
	closedir(d);
	return orphans;
}

/*
 * sohbetctl files [--delete-orphans]: the store's size, its orphans and
 * the rows whose file is missing.  0, or -1 when the store or the
 * database could not be read.
 */
int
filestore_run(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "delete-orphans", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct filestore_ids		 rows = { NULL, 0, 0 };
	struct filestore_ids		 found = { NULL, 0, 0 };
	long long			 files = 0, bytes = 0;
	long				 orphans, more, deleted = 0;
	long				 missing = 0;
	size_t				 i;
	char				*incoming;
	int				 ch, delete = 0, rc = -1;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (ch != 'd') {
			fprintf(stderr, "usage: sohbetctl files "
			    "[--delete-orphans]\n");
			return -1;
		}
		delete = 1;
	}
	if (cfg->files_dir == NULL) {
		log_warnx("no [files] directory in %s", cfg->path);
		return -1;
	}
	if (filestore_rows(&rows) == -1)
		goto done;
	xasprintf(&incoming, "%s/incoming", cfg->files_dir);
	orphans = filestore_walk(cfg->files_dir, 0, &rows, &found, &files,
	    &bytes, delete, &deleted);
	more = filestore_walk(incoming, 1, &rows, &found, &files, &bytes,
	    delete, &deleted);
	free(incoming);
	if (orphans == -1 || more == -1)
		goto done;
	orphans += more;
	if (found.n > 0)
		qsort(found.v, found.n, sizeof *found.v, filestore_cmp);
	for (i = 0; i < rows.n; i++) {
		if (!filestore_has(&found, rows.v[i])) {
			printf("missing: attachment %" PRIu64 " has no file\n",
			    rows.v[i]);
			missing++;
		}
	}
	printf("store: %s\n", cfg->files_dir);
	printf("files: %lld (%lld bytes)\n", files, bytes);
	printf("attachments in the database: %zu\n", rows.n);
	printf("orphaned files: %ld%s\n", orphans, delete ? "" :
	    " (sohbetctl files --delete-orphans removes those older than an "
	    "hour)");
	if (delete)
		printf("deleted: %ld\n", deleted);
	printf("attachments without a file: %ld\n", missing);
	rc = 0;
done:
	free(rows.v);
	free(found.v);
	return rc;
}
