/*
 * refusals.h - repeated refusals, aggregated in each worker so that a client that is refused
 * thousands of times a second costs an event row and a log line a second, not one each.
 *
 * Two refusals are the same when their key is: the event kind, the service, the requester's
 * address and the failure (protocol and failInfo or HTTP status), all of them the worker's
 * words or the web server's, never the peer's text.  The first refusal of a key is emitted at
 * once with count 1; the ones that repeat it are counted, and emitted once the interval
 * (TSA_REFUSAL_INTERVAL_MS) since the last emission has passed, as one row with their count
 * and the text and detail of the first of them.  A key quiet for a whole interval is
 * forgotten, so its next refusal is emitted at once again.  With TSA_REFUSAL_SLOTS keys held,
 * a new key loses its requester (one key per service and failure, "from many addresses"), and
 * should even those be full, everything pending is emitted and the table emptied.  Every
 * refusal is counted exactly once; refusals_flush() at exit emits what is pending.
 *
 * Ownership: the table is a plain value (no allocation); the emitter is the caller's.
 */
#ifndef TSA_REFUSALS_H
#define TSA_REFUSALS_H

#include <time.h>

#include "tsa_limits.h"

/* What makes two refusals the same. */
struct refusal {
	const char	*kind;		/* the event's kind (a literal), or NULL: logged only */
	const char	*severity;	/* the event's severity (a literal) */
	int		 fail;		/* enum tsa_fail, for the log line */
	char		 failure[32];	/* "rfc3161 badAlg", "authenticode 400": the worker's words */
	char		 service[64];	/* the web server's TSA_SERVICE, or "" */
	char		 requester[48];	/* REMOTE_ADDR, or "": unknown or many addresses */
};

/* Called with the key, the text and detail of the first refusal emitted, and how many. */
typedef void	(*refusal_emit)(void *arg, const struct refusal *r, const char *text,
		    const char *detail, long count);

struct refusal_slot {
	struct refusal	 key;
	char		 text[128];
	char		 detail[256];
	long		 pending;	/* counted since the last emission, not yet emitted */
	struct timespec	 since;		/* the last emission (CLOCK_MONOTONIC) */
};

struct refusal_table {
	struct refusal_slot	 slot[TSA_REFUSAL_SLOTS];
	int			 n;
	refusal_emit		 emit;
	void			*arg;
};

void	refusals_init(struct refusal_table *t, refusal_emit emit, void *arg);
/* One refusal at now (CLOCK_MONOTONIC): emitted at once if its key is new, else counted. */
void	refusals_note(struct refusal_table *t, const struct refusal *r, const char *text,
	    const char *detail, const struct timespec *now);
/*
 * Emits the counts whose interval has passed and forgets the keys quiet for one.  Returns the
 * milliseconds until the next count is due, or -1 when none is pending.
 */
long	refusals_tick(struct refusal_table *t, const struct timespec *now);
/* Emits every pending count and empties the table (the worker's exit). */
void	refusals_flush(struct refusal_table *t);

#endif
