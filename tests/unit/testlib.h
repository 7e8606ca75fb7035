/*
 * testlib.h - what every Check suite of tests/unit/ does alike: a test case made from a list
 * of tests, a suite of one such case, running a suite into main()'s exit status, and a
 * temporary directory under $TMPDIR (default /tmp) for the suites that write files.
 * Touches no untrusted input; built into every unit binary (Makefile).
 *
 * The lists are NULL-terminated and name the tests START_TEST defines (const TTest *,
 * Check 0.15).  Ownership: a Suite from tl_suite() belongs to the caller until tl_run(),
 * which frees it; a TCase from tl_tcase() belongs to its suite.
 */
#ifndef TSA_TESTLIB_H
#define TSA_TESTLIB_H

#include <stddef.h>
#include <check.h>

/*
 * A test case named name with the tests listed after timeout (up to a NULL), added to s, and
 * returned for fixtures or loop tests; timeout in seconds per test, 0: Check's default (or
 * CK_DEFAULT_TIMEOUT).
 */
TCase	*tl_tcase(Suite *s, const char *name, double timeout, ...);
/* A suite of one test case, both named name, with the listed tests (up to a NULL). */
Suite	*tl_suite(const char *name, double timeout, ...);
/* Runs every test of s (CK_NORMAL output), frees it; EXIT_SUCCESS when none failed, else
 * EXIT_FAILURE: main()'s status. */
int	 tl_run(Suite *s);

/* Makes a fresh directory "$TMPDIR/tsa-test-<name>.XXXXXX" (mode 0700) into dir; 0 or -1. */
int	 tl_tmpdir(char *dir, size_t dirlen, const char *name);
/* Removes dir and everything below it; complains on standard error when it cannot. */
void	 tl_tmpdir_remove(const char *dir);

#endif
