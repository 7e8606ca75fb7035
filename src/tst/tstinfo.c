/*
 * tstinfo.c - the RFC 3161 TSTInfo (2.4.2), encoded through the libtasn1 module.
 * Input: the already-checked neutral request and the policy's options; nothing untrusted is
 * parsed here.
 */
#include <stdio.h>
#include <string.h>

#include "asn1.h"
#include "tst.h"

int
gentime_format(const struct timespec *t, int digits, char *out, size_t outlen)
{
	char frac[16];
	struct tm tm;
	long ns = t->tv_nsec, div = 1000000000L;
	int i, n;

	if (digits < 0 || digits > TSA_MAX_TIME_DIGITS || gmtime_r(&t->tv_sec, &tm) == NULL)
		return -1;
	frac[0] = '\0';
	if (digits > 0) {
		for (i = 0; i < digits; i++)
			div /= 10;
		/* Truncated, never rounded: a token must not claim a time still to come. */
		snprintf(frac, sizeof(frac), ".%0*ld", digits, ns / div);
		n = (int)strlen(frac);
		while (n > 1 && frac[n - 1] == '0')
			frac[--n] = '\0';
		if (n == 1)
			frac[0] = '\0';
	}
	n = snprintf(out, outlen, "%04d%02d%02d%02d%02d%02d%sZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int
write_uint(asn1_node n, const char *field, unsigned v)
{
	char text[16];

	if (v == 0)
		return tsa_asn1_write(n, field, NULL, 0);
	snprintf(text, sizeof(text), "%u", v);
	return tsa_asn1_write(n, field, text, 0);
}

/*
 * EN 319 422 9.1: QCStatements holding esi4-qtstStatement-1, id-etsi-tsts-EuQCompliance
 * (0.4.0.19422.1.1): SEQUENCE { SEQUENCE { OID } }, a constant.
 */
static const unsigned char qc_statements[] = { 0x30, 0x0b, 0x30, 0x09, 0x06, 0x07, 0x04, 0x00,
    0x81, 0x97, 0x5e, 0x01, 0x01 };

int
tstinfo_encode(const struct tst_params *p, unsigned char **out, size_t *outlen)
{
	static const unsigned char null_der[] = { 0x05, 0x00 };
	const struct tsa_request *req = p->req;
	char when[32];
	asn1_node n = NULL;
	int rc = -1;

	if (gentime_format(&p->gen_time, p->digits, when, sizeof(when)) == -1 ||
	    tsa_asn1_new("TSA.TSTInfo", &n) == -1)
		return -1;
	if (tsa_asn1_write(n, "version", "1", 0) == -1 ||
	    tsa_asn1_write(n, "policy", p->policy_oid, 0) == -1 ||
	    tsa_asn1_write(n, "messageImprint.hashAlgorithm.algorithm", req->hash_oid, 0) == -1 ||
	    tsa_asn1_write(n, "messageImprint.hashAlgorithm.parameters",
	    req->hash_null_params ? null_der : NULL,
	    req->hash_null_params ? sizeof(null_der) : 0) == -1 ||
	    tsa_asn1_write(n, "messageImprint.hashedMessage", req->imprint,
	    req->imprint_len) == -1 ||
	    tsa_asn1_write(n, "serialNumber", p->serial, p->serial_len) == -1 ||
	    tsa_asn1_write(n, "genTime", when, 0) == -1)
		goto out;
	if (p->acc_seconds == 0 && p->acc_millis == 0 && p->acc_micros == 0) {
		if (tsa_asn1_write(n, "accuracy", NULL, 0) == -1)
			goto out;
	} else if (write_uint(n, "accuracy.seconds", p->acc_seconds) == -1 ||
	    write_uint(n, "accuracy.millis", p->acc_millis) == -1 ||
	    write_uint(n, "accuracy.micros", p->acc_micros) == -1)
		goto out;
	/* ordering is DEFAULT FALSE: libtasn1 leaves the default out of the DER. */
	if (tsa_asn1_write(n, "ordering", p->ordering ? "TRUE" : "FALSE", 1) == -1)
		goto out;
	if (tsa_asn1_write(n, "nonce", req->has_nonce ? req->nonce : NULL,
	    req->has_nonce ? req->nonce_len : 0) == -1)
		goto out;
	if (p->tsa_name != NULL) {
		if (tsa_asn1_write(n, "tsa", "directoryName", 1) == -1 ||
		    tsa_asn1_write(n, "tsa.directoryName", p->tsa_name, p->tsa_name_len) == -1)
			goto out;
	} else if (tsa_asn1_write(n, "tsa", NULL, 0) == -1)
		goto out;
	if (!p->qualified) {
		if (tsa_asn1_write(n, "extensions", NULL, 0) == -1)
			goto out;
	} else if (tsa_asn1_write(n, "extensions", "NEW", 1) == -1 ||
	    tsa_asn1_write(n, "extensions.?1.extnID", OID_PE_QC_STATEMENTS, 0) == -1 ||
	    tsa_asn1_write(n, "extensions.?1.critical", "FALSE", 1) == -1 ||
	    tsa_asn1_write(n, "extensions.?1.extnValue", qc_statements,
	    sizeof(qc_statements)) == -1)
		goto out;
	rc = tsa_asn1_encode(n, NULL, out, outlen);
out:
	asn1_delete_structure(&n);
	return rc;
}
