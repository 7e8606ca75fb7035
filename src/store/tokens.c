/*
 * tokens.c - recording issued tokens and events (see store.h); every event row's parameters,
 * whoever writes it, are made here (event_params).  Token rows are recorded in batches, one
 * transaction and one commit each (synchronous_commit as the server has it), before the
 * signer answers any token of the batch; a commit whose outcome is unknown (no answer within
 * database_timeout, or a warning that the wait for the synchronous standby was cancelled)
 * answers none of them.  Each token row's statement also appends the token's leaf to the
 * token log's queue (tlog.h, schema 011), so a token is never recorded without its leaf, nor
 * a leaf without its token.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "bytes.h"
#include "log.h"
#include "store.h"
#include "text.h"
#include "tlog.h"

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

#define TOKEN_NPARAMS	17

/* The parameters of insert_token for one row, into buffers of p's own. */
struct row_params {
	char		 serial[64], when[48], sid[24], pid[24];
	unsigned char	 leaf[TLOG_MAX_LEAF];
	const char	*values[TOKEN_NPARAMS];
	int		 lengths[TOKEN_NPARAMS], formats[TOKEN_NPARAMS];
};

/* The token's log leaf (tlog.h) into p->leaf: its length, or 0. */
static size_t
row_leaf(struct row_params *p, const struct token_record *t)
{
	struct tlog_leaf l;

	memset(&l, 0, sizeof(l));
	if (t->issued == NULL || t->serial_len > sizeof(l.serial) ||
	    t->imprint_len > sizeof(l.imprint) || strlen(t->hash_alg) >= sizeof(l.hash_alg) ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, t->issued, t->issued_len, l.token_hash) < 0)
		return 0;
	memcpy(l.serial, t->serial, t->serial_len);
	l.serial_len = t->serial_len;
	/* As gen_time is stored: microseconds, truncated. */
	l.gen_time_us = (int64_t)t->gen_time.tv_sec * 1000000 + t->gen_time.tv_nsec / 1000;
	snprintf(l.hash_alg, sizeof(l.hash_alg), "%s", t->hash_alg);
	memcpy(l.imprint, t->imprint, t->imprint_len);
	l.imprint_len = t->imprint_len;
	return tlog_leaf_encode(&l, p->leaf);
}

