/*
 * config.c - loads the whole configuration (signers, services, policies, filter chains) from
 * one database snapshot into a struct tsa_config (see store.h).  Every name and parameter is
 * checked here; one bad row fails the whole load, so a worker never runs half a configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "units.h"
#include "wsdl.h"

static const char *SQL_SIGNERS =
    "SELECT id, name, pkcs11_uri, certificate, chain, scheme, digest, host, unit_group"
    " FROM signers ORDER BY id";
static const char *SQL_SERVICES =
    "SELECT id, name, url FROM services ORDER BY id";
static const char *SQL_POLICIES =
    "SELECT id, service_id, name, match_protocol, match_req_policy, policy_oid, signer_id,"
    " match_client_cert, match_client FROM policies ORDER BY service_id, position";
static const char *SQL_CLIENTS =
    "SELECT service_id, name, fingerprint_sha256 FROM clients"
    " ORDER BY service_id, id";
static const char *SQL_VERSION =
    "SELECT version FROM config_version";
/* Filter parameters flattened: one row per scalar, one per array element, in order. */
static const char *SQL_FILTERS =
    "SELECT f.policy_id, f.id, f.filter, e.key, v.value"
    " FROM policy_filters f" SQL_FLATTEN_PARAMS
    " ORDER BY f.policy_id, f.position, e.key, v.ord";

/* One of the configuration's queries, through the one statement wrapper (db_query). */
static PGresult *
read_rows(PGconn *c, const char *sql, char *err, size_t errlen)
{
	int rc;

	return db_query(c, sql, 0, NULL, "configuration query", &rc, err, errlen);
}

static int
load_signers(struct tsa_config *cfg, PGresult *r, char *err, size_t errlen)
{
	int i, n = PQntuples(r);

	if ((cfg->signers = calloc((size_t)n + 1, sizeof(*cfg->signers))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		struct signer *s = &cfg->signers[i];

		/* Keys are opened once the whole configuration has loaded (open_signers). */
		if (signer_load(&cfg->signers[i], atol(PQgetvalue(r, i, 0)), PQgetvalue(r, i, 1),
		    PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
		    PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), 0, err, errlen) == -1)
			return -1;
		cfg->n_signers++;
		/* Which server it serves, and the units it stands with (units.c). */
		if ((!PQgetisnull(r, i, 7) && (s->host = strdup(PQgetvalue(r, i, 7))) == NULL) ||
		    (!PQgetisnull(r, i, 8) && (s->group = strdup(PQgetvalue(r, i, 8))) == NULL))
			return -1;
		if (s->host != NULL && !conf_host_ok(s->host)) {
			snprintf(err, errlen, "signer %s: host '%s' is not a server name", s->name,
			    s->host);
			return -1;
		}
	}
	return 0;
}

static struct signer *
find_signer(const struct tsa_config *cfg, long id)
{
	size_t i;

	for (i = 0; i < cfg->n_signers; i++)
		if (cfg->signers[i].id == id)
			return &cfg->signers[i];
	return NULL;
}

static int
protocol_of(const char *s)
{
	if (strcmp(s, "rfc3161") == 0)
		return TSA_PROTO_RFC3161;
	if (strcmp(s, "soap") == 0)
		return TSA_PROTO_SOAP;
	if (strcmp(s, "authenticode") == 0)
		return TSA_PROTO_AUTHENTICODE;
	return -2;
}

