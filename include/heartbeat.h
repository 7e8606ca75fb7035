/*
 * heartbeat.h - tsa-fcgi's supervisor's row of the servers table (src/fcgi/heartbeat.c):
 * host, version, units and a heartbeat every heartbeat_interval seconds (README "Units and
 * hosts", "The fleet").
 *
 * Ownership: heartbeat_free() closes what heartbeat_init() and the beats opened.
 */
#ifndef TSA_HEARTBEAT_H
#define TSA_HEARTBEAT_H

#include <time.h>

#include "conf.h"
#include "link.h"
#include "store.h"

/* The signer's answer and the database's, each, within this: a beat holds the supervisor
 * (which replaces dead workers) at most about twice this, plus a connect's timeout when the
 * database has gone away (db.c). */
#define HEARTBEAT_TIMEOUT_MS	1000

struct heartbeat {
	const struct tsa_conf	*conf;
	struct db		 db;		/* the workers' role (tsa.conf's database) */
	struct signer_link	 link;		/* to this server's signing process */
	time_t			 started;
	int			 failing;	/* the last beat was not written (logged once) */
};

/* 0, or -1 out of memory. */
int	heartbeat_init(struct heartbeat *hb, const struct tsa_conf *conf);
/* Writes the row now: running, with the units the signer reports; stopping: state stopped
 * (the signer not asked).  Failures are logged (once until a beat works again). */
void	heartbeat_beat(struct heartbeat *hb, int stopping);
void	heartbeat_free(struct heartbeat *hb);
/* In a child forked by the supervisor (a worker): closes the inherited descriptors of hb,
 * which stay the supervisor's, and frees nothing else (the child never uses hb). */
void	heartbeat_forget(struct heartbeat *hb);

#endif
