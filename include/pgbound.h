/*
 * pgbound.h - libpq with every wait bounded: connects that try each host of a multi-host
 * conninfo within its share of a deadline, statements that are sent and awaited with poll(2),
 * never with libpq's blocking calls.  A connection whose statement outlived its deadline is
 * marked broken: its state on the server is unknown, its owner drops it (PQfinish) and never
 * reads a later result from it as the outcome.
 *
 * Ownership: a PGconn from pgb_connect() is the caller's (PQfinish); the state this module
 * keeps for it is freed with it.  Results returned are the caller's (PQclear).
 */
#ifndef TSA_PGBOUND_H
#define TSA_PGBOUND_H

#include <stddef.h>
#include <libpq-fe.h>

/* CLOCK_MONOTONIC in ms, the clock every deadline here is on. */
long long	 pgb_now_ms(void);

/*
 * A connection to conninfo within connect_ms: the hosts of a multi-host conninfo (host,
 * hostaddr and port lists) tried in order, each within its share of what is left (a host
 * that drops packets costs its share, not the whole bound); target_session_attrs and every
 * other keyword as conninfo says.  Unless conninfo sets them: TCP keepalives (idle 5 s, then
 * every 2 s, 3 probes) and tcp_user_timeout equal to statement_ms (or connect_ms), so that a
 * peer gone silent ends the connection in the kernel too.  statement_ms bounds each later
 * statement run through this module (0: no bound, for an operator's tool).  The connection
 * is left in non-blocking mode with this module's notice receiver (each notice logged,
 * WARNINGs counted: pgb_warnings).  NULL with err naming each host's failure; on success,
 * err names the hosts passed over before the one that took it ("" when none).
 */
PGconn		*pgb_connect(const char *conninfo, long connect_ms, long statement_ms,
		    char *err, size_t errlen);

/* A new session on c to the same server list (PQresetStart, awaited for at most connect_ms;
 * libpq walks the hosts itself here).  0, or -1 (c is then unusable: PQfinish it). */
int		 pgb_reset(PGconn *c, long connect_ms);
/* The statement bound the connection was made with (ms; 0: none). */
long		 pgb_timeout(const PGconn *c);
/* The deadline of a statement started now: now + pgb_timeout(c), or 0 (none). */
long long	 pgb_deadline(const PGconn *c);
/* 1 when a statement on c outlived its deadline (or its sending failed): drop it. */
int		 pgb_broken(const PGconn *c);
/* The number of WARNING notices c has received, and the text of the last one ("" if none). */
unsigned	 pgb_warnings(const PGconn *c);
const char	*pgb_last_warning(const PGconn *c);

/*
 * Sends what libpq holds for c (after PQsend*, PQpipelineSync), then waits until a result can
 * be taken without blocking, both before deadline (0: none).  0, or -1 with err: the deadline
 * passed (c is marked broken) or the connection failed.
 */
int		 pgb_wait(PGconn *c, long long deadline, char *err, size_t errlen);
/* The next result (PQgetResult's, NULL included) once pgb_wait() allows: 0 with *r, or -1. */
int		 pgb_result(PGconn *c, long long deadline, PGresult **r, char *err,
		    size_t errlen);
/*
 * Runs one statement to its end before deadline: sql with n text parameters (n 0 and no
 * prepared name: the simple protocol, so a script of several statements runs), or the
 * prepared statement named prepared with n parameters of the given lengths and formats
 * (NULL: text).  The first failed result, else the last one (the caller PQclear()s it;
 * its status says whether it failed), or NULL with err when no result came (deadline passed:
 * c broken; connection lost).
 */
PGresult	*pgb_exec(PGconn *c, const char *sql, const char *prepared, int n,
		    const char *const *values, const int *lengths, const int *formats,
		    long long deadline, char *err, size_t errlen);
/* pgb_exec() of sql with n (>= 1) text parameters, its results in binary. */
PGresult	*pgb_exec_binary(PGconn *c, const char *sql, int n, const char *const *values,
		    long long deadline, char *err, size_t errlen);
/* PQprepare's work before deadline: 0, or -1 with err. */
int		 pgb_prepare(PGconn *c, const char *name, const char *sql, long long deadline,
		    char *err, size_t errlen);

#endif
