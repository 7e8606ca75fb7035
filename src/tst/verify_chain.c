/*
 * verify_chain.c - the verifier's certificates: those the token carries (RFC 5652 10.2.2),
 * the --untrusted and CA files; the signer named by the SignerInfo's sid (RFC 5652 5.3);
 * the signer certificate's RFC 3161 2.3 profile at genTime and the tsa name against its
 * subject (RFC 3161 2.4.2); the path to the CA file, validated at genTime (RFC 5280 6.1).
 *
 * Untrusted input: every certificate of the token and of the --untrusted file; the CA
 * file holds the trust anchors the operator chose.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "asn1.h"
#include "bytes.h"
#include "signer.h"
#include "tsa_limits.h"
#include "verify.h"
#include "verify_int.h"

/* ---- certificates ------------------------------------------------------------------------- */

static int
load_pem(struct vctx *c, const char *path, const char *what, gnutls_x509_crt_t **list,
    unsigned *n, gnutls_datum_t *keep)
{
	unsigned char *buf = NULL;
	gnutls_datum_t d;
	size_t len;
	int rc;

	if (file_read(path, TSA_MAX_PEM, &buf, &len) == -1)
		return vfy_fail(c, "%s %s: %s", what, path, errno == EFBIG ?
		    "larger than TSA_MAX_PEM" : strerror(errno));
	d.data = buf;
	d.size = (unsigned)len;
	rc = gnutls_x509_crt_list_import2(list, n, &d, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || *n == 0) {
		free(buf);
		*list = NULL;
		*n = 0;
		return vfy_fail(c, "%s %s: no readable PEM certificate (%s)", what, path,
		    rc < 0 ? gnutls_strerror(rc) : "none found");
	}
	if (keep != NULL) {
		keep->data = buf;
		keep->size = (unsigned)len;
	} else
		free(buf);
	return 0;
}

int
vfy_load_certs(struct vctx *c)
{
	const unsigned char *p;
	char path[32];
	size_t len;
	int n, i, rc;

	if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, "certificates", &p, &len) == 0) {
		if (vfy_count_elements(c, c->sdn, "certificates", "certificates",
		    TSA_MAX_CHAIN + 1, &n) == -1)
			return -1;
		for (i = 1; i <= n; i++) {
			gnutls_datum_t d;

			snprintf(path, sizeof(path), "certificates.?%d", i);
			if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, path, &p, &len) != 0 ||
			    p[0] != 0x30)
				return vfy_fail(c, "RFC 5652 10.2.2: certificate %d is not an "
				    "X.509 certificate", i);
			if ((rc = gnutls_x509_crt_init(&c->tok[c->n_tok])) < 0)
				return vfy_fail(c, "gnutls: %s", gnutls_strerror(rc));
			c->n_tok++;
			d.data = (unsigned char *)(uintptr_t)p;
			d.size = (unsigned)len;
			if ((rc = gnutls_x509_crt_import(c->tok[c->n_tok - 1], &d,
			    GNUTLS_X509_FMT_DER)) < 0)
				return vfy_fail(c, "RFC 5280 4.1: certificate %d in the token is "
				    "unreadable: %s", i, gnutls_strerror(rc));
			c->tok_der[c->n_tok - 1] = p;
			c->tok_len[c->n_tok - 1] = len;
		}
	}
	if (c->o->untrusted_file != NULL && load_pem(c, c->o->untrusted_file,
	    "untrusted certificates", &c->extra, &c->n_extra, NULL) == -1)
		return -1;
	if (c->o->ca_file != NULL && load_pem(c, c->o->ca_file, "CA file", &c->ca, &c->n_ca,
	    &c->ca_pem) == -1)
		return -1;
	return 0;
}

static void
subject_text(gnutls_x509_crt_t crt, char *out, size_t outlen)
{
	gnutls_datum_t dn = { NULL, 0 };

	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0) {
		snprintf(out, outlen, "(unreadable subject)");
		return;
	}
	vfy_copy_text(out, outlen, dn.data, dn.size);
	gnutls_free(dn.data);
}

/* Does crt match the SignerInfo's sid?  ias: issuer Name DER and serial; else ski. */
static int
sid_matches(gnutls_x509_crt_t crt, int ias, const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen)
{
	unsigned char buf[64];
	size_t size = sizeof(buf);
	gnutls_datum_t dn = { NULL, 0 };
	unsigned crit;
	int same;

	if (!ias)
		return gnutls_x509_crt_get_subject_key_id(crt, buf, &size, &crit) >= 0 &&
		    size == blen && memcmp(buf, b, blen) == 0;
	if (gnutls_x509_crt_get_serial(crt, buf, &size) < 0 || !vfy_same_uint(buf, size, b, blen))
		return 0;
	if (gnutls_x509_crt_get_raw_issuer_dn(crt, &dn) < 0)
		return 0;
	same = dn.size == alen && memcmp(dn.data, a, alen) == 0;
	gnutls_free(dn.data);
	return same;
}

