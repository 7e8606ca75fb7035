/*
 * logjson.c - the token log's JSON answers (formats in logjson.h).  Only what this program
 * holds goes in: numbers, base64 and a serial of digits, so nothing needs escaping but the
 * key id, which is written only when it is printable ASCII without quotes or backslashes.
 */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "logjson.h"
#include "strbuf.h"

static void
b64(struct sbuf *b, const unsigned char *p, size_t n)
{
	size_t len;
	char *s = base64_encode(p, n, 0, &len);

	if (s == NULL) {
		b->failed = 1;
		return;
	}
	sb_str(b, "\"");
	sb_own(b, s);
	sb_str(b, "\"");
}

static char *
done(struct sbuf *b)
{
	unsigned char *out;
	size_t len;

	sb_str(b, "}\n");
	return sb_done(b, &out, &len) == 0 ? (char *)out : NULL;
}

static void
hashes(struct sbuf *b, const merkle_hash *h, size_t n)
{
	size_t i;

	sb_str(b, "[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_str(b, ",");
		b64(b, h[i], MERKLE_HASH_LEN);
	}
	sb_str(b, "]");
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

char *
logjson_sth(const struct log_head *h)
{
	struct sbuf b = { 0 };

	sb_printf(&b, "{\"tree_size\":%llu,\"timestamp\":%llu,\"sha256_root_hash\":",
	    (unsigned long long)h->tree_size, (unsigned long long)h->timestamp);
	b64(&b, h->root, MERKLE_HASH_LEN);
	sb_str(&b, ",\"tree_head_signature\":");
	if (h->signature_len > 0)
		b64(&b, h->signature, h->signature_len);
	else
		sb_str(&b, "null");
	sb_str(&b, ",\"log_key_id\":");
	if (h->key_id[0] != '\0' && printable(h->key_id))
		sb_printf(&b, "\"%s\"", h->key_id);
	else
		sb_str(&b, "null");
	return done(&b);
}

char *
logjson_proof(const char *serial, uint64_t index, uint64_t size, const unsigned char *leaf,
    size_t leaf_len, const merkle_hash *path, size_t len)
{
	struct sbuf b = { 0 };
	merkle_hash lh;

	if (serial[strspn(serial, "0123456789")] != '\0' ||
	    merkle_leaf_hash(leaf, leaf_len, lh) == -1)
		return NULL;
	sb_printf(&b, "{\"serial\":\"%s\",\"leaf_index\":%llu,\"tree_size\":%llu,\"leaf\":",
	    serial, (unsigned long long)index, (unsigned long long)size);
	b64(&b, leaf, leaf_len);
	sb_str(&b, ",\"leaf_hash\":");
	b64(&b, lh, MERKLE_HASH_LEN);
	sb_str(&b, ",\"audit_path\":");
	hashes(&b, path, len);
	return done(&b);
}

char *
logjson_consistency(uint64_t first, uint64_t second, const merkle_hash *proof, size_t len)
{
	struct sbuf b = { 0 };

	sb_printf(&b, "{\"first\":%llu,\"second\":%llu,\"consistency\":",
	    (unsigned long long)first, (unsigned long long)second);
	hashes(&b, proof, len);
	return done(&b);
}

char *
logjson_keys(const struct logkeys *ks)
{
	struct sbuf b = { 0 };
	size_t i;

	sb_str(&b, "{\"keys\":[");
	for (i = 0; i < ks->n; i++) {
		const struct logkey_entry *e = &ks->e[i];

		/* Every text was checked at load (logkeys.c); printable() once more. */
		if (!printable(e->key_id) || !printable(e->host) || !printable(e->algorithm) ||
		    !printable(e->added) || !printable(e->retired)) {
			b.failed = 1;
			break;
		}
		sb_printf(&b, "%s{\"log_key_id\":\"%s\",\"host\":\"%s\",\"algorithm\":\"%s\","
		    "\"public_key\":", i ? "," : "", e->key_id, e->host, e->algorithm);
		b64(&b, e->spki, e->spki_len);
		sb_printf(&b, ",\"added\":\"%s\",\"retired\":", e->added);
		if (e->retired[0] != '\0')
			sb_printf(&b, "\"%s\"}", e->retired);
		else
			sb_str(&b, "null}");
	}
	sb_str(&b, "]");
	return done(&b);
}
