/*
 * console.h - the web administration console, tsa-admin (src/admin/): the strict parsers of
 * what a browser sends (urlencoded query strings and form bodies), the CSRF tokens, and the
 * pages.  The console keeps no state of its own: administrators, the CSRF key and everything
 * shown live in PostgreSQL, so any number of tsa-admin processes on any machines serve alike.
 *
 * Ownership: form_parse() fills a struct form that form_free() empties (it accepts a zeroed
 * one); everything else writes into buffers the caller gives.
 */
#ifndef TSA_CONSOLE_H
#define TSA_CONSOLE_H

#include <stddef.h>
#include <time.h>

/* Caps, each checked before anything grows. */
#define CONSOLE_MAX_BODY	16384	/* a form: a filter's JSON and a few names */
#define CONSOLE_MAX_QUERY	2048	/* a query string: a serial, an imprint, two times */
#define CONSOLE_MAX_FIELDS	16	/* the largest form has 7 fields */
#define CONSOLE_MAX_NAME	32	/* field names are ours: short [a-z0-9_] */
#define CONSOLE_MAX_VALUE	8192	/* a filter's parameters as JSON */
#define CONSOLE_CSRF_MAX_AGE	(8 * 3600)	/* a page's forms stay usable for a work day */
#define CONSOLE_CSRF_TEXT	96	/* "<unix time>.<64 hex>" and the NUL, with room */

struct form_field {
	char	*name;
	char	*value;		/* decoded, NUL-terminated, no NUL or control bytes inside */
};

struct form {
	struct form_field	 f[CONSOLE_MAX_FIELDS];
	size_t			 n;
};

/*
 * Parses application/x-www-form-urlencoded text p[0..len) (a query string or a POST body):
 * name=value pairs joined by '&', '+' for space, %XX escapes.  Refused, with the reason in
 * err: a name outside [a-z0-9_] or too long, a field given twice, a bad escape, a decoded
 * NUL or control byte (tab, CR and LF allowed), a value over the cap, too many fields.
 * 0 with *f filled, or -1 (*f left empty).
 */
int		 form_parse(const char *p, size_t len, struct form *f, char *err,
		    size_t errlen);
/* The field's value, or NULL when absent. */
const char	*form_get(const struct form *f, const char *name);
void		 form_free(struct form *f);

/*
 * CSRF tokens: "<t>.<hex HMAC-SHA256(key, fingerprint ':' t)>", t the issue time in seconds.
 * Bound to the administrator's certificate (its SHA-256 fingerprint, hex) and to time;
 * keyed by the secret kept in the database (table admin_secret), so every console process
 * checks what any other issued.  csrf_make: 0 or -1.  csrf_check: 0 when the token is ours,
 * for this fingerprint, issued at most CONSOLE_CSRF_MAX_AGE ago and not in the future
 * (60 s of clock skew between machines allowed); -1 with the reason.
 */
int		 csrf_make(const unsigned char *key, size_t keylen, const char *fingerprint,
		    time_t now, char *out, size_t outlen);
int		 csrf_check(const unsigned char *key, size_t keylen, const char *fingerprint,
		    const char *token, time_t now, char *err, size_t errlen);

/* ---- the pages (pages.c routes to page_*.c; html.c writes the HTML), called by main.c once
 * the administrator is known -------------------------------------------------------------- */

#include <libpq-fe.h>
#include "strbuf.h"

struct console_req {
	const char	*method;	/* GET, POST */
	const char	*path;		/* below /admin, e.g. "/", "/policy" */
	struct form	 query;		/* the query string's fields */
	struct form	 body;		/* a POST's fields */
	PGconn		*db;
	const unsigned char *key;	/* the CSRF key (admin_secret) */
	size_t		 keylen;
	/* The administrator, from the certificate and the administrators table. */
	char		 admin[129];
	char		 subject[512];
	char		 fingerprint[65];	/* SHA-256 of the certificate, hex */
	char		 csrf[CONSOLE_CSRF_TEXT];	/* a fresh token for this page's forms */
};

struct console_resp {
	int		 status;
	const char	*type;		/* Content-Type */
	char		 filename[96];	/* non-empty: Content-Disposition attachment */
	char		 location[512];	/* non-empty: a redirect (303) */
	unsigned char	*body;		/* malloc'd, the caller frees */
	size_t		 len;
};

/* Serves one request of a known administrator (CSRF already checked for a POST). */
void	console_serve(struct console_req *rq, struct console_resp *rs);
/* A whole page saying why the request was refused (403 and the like), for main.c (html.c). */
void	console_refusal(struct console_resp *rs, int status, const char *title,
	    const char *why);

#endif
