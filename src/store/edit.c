/*
 * edit.c - the one write path for configuration changes (services, policies, filter chains,
 * clients, signers, console administrators), taken by
 * tsactl (src/cli/) and by the web console (src/admin/): see edit.h.
 * Input: an operator's or administrator's text (names, positions, JSON parameters), passed to
 * PostgreSQL only as statement parameters and checked by the worker's own filter_validate()
 * before anything is written.
 *
 * Positions: policies within a service and filters within a policy are numbered from 1.  An
 * insertion at N moves N and what follows one down, a removal closes the gap.  The unique
 * (parent, position) constraints are checked row by row, so a shift goes through negative
 * positions in two statements; the parent row is locked first, so two writers on the same
 * service or policy take turns.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "asn1.h"
#include "edit.h"
#include "policy.h"
#include "store.h"
#include "tsa_limits.h"
#include "wsdl.h"

#define EDIT_FAIL	1

static int
begin(PGconn *c, char *err, size_t errlen)
{
	int rc = 0;
	PGresult *r = db_query(c, "BEGIN", 0, NULL, "begin", &rc, err, errlen);

	PQclear(r);
	return rc;
}

/*
 * Commits when status is 0, else rolls back; returns status, or the failed commit's.  The
 * change's row goes to *row once committed, and is freed otherwise.  A change to what the
 * workers load (check set) is refused when it would leave a policy they refuse.
 */
static int
finish(PGconn *c, int status, int check, PGresult *changed, PGresult **row, char *err,
    size_t errlen)
{
	PGresult *r;

	if (status == 0 && check && config_refused_policy(c, err, errlen) == -1)
		status = EX_DATAERR;
	if (status != 0) {
		PQclear(PQexec(c, "ROLLBACK"));
		PQclear(changed);
		return status;
	}
	if ((r = db_query(c, "COMMIT", 0, NULL, "commit (nothing was written)", &status, err,
	    errlen)) == NULL) {
		PQclear(changed);
		return status;
	}
	/* A COMMIT in an aborted transaction reports success and rolls back. */
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		snprintf(err, errlen, "the transaction was rolled back; nothing was written");
		status = EDIT_FAIL;
		PQclear(changed);
	} else
		*row = changed;
	PQclear(r);
	return status;
}

static int
end(PGconn *c, int status, PGresult *changed, PGresult **row, char *err, size_t errlen)
{
	return finish(c, status, 1, changed, row, err, errlen);
}

/* The event of kind config-change or admin-change: "what by who". */
static int
record(PGconn *c, const char *kind, const struct edit_actor *actor, const char *service,
    const char *what, char *err, size_t errlen)
{
	struct event_params ep;
	char detail[1024];
	PGresult *r;
	int rc = 0;

	if (actor == NULL)
		return 0;
	snprintf(detail, sizeof(detail), "%s by %s", what, actor->who);
	event_params(&ep, "info", kind, service, NULL, detail, 1);
	r = db_query(c, SQL_INSERT_EVENT, EVENT_NPARAMS, ep.values, "recording the change", &rc, err,
	    errlen);
	PQclear(r);
	return rc;
}

int
edit_record(PGconn *c, const struct edit_actor *actor, const char *service, const char *what,
    char *err, size_t errlen)
{
	return record(c, "config-change", actor, service, what, err, errlen);
}

/* 1 when s is a name: 1 to 128 printable bytes, no spaces, not starting with '-'. */
static int
name_ok(const char *s)
{
	size_t n;

	if (s[0] == '-')
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= ' ' || (unsigned char)s[n] >= 0x7f)
			return 0;
	return n >= 1 && n <= 128;
}

int
edit_name_check(const char *kind, const char *name, char *err, size_t errlen)
{
	if (name_ok(name))
		return 0;
	snprintf(err, errlen, "'%s' is not %s name (1 to 128 printable characters, no spaces)",
	    name, kind);
	return EX_DATAERR;
}

