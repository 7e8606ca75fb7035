/*
 * bytes.c - hex, percent-encoding and decimal conversions of byte strings (see bytes.h).  Inputs may come from
 * the command line of tsactl; every loop is bounded by the given lengths.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

int
hex_encode(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (outlen < 2 * len + 1)
		return -1;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
	return 0;
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
percent_decode(const char *s, size_t n, int form, char *out, size_t max, size_t *outlen)
{
	size_t i, o = 0;
	int c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (form && c == '+')
			c = ' ';
		else if (c == '%') {
			if (n - i < 3 || hex_digit((unsigned char)s[i + 1]) < 0 ||
			    hex_digit((unsigned char)s[i + 2]) < 0)
				return -1;
			c = hex_digit((unsigned char)s[i + 1]) << 4 | hex_digit((unsigned char)s[i + 2]);
			i += 2;
		}
		if (o + 1 >= max)
			return -1;
		out[o++] = (char)c;
	}
	if (max == 0)
		return -1;
	out[o] = '\0';
	*outlen = o;
	return 0;
}

int
hex_decode(const char *hex, unsigned char *out, size_t max, size_t *outlen)
{
	size_t n, i;

	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	n = strlen(hex);
	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n; i++)
		if (hex_digit((unsigned char)hex[i]) < 0)
			return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hex_digit((unsigned char)hex[2 * i]), lo = hex_digit((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*outlen = n / 2;
	return 0;
}

/* Repeated division of the big-endian number by 10, digits collected in reverse. */
int
bytes_to_decimal(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	unsigned char num[64];
	char rev[160];
	size_t start = 0, nd = 0, i;

	if (len > sizeof(num))
		return -1;
	memcpy(num, p, len);
	while (start < len && num[start] == 0)
		start++;
	while (start < len) {
		unsigned rem = 0;

		for (i = start; i < len; i++) {
			unsigned cur = rem * 256 + num[i];

			num[i] = (unsigned char)(cur / 10);
			rem = cur % 10;
		}
		rev[nd++] = (char)('0' + rem);
		while (start < len && num[start] == 0)
			start++;
	}
	if (nd == 0)
		rev[nd++] = '0';
	if (outlen < nd + 1)
		return -1;
	for (i = 0; i < nd; i++)
		out[i] = rev[nd - 1 - i];
	out[nd] = '\0';
	return 0;
}

/* Multiply-and-add into a fixed big-endian accumulator of max bytes. */
int
decimal_to_bytes(const char *dec, unsigned char *out, size_t max, size_t *outlen)
{
	unsigned char acc[64];
	size_t i, start;

	if (*dec == '\0' || max > sizeof(acc))
		return -1;
	memset(acc, 0, max);
	for (; *dec != '\0'; dec++) {
		unsigned carry;

		if (!isdigit((unsigned char)*dec))
			return -1;
		carry = (unsigned)(*dec - '0');
		for (i = max; i-- > 0;) {
			unsigned cur = acc[i] * 10u + carry;

			acc[i] = (unsigned char)(cur & 0xff);
			carry = cur >> 8;
		}
		if (carry != 0)
			return -1;
	}
	for (start = 0; start + 1 < max && acc[start] == 0; start++)
		;
	memcpy(out, acc + start, max - start);
	*outlen = max - start;
	return 0;
}

int
file_read(const char *path, size_t max, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if ((buf = malloc(max + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		fclose(f);
		free(buf);
		errno = EFBIG;
		return -1;
	}
	fclose(f);
	*out = buf;
	*outlen = n;
	return 0;
}

uint64_t
be64_get(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}
