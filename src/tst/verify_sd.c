/*
 * verify_sd.c - the verifier's checks of the token's CMS layers: ContentInfo and SignedData
 * (RFC 3161 2.4.2, RFC 5652 3 and 5.1 to 5.3: id-signedData, version 3, eContentType
 * id-ct-TSTInfo, one SignerInfo, its digestAlgorithm listed in digestAlgorithms), the
 * signed attributes (RFC 5652 5.3, 11.1 contentType, 11.2 messageDigest; the ESS ones are
 * verify_ess.c's) and the signature over them (RFC 5652 5.4 and 5.6; RSA PKCS#1 v1.5 per
 * RFC 3370 3.2 and RFC 4055 5, RSASSA-PSS per RFC 4055 3.1 and RFC 4056 3, ECDSA per RFC
 * 5758 3.2).
 *
 * Untrusted input: the token bytes.  What is hashed or signed (eContent, signedAttrs) is a
 * span of the input, never a re-encoding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "asn1.h"
#include "hashalg.h"
#include "tsa_limits.h"
#include "verify.h"
#include "verify_int.h"

/* The contents of the DER TLV p[0..len) whose tag must be `tag` (input already gated). */
static int
tlv_contents(const unsigned char *p, size_t len, unsigned char tag, const unsigned char **v,
    size_t *vlen)
{
	size_t hdr, n = 0, k, i;

	if (len < 2 || p[0] != tag)
		return -1;
	if (p[1] < 0x80) {
		hdr = 2;
		n = p[1];
	} else {
		k = p[1] & 0x7f;
		if (k == 0 || k > 4 || len < 2 + k)
			return -1;
		for (i = 0; i < k; i++)
			n = n << 8 | p[2 + i];
		hdr = 2 + k;
	}
	if (n != len - hdr)
		return -1;
	*v = p + hdr;
	*vlen = n;
	return 0;
}

/* ---- ContentInfo and SignedData ----------------------------------------------------------- */

int
vfy_check_signed_data(struct vctx *c, const unsigned char *tok, size_t toklen)
{
	char oid[TSA_MAX_OID_TEXT] = "", path[64];
	const unsigned char *p;
	unsigned long version;
	asn1_node ci = NULL;
	size_t len;
	const char *why;
	int rc = -1, n, i, listed = 0;

	if (tsa_asn1_decode("TSA.ContentInfo", tok, toklen, &ci, &why) == -1) {
		vfy_fail(c, "RFC 5652 3: token ContentInfo %s", why);
		goto out;
	}
	if (tsa_asn1_read_oid(ci, "contentType", oid, sizeof(oid)) != 0 ||
	    strcmp(oid, OID_CT_SIGNED_DATA) != 0) {
		vfy_fail(c, "RFC 3161 2.4.2: the token's contentType must be id-signedData");
		goto out;
	}
	if (tsa_asn1_span(ci, tok, toklen, "content", &p, &len) != 0 ||
	    tlv_contents(p, len, 0xa0, &c->sd, &c->sd_len) == -1) {
		vfy_fail(c, "RFC 5652 3: ContentInfo content [0] missing");
		goto out;
	}
	if (tsa_asn1_decode("TSA.SignedData", c->sd, c->sd_len, &c->sdn, &why) == -1) {
		vfy_fail(c, "RFC 5652 5.1: SignedData %s", why);
		goto out;
	}
	/* RFC 5652 5.1: version 3 when eContentType is not id-data (and 4 or 5 only for
	 * attribute certificates or other formats, which a token has no use for). */
	if (vfy_read_uint(c->sdn, "version", &version) != 0 || version != 3) {
		vfy_fail(c, "RFC 5652 5.1: SignedData version must be 3 for a time-stamp token");
		goto out;
	}
	if (tsa_asn1_read_oid(c->sdn, "encapContentInfo.eContentType", oid, sizeof(oid)) != 0 ||
	    strcmp(oid, OID_CT_TSTINFO) != 0) {
		vfy_fail(c, "RFC 3161 2.4.2: eContentType must be id-ct-TSTInfo (is %s)", oid);
		goto out;
	}
	/* eContent [0] EXPLICIT OCTET STRING: the octets are the DER TSTInfo. */
	if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, "encapContentInfo.eContent", &p, &len) != 0) {
		vfy_fail(c, "RFC 3161 2.4.2: eContent (the TSTInfo) must be present");
		goto out;
	}
	if (tlv_contents(p, len, 0xa0, &p, &len) == -1 ||
	    tlv_contents(p, len, 0x04, &c->econtent, &c->econtent_len) == -1) {
		vfy_fail(c, "RFC 5652 5.2: eContent is not an OCTET STRING");
		goto out;
	}
	if (vfy_count_elements(c, c->sdn, "signerInfos", "signerInfos", TSA_MAX_SET_ELEMENTS,
	    &n) == -1)
		goto out;
	if (n != 1) {
		vfy_fail(c, "RFC 3161 2.4.2: a token holds exactly one SignerInfo (this one has "
		    "%d)", n);
		goto out;
	}
	if (tsa_asn1_read_oid(c->sdn, "signerInfos.?1.digestAlgorithm.algorithm", oid,
	    sizeof(oid)) != 0 || (c->digest = hash_by_oid(oid)) == NULL) {
		vfy_fail(c, "RFC 5652 5.3: unknown SignerInfo digestAlgorithm %s", oid);
		goto out;
	}
	if (vfy_params_absent_or_null(c, c->sdn, c->sd, c->sd_len,
	    "signerInfos.?1.digestAlgorithm.parameters", "digestAlgorithm") == -1)
		goto out;
	if (vfy_count_elements(c, c->sdn, "digestAlgorithms", "digestAlgorithms",
	    TSA_MAX_SET_ELEMENTS, &n) == -1)
		goto out;
	for (i = 1; i <= n && !listed; i++) {
		snprintf(path, sizeof(path), "digestAlgorithms.?%d.algorithm", i);
		listed = tsa_asn1_read_oid(c->sdn, path, oid, sizeof(oid)) == 0 &&
		    strcmp(oid, c->digest->oid) == 0;
		snprintf(path, sizeof(path), "digestAlgorithms.?%d.parameters", i);
		if (listed && vfy_params_absent_or_null(c, c->sdn, c->sd, c->sd_len, path,
		    "digestAlgorithms") == -1)
			goto out;
	}
	if (!listed) {
		vfy_fail(c, "RFC 5652 5.1: digestAlgorithms does not list the SignerInfo's %s",
		    c->digest->name);
		goto out;
	}
	rc = 0;
