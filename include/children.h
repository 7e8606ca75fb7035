/*
 * children.h - how a supervising process (tsa-fcgi's, tsa-signer's listener) ends its
 * children: SIGTERM to each (they finish what is in flight), 10 s for all, then SIGKILL.
 */
#ifndef TSA_CHILDREN_H
#define TSA_CHILDREN_H

#include <stddef.h>
#include <sys/types.h>

#define CHILDREN_STOP_SECONDS	10

/* Stops the children in pids (0: no child in that slot) and reaps them; `what` names them
 * in the log ("workers", "signing processes"). */
void	children_stop(const pid_t *pids, size_t n, const char *what);

#endif
