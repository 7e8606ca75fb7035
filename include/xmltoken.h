/*
 * xmltoken.h - the XML-DSig timestamp token of the SOAP protocol, in the exact form of the
 * real SI-TSA token: dsig:Signature Id="TimeStampToken" over a dsig:Object holding
 * ts:TimeStampInfo and over the dsig:KeyInfo, inclusive C14N 1.0, no whitespace.
 * Also the base64 both the codec and the token use (XML-DSig wants it without line breaks).
 */
#ifndef TSA_XMLTOKEN_H
#define TSA_XMLTOKEN_H

#include <stddef.h>

#include "soap.h"
#include "token.h"

/*
 * The token for job, echoing the request's DigestValue and Nonce as the codec read them
 * (echo; NULL: re-encoded from job->req, identical for the canonical base64 and decimal that
 * clients send).  The signature and reference digests follow the signer: its digest (SHA-256
 * by default, SHA-1 for the legacy RSA-SHA1 form of SI-TSA) and key type (RSA PKCS#1 v1.5 or
 * ECDSA; RSA-PSS is refused).  Returns 0 with a malloc'd *out, or -1.
 */
int	soap_token_echo(const struct token_job *job, const struct tsa_echo *echo,
	    unsigned char **out, size_t *outlen);
/* The protocol table's token verb: soap_token_echo() with job->req->echo when it is set. */
int	soap_token(const struct token_job *job, unsigned char **out, size_t *outlen);
/* Whether XML-DSig names a SignatureMethod for a GnuTLS signature algorithm (RSA PKCS#1 v1.5
 * and ECDSA: 1; RSA-PSS: 0), i.e. whether a signer using it can make a SOAP token. */
int	soap_token_can_sign(int gnutls_sign_algorithm);

/* Base64 of p without line breaks into a malloc'd NUL-terminated string, or NULL. */
char	*xml_b64_encode(const unsigned char *p, size_t len);
/* Decodes base64 text, skipping XML whitespace; strict padding. 0 with *outlen, or -1
 * (not base64, or more than max bytes). */
int	 xml_b64_decode(const char *text, unsigned char *out, size_t max, size_t *outlen);

#endif
