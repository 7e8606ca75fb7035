/*
 * cli.c - what every tsactl verb shares (see admin.h): tsa.conf, the database connection and
 * its errors, transactions, argument parsing and the checks of names and OIDs.
 * Input: the operator's command line and files, checked before anything is written.
 */
#include <ctype.h>
#include <pwd.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "bytes.h"
#include "edit.h"
#include "signer.h"
#include "store.h"
#include "tsa_limits.h"

struct tsa_conf	 cli_conf;
const char	*cli_conf_file;
int		 cli_json;

static int	 conf_loaded;
static char	 last_state[8];
static char	 last_error[1024];

void
cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("tsactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_usage(const char *lines)
{
	fprintf(stderr, "usage: tsactl [--conf FILE] [--json] %s", lines);
	exit(EX_USAGE);
}

void
cli_load_conf(void)
{
	char err[512];

	if (conf_loaded)
		return;
	if (conf_load(conf_path(cli_conf_file), &cli_conf, err, sizeof(err)) == -1) {
		cli_err("%s", err);
		exit(EX_CONFIG);
	}
	conf_loaded = 1;
}

PGconn *
cli_connect(void)
{
	PGconn *c;

	cli_load_conf();
	if (cli_conf.database == NULL) {
		cli_err("%s: database is not set", conf_path(cli_conf_file));
		exit(EX_CONFIG);
	}
	/* The administration role when tsa.conf names one (the workers' may only read and
	 * insert). */
	c = PQconnectdb(cli_conf.admin_database != NULL ? cli_conf.admin_database :
	    cli_conf.database);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "tsactl: database unreachable: %s", PQerrorMessage(c));
		PQfinish(c);
		exit(EX_UNAVAILABLE);
	}
	return c;
}

void
cli_pkcs11(void)
{
	char err[512];

	cli_load_conf();
	if (cli_conf.pkcs11_module == NULL) {
		cli_err("%s: pkcs11_module is not set", conf_path(cli_conf_file));
		exit(EX_CONFIG);
	}
	if (pkcs11_setup(&cli_conf, err, sizeof(err)) == -1) {
		cli_err("PKCS#11: %s", err);
		exit(EX_UNAVAILABLE);
	}
}

PGresult *
db_run(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	const char *state, *primary, *detail;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	snprintf(last_state, sizeof(last_state), "%s", state != NULL ? state : "");
	if (primary != NULL && detail != NULL)
		snprintf(last_error, sizeof(last_error), "%s (%s)", primary, detail);
	else
		snprintf(last_error, sizeof(last_error), "%s",
		    primary != NULL ? primary : PQerrorMessage(c));
	last_error[strcspn(last_error, "\n")] = '\0';
	PQclear(r);
	return NULL;
}

const char *
db_sqlstate(void)
{
	return last_state;
}

int
db_fail(PGconn *c, const char *what)
{
	if (PQstatus(c) != CONNECTION_OK) {
		cli_err("%s: database connection lost: %s", what, last_error);
		return EX_UNAVAILABLE;
	}
	/* undefined_table, undefined_column: an older schema than this tsactl's. */
	if (strcmp(last_state, "42P01") == 0 || strcmp(last_state, "42703") == 0) {
		cli_err("%s: the schema is not up to date (run tsactl migrate): %s", what,
		    last_error);
		return EX_FAIL;
	}
	cli_err("%s: %s", what, last_error);
	return EX_FAIL;
}

int
db_begin(PGconn *c)
{
	PGresult *r = db_run(c, "BEGIN", 0, NULL);

	if (r == NULL)
		return db_fail(c, "begin");
	PQclear(r);
	return 0;
}

const struct edit_actor *
cli_actor(PGconn *c)
{
	static char who[192];
	static struct edit_actor actor = { who };
	const struct passwd *pw = getpwuid(geteuid());

	snprintf(who, sizeof(who), "tsactl (system user %s, database role %s)",
	    pw != NULL ? pw->pw_name : "?", PQuser(c));
	return &actor;
}

