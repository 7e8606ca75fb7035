/*
 * edit.h - the one write path for configuration changes (services, policies, filters,
 * clients, signers, console administrators) that both tsactl and the web console (tsa-admin)
 * take; they only parse their input, call edit_*() and say the outcome.  A filter's name and
 * parameters checked by the worker's own code (filter_validate) after PostgreSQL has
 * flattened the JSON exactly as the worker's load does,
 * positions kept dense from 1, every change one transaction (the config_version trigger
 * notifies the workers once, at commit; a refused change leaves nothing behind), and, when an
 * actor is named, an event recording who changed what, committed in the same transaction
 * (kind config-change; admin-change for the administrators).  A change to what the workers
 * load is refused when they would refuse a policy of it (config_refused_policy).
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

/*
 * What a client or an administrator is registered by, as text parameters: read from its
 * certificate by the front end (tsactl reads a PEM file with GnuTLS).
 */
struct edit_cert {
	const char	*subject;	/* RFC 4514 */
	const char	*fingerprint;	/* SHA-256 of the DER, hex: what identifies it */
	const char	*issuer;	/* the raw issuer Name, DER in hex */
	const char	*serial;	/* INTEGER contents, hex */
	const char	*pem;		/* the certificate alone */
};

/* Names of services, policies, clients, signers, administrators: 1 to 128 printable bytes,
 * no spaces, not starting with '-'.  0, or 65 with "'name' is not <kind> name (...)". */
int	edit_name_check(const char *kind, const char *name, char *err, size_t errlen);
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

/* The service's id into sid (sid NULL: only whether it exists; the row locked FOR UPDATE
 * when lock is set, in a transaction).  0, or 1 "no service" or another status. */
int	edit_find_service(PGconn *c, const char *service, int lock, char *sid, size_t sidlen,
	    char *err, size_t errlen);
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

/*
 * Services, policies, clients, administrators and signers added and removed, each one
 * transaction; 1 when what is named exists already (add) or does not (remove).  *row is what
 * tsactl prints: service, description | service, policies, clients (the counts removed with
 * it) | service, policy, position (and filters, removed) | service, client, subject,
 * fingerprint_sha256, serial | admin, subject, fingerprint_sha256 | signer, key, scheme,
 * digest (signer on removal).
 */
int	edit_service_add(PGconn *c, const char *service, const char *description,
	    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen);
int	edit_service_remove(PGconn *c, const char *service, const struct edit_actor *actor,
	    PGresult **row, char *err, size_t errlen);
/* p: name, oid and signer required; position NULL appends. */
int	edit_policy_add(PGconn *c, const char *service, const struct edit_policy *p,
	    const char *position, const struct edit_actor *actor, PGresult **row, char *err,
	    size_t errlen);
int	edit_policy_remove(PGconn *c, const char *service, const char *policy,
	    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen);
int	edit_client_add(PGconn *c, const char *service, const char *name,
	    const struct edit_cert *cert, const struct edit_actor *actor, PGresult **row,
	    char *err, size_t errlen);
int	edit_client_remove(PGconn *c, const char *service, const char *name,
	    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen);
int	edit_admin_add(PGconn *c, const char *name, const struct edit_cert *cert,
	    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen);
int	edit_admin_remove(PGconn *c, const char *name, const struct edit_actor *actor,
	    PGresult **row, char *err, size_t errlen);
/* The signer's name, PKCS#11 URI, scheme (auto | rsa-pss) and digest (sha256 | sha384 |
 * sha512), no database: 0, or 65.  Whether the key signs and the certificate fits is the
 * front end's check (signer_load with the key opened: it needs the token). */
int	edit_signer_check(const char *name, const char *uri, const char *scheme,
	    const char *digest, char *err, size_t errlen);
/* A unit's host (conf_host_ok) and group (a name), each NULL when absent: 0, or 65. */
int	edit_unit_check(const char *host, const char *group, char *err, size_t errlen);
/* host: the server the unit is bound to (NULL: any); group: its unit group (NULL: none);
 * refused (1) when the group has a unit bound to that host already. */
int	edit_signer_add(PGconn *c, const char *name, const char *uri, const char *cert_pem,
	    const char *chain_pem, const char *scheme, const char *digest, const char *host,
	    const char *group, const struct edit_actor *actor, PGresult **row, char *err,
	    size_t errlen);
/* Removes a server's row from the fleet (schema 012) with an event server-removed; refused
 * (1) when there is none, or while it runs and is heard from.  *row: server, state,
 * version. */
int	edit_server_remove(PGconn *c, const char *host, const struct edit_actor *actor,
	    PGresult **row, char *err, size_t errlen);
/* Lists a server's token-log key (schema 013) with an event log-key; 1 when it is listed
 * already.  *row: log_key, host, algorithm. */
int	edit_logkey_add(PGconn *c, const char *host, const char *key_id, const char *algorithm,
	    const unsigned char *spki, size_t len, const struct edit_actor *actor, PGresult **row,
	    char *err, size_t errlen);
/* Retires a listed log key (tree heads signed after now are refused); 1 when there is no such
 * key in service.  *row: log_key, host, retired. */
int	edit_logkey_retire(PGconn *c, const char *key_id, const struct edit_actor *actor,
	    PGresult **row, char *err, size_t errlen);
/* Binds a unit: host a server name or "any", group a name or "none"; NULL leaves it.  *row:
 * signer, host, group.  1 when there is no such signer or the place is taken. */
int	edit_signer_set(PGconn *c, const char *name, const char *host, const char *group,
	    const struct edit_actor *actor, PGresult **row, char *err, size_t errlen);
/* Refused (1) while a policy uses the signer. */
int	edit_signer_remove(PGconn *c, const char *name, const struct edit_actor *actor,
	    PGresult **row, char *err, size_t errlen);

/* Deletes the events older than seconds (the caller's floor: a day) and records that it did
 * (kind events-pruned), one transaction.  *row: rows, events, before. */
int	edit_events_prune(PGconn *c, const char *seconds, const struct edit_actor *actor,
	    PGresult **row, char *err, size_t errlen);

#endif
