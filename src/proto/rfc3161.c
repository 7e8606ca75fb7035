/*
 * rfc3161.c - the RFC 3161 codec: TimeStampReq in (untrusted, from the network), TimeStampResp
 * out.  Standards: RFC 3161 2.4.1 and 2.4.2, X.690 DER.  The ASN.1 is declared in
 * src/asn1/tsa.asn; this file checks what the RFC says beyond syntax.
 */
#include <stdlib.h>
#include <string.h>

#include "asn1.h"
#include "rfc3161.h"

/* Reads a DEFAULT FALSE BOOLEAN; refuses an explicit FALSE (X.690 11.5). 0, or -1. */
static int
read_default_false(asn1_node n, const unsigned char *der, size_t len, const char *field,
    int *value, struct tsa_refusal *ref)
{
	const unsigned char *p;
	size_t plen;
	int rc = tsa_asn1_span(n, der, len, field, &p, &plen);

	*value = 0;
	if (rc == 1)
		return 0;
	if (rc == -1 || plen != 3) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "malformed request",
		    "cannot read %s", field);
		return -1;
	}
	if (p[2] == 0x00) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "malformed request",
		    "X.690 11.5: %s FALSE is the DEFAULT and must be absent", field);
		return -1;
	}
	*value = 1;
	return 0;
}

static int
parse_extensions(asn1_node n, const unsigned char *der, size_t len, struct tsa_request *req,
    struct tsa_refusal *ref)
{
	int count = 0, i;

	const unsigned char *span;
	size_t span_len;

	if (tsa_asn1_span(n, der, len, "extensions", &span, &span_len) != 0)
		return 0;	/* absent */
	if (asn1_number_of_elements(n, "extensions", &count) != ASN1_SUCCESS || count == 0) {
		/* libtasn1 does not enforce SIZE (1..MAX). */
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "malformed request",
		    "RFC 3161 2.4.1: extensions, when present, hold at least one");
		return -1;
	}
	if (count > TSA_MAX_EXTENSIONS) {
		tsa_refuse(ref, TSA_FAIL_UNACCEPTED_EXTENSION, "extensions not accepted",
		    "%d extensions, more than %d", count, TSA_MAX_EXTENSIONS);
		return -1;
	}
	for (i = 1; i <= count; i++) {
		struct tsa_extension *e = &req->ext[req->n_ext];
		char field[64];

		snprintf(field, sizeof(field), "extensions.?%d.extnID", i);
		if (tsa_asn1_read_oid(n, field, e->oid, sizeof(e->oid)) != 0) {
			tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "malformed request",
			    "unreadable extension OID");
			return -1;
		}
		snprintf(field, sizeof(field), "extensions.?%d.critical", i);
		if (read_default_false(n, der, len, field, &e->critical, ref) == -1)
			return -1;
		req->n_ext++;
	}
	return 0;
}

/* libtasn1 decodes a SEQUENCE that lacks mandatory fields; the RFC does not. */
static int
mandatory_present(asn1_node n)
{
	static const char *fields[] = { "version", "messageImprint.hashAlgorithm.algorithm",
	    "messageImprint.hashedMessage" };
	unsigned char buf[TSA_MAX_IMPRINT + 1];
	size_t i, len;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (tsa_asn1_read(n, fields[i], buf, sizeof(buf), &len) == 1)
			return 0;
	return 1;
}

