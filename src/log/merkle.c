/*
 * merkle.c - the token log's Merkle tree (see merkle.h), RFC 9162 section 2.1: leaf and
 * interior hashing (2.1.1), inclusion paths (2.1.3) and consistency proofs (2.1.4) with
 * their verification.  Hand-written: no maintained C library implements RFC 9162 trees
 * (Certificate Transparency's own implementations are Go, C++ within larger programs, or
 * Python), and the algorithms are a page of the RFC each; the unit tests check them against
 * a naive recursive MTH and against every (m, n) pair of small trees.
 *
 * Untrusted input: a proof and sizes given to the verifiers (from the network, through
 * tsactl); both verifiers bound their loops by the proof's length and reject what the RFC
 * rejects.  Hashing is GnuTLS's.
 */
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "merkle.h"

static int
hash2(unsigned char prefix, const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen, merkle_hash out)
{
	gnutls_hash_hd_t h;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return -1;
	if (gnutls_hash(h, &prefix, 1) < 0 || (alen > 0 && gnutls_hash(h, a, alen) < 0) ||
	    (blen > 0 && gnutls_hash(h, b, blen) < 0)) {
		gnutls_hash_deinit(h, NULL);
		return -1;
	}
	gnutls_hash_deinit(h, out);
	return 0;
}

int
merkle_leaf_hash(const unsigned char *data, size_t len, merkle_hash out)
{
	return hash2(0x00, data, len, NULL, 0, out);
}

int
merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out)
{
	return hash2(0x01, left, MERKLE_HASH_LEN, right, MERKLE_HASH_LEN, out);
}

/* The largest power of two smaller than n (n > 1). */
static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

static int
pow2(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static unsigned
log2u(uint64_t n)
{
	unsigned l = 0;

	while (n >>= 1)
		l++;
	return l;
}

int
merkle_range_hash(uint64_t a, uint64_t b, merkle_get get, void *ctx, merkle_hash out)
{
	merkle_hash l, r;
	uint64_t n, k;

	if (b <= a)
		return -1;
	n = b - a;
	/* In MTH's recursion a range of 2^l leaves always starts at a multiple of 2^l. */
	if (pow2(n) && a % n == 0)
		return get(ctx, log2u(n), a >> log2u(n), out);
	k = split(n);
	if (merkle_range_hash(a, a + k, get, ctx, l) == -1 ||
	    merkle_range_hash(a + k, b, get, ctx, r) == -1)
		return -1;
	return merkle_node_hash(l, r, out);
}

/* PATH(m, D[a:a+n]) appended to path. */
static int
path(uint64_t m, uint64_t a, uint64_t n, merkle_get get, void *ctx, merkle_hash *p,
    size_t *len)
{
	uint64_t k;

	if (n == 1)
		return 0;
	if (*len >= MERKLE_MAX_PROOF)
		return -1;
	k = split(n);
	if (m < k) {
		if (path(m, a, k, get, ctx, p, len) == -1)
			return -1;
		return merkle_range_hash(a + k, a + n, get, ctx, p[(*len)++]);
	}
	if (path(m - k, a + k, n - k, get, ctx, p, len) == -1)
		return -1;
	return merkle_range_hash(a, a + k, get, ctx, p[(*len)++]);
}

int
merkle_inclusion_path(uint64_t m, uint64_t n, merkle_get get, void *ctx, merkle_hash *p,
    size_t *len)
{
	*len = 0;
	if (m >= n)
		return -1;
	return path(m, 0, n, get, ctx, p, len);
}

/* SUBPROOF(m, D[a:a+n], b) appended to proof. */
static int
subproof(uint64_t m, uint64_t a, uint64_t n, int b, merkle_get get, void *ctx,
    merkle_hash *p, size_t *len)
{
	uint64_t k;

	if (*len >= MERKLE_MAX_PROOF)
		return -1;
	if (m == n) {
		if (b)
			return 0;
		return merkle_range_hash(a, a + n, get, ctx, p[(*len)++]);
	}
	k = split(n);
	if (m <= k) {
		if (subproof(m, a, k, b, get, ctx, p, len) == -1 || *len >= MERKLE_MAX_PROOF)
			return -1;
		return merkle_range_hash(a + k, a + n, get, ctx, p[(*len)++]);
	}
	if (subproof(m - k, a + k, n - k, 0, get, ctx, p, len) == -1 ||
	    *len >= MERKLE_MAX_PROOF)
		return -1;
	return merkle_range_hash(a, a + k, get, ctx, p[(*len)++]);
}

int
merkle_consistency_proof(uint64_t m, uint64_t n, merkle_get get, void *ctx, merkle_hash *p,
    size_t *len)
{
	*len = 0;
	if (m == 0 || m > n)
		return -1;
	return subproof(m, 0, n, 1, get, ctx, p, len);
}

int
merkle_verify_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf_hash,
    const merkle_hash *p, size_t len, const merkle_hash root)
{
	merkle_hash r;
	uint64_t fn, sn;
	size_t i;

	/* RFC 9162 2.1.3.2, steps 1 to 5. */
	if (index >= size || len > MERKLE_MAX_PROOF)
		return 0;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf_hash, MERKLE_HASH_LEN);
	for (i = 0; i < len; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			if (merkle_node_hash(p[i], r, r) == -1)
				return 0;
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if (merkle_node_hash(r, p[i], r) == -1)
			return 0;
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, MERKLE_HASH_LEN) == 0;
}

