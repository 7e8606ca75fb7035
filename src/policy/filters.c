/*
 * filters.c - the static table of filters a policy's chain may name, each with the checker of
 * its parameters and the step it runs.  Parameters come from policy_filters.params (jsonb,
 * flattened by store/config.c); an unknown filter, key or value is an error at load time,
 * never a silent skip.  Filters documented in the README, section "Filters".
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "asn1.h"
#include "clock.h"
#include "policy.h"
#include "text.h"

/* ---- parameter helpers --------------------------------------------------------------- */

static int
param_uint(const struct filter_param *p, unsigned min, unsigned max, unsigned *out, char *err,
    size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(p->value, &end, 10);
	if (!isdigit((unsigned char)p->value[0]) || *end != '\0' || errno != 0 ||
	    v < min || v > max) {
		snprintf(err, errlen, "'%s' must be a whole number from %u to %u, not '%s'",
		    p->key, min, max, p->value);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
param_bool(const struct filter_param *p, int *out, char *err, size_t errlen)
{
	if (strcmp(p->value, "true") == 0)
		*out = 1;
	else if (strcmp(p->value, "false") == 0)
		*out = 0;
	else {
		snprintf(err, errlen, "'%s' must be true or false, not '%s'", p->key, p->value);
		return -1;
	}
	return 0;
}

static int
unknown_key(const struct filter_param *p, const char *known, char *err, size_t errlen)
{
	snprintf(err, errlen, "unknown parameter '%s' (known: %s)", p->key, known);
	return -1;
}

/* A list of OIDs (the state), optionally with the single word "any". */
struct oid_list {
	char	*def;		/* policy-oid's default */
	int	 any;
	size_t	 n;
	char	*oid[TSA_MAX_FILTER_PARAMS];
};

static void
oid_list_free(void *state)
{
	struct oid_list *l = state;
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->oid[i]);
	free(l->def);
	free(l);
}

static int
oid_list_parse(const struct filter_param *params, size_t n, int allow_any, void **state,
    char *err, size_t errlen)
{
	struct oid_list *l;
	size_t i;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(params[i].key, "accept") != 0) {
			unknown_key(&params[i], "accept", err, errlen);
			goto fail;
		}
		if (allow_any && strcmp(params[i].value, "any") == 0) {
			l->any = 1;
			continue;
		}
		if (!tsa_oid_text_valid(params[i].value)) {
			snprintf(err, errlen, "'%s' is not an OID in dotted form%s",
			    params[i].value, allow_any ? " (or \"any\")" : "");
			goto fail;
		}
		if ((l->oid[l->n++] = strdup(params[i].value)) == NULL)
			goto fail;
	}
	*state = l;
	return 0;
fail:
	oid_list_free(l);
	return -1;
}

/* Most filters only set a few options: their state is a struct tsa_opts with a mask of what
 * they set, applied field by field. */
struct opt_state {
	struct tsa_opts	opts;
	unsigned	set;
};

enum {
	SET_HASH = 1 << 0, SET_ACCURACY = 1 << 1, SET_DIGITS = 1 << 2, SET_ORDERING = 1 << 3,
	SET_TSA_NAME = 1 << 4, SET_ESS = 1 << 5, SET_CERTS = 1 << 6, SET_SIGNING_TIME = 1 << 7,
	SET_STATUS_TEXT = 1 << 8, SET_SERIAL = 1 << 9, SET_QUALIFIED = 1 << 10,
	SET_ARCHIVE = 1 << 11, SET_SIG_DIGEST = 1 << 12,
};

static int
opt_run(const void *state, const struct tsa_request *req, const struct tsa_client *client,
    struct tsa_opts *o, struct tsa_refusal *ref)
{
	const struct opt_state *s = state;
	const struct tsa_opts *v = &s->opts;

