/*
 * soap.h - the SOAP/XML timestamp codec (Entrust timestamp-protocol-20020207, as the Slovenian
 * government TSA speaks it): a SOAP 1.1 envelope holding tsa:service/ts:TimeStampRequest in,
 * a SOAP 1.1 envelope holding tsa:serviceResponse/ts:TimeStampResponse (StatusInfo, then the
 * XML-DSig token when granted) out, or a SOAP Fault for a malformed envelope.  The messages are
 * those of xsd/timestamp.xsd and wsdl/timestamp.wsdl; the token is built by src/tst/xmltoken.c.
 *
 * Answers: a granted token or a refusal (StatusInfo with a FailInfo) is HTTP 200; a SOAP Fault
 * (a refusal of kind TSA_REFUSAL_FAULT) is HTTP 500 (SOAP 1.1 6.2): soap_answer().
 */
#ifndef TSA_SOAP_H
#define TSA_SOAP_H

#include <stddef.h>

#include "request.h"
#include "tsa_limits.h"

#define SOAP_CONTENT_TYPE_REPLY	"text/xml; charset=utf-8"

/* The request's text that the token echoes character for character. */
/*
 * Compiles the request schema (xsd/timestamp.xsd and xsd/xmldsig-subset.xsd, embedded in the
 * program at build time: nothing is read from disk) once per process.  soap_parse() calls it
 * on first use; a worker may call it after fork to pay the cost before the first request.
 * 0, or -1 when the embedded schema does not compile (a build bug).
 */
int	soap_init(void);
void	soap_cleanup(void);

/*
 * Decodes a SOAP 1.1 request from untrusted bytes into req (protocol TSA_PROTO_SOAP), and the
 * echoed text into echo when it is not NULL.  Returns 0, or -1 with ref set: badAlg (unknown
 * DigestMethod), badDataFormat (DigestValue not base64 or not the digest's length, a nonce out
 * of range), badRequest (schema-invalid TimeStampRequest), or a SOAP Fault (ref->kind
 * TSA_REFUSAL_FAULT: size, DOCTYPE or entity, depth, encoding, not SOAP 1.1, no single
 * tsa:service/ts:TimeStampRequest in the Body).  Whether the algorithm is accepted (SHA-1) is
 * the policy's business.
 */
int	soap_parse_echo(const unsigned char *p, size_t len, struct tsa_request *req,
	    struct tsa_echo *echo, struct tsa_refusal *ref);
/* The protocol table's parse verb: soap_parse_echo() with the echo kept in req->echo. */
int	soap_parse(const unsigned char *p, size_t len, struct tsa_request *req,
	    struct tsa_refusal *ref);

/*
 * 1 when the body looks like XML (after an optional UTF-8 byte order mark and whitespace,
 * '<'), else 0: with the content type (text/xml, application/soap+xml), how the worker tells
 * a SOAP request from a DER one (which begins 0x30).  Cheap; soap_parse() decides the rest.
 */
int	soap_sniff(const unsigned char *p, size_t len);


/*
 * The response: granted with the token (token != NULL, ref NULL), a rejection StatusInfo with
 * ref's FailInfo (status_text adds ref->text as StatusText), or, when ref is a Fault, the SOAP
 * Fault.  Returns 0 with a malloc'd *out, or -1.
 */
int	soap_encode(const unsigned char *token, size_t token_len, const struct tsa_refusal *ref,
	    int status_text, unsigned char **out, size_t *outlen);
/* A SOAP 1.1 Fault, faultcode SOAP-ENV:Client, faultstring ref->text. 0 with *out, or -1. */
int	soap_encode_fault(const struct tsa_refusal *ref, unsigned char **out, size_t *outlen);
/* The protocol table's answer verb: soap_encode() with its HTTP status (500 for a Fault, else
 * 200) and media type.  0, or -1. */
int	soap_answer(const unsigned char *token, size_t token_len, const struct tsa_refusal *ref,
	    int status_text, struct tsa_answer *out);

/* The embedded schema files: 0 xsd/timestamp.xsd, 1 xsd/xmldsig-subset.xsd (NUL-terminated),
 * for the live copies served by src/proto/wsdl.c and the unit test that compares them. */
const char *soap_schema_text(int which);

/* The FailInfo name of a failure (RFC 3161's PKIFailureInfo names, badAlg spelled out). */
const char *soap_fail_name(enum tsa_fail fail);

#endif
