/*
 * test_logapi.c - unit tests of the token log's query strings (src/fcgi/logapi.c): the
 * accepted forms, and every other one refused (an unknown or repeated key, an empty value,
 * a sign, percent-encoding, a size past 2^63 - 1 or of too many digits, trailing bytes).
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "logapi.h"
#include "testlib.h"

START_TEST(serials)
{
	char dec[64];

	ck_assert_int_eq(logapi_parse_serial("serial=123", dec, sizeof(dec)), 0);
	ck_assert_str_eq(dec, "123");
	ck_assert_int_eq(logapi_parse_serial(
	    "serial=1461501637330902918203684832716283019655932542975", dec, sizeof(dec)), 0);
	static const char *bad[] = {
		"", "serial", "serial=", "serial=-1", "serial=+1", "serial=0x12", "serial=1&",
		"serial=1&serial=2", "Serial=1", "serial=%31", "serial= 1", "x=1", "serial=1 ",
		"serial=12345678901234567890123456789012345678901234567890",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(logapi_parse_serial(bad[i], dec, sizeof(dec)) == -1, "%s", bad[i]);
	ck_assert_int_eq(logapi_parse_serial(NULL, dec, sizeof(dec)), -1);
	ck_assert_int_eq(logapi_parse_serial("serial=123", dec, 3), -1);
}
END_TEST

START_TEST(sizes)
{
	uint64_t a, b;

	ck_assert_int_eq(logapi_parse_sizes("first=3&second=10", &a, &b), 0);
	ck_assert(a == 3 && b == 10);
	ck_assert_int_eq(logapi_parse_sizes("second=10&first=3", &a, &b), 0);
	ck_assert(a == 3 && b == 10);
	ck_assert_int_eq(logapi_parse_sizes("first=9223372036854775807&second="
	    "9223372036854775807", &a, &b), 0);
	static const char *bad[] = {
		"", "first=3", "first=3&", "first=3&second=", "first=3&second=4&", "first=3&first=4",
		"second=4&second=3", "first=3&second=4&x=1", "first=3;second=4", "first=-3&second=4",
		"first=9223372036854775808&second=1", "first=12345678901234567890&second=1",
		"first=%33&second=4", "first= 3&second=4", "x=1&first=3&second=4",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(logapi_parse_sizes(bad[i], &a, &b) == -1, "%s", bad[i]);
	ck_assert_int_eq(logapi_parse_sizes(NULL, &a, &b), -1);
}
END_TEST

int
main(void)
{
	return tl_run(tl_suite("logapi", 0, serials, sizes, NULL));
}
