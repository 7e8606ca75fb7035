/*
 * test_verify.c - unit tests of the verifier (src/tst/verify*.c) on responses and tokens made
 * by OpenSSL (an independent implementation): RSA, ECDSA and RSASSA-PSS signatures, ESS v1
 * and v2, bare tokens, a signer named by subjectKeyIdentifier, a token without certificates,
 * a chain checked at genTime; and the refusals: wrong CA, tampered TSTInfo, tampered
 * signature, a wrong PSS salt length, non-critical EKU, a certificate expired at genTime,
 * wrong data, a rejection, id-data content, truncated and trailing bytes.
 * Fixtures: tests/unit/fixtures/verify (relative to $TSA_SRCDIR, default "."), made by
 * make-fixtures.sh there; OpenSSL is not needed at run time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "tsa_limits.h"
#include "verify.h"

#include "testlib.h"

static char *
fixture_path(const char *name)
{
	static char path[4][1024];
	static int next;
	const char *dir = getenv("TSA_SRCDIR");
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/tests/unit/fixtures/verify/%s", dir ? dir : ".",
	    name);
	return p;
}

static unsigned char *
fixture(const char *name, size_t *len)
{
	unsigned char *p = NULL;
	const char *path = fixture_path(name);

	ck_assert_msg(file_read(path, TSA_MAX_TOKEN_FILE, &p, len) == 0,
	    "cannot read fixture %s", path);
	return p;
}

struct run {
	struct verify_result	r;
	char			err[512];
	int			rc;
};

/* Verifies der with the CA file ca (NULL: none), untrusted (NULL: none) and data. */
static void
verify_buf(struct run *v, const unsigned char *der, size_t len, const char *ca,
    const char *untrusted, const unsigned char *data, size_t data_len)
{
	struct verify_opts o;

	memset(&o, 0, sizeof(o));
	o.ca_file = ca != NULL ? fixture_path(ca) : NULL;
	o.untrusted_file = untrusted != NULL ? fixture_path(untrusted) : NULL;
	o.data = data;
	o.data_len = data_len;
	v->rc = tst_verify(der, len, &o, &v->r, v->err, sizeof(v->err));
}

static void
verify_file(struct run *v, const char *name, const char *ca)
{
	unsigned char *der;
	size_t len;

	der = fixture(name, &len);
	verify_buf(v, der, len, ca, NULL, NULL, 0);
	free(der);
}

static void
accepted(const struct run *v, const char *what)
{
	ck_assert_msg(v->rc == 0, "%s refused: %s", what, v->err);
	ck_assert_str_eq(v->err, "");
}

static void
refused(const struct run *v, const char *what, const char *rule)
{
	ck_assert_msg(v->rc == -1, "%s accepted, expected: %s", what, rule);
	ck_assert_msg(strstr(v->err, rule) != NULL, "%s: message '%s' does not name '%s'",
	    what, v->err, rule);
}

/* ---- accepted ----------------------------------------------------------------------------- */

