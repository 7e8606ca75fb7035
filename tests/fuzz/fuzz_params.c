/*
 * fuzz_params.c - fuzz target of the FastCGI params the worker reads (src/fcgi/params.c) and
 * of each reader that then interprets one of them: QUERY_STRING and the URL params (HTTPS,
 * SERVER_NAME, SERVER_PORT, SCRIPT_NAME) in src/proto/wsdl.c, the
 * client-certificate params (SSL_CLIENT_VERIFY, SSL_CLIENT_CERT, plain or URL-escaped PEM) in
 * src/policy/clients.c, REMOTE_ADDR in the ip-allow filter, CONTENT_LENGTH, REQUEST_METHOD
 * and TSA_SERVICE / SCRIPT_NAME in params.c.  The web server passes the client's headers and
 * query string through these, untrusted.
 *
 * Input: NAME=VALUE entries separated by NUL bytes, as libfcgi hands the params over (at most
 * 64; each an exact-size copy, so a read past its end shows under ASan).
 * Checked with abort(): a request with a body to read is a POST asking for at most
 * max_body + 1 bytes, exactly CONTENT_LENGTH when it is given (digits only); a POST refused for its CONTENT_LENGTH is marked too large; a service
 * URL is http:// or https:// and fits its buffer, and its document builds (as does one of a
 * QUERY_STRING that wsdl_url_check() accepts as a configured url); a refusal by
 * ip-allow is HTTP 403 with a text.
 * Built by libFuzzer (tests/fuzz/run.sh) or with tests/fuzz/replay.c (make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "policy.h"
#include "tsa_limits.h"
#include "wsdl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PARAMS	64
#define FUZZ_CAP	65536

/* ip-allow as the demo stack configures it, built once. */
static struct policy ip_allow;

static void
init(void)
{
	static const struct filter_param allow[] = {
		{ "allow", "127.0.0.0/8" }, { "allow", "::1/128" }, { "allow", "10.0.0.0/8" },
		{ "allow", "2001:db8::/32" },
	};
	char err[256];

	if (ip_allow.n_filters != 0)
		return;
	tsa_opts_defaults(&ip_allow.opts);
	if (policy_add_filter(&ip_allow, "ip-allow", allow, sizeof(allow) / sizeof(allow[0]),
	    err, sizeof(err)) == -1 || ip_allow.n_filters != 1)
		abort();
}

static void
readers(const struct http_request *hr)
{
	static char rc_name[] = "demo", svc_name[] = "tsa";
	static struct registered_client rc = { rc_name, { 0 } };
	struct service svc;
	struct tsa_client client = hr->client;
	struct tsa_request req;
	struct tsa_refusal ref;
	char url[TSA_MAX_URL + 1], err[256];
	enum wsdl_doc doc = wsdl_query(hr->query);

	if (wsdl_service_url(&hr->origin, url, sizeof(url)) == 0) {
		unsigned char *out = NULL;
		size_t outlen = 0;

		if (memchr(url, '\0', sizeof(url)) == NULL ||
		    (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
			abort();
		if (doc != WSDL_DOC_NONE) {
			if (wsdl_document(doc, url, &out, &outlen) == -1 || outlen == 0)
				abort();
			free(out);
		}
	}
	if (hr->query != NULL && wsdl_url_check(hr->query, err, sizeof(err)) == 0) {
		unsigned char *out = NULL;
		size_t outlen = 0;

		if (strlen(hr->query) > TSA_MAX_URL ||
		    wsdl_document(WSDL_DOC_WSDL, hr->query, &out, &outlen) == -1 || outlen == 0)
			abort();
		free(out);
	}
	memset(&svc, 0, sizeof(svc));
	svc.name = svc_name;
	svc.clients = &rc;
	svc.n_clients = 1;
	client_identify(&svc, &client);
	if (client.registered != NULL && client.cert_verified != 1)
		abort();
	memset(&req, 0, sizeof(req));
	memset(&ref, 0, sizeof(ref));
	if (ip_allow.filters[0].def->run(ip_allow.filters[0].state, &req, &client, &ref) == -1 &&
	    (ref.http_status != 403 || ref.text == NULL))
		abort();
}

/*
 * A body to read: without CONTENT_LENGTH (or empty), max_body + 1 bytes are asked for; with
 * it, its value, which is decimal digits only and at most max_body.
 */
static void
check_length(char **envp, size_t want)
{
	const char *cl = NULL, *s;
	size_t i, v = 0;

	for (i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], "CONTENT_LENGTH=", 15) == 0) {
			cl = envp[i] + 15;
			break;		/* libfcgi's FCGX_GetParam takes the first */
		}
	if (cl == NULL || *cl == '\0') {
		if (want != FUZZ_CAP + 1)
			abort();
		return;
	}
	for (s = cl; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			abort();
		v = v * 10 + (size_t)(*s - '0');
		if (v > FUZZ_CAP)
			abort();
	}
	if (v > FUZZ_CAP || v != want)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *envp[FUZZ_MAX_PARAMS + 1];
	const uint8_t *p = data, *end = data + size, *z;
	struct http_request hr;
	size_t n = 0, i, want = 0;
	int body;

	init();
	while (p < end && n < FUZZ_MAX_PARAMS) {
		size_t len;

		z = memchr(p, '\0', (size_t)(end - p));
		len = z != NULL ? (size_t)(z - p) : (size_t)(end - p);
		if ((envp[n] = malloc(len + 1)) == NULL)
			abort();
		memcpy(envp[n], p, len);
		envp[n][len] = '\0';
		n++;
		p += len + (z != NULL);
	}
	envp[n] = NULL;
	body = params_read(envp, FUZZ_CAP, &hr, &want);
	if (body == 1 && (hr.method == NULL || strcmp(hr.method, "POST") != 0 ||
	    want > FUZZ_CAP + 1 || hr.body_too_large))
		abort();
	if (body == 0 && hr.method != NULL && strcmp(hr.method, "POST") == 0 &&
	    !hr.body_too_large)
		abort();
	if (body == 1)
		check_length(envp, want);
	readers(&hr);
	for (i = 0; i < n; i++)
		free(envp[i]);
	return 0;
}
