/*
 * serve.c - one connection's orders in tsa-signer: the process that holds the PKCS#11 module,
 * the PIN and the sessions (see order.h for what a worker may ask).
 * Input: orders from a worker, untrusted: decoded strictly (order.c), then checked against
 * this process's own configuration.  The token's time is read here and the clock gate is
 * applied here; its serial, options and unit come from this process's configuration; it is
 * signed and its row committed before the token is answered, so no token leaves unrecorded.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asn1.h"
#include "authenticode.h"
#include "log.h"
#include "order.h"
#include "policy.h"
#include "signer.h"
#include "signerd.h"
#include "store.h"
#include "token.h"
#include "tst.h"
#include "xmltoken.h"

/* Each protocol's token, in the order of enum tsa_protocol. */
static int (*const token_builders[])(const struct token_job *, unsigned char **, size_t *) = {
	rfc3161_token,		/* TSA_PROTO_RFC3161 */
	soap_token,		/* TSA_PROTO_SOAP */
	authenticode_token,	/* TSA_PROTO_AUTHENTICODE */
};

struct signer_proc {
	const struct tsa_conf	*conf;
	pid_t			 peer;
	struct db		 db;
	struct config_follower	 cf;
};

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void __attribute__((format(printf, 4, 5)))
refuse(struct signer_answer *a, enum tsa_fail fail, const char *text, const char *fmt, ...)
{
	va_list ap;

	a->type = ANSWER_REFUSED;
	a->fail = fail;
	snprintf(a->text, sizeof(a->text), "%s", text);
	va_start(ap, fmt);
	vsnprintf(a->detail, sizeof(a->detail), fmt, ap);
	va_end(ap);
}

static const struct policy *
find_policy(const struct tsa_config *cfg, long long service_id, long long policy_id,
    const struct service **svc)
{
	size_t i, j;

	for (i = 0; i < cfg->n_services; i++) {
		if (cfg->services[i].id != service_id)
			continue;
		for (j = 0; j < cfg->services[i].n_policies; j++)
			if (cfg->services[i].policies[j].id == policy_id) {
				*svc = &cfg->services[i];
				return &cfg->services[i].policies[j];
			}
	}
	return NULL;
}

/* The current time truncated to the token's precision, so the row and the token agree. */
static void
token_time(struct timespec *t, int digits)
{
	long div = 1000000000L;
	int i;

	clock_gettime(CLOCK_REALTIME, t);
	for (i = 0; i < digits; i++)
		div /= 10;
	t->tv_nsec -= t->tv_nsec % div;
}

/*
 * Builds, signs and records one token; the row is committed before this returns 0 with the
 * token in *out.  A serial collision is retried with a new serial (and a new time); a
 * database failure refuses the order and the token is dropped.
 */
static int
issue(struct signer_proc *sp, const struct order *o, const struct service *svc,
    const struct policy *pol, const struct tsa_opts *opts, struct signer_answer *a,
    unsigned char **out, size_t *outlen)
{
	const struct tsa_request *req = &o->req;
	unsigned char serial[TSA_SERIAL_MAX], *token = NULL;
	struct token_job job = {
		.req = req, .opts = opts, .signer = pol->signer,
		/* A requested policy that passed the checks is the one the token states. */
		.policy_oid = req->has_req_policy ? req->req_policy :
		    opts->policy_default != NULL ? opts->policy_default : pol->policy_oid,
		.serial = serial, .serial_len = opts->serial_bytes,
	};
	struct token_record rec = {
		.serial = serial, .serial_len = opts->serial_bytes,
		.service_id = svc->id, .policy_id = pol->id, .service = svc->name,
		.policy_oid = job.policy_oid, .protocol = tsa_protocol_name(req->protocol),
		.hash_alg = req->hash->name, .imprint = req->imprint,
		.imprint_len = req->imprint_len,
		.nonce = req->has_nonce ? req->nonce : NULL, .nonce_len = req->nonce_len,
		.requester = o->requester[0] != '\0' ? o->requester : NULL,
		.client_identity = o->client_identity[0] != '\0' ? o->client_identity : NULL,
		.request = opts->archive == ARCHIVE_REQUEST ? o->request : NULL,
		.request_len = opts->archive == ARCHIVE_REQUEST ? o->request_len : 0,
	};
	size_t token_len;
	int attempt, rc;

	for (attempt = 0; attempt < TSA_SERIAL_RETRIES; attempt++) {
		token_time(&job.gen_time, opts->digits);
		if (serial_generate(serial, opts->serial_bytes) == -1)
			break;
		if (token_builders[req->protocol](&job, &token, &token_len) == -1) {
			a->sign_failed = 1;
			pol->signer->last_failed = 1;
			break;
		}
		pol->signer->last_failed = 0;
		rec.gen_time = job.gen_time;
		if (opts->archive != ARCHIVE_INDEX) {
			rec.token = token;
			rec.token_len = token_len;
		}
		if ((rc = tokens_record(&sp->db, &rec)) == 0) {
			*out = token;
			*outlen = token_len;
			return 0;
		}
		free(token);
		token = NULL;
		if (rc == -1) {
			refuse(a, TSA_FAIL_SYSTEM_FAILURE, "the token cannot be recorded now",
			    "database unavailable: token not recorded, not answered");
			return -1;
		}
		log_msg(LOG_WARNING, "serial collision, retrying with a new serial");
	}
	free(token);
	refuse(a, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot issue a token now",
	    "token construction or signature failed");
	return -1;
}