int
edit_find_service(PGconn *c, const char *service, int lock, char *sid, size_t sidlen,
    char *err, size_t errlen)
{
	const char *p[1] = { service };
	PGresult *r;
	int rc = 0;

	if ((r = db_query(c, lock ? "SELECT id FROM services WHERE name = $1 FOR UPDATE" :
	    "SELECT id FROM services WHERE name = $1", 1, p, "looking up the service", &rc, err,
	    errlen)) == NULL)
		return rc;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "no service '%s'", service);
		PQclear(r);
		return EDIT_FAIL;
	}
	if (sid != NULL)
		snprintf(sid, sidlen, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

int
edit_find_policy(PGconn *c, const char *service, const char *policy, int lock, char *pid,
    size_t pidlen, char *err, size_t errlen)
{
	const char *p[2] = { service, policy };
	PGresult *r;
	int rc;

	if ((rc = edit_find_service(c, service, 0, NULL, 0, err, errlen)) != 0)
		return rc;
	r = db_query(c, lock ? "SELECT p.id FROM policies p JOIN services s ON s.id = p.service_id"
	    " WHERE s.name = $1 AND p.name = $2 FOR UPDATE OF p" :
	    "SELECT p.id FROM policies p JOIN services s ON s.id = p.service_id"
	    " WHERE s.name = $1 AND p.name = $2", 2, p, "looking up the policy", &rc, err, errlen);
	if (r == NULL)
		return rc;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "service '%s' has no policy '%s'", service, policy);
		PQclear(r);
		return EDIT_FAIL;
	}
	snprintf(pid, pidlen, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/* ---- ordered children ---------------------------------------------------------------------- */

struct ordered {
	const char	*parent;	/* "service", "policy" */
	const char	*children;	/* "policies", "filters" */
	long		 max_count;	/* what the worker loads at most */
	const char	*sql_span;	/* max(position), count, min(position) for parent $1 */
	const char	*sql_down;	/* positions >= $2 to -(p+1) */
	const char	*sql_up;	/* positions > $2 to -(p-1) */
	const char	*sql_flip;	/* negative positions back */
};

static const struct ordered ORDERS[] = {
	[EDIT_POLICIES] = {
	"service", "policies", TSA_MAX_POLICIES,
	"SELECT coalesce(max(position), 0), count(*), coalesce(min(position), 1)"
	" FROM policies WHERE service_id = $1::integer",
	"UPDATE policies SET position = -position - 1"
	" WHERE service_id = $1::integer AND position >= $2::integer",
	"UPDATE policies SET position = -position + 1"
	" WHERE service_id = $1::integer AND position > $2::integer",
	"UPDATE policies SET position = -position WHERE service_id = $1::integer AND position < 0",
	},
	[EDIT_FILTERS] = {
	"policy", "filters", TSA_MAX_FILTERS,
	"SELECT coalesce(max(position), 0), count(*), coalesce(min(position), 1)"
	" FROM policy_filters WHERE policy_id = $1::integer",
	"UPDATE policy_filters SET position = -position - 1"
	" WHERE policy_id = $1::integer AND position >= $2::integer",
	"UPDATE policy_filters SET position = -position + 1"
	" WHERE policy_id = $1::integer AND position > $2::integer",
	"UPDATE policy_filters SET position = -position"
	" WHERE policy_id = $1::integer AND position < 0",
	},
};

/* Two statements through negative positions: never two rows at one position. */
static int
shift(PGconn *c, const struct ordered *o, const char *parent, const char *sql, long at,
    char *err, size_t errlen)
{
	char pos[24];
	const char *p[2] = { parent, pos };
	PGresult *r;
	int rc = 0;

	snprintf(pos, sizeof(pos), "%ld", at);
	if ((r = db_query(c, sql, 2, p, "moving positions", &rc, err, errlen)) == NULL)
		return rc;
	PQclear(r);
	if ((r = db_query(c, o->sql_flip, 1, p, "moving positions", &rc, err, errlen)) == NULL)
		return rc;
	PQclear(r);
	return 0;
}

/* 1 when s is a whole number within min..max (into *out), else 0. */
static int
whole(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 18)
		return 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

int
edit_make_room(PGconn *c, enum edit_order which, const char *parent, const char *req,
    long *at, char *err, size_t errlen)
{
	const struct ordered *o = &ORDERS[which];
	const char *p[1] = { parent };
	long max, count, min, n;
	PGresult *r;
	int rc = 0;

	if ((r = db_query(c, o->sql_span, 1, p, "reading positions", &rc, err, errlen)) == NULL)
		return rc;
	max = atol(PQgetvalue(r, 0, 0));
	count = atol(PQgetvalue(r, 0, 1));
	min = atol(PQgetvalue(r, 0, 2));
	PQclear(r);
	if (count >= o->max_count) {
		snprintf(err, errlen, "the %s has %ld %s already, the most the worker loads",
		    o->parent, count, o->children);
		return EX_DATAERR;
	}
	if (req == NULL) {
		*at = max + 1;
		return 0;
	}
	if (!whole(req, 1, max + 1, &n)) {
		snprintf(err, errlen, "--position must be a whole number from 1 to %ld, not '%s'",
		    max + 1, req);
		return EX_DATAERR;
	}
	if (min < 1) {
		snprintf(err, errlen, "positions below 1 exist (written by hand?): renumber them "
		    "from 1 first");
		return EDIT_FAIL;
	}
	if (n <= max && (rc = shift(c, o, parent, o->sql_down, n, err, errlen)) != 0)
		return rc;
	*at = n;
	return 0;
}

int
edit_close_gap(PGconn *c, enum edit_order which, const char *parent, long at, char *err,
    size_t errlen)
{
	return shift(c, &ORDERS[which], parent, ORDERS[which].sql_up, at, err, errlen);
}

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
	    (rc = begin(c, err, errlen)) != 0)
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
	return end(c, rc, r, row, err, errlen);
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

	if ((rc = begin(c, err, errlen)) != 0)
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
	return end(c, rc, r, row, err, errlen);
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
	if ((rc = begin(c, err, errlen)) != 0)
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
	return end(c, rc, r, row, err, errlen);
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
	if ((rc = begin(c, err, errlen)) != 0)
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
	return end(c, rc, r, row, err, errlen);
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
	if (p->signer != NULL && !name_ok(p->signer)) {
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
	if (p->client != NULL && strcmp(p->client, "any") != 0 && !name_ok(p->client)) {
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
	if ((rc = begin(c, err, errlen)) != 0)
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
	return end(c, rc, r, row, err, errlen);
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
	if ((rc = edit_policy_check(e, err, errlen)) != 0 || (rc = begin(c, err, errlen)) != 0)
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
	return end(c, rc, r, row, err, errlen);
}

int
edit_policy_remove(PGconn *c, const char *service, const char *policy,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	char sid[24], what[768];
	const char *p[2] = { sid, policy };
	PGresult *r = NULL;
	int rc;

	if ((rc = begin(c, err, errlen)) != 0)
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
	return end(c, rc, r, row, err, errlen);
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
	    (rc = begin(c, err, errlen)) != 0)
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
	return end(c, rc, r, row, err, errlen);
}

