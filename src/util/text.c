/*
 * text.c - cleaning text for the log and the events table, and quoting a peer's text (see
 * text.h).  Input: any bytes, a peer's among them (a SOAP attribute as libxml2's schema error
 * quotes it, a certificate subject).  UTF-8 is decoded as RFC 3629 section 4 defines it well
 * formed: no overlong forms, no surrogates, nothing past U+10FFFF.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

/* Unicode characters that end a line or reorder text in a viewer (UAX #9, UAX #14). */
static int
invisible_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||	/* C1, NEL (U+0085) among them */
	    cp == 0x061c ||			/* ARABIC LETTER MARK */
	    cp == 0x200e || cp == 0x200f ||	/* LRM, RLM */
	    (cp >= 0x2028 && cp <= 0x202e) ||	/* LS, PS, LRE, RLE, PDF, LRO, RLO */
	    (cp >= 0x2066 && cp <= 0x2069);	/* LRI, RLI, FSI, PDI */
}

/*
 * One character of p (left bytes, left > 0) as it is shown, into out (at least 7 bytes, not
 * terminated): itself, or its escape.  *used: the bytes of p it took.  Returns its length.
 */
static size_t
piece(const unsigned char *p, size_t left, int quote, char *out, size_t *used)
{
	uint32_t cp;
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80) {
		*used = 1;
		switch (p[0]) {
		case '\n':	memcpy(out, "\\n", 2); return 2;
		case '\r':	memcpy(out, "\\r", 2); return 2;
		case '\t':	memcpy(out, "\\t", 2); return 2;
		case '"': case '\\':
			if (quote) {
				out[0] = '\\';
				out[1] = (char)p[0];
				return 2;
			}
			break;
		default:
			if (p[0] < 0x20 || p[0] == 0x7f)
				return (size_t)snprintf(out, 7, "\\x%02x", p[0]);
		}
		out[0] = (char)p[0];
		return 1;
	}
	/* RFC 3629 4: the lead byte gives the length and the range of the second byte. */
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		n = 0;
	if (n == 0 || left < n || p[1] < lo || p[1] > hi)
		goto bad;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			goto bad;
	cp = p[0] & (0xff >> (n + 1));
	for (i = 1; i < n; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	*used = n;
	if (invisible_control(cp))
		return (size_t)snprintf(out, 7, "\\u%04x", (unsigned)cp);
	memcpy(out, p, n);
	return n;
bad:
	*used = 1;
	return (size_t)snprintf(out, 7, "\\x%02x", p[0]);
}

/*
 * Shows src into dst (when not NULL), piece by piece while the next piece fits in room bytes
 * and fewer than maxchars characters were written.  *cut: src did not end there.  Returns
 * the bytes written (not terminated).
 */
static size_t
render(char *dst, size_t room, const char *src, int quote, size_t maxchars, int *cut)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t left = strlen(src), pos = 0, chars = 0, n, used;
	char out[8];

	*cut = 0;
	while (left > 0) {
		n = piece(p, left, quote, out, &used);
		if (chars == maxchars || n > room - pos) {
			*cut = 1;
			break;
		}
		if (dst != NULL)
			memcpy(dst + pos, out, n);
		pos += n;
		chars++;
		p += used;
		left -= used;
	}
	return pos;
}

size_t
text_clean(char *dst, size_t dstlen, const char *src)
{
	size_t n;
	int cut;

	if (dstlen < 4) {
		if (dstlen > 0)
			dst[0] = '\0';
		return 0;
	}
	n = render(NULL, SIZE_MAX, src, 0, SIZE_MAX, &cut);
	if (n <= dstlen - 1)
		n = render(dst, dstlen - 1, src, 0, SIZE_MAX, &cut);
	else {
		n = render(dst, dstlen - 4, src, 0, SIZE_MAX, &cut);
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
	return n;
}

size_t
text_quote(char *dst, size_t dstlen, const char *src, size_t maxchars)
{
	size_t n;
	int cut;

	if (dstlen < 8) {
		if (dstlen > 0)
			dst[0] = '\0';
		return 0;
	}
	if (src == NULL)
		return text_clean(dst, dstlen, "(none)");
	dst[0] = '"';
	n = render(NULL, SIZE_MAX, src, 1, maxchars, &cut);
	if (!cut && n + 3 <= dstlen)
		n = 1 + render(dst + 1, n, src, 1, maxchars, &cut);
	else {
		/* The opening and closing quotes, "..." and the NUL. */
		n = 1 + render(dst + 1, dstlen - 6, src, 1, maxchars, &cut);
		cut = 1;
	}
	dst[n++] = '"';
	if (cut) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
	return n;
}
