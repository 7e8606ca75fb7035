/*
 * metrics.c - the machine-wide counters of GET /metrics (see metrics.h).
 * Input: labels from the worker (service names of the loaded configuration, signer names);
 * nothing from a client reaches a label unchecked.  Output: Prometheus text exposition format
 * 0.0.4.
 *
 * Slots are claimed without a lock (a worker killed at any point must not wedge the others):
 * state 0 free, 1 being written, 2 ready.  Two workers claiming the same labels at the same
 * moment may each take a slot; rendering sums slots with equal labels, so totals stay exact.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "metrics.h"
#include "request.h"

/* Latency bucket bounds, microseconds (le="0.001" ... le="10", then +Inf). */
static const uint64_t bucket_us[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
	5000000, 10000000,
};
#define N_BUCKETS	(sizeof(bucket_us) / sizeof(bucket_us[0]))

static const char *const proto_names[METRICS_N_PROTO] = {
	"rfc3161", "soap", "authenticode", "none",
};

enum { SLOT_FREE, SLOT_CLAIMING, SLOT_READY };

struct request_slot {
	_Atomic unsigned	state;
	char			service[METRICS_LABEL_MAX];
	int			proto, outcome, fail;
	_Atomic uint64_t	count;
};

struct histogram {
	_Atomic uint64_t	bucket[N_BUCKETS + 1];	/* not cumulative; the last: +Inf */
	_Atomic uint64_t	sum_us;
	_Atomic uint64_t	count;
};

struct signer_slot {
	_Atomic unsigned	state;
	char			name[METRICS_LABEL_MAX];
	_Atomic uint64_t	ok, failed;
	_Atomic int		last;		/* 1 ok, 0 failed, -1 none */
};

struct shared {
	struct request_slot	requests[METRICS_REQUEST_SLOTS];
	struct histogram	latency[METRICS_N_PROTO][2];	/* [proto][granted] */
	struct signer_slot	signers[METRICS_SIGNER_SLOTS];
	_Atomic int		workers_configured, workers_alive;
	_Atomic uint64_t	worker_restarts;
	_Atomic uint64_t	dropped;
	time_t			started;
};

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "shared counters need lock-free 64-bit atomics");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "shared slots need lock-free atomics");

static struct shared *shm;

int
metrics_init(void)
{
	void *p;

	if (shm != NULL)
		return 0;
	/* Zero-filled: every slot free, every counter 0, every atomic valid as is. */
	p = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	shm = p;
	shm->started = time(NULL);
	return 0;
}

void
metrics_fini(void)
{
	if (shm != NULL)
		munmap(shm, sizeof(*shm));
	shm = NULL;
}

static int
label_ok(const char *s)
{
	return s != NULL && *s != '\0' && strlen(s) < METRICS_LABEL_MAX;
}

/* The slot counting these labels in [lo, hi), claimed if need be; NULL when all are taken. */
static struct request_slot *
request_slot(const char *service, int proto, int outcome, int fail, size_t lo, size_t hi)
{
	size_t i;

	for (i = lo; i < hi; i++) {
		struct request_slot *s = &shm->requests[i];
		unsigned st = atomic_load_explicit(&s->state, memory_order_acquire);

		if (st == SLOT_READY) {
			if (s->proto == proto && s->outcome == outcome && s->fail == fail &&
			    strcmp(s->service, service) == 0)
				return s;
			continue;
		}
		if (st != SLOT_FREE)
			continue;	/* another worker is writing it */
		if (!atomic_compare_exchange_strong(&s->state, &st, SLOT_CLAIMING))
			continue;
		snprintf(s->service, sizeof(s->service), "%s", service);
		s->proto = proto;
		s->outcome = outcome;
		s->fail = fail;
		atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
		return s;
	}
	return NULL;
}