static int
load_policies(struct tsa_config *cfg, PGresult *svcs, PGresult *pols, char *err, size_t errlen)
{
	int i, j, ns = PQntuples(svcs), np = PQntuples(pols);
	char why[256];

	if ((cfg->services = calloc((size_t)ns + 1, sizeof(*cfg->services))) == NULL)
		return -1;
	for (i = 0; i < ns; i++) {
		struct service *s = &cfg->services[cfg->n_services++];

		s->id = atol(PQgetvalue(svcs, i, 0));
		if ((s->name = strdup(PQgetvalue(svcs, i, 1))) == NULL ||
		    (s->policies = calloc(TSA_MAX_POLICIES, sizeof(*s->policies))) == NULL)
			return -1;
		if (!PQgetisnull(svcs, i, 2)) {
			if (wsdl_url_check(PQgetvalue(svcs, i, 2), why, sizeof(why)) == -1) {
				snprintf(err, errlen, "service %s: url: %s", s->name, why);
				return -1;
			}
			if ((s->url = strdup(PQgetvalue(svcs, i, 2))) == NULL)
				return -1;
		}
		for (j = 0; j < np; j++) {
			struct policy *p;

			if (atol(PQgetvalue(pols, j, 1)) != s->id)
				continue;
			if (s->n_policies == TSA_MAX_POLICIES) {
				snprintf(err, errlen, "service %s: more than %d policies", s->name,
				    TSA_MAX_POLICIES);
				return -1;
			}
			p = &s->policies[s->n_policies++];
			tsa_opts_defaults(&p->opts);
			p->id = atol(PQgetvalue(pols, j, 0));
			p->match_protocol = PQgetisnull(pols, j, 3) ? -1 :
			    protocol_of(PQgetvalue(pols, j, 3));
			p->match_client_cert = PQgetisnull(pols, j, 7) ? -1 :
			    strcmp(PQgetvalue(pols, j, 7), "t") == 0;
			if (!PQgetisnull(pols, j, 8) &&
			    (p->match_client = strdup(PQgetvalue(pols, j, 8))) == NULL)
				return -1;
			if ((p->name = strdup(PQgetvalue(pols, j, 2))) == NULL ||
			    (p->policy_oid = strdup(PQgetvalue(pols, j, 5))) == NULL ||
			    (!PQgetisnull(pols, j, 4) && (p->match_req_policy =
			    strdup(PQgetvalue(pols, j, 4))) == NULL))
				return -1;
			if ((p->signer = find_signer(cfg, atol(PQgetvalue(pols, j, 6)))) == NULL ||
			    p->match_protocol == -2) {
				snprintf(err, errlen, "policy %s/%s: bad signer or protocol",
				    s->name, p->name);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * The keys of the signers the policies use (in the signing process only): taken over from the
 * previous configuration when the signer is unchanged (a reload never touches an open session
 * whose row did not change), else opened.
 */
static void
open_signers(struct tsa_config *cfg, struct tsa_config *previous)
{
	size_t i, j;

	for (i = 0; i < cfg->n_signers; i++) {
		struct signer *s = &cfg->signers[i];
		int adopted = 0;

		if (!s->used)
			continue;
		for (j = 0; previous != NULL && j < previous->n_signers && !adopted; j++)
			adopted = signer_adopt_key(s, &previous->signers[j]);
		if (!adopted)
			signer_open(s);
		if (signer_why(s) != NULL)
			log_msg(LOG_ERR, "signer %s refused: %s", s->name, signer_why(s));
	}
}

/* The checks the filters make against their policy's signer (policy_check_signer). */
static int
check_filters(struct tsa_config *cfg, char *err, size_t errlen)
{
	size_t i, j;
	char why[512];

	for (i = 0; i < cfg->n_services; i++)
		for (j = 0; j < cfg->services[i].n_policies; j++) {
			struct policy *p = &cfg->services[i].policies[j];

			if (policy_check_signer(p, why, sizeof(why)) == 0)
				continue;
			snprintf(err, errlen, "policy %s: %s", p->name, why);
			return -1;
		}
	return 0;
}

/*
 * A policy that can receive a protocol its signer cannot make a token for is refused alone
 * (it answers systemFailure, tsactl status says why): the rest of the configuration loads.
 */
static int
check_protocols(struct tsa_config *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->n_services; i++) {
		if (policy_check_protocols(&cfg->services[i]) == -1)
			return -1;
		for (j = 0; j < cfg->services[i].n_policies; j++)
			if (cfg->services[i].policies[j].refused != NULL)
				log_msg(LOG_WARNING, "policy %s/%s refused: %s", cfg->services[i].name,
				    cfg->services[i].policies[j].name,
				    cfg->services[i].policies[j].refused);
	}
	return 0;
}

/* bytea in text form (\x...) of exactly len bytes into out: 0, or -1. */
static int
bytea_fixed(PGresult *r, int row, int col, unsigned char *out, size_t len)
{
	size_t n;
	unsigned char *v = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
	int rc = -1;

	if (v == NULL)
		return -1;
	if (n == len) {
		memcpy(out, v, n);
		rc = 0;
	}
	PQfreemem(v);
	return rc;
}

static int
load_clients(struct tsa_config *cfg, PGresult *r)
{
	size_t i;
	int j, n = PQntuples(r);

	for (i = 0; i < cfg->n_services; i++) {
		struct service *s = &cfg->services[i];

		for (j = 0; j < n; j++) {
			struct registered_client *c;

			if (atol(PQgetvalue(r, j, 0)) != s->id)
				continue;
			if (s->clients == NULL &&
			    (s->clients = calloc((size_t)n, sizeof(*s->clients))) == NULL)
				return -1;
			c = &s->clients[s->n_clients++];
			if ((c->name = strdup(PQgetvalue(r, j, 1))) == NULL ||
			    bytea_fixed(r, j, 2, c->fingerprint, sizeof(c->fingerprint)) == -1)
				return -1;
		}
	}
	return 0;
}

static struct policy *
find_policy(struct tsa_config *cfg, long id)
{
	size_t i, j;

	for (i = 0; i < cfg->n_services; i++)
		for (j = 0; j < cfg->services[i].n_policies; j++)
			if (cfg->services[i].policies[j].id == id)
				return &cfg->services[i].policies[j];
	return NULL;
}

/* Rows come grouped by policy, then filter; each group of rows is one filter, added to its
 * policy's chain in order (an option filter compiled into the policy's options). */
static int
load_filters(struct tsa_config *cfg, PGresult *r, char *err, size_t errlen)
{
	struct filter_param params[TSA_MAX_FILTER_PARAMS];
	int i = 0, n = PQntuples(r);

	while (i < n) {
		const char *fid = PQgetvalue(r, i, 1), *name = PQgetvalue(r, i, 2);
		struct policy *p = find_policy(cfg, atol(PQgetvalue(r, i, 0)));
		char why[384];
		size_t np = 0;

		for (; i < n && strcmp(PQgetvalue(r, i, 1), fid) == 0; i++) {
			if (PQgetisnull(r, i, 3))
				continue;	/* empty params */
			if (np == TSA_MAX_FILTER_PARAMS) {
				snprintf(err, errlen, "filter %s: too many parameters", name);
				return -1;
			}
			params[np].key = PQgetvalue(r, i, 3);
			params[np].value = PQgetisnull(r, i, 4) ? "null" : PQgetvalue(r, i, 4);
			np++;
		}
		if (p == NULL)
			continue;
		if (policy_add_filter(p, name, params, np, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "policy %s: %s", p->name, why);
			return -1;
		}
	}
	return 0;
}

/*
 * Reads and builds the configuration on c, in the caller's transaction (see config_load).
 * 0 with *out, or -1 with err.
 */
static int
config_read(PGconn *c, const char *host, int open_keys, struct tsa_config *previous,
    struct tsa_config **out, char *err, size_t errlen)
{
	PGresult *signers = NULL, *svcs = NULL, *pols = NULL, *filters = NULL, *clients = NULL,
	    *version = NULL;
	struct tsa_config *cfg = NULL;
	int rc = -1;

	if ((signers = read_rows(c, SQL_SIGNERS, err, errlen)) == NULL ||
	    (svcs = read_rows(c, SQL_SERVICES, err, errlen)) == NULL ||
	    (pols = read_rows(c, SQL_POLICIES, err, errlen)) == NULL ||
	    (filters = read_rows(c, SQL_FILTERS, err, errlen)) == NULL ||
	    (clients = read_rows(c, SQL_CLIENTS, err, errlen)) == NULL ||
	    (version = read_rows(c, SQL_VERSION, err, errlen)) == NULL)
		goto out;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    load_signers(cfg, signers, err, errlen) == -1 ||
	    load_policies(cfg, svcs, pols, err, errlen) == -1 ||
	    units_resolve(cfg, host) == -1 ||
	    load_filters(cfg, filters, err, errlen) == -1 ||
	    check_filters(cfg, err, errlen) == -1 ||
	    check_protocols(cfg) == -1 ||
	    load_clients(cfg, clients) == -1)
		goto out;
	cfg->version = PQntuples(version) == 1 ? atoll(PQgetvalue(version, 0, 0)) : 0;
	if (open_keys)
		open_signers(cfg, previous);
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	if (rc == -1 && err[0] == '\0')
		snprintf(err, errlen, "out of memory loading the configuration");
	config_free(cfg);
	PQclear(signers);
	PQclear(svcs);
	PQclear(pols);
	PQclear(filters);
	PQclear(clients);
	PQclear(version);
	return rc;
}

int
config_load(struct db *db, const char *host, int open_keys, struct tsa_config *previous,
    struct tsa_config **out, char *err, size_t errlen)
{
	PGconn *c;
	PGresult *r;
	char why[512];
	int rc;

	err[0] = '\0';
	if ((c = db_conn(db)) == NULL) {
		snprintf(err, errlen, "database unreachable");
		return -1;
	}
	/* Each statement bounded (db_query): a server that stops answering fails the load
	 * within database_timeout, and the connection is dropped. */
	if ((r = read_rows(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err,
	    errlen)) == NULL) {
		db_failed(db, NULL);
		return -1;
	}
	PQclear(r);
	rc = config_read(c, host, open_keys, previous, out, err, errlen);
	/* What was read is one snapshot whatever the end of a read-only transaction says; a
	 * connection that did not answer it is dropped all the same. */
	PQclear(read_rows(c, "COMMIT", why, sizeof(why)));
	if (rc == -1 || pgb_broken(c))
		db_failed(db, NULL);
	return rc;
}

int
config_refused_policy(PGconn *c, char *err, size_t errlen)
{
	struct tsa_config *cfg = NULL;
	char why[512];
	size_t i, j;
	int rc = 0;

	why[0] = '\0';
	if (config_read(c, NULL, 0, NULL, &cfg, why, sizeof(why)) == -1)
		return 0;	/* the workers refuse it with their own message */
	for (i = 0; i < cfg->n_services && rc == 0; i++)
		for (j = 0; j < cfg->services[i].n_policies && rc == 0; j++) {
			const struct policy *p = &cfg->services[i].policies[j];

			if (p->refused == NULL)
				continue;
			snprintf(err, errlen, "policy %s/%s is refused: %s",
			    cfg->services[i].name, p->name, p->refused);
			rc = -1;
		}
	config_free(cfg);
	return rc;
}

/*
 * The signing process's record of each policy it cannot serve in a configuration it loaded
 * (no unit on this server, a signer that cannot make a protocol's token): one warning event
 * policy-refused per policy and version, so that an operator sees it where events are read.
 */
static void
record_refused_policies(struct db *db, const struct tsa_config *cfg, const char *host)
{
	char detail[TSA_MAX_EVENT_DETAIL];
	size_t i, j;

	for (i = 0; i < cfg->n_services; i++)
		for (j = 0; j < cfg->services[i].n_policies; j++) {
			const struct policy *p = &cfg->services[i].policies[j];

			if (p->refused == NULL)
				continue;
			snprintf(detail, sizeof(detail), "host %s, configuration version %lld: policy "
			    "%s/%s refused: %s", host != NULL ? host : "-", cfg->version,
			    cfg->services[i].name, p->name, p->refused);
			events_record(db, "warning", "policy-refused", cfg->services[i].name, NULL,
			    detail, 1);
		}
}

int
config_follow(struct db *db, struct config_follower *f, int force)
{
	struct tsa_config *fresh = NULL;
	char err[512];
	long long v;
	time_t now = time(NULL);
	int changed = db_config_changed(db);

	if (!changed && f->config != NULL && (force || now != f->version_checked)) {
		f->version_checked = now;
		v = db_config_version(db);
		changed = v != -1 && v != f->config->version && v != f->refused_version;
	}
	if (!changed && f->config != NULL)
		return 0;
	if (config_load(db, f->host, f->open_keys, f->config, &fresh, err, sizeof(err)) == -1) {
		v = db_config_version(db);
		if (v != -1 && v != f->refused_version) {
			f->refused_version = v;
			log_msg(LOG_ERR, "configuration version %lld refused, %s: %s", v,
			    f->config ? "keeping the last good one" : "none to serve with", err);
			events_record(db, "error", "config-refused", NULL, NULL, err, 1);
		}
		return f->config != NULL ? 0 : -1;
	}
	if (f->config != NULL && fresh->version != f->config->version)
		log_msg(LOG_INFO, "configuration version %lld loaded", fresh->version);
	if (f->open_keys && (f->config == NULL || fresh->version != f->config->version))
		record_refused_policies(db, fresh, f->host);
	config_free(f->config);
	f->config = fresh;
	f->version_checked = now;
	return 0;
}
