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

#include "policy.h"
#include "tsa_limits.h"

struct db {
	PGconn		*conn;
	char		*conninfo;
	struct timespec	 next_try;	/* no reconnect attempt before this */
	int		 prepared;	/* statements prepared on this connection */
	int		 fresh;		/* connected since the last db_config_changed() */
};

/* A new connection to conninfo (a 3 s connect timeout unless it or PGCONNECT_TIMEOUT says
 * otherwise): the one way every program connects.  NULL with err when it failed. */
PGconn	*db_connect(const char *conninfo, char *err, size_t errlen);
int	 db_init(struct db *db, const char *conninfo);
/* The live connection, reconnecting (at most every 500 ms) when it is gone; NULL if down. */
PGconn	*db_conn(struct db *db);
/* Tells the pool a command failed: a broken connection is dropped for the next db_conn(). */
void	 db_failed(struct db *db, const PGresult *res);
void	 db_close(struct db *db);
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
 * Reads services, policies, filters and signers in one snapshot and builds a configuration;
 * with open_keys, each signer a policy uses has its key opened and checked, or taken over
 * from previous (which keeps working if this load fails: keys move only on success).  0 with *out, or
 * -1 with err (nothing is half-built).
 */
int	 config_load(struct db *db, int open_keys, struct tsa_config *previous,
	    struct tsa_config **out, char *err, size_t errlen);
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
 * last good configuration stays.  open_keys: config_load()'s (only the signer opens keys).
 */
struct config_follower {
	struct tsa_config	*config;	/* NULL until one loads */
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
};

/*
 * Inserts the n rows of t, each with its token log leaf (tlog.h), in one transaction and
 * commits it (group commit: one round trip and one WAL flush for the batch).  0 when committed, with exists[i] 1 for a row whose serial
 * was taken already (that row alone was not inserted: its token must be signed anew); -1 on
 * a database error, nothing committed.
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
