/*
 * tokens.c - recording issued tokens and events (see store.h); every event row's parameters,
 * whoever writes it, are made here (event_params).  A token row is inserted and
 * committed (autocommit, synchronous_commit as the server has it) before the worker answers.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "log.h"
#include "store.h"
#include "text.h"

/* Only a well-formed address goes into the inet column; anything else would fail the row. */
static const char *
valid_addr(const char *a)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (a == NULL)
		return NULL;
	if (inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1)
		return a;
	return NULL;
}

int
tokens_record(struct db *db, const struct token_record *t)
{
	char serial[64], when[48], sid[24], pid[24];
	const char *values[14];
	int lengths[14] = { 0 }, formats[14] = { 0 };
	struct tm tm;
	PGconn *c;
	PGresult *r;
	int rc = -1, attempt;

	if ((c = db_conn(db)) == NULL)
		return -1;
	if (bytes_to_decimal(t->serial, t->serial_len, serial, sizeof(serial)) == -1 ||
	    gmtime_r(&t->gen_time.tv_sec, &tm) == NULL)
		return -1;
	snprintf(when, sizeof(when), "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    t->gen_time.tv_nsec / 1000);
	snprintf(sid, sizeof(sid), "%ld", t->service_id);
	snprintf(pid, sizeof(pid), "%ld", t->policy_id);
	values[0] = serial;
	values[1] = when;
	values[2] = sid;
	values[3] = pid;
	values[4] = t->service;
	values[5] = t->policy_oid;
	values[6] = t->protocol;
	values[7] = t->hash_alg;
	values[8] = (const char *)t->imprint;
	lengths[8] = (int)t->imprint_len;
	formats[8] = 1;
	values[9] = (const char *)t->nonce;
	lengths[9] = (int)t->nonce_len;
	formats[9] = 1;
	values[10] = valid_addr(t->requester);
	values[11] = t->client_identity;
	values[12] = (const char *)t->token;
	lengths[12] = (int)t->token_len;
	formats[12] = 1;
	values[13] = (const char *)t->request;
	lengths[13] = (int)t->request_len;
	formats[13] = 1;
	/*
	 * A connection found dead (the server restarted since the last request) is replaced and
	 * the insert tried once more.  Should the lost connection have committed the row after
	 * all, the retry meets the serial and the caller signs anew: a row may then exist for a
	 * token never answered, never the reverse.
	 */
	for (attempt = 0; attempt < 2 && rc == -1; attempt++) {
		const char *state;
		int lost;

		if (attempt > 0 && (c = db_conn(db)) == NULL)
			break;
		r = PQexecPrepared(c, "insert_token", 14, values, lengths, formats, 0);
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (PQresultStatus(r) == PGRES_COMMAND_OK)
			rc = 0;
		else if (state != NULL && strcmp(state, "23505") == 0) {
			rc = 1;	/* unique_violation: the serial exists */
		} else {
			lost = PQstatus(c) != CONNECTION_OK;
			log_msg(LOG_ERR, "recording token %s: %s", serial, PQerrorMessage(c));
			db_failed(db, r);
			if (!lost) {
				PQclear(r);
				break;
			}
		}
		PQclear(r);
	}
	return rc;
}

void
event_params(struct event_params *ep, const char *severity, const char *kind,
    const char *service, const char *requester, const char *detail, long count)
{
	if (service != NULL)
		text_clean(ep->service, sizeof(ep->service), service);
	text_clean(ep->detail, sizeof(ep->detail), detail != NULL ? detail : "");
	snprintf(ep->count, sizeof(ep->count), "%ld", count > 0 ? count : 1);
	ep->values[0] = severity;
	ep->values[1] = kind;
	ep->values[2] = service != NULL ? ep->service : NULL;
	ep->values[3] = valid_addr(requester);
	ep->values[4] = ep->detail;
	ep->values[5] = ep->count;
}

int
events_record(struct db *db, const char *severity, const char *kind, const char *service,
    const char *requester, const char *detail, long count)
{
	struct event_params ep;
	PGconn *c;
	PGresult *r;
	int rc = -1;

	if ((c = db_conn(db)) == NULL)
		return -1;
	event_params(&ep, severity, kind, service, requester, detail, count);
	r = PQexecPrepared(c, "insert_event", EVENT_NPARAMS, ep.values, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		rc = 0;
	else
		db_failed(db, r);
	PQclear(r);
	return rc;
}