static int
row_params(struct row_params *p, const struct token_record *t)
{
	struct tm tm;
	size_t leaf_len;

	memset(p->lengths, 0, sizeof(p->lengths));
	memset(p->formats, 0, sizeof(p->formats));
	if (bytes_to_decimal(t->serial, t->serial_len, p->serial, sizeof(p->serial)) == -1 ||
	    gmtime_r(&t->gen_time.tv_sec, &tm) == NULL)
		return -1;
	snprintf(p->when, sizeof(p->when), "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    t->gen_time.tv_nsec / 1000);
	if ((leaf_len = row_leaf(p, t)) == 0)
		return -1;
	snprintf(p->sid, sizeof(p->sid), "%ld", t->service_id);
	snprintf(p->pid, sizeof(p->pid), "%ld", t->policy_id);
	p->values[0] = p->serial;
	p->values[1] = p->when;
	p->values[2] = p->sid;
	p->values[3] = p->pid;
	p->values[4] = t->service;
	p->values[5] = t->policy_oid;
	p->values[6] = t->protocol;
	p->values[7] = t->hash_alg;
	p->values[8] = (const char *)t->imprint;
	p->lengths[8] = (int)t->imprint_len;
	p->formats[8] = 1;
	p->values[9] = (const char *)t->nonce;
	p->lengths[9] = (int)t->nonce_len;
	p->formats[9] = 1;
	p->values[10] = valid_addr(t->requester);
	p->values[11] = t->client_identity;
	p->values[12] = (const char *)t->token;
	p->lengths[12] = (int)t->token_len;
	p->formats[12] = 1;
	p->values[13] = (const char *)t->request;
	p->lengths[13] = (int)t->request_len;
	p->formats[13] = 1;
	p->values[14] = t->signer;
	p->values[15] = t->host;
	p->values[16] = (const char *)p->leaf;
	p->lengths[16] = (int)leaf_len;
	p->formats[16] = 1;
	return 0;
}

/*
 * One attempt: an insert per row, then a sync, sent as one pipeline: the inserts before the
 * sync are one implicit transaction (committed at the sync when none failed, rolled back
 * otherwise), so the batch costs one round trip, one commit and one WAL flush.  An insert
 * that meets an existing serial inserts nothing (ON CONFLICT DO NOTHING: "INSERT 0 0"), so a
 * collision fails only its row.  Every wait ends by deadline.
 *
 * Returns RECORD_OK when the batch committed; RECORD_FAILED when it did not (nothing of it
 * committed); RECORD_LOST when the connection failed (it must be dropped; whether the
 * commit happened is unknown, so a retry may meet the serials); RECORD_UNKNOWN when the
 * commit outlived the deadline or the server warned while committing: a commit that waits
 * for a synchronous standby is never cancelled (a cancelled wait reports success with a
 * WARNING while the row is on one node only), so such a batch is neither answered nor
 * retried, and the connection is dropped.
 */
enum record_outcome { RECORD_OK, RECORD_FAILED, RECORD_LOST, RECORD_UNKNOWN };

static enum record_outcome
record_once(PGconn *c, const struct row_params *p, size_t n, int *exists, long long deadline)
{
	PGresult *r;
	ExecStatusType st;
	unsigned warned = pgb_warnings(c);
	char err[256];
	size_t i;
	int ok = 1;

	if (PQenterPipelineMode(c) != 1)
		return RECORD_LOST;
	for (i = 0; i < n; i++)
		if (PQsendQueryPrepared(c, "insert_token", TOKEN_NPARAMS, p[i].values, p[i].lengths,
		    p[i].formats, 0) != 1)
			return RECORD_LOST;
	if (PQpipelineSync(c) != 1)
		return RECORD_LOST;
	/* Each insert: its result, then a NULL; then the sync's. */
	for (i = 0; i < n; i++) {
		if (pgb_result(c, deadline, &r, err, sizeof(err)) == -1)
			goto unanswered;
		if (r == NULL)
			return RECORD_LOST;
		st = PQresultStatus(r);
		if (st == PGRES_COMMAND_OK)
			exists[i] = strcmp(PQcmdTuples(r), "0") == 0;
		else {
			char why[256];

			snprintf(why, sizeof(why), "%s", PQresultErrorMessage(r));
			why[strcspn(why, "\n")] = '\0';
			if (ok && st != PGRES_PIPELINE_ABORTED)
				log_msg(LOG_ERR, "recording %zu tokens: %s", n, why);
			ok = 0;
		}
		PQclear(r);
		if (st == PGRES_PIPELINE_SYNC)
			return RECORD_LOST;
		if (pgb_result(c, deadline, &r, err, sizeof(err)) == -1)
			goto unanswered;
		if (r != NULL) {
			PQclear(r);
			return RECORD_LOST;
		}
	}
	/* The sync's result comes once the commit is durable, on the standby too when the
	 * server waits for one: this is the wait that must never be cut short and read as done. */
	if (pgb_result(c, deadline, &r, err, sizeof(err)) == -1)
		goto unanswered;
	st = PQresultStatus(r);
	PQclear(r);
	if (st != PGRES_PIPELINE_SYNC || PQexitPipelineMode(c) != 1)
		return RECORD_LOST;
	if (ok && pgb_warnings(c) != warned) {
		log_msg(LOG_ERR, "recording %zu tokens: the server warned while committing (%s): "
		    "outcome unknown, none answered", n, pgb_last_warning(c));
		return RECORD_UNKNOWN;
	}
	return ok ? RECORD_OK : RECORD_FAILED;
unanswered:
	if (PQstatus(c) != CONNECTION_OK)
		return RECORD_LOST;
	log_msg(LOG_ERR, "recording %zu tokens: %s (a commit waiting for a synchronous standby?): "
	    "outcome unknown, none answered, the connection dropped", n, err);
	return RECORD_UNKNOWN;
}

int
tokens_record_batch(struct db *db, const struct token_record *t, size_t n, int *exists)
{
	struct row_params *p;
	long long wait_until = pgb_now_ms() + db->wait_ms;
	PGconn *c;
	size_t i;
	int rc = -1, attempt;

	if (n == 0)
		return 0;
	if ((p = calloc(n, sizeof(*p))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (row_params(&p[i], &t[i]) == -1)
			goto out;
	/*
	 * No connection: one is awaited up to database_wait (a restart, a failover to another
	 * host).  A connection found dead (the server restarted since the last batch) is
	 * replaced and the batch tried once more.  Should the lost connection have committed it
	 * after all, the retry meets the serials and the caller signs those tokens anew: a row
	 * may then exist for a token never answered, never the reverse.  A batch whose outcome
	 * is unknown for any other reason (no answer within database_timeout, a warning at
	 * commit) is refused as it stands.
	 */
	for (attempt = 0; attempt < 2 && rc == -1; attempt++) {
		enum record_outcome o;

		if ((c = db_conn_wait(db, wait_until)) == NULL)
			break;
		memset(exists, 0, n * sizeof(*exists));
		o = record_once(c, p, n, exists, pgb_now_ms() + db->timeout_ms);
		if (o == RECORD_OK) {
			rc = 0;
			break;
		}
		if (o == RECORD_FAILED && PQstatus(c) == CONNECTION_OK &&
		    PQpipelineStatus(c) == PQ_PIPELINE_OFF)
			break;		/* refused by the server, the connection usable */
		/* Of no further use: lost, broken, mid-pipeline, or its last commit unknown. */
		db_drop(db);
		db->next_try = 0;
		if (o == RECORD_UNKNOWN) {
			rc = -2;
			break;
		}
	}
out:
	free(p);
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
	char why[256];
	int rc = -1;

	if ((c = db_conn(db)) == NULL)
		return -1;
	event_params(&ep, severity, kind, service, requester, detail, count);
	/* Bounded: an event (no token in it) may be given up, its connection then dropped. */
	r = pgb_exec(c, NULL, "insert_event", EVENT_NPARAMS, ep.values, NULL, NULL,
	    pgb_deadline(c), why, sizeof(why));
	if (r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK)
		rc = 0;
	else
		db_failed(db, r);
	PQclear(r);
	return rc;
}
