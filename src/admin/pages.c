/*
 * pages.c - the pages of the web console (tsa-admin): the dashboard (services, policies and
 * filter chains, signers and their certificates, the clock as the gate reads it, tokens and
 * refusals per minute, recent events), a policy's filter chain with its edit forms, token
 * lookup, a token's details with its verification, and its download.
 * Input: the fields main.c parsed (query string, form body; untrusted, bounded), checked
 * again here field by field before any reaches SQL (always as a parameter) or HTML (always
 * escaped).  Changes go through src/store/edit.c, tsactl's own write path: the same checks,
 * one transaction, an event naming the administrator's certificate.  The HTML they are written
 * with (layout, stylesheet, escaping) is html.c's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "bytes.h"
#include "clock.h"
#include "console.h"
#include "edit.h"
#include "html.h"
#include "log.h"
#include "signer.h"
#include "store.h"
#include "tsa_limits.h"
#include "verify.h"
#include "xmlverify.h"

/* ---- database -------------------------------------------------------------------------------- */

static PGresult *
page_query(const struct console_req *rq, const char *sql, int n, const char *const *p)
{
	PGresult *r = PQexecParams(rq->db, sql, n, NULL, p, NULL, NULL, 0);

	if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)
		return r;
	log_msg(LOG_ERR, "query failed: %s", PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

/* ---- the dashboard --------------------------------------------------------------------------- */

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

static void
dash_signers(struct sbuf *b, const struct console_req *rq)
{
	PGresult *r = page_query(rq, "SELECT g.name, g.certificate, g.pkcs11_uri, g.scheme, g.digest,"
	    " (SELECT count(*) FROM policies p WHERE p.signer_id = g.id)"
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
	    "<th>policies</th><th>key</th></tr>\n");
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
		html_out(b, "</td><td>%s</td><td>%s</td><td class=\"%s\">%ld</td>", from, until,
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
	html_out(b, "<td class=\"%s\">%s</td><td>%ld</td><td>%ld</td><td>%s</td><td>%ld</td></tr>\n",
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
		html_out(b, "</td><td id=\"tokens-%d\">%ld</td><td><span class=\"bar\" "
		    "style=\"width:%ldpx\"></span></td><td id=\"refusals-%d\">%ld</td><td><span "
		    "class=\"bar r\" style=\"width:%ldpx\"></span></td></tr>\n", i, nt, nt * 200 / max,
		    i, ne, ne * 200 / max);
	}
	sb_str(b, "</table>\n");
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

static void
page_dashboard(struct console_req *rq, struct console_resp *rs)
{
	struct sbuf b = { NULL, 0, 0, 0 };

	html_head(&b, rq, "Dashboard");
	dash_services(&b, rq);
	dash_signers(&b, rq);
	dash_clock(&b, rq);
	dash_rates(&b, rq);
	dash_events(&b, rq);
	dash_admins(&b, rq);
	html_finish(rs, &b, 200);
}

/* ---- a policy and its filter chain, with the edit forms -------------------------------------- */

/* Names as tsactl takes them: 1..128 printable bytes, no spaces. */
static int
name_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= ' ' || (unsigned char)s[n] == 0x7f)
			return 0;
	return n >= 1 && n <= 128;
}

/* The policy's OID, signer and match rules as one form (POST /admin/policy-set). */
static void
policy_form(struct sbuf *b, const struct console_req *rq, const char *service,
    const char *policy, const PGresult *r)
{
	static const char *const protocols[] = { "any", "rfc3161", "soap", "authenticode" };
	static const char *const certs[] = { "any", "yes", "no" };
	const char *cc = PQgetvalue(r, 0, 6);
	PGresult *g = page_query(rq, "SELECT name FROM signers ORDER BY name", 0, NULL);
	int i;

	sb_str(b, "<details><summary>Change the policy</summary>"
	    "<form method=\"post\" action=\"/admin/policy-set\"><table>");
	html_hidden(b, "csrf", rq->csrf);
	html_hidden(b, "service", service);
	html_hidden(b, "policy", policy);
	sb_str(b, "<tr><th>policy OID</th><td><input name=\"oid\" id=\"oid\" size=\"30\" "
	    "value=\"");
	html_esc(b, PQgetvalue(r, 0, 2));
	sb_str(b, "\"></td></tr><tr><th>signer</th><td><select name=\"signer\" id=\"signer\">");
	for (i = 0; g != NULL && i < PQntuples(g); i++) {
		const char *v = PQgetvalue(g, i, 0);

		html_options(b, &v, 1, PQgetvalue(r, 0, 3));
	}
	sb_str(b, "</select></td></tr><tr><th>protocol</th><td><select name=\"protocol\" "
	    "id=\"protocol\">");
	html_options(b, protocols, 4, PQgetvalue(r, 0, 4));
	sb_str(b, "</select></td></tr><tr><th>requested policy</th><td><input "
	    "name=\"req_policy\" id=\"req_policy\" size=\"30\" value=\"");
	html_esc(b, PQgetvalue(r, 0, 5));
	sb_str(b, "\"> (an OID, or any)</td></tr><tr><th>client certificate</th><td><select "
	    "name=\"client_cert\" id=\"client_cert\">");
	html_options(b, certs, 3, strcmp(cc, "true") == 0 ? "yes" : strcmp(cc, "false") == 0 ? "no" :
	    "any");
	sb_str(b, "</select></td></tr><tr><th>client</th><td><input name=\"client\" "
	    "id=\"client\" size=\"20\" value=\"");
	html_esc(b, PQgetvalue(r, 0, 7));
	sb_str(b, "\"> (a registered client, or any)</td></tr></table>"
	    "<button type=\"submit\" id=\"policy-save\">Save the policy</button></form>"
	    "</details>\n");
	PQclear(g);
}

/* The policy page; msg (escaped) above it, ok or not; status as given. */
static void
policy_page(struct console_req *rq, struct console_resp *rs, const char *service,
    const char *policy, const char *msg, int msg_ok, int status)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	const char *p[2] = { service, policy };
	PGresult *r = NULL, *f = NULL;
	char title[300];
	int i;

	if (!name_ok(service) || !name_ok(policy)) {
		console_refusal(rs, 400, "Bad request", "service and policy must be names.");
		return;
	}
	snprintf(title, sizeof(title), "Policy %s / %s", service, policy);
	r = page_query(rq, "SELECT p.id, p.position, p.policy_oid, g.name AS signer,"
	    " coalesce(p.match_protocol, 'any') AS protocol,"
	    " coalesce(p.match_req_policy, 'any') AS requested_policy,"
	    " coalesce(p.match_client_cert::text, 'any') AS client_cert,"
	    " coalesce(p.match_client, 'any') AS client"
	    " FROM policies p JOIN services s ON s.id = p.service_id"
	    " JOIN signers g ON g.id = p.signer_id WHERE s.name = $1 AND p.name = $2", 2, p);
	if (r == NULL || PQntuples(r) != 1) {
		PQclear(r);
		console_refusal(rs, 404, "No such policy", "There is no such service and policy.");
		return;
	}
	html_head(&b, rq, title);
	if (msg != NULL) {
		sb_str(&b, msg_ok ? "<div class=\"msg ok\" id=\"result\">" :
		    "<div class=\"msg bad\" id=\"result\">Refused, nothing was changed: ");
		html_esc(&b, msg);
		sb_str(&b, "</div>");
	}
	sb_str(&b, "<table>");
	for (i = 1; i < PQnfields(r); i++) {
		sb_str(&b, "<tr><th>");
		html_esc(&b, PQfname(r, i));
		sb_str(&b, "</th><td>");
		html_esc(&b, PQgetvalue(r, 0, i));
		sb_str(&b, "</td></tr>");
	}
	sb_str(&b, "</table>\n");
	policy_form(&b, rq, service, policy, r);
	sb_str(&b, "<h2>Filter chain</h2>");
	p[0] = PQgetvalue(r, 0, 0);
	f = page_query(rq, "SELECT position, filter, params::text FROM policy_filters"
	    " WHERE policy_id = $1::integer ORDER BY position", 1, p);
	if (f == NULL)
		html_unavailable(&b);
	else if (PQntuples(f) == 0)
		sb_str(&b, "<p>No filters: the defaults apply.</p>");
	else {
		sb_str(&b, "<table><tr><th>#</th><th>filter</th><th>parameters (JSON)</th>"
		    "<th></th></tr>\n");
		for (i = 0; i < PQntuples(f); i++) {
			sb_str(&b, "<tr><td>");
			html_esc(&b, PQgetvalue(f, i, 0));
			sb_str(&b, "</td><td>");
			html_esc(&b, PQgetvalue(f, i, 1));
			sb_str(&b, "</td><td>");
			html_form_open(&b, rq, "set", service, policy);
			html_hidden(&b, "position", PQgetvalue(f, i, 0));
			html_out(&b, "<textarea name=\"params\" id=\"params-%s\">", PQgetvalue(f, i, 0));
			html_esc(&b, PQgetvalue(f, i, 2));
			html_out(&b, "</textarea> <button type=\"submit\" id=\"save-%s\">Save</button>"
			    "</form></td><td>", PQgetvalue(f, i, 0));
			html_form_open(&b, rq, "remove", service, policy);
			html_hidden(&b, "position", PQgetvalue(f, i, 0));
			html_out(&b, "<button type=\"submit\" id=\"remove-%s\">Remove</button></form>"
			    "</td></tr>\n", PQgetvalue(f, i, 0));
		}
		sb_str(&b, "</table>\n");
	}
	sb_str(&b, "<h2>Add a filter</h2>");
	html_form_open(&b, rq, "add", service, policy);
	sb_str(&b, "filter <input name=\"filter\" id=\"add-filter\" size=\"18\" required> "
	    "parameters <textarea name=\"params\" id=\"add-params\">{}</textarea> "
	    "position <input name=\"position\" id=\"add-position\" size=\"3\" "
	    "placeholder=\"last\"> <button type=\"submit\" id=\"add\">Add</button></form>"
	    "<p>Every change is checked by the worker's own filter code, written in one "
	    "transaction and recorded as an event naming your certificate.</p>");
	PQclear(r);
	PQclear(f);
	html_finish(rs, &b, status);
}

