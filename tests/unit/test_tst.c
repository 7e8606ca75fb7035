/*
 * test_tst.c - unit tests of token building: src/tst/tstinfo.c (genTime text, TSTInfo DER
 * against bytes written out by hand from RFC 3161 2.4.2 and X.690), src/tst/cms.c (SignedData
 * version 3 signed on a real SoftHSM2 token) and src/sign/signer.c (the RFC 3161 2.3 checks
 * on the TSA certificate, the key-matches-certificate proof).
 *
 * Set-up, once per run, before the tests: a temporary directory under $TMPDIR (default /tmp)
 * holding a SoftHSM2 token (softhsm2-util) with three keys written by p11tool (EC P-256 and
 * RSA-2048 TSA keys, another EC key that matches no certificate), and a small PKI made here
 * with GnuTLS: root CA, intermediate CA, TSA certificates with a critical extendedKeyUsage of
 * id-kp-timeStamping only, and certificates that break RFC 3161 2.3 one way each.
 * Tokens are taken apart with a small TLV reader of this file (not the libtasn1 module the
 * code under test uses), their signatures checked with GnuTLS, and the whole response
 * verified by `openssl ts -verify` as an independent verifier.
 */
#include <check.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "asn1.h"
#include "bytes.h"
#include "conf.h"
#include "der.h"
#include "hashalg.h"
#include "rfc3161.h"
#include "signer.h"
#include "tst.h"

#include "testlib.h"

#define B(...)	((const unsigned char[]){ __VA_ARGS__ })
#define N(...)	sizeof((const unsigned char[]){ __VA_ARGS__ })
#define BYTES(...)	B(__VA_ARGS__), N(__VA_ARGS__)

/* OIDs as DER (tag, length, contents), written from their dotted form by hand. */
#define DER_SIGNED_DATA	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02
#define DER_TSTINFO	0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04
#define DER_CONTENT_TYPE 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03
#define DER_MSG_DIGEST	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04
#define DER_SIGNING_TIME 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05
#define DER_SIGNING_CERT 0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c
#define DER_SIGNING_CERT_V2 0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f
#define DER_SHA1	0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a
#define DER_SHA256	0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01
#define DER_SHA384	0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02
#define DER_ECDSA_SHA256 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02
#define DER_RSA		0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01
#define DER_RSA_PSS	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a
#define DER_MGF1	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08

#define OID_KP_TS	"1.3.6.1.5.5.7.3.8"
#define OID_KP_CODE	"1.3.6.1.5.5.7.3.3"
#define OID_KP_SERVER	"1.3.6.1.5.5.7.3.1"

#define TOKEN_LABEL	"tsa-unit"
#define SO_PIN		"11223344"
#define USER_PIN	"55667788"
#define URI_EC		"pkcs11:token=" TOKEN_LABEL ";object=tsa-ec;type=private"
#define URI_RSA		"pkcs11:token=" TOKEN_LABEL ";object=tsa-rsa;type=private"
#define URI_OTHER	"pkcs11:token=" TOKEN_LABEL ";object=other-ec;type=private"
#define URI_NONE	"pkcs11:token=" TOKEN_LABEL ";object=no-such-key;type=private"

/* ---- shared state, made once in main() ------------------------------------------------- */

static struct {
	char	 dir[256];
	char	 module[256];
	char	 hsm_conf[320], pin_file[320], env[340], data[320], root_file[320],
		 inter_file[320], resp_file[320];
	char	*root, *inter, *chain;		/* PEM: root CA, intermediate, inter + root */
	char	*ec, *rsa;			/* good TSA certificates (EC, RSA keys) */
	char	*noncrit, *extra, *server, *noeku, *expired, *future;	/* EC key, bad */
	time_t	 now;
	int	 token_ready;
	char	 why[512];			/* why the token is not ready */
	int	 have_openssl;
} G;

static struct tsa_conf conf;

static void
die(const char *what)
{
	fprintf(stderr, "test_tst set-up: %s\n", what);
	exit(EXIT_FAILURE);
}

static char *
datum_str(gnutls_datum_t *d)
{
	char *s = malloc(d->size + 1);

	if (s == NULL)
		die("out of memory");
	memcpy(s, d->data, d->size);
	s[d->size] = '\0';
	gnutls_free(d->data);
	d->data = NULL;
	return s;
}

static char *
cat2(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s == NULL)
		die("out of memory");
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

static void
write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(s, f) == EOF || fclose(f) != 0)
		die(path);
}

static gnutls_x509_privkey_t
genkey(gnutls_pk_algorithm_t pk)
{
	gnutls_x509_privkey_t k;
	unsigned bits = pk == GNUTLS_PK_RSA ? 2048 :
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);

	if (gnutls_x509_privkey_init(&k) < 0 || gnutls_x509_privkey_generate(k, pk, bits, 0) < 0)
		die("key generation");
	return k;
}

enum eku { EKU_TS, EKU_TS_NONCRIT, EKU_TS_EXTRA, EKU_SERVER, EKU_NONE, EKU_CA };

/* A certificate for key, signed by issuer (itself when NULL). */
static gnutls_x509_crt_t
mkcert(gnutls_x509_privkey_t key, const char *dn, gnutls_x509_crt_t issuer,
    gnutls_x509_privkey_t issuer_key, time_t from, time_t until, enum eku eku, unsigned serial)
{
	unsigned char ser[3] = { 0x01, (unsigned char)(serial >> 8), (unsigned char)serial };
	unsigned char kid[64];
	size_t kid_len = sizeof(kid);
	gnutls_x509_crt_t c;
	int rc = 0;

	if (gnutls_x509_crt_init(&c) < 0)
		die("crt_init");
	rc |= gnutls_x509_crt_set_version(c, 3);
	rc |= gnutls_x509_crt_set_serial(c, ser, sizeof(ser));
	rc |= gnutls_x509_crt_set_activation_time(c, from);
	rc |= gnutls_x509_crt_set_expiration_time(c, until);
	rc |= gnutls_x509_crt_set_dn(c, dn, NULL);
	rc |= gnutls_x509_crt_set_key(c, key);
	rc |= gnutls_x509_crt_get_key_id(c, 0, kid, &kid_len);
	rc |= gnutls_x509_crt_set_subject_key_id(c, kid, kid_len);
	if (eku == EKU_CA) {
		rc |= gnutls_x509_crt_set_basic_constraints(c, 1, -1);
		rc |= gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_KEY_CERT_SIGN |
		    GNUTLS_KEY_CRL_SIGN);
	} else {
		rc |= gnutls_x509_crt_set_basic_constraints(c, 0, -1);
		rc |= gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE |
		    GNUTLS_KEY_NON_REPUDIATION);
	}
	switch (eku) {
	case EKU_TS:
		rc |= gnutls_x509_crt_set_key_purpose_oid(c, OID_KP_TS, 1);
		break;
	case EKU_TS_NONCRIT:
		rc |= gnutls_x509_crt_set_key_purpose_oid(c, OID_KP_TS, 0);
		break;
	case EKU_TS_EXTRA:
		rc |= gnutls_x509_crt_set_key_purpose_oid(c, OID_KP_TS, 1);
		rc |= gnutls_x509_crt_set_key_purpose_oid(c, OID_KP_CODE, 1);
		break;
	case EKU_SERVER:
		rc |= gnutls_x509_crt_set_key_purpose_oid(c, OID_KP_SERVER, 1);
		break;
	case EKU_NONE:
	case EKU_CA:
		break;
	}
	if (issuer != NULL) {
		kid_len = sizeof(kid);
		rc |= gnutls_x509_crt_get_subject_key_id(issuer, kid, &kid_len, NULL);
		rc |= gnutls_x509_crt_set_authority_key_id(c, kid, kid_len);
	}
	rc |= gnutls_x509_crt_sign2(c, issuer ? issuer : c, issuer ? issuer_key : key,
	    GNUTLS_DIG_SHA256, 0);
	if (rc < 0)
		die(dn);
	return c;
}

static char *
crt_pem(gnutls_x509_crt_t c)
{
	gnutls_datum_t d;

	if (gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d) < 0)
		die("crt export");
	return datum_str(&d);
}

static int
sh(const char *cmd)
{
	char full[2048];

	snprintf(full, sizeof(full), "%s >>'%s/setup.log' 2>&1", cmd, G.dir);
	return system(full);
}

/* Writes key onto the token with p11tool; 0 or -1 with G.why. */
static int
key_to_token(gnutls_x509_privkey_t key, const char *label, const char *id)
{
	char path[400], cmd[1600];
	gnutls_datum_t d;
	char *pem;

	if (gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d) < 0)
		die("key export");
	pem = datum_str(&d);
	snprintf(path, sizeof(path), "%s/%s.key", G.dir, label);
	write_str(path, pem);
	free(pem);
	snprintf(cmd, sizeof(cmd), "GNUTLS_PIN=%s p11tool --provider '%s' --login --write "
	    "--load-privkey '%s' --label %s --id %s 'pkcs11:token=%s'", USER_PIN, G.module, path,
	    label, id, TOKEN_LABEL);
	if (sh(cmd) != 0) {
		snprintf(G.why, sizeof(G.why), "p11tool could not write %s (see %s/setup.log)",
		    label, G.dir);
		return -1;
	}
	unlink(path);
	return 0;
}

