/*
 * fuzz_verify.c - fuzz target of the token verifier (src/tst/verify*.c, under it the strict DER
 * gate, libtasn1 and GnuTLS's certificate parser): untrusted bytes as `tsactl verify` reads
 * them from a file, a TimeStampResp or a bare token.  No CA file and no data are given, so the
 * target touches no file system.  Must never crash, leak or hang; a result that claims success
 * without a parsed TSTInfo breaks the verifier's promise and aborts.
 * Built by libFuzzer (tests/fuzz/run.sh) or with tests/fuzz/replay.c (make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asn1.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct verify_opts o;
	struct verify_result r;
	char err[512];

	if (!ready) {
		if (tsa_asn1_init() == -1)
			abort();
		ready = 1;
	}
	memset(&o, 0, sizeof(o));
	if (tst_verify(data, size, &o, &r, err, sizeof(err)) == 0 && !r.has_tstinfo)
		abort();
	return 0;
}
