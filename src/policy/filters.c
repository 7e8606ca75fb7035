/*
 * filters.c - the filters a policy's chain may name (README, "Filters"), in two tables.
 * Parameters come from policy_filters.params (jsonb, flattened by store/config.c); an unknown
 * filter, key or value is an error at load time, never a silent skip.
 *
 * Option filters only set options (struct tsa_opts): one declarative table gives each
 * parameter's key, type, range and where it lands, and policy_add_filter() compiles them into
 * the policy's option set at load, in chain order, so a later filter of an option overrides an
 * earlier one.  None of them reads the request or refuses one: the checks against the options
 * (accepted hashes, policies and extensions, the clock gate) are policy_apply()'s.
 * Run-time filters read the request's client (ip-allow, client-auth): each keeps a filter_def
 * whose run is called per request, in chain order.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "asn1.h"
#include "cidr.h"
#include "clock.h"
#include "policy.h"
#include "text.h"

/* ---- parameter helpers --------------------------------------------------------------- */

static int
param_uint(const char *key, const char *value, unsigned min, unsigned max, unsigned *out,
    char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || *end != '\0' || errno != 0 || v < min ||
	    v > max) {
		snprintf(err, errlen, "'%s' must be a whole number from %u to %u, not '%s'", key,
		    min, max, value);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
unknown_key(const char *key, const char *known, char *err, size_t errlen)
{
	snprintf(err, errlen, "unknown parameter '%s' (known: %s)", key, known);
	return -1;
}

/* ---- the option filters ---------------------------------------------------------------- */

/*
 * What the compiled options point to (DER names, OID lists, clock gates) lives in blocks the
 * policy owns (policy.blocks), freed with it.
 */
struct opt_block {
	struct opt_block	*next;
	max_align_t		 data[];
};

static void
blocks_free(struct opt_block *b)
{
	struct opt_block *next;

	for (; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
}

#define MAX_OPT_PARAMS	4

struct compile;

enum param_type {
	PT_BOOL,	/* true or false: int */
	PT_INT,		/* a whole number in [min, max]: int */
	PT_UINT,	/* ... unsigned */
	PT_SIZE,	/* ... size_t */
	PT_MS,		/* ... milliseconds: long, in microseconds */
	PT_ENUM,	/* one of names[]: int, the name's index */
	PT_HASH,	/* a hash name that allowed() takes: const struct hash_alg * */
	PT_HASHES,	/* each a hash name: bit i of an unsigned for hash_table()[i] */
	PT_OID,		/* an OID in dotted form: const char * */
	PT_OIDS,	/* each an OID (or "any" where any is set): list and count (off_n) */
	PT_PATH,	/* an absolute path: char * */
	PT_CUSTOM,	/* parse(): what the types above cannot say */
};

struct opt_param {
	const char		*key;
	enum param_type		 type;
	size_t			 off;		/* where the value lands, in the filter's target */
	/* The value taken when the filter is named without the key; NULL: what earlier
	 * filters set stays.  Lists always start empty. */
	const char		*dflt;
	int			 group;		/* defaults taken only once one of the group is
						   given (the three parts of accuracy) */
	unsigned		 min, max;	/* numbers */
	const char * const	*names;		/* PT_ENUM: by value, NULL for none */
	size_t			 n_names;
	int			(*allowed)(const struct hash_alg *);	/* PT_HASH */
	const char		*what;		/* PT_HASH: what the value must be */
	size_t			 off_n;		/* PT_OIDS: the size_t count */
	int			 any;		/* PT_OIDS: "any" sets the int at off_any */
	size_t			 off_any;
	const char		*missing;	/* the refusal when the key is absent */
	int			(*parse)(struct compile *, const char *value, char *err,
				    size_t errlen);	/* PT_CUSTOM */
};

struct opt_filter {
	const char		*name;
	struct opt_param	 params[MAX_OPT_PARAMS];	/* up to the first NULL key */
	/* What the offsets are into; NULL: the options. */
	void			*(*target)(struct compile *);
	/* Optional: checks the filter's options once its parameters are read. */
	int			 (*finish)(const struct tsa_opts *, char *err, size_t errlen);
	/* Optional: checks the compiled options against the policy's signer at load. */
	int			 (*check)(struct tsa_opts *, const struct signer *, char *err,
				    size_t errlen);
};

/* One option filter being compiled: the options so far and what it allocated. */
struct compile {
	struct tsa_opts			 o;
	void				*base;	/* what the offsets are into: &o, or a gate */
	struct opt_block		*made;
	const struct opt_param		*first;	/* the filter's parameters */
	const struct filter_param	*params;
	size_t				 n;
	const char			**list[MAX_OPT_PARAMS];	/* PT_OIDS being filled */
};

/* A zeroed block of size bytes, kept in c->made.  NULL: out of memory. */
static void *
block_new(struct compile *c, size_t size)
{
	struct opt_block *b;

	if (size > SIZE_MAX - sizeof(*b) || (b = calloc(1, sizeof(*b) + size)) == NULL)
		return NULL;
	b->next = c->made;
	c->made = b;
	return b->data;
}

static char *
block_strdup(struct compile *c, const char *s)
{
	size_t len = strlen(s) + 1;
	char *d = block_new(c, len);

	if (d != NULL)
		memcpy(d, s, len);
	return d;
}

static void *
at(struct compile *c, size_t off)
{
	return (char *)c->base + off;
}

/* "a, b or c" of the non-NULL names. */
static void
join(char *out, size_t outlen, const char * const *names, size_t n, const char *last)
{
	size_t i, left = 0, used = 0;

	for (i = 0; i < n; i++)
		left += names[i] != NULL;
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		left--;
		used += (size_t)snprintf(out + used, used < outlen ? outlen - used : 0, "%s%s",
		    names[i], left == 0 ? "" : left == 1 ? last : ", ");
		if (used >= outlen)
			return;
	}
}

/* Sets the parameter p to the text value. 0, or -1 with err (empty: out of memory). */
static int
param_set(struct compile *c, const struct opt_param *p, const char *value, char *err,
    size_t errlen)
{
	const struct hash_alg *h, *table;
	char known[160];
	unsigned v;
	size_t i, n;

	switch (p->type) {
	case PT_BOOL:
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
			snprintf(err, errlen, "'%s' must be true or false, not '%s'", p->key,
			    value);
			return -1;
		}
		*(int *)at(c, p->off) = value[0] == 't';
		return 0;
	case PT_INT:
	case PT_UINT:
	case PT_SIZE:
	case PT_MS:
		if (param_uint(p->key, value, p->min, p->max, &v, err, errlen) == -1)
			return -1;
		if (p->type == PT_INT)
			*(int *)at(c, p->off) = (int)v;
		else if (p->type == PT_UINT)
			*(unsigned *)at(c, p->off) = v;
		else if (p->type == PT_SIZE)
			*(size_t *)at(c, p->off) = v;
		else
			*(long *)at(c, p->off) = (long)v * 1000;
		return 0;
	case PT_ENUM:
		for (i = 0; i < p->n_names; i++)
			if (p->names[i] != NULL && strcmp(p->names[i], value) == 0) {
				*(int *)at(c, p->off) = (int)i;
				return 0;
			}
		join(known, sizeof(known), p->names, p->n_names, " or ");
		snprintf(err, errlen, "'%s' must be %s, not '%s'", p->key, known, value);
		return -1;
	case PT_HASH:
		if ((h = hash_by_name(value)) == NULL || !p->allowed(h)) {
			snprintf(err, errlen, "'%s' must be %s, not '%s'", p->key, p->what, value);
			return -1;
		}
		*(const struct hash_alg **)at(c, p->off) = h;
		return 0;
	case PT_HASHES:
		table = hash_table(&n);
		if ((h = hash_by_name(value)) == NULL) {
			const char *names[16];

			for (i = 0; i < n && i < 16; i++)
				names[i] = table[i].name;
			join(known, sizeof(known), names, i, ", ");
			snprintf(err, errlen, "unknown hash algorithm '%s' (known: %s)", value,
			    known);
			return -1;
		}
		*(unsigned *)at(c, p->off) |= 1u << (h - table);
		return 0;
	case PT_OID:
		if (!tsa_oid_text_valid(value)) {
			snprintf(err, errlen, "'%s' must be an OID in dotted form", p->key);
			return -1;
		}
		if ((*(const char **)at(c, p->off) = block_strdup(c, value)) == NULL)
			return -1;
		return 0;
	case PT_OIDS:
		if (p->any && strcmp(value, "any") == 0) {
			*(int *)at(c, p->off_any) = 1;
			return 0;
		}
		if (!tsa_oid_text_valid(value)) {
			snprintf(err, errlen, "'%s' is not an OID in dotted form%s", value,
			    p->any ? " (or \"any\")" : "");
			return -1;
		}
		i = (size_t)(p - c->first);
		n = *(size_t *)at(c, p->off_n);
		if ((c->list[i][n] = block_strdup(c, value)) == NULL)
			return -1;
		*(size_t *)at(c, p->off_n) = n + 1;
		return 0;
	case PT_PATH:
		if (value[0] != '/') {
			snprintf(err, errlen, "'%s' must be an absolute path", p->key);
			return -1;
		}
		if ((*(char **)at(c, p->off) = block_strdup(c, value)) == NULL)
			return -1;
		return 0;
	case PT_CUSTOM:
		return p->parse(c, value, err, errlen);
	}
	return -1;
}

