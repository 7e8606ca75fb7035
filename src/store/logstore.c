/*
 * logstore.c - reading the token log (see logstore.h).  A proof is computed twice by
 * merkle.c: once to learn which complete subtrees it needs (collect), then, after one query
 * fetched them (level 0 from log_leaves, the rest from log_nodes), for real.  What the
 * database returns is checked for shape (32-octet hashes, the nodes asked for) before use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "logstore.h"
#include "strbuf.h"


/* Enough for a consistency proof of a 2^63-leaf tree and its ranges. */
#define MAX_REFS	512

struct refs {
	size_t		n;
	int		full;
	struct {
		unsigned	level;
		uint64_t	idx;
		int		have;
		merkle_hash	h;
	} e[MAX_REFS];
};

static int
find(struct refs *r, unsigned level, uint64_t idx)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->e[i].level == level && r->e[i].idx == idx)
			return (int)i;
	return -1;
}

static int
collect(void *ctx, unsigned level, uint64_t idx, merkle_hash out)
{
	struct refs *r = ctx;

	memset(out, 0, MERKLE_HASH_LEN);
	if (find(r, level, idx) >= 0)
		return 0;
	if (r->n == MAX_REFS) {
		r->full = 1;
		return -1;
	}
	r->e[r->n].level = level;
	r->e[r->n].idx = idx;
	r->e[r->n++].have = 0;
	return 0;
}

static int
lookup(void *ctx, unsigned level, uint64_t idx, merkle_hash out)
{
	struct refs *r = ctx;
	int i = find(r, level, idx);

	if (i < 0 || !r->e[i].have)
		return -1;
	memcpy(out, r->e[i].h, MERKLE_HASH_LEN);
	return 0;
}

/* One query for every node r names. */
static int
fetch(PGconn *c, struct refs *r, char *err, size_t errlen)
{
	struct sbuf leaves = { 0 }, levels = { 0 }, idxs = { 0 };
	unsigned char *t[3] = { NULL, NULL, NULL };
	const char *params[3];
	PGresult *res = NULL;
	size_t i, tl;
	int rc = -1, k, nl = 0, nn = 0;

	sb_str(&leaves, "{");
	sb_str(&levels, "{");
	sb_str(&idxs, "{");
	for (i = 0; i < r->n; i++) {
		if (r->e[i].level == 0)
			sb_printf(&leaves, "%s%llu", nl++ ? "," : "",
			    (unsigned long long)r->e[i].idx);
		else {
			sb_printf(&levels, "%s%u", nn ? "," : "", r->e[i].level);
			sb_printf(&idxs, "%s%llu", nn++ ? "," : "",
			    (unsigned long long)r->e[i].idx);
		}
	}
	sb_str(&leaves, "}");
	sb_str(&levels, "}");
	sb_str(&idxs, "}");
	/* Each buffer handed over or freed, whichever fails. */
	k = sb_done(&leaves, &t[0], &tl);
	k |= sb_done(&levels, &t[1], &tl);
	k |= sb_done(&idxs, &t[2], &tl);
	if (k != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (k = 0; k < 3; k++)
		params[k] = (const char *)t[k];
	res = PQexecParams(c,
	    "SELECT 0::int4, leaf_index, leaf_hash FROM log_leaves"
	    " WHERE leaf_index = ANY ($1::int8[])"
	    " UNION ALL SELECT level::int4, idx, hash FROM log_nodes"
	    " WHERE (level, idx) IN (SELECT * FROM unnest($2::int2[], $3::int8[]))",
	    3, NULL, params, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "reading the log's nodes: %s", PQerrorMessage(c));
		err[strcspn(err, "\n")] = '\0';
		goto out;
	}
	for (k = 0; k < PQntuples(res); k++) {
		const char *lv = PQgetvalue(res, k, 0);
		unsigned level;
		int j;

		if (PQgetlength(res, k, 0) != 4 || PQgetlength(res, k, 1) != 8 ||
		    PQgetlength(res, k, 2) != MERKLE_HASH_LEN) {
			snprintf(err, errlen, "the log's nodes: a row of the wrong shape");
			goto out;
		}
		level = (unsigned)(unsigned char)lv[3];
		if ((j = find(r, level, be64_get((const unsigned char *)PQgetvalue(res, k, 1)))) < 0) {
			snprintf(err, errlen, "the log's nodes: a node not asked for");
			goto out;
		}
		memcpy(r->e[j].h, PQgetvalue(res, k, 2), MERKLE_HASH_LEN);
		r->e[j].have = 1;
	}
	for (i = 0; i < r->n; i++)
		if (!r->e[i].have) {
			snprintf(err, errlen, "the log has no node at level %u index %llu (a tree"
			    " larger than the log?)", r->e[i].level,
			    (unsigned long long)r->e[i].idx);
			goto out;
		}
	rc = 0;
out:
	PQclear(res);
	for (k = 0; k < 3; k++)
		free(t[k]);
	return rc;
}

enum what { INCLUSION, CONSISTENCY };

