/*
 * test_soap.c - unit tests of the SOAP/XML timestamp protocol: the codec (src/proto/soap.c),
 * the XML-DSig token (src/tst/xmltoken.c) and the schema (xsd/timestamp.xsd).
 *
 * The requests are those of the Entrust timestamp-protocol-20020207 as existing clients send
 * them (compact, indented, with and without an XML declaration and a nonce), then hostile
 * ones: DOCTYPE, billion laughs, XXE (external and parameter entities), deep nesting, size,
 * non-UTF-8, wrong namespaces, two requests, unknown elements, unknown digest methods, wrong
 * digest lengths.  Every response is validated against xsd/timestamp.xsd (read from the
 * tree: the tests run from its top, as tests/run-all.sh does).
 *
 * The token is built on a temporary SoftHSM2 token (the approach of test_tst.c: a small PKI
 * made with GnuTLS, keys written by p11tool), cut out of the response envelope and verified
 * with `xmlsec1 --verify` as clients verify it, detached; its structure is compared with the
 * real SI-TSA token of 2021 (tests/unit/fixtures/soap/si-tsa-token-2021.xml), which xmlsec1
 * verifies too.
 */
#include <check.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "bytes.h"
#include "conf.h"
#include "hashalg.h"
#include "policy.h"
#include "signer.h"
#include "soap.h"
#include "token.h"
#include "xmltoken.h"
#include "xmlverify.h"

#include "testlib.h"

#define FIXTURE		"tests/unit/fixtures/soap/si-tsa-token-2021.xml"
#define TOKEN_LABEL	"tsa-soap-unit"
#define SO_PIN		"11223344"
#define USER_PIN	"55667788"
#define URI_EC		"pkcs11:token=" TOKEN_LABEL ";object=tsa-ec;type=private"
#define URI_RSA		"pkcs11:token=" TOKEN_LABEL ";object=tsa-rsa;type=private"
#define OID_KP_TS	"1.3.6.1.5.5.7.3.8"

const char *soap_schema_text(int which);	/* src/proto/soap.c, for tests */

/* ---- requests --------------------------------------------------------------------------- */

#define ENV_OPEN	"<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" " \
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" " \
	"xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">"
#define ENV_CLOSE	"</SOAP-ENV:Envelope>"
#define TS_NS		"http://www.entrust.com/schemas/timestamp-protocol-20020207"
#define DS_NS		"http://www.w3.org/2000/09/xmldsig#"
#define SHA1_URI	DS_NS "sha1"
#define SHA256_URI	"http://www.w3.org/2001/04/xmlenc#sha256"
#define SHA1_B64	"MU/L/yHe5syGbveAR+We5DFtp3M="
#define SHA256_B64	"n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="

/* A request with the given method, value, nonce element (may be ""), compact. */
#define REQ(method, value, nonce)							\
	ENV_OPEN "<SOAP-ENV:Body><tsa:service xmlns:tsa=\"urn:Entrust-TSA\">"		\
	"<ts:TimeStampRequest xmlns:ts=\"" TS_NS "\"><ts:Digest>"			\
	"<ds:DigestMethod xmlns:ds=\"" DS_NS "\" Algorithm=\"" method "\"/>"		\
	"<ds:DigestValue xmlns:ds=\"" DS_NS "\">" value "</ds:DigestValue>"		\
	"</ts:Digest>" nonce "</ts:TimeStampRequest></tsa:service></SOAP-ENV:Body>" ENV_CLOSE

static const char req_compact[] =
    REQ(SHA1_URI, SHA1_B64, "<ts:Nonce>2376587872813388064</ts:Nonce>");

