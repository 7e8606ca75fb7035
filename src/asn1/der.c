/*
 * der.c - strict DER gate for untrusted input (see der.h).
 * Input: bytes from the network (requests) or from files (tokens being verified).
 * Standard: ITU-T X.690 (08/2015) sections 8, 10 and 11.
 */
#include <string.h>

#include "der.h"
#include "tsa_limits.h"

struct tlv {
	unsigned	 cls;		/* 0 universal, 1 application, 2 context, 3 private */
	int		 constructed;
	unsigned long	 tag;
	const unsigned char *val;
	size_t		 vlen;
	size_t		 total;		/* header + contents */
};

/* Reads one TLV header at p; 0 or -1 with *why. */
static int
tlv_read(const unsigned char *p, size_t len, struct tlv *t, const char **why)
{
	size_t i = 0, n, vlen = 0;

	if (len < 2) {
		*why = "X.690 8.1: truncated header";
		return -1;
	}
	t->cls = p[0] >> 6;
	t->constructed = (p[0] & 0x20) != 0;
	t->tag = p[0] & 0x1f;
	i = 1;
	if (t->tag == 0x1f) {
		/* X.690 8.1.2.4: high tag number form, base 128, minimal, at most 4 octets here. */
		t->tag = 0;
		if (p[i] == 0x80) {
			*why = "X.690 8.1.2.4.2: tag number not minimal";
			return -1;
		}
		for (n = 0;; n++) {
			if (i >= len || n == 4) {
				*why = "X.690 8.1.2.4: tag number too long or truncated";
				return -1;
			}
			t->tag = t->tag << 7 | (p[i] & 0x7f);
			if ((p[i++] & 0x80) == 0)
				break;
		}
		if (t->tag < 31) {
			*why = "X.690 8.1.2.4: high tag form for a low tag number";
			return -1;
		}
	}
	if (i >= len) {
		*why = "X.690 8.1.3: truncated length";
		return -1;
	}
	if (p[i] < 0x80) {
		vlen = p[i++];
	} else if (p[i] == 0x80) {
		*why = "X.690 10.1: indefinite length";
		return -1;
	} else {
		n = p[i++] & 0x7f;
		if (n > 4 || n > len - i) {
			*why = "X.690 8.1.3.5: length too long or truncated";
			return -1;
		}
		if (p[i] == 0) {
			*why = "X.690 10.1: length not minimal (leading zero)";
			return -1;
		}
		while (n-- > 0)
			vlen = vlen << 8 | p[i++];
		if (vlen < 0x80) {
			*why = "X.690 10.1: long length form for a short length";
			return -1;
		}
	}
	if (vlen > len - i) {
		*why = "X.690 8.1.1: contents run past the end";
		return -1;
	}
	t->val = p + i;
	t->vlen = vlen;
	t->total = i + vlen;
	return 0;
}

/* X.690 11.7 and 11.8: seconds present, 'Z', a '.' (never ',') before a fraction that ends
 * in a non-zero digit. */
static int
time_valid(const unsigned char *v, size_t n, int generalized)
{
	size_t digits = generalized ? 14 : 12, i;

	if (n < digits + 1 || v[n - 1] != 'Z')
		return 0;
	for (i = 0; i < digits; i++)
		if (v[i] < '0' || v[i] > '9')
			return 0;
	if (n == digits + 1)
		return 1;
	if (!generalized || v[digits] != '.' || n < digits + 3 || v[n - 2] == '0')
		return 0;
	for (i = digits + 1; i < n - 1; i++)
		if (v[i] < '0' || v[i] > '9')
			return 0;
	return 1;
}

