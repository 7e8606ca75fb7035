/*
 * tsa-admin - the web administration console: a FastCGI program of its own, behind the same
 * web servers as tsa-fcgi, on its own location (/admin/ of the HTTPS server that requires
 * client certificates).  Plain server-rendered HTML, no scripts, no external assets.
 *
 * usage: tsa-admin [--conf FILE] [--listen unix:PATH | HOST:PORT]
 *
 * tsa.conf: admin_listen (the socket, else --listen), admin_database (the conninfo, else
 * database).  One process serves one request at a time: the console is for a few people,
 * and every state it has (administrators, the CSRF key, the configuration) is in PostgreSQL,
 * so more processes or machines may serve it side by side.  It takes a request only once it
 * has arrived whole (src/fcgi/gate.c: poll-driven, a deadline of TSA_FCGI_REQUEST_DEADLINE
 * from accept): one process rather than a pool, since a peer that connects and stalls holds
 * only a slot of the gate, never the process, so the console keeps serving meanwhile.
 *
 * Who may use it (every request, before anything is read from the database but the
 * administrators): HTTPS=on, SSL_CLIENT_VERIFY=SUCCESS and SSL_CLIENT_CERT a certificate
 * whose SHA-256 fingerprint is registered in administrators (`tsactl admin add`), matched by
 * the worker's own client_identify() (src/policy/clients.c).  Anything else: 403 with a page
 * saying why.  A POST must also carry the CSRF token of a page served to this certificate,
 * and a browser's Sec-Fetch-Site and Origin headers, when sent, must say same origin.
 * Input (untrusted): the FastCGI params and the urlencoded body, both capped (console.h).
 */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asn1.h"
#include "bytes.h"
#include "conf.h"
#include "console.h"
#include "gate.h"
#include "log.h"
#include "policy.h"
#include "request.h"
#include "store.h"

#define ADMIN_MAX_ADMINS	256	/* administrators loaded per request */

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static int
open_listener(const char *spec)
{
	mode_t old;
	int fd;

	if (strncmp(spec, "unix:", 5) == 0) {
		spec += 5;
		unlink(spec);
		/*
		 * rw for the owner and the group only (0660), the web server's group being the
		 * socket directory's (setgid) or the socket's own (systemd's SocketGroup): the
		 * FastCGI params are trusted, so only the web server may connect.  Set by the
		 * umask around bind() (in FCGX_OpenSocket): the socket never exists wider.
		 */
		old = umask(0117);
		fd = FCGX_OpenSocket(spec, 64);
		umask(old);
	} else
		fd = FCGX_OpenSocket(spec, 64);
	if (fd < 0)
		log_msg(LOG_ERR, "cannot listen on %s: %s", spec, strerror(errno));
	return fd;
}

static void
write_response(FCGX_Request *fr, const struct console_resp *rs)
{
	FCGX_FPrintF(fr->out, "Status: %d\r\n", rs->status);
	if (rs->location[0] != '\0')
		FCGX_FPrintF(fr->out, "Location: %s\r\n", rs->location);
	if (rs->filename[0] != '\0')
		FCGX_FPrintF(fr->out, "Content-Disposition: attachment; filename=\"%s\"\r\n",
		    rs->filename);
	FCGX_FPrintF(fr->out, "Content-Type: %s\r\nContent-Length: %lu\r\n"
	    "Cache-Control: no-store\r\nX-Frame-Options: DENY\r\n"
	    "X-Content-Type-Options: nosniff\r\nReferrer-Policy: same-origin\r\n"
	    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
	    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'\r\n\r\n",
	    rs->type, (unsigned long)rs->len);
	if (rs->len > 0)
		FCGX_PutStr((const char *)rs->body, (int)rs->len, fr->out);
}

static long db_timeout_ms = 5000;	/* tsa.conf's database_timeout */

/* The database, reconnected when the connection is gone; NULL when it is down. */
static PGconn *
database(PGconn **c, const char *conninfo)
{
	char why[512];

	if (*c != NULL && PQstatus(*c) == CONNECTION_OK && !pgb_broken(*c))
		return *c;
	PQfinish(*c);
	/* Every connect and statement bounded by database_timeout (pgbound.h). */
	if ((*c = db_connect(conninfo, db_timeout_ms, db_timeout_ms, why, sizeof(why))) == NULL)
		log_msg(LOG_ERR, "database: %s", why);
	return *c;
}

/*
 * The administrator behind the request, or a refusal in rs.  Administrators are read for
 * each request (a removal takes effect at once) and matched by client_identify().
 */
