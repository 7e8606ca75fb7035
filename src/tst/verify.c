/*
 * verify.c - verifies an RFC 3161 TimeStampResp or a bare TimeStampToken (see verify.h).
 *
 * Untrusted input: the response or token bytes, every certificate the token carries, and
 * the data given with --data.  The CA file holds the trust anchors the operator chose; the
 * --untrusted file only offers candidate certificates, each of which must still chain.
 *
 * Standards: RFC 3161 2.3 and 2.4.2 (with RFC 5816), RFC 5652 5 and 11 (SignedData, signed
 * attributes), RFC 2634 5.4 and RFC 5035 (ESS signing certificate v1/v2), RFC 4055 and RFC
 * 4056 (RSASSA-PSS), RFC 5758 (ECDSA), RFC 5280 6.1 (path validation, done at genTime).
 *
 * Bytes that are hashed or signed (eContent, signedAttrs, certificates) are always taken as
 * spans of the input through tsa_asn1_span, never re-encoded: a re-encoding could differ
 * from what was signed.  Every input has passed the strict DER gate first.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "asn1.h"
#include "bytes.h"
#include "der.h"
#include "hashalg.h"
#include "signer.h"
#include "tsa_limits.h"
#include "verify.h"

struct vctx {
	const struct verify_opts *o;
	struct verify_result	*r;
	char			*err;
	size_t			 errlen;

	asn1_node		 sdn;		/* SignedData */
	const unsigned char	*sd;		/* its DER, inside the caller's buffer */
	size_t			 sd_len;
	asn1_node		 tstn;		/* TSTInfo */
	const unsigned char	*econtent;	/* the TSTInfo octets (eContent) */
	size_t			 econtent_len;
	const struct hash_alg	*digest;	/* SignerInfo digestAlgorithm */
	const struct hash_alg	*imprint_hash;
	unsigned char		 imprint[TSA_MAX_IMPRINT];
	size_t			 imprint_len;

	gnutls_x509_crt_t	 tok[TSA_MAX_CHAIN + 1];	/* certificates in the token */
	const unsigned char	*tok_der[TSA_MAX_CHAIN + 1];
	size_t			 tok_len[TSA_MAX_CHAIN + 1];
	size_t			 n_tok;
	gnutls_x509_crt_t	*ca;		/* the CA file */
	unsigned		 n_ca;
	gnutls_datum_t		 ca_pem;
	gnutls_x509_crt_t	*extra;		/* the --untrusted file */
	unsigned		 n_extra;

	gnutls_x509_crt_t	 signer;	/* one of the above, not owned here */
	const unsigned char	*signer_der;
	size_t			 signer_der_len;
	gnutls_datum_t		 signer_export;	/* signer_der when it came from a file */
};

static int fail(struct vctx *, const char *, ...) __attribute__((format(printf, 2, 3)));