/* Rules for universal primitive types whose encoding DER makes unique. */
static int
check_universal(const struct tlv *t, const char **why)
{
	const unsigned char *v = t->val;
	size_t n = t->vlen, i;

	switch (t->tag) {
	case 1:		/* BOOLEAN */
		if (t->constructed || n != 1 || (v[0] != 0x00 && v[0] != 0xff)) {
			*why = "X.690 11.1: BOOLEAN must be one octet, 00 or FF";
			return -1;
		}
		break;
	case 2:		/* INTEGER */
	case 10:	/* ENUMERATED */
		if (t->constructed || n == 0) {
			*why = "X.690 8.3.1: INTEGER must be primitive, at least one octet";
			return -1;
		}
		if (n > 1 && ((v[0] == 0x00 && (v[1] & 0x80) == 0) ||
		    (v[0] == 0xff && (v[1] & 0x80) != 0))) {
			*why = "X.690 8.3.2: INTEGER not minimal";
			return -1;
		}
		break;
	case 3:		/* BIT STRING */
		if (t->constructed || n == 0 || v[0] > 7 || (n == 1 && v[0] != 0)) {
			*why = "X.690 10.2, 8.6.2: bad BIT STRING";
			return -1;
		}
		if (n > 1 && (v[n - 1] & ((1u << v[0]) - 1)) != 0) {
			*why = "X.690 11.2.1: unused BIT STRING bits must be zero";
			return -1;
		}
		break;
	case 5:		/* NULL */
		if (t->constructed || n != 0) {
			*why = "X.690 8.8: NULL must be empty";
			return -1;
		}
		break;
	case 6:		/* OBJECT IDENTIFIER */
	case 13:	/* RELATIVE-OID */
		if (t->constructed || n == 0 || (v[n - 1] & 0x80) != 0) {
			*why = "X.690 8.19: bad OBJECT IDENTIFIER";
			return -1;
		}
		for (i = 0; i < n; i++)
			if (v[i] == 0x80 && (i == 0 || (v[i - 1] & 0x80) == 0)) {
				*why = "X.690 8.19.2: OID subidentifier not minimal";
				return -1;
			}
		break;
	case 16:	/* SEQUENCE */
	case 17:	/* SET */
		if (!t->constructed) {
			*why = "X.690 8.9: SEQUENCE and SET must be constructed";
			return -1;
		}
		break;
	case 23:	/* UTCTime */
	case 24:	/* GeneralizedTime */
		if (t->constructed || !time_valid(v, n, t->tag == 24)) {
			*why = "X.690 11.7, 11.8: time must be primitive, YYMMDDHHMMSSZ (UTCTime) or "
			    "YYYYMMDDHHMMSS[.f]Z with no trailing zero (GeneralizedTime)";
			return -1;
		}
		break;
	case 0:		/* end-of-contents: only in indefinite forms */
		*why = "X.690 10.1: end-of-contents octets";
		return -1;
	default:
		/* X.690 10.2: string types are primitive in DER. */
		if (t->constructed && t->tag != 8 && t->tag != 11) {
			*why = "X.690 10.2: constructed string encoding";
			return -1;
		}
		break;
	}
	return 0;
}

static int
walk(const unsigned char *p, size_t len, int depth, const char **why)
{
	struct tlv t;

	if (depth > TSA_MAX_DER_DEPTH) {
		*why = "nesting deeper than the limit";
		return -1;
	}
	while (len > 0) {
		if (tlv_read(p, len, &t, why) == -1)
			return -1;
		if (t.cls == 0 && check_universal(&t, why) == -1)
			return -1;
		if (t.constructed && walk(t.val, t.vlen, depth + 1, why) == -1)
			return -1;
		p += t.total;
		len -= t.total;
	}
	return 0;
}

int
der_check(const unsigned char *p, size_t len, const char **why)
{
	struct tlv t;

	if (tlv_read(p, len, &t, why) == -1)
		return -1;
	if (t.total != len) {
		*why = "trailing bytes after the DER value";
		return -1;
	}
	return walk(p, len, 0, why);
}

size_t
der_tlv_len(const unsigned char *p, size_t len)
{
	struct tlv t;
	const char *why;

	return tlv_read(p, len, &t, &why) == -1 ? 0 : t.total;
}
