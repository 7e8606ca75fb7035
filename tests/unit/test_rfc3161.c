/*
 * test_rfc3161.c - unit tests of the RFC 3161 codec (src/proto/rfc3161.c).
 * rfc3161_parse: queries made by `openssl ts -query` for every hash we know, with and without
 * nonce, certReq and reqPolicy, read back field by field against what OpenSSL itself says they
 * hold (fixtures/core/queries.txt); malformed requests built here byte by byte, each refused
 * with the failInfo RFC 3161 2.4.2 and the README give it and a detail naming the rule.
 * rfc3161_encode: each rejection and a granted response against DER written out by hand from
 * RFC 3161 2.4.2 and X.690 (cross-checked once with `openssl asn1parse`).
 * Fixtures: tests/unit/fixtures/core (relative to $TSA_SRCDIR, default ".").
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "bytes.h"
#include "rfc3161.h"

#include "testlib.h"

#define B(...)	((const unsigned char[]){ __VA_ARGS__ })
#define N(...)	sizeof((const unsigned char[]){ __VA_ARGS__ })
#define BYTES(...)	B(__VA_ARGS__), N(__VA_ARGS__)

/* OID contents (X.690 8.19) used below. */
#define OID_SHA256	0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01
#define OID_SHA512	0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03
#define OID_MD5		0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05	/* 1.2.840.113549.2.5 */
/* 1.3.6.1.4.1.4146.99.1, the policy of the fixtures: 4146 = 0x20 * 128 + 0x32. */
#define OID_POLICY	0x2b, 0x06, 0x01, 0x04, 0x01, 0xa0, 0x32, 0x63, 0x01
#define POLICY_TEXT	"1.3.6.1.4.1.4146.99.1"

static const char *
srcdir(void)
{
	const char *d = getenv("TSA_SRCDIR");

	return d != NULL && *d != '\0' ? d : ".";
}

static unsigned char *
fixture(const char *name, size_t *len)
{
	char path[1024];
	unsigned char *p = NULL;

	snprintf(path, sizeof(path), "%s/tests/unit/fixtures/core/%s", srcdir(), name);
	ck_assert_msg(file_read(path, 65536, &p, len) == 0, "cannot read fixture %s", path);
	return p;
}

/* ---- a small DER writer for hand-made requests -------------------------------------------- */

struct der {
	unsigned char	p[4096];
	size_t		len;
};

static void
der_add(struct der *d, const void *v, size_t n)
{
	ck_assert_uint_le(d->len + n, sizeof(d->p));
	memcpy(d->p + d->len, v, n);
	d->len += n;
}

/* Appends tag, DER length and value. */
static void
der_tlv(struct der *d, unsigned char tag, const void *v, size_t n)
{
	unsigned char h[4];
	size_t hl = 0;

	h[hl++] = tag;
	if (n < 0x80)
		h[hl++] = (unsigned char)n;
	else if (n < 0x100) {
		h[hl++] = 0x81;
		h[hl++] = (unsigned char)n;
	} else {
		h[hl++] = 0x82;
		h[hl++] = (unsigned char)(n >> 8);
		h[hl++] = (unsigned char)n;
	}
	der_add(d, h, hl);
	der_add(d, v, n);
}

/* Appends the whole of inner as the value of one tag. */
static void
der_wrap(struct der *d, unsigned char tag, const struct der *inner)
{
	der_tlv(d, tag, inner->p, inner->len);
}

/* What a hand-made TimeStampReq holds; zeroed means the sha256 baseline below. */
struct reqspec {
	const unsigned char	*version;	/* INTEGER contents, NULL: 01 */
	size_t			 version_len;
	const unsigned char	*alg;		/* OID contents, NULL: sha256 */
	size_t			 alg_len;
	const unsigned char	*params;	/* whole TLV of the parameters, NULL: absent */
	size_t			 params_len;
	size_t			 imprint_len;	/* 0: 32 */
	int			 policy;
	const unsigned char	*nonce;		/* INTEGER contents, NULL: absent */
	size_t			 nonce_len;
	int			 cert_req;	/* 0 absent, 1 TRUE, -1 an explicit FALSE */
	size_t			 n_ext;
	int			 ext_critical;	/* 0 absent, 1 TRUE, -1 explicit FALSE (first) */
};

