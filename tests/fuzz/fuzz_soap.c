/*
 * fuzz_soap.c - fuzz target of the SOAP/XML request codec (src/proto/soap.c and, under it,
 * libxml2 with the codec's SAX guard and the embedded schema): untrusted bytes, exactly as a
 * client POSTs them.
 *
 * Every input goes through soap_parse_echo(); the answer the worker would then send is
 * encoded too (the parser's refusal, a Fault or a StatusInfo; for an accepted request, a
 * rejection the policy could give).  Must never crash, leak, hang or break the codec's
 * promises, checked here with abort() so that a fuzzer reports them:
 *   - a refusal has a client-safe text; a Fault is answered 500, a StatusInfo 200;
 *   - an accepted request has a known hash with an XML-DSig URI, the echoed method is that
 *     URI, the imprint has the hash's length, the nonce fits its limits;
 *   - every answer encodes.
 * Built by libFuzzer (tests/fuzz/run.sh) or with tests/fuzz/replay.c (make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soap.h"
#include "tsa_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
encode(const struct tsa_refusal *ref)
{
	unsigned char *out = NULL;
	size_t outlen = 0;
	int status_text;

	for (status_text = 0; status_text <= 1; status_text++) {
		if (soap_encode(NULL, 0, ref, status_text, &out, &outlen) == -1 || outlen == 0)
			abort();	/* a refusal can always be encoded */
		free(out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsa_request req;
	struct tsa_refusal ref;
	struct tsa_echo echo;

	memset(&ref, 0, sizeof(ref));
	if (soap_parse_echo(data, size, &req, &echo, &ref) == -1) {
		if (ref.text == NULL)
			abort();
		if (ref.kind == TSA_REFUSAL_HTTP)
			abort();	/* a SOAP refusal is a StatusInfo or a Fault */
		encode(&ref);
		return 0;
	}
	if (req.protocol != TSA_PROTO_SOAP || req.hash == NULL ||
	    req.hash->xmldsig_uri == NULL || strcmp(req.hash->xmldsig_uri, echo.digest_method) != 0 ||
	    req.imprint_len != req.hash->len || req.has_nonce != echo.has_nonce ||
	    req.nonce_len > TSA_MAX_NONCE || strlen(echo.nonce) > TSA_MAX_XML_NONCE_DIGITS)
		abort();
	tsa_refuse(&ref, req.has_nonce ? TSA_FAIL_UNACCEPTED_POLICY : TSA_FAIL_BAD_ALG,
	    "policy refusal", NULL);
	encode(&ref);
	return 0;
}
