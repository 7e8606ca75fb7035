/*
 * ops.c - GET /health and GET /metrics, answered by any worker (see ops.h).
 * Input: nothing from the client but the method; the web server restricts both to loopback.
 * The units' states are the signing process's (an ORDER_STATUS): health has it sign a test
 * only for a unit whose last signature failed (at most once a second, so that a repaired
 * token is seen); the database check is
 * one prepared SELECT bounded by OPS_DB_TIMEOUT_MS.  Metrics: Prometheus text format 0.0.4.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "logapi.h"
#include "ops.h"
#include "strbuf.h"
#include "version.h"

/* One round trip on the worker's connection, bounded in time.  0, or -1 with why. */
static int
db_ping(struct db *db, char *why, size_t len)
{
	return db_run_bounded(db, "config_version", 1, 0, NULL, OPS_DB_TIMEOUT_MS, why, len);
}

/*
 * The units' states as the signing process holds them (order.h's ORDER_STATUS), into
 * w->answer; test_sign: a unit whose last signature failed signs a test (the signer does it at
 * most once a second).  0, or -1 with why when the signer does not answer.
 */
static int
units_status(struct worker *w, int test_sign, char *why, size_t len)
{
	struct order o;
	unsigned char *frame = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.type = ORDER_STATUS;
	o.test_sign = test_sign;
	rc = signer_link_ask(&w->link, &o, &w->answer, &frame, why, len);
	free(frame);		/* a status answer points into nothing */
	if (rc == 0 && w->answer.type != ANSWER_STATUS) {
		snprintf(why, len, "the signer answered a status order with no status");
		rc = -1;
	}
	if (rc == -1)
		w->answer.n_units = 0;
	return rc;
}

/* The unit's state in the signer's last status answer; NULL when it named none. */
static const struct unit_status *
unit_of(const struct signer_answer *st, const struct signer *s)
{
	size_t i;

	for (i = 0; st->type == ANSWER_STATUS && i < st->n_units; i++)
		if (st->units[i].id == s->id)
			return &st->units[i];
	return NULL;
}

/* Days until the signer's certificate expires (negative: expired); 0 when it has none. */
static double
days_left(const struct signer *s, time_t now)
{
	time_t na;

	if (s->cert == NULL || (na = gnutls_x509_crt_get_expiration_time(s->cert)) == (time_t)-1)
		return 0;
	return (double)(na - now) / 86400.0;
}

/* The gate a policy's chain sets and the accuracy its token states.  NULL: it has no gate. */
static const struct clock_gate *
policy_gate(const struct policy *pol, unsigned long *accuracy_us)
{
	const struct tsa_opts *o = &pol->opts;

	*accuracy_us = o->acc_seconds * 1000000UL + o->acc_millis * 1000UL + o->acc_micros;
	return o->clock;
}

/* Runs every check, one line each into report.  1 when all pass. */
static int
health(struct worker *w, struct sbuf *report, int test_sign)
{
	char why[512];
	time_t now = time(NULL);
	size_t i, j;
	int ok = 1, configured = worker_refresh(w) == 0;

	if (db_ping(&w->db, why, sizeof(why)) == 0)
		sb_printf(report, "ok database\n");
	else {
		sb_printf(report, "FAIL database: %s\n", why);
		ok = 0;
	}
	if (!configured) {
		sb_printf(report, "FAIL configuration: not loaded (database unreachable?)\n");
		return 0;
	}
	sb_printf(report, "ok configuration: version %lld\n", w->cf.config->version);
	if (units_status(w, test_sign, why, sizeof(why)) == -1) {
		sb_printf(report, "FAIL signing process: %s\n", why);
		ok = 0;
	}
	for (i = 0; i < w->cf.config->n_signers; i++) {
		const struct signer *s = &w->cf.config->signers[i];
		const struct unit_status *u = unit_of(&w->answer, s);

		if (!s->used)
			continue;
		if (u != NULL && u->state == UNIT_USABLE)
			sb_printf(report, "ok signer %s: certificate valid %.0f more days\n", s->name,
			    days_left(s, now));
		else {
			sb_printf(report, "FAIL signer %s: %s%s%s\n", s->name, u == NULL ?
			    "not reported by the signing process" : unit_state_name(u->state),
			    u != NULL && u->reason[0] != '\0' ? ": " : "", u != NULL ? u->reason : "");
			ok = 0;
		}
	}
	for (i = 0; i < w->cf.config->n_services; i++) {
		const struct service *svc = &w->cf.config->services[i];

		for (j = 0; j < svc->n_policies; j++) {
			const struct policy *pol = &svc->policies[j];
			const struct clock_gate *g;
			unsigned long acc;
			struct tsa_refusal ref;

			/* A policy refused here (no unit on this server) issues nothing here. */
			if (pol->refused != NULL || (g = policy_gate(pol, &acc)) == NULL)
				continue;
			if (clock_check(g, acc, &ref) == 0)
				sb_printf(report, "ok clock %s/%s\n", svc->name, pol->name);
			else {
				sb_printf(report, "FAIL clock %s/%s: %s\n", svc->name, pol->name,
				    ref.detail);
				ok = 0;
			}
		}
	}
	return ok;
}

