/*
 * edit_signer.c - the writes of signers (a PKCS#11 key, its certificate and chain, its scheme
 * and digest; the unit's host and group: README "Units and hosts"), added, bound and removed:
 * see edit.h.
 * Input: an operator's text (name, PKCS#11 URI as RFC 7512 writes it, scheme, digest, host,
 * group) and the PEM the front end read, passed to PostgreSQL only as statement parameters.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "conf.h"
#include "edit.h"
#include "edit_int.h"
#include "store.h"
#include "tsa_limits.h"

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
edit_unit_check(const char *host, const char *group, char *err, size_t errlen)
{
	if (host != NULL && !conf_host_ok(host)) {
		snprintf(err, errlen, "--host '%s' is not a server name (1 to %d letters, digits, "
		    "'-' and '.', a letter or digit first)", host, TSA_MAX_HOST_NAME);
		return EX_DATAERR;
	}
	return group != NULL ? edit_name_check("a unit group", group, err, errlen) : 0;
}

/*
 * Within the write's transaction: refused (1) when another unit of group is bound to host
 * already (both NULL-safe), so that which unit signs on a server is never a guess; the
 * schema's unique indexes would refuse it too, in words an operator does not read.
 */
static int
unit_place_free(PGconn *c, const char *name, const char *host, const char *group, char *err,
    size_t errlen)
{
	const char *p[3] = { name, host, group };
	PGresult *r;
	int rc = 0;

	if (group == NULL)
		return 0;
	if ((r = db_query(c, "SELECT name FROM signers WHERE unit_group = $3 AND name <> $1"
	    " AND host IS NOT DISTINCT FROM $2 FOR UPDATE", 3, p, "looking up the group", &rc,
	    err, errlen)) == NULL)
		return rc;
	if (PQntuples(r) > 0) {
		snprintf(err, errlen, "unit %s of group %s is bound to %s already: one unit of a "
		    "group per host", PQgetvalue(r, 0, 0), group, host != NULL ? host :
		    "any host");
		rc = EDIT_FAIL;
	}
	PQclear(r);
	return rc;
}

int
edit_signer_add(PGconn *c, const char *name, const char *uri, const char *cert_pem,
    const char *chain_pem, const char *scheme, const char *digest, const char *host,
    const char *group, const struct edit_actor *actor, PGresult **row, char *err,
    size_t errlen)
{
	const char *p[8] = { name, uri, cert_pem, chain_pem, scheme, digest, host, group };
	char what[1024];
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_signer_check(name, uri, scheme, digest, err, errlen)) != 0 ||
	    (rc = edit_unit_check(host, group, err, errlen)) != 0 ||
	    (rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((rc = unit_place_free(c, name, host, group, err, errlen)) != 0)
		goto end;
	if ((r = db_query(c, "INSERT INTO signers (name, pkcs11_uri, certificate, chain, scheme,"
	    " digest, host, unit_group) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
	    " ON CONFLICT (name) DO NOTHING RETURNING name AS signer, pkcs11_uri AS key, scheme,"
	    " digest, host, unit_group AS group", 8, p, "adding the signer", &rc, err,
	    errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "signer '%s' exists already", name);
		rc = EDIT_FAIL;
		goto end;
	}
	snprintf(what, sizeof(what), "signer %s added (key %s, scheme %s, host %s, group %s)",
	    name, uri, scheme, host != NULL ? host : "any", group != NULL ? group : "none");
	rc = edit_record(c, actor, NULL, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}

int
edit_signer_set(PGconn *c, const char *name, const char *host, const char *group,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	const char *new_host = host != NULL && strcmp(host, "any") == 0 ? NULL : host;
	const char *new_group = group != NULL && strcmp(group, "none") == 0 ? NULL : group;
	const char *p[5] = { name, host != NULL ? "t" : "f", new_host,
	    group != NULL ? "t" : "f", new_group };
	char what[512];
	PGresult *r = NULL;
	int rc;

	if (host == NULL && group == NULL) {
		snprintf(err, errlen, "signer set needs --host or --group");
		return EX_USAGE;
	}
	if ((rc = edit_name_check("a signer", name, err, errlen)) != 0 ||
	    (rc = edit_unit_check(new_host, new_group, err, errlen)) != 0 ||
	    (rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((r = db_query(c, "SELECT CASE WHEN $2::boolean THEN $3 ELSE host END,"
	    " CASE WHEN $4::boolean THEN $5 ELSE unit_group END FROM signers WHERE name = $1"
	    " FOR UPDATE", 5, p, "looking up the signer", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "no signer '%s' (tsactl signer list)", name);
		rc = EDIT_FAIL;
		goto end;
	}
	if ((rc = unit_place_free(c, name, PQgetisnull(r, 0, 0) ? NULL : PQgetvalue(r, 0, 0),
	    PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1), err, errlen)) != 0)
		goto end;
	PQclear(r);
	if ((r = db_query(c, "UPDATE signers SET"
	    " host = CASE WHEN $2::boolean THEN $3 ELSE host END,"
	    " unit_group = CASE WHEN $4::boolean THEN $5 ELSE unit_group END WHERE name = $1"
	    " RETURNING name AS signer, host, unit_group AS group", 5, p, "binding the unit",
	    &rc, err, errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "signer %s bound to host %s, group %s", name,
	    PQgetisnull(r, 0, 1) ? "any" : PQgetvalue(r, 0, 1),
	    PQgetisnull(r, 0, 2) ? "none" : PQgetvalue(r, 0, 2));
	rc = edit_record(c, actor, NULL, what, err, errlen);
end:
	return edit_end(c, rc, r, row, err, errlen);
}

int
edit_signer_remove(PGconn *c, const char *name, const struct edit_actor *actor,
    PGresult **row, char *err, size_t errlen)
{
	char what[768];
	const char *p[1] = { name };
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_begin(c, err, errlen)) != 0)
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
	return edit_end(c, rc, r, row, err, errlen);
}
