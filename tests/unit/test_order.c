/*
 * test_order.c - unit tests of the order protocol (src/sign/order.c, include/order.h): orders
 * and answers encode and decode to the same fields; every field past its bound, every bad
 * boolean, enum and OID, a trailing byte and every truncation are refused with a reason; frames
 * over a socket pair: one frame, a clean end, a length out of bounds, a frame cut short, a
 * stalled peer timed out.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "order.h"
#include "testlib.h"

static void
full_order(struct order *o)
{
	static const unsigned char sig[] = { 1, 2, 3, 4, 5 };
	static const unsigned char body[] = "a request body";

	memset(o, 0, sizeof(*o));
	o->type = ORDER_SIGN;
	o->config_version = 42;
	o->service_id = 3;
	o->policy_id = 7;
	o->req.protocol = TSA_PROTO_SOAP;
	strcpy(o->req.hash_oid, "2.16.840.1.101.3.4.2.1");
	o->req.hash_null_params = 1;
	memset(o->req.imprint, 0xab, 32);
	o->req.imprint_len = 32;
	o->req.has_nonce = 1;
	o->req.nonce[0] = 0x01;
	o->req.nonce_len = 1;
	o->req.has_req_policy = 1;
	strcpy(o->req.req_policy, "1.3.6.1.4.1.32473.1.1");
	o->req.cert_req = 1;
	o->req.n_ext = 1;
	strcpy(o->req.ext[0].oid, "1.2.3.4");
	o->req.ext[0].critical = 1;
	strcpy(o->req.echo.digest_method, "http://www.w3.org/2001/04/xmlenc#sha256");
	strcpy(o->req.echo.digest_value, "q6ur");
	o->req.echo.has_nonce = 1;
	strcpy(o->req.echo.nonce, "1");
	o->req.signature = (unsigned char *)(uintptr_t)sig;
	o->req.signature_len = sizeof(sig);
	strcpy(o->requester, "192.0.2.1");
	strcpy(o->client_identity, "CN=client");
	o->request = body;
	o->request_len = sizeof(body) - 1;
}

/* Encodes o, decodes it again, and checks the fields that matter came back. */
static void
round_trip(const struct order *o)
{
	struct order d;
	unsigned char *b = NULL;
	const char *why = NULL;
	size_t n;

	ck_assert_int_eq(order_encode(o, &b, &n), 0);
	ck_assert_msg(order_decode(b, n, &d, &why) == 0, "decode: %s", why);
	ck_assert_int_eq(d.type, o->type);
	if (o->type == ORDER_STATUS) {
		ck_assert_int_eq(d.test_sign, o->test_sign);
		free(b);
		return;
	}
	ck_assert_int_eq(d.config_version, o->config_version);
	ck_assert_int_eq(d.service_id, o->service_id);
	ck_assert_int_eq(d.policy_id, o->policy_id);
	ck_assert_int_eq(d.req.protocol, o->req.protocol);
	ck_assert_str_eq(d.req.hash_oid, o->req.hash_oid);
	ck_assert_ptr_eq(d.req.hash, hash_by_oid(o->req.hash_oid));
	ck_assert_uint_eq(d.req.imprint_len, o->req.imprint_len);
	ck_assert_mem_eq(d.req.imprint, o->req.imprint, o->req.imprint_len);
	ck_assert_int_eq(d.req.has_nonce, o->req.has_nonce);
	ck_assert_uint_eq(d.req.nonce_len, o->req.nonce_len);
	ck_assert_str_eq(d.req.req_policy, o->req.req_policy);
	ck_assert_uint_eq(d.req.n_ext, o->req.n_ext);
	ck_assert_str_eq(d.req.echo.digest_value, o->req.echo.digest_value);
	ck_assert_uint_eq(d.req.signature_len, o->req.signature_len);
	ck_assert_str_eq(d.requester, o->requester);
	ck_assert_str_eq(d.client_identity, o->client_identity);
	ck_assert_uint_eq(d.request_len, o->request_len);
	/* Pointers into the frame itself. */
	if (d.request_len > 0)
		ck_assert(d.request >= b && d.request + d.request_len <= b + n);
	free(b);
}

