/*
 * authenticode.c - the Microsoft Authenticode legacy time-stamp codec (see authenticode.h).
 * Input: the POSTed body, untrusted: base64 text, then the DER TimeStampRequest it carries.
 * Output: base64 of a CMS SignedData countersignature built by tst/cms.c.
 * Standards: Microsoft's "Time Stamping Authenticode Signatures" (the legacy protocol of
 * `signtool /t`), RFC 4648 4 (base64), RFC 5652 (CMS), X.690 DER.  The ASN.1 is declared in
 * src/asn1/tsa.asn; this file checks what the protocol says beyond syntax.
 */
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "asn1.h"
#include "authenticode.h"
#include "base64.h"
#include "tst.h"

/* The DER request never exceeds what a capped body decodes to. */
#define DER_MAX	(TSA_MAX_AUTHENTICODE_BODY / 4 * 3)

int
authenticode_base64_decode(const unsigned char *p, size_t len, unsigned char *out, size_t max,
    size_t *outlen)
{
	/* Time Stamping Authenticode Signatures: some signtool versions append one NUL. */
	if (len > 0 && p[len - 1] == '\0')
		len--;
	/* Lines of base64, CR LF or LF; an empty body is no request. */
	if (base64_decode(p, len, "\r\n", out, max, outlen) == -1 || *outlen == 0)
		return -1;
	return 0;
}

/* The attributes no client sends today: read past, counted, never echoed nor signed. */
static int
check_attributes(asn1_node n, struct tsa_refusal *ref)
{
	char oid[TSA_MAX_OID_TEXT], field[64];
	int count = 0, i;

	if (asn1_number_of_elements(n, "attributes", &count) != ASN1_SUCCESS)
		return 0;	/* absent */
	if (count > TSA_MAX_AUTHENTICODE_ATTRS) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "malformed request",
		    "%d request attributes, more than %d", count, TSA_MAX_AUTHENTICODE_ATTRS);
		return -1;
	}
	for (i = 1; i <= count; i++) {
		snprintf(field, sizeof(field), "attributes.?%d.attrType", i);
		if (tsa_asn1_read_oid(n, field, oid, sizeof(oid)) != 0) {
			tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "malformed request",
			    "unreadable request attribute type");
			return -1;
		}
	}
	return 0;
}

int
authenticode_parse(const unsigned char *p, size_t len, struct tsa_request *out,
    struct tsa_refusal *ref)
{
	unsigned char *der = NULL, *sig = NULL;
	char oid[TSA_MAX_OID_TEXT];
	struct tsa_request r;
	asn1_node n = NULL;
	const char *why;
	size_t der_len, sig_len;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.protocol = TSA_PROTO_AUTHENTICODE;
	if (len > TSA_MAX_AUTHENTICODE_BODY) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "request too large",
		    "Authenticode body of %zu octets, more than %d", len,
		    TSA_MAX_AUTHENTICODE_BODY);
		return -1;
	}
	if ((der = malloc(DER_MAX)) == NULL) {
		tsa_refuse(ref, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot issue a token now",
		    "out of memory");
		return -1;
	}
	if (authenticode_base64_decode(p, len, der, DER_MAX, &der_len) == -1) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "the request is not base64",
		    "Authenticode: the body is not base64 (RFC 4648 4, CR/LF and a final NUL "
		    "allowed)");
		goto out;
	}
	if (tsa_asn1_decode("TSA.AuthenticodeTimeStampRequest", der, der_len, &n, &why) == -1) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT,
		    "the request is not a DER Authenticode TimeStampRequest", "%s", why);
		goto out;
	}
	/* Time Stamping Authenticode Signatures: countersignatureType 1.3.6.1.4.1.311.3.2.1. */
	if (tsa_asn1_read_oid(n, "countersignatureType", oid, sizeof(oid)) != 0 ||
	    strcmp(oid, OID_MS_TIME_STAMP_REQUEST) != 0) {
		tsa_refuse(ref, TSA_FAIL_BAD_REQUEST, "not an Authenticode time-stamp request",
		    "Authenticode: countersignatureType must be %s", OID_MS_TIME_STAMP_REQUEST);
		goto out;
	}
	if (check_attributes(n, ref) == -1)
		goto out;
	/* Time Stamping Authenticode Signatures: content is a ContentInfo of type id-data. */
	if (tsa_asn1_read_oid(n, "content.contentType", oid, sizeof(oid)) != 0 ||
	    strcmp(oid, OID_CT_DATA) != 0) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "the content to countersign is not data",
		    "Authenticode: content type must be id-data (%s)", OID_CT_DATA);
		goto out;
	}
	/* The [0] OCTET STRING: the signature value (encryptedDigest) to countersign. */
	switch (tsa_asn1_read_alloc(n, "content.content", &sig, &sig_len)) {
	case 0:
		break;
	case 1:
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "no signature to countersign",
		    "Authenticode: content [0] is mandatory");
		goto out;
	default:
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "malformed request",
		    "Authenticode: unreadable content [0]");
		goto out;
	}
	if (sig_len == 0 || sig_len > TSA_MAX_AUTHENTICODE_SIG) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "signature length not accepted",
		    "Authenticode: a signature of %zu octets (1 to %d)", sig_len,
		    TSA_MAX_AUTHENTICODE_SIG);
		goto out;
	}
	/* What the filters see and issued_tokens keeps: SHA-256 of the signature bytes. */
	r.hash = hash_by_name("sha256");
	if (r.hash == NULL || gnutls_hash_fast(r.hash->gnutls, sig, sig_len, r.imprint) < 0) {
		tsa_refuse(ref, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot issue a token now",
		    "SHA-256 unavailable");
		goto out;
	}
	snprintf(r.hash_oid, sizeof(r.hash_oid), "%s", r.hash->oid);
	r.imprint_len = r.hash->len;
	r.cert_req = 1;		/* the chain always travels (Authenticode) */
	r.signature = sig;
	r.signature_len = sig_len;
	sig = NULL;
	*out = r;
	rc = 0;
