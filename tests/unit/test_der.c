/*
 * test_der.c - unit tests of the strict DER gate (src/asn1/der.c): what it lets through (a
 * real `openssl ts -query` output, small hand-made TLVs of every universal type it checks)
 * and, for each X.690 rule it enforces, one encoding breaking it, refused with a message
 * naming the rule.  Also der_tlv_len on good and bad headers, and the writer (der_out_*):
 * OIDs and INTEGERs as libtasn1 encodes them, long lengths, SET OF order, sticky failures.
 * Fixtures: tests/unit/fixtures/core (relative to $TSA_SRCDIR, default ".").
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asn1.h"
#include "bytes.h"
#include "der.h"
#include "tsa_limits.h"

#include "testlib.h"

#define B(...)	((const unsigned char[]){ __VA_ARGS__ })
#define N(...)	sizeof((const unsigned char[]){ __VA_ARGS__ })
/* A byte list and its length, for der_check and der_tlv_len. */
#define BYTES(...)	B(__VA_ARGS__), N(__VA_ARGS__)

static unsigned char *
fixture(const char *name, size_t *len)
{
	const char *dir = getenv("TSA_SRCDIR");
	char path[1024];
	unsigned char *p = NULL;

	snprintf(path, sizeof(path), "%s/tests/unit/fixtures/core/%s", dir ? dir : ".", name);
	ck_assert_msg(file_read(path, 65536, &p, len) == 0, "cannot read fixture %s", path);
	return p;
}

/* der_check must accept p; on failure the message it gave is shown. */
static void
accepted(const unsigned char *p, size_t len, const char *what)
{
	const char *why = NULL;

	ck_assert_msg(der_check(p, len, &why) == 0, "%s refused: %s", what, why ? why : "?");
}

/* der_check must refuse p with a message containing `rule`. */
static void
refused(const unsigned char *p, size_t len, const char *rule)
{
	const char *why = NULL;

	ck_assert_msg(der_check(p, len, &why) == -1, "accepted, expected refusal: %s", rule);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, rule) != NULL, "message '%s' does not name '%s'", why, rule);
}

/* ---- accepted ----------------------------------------------------------------------------- */

START_TEST(accepts_openssl_queries)
{
	static const char *const files[] = { "q-sha256-full.tsq", "q-sha1.tsq",
	    "q-sha3-512-full.tsq", "q-sha256-cert.tsq" };
	size_t i, len;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		unsigned char *p = fixture(files[i], &len);

		accepted(p, len, files[i]);
		ck_assert_uint_eq(der_tlv_len(p, len), len);
		free(p);
	}
}
END_TEST

