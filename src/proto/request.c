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

static void
refuse(struct tsa_refusal *ref, enum tsa_refusal_kind kind, int http_status, enum tsa_fail fail,
    const char *text, const char *detail, va_list ap)
{
	ref->kind = kind;
	ref->fail = fail;
	ref->http_status = http_status;
	ref->text = text;
	ref->detail[0] = '\0';
	if (detail != NULL)
		vsnprintf(ref->detail, sizeof(ref->detail), detail, ap);
}

void
tsa_refuse(struct tsa_refusal *ref, enum tsa_fail fail, const char *text, const char *detail,
    ...)
{
	va_list ap;

	va_start(ap, detail);
	refuse(ref, TSA_REFUSAL_STATUS, 0, fail, text, detail, ap);
	va_end(ap);
}

void
tsa_refuse_fault(struct tsa_refusal *ref, const char *text, const char *detail, ...)
{
	va_list ap;

	va_start(ap, detail);
	refuse(ref, TSA_REFUSAL_FAULT, 0, TSA_FAIL_BAD_REQUEST, text, detail, ap);
	va_end(ap);
}

void
tsa_refuse_http(struct tsa_refusal *ref, int http_status, enum tsa_fail fail, const char *text,
    const char *detail, ...)
{
	va_list ap;

	va_start(ap, detail);
	refuse(ref, TSA_REFUSAL_HTTP, http_status, fail, text, detail, ap);
	va_end(ap);
}
