/*
 * test_metrics.c - the machine-wide counters (src/fcgi/metrics.c): increments from many forked
 * processes at once sum exactly (including labels claimed by several processes at the same
 * moment), the slots are bounded with an "other" overflow, and the text is Prometheus
 * exposition format 0.0.4 (one HELP/TYPE per family, escaped labels, cumulative buckets).
 */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "request.h"

#include "testlib.h"

static char *
render(void)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	unsigned char *out = NULL;
	size_t len;

	metrics_render(&b);
	if (b.p == NULL && !b.failed)
		return strdup("");	/* nothing rendered */
	ck_assert_int_eq(sb_done(&b, &out, &len), 0);
	return (char *)out;
}

/* The value of the sample line "series value", or -1 when absent. */
static double
value_of(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

static int
count_of(const char *text, const char *needle)
{
	const char *p = text;
	int n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

#define PROCS	8
#define ROUNDS	20000

START_TEST(test_forked_sum)
{
	char series[256], *text;
	pid_t pids[PROCS];
	int i, status;

	ck_assert_int_eq(metrics_init(), 0);
	for (i = 0; i < PROCS; i++) {
		ck_assert_int_ne(pids[i] = fork(), -1);
		if (pids[i] == 0) {
			int r, k;

			for (r = 0; r < ROUNDS; r++) {
				metrics_request("tsa", METRICS_PROTO_RFC3161, METRICS_GRANTED,
				    METRICS_FAIL_NONE, 3000);
				metrics_request("tsa", METRICS_PROTO_SOAP, METRICS_REJECTED,
				    TSA_FAIL_BAD_ALG, 20000);
				metrics_signature("tsa-key", r % 10 != 0);
			}
			/* Every process claims the same new labels at about the same moment. */
			for (k = 0; k < 20; k++) {
				char name[32];

				snprintf(name, sizeof(name), "race-%d", k);
				metrics_request(name, METRICS_PROTO_AUTHENTICODE, 403,
				    TSA_FAIL_BAD_REQUEST, 100);
			}
			_exit(0);
		}
	}
	for (i = 0; i < PROCS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	text = render();
	ck_assert(value_of(text, "tsa_requests_total{service=\"tsa\",protocol=\"rfc3161\","
	    "outcome=\"granted\",fail=\"none\"}") == PROCS * ROUNDS);
	ck_assert(value_of(text, "tsa_requests_total{service=\"tsa\",protocol=\"soap\","
	    "outcome=\"rejected\",fail=\"badAlg\"}") == PROCS * ROUNDS);
	for (i = 0; i < 20; i++) {
		snprintf(series, sizeof(series), "tsa_requests_total{service=\"race-%d\","
		    "protocol=\"authenticode\",outcome=\"http_403\",fail=\"badRequest\"}", i);
		/* Summed over duplicate slots, printed once. */
		ck_assert_int_eq(count_of(text, series), 1);
		ck_assert(value_of(text, series) == PROCS);
	}
	ck_assert(value_of(text, "tsa_signatures_total{signer=\"tsa-key\",result=\"ok\"}") ==
	    PROCS * ROUNDS * 9 / 10);
	ck_assert(value_of(text, "tsa_signatures_total{signer=\"tsa-key\",result=\"failed\"}") ==
	    PROCS * ROUNDS / 10);
	/* 3 ms requests: in the 5 ms bucket, not the 2.5 ms one. */
	ck_assert(value_of(text, "tsa_request_duration_seconds_bucket{protocol=\"rfc3161\","
	    "result=\"granted\",le=\"0.0025\"}") == 0);
	ck_assert(value_of(text, "tsa_request_duration_seconds_bucket{protocol=\"rfc3161\","
	    "result=\"granted\",le=\"0.005\"}") == PROCS * ROUNDS);
	ck_assert(value_of(text, "tsa_request_duration_seconds_count{protocol=\"soap\","
	    "result=\"refused\"}") == PROCS * ROUNDS);
	ck_assert(value_of(text, "tsa_request_duration_seconds_sum{protocol=\"soap\","
	    "result=\"refused\"}") == PROCS * ROUNDS * 0.02);
	ck_assert(value_of(text, "tsa_metrics_dropped_total") == 0);
	free(text);
	metrics_fini();
}
END_TEST

/* Every line is a comment (# HELP / # TYPE, once per family, before its samples) or a sample
 * "name{labels} value" of the family last declared; buckets are cumulative up to +Inf. */
START_TEST(test_text_format)
{
	static const char *sample_re =
	    "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\[\\\\\"n])*\""
	    "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\[\\\\\"n])*\")*)\\})? "
	    "(-?[0-9.e+-]+|\\+Inf|NaN)$";
	char family[128] = "", *text, *save = NULL, *ln, *copy;
	char seen[64][128];
	size_t nseen = 0, k;
	regex_t re;
	double prev = -1;

	ck_assert_int_eq(metrics_init(), 0);
	metrics_request("we\"ird\\name\nx", METRICS_PROTO_NONE, 415, METRICS_FAIL_NONE, 5);
	metrics_request("tsa", METRICS_PROTO_RFC3161, METRICS_GRANTED, METRICS_FAIL_NONE, 7000000);
	metrics_request("tsa", METRICS_PROTO_RFC3161, METRICS_GRANTED, METRICS_FAIL_NONE, 60000000);
	metrics_signature("k", 0);
	metrics_workers(2, 2);
	metrics_worker_restarted();
	text = render();
	ck_assert_int_eq(regcomp(&re, sample_re, REG_EXTENDED), 0);
	ck_assert_ptr_nonnull(copy = strdup(text));
	ck_assert(text[strlen(text) - 1] == '\n');
	for (ln = strtok_r(copy, "\n", &save); ln != NULL; ln = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[2];

		if (strncmp(ln, "# HELP ", 7) == 0) {
			ck_assert(sscanf(ln + 7, "%127s", family) == 1);
			for (k = 0; k < nseen; k++)
				ck_assert_msg(strcmp(seen[k], family) != 0, "family %s twice", family);
			ck_assert(nseen < 64);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", family);
			continue;
		}
		if (strncmp(ln, "# TYPE ", 7) == 0) {
			ck_assert(strncmp(ln + 7, family, strlen(family)) == 0);
			continue;
		}
		ck_assert_msg(regexec(&re, ln, 2, m, 0) == 0, "not a sample line: %s", ln);
		/* A sample belongs to the family declared last (histogram suffixes aside). */
		ck_assert_msg(strncmp(ln, family, strlen(family)) == 0, "%s outside %s", ln,
		    family);
		if (strstr(ln, "_bucket{protocol=\"rfc3161\",result=\"granted\"") != NULL) {
			double v = strtod(strrchr(ln, ' ') + 1, NULL);

			ck_assert(v >= prev);	/* cumulative */
			prev = v;
		}
	}
	regfree(&re);
	free(copy);
	ck_assert(value_of(text, "tsa_requests_total{service=\"we\\\"ird\\\\name\\nx\","
	    "protocol=\"none\",outcome=\"http_415\",fail=\"none\"}") == 1);
	/* 7 s in le=10, 60 s only in +Inf. */
	ck_assert(value_of(text, "tsa_request_duration_seconds_bucket{protocol=\"rfc3161\","
	    "result=\"granted\",le=\"5\"}") == 0);
	ck_assert(value_of(text, "tsa_request_duration_seconds_bucket{protocol=\"rfc3161\","
	    "result=\"granted\",le=\"10\"}") == 1);
	ck_assert(value_of(text, "tsa_request_duration_seconds_bucket{protocol=\"rfc3161\","
	    "result=\"granted\",le=\"+Inf\"}") == 2);
	ck_assert(value_of(text, "tsa_request_duration_seconds_sum{protocol=\"rfc3161\","
	    "result=\"granted\"}") == 67);
	ck_assert(value_of(text, "tsa_signer_last_signature_ok{signer=\"k\"}") == 0);
	ck_assert(value_of(text, "tsa_workers") == 2);
	ck_assert(value_of(text, "tsa_workers_running") == 2);
	ck_assert(value_of(text, "tsa_worker_restarts_total") == 1);
	free(text);
	/* With this server's name, every unit's series says which server counted it. */
	metrics_set_host("tsa-be1");
	text = render();
	ck_assert(value_of(text, "tsa_signer_last_signature_ok{signer=\"k\",host=\"tsa-be1\"}")
	    == 0);
	ck_assert_int_eq(count_of(text, "tsa_signer_last_signature_ok{signer=\"k\"}"), 0);
	free(text);
	metrics_fini();
}
END_TEST

/* More services than slots: the rest counted under "other", nothing lost. */
START_TEST(test_overflow_other)
{
	char name[32], *text;
	int i, n = METRICS_REQUEST_SLOTS + 100;
	double general = 0;
	const char *p;

	ck_assert_int_eq(metrics_init(), 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "svc-%d", i);
		metrics_request(name, METRICS_PROTO_RFC3161, METRICS_GRANTED, METRICS_FAIL_NONE, 1);
	}
	/* A name past the label cap is "other" too. */
	{
		char longname[METRICS_LABEL_MAX + 10];

		memset(longname, 'y', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		metrics_request(longname, METRICS_PROTO_RFC3161, METRICS_GRANTED,
		    METRICS_FAIL_NONE, 1);
	}
	text = render();
	for (p = text; (p = strstr(p, "tsa_requests_total{service=\"svc-")) != NULL; p++)
		general += strtod(strchr(p, ' ') + 1, NULL);
	ck_assert(general == METRICS_REQUEST_SLOTS - METRICS_OTHER_SLOTS);
	ck_assert(value_of(text, "tsa_requests_total{service=\"other\",protocol=\"rfc3161\","
	    "outcome=\"granted\",fail=\"none\"}") == n + 1 - general);
	ck_assert(value_of(text, "tsa_metrics_dropped_total") == 0);
	free(text);
	metrics_fini();
}
END_TEST

START_TEST(test_signer_last)
{
	ck_assert_int_eq(metrics_init(), 0);
	ck_assert_int_eq(metrics_signer_last_ok("a"), -1);
	metrics_signature("a", 1);
	ck_assert_int_eq(metrics_signer_last_ok("a"), 1);
	metrics_signature("a", 0);
	ck_assert_int_eq(metrics_signer_last_ok("a"), 0);
	ck_assert_int_eq(metrics_signer_last_ok("b"), -1);
	metrics_fini();
}
END_TEST

/* Without the region (the pipeline's unit tests): nothing counted, nothing rendered. */
START_TEST(test_uninitialised)
{
	char *text;

	metrics_request("tsa", METRICS_PROTO_RFC3161, METRICS_GRANTED, METRICS_FAIL_NONE, 1);
	metrics_signature("a", 1);
	ck_assert_int_eq(metrics_signer_last_ok("a"), -1);
	text = render();
	ck_assert_str_eq(text, "");
	free(text);
}
END_TEST

int
main(void)
{
	return tl_run(tl_suite("metrics", 60, test_forked_sum, test_text_format,
	    test_overflow_other, test_signer_last, test_uninitialised, NULL));
}
