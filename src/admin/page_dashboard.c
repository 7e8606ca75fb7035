/*
 * page_dashboard.c - the console's dashboard (GET /admin/): services, policies and their filter
 * chains, the servers of the fleet and their units, the signers and their certificates (read
 * with GnuTLS, checked as the worker checks them), the clock as the gate reads it, tokens and
 * refusals per minute, the token log's latest tree head and lag, recent events and the
 * administrators.
 * Input: no field of the request; what the database holds (written by tsactl, the console and
 * the workers, shown escaped) and the status files clock filters name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "clock.h"
#include "html.h"
#include "pages.h"
#include "signer.h"
#include "store.h"

static void
dash_services(struct sbuf *b, const struct console_req *rq)
{
	PGresult *r = page_query(rq, "SELECT s.name, p.name, p.position, p.policy_oid, g.name,"
	    " concat_ws(', ', 'protocol ' || p.match_protocol, 'req-policy ' || p.match_req_policy,"
	    "  'client-cert ' || p.match_client_cert, 'client ' || p.match_client),"
	    " coalesce((SELECT string_agg(f.position || '. ' || f.filter || ' ' || f.params::text,"
	    "  E'\\n' ORDER BY f.position) FROM policy_filters f WHERE f.policy_id = p.id), '')"
	    " FROM services s LEFT JOIN policies p ON p.service_id = s.id"
	    " LEFT JOIN signers g ON g.id = p.signer_id ORDER BY s.name, p.position", 0, NULL);
	char why[512];
	int i;

	sb_str(b, "<h2>Services, policies and filter chains</h2>");
	if (r == NULL) {
		html_unavailable(b);
		return;
	}
	sb_str(b, "<table><tr><th>service</th><th>#</th><th>policy</th><th>policy OID</th>"
	    "<th>signer</th><th>matches</th><th>filters (in order)</th></tr>\n");
	for (i = 0; i < PQntuples(r); i++) {
		sb_str(b, "<tr><td>");
		html_esc(b, PQgetvalue(r, i, 0));
		sb_str(b, "</td>");
		if (PQgetisnull(r, i, 1)) {
			sb_str(b, "<td colspan=\"6\">no policy</td></tr>\n");
			continue;
		}
		sb_str(b, "<td>");
		html_esc(b, PQgetvalue(r, i, 2));
		sb_str(b, "</td><td><a href=\"/admin/policy?service=");
		html_urlenc(b, PQgetvalue(r, i, 0));
		sb_str(b, "&amp;policy=");
		html_urlenc(b, PQgetvalue(r, i, 1));
		sb_str(b, "\">");
		html_esc(b, PQgetvalue(r, i, 1));
		sb_str(b, "</a></td><td><code>");
		html_esc(b, PQgetvalue(r, i, 3));
		sb_str(b, "</code></td><td>");
		html_esc(b, PQgetvalue(r, i, 4));
		sb_str(b, "</td><td>");
		html_esc(b, PQgetvalue(r, i, 5)[0] != '\0' ? PQgetvalue(r, i, 5) : "any request");
		sb_str(b, "</td><td><pre style=\"margin:0;border:0;padding:0\">");
		html_esc(b, PQgetvalue(r, i, 6)[0] != '\0' ? PQgetvalue(r, i, 6) :
		    "none (the defaults)");
		sb_str(b, "</pre></td></tr>\n");
	}
	sb_str(b, "</table>\n");
	PQclear(r);
	if (config_refused_policy(rq->db, why, sizeof(why)) == -1) {
		sb_str(b, "<p class=\"bad\">");
		html_esc(b, why);
		sb_str(b, " (it answers systemFailure)</p>\n");
	}
}

/*
 * The fleet (schema 012, the same query as tsactl status): each server, when it was last
 * heard from (silent after SERVER_SILENT_BEATS missed heartbeats), its version and its units
 * as its own signing process reported them.
 */