START_TEST(rsa_response_with_ca_and_data)
{
	unsigned char *data;
	size_t data_len, len;
	unsigned char *der = fixture("rsa-v2.tsr", &len);
	struct run v;
	size_t i;

	data = fixture("data.txt", &data_len);
	verify_buf(&v, der, len, "ca.pem", NULL, data, data_len);
	accepted(&v, "rsa-v2.tsr");
	ck_assert_int_eq(v.r.is_response, 1);
	ck_assert_int_eq(v.r.status, 0);
	ck_assert_int_eq(v.r.has_tstinfo, 1);
	ck_assert_int_eq(v.r.chain_verified, 1);
	ck_assert_int_eq(v.r.data_checked, 1);
	ck_assert_int_eq(v.r.ess_version, 2);
	ck_assert_str_eq(v.r.hash_name, "sha256");
	/* sha256 of data.txt, as `openssl dgst -sha256` gives it */
	ck_assert_str_eq(v.r.imprint_hex,
	    "b47cc0f104b62d4c7c30bcd68fd8e67613e287dc4ad8c310ef10cbadea9c4380");
	ck_assert_str_eq(v.r.policy, "1.2.3.4.1");
	/* openssl ts counts up from the 160-bit serial make-fixtures.sh wrote */
	ck_assert_msg(strncmp(v.r.serial_hex, "0x5a17c0ffee0123456789abcdef0123456789ab",
	    40) == 0 && strlen(v.r.serial_hex) == 42, "serial %s", v.r.serial_hex);
	ck_assert_msg(strlen(v.r.serial_dec) == 48, "decimal serial %s", v.r.serial_dec);
	for (i = 0; v.r.serial_dec[i] != '\0'; i++)
		ck_assert(v.r.serial_dec[i] >= '0' && v.r.serial_dec[i] <= '9');
	ck_assert_int_eq(v.r.has_nonce, 1);
	ck_assert_uint_eq(strlen(v.r.nonce_hex), 16);
	ck_assert_int_eq(v.r.has_accuracy, 1);
	ck_assert_uint_eq(v.r.acc_seconds, 1);
	ck_assert_uint_eq(v.r.acc_millis, 500);
	ck_assert_uint_eq(v.r.acc_micros, 100);
	ck_assert_int_eq(v.r.ordering, 1);
	/* clock_precision_digits = 3: YYYYMMDDhhmmss.fffZ at most, no trailing zero */
	ck_assert_msg(strlen(v.r.gen_time) >= 15 && strlen(v.r.gen_time) <= 19 &&
	    v.r.gen_time[strlen(v.r.gen_time) - 1] == 'Z', "genTime %s", v.r.gen_time);
	ck_assert(v.r.gen_time_sec > 1700000000);
	ck_assert_ptr_nonnull(strstr(v.r.signer_subject, "CN=Fixture TSA RSA"));
	ck_assert_ptr_nonnull(strstr(v.r.tsa_name, "CN=Fixture TSA RSA"));
	ck_assert_str_eq(v.r.sig_alg, "rsaEncryption with sha256");
	free(data);
	free(der);
}
END_TEST

START_TEST(ess_v1_response)
{
	struct run v;

	verify_file(&v, "rsa-v1.tsr", "ca.pem");
	accepted(&v, "rsa-v1.tsr (ESSCertID, SHA-1, with the chain)");
	ck_assert_int_eq(v.r.ess_version, 1);
	ck_assert_int_eq(v.r.chain_verified, 1);
}
END_TEST

START_TEST(ecdsa_responses)
{
	struct run v;

	verify_file(&v, "ec-v2.tsr", "ca.pem");
	accepted(&v, "ec-v2.tsr");
	ck_assert_str_eq(v.r.sig_alg, "ecdsa-with-SHA256");
	ck_assert_int_eq(v.r.chain_verified, 1);
	ck_assert_ptr_nonnull(strstr(v.r.signer_subject, "CN=Fixture TSA ECDSA"));

	verify_file(&v, "ec-v2-sha384.tsr", "ca.pem");
	accepted(&v, "ec-v2-sha384.tsr (ESSCertIDv2 with an explicit SHA-384)");
	ck_assert_str_eq(v.r.sig_alg, "ecdsa-with-SHA384");
	ck_assert_int_eq(v.r.ess_version, 2);
}
END_TEST

START_TEST(bare_tokens)
{
	static const char *const files[] = { "rsa-v2.tst", "ec-v2.tst" };
	struct run v;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		verify_file(&v, files[i], "ca.pem");
		accepted(&v, files[i]);
		ck_assert_int_eq(v.r.is_response, 0);
		ck_assert_int_eq(v.r.status, -1);
		ck_assert_int_eq(v.r.chain_verified, 1);
	}
}
END_TEST

