/*
 * leaf.c - the token log's leaf and tree head octets (formats in tlog.h).  The decoder reads
 * leaves from the database (tsactl log audit), which whoever can write the database may have
 * forged: it is strict and bounded like any parser.
 */
#include <string.h>

#include "bytes.h"
#include "tlog.h"

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

size_t
tlog_leaf_encode(const struct tlog_leaf *l, unsigned char *out)
{
	const unsigned char *s = l->serial;
	size_t sl = l->serial_len, al = strlen(l->hash_alg), n = 0;

	while (sl > 1 && s[0] == 0) {
		s++;
		sl--;
	}
	if (sl == 0 || sl > TLOG_MAX_SERIAL || al == 0 || al > TLOG_MAX_ALG_NAME ||
	    l->imprint_len == 0 || l->imprint_len > TLOG_MAX_IMPRINT)
		return 0;
	out[n++] = TLOG_LEAF_VERSION;
	memcpy(out + n, l->token_hash, MERKLE_HASH_LEN);
	n += MERKLE_HASH_LEN;
	out[n++] = (unsigned char)sl;
	memcpy(out + n, s, sl);
	n += sl;
	put64(out + n, (uint64_t)l->gen_time_us);
	n += 8;
	out[n++] = (unsigned char)al;
	memcpy(out + n, l->hash_alg, al);
	n += al;
	out[n++] = (unsigned char)l->imprint_len;
	memcpy(out + n, l->imprint, l->imprint_len);
	return n + l->imprint_len;
}

int
tlog_leaf_decode(const unsigned char *p, size_t len, struct tlog_leaf *l)
{
	struct tlog_leaf t;
	size_t i, n = 0, k;

	memset(&t, 0, sizeof(t));
	if (len < 1 + MERKLE_HASH_LEN + 1 || p[n++] != TLOG_LEAF_VERSION)
		return -1;
	memcpy(t.token_hash, p + n, MERKLE_HASH_LEN);
	n += MERKLE_HASH_LEN;
	k = p[n++];
	if (k == 0 || k > TLOG_MAX_SERIAL || len - n < k || (k > 1 && p[n] == 0))
		return -1;
	memcpy(t.serial, p + n, k);
	t.serial_len = k;
	n += k;
	if (len - n < 8 + 1)
		return -1;
	t.gen_time_us = (int64_t)be64_get(p + n);
	n += 8;
	k = p[n++];
	if (k == 0 || k > TLOG_MAX_ALG_NAME || len - n < k + 1)
		return -1;
	for (i = 0; i < k; i++)
		if (p[n + i] < 0x21 || p[n + i] > 0x7e)
			return -1;
	memcpy(t.hash_alg, p + n, k);
	n += k;
	k = p[n++];
	if (k == 0 || k > TLOG_MAX_IMPRINT || len - n != k)	/* nothing may trail */
		return -1;
	memcpy(t.imprint, p + n, k);
	t.imprint_len = k;
	*l = t;
	return 0;
}

void
tlog_head_tbs(uint64_t timestamp_ms, uint64_t size, const merkle_hash root, unsigned char *out)
{
	out[0] = 0;	/* v1 in RFC 6962's numbering */
	out[1] = 1;	/* tree_hash */
	put64(out + 2, timestamp_ms);
	put64(out + 10, size);
	memcpy(out + 18, root, MERKLE_HASH_LEN);
}
