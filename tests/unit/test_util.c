/*
 * test_util.c - unit tests of the small utilities: src/util/bytes.c (hex, the decimal form of
 * big-endian integers up to and past 160 bits, file_read), src/util/conf.c (tsa.conf and the
 * PIN), src/util/hashalg.c (the digest table, checked against GnuTLS's own view of each
 * algorithm) and src/util/text.c (cleaning text for the log and the events, quoting a peer's).  Temporary files go to a fresh directory under $TMPDIR (default /tmp).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <gnutls/crypto.h>

#include "bytes.h"
#include "cidr.h"
#include "conf.h"
#include "hashalg.h"
#include "text.h"
#include "testlib.h"
#include "tsa_limits.h"

#define B(...)	((const unsigned char[]){ __VA_ARGS__ })
#define N(...)	sizeof((const unsigned char[]){ __VA_ARGS__ })
#define BYTES(...)	B(__VA_ARGS__), N(__VA_ARGS__)

static char tmpdir[256];

static void
tmp_setup(void)
{
	ck_assert_int_eq(tl_tmpdir(tmpdir, sizeof(tmpdir), "util"), 0);
}

static void
tmp_teardown(void)
{
	tl_tmpdir_remove(tmpdir);
}

/* Writes text (len bytes) to tmpdir/name; returns the path in a static buffer. */
static const char *
write_file(const char *name, const char *text, size_t len)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

static const char *
write_text(const char *name, const char *text)
{
	return write_file(name, text, strlen(text));
}

/* A PIN file as an operator keeps it: mode 0600 (conf_read_pin refuses anything wider). */
static const char *
write_pin(const char *text)
{
	const char *path = write_text("pin", text);

	ck_assert_int_eq(chmod(path, 0600), 0);
	return path;
}

/* ---- hex ------------------------------------------------------------------------------------ */

