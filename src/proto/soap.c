/*
 * soap.c - the SOAP/XML timestamp codec: a SOAP 1.1 request (untrusted, from the network) in,
 * a SOAP 1.1 response out.  Standards: SOAP 1.1 (W3C Note 2000-05-08) sections 4 and 6.2,
 * XML 1.0, the Entrust timestamp-protocol-20020207 as xsd/timestamp.xsd describes it.
 *
 * Untrusted input is handled in this order, each step before anything grows:
 *   1. size (TSA_MAX_SOAP_BODY) and no NUL byte (UTF-16 and UTF-32 are refused here);
 *   2. libxml2 with XML_PARSE_NONET and without NOENT or DTDLOAD, and SAX hooks that stop
 *      the parser at a DOCTYPE or an entity declaration (so no entity is ever declared, let
 *      alone expanded) and beyond TSA_MAX_XML_DEPTH elements;
 *   3. the envelope walked by hand: Envelope, Body, one tsa:service, one ts:TimeStampRequest,
 *      whitespace and comments between them; anything else is a SOAP Fault;
 *   4. the TimeStampRequest validated against the schema, compiled once per process from
 *      xsd/timestamp.xsd and xsd/xmldsig-subset.xsd as embedded in the program at build time
 *      (.incbin below), so the worker never depends on an install path and never reads a
 *      schema from disk or the network;
 *   5. the semantics: the digest method by its XML-DSig URI, the decoded digest's length,
 *      the nonce's range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "bytes.h"
#include "hashalg.h"
#include "soap.h"
#include "strbuf.h"
#include "text.h"
#include "xmltoken.h"

#define NS_SOAP11	"http://schemas.xmlsoap.org/soap/envelope/"
#define NS_TSA		"urn:Entrust-TSA"
#define NS_TS		"http://www.entrust.com/schemas/timestamp-protocol-20020207"
#define NS_DS		"http://www.w3.org/2000/09/xmldsig#"

/*
 * The schema files, embedded at build time.  The paths are relative to the directory the
 * compiler runs in, the top of the tree (the Makefile and tests/fuzz/run.sh compile from
 * there).  A unit test compares them with the files, so a stale object is caught.
 */
__asm__(
	"	.section .rodata\n"
	"	.balign 8\n"
	"	.hidden soap_embedded_xsd\n"
	"	.globl soap_embedded_xsd\n"
	"soap_embedded_xsd:\n"
	"	.incbin \"xsd/timestamp.xsd\"\n"
	"	.byte 0\n"
	"	.balign 8\n"
	"	.hidden soap_embedded_dsig_xsd\n"
	"	.globl soap_embedded_dsig_xsd\n"
	"soap_embedded_dsig_xsd:\n"
	"	.incbin \"xsd/xmldsig-subset.xsd\"\n"
	"	.byte 0\n"
	"	.previous\n");
extern const char soap_embedded_xsd[];
extern const char soap_embedded_dsig_xsd[];

/* For src/proto/wsdl.c and the unit test that compares the embedded copies with xsd/. */
const char *
soap_schema_text(int which)
{
	return which == 0 ? soap_embedded_xsd : soap_embedded_dsig_xsd;
}

/* ---- refusals ---------------------------------------------------------------------------- */

/* The SOAP Fault texts: a refusal whose text is one of these is answered with a Fault. */
static const char FAULT_SIZE[] = "request too large";
static const char FAULT_XML[] = "not well-formed XML";
static const char FAULT_DTD[] = "DOCTYPE and entities are not accepted";
static const char FAULT_DEPTH[] = "XML nested too deep";
static const char FAULT_ENCODING[] = "only UTF-8 is accepted";
static const char FAULT_ENVELOPE[] = "not a SOAP 1.1 envelope";
static const char FAULT_BODY[] = "the Body must hold one tsa:service with one ts:TimeStampRequest";


