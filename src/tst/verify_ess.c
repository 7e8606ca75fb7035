/*
 * verify_ess.c - the verifier's check of the ESS signing-certificate attribute, v1 (RFC 2634
 * 5.4) or v2 (RFC 5035 3 and 5.4), which RFC 3161 2.4.2 (with RFC 5816) requires among the
 * signed attributes: the first ESSCertID(v2) binds the signature to the signer certificate
 * by its hash and, when issuerSerial is present, by its issuer and serial number.
 *
 * Untrusted input: the attribute value, a span of the token.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "asn1.h"
#include "hashalg.h"
#include "tsa_limits.h"
#include "verify.h"
#include "verify_int.h"

/*
 * RFC 2634 5.4 / RFC 5035 (as RFC 5816 allows for RFC 3161): the first ESSCertID(v2)
 * identifies the certificate that verifies the signature: its hash, and its issuer and
 * serial when issuerSerial is present.
 */
int
vfy_check_ess(struct vctx *c, int version, int idx)
{
	const char *what = version == 2 ? "RFC 5035 5.4: signingCertificateV2" :
	    "RFC 2634 5.4: signingCertificate";
	const struct hash_alg *h;
	unsigned char hash[TSA_MAX_IMPRINT], want[TSA_MAX_IMPRINT], serial[64], *dn = NULL;
	char oid[TSA_MAX_OID_TEXT] = "", field[64], choice[32];
	gnutls_datum_t issuer = { NULL, 0 };
	asn1_node n = NULL;
	size_t hlen, slen, certser_len, dnlen;
	unsigned char certser[64];
	int rc = -1, count, i, found = 0, len;

	if (vfy_attr_value(c, idx, version == 2 ? "TSA.SigningCertificateV2" :
	    "TSA.SigningCertificate", what, &n) == -1)
		return -1;
	if (vfy_count_elements(c, n, "certs", what, INT32_MAX, &count) == -1)
		goto out;
	if (count < 1) {
		vfy_fail(c, "%s: certs is empty", what);
		goto out;
	}
	h = hash_by_name("sha1");
	if (version == 2) {
		/* RFC 5035 5.4.1.1: hashAlgorithm DEFAULT id-sha256. */
		switch (tsa_asn1_read_oid(n, "certs.?1.hashAlgorithm.algorithm", oid,
		    sizeof(oid))) {
		case 0:
			h = hash_by_oid(oid);
			break;
		case 1:
			h = hash_by_name("sha256");
			break;
		default:
			h = NULL;
			break;
		}
	}
	if (h == NULL) {
		vfy_fail(c, "%s: unknown certHash algorithm", what);
		goto out;
	}
	if (tsa_asn1_read(n, "certs.?1.certHash", hash, sizeof(hash), &hlen) != 0 ||
	    hlen != h->len) {
		vfy_fail(c, "%s: certHash is not a %s digest", what, h->name);
		goto out;
	}
	if (gnutls_hash_fast(h->gnutls, c->signer_der, c->signer_der_len, want) < 0 ||
	    memcmp(hash, want, h->len) != 0) {
		vfy_fail(c, "%s: the first certHash is not the %s of the signer certificate", what,
		    h->name);
		goto out;
	}
	if (tsa_asn1_read(n, "certs.?1.issuerSerial.serialNumber", serial, sizeof(serial),
	    &slen) == 0) {
		certser_len = sizeof(certser);
		if (gnutls_x509_crt_get_serial(c->signer, certser, &certser_len) < 0 ||
		    !vfy_same_uint(serial, slen, certser, certser_len)) {
			vfy_fail(c, "%s: issuerSerial.serialNumber is not the signer certificate's",
			    what);
			goto out;
		}
		if (gnutls_x509_crt_get_raw_issuer_dn(c->signer, &issuer) < 0 ||
		    vfy_count_elements(c, n, "certs.?1.issuerSerial.issuer", what,
		    TSA_MAX_SET_ELEMENTS, &count) == -1)
			goto out;
		for (i = 1; i <= count && !found; i++) {
			snprintf(field, sizeof(field), "certs.?1.issuerSerial.issuer.?%d", i);
			len = sizeof(choice);
			if (asn1_read_value(n, field, choice, &len) != ASN1_SUCCESS ||
			    len <= 0 || (size_t)len >= sizeof(choice))
				continue;
			choice[len] = '\0';
			if (strcmp(choice, "directoryName") != 0)
				continue;
			snprintf(field, sizeof(field), "certs.?1.issuerSerial.issuer.?%d."
			    "directoryName", i);
			if (tsa_asn1_read_alloc(n, field, &dn, &dnlen) != 0)
				continue;
			found = dnlen == issuer.size && memcmp(dn, issuer.data, dnlen) == 0;
			free(dn);
			dn = NULL;
		}
		if (!found) {
			vfy_fail(c, "%s: issuerSerial.issuer does not name the signer "
			    "certificate's issuer", what);
			goto out;
		}
	}
	rc = 0;
out:
	gnutls_free(issuer.data);
	asn1_delete_structure(&n);
	return rc;
}
