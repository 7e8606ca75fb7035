/*
 * logapi.h - the token log over HTTP, on every service (README "Token log"): GET URL/log/sth,
 * URL/log/proof?serial=DEC, URL/log/consistency?first=N&second=M, URL/log/keys, answered by any worker
 * with the JSON of logjson.h, through a connection of the log's read-only role (tsa.conf
 * log_reader_database), never the worker's own.  The web server selects them with the
 * FastCGI param TSA_OPS = log-sth, log-proof, log-consistency, log-keys.
 */
#ifndef TSA_LOGAPI_H
#define TSA_LOGAPI_H

#include <stdint.h>

#include "handler.h"
#include "logquery.h"


/* The token log's families for /metrics (tree size, the latest head's time, leaves queued
 * and the oldest one's wait), read through the log's read-only connection; nothing when
 * there is none. */
struct sbuf;
void	logapi_metrics(struct worker *w, struct sbuf *b);

/* Answers GET log-what (sth, proof, consistency, keys), else 404; other methods 405. */
void	logapi_handle(struct worker *w, const char *what, const char *method, const char *query,
	    struct http_response *resp);

#endif
