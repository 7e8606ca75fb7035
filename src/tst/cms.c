/*
 * cms.c - CMS SignedData (RFC 5652) over one piece of content, signed by a PKCS#11 signer,
 * with the signed attributes a TSA token needs: contentType, messageDigest, the ESS signing
 * certificate (RFC 2634 ESSCertID or RFC 5035 ESSCertIDv2) and optionally signingTime.
 * SignedData is version 3 (RFC 5652 5.1: eContentType other than id-data), version 1 over
 * id-data (the Authenticode countersignature, which also has no ESS attribute); SignerInfo is
 * version 1 (issuerAndSerialNumber).  libtasn1 sorts the SET OF values into DER order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "asn1.h"
#include "log.h"
#include "tst.h"

/* Appends one signed attribute with a single DER value; takes ownership of value. */
static int
add_attr(asn1_node n, const char *oid, unsigned char *value, size_t len)
{
	int rc = -1;

	if (value == NULL)
		return -1;
	if (tsa_asn1_write(n, "signerInfos.?1.signedAttrs", "NEW", 1) == 0 &&
	    tsa_asn1_write(n, "signerInfos.?1.signedAttrs.?LAST.attrType", oid, 0) == 0 &&
	    tsa_asn1_write(n, "signerInfos.?1.signedAttrs.?LAST.attrValues", "NEW", 1) == 0 &&
	    tsa_asn1_write(n, "signerInfos.?1.signedAttrs.?LAST.attrValues.?LAST", value,
	    len) == 0)
		rc = 0;
	free(value);
	return rc;
}

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