	(void)req; (void)client; (void)ref;
	if (s->set & SET_HASH)
		o->hash_accept = v->hash_accept;
	if (s->set & SET_ACCURACY) {
		o->acc_seconds = v->acc_seconds;
		o->acc_millis = v->acc_millis;
		o->acc_micros = v->acc_micros;
	}
	if (s->set & SET_DIGITS)
		o->digits = v->digits;
	if (s->set & SET_ORDERING)
		o->ordering = v->ordering;
	if (s->set & SET_TSA_NAME) {
		o->tsa_name = v->tsa_name;
		o->tsa_name_der = v->tsa_name_der;
		o->tsa_name_len = v->tsa_name_len;
	}
	if (s->set & SET_ESS) {
		o->ess_version = v->ess_version;
		o->ess_hash = v->ess_hash;
		o->ess_issuer_serial = v->ess_issuer_serial;
	}
	if (s->set & SET_CERTS)
		o->certs = v->certs;
	if (s->set & SET_SIGNING_TIME)
		o->signing_time = v->signing_time;
	if (s->set & SET_STATUS_TEXT)
		o->status_text = v->status_text;
	if (s->set & SET_SERIAL)
		o->serial_bytes = v->serial_bytes;
	if (s->set & SET_QUALIFIED)
		o->qualified = v->qualified;
	if (s->set & SET_ARCHIVE)
		o->archive = v->archive;
	if (s->set & SET_SIG_DIGEST)
		o->sig_digest = v->sig_digest;
	return 0;
}

static void
opt_free(void *state)
{
	struct opt_state *s = state;

	if (s == NULL)
		return;
	free((void *)(uintptr_t)s->opts.tsa_name_der);
	free(s);
}

/* Allocates an opt_state, runs fill over it, and hands it over or frees it. */
static int
opt_parse(const struct filter_param *params, size_t n, void **state, char *err, size_t errlen,
    int (*fill)(const struct filter_param *, size_t, struct opt_state *, char *, size_t))
{
	struct opt_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	if (fill(params, n, s, err, errlen) == -1) {
		opt_free(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* ---- the filters ----------------------------------------------------------------------- */

/* hash-algorithms {"accept": ["sha256", ...]} */
static int
hash_fill(const struct filter_param *params, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	const struct hash_alg *table, *h;
	size_t i, count;

	table = hash_table(&count);
	s->set = SET_HASH;
	for (i = 0; i < n; i++) {
		if (strcmp(params[i].key, "accept") != 0)
			return unknown_key(&params[i], "accept", err, errlen);
		if ((h = hash_by_name(params[i].value)) == NULL) {
			snprintf(err, errlen, "unknown hash algorithm '%s' (known: sha1, sha224, "
			    "sha256, sha384, sha512, sha3-256, sha3-384, sha3-512)",
			    params[i].value);
			return -1;
		}
		s->opts.hash_accept |= 1u << (h - table);
	}
	if (s->opts.hash_accept == 0) {
		snprintf(err, errlen, "'accept' must name at least one algorithm");
		return -1;
	}
	return 0;
}

static int
hash_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, hash_fill);
}

/* policy-oid {"default": "1.2.3", "accept": ["1.2.3", ...] | "any"}: the TSTInfo policy when
 * the request names none (else the policy row's OID), and the requested policies accepted
 * beside it. */
static int
policy_oid_parse(const struct filter_param *params, size_t n, void **st, char *err,
    size_t errlen)
{
	struct filter_param accept[TSA_MAX_FILTER_PARAMS] = { { NULL, NULL } };
	struct oid_list *l;
	const char *def = NULL;
	size_t i, na = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(params[i].key, "default") == 0) {
			if (!tsa_oid_text_valid(params[i].value)) {
				snprintf(err, errlen, "'default' must be an OID in dotted form");
				return -1;
			}
			def = params[i].value;
		} else if (strcmp(params[i].key, "accept") == 0)
			accept[na++] = params[i];
		else
			return unknown_key(&params[i], "default, accept", err, errlen);
	}
	if (oid_list_parse(accept, na, 1, st, err, errlen) == -1)
		return -1;
	l = *st;
	if (def != NULL && (l->def = strdup(def)) == NULL) {
		oid_list_free(l);
		return -1;
	}
	return 0;
}

static int
policy_oid_run(const void *state, const struct tsa_request *req,
    const struct tsa_client *client, struct tsa_opts *o, struct tsa_refusal *ref)
{
	const struct oid_list *l = state;

	(void)req; (void)client; (void)ref;
	o->policy_any = l->any;
	o->policy_accept = (const char * const *)l->oid;
	o->n_policy_accept = l->n;
	if (l->def != NULL)
		o->policy_default = l->def;
	return 0;
}

