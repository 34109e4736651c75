/* SPDX-License-Identifier: ISC */
/*
 * log.c: messages to standard error, one line each, with the process name
 * and pid.  Under the journal (systemd's JOURNAL_STREAM names our standard
 * error) the journal records both for the process that connected the
 * stream, so its lines go without them, and every line starts with its
 * syslog priority ("<4>"), which the journal reads as the line's level.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "sohbet.h"

static const char	*log_ident = "sohbet";
static int		 log_verbose;
static int		 log_journal;	/* stderr is a journal stream */
static pid_t		 log_stream_pid; /* whose pid the journal records */

/* Succeed if standard error is the stream $JOURNAL_STREAM names. */
static int
log_to_journal(void)
{
	const char		*stream;
	struct stat		 sb;
	unsigned long long	 dev, ino;

	if ((stream = getenv("JOURNAL_STREAM")) == NULL ||
	    sscanf(stream, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &sb) == -1)
		return 0;
	return (unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino;
}

/*
 * Set the name printed on each line and whether debug lines are shown.
 * The first call also finds out whether standard error is the journal: a
 * forked process (a worker) calls again with its own name and keeps the
 * answer, and its lines keep their name and pid, which the journal
 * would otherwise give as its parent's.
 */
void
log_init(const char *ident, int verbose)
{
	if (log_stream_pid == 0) {
		log_stream_pid = getpid();
		log_journal = log_to_journal();
	}
	log_ident = ident;
	log_verbose = verbose;
}

/*
 * Write one line: prefix, message and, when err is not 0, its text.  The
 * level is a syslog priority; text is its word ("warning: ").
 */
static void
log_vwrite(int level, const char *text, int err, const char *fmt,
    va_list ap)
{
	char	buf[1024], prefix[128];

	vsnprintf(buf, sizeof buf, fmt, ap);
	if (!log_journal)
		snprintf(prefix, sizeof prefix, "%s[%ld]: %s", log_ident,
		    (long)getpid(), text);
	else if (getpid() == log_stream_pid)
		snprintf(prefix, sizeof prefix, "<%d>%s", level, text);
	else
		snprintf(prefix, sizeof prefix, "<%d>%s[%ld]: %s", level,
		    log_ident, (long)getpid(), text);
	if (err != 0)
		fprintf(stderr, "%s%s: %s\n", prefix, buf, strerror(err));
	else
		fprintf(stderr, "%s%s\n", prefix, buf);
	fflush(stderr);
}

/* Whether debug lines are shown. */
int
log_is_verbose(void)
{
	return log_verbose;
}

/* Log a warning followed by the text of errno. */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, "warning: ", saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Log a warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, "warning: ", 0, fmt, ap);
	va_end(ap);
}

/* Log an informational line. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, "", 0, fmt, ap);
	va_end(ap);
}

/* Log a debugging line, shown only when verbose. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, "debug: ", 0, fmt, ap);
	va_end(ap);
}

/* Log a fatal error with the text of errno and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, "fatal: ", saved, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log a fatal error and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, "fatal: ", 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * Log a fatal error that no restart can mend and exit with EX_CONFIG, a
 * status sohbet.service tells systemd not to restart on.
 */
void
fatalx_config(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, "fatal: ", 0, fmt, ap);
	va_end(ap);
	exit(EXIT_CONFIG);
}
