/*
 * hashalg.c - the table of known digest algorithms (see hashalg.h).
 * OIDs: RFC 3279 (SHA-1), RFC 5754 (SHA-2), NIST CSOR (SHA-3).
 */
#include <string.h>

#include "hashalg.h"

static const struct hash_alg table[] = {
	{ "sha1", "1.3.14.3.2.26", GNUTLS_DIG_SHA1, 20,
	  "http://www.w3.org/2000/09/xmldsig#sha1" },
	{ "sha224", "2.16.840.1.101.3.4.2.4", GNUTLS_DIG_SHA224, 28,
	  "http://www.w3.org/2001/04/xmldsig-more#sha224" },
	{ "sha256", "2.16.840.1.101.3.4.2.1", GNUTLS_DIG_SHA256, 32,
	  "http://www.w3.org/2001/04/xmlenc#sha256" },
	{ "sha384", "2.16.840.1.101.3.4.2.2", GNUTLS_DIG_SHA384, 48,
	  "http://www.w3.org/2001/04/xmldsig-more#sha384" },
	{ "sha512", "2.16.840.1.101.3.4.2.3", GNUTLS_DIG_SHA512, 64,
	  "http://www.w3.org/2001/04/xmlenc#sha512" },
	{ "sha3-256", "2.16.840.1.101.3.4.2.8", GNUTLS_DIG_SHA3_256, 32, NULL },
	{ "sha3-384", "2.16.840.1.101.3.4.2.9", GNUTLS_DIG_SHA3_384, 48, NULL },
	{ "sha3-512", "2.16.840.1.101.3.4.2.10", GNUTLS_DIG_SHA3_512, 64, NULL },
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

const struct hash_alg *
hash_by_oid(const char *oid)
{
	size_t i;

	for (i = 0; i < NTABLE; i++)
		if (strcmp(table[i].oid, oid) == 0)
			return &table[i];
	return NULL;
}

const struct hash_alg *
hash_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NTABLE; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

const struct hash_alg *
hash_by_gnutls(gnutls_digest_algorithm_t alg)
{
	size_t i;

	for (i = 0; i < NTABLE; i++)
		if (table[i].gnutls == alg)
			return &table[i];
	return NULL;
}

const struct hash_alg *
hash_table(size_t *n)
{
	*n = NTABLE;
	return table;
}
