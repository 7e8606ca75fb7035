/*
 * request.h - the one neutral request every protocol codec decodes into, the refusal every
 * step may produce, and the web-server context the worker passes along.  Filters and the
 * issuer see only this, never a protocol's own structures.
 */
#ifndef TSA_REQUEST_H
#define TSA_REQUEST_H

#include <stddef.h>

#include "hashalg.h"
#include "tsa_limits.h"

enum tsa_protocol {
	TSA_PROTO_RFC3161,
	TSA_PROTO_SOAP,
	TSA_PROTO_AUTHENTICODE,
};

/* PKIFailureInfo bit numbers (RFC 3161 2.4.2); the other protocols map from them. */
enum tsa_fail {
	TSA_FAIL_BAD_ALG = 0,
	TSA_FAIL_BAD_REQUEST = 2,
	TSA_FAIL_BAD_DATA_FORMAT = 5,
	TSA_FAIL_TIME_NOT_AVAILABLE = 14,
	TSA_FAIL_UNACCEPTED_POLICY = 15,
	TSA_FAIL_UNACCEPTED_EXTENSION = 16,
	TSA_FAIL_ADD_INFO_NOT_AVAILABLE = 17,
	TSA_FAIL_SYSTEM_FAILURE = 25,
};

/*
 * How a refusal is answered, set by whoever refuses: in the protocol's own terms (RFC 3161's
 * PKIStatusInfo, SOAP's StatusInfo, the HTTP status Authenticode maps its failures to), as a
 * SOAP Fault (a body that is no SOAP request to answer in those terms), or with a bare HTTP
 * status before any protocol matters (no such service, a client or address not allowed).
 */
enum tsa_refusal_kind {
	TSA_REFUSAL_STATUS,
	TSA_REFUSAL_FAULT,
	TSA_REFUSAL_HTTP,
};

/* Why a request is not granted.  text is static and safe to show a client; detail is for the
 * log and the events table only. */
struct tsa_refusal {
	enum tsa_refusal_kind	 kind;
	enum tsa_fail		 fail;
	int			 http_status;	/* TSA_REFUSAL_HTTP: the status */
	const char		*text;
	char			 detail[256];
};

/* A protocol's answer to one request; body is malloc'd, the caller's to free. */
struct tsa_answer {
	int		 status;	/* HTTP */
	const char	*content_type;
	unsigned char	*body;
	size_t		 body_len;
};

struct tsa_extension {
	char	oid[TSA_MAX_OID_TEXT];
	int	critical;
};

/* Text a protocol echoes character for character (SOAP: the DigestMethod's Algorithm, the
 * DigestValue with its whitespace, the Nonce); empty for RFC 3161. */
struct tsa_echo {
	char	digest_method[TSA_MAX_XML_URI];
	char	digest_value[TSA_MAX_XML_DIGEST_TEXT];
	int	has_nonce;
	char	nonce[TSA_MAX_XML_NONCE_DIGITS + 1];
};

struct tsa_request {
	enum tsa_protocol	 protocol;
	char			 hash_oid[TSA_MAX_OID_TEXT];
	const struct hash_alg	*hash;		/* NULL: an algorithm we do not know */
	int			 hash_null_params;	/* parameters NULL (else absent): echoed */
	unsigned char		 imprint[TSA_MAX_IMPRINT];
	size_t			 imprint_len;
	int			 has_nonce;
	unsigned char		 nonce[TSA_MAX_NONCE];	/* INTEGER contents, minimal */
	size_t			 nonce_len;
	int			 has_req_policy;
	char			 req_policy[TSA_MAX_OID_TEXT];
	int			 cert_req;
	size_t			 n_ext;
	struct tsa_extension	 ext[TSA_MAX_EXTENSIONS];
	struct tsa_echo		 echo;
	/* Authenticode: the signature bytes to countersign (up to TSA_MAX_AUTHENTICODE_SIG,
	 * more than imprint holds), malloc'd and owned by the request: authenticode_free().
	 * NULL for the other protocols. */
	unsigned char		*signature;
	size_t			 signature_len;
};

/* What the web server told us about the request (FastCGI params); strings may be NULL. */
struct tsa_client {
	const char	*service;	/* TSA_SERVICE, else SCRIPT_NAME */
	const char	*remote_addr;
	const char	*tls_verify;	/* SSL_CLIENT_VERIFY */
	const char	*tls_subject;	/* SSL_CLIENT_S_DN */
	const char	*tls_issuer;	/* SSL_CLIENT_I_DN */
	const char	*tls_cert;	/* SSL_CLIENT_CERT (PEM, or URL-escaped PEM) */
	/* Worked out by the worker (policy/clients.c) before a policy is chosen: */
	int		 cert_verified;	/* the web server verified a certificate we could read */
	const char	*registered;	/* its name in clients for this service, or NULL */
};

const char	*tsa_protocol_name(enum tsa_protocol p);
/*
 * Whether a request's parts agree as its protocol's parser leaves them: the imprint as long as
 * its algorithm's digest, SOAP's text to echo saying what the fields say (method, value,
 * nonce), a signature to countersign in Authenticode requests only.  NULL, or what disagrees:
 * the signing process refuses such an order (a parser never makes one).
 */
const char	*tsa_request_mismatch(const struct tsa_request *req);
/* Fills ref, answered in the protocol's own terms; detail is printf-formatted (may be NULL). */
void		 tsa_refuse(struct tsa_refusal *ref, enum tsa_fail fail, const char *text,
		    const char *detail, ...) __attribute__((format(printf, 4, 5)));
/* The same, badRequest answered with a SOAP Fault (TSA_REFUSAL_FAULT). */
void		 tsa_refuse_fault(struct tsa_refusal *ref, const char *text, const char *detail,
		    ...) __attribute__((format(printf, 3, 4)));
/* The same, answered with the bare HTTP status http_status (TSA_REFUSAL_HTTP). */
void		 tsa_refuse_http(struct tsa_refusal *ref, int http_status, enum tsa_fail fail,
		    const char *text, const char *detail, ...)
		    __attribute__((format(printf, 5, 6)));

#endif