int
db_end(PGconn *c, int status, const char *service, const char *what, ...)
{
	PGresult *r;
	char change[768], why[1024];
	va_list ap;

	if (status == 0 && what != NULL) {
		va_start(ap, what);
		vsnprintf(change, sizeof(change), what, ap);
		va_end(ap);
		if ((status = edit_record(c, cli_actor(c), service, change, why,
		    sizeof(why))) != 0)
			cli_err("%s; nothing was written", why);
	}
	if (status == 0 && what != NULL && config_refused_policy(c, why, sizeof(why)) == -1) {
		cli_err("%s; nothing was written", why);
		status = EX_DATAERR;
	}
	if (status != 0) {
		PQclear(PQexec(c, "ROLLBACK"));
		return status;
	}
	if ((r = db_run(c, "COMMIT", 0, NULL)) == NULL)
		return db_fail(c, "commit (nothing was written)");
	/* A COMMIT in an aborted transaction reports success and rolls back. */
	status = strcmp(PQcmdStatus(r), "COMMIT") == 0 ? 0 : EX_FAIL;
	if (status != 0)
		cli_err("the transaction was rolled back; nothing was written");
	PQclear(r);
	return status;
}

void
db_version(PGconn *c, char *out, size_t outlen)
{
	PGresult *r = db_run(c, "SELECT version FROM config_version", 0, NULL);

	snprintf(out, outlen, "%s", r != NULL && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "?");
	PQclear(r);
}

/* The service's id into sid (its row locked when lock is set): 0, or an exit status. */
int
db_service(PGconn *c, const char *name, int lock, char *sid, size_t sidlen)
{
	const char *p[1] = { name };
	PGresult *r = db_run(c, lock ? "SELECT id FROM services WHERE name = $1 FOR UPDATE" :
	    "SELECT id FROM services WHERE name = $1", 1, p);

	if (r == NULL)
		return db_fail(c, "looking up the service");
	if (PQntuples(r) == 0) {
		cli_err("no service '%s'", name);
		PQclear(r);
		return EX_FAIL;
	}
	snprintf(sid, sidlen, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

int
cli_args(const char *usage, int argc, char **argv, const struct cli_opt *opts, size_t nopts,
    char **pos, int minpos, int maxpos)
{
	int i, npos = 0;
	size_t j;

	for (i = 0; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			for (j = 0; j < nopts; j++)
				if (strcmp(argv[i], opts[j].name) == 0)
					break;
			if (j == nopts) {
				cli_err("unknown option %s", argv[i]);
				cli_usage(usage);
			}
			if (i + 1 == argc) {
				cli_err("%s needs a value", argv[i]);
				cli_usage(usage);
			}
			*opts[j].value = argv[++i];
			continue;
		}
		if (npos == maxpos) {
			cli_err("unexpected argument '%s'", argv[i]);
			cli_usage(usage);
		}
		pos[npos++] = argv[i];
	}
	if (npos < minpos) {
		cli_err("missing argument");
		cli_usage(usage);
	}
	return npos;
}

int
cli_dispatch(const char *usage, const struct cli_sub *subs, size_t n, int argc, char **argv)
{
	size_t i;

	for (i = 0; argc > 0 && i < n; i++)
		if (strcmp(argv[0], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1);
	if (argc > 0)
		cli_err("unknown sub-verb '%s'", argv[0]);
	cli_usage(usage);
}

int
cli_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]) && s[0] != '-')
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

int
cli_name_ok(const char *s)
{
	size_t n;

	if (s[0] == '\0' || s[0] == '-')
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if (n == 128 || !isgraph((unsigned char)s[n]))
			return 0;
	return 1;
}

char *
cli_read_text(const char *path, size_t max)
{
	unsigned char *p;
	char *s;
	size_t len;

	if (file_read(path, max, &p, &len) == -1) {
		cli_err("cannot read %s (or larger than %zu bytes)", path, max);
		exit(EX_NOINPUT);
	}
	if (memchr(p, '\0', len) != NULL || (s = realloc(p, len + 1)) == NULL) {
		cli_err("%s is not a text file", path);
		free(p);
		exit(EX_DATAERR);
	}
	s[len] = '\0';
	return s;
}
