/*
 * logkeys.c - tsactl log keys and log key add|retire: the token log's keys listed for
 * auditors (schema 013, README "Token log").  add runs on the key's own server: it opens the
 * key on the token tsa.conf names (log_key, or --uri), has it sign a test message and checks
 * that signature with the public key the token gives, so that the key listed is one that
 * signs; the listing itself is the owner's write (the administration role), with an event.
 * keys reads the list through the log's read-only role, as GET URL/log/keys does.
 * Untrusted input: the arguments (a PKCS#11 URI, a host name, a key id) and the token's
 * answers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "admin.h"
#include "conf.h"
#include "edit.h"
#include "logjson.h"
#include "logkeys.h"
#include "store.h"

#define KEY_USAGE \
	"log keys                         the log keys listed for auditors (URL/log/keys)\n" \
	"       log key add [--uri URI] [--host HOST]\n" \
	"                                        lists this server's log key (default: tsa.conf's\n" \
	"                                        log_key and host), opened on its token\n" \
	"       log key retire KEY_ID            tree heads signed after now are refused\n"

/* The public key (DER SubjectPublicKeyInfo) of the private key at uri, which must sign:
 * into *der (gnutls_free'd by the caller).  0 or -1, said. */
static int
public_of(const char *uri, gnutls_datum_t *der)
{
	static const unsigned char probe[] = "tsactl log key add: a test signature";
	gnutls_datum_t m = { (unsigned char *)(uintptr_t)probe, sizeof(probe) - 1 };
	gnutls_datum_t sig = { NULL, 0 };
	gnutls_privkey_t key = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_sign_algorithm_t algo;
	unsigned bits;
	int rc, pk, ret = -1;

	if ((rc = gnutls_privkey_init(&key)) < 0 ||
	    (rc = gnutls_privkey_import_url(key, uri, 0)) < 0) {
		cli_err("cannot open the log key %s: %s", uri, gnutls_strerror(rc));
		goto out;
	}
	pk = gnutls_privkey_get_pk_algorithm(key, &bits);
	if (pk != GNUTLS_PK_ECDSA && pk != GNUTLS_PK_RSA) {
		cli_err("the log key %s is neither ECDSA nor RSA", uri);
		goto out;
	}
	algo = pk == GNUTLS_PK_ECDSA ? GNUTLS_SIGN_ECDSA_SHA256 : GNUTLS_SIGN_RSA_SHA256;
	if ((rc = gnutls_pubkey_init(&pub)) < 0 ||
	    (rc = gnutls_pubkey_import_privkey(pub, key, 0, 0)) < 0 ||
	    (rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, der)) < 0) {
		cli_err("the log key's public key: %s", gnutls_strerror(rc));
		goto out;
	}
	if ((rc = gnutls_privkey_sign_data2(key, algo, 0, &m, &sig)) < 0 ||
	    (rc = gnutls_pubkey_verify_data2(pub, algo, 0, &m, &sig)) < 0) {
		cli_err("the log key %s does not sign with its public key: %s", uri,
		    gnutls_strerror(rc));
		gnutls_free(der->data);
		der->data = NULL;
		goto out;
	}
	ret = 0;
out:
	gnutls_free(sig.data);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	if (key != NULL)
		gnutls_privkey_deinit(key);
	return ret;
}

static int
key_add(int argc, char **argv)
{
	const char *uri = NULL, *host = NULL, *alg;
	const struct cli_opt opts[] = { { "--uri", &uri }, { "--host", &host } };
	gnutls_datum_t der = { NULL, 0 };
	char id[65], err[512];
	PGresult *r = NULL;
	PGconn *c;
	int rc;

	cli_args(KEY_USAGE, argc, argv, opts, 2, NULL, 0, 0);
	cli_load_conf();
	if (uri == NULL && (uri = cli_conf.log_key) == NULL) {
		cli_err("no --uri and no log_key in tsa.conf");
		return EX_USAGE;
	}
	if (host == NULL)
		host = cli_conf.host;
	if (strncmp(uri, "pkcs11:", 7) != 0) {
		cli_err("'%s' is not a PKCS#11 URI (RFC 7512: pkcs11:...)", uri);
		return EX_DATAERR;
	}
	if (host == NULL || !conf_host_ok(host)) {
		cli_err("'%s' is not a server name", host != NULL ? host : "");
		return EX_DATAERR;
	}
	cli_pkcs11();
	if (public_of(uri, &der) == -1)
		return EX_UNAVAILABLE;
	if (logkeys_describe(der.data, der.size, id, &alg, err, sizeof(err)) == -1) {
		cli_err("the log key %s: %s", uri, err);
		gnutls_free(der.data);
		return EX_DATAERR;
	}
	c = cli_connect();
	if ((rc = edit_logkey_add(c, host, id, alg, der.data, der.size, cli_actor(c), &r, err,
	    sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "log key %s of %s listed (%s)", id, host, alg);
	PQclear(r);
	PQfinish(c);
	gnutls_free(der.data);
	return rc;
}

static int
key_retire(int argc, char **argv)
{
	char *pos[1], err[512];
	PGresult *r = NULL;
	PGconn *c;
	int rc;

	cli_args(KEY_USAGE, argc, argv, NULL, 0, pos, 1, 1);
	c = cli_connect();
	if ((rc = edit_logkey_retire(c, pos[0], cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "log key %s retired", pos[0]);
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
cli_log_key(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "add", key_add }, { "retire", key_retire },
	};

	return cli_dispatch(KEY_USAGE, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

int
cli_log_keys(int argc, char **argv)
{
	struct logkeys ks = { 0, NULL };
	char err[512], *j;
	size_t i;
	PGconn *c;

	cli_args(KEY_USAGE, argc, argv, NULL, 0, NULL, 0, 0);
	c = cli_log_reader();
	if (logkeys_load(c, &ks, err, sizeof(err)) == -1) {
		cli_err("%s", err);
		PQfinish(c);
		return EX_DATAERR;
	}
	PQfinish(c);
	if (cli_json) {
		if ((j = logjson_keys(&ks)) == NULL) {
			logkeys_free(&ks);
			return 70;
		}
		fputs(j, stdout);
		free(j);
	} else if (ks.n == 0)
		printf("no log key is listed (tsactl log key add, on each server)\n");
	for (i = 0; !cli_json && i < ks.n; i++)
		printf("%s  %-16s %-16s added %s%s%s\n", ks.e[i].key_id, ks.e[i].host,
		    ks.e[i].algorithm, ks.e[i].added, ks.e[i].retired[0] ? ", retired " : "",
		    ks.e[i].retired);
	logkeys_free(&ks);
	return 0;
}