/* extensions {"accept": ["1.2.3", ...]} */
static int
extensions_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return oid_list_parse(p, n, 0, st, err, errlen);
}

static int
extensions_run(const void *state, const struct tsa_request *req,
    const struct tsa_client *client, struct tsa_opts *o, struct tsa_refusal *ref)
{
	const struct oid_list *l = state;

	(void)req; (void)client; (void)ref;
	o->ext_accept = (const char * const *)l->oid;
	o->n_ext_accept = l->n;
	return 0;
}

/* accuracy {"seconds": 1, "millis": 0, "micros": 0, "digits": 3} */
static int
accuracy_fill(const struct filter_param *params, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	size_t i;
	unsigned d;

	for (i = 0; i < n; i++) {
		const struct filter_param *p = &params[i];
		int rc;

		if (strcmp(p->key, "seconds") == 0)
			rc = param_uint(p, 0, 3600, &s->opts.acc_seconds, err, errlen);
		else if (strcmp(p->key, "millis") == 0)
			rc = param_uint(p, 0, 999, &s->opts.acc_millis, err, errlen);
		else if (strcmp(p->key, "micros") == 0)
			rc = param_uint(p, 0, 999, &s->opts.acc_micros, err, errlen);
		else if (strcmp(p->key, "digits") == 0) {
			rc = param_uint(p, 0, TSA_MAX_TIME_DIGITS, &d, err, errlen);
			s->opts.digits = (int)d;
			s->set |= SET_DIGITS;
		} else
			return unknown_key(p, "seconds, millis, micros, digits", err, errlen);
		if (rc == -1)
			return -1;
		if (p->key[0] != 'd')
			s->set |= SET_ACCURACY;
	}
	/* ETSI EN 319 421 7.7.2: every token states its accuracy; zero would state nothing. */
	if ((s->set & SET_ACCURACY) && s->opts.acc_seconds == 0 && s->opts.acc_millis == 0 &&
	    s->opts.acc_micros == 0) {
		snprintf(err, errlen, "an accuracy of zero states nothing; leave seconds, millis "
		    "and micros out to keep the default of 1 s");
		return -1;
	}
	return 0;
}

static int
accuracy_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, accuracy_fill);
}

/* A filter with one boolean key `key` setting the option selected by `set`. */
static int
bool_fill(const struct filter_param *params, size_t n, struct opt_state *s, char *err,
    size_t errlen, const char *key, unsigned set, int *field)
{
	size_t i;

	s->set = set;
	*field = 1;
	for (i = 0; i < n; i++) {
		if (strcmp(params[i].key, key) != 0)
			return unknown_key(&params[i], key, err, errlen);
		if (param_bool(&params[i], field, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* ordering {"enabled": false} */
static int
ordering_fill(const struct filter_param *p, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	return bool_fill(p, n, s, err, errlen, "enabled", SET_ORDERING, &s->opts.ordering);
}

static int
ordering_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, ordering_fill);
}

/* signing-time {"enabled": true} */
static int
signing_time_fill(const struct filter_param *p, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	return bool_fill(p, n, s, err, errlen, "enabled", SET_SIGNING_TIME,
	    &s->opts.signing_time);
}

static int
signing_time_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, signing_time_fill);
}

/* status-text {"enabled": true} */
static int
status_text_fill(const struct filter_param *p, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	return bool_fill(p, n, s, err, errlen, "enabled", SET_STATUS_TEXT,
	    &s->opts.status_text);
}

static int
status_text_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, status_text_fill);
}

/* DER of a distinguished name written as text (RFC 4514), through GnuTLS's DN parser: set on a
 * scratch certificate and read back raw. */
static int
dn_to_der(const char *text, unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { NULL, 0 };
	const char *at = NULL;
	int rc = -1;

	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_set_dn(crt, text, &at) < 0 || gnutls_x509_crt_get_raw_dn(crt, &d) < 0) {
		snprintf(err, errlen, "'%s' is not a distinguished name", text);
		goto out;
	}
	if ((*out = malloc(d.size)) == NULL)
		goto out;
	memcpy(*out, d.data, d.size);
	*outlen = d.size;
	rc = 0;
