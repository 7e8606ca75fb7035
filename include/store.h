/*
 * store.h - PostgreSQL: one connection per worker, reused across requests and re-established
 * by itself; the configuration loaded whole; issued tokens and events recorded.
 *
 * Ownership: db_close() frees what db_init() set up; config_load() hands over a new
 * struct tsa_config, freed with config_free().
 */
#ifndef TSA_STORE_H
#define TSA_STORE_H

#include <time.h>
#include <libpq-fe.h>

#include "pgbound.h"
#include "policy.h"
#include "tsa_limits.h"

/*
 * A process's connection and its bounds (tsa.conf's database_timeout, database_wait): every
 * connect and statement on it ends within timeout_ms (pgbound.h); a connection that did not
 * is dropped.  DB_SERVER_TIMEOUT, for a connection that holds no token (the workers':
 * configuration and events): the server cancels its statements at the same bound
 * (statement_timeout), and its commits do not wait for a synchronous standby
 * (synchronous_commit = local), so that an event never waits on a missing standby.
 */
#define DB_SERVER_TIMEOUT	0x1

struct db {
	PGconn		*conn;
	char		*conninfo;
	long		 timeout_ms;	/* each connect, each statement */
	long		 wait_ms;	/* db_conn_wait(): how long to wait for a primary */
	int		 flags;		/* DB_SERVER_TIMEOUT */
	long long	 next_try;	/* ms (pgb_now_ms): no reconnect attempt before this */
	long		 backoff_ms;	/* after a failed connect: 500 ms, doubling to 4 s */
	int		 prepared;	/* statements prepared on this connection */
	int		 fresh;		/* connected since the last db_config_changed() */
};

/*
 * A new connection to conninfo, the one way every program connects: each host of a
 * multi-host conninfo tried in order within connect_ms in all (pgbound.h); statement_ms
 * bounds every statement later run through db_query (0: none, tsactl's).  NULL with err
 * when no host took it.
 */
PGconn	*db_connect(const char *conninfo, long connect_ms, long statement_ms, char *err,
	    size_t errlen);
/* timeout_ms, wait_ms: tsa.conf's database_timeout and database_wait, in ms; flags:
 * DB_SERVER_TIMEOUT or 0.  0, or -1 (out of memory). */
int	 db_init(struct db *db, const char *conninfo, long timeout_ms, long wait_ms, int flags);
/* The live connection, reconnecting when it is gone (one attempt, at most every 500 ms, less
 * often while attempts fail); NULL if down. */
PGconn	*db_conn(struct db *db);
/*
 * The live connection, or the first that a host of the conninfo accepts before deadline
 * (ms, pgb_now_ms): attempts every 250 ms, so that a primary that comes back (a restart, a
 * failover to another host) is found while a request waits.  NULL if none by then.
 */
PGconn	*db_conn_wait(struct db *db, long long deadline);
/* Tells the pool a command failed: a broken connection (lost, or timed out: its state
 * unknown) is dropped for the next db_conn(). */
void	 db_failed(struct db *db, const PGresult *res);
/* Drops the connection whatever its state (the next db_conn() makes a new one). */
void	 db_drop(struct db *db);
void	 db_close(struct db *db);
/*
 * One statement on db's connection, bounded in time (the health check's, the heartbeat's: a
 * process that must not hang on a database that does not answer): stmt is a prepared
 * statement's name when prepared, else SQL with n text parameters.  A connection that does
 * not answer within timeout_ms is dropped.  0 when it succeeded (its rows are not kept), or
 * -1 with why on one line.
 */
int	 db_run_bounded(struct db *db, const char *stmt, int prepared, int n,
	    const char *const *params, int timeout_ms, char *why, size_t len);
/*
 * 1 when the configuration may have changed since the last call: a notification on the
 * channel tsa_config arrived, or the connection is new (notifications may have been missed).
 * Never blocks.
 */
