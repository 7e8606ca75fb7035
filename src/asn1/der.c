/*
 * der.c - strict DER gate for untrusted input (see der.h).
 * Input: bytes from the network (requests) or from files (tokens being verified).
 * Standard: ITU-T X.690 (08/2015) sections 8, 10 and 11.
 * Also the writer (der_out_*) of the DER the TSA builds itself from known parts.
 */
#include <stdlib.h>
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

/* ---- the writer ------------------------------------------------------------------------- */

void
der_out_init(struct der_out *o)
{
	memset(o, 0, sizeof(*o));
}

void
der_out_free(struct der_out *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}

/* Room for n more bytes; 0, or -1 with o failed. */
static int
out_reserve(struct der_out *o, size_t n)
{
	unsigned char *np;
	size_t cap;

	if (o->failed)
		return -1;
	if (n > TSA_MAX_TOKEN_FILE || o->len > TSA_MAX_TOKEN_FILE - n) {
		o->failed = 1;
		return -1;
	}
	if (o->len + n <= o->cap)
		return 0;
	cap = o->cap == 0 ? 4096 : o->cap;
	while (cap < o->len + n)
		cap *= 2;
	if ((np = realloc(o->p, cap)) == NULL) {
		o->failed = 1;
		return -1;
	}
	o->p = np;
	o->cap = cap;
	return 0;
}

/* Octets of the length header of n contents (X.690 10.1: definite, minimal). */
static size_t
len_octets(size_t n)
{
	size_t k = 1;

	if (n < 0x80)
		return 1;
	while (n > 0) {
		k++;
		n >>= 8;
	}
	return k;
}

static void
put_len(unsigned char *p, size_t n)
{
	size_t k = len_octets(n), i;

	if (k == 1) {
		p[0] = (unsigned char)n;
		return;
	}
	p[0] = 0x80 | (unsigned char)(k - 1);
	for (i = k - 1; i > 0; i--, n >>= 8)
		p[i] = (unsigned char)(n & 0xff);
}

void
der_out_raw(struct der_out *o, const void *p, size_t len)
{
	if (out_reserve(o, len) == -1)
		return;
	if (len > 0)
		memcpy(o->p + o->len, p, len);
	o->len += len;
}

void
der_out_tlv(struct der_out *o, unsigned char tag, const void *p, size_t len)
{
	size_t h = 1 + len_octets(len);

	if (out_reserve(o, h) == -1 || out_reserve(o, h + len) == -1)
		return;
	o->p[o->len] = tag;
	put_len(o->p + o->len + 1, len);
	o->len += h;
	der_out_raw(o, p, len);
}

void
der_out_integer(struct der_out *o, const unsigned char *p, size_t len)
{
	size_t k = 0;
	int negative;

	if (len == 0) {
		o->failed = 1;
		return;
	}
	/* X.690 8.3.2: no first nine bits all ones or all zeros. */
	negative = (p[0] & 0x80) != 0;
	while (k + 1 < len && p[k] == (negative ? 0xff : 0x00) &&
	    ((p[k + 1] & 0x80) != 0) == negative)
		k++;
	der_out_tlv(o, 0x02, p + k, len - k);
}

void
der_out_oid(struct der_out *o, const char *dotted)
{
	unsigned char buf[TSA_MAX_OID_TEXT];
	unsigned long arc, first = 0;
	size_t n = 0, narcs = 0, k;
	const char *s = dotted;
	unsigned char tmp[10];

	if (o->failed)
		return;
	for (;;) {
		/* X.660: each arc a decimal number without leading zeros. */
		if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
			goto bad;
		/* Arcs up to 2^32-1: every OID the TSA writes, with room to spare. */
		for (arc = 0; *s >= '0' && *s <= '9'; s++) {
			if (arc > (0xffffffffUL - (unsigned long)(*s - '0')) / 10)
				goto bad;
			arc = arc * 10 + (unsigned long)(*s - '0');
		}
		if (narcs == 0) {
			if (arc > 2)
				goto bad;
			first = arc;
		} else {
			if (narcs == 1) {
				/* X.690 8.19.4: the first two arcs make one subidentifier. */
				if (first < 2 && arc >= 40)
					goto bad;
				arc += 40 * first;
			}
			for (k = 0; k == 0 || arc > 0; k++, arc >>= 7)
				tmp[k] = (unsigned char)(arc & 0x7f);
			if (n + k > sizeof(buf))
				goto bad;
			while (k > 0) {
				k--;
				buf[n++] = tmp[k] | (k > 0 ? 0x80 : 0x00);
			}
		}
		narcs++;
		if (*s == '\0')
			break;
		if (*s++ != '.')
			goto bad;
	}
	if (narcs < 2)
		goto bad;
	der_out_tlv(o, 0x06, buf, n);
	return;
bad:
	o->failed = 1;
}

size_t
der_out_open(const struct der_out *o)
{
	return o->len;
}

void
der_out_close(struct der_out *o, size_t mark, unsigned char tag)
{
	size_t n, h;

	if (o->failed)
		return;
	if (mark > o->len) {
		o->failed = 1;
		return;
	}
	n = o->len - mark;
	h = 1 + len_octets(n);
	if (out_reserve(o, h) == -1)
		return;
	memmove(o->p + mark + h, o->p + mark, n);
	o->p[mark] = tag;
	put_len(o->p + mark + 1, n);
	o->len += h;
}

/* X.690 11.6: the encodings compared as octet strings, the shorter one first on a tie (as
 * libtasn1 orders them; DER values of distinct lengths never tie before one ends). */
static int
set_order(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

void
der_out_close_set(struct der_out *o, size_t mark, unsigned char tag)
{
	size_t off[TSA_MAX_SET_ELEMENTS], len[TSA_MAX_SET_ELEMENTS], n = 0, i, j, at, l;
	unsigned char *sorted;

	if (o->failed)
		return;
	if (mark > o->len) {
		o->failed = 1;
		return;
	}
	for (at = mark; at < o->len; at += l) {
		if (n == TSA_MAX_SET_ELEMENTS ||
		    (l = der_tlv_len(o->p + at, o->len - at)) == 0 || l > o->len - at) {
			o->failed = 1;
			return;
		}
		/* insertion sort: a handful of elements */
		for (i = n++; i > 0 && set_order(o->p + off[i - 1], len[i - 1], o->p + at,
		    l) > 0; i--) {
			off[i] = off[i - 1];
			len[i] = len[i - 1];
		}
		off[i] = at;
		len[i] = l;
	}
	if (n > 1) {
		if ((sorted = malloc(o->len - mark)) == NULL) {
			o->failed = 1;
			return;
		}
		for (i = 0, j = 0; i < n; j += len[i], i++)
			memcpy(sorted + j, o->p + off[i], len[i]);
		memcpy(o->p + mark, sorted, o->len - mark);
		free(sorted);
	}
	der_out_close(o, mark, tag);
}

int
der_out_finish(struct der_out *o, unsigned char **out, size_t *outlen)
{
	if (o->failed || o->p == NULL) {
		der_out_free(o);
		return -1;
	}
	*out = o->p;
	*outlen = o->len;
	memset(o, 0, sizeof(*o));
	return 0;
}