/* Sets p as naming its filter without the key does: lists empty, others their default. */
static int
param_reset(struct compile *c, const struct opt_param *p, char *err, size_t errlen)
{
	size_t i, count = 0;

	if (p->type == PT_HASHES) {
		*(unsigned *)at(c, p->off) = 0;
		return 0;
	}
	if (p->type == PT_OIDS) {
		for (i = 0; i < c->n; i++)
			count += strcmp(c->params[i].key, p->key) == 0;
		i = (size_t)(p - c->first);
		if (count > 0 && (c->list[i] = block_new(c, count * sizeof(char *))) == NULL)
			return -1;
		*(const char * const **)at(c, p->off) = c->list[i];
		*(size_t *)at(c, p->off_n) = 0;
		if (p->any)
			*(int *)at(c, p->off_any) = 0;
		return 0;
	}
	return p->dflt == NULL ? 0 : param_set(c, p, p->dflt, err, errlen);
}

/* Compiles the option filter f with its parameters into c. 0, or -1 with err. */
static int
compile(const struct opt_filter *f, struct compile *c, char *err, size_t errlen)
{
	const struct opt_param *p, *end = f->params + MAX_OPT_PARAMS;
	unsigned given = 0;
	int group_set = 0;
	size_t i;

	c->first = f->params;
	if (f->target != NULL && (c->base = f->target(c)) == NULL)
		return -1;
	for (p = f->params; p < end && p->key != NULL; p++)
		if (p->group == 0 && param_reset(c, p, err, errlen) == -1)
			return -1;
	for (i = 0; i < c->n; i++) {
		for (p = f->params; p < end && p->key != NULL; p++)
			if (strcmp(p->key, c->params[i].key) == 0)
				break;
		if (p == end || p->key == NULL) {
			char known[160];
			const char *names[MAX_OPT_PARAMS];
			size_t k;

			for (k = 0; k < MAX_OPT_PARAMS; k++)
				names[k] = f->params[k].key;
			join(known, sizeof(known), names, MAX_OPT_PARAMS, ", ");
			return unknown_key(c->params[i].key, known, err, errlen);
		}
		if (p->group != 0 && !group_set) {
			const struct opt_param *q;

			for (q = f->params; q < end && q->key != NULL; q++)
				if (q->group == p->group && param_reset(c, q, err, errlen) == -1)
					return -1;
			group_set = 1;
		}
		given |= 1u << (p - f->params);
		if (param_set(c, p, c->params[i].value, err, errlen) == -1)
			return -1;
	}
	for (p = f->params; p < end && p->key != NULL; p++)
		if (p->missing != NULL && (given & 1u << (p - f->params)) == 0) {
			snprintf(err, errlen, "%s", p->missing);
			return -1;
		}
	return f->finish == NULL ? 0 : f->finish(&c->o, err, errlen);
}

