/*
 * admin.c - tsactl's configuration verbs: services, their ordered policies and each policy's
 * ordered filter chain (see admin.h and the README, section "tsactl").
 * Input: the operator's command line.  Every value is checked before anything is written:
 * a filter's name and parameters by the worker's own code (filter_validate), after PostgreSQL
 * has flattened the JSON exactly as store/config.c does.  Filter changes and the position
 * bookkeeping go through src/store/edit.c, the write path the web console takes too, so both
 * accept and refuse the same changes.
 * Every write is one transaction: the workers, notified at commit by the config_version
 * trigger, see a change whole or not at all.  A policy or filter change is recorded in the
 * same transaction as a config-change event naming tsactl's system user and database role
 * (edit.c, or db_end() for the writes of this file: every configuration write has one).
 * SQL takes user text only as parameters.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "asn1.h"
#include "edit.h"
#include "policy.h"
#include "store.h"
#include "tsa_limits.h"

/* ---- lookups and positions (edit.c), the reason said here ---------------------------------- */

/* The policy's id into pid (policy row locked when lock is set): 0, or an exit status. */
static int
find_policy(PGconn *c, const char *service, const char *policy, int lock, char *pid,
    size_t pidlen)
{
	char err[512];
	int rc = edit_find_policy(c, service, policy, lock, pid, pidlen, err, sizeof(err));

	if (rc != 0)
		cli_err("%s", err);
	return rc;
}

static int
make_room(PGconn *c, enum edit_order o, const char *parent, const char *req, long *at)
{
	char err[512];
	int rc = edit_make_room(c, o, parent, req, at, err, sizeof(err));

	if (rc != 0)
		cli_err("%s", err);
	return rc;
}

static int
close_gap(PGconn *c, enum edit_order o, const char *parent, long at)
{
	char err[512];
	int rc = edit_close_gap(c, o, parent, at, err, sizeof(err));

	if (rc != 0)
		cli_err("%s", err);
	return rc;
}

/* ---- services ------------------------------------------------------------------------------ */

static const char *SERVICE_USAGE =
    "service list\n"
    "       tsactl service add NAME [--description TEXT]\n"
    "       tsactl service set NAME --url URL|none\n"
    "       tsactl service remove NAME\n";

static int
service_list(int argc, char **argv)
{
	PGconn *c;
	PGresult *r;
	int rc = 0;

	cli_args(SERVICE_USAGE, argc, argv, NULL, 0, NULL, 0, 0);
	c = cli_connect();
	r = db_run(c, "SELECT s.name AS service,"
	    " (SELECT count(*) FROM policies p WHERE p.service_id = s.id) AS policies,"
	    " (SELECT count(*) FROM clients k WHERE k.service_id = s.id) AS clients,"
	    " " SQL_UTC("s.created_at", "created") ", s.url, s.description"
	    " FROM services s ORDER BY s.name", 0, NULL);
	if (r == NULL)
		rc = db_fail(c, "listing services");
	else
		out_rows(r, 0);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
service_add(int argc, char **argv)
{
	const char *desc = NULL, *p[2];
	struct cli_opt opts[] = { { "--description", &desc } };
	char *pos[1], ver[24];
	PGconn *c;
	PGresult *r;
	int rc;

	cli_args(SERVICE_USAGE, argc, argv, opts, 1, pos, 1, 1);
	if (!cli_name_ok(pos[0])) {
		cli_err("'%s' is not a service name (1 to 128 printable characters, no spaces)",
		    pos[0]);
		return EX_DATAERR;
	}
	p[0] = pos[0];
	p[1] = desc != NULL ? desc : "";
	c = cli_connect();
	if ((rc = db_begin(c)) != 0)
		goto out;
	r = db_run(c, "INSERT INTO services (name, description) VALUES ($1, $2)"
	    " ON CONFLICT (name) DO NOTHING RETURNING name AS service, description", 2, p);
	if (r == NULL)
		rc = db_fail(c, "adding the service");
	else if (PQntuples(r) == 0) {
		cli_err("service '%s' exists already", pos[0]);
		rc = EX_FAIL;
	}
	if ((rc = db_end(c, rc, pos[0], "service %s added", pos[0])) == 0) {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "service %s added", pos[0]);
	}
	PQclear(r);
out:
	PQfinish(c);
	return rc;
}

