/*
 * logkeys.c - the token log's listed keys (see logkeys.h): read from log_keys (schema 013)
 * and each checked before use, since the table is data an owner of the database could alter:
 * its id must be the SHA-256 of its SubjectPublicKeyInfo (DER, as GnuTLS imports it), its
 * algorithm the key's own; a tree head verifies only with the listed key of its id, with
 * SHA-256 over RFC 6962 3.5's TreeHeadSignature octets (tlog.h), and only if signed before
 * that key was retired.
 * Untrusted input: the rows (bounded: LOG_MAX_KEYS rows, LOG_MAX_SPKI octets a key).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "bytes.h"
#include "conf.h"
#include "logkeys.h"
#include "tlog.h"

int
logkeys_describe(const unsigned char *spki, size_t len, char *id, const char **algorithm,
    char *err, size_t errlen)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)spki, (unsigned)len };
	gnutls_pubkey_t pub = NULL;
	unsigned char h[32];
	unsigned bits;
	int rc, pk, i, ret = -1;

	if (len == 0 || len > LOG_MAX_SPKI) {
		snprintf(err, errlen, "a public key of %zu octets", len);
		return -1;
	}
	if ((rc = gnutls_pubkey_init(&pub)) < 0 ||
	    (rc = gnutls_pubkey_import(pub, &d, GNUTLS_X509_FMT_DER)) < 0 ||
	    (rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki, len, h)) < 0) {
		snprintf(err, errlen, "not a SubjectPublicKeyInfo: %s", gnutls_strerror(rc));
		goto out;
	}
	pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);
	if (pk == GNUTLS_PK_ECDSA)
		*algorithm = "ecdsa-sha256";
	else if (pk == GNUTLS_PK_RSA)
		*algorithm = "rsa-pkcs1-sha256";
	else {
		snprintf(err, errlen, "the key is neither ECDSA nor RSA");
		goto out;
	}
	for (i = 0; i < 32; i++)
		snprintf(id + 2 * i, 3, "%02x", h[i]);
	ret = 0;
out:
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	return ret;
}

void
logkeys_free(struct logkeys *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		if (ks->e[i].pub != NULL)
			gnutls_pubkey_deinit(ks->e[i].pub);
	free(ks->e);
	ks->e = NULL;
	ks->n = 0;
}

/* Row k into e, checked.  0 or -1 with err. */
static int
load_row(PGresult *r, int k, struct logkey_entry *e, char *err, size_t errlen)
{
	const char *id = PQgetvalue(r, k, 0), *alg, *hexkey = PQgetvalue(r, k, 3);
	gnutls_datum_t d;
	char want[65];
	int rc;

	if (strlen(id) != 64 || strlen(PQgetvalue(r, k, 1)) >= sizeof(e->host) ||
	    !conf_host_ok(PQgetvalue(r, k, 1)) ||
	    strlen(PQgetvalue(r, k, 2)) >= sizeof(e->algorithm) ||
	    strlen(PQgetvalue(r, k, 4)) >= sizeof(e->added) ||
	    strlen(PQgetvalue(r, k, 5)) >= sizeof(e->retired) ||
	    hex_decode(hexkey, e->spki, sizeof(e->spki), &e->spki_len) == -1) {
		snprintf(err, errlen, "a listed log key of the wrong shape");
		return -1;
	}
	if (logkeys_describe(e->spki, e->spki_len, want, &alg, err, errlen) == -1)
		return -1;
	if (strcmp(want, id) != 0 || strcmp(alg, PQgetvalue(r, k, 2)) != 0) {
		snprintf(err, errlen, "the listed log key %.16s... is not the key its row holds"
		    " (its id or algorithm differs)", id);
		return -1;
	}
	memcpy(e->key_id, id, 65);
	snprintf(e->host, sizeof(e->host), "%s", PQgetvalue(r, k, 1));
	snprintf(e->algorithm, sizeof(e->algorithm), "%s", alg);
	snprintf(e->added, sizeof(e->added), "%s", PQgetvalue(r, k, 4));
	snprintf(e->retired, sizeof(e->retired), "%s", PQgetvalue(r, k, 5));
	e->retired_ms = PQgetisnull(r, k, 6) ? -1 : strtoll(PQgetvalue(r, k, 6), NULL, 10);
	d.data = e->spki;
	d.size = (unsigned)e->spki_len;
	if ((rc = gnutls_pubkey_init(&e->pub)) < 0 ||
	    (rc = gnutls_pubkey_import(e->pub, &d, GNUTLS_X509_FMT_DER)) < 0) {
		snprintf(err, errlen, "the listed log key %.16s...: %s", id, gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

int
logkeys_load(PGconn *c, struct logkeys *ks, char *err, size_t errlen)
{
	struct logkeys t = { 0, NULL };
	PGresult *r;
	int k, rc = -1;

	r = PQexec(c, "SELECT key_id, host, algorithm, encode(public_key, 'hex'),"
	    " to_char(added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	    " coalesce(to_char(retired_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	    " ''), (extract(epoch FROM retired_at) * 1000)::int8"
	    " FROM log_keys ORDER BY added_at, key_id LIMIT 257");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "reading the log keys: %s", PQresultErrorMessage(r));
		err[strcspn(err, "\n")] = '\0';
		goto out;
	}
	if (PQntuples(r) > LOG_MAX_KEYS) {
		snprintf(err, errlen, "more than %d log keys listed", LOG_MAX_KEYS);
		goto out;
	}
	if (PQntuples(r) > 0 && (t.e = calloc((size_t)PQntuples(r), sizeof(*t.e))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (k = 0; k < PQntuples(r); k++) {
		t.n++;
		if (load_row(r, k, &t.e[k], err, errlen) == -1) {
			logkeys_free(&t);
			goto out;
		}
	}
	*ks = t;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

const struct logkey_entry *
logkeys_find(const struct logkeys *ks, const char *id)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (strcmp(ks->e[i].key_id, id) == 0)
			return &ks->e[i];
	return NULL;
}

int
logkeys_check_head(const struct logkeys *ks, const struct log_head *h, char *why,
    size_t whylen)
{
	unsigned char tbs[TLOG_HEAD_TBS_LEN];
	gnutls_datum_t d = { tbs, sizeof(tbs) }, s;
	const struct logkey_entry *e;
	int rc;

	if (h->signature_len == 0 || h->key_id[0] == '\0') {
		snprintf(why, whylen, "the tree head of size %llu is not signed",
		    (unsigned long long)h->tree_size);
		return -1;
	}
	if ((e = logkeys_find(ks, h->key_id)) == NULL) {
		snprintf(why, whylen, "the tree head of size %llu is signed by the log key %s,"
		    " which is not listed (tsactl log keys, URL/log/keys)",
		    (unsigned long long)h->tree_size, h->key_id);
		return -1;
	}
	if (e->retired_ms >= 0 && h->timestamp > (uint64_t)e->retired_ms) {
		snprintf(why, whylen, "the tree head of size %llu is signed by the log key %.16s"
		    "... after it was retired (%s)", (unsigned long long)h->tree_size, h->key_id,
		    e->retired);
		return -1;
	}
	tlog_head_tbs(h->timestamp, h->tree_size, h->root, tbs);
	s.data = (unsigned char *)(uintptr_t)h->signature;
	s.size = (unsigned)h->signature_len;
	if ((rc = gnutls_pubkey_verify_data2(e->pub, strcmp(e->algorithm, "ecdsa-sha256") == 0 ?
	    GNUTLS_SIGN_ECDSA_SHA256 : GNUTLS_SIGN_RSA_SHA256, 0, &d, &s)) < 0) {
		snprintf(why, whylen, "the tree head of size %llu: its signature does not verify"
		    " with the listed log key %.16s... (%s)", (unsigned long long)h->tree_size,
		    h->key_id, gnutls_strerror(rc));
		return -1;
	}
	return 0;
}
