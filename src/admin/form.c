/*
 * form.c - the console's parser of application/x-www-form-urlencoded text (HTML 5 4.10.21.7,
 * URL standard "application/x-www-form-urlencoded parser"), for query strings and POST
 * bodies: untrusted, from the browser.  Strict and bounded: the caller has capped len; field
 * names are the console's own ([a-z0-9_], short), a field given twice is refused (no
 * guessing which one counts), values are decoded into exactly what they say, and a decoded
 * NUL or control byte is refused rather than passed into SQL parameters or HTML.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "console.h"

/* Decodes s[0..n) into a new string; NULL with err on a bad escape or byte. */
static char *
decode(const char *s, size_t n, size_t cap, char *err, size_t errlen)
{
	char *out;
	size_t i, o;

	if (n > 3 * cap) {
		snprintf(err, errlen, "a field is longer than %zu bytes", cap);
		return NULL;
	}
	if ((out = malloc(n + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (percent_decode(s, n, 1, out, n + 1, &o) == -1) {
		snprintf(err, errlen, "a bad %%-escape");
		goto bad;
	}
	for (i = 0; i < o; i++) {
		int c = (unsigned char)out[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) {
			snprintf(err, errlen, "a control character in a field");
			goto bad;
		}
	}
	if (o > cap) {
		snprintf(err, errlen, "a field is longer than %zu bytes", cap);
		goto bad;
	}
	return out;
bad:
	free(out);
	return NULL;
}

int
form_parse(const char *p, size_t len, struct form *f, char *err, size_t errlen)
{
	struct form tmp;
	size_t i = 0, j, k, eq;

	memset(&tmp, 0, sizeof(tmp));
	while (i < len) {
		for (j = i; j < len && p[j] != '&'; j++)
			;
		if (j == i) {
			snprintf(err, errlen, "an empty field");
			goto bad;
		}
		for (eq = i; eq < j && p[eq] != '='; eq++)
			;
		if (eq == j || eq == i || eq - i > CONSOLE_MAX_NAME) {
			snprintf(err, errlen, "a field without a name=value form");
			goto bad;
		}
		for (k = i; k < eq; k++)
			if (!((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '0' && p[k] <= '9') ||
			    p[k] == '_')) {
				snprintf(err, errlen, "a field name outside [a-z0-9_]");
				goto bad;
			}
		if (tmp.n == CONSOLE_MAX_FIELDS) {
			snprintf(err, errlen, "more than %d fields", CONSOLE_MAX_FIELDS);
			goto bad;
		}
		if ((tmp.f[tmp.n].name = strndup(p + i, eq - i)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto bad;
		}
		if (form_get(&tmp, tmp.f[tmp.n].name) != NULL) {
			snprintf(err, errlen, "field '%s' given twice", tmp.f[tmp.n].name);
			free(tmp.f[tmp.n].name);
			goto bad;
		}
		if ((tmp.f[tmp.n].value = decode(p + eq + 1, j - eq - 1, CONSOLE_MAX_VALUE, err,
		    errlen)) == NULL) {
			free(tmp.f[tmp.n].name);
			goto bad;
		}
		tmp.n++;
		/* A trailing '&' is an empty field too. */
		if (j < len && j + 1 == len) {
			snprintf(err, errlen, "an empty field");
			goto bad;
		}
		i = j + 1;
	}
	*f = tmp;
	return 0;
bad:
	form_free(&tmp);
	return -1;
}

const char *
form_get(const struct form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->f[i].value != NULL && strcmp(f->f[i].name, name) == 0)
			return f->f[i].value;
	return NULL;
}

void
form_free(struct form *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->f[i].name);
		free(f->f[i].value);
	}
	memset(f, 0, sizeof(*f));
}
