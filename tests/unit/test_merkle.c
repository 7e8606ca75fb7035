/*
 * test_merkle.c - unit tests of the token log's tree and formats: src/log/merkle.c against
 * Certificate Transparency's published roots for its eight test leaves and against a naive
 * recursive MTH (RFC 9162 2.1.1) for every tree up to 64 leaves; every inclusion path and
 * consistency proof of those trees verified, and refused once altered; src/log/leaf.c's
 * leaf round trip and its strict decoder (every prefix, a trailing octet, bad lengths).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "merkle.h"
#include "tlog.h"
#include "testlib.h"

#define MAXN	64

static merkle_hash leaves[MAXN];

/* MTH(D[a:b]) the RFC's way, from the leaf hashes. */
static void
naive(uint64_t a, uint64_t b, merkle_hash out)
{
	merkle_hash l, r;
	uint64_t k = 1;

	if (b - a == 1) {
		memcpy(out, leaves[a], MERKLE_HASH_LEN);
		return;
	}
	while (k << 1 < b - a)
		k <<= 1;
	naive(a, a + k, l);
	naive(a + k, b, r);
	merkle_node_hash(l, r, out);
}

static int
get_naive(void *ctx, unsigned level, uint64_t idx, merkle_hash out)
{
	uint64_t a = idx << level, b = a + ((uint64_t)1 << level);

	(void)ctx;
	if (b > MAXN)
		return -1;
	naive(a, b, out);
	return 0;
}

static void
make_leaves(void)
{
	unsigned char d[4];
	int i;

	for (i = 0; i < MAXN; i++) {
		d[0] = (unsigned char)i;
		d[1] = 0xa5;
		merkle_leaf_hash(d, 2, leaves[i]);
	}
}