static void
page_policy(struct console_req *rq, struct console_resp *rs)
{
	const char *done = form_get(&rq->query, "done");
	const char *msg = NULL;

	/* Only fixed texts are shown from the query string. */
	if (done != NULL)
		msg = strcmp(done, "set") == 0 ? "The filter's parameters were saved." :
		    strcmp(done, "add") == 0 ? "The filter was added." :
		    strcmp(done, "remove") == 0 ? "The filter was removed." :
		    strcmp(done, "policy") == 0 ? "The policy was saved." : NULL;
	policy_page(rq, rs, form_get(&rq->query, "service"), form_get(&rq->query, "policy"),
	    msg, 1, 200);
}

static void	back_to_policy(struct console_resp *, const char *, const char *, const char *);

/* POST /admin/filter: action set|add|remove through edit.c; 303 back, or the reason. */
static void
post_filter(struct console_req *rq, struct console_resp *rs)
{
	const char *action = form_get(&rq->body, "action");
	const char *service = form_get(&rq->body, "service");
	const char *policy = form_get(&rq->body, "policy");
	const char *position = form_get(&rq->body, "position");
	const char *params = form_get(&rq->body, "params");
	struct edit_actor actor;
	char who[800], err[512];
	PGresult *row = NULL;
	long at = 0;
	char *end;
	int rc;

	if (!name_ok(service) || !name_ok(policy) || action == NULL) {
		console_refusal(rs, 400, "Bad request", "The form lacks its service, policy or "
		    "action.");
		return;
	}
	snprintf(who, sizeof(who), "administrator %s (%s; sha256 %s) via the web console",
	    rq->admin, rq->subject, rq->fingerprint);
	actor.who = who;
	if (position != NULL && position[0] == '\0')
		position = NULL;
	if (position != NULL) {
		at = strtol(position, &end, 10);
		if (position[0] < '1' || position[0] > '9' || *end != '\0' || strlen(position) > 6) {
			policy_page(rq, rs, service, policy,
			    "the position must be a whole number from 1", 0, 422);
			return;
		}
	}
	if (strcmp(action, "add") == 0) {
		const char *filter = form_get(&rq->body, "filter");

		if (!name_ok(filter)) {
			policy_page(rq, rs, service, policy, "name the filter to add", 0, 422);
			return;
		}
		rc = edit_filter_add(rq->db, service, policy, filter,
		    params != NULL && params[0] != '\0' ? params : "{}", position, &actor, &row,
		    err, sizeof(err));
	} else if (strcmp(action, "set") == 0 && position != NULL && params != NULL)
		rc = edit_filter_set(rq->db, service, policy, at, params, &actor, &row, err,
		    sizeof(err));
	else if (strcmp(action, "remove") == 0 && position != NULL)
		rc = edit_filter_remove(rq->db, service, policy, at, &actor, &row, err,
		    sizeof(err));
	else {
		console_refusal(rs, 400, "Bad request", "Unknown action, or its fields missing.");
		return;
	}
	PQclear(row);
	if (rc != 0) {
		log_msg(LOG_INFO, "%s: refused %s on %s/%s: %s", rq->admin, action, service,
		    policy, err);
		policy_page(rq, rs, service, policy, err, 0, rc == 69 ? 503 : 422);
		return;
	}
	log_msg(LOG_INFO, "%s: filter %s on %s/%s", rq->admin, action, service, policy);
	back_to_policy(rs, service, policy, strcmp(action, "add") == 0 ? "add" :
	    strcmp(action, "set") == 0 ? "set" : "remove");
}

