/*
 * test_serial.c - serial numbers (src/tst/serial.c): exact length, positive and minimal as a
 * DER INTEGER, within RFC 3161's 160 bits, and no repeats over many draws.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tst.h"

#include "testlib.h"

START_TEST(test_length_and_sign)
{
	unsigned char s[TSA_SERIAL_MAX];
	size_t n;

	for (n = TSA_SERIAL_MIN; n <= TSA_SERIAL_MAX; n++) {
		int i;

		for (i = 0; i < 1000; i++) {
			ck_assert_int_eq(serial_generate(s, n), 0);
			/* positive: top bit clear; minimal: not 0x00 followed by a clear bit */
			ck_assert(s[0] >= 0x40 && s[0] <= 0x7f);
		}
	}
}
END_TEST

START_TEST(test_bounds_refused)
{
	unsigned char s[TSA_SERIAL_MAX + 1];

	ck_assert_int_eq(serial_generate(s, TSA_SERIAL_MIN - 1), -1);
	ck_assert_int_eq(serial_generate(s, TSA_SERIAL_MAX + 1), -1);
	ck_assert_int_eq(serial_generate(s, 0), -1);
}
END_TEST

static int
cmp(const void *a, const void *b)
{
	return memcmp(a, b, TSA_SERIAL_MIN);
}

START_TEST(test_no_repeats)
{
	enum { N = 100000 };
	unsigned char (*s)[TSA_SERIAL_MIN] = calloc(N, TSA_SERIAL_MIN);
	int i;

	ck_assert_ptr_nonnull(s);
	/* The shortest serials (62 random bits): a repeat in 1e5 draws would mean ~2^-29 odds. */
	for (i = 0; i < N; i++)
		ck_assert_int_eq(serial_generate(s[i], TSA_SERIAL_MIN), 0);
	qsort(s, N, TSA_SERIAL_MIN, cmp);
	for (i = 1; i < N; i++)
		ck_assert(memcmp(s[i - 1], s[i], TSA_SERIAL_MIN) != 0);
	free(s);
}
END_TEST

int
main(void)
{
	return tl_run(tl_suite("serial", 0, test_length_and_sign, test_bounds_refused,
	    test_no_repeats, NULL));
}
