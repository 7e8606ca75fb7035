/*
 * logapi.c - GET URL/log/sth, /log/proof, /log/consistency, /log/keys (see logapi.h).  Untrusted input:
 * the query string, parsed strictly and bounded (src/log/query.c) before anything reads the
 * database; the
 * answers come from the log's rows (logstore.c checks their shape) and every proof is
 * verified here before it leaves, so a damaged log answers 500, never a proof that fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logapi.h"
#include "logjson.h"
#include "logkeys.h"
#include "logstore.h"
#include "metrics.h"
#include "strbuf.h"

static void
answer(struct http_response *resp, int status, char *json)
{
	static const char oom[] = "{\"error\":\"out of memory\"}\n";

	resp->status = json != NULL ? status : 500;
	resp->content_type = "application/json";
	if (json == NULL && (json = strdup(oom)) == NULL)
		return;
	resp->body = (unsigned char *)json;
	resp->body_len = strlen(json);
}

static void
error(struct http_response *resp, int status, const char *msg)
{
	struct sbuf b = { 0 };
	unsigned char *out = NULL;
	size_t len;

	/* msg is this file's own text: nothing to escape. */
	sb_printf(&b, "{\"error\":\"%s\"}\n", msg);
	answer(resp, status, sb_done(&b, &out, &len) == 0 ? (char *)out : NULL);
}

/* The read-only connection, made at the first request and after a failure. */
static PGconn *
logconn(struct worker *w)
{
	char why[256];

	if (w->logc != NULL && PQstatus(w->logc) == CONNECTION_OK)
		return w->logc;
	if (w->logc != NULL)
		PQfinish(w->logc);
	w->logc = NULL;
	if (w->conf->log_reader_database == NULL)
		return NULL;
	/* Reads only: connect and each statement bounded by database_timeout. */
	if ((w->logc = db_connect(w->conf->log_reader_database,
	    w->conf->database_timeout * 1000, w->conf->database_timeout * 1000, why,
	    sizeof(why))) == NULL)
		log_msg(LOG_WARNING, "token log unreachable: %s", why);
	return w->logc;
}

/* A failed read: said, and a broken connection dropped for the next request. */
static void
drop(struct worker *w, const char *err)
{
	log_msg(LOG_ERR, "token log: %s", err);
	if (w->logc != NULL && PQstatus(w->logc) != CONNECTION_OK) {
		PQfinish(w->logc);
		w->logc = NULL;
	}
}

static void
failed(struct worker *w, struct http_response *resp, const char *err)
{
	drop(w, err);
	error(resp, 503, "the token log cannot be read now");
}

static void
sth(struct worker *w, PGconn *c, struct http_response *resp)
{
	struct log_head h;
	char err[256];
	int rc;

	if ((rc = logstore_head(c, 1, 0, &h, err, sizeof(err))) == -1)
		failed(w, resp, err);
	else if (rc == 0)
		error(resp, 404, "no tree head yet");
	else
		answer(resp, 200, logjson_sth(&h));
}

static void
proof(struct worker *w, PGconn *c, const char *query, struct http_response *resp)
{
	unsigned char leaf[TLOG_MAX_LEAF];
	merkle_hash path[MERKLE_MAX_PROOF], lh;
	struct log_head h;
	char dec[LOGAPI_MAX_SERIAL + 1], err[256];
	uint64_t index;
	size_t leaf_len, len;
	int rc;

	if (logapi_parse_serial(query, dec, sizeof(dec)) == -1) {
		error(resp, 400, "the query must be serial=DECIMAL");
		return;
	}
	if ((rc = logstore_head(c, 1, 0, &h, err, sizeof(err))) != 1) {
		rc == 0 ? error(resp, 404, "no tree head yet") : failed(w, resp, err);
		return;
	}
	if ((rc = logstore_leaf_by_serial(c, dec, &index, leaf, &leaf_len, err, sizeof(err))) !=
	    1) {
		rc == 0 ? error(resp, 404, "no such serial in the log (yet)") :
		    failed(w, resp, err);
		return;
	}
	if (index >= h.tree_size) {
		error(resp, 404, "not in a tree head yet");
		return;
	}
	if (logstore_inclusion(c, index, h.tree_size, path, &len, err, sizeof(err)) == -1) {
		failed(w, resp, err);
		return;
	}
	if (merkle_leaf_hash(leaf, leaf_len, lh) == -1 ||
	    !merkle_verify_inclusion(index, h.tree_size, lh, path, len, h.root)) {
		log_msg(LOG_ERR, "token log: the inclusion proof of serial %s does not verify"
		    " against the tree head of size %llu", dec, (unsigned long long)h.tree_size);
		error(resp, 500, "the log's proof does not verify");
		return;
	}
	answer(resp, 200, logjson_proof(dec, index, h.tree_size, leaf, leaf_len, path, len));
}

