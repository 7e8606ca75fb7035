/*
 * edit_policy.c - the writes of services (added, removed, their url), of policies (added, set,
 * removed) and of their filter chains (added, set, removed): see edit.h.
 * Input: an operator's or administrator's text (names, OIDs, match rules, a URL, positions,
 * JSON parameters), passed to PostgreSQL only as statement parameters; a filter's parameters
 * are checked by the worker's own filter_validate() after PostgreSQL has flattened them as the
 * worker's load does, before anything is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "asn1.h"
#include "edit.h"
#include "edit_int.h"
#include "policy.h"
#include "store.h"
#include "tsa_limits.h"
#include "wsdl.h"

/* ---- filters ------------------------------------------------------------------------------- */

/* The worker's flattening (store.h), over one value. */
static const char *SQL_FLATTEN =
    "SELECT e.key, v.value FROM (SELECT $1::jsonb AS params) f" SQL_FLATTEN_PARAMS
    " ORDER BY e.key, v.ord";

int
edit_filter_check(PGconn *c, const char *name, const char *json, char *err, size_t errlen)
{
	struct filter_param params[TSA_MAX_FILTER_PARAMS];
	const char *p[1] = { json };
	PGresult *r;
	size_t np = 0;
	int i, rc = 0;

	if ((r = db_query(c, "SELECT jsonb_typeof($1::jsonb)", 1, p,
	    "the parameters are not valid JSON", &rc, err, errlen)) == NULL)
		return rc;
	if (strcmp(PQgetvalue(r, 0, 0), "object") != 0) {
		snprintf(err, errlen, "filter %s: the parameters must be a JSON object, not %s %s",
		    name, strchr("aeiou", PQgetvalue(r, 0, 0)[0]) ? "an" : "a",
		    PQgetvalue(r, 0, 0));
		PQclear(r);
		return EX_DATAERR;
	}
	PQclear(r);
	if ((r = db_query(c, SQL_FLATTEN, 1, p, "flattening the parameters", &rc, err,
	    errlen)) == NULL)
		return rc;
	rc = EX_DATAERR;
	for (i = 0; i < PQntuples(r); i++) {
		if (PQgetisnull(r, i, 0))
			continue;	/* {} */
		if (np == TSA_MAX_FILTER_PARAMS) {
			snprintf(err, errlen, "filter %s: too many parameters", name);
			goto out;
		}
		params[np].key = PQgetvalue(r, i, 0);
		params[np].value = PQgetisnull(r, i, 1) ? "null" : PQgetvalue(r, i, 1);
		np++;
	}
	if (filter_validate(name, params, np, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int
edit_filter_add(PGconn *c, const char *service, const char *policy, const char *filter,
    const char *json, const char *position, const struct edit_actor *actor, PGresult **row,
    char *err, size_t errlen)
{
	char pid[24], at_text[24], what[768];
	const char *p[4];
	PGresult *r = NULL;
	long at;
	int rc;

	if ((rc = edit_filter_check(c, filter, json, err, errlen)) != 0 ||
	    (rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((rc = edit_find_policy(c, service, policy, 1, pid, sizeof(pid), err, errlen)) != 0 ||
	    (rc = edit_make_room(c, EDIT_FILTERS, pid, position, &at, err, errlen)) != 0)
		goto end;
	snprintf(at_text, sizeof(at_text), "%ld", at);
	p[0] = pid; p[1] = at_text; p[2] = filter; p[3] = json;
	if ((r = db_query(c, "INSERT INTO policy_filters (policy_id, position, filter, params)"
	    " VALUES ($1::integer, $2::integer, $3, $4::jsonb)"
	    " RETURNING position, filter, params", 4, p, "adding the filter", &rc, err,
	    errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "filter %s added to %s/%s at position %ld: %s", filter,
	    service, policy, at, PQgetvalue(r, 0, 2));
	rc = edit_record(c, actor, service, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}

/* In the transaction, the policy locked: the filter at position into fid and name. */
static int
find_filter(PGconn *c, const char *service, const char *policy, const char *pid, long at,
    char *fid, size_t fidlen, char *name, size_t namelen, char *err, size_t errlen)
{
	char pos[24];
	const char *p[2] = { pid, pos };
	PGresult *r;
	int rc = 0;

	snprintf(pos, sizeof(pos), "%ld", at);
	if ((r = db_query(c, "SELECT id, filter FROM policy_filters WHERE policy_id = $1::integer"
	    " AND position = $2::integer", 2, p, "looking up the filter", &rc, err,
	    errlen)) == NULL)
		return rc;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "%s/%s has no filter at position %ld", service, policy, at);
		PQclear(r);
		return EDIT_FAIL;
	}
	snprintf(fid, fidlen, "%s", PQgetvalue(r, 0, 0));
	snprintf(name, namelen, "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	return 0;
}

int
edit_filter_set(PGconn *c, const char *service, const char *policy, long at,
    const char *json, const struct edit_actor *actor, PGresult **row, char *err,
    size_t errlen)
{
	char pid[24], fid[24], name[128], what[768];
	const char *p[2];
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((rc = edit_find_policy(c, service, policy, 1, pid, sizeof(pid), err, errlen)) != 0 ||
	    (rc = find_filter(c, service, policy, pid, at, fid, sizeof(fid), name, sizeof(name),
	    err, errlen)) != 0 ||
	    (rc = edit_filter_check(c, name, json, err, errlen)) != 0)
		goto end;
	p[0] = fid;
	p[1] = json;
	if ((r = db_query(c, "UPDATE policy_filters SET params = $2::jsonb WHERE id = $1::integer"
	    " RETURNING position, filter, params", 2, p, "setting the parameters", &rc, err,
	    errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "filter %s at %s/%s position %ld set to %s", name, service,
	    policy, at, PQgetvalue(r, 0, 2));
	rc = edit_record(c, actor, service, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}

int
edit_filter_remove(PGconn *c, const char *service, const char *policy, long at,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	char pid[24], pos[24], what[768];
	const char *p[2] = { pid, pos };
	PGresult *r = NULL;
	int rc;

	snprintf(pos, sizeof(pos), "%ld", at);
	if ((rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((rc = edit_find_policy(c, service, policy, 1, pid, sizeof(pid), err, errlen)) != 0)
		goto end;
	if ((r = db_query(c, "DELETE FROM policy_filters WHERE policy_id = $1::integer"
	    " AND position = $2::integer RETURNING position, filter, params", 2, p,
	    "removing the filter", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "%s/%s has no filter at position %ld", service, policy, at);
		rc = EDIT_FAIL;
		goto end;
	}
	if ((rc = edit_close_gap(c, EDIT_FILTERS, pid, at, err, errlen)) != 0)
		goto end;
	snprintf(what, sizeof(what), "filter %s removed from %s/%s (position %ld, was %s)",
	    PQgetvalue(r, 0, 1), service, policy, at, PQgetvalue(r, 0, 2));
	rc = edit_record(c, actor, service, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}

/* ---- services ------------------------------------------------------------------------------ */

int
edit_service_url(PGconn *c, const char *service, const char *url,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	const char *p[2] = { service, strcmp(url, "none") == 0 ? NULL : url };
	char what[1400];
	PGresult *r = NULL;
	int rc;

	if (p[1] != NULL && wsdl_url_check(p[1], err, errlen) == -1)
		return EX_DATAERR;
	if ((rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((r = db_query(c, "UPDATE services SET url = $2 WHERE name = $1 RETURNING name AS service,"
	    " url", 2, p, "setting the service's url", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "no service '%s'", service);
		rc = EDIT_FAIL;
		goto end;
	}
	snprintf(what, sizeof(what), "service %s set: url %s", service,
	    p[1] != NULL ? p[1] : "none (the web server's name)");
	rc = edit_record(c, actor, service, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}

/* ---- policies ------------------------------------------------------------------------------ */

int
edit_policy_check(const struct edit_policy *p, char *err, size_t errlen)
{
	const char *cc = p->client_cert;
	int rc;

	if (p->name != NULL && (rc = edit_name_check("a policy", p->name, err, errlen)) != 0)
		return rc;
	if (p->oid != NULL && !tsa_oid_text_valid(p->oid)) {
		snprintf(err, errlen, "--oid '%s' is not an OID in dotted form", p->oid);
		return EX_DATAERR;
	}
	if (p->signer != NULL && !edit_name_ok(p->signer)) {
		snprintf(err, errlen, "--signer '%s' is not a signer name", p->signer);
		return EX_DATAERR;
	}
	if (p->req_policy != NULL && strcmp(p->req_policy, "any") != 0 &&
	    !tsa_oid_text_valid(p->req_policy)) {
		snprintf(err, errlen, "--req-policy '%s' is not an OID in dotted form",
		    p->req_policy);
		return EX_DATAERR;
	}
	if (p->protocol != NULL && strcmp(p->protocol, "rfc3161") != 0 &&
	    strcmp(p->protocol, "soap") != 0 && strcmp(p->protocol, "authenticode") != 0 &&
	    strcmp(p->protocol, "any") != 0) {
		snprintf(err, errlen, "--protocol must be rfc3161, soap or authenticode, not '%s'",
		    p->protocol);
		return EX_DATAERR;
	}
	if (cc != NULL && strcmp(cc, "yes") != 0 && strcmp(cc, "no") != 0 &&
	    strcmp(cc, "any") != 0) {
		snprintf(err, errlen, "--client-cert must be yes or no, not '%s'", cc);
		return EX_DATAERR;
	}
	if (p->client != NULL && strcmp(p->client, "any") != 0 && !edit_name_ok(p->client)) {
		snprintf(err, errlen, "--client '%s' is not a client name", p->client);
		return EX_DATAERR;
	}
	return 0;
}

/* "any" (or NULL) as SQL NULL. */
static const char *
any(const char *v)
{
	return v == NULL || strcmp(v, "any") == 0 ? NULL : v;
}

/* --client-cert: "any" (or NULL) as SQL NULL; yes/no as boolean text. */
static const char *
yes_no(const char *v)
{
	if (any(v) == NULL)
		return NULL;
	return strcmp(v, "yes") == 0 ? "true" : "false";
}

int
edit_policy_set(PGconn *c, const char *service, const char *policy,
    const struct edit_policy *e, const struct edit_actor *actor, PGresult **row, char *err,
    size_t errlen)
{
	char pid[24], gid[24] = "", what[1024];
	const char *p[14];
	PGresult *r = NULL;
	int rc, n;

	if ((rc = edit_policy_check(e, err, errlen)) != 0)
		return rc;
	if (e->name != NULL) {
		snprintf(err, errlen, "a policy is not renamed: remove it and add it again");
		return EX_DATAERR;
	}
	if ((rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((rc = edit_find_policy(c, service, policy, 1, pid, sizeof(pid), err, errlen)) != 0)
		goto end;
	if (e->signer != NULL) {
		p[0] = e->signer;
		if ((r = db_query(c, "SELECT id FROM signers WHERE name = $1", 1, p,
		    "looking up the signer", &rc, err, errlen)) == NULL)
			goto end;
		if (PQntuples(r) == 0) {
			snprintf(err, errlen, "no signer '%s' (tsactl signer list)", e->signer);
			rc = EDIT_FAIL;
			goto end;
		}
		snprintf(gid, sizeof(gid), "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		r = NULL;
	}
	if (e->client != NULL && strcmp(e->client, "any") != 0) {
		p[0] = pid;
		p[1] = e->client;
		if ((r = db_query(c, "SELECT 1 FROM clients k JOIN policies p ON p.service_id ="
		    " k.service_id WHERE p.id = $1::integer AND k.name = $2", 2, p,
		    "looking up the client", &rc, err, errlen)) == NULL)
			goto end;
		n = PQntuples(r);
		PQclear(r);
		r = NULL;
		if (n == 0) {
			snprintf(err, errlen, "service '%s' has no registered client '%s' "
			    "(tsactl client add)", service, e->client);
			rc = EDIT_FAIL;
			goto end;
		}
	}
	/* $2k: "set this field", $2k+1: its value (NULL for any). */
	p[0] = pid;
	p[1] = e->oid != NULL ? "t" : "f";		p[2] = e->oid;
	p[3] = e->signer != NULL ? "t" : "f";		p[4] = gid[0] != '\0' ? gid : NULL;
	p[5] = e->protocol != NULL ? "t" : "f";		p[6] = any(e->protocol);
	p[7] = e->req_policy != NULL ? "t" : "f";	p[8] = any(e->req_policy);
	p[9] = e->client_cert != NULL ? "t" : "f";	p[10] = yes_no(e->client_cert);
	p[11] = e->client != NULL ? "t" : "f";		p[12] = any(e->client);
	if ((r = db_query(c, "UPDATE policies SET"
	    " policy_oid = CASE WHEN $2::boolean THEN $3 ELSE policy_oid END,"
	    " signer_id = CASE WHEN $4::boolean THEN $5::integer ELSE signer_id END,"
	    " match_protocol = CASE WHEN $6::boolean THEN $7 ELSE match_protocol END,"
	    " match_req_policy = CASE WHEN $8::boolean THEN $9 ELSE match_req_policy END,"
	    " match_client_cert = CASE WHEN $10::boolean THEN $11::boolean"
	    "  ELSE match_client_cert END,"
	    " match_client = CASE WHEN $12::boolean THEN $13 ELSE match_client END"
	    " WHERE id = $1::integer RETURNING"
	    " (SELECT name FROM services WHERE id = service_id) AS service, name AS policy,"
	    " position, policy_oid, (SELECT name FROM signers WHERE id = signer_id) AS signer,"
	    " match_protocol, match_req_policy, match_client_cert, match_client", 13, p,
	    "setting the policy", &rc, err, errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "policy %s/%s set: oid %s, signer %s, protocol %s, "
	    "req-policy %s, client-cert %s, client %s", service, policy, PQgetvalue(r, 0, 3),
	    PQgetvalue(r, 0, 4), PQgetisnull(r, 0, 5) ? "any" : PQgetvalue(r, 0, 5),
	    PQgetisnull(r, 0, 6) ? "any" : PQgetvalue(r, 0, 6),
	    PQgetisnull(r, 0, 7) ? "any" : PQgetvalue(r, 0, 7),
	    PQgetisnull(r, 0, 8) ? "any" : PQgetvalue(r, 0, 8));
	rc = edit_record(c, actor, service, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}

int
edit_policy_add(PGconn *c, const char *service, const struct edit_policy *e,
    const char *position, const struct edit_actor *actor, PGresult **row, char *err,
    size_t errlen)
{
	char sid[24], gid[24], at_text[24], what[1024];
	const char *p[9];
	PGresult *r = NULL;
	long at = 0;
	int rc, n;

	if (e->name == NULL || e->oid == NULL || e->signer == NULL) {
		snprintf(err, errlen, "a policy needs a name, an OID and a signer");
		return EX_DATAERR;
	}
	if ((rc = edit_policy_check(e, err, errlen)) != 0 || (rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((rc = edit_find_service(c, service, 1, sid, sizeof(sid), err, errlen)) != 0)
		goto end;
	p[0] = sid; p[1] = e->name;
	if ((r = db_query(c, "SELECT 1 FROM policies WHERE service_id = $1::integer AND name = $2",
	    2, p, "looking up the policy", &rc, err, errlen)) == NULL)
		goto end;
	n = PQntuples(r);
	PQclear(r);
	r = NULL;
	if (n > 0) {
		snprintf(err, errlen, "service '%s' has a policy '%s' already", service, e->name);
		rc = EDIT_FAIL;
		goto end;
	}
	if (any(e->client) != NULL) {
		p[1] = e->client;
		if ((r = db_query(c, "SELECT 1 FROM clients WHERE service_id = $1::integer"
		    " AND name = $2", 2, p, "looking up the client", &rc, err, errlen)) == NULL)
			goto end;
		n = PQntuples(r);
		PQclear(r);
		r = NULL;
		if (n == 0) {
			snprintf(err, errlen, "service '%s' has no registered client '%s' "
			    "(tsactl client add)", service, e->client);
			rc = EDIT_FAIL;
			goto end;
		}
	}
	p[0] = e->signer;
	if ((r = db_query(c, "SELECT id FROM signers WHERE name = $1", 1, p,
	    "looking up the signer", &rc, err, errlen)) == NULL)
		goto end;
	n = PQntuples(r);
	if (n > 0)
		snprintf(gid, sizeof(gid), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	r = NULL;
	if (n == 0) {
		snprintf(err, errlen, "no signer '%s' (tsactl signer list)", e->signer);
		rc = EDIT_FAIL;
		goto end;
	}
	if ((rc = edit_make_room(c, EDIT_POLICIES, sid, position, &at, err, errlen)) != 0)
		goto end;
	snprintf(at_text, sizeof(at_text), "%ld", at);
	p[0] = sid; p[1] = at_text; p[2] = e->name; p[3] = any(e->protocol);
	p[4] = any(e->req_policy); p[5] = e->oid; p[6] = gid; p[7] = yes_no(e->client_cert);
	p[8] = any(e->client);
	if ((r = db_query(c, "INSERT INTO policies (service_id, position, name, match_protocol,"
	    " match_req_policy, policy_oid, signer_id, match_client_cert, match_client)"
	    " VALUES ($1::integer, $2::integer, $3, $4, $5, $6, $7::integer, $8::boolean, $9)"
	    " RETURNING (SELECT name FROM services WHERE id = service_id) AS service,"
	    " name AS policy, position", 9, p, "adding the policy", &rc, err, errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "policy %s added to service %s at position %ld (OID %s, "
	    "signer %s)", e->name, service, at, e->oid, e->signer);
	rc = edit_record(c, actor, service, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}

int
edit_policy_remove(PGconn *c, const char *service, const char *policy,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	char sid[24], what[768];
	const char *p[2] = { sid, policy };
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((rc = edit_find_service(c, service, 1, sid, sizeof(sid), err, errlen)) != 0)
		goto end;
	if ((r = db_query(c, "DELETE FROM policies p WHERE service_id = $1::integer AND name = $2"
	    " RETURNING (SELECT name FROM services WHERE id = service_id) AS service,"
	    " name AS policy, position,"
	    " (SELECT count(*) FROM policy_filters f WHERE f.policy_id = p.id) AS filters", 2, p,
	    "removing the policy", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "service '%s' has no policy '%s'", service, policy);
		rc = EDIT_FAIL;
		goto end;
	}
	if ((rc = edit_close_gap(c, EDIT_POLICIES, sid, atol(PQgetvalue(r, 0, 2)), err,
	    errlen)) != 0)
		goto end;
	snprintf(what, sizeof(what), "policy %s removed from service %s, with its filters",
	    policy, service);
	rc = edit_record(c, actor, service, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}

/* ---- services added and removed ------------------------------------------------------------ */

int
edit_service_add(PGconn *c, const char *service, const char *description,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	const char *p[2] = { service, description != NULL ? description : "" };
	char what[768];
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_name_check("a service", service, err, errlen)) != 0 ||
	    (rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((r = db_query(c, "INSERT INTO services (name, description) VALUES ($1, $2)"
	    " ON CONFLICT (name) DO NOTHING RETURNING name AS service, description", 2, p,
	    "adding the service", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "service '%s' exists already", service);
		rc = EDIT_FAIL;
		goto end;
	}
	snprintf(what, sizeof(what), "service %s added", service);
	rc = edit_record(c, actor, service, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}

int
edit_service_remove(PGconn *c, const char *service, const struct edit_actor *actor,
    PGresult **row, char *err, size_t errlen)
{
	char sid[24], what[768];
	const char *p[1] = { sid };
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((rc = edit_find_service(c, service, 1, sid, sizeof(sid), err, errlen)) != 0)
		goto end;
	/* RETURNING sees the rows the cascade is about to remove. */
	if ((r = db_query(c, "DELETE FROM services s WHERE id = $1::integer"
	    " RETURNING name AS service,"
	    " (SELECT count(*) FROM policies p WHERE p.service_id = s.id) AS policies,"
	    " (SELECT count(*) FROM clients k WHERE k.service_id = s.id) AS clients", 1, p,
	    "removing the service", &rc, err, errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "service %s removed, with its policies and clients",
	    service);
	rc = edit_record(c, actor, NULL, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}
