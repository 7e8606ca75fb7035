/*
 * params.h - the FastCGI params the worker reads, apart from libfcgi's request loop so that
 * a fuzz target and unit tests can drive them: REQUEST_METHOD, CONTENT_TYPE, CONTENT_LENGTH,
 * TSA_SERVICE (else SCRIPT_NAME), REMOTE_ADDR, the client-certificate params, QUERY_STRING
 * and the params naming the service's URL.
 */
#ifndef TSA_PARAMS_H
#define TSA_PARAMS_H

#include <stddef.h>

#include "handler.h"

/*
 * Fills hr from envp (NAME=VALUE strings, NULL-terminated, as libfcgi gives them; hr points
 * into envp, which must outlive it).  Returns 1 when a body is to be read, with *want the
 * bytes to ask for (cap + 1 when CONTENT_LENGTH is absent, so that an oversized body shows),
 * or 0: not a POST, or CONTENT_LENGTH not a decimal number of at most cap bytes (then
 * hr->body_too_large is set).
 */
int	params_read(char **envp, size_t cap, struct http_request *hr, size_t *want);

#endif