static void
build_req(const struct reqspec *s, struct der *out)
{
	static const unsigned char sha256[] = { OID_SHA256 }, policy[] = { OID_POLICY };
	static const unsigned char v1[] = { 0x01 }, t[] = { 0xff }, f[] = { 0x00 };
	struct der alg = { .len = 0 }, mi = { .len = 0 }, body = { .len = 0 };
	struct der exts = { .len = 0 };
	unsigned char imprint[128];
	size_t i, ilen = s->imprint_len ? s->imprint_len : 32;

	for (i = 0; i < sizeof(imprint); i++)
		imprint[i] = (unsigned char)(0xa0 + i);
	der_tlv(&alg, 0x06, s->alg ? s->alg : sha256, s->alg ? s->alg_len : sizeof(sha256));
	if (s->params != NULL)
		der_add(&alg, s->params, s->params_len);
	der_wrap(&mi, 0x30, &alg);
	der_tlv(&mi, 0x04, imprint, ilen);

	der_tlv(&body, 0x02, s->version ? s->version : v1, s->version ? s->version_len : 1);
	der_wrap(&body, 0x30, &mi);
	if (s->policy)
		der_tlv(&body, 0x06, policy, sizeof(policy));
	if (s->nonce != NULL)
		der_tlv(&body, 0x02, s->nonce, s->nonce_len);
	if (s->cert_req != 0)
		der_tlv(&body, 0x01, s->cert_req > 0 ? t : f, 1);
	for (i = 0; i < s->n_ext; i++) {
		/* extnID 1.2.3.(i+1), critical as asked for the first, extnValue 04 00. */
		unsigned char oid[] = { 0x2a, 0x03, (unsigned char)(i + 1) }, empty[] = { 0x05, 0x00 };
		struct der e = { .len = 0 };

		der_tlv(&e, 0x06, oid, sizeof(oid));
		if (i == 0 && s->ext_critical != 0)
			der_tlv(&e, 0x01, s->ext_critical > 0 ? t : f, 1);
		der_tlv(&e, 0x04, empty, sizeof(empty));
		der_wrap(&exts, 0x30, &e);
	}
	if (s->n_ext > 0)
		der_wrap(&body, 0xa0, &exts);
	out->len = 0;
	der_wrap(out, 0x30, &body);
}

/* rfc3161_parse must refuse p with fail and a detail containing `rule`. */
static void
refused(const unsigned char *p, size_t len, enum tsa_fail fail, const char *rule)
{
	struct tsa_request req;
	struct tsa_refusal ref;

	memset(&ref, 0, sizeof(ref));
	ck_assert_msg(rfc3161_parse(p, len, &req, &ref) == -1, "accepted, expected: %s", rule);
	ck_assert_msg(ref.fail == fail, "failInfo %d, expected %d (%s; detail '%s')",
	    (int)ref.fail, (int)fail, rule, ref.detail);
	ck_assert_ptr_nonnull(ref.text);
	ck_assert_msg(strstr(ref.detail, rule) != NULL, "detail '%s' does not name '%s'",
	    ref.detail, rule);
}

static void
refused_spec(const struct reqspec *s, enum tsa_fail fail, const char *rule)
{
	struct der d;

	build_req(s, &d);
	refused(d.p, d.len, fail, rule);
}

static void
parsed_spec(const struct reqspec *s, struct tsa_request *req)
{
	struct tsa_refusal ref;
	struct der d;

	build_req(s, &d);
	memset(&ref, 0, sizeof(ref));
	ck_assert_msg(rfc3161_parse(d.p, d.len, req, &ref) == 0, "refused (%d): %s",
	    (int)ref.fail, ref.detail);
}

/* ---- parse: OpenSSL's queries ----------------------------------------------------------- */

