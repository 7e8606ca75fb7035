/*
 * ops.h - the operations endpoints a worker answers itself, selected by the web server with
 * the FastCGI param TSA_OPS (no TSA_SERVICE): "health" (200 only when this machine can issue
 * a token now: configuration loaded, database reachable, signers usable, every policy's clock
 * gate passing; else 503, the body naming each check) and "metrics" (Prometheus text 0.0.4:
 * the machine-wide counters of metrics.h and what this worker sees now).
 */
#ifndef TSA_OPS_H
#define TSA_OPS_H

#include "handler.h"

/* How long the database check may take, milliseconds. */
#define OPS_DB_TIMEOUT_MS	1000

/* Answers GET TSA_OPS=what: health, metrics, else 404; other methods 405. */
void	ops_handle(struct worker *w, const char *what, const char *method,
	    struct http_response *resp);

#endif