static int
identify(FCGX_Request *fr, struct console_req *rq, struct console_resp *rs)
{
	static const char admins_sql[] =
	    "SELECT name, fingerprint_sha256, subject FROM administrators ORDER BY id LIMIT 256";
	struct registered_client rc[ADMIN_MAX_ADMINS];
	static char svc_name[] = "admin";
	struct service svc;
	struct tsa_client client;
	const char *https = FCGX_GetParam("HTTPS", fr->envp);
	PGresult *r;
	char err[1024];
	size_t flen;
	int i, n, qrc, row[ADMIN_MAX_ADMINS];

	memset(&client, 0, sizeof(client));
	client.tls_verify = FCGX_GetParam("SSL_CLIENT_VERIFY", fr->envp);
	client.tls_cert = FCGX_GetParam("SSL_CLIENT_CERT", fr->envp);
	client.tls_subject = FCGX_GetParam("SSL_CLIENT_S_DN", fr->envp);
	if (https == NULL || strcmp(https, "on") != 0) {
		console_refusal(rs, 403, "HTTPS only",
		    "The administration console is served over HTTPS with a client certificate "
		    "only.");
		return -1;
	}
	if (client.tls_verify == NULL || strcmp(client.tls_verify, "SUCCESS") != 0 ||
	    client.tls_cert == NULL || client.tls_cert[0] == '\0') {
		console_refusal(rs, 403, "No client certificate",
		    "The administration console needs an administrator's client certificate, "
		    "verified by the web server.  None was presented.");
		return -1;
	}
	r = db_query(rq->db, admins_sql, 0, NULL, "reading administrators", &qrc, err,
	    sizeof(err));
	/*
	 * The first query of a request: a connection PostgreSQL dropped (a restart) is only seen
	 * here, so it is reset and the query tried once more before the request is refused.
	 */
	if (r == NULL && (PQstatus(rq->db) == CONNECTION_BAD || pgb_broken(rq->db))) {
		if (pgb_reset(rq->db, pgb_timeout(rq->db)) == 0)
			r = db_query(rq->db, admins_sql, 0, NULL, "reading administrators", &qrc,
			    err, sizeof(err));
	}
	if (r == NULL) {
		log_msg(LOG_ERR, "%s", err);
		PQclear(r);
		console_refusal(rs, 503, "Database unavailable",
		    "The administrators cannot be read from the database now.");
		return -1;
	}
	memset(&svc, 0, sizeof(svc));
	memset(rc, 0, sizeof(rc));
	/* Only rows with a readable fingerprint take part; row[] maps back to the result. */
	for (i = 0, n = 0; i < PQntuples(r) && n < ADMIN_MAX_ADMINS; i++) {
		if (hex_decode(PQgetvalue(r, i, 1) + 2, rc[n].fingerprint,
		    sizeof(rc[n].fingerprint), &flen) == -1 || flen != 32)
			continue;
		rc[n].name = PQgetvalue(r, i, 0);
		row[n++] = i;
	}
	svc.name = svc_name;
	svc.clients = rc;
	svc.n_clients = (size_t)n;
	client_identify(&svc, &client);
	if (!client.cert_verified) {
		PQclear(r);
		console_refusal(rs, 403, "Unreadable certificate",
		    "The client certificate the web server passed on could not be read.");
		return -1;
	}
	if (client.registered == NULL) {
		char why[1024];

		snprintf(why, sizeof(why), "The certificate %s is not registered as an "
		    "administrator of this time-stamping authority (tsactl admin add).",
		    client.tls_subject != NULL ? client.tls_subject : "(no subject)");
		PQclear(r);
		console_refusal(rs, 403, "Not an administrator", why);
		return -1;
	}
	for (i = 0; i < n - 1; i++)
		if (rc[i].name == client.registered)
			break;
	i = row[i];
	snprintf(rq->admin, sizeof(rq->admin), "%s", PQgetvalue(r, i, 0));
	snprintf(rq->fingerprint, sizeof(rq->fingerprint), "%s", PQgetvalue(r, i, 1) + 2);
	snprintf(rq->subject, sizeof(rq->subject), "%s", PQgetvalue(r, i, 2));
	PQclear(r);
	return 0;
}

/* The CSRF key, read once per request (a rotation is one UPDATE). */
static int
csrf_key(PGconn *c, unsigned char *key, size_t *keylen)
{
	char err[1024];
	int rc = -1, qrc;
	PGresult *r = db_query(c, "SELECT secret FROM admin_secret", 0, NULL, "reading the CSRF key",
	    &qrc, err, sizeof(err));

	if (r == NULL)
		log_msg(LOG_ERR, "%s", err);
	else if (PQntuples(r) == 1 &&
	    hex_decode(PQgetvalue(r, 0, 0) + 2, key, 32, keylen) == 0 && *keylen == 32)
		rc = 0;
	PQclear(r);
	return rc;
}