START_TEST(rsassa_pss)
{
	struct run v;

	verify_file(&v, "pss.tst", "ca.pem");
	accepted(&v, "pss.tst");
	ck_assert_str_eq(v.r.sig_alg, "RSASSA-PSS with sha256, salt 32");
	verify_file(&v, "pss-maxsalt.tst", "ca.pem");
	accepted(&v, "pss-maxsalt.tst");
	ck_assert_str_eq(v.r.sig_alg, "RSASSA-PSS with sha256, salt 222");
}
END_TEST

/* RFC 5652 5.3: SignerInfo version 3 naming its signer by subjectKeyIdentifier. */
START_TEST(subject_key_identifier)
{
	struct run v;

	verify_file(&v, "ski.tst", "ca.pem");
	accepted(&v, "ski.tst");
	ck_assert_ptr_nonnull(strstr(v.r.signer_subject, "CN=Fixture TSA ECDSA"));
	ck_assert_int_eq(v.r.chain_verified, 1);
}
END_TEST

START_TEST(without_ca_chain_not_checked)
{
	struct run v;

	verify_file(&v, "rsa-v2.tsr", NULL);
	accepted(&v, "rsa-v2.tsr without a CA");
	ck_assert_int_eq(v.r.chain_verified, 0);
	ck_assert_int_eq(v.r.ca_given, 0);
}
END_TEST

START_TEST(token_without_certificates)
{
	unsigned char *der;
	size_t len;
	struct run v;

	verify_file(&v, "rsa-nocerts.tsr", "ca.pem");
	refused(&v, "rsa-nocerts.tsr alone", "RFC 3161 2.4.1: the token carries no certificates");

	der = fixture("rsa-nocerts.tsr", &len);
	verify_buf(&v, der, len, "ca.pem", "tsa-rsa.pem", NULL, 0);
	accepted(&v, "rsa-nocerts.tsr with --untrusted tsa-rsa.pem");
	ck_assert_int_eq(v.r.chain_verified, 1);
	free(der);
}
END_TEST

/* tsa-old.pem expired in 2021: a token from 2020 still verifies, chain included. */
START_TEST(chain_checked_at_gentime)
{
	struct run v;

	verify_file(&v, "old-2020.tst", "ca.pem");
	accepted(&v, "old-2020.tst");
	ck_assert_str_eq(v.r.gen_time, "20200315120000Z");
	ck_assert_int_eq(v.r.chain_verified, 1);
}
END_TEST

/* ---- refused ------------------------------------------------------------------------------ */

START_TEST(wrong_ca)
{
	struct run v;

	verify_file(&v, "rsa-v2.tsr", "other-ca.pem");
	refused(&v, "rsa-v2.tsr with another CA", "RFC 5280 6.1");
	ck_assert_int_eq(v.r.chain_verified, 0);
	verify_file(&v, "rsa-nocerts.tsr", "other-ca.pem");
	refused(&v, "rsa-nocerts.tsr with another CA", "RFC 3161 2.4.1");
}
END_TEST

/* One digit of genTime changed inside the TSTInfo: the digest no longer matches. */
START_TEST(tampered_tstinfo)
{
	static const char *const files[] = { "rsa-v2.tsr", "ec-v2.tst" };
	unsigned char *der, *at;
	size_t len, i;
	struct run v;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		der = fixture(files[i], &len);
		verify_buf(&v, der, len, "ca.pem", NULL, NULL, 0);
		accepted(&v, files[i]);
		at = memmem(der, len, v.r.gen_time, strlen(v.r.gen_time));
		ck_assert_ptr_nonnull(at);
		at[13] = at[13] == '9' ? '8' : at[13] + 1;	/* the seconds' units */
		verify_buf(&v, der, len, "ca.pem", NULL, NULL, 0);
		refused(&v, files[i], "RFC 5652 5.4: messageDigest does not match the TSTInfo");
		free(der);
	}
}
END_TEST

