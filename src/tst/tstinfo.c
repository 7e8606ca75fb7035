/*
 * tstinfo.c - the RFC 3161 TSTInfo (2.4.2), the structure TSTInfo of src/asn1/tsa.asn written
 * with the DER writer of der.c (one per token: a libtasn1 tree cost several times more CPU;
 * the unit tests decode and re-encode every TSTInfo with libtasn1, byte for byte).
 * Input: the already-checked neutral request and the policy's options; nothing untrusted is
 * parsed here.
 */
#include <stdio.h>
#include <string.h>

#include "asn1.h"
#include "der.h"
#include "log.h"
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

/* A non-negative INTEGER (or an IMPLICIT-tagged one) of v, minimal (X.690 8.3.2). */
static void
put_uint(struct der_out *o, unsigned char tag, unsigned v)
{
	unsigned char b[1 + sizeof(v)];
	size_t n = 0, i;

	b[n++] = 0;
	for (i = sizeof(v); i > 0; i--)
		b[n++] = (unsigned char)(v >> (8 * (i - 1)));
	for (i = 0; i + 1 < n && b[i] == 0 && (b[i + 1] & 0x80) == 0; i++)
		;
	der_out_tlv(o, tag, b + i, n - i);
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
	static const unsigned char version[] = { 1 };
	const struct tsa_request *req = p->req;
	struct der_out o;
	char when[32];
	size_t m, k;

	if (gentime_format(&p->gen_time, p->digits, when, sizeof(when)) == -1)
		return -1;
	der_out_init(&o);
	m = der_out_open(&o);
	der_out_integer(&o, version, sizeof(version));
	der_out_oid(&o, p->policy_oid);
	k = der_out_open(&o);				/* messageImprint */
	{
		size_t a = der_out_open(&o);		/* hashAlgorithm */

		der_out_oid(&o, req->hash_oid);
		if (req->hash_null_params)
			der_out_raw(&o, null_der, sizeof(null_der));
		der_out_close(&o, a, 0x30);
	}
	der_out_tlv(&o, 0x04, req->imprint, req->imprint_len);
	der_out_close(&o, k, 0x30);
	der_out_integer(&o, p->serial, p->serial_len);
	der_out_tlv(&o, 0x18, when, strlen(when));
	if (p->acc_seconds != 0 || p->acc_millis != 0 || p->acc_micros != 0) {
		/* Accuracy: each field OPTIONAL, a zero one left out. */
		k = der_out_open(&o);
		if (p->acc_seconds != 0)
			put_uint(&o, 0x02, p->acc_seconds);
		if (p->acc_millis != 0)
			put_uint(&o, 0x80, p->acc_millis);
		if (p->acc_micros != 0)
			put_uint(&o, 0x81, p->acc_micros);
		der_out_close(&o, k, 0x30);
	}
	/* ordering is DEFAULT FALSE: DER leaves the default out (X.690 11.5). */
	if (p->ordering)
		der_out_tlv(&o, 0x01, "\xff", 1);
	if (req->has_nonce)
		der_out_integer(&o, req->nonce, req->nonce_len);
	if (p->tsa_name != NULL) {
		/* tsa [0] EXPLICIT GeneralName, the directoryName [4] EXPLICIT Name. */
		k = der_out_open(&o);
		der_out_tlv(&o, 0xa4, p->tsa_name, p->tsa_name_len);
		der_out_close(&o, k, 0xa0);
	}
	if (p->qualified) {
		/* extensions [1] IMPLICIT: one Extension, critical FALSE being the default. */
		k = der_out_open(&o);
		{
			size_t e = der_out_open(&o);

			der_out_oid(&o, OID_PE_QC_STATEMENTS);
			der_out_tlv(&o, 0x04, qc_statements, sizeof(qc_statements));
			der_out_close(&o, e, 0x30);
		}
		der_out_close(&o, k, 0xa1);
	}
	der_out_close(&o, m, 0x30);
	if (der_out_finish(&o, out, outlen) == -1) {
		log_msg(LOG_ERR, "TSTInfo not encoded (policy %s, hash %s: OIDs in dotted form?)",
		    p->policy_oid, req->hash_oid);
		return -1;
	}
	return 0;
}
