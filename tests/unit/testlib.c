/*
 * testlib.c - the pieces every Check suite of tests/unit/ shares (testlib.h): test cases from
 * NULL-terminated lists of tests, running a suite into main()'s exit status, a temporary
 * directory.  Touches no untrusted input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static TCase *
tcase_from(Suite *s, const char *name, double timeout, va_list ap)
{
	TCase *tc = tcase_create(name);
	const TTest *t;

	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	while ((t = va_arg(ap, const TTest *)) != NULL)
		tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
	return tc;
}

TCase *
tl_tcase(Suite *s, const char *name, double timeout, ...)
{
	TCase *tc;
	va_list ap;

	va_start(ap, timeout);
	tc = tcase_from(s, name, timeout, ap);
	va_end(ap);
	return tc;
}

Suite *
tl_suite(const char *name, double timeout, ...)
{
	Suite *s = suite_create(name);
	va_list ap;

	va_start(ap, timeout);
	(void)tcase_from(s, name, timeout, ap);
	va_end(ap);
	return s;
}

int
tl_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
tl_tmpdir(char *dir, size_t dirlen, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	n = snprintf(dir, dirlen, "%s/tsa-test-%s.XXXXXX", tmp != NULL && *tmp != '\0' ? tmp :
	    "/tmp", name);
	if (n < 0 || (size_t)n >= dirlen || mkdtemp(dir) == NULL) {
		if (dirlen > 0)
			dir[0] = '\0';
		return -1;
	}
	return 0;
}

void
tl_tmpdir_remove(const char *dir)
{
	char cmd[1100];
	int n;

	n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (n < 0 || (size_t)n >= sizeof(cmd) || strchr(dir, '\'') != NULL ||
	    system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}