/* ---- metrics: what this worker sees now -------------------------------------------------- */

/*
 * One family over this server's units, labelled signer and host: used ones only when
 * only_used, else every unit bound to this host or to any (another server's units are its
 * own /metrics' to report).
 */
static void
signer_family(struct sbuf *b, struct worker *w, const char *name, const char *help,
    double (*value)(const struct signer *, const struct signer_answer *, time_t), int only_used,
    time_t now)
{
	char l1[METRICS_LABEL_MAX * 2 + 16], l2[METRICS_LABEL_MAX * 2 + 16];
	char labels[sizeof(l1) + sizeof(l2)];
	size_t i;
	int first = 1;

	metrics_label(l2, sizeof(l2), "host", w->conf->host);
	for (i = 0; i < w->cf.config->n_signers; i++) {
		const struct signer *s = &w->cf.config->signers[i];

		if (only_used ? !s->used : (s->host != NULL && !s->used &&
		    strcmp(s->host, w->conf->host) != 0))
			continue;
		metrics_label(l1, sizeof(l1), "signer", s->name);
		snprintf(labels, sizeof(labels), "%s,%s", l1, l2);
		metrics_gauge(b, name, first ? help : NULL, labels, value(s, &w->answer, now));
		first = 0;
	}
}

static double
signer_up(const struct signer *s, const struct signer_answer *st, time_t now)
{
	const struct unit_status *u = unit_of(st, s);

	(void)now;
	return u != NULL && u->state == UNIT_USABLE && metrics_signer_last_ok(s->name) != 0 ?
	    1 : 0;
}

static double
cert_days_left(const struct signer *s, const struct signer_answer *st, time_t now)
{
	(void)st;
	return days_left(s, now);
}

static double
not_after(const struct signer *s, const struct signer_answer *st, time_t now)
{
	(void)st;
	(void)now;
	return s->cert != NULL ? (double)gnutls_x509_crt_get_expiration_time(s->cert) : 0;
}

/* The clock as each distinct source of the configured gates reports it (the kernel always). */
static void
clock_family(struct sbuf *b, struct worker *w, int which, const char *name, const char *help)
{
	const char *sources[TSA_MAX_FILTERS * 8 + 1];
	size_t n = 0, i, j, k;

	sources[n++] = NULL;	/* the kernel */
	for (i = 0; w->cf.config != NULL && i < w->cf.config->n_services; i++)
		for (j = 0; j < w->cf.config->services[i].n_policies; j++) {
			unsigned long acc;
			const struct clock_gate *g = policy_gate(&w->cf.config->services[i].policies[j],
			    &acc);

			if (g == NULL || g->status_file == NULL)
				continue;
			for (k = 0; k < n; k++)
				if (sources[k] != NULL && strcmp(sources[k], g->status_file) == 0)
					break;
			if (k == n && n < sizeof(sources) / sizeof(sources[0]))
				sources[n++] = g->status_file;
		}
	for (k = 0; k < n; k++) {
		char label[600];
		struct clock_status st;
		struct timex tx;
		double v;

		if (clock_read(sources[k], &st) == -1)
			continue;
		metrics_label(label, sizeof(label), "source", sources[k] ? sources[k] : "kernel");
		switch (which) {
		case 0:
			v = !st.unsync;
			break;
		case 1:
			v = st.esterror_us / 1e6;
			break;
		case 2:
			v = st.maxerror_us / 1e6;
			break;
		case 3:
			v = st.leap;
			break;
		default:
			/* The offset only the kernel knows (ns with STA_NANO, else us). */
			if (sources[k] != NULL)
				continue;
			memset(&tx, 0, sizeof(tx));
			if (ntp_adjtime(&tx) == -1)
				continue;
			v = (tx.status & STA_NANO) ? tx.offset / 1e9 : tx.offset / 1e6;
			break;
		}
		metrics_gauge(b, name, help, label, v);
		help = NULL;
	}
}

static void
gate_family(struct sbuf *b, struct worker *w, int limits, const char *name, const char *help)
{
	size_t i, j;

	for (i = 0; i < w->cf.config->n_services; i++) {
		const struct service *svc = &w->cf.config->services[i];

		for (j = 0; j < svc->n_policies; j++) {
			const struct policy *pol = &svc->policies[j];
			char l1[METRICS_LABEL_MAX * 2 + 16], l2[600], labels[sizeof(l1) + sizeof(l2)];
			const struct clock_gate *g;
			struct tsa_refusal ref;
			unsigned long acc;
			double v;

			if ((g = policy_gate(pol, &acc)) == NULL)
				continue;
			metrics_label(l1, sizeof(l1), "service", svc->name);
			metrics_label(l2, sizeof(l2), "policy", pol->name);
			snprintf(labels, sizeof(labels), "%s,%s", l1, l2);
			if (limits)
				v = (g->max_error_us > 0 ? (double)g->max_error_us : (double)acc) / 1e6;
			else
				v = clock_check(g, acc, &ref) == 0;
			metrics_gauge(b, name, help, labels, v);
			help = NULL;
		}
	}
}