static const struct {
	enum tsa_fail	 fail;
	const char	*name;
} fail_names[] = {
	{ TSA_FAIL_BAD_ALG, "badAlgorithm" },
	{ TSA_FAIL_BAD_REQUEST, "badRequest" },
	{ TSA_FAIL_BAD_DATA_FORMAT, "badDataFormat" },
	{ TSA_FAIL_TIME_NOT_AVAILABLE, "timeNotAvailable" },
	{ TSA_FAIL_UNACCEPTED_POLICY, "unacceptedPolicy" },
	{ TSA_FAIL_UNACCEPTED_EXTENSION, "unacceptedExtension" },
	{ TSA_FAIL_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable" },
	{ TSA_FAIL_SYSTEM_FAILURE, "systemFailure" },
};

const char *
soap_fail_name(enum tsa_fail fail)
{
	size_t i;

	for (i = 0; i < sizeof(fail_names) / sizeof(fail_names[0]); i++)
		if (fail_names[i].fail == fail)
			return fail_names[i].name;
	return "systemFailure";
}

/* ---- the schema, once per process -------------------------------------------------------- */

static xmlSchemaPtr schema;
static xmlExternalEntityLoader saved_loader;

/* While the schema compiles: serves the XML-DSig subset it imports, refuses everything else. */
static xmlParserInputPtr
schema_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	static const char want[] = "xmldsig-subset.xsd";
	size_t n = url != NULL ? strlen(url) : 0;

	(void)id;
	if (ctxt == NULL || n < sizeof(want) - 1 ||
	    strcmp(url + n - (sizeof(want) - 1), want) != 0)
		return NULL;
	return xmlNewStringInputStream(ctxt, (const xmlChar *)soap_embedded_dsig_xsd);
}

static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void
quiet_structured(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

int
soap_init(void)
{
	xmlSchemaParserCtxtPtr pc;

	if (schema != NULL)
		return 0;
	xmlInitParser();
	saved_loader = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(schema_loader);
	pc = xmlSchemaNewMemParserCtxt(soap_embedded_xsd, (int)strlen(soap_embedded_xsd));
	if (pc != NULL) {
		xmlSchemaSetParserErrors(pc, quiet, quiet, NULL);
		schema = xmlSchemaParse(pc);
		xmlSchemaFreeParserCtxt(pc);
	}
	xmlSetExternalEntityLoader(saved_loader);
	return schema != NULL ? 0 : -1;
}

void
soap_cleanup(void)
{
	xmlSchemaFree(schema);
	schema = NULL;
}

/* ---- parsing ----------------------------------------------------------------------------- */

struct sax_guard {
	int		 depth;
	const char	*fault;		/* set when a hook stopped the parser */
};

static void
guard_stop(xmlParserCtxtPtr ctxt, const char *why)
{
	struct sax_guard *g = ctxt->_private;

	if (g->fault == NULL)
		g->fault = why;
	xmlStopParser(ctxt);
}

static void
on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
	(void)name;
	(void)ext_id;
	(void)sys_id;
	guard_stop(ctx, FAULT_DTD);
}

static void
on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pub,
    const xmlChar *sys, xmlChar *content)
{
	(void)name;
	(void)type;
	(void)pub;
	(void)sys;
	(void)content;
	guard_stop(ctx, FAULT_DTD);
}

static void
on_reference(void *ctx, const xmlChar *name)
{
	(void)name;
	guard_stop(ctx, FAULT_DTD);
}

static xmlEntityPtr
on_get_entity(void *ctx, const xmlChar *name)
{
	/* The five predefined entities are resolved by the parser before this is asked. */
	(void)name;
	guard_stop(ctx, FAULT_DTD);
	return NULL;
}

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
    int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct sax_guard *g = ctxt->_private;

	if (++g->depth > TSA_MAX_XML_DEPTH) {
		guard_stop(ctxt, FAULT_DEPTH);
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
	    nb_attributes, nb_defaulted, attributes);
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct sax_guard *g = ctxt->_private;

	g->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static int
xml_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * XML 1.0 4.3.3: the declared encoding, when any, must be UTF-8.  Checked on the raw bytes
 * before libxml2 sees them, so that libxml2 never sets up another decoder (iconv), whose setup
 * leaks when an allocation fails in it.  0, or -1 when the declaration names another encoding.
 * A declaration this bounded scan cannot read is left to libxml2: it refuses it, or the check
 * after the parse (doc->encoding) does.
 */
