/*
 * fuzz_order.c - fuzz target of the order protocol's decoders (src/sign/order.c): the bytes a
 * compromised worker can send the signing process (order_decode), and the answers a worker
 * (or tsa-log: tree heads) reads (answer_decode), untrusted both.
 *
 * Input: one frame's body (an exact-size copy, so a read past its end shows under ASan).
 * Checked with abort(): whatever decodes encodes again, and that encoding decodes to the same
 * fields (the encoder refuses nothing the decoder accepts); a refusal always names its fault.
 * Built by libFuzzer (tests/fuzz/run.sh) or with tests/fuzz/replay.c (make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_request(const struct tsa_request *a, const struct tsa_request *b)
{
	size_t i;

	if (a->protocol != b->protocol || strcmp(a->hash_oid, b->hash_oid) != 0 ||
	    a->hash != b->hash || a->hash_null_params != b->hash_null_params ||
	    a->imprint_len != b->imprint_len || memcmp(a->imprint, b->imprint, a->imprint_len) ||
	    a->has_nonce != b->has_nonce || a->nonce_len != b->nonce_len ||
	    memcmp(a->nonce, b->nonce, a->nonce_len) != 0 ||
	    a->has_req_policy != b->has_req_policy || strcmp(a->req_policy, b->req_policy) ||
	    a->cert_req != b->cert_req || a->n_ext != b->n_ext ||
	    strcmp(a->echo.digest_method, b->echo.digest_method) != 0 ||
	    strcmp(a->echo.digest_value, b->echo.digest_value) != 0 ||
	    a->echo.has_nonce != b->echo.has_nonce || strcmp(a->echo.nonce, b->echo.nonce) ||
	    a->signature_len != b->signature_len ||
	    (a->signature_len > 0 && memcmp(a->signature, b->signature, a->signature_len) != 0))
		return 0;
	for (i = 0; i < a->n_ext; i++)
		if (strcmp(a->ext[i].oid, b->ext[i].oid) != 0 ||
		    a->ext[i].critical != b->ext[i].critical)
			return 0;
	return 1;
}

static void
order_round_trip(const struct order *o)
{
	static struct order again;
	unsigned char *out = NULL;
	const char *why = NULL;
	size_t n;

	if (order_encode(o, &out, &n) == -1)
		abort();		/* the decoder accepted what the encoder refuses */
	if (order_decode(out, n, &again, &why) == -1)
		abort();
	if (again.type != o->type || again.test_sign != o->test_sign)
		abort();
	if (o->type == ORDER_SIGN && (again.config_version != o->config_version ||
	    again.service_id != o->service_id || again.policy_id != o->policy_id ||
	    !same_request(&again.req, &o->req) || strcmp(again.requester, o->requester) != 0 ||
	    strcmp(again.client_identity, o->client_identity) != 0 ||
	    again.request_len != o->request_len ||
	    (o->request_len > 0 && memcmp(again.request, o->request, o->request_len) != 0)))
		abort();
	if (o->type == ORDER_TREE_HEAD && (again.tree_size != o->tree_size ||
	    memcmp(again.root, o->root, ORDER_ROOT_LEN) != 0))
		abort();
	free(out);
}

static void
answer_round_trip(const struct signer_answer *a)
{
	static struct signer_answer again;
	unsigned char *out = NULL;
	const char *why = NULL;
	size_t n, i;

	if (answer_encode(a, &out, &n) == -1)
		abort();
	if (answer_decode(out, n, &again, &why) == -1)
		abort();
	if (again.type != a->type || strcmp(again.signer, a->signer) != 0)
		abort();
	switch (a->type) {
	case ANSWER_GRANTED:
		if (again.token_len != a->token_len ||
		    memcmp(again.token, a->token, a->token_len) != 0)
			abort();
		break;
	case ANSWER_REFUSED:
		if (again.fail != a->fail || again.sign_failed != a->sign_failed ||
		    strcmp(again.text, a->text) != 0 || strcmp(again.detail, a->detail) != 0)
			abort();
		break;
	case ANSWER_STATUS:
		if (again.n_units != a->n_units)
			abort();
		for (i = 0; i < a->n_units; i++)
			if (again.units[i].id != a->units[i].id ||
			    again.units[i].state != a->units[i].state ||
			    strcmp(again.units[i].name, a->units[i].name) != 0 ||
			    strcmp(again.units[i].reason, a->units[i].reason) != 0)
				abort();
		break;
	case ANSWER_TREE_HEAD:
		if (again.timestamp != a->timestamp || strcmp(again.key_id, a->key_id) != 0 ||
		    again.signature_len != a->signature_len ||
		    memcmp(again.signature, a->signature, a->signature_len) != 0)
			abort();
		break;
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct order o;
	static struct signer_answer a;
	unsigned char *p = malloc(size > 0 ? size : 1);
	const char *why;

	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	why = NULL;
	if (order_decode(p, size, &o, &why) == 0)
		order_round_trip(&o);
	else if (why == NULL)
		abort();
	why = NULL;
	if (answer_decode(p, size, &a, &why) == 0)
		answer_round_trip(&a);
	else if (why == NULL)
		abort();
	free(p);
	return 0;
}
