/*
 * admin.c - tsactl's configuration verbs: services, their ordered policies and each policy's
 * ordered filter chain (see admin.h and the README, section "tsactl").
 * Input: the operator's command line.  Every write goes through src/store/edit.c, the one
 * write path the web console takes too, so both accept and refuse the same changes: each one
 * transaction (the workers, notified at commit by the config_version trigger, see a change
 * whole or not at all) with its config-change event naming tsactl's system user and database
 * role.  Here: the arguments parsed, the outcome said.  SQL takes user text only as
 * parameters.
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

/* The policy's id into pid (edit.c), the reason said here: 0, or an exit status. */
static int
find_policy(PGconn *c, const char *service, const char *policy, char *pid, size_t pidlen)
{
	char err[512];
	int rc = edit_find_policy(c, service, policy, 0, pid, pidlen, err, sizeof(err));

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
	char err[512];
	PGconn *c;
	PGresult *r;
	int rc = 0;

	cli_args(SERVICE_USAGE, argc, argv, NULL, 0, NULL, 0, 0);
	c = cli_connect();
	r = db_query(c, "SELECT s.name AS service,"
	    " (SELECT count(*) FROM policies p WHERE p.service_id = s.id) AS policies,"
	    " (SELECT count(*) FROM clients k WHERE k.service_id = s.id) AS clients,"
	    " " SQL_UTC("s.created_at", "created") ", s.url, s.description"
	    " FROM services s ORDER BY s.name", 0, NULL, "listing services", &rc, err,
	    sizeof(err));
	if (r == NULL)
		cli_err("%s", err);
	else
		out_rows(r, 0);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
service_add(int argc, char **argv)
{
	const char *desc = NULL;
	struct cli_opt opts[] = { { "--description", &desc } };
	char *pos[1], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(SERVICE_USAGE, argc, argv, opts, 1, pos, 1, 1);
	c = cli_connect();
	if ((rc = edit_service_add(c, pos[0], desc, cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "service %s added", pos[0]);
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* The URL of the service's description. */
static int
service_set(int argc, char **argv)
{
	const char *url = NULL;
	struct cli_opt opts[] = { { "--url", &url } };
	char *pos[1], err[1024];
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
	else
		out_done(c, r, "service %s set", pos[0]);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
service_remove(int argc, char **argv)
{
	char *pos[1], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(SERVICE_USAGE, argc, argv, NULL, 0, pos, 1, 1);
	c = cli_connect();
	if ((rc = edit_service_remove(c, pos[0], cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "service %s removed, with its %s policies and %s clients", pos[0],
		    PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	PQclear(r);
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
	char *pos[1] = { NULL }, err[512];
	const char *p[1];
	PGconn *c;
	PGresult *r = NULL;
	int rc = 0;

	cli_args(POLICY_USAGE, argc, argv, NULL, 0, pos, 0, 1);
	p[0] = pos[0];
	c = cli_connect();
	if (pos[0] != NULL && (rc = edit_find_service(c, pos[0], 0, NULL, 0, err,
	    sizeof(err))) != 0)
		goto out;
	r = db_query(c, "SELECT s.name AS service, p.position, p.name AS policy, p.policy_oid,"
	    " g.name AS signer, p.match_protocol, p.match_req_policy, p.match_client_cert,"
	    " p.match_client,"
	    " (SELECT count(*) FROM policy_filters f WHERE f.policy_id = p.id) AS filters"
	    " FROM policies p JOIN services s ON s.id = p.service_id"
	    " JOIN signers g ON g.id = p.signer_id"
	    " WHERE $1::text IS NULL OR s.name = $1 ORDER BY s.name, p.position", 1, p,
	    "listing policies", &rc, err, sizeof(err));
	if (r != NULL)
		out_rows(r, 0);
out:
	if (rc != 0)
		cli_err("%s", err);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
policy_show(int argc, char **argv)
{
	char *pos[2], pid[24], err[512];
	const char *p[1] = { pid };
	PGconn *c;
	PGresult *r = NULL, *f = NULL;
	int i, rc;

	cli_args(POLICY_USAGE, argc, argv, NULL, 0, pos, 2, 2);
	c = cli_connect();
	if ((rc = find_policy(c, pos[0], pos[1], pid, sizeof(pid))) != 0)
		goto out;
	if ((r = db_query(c, "SELECT s.name AS service, p.name AS policy, p.position,"
	    " p.policy_oid, g.name AS signer, p.match_protocol, p.match_req_policy,"
	    " p.match_client_cert, p.match_client FROM policies p"
	    " JOIN services s ON s.id = p.service_id JOIN signers g ON g.id = p.signer_id"
	    " WHERE p.id = $1::integer", 1, p, "reading the policy", &rc, err,
	    sizeof(err))) == NULL ||
	    (f = db_query(c, "SELECT position, filter, params FROM policy_filters"
	    " WHERE policy_id = $1::integer ORDER BY position", 1, p, "reading the policy", &rc,
	    err, sizeof(err))) == NULL) {
		cli_err("%s", err);
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
signer_warn(PGconn *c, const char *name)
{
	const char *p[1] = { name };
	struct signer s;
	char err[512];
	PGresult *g;
	int rc;

	if ((g = db_query(c, "SELECT name, pkcs11_uri, certificate, chain, scheme, digest"
	    " FROM signers WHERE name = $1", 1, p, "reading the signer", &rc, err,
	    sizeof(err))) == NULL || PQntuples(g) != 1) {
		PQclear(g);
		return;
	}
	err[0] = '\0';
	if (signer_load(&s, 0, PQgetvalue(g, 0, 0), PQgetvalue(g, 0, 1), PQgetvalue(g, 0, 2),
	    PQgetvalue(g, 0, 3), PQgetvalue(g, 0, 4), PQgetvalue(g, 0, 5), 0, err,
	    sizeof(err)) == -1)
		cli_err("warning: signer %s is unreadable: %s", name, err);
	else {
		if (s.refused != NULL)
			cli_err("warning: signer %s is refused (%s): the policy answers "
			    "systemFailure until it is replaced", s.name, s.refused);
		signer_free(&s);
	}
	PQclear(g);
}

static int
policy_add(int argc, char **argv)
{
	struct edit_policy e;
	const char *position = NULL;
	struct cli_opt opts[] = {
		{ "--oid", &e.oid }, { "--signer", &e.signer }, { "--position", &position },
		{ "--protocol", &e.protocol }, { "--req-policy", &e.req_policy },
		{ "--client-cert", &e.client_cert }, { "--client", &e.client },
	};
	char *pos[2], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	memset(&e, 0, sizeof(e));
	cli_args(POLICY_USAGE, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 2, 2);
	e.name = pos[1];
	if (e.oid == NULL || e.signer == NULL) {
		cli_err("policy add needs --oid and --signer");
		cli_usage(POLICY_USAGE);
	}
	c = cli_connect();
	if ((rc = edit_policy_add(c, pos[0], &e, position, cli_actor(c), &r, err,
	    sizeof(err))) != 0)
		cli_err("%s", err);
	else {
		signer_warn(c, e.signer);
		out_done(c, r, "policy %s added to service %s at position %s", pos[1], pos[0],
		    PQgetvalue(r, 0, 2));
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
policy_remove(int argc, char **argv)
{
	char *pos[2], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(POLICY_USAGE, argc, argv, NULL, 0, pos, 2, 2);
	c = cli_connect();
	if ((rc = edit_policy_remove(c, pos[0], pos[1], cli_actor(c), &r, err,
	    sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "policy %s removed from service %s, with its %s filters", pos[1],
		    pos[0], PQgetvalue(r, 0, 3));
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* Changes a policy's OID, signer or match rules in place (as the web console's form). */
static int
policy_set(int argc, char **argv)
{
	struct edit_policy e;
	struct cli_opt opts[] = {
		{ "--oid", &e.oid }, { "--signer", &e.signer }, { "--protocol", &e.protocol },
		{ "--req-policy", &e.req_policy }, { "--client-cert", &e.client_cert },
		{ "--client", &e.client },
	};
	char *pos[2], err[512];
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
	c = cli_connect();
	if ((rc = edit_policy_set(c, pos[0], pos[1], &e, cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "policy %s of service %s set", pos[1], pos[0]);
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
	char *pos[2], pid[24], err[512];
	const char *p[1] = { pid };
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(FILTER_USAGE, argc, argv, NULL, 0, pos, 2, 2);
	c = cli_connect();
	if ((rc = find_policy(c, pos[0], pos[1], pid, sizeof(pid))) != 0)
		goto out;
	if ((r = db_query(c, "SELECT position, filter, params FROM policy_filters"
	    " WHERE policy_id = $1::integer ORDER BY position", 1, p, "listing filters", &rc, err,
	    sizeof(err))) == NULL)
		cli_err("%s", err);
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
	char *pos[4] = { NULL, NULL, NULL, NULL }, err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(FILTER_USAGE, argc, argv, opts, 1, pos, 3, 4);
	json = pos[3] != NULL ? pos[3] : "{}";
	c = cli_connect();
	if ((rc = edit_filter_add(c, pos[0], pos[1], pos[2], json, position, cli_actor(c), &r, err,
	    sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "filter %s added to %s/%s at position %s", pos[2], pos[0],
		    pos[1], PQgetvalue(r, 0, 0));
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
	char *pos[2], err[512];
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
	else
		out_done(c, r, "filter %s removed from %s/%s (position %ld)",
		    PQgetvalue(r, 0, 1), pos[0], pos[1], at);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
filter_set(int argc, char **argv)
{
	const char *position = NULL;
	struct cli_opt opts[] = { { "--position", &position } };
	char *pos[3], err[512];
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
	else
		out_done(c, r, "filter %s at %s/%s position %ld set to %s", PQgetvalue(r, 0, 1),
		    pos[0], pos[1], at, PQgetvalue(r, 0, 2));
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
