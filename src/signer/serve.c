/*
 * serve.c - a signing process of tsa-signer: it holds the PKCS#11 module, the PIN and the
 * sessions, and serves the orders of many worker connections (see order.h for what a worker
 * may ask).
 * Input: orders from workers, untrusted: decoded strictly (order.c), then checked against
 * this process's own configuration.  The token's time is read here and the clock gate is
 * applied here; its serial, options and unit come from this process's configuration.
 *
 * Service goes in rounds: one poll, then at most one whole order from each connection (so a
 * connection that floods is served in turn with the others), every token of the round
 * signed, all their rows recorded in one transaction (group commit: one commit and one WAL
 * flush for the round), and only then the answers.  A round whose busy connections (those
 * that sent an order within SIGNER_BUSY_US) have not all sent their next order yet waits for
 * them up to batch_wait microseconds (gather): the workers of a busy host then share one
 * commit instead of splitting into rounds of one or two.  Nothing waits on one peer: reads take
 * what is there (a frame begun must be whole within SIGNER_ORDER_TIMEOUT_MS, or its
 * connection ends), and an answer the peer does not take at once ends its connection.
 */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "asn1.h"
#include "authenticode.h"
#include "log.h"
#include "logkey.h"
#include "order.h"
#include "policy.h"
#include "signer.h"
#include "signerd.h"
#include "store.h"
#include "tlog.h"
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
	struct db		 db;
	struct config_follower	 cf;
	struct logkey		 logkey;	/* the token log's key (logkey.h) */
	uid_t			 log_uid;	/* tsa-log's user; (uid_t)-1: none */
};

/* A worker's connection, and the frame being read from it. */
struct conn {
	int		 fd;		/* -1: a free place */
	pid_t		 peer;
	uid_t		 uid;		/* the peer's user (SO_PEERCRED) */
	unsigned char	 hdr[4];
	unsigned char	*body;		/* malloc'd once the length is known */
	size_t		 len;		/* the body's length */
	size_t		 got;		/* bytes of the frame read, the length's included */
	long long	 deadline;	/* ms: the frame begun must be whole by then */
	long long	 last_order_us;	/* when its last whole order came (monotonic µs) */
	int		 in_round;	/* its order is in the round being gathered */
};

/* An order of this round, from its frame to its answer. */
struct slot {
	struct conn		*c;
	unsigned char		*body;		/* the frame; the order points into it */
	size_t			 len;
	struct order		 o;
	struct signer_answer	 a;
	int			 pending;	/* to be signed and recorded */
	const struct policy	*pol;
	struct tsa_opts		 opts;
	unsigned char		 serial[TSA_SERIAL_MAX];
	struct token_job	 job;
	struct token_record	 rec;
	unsigned char		*token;
	size_t			 token_len;
};

