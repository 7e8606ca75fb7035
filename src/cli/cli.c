/*
 * cli.c - what every tsactl verb shares (see admin.h): tsa.conf, the database connection, who
 * writes (for the events), argument parsing and the text file reader.  Statements run through
 * db_query (src/store/db.c), writes through src/store/edit.c.
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
	char why[512];
	PGconn *c;

	cli_load_conf();
	if (cli_conf.database == NULL) {
		cli_err("%s: database is not set", conf_path(cli_conf_file));
		exit(EX_CONFIG);
	}
	/* The administration role when tsa.conf names one (the workers' may only read and
	 * insert). */
	/* The connect bounded by database_timeout; the statements not (a migration may take
	 * its time, and the operator is there to interrupt it). */
	if ((c = db_connect(cli_conf.admin_database != NULL ? cli_conf.admin_database :
	    cli_conf.database, cli_conf.database_timeout * 1000, 0, why, sizeof(why))) == NULL) {
		fprintf(stderr, "tsactl: database unreachable: %s\n", why);
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

int
cli_serial(const char *arg, char *dec, size_t declen)
{
	unsigned char b[TSA_SERIAL_MAX + 1];
	size_t n;

	if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X')) {
		if (hex_decode(arg, b, sizeof(b), &n) == -1)
			return -1;
		return bytes_to_decimal(b, n, dec, declen);
	}
	if (decimal_to_bytes(arg, b, sizeof(b), &n) == -1)
		return -1;
	return bytes_to_decimal(b, n, dec, declen);
}