static void
setup_all(void)
{
	gnutls_x509_privkey_t root_k, inter_k, ec_k, rsa_k, other_k;
	gnutls_x509_crt_t root, inter, c;
	time_t now = time(NULL), day = 86400, year = 365 * day;
	char cmd[1200], text[600];
	glob_t gl;
	int found;

	G.now = now;
	if (tl_tmpdir(G.dir, sizeof(G.dir), "tst") == -1)
		die("mkdtemp");

	/* The PKI. */
	root_k = genkey(GNUTLS_PK_ECDSA);
	inter_k = genkey(GNUTLS_PK_ECDSA);
	ec_k = genkey(GNUTLS_PK_ECDSA);
	rsa_k = genkey(GNUTLS_PK_RSA);
	other_k = genkey(GNUTLS_PK_ECDSA);
	root = mkcert(root_k, "CN=TSA unit root CA,O=TSA tests", NULL, NULL, now - 2 * day,
	    now + 10 * year, EKU_CA, 1);
	inter = mkcert(inter_k, "CN=TSA unit intermediate CA,O=TSA tests", root, root_k,
	    now - 2 * day, now + 5 * year, EKU_CA, 2);
	G.root = crt_pem(root);
	G.inter = crt_pem(inter);
	G.chain = cat2(G.inter, G.root);
#define LEAF(field, key, cn, from, until, eku, serial) do {				\
	c = mkcert(key, "CN=" cn ",O=TSA tests", inter, inter_k, from, until, eku, serial);	\
	G.field = crt_pem(c);								\
	gnutls_x509_crt_deinit(c);							\
} while (0)
	LEAF(ec, ec_k, "TSA unit EC", now - day, now + year, EKU_TS, 0x10);
	LEAF(rsa, rsa_k, "TSA unit RSA", now - day, now + year, EKU_TS, 0x11);
	LEAF(noncrit, ec_k, "non-critical EKU", now - day, now + year, EKU_TS_NONCRIT, 0x20);
	LEAF(extra, ec_k, "EKU with codeSigning", now - day, now + year, EKU_TS_EXTRA, 0x21);
	LEAF(server, ec_k, "EKU serverAuth", now - day, now + year, EKU_SERVER, 0x22);
	LEAF(noeku, ec_k, "no EKU", now - day, now + year, EKU_NONE, 0x23);
	LEAF(expired, ec_k, "expired", now - 2 * year, now - year, EKU_TS, 0x24);
	LEAF(future, ec_k, "not yet valid", now + year, now + 2 * year, EKU_TS, 0x25);
#undef LEAF
	gnutls_x509_crt_deinit(root);
	gnutls_x509_crt_deinit(inter);
	snprintf(G.root_file, sizeof(G.root_file), "%s/root.pem", G.dir);
	snprintf(G.inter_file, sizeof(G.inter_file), "%s/inter.pem", G.dir);
	snprintf(G.resp_file, sizeof(G.resp_file), "%s/resp.tsr", G.dir);
	snprintf(G.data, sizeof(G.data), "%s/data.txt", G.dir);
	write_str(G.root_file, G.root);
	write_str(G.inter_file, G.inter);
	write_str(G.data, "data stamped by the unit tests\n");
	G.have_openssl = system("openssl version >/dev/null 2>&1") == 0;

	/* The token. */
	found = glob("/usr/lib/softhsm/libsofthsm2.so", 0, NULL, &gl) == 0;
	if (!found) {
		globfree(&gl);
		found = glob("/usr/lib/*/softhsm/libsofthsm2.so", 0, NULL, &gl) == 0;
	}
	if (found)
		snprintf(G.module, sizeof(G.module), "%s", gl.gl_pathv[0]);
	globfree(&gl);
	if (!found) {
		snprintf(G.why, sizeof(G.why), "libsofthsm2.so not found under /usr/lib");
		goto keys_done;
	}
	snprintf(G.hsm_conf, sizeof(G.hsm_conf), "%s/softhsm2.conf", G.dir);
	snprintf(text, sizeof(text), "directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
	    "log.level = ERROR\nslots.removable = false\n", G.dir);
	write_str(G.hsm_conf, text);
	snprintf(text, sizeof(text), "%s/tokens", G.dir);
	if (mkdir(text, 0700) != 0)
		die(text);
	setenv("SOFTHSM2_CONF", G.hsm_conf, 1);
	snprintf(G.env, sizeof(G.env), "SOFTHSM2_CONF=%s", G.hsm_conf);
	snprintf(G.pin_file, sizeof(G.pin_file), "%s/pin", G.dir);
	write_str(G.pin_file, USER_PIN "\n");
	/* 0600: conf_read_pin refuses a PIN file group or others may read. */
	if (chmod(G.pin_file, 0600) != 0)
		die(G.pin_file);
	snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free --label %s --so-pin %s "
	    "--pin %s", TOKEN_LABEL, SO_PIN, USER_PIN);
	if (sh(cmd) != 0) {
		snprintf(G.why, sizeof(G.why), "softhsm2-util --init-token failed (see %s/setup.log)",
		    G.dir);
		goto keys_done;
	}
	if (key_to_token(ec_k, "tsa-ec", "01") == 0 && key_to_token(rsa_k, "tsa-rsa", "02") == 0 &&
	    key_to_token(other_k, "other-ec", "03") == 0)
		G.token_ready = 1;
keys_done:
	gnutls_x509_privkey_deinit(root_k);
	gnutls_x509_privkey_deinit(inter_k);
	gnutls_x509_privkey_deinit(ec_k);
	gnutls_x509_privkey_deinit(rsa_k);
	gnutls_x509_privkey_deinit(other_k);

	memset(&conf, 0, sizeof(conf));
	conf.pkcs11_module = G.module;
	conf.pin_file = G.pin_file;
	conf.pkcs11_env[0] = G.env;
	conf.n_pkcs11_env = 1;
}

static void
teardown_all(void)
{
	if (G.dir[0] != '\0' && !G.token_ready && G.module[0] != '\0')
		fprintf(stderr, "test_tst: kept %s for its setup.log\n", G.dir);
	else if (G.dir[0] != '\0')
		tl_tmpdir_remove(G.dir);
	free(G.root); free(G.inter); free(G.chain); free(G.ec); free(G.rsa);
	free(G.noncrit); free(G.extra); free(G.server); free(G.noeku); free(G.expired);
	free(G.future);
}

/* ---- a TLV reader, independent of the libtasn1 module --------------------------------- */

struct tlv {
	unsigned char		 tag;
	const unsigned char	*p;	/* the whole TLV */
	size_t			 len;
	const unsigned char	*v;	/* its contents */
	size_t			 vlen;
};

static struct tlv
tlv_at(const unsigned char *p, size_t len)
{
	struct tlv t;
	size_t hdr;

	t.len = der_tlv_len(p, len);
	ck_assert_msg(t.len > 0, "not a TLV");
	t.tag = p[0];
	t.p = p;
	hdr = p[1] < 0x80 ? 2 : 2 + (size_t)(p[1] & 0x7f);
	t.v = p + hdr;
	t.vlen = t.len - hdr;
	return t;
}

/* The children of a constructed TLV; returns how many. */
static size_t
kids(struct tlv t, struct tlv *out, size_t max)
{
	size_t n = 0, off = 0;

	while (off < t.vlen) {
		ck_assert_uint_lt(n, max);
		out[n] = tlv_at(t.v + off, t.vlen - off);
		off += out[n].len;
		n++;
	}
	return n;
}

static void
tlv_is(struct tlv t, const unsigned char *want, size_t len)
{
	ck_assert_uint_eq(t.len, len);
	ck_assert_mem_eq(t.p, want, len);
}

/* X.690 11.6: SET OF components in ascending order, compared as zero-padded octet strings. */
static void
set_sorted(struct tlv set)
{
	struct tlv k[16];
	size_t n = kids(set, k, 16), i, j;

	for (i = 1; i < n; i++) {
		size_t m = k[i - 1].len < k[i].len ? k[i - 1].len : k[i].len;
		int c = memcmp(k[i - 1].p, k[i].p, m);

		if (c == 0 && k[i - 1].len > k[i].len)
			for (j = m; j < k[i - 1].len; j++)
				if (k[i - 1].p[j] != 0)
					c = 1;
		ck_assert_msg(c <= 0, "SET OF component %zu out of DER order", i);
	}
}

/* ---- gentime_format ------------------------------------------------------------------------ */

