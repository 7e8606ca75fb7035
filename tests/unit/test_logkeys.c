/*
 * test_logkeys.c - unit tests of the token log's listed keys (src/log/logkeys.c) and their
 * JSON (src/log/logjson.c): a key's id and algorithm from its SubjectPublicKeyInfo, garbage
 * refused; a tree head verified with the listed key of its id, and refused when altered,
 * unsigned, signed by a key not listed, or signed after its key was retired.  Keys are made
 * in memory by GnuTLS (ECDSA P-256 and RSA-2048), no token.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "logjson.h"
#include "logkeys.h"
#include "testlib.h"

/* A fresh key of pk, listed as the only entry of ks; its private half into *priv. */
static void
make_key(gnutls_pk_algorithm_t pk, unsigned bits, gnutls_privkey_t *priv, struct logkeys *ks)
{
	gnutls_pubkey_t pub;
	gnutls_datum_t der, d;
	struct logkey_entry *e;
	const char *alg;
	char err[256];

	ck_assert_int_ge(gnutls_privkey_init(priv), 0);
	ck_assert_int_ge(gnutls_privkey_generate(*priv, pk, bits, 0), 0);
	ck_assert_int_ge(gnutls_pubkey_init(&pub), 0);
	ck_assert_int_ge(gnutls_pubkey_import_privkey(pub, *priv, 0, 0), 0);
	ck_assert_int_ge(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der), 0);
	gnutls_pubkey_deinit(pub);
	ck_assert_ptr_nonnull(ks->e = calloc(1, sizeof(*ks->e)));
	ks->n = 1;
	e = &ks->e[0];
	ck_assert_int_eq(logkeys_describe(der.data, der.size, e->key_id, &alg, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(alg, pk == GNUTLS_PK_ECDSA ? "ecdsa-sha256" : "rsa-pkcs1-sha256");
	snprintf(e->algorithm, sizeof(e->algorithm), "%s", alg);
	snprintf(e->host, sizeof(e->host), "tsa-be1");
	snprintf(e->added, sizeof(e->added), "2026-12-06T21:00:00Z");
	memcpy(e->spki, der.data, der.size);
	e->spki_len = der.size;
	e->retired_ms = -1;
	d.data = e->spki;
	d.size = der.size;
	ck_assert_int_ge(gnutls_pubkey_init(&e->pub), 0);
	ck_assert_int_ge(gnutls_pubkey_import(e->pub, &d, GNUTLS_X509_FMT_DER), 0);
	gnutls_free(der.data);
}

static void
sign_head(gnutls_privkey_t priv, const struct logkeys *ks, struct log_head *h)
{
	unsigned char tbs[TLOG_HEAD_TBS_LEN];
	gnutls_datum_t d = { tbs, sizeof(tbs) }, sig;

	memset(h, 0, sizeof(*h));
	h->tree_size = 1000022;
	h->timestamp = 1796590000000ULL;
	memset(h->root, 0xab, MERKLE_HASH_LEN);
	tlog_head_tbs(h->timestamp, h->tree_size, h->root, tbs);
	ck_assert_int_ge(gnutls_privkey_sign_data2(priv, strcmp(ks->e[0].algorithm,
	    "ecdsa-sha256") == 0 ? GNUTLS_SIGN_ECDSA_SHA256 : GNUTLS_SIGN_RSA_SHA256, 0, &d,
	    &sig), 0);
	ck_assert_uint_le(sig.size, LOG_MAX_SIGNATURE);
	memcpy(h->signature, sig.data, sig.size);
	h->signature_len = sig.size;
	memcpy(h->key_id, ks->e[0].key_id, 65);
	gnutls_free(sig.data);
}

static void
check_heads(gnutls_pk_algorithm_t pk, unsigned bits)
{
	struct logkeys ks = { 0, NULL };
	gnutls_privkey_t priv;
	struct log_head h, bad;
	char why[512];

	make_key(pk, bits, &priv, &ks);
	sign_head(priv, &ks, &h);
	ck_assert_int_eq(logkeys_check_head(&ks, &h, why, sizeof(why)), 0);
	/* Altered in its size, its time, its root: refused. */
	bad = h;
	bad.tree_size++;
	ck_assert_int_eq(logkeys_check_head(&ks, &bad, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "does not verify"));
	bad = h;
	bad.timestamp++;
	ck_assert_int_eq(logkeys_check_head(&ks, &bad, why, sizeof(why)), -1);
	bad = h;
	bad.root[31] ^= 1;
	ck_assert_int_eq(logkeys_check_head(&ks, &bad, why, sizeof(why)), -1);
	/* Unsigned. */
	bad = h;
	bad.signature_len = 0;
	ck_assert_int_eq(logkeys_check_head(&ks, &bad, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "not signed"));
	/* Its key not listed. */
	bad = h;
	bad.key_id[0] = bad.key_id[0] == '0' ? '1' : '0';
	ck_assert_int_eq(logkeys_check_head(&ks, &bad, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "not listed"));
	/* Retired before the head, and after it. */
	ks.e[0].retired_ms = (int64_t)h.timestamp - 1;
	ck_assert_int_eq(logkeys_check_head(&ks, &h, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "retired"));
	ks.e[0].retired_ms = (int64_t)h.timestamp;
	ck_assert_int_eq(logkeys_check_head(&ks, &h, why, sizeof(why)), 0);
	gnutls_privkey_deinit(priv);
	logkeys_free(&ks);
	logkeys_free(&ks);	/* twice: emptied the first time */
}

START_TEST(heads_ecdsa)
{
	check_heads(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
}
END_TEST

START_TEST(heads_rsa)
{
	check_heads(GNUTLS_PK_RSA, 2048);
}
END_TEST

START_TEST(describe_refuses)
{
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	unsigned char big[LOG_MAX_SPKI + 1];
	const char *alg;
	char id[65], err[256];

	ck_assert_int_eq(logkeys_describe(junk, sizeof(junk), id, &alg, err, sizeof(err)), -1);
	ck_assert_int_eq(logkeys_describe(junk, 0, id, &alg, err, sizeof(err)), -1);
	memset(big, 0x30, sizeof(big));
	ck_assert_int_eq(logkeys_describe(big, sizeof(big), id, &alg, err, sizeof(err)), -1);
}
END_TEST

START_TEST(keys_json)
{
	struct logkeys ks = { 0, NULL };
	gnutls_privkey_t priv;
	char *j, want[160];

	j = logjson_keys(&ks);
	ck_assert_str_eq(j, "{\"keys\":[]}\n");
	free(j);
	make_key(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), &priv, &ks);
	ck_assert_ptr_nonnull(j = logjson_keys(&ks));
	snprintf(want, sizeof(want), "{\"keys\":[{\"log_key_id\":\"%s\",\"host\":\"tsa-be1\","
	    "\"algorithm\":\"ecdsa-sha256\",\"public_key\":\"", ks.e[0].key_id);
	ck_assert_int_eq(strncmp(j, want, strlen(want)), 0);
	ck_assert_ptr_nonnull(strstr(j, "\"added\":\"2026-12-06T21:00:00Z\",\"retired\":null}]}"));
	free(j);
	/* A text that would need escaping is never written. */
	snprintf(ks.e[0].host, sizeof(ks.e[0].host), "a\"b");
	ck_assert_ptr_null(logjson_keys(&ks));
	gnutls_privkey_deinit(priv);
	logkeys_free(&ks);
}
END_TEST

int
main(void)
{
	return tl_run(tl_suite("logkeys", 60, heads_ecdsa, heads_rsa, describe_refuses,
	    keys_json, NULL));
}
