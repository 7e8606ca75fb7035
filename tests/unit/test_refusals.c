/*
 * test_refusals.c - unit tests of src/fcgi/refusals.c, the aggregation of repeated refusals:
 * the first of a key emitted at once, its repeats as one count per interval, every refusal
 * counted exactly once (through a full table, the requester-less keys and the flush at exit),
 * and keys that differ only in the peer's text never told apart.  Time is passed in.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refusals.h"

#include "testlib.h"

struct emitted {
	int	 rows;
	long	 total;
	long	 last_count;
	char	 last_detail[256];
	char	 last_requester[48];
};

static void
record(void *arg, const struct refusal *r, const char *text, const char *detail, long count)
{
	struct emitted *e = arg;

	(void)text;
	e->rows++;
	e->total += count;
	e->last_count = count;
	snprintf(e->last_detail, sizeof(e->last_detail), "%s", detail);
	snprintf(e->last_requester, sizeof(e->last_requester), "%s", r->requester);
}

static struct refusal
key(const char *requester, const char *failure)
{
	struct refusal r;

	memset(&r, 0, sizeof(r));
	r.kind = "request-refused";
	r.severity = "warning";
	r.fail = 2;
	snprintf(r.failure, sizeof(r.failure), "%s", failure);
	snprintf(r.service, sizeof(r.service), "tsa");
	snprintf(r.requester, sizeof(r.requester), "%s", requester);
	return r;
}

static struct timespec
at_ms(long ms)
{
	struct timespec t = { 1000 + ms / 1000, (ms % 1000) * 1000000L };

	return t;
}

/* 500 identical refusals in 300 ms: one row at once, one with 499 when the second is up. */
START_TEST(repeats_aggregated)
{
	static struct refusal_table t;
	struct emitted e = { 0 };
	struct refusal r = key("192.0.2.1", "soap badRequest");
	struct timespec now;
	char detail[64];
	int i;

	refusals_init(&t, record, &e);
	for (i = 0; i < 500; i++) {
		now = at_ms(i * 300 / 500);
		/* The peer's text differs every time: not part of the key. */
		snprintf(detail, sizeof(detail), "xsd: value %d", i);
		refusals_note(&t, &r, "request does not follow the schema", detail, &now);
		ck_assert_int_le(refusals_tick(&t, &now), 1000);
	}
	ck_assert_int_eq(e.rows, 1);
	ck_assert_int_eq(e.last_count, 1);
	ck_assert_str_eq(e.last_detail, "xsd: value 0");
	now = at_ms(999);
	ck_assert_int_eq(refusals_tick(&t, &now), 1);
	ck_assert_int_eq(e.rows, 1);
	now = at_ms(1000);
	ck_assert_int_eq(refusals_tick(&t, &now), -1);
	ck_assert_int_eq(e.rows, 2);
	ck_assert_int_eq(e.last_count, 499);
	ck_assert_str_eq(e.last_detail, "xsd: value 1");	/* the first of the row's */
	ck_assert_int_eq(e.total, 500);
	/* Quiet for a second: forgotten, so the next one is written at once again. */
	now = at_ms(2000);
	ck_assert_int_eq(refusals_tick(&t, &now), -1);
	ck_assert_int_eq(t.n, 0);
	refusals_note(&t, &r, "x", "again", &now);
	ck_assert_int_eq(e.rows, 3);
	ck_assert_int_eq(e.total, 501);
}
END_TEST

/* Pending counts are emitted by the flush (the worker's exit) and nothing twice. */
START_TEST(flush_at_exit)
{
	static struct refusal_table t;
	struct emitted e = { 0 };
	struct refusal a = key("192.0.2.1", "rfc3161 badAlg"), b = key("192.0.2.1", "rfc3161 badRequest");
	struct timespec now = at_ms(0);
	int i;

	refusals_init(&t, record, &e);
	for (i = 0; i < 10; i++) {
		refusals_note(&t, &a, "x", "", &now);
		refusals_note(&t, &b, "x", "", &now);
	}
	ck_assert_int_eq(e.rows, 2);
	refusals_flush(&t);
	ck_assert_int_eq(e.rows, 4);
	ck_assert_int_eq(e.total, 20);
	refusals_flush(&t);
	ck_assert_int_eq(e.rows, 4);
	ck_assert_int_eq(t.n, 0);
}
END_TEST

/* Many addresses: past the slots for requesters, one key per failure without the address;
 * the count stays exact and the rows few. */
START_TEST(many_requesters)
{
	static struct refusal_table t;
	struct emitted e = { 0 };
	struct timespec now = at_ms(0);
	struct refusal r;
	char addr[48];
	int i;

	refusals_init(&t, record, &e);
	for (i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "2001:db8::%x", i);
		r = key(addr, "rfc3161 badAlg");
		refusals_note(&t, &r, "x", "", &now);
	}
	ck_assert_int_eq(e.rows, TSA_REFUSAL_SLOTS - TSA_REFUSAL_SHARED_SLOTS + 1);
	ck_assert_str_eq(e.last_requester, "");
	refusals_flush(&t);
	ck_assert_int_eq(e.total, 5000);
	ck_assert_int_le(e.rows, TSA_REFUSAL_SLOTS);
}
END_TEST

/* Even the shared slots full (many services and failures): everything pending is written and
 * the table starts again; no count is lost. */
START_TEST(table_full)
{
	static struct refusal_table t;
	struct emitted e = { 0 };
	struct timespec now = at_ms(0);
	struct refusal r;
	char addr[48], failure[32];
	int i, j;

	refusals_init(&t, record, &e);
	for (i = 0; i < 3; i++)
		for (j = 0; j < 200; j++) {
			snprintf(addr, sizeof(addr), "192.0.2.%d", j);
			snprintf(failure, sizeof(failure), "rfc3161 fail-%d", j);
			r = key(addr, failure);
			refusals_note(&t, &r, "x", "", &now);
		}
	refusals_flush(&t);
	ck_assert_int_eq(e.total, 600);
}
END_TEST

/* Log-only refusals (no event kind) are keys of their own. */
START_TEST(kinds_apart)
{
	static struct refusal_table t;
	struct emitted e = { 0 };
	struct refusal a = key("192.0.2.1", "rfc3161 timeNotAvailable"), b = a;
	struct timespec now = at_ms(0);

	b.kind = NULL;
	refusals_init(&t, record, &e);
	refusals_note(&t, &a, "x", "", &now);
	refusals_note(&t, &b, "x", "", &now);
	ck_assert_int_eq(e.rows, 2);
	ck_assert_int_eq(t.n, 2);
}
END_TEST

static Suite *
refusals_suite(void)
{
	Suite *s = suite_create("refusals");

	tl_tcase(s, "aggregation", 0, repeats_aggregated, flush_at_exit, many_requesters,
	    table_full, kinds_apart, NULL);
	return s;
}

int
main(void)
{
	return tl_run(refusals_suite());
}