START_TEST(orders_round_trip)
{
	struct order o;

	full_order(&o);
	round_trip(&o);
	/* The least an RFC 3161 order carries. */
	memset(&o, 0, sizeof(o));
	o.type = ORDER_SIGN;
	o.req.protocol = TSA_PROTO_RFC3161;
	strcpy(o.req.hash_oid, "2.16.840.1.101.3.4.2.1");
	o.req.imprint_len = 32;
	round_trip(&o);
	/* An unknown algorithm decodes (the policy refuses it as badAlg). */
	strcpy(o.req.hash_oid, "1.2.3.4.5");
	round_trip(&o);
	memset(&o, 0, sizeof(o));
	o.type = ORDER_STATUS;
	o.test_sign = 1;
	round_trip(&o);
}
END_TEST

/* Each field one past its bound: the encoder refuses it. */
START_TEST(encoder_bounds)
{
	struct order o;
	unsigned char *b = NULL;
	size_t n;

	full_order(&o);
	o.req.imprint_len = TSA_MAX_IMPRINT + 1;
	ck_assert_int_eq(order_encode(&o, &b, &n), -1);
	full_order(&o);
	o.req.nonce_len = TSA_MAX_NONCE + 1;
	ck_assert_int_eq(order_encode(&o, &b, &n), -1);
	full_order(&o);
	o.req.n_ext = TSA_MAX_EXTENSIONS + 1;
	ck_assert_int_eq(order_encode(&o, &b, &n), -1);
	full_order(&o);
	o.req.signature_len = TSA_MAX_AUTHENTICODE_SIG + 1;
	ck_assert_int_eq(order_encode(&o, &b, &n), -1);
	full_order(&o);
	o.request_len = TSA_MAX_BODY_CEILING + 1;
	ck_assert_int_eq(order_encode(&o, &b, &n), -1);
	full_order(&o);
	strcpy(o.req.hash_oid, "not.an.oid");
	ck_assert_int_eq(order_encode(&o, &b, &n), -1);
}
END_TEST

/* Every prefix of a valid order, and the order with a byte more, are refused with a reason;
 * so are a wrong version, type, protocol and boolean. */
START_TEST(decoder_refusals)
{
	struct order o, d;
	unsigned char *b = NULL, *c;
	const char *why;
	size_t n, i;

	full_order(&o);
	ck_assert_int_eq(order_encode(&o, &b, &n), 0);
	for (i = 0; i < n; i++) {
		why = NULL;
		ck_assert_msg(order_decode(b, i, &d, &why) == -1, "a prefix of %zu bytes decoded", i);
		ck_assert_ptr_nonnull(why);
	}
	c = malloc(n + 1);
	memcpy(c, b, n);
	c[n] = 0;
	ck_assert_int_eq(order_decode(c, n + 1, &d, &why), -1);
	memcpy(c, b, n);
	c[0] = 2;		/* version */
	ck_assert_int_eq(order_decode(c, n, &d, &why), -1);
	memcpy(c, b, n);
	c[1] = 9;		/* type */
	ck_assert_int_eq(order_decode(c, n, &d, &why), -1);
	memcpy(c, b, n);
	c[2 + 24] = 7;		/* protocol, after version, type and three i64 */
	ck_assert_int_eq(order_decode(c, n, &d, &why), -1);
	memcpy(c, b, n);
	c[2 + 24 + 1 + 2 + strlen(o.req.hash_oid)] = 2;	/* hash_null_params */
	ck_assert_int_eq(order_decode(c, n, &d, &why), -1);
	free(c);
	free(b);
}
END_TEST

