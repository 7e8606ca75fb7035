/*
 * handler.c - the request pipeline of a worker (see handler.h).
 * Input: the FastCGI params and body the web server passed on, untrusted.  Every bad input
 * ends in the protocol's own refusal (a TimeStampResp rejection for RFC 3161) or an HTTP
 * status; a token leaves only after its row is committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asn1.h"
#include "authenticode.h"
#include "clock.h"
#include "detect.h"
#include "handler.h"
#include "invariant.h"
#include "log.h"
#include "metrics.h"
#include "rfc3161.h"
#include "soap.h"
#include "tst.h"
#include "wsdl.h"

/*
 * One entry per protocol, in the order of enum tsa_protocol (detect.c chooses it): its parser
 * and its answer, the one function that answers a token or a refusal in
 * the protocol's own terms (a refusal of kind TSA_REFUSAL_HTTP is answered here, the same for
 * every protocol).  The token itself is the signing process's to build (src/signer/).
 */
struct protocol_def {
	enum tsa_protocol	 proto;
	int			(*parse)(const unsigned char *, size_t, struct tsa_request *,
				    struct tsa_refusal *);
	int			(*answer)(const unsigned char *, size_t, const struct tsa_refusal *,
				    int, struct tsa_answer *);
	/* Refusals have a place in the answer (PKIStatusInfo, StatusInfo): events name them by
	 * failInfo; else (Authenticode) by the HTTP status they are answered with. */
	int			 has_status;
	/* Releases what a parsed request owns; NULL: nothing. */
	void			(*free)(struct tsa_request *);
};

static const struct protocol_def protocols[] = {
	{ TSA_PROTO_RFC3161, rfc3161_parse, rfc3161_answer, 1, NULL },
	{ TSA_PROTO_SOAP, soap_parse, soap_answer, 1, NULL },
	{ TSA_PROTO_AUTHENTICODE, authenticode_parse, authenticode_answer, 0, authenticode_free },
};

/* What one request accumulates on its way through the pipeline, in one place. */
struct request_ctx {
	struct worker			*w;
	const struct http_request	*hr;
	const struct protocol_def	*proto;
	struct tsa_client		 client;	/* hr's, worked out by the policy */
	struct tsa_request		 req;		/* the neutral request, once parsed */
	const struct service		*svc;
	const struct policy		*pol;
	struct tsa_opts			 opts;		/* what the policy's chain decided */
	struct tsa_refusal		 ref;		/* why not, when refused */
	char				 ref_text[ORDER_MAX_TEXT];	/* the signer's */
	const unsigned char		*token;		/* recorded, when granted */
	size_t				 token_len;
	unsigned char			*frame;		/* the signer's answer token points into */
	int				 stale;		/* the signer's configuration is newer */
};

const char *
http_reason(int status)
{
	switch (status) {
	case 200:	return "OK";
	case 400:	return "Bad Request";
	case 403:	return "Forbidden";
	case 404:	return "Not Found";
	case 405:	return "Method Not Allowed";
	case 413:	return "Payload Too Large";
	case 415:	return "Unsupported Media Type";
	case 503:	return "Service Unavailable";
	default:	return "Internal Server Error";
	}
}

static void
plain(struct http_response *resp, int status, const char *text)
{
	size_t n = strlen(text);

	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = malloc(n + 1);
	if (resp->body != NULL) {
		memcpy(resp->body, text, n);
		resp->body[n] = '\n';
		resp->body_len = n + 1;
	}
}

/*
 * Writes refusals as the aggregation emits them (refusals.h): the log line and, when they
 * are events, the event row, both standing for count refusals.  Client refusals are events
 * of kind client-refused with the filter's detail, the others request-refused named by their
 * failure (protocol and failInfo, or HTTP status).
 */
