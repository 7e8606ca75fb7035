/*
 * signerd.h - the parts of tsa-signer (main.c: the listener that holds no key; serve.c: one
 * connection's orders, in a process of its own that holds the keys).
 */
#ifndef TSA_SIGNERD_H
#define TSA_SIGNERD_H

#include <sys/types.h>

#include "conf.h"

/* At most this many connections per peer process (a worker needs one), and in all. */
#define SIGNER_MAX_PER_PEER	4
#define SIGNER_MAX_CHILDREN	256
/* Once an order's first byte came, the rest within this; an answer taken within this. */
#define SIGNER_ORDER_TIMEOUT_MS	10000

/* Serves the orders of one connection until the peer closes it, it fails, or SIGTERM; in a
 * forked child.  Returns the exit status. */
int	signer_serve(int conn, pid_t peer, const struct tsa_conf *conf);

#endif
