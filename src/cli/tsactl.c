/*
 * tsactl - administration of the time-stamping authority: schema migrations, status of the
 * database and the signers, services, policies and their filter chains, signers and their
 * keys on the token, registered clients, the events log, looking up issued tokens, verifying
 * tokens.  This file holds the command line, the verb table and the verbs that read what the
 * worker wrote (status, token, events, verify); the configuration verbs are in admin.c
 * (service, policy, filter), clients.c (client) and keys.c (signer), their shared parts in
 * cli.c and output.c (see admin.h for the exit statuses).
 * Input: the command line and tsa.conf (the operator's), token files (untrusted: verify puts
 * them through the same strict DER gate as the worker).
 *
 * usage: tsactl [--conf FILE] [--json] VERB ...   (see usage() below)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libpq-fe.h>

#include "admin.h"
#include "asn1.h"
#include "bytes.h"
#include "conf.h"
#include "edit.h"
#include "link.h"
#include "log.h"
#include "migrations.h"
#include "store.h"
#include "text.h"
#include "verify.h"
#include "xmlverify.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tsactl [--conf FILE] [--json] VERB ...\n"
	    "  migrate                         apply the schema migrations (idempotent)\n"
	    "  status                          database, migrations, signers, the fleet\n"
	    "  service list | add NAME [--description TEXT] | remove NAME\n"
	    "  policy list [SERVICE] | show SERVICE POLICY | remove SERVICE POLICY\n"
	    "  policy add SERVICE POLICY --oid OID --signer SIGNER [--position N]\n"
	    "      [--protocol rfc3161|soap|authenticode] [--req-policy OID]\n"
	    "      [--client-cert yes|no] [--client NAME]\n"
	    "  policy set SERVICE POLICY [--oid OID] [--signer SIGNER] [--protocol P|any]\n"
	    "      [--req-policy OID|any] [--client-cert yes|no|any] [--client NAME|any]\n"
	    "  filter list SERVICE POLICY | add SERVICE POLICY FILTER [JSON] [--position N]\n"
	    "  filter remove SERVICE POLICY --position N | set SERVICE POLICY --position N JSON\n"
	    "  signer list | remove NAME\n"
	    "  signer add NAME --uri PKCS11_URI --cert PEMFILE [--chain PEMFILE]\n"
	    "      [--scheme auto|rsa-pss] [--digest sha256|sha384|sha512]\n"
	    "      [--host HOST] [--group GROUP]\n"
	    "  signer set NAME [--host HOST|any] [--group GROUP|none]   a unit's server, group\n"
	    "  server list | remove HOST       the fleet: servers, heartbeats, their units\n"
	    "  signer keygen --label LABEL --type rsa2048|rsa3072|ec-p256|ec-p384 --subject DN\n"
	    "      --csr OUTFILE [--token PKCS11_URI]\n"
	    "  client list [SERVICE] | add SERVICE NAME --cert PEMFILE | remove SERVICE NAME\n"
	    "  admin list | add NAME --cert PEMFILE | remove NAME   web console administrators\n"
	    "  events [--since DURATION|TIMESTAMP] [--limit N] [--kind KIND]\n"
	    "  events prune --older-than DURATION   delete events older than that (>= 1d)\n"
	    "  token show SERIAL [--out FILE]  an issued token by serial (decimal or 0xHEX)\n"
	    "  token find --imprint HEX        issued tokens for a message imprint\n"
	    "  log sth [--size N]              the token log's latest tree head (or of size N)\n"
	    "  log proof SERIAL | --token FILE [--size N]  inclusion proof of a token, verified\n"
	    "  log consistency FIRST [SECOND] [--root HEX]  consistency proof, verified (--root:\n"
	    "                                  a kept tree head's root)\n"
	    "  log audit                       recompute the log's tree from the archive\n"
	    "  log keys                        the log keys listed for auditors (URL/log/keys)\n"
	    "  log key add [--uri URI] [--host HOST]  list this server's log key (run on it)\n"
	    "  log key retire KEY_ID           heads signed by it after now are refused\n"
	    "  verify FILE [--ca CAFILE] [--untrusted PEM] [--data FILE]\n"
	    "                                  verify an RFC 3161 response or token, or an\n"
	    "                                  XML-DSig (SOAP/XML) token\n"
	    "--json: JSON on standard output (all but migrate, status, token, verify).\n"
	    "The configuration is --conf FILE, else $TSA_CONF, else /etc/tsa/tsa.conf.\n"
	    "Exit status: 0 done, 1 failed or not found, 64 usage, 65 bad data, 66 unreadable\n"
	    "input file, 69 database or token unreachable, 78 tsa.conf.\n");
	exit(EX_USAGE);
}

/* One statement of the migration (db_query: without parameters, a script): 0, or -1 said. */
static int
exec_ok(PGconn *c, const char *sql, int n, const char *const *p, int *found)
{
	char err[1024];
	PGresult *r;
	int rc;

	if ((r = db_query(c, sql, n, p, "migrating", &rc, err, sizeof(err))) == NULL) {
		cli_err("%s", err);
		return -1;
	}
	if (found != NULL)
		*found = PQntuples(r) == 1;
	PQclear(r);
	return 0;
}