/* The INTEGER contents of the positive number OpenSSL prints in hex (X.690 8.3). */
static size_t
integer_contents(const char *hex, unsigned char *out, size_t max)
{
	char padded[256];
	unsigned char tmp[128];
	size_t n;

	snprintf(padded, sizeof(padded), "%s%s", strlen(hex) % 2 ? "0" : "", hex);
	ck_assert_int_eq(hex_decode(padded, tmp, sizeof(tmp), &n), 0);
	ck_assert_uint_le(n + 1, max);
	if (tmp[0] & 0x80) {
		out[0] = 0x00;
		memcpy(out + 1, tmp, n);
		return n + 1;
	}
	memcpy(out, tmp, n);
	return n;
}

START_TEST(parse_openssl_queries)
{
	char path[1024], line[512];
	unsigned char *data;
	size_t data_len, seen = 0;
	unsigned hashes = 0;
	FILE *f;

	data = fixture("data.txt", &data_len);
	snprintf(path, sizeof(path), "%s/tests/unit/fixtures/core/queries.txt", srcdir());
	ck_assert_msg((f = fopen(path, "r")) != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char file[128], hash[32], imprint[160], nonce[80], policy[128];
		unsigned char want[128], digest[64], *q;
		struct tsa_request req;
		struct tsa_refusal ref;
		size_t qlen, wlen;
		int cert;

		ck_assert_int_eq(sscanf(line, "%127s %31s %159s %79s %127s %d", file, hash,
		    imprint, nonce, policy, &cert), 6);
		q = fixture(file, &qlen);
		memset(&ref, 0, sizeof(ref));
		ck_assert_msg(rfc3161_parse(q, qlen, &req, &ref) == 0, "%s refused: %s", file,
		    ref.detail);
		free(q);

		ck_assert_int_eq(req.protocol, TSA_PROTO_RFC3161);
		ck_assert_ptr_nonnull(req.hash);
		ck_assert_str_eq(req.hash->name, hash);
		ck_assert_str_eq(req.hash_oid, req.hash->oid);
		hashes |= 1u << (unsigned)(req.hash - hash_by_name("sha1"));
		/* OpenSSL writes the NULL parameters (RFC 3370 2.1 allows both). */
		ck_assert_int_eq(req.hash_null_params, 1);
		ck_assert_int_eq(hex_decode(imprint, want, sizeof(want), &wlen), 0);
		ck_assert_uint_eq(req.imprint_len, wlen);
		ck_assert_mem_eq(req.imprint, want, wlen);
		/* And the imprint is the digest of data.txt, by GnuTLS this time. */
		ck_assert_int_eq(gnutls_hash_fast(req.hash->gnutls, data, data_len, digest), 0);
		ck_assert_mem_eq(req.imprint, digest, req.hash->len);

		if (strcmp(nonce, "-") == 0) {
			ck_assert_int_eq(req.has_nonce, 0);
			ck_assert_uint_eq(req.nonce_len, 0);
		} else {
			wlen = integer_contents(nonce, want, sizeof(want));
			ck_assert_int_eq(req.has_nonce, 1);
			ck_assert_uint_eq(req.nonce_len, wlen);
			ck_assert_mem_eq(req.nonce, want, wlen);
		}
		if (strcmp(policy, "-") == 0)
			ck_assert_int_eq(req.has_req_policy, 0);
		else {
			ck_assert_int_eq(req.has_req_policy, 1);
			ck_assert_str_eq(req.req_policy, policy);
		}
		ck_assert_int_eq(req.cert_req, cert);
		ck_assert_uint_eq(req.n_ext, 0);
		seen++;
	}
	fclose(f);
	free(data);
	ck_assert_uint_eq(seen, 19);
	ck_assert_uint_eq(hashes, 0xff);	/* all eight algorithms */
}
END_TEST