static void
observe(struct histogram *h, uint64_t usec)
{
	size_t i;

	for (i = 0; i < N_BUCKETS && usec > bucket_us[i]; i++)
		;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, usec, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void
metrics_request(const char *service, enum metrics_proto proto, int outcome, int fail,
    uint64_t usec)
{
	struct request_slot *s = NULL;

	if (shm == NULL || (unsigned)proto >= METRICS_N_PROTO)
		return;
	if (label_ok(service) && strcmp(service, "other") != 0)
		s = request_slot(service, proto, outcome, fail, 0,
		    METRICS_REQUEST_SLOTS - METRICS_OTHER_SLOTS);
	if (s == NULL)
		s = request_slot("other", proto, outcome, fail, 0, METRICS_REQUEST_SLOTS);
	if (s != NULL)
		atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&shm->dropped, 1, memory_order_relaxed);
	observe(&shm->latency[proto][outcome == METRICS_GRANTED], usec);
}

static struct signer_slot *
signer_slot(const char *name, int claim)
{
	size_t i;

	for (i = 0; i < METRICS_SIGNER_SLOTS; i++) {
		struct signer_slot *s = &shm->signers[i];
		unsigned st = atomic_load_explicit(&s->state, memory_order_acquire);

		if (st == SLOT_READY) {
			if (strcmp(s->name, name) == 0)
				return s;
			continue;
		}
		if (st != SLOT_FREE || !claim)
			continue;
		if (!atomic_compare_exchange_strong(&s->state, &st, SLOT_CLAIMING))
			continue;
		snprintf(s->name, sizeof(s->name), "%s", name);
		atomic_store_explicit(&s->last, -1, memory_order_relaxed);
		atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
		return s;
	}
	return NULL;
}