static void
gentime_is(time_t sec, long nsec, int digits, const char *want)
{
	struct timespec t = { sec, nsec };
	char out[64];

	ck_assert_int_eq(gentime_format(&t, digits, out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);
}

#define T2024	((time_t)1704164645)	/* 2024-01-02T03:04:05Z */

START_TEST(gentime_known_answers)
{
	gentime_is(T2024, 678901234, 0, "20240102030405Z");
	gentime_is(T2024, 678901234, 1, "20240102030405.6Z");
	gentime_is(T2024, 678901234, 2, "20240102030405.67Z");
	gentime_is(T2024, 678901234, 3, "20240102030405.678Z");
	gentime_is(T2024, 678901234, 4, "20240102030405.6789Z");
	gentime_is(T2024, 678901234, 5, "20240102030405.6789Z");	/* .67890: zero dropped */
	gentime_is(T2024, 678901234, 6, "20240102030405.678901Z");
	/* Trailing zeros stripped; nothing left: no decimal point at all (X.690 11.7.3). */
	gentime_is(T2024, 120000000, 6, "20240102030405.12Z");
	gentime_is(T2024, 500000000, 6, "20240102030405.5Z");
	gentime_is(T2024, 0, 6, "20240102030405Z");
	gentime_is(T2024, 100000, 3, "20240102030405Z");		/* .000 */
	gentime_is(T2024, 100000, 4, "20240102030405.0001Z");
	gentime_is(T2024, 1000, 6, "20240102030405.000001Z");
	/* Truncated, never rounded: .999999999 is still in second 05. */
	gentime_is(T2024, 999999999, 0, "20240102030405Z");
	gentime_is(T2024, 999999999, 3, "20240102030405.999Z");
	gentime_is(T2024, 999999999, 6, "20240102030405.999999Z");
	gentime_is(T2024, 678999999, 3, "20240102030405.678Z");
	/* Years: 1970, the 2049/2050 boundary UTCTime has, and 9999. */
	gentime_is(0, 0, 0, "19700101000000Z");
	gentime_is((time_t)2524607999, 0, 0, "20491231235959Z");
	gentime_is((time_t)2524608000, 250000000, 2, "20500101000000.25Z");
	gentime_is((time_t)253402300799, 0, 0, "99991231235959Z");
}
END_TEST

START_TEST(gentime_refusals)
{
	struct timespec t = { T2024, 678901234 };
	char out[32];

	ck_assert_int_eq(gentime_format(&t, -1, out, sizeof(out)), -1);
	ck_assert_int_eq(gentime_format(&t, 7, out, sizeof(out)), -1);
	/* 15 characters and the NUL: 16 fit, 15 do not. */
	ck_assert_int_eq(gentime_format(&t, 0, out, 16), 0);
	ck_assert_int_eq(gentime_format(&t, 0, out, 15), -1);
	ck_assert_int_eq(gentime_format(&t, 3, out, 20), 0);
	ck_assert_int_eq(gentime_format(&t, 3, out, 19), -1);
}
END_TEST

/* ---- tstinfo_encode --------------------------------------------------------------------- */

/* Name { RDN { CN PrintableString "Test TSA" } }: 21 octets. */
static const unsigned char tsa_name[] = { 0x30, 0x13, 0x31, 0x11, 0x30, 0x0f, 0x06, 0x03, 0x55,
	0x04, 0x03, 0x13, 0x08, 'T', 'e', 's', 't', ' ', 'T', 'S', 'A' };

static void
base_params(struct tst_params *p, struct tsa_request *r)
{
	static const unsigned char serial[] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	size_t i;

	memset(r, 0, sizeof(*r));
	r->protocol = TSA_PROTO_RFC3161;
	r->hash = hash_by_name("sha256");
	snprintf(r->hash_oid, sizeof(r->hash_oid), "%s", r->hash->oid);
	r->hash_null_params = 1;
	for (i = 0; i < 32; i++)
		r->imprint[i] = (unsigned char)i;
	r->imprint_len = 32;
	r->has_nonce = 1;
	memcpy(r->nonce, B(1, 2, 3, 4, 5, 6, 7, 8), 8);
	r->nonce_len = 8;

	memset(p, 0, sizeof(*p));
	p->policy_oid = "1.2.3.4";
	p->req = r;
	p->serial = serial;
	p->serial_len = sizeof(serial);
	p->gen_time.tv_sec = T2024;
	p->gen_time.tv_nsec = 678901234;
	p->digits = 3;
	p->acc_seconds = 1;
	p->acc_millis = 500;
	p->tsa_name = tsa_name;
	p->tsa_name_len = sizeof(tsa_name);
}

/* What the DER writer produced, decoded by libtasn1 as type and encoded again: the same. */
static void
tasn1_again(const char *type, const unsigned char *p, size_t len)
{
	asn1_node n = NULL;
	unsigned char *again = NULL;
	size_t again_len;
	const char *why = NULL;

	ck_assert_msg(tsa_asn1_decode(type, p, len, &n, &why) == 0, "libtasn1 refuses the %s: %s",
	    type, why);
	ck_assert_int_eq(tsa_asn1_encode(n, NULL, &again, &again_len), 0);
	ck_assert_uint_eq(again_len, len);
	ck_assert_mem_eq(again, p, len);
	free(again);
	asn1_delete_structure(&n);
}

static void
tstinfo_is(const struct tst_params *p, const unsigned char *want, size_t want_len)
{
	unsigned char *out = NULL;
	const char *why = NULL;
	size_t len = 0;

	ck_assert_int_eq(tstinfo_encode(p, &out, &len), 0);
	if (len != want_len || memcmp(out, want, len) != 0) {
		char got[1024], exp[1024];

		hex_encode(out, len < 500 ? len : 500, got, sizeof(got));
		hex_encode(want, want_len < 500 ? want_len : 500, exp, sizeof(exp));
		ck_abort_msg("TSTInfo\n got %s\nwant %s", got, exp);
	}
	ck_assert_msg(der_check(out, len, &why) == 0, "not DER: %s", why);
	tasn1_again("TSA.TSTInfo", out, len);
	free(out);
}

/* EN 319 422 9.1: the qualified statement, a non-critical qcStatements extension [1]. */
START_TEST(tstinfo_qualified_extension)
{
	static const unsigned char ext[] = {
		0xa1, 0x1b,					/* extensions [1] IMPLICIT */
		0x30, 0x19,					/* Extension */
		0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x03,	/* qcStatements */
		0x04, 0x0d,					/* extnValue, no critical */
		0x30, 0x0b, 0x30, 0x09, 0x06, 0x07, 0x04, 0x00, 0x81, 0x97, 0x5e, 0x01, 0x01,
	};
	struct tsa_request r;
	struct tst_params p;
	unsigned char *out = NULL;
	const char *why;
	size_t len = 0;

	base_params(&p, &r);
	p.qualified = 1;
	ck_assert_int_eq(tstinfo_encode(&p, &out, &len), 0);
	ck_assert_msg(der_check(out, len, &why) == 0, "not DER: %s", why);
	tasn1_again("TSA.TSTInfo", out, len);
	/* The extension closes the TSTInfo. */
	ck_assert_uint_gt(len, sizeof(ext));
	ck_assert(memcmp(out + len - sizeof(ext), ext, sizeof(ext)) == 0);
	free(out);
}
END_TEST

START_TEST(tstinfo_known_answer)
{
	struct tsa_request r;
	struct tst_params p;

	base_params(&p, &r);
	tstinfo_is(&p, BYTES(
	    0x30, 0x81, 0x86,						/* TSTInfo, 134 */
	    0x02, 0x01, 0x01,						/* version v1 */
	    0x06, 0x03, 0x2a, 0x03, 0x04,				/* policy 1.2.3.4 */
	    0x30, 0x31,							/* messageImprint */
	      0x30, 0x0d, DER_SHA256, 0x05, 0x00,			/*   sha256, NULL */
	      0x04, 0x20, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	      0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
	      0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	    0x02, 0x08, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,	/* serialNumber */
	    0x18, 0x13, '2', '0', '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', '0', '5',
	      '.', '6', '7', '8', 'Z',					/* genTime */
	    0x30, 0x07, 0x02, 0x01, 0x01, 0x80, 0x02, 0x01, 0xf4,	/* accuracy 1 s 500 ms */
	    0x02, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,	/* nonce */
	    0xa0, 0x17, 0xa4, 0x15,					/* tsa [0] directoryName [4] */
	      0x30, 0x13, 0x31, 0x11, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x08,
	      'T', 'e', 's', 't', ' ', 'T', 'S', 'A'));
}
END_TEST

/* ---- a DER writer for the variants: the same TSTInfo rebuilt from its parts ---------- */

struct der {
	unsigned char	p[1024];
	size_t		len;
};

static void
der_add(struct der *d, const void *v, size_t n)
{
	ck_assert_uint_le(d->len + n, sizeof(d->p));
	memcpy(d->p + d->len, v, n);
	d->len += n;
}

static void
der_tlv(struct der *d, unsigned char tag, const void *v, size_t n)
{
	unsigned char h[3] = { tag, 0, 0 };

	ck_assert_uint_lt(n, 256);
	if (n < 0x80) {
		h[1] = (unsigned char)n;
		der_add(d, h, 2);
	} else {
		h[1] = 0x81;
		h[2] = (unsigned char)n;
		der_add(d, h, 3);
	}
	der_add(d, v, n);
}

struct parts {
	int		 null_params;
	const void	*accuracy;	/* the whole Accuracy TLV, or NULL */
	size_t		 accuracy_len;
	int		 ordering;
	const void	*nonce;		/* INTEGER contents, or NULL */
	size_t		 nonce_len;
	const char	*gentime;
	int		 tsa;
};

static void
expected(const struct parts *x, const struct tsa_request *r, struct der *out)
{
	static const unsigned char sha256[] = { DER_SHA256 }, null[] = { 0x05, 0x00 };
	struct der alg = { .len = 0 }, mi = { .len = 0 }, b = { .len = 0 }, gn = { .len = 0 };

	der_add(&alg, sha256, sizeof(sha256));
	if (x->null_params)
		der_add(&alg, null, 2);
	der_tlv(&mi, 0x30, alg.p, alg.len);
	der_tlv(&mi, 0x04, r->imprint, r->imprint_len);
	der_tlv(&b, 0x02, B(0x01), 1);
	der_tlv(&b, 0x06, B(0x2a, 0x03, 0x04), 3);
	der_tlv(&b, 0x30, mi.p, mi.len);
	der_tlv(&b, 0x02, B(0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef), 8);
	der_tlv(&b, 0x18, x->gentime, strlen(x->gentime));
	if (x->accuracy != NULL)
		der_add(&b, x->accuracy, x->accuracy_len);
	if (x->ordering)
		der_tlv(&b, 0x01, B(0xff), 1);
	if (x->nonce != NULL)
		der_tlv(&b, 0x02, x->nonce, x->nonce_len);
	if (x->tsa) {
		der_tlv(&gn, 0xa4, tsa_name, sizeof(tsa_name));
		der_tlv(&b, 0xa0, gn.p, gn.len);
	}
	out->len = 0;
	der_tlv(out, 0x30, b.p, b.len);
}

START_TEST(tstinfo_variants)
{
	struct tsa_request r;
	struct tst_params p;
	struct parts x;
	struct der want;

	/* The known answer again, through the writer: the writer is right. */
	base_params(&p, &r);
	memset(&x, 0, sizeof(x));
	x.null_params = 1;
	x.accuracy = B(0x30, 0x07, 0x02, 0x01, 0x01, 0x80, 0x02, 0x01, 0xf4);
	x.accuracy_len = 9;
	x.nonce = B(1, 2, 3, 4, 5, 6, 7, 8);
	x.nonce_len = 8;
	x.gentime = "20240102030405.678Z";
	x.tsa = 1;
	expected(&x, &r, &want);
	ck_assert_uint_eq(want.len, 137);
	tstinfo_is(&p, want.p, want.len);

	/* ordering TRUE is written (between accuracy and nonce); FALSE, the DEFAULT, is not. */
	p.ordering = 1;
	x.ordering = 1;
	expected(&x, &r, &want);
	tstinfo_is(&p, want.p, want.len);
	p.ordering = 0;
	x.ordering = 0;

	/* The least: no accuracy (all zero), no nonce, no tsa, absent parameters, 0 digits. */
	r.hash_null_params = 0;
	r.has_nonce = 0;
	p.acc_seconds = p.acc_millis = p.acc_micros = 0;
	p.tsa_name = NULL;
	p.digits = 0;
	memset(&x, 0, sizeof(x));
	x.gentime = "20240102030405Z";
	expected(&x, &r, &want);
	tstinfo_is(&p, want.p, want.len);

	/* Accuracy: each zero field left out; micros is [1]; 250 needs a leading 00. */
	p.acc_micros = 250;
	x.accuracy = B(0x30, 0x04, 0x81, 0x02, 0x00, 0xfa);
	x.accuracy_len = 6;
	expected(&x, &r, &want);
	tstinfo_is(&p, want.p, want.len);
	p.acc_seconds = 2;
	p.acc_micros = 1;
	x.accuracy = B(0x30, 0x06, 0x02, 0x01, 0x02, 0x81, 0x01, 0x01);
	x.accuracy_len = 8;
	expected(&x, &r, &want);
	tstinfo_is(&p, want.p, want.len);
	p.acc_seconds = 0;
	p.acc_millis = 999;
	p.acc_micros = 999;
	x.accuracy = B(0x30, 0x08, 0x80, 0x02, 0x03, 0xe7, 0x81, 0x02, 0x03, 0xe7);
	x.accuracy_len = 10;
	expected(&x, &r, &want);
	tstinfo_is(&p, want.p, want.len);
	p.acc_seconds = 1;
	p.acc_millis = p.acc_micros = 0;
	x.accuracy = B(0x30, 0x03, 0x02, 0x01, 0x01);
	x.accuracy_len = 5;
	expected(&x, &r, &want);
	tstinfo_is(&p, want.p, want.len);

	/* A nonce whose first octet has the high bit keeps its leading 00 (still positive). */
	r.has_nonce = 1;
	memcpy(r.nonce, B(0x00, 0xa5, 0x20, 0x18, 0x88, 0xb4, 0x3a, 0x54, 0x86), 9);
	r.nonce_len = 9;
	x.nonce = r.nonce;
	x.nonce_len = 9;
	expected(&x, &r, &want);
	tstinfo_is(&p, want.p, want.len);

	/* genTime in 2050 and after is still GeneralizedTime (RFC 3161 2.4.2). */
	p.gen_time.tv_sec = (time_t)2524608000;
	p.gen_time.tv_nsec = 10000000;
	p.digits = 6;
	x.gentime = "20500101000000.01Z";
	expected(&x, &r, &want);
	tstinfo_is(&p, want.p, want.len);
}
END_TEST

START_TEST(tstinfo_refusals)
{
	struct tsa_request r;
	struct tst_params p;
	unsigned char *out = NULL;
	size_t len = 0;

	base_params(&p, &r);
	p.digits = 7;
	ck_assert_int_eq(tstinfo_encode(&p, &out, &len), -1);
	ck_assert_ptr_null(out);
	p.digits = 3;
	p.policy_oid = "not an oid";
	ck_assert_int_eq(tstinfo_encode(&p, &out, &len), -1);
	ck_assert_ptr_null(out);
}
END_TEST

/* ---- the token: set-up per test ------------------------------------------------------- */

static void
token_setup(void)
{
	char err[512] = "";

	ck_assert_msg(G.token_ready, "no SoftHSM2 token: %s", G.why);
	ck_assert_msg(pkcs11_setup(&conf, err, sizeof(err)) == 0, "pkcs11_setup: %s", err);
}

static void
token_teardown(void)
{
	pkcs11_teardown();
}

static void
load(struct signer *s, const char *uri, const char *cert, const char *chain, const char *scheme,
    const char *digest)
{
	char err[512] = "";

	ck_assert_msg(signer_load(s, 7, "unit", uri, cert, chain, scheme, digest, 1, err,
	    sizeof(err)) == 0, "signer_load: %s", err);
	ck_assert_msg(signer_why(s) == NULL, "signer refused: %s", signer_why(s));
	ck_assert_int_eq(signer_state(s), UNIT_USABLE);
}

/* DER of the first certificate in pem, malloc'd. */
static unsigned char *
pem_der(const char *pem, size_t *len)
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem) }, d;
	gnutls_x509_crt_t c;
	unsigned char *p;

	ck_assert_int_eq(gnutls_x509_crt_init(&c), 0);
	ck_assert_int_eq(gnutls_x509_crt_import(c, &in, GNUTLS_X509_FMT_PEM), 0);
	ck_assert_int_eq(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_DER, &d), 0);
	ck_assert_ptr_nonnull(p = malloc(d.size));
	memcpy(p, d.data, d.size);
	*len = d.size;
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(c);
	return p;
}