/* A 303 back to the policy page, saying what was done (a fixed word). */
static void
back_to_policy(struct console_resp *rs, const char *service, const char *policy,
    const char *done)
{
	struct sbuf loc = { NULL, 0, 0, 0 };
	unsigned char *l = NULL;
	size_t ll = 0;

	sb_str(&loc, "/admin/policy?service=");
	html_urlenc(&loc, service);
	sb_str(&loc, "&policy=");
	html_urlenc(&loc, policy);
	sb_str(&loc, "&done=");
	sb_str(&loc, done);
	if (sb_done(&loc, &l, &ll) == -1 || ll >= sizeof(rs->location)) {
		free(l);
		console_refusal(rs, 500, "Internal error", "Cannot build the redirect.");
		return;
	}
	memcpy(rs->location, l, ll + 1);
	free(l);
	rs->status = 303;
	rs->type = "text/plain";
}

/* POST /admin/policy-set: the policy's OID, signer and match rules through edit.c. */
static void
post_policy(struct console_req *rq, struct console_resp *rs)
{
	const char *service = form_get(&rq->body, "service");
	const char *policy = form_get(&rq->body, "policy");
	struct edit_policy e;
	struct edit_actor actor;
	char who[800], err[512];
	PGresult *row = NULL;
	int rc;

	if (!name_ok(service) || !name_ok(policy)) {
		console_refusal(rs, 400, "Bad request", "The form lacks its service or policy.");
		return;
	}
	memset(&e, 0, sizeof(e));
	e.oid = form_get(&rq->body, "oid");
	e.signer = form_get(&rq->body, "signer");
	e.protocol = form_get(&rq->body, "protocol");
	e.req_policy = form_get(&rq->body, "req_policy");
	e.client_cert = form_get(&rq->body, "client_cert");
	e.client = form_get(&rq->body, "client");
	/* An emptied match field means any. */
	if (e.req_policy != NULL && e.req_policy[0] == '\0')
		e.req_policy = "any";
	if (e.client != NULL && e.client[0] == '\0')
		e.client = "any";
	if (e.oid == NULL || e.signer == NULL || e.protocol == NULL || e.req_policy == NULL ||
	    e.client_cert == NULL || e.client == NULL) {
		console_refusal(rs, 400, "Bad request", "The policy form lacks a field.");
		return;
	}
	snprintf(who, sizeof(who), "administrator %s (%s; sha256 %s) via the web console",
	    rq->admin, rq->subject, rq->fingerprint);
	actor.who = who;
	rc = edit_policy_set(rq->db, service, policy, &e, &actor, &row, err, sizeof(err));
	PQclear(row);
	if (rc != 0) {
		log_msg(LOG_INFO, "%s: refused a policy change on %s/%s: %s", rq->admin, service,
		    policy, err);
		policy_page(rq, rs, service, policy, err, 0, rc == 69 ? 503 : 422);
		return;
	}
	log_msg(LOG_INFO, "%s: policy %s/%s changed", rq->admin, service, policy);
	back_to_policy(rs, service, policy, "policy");
}

