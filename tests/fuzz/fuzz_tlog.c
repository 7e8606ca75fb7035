/*
 * fuzz_tlog.c - fuzz target of the token log's parsers (src/log/): the leaf decoder (what
 * tsactl log audit reads from a database that may have been tampered with), the query
 * strings of GET URL/log/proof and /log/consistency (src/log/query.c), and the RFC 9162
 * proof verifiers fed a proof from the input (merkle.c).
 *
 * Checked with abort(): a decoded leaf encodes to the same octets; a query accepted is within
 * its bounds; a verifier never accepts a proof for an index past the size, and never reads
 * past the proof it is given (ASan).
 * Built by libFuzzer (tests/fuzz/run.sh) or with tests/fuzz/replay.c (make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logquery.h"
#include "merkle.h"
#include "tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *p = malloc(size > 0 ? size : 1), out[TLOG_MAX_LEAF];
	char *q = malloc(size + 1), dec[LOGAPI_MAX_SERIAL + 1];
	struct tlog_leaf l;
	uint64_t a, b;
	size_t n;

	if (p == NULL || q == NULL)
		goto out;
	memcpy(p, data, size);
	if (tlog_leaf_decode(p, size, &l) == 0) {
		if ((n = tlog_leaf_encode(&l, out)) != size || memcmp(out, p, size) != 0)
			abort();	/* the decoder accepted a leaf the encoder would not make */
	}
	memcpy(q, data, size);
	q[size] = '\0';
	if (logapi_parse_serial(q, dec, sizeof(dec)) == 0 &&
	    (strlen(dec) == 0 || strlen(dec) > LOGAPI_MAX_SERIAL ||
	    dec[strspn(dec, "0123456789")] != '\0'))
		abort();
	if (logapi_parse_sizes(q, &a, &b) == 0 && (a > INT64_MAX || b > INT64_MAX))
		abort();
	/* Index, size, the leaf hash and root from the input; the rest a proof. */
	if (size >= 16 + 2 * MERKLE_HASH_LEN) {
		const unsigned char *h = p + 16, *root = p + 16 + MERKLE_HASH_LEN;
		size_t len = (size - 16 - 2 * MERKLE_HASH_LEN) / MERKLE_HASH_LEN;
		merkle_hash *path = len > 0 ? malloc(len * MERKLE_HASH_LEN) : NULL;

		a = get64(p);
		b = get64(p + 8);
		if (len > 0 && path == NULL)
			goto out;
		if (len > 0)
			memcpy(path, root + MERKLE_HASH_LEN, len * MERKLE_HASH_LEN);
		if (merkle_verify_inclusion(a, b, h, (const merkle_hash *)path, len, root) &&
		    a >= b)
			abort();
		(void)merkle_verify_consistency(a, b, h, root, (const merkle_hash *)path, len);
		free(path);
	}
out:
	free(p);
	free(q);
	return 0;
}