out:
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

/* tsa-name {"name": "subject" | "CN=...,O=..."} */
static int
tsa_name_fill(const struct filter_param *params, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	unsigned char *der;
	size_t i, len;

	s->set = SET_TSA_NAME;
	s->opts.tsa_name = 1;
	for (i = 0; i < n; i++) {
		if (strcmp(params[i].key, "name") != 0)
			return unknown_key(&params[i], "name", err, errlen);
		if (strcmp(params[i].value, "subject") == 0)
			continue;
		if (params[i].value[0] == '\0') {
			snprintf(err, errlen, "'name' must be \"subject\" or a distinguished name");
			return -1;
		}
		if (dn_to_der(params[i].value, &der, &len, err, errlen) == -1)
			return -1;
		free((void *)(uintptr_t)s->opts.tsa_name_der);
		s->opts.tsa_name = 2;
		s->opts.tsa_name_der = der;
		s->opts.tsa_name_len = len;
	}
	return 0;
}

/*
 * RFC 3161 2.4.2: the tsa name "MUST correspond to one of the subject names included in the
 * certificate that is to be used to verify the token".  A DN written in the filter must be the
 * signer's subject (compared as RFC 4514 text); the token then carries the subject's own DER.
 */
static int
tsa_name_check(void *state, const struct signer *signer, char *err, size_t errlen)
{
	struct opt_state *s = state;
	gnutls_datum_t mine = { (unsigned char *)(uintptr_t)s->opts.tsa_name_der,
	    (unsigned)s->opts.tsa_name_len };
	gnutls_datum_t theirs = { signer->subject_dn.data, (unsigned)signer->subject_dn.len };
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	int rc = -1;

	if (s->opts.tsa_name != 2)
		return 0;
	if (gnutls_x509_rdn_get2(&mine, &a, 0) >= 0 && gnutls_x509_rdn_get2(&theirs, &b, 0) >= 0 &&
	    a.size == b.size && memcmp(a.data, b.data, a.size) == 0) {
		s->opts.tsa_name = 1;
		rc = 0;
	} else
		snprintf(err, errlen, "RFC 3161 2.4.2: the name '%s' is not the subject of "
		    "signer %s ('%s')", a.data ? (char *)a.data : "?", signer->name,
		    b.data ? (char *)b.data : "?");
	gnutls_free(a.data);
	gnutls_free(b.data);
	return rc;
}

static int
tsa_name_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, tsa_name_fill);
}

/* cert-id {"version": 1|2, "hash": "sha256", "issuer_serial": true} */
static int
cert_id_fill(const struct filter_param *params, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	size_t i;
	unsigned v;

	s->set = SET_ESS;
	s->opts.ess_version = 2;
	s->opts.ess_hash = hash_by_name("sha256");
	s->opts.ess_issuer_serial = 1;
	for (i = 0; i < n; i++) {
		const struct filter_param *p = &params[i];

		if (strcmp(p->key, "version") == 0) {
			if (param_uint(p, 1, 2, &v, err, errlen) == -1)
				return -1;
			s->opts.ess_version = (int)v;
		} else if (strcmp(p->key, "hash") == 0) {
			s->opts.ess_hash = hash_by_name(p->value);
			if (s->opts.ess_hash == NULL ||
			    s->opts.ess_hash->gnutls == GNUTLS_DIG_SHA1) {
				snprintf(err, errlen, "'hash' must be a SHA-2 or SHA-3 name "
				    "(version 1 always uses SHA-1), not '%s'", p->value);
				return -1;
			}
		} else if (strcmp(p->key, "issuer_serial") == 0) {
			if (param_bool(p, &s->opts.ess_issuer_serial, err, errlen) == -1)
				return -1;
		} else
			return unknown_key(p, "version, hash, issuer_serial", err, errlen);
	}
	return 0;
}

static int
cert_id_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, cert_id_fill);
}

