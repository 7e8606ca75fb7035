/*
 * request.c - names and refusal helpers of the neutral request (see request.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "request.h"

const char *
tsa_protocol_name(enum tsa_protocol p)
{
	switch (p) {
	case TSA_PROTO_RFC3161:		return "rfc3161";
	case TSA_PROTO_SOAP:		return "soap";
	case TSA_PROTO_AUTHENTICODE:	return "authenticode";
	}
	return "unknown";
}

void
tsa_refuse(struct tsa_refusal *ref, enum tsa_fail fail, const char *text, const char *detail,
    ...)
{
	va_list ap;

	ref->fail = fail;
	ref->http_status = 0;
	ref->text = text;
	ref->detail[0] = '\0';
	if (detail != NULL) {
		va_start(ap, detail);
		vsnprintf(ref->detail, sizeof(ref->detail), detail, ap);
		va_end(ap);
	}
}
