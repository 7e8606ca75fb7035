/*
 * keys.c - tsactl's signer verbs: signing keys on the PKCS#11 token and their certificates
 * (see admin.h and the README, section "tsactl").
 *   signer list     the signers table, each certificate checked as the worker checks it
 *   signer add      a key's PKCS#11 URI and its certificate chain, accepted only when the
 *                   worker would sign with it: RFC 3161 2.3 (critical extendedKeyUsage of
 *                   id-kp-timeStamping only), validity now, and a test signature by the key
 *                   that the certificate's public key verifies (signer_load, open_key=1)
 *   signer set      a unit bound to its server (--host) and its group (--group): README
 *                   "Units and hosts"
 *   signer remove   a signer no policy uses
 *   signer keygen   a new key pair generated on the token (private, sensitive: it never
 *                   leaves the token) and a PKCS#10 request for it (RFC 2986), signed by the
 *                   new key, asking for the critical timeStamping extendedKeyUsage
 * Input: the operator's command line and certificate files; the token through GnuTLS and
 * p11-kit with tsa.conf's module and PIN.  Add and remove write through src/store/edit_signer.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/pkcs11.h>
#include <gnutls/x509.h>

#include "admin.h"
#include "asn1.h"
#include "edit.h"
#include "signer.h"
#include "store.h"
#include "tsa_limits.h"

static const char *SIGNER_USAGE =
    "signer list\n"
    "       tsactl signer add NAME --uri PKCS11_URI --cert PEMFILE [--chain PEMFILE]\n"
    "              [--scheme auto|rsa-pss] [--digest sha256|sha384|sha512]\n"
    "              [--host HOST] [--group GROUP]\n"
    "       tsactl signer set NAME [--host HOST|any] [--group GROUP|none]\n"
    "       tsactl signer remove NAME\n"
    "       tsactl signer keygen --label LABEL --type rsa2048|rsa3072|ec-p256|ec-p384\n"
    "              --subject DN --csr OUTFILE [--token PKCS11_URI]\n";

/* ---- list ---------------------------------------------------------------------------------- */

static void
utc_text(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, outlen, "?");
	else
		strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The rows signer list prints: the table's columns and what the certificate says. */
static PGresult *
signer_rows(const PGresult *db)
{
	static char n_name[] = "signer", n_state[] = "state", n_why[] = "refused",
	    n_subject[] = "subject", n_from[] = "not_before", n_until[] = "not_after",
	    n_key[] = "key", n_scheme[] = "scheme", n_digest[] = "digest",
	    n_pol[] = "policies", n_host[] = "host", n_group[] = "group";
	PGresAttDesc cols[] = {
		{ n_name, 0, 0, 0, 25, -1, -1 }, { n_state, 0, 0, 0, 25, -1, -1 },
		{ n_why, 0, 0, 0, 25, -1, -1 }, { n_subject, 0, 0, 0, 25, -1, -1 },
		{ n_from, 0, 0, 0, 25, -1, -1 }, { n_until, 0, 0, 0, 25, -1, -1 },
		{ n_key, 0, 0, 0, 25, -1, -1 }, { n_scheme, 0, 0, 0, 25, -1, -1 },
		{ n_digest, 0, 0, 0, 25, -1, -1 }, { n_pol, 0, 0, 0, 20, 8, -1 },
		{ n_host, 0, 0, 0, 25, -1, -1 }, { n_group, 0, 0, 0, 25, -1, -1 },
	};
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	int i, ncols = (int)(sizeof(cols) / sizeof(cols[0]));

	if (r == NULL || !PQsetResultAttrs(r, ncols, cols))
		goto fail;
	for (i = 0; i < PQntuples(db); i++) {
		struct signer s;
		char err[512], from[32], until[32];
		gnutls_datum_t dn = { NULL, 0 };
		const char *v[12];
		int col, ok;

		err[0] = '\0';
		ok = signer_load(&s, 0, PQgetvalue(db, i, 0), PQgetvalue(db, i, 1),
		    PQgetvalue(db, i, 2), PQgetvalue(db, i, 3), PQgetvalue(db, i, 4),
		    PQgetvalue(db, i, 5), 0, err, sizeof(err)) == 0;
		from[0] = until[0] = '\0';
		if (ok) {
			utc_text(gnutls_x509_crt_get_activation_time(s.cert), from, sizeof(from));
			utc_text(gnutls_x509_crt_get_expiration_time(s.cert), until,
			    sizeof(until));
			if (gnutls_x509_crt_get_dn3(s.cert, &dn, 0) < 0)
				dn.data = NULL;
		}
		v[0] = PQgetvalue(db, i, 0);
		v[1] = !ok ? "unreadable" : s.refused != NULL ? "refused" : "ok";
		v[2] = !ok ? err : s.refused;
		v[3] = dn.data != NULL ? (const char *)dn.data : NULL;
		v[4] = ok ? from : NULL;
		v[5] = ok ? until : NULL;
		v[6] = PQgetvalue(db, i, 1);
		v[7] = PQgetvalue(db, i, 4);
		v[8] = PQgetvalue(db, i, 5);
		v[9] = PQgetvalue(db, i, 6);
		v[10] = PQgetisnull(db, i, 7) ? "any" : PQgetvalue(db, i, 7);
		v[11] = PQgetisnull(db, i, 8) ? "-" : PQgetvalue(db, i, 8);
		for (col = 0; col < ncols; col++)
			if (!PQsetvalue(r, i, col, (char *)(uintptr_t)v[col],
			    v[col] != NULL ? (int)strlen(v[col]) : -1))
				break;
		gnutls_free(dn.data);
		if (ok)
			signer_free(&s);
		if (col < ncols)
			goto fail;
	}
	return r;
fail:
	PQclear(r);
	return NULL;
}