int	 db_config_changed(struct db *db);
/* config_version.version, or -1 when the database cannot say. */
long long db_config_version(struct db *db);
/*
 * The one way tsactl, the console and the configuration writes (edit.c) run a statement:
 * text parameters (NULL: SQL NULL), never user text in the SQL; without parameters (n 0) the
 * simple protocol, so a script of several statements runs (tsactl migrate).  Its result (the caller
 * PQclear()s), or NULL with err "what: reason" on one line and *rc the exit status
 * (sysexits.h): 69 the connection is gone, 65 the value was refused (SQLSTATE class 22, data
 * exception), 1 otherwise (an older schema than this program's is said so).  The worker's
 * hot path runs its prepared statements (db_conn) instead.
 */
PGresult *db_query(PGconn *c, const char *sql, int n, const char *const *params,
	    const char *what, int *rc, char *err, size_t errlen);

/*
 * How a filter's jsonb parameters (a relation f with a column params) become (key, value)
 * rows, e.key and v.value: one per scalar, one per array element in order.  The worker's load
 * and tsactl's check before a write both use it, so both see the same parameters.
 */
#define SQL_FLATTEN_PARAMS \
	" LEFT JOIN LATERAL jsonb_each(f.params) e ON true" \
	" LEFT JOIN LATERAL jsonb_array_elements_text(CASE jsonb_typeof(e.value)" \
	"   WHEN 'array' THEN e.value ELSE jsonb_build_array(e.value) END)" \
	"   WITH ORDINALITY v(value, ord) ON true"

/*
 * Reads services, policies, filters and signers in one snapshot and builds a configuration
 * as the server host sees it (each policy's unit is its group's unit for host: units.h;
 * NULL: the unit each policy names); with open_keys, each signer a policy uses has its key opened and checked, or taken over
 * from previous (which keeps working if this load fails: keys move only on success).  0 with *out, or
 * -1 with err (nothing is half-built).
 */
int	 config_load(struct db *db, const char *host, int open_keys,
	    struct tsa_config *previous, struct tsa_config **out, char *err, size_t errlen);
/*
 * The configuration as c sees it (a write's own transaction, before it commits, or the
 * console's page): -1 with err naming the first policy it refuses (one that can receive a
 * protocol its signer cannot make a token for), else 0.  A configuration that does not load
 * at all is left to the other checks and to the workers, which keep their last good one.
 */
int	 config_refused_policy(PGconn *c, char *err, size_t errlen);

/*
 * A process's view of the configuration (a worker's, the signer's): the last good one,
 * followed by LISTEN/NOTIFY and, at most once a second, a comparison of config_version.  A
 * version refused at load is logged and recorded as a config-refused event once, and the
 * last good configuration stays.  open_keys: config_load()'s (only the signer opens keys);
 * the signer also records a policy-refused event for each policy a new version refuses.
 */
struct config_follower {
	struct tsa_config	*config;	/* NULL until one loads */
	const char		*host;		/* this server (tsa.conf's host) */
	int			 open_keys;
	time_t			 version_checked;
	long long		 refused_version;
};

/* Loads the configuration when it changed (or none is held yet); force: compare the version
 * now rather than at most once a second.  0 when a configuration is held, else -1. */
int	 config_follow(struct db *db, struct config_follower *f, int force);


struct token_record {
	const unsigned char	*serial;
	size_t			 serial_len;
	struct timespec		 gen_time;	/* as in the token (truncated to its digits) */
	long			 service_id, policy_id;
	const char		*service;
	const char		*policy_oid;
	const char		*protocol;	/* as issued_tokens names it: rfc3161, ... */
	const char		*hash_alg;
	const unsigned char	*imprint;
	size_t			 imprint_len;
	const unsigned char	*nonce;		/* NULL: none */
	size_t			 nonce_len;
	const char		*requester;	/* an IP address, or NULL */
	const char		*client_identity;
	const unsigned char	*token;		/* NULL: archive keeps the index row only */
	size_t			 token_len;
	const unsigned char	*issued;	/* the token as issued, whatever is archived: */
	size_t			 issued_len;	/* its hash is in the log leaf (tlog.h) */
	const unsigned char	*request;	/* NULL unless archive keeps requests */
	size_t			 request_len;
	const char		*signer;	/* the unit that signed it; NULL: not said */
	const char		*host;		/* the server it was signed on; NULL: not said */
};

