/*
 * html.c - the web console's HTML: the page layout (head, navigation, end), its stylesheet,
 * the escaping and percent-encoding every page goes through, a query result as a table, and
 * the pieces of the edit forms.  No SQL here, and no decision about what a page shows.
 * Input: text from the database and from the administrator's forms (untrusted), which reaches
 * the page only escaped (html_esc) or percent-encoded into a link (html_urlenc); a table's
 * cells are cleaned of control characters first (text.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "text.h"

/* The console's one stylesheet, inline: the pages load nothing else. */
static const char *CSS =
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}"
    "header{background:#1d3557;color:#fff;padding:10px 20px;display:flex;gap:24px;"
    "align-items:center}header a{color:#fff;text-decoration:none;font-weight:600}"
    "header .who{margin-left:auto;font-size:12px;opacity:.85}"
    "main{padding:16px 20px}h1{font-size:20px;margin:4px 0 12px}"
    "h2{font-size:16px;margin:20px 0 8px;border-bottom:1px solid #ccd;padding-bottom:4px}"
    "table{border-collapse:collapse;background:#fff;margin-bottom:8px}"
    "th,td{border:1px solid #d5d8de;padding:4px 8px;text-align:left;vertical-align:top}"
    "th{background:#e9edf3}code,pre,textarea{font:12px ui-monospace,monospace}"
    "pre{background:#fff;border:1px solid #d5d8de;padding:8px;overflow:auto}"
    ".ok{color:#17663a;font-weight:600}.bad{color:#a4161a;font-weight:600}"
    ".warn{color:#9a5b00;font-weight:600}"
    ".msg{padding:8px 12px;margin:8px 0;border-radius:4px}"
    ".msg.ok{background:#e3f4e8}.msg.bad{background:#fbe4e4}"
    "form.inline{display:inline}input,select,button{font:inherit}"
    "textarea{width:420px;height:3.2em}.bar{display:inline-block;height:10px;"
    "background:#457b9d}.bar.r{background:#e63946}";

void
html_esc(struct sbuf *b, const char *s)
{
	sb_esc(b, s != NULL ? s : "");
}

void
html_urlenc(struct sbuf *b, const char *s)
{
	char hex[4];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			sb_add(b, s, 1);
		else {
			snprintf(hex, sizeof(hex), "%%%02X", c);
			sb_add(b, hex, 3);
		}
	}
}

void
html_head(struct sbuf *b, const struct console_req *rq, const char *title)
{
	sb_str(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	html_esc(b, title);
	sb_str(b, " - TSA console</title><style>");
	sb_str(b, CSS);
	sb_str(b, "</style></head><body><header><b>TSA console</b>");
	/* The navigation only for an administrator: a refusal page shows nothing inside. */
	if (rq != NULL) {
		sb_str(b, "<a href=\"/admin/\">Dashboard</a><a href=\"/admin/tokens\">Tokens</a>"
		    "<span class=\"who\">administrator <b>");
		html_esc(b, rq->admin);
		sb_str(b, "</b> &middot; ");
		html_esc(b, rq->subject);
		sb_str(b, "</span>");
	}
	sb_str(b, "</header><main><h1>");
	html_esc(b, title);
	sb_str(b, "</h1>\n");
}

void
html_finish(struct console_resp *rs, struct sbuf *b, int status)
{
	sb_str(b, "</main></body></html>\n");
	rs->status = status;
	rs->type = "text/html; charset=utf-8";
	if (sb_done(b, &rs->body, &rs->len) == -1) {
		rs->status = 500;
		rs->type = "text/plain";
		rs->body = NULL;
		rs->len = 0;
	}
}

void
console_refusal(struct console_resp *rs, int status, const char *title, const char *why)
{
	struct sbuf b = { NULL, 0, 0, 0 };

	free(rs->body);
	memset(rs, 0, sizeof(*rs));
	html_head(&b, NULL, title);
	sb_printf(&b, "<div class=\"msg bad\">%d: ", status);
	html_esc(&b, why);
	sb_str(&b, "</div>");
	html_finish(rs, &b, status);
}

void
html_unavailable(struct sbuf *b)
{
	sb_str(b, "<p class=\"bad\">unavailable (database error)</p>");
}

void
html_table(struct sbuf *b, const PGresult *r, int code_col)
{
	char shown[2048];
	int i, j;

	if (r == NULL) {
		html_unavailable(b);
		return;
	}
	if (PQntuples(r) == 0) {
		sb_str(b, "<p>none</p>");
		return;
	}
	sb_str(b, "<table><tr>");
	for (j = 0; j < PQnfields(r); j++) {
		sb_str(b, "<th>");
		html_esc(b, PQfname(r, j));
		sb_str(b, "</th>");
	}
	sb_str(b, "</tr>\n");
	for (i = 0; i < PQntuples(r); i++) {
		sb_str(b, "<tr>");
		for (j = 0; j < PQnfields(r); j++) {
			sb_str(b, j == code_col ? "<td><code>" : "<td>");
			text_clean(shown, sizeof(shown), PQgetisnull(r, i, j) ? "" :
			    PQgetvalue(r, i, j));
			html_esc(b, shown);
			sb_str(b, j == code_col ? "</code></td>" : "</td>");
		}
		sb_str(b, "</tr>\n");
	}
	sb_str(b, "</table>\n");
}

void
html_hidden(struct sbuf *b, const char *name, const char *value)
{
	sb_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	html_esc(b, value);
	sb_str(b, "\">");
}

void
html_form_open(struct sbuf *b, const struct console_req *rq, const char *action,
    const char *service, const char *policy)
{
	sb_str(b, "<form method=\"post\" action=\"/admin/filter\" class=\"inline\">");
	html_hidden(b, "csrf", rq->csrf);
	html_hidden(b, "action", action);
	html_hidden(b, "service", service);
	html_hidden(b, "policy", policy);
}

void
html_options(struct sbuf *b, const char *const *values, size_t n, const char *current)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sb_str(b, "<option");
		if (strcmp(values[i], current) == 0)
			sb_str(b, " selected");
		sb_str(b, ">");
		html_esc(b, values[i]);
		sb_str(b, "</option>");
	}
}