/* As the reference shows it: indented, an XML declaration, CRLF line ends. */
static const char req_indented[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
    "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"\r\n"
    "    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\r\n"
    " <SOAP-ENV:Body>\r\n"
    "  <tsa:service xmlns:tsa=\"urn:Entrust-TSA\">\r\n"
    "   <ts:TimeStampRequest xmlns:ts=\"" TS_NS "\">\r\n"
    "    <ts:Digest>\r\n"
    "     <ds:DigestMethod xmlns:ds=\"" DS_NS "\" Algorithm=\"" SHA1_URI "\"/>\r\n"
    "     <ds:DigestValue xmlns:ds=\"" DS_NS "\">" SHA1_B64 "</ds:DigestValue>\r\n"
    "    </ts:Digest>\r\n"
    "    <ts:Nonce>0002376587872813388064</ts:Nonce>\r\n"
    "   </ts:TimeStampRequest>\r\n"
    "  </tsa:service>\r\n"
    " </SOAP-ENV:Body>\r\n"
    "</SOAP-ENV:Envelope>\r\n";

/* SHA-256, no nonce, the ds prefix declared once on the Envelope. */
static const char req_sha256_no_nonce[] =
    "<?xml version='1.0' encoding='utf-8'?>"
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
    "xmlns:ds=\"" DS_NS "\"><soapenv:Body><tsa:service xmlns:tsa=\"urn:Entrust-TSA\">"
    "<ts:TimeStampRequest xmlns:ts=\"" TS_NS "\"><ts:Digest>"
    "<ds:DigestMethod Algorithm=\"" SHA256_URI "\"/><ds:DigestValue>" SHA256_B64
    "</ds:DigestValue></ts:Digest></ts:TimeStampRequest></tsa:service></soapenv:Body>"
    "</soapenv:Envelope>";

static int
parse(const char *text, struct tsa_request *req, struct tsa_echo *echo,
    struct tsa_refusal *ref)
{
	memset(ref, 0, sizeof(*ref));
	return soap_parse_echo((const unsigned char *)text, strlen(text), req, echo, ref);
}

/* ---- schema of the responses ------------------------------------------------------------- */

static xmlSchemaPtr file_schema;

static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* Validates the ts:TimeStampResponse inside a response envelope against xsd/timestamp.xsd. */
static void
response_valid(const unsigned char *resp, size_t len, const char *want_status)
{
	xmlSchemaValidCtxtPtr vc;
	xmlDocPtr doc;
	xmlNodePtr n;
	int depth;

	if (file_schema == NULL) {
		xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt("xsd/timestamp.xsd");

		ck_assert_ptr_nonnull(pc);
		file_schema = xmlSchemaParse(pc);
		xmlSchemaFreeParserCtxt(pc);
		ck_assert_ptr_nonnull(file_schema);
	}
	doc = xmlReadMemory((const char *)resp, (int)len, NULL, NULL, XML_PARSE_NONET);
	ck_assert_ptr_nonnull(doc);
	/* Envelope/Body/tsa:serviceResponse/ts:TimeStampResponse */
	n = xmlDocGetRootElement(doc);
	for (depth = 0; depth < 3 && n != NULL; depth++)
		n = n->children;
	ck_assert_ptr_nonnull(n);
	ck_assert_str_eq((const char *)n->name, "TimeStampResponse");
	ck_assert_ptr_nonnull(vc = xmlSchemaNewValidCtxt(file_schema));
	xmlSchemaSetValidErrors(vc, quiet, quiet, NULL);
	ck_assert_int_eq(xmlSchemaValidateOneElement(vc, n), 0);
	xmlSchemaFreeValidCtxt(vc);
	ck_assert_ptr_nonnull(strstr((const char *)resp, want_status));
	xmlFreeDoc(doc);
}

/* ---- parsing: what clients send ---------------------------------------------------------- */

START_TEST(parse_compact)
{
	struct tsa_request req;
	struct tsa_refusal ref;
	struct tsa_echo e;
	unsigned char want[20];
	size_t n;

	ck_assert_msg(parse(req_compact, &req, &e, &ref) == 0, "%s: %s", ref.text, ref.detail);
	ck_assert_int_eq(req.protocol, TSA_PROTO_SOAP);
	ck_assert_str_eq(req.hash->name, "sha1");
	ck_assert_str_eq(req.hash_oid, "1.3.14.3.2.26");
	ck_assert_int_eq(xml_b64_decode(SHA1_B64, want, sizeof(want), &n), 0);
	ck_assert_uint_eq(req.imprint_len, 20);
	ck_assert_mem_eq(req.imprint, want, 20);
	ck_assert_int_eq(req.has_nonce, 1);
	/* 2376587872813388064 = 0x20FB5614208B1120 */
	ck_assert_uint_eq(req.nonce_len, 8);
	ck_assert_mem_eq(req.nonce, ((const unsigned char[]){ 0x20, 0xfb, 0x56, 0x14, 0x20, 0x8b,
	    0x11, 0x20 }), 8);
	ck_assert_str_eq(e.digest_method, SHA1_URI);
	ck_assert_str_eq(e.digest_value, SHA1_B64);
	ck_assert_str_eq(e.nonce, "2376587872813388064");
	/* The protocol table's verb gives the same request. */
	ck_assert_int_eq(soap_parse((const unsigned char *)req_compact, strlen(req_compact), &req,
	    &ref), 0);
}
END_TEST

START_TEST(parse_indented)
{
	struct tsa_request req;
	struct tsa_refusal ref;
	struct tsa_echo e;

	ck_assert_msg(parse(req_indented, &req, &e, &ref) == 0, "%s: %s", ref.text, ref.detail);
	ck_assert_str_eq(req.hash->name, "sha1");
	/* Echoed character for character, leading zeros included. */
	ck_assert_str_eq(e.nonce, "0002376587872813388064");
	ck_assert_uint_eq(req.nonce_len, 8);
}
END_TEST

/* What a parser leaves is consistent (tsa_request_mismatch); any part changed alone is not. */
START_TEST(request_consistent)
{
	struct tsa_request req, r;
	struct tsa_refusal ref;

	ck_assert_msg(soap_parse((const unsigned char *)req_indented, strlen(req_indented), &req,
	    &ref) == 0, "%s: %s", ref.text, ref.detail);
	ck_assert_ptr_null(tsa_request_mismatch(&req));
	r = req;
	r.imprint[0] ^= 1;
	ck_assert_ptr_nonnull(tsa_request_mismatch(&r));
	r = req;
	r.nonce[r.nonce_len - 1] ^= 1;
	ck_assert_ptr_nonnull(tsa_request_mismatch(&r));
	r = req;
	r.has_nonce = 0;
	ck_assert_ptr_nonnull(tsa_request_mismatch(&r));
	r = req;
	snprintf(r.echo.digest_method, sizeof(r.echo.digest_method), "%s",
	    "http://www.w3.org/2001/04/xmlenc#sha256");
	ck_assert_ptr_nonnull(tsa_request_mismatch(&r));
	r = req;
	r.imprint_len--;
	ck_assert_ptr_nonnull(tsa_request_mismatch(&r));
	r = req;
	r.signature_len = 1;
	ck_assert_ptr_nonnull(tsa_request_mismatch(&r));
	/* The same fields as RFC 3161: the echo is out of place. */
	r = req;
	r.protocol = TSA_PROTO_RFC3161;
	ck_assert_ptr_nonnull(tsa_request_mismatch(&r));
	memset(&r.echo, 0, sizeof(r.echo));
	ck_assert_ptr_null(tsa_request_mismatch(&r));
	/* SOAP without text to echo: the token re-encodes the fields. */
	r.protocol = TSA_PROTO_SOAP;
	r.echo.has_nonce = r.has_nonce;
	ck_assert_ptr_null(tsa_request_mismatch(&r));
}
END_TEST

START_TEST(parse_sha2)
{
	static const char *const uris[] = {
		SHA256_URI, "http://www.w3.org/2001/04/xmldsig-more#sha384",
		"http://www.w3.org/2001/04/xmlenc#sha512",
	};
	static const size_t lens[] = { 32, 48, 64 };
	struct tsa_request req;
	struct tsa_refusal ref;
	struct tsa_echo e;
	unsigned char digest[64];
	char text[2048], *b;
	size_t i;

	ck_assert_msg(parse(req_sha256_no_nonce, &req, &e, &ref) == 0, "%s: %s", ref.text,
	    ref.detail);
	ck_assert_str_eq(req.hash->name, "sha256");
	ck_assert_int_eq(req.has_nonce, 0);
	ck_assert_int_eq(e.has_nonce, 0);
	for (i = 0; i < 3; i++) {
		memset(digest, 0xa5, sizeof(digest));
		ck_assert_ptr_nonnull(b = xml_b64_encode(digest, lens[i]));
		snprintf(text, sizeof(text), ENV_OPEN "<SOAP-ENV:Body><tsa:service "
		    "xmlns:tsa=\"urn:Entrust-TSA\"><ts:TimeStampRequest xmlns:ts=\"" TS_NS "\">"
		    "<ts:Digest><ds:DigestMethod xmlns:ds=\"" DS_NS "\" Algorithm=\"%s\"/>"
		    "<ds:DigestValue xmlns:ds=\"" DS_NS "\">%s</ds:DigestValue></ts:Digest>"
		    "<ts:Nonce>1</ts:Nonce></ts:TimeStampRequest></tsa:service></SOAP-ENV:Body>"
		    ENV_CLOSE, uris[i], b);
		free(b);
		ck_assert_msg(parse(text, &req, &e, &ref) == 0, "%s: %s", ref.text, ref.detail);
		ck_assert_uint_eq(req.imprint_len, lens[i]);
		ck_assert_str_eq(req.hash->xmldsig_uri, uris[i]);
	}
}
END_TEST

/* ---- parsing: refusals -------------------------------------------------------------------- */

struct bad {
	const char	*name;
	const char	*text;
	int		 fault;		/* a SOAP Fault; else a StatusInfo with fail */
	enum tsa_fail	 fail;
};

#define BODY(inner)	ENV_OPEN "<SOAP-ENV:Body>" inner "</SOAP-ENV:Body>" ENV_CLOSE
#define SVC(inner)	BODY("<tsa:service xmlns:tsa=\"urn:Entrust-TSA\">" inner "</tsa:service>")
#define TSR(inner)	SVC("<ts:TimeStampRequest xmlns:ts=\"" TS_NS "\">" inner \
			    "</ts:TimeStampRequest>")
