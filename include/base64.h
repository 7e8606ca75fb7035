/*
 * base64.h - the one base64 codec (RFC 4648 4) of the TSA: Authenticode's requests and
 * answers, SOAP's DigestValue, XML-DSig's values.  The decoder is strict (see base64.c).
 *
 * Ownership: base64_encode() returns malloc'd text the caller frees.
 */
#ifndef TSA_BASE64_H
#define TSA_BASE64_H

#include <stddef.h>

/*
 * Decodes the base64 text p[0..len) into out (at most max bytes), passing over the characters
 * of space (NULL: none) wherever they stand.  0 with *outlen, or -1: a character outside the
 * alphabet, a partial quantum, padding out of place or non-zero pad bits, more than max bytes.
 */
int	base64_decode(const unsigned char *p, size_t len, const char *space, unsigned char *out,
	    size_t max, size_t *outlen);
/*
 * The base64 of p[0..len), with a line feed after every line characters (a multiple of 4)
 * and at the end (line 0: one line, no line feed), NUL-terminated; its length in *outlen when
 * outlen is not NULL.  NULL when out of memory or len is absurd.
 */
char	*base64_encode(const unsigned char *p, size_t len, size_t line, size_t *outlen);

#endif
