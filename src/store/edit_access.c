/*
 * edit_access.c - the writes of who may come in: a service's clients and the web console's
 * administrators, added and removed (see edit.h).
 * Input: an operator's or administrator's text (names) and what the front end read from a
 * certificate (subject, fingerprint, issuer, serial, PEM), passed to PostgreSQL only as
 * statement parameters.
 */
#include <stdio.h>
#include <string.h>

#include "edit.h"
#include "edit_int.h"
#include "store.h"

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
	    (rc = edit_begin(c, err, errlen)) != 0)
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
	return edit_end(c, rc, r, row, err, errlen);
}

int
edit_client_remove(PGconn *c, const char *service, const char *name,
    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen)
{
	char sid[24], what[768];
	const char *p[2] = { sid, name };
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_begin(c, err, errlen)) != 0)
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
	return edit_end(c, rc, r, row, err, errlen);
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
	    (rc = edit_begin(c, err, errlen)) != 0)
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
	rc = edit_event(c, "admin-change", actor, NULL, what, err, errlen);
end:
	return edit_finish(c, rc, 0, r, row, err, errlen);
}

int
edit_admin_remove(PGconn *c, const char *name, const struct edit_actor *actor,
    PGresult **row, char *err, size_t errlen)
{
	char what[1024];
	const char *p[1] = { name };
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_begin(c, err, errlen)) != 0)
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
	rc = edit_event(c, "admin-change", actor, NULL, what, err, errlen);
end:
	return edit_finish(c, rc, 0, r, row, err, errlen);
}