#define DIGEST1		"<ts:Digest><ds:DigestMethod xmlns:ds=\"" DS_NS "\" Algorithm=\"" SHA1_URI \
			"\"/><ds:DigestValue xmlns:ds=\"" DS_NS "\">" SHA1_B64 "</ds:DigestValue>" \
			"</ts:Digest>"

static const struct bad bads[] = {
	{ "not XML", "this is not XML", 1, TSA_FAIL_BAD_REQUEST },
	{ "truncated", ENV_OPEN "<SOAP-ENV:Body>", 1, TSA_FAIL_BAD_REQUEST },
	{ "trailing garbage", REQ(SHA1_URI, SHA1_B64, "") "<x/>", 1, TSA_FAIL_BAD_REQUEST },
	{ "DOCTYPE", "<!DOCTYPE x>" REQ(SHA1_URI, SHA1_B64, ""), 1, TSA_FAIL_BAD_REQUEST },
	{ "billion laughs",
	  "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	  "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	  "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
	  REQ(SHA1_URI, "&lol3;", ""), 1, TSA_FAIL_BAD_REQUEST },
	{ "XXE external entity",
	  "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
	  REQ(SHA1_URI, "&xxe;", ""), 1, TSA_FAIL_BAD_REQUEST },
	{ "XXE parameter entity",
	  "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/x\">%p;]>"
	  REQ(SHA1_URI, SHA1_B64, ""), 1, TSA_FAIL_BAD_REQUEST },
	{ "external DTD", "<!DOCTYPE e SYSTEM \"http://127.0.0.1:9/x.dtd\">"
	  REQ(SHA1_URI, SHA1_B64, ""), 1, TSA_FAIL_BAD_REQUEST },
	{ "undeclared entity", REQ(SHA1_URI, "&xxe;", ""), 1, TSA_FAIL_BAD_REQUEST },
	{ "ISO-8859-1 declared", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
	  REQ(SHA1_URI, SHA1_B64, ""), 1, TSA_FAIL_BAD_REQUEST },
	{ "SOAP 1.2", "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\">"
	  "<e:Body/></e:Envelope>", 1, TSA_FAIL_BAD_REQUEST },
	{ "no Body", ENV_OPEN ENV_CLOSE, 1, TSA_FAIL_BAD_REQUEST },
	{ "Header", ENV_OPEN "<SOAP-ENV:Header/><SOAP-ENV:Body/>" ENV_CLOSE, 1,
	  TSA_FAIL_BAD_REQUEST },
	{ "wrong service namespace", BODY("<tsa:service xmlns:tsa=\"urn:other\"/>"), 1,
	  TSA_FAIL_BAD_REQUEST },
	{ "wrong request namespace", SVC("<ts:TimeStampRequest xmlns:ts=\"urn:x\"/>"), 1,
	  TSA_FAIL_BAD_REQUEST },
	{ "two requests", SVC("<ts:TimeStampRequest xmlns:ts=\"" TS_NS "\">" DIGEST1
	  "</ts:TimeStampRequest><ts:TimeStampRequest xmlns:ts=\"" TS_NS "\">" DIGEST1
	  "</ts:TimeStampRequest>"), 1, TSA_FAIL_BAD_REQUEST },
	{ "text in Body", BODY("x<tsa:service xmlns:tsa=\"urn:Entrust-TSA\"/>"), 1,
	  TSA_FAIL_BAD_REQUEST },
	{ "unknown element", TSR(DIGEST1 "<ts:Extensions/>"), 0, TSA_FAIL_BAD_REQUEST },
	{ "no Digest", TSR("<ts:Nonce>1</ts:Nonce>"), 0, TSA_FAIL_BAD_REQUEST },
	{ "nonce not decimal", TSR(DIGEST1 "<ts:Nonce>-1</ts:Nonce>"), 0,
	  TSA_FAIL_BAD_REQUEST },
	{ "nonce too long", TSR(DIGEST1 "<ts:Nonce>12345678901234567890123456789012345678901"
	  "</ts:Nonce>"), 0, TSA_FAIL_BAD_REQUEST },
	{ "unknown digest method", REQ("http://www.w3.org/2001/04/xmldsig-more#md5", SHA1_B64,
	  ""), 0, TSA_FAIL_BAD_ALG },
	{ "SHA-3 has no XML-DSig URI here", REQ("http://www.w3.org/2007/05/xmldsig-more#sha3-256",
	  SHA256_B64, ""), 0, TSA_FAIL_BAD_ALG },
	{ "SHA-256 digest named SHA-1", REQ(SHA1_URI, SHA256_B64, ""), 0,
	  TSA_FAIL_BAD_DATA_FORMAT },
	{ "SHA-1 digest named SHA-256", REQ(SHA256_URI, SHA1_B64, ""), 0,
	  TSA_FAIL_BAD_DATA_FORMAT },
	/* libxml2's xs:base64Binary lets this through; the codec's decoder does not. */
	{ "not base64", REQ(SHA1_URI, "!!!!", ""), 0, TSA_FAIL_BAD_DATA_FORMAT },
	/* Non-zero bits after the last quantum: refused by the schema already. */
	{ "bad padding", REQ(SHA1_URI, "MU/L/yHe5syGbveAR+We5DFtp3N=", ""), 0,
	  TSA_FAIL_BAD_REQUEST },
};


/* The HTTP status soap_answer() gives the refusal ref. */
static int
soap_status(const struct tsa_refusal *ref)
{
	struct tsa_answer a = { 0, NULL, NULL, 0 };

	ck_assert_int_eq(soap_answer(NULL, 0, ref, 1, &a), 0);
	free(a.body);
	return a.status;
}

START_TEST(parse_refusals)
{
	const struct bad *b = &bads[_i];
	struct tsa_request req;
	struct tsa_refusal ref;
	unsigned char *out = NULL;
	size_t outlen = 0;

	ck_assert_msg(parse(b->text, &req, NULL, &ref) == -1, "%s: accepted", b->name);
	ck_assert_msg((ref.kind == TSA_REFUSAL_FAULT) == b->fault, "%s: fault %d, want %d (%s: %s)",
	    b->name, (ref.kind == TSA_REFUSAL_FAULT), b->fault, ref.text, ref.detail);
	ck_assert_ptr_nonnull(ref.text);
	/* Every DOCTYPE is stopped at the DOCTYPE: no entity is declared, none expanded. */
	if (strstr(b->text, "<!DOCTYPE") != NULL)
		ck_assert_str_eq(ref.text, "DOCTYPE and entities are not accepted");
	if (b->fault) {
		ck_assert_int_eq(soap_status(&ref), 500);
		ck_assert_int_eq(soap_encode(NULL, 0, &ref, 1, &out, &outlen), 0);
		ck_assert_ptr_nonnull(strstr((char *)out, "<faultcode>SOAP-ENV:Client</faultcode>"));
	} else {
		ck_assert_msg(ref.fail == b->fail, "%s: fail %d, want %d (%s)", b->name,
		    (int)ref.fail, (int)b->fail, ref.detail);
		ck_assert_int_eq(soap_status(&ref), 200);
		ck_assert_int_eq(soap_encode(NULL, 0, &ref, 1, &out, &outlen), 0);
		response_valid(out, outlen, soap_fail_name(b->fail));
	}
	free(out);
}
END_TEST