/* accuracy: every token states its accuracy (ETSI EN 319 421 7.7.2); zero states nothing. */
static int
accuracy_finish(const struct tsa_opts *o, char *err, size_t errlen)
{
	if (o->acc_seconds != 0 || o->acc_millis != 0 || o->acc_micros != 0)
		return 0;
	snprintf(err, errlen, "an accuracy of zero states nothing; leave seconds, millis and "
	    "micros out to keep the default of 1 s");
	return -1;
}

/* tsa-name's name: "subject", or a distinguished name written as text (RFC 4514), made DER
 * by GnuTLS's DN parser (set on a scratch certificate and read back raw). */
static int
tsa_name_parse(struct compile *c, const char *value, char *err, size_t errlen)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { NULL, 0 };
	const char *where = NULL;
	unsigned char *der;
	int rc = -1;

	if (strcmp(value, "subject") == 0) {
		c->o.tsa_name = 1;
		c->o.tsa_name_der = NULL;
		c->o.tsa_name_len = 0;
		return 0;
	}
	if (value[0] == '\0') {
		snprintf(err, errlen, "'name' must be \"subject\" or a distinguished name");
		return -1;
	}
	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_set_dn(crt, value, &where) < 0 ||
	    gnutls_x509_crt_get_raw_dn(crt, &d) < 0) {
		snprintf(err, errlen, "'%s' is not a distinguished name", value);
		goto out;
	}
	if ((der = block_new(c, d.size)) == NULL)
		goto out;
	memcpy(der, d.data, d.size);
	c->o.tsa_name = 2;
	c->o.tsa_name_der = der;
	c->o.tsa_name_len = d.size;
	rc = 0;
