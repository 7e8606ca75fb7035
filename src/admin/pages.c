/*
 * pages.c - the web console's pages (tsa-admin), routed: the dashboard (page_dashboard.c), a
 * policy's filter chain with its edit forms (page_policy.c), token lookup, a token's details
 * with its verification, and its download (page_tokens.c); the HTML they are written with is
 * html.c's.  Here: which page answers which method and path, and the pages' queries: the
 * project's one wrapper (db_query, src/store/db.c: every value a parameter, never text in the
 * SQL), its error logged.
 * Input: the method and path main.c took from the web server (compared with fixed strings
 * only); the fields the pages take are checked by each page.
 */
#include <string.h>

#include "console.h"
#include "log.h"
#include "pages.h"
#include "store.h"

PGresult *
page_query(const struct console_req *rq, const char *sql, int n, const char *const *p)
{
	char err[1024];
	PGresult *r;
	int rc;

	if ((r = db_query(rq->db, sql, n, p, "query failed", &rc, err, sizeof(err))) == NULL)
		log_msg(LOG_ERR, "%s", err);
	return r;
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