START_TEST(accepts_small_tlvs)
{
	accepted(BYTES(0x05, 0x00), "NULL");
	accepted(BYTES(0x01, 0x01, 0xff), "BOOLEAN TRUE");
	accepted(BYTES(0x01, 0x01, 0x00), "BOOLEAN FALSE");
	accepted(BYTES(0x02, 0x01, 0x00), "INTEGER 0");
	accepted(BYTES(0x02, 0x01, 0x7f), "INTEGER 127");
	accepted(BYTES(0x02, 0x02, 0x00, 0x80), "INTEGER 128");
	accepted(BYTES(0x02, 0x01, 0x80), "INTEGER -128");
	accepted(BYTES(0x02, 0x02, 0xff, 0x7f), "INTEGER -129");
	accepted(BYTES(0x0a, 0x01, 0x02), "ENUMERATED 2");
	accepted(BYTES(0x03, 0x01, 0x00), "empty BIT STRING");
	accepted(BYTES(0x03, 0x02, 0x07, 0x80), "BIT STRING 1 bit");
	accepted(BYTES(0x03, 0x03, 0x00, 0xff, 0xff), "BIT STRING 16 bits");
	accepted(BYTES(0x04, 0x00), "empty OCTET STRING");
	accepted(BYTES(0x06, 0x03, 0x2a, 0x03, 0x04), "OID 1.2.3.4");
	/* 2.16.840.1.101.3.4.2.1 (sha256): 0x86 0x48 is a two-octet subidentifier. */
	accepted(BYTES(0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01),
	    "OID sha256");
	/* Subidentifier 128 = 0x81 0x00: a zero octet after a continuation is fine. */
	accepted(BYTES(0x06, 0x03, 0x2a, 0x81, 0x00), "OID 1.2.128");
	accepted(BYTES(0x0c, 0x02, 'h', 'i'), "UTF8String");
	accepted(BYTES(0x17, 0x0d, '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', '0', '5', 'Z'),
	    "UTCTime");
	accepted(BYTES(0x18, 0x0f, '2', '0', '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', '0',
	    '5', 'Z'), "GeneralizedTime");
	accepted(BYTES(0x18, 0x13, '2', '0', '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', '0',
	    '5', '.', '1', '2', '3', 'Z'), "GeneralizedTime with fraction");
	accepted(BYTES(0x30, 0x00), "empty SEQUENCE");
	accepted(BYTES(0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02), "SET of two INTEGERs");
	accepted(BYTES(0xa0, 0x03, 0x02, 0x01, 0x01), "[0] constructed");
	accepted(BYTES(0x80, 0x01, 0x05), "[0] primitive");
	/* X.690 8.1.2.4: tag 31 and tag 201 in the high-tag-number form. */
	accepted(BYTES(0x9f, 0x1f, 0x00), "[31]");
	accepted(BYTES(0x9f, 0x81, 0x49, 0x01, 0x00), "[201]");
}
END_TEST

START_TEST(accepts_long_lengths)
{
	unsigned char buf[4 + 256];

	/* 128 octets: the smallest length that needs the long form, 81 80. */
	memset(buf, 0x41, sizeof(buf));
	buf[0] = 0x04; buf[1] = 0x81; buf[2] = 0x80;
	accepted(buf, 3 + 128, "OCTET STRING of 128");
	/* 256 octets: 82 01 00. */
	buf[0] = 0x04; buf[1] = 0x82; buf[2] = 0x01; buf[3] = 0x00;
	accepted(buf, sizeof(buf), "OCTET STRING of 256");
	ck_assert_uint_eq(der_tlv_len(buf, sizeof(buf)), sizeof(buf));
}
END_TEST

/* ---- refused, one X.690 rule each --------------------------------------------------------- */

START_TEST(refuses_indefinite_length)
{
	refused(BYTES(0x30, 0x80, 0x05, 0x00, 0x00, 0x00), "indefinite length");
	/* The same inside a definite outer value. */
	refused(BYTES(0x30, 0x06, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00), "indefinite length");
}
END_TEST

START_TEST(refuses_nonminimal_length)
{
	/* 81 05: the long form for a length that fits in the short form. */
	refused(BYTES(0x04, 0x81, 0x05, 1, 2, 3, 4, 5), "X.690 10.1");
	refused(BYTES(0x04, 0x81, 0x05, 1, 2, 3, 4, 5), "short length");
	/* 82 00 05 and 82 00 80: a leading zero length octet. */
	refused(BYTES(0x04, 0x82, 0x00, 0x05, 1, 2, 3, 4, 5), "leading zero");
	{
		unsigned char buf[4 + 128];

		memset(buf, 0, sizeof(buf));
		buf[0] = 0x04; buf[1] = 0x82; buf[2] = 0x00; buf[3] = 0x80;
		refused(buf, sizeof(buf), "X.690 10.1: length not minimal (leading zero)");
	}
}
END_TEST

