/*
 * edit_signer.c - the writes of signers (a PKCS#11 key, its certificate and chain, its scheme
 * and digest), added and removed: see edit.h.
 * Input: an operator's text (name, PKCS#11 URI as RFC 7512 writes it, scheme, digest) and the
 * PEM the front end read, passed to PostgreSQL only as statement parameters.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "edit.h"
#include "edit_int.h"
#include "store.h"

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
	    (rc = edit_begin(c, err, errlen)) != 0)
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