out:
	asn1_delete_structure(&ci);
	return rc;
}

/* ---- signed attributes -------------------------------------------------------------------- */

/* The single value of signed attribute idx, decoded strictly as type. */
int
vfy_attr_value(struct vctx *c, int idx, const char *type, const char *what, asn1_node *out)
{
	const unsigned char *p;
	char field[64];
	size_t len;
	const char *why;

	snprintf(field, sizeof(field), "signerInfos.?1.signedAttrs.?%d.attrValues.?1", idx);
	if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, field, &p, &len) != 0)
		return vfy_fail(c, "%s: value missing", what);
	if (tsa_asn1_decode(type, p, len, out, &why) == -1)
		return vfy_fail(c, "%s: value %s", what, why);
	return 0;
}

static const struct {
	const char	*oid;
	const char	*name;
	const char	*rule;
} known_attrs[] = {
	{ OID_AA_CONTENT_TYPE, "contentType", "RFC 5652 11.1" },
	{ OID_AA_MESSAGE_DIGEST, "messageDigest", "RFC 5652 11.2" },
	{ OID_AA_SIGNING_CERT, "signingCertificate", "RFC 2634 5.4" },
	{ OID_AA_SIGNING_CERT_V2, "signingCertificateV2", "RFC 5035 5.4" },
};
#define N_KNOWN_ATTRS	(sizeof(known_attrs) / sizeof(known_attrs[0]))