static void
dash_servers(struct sbuf *b, const struct console_req *rq)
{
	PGresult *r = page_query(rq, SQL_SERVERS, 0, NULL);
	int i;

	sb_str(b, "<h2>Servers</h2>");
	if (r == NULL) {
		html_unavailable(b);
		return;
	}
	if (PQntuples(r) == 0)
		sb_str(b, "<p>No server has reported yet.</p>\n");
	else
		sb_str(b, "<table><tr><th>host</th><th>heard from</th><th>version</th>"
		    "<th>signing process</th><th>units</th></tr>\n");
	for (i = 0; i < PQntuples(r); i++) {
		const char *verdict = PQgetvalue(r, i, 8);
		int first = i == 0 || strcmp(PQgetvalue(r, i, 0), PQgetvalue(r, i - 1, 0)) != 0;
		int last = i + 1 == PQntuples(r) ||
		    strcmp(PQgetvalue(r, i, 0), PQgetvalue(r, i + 1, 0)) != 0;

		if (first) {
			sb_str(b, "<tr><td>");
			html_esc(b, PQgetvalue(r, i, 0));
			sb_printf(b, "</td><td class=\"%s\">", strcmp(verdict, "ok") == 0 ? "ok" :
			    strcmp(verdict, "silent") == 0 ? "bad" : "warn");
			if (strcmp(verdict, "silent") == 0)
				sb_printf(b, "SILENT (%d heartbeats missed): ", SERVER_SILENT_BEATS);
			else if (strcmp(verdict, "stopped") == 0)
				sb_str(b, "stopped: ");
			html_esc(b, PQgetvalue(r, i, 5));
			sb_str(b, " s ago (every ");
			html_esc(b, PQgetvalue(r, i, 6));
			sb_str(b, " s)</td><td>");
			html_esc(b, PQgetvalue(r, i, 1));
			sb_str(b, "</td><td>");
			html_esc(b, PQgetvalue(r, i, 7));
			sb_str(b, "</td><td>");
		}
		if (!PQgetisnull(r, i, 9)) {
			sb_printf(b, "<span class=\"%s\">", strcmp(PQgetvalue(r, i, 10), "usable") == 0 ?
			    "ok" : "bad");
			html_esc(b, PQgetvalue(r, i, 9));
			sb_str(b, ": ");
			html_esc(b, PQgetvalue(r, i, 10));
			if (PQgetvalue(r, i, 11)[0] != '\0') {
				sb_str(b, " (");
				html_esc(b, PQgetvalue(r, i, 11));
				sb_str(b, ")");
			}
			sb_str(b, "</span><br>");
		}
		if (last)
			sb_str(b, "</td></tr>\n");
	}
	if (PQntuples(r) > 0)
		sb_str(b, "</table>\n");
	PQclear(r);
}

static void
dash_signers(struct sbuf *b, const struct console_req *rq)
{
	PGresult *r = page_query(rq, "SELECT g.name, g.certificate, g.pkcs11_uri, g.scheme, g.digest,"
	    " (SELECT count(*) FROM policies p WHERE p.signer_id = g.id),"
	    " coalesce(g.host, 'any host') || coalesce(' / group ' || g.unit_group, '')"
	    " FROM signers g ORDER BY g.name", 0, NULL);
	time_t now = time(NULL);
	int i;

	sb_str(b, "<h2>Signers</h2>");
	if (r == NULL) {
		html_unavailable(b);
		return;
	}
	sb_str(b, "<table><tr><th>signer</th><th>certificate subject</th><th>valid from</th>"
	    "<th>valid until</th><th>days left</th><th>check</th><th>scheme</th>"
	    "<th>policies</th><th>host / group</th><th>key</th></tr>\n");
	for (i = 0; i < PQntuples(r); i++) {
		gnutls_x509_crt_t crt = NULL;
		gnutls_datum_t in, dn = { NULL, 0 };
		char from[32] = "?", until[32] = "?", err[256] = "";
		const char *text = PQgetvalue(r, i, 1);
		time_t a = 0, e = 0;
		long days = 0;
		int ok = 0;

		in.data = (unsigned char *)(uintptr_t)text;
		in.size = (unsigned)strlen(text);
		if (gnutls_x509_crt_init(&crt) >= 0 &&
		    gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM) >= 0) {
			a = gnutls_x509_crt_get_activation_time(crt);
			e = gnutls_x509_crt_get_expiration_time(crt);
			strftime(from, sizeof(from), "%Y-%m-%d %H:%M UTC", gmtime(&a));
			strftime(until, sizeof(until), "%Y-%m-%d %H:%M UTC", gmtime(&e));
			days = (long)((e - now) / 86400);
			(void)gnutls_x509_crt_get_dn3(crt, &dn, 0);
			ok = signer_check_cert(crt, now, err, sizeof(err)) == 0;
		} else
			snprintf(err, sizeof(err), "the certificate cannot be read");
		sb_str(b, "<tr><td>");
		html_esc(b, PQgetvalue(r, i, 0));
		sb_str(b, "</td><td>");
		if (dn.data != NULL) {
			char *s = strndup((const char *)dn.data, dn.size);

			html_esc(b, s);
			free(s);
		}
		sb_printf(b, "</td><td>%s</td><td>%s</td><td class=\"%s\">%ld</td>", from, until,
		    days < 0 ? "bad" : days < 30 ? "warn" : "ok", days);
		sb_str(b, ok ? "<td class=\"ok\">usable" : "<td class=\"bad\">refused: ");
		if (!ok)
			html_esc(b, err);
		sb_str(b, "</td><td>");
		html_esc(b, PQgetvalue(r, i, 3));
		sb_str(b, " / ");
		html_esc(b, PQgetvalue(r, i, 4));
		sb_str(b, "</td><td>");
		html_esc(b, PQgetvalue(r, i, 5));
		sb_str(b, "</td><td>");
		html_esc(b, PQgetvalue(r, i, 6));
		sb_str(b, "</td><td><code>");
		html_esc(b, PQgetvalue(r, i, 2));
		sb_str(b, "</code></td></tr>\n");
		gnutls_free(dn.data);
		gnutls_x509_crt_deinit(crt);
	}
	sb_str(b, "</table>\n");
	PQclear(r);
}