/* Sets the error message; returns -1 so that callers can `return fail(...)`. */
static int
fail(struct vctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Copies untrusted text for display: C0 controls, DEL and the C1 controls (UTF-8 C2 80 to
 * C2 9F) become \xNN, so that nothing from a token can drive the terminal.  Truncates.
 */
static void
copy_text(char *dst, size_t dstlen, const unsigned char *s, size_t n)
{
	size_t i, o = 0;

	if (dstlen == 0)
		return;
	for (i = 0; i < n && s[i] != '\0'; i++) {
		int esc = s[i] < 0x20 || s[i] == 0x7f ||
		    (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f);

		if (o + (esc ? 4 : 1) >= dstlen)
			break;
		if (esc)
			o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", s[i]);
		else
			dst[o++] = (char)s[i];
	}
	dst[o] = '\0';
}

static void
format_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC",
	    &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

/* The contents of the DER TLV p[0..len) whose tag must be `tag` (input already gated). */
static int
tlv_contents(const unsigned char *p, size_t len, unsigned char tag, const unsigned char **v,
    size_t *vlen)
{
	size_t hdr, n = 0, k, i;

	if (len < 2 || p[0] != tag)
		return -1;
	if (p[1] < 0x80) {
		hdr = 2;
		n = p[1];
	} else {
		k = p[1] & 0x7f;
		if (k == 0 || k > 4 || len < 2 + k)
			return -1;
		for (i = 0; i < k; i++)
			n = n << 8 | p[2 + i];
		hdr = 2 + k;
	}
	if (n != len - hdr)
		return -1;
	*v = p + hdr;
	*vlen = n;
	return 0;
}

/* A non-negative INTEGER field that fits 32 bits.  0, 1 when absent, -1 when not. */
static int
read_uint(asn1_node n, const char *field, unsigned long *v)
{
	unsigned char b[8];
	size_t len, i;
	int rc;

	if ((rc = tsa_asn1_read(n, field, b, sizeof(b), &len)) != 0)
		return rc;
	if (len == 0 || len > 5 || (b[0] & 0x80) != 0 || (len == 5 && b[0] != 0))
		return -1;
	*v = 0;
	for (i = 0; i < len; i++)
		*v = *v << 8 | b[i];
	return 0;
}

/* Two INTEGER contents compared as non-negative values (leading zero octets ignored). */
static int
same_uint(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	while (alen > 1 && a[0] == 0) {
		a++;
		alen--;
	}
	while (blen > 1 && b[0] == 0) {
		b++;
		blen--;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Number of elements of a SET OF / SEQUENCE OF field, at most max.  0 or -1. */
static int
count_elements(struct vctx *c, asn1_node n, const char *field, const char *what, int max,
    int *count)
{
	int rc = asn1_number_of_elements(n, field, count);

	if (rc == ASN1_ELEMENT_NOT_FOUND) {
		*count = 0;
		return 0;
	}
	if (rc != ASN1_SUCCESS)
		return fail(c, "%s: cannot count the elements", what);
	if (*count > max)
		return fail(c, "%s: %d elements, more than the %d this verifier reads", what,
		    *count, max);
	return 0;
}

/* An AlgorithmIdentifier's parameters must be absent or NULL (RFC 5754 2, RFC 3370). */
static int
params_absent_or_null(struct vctx *c, asn1_node n, const unsigned char *der, size_t derlen,
    const char *field, const char *what)
{
	const unsigned char *p;
	size_t len;
	int rc = tsa_asn1_span(n, der, derlen, field, &p, &len);

	if (rc == 1 || (rc == 0 && len == 2 && p[0] == 0x05 && p[1] == 0x00))
		return 0;
	return fail(c, "RFC 5754 2: %s parameters must be absent or NULL", what);
}

/* ---- TimeStampResp ------------------------------------------------------------------------ */

static const char *const status_names[] = {
	"granted", "grantedWithMods", "rejection", "waiting", "revocationWarning",
	"revocationNotification",
};

/* PKIFailureInfo bits, RFC 3161 2.4.2. */
static const struct {
	unsigned	 bit;
	const char	*name;
} fail_bits[] = {
	{ 0, "badAlg" }, { 2, "badRequest" }, { 5, "badDataFormat" },
	{ 14, "timeNotAvailable" }, { 15, "unacceptedPolicy" }, { 16, "unacceptedExtension" },
	{ 17, "addInfoNotAvailable" }, { 25, "systemFailure" },
};

static void
fail_info_text(const unsigned char *bits, size_t nbits, char *out, size_t outlen)
{
	size_t i, j, o = 0;

	out[0] = '\0';
	for (i = 0; i < nbits; i++) {
		const char *name = NULL;
		char other[24];

		if ((bits[i / 8] & (0x80 >> (i % 8))) == 0)
			continue;
		for (j = 0; j < sizeof(fail_bits) / sizeof(fail_bits[0]); j++)
			if (fail_bits[j].bit == i)
				name = fail_bits[j].name;
		if (name == NULL) {
			snprintf(other, sizeof(other), "bit%u", (unsigned)i);
			name = other;
		}
		if (o + strlen(name) + 3 > outlen)
			break;
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", o > 0 ? ", " : "", name);
	}
}

/* RFC 3161 2.4.2: status, then the token (present exactly when granted). */
static int
check_response(struct vctx *c, const unsigned char *der, size_t len, const unsigned char **tok,
    size_t *toklen)
{
	struct verify_result *r = c->r;
	unsigned char bits[8], *text = NULL;
	unsigned long status;
	size_t nbits, text_len;
	asn1_node n = NULL;
	const char *why;
	int rc = -1, has_token;

	if (tsa_asn1_decode("TSA.TimeStampResp", der, len, &n, &why) == -1) {
		fail(c, "RFC 3161 2.4.2: TimeStampResp %s", why);
		goto out;
	}
	if (read_uint(n, "status.status", &status) != 0 ||
	    status >= sizeof(status_names) / sizeof(status_names[0])) {
		fail(c, "RFC 3161 2.4.2: PKIStatus is not one of 0 to 5");
		goto out;
	}
	r->status = (int)status;
	if (tsa_asn1_read_alloc(n, "status.statusString.?1", &text, &text_len) == 0)
		copy_text(r->status_text, sizeof(r->status_text), text, text_len);
	switch (tsa_asn1_read(n, "status.failInfo", bits, sizeof(bits), &nbits)) {
	case 0:
		fail_info_text(bits, nbits, r->fail_info, sizeof(r->fail_info));
		break;
	case 1:
		break;
	default:
		fail(c, "RFC 3161 2.4.2: failInfo longer than %zu bits", sizeof(bits) * 8);
		goto out;
	}
	has_token = tsa_asn1_span(n, der, len, "timeStampToken", tok, toklen) == 0;
	if (status > 1) {
		fail(c, "RFC 3161 2.4.2: time-stamp not granted: status %s (%lu)%s%s%s%s%s",
		    status_names[status], status, r->fail_info[0] ? ", failInfo " : "",
		    r->fail_info, r->status_text[0] ? ", \"" : "", r->status_text,
		    r->status_text[0] ? "\"" : "");
		goto out;
	}
	if (!has_token) {
		fail(c, "RFC 3161 2.4.2: status %s but no timeStampToken", status_names[status]);
		goto out;
	}
	rc = 0;
out:
	free(text);
	asn1_delete_structure(&n);
	return rc;
}

/* ---- ContentInfo and SignedData ----------------------------------------------------------- */

static int
check_signed_data(struct vctx *c, const unsigned char *tok, size_t toklen)
{
	char oid[TSA_MAX_OID_TEXT] = "", path[64];
	const unsigned char *p;
	unsigned long version;
	asn1_node ci = NULL;
	size_t len;
	const char *why;
	int rc = -1, n, i, listed = 0;

	if (tsa_asn1_decode("TSA.ContentInfo", tok, toklen, &ci, &why) == -1) {
		fail(c, "RFC 5652 3: token ContentInfo %s", why);
		goto out;
	}
	if (tsa_asn1_read_oid(ci, "contentType", oid, sizeof(oid)) != 0 ||
	    strcmp(oid, OID_CT_SIGNED_DATA) != 0) {
		fail(c, "RFC 3161 2.4.2: the token's contentType must be id-signedData");
		goto out;
	}
	if (tsa_asn1_span(ci, tok, toklen, "content", &p, &len) != 0 ||
	    tlv_contents(p, len, 0xa0, &c->sd, &c->sd_len) == -1) {
		fail(c, "RFC 5652 3: ContentInfo content [0] missing");
		goto out;
	}
	if (tsa_asn1_decode("TSA.SignedData", c->sd, c->sd_len, &c->sdn, &why) == -1) {
		fail(c, "RFC 5652 5.1: SignedData %s", why);
		goto out;
	}
	/* RFC 5652 5.1: version 3 when eContentType is not id-data (and 4 or 5 only for
	 * attribute certificates or other formats, which a token has no use for). */
	if (read_uint(c->sdn, "version", &version) != 0 || version != 3) {
		fail(c, "RFC 5652 5.1: SignedData version must be 3 for a time-stamp token");
		goto out;
	}
	if (tsa_asn1_read_oid(c->sdn, "encapContentInfo.eContentType", oid, sizeof(oid)) != 0 ||
	    strcmp(oid, OID_CT_TSTINFO) != 0) {
		fail(c, "RFC 3161 2.4.2: eContentType must be id-ct-TSTInfo (is %s)", oid);
		goto out;
	}
	/* eContent [0] EXPLICIT OCTET STRING: the octets are the DER TSTInfo. */
	if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, "encapContentInfo.eContent", &p, &len) != 0) {
		fail(c, "RFC 3161 2.4.2: eContent (the TSTInfo) must be present");
		goto out;
	}
	if (tlv_contents(p, len, 0xa0, &p, &len) == -1 ||
	    tlv_contents(p, len, 0x04, &c->econtent, &c->econtent_len) == -1) {
		fail(c, "RFC 5652 5.2: eContent is not an OCTET STRING");
		goto out;
	}
	if (count_elements(c, c->sdn, "signerInfos", "signerInfos", TSA_MAX_SET_ELEMENTS, &n) == -1)
		goto out;
	if (n != 1) {
		fail(c, "RFC 3161 2.4.2: a token holds exactly one SignerInfo (this one has %d)", n);
		goto out;
	}
	if (tsa_asn1_read_oid(c->sdn, "signerInfos.?1.digestAlgorithm.algorithm", oid,
	    sizeof(oid)) != 0 || (c->digest = hash_by_oid(oid)) == NULL) {
		fail(c, "RFC 5652 5.3: unknown SignerInfo digestAlgorithm %s", oid);
		goto out;
	}
	if (params_absent_or_null(c, c->sdn, c->sd, c->sd_len,
	    "signerInfos.?1.digestAlgorithm.parameters", "digestAlgorithm") == -1)
		goto out;
	if (count_elements(c, c->sdn, "digestAlgorithms", "digestAlgorithms", TSA_MAX_SET_ELEMENTS,
	    &n) == -1)
		goto out;
	for (i = 1; i <= n && !listed; i++) {
		snprintf(path, sizeof(path), "digestAlgorithms.?%d.algorithm", i);
		listed = tsa_asn1_read_oid(c->sdn, path, oid, sizeof(oid)) == 0 &&
		    strcmp(oid, c->digest->oid) == 0;
		snprintf(path, sizeof(path), "digestAlgorithms.?%d.parameters", i);
		if (listed && params_absent_or_null(c, c->sdn, c->sd, c->sd_len, path,
		    "digestAlgorithms") == -1)
			goto out;
	}
	if (!listed) {
		fail(c, "RFC 5652 5.1: digestAlgorithms does not list the SignerInfo's %s",
		    c->digest->name);
		goto out;
	}
	rc = 0;
out:
	asn1_delete_structure(&ci);
	return rc;
}

/* ---- TSTInfo ------------------------------------------------------------------------------ */

/* RFC 3161 2.4.2: YYYYMMDDhhmmss[.s...]Z, UTC; the DER gate already refused trailing zeros. */
static int
parse_gentime(const char *s, time_t *out)
{
	size_t n = strlen(s), i;
	struct tm tm, back;
	int leap;
	time_t t;

	if (n < 15 || s[n - 1] != 'Z')
		return -1;
	for (i = 0; i < 14; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	if (n > 15) {
		if (s[14] != '.' || n < 17)
			return -1;
		for (i = 15; i < n - 1; i++)
			if (!isdigit((unsigned char)s[i]))
				return -1;
	}
#define D2(k) ((s[k] - '0') * 10 + (s[(k) + 1] - '0'))
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = D2(0) * 100 + D2(2) - 1900;
	tm.tm_mon = D2(4) - 1;
	tm.tm_mday = D2(6);
	tm.tm_hour = D2(8);
	tm.tm_min = D2(10);
	tm.tm_sec = D2(12);
#undef D2
	/* A leap second is a real UTC time; it is counted as the second before plus one. */
	leap = tm.tm_sec == 60;
	if (leap)
		tm.tm_sec = 59;
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 59)
		return -1;
	back = tm;
	if ((t = timegm(&tm)) == (time_t)-1 || tm.tm_mday != back.tm_mday ||
	    tm.tm_mon != back.tm_mon)
		return -1;
	*out = t + leap;
	return 0;
}

static int
read_tsa_name(struct vctx *c)
{
	char choice[32];
	unsigned char *v = NULL;
	size_t vlen;
	int len = sizeof(choice), rc;

	rc = asn1_read_value(c->tstn, "tsa", choice, &len);
	if (rc == ASN1_ELEMENT_NOT_FOUND || rc == ASN1_VALUE_NOT_FOUND)
		return 0;
	if (rc != ASN1_SUCCESS || len <= 0 || (size_t)len >= sizeof(choice))
		return fail(c, "RFC 3161 2.4.2: unreadable tsa name");
	choice[len] = '\0';
	if (strcmp(choice, "directoryName") == 0) {
		gnutls_datum_t dn, text = { NULL, 0 };

		if (tsa_asn1_read_alloc(c->tstn, "tsa.directoryName", &v, &vlen) != 0)
			return fail(c, "RFC 3161 2.4.2: unreadable tsa directoryName");
		dn.data = v;
		dn.size = (unsigned)vlen;
		if (gnutls_x509_rdn_get2(&dn, &text, 0) < 0) {
			free(v);
			return fail(c, "RFC 3161 2.4.2: tsa directoryName is not a Name");
		}
		copy_text(c->r->tsa_name, sizeof(c->r->tsa_name), text.data, text.size);
		gnutls_free(text.data);
		free(v);
		return 0;
	}
	if (strcmp(choice, "dNSName") == 0 || strcmp(choice, "rfc822Name") == 0 ||
	    strcmp(choice, "uniformResourceIdentifier") == 0) {
		char field[48];

		snprintf(field, sizeof(field), "tsa.%s", choice);
		if (tsa_asn1_read_alloc(c->tstn, field, &v, &vlen) == 0) {
			char text[sizeof(c->r->tsa_name) - 40];

			copy_text(text, sizeof(text), v, vlen);
			snprintf(c->r->tsa_name, sizeof(c->r->tsa_name), "%s:%s", choice, text);
			free(v);
			return 0;
		}
	}
	snprintf(c->r->tsa_name, sizeof(c->r->tsa_name), "(%s)", choice);
	return 0;
}

static int
parse_tstinfo(struct vctx *c)
{
	struct verify_result *r = c->r;
	unsigned char buf[TSA_SERIAL_MAX + 1], nonce[TSA_MAX_NONCE + 1];
	const unsigned char *mag;
	char oid[TSA_MAX_OID_TEXT] = "", when[sizeof(r->gen_time) + 1], flag[8];
	unsigned long v;
	size_t len, mlen;
	const char *why;
	int rc;

	if (tsa_asn1_decode("TSA.TSTInfo", c->econtent, c->econtent_len, &c->tstn, &why) == -1)
		return fail(c, "RFC 3161 2.4.2: TSTInfo %s", why);
	if (read_uint(c->tstn, "version", &v) != 0 || v != 1)
		return fail(c, "RFC 3161 2.4.2: TSTInfo version must be 1");
	if (tsa_asn1_read_oid(c->tstn, "policy", r->policy, sizeof(r->policy)) != 0)
		return fail(c, "RFC 3161 2.4.2: unreadable policy");
	if (tsa_asn1_read_oid(c->tstn, "messageImprint.hashAlgorithm.algorithm", oid,
	    sizeof(oid)) != 0 || (c->imprint_hash = hash_by_oid(oid)) == NULL)
		return fail(c, "RFC 3161 2.4.2: messageImprint hash algorithm %s is unknown", oid);
	if (params_absent_or_null(c, c->tstn, c->econtent, c->econtent_len,
	    "messageImprint.hashAlgorithm.parameters", "messageImprint hashAlgorithm") == -1)
		return -1;
	if (tsa_asn1_read(c->tstn, "messageImprint.hashedMessage", c->imprint,
	    sizeof(c->imprint), &c->imprint_len) != 0 ||
	    c->imprint_len != c->imprint_hash->len)
		return fail(c, "RFC 3161 2.4.1: hashedMessage is not a %s digest",
		    c->imprint_hash->name);
	snprintf(r->hash_name, sizeof(r->hash_name), "%s", c->imprint_hash->name);
	hex_encode(c->imprint, c->imprint_len, r->imprint_hex, sizeof(r->imprint_hex));

	/* RFC 3161 2.4.2: verifiers must take serials up to 160 bits; DER may add a sign
	 * octet, hence TSA_SERIAL_MAX + 1 octets. */
	if (tsa_asn1_read(c->tstn, "serialNumber", buf, sizeof(buf), &len) != 0)
		return fail(c, "RFC 3161 2.4.2: serialNumber longer than 160 bits");
	if ((buf[0] & 0x80) != 0)
		return fail(c, "RFC 3161 2.4.2: serialNumber is negative");
	mag = buf;
	mlen = len;
	if (mlen > 1 && mag[0] == 0) {
		mag++;
		mlen--;
	}
	if (mlen > TSA_SERIAL_MAX)
		return fail(c, "RFC 3161 2.4.2: serialNumber longer than 160 bits");
	memcpy(r->serial_hex, "0x", 2);
	hex_encode(mag, mlen, r->serial_hex + 2, sizeof(r->serial_hex) - 2);
	bytes_to_decimal(mag, mlen, r->serial_dec, sizeof(r->serial_dec));

	memset(when, 0, sizeof(when));
	if (tsa_asn1_read(c->tstn, "genTime", (unsigned char *)when, sizeof(when) - 1,
	    &len) != 0 || strlen(when) >= sizeof(r->gen_time) ||
	    parse_gentime(when, &r->gen_time_sec) == -1)
		return fail(c, "RFC 3161 2.4.2: genTime must be YYYYMMDDhhmmss[.s...]Z");
	memcpy(r->gen_time, when, strlen(when) + 1);

	if (tsa_asn1_span(c->tstn, c->econtent, c->econtent_len, "accuracy", &mag, &len) == 0) {
		r->has_accuracy = 1;
		if ((rc = read_uint(c->tstn, "accuracy.seconds", &v)) == -1)
			return fail(c, "RFC 3161 2.4.2: accuracy seconds out of range");
		r->acc_seconds = rc == 0 ? (unsigned)v : 0;
		if ((rc = read_uint(c->tstn, "accuracy.millis", &v)) == -1 ||
		    (rc == 0 && (v < 1 || v > 999)))
			return fail(c, "RFC 3161 2.4.2: accuracy millis must be 1..999");
		r->acc_millis = rc == 0 ? (unsigned)v : 0;
		if ((rc = read_uint(c->tstn, "accuracy.micros", &v)) == -1 ||
		    (rc == 0 && (v < 1 || v > 999)))
			return fail(c, "RFC 3161 2.4.2: accuracy micros must be 1..999");
		r->acc_micros = rc == 0 ? (unsigned)v : 0;
	}
	if (tsa_asn1_read(c->tstn, "ordering", (unsigned char *)flag, sizeof(flag), &len) == 0)
		r->ordering = len >= 4 && memcmp(flag, "TRUE", 4) == 0;
	/* Up to TSA_MAX_NONCE octets of value, and the sign octet DER may add. */
	switch (tsa_asn1_read(c->tstn, "nonce", nonce, sizeof(nonce), &len)) {
	case 0:
		mag = nonce;
		if (len > 1 && nonce[0] == 0) {
			mag++;
			len--;
		}
		if (len > TSA_MAX_NONCE)
			return fail(c, "RFC 3161 2.4.2: nonce longer than %d octets "
			    "(TSA_MAX_NONCE)", TSA_MAX_NONCE);
		r->has_nonce = 1;
		hex_encode(mag, len, r->nonce_hex, sizeof(r->nonce_hex));
		break;
	case 1:
		break;
	default:
		return fail(c, "RFC 3161 2.4.2: nonce longer than %d octets (TSA_MAX_NONCE)",
		    TSA_MAX_NONCE);
	}
	if (read_tsa_name(c) == -1)
		return -1;
	r->has_tstinfo = 1;
	return 0;
}

/* ---- certificates ------------------------------------------------------------------------- */

static int
load_pem(struct vctx *c, const char *path, const char *what, gnutls_x509_crt_t **list,
    unsigned *n, gnutls_datum_t *keep)
{
	unsigned char *buf = NULL;
	gnutls_datum_t d;
	size_t len;
	int rc;

	if (file_read(path, TSA_MAX_PEM, &buf, &len) == -1)
		return fail(c, "%s %s: %s", what, path, errno == EFBIG ?
		    "larger than TSA_MAX_PEM" : strerror(errno));
	d.data = buf;
	d.size = (unsigned)len;
	rc = gnutls_x509_crt_list_import2(list, n, &d, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || *n == 0) {
		free(buf);
		*list = NULL;
		*n = 0;
		return fail(c, "%s %s: no readable PEM certificate (%s)", what, path,
		    rc < 0 ? gnutls_strerror(rc) : "none found");
	}
	if (keep != NULL) {
		keep->data = buf;
		keep->size = (unsigned)len;
	} else
		free(buf);
	return 0;
}

static int
load_certs(struct vctx *c)
{
	const unsigned char *p;
	char path[32];
	size_t len;
	int n, i, rc;

	if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, "certificates", &p, &len) == 0) {
		if (count_elements(c, c->sdn, "certificates", "certificates",
		    TSA_MAX_CHAIN + 1, &n) == -1)
			return -1;
		for (i = 1; i <= n; i++) {
			gnutls_datum_t d;

			snprintf(path, sizeof(path), "certificates.?%d", i);
			if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, path, &p, &len) != 0 ||
			    p[0] != 0x30)
				return fail(c, "RFC 5652 10.2.2: certificate %d is not an X.509 "
				    "certificate", i);
			if ((rc = gnutls_x509_crt_init(&c->tok[c->n_tok])) < 0)
				return fail(c, "gnutls: %s", gnutls_strerror(rc));
			c->n_tok++;
			d.data = (unsigned char *)(uintptr_t)p;
			d.size = (unsigned)len;
			if ((rc = gnutls_x509_crt_import(c->tok[c->n_tok - 1], &d,
			    GNUTLS_X509_FMT_DER)) < 0)
				return fail(c, "RFC 5280 4.1: certificate %d in the token is "
				    "unreadable: %s", i, gnutls_strerror(rc));
			c->tok_der[c->n_tok - 1] = p;
			c->tok_len[c->n_tok - 1] = len;
		}
	}
	if (c->o->untrusted_file != NULL && load_pem(c, c->o->untrusted_file,
	    "untrusted certificates", &c->extra, &c->n_extra, NULL) == -1)
		return -1;
	if (c->o->ca_file != NULL && load_pem(c, c->o->ca_file, "CA file", &c->ca, &c->n_ca,
	    &c->ca_pem) == -1)
		return -1;
	return 0;
}

