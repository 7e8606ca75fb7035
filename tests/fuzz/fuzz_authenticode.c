/*
 * fuzz_authenticode.c - fuzz target of the Authenticode request codec
 * (src/proto/authenticode.c: the base64 decoder, then the strict DER gate and libtasn1):
 * untrusted bytes, exactly as a client POSTs them with Content-Type application/octet-stream.
 *
 * Every input goes through authenticode_parse().  Must never crash, leak, hang or break the
 * codec's promises, checked here with abort() so that a fuzzer reports them:
 *   - a refusal has a client-safe text and maps to HTTP 400 or 503 (503 only for the TSA's
 *     own failures, never for bad input);
 *   - an accepted request owns 1 to TSA_MAX_AUTHENTICODE_SIG signature bytes, records SHA-256
 *     of them as its imprint and asks for the chain;
 *   - the answer encoder's base64 of those bytes decodes back to them through the parser's
 *     own decoder (CR/LF and a final NUL appended too).
 * Built by libFuzzer (tests/fuzz/run.sh) or with tests/fuzz/replay.c (make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "authenticode.h"
#include "tsa_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The encoder's base64 of bytes reads back as the same bytes, with CR LF and a NUL added. */
static void
round_trip(const unsigned char *bytes, size_t len)
{
	unsigned char *b64 = NULL, *crlf, back[TSA_MAX_AUTHENTICODE_SIG];
	size_t b64_len, back_len, i, o = 0;

	if (authenticode_encode(bytes, len, NULL, 0, &b64, &b64_len) == -1)
		abort();
	if (authenticode_base64_decode(b64, b64_len, back, sizeof(back), &back_len) == -1 ||
	    back_len != len || memcmp(back, bytes, len) != 0)
		abort();
	if ((crlf = malloc(2 * b64_len + 1)) == NULL)
		abort();
	for (i = 0; i < b64_len; i++) {
		if (b64[i] == '\n')
			crlf[o++] = '\r';
		crlf[o++] = b64[i];
	}
	crlf[o++] = '\0';
	if (authenticode_base64_decode(crlf, o, back, sizeof(back), &back_len) == -1 ||
	    back_len != len || memcmp(back, bytes, len) != 0)
		abort();
	free(crlf);
	free(b64);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char digest[32];
	struct tsa_request req;
	struct tsa_refusal ref;
	struct tsa_answer ans = { 0, NULL, NULL, 0 };
	int status;

	memset(&ref, 0, sizeof(ref));
	memset(&req, 0, sizeof(req));
	if (authenticode_parse(data, size, &req, &ref) == -1) {
		if (ref.text == NULL || req.signature != NULL)
			abort();
		if (ref.kind != TSA_REFUSAL_STATUS || authenticode_answer(NULL, 0, &ref, 0, &ans) == -1)
			abort();
		status = ans.status;
		free(ans.body);
		if (status != 400 && !(status == 503 && ref.fail == TSA_FAIL_SYSTEM_FAILURE))
			abort();
		return 0;
	}
	if (req.protocol != TSA_PROTO_AUTHENTICODE || req.signature == NULL ||
	    req.signature_len == 0 || req.signature_len > TSA_MAX_AUTHENTICODE_SIG ||
	    req.hash == NULL || req.hash->gnutls != GNUTLS_DIG_SHA256 || req.imprint_len != 32 ||
	    !req.cert_req || req.has_nonce || req.has_req_policy || req.n_ext != 0)
		abort();
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, req.signature, req.signature_len, digest) < 0 ||
	    memcmp(digest, req.imprint, 32) != 0)
		abort();
	round_trip(req.signature, req.signature_len);
	authenticode_free(&req);
	if (req.signature != NULL)
		abort();
	authenticode_free(NULL);
	return 0;
}
