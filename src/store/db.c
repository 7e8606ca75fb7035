/*
 * db.c - the worker's PostgreSQL connection (see store.h).  Statements are prepared once per
 * connection; a lost connection is dropped and re-established on a later request, so a
 * database restart needs no worker restart.  Also db_connect(), the one way every program
 * connects, and db_query(), the one way tsactl, the console and the configuration writes run
 * a statement, its errors said on one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "store.h"

PGconn *
db_connect(const char *conninfo, char *err, size_t errlen)
{
	PGconn *c;

	/*
	 * libpq waits forever for a server that does not answer a connect (a host gone from the
	 * network): a worker would hang in every request.  3 s unless the conninfo or the
	 * environment says otherwise (a connect_timeout in conninfo wins over the variable).
	 */
	setenv("PGCONNECT_TIMEOUT", "3", 0);
	c = PQconnectdb(conninfo);
	if (PQstatus(c) == CONNECTION_OK)
		return c;
	snprintf(err, errlen, "%s", c != NULL ? PQerrorMessage(c) : "out of memory");
	err[strcspn(err, "\n")] = '\0';
	PQfinish(c);
	return NULL;
}

int
db_init(struct db *db, const char *conninfo)
{
	memset(db, 0, sizeof(*db));
	return (db->conninfo = strdup(conninfo)) == NULL ? -1 : 0;
}

static int
prepare(PGconn *c)
{
	static const struct {
		const char *name, *sql;
	} stmts[] = {
		/* The token and its log leaf in one statement: both rows or neither. */
		{ "insert_token",
		  "WITH t AS (INSERT INTO issued_tokens (serial, gen_time, service_id, policy_id,"
		  " service, policy_oid, protocol, hash_alg, imprint, nonce, requester,"
		  " client_identity, token, request) VALUES ($1::numeric, $2::timestamptz,"
		  " $3::integer, $4::integer, $5, $6, $7, $8, $9::bytea, $10::bytea, $11::inet,"
		  " $12, $13::bytea, $14::bytea) ON CONFLICT (serial) DO NOTHING RETURNING serial)"
		  " INSERT INTO log_queue (serial, leaf) SELECT serial, $15::bytea FROM t" },
		{ "config_version",
		  "SELECT version FROM config_version" },
		{ "insert_event", SQL_INSERT_EVENT },
	};
	size_t i;

	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		PGresult *r = PQprepare(c, stmts[i].name, stmts[i].sql, 0, NULL);
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

		if (!ok)
			log_msg(LOG_ERR, "prepare %s: %s", stmts[i].name, PQerrorMessage(c));
		PQclear(r);
		if (!ok)
			return -1;
	}
	return 0;
}

PGconn *
db_conn(struct db *db)
{
	struct timespec now;
	char why[512];

	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return db->conn;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < db->next_try.tv_sec || (now.tv_sec == db->next_try.tv_sec &&
	    now.tv_nsec < db->next_try.tv_nsec))
		return NULL;
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->prepared = 0;
	db->conn = db_connect(db->conninfo, why, sizeof(why));
	/*
	 * The next try 500 ms after this one ended: a connect that waited out its timeout must
	 * not be followed at once by another within the same request.
	 */
	clock_gettime(CLOCK_MONOTONIC, &db->next_try);
	db->next_try.tv_nsec += 500000000L;
	if (db->next_try.tv_nsec >= 1000000000L) {
		db->next_try.tv_sec++;
		db->next_try.tv_nsec -= 1000000000L;
	}
	if (db->conn == NULL) {
		log_msg(LOG_WARNING, "database unreachable: %s", why);
		return NULL;
	}
	if (prepare(db->conn) == -1) {
		PQfinish(db->conn);
		db->conn = NULL;
		return NULL;
	}
	db->prepared = 1;
	db->fresh = 1;
	/* Configuration changes are announced on this channel (schema 002's trigger). */
	PQclear(PQexec(db->conn, "LISTEN tsa_config"));
	log_msg(LOG_INFO, "database connected");
	return db->conn;
}

void
db_failed(struct db *db, const PGresult *res)
{
	(void)res;
	if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK) {
		log_msg(LOG_WARNING, "database connection lost: %s", PQerrorMessage(db->conn));
		PQfinish(db->conn);
		db->conn = NULL;
		/* A server restart drops every idle connection: try a new one at once. */
		db->next_try.tv_sec = 0;
		db->next_try.tv_nsec = 0;
	}
}

int
db_config_changed(struct db *db)
{
	PGnotify *n;
	int changed = db->fresh;

	db->fresh = 0;
	if (db->conn == NULL)
		return changed;
	if (PQconsumeInput(db->conn) == 0) {
		db_failed(db, NULL);
		return changed;
	}
	while ((n = PQnotifies(db->conn)) != NULL) {
		changed = 1;
		PQfreemem(n);
	}
	return changed;
}

long long
db_config_version(struct db *db)
{
	PGconn *c = db_conn(db);
	PGresult *r;
	long long v = -1;

	if (c == NULL)
		return -1;
	r = PQexecPrepared(c, "config_version", 0, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = atoll(PQgetvalue(r, 0, 0));
	else
		db_failed(db, r);
	PQclear(r);
	return v;
}

PGresult *
db_query(PGconn *c, const char *sql, int n, const char *const *p, const char *what, int *rc,
    char *err, size_t errlen)
{
	PGresult *r = n > 0 ? PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0) : PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	const char *state, *primary, *detail;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "%s: database connection lost: %s", what, PQerrorMessage(c));
		*rc = EX_UNAVAILABLE;
	} else if (state != NULL && (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0)) {
		/* undefined_table, undefined_column: an older schema than this program's. */
		snprintf(err, errlen, "%s: the schema is not up to date (run tsactl migrate): %s",
		    what, primary != NULL ? primary : "");
		*rc = 1;
	} else {
		if (primary != NULL && detail != NULL)
			snprintf(err, errlen, "%s: %s (%s)", what, primary, detail);
		else
			snprintf(err, errlen, "%s: %s", what,
			    primary != NULL ? primary : PQerrorMessage(c));
		/* Class 22 (data exception): the value was refused, e.g. JSON syntax. */
		*rc = state != NULL && strncmp(state, "22", 2) == 0 ? EX_DATAERR : 1;
	}
	err[strcspn(err, "\n")] = '\0';
	PQclear(r);
	return NULL;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	memset(db, 0, sizeof(*db));
}