/* One clock source, read as the gate reads it (clock_read). */
static void
clock_row(struct sbuf *b, const char *what, const char *file)
{
	struct clock_status st;

	sb_str(b, "<tr><td>");
	html_esc(b, what);
	sb_str(b, "</td>");
	if (clock_read(file, &st) == -1) {
		sb_str(b, "<td colspan=\"5\" class=\"bad\">unreadable: the gate refuses "
		    "(timeNotAvailable)</td></tr>\n");
		return;
	}
	sb_printf(b, "<td class=\"%s\">%s</td><td>%ld</td><td>%ld</td><td>%s</td><td>%ld</td></tr>\n",
	    st.unsync ? "bad" : "ok", st.unsync ? "NOT synchronised" : "synchronised",
	    st.esterror_us, st.maxerror_us,
	    st.leap > 0 ? "insert" : st.leap < 0 ? "delete" : "none", st.seconds_to_midnight);
}

static void
dash_clock(struct sbuf *b, const struct console_req *rq)
{
	/* The gate reads the kernel unless a clock filter names a (test) status file. */
	PGresult *r = page_query(rq, "SELECT DISTINCT f.params->>'status_file' FROM policy_filters f"
	    " WHERE f.filter = 'clock' AND f.params ? 'status_file' ORDER BY 1", 0, NULL);
	int i;

	sb_str(b, "<h2>Clock (as the clock gate sees it)</h2><table><tr><th>source</th>"
	    "<th>state</th><th>estimated error (&micro;s)</th><th>maximum error (&micro;s)</th>"
	    "<th>leap second</th><th>seconds to midnight</th></tr>\n");
	clock_row(b, "kernel (ntp_adjtime)", NULL);
	for (i = 0; r != NULL && i < PQntuples(r); i++) {
		char what[600];

		snprintf(what, sizeof(what), "status file %s (clock filter)", PQgetvalue(r, i, 0));
		if (PQgetvalue(r, i, 0)[0] == '/')
			clock_row(b, what, PQgetvalue(r, i, 0));
	}
	sb_str(b, "</table>\n");
	PQclear(r);
}

