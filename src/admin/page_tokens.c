/*
 * page_tokens.c - the issued tokens: lookup by serial, imprint or genTime range
 * (GET /admin/tokens), a token's details with its verification (GET /admin/token: verify.c or
 * xmlverify.c against the configured signers' CA certificates), and its download
 * (GET /admin/download).
 * Input: the query string's serial, imprint and times (untrusted, bounded by form.c), each
 * checked for its shape here before it reaches SQL as a parameter; the archived token
 * (written by the worker, verified like any other before anything of it is shown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "html.h"
#include "log.h"
#include "pages.h"
#include "pgbound.h"
#include "tsa_limits.h"
#include "verify.h"
#include "xmlverify.h"

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

void
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
	sb_printf(&b, "<h2>%d token%s%s</h2>", PQntuples(r), PQntuples(r) == 1 ? "" : "s",
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
	char why[256];

	*meta = *bin = NULL;
	if (serial_text(serial, s, slen) == -1)
		return -1;
	*meta = page_query(rq, "SELECT serial::text, to_char(gen_time AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD HH24:MI:SS.US') AS gen_time, service, protocol, policy_oid, hash_alg,"
	    " encode(imprint, 'hex') AS imprint, encode(nonce, 'hex') AS nonce,"
	    " host(requester) AS requester, client_identity,"
	    " to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS recorded_at"
	    " FROM issued_tokens WHERE serial = $1::numeric", 1, p);
	/* The token's bytes as they are (binary), within database_timeout like every query. */
	*bin = pgb_exec_binary(rq->db, "SELECT token FROM issued_tokens WHERE serial = $1::numeric",
	    1, p, pgb_deadline(rq->db), why, sizeof(why));
	if (*bin == NULL)
		log_msg(LOG_ERR, "reading a token: %s", why);
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

void
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
	sb_printf(&b, "\">Download the token</a> (%s, %zu bytes)</p>", strcmp(PQgetvalue(meta, 0, 3),
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

void
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
