/*
 * test_authenticode.c - the Authenticode request codec (src/proto/authenticode.c): the base64
 * forms clients send (OpenSSL's BIO with LF, signtool with CR LF and a final NUL, one line),
 * the request's checks each refused with its reason and HTTP 400, the limits, the answer's
 * base64 form and the HTTP statuses of refusals.  The signed answer itself is verified end to
 * end by osslsigncode (tests/e2e/authenticode.sh).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "authenticode.h"
#include "tsa_limits.h"

#include "testlib.h"

#define MS_OID	"\x2b\x06\x01\x04\x01\x82\x37\x03\x02\x01"	/* 1.3.6.1.4.1.311.3.2.1 */
#define DATA_OID "\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01"		/* 1.2.840.113549.1.7.1 */
#define SD_OID	"\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"		/* 1.2.840.113549.1.7.2 */

/* Appends a TLV (definite length, up to 0xffff) to buf at *n. */
static void
tlv(unsigned char *buf, size_t *n, unsigned char tag, const unsigned char *body, size_t len)
{
	buf[(*n)++] = tag;
	if (len < 0x80)
		buf[(*n)++] = (unsigned char)len;
	else if (len < 0x100) {
		buf[(*n)++] = 0x81;
		buf[(*n)++] = (unsigned char)len;
	} else {
		buf[(*n)++] = 0x82;
		buf[(*n)++] = (unsigned char)(len >> 8);
		buf[(*n)++] = (unsigned char)len;
	}
	memmove(buf + *n, body, len);
	*n += len;
}

/* The DER request: type OID, optional attributes DER, inner content type, signature. */
static size_t
request_der(unsigned char *out, const char *type, size_t type_len, const unsigned char *attrs,
    size_t attrs_len, const char *ct, size_t ct_len, const unsigned char *sig, size_t sig_len)
{
	unsigned char a[2048], b[2048], c[2048];
	size_t na = 0, nb = 0, nc = 0, n = 0;

	tlv(a, &na, 0x04, sig, sig_len);
	tlv(b, &nb, 0xa0, a, na);			/* [0] EXPLICIT OCTET STRING */
	tlv(c, &nc, 0x06, (const unsigned char *)ct, ct_len);
	memcpy(c + nc, b, nb);
	nc += nb;
	na = 0;
	tlv(a, &na, 0x06, (const unsigned char *)type, type_len);
	if (attrs_len > 0) {
		memcpy(a + na, attrs, attrs_len);
		na += attrs_len;
	}
	tlv(a, &na, 0x30, c, nc);			/* ContentInfo */
	tlv(out, &n, 0x30, a, na);
	return n;
}

/* Base64 of der in lines of width (0: one line) ending in eol, with a NUL when nul. */
static size_t
b64(char *out, const unsigned char *der, size_t len, size_t width, const char *eol, int nul)
{
	unsigned char *enc = NULL;
	size_t elen, i, n = 0;

	ck_assert_int_eq(authenticode_encode(der, len, NULL, 0, &enc, &elen), 0);
	for (i = 0; i < elen; i++)
		if (enc[i] != '\n') {
			out[n++] = (char)enc[i];
			if (width != 0 && n % (width + strlen(eol)) == width) {
				memcpy(out + n, eol, strlen(eol));
				n += strlen(eol);
			}
		}
	memcpy(out + n, eol, strlen(eol));
	n += strlen(eol);
	if (nul)
		out[n++] = '\0';
	free(enc);
	return n;
}

static unsigned char sig[TSA_MAX_AUTHENTICODE_SIG + 1];

static void
fill_sig(void)
{
	size_t i;

	for (i = 0; i < sizeof(sig); i++)
		sig[i] = (unsigned char)(i * 7 + 3);
}

static void
accepted(const char *text, size_t len, size_t sig_len)
{
	struct tsa_request req;
	struct tsa_refusal ref;
	unsigned char d[32];

	memset(&ref, 0, sizeof(ref));
	ck_assert_msg(authenticode_parse((const unsigned char *)text, len, &req, &ref) == 0,
	    "refused: %s (%s)", ref.text, ref.detail);
	ck_assert_int_eq(req.protocol, TSA_PROTO_AUTHENTICODE);
	ck_assert_uint_eq(req.signature_len, sig_len);
	ck_assert_mem_eq(req.signature, sig, sig_len);
	ck_assert_str_eq(req.hash->name, "sha256");
	ck_assert_uint_eq(req.imprint_len, 32);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, sig, sig_len, d);
	ck_assert_mem_eq(req.imprint, d, 32);
	ck_assert_int_eq(req.cert_req, 1);
	authenticode_free(&req);
	ck_assert_ptr_null(req.signature);
}


