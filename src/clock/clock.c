/*
 * clock.c - the time-quality gate (see clock.h).  Input: the kernel's timex status, or an
 * operator-written status file in tests (bounded, strict key=value lines).
 * Standard: ETSI EN 319 421 7.7.2 (clock within its stated accuracy, leap seconds handled,
 * loss of synchronisation detected and logged).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "clock.h"

static int last_ok = -1, event_pending;
static char event_detail[256];

static int
parse_long(const char *v, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	return errno == 0 && end != v && (*end == '\0' || *end == '\n') ? 0 : -1;
}

static int
read_file(const char *path, struct clock_status *st)
{
	char line[128];
	FILE *f;
	int rc = 0, lines = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL && ++lines <= 16) {
		char *eq = strchr(line, '='), *v;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (eq == NULL) {
			rc = -1;
			break;
		}
		*eq = '\0';
		v = eq + 1;
		if (strcmp(line, "unsync") == 0) {
			long u;

			rc = parse_long(v, &u);
			st->unsync = u != 0;
		} else if (strcmp(line, "esterror_us") == 0)
			rc = parse_long(v, &st->esterror_us);
		else if (strcmp(line, "maxerror_us") == 0)
			rc = parse_long(v, &st->maxerror_us);
		else if (strcmp(line, "seconds_to_midnight") == 0)
			rc = parse_long(v, &st->seconds_to_midnight);
		else if (strcmp(line, "leap") == 0)
			st->leap = strncmp(v, "insert", 6) == 0 ? 1 :
			    strncmp(v, "delete", 6) == 0 ? -1 : strncmp(v, "none", 4) == 0 ? 0 : 2;
		else
			rc = -1;
		if (st->leap == 2)
			rc = -1;
	}
	fclose(f);
	return rc;
}

int
clock_read(const char *status_file, struct clock_status *st)
{
	struct timex tx;
	struct timespec now;
	int state;

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_REALTIME, &now);
	st->seconds_to_midnight = 86400 - now.tv_sec % 86400;
	if (status_file != NULL)
		return read_file(status_file, st);
	memset(&tx, 0, sizeof(tx));
	if ((state = ntp_adjtime(&tx)) == -1)
		return -1;
	st->unsync = (tx.status & STA_UNSYNC) != 0 || state == TIME_ERROR;
	st->esterror_us = tx.esterror;
	st->maxerror_us = tx.maxerror;
	st->leap = (tx.status & STA_INS) ? 1 : (tx.status & STA_DEL) ? -1 : 0;
	return 0;
}

static void
note(int ok, const char *detail)
{
	/* A worker that starts unsynchronised records the loss; one that starts well, nothing. */
	if (ok != last_ok && !(last_ok == -1 && ok)) {
		snprintf(event_detail, sizeof(event_detail), "%s", detail);
		event_pending = ok ? 1 : 2;
	}
	last_ok = ok;
}

int
clock_check(const struct clock_gate *g, unsigned long accuracy_us, struct tsa_refusal *ref)
{
	struct clock_status st;
	long limit = g->max_error_us > 0 ? g->max_error_us : (long)accuracy_us;
	long window;

	if (clock_read(g->status_file, &st) == -1) {
		note(0, "clock status unreadable");
		tsa_refuse(ref, TSA_FAIL_TIME_NOT_AVAILABLE, "time source not available",
		    "EN 319 421 7.7.2: clock status unreadable");
		return -1;
	}
	if (st.unsync || st.esterror_us > limit || st.maxerror_us > limit) {
		char d[200];

		snprintf(d, sizeof(d), "clock %s, estimated error %ld us, maximum error %ld us, "
		    "limit %ld us", st.unsync ? "unsynchronised" : "synchronised", st.esterror_us,
		    st.maxerror_us, limit);
		note(0, d);
		tsa_refuse(ref, TSA_FAIL_TIME_NOT_AVAILABLE, "time source not available",
		    "EN 319 421 7.7.2: %s", d);
		return -1;
	}
	note(1, "clock synchronised within the stated accuracy");
	/* A leap second is inserted or deleted at midnight UTC at the end of the day. */
	window = g->leap_mode == CLOCK_LEAP_PAUSE ? 2 : g->leap_mode == CLOCK_LEAP_STOP ? 60 : 0;
	if (st.leap != 0 && window > 0 &&
	    (st.seconds_to_midnight <= window || st.seconds_to_midnight >= 86400 - window)) {
		int before = st.seconds_to_midnight <= window;

		tsa_refuse(ref, TSA_FAIL_TIME_NOT_AVAILABLE, "time source not available",
		    "EN 319 421 7.7.2: leap second %s at midnight UTC, %ld s %s (leap %s)",
		    st.leap > 0 ? "inserted" : "deleted", before ? st.seconds_to_midnight :
		    86400 - st.seconds_to_midnight, before ? "from now" : "ago",
		    g->leap_mode == CLOCK_LEAP_PAUSE ? "pause" : "stop");
		return -1;
	}
	return 0;
}

int
clock_take_event(const char **kind, char *detail, size_t len)
{
	if (!event_pending)
		return 0;
	*kind = event_pending == 1 ? "clock-sync-recovered" : "clock-sync-lost";
	snprintf(detail, len, "%s", event_detail);
	event_pending = 0;
	return 1;
}
