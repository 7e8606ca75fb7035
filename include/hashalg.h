/*
 * hashalg.h - the digest algorithms the TSA knows, one table: name (as configuration writes
 * it), OID, GnuTLS identifier, digest length, XML-DSig URI.  Which of them a policy accepts is
 * configuration (the hash-algorithms filter), not this table.
 */
#ifndef TSA_HASHALG_H
#define TSA_HASHALG_H

#include <stddef.h>
#include <gnutls/gnutls.h>

struct hash_alg {
	const char			*name;
	const char			*oid;
	gnutls_digest_algorithm_t	 gnutls;
	size_t				 len;
	const char			*xmldsig_uri;	/* NULL when XML-DSig names none */
};

const struct hash_alg	*hash_by_oid(const char *oid);
const struct hash_alg	*hash_by_name(const char *name);
const struct hash_alg	*hash_by_gnutls(gnutls_digest_algorithm_t alg);
/* The whole table, for iteration: *n entries. */
const struct hash_alg	*hash_table(size_t *n);

#endif