/* The URL of the service's description (edit.c, the write path the console would take). */
static int
service_set(int argc, char **argv)
{
	const char *url = NULL;
	struct cli_opt opts[] = { { "--url", &url } };
	char *pos[1], ver[24], err[1024];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(SERVICE_USAGE, argc, argv, opts, 1, pos, 1, 1);
	if (url == NULL) {
		cli_err("service set needs --url");
		cli_usage(SERVICE_USAGE);
	}
	c = cli_connect();
	if ((rc = edit_service_url(c, pos[0], url, cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "service %s set", pos[0]);
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
service_remove(int argc, char **argv)
{
	char *pos[1], sid[24], ver[24];
	const char *p[1] = { sid };
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(SERVICE_USAGE, argc, argv, NULL, 0, pos, 1, 1);
	c = cli_connect();
	if ((rc = db_begin(c)) != 0)
		goto out;
	if ((rc = db_service(c, pos[0], 1, sid, sizeof(sid))) == 0) {
		/* RETURNING sees the rows the cascade is about to remove. */
		r = db_run(c, "DELETE FROM services s WHERE id = $1::integer RETURNING name AS service,"
		    " (SELECT count(*) FROM policies p WHERE p.service_id = s.id) AS policies,"
		    " (SELECT count(*) FROM clients k WHERE k.service_id = s.id) AS clients", 1, p);
		if (r == NULL)
			rc = db_fail(c, "removing the service");
	}
	if ((rc = db_end(c, rc, NULL, "service %s removed, with its policies and clients",
	    pos[0])) == 0) {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "service %s removed, with its %s policies and %s clients", pos[0],
		    PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	}
	PQclear(r);
out:
	PQfinish(c);
	return rc;
}

int
cmd_service(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", service_list }, { "add", service_add }, { "set", service_set },
		{ "remove", service_remove },
	};

	return cli_dispatch(SERVICE_USAGE, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

/* ---- policies ------------------------------------------------------------------------------ */

static const char *POLICY_USAGE =
    "policy list [SERVICE]\n"
    "       tsactl policy show SERVICE POLICY\n"
    "       tsactl policy add SERVICE POLICY --oid OID --signer SIGNER [--position N]\n"
    "              [--protocol rfc3161|soap|authenticode] [--req-policy OID]\n"
    "              [--client-cert yes|no] [--client NAME]\n"
    "       tsactl policy set SERVICE POLICY [--oid OID] [--signer SIGNER]\n"
    "              [--protocol rfc3161|soap|authenticode|any] [--req-policy OID|any]\n"
    "              [--client-cert yes|no|any] [--client NAME|any]\n"
    "       tsactl policy remove SERVICE POLICY\n";

static int
policy_list(int argc, char **argv)
{
	char *pos[1] = { NULL }, sid[24];
	const char *p[1];
	PGconn *c;
	PGresult *r = NULL;
	int rc = 0;

	cli_args(POLICY_USAGE, argc, argv, NULL, 0, pos, 0, 1);
	p[0] = pos[0];
	c = cli_connect();
	if (pos[0] != NULL && (rc = db_service(c, pos[0], 0, sid, sizeof(sid))) != 0)
		goto out;
	r = db_run(c, "SELECT s.name AS service, p.position, p.name AS policy, p.policy_oid,"
	    " g.name AS signer, p.match_protocol, p.match_req_policy, p.match_client_cert,"
	    " p.match_client,"
	    " (SELECT count(*) FROM policy_filters f WHERE f.policy_id = p.id) AS filters"
	    " FROM policies p JOIN services s ON s.id = p.service_id"
	    " JOIN signers g ON g.id = p.signer_id"
	    " WHERE $1::text IS NULL OR s.name = $1 ORDER BY s.name, p.position", 1, p);
	if (r == NULL)
		rc = db_fail(c, "listing policies");
	else
		out_rows(r, 0);
out:
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
policy_show(int argc, char **argv)
{
	char *pos[2], pid[24];
	const char *p[1] = { pid };
	PGconn *c;
	PGresult *r = NULL, *f = NULL;
	int i, rc;

	cli_args(POLICY_USAGE, argc, argv, NULL, 0, pos, 2, 2);
	c = cli_connect();
	if ((rc = find_policy(c, pos[0], pos[1], 0, pid, sizeof(pid))) != 0)
		goto out;
	r = db_run(c, "SELECT s.name AS service, p.name AS policy, p.position, p.policy_oid,"
	    " g.name AS signer, p.match_protocol, p.match_req_policy, p.match_client_cert,"
	    " p.match_client FROM policies p JOIN services s ON s.id = p.service_id"
	    " JOIN signers g ON g.id = p.signer_id WHERE p.id = $1::integer", 1, p);
	if (r != NULL)
		f = db_run(c, "SELECT position, filter, params FROM policy_filters"
		    " WHERE policy_id = $1::integer ORDER BY position", 1, p);
	if (r == NULL || f == NULL || PQntuples(r) != 1) {
		rc = db_fail(c, "reading the policy");
		goto out;
	}
	if (!cli_json) {
		out_row(r, 0, "any");
		printf("filters:%s\n", PQntuples(f) == 0 ? " none (the defaults)" : "");
		if (PQntuples(f) > 0)
			out_rows(f, 0);
		goto out;
	}
	json_row_open(r, 0);
	fputs(", \"filters\": [", stdout);
	for (i = 0; i < PQntuples(f); i++) {
		fputs(i > 0 ? ",\n  " : "\n  ", stdout);
		json_row_open(f, i);
		putchar('}');
	}
	fputs(PQntuples(f) > 0 ? "\n]}\n" : "]}\n", stdout);
out:
	PQclear(r);
	PQclear(f);
	PQfinish(c);
	return rc;
}

/* A warning when the worker will refuse the signer's certificate (its key is not opened). */
static void
signer_warn(const PGresult *g)
{
	struct signer s;
	char err[512];

	err[0] = '\0';
	if (signer_load(&s, 0, PQgetvalue(g, 0, 1), PQgetvalue(g, 0, 2), PQgetvalue(g, 0, 3),
	    PQgetvalue(g, 0, 4), PQgetvalue(g, 0, 5), PQgetvalue(g, 0, 6), 0, err,
	    sizeof(err)) == -1) {
		cli_err("warning: signer %s is unreadable: %s", PQgetvalue(g, 0, 1), err);
		return;
	}
	if (s.refused != NULL)
		cli_err("warning: signer %s is refused (%s): the policy answers systemFailure "
		    "until it is replaced", s.name, s.refused);
	signer_free(&s);
}

struct policy_args {
	const char	*service, *name, *oid, *signer, *position, *protocol, *req_policy;
	const char	*client_cert, *client;
};

/* "any" means no rule: NULL. */
static const char *
no_any(const char *v)
{
	return v != NULL && strcmp(v, "any") == 0 ? NULL : v;
}

/* The shared check (edit.c, as the web console's), then the values as the columns take them. */
static int
policy_args_check(struct policy_args *a)
{
	struct edit_policy e = { a->name, a->oid, NULL, a->protocol, a->req_policy,
	    a->client_cert, a->client };
	char err[512];
	int rc;

	if ((rc = edit_policy_check(&e, err, sizeof(err))) != 0) {
		cli_err("%s", err);
		return rc;
	}
	a->protocol = no_any(a->protocol);
	a->req_policy = no_any(a->req_policy);
	a->client = no_any(a->client);
	a->client_cert = no_any(a->client_cert);
	if (a->client_cert != NULL)
		a->client_cert = strcmp(a->client_cert, "yes") == 0 ? "true" : "false";
	return 0;
}

/* In the transaction, service locked: the signer row (for signer_warn), and the checks that
 * the policy name is free and the client registered.  0, or an exit status. */
static int
policy_refs(PGconn *c, const struct policy_args *a, const char *sid, PGresult **signer)
{
	const char *p[2] = { sid, a->name }, *q[1] = { a->signer }, *k[2] = { sid, a->client };
	PGresult *r;
	int n;

	if ((r = db_run(c, "SELECT 1 FROM policies WHERE service_id = $1::integer AND name = $2",
	    2, p)) == NULL)
		return db_fail(c, "looking up the policy");
	n = PQntuples(r);
	PQclear(r);
	if (n > 0) {
		cli_err("service '%s' has a policy '%s' already", a->service, a->name);
		return EX_FAIL;
	}
	if (a->client != NULL) {
		if ((r = db_run(c, "SELECT 1 FROM clients WHERE service_id = $1::integer"
		    " AND name = $2", 2, k)) == NULL)
			return db_fail(c, "looking up the client");
		n = PQntuples(r);
		PQclear(r);
		if (n == 0) {
			cli_err("service '%s' has no registered client '%s' (tsactl client add)",
			    a->service, a->client);
			return EX_FAIL;
		}
	}
	if ((r = db_run(c, "SELECT id, name, pkcs11_uri, certificate, chain, scheme, digest"
	    " FROM signers WHERE name = $1", 1, q)) == NULL)
		return db_fail(c, "looking up the signer");
	if (PQntuples(r) == 0) {
		cli_err("no signer '%s' (tsactl signer list)", a->signer);
		PQclear(r);
		return EX_FAIL;
	}
	*signer = r;
	return 0;
}

static int
policy_add(int argc, char **argv)
{
	struct policy_args a;
	struct cli_opt opts[] = {
		{ "--oid", &a.oid }, { "--signer", &a.signer }, { "--position", &a.position },
		{ "--protocol", &a.protocol }, { "--req-policy", &a.req_policy },
		{ "--client-cert", &a.client_cert }, { "--client", &a.client },
	};
	char *pos[2], sid[24], at_text[24], ver[24];
	const char *p[9];
	PGconn *c;
	PGresult *g = NULL, *r = NULL;
	long at = 0;
	int rc;

	memset(&a, 0, sizeof(a));
	cli_args(POLICY_USAGE, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 2, 2);
	a.service = pos[0];
	a.name = pos[1];
	if (a.oid == NULL || a.signer == NULL) {
		cli_err("policy add needs --oid and --signer");
		cli_usage(POLICY_USAGE);
	}
	if ((rc = policy_args_check(&a)) != 0)
		return rc;
	c = cli_connect();
	if ((rc = db_begin(c)) != 0)
		goto out;
	if ((rc = db_service(c, a.service, 1, sid, sizeof(sid))) != 0 ||
	    (rc = policy_refs(c, &a, sid, &g)) != 0 ||
	    (rc = make_room(c, EDIT_POLICIES, sid, a.position, &at)) != 0)
		goto end;
	snprintf(at_text, sizeof(at_text), "%ld", at);
	p[0] = sid; p[1] = at_text; p[2] = a.name; p[3] = a.protocol; p[4] = a.req_policy;
	p[5] = a.oid; p[6] = PQgetvalue(g, 0, 0); p[7] = a.client_cert; p[8] = a.client;
	r = db_run(c, "INSERT INTO policies (service_id, position, name, match_protocol,"
	    " match_req_policy, policy_oid, signer_id, match_client_cert, match_client)"
	    " VALUES ($1::integer, $2::integer, $3, $4, $5, $6, $7::integer, $8::boolean, $9)"
	    " RETURNING (SELECT name FROM services WHERE id = service_id) AS service,"
	    " name AS policy, position", 9, p);
	if (r == NULL)
		rc = db_fail(c, "adding the policy");
end:
	if ((rc = db_end(c, rc, a.service, "policy %s added to service %s at position %ld"
	    " (OID %s, signer %s)", a.name, a.service, at, a.oid, a.signer)) == 0) {
		signer_warn(g);
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "policy %s added to service %s at position %ld", a.name,
		    a.service, at);
	}
out:
	PQclear(g);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
policy_remove(int argc, char **argv)
{
	char *pos[2], sid[24], ver[24];
	const char *p[2] = { sid, NULL };
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(POLICY_USAGE, argc, argv, NULL, 0, pos, 2, 2);
	p[1] = pos[1];
	c = cli_connect();
	if ((rc = db_begin(c)) != 0)
		goto out;
	if ((rc = db_service(c, pos[0], 1, sid, sizeof(sid))) != 0)
		goto end;
	r = db_run(c, "DELETE FROM policies p WHERE service_id = $1::integer AND name = $2"
	    " RETURNING (SELECT name FROM services WHERE id = service_id) AS service,"
	    " name AS policy, position,"
	    " (SELECT count(*) FROM policy_filters f WHERE f.policy_id = p.id) AS filters", 2, p);
	if (r == NULL)
		rc = db_fail(c, "removing the policy");
	else if (PQntuples(r) == 0) {
		cli_err("service '%s' has no policy '%s'", pos[0], pos[1]);
		rc = EX_FAIL;
	} else
		rc = close_gap(c, EDIT_POLICIES, sid, atol(PQgetvalue(r, 0, 2)));
end:
	if ((rc = db_end(c, rc, pos[0], "policy %s removed from service %s, with its filters",
	    pos[1], pos[0])) == 0) {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "policy %s removed from service %s, with its %s filters", pos[1],
		    pos[0], PQgetvalue(r, 0, 3));
	}
out:
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* Changes a policy's OID, signer or match rules in place (edit.c, as the web console does). */
static int
policy_set(int argc, char **argv)
{
	struct edit_policy e;
	struct cli_opt opts[] = {
		{ "--oid", &e.oid }, { "--signer", &e.signer }, { "--protocol", &e.protocol },
		{ "--req-policy", &e.req_policy }, { "--client-cert", &e.client_cert },
		{ "--client", &e.client },
	};
	char *pos[2], ver[24], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	memset(&e, 0, sizeof(e));
	cli_args(POLICY_USAGE, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 2, 2);
	if (e.oid == NULL && e.signer == NULL && e.protocol == NULL && e.req_policy == NULL &&
	    e.client_cert == NULL && e.client == NULL) {
		cli_err("policy set needs at least one of --oid, --signer, --protocol, "
		    "--req-policy, --client-cert, --client");
		cli_usage(POLICY_USAGE);
	}
	if ((rc = edit_policy_check(&e, err, sizeof(err))) != 0) {
		cli_err("%s", err);
		return rc;
	}
	c = cli_connect();
	if ((rc = edit_policy_set(c, pos[0], pos[1], &e, cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "policy %s of service %s set", pos[1], pos[0]);
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
cmd_policy(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", policy_list }, { "show", policy_show }, { "add", policy_add },
		{ "set", policy_set }, { "remove", policy_remove },
	};

	return cli_dispatch(POLICY_USAGE, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

/* ---- filters ------------------------------------------------------------------------------- */

static const char *FILTER_USAGE =
    "filter list SERVICE POLICY\n"
    "       tsactl filter add SERVICE POLICY FILTER [JSON] [--position N]\n"
    "       tsactl filter remove SERVICE POLICY --position N\n"
    "       tsactl filter set SERVICE POLICY --position N JSON\n";

static int
filter_list(int argc, char **argv)
{
	char *pos[2], pid[24];
	const char *p[1] = { pid };
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(FILTER_USAGE, argc, argv, NULL, 0, pos, 2, 2);
	c = cli_connect();
	if ((rc = find_policy(c, pos[0], pos[1], 0, pid, sizeof(pid))) != 0)
		goto out;
	r = db_run(c, "SELECT position, filter, params FROM policy_filters"
	    " WHERE policy_id = $1::integer ORDER BY position", 1, p);
	if (r == NULL)
		rc = db_fail(c, "listing filters");
	else
		out_rows(r, 0);
out:
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
filter_add(int argc, char **argv)
{
	const char *position = NULL, *json;
	struct cli_opt opts[] = { { "--position", &position } };
	char *pos[4] = { NULL, NULL, NULL, NULL }, ver[24], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(FILTER_USAGE, argc, argv, opts, 1, pos, 3, 4);
	json = pos[3] != NULL ? pos[3] : "{}";
	c = cli_connect();
	if ((rc = edit_filter_add(c, pos[0], pos[1], pos[2], json, position, cli_actor(c), &r, err,
	    sizeof(err))) != 0)
		cli_err("%s", err);
	else {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "filter %s added to %s/%s at position %s", pos[2], pos[0],
		    pos[1], PQgetvalue(r, 0, 0));
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* The --position that filter remove and set require.  0, or an exit status once said why. */
static int
required_position(const char *position, const char *verb, long *at)
{
	if (position == NULL) {
		cli_err("%s needs --position", verb);
		cli_usage(FILTER_USAGE);
	}
	if (!cli_int(position, 1, INT_MAX, at)) {
		cli_err("--position must be a whole number from 1, not '%s'", position);
		return EX_DATAERR;
	}
	return 0;
}

static int
filter_remove(int argc, char **argv)
{
	const char *position = NULL;
	struct cli_opt opts[] = { { "--position", &position } };
	char *pos[2], ver[24], err[512];
	PGconn *c;
	PGresult *r = NULL;
	long at = 0;
	int rc;

	cli_args(FILTER_USAGE, argc, argv, opts, 1, pos, 2, 2);
	if ((rc = required_position(position, "filter remove", &at)) != 0)
		return rc;
	c = cli_connect();
	if ((rc = edit_filter_remove(c, pos[0], pos[1], at, cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "filter %s removed from %s/%s (position %ld)",
		    PQgetvalue(r, 0, 1), pos[0], pos[1], at);
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
filter_set(int argc, char **argv)
{
	const char *position = NULL;
	struct cli_opt opts[] = { { "--position", &position } };
	char *pos[3], ver[24], err[512];
	PGconn *c;
	PGresult *r = NULL;
	long at = 0;
	int rc;

	cli_args(FILTER_USAGE, argc, argv, opts, 1, pos, 3, 3);
	if ((rc = required_position(position, "filter set", &at)) != 0)
		return rc;
	c = cli_connect();
	if ((rc = edit_filter_set(c, pos[0], pos[1], at, pos[2], cli_actor(c), &r, err,
	    sizeof(err))) != 0)
		cli_err("%s", err);
	else {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "filter %s at %s/%s position %ld set to %s", PQgetvalue(r, 0, 1),
		    pos[0], pos[1], at, PQgetvalue(r, 0, 2));
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
cmd_filter(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", filter_list }, { "add", filter_add }, { "remove", filter_remove },
		{ "set", filter_set },
	};

	return cli_dispatch(FILTER_USAGE, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}