/* Each migration in its own transaction, under an advisory lock so that two concurrent
 * `tsactl migrate` runs do not race. */
static int
cmd_migrate(int argc, char **argv)
{
	PGconn *c;
	size_t i;
	int applied = 0;

	(void)argv;
	if (argc != 0)
		usage();
	c = cli_connect();
	if (exec_ok(c, "SET client_min_messages = warning", 0, NULL, NULL) == -1 ||
	    exec_ok(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
	    " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL,
	    NULL) == -1)
		goto fail;
	for (i = 0; i < n_migrations; i++) {
		char version[16];
		const char *params[2] = { version, migrations[i].name };
		int done = 0;

		snprintf(version, sizeof(version), "%d", migrations[i].version);
		if (exec_ok(c, "BEGIN", 0, NULL, NULL) == -1 ||
		    exec_ok(c, "SELECT pg_advisory_xact_lock(3161)", 0, NULL, NULL) == -1 ||
		    exec_ok(c, "SELECT 1 FROM schema_migrations WHERE version = $1::integer", 1,
		    params, &done) == -1)
			goto fail;
		if (done) {
			exec_ok(c, "COMMIT", 0, NULL, NULL);
			continue;
		}
		if (exec_ok(c, migrations[i].sql, 0, NULL, NULL) == -1 ||
		    exec_ok(c, "INSERT INTO schema_migrations (version, name) VALUES "
		    "($1::integer, $2)", 2, params, NULL) == -1 ||
		    exec_ok(c, "COMMIT", 0, NULL, NULL) == -1)
			goto fail;
		printf("applied %s\n", migrations[i].name);
		applied++;
	}
	printf("schema up to date (%zu migrations, %d applied now)\n", n_migrations, applied);
	PQfinish(c);
	return 0;
fail:
	fprintf(stderr, "tsactl: migration failed; nothing of it was applied\n");
	PQfinish(c);
	return 1;
}

static void
print_time(const char *label, time_t t)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm);
	printf("%s%s", label, buf);
}

/*
 * Every server of the fleet (schema 012): when each was last heard from, silent after
 * SERVER_SILENT_BEATS missed heartbeats, and its units as its signing process last reported
 * them.  What the rows say is the servers' word, printed cleaned.  The exit status stays this
 * server's: another server's state is shown, not judged here (its own status judges it).
 */
static void
print_servers(PGconn *c)
{
	char err[512], v[8][600];
	PGresult *r;
	int i, rc, n = 0, silent = 0;

	if ((r = db_query(c, SQL_SERVERS, 0, NULL, "reading the servers", &rc, err,
	    sizeof(err))) == NULL) {
		printf("servers: UNKNOWN (%s)\n", err);
		return;
	}
	for (i = 0; i < PQntuples(r); i++)
		if (i == 0 || strcmp(PQgetvalue(r, i, 0), PQgetvalue(r, i - 1, 0)) != 0) {
			n++;
			silent += strcmp(PQgetvalue(r, i, 8), "silent") == 0;
		}
	printf("servers: %d (%d silent)\n", n, silent);
	for (i = 0; i < PQntuples(r); i++) {
		const char *mine = strcmp(PQgetvalue(r, i, 0), cli_conf.host) == 0 ?
		    " (this server)" : "";
		int k;

		for (k = 0; k < 8; k++)
			text_clean(v[k], sizeof(v[k]), PQgetvalue(r, i, k));
		if (i == 0 || strcmp(PQgetvalue(r, i, 0), PQgetvalue(r, i - 1, 0)) != 0) {
			const char *verdict = PQgetvalue(r, i, 8);

			if (strcmp(verdict, "silent") == 0)
				printf("server %s: SILENT: last heard %s s ago, %d heartbeats of %s s "
				    "missed%s\n", v[0], v[5], SERVER_SILENT_BEATS, v[6], mine);
			else if (strcmp(verdict, "stopped") == 0)
				printf("server %s: stopped %s s ago%s\n", v[0], v[5], mine);
			else
				printf("server %s: ok, last heard %s s ago (every %s s)%s\n", v[0],
				    v[5], v[6], mine);
			printf("  version %s, pid %s, up since %s\n  signing process: %s\n",
			    v[1], v[2], v[4], v[7]);
		}
		if (PQgetisnull(r, i, 9))
			continue;
		text_clean(v[0], sizeof(v[0]), PQgetvalue(r, i, 9));
		text_clean(v[1], sizeof(v[1]), PQgetvalue(r, i, 10));
		text_clean(v[2], sizeof(v[2]), PQgetvalue(r, i, 11));
		printf("  unit %s: %s%s%s%s\n", v[0], v[1], v[2][0] != '\0' ? " (" : "", v[2],
		    v[2][0] != '\0' ? ")" : "");
	}
	PQclear(r);
}

