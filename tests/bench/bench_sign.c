/*
 * bench_sign.c - tsa-bench-sign: raw signatures per second of a key on its PKCS#11 token, the
 * ceiling that end-to-end throughput is measured against (README, "Tests": make bench).
 *
 * usage: tsa-bench-sign --conf TSA_CONF --uri PKCS11_URI [--threads N] [--seconds S]
 *            [--scheme auto|rsa-pss] [--digest sha256]
 *
 * PKCS#11 is set up once for the process (module and PIN from tsa.conf, as the worker does);
 * then each thread opens its own gnutls_privkey_t from the URI, so each holds its own PKCS#11
 * session, and signs a fixed buffer in a loop until the time is up.  The signature algorithm
 * is chosen as src/sign/signer.c does: gnutls_pk_to_sign for the key's type and the digest,
 * RSASSA-PSS when asked.  One signature per thread is verified against the key's public half
 * before timing starts, so a broken key cannot post a figure.
 *
 * Prints one line: raw_sign_per_sec=N threads=T key=TYPE-BITS scheme=S digest=D seconds=X
 * cpu_ms_per_sig=C (the process's CPU time over the signatures: what one signature costs
 * even when other programs share the cores and the rate drops) user_ms_per_sig=U (the part of
 * C spent in user space: the rest is the kernel's, SoftHSM's file reads and locks among it)
 * Exit status: 0, 1 on any failure (nothing is printed on stdout then).
 * Input: only the operator's arguments and tsa.conf; nothing untrusted.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include "conf.h"
#include "hashalg.h"
#include "log.h"
#include "signer.h"

#define MAX_THREADS	64
#define MAX_SECONDS	600

/* What every thread shares: read-only once the threads run, except `stop`. */
struct bench {
	const char		*uri;
	const struct hash_alg	*digest;
	int			 pss;
	double			 seconds;
	atomic_int		 stop;
	pthread_barrier_t	 ready;		/* every key open before the clock starts */
};

struct worker {
	struct bench		*b;
	pthread_t		 tid;
	unsigned long		 count;
	gnutls_pk_algorithm_t	 pk;
	unsigned		 bits;
	char			 key[64];	/* "RSA-2048", "ECDSA-SECP256R1" */
	atomic_int		 failed;
	char			 err[256];	/* read once the thread is joined */
};

/* A fixed 64-byte message, the size of a token's signed attributes being about that order;
 * the signature hashes it first, so its length barely matters. */
static const unsigned char message[64] = "tsa-bench-sign: a fixed buffer signed over and over.";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A CPU time of getrusage(2) in milliseconds. */
static double
ms(struct timeval tv)
{
	return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

/* As choose_algorithm() in src/sign/signer.c. GNUTLS_SIGN_UNKNOWN when there is none. */
static gnutls_sign_algorithm_t
sign_algorithm(gnutls_pk_algorithm_t pk, const struct hash_alg *h, int pss)
{
	gnutls_digest_algorithm_t d = h->gnutls;

	switch (pk) {
	case GNUTLS_PK_RSA:
		if (!pss)
			return gnutls_pk_to_sign(GNUTLS_PK_RSA, d);
		return d == GNUTLS_DIG_SHA256 ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA256 :
		    d == GNUTLS_DIG_SHA384 ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA384 :
		    d == GNUTLS_DIG_SHA512 ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA512 :
		    GNUTLS_SIGN_UNKNOWN;
	case GNUTLS_PK_ECDSA:
		return pss ? GNUTLS_SIGN_UNKNOWN : gnutls_pk_to_sign(GNUTLS_PK_ECDSA, d);
	default:
		return GNUTLS_SIGN_UNKNOWN;
	}
}

/* Signs once and checks the signature with the key's public half. 0, or -1 with w->err. */
static int
probe(struct worker *w, gnutls_privkey_t key, gnutls_sign_algorithm_t algo)
{
	gnutls_datum_t data = { (unsigned char *)(uintptr_t)message, sizeof(message) };
	gnutls_datum_t sig = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	int rc, ret = -1;

	if ((rc = gnutls_privkey_sign_data2(key, algo, 0, &data, &sig)) < 0) {
		snprintf(w->err, sizeof(w->err), "first signature: %s", gnutls_strerror(rc));
		goto out;
	}
	if ((rc = gnutls_pubkey_init(&pub)) < 0 ||
	    (rc = gnutls_pubkey_import_privkey(pub, key, 0, 0)) < 0) {
		snprintf(w->err, sizeof(w->err), "public key: %s", gnutls_strerror(rc));
		goto out;
	}
	if (w->pk == GNUTLS_PK_ECDSA) {
		gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;

		(void)gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL, 0);
		snprintf(w->key, sizeof(w->key), "ECDSA-%s",
		    curve != GNUTLS_ECC_CURVE_INVALID ? gnutls_ecc_curve_get_name(curve) : "?");
	} else
		snprintf(w->key, sizeof(w->key), "%s-%u", gnutls_pk_get_name(w->pk), w->bits);
	if ((rc = gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sig)) < 0) {
		snprintf(w->err, sizeof(w->err), "the first signature does not verify: %s",
		    gnutls_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	gnutls_free(sig.data);
	gnutls_pubkey_deinit(pub);
	return ret;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	gnutls_datum_t data = { (unsigned char *)(uintptr_t)message, sizeof(message) };
	gnutls_sign_algorithm_t algo = GNUTLS_SIGN_UNKNOWN;
	gnutls_privkey_t key = NULL;
	int rc;

	if ((rc = gnutls_privkey_init(&key)) < 0 ||
	    (rc = gnutls_privkey_import_url(key, b->uri, 0)) < 0) {
		snprintf(w->err, sizeof(w->err), "cannot open key %s: %s", b->uri,
		    gnutls_strerror(rc));
		w->failed = 1;
	} else {
		w->pk = (gnutls_pk_algorithm_t)gnutls_privkey_get_pk_algorithm(key, &w->bits);
		algo = sign_algorithm(w->pk, b->digest, b->pss);
		if (algo == GNUTLS_SIGN_UNKNOWN) {
			snprintf(w->err, sizeof(w->err), "no signature algorithm for %s with %s%s",
			    gnutls_pk_get_name(w->pk), b->digest->name, b->pss ? " (PSS)" : "");
			w->failed = 1;
		} else if (probe(w, key, algo) == -1)
			w->failed = 1;
	}
	/* Everybody waits here, failed or not, so the main thread can time one start. */
	pthread_barrier_wait(&b->ready);
	while (!w->failed && !b->stop) {
		gnutls_datum_t sig = { NULL, 0 };

		if ((rc = gnutls_privkey_sign_data2(key, algo, 0, &data, &sig)) < 0) {
			snprintf(w->err, sizeof(w->err), "signature %lu: %s", w->count + 1,
			    gnutls_strerror(rc));
			w->failed = 1;
			break;
		}
		gnutls_free(sig.data);
		w->count++;
	}
	if (key != NULL)
		gnutls_privkey_deinit(key);
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tsa-bench-sign --conf TSA_CONF --uri PKCS11_URI [--threads N] "
	    "[--seconds S] [--scheme auto|rsa-pss] [--digest sha256]\n");
	exit(1);
}

