/*
 * test_xmlverify.c - unit tests of the XML-DSig token verifier (src/tst/xmlverify.c) on the
 * real SI-TSA token of 2021 (tests/unit/fixtures/soap/si-tsa-token-2021.xml): it verifies
 * with its embedded certificate and says the chain is unverified without a CA; with its own
 * certificate as the CA the chain verifies, with another it does not; tampered variants (a
 * changed DigestValue, CreationTime, Nonce, an element moved) are rejected.  Run from the top
 * of the tree, as tests/run-all.sh does.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "xmlverify.h"

#include "testlib.h"

#define FIXTURE	"tests/unit/fixtures/soap/si-tsa-token-2021.xml"

static char *token;
static size_t token_len;

static void
load(void)
{
	unsigned char *p;
	size_t len;

	ck_assert_int_eq(file_read(FIXTURE, 1 << 20, &p, &len), 0);
	token = realloc(p, len + 1);
	ck_assert_ptr_nonnull(token);
	token[len] = '\0';
	token_len = len;
}

static void
unload(void)
{
	free(token);
	token = NULL;
}

/* The token with the first occurrence of from replaced by to (a malloc'd string). */
static char *
replaced(const char *from, const char *to)
{
	const char *at = strstr(token, from);
	char *out;

	ck_assert_ptr_nonnull(at);
	out = malloc(token_len + strlen(to) + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, token, (size_t)(at - token));
	strcpy(out + (at - token), to);
	strcat(out, at + strlen(from));
	return out;
}

/* The token with the element text from moved to just before the text before. */
static char *
moved(const char *from, const char *before)
{
	char *cut = replaced(from, ""), *at, *out;

	at = strstr(cut, before);
	ck_assert_ptr_nonnull(at);
	out = malloc(strlen(cut) + strlen(from) + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, cut, (size_t)(at - cut));
	strcpy(out + (at - cut), from);
	strcat(out, at);
	free(cut);
	return out;
}

static int
verify(const char *text, const char *ca, struct xmlverify_result *r, char *err, size_t errlen)
{
	return xml_token_verify((const unsigned char *)text, strlen(text), ca, r, err, errlen);
}

static void
rejected(char *text, const char *why)
{
	struct xmlverify_result r;
	char err[512] = "";

	ck_assert_int_eq(verify(text, NULL, &r, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, why) != NULL, "error '%s' lacks '%s'", err, why);
	free(text);
}