/*
 * Inserts the n rows of t, each with its token log leaf (tlog.h), in one transaction and
 * commits it (group commit: one round trip and one WAL flush for the batch).  0 when committed, with exists[i] 1 for a row whose serial
 * was taken already (that row alone was not inserted: its token must be signed anew); -1 on
 * a database error, nothing committed (no database within database_wait included); -2 when
 * whether it committed is unknown (no answer within database_timeout, or the server warned
 * while committing, as when a wait for a synchronous standby is cancelled): its rows may
 * exist, none of its tokens may be answered.
 */
int	 tokens_record_batch(struct db *db, const struct token_record *t, size_t n,
	    int *exists);
/*
 * The one statement that writes an event row, whoever writes it (the worker, tsactl, the
 * console), with the parameters event_params() prepares: the service and the detail cleaned
 * (text.h) and capped, so no event holds a control character; the requester kept only when
 * it is an IP address; count the number of events the row stands for (repeated refusals,
 * src/fcgi/refusals.c), 1 for any other.
 */
#define SQL_INSERT_EVENT \
	"INSERT INTO events (severity, kind, service, requester, detail, count)" \
	" VALUES ($1, $2, $3, $4::inet, $5, $6::integer)"
#define EVENT_NPARAMS	6

/*
 * The fleet (schema 012), as tsactl status and the console show it: one row per server and
 * unit (a server without units: one row, the unit columns NULL), by host.  Columns: host,
 * version, pid, state, started (UTC text), seconds since its last heartbeat (text, one
 * decimal), heartbeat_interval, its signing process ("answering" or why not), verdict (ok |
 * silent | stopped: silent when SERVER_SILENT_BEATS heartbeats were missed), unit, unit
 * state, reason.  Every text from the table is the servers' word: shown cleaned or escaped.
 */
#define SERVER_SILENT_BEATS	3
#define SERVER_STR_(x)		#x
#define SERVER_STR(x)		SERVER_STR_(x)
/* A servers row's verdict (a relation s): ok, silent or stopped. */
#define SQL_SERVER_VERDICT \
	"CASE WHEN s.state = 'stopped' THEN 'stopped' WHEN now() - s.heartbeat_at >" \
	" " SERVER_STR(SERVER_SILENT_BEATS) " * s.heartbeat_interval * interval '1 second'" \
	" THEN 'silent' ELSE 'ok' END"
#define SQL_SERVERS \
	"SELECT s.host, s.version, s.pid, s.state," \
	" to_char(s.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS started," \
	" to_char(extract(epoch FROM now() - s.heartbeat_at), 'FM9999999990.0') AS heard_s_ago," \
	" s.heartbeat_interval AS interval_s, s.signer, " SQL_SERVER_VERDICT " AS verdict," \
	" u.value->>'unit' AS unit, u.value->>'state' AS unit_state," \
	" u.value->>'reason' AS reason" \
	" FROM servers s LEFT JOIN LATERAL jsonb_array_elements(s.units) WITH ORDINALITY" \
	"  AS u(value, n) ON true ORDER BY s.host, u.n"

struct event_params {
	const char	*values[EVENT_NPARAMS];
	char		 service[TSA_MAX_EVENT_DETAIL / 2];
	char		 detail[TSA_MAX_EVENT_DETAIL];
	char		 count[24];
};

/* Fills ep (values point into it) for SQL_INSERT_EVENT; service, requester and detail may
 * be NULL (detail: empty). */
void	 event_params(struct event_params *ep, const char *severity, const char *kind,
	    const char *service, const char *requester, const char *detail, long count);
/* Best effort: an event row (refusals, key and configuration problems) standing for count
 * events, on the worker's connection.  0 or -1. */
int	 events_record(struct db *db, const char *severity, const char *kind,
	    const char *service, const char *requester, const char *detail, long count);

#endif
