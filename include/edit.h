/*
 * edit.h - the one write path for configuration changes that both tsactl and the web console
 * (tsa-admin) take: a filter's name and parameters checked by the worker's own code
 * (filter_validate) after PostgreSQL has flattened the JSON exactly as the worker's load does,
 * positions kept dense from 1, every change one transaction (the config_version trigger
 * notifies the workers once, at commit; a refused change leaves nothing behind), and, when an
 * actor is named, an event recording who changed what, committed in the same transaction.
 *
 * Statuses (sysexits.h, as tsactl exits): 0 done; 1 what is named does not exist or the
 * database refused; 65 bad data (unknown filter, bad parameter, bad JSON, bad position);
 * 69 the database connection is gone.  Every non-zero status comes with one line in err.
 *
 * Ownership: *row (the row written, a PGresult) is the caller's to PQclear(), set only on
 * success.
 */
#ifndef TSA_EDIT_H
#define TSA_EDIT_H

#include <stddef.h>
#include <libpq-fe.h>

/* Who makes a change, for the event (kind "config-change"); NULL: no event. */
struct edit_actor {
	const char	*who;		/* e.g. "admin alice (CN=...; sha256 ab12...)" */
};

/*
 * A policy's fields as text, as tsactl's options and the console's form give them; NULL:
 * not given (unchanged by edit_policy_set).  For the match rules "any" clears the rule.
 */
struct edit_policy {
	const char	*name;		/* 1..128 printable bytes, no spaces */
	const char	*oid;		/* the policy OID, dotted */
	const char	*signer;	/* a signer's name */
	const char	*protocol;	/* rfc3161 | soap | authenticode | any */
	const char	*req_policy;	/* a requested policy OID | any */
	const char	*client_cert;	/* yes | no | any */
	const char	*client;	/* a client registered for the service | any */
};

/* Checks the given fields (no database): 0, or 65 with the reason. */
int	edit_policy_check(const struct edit_policy *p, char *err, size_t errlen);
/*
 * In a configuration write's transaction: its config-change event, naming the actor and the
 * change (the one place such an event is written; actor NULL: none).  0, or an exit status
 * with err.
 */
int	edit_record(PGconn *c, const struct edit_actor *actor, const char *service,
	    const char *what, char *err, size_t errlen);
/* Sets the given fields of service/policy (one transaction, the signer and client looked up
 * in it).  *row: service, policy, position, policy_oid, signer and the match rules. */
int	edit_policy_set(PGconn *c, const char *service, const char *policy,
	    const struct edit_policy *p, const struct edit_actor *actor, PGresult **row,
	    char *err, size_t errlen);

/*
 * Sets the url of service's description (services.url; wsdl.h): a URL checked by
 * wsdl_url_check(), or "none" to clear it.  *row: service, url.
 */
int	edit_service_url(PGconn *c, const char *service, const char *url,
	    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen);

/* The two ordered children: policies of a service, filters of a policy. */
enum edit_order { EDIT_POLICIES, EDIT_FILTERS };

/* The worker's verdict on a filter and its parameters (a JSON object).  0, or 65/69/1. */
int	edit_filter_check(PGconn *c, const char *name, const char *json, char *err,
	    size_t errlen);

/* The policy's id into pid (the row locked FOR UPDATE when lock is set; in a transaction). */
int	edit_find_policy(PGconn *c, const char *service, const char *policy, int lock,
	    char *pid, size_t pidlen, char *err, size_t errlen);

/* Where a new child goes (parent row locked by the caller): req (1 to last + 1, or NULL:
 * append), what follows moved down one.  0 with *at. */
int	edit_make_room(PGconn *c, enum edit_order o, const char *parent, const char *req,
	    long *at, char *err, size_t errlen);
/* After a removal at `at`: what followed moves up one. */
int	edit_close_gap(PGconn *c, enum edit_order o, const char *parent, long at, char *err,
	    size_t errlen);

/* The writes, each one transaction.  *row: position, filter, params of the row written. */
int	edit_filter_add(PGconn *c, const char *service, const char *policy, const char *filter,
	    const char *json, const char *position, const struct edit_actor *actor,
	    PGresult **row, char *err, size_t errlen);
int	edit_filter_set(PGconn *c, const char *service, const char *policy, long position,
	    const char *json, const struct edit_actor *actor, PGresult **row, char *err,
	    size_t errlen);
int	edit_filter_remove(PGconn *c, const char *service, const char *policy, long position,
	    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen);

#endif
