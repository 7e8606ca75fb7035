/*
 * wsdl.h - the SOAP service description served live by every service, so that SOAP tooling
 * can build a client from the running endpoint:
 *   GET URL?wsdl         wsdl/timestamp.wsdl, its soap:address the service's URL and its
 *                        schema import URL?xsd;
 *   GET URL?xsd          xsd/timestamp.xsd, its xmldsig import URL?xsd=xmldsig;
 *   GET URL?xsd=xmldsig  xsd/xmldsig-subset.xsd as it is.
 * The files are embedded in the program at build time (nothing is read from disk).
 *
 * Where the URL comes from (README, "The service description"): the service's url as
 * configured (services.url, `tsactl service set NAME --url URL`), checked by wsdl_url_check()
 * before it is written and again at load; else the web server's own word for the virtual host
 * and the path, the FastCGI params HTTPS, SERVER_NAME, SERVER_PORT, SCRIPT_NAME and
 * PATH_INFO.  The
 * client's Host header (HTTP_HOST) is never read: a request cannot name the address other
 * clients are sent to.  Every part is bounded (TSA_MAX_URL_HOST, TSA_MAX_URL_PATH) and limited
 * to host, port and path characters before it lands in a document, XML-escaped.
 */
#ifndef TSA_WSDL_H
#define TSA_WSDL_H

#include <stddef.h>

#include "tsa_limits.h"

#define WSDL_CONTENT_TYPE	"text/xml; charset=utf-8"

/*
 * Caching of the documents (RFC 9111).  From the configured url a description is the same for
 * every request: shared caches may keep it a while (a change of url reaches them within
 * max-age).  From the web server's params it is not stored at all: SERVER_NAME is the name of
 * the virtual host the Host header chose, and a web server left to its defaults copies the
 * Host header itself into it (Apache without UseCanonicalName On, lighttpd without
 * server.name), hence also Vary: Host.
 */
#define WSDL_CACHE_CONFIGURED	"public, max-age=300"
#define WSDL_CACHE_DERIVED	"no-store"
#define WSDL_VARY_DERIVED	"Host"

/* The params that make up the service's URL, as the web server passed them (NULL: absent). */
struct wsdl_origin {
	const char	*https;		/* HTTPS: "on" when the request came over TLS */
	const char	*server_name;	/* SERVER_NAME: the virtual host's configured name */
	const char	*server_port;	/* SERVER_PORT: the port it listens on */
	const char	*script_name;	/* SCRIPT_NAME and PATH_INFO: the path (RFC 3875 4.1.13, */
	const char	*path_info;	/* 4.1.5; Apache and lighttpd split it, nginx does not) */
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
 * A service URL as configured: http or https, a host (a name or an IP literal in brackets),
 * an optional port, a path from '/', no query, fragment or user; within the limits.  0, or -1
 * with the reason in err.
 */
int	wsdl_url_check(const char *url, char *err, size_t errlen);

/* wsdl_service_url() failures. */
#define WSDL_BAD_SERVER	(-1)	/* SERVER_NAME or SERVER_PORT missing or no host and port */
#define WSDL_BAD_PATH	(-2)	/* SCRIPT_NAME missing, or SCRIPT_NAME + PATH_INFO no path */

/*
 * The service's URL built from the web server's params (scheme://name[:port]/path, a
 * scheme's default port left out, the path SCRIPT_NAME then PATH_INFO) into buf (at least TSA_MAX_URL + 1 bytes).  0, or
 * WSDL_BAD_SERVER (the web server names no server: its configuration, the caller answers
 * 500) or WSDL_BAD_PATH (the location's path holds what no path holds: 400).
 */
int	wsdl_service_url(const struct wsdl_origin *o, char *buf, size_t len);

/*
 * The document doc for the service at url (configured, or from wsdl_service_url()).  0 with a malloc'd
 * *out (the caller frees), or -1: out of memory, or a placeholder missing from an embedded
 * file (a build bug, which the unit test catches).
 */
int	wsdl_document(enum wsdl_doc doc, const char *url, unsigned char **out, size_t *outlen);

/* The embedded WSDL, for the unit test that compares it with wsdl/timestamp.wsdl. */
const char *wsdl_text(void);

#endif