START_TEST(refuses_length_past_end)
{
	refused(BYTES(0x04, 0x05, 0x00), "past the end");
	refused(BYTES(0x04, 0x81, 0xff, 0x00), "past the end");
	/* An inner value running past its parent. */
	refused(BYTES(0x30, 0x03, 0x04, 0x05, 0x00), "past the end");
	/* More length octets than the value has, or than we allow. */
	refused(BYTES(0x04, 0x84, 0x01), "length too long or truncated");
	refused(BYTES(0x04, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00), "length too long");
}
END_TEST

START_TEST(refuses_truncated_header)
{
	const char *why = NULL;

	refused(BYTES(0x30), "truncated header");
	ck_assert_int_eq(der_check(B(0x00), 0, &why), -1);
	ck_assert_ptr_nonnull(why);
	/* High tag number form cut off before its last octet, and before the length. */
	refused(BYTES(0x9f, 0x81), "truncated");
	refused(BYTES(0x9f, 0x81, 0x81), "tag number too long or truncated");
	refused(BYTES(0x9f, 0x1f), "truncated length");
	/* Inside a SEQUENCE: a lone tag octet. */
	refused(BYTES(0x30, 0x01, 0x02), "truncated header");
}
END_TEST

START_TEST(refuses_trailing_bytes)
{
	refused(BYTES(0x05, 0x00, 0x00), "trailing bytes");
	refused(BYTES(0x30, 0x00, 0x30, 0x00), "trailing bytes");
}
END_TEST

START_TEST(refuses_bad_boolean)
{
	refused(BYTES(0x01, 0x01, 0x01), "X.690 11.1");
	refused(BYTES(0x01, 0x01, 0x7f), "BOOLEAN");
	refused(BYTES(0x01, 0x02, 0x00, 0xff), "BOOLEAN");
	refused(BYTES(0x01, 0x00), "BOOLEAN");
	refused(BYTES(0x21, 0x03, 0x01, 0x01, 0xff), "BOOLEAN");
}
END_TEST

START_TEST(refuses_nonminimal_integer)
{
	refused(BYTES(0x02, 0x02, 0x00, 0x01), "X.690 8.3.2: INTEGER not minimal");
	refused(BYTES(0x02, 0x02, 0xff, 0x80), "X.690 8.3.2: INTEGER not minimal");
	refused(BYTES(0x02, 0x03, 0x00, 0x00, 0x80), "INTEGER not minimal");
	refused(BYTES(0x0a, 0x02, 0x00, 0x05), "INTEGER not minimal");
	/* Deep inside: the rule holds at every depth. */
	refused(BYTES(0x30, 0x06, 0x30, 0x04, 0x02, 0x02, 0x00, 0x01), "INTEGER not minimal");
}
END_TEST

START_TEST(refuses_empty_integer)
{
	refused(BYTES(0x02, 0x00), "X.690 8.3.1");
	refused(BYTES(0x22, 0x03, 0x02, 0x01, 0x01), "INTEGER must be primitive");
}
END_TEST

START_TEST(refuses_constructed_strings)
{
	/* OCTET STRING, BIT STRING, UTF8String, PrintableString, IA5String in constructed form. */
	refused(BYTES(0x24, 0x03, 0x04, 0x01, 0x00), "X.690 10.2: constructed string");
	refused(BYTES(0x24, 0x00), "constructed string");
	refused(BYTES(0x23, 0x04, 0x03, 0x02, 0x00, 0x00), "BIT STRING");
	refused(BYTES(0x2c, 0x03, 0x0c, 0x01, 'a'), "constructed string");
	refused(BYTES(0x33, 0x03, 0x13, 0x01, 'a'), "constructed string");
	refused(BYTES(0x36, 0x03, 0x16, 0x01, 'a'), "constructed string");
}
END_TEST

START_TEST(refuses_bad_bit_string)
{
	refused(BYTES(0x03, 0x02, 0x07, 0x81), "X.690 11.2.1: unused BIT STRING bits must be zero");
	refused(BYTES(0x03, 0x02, 0x01, 0x01), "unused BIT STRING bits");
	refused(BYTES(0x03, 0x02, 0x08, 0x00), "bad BIT STRING");	/* unused > 7 */
	refused(BYTES(0x03, 0x01, 0x03), "bad BIT STRING");		/* unused bits, no octet */
	refused(BYTES(0x03, 0x00), "bad BIT STRING");
}
END_TEST