static struct conn conns[SIGNER_MAX_CONNECTIONS];
static struct slot slots[SIGNER_MAX_CONNECTIONS];

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

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long
now_ms(void)
{
	return now_us() / 1000;
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
 * The checks of an order to sign: the policy must be in this process's configuration, under
 * the service named, and receive this protocol and requested policy; its options are this
 * process's copy; the request checks and the clock gate run here again.  0 with the slot
 * ready to sign (its row's fields set), or -1 with a refused.
 */
static int
admit_order(struct signer_proc *sp, struct slot *s)
{
	const struct order *o = &s->o;
	const struct tsa_request *req = &o->req;
	struct signer_answer *a = &s->a;
	const struct service *svc = NULL;
	const struct policy *pol;
	struct tsa_refusal ref;
	const char *why;

	if (sp->cf.config == NULL) {
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
	if (policy_apply(pol, req, NULL, &s->opts, &ref) == -1) {
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
	s->pol = pol;
	s->job = (struct token_job){
		.req = req, .opts = &s->opts, .signer = pol->signer,
		/* A requested policy that passed the checks is the one the token states. */
		.policy_oid = req->has_req_policy ? req->req_policy :
		    s->opts.policy_default != NULL ? s->opts.policy_default : pol->policy_oid,
		.serial = s->serial, .serial_len = s->opts.serial_bytes,
	};
	s->rec = (struct token_record){
		.serial = s->serial, .serial_len = s->opts.serial_bytes,
		.service_id = svc->id, .policy_id = pol->id, .service = svc->name,
		.policy_oid = s->job.policy_oid, .protocol = tsa_protocol_name(req->protocol),
		.hash_alg = req->hash->name, .imprint = req->imprint,
		.imprint_len = req->imprint_len,
		.nonce = req->has_nonce ? req->nonce : NULL, .nonce_len = req->nonce_len,
		.requester = o->requester[0] != '\0' ? o->requester : NULL,
		.client_identity = o->client_identity[0] != '\0' ? o->client_identity : NULL,
		.request = s->opts.archive == ARCHIVE_REQUEST ? o->request : NULL,
		.request_len = s->opts.archive == ARCHIVE_REQUEST ? o->request_len : 0,
		.signer = pol->signer->name, .host = sp->conf->host,
	};
	s->pending = 1;
	return 0;
}

/* Reads the clock, draws a serial, builds and signs the slot's token.  0, or -1 with a
 * refused (the slot is no longer pending). */
static int
sign_slot(struct slot *s)
{
	const struct tsa_request *req = &s->o.req;
	int rc = -1;

	token_time(&s->job.gen_time, s->opts.digits);
	if (serial_generate(s->serial, s->opts.serial_bytes) == 0) {
		rc = token_builders[req->protocol](&s->job, &s->token, &s->token_len);
		s->a.sign_failed = rc == -1;
		s->pol->signer->last_failed = rc == -1;
	}
	if (rc == -1) {
		s->pending = 0;
		refuse(&s->a, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot issue a token now",
		    "token construction or signature failed");
		return -1;
	}
	s->rec.gen_time = s->job.gen_time;
	s->rec.token = s->opts.archive != ARCHIVE_INDEX ? s->token : NULL;
	s->rec.token_len = s->opts.archive != ARCHIVE_INDEX ? s->token_len : 0;
	s->rec.issued = s->token;
	s->rec.issued_len = s->token_len;
	return 0;
}

/*
 * Signs the round's pending tokens and records them in one transaction; a token is granted
 * only once its row committed.  A serial that collides fails only its row: that token is
 * signed anew (a new serial, a new time) and recorded with the next attempt.  A failed
 * transaction refuses every token in it.
 */
static void
issue_round(struct signer_proc *sp, struct slot *s, size_t n)
{
	static struct token_record rec[SIGNER_MAX_CONNECTIONS];
	static struct slot *in[SIGNER_MAX_CONNECTIONS];
	static int exists[SIGNER_MAX_CONNECTIONS];
	size_t i, k;
	int attempt, rc;

	for (attempt = 0; attempt < TSA_SERIAL_RETRIES; attempt++) {
		for (i = k = 0; i < n; i++)
			if (s[i].pending && sign_slot(&s[i]) == 0) {
				in[k] = &s[i];
				rec[k++] = s[i].rec;
			}
		if (k == 0)
			return;
		if ((rc = tokens_record_batch(&sp->db, rec, k, exists)) != 0) {
			for (i = 0; i < k; i++) {
				in[i]->pending = 0;
				refuse(&in[i]->a, TSA_FAIL_SYSTEM_FAILURE,
				    "the token cannot be recorded now", rc == -2 ?
				    "database: commit outcome unknown (no answer within "
				    "database_timeout, or its wait for the standby cancelled): "
				    "token not answered" :
				    "database unavailable: token not recorded, not answered");
			}
			return;
		}
		for (i = 0; i < k; i++) {
			if (exists[i]) {
				log_msg(LOG_WARNING, "serial collision, retrying with a new serial");
				free(in[i]->token);
				in[i]->token = NULL;
				continue;
			}
			in[i]->pending = 0;
			in[i]->a.type = ANSWER_GRANTED;
			in[i]->a.token = in[i]->token;
			in[i]->a.token_len = in[i]->token_len;
		}
	}
	for (i = 0; i < n; i++)
		if (s[i].pending) {
			s[i].pending = 0;
			refuse(&s[i].a, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot issue a token now",
			    "no free serial found in %d attempts", TSA_SERIAL_RETRIES);
		}
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
	if (sp->cf.config == NULL)
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

static void
conn_close(struct conn *c)
{
	close(c->fd);
	free(c->body);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
conn_drop(struct conn *c, const char *why)
{
	log_msg(LOG_WARNING, "connection from pid %d dropped: %s", (int)c->peer, why);
	conn_close(c);
}

/*
 * Reads what the connection has of its frame, never waiting.  1 when the frame is whole
 * (c->body, c->len), 0 when more is to come, -1 when the connection ended (closed, logged
 * unless it was a clean end between frames).
 */
static int
conn_read(struct conn *c)
{
	for (;;) {
		unsigned char *dst;
		size_t want;
		ssize_t r;

		if (c->got < sizeof(c->hdr)) {
			dst = c->hdr + c->got;
			want = sizeof(c->hdr) - c->got;
		} else {
			dst = c->body + (c->got - sizeof(c->hdr));
			want = c->len - (c->got - sizeof(c->hdr));
		}
		r = recv(c->fd, dst, want, MSG_DONTWAIT);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0) {
			if (r == 0 && c->got == 0)
				conn_close(c);
			else
				conn_drop(c, r == 0 ? strerror(ECONNRESET) : strerror(errno));
			return -1;
		}
		if (c->got == 0)
			c->deadline = now_ms() + SIGNER_ORDER_TIMEOUT_MS;
		c->got += (size_t)r;
		if (c->got == sizeof(c->hdr)) {
			c->len = (size_t)c->hdr[0] << 24 | (size_t)c->hdr[1] << 16 |
			    (size_t)c->hdr[2] << 8 | c->hdr[3];
			/* The bound is ours, never only what the peer says. */
			if (c->len == 0 || c->len > ORDER_MAX_FRAME) {
				conn_drop(c, "frame length out of bounds");
				return -1;
			}
			if ((c->body = malloc(c->len)) == NULL) {
				conn_drop(c, "out of memory");
				return -1;
			}
		}
		if (c->got == sizeof(c->hdr) + c->len)
			return 1;
	}
}

/* Whether this process holds no more connections than any sibling: only those accept. */
static int
least_loaded(const struct signer_pool *pool, size_t me, size_t held)
{
	size_t i;

	for (i = 0; i < pool->n; i++)
		if (i != me && __atomic_load_n(&pool->conns[i], __ATOMIC_RELAXED) < held)
			return 0;
	return 1;
}

/* Takes one connection waiting on lfd, within this process's bounds (one at a time, so that
 * the next goes to whichever process is then the least loaded). */
static void
accept_conn(int lfd)
{
	struct ucred cred;
	socklen_t clen;
	size_t i, free_at, same;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) != -1) {
		clen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1) {
			close(fd);
			return;
		}
		free_at = SIGNER_MAX_CONNECTIONS;
		for (i = same = 0; i < SIGNER_MAX_CONNECTIONS; i++) {
			if (conns[i].fd < 0 && free_at == SIGNER_MAX_CONNECTIONS)
				free_at = i;
			same += conns[i].fd >= 0 && conns[i].peer == cred.pid;
		}
		if (free_at == SIGNER_MAX_CONNECTIONS || same >= SIGNER_MAX_PER_PEER) {
			log_msg(LOG_WARNING, "connection from pid %d uid %d refused: %s",
			    (int)cred.pid, (int)cred.uid, free_at == SIGNER_MAX_CONNECTIONS ?
			    "too many connections" : "too many connections from that process");
			close(fd);
			return;
		}
		conns[free_at].fd = fd;
		conns[free_at].peer = cred.pid;
		conns[free_at].uid = cred.uid;
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		log_msg(LOG_ERR, "accept: %s", strerror(errno));
}

/*
 * The token log's tree head, signed with the log key: ordered by tsa-log only (its user, by
 * the kernel's word: SO_PEERCRED), since this process cannot check the size and root it is
 * given.  The time is this process's clock, like a token's.
 */
static void
tree_head_order(struct signer_proc *sp, struct slot *s)
{
	unsigned char tbs[TLOG_HEAD_TBS_LEN];
	gnutls_datum_t sig = { NULL, 0 };
	struct timespec now;
	char err[256] = "the signature is too long, or out of memory";

	if (sp->log_uid == (uid_t)-1 || s->c->uid != sp->log_uid) {
		log_msg(LOG_WARNING, "tree head ordered by pid %d uid %d refused: only the log's"
		    " integrator (tsa.conf log_user) may", (int)s->c->peer, (int)s->c->uid);
		refuse(&s->a, TSA_FAIL_SYSTEM_FAILURE, "not allowed",
		    "tree heads are ordered by the log's integrator only");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	s->a.timestamp = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	tlog_head_tbs(s->a.timestamp, s->o.tree_size, s->o.root, tbs);
	if (logkey_sign(&sp->logkey, tbs, sizeof(tbs), &sig, err, sizeof(err)) == -1 ||
	    sig.size > ORDER_MAX_SIGNATURE || (s->token = malloc(sig.size)) == NULL) {
		log_msg(LOG_ERR, "tree head of size %llu not signed: %s",
		    (unsigned long long)s->o.tree_size, err);
		gnutls_free(sig.data);
		refuse(&s->a, TSA_FAIL_SYSTEM_FAILURE, "the log key cannot sign now", "%s", err);
		return;
	}
	memcpy(s->token, sig.data, sig.size);
	gnutls_free(sig.data);
	s->a.type = ANSWER_TREE_HEAD;
	snprintf(s->a.key_id, sizeof(s->a.key_id), "%s", sp->logkey.id);
	s->a.signature = s->token;
	s->a.signature_len = sig.size;
}

/* Sends the slot's answer; a peer that does not take it at once loses its connection. */
static void
answer_slot(struct slot *s)
{
	unsigned char *out = NULL;
	size_t out_len;

	if (answer_encode(&s->a, &out, &out_len) == -1) {
		log_msg(LOG_ERR, "cannot encode the answer");
		conn_close(s->c);
		return;
	}
	if (frame_write(s->c->fd, out, out_len, 0) == -1) {
		log_msg(LOG_WARNING, "answer to pid %d not delivered: %s%s", (int)s->c->peer,
		    strerror(errno), s->a.type == ANSWER_GRANTED ? " (its token is recorded)" :
		    "");
		conn_close(s->c);
	}
	free(out);
}

/* One round: the whole orders read, each decoded and checked, the tokens signed and
 * recorded together, then every answer. */
static void
serve_round(struct signer_proc *sp, size_t n)
{
	long long newest = -1;
	const char *why;
	size_t i;

	for (i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		memset(&s->a, 0, offsetof(struct signer_answer, units));
		s->pending = 0;
		s->token = NULL;
		if (order_decode(s->body, s->len, &s->o, &why) == -1) {
			log_msg(LOG_WARNING, "malformed order from pid %d refused: %s",
			    (int)s->c->peer, why);
			refuse(&s->a, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot issue a token now",
			    "malformed order: %s", why);
			s->o.type = 0;
		} else if (s->o.type == ORDER_SIGN && s->o.config_version > newest)
			newest = s->o.config_version;
	}
	/* An order from a newer configuration than ours: load it now, before any policy of
	 * this round is looked up (a load replaces them). */
	if (newest >= 0 && (sp->cf.config == NULL || newest > sp->cf.config->version)) {
		/* None held yet (the database was down at start): a primary awaited as a batch
		 * of tokens would await it (database_wait). */
		if (sp->cf.config == NULL)
			(void)db_conn_wait(&sp->db, pgb_now_ms() + sp->db.wait_ms);
		(void)config_follow(&sp->db, &sp->cf, 1);
	}
	for (i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		if (s->o.type == ORDER_STATUS)
			status_order(sp, &s->o, &s->a);
		else if (s->o.type == ORDER_TREE_HEAD)
			tree_head_order(sp, s);
		else if (s->o.type == ORDER_SIGN && admit_order(sp, s) == -1)
			log_msg(LOG_INFO, "order from pid %d refused: %s", (int)s->c->peer,
			    s->a.detail);
	}
	issue_round(sp, slots, n);
	for (i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		answer_slot(s);
		free(s->token);
		free(s->body);
		s->token = NULL;
		s->body = NULL;
		s->pol = NULL;
	}
}

/* Connection c's whole order becomes the round's n-th slot. */
static void
take(struct conn *c, size_t n, long long now)
{
	slots[n].c = c;
	slots[n].body = c->body;
	slots[n].len = c->len;
	c->body = NULL;
	c->got = 0;
	c->last_order_us = now;
	c->in_round = 1;
}

/*
 * Group commit across the workers: the round holds n orders; connections that were busy a
 * moment ago (an order within SIGNER_BUSY_US) and have sent none yet are waited for, up to
 * wait_us in all, so that their tokens share the round's commit.  A host at rest never
 * waits (no connection is busy but the ones already in), and a worker that stays silent
 * costs the round at most wait_us.  Returns the round's orders.
 */
static size_t
gather(size_t n, long long wait_us)
{
	long long start = now_us(), now = start;
	struct pollfd q[SIGNER_MAX_CONNECTIONS];
	struct conn *qc[SIGNER_MAX_CONNECTIONS];
	struct timespec ts;
	size_t i, nq;

	while (now - start < wait_us) {
		for (i = nq = 0; i < SIGNER_MAX_CONNECTIONS; i++)
			if (conns[i].fd >= 0 && !conns[i].in_round &&
			    now - conns[i].last_order_us < SIGNER_BUSY_US) {
				q[nq] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
				qc[nq++] = &conns[i];
			}
		if (nq == 0)
			break;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(wait_us - (now - start)) * 1000;
		if (ppoll(q, nq, &ts, NULL) <= 0)
			break;
		now = now_us();
		for (i = 0; i < nq; i++)
			if (q[i].revents != 0 && conn_read(qc[i]) == 1)
				take(qc[i], n++, now);
	}
	return n;
}

static void
on_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int
signer_serve(int lfd, const struct tsa_conf *conf, struct signer_pool *pool, size_t me)
{
	static struct signer_proc sp;
	static struct pollfd p[SIGNER_MAX_CONNECTIONS + 2];
	static struct conn *at[SIGNER_MAX_CONNECTIONS + 2];
	sigset_t term;
	time_t checked = 0;
	char err[512];
	size_t i;

	on_signals();
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	for (i = 0; i < SIGNER_MAX_CONNECTIONS; i++)
		conns[i].fd = -1;
	sp.conf = conf;
	sp.cf.open_keys = 1;
	sp.cf.host = conf->host;
	sp.logkey.uri = conf->log_key;
	sp.log_uid = (uid_t)-1;
	if (conf->log_user != NULL) {
		const struct passwd *pw = getpwnam(conf->log_user);

		if (pw == NULL) {
			log_msg(LOG_ERR, "tsa.conf log_user: no user %s", conf->log_user);
			return 78;
		}
		sp.log_uid = pw->pw_uid;
	}
	if (tsa_asn1_init() == -1)
		return 70;
	if (pkcs11_setup(conf, err, sizeof(err)) == -1) {
		log_msg(LOG_ERR, "PKCS#11: %s", err);
		return 78;
	}
	/* No DB_SERVER_TIMEOUT: the server must never cancel a commit of tokens (tokens.c). */
	if (db_init(&sp.db, conf->signer_database != NULL ? conf->signer_database :
	    conf->database, conf->database_timeout * 1000, conf->database_wait * 1000, 0) == -1)
		return 70;
	if (config_follow(&sp.db, &sp.cf, 1) == -1)
		log_msg(LOG_WARNING, "configuration not loaded yet");
	while (!stopping) {
		long long now, wait = 1000;
		size_t np = 0, nconn = 0, n = 0;
		int ready, lready = 0, dbready = 0;

		now = now_ms();
		for (i = 0; i < SIGNER_MAX_CONNECTIONS; i++) {
			if (conns[i].fd < 0)
				continue;
			nconn++;
			if (conns[i].got > 0 && conns[i].deadline - now < wait)
				wait = conns[i].deadline - now < 0 ? 0 : conns[i].deadline - now;
			p[np] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
			at[np++] = &conns[i];
		}
		__atomic_store_n(&pool->conns[me], (unsigned)nconn, __ATOMIC_RELAXED);
		/* Only the least loaded accept; a full process takes no more (they wait for a
		 * sibling, or in the backlog). */
		if (nconn < SIGNER_MAX_CONNECTIONS && least_loaded(pool, me, nconn)) {
			p[np] = (struct pollfd){ lfd, POLLIN, 0 };
			at[np++] = NULL;
			lready = 1;
		}
		if (sp.db.conn != NULL) {
			p[np] = (struct pollfd){ PQsocket(sp.db.conn), POLLIN, 0 };
			at[np++] = NULL;
			dbready = 1;
		}
		ready = poll(p, np, (int)wait);
		if (ready == -1 && errno != EINTR)
			break;
		if (ready == -1)
			continue;
		/* A notification, or a second gone by: the configuration may have changed, and a
		 * key idle for long gets its keep-alive signature (signer.c). */
		if (ready == 0 || (dbready && p[np - 1].revents != 0) || time(NULL) != checked) {
			(void)config_follow(&sp.db, &sp.cf, 0);
			checked = time(NULL);
			signer_keepalive(checked, conf->pkcs11_keepalive);
		}
		if (lready && p[np - 1 - dbready].revents != 0)
			accept_conn(lfd);
		/* From an order's first byte to its answer, SIGTERM waits. */
		sigprocmask(SIG_BLOCK, &term, NULL);
		for (i = 0; i < np; i++) {
			struct conn *c = at[i];

			if (c == NULL || p[i].revents == 0 || conn_read(c) != 1)
				continue;
			take(c, n++, now_us());
		}
		if (n > 0 && conf->batch_wait > 0)
			n = gather(n, conf->batch_wait);
		now = now_ms();
		for (i = 0; i < SIGNER_MAX_CONNECTIONS; i++)
			if (conns[i].fd >= 0 && conns[i].got > 0 && now >= conns[i].deadline)
				conn_drop(&conns[i], strerror(ETIMEDOUT));
		if (n > 0)
			serve_round(&sp, n);
		for (i = 0; i < n; i++)
			slots[i].c->in_round = 0;
		sigprocmask(SIG_UNBLOCK, &term, NULL);
	}
	for (i = 0; i < SIGNER_MAX_CONNECTIONS; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
	config_free(sp.cf.config);
	db_close(&sp.db);
	logkey_close(&sp.logkey);
	pkcs11_teardown();
	return 0;
}
