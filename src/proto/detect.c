/*
 * detect.c - the protocol of a request, from its Content-Type and its first bytes together.
 * Input: the Content-Type header (the client's) and the body (untrusted); only the first
 * non-blank byte is read.
 *
 * Clients do not always label their bodies the way the protocols say: SI-TSA's own guide has
 * clients POST the DER TimeStampReq of RFC 3161 as text/xml and expect a TimeStampResp back,
 * and some RFC 3161 clients send their DER as application/octet-stream, the media type of
 * Authenticode.  The type alone would send those bodies to the wrong parser and answer them in
 * the wrong protocol.  A body that begins with a DER SEQUENCE (0x30, the TimeStampReq of RFC
 * 3161 2.4.1) can be neither XML (XML 1.0 2.1: a document begins with '<', white space or a
 * byte order mark) nor Authenticode's base64 (RFC 4648 4: the base64 of a SEQUENCE begins with
 * 'M'), so it is RFC 3161 whatever the type says; any other body goes to the protocol of its
 * type, whose parser refuses it in that protocol's own terms (a SOAP fault, 400, badDataFormat).
 *
 *   Content-Type                                  body begins with   protocol
 *   application/timestamp-query, -request         anything           RFC 3161
 *   text/xml, application/soap+xml                0x30               RFC 3161
 *   text/xml, application/soap+xml                anything else      SOAP
 *   application/octet-stream                      0x30               RFC 3161
 *   application/octet-stream                      anything else      Authenticode
 *   anything else, or none                                           415
 */
#include <string.h>
#include <strings.h>

#include "detect.h"

#define DER_SEQUENCE	0x30	/* X.690 8.9: the identifier octet of a SEQUENCE */

static const struct media_rule {
	const char		*media_type;
	enum tsa_protocol	 proto;
} rules[] = {
	{ "application/timestamp-query",   TSA_PROTO_RFC3161 },
	{ "application/timestamp-request", TSA_PROTO_RFC3161 },
	{ "text/xml",                      TSA_PROTO_SOAP },
	{ "application/soap+xml",          TSA_PROTO_SOAP },
	{ "application/octet-stream",      TSA_PROTO_AUTHENTICODE },
};

/* Compares a Content-Type header's media type (parameters ignored) with want. */
static int
media_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	if (ct == NULL || strncasecmp(ct, want, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

int
protocol_detect(const char *content_type, const unsigned char *body, size_t len,
    enum tsa_protocol *proto, const char **why)
{
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (!media_type_is(content_type, rules[i].media_type))
			continue;
		*proto = len > 0 && body[0] == DER_SEQUENCE ? TSA_PROTO_RFC3161 : rules[i].proto;
		return 0;
	}
	*why = "unsupported content type: application/timestamp-query (RFC 3161), text/xml "
	    "(SOAP) or application/octet-stream (Authenticode)";
	return 415;
}