static gnutls_x509_crt_t
pem_crt(const char *pem)
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem) };
	gnutls_x509_crt_t c;

	ck_assert_int_eq(gnutls_x509_crt_init(&c), 0);
	ck_assert_int_eq(gnutls_x509_crt_import(c, &in, GNUTLS_X509_FMT_PEM), 0);
	return c;
}

/* A TSTInfo over data.txt's SHA-256, the content every token below signs; malloc'd. */
static unsigned char *
sample_tstinfo(size_t *len)
{
	struct tsa_request r;
	struct tst_params p;
	unsigned char *data, *out = NULL;
	size_t dlen;

	base_params(&p, &r);
	ck_assert_int_eq(file_read(G.data, 4096, &data, &dlen), 0);
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, data, dlen, r.imprint), 0);
	free(data);
	p.tsa_name = NULL;
	p.gen_time.tv_sec = time(NULL);
	ck_assert_int_eq(tstinfo_encode(&p, &out, len), 0);
	return out;
}

/* A token taken apart (pointers into the token's bytes). */
struct token {
	struct tlv	 sd[8], si[8], attr[8], certs[8];
	size_t		 n_sd, n_si, n_attr, n_certs;
	struct tlv	 digest_algs, encap, signer_infos, attrs, sig_alg, sig, sid;
	int		 has_certs;
};

/*
 * cms.c writes the DER itself: libtasn1 must decode it as the module's ContentInfo and
 * SignedData and encode both again to the same bytes (its SET OF values in DER order too).
 */
