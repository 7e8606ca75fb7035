/*
 * fuzz_gate.c - fuzz target of the FastCGI record walk that tells a process when a
 * connection's request is whole (src/fcgi/gate.c, fcgi_request_whole): the bytes any peer
 * that reaches the socket sends, untrusted, looked at before libfcgi reads them.
 *
 * Input: the bytes queued on a connection (an exact-size copy, so a read past its end shows
 * under ASan).  Checked with abort(): the answer is -1, 0 or 1, and more bytes never change
 * an answer that is not 0 (a request found whole, or found not to be FastCGI, stays so).
 * Built by libFuzzer (tests/fuzz/run.sh) or with tests/fuzz/replay.c (make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *p = malloc(size + 8);
	int w, more;

	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	w = fcgi_request_whole(p, size);
	if (w < -1 || w > 1)
		abort();
	memset(p + size, 0x01, 8);
	more = fcgi_request_whole(p, size + 8);
	if (w != 0 && more != w)
		abort();
	free(p);
	return 0;
}