START_TEST(answers_round_trip)
{
	static struct signer_answer a, d;
	static const unsigned char tok[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	unsigned char *b = NULL;
	const char *why = NULL;
	size_t n, i;

	memset(&a, 0, sizeof(a));
	a.type = ANSWER_GRANTED;
	strcpy(a.signer, "unit-1");
	a.token = tok;
	a.token_len = sizeof(tok);
	ck_assert_int_eq(answer_encode(&a, &b, &n), 0);
	ck_assert_msg(answer_decode(b, n, &d, &why) == 0, "%s", why);
	ck_assert_int_eq(d.type, ANSWER_GRANTED);
	ck_assert_str_eq(d.signer, "unit-1");
	ck_assert_uint_eq(d.token_len, sizeof(tok));
	ck_assert_mem_eq(d.token, tok, sizeof(tok));
	for (i = 0; i < n; i++)
		ck_assert_int_eq(answer_decode(b, i, &d, &why), -1);
	free(b);

	memset(&a, 0, sizeof(a));
	a.type = ANSWER_REFUSED;
	a.fail = TSA_FAIL_TIME_NOT_AVAILABLE;
	a.sign_failed = 1;
	strcpy(a.text, "time not available");
	strcpy(a.detail, "clock unsynchronised");
	ck_assert_int_eq(answer_encode(&a, &b, &n), 0);
	ck_assert_msg(answer_decode(b, n, &d, &why) == 0, "%s", why);
	ck_assert_int_eq(d.fail, TSA_FAIL_TIME_NOT_AVAILABLE);
	ck_assert_int_eq(d.sign_failed, 1);
	ck_assert_str_eq(d.detail, "clock unsynchronised");
	free(b);

	memset(&a, 0, sizeof(a));
	a.type = ANSWER_STATUS;
	a.n_units = 2;
	a.units[0].id = 1;
	strcpy(a.units[0].name, "u1");
	a.units[0].state = UNIT_USABLE;
	a.units[1].id = 2;
	strcpy(a.units[1].name, "u2");
	a.units[1].state = UNIT_RETRYING;
	strcpy(a.units[1].reason, "cannot open key");
	ck_assert_int_eq(answer_encode(&a, &b, &n), 0);
	ck_assert_msg(answer_decode(b, n, &d, &why) == 0, "%s", why);
	ck_assert_uint_eq(d.n_units, 2);
	ck_assert_int_eq(d.units[1].state, UNIT_RETRYING);
	ck_assert_str_eq(d.units[1].reason, "cannot open key");
	free(b);
	/* A fail value that is no failInfo, a unit state out of range: refused. */
	a.units[1].state = (enum unit_state)9;
	ck_assert_int_eq(answer_encode(&a, &b, &n), -1);
}
END_TEST

/* The token log's tree-head order and answer (ORDER_TREE_HEAD, ANSWER_TREE_HEAD). */
START_TEST(tree_heads)
{
	static struct signer_answer a, d;
	static const unsigned char sig[] = { 0x30, 0x44, 0x02, 0x20, 0x11 };
	struct order o, od;
	unsigned char *b = NULL;
	const char *why = NULL;
	size_t n, i;

	memset(&o, 0, sizeof(o));
	o.type = ORDER_TREE_HEAD;
	o.tree_size = 1234567;
	memset(o.root, 0xab, sizeof(o.root));
	ck_assert_int_eq(order_encode(&o, &b, &n), 0);
	ck_assert_uint_eq(n, 2 + 8 + ORDER_ROOT_LEN);
	ck_assert_msg(order_decode(b, n, &od, &why) == 0, "%s", why);
	ck_assert_int_eq(od.type, ORDER_TREE_HEAD);
	ck_assert(od.tree_size == 1234567);
	ck_assert_mem_eq(od.root, o.root, ORDER_ROOT_LEN);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(order_decode(b, i, &od, &why), -1);
	b[2] = 0x80;		/* a size past 2^63 - 1 */
	ck_assert_int_eq(order_decode(b, n, &od, &why), -1);
	free(b);

	memset(&a, 0, sizeof(a));
	a.type = ANSWER_TREE_HEAD;
	a.timestamp = 1796588719345ULL;
	strcpy(a.key_id, "a83cff13");
	a.signature = sig;
	a.signature_len = sizeof(sig);
	ck_assert_int_eq(answer_encode(&a, &b, &n), 0);
	ck_assert_msg(answer_decode(b, n, &d, &why) == 0, "%s", why);
	ck_assert_int_eq(d.type, ANSWER_TREE_HEAD);
	ck_assert(d.timestamp == a.timestamp);
	ck_assert_str_eq(d.key_id, "a83cff13");
	ck_assert_uint_eq(d.signature_len, sizeof(sig));
	ck_assert_mem_eq(d.signature, sig, sizeof(sig));
	for (i = 0; i < n; i++)
		ck_assert_int_eq(answer_decode(b, i, &d, &why), -1);
	free(b);
	/* No signature, or one past its bound: the encoder refuses. */
	a.signature_len = 0;
	ck_assert_int_eq(answer_encode(&a, &b, &n), -1);
	a.signature_len = ORDER_MAX_SIGNATURE + 1;
	ck_assert_int_eq(answer_encode(&a, &b, &n), -1);
}
END_TEST

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

START_TEST(frames)
{
	static const unsigned char body[] = "an order";
	unsigned char *got = NULL, cut[] = { 0, 0, 0, 100, 1, 2, 3 };
	unsigned char big[] = { 0x7f, 0xff, 0xff, 0xff }, zero[] = { 0, 0, 0, 0 };
	struct timespec t0;
	size_t n;
	int sv[2];

	/* One frame, then the peer's clean end. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(frame_write(sv[0], body, sizeof(body), 1000), 0);
	ck_assert_int_eq(frame_read(sv[1], &got, &n, 1024, 1000, 1000), 0);
	ck_assert_uint_eq(n, sizeof(body));
	ck_assert_mem_eq(got, body, n);
	free(got);
	close(sv[0]);
	ck_assert_int_eq(frame_read(sv[1], &got, &n, 1024, 1000, 1000), 1);
	close(sv[1]);

	/* Lengths out of bounds: 0, and more than the reader's max. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], zero, sizeof(zero)), (ssize_t)sizeof(zero));
	errno = 0;
	ck_assert_int_eq(frame_read(sv[1], &got, &n, 1024, 1000, 1000), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(write(sv[0], big, sizeof(big)), (ssize_t)sizeof(big));
	errno = 0;
	ck_assert_int_eq(frame_read(sv[1], &got, &n, 1024, 1000, 1000), -1);
	ck_assert_int_eq(errno, EPROTO);
	close(sv[0]);
	close(sv[1]);

	/* A frame cut short by the peer's end. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], cut, sizeof(cut)), (ssize_t)sizeof(cut));
	close(sv[0]);
	errno = 0;
	ck_assert_int_eq(frame_read(sv[1], &got, &n, 1024, 1000, 1000), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	close(sv[1]);

	/* A peer that stalls inside a frame: timed out within its bound, not after. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], cut, sizeof(cut)), (ssize_t)sizeof(cut));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	errno = 0;
	ck_assert_int_eq(frame_read(sv[1], &got, &n, 1024, 1000, 200), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_lt(ms_since(&t0), 2000);
	/* And one that sends nothing: the idle bound. */
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	errno = 0;
	ck_assert_int_eq(frame_read(sv[1], &got, &n, 1024, 100, 1000), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *
order_suite(void)
{
	Suite *s = suite_create("order");

	tl_tcase(s, "codec", 0, orders_round_trip, encoder_bounds, decoder_refusals,
	    answers_round_trip, tree_heads, NULL);
	tl_tcase(s, "frames", 10, frames, NULL);
	return s;
}

int
main(void)
{
	return tl_run(order_suite());
}
