/*
 * tlog.h - the token log's formats (README "Token log"): the leaf each issued token becomes,
 * and the tree head the log key signs.  Both are byte strings fixed here, so that an auditor
 * can rebuild them from the archive and a token file alone.
 *
 * Leaf (version 0), all integers big-endian:
 *   u8 version (0) · 32 octets SHA-256 of the token as issued (the DER ContentInfo, the XML
 *   document, the Authenticode countersignature) · u8 n, n octets serial (minimal unsigned,
 *   1..21) · i64 genTime in microseconds since 1970-01-01T00:00:00Z · u8 n, n octets digest
 *   name (as issued_tokens.hash_alg: sha256, ...) · u8 n, n octets imprint (1..64)
 * Its Merkle leaf hash is RFC 9162's SHA-256(0x00 || leaf).
 *
 * Tree head to be signed (RFC 6962 3.5's TreeHeadSignature):
 *   u8 version (0) · u8 signature_type tree_hash (1) · u64 timestamp in ms · u64 tree_size ·
 *   32 octets root hash
 */
#ifndef TSA_TLOG_H
#define TSA_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"

#define TLOG_LEAF_VERSION	0
#define TLOG_MAX_SERIAL		21	/* 160-bit serials, and a spare octet */
#define TLOG_MAX_ALG_NAME	32
#define TLOG_MAX_IMPRINT	64	/* SHA-512 */
#define TLOG_MAX_LEAF		(1 + 32 + 1 + TLOG_MAX_SERIAL + 8 + 1 + TLOG_MAX_ALG_NAME + \
				 1 + TLOG_MAX_IMPRINT)
#define TLOG_HEAD_TBS_LEN	(1 + 1 + 8 + 8 + MERKLE_HASH_LEN)

struct tlog_leaf {
	merkle_hash	token_hash;
	unsigned char	serial[TLOG_MAX_SERIAL];
	size_t		serial_len;
	int64_t		gen_time_us;
	char		hash_alg[TLOG_MAX_ALG_NAME + 1];
	unsigned char	imprint[TLOG_MAX_IMPRINT];
	size_t		imprint_len;
};

/* The leaf of l into out (TLOG_MAX_LEAF octets): its length, or 0 when a field is out of
 * bounds.  Leading zero octets of the serial are dropped (the archive keeps it as a number). */
size_t	tlog_leaf_encode(const struct tlog_leaf *l, unsigned char *out);
/* Strict: every length within bounds, the version 0, no trailing octet.  0 or -1. */
int	tlog_leaf_decode(const unsigned char *p, size_t len, struct tlog_leaf *l);
/* The tree head's signed octets into out (TLOG_HEAD_TBS_LEN). */
void	tlog_head_tbs(uint64_t timestamp_ms, uint64_t size, const merkle_hash root,
	    unsigned char *out);

#endif
