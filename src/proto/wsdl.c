/*
 * wsdl.c - the SOAP service description served live (see wsdl.h): wsdl/timestamp.wsdl and
 * the two schemas, with their placeholders replaced by the service's own URL: the one
 * configured, or one built from the web server's name for the virtual host.  Standards:
 * WSDL 1.1 (W3C Note 2001-03-15) section 3 (soap:address), XML Schema 1.0 part 1 section
 * 4.2.3 (xs:import schemaLocation), RFC 3986 section 3 (the URL's parts), RFC 3875 section
 * 4.1 (SERVER_NAME, SERVER_PORT, SCRIPT_NAME, PATH_INFO).
 *
 * Input: an operator's URL (services.url), the web server's params and the path (SCRIPT_NAME
 * and PATH_INFO: the client's path, decoded, which a cache keys on anyway).  Each is bounded
 * and checked character by character before it is copied; anything but the characters a
 * host, a port or a path may hold is refused, and the URL is XML-escaped where it lands, so
 * no markup can reach the document.  The client's Host header is not read.
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

/* The characters of an authority (RFC 3986 3.2): a reg-name of letters, digits, '-' and '.',
 * or an IP literal in brackets, then an optional ':' and port.  Percent-encoding and '_' are
 * not accepted: no real service name needs them. */
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

/* A port: 1 to 65535 in at most 5 digits. */
static int
port_ok(const char *s, size_t n)
{
	size_t i;
	long v = 0;

	if (n < 1 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/*
 * RFC 3986 3.2.2 and 3.2.3: a name, or an IP literal in brackets, then optionally ':' and a
 * port, within TSA_MAX_URL_HOST.  1 when a[0..n) is one; *has_port says whether it names a port.
 */
static int
authority_ok(const char *a, size_t n, int *has_port)
{
	const char *end = a + n, *h;

	if (n == 0 || n > TSA_MAX_URL_HOST || !all_of(a, n, host_char))
		return 0;
	if (a[0] == '[') {
		if ((h = memchr(a, ']', n)) == NULL || h == a + 1)
			return 0;
		h++;
	} else {
		if ((h = memchr(a, ':', n)) == NULL)
			h = end;
		if (h == a || memchr(a, '[', (size_t)(h - a)) != NULL ||
		    memchr(a, ']', (size_t)(h - a)) != NULL)
			return 0;
	}
	*has_port = h != end;
	return h == end || (*h == ':' && port_ok(h + 1, (size_t)(end - h - 1)));
}

int
wsdl_url_check(const char *url, char *err, size_t errlen)
{
	const char *auth, *path;
	size_t path_len;
	int has_port;

	if (strncmp(url, "https://", 8) == 0)
		auth = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		auth = url + 7;
	else {
		snprintf(err, errlen, "a service url begins with http:// or https://");
		return -1;
	}
	if ((path = strchr(auth, '/')) == NULL) {
		snprintf(err, errlen, "a service url has a path (at least '/')");
		return -1;
	}
	if (!authority_ok(auth, (size_t)(path - auth), &has_port)) {
		snprintf(err, errlen, "the url's host must be a name (letters, digits, '-', '.') or "
		    "an IP literal in brackets, then an optional ':' and port, at most %d "
		    "characters", TSA_MAX_URL_HOST);
		return -1;
	}
	path_len = strlen(path);
	if (path_len > TSA_MAX_URL_PATH || !all_of(path, path_len, path_char)) {
		snprintf(err, errlen, "the url's path must be at most %d characters of a path, "
		    "without a query or fragment", TSA_MAX_URL_PATH);
		return -1;
	}
	return 0;
}

int
wsdl_service_url(const struct wsdl_origin *o, char *buf, size_t len)
{
	const char *scheme, *host = o->server_name, *port = o->server_port;
	const char *path = o->script_name, *info = o->path_info;
	size_t host_len, path_len, info_len;
	int n, has_port;

	scheme = o->https != NULL && strcasecmp(o->https, "on") == 0 ? "https" : "http";
	if (host == NULL || *host == '\0')
		return WSDL_BAD_SERVER;	/* nginx without server_name, lighttpd without a Host */
	host_len = strnlen(host, TSA_MAX_URL_HOST + 1);
	if (!authority_ok(host, host_len, &has_port) || has_port)
		return WSDL_BAD_SERVER;	/* e.g. nginx's catch-all "_" */
	/* A default port is left out. */
	if (port != NULL && (*port == '\0' ||
	    (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
	    (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0)))
		port = NULL;
	if (port != NULL && !port_ok(port, strlen(port)))
		return WSDL_BAD_SERVER;
	if (path == NULL || *path != '/')
		return WSDL_BAD_PATH;
	if (info == NULL)
		info = "";
	path_len = strnlen(path, TSA_MAX_URL_PATH + 1);
	info_len = strnlen(info, TSA_MAX_URL_PATH + 1);
	if (path_len + info_len > TSA_MAX_URL_PATH || !all_of(path, path_len, path_char) ||
	    !all_of(info, info_len, path_char))
		return WSDL_BAD_PATH;
	n = snprintf(buf, len, "%s://%.*s%s%s%.*s%.*s", scheme, (int)host_len, host,
	    port != NULL ? ":" : "", port != NULL ? port : "", (int)path_len, path,
	    (int)info_len, info);
	return n < 0 || (size_t)n >= len ? WSDL_BAD_SERVER : 0;
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
