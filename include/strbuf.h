/*
 * strbuf.h - a growing text buffer for the text the programs write (SOAP answers, the XML-DSig
 * token, /metrics and /health, the console's pages).  A failed allocation marks the buffer; sb_done() then reports it once, so builders
 * need no check per append.
 *
 * Ownership: sb_done() hands the text over (free()) or frees it on failure.
 */
#ifndef TSA_STRBUF_H
#define TSA_STRBUF_H

#include <stddef.h>

struct sbuf {
	char	*p;
	size_t	 len, cap;
	int	 failed;
};

void	sb_add(struct sbuf *b, const char *s, size_t n);
void	sb_str(struct sbuf *b, const char *s);
/* printf-formatted text appended (any length); a formatting error fails the buffer. */
void	sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with &, <, > and " escaped for XML text and attribute values; NULL fails the buffer. */
void	sb_esc(struct sbuf *b, const char *s);
/* sb_str(), then free(s). */
void	sb_own(struct sbuf *b, char *s);
/* 0 with the text (NUL-terminated, len without the NUL) in *out, or -1. */
int	sb_done(struct sbuf *b, unsigned char **out, size_t *outlen);

#endif