/*
 * An order to sign: the policy must be in this process's configuration, under the service
 * named, and receive this protocol and requested policy; its options are this process's copy;
 * the request checks and the clock gate run here again.  0 with the recorded token, or -1
 * with a refused.
 */
static int
sign_order(struct signer_proc *sp, const struct order *o, struct signer_answer *a,
    unsigned char **token, size_t *token_len)
{
	const struct tsa_request *req = &o->req;
	const struct service *svc = NULL;
	const struct policy *pol;
	struct tsa_opts opts;
	struct tsa_refusal ref;
	const char *why;

	/* The loop follows notifications; an order from a newer configuration is checked now. */
	if ((sp->cf.config == NULL || o->config_version > sp->cf.config->version) &&
	    config_follow(&sp->db, &sp->cf, 1) == -1) {
		refuse(a, TSA_FAIL_SYSTEM_FAILURE, "the TSA is not available now",
		    "the signer holds no configuration (database unreachable?)");
		return -1;
	}
	if ((pol = find_policy(sp->cf.config, o->service_id, o->policy_id, &svc)) == NULL) {
		refuse(a, TSA_FAIL_SYSTEM_FAILURE, o->config_version < sp->cf.config->version ?
		    ORDER_TEXT_STALE : "the TSA cannot issue a token now",
		    "policy %lld of service %lld is not in the signer's configuration "
		    "(version %lld, the order's %lld)", o->policy_id, o->service_id,
		    sp->cf.config->version, o->config_version);
		return -1;
	}
	snprintf(a->signer, sizeof(a->signer), "%s", pol->signer->name);
	if (pol->refused != NULL) {
		refuse(a, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot issue a token now",
		    "policy %s/%s refused: %s", svc->name, pol->name, pol->refused);
		return -1;
	}
	if ((pol->match_protocol != -1 && pol->match_protocol != (int)req->protocol) ||
	    (pol->match_req_policy != NULL && (!req->has_req_policy ||
	    strcmp(pol->match_req_policy, req->req_policy) != 0))) {
		refuse(a, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot issue a token now",
		    "policy %s/%s does not receive this %s request", svc->name, pol->name,
		    tsa_protocol_name(req->protocol));
		return -1;
	}
	if ((why = tsa_request_mismatch(req)) != NULL) {
		refuse(a, TSA_FAIL_BAD_REQUEST, "request not accepted", "inconsistent order: %s",
		    why);
		return -1;
	}
	/* The client's filters were the worker's to run (it alone sees the client). */
	if (policy_apply(pol, req, NULL, &opts, &ref) == -1) {
		a->type = ANSWER_REFUSED;
		a->fail = ref.fail;
		snprintf(a->text, sizeof(a->text), "%s", ref.text);
		snprintf(a->detail, sizeof(a->detail), "%s", ref.detail);
		return -1;
	}
	if (signer_ensure_key(pol->signer) == -1) {
		refuse(a, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot sign now",
		    "signer %s refused: %s", pol->signer->name, signer_why(pol->signer));
		return -1;
	}
	if (issue(sp, o, svc, pol, &opts, a, token, token_len) == -1)
		return -1;
	a->type = ANSWER_GRANTED;
	a->token = *token;
	a->token_len = *token_len;
	return 0;
}

/* The state of each unit the configuration uses, as this process holds it. */
static void
status_order(struct signer_proc *sp, const struct order *o, struct signer_answer *a)
{
	static time_t last_test;
	const struct tsa_config *cfg;
	time_t now = time(NULL);
	size_t i;

	a->type = ANSWER_STATUS;
	if (config_follow(&sp->db, &sp->cf, 0) == -1)
		return;		/* no unit known: none reported */
	cfg = sp->cf.config;
	for (i = 0; i < cfg->n_signers && a->n_units < ORDER_MAX_UNITS; i++) {
		struct signer *s = &cfg->signers[i];
		struct unit_status *u = &a->units[a->n_units];
		char err[200];

		if (!s->used)
			continue;
		a->n_units++;
		u->id = s->id;
		snprintf(u->name, sizeof(u->name), "%s", s->name);
		if (signer_ensure_key(s) == -1) {
			u->state = signer_state(s);
			snprintf(u->reason, sizeof(u->reason), "%s", signer_why(s));
		} else if (s->cert != NULL && signer_check_cert(s->cert, now, err,
		    sizeof(err)) == -1) {
			u->state = UNIT_REFUSED;
			snprintf(u->reason, sizeof(u->reason), "certificate: %s", err);
		} else if (!s->last_failed) {
			u->state = UNIT_USABLE;
		} else if (!o->test_sign || last_test == now) {
			u->state = UNIT_RETRYING;
			snprintf(u->reason, sizeof(u->reason), "its last signature failed");
		} else {
			static const unsigned char probe[] = "tsa-signer health";
			gnutls_datum_t sig = { NULL, 0 };

			last_test = now;
			if (signer_sign(s, probe, sizeof(probe) - 1, &sig) == 0) {
				u->state = UNIT_USABLE;
				s->last_failed = 0;
			} else {
				u->state = UNIT_RETRYING;
				snprintf(u->reason, sizeof(u->reason),
				    "its last signature failed, and a test signature too");
			}
			gnutls_free(sig.data);
		}
	}
}

