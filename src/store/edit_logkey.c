/*
 * edit_logkey.c - the writes of log_keys (schema 013): a server's token-log key listed for
 * auditors (tsactl log key add, which opened the key on the server's token first) and
 * retired (tsactl log key retire), each with an event log-key.  See edit.h.
 * Input: the key's id, algorithm and public key as tsactl derived them from the token, and an
 * operator's host name, all passed to PostgreSQL as statement parameters (the schema checks
 * again that the id is the key's SHA-256).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "conf.h"
#include "edit.h"
#include "edit_int.h"
#include "store.h"
#include "tsa_limits.h"

int
edit_logkey_add(PGconn *c, const char *host, const char *key_id, const char *algorithm,
    const unsigned char *spki, size_t len, const struct edit_actor *actor, PGresult **row,
    char *err, size_t errlen)
{
	const char *p[4] = { key_id, host, algorithm, NULL };
	char what[256], *hexkey;
	PGresult *r = NULL;
	size_t i;
	int rc;

	if (!conf_host_ok(host)) {
		snprintf(err, errlen, "--host '%s' is not a server name (1 to %d letters, digits, "
		    "'-' and '.', a letter or digit first)", host, TSA_MAX_HOST_NAME);
		return EX_DATAERR;
	}
	if ((hexkey = malloc(2 * len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return EX_OSERR;
	}
	for (i = 0; i < len; i++)
		snprintf(hexkey + 2 * i, 3, "%02x", spki[i]);
	hexkey[2 * len] = '\0';
	p[3] = hexkey;
	if ((rc = edit_begin(c, err, errlen)) != 0) {
		free(hexkey);
		return rc;
	}
	if ((r = db_query(c, "INSERT INTO log_keys (key_id, host, algorithm, public_key)"
	    " VALUES ($1, $2, $3, decode($4, 'hex')) ON CONFLICT (key_id) DO NOTHING"
	    " RETURNING key_id AS log_key, host, algorithm", 4, p, "listing the log key", &rc,
	    err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "the log key %s is listed already (tsactl log keys)",
		    key_id);
		rc = EDIT_FAIL;
		goto end;
	}
	snprintf(what, sizeof(what), "log key %s of %s listed (%s)", key_id, host, algorithm);
	rc = edit_event(c, "log-key", actor, NULL, what, err, errlen);
end:
	free(hexkey);
	return edit_finish(c, rc, 0, r, row, err, errlen);
}

int
edit_logkey_retire(PGconn *c, const char *key_id, const struct edit_actor *actor,
    PGresult **row, char *err, size_t errlen)
{
	const char *p[1] = { key_id };
	char what[256];
	PGresult *r = NULL;
	int rc;

	if (strlen(key_id) != 64 || key_id[strspn(key_id, "0123456789abcdef")] != '\0') {
		snprintf(err, errlen, "'%s' is not a log key id (64 lower-case hex digits)",
		    key_id);
		return EX_DATAERR;
	}
	if ((rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((r = db_query(c, "UPDATE log_keys SET retired_at = now() WHERE key_id = $1 AND"
	    " retired_at IS NULL RETURNING key_id AS log_key, host, retired_at AS retired", 1, p,
	    "retiring the log key", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0) {
		snprintf(err, errlen, "no log key %s in service (tsactl log keys)", key_id);
		rc = EDIT_FAIL;
		goto end;
	}
	snprintf(what, sizeof(what), "log key %s of %s retired", key_id, PQgetvalue(r, 0, 1));
	rc = edit_event(c, "log-key", actor, NULL, what, err, errlen);
end:
	return edit_finish(c, rc, 0, r, row, err, errlen);
}