/* ---- tokens ---------------------------------------------------------------------------------- */

/* A serial as decimal text (the column is numeric): decimal digits or 0xHEX.  0 or -1. */
static int
serial_text(const char *in, char *out, size_t outlen)
{
	unsigned char raw[TSA_SERIAL_MAX + 1];
	size_t n, i;

	if (in == NULL || in[0] == '\0')
		return -1;
	if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) {
		if (strlen(in) > 2 * sizeof(raw) + 2 ||
		    hex_decode(in + 2, raw, sizeof(raw), &n) == -1 || n == 0)
			return -1;
		return bytes_to_decimal(raw, n, out, outlen);
	}
	for (i = 0; in[i] != '\0'; i++)
		if (in[i] < '0' || in[i] > '9')
			return -1;
	if (i > 60 || i + 1 > outlen)
		return -1;
	memcpy(out, in, i + 1);
	return 0;
}

/* A datetime-local value (YYYY-MM-DDTHH:MM[:SS]), taken as UTC, as timestamptz text. */
static int
time_text(const char *in, char *out, size_t outlen)
{
	static const char *shape = "dddd-dd-ddTdd:dd:dd";
	size_t i, n = in != NULL ? strlen(in) : 0;

	if (n != 16 && n != 19)
		return -1;
	for (i = 0; i < n; i++)
		if (shape[i] == 'd' ? (in[i] < '0' || in[i] > '9') : in[i] != shape[i])
			return -1;
	return snprintf(out, outlen, "%.10s %s%s+00", in, in + 11, n == 16 ? ":00" : "") <
	    (int)outlen ? 0 : -1;
}

