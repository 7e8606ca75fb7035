/*
 * metrics.h - the counters behind GET /metrics, summed over every worker process of the
 * machine: one MAP_SHARED|MAP_ANONYMOUS region, mapped by the supervisor before it forks, so
 * every worker (and every replacement of a worker) adds to the same totals with atomics.
 * Bounded: a fixed number of label slots per family; labels that find no slot are counted
 * under service "other", and what finds no slot even then in tsa_metrics_dropped_total.
 * Rendered in the Prometheus text exposition format 0.0.4.
 *
 * Every function is a no-op (or renders nothing but what it is given) when metrics_init()
 * was not called: the unit tests of the pipeline run without the region.
 */
#ifndef TSA_METRICS_H
#define TSA_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* The protocol label: the three protocols, and "none" for what was refused before the
 * protocol was known (405, 413, 415). */
enum metrics_proto {
	METRICS_PROTO_RFC3161,
	METRICS_PROTO_SOAP,
	METRICS_PROTO_AUTHENTICODE,
	METRICS_PROTO_NONE,
	METRICS_N_PROTO
};

/* The outcome label: granted; rejected (the protocol's own status structure: an RFC 3161
 * rejection, a SOAP StatusInfo); soap_fault; or an HTTP status N >= 100 ("http_N"). */
enum {
	METRICS_GRANTED = 0,
	METRICS_REJECTED = 1,
	METRICS_SOAP_FAULT = 2,
};
/* The fail label: a PKIFailureInfo bit (enum tsa_fail), or METRICS_FAIL_NONE. */
#define METRICS_FAIL_NONE	(-1)

/* Label slots (bounded; the last METRICS_OTHER_SLOTS only for service "other"). */
#define METRICS_REQUEST_SLOTS	512
#define METRICS_OTHER_SLOTS	64
#define METRICS_SIGNER_SLOTS	64
#define METRICS_LABEL_MAX	64	/* a service or signer name, NUL included */

/* Maps the shared region; in the supervisor, before the first fork.  0, or -1 (errno). */
int	metrics_init(void);
/* Unmaps it (tests). */
void	metrics_fini(void);
/* This server's name (tsa.conf's host), a label of every unit's series (signer="...",
 * host="..."); before the first fork.  Unset: no host label. */
void	metrics_set_host(const char *host);

/* One answered request: service (NULL or unknown to the caller: "other"), protocol, outcome,
 * fail, and how long the worker took, in microseconds. */
void	metrics_request(const char *service, enum metrics_proto proto, int outcome, int fail,
	    uint64_t usec);
/* A signature attempt by the named signer (token construction included): ok or not. */
void	metrics_signature(const char *signer, int ok);
/* The last signature result of the named signer: 1 ok, 0 failed, -1 none recorded. */
int	metrics_signer_last_ok(const char *signer);
/* From the supervisor: workers configured and running, and one more restart. */
void	metrics_workers(int configured, int alive);
void	metrics_worker_restarted(void);

/* Appends the shared families (requests, latency, signatures, workers, dropped) to b. */
void	metrics_render(struct sbuf *b);
/* Appends one gauge sample: name{labels} value, with # HELP and # TYPE when help != NULL.
 * labels is already rendered ("" for none); see metrics_label(). */
void	metrics_gauge(struct sbuf *b, const char *name, const char *help, const char *labels,
	    double value);
/* Renders key="value" into out (value escaped as the format requires: \\, \", \n). */
void	metrics_label(char *out, size_t outlen, const char *key, const char *value);
/* The label text of an outcome and a fail (static, or in buf). */
const char *metrics_outcome_name(int outcome, char *buf, size_t len);
const char *metrics_fail_name(int fail);

#endif