START_TEST(parse_limits)
{
	struct tsa_request req;
	struct tsa_refusal ref;
	char *deep, *big, *p;
	size_t i, n;

	/* Deep nesting inside the request: stopped by the SAX guard, before the tree grows. */
	n = 200000;
	ck_assert_ptr_nonnull(deep = malloc(n));
	p = deep;
	p += sprintf(p, "%s", ENV_OPEN "<SOAP-ENV:Body>");
	for (i = 0; i < 20; i++)
		p += sprintf(p, "<a>");
	for (i = 0; i < 20; i++)
		p += sprintf(p, "</a>");
	sprintf(p, "%s", "</SOAP-ENV:Body>" ENV_CLOSE);
	ck_assert_int_eq(parse(deep, &req, NULL, &ref), -1);
	ck_assert_int_eq((ref.kind == TSA_REFUSAL_FAULT), 1);
	ck_assert_str_eq(ref.text, "XML nested too deep");
	free(deep);

	/* Too big: refused before parsing, whatever it holds. */
	n = TSA_MAX_SOAP_BODY + 1;
	ck_assert_ptr_nonnull(big = malloc(n + 1));
	memset(big, ' ', n);
	big[n] = '\0';
	memcpy(big, req_compact, strlen(req_compact));
	ck_assert_int_eq(parse(big, &req, NULL, &ref), -1);
	ck_assert_str_eq(ref.text, "request too large");
	ck_assert_int_eq((ref.kind == TSA_REFUSAL_FAULT), 1);
	free(big);

	/* Huge text and attribute nodes within the size cap: refused, never echoed. */
	n = TSA_MAX_SOAP_BODY - 1024;
	ck_assert_ptr_nonnull(big = malloc(TSA_MAX_SOAP_BODY));
	ck_assert_ptr_nonnull(p = malloc(n + 1));
	memset(p, 'A', n);
	p[n] = '\0';
	snprintf(big, TSA_MAX_SOAP_BODY, REQ(SHA1_URI, "%s", ""), p);
	ck_assert_int_eq(parse(big, &req, NULL, &ref), -1);
	ck_assert_int_eq(ref.fail, TSA_FAIL_BAD_DATA_FORMAT);
	snprintf(big, TSA_MAX_SOAP_BODY, REQ("%s", SHA1_B64, ""), p);
	ck_assert_int_eq(parse(big, &req, NULL, &ref), -1);
	ck_assert_int_eq(ref.fail, TSA_FAIL_BAD_ALG);
	snprintf(big, TSA_MAX_SOAP_BODY, REQ(SHA1_URI, SHA1_B64, "<ts:Nonce>%s</ts:Nonce>"), p);
	ck_assert_int_eq(parse(big, &req, NULL, &ref), -1);
	ck_assert_int_eq(ref.fail, TSA_FAIL_BAD_REQUEST);
	free(p);
	free(big);

	/* UTF-16: NUL bytes refused before libxml2 sees them. */
	{
		static const unsigned char u16[] = { 0xff, 0xfe, '<', 0, 'a', 0, '/', 0, '>', 0 };

		memset(&ref, 0, sizeof(ref));
		ck_assert_int_eq(soap_parse_echo(u16, sizeof(u16), &req, NULL, &ref), -1);
		ck_assert_int_eq((ref.kind == TSA_REFUSAL_FAULT), 1);
	}
	/* Empty. */
	memset(&ref, 0, sizeof(ref));
	ck_assert_int_eq(soap_parse_echo((const unsigned char *)"", 0, &req, NULL, &ref), -1);
	ck_assert_int_eq((ref.kind == TSA_REFUSAL_FAULT), 1);
}
END_TEST

/* The copies embedded in the program are the files of xsd/ (a stale object is caught). */
START_TEST(schema_embedded_is_current)
{
	static const char *const files[] = { "xsd/timestamp.xsd", "xsd/xmldsig-subset.xsd" };
	unsigned char *data;
	size_t len;
	int i;

	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(file_read(files[i], 1 << 20, &data, &len), 0);
		ck_assert_uint_eq(strlen(soap_schema_text(i)), len);
		ck_assert_mem_eq(soap_schema_text(i), data, len);
		free(data);
	}
	ck_assert_int_eq(soap_init(), 0);
}
END_TEST

START_TEST(encode_shapes)
{
	struct tsa_refusal ref;
	unsigned char *out;
	size_t len;

	tsa_refuse(&ref, TSA_FAIL_TIME_NOT_AVAILABLE, "time <not> available & sorry", NULL);
	ck_assert_int_eq(soap_encode(NULL, 0, &ref, 1, &out, &len), 0);
	response_valid(out, len, "<ts:StatusText>time &lt;not&gt; available &amp; sorry<");
	ck_assert_ptr_nonnull(strstr((char *)out, "<ts:FailInfo>timeNotAvailable</ts:FailInfo>"));
	free(out);
	ck_assert_int_eq(soap_encode(NULL, 0, &ref, 0, &out, &len), 0);
	ck_assert_ptr_null(strstr((char *)out, "StatusText"));
	response_valid(out, len, "<ts:Status>rejection</ts:Status>");
	free(out);
	ck_assert_int_eq(soap_encode(NULL, 0, NULL, 0, &out, &len), -1);
	ck_assert_str_eq(soap_fail_name(TSA_FAIL_BAD_ALG), "badAlgorithm");
}
END_TEST

START_TEST(sniff)
{
	ck_assert_int_eq(soap_sniff((const unsigned char *)req_compact, strlen(req_compact)), 1);
	ck_assert_int_eq(soap_sniff((const unsigned char *)"\xef\xbb\xbf \r\n<x/>", 9), 1);
	ck_assert_int_eq(soap_sniff((const unsigned char *)"\x30\x29\x02\x01\x01", 5), 0);
	ck_assert_int_eq(soap_sniff((const unsigned char *)"  ", 2), 0);
	ck_assert_int_eq(soap_sniff((const unsigned char *)"", 0), 0);
}
END_TEST