/* The HTTP status authenticode_answer() gives the refusal ref (its body is plain text). */
static int
answer_status(const struct tsa_refusal *ref)
{
	struct tsa_answer a = { 0, NULL, NULL, 0 };

	ck_assert_int_eq(authenticode_answer(NULL, 0, ref, 0, &a), 0);
	ck_assert_ptr_nonnull(a.body);
	ck_assert_str_eq(a.content_type, "text/plain; charset=utf-8");
	free(a.body);
	return a.status;
}

static void
refused(const char *text, size_t len, const char *detail_part)
{
	struct tsa_request req;
	struct tsa_refusal ref;

	memset(&req, 0, sizeof(req));
	memset(&ref, 0, sizeof(ref));
	ck_assert_int_eq(authenticode_parse((const unsigned char *)text, len, &req, &ref), -1);
	ck_assert_ptr_null(req.signature);
	ck_assert_ptr_nonnull(ref.text);
	ck_assert_msg(strstr(ref.detail, detail_part) != NULL, "detail '%s' lacks '%s'",
	    ref.detail, detail_part);
	ck_assert_int_eq(answer_status(&ref), 400);
}

START_TEST(parse_client_forms)
{
	unsigned char der[2048];
	char text[4096];
	size_t n, t;

	fill_sig();
	n = request_der(der, MS_OID, 10, NULL, 0, DATA_OID, 9, sig, 256);
	t = b64(text, der, n, 64, "\n", 0);		/* osslsigncode (OpenSSL BIO) */
	accepted(text, t, 256);
	t = b64(text, der, n, 64, "\r\n", 1);		/* signtool: CR LF and a NUL */
	accepted(text, t, 256);
	t = b64(text, der, n, 0, "", 0);		/* one line */
	accepted(text, t, 256);
	t = b64(text, der, n, 76, "\r\n", 0);
	accepted(text, t, 256);
	n = request_der(der, MS_OID, 10, NULL, 0, DATA_OID, 9, sig, 1);
	t = b64(text, der, n, 64, "\n", 0);
	accepted(text, t, 1);
	n = request_der(der, MS_OID, 10, NULL, 0, DATA_OID, 9, sig, TSA_MAX_AUTHENTICODE_SIG);
	t = b64(text, der, n, 64, "\r\n", 1);
	accepted(text, t, TSA_MAX_AUTHENTICODE_SIG);
}
END_TEST

START_TEST(parse_attributes)
{
	/* SET { SEQUENCE { 1.2.3.4, SET { NULL } } }: read past, not refused. */
	static const unsigned char attrs[] = { 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x2a, 0x03,
	    0x04, 0x31, 0x02, 0x05, 0x00 };
	unsigned char der[2048], many[256];
	char text[4096];
	size_t n, t, i, m = 0;

	fill_sig();
	n = request_der(der, MS_OID, 10, attrs, sizeof(attrs), DATA_OID, 9, sig, 128);
	t = b64(text, der, n, 64, "\n", 0);
	accepted(text, t, 128);
	/* One more attribute than the limit. */
	many[m++] = 0x31;
	many[m++] = (unsigned char)(11 * (TSA_MAX_AUTHENTICODE_ATTRS + 1));
	for (i = 0; i <= TSA_MAX_AUTHENTICODE_ATTRS; i++) {
		memcpy(many + m, attrs + 2, 11);
		many[m + 6] = (unsigned char)(0x10 + i);	/* distinct, so DER SET order holds */
		m += 11;
	}
	n = request_der(der, MS_OID, 10, many, m, DATA_OID, 9, sig, 128);
	t = b64(text, der, n, 64, "\n", 0);
	refused(text, t, "request attributes");
}
END_TEST

START_TEST(refuse_requests)
{
	unsigned char der[2048];
	char text[8192];
	size_t n, t;

	fill_sig();
	n = request_der(der, MS_OID "\x02", 11, NULL, 0, DATA_OID, 9, sig, 64);
	t = b64(text, der, n, 64, "\n", 0);
	refused(text, t, "countersignatureType");
	n = request_der(der, MS_OID, 10, NULL, 0, SD_OID, 9, sig, 64);
	t = b64(text, der, n, 64, "\n", 0);
	refused(text, t, "id-data");
	n = request_der(der, MS_OID, 10, NULL, 0, DATA_OID, 9, sig, 0);
	t = b64(text, der, n, 64, "\n", 0);
	refused(text, t, "0 octets");
	n = request_der(der, MS_OID, 10, NULL, 0, DATA_OID, 9, sig, TSA_MAX_AUTHENTICODE_SIG + 1);
	t = b64(text, der, n, 64, "\n", 0);
	refused(text, t, "1025 octets");
	/* Trailing bytes after the DER. */
	n = request_der(der, MS_OID, 10, NULL, 0, DATA_OID, 9, sig, 64);
	der[n++] = 0;
	t = b64(text, der, n, 64, "\n", 0);
	refused(text, t, "trailing");
	/* Not DER: indefinite length. */
	n = request_der(der, MS_OID, 10, NULL, 0, DATA_OID, 9, sig, 64);
	memmove(der + 2, der + 2, n - 2);
	der[1] = 0x80;
	der[n++] = 0;
	der[n++] = 0;
	t = b64(text, der, n, 64, "\n", 0);
	refused(text, t, "");
	/* The body cap, before anything is decoded. */
	memset(text, 'A', sizeof(text));
	refused(text, TSA_MAX_AUTHENTICODE_BODY + 1, "more than 4096");
}
END_TEST