static void
subject_text(gnutls_x509_crt_t crt, char *out, size_t outlen)
{
	gnutls_datum_t dn = { NULL, 0 };

	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0) {
		snprintf(out, outlen, "(unreadable subject)");
		return;
	}
	copy_text(out, outlen, dn.data, dn.size);
	gnutls_free(dn.data);
}

/* Does crt match the SignerInfo's sid?  ias: issuer Name DER and serial; else ski. */
static int
sid_matches(gnutls_x509_crt_t crt, int ias, const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen)
{
	unsigned char buf[64];
	size_t size = sizeof(buf);
	gnutls_datum_t dn = { NULL, 0 };
	unsigned crit;
	int same;

	if (!ias)
		return gnutls_x509_crt_get_subject_key_id(crt, buf, &size, &crit) >= 0 &&
		    size == blen && memcmp(buf, b, blen) == 0;
	if (gnutls_x509_crt_get_serial(crt, buf, &size) < 0 || !same_uint(buf, size, b, blen))
		return 0;
	if (gnutls_x509_crt_get_raw_issuer_dn(crt, &dn) < 0)
		return 0;
	same = dn.size == alen && memcmp(dn.data, a, alen) == 0;
	gnutls_free(dn.data);
	return same;
}

/* RFC 5652 5.3: sid names the signer certificate, looked for in the token, then in the
 * --untrusted and CA files. */