int
vfy_check_signed_attrs(struct vctx *c)
{
	unsigned char md[TSA_MAX_IMPRINT], want[TSA_MAX_IMPRINT];
	char oid[TSA_MAX_OID_TEXT] = "", field[64];
	const unsigned char *p;
	int at[N_KNOWN_ATTRS] = { 0 };
	asn1_node n = NULL;
	size_t len, k;
	int count, i, values, rc = -1;

	if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, "signerInfos.?1.signedAttrs", &p,
	    &len) != 0)
		return vfy_fail(c, "RFC 5652 5.3: signedAttrs must be present when eContentType "
		    "is not id-data");
	if (vfy_count_elements(c, c->sdn, "signerInfos.?1.signedAttrs", "signedAttrs",
	    TSA_MAX_SET_ELEMENTS, &count) == -1)
		return -1;
	for (i = 1; i <= count; i++) {
		snprintf(field, sizeof(field), "signerInfos.?1.signedAttrs.?%d.attrType", i);
		if (tsa_asn1_read_oid(c->sdn, field, oid, sizeof(oid)) != 0)
			return vfy_fail(c, "RFC 5652 5.3: unreadable signed attribute %d", i);
		for (k = 0; k < N_KNOWN_ATTRS; k++)
			if (strcmp(oid, known_attrs[k].oid) == 0)
				break;
		if (k == N_KNOWN_ATTRS)
			continue;
		if (at[k] != 0)
			return vfy_fail(c, "%s: the %s attribute appears more than once",
			    known_attrs[k].rule, known_attrs[k].name);
		snprintf(field, sizeof(field), "signerInfos.?1.signedAttrs.?%d.attrValues", i);
		if (asn1_number_of_elements(c->sdn, field, &values) != ASN1_SUCCESS ||
		    values != 1)
			return vfy_fail(c, "%s: the %s attribute must have exactly one value",
			    known_attrs[k].rule, known_attrs[k].name);
		at[k] = i;
	}
	if (at[0] == 0)
		return vfy_fail(c, "RFC 5652 11.1: the contentType signed attribute is missing");
	if (at[1] == 0)
		return vfy_fail(c, "RFC 5652 11.2: the messageDigest signed attribute is missing");

	if (vfy_attr_value(c, at[0], "TSA.ObjectIdentifier", "RFC 5652 11.1: contentType",
	    &n) == -1)
		return -1;
	if (tsa_asn1_read_oid(n, "", oid, sizeof(oid)) != 0 || strcmp(oid, OID_CT_TSTINFO) != 0) {
		vfy_fail(c, "RFC 5652 11.1: the contentType attribute must equal eContentType "
		    "(id-ct-TSTInfo)");
		goto out;
	}
	asn1_delete_structure(&n);
	if (vfy_attr_value(c, at[1], "TSA.OctetString", "RFC 5652 11.2: messageDigest", &n) == -1)
		goto out;
	if (tsa_asn1_read(n, "", md, sizeof(md), &len) != 0 || len != c->digest->len) {
		vfy_fail(c, "RFC 5652 11.2: messageDigest is not a %s digest", c->digest->name);
		goto out;
	}
	if (gnutls_hash_fast(c->digest->gnutls, c->econtent, c->econtent_len, want) < 0 ||
	    memcmp(md, want, len) != 0) {
		vfy_fail(c, "RFC 5652 5.4: messageDigest does not match the TSTInfo");
		goto out;
	}

	/* RFC 3161 2.4.2 (RFC 5816): the TSA certificate is identified by a signed ESS
	 * signingCertificate or signingCertificateV2 attribute. */
	if (at[2] == 0 && at[3] == 0) {
		vfy_fail(c, "RFC 3161 2.4.2: neither signingCertificate nor signingCertificateV2 "
		    "is a signed attribute");
		goto out;
	}
	if (at[3] != 0 && vfy_check_ess(c, 2, at[3]) == -1)
		goto out;
	if (at[2] != 0 && vfy_check_ess(c, 1, at[2]) == -1)
		goto out;
	c->r->ess_version = at[3] != 0 ? 2 : 1;
	rc = 0;
out:
	asn1_delete_structure(&n);
	return rc;
}

/* ---- the signature ------------------------------------------------------------------------ */

enum sig_kind { SIG_PKCS1, SIG_PSS, SIG_ECDSA };