static void
page_tokens(struct console_req *rq, struct console_resp *rs)
{
	const char *serial = form_get(&rq->query, "serial");
	const char *imprint = form_get(&rq->query, "imprint");
	const char *from = form_get(&rq->query, "from"), *to = form_get(&rq->query, "to");
	struct sbuf b = { NULL, 0, 0, 0 };
	char s[128], t0[40], t1[40];
	const char *p[3] = { NULL, NULL, NULL };
	const char *bad = NULL;
	PGresult *r = NULL;
	int i, j, status = 200;

	if (serial != NULL && serial[0] == '\0')
		serial = NULL;
	if (imprint != NULL && imprint[0] == '\0')
		imprint = NULL;
	if (from != NULL && from[0] == '\0')
		from = NULL;
	if (to != NULL && to[0] == '\0')
		to = NULL;
	html_head(&b, rq, "Token lookup");
	sb_str(&b, "<form method=\"get\" action=\"/admin/tokens\"><table>"
	    "<tr><th>serial (decimal or 0xHEX)</th><td><input name=\"serial\" id=\"serial\" "
	    "size=\"50\" value=\"");
	html_esc(&b, serial);
	sb_str(&b, "\"></td></tr><tr><th>or imprint (hex)</th><td><input name=\"imprint\" "
	    "id=\"imprint\" size=\"70\" value=\"");
	html_esc(&b, imprint);
	sb_str(&b, "\"></td></tr><tr><th>or genTime from / to (UTC)</th><td>"
	    "<input type=\"datetime-local\" step=\"1\" name=\"from\" id=\"from\" value=\"");
	html_esc(&b, from);
	sb_str(&b, "\"> <input type=\"datetime-local\" step=\"1\" name=\"to\" id=\"to\" value=\"");
	html_esc(&b, to);
	sb_str(&b, "\"></td></tr></table><button type=\"submit\" id=\"find\">Find</button>"
	    "</form>\n");
	if (serial != NULL) {
		if (serial_text(serial, s, sizeof(s)) == -1)
			bad = "the serial must be decimal digits or 0x and hex digits";
		p[0] = s;
	} else if (imprint != NULL) {
		size_t n = strlen(imprint);

		for (i = 0; imprint[i] != '\0'; i++)
			if (!((imprint[i] >= '0' && imprint[i] <= '9') ||
			    (imprint[i] >= 'a' && imprint[i] <= 'f') ||
			    (imprint[i] >= 'A' && imprint[i] <= 'F')))
				break;
		if (imprint[i] != '\0' || n % 2 != 0 || n > 2 * TSA_MAX_IMPRINT)
			bad = "the imprint must be an even number of hex digits";
		p[1] = imprint;
	} else if (from != NULL || to != NULL) {
		if ((from != NULL && time_text(from, t0, sizeof(t0)) == -1) ||
		    (to != NULL && time_text(to, t1, sizeof(t1)) == -1))
			bad = "times must be YYYY-MM-DDTHH:MM[:SS]";
		p[0] = NULL;
		p[1] = from != NULL ? t0 : NULL;
		p[2] = to != NULL ? t1 : NULL;
	} else
		goto end;
	if (bad != NULL) {
		sb_str(&b, "<div class=\"msg bad\">");
		html_esc(&b, bad);
		sb_str(&b, "</div>");
		status = 400;
		goto end;
	}
	if (serial != NULL)
		r = page_query(rq, "SELECT serial::text, to_char(gen_time AT TIME ZONE 'UTC',"
		    " 'YYYY-MM-DD HH24:MI:SS.MS') AS gen_time, service, protocol, policy_oid,"
		    " hash_alg, encode(imprint, 'hex'), token IS NOT NULL FROM issued_tokens"
		    " WHERE serial = $1::numeric", 1, p);
	else if (imprint != NULL)
		r = page_query(rq, "SELECT serial::text, to_char(gen_time AT TIME ZONE 'UTC',"
		    " 'YYYY-MM-DD HH24:MI:SS.MS'), service, protocol, policy_oid, hash_alg,"
		    " encode(imprint, 'hex'), token IS NOT NULL FROM issued_tokens"
		    " WHERE imprint = decode($1, 'hex') ORDER BY gen_time DESC LIMIT 100", 1, p + 1);
	else
		r = page_query(rq, "SELECT serial::text, to_char(gen_time AT TIME ZONE 'UTC',"
		    " 'YYYY-MM-DD HH24:MI:SS.MS'), service, protocol, policy_oid, hash_alg,"
		    " encode(imprint, 'hex'), token IS NOT NULL FROM issued_tokens"
		    " WHERE ($1::timestamptz IS NULL OR gen_time >= $1::timestamptz)"
		    " AND ($2::timestamptz IS NULL OR gen_time <= $2::timestamptz)"
		    " ORDER BY gen_time DESC LIMIT 100", 2, p + 1);
	if (r == NULL) {
		html_unavailable(&b);
		goto end;
	}
	html_out(&b, "<h2>%d token%s%s</h2>", PQntuples(r), PQntuples(r) == 1 ? "" : "s",
	    PQntuples(r) == 100 ? " (the newest 100)" : "");
	if (PQntuples(r) > 0)
		sb_str(&b, "<table id=\"results\"><tr><th>serial</th><th>genTime (UTC)</th>"
		    "<th>service</th><th>protocol</th><th>policy</th><th>hash</th>"
		    "<th>imprint</th><th></th></tr>\n");
	for (i = 0; i < PQntuples(r); i++) {
		sb_str(&b, "<tr><td><a href=\"/admin/token?serial=");
		html_urlenc(&b, PQgetvalue(r, i, 0));
		sb_str(&b, "\">");
		html_esc(&b, PQgetvalue(r, i, 0));
		sb_str(&b, "</a></td>");
		for (j = 1; j < 7; j++) {
			sb_str(&b, j == 6 ? "<td><code>" : "<td>");
			html_esc(&b, PQgetvalue(r, i, j));
			sb_str(&b, j == 6 ? "</code></td>" : "</td>");
		}
		sb_str(&b, "<td>");
		if (strcmp(PQgetvalue(r, i, 7), "t") == 0) {
			sb_str(&b, "<a href=\"/admin/download?serial=");
			html_urlenc(&b, PQgetvalue(r, i, 0));
			sb_str(&b, "\">download</a>");
		} else
			sb_str(&b, "not archived");
		sb_str(&b, "</td></tr>\n");
	}
	if (PQntuples(r) > 0)
		sb_str(&b, "</table>\n");
end:
	PQclear(r);
	html_finish(rs, &b, status);
}