static int
find_signer(struct vctx *c)
{
	const char *base = "signerInfos.?1.sid.issuerAndSerialNumber.";
	char kind[32], field[96];
	unsigned char b[64];
	const unsigned char *a = NULL;
	unsigned long version;
	size_t alen = 0, blen, i;
	int len = sizeof(kind), ias, rc;

	if (asn1_read_value(c->sdn, "signerInfos.?1.sid", kind, &len) != ASN1_SUCCESS ||
	    len <= 0 || (size_t)len >= sizeof(kind))
		return fail(c, "RFC 5652 5.3: unreadable SignerIdentifier");
	kind[len] = '\0';
	ias = strcmp(kind, "issuerAndSerialNumber") == 0;
	/* RFC 5652 5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier. */
	if (read_uint(c->sdn, "signerInfos.?1.version", &version) != 0 ||
	    version != (ias ? 1u : 3u))
		return fail(c, "RFC 5652 5.3: SignerInfo version must be %d with %s", ias ? 1 : 3,
		    kind);
	if (ias) {
		snprintf(field, sizeof(field), "%sissuer", base);
		if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, field, &a, &alen) != 0)
			return fail(c, "RFC 5652 5.3: unreadable sid issuer");
		snprintf(field, sizeof(field), "%sserialNumber", base);
	} else
		snprintf(field, sizeof(field), "signerInfos.?1.sid.subjectKeyIdentifier");
	if (tsa_asn1_read(c->sdn, field, b, sizeof(b), &blen) != 0)
		return fail(c, "RFC 5652 5.3: unreadable sid %s", ias ? "serialNumber" :
		    "subjectKeyIdentifier");

	for (i = 0; i < c->n_tok && c->signer == NULL; i++)
		if (sid_matches(c->tok[i], ias, a, alen, b, blen)) {
			c->signer = c->tok[i];
			c->signer_der = c->tok_der[i];
			c->signer_der_len = c->tok_len[i];
		}
	for (i = 0; i < c->n_extra && c->signer == NULL; i++)
		if (sid_matches(c->extra[i], ias, a, alen, b, blen))
			c->signer = c->extra[i];
	for (i = 0; i < c->n_ca && c->signer == NULL; i++)
		if (sid_matches(c->ca[i], ias, a, alen, b, blen))
			c->signer = c->ca[i];
	if (c->signer == NULL) {
		if (c->n_tok == 0)
			return fail(c, "RFC 3161 2.4.1: the token carries no certificates "
			    "(certReq was false) and neither --untrusted nor the CA file holds "
			    "the signer's");
		return fail(c, "RFC 5652 5.3: no certificate matches the SignerInfo's sid");
	}
	if (c->signer_der == NULL) {
		if ((rc = gnutls_x509_crt_export2(c->signer, GNUTLS_X509_FMT_DER,
		    &c->signer_export)) < 0)
			return fail(c, "gnutls: %s", gnutls_strerror(rc));
		c->signer_der = c->signer_export.data;
		c->signer_der_len = c->signer_export.size;
	}
	subject_text(c->signer, c->r->signer_subject, sizeof(c->r->signer_subject));
	return 0;
}

/* ---- signed attributes -------------------------------------------------------------------- */

/* The single value of signed attribute idx, decoded strictly as type. */
static int
attr_value(struct vctx *c, int idx, const char *type, const char *what, asn1_node *out)
{
	const unsigned char *p;
	char field[64];
	size_t len;
	const char *why;

	snprintf(field, sizeof(field), "signerInfos.?1.signedAttrs.?%d.attrValues.?1", idx);
	if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, field, &p, &len) != 0)
		return fail(c, "%s: value missing", what);
	if (tsa_asn1_decode(type, p, len, out, &why) == -1)
		return fail(c, "%s: value %s", what, why);
	return 0;
}

/*
 * RFC 2634 5.4 / RFC 5035 (as RFC 5816 allows for RFC 3161): the first ESSCertID(v2)
 * identifies the certificate that verifies the signature: its hash, and its issuer and
 * serial when issuerSerial is present.
 */
