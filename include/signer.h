/*
 * signer.h - a signing key on a PKCS#11 token (GnuTLS over p11-kit) with its certificate
 * chain, checked before use: RFC 3161 2.3 (critical extendedKeyUsage of id-kp-timeStamping
 * only), validity, and that the key matches the certificate.
 *
 * Ownership: signer_free() frees what signer_load() filled; it accepts NULL.
 * PKCS#11 is per process: pkcs11_setup() runs after fork, in each worker.
 */
#ifndef TSA_SIGNER_H
#define TSA_SIGNER_H

#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>

#include "conf.h"
#include "hashalg.h"
#include "order.h"
#include "tsa_limits.h"

struct der_blob {
	unsigned char	*data;
	size_t		 len;
};

struct signer {
	long			 id;
	char			*name;
	char			*uri;			/* PKCS#11 URI of the private key */
	gnutls_x509_crt_t	 cert;
	struct der_blob		 cert_der;
	struct der_blob		 chain_der[TSA_MAX_CHAIN];	/* issuers, leaf excluded */
	size_t			 n_chain;
	struct der_blob		 issuer_dn;		/* raw DER Name of the issuer */
	struct der_blob		 subject_dn;		/* raw DER Name of the subject */
	struct der_blob		 serial;		/* certificate serial, INTEGER contents */
	gnutls_privkey_t	 key;
	gnutls_pk_algorithm_t	 pk;
	size_t			 ec_size;	/* ECDSA: the curve's size in bytes, from the
						   certificate (XML-DSig's r || s); else 0 */
	gnutls_sign_algorithm_t	 sign_algo;
	const struct hash_alg	*digest;		/* digest of the CMS signature */
	int			 pss;
	char			 scheme[16];
	/* The row's own verdict, set at load from the certificate, the scheme and the digest,
	 * and final for this configuration: why it may never sign; NULL when it may. */
	char			*refused;
	char			*host;		/* signers.host: the server it is bound to; NULL any */
	char			*group;		/* signers.unit_group; NULL: a group of one */
	int			 used;		/* a policy signs with it on this server (tsa-signer
						   opens it; units_resolve() sets it) */
	/* The key's life in the process that opens it (tsa-signer), apart from the row: opening
	 * (not tried yet), usable, or retrying (at most once a second, key_error saying why). */
	enum unit_state		 key_state;
	char			 key_error[256];
	time_t			 key_retry_at;
	int			 last_failed;	/* its last token's signature failed */
};

/* Initialises PKCS#11 in this process with conf's module and PIN. 0, or -1 with err. */
int	pkcs11_setup(const struct tsa_conf *conf, char *err, size_t errlen);
void	pkcs11_teardown(void);
/*
 * fn(arg) is called before the module is reinitialised (a lost connection to the token), so
 * that a key opened outside this file (the token log's, logkey.c) is closed while its module
 * still exists: one such key per process.
 */
void	pkcs11_at_reinit(void (*fn)(void *arg), void *arg);

/*
 * Fills s from a signers row: certificate PEM (leaf first, then chain), PKCS#11 URI, scheme
 * ('auto' or 'rsa-pss') and digest name.  Checks the certificate (signer_check_cert) and, when
 * open_key is set, opens the key and proves it matches the certificate with a test signature.
 * A signer that fails a check is still returned (0) with s->refused saying why, one whose key
 * did not open with key_state UNIT_RETRYING; -1 only when the row itself is unreadable (err
 * says why).
 */
int	signer_load(struct signer *s, long id, const char *name, const char *uri,
	    const char *cert_pem, const char *chain_pem, const char *scheme, const char *digest,
	    int open_key, char *err, size_t errlen);
/* Opens the key of a loaded signer (3 tries) and proves it matches the certificate; a key that
 * will not open is left retrying (signer_ensure_key). */
void	signer_open(struct signer *s);
/* The unit's state: UNIT_REFUSED when the row is, else its key's. */
enum unit_state signer_state(const struct signer *s);
/* Why it cannot sign now (the row's refusal, else the key's error); NULL when it can. */
const char *signer_why(const struct signer *s);
/* Takes over src's open key when dst is the same signer (URI, scheme, digest, certificate):
 * a configuration reload keeps its PKCS#11 sessions.  1 when taken, else 0. */
int	signer_adopt_key(struct signer *dst, struct signer *src);
/*
 * 0 when the signer may sign now: its key opened (the first time here when it was not tried
 * yet).  A key that failed to open (a busy or restarting token) is tried again, at most once a
 * second; a refused row stays refused.  -1 otherwise (signer_why() says why).
 */
int	signer_ensure_key(struct signer *s);
/* RFC 3161 2.3 and validity at `when`. 0, or -1 with err. */
int	signer_check_cert(gnutls_x509_crt_t cert, time_t when, char *err, size_t errlen);
/* Signs data with the signer's key and scheme. 0 with a gnutls-allocated sig, or -1. */
int	signer_sign(const struct signer *s, const unsigned char *data, size_t len,
	    gnutls_datum_t *sig);
/*
 * The signature algorithm of this signer's key with digest h instead of its own (XML-DSig's
 * legacy RSA-SHA1, say); GNUTLS_SIGN_UNKNOWN when there is none (RSA-PSS keeps its digest).
 */
gnutls_sign_algorithm_t signer_algorithm(const struct signer *s, const struct hash_alg *h);
/* signer_sign() with the given algorithm (from signer_algorithm()). */
int	signer_sign_as(const struct signer *s, gnutls_sign_algorithm_t algo,
	    const unsigned char *data, size_t len, gnutls_datum_t *sig);
/* The CMS signatureAlgorithm for this signer signing with digest d: OID and DER parameters (NULL/0 when absent). */
void	signer_cms_algorithm(const struct signer *s, const struct hash_alg *d, const char **oid,
	    const unsigned char **params, size_t *params_len);
/*
 * From the worker's idle loop: a keep-alive signature with one open key that has not signed
 * for `interval` seconds (0: never), so that an idle PKCS#11 session stays open; a lost one is
 * reopened and logged in again.  Logged either way.
 */
void	signer_keepalive(time_t now, long interval);
void	signer_free(struct signer *s);

#endif