static int
signer_list(int argc, char **argv)
{
	char err[512];
	PGconn *c;
	PGresult *db, *r = NULL;
	int rc = 0;

	cli_args(SIGNER_USAGE, argc, argv, NULL, 0, NULL, 0, 0);
	c = cli_connect();
	if ((db = db_query(c, "SELECT name, pkcs11_uri, certificate, chain, scheme, digest,"
	    " (SELECT count(*) FROM policies p WHERE p.signer_id = g.id), host, unit_group"
	    " FROM signers g ORDER BY name", 0, NULL, "listing signers", &rc, err,
	    sizeof(err))) == NULL)
		cli_err("%s", err);
	else if ((r = signer_rows(db)) == NULL) {
		cli_err("out of memory");
		rc = EX_FAIL;
	} else
		out_rows(r, 1);
	PQclear(db);
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* ---- add, remove --------------------------------------------------------------------------- */

static int
signer_add(int argc, char **argv)
{
	const char *uri = NULL, *cert = NULL, *chain = NULL, *scheme = "auto";
	const char *digest = "sha256", *host = NULL, *group = NULL;
	struct cli_opt opts[] = {
		{ "--uri", &uri }, { "--cert", &cert }, { "--chain", &chain },
		{ "--scheme", &scheme }, { "--digest", &digest }, { "--host", &host },
		{ "--group", &group },
	};
	struct signer s;
	char *pos[1], *cert_pem = NULL, *chain_pem = NULL, err[512];
	PGconn *c = NULL;
	PGresult *r = NULL;
	int rc, loaded = 0;

	cli_args(SIGNER_USAGE, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 1, 1);
	if (uri == NULL || cert == NULL) {
		cli_err("signer add needs --uri and --cert");
		cli_usage(SIGNER_USAGE);
	}
	/* The values before the files are read, the key and certificate before the database. */
	if ((rc = edit_signer_check(pos[0], uri, scheme, digest, err, sizeof(err))) != 0 ||
	    (rc = edit_unit_check(host, group, err, sizeof(err))) != 0) {
		cli_err("%s", err);
		return rc;
	}
	rc = EX_DATAERR;
	cert_pem = cli_read_text(cert, TSA_MAX_PEM);
	chain_pem = chain != NULL ? cli_read_text(chain, TSA_MAX_PEM) : strdup("");
	if (chain_pem == NULL) {
		cli_err("out of memory");
		goto out;
	}
	cli_pkcs11();
	err[0] = '\0';
	if (signer_load(&s, 0, pos[0], uri, cert_pem, chain_pem, scheme, digest, 1, err,
	    sizeof(err)) == -1) {
		cli_err("%s", err);
		goto out;
	}
	loaded = 1;
	if (signer_why(&s) != NULL) {
		cli_err("signer %s refused: %s", pos[0], signer_why(&s));
		goto out;
	}
	c = cli_connect();
	if ((rc = edit_signer_add(c, pos[0], uri, cert_pem, chain_pem, scheme, digest, host,
	    group, cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "signer %s added, its certificate and key checked", pos[0]);
out:
	if (loaded)
		signer_free(&s);
	PQclear(r);
	if (c != NULL)
		PQfinish(c);
	free(cert_pem);
	free(chain_pem);
	return rc;
}

/* Binds a unit to its server and its group: data only, no key is opened here (the unit's
 * server opens it; signer add checked it). */
static int
signer_set(int argc, char **argv)
{
	const char *host = NULL, *group = NULL;
	struct cli_opt opts[] = { { "--host", &host }, { "--group", &group } };
	char *pos[1], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(SIGNER_USAGE, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 1, 1);
	if (host == NULL && group == NULL) {
		cli_err("signer set needs --host or --group");
		cli_usage(SIGNER_USAGE);
	}
	c = cli_connect();
	if ((rc = edit_signer_set(c, pos[0], host, group, cli_actor(c), &r, err,
	    sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "signer %s bound", pos[0]);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
signer_remove(int argc, char **argv)
{
	char *pos[1], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(SIGNER_USAGE, argc, argv, NULL, 0, pos, 1, 1);
	c = cli_connect();
	if ((rc = edit_signer_remove(c, pos[0], cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "signer %s removed; its key stays on the token", pos[0]);
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* ---- keygen -------------------------------------------------------------------------------- */

static const struct key_type {
	const char		*name;
	gnutls_pk_algorithm_t	 pk;
	unsigned		 bits;
	gnutls_digest_algorithm_t csr_digest;
} key_types[] = {
	{ "rsa2048", GNUTLS_PK_RSA, 2048, GNUTLS_DIG_SHA256 },
	{ "rsa3072", GNUTLS_PK_RSA, 3072, GNUTLS_DIG_SHA256 },
	{ "ec-p256", GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
	  GNUTLS_DIG_SHA256 },
	{ "ec-p384", GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1),
	  GNUTLS_DIG_SHA384 },
};

/* Labels go into PKCS#11 URIs unescaped: letters, digits, '.', '_', '-' only. */
static int
label_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-");

	return n > 0 && n <= 64 && s[n] == '\0';
}

/* The first initialised token of the module, malloc'd URL (gnutls_free), or NULL. */
static char *
first_token(void)
{
	unsigned seq, flags;
	char *url;

	for (seq = 0; gnutls_pkcs11_token_get_url(seq, GNUTLS_PKCS11_URL_GENERIC, &url) >= 0;
	    seq++) {
		if (gnutls_pkcs11_token_get_flags(url, &flags) >= 0 &&
		    (flags & GNUTLS_PKCS11_TOKEN_INITIALIZED))
			return url;
		gnutls_free(url);
	}
	return NULL;
}

/* The URL of the private key labelled `label` on the token (gnutls_free), NULL if none. */
static char *
find_key(const char *token, const char *label)
{
	gnutls_pkcs11_obj_t *objs = NULL;
	unsigned n = 0, i;
	char query[1024], *url = NULL;

	snprintf(query, sizeof(query), "%s;object=%s;type=private", token, label);
	if (gnutls_pkcs11_obj_list_import_url4(&objs, &n, query,
	    GNUTLS_PKCS11_OBJ_FLAG_LOGIN | GNUTLS_PKCS11_OBJ_FLAG_PRIVKEY) < 0)
		return NULL;
	if (n > 0 && gnutls_pkcs11_obj_export_url(objs[0], GNUTLS_PKCS11_URL_GENERIC, &url) < 0)
		url = NULL;
	for (i = 0; i < n; i++)
		gnutls_pkcs11_obj_deinit(objs[i]);
	gnutls_free(objs);
	return url;
}

/* The PKCS#10 request for the key at url, signed by it, in PEM into fd.  0 or -1 with err. */
static int
write_csr(int fd, const char *url, const char *subject, const struct key_type *kt,
    char *err, size_t errlen)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_privkey_t key = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	const char *where = "";
	int rc, ret = -1;

	if ((rc = gnutls_privkey_init(&key)) < 0 ||
	    (rc = gnutls_privkey_import_url(key, url, 0)) < 0 ||
	    (rc = gnutls_pubkey_init(&pub)) < 0 ||
	    (rc = gnutls_pubkey_import_privkey(pub, key, 0, 0)) < 0) {
		where = "opening the new key";
		goto out;
	}
	where = "building the request";
	if ((rc = gnutls_x509_crq_init(&crq)) < 0 ||
	    (rc = gnutls_x509_crq_set_version(crq, 1)) < 0 ||
	    (rc = gnutls_x509_crq_set_dn(crq, subject, NULL)) < 0 ||
	    (rc = gnutls_x509_crq_set_pubkey(crq, pub)) < 0 ||
	    (rc = gnutls_x509_crq_set_key_usage(crq, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    /* RFC 3161 2.3: the TSA's certificate MUST carry this, marked critical. */
	    (rc = gnutls_x509_crq_set_key_purpose_oid(crq, OID_KP_TIMESTAMPING, 1)) < 0)
		goto out;
	where = "signing the request";
	if ((rc = gnutls_x509_crq_privkey_sign(crq, key, kt->csr_digest, 0)) < 0 ||
	    (rc = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_PEM, &pem)) < 0)
		goto out;
	if (write(fd, pem.data, pem.size) != (ssize_t)pem.size) {
		snprintf(err, errlen, "cannot write the request");
		goto out;
	}
	ret = 0;
out:
	if (ret == -1 && err[0] == '\0')
		snprintf(err, errlen, "%s: %s", where, gnutls_strerror(rc));
	gnutls_free(pem.data);
	gnutls_x509_crq_deinit(crq);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
	return ret;
}

static int
signer_keygen(int argc, char **argv)
{
	const char *label = NULL, *type = NULL, *subject = NULL, *csr = NULL, *token = NULL;
	struct cli_opt opts[] = {
		{ "--label", &label }, { "--type", &type }, { "--subject", &subject },
		{ "--csr", &csr }, { "--token", &token },
	};
	const struct key_type *kt = NULL;
	gnutls_x509_crq_t probe = NULL;
	unsigned char id[20];
	gnutls_datum_t cid = { id, sizeof(id) };
	char *tok = NULL, *url = NULL, err[512];
	size_t i;
	int fd = -1, rc = EX_DATAERR, grc;

	cli_args(SIGNER_USAGE, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0, 0);
	if (label == NULL || type == NULL || subject == NULL || csr == NULL) {
		cli_err("signer keygen needs --label, --type, --subject and --csr");
		cli_usage(SIGNER_USAGE);
	}
	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strcmp(type, key_types[i].name) == 0)
			kt = &key_types[i];
	if (kt == NULL) {
		cli_err("--type must be rsa2048, rsa3072, ec-p256 or ec-p384, not '%s'", type);
		return EX_DATAERR;
	}
	if (!label_ok(label)) {
		cli_err("--label '%s': use 1 to 64 letters, digits, '.', '_' or '-'", label);
		return EX_DATAERR;
	}
	/* The subject is checked before a key exists. */
	if (gnutls_x509_crq_init(&probe) < 0)
		return EX_FAIL;
	grc = gnutls_x509_crq_set_dn(probe, subject, NULL);
	gnutls_x509_crq_deinit(probe);
	if (grc < 0) {
		cli_err("--subject '%s' is not a distinguished name (CN=...,O=...): %s", subject,
		    gnutls_strerror(grc));
		return EX_DATAERR;
	}
	if (token != NULL && strncmp(token, "pkcs11:", 7) != 0) {
		cli_err("--token '%s' is not a PKCS#11 URI", token);
		return EX_DATAERR;
	}
	cli_pkcs11();
	if ((fd = open(csr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) == -1) {
		cli_err("cannot create %s (it must not exist yet): %s", csr, strerror(errno));
		return EX_FAIL;
	}
	if (token == NULL && (tok = first_token()) == NULL) {
		cli_err("no initialised token in %s (or give --token)", cli_conf.pkcs11_module);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if (token == NULL)
		token = tok;
	if ((url = find_key(token, label)) != NULL) {
		cli_err("the token has a private key labelled '%s' already: %s", label, url);
		rc = EX_FAIL;
		goto out;
	}
	if ((grc = gnutls_rnd(GNUTLS_RND_NONCE, id, sizeof(id))) < 0 ||
	    (grc = gnutls_pkcs11_privkey_generate3(token, kt->pk, kt->bits, label, &cid,
	    GNUTLS_X509_FMT_DER, NULL, GNUTLS_KEY_DIGITAL_SIGNATURE,
	    GNUTLS_PKCS11_OBJ_FLAG_LOGIN | GNUTLS_PKCS11_OBJ_FLAG_MARK_PRIVATE |
	    GNUTLS_PKCS11_OBJ_FLAG_MARK_SENSITIVE)) < 0) {
		cli_err("generating a %s key on %s: %s", kt->name, token, gnutls_strerror(grc));
		rc = EX_FAIL;
		goto out;
	}
	if ((url = find_key(token, label)) == NULL) {
		cli_err("the new key labelled '%s' is not found on %s", label, token);
		rc = EX_FAIL;
		goto out;
	}
	err[0] = '\0';
	if (write_csr(fd, url, subject, kt, err, sizeof(err)) == -1) {
		cli_err("the key %s exists, but its request does not: %s", url, err);
		rc = EX_FAIL;
		goto out;
	}
	if (cli_json) {
		fputs("{\"label\": ", stdout);
		json_str(label);
		fputs(", \"type\": ", stdout);
		json_str(kt->name);
		fputs(", \"uri\": ", stdout);
		json_str(url);
		fputs(", \"csr\": ", stdout);
		json_str(csr);
		fputs("}\n", stdout);
	} else
		printf("%s key '%s' generated on the token; request in %s\nkey URI: %s\n",
		    kt->name, label, csr, url);
	rc = 0;
out:
	if (fd != -1) {
		close(fd);
		if (rc != 0)
			unlink(csr);
	}
	gnutls_free(url);
	gnutls_free(tok);
	return rc;
}

int
cmd_signer(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", signer_list }, { "add", signer_add }, { "set", signer_set },
		{ "remove", signer_remove },
		{ "keygen", signer_keygen },
	};

	return cli_dispatch(SIGNER_USAGE, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}