/* RFC 5652 5.3: sid names the signer certificate, looked for in the token, then in the
 * --untrusted and CA files. */
int
vfy_find_signer(struct vctx *c)
{
	const char *base = "signerInfos.?1.sid.issuerAndSerialNumber.";
	char kind[32], field[96];
	unsigned char b[64];
	const unsigned char *a = NULL;
	unsigned long version;
	size_t alen = 0, blen, i;
	int len = sizeof(kind), ias, rc;

	if (asn1_read_value(c->sdn, "signerInfos.?1.sid", kind, &len) != ASN1_SUCCESS ||
	    len <= 0 || (size_t)len >= sizeof(kind))
		return vfy_fail(c, "RFC 5652 5.3: unreadable SignerIdentifier");
	kind[len] = '\0';
	ias = strcmp(kind, "issuerAndSerialNumber") == 0;
	/* RFC 5652 5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier. */
	if (vfy_read_uint(c->sdn, "signerInfos.?1.version", &version) != 0 ||
	    version != (ias ? 1u : 3u))
		return vfy_fail(c, "RFC 5652 5.3: SignerInfo version must be %d with %s",
		    ias ? 1 : 3, kind);
	if (ias) {
		snprintf(field, sizeof(field), "%sissuer", base);
		if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, field, &a, &alen) != 0)
			return vfy_fail(c, "RFC 5652 5.3: unreadable sid issuer");
		snprintf(field, sizeof(field), "%sserialNumber", base);
	} else
		snprintf(field, sizeof(field), "signerInfos.?1.sid.subjectKeyIdentifier");
	if (tsa_asn1_read(c->sdn, field, b, sizeof(b), &blen) != 0)
		return vfy_fail(c, "RFC 5652 5.3: unreadable sid %s", ias ? "serialNumber" :
		    "subjectKeyIdentifier");

	for (i = 0; i < c->n_tok && c->signer == NULL; i++)
		if (sid_matches(c->tok[i], ias, a, alen, b, blen)) {
			c->signer = c->tok[i];
			c->signer_der = c->tok_der[i];
			c->signer_der_len = c->tok_len[i];
		}
	for (i = 0; i < c->n_extra && c->signer == NULL; i++)
		if (sid_matches(c->extra[i], ias, a, alen, b, blen))
			c->signer = c->extra[i];
	for (i = 0; i < c->n_ca && c->signer == NULL; i++)
		if (sid_matches(c->ca[i], ias, a, alen, b, blen))
			c->signer = c->ca[i];
	if (c->signer == NULL) {
		if (c->n_tok == 0)
			return vfy_fail(c, "RFC 3161 2.4.1: the token carries no certificates "
			    "(certReq was false) and neither --untrusted nor the CA file holds "
			    "the signer's");
		return vfy_fail(c, "RFC 5652 5.3: no certificate matches the SignerInfo's sid");
	}
	if (c->signer_der == NULL) {
		if ((rc = gnutls_x509_crt_export2(c->signer, GNUTLS_X509_FMT_DER,
		    &c->signer_export)) < 0)
			return vfy_fail(c, "gnutls: %s", gnutls_strerror(rc));
		c->signer_der = c->signer_export.data;
		c->signer_der_len = c->signer_export.size;
	}
	subject_text(c->signer, c->r->signer_subject, sizeof(c->r->signer_subject));
	return 0;
}

/* ---- the signer certificate and its chain ------------------------------------------------- */

int
vfy_check_signer_cert(struct vctx *c)
{
	char why[256];
	unsigned char *v = NULL;
	gnutls_datum_t subject = { NULL, 0 };
	size_t vlen;
	int same;

	if (signer_check_cert(c->signer, c->r->gen_time_sec, why, sizeof(why)) == -1)
		return vfy_fail(c, "signer certificate at genTime: %s", why);
	/* RFC 3161 2.4.2: tsa, when present, must be one of the certificate's subject
	 * names; a directoryName is checked against the subject (other forms are shown). */
	if (tsa_asn1_read_alloc(c->tstn, "tsa.directoryName", &v, &vlen) != 0)
		return 0;
	if (gnutls_x509_crt_get_raw_dn(c->signer, &subject) < 0) {
		free(v);
		return vfy_fail(c, "signer certificate: unreadable subject");
	}
	same = subject.size == vlen && memcmp(subject.data, v, vlen) == 0;
	gnutls_free(subject.data);
	free(v);
	if (!same)
		return vfy_fail(c, "RFC 3161 2.4.2: the tsa name is not the signer certificate's "
		    "subject");
	return 0;
}

