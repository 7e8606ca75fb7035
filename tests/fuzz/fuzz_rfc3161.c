/*
 * fuzz_rfc3161.c - fuzz target of the RFC 3161 request codec (src/proto/rfc3161.c and, under
 * it, the strict DER gate and libtasn1): untrusted bytes, exactly as a client POSTs them.
 *
 * Every input goes through rfc3161_parse().  The answer the worker would then encode is
 * encoded too: the parser's own refusal when it refuses, and, when it accepts, a rejection
 * the policy could give (which failInfo is taken from the parsed request, so every bit is
 * reached), with and without a status text.  Must never crash, leak, hang or break the
 * codec's promises, which are checked here with abort() so that a fuzzer reports them:
 *   - a refusal names a failInfo bit the protocol defines and a client-safe text;
 *   - an accepted request has a known hash whose length is the imprint's, a nonce and
 *     extensions within their limits;
 *   - the encoded rejection is DER that the strict gate accepts as a TimeStampResp.
 * Built by libFuzzer (tests/fuzz/run.sh) or with tests/fuzz/replay.c (make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asn1.h"
#include "rfc3161.h"
#include "tsa_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum tsa_fail fails[] = {
	TSA_FAIL_BAD_ALG, TSA_FAIL_BAD_REQUEST, TSA_FAIL_BAD_DATA_FORMAT,
	TSA_FAIL_TIME_NOT_AVAILABLE, TSA_FAIL_UNACCEPTED_POLICY, TSA_FAIL_UNACCEPTED_EXTENSION,
	TSA_FAIL_ADD_INFO_NOT_AVAILABLE, TSA_FAIL_SYSTEM_FAILURE,
};
#define NFAILS	(sizeof(fails) / sizeof(fails[0]))

static int
known_fail(enum tsa_fail f)
{
	size_t i;

	for (i = 0; i < NFAILS; i++)
		if (fails[i] == f)
			return 1;
	return 0;
}

/* Encodes the rejection both ways and checks the DER reads back as a TimeStampResp. */
static void
encode_rejection(const struct tsa_refusal *ref)
{
	int status_text;

	for (status_text = 0; status_text <= 1; status_text++) {
		unsigned char *out = NULL;
		size_t outlen = 0;
		asn1_node n = NULL;
		const char *why;

		if (rfc3161_encode(NULL, 0, ref, status_text, &out, &outlen) == -1)
			abort();	/* a rejection can always be encoded */
		if (tsa_asn1_decode("TSA.TimeStampResp", out, outlen, &n, &why) == -1)
			abort();
		asn1_delete_structure(&n);
		free(out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct tsa_request req;
	struct tsa_refusal ref;
	size_t i;

	if (!ready) {
		if (tsa_asn1_init() == -1)
			abort();
		ready = 1;
	}
	memset(&ref, 0, sizeof(ref));
	if (rfc3161_parse(data, size, &req, &ref) == -1) {
		if (!known_fail(ref.fail) || ref.text == NULL ||
		    memchr(ref.detail, '\0', sizeof(ref.detail)) == NULL)
			abort();
		encode_rejection(&ref);
		return 0;
	}
	if (req.protocol != TSA_PROTO_RFC3161 || req.hash == NULL ||
	    req.imprint_len != req.hash->len || req.imprint_len > TSA_MAX_IMPRINT ||
	    req.nonce_len > TSA_MAX_NONCE || (!req.has_nonce && req.nonce_len != 0) ||
	    req.n_ext > TSA_MAX_EXTENSIONS ||
	    memchr(req.hash_oid, '\0', sizeof(req.hash_oid)) == NULL ||
	    memchr(req.req_policy, '\0', sizeof(req.req_policy)) == NULL)
		abort();
	for (i = 0; i < req.n_ext; i++)
		if (memchr(req.ext[i].oid, '\0', sizeof(req.ext[i].oid)) == NULL)
			abort();
	/* What a policy would answer: the failInfo picked from the request's own bytes. */
	tsa_refuse(&ref, fails[(req.imprint[0] + req.n_ext) % NFAILS], "request not accepted",
	    "fuzz: %s, %zu extensions", req.hash->name, req.n_ext);
	encode_rejection(&ref);
	return 0;
}