START_TEST(real_token_verifies)
{
	struct xmlverify_result r;
	char err[512] = "";
	FILE *f;

	ck_assert_int_eq(xml_token_sniff((unsigned char *)token, token_len), 1);
	ck_assert_int_eq(verify(token, NULL, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.serial, "127018293861565516705687172712007648828561");
	ck_assert_str_eq(r.creation_time, "2021-02-09T20:38:31.605Z");
	ck_assert_str_eq(r.nonce, "2376587872813388064");
	ck_assert_str_eq(r.accuracy, "999");
	ck_assert_str_eq(r.digest_method, "http://www.w3.org/2000/09/xmldsig#sha1");
	ck_assert_str_eq(r.digest_value, "MU/L/yHe5syGbveAR+We5DFtp3M=");
	ck_assert_str_eq(r.signature_method, "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
	ck_assert_ptr_nonnull(strstr(r.signer_subject, "CN=SI-TSA-1"));
	ck_assert_int_eq(r.chain_verified, 0);
	/* The printout says the chain is not verified. */
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	xml_token_print(f, &r);
	rewind(f);
	{
		char buf[4096];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);

		buf[n] = '\0';
		ck_assert_ptr_nonnull(strstr(buf, "chain: NOT verified"));
		ck_assert_ptr_nonnull(strstr(buf, "nonce: 2376587872813388064"));
	}
	fclose(f);
}
END_TEST

/* The token's own certificate as the trust anchor: the chain verifies at CreationTime
 * (the certificate has long expired since, which must not matter). */
START_TEST(chain_with_ca)
{
	struct xmlverify_result r;
	char err[512] = "", path[] = "/tmp/test_xmlverify.XXXXXX", *b64, *end;
	const char *start;
	FILE *f;
	int fd, i;

	start = strstr(token, "<dsig:X509Certificate>");
	ck_assert_ptr_nonnull(start);
	start += strlen("<dsig:X509Certificate>");
	end = strstr(start, "</dsig:X509Certificate>");
	ck_assert_ptr_nonnull(end);
	b64 = strndup(start, (size_t)(end - start));
	ck_assert_ptr_nonnull(b64);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fprintf(f, "-----BEGIN CERTIFICATE-----\n");
	for (i = 0; b64[i] != '\0'; i++) {
		if (b64[i] == '\n' || b64[i] == '\r' || b64[i] == ' ')
			continue;
		fputc(b64[i], f);
	}
	fprintf(f, "\n-----END CERTIFICATE-----\n");
	fclose(f);
	free(b64);
	ck_assert_int_eq(verify(token, path, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.chain_verified, 1);
	unlink(path);
	/* A CA file with no certificate: refused. */
	ck_assert_int_eq(verify(token, "/dev/null", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(r.chain_verified, 0);
}
END_TEST

START_TEST(tampered_digest_value)
{
	/* The first Reference's DigestValue, one character changed (still base64 of 20 bytes). */
	rejected(replaced("SQhuFIsr6Y7qabmJdKidM3/k2EE=", "TQhuFIsr6Y7qabmJdKidM3/k2EE="),
	    "does not match its Reference");
	/* The echoed request digest in the TimeStampInfo: the Object's digest breaks. */
	rejected(replaced("MU/L/yHe5syGbveAR+We5DFtp3M=", "NU/L/yHe5syGbveAR+We5DFtp3M="),
	    "does not match its Reference");
}
END_TEST

START_TEST(tampered_creation_time)
{
	rejected(replaced("2021-02-09T20:38:31.605Z", "2021-02-09T20:38:32.605Z"),
	    "does not match its Reference");
}
END_TEST

START_TEST(tampered_nonce)
{
	rejected(replaced("<ts:Nonce>2376587872813388064", "<ts:Nonce>2376587872813388065"),
	    "does not match its Reference");
}
END_TEST

START_TEST(tampered_signature_value)
{
	rejected(replaced("<dsig:SignatureValue>lNo7", "<dsig:SignatureValue>mNo7"),
	    "SignatureValue does not verify");
}
END_TEST

START_TEST(moved_elements)
{
	/* The Nonce before the SerialNumber: out of the schema's order. */
	rejected(moved("<ts:Nonce>2376587872813388064</ts:Nonce>", "<ts:SerialNumber>"),
	    "TimeStampInfo");
	/* The KeyInfo after the Object. */
	{
		const char *a = strstr(token, "<dsig:KeyInfo"), *b = strstr(token, "<dsig:Object");
		char *ki;

		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		ki = strndup(a, (size_t)(b - a));
		rejected(moved(ki, "</dsig:Signature>"), "XML-DSig 4.1");
		free(ki);
	}
}
END_TEST

START_TEST(hostile_documents)
{
	rejected(strdup("<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>"), "DOCTYPE");
	rejected(strdup("<dsig:Signature xmlns:dsig=\"http://www.w3.org/2000/09/xmldsig#\""),
	    "well-formed");
	rejected(strdup("<x/>"), "not one dsig:Signature");
	rejected(replaced("Id=\"TimeStampToken\"", "Id=\"Other\""), "TimeStampToken");
	/* A Reference to an element outside the Signature is refused. */
	rejected(replaced("URI=\"#TimeStampAuthority\"", "URI=\"#Elsewhere\""),
	    "names no KeyInfo or Object");
	/* An added element in SignedInfo. */
	rejected(replaced("<dsig:SignatureMethod", "<dsig:Transforms/><dsig:SignatureMethod"),
	    "XML-DSig 4.3");
}
END_TEST

static Suite *
xmlverify_suite(void)
{
	Suite *s = suite_create("xmlverify");
	TCase *tc;

	tc = tl_tcase(s, "xmlverify", 0, real_token_verifies, chain_with_ca, tampered_digest_value,
	    tampered_creation_time, tampered_nonce, tampered_signature_value, moved_elements,
	    hostile_documents, NULL);
	tcase_add_checked_fixture(tc, load, unload);
	return s;
}

int
main(void)
{
	return tl_run(xmlverify_suite());
}