/* The token's row (text columns) and the token itself (binary), by serial.  0 or -1. */
static int
token_fetch(struct console_req *rq, const char *serial, char *s, size_t slen,
    PGresult **meta, PGresult **bin)
{
	const char *p[1] = { s };

	*meta = *bin = NULL;
	if (serial_text(serial, s, slen) == -1)
		return -1;
	*meta = page_query(rq, "SELECT serial::text, to_char(gen_time AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD HH24:MI:SS.US') AS gen_time, service, protocol, policy_oid, hash_alg,"
	    " encode(imprint, 'hex') AS imprint, encode(nonce, 'hex') AS nonce,"
	    " host(requester) AS requester, client_identity,"
	    " to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS recorded_at"
	    " FROM issued_tokens WHERE serial = $1::numeric", 1, p);
	*bin = PQexecParams(rq->db, "SELECT token FROM issued_tokens WHERE serial = $1::numeric",
	    1, NULL, p, NULL, NULL, 1);
	if (*meta == NULL || PQresultStatus(*bin) != PGRES_TUPLES_OK || PQntuples(*meta) != 1 ||
	    PQntuples(*bin) != 1) {
		PQclear(*meta);
		PQclear(*bin);
		*meta = *bin = NULL;
		return -1;
	}
	return 0;
}

