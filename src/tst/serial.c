/*
 * serial.c - TSTInfo serial numbers (RFC 3161 2.4.2: unique per TSA, positive INTEGER, at most
 * 160 bits).  Random, so that workers on any number of machines never coordinate; the
 * database's primary key on issued_tokens.serial is the final guard against a collision.
 */
#include <gnutls/crypto.h>

#include "tst.h"

int
serial_generate(unsigned char *serial, size_t n)
{
	if (n < TSA_SERIAL_MIN || n > TSA_SERIAL_MAX)
		return -1;
	if (gnutls_rnd(GNUTLS_RND_NONCE, serial, n) < 0)
		return -1;
	/* First octet 0x40..0x7F: positive, minimal, exactly n octets (8n-2 random bits). */
	serial[0] = (unsigned char)((serial[0] & 0x3f) | 0x40);
	return 0;
}