START_TEST(parse_absent_params)
{
	struct reqspec s = { .nonce = B(0x01, 0x02, 0x03), .nonce_len = 3, .policy = 1,
	    .cert_req = 1 };
	struct tsa_request req;
	size_t i;

	parsed_spec(&s, &req);
	ck_assert_str_eq(req.hash->name, "sha256");
	ck_assert_int_eq(req.hash_null_params, 0);
	ck_assert_uint_eq(req.imprint_len, 32);
	for (i = 0; i < 32; i++)
		ck_assert_uint_eq(req.imprint[i], 0xa0 + i);
	ck_assert_int_eq(req.has_nonce, 1);
	ck_assert_uint_eq(req.nonce_len, 3);
	ck_assert_mem_eq(req.nonce, B(0x01, 0x02, 0x03), 3);
	ck_assert_str_eq(req.req_policy, POLICY_TEXT);
	ck_assert_int_eq(req.cert_req, 1);

	/* NULL parameters are remembered, to be echoed in the TSTInfo. */
	s.params = B(0x05, 0x00);
	s.params_len = 2;
	parsed_spec(&s, &req);
	ck_assert_int_eq(req.hash_null_params, 1);
}
END_TEST

START_TEST(parse_nonce_limits)
{
	unsigned char nonce[TSA_MAX_NONCE + 1];
	struct reqspec s = { .nonce = nonce };
	struct tsa_request req;

	memset(nonce, 0x5a, sizeof(nonce));
	/* Exactly TSA_MAX_NONCE octets: accepted, echoed whole. */
	s.nonce_len = TSA_MAX_NONCE;
	parsed_spec(&s, &req);
	ck_assert_uint_eq(req.nonce_len, TSA_MAX_NONCE);
	ck_assert_mem_eq(req.nonce, nonce, TSA_MAX_NONCE);
	/* Nonce 0 and a one-octet nonce. */
	s.nonce = B(0x00);
	s.nonce_len = 1;
	parsed_spec(&s, &req);
	ck_assert_int_eq(req.has_nonce, 1);
	ck_assert_uint_eq(req.nonce_len, 1);
	ck_assert_uint_eq(req.nonce[0], 0);
}
END_TEST

START_TEST(parse_extensions)
{
	struct reqspec s = { .n_ext = 2, .ext_critical = 1 };
	struct tsa_request req;

	parsed_spec(&s, &req);
	ck_assert_uint_eq(req.n_ext, 2);
	ck_assert_str_eq(req.ext[0].oid, "1.2.3.1");
	ck_assert_int_eq(req.ext[0].critical, 1);
	ck_assert_str_eq(req.ext[1].oid, "1.2.3.2");
	ck_assert_int_eq(req.ext[1].critical, 0);

	/* TSA_MAX_EXTENSIONS is still read; the policy decides whether to accept them. */
	s.n_ext = TSA_MAX_EXTENSIONS;
	s.ext_critical = 0;
	parsed_spec(&s, &req);
	ck_assert_uint_eq(req.n_ext, TSA_MAX_EXTENSIONS);
	ck_assert_str_eq(req.ext[TSA_MAX_EXTENSIONS - 1].oid, "1.2.3.8");
	ck_assert_int_eq(req.ext[0].critical, 0);
}
END_TEST

/* ---- parse: refusals ------------------------------------------------------------------------ */

START_TEST(refuse_version)
{
	struct reqspec s = { .version = B(0x02), .version_len = 1 };

	refused_spec(&s, TSA_FAIL_BAD_REQUEST, "RFC 3161 2.4.1: version must be 1");
	s.version = B(0x00);
	refused_spec(&s, TSA_FAIL_BAD_REQUEST, "version must be 1");
	s.version = B(0x01, 0x01);	/* 257 */
	s.version_len = 2;
	refused_spec(&s, TSA_FAIL_BAD_REQUEST, "version must be 1");
	s.version = B(0xff);		/* -1 */
	s.version_len = 1;
	refused_spec(&s, TSA_FAIL_BAD_REQUEST, "version must be 1");
}
END_TEST

START_TEST(refuse_unknown_hash)
{
	struct reqspec s = { .alg = B(OID_MD5), .alg_len = N(OID_MD5), .imprint_len = 16 };

	refused_spec(&s, TSA_FAIL_BAD_ALG, "unknown hash algorithm 1.2.840.113549.2.5");
	/* sha256WithRSAEncryption is not a digest either. */
	s.alg = B(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b);
	s.alg_len = 9;
	s.imprint_len = 32;
	refused_spec(&s, TSA_FAIL_BAD_ALG, "unknown hash algorithm 1.2.840.113549.1.1.11");
}
END_TEST

