/*
 * wsdl.c - the SOAP service description served live (see wsdl.h): wsdl/timestamp.wsdl and
 * the two schemas, with their placeholders replaced by the service's own URL.  Standards:
 * WSDL 1.1 (W3C Note 2001-03-15) section 3 (soap:address), XML Schema 1.0 part 1 section
 * 4.2.3 (xs:import schemaLocation), RFC 3986 section 3 (the URL's parts), RFC 9110 section
 * 7.2 (Host).
 *
 * Untrusted input: the Host header (HTTP_HOST) and the path asked (REQUEST_URI).  Each is
 * bounded and checked character by character before it is copied; anything but the
 * characters a host, a port or a path may hold is refused, and the URL is XML-escaped where
 * it lands, so no markup can reach the document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "soap.h"
#include "strbuf.h"
#include "wsdl.h"

/*
 * The WSDL, embedded at build time like the schemas in soap.c (the path is relative to the
 * top of the tree, where the Makefile compiles).  A unit test compares it with the file.
 */
__asm__(
	"	.section .rodata\n"
	"	.balign 8\n"
	"	.hidden wsdl_embedded\n"
	"	.globl wsdl_embedded\n"
	"wsdl_embedded:\n"
	"	.incbin \"wsdl/timestamp.wsdl\"\n"
	"	.byte 0\n"
	"	.previous\n");
extern const char wsdl_embedded[];

const char *
wsdl_text(void)
{
	return wsdl_embedded;
}

/* The placeholders of the files, each present exactly once (the unit test checks it). */
static const char WSDL_ADDRESS[] = "location=\"https://tsa.invalid/TSA-SERVICE-ADDRESS\"";
static const char WSDL_SCHEMA[] = "schemaLocation=\"../xsd/timestamp.xsd\"";
static const char XSD_DSIG[] = "schemaLocation=\"xmldsig-subset.xsd\"";

enum wsdl_doc
wsdl_query(const char *query)
{
	if (query == NULL)
		return WSDL_DOC_NONE;
	if (strcasecmp(query, "wsdl") == 0)
		return WSDL_DOC_WSDL;
	if (strcmp(query, "xsd") == 0)
		return WSDL_DOC_XSD;
	if (strcmp(query, "xsd=xmldsig") == 0)
		return WSDL_DOC_XSD_DSIG;
	return WSDL_DOC_NONE;
}

/* RFC 3986 3.2.2 and 3.2.3: a reg-name of letters, digits, '-' and '.', or an IP literal in
 * brackets, then an optional ':' and port.  Percent-encoding and '_' are not accepted: no
 * real service name needs them. */
static int
host_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
}

/* RFC 3986 3.3: pchar and '/'. */
static int
path_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    strchr("-._~%!$&'()*+,;=:@/", c) != NULL;
}

static int
all_of(const char *s, size_t n, int (*ok)(int))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || !ok((unsigned char)s[i]))
			return 0;
	return 1;
}

int
wsdl_service_url(const struct wsdl_origin *o, char *buf, size_t len)
{
	const char *scheme, *host, *path, *port = NULL;
	size_t host_len, path_len;
	int n;

	scheme = o->https != NULL && strcasecmp(o->https, "on") == 0 ? "https" : "http";
	if (o->host != NULL && *o->host != '\0')
		host = o->host;		/* RFC 9110 7.2: the Host header holds the port if any */
	else {
		/* No Host (HTTP/1.0): the server's own name and port, a default port left out. */
		host = o->server_name;
		port = o->server_port;
		if (port != NULL && (*port == '\0' ||
		    (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
		    (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0)))
			port = NULL;
		if (port != NULL && (strlen(port) > 5 || strspn(port, "0123456789") != strlen(port)))
			return -1;
	}
	if (host == NULL || *host == '\0')
		return -1;
	host_len = strnlen(host, TSA_MAX_URL_HOST + 1);
	if (host_len > TSA_MAX_URL_HOST || !all_of(host, host_len, host_char))
		return -1;
	path = o->request_uri != NULL && *o->request_uri != '\0' ? o->request_uri :
	    o->script_name;
	if (path == NULL || *path != '/')
		return -1;
	path_len = strcspn(path, "?#");
	if (path_len > TSA_MAX_URL_PATH || !all_of(path, path_len, path_char))
		return -1;
	n = snprintf(buf, len, "%s://%.*s%s%s%.*s", scheme, (int)host_len, host,
	    port != NULL ? ":" : "", port != NULL ? port : "", (int)path_len, path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* text with its one occurrence of from replaced by from's attribute name, then the escaped
 * value url + suffix in quotes.  -1 (a build bug) when from is not there exactly once. */
static int
replace_attr(struct sbuf *b, const char *text, const char *from, const char *url,
    const char *suffix)
{
	const char *at = strstr(text, from), *eq;
	size_t n = strlen(from);

	if (at == NULL || strstr(at + n, from) != NULL || (eq = strchr(from, '=')) == NULL)
		return -1;
	sb_add(b, text, (size_t)(at - text));
	sb_add(b, from, (size_t)(eq - from) + 2);	/* name=" */
	sb_esc(b, url);
	sb_esc(b, suffix);
	sb_str(b, "\"");
	sb_str(b, at + n);
	return 0;
}

int
wsdl_document(enum wsdl_doc doc, const char *url, unsigned char **out, size_t *outlen)
{
	struct sbuf b = { 0 }, first = { 0 };
	unsigned char *mid = NULL;
	size_t mid_len;
	int rc = -1;

	switch (doc) {
	case WSDL_DOC_WSDL:
		if (replace_attr(&first, wsdl_embedded, WSDL_ADDRESS, url, "") == -1 ||
		    sb_done(&first, &mid, &mid_len) == -1)	/* frees first on failure */
			break;
		rc = replace_attr(&b, (const char *)mid, WSDL_SCHEMA, url, "?xsd");
		free(mid);
		break;
	case WSDL_DOC_XSD:
		rc = replace_attr(&b, soap_schema_text(0), XSD_DSIG, url, "?xsd=xmldsig");
		break;
	case WSDL_DOC_XSD_DSIG:
		sb_str(&b, soap_schema_text(1));
		rc = 0;
		break;
	default:
		break;
	}
	if (rc == -1) {
		free(b.p);
		return -1;
	}
	return sb_done(&b, out, outlen);	/* frees b on failure */
}