/* RFC 5652 11.3: UTCTime through 2049, GeneralizedTime from 2050. */
static int
signing_time_value(const struct timespec *t, unsigned char **out, size_t *outlen)
{
	struct timespec whole = { t->tv_sec, 0 };
	char text[32];
	struct tm tm;

	if (gmtime_r(&t->tv_sec, &tm) == NULL)
		return -1;
	if (tm.tm_year + 1900 >= 2050) {
		if (gentime_format(&whole, 0, text, sizeof(text)) == -1)
			return -1;
		return tsa_asn1_encode_value("TSA.GeneralizedTimeValue", text, 0, out, outlen);
	}
	snprintf(text, sizeof(text), "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return tsa_asn1_encode_value("TSA.UTCTimeValue", text, 0, out, outlen);
}

static int
add_signed_attrs(asn1_node n, const struct cms_params *p)
{
	const struct hash_alg *d = p->digest != NULL ? p->digest : p->signer->digest;
	unsigned char digest[TSA_MAX_IMPRINT], *v = NULL;
	size_t vlen;

	if (gnutls_hash_fast(d->gnutls, p->content, p->content_len, digest) < 0)
		return -1;
	if (tsa_asn1_encode_value("TSA.ObjectIdentifier", p->content_type, 0, &v, &vlen) == -1 ||
	    add_attr(n, OID_AA_CONTENT_TYPE, v, vlen) == -1)
		return -1;
	v = NULL;
	if (tsa_asn1_encode_value("TSA.OctetString", digest, d->len, &v, &vlen) == -1 ||
	    add_attr(n, OID_AA_MESSAGE_DIGEST, v, vlen) == -1)
		return -1;
	v = NULL;
	if (p->ess_version != 0 && (ess_value(p, &v, &vlen) == -1 ||
	    add_attr(n, p->ess_version == 1 ? OID_AA_SIGNING_CERT : OID_AA_SIGNING_CERT_V2, v,
	    vlen) == -1))
		return -1;
	v = NULL;
	if (p->signing_time != NULL && (signing_time_value(p->signing_time, &v, &vlen) == -1 ||
	    add_attr(n, OID_AA_SIGNING_TIME, v, vlen) == -1))
		return -1;
	return 0;
}

/* Signs the DER of the signed attributes with the universal SET tag (RFC 5652 5.4). */
static int
sign_attrs(asn1_node n, const struct signer *s, const struct hash_alg *d)
{
	unsigned char *der = NULL;
	gnutls_datum_t sig = { NULL, 0 };
	size_t len;
	int rc = -1;

	if (tsa_asn1_encode(n, "signerInfos.?1.signedAttrs", &der, &len) == -1)
		return -1;
	if (len < 2 || der[0] != 0xa0)
		goto out;
	der[0] = 0x31;
	if (signer_sign_as(s, signer_algorithm(s, d), der, len, &sig) == -1)
		goto out;
	rc = tsa_asn1_write(n, "signerInfos.?1.signature", sig.data, sig.size);
out:
	gnutls_free(sig.data);
	free(der);
	return rc;
}

static int
add_certs(asn1_node n, const struct cms_params *p)
{
	const struct signer *s = p->signer;
	size_t i;

	if (p->certs == CMS_CERTS_NONE)
		return tsa_asn1_write(n, "certificates", NULL, 0);
	if (tsa_asn1_write(n, "certificates", "NEW", 1) == -1 ||
	    tsa_asn1_write(n, "certificates.?LAST", s->cert_der.data, s->cert_der.len) == -1)
		return -1;
	for (i = 0; p->certs == CMS_CERTS_CHAIN && i < s->n_chain; i++)
		if (tsa_asn1_write(n, "certificates", "NEW", 1) == -1 ||
		    tsa_asn1_write(n, "certificates.?LAST", s->chain_der[i].data,
		    s->chain_der[i].len) == -1)
			return -1;
	return 0;
}

int
cms_sign(const struct cms_params *p, unsigned char **out, size_t *outlen)
{
	const struct signer *s = p->signer;
	const struct hash_alg *d = p->digest != NULL ? p->digest : s->digest;
	const unsigned char *params;
	const char *sig_oid;
	unsigned char *sd = NULL;
	size_t sd_len, params_len;
	asn1_node n = NULL, ci = NULL;
	int rc = -1;

	if (tsa_asn1_new("TSA.SignedData", &n) == -1)
		return -1;
	signer_cms_algorithm(s, d, &sig_oid, &params, &params_len);
	/* RFC 5652 5.1: version 1 when eContentType is id-data (no attribute certificates,
	 * SignerInfo version 1), else 3. */
	if (tsa_asn1_write(n, "version", strcmp(p->content_type, OID_CT_DATA) == 0 ? "1" : "3",
	    0) == -1 ||
	    tsa_asn1_write(n, "digestAlgorithms", "NEW", 1) == -1 ||
	    tsa_asn1_write(n, "digestAlgorithms.?1.algorithm", d->oid, 0) == -1 ||
	    tsa_asn1_write(n, "digestAlgorithms.?1.parameters", NULL, 0) == -1 ||
	    tsa_asn1_write(n, "encapContentInfo.eContentType", p->content_type, 0) == -1 ||
	    tsa_asn1_write(n, "encapContentInfo.eContent", p->content, p->content_len) == -1 ||
	    add_certs(n, p) == -1 ||
	    tsa_asn1_write(n, "crls", NULL, 0) == -1 ||
	    tsa_asn1_write(n, "signerInfos", "NEW", 1) == -1 ||
	    tsa_asn1_write(n, "signerInfos.?1.version", "1", 0) == -1 ||
	    tsa_asn1_write(n, "signerInfos.?1.sid", "issuerAndSerialNumber", 1) == -1 ||
	    tsa_asn1_write(n, "signerInfos.?1.sid.issuerAndSerialNumber.issuer",
	    s->issuer_dn.data, s->issuer_dn.len) == -1 ||
	    tsa_asn1_write(n, "signerInfos.?1.sid.issuerAndSerialNumber.serialNumber",
	    s->serial.data, s->serial.len) == -1 ||
	    tsa_asn1_write(n, "signerInfos.?1.digestAlgorithm.algorithm", d->oid, 0) == -1 ||
	    tsa_asn1_write(n, "signerInfos.?1.digestAlgorithm.parameters", NULL, 0) == -1 ||
	    tsa_asn1_write(n, "signerInfos.?1.signatureAlgorithm.algorithm", sig_oid, 0) == -1 ||
	    tsa_asn1_write(n, "signerInfos.?1.signatureAlgorithm.parameters", params,
	    params_len) == -1 ||
	    tsa_asn1_write(n, "signerInfos.?1.unsignedAttrs", NULL, 0) == -1)
		goto out;
	if (add_signed_attrs(n, p) == -1 || sign_attrs(n, s, d) == -1 ||
	    tsa_asn1_encode(n, NULL, &sd, &sd_len) == -1)
		goto out;
	if (tsa_asn1_new("TSA.ContentInfo", &ci) == -1 ||
	    tsa_asn1_write(ci, "contentType", OID_CT_SIGNED_DATA, 0) == -1 ||
	    tsa_asn1_write(ci, "content", sd, sd_len) == -1)
		goto out;
	rc = tsa_asn1_encode(ci, NULL, out, outlen);
out:
	free(sd);
	asn1_delete_structure(&n);
	asn1_delete_structure(&ci);
	return rc;
}
