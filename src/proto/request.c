/*
 * request.c - names, refusal helpers and the consistency check of the neutral request (see
 * request.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "request.h"
#include "xmltoken.h"

const char *
tsa_protocol_name(enum tsa_protocol p)
{
	switch (p) {
	case TSA_PROTO_RFC3161:		return "rfc3161";
	case TSA_PROTO_SOAP:		return "soap";
	case TSA_PROTO_AUTHENTICODE:	return "authenticode";
	}
	return "unknown";
}

static void
refuse(struct tsa_refusal *ref, enum tsa_refusal_kind kind, int http_status, enum tsa_fail fail,
    const char *text, const char *detail, va_list ap)
{
	ref->kind = kind;
	ref->fail = fail;
	ref->http_status = http_status;
	ref->text = text;
	ref->detail[0] = '\0';
	if (detail != NULL)
		vsnprintf(ref->detail, sizeof(ref->detail), detail, ap);
}

void
tsa_refuse(struct tsa_refusal *ref, enum tsa_fail fail, const char *text, const char *detail,
    ...)
{
	va_list ap;

	va_start(ap, detail);
	refuse(ref, TSA_REFUSAL_STATUS, 0, fail, text, detail, ap);
	va_end(ap);
}

void
tsa_refuse_fault(struct tsa_refusal *ref, const char *text, const char *detail, ...)
{
	va_list ap;

	va_start(ap, detail);
	refuse(ref, TSA_REFUSAL_FAULT, 0, TSA_FAIL_BAD_REQUEST, text, detail, ap);
	va_end(ap);
}

void
tsa_refuse_http(struct tsa_refusal *ref, int http_status, enum tsa_fail fail, const char *text,
    const char *detail, ...)
{
	va_list ap;

	va_start(ap, detail);
	refuse(ref, TSA_REFUSAL_HTTP, http_status, fail, text, detail, ap);
	va_end(ap);
}

/* Whether the SOAP text to echo says what the neutral fields say (the digest, its method, the
 * nonce): the token echoes the text, the archive keeps the fields. */
static const char *
echo_mismatch(const struct tsa_request *req)
{
	const struct tsa_echo *e = &req->echo;
	unsigned char b[TSA_MAX_IMPRINT > TSA_MAX_NONCE ? TSA_MAX_IMPRINT : TSA_MAX_NONCE];
	size_t n;

	if (e->has_nonce != req->has_nonce)
		return "the echoed nonce's presence differs from the request's";
	if (e->digest_method[0] == '\0')	/* no text: the token re-encodes the fields */
		return e->digest_value[0] != '\0' || e->nonce[0] != '\0' ?
		    "an echoed digest value or nonce without its method" : NULL;
	if (req->hash->xmldsig_uri == NULL || strcmp(e->digest_method, req->hash->xmldsig_uri) != 0)
		return "the echoed DigestMethod is not the request's hash algorithm";
	if (xml_b64_decode(e->digest_value, b, sizeof(b), &n) == -1 || n != req->imprint_len ||
	    memcmp(b, req->imprint, n) != 0)
		return "the echoed DigestValue is not the request's imprint";
	if (!req->has_nonce)
		return e->nonce[0] != '\0' ? "an echoed nonce text without a nonce" : NULL;
	/* As the SOAP parser reads it (soap.c): into the nonce's own bound. */
	if (decimal_to_bytes(e->nonce, b, TSA_MAX_NONCE, &n) == -1)
		return "the echoed nonce is not decimal";
	if (n != req->nonce_len || memcmp(b, req->nonce, n) != 0)
		return "the echoed nonce is not the request's";
	return NULL;
}

const char *
tsa_request_mismatch(const struct tsa_request *req)
{
	const struct tsa_echo *e = &req->echo;
	int no_echo = e->digest_method[0] == '\0' && e->digest_value[0] == '\0' &&
	    !e->has_nonce && e->nonce[0] == '\0';

	if (req->hash == NULL)
		return NULL;	/* an unknown algorithm: refused as badAlg by the policy */
	if (req->imprint_len != req->hash->len)
		return "the imprint's length is not its hash algorithm's";
	switch (req->protocol) {
	case TSA_PROTO_RFC3161:
		return !no_echo ? "SOAP text to echo in an RFC 3161 request" :
		    req->signature_len != 0 ? "a signature to countersign in an RFC 3161 request" :
		    NULL;
	case TSA_PROTO_SOAP:
		return req->signature_len != 0 ? "a signature to countersign in a SOAP request" :
		    echo_mismatch(req);
	case TSA_PROTO_AUTHENTICODE:
		return !no_echo ? "SOAP text to echo in an Authenticode request" :
		    req->signature_len == 0 ? "an Authenticode request with no signature" : NULL;
	}
	return "an unknown protocol";
}
