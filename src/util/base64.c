/*
 * base64.c - the one base64 codec (see base64.h), RFC 4648 4.
 * Input: untrusted text (a request body, an XML element's content), bounded by its length and
 * by the output's size.  Strict, because a token's inputs must have one reading: whole 4-char
 * quanta, '=' only in the last two places of the last one (RFC 4648 3.3), the pad bits zero
 * (RFC 4648 3.5, so no two texts decode to the same bytes), nothing outside the alphabet but
 * the white space the caller names (CR LF for Authenticode, XML's S for SOAP).  Written here
 * rather than taken from GnuTLS: gnutls_base64_decode2() is lenient (it is for PEM) and cannot
 * be told which white space a protocol allows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
base64_decode(const unsigned char *p, size_t len, const char *space, unsigned char *out,
    size_t max, size_t *outlen)
{
	unsigned char q[4];
	size_t i, n = 0, o = 0, pad = 0;
	int v;

	for (i = 0; i < len; i++) {
		if (space != NULL && p[i] != '\0' && strchr(space, p[i]) != NULL)
			continue;
		if (p[i] == '=') {
			/* Padding only in the last two places of a quantum. */
			if (n < 2 || ++pad > 2)
				return -1;
			q[n++] = 0;
		} else {
			/* RFC 4648 3.3: nothing after the padding. */
			if (pad > 0 || (v = value(p[i])) == -1)
				return -1;
			q[n++] = (unsigned char)v;
		}
		if (n < 4)
			continue;
		/* RFC 4648 3.5: the pad bits of the last character are zero (one encoding). */
		if ((pad == 1 && (q[2] & 0x03) != 0) || (pad == 2 && (q[1] & 0x0f) != 0))
			return -1;
		if (3 - pad > max - o)
			return -1;
		out[o++] = (unsigned char)(q[0] << 2 | q[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)((q[1] & 0x0f) << 4 | q[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)((q[2] & 0x03) << 6 | q[3]);
		n = 0;
	}
	if (n != 0)
		return -1;	/* a partial quantum */
	*outlen = o;
	return 0;
}

char *
base64_encode(const unsigned char *p, size_t len, size_t line, size_t *outlen)
{
	size_t chars, cap, i, o = 0, col = 0;
	unsigned v;
	char *s;

	if (len > SIZE_MAX / 2 / 4 * 3)
		return NULL;
	chars = (len + 2) / 3 * 4;
	cap = chars + (line > 0 ? chars / line + 1 : 0) + 1;
	if ((s = malloc(cap)) == NULL)
		return NULL;
	for (i = 0; i < len; i += 3) {
		size_t rest = len - i;

		v = (unsigned)p[i] << 16;
		if (rest > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (rest > 2)
			v |= p[i + 2];
		s[o++] = alphabet[v >> 18 & 63];
		s[o++] = alphabet[v >> 12 & 63];
		s[o++] = rest > 1 ? alphabet[v >> 6 & 63] : '=';
		s[o++] = rest > 2 ? alphabet[v & 63] : '=';
		col += 4;
		if (line > 0 && (col >= line || i + 3 >= len)) {
			s[o++] = '\n';
			col = 0;
		}
	}
	s[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return s;
}