static int
cmd_status(int argc, char **argv)
{
	static struct signer_answer st;
	struct tsa_config *cfg = NULL;
	struct signer_link link;
	struct order o;
	struct db db;
	const char *conninfo;
	unsigned char *frame = NULL;
	PGresult *r;
	char err[512];
	size_t i;
	int bad = 0, rc, r_ok;

	(void)argv;
	if (argc != 0)
		usage();
	cli_load_conf();
	/* As the administration role (as cli_connect): the workers' may not read the migrations. */
	conninfo = cli_conf.admin_database != NULL ? cli_conf.admin_database : cli_conf.database;
	if (db_init(&db, conninfo, cli_conf.database_timeout * 1000, 0, 0) == -1 ||
	    db_conn(&db) == NULL) {
		printf("database: UNREACHABLE (%s)\n", conninfo);
		return 1;
	}
	r = db_query(db.conn, "SELECT coalesce(max(version), 0), count(*) FROM schema_migrations",
	    0, NULL, "reading the schema version", &rc, err, sizeof(err));
	if (r != NULL)
		printf("database: reachable, schema version %s (%zu known to this tsactl)\n",
		    PQgetvalue(r, 0, 0), n_migrations);
	else {
		printf("database: reachable, schema NOT migrated (run tsactl migrate)\n");
		bad = 1;
	}
	r_ok = r != NULL;
	PQclear(r);
	printf("host: %s (tsa.conf's host: the units bound to it sign here)\n", cli_conf.host);
	if (!bad && config_load(&db, cli_conf.host, 0, NULL, &cfg, err, sizeof(err)) == -1) {
		printf("configuration: INVALID: %s\n", err);
		bad = 1;
	}
	/* The keys are the signing process's: it says how each unit stands. */
	memset(&o, 0, sizeof(o));
	o.type = ORDER_STATUS;
	signer_link_init(&link, cli_conf.signer_socket, (int)cli_conf.signer_timeout);
	if (signer_link_ask(&link, &o, &st, &frame, err, sizeof(err)) == 0 &&
	    st.type == ANSWER_STATUS)
		printf("signing process: answering at %s\n", cli_conf.signer_socket);
	else {
		printf("signing process: UNAVAILABLE: %s\n", st.type == ANSWER_STATUS ||
		    err[0] == '\0' ? "no status" : err);
		st.n_units = 0;
		bad = 1;
	}
	free(frame);
	signer_link_close(&link);
	for (i = 0; cfg != NULL && i < cfg->n_signers; i++) {
		const struct signer *s = &cfg->signers[i];
		const struct unit_status *u = NULL;
		char dn[512];
		size_t j, dnlen = sizeof(dn);

		for (j = 0; j < st.n_units; j++)
			if (st.units[j].id == s->id)
				u = &st.units[j];
		if (gnutls_x509_crt_get_dn(s->cert, dn, &dnlen) < 0)
			snprintf(dn, sizeof(dn), "?");
		if (!s->used && s->host != NULL && strcmp(s->host, cli_conf.host) != 0) {
			/* Another server's unit: its own status says how it stands (servers). */
			printf("signer %s: unit of host %s (not this server's)\n", s->name, s->host);
			continue;
		}
		if (s->refused != NULL)
			printf("signer %s: REFUSED\n", s->name);
		else if (!s->used)
			printf("signer %s: ok (certificate; key not used by any policy, not opened)\n",
			    s->name);
		else if (u != NULL && u->state == UNIT_USABLE)
			printf("signer %s: ok (key opened by the signing process, matches the "
			    "certificate)\n", s->name);
		else
			printf("signer %s: %s\n", s->name, u == NULL ? "UNKNOWN (not reported by the "
			    "signing process)" : u->state == UNIT_REFUSED ? "REFUSED" :
			    u->state == UNIT_RETRYING ? "REFUSED (retrying)" : "OPENING");
		printf("  subject: %s\n", dn);
		print_time("  valid: ", gnutls_x509_crt_get_activation_time(s->cert));
		print_time(" to ", gnutls_x509_crt_get_expiration_time(s->cert));
		printf("\n  key: %s\n", s->uri);
		if (s->refused != NULL || (s->used && (u == NULL || u->state != UNIT_USABLE))) {
			printf("  why: %s\n", s->refused != NULL ? s->refused : u != NULL ?
			    u->reason : "the signing process did not answer");
			bad = 1;
		}
	}
	for (i = 0; cfg != NULL && i < cfg->n_services; i++) {
		size_t j;

		for (j = 0; j < cfg->services[i].n_policies; j++) {
			const struct policy *p = &cfg->services[i].policies[j];

			if (p->refused == NULL)
				continue;
			printf("policy %s/%s: REFUSED (answers systemFailure)\n  why: %s\n",
			    cfg->services[i].name, p->name, p->refused);
			bad = 1;
		}
	}
	if (cfg != NULL)
		printf("services: %zu\n", cfg->n_services);
	if (r_ok)
		print_servers(db.conn);
	config_free(cfg);
	db_close(&db);
	return bad;
}

