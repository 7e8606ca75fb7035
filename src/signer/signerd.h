/*
 * signerd.h - the parts of tsa-signer (main.c: the supervisor that holds no key; serve.c: a
 * signing process, which holds the keys and serves many workers' connections).
 */
#ifndef TSA_SIGNERD_H
#define TSA_SIGNERD_H

#include <sys/types.h>

#include "conf.h"

/* At most this many connections per peer process (a worker needs one), and in all, in each
 * signing process. */
#define SIGNER_MAX_PER_PEER	4
#define SIGNER_MAX_CONNECTIONS	128
/* Once an order's first byte came, the rest within this; an answer taken within this. */
#define SIGNER_ORDER_TIMEOUT_MS	10000
/* A connection that sent an order this recently is busy: its worker's next order is likely
 * a moment away, and a round waits for it up to batch_wait (serve.c, gather). */
#define SIGNER_BUSY_US		10000

#define SIGNER_MAX_PROCESSES	64

/*
 * What the signing processes share (a MAP_SHARED mapping made before they are forked): how
 * many connections each holds, so that only the least loaded ones accept and the workers
 * spread evenly over them.  Each writes its own count; the supervisor zeroes a dead one's.
 */
struct signer_pool {
	size_t		n;
	unsigned	conns[SIGNER_MAX_PROCESSES];
};

/* Signing process number me of pool: accepts connections on lfd (non-blocking, shared with
 * its siblings) and serves their orders until SIGTERM; in a forked child.  Returns the exit
 * status. */
int	signer_serve(int lfd, const struct tsa_conf *conf, struct signer_pool *pool, size_t me);

#endif