START_TEST(refuse_base64)
{
	static const struct { const char *text; size_t len; } bad[] = {
		{ "this is not base64!!", 20 }, { "MAA", 3 }, { "MAA=A===", 8 },
		{ "MA==MA==", 8 }, { "M===", 4 }, { "MAA =", 5 },
		{ "MAB=", 4 },		/* non-zero pad bits */
		{ "MR==", 4 },
		{ "MAA=\n\0\0", 7 },	/* two NULs */
		{ "", 0 }, { "\r\n", 2 }, { "\0", 1 },
		{ "MAA=\0MAA=", 9 },	/* a NUL inside */
		{ "\0MAA=", 5 },
	};
	unsigned char out[16];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(authenticode_base64_decode((const unsigned char *)bad[i].text,
		    bad[i].len, out, sizeof(out), &n) == -1, "bad[%zu] decoded", i);
		refused(bad[i].text, bad[i].len, "not base64");
	}
	/* Too long for the output buffer. */
	ck_assert_int_eq(authenticode_base64_decode((const unsigned char *)"AAAAAAAA", 8, out, 5,
	    &n), -1);
	ck_assert_int_eq(authenticode_base64_decode((const unsigned char *)"MAA=\r\n\0", 7, out,
	    sizeof(out), &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(out[0], 0x30);
	ck_assert_int_eq(out[1], 0x00);
}
END_TEST

START_TEST(encode_answer)
{
	unsigned char tok[200], *out = NULL, back[200];
	size_t n, i, col = 0, bn;
	struct tsa_refusal ref;

	for (i = 0; i < sizeof(tok); i++)
		tok[i] = (unsigned char)i;
	ck_assert_int_eq(authenticode_encode(tok, sizeof(tok), NULL, 0, &out, &n), 0);
	for (i = 0; i < n; i++) {
		if (out[i] == '\n') {
			ck_assert_uint_le(col, 64);
			col = 0;
		} else
			col++;
	}
	ck_assert_int_eq(out[n - 1], '\n');
	ck_assert_int_eq(authenticode_base64_decode(out, n, back, sizeof(back), &bn), 0);
	ck_assert_uint_eq(bn, sizeof(tok));
	ck_assert_mem_eq(back, tok, sizeof(tok));
	free(out);
	/* A refusal has no body in this protocol. */
	memset(&ref, 0, sizeof(ref));
	tsa_refuse(&ref, TSA_FAIL_BAD_REQUEST, "x", NULL);
	ck_assert_int_eq(authenticode_encode(NULL, 0, &ref, 0, &out, &n), -1);
}
END_TEST

START_TEST(http_statuses)
{
	struct tsa_refusal ref;

	memset(&ref, 0, sizeof(ref));
	tsa_refuse(&ref, TSA_FAIL_BAD_DATA_FORMAT, "x", NULL);
	ck_assert_int_eq(answer_status(&ref), 400);
	tsa_refuse(&ref, TSA_FAIL_BAD_ALG, "x", NULL);
	ck_assert_int_eq(answer_status(&ref), 400);
	tsa_refuse(&ref, TSA_FAIL_TIME_NOT_AVAILABLE, "x", NULL);
	ck_assert_int_eq(answer_status(&ref), 503);
	tsa_refuse(&ref, TSA_FAIL_SYSTEM_FAILURE, "x", NULL);
	ck_assert_int_eq(answer_status(&ref), 503);
	authenticode_free(NULL);
}
END_TEST

static Suite *
authenticode_suite(void)
{
	Suite *s = suite_create("authenticode");

	tl_tcase(s, "parse", 0, parse_client_forms, parse_attributes, NULL);
	tl_tcase(s, "refuse", 0, refuse_requests, refuse_base64, NULL);
	tl_tcase(s, "encode", 0, encode_answer, http_statuses, NULL);
	return s;
}

int
main(void)
{
	return tl_run(authenticode_suite());
}
