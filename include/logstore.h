/*
 * logstore.h - the token log in PostgreSQL (schema 011): complete subtrees read for proofs in
 * one query each, tree heads, leaves by serial.  Read by tsactl log, the workers' /log/
 * answers and the integrator (tsa-log); written by the integrator only (src/logd/).
 *
 * Ownership: nothing here keeps a connection; callers pass theirs and own every buffer.
 */
#ifndef TSA_LOGSTORE_H
#define TSA_LOGSTORE_H

#include <stdint.h>
#include <libpq-fe.h>

#include "merkle.h"
#include "tlog.h"

#define LOG_MAX_SIGNATURE	1024	/* an RSA-4096 or ECDSA signature, with room */
#define LOG_MAX_KEY_ID		128

struct log_head {
	uint64_t	tree_size;
	uint64_t	timestamp;	/* ms since 1970 */
	merkle_hash	root;
	unsigned char	signature[LOG_MAX_SIGNATURE];
	size_t		signature_len;	/* 0: unsigned */
	char		key_id[LOG_MAX_KEY_ID];
};

/* The latest head (size 0 first == 0), or the one of size first == 1 with size: 1 found,
 * 0 none, -1 with err. */
int	logstore_head(PGconn *c, int latest, uint64_t size, struct log_head *h,
	    char *err, size_t errlen);
/* The leaf recorded for serial (decimal): 1 with its index and leaf, 0 not integrated, -1. */
int	logstore_leaf_by_serial(PGconn *c, const char *serial, uint64_t *index,
	    unsigned char *leaf, size_t *leaf_len, char *err, size_t errlen);
/* RFC 9162 proofs over the stored tree, O(log n) nodes read in one query.  0 or -1. */
int	logstore_inclusion(PGconn *c, uint64_t m, uint64_t n, merkle_hash *path, size_t *len,
	    char *err, size_t errlen);
int	logstore_consistency(PGconn *c, uint64_t m, uint64_t n, merkle_hash *proof,
	    size_t *len, char *err, size_t errlen);
/* The right edge of the stored tree of size leaves (the integrator's start).  0 or -1. */
int	logstore_edge(PGconn *c, uint64_t size, struct merkle_edge *e, char *err,
	    size_t errlen);

#endif
