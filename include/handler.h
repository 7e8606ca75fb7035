/*
 * handler.h - one worker's state and the request pipeline, apart from FastCGI so that tests
 * can drive it: HTTP checks, protocol detection, service and policy, filter chain, token,
 * record, answer.
 */
#ifndef TSA_HANDLER_H
#define TSA_HANDLER_H

#include <stddef.h>

#include "conf.h"
#include "link.h"
#include "refusals.h"
#include "store.h"
#include "wsdl.h"

struct worker {
	const struct tsa_conf	*conf;
	struct db		 db;
	struct config_follower	 cf;		/* the last good configuration (no keys) */
	struct signer_link	 link;		/* to the host's signing process */
	struct signer_answer	 answer;	/* its last answer (large: not on the stack) */
	struct refusal_table	 refusals;	/* repeated refusals, aggregated */
	PGconn			*logc;		/* the token log, read-only (logapi.c); NULL:
						 * not connected */
};

struct http_request {
	const char		*method;
	const char		*content_type;
	const unsigned char	*body;
	size_t			 body_len;
	int			 body_too_large;	/* past conf->max_body: answer 413 */
	const char		*query;		/* QUERY_STRING: ?wsdl, ?xsd (GET) */
	struct wsdl_origin	 origin;	/* the params naming the service's URL */
	struct tsa_client	 client;
};

/* body is malloc'd (or NULL), the caller's to free. */
struct http_response {
	int		 status;
	const char	*content_type;
	unsigned char	*body;
	size_t		 body_len;
	const char	*allow;		/* the Allow header of a 405; NULL: "GET, POST" */
	const char	*cache_control;	/* Cache-Control; NULL: none */
	const char	*vary;		/* Vary; NULL: none */
};

/* Connects to the database and loads the configuration (retried later if it is down). */
int	worker_init(struct worker *w, const struct tsa_conf *conf, char *err, size_t errlen);
void	worker_handle(struct worker *w, const struct http_request *req,
	    struct http_response *resp);
/*
 * Keeps the configuration current: reloads it whole when a notification on tsa_config
 * arrived, the connection is new, or (once a second) config_version moved on.  A configuration
 * that does not load is refused with an event and the last good one stays.  Called before
 * each request and while idle.  0 when there is a configuration to serve with.
 */
int	worker_refresh(struct worker *w);
/*
 * Writes the aggregated refusals that are due (refusals.h).  Called before each request and
 * while idle; returns the milliseconds until the next is due, or -1 when none is pending.
 */
long	worker_tick(struct worker *w);
/* Writes what refusals are pending, then closes the connection and frees the state. */
void	worker_free(struct worker *w);
/* Reason phrase for the HTTP statuses the worker uses. */
const char *http_reason(int status);

#endif