void
metrics_signature(const char *signer, int ok)
{
	struct signer_slot *s;

	if (shm == NULL || !label_ok(signer))
		return;
	if ((s = signer_slot(signer, 1)) == NULL) {
		atomic_fetch_add_explicit(&shm->dropped, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(ok ? &s->ok : &s->failed, 1, memory_order_relaxed);
	atomic_store_explicit(&s->last, ok ? 1 : 0, memory_order_relaxed);
}

int
metrics_signer_last_ok(const char *signer)
{
	struct signer_slot *s;

	if (shm == NULL || !label_ok(signer) || (s = signer_slot(signer, 0)) == NULL)
		return -1;
	return atomic_load_explicit(&s->last, memory_order_relaxed);
}

void
metrics_workers(int configured, int alive)
{
	if (shm == NULL)
		return;
	atomic_store(&shm->workers_configured, configured);
	atomic_store(&shm->workers_alive, alive);
}

void
metrics_worker_restarted(void)
{
	if (shm != NULL)
		atomic_fetch_add(&shm->worker_restarts, 1);
}

/* ---- rendering ------------------------------------------------------------------------- */

void
metrics_label(char *out, size_t outlen, const char *key, const char *value)
{
	size_t o = 0;
	int n;

	n = snprintf(out, outlen, "%s=\"", key);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	o = (size_t)n;
	for (; value != NULL && *value != '\0' && o + 3 < outlen; value++) {
		if (*value == '\\' || *value == '"' || *value == '\n') {
			out[o++] = '\\';
			out[o++] = *value == '\n' ? 'n' : *value;
		} else
			out[o++] = *value;
	}
	if (o + 2 > outlen)
		o = outlen - 2;
	out[o++] = '"';
	out[o] = '\0';
}

const char *
metrics_outcome_name(int outcome, char *buf, size_t len)
{
	switch (outcome) {
	case METRICS_GRANTED:		return "granted";
	case METRICS_REJECTED:		return "rejected";
	case METRICS_SOAP_FAULT:	return "soap_fault";
	}
	snprintf(buf, len, "http_%d", outcome);
	return buf;
}

const char *
metrics_fail_name(int fail)
{
	switch (fail) {
	case TSA_FAIL_BAD_ALG:			return "badAlg";
	case TSA_FAIL_BAD_REQUEST:		return "badRequest";
	case TSA_FAIL_BAD_DATA_FORMAT:		return "badDataFormat";
	case TSA_FAIL_TIME_NOT_AVAILABLE:	return "timeNotAvailable";
	case TSA_FAIL_UNACCEPTED_POLICY:	return "unacceptedPolicy";
	case TSA_FAIL_UNACCEPTED_EXTENSION:	return "unacceptedExtension";
	case TSA_FAIL_ADD_INFO_NOT_AVAILABLE:	return "addInfoNotAvailable";
	case TSA_FAIL_SYSTEM_FAILURE:		return "systemFailure";
	case METRICS_FAIL_NONE:			return "none";
	default:				return "other";
	}
}

static void
header(struct sbuf *b, const char *name, const char *help, const char *type)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Integers (counters) exactly, up to 2^53; other values to 15 significant digits. */
static void
sample(struct sbuf *b, const char *name, const char *labels, double v)
{
	char num[32];

	if (v > -9e15 && v < 9e15 && (double)(long long)v == v)
		snprintf(num, sizeof(num), "%lld", (long long)v);
	else
		snprintf(num, sizeof(num), "%.15g", v);
	if (labels[0] != '\0')
		sb_printf(b, "%s{%s} %s\n", name, labels, num);
	else
		sb_printf(b, "%s %s\n", name, num);
}

void
metrics_gauge(struct sbuf *b, const char *name, const char *help, const char *labels,
    double value)
{
	if (help != NULL)
		header(b, name, help, "gauge");
	sample(b, name, labels, value);
}

static int
same_labels(const struct request_slot *a, const struct request_slot *b)
{
	return a->proto == b->proto && a->outcome == b->outcome && a->fail == b->fail &&
	    strcmp(a->service, b->service) == 0;
}

static void
render_requests(struct sbuf *b)
{
	char svc[METRICS_LABEL_MAX * 2 + 16], out[32], labels[sizeof(svc) + 128];
	size_t i, j;

	header(b, "tsa_requests_total", "Requests answered, by service, protocol, outcome "
	    "(granted, rejected, soap_fault, http_N) and failure kind.", "counter");
	for (i = 0; i < METRICS_REQUEST_SLOTS; i++) {
		const struct request_slot *s = &shm->requests[i];
		uint64_t total = 0;

		if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
			continue;
		for (j = 0; j < i; j++)
			if (atomic_load_explicit(&shm->requests[j].state, memory_order_acquire) ==
			    SLOT_READY && same_labels(&shm->requests[j], s))
				break;
		if (j < i)
			continue;	/* summed with its first slot */
		for (j = i; j < METRICS_REQUEST_SLOTS; j++)
			if (atomic_load_explicit(&shm->requests[j].state, memory_order_acquire) ==
			    SLOT_READY && same_labels(&shm->requests[j], s))
				total += atomic_load(&shm->requests[j].count);
		metrics_label(svc, sizeof(svc), "service", s->service);
		snprintf(labels, sizeof(labels), "%s,protocol=\"%s\",outcome=\"%s\",fail=\"%s\"",
		    svc, proto_names[s->proto], metrics_outcome_name(s->outcome, out, sizeof(out)),
		    metrics_fail_name(s->fail));
		sample(b, "tsa_requests_total", labels, (double)total);
	}
}

static void
render_latency(struct sbuf *b)
{
	char labels[128];
	size_t p, g, i;

	header(b, "tsa_request_duration_seconds", "Time from the request's arrival in the "
	    "worker to its answer, by protocol and result.", "histogram");
	for (p = 0; p < METRICS_N_PROTO; p++)
		for (g = 0; g < 2; g++) {
			const struct histogram *h = &shm->latency[p][g];
			const char *res = g ? "granted" : "refused";
			uint64_t cum = 0;

			for (i = 0; i <= N_BUCKETS; i++) {
				cum += atomic_load(&h->bucket[i]);
				if (i < N_BUCKETS)
					snprintf(labels, sizeof(labels), "protocol=\"%s\","
					    "result=\"%s\",le=\"%g\"", proto_names[p], res,
					    (double)bucket_us[i] / 1e6);
				else
					snprintf(labels, sizeof(labels), "protocol=\"%s\","
					    "result=\"%s\",le=\"+Inf\"", proto_names[p], res);
				sample(b, "tsa_request_duration_seconds_bucket", labels,
				    (double)cum);
			}
			snprintf(labels, sizeof(labels), "protocol=\"%s\",result=\"%s\"",
			    proto_names[p], res);
			sample(b, "tsa_request_duration_seconds_sum", labels,
			    (double)atomic_load(&h->sum_us) / 1e6);
			sample(b, "tsa_request_duration_seconds_count", labels,
			    (double)atomic_load(&h->count));
		}
}

/* ",host=\"NAME\"" once metrics_set_host() ran, else empty: appended to a unit's labels. */
static char host_label[METRICS_LABEL_MAX * 2 + 16];

void
metrics_set_host(const char *host)
{
	host_label[0] = ',';
	metrics_label(host_label + 1, sizeof(host_label) - 1, "host", host);
}

static void
render_signatures(struct sbuf *b)
{
	char name[METRICS_LABEL_MAX * 2 + 16], labels[sizeof(name) + sizeof(host_label) + 32];
	size_t i;

	header(b, "tsa_signatures_total", "Token signatures (construction included) by "
	    "signer and result, all workers.", "counter");
	for (i = 0; i < METRICS_SIGNER_SLOTS; i++) {
		const struct signer_slot *s = &shm->signers[i];

		if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
			continue;
		metrics_label(name, sizeof(name), "signer", s->name);
		snprintf(labels, sizeof(labels), "%s%s,result=\"ok\"", name, host_label);
		sample(b, "tsa_signatures_total", labels, (double)atomic_load(&s->ok));
		snprintf(labels, sizeof(labels), "%s%s,result=\"failed\"", name, host_label);
		sample(b, "tsa_signatures_total", labels, (double)atomic_load(&s->failed));
	}
	header(b, "tsa_signer_last_signature_ok", "1 when the signer's last signature "
	    "succeeded, 0 when it failed (signers that signed since the start).", "gauge");
	for (i = 0; i < METRICS_SIGNER_SLOTS; i++) {
		const struct signer_slot *s = &shm->signers[i];
		int last;

		if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY ||
		    (last = atomic_load(&s->last)) < 0)
			continue;
		metrics_label(name, sizeof(name), "signer", s->name);
		snprintf(labels, sizeof(labels), "%s%s", name, host_label);
		sample(b, "tsa_signer_last_signature_ok", labels, last);
	}
}

void
metrics_render(struct sbuf *b)
{
	if (shm == NULL)
		return;
	render_requests(b);
	render_latency(b);
	render_signatures(b);
	metrics_gauge(b, "tsa_workers", "Worker processes configured.", "",
	    atomic_load(&shm->workers_configured));
	metrics_gauge(b, "tsa_workers_running", "Worker processes running.", "",
	    atomic_load(&shm->workers_alive));
	header(b, "tsa_worker_restarts_total", "Workers replaced after they exited or died.",
	    "counter");
	sample(b, "tsa_worker_restarts_total", "", (double)atomic_load(&shm->worker_restarts));
	header(b, "tsa_metrics_dropped_total", "Observations that found no free label slot.",
	    "counter");
	sample(b, "tsa_metrics_dropped_total", "", (double)atomic_load(&shm->dropped));
	metrics_gauge(b, "tsa_start_time_seconds", "When the supervisor mapped these counters "
	    "(Unix time).", "", (double)shm->started);
}