/* signatureAlgorithm OIDs; hash NULL: the SignerInfo's digestAlgorithm (or PSS params). */
static const struct {
	const char	*oid;
	const char	*name;
	enum sig_kind	 kind;
	const char	*hash;
} sig_algs[] = {
	{ OID_RSA_ENCRYPTION, "rsaEncryption", SIG_PKCS1, NULL },		/* RFC 3370 3.2 */
	{ "1.2.840.113549.1.1.5", "sha1WithRSAEncryption", SIG_PKCS1, "sha1" },
	{ "1.2.840.113549.1.1.14", "sha224WithRSAEncryption", SIG_PKCS1, "sha224" },
	{ "1.2.840.113549.1.1.11", "sha256WithRSAEncryption", SIG_PKCS1, "sha256" },
	{ "1.2.840.113549.1.1.12", "sha384WithRSAEncryption", SIG_PKCS1, "sha384" },
	{ "1.2.840.113549.1.1.13", "sha512WithRSAEncryption", SIG_PKCS1, "sha512" },
	{ OID_RSASSA_PSS, "id-RSASSA-PSS", SIG_PSS, NULL },			/* RFC 4056 */
	{ "1.2.840.10045.4.3.1", "ecdsa-with-SHA224", SIG_ECDSA, "sha224" },	/* RFC 5758 */
	{ "1.2.840.10045.4.3.2", "ecdsa-with-SHA256", SIG_ECDSA, "sha256" },
	{ "1.2.840.10045.4.3.3", "ecdsa-with-SHA384", SIG_ECDSA, "sha384" },
	{ "1.2.840.10045.4.3.4", "ecdsa-with-SHA512", SIG_ECDSA, "sha512" },
};

/* RFC 4055 3.1 RSASSA-PSS-params, as RFC 4056 3 puts them in a SignerInfo. */
static int
pss_params(struct vctx *c, const unsigned char *p, size_t len, unsigned long *salt)
{
	const struct hash_alg *h, *mgf_h;
	char oid[TSA_MAX_OID_TEXT] = "";
	const unsigned char *mp;
	asn1_node n = NULL, mgf = NULL;
	unsigned long trailer;
	size_t mlen;
	const char *why;
	int rc = -1;

	if (tsa_asn1_decode("TSA.RSASSA-PSS-params", p, len, &n, &why) == -1)
		return vfy_fail(c, "RFC 4056 3: RSASSA-PSS-params %s", why);
	/* Absent fields take the RFC 4055 3.1 defaults: SHA-1, MGF1 with SHA-1, salt 20. */
	switch (tsa_asn1_read_oid(n, "hashAlgorithm.algorithm", oid, sizeof(oid))) {
	case 0:
		h = hash_by_oid(oid);
		break;
	case 1:
		h = hash_by_name("sha1");
		break;
	default:
		h = NULL;
		break;
	}
	mgf_h = hash_by_name("sha1");
	switch (tsa_asn1_read_oid(n, "maskGenAlgorithm.algorithm", oid, sizeof(oid))) {
	case 0:
		if (strcmp(oid, OID_MGF1) != 0 || tsa_asn1_span(n, p, len,
		    "maskGenAlgorithm.parameters", &mp, &mlen) != 0 ||
		    tsa_asn1_decode("TSA.AlgorithmIdentifier", mp, mlen, &mgf, &why) == -1 ||
		    tsa_asn1_read_oid(mgf, "algorithm", oid, sizeof(oid)) != 0) {
			vfy_fail(c, "RFC 4055 3.1: maskGenAlgorithm must be MGF1 with a hash");
			goto out;
		}
		mgf_h = hash_by_oid(oid);
		break;
	case 1:
		break;
	default:
		vfy_fail(c, "RFC 4055 3.1: unreadable maskGenAlgorithm");
		goto out;
	}
	switch (vfy_read_uint(n, "saltLength", salt)) {
	case 1:
		*salt = 20;
		break;
	case -1:
		vfy_fail(c, "RFC 4055 3.1: saltLength out of range");
		goto out;
	}
	switch (vfy_read_uint(n, "trailerField", &trailer)) {
	case 1:
		trailer = 1;
		break;
	case -1:
		trailer = 0;
		break;
	}
	if (trailer != 1) {
		vfy_fail(c, "RFC 4055 3.1: trailerField must be 1");
		goto out;
	}
	if (h != c->digest) {
		vfy_fail(c, "RFC 4056 3: the RSASSA-PSS hash must be the SignerInfo's "
		    "digestAlgorithm (%s)", c->digest->name);
		goto out;
	}
	if (mgf_h != h) {
		vfy_fail(c, "RSASSA-PSS with MGF1 over another hash than %s is not supported",
		    h->name);
		goto out;
	}
	rc = 0;
out:
	asn1_delete_structure(&mgf);
	asn1_delete_structure(&n);
	return rc;
}