out:
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

/*
 * RFC 3161 2.4.2: the tsa name "MUST correspond to one of the subject names included in the
 * certificate that is to be used to verify the token".  A DN written in the filter must be the
 * signer's subject (compared as RFC 4514 text); the token then carries the subject's own DER.
 */
static int
tsa_name_check(struct tsa_opts *o, const struct signer *signer, char *err, size_t errlen)
{
	gnutls_datum_t mine = { (unsigned char *)(uintptr_t)o->tsa_name_der,
	    (unsigned)o->tsa_name_len };
	gnutls_datum_t theirs = { signer->subject_dn.data, (unsigned)signer->subject_dn.len };
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	int rc = -1;

	if (o->tsa_name != 2)
		return 0;
	if (gnutls_x509_rdn_get2(&mine, &a, 0) >= 0 && gnutls_x509_rdn_get2(&theirs, &b, 0) >= 0 &&
	    a.size == b.size && memcmp(a.data, b.data, a.size) == 0) {
		o->tsa_name = 1;
		rc = 0;
	} else
		snprintf(err, errlen, "RFC 3161 2.4.2: the name '%s' is not the subject of "
		    "signer %s ('%s')", a.data ? (char *)a.data : "?", signer->name,
		    b.data ? (char *)b.data : "?");
	gnutls_free(a.data);
	gnutls_free(b.data);
	return rc;
}

/* clock: a gate of its own, which the options point to. */
static void *
clock_target(struct compile *c)
{
	struct clock_gate *g = block_new(c, sizeof(*g));

	if (g != NULL)
		c->o.clock = g;
	return g;
}

static int
ess_hash_ok(const struct hash_alg *h)
{
	return h->gnutls != GNUTLS_DIG_SHA1;
}

/* What the token signature's digest may be: those XML-DSig names, but SHA-224. */
static int
sig_digest_ok(const struct hash_alg *h)
{
	return h->xmldsig_uri != NULL && h->gnutls != GNUTLS_DIG_SHA224;
}