static const char *TOKEN_COLUMNS =
    "SELECT serial, to_char(gen_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    " service, policy_oid, protocol, hash_alg, encode(imprint, 'hex'),"
    " coalesce(encode(nonce, 'hex'), '-'), coalesce(host(requester), '-'),"
    " coalesce(client_identity, '-'), length(token), token,"
    " coalesce(signer, '-') || ' on ' || coalesce(host, '-') FROM issued_tokens";

static void
print_token_row(PGresult *r, int i)
{
	unsigned char be[TSA_SERIAL_MAX + 1];
	char hex[2 * sizeof(be) + 1];
	size_t n;

	hex[0] = '\0';
	if (decimal_to_bytes(PQgetvalue(r, i, 0), be, sizeof(be), &n) == 0)
		hex_encode(be, n, hex, sizeof(hex));
	printf("serial:    %s (0x%s)\ngenTime:   %s\nservice:   %s\npolicy:    %s\n"
	    "protocol:  %s\nimprint:   %s %s\nnonce:     %s\nrequester: %s\nclient:    %s\n"
	    "unit:      %s\ntoken:     %s bytes\n", PQgetvalue(r, i, 0), hex, PQgetvalue(r, i, 1),
	    PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
	    PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), PQgetvalue(r, i, 8), PQgetvalue(r, i, 9),
	    PQgetvalue(r, i, 12), PQgetvalue(r, i, 10));
}

static int
cmd_token(int argc, char **argv)
{
	char sql[1024], dec[64], err[1024];
	const char *param, *out = NULL;
	PGconn *c;
	PGresult *r;
	int i, rc = 1;

	if (argc < 2)
		usage();
	if (strcmp(argv[0], "show") == 0) {
		if (argc == 4 && strcmp(argv[2], "--out") == 0)
			out = argv[3];
		else if (argc != 2)
			usage();
		if (cli_serial(argv[1], dec, sizeof(dec)) == -1) {
			fprintf(stderr, "tsactl: '%s' is not a serial number\n", argv[1]);
			return 64;
		}
		param = dec;
		snprintf(sql, sizeof(sql), "%s WHERE serial = $1::numeric", TOKEN_COLUMNS);
	} else if (strcmp(argv[0], "find") == 0 && argc == 3 &&
	    strcmp(argv[1], "--imprint") == 0) {
		unsigned char b[TSA_MAX_IMPRINT];
		size_t n;

		if (hex_decode(argv[2], b, sizeof(b), &n) == -1) {
			fprintf(stderr, "tsactl: '%s' is not a hex imprint\n", argv[2]);
			return 64;
		}
		param = argv[2][1] == 'x' || argv[2][1] == 'X' ? argv[2] + 2 : argv[2];
		snprintf(sql, sizeof(sql), "%s WHERE imprint = decode(lower($1), 'hex')"
		    " ORDER BY gen_time LIMIT 1000", TOKEN_COLUMNS);
	} else
		usage();
	c = cli_connect();
	if ((r = db_query(c, sql, 1, &param, "reading tokens", &rc, err, sizeof(err))) == NULL) {
		cli_err("%s", err);
		goto out;
	}
	if (PQntuples(r) == 0) {
		fprintf(stderr, "tsactl: no such token\n");
		goto out;
	}
	for (i = 0; i < PQntuples(r); i++) {
		if (i > 0)
			printf("\n");
		print_token_row(r, i);
	}
	if (out != NULL) {
		size_t n;
		unsigned char *der = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 11),
		    &n);
		FILE *f = fopen(out, "wb");

		if (der == NULL || f == NULL || fwrite(der, 1, n, f) != n) {
			fprintf(stderr, "tsactl: cannot write %s\n", out);
			if (f != NULL)
				fclose(f);
			PQfreemem(der);
			goto out;
		}
		fclose(f);
		PQfreemem(der);
	}
	rc = 0;
