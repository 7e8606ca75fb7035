/*
 * clients.c - who the client is: the certificate the web server verified (SSL_CLIENT_VERIFY
 * SUCCESS and SSL_CLIENT_CERT), matched against the certificates registered for the service
 * by the SHA-256 fingerprint of its DER alone.  Issuer and serial are not enough: a second
 * certificate with the same issuer and serial and another key (a CA reusing a serial, or
 * someone who had its issuing key for a moment) would pass for the registered client.
 * Input: FastCGI params set by the web server from the TLS handshake.  The certificate is
 * parsed by GnuTLS, bounded in size; nginx passes it URL-escaped ($ssl_client_escaped_cert),
 * Apache and lighttpd as plain PEM.
 */
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "bytes.h"
#include "policy.h"

/* A client certificate chain passed by a web server stays well under this. */
#define CLIENT_CERT_MAX	16384

void
client_identify(const struct service *svc, struct tsa_client *client)
{
	static char pem[CLIENT_CERT_MAX];
	unsigned char fp[32];
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t in, raw = { NULL, 0 };
	size_t i;
	size_t len;

	client->cert_verified = 0;
	client->registered = NULL;
	if (client->tls_verify == NULL || strcmp(client->tls_verify, "SUCCESS") != 0 ||
	    client->tls_cert == NULL || client->tls_cert[0] == '\0')
		return;
	/* nginx's $ssl_client_escaped_cert is percent-encoded; Apache's and lighttpd's PEM has
	 * no '%' and passes through. */
	if (percent_decode(client->tls_cert, strlen(client->tls_cert), 0, pem, sizeof(pem),
	    &len) == -1 || len == 0)
		return;
	in.data = (unsigned char *)pem;
	in.size = (unsigned)len;
	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &raw) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, raw.data, raw.size, fp) < 0)
		goto out;
	client->cert_verified = 1;
	for (i = 0; svc != NULL && i < svc->n_clients; i++)
		if (memcmp(svc->clients[i].fingerprint, fp, sizeof(fp)) == 0) {
			client->registered = svc->clients[i].name;
			break;
		}
out:
	gnutls_free(raw.data);
	gnutls_x509_crt_deinit(crt);
}
