/*
 * cms.c - CMS SignedData (RFC 5652) over one piece of content, signed by a PKCS#11 signer,
 * with the signed attributes a TSA token needs: contentType, messageDigest, the ESS signing
 * certificate (RFC 2634 ESSCertID or RFC 5035 ESSCertIDv2) and optionally signingTime.
 * SignedData is version 3 (RFC 5652 5.1: eContentType other than id-data), version 1 over
 * id-data (the Authenticode countersignature, which also has no ESS attribute); SignerInfo is
 * version 1 (issuerAndSerialNumber).
 *
 * Every token goes through here, so the DER is written straight from its parts (der_out in
 * der.c, the SET OF values put in DER order there) rather than through a libtasn1 tree,
 * which cost more CPU per token than everything else of the worker but the signature.  The
 * structure written is SignedData of src/asn1/tsa.asn; the unit tests decode every token with
 * libtasn1 and re-encode it, byte for byte.  Only the ESS value is built with libtasn1: it
 * depends on the certificate and the policy alone, so it is kept from one token to the next.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "asn1.h"
#include "der.h"
#include "log.h"
#include "tst.h"

/* The SigningCertificate(V2) value: one ESSCertID(v2) for the signer certificate. */
static int
ess_value(const struct cms_params *p, unsigned char **out, size_t *outlen)
{
	const struct signer *s = p->signer;
	const struct hash_alg *h = p->ess_version == 1 ? hash_by_name("sha1") : p->ess_hash;
	unsigned char digest[TSA_MAX_IMPRINT];
	asn1_node n = NULL;
	int rc = -1;

	if (h == NULL || gnutls_hash_fast(h->gnutls, s->cert_der.data, s->cert_der.len,
	    digest) < 0)
		return -1;
	if (tsa_asn1_new(p->ess_version == 1 ? "TSA.SigningCertificate" :
	    "TSA.SigningCertificateV2", &n) == -1)
		return -1;
	if (tsa_asn1_write(n, "certs", "NEW", 1) == -1 ||
	    tsa_asn1_write(n, "certs.?1.certHash", digest, h->len) == -1 ||
	    tsa_asn1_write(n, "policies", NULL, 0) == -1)
		goto out;
	/* RFC 5035 5.4.1.1: hashAlgorithm DEFAULT id-sha256, so DER omits it for SHA-256. */
	if (p->ess_version == 2 && h->gnutls == GNUTLS_DIG_SHA256 &&
	    tsa_asn1_write(n, "certs.?1.hashAlgorithm", NULL, 0) == -1)
		goto out;
	if (p->ess_version == 2 && h->gnutls != GNUTLS_DIG_SHA256 &&
	    (tsa_asn1_write(n, "certs.?1.hashAlgorithm.algorithm", h->oid, 0) == -1 ||
	    tsa_asn1_write(n, "certs.?1.hashAlgorithm.parameters", NULL, 0) == -1))
		goto out;
	if (!p->ess_issuer_serial) {
		if (tsa_asn1_write(n, "certs.?1.issuerSerial", NULL, 0) == -1)
			goto out;
	} else if (tsa_asn1_write(n, "certs.?1.issuerSerial.issuer", "NEW", 1) == -1 ||
	    tsa_asn1_write(n, "certs.?1.issuerSerial.issuer.?1", "directoryName", 1) == -1 ||
	    tsa_asn1_write(n, "certs.?1.issuerSerial.issuer.?1.directoryName",
	    s->issuer_dn.data, s->issuer_dn.len) == -1 ||
	    tsa_asn1_write(n, "certs.?1.issuerSerial.serialNumber", s->serial.data,
	    s->serial.len) == -1)
		goto out;
	rc = tsa_asn1_encode(n, NULL, out, outlen);
out:
	asn1_delete_structure(&n);
	return rc;
}

/*
 * The ESS values built last, and what each was built from: a few, so that policies signing
 * with different certificates or ESS options in turn do not rebuild them on every token.
 * Workers are single-threaded processes; the oldest entry makes room for a new one.
 */
#define ESS_CACHE	4
static struct ess_entry {
	unsigned char	*cert;
	size_t		 cert_len;
	int		 version;
	gnutls_digest_algorithm_t hash;
	int		 issuer_serial;
	unsigned char	*value;
	size_t		 len;
} ess_cache[ESS_CACHE];
static size_t ess_next;

