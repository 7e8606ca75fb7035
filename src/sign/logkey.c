/*
 * logkey.c - the token log's key in a signing process (see logkey.h): opened through GnuTLS
 * from a PKCS#11 URI (the module and the PIN set up by pkcs11_setup, signer.c), its id from
 * its public key, a signature over SHA-256; closed before signer.c reinitialises the module
 * (pkcs11_at_reinit), and opened again at the next tree head.  No certificate: auditors are given the public
 * key (and its id) out of band.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "logkey.h"
#include "signer.h"

void
logkey_close(struct logkey *k)
{
	if (k->key != NULL)
		gnutls_privkey_deinit(k->key);
	k->key = NULL;
}

static void
close_at_reinit(void *arg)
{
	logkey_close(arg);
}

static int
logkey_open(struct logkey *k, char *err, size_t errlen)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = { NULL, 0 };
	unsigned char h[32];
	unsigned bits;
	int rc, pk, i;

	/* The module may be reinitialised (signer.c) when the token's connection is lost. */
	pkcs11_at_reinit(close_at_reinit, k);
	if ((rc = gnutls_privkey_init(&k->key)) < 0 ||
	    (rc = gnutls_privkey_import_url(k->key, k->uri, 0)) < 0) {
		snprintf(err, errlen, "cannot open the log key %s: %s", k->uri, gnutls_strerror(rc));
		goto fail;
	}
	pk = gnutls_privkey_get_pk_algorithm(k->key, &bits);
	if (pk == GNUTLS_PK_ECDSA)
		k->algo = GNUTLS_SIGN_ECDSA_SHA256;
	else if (pk == GNUTLS_PK_RSA)
		k->algo = GNUTLS_SIGN_RSA_SHA256;
	else {
		snprintf(err, errlen, "the log key %s is neither ECDSA nor RSA", k->uri);
		goto fail;
	}
	if ((rc = gnutls_pubkey_init(&pub)) < 0 ||
	    (rc = gnutls_pubkey_import_privkey(pub, k->key, 0, 0)) < 0 ||
	    (rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der)) < 0 ||
	    (rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, h)) < 0) {
		snprintf(err, errlen, "the log key's public key: %s", gnutls_strerror(rc));
		goto fail;
	}
	for (i = 0; i < 32; i++)
		snprintf(k->id + 2 * i, 3, "%02x", h[i]);
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	return 0;
fail:
	gnutls_free(der.data);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	logkey_close(k);
	return -1;
}

int
logkey_sign(struct logkey *k, const unsigned char *tbs, size_t len, gnutls_datum_t *sig,
    char *err, size_t errlen)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)tbs, (unsigned)len };
	int rc;

	if (k->uri == NULL) {
		snprintf(err, errlen, "no log key on this host (tsa.conf log_key)");
		return -1;
	}
	if (k->key == NULL && logkey_open(k, err, errlen) == -1)
		return -1;
	if ((rc = gnutls_privkey_sign_data2(k->key, k->algo, 0, &d, sig)) < 0) {
		snprintf(err, errlen, "signing the tree head: %s", gnutls_strerror(rc));
		logkey_close(k);
		return -1;
	}
	return 0;
}