START_TEST(refuses_null_with_content)
{
	refused(BYTES(0x05, 0x01, 0x00), "X.690 8.8: NULL must be empty");
	refused(BYTES(0x25, 0x00), "NULL must be empty");
}
END_TEST

START_TEST(refuses_bad_oid)
{
	/* 0x80 as the first octet of a subidentifier: a leading zero in base 128. */
	refused(BYTES(0x06, 0x03, 0x2a, 0x80, 0x01), "X.690 8.19.2: OID subidentifier not minimal");
	refused(BYTES(0x06, 0x02, 0x80, 0x01), "OID subidentifier not minimal");
}
END_TEST

START_TEST(accepts_oid_inner_0x80)
{
	/* 0x80 after a continuation octet is a zero digit, not padding: 1.2.16384. */
	accepted(BYTES(0x06, 0x04, 0x2a, 0x81, 0x80, 0x00), "OID 1.2.16384");
	refused(BYTES(0x06, 0x00), "bad OBJECT IDENTIFIER");
	refused(BYTES(0x06, 0x02, 0x2a, 0x81), "bad OBJECT IDENTIFIER");	/* unfinished */
}
END_TEST

/* n nested SEQUENCEs, the innermost empty, into buf; returns the length. */
static size_t
nested(unsigned char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		buf[2 * i] = 0x30;
		buf[2 * i + 1] = (unsigned char)(2 * (n - i - 1));
	}
	return 2 * n;
}

START_TEST(refuses_depth_beyond_limit)
{
	unsigned char buf[2 * (TSA_MAX_DER_DEPTH + 4)];
	size_t len;

	/* TSA_MAX_DER_DEPTH nested constructed values pass; one more is refused. */
	len = nested(buf, TSA_MAX_DER_DEPTH);
	accepted(buf, len, "nesting at the limit");
	len = nested(buf, TSA_MAX_DER_DEPTH + 1);
	refused(buf, len, "nesting deeper than the limit");
	len = nested(buf, TSA_MAX_DER_DEPTH + 4);
	refused(buf, len, "nesting deeper");
}
END_TEST

START_TEST(refuses_high_tag_form_for_low_tag)
{
	refused(BYTES(0x9f, 0x05, 0x00), "X.690 8.1.2.4: high tag form for a low tag number");
	refused(BYTES(0x1f, 0x02, 0x01, 0x00), "high tag form for a low tag");
	refused(BYTES(0x9f, 0x80, 0x1f, 0x00), "tag number not minimal");
	/* Five octets of tag number: beyond what we accept. */
	refused(BYTES(0x9f, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00), "tag number too long");
}
END_TEST

START_TEST(refuses_generalized_time_trailing_zero)
{
	refused(BYTES(0x18, 0x13, '2', '0', '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', '0',
	    '5', '.', '1', '2', '0', 'Z'), "no trailing zero");
	/* A bare decimal point is a fraction of nothing. */
	refused(BYTES(0x18, 0x10, '2', '0', '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', '0',
	    '5', '.', 'Z'), "no trailing zero");
	/* Local time, or a constructed time: not DER. */
	refused(BYTES(0x18, 0x0e, '2', '0', '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', '0',
	    '5'), "Z (UTCTime)");
	refused(BYTES(0x17, 0x0c, '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', '0', '5'),
	    "Z (UTCTime)");
	refused(BYTES(0x38, 0x00), "time must be primitive");
}
END_TEST