static void
tasn1_round_trip(const unsigned char *p, size_t len)
{
	asn1_node ci = NULL;
	unsigned char *content = NULL;
	size_t content_len;
	const char *why = NULL;

	tasn1_again("TSA.ContentInfo", p, len);
	ck_assert_msg(tsa_asn1_decode("TSA.ContentInfo", p, len, &ci, &why) == 0,
	    "libtasn1 refuses the ContentInfo: %s", why);
	ck_assert_int_eq(tsa_asn1_read_alloc(ci, "content", &content, &content_len), 0);
	tasn1_again("TSA.SignedData", content, content_len);
	free(content);
	asn1_delete_structure(&ci);
}

/* Structure RFC 5652 5.1-5.3 and RFC 3161 2.4.2 prescribe, checked while taking it apart. */
static void
parse_token(const unsigned char *p, size_t len, const unsigned char *content,
    size_t content_len, struct token *t)
{
	struct tlv ci, k[4], sd, encap[3], e[2], sis[4], da[2], sia[4];
	const char *why = NULL;
	size_t n, i;

	memset(t, 0, sizeof(*t));
	ck_assert_msg(der_check(p, len, &why) == 0, "token not DER: %s", why);
	tasn1_round_trip(p, len);
	ci = tlv_at(p, len);
	ck_assert_uint_eq(ci.len, len);
	ck_assert_uint_eq(ci.tag, 0x30);
	ck_assert_uint_eq(kids(ci, k, 4), 2);
	tlv_is(k[0], BYTES(DER_SIGNED_DATA));
	ck_assert_uint_eq(k[1].tag, 0xa0);
	ck_assert_uint_eq(kids(k[1], &sd, 1), 1);
	ck_assert_uint_eq(sd.tag, 0x30);

	t->n_sd = kids(sd, t->sd, 8);
	ck_assert_uint_ge(t->n_sd, 4);
	/* RFC 5652 5.1: version 3 since eContentType is not id-data. */
	tlv_is(t->sd[0], BYTES(0x02, 0x01, 0x03));
	t->digest_algs = t->sd[1];
	ck_assert_uint_eq(t->digest_algs.tag, 0x31);
	t->encap = t->sd[2];
	ck_assert_uint_eq(kids(t->encap, encap, 3), 2);
	tlv_is(encap[0], BYTES(DER_TSTINFO));
	ck_assert_uint_eq(encap[1].tag, 0xa0);
	ck_assert_uint_eq(kids(encap[1], e, 2), 1);
	ck_assert_uint_eq(e[0].tag, 0x04);
	ck_assert_uint_eq(e[0].vlen, content_len);
	ck_assert_mem_eq(e[0].v, content, content_len);
	i = 3;
	if (t->sd[i].tag == 0xa0) {
		t->has_certs = 1;
		t->n_certs = kids(t->sd[i], t->certs, 8);
		set_sorted(t->sd[i]);
		i++;
	}
	/* No crls [1]; signerInfos last. */
	ck_assert_uint_eq(t->n_sd, i + 1);
	t->signer_infos = t->sd[i];
	ck_assert_uint_eq(t->signer_infos.tag, 0x31);
	ck_assert_uint_eq(kids(t->signer_infos, sis, 4), 1);

	/* SignerInfo version 1: issuerAndSerialNumber, digest, [0] attrs, sigalg, signature. */
	t->n_si = kids(sis[0], t->si, 8);
	ck_assert_uint_eq(t->n_si, 6);
	tlv_is(t->si[0], BYTES(0x02, 0x01, 0x01));
	t->sid = t->si[1];
	ck_assert_uint_eq(t->sid.tag, 0x30);
	ck_assert_uint_eq(t->si[2].tag, 0x30);
	/* The same digest in digestAlgorithms and in the SignerInfo. */
	ck_assert_uint_eq(kids(t->digest_algs, da, 2), 1);
	tlv_is(da[0], t->si[2].p, t->si[2].len);
	ck_assert_uint_eq(kids(t->si[2], sia, 4), 1);	/* parameters absent (RFC 5754) */
	t->attrs = t->si[3];
	ck_assert_uint_eq(t->attrs.tag, 0xa0);
	set_sorted(t->attrs);
	t->n_attr = kids(t->attrs, t->attr, 8);
	t->sig_alg = t->si[4];
	t->sig = t->si[5];
	ck_assert_uint_eq(t->sig.tag, 0x04);
	for (n = 0; n < t->n_attr; n++) {
		struct tlv a[3];

		ck_assert_uint_eq(kids(t->attr[n], a, 3), 2);
		ck_assert_uint_eq(a[0].tag, 0x06);
		ck_assert_uint_eq(a[1].tag, 0x31);
	}
}

/* The single value of the attribute of type oid, or a tag-0 TLV when absent. */
static struct tlv
attr_value(const struct token *t, const unsigned char *oid, size_t oid_len)
{
	struct tlv none = { 0, NULL, 0, NULL, 0 }, a[2], v[2];
	size_t i;

	for (i = 0; i < t->n_attr; i++) {
		kids(t->attr[i], a, 2);
		if (a[0].len == oid_len && memcmp(a[0].p, oid, oid_len) == 0) {
			ck_assert_uint_eq(kids(a[1], v, 2), 1);	/* exactly one value */
			return v[0];
		}
	}
	return none;
}

/* The signature over the signed attributes with the SET tag (RFC 5652 5.4), by GnuTLS. */
static void
verify_signature(const struct token *t, const char *cert_pem, gnutls_sign_algorithm_t algo)
{
	unsigned char *buf;
	gnutls_datum_t data, sig;
	gnutls_x509_crt_t c = pem_crt(cert_pem);
	gnutls_pubkey_t pub;
	int rc;

	ck_assert_ptr_nonnull(buf = malloc(t->attrs.len));
	memcpy(buf, t->attrs.p, t->attrs.len);
	buf[0] = 0x31;
	data.data = buf;
	data.size = (unsigned)t->attrs.len;
	sig.data = (unsigned char *)(uintptr_t)t->sig.v;
	sig.size = (unsigned)t->sig.vlen;
	ck_assert_int_eq(gnutls_pubkey_init(&pub), 0);
	ck_assert_int_eq(gnutls_pubkey_import_x509(pub, c, 0), 0);
	rc = gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sig);
	ck_assert_msg(rc >= 0, "signature does not verify: %s", gnutls_strerror(rc));
	/* And not over the [0]-tagged bytes. */
	buf[0] = 0xa0;
	ck_assert_int_lt(gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sig), 0);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(c);
	free(buf);
}

/* The ESS attribute: one ESSCertID(v2) over the signer certificate. */
static void
check_ess(const struct token *t, const struct signer *s, int version, const char *hash,
    int issuer_serial)
{
	const struct hash_alg *h = hash_by_name(hash);
	unsigned char digest[64];
	struct tlv v, sc[3], ids[2], id[3], is[3], gns[2], gn[2];
	size_t n, i = 0;

	v = version == 1 ? attr_value(t, BYTES(DER_SIGNING_CERT)) :
	    attr_value(t, BYTES(DER_SIGNING_CERT_V2));
	ck_assert_msg(v.p != NULL, "no signingCertificate%s attribute", version == 1 ? "" : "V2");
	/* The other version is absent. */
	ck_assert_ptr_null(version == 1 ? attr_value(t, BYTES(DER_SIGNING_CERT_V2)).p :
	    attr_value(t, BYTES(DER_SIGNING_CERT)).p);
	/* SigningCertificate(V2) { certs SEQUENCE OF ESSCertID(v2) } without policies. */
	ck_assert_uint_eq(v.tag, 0x30);
	ck_assert_uint_eq(kids(v, sc, 3), 1);
	ck_assert_uint_eq(kids(sc[0], ids, 2), 1);
	n = kids(ids[0], id, 3);
	if (version == 2 && strcmp(hash, "sha256") != 0) {
		/* hashAlgorithm present when not the DEFAULT id-sha256 (RFC 5035 5.4.1.1). */
		struct tlv alg[2];

		ck_assert_uint_eq(id[0].tag, 0x30);
		ck_assert_uint_ge(kids(id[0], alg, 2), 1);
		ck_assert_uint_eq(alg[0].tag, 0x06);
		if (strcmp(hash, "sha384") == 0)
			tlv_is(alg[0], BYTES(DER_SHA384));
		i = 1;
	}
	ck_assert_uint_eq(n, i + (issuer_serial ? 2 : 1));
	ck_assert_uint_eq(id[i].tag, 0x04);
	ck_assert_int_eq(gnutls_hash_fast(h->gnutls, s->cert_der.data, s->cert_der.len, digest), 0);
	ck_assert_uint_eq(id[i].vlen, h->len);
	ck_assert_mem_eq(id[i].v, digest, h->len);
	if (!issuer_serial)
		return;
	/* IssuerSerial { GeneralNames { [4] directoryName }, serialNumber } */
	ck_assert_uint_eq(kids(id[i + 1], is, 3), 2);
	ck_assert_uint_eq(kids(is[0], gns, 2), 1);
	ck_assert_uint_eq(gns[0].tag, 0xa4);
	ck_assert_uint_eq(kids(gns[0], gn, 2), 1);
	tlv_is(gn[0], s->issuer_dn.data, s->issuer_dn.len);
	ck_assert_uint_eq(is[1].tag, 0x02);
	ck_assert_uint_eq(is[1].vlen, s->serial.len);
	ck_assert_mem_eq(is[1].v, s->serial.data, s->serial.len);
}

