/*
 * clock.h - the time-quality gate of ETSI EN 319 421 (7.7.2): is the clock synchronised, is
 * its estimated error within the accuracy the token states, is a leap second near.  The
 * kernel's view comes from ntp_adjtime(3) (STA_UNSYNC, esterror, maxerror, TIME_INS/TIME_DEL).
 * For tests a status file stands in for the kernel (documented in the README, never for
 * production): lines `key=value` with unsync=0|1, esterror_us=N, maxerror_us=N,
 * leap=none|insert|delete, seconds_to_midnight=N (the gate's idea of the time of day).
 */
#ifndef TSA_CLOCK_H
#define TSA_CLOCK_H

#include "request.h"

enum clock_leap_mode {
	CLOCK_LEAP_NONE,	/* issue through a leap second */
	CLOCK_LEAP_PAUSE,	/* refuse from 2 s before to 2 s after the leap */
	CLOCK_LEAP_STOP,	/* refuse through the last minute of the day and the first after */
};

struct clock_gate {
	enum clock_leap_mode	 leap_mode;
	long			 max_error_us;	/* 0: the token's stated accuracy */
	char			*status_file;	/* test-only source; NULL: the kernel */
};

struct clock_status {
	int	unsync;
	long	esterror_us;
	long	maxerror_us;
	int	leap;			/* 0 none, 1 insert, -1 delete */
	long	seconds_to_midnight;	/* UTC */
};

/* Reads the kernel's status, or the status file.  0, or -1 (file unreadable or malformed). */
int	clock_read(const char *status_file, struct clock_status *st);
/*
 * 0 when a token may be issued with the given accuracy, else -1 with ref (timeNotAvailable).
 * A change between synchronised and not (per worker process) is reported through
 * clock_take_event() so the caller can record it.
 */
int	clock_check(const struct clock_gate *g, unsigned long accuracy_us,
	    struct tsa_refusal *ref);
/* 1 with kind and detail when the gate's verdict changed since the last call, else 0. */
int	clock_take_event(const char **kind, char *detail, size_t len);

#endif
