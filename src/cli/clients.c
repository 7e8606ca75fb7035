/*
 * clients.c - tsactl's client verbs: the client certificates registered for a service's
 * mutual-TLS endpoint (the clients table; the client-auth filter and the policies' match
 * rules look them up).  A client is recognised by the SHA-256 fingerprint of its certificate
 * alone, computed by GnuTLS exactly as the worker computes it from the certificate the web
 * server passes on; add also stores the subject, issuer and serial, for people to read.  The
 * administrators of the web console (tsa-admin) are registered the same way, by fingerprint
 * (admin verbs).
 * Input: the operator's command line and a PEM certificate file (one certificate), read
 * here; the writes go through src/store/edit_access.c (edit_client_*, edit_admin_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "admin.h"
#include "bytes.h"
#include "edit.h"
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

/* The fields as edit.c takes them. */
static struct edit_cert
edit_cert(const struct client_cert *cc)
{
	struct edit_cert e = { cc->subject, cc->fingerprint, cc->issuer, cc->serial, cc->pem };

	return e;
}

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
	char *pos[1] = { NULL }, err[512];
	const char *p[1];
	PGconn *c;
	PGresult *r = NULL;
	int rc = 0;

	cli_args(CLIENT_USAGE, argc, argv, NULL, 0, pos, 0, 1);
	p[0] = pos[0];
	c = cli_connect();
	if (pos[0] != NULL && (rc = edit_find_service(c, pos[0], 0, NULL, 0, err,
	    sizeof(err))) != 0)
		goto out;
	r = db_query(c, "SELECT s.name AS service, k.name AS client, k.subject,"
	    " encode(k.fingerprint_sha256, 'hex') AS fingerprint_sha256,"
	    " encode(k.serial, 'hex') AS serial, " SQL_UTC("k.created_at", "created")
	    " FROM clients k JOIN services s ON s.id = k.service_id"
	    " WHERE $1::text IS NULL OR s.name = $1 ORDER BY s.name, k.name", 1, p,
	    "listing clients", &rc, err, sizeof(err));
	if (r != NULL)
		out_rows(r, 1);
out:
	if (rc != 0)
		cli_err("%s", err);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
client_add(int argc, char **argv)
{
	const char *cert = NULL;
	struct cli_opt opts[] = { { "--cert", &cert } };
	struct client_cert cc;
	struct edit_cert e;
	char *pos[2], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(CLIENT_USAGE, argc, argv, opts, 1, pos, 2, 2);
	if (cert == NULL) {
		cli_err("client add needs --cert");
		cli_usage(CLIENT_USAGE);
	}
	/* The name before the file is read. */
	if ((rc = edit_name_check("a client", pos[1], err, sizeof(err))) != 0) {
		cli_err("%s", err);
		return rc;
	}
	if ((rc = client_cert_read(cert, &cc)) != 0)
		return rc;
	e = edit_cert(&cc);
	c = cli_connect();
	if ((rc = edit_client_add(c, pos[0], pos[1], &e, cli_actor(c), &r, err,
	    sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "client %s (%s, SHA-256 %s) added to service %s", pos[1],
		    cc.subject, cc.fingerprint, pos[0]);
	PQclear(r);
	PQfinish(c);
	client_cert_free(&cc);
	return rc;
}

static int
client_remove(int argc, char **argv)
{
	char *pos[2], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(CLIENT_USAGE, argc, argv, NULL, 0, pos, 2, 2);
	c = cli_connect();
	if ((rc = edit_client_remove(c, pos[0], pos[1], cli_actor(c), &r, err,
	    sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "client %s removed from service %s", pos[1], pos[0]);
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
	char err[512];
	PGconn *c;
	PGresult *r;
	int rc = 0;

	cli_args(ADMIN_USAGE, argc, argv, NULL, 0, NULL, 0, 0);
	c = cli_connect();
	if ((r = db_query(c, "SELECT name AS admin, subject,"
	    " encode(fingerprint_sha256, 'hex') AS fingerprint_sha256, "
	    SQL_UTC("created_at", "created") " FROM administrators ORDER BY name", 0, NULL,
	    "listing administrators", &rc, err, sizeof(err))) == NULL)
		cli_err("%s", err);
	else
		out_rows(r, 1);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
admin_add(int argc, char **argv)
{
	const char *cert = NULL;
	struct cli_opt opts[] = { { "--cert", &cert } };
	struct client_cert cc;
	struct edit_cert e;
	char *pos[1], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(ADMIN_USAGE, argc, argv, opts, 1, pos, 1, 1);
	if (cert == NULL) {
		cli_err("admin add needs --cert");
		cli_usage(ADMIN_USAGE);
	}
	if ((rc = edit_name_check("an administrator", pos[0], err, sizeof(err))) != 0) {
		cli_err("%s", err);
		return rc;
	}
	if ((rc = client_cert_read(cert, &cc)) != 0)
		return rc;
	e = edit_cert(&cc);
	c = cli_connect();
	if ((rc = edit_admin_add(c, pos[0], &e, cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "administrator %s (%s, SHA-256 %s) added", pos[0], cc.subject,
		    cc.fingerprint);
	PQclear(r);
	PQfinish(c);
	client_cert_free(&cc);
	return rc;
}

static int
admin_remove(int argc, char **argv)
{
	char *pos[1], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(ADMIN_USAGE, argc, argv, NULL, 0, pos, 1, 1);
	c = cli_connect();
	if ((rc = edit_admin_remove(c, pos[0], cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "administrator %s removed", pos[0]);
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
