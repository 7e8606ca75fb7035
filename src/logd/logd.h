/*
 * logd.h - tsa-log's integrator (integrate.c), private to src/logd/.
 *
 * Ownership: integrator_free() closes the connection and frees what integrator_init() set up.
 */
#ifndef TSA_LOGD_H
#define TSA_LOGD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "link.h"
#include "merkle.h"

#define LOGD_BATCH	10000	/* leaves per transaction: about 3 MB of parameters */
#define LOGD_MAX_BATCH	100000
/* A leader whose row was not renewed for this long is presumed gone; the leader renews it in
 * every transaction, at least every LOGD_IDLE_MS. */
#define LOGD_LEASE_S	5
#define LOGD_IDLE_MS	200

struct integrator {
	char			*conninfo;
	long			 connect_ms;	/* tsa.conf database_timeout */
	PGconn			*c;
	char			 holder[128];	/* host:pid, in log_leader.holder */
	long long		 epoch;		/* ours; 0: not the leader */
	int			 loaded;	/* edge holds the committed tree */
	struct merkle_edge	 edge;
	size_t			 batch;
	uint64_t		 integrated;	/* leaves this process integrated */
	struct signer_link	 link;		/* to the signing process: tree heads signed */
};
/* How long a tree head's signature may take (the signer's round, the HSM). */
#define LOGD_SIGN_TIMEOUT_MS	5000

int	integrator_init(struct integrator *in, const char *conninfo, long connect_ms,
	    const char *signer_socket, size_t batch);
/*
 * Leads, integrates and publishes until *stop (or, with once, until the queue is empty).
 * The exit status: 0, or 75 (EX_TEMPFAIL) when once could not finish.
 */
int	integrator_run(struct integrator *in, int once, volatile sig_atomic_t *stop);
void	integrator_free(struct integrator *in);

#endif
