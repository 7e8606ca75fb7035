/*
 * test_console.c - unit tests of the web console's parsers and CSRF tokens (src/admin/form.c,
 * src/admin/csrf.c): urlencoded fields decoded exactly, every malformed or hostile form
 * refused (bad escapes, control bytes, duplicate fields, names outside [a-z0-9_], caps on
 * fields and sizes), and CSRF tokens bound to the key, the certificate and the time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

#include "testlib.h"

static int
parse(const char *s, struct form *f)
{
	char err[256];

	return form_parse(s, strlen(s), f, err, sizeof(err));
}

START_TEST(form_decodes)
{
	struct form f;

	ck_assert_int_eq(parse("a=1&b_2=x+y&params=%7B%22seconds%22%3A+2%7D&e=", &f), 0);
	ck_assert_uint_eq(f.n, 4);
	ck_assert_str_eq(form_get(&f, "a"), "1");
	ck_assert_str_eq(form_get(&f, "b_2"), "x y");
	ck_assert_str_eq(form_get(&f, "params"), "{\"seconds\": 2}");
	ck_assert_str_eq(form_get(&f, "e"), "");
	ck_assert_ptr_null(form_get(&f, "missing"));
	form_free(&f);
	ck_assert_int_eq(parse("", &f), 0);
	ck_assert_uint_eq(f.n, 0);
	form_free(&f);
	/* Tab, CR and LF survive (a textarea's JSON). */
	ck_assert_int_eq(parse("p=%7B%0D%0A%09%7D", &f), 0);
	ck_assert_str_eq(form_get(&f, "p"), "{\r\n\t}");
	form_free(&f);
	/* UTF-8 passes as bytes. */
	ck_assert_int_eq(parse("p=%C5%BE", &f), 0);
	ck_assert_str_eq(form_get(&f, "p"), "\xc5\xbe");
	form_free(&f);
}
END_TEST

START_TEST(form_refusals)
{
	static const char *bad[] = {
		"a", "=1", "a=1&", "&a=1", "a=1&&b=2", "A=1", "a-b=1", "a%41=1", "a b=1",
		"a=%", "a=%4", "a=%4G", "a=%G4", "a=%00", "a=%01", "a=%7F", "a=1&a=2",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",	/* a 33-byte name */
	};
	struct form f;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&f, 0, sizeof(f));
		ck_assert_msg(parse(bad[i], &f) == -1, "accepted '%s'", bad[i]);
		ck_assert_uint_eq(f.n, 0);
	}
}
END_TEST

START_TEST(form_caps)
{
	char *s = malloc(3 * CONSOLE_MAX_VALUE + 64);
	struct form f;
	size_t i, n;

	/* CONSOLE_MAX_FIELDS fields pass, one more does not. */
	for (i = 0, n = 0; i < CONSOLE_MAX_FIELDS; i++)
		n += (size_t)sprintf(s + n, "%sf%zu=v", i > 0 ? "&" : "", i);
	ck_assert_int_eq(parse(s, &f), 0);
	ck_assert_uint_eq(f.n, CONSOLE_MAX_FIELDS);
	form_free(&f);
	sprintf(s + n, "&x=1");
	ck_assert_int_eq(parse(s, &f), -1);
	/* A value at the cap passes, one byte more does not, escaped or not. */
	memcpy(s, "v=", 2);
	memset(s + 2, 'a', CONSOLE_MAX_VALUE);
	s[2 + CONSOLE_MAX_VALUE] = '\0';
	ck_assert_int_eq(parse(s, &f), 0);
	ck_assert_uint_eq(strlen(form_get(&f, "v")), CONSOLE_MAX_VALUE);
	form_free(&f);
	strcat(s, "a");
	ck_assert_int_eq(parse(s, &f), -1);
	for (i = 0, n = 2; i <= CONSOLE_MAX_VALUE; i++, n += 3)
		memcpy(s + n, "%41", 3);
	s[n] = '\0';
	ck_assert_int_eq(parse(s, &f), -1);
	free(s);
	/* form_free of a zeroed form and of NULL. */
	memset(&f, 0, sizeof(f));
	form_free(&f);
	form_free(NULL);
}
END_TEST

static const unsigned char KEY[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const char *FP = "cb55bb6038f6ce8c5b0ab2ed77810364e342a0bf2a3dd8f3b307c7f9e26bad0d";

START_TEST(csrf_round_trip)
{
	char tok[CONSOLE_CSRF_TEXT], err[256];
	time_t now = 1800000000;

	ck_assert_int_eq(csrf_make(KEY, sizeof(KEY), FP, now, tok, sizeof(tok)), 0);
	ck_assert_int_eq(strncmp(tok, "1800000000.", 11), 0);
	ck_assert_uint_eq(strlen(tok), 11 + 64);
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, tok, now, err, sizeof(err)), 0);
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, tok, now + CONSOLE_CSRF_MAX_AGE, err,
	    sizeof(err)), 0);
	/* Too old, from the future (beyond 60 s of skew). */
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, tok, now + CONSOLE_CSRF_MAX_AGE + 1,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, tok, now - 61, err, sizeof(err)), -1);
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, tok, now - 60, err, sizeof(err)), 0);
}
END_TEST

START_TEST(csrf_refusals)
{
	unsigned char other[32];
	char tok[CONSOLE_CSRF_TEXT], t2[CONSOLE_CSRF_TEXT + 8], err[256];
	time_t now = 1800000000;

	ck_assert_int_eq(csrf_make(KEY, sizeof(KEY), FP, now, tok, sizeof(tok)), 0);
	/* Another certificate, another key. */
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY),
	    "0b55bb6038f6ce8c5b0ab2ed77810364e342a0bf2a3dd8f3b307c7f9e26bad0d", tok, now, err,
	    sizeof(err)), -1);
	memcpy(other, KEY, sizeof(other));
	other[31] ^= 1;
	ck_assert_int_eq(csrf_check(other, sizeof(other), FP, tok, now, err, sizeof(err)), -1);
	/* Every position of the MAC matters; the time is bound. */
	strcpy(t2, tok);
	t2[strlen(t2) - 1] = t2[strlen(t2) - 1] == '0' ? '1' : '0';
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, t2, now, err, sizeof(err)), -1);
	strcpy(t2, tok);
	t2[9] = '1';
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, t2, now, err, sizeof(err)), -1);
	/* Malformed. */
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, NULL, now, err, sizeof(err)), -1);
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, "", now, err, sizeof(err)), -1);
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, tok + 10, now, err, sizeof(err)), -1);
	snprintf(t2, sizeof(t2), "%sA", tok);
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, t2, now, err, sizeof(err)), -1);
	snprintf(t2, sizeof(t2), "-1%s", tok + 10);
	ck_assert_int_eq(csrf_check(KEY, sizeof(KEY), FP, t2, now, err, sizeof(err)), -1);
	/* No key: nothing is made. */
	ck_assert_int_eq(csrf_make(KEY, 0, FP, now, tok, sizeof(tok)), -1);
}
END_TEST

static Suite *
console_suite(void)
{
	Suite *s = suite_create("console");

	tl_tcase(s, "form", 0, form_decodes, form_refusals, form_caps, NULL);
	tl_tcase(s, "csrf", 0, csrf_round_trip, csrf_refusals, NULL);
	return s;
}

int
main(void)
{
	return tl_run(console_suite());
}
