/*
 * token.h - one token to build: everything decided before it is made (the request, the
 * chain's options, the signer, the policy OID, the serial and the time).  Each protocol turns
 * a job into its own token: RFC 3161 a TSTInfo in CMS SignedData (src/tst/token.c), the
 * others theirs; the worker records whatever bytes come back.
 */
#ifndef TSA_TOKEN_H
#define TSA_TOKEN_H

#include <stddef.h>
#include <time.h>

#include "policy.h"

struct token_job {
	const struct tsa_request	*req;
	const struct tsa_opts		*opts;
	const struct signer		*signer;
	const char			*policy_oid;
	const unsigned char		*serial;
	size_t				 serial_len;
	struct timespec			 gen_time;	/* truncated to opts->digits */
};

/* RFC 3161 2.4.2: the TSTInfo signed in CMS SignedData. 0 with a malloc'd token, or -1. */
int	rfc3161_token(const struct token_job *job, unsigned char **out, size_t *outlen);

#endif