/* Answers one frame's order; -1 when the answer could not be sent (the connection ends). */
static int
answer_order(struct signer_proc *sp, int conn, const unsigned char *body, size_t len)
{
	static struct signer_answer a;
	struct order o;
	unsigned char *token = NULL, *out = NULL;
	size_t token_len = 0, out_len;
	const char *why;
	int rc;

	memset(&a, 0, offsetof(struct signer_answer, units));	/* filled up to n_units */
	if (order_decode(body, len, &o, &why) == -1) {
		log_msg(LOG_WARNING, "malformed order from pid %d refused: %s", (int)sp->peer, why);
		refuse(&a, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot issue a token now",
		    "malformed order: %s", why);
	} else if (o.type == ORDER_STATUS)
		status_order(sp, &o, &a);
	else if (sign_order(sp, &o, &a, &token, &token_len) == -1)
		log_msg(LOG_INFO, "order from pid %d refused: %s", (int)sp->peer, a.detail);
	if (answer_encode(&a, &out, &out_len) == -1) {
		log_msg(LOG_ERR, "cannot encode the answer");
		free(token);
		return -1;
	}
	rc = frame_write(conn, out, out_len, SIGNER_ORDER_TIMEOUT_MS);
	if (rc == -1)
		log_msg(LOG_WARNING, "answer to pid %d not delivered: %s%s", (int)sp->peer,
		    strerror(errno), token != NULL ? " (its token is recorded)" : "");
	free(out);
	free(token);
	return rc;
}

int
signer_serve(int conn, pid_t peer, const struct tsa_conf *conf)
{
	static struct signer_proc sp;
	sigset_t none, term;
	time_t checked = 0;
	char err[512];
	int rc = 0;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sp.conf = conf;
	sp.peer = peer;
	sp.cf.open_keys = 1;
	if (tsa_asn1_init() == -1)
		return 70;
	if (pkcs11_setup(conf, err, sizeof(err)) == -1) {
		log_msg(LOG_ERR, "PKCS#11: %s", err);
		return 78;
	}
	if (db_init(&sp.db, conf->signer_database != NULL ? conf->signer_database :
	    conf->database) == -1)
		return 70;
	if (config_follow(&sp.db, &sp.cf, 1) == -1)
		log_msg(LOG_WARNING, "configuration not loaded yet");
	while (!stopping) {
		struct pollfd p[2] = { { conn, POLLIN, 0 }, { -1, POLLIN, 0 } };
		unsigned char *body = NULL;
		size_t len;
		int n;

		if (sp.db.conn != NULL)
			p[1].fd = PQsocket(sp.db.conn);
		n = poll(p, 2, 1000);
		if (n == -1 && errno != EINTR)
			break;
		/* A notification, or a second gone by: the configuration may have changed. */
		if (n <= 0 || p[1].revents != 0 || time(NULL) != checked) {
			(void)config_follow(&sp.db, &sp.cf, 0);
			checked = time(NULL);
		}
		if (n <= 0 || (p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
			/* Idle: keep the PKCS#11 sessions alive (signer.c). */
			signer_keepalive(time(NULL), conf->pkcs11_keepalive);
			continue;
		}
		/* From an order's first byte to its answer, SIGTERM waits. */
		sigprocmask(SIG_BLOCK, &term, NULL);
		n = frame_read(conn, &body, &len, ORDER_MAX_FRAME, 0, SIGNER_ORDER_TIMEOUT_MS);
		if (n == 0)
			n = answer_order(&sp, conn, body, len);
		else if (n == -1)
			log_msg(LOG_WARNING, "connection from pid %d dropped: %s", (int)peer,
			    errno == EPROTO ? "frame length out of bounds" : strerror(errno));
		free(body);
		sigprocmask(SIG_UNBLOCK, &term, NULL);
		if (n != 0)
			break;
	}
	config_free(sp.cf.config);
	db_close(&sp.db);
	pkcs11_teardown();
	return rc;
}