START_TEST(base64_strict)
{
	unsigned char out[8];
	size_t n;
	char *s;

	ck_assert_int_eq(xml_b64_decode("QUJD", out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(xml_b64_decode(" QU\nJD\t", out, sizeof(out), &n), 0);
	ck_assert_int_eq(xml_b64_decode("QUI=", out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(xml_b64_decode("QUE=", out, sizeof(out), &n), 0);
	ck_assert_int_eq(xml_b64_decode("QUF=", out, sizeof(out), &n), -1);	/* bits left */
	ck_assert_int_eq(xml_b64_decode("QU=I", out, sizeof(out), &n), -1);
	ck_assert_int_eq(xml_b64_decode("QUJ", out, sizeof(out), &n), -1);
	ck_assert_int_eq(xml_b64_decode("QUJDQUJDQUJD", out, sizeof(out), &n), -1);	/* max */
	ck_assert_ptr_nonnull(s = xml_b64_encode((const unsigned char *)"AB", 2));
	ck_assert_str_eq(s, "QUI=");
	free(s);
}
END_TEST

/* ---- the token: PKI and SoftHSM2 --------------------------------------------------------- */

static struct {
	char	 dir[256];
	char	 module[256];
	char	 hsm_conf[320], pin_file[320], env[340], root_file[320];
	char	*root, *ec, *rsa;
	int	 token_ready;
	char	 why[512];
	int	 have_xmlsec;
} G;

static struct tsa_conf conf;

static void
die(const char *what)
{
	fprintf(stderr, "test_soap set-up: %s\n", what);
	exit(EXIT_FAILURE);
}

static void
write_str(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(s, 1, n, f) != n || fclose(f) != 0)
		die(path);
}

static char *
datum_str(gnutls_datum_t *d)
{
	char *s = malloc(d->size + 1);

	if (s == NULL)
		die("out of memory");
	memcpy(s, d->data, d->size);
	s[d->size] = '\0';
	gnutls_free(d->data);
	return s;
}

static gnutls_x509_privkey_t
genkey(gnutls_pk_algorithm_t pk)
{
	gnutls_x509_privkey_t k;
	unsigned bits = pk == GNUTLS_PK_RSA ? 2048 :
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);

	if (gnutls_x509_privkey_init(&k) < 0 || gnutls_x509_privkey_generate(k, pk, bits, 0) < 0)
		die("key generation");
	return k;
}

static char *
mkcert(gnutls_x509_privkey_t key, const char *dn, gnutls_x509_crt_t issuer,
    gnutls_x509_privkey_t issuer_key, int ca, unsigned serial, gnutls_x509_crt_t *keep)
{
	unsigned char ser[3] = { 0x01, (unsigned char)(serial >> 8), (unsigned char)serial };
	unsigned char kid[64];
	size_t kid_len = sizeof(kid);
	time_t now = time(NULL);
	gnutls_x509_crt_t c;
	gnutls_datum_t d;
	int rc = 0;

	if (gnutls_x509_crt_init(&c) < 0)
		die("crt_init");
	rc |= gnutls_x509_crt_set_version(c, 3);
	rc |= gnutls_x509_crt_set_serial(c, ser, sizeof(ser));
	rc |= gnutls_x509_crt_set_activation_time(c, now - 86400);
	rc |= gnutls_x509_crt_set_expiration_time(c, now + 365 * 86400);
	rc |= gnutls_x509_crt_set_dn(c, dn, NULL);
	rc |= gnutls_x509_crt_set_key(c, key);
	rc |= gnutls_x509_crt_get_key_id(c, 0, kid, &kid_len);
	rc |= gnutls_x509_crt_set_subject_key_id(c, kid, kid_len);
	if (ca) {
		rc |= gnutls_x509_crt_set_basic_constraints(c, 1, -1);
		rc |= gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_KEY_CERT_SIGN |
		    GNUTLS_KEY_CRL_SIGN);
	} else {
		rc |= gnutls_x509_crt_set_basic_constraints(c, 0, -1);
		rc |= gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE |
		    GNUTLS_KEY_NON_REPUDIATION);
		rc |= gnutls_x509_crt_set_key_purpose_oid(c, OID_KP_TS, 1);
		kid_len = sizeof(kid);
		rc |= gnutls_x509_crt_get_subject_key_id(issuer, kid, &kid_len, NULL);
		rc |= gnutls_x509_crt_set_authority_key_id(c, kid, kid_len);
	}
	rc |= gnutls_x509_crt_sign2(c, issuer ? issuer : c, issuer ? issuer_key : key,
	    GNUTLS_DIG_SHA256, 0);
	if (rc < 0 || gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d) < 0)
		die(dn);
	if (keep != NULL)
		*keep = c;
	else
		gnutls_x509_crt_deinit(c);
	return datum_str(&d);
}

static int
sh(const char *cmd)
{
	char full[2048];

	snprintf(full, sizeof(full), "%s >>'%s/setup.log' 2>&1", cmd, G.dir);
	return system(full);
}

static int
key_to_token(gnutls_x509_privkey_t key, const char *label, const char *id)
{
	char path[400], cmd[1600];
	gnutls_datum_t d;
	char *pem;

	if (gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d) < 0)
		die("key export");
	pem = datum_str(&d);
	snprintf(path, sizeof(path), "%s/%s.key", G.dir, label);
	write_str(path, pem, strlen(pem));
	free(pem);
	snprintf(cmd, sizeof(cmd), "GNUTLS_PIN=%s p11tool --provider '%s' --login --write "
	    "--load-privkey '%s' --label %s --id %s 'pkcs11:token=%s'", USER_PIN, G.module, path,
	    label, id, TOKEN_LABEL);
	if (sh(cmd) != 0) {
		snprintf(G.why, sizeof(G.why), "p11tool could not write %s", label);
		return -1;
	}
	unlink(path);
	return 0;
}