START_TEST(refuse_hash_params)
{
	struct reqspec s = { .params = B(0x04, 0x00), .params_len = 2 };

	refused_spec(&s, TSA_FAIL_BAD_ALG, "hash algorithm parameters must be absent or NULL");
	s.params = B(0x02, 0x01, 0x00);
	s.params_len = 3;
	refused_spec(&s, TSA_FAIL_BAD_ALG, "parameters must be absent or NULL");
	s.params = B(0x30, 0x02, 0x05, 0x00);
	s.params_len = 4;
	refused_spec(&s, TSA_FAIL_BAD_ALG, "parameters must be absent or NULL");
}
END_TEST

START_TEST(refuse_imprint_length)
{
	struct reqspec s = { .imprint_len = 31 };

	refused_spec(&s, TSA_FAIL_BAD_DATA_FORMAT, "RFC 3161 2.4.1: sha256 imprint must be 32");
	s.imprint_len = 33;
	refused_spec(&s, TSA_FAIL_BAD_DATA_FORMAT, "sha256 imprint must be 32 octets");
	s.imprint_len = 64;	/* a sha512 imprint under the sha256 OID */
	refused_spec(&s, TSA_FAIL_BAD_DATA_FORMAT, "sha256 imprint must be 32 octets");
	/* Longer than any digest: past the buffer, still the same refusal. */
	s.alg = B(OID_SHA512);
	s.alg_len = N(OID_SHA512);
	s.imprint_len = 65;
	refused_spec(&s, TSA_FAIL_BAD_DATA_FORMAT, "sha512 imprint must be 64 octets");
	s.imprint_len = 100;
	refused_spec(&s, TSA_FAIL_BAD_DATA_FORMAT, "sha512 imprint must be 64 octets");
}
END_TEST

START_TEST(refuse_explicit_default)
{
	struct reqspec s = { .cert_req = -1 };

	refused_spec(&s, TSA_FAIL_BAD_DATA_FORMAT,
	    "X.690 11.5: certReq FALSE is the DEFAULT and must be absent");
	s.cert_req = 0;
	s.n_ext = 1;
	s.ext_critical = -1;
	refused_spec(&s, TSA_FAIL_BAD_DATA_FORMAT, "X.690 11.5: extensions.?1.critical FALSE");
}
END_TEST

START_TEST(refuse_long_nonce)
{
	unsigned char nonce[TSA_MAX_NONCE + 8];
	struct reqspec s = { .nonce = nonce, .nonce_len = TSA_MAX_NONCE + 1 };

	memset(nonce, 0x11, sizeof(nonce));
	refused_spec(&s, TSA_FAIL_BAD_DATA_FORMAT, "nonce longer than 32 octets");
	s.nonce_len = sizeof(nonce);
	refused_spec(&s, TSA_FAIL_BAD_DATA_FORMAT, "nonce longer than 32 octets");
}
END_TEST

START_TEST(refuse_too_many_extensions)
{
	struct reqspec s = { .n_ext = TSA_MAX_EXTENSIONS + 1 };

	refused_spec(&s, TSA_FAIL_UNACCEPTED_EXTENSION, "9 extensions, more than 8");
}
END_TEST

START_TEST(refuse_garbage)
{
	static const char text[] = "POST / HTTP/1.1\r\n";
	struct der d;

	refused((const unsigned char *)text, sizeof(text) - 1, TSA_FAIL_BAD_DATA_FORMAT, "X.690");
	refused(B(0x00), 0, TSA_FAIL_BAD_DATA_FORMAT, "empty");
	/* DER, but not a TimeStampReq. */
	refused(BYTES(0x30, 0x03, 0x02, 0x01, 0x01), TSA_FAIL_BAD_DATA_FORMAT,
	    "does not match the ASN.1");
	refused(BYTES(0x02, 0x01, 0x01), TSA_FAIL_BAD_DATA_FORMAT, "does not match the ASN.1");
	/* BER: the baseline with its outer length in the long form. */
	{
		struct reqspec s = { .version = NULL };
		unsigned char ber[sizeof(d.p) + 1];

		build_req(&s, &d);
		ck_assert_uint_lt(d.p[1], 0x80);
		ber[0] = 0x30;
		ber[1] = 0x81;
		memcpy(ber + 2, d.p + 1, d.len - 1);
		refused(ber, d.len + 1, TSA_FAIL_BAD_DATA_FORMAT, "X.690 10.1");
	}
}
END_TEST