static const char * const cert_chain_names[] = {
	[CMS_CERTS_NONE] = NULL, [CMS_CERTS_SIGNER] = "leaf", [CMS_CERTS_CHAIN] = "chain",
};
static const char * const archive_names[] = {
	[ARCHIVE_INDEX] = "index", [ARCHIVE_TOKEN] = "token", [ARCHIVE_REQUEST] = "request",
};
static const char * const leap_names[] = {
	[CLOCK_LEAP_NONE] = "none", [CLOCK_LEAP_PAUSE] = "pause", [CLOCK_LEAP_STOP] = "stop",
};

/* PT_ENUM and PT_BOOL write an int. */
_Static_assert(sizeof(enum cms_certs) == sizeof(int), "enum cms_certs is an int");
_Static_assert(sizeof(enum archive_mode) == sizeof(int), "enum archive_mode is an int");
_Static_assert(sizeof(enum clock_leap_mode) == sizeof(int), "enum clock_leap_mode is an int");

#define OPT(f)		offsetof(struct tsa_opts, f)
#define GATE(f)		offsetof(struct clock_gate, f)
#define NAMES(a)	.names = (a), .n_names = sizeof(a) / sizeof((a)[0])
#define STR(x)		STR_(x)
#define STR_(x)		#x
#define PARAM(k, t, o)	.key = (k), .type = (t), .off = (o)
#define ENABLED(f)	.params = { { PARAM("enabled", PT_BOOL, OPT(f)), .dflt = "true" } }

/*
 * The option filters: per parameter its key, type and target (offsetof), then its range or
 * names, its default when the filter is named without it, and the refusal when it must be
 * given.  The README's "Filters" section documents the same names, parameters and defaults.
 */
static const struct opt_filter opt_filters[] = {
	{ .name = "hash-algorithms", .params = {
	    { PARAM("accept", PT_HASHES, OPT(hash_accept)),
	      .missing = "'accept' must name at least one algorithm" } } },
	{ .name = "policy-oid", .params = {
	    { PARAM("default", PT_OID, OPT(policy_default)) },
	    { PARAM("accept", PT_OIDS, OPT(policy_accept)), .off_n = OPT(n_policy_accept),
	      .any = 1, .off_any = OPT(policy_any) } } },
	{ .name = "extensions", .params = {
	    { PARAM("accept", PT_OIDS, OPT(ext_accept)), .off_n = OPT(n_ext_accept) } } },
	{ .name = "accuracy", .params = {
	    { PARAM("seconds", PT_UINT, OPT(acc_seconds)), .max = 3600, .dflt = "0", .group = 1 },
	    { PARAM("millis", PT_UINT, OPT(acc_millis)), .max = 999, .dflt = "0", .group = 1 },
	    { PARAM("micros", PT_UINT, OPT(acc_micros)), .max = 999, .dflt = "0", .group = 1 },
	    { PARAM("digits", PT_INT, OPT(digits)), .max = TSA_MAX_TIME_DIGITS } },
	  .finish = accuracy_finish },
	{ .name = "ordering", ENABLED(ordering) },
	{ .name = "tsa-name", .params = {
	    { PARAM("name", PT_CUSTOM, 0), .parse = tsa_name_parse, .dflt = "subject" } },
	  .check = tsa_name_check },
	{ .name = "cert-id", .params = {
	    { PARAM("version", PT_INT, OPT(ess_version)), .min = 1, .max = 2, .dflt = "2" },
	    { PARAM("hash", PT_HASH, OPT(ess_hash)), .allowed = ess_hash_ok,
	      .what = "a SHA-2 or SHA-3 name (version 1 always uses SHA-1)", .dflt = "sha256" },
	    { PARAM("issuer_serial", PT_BOOL, OPT(ess_issuer_serial)), .dflt = "true" } } },
	{ .name = "cert-chain", .params = {
	    { PARAM("include", PT_ENUM, OPT(certs)), NAMES(cert_chain_names), .dflt = "leaf" } } },
	{ .name = "signing-time", ENABLED(signing_time) },
	{ .name = "status-text", ENABLED(status_text) },
	{ .name = "serial", .params = {
	    { PARAM("bytes", PT_SIZE, OPT(serial_bytes)), .min = TSA_SERIAL_MIN,
	      .max = TSA_SERIAL_MAX, .dflt = STR(TSA_SERIAL_MAX) } } },
	{ .name = "qualified", ENABLED(qualified) },
	{ .name = "archive", .params = {
	    { PARAM("store", PT_ENUM, OPT(archive)), NAMES(archive_names), .dflt = "token" } } },
	{ .name = "signature-digest", .params = {
	    { PARAM("digest", PT_HASH, OPT(sig_digest)), .allowed = sig_digest_ok,
	      .what = "sha1, sha256, sha384 or sha512", .missing = "'digest' is required" } } },
	{ .name = "clock", .target = clock_target, .params = {
	    { PARAM("leap", PT_ENUM, GATE(leap_mode)), NAMES(leap_names), .dflt = "pause" },
	    { PARAM("max_error_ms", PT_MS, GATE(max_error_us)), .min = 1, .max = 1000 },
	    { PARAM("status_file", PT_PATH, GATE(status_file)) } } },
};