static void
emit_refusal(void *arg, const struct refusal *r, const char *text, const char *detail,
    long count)
{
	struct worker *w = arg;
	const char *svc = r->service[0] != '\0' ? r->service : NULL;
	const char *from = r->requester[0] != '\0' ? r->requester : NULL;
	char ev[sizeof(((struct refusal_slot *)0)->detail) + 64], times[48] = "";

	if (count > 1)
		snprintf(times, sizeof(times), " %ld times in %d ms", count,
		    TSA_REFUSAL_INTERVAL_MS);
	log_msg(LOG_INFO, "refused%s: service=%s from=%s failInfo=%d: %s (%s)", times,
	    svc != NULL ? svc : "-", from != NULL ? from : count > 1 ? "(many)" : "-", r->fail,
	    text, detail);
	if (r->kind == NULL)
		return;
	if (strcmp(r->kind, "client-refused") == 0)
		snprintf(ev, sizeof(ev), "%s", detail);
	else
		snprintf(ev, sizeof(ev), "%s: %s", r->failure, detail[0] != '\0' ? detail : text);
	events_record(&w->db, r->severity, r->kind, svc, from, ev, count);
}

int
worker_init(struct worker *w, const struct tsa_conf *conf, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->conf = conf;
	w->cf.host = conf->host;
	refusals_init(&w->refusals, emit_refusal, w);
	signer_link_init(&w->link, conf->signer_socket, (int)conf->signer_timeout);
	/* Now, so that the signer opens the keys before the first request (else at the first). */
	if (signer_link_connect(&w->link) == -1)
		log_msg(LOG_WARNING, "signer not reachable yet at %s: %s", conf->signer_socket,
		    strerror(errno));
	if (soap_init() == -1) {
		snprintf(err, errlen, "the SOAP request schema does not compile");
		return -1;
	}
	/* The workers' connection holds no token: the server cancels its statements at the
	 * bound too, and its event rows do not wait for a synchronous standby (store.h). */
	if (db_init(&w->db, conf->database, conf->database_timeout * 1000,
	    conf->database_wait * 1000, DB_SERVER_TIMEOUT) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (config_follow(&w->db, &w->cf, 1) == -1)
		log_msg(LOG_WARNING, "configuration not loaded yet");
	return 0;
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	refusals_flush(&w->refusals);
	signer_link_close(&w->link);
	if (w->logc != NULL)
		PQfinish(w->logc);
	config_free(w->cf.config);
	db_close(&w->db);
	soap_cleanup();
}

long
worker_tick(struct worker *w)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return refusals_tick(&w->refusals, &now);
}

int
worker_refresh(struct worker *w)
{
	return config_follow(&w->db, &w->cf, 0);
}

/*
 * Orders the token from the host's signing process (order.h): the request's fields and the
 * service and policy chosen here.  The signer reads the time, applies the clock gate and its
 * own copy of the policy, signs and records; a token comes back only once its row is
 * committed.  0 with c->token, or -1 with c->ref.
 */
