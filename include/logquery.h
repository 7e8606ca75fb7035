/*
 * logquery.h - the token log's query strings (src/log/query.c), as GET URL/log/proof and
 * URL/log/consistency take them (logapi.h).
 */
#ifndef TSA_LOGQUERY_H
#define TSA_LOGQUERY_H

#include <stddef.h>
#include <stdint.h>

#define LOGAPI_MAX_QUERY	128	/* the longest query: two sizes of 19 digits */
#define LOGAPI_MAX_SIZE		19
#define LOGAPI_MAX_SERIAL	49	/* issued_tokens.serial is numeric(49, 0) */

/* Strict: exactly these keys, each once, decimal digits only (a serial of 1..49 digits into
 * dec, sizes of 1..19 digits within 2^63 - 1; "first" and "second" in either order), no
 * percent-encoding, nothing else.  0 or -1. */
int	logapi_parse_serial(const char *q, char *dec, size_t declen);
int	logapi_parse_sizes(const char *q, uint64_t *first, uint64_t *second);

#endif
