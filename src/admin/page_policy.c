/*
 * page_policy.c - a policy and its filter chain with the edit forms (GET /admin/policy), and
 * what those forms post: a filter set, added or removed (POST /admin/filter), the policy's
 * OID, signer and match rules (POST /admin/policy-set).
 * Input: the query string and the form body (untrusted, bounded by form.c, CSRF checked by
 * main.c): names checked here, the rest (filter parameters as JSON, OIDs, positions) checked
 * by src/store/edit.c, tsactl's own write path: the same checks, one transaction, an event
 * naming the administrator's certificate.  A refusal shows edit.c's reason, escaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"
#include "html.h"
#include "log.h"
#include "pages.h"

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
			sb_printf(&b, "<textarea name=\"params\" id=\"params-%s\">", PQgetvalue(f, i, 0));
			html_esc(&b, PQgetvalue(f, i, 2));
			sb_printf(&b, "</textarea> <button type=\"submit\" id=\"save-%s\">Save</button>"
			    "</form></td><td>", PQgetvalue(f, i, 0));
			html_form_open(&b, rq, "remove", service, policy);
			html_hidden(&b, "position", PQgetvalue(f, i, 0));
			sb_printf(&b, "<button type=\"submit\" id=\"remove-%s\">Remove</button></form>"
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

void
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
void
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
void
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