static int
issue(struct request_ctx *c)
{
	static struct order o;		/* about 2 KB: not on the stack */
	struct signer_answer *a = &c->w->answer;
	const struct tsa_client *cl = &c->client;
	char why[256];

	free(c->frame);		/* a first answer, when the policy is chosen again */
	c->frame = NULL;
	memset(&o, 0, sizeof(o));
	o.type = ORDER_SIGN;
	o.config_version = c->w->cf.config->version;
	o.service_id = c->svc->id;
	o.policy_id = c->pol->id;
	o.req = c->req;
	snprintf(o.requester, sizeof(o.requester), "%s", cl->remote_addr ? cl->remote_addr : "");
	snprintf(o.client_identity, sizeof(o.client_identity), "%s", cl->registered ?
	    cl->registered : cl->tls_subject ? cl->tls_subject : "");
	if (c->opts.archive == ARCHIVE_REQUEST) {
		o.request = c->hr->body;
		o.request_len = c->hr->body_len;
	}
	if (signer_link_ask(&c->w->link, &o, a, &c->frame, why, sizeof(why)) == -1) {
		tsa_refuse(&c->ref, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot sign now", "%s", why);
		return -1;
	}
	if (a->type == ANSWER_GRANTED) {
		metrics_signature(a->signer, 1);
		c->token = a->token;
		c->token_len = a->token_len;
		return 0;
	}
	if (a->type != ANSWER_REFUSED) {
		tsa_refuse(&c->ref, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot sign now",
		    "the signer answered a token order with its status");
		return -1;
	}
	if (a->sign_failed)
		metrics_signature(a->signer, 0);
	c->stale = strcmp(a->text, ORDER_TEXT_STALE) == 0;
	snprintf(c->ref_text, sizeof(c->ref_text), "%s", c->stale ?
	    "the TSA cannot issue a token now" : a->text);
	tsa_refuse(&c->ref, a->fail, c->ref_text, "signer: %s", a->detail);
	return -1;
}

/* Chooses the service and policy with the worker's configuration (force: checked against
 * the database's version now) and orders the token: c->token, or -1 with c->ref. */
static int
choose_and_issue(struct request_ctx *c, int force)
{
	struct tsa_refusal *ref = &c->ref;
	const struct service *svc;
	const struct policy *pol;

	/* The wait for this request followed the configuration just before (main.c). */
	if ((force || c->w->cf.config == NULL) &&
	    config_follow(&c->w->db, &c->w->cf, force) == -1) {
		tsa_refuse(ref, TSA_FAIL_SYSTEM_FAILURE, "the TSA is not available now",
		    "configuration not loaded (database unreachable?)");
		return -1;
	}
	if ((svc = config_service(c->w->cf.config, c->client.service)) == NULL) {
		tsa_refuse_http(ref, 404, TSA_FAIL_SYSTEM_FAILURE, "no such time-stamping service",
		    NULL);
		return -1;
	}
	client_identify(svc, &c->client);
	if ((pol = policy_select(svc, &c->req, &c->client)) == NULL) {
		if (c->req.has_req_policy)
			tsa_refuse(ref, TSA_FAIL_UNACCEPTED_POLICY, "requested policy not accepted",
			    "no policy of service %s matches", svc->name);
		else
			tsa_refuse(ref, TSA_FAIL_BAD_REQUEST, "request not accepted",
			    "no policy of service %s matches", svc->name);
		return -1;
	}
	if (pol->refused != NULL) {
		tsa_refuse(ref, TSA_FAIL_SYSTEM_FAILURE, "the TSA cannot issue a token now",
		    "policy %s/%s refused: %s", svc->name, pol->name, pol->refused);
		return -1;
	}
	if (policy_apply(pol, &c->req, &c->client, &c->opts, ref) == -1)
		return -1;
	c->svc = svc;
	c->pol = pol;
	return issue(c);
}

/*
 * Runs the pipeline for one parsed request: c->token, or -1 with c->ref.  A policy the signer
 * no longer has (its configuration newer than this worker's, for the second it takes a worker
 * to follow) is chosen again once, from the newer configuration.
 */
static int
process(struct request_ctx *c)
{
	if (choose_and_issue(c, 0) == 0)
		return 0;
	if (!c->stale)
		return -1;
	c->stale = 0;
	return choose_and_issue(c, 1);
}

/*
 * A refusal, to the log and (client refusals as client-refused, every other one as
 * request-refused) the events, repeated ones aggregated (refusals.h); and changes of clock
 * synchronisation.
 */
static void
record_events(struct request_ctx *c, int granted, int answered)
{
	const struct protocol_def *proto = c->proto;
	const struct tsa_client *client = &c->client;
	const struct tsa_refusal *ref = granted ? NULL : &c->ref;
	struct worker *w = c->w;
	struct refusal r;
	struct timespec now;
	const char *kind;
	char detail[256];
	int http;

	if (clock_take_event(&kind, detail, sizeof(detail)))
		events_record(&w->db, strcmp(kind, "clock-sync-lost") == 0 ? "error" : "info",
		    kind, client->service, NULL, detail, 1);
	if (ref == NULL)
		return;
	/* The HTTP status that names the refusal, 0 when its protocol's status does. */
	http = ref->kind == TSA_REFUSAL_HTTP ? ref->http_status : proto->has_status ? 0 : answered;
	memset(&r, 0, sizeof(r));
	r.fail = (int)ref->fail;
	snprintf(r.service, sizeof(r.service), "%s", client->service ? client->service : "");
	snprintf(r.requester, sizeof(r.requester), "%s",
	    client->remote_addr ? client->remote_addr : "");
	if (!proto->has_status)
		snprintf(r.failure, sizeof(r.failure), "%s %d", tsa_protocol_name(proto->proto),
		    http);
	else
		snprintf(r.failure, sizeof(r.failure), "%s %s", tsa_protocol_name(proto->proto),
		    metrics_fail_name(ref->fail));
	if (http == 403) {
		r.kind = "client-refused";
		r.severity = "warning";
	} else if (proto->has_status && ref->fail == TSA_FAIL_TIME_NOT_AVAILABLE) {
		/*
		 * Clock refusals of the protocols with a status structure are not events one by
		 * one: the loss of sync is, once (Authenticode answers them with an HTTP status,
		 * as any other).  They are logged.
		 */
		r.kind = NULL;
		r.severity = "warning";
	} else {
		r.kind = "request-refused";
		r.severity = http >= 500 || ref->fail == TSA_FAIL_SYSTEM_FAILURE ?
		    "error" : "warning";
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	refusals_note(&w->refusals, &r, ref->text, ref->detail, &now);
}

/*
 * GET URL?wsdl, ?xsd, ?xsd=xmldsig: the service description with this service's URL in it
 * (wsdl.h): the url configured for the service, else the one the web server's params name.
 * 1 when answered, 0 when the query is not one of those.
 */
static int
describe(struct worker *w, const struct http_request *hr, struct http_response *resp)
{
	enum wsdl_doc doc = wsdl_query(hr->query);
	const struct service *svc;
	char url[TSA_MAX_URL + 1];
	int rc;

	if (doc == WSDL_DOC_NONE)
		return 0;
	if (worker_refresh(w) == -1) {
		plain(resp, 503, "the TSA is not available now");
		return 1;
	}
	if ((svc = config_service(w->cf.config, hr->client.service)) == NULL) {
		plain(resp, 404, "no such time-stamping service");
		return 1;
	}
	if (svc->url != NULL) {
		snprintf(url, sizeof(url), "%s", svc->url);	/* checked at load */
		resp->cache_control = WSDL_CACHE_CONFIGURED;
	} else if ((rc = wsdl_service_url(&hr->origin, url, sizeof(url))) == WSDL_BAD_PATH) {
		log_msg(LOG_INFO, "description refused: bad path from %s",
		    hr->client.remote_addr ? hr->client.remote_addr : "-");
		plain(resp, 400, "bad path");
		return 1;
	} else if (rc != 0) {
		log_msg(LOG_ERR, "service %s: no url configured (tsactl service set %s --url URL) "
		    "and the web server names no server (SERVER_NAME '%.64s', SERVER_PORT '%.8s'): "
		    "set one (nginx server_name, Apache ServerName, lighttpd server.name)",
		    svc->name, svc->name, hr->origin.server_name ? hr->origin.server_name : "",
		    hr->origin.server_port ? hr->origin.server_port : "");
		plain(resp, 500, "the service's URL is not configured");
		return 1;
	} else {
		resp->cache_control = WSDL_CACHE_DERIVED;
		resp->vary = WSDL_VARY_DERIVED;
	}
	if (wsdl_document(doc, url, &resp->body, &resp->body_len) == -1) {
		log_msg(LOG_ERR, "cannot build the service description");
		plain(resp, 500, "internal error");
		return 1;
	}
	resp->status = 200;
	resp->content_type = WSDL_CONTENT_TYPE;
	return 1;
}

/* What the metrics count of one answer (metrics.h); proto -1: not counted. */
struct outcome {
	int	proto, outcome, fail;
};
_Static_assert((int)TSA_PROTO_RFC3161 == METRICS_PROTO_RFC3161 &&
    (int)TSA_PROTO_SOAP == METRICS_PROTO_SOAP &&
    (int)TSA_PROTO_AUTHENTICODE == METRICS_PROTO_AUTHENTICODE, "protocol labels");

static void
handle(struct worker *w, const struct http_request *hr, struct http_response *resp,
    struct outcome *oc)
{
	struct request_ctx c = { .w = w, .hr = hr };
	struct tsa_answer ans = { 0, NULL, NULL, 0 };
	enum tsa_protocol detected;
	const char *why;
	int granted = 0, status;

	memset(resp, 0, sizeof(*resp));
	tsa_opts_defaults(&c.opts);
	oc->proto = METRICS_PROTO_NONE;
	oc->fail = METRICS_FAIL_NONE;
	if (hr->method != NULL && strcmp(hr->method, "GET") == 0 && describe(w, hr, resp)) {
		oc->proto = -1;		/* a service description, not a request */
		return;
	}
	if (hr->method == NULL || strcmp(hr->method, "POST") != 0) {
		plain(resp, 405, "time-stamp requests are POSTed");
		return;
	}
	if (hr->body_too_large) {
		plain(resp, 413, "request body too large");
		return;
	}
	if ((status = protocol_detect(hr->content_type, hr->body, hr->body_len, &detected,
	    &why)) != 0) {
		plain(resp, status, why);
		return;
	}
	c.proto = &protocols[detected];
	TSA_INVARIANT(c.proto->proto == detected);
	oc->proto = (int)c.proto->proto;	/* the same order as enum metrics_proto */
	c.client = hr->client;
	if (c.proto->parse(hr->body, hr->body_len, &c.req, &c.ref) == 0 && process(&c) == 0)
		granted = 1;
	if (c.proto->free != NULL)
		c.proto->free(&c.req);
	/* A grant is a recorded token (issue() returns 0 only after the commit), a refusal none. */
	TSA_INVARIANT(granted ? c.token != NULL && c.token_len > 0 : c.token == NULL);
	if (!granted && c.ref.kind == TSA_REFUSAL_HTTP)
		plain(resp, c.ref.http_status, c.ref.text);
	else if (c.proto->answer(c.token, c.token_len, granted ? NULL : &c.ref,
	    !granted && c.opts.status_text, &ans) == -1) {
		free(ans.body);
		log_msg(LOG_ERR, "cannot encode the answer");
		plain(resp, 500, "internal error");
	} else {
		resp->status = ans.status;
		resp->content_type = ans.content_type;
		resp->body = ans.body;
		resp->body_len = ans.body_len;
	}
	record_events(&c, granted, resp->status);
	oc->outcome = METRICS_GRANTED;
	if (!granted) {
		oc->fail = (int)c.ref.fail;
		oc->outcome = c.ref.kind == TSA_REFUSAL_HTTP ? c.ref.http_status :
		    c.ref.kind == TSA_REFUSAL_FAULT ? METRICS_SOAP_FAULT :
		    resp->status != 200 ? resp->status : METRICS_REJECTED;
	}
	free(c.frame);
}

void
worker_handle(struct worker *w, const struct http_request *hr, struct http_response *resp)
{
	struct outcome oc = { METRICS_PROTO_NONE, 0, METRICS_FAIL_NONE };
	const char *svc = hr->client.service;
	struct timespec t0, t1;
	uint64_t usec;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	handle(w, hr, resp, &oc);
	if (oc.proto < 0)
		return;
	if (oc.outcome == METRICS_GRANTED && resp->status != 200)
		oc.outcome = resp->status;	/* refused before the pipeline: the HTTP status */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	usec = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000u +
	    (uint64_t)(t1.tv_nsec / 1000) - (uint64_t)(t0.tv_nsec / 1000);
	/* Only the configuration's services name a label: a client cannot add labels. */
	if (svc == NULL || w->cf.config == NULL || config_service(w->cf.config, svc) == NULL)
		svc = "other";
	metrics_request(svc, (enum metrics_proto)oc.proto, oc.outcome, oc.fail, usec);
}
