/*
 * integrate.c - the integrator's transactions (see logd.h and main.c): leadership, one batch
 * of queued leaves made part of the tree with its nodes and its tree head, all in one
 * transaction that first checks the leadership epoch.  The tree's right edge is kept in
 * memory between batches and reloaded from the database after any failure, so what is in
 * memory never runs ahead of what committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "logd.h"
#include "logstore.h"
#include "store.h"
#include "strbuf.h"
#include "tlog.h"

int
integrator_init(struct integrator *in, const char *conninfo, long connect_ms,
    const char *signer_socket, size_t batch)
{
	char host[64];

	memset(in, 0, sizeof(*in));
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(in->holder, sizeof(in->holder), "%s:%ld", host, (long)getpid());
	in->batch = batch;
	signer_link_init(&in->link, signer_socket, LOGD_SIGN_TIMEOUT_MS);
	in->connect_ms = connect_ms;
	return (in->conninfo = strdup(conninfo)) == NULL ? -1 : 0;
}

void
integrator_free(struct integrator *in)
{
	if (in->c != NULL)
		PQfinish(in->c);
	signer_link_close(&in->link);
	free(in->conninfo);
	memset(in, 0, sizeof(*in));
}

static void
msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A command that returns no rows; 0 or -1 (logged). */
static int
exec_cmd(PGconn *c, const char *sql, int n, const char *const *params, const char *what)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		log_msg(LOG_ERR, "%s: %s", what, PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

static void
rollback(struct integrator *in)
{
	PQclear(PQexec(in->c, "ROLLBACK"));
	in->loaded = 0;
}

/* Takes the leadership when the row is free or stale: 1 taken, 0 held by another, -1. */
static int
lead(struct integrator *in)
{
	const char *params[2] = { in->holder, NULL };
	char lease[16];
	PGresult *r;
	int rc = -1;

	snprintf(lease, sizeof(lease), "%d", LOGD_LEASE_S);
	params[1] = lease;
	r = PQexecParams(in->c, "UPDATE log_leader SET epoch = epoch + 1, holder = $1,"
	    " renewed = now() WHERE id = 1 AND (holder IS NULL OR holder = $1 OR"
	    " renewed < now() - make_interval(secs => $2::int)) RETURNING epoch, 0",
	    2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		log_msg(LOG_ERR, "taking the log's leadership: %s", PQresultErrorMessage(r));
	else if (PQntuples(r) == 0)
		rc = 0;
	else {
		in->epoch = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		log_msg(LOG_INFO, "integrator %s leads the token log (epoch %lld)", in->holder,
		    in->epoch);
		rc = 1;
	}
	PQclear(r);
	return rc;
}

/* Inside a transaction: locks the leadership row and checks the epoch is still ours. 0,
 * -2 when another integrator took over, -1. */
static int
check_epoch(struct integrator *in)
{
	PGresult *r;
	int rc = -1;

	r = PQexec(in->c, "SELECT epoch FROM log_leader WHERE id = 1 FOR UPDATE");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		log_msg(LOG_ERR, "reading the log's leadership: %s", PQresultErrorMessage(r));
	else if (strtoll(PQgetvalue(r, 0, 0), NULL, 10) != in->epoch) {
		log_msg(LOG_ERR, "integrator %s lost the token log's leadership (epoch %lld,"
		    " now %s): stops integrating", in->holder, in->epoch, PQgetvalue(r, 0, 0));
		rc = -2;
	} else
		rc = 0;
	PQclear(r);
	if (rc == 0)
		rc = exec_cmd(in->c, "UPDATE log_leader SET renewed = now() WHERE id = 1", 0, NULL,
		    "renewing the log's leadership");
	return rc;
}

/* The committed tree's edge into memory. 0 or -1. */
static int
load(struct integrator *in)
{
	PGresult *r;
	uint64_t size;
	char err[256] = "";

	r = PQexec(in->c, "SELECT coalesce(max(leaf_index) + 1, 0), count(*) FROM log_leaves");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_msg(LOG_ERR, "reading the log's size: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	size = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	if (strcmp(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1)) != 0) {
		/* Indexes with a hole: the log was tampered with; integrating more would only
		 * build on it.  tsactl log audit says where. */
		log_msg(LOG_ERR, "the token log's leaves are not 0..%llu without a hole (%s rows):"
		    " not integrating", (unsigned long long)size, PQgetvalue(r, 0, 1));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	if (logstore_edge(in->c, size, &in->edge, err, sizeof(err)) == -1) {
		log_msg(LOG_ERR, "loading the tree: %s", err);
		return -1;
	}
	in->loaded = 1;
	return 0;
}

struct nodes {
	struct sbuf	level, idx, hash;
	int		n;
};

/*
 * Array literals are built without printf: a batch formats tens of thousands of numbers and
 * hashes, and vfprintf was most of the integrator's own CPU (perf, tests/bench/
 * log_backlog.sh).  put_u64 appends v in decimal after a comma unless first; hex_elem a
 * bytea element "\\x<hex>" (n at most TLOG_MAX_LEAF octets).
 */
static void
put_u64(struct sbuf *b, int first, uint64_t v)
{
	char d[22];
	size_t i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (!first)
		d[--i] = ',';
	sb_add(b, d + i, sizeof(d) - i);
}

static void
hex_elem(struct sbuf *b, int first, const unsigned char *p, size_t n)
{
	static const char x[] = "0123456789abcdef";
	char out[2 * TLOG_MAX_LEAF + 8];
	size_t i, o = 0;

	if (n > TLOG_MAX_LEAF) {
		b->failed = 1;
		return;
	}
	if (!first)
		out[o++] = ',';
	memcpy(out + o, "\"\\\\x", 4);
	o += 4;
	for (i = 0; i < n; i++) {
		out[o++] = x[p[i] >> 4];
		out[o++] = x[p[i] & 15];
	}
	out[o++] = '"';
	sb_add(b, out, o);
}

static int
keep_node(void *ctx, unsigned level, uint64_t idx, const merkle_hash h)
{
	struct nodes *nd = ctx;

	put_u64(&nd->level, nd->n == 0, level);
	put_u64(&nd->idx, nd->n == 0, idx);
	hex_elem(&nd->hash, nd->n == 0, h, MERKLE_HASH_LEN);
	nd->n++;
	return 0;
}

/* The tree head of the edge's size and root signed by the signing process: its time in *ms,
 * the signature as bytea hex text, the key's id.  0 or -1 (logged). */
static int
sign_head(struct integrator *in, const merkle_hash root, uint64_t *ms, char *sighex,
    size_t sighexlen, char *keyid)
{
	static struct signer_answer a;
	struct order o;
	unsigned char *frame = NULL;
	char why[256];
	size_t i;
	int rc = -1;

	memset(&o, 0, sizeof(o));
	o.type = ORDER_TREE_HEAD;
	o.tree_size = in->edge.size;
	memcpy(o.root, root, MERKLE_HASH_LEN);
	if (signer_link_ask(&in->link, &o, &a, &frame, why, sizeof(why)) == -1)
		log_msg(LOG_ERR, "tree head of size %llu: the signer: %s",
		    (unsigned long long)o.tree_size, why);
	else if (a.type != ANSWER_TREE_HEAD)
		log_msg(LOG_ERR, "tree head of size %llu refused by the signer: %s",
		    (unsigned long long)o.tree_size, a.type == ANSWER_REFUSED ? a.detail : "?");
	else if (2 * a.signature_len + 3 > sighexlen)
		log_msg(LOG_ERR, "tree head signature too long");
	else {
		*ms = a.timestamp;
		snprintf(sighex, sighexlen, "\\x");
		for (i = 0; i < a.signature_len; i++)
			snprintf(sighex + 2 + 2 * i, 3, "%02x", a.signature[i]);
		snprintf(keyid, ORDER_MAX_KEY_ID, "%s", a.key_id);
		rc = 0;
	}
	free(frame);
	return rc;
}

/*
 * One transaction: the epoch checked, up to batch queued leaves integrated, their nodes and
 * a tree head inserted, committed.  The number of leaves integrated, 0 (the queue was empty:
 * the leadership renewed only), -2 (leadership lost) or -1.
 */
static int
integrate(struct integrator *in)
{
	struct sbuf idx = { 0 }, serials = { 0 }, leaves = { 0 }, hashes = { 0 };
	struct nodes nd = { { 0 }, { 0 }, { 0 }, 0 };
	unsigned char *t[7] = { 0 };
	const char *params[6];
	char bsz[24], sz[24], ts[24], ep[24], rhex[2 * MERKLE_HASH_LEN + 3];
	char sighex[2 * ORDER_MAX_SIGNATURE + 3], keyid[ORDER_MAX_KEY_ID];
	merkle_hash root, lh;
	PGresult *r = NULL;
	size_t tl, i;
	int rc = -1, n = 0, k, bad, handed = 0;
	uint64_t ms;

	if (exec_cmd(in->c, "BEGIN", 0, NULL, "BEGIN") == -1)
		return -1;
	if ((rc = check_epoch(in)) != 0)
		goto fail;
	rc = -1;
	if (!in->loaded && load(in) == -1)
		goto fail;
	snprintf(bsz, sizeof(bsz), "%zu", in->batch);
	params[0] = bsz;
	/* Taken from the queue as it is read (one statement, no list of ids sent back): the
	 * rows come back in the queue's order, and a rollback puts them back. */
	/* = ANY (ARRAY(...)), not IN (...): IN plans as a hash join over a sequential scan of
	 * the whole queue, once per batch (quadratic on a backlog); this stays two index scans. */
	r = PQexecParams(in->c, "WITH taken AS (DELETE FROM log_queue WHERE id = ANY (ARRAY("
	    "SELECT id FROM log_queue ORDER BY id LIMIT $1::int)) RETURNING id, serial, leaf)"
	    " SELECT id, serial::text, leaf FROM taken ORDER BY id", 1, NULL, params, NULL,
	    NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_msg(LOG_ERR, "taking the leaves from the log's queue: %s", PQresultErrorMessage(r));
		goto fail;
	}
	if ((n = PQntuples(r)) == 0) {
		PQclear(r);
		return exec_cmd(in->c, "COMMIT", 0, NULL, "COMMIT") == 0 ? 0 : (in->loaded = 0, -1);
	}
	sb_str(&idx, "{");
	sb_str(&serials, "{");
	sb_str(&leaves, "{");
	sb_str(&hashes, "{");
	sb_str(&nd.level, "{");
	sb_str(&nd.idx, "{");
	sb_str(&nd.hash, "{");
	for (k = 0; k < n; k++) {
		const char *serial = PQgetvalue(r, k, 1);
		const unsigned char *leaf = (const unsigned char *)PQgetvalue(r, k, 2);
		size_t len = (size_t)PQgetlength(r, k, 2);
		struct tlog_leaf dl;

		if (PQgetlength(r, k, 0) != 8 || serial[strspn(serial, "0123456789")] != '\0' ||
		    len > TLOG_MAX_LEAF) {
			log_msg(LOG_ERR, "the log's queue: a row of the wrong shape");
			goto fail;
		}
		/* Integrated whatever it says: the order is fixed now; audit judges the leaf. */
		if (tlog_leaf_decode(leaf, len, &dl) == -1)
			log_msg(LOG_WARNING, "leaf %llu (serial %s) is no well-formed leaf",
			    (unsigned long long)in->edge.size, serial);
		put_u64(&idx, k == 0, in->edge.size);
		if (k > 0)
			sb_add(&serials, ",", 1);
		sb_str(&serials, serial);
		hex_elem(&leaves, k == 0, leaf, len);
		if (merkle_leaf_hash(leaf, len, lh) == -1 ||
		    merkle_edge_append(&in->edge, lh, keep_node, &nd) == -1)
			goto fail;
		hex_elem(&hashes, k == 0, lh, MERKLE_HASH_LEN);
	}
	PQclear(r);
	r = NULL;
	sb_str(&idx, "}");
	sb_str(&serials, "}");
	sb_str(&leaves, "}");
	sb_str(&hashes, "}");
	sb_str(&nd.level, "}");
	sb_str(&nd.idx, "}");
	sb_str(&nd.hash, "}");
	handed = 1;	/* from here the buffers are t's (or freed by sb_done) */
	bad = sb_done(&idx, &t[0], &tl);
	bad |= sb_done(&serials, &t[1], &tl);
	bad |= sb_done(&leaves, &t[2], &tl);
	bad |= sb_done(&hashes, &t[3], &tl);
	bad |= sb_done(&nd.level, &t[4], &tl);
	bad |= sb_done(&nd.idx, &t[5], &tl);
	bad |= sb_done(&nd.hash, &t[6], &tl);
	if (bad) {
		log_msg(LOG_ERR, "integrating: out of memory");
		goto fail;
	}
	for (k = 0; k < 4; k++)
		params[k] = (const char *)t[k];
	if (exec_cmd(in->c, "INSERT INTO log_leaves (leaf_index, serial, leaf, leaf_hash)"
	    " SELECT * FROM unnest($1::int8[], $2::numeric[], $3::bytea[], $4::bytea[])", 4,
	    params, "appending the leaves") == -1)
		goto fail;
	for (k = 0; k < 3; k++)
		params[k] = (const char *)t[k + 4];
	if (nd.n > 0 && exec_cmd(in->c, "INSERT INTO log_nodes (level, idx, hash)"
	    " SELECT * FROM unnest($1::int2[], $2::int8[], $3::bytea[])", 3, params,
	    "keeping the tree's nodes") == -1)
		goto fail;

	/* The tree head, signed by the signing process's log key (its clock gives the time),
	 * published by the commit that makes its leaves visible.  No signature, no head: the
	 * batch is rolled back and stays queued. */
	if (merkle_edge_root(&in->edge, root) == -1 ||
	    sign_head(in, root, &ms, sighex, sizeof(sighex), keyid) == -1)
		goto fail;
	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)in->edge.size);
	snprintf(ts, sizeof(ts), "%llu", (unsigned long long)ms);
	snprintf(ep, sizeof(ep), "%lld", in->epoch);
	snprintf(rhex, sizeof(rhex), "\\x");
	for (i = 0; i < MERKLE_HASH_LEN; i++)
		snprintf(rhex + 2 + 2 * i, 3, "%02x", root[i]);
	params[0] = sz;
	params[1] = rhex;
	params[2] = ts;
	params[3] = ep;
	params[4] = sighex;
	params[5] = keyid;
	if (exec_cmd(in->c, "INSERT INTO log_heads (tree_size, root_hash, timestamp, epoch,"
	    " signature, log_key_id) VALUES ($1::int8, $2::bytea, $3::int8, $4::int8,"
	    " $5::bytea, $6)", 6, params, "publishing the tree head") == -1)
		goto fail;
	if (exec_cmd(in->c, "COMMIT", 0, NULL, "COMMIT") == -1) {
		in->loaded = 0;
		rc = -1;
		goto out;
	}
	in->integrated += (uint64_t)n;
	rc = n;
	goto out;
fail:
	PQclear(r);
	r = NULL;
	rollback(in);	/* the edge in memory is dropped with the transaction */
	if (!handed) {
		free(idx.p), free(serials.p), free(leaves.p), free(hashes.p);
		free(nd.level.p), free(nd.idx.p), free(nd.hash.p);
	}
out:
	PQclear(r);
	for (k = 0; k < 7; k++)
		free(t[k]);
	return rc;
}

/* On a clean stop: the leadership given back (only if still ours), so that a successor
 * need not wait out the lease. */
static void
release(struct integrator *in)
{
	char ep[24];
	const char *params[1] = { ep };

	if (in->c == NULL || in->epoch == 0)
		return;
	snprintf(ep, sizeof(ep), "%lld", in->epoch);
	if (exec_cmd(in->c, "UPDATE log_leader SET holder = NULL, renewed = NULL"
	    " WHERE id = 1 AND epoch = $1::int8", 1, params, "giving the leadership back") == 0)
		log_msg(LOG_INFO, "integrator %s gave the token log's leadership back",
		    in->holder);
	in->epoch = 0;
}

int
integrator_run(struct integrator *in, int once, volatile sig_atomic_t *stop)
{
	char err[512];
	time_t said = 0;
	int n;

	while (!*stop) {
		if (in->c == NULL || PQstatus(in->c) != CONNECTION_OK) {
			if (in->c != NULL)
				PQfinish(in->c);
			in->loaded = 0;
			in->epoch = 0;
			/* The connect bounded; the statements not (pgbound.h: statement_ms 0): a
			 * tree head's commit is never given up on, and nothing waits on it. */
			if ((in->c = db_connect(in->conninfo, in->connect_ms, 0, err,
			    sizeof(err))) == NULL) {
				log_msg(LOG_WARNING, "database unreachable: %s", err);
				if (once)
					return 75;
				msleep(1000);
				continue;
			}
		}
		if (in->epoch == 0) {
			if ((n = lead(in)) == 1)
				continue;
			if (once)
				return 75;
			msleep(1000);
			continue;
		}
		n = integrate(in);
		if (n == -2) {
			in->epoch = 0;
			in->loaded = 0;
			if (once)
				return 75;
			msleep(1000);
			continue;
		}
		if (n == -1) {
			if (once)
				return 75;
			msleep(1000);
			continue;
		}
		if (n > 0) {
			/* One line a minute, not one a batch. */
			if (time(NULL) - said >= 60) {
				log_msg(LOG_INFO, "tree size %llu (%llu leaves integrated by this"
				    " process)", (unsigned long long)in->edge.size,
				    (unsigned long long)in->integrated);
				said = time(NULL);
			}
			if ((size_t)n == in->batch)
				continue;
		}
		if (once)
			break;
		msleep(LOGD_IDLE_MS);
	}
	release(in);
	return 0;
}