START_TEST(refuses_other_forms)
{
	refused(BYTES(0x10, 0x00), "X.690 8.9: SEQUENCE and SET must be constructed");
	refused(BYTES(0x11, 0x00), "SEQUENCE and SET must be constructed");
	refused(BYTES(0x30, 0x02, 0x00, 0x00), "end-of-contents");
}
END_TEST

/*
 * X.690 11.7.4: the decimal mark of a DER GeneralizedTime is '.', and 11.7.2: the seconds are
 * always present.  "...05,5Z" (a comma) and "202401020304Z" (no seconds) are refused.
 */
START_TEST(generalized_time_comma_or_no_seconds)
{
	refused(BYTES(0x18, 0x11, '2', '0', '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', '0',
	    '5', ',', '5', 'Z'), "X.690 11.7");
	refused(BYTES(0x18, 0x0d, '2', '0', '2', '4', '0', '1', '0', '2', '0', '3', '0', '4', 'Z'),
	    "X.690 11.7");
}
END_TEST

/* ---- der_tlv_len -------------------------------------------------------------------------- */

START_TEST(tlv_len_good)
{
	/* The first TLV only: what follows it is not its business. */
	ck_assert_uint_eq(der_tlv_len(BYTES(0x30, 0x03, 0x02, 0x01, 0x01, 0xde, 0xad)), 5);
	ck_assert_uint_eq(der_tlv_len(BYTES(0x05, 0x00)), 2);
	ck_assert_uint_eq(der_tlv_len(BYTES(0x9f, 0x81, 0x49, 0x01, 0x00)), 5);
	/* It reads the header only: a bad INTEGER inside is der_check's business. */
	ck_assert_uint_eq(der_tlv_len(BYTES(0x02, 0x02, 0x00, 0x01)), 4);
	{
		unsigned char buf[3 + 200];

		memset(buf, 0, sizeof(buf));
		buf[0] = 0x04; buf[1] = 0x81; buf[2] = 200;
		ck_assert_uint_eq(der_tlv_len(buf, sizeof(buf)), sizeof(buf));
		ck_assert_uint_eq(der_tlv_len(buf, sizeof(buf) - 1), 0);
	}
}
END_TEST

START_TEST(tlv_len_bad)
{
	ck_assert_uint_eq(der_tlv_len(B(0x30), 0), 0);
	ck_assert_uint_eq(der_tlv_len(BYTES(0x30)), 0);
	ck_assert_uint_eq(der_tlv_len(BYTES(0x30, 0x80, 0x00, 0x00)), 0);
	ck_assert_uint_eq(der_tlv_len(BYTES(0x04, 0x05, 0x00)), 0);
	ck_assert_uint_eq(der_tlv_len(BYTES(0x04, 0x81, 0x05, 1, 2, 3, 4, 5)), 0);
	ck_assert_uint_eq(der_tlv_len(BYTES(0x04, 0x82, 0x00, 0x05, 1, 2, 3, 4, 5)), 0);
	ck_assert_uint_eq(der_tlv_len(BYTES(0x9f, 0x05, 0x00)), 0);
	ck_assert_uint_eq(der_tlv_len(BYTES(0x04, 0x84, 0x01)), 0);
}
END_TEST

/* ---- the writer ----------------------------------------------------------------------------- */

/* The writer's output of o equals want; o is finished. */
static void
out_is(struct der_out *o, const unsigned char *want, size_t wantlen, const char *what)
{
	unsigned char *p = NULL;
	size_t len = 0;
	const char *why = NULL;

	ck_assert_msg(der_out_finish(o, &p, &len) == 0, "%s: writer failed", what);
	ck_assert_msg(len == wantlen && memcmp(p, want, len) == 0, "%s: wrong bytes", what);
	ck_assert_msg(der_check(p, len, &why) == 0, "%s: not DER: %s", what, why);
	free(p);
}

