/*
 * html.h - the web console's HTML (src/admin/html.c): the page layout and its stylesheet, and
 * the only ways text reaches a page: escaped (html_esc), percent-encoded into a link
 * (html_urlenc), or our own formatted text (sb_printf, strbuf.h).  Only the console's pages
 * include it.
 *
 * Ownership: everything appends to a struct sbuf the caller owns (a failed append marks it,
 * strbuf.h); html_finish() hands the page to the response (rs->body, freed by whoever called
 * console_serve).
 */
#ifndef TSA_HTML_H
#define TSA_HTML_H

#include <stddef.h>
#include <libpq-fe.h>

#include "console.h"
#include "strbuf.h"

/* Our own text (numbers, fixed words) by printf: never what a peer or the database sent;
 * over 1023 bytes fails the buffer. */
/* s escaped for HTML text and attribute values (strbuf.h's sb_esc); NULL shows as nothing. */
void	html_esc(struct sbuf *b, const char *s);
/* s percent-encoded for a query string value (unreserved bytes kept). */
void	html_urlenc(struct sbuf *b, const char *s);

/* The page's start: the stylesheet, the navigation and the administrator (rq NULL: neither,
 * for a refusal) and the title as its heading. */
void	html_head(struct sbuf *b, const struct console_req *rq, const char *title);
/* The page's end; the page becomes rs's body with status (500 and no body when b failed). */
void	html_finish(struct console_resp *rs, struct sbuf *b, int status);
/* What a part of a page shows when its query failed. */
void	html_unavailable(struct sbuf *b);

/* A result as a table, every cell cleaned (text.h) and escaped; column code_col (-1: none)
 * as <code>; a NULL result as html_unavailable(). */
void	html_table(struct sbuf *b, const PGresult *r, int code_col);

/* A hidden field of a form: name is ours, value escaped. */
void	html_hidden(struct sbuf *b, const char *name, const char *value);
/* Opens an inline form posting to /admin/filter with its CSRF token, the action and the
 * policy it changes; the caller adds its fields and closes it. */
void	html_form_open(struct sbuf *b, const struct console_req *rq, const char *action,
	    const char *service, const char *policy);
/* The <option>s of a select, the one equal to current selected. */
void	html_options(struct sbuf *b, const char *const *values, size_t n, const char *current);

#endif
