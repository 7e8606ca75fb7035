/*
 * fuzz_form.c - fuzz target of the web console's parsers of browser input
 * (src/admin/form.c, src/admin/csrf.c): untrusted bytes as a query string or urlencoded POST
 * body, and as a CSRF token field.
 *
 * Must never crash, leak or hang, and must keep the parser's promises, checked with abort():
 *   - an accepted form has at most CONSOLE_MAX_FIELDS fields, each name 1..CONSOLE_MAX_NAME
 *     bytes of [a-z0-9_] given once, each value at most CONSOLE_MAX_VALUE bytes with no
 *     control byte but tab, CR and LF;
 *   - a refused form leaves nothing behind (n == 0);
 *   - no input is ever a valid CSRF token for a key and certificate it cannot know.
 * Built by libFuzzer (tests/fuzz/run.sh) or with tests/fuzz/replay.c (make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_form(const struct form *f)
{
	size_t i, j, k;

	if (f->n > CONSOLE_MAX_FIELDS)
		abort();
	for (i = 0; i < f->n; i++) {
		const char *nm = f->f[i].name, *v = f->f[i].value;

		if (nm == NULL || v == NULL || strlen(nm) == 0 || strlen(nm) > CONSOLE_MAX_NAME ||
		    strlen(v) > CONSOLE_MAX_VALUE)
			abort();
		for (k = 0; nm[k] != '\0'; k++)
			if (!((nm[k] >= 'a' && nm[k] <= 'z') || (nm[k] >= '0' && nm[k] <= '9') ||
			    nm[k] == '_'))
				abort();
		for (k = 0; v[k] != '\0'; k++) {
			unsigned char c = (unsigned char)v[k];

			if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
				abort();
		}
		for (j = 0; j < i; j++)
			if (strcmp(f->f[j].name, nm) == 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[32] = { 0x5a };
	struct form f;
	char err[256], *tok;

	if (size > CONSOLE_MAX_BODY)
		return 0;
	memset(&f, 0, sizeof(f));
	if (form_parse((const char *)data, size, &f, err, sizeof(err)) == 0)
		check_form(&f);
	else if (f.n != 0)
		abort();
	form_free(&f);
	if ((tok = malloc(size + 1)) == NULL)
		abort();
	memcpy(tok, data, size);
	tok[size] = '\0';
	if (csrf_check(key, sizeof(key), "00", tok, 1800000000, err, sizeof(err)) == 0)
		abort();
	free(tok);
	return 0;
}
