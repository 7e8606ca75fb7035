/*
 * strbuf.c - the growing text buffer of the XML writers (see strbuf.h).
 */
#include <stdint.h>
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
