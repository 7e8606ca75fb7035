/*
 * edit.c - the one write path for configuration changes, taken by tsactl (src/cli/) and by the
 * web console (src/admin/): see edit.h.  This file holds what every write shares (its
 * transaction, its event, the lookups of a service and a policy, the name check, the
 * positions of ordered children) and the events' own pruning; the writes themselves are in
 * edit_policy.c (services, policies, filters), edit_access.c (clients, administrators) and
 * edit_signer.c (signers), sharing edit_int.h.
 * Input: an operator's or administrator's text (names, positions), passed to PostgreSQL only
 * as statement parameters.
 *
 * Positions: policies within a service and filters within a policy are numbered from 1.  An
 * insertion at N moves N and what follows one down, a removal closes the gap.  The unique
 * (parent, position) constraints are checked row by row, so a shift goes through negative
 * positions in two statements; the parent row is locked first, so two writers on the same
 * service or policy take turns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "edit.h"
#include "edit_int.h"
#include "store.h"
#include "tsa_limits.h"

int
edit_begin(PGconn *c, char *err, size_t errlen)
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
int
edit_finish(PGconn *c, int status, int check, PGresult *changed, PGresult **row, char *err,
    size_t errlen)
{
	PGresult *r;

	if (status == 0 && check && config_refused_policy(c, err, errlen) == -1)
		status = EX_DATAERR;
	if (status != 0) {
		char why[256];

		PQclear(pgb_exec(c, "ROLLBACK", NULL, 0, NULL, NULL, NULL, pgb_deadline(c), why,
		    sizeof(why)));
		PQclear(changed);
		return status;
	}
	if ((r = db_query(c, "COMMIT", 0, NULL, "commit (nothing was written)", &status, err,
	    errlen)) == NULL) {
		/* The console's statements are bounded: a commit given up on may have happened. */
		if (pgb_broken(c))
			snprintf(err, errlen, "commit: no answer from the database within the bound: "
			    "whether the change was written is unknown (look before trying again)");
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

int
edit_end(PGconn *c, int status, PGresult *changed, PGresult **row, char *err, size_t errlen)
{
	return edit_finish(c, status, 1, changed, row, err, errlen);
}

/* The event of the given kind (config-change, admin-change, events-pruned): "what by who". */
int
edit_event(PGconn *c, const char *kind, const struct edit_actor *actor, const char *service,
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
	return edit_event(c, "config-change", actor, service, what, err, errlen);
}

/* 1 when s is a name: 1 to 128 printable bytes, no spaces, not starting with '-'. */
int
edit_name_ok(const char *s)
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
	if (edit_name_ok(name))
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

/* ---- the events' own pruning --------------------------------------------------------------- */

int
edit_events_prune(PGconn *c, const char *seconds, const struct edit_actor *actor,
    PGresult **row, char *err, size_t errlen)
{
	const char *p[1] = { seconds };
	char what[512];
	PGresult *r = NULL;
	int rc;

	if ((rc = edit_begin(c, err, errlen)) != 0)
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
	rc = edit_event(c, "events-pruned", actor, NULL, what, err, errlen);
end:
	return edit_finish(c, rc, 0, r, row, err, errlen);
}
