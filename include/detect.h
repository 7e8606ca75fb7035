/*
 * detect.h - which protocol a POSTed request speaks, decided once from its Content-Type and
 * the first bytes of its body together (the table is in detect.c and the README, "Protocols").
 * The body is untrusted; only its first bytes are looked at, never past len.
 */
#ifndef TSA_DETECT_H
#define TSA_DETECT_H

#include <stddef.h>

#include "request.h"

/*
 * Returns 0 with the protocol in *proto, or 415 (a content type no protocol uses) with a
 * fixed text for the client in *why.
 */
int	protocol_detect(const char *content_type, const unsigned char *body, size_t len,
	    enum tsa_protocol *proto, const char **why);

#endif