START_TEST(refuse_truncated_and_trailing)
{
	unsigned char *q, buf[256];
	size_t len;

	q = fixture("q-sha256-full.tsq", &len);
	ck_assert_uint_lt(len, sizeof(buf));
	refused(q, len - 1, TSA_FAIL_BAD_DATA_FORMAT, "past the end");
	refused(q, 1, TSA_FAIL_BAD_DATA_FORMAT, "truncated header");
	memcpy(buf, q, len);
	buf[len] = 0x00;
	refused(buf, len + 1, TSA_FAIL_BAD_DATA_FORMAT, "trailing bytes");
	free(q);
}
END_TEST

/*
 * libtasn1 decodes an empty SEQUENCE (30 00) as any SEQUENCE type with every component unset,
 * mandatory ones included: rfc3161_parse checks that the mandatory fields are there.
 */
START_TEST(empty_sequence_is_bad_data_format)
{
	/* TimeStampReq ::= SEQUENCE {} */
	refused(BYTES(0x30, 0x00), TSA_FAIL_BAD_DATA_FORMAT, "RFC 3161 2.4.1: version and messageImprint are mandatory");
	/* version 1, messageImprint SEQUENCE {} */
	refused(BYTES(0x30, 0x05, 0x02, 0x01, 0x01, 0x30, 0x00), TSA_FAIL_BAD_DATA_FORMAT,
	    "RFC 3161 2.4.1: version and messageImprint are mandatory");
	/* version 1, messageImprint { AlgorithmIdentifier {}, OCTET STRING {} } */
	refused(BYTES(0x30, 0x09, 0x02, 0x01, 0x01, 0x30, 0x04, 0x30, 0x00, 0x04, 0x00),
	    TSA_FAIL_BAD_DATA_FORMAT, "RFC 3161 2.4.1: version and messageImprint are mandatory");
}
END_TEST

/* ---- encode ---------------------------------------------------------------------------------- */

/* rfc3161_encode's output must be exactly want. */
static void
encoded(const unsigned char *token, size_t token_len, const struct tsa_refusal *ref,
    int status_text, const unsigned char *want, size_t want_len)
{
	unsigned char *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(rfc3161_encode(token, token_len, ref, status_text, &out, &len), 0);
	ck_assert_ptr_nonnull(out);
	if (len != want_len || memcmp(out, want, len) != 0) {
		char got[1024];

		hex_encode(out, len < 500 ? len : 500, got, sizeof(got));
		ck_abort_msg("encoded %s (%zu octets), expected %zu octets", got, len, want_len);
	}
	free(out);
}

static void
rejection(enum tsa_fail fail, const unsigned char *want, size_t want_len)
{
	struct tsa_refusal ref;

	tsa_refuse(&ref, fail, "bad", NULL);
	encoded(NULL, 0, &ref, 0, want, want_len);
}

/*
 * TimeStampResp { PKIStatusInfo { status rejection(2), failInfo BIT STRING } }: one named bit,
 * DER drops the trailing zero bits (X.690 11.2.2), so the bit is the last one and the unused
 * count is 7 - bit % 8.
 */
