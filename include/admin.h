/*
 * admin.h - the pieces tsactl is made of (src/cli/): the shared context (tsa.conf, the
 * database connection, the --json switch), argument parsing, output in readable text or JSON,
 * and the administration verbs.  Only tsactl includes it.
 *
 * Exit statuses (sysexits.h): 0 done; 1 the operation failed or what it names does not
 * exist; 64 usage; 65 bad data (a filter parameter, a certificate, an OID, a name);
 * 66 an input file unreadable; 69 the database or the PKCS#11 token unreachable; 78 tsa.conf.
 * Errors go to standard error as "tsactl: what is wrong"; results go to standard output.
 *
 * Statements run through db_query (store.h); every write goes through edit.h's edit_*(), the
 * write path the console takes too: a verb parses its arguments, calls it, says the outcome.
 *
 * Ownership: nothing here hands over memory but cli_read_text()'s string.
 */
#ifndef TSA_ADMIN_H
#define TSA_ADMIN_H

#include <stddef.h>
#include <sysexits.h>
#include <libpq-fe.h>

#include "conf.h"

#define EX_FAIL		1

/* ---- context (cli.c) ------------------------------------------------------------------- */
extern struct tsa_conf	 cli_conf;
extern const char	*cli_conf_file;	/* --conf FILE, or NULL */
extern int		 cli_json;	/* --json: JSON on standard output */

void	 cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "usage: tsactl " and the lines, exits 64. */
void	 cli_usage(const char *lines) __attribute__((noreturn));
/* Loads tsa.conf once; exits 78 when it is unreadable or wrong. */
void	 cli_load_conf(void);
/* A connection to the configured database; exits 69 when it is unreachable. */
PGconn	*cli_connect(void);
/* PKCS#11 set up with tsa.conf's module and PIN; exits 78 or 69 with the reason. */
void	 cli_pkcs11(void);

/* Who makes a change from the command line, for its config-change event: the system user
 * and the database role (the console names the administrator's certificate instead). */
struct edit_actor;
const struct edit_actor *cli_actor(PGconn *c);
/* SQL: a timestamptz column as ISO 8601 UTC text, named as. */
#define SQL_UTC(col, as) \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS " as

/* ---- arguments (cli.c) ----------------------------------------------------------------- */
struct cli_opt {
	const char	*name;		/* "--oid" */
	const char	**value;	/* set from the following argument */
};

/* Splits argv into options of the table (each takes one value) and positional arguments
 * (at most maxpos, into pos).  Unknown options, missing values, and more or fewer positional
 * arguments than minpos..maxpos are usage errors: says which, prints usage, exits 64.
 * Returns the positional count. */
int	 cli_args(const char *usage, int argc, char **argv, const struct cli_opt *opts,
	    size_t nopts, char **pos, int minpos, int maxpos);
/* A verb's sub-verbs ("service add"): runs the one argv[0] names, else usage (exit 64). */
struct cli_sub {
	const char	*name;
	int		(*fn)(int argc, char **argv);	/* argv after the sub-verb's name */
};
int	 cli_dispatch(const char *usage, const struct cli_sub *subs, size_t n, int argc,
	    char **argv);
/* 1 when s is a whole number within min..max (into *out), else 0. */
int	 cli_int(const char *s, long min, long max, long *out);
/* Reads a text file (at most max bytes) as a NUL-terminated string; exits 66 on failure.
 * The caller frees. */
char	*cli_read_text(const char *path, size_t max);
/* Decimal text of a serial given as decimal or 0xHEX, into dec.  0 or -1 (not a serial). */
int	 cli_serial(const char *arg, char *dec, size_t declen);

/* ---- output (output.c) ----------------------------------------------------------------- */
/* Prints s as a JSON string, quotes included. */
void	 json_str(const char *s);
/* One row as a JSON object without its closing brace (so more members may follow). */
void	 json_row_open(const PGresult *r, int row);
/* Rows: a table (or, with records, one block per row) in text; a JSON array with --json. */
void	 out_rows(const PGresult *r, int records);
/* One row as "name: value" lines (NULL printed as null_text), or a JSON object. */
void	 out_row(const PGresult *r, int row, const char *null_text);
/* The outcome of a write: the message in text, or the row (may be NULL) as a JSON object
 * with "config_version" added, the version read on c after the commit. */
void	 out_done(PGconn *c, const PGresult *r, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* ---- verbs: argc/argv after the verb's name; each returns an exit status ------------------ */
int	 cmd_service(int argc, char **argv);	/* admin.c */
int	 cmd_policy(int argc, char **argv);
int	 cmd_filter(int argc, char **argv);
int	 cmd_client(int argc, char **argv);	/* clients.c */
int	 cmd_admin(int argc, char **argv);	/* clients.c: web console administrators */
int	 cmd_log(int argc, char **argv);	/* log.c: the token log */
/* log.c: a connection as the log's reader (tsa.conf log_reader_database), or exits. */
PGconn	*cli_log_reader(void);
int	 cli_log_keys(int argc, char **argv);	/* logkeys.c: the listed log keys */
int	 cli_log_key(int argc, char **argv);
int	 cmd_signer(int argc, char **argv);	/* keys.c */
int	 cmd_server(int argc, char **argv);	/* servers.c: the fleet */

#endif