static int
check_ess(struct vctx *c, int version, int idx)
{
	const char *what = version == 2 ? "RFC 5035 5.4: signingCertificateV2" :
	    "RFC 2634 5.4: signingCertificate";
	const struct hash_alg *h;
	unsigned char hash[TSA_MAX_IMPRINT], want[TSA_MAX_IMPRINT], serial[64], *dn = NULL;
	char oid[TSA_MAX_OID_TEXT] = "", field[64], choice[32];
	gnutls_datum_t issuer = { NULL, 0 };
	asn1_node n = NULL;
	size_t hlen, slen, certser_len, dnlen;
	unsigned char certser[64];
	int rc = -1, count, i, found = 0, len;

	if (attr_value(c, idx, version == 2 ? "TSA.SigningCertificateV2" :
	    "TSA.SigningCertificate", what, &n) == -1)
		return -1;
	if (count_elements(c, n, "certs", what, INT32_MAX, &count) == -1)
		goto out;
	if (count < 1) {
		fail(c, "%s: certs is empty", what);
		goto out;
	}
	h = hash_by_name("sha1");
	if (version == 2) {
		/* RFC 5035 5.4.1.1: hashAlgorithm DEFAULT id-sha256. */
		switch (tsa_asn1_read_oid(n, "certs.?1.hashAlgorithm.algorithm", oid,
		    sizeof(oid))) {
		case 0:
			h = hash_by_oid(oid);
			break;
		case 1:
			h = hash_by_name("sha256");
			break;
		default:
			h = NULL;
			break;
		}
	}
	if (h == NULL) {
		fail(c, "%s: unknown certHash algorithm", what);
		goto out;
	}
	if (tsa_asn1_read(n, "certs.?1.certHash", hash, sizeof(hash), &hlen) != 0 ||
	    hlen != h->len) {
		fail(c, "%s: certHash is not a %s digest", what, h->name);
		goto out;
	}
	if (gnutls_hash_fast(h->gnutls, c->signer_der, c->signer_der_len, want) < 0 ||
	    memcmp(hash, want, h->len) != 0) {
		fail(c, "%s: the first certHash is not the %s of the signer certificate", what,
		    h->name);
		goto out;
	}
	if (tsa_asn1_read(n, "certs.?1.issuerSerial.serialNumber", serial, sizeof(serial),
	    &slen) == 0) {
		certser_len = sizeof(certser);
		if (gnutls_x509_crt_get_serial(c->signer, certser, &certser_len) < 0 ||
		    !same_uint(serial, slen, certser, certser_len)) {
			fail(c, "%s: issuerSerial.serialNumber is not the signer certificate's",
			    what);
			goto out;
		}
		if (gnutls_x509_crt_get_raw_issuer_dn(c->signer, &issuer) < 0 ||
		    count_elements(c, n, "certs.?1.issuerSerial.issuer", what, TSA_MAX_SET_ELEMENTS,
		    &count) == -1)
			goto out;
		for (i = 1; i <= count && !found; i++) {
			snprintf(field, sizeof(field), "certs.?1.issuerSerial.issuer.?%d", i);
			len = sizeof(choice);
			if (asn1_read_value(n, field, choice, &len) != ASN1_SUCCESS ||
			    len <= 0 || (size_t)len >= sizeof(choice))
				continue;
			choice[len] = '\0';
			if (strcmp(choice, "directoryName") != 0)
				continue;
			snprintf(field, sizeof(field), "certs.?1.issuerSerial.issuer.?%d."
			    "directoryName", i);
			if (tsa_asn1_read_alloc(n, field, &dn, &dnlen) != 0)
				continue;
			found = dnlen == issuer.size && memcmp(dn, issuer.data, dnlen) == 0;
			free(dn);
			dn = NULL;
		}
		if (!found) {
			fail(c, "%s: issuerSerial.issuer does not name the signer certificate's "
			    "issuer", what);
			goto out;
		}
	}
	rc = 0;
out:
	gnutls_free(issuer.data);
	asn1_delete_structure(&n);
	return rc;
}

static const struct {
	const char	*oid;
	const char	*name;
	const char	*rule;
} known_attrs[] = {
	{ OID_AA_CONTENT_TYPE, "contentType", "RFC 5652 11.1" },
	{ OID_AA_MESSAGE_DIGEST, "messageDigest", "RFC 5652 11.2" },
	{ OID_AA_SIGNING_CERT, "signingCertificate", "RFC 2634 5.4" },
	{ OID_AA_SIGNING_CERT_V2, "signingCertificateV2", "RFC 5035 5.4" },
};
#define N_KNOWN_ATTRS	(sizeof(known_attrs) / sizeof(known_attrs[0]))

static int
check_signed_attrs(struct vctx *c)
{
	unsigned char md[TSA_MAX_IMPRINT], want[TSA_MAX_IMPRINT];
	char oid[TSA_MAX_OID_TEXT] = "", field[64];
	const unsigned char *p;
	int at[N_KNOWN_ATTRS] = { 0 };
	asn1_node n = NULL;
	size_t len, k;
	int count, i, values, rc = -1;

	if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, "signerInfos.?1.signedAttrs", &p,
	    &len) != 0)
		return fail(c, "RFC 5652 5.3: signedAttrs must be present when eContentType "
		    "is not id-data");
	if (count_elements(c, c->sdn, "signerInfos.?1.signedAttrs", "signedAttrs",
	    TSA_MAX_SET_ELEMENTS, &count) == -1)
		return -1;
	for (i = 1; i <= count; i++) {
		snprintf(field, sizeof(field), "signerInfos.?1.signedAttrs.?%d.attrType", i);
		if (tsa_asn1_read_oid(c->sdn, field, oid, sizeof(oid)) != 0)
			return fail(c, "RFC 5652 5.3: unreadable signed attribute %d", i);
		for (k = 0; k < N_KNOWN_ATTRS; k++)
			if (strcmp(oid, known_attrs[k].oid) == 0)
				break;
		if (k == N_KNOWN_ATTRS)
			continue;
		if (at[k] != 0)
			return fail(c, "%s: the %s attribute appears more than once",
			    known_attrs[k].rule, known_attrs[k].name);
		snprintf(field, sizeof(field), "signerInfos.?1.signedAttrs.?%d.attrValues", i);
		if (asn1_number_of_elements(c->sdn, field, &values) != ASN1_SUCCESS ||
		    values != 1)
			return fail(c, "%s: the %s attribute must have exactly one value",
			    known_attrs[k].rule, known_attrs[k].name);
		at[k] = i;
	}
	if (at[0] == 0)
		return fail(c, "RFC 5652 11.1: the contentType signed attribute is missing");
	if (at[1] == 0)
		return fail(c, "RFC 5652 11.2: the messageDigest signed attribute is missing");

	if (attr_value(c, at[0], "TSA.ObjectIdentifier", "RFC 5652 11.1: contentType",
	    &n) == -1)
		return -1;
	if (tsa_asn1_read_oid(n, "", oid, sizeof(oid)) != 0 || strcmp(oid, OID_CT_TSTINFO) != 0) {
		fail(c, "RFC 5652 11.1: the contentType attribute must equal eContentType "
		    "(id-ct-TSTInfo)");
		goto out;
	}
	asn1_delete_structure(&n);
	if (attr_value(c, at[1], "TSA.OctetString", "RFC 5652 11.2: messageDigest", &n) == -1)
		goto out;
	if (tsa_asn1_read(n, "", md, sizeof(md), &len) != 0 || len != c->digest->len) {
		fail(c, "RFC 5652 11.2: messageDigest is not a %s digest", c->digest->name);
		goto out;
	}
	if (gnutls_hash_fast(c->digest->gnutls, c->econtent, c->econtent_len, want) < 0 ||
	    memcmp(md, want, len) != 0) {
		fail(c, "RFC 5652 5.4: messageDigest does not match the TSTInfo");
		goto out;
	}

	/* RFC 3161 2.4.2 (RFC 5816): the TSA certificate is identified by a signed ESS
	 * signingCertificate or signingCertificateV2 attribute. */
	if (at[2] == 0 && at[3] == 0) {
		fail(c, "RFC 3161 2.4.2: neither signingCertificate nor signingCertificateV2 "
		    "is a signed attribute");
		goto out;
	}
	if (at[3] != 0 && check_ess(c, 2, at[3]) == -1)
		goto out;
	if (at[2] != 0 && check_ess(c, 1, at[2]) == -1)
		goto out;
	c->r->ess_version = at[3] != 0 ? 2 : 1;
	rc = 0;
out:
	asn1_delete_structure(&n);
	return rc;
}

/* ---- the signature ------------------------------------------------------------------------ */

enum sig_kind { SIG_PKCS1, SIG_PSS, SIG_ECDSA };

