/*
 * policy.c - picking a service's policy for a request, running its run-time filters, and the
 * request checks of RFC 3161 2.4.1 against the options its chain compiled to (see policy.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>

#include "clock.h"
#include "policy.h"
#include "xmltoken.h"

/*
 * Defaults when a chain says nothing, chosen for the strict profile of ETSI EN 319 422:
 * SHA-2 and SHA-3 accepted (SHA-1 only when a policy names it), only the policy's own OID,
 * no request extensions, accuracy 1 s, whole-second genTime, ESSCertIDv2 (SHA-256) with
 * issuerSerial, the signer certificate alone on certReq, no signingTime, a statusString on
 * refusals only, 20-octet serials.
 */
void
tsa_opts_defaults(struct tsa_opts *o)
{
	const struct hash_alg *table;
	size_t i, n;

	memset(o, 0, sizeof(*o));
	table = hash_table(&n);
	for (i = 0; i < n; i++)
		if (table[i].gnutls != GNUTLS_DIG_SHA1)
			o->hash_accept |= 1u << i;
	o->acc_seconds = 1;
	o->ess_version = 2;
	o->ess_hash = hash_by_name("sha256");
	o->ess_issuer_serial = 1;
	o->certs = CMS_CERTS_SIGNER;
	o->status_text = 1;
	o->serial_bytes = TSA_SERIAL_MAX;
	o->archive = ARCHIVE_TOKEN;
}

const struct service *
config_service(const struct tsa_config *c, const char *name)
{
	size_t i;

	if (c == NULL || name == NULL)
		return NULL;
	for (i = 0; i < c->n_services; i++)
		if (strcmp(c->services[i].name, name) == 0)
			return &c->services[i];
	return NULL;
}

const struct policy *
policy_select(const struct service *svc, const struct tsa_request *req,
    const struct tsa_client *client)
{
	size_t i;

	for (i = 0; i < svc->n_policies; i++) {
		const struct policy *p = &svc->policies[i];

		if (p->match_protocol != -1 && p->match_protocol != (int)req->protocol)
			continue;
		if (p->match_req_policy != NULL && (!req->has_req_policy ||
		    strcmp(p->match_req_policy, req->req_policy) != 0))
			continue;
		if (p->match_client_cert != -1 && p->match_client_cert != client->cert_verified)
			continue;
		if (p->match_client != NULL && (client->registered == NULL ||
		    strcmp(p->match_client, client->registered) != 0))
			continue;
		return p;
	}
	return NULL;
}

int
policy_receives(const struct service *svc, size_t i, enum tsa_protocol proto)
{
	size_t j;

	if (svc->policies[i].match_protocol != -1 && svc->policies[i].match_protocol != (int)proto)
		return 0;
	for (j = 0; j < i; j++) {
		const struct policy *p = &svc->policies[j];

		if ((p->match_protocol == -1 || p->match_protocol == (int)proto) &&
		    p->match_req_policy == NULL && p->match_client_cert == -1 &&
		    p->match_client == NULL)
			return 0;
	}
	return 1;
}

int
policy_check_protocols(struct service *svc)
{
	char why[256];
	size_t i;

	for (i = 0; i < svc->n_policies; i++) {
		struct policy *p = &svc->policies[i];

		/* A signer refused for its own reason is reported as such. */
		if (p->refused != NULL || p->signer == NULL ||
		    p->signer->sign_algo == GNUTLS_SIGN_UNKNOWN ||
		    !policy_receives(svc, i, TSA_PROTO_SOAP) ||
		    soap_token_can_sign((int)p->signer->sign_algo))
			continue;
		snprintf(why, sizeof(why), "it can receive SOAP requests, and its signer %s signs "
		    "with %s, which XML-DSig tokens cannot carry: restrict it to rfc3161 or "
		    "authenticode (--protocol), or give it a signer without rsa-pss",
		    p->signer->name, gnutls_sign_get_name(p->signer->sign_algo));
		if ((p->refused = strdup(why)) == NULL)
			return -1;
	}
	return 0;
}

static int
oid_in(const char *oid, const char * const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], oid) == 0)
			return 1;
	return 0;
}

int
policy_apply(const struct policy *pol, const struct tsa_request *req,
    const struct tsa_client *client, struct tsa_opts *o, struct tsa_refusal *ref)
{
	const struct hash_alg *table;
	size_t i, n;

	/* No option filter refuses: the run-time filters' order is the chain's.  They judge the
	 * client: without one (the signing process) they were the worker's to run. */
	*o = pol->opts;
	for (i = 0; client != NULL && i < pol->n_filters; i++)
		if (pol->filters[i].def->run(pol->filters[i].state, req, client, ref) == -1)
			return -1;
	/* The checks in the order OpenSSL's TSA makes them, so peers see the same failInfo. */
	table = hash_table(&n);
	if (req->hash == NULL || (o->hash_accept & (1u << (req->hash - table))) == 0) {
		tsa_refuse(ref, TSA_FAIL_BAD_ALG, "unsupported hash algorithm",
		    "hash %s not accepted by policy %s", req->hash ? req->hash->name :
		    req->hash_oid, pol->name);
		return -1;
	}
	if (req->has_req_policy && strcmp(req->req_policy, pol->policy_oid) != 0 &&
	    !o->policy_any && !oid_in(req->req_policy, o->policy_accept, o->n_policy_accept)) {
		tsa_refuse(ref, TSA_FAIL_UNACCEPTED_POLICY, "requested policy not accepted",
		    "reqPolicy %s not accepted by policy %s", req->req_policy, pol->name);
		return -1;
	}
	for (i = 0; i < req->n_ext; i++)
		if (!oid_in(req->ext[i].oid, o->ext_accept, o->n_ext_accept)) {
			tsa_refuse(ref, TSA_FAIL_UNACCEPTED_EXTENSION, "extension not accepted",
			    "extension %s not accepted by policy %s", req->ext[i].oid,
			    pol->name);
			return -1;
		}
	/* Last, against the accuracy the token will state (EN 319 421 7.7.2). */
	if (o->clock != NULL && clock_check(o->clock, o->acc_seconds * 1000000UL +
	    o->acc_millis * 1000UL + o->acc_micros, ref) == -1)
		return -1;
	return 0;
}

static void
policy_free(struct policy *p)
{
	policy_filters_free(p);
	free(p->name);
	free(p->match_req_policy);
	free(p->match_client);
	free(p->policy_oid);
	free(p->refused);
}

void
config_free(struct tsa_config *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_services; i++) {
		for (j = 0; j < c->services[i].n_policies; j++)
			policy_free(&c->services[i].policies[j]);
		free(c->services[i].policies);
		free(c->services[i].name);
		free(c->services[i].url);
		for (j = 0; j < c->services[i].n_clients; j++)
			free(c->services[i].clients[j].name);
		free(c->services[i].clients);
	}
	free(c->services);
	for (i = 0; i < c->n_signers; i++)
		signer_free(&c->signers[i]);
	free(c->signers);
	free(c);
}