static gnutls_sign_algorithm_t
sign_algorithm(enum sig_kind kind, gnutls_digest_algorithm_t d)
{
	static const struct {
		enum sig_kind			kind;
		gnutls_digest_algorithm_t	dig;
		gnutls_sign_algorithm_t		sign;
	} map[] = {
		{ SIG_PKCS1, GNUTLS_DIG_SHA1, GNUTLS_SIGN_RSA_SHA1 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA224, GNUTLS_SIGN_RSA_SHA224 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA256, GNUTLS_SIGN_RSA_SHA256 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA384, GNUTLS_SIGN_RSA_SHA384 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA512, GNUTLS_SIGN_RSA_SHA512 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA3_256, GNUTLS_SIGN_RSA_SHA3_256 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA3_384, GNUTLS_SIGN_RSA_SHA3_384 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA3_512, GNUTLS_SIGN_RSA_SHA3_512 },
		{ SIG_PSS, GNUTLS_DIG_SHA256, GNUTLS_SIGN_RSA_PSS_SHA256 },
		{ SIG_PSS, GNUTLS_DIG_SHA384, GNUTLS_SIGN_RSA_PSS_SHA384 },
		{ SIG_PSS, GNUTLS_DIG_SHA512, GNUTLS_SIGN_RSA_PSS_SHA512 },
		{ SIG_ECDSA, GNUTLS_DIG_SHA1, GNUTLS_SIGN_ECDSA_SHA1 },
		{ SIG_ECDSA, GNUTLS_DIG_SHA224, GNUTLS_SIGN_ECDSA_SHA224 },
		{ SIG_ECDSA, GNUTLS_DIG_SHA256, GNUTLS_SIGN_ECDSA_SHA256 },
		{ SIG_ECDSA, GNUTLS_DIG_SHA384, GNUTLS_SIGN_ECDSA_SHA384 },
		{ SIG_ECDSA, GNUTLS_DIG_SHA512, GNUTLS_SIGN_ECDSA_SHA512 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].kind == kind && map[i].dig == d)
			return map[i].sign;
	return GNUTLS_SIGN_UNKNOWN;
}

/*
 * RFC 5652 5.4: the signature covers the DER of signedAttrs with the universal SET tag, the
 * [0] IMPLICIT tag of the SignerInfo replaced; the bytes are the span of the input.
 */
