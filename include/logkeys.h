/*
 * logkeys.h - the token log's keys as auditors are given them (schema 013, log_keys): every
 * server's log public key, by its id (the hex SHA-256 of its SubjectPublicKeyInfo), and a
 * tree head's signature checked against the listed key of its id (README "Token log").
 * Read by tsactl log (sth, proof, consistency, audit, keys) and the workers' GET URL/log/keys.
 *
 * Ownership: logkeys_load() fills a struct logkeys that logkeys_free() releases (it accepts
 * one never loaded, zeroed); nothing keeps the connection.
 */
#ifndef TSA_LOGKEYS_H
#define TSA_LOGKEYS_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include "logstore.h"

#define LOG_MAX_KEYS	256	/* a server each, and the retired ones: far above any fleet */
#define LOG_MAX_SPKI	2048	/* an RSA-8192 SubjectPublicKeyInfo, with room (schema 013) */

struct logkey_entry {
	char		 key_id[65];	/* hex SHA-256 of spki */
	char		 host[64];
	char		 algorithm[24];	/* ecdsa-sha256 | rsa-pkcs1-sha256 */
	unsigned char	 spki[LOG_MAX_SPKI];
	size_t		 spki_len;
	char		 added[32];	/* RFC 3339, UTC */
	char		 retired[32];	/* "": in service */
	int64_t		 retired_ms;	/* -1: in service */
	gnutls_pubkey_t	 pub;
};

struct logkeys {
	size_t			 n;
	struct logkey_entry	*e;
};

/* Every listed key, each checked (its id the SHA-256 of its key, its algorithm the key's).
 * 0, or -1 with err (nothing kept). */
int	logkeys_load(PGconn *c, struct logkeys *ks, char *err, size_t errlen);
void	logkeys_free(struct logkeys *ks);
/* The listed key of id, or NULL. */
const struct logkey_entry *logkeys_find(const struct logkeys *ks, const char *id);
/*
 * Whether h's signature verifies with the listed key of its log_key_id (RFC 6962 3.5's
 * TreeHeadSignature octets, SHA-256), signed before that key was retired: 0, or -1 with why
 * (unsigned, the key not listed, retired before the head, a signature that does not verify).
 */
int	logkeys_check_head(const struct logkeys *ks, const struct log_head *h, char *why,
	    size_t whylen);
/* A DER SubjectPublicKeyInfo's id (65 octets) and algorithm name (one of the schema's).
 * 0, or -1 with err: not a key, or neither ECDSA nor RSA. */
int	logkeys_describe(const unsigned char *spki, size_t len, char *id, const char **algorithm,
	    char *err, size_t errlen);

#endif
