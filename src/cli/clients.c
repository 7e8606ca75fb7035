/*
 * clients.c - tsactl's client verbs: the client certificates registered for a service's
 * mutual-TLS endpoint (the clients table; the client-auth filter and the policies' match
 * rules look them up).  A client is recognised by the SHA-256 fingerprint of its certificate
 * alone, computed by GnuTLS exactly as the worker computes it from the certificate the web
 * server passes on; add also stores the subject, issuer and serial, for people to read.  The
 * administrators of the web console (tsa-admin) are registered the same way, by fingerprint
 * (admin verbs).
 * Input: the operator's command line and a PEM certificate file (one certificate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "admin.h"
#include "bytes.h"
#include "store.h"
#include "tsa_limits.h"

static const char *CLIENT_USAGE =
    "client list [SERVICE]\n"
    "       tsactl client add SERVICE NAME --cert PEMFILE\n"
    "       tsactl client remove SERVICE NAME\n";

/* What clients stores of a certificate, as text parameters (hex for the bytea columns). */
struct client_cert {
	char	*subject;		/* RFC 4514 */
	char	 fingerprint[65];	/* SHA-256 of the DER */
	char	*issuer;		/* the raw issuer Name, DER */
	char	 serial[2 * 64 + 1];	/* INTEGER contents, as gnutls_x509_crt_get_serial */
	char	*pem;			/* the certificate alone, re-encoded */
};

static void
client_cert_free(struct client_cert *cc)
{
	free(cc->subject);
	free(cc->issuer);
	free(cc->pem);
}

/* Reads the one certificate in a PEM file.  0, or an exit status with the reason said. */
static int
client_cert_read(const char *path, struct client_cert *cc)
{
	gnutls_x509_crt_t *certs = NULL;
	gnutls_datum_t in, d = { NULL, 0 };
	unsigned char buf[64];
	size_t len;
	unsigned n = 0, i;
	time_t now = time(NULL);
	char *text = cli_read_text(path, TSA_MAX_PEM);
	int rc = EX_DATAERR, grc;

	memset(cc, 0, sizeof(*cc));
	in.data = (unsigned char *)text;
	in.size = (unsigned)strlen(text);
	grc = gnutls_x509_crt_list_import2(&certs, &n, &in, GNUTLS_X509_FMT_PEM, 0);
	if (grc < 0 || n == 0) {
		cli_err("%s: no PEM certificate: %s", path, grc < 0 ? gnutls_strerror(grc) : "empty");
		goto out;
	}
	if (n != 1) {
		cli_err("%s holds %u certificates: give the client's certificate alone", path, n);
		goto out;
	}
	len = sizeof(buf);
	if ((grc = gnutls_x509_crt_get_dn3(certs[0], &d, 0)) < 0 ||
	    (cc->subject = strndup((const char *)d.data, d.size)) == NULL) {
		cli_err("%s: unreadable subject: %s", path, gnutls_strerror(grc));
		goto out;
	}
	gnutls_free(d.data);
	d.data = NULL;
	if (gnutls_x509_crt_get_fingerprint(certs[0], GNUTLS_DIG_SHA256, buf, &len) < 0 ||
	    hex_encode(buf, len, cc->fingerprint, sizeof(cc->fingerprint)) == -1) {
		cli_err("%s: cannot compute the SHA-256 fingerprint", path);
		goto out;
	}
	len = sizeof(buf);
	if (gnutls_x509_crt_get_serial(certs[0], buf, &len) < 0 ||
	    hex_encode(buf, len, cc->serial, sizeof(cc->serial)) == -1) {
		cli_err("%s: unreadable serial number (or longer than 64 octets)", path);
		goto out;
	}
	if (gnutls_x509_crt_get_raw_issuer_dn(certs[0], &d) < 0 ||
	    (cc->issuer = malloc(2 * (size_t)d.size + 1)) == NULL ||
	    hex_encode(d.data, d.size, cc->issuer, 2 * (size_t)d.size + 1) == -1) {
		cli_err("%s: unreadable issuer", path);
		goto out;
	}
	gnutls_free(d.data);
	d.data = NULL;
	if (gnutls_x509_crt_export2(certs[0], GNUTLS_X509_FMT_PEM, &d) < 0 ||
	    (cc->pem = strndup((const char *)d.data, d.size)) == NULL) {
		cli_err("%s: cannot re-encode the certificate", path);
		goto out;
	}
	if (now < gnutls_x509_crt_get_activation_time(certs[0]) ||
	    now > gnutls_x509_crt_get_expiration_time(certs[0]))
		cli_err("warning: %s is not valid now: the web server will not accept it", path);
	rc = 0;
out:
	gnutls_free(d.data);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(certs[i]);
	gnutls_free(certs);
	free(text);
	if (rc != 0)
		client_cert_free(cc);
	return rc;
}

