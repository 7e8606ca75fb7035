/*
 * csrf.c - the console's CSRF tokens (see console.h): an HMAC-SHA256 over the
 * administrator's certificate fingerprint and the issue time, keyed by a secret that lives in
 * PostgreSQL, so that stateless console processes on many machines issue and accept the same
 * tokens without sessions.  Input: the token field of a POST (untrusted): bounded, digits, a
 * dot and 64 lower-case hex digits exactly; compared in constant time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "bytes.h"
#include "console.h"

static int
mac(const unsigned char *key, size_t keylen, const char *fingerprint, long long t,
    char hex[65])
{
	unsigned char d[32];
	char msg[160];
	int n;

	n = snprintf(msg, sizeof(msg), "tsa-admin csrf|%s|%lld", fingerprint, t);
	if (n < 0 || (size_t)n >= sizeof(msg) || keylen == 0 ||
	    gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, msg, (size_t)n, d) < 0)
		return -1;
	return hex_encode(d, sizeof(d), hex, 65);
}

int
csrf_make(const unsigned char *key, size_t keylen, const char *fingerprint, time_t now,
    char *out, size_t outlen)
{
	char hex[65];
	int n;

	if (mac(key, keylen, fingerprint, (long long)now, hex) == -1)
		return -1;
	n = snprintf(out, outlen, "%lld.%s", (long long)now, hex);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
csrf_check(const unsigned char *key, size_t keylen, const char *fingerprint,
    const char *token, time_t now, char *err, size_t errlen)
{
	char want[65];
	const char *dot;
	long long t = 0;
	size_t i;
	unsigned diff = 0;

	if (token == NULL || token[0] == '\0') {
		snprintf(err, errlen, "the form carries no CSRF token");
		return -1;
	}
	if (strlen(token) >= CONSOLE_CSRF_TEXT || (dot = strchr(token, '.')) == NULL ||
	    dot == token || dot - token > 12 || strlen(dot + 1) != 64) {
		snprintf(err, errlen, "the CSRF token is malformed");
		return -1;
	}
	for (i = 0; token + i < dot; i++) {
		if (token[i] < '0' || token[i] > '9') {
			snprintf(err, errlen, "the CSRF token is malformed");
			return -1;
		}
		t = t * 10 + (token[i] - '0');
	}
	if (t > (long long)now + 60 || (long long)now - t > CONSOLE_CSRF_MAX_AGE) {
		snprintf(err, errlen, "the CSRF token has expired: reload the page");
		return -1;
	}
	if (mac(key, keylen, fingerprint, t, want) == -1) {
		snprintf(err, errlen, "cannot compute the CSRF token");
		return -1;
	}
	for (i = 0; i < 64; i++)
		diff |= (unsigned char)want[i] ^ (unsigned char)dot[1 + i];
	if (diff != 0) {
		snprintf(err, errlen, "the CSRF token is not valid for this certificate");
		return -1;
	}
	return 0;
}
