/*
 * wsdl.h - the SOAP service description served live by every service, so that SOAP tooling
 * can build a client from the running endpoint:
 *   GET URL?wsdl         wsdl/timestamp.wsdl, its soap:address the service's URL and its
 *                        schema import URL?xsd;
 *   GET URL?xsd          xsd/timestamp.xsd, its xmldsig import URL?xsd=xmldsig;
 *   GET URL?xsd=xmldsig  xsd/xmldsig-subset.xsd as it is.
 * The files are embedded in the program at build time (nothing is read from disk).
 *
 * Input: the FastCGI params that name the URL (HTTPS, HTTP_HOST, SERVER_NAME, SERVER_PORT,
 * REQUEST_URI, SCRIPT_NAME), untrusted: the Host header is the client's.  They are bounded
 * (TSA_MAX_URL_HOST, TSA_MAX_URL_PATH) and limited to host, port and path characters before
 * any of them lands in a document; the URL is XML-escaped as it does.
 */
#ifndef TSA_WSDL_H
#define TSA_WSDL_H

#include <stddef.h>

#include "tsa_limits.h"

#define WSDL_CONTENT_TYPE	"text/xml; charset=utf-8"

/* The params that make up the service's URL, as the web server passed them (NULL: absent). */
struct wsdl_origin {
	const char	*https;		/* "on" (nginx, Apache) when the request came over TLS */
	const char	*host;		/* HTTP_HOST, the client's Host header */
	const char	*server_name;	/* SERVER_NAME and SERVER_PORT, when there is no Host */
	const char	*server_port;
	const char	*request_uri;	/* the path asked, with the query (preferred) */
	const char	*script_name;	/* the location's path, when there is no REQUEST_URI */
};

/* The documents, by the query string that asks for them. */
enum wsdl_doc {
	WSDL_DOC_NONE = 0,	/* not a description query: the worker's usual answer */
	WSDL_DOC_WSDL,		/* "wsdl" (any case, as .NET and Java tooling ask) */
	WSDL_DOC_XSD,		/* "xsd" */
	WSDL_DOC_XSD_DSIG,	/* "xsd=xmldsig" */
};

enum wsdl_doc wsdl_query(const char *query);

/*
 * The service's URL without a query (scheme://host[:port]/path) into buf.  0, or -1 when the
 * host or path is missing, too long or holds a character that has no place there (the
 * caller answers 400).
 */
int	wsdl_service_url(const struct wsdl_origin *o, char *buf, size_t len);

/*
 * The document doc for the service at url (from wsdl_service_url()).  0 with a malloc'd
 * *out (the caller frees), or -1: out of memory, or a placeholder missing from an embedded
 * file (a build bug, which the unit test catches).
 */
int	wsdl_document(enum wsdl_doc doc, const char *url, unsigned char **out, size_t *outlen);

/* The embedded WSDL, for the unit test that compares it with wsdl/timestamp.wsdl. */
const char *wsdl_text(void);

#endif
