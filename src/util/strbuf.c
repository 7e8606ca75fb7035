/*
 * strbuf.c - the growing text buffer (see strbuf.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n > SIZE_MAX / 2 - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *q = realloc(b->p, cap);

		if (q == NULL) {
			b->failed = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
sb_str(struct sbuf *b, const char *s)
{
	if (s == NULL)
		b->failed = 1;
	else
		sb_add(b, s, strlen(s));
}

void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char small[256], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		sb_add(b, small, (size_t)n);
		return;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		b->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_add(b, big, (size_t)n);
	free(big);
}

/* Text or attribute value with &, <, > and " escaped. */
void
sb_esc(struct sbuf *b, const char *s)
{
	if (s == NULL) {
		b->failed = 1;
		return;
	}
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':	sb_str(b, "&amp;"); break;
		case '<':	sb_str(b, "&lt;"); break;
		case '>':	sb_str(b, "&gt;"); break;
		case '"':	sb_str(b, "&quot;"); break;
		default:	sb_add(b, s, 1); break;
		}
	}
}

/* Takes ownership of s (may be NULL: failure). */
void
sb_own(struct sbuf *b, char *s)
{
	sb_str(b, s);
	free(s);
}

int
sb_done(struct sbuf *b, unsigned char **out, size_t *outlen)
{
	if (b->failed || b->p == NULL) {
		free(b->p);
		return -1;
	}
	*out = (unsigned char *)b->p;
	*outlen = b->len;
	return 0;
}
