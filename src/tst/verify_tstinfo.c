/*
 * verify_tstinfo.c - the verifier's check of the TSTInfo in the token's eContent (RFC 3161
 * 2.4.2): version 1, policy, messageImprint (its algorithm known, its parameters absent or
 * NULL per RFC 5754 2, its length the algorithm's), serialNumber up to 160 bits, genTime as
 * YYYYMMDDhhmmss[.s...]Z, accuracy, ordering, nonce, and the tsa name, copied into the
 * result for display.  Whether the tsa name is the signer's is verify_chain.c's check.
 *
 * Untrusted input: the TSTInfo octets; all text taken from them is escaped for display.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "asn1.h"
#include "bytes.h"
#include "hashalg.h"
#include "tsa_limits.h"
#include "verify.h"
#include "verify_int.h"

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
		return vfy_fail(c, "RFC 3161 2.4.2: unreadable tsa name");
	choice[len] = '\0';
	if (strcmp(choice, "directoryName") == 0) {
		gnutls_datum_t dn, text = { NULL, 0 };

		if (tsa_asn1_read_alloc(c->tstn, "tsa.directoryName", &v, &vlen) != 0)
			return vfy_fail(c, "RFC 3161 2.4.2: unreadable tsa directoryName");
		dn.data = v;
		dn.size = (unsigned)vlen;
		if (gnutls_x509_rdn_get2(&dn, &text, 0) < 0) {
			free(v);
			return vfy_fail(c, "RFC 3161 2.4.2: tsa directoryName is not a Name");
		}
		vfy_copy_text(c->r->tsa_name, sizeof(c->r->tsa_name), text.data, text.size);
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

			vfy_copy_text(text, sizeof(text), v, vlen);
			snprintf(c->r->tsa_name, sizeof(c->r->tsa_name), "%s:%s", choice, text);
			free(v);
			return 0;
		}
	}
	snprintf(c->r->tsa_name, sizeof(c->r->tsa_name), "(%s)", choice);
	return 0;
}

int
vfy_parse_tstinfo(struct vctx *c)
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
		return vfy_fail(c, "RFC 3161 2.4.2: TSTInfo %s", why);
	if (vfy_read_uint(c->tstn, "version", &v) != 0 || v != 1)
		return vfy_fail(c, "RFC 3161 2.4.2: TSTInfo version must be 1");
	if (tsa_asn1_read_oid(c->tstn, "policy", r->policy, sizeof(r->policy)) != 0)
		return vfy_fail(c, "RFC 3161 2.4.2: unreadable policy");
	if (tsa_asn1_read_oid(c->tstn, "messageImprint.hashAlgorithm.algorithm", oid,
	    sizeof(oid)) != 0 || (c->imprint_hash = hash_by_oid(oid)) == NULL)
		return vfy_fail(c, "RFC 3161 2.4.2: messageImprint hash algorithm %s is unknown",
		    oid);
	if (vfy_params_absent_or_null(c, c->tstn, c->econtent, c->econtent_len,
	    "messageImprint.hashAlgorithm.parameters", "messageImprint hashAlgorithm") == -1)
		return -1;
	if (tsa_asn1_read(c->tstn, "messageImprint.hashedMessage", c->imprint,
	    sizeof(c->imprint), &c->imprint_len) != 0 ||
	    c->imprint_len != c->imprint_hash->len)
		return vfy_fail(c, "RFC 3161 2.4.1: hashedMessage is not a %s digest",
		    c->imprint_hash->name);
	snprintf(r->hash_name, sizeof(r->hash_name), "%s", c->imprint_hash->name);
	hex_encode(c->imprint, c->imprint_len, r->imprint_hex, sizeof(r->imprint_hex));

	/* RFC 3161 2.4.2: verifiers must take serials up to 160 bits; DER may add a sign
	 * octet, hence TSA_SERIAL_MAX + 1 octets. */
	if (tsa_asn1_read(c->tstn, "serialNumber", buf, sizeof(buf), &len) != 0)
		return vfy_fail(c, "RFC 3161 2.4.2: serialNumber longer than 160 bits");
	if ((buf[0] & 0x80) != 0)
		return vfy_fail(c, "RFC 3161 2.4.2: serialNumber is negative");
	mag = buf;
	mlen = len;
	if (mlen > 1 && mag[0] == 0) {
		mag++;
		mlen--;
	}
	if (mlen > TSA_SERIAL_MAX)
		return vfy_fail(c, "RFC 3161 2.4.2: serialNumber longer than 160 bits");
	memcpy(r->serial_hex, "0x", 2);
	hex_encode(mag, mlen, r->serial_hex + 2, sizeof(r->serial_hex) - 2);
	bytes_to_decimal(mag, mlen, r->serial_dec, sizeof(r->serial_dec));

	memset(when, 0, sizeof(when));
	if (tsa_asn1_read(c->tstn, "genTime", (unsigned char *)when, sizeof(when) - 1,
	    &len) != 0 || strlen(when) >= sizeof(r->gen_time) ||
	    parse_gentime(when, &r->gen_time_sec) == -1)
		return vfy_fail(c, "RFC 3161 2.4.2: genTime must be YYYYMMDDhhmmss[.s...]Z");
	memcpy(r->gen_time, when, strlen(when) + 1);

	if (tsa_asn1_span(c->tstn, c->econtent, c->econtent_len, "accuracy", &mag, &len) == 0) {
		r->has_accuracy = 1;
		if ((rc = vfy_read_uint(c->tstn, "accuracy.seconds", &v)) == -1)
			return vfy_fail(c, "RFC 3161 2.4.2: accuracy seconds out of range");
		r->acc_seconds = rc == 0 ? (unsigned)v : 0;
		if ((rc = vfy_read_uint(c->tstn, "accuracy.millis", &v)) == -1 ||
		    (rc == 0 && (v < 1 || v > 999)))
			return vfy_fail(c, "RFC 3161 2.4.2: accuracy millis must be 1..999");
		r->acc_millis = rc == 0 ? (unsigned)v : 0;
		if ((rc = vfy_read_uint(c->tstn, "accuracy.micros", &v)) == -1 ||
		    (rc == 0 && (v < 1 || v > 999)))
			return vfy_fail(c, "RFC 3161 2.4.2: accuracy micros must be 1..999");
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
			return vfy_fail(c, "RFC 3161 2.4.2: nonce longer than %d octets "
			    "(TSA_MAX_NONCE)", TSA_MAX_NONCE);
		r->has_nonce = 1;
		hex_encode(mag, len, r->nonce_hex, sizeof(r->nonce_hex));
		break;
	case 1:
		break;
	default:
		return vfy_fail(c, "RFC 3161 2.4.2: nonce longer than %d octets (TSA_MAX_NONCE)",
		    TSA_MAX_NONCE);
	}
	if (read_tsa_name(c) == -1)
		return -1;
	r->has_tstinfo = 1;
	return 0;
}