/* signatureAlgorithm OIDs; hash NULL: the SignerInfo's digestAlgorithm (or PSS params). */
static const struct {
	const char	*oid;
	const char	*name;
	enum sig_kind	 kind;
	const char	*hash;
} sig_algs[] = {
	{ OID_RSA_ENCRYPTION, "rsaEncryption", SIG_PKCS1, NULL },		/* RFC 3370 3.2 */
	{ "1.2.840.113549.1.1.5", "sha1WithRSAEncryption", SIG_PKCS1, "sha1" },
	{ "1.2.840.113549.1.1.14", "sha224WithRSAEncryption", SIG_PKCS1, "sha224" },
	{ "1.2.840.113549.1.1.11", "sha256WithRSAEncryption", SIG_PKCS1, "sha256" },
	{ "1.2.840.113549.1.1.12", "sha384WithRSAEncryption", SIG_PKCS1, "sha384" },
	{ "1.2.840.113549.1.1.13", "sha512WithRSAEncryption", SIG_PKCS1, "sha512" },
	{ OID_RSASSA_PSS, "id-RSASSA-PSS", SIG_PSS, NULL },			/* RFC 4056 */
	{ "1.2.840.10045.4.3.1", "ecdsa-with-SHA224", SIG_ECDSA, "sha224" },	/* RFC 5758 */
	{ "1.2.840.10045.4.3.2", "ecdsa-with-SHA256", SIG_ECDSA, "sha256" },
	{ "1.2.840.10045.4.3.3", "ecdsa-with-SHA384", SIG_ECDSA, "sha384" },
	{ "1.2.840.10045.4.3.4", "ecdsa-with-SHA512", SIG_ECDSA, "sha512" },
};

/* RFC 4055 3.1 RSASSA-PSS-params, as RFC 4056 3 puts them in a SignerInfo. */
static int
pss_params(struct vctx *c, const unsigned char *p, size_t len, unsigned long *salt)
{
	const struct hash_alg *h, *mgf_h;
	char oid[TSA_MAX_OID_TEXT] = "";
	const unsigned char *mp;
	asn1_node n = NULL, mgf = NULL;
	unsigned long trailer;
	size_t mlen;
	const char *why;
	int rc = -1;

	if (tsa_asn1_decode("TSA.RSASSA-PSS-params", p, len, &n, &why) == -1)
		return fail(c, "RFC 4056 3: RSASSA-PSS-params %s", why);
	/* Absent fields take the RFC 4055 3.1 defaults: SHA-1, MGF1 with SHA-1, salt 20. */
	switch (tsa_asn1_read_oid(n, "hashAlgorithm.algorithm", oid, sizeof(oid))) {
	case 0:
		h = hash_by_oid(oid);
		break;
	case 1:
		h = hash_by_name("sha1");
		break;
	default:
		h = NULL;
		break;
	}
	mgf_h = hash_by_name("sha1");
	switch (tsa_asn1_read_oid(n, "maskGenAlgorithm.algorithm", oid, sizeof(oid))) {
	case 0:
		if (strcmp(oid, OID_MGF1) != 0 || tsa_asn1_span(n, p, len,
		    "maskGenAlgorithm.parameters", &mp, &mlen) != 0 ||
		    tsa_asn1_decode("TSA.AlgorithmIdentifier", mp, mlen, &mgf, &why) == -1 ||
		    tsa_asn1_read_oid(mgf, "algorithm", oid, sizeof(oid)) != 0) {
			fail(c, "RFC 4055 3.1: maskGenAlgorithm must be MGF1 with a hash");
			goto out;
		}
		mgf_h = hash_by_oid(oid);
		break;
	case 1:
		break;
	default:
		fail(c, "RFC 4055 3.1: unreadable maskGenAlgorithm");
		goto out;
	}
	switch (read_uint(n, "saltLength", salt)) {
	case 1:
		*salt = 20;
		break;
	case -1:
		fail(c, "RFC 4055 3.1: saltLength out of range");
		goto out;
	}
	switch (read_uint(n, "trailerField", &trailer)) {
	case 1:
		trailer = 1;
		break;
	case -1:
		trailer = 0;
		break;
	}
	if (trailer != 1) {
		fail(c, "RFC 4055 3.1: trailerField must be 1");
		goto out;
	}
	if (h != c->digest) {
		fail(c, "RFC 4056 3: the RSASSA-PSS hash must be the SignerInfo's "
		    "digestAlgorithm (%s)", c->digest->name);
		goto out;
	}
	if (mgf_h != h) {
		fail(c, "RSASSA-PSS with MGF1 over another hash than %s is not supported",
		    h->name);
		goto out;
	}
	rc = 0;
out:
	asn1_delete_structure(&mgf);
	asn1_delete_structure(&n);
	return rc;
}

static gnutls_sign_algorithm_t
sign_algorithm(enum sig_kind kind, gnutls_digest_algorithm_t d)
{
	static const struct {
		enum sig_kind			kind;
		gnutls_digest_algorithm_t	dig;
		gnutls_sign_algorithm_t		sign;
	} map[] = {
		{ SIG_PKCS1, GNUTLS_DIG_SHA1, GNUTLS_SIGN_RSA_SHA1 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA224, GNUTLS_SIGN_RSA_SHA224 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA256, GNUTLS_SIGN_RSA_SHA256 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA384, GNUTLS_SIGN_RSA_SHA384 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA512, GNUTLS_SIGN_RSA_SHA512 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA3_256, GNUTLS_SIGN_RSA_SHA3_256 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA3_384, GNUTLS_SIGN_RSA_SHA3_384 },
		{ SIG_PKCS1, GNUTLS_DIG_SHA3_512, GNUTLS_SIGN_RSA_SHA3_512 },
		{ SIG_PSS, GNUTLS_DIG_SHA256, GNUTLS_SIGN_RSA_PSS_SHA256 },
		{ SIG_PSS, GNUTLS_DIG_SHA384, GNUTLS_SIGN_RSA_PSS_SHA384 },
		{ SIG_PSS, GNUTLS_DIG_SHA512, GNUTLS_SIGN_RSA_PSS_SHA512 },
		{ SIG_ECDSA, GNUTLS_DIG_SHA1, GNUTLS_SIGN_ECDSA_SHA1 },
		{ SIG_ECDSA, GNUTLS_DIG_SHA224, GNUTLS_SIGN_ECDSA_SHA224 },
		{ SIG_ECDSA, GNUTLS_DIG_SHA256, GNUTLS_SIGN_ECDSA_SHA256 },
		{ SIG_ECDSA, GNUTLS_DIG_SHA384, GNUTLS_SIGN_ECDSA_SHA384 },
		{ SIG_ECDSA, GNUTLS_DIG_SHA512, GNUTLS_SIGN_ECDSA_SHA512 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].kind == kind && map[i].dig == d)
			return map[i].sign;
	return GNUTLS_SIGN_UNKNOWN;
}

/*
 * RFC 5652 5.4: the signature covers the DER of signedAttrs with the universal SET tag, the
 * [0] IMPLICIT tag of the SignerInfo replaced; the bytes are the span of the input.
 */