/* Signs content with s and the given options; returns the token, parsed into t. */
static unsigned char *
sign(const struct signer *s, int ess_version, const char *ess_hash, int issuer_serial,
    enum cms_certs certs, const struct timespec *signing_time, const unsigned char *content,
    size_t content_len, size_t *len, struct token *t)
{
	struct cms_params cp;
	unsigned char *out = NULL;

	memset(&cp, 0, sizeof(cp));
	cp.signer = s;
	cp.content_type = "1.2.840.113549.1.9.16.1.4";
	cp.content = content;
	cp.content_len = content_len;
	cp.ess_version = ess_version;
	cp.ess_hash = hash_by_name(ess_hash);
	cp.ess_issuer_serial = issuer_serial;
	cp.certs = certs;
	cp.signing_time = signing_time;
	ck_assert_msg(cms_sign(&cp, &out, len) == 0, "cms_sign failed (ESS v%d %s)", ess_version,
	    ess_hash);
	parse_token(out, *len, content, content_len, t);
	return out;
}

/* The three attributes every token has, and their values. */
static void
check_common_attrs(const struct token *t, const unsigned char *content, size_t content_len,
    const struct hash_alg *digest)
{
	unsigned char md[64];
	struct tlv v;

	v = attr_value(t, BYTES(DER_CONTENT_TYPE));
	ck_assert_ptr_nonnull(v.p);
	tlv_is(v, BYTES(DER_TSTINFO));
	v = attr_value(t, BYTES(DER_MSG_DIGEST));
	ck_assert_ptr_nonnull(v.p);
	ck_assert_uint_eq(v.tag, 0x04);
	ck_assert_int_eq(gnutls_hash_fast(digest->gnutls, content, content_len, md), 0);
	ck_assert_uint_eq(v.vlen, digest->len);
	ck_assert_mem_eq(v.v, md, digest->len);
}

/*
 * `openssl ts -verify` on the token wrapped in a granted TimeStampResp: signature, ESS
 * binding, chain to the root, EKU, imprint of data.txt.  With cms set, `openssl cms -verify`
 * on the bare token instead: OpenSSL 3.0's TS code verifies through its PKCS7 routines, which
 * know no RSASSA-PSS.
 */
static int
openssl_run(const unsigned char *token, size_t len, const char *extra, int cms, char *log,
    size_t loglen)
{
	unsigned char *resp = NULL;
	size_t rlen = 0;
	char cmd[2048];
	FILE *f;
	int rc;

	log[0] = '\0';
	if (!G.have_openssl)
		return 0;
	if (cms) {
		/* The bare token: CMS SignedData, the signer's EKU checked. */
		resp = (unsigned char *)(uintptr_t)token;
		rlen = len;
	} else
		ck_assert_int_eq(rfc3161_encode(token, len, NULL, 0, &resp, &rlen), 0);
	ck_assert_ptr_nonnull(f = fopen(G.resp_file, "wb"));
	ck_assert_uint_eq(fwrite(resp, 1, rlen, f), rlen);
	fclose(f);
	if (!cms)
		free(resp);
	if (cms)
		snprintf(cmd, sizeof(cmd), "openssl cms -verify -inform DER -in '%s' -CAfile '%s' "
		    "-purpose timestampsign %s -out /dev/null >'%s/openssl.log' 2>&1", G.resp_file,
		    G.root_file, extra ? extra : "", G.dir);
	else
		snprintf(cmd, sizeof(cmd), "openssl ts -verify -in '%s' -data '%s' -CAfile '%s' %s "
		    ">'%s/openssl.log' 2>&1", G.resp_file, G.data, G.root_file, extra ? extra : "",
		    G.dir);
	rc = system(cmd);
	if (rc != 0) {
		char path[400];
		size_t n;

		snprintf(path, sizeof(path), "%s/openssl.log", G.dir);
		if ((f = fopen(path, "r")) != NULL) {
			n = fread(log, 1, loglen - 1, f);
			log[n] = '\0';
			fclose(f);
		}
	}
	return rc;
}

static void
openssl_check(const unsigned char *token, size_t len, const char *extra, int cms)
{
	char log[2048];

	if (openssl_run(token, len, extra, cms, log, sizeof(log)) != 0)
		ck_abort_msg("openssl %s -verify refused the token:\n%s", cms ? "cms" : "ts", log);
}

static void
openssl_verify(const unsigned char *token, size_t len, const char *extra)
{
	openssl_check(token, len, extra, 0);
}

static const char *
untrusted(void)
{
	static char arg[400];

	snprintf(arg, sizeof(arg), "-untrusted '%s'", G.inter_file);
	return arg;
}

/* ---- cms_sign ------------------------------------------------------------------------------- */

START_TEST(cms_ec_default_profile)
{
	struct signer s;
	struct token t;
	unsigned char *content, *tok, *leaf;
	size_t clen, len, leaf_len;

	load(&s, URI_EC, G.ec, G.chain, "auto", "sha256");
	content = sample_tstinfo(&clen);
	tok = sign(&s, 2, "sha256", 1, CMS_CERTS_SIGNER, NULL, content, clen, &len, &t);
	tlv_is(t.si[2], BYTES(0x30, 0x0b, DER_SHA256));
	/* ecdsa-with-SHA256, parameters absent (RFC 5758 3.2). */
	tlv_is(t.sig_alg, BYTES(0x30, 0x0a, DER_ECDSA_SHA256));
	/* sid: the signer certificate's issuer and serial. */
	{
		struct tlv sid[3];

		ck_assert_uint_eq(kids(t.sid, sid, 3), 2);
		tlv_is(sid[0], s.issuer_dn.data, s.issuer_dn.len);
		ck_assert_uint_eq(sid[1].vlen, s.serial.len);
		ck_assert_mem_eq(sid[1].v, s.serial.data, s.serial.len);
	}
	/* contentType, messageDigest, signingCertificateV2 and nothing else. */
	ck_assert_uint_eq(t.n_attr, 3);
	check_common_attrs(&t, content, clen, s.digest);
	check_ess(&t, &s, 2, "sha256", 1);
	ck_assert_ptr_null(attr_value(&t, BYTES(DER_SIGNING_TIME)).p);
	/* The leaf alone. */
	ck_assert_int_eq(t.has_certs, 1);
	ck_assert_uint_eq(t.n_certs, 1);
	leaf = pem_der(G.ec, &leaf_len);
	tlv_is(t.certs[0], leaf, leaf_len);
	free(leaf);
	verify_signature(&t, G.ec, GNUTLS_SIGN_ECDSA_SHA256);
	/* The intermediate is not in the token: OpenSSL is given it. */
	openssl_verify(tok, len, untrusted());
	/* A live check: one bit of the signature flipped, OpenSSL refuses the token. */
	{
		char log[2048];

		tok[t.sig.v - tok + t.sig.vlen - 1] ^= 0x01;
		if (G.have_openssl)
			ck_assert_int_ne(openssl_run(tok, len, untrusted(), 0, log, sizeof(log)), 0);
		tok[t.sig.v - tok + t.sig.vlen - 1] ^= 0x01;
		/* Or one bit of the content: messageDigest no longer matches. */
		tok[t.encap.p - tok + t.encap.len - 1] ^= 0x01;
		if (G.have_openssl)
			ck_assert_int_ne(openssl_run(tok, len, untrusted(), 1, log, sizeof(log)), 0);
	}
	free(tok);
	free(content);
	signer_free(&s);
}
END_TEST

START_TEST(cms_rsa_pkcs1_and_pss)
{
	/* RSASSA-PSS-params (RFC 4055 3.1): SHA-256, MGF1 with SHA-256, salt 32. */
	static const unsigned char pss[] = { 0x30, 0x41, DER_RSA_PSS,
	    0x30, 0x34,
	      0xa0, 0x0f, 0x30, 0x0d, DER_SHA256, 0x05, 0x00,
	      0xa1, 0x1c, 0x30, 0x1a, DER_MGF1, 0x30, 0x0d, DER_SHA256, 0x05, 0x00,
	      0xa2, 0x03, 0x02, 0x01, 0x20 };
	struct signer s;
	struct token t;
	unsigned char *content, *tok;
	size_t clen, len;

	content = sample_tstinfo(&clen);
	/* PKCS#1 v1.5: rsaEncryption with NULL parameters, as OpenSSL's TSA writes it. */
	load(&s, URI_RSA, G.rsa, G.chain, "auto", "sha256");
	ck_assert_int_eq(s.pk, GNUTLS_PK_RSA);
	tok = sign(&s, 2, "sha256", 1, CMS_CERTS_CHAIN, NULL, content, clen, &len, &t);
	tlv_is(t.sig_alg, BYTES(0x30, 0x0d, DER_RSA, 0x05, 0x00));
	check_common_attrs(&t, content, clen, s.digest);
	check_ess(&t, &s, 2, "sha256", 1);
	verify_signature(&t, G.rsa, GNUTLS_SIGN_RSA_SHA256);
	openssl_verify(tok, len, NULL);
	free(tok);
	signer_free(&s);

	/* RSASSA-PSS. */
	load(&s, URI_RSA, G.rsa, G.chain, "rsa-pss", "sha256");
	ck_assert_int_eq(s.pss, 1);
	tok = sign(&s, 2, "sha256", 1, CMS_CERTS_CHAIN, NULL, content, clen, &len, &t);
	tlv_is(t.sig_alg, pss, sizeof(pss));
	verify_signature(&t, G.rsa, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256);
	openssl_check(tok, len, NULL, 1);
	free(tok);
	signer_free(&s);
	free(content);
}
END_TEST

