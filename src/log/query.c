/*
 * query.c - the token log's query strings (see logquery.h): URL/log/proof?serial=DEC and
 * URL/log/consistency?first=N&second=M, the only input a client gives the log.  Strict and
 * bounded: the string's length checked first, exactly the keys named, decimal digits only,
 * nothing decoded (a percent sign is refused), no trailing byte.  Fuzzed (fuzz_tlog.c).
 */
#include <stdlib.h>
#include <string.h>

#include "logquery.h"

/* "key=DIGITS" at *p up to '&' or the end: the digits into out; p moved past. 0 or -1. */
static int
pair(const char **p, const char *key, size_t maxdigits, char *out, size_t outlen)
{
	size_t kl = strlen(key), n;

	if (strncmp(*p, key, kl) != 0 || (*p)[kl] != '=')
		return -1;
	*p += kl + 1;
	n = strspn(*p, "0123456789");
	if (n == 0 || n > maxdigits || n >= outlen || ((*p)[n] != '\0' && (*p)[n] != '&'))
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return 0;
}

int
logapi_parse_serial(const char *q, char *dec, size_t declen)
{
	if (q == NULL || strlen(q) > LOGAPI_MAX_QUERY ||
	    pair(&q, "serial", LOGAPI_MAX_SERIAL, dec, declen) == -1 || *q != '\0')
		return -1;
	return 0;
}

static int
size_of(const char *digits, uint64_t *v)
{
	char *end;
	unsigned long long x = strtoull(digits, &end, 10);

	if (*end != '\0' || x > INT64_MAX)
		return -1;
	*v = x;
	return 0;
}

int
logapi_parse_sizes(const char *q, uint64_t *first, uint64_t *second)
{
	char a[LOGAPI_MAX_SIZE + 1], b[LOGAPI_MAX_SIZE + 1];
	int swapped;

	if (q == NULL || strlen(q) > LOGAPI_MAX_QUERY)
		return -1;
	swapped = strncmp(q, "second=", 7) == 0;
	if (pair(&q, swapped ? "second" : "first", LOGAPI_MAX_SIZE, a, sizeof(a)) == -1 ||
	    *q++ != '&' ||
	    pair(&q, swapped ? "first" : "second", LOGAPI_MAX_SIZE, b, sizeof(b)) == -1 ||
	    *q != '\0')
		return -1;
	return size_of(swapped ? b : a, first) == -1 || size_of(swapped ? a : b, second) == -1 ?
	    -1 : 0;
}