static void
hex(const merkle_hash h, char *out)
{
	int i;

	for (i = 0; i < MERKLE_HASH_LEN; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

START_TEST(ct_vectors)
{
	/* The leaves and roots of Certificate Transparency's merkle tree tests. */
	static const struct { const char *d; size_t n; } in[8] = {
		{ "", 0 }, { "\x00", 1 }, { "\x10", 1 }, { "\x20\x21", 2 }, { "\x30\x31", 2 },
		{ "\x40\x41\x42\x43", 4 }, { "\x50\x51\x52\x53\x54\x55\x56\x57", 8 },
		{ "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16 },
	};
	static const char *roots[8] = {
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	};
	struct merkle_edge e;
	merkle_hash h, root;
	char got[65];
	int i;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(merkle_edge_root(&e, root), 0);
	hex(root, got);
	ck_assert_str_eq(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(merkle_leaf_hash((const unsigned char *)in[i].d, in[i].n, h), 0);
		ck_assert_int_eq(merkle_edge_append(&e, h, NULL, NULL), 0);
		ck_assert_int_eq(merkle_edge_root(&e, root), 0);
		hex(root, got);
		ck_assert_str_eq(got, roots[i]);
	}
}
END_TEST

static merkle_hash kept[8][MAXN];
static int kept_ok;

static int
keep(void *ctx, unsigned level, uint64_t idx, const merkle_hash h)
{
	merkle_hash want;

	(void)ctx;
	get_naive(NULL, level, idx, want);
	if (level < 8 && idx < MAXN)
		memcpy(kept[level][idx], h, MERKLE_HASH_LEN);
	kept_ok &= memcmp(want, h, MERKLE_HASH_LEN) == 0;
	return 0;
}

START_TEST(edge_and_ranges)
{
	struct merkle_edge e, l;
	merkle_hash root, want;
	uint64_t n, a;

	make_leaves();
	memset(&e, 0, sizeof(e));
	kept_ok = 1;
	for (n = 1; n <= MAXN; n++) {
		ck_assert_int_eq(merkle_edge_append(&e, leaves[n - 1], keep, NULL), 0);
		ck_assert_int_eq(merkle_edge_root(&e, root), 0);
		naive(0, n, want);
		ck_assert_mem_eq(root, want, MERKLE_HASH_LEN);
		/* The edge loaded from the nodes gives the same root. */
		ck_assert_int_eq(merkle_edge_load(&l, n, get_naive, NULL), 0);
		ck_assert_int_eq(merkle_edge_root(&l, root), 0);
		ck_assert_mem_eq(root, want, MERKLE_HASH_LEN);
		for (a = 0; a < n; a++) {
			naive(a, n, want);
			ck_assert_int_eq(merkle_range_hash(a, n, get_naive, NULL, root), 0);
			ck_assert_mem_eq(root, want, MERKLE_HASH_LEN);
		}
	}
	ck_assert(kept_ok);
}
END_TEST

START_TEST(inclusion)
{
	merkle_hash path[MERKLE_MAX_PROOF], root, bad;
	uint64_t n, m;
	size_t len, i;

	make_leaves();
	for (n = 1; n <= MAXN; n++) {
		naive(0, n, root);
		for (m = 0; m < n; m++) {
			ck_assert_int_eq(merkle_inclusion_path(m, n, get_naive, NULL, path, &len), 0);
			ck_assert(merkle_verify_inclusion(m, n, leaves[m], path, len, root));
			/* Another leaf, another index, an index past the size, an altered or cut path:
			 * refused.  (The size alone is not bound by a path: the signed head binds it.) */
			ck_assert(!merkle_verify_inclusion(m, n, leaves[(m + 1) % MAXN], path, len,
			    root));
			if (n > 1)
				ck_assert(!merkle_verify_inclusion((m + 1) % n, n, leaves[m], path,
				    len, root));
			ck_assert(!merkle_verify_inclusion(n, n, leaves[m], path, len, root));
			for (i = 0; i < len; i++) {
				memcpy(bad, path[i], MERKLE_HASH_LEN);
				path[i][3] ^= 1;
				ck_assert(!merkle_verify_inclusion(m, n, leaves[m], path, len, root));
				memcpy(path[i], bad, MERKLE_HASH_LEN);
			}
			if (len > 0)
				ck_assert(!merkle_verify_inclusion(m, n, leaves[m], path, len - 1,
				    root));
		}
	}
	ck_assert_int_eq(merkle_inclusion_path(3, 3, get_naive, NULL, path, &len), -1);
}
END_TEST

START_TEST(consistency)
{
	merkle_hash proof[MERKLE_MAX_PROOF], r1, r2, bad;
	uint64_t n, m;
	size_t len, i;

	make_leaves();
	for (n = 1; n <= MAXN; n++) {
		naive(0, n, r2);
		for (m = 1; m <= n; m++) {
			naive(0, m, r1);
			ck_assert_int_eq(merkle_consistency_proof(m, n, get_naive, NULL, proof,
			    &len), 0);
			ck_assert(merkle_verify_consistency(m, n, r1, r2, proof, len));
			ck_assert(!merkle_verify_consistency(m, n, r2, r1, proof, len) ||
			    m == n);
			if (m < n) {
				ck_assert(!merkle_verify_consistency(m, n, r1, r2, proof, len - 1));
			}
			for (i = 0; i < len; i++) {
				memcpy(bad, proof[i], MERKLE_HASH_LEN);
				proof[i][0] ^= 0x80;
				ck_assert(!merkle_verify_consistency(m, n, r1, r2, proof, len));
				memcpy(proof[i], bad, MERKLE_HASH_LEN);
			}
		}
	}
	ck_assert_int_eq(merkle_consistency_proof(0, 4, get_naive, NULL, proof, &len), -1);
	ck_assert_int_eq(merkle_consistency_proof(5, 4, get_naive, NULL, proof, &len), -1);
}
END_TEST

START_TEST(leaf_round_trip)
{
	struct tlog_leaf l, d;
	unsigned char out[TLOG_MAX_LEAF + 1];
	size_t n, i;

	memset(&l, 0, sizeof(l));
	memset(l.token_hash, 0xab, sizeof(l.token_hash));
	l.serial[0] = 0;
	l.serial[1] = 0;
	l.serial[2] = 0x7f;
	l.serial_len = 3;
	l.gen_time_us = 1765000000123456LL;
	strcpy(l.hash_alg, "sha256");
	memset(l.imprint, 0x11, 32);
	l.imprint_len = 32;
	n = tlog_leaf_encode(&l, out);
	ck_assert_uint_eq(n, 1 + 32 + 1 + 1 + 8 + 1 + 6 + 1 + 32);
	ck_assert_int_eq(tlog_leaf_decode(out, n, &d), 0);
	ck_assert_uint_eq(d.serial_len, 1);
	ck_assert_uint_eq(d.serial[0], 0x7f);
	ck_assert(d.gen_time_us == l.gen_time_us);
	ck_assert_str_eq(d.hash_alg, "sha256");
	ck_assert_mem_eq(d.imprint, l.imprint, 32);
	ck_assert_mem_eq(d.token_hash, l.token_hash, 32);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(tlog_leaf_decode(out, i, &d), -1);
	out[n] = 0;
	ck_assert_int_eq(tlog_leaf_decode(out, n + 1, &d), -1);
	out[0] = 1;
	ck_assert_int_eq(tlog_leaf_decode(out, n, &d), -1);
	out[0] = 0;
	out[33] = 2;		/* a serial with a leading zero octet */
	out[34] = 0;
	ck_assert_int_eq(tlog_leaf_decode(out, n, &d), -1);
	l.imprint_len = 0;
	ck_assert_uint_eq(tlog_leaf_encode(&l, out), 0);
	l.imprint_len = TLOG_MAX_IMPRINT + 1;
	ck_assert_uint_eq(tlog_leaf_encode(&l, out), 0);
}
END_TEST

int
main(void)
{
	return tl_run(tl_suite("merkle", 60, ct_vectors, edge_and_ranges, inclusion,
	    consistency, leaf_round_trip, NULL));
}