int
merkle_verify_consistency(uint64_t size1, uint64_t size2, const merkle_hash root1,
    const merkle_hash root2, const merkle_hash *p, size_t len)
{
	merkle_hash fr, sr;
	uint64_t fn, sn;
	size_t i = 0;

	if (size1 == 0 || size1 > size2 || len > MERKLE_MAX_PROOF)
		return 0;
	if (size1 == size2)	/* 2.1.4.1: the proof of a tree against itself is empty */
		return len == 0 && memcmp(root1, root2, MERKLE_HASH_LEN) == 0;
	/* RFC 9162 2.1.4.2, steps 1 to 7; step 2's prepended first hash is root1. */
	if (len == 0)
		return 0;
	if (pow2(size1)) {
		memcpy(fr, root1, MERKLE_HASH_LEN);
	} else
		memcpy(fr, p[i++], MERKLE_HASH_LEN);
	memcpy(sr, fr, MERKLE_HASH_LEN);
	fn = size1 - 1;
	sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < len; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			if (merkle_node_hash(p[i], fr, fr) == -1 ||
			    merkle_node_hash(p[i], sr, sr) == -1)
				return 0;
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if (merkle_node_hash(sr, p[i], sr) == -1)
			return 0;
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, root1, MERKLE_HASH_LEN) == 0 &&
	    memcmp(sr, root2, MERKLE_HASH_LEN) == 0;
}

int
merkle_edge_load(struct merkle_edge *e, uint64_t size, merkle_get get, void *ctx)
{
	uint64_t start = 0;
	int l;

	memset(e, 0, sizeof(*e));
	for (l = 63; l >= 0; l--) {
		if (!(size & ((uint64_t)1 << l)))
			continue;
		if (get(ctx, (unsigned)l, start >> l, e->hash[e->n]) == -1)
			return -1;
		e->level[e->n++] = (unsigned)l;
		start += (uint64_t)1 << l;
	}
	e->size = size;
	return 0;
}

int
merkle_edge_append(struct merkle_edge *e, const merkle_hash leaf_hash,
    int (*done)(void *ctx, unsigned level, uint64_t idx, const merkle_hash h), void *ctx)
{
	uint64_t end;

	if (e->n >= 64)
		return -1;
	memcpy(e->hash[e->n], leaf_hash, MERKLE_HASH_LEN);
	e->level[e->n++] = 0;
	e->size++;
	end = e->size;
	/* Two subtrees of one level side by side become one a level up. */
	while (e->n >= 2 && e->level[e->n - 2] == e->level[e->n - 1]) {
		unsigned l = e->level[e->n - 1] + 1;

		if (merkle_node_hash(e->hash[e->n - 2], e->hash[e->n - 1], e->hash[e->n - 2]) == -1)
			return -1;
		e->level[e->n - 2] = l;
		e->n--;
		if (done != NULL && done(ctx, l, (end >> l) - 1, e->hash[e->n - 1]) == -1)
			return -1;
	}
	return 0;
}

int
merkle_edge_root(const struct merkle_edge *e, merkle_hash out)
{
	merkle_hash r;
	unsigned i;

	if (e->n == 0)		/* RFC 9162 2.1.1: MTH({}) = SHA-256() */
		return gnutls_hash_fast(GNUTLS_DIG_SHA256, "", 0, out) < 0 ? -1 : 0;
	memcpy(r, e->hash[e->n - 1], MERKLE_HASH_LEN);
	for (i = e->n - 1; i > 0; i--)
		if (merkle_node_hash(e->hash[i - 1], r, r) == -1)
			return -1;
	memcpy(out, r, MERKLE_HASH_LEN);
	return 0;
}
