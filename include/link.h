/*
 * link.h - a process's connection to the host's signing process (tsa-signer): one order at a
 * time, answered within a bounded time.  Used by the workers (a token, the units' states for
 * /health and /metrics) and by tsactl status.
 *
 * Ownership: signer_link_close() closes what signer_link_ask() opened; an answer points into
 * the frame the call hands back, the caller's to free.
 */
#ifndef TSA_LINK_H
#define TSA_LINK_H

#include <stddef.h>

#include "order.h"

struct signer_link {
	const char	*path;		/* the signer's unix socket */
	int		 timeout_ms;	/* for one order: sending it and its answer */
	int		 fd;		/* -1: not connected */
};

void	signer_link_init(struct signer_link *l, const char *path, int timeout_ms);
/* Connects now (a worker at its start, so the signer opens the keys before the first
 * request).  0, or -1 (tried again by the next order). */
int	signer_link_connect(struct signer_link *l);
/*
 * Sends o and reads the answer into *a, whose pointers point into *frame (malloc'd, the
 * caller frees it, also on failure).  A kept connection the signer closed since (its process
 * replaced) is reconnected once before the order is sent; once sent, an order is never sent
 * again: a lost answer is a failure.  0, or -1 with why.
 */
int	signer_link_ask(struct signer_link *l, const struct order *o, struct signer_answer *a,
	    unsigned char **frame, char *why, size_t whylen);
void	signer_link_close(struct signer_link *l);

#endif
