/*
 * policy.h - services, their ordered policies, each policy's filter chain, and the options the
 * chain shapes (Nexus Timestamp Server's model of ordered filters).  The whole
 * configuration is loaded from PostgreSQL (store/config.c) into one struct tsa_config that a
 * worker swaps whole, never half-applied.
 *
 * Ownership: config_free() frees a configuration and everything in it; it accepts NULL.
 */
#ifndef TSA_POLICY_H
#define TSA_POLICY_H

#include <stddef.h>

#include "request.h"
#include "signer.h"
#include "tst.h"

/* What issued_tokens keeps beyond the index row (serial, time, policy, imprint, client). */
enum archive_mode {
	ARCHIVE_INDEX,		/* nothing more */
	ARCHIVE_TOKEN,		/* the token (the default) */
	ARCHIVE_REQUEST,	/* the token and the request */
};

struct clock_gate;

/*
 * A client certificate registered for a service (table clients), recognised by the SHA-256
 * of its whole DER: that certificate and no other, so neither a new key under the same issuer
 * and serial nor any change to it passes for the client.
 */
struct registered_client {
	char			*name;
	unsigned char		 fingerprint[32];	/* SHA-256 of the DER */
};

/* What the filter chain decides; defaults in tsa_opts_defaults(). */
struct tsa_opts {
	unsigned		 hash_accept;	/* bit i: hash_table()[i] accepted */
	int			 policy_any;	/* any requested policy OID is accepted */
	const char * const	*policy_accept;	/* other requested OIDs accepted */
	size_t			 n_policy_accept;
	const char * const	*ext_accept;	/* request extension OIDs accepted */
	size_t			 n_ext_accept;
	unsigned		 acc_seconds, acc_millis, acc_micros;
	int			 digits;
	int			 ordering;
	int			 tsa_name;	/* 0 none, 1 the signer's subject, 2 tsa_name_der */
	const unsigned char	*tsa_name_der;
	size_t			 tsa_name_len;
	int			 ess_version;
	const struct hash_alg	*ess_hash;
	int			 ess_issuer_serial;
	enum cms_certs		 certs;		/* what certReq=true includes */
	int			 signing_time;
	int			 status_text;	/* statusString in rejections */
	size_t			 serial_bytes;
	const struct clock_gate	*clock;		/* NULL: no time-quality gate */
	int			 qualified;	/* qcStatements esi4-qtstStatement-1 */
	enum archive_mode	 archive;
	const char		*policy_default;	/* TSTInfo policy instead of the row's */
	const struct hash_alg	*sig_digest;	/* the token signature's digest; NULL: the
						   signer's (SHA-1 for legacy clients) */
};

/* A filter's parameters, flattened from jsonb: arrays give one entry per element. */
struct filter_param {
	const char	*key;
	const char	*value;
};

/*
 * A run-time filter: one that reads the request or its client (ip-allow, client-auth), run per
 * request in chain order.  The option filters have no filter_def: they are compiled into
 * policy.opts at load (filters.c).
 */
struct filter_def {
	const char	*name;
	/* Checks params and builds the filter's state. 0, or -1 with err. */
	int		(*parse)(const struct filter_param *params, size_t n, void **state,
			    char *err, size_t errlen);
	/* Lets the request go on (0) or refuses it (-1, ref). */
	int		(*run)(const void *state, const struct tsa_request *req,
			    const struct tsa_client *client, struct tsa_refusal *ref);
	void		(*free)(void *state);
	/* Optional: checks the state against the policy's signer at load. 0, or -1 with err. */
	int		(*check)(void *state, const struct signer *signer, char *err,
			    size_t errlen);
};

struct filter_inst {
	const struct filter_def	*def;
	void			*state;
};

struct opt_block;

struct policy {
	long			 id;
	char			*name;
	int			 match_protocol;	/* -1: any */
	char			*match_req_policy;	/* NULL: any */
	int			 match_client_cert;	/* -1: any, 0: none, 1: verified */
	char			*match_client;		/* registered client name; NULL: any */
	char			*policy_oid;
	struct signer		*signer;
	/* The chain compiled at load: the defaults (tsa_opts_defaults(), set by whoever makes
	 * the policy), then each option filter in chain order; what it points to is in
	 * blocks.  The run-time filters in chain order; n_chain counts both kinds. */
	struct tsa_opts		 opts;
	struct opt_block	*blocks;
	struct filter_inst	 filters[TSA_MAX_FILTERS];
	size_t			 n_filters;
	size_t			 n_chain;
	/* Why it issues nothing (it can receive a protocol whose token its signer cannot
	 * make), set at load by policy_check_protocols(); NULL: usable. */
	char			*refused;
};

struct service {
	long			 id;
	char			*name;
	char			*url;		/* services.url, checked; NULL: not configured */
	struct policy		*policies;
	size_t			 n_policies;
	struct registered_client *clients;
	size_t			 n_clients;
};

struct tsa_config {
	long long	 version;		/* config_version.version it was read at */
	struct service	*services;
	size_t		 n_services;
	struct signer	*signers;
	size_t		 n_signers;
};

/* Whether the i-th policy of svc can receive a request of proto: it matches the protocol and
 * no earlier policy takes every request of it (one matching only on that protocol, or on
 * nothing). */
int	 policy_receives(const struct service *svc, size_t i, enum tsa_protocol proto);
/* Refuses (policy.refused) each policy of svc that can receive a protocol its signer cannot
 * make a token for (RSA-PSS and SOAP's XML-DSig).  0, or -1 out of memory. */
int	 policy_check_protocols(struct service *svc);

/* Adds the named filter to the end of pol's chain: an option filter is compiled into
 * pol->opts, a run-time one joins pol->filters.  0, or -1 with err and pol unchanged. */
int	 policy_add_filter(struct policy *pol, const char *name,
	    const struct filter_param *params, size_t n, char *err, size_t errlen);
/* Checks a filter's name and parameters as policy_add_filter() does. 0, or -1 with err. */
int	 filter_validate(const char *name, const struct filter_param *params, size_t n,
	    char *err, size_t errlen);
/* The filters' checks against pol->signer (a tsa-name DN must be its subject). 0, or -1 with
 * err. */
int	 policy_check_signer(struct policy *pol, char *err, size_t errlen);
/* Frees pol's chain (run-time filters and blocks) and sets pol->opts back to the defaults. */
void	 policy_filters_free(struct policy *pol);

void	 tsa_opts_defaults(struct tsa_opts *opts);
const struct service *config_service(const struct tsa_config *c, const char *name);
/* Reads the web server's certificate params into client->cert_verified and ->registered. */
void	 client_identify(const struct service *svc, struct tsa_client *client);
/* The first policy of the service whose match rules fit, or NULL. */
const struct policy *policy_select(const struct service *svc, const struct tsa_request *req,
	    const struct tsa_client *client);
/*
 * The policy's compiled options into opts, its run-time filters in chain order (the first
 * refusal wins; none when client is NULL: the signer, which never sees the client), then the
 * request checks of RFC 3161 2.4.1 and the clock gate against those options.  0 with opts
 * filled, or -1 with ref filled.
 */
int	 policy_apply(const struct policy *pol, const struct tsa_request *req,
	    const struct tsa_client *client, struct tsa_opts *opts, struct tsa_refusal *ref);
void	 config_free(struct tsa_config *c);

#endif