static int
client_list(int argc, char **argv)
{
	char *pos[1] = { NULL }, sid[24];
	const char *p[1];
	PGconn *c;
	PGresult *r = NULL;
	int rc = 0;

	cli_args(CLIENT_USAGE, argc, argv, NULL, 0, pos, 0, 1);
	p[0] = pos[0];
	c = cli_connect();
	if (pos[0] != NULL && (rc = db_service(c, pos[0], 0, sid, sizeof(sid))) != 0)
		goto out;
	r = db_run(c, "SELECT s.name AS service, k.name AS client, k.subject,"
	    " encode(k.fingerprint_sha256, 'hex') AS fingerprint_sha256,"
	    " encode(k.serial, 'hex') AS serial, " SQL_UTC("k.created_at", "created")
	    " FROM clients k JOIN services s ON s.id = k.service_id"
	    " WHERE $1::text IS NULL OR s.name = $1 ORDER BY s.name, k.name", 1, p);
	if (r == NULL)
		rc = db_fail(c, "listing clients");
	else
		out_rows(r, 1);
out:
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
client_add(int argc, char **argv)
{
	const char *cert = NULL, *p[7];
	struct cli_opt opts[] = { { "--cert", &cert } };
	struct client_cert cc;
	char *pos[2], sid[24], ver[24];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(CLIENT_USAGE, argc, argv, opts, 1, pos, 2, 2);
	if (cert == NULL) {
		cli_err("client add needs --cert");
		cli_usage(CLIENT_USAGE);
	}
	if (!cli_name_ok(pos[1])) {
		cli_err("'%s' is not a client name (1 to 128 printable characters, no spaces)",
		    pos[1]);
		return EX_DATAERR;
	}
	if ((rc = client_cert_read(cert, &cc)) != 0)
		return rc;
	c = cli_connect();
	if ((rc = db_begin(c)) != 0)
		goto out;
	if ((rc = db_service(c, pos[0], 1, sid, sizeof(sid))) != 0)
		goto end;
	p[0] = sid; p[1] = pos[1]; p[2] = cc.fingerprint;
	if ((r = db_run(c, "SELECT name FROM clients WHERE service_id = $1::integer"
	    " AND (name = $2 OR fingerprint_sha256 = decode($3, 'hex'))", 3, p)) == NULL) {
		rc = db_fail(c, "looking up clients");
		goto end;
	}
	if (PQntuples(r) > 0) {
		if (strcmp(PQgetvalue(r, 0, 0), pos[1]) == 0)
			cli_err("service '%s' has a client '%s' already", pos[0], pos[1]);
		else
			cli_err("this certificate is registered already for service '%s', as '%s'",
			    pos[0], PQgetvalue(r, 0, 0));
		rc = EX_FAIL;
		goto end;
	}
	PQclear(r);
	p[2] = cc.subject; p[3] = cc.fingerprint; p[4] = cc.issuer; p[5] = cc.serial;
	p[6] = cc.pem;
	r = db_run(c, "INSERT INTO clients (service_id, name, subject, fingerprint_sha256,"
	    " issuer_der, serial, certificate) VALUES ($1::integer, $2, $3, decode($4, 'hex'),"
	    " decode($5, 'hex'), decode($6, 'hex'), $7)"
	    " RETURNING (SELECT name FROM services WHERE id = service_id) AS service,"
	    " name AS client, subject, encode(fingerprint_sha256, 'hex') AS fingerprint_sha256,"
	    " encode(serial, 'hex') AS serial", 7, p);
	if (r == NULL)
		rc = db_fail(c, "adding the client");
end:
	if ((rc = db_end(c, rc, pos[0], "client %s (SHA-256 %s) registered for service %s",
	    pos[1], cc.fingerprint, pos[0])) == 0) {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "client %s (%s, SHA-256 %s) added to service %s", pos[1],
		    cc.subject, cc.fingerprint, pos[0]);
	}
out:
	PQclear(r);
	PQfinish(c);
	client_cert_free(&cc);
	return rc;
}