static void
setup_all(void)
{
	gnutls_x509_privkey_t root_k, ec_k, rsa_k;
	gnutls_x509_crt_t root;
	char cmd[1200], text[600];
	glob_t gl;
	int found;

	if (tl_tmpdir(G.dir, sizeof(G.dir), "soap") == -1)
		die("mkdtemp");
	root_k = genkey(GNUTLS_PK_ECDSA);
	ec_k = genkey(GNUTLS_PK_ECDSA);
	rsa_k = genkey(GNUTLS_PK_RSA);
	G.root = mkcert(root_k, "CN=TSA SOAP unit root CA,O=TSA tests", NULL, NULL, 1, 1, &root);
	G.ec = mkcert(ec_k, "CN=TSA SOAP unit EC,O=TSA tests", root, root_k, 0, 0x10, NULL);
	G.rsa = mkcert(rsa_k, "CN=TSA SOAP unit RSA,O=TSA tests", root, root_k, 0, 0x11, NULL);
	gnutls_x509_crt_deinit(root);
	snprintf(G.root_file, sizeof(G.root_file), "%s/root.pem", G.dir);
	write_str(G.root_file, G.root, strlen(G.root));
	G.have_xmlsec = system("xmlsec1 --version >/dev/null 2>&1") == 0;

	found = glob("/usr/lib/softhsm/libsofthsm2.so", 0, NULL, &gl) == 0;
	if (!found) {
		globfree(&gl);
		found = glob("/usr/lib/*/softhsm/libsofthsm2.so", 0, NULL, &gl) == 0;
	}
	if (found)
		snprintf(G.module, sizeof(G.module), "%s", gl.gl_pathv[0]);
	globfree(&gl);
	if (!found) {
		snprintf(G.why, sizeof(G.why), "libsofthsm2.so not found under /usr/lib");
		goto keys_done;
	}
	snprintf(G.hsm_conf, sizeof(G.hsm_conf), "%s/softhsm2.conf", G.dir);
	snprintf(text, sizeof(text), "directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
	    "log.level = ERROR\nslots.removable = false\n", G.dir);
	write_str(G.hsm_conf, text, strlen(text));
	snprintf(text, sizeof(text), "%s/tokens", G.dir);
	if (mkdir(text, 0700) != 0)
		die(text);
	setenv("SOFTHSM2_CONF", G.hsm_conf, 1);
	snprintf(G.env, sizeof(G.env), "SOFTHSM2_CONF=%s", G.hsm_conf);
	snprintf(G.pin_file, sizeof(G.pin_file), "%s/pin", G.dir);
	write_str(G.pin_file, USER_PIN "\n", strlen(USER_PIN) + 1);
	/* 0600: conf_read_pin refuses a PIN file group or others may read. */
	if (chmod(G.pin_file, 0600) != 0)
		die(G.pin_file);
	snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free --label %s --so-pin %s "
	    "--pin %s", TOKEN_LABEL, SO_PIN, USER_PIN);
	if (sh(cmd) != 0) {
		snprintf(G.why, sizeof(G.why), "softhsm2-util --init-token failed");
		goto keys_done;
	}
	if (key_to_token(ec_k, "tsa-ec", "01") == 0 && key_to_token(rsa_k, "tsa-rsa", "02") == 0)
		G.token_ready = 1;
keys_done:
	gnutls_x509_privkey_deinit(root_k);
	gnutls_x509_privkey_deinit(ec_k);
	gnutls_x509_privkey_deinit(rsa_k);
	memset(&conf, 0, sizeof(conf));
	conf.pkcs11_module = G.module;
	conf.pin_file = G.pin_file;
	conf.pkcs11_env[0] = G.env;
	conf.n_pkcs11_env = 1;
}

static void
teardown_all(void)
{
	if (G.dir[0] != '\0' && G.token_ready)
		tl_tmpdir_remove(G.dir);
	else if (G.dir[0] != '\0')
		fprintf(stderr, "test_soap: kept %s for its setup.log\n", G.dir);
	free(G.root);
	free(G.ec);
	free(G.rsa);
}

static void
token_setup(void)
{
	char err[512] = "";

	ck_assert_msg(G.token_ready, "no SoftHSM2 token: %s", G.why);
	ck_assert_msg(pkcs11_setup(&conf, err, sizeof(err)) == 0, "pkcs11_setup: %s", err);
}

static void
token_teardown(void)
{
	pkcs11_teardown();
}

static void
load(struct signer *s, const char *uri, const char *cert, const char *digest)
{
	char err[512] = "";

	ck_assert_msg(signer_load(s, 7, "unit", uri, cert, G.root, "auto", digest, 1, err,
	    sizeof(err)) == 0, "signer_load: %s", err);
	ck_assert_msg(signer_why(s) == NULL, "signer refused: %s", signer_why(s));
}

/* Issues a token for request text through the codec, the token and the response, like the
 * worker; returns the whole response (malloc'd) and the token alone in *token. */
static unsigned char *
issue(const struct signer *s, const char *request, unsigned char **token, size_t *token_len,
    size_t *resp_len)
{
	static const unsigned char serial[] = { 0x01, 0x75, 0x45, 0xf1, 0x90, 0x34, 0x35, 0x7f,
	    0x1b, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x56, 0x5c, 0x91 };
	struct tsa_request req;
	struct tsa_refusal ref;
	struct tsa_echo echo;
	struct tsa_opts opts;
	struct token_job job;
	unsigned char *resp;

	ck_assert_msg(parse(request, &req, &echo, &ref) == 0, "%s: %s", ref.text, ref.detail);
	tsa_opts_defaults(&opts);
	opts.acc_seconds = 0;
	opts.acc_millis = 999;
	opts.acc_micros = 0;
	memset(&job, 0, sizeof(job));
	job.req = &req;
	job.opts = &opts;
	job.signer = s;
	job.policy_oid = "1.3.6.1.4.1.6105.3.1.7";
	job.serial = serial;
	job.serial_len = sizeof(serial);
	job.gen_time.tv_sec = 1612903111;	/* 2021-02-09T20:38:31Z */
	job.gen_time.tv_nsec = 605000000;
	ck_assert_int_eq(soap_token_echo(&job, &echo, token, token_len), 0);
	ck_assert_int_eq(soap_encode(*token, *token_len, NULL, 0, &resp, resp_len), 0);
	response_valid(resp, *resp_len, "<ts:Status>granted</ts:Status>");
	return resp;
}

/* Cuts the dsig:Signature out of a response, as clients do (the first one). */
static char *
cut_signature(const unsigned char *resp, size_t len)
{
	const char *a, *b;
	char *s;

	(void)len;
	a = strstr((const char *)resp, "<dsig:Signature ");
	ck_assert_ptr_nonnull(a);
	b = strstr(a, "</dsig:Signature>");
	ck_assert_ptr_nonnull(b);
	b += strlen("</dsig:Signature>");
	ck_assert_ptr_nonnull(s = strndup(a, (size_t)(b - a)));
	return s;
}

static int
xmlsec_verify(const char *token, const char *name, int trusted)
{
	char path[400], cmd[1200];

	snprintf(path, sizeof(path), "%s/%s.xml", G.dir, name);
	write_str(path, token, strlen(token));
	if (trusted)
		snprintf(cmd, sizeof(cmd), "xmlsec1 --verify --id-attr:Id Object "
		    "--id-attr:Id KeyInfo --trusted-pem '%s' '%s'", G.root_file, path);
	else
		snprintf(cmd, sizeof(cmd), "xmlsec1 --verify --id-attr:Id Object "
		    "--id-attr:Id KeyInfo --insecure '%s'", path);
	return sh(cmd);
}

/* The element structure of two tokens: names, namespaces, namespace declarations, attribute
 * names, in order, no text between elements. */
