/*
 * test_detect.c - unit tests of src/proto/detect.c: every row of its table (the content type
 * and the body's first byte together), media type parameters and case, empty bodies, and the
 * content types no protocol uses.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

#include "testlib.h"

static const unsigned char der[] = { 0x30, 0x29, 0x02, 0x01, 0x01 };
static const unsigned char xml[] = "<?xml version=\"1.0\"?><soap:Envelope/>";
static const unsigned char bom_xml[] = "\xef\xbb\xbf  <soap:Envelope/>";
static const unsigned char b64[] = "MIIBIwYKKwYBBAGCNwMCAaCCARMwggEP";
static const unsigned char junk[] = "hello";

/* The protocol chosen, or -status when refused. */
static int
detect(const char *ct, const unsigned char *body, size_t len)
{
	enum tsa_protocol p;
	const char *why = NULL;
	int status = protocol_detect(ct, body, len, &p, &why);

	if (status != 0) {
		ck_assert_ptr_nonnull(why);
		return -status;
	}
	return (int)p;
}

#define D(ct, b)	detect(ct, b, sizeof(b) - 1)

START_TEST(test_rfc3161_type)
{
	ck_assert_int_eq(detect("application/timestamp-query", der, sizeof(der)), TSA_PROTO_RFC3161);
	ck_assert_int_eq(detect("application/timestamp-request", der, sizeof(der)), TSA_PROTO_RFC3161);
	/* One protocol for the type: a bad body is that protocol's to refuse. */
	ck_assert_int_eq(D("application/timestamp-query", xml), TSA_PROTO_RFC3161);
	ck_assert_int_eq(D("application/timestamp-query", junk), TSA_PROTO_RFC3161);
	ck_assert_int_eq(detect("application/timestamp-query", NULL, 0), TSA_PROTO_RFC3161);
}
END_TEST

START_TEST(test_xml_types)
{
	ck_assert_int_eq(D("text/xml", xml), TSA_PROTO_SOAP);
	ck_assert_int_eq(D("text/xml; charset=utf-8", bom_xml), TSA_PROTO_SOAP);
	ck_assert_int_eq(D("application/soap+xml", xml), TSA_PROTO_SOAP);
	/* SI-TSA's guide: the DER TimeStampReq POSTed as text/xml. */
	ck_assert_int_eq(detect("text/xml", der, sizeof(der)), TSA_PROTO_RFC3161);
	ck_assert_int_eq(detect("TEXT/XML;charset=utf-8", der, sizeof(der)), TSA_PROTO_RFC3161);
	ck_assert_int_eq(detect("application/soap+xml", der, sizeof(der)), TSA_PROTO_RFC3161);
	/* Anything else is SOAP's to refuse (a fault). */
	ck_assert_int_eq(D("text/xml", junk), TSA_PROTO_SOAP);
	ck_assert_int_eq(D("text/xml", b64), TSA_PROTO_SOAP);
	ck_assert_int_eq(detect("text/xml", NULL, 0), TSA_PROTO_SOAP);
}
END_TEST

START_TEST(test_octet_stream)
{
	ck_assert_int_eq(D("application/octet-stream", b64), TSA_PROTO_AUTHENTICODE);
	ck_assert_int_eq(detect("application/octet-stream", der, sizeof(der)), TSA_PROTO_RFC3161);
	ck_assert_int_eq(D("application/octet-stream", junk), TSA_PROTO_AUTHENTICODE);
	ck_assert_int_eq(D("application/octet-stream", xml), TSA_PROTO_AUTHENTICODE);
}
END_TEST

START_TEST(test_unknown_types)
{
	ck_assert_int_eq(detect(NULL, der, sizeof(der)), -415);
	ck_assert_int_eq(detect("", der, sizeof(der)), -415);
	ck_assert_int_eq(D("text/plain", xml), -415);
	ck_assert_int_eq(detect("application/timestamp-queryx", der, sizeof(der)), -415);
	ck_assert_int_eq(detect("text/xmlx", der, sizeof(der)), -415);
	ck_assert_int_eq(detect("application/json", der, sizeof(der)), -415);
}
END_TEST

int
main(void)
{
	return tl_run(tl_suite("detect", 0, test_rfc3161_type, test_xml_types, test_octet_stream,
	    test_unknown_types, NULL));
}