out:
	free(sig);
	free(der);
	asn1_delete_structure(&n);
	return rc;
}

void
authenticode_free(struct tsa_request *req)
{
	if (req == NULL)
		return;
	free(req->signature);
	req->signature = NULL;
	req->signature_len = 0;
}

int
authenticode_token(const struct token_job *job, unsigned char **out, size_t *outlen)
{
	struct cms_params cp = {
		.signer = job->signer, .content_type = OID_CT_DATA,
		.content = job->req->signature, .content_len = job->req->signature_len,
		.ess_version = 0,	/* no ESS attribute: not part of this protocol */
		.certs = CMS_CERTS_CHAIN,	/* the countersigner's certificate MUST be there */
		.signing_time = &job->gen_time,
		.digest = job->opts->sig_digest,	/* SHA-1 for legacy verifiers */
	};

	if (job->req->signature == NULL)
		return -1;
	return cms_sign(&cp, out, outlen);
}

int
authenticode_encode(const unsigned char *token, size_t token_len,
    const struct tsa_refusal *ref, int status_text, unsigned char **out, size_t *outlen)
{
	char *b;

	(void)ref;
	(void)status_text;
	/* Lines of 64 characters, each ending in LF, as OpenSSL's BIO writes them. */
	if (token == NULL || token_len == 0 || (b = base64_encode(token, token_len, 64,
	    outlen)) == NULL)
		return -1;
	*out = (unsigned char *)b;
	return 0;
}

int
authenticode_answer(const unsigned char *token, size_t token_len,
    const struct tsa_refusal *ref, int status_text, struct tsa_answer *out)
{
	size_t n;

	if (ref == NULL) {
		out->status = 200;
		out->content_type = AUTHENTICODE_CONTENT_TYPE_REPLY;
		return authenticode_encode(token, token_len, NULL, status_text, &out->body,
		    &out->body_len);
	}
	out->status = ref->fail == TSA_FAIL_TIME_NOT_AVAILABLE ||
	    ref->fail == TSA_FAIL_SYSTEM_FAILURE ? 503 : 400;
	out->content_type = "text/plain; charset=utf-8";
	n = strlen(ref->text);
	if ((out->body = malloc(n + 1)) == NULL)
		return -1;
	memcpy(out->body, ref->text, n);
	out->body[n] = '\n';
	out->body_len = n + 1;
	return 0;
}