START_TEST(encode_each_failinfo)
{
	/* badAlg, bit 0: 03 02 07 80 */
	rejection(TSA_FAIL_BAD_ALG,
	    BYTES(0x30, 0x09, 0x30, 0x07, 0x02, 0x01, 0x02, 0x03, 0x02, 0x07, 0x80));
	/* badRequest, bit 2: 03 02 05 20 */
	rejection(TSA_FAIL_BAD_REQUEST,
	    BYTES(0x30, 0x09, 0x30, 0x07, 0x02, 0x01, 0x02, 0x03, 0x02, 0x05, 0x20));
	/* badDataFormat, bit 5: 03 02 02 04 */
	rejection(TSA_FAIL_BAD_DATA_FORMAT,
	    BYTES(0x30, 0x09, 0x30, 0x07, 0x02, 0x01, 0x02, 0x03, 0x02, 0x02, 0x04));
	/* timeNotAvailable, bit 14: 03 03 01 00 02 */
	rejection(TSA_FAIL_TIME_NOT_AVAILABLE,
	    BYTES(0x30, 0x0a, 0x30, 0x08, 0x02, 0x01, 0x02, 0x03, 0x03, 0x01, 0x00, 0x02));
	/* unacceptedPolicy, bit 15: 03 03 00 00 01 */
	rejection(TSA_FAIL_UNACCEPTED_POLICY,
	    BYTES(0x30, 0x0a, 0x30, 0x08, 0x02, 0x01, 0x02, 0x03, 0x03, 0x00, 0x00, 0x01));
	/* unacceptedExtension, bit 16: 03 04 07 00 00 80 */
	rejection(TSA_FAIL_UNACCEPTED_EXTENSION,
	    BYTES(0x30, 0x0b, 0x30, 0x09, 0x02, 0x01, 0x02, 0x03, 0x04, 0x07, 0x00, 0x00, 0x80));
	/* addInfoNotAvailable, bit 17: 03 04 06 00 00 40 */
	rejection(TSA_FAIL_ADD_INFO_NOT_AVAILABLE,
	    BYTES(0x30, 0x0b, 0x30, 0x09, 0x02, 0x01, 0x02, 0x03, 0x04, 0x06, 0x00, 0x00, 0x40));
	/* systemFailure, bit 25: 03 05 06 00 00 00 40 */
	rejection(TSA_FAIL_SYSTEM_FAILURE,
	    BYTES(0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x02, 0x03, 0x05, 0x06, 0x00, 0x00, 0x00,
	    0x40));
}
END_TEST

START_TEST(encode_status_text)
{
	struct tsa_refusal ref;

	/* statusString PKIFreeText = SEQUENCE OF UTF8String, between status and failInfo. */
	tsa_refuse(&ref, TSA_FAIL_BAD_ALG, "bad", "not shown: %d", 1);
	encoded(NULL, 0, &ref, 1, BYTES(0x30, 0x10, 0x30, 0x0e, 0x02, 0x01, 0x02,
	    0x30, 0x05, 0x0c, 0x03, 'b', 'a', 'd',
	    0x03, 0x02, 0x07, 0x80));
	/* The text rfc3161_parse gives an unknown hash: 26 characters. */
	tsa_refuse(&ref, TSA_FAIL_BAD_ALG, "unsupported hash algorithm", NULL);
	encoded(NULL, 0, &ref, 1, BYTES(0x30, 0x27, 0x30, 0x25, 0x02, 0x01, 0x02,
	    0x30, 0x1c, 0x0c, 0x1a, 'u', 'n', 's', 'u', 'p', 'p', 'o', 'r', 't', 'e', 'd', ' ',
	    'h', 'a', 's', 'h', ' ', 'a', 'l', 'g', 'o', 'r', 'i', 't', 'h', 'm',
	    0x03, 0x02, 0x07, 0x80));
	/* The detail never reaches the client. */
	tsa_refuse(&ref, TSA_FAIL_SYSTEM_FAILURE, "x", "secret database error");
	encoded(NULL, 0, &ref, 1, BYTES(0x30, 0x11, 0x30, 0x0f, 0x02, 0x01, 0x02,
	    0x30, 0x03, 0x0c, 0x01, 'x', 0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40));
}
END_TEST

