/*
 * merkle.h - the Merkle tree of the token log, hashed as RFC 9162 section 2.1 says (SHA-256):
 * leaf and interior hashes, the root of a range, inclusion and consistency proofs (2.1.3,
 * 2.1.4) and their verification, and the right edge of a growing tree (the integrator's).
 *
 * The tree's nodes are never held whole: every hash a computation needs is a complete subtree
 * (2^level leaves from idx * 2^level), asked of a merkle_get callback (PostgreSQL's rows for
 * the log, an array in the tests).  A proof thus reads O(log n) nodes.
 *
 * Ownership: callers own every buffer; nothing here allocates.
 */
#ifndef TSA_MERKLE_H
#define TSA_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN		32	/* SHA-256 */
/* A proof has at most one hash per level of a tree of 2^63 leaves. */
#define MERKLE_MAX_PROOF	64

typedef unsigned char merkle_hash[MERKLE_HASH_LEN];

/* The hash of the complete subtree of 2^level leaves starting at leaf idx << level, into
 * out: 0, or -1 (not available: the computation fails). */
typedef int (*merkle_get)(void *ctx, unsigned level, uint64_t idx, merkle_hash out);

/* RFC 9162 2.1.1: SHA-256(0x00 || data) and SHA-256(0x01 || left || right). 0 or -1. */
int	merkle_leaf_hash(const unsigned char *data, size_t len, merkle_hash out);
int	merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out);

/* MTH(D[a:b]) (RFC 9162 2.1.1), a < b, from complete subtrees.  0 or -1. */
int	merkle_range_hash(uint64_t a, uint64_t b, merkle_get get, void *ctx, merkle_hash out);
/*
 * PATH(m, D[n]) (2.1.3.1), m < n: *len hashes into path (at most MERKLE_MAX_PROOF), leaf
 * side first.  0 or -1.
 */
int	merkle_inclusion_path(uint64_t m, uint64_t n, merkle_get get, void *ctx,
	    merkle_hash *path, size_t *len);
/* PROOF(m, D[n]) (2.1.4.1), 0 < m <= n.  0 or -1. */
int	merkle_consistency_proof(uint64_t m, uint64_t n, merkle_get get, void *ctx,
	    merkle_hash *proof, size_t *len);

/* 2.1.3.2: 1 when path proves leaf_hash at index in a tree of size with root, else 0. */
int	merkle_verify_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf_hash,
	    const merkle_hash *path, size_t len, const merkle_hash root);
/* 2.1.4.2: 1 when proof shows the tree (size1, root1) is a prefix of (size2, root2). */
int	merkle_verify_consistency(uint64_t size1, uint64_t size2, const merkle_hash root1,
	    const merkle_hash root2, const merkle_hash *proof, size_t len);

/*
 * The right edge of a tree: one complete subtree per bit set in size, largest first, which is
 * all that appending a leaf or computing the root needs.
 */
struct merkle_edge {
	uint64_t	size;
	unsigned	n;
	unsigned	level[64];
	merkle_hash	hash[64];
};

/* Loads the edge of a tree of size leaves from get.  0 or -1. */
int	merkle_edge_load(struct merkle_edge *e, uint64_t size, merkle_get get, void *ctx);
/*
 * Appends a leaf; each complete subtree the leaf completes (levels 1 and up) is passed to
 * done (which may be NULL), so the caller can keep it.  0, or -1 when done failed.
 */
int	merkle_edge_append(struct merkle_edge *e, const merkle_hash leaf_hash,
	    int (*done)(void *ctx, unsigned level, uint64_t idx, const merkle_hash h), void *ctx);
/* The root of the edge's tree (RFC 9162: SHA-256 of the empty string for size 0). 0 or -1. */
int	merkle_edge_root(const struct merkle_edge *e, merkle_hash out);

#endif