/* The ESS value for p, from the cache or built (and kept); NULL when it cannot be built. */
static const unsigned char *
ess_cached(const struct cms_params *p, size_t *len)
{
	const struct der_blob *c = &p->signer->cert_der;
	gnutls_digest_algorithm_t h = p->ess_version == 1 ? GNUTLS_DIG_SHA1 :
	    p->ess_hash != NULL ? p->ess_hash->gnutls : GNUTLS_DIG_UNKNOWN;
	struct ess_entry *e;
	unsigned char *v, *cert;
	size_t vlen, i;

	for (i = 0; i < ESS_CACHE; i++) {
		e = &ess_cache[i];
		if (e->value != NULL && e->cert_len == c->len && e->version == p->ess_version &&
		    e->hash == h && e->issuer_serial == (p->ess_issuer_serial != 0) &&
		    memcmp(e->cert, c->data, c->len) == 0) {
			*len = e->len;
			return e->value;
		}
	}
	if (ess_value(p, &v, &vlen) == -1)
		return NULL;
	if ((cert = malloc(c->len)) == NULL) {
		free(v);
		return NULL;
	}
	memcpy(cert, c->data, c->len);
	e = &ess_cache[ess_next];
	ess_next = (ess_next + 1) % ESS_CACHE;
	free(e->cert);
	free(e->value);
	e->cert = cert;
	e->cert_len = c->len;
	e->version = p->ess_version;
	e->hash = h;
	e->issuer_serial = p->ess_issuer_serial != 0;
	e->value = v;
	e->len = vlen;
	*len = vlen;
	return v;
}

/* Opens Attribute ::= SEQUENCE { attrType, attrValues SET OF ANY } up to its one value;
 * *v is the mark of the SET, the return value that of the SEQUENCE. */
static size_t
attr_open(struct der_out *o, const char *oid, size_t *v)
{
	size_t m = der_out_open(o);

	der_out_oid(o, oid);
	*v = der_out_open(o);
	return m;
}

static void
attr_close(struct der_out *o, size_t m, size_t v)
{
	der_out_close(o, v, 0x31);
	der_out_close(o, m, 0x30);
}

/* AlgorithmIdentifier; params NULL: absent (RFC 5754 3: no parameters for SHA-2). */
static void
put_alg(struct der_out *o, const char *oid, const unsigned char *params, size_t len)
{
	size_t m = der_out_open(o);

	der_out_oid(o, oid);
	if (params != NULL)
		der_out_raw(o, params, len);
	der_out_close(o, m, 0x30);
}