out:
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
cmd_verify(int argc, char **argv)
{
	struct verify_opts o;
	struct verify_result res;
	unsigned char *der = NULL, *data = NULL;
	size_t len, data_len = 0;
	char err[512];
	int i, rc;

	if (argc < 1)
		usage();
	memset(&o, 0, sizeof(o));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
			o.ca_file = argv[++i];
		else if (strcmp(argv[i], "--untrusted") == 0 && i + 1 < argc)
			o.untrusted_file = argv[++i];
		else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
			if (file_read(argv[++i], 1UL << 30, &data, &data_len) == -1) {
				fprintf(stderr, "tsactl: cannot read %s\n", argv[i]);
				return 66;
			}
		} else
			usage();
	}
	if (file_read(argv[0], TSA_MAX_TOKEN_FILE, &der, &len) == -1) {
		fprintf(stderr, "tsactl: cannot read %s (or larger than %d bytes)\n", argv[0],
		    TSA_MAX_TOKEN_FILE);
		free(data);
		return 66;
	}
	if (xml_token_sniff(der, len)) {
		struct xmlverify_result xr;

		/* An XML-DSig token (SOAP/XML): --untrusted and --data do not apply. */
		rc = xml_token_verify(der, len, o.ca_file, &xr, err, sizeof(err));
		xml_token_print(stdout, &xr);
		if (rc == 0)
			printf("verification: OK\n");
		else
			printf("verification: FAILED: %s\n", err);
		free(der);
		free(data);
		return rc == 0 ? 0 : 1;
	}
	o.data = data;
	o.data_len = data_len;
	memset(&res, 0, sizeof(res));
	rc = tst_verify(der, len, &o, &res, err, sizeof(err));
	tst_verify_print(stdout, &res);
	if (rc == 0)
		printf("verification: OK\n");
	else
		printf("verification: FAILED: %s\n", err);
	free(der);
	free(data);
	return rc == 0 ? 0 : 1;
}

/* ---- events ------------------------------------------------------------------------------- */

/* "15m" into seconds (as text); 0 when s is no duration. */
static int
duration_seconds(const char *s, char *out, size_t outlen)
{
	static const struct { char unit; long secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	size_t i, n = strspn(s, "0123456789");
	char num[16];
	long v;

	if (n == 0 || n >= sizeof(num) || s[n] == '\0' || s[n + 1] != '\0')
		return 0;
	memcpy(num, s, n);
	num[n] = '\0';
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s[n] == units[i].unit) {
			/* At most a century: far from overflowing. */
			if (!cli_int(num, 0, 3155760000L / units[i].secs, &v))
				return 0;
			snprintf(out, outlen, "%ld", v * units[i].secs);
			return 1;
		}
	return 0;
}

static const char *EVENTS_USAGE =
    "events [--since DURATION|TIMESTAMP] [--limit N] [--kind KIND]\n"
    "events prune --older-than DURATION\n"
    "       DURATION: a number and s, m, h, d or w (90s, 15m, 2h, 7d, 1w)\n";

/*
 * events prune: deletes the events older than the duration (at least a day: the audit trail
 * of the last day is never pruned), and records that it did, in one transaction.
 */