static int
check_signature(struct vctx *c)
{
	const char *base = "signerInfos.?1.signatureAlgorithm.";
	char oid[TSA_MAX_OID_TEXT] = "", field[64];
	const unsigned char *attrs, *params = NULL;
	unsigned char *tbs = NULL, *sig = NULL;
	gnutls_datum_t data, sd;
	gnutls_pubkey_t pub = NULL;
	gnutls_x509_spki_t spki = NULL;
	gnutls_sign_algorithm_t algo;
	gnutls_pk_algorithm_t pk;
	unsigned long salt = 0;
	size_t attrs_len, params_len = 0, sig_len, i;
	unsigned bits;
	int rc = -1, ret, has_params;

	snprintf(field, sizeof(field), "%salgorithm", base);
	if (tsa_asn1_read_oid(c->sdn, field, oid, sizeof(oid)) != 0)
		return fail(c, "RFC 5652 5.3: unreadable signatureAlgorithm");
	for (i = 0; i < sizeof(sig_algs) / sizeof(sig_algs[0]); i++)
		if (strcmp(oid, sig_algs[i].oid) == 0)
			break;
	if (i == sizeof(sig_algs) / sizeof(sig_algs[0]))
		return fail(c, "RFC 5652 5.3: signatureAlgorithm %s is not supported", oid);
	snprintf(field, sizeof(field), "%sparameters", base);
	has_params = tsa_asn1_span(c->sdn, c->sd, c->sd_len, field, &params, &params_len) == 0;

	switch (sig_algs[i].kind) {
	case SIG_PKCS1:
		/* RFC 4055 5 (and RFC 3370 3.2): NULL, absent accepted. */
		if (has_params && !(params_len == 2 && params[0] == 0x05 && params[1] == 0))
			return fail(c, "RFC 4055 5: %s parameters must be NULL",
			    sig_algs[i].name);
		snprintf(c->r->sig_alg, sizeof(c->r->sig_alg), "%s with %s", sig_algs[i].name,
		    c->digest->name);
		break;
	case SIG_PSS:
		if (!has_params)
			return fail(c, "RFC 4056 3: id-RSASSA-PSS needs RSASSA-PSS-params");
		if (pss_params(c, params, params_len, &salt) == -1)
			return -1;
		snprintf(c->r->sig_alg, sizeof(c->r->sig_alg), "RSASSA-PSS with %s, salt %lu",
		    c->digest->name, salt);
		break;
	case SIG_ECDSA:
		if (has_params)
			return fail(c, "RFC 5758 3.2: %s parameters must be absent",
			    sig_algs[i].name);
		snprintf(c->r->sig_alg, sizeof(c->r->sig_alg), "%s", sig_algs[i].name);
		break;
	}
	/* RFC 5652 5.3, 5.4: digestAlgorithm is the hash over the signed attributes; a
	 * signatureAlgorithm naming another one contradicts it. */
	if (sig_algs[i].hash != NULL && hash_by_name(sig_algs[i].hash) != c->digest)
		return fail(c, "RFC 5652 5.4: signatureAlgorithm %s contradicts digestAlgorithm "
		    "%s", sig_algs[i].name, c->digest->name);
	if ((algo = sign_algorithm(sig_algs[i].kind, c->digest->gnutls)) == GNUTLS_SIGN_UNKNOWN)
		return fail(c, "%s with %s is not supported", sig_algs[i].name, c->digest->name);

	if (tsa_asn1_span(c->sdn, c->sd, c->sd_len, "signerInfos.?1.signedAttrs", &attrs,
	    &attrs_len) != 0 || attrs[0] != 0xa0)
		return fail(c, "RFC 5652 5.3: signedAttrs missing");
	if ((tbs = malloc(attrs_len)) == NULL)
		return fail(c, "out of memory");
	memcpy(tbs, attrs, attrs_len);
	tbs[0] = 0x31;
	if (tsa_asn1_read_alloc(c->sdn, "signerInfos.?1.signature", &sig, &sig_len) != 0) {
		fail(c, "RFC 5652 5.3: signature missing");
		goto out;
	}
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, c->signer, 0)) < 0) {
		fail(c, "signer certificate public key: %s", gnutls_strerror(ret));
		goto out;
	}
	pk = (gnutls_pk_algorithm_t)gnutls_pubkey_get_pk_algorithm(pub, &bits);
	if (sig_algs[i].kind == SIG_ECDSA ? pk != GNUTLS_PK_ECDSA :
	    pk != GNUTLS_PK_RSA && !(sig_algs[i].kind == SIG_PSS && pk == GNUTLS_PK_RSA_PSS)) {
		fail(c, "RFC 5652 5.3: signatureAlgorithm %s does not fit the signer's %s key",
		    sig_algs[i].name, gnutls_pk_get_name(pk));
		goto out;
	}
	if (sig_algs[i].kind == SIG_PSS) {
		/* GnuTLS verifies PSS with the salt length of the key's parameters; set them
		 * from the SignerInfo so that any salt the RFC allows is verified exactly. */
		if ((ret = gnutls_x509_spki_init(&spki)) < 0) {
			fail(c, "gnutls: %s", gnutls_strerror(ret));
			goto out;
		}
		gnutls_x509_spki_set_rsa_pss_params(spki, c->digest->gnutls, (unsigned)salt);
		if ((ret = gnutls_pubkey_set_spki(pub, spki, 0)) < 0) {
			fail(c, "RSASSA-PSS parameters refused: %s", gnutls_strerror(ret));
			goto out;
		}
	}
	data.data = tbs;
	data.size = (unsigned)attrs_len;
	sd.data = sig;
	sd.size = (unsigned)sig_len;
	if ((ret = gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sd)) < 0) {
		fail(c, "RFC 5652 5.6: the signature does not verify with the signer "
		    "certificate's key (%s)", gnutls_strerror(ret));
		goto out;
	}
	rc = 0;
out:
	if (spki != NULL)
		gnutls_x509_spki_deinit(spki);
	gnutls_pubkey_deinit(pub);
	free(sig);
	free(tbs);
	return rc;
}

/* ---- the signer certificate and its chain ------------------------------------------------- */

static int
check_signer_cert(struct vctx *c)
{
	char why[256];
	unsigned char *v = NULL;
	gnutls_datum_t subject = { NULL, 0 };
	size_t vlen;
	int same;

	if (signer_check_cert(c->signer, c->r->gen_time_sec, why, sizeof(why)) == -1)
		return fail(c, "signer certificate at genTime: %s", why);
	/* RFC 3161 2.4.2: tsa, when present, must be one of the certificate's subject
	 * names; a directoryName is checked against the subject (other forms are shown). */
	if (tsa_asn1_read_alloc(c->tstn, "tsa.directoryName", &v, &vlen) != 0)
		return 0;
	if (gnutls_x509_crt_get_raw_dn(c->signer, &subject) < 0) {
		free(v);
		return fail(c, "signer certificate: unreadable subject");
	}
	same = subject.size == vlen && memcmp(subject.data, v, vlen) == 0;
	gnutls_free(subject.data);
	free(v);
	if (!same)
		return fail(c, "RFC 3161 2.4.2: the tsa name is not the signer certificate's "
		    "subject");
	return 0;
}

static gnutls_x509_crt_t
issuer_in(gnutls_x509_crt_t *list, size_t n, gnutls_x509_crt_t crt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] != crt && gnutls_x509_crt_check_issuer(crt, list[i]))
			return list[i];
	return NULL;
}

static int
in_list(gnutls_x509_crt_t *list, size_t n, gnutls_x509_crt_t crt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == crt || gnutls_x509_crt_equals(list[i], crt))
			return 1;
	return 0;
}

static int
valid_at(struct vctx *c, gnutls_x509_crt_t crt)
{
	time_t from = gnutls_x509_crt_get_activation_time(crt);
	time_t until = gnutls_x509_crt_get_expiration_time(crt);
	char name[256], a[32], b[32], t[32];

	if (from != (time_t)-1 && until != (time_t)-1 && c->r->gen_time_sec >= from &&
	    c->r->gen_time_sec <= until)
		return 0;
	subject_text(crt, name, sizeof(name));
	format_time(from, a, sizeof(a));
	format_time(until, b, sizeof(b));
	format_time(c->r->gen_time_sec, t, sizeof(t));
	return fail(c, "RFC 5280 6.1.3: \"%s\" is not valid at genTime %s (valid %s to %s)",
	    name, t, a, b);
}

/*
 * RFC 5280 6.1 at genTime.  The path is built here (signer, then issuers from the token
 * and --untrusted, up to an issuer in the CA file) so that the certificates GnuTLS verifies
 * are known; GnuTLS checks signatures, constraints and the timeStamping purpose with its
 * clock disabled, and each certificate's validity is then checked at genTime, the time
 * the token speaks for (GnuTLS has no documented way to verify at another time).
 */
