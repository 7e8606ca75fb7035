/*
 * db.c - a process's PostgreSQL connection (see store.h).  Statements are prepared once per
 * connection; a lost connection, or one that did not answer within its bound (its state then
 * unknown), is dropped and re-established on a later request, so a database restart or a
 * failover to another host needs no restart.  Every wait is bounded (pgbound.c).  Also
 * db_connect(), the one way every program connects, and db_query(), the one way tsactl, the
 * console and the configuration writes run a statement, its errors said on one line.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "store.h"

PGconn *
db_connect(const char *conninfo, long connect_ms, long statement_ms, char *err, size_t errlen)
{
	return pgb_connect(conninfo, connect_ms, statement_ms, err, errlen);
}

int
db_init(struct db *db, const char *conninfo, long timeout_ms, long wait_ms, int flags)
{
	memset(db, 0, sizeof(*db));
	db->timeout_ms = timeout_ms;
	db->wait_ms = wait_ms;
	db->flags = flags;
	return (db->conninfo = strdup(conninfo)) == NULL ? -1 : 0;
}

/* A new connection's set-up, each step bounded: the statements prepared, the server's own
 * bound (DB_SERVER_TIMEOUT), LISTEN.  0, or -1 with why. */
static int
setup(struct db *db, PGconn *c, char *why, size_t len)
{
	static const struct {
		const char *name, *sql;
	} stmts[] = {
		/* The token and its log leaf in one statement: both rows or neither. */
		{ "insert_token",
		  "WITH t AS (INSERT INTO issued_tokens (serial, gen_time, service_id, policy_id,"
		  " service, policy_oid, protocol, hash_alg, imprint, nonce, requester,"
		  " client_identity, token, request, signer, host) VALUES ($1::numeric,"
		  " $2::timestamptz, $3::integer, $4::integer, $5, $6, $7, $8, $9::bytea, $10::bytea,"
		  " $11::inet, $12, $13::bytea, $14::bytea, $15, $16) ON CONFLICT (serial) DO NOTHING"
		  " RETURNING serial) INSERT INTO log_queue (serial, leaf) SELECT serial, $17::bytea"
		  " FROM t" },
		{ "config_version",
		  "SELECT version FROM config_version" },
		{ "insert_event", SQL_INSERT_EVENT },
	};
	char sql[128], err[256];
	PGresult *r;
	size_t i;

	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		if (pgb_prepare(c, stmts[i].name, stmts[i].sql, pgb_deadline(c), err,
		    sizeof(err)) == -1) {
			snprintf(why, len, "prepare %s: %s", stmts[i].name, err);
			return -1;
		}
	/* Configuration changes are announced on this channel (schema 002's trigger). */
	snprintf(sql, sizeof(sql), "LISTEN tsa_config");
	/* A connection without tokens: the server gives up at the bound too, and its event rows
	 * do not wait for a synchronous standby (README, High availability). */
	if ((db->flags & DB_SERVER_TIMEOUT) != 0)
		snprintf(sql, sizeof(sql), "SET statement_timeout = %ld; SET synchronous_commit = "
		    "local; LISTEN tsa_config", db->timeout_ms);
	if ((r = pgb_exec(c, sql, NULL, 0, NULL, NULL, NULL, pgb_deadline(c), err,
	    sizeof(err))) == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(why, len, "%s: %s", sql, r != NULL ? PQresultErrorMessage(r) : err);
		why[strcspn(why, "\n")] = '\0';
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

/* One connection attempt within the connection's bound (and before deadline, when set). */
static PGconn *
reconnect(struct db *db, long long deadline, int quiet)
{
	long long now = pgb_now_ms();
	long bound = db->timeout_ms;
	char why[1024];

	if (deadline > 0 && deadline - now < bound)
		bound = deadline - now > 100 ? (long)(deadline - now) : 100;
	db_drop(db);
	db->conn = pgb_connect(db->conninfo, bound, db->timeout_ms, why, sizeof(why));
	if (db->conn != NULL && setup(db, db->conn, why, sizeof(why)) == -1) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	if (db->conn == NULL) {
		/* Fewer attempts while they fail, so an idle process is not always connecting. */
		db->backoff_ms = db->backoff_ms == 0 ? 500 : db->backoff_ms * 2;
		if (db->backoff_ms > 4000)
			db->backoff_ms = 4000;
		db->next_try = pgb_now_ms() + db->backoff_ms;
		if (!quiet)
			log_msg(LOG_WARNING, "database unreachable: %s", why);
		return NULL;
	}
	db->backoff_ms = 0;
	db->prepared = 1;
	db->fresh = 1;
	log_msg(LOG_INFO, "database connected (%s%s%s)%s%s", PQhost(db->conn),
	    PQport(db->conn) != NULL ? ":" : "", PQport(db->conn) != NULL ? PQport(db->conn) : "",
	    why[0] != '\0' ? ", passed over: " : "", why);
	return db->conn;
}

PGconn *
db_conn(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK && !pgb_broken(db->conn))
		return db->conn;
	if (pgb_now_ms() < db->next_try)
		return NULL;
	return reconnect(db, 0, 0);
}

PGconn *
db_conn_wait(struct db *db, long long deadline)
{
	struct timespec pause = { 0, 250000000L };
	int tries = 0;

	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK && !pgb_broken(db->conn))
		return db->conn;
	for (;;) {
		/* The first attempt has the whole connect bound, the later ones what is left of
		 * the wait; the first failure is logged, the ones while waiting are not. */
		if (reconnect(db, tries == 0 ? 0 : deadline, tries > 0) != NULL) {
			tries++;
			if (tries > 1)
				log_msg(LOG_INFO, "database back after %d attempts", tries);
			return db->conn;
		}
		tries++;
		if (pgb_now_ms() + 250 >= deadline)
			break;
		nanosleep(&pause, NULL);
	}
	log_msg(LOG_WARNING, "no database within the wait (%d attempts)", tries);
	return NULL;
}