/* The CA certificates of the configured signers' chains, in a temporary PEM file (the caller
 * unlinks it); "" when there are none. */
static void
signer_cas(struct console_req *rq, char *path, size_t pathlen)
{
	PGresult *r = page_query(rq, "SELECT string_agg(chain, E'\\n') FROM signers WHERE chain <> ''",
	    0, NULL);
	const char *tmp = getenv("TMPDIR");
	size_t n;
	int fd;

	path[0] = '\0';
	if (r == NULL || PQgetisnull(r, 0, 0) || (n = strlen(PQgetvalue(r, 0, 0))) == 0)
		goto out;
	snprintf(path, pathlen, "%s/tsa-admin-ca-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if ((fd = mkstemp(path)) == -1) {
		path[0] = '\0';
		goto out;
	}
	if (write(fd, PQgetvalue(r, 0, 0), n) != (ssize_t)n) {
		unlink(path);
		path[0] = '\0';
	}
	close(fd);
out:
	PQclear(r);
}

static void
page_token(struct console_req *rq, struct console_resp *rs)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	PGresult *meta = NULL, *bin = NULL;
	char s[128], ca[256], err[512], title[200];
	const unsigned char *tok;
	size_t len, plen = 0;
	char *printed = NULL;
	FILE *f;
	int i, ok;

	if (token_fetch(rq, form_get(&rq->query, "serial"), s, sizeof(s), &meta, &bin) == -1) {
		console_refusal(rs, 404, "No such token", "No issued token has this serial.");
		return;
	}
	snprintf(title, sizeof(title), "Token %.120s", s);
	html_head(&b, rq, title);
	sb_str(&b, "<table id=\"token\">");
	for (i = 1; i < PQnfields(meta); i++) {
		sb_str(&b, "<tr><th>");
		html_esc(&b, PQfname(meta, i));
		sb_str(&b, "</th><td><code>");
		html_esc(&b, PQgetisnull(meta, 0, i) ? "" : PQgetvalue(meta, 0, i));
		sb_str(&b, "</code></td></tr>");
	}
	sb_str(&b, "</table>\n");
	if (PQgetisnull(bin, 0, 0)) {
		sb_str(&b, "<p>The token itself is not archived (archive filter).</p>");
		goto end;
	}
	tok = (const unsigned char *)PQgetvalue(bin, 0, 0);
	len = (size_t)PQgetlength(bin, 0, 0);
	sb_str(&b, "<p><a id=\"download\" href=\"/admin/download?serial=");
	html_urlenc(&b, s);
	html_out(&b, "\">Download the token</a> (%s, %zu bytes)</p>", strcmp(PQgetvalue(meta, 0, 3),
	    "soap") == 0 ? "XML" : "DER", len);
	signer_cas(rq, ca, sizeof(ca));
	if ((f = open_memstream(&printed, &plen)) == NULL) {
		if (ca[0] != '\0')
			unlink(ca);
		sb_str(&b, "<p class=\"bad\">out of memory</p>");
		goto end;
	}
	if (strcmp(PQgetvalue(meta, 0, 3), "soap") == 0) {
		struct xmlverify_result xr;

		ok = xml_token_verify(tok, len, ca[0] != '\0' ? ca : NULL, &xr, err,
		    sizeof(err)) == 0;
		xml_token_print(f, &xr);
	} else {
		struct verify_opts o;
		struct verify_result vr;

		memset(&o, 0, sizeof(o));
		o.ca_file = ca[0] != '\0' ? ca : NULL;
		ok = tst_verify(tok, len, &o, &vr, err, sizeof(err)) == 0;
		tst_verify_print(f, &vr);
	}
	fclose(f);
	if (ca[0] != '\0')
		unlink(ca);
	sb_str(&b, "<h2>Verification</h2>");
	sb_str(&b, ok ? "<p id=\"verdict\" class=\"ok\">verified" :
	    "<p id=\"verdict\" class=\"bad\">NOT verified: ");
	if (!ok)
		html_esc(&b, err);
	sb_str(&b, ok && ca[0] != '\0' ? " (the chain to the configured signers' CA "
	    "certificates included)</p>" : "</p>");
	sb_str(&b, "<pre id=\"verification\">");
	html_esc(&b, printed);
	sb_str(&b, "</pre>");
	free(printed);