/* cert-chain {"include": "leaf" | "chain"} */
static int
cert_chain_fill(const struct filter_param *params, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	size_t i;

	s->set = SET_CERTS;
	s->opts.certs = CMS_CERTS_SIGNER;
	for (i = 0; i < n; i++) {
		if (strcmp(params[i].key, "include") != 0)
			return unknown_key(&params[i], "include", err, errlen);
		if (strcmp(params[i].value, "leaf") == 0)
			s->opts.certs = CMS_CERTS_SIGNER;
		else if (strcmp(params[i].value, "chain") == 0)
			s->opts.certs = CMS_CERTS_CHAIN;
		else {
			snprintf(err, errlen, "'include' must be leaf or chain, not '%s'",
			    params[i].value);
			return -1;
		}
	}
	return 0;
}

static int
cert_chain_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, cert_chain_fill);
}

/* serial {"bytes": 20} */
static int
serial_fill(const struct filter_param *params, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	size_t i;
	unsigned v;

	s->set = SET_SERIAL;
	s->opts.serial_bytes = TSA_SERIAL_MAX;
	for (i = 0; i < n; i++) {
		if (strcmp(params[i].key, "bytes") != 0)
			return unknown_key(&params[i], "bytes", err, errlen);
		if (param_uint(&params[i], TSA_SERIAL_MIN, TSA_SERIAL_MAX, &v, err, errlen) == -1)
			return -1;
		s->opts.serial_bytes = v;
	}
	return 0;
}

static int
serial_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, serial_fill);
}

/* qualified {"enabled": true}: the qcStatements extension of EN 319 422 in TSTInfo. */
static int
qualified_fill(const struct filter_param *p, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	return bool_fill(p, n, s, err, errlen, "enabled", SET_QUALIFIED, &s->opts.qualified);
}

static int
qualified_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, qualified_fill);
}

/* signature-digest {"digest": "sha1" | "sha256" | "sha384" | "sha512"}: the digest of the
 * token's signature instead of the signer's own (the CMS messageDigest and signature, the
 * XML-DSig references and signature): SHA-1 for legacy SOAP and Authenticode clients. */
static int
sig_digest_fill(const struct filter_param *params, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	size_t i;

	s->set = SET_SIG_DIGEST;
	for (i = 0; i < n; i++) {
		const struct hash_alg *h = hash_by_name(params[i].value);

		if (strcmp(params[i].key, "digest") != 0)
			return unknown_key(&params[i], "digest", err, errlen);
		if (h == NULL || h->xmldsig_uri == NULL || h->gnutls == GNUTLS_DIG_SHA224) {
			snprintf(err, errlen, "'digest' must be sha1, sha256, sha384 or sha512, "
			    "not '%s'", params[i].value);
			return -1;
		}
		s->opts.sig_digest = h;
	}
	if (s->opts.sig_digest == NULL) {
		snprintf(err, errlen, "'digest' is required");
		return -1;
	}
	return 0;
}

static int
sig_digest_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, sig_digest_fill);
}

/* archive {"store": "index" | "token" | "request"} */
static int
archive_fill(const struct filter_param *params, size_t n, struct opt_state *s, char *err,
    size_t errlen)
{
	size_t i;

	s->set = SET_ARCHIVE;
	s->opts.archive = ARCHIVE_TOKEN;
	for (i = 0; i < n; i++) {
		const char *v = params[i].value;

		if (strcmp(params[i].key, "store") != 0)
			return unknown_key(&params[i], "store", err, errlen);
		if (strcmp(v, "index") == 0)
			s->opts.archive = ARCHIVE_INDEX;
		else if (strcmp(v, "token") == 0)
			s->opts.archive = ARCHIVE_TOKEN;
		else if (strcmp(v, "request") == 0)
			s->opts.archive = ARCHIVE_REQUEST;
		else {
			snprintf(err, errlen, "'store' must be index, token or request, not '%s'", v);
			return -1;
		}
	}
	return 0;
}

static int
archive_parse(const struct filter_param *p, size_t n, void **st, char *err, size_t errlen)
{
	return opt_parse(p, n, st, err, errlen, archive_fill);
}

/* clock {"leap": "none" | "pause" | "stop", "max_error_ms": N, "status_file": PATH} */
static void
clock_free(void *state)
{
	struct clock_gate *g = state;

	if (g == NULL)
		return;
	free(g->status_file);
	free(g);
}

