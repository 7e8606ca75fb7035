/*
 * pages.h - the console's pages among themselves (src/admin/page_*.c), routed by
 * console_serve (pages.c): each answers one path of one method, filling *rs.
 * Each page checks the fields it takes (rq->query, rq->body: untrusted, bounded by form.c)
 * before any reaches SQL (always as a parameter) or HTML (always through html.h).
 */
#ifndef TSA_PAGES_H
#define TSA_PAGES_H

#include <libpq-fe.h>

#include "console.h"

/* db_query (store.h) on rq's connection: its result (the caller PQclear()s), or NULL when
 * it failed (logged). */
PGresult *page_query(const struct console_req *rq, const char *sql, int n,
	    const char *const *p);

/* GET / (page_dashboard.c). */
void	page_dashboard(struct console_req *rq, struct console_resp *rs);
/* GET /policy, POST /filter, POST /policy-set (page_policy.c). */
void	page_policy(struct console_req *rq, struct console_resp *rs);
void	post_filter(struct console_req *rq, struct console_resp *rs);
void	post_policy(struct console_req *rq, struct console_resp *rs);
/* GET /tokens, /token, /download (page_tokens.c). */
void	page_tokens(struct console_req *rq, struct console_resp *rs);
void	page_token(struct console_req *rq, struct console_resp *rs);
void	page_download(struct console_req *rq, struct console_resp *rs);

#endif
