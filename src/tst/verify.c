/*
 * verify.c - verifies an RFC 3161 TimeStampResp or a bare TimeStampToken (see verify.h):
 * the entry point, the verification context, the helpers the verifier's files share, the
 * TimeStampResp (RFC 3161 2.4.2), the time-stamped data against the messageImprint, and the
 * summary.  The other checks are by object: verify_sd.c (ContentInfo, SignedData, the signed
 * attributes and the signature), verify_tstinfo.c (TSTInfo), verify_ess.c (ESS signing
 * certificate), verify_chain.c (certificates, the signer, the chain); verify_int.h is what
 * they share.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "asn1.h"
#include "der.h"
#include "hashalg.h"
#include "tsa_limits.h"
#include "verify.h"
#include "verify_int.h"

/* Sets the error message; returns -1 so that callers can `return vfy_fail(...)`. */
int
vfy_fail(struct vctx *c, const char *fmt, ...)
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
void
vfy_copy_text(char *dst, size_t dstlen, const unsigned char *s, size_t n)
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

void
vfy_format_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC",
	    &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

/* A non-negative INTEGER field that fits 32 bits.  0, 1 when absent, -1 when not. */
int
vfy_read_uint(asn1_node n, const char *field, unsigned long *v)
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
int
vfy_same_uint(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
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
int
vfy_count_elements(struct vctx *c, asn1_node n, const char *field, const char *what, int max,
    int *count)
{
	int rc = asn1_number_of_elements(n, field, count);

	if (rc == ASN1_ELEMENT_NOT_FOUND) {
		*count = 0;
		return 0;
	}
	if (rc != ASN1_SUCCESS)
		return vfy_fail(c, "%s: cannot count the elements", what);
	if (*count > max)
		return vfy_fail(c, "%s: %d elements, more than the %d this verifier reads", what,
		    *count, max);
	return 0;
}

/* An AlgorithmIdentifier's parameters must be absent or NULL (RFC 5754 2, RFC 3370). */
int
vfy_params_absent_or_null(struct vctx *c, asn1_node n, const unsigned char *der, size_t derlen,
    const char *field, const char *what)
{
	const unsigned char *p;
	size_t len;
	int rc = tsa_asn1_span(n, der, derlen, field, &p, &len);

	if (rc == 1 || (rc == 0 && len == 2 && p[0] == 0x05 && p[1] == 0x00))
		return 0;
	return vfy_fail(c, "RFC 5754 2: %s parameters must be absent or NULL", what);
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
		vfy_fail(c, "RFC 3161 2.4.2: TimeStampResp %s", why);
		goto out;
	}
	if (vfy_read_uint(n, "status.status", &status) != 0 ||
	    status >= sizeof(status_names) / sizeof(status_names[0])) {
		vfy_fail(c, "RFC 3161 2.4.2: PKIStatus is not one of 0 to 5");
		goto out;
	}
	r->status = (int)status;
	if (tsa_asn1_read_alloc(n, "status.statusString.?1", &text, &text_len) == 0)
		vfy_copy_text(r->status_text, sizeof(r->status_text), text, text_len);
	switch (tsa_asn1_read(n, "status.failInfo", bits, sizeof(bits), &nbits)) {
	case 0:
		fail_info_text(bits, nbits, r->fail_info, sizeof(r->fail_info));
		break;
	case 1:
		break;
	default:
		vfy_fail(c, "RFC 3161 2.4.2: failInfo longer than %zu bits", sizeof(bits) * 8);
		goto out;
	}
	has_token = tsa_asn1_span(n, der, len, "timeStampToken", tok, toklen) == 0;
	if (status > 1) {
		vfy_fail(c, "RFC 3161 2.4.2: time-stamp not granted: status %s (%lu)%s%s%s%s%s",
		    status_names[status], status, r->fail_info[0] ? ", failInfo " : "",
		    r->fail_info, r->status_text[0] ? ", \"" : "", r->status_text,
		    r->status_text[0] ? "\"" : "");
		goto out;
	}
	if (!has_token) {
		vfy_fail(c, "RFC 3161 2.4.2: status %s but no timeStampToken",
		    status_names[status]);
		goto out;
	}
	rc = 0;
out:
	free(text);
	asn1_delete_structure(&n);
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
		return vfy_fail(c, "cannot hash the data with %s", c->imprint_hash->name);
	if (memcmp(md, c->imprint, c->imprint_len) != 0)
		return vfy_fail(c, "RFC 3161 2.4.2: the data's %s digest does not match the "
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
		vfy_fail(&c, "larger than %d bytes (TSA_MAX_TOKEN_FILE)", TSA_MAX_TOKEN_FILE);
		goto out;
	}
	if (der_check(der, len, &why) == -1) {
		vfy_fail(&c, "strict DER: %s", why);
		goto out;
	}
	/* A TimeStampResp begins with PKIStatusInfo (a SEQUENCE), a ContentInfo with its
	 * contentType (an OID).  The gate passed: the outer header is well formed. */
	hdr = der[1] < 0x80 ? 2 : 2 + (size_t)(der[1] & 0x7f);
	if (der[0] != 0x30 || len <= hdr || (der[hdr] != 0x30 && der[hdr] != 0x06)) {
		vfy_fail(&c, "neither a TimeStampResp nor a ContentInfo (RFC 3161 2.4.2)");
		goto out;
	}
	if (der[hdr] == 0x30) {
		r->is_response = 1;
		if (check_response(&c, der, len, &tok, &toklen) == -1)
			goto out;
	}
	if (vfy_check_signed_data(&c, tok, toklen) == -1 || vfy_parse_tstinfo(&c) == -1 ||
	    vfy_load_certs(&c) == -1 || vfy_find_signer(&c) == -1 ||
	    vfy_check_signed_attrs(&c) == -1 || vfy_check_signature(&c) == -1 ||
	    vfy_check_signer_cert(&c) == -1 || vfy_check_chain(&c) == -1 ||
	    check_data(&c) == -1)
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
	vfy_format_time(r->gen_time_sec, when, sizeof(when));
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