static void
same_structure(xmlNodePtr a, xmlNodePtr b)
{
	xmlNsPtr na, nb;
	xmlAttrPtr aa, ab;

	for (; a != NULL || b != NULL; a = a->next, b = b->next) {
		ck_assert_msg(a != NULL && b != NULL, "one token has more nodes");
		ck_assert_int_eq(a->type, b->type);
		if (a->type != XML_ELEMENT_NODE)
			continue;
		ck_assert_str_eq((const char *)a->name, (const char *)b->name);
		ck_assert_str_eq((const char *)a->ns->prefix, (const char *)b->ns->prefix);
		ck_assert_str_eq((const char *)a->ns->href, (const char *)b->ns->href);
		for (na = a->nsDef, nb = b->nsDef; na != NULL || nb != NULL;
		    na = na->next, nb = nb->next) {
			ck_assert_msg(na != NULL && nb != NULL, "namespace declarations on %s",
			    a->name);
			ck_assert_str_eq((const char *)na->prefix, (const char *)nb->prefix);
			ck_assert_str_eq((const char *)na->href, (const char *)nb->href);
		}
		for (aa = a->properties, ab = b->properties; aa != NULL || ab != NULL;
		    aa = aa->next, ab = ab->next) {
			ck_assert_msg(aa != NULL && ab != NULL, "attributes of %s", a->name);
			ck_assert_str_eq((const char *)aa->name, (const char *)ab->name);
		}
		if (a->children != NULL && a->children->type == XML_ELEMENT_NODE)
			same_structure(a->children, b->children);
	}
}

START_TEST(fixture_verifies)
{
	unsigned char *data;
	size_t len;
	char *s;

	if (!G.have_xmlsec) {
		fprintf(stderr, "test_soap: xmlsec1 missing, fixture not verified\n");
		return;
	}
	ck_assert_int_eq(file_read(FIXTURE, 1 << 20, &data, &len), 0);
	ck_assert_ptr_nonnull(s = strndup((char *)data, len));
	ck_assert_int_eq(xmlsec_verify(s, "fixture", 0), 0);
	free(s);
	free(data);
}
END_TEST

START_TEST(token_rsa_sha256)
{
	struct signer s;
	unsigned char *resp, *tok, *fix;
	size_t resp_len, tok_len, fix_len;
	xmlDocPtr a, b;
	char *cut;

	memset(&s, 0, sizeof(s));
	load(&s, URI_RSA, G.rsa, "sha256");
	resp = issue(&s, req_compact, &tok, &tok_len, &resp_len);
	cut = cut_signature(resp, resp_len);
	/* The token in the response is the token, byte for byte. */
	ck_assert_uint_eq(strlen(cut), tok_len);
	ck_assert_mem_eq(cut, tok, tok_len);
	/* The form of the real token. */
	ck_assert_ptr_nonnull(strstr(cut, "<dsig:Signature xmlns:dsig=\"" DS_NS
	    "\" Id=\"TimeStampToken\"><dsig:SignedInfo>"));
	ck_assert_ptr_nonnull(strstr(cut, "Algorithm=\"http://www.w3.org/2001/04/"
	    "xmldsig-more#rsa-sha256\""));
	ck_assert_ptr_nonnull(strstr(cut, "URI=\"#TimeStampInfo-17545F19034357F1B6B0000000000565C91\""));
	ck_assert_ptr_nonnull(strstr(cut, "<dsig:Object Id=\"TimeStampInfo-17545F19034357F1B6B0000000000565C91\">"
	    "<ts:TimeStampInfo xmlns:ds=\"" DS_NS "\" xmlns:ts=\"" TS_NS "\">"
	    "<ts:Policy id=\"urn:oid:1.3.6.1.4.1.6105.3.1.7\"/><ts:Digest>"
	    "<ds:DigestMethod Algorithm=\"" SHA1_URI "\"/><ds:DigestValue>" SHA1_B64
	    "</ds:DigestValue></ts:Digest>"
	    "<ts:SerialNumber>127018293861565516705687172712007648828561</ts:SerialNumber>"
	    "<ts:CreationTime>2021-02-09T20:38:31.605Z</ts:CreationTime>"
	    "<ts:Accuracy milliseconds=\"999\"/><ts:Nonce>2376587872813388064</ts:Nonce>"
	    "</ts:TimeStampInfo></dsig:Object></dsig:Signature>"));
	ck_assert_ptr_null(strchr(cut, '\n'));
	if (G.have_xmlsec) {
		ck_assert_int_eq(xmlsec_verify(cut, "rsa-sha256", 1), 0);
		/* Tampered: a changed CreationTime, DigestValue or Nonce, or a moved element, no
		 * longer verifies. */
		static const struct {
			const char *from, *to;
		} tamper[] = {
			{ "20:38:31.605Z", "20:38:31.606Z" },
			{ "<ds:DigestValue>MU/L", "<ds:DigestValue>MV/L" },
			{ "<ts:Nonce>2376587872813388064<", "<ts:Nonce>2376587872813388065<" },
			{ "<ts:Accuracy milliseconds=\"999\"/>", "<ts:Accuracy milliseconds=\"998\"/>" },
		};
		size_t k;

		for (k = 0; k < sizeof(tamper) / sizeof(tamper[0]); k++) {
			char *t = strdup(cut), *at = strstr(t, tamper[k].from);

			ck_assert_ptr_nonnull(at);
			ck_assert_uint_eq(strlen(tamper[k].from), strlen(tamper[k].to));
			memcpy(at, tamper[k].to, strlen(tamper[k].to));
			ck_assert_msg(xmlsec_verify(t, "rsa-sha256-tampered", 1) != 0,
			    "tampered %s verified", tamper[k].from);
			free(t);
		}
		/* Moved: the Policy after the Digest. */
		{
			char *t = strdup(cut), *pol = strstr(t, "<ts:Policy "), *dig, *end;
			size_t plen, dlen;
			char tmp[512];

			ck_assert_ptr_nonnull(pol);
			end = strstr(pol, "/>") + 2;
			plen = (size_t)(end - pol);
			dig = end;
			dlen = (size_t)(strstr(dig, "</ts:Digest>") + strlen("</ts:Digest>") - dig);
			ck_assert_uint_lt(plen, sizeof(tmp));
			memcpy(tmp, pol, plen);
			memmove(pol, dig, dlen);
			memcpy(pol + dlen, tmp, plen);
			ck_assert_int_ne(xmlsec_verify(t, "rsa-sha256-moved", 1), 0);
			free(t);
		}
	}
	/* The same structure as the real SI-TSA token. */
	ck_assert_int_eq(file_read(FIXTURE, 1 << 20, &fix, &fix_len), 0);
	a = xmlReadMemory((char *)fix, (int)fix_len, NULL, NULL, XML_PARSE_NONET);
	b = xmlReadMemory((char *)tok, (int)tok_len, NULL, NULL, XML_PARSE_NONET);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	same_structure(xmlDocGetRootElement(a), xmlDocGetRootElement(b));
	xmlFreeDoc(a);
	xmlFreeDoc(b);
	free(fix);
	free(cut);
	free(resp);
	free(tok);
	signer_free(&s);
}
END_TEST