/* ---- the run-time filters -------------------------------------------------------------- */

/* client-auth {}: a certificate the web server verified, registered for this service. */
static int
client_auth_parse(const struct filter_param *params, size_t n, void **state, char *err,
    size_t errlen)
{
	if (n > 0)
		return unknown_key(params[0].key, "none", err, errlen);
	*state = NULL;
	return 0;
}

static int
client_auth_run(const void *state, const struct tsa_request *req,
    const struct tsa_client *client, struct tsa_refusal *ref)
{
	(void)state; (void)req;
	if (!client->cert_verified) {
		tsa_refuse_http(ref, 403, TSA_FAIL_BAD_REQUEST,
		    "a verified client certificate is required",
		    "client-auth: no certificate verified by the web server");
		return -1;
	}
	if (client->registered == NULL) {
		char q[TSA_MAX_PEER_TEXT * 6 + 8];

		/* The subject is the peer's certificate's, as the web server wrote it. */
		text_quote(q, sizeof(q), client->tls_subject, TSA_MAX_PEER_TEXT);
		tsa_refuse_http(ref, 403, TSA_FAIL_BAD_REQUEST, "client not authorised for this service",
		    "client-auth: certificate of %s not registered for this service", q);
		return -1;
	}
	return 0;
}

static void
nothing_free(void *state)
{
	(void)state;
}

/* ip-allow {"allow": ["127.0.0.0/8", "::1/128", ...]} on REMOTE_ADDR. */
struct cidr_list {
	size_t		n;
	struct cidr	net[TSA_MAX_FILTER_PARAMS];
};

static int
ip_allow_parse(const struct filter_param *params, size_t n, void **state, char *err,
    size_t errlen)
{
	struct cidr_list *l;
	size_t i;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(params[i].key, "allow") != 0) {
			unknown_key(params[i].key, "allow", err, errlen);
			goto fail;
		}
		if (cidr_parse(params[i].value, &l->net[l->n]) == -1) {
			snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address or CIDR block",
			    params[i].value);
			goto fail;
		}
		l->n++;
	}
	if (l->n == 0) {
		snprintf(err, errlen, "'allow' must name at least one address or block");
		goto fail;
	}
	*state = l;
	return 0;
fail:
	free(l);
	return -1;
}

static int
ip_allow_run(const void *state, const struct tsa_request *req, const struct tsa_client *client,
    struct tsa_refusal *ref)
{
	const struct cidr_list *l = state;

	(void)req;
	if (cidr_match_text(l->net, l->n, client->remote_addr))
		return 0;
	tsa_refuse_http(ref, 403, TSA_FAIL_BAD_REQUEST, "address not allowed",
	    "ip-allow: %s is not in the allow list",
	    client->remote_addr ? client->remote_addr : "(no address)");
	return -1;
}