static int
prove(PGconn *c, enum what w, uint64_t m, uint64_t n, merkle_hash *p, size_t *len,
    char *err, size_t errlen)
{
	struct refs *r;
	int rc = -1;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((w == INCLUSION ? merkle_inclusion_path(m, n, collect, r, p, len) :
	    merkle_consistency_proof(m, n, collect, r, p, len)) == -1) {
		snprintf(err, errlen, r->full ? "proof too large" : "no such proof: sizes"
		    " %llu and %llu", (unsigned long long)m, (unsigned long long)n);
		goto out;
	}
	if (fetch(c, r, err, errlen) == -1)
		goto out;
	if ((w == INCLUSION ? merkle_inclusion_path(m, n, lookup, r, p, len) :
	    merkle_consistency_proof(m, n, lookup, r, p, len)) == -1) {
		snprintf(err, errlen, "computing the proof failed");
		goto out;
	}
	rc = 0;
out:
	free(r);
	return rc;
}

int
logstore_inclusion(PGconn *c, uint64_t m, uint64_t n, merkle_hash *path, size_t *len,
    char *err, size_t errlen)
{
	return prove(c, INCLUSION, m, n, path, len, err, errlen);
}

int
logstore_consistency(PGconn *c, uint64_t m, uint64_t n, merkle_hash *proof, size_t *len,
    char *err, size_t errlen)
{
	return prove(c, CONSISTENCY, m, n, proof, len, err, errlen);
}

int
logstore_edge(PGconn *c, uint64_t size, struct merkle_edge *e, char *err, size_t errlen)
{
	struct refs *r;
	int rc = -1;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (merkle_edge_load(e, size, collect, r) == -1 || fetch(c, r, err, errlen) == -1 ||
	    merkle_edge_load(e, size, lookup, r) == -1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "loading the tree's edge failed");
		goto out;
	}
	rc = 0;
out:
	free(r);
	return rc;
}

static int
head_row(PGresult *res, struct log_head *h, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	if (PQgetlength(res, 0, 0) != 8 || PQgetlength(res, 0, 1) != 8 ||
	    PQgetlength(res, 0, 2) != MERKLE_HASH_LEN ||
	    PQgetlength(res, 0, 3) > LOG_MAX_SIGNATURE ||
	    PQgetlength(res, 0, 4) >= LOG_MAX_KEY_ID) {
		snprintf(err, errlen, "a tree head of the wrong shape");
		return -1;
	}
	h->tree_size = be64_get((const unsigned char *)PQgetvalue(res, 0, 0));
	h->timestamp = be64_get((const unsigned char *)PQgetvalue(res, 0, 1));
	memcpy(h->root, PQgetvalue(res, 0, 2), MERKLE_HASH_LEN);
	if (!PQgetisnull(res, 0, 3)) {
		h->signature_len = (size_t)PQgetlength(res, 0, 3);
		memcpy(h->signature, PQgetvalue(res, 0, 3), h->signature_len);
	}
	if (!PQgetisnull(res, 0, 4))
		memcpy(h->key_id, PQgetvalue(res, 0, 4), (size_t)PQgetlength(res, 0, 4));
	return 0;
}

int
logstore_head(PGconn *c, int latest, uint64_t size, struct log_head *h, char *err,
    size_t errlen)
{
	char sz[24];
	const char *params[1] = { sz };
	PGresult *res;
	int rc = -1;

	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
	res = PQexecParams(c, latest ?
	    "SELECT tree_size, timestamp, root_hash, signature, log_key_id FROM log_heads"
	    " ORDER BY tree_size DESC LIMIT 1" :
	    "SELECT tree_size, timestamp, root_hash, signature, log_key_id FROM log_heads"
	    " WHERE tree_size = $1::int8", latest ? 0 : 1, NULL, latest ? NULL : params,
	    NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "reading the tree heads: %s", PQerrorMessage(c));
		err[strcspn(err, "\n")] = '\0';
	} else if (PQntuples(res) == 0)
		rc = 0;
	else if (head_row(res, h, err, errlen) == 0)
		rc = 1;
	PQclear(res);
	return rc;
}

int
logstore_leaf_by_serial(PGconn *c, const char *serial, uint64_t *index, unsigned char *leaf,
    size_t *leaf_len, char *err, size_t errlen)
{
	const char *params[1] = { serial };
	PGresult *res;
	int rc = -1;

	res = PQexecParams(c, "SELECT leaf_index, leaf FROM log_leaves"
	    " WHERE serial = $1::numeric ORDER BY leaf_index LIMIT 1", 1, NULL, params, NULL,
	    NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "reading the log's leaves: %s", PQerrorMessage(c));
		err[strcspn(err, "\n")] = '\0';
	} else if (PQntuples(res) == 0)
		rc = 0;
	else if (PQgetlength(res, 0, 0) != 8 || PQgetlength(res, 0, 1) > TLOG_MAX_LEAF)
		snprintf(err, errlen, "a leaf of the wrong shape");
	else {
		*index = be64_get((const unsigned char *)PQgetvalue(res, 0, 0));
		*leaf_len = (size_t)PQgetlength(res, 0, 1);
		memcpy(leaf, PQgetvalue(res, 0, 1), *leaf_len);
		rc = 1;
	}
	PQclear(res);
	return rc;
}