static int
declared_encoding_ok(const unsigned char *p, size_t len)
{
	static const char decl[] = "<?xml", key[] = "encoding";
	const unsigned char *end, *q;
	unsigned char quote;
	size_t n;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		len -= 3;
	}
	if (len < sizeof(decl) - 1 || memcmp(p, decl, sizeof(decl) - 1) != 0)
		return 0;
	/* The declaration ends at its "?>" (or the body does). */
	for (end = p + sizeof(decl) - 1; end < p + len; end++)
		if (end[0] == '?' && end + 1 < p + len && end[1] == '>')
			break;
	for (q = p + sizeof(decl) - 1; (size_t)(end - q) >= sizeof(key) - 1; q++) {
		if (memcmp(q, key, sizeof(key) - 1) != 0)
			continue;
		q += sizeof(key) - 1;
		while (q < end && xml_space(*q))
			q++;
		if (q == end || *q++ != '=')
			return 0;
		while (q < end && xml_space(*q))
			q++;
		if (q == end || (*q != '"' && *q != '\''))
			return 0;
		quote = *q++;
		for (n = 0; q + n < end && q[n] != quote; n++)
			;
		if (q + n == end)
			return 0;
		return n == 5 && strncasecmp((const char *)q, "UTF-8", 5) == 0 ? 0 : -1;
	}
	return 0;
}

/* 1 when libxml2 ran out of memory since the last xmlResetLastError(). */
static int
out_of_memory(void)
{
	const xmlError *e = xmlGetLastError();

	return e != NULL && e->code == XML_ERR_NO_MEMORY;
}

/*
 * Parses p under the guard.  The document, or NULL with *fault set (NULL: out of memory, a
 * system failure rather than the client's fault).  An allocation failing inside libxml2 can
 * leave a tree with holes (xmlNewNs keeps a NULL href), so such a tree is never read.
 */
static xmlDocPtr
parse_guarded(const unsigned char *p, size_t len, const char **fault)
{
	struct sax_guard g = { 0, NULL };
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc = NULL;

	*fault = FAULT_XML;
	xmlResetLastError();
	if ((ctxt = xmlCreateMemoryParserCtxt((const char *)p, (int)len)) == NULL) {
		*fault = NULL;		/* nothing was parsed: only memory can be missing */
		return NULL;
	}
	/* NONET; never NOENT (entity substitution) or DTDLOAD/DTDATTR/DTDVALID. */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	ctxt->_private = &g;
	ctxt->sax->internalSubset = on_doctype;
	ctxt->sax->externalSubset = on_doctype;
	ctxt->sax->entityDecl = on_entity_decl;
	ctxt->sax->reference = on_reference;
	ctxt->sax->getEntity = on_get_entity;
	ctxt->sax->getParameterEntity = on_get_entity;
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;
	ctxt->sax->error = quiet;
	ctxt->sax->warning = quiet;
	ctxt->sax->serror = quiet_structured;
	ctxt->vctxt.error = quiet;
	ctxt->vctxt.warning = quiet;
	ctxt->replaceEntities = 0;
	ctxt->loadsubset = 0;
	ctxt->validate = 0;

	xmlParseDocument(ctxt);
	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if (ctxt->errNo == XML_ERR_NO_MEMORY || out_of_memory())
		*fault = NULL;
	else if (g.fault != NULL)
		*fault = g.fault;
	else if (ctxt->wellFormed && doc != NULL && ctxt->errNo == 0) {
		xmlFreeParserCtxt(ctxt);
		if (doc->intSubset != NULL || doc->extSubset != NULL) {
			*fault = FAULT_DTD;
			xmlFreeDoc(doc);
			return NULL;
		}
		/* XML 1.0 4.3.3: the declared encoding, when any, must be UTF-8. */
		if (doc->encoding != NULL &&
		    strcasecmp((const char *)doc->encoding, "UTF-8") != 0) {
			*fault = FAULT_ENCODING;
			xmlFreeDoc(doc);
			return NULL;
		}
		*fault = NULL;
		return doc;
	}
	xmlFreeParserCtxt(ctxt);
	xmlFreeDoc(doc);
	return NULL;
}