START_TEST(cms_sha384_signer)
{
	struct signer s;
	struct token t;
	unsigned char *content, *tok;
	size_t clen, len;

	/* A signer digest other than SHA-256: digestAlgorithms, messageDigest, signature. */
	content = sample_tstinfo(&clen);
	load(&s, URI_EC, G.ec, G.chain, "auto", "sha384");
	tok = sign(&s, 2, "sha256", 1, CMS_CERTS_SIGNER, NULL, content, clen, &len, &t);
	tlv_is(t.si[2], BYTES(0x30, 0x0b, DER_SHA384));
	tlv_is(t.sig_alg, BYTES(0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03,
	    0x03));
	check_common_attrs(&t, content, clen, hash_by_name("sha384"));
	verify_signature(&t, G.ec, GNUTLS_SIGN_ECDSA_SHA384);
	openssl_verify(tok, len, untrusted());
	free(tok);
	signer_free(&s);
	free(content);
}
END_TEST

/*
 * cms.c keeps the ESS values it built (a few): two signers and more option sets than it keeps,
 * in turn, must each get the ESS attribute of their own certificate and options.
 */
START_TEST(cms_ess_cache_in_turn)
{
	static const struct {
		int	 rsa, version, issuer_serial;
		const char *hash;
	} turn[] = {
		{ 0, 2, 1, "sha256" }, { 1, 2, 1, "sha256" }, { 0, 1, 1, "sha1" },
		{ 1, 1, 0, "sha1" }, { 0, 2, 0, "sha256" }, { 1, 2, 1, "sha384" },
		{ 0, 2, 1, "sha256" }, { 1, 2, 1, "sha256" }, { 0, 2, 1, "sha256" },
	};
	struct signer ec, rsa;
	struct token t;
	unsigned char *content, *tok;
	size_t clen, len, i;

	content = sample_tstinfo(&clen);
	load(&ec, URI_EC, G.ec, G.chain, "auto", "sha256");
	load(&rsa, URI_RSA, G.rsa, G.chain, "auto", "sha256");
	for (i = 0; i < sizeof(turn) / sizeof(turn[0]); i++) {
		struct signer *s = turn[i].rsa ? &rsa : &ec;

		tok = sign(s, turn[i].version, turn[i].hash, turn[i].issuer_serial, CMS_CERTS_SIGNER,
		    NULL, content, clen, &len, &t);
		check_ess(&t, s, turn[i].version, turn[i].hash, turn[i].issuer_serial);
		free(tok);
	}
	signer_free(&ec);
	signer_free(&rsa);
	free(content);
}
END_TEST

START_TEST(cms_ess_versions)
{
	struct signer s;
	struct token t;
	unsigned char *content, *tok;
	size_t clen, len;

	content = sample_tstinfo(&clen);
	load(&s, URI_EC, G.ec, G.chain, "auto", "sha256");
	/* ESSCertID v1 (RFC 2634, SHA-1) for legacy verifiers. */
	tok = sign(&s, 1, "sha256", 1, CMS_CERTS_CHAIN, NULL, content, clen, &len, &t);
	ck_assert_uint_eq(t.n_attr, 3);
	check_ess(&t, &s, 1, "sha1", 1);
	verify_signature(&t, G.ec, GNUTLS_SIGN_ECDSA_SHA256);
	openssl_verify(tok, len, NULL);
	free(tok);
	/* v1 without issuerSerial. */
	tok = sign(&s, 1, "sha256", 0, CMS_CERTS_CHAIN, NULL, content, clen, &len, &t);
	check_ess(&t, &s, 1, "sha1", 0);
	openssl_verify(tok, len, NULL);
	free(tok);
	/* v2 without issuerSerial: certHash alone. */
	tok = sign(&s, 2, "sha256", 0, CMS_CERTS_CHAIN, NULL, content, clen, &len, &t);
	check_ess(&t, &s, 2, "sha256", 0);
	openssl_verify(tok, len, NULL);
	free(tok);
	signer_free(&s);
	free(content);
}
END_TEST

/*
 * ESSCertIDv2 with a hash other than SHA-256 (cert-id {"hash": "sha384"}): hashAlgorithm is
 * written out, certHash is 48 octets, and the token verifies.
 */
START_TEST(cms_ess_v2_sha384)
{
	struct signer s;
	struct token t;
	unsigned char *content, *tok;
	size_t clen, len;

	content = sample_tstinfo(&clen);
	load(&s, URI_EC, G.ec, G.chain, "auto", "sha256");
	tok = sign(&s, 2, "sha384", 1, CMS_CERTS_CHAIN, NULL, content, clen, &len, &t);
	check_ess(&t, &s, 2, "sha384", 1);
	verify_signature(&t, G.ec, GNUTLS_SIGN_ECDSA_SHA256);
	openssl_verify(tok, len, NULL);
	free(tok);
	signer_free(&s);
	free(content);
}
END_TEST

START_TEST(cms_signing_time)
{
	struct timespec t2024 = { T2024, 678000000 }, t2049 = { (time_t)2524607999, 0 },
	    t2050 = { (time_t)2524608000, 0 };
	struct signer s;
	struct token t;
	unsigned char *content, *tok;
	size_t clen, len;
	struct tlv v;

	content = sample_tstinfo(&clen);
	load(&s, URI_EC, G.ec, G.chain, "auto", "sha256");
	/* RFC 5652 11.3: UTCTime through 2049, whole seconds. */
	tok = sign(&s, 2, "sha256", 1, CMS_CERTS_SIGNER, &t2024, content, clen, &len, &t);
	ck_assert_uint_eq(t.n_attr, 4);
	v = attr_value(&t, BYTES(DER_SIGNING_TIME));
	tlv_is(v, BYTES(0x17, 0x0d, '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', '0', '5',
	    'Z'));
	verify_signature(&t, G.ec, GNUTLS_SIGN_ECDSA_SHA256);
	openssl_verify(tok, len, untrusted());
	free(tok);
	tok = sign(&s, 2, "sha256", 1, CMS_CERTS_SIGNER, &t2049, content, clen, &len, &t);
	tlv_is(attr_value(&t, BYTES(DER_SIGNING_TIME)), BYTES(0x17, 0x0d, '4', '9', '1', '2', '3',
	    '1', '2', '3', '5', '9', '5', '9', 'Z'));
	free(tok);
	/* GeneralizedTime from 2050. */
	tok = sign(&s, 2, "sha256", 1, CMS_CERTS_SIGNER, &t2050, content, clen, &len, &t);
	tlv_is(attr_value(&t, BYTES(DER_SIGNING_TIME)), BYTES(0x18, 0x0f, '2', '0', '5', '0', '0',
	    '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'));
	verify_signature(&t, G.ec, GNUTLS_SIGN_ECDSA_SHA256);
	free(tok);
	signer_free(&s);
	free(content);
}
END_TEST

START_TEST(cms_certificates)
{
	struct signer s;
	struct token t;
	unsigned char *content, *tok, *der[3];
	size_t clen, len, dlen[3], i, j;
	int found;

	content = sample_tstinfo(&clen);
	load(&s, URI_EC, G.ec, G.chain, "auto", "sha256");
	/* None: no [0] at all. */
	tok = sign(&s, 2, "sha256", 1, CMS_CERTS_NONE, NULL, content, clen, &len, &t);
	ck_assert_int_eq(t.has_certs, 0);
	ck_assert_uint_eq(t.n_sd, 4);
	verify_signature(&t, G.ec, GNUTLS_SIGN_ECDSA_SHA256);
	free(tok);
	/* The chain: leaf, intermediate and root, each once, in DER SET OF order. */
	tok = sign(&s, 2, "sha256", 1, CMS_CERTS_CHAIN, NULL, content, clen, &len, &t);
	ck_assert_int_eq(t.has_certs, 1);
	ck_assert_uint_eq(t.n_certs, 3);
	der[0] = pem_der(G.ec, &dlen[0]);
	der[1] = pem_der(G.inter, &dlen[1]);
	der[2] = pem_der(G.root, &dlen[2]);
	for (i = 0; i < 3; i++) {
		found = 0;
		for (j = 0; j < t.n_certs; j++)
			if (t.certs[j].len == dlen[i] && memcmp(t.certs[j].p, der[i], dlen[i]) == 0)
				found++;
		ck_assert_msg(found == 1, "certificate %zu found %d times", i, found);
		free(der[i]);
	}
	openssl_verify(tok, len, NULL);
	free(tok);
	signer_free(&s);

	/* A signer without a chain: CHAIN gives the leaf alone. */
	load(&s, URI_EC, G.ec, "", "auto", "sha256");
	ck_assert_uint_eq(s.n_chain, 0);
	tok = sign(&s, 2, "sha256", 1, CMS_CERTS_CHAIN, NULL, content, clen, &len, &t);
	ck_assert_uint_eq(t.n_certs, 1);
	openssl_verify(tok, len, untrusted());
	free(tok);
	signer_free(&s);
	free(content);
}
END_TEST