START_TEST(writer_oids_as_libtasn1)
{
	static const char *oids[] = {
		"1.2", "0.0", "2.999", "2.5.4.3", "1.2.840.113549.1.7.2", "1.2.840.10045.4.3.2",
		"2.16.840.1.101.3.4.2.1", "1.3.6.1.4.1.4294967295", "1.2.128.16383.16384",
		"1.2.840.113549.1.9.16.2.47",
	};
	size_t i, len;
	unsigned char *want;
	struct der_out o;

	ck_assert_int_eq(tsa_asn1_init(), 0);
	for (i = 0; i < sizeof(oids) / sizeof(oids[0]); i++) {
		ck_assert_int_eq(tsa_asn1_encode_value("TSA.ObjectIdentifier", oids[i], 0, &want,
		    &len), 0);
		der_out_init(&o);
		der_out_oid(&o, oids[i]);
		out_is(&o, want, len, oids[i]);
		free(want);
	}
}
END_TEST

START_TEST(writer_refuses_bad_oids)
{
	static const char *bad[] = {
		"", "1", "3.1", "1.40", "0.40", "1.2.", ".1.2", "1..2", "1.02", "1.2.a", "1.2 ",
		"-1.2", "1.2.4294967296", "1.2.99999999999999999999",
	};
	unsigned char *p;
	size_t i, len;
	struct der_out o;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		der_out_init(&o);
		der_out_oid(&o, bad[i]);
		ck_assert_msg(der_out_finish(&o, &p, &len) == -1, "'%s' accepted", bad[i]);
	}
}
END_TEST

START_TEST(writer_integers)
{
	struct der_out o;

	der_out_init(&o);
	der_out_integer(&o, B(0x00, 0x00, 0x7f), 3);
	out_is(&o, BYTES(0x02, 0x01, 0x7f), "leading zeros dropped");
	der_out_init(&o);
	der_out_integer(&o, B(0x00, 0x80), 2);
	out_is(&o, BYTES(0x02, 0x02, 0x00, 0x80), "positive 128 keeps its zero");
	der_out_init(&o);
	der_out_integer(&o, B(0xff, 0xff, 0x80), 3);
	out_is(&o, BYTES(0x02, 0x01, 0x80), "-128");
	der_out_init(&o);
	der_out_integer(&o, B(0xff, 0x7f), 2);
	out_is(&o, BYTES(0x02, 0x02, 0xff, 0x7f), "-129");
	der_out_init(&o);
	der_out_integer(&o, B(0x00), 1);
	out_is(&o, BYTES(0x02, 0x01, 0x00), "zero");
}
END_TEST

START_TEST(writer_lengths_and_nesting)
{
	static unsigned char big[70000], want[70000 + 16];
	size_t sizes[] = { 0, 127, 128, 255, 256, 65535, 65536 }, i, h;
	struct der_out o;
	size_t m;

	memset(big, 0xab, sizeof(big));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		/* SEQUENCE { OCTET STRING n } built by closing a mark. */
		der_out_init(&o);
		m = der_out_open(&o);
		der_out_tlv(&o, 0x04, big, n);
		der_out_close(&o, m, 0x30);
		h = n < 128 ? 2 : n < 256 ? 3 : n < 65536 ? 4 : 5;
		want[0] = 0x30;
		if (n + h < 128)
			want[1] = (unsigned char)(n + h), m = 2;
		else if (n + h < 256)
			want[1] = 0x81, want[2] = (unsigned char)(n + h), m = 3;
		else if (n + h < 65536)
			want[1] = 0x82, want[2] = (unsigned char)((n + h) >> 8),
			    want[3] = (unsigned char)(n + h), m = 4;
		else
			want[1] = 0x83, want[2] = (unsigned char)((n + h) >> 16),
			    want[3] = (unsigned char)((n + h) >> 8), want[4] = (unsigned char)(n + h),
			    m = 5;
		want[m] = 0x04;
		if (n < 128)
			want[m + 1] = (unsigned char)n;
		else if (n < 256)
			want[m + 1] = 0x81, want[m + 2] = (unsigned char)n;
		else if (n < 65536)
			want[m + 1] = 0x82, want[m + 2] = (unsigned char)(n >> 8),
			    want[m + 3] = (unsigned char)n;
		else
			want[m + 1] = 0x83, want[m + 2] = (unsigned char)(n >> 16),
			    want[m + 3] = (unsigned char)(n >> 8), want[m + 4] = (unsigned char)n;
		memcpy(want + m + h, big, n);
		out_is(&o, want, m + h + n, "nested lengths");
	}
}
END_TEST