void
db_drop(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->prepared = 0;
}

int
db_run_bounded(struct db *db, const char *stmt, int prepared, int n,
    const char *const *params, int timeout_ms, char *why, size_t len)
{
	PGresult *r;
	PGconn *c;
	int ok;

	if ((c = db_conn(db)) == NULL) {
		snprintf(why, len, "unreachable");
		return -1;
	}
	r = pgb_exec(c, prepared ? NULL : stmt, prepared ? stmt : NULL, n, params, NULL, NULL,
	    pgb_now_ms() + timeout_ms, why, len);
	ok = r != NULL && (PQresultStatus(r) == PGRES_TUPLES_OK ||
	    PQresultStatus(r) == PGRES_COMMAND_OK);
	if (r != NULL && !ok)
		snprintf(why, len, "%s", PQresultErrorMessage(r));
	PQclear(r);
	if (!ok) {
		/* Strip the newline libpq ends its messages with. */
		why[strcspn(why, "\n")] = '\0';
		if (r == NULL || pgb_broken(c))
			db_drop(db);
		else
			db_failed(db, NULL);
		return -1;
	}
	return 0;
}

void
db_failed(struct db *db, const PGresult *res)
{
	(void)res;
	if (db->conn != NULL && (PQstatus(db->conn) != CONNECTION_OK || pgb_broken(db->conn))) {
		char why[256];

		snprintf(why, sizeof(why), "%s", pgb_broken(db->conn) &&
		    PQstatus(db->conn) == CONNECTION_OK ? "no answer within the bound" :
		    PQerrorMessage(db->conn));
		why[strcspn(why, "\n")] = '\0';
		log_msg(LOG_WARNING, "database connection dropped: %s", why);
		db_drop(db);
		/* A server restart drops every idle connection: try a new one at once. */
		db->next_try = 0;
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
	char err[256];
	long long v = -1;

	if (c == NULL)
		return -1;
	r = pgb_exec(c, NULL, "config_version", 0, NULL, NULL, NULL, pgb_deadline(c), err,
	    sizeof(err));
	if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
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
	char why[256];
	PGresult *r = pgb_exec(c, sql, NULL, n, p, NULL, NULL, pgb_deadline(c), why, sizeof(why));
	ExecStatusType st = PQresultStatus(r);
	const char *state, *primary, *detail;

	if (r == NULL) {
		/* No answer within the bound, or the connection failed: its state unknown. */
		snprintf(err, errlen, "%s: database %s", what, why);
		err[strcspn(err, "\n")] = '\0';
		*rc = EX_UNAVAILABLE;
		return NULL;
	}
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
	db_drop(db);
	free(db->conninfo);
	memset(db, 0, sizeof(*db));
}
