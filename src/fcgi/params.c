/*
 * params.c - the FastCGI params the worker reads into a struct http_request.
 * Input: untrusted strings from the web server (the client's Content-Type, Content-Length and
 * query string; the TLS params, the server's name and port the web server sets).  Nothing
 * here copies or allocates: the request points into the params, and CONTENT_LENGTH is
 * parsed strictly (decimal digits only, at most the body cap) before any body is read.  What
 * the strings mean is decided later, each by its own bounded reader: the content type by the
 * handler's detector, the certificate by policy/clients.c, the address by the ip-allow
 * filter, the query and the server's name by wsdl.c.  The Host header (HTTP_HOST) is not
 * read.
 */
#include <fcgiapp.h>
#include <string.h>

#include "params.h"

/* CONTENT_LENGTH: digits only (no sign, no space), at most cap. 0 with *out, or -1. */
static int
content_length(const char *s, size_t cap, size_t *out)
{
	size_t v = 0, d;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		d = (size_t)(*s - '0');
		if (v > cap / 10 || d > cap - v * 10)
			return -1;	/* past cap, without overflowing */
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
params_read(char **envp, size_t cap, struct http_request *hr, size_t *want)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", envp);
	const char *svc = FCGX_GetParam("TSA_SERVICE", envp);

	memset(hr, 0, sizeof(*hr));
	hr->method = FCGX_GetParam("REQUEST_METHOD", envp);
	hr->content_type = FCGX_GetParam("CONTENT_TYPE", envp);
	if (svc == NULL || *svc == '\0') {
		/* Fallback: the location's path, without its leading slash. */
		svc = FCGX_GetParam("SCRIPT_NAME", envp);
		if (svc != NULL && *svc == '/')
			svc++;
	}
	hr->client.service = svc;
	hr->client.remote_addr = FCGX_GetParam("REMOTE_ADDR", envp);
	hr->client.tls_verify = FCGX_GetParam("SSL_CLIENT_VERIFY", envp);
	hr->client.tls_subject = FCGX_GetParam("SSL_CLIENT_S_DN", envp);
	hr->client.tls_issuer = FCGX_GetParam("SSL_CLIENT_I_DN", envp);
	hr->client.tls_cert = FCGX_GetParam("SSL_CLIENT_CERT", envp);
	hr->query = FCGX_GetParam("QUERY_STRING", envp);
	hr->origin.https = FCGX_GetParam("HTTPS", envp);
	hr->origin.server_name = FCGX_GetParam("SERVER_NAME", envp);
	hr->origin.server_port = FCGX_GetParam("SERVER_PORT", envp);
	hr->origin.script_name = FCGX_GetParam("SCRIPT_NAME", envp);
	hr->origin.path_info = FCGX_GetParam("PATH_INFO", envp);
	if (hr->method == NULL || strcmp(hr->method, "POST") != 0)
		return 0;
	*want = cap + 1;
	if (cl != NULL && *cl != '\0' && content_length(cl, cap, want) == -1) {
		hr->body_too_large = 1;
		return 0;
	}
	return 1;
}