/* The signature is the last field of the response: flip its last bit. */
START_TEST(tampered_signature)
{
	static const char *const files[] = { "rsa-v2.tsr", "ec-v2.tsr", "pss.tst" };
	unsigned char *der;
	size_t len, i;
	struct run v;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		der = fixture(files[i], &len);
		der[len - 1] ^= 0x01;
		verify_buf(&v, der, len, "ca.pem", NULL, NULL, 0);
		refused(&v, files[i], "RFC 5652 5.6: the signature does not verify");
		free(der);
	}
}
END_TEST

/* saltLength is outside the signed bytes: a wrong one must still fail the signature. */
START_TEST(pss_salt_is_enforced)
{
	static const unsigned char salt222[] = { 0xa2, 0x04, 0x02, 0x02, 0x00, 0xde };
	unsigned char *der, *at;
	size_t len;
	struct run v;

	der = fixture("pss-maxsalt.tst", &len);
	at = memmem(der, len, salt222, sizeof(salt222));
	ck_assert_ptr_nonnull(at);
	at[5] = 0xdf;
	verify_buf(&v, der, len, "ca.pem", NULL, NULL, 0);
	refused(&v, "pss-maxsalt.tst claiming salt 223", "RFC 5652 5.6");
	free(der);
}
END_TEST

START_TEST(eku_not_critical)
{
	struct run v;

	verify_file(&v, "noncrit-eku.tst", "ca.pem");
	refused(&v, "noncrit-eku.tst", "RFC 3161 2.3: extendedKeyUsage must be critical");
	verify_file(&v, "noncrit-eku.tst", NULL);
	refused(&v, "noncrit-eku.tst without a CA", "RFC 3161 2.3");
}
END_TEST

START_TEST(signer_expired_at_gentime)
{
	struct run v;

	verify_file(&v, "old-2022.tst", "ca.pem");
	refused(&v, "old-2022.tst", "signer certificate at genTime");
	ck_assert_str_eq(v.r.gen_time, "20220315120000Z");
}
END_TEST

START_TEST(data_right_and_wrong)
{
	static const unsigned char wrong[] = "The quick brown fox jumps over the lazy cat.\n";
	unsigned char *der, *data;
	size_t len, data_len;
	struct run v;

	der = fixture("ec-v2.tst", &len);
	data = fixture("data.txt", &data_len);
	verify_buf(&v, der, len, NULL, NULL, data, data_len);
	accepted(&v, "ec-v2.tst with data.txt");
	ck_assert_int_eq(v.r.data_checked, 1);
	verify_buf(&v, der, len, NULL, NULL, wrong, sizeof(wrong) - 1);
	refused(&v, "ec-v2.tst with other data", "does not match the messageImprint");
	ck_assert_int_eq(v.r.data_checked, 0);
	verify_buf(&v, der, len, NULL, NULL, data, data_len - 1);
	refused(&v, "ec-v2.tst with truncated data", "does not match the messageImprint");
	free(data);
	free(der);
}
END_TEST

START_TEST(rejection_response)
{
	struct run v;

	verify_file(&v, "rejected.tsr", "ca.pem");
	refused(&v, "rejected.tsr", "RFC 3161 2.4.2: time-stamp not granted: status rejection");
	ck_assert_ptr_nonnull(strstr(v.err, "unacceptedPolicy"));
	ck_assert_int_eq(v.r.is_response, 1);
	ck_assert_int_eq(v.r.status, 2);
	ck_assert_str_eq(v.r.fail_info, "unacceptedPolicy");
	ck_assert_str_eq(v.r.status_text, "Requested policy is not supported.");
	ck_assert_int_eq(v.r.has_tstinfo, 0);
}
END_TEST

START_TEST(not_a_tstinfo)
{
	struct run v;

	verify_file(&v, "id-data.p7", "ca.pem");
	refused(&v, "id-data.p7", "RFC 5652 5.1: SignedData version must be 3");
}
END_TEST