int
vfy_check_signature(struct vctx *c)
{
	const char *base = "signerInfos.?1.signatureAlgorithm.";
	char oid[TSA_MAX_OID_TEXT] = "", field[64];
	const unsigned char *attrs, *params = NULL;
	unsigned char *tbs = NULL, *sig = NULL;
	gnutls_datum_t data, sd;
	gnutls_pubkey_t pub = NULL;
	gnutls_x509_spki_t spki = NULL;
	gnutls_sign_algorithm_t algo;
	gnutls_pk_algorithm_t pk;
	unsigned long salt = 0;
	size_t attrs_len, params_len = 0, sig_len, i;
	unsigned bits;
	int rc = -1, ret, has_params;

	snprintf(field, sizeof(field), "%salgorithm", base);
	if (tsa_asn1_read_oid(c->sdn, field, oid, sizeof(oid)) != 0)
		return vfy_fail(c, "RFC 5652 5.3: unreadable signatureAlgorithm");
	for (i = 0; i < sizeof(sig_algs) / sizeof(sig_algs[0]); i++)
		if (strcmp(oid, sig_algs[i].oid) == 0)
			break;
	if (i == sizeof(sig_algs) / sizeof(sig_algs[0]))
		return vfy_fail(c, "RFC 5652 5.3: signatureAlgorithm %s is not supported", oid);
	snprintf(field, sizeof(field), "%sparameters", base);
	has_params = tsa_asn1_span(c->sdn, c->sd, c->sd_len, field, &params, &params_len) == 0;

	switch (sig_algs[i].kind) {
	case SIG_PKCS1:
		/* RFC 4055 5 (and RFC 3370 3.2): NULL, absent accepted. */
		if (has_params && !(params_len == 2 && params[0] == 0x05 && params[1] == 0))
			return vfy_fail(c, "RFC 4055 5: %s parameters must be NULL",
			    sig_algs[i].name);
		snprintf(c->r->sig_alg, sizeof(c->r->sig_alg), "%s with %s", sig_algs[i].name,
		    c->digest->name);
		break;
	case SIG_PSS:
		if (!has_params)
			return vfy_fail(c, "RFC 4056 3: id-RSASSA-PSS needs RSASSA-PSS-params");
		if (pss_params(c, params, params_len, &salt) == -1)
			return -1;
		snprintf(c->r->sig_alg, sizeof(c->r->sig_alg), "RSASSA-PSS with %s, salt %lu",
		    c->digest->name, salt);
		break;
	case SIG_ECDSA:
		if (has_params)
			return vfy_fail(c, "RFC 5758 3.2: %s parameters must be absent",
			    sig_algs[i].name);
		snprintf(c->r->sig_alg, sizeof(c->r->sig_alg), "%s", sig_algs[i].name);
		break;
	}
	/* RFC 5652 5.3, 5.4: digestAlgorithm is the hash over the signed attributes; a
	 * signatureAlgorithm naming another one contradicts it. */
	if (sig_algs[i].hash != NULL && hash_by_name(sig_algs[i].hash) != c->digest)
		return vfy_fail(c, "RFC 5652 5.4: signatureAlgorithm %s contradicts "
		    "digestAlgorithm %s", sig_algs[i].name, c->digest->name);
	if ((algo = sign_algorithm(sig_algs[i].kind, c->digest->gnutls)) == GNUTLS_SIGN_UNKNOWN)
		return vfy_fail(c, "%s with %s is not supported", sig_algs[i].name,
		    c->digest->name);

	if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, "signerInfos.?1.signedAttrs", &attrs,
	    &attrs_len) != 0 || attrs[0] != 0xa0)
		return vfy_fail(c, "RFC 5652 5.3: signedAttrs missing");
	if ((tbs = malloc(attrs_len)) == NULL)
		return vfy_fail(c, "out of memory");
	memcpy(tbs, attrs, attrs_len);
	tbs[0] = 0x31;
	if (tsa_asn1_read_alloc(c->sdn, "signerInfos.?1.signature", &sig, &sig_len) != 0) {
		vfy_fail(c, "RFC 5652 5.3: signature missing");
		goto out;
	}
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, c->signer, 0)) < 0) {
		vfy_fail(c, "signer certificate public key: %s", gnutls_strerror(ret));
		goto out;
	}
	pk = (gnutls_pk_algorithm_t)gnutls_pubkey_get_pk_algorithm(pub, &bits);
	if (sig_algs[i].kind == SIG_ECDSA ? pk != GNUTLS_PK_ECDSA :
	    pk != GNUTLS_PK_RSA && !(sig_algs[i].kind == SIG_PSS && pk == GNUTLS_PK_RSA_PSS)) {
		vfy_fail(c, "RFC 5652 5.3: signatureAlgorithm %s does not fit the signer's %s key",
		    sig_algs[i].name, gnutls_pk_get_name(pk));
		goto out;
	}
	if (sig_algs[i].kind == SIG_PSS) {
		/* GnuTLS verifies PSS with the salt length of the key's parameters; set them
		 * from the SignerInfo so that any salt the RFC allows is verified exactly. */
		if ((ret = gnutls_x509_spki_init(&spki)) < 0) {
			vfy_fail(c, "gnutls: %s", gnutls_strerror(ret));
			goto out;
		}
		gnutls_x509_spki_set_rsa_pss_params(spki, c->digest->gnutls, (unsigned)salt);
		if ((ret = gnutls_pubkey_set_spki(pub, spki, 0)) < 0) {
			vfy_fail(c, "RSASSA-PSS parameters refused: %s", gnutls_strerror(ret));
			goto out;
		}
	}
	data.data = tbs;
	data.size = (unsigned)attrs_len;
	sd.data = sig;
	sd.size = (unsigned)sig_len;
	if ((ret = gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sd)) < 0) {
		vfy_fail(c, "RFC 5652 5.6: the signature does not verify with the signer "
		    "certificate's key (%s)", gnutls_strerror(ret));
		goto out;
	}
	rc = 0;
out:
	if (spki != NULL)
		gnutls_x509_spki_deinit(spki);
	gnutls_pubkey_deinit(pub);
	free(sig);
	free(tbs);
	return rc;
}