/* RFC 5652 11.3: UTCTime through 2049, GeneralizedTime from 2050. */
static int
put_signing_time(struct der_out *o, const struct timespec *t)
{
	struct timespec whole = { t->tv_sec, 0 };
	char text[32];
	struct tm tm;

	if (gmtime_r(&t->tv_sec, &tm) == NULL)
		return -1;
	if (tm.tm_year + 1900 >= 2050) {
		if (gentime_format(&whole, 0, text, sizeof(text)) == -1)
			return -1;
		der_out_tlv(o, 0x18, text, strlen(text));
		return 0;
	}
	snprintf(text, sizeof(text), "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	der_out_tlv(o, 0x17, text, strlen(text));
	return 0;
}

/* The signed attributes as they are signed, with the universal SET tag (RFC 5652 5.4). */
static int
signed_attrs(const struct cms_params *p, const struct hash_alg *d, unsigned char **out,
    size_t *outlen)
{
	unsigned char digest[TSA_MAX_IMPRINT];
	const unsigned char *ess;
	struct der_out o;
	size_t m, v, len;

	if (gnutls_hash_fast(d->gnutls, p->content, p->content_len, digest) < 0)
		return -1;
	der_out_init(&o);
	m = attr_open(&o, OID_AA_CONTENT_TYPE, &v);
	der_out_oid(&o, p->content_type);
	attr_close(&o, m, v);
	m = attr_open(&o, OID_AA_MESSAGE_DIGEST, &v);
	der_out_tlv(&o, 0x04, digest, d->len);
	attr_close(&o, m, v);
	if (p->ess_version != 0) {
		m = attr_open(&o, p->ess_version == 1 ? OID_AA_SIGNING_CERT :
		    OID_AA_SIGNING_CERT_V2, &v);
		if ((ess = ess_cached(p, &len)) == NULL)
			o.failed = 1;
		else
			der_out_raw(&o, ess, len);
		attr_close(&o, m, v);
	}
	if (p->signing_time != NULL) {
		m = attr_open(&o, OID_AA_SIGNING_TIME, &v);
		if (put_signing_time(&o, p->signing_time) == -1)
			o.failed = 1;
		attr_close(&o, m, v);
	}
	/* DER: a SET OF in the order of its encodings (X.690 11.6). */
	der_out_close_set(&o, 0, 0x31);
	return der_out_finish(&o, out, outlen);
}

int
cms_sign(const struct cms_params *p, unsigned char **out, size_t *outlen)
{
	const struct signer *s = p->signer;
	const struct hash_alg *d = p->digest != NULL ? p->digest : s->digest;
	const unsigned char *params;
	const char *sig_oid;
	unsigned char *attrs = NULL, version;
	gnutls_datum_t sig = { NULL, 0 };
	struct der_out o;
	size_t attrs_len, params_len, ci, ex, sd, m, si, i;
	int rc = -1;

	signer_cms_algorithm(s, d, &sig_oid, &params, &params_len);
	if (signed_attrs(p, d, &attrs, &attrs_len) == -1 || attrs_len < 2) {
		log_msg(LOG_ERR, "signed attributes not encoded (content type %s)",
		    p->content_type);
		goto out;
	}
	if (signer_sign_as(s, signer_algorithm(s, d), attrs, attrs_len, &sig) == -1)
		goto out;
	/* In SignerInfo the signed attributes carry their [0] IMPLICIT tag. */
	attrs[0] = 0xa0;

	der_out_init(&o);
	ci = der_out_open(&o);				/* ContentInfo */
	der_out_oid(&o, OID_CT_SIGNED_DATA);
	ex = der_out_open(&o);				/* content [0] EXPLICIT */
	sd = der_out_open(&o);				/* SignedData */
	/* RFC 5652 5.1: version 1 when eContentType is id-data (no attribute certificates,
	 * SignerInfo version 1), else 3. */
	version = strcmp(p->content_type, OID_CT_DATA) == 0 ? 1 : 3;
	der_out_integer(&o, &version, 1);
	i = der_out_open(&o);				/* digestAlgorithms */
	put_alg(&o, d->oid, NULL, 0);
	der_out_close(&o, i, 0x31);
	i = der_out_open(&o);				/* encapContentInfo */
	der_out_oid(&o, p->content_type);
	si = der_out_open(&o);
	der_out_tlv(&o, 0x04, p->content, p->content_len);
	der_out_close(&o, si, 0xa0);
	der_out_close(&o, i, 0x30);
	if (p->certs != CMS_CERTS_NONE) {		/* certificates [0] IMPLICIT SET OF */
		i = der_out_open(&o);
		der_out_raw(&o, s->cert_der.data, s->cert_der.len);
		for (si = 0; p->certs == CMS_CERTS_CHAIN && si < s->n_chain; si++)
			der_out_raw(&o, s->chain_der[si].data, s->chain_der[si].len);
		der_out_close_set(&o, i, 0xa0);
	}
	i = der_out_open(&o);				/* signerInfos */
	si = der_out_open(&o);				/* SignerInfo */
	version = 1;
	der_out_integer(&o, &version, 1);
	m = der_out_open(&o);				/* sid: issuerAndSerialNumber */
	der_out_raw(&o, s->issuer_dn.data, s->issuer_dn.len);
	der_out_integer(&o, s->serial.data, s->serial.len);
	der_out_close(&o, m, 0x30);
	put_alg(&o, d->oid, NULL, 0);
	der_out_raw(&o, attrs, attrs_len);
	put_alg(&o, sig_oid, params, params_len);
	der_out_tlv(&o, 0x04, sig.data, sig.size);
	der_out_close(&o, si, 0x30);
	der_out_close(&o, i, 0x31);
	der_out_close(&o, sd, 0x30);
	der_out_close(&o, ex, 0xa0);
	der_out_close(&o, ci, 0x30);
	if ((rc = der_out_finish(&o, out, outlen)) == -1)
		log_msg(LOG_ERR, "SignedData not encoded (content type %s)", p->content_type);
out:
	gnutls_free(sig.data);
	free(attrs);
	return rc;
}
