/*
 * bytes.h - small conversions between byte strings and text: hex, and the decimal form of a
 * big-endian unsigned integer (serial numbers are shown and stored in decimal, up to 160 bits,
 * beyond any C integer type), and 64-bit big-endian integers.
 */
#ifndef TSA_BYTES_H
#define TSA_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of p into out (2*len+1 bytes needed). Returns 0, or -1 if out is too small. */
int	hex_encode(const unsigned char *p, size_t len, char *out, size_t outlen);
/* Hex text (either case, even length, optional 0x prefix) into out. Returns 0 or -1. */
int	hex_decode(const char *hex, unsigned char *out, size_t max, size_t *outlen);
/* The value of one hex digit (either case), or -1. */
int	hex_digit(int c);
/* The unsigned 64-bit big-endian integer in p[0..7] (network order, as PostgreSQL's binary
 * int8 and RFC 9162's uint64 are written). */
uint64_t	be64_get(const unsigned char *p);
/*
 * Percent-decodes s[0..n) (RFC 3986 2.1) into out, NUL-terminated, at most max bytes with the
 * NUL; with form, '+' is a space (application/x-www-form-urlencoded).  0 with *outlen, or -1:
 * a '%' not followed by two hex digits, or too long.
 */
int	percent_decode(const char *s, size_t n, int form, char *out, size_t max, size_t *outlen);
/* Decimal text of the unsigned big-endian integer p. Returns 0 or -1 if out is too small. */
int	bytes_to_decimal(const unsigned char *p, size_t len, char *out, size_t outlen);
/* Minimal unsigned big-endian bytes of decimal text. Returns 0 or -1 (not a number, too big). */
int	decimal_to_bytes(const char *dec, unsigned char *out, size_t max, size_t *outlen);
/* Reads a whole file of at most max bytes into a malloc'd buffer (caller frees). 0 or -1. */
int	file_read(const char *path, size_t max, unsigned char **out, size_t *outlen);

#endif
