/*
 * authenticode.h - the Microsoft Authenticode legacy time-stamp codec (signtool /t,
 * osslsigncode -t): a base64 TimeStampRequest in, a base64 CMS SignedData countersignature
 * out (Microsoft's "Time Stamping Authenticode Signatures").  The protocol has no status
 * structure: a refusal is an HTTP status with a plain text (authenticode_answer).
 *
 * Ownership: a parsed request owns req->signature; authenticode_free() releases it (NULL and
 * requests of other protocols accepted).
 */
#ifndef TSA_AUTHENTICODE_H
#define TSA_AUTHENTICODE_H

#include <stddef.h>

#include "request.h"
#include "token.h"

#define AUTHENTICODE_CONTENT_TYPE	"application/octet-stream"
#define AUTHENTICODE_CONTENT_TYPE_REPLY	"application/octet-stream"
/* The countersignatureType of a request (Microsoft: SPC_TIME_STAMP_REQUEST_OBJID). */
#define OID_MS_TIME_STAMP_REQUEST	"1.3.6.1.4.1.311.3.2.1"

/*
 * Decodes base64 (CR/LF anywhere, one trailing NUL allowed) and then a strict-DER
 * TimeStampRequest: the countersignature type, the inner content type id-data and the [0]
 * signature bytes checked; attributes, when present, read past (at most
 * TSA_MAX_AUTHENTICODE_ATTRS).  On success req holds the signature (owned), hash SHA-256 and
 * imprint = SHA-256 of the signature bytes (what the hash-algorithms filter sees and what
 * issued_tokens records).  Returns 0, or -1 with ref set (badDataFormat: HTTP 400).
 */
int	authenticode_parse(const unsigned char *p, size_t len, struct tsa_request *req,
	    struct tsa_refusal *ref);
/* Frees the signature a parsed request owns; accepts NULL. */
void	authenticode_free(struct tsa_request *req);
/*
 * The countersignature of a job: DER ContentInfo{SignedData version 1} over id-data holding
 * the signature bytes, the TSA chain, signed attributes contentType, signingTime and
 * messageDigest (the signer's digest of the signature bytes), no ESS attribute.  0 with a
 * malloc'd *out, or -1.
 */
int	authenticode_token(const struct token_job *job, unsigned char **out, size_t *outlen);
/*
 * The answer: base64 of the token in lines of 64 characters, each ending in LF, as PEM
 * bodies are (OpenSSL's base64 BIO, which osslsigncode uses, refuses lines beyond 80; signtool
 * reads any).  A refusal (token NULL) has no body in this protocol: -1.
 * 0 with a malloc'd *out, or -1.
 */
int	authenticode_encode(const unsigned char *token, size_t token_len,
	    const struct tsa_refusal *ref, int status_text, unsigned char **out, size_t *outlen);
/*
 * The protocol table's answer verb: a token is HTTP 200 with authenticode_encode()'s body; a
 * refusal, having no structure in this protocol, is 503 (time or TSA unavailable) or 400 with
 * ref->text as plain text.  0, or -1.
 */
int	authenticode_answer(const unsigned char *token, size_t token_len,
	    const struct tsa_refusal *ref, int status_text, struct tsa_answer *out);
/*
 * Strict base64 (RFC 4648 4, padded) with CR and LF ignored and one trailing NUL allowed.
 * Writes at most max bytes.  0 with *outlen, or -1 (a bad character, bad padding, non-zero
 * pad bits, too long).  Exposed for the unit tests.
 */
int	authenticode_base64_decode(const unsigned char *p, size_t len, unsigned char *out,
	    size_t max, size_t *outlen);

#endif