int
edit_service_remove(PGconn *c, const char *service, const struct edit_actor *actor,
    PGresult **row, char *err, size_t errlen)
{
	char sid[24], what[768];
	const char *p[1] = { sid };
	PGresult *r = NULL;
	int rc;

	if ((rc = begin(c, err, errlen)) != 0)
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
	return end(c, rc, r, row, err, errlen);
}

/* ---- clients and administrators ------------------------------------------------------------ */

int
edit_client_add(PGconn *c, const char *service, const char *name, const struct edit_cert *cc,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	char sid[24], what[768];
	const char *p[7];
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_name_check("a client", name, err, errlen)) != 0 ||
	    (rc = begin(c, err, errlen)) != 0)
		return rc;
	if ((rc = edit_find_service(c, service, 1, sid, sizeof(sid), err, errlen)) != 0)
		goto end;
	p[0] = sid; p[1] = name; p[2] = cc->fingerprint;
	if ((r = db_query(c, "SELECT name FROM clients WHERE service_id = $1::integer"
	    " AND (name = $2 OR fingerprint_sha256 = decode($3, 'hex'))", 3, p,
	    "looking up clients", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) > 0) {
		if (strcmp(PQgetvalue(r, 0, 0), name) == 0)
			snprintf(err, errlen, "service '%s' has a client '%s' already", service,
			    name);
		else
			snprintf(err, errlen, "this certificate is registered already for service "
			    "'%s', as '%s'", service, PQgetvalue(r, 0, 0));
		rc = EDIT_FAIL;
		goto end;
	}
	PQclear(r);
	p[2] = cc->subject; p[3] = cc->fingerprint; p[4] = cc->issuer; p[5] = cc->serial;
	p[6] = cc->pem;
	if ((r = db_query(c, "INSERT INTO clients (service_id, name, subject, fingerprint_sha256,"
	    " issuer_der, serial, certificate) VALUES ($1::integer, $2, $3, decode($4, 'hex'),"
	    " decode($5, 'hex'), decode($6, 'hex'), $7)"
	    " RETURNING (SELECT name FROM services WHERE id = service_id) AS service,"
	    " name AS client, subject, encode(fingerprint_sha256, 'hex') AS fingerprint_sha256,"
	    " encode(serial, 'hex') AS serial", 7, p, "adding the client", &rc, err,
	    errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "client %s (SHA-256 %s) registered for service %s", name,
	    cc->fingerprint, service);
	rc = edit_record(c, actor, service, what, err, errlen);
end:
	return end(c, rc, r, row, err, errlen);
}

int
edit_client_remove(PGconn *c, const char *service, const char *name,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	char sid[24], what[768];
	const char *p[2] = { sid, name };
	PGresult *r = NULL;
	int rc;

	if ((rc = begin(c, err, errlen)) != 0)
		return rc;
	if ((rc = edit_find_service(c, service, 1, sid, sizeof(sid), err, errlen)) != 0)
		goto end;
	if ((r = db_query(c, "DELETE FROM clients WHERE service_id = $1::integer AND name = $2"
	    " RETURNING (SELECT name FROM services WHERE id = service_id) AS service,"
	    " name AS client, subject", 2, p, "removing the client", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "service '%s' has no client '%s'", service, name);
		rc = EDIT_FAIL;
		goto end;
	}
	snprintf(what, sizeof(what), "client %s removed from service %s", name, service);
	rc = edit_record(c, actor, service, what, err, errlen);
end:
	return end(c, rc, r, row, err, errlen);
}

/* The workers do not load administrators: no policy check at commit. */
int
edit_admin_add(PGconn *c, const char *name, const struct edit_cert *cc,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	char what[1024];
	const char *p[4] = { name, cc->fingerprint };
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_name_check("an administrator", name, err, errlen)) != 0 ||
	    (rc = begin(c, err, errlen)) != 0)
		return rc;
	if ((r = db_query(c, "SELECT name FROM administrators"
	    " WHERE name = $1 OR fingerprint_sha256 = decode($2, 'hex')", 2, p,
	    "looking up administrators", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) > 0) {
		if (strcmp(PQgetvalue(r, 0, 0), name) == 0)
			snprintf(err, errlen, "an administrator '%s' exists already", name);
		else
			snprintf(err, errlen, "this certificate is registered already, as "
			    "administrator '%s'", PQgetvalue(r, 0, 0));
		rc = EDIT_FAIL;
		goto end;
	}
	PQclear(r);
	p[1] = cc->subject; p[2] = cc->fingerprint; p[3] = cc->pem;
	if ((r = db_query(c, "INSERT INTO administrators (name, subject, fingerprint_sha256,"
	    " certificate) VALUES ($1, $2, decode($3, 'hex'), $4) RETURNING name AS admin,"
	    " subject, encode(fingerprint_sha256, 'hex') AS fingerprint_sha256", 4, p,
	    "adding the administrator", &rc, err, errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "administrator %s (%s; sha256 %s) added", name, cc->subject,
	    cc->fingerprint);
	rc = record(c, "admin-change", actor, NULL, what, err, errlen);
end:
	return finish(c, rc, 0, r, row, err, errlen);
}

int
edit_admin_remove(PGconn *c, const char *name, const struct edit_actor *actor,
    PGresult **row, char *err, size_t errlen)
{
	char what[1024];
	const char *p[1] = { name };
	PGresult *r = NULL;
	int rc;

	if ((rc = begin(c, err, errlen)) != 0)
		return rc;
	if ((r = db_query(c, "DELETE FROM administrators WHERE name = $1 RETURNING name AS admin,"
	    " subject, encode(fingerprint_sha256, 'hex') AS fingerprint_sha256", 1, p,
	    "removing the administrator", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "no administrator '%s'", name);
		rc = EDIT_FAIL;
		goto end;
	}
	snprintf(what, sizeof(what), "administrator %s (%s; sha256 %s) removed", name,
	    PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	rc = record(c, "admin-change", actor, NULL, what, err, errlen);
end:
	return finish(c, rc, 0, r, row, err, errlen);
}

/* ---- signers ------------------------------------------------------------------------------- */

int
edit_signer_check(const char *name, const char *uri, const char *scheme, const char *digest,
    char *err, size_t errlen)
{
	int rc;

	if ((rc = edit_name_check("a signer", name, err, errlen)) != 0)
		return rc;
	if (strncmp(uri, "pkcs11:", 7) != 0) {
		snprintf(err, errlen, "--uri '%s' is not a PKCS#11 URI (RFC 7512: pkcs11:...)",
		    uri);
		return EX_DATAERR;
	}
	if (strcmp(scheme, "auto") != 0 && strcmp(scheme, "rsa-pss") != 0) {
		snprintf(err, errlen, "--scheme must be auto or rsa-pss, not '%s'", scheme);
		return EX_DATAERR;
	}
	if (strcmp(digest, "sha256") != 0 && strcmp(digest, "sha384") != 0 &&
	    strcmp(digest, "sha512") != 0) {
		snprintf(err, errlen, "--digest must be sha256, sha384 or sha512, not '%s'",
		    digest);
		return EX_DATAERR;
	}
	return 0;
}

int
edit_signer_add(PGconn *c, const char *name, const char *uri, const char *cert_pem,
    const char *chain_pem, const char *scheme, const char *digest,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	const char *p[6] = { name, uri, cert_pem, chain_pem, scheme, digest };
	char what[1024];
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_signer_check(name, uri, scheme, digest, err, errlen)) != 0 ||
	    (rc = begin(c, err, errlen)) != 0)
		return rc;
	if ((r = db_query(c, "INSERT INTO signers (name, pkcs11_uri, certificate, chain, scheme,"
	    " digest) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING"
	    " RETURNING name AS signer, pkcs11_uri AS key, scheme, digest", 6, p,
	    "adding the signer", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "signer '%s' exists already", name);
		rc = EDIT_FAIL;
		goto end;
	}
	snprintf(what, sizeof(what), "signer %s added (key %s, scheme %s)", name, uri, scheme);
	rc = edit_record(c, actor, NULL, what, err, errlen);
end:
	return end(c, rc, r, row, err, errlen);
}

int
edit_signer_remove(PGconn *c, const char *name, const struct edit_actor *actor,
    PGresult **row, char *err, size_t errlen)
{
	char what[768];
	const char *p[1] = { name };
	PGresult *r = NULL;
	int rc;

	if ((rc = begin(c, err, errlen)) != 0)
		return rc;
	if ((r = db_query(c, "SELECT (SELECT string_agg(s.name || '/' || p.name, ', ')"
	    " FROM policies p JOIN services s ON s.id = p.service_id WHERE p.signer_id = g.id)"
	    " FROM signers g WHERE name = $1 FOR UPDATE", 1, p, "looking up the signer", &rc,
	    err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0 || !PQgetisnull(r, 0, 0)) {
		if (PQntuples(r) == 0)
			snprintf(err, errlen, "no signer '%s'", name);
		else
			snprintf(err, errlen, "signer '%s' is used by the policies %s: remove them "
			    "first", name, PQgetvalue(r, 0, 0));
		rc = EDIT_FAIL;
		goto end;
	}
	PQclear(r);
	if ((r = db_query(c, "DELETE FROM signers WHERE name = $1 RETURNING name AS signer", 1, p,
	    "removing the signer", &rc, err, errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "signer %s removed", name);
	rc = edit_record(c, actor, NULL, what, err, errlen);
end:
	return end(c, rc, r, row, err, errlen);
}

/* ---- the events' own pruning --------------------------------------------------------------- */

int
edit_events_prune(PGconn *c, const char *seconds, const struct edit_actor *actor,
    PGresult **row, char *err, size_t errlen)
{
	const char *p[1] = { seconds };
	char what[512];
	PGresult *r = NULL;
	int rc;

	if ((rc = begin(c, err, errlen)) != 0)
		return rc;
	if ((r = db_query(c, "WITH d AS (DELETE FROM events"
	    "  WHERE at < now() - $1::bigint * interval '1 second' RETURNING count)"
	    " SELECT count(*) AS rows, coalesce(sum(count), 0) AS events,"
	    " to_char((now() - $1::bigint * interval '1 second') AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS before FROM d", 1, p, "pruning the events",
	    &rc, err, errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "%s rows (%s events) before %s deleted",
	    PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	rc = record(c, "events-pruned", actor, NULL, what, err, errlen);
end:
	return finish(c, rc, 0, r, row, err, errlen);
}