START_TEST(writer_set_of_order)
{
	struct der_out o;
	size_t m;
	unsigned char *p;
	size_t len;

	/* X.690 11.6: in the order of the encodings, whatever the order written. */
	der_out_init(&o);
	m = der_out_open(&o);
	der_out_raw(&o, B(0x04, 0x02, 0x01, 0x02), 4);
	der_out_raw(&o, B(0x02, 0x01, 0x05), 3);
	der_out_raw(&o, B(0x04, 0x01, 0xff), 3);
	der_out_raw(&o, B(0x04, 0x02, 0x01, 0x01), 4);
	der_out_close_set(&o, m, 0x31);
	out_is(&o, BYTES(0x31, 0x0e, 0x02, 0x01, 0x05, 0x04, 0x01, 0xff, 0x04, 0x02, 0x01, 0x01,
	    0x04, 0x02, 0x01, 0x02), "SET OF sorted");
	/* Not a whole TLV inside: refused, and the failure sticks. */
	der_out_init(&o);
	m = der_out_open(&o);
	der_out_raw(&o, B(0x04, 0x05, 0x01), 3);
	der_out_close_set(&o, m, 0x31);
	der_out_raw(&o, B(0x05, 0x00), 2);
	ck_assert_int_eq(der_out_finish(&o, &p, &len), -1);
	/* More elements than TSA_MAX_SET_ELEMENTS: refused. */
	der_out_init(&o);
	m = der_out_open(&o);
	for (len = 0; len <= TSA_MAX_SET_ELEMENTS; len++)
		der_out_raw(&o, B(0x05, 0x00), 2);
	der_out_close_set(&o, m, 0x31);
	ck_assert_int_eq(der_out_finish(&o, &p, &len), -1);
	/* A mark past the end: refused. */
	der_out_init(&o);
	der_out_close(&o, 5, 0x30);
	ck_assert_int_eq(der_out_finish(&o, &p, &len), -1);
}
END_TEST

static Suite *
der_suite(void)
{
	Suite *s = suite_create("der");

	tl_tcase(s, "accept", 0, accepts_openssl_queries, accepts_small_tlvs, accepts_long_lengths,
	    accepts_oid_inner_0x80, NULL);
	tl_tcase(s, "refuse", 0, refuses_indefinite_length, refuses_nonminimal_length,
	    refuses_length_past_end, refuses_truncated_header, refuses_trailing_bytes,
	    refuses_bad_boolean, refuses_nonminimal_integer, refuses_empty_integer,
	    refuses_constructed_strings, refuses_bad_bit_string, refuses_null_with_content,
	    refuses_bad_oid, refuses_depth_beyond_limit, refuses_high_tag_form_for_low_tag,
	    refuses_generalized_time_trailing_zero, refuses_other_forms, NULL);
	tl_tcase(s, "tlv_len", 0, tlv_len_good, tlv_len_bad, NULL);
	/* Bugs found by these tests, fixed: kept as regressions. */
	tl_tcase(s, "writer", 0, writer_oids_as_libtasn1, writer_refuses_bad_oids, writer_integers,
	    writer_lengths_and_nesting, writer_set_of_order, NULL);
	tl_tcase(s, "regressions", 0, generalized_time_comma_or_no_seconds, NULL);
	return s;
}

int
main(void)
{
	return tl_run(der_suite());
}