static void
dash_rates(struct sbuf *b, const struct console_req *rq)
{
	PGresult *r = page_query(rq, "WITH m AS (SELECT generate_series(date_trunc('minute', now())"
	    "  - interval '14 minutes', date_trunc('minute', now()), interval '1 minute') AS m),"
	    " t AS (SELECT date_trunc('minute', gen_time) AS m, count(*) AS n FROM issued_tokens"
	    "  WHERE gen_time >= date_trunc('minute', now()) - interval '14 minutes' GROUP BY 1),"
	    " e AS (SELECT date_trunc('minute', at) AS m, sum(count) AS n FROM events"
	    "  WHERE at >= date_trunc('minute', now()) - interval '14 minutes'"
	    "  AND kind LIKE '%refused' AND kind <> 'config-refused' GROUP BY 1)"
	    " SELECT to_char(m.m AT TIME ZONE 'UTC', 'HH24:MI'), coalesce(t.n, 0),"
	    " coalesce(e.n, 0) FROM m LEFT JOIN t USING (m) LEFT JOIN e USING (m)"
	    " ORDER BY m.m DESC", 0, NULL);
	long max = 1, nt, ne;
	int i;

	sb_str(b, "<h2>Tokens issued and refusals per minute (last 15 minutes, UTC)</h2>");
	if (r == NULL) {
		html_unavailable(b);
		return;
	}
	for (i = 0; i < PQntuples(r); i++) {
		nt = atol(PQgetvalue(r, i, 1));
		ne = atol(PQgetvalue(r, i, 2));
		max = nt > max ? nt : ne > max ? ne : max;
	}
	sb_str(b, "<table><tr><th>minute</th><th>tokens</th><th></th><th>refusals</th>"
	    "<th></th></tr>\n");
	for (i = 0; i < PQntuples(r); i++) {
		nt = atol(PQgetvalue(r, i, 1));
		ne = atol(PQgetvalue(r, i, 2));
		sb_str(b, "<tr><td>");
		html_esc(b, PQgetvalue(r, i, 0));
		sb_printf(b, "</td><td id=\"tokens-%d\">%ld</td><td><span class=\"bar\" "
		    "style=\"width:%ldpx\"></span></td><td id=\"refusals-%d\">%ld</td><td><span "
		    "class=\"bar r\" style=\"width:%ldpx\"></span></td></tr>\n", i, nt, nt * 200 / max,
		    i, ne, ne * 200 / max);
	}
	sb_str(b, "</table>\n");
	PQclear(r);
}

/* The token log (README "Token log"): its latest tree head, the leaves still queued, the
 * integrator, and the last `tsactl log audit` (its event). */
static void
dash_log(struct sbuf *b, const struct console_req *rq)
{
	PGresult *r = page_query(rq, "SELECT h.tree_size AS tree_size,"
	    " to_char(to_timestamp(h.timestamp / 1000.0) AT TIME ZONE 'UTC',"
	    "  'YYYY-MM-DD HH24:MI:SS.MS') AS signed_at, encode(h.root_hash, 'hex') AS root_hash,"
	    " coalesce(h.log_key_id, 'unsigned') AS log_key_id,"
	    " (SELECT count(*) FROM log_queue) AS queued,"
	    " coalesce(round(extract(epoch FROM now() - (SELECT min(queued_at) FROM log_queue))"
	    "  ::numeric, 3), 0) AS lag_seconds,"
	    " (SELECT holder || ' (epoch ' || epoch || ')' FROM log_leader) AS integrator,"
	    " (SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || detail"
	    "  FROM events WHERE kind = 'log-audit' ORDER BY id DESC LIMIT 1) AS last_audit"
	    " FROM (SELECT * FROM log_heads ORDER BY tree_size DESC LIMIT 1) h", 0, NULL);

	sb_str(b, "<h2>Token log (latest tree head, last tsactl log audit)</h2>");
	html_table(b, r, -1);
	PQclear(r);
}

static void
dash_events(struct sbuf *b, const struct console_req *rq)
{
	PGresult *r = page_query(rq, "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at,"
	    " severity, kind, count, service, host(requester) AS requester, detail FROM events"
	    " ORDER BY id DESC LIMIT 25", 0, NULL);

	sb_str(b, "<h2>Recent events</h2>");
	html_table(b, r, -1);
	PQclear(r);
}

static void
dash_admins(struct sbuf *b, const struct console_req *rq)
{
	PGresult *r = page_query(rq, "SELECT name AS administrator, subject,"
	    " encode(fingerprint_sha256, 'hex') AS sha256_fingerprint,"
	    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS registered"
	    " FROM administrators ORDER BY name", 0, NULL);

	sb_str(b, "<h2>Administrators (tsactl admin add|remove)</h2>");
	html_table(b, r, 2);
	PQclear(r);
}

void
page_dashboard(struct console_req *rq, struct console_resp *rs)
{
	struct sbuf b = { NULL, 0, 0, 0 };

	html_head(&b, rq, "Dashboard");
	dash_services(&b, rq);
	dash_servers(&b, rq);
	dash_signers(&b, rq);
	dash_clock(&b, rq);
	dash_rates(&b, rq);
	dash_log(&b, rq);
	dash_events(&b, rq);
	dash_admins(&b, rq);
	html_finish(rs, &b, 200);
}