static int
is_element(xmlNodePtr n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

static int
blank(const xmlChar *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/*
 * The one element child of parent, with only whitespace text and comments beside it.
 * NULL when there is none, more than one, or other content.
 */
static xmlNodePtr
only_child(xmlNodePtr parent)
{
	xmlNodePtr c, found = NULL;

	for (c = parent->children; c != NULL; c = c->next) {
		switch (c->type) {
		case XML_ELEMENT_NODE:
			if (found != NULL)
				return NULL;
			found = c;
			break;
		case XML_TEXT_NODE:
			if (!blank(c->content))
				return NULL;
			break;
		case XML_COMMENT_NODE:
			break;
		default:
			return NULL;
		}
	}
	return found;
}

/* The children of n with XML-DSig or ts names, in order; the schema has fixed their shape. */
static xmlNodePtr
child(xmlNodePtr n, const char *ns, const char *name)
{
	xmlNodePtr c;

	for (c = n->children; c != NULL; c = c->next)
		if (is_element(c, ns, name))
			return c;
	return NULL;
}

static void
schema_error(void *ctx, xmlErrorPtr err)
{
	struct tsa_refusal *ref = ctx;

	if (ref->detail[0] == '\0' && err != NULL && err->message != NULL) {
		char msg[sizeof(ref->detail)];
		size_t n = strlen(err->message);

		/* libxml2's message quotes the peer's value: the whole of it is quoted again. */
		while (n > 0 && err->message[n - 1] == '\n')
			n--;
		snprintf(msg, sizeof(msg), "%.*s", (int)n, err->message);
		text_quote(ref->detail + 19, sizeof(ref->detail) - 19, msg, TSA_MAX_XML_ERROR_TEXT);
		memcpy(ref->detail, "xsd/timestamp.xsd: ", 19);
	}
}

/* Validates the TimeStampRequest against the schema. 0, or -1 with ref (badRequest). */
static int
validate(xmlNodePtr tsr, struct tsa_refusal *ref)
{
	xmlSchemaValidCtxtPtr vc;
	int rc;

	if ((vc = xmlSchemaNewValidCtxt(schema)) == NULL) {
		tsa_refuse(ref, TSA_FAIL_SYSTEM_FAILURE, "internal error", "out of memory");
		return -1;
	}
	tsa_refuse(ref, TSA_FAIL_BAD_REQUEST, "request does not follow the schema", NULL);
	xmlSchemaSetValidStructuredErrors(vc, schema_error, ref);
	rc = xmlSchemaValidateOneElement(vc, tsr);
	xmlSchemaFreeValidCtxt(vc);
	if (rc < 0 || out_of_memory()) {
		/* The validator's internal error (out of memory): not the client's fault. */
		tsa_refuse(ref, TSA_FAIL_SYSTEM_FAILURE, "internal error",
		    "schema validation failed internally: %d", rc);
		return -1;
	}
	if (rc != 0) {
		if (ref->detail[0] == '\0')
			snprintf(ref->detail, sizeof(ref->detail), "schema validation: %d", rc);
		return -1;
	}
	return 0;
}

static int
copy_text(char *dst, size_t max, const xmlChar *src)
{
	size_t n = src != NULL ? strlen((const char *)src) : 0;

	if (n >= max)
		return -1;
	memcpy(dst, src != NULL ? (const char *)src : "", n);
	dst[n] = '\0';
	return 0;
}

/* The semantics of a schema-valid TimeStampRequest. 0, or -1 with ref. */
static int
read_request(xmlNodePtr tsr, struct tsa_request *req, struct tsa_echo *e,
    struct tsa_refusal *ref)
{
	const struct hash_alg *table;
	xmlNodePtr digest, method, value, nonce;
	xmlChar *alg = NULL, *text = NULL;
	size_t i, n;
	int ret = -1;

	digest = child(tsr, NS_TS, "Digest");
	method = digest != NULL ? child(digest, NS_DS, "DigestMethod") : NULL;
	value = digest != NULL ? child(digest, NS_DS, "DigestValue") : NULL;
	nonce = child(tsr, NS_TS, "Nonce");
	if (method == NULL || value == NULL) {	/* the schema requires them */
		tsa_refuse(ref, TSA_FAIL_BAD_REQUEST, "request does not follow the schema",
		    "no ts:Digest/ds:DigestMethod and ds:DigestValue");
		goto out;
	}
	alg = xmlGetNoNsProp(method, (const xmlChar *)"Algorithm");
	if (alg == NULL || copy_text(e->digest_method, sizeof(e->digest_method), alg) == -1) {
		tsa_refuse(ref, TSA_FAIL_BAD_ALG, "unknown digest algorithm",
		    "DigestMethod Algorithm missing or longer than %d", TSA_MAX_XML_URI - 1);
		goto out;
	}
	table = hash_table(&n);
	for (i = 0; i < n; i++)
		if (table[i].xmldsig_uri != NULL && strcmp(table[i].xmldsig_uri, (char *)alg) == 0)
			break;
	if (i == n) {
		char q[TSA_MAX_PEER_TEXT * 6 + 8];

		text_quote(q, sizeof(q), (const char *)alg, TSA_MAX_PEER_TEXT);
		tsa_refuse(ref, TSA_FAIL_BAD_ALG, "unknown digest algorithm", "DigestMethod %s", q);
		goto out;
	}
	req->hash = &table[i];
	snprintf(req->hash_oid, sizeof(req->hash_oid), "%s", table[i].oid);

	text = xmlNodeGetContent(value);
	if (text == NULL || copy_text(e->digest_value, sizeof(e->digest_value), text) == -1 ||
	    xml_b64_decode((const char *)text, req->imprint, sizeof(req->imprint),
	    &req->imprint_len) == -1 || req->imprint_len != req->hash->len) {
		tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "digest of the wrong length",
		    "DigestValue is not base64 of %zu bytes (%s)", req->hash->len,
		    req->hash->name);
		goto out;
	}
	xmlFree(text);
	text = NULL;

	if (nonce != NULL) {
		text = xmlNodeGetContent(nonce);
		if (text == NULL || copy_text(e->nonce, sizeof(e->nonce), text) == -1 ||
		    decimal_to_bytes((const char *)text, req->nonce, sizeof(req->nonce),
		    &req->nonce_len) == -1) {
			tsa_refuse(ref, TSA_FAIL_BAD_DATA_FORMAT, "nonce out of range",
			    "Nonce is not 1 to %d decimal digits", TSA_MAX_XML_NONCE_DIGITS);
			goto out;
		}
		if (req->nonce_len == 0) {	/* zero: INTEGER contents are one byte */
			req->nonce[0] = 0;
			req->nonce_len = 1;
		}
		req->has_nonce = e->has_nonce = 1;
	}
	ret = 0;
out:
	xmlFree(alg);
	xmlFree(text);
	return ret;
}

int
soap_parse_echo(const unsigned char *p, size_t len, struct tsa_request *req,
    struct tsa_echo *echo, struct tsa_refusal *ref)
{
	struct tsa_echo local;
	struct tsa_request r;
	struct tsa_echo *e = echo != NULL ? echo : &local;
	xmlNodePtr root, body, svc, tsr;
	xmlDocPtr doc = NULL;
	const char *fault;
	int ret = -1;

	memset(&r, 0, sizeof(r));
	memset(e, 0, sizeof(*e));
	r.protocol = TSA_PROTO_SOAP;
	if (len == 0 || len > TSA_MAX_SOAP_BODY) {
		tsa_refuse_fault(ref, FAULT_SIZE, "%zu bytes, at most %d", len,
		    TSA_MAX_SOAP_BODY);
		return -1;
	}
	if (memchr(p, '\0', len) != NULL) {
		tsa_refuse_fault(ref, FAULT_ENCODING,
		    "a NUL byte: UTF-16, UTF-32 or binary");
		return -1;
	}
	if (declared_encoding_ok(p, len) == -1) {
		tsa_refuse_fault(ref, FAULT_ENCODING,
		    "XML 1.0 4.3.3: the declared encoding is not UTF-8");
		return -1;
	}
	if (soap_init() == -1) {
		tsa_refuse(ref, TSA_FAIL_SYSTEM_FAILURE, "internal error",
		    "the embedded schema does not compile");
		return -1;
	}
	if ((doc = parse_guarded(p, len, &fault)) == NULL) {
		if (fault == NULL)
			tsa_refuse(ref, TSA_FAIL_SYSTEM_FAILURE, "internal error",
			    "out of memory parsing the request");
		else
			tsa_refuse_fault(ref, fault, "libxml2 refused the request");
		return -1;
	}
	root = xmlDocGetRootElement(doc);
	if (!is_element(root, NS_SOAP11, "Envelope")) {
		tsa_refuse_fault(ref, FAULT_ENVELOPE,
		    "SOAP 1.1 4.1: the root must be Envelope in " NS_SOAP11);
		goto out;
	}
	/* SOAP 1.1 4.3: Body is the Envelope's child; clients send no Header, none is taken. */
	if ((body = only_child(root)) == NULL || !is_element(body, NS_SOAP11, "Body")) {
		tsa_refuse_fault(ref, FAULT_ENVELOPE,
		    "SOAP 1.1 4.3: the Envelope must hold one Body and nothing else");
		goto out;
	}
	if ((svc = only_child(body)) == NULL || !is_element(svc, NS_TSA, "service") ||
	    (tsr = only_child(svc)) == NULL || !is_element(tsr, NS_TS, "TimeStampRequest")) {
		tsa_refuse_fault(ref, FAULT_BODY,
		    "wsdl/timestamp.wsdl: Body/tsa:service/ts:TimeStampRequest, one of each");
		goto out;
	}
	if (validate(tsr, ref) == -1 || read_request(tsr, &r, e, ref) == -1)
		goto out;
	*req = r;
	ret = 0;
out:
	xmlFreeDoc(doc);
	return ret;
}

int
soap_parse(const unsigned char *p, size_t len, struct tsa_request *req, struct tsa_refusal *ref)
{
	struct tsa_echo e;

	if (soap_parse_echo(p, len, req, &e, ref) == -1)
		return -1;
	req->echo = e;
	return 0;
}

int
soap_sniff(const unsigned char *p, size_t len)
{
	size_t i = 0;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < len && p[i] == '<';
}

/* ---- encoding ---------------------------------------------------------------------------- */

/* Character data with &, < and > escaped. */
#define ENVELOPE_OPEN	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"" NS_SOAP11 "\"><SOAP-ENV:Body>"
#define ENVELOPE_CLOSE	"</SOAP-ENV:Body></SOAP-ENV:Envelope>\n"

int
soap_encode_fault(const struct tsa_refusal *ref, unsigned char **out, size_t *outlen)
{
	struct sbuf b = { NULL, 0, 0, 0 };

	sb_str(&b, ENVELOPE_OPEN "<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode>"
	    "<faultstring>");
	sb_esc(&b, ref != NULL && ref->text != NULL ? ref->text : "bad request");
	sb_str(&b, "</faultstring></SOAP-ENV:Fault>" ENVELOPE_CLOSE);
	return sb_done(&b, out, outlen);
}

int
soap_encode(const unsigned char *token, size_t token_len, const struct tsa_refusal *ref,
    int status_text, unsigned char **out, size_t *outlen)
{
	struct sbuf b = { NULL, 0, 0, 0 };

	if (ref != NULL && ref->kind == TSA_REFUSAL_FAULT)
		return soap_encode_fault(ref, out, outlen);
	if (ref == NULL && token == NULL)
		return -1;
	/* The response wrapper of wsdl/timestamp.wsdl and xsd/timestamp.xsd, in one place. */
	sb_str(&b, ENVELOPE_OPEN "<tsa:serviceResponse xmlns:tsa=\"" NS_TSA "\">"
	    "<ts:TimeStampResponse xmlns:ts=\"" NS_TS "\"><ts:StatusInfo><ts:Status>");
	if (ref == NULL) {
		sb_str(&b, "granted</ts:Status></ts:StatusInfo>");
		sb_add(&b, (const char *)token, token_len);
	} else {
		sb_str(&b, "rejection</ts:Status>");
		if (status_text && ref->text != NULL) {
			sb_str(&b, "<ts:StatusText>");
			sb_esc(&b, ref->text);
			sb_str(&b, "</ts:StatusText>");
		}
		sb_str(&b, "<ts:FailInfo>");
		sb_str(&b, soap_fail_name(ref->fail));
		sb_str(&b, "</ts:FailInfo></ts:StatusInfo>");
	}
	sb_str(&b, "</ts:TimeStampResponse></tsa:serviceResponse>" ENVELOPE_CLOSE);
	return sb_done(&b, out, outlen);
}

int
soap_answer(const unsigned char *token, size_t token_len, const struct tsa_refusal *ref,
    int status_text, struct tsa_answer *out)
{
	/* SOAP 1.1 6.2: a Fault is HTTP 500; a granted or rejected TimeStampResponse is 200. */
	out->status = ref != NULL && ref->kind == TSA_REFUSAL_FAULT ? 500 : 200;
	out->content_type = SOAP_CONTENT_TYPE_REPLY;
	return soap_encode(token, token_len, ref, status_text, &out->body, &out->body_len);
}