static void
consistency(struct worker *w, PGconn *c, const char *query, struct http_response *resp)
{
	merkle_hash p[MERKLE_MAX_PROOF];
	struct log_head h1, h2;
	uint64_t first, second;
	char err[256];
	size_t len;
	int r1, r2;

	if (logapi_parse_sizes(query, &first, &second) == -1 || first == 0 || first > second) {
		error(resp, 400, "the query must be first=N&second=M, 0 < N <= M");
		return;
	}
	/* Between two published tree heads only. */
	if ((r1 = logstore_head(c, 0, first, &h1, err, sizeof(err))) == -1 ||
	    (r2 = logstore_head(c, 0, second, &h2, err, sizeof(err))) == -1) {
		failed(w, resp, err);
		return;
	}
	if (r1 == 0 || r2 == 0) {
		error(resp, 404, "no tree head of that size");
		return;
	}
	if (logstore_consistency(c, first, second, p, &len, err, sizeof(err)) == -1) {
		failed(w, resp, err);
		return;
	}
	if (!merkle_verify_consistency(first, second, h1.root, h2.root, p, len)) {
		log_msg(LOG_ERR, "token log: the tree heads of sizes %llu and %llu are not"
		    " consistent", (unsigned long long)first, (unsigned long long)second);
		error(resp, 500, "the log's tree heads are not consistent");
		return;
	}
	answer(resp, 200, logjson_consistency(first, second, p, len));
}

/* The log keys listed for auditors (schema 013), each checked as it is read (logkeys.c). */
static void
keys(struct worker *w, PGconn *c, struct http_response *resp)
{
	struct logkeys ks = { 0, NULL };
	char err[512];

	if (logkeys_load(c, &ks, err, sizeof(err)) == -1) {
		if (PQstatus(c) != CONNECTION_OK)
			failed(w, resp, err);
		else {
			log_msg(LOG_ERR, "token log: %s", err);
			error(resp, 500, "the listed log keys are damaged");
		}
		return;
	}
	answer(resp, 200, logjson_keys(&ks));
	logkeys_free(&ks);
}

void
logapi_handle(struct worker *w, const char *what, const char *method, const char *query,
    struct http_response *resp)
{
	PGconn *c;
	int attempt, reused;

	memset(resp, 0, sizeof(*resp));
	if (strcmp(what, "sth") != 0 && strcmp(what, "proof") != 0 &&
	    strcmp(what, "consistency") != 0 && strcmp(what, "keys") != 0) {
		error(resp, 404, "no such log endpoint");
		return;
	}
	if (method == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
		error(resp, 405, "the log answers GET");
		resp->allow = "GET, HEAD";
		return;
	}
	if ((strcmp(what, "sth") == 0 || strcmp(what, "keys") == 0) && query != NULL &&
	    *query != '\0') {
		error(resp, 400, "the tree head and the keys take no query");
		return;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		reused = w->logc != NULL;
		if ((c = logconn(w)) == NULL) {
			error(resp, w->conf->log_reader_database == NULL ? 404 : 503,
			    w->conf->log_reader_database == NULL ? "no token log on this server" :
			    "the token log cannot be read now");
			return;
		}
		if (strcmp(what, "sth") == 0)
			sth(w, c, resp);
		else if (strcmp(what, "proof") == 0)
			proof(w, c, query, resp);
		else if (strcmp(what, "keys") == 0)
			keys(w, c, resp);
		else
			consistency(w, c, query, resp);
		/*
		 * A kept connection found dead (the server restarted since it was made, or a
		 * failover): failed() dropped it; the request is read once more on a new one.
		 */
		if (resp->status != 503 || !reused || w->logc != NULL)
			return;
		free(resp->body);
		memset(resp, 0, sizeof(*resp));
	}
}

void
logapi_metrics(struct worker *w, struct sbuf *b)
{
	PGconn *c;
	PGresult *r;

	if ((c = logconn(w)) == NULL)
		return;
	r = PQexec(c, "SELECT (SELECT tree_size FROM log_heads ORDER BY tree_size DESC LIMIT 1),"
	    " (SELECT timestamp FROM log_heads ORDER BY tree_size DESC LIMIT 1),"
	    " count(queued_at), coalesce(extract(epoch FROM now() - min(queued_at)), 0)"
	    " FROM log_queue");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		drop(w, PQresultErrorMessage(r));
		PQclear(r);
		return;
	}
	metrics_gauge(b, "tsa_log_tree_size", "Leaves in the token log's latest tree head.", "",
	    PQgetisnull(r, 0, 0) ? 0 : strtod(PQgetvalue(r, 0, 0), NULL));
	metrics_gauge(b, "tsa_log_tree_head_timestamp_seconds", "When the latest tree head was "
	    "signed (Unix time).", "", PQgetisnull(r, 0, 1) ? 0 :
	    strtod(PQgetvalue(r, 0, 1), NULL) / 1000);
	metrics_gauge(b, "tsa_log_queued_leaves", "Issued tokens not integrated into the token "
	    "log yet.", "", strtod(PQgetvalue(r, 0, 2), NULL));
	metrics_gauge(b, "tsa_log_integration_lag_seconds", "How long the oldest leaf not "
	    "integrated yet has waited (0: none waits).", "", strtod(PQgetvalue(r, 0, 3), NULL));
	PQclear(r);
}
