/*
 * edit_server.c - the operator's one write of the servers table (schema 012), whose rows the
 * servers themselves keep: a server taken out of the fleet (tsactl server remove), removed
 * only once it is stopped or silent, since a running server writes its row again at its next
 * heartbeat.  See edit.h.
 * Input: an operator's host name, checked as tsa.conf's is and passed as a parameter.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "conf.h"
#include "edit.h"
#include "edit_int.h"
#include "store.h"
#include "tsa_limits.h"

int
edit_server_remove(PGconn *c, const char *host, const struct edit_actor *actor,
    PGresult **row, char *err, size_t errlen)
{
	char what[256];
	const char *p[1] = { host };
	PGresult *r = NULL;
	int rc;

	if (!conf_host_ok(host)) {
		snprintf(err, errlen, "'%s' is not a server name (1 to %d letters, digits, '-' and "
		    "'.', a letter or digit first)", host, TSA_MAX_HOST_NAME);
		return EX_DATAERR;
	}
	if ((rc = edit_begin(c, err, errlen)) != 0)
		return rc;
	if ((r = db_query(c, "SELECT " SQL_SERVER_VERDICT " FROM servers s WHERE s.host = $1"
	    " FOR UPDATE", 1, p, "looking up the server", &rc, err, errlen)) == NULL)
		goto end;
	if (PQntuples(r) == 0 || strcmp(PQgetvalue(r, 0, 0), "ok") == 0) {
		if (PQntuples(r) == 0)
			snprintf(err, errlen, "no server '%s' (tsactl status lists them)", host);
		else
			snprintf(err, errlen, "server '%s' is running and heard from: stop its "
			    "tsa-fcgi first (it would write its row again)", host);
		rc = EDIT_FAIL;
		goto end;
	}
	PQclear(r);
	if ((r = db_query(c, "DELETE FROM servers WHERE host = $1 RETURNING host AS server,"
	    " state, version", 1, p, "removing the server", &rc, err, errlen)) == NULL)
		goto end;
	snprintf(what, sizeof(what), "server %s removed from the fleet (it was %s)", host,
	    PQgetvalue(r, 0, 1));
	rc = edit_event(c, "server-removed", actor, NULL, what, err, errlen);
end:
	return edit_finish(c, rc, 0, r, row, err, errlen);
}