/* A POST's body (urlencoded, capped), its origin and its CSRF token.  0, or a refusal. */
static int
check_post(FCGX_Request *fr, struct console_req *rq, struct console_resp *rs)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	const char *ct = FCGX_GetParam("CONTENT_TYPE", fr->envp);
	const char *site = FCGX_GetParam("HTTP_SEC_FETCH_SITE", fr->envp);
	const char *origin = FCGX_GetParam("HTTP_ORIGIN", fr->envp);
	const char *host = FCGX_GetParam("HTTP_HOST", fr->envp);
	static char body[CONSOLE_MAX_BODY + 1];
	char err[256], want[320];
	long len;
	char *end;
	int got;

	if (ct == NULL || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
	    (ct[33] != '\0' && ct[33] != ';')) {
		console_refusal(rs, 415, "Not a form",
		    "The console accepts application/x-www-form-urlencoded forms only.");
		return -1;
	}
	errno = 0;
	len = cl != NULL ? strtol(cl, &end, 10) : -1;
	if (cl == NULL || *cl == '\0' || *end != '\0' || errno != 0 || len < 0 ||
	    len > CONSOLE_MAX_BODY) {
		console_refusal(rs, 413, "Form too large",
		    "The form is missing its length or is larger than the console accepts.");
		return -1;
	}
	got = len > 0 ? FCGX_GetStr(body, (int)len, fr->in) : 0;
	if (got != len) {
		console_refusal(rs, 400, "Form cut short", "The form ended before its length.");
		return -1;
	}
	body[len] = '\0';
	if (site != NULL && strcmp(site, "same-origin") != 0) {
		console_refusal(rs, 403, "Cross-site request refused",
		    "This form was not sent from a page of the console (Sec-Fetch-Site).");
		return -1;
	}
	if (origin != NULL) {
		snprintf(want, sizeof(want), "https://%s", host != NULL ? host : "");
		if (host == NULL || strcmp(origin, want) != 0) {
			console_refusal(rs, 403, "Cross-origin request refused",
			    "This form was not sent from a page of the console (Origin).");
			return -1;
		}
	}
	if (form_parse(body, (size_t)len, &rq->body, err, sizeof(err)) == -1) {
		char why[512];

		snprintf(why, sizeof(why), "The form is malformed: %s.", err);
		console_refusal(rs, 400, "Malformed form", why);
		return -1;
	}
	if (csrf_check(rq->key, rq->keylen, rq->fingerprint, form_get(&rq->body, "csrf"),
	    time(NULL), err, sizeof(err)) == -1) {
		char why[512];

		snprintf(why, sizeof(why), "Refused: %s.  Changes are accepted only from the "
		    "console's own pages.", err);
		console_refusal(rs, 403, "CSRF check failed", why);
		return -1;
	}
	return 0;
}

