/* SPDX-License-Identifier: ISC */
/*
 * log.c: messages to standard error (the journal under systemd), one line
 * each, with the process name and pid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"

static const char	*log_ident = "sohbet";
static int		 log_verbose;

/* Set the name printed on each line and whether debug lines are shown. */
void
log_init(const char *ident, int verbose)
{
	log_ident = ident;
	log_verbose = verbose;
}

/* Write one line: prefix, message and, when err is not 0, its text. */
static void
log_vwrite(const char *level, int err, const char *fmt, va_list ap)
{
	char	buf[1024];

	vsnprintf(buf, sizeof buf, fmt, ap);
	if (err != 0)
		fprintf(stderr, "%s[%ld]: %s%s: %s\n", log_ident,
		    (long)getpid(), level, buf, strerror(err));
	else
		fprintf(stderr, "%s[%ld]: %s%s\n", log_ident, (long)getpid(),
		    level, buf);
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
	log_vwrite("warning: ", saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Log a warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("warning: ", 0, fmt, ap);
	va_end(ap);
}

/* Log an informational line. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("", 0, fmt, ap);
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
	log_vwrite("debug: ", 0, fmt, ap);
	va_end(ap);
}

/* Log a fatal error with the text of errno and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite("fatal: ", saved, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log a fatal error and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("fatal: ", 0, fmt, ap);
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
	log_vwrite("fatal: ", 0, fmt, ap);
	va_end(ap);
	exit(EXIT_CONFIG);
}