static const struct filter_def run_filters[] = {
	{ "client-auth",	client_auth_parse,	client_auth_run, nothing_free, NULL },
	{ "ip-allow",		ip_allow_parse,		ip_allow_run,	free, NULL },
};

/* ---- chains ------------------------------------------------------------------------------ */

int
policy_add_filter(struct policy *pol, const char *name, const struct filter_param *params,
    size_t n, char *err, size_t errlen)
{
	const struct opt_filter *of = NULL;
	const struct filter_def *def = NULL;
	struct compile c;
	struct opt_block *last;
	char why[256];
	void *state = NULL;
	size_t i;

	if (pol->n_chain == TSA_MAX_FILTERS) {
		snprintf(err, errlen, "more than %d filters", TSA_MAX_FILTERS);
		return -1;
	}
	for (i = 0; i < sizeof(opt_filters) / sizeof(opt_filters[0]) && of == NULL; i++)
		if (strcmp(opt_filters[i].name, name) == 0)
			of = &opt_filters[i];
	for (i = 0; i < sizeof(run_filters) / sizeof(run_filters[0]) && def == NULL; i++)
		if (strcmp(run_filters[i].name, name) == 0)
			def = &run_filters[i];
	if (of == NULL && def == NULL) {
		snprintf(err, errlen, "unknown filter '%s'", name);
		return -1;
	}
	if (n > TSA_MAX_FILTER_PARAMS) {
		snprintf(err, errlen, "filter %s: more than %d parameters", name,
		    TSA_MAX_FILTER_PARAMS);
		return -1;
	}
	why[0] = '\0';
	if (of != NULL) {
		memset(&c, 0, sizeof(c));
		c.o = pol->opts;
		c.base = &c.o;
		c.params = params;
		c.n = n;
		if (compile(of, &c, why, sizeof(why)) == -1) {
			blocks_free(c.made);
			goto fail;
		}
		pol->opts = c.o;
		if (c.made != NULL) {
			for (last = c.made; last->next != NULL; last = last->next)
				;
			last->next = pol->blocks;
			pol->blocks = c.made;
		}
	} else {
		if (def->parse(params, n, &state, why, sizeof(why)) == -1)
			goto fail;
		pol->filters[pol->n_filters].def = def;
		pol->filters[pol->n_filters].state = state;
		pol->n_filters++;
	}
	pol->n_chain++;
	return 0;
fail:
	snprintf(err, errlen, "filter %s: %s", name, why[0] ? why : "out of memory");
	return -1;
}

int
filter_validate(const char *name, const struct filter_param *params, size_t n, char *err,
    size_t errlen)
{
	struct policy p;
	int rc;

	memset(&p, 0, sizeof(p));
	tsa_opts_defaults(&p.opts);
	rc = policy_add_filter(&p, name, params, n, err, errlen);
	policy_filters_free(&p);
	return rc;
}

int
policy_check_signer(struct policy *pol, char *err, size_t errlen)
{
	char why[384];
	size_t i;

	for (i = 0; i < sizeof(opt_filters) / sizeof(opt_filters[0]); i++)
		if (opt_filters[i].check != NULL &&
		    opt_filters[i].check(&pol->opts, pol->signer, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "filter %s: %s", opt_filters[i].name, why);
			return -1;
		}
	for (i = 0; i < pol->n_filters; i++) {
		const struct filter_def *d = pol->filters[i].def;

		if (d->check != NULL &&
		    d->check(pol->filters[i].state, pol->signer, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "filter %s: %s", d->name, why);
			return -1;
		}
	}
	return 0;
}

void
policy_filters_free(struct policy *pol)
{
	size_t i;

	for (i = 0; i < pol->n_filters; i++)
		pol->filters[i].def->free(pol->filters[i].state);
	pol->n_filters = 0;
	pol->n_chain = 0;
	blocks_free(pol->blocks);
	pol->blocks = NULL;
	tsa_opts_defaults(&pol->opts);
}