static gnutls_x509_crt_t
issuer_in(gnutls_x509_crt_t *list, size_t n, gnutls_x509_crt_t crt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] != crt && gnutls_x509_crt_check_issuer(crt, list[i]))
			return list[i];
	return NULL;
}

static int
in_list(gnutls_x509_crt_t *list, size_t n, gnutls_x509_crt_t crt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == crt || gnutls_x509_crt_equals(list[i], crt))
			return 1;
	return 0;
}

static int
valid_at(struct vctx *c, gnutls_x509_crt_t crt)
{
	time_t from = gnutls_x509_crt_get_activation_time(crt);
	time_t until = gnutls_x509_crt_get_expiration_time(crt);
	char name[256], a[32], b[32], t[32];

	if (from != (time_t)-1 && until != (time_t)-1 && c->r->gen_time_sec >= from &&
	    c->r->gen_time_sec <= until)
		return 0;
	subject_text(crt, name, sizeof(name));
	vfy_format_time(from, a, sizeof(a));
	vfy_format_time(until, b, sizeof(b));
	vfy_format_time(c->r->gen_time_sec, t, sizeof(t));
	return vfy_fail(c, "RFC 5280 6.1.3: \"%s\" is not valid at genTime %s (valid %s to %s)",
	    name, t, a, b);
}

/*
 * RFC 5280 6.1 at genTime.  The path is built here (signer, then issuers from the token
 * and --untrusted, up to an issuer in the CA file) so that the certificates GnuTLS verifies
 * are known; GnuTLS checks signatures, constraints and the timeStamping purpose with its
 * clock disabled, and each certificate's validity is then checked at genTime, the time
 * the token speaks for (GnuTLS has no documented way to verify at another time).
 */
int
vfy_check_chain(struct vctx *c)
{
	gnutls_x509_crt_t chain[TSA_MAX_CHAIN + 1], cur, next, anchor = NULL;
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st purpose;
	gnutls_datum_t text = { NULL, 0 };
	char name[256];
	unsigned n = 0, i, status = 0;
	int rc = -1, ret;

	if (c->o->ca_file == NULL)
		return 0;
	chain[n++] = cur = c->signer;
	while (!in_list(c->ca, c->n_ca, cur) &&
	    (anchor = issuer_in(c->ca, c->n_ca, cur)) == NULL) {
		if (gnutls_x509_crt_check_issuer(cur, cur)) {
			subject_text(cur, name, sizeof(name));
			return vfy_fail(c, "RFC 5280 6.1: the chain ends at self-signed \"%s\", "
			    "which is not in the CA file", name);
		}
		if ((next = issuer_in(c->tok, c->n_tok, cur)) == NULL)
			next = issuer_in(c->extra, c->n_extra, cur);
		if (next == NULL) {
			subject_text(cur, name, sizeof(name));
			return vfy_fail(c, "RFC 5280 6.1: no issuer of \"%s\" in the token, "
			    "--untrusted or the CA file", name);
		}
		for (i = 0; i < n; i++)
			if (chain[i] == next)
				return vfy_fail(c, "RFC 5280 6.1: the certificates form a loop");
		if (n == TSA_MAX_CHAIN + 1)
			return vfy_fail(c, "RFC 5280 6.1: chain longer than %d certificates "
			    "(TSA_MAX_CHAIN)", TSA_MAX_CHAIN);
		chain[n++] = cur = next;
	}

	if ((ret = gnutls_x509_trust_list_init(&tl, 0)) < 0 ||
	    (ret = gnutls_x509_trust_list_add_trust_mem(tl, &c->ca_pem, NULL,
	    GNUTLS_X509_FMT_PEM, 0, 0)) < 0) {
		vfy_fail(c, "CA file: %s", gnutls_strerror(ret));
		goto out;
	}
	memset(&purpose, 0, sizeof(purpose));
	purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
	purpose.data = (unsigned char *)(uintptr_t)OID_KP_TIMESTAMPING;
	ret = gnutls_x509_trust_list_verify_crt2(tl, chain, n, &purpose, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
	    GNUTLS_VERIFY_DO_NOT_ALLOW_UNSORTED_CHAIN, &status, NULL);
	if (ret < 0) {
		vfy_fail(c, "RFC 5280 6.1: chain verification failed: %s", gnutls_strerror(ret));
		goto out;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text,
		    0) < 0)
			vfy_fail(c, "RFC 5280 6.1: the chain does not verify to the CA file");
		else
			vfy_fail(c, "RFC 5280 6.1: the chain does not verify to the CA file: %s",
			    text.data);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (valid_at(c, chain[i]) == -1)
			goto out;
	if (anchor != NULL && valid_at(c, anchor) == -1)
		goto out;
	c->r->chain_verified = 1;
	rc = 0;
out:
	gnutls_free(text.data);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	return rc;
}