START_TEST(token_rsa_sha1_legacy)
{
	struct signer s;
	unsigned char *resp, *tok;
	size_t resp_len, tok_len;
	char *cut;

	memset(&s, 0, sizeof(s));
	load(&s, URI_RSA, G.rsa, "sha1");
	resp = issue(&s, req_indented, &tok, &tok_len, &resp_len);
	cut = cut_signature(resp, resp_len);
	ck_assert_ptr_nonnull(strstr(cut, "<dsig:SignatureMethod Algorithm=\"" DS_NS "rsa-sha1\"/>"));
	ck_assert_ptr_nonnull(strstr(cut, "<dsig:DigestMethod Algorithm=\"" SHA1_URI "\"/>"));
	ck_assert_ptr_nonnull(strstr(cut, "<ts:Nonce>0002376587872813388064</ts:Nonce>"));
	if (G.have_xmlsec)
		ck_assert_int_eq(xmlsec_verify(cut, "rsa-sha1", 1), 0);
	free(cut);
	free(resp);
	free(tok);
	signer_free(&s);
}
END_TEST

START_TEST(token_ecdsa)
{
	struct signer s;
	unsigned char *resp, *tok;
	size_t resp_len, tok_len;
	char *cut;

	memset(&s, 0, sizeof(s));
	load(&s, URI_EC, G.ec, "sha256");
	resp = issue(&s, req_sha256_no_nonce, &tok, &tok_len, &resp_len);
	cut = cut_signature(resp, resp_len);
	ck_assert_ptr_nonnull(strstr(cut, "xmldsig-more#ecdsa-sha256"));
	ck_assert_ptr_null(strstr(cut, "KeyValue"));
	ck_assert_ptr_null(strstr(cut, "Nonce"));
	ck_assert_ptr_nonnull(strstr(cut, "<ds:DigestMethod Algorithm=\"" SHA256_URI "\"/>"
	    "<ds:DigestValue>" SHA256_B64 "</ds:DigestValue>"));
	if (G.have_xmlsec)
		ck_assert_int_eq(xmlsec_verify(cut, "ecdsa", 1), 0);
	free(cut);
	free(resp);
	free(tok);
	signer_free(&s);
}
END_TEST

/* A job for req signed by s now, with policy 1.2.3.4 and the serial given. */
static void
job_now(struct token_job *job, const struct tsa_request *req, const struct tsa_opts *opts,
    const struct signer *s, const unsigned char *serial, size_t serial_len)
{
	memset(job, 0, sizeof(*job));
	job->req = req;
	job->opts = opts;
	job->signer = s;
	job->policy_oid = "1.2.3.4";
	job->serial = serial;
	job->serial_len = serial_len;
	clock_gettime(CLOCK_REALTIME, &job->gen_time);
}

/* Without the echo the token re-encodes the request: same text for canonical input. */
START_TEST(token_without_echo)
{
	static const unsigned char serial[] = { 0x00, 0x7f };
	struct tsa_request req;
	struct tsa_refusal ref;
	struct tsa_opts opts;
	struct token_job job;
	struct signer s;
	unsigned char *tok;
	size_t tok_len;

	memset(&s, 0, sizeof(s));
	load(&s, URI_EC, G.ec, "sha256");
	ck_assert_int_eq(parse(req_compact, &req, NULL, &ref), 0);
	tsa_opts_defaults(&opts);
	job_now(&job, &req, &opts, &s, serial, sizeof(serial));
	ck_assert_int_eq(soap_token(&job, &tok, &tok_len), 0);
	ck_assert_ptr_nonnull(memmem(tok, tok_len, "Id=\"TimeStampInfo-7F\"", 21));
	ck_assert_ptr_nonnull(memmem(tok, tok_len, "<ts:Nonce>2376587872813388064</ts:Nonce>", 40));
	ck_assert_ptr_nonnull(memmem(tok, tok_len, SHA1_B64, strlen(SHA1_B64)));
	free(tok);
	signer_free(&s);
}
END_TEST

/* The token's text is written in its canonical form (xmltoken.c): text that C14N escapes (a
 * carriage return in the echoed DigestValue's white space) and the three Accuracy attributes,
 * which C14N orders by name, still give digests and a signature that libxml2's C14N
 * (xmlverify.c) and xmlsec1 agree with. */
START_TEST(token_canonical_text)
{
	static const unsigned char serial[] = { 0x3a, 0x00, 0xff };
	struct xmlverify_result vr;
	struct tsa_request req;
	struct tsa_refusal ref;
	struct tsa_echo echo;
	struct tsa_opts opts;
	struct token_job job;
	struct signer s;
	unsigned char *tok;
	size_t tok_len, half;
	char err[256], *text, value[sizeof(echo.digest_value)];

	memset(&s, 0, sizeof(s));
	load(&s, URI_EC, G.ec, "sha256");
	ck_assert_int_eq(parse(req_sha256_no_nonce, &req, &echo, &ref), 0);
	half = strlen(echo.digest_value) / 2;
	snprintf(value, sizeof(value), "\r\n\t%.*s \r\n%s\t", (int)half, echo.digest_value,
	    echo.digest_value + half);
	snprintf(echo.digest_value, sizeof(echo.digest_value), "%s", value);
	tsa_opts_defaults(&opts);
	opts.acc_seconds = 1;
	opts.acc_millis = 2;
	opts.acc_micros = 3;
	job_now(&job, &req, &opts, &s, serial, sizeof(serial));
	ck_assert_int_eq(soap_token_echo(&job, &echo, &tok, &tok_len), 0);
	ck_assert_ptr_nonnull(text = strndup((const char *)tok, tok_len));
	ck_assert_ptr_nonnull(strstr(text, "<ds:DigestValue>&#xD;\n\t"));
	ck_assert_ptr_nonnull(strstr(text,
	    "<ts:Accuracy microseconds=\"3\" milliseconds=\"2\" seconds=\"1\"/>"));
	ck_assert_msg(xml_token_verify(tok, tok_len, NULL, &vr, err, sizeof(err)) == 0, "%s", err);
	if (G.have_xmlsec)
		ck_assert_int_eq(xmlsec_verify(text, "canonical-text", 1), 0);
	free(text);
	free(tok);
	signer_free(&s);
}
END_TEST

static Suite *
soap_suite(void)
{
	Suite *s = suite_create("soap");
	TCase *tc;

	tc = tl_tcase(s, "parse", 0, parse_compact, parse_indented, parse_sha2, request_consistent,
	    NULL);
	tcase_add_loop_test(tc, parse_refusals, 0, (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, parse_limits);
	tcase_add_test(tc, schema_embedded_is_current);
	tcase_add_test(tc, encode_shapes);
	tcase_add_test(tc, base64_strict);
	tcase_add_test(tc, sniff);
	tcase_add_test(tc, fixture_verifies);

	tc = tl_tcase(s, "token", 60, token_rsa_sha256, token_rsa_sha1_legacy, token_ecdsa,
	    token_without_echo, token_canonical_text, NULL);
	tcase_add_checked_fixture(tc, token_setup, token_teardown);
	return s;
}

int
main(void)
{
	int status;

	setup_all();
	if (!G.token_ready)
		fprintf(stderr, "test_soap: no SoftHSM2 token, the token tests will fail: %s\n",
		    G.why);
	status = tl_run(soap_suite());
	teardown_all();
	return status;
}