int
rfc3161_parse(const unsigned char *p, size_t len, struct tsa_request *out,
    struct tsa_refusal *ref)
{
	unsigned char buf[TSA_MAX_IMPRINT + 1];
	struct tsa_request r, *req = &r;
	asn1_node n = NULL;
	const char *why;
	size_t blen;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	req->protocol = TSA_PROTO_RFC3161;
	if (tsa_asn1_decode("TSA.TimeStampReq", p, len, &n, &why) == -1) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "the request is not a DER TimeStampReq",
		    "%s", why);
		return -1;
	}
	if (!mandatory_present(n)) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "the request is not a DER TimeStampReq",
		    "RFC 3161 2.4.1: version and messageImprint are mandatory");
		goto out;
	}
	/* RFC 3161 2.4.1: version INTEGER { v1(1) }. */
	if (tsa_asn1_read(n, "version", buf, sizeof(buf), &blen) != 0 ||
	    blen != 1 || buf[0] != 1) {
		tsa_refuse(ref, TSA_FAIL_BAD_REQUEST, "unsupported request version",
		    "RFC 3161 2.4.1: version must be 1");
		goto out;
	}
	if (tsa_asn1_read_oid(n, "messageImprint.hashAlgorithm.algorithm", req->hash_oid,
	    sizeof(req->hash_oid)) != 0) {
		tsa_refuse(ref, TSA_FAIL_BAD_ALG, "unsupported hash algorithm",
		    "unreadable hash algorithm OID");
		goto out;
	}
	req->hash = hash_by_oid(req->hash_oid);
	if (req->hash == NULL) {
		tsa_refuse(ref, TSA_FAIL_BAD_ALG, "unsupported hash algorithm",
		    "unknown hash algorithm %s", req->hash_oid);
		goto out;
	}
	/* RFC 5754 2 / RFC 3370 2.1: digest parameters absent or NULL. */
	switch (tsa_asn1_read(n, "messageImprint.hashAlgorithm.parameters", buf, sizeof(buf),
	    &blen)) {
	case 1:
		break;
	case 0:
		if (blen == 2 && buf[0] == 0x05 && buf[1] == 0x00) {
			req->hash_null_params = 1;
			break;
		}
		/* FALLTHROUGH */
	default:
		tsa_refuse(ref, TSA_FAIL_BAD_ALG, "unsupported hash algorithm",
		    "hash algorithm parameters must be absent or NULL");
		goto out;
	}
	/* RFC 3161 2.4.1: the imprint's length must be the hash algorithm's. */
	if (tsa_asn1_read(n, "messageImprint.hashedMessage", req->imprint,
	    sizeof(req->imprint), &req->imprint_len) != 0 ||
	    req->imprint_len != req->hash->len) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "imprint length does not match its hash",
		    "RFC 3161 2.4.1: %s imprint must be %zu octets", req->hash->name,
		    req->hash->len);
		goto out;
	}
	switch (tsa_asn1_read_oid(n, "reqPolicy", req->req_policy, sizeof(req->req_policy))) {
	case 0:
		req->has_req_policy = 1;
		break;
	case 1:
		break;
	default:
		tsa_refuse(ref, TSA_FAIL_UNACCEPTED_POLICY, "requested policy not accepted",
		    "unreadable or overlong reqPolicy");
		goto out;
	}
	switch (tsa_asn1_read(n, "nonce", req->nonce, sizeof(req->nonce), &req->nonce_len)) {
	case 0:
		req->has_nonce = 1;
		break;
	case 1:
		break;
	default:
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "nonce too long",
		    "nonce longer than %d octets", TSA_MAX_NONCE);
		goto out;
	}
	if (read_default_false(n, p, len, "certReq", &req->cert_req, ref) == -1)
		goto out;
	if (parse_extensions(n, p, len, req, ref) == -1)
		goto out;
	*out = r;
	rc = 0;
out:
	asn1_delete_structure(&n);
	return rc;
}

int
rfc3161_encode(const unsigned char *token, size_t token_len, const struct tsa_refusal *ref,
    int status_text, unsigned char **out, size_t *outlen)
{
	asn1_node n = NULL;
	int rc = -1;

	if (tsa_asn1_new("TSA.TimeStampResp", &n) == -1)
		return -1;
	/* RFC 3161 2.4.2: PKIStatus granted (0) or rejection (2). */
	if (tsa_asn1_write(n, "status.status", token != NULL ? "0" : "2", 0) == -1)
		goto out;
	if (status_text) {
		const char *text = token != NULL ? "Operation Okay" : ref->text;

		if (tsa_asn1_write(n, "status.statusString", "NEW", 1) == -1 ||
		    tsa_asn1_write(n, "status.statusString.?LAST", text, strlen(text)) == -1)
			goto out;
	} else if (tsa_asn1_write(n, "status.statusString", NULL, 0) == -1)
		goto out;
	if (token != NULL) {
		if (tsa_asn1_write(n, "status.failInfo", NULL, 0) == -1 ||
		    tsa_asn1_write(n, "timeStampToken", token, token_len) == -1)
			goto out;
	} else {
		/* A named bit list: DER drops trailing zero bits, so the last bit is ours. */
		unsigned char bits[4] = { 0 };
		unsigned bit = (unsigned)ref->fail;

		bits[bit / 8] = (unsigned char)(0x80u >> (bit % 8));
		if (tsa_asn1_write(n, "status.failInfo", bits, bit + 1) == -1 ||
		    tsa_asn1_write(n, "timeStampToken", NULL, 0) == -1)
			goto out;
	}
	rc = tsa_asn1_encode(n, NULL, out, outlen);
out:
	asn1_delete_structure(&n);
	return rc;
}

int
rfc3161_answer(const unsigned char *token, size_t token_len, const struct tsa_refusal *ref,
    int status_text, struct tsa_answer *out)
{
	out->status = 200;
	out->content_type = RFC3161_CONTENT_TYPE_REPLY;
	return rfc3161_encode(token, token_len, ref, status_text, &out->body, &out->body_len);
}
