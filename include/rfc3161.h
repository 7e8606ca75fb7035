/*
 * rfc3161.h - the RFC 3161 codec: TimeStampReq in, TimeStampResp out.
 * The token itself (TSTInfo inside CMS SignedData) is built by tst/; this codec only wraps it.
 */
#ifndef TSA_RFC3161_H
#define TSA_RFC3161_H

#include "request.h"

#define RFC3161_CONTENT_TYPE_REPLY	"application/timestamp-reply"

/*
 * Decodes a DER TimeStampReq from untrusted bytes into req.  Returns 0, or -1 with ref set
 * (badRequest, badDataFormat, badAlg, unacceptedExtension when there are too many).  Whether
 * the algorithm, policy and extensions are accepted is the policy's business, not the codec's.
 */
int	rfc3161_parse(const unsigned char *p, size_t len, struct tsa_request *req,
	    struct tsa_refusal *ref);
/*
 * A TimeStampResp: granted with the token (token != NULL), or rejection with ref's failInfo.
 * status_text adds a PKIFreeText (ref->text for rejections, "Operation Okay" when granted).
 * Returns 0 with a malloc'd *out, or -1.
 */
int	rfc3161_encode(const unsigned char *token, size_t token_len, const struct tsa_refusal *ref,
	    int status_text, unsigned char **out, size_t *outlen);
/* The protocol table's answer verb: rfc3161_encode(), HTTP 200 (RFC 3161 3.4: the status is in
 * the TimeStampResp), application/timestamp-reply.  0, or -1. */
int	rfc3161_answer(const unsigned char *token, size_t token_len, const struct tsa_refusal *ref,
	    int status_text, struct tsa_answer *out);

#endif