static int
clock_parse(const struct filter_param *params, size_t n, void **state, char *err,
    size_t errlen)
{
	struct clock_gate *g;
	unsigned ms;
	size_t i;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -1;
	g->leap_mode = CLOCK_LEAP_PAUSE;
	for (i = 0; i < n; i++) {
		const struct filter_param *p = &params[i];

		if (strcmp(p->key, "leap") == 0) {
			if (strcmp(p->value, "none") == 0)
				g->leap_mode = CLOCK_LEAP_NONE;
			else if (strcmp(p->value, "pause") == 0)
				g->leap_mode = CLOCK_LEAP_PAUSE;
			else if (strcmp(p->value, "stop") == 0)
				g->leap_mode = CLOCK_LEAP_STOP;
			else {
				snprintf(err, errlen, "'leap' must be none, pause or stop, not '%s'",
				    p->value);
				goto fail;
			}
		} else if (strcmp(p->key, "max_error_ms") == 0) {
			if (param_uint(p, 1, 1000, &ms, err, errlen) == -1)
				goto fail;
			g->max_error_us = (long)ms * 1000;
		} else if (strcmp(p->key, "status_file") == 0) {
			if (p->value[0] != '/') {
				snprintf(err, errlen, "'status_file' must be an absolute path");
				goto fail;
			}
			free(g->status_file);
			if ((g->status_file = strdup(p->value)) == NULL)
				goto fail;
		} else {
			unknown_key(p, "leap, max_error_ms, status_file", err, errlen);
			goto fail;
		}
	}
	*state = g;
	return 0;
fail:
	clock_free(g);
	return -1;
}

static int
clock_run(const void *state, const struct tsa_request *req, const struct tsa_client *client,
    struct tsa_opts *o, struct tsa_refusal *ref)
{
	(void)req; (void)client; (void)ref;
	o->clock = state;	/* checked after the chain, against the final accuracy */
	return 0;
}

/* client-auth {}: a certificate the web server verified, registered for this service. */
static int
client_auth_parse(const struct filter_param *params, size_t n, void **state, char *err,
    size_t errlen)
{
	if (n > 0)
		return unknown_key(&params[0], "none", err, errlen);
	*state = NULL;
	return 0;
}

static int
client_auth_run(const void *state, const struct tsa_request *req,
    const struct tsa_client *client, struct tsa_opts *o, struct tsa_refusal *ref)
{
	(void)state; (void)req; (void)o;
	if (!client->cert_verified) {
		tsa_refuse_http(ref, 403, TSA_FAIL_BAD_REQUEST,
		    "a verified client certificate is required",
		    "client-auth: no certificate verified by the web server");
		return -1;
	}
	if (client->registered == NULL) {
		char q[TSA_MAX_PEER_TEXT * 6 + 8];

		/* The subject is the peer's certificate's, as the web server wrote it. */
		text_quote(q, sizeof(q), client->tls_subject, TSA_MAX_PEER_TEXT);
		tsa_refuse_http(ref, 403, TSA_FAIL_BAD_REQUEST, "client not authorised for this service",
		    "client-auth: certificate of %s not registered for this service", q);
		return -1;
	}
	return 0;
}

static void
nothing_free(void *state)
{
	(void)state;
}

/* ip-allow {"allow": ["127.0.0.0/8", "::1/128", ...]} on REMOTE_ADDR. */
struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	unsigned	prefix;
};

struct cidr_list {
	size_t		n;
	struct cidr	net[TSA_MAX_FILTER_PARAMS];
};

static int
cidr_parse(const char *text, struct cidr *c)
{
	char buf[64], *slash;
	unsigned max;

	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		return -1;
	c->prefix = max;
	if (slash != NULL) {
		char *end;
		unsigned long v = strtoul(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || v > max)
			return -1;
		c->prefix = (unsigned)v;
	}
	return 0;
}