static int
client_remove(int argc, char **argv)
{
	char *pos[2], sid[24], ver[24];
	const char *p[2] = { sid, NULL };
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(CLIENT_USAGE, argc, argv, NULL, 0, pos, 2, 2);
	p[1] = pos[1];
	c = cli_connect();
	if ((rc = db_begin(c)) != 0)
		goto out;
	if ((rc = db_service(c, pos[0], 1, sid, sizeof(sid))) != 0)
		goto end;
	r = db_run(c, "DELETE FROM clients WHERE service_id = $1::integer AND name = $2"
	    " RETURNING (SELECT name FROM services WHERE id = service_id) AS service,"
	    " name AS client, subject", 2, p);
	if (r == NULL)
		rc = db_fail(c, "removing the client");
	else if (PQntuples(r) == 0) {
		cli_err("service '%s' has no client '%s'", pos[0], pos[1]);
		rc = EX_FAIL;
	}
end:
	if ((rc = db_end(c, rc, pos[0], "client %s removed from service %s", pos[1],
	    pos[0])) == 0) {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "client %s removed from service %s", pos[1], pos[0]);
	}
out:
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
cmd_client(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", client_list }, { "add", client_add }, { "remove", client_remove },
	};

	return cli_dispatch(CLIENT_USAGE, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}


/* ---- administrators of the web console (tsa-admin) ---------------------------------------- */

static const char *ADMIN_USAGE =
    "admin list\n"
    "       tsactl admin add NAME --cert PEMFILE\n"
    "       tsactl admin remove NAME\n";

