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

/* A signing process: accepts connections on lfd (non-blocking, shared with its siblings) and
 * serves their orders until SIGTERM; in a forked child.  Returns the exit status. */
int	signer_serve(int lfd, const struct tsa_conf *conf);

#endif