START_TEST(encode_granted)
{
	/* A stand-in token: any DER value is carried verbatim as timeStampToken. */
	static const unsigned char token[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
	unsigned char big[4 + 300];
	unsigned char *out = NULL;
	size_t len = 0;

	/* PKIStatusInfo { granted(0) } and the token; no failInfo. */
	encoded(token, sizeof(token), NULL, 0, BYTES(0x30, 0x0a, 0x30, 0x03, 0x02, 0x01, 0x00,
	    0x30, 0x03, 0x02, 0x01, 0x07));
	/* statusString "Operation Okay" (14 octets) when asked. */
	encoded(token, sizeof(token), NULL, 1, BYTES(0x30, 0x1c, 0x30, 0x15, 0x02, 0x01, 0x00,
	    0x30, 0x10, 0x0c, 0x0e, 'O', 'p', 'e', 'r', 'a', 't', 'i', 'o', 'n', ' ', 'O', 'k',
	    'a', 'y', 0x30, 0x03, 0x02, 0x01, 0x07));

	/* A 304-octet token (04 82 01 2c and 300 octets): the response is 30 82 01 35. */
	memset(big, 0x61, sizeof(big));
	big[0] = 0x04; big[1] = 0x82; big[2] = 0x01; big[3] = 0x2c;
	ck_assert_int_eq(rfc3161_encode(big, sizeof(big), NULL, 0, &out, &len), 0);
	ck_assert_uint_eq(len, 4 + 5 + sizeof(big));
	ck_assert_mem_eq(out, B(0x30, 0x82, 0x01, 0x35, 0x30, 0x03, 0x02, 0x01, 0x00), 9);
	ck_assert_mem_eq(out + 9, big, sizeof(big));
	free(out);
}
END_TEST

/* libtasn1 does not enforce Extensions SIZE (1..MAX): an empty [0] is refused by the codec. */
START_TEST(empty_extensions_refused)
{
	static const unsigned char q[] = {
		0x30, 0x38, 0x02, 0x01, 0x01, 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
		0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20, 0x58, 0x91, 0xb5, 0xb5,
		0x22, 0xd5, 0xdf, 0x08, 0x6d, 0x0f, 0xf0, 0xb1, 0x10, 0xfb, 0xd9, 0xd2, 0x1b, 0xb4,
		0xfc, 0x71, 0x63, 0xaf, 0x34, 0xd0, 0x82, 0x86, 0xa2, 0xe8, 0x46, 0xf6, 0xbe, 0x03,
		0xa0, 0x00,
	};

	refused(q, sizeof(q), TSA_FAIL_BAD_DATA_FORMAT, "at least one");
}
END_TEST

/* libtasn1 cuts an OID's text at 127 characters: an 81-arc reqPolicy must not be read as a
 * shorter, different OID. */
START_TEST(overlong_oid_refused)
{
	unsigned char q[256];
	size_t n = 0, i;

	q[n++] = 0x30; q[n++] = 0x81; q[n++] = 0xd8;
	memcpy(q + n, "\x02\x01\x01\x30\x2f\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04"
	    "\x02\x01\x04\x20", 20);
	n += 20;
	memset(q + n, 0xab, 32);
	n += 32;
	q[n++] = 0x06; q[n++] = 0x81; q[n++] = 0xa1; q[n++] = 0x2a;
	for (i = 0; i < 80; i++) {
		q[n++] = 0x81;
		q[n++] = 0x01;
	}
	ck_assert_uint_eq(n, 219);
	refused(q, n, TSA_FAIL_UNACCEPTED_POLICY, "overlong reqPolicy");
}
END_TEST

static Suite *
rfc3161_suite(void)
{
	Suite *s = suite_create("rfc3161");

	tl_tcase(s, "parse", 0, parse_openssl_queries, parse_absent_params, parse_nonce_limits,
	    parse_extensions, NULL);
	tl_tcase(s, "refuse", 0, refuse_version, refuse_unknown_hash, refuse_hash_params,
	    refuse_imprint_length, refuse_explicit_default, refuse_long_nonce,
	    refuse_too_many_extensions, refuse_garbage, refuse_truncated_and_trailing, NULL);
	tl_tcase(s, "encode", 0, encode_each_failinfo, encode_status_text, encode_granted, NULL);
	/* Bugs found by these tests, fixed: kept as regressions. */
	tl_tcase(s, "regressions", 0, empty_extensions_refused, overlong_oid_refused,
	    empty_sequence_is_bad_data_format, NULL);
	return s;
}

int
main(void)
{
	return tl_run(rfc3161_suite());
}