static int
admin_list(int argc, char **argv)
{
	PGconn *c;
	PGresult *r;
	int rc = 0;

	cli_args(ADMIN_USAGE, argc, argv, NULL, 0, NULL, 0, 0);
	c = cli_connect();
	r = db_run(c, "SELECT name AS admin, subject,"
	    " encode(fingerprint_sha256, 'hex') AS fingerprint_sha256, "
	    SQL_UTC("created_at", "created") " FROM administrators ORDER BY name", 0, NULL);
	if (r == NULL)
		rc = db_fail(c, "listing administrators");
	else
		out_rows(r, 1);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
admin_add(int argc, char **argv)
{
	const char *cert = NULL, *p[4];
	struct cli_opt opts[] = { { "--cert", &cert } };
	struct client_cert cc;
	char *pos[1], ver[24];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(ADMIN_USAGE, argc, argv, opts, 1, pos, 1, 1);
	if (cert == NULL) {
		cli_err("admin add needs --cert");
		cli_usage(ADMIN_USAGE);
	}
	if (!cli_name_ok(pos[0])) {
		cli_err("'%s' is not an administrator name (1 to 128 printable characters, "
		    "no spaces)", pos[0]);
		return EX_DATAERR;
	}
	if ((rc = client_cert_read(cert, &cc)) != 0)
		return rc;
	c = cli_connect();
	if ((rc = db_begin(c)) != 0)
		goto out;
	p[0] = pos[0]; p[1] = cc.fingerprint;
	if ((r = db_run(c, "SELECT name FROM administrators"
	    " WHERE name = $1 OR fingerprint_sha256 = decode($2, 'hex')", 2, p)) == NULL) {
		rc = db_fail(c, "looking up administrators");
		goto end;
	}
	if (PQntuples(r) > 0) {
		if (strcmp(PQgetvalue(r, 0, 0), pos[0]) == 0)
			cli_err("an administrator '%s' exists already", pos[0]);
		else
			cli_err("this certificate is registered already, as administrator '%s'",
			    PQgetvalue(r, 0, 0));
		rc = EX_FAIL;
		goto end;
	}
	PQclear(r);
	p[1] = cc.subject; p[2] = cc.fingerprint; p[3] = cc.pem;
	r = db_run(c, "INSERT INTO administrators (name, subject, fingerprint_sha256, certificate)"
	    " VALUES ($1, $2, decode($3, 'hex'), $4) RETURNING name AS admin, subject,"
	    " encode(fingerprint_sha256, 'hex') AS fingerprint_sha256", 4, p);
	if (r == NULL)
		rc = db_fail(c, "adding the administrator");
	else {
		struct event_params ep;
		PGresult *e;
		char detail[1024];

		snprintf(detail, sizeof(detail), "administrator %s (%s; sha256 %s) added by tsactl",
		    pos[0], cc.subject, cc.fingerprint);
		event_params(&ep, "info", "admin-change", NULL, NULL, detail, 1);
		if ((e = db_run(c, SQL_INSERT_EVENT, EVENT_NPARAMS, ep.values)) == NULL)
			rc = db_fail(c, "recording the change");
		PQclear(e);
	}
end:
	if ((rc = db_end(c, rc, NULL, NULL)) == 0) {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "administrator %s (%s, SHA-256 %s) added", pos[0], cc.subject,
		    cc.fingerprint);
	}
out:
	PQclear(r);
	PQfinish(c);
	client_cert_free(&cc);
	return rc;
}

static int
admin_remove(int argc, char **argv)
{
	struct event_params ep;
	char *pos[1], ver[24], detail[1024];
	const char *p[1];
	PGconn *c;
	PGresult *r = NULL, *e;
	int rc;

	cli_args(ADMIN_USAGE, argc, argv, NULL, 0, pos, 1, 1);
	p[0] = pos[0];
	c = cli_connect();
	if ((rc = db_begin(c)) != 0)
		goto out;
	r = db_run(c, "DELETE FROM administrators WHERE name = $1 RETURNING name AS admin,"
	    " subject, encode(fingerprint_sha256, 'hex') AS fingerprint_sha256", 1, p);
	if (r == NULL)
		rc = db_fail(c, "removing the administrator");
	else if (PQntuples(r) == 0) {
		cli_err("no administrator '%s'", pos[0]);
		rc = EX_FAIL;
	} else {
		snprintf(detail, sizeof(detail), "administrator %s (%s; sha256 %s) removed by "
		    "tsactl", pos[0], PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
		event_params(&ep, "info", "admin-change", NULL, NULL, detail, 1);
		if ((e = db_run(c, SQL_INSERT_EVENT, EVENT_NPARAMS, ep.values)) == NULL)
			rc = db_fail(c, "recording the change");
		PQclear(e);
	}
	if ((rc = db_end(c, rc, NULL, NULL)) == 0) {
		db_version(c, ver, sizeof(ver));
		out_done(r, ver, "administrator %s removed", pos[0]);
	}
out:
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
cmd_admin(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", admin_list }, { "add", admin_add }, { "remove", admin_remove },
	};

	return cli_dispatch(ADMIN_USAGE, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}