static int
ip_allow_parse(const struct filter_param *params, size_t n, void **state, char *err,
    size_t errlen)
{
	struct cidr_list *l;
	size_t i;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(params[i].key, "allow") != 0) {
			unknown_key(&params[i], "allow", err, errlen);
			goto fail;
		}
		if (cidr_parse(params[i].value, &l->net[l->n]) == -1) {
			snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address or CIDR block",
			    params[i].value);
			goto fail;
		}
		l->n++;
	}
	if (l->n == 0) {
		snprintf(err, errlen, "'allow' must name at least one address or block");
		goto fail;
	}
	*state = l;
	return 0;
fail:
	free(l);
	return -1;
}

static int
prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return 0;
	return rest == 0 || ((a[whole] ^ b[whole]) & (0xff << (8 - rest))) == 0;
}

static int
ip_allow_run(const void *state, const struct tsa_request *req, const struct tsa_client *client,
    struct tsa_opts *o, struct tsa_refusal *ref)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct cidr_list *l = state;
	unsigned char a[16];
	int family = 0;
	size_t i;

	(void)req; (void)o;
	if (client->remote_addr != NULL) {
		if (inet_pton(AF_INET, client->remote_addr, a) == 1)
			family = AF_INET;
		else if (inet_pton(AF_INET6, client->remote_addr, a) == 1) {
			family = AF_INET6;
			if (memcmp(a, mapped, sizeof(mapped)) == 0) {
				memmove(a, a + 12, 4);	/* ::ffff:a.b.c.d is IPv4 */
				family = AF_INET;
			}
		}
	}
	for (i = 0; family != 0 && i < l->n; i++)
		if (l->net[i].family == family && prefix_match(a, l->net[i].addr, l->net[i].prefix))
			return 0;
	tsa_refuse_http(ref, 403, TSA_FAIL_BAD_REQUEST, "address not allowed",
	    "ip-allow: %s is not in the allow list",
	    client->remote_addr ? client->remote_addr : "(no address)");
	return -1;
}

static const struct filter_def filters[] = {
	{ "hash-algorithms",	hash_parse,		opt_run,	opt_free, NULL },
	{ "policy-oid",		policy_oid_parse,	policy_oid_run,	oid_list_free, NULL },
	{ "extensions",		extensions_parse,	extensions_run,	oid_list_free, NULL },
	{ "accuracy",		accuracy_parse,		opt_run,	opt_free, NULL },
	{ "ordering",		ordering_parse,		opt_run,	opt_free, NULL },
	{ "tsa-name",		tsa_name_parse,		opt_run,	opt_free, tsa_name_check },
	{ "cert-id",		cert_id_parse,		opt_run,	opt_free, NULL },
	{ "cert-chain",		cert_chain_parse,	opt_run,	opt_free, NULL },
	{ "signing-time",	signing_time_parse,	opt_run,	opt_free, NULL },
	{ "status-text",	status_text_parse,	opt_run,	opt_free, NULL },
	{ "serial",		serial_parse,		opt_run,	opt_free, NULL },
	{ "qualified",		qualified_parse,	opt_run,	opt_free, NULL },
	{ "archive",		archive_parse,		opt_run,	opt_free, NULL },
	{ "signature-digest",		sig_digest_parse,	opt_run,	opt_free, NULL },
	{ "clock",		clock_parse,		clock_run,	clock_free, NULL },
	{ "client-auth",	client_auth_parse,	client_auth_run, nothing_free, NULL },
	{ "ip-allow",		ip_allow_parse,		ip_allow_run,	free, NULL },
};

const struct filter_def *
filter_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (strcmp(filters[i].name, name) == 0)
			return &filters[i];
	return NULL;
}

int
filter_build(const char *name, const struct filter_param *params, size_t n,
    struct filter_inst *out, char *err, size_t errlen)
{
	const struct filter_def *def = filter_by_name(name);
	char why[256];
	void *state = NULL;

	if (def == NULL) {
		snprintf(err, errlen, "unknown filter '%s'", name);
		return -1;
	}
	if (n > TSA_MAX_FILTER_PARAMS) {
		snprintf(err, errlen, "filter %s: more than %d parameters", name,
		    TSA_MAX_FILTER_PARAMS);
		return -1;
	}
	why[0] = '\0';
	if (def->parse(params, n, &state, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "filter %s: %s", name, why[0] ? why : "out of memory");
		return -1;
	}
	out->def = def;
	out->state = state;
	return 0;
}