START_TEST(hex_known_answers)
{
	unsigned char out[8];
	char text[16];
	size_t n;

	ck_assert_int_eq(hex_encode(BYTES(0x00, 0x01, 0xab, 0xff), text, sizeof(text)), 0);
	ck_assert_str_eq(text, "0001abff");
	ck_assert_int_eq(hex_encode(B(0), 0, text, 1), 0);
	ck_assert_str_eq(text, "");
	/* 2 * len + 1 is needed, exactly. */
	ck_assert_int_eq(hex_encode(BYTES(0x12, 0x34), text, 5), 0);
	ck_assert_str_eq(text, "1234");
	ck_assert_int_eq(hex_encode(BYTES(0x12, 0x34), text, 4), -1);

	ck_assert_int_eq(hex_decode("0001ABff", out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(out, B(0x00, 0x01, 0xab, 0xff), 4);
	ck_assert_int_eq(hex_decode("0x0a0B", out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(out, B(0x0a, 0x0b), 2);
	ck_assert_int_eq(hex_decode("0X7f", out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(out[0], 0x7f);
	/* Exactly max octets fit. */
	ck_assert_int_eq(hex_decode("0102030405060708", out, 8, &n), 0);
	ck_assert_uint_eq(n, 8);
}
END_TEST

START_TEST(hex_refusals)
{
	unsigned char out[4];
	size_t n = 99;

	ck_assert_int_eq(hex_decode("", out, sizeof(out), &n), -1);
	ck_assert_int_eq(hex_decode("0x", out, sizeof(out), &n), -1);
	ck_assert_int_eq(hex_decode("abc", out, sizeof(out), &n), -1);		/* odd */
	ck_assert_int_eq(hex_decode("zz", out, sizeof(out), &n), -1);
	ck_assert_int_eq(hex_decode("0g", out, sizeof(out), &n), -1);
	ck_assert_int_eq(hex_decode("12 4", out, sizeof(out), &n), -1);
	ck_assert_int_eq(hex_decode("-1", out, sizeof(out), &n), -1);
	ck_assert_int_eq(hex_decode("0102030405", out, 4, &n), -1);		/* too long */
	/* out-parameters untouched on failure */
	ck_assert_uint_eq(n, 99);
}
END_TEST

START_TEST(hex_round_trip)
{
	unsigned char in[64], back[64];
	char text[129];
	size_t i, n;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (i = 1; i <= sizeof(in); i++) {
		ck_assert_int_eq(hex_encode(in, i, text, sizeof(text)), 0);
		ck_assert_uint_eq(strlen(text), 2 * i);
		ck_assert_int_eq(hex_decode(text, back, sizeof(back), &n), 0);
		ck_assert_uint_eq(n, i);
		ck_assert_mem_eq(back, in, i);
	}
}
END_TEST

/* ---- decimal ------------------------------------------------------------------------------- */

static void
dec_is(const unsigned char *p, size_t len, const char *want)
{
	char out[200];

	ck_assert_int_eq(bytes_to_decimal(p, len, out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);
}

/* 2^159, 2^160 - 1 and 2^160: the edges of RFC 3161's 160-bit serial numbers. */
#define TWO_159		"730750818665451459101842416358141509827966271488"
#define TWO_160_M1	"1461501637330902918203684832716283019655932542975"
#define TWO_160		"1461501637330902918203684832716283019655932542976"

START_TEST(decimal_known_answers)
{
	unsigned char big[21];

	dec_is(B(0), 0, "0");
	dec_is(BYTES(0x00), "0");
	dec_is(BYTES(0x00, 0x00, 0x00), "0");
	dec_is(BYTES(0x01), "1");
	dec_is(BYTES(0xff), "255");
	dec_is(BYTES(0x01, 0x00), "256");
	dec_is(BYTES(0x00, 0x00, 0x30, 0x39), "12345");
	dec_is(BYTES(0x01, 0, 0, 0, 0, 0, 0, 0, 0), "18446744073709551616");	/* 2^64 */
	memset(big, 0, sizeof(big));
	big[0] = 0x80;
	dec_is(big, 20, TWO_159);
	memset(big, 0xff, 20);
	dec_is(big, 20, TWO_160_M1);
	memset(big, 0, sizeof(big));
	big[0] = 0x01;
	dec_is(big, 21, TWO_160);
	dec_is(BYTES(0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89,
	    0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67), "6495562832581790663061892574634853316331521383");
}
END_TEST

START_TEST(decimal_to_bytes_known_answers)
{
	unsigned char out[64], want[21];
	size_t n = 0;

	ck_assert_int_eq(decimal_to_bytes("0", out, 20, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_int_eq(decimal_to_bytes("000", out, 20, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_int_eq(decimal_to_bytes("255", out, 20, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(out[0], 0xff);
	ck_assert_int_eq(decimal_to_bytes("256", out, 20, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(out, B(0x01, 0x00), 2);
	ck_assert_int_eq(decimal_to_bytes("000123", out, 20, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(out[0], 123);

	memset(want, 0, sizeof(want));
	want[0] = 0x80;
	ck_assert_int_eq(decimal_to_bytes(TWO_159, out, 20, &n), 0);
	ck_assert_uint_eq(n, 20);
	ck_assert_mem_eq(out, want, 20);
	memset(want, 0xff, 20);
	ck_assert_int_eq(decimal_to_bytes(TWO_160_M1, out, 20, &n), 0);
	ck_assert_uint_eq(n, 20);
	ck_assert_mem_eq(out, want, 20);
	memset(want, 0, sizeof(want));
	want[0] = 0x01;
	ck_assert_int_eq(decimal_to_bytes(TWO_160, out, 21, &n), 0);
	ck_assert_uint_eq(n, 21);
	ck_assert_mem_eq(out, want, 21);
	ck_assert_int_eq(decimal_to_bytes(TWO_160, out, 64, &n), 0);
	ck_assert_uint_eq(n, 21);
}
END_TEST

START_TEST(decimal_refusals)
{
	unsigned char out[64];
	char text[8];
	size_t n = 99;

	ck_assert_int_eq(decimal_to_bytes("", out, 20, &n), -1);
	ck_assert_int_eq(decimal_to_bytes("12a", out, 20, &n), -1);
	ck_assert_int_eq(decimal_to_bytes("-1", out, 20, &n), -1);
	ck_assert_int_eq(decimal_to_bytes("+1", out, 20, &n), -1);
	ck_assert_int_eq(decimal_to_bytes(" 1", out, 20, &n), -1);
	ck_assert_int_eq(decimal_to_bytes("1 ", out, 20, &n), -1);
	ck_assert_int_eq(decimal_to_bytes("0x10", out, 20, &n), -1);
	/* Too big for max octets: 2^160 in 20, 256 in 1. */
	ck_assert_int_eq(decimal_to_bytes(TWO_160, out, 20, &n), -1);
	ck_assert_int_eq(decimal_to_bytes("256", out, 1, &n), -1);
	ck_assert_int_eq(decimal_to_bytes("1", out, 65, &n), -1);	/* max past its accumulator */
	ck_assert_uint_eq(n, 99);

	/* bytes_to_decimal: an output too small, an input past 64 octets. */
	ck_assert_int_eq(bytes_to_decimal(BYTES(0x30, 0x39), text, 5), -1);	/* "12345" */
	ck_assert_int_eq(bytes_to_decimal(BYTES(0x30, 0x39), text, 6), 0);
	ck_assert_str_eq(text, "12345");
	ck_assert_int_eq(bytes_to_decimal(out, 65, text, sizeof(text)), -1);
	ck_assert_int_eq(bytes_to_decimal(B(0), 0, text, 1), -1);		/* "0" needs 2 */
}
END_TEST

START_TEST(decimal_round_trips)
{
	unsigned char in[20], back[20];
	char text[64];
	unsigned seed = 12345;
	size_t i, len, n, start;

	/* 160-bit values of every length, and values with leading zero octets. */
	for (i = 0; i < 2000; i++) {
		size_t k;

		len = 1 + i % 20;
		for (k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			in[k] = (unsigned char)(seed >> 16);
		}
		if (i % 7 == 0)
			in[0] = 0;
		ck_assert_int_eq(bytes_to_decimal(in, len, text, sizeof(text)), 0);
		ck_assert_int_eq(decimal_to_bytes(text, back, sizeof(back), &n), 0);
		/* back is the minimal form: in without its leading zero octets (one for 0). */
		for (start = 0; start + 1 < len && in[start] == 0; start++)
			;
		ck_assert_uint_eq(n, len - start);
		ck_assert_mem_eq(back, in + start, n);
	}
}
END_TEST

/* ---- file_read ---------------------------------------------------------------------------- */

START_TEST(file_read_limits)
{
	unsigned char *p = NULL;
	const char *path;
	size_t n = 0;

	path = write_text("ten", "0123456789");
	ck_assert_int_eq(file_read(path, 10, &p, &n), 0);
	ck_assert_uint_eq(n, 10);
	ck_assert_mem_eq(p, "0123456789", 10);
	free(p);
	p = NULL;
	errno = 0;
	ck_assert_int_eq(file_read(path, 9, &p, &n), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_ptr_null(p);
	path = write_text("empty", "");
	ck_assert_int_eq(file_read(path, 10, &p, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(p);
	ck_assert_int_eq(file_read("/nonexistent/tsa/file", 10, &p, &n), -1);
}
END_TEST

/* ---- conf ---------------------------------------------------------------------------------- */

static const char *
conf_text(const char *text)
{
	return write_text("tsa.conf", text);
}

/* conf_load must refuse text with an error containing want. */
static void
conf_refused(const char *text, const char *want)
{
	struct tsa_conf c;
	char err[512];

	err[0] = '\0';
	ck_assert_msg(conf_load(conf_text(text), &c, err, sizeof(err)) == -1,
	    "accepted, expected: %s", want);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' does not say '%s'", err, want);
	/* Nothing is left allocated (conf_free is idempotent on the zeroed result). */
	ck_assert_ptr_null(c.database);
	conf_free(&c);
}

START_TEST(conf_all_keys)
{
	struct tsa_conf c;
	char err[512] = "";

	ck_assert_int_eq(conf_load(conf_text(
	    "# tsa.conf\n"
	    "\n"
	    "database = host=/run/pg dbname=tsa user=tsa   \n"
	    "   pkcs11_module=/usr/lib/softhsm/libsofthsm2.so\n"
	    "pkcs11_env = SOFTHSM2_CONF=/etc/softhsm2.conf # a comment\n"
	    "pkcs11_env = OTHER=a=b\n"
	    "pin_file = /etc/tsa/pin\n"
	    "pin_env = TSA_PIN\n"
	    "listen = unix:/run/tsa/fcgi.sock\n"
	    "workers = 8\n"
	    "max_body = 1024\n"
	    "max_requests = 100000\n"
	    "host = tsa-be1.example\n"
	    "heartbeat_interval = 2\n"), &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.database, "host=/run/pg dbname=tsa user=tsa");
	ck_assert_str_eq(c.pkcs11_module, "/usr/lib/softhsm/libsofthsm2.so");
	ck_assert_uint_eq(c.n_pkcs11_env, 2);
	ck_assert_str_eq(c.pkcs11_env[0], "SOFTHSM2_CONF=/etc/softhsm2.conf");
	ck_assert_str_eq(c.pkcs11_env[1], "OTHER=a=b");
	ck_assert_str_eq(c.pin_file, "/etc/tsa/pin");
	ck_assert_str_eq(c.pin_env, "TSA_PIN");
	ck_assert_str_eq(c.listen, "unix:/run/tsa/fcgi.sock");
	ck_assert_int_eq(c.workers, 8);
	ck_assert_uint_eq(c.max_body, 1024);
	ck_assert_int_eq(c.max_requests, 100000);
	ck_assert_str_eq(c.host, "tsa-be1.example");
	ck_assert_int_eq(c.heartbeat_interval, 2);

	/* conf_apply_env sets NAME=VALUE, the value holding '=' as it is. */
	unsetenv("OTHER");
	conf_apply_env(&c);
	ck_assert_str_eq(getenv("OTHER"), "a=b");
	ck_assert_str_eq(getenv("SOFTHSM2_CONF"), "/etc/softhsm2.conf");
	conf_free(&c);
	ck_assert_ptr_null(c.database);
	conf_free(&c);
	conf_free(NULL);
}
END_TEST

START_TEST(conf_defaults_and_limits)
{
	struct tsa_conf c;
	char err[512] = "";

	ck_assert_int_eq(conf_load(conf_text("database=dbname=tsa\n"), &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.workers, 0);		/* four per CPU, chosen by tsa-fcgi */
	ck_assert_uint_eq(c.max_body, TSA_MAX_BODY_DEFAULT);
	ck_assert_int_eq(c.max_requests, 0);
	ck_assert_ptr_null(c.pkcs11_module);
	ck_assert_ptr_null(c.pin_file);
	ck_assert_int_eq(c.heartbeat_interval, 5);
	{
		/* No host key: the system's host name (when it is a server name). */
		char name[256];

		if (gethostname(name, sizeof(name)) == 0 && conf_host_ok(name))
			ck_assert_str_eq(c.host, name);
	}
	ck_assert_int_eq(c.database_timeout, 5);
	ck_assert_int_eq(c.database_wait, 10);
	ck_assert_int_eq(c.batch_wait, 500);
	/* The worker outwaits the signer's own bound: database_wait + 2 x database_timeout. */
	ck_assert_int_eq(c.signer_timeout, 25000);
	conf_free(&c);
	ck_assert_int_eq(conf_load(conf_text("database=x\ndatabase_timeout = 2\n"
	    "database_wait = 0\nsigner_timeout = 4001\n"), &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.signer_timeout, 4001);
	conf_free(&c);
	/* The edges of every range, accepted; a later line wins; no newline at the end. */
	ck_assert_int_eq(conf_load(conf_text("database = a\ndatabase = b\nworkers = 0\n"
	    "workers = 256\nmax_body = 1048576\nmax_requests = 0\nmax_requests=1000000000"),
	    &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.database, "b");
	ck_assert_int_eq(c.workers, 256);
	ck_assert_uint_eq(c.max_body, TSA_MAX_BODY_CEILING);
	ck_assert_int_eq(c.max_requests, 1000000000L);
	conf_free(&c);
}
END_TEST

START_TEST(conf_refusals)
{
	conf_refused("database = x\nfoo = bar\n", "tsa.conf:2: unknown key 'foo'");
	conf_refused("database = x\ndatabase_timeout = 0\n", "database_timeout must be 1 to 300");
	conf_refused("database = x\ndatabase_wait = 601\n", "database_wait must be 0 to 600");
	conf_refused("database = x\nbatch_wait = 10001\n",
	    "batch_wait must be 0 to 10000 microseconds");
	conf_refused("database = x\nbatch_wait = -1\n",
	    "batch_wait must be 0 to 10000 microseconds");
	conf_refused("database = x\nsigner_timeout = 20000\n",
	    "signer_timeout (20000 ms) must exceed database_wait + 2 x database_timeout");
	conf_refused("database = x\nDatabase = y\n", "unknown key 'Database'");
	conf_refused("database = x\njust words\n", ":2: expected key = value");
	conf_refused("workers = 4\n", "'database' is required");
	conf_refused("# nothing\n", "'database' is required");
	conf_refused("database = x\nworkers = -1\n", "workers must be 0 (four per CPU) to 256");
	conf_refused("database = x\nworkers = 257\n", "workers must be 0 (four per CPU) to 256");
	conf_refused("database = x\nworkers = 4x\n", "workers must be 0 (four per CPU) to 256");
	conf_refused("database = x\nworkers =\n", "workers must be 0 (four per CPU) to 256");
	conf_refused("database = x\nworkers = 99999999999999999999\n", "workers must be");
	conf_refused("database = x\nmax_body = 1023\n", "max_body must be 1024 to 1048576");
	conf_refused("database = x\nmax_body = 1048577\n", "max_body must be 1024 to 1048576");
	conf_refused("database = x\nmax_requests = -1\n", "bad max_requests");
	conf_refused("database = x\nmax_requests = many\n", "bad max_requests");
	conf_refused("database = x\npkcs11_env = NOEQUALS\n", "pkcs11_env wants NAME=VALUE");
	conf_refused("database = x\nhost = be_1\n", ":2: host must be 1 to 63 letters");
	conf_refused("database = x\nhost =\n", ":2: host must be");
	conf_refused("database = x\nhost = -be1\n", ":2: host must be");
	conf_refused("database = x\nheartbeat_interval = 0\n", "heartbeat_interval must be 1 to");
	conf_refused("database = x\nheartbeat_interval = 3601\n", "heartbeat_interval must be");
	conf_refused("database = x\npkcs11_env = A=1\npkcs11_env = A=2\npkcs11_env = A=3\n"
	    "pkcs11_env = A=4\npkcs11_env = A=5\npkcs11_env = A=6\npkcs11_env = A=7\n"
	    "pkcs11_env = A=8\npkcs11_env = A=9\n", ":10: pkcs11_env wants NAME=VALUE (at most 8)");
}
END_TEST

/* fcgi_allow: blocks of both families, several lines adding up; membership by text and address. */
START_TEST(conf_fcgi_allow)
{
	struct sockaddr_in6 v6;
	struct sockaddr_in v4;
	struct tsa_conf c;
	char err[512] = "";

	ck_assert_int_eq(conf_load(conf_text("database = x\n"
	    "fcgi_allow = 10.231.0.11, 10.231.0.12\n"
	    "fcgi_allow = 192.0.2.0/24 2001:db8::/32\n"), &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n_fcgi_allow, 4);
	ck_assert_int_eq(cidr_match_text(c.fcgi_allow, c.n_fcgi_allow, "10.231.0.11"), 1);
	ck_assert_int_eq(cidr_match_text(c.fcgi_allow, c.n_fcgi_allow, "10.231.0.13"), 0);
	ck_assert_int_eq(cidr_match_text(c.fcgi_allow, c.n_fcgi_allow, "192.0.2.200"), 1);
	ck_assert_int_eq(cidr_match_text(c.fcgi_allow, c.n_fcgi_allow, "::ffff:10.231.0.12"), 1);
	ck_assert_int_eq(cidr_match_text(c.fcgi_allow, c.n_fcgi_allow, "2001:db8:1::5"), 1);
	ck_assert_int_eq(cidr_match_text(c.fcgi_allow, c.n_fcgi_allow, "2001:db9::5"), 0);
	ck_assert_int_eq(cidr_match_text(c.fcgi_allow, c.n_fcgi_allow, "not an address"), 0);
	ck_assert_int_eq(cidr_match_text(c.fcgi_allow, c.n_fcgi_allow, NULL), 0);
	memset(&v4, 0, sizeof(v4));
	v4.sin_family = AF_INET;
	inet_pton(AF_INET, "10.231.0.12", &v4.sin_addr);
	ck_assert_int_eq(cidr_match_sockaddr(c.fcgi_allow, c.n_fcgi_allow,
	    (struct sockaddr *)&v4), 1);
	inet_pton(AF_INET, "10.231.0.21", &v4.sin_addr);
	ck_assert_int_eq(cidr_match_sockaddr(c.fcgi_allow, c.n_fcgi_allow,
	    (struct sockaddr *)&v4), 0);
	memset(&v6, 0, sizeof(v6));
	v6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &v6.sin6_addr);
	ck_assert_int_eq(cidr_match_sockaddr(c.fcgi_allow, c.n_fcgi_allow,
	    (struct sockaddr *)&v6), 1);
	conf_free(&c);

	conf_refused("database = x\nfcgi_allow =\n", "fcgi_allow: name at least one");
	conf_refused("database = x\nfcgi_allow = , ,\n", "fcgi_allow: name at least one");
	conf_refused("database = x\nfcgi_allow = 10.0.0.1/33\n", "'10.0.0.1/33' is not");
	conf_refused("database = x\nfcgi_allow = 10.0.0.1/\n", "'10.0.0.1/' is not");
	conf_refused("database = x\nfcgi_allow = 10.0.0.1/+8\n", "'10.0.0.1/+8' is not");
	conf_refused("database = x\nfcgi_allow = ::1/129\n", "'::1/129' is not");
	conf_refused("database = x\nfcgi_allow = frontend.example\n", "tsa.conf:2)");
}
END_TEST

START_TEST(conf_long_line)
{
	char text[TSA_MAX_CONF_LINE + 64];
	struct tsa_conf c;
	char err[512];
	size_t n;

	/* A line that fills the buffer (4095 characters and its newline): refused. */
	n = (size_t)snprintf(text, sizeof(text), "database = ");
	memset(text + n, 'x', TSA_MAX_CONF_LINE - 1 - n);
	n = TSA_MAX_CONF_LINE - 1;
	text[n++] = '\n';
	text[n] = '\0';
	conf_refused(text, "tsa.conf:1: line too long");
	/* One character shorter fits. */
	text[n - 2] = '\n';
	text[n - 1] = '\0';
	err[0] = '\0';
	ck_assert_int_eq(conf_load(conf_text(text), &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(c.database), TSA_MAX_CONF_LINE - 2 - strlen("database = "));
	conf_free(&c);
}
END_TEST

START_TEST(conf_missing_file)
{
	struct tsa_conf c;
	char err[512] = "";

	ck_assert_int_eq(conf_load("/nonexistent/tsa.conf", &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/tsa.conf"));
}
END_TEST

START_TEST(conf_path_order)
{
	unsetenv("TSA_CONF");
	ck_assert_str_eq(conf_path(NULL), "/etc/tsa/tsa.conf");
	setenv("TSA_CONF", "", 1);
	ck_assert_str_eq(conf_path(NULL), "/etc/tsa/tsa.conf");
	setenv("TSA_CONF", "/srv/tsa.conf", 1);
	ck_assert_str_eq(conf_path(NULL), "/srv/tsa.conf");
	ck_assert_str_eq(conf_path("given.conf"), "given.conf");
	unsetenv("TSA_CONF");
}
END_TEST

START_TEST(pin_from_file)
{
	struct tsa_conf c;
	char pin[64], err[256];

	memset(&c, 0, sizeof(c));
	c.pin_file = (char *)(uintptr_t)write_pin("1234abcd\n");
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), 0);
	ck_assert_str_eq(pin, "1234abcd");
	c.pin_file = (char *)(uintptr_t)write_pin("1234\r\n");
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), 0);
	ck_assert_str_eq(pin, "1234");
	c.pin_file = (char *)(uintptr_t)write_pin("no-newline");
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), 0);
	ck_assert_str_eq(pin, "no-newline");
	/* A PIN that just fits (buflen - 1 characters). */
	c.pin_file = (char *)(uintptr_t)write_pin("1234567");
	ck_assert_int_eq(conf_read_pin(&c, pin, 8, err, sizeof(err)), 0);
	ck_assert_str_eq(pin, "1234567");

	c.pin_file = (char *)(uintptr_t)write_pin("\n");
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "empty PIN"));
	c.pin_file = (char *)(uintptr_t)write_pin("");
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	c.pin_file = (char *)(uintptr_t)"/nonexistent/pin";
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/pin"));
	c.pin_file = NULL;
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "neither pin_file nor pin_env"));
}
END_TEST

START_TEST(pin_from_env)
{
	struct tsa_conf c;
	char pin[8], err[256];

	memset(&c, 0, sizeof(c));
	c.pin_env = (char *)(uintptr_t)"TSA_TEST_PIN";
	c.pin_file = (char *)(uintptr_t)write_pin("from-file\n");
	setenv("TSA_TEST_PIN", "4321", 1);
	/* The variable wins over the file. */
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), 0);
	ck_assert_str_eq(pin, "4321");
	setenv("TSA_TEST_PIN", "12345678", 1);	/* 8 characters: no room for the NUL */
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "TSA_TEST_PIN"));
	unsetenv("TSA_TEST_PIN");
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
}
END_TEST

/*
 * conf_read_pin refuses a pin_file longer than the buffer, as it refuses such a pin_env: a cut
 * PIN offered to the token would be a wrong login, one step towards its lockout.
 */
START_TEST(pin_file_too_long_is_refused)
{
	struct tsa_conf c;
	char pin[8], err[256];

	memset(&c, 0, sizeof(c));
	c.pin_file = (char *)(uintptr_t)write_pin("123456789012\n");
	err[0] = '\0';
	ck_assert_msg(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)) == -1,
	    "a 12-character PIN read into 8 bytes was accepted as '%s'", pin);
}
END_TEST

/*
 * pin_file is read only from a regular file that group and others cannot use, never through a
 * symbolic link (O_NOFOLLOW), each refusal saying why.
 */
START_TEST(pin_file_mode_and_type)
{
	struct tsa_conf c;
	char pin[64], err[256], link[600], path[512];

	memset(&c, 0, sizeof(c));
	snprintf(path, sizeof(path), "%s", write_pin("1234\n"));
	c.pin_file = path;
	ck_assert_msg(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)) == 0, "0600: %s", err);
	ck_assert_str_eq(pin, "1234");
	ck_assert_int_eq(chmod(path, 0400), 0);
	ck_assert_msg(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)) == 0, "0400: %s", err);

	ck_assert_int_eq(chmod(path, 0644), 0);
	memset(pin, 'x', sizeof(pin));
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "mode 0644") != NULL && strstr(err, "chmod 600") != NULL,
	    "0644 refused without its reason: %s", err);
	ck_assert_msg(pin[0] == '\0', "a refused PIN file left bytes in the buffer");
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	ck_assert_int_eq(chmod(path, 0600), 0);

	/* A symbolic link to a good PIN file. */
	snprintf(link, sizeof(link), "%s/pin-link", tmpdir);
	ck_assert_int_eq(symlink(path, link), 0);
	c.pin_file = link;
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "symbolic link") != NULL, "symlink refused without its reason: %s",
	    err);

	/* Not a regular file: a directory (mode 0700), a FIFO (0600: the open must not block). */
	snprintf(link, sizeof(link), "%s/pin-dir", tmpdir);
	ck_assert_int_eq(mkdir(link, 0700), 0);
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a regular file") != NULL, "directory: %s", err);
	snprintf(link, sizeof(link), "%s/pin-fifo", tmpdir);
	ck_assert_int_eq(mkfifo(link, 0600), 0);
	ck_assert_int_eq(conf_read_pin(&c, pin, sizeof(pin), err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a regular file") != NULL, "FIFO: %s", err);
}
END_TEST

/* conf_protect_process: no core file and not dumpable (checked in a child of its own). */
START_TEST(protect_process_no_dumps)
{
	struct rlimit rl;
	char err[256];

	ck_assert_msg(conf_protect_process(err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(getrlimit(RLIMIT_CORE, &rl), 0);
	ck_assert_uint_eq(rl.rlim_cur, 0);
	ck_assert_uint_eq(rl.rlim_max, 0);
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}
END_TEST

/* ---- hashalg ---------------------------------------------------------------------------- */

START_TEST(hash_table_consistent)
{
	static const struct {
		const char	*name, *oid;
		size_t		 len;
	} known[] = {
		{ "sha1", "1.3.14.3.2.26", 20 },
		{ "sha224", "2.16.840.1.101.3.4.2.4", 28 },
		{ "sha256", "2.16.840.1.101.3.4.2.1", 32 },
		{ "sha384", "2.16.840.1.101.3.4.2.2", 48 },
		{ "sha512", "2.16.840.1.101.3.4.2.3", 64 },
		{ "sha3-256", "2.16.840.1.101.3.4.2.8", 32 },
		{ "sha3-384", "2.16.840.1.101.3.4.2.9", 48 },
		{ "sha3-512", "2.16.840.1.101.3.4.2.10", 64 },
	};
	const struct hash_alg *t;
	size_t n, i, j;

	t = hash_table(&n);
	ck_assert_uint_eq(n, sizeof(known) / sizeof(known[0]));
	/* The filters keep one bit per entry in an unsigned. */
	ck_assert_uint_le(n, sizeof(unsigned) * 8);
	for (i = 0; i < n; i++) {
		const char *goid;

		ck_assert_str_eq(t[i].name, known[i].name);
		ck_assert_str_eq(t[i].oid, known[i].oid);
		ck_assert_uint_eq(t[i].len, known[i].len);
		ck_assert_uint_le(t[i].len, TSA_MAX_IMPRINT);
		ck_assert_ptr_eq(hash_by_name(t[i].name), &t[i]);
		ck_assert_ptr_eq(hash_by_oid(t[i].oid), &t[i]);
		ck_assert_ptr_eq(hash_by_gnutls(t[i].gnutls), &t[i]);
		/* GnuTLS agrees on the length and the OID. */
		ck_assert_uint_eq(gnutls_hash_get_len(t[i].gnutls), t[i].len);
		goid = gnutls_digest_get_oid(t[i].gnutls);
		ck_assert_ptr_nonnull(goid);
		ck_assert_str_eq(goid, t[i].oid);
		/* XML-DSig names SHA-1 and SHA-2, not SHA-3. */
		if (strncmp(t[i].name, "sha3-", 5) == 0)
			ck_assert_ptr_null(t[i].xmldsig_uri);
		else
			ck_assert_ptr_nonnull(t[i].xmldsig_uri);
		for (j = 0; j < i; j++) {
			ck_assert_str_ne(t[i].name, t[j].name);
			ck_assert_str_ne(t[i].oid, t[j].oid);
			ck_assert_int_ne(t[i].gnutls, t[j].gnutls);
		}
	}
	ck_assert_str_eq(hash_by_name("sha256")->xmldsig_uri,
	    "http://www.w3.org/2001/04/xmlenc#sha256");
	ck_assert_str_eq(hash_by_name("sha1")->xmldsig_uri, "http://www.w3.org/2000/09/xmldsig#sha1");
}
END_TEST

START_TEST(hash_unknown)
{
	ck_assert_ptr_null(hash_by_name("md5"));
	ck_assert_ptr_null(hash_by_name(""));
	ck_assert_ptr_null(hash_by_name("SHA256"));		/* names are lower case */
	ck_assert_ptr_null(hash_by_name("sha-256"));
	ck_assert_ptr_null(hash_by_oid("1.2.840.113549.2.5"));	/* md5 */
	ck_assert_ptr_null(hash_by_oid("2.16.840.1.101.3.4.2"));	/* a prefix */
	ck_assert_ptr_null(hash_by_oid("2.16.840.1.101.3.4.2.1.0"));
	ck_assert_ptr_null(hash_by_oid(""));
	ck_assert_ptr_null(hash_by_gnutls(GNUTLS_DIG_MD5));
	ck_assert_ptr_null(hash_by_gnutls(GNUTLS_DIG_UNKNOWN));
}
END_TEST

/* ---- text.c --------------------------------------------------------------------------------- */

static const char *
clean(const char *src, size_t dstlen)
{
	static char out[512];

	ck_assert_uint_le(dstlen, sizeof(out));
	ck_assert_uint_eq(text_clean(out, dstlen, src), strlen(out));
	return out;
}

static const char *
quote(const char *src, size_t dstlen, size_t maxchars)
{
	static char out[512];

	ck_assert_uint_le(dstlen, sizeof(out));
	ck_assert_uint_eq(text_quote(out, dstlen, src, maxchars), strlen(out));
	return out;
}

/* Nothing that ends, hides or reorders a line gets through; printable UTF-8 does. */
START_TEST(text_clean_escapes)
{
	static const struct { const char *in, *out; } kat[] = {
		{ "plain text: 1/2 = 0.5", "plain text: 1/2 = 0.5" },
		{ "a\nb\rc\td", "a\\nb\\rc\\td" },
		{ "\x01\x1b[31m\x7f", "\\x01\\x1b[31m\\x7f" },
		{ "back\\slash \"q\"", "back\\slash \"q\"" },
		/* é, €, U+1F600: kept */
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		/* NEL (C1), LS, PS, RLO, RLI, LRM, ALM */
		{ "\xc2\x85|\xe2\x80\xa8|\xe2\x80\xa9|\xe2\x80\xae|\xe2\x81\xa7|\xe2\x80\x8e|\xd8\x9c",
		  "\\u0085|\\u2028|\\u2029|\\u202e|\\u2067|\\u200e|\\u061c" },
		/* Not UTF-8: a lone continuation, an overlong '/', a surrogate, past U+10FFFF,
		 * a truncated sequence at the end. */
		{ "\x80", "\\x80" },
		{ "\xc0\xaf", "\\xc0\\xaf" },
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },
		{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },
		{ "ok\xe2\x82", "ok\\xe2\\x82" },
	};
	size_t i;

	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++)
		ck_assert_str_eq(clean(kat[i].in, 512), kat[i].out);
	/* The forged log line of the review (issue 17, item 2): one line, visibly. */
	ck_assert_str_eq(clean("xsd: 'http://x\n2026-01-01T00:00:00.000Z tsa-worker[1] info: "
	    "granted\r'", 512), "xsd: 'http://x\\n2026-01-01T00:00:00.000Z tsa-worker[1] info: "
	    "granted\\r'");
}
END_TEST

/* Cut at a character, never inside an escape or a UTF-8 sequence, and said with "...";
 * cleaning clean text is the identity. */
START_TEST(text_clean_cuts)
{
	char once[64], twice[64];

	ck_assert_str_eq(clean("0123456789", 11), "0123456789");
	ck_assert_str_eq(clean("0123456789", 10), "012345...");
	ck_assert_str_eq(clean("ab\ncdefgh", 8), "ab\\n...");
	ck_assert_str_eq(clean("ab\ncdefgh", 7), "ab...");
	ck_assert_str_eq(clean("a\xe2\x82\xac\xe2\x82\xac" "bcdef", 9), "a\xe2\x82\xac...");
	ck_assert_str_eq(clean("", 4), "");
	ck_assert_uint_eq(text_clean(once, 3, "abc"), 0);
	ck_assert_str_eq(once, "");
	text_clean(once, sizeof(once), "x\n\x01\xc2\x85\xff\"\\y");
	text_clean(twice, sizeof(twice), once);
	ck_assert_str_eq(once, twice);
}
END_TEST

START_TEST(text_quote_peer)
{
	ck_assert_str_eq(quote("http://x", 64, 32), "\"http://x\"");
	ck_assert_str_eq(quote("a\"b\\c\nd", 64, 32), "\"a\\\"b\\\\c\\nd\"");
	ck_assert_str_eq(quote(NULL, 64, 32), "(none)");
	ck_assert_str_eq(quote("", 64, 32), "\"\"");
	/* maxchars counts characters (an escape is one). */
	ck_assert_str_eq(quote("abcdef", 64, 4), "\"abcd\"...");
	ck_assert_str_eq(quote("\n\n\n\n\n", 64, 4), "\"\\n\\n\\n\\n\"...");
	ck_assert_str_eq(quote("abcd", 64, 4), "\"abcd\"");
	/* dst too short: cut there. */
	ck_assert_str_eq(quote("abcdef", 8, 32), "\"ab\"...");
	ck_assert_str_eq(quote("abcd", 8, 32), "\"abcd\"");
	ck_assert_str_eq(quote("abcde", 8, 32), "\"abcde\"");
	ck_assert_uint_eq(text_quote((char[8]){ 0 }, 7, "abc", 32), 0);
}
END_TEST

static Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("bytes");

	tcase_add_unchecked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, hex_known_answers);
	tcase_add_test(tc, hex_refusals);
	tcase_add_test(tc, hex_round_trip);
	tcase_add_test(tc, decimal_known_answers);
	tcase_add_test(tc, decimal_to_bytes_known_answers);
	tcase_add_test(tc, decimal_refusals);
	tcase_add_test(tc, decimal_round_trips);
	tcase_add_test(tc, file_read_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("conf");
	tcase_add_unchecked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, conf_all_keys);
	tcase_add_test(tc, conf_defaults_and_limits);
	tcase_add_test(tc, conf_refusals);
	tcase_add_test(tc, conf_long_line);
	tcase_add_test(tc, conf_fcgi_allow);
	tcase_add_test(tc, conf_missing_file);
	tcase_add_test(tc, conf_path_order);
	tcase_add_test(tc, pin_from_file);
	tcase_add_test(tc, pin_from_env);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, text_clean_escapes);
	tcase_add_test(tc, text_clean_cuts);
	tcase_add_test(tc, text_quote_peer);
	suite_add_tcase(s, tc);

	tc = tcase_create("hashalg");
	tcase_add_test(tc, hash_table_consistent);
	tcase_add_test(tc, hash_unknown);
	suite_add_tcase(s, tc);

	/* Bugs found by these tests, fixed: kept as regressions. */
	tc = tcase_create("regressions");
	tcase_add_unchecked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, pin_file_too_long_is_refused);
	tcase_add_test(tc, pin_file_mode_and_type);
	tcase_add_test(tc, protect_process_no_dumps);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(util_suite());
}