static void
handle(FCGX_Request *fr, PGconn **db, const char *conninfo, struct console_resp *rs)
{
	struct console_req rq;
	unsigned char key[32];
	const char *req_uri = FCGX_GetParam("REQUEST_URI", fr->envp);
	const char *uri = NULL;
	char path[257];
	const char *query = FCGX_GetParam("QUERY_STRING", fr->envp);
	char err[256];

	memset(&rq, 0, sizeof(rq));
	memset(rs, 0, sizeof(*rs));
	/* The path as the browser sent it (REQUEST_URI up to '?'): every web server sets it the
	 * same, where DOCUMENT_URI and SCRIPT_NAME/PATH_INFO differ (nginx, Apache, lighttpd). */
	if (req_uri != NULL && strcspn(req_uri, "?") < sizeof(path)) {
		snprintf(path, sizeof(path), "%.*s", (int)strcspn(req_uri, "?"), req_uri);
		uri = path;
	} else if (req_uri == NULL)
		uri = FCGX_GetParam("DOCUMENT_URI", fr->envp);
	rq.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	if (rq.method == NULL || (strcmp(rq.method, "GET") != 0 &&
	    strcmp(rq.method, "POST") != 0)) {
		console_refusal(rs, 405, "Method not allowed", "GET and POST only.");
		return;
	}
	if (uri == NULL || strncmp(uri, "/admin", 6) != 0 || strlen(uri) > 256 ||
	    (uri[6] != '\0' && uri[6] != '/')) {
		console_refusal(rs, 404, "Not found", "No such page in the console.");
		return;
	}
	rq.path = uri[6] == '\0' ? "/" : uri + 6;
	if ((rq.db = database(db, conninfo)) == NULL) {
		console_refusal(rs, 503, "Database unavailable",
		    "The console cannot reach PostgreSQL now.");
		return;
	}
	if (identify(fr, &rq, rs) == -1)
		return;
	if (csrf_key(rq.db, key, &rq.keylen) == -1) {
		console_refusal(rs, 503, "Database unavailable",
		    "The console's CSRF key cannot be read (tsactl migrate).");
		return;
	}
	rq.key = key;
	if (query != NULL && query[0] != '\0') {
		if (strlen(query) > CONSOLE_MAX_QUERY ||
		    form_parse(query, strlen(query), &rq.query, err, sizeof(err)) == -1) {
			char why[512];

			snprintf(why, sizeof(why), "The query string is malformed: %s.",
			    strlen(query) > CONSOLE_MAX_QUERY ? "too long" : err);
			console_refusal(rs, 400, "Malformed query", why);
			return;
		}
	}
	if (strcmp(rq.method, "POST") == 0 && check_post(fr, &rq, rs) == -1)
		goto out;
	if (csrf_make(rq.key, rq.keylen, rq.fingerprint, time(NULL), rq.csrf,
	    sizeof(rq.csrf)) == -1) {
		console_refusal(rs, 500, "Internal error", "Cannot make a CSRF token.");
		goto out;
	}
	console_serve(&rq, rs);
out:
	explicit_bzero(key, sizeof(key));
	form_free(&rq.query);
	form_free(&rq.body);
}

int
main(int argc, char **argv)
{
	struct tsa_conf conf;
	const char *conf_arg = NULL, *listen_arg = NULL, *conninfo, *spec;
	static struct fcgi_gate gate;
	FCGX_Request fr;
	struct sigaction sa;
	PGconn *db = NULL;
	int i, fd, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc)
			conf_arg = argv[++i];
		else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen_arg = argv[++i];
		else {
			fprintf(stderr, "usage: tsa-admin [--conf FILE] "
			    "[--listen unix:PATH | HOST:PORT]\n");
			return 64;
		}
	}
	log_init("tsa-admin");
	/* It holds the database conninfo and, per request, the CSRF key. */
	if ((rc = conf_load_daemon(conf_arg, &conf)) != 0)
		return rc;
	conninfo = conf.admin_database != NULL ? conf.admin_database : conf.database;
	db_timeout_ms = conf.database_timeout * 1000;
	spec = listen_arg != NULL ? listen_arg : conf.admin_listen;
	if (spec == NULL) {
		log_msg(LOG_ERR, "no socket to listen on: admin_listen in tsa.conf, or --listen");
		return 78;
	}
	if (tsa_asn1_init() == -1)
		return 70;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked accept() returns, so that SIGTERM stops the console. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0 || (fd = open_listener(spec)) < 0)
		return 71;
	FCGX_InitRequest(&fr, fd, FCGI_FAIL_ACCEPT_ON_INTR);
	if (gate_init(&gate, fd) == -1)
		return 71;
	log_msg(LOG_INFO, "serving the console on %s", spec);
	/* Stopping: nothing more is accepted; the requests the gate holds are still served. */
	while (!stopping || gate_pending(&gate) > 0) {
		struct console_resp rs;
		long deadline;
		int whole, c = gate_next(&gate, -1, 1000, !stopping, &whole, &deadline);

		if (c < 0)
			continue;
		if (!whole) {
			/* Past TSA_FCGI_PEEK: larger than any form of the console (CONSOLE_MAX_BODY). */
			log_msg(LOG_WARNING, "closed a FastCGI connection: request larger than %d "
			    "bytes", TSA_FCGI_PEEK);
			close(c);
			continue;
		}
		fr.ipcFd = c;
		fr.keepConnection = 1;
		if (FCGX_Accept_r(&fr) < 0)
			continue;	/* not a FastCGI request: libfcgi closed it */
		handle(&fr, &db, conninfo, &rs);
		write_response(&fr, &rs);
		free(rs.body);
		FCGX_Finish_r(&fr);
		/* Still open: the web server keeps it for its next request (FCGI_KEEP_CONN). */
		if (fr.ipcFd >= 0) {
			gate_keep(&gate, fr.ipcFd);
			fr.ipcFd = -1;
		}
	}
	gate_close(&gate);
	FCGX_Free(&fr, 1);
	PQfinish(db);
	conf_free(&conf);
	return 0;
}