/* ---- signer_load -------------------------------------------------------------------------- */

static void
load_refused(const char *uri, const char *cert, const char *scheme, const char *want)
{
	struct signer s;
	char err[512] = "";

	ck_assert_msg(signer_load(&s, 9, "bad", uri, cert, G.chain, scheme, "sha256", 1, err,
	    sizeof(err)) == 0, "signer_load: %s", err);
	/* The row refused (certificate, scheme), or its key left retrying (it does not open
	 * or does not match): either way it cannot sign, and says why. */
	ck_assert_msg(signer_why(&s) != NULL, "signer accepted, expected: %s", want);
	ck_assert_msg(strstr(signer_why(&s), want) != NULL, "refused '%s', expected '%s'",
	    signer_why(&s), want);
	ck_assert_int_ne(signer_state(&s), UNIT_USABLE);
	signer_free(&s);
}

START_TEST(signer_load_good)
{
	struct signer s;
	gnutls_x509_crt_t c = pem_crt(G.ec);
	gnutls_datum_t d;
	unsigned char serial[32], *leaf;
	size_t serial_len = sizeof(serial), leaf_len;
	char err[512] = "";

	load(&s, URI_EC, G.ec, G.chain, "auto", "sha256");
	ck_assert_int_eq(s.id, 7);
	ck_assert_str_eq(s.name, "unit");
	ck_assert_str_eq(s.uri, URI_EC);
	ck_assert_ptr_nonnull(s.key);
	ck_assert_int_eq(s.pk, GNUTLS_PK_ECDSA);
	ck_assert_int_eq(s.sign_algo, GNUTLS_SIGN_ECDSA_SHA256);
	ck_assert_ptr_eq(s.digest, hash_by_name("sha256"));
	ck_assert_int_eq(s.pss, 0);
	ck_assert_uint_eq(s.n_chain, 2);
	leaf = pem_der(G.ec, &leaf_len);
	ck_assert_uint_eq(s.cert_der.len, leaf_len);
	ck_assert_mem_eq(s.cert_der.data, leaf, leaf_len);
	free(leaf);
	ck_assert_int_eq(gnutls_x509_crt_get_raw_issuer_dn(c, &d), 0);
	ck_assert_uint_eq(s.issuer_dn.len, d.size);
	ck_assert_mem_eq(s.issuer_dn.data, d.data, d.size);
	gnutls_free(d.data);
	ck_assert_int_eq(gnutls_x509_crt_get_raw_dn(c, &d), 0);
	ck_assert_mem_eq(s.subject_dn.data, d.data, d.size);
	gnutls_free(d.data);
	ck_assert_int_eq(gnutls_x509_crt_get_serial(c, serial, &serial_len), 0);
	ck_assert_uint_eq(s.serial.len, serial_len);
	ck_assert_mem_eq(s.serial.data, serial, serial_len);
	gnutls_x509_crt_deinit(c);
	signer_free(&s);
	signer_free(&s);
	signer_free(NULL);

	/* Without opening the key: checked, not refused, no key, not tried yet. */
	ck_assert_int_eq(signer_load(&s, 1, "n", URI_EC, G.ec, "", "auto", "sha256", 0, err,
	    sizeof(err)), 0);
	ck_assert_ptr_null(s.refused);
	ck_assert_ptr_null(s.key);
	ck_assert_int_eq(signer_state(&s), UNIT_OPENING);
	signer_free(&s);
}
END_TEST

START_TEST(signer_load_refusals)
{
	struct signer s;
	char err[512];

	/* The key does not match the certificate: another EC key, or an RSA key. */
	load_refused(URI_OTHER, G.ec, "auto", "does not match the certificate");
	load_refused(URI_RSA, G.ec, "auto", "does not match the certificate");
	load_refused(URI_NONE, G.ec, "auto", "cannot open key");
	load_refused(URI_EC, G.ec, "rsa-pss", "rsa-pss asked for an EC key");
	/* The certificate fails RFC 3161 2.3 or its validity: refused before the key is used. */
	load_refused(URI_EC, G.noncrit, "auto", "RFC 3161 2.3: extendedKeyUsage must be critical");
	load_refused(URI_EC, G.extra, "auto", "id-kp-timeStamping only");
	load_refused(URI_EC, G.noeku, "auto", "id-kp-timeStamping only");
	load_refused(URI_EC, G.expired, "auto", "not valid at");
	load_refused(URI_EC, G.future, "auto", "not valid at");
	/* Unreadable rows: -1. */
	err[0] = '\0';
	ck_assert_int_eq(signer_load(&s, 1, "x", URI_EC, G.ec, "", "auto", "md5", 1, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown digest 'md5'"));
	err[0] = '\0';
	ck_assert_int_eq(signer_load(&s, 1, "x", URI_EC, "not a certificate", "", "auto",
	    "sha256", 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unreadable certificate PEM"));
	err[0] = '\0';
	ck_assert_int_eq(signer_load(&s, 1, "x", URI_EC, G.ec, "garbage", "auto",
	    "sha256", 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unreadable certificate PEM"));
}
END_TEST

/* ---- signer_check_cert (no token) ---------------------------------------------------------- */

static void
check_cert_is(const char *pem, time_t when, int want_rc, const char *want)
{
	gnutls_x509_crt_t c = pem_crt(pem);
	char err[512] = "";
	int rc = signer_check_cert(c, when, err, sizeof(err));

	gnutls_x509_crt_deinit(c);
	ck_assert_msg(rc == want_rc, "signer_check_cert %d, expected %d (%s)", rc, want_rc, err);
	if (want != NULL)
		ck_assert_msg(strstr(err, want) != NULL, "'%s' does not say '%s'", err, want);
}

START_TEST(check_cert_eku)
{
	check_cert_is(G.ec, G.now, 0, NULL);
	check_cert_is(G.rsa, G.now, 0, NULL);
	check_cert_is(G.noncrit, G.now, -1, "RFC 3161 2.3: extendedKeyUsage must be critical");
	check_cert_is(G.extra, G.now, -1,
	    "must hold id-kp-timeStamping only (the certificate has 2 purposes)");
	check_cert_is(G.server, G.now, -1, "1 purposes, none of them timeStamping");
	check_cert_is(G.noeku, G.now, -1, "the certificate has 0 purposes");
	/* A CA certificate has no EKU: never a TSA certificate. */
	check_cert_is(G.root, G.now, -1, "id-kp-timeStamping only");
}
END_TEST

START_TEST(check_cert_validity)
{
	gnutls_x509_crt_t c = pem_crt(G.ec);
	time_t from = gnutls_x509_crt_get_activation_time(c),
	    until = gnutls_x509_crt_get_expiration_time(c);

	gnutls_x509_crt_deinit(c);
	check_cert_is(G.ec, from, 0, NULL);
	check_cert_is(G.ec, until, 0, NULL);
	check_cert_is(G.ec, from - 1, -1, "not valid at");
	check_cert_is(G.ec, until + 1, -1, "not valid at");
	check_cert_is(G.expired, G.now, -1, "not valid at");
	check_cert_is(G.future, G.now, -1, "not valid at");
	/* At a time inside their validity, they pass. */
	c = pem_crt(G.expired);
	check_cert_is(G.expired, gnutls_x509_crt_get_activation_time(c) + 60, 0, NULL);
	gnutls_x509_crt_deinit(c);
	c = pem_crt(G.future);
	check_cert_is(G.future, gnutls_x509_crt_get_expiration_time(c) - 60, 0, NULL);
	gnutls_x509_crt_deinit(c);
}
END_TEST

static Suite *
tst_suite(void)
{
	Suite *s = suite_create("tst");
	TCase *tc;

	tl_tcase(s, "tstinfo", 0, gentime_known_answers, gentime_refusals, tstinfo_known_answer,
	    tstinfo_qualified_extension, tstinfo_variants, tstinfo_refusals, NULL);
	tl_tcase(s, "check_cert", 0, check_cert_eku, check_cert_validity, NULL);
	tc = tl_tcase(s, "token", 30, cms_ec_default_profile, cms_rsa_pkcs1_and_pss,
	    cms_sha384_signer, cms_ess_versions, cms_ess_cache_in_turn, cms_signing_time,
	    cms_certificates, signer_load_good, signer_load_refusals, NULL);
	tcase_add_checked_fixture(tc, token_setup, token_teardown);
	/* Bugs found by these tests, fixed: kept as regressions. */
	tc = tl_tcase(s, "regressions", 30, cms_ess_v2_sha384, NULL);
	tcase_add_checked_fixture(tc, token_setup, token_teardown);
	return s;
}

int
main(void)
{
	int status;

	setup_all();
	if (!G.token_ready)
		fprintf(stderr, "test_tst: no SoftHSM2 token, the token tests will fail: %s\n",
		    G.why);
	status = tl_run(tst_suite());
	teardown_all();
	return status;
}