START_TEST(strict_der)
{
	unsigned char *der, *longer;
	size_t len;
	struct run v;

	der = fixture("rsa-v2.tsr", &len);
	verify_buf(&v, der, len - 1, NULL, NULL, NULL, 0);
	refused(&v, "truncated rsa-v2.tsr", "strict DER: X.690");

	longer = malloc(len + 1);
	ck_assert_ptr_nonnull(longer);
	memcpy(longer, der, len);
	longer[len] = 0x00;
	verify_buf(&v, longer, len + 1, NULL, NULL, NULL, 0);
	refused(&v, "rsa-v2.tsr and a byte", "strict DER: trailing bytes");

	verify_buf(&v, (const unsigned char *)"hello", 5, NULL, NULL, NULL, 0);
	refused(&v, "text", "strict DER");
	verify_buf(&v, (const unsigned char *)"\x30\x05\x30\x03\x02\x01\x00", 7, NULL, NULL,
	    NULL, 0);
	refused(&v, "granted, no token", "RFC 3161 2.4.2: status granted but no timeStampToken");
	verify_buf(&v, (const unsigned char *)"\x30\x03\x06\x01\x00", 5, NULL, NULL, NULL, 0);
	refused(&v, "SEQUENCE { OID }", "does not match the ASN.1 definition");
	verify_buf(&v, (const unsigned char *)"\x30\x03\x04\x01\x00", 5, NULL, NULL, NULL, 0);
	refused(&v, "SEQUENCE { OCTET STRING }", "neither a TimeStampResp nor a ContentInfo");
	free(longer);
	free(der);
}
END_TEST

/* ---- the summary -------------------------------------------------------------------------- */

static char *
printed(const struct verify_result *r)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(f);
	tst_verify_print(f, r);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

START_TEST(summary)
{
	static const char *const lines[] = { "status: granted (0)\n", "serial: 0x5a17c0ffee",
	    "genTime: 20", " UTC (20", "policy: 1.2.3.4.1\n", "imprint: sha256 b47cc0f1",
	    "nonce: 0x", "signer: ", "CN=Fixture TSA RSA", "ESS: signingCertificateV2",
	    "chain: verified to CA\n" };
	struct run v;
	char *text, want[128];
	size_t i;

	verify_file(&v, "rsa-v2.tsr", "ca.pem");
	accepted(&v, "rsa-v2.tsr");
	text = printed(&v.r);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		ck_assert_msg(strstr(text, lines[i]) != NULL, "'%s' not in:\n%s", lines[i], text);
	snprintf(want, sizeof(want), "(%s)", v.r.serial_dec);
	ck_assert_msg(strstr(text, want) != NULL, "decimal serial not in:\n%s", text);
	free(text);

	verify_file(&v, "ec-v2.tst", NULL);
	accepted(&v, "ec-v2.tst");
	text = printed(&v.r);
	ck_assert_msg(strstr(text, "chain: NOT verified (no --ca given)\n") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "status: none (a bare token)\n") != NULL, "%s", text);
	free(text);

	verify_file(&v, "rejected.tsr", NULL);
	text = printed(&v.r);
	ck_assert_msg(strstr(text, "status: rejection (2)\n") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "failure info: unacceptedPolicy\n") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "serial:") == NULL, "%s", text);
	free(text);
}
END_TEST

static Suite *
verify_suite(void)
{
	Suite *s = suite_create("verify");

	tl_tcase(s, "accepted", 0, rsa_response_with_ca_and_data, ess_v1_response, ecdsa_responses,
	    bare_tokens, rsassa_pss, subject_key_identifier, without_ca_chain_not_checked,
	    token_without_certificates, chain_checked_at_gentime, NULL);
	tl_tcase(s, "refused", 0, wrong_ca, tampered_tstinfo, tampered_signature,
	    pss_salt_is_enforced, eku_not_critical, signer_expired_at_gentime, data_right_and_wrong,
	    rejection_response, not_a_tstinfo, strict_der, NULL);
	tl_tcase(s, "summary", 0, summary, NULL);
	return s;
}

int
main(void)
{
	return tl_run(verify_suite());
}