static void
render(struct worker *w, struct sbuf *b)
{
	char why[512];
	time_t now = time(NULL);
	int db_up = db_ping(&w->db, why, sizeof(why)) == 0;
	int configured = worker_refresh(w) == 0;

	{
		char l1[METRICS_LABEL_MAX * 2 + 16], l2[METRICS_LABEL_MAX * 2 + 16];
		char labels[sizeof(l1) + sizeof(l2)];

		metrics_label(l1, sizeof(l1), "host", w->conf->host);
		metrics_label(l2, sizeof(l2), "version", tsa_version);
		snprintf(labels, sizeof(labels), "%s,%s", l1, l2);
		metrics_gauge(b, "tsa_host_info", "This server (tsa.conf's host) and the version it "
		    "runs; always 1.", labels, 1);
	}
	metrics_gauge(b, "tsa_database_up", "1 when PostgreSQL answered the worker within "
	    "the health check's bound.", "", db_up);
	metrics_gauge(b, "tsa_config_loaded", "1 when the answering worker has a configuration.",
	    "", configured);
	if (configured) {
		metrics_gauge(b, "tsa_config_version", "The configuration version the answering "
		    "worker serves.", "", (double)w->cf.config->version);
		if (units_status(w, 0, why, sizeof(why)) == -1)
			log_msg(LOG_WARNING, "metrics: %s", why);
		signer_family(b, w, "tsa_signer_usable", "1 when the signer's key is open, its "
		    "certificate accepted and its last signature good (answering worker).",
		    signer_up, 1, now);
		signer_family(b, w, "tsa_signer_cert_days_left", "Days until the signer's "
		    "certificate expires.", cert_days_left, 0, now);
		signer_family(b, w, "tsa_signer_cert_not_after_seconds", "When the signer's "
		    "certificate expires (Unix time).", not_after, 0, now);
		gate_family(b, w, 0, "tsa_clock_gate_ok", "1 when the policy's clock gate "
		    "would let a token through now.");
		gate_family(b, w, 1, "tsa_clock_gate_limit_seconds", "The clock error the "
		    "policy's gate accepts (its max_error_ms, else the stated accuracy).");
	}
	logapi_metrics(w, b);
	clock_family(b, w, 0, "tsa_clock_synchronised", "1 when the clock source says "
	    "synchronised.");
	clock_family(b, w, 1, "tsa_clock_estimated_error_seconds", "The clock source's "
	    "estimated error.");
	clock_family(b, w, 2, "tsa_clock_max_error_seconds", "The clock source's maximum "
	    "error.");
	clock_family(b, w, 3, "tsa_clock_leap", "A leap second announced for midnight UTC: "
	    "1 insert, -1 delete, 0 none.");
	clock_family(b, w, 4, "tsa_clock_offset_seconds", "The kernel's current offset from "
	    "its time source.");
	metrics_render(b);
}

static void
answer(struct http_response *resp, int status, const char *type, struct sbuf *b)
{
	resp->status = status;
	resp->content_type = type;
	if (sb_done(b, &resp->body, &resp->body_len) == -1) {
		log_msg(LOG_ERR, "out of memory answering an operations request");
		resp->status = 500;
		resp->content_type = "text/plain; charset=utf-8";
		resp->body = NULL;
		resp->body_len = 0;
	}
}

void
ops_handle(struct worker *w, const char *what, const char *method,
    struct http_response *resp)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	int ok;

	memset(resp, 0, sizeof(*resp));
	if (strcmp(what, "health") != 0 && strcmp(what, "metrics") != 0) {
		sb_str(&b, "no such operations endpoint\n");
		answer(resp, 404, "text/plain; charset=utf-8", &b);
		return;
	}
	if (method == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
		sb_str(&b, "operations endpoints answer GET\n");
		answer(resp, 405, "text/plain; charset=utf-8", &b);
		resp->allow = "GET, HEAD";
		return;
	}
	if (strcmp(what, "metrics") == 0) {
		render(w, &b);
		answer(resp, 200, METRICS_CONTENT_TYPE, &b);
		return;
	}
	{
		struct sbuf checks = { NULL, 0, 0, 0 };
		unsigned char *text = NULL;
		size_t len = 0;

		ok = health(w, &checks, 1);
		sb_str(&b, ok ? "healthy\n" : "unhealthy\n");
		if (sb_done(&checks, &text, &len) == 0) {
			sb_add(&b, (const char *)text, len);
			free(text);
		} else
			b.failed = 1;
		answer(resp, ok ? 200 : 503, "text/plain; charset=utf-8", &b);
	}
}