end:
	PQclear(meta);
	PQclear(bin);
	html_finish(rs, &b, 200);
}

static void
page_download(struct console_req *rq, struct console_resp *rs)
{
	PGresult *meta = NULL, *bin = NULL;
	char s[128];
	int soap;
	size_t len;

	if (token_fetch(rq, form_get(&rq->query, "serial"), s, sizeof(s), &meta, &bin) == -1 ||
	    PQgetisnull(bin, 0, 0)) {
		PQclear(meta);
		PQclear(bin);
		console_refusal(rs, 404, "No such token", "No archived token has this serial.");
		return;
	}
	soap = strcmp(PQgetvalue(meta, 0, 3), "soap") == 0;
	len = (size_t)PQgetlength(bin, 0, 0);
	if ((rs->body = malloc(len > 0 ? len : 1)) == NULL) {
		PQclear(meta);
		PQclear(bin);
		console_refusal(rs, 500, "Internal error", "Out of memory.");
		return;
	}
	memcpy(rs->body, PQgetvalue(bin, 0, 0), len);
	rs->len = len;
	rs->status = 200;
	rs->type = soap ? "application/xml" : strcmp(PQgetvalue(meta, 0, 3), "rfc3161") == 0 ?
	    "application/timestamp-token" : "application/pkcs7-signature";
	snprintf(rs->filename, sizeof(rs->filename), "token-%.60s.%s", s,
	    soap ? "xml" : strcmp(PQgetvalue(meta, 0, 3), "rfc3161") == 0 ? "tst" : "p7s");
	PQclear(meta);
	PQclear(bin);
}

void
console_serve(struct console_req *rq, struct console_resp *rs)
{
	int post = strcmp(rq->method, "POST") == 0;

	if (!post && strcmp(rq->path, "/") == 0)
		page_dashboard(rq, rs);
	else if (!post && strcmp(rq->path, "/policy") == 0)
		page_policy(rq, rs);
	else if (post && strcmp(rq->path, "/filter") == 0)
		post_filter(rq, rs);
	else if (post && strcmp(rq->path, "/policy-set") == 0)
		post_policy(rq, rs);
	else if (!post && strcmp(rq->path, "/tokens") == 0)
		page_tokens(rq, rs);
	else if (!post && strcmp(rq->path, "/token") == 0)
		page_token(rq, rs);
	else if (!post && strcmp(rq->path, "/download") == 0)
		page_download(rq, rs);
	else
		console_refusal(rs, post ? 405 : 404, "Not found",
		    "No such page in the console (or not for this method).");
}