/* A positive number no larger than max, or usage(). */
static double
number(const char *s, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > max)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conf",	required_argument, NULL, 'c' },
		{ "uri",	required_argument, NULL, 'u' },
		{ "threads",	required_argument, NULL, 't' },
		{ "seconds",	required_argument, NULL, 's' },
		{ "scheme",	required_argument, NULL, 'S' },
		{ "digest",	required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_arg = NULL, *scheme = "auto", *digest = "sha256";
	struct tsa_conf conf;
	struct bench b;
	struct worker *w = NULL;
	unsigned long total = 0;
	double start, elapsed;
	struct rusage ru0, ru1;
	char err[512];
	int nthreads = 2, ch, i, started = 0, ret = 1;

	log_init("tsa-bench-sign");
	memset(&b, 0, sizeof(b));
	b.seconds = 5;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_arg = optarg; break;
		case 'u': b.uri = optarg; break;
		case 't': nthreads = (int)number(optarg, MAX_THREADS); break;
		case 's': b.seconds = number(optarg, MAX_SECONDS); break;
		case 'S': scheme = optarg; break;
		case 'd': digest = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || b.uri == NULL)
		usage();
	if (strcmp(scheme, "auto") != 0 && strcmp(scheme, "rsa-pss") != 0)
		usage();
	b.pss = strcmp(scheme, "rsa-pss") == 0;
	if ((b.digest = hash_by_name(digest)) == NULL) {
		fprintf(stderr, "tsa-bench-sign: unknown digest '%s'\n", digest);
		return 1;
	}

	err[0] = '\0';
	if (conf_load(conf_path(conf_arg), &conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "tsa-bench-sign: %s\n", err);
		return 1;
	}
	if (pkcs11_setup(&conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "tsa-bench-sign: %s\n", err);
		conf_free(&conf);
		return 1;
	}
	if ((w = calloc((size_t)nthreads, sizeof(*w))) == NULL ||
	    pthread_barrier_init(&b.ready, NULL, (unsigned)nthreads + 1) != 0) {
		fprintf(stderr, "tsa-bench-sign: out of memory\n");
		free(w);
		goto teardown;
	}
	for (i = 0; i < nthreads; i++) {
		w[i].b = &b;
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0) {
			/* The barrier counts nthreads + 1: a thread that never started would leave
			 * the others waiting for ever. */
			fprintf(stderr, "tsa-bench-sign: cannot start thread %d\n", i);
			abort();
		}
		started++;
	}
	pthread_barrier_wait(&b.ready);
	start = now();
	getrusage(RUSAGE_SELF, &ru0);
	for (;;) {
		struct timespec nap = { 0, 20 * 1000 * 1000 };
		int alive = 0;

		for (i = 0; i < nthreads; i++)
			alive += !w[i].failed;
		if (alive == 0 || now() - start >= b.seconds)
			break;
		nanosleep(&nap, NULL);
	}
	b.stop = 1;
	elapsed = now() - start;
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	pthread_barrier_destroy(&b.ready);
	getrusage(RUSAGE_SELF, &ru1);

	ret = 0;
	for (i = 0; i < nthreads; i++) {
		if (w[i].failed) {
			fprintf(stderr, "tsa-bench-sign: thread %d: %s\n", i, w[i].err);
			ret = 1;
		}
		total += w[i].count;
	}
	if (ret == 0)
		printf("raw_sign_per_sec=%.0f threads=%d key=%s scheme=%s digest=%s "
		    "signatures=%lu seconds=%.2f cpu_ms_per_sig=%.3f user_ms_per_sig=%.3f\n",
		    (double)total / elapsed, nthreads, w[0].key, scheme, b.digest->name, total,
		    elapsed, total == 0 ? 0.0 : (ms(ru1.ru_utime) + ms(ru1.ru_stime) -
		    ms(ru0.ru_utime) - ms(ru0.ru_stime)) / (double)total,
		    total == 0 ? 0.0 : (ms(ru1.ru_utime) - ms(ru0.ru_utime)) / (double)total);
	free(w);
teardown:
	pkcs11_teardown();
	conf_free(&conf);
	return ret;
}
