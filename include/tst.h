/*
 * tst.h - building tokens: the RFC 3161 TSTInfo and the CMS SignedData (RFC 5652) that signs
 * it, with the ESS signing-certificate attribute (RFC 2634 / RFC 5035); the same SignedData
 * over id-data, without ESS, is the Authenticode countersignature.
 * Outputs are malloc'd DER, the caller's to free().
 */
#ifndef TSA_TST_H
#define TSA_TST_H

#include <stddef.h>
#include <time.h>

#include "request.h"
#include "signer.h"

struct tst_params {
	const char		*policy_oid;
	const struct tsa_request *req;		/* imprint and nonce are echoed from it */
	const unsigned char	*serial;	/* positive, minimal INTEGER contents */
	size_t			 serial_len;
	struct timespec		 gen_time;
	int			 digits;	/* fractional digits of genTime, 0 to 6 */
	unsigned		 acc_seconds, acc_millis, acc_micros;	/* all 0: no accuracy */
	int			 ordering;
	const unsigned char	*tsa_name;	/* DER Name for tsa [0] directoryName, or NULL */
	size_t			 tsa_name_len;
	int			 qualified;	/* EN 319 422 qcStatements extension */
};

enum cms_certs {
	CMS_CERTS_NONE,
	CMS_CERTS_SIGNER,
	CMS_CERTS_CHAIN,
};

struct cms_params {
	const struct signer	*signer;
	const char		*content_type;	/* eContentType OID */
	const unsigned char	*content;	/* eContent octets */
	size_t			 content_len;
	int			 ess_version;	/* 1: signingCertificate, 2: signingCertificateV2,
						 * 0: no ESS attribute (Authenticode) */
	const struct hash_alg	*ess_hash;	/* certHash algorithm for version 2 */
	int			 ess_issuer_serial;
	enum cms_certs		 certs;
	const struct timespec	*signing_time;	/* NULL: no signingTime attribute */
	const struct hash_alg	*digest;	/* NULL: the signer's digest */
};

/*
 * A random serial of exactly n octets (TSA_SERIAL_MIN..MAX) whose INTEGER encoding is positive
 * and minimal: the first octet is 0x40..0x7F, leaving 8n-2 random bits.  0 or -1.
 */
int	serial_generate(unsigned char *serial, size_t n);
/* GeneralizedTime text (RFC 3161 2.4.2: UTC, no trailing zeros) of t truncated to digits. */
int	gentime_format(const struct timespec *t, int digits, char *out, size_t outlen);
/* DER TSTInfo. 0 or -1. */
int	tstinfo_encode(const struct tst_params *p, unsigned char **out, size_t *outlen);
/* DER ContentInfo holding SignedData over p->content: version 1 when content_type is id-data,
 * else 3 (RFC 5652 5.1). 0 or -1. */
int	cms_sign(const struct cms_params *p, unsigned char **out, size_t *outlen);

#endif