static int
events_prune(int argc, char **argv)
{
	const char *older = NULL;
	struct cli_opt opts[] = { { "--older-than", &older } };
	char secs[24], err[1024];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(EVENTS_USAGE, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0, 0);
	if (older == NULL || !duration_seconds(older, secs, sizeof(secs)) || atol(secs) < 86400) {
		cli_err("--older-than must be a duration of at least a day (1d, 90d, 52w), not '%s'",
		    older != NULL ? older : "");
		return EX_DATAERR;
	}
	c = cli_connect();
	if ((rc = edit_events_prune(c, secs, cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_row(r, 0, "-");
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* The events table, newest first; a row may stand for count repeated refusals. */
static int
events_list(int argc, char **argv)
{
	const char *since = NULL, *limit = NULL, *kind = NULL, *p[4];
	struct cli_opt opts[] = {
		{ "--since", &since }, { "--limit", &limit }, { "--kind", &kind },
	};
	char secs[24], err[1024];
	PGconn *c;
	PGresult *r;
	long n;
	int rc = 0;

	cli_args(EVENTS_USAGE, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0, 0);
	if (limit != NULL && !cli_int(limit, 1, 100000, &n)) {
		cli_err("--limit must be a whole number from 1 to 100000, not '%s'", limit);
		return EX_DATAERR;
	}
	p[0] = NULL;		/* seconds back from now */
	p[1] = NULL;		/* or a timestamp */
	p[2] = kind;
	p[3] = limit != NULL ? limit : "100";
	if (since != NULL) {
		if (duration_seconds(since, secs, sizeof(secs)))
			p[0] = secs;
		else
			p[1] = since;
	}
	c = cli_connect();
	r = db_query(c, "SELECT " SQL_UTC("at", "at") ", severity, kind, count, service,"
	    " host(requester) AS requester, detail FROM events"
	    " WHERE ($1::bigint IS NULL OR at >= now() - $1::bigint * interval '1 second')"
	    " AND ($2::timestamptz IS NULL OR at >= $2::timestamptz)"
	    " AND ($3::text IS NULL OR kind = $3)"
	    " ORDER BY at DESC, id DESC LIMIT $4::integer", 4, p, "reading events", &rc, err,
	    sizeof(err));
	if (r == NULL) {
		/* 65, a data exception: the timestamp did not parse. */
		if (p[1] != NULL && rc == EX_DATAERR)
			cli_err("--since '%s' is neither a duration (90s, 15m, 2h, 7d, 1w) nor a"
			    " timestamp (2026-01-31 12:00:00+00)", since);
		else
			cli_err("%s", err);
	} else
		out_rows(r, 0);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
cmd_events(int argc, char **argv)
{
	if (argc > 0 && strcmp(argv[0], "prune") == 0)
		return events_prune(argc - 1, argv + 1);
	return events_list(argc, argv);
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	int		 json;		/* --json supported */
} verbs[] = {
	{ "migrate",	cmd_migrate,	0 },
	{ "status",	cmd_status,	0 },
	{ "service",	cmd_service,	1 },
	{ "policy",	cmd_policy,	1 },
	{ "filter",	cmd_filter,	1 },
	{ "signer",	cmd_signer,	1 },
	{ "server",	cmd_server,	1 },
	{ "client",	cmd_client,	1 },
	{ "admin",	cmd_admin,	1 },
	{ "events",	cmd_events,	1 },
	{ "token",	cmd_token,	0 },
	{ "log",	cmd_log,	1 },
	{ "verify",	cmd_verify,	0 },
};

int
main(int argc, char **argv)
{
	size_t i;
	int j, n, rc;

	log_init("tsactl");
	/* --json anywhere; --conf FILE before the verb. */
	for (j = 1, n = 1; j < argc; j++)
		if (strcmp(argv[j], "--json") == 0)
			cli_json = 1;
		else
			argv[n++] = argv[j];
	argc = n;
	argv[argc] = NULL;
	argc--, argv++;
	if (argc >= 2 && strcmp(argv[0], "--conf") == 0) {
		cli_conf_file = argv[1];
		argc -= 2, argv += 2;
	}
	if (argc < 1)
		usage();
	if (tsa_asn1_init() == -1)
		return 70;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, argv[0]) == 0) {
			if (cli_json && !verbs[i].json) {
				cli_err("--json is not supported by %s", argv[0]);
				usage();
			}
			rc = verbs[i].fn(argc - 1, argv + 1);
			conf_free(&cli_conf);
			return rc;
		}
	cli_err("unknown verb '%s'", argv[0]);
	usage();
	return EX_USAGE;
}
