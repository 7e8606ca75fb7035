/*
 * logkey.h - the token log's own key, held by a signing process (tsa-signer) beside the
 * time-stamping units' keys and never one of them: it signs the tree heads tsa-log orders
 * (README "Token log").  Opened from its PKCS#11 URI (tsa.conf log_key) at first use and
 * again after any failure.  Its id for auditors: the hex SHA-256 of its SubjectPublicKeyInfo.
 *
 * Ownership: logkey_close() releases what logkey_sign() opened; a signature is gnutls_free'd
 * by the caller.
 */
#ifndef TSA_LOGKEY_H
#define TSA_LOGKEY_H

#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

struct logkey {
	const char		*uri;		/* NULL: no log key on this host */
	gnutls_privkey_t	 key;		/* NULL until opened */
	gnutls_sign_algorithm_t	 algo;		/* ECDSA or RSA PKCS#1 v1.5, with SHA-256 */
	char			 id[65];
};

/* Signs tbs with the log key into *sig.  0, or -1 with err (the key is closed, to be
 * opened again at the next call). */
int	logkey_sign(struct logkey *k, const unsigned char *tbs, size_t len, gnutls_datum_t *sig,
	    char *err, size_t errlen);
void	logkey_close(struct logkey *k);

#endif