static int
check_chain(struct vctx *c)
{
	gnutls_x509_crt_t chain[TSA_MAX_CHAIN + 1], cur, next, anchor = NULL;
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st purpose;
	gnutls_datum_t text = { NULL, 0 };
	char name[256];
	unsigned n = 0, i, status = 0;
	int rc = -1, ret;

	if (c->o->ca_file == NULL)
		return 0;
	chain[n++] = cur = c->signer;
	while (!in_list(c->ca, c->n_ca, cur) &&
	    (anchor = issuer_in(c->ca, c->n_ca, cur)) == NULL) {
		if (gnutls_x509_crt_check_issuer(cur, cur)) {
			subject_text(cur, name, sizeof(name));
			return fail(c, "RFC 5280 6.1: the chain ends at self-signed \"%s\", "
			    "which is not in the CA file", name);
		}
		if ((next = issuer_in(c->tok, c->n_tok, cur)) == NULL)
			next = issuer_in(c->extra, c->n_extra, cur);
		if (next == NULL) {
			subject_text(cur, name, sizeof(name));
			return fail(c, "RFC 5280 6.1: no issuer of \"%s\" in the token, "
			    "--untrusted or the CA file", name);
		}
		for (i = 0; i < n; i++)
			if (chain[i] == next)
				return fail(c, "RFC 5280 6.1: the certificates form a loop");
		if (n == TSA_MAX_CHAIN + 1)
			return fail(c, "RFC 5280 6.1: chain longer than %d certificates "
			    "(TSA_MAX_CHAIN)", TSA_MAX_CHAIN);
		chain[n++] = cur = next;
	}

	if ((ret = gnutls_x509_trust_list_init(&tl, 0)) < 0 ||
	    (ret = gnutls_x509_trust_list_add_trust_mem(tl, &c->ca_pem, NULL,
	    GNUTLS_X509_FMT_PEM, 0, 0)) < 0) {
		fail(c, "CA file: %s", gnutls_strerror(ret));
		goto out;
	}
	memset(&purpose, 0, sizeof(purpose));
	purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
	purpose.data = (unsigned char *)(uintptr_t)OID_KP_TIMESTAMPING;
	ret = gnutls_x509_trust_list_verify_crt2(tl, chain, n, &purpose, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
	    GNUTLS_VERIFY_DO_NOT_ALLOW_UNSORTED_CHAIN, &status, NULL);
	if (ret < 0) {
		fail(c, "RFC 5280 6.1: chain verification failed: %s", gnutls_strerror(ret));
		goto out;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text,
		    0) < 0)
			fail(c, "RFC 5280 6.1: the chain does not verify to the CA file");
		else
			fail(c, "RFC 5280 6.1: the chain does not verify to the CA file: %s",
			    text.data);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (valid_at(c, chain[i]) == -1)
			goto out;
	if (anchor != NULL && valid_at(c, anchor) == -1)
		goto out;
	c->r->chain_verified = 1;
	rc = 0;
out:
	gnutls_free(text.data);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	return rc;
}

/* RFC 3161 2.4.2: messageImprint is the hash of the time-stamped data. */
static int
check_data(struct vctx *c)
{
	unsigned char md[TSA_MAX_IMPRINT];

	if (c->o->data == NULL)
		return 0;
	if (gnutls_hash_fast(c->imprint_hash->gnutls, c->o->data, c->o->data_len, md) < 0)
		return fail(c, "cannot hash the data with %s", c->imprint_hash->name);
	if (memcmp(md, c->imprint, c->imprint_len) != 0)
		return fail(c, "RFC 3161 2.4.2: the data's %s digest does not match the "
		    "messageImprint", c->imprint_hash->name);
	c->r->data_checked = 1;
	return 0;
}

static void
vctx_free(struct vctx *c)
{
	size_t i;

	asn1_delete_structure(&c->sdn);
	asn1_delete_structure(&c->tstn);
	for (i = 0; i < c->n_tok; i++)
		gnutls_x509_crt_deinit(c->tok[i]);
	for (i = 0; i < c->n_ca; i++)
		gnutls_x509_crt_deinit(c->ca[i]);
	gnutls_free(c->ca);
	for (i = 0; i < c->n_extra; i++)
		gnutls_x509_crt_deinit(c->extra[i]);
	gnutls_free(c->extra);
	free(c->ca_pem.data);
	gnutls_free(c->signer_export.data);
}

int
tst_verify(const unsigned char *der, size_t len, const struct verify_opts *opts,
    struct verify_result *r, char *err, size_t errlen)
{
	static const struct verify_opts none;
	const unsigned char *tok = der;
	size_t toklen = len, hdr;
	struct vctx c;
	const char *why;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	memset(&c, 0, sizeof(c));
	c.o = opts != NULL ? opts : &none;
	c.r = r;
	c.err = err;
	c.errlen = errlen;
	r->ca_given = c.o->ca_file != NULL;
	r->data_given = c.o->data != NULL;
	if (errlen > 0)
		err[0] = '\0';

	if (len > TSA_MAX_TOKEN_FILE) {
		fail(&c, "larger than %d bytes (TSA_MAX_TOKEN_FILE)", TSA_MAX_TOKEN_FILE);
		goto out;
	}
	if (der_check(der, len, &why) == -1) {
		fail(&c, "strict DER: %s", why);
		goto out;
	}
	/* A TimeStampResp begins with PKIStatusInfo (a SEQUENCE), a ContentInfo with its
	 * contentType (an OID).  The gate passed: the outer header is well formed. */
	hdr = der[1] < 0x80 ? 2 : 2 + (size_t)(der[1] & 0x7f);
	if (der[0] != 0x30 || len <= hdr || (der[hdr] != 0x30 && der[hdr] != 0x06)) {
		fail(&c, "neither a TimeStampResp nor a ContentInfo (RFC 3161 2.4.2)");
		goto out;
	}
	if (der[hdr] == 0x30) {
		r->is_response = 1;
		if (check_response(&c, der, len, &tok, &toklen) == -1)
			goto out;
	}
	if (check_signed_data(&c, tok, toklen) == -1 || parse_tstinfo(&c) == -1 ||
	    load_certs(&c) == -1 || find_signer(&c) == -1 || check_signed_attrs(&c) == -1 ||
	    check_signature(&c) == -1 || check_signer_cert(&c) == -1 ||
	    check_chain(&c) == -1 || check_data(&c) == -1)
		goto out;
	rc = 0;
out:
	vctx_free(&c);
	return rc;
}

/* ---- the summary -------------------------------------------------------------------------- */

void
tst_verify_print(FILE *f, const struct verify_result *r)
{
	char when[32];
	const char *frac;

	if (r->is_response)
		fprintf(f, "status: %s (%d)\n", r->status >= 0 && (size_t)r->status <
		    sizeof(status_names) / sizeof(status_names[0]) ?
		    status_names[r->status] : "unknown", r->status);
	else
		fprintf(f, "status: none (a bare token)\n");
	if (r->status_text[0] != '\0')
		fprintf(f, "status text: %s\n", r->status_text);
	if (r->fail_info[0] != '\0')
		fprintf(f, "failure info: %s\n", r->fail_info);
	if (!r->has_tstinfo)
		return;
	fprintf(f, "serial: %s (%s)\n", r->serial_hex, r->serial_dec);
	format_time(r->gen_time_sec, when, sizeof(when));
	/* The fraction, if any, goes between the seconds and " UTC". */
	frac = strchr(r->gen_time, '.');
	if (frac != NULL && strlen(when) > 4)
		fprintf(f, "genTime: %.*s%.*s UTC (%s)\n", (int)(strlen(when) - 4), when,
		    (int)(strlen(frac) - 1), frac, r->gen_time);
	else
		fprintf(f, "genTime: %s (%s)\n", when, r->gen_time);
	if (r->has_accuracy)
		fprintf(f, "accuracy: %us %ums %uus\n", r->acc_seconds, r->acc_millis,
		    r->acc_micros);
	fprintf(f, "ordering: %s\n", r->ordering ? "yes" : "no");
	fprintf(f, "policy: %s\n", r->policy);
	fprintf(f, "imprint: %s %s\n", r->hash_name, r->imprint_hex);
	fprintf(f, "nonce: %s%s\n", r->has_nonce ? "0x" : "", r->has_nonce ? r->nonce_hex :
	    "none");
	if (r->tsa_name[0] != '\0')
		fprintf(f, "tsa: %s\n", r->tsa_name);
	if (r->signer_subject[0] != '\0')
		fprintf(f, "signer: %s\n", r->signer_subject);
	if (r->sig_alg[0] != '\0')
		fprintf(f, "signature: %s\n", r->sig_alg);
	if (r->ess_version != 0)
		fprintf(f, "ESS: %s (version %d)\n", r->ess_version == 2 ?
		    "signingCertificateV2" : "signingCertificate", r->ess_version);
	fprintf(f, "data: %s\n", r->data_checked ? "matches the imprint" :
	    r->data_given ? "NOT checked" : "not checked (no --data given)");
	fprintf(f, "chain: %s\n", r->chain_verified ? "verified to CA" :
	    r->ca_given ? "NOT verified" : "NOT verified (no --ca given)");
}
