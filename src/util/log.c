/*
 * log.c - one line per event on standard error (see log.h).  The message is cleaned
 * (text.h) after formatting, whatever its arguments: a newline or any other control
 * character a peer got into a detail shows as an escape, never as a line of its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "text.h"
#include "tsa_limits.h"

static const char *prog = "tsa";

void
log_init(const char *progname)
{
	prog = progname;
}

void
log_msg(int level, const char *fmt, ...)
{
	char line[TSA_MAX_LOG_LINE], msg[TSA_MAX_LOG_LINE], when[32];
	struct timespec ts;
	struct tm tm;
	const char *lvl;
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	switch (level) {
	case LOG_ERR:		lvl = "error"; break;
	case LOG_WARNING:	lvl = "warning"; break;
	case LOG_INFO:		lvl = "info"; break;
	default:		lvl = "debug"; break;
	}
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s[%d] %s: ", when,
	    ts.tv_nsec / 1000000, prog, (int)getpid(), lvl);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Room for the newline: the header is under 100 bytes, far below the line's size. */
	if (n > 0 && (size_t)n < sizeof(line) - 1)
		text_clean(line + n, sizeof(line) - 1 - (size_t)n, msg);
	/* One write per line so that lines of concurrent workers do not interleave. */
	n = (int)strnlen(line, sizeof(line) - 2);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
