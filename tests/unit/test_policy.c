/*
 * test_policy.c - unit tests of the filter table (src/policy/filters.c) and of policy
 * selection and application (src/policy/policy.c), on policies built here by hand.
 * Each filter's parameter checker accepts what the README's "Filters" section documents and
 * refuses unknown filters, unknown keys and bad values; policy_apply gives the documented
 * defaults, refuses with the failInfo of RFC 3161 2.4.2 in OpenSSL's order, and passes on the
 * options the chain set.  The chain is compiled at load: option filters into the policy's
 * options in chain order, the run-time ones (ip-allow, client-auth) kept and run in chain
 * order, the first refusal answering.  No database, no token.
 */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/x509.h>

#include <unistd.h>

#include "clock.h"
#include "policy.h"

#include "testlib.h"

#define OWN_OID		"1.3.6.1.4.1.4146.99.1"
#define OTHER_OID	"1.3.6.1.4.1.4146.99.2"

/* A parameter list written as "key", "value", ..., NULL. */
struct plist {
	struct filter_param	p[TSA_MAX_FILTER_PARAMS + 2];
	size_t			n;
};

static struct plist
mkparams(const char *first, ...)
{
	struct plist ps;
	const char *k;
	va_list ap;

	memset(&ps, 0, sizeof(ps));
	va_start(ap, first);
	for (k = first; k != NULL; k = va_arg(ap, const char *)) {
		ps.p[ps.n].key = k;
		ps.p[ps.n].value = va_arg(ap, const char *);
		ps.n++;
	}
	va_end(ap);
	return ps;
}

#define P(...)	mkparams(__VA_ARGS__, (const char *)NULL)
#define P0	mkparams((const char *)NULL)

/* filter_validate and policy_add_filter must accept name with ps. */
static void
ok(const char *name, struct plist ps)
{
	struct policy p;
	char err[512] = "";

	ck_assert_msg(filter_validate(name, ps.p, ps.n, err, sizeof(err)) == 0,
	    "%s refused: %s", name, err);
	memset(&p, 0, sizeof(p));
	tsa_opts_defaults(&p.opts);
	ck_assert_msg(policy_add_filter(&p, name, ps.p, ps.n, err, sizeof(err)) == 0,
	    "%s refused: %s", name, err);
	ck_assert_uint_eq(p.n_chain, 1);
	policy_filters_free(&p);
}

/* filter_validate and policy_add_filter must refuse name with ps, the error containing want,
 * and leave the policy as it was. */
static void
bad(const char *name, struct plist ps, const char *want)
{
	struct policy p;
	struct tsa_opts d;
	char err[512] = "";

	ck_assert_msg(filter_validate(name, ps.p, ps.n, err, sizeof(err)) == -1,
	    "%s accepted, expected: %s", name, want);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' does not say '%s'", err, want);
	memset(&p, 0, sizeof(p));
	tsa_opts_defaults(&p.opts);
	tsa_opts_defaults(&d);
	err[0] = '\0';
	ck_assert_int_eq(policy_add_filter(&p, name, ps.p, ps.n, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' does not say '%s'", err, want);
	/* The policy untouched. */
	ck_assert_uint_eq(p.n_chain, 0);
	ck_assert_uint_eq(p.n_filters, 0);
	ck_assert_ptr_null(p.blocks);
	ck_assert_mem_eq(&p.opts, &d, sizeof(d));
}

/* ---- parameter checkers ----------------------------------------------------------------- */

START_TEST(filters_known)
{
	static const char *const names[] = { "hash-algorithms", "policy-oid", "extensions",
	    "accuracy", "ordering", "tsa-name", "cert-id", "cert-chain", "signing-time",
	    "status-text", "serial", "qualified", "archive", "signature-digest", "clock",
	    "client-auth", "ip-allow" };
	char err[512];
	size_t i;

	/* Each name is known: without parameters it is taken or refused for its parameters. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		err[0] = '\0';
		if (filter_validate(names[i], NULL, 0, err, sizeof(err)) == 0)
			continue;
		ck_assert_msg(strstr(err, "unknown filter") == NULL, "%s: %s", names[i], err);
		ck_assert_msg(strncmp(err, "filter ", 7) == 0, "%s: %s", names[i], err);
	}
	bad("nonesuch", P0, "unknown filter 'nonesuch'");
	bad("Hash-Algorithms", P0, "unknown filter 'Hash-Algorithms'");
	bad("", P0, "unknown filter ''");
}
END_TEST

START_TEST(filters_accept_documented_params)
{
	ok("hash-algorithms", P("accept", "sha256"));
	ok("hash-algorithms", P("accept", "sha1", "accept", "sha224", "accept", "sha256",
	    "accept", "sha384", "accept", "sha512", "accept", "sha3-256", "accept", "sha3-384",
	    "accept", "sha3-512"));
	ok("policy-oid", P("accept", "1.2.3"));
	ok("policy-oid", P("accept", "any"));
	ok("policy-oid", P("accept", OTHER_OID, "accept", "any"));
	ok("policy-oid", P0);
	ok("extensions", P("accept", "1.3.6.1.5.5.7.1.3", "accept", "0.4.0.19422.1.1"));
	ok("extensions", P0);
	ok("accuracy", P("seconds", "1", "millis", "0", "micros", "0", "digits", "3"));
	ok("accuracy", P("seconds", "3600", "millis", "999", "micros", "999", "digits", "6"));
	ok("accuracy", P("seconds", "0", "millis", "500", "digits", "0"));
	ok("accuracy", P("digits", "3"));
	ok("accuracy", P0);
	ok("ordering", P("enabled", "false"));
	ok("ordering", P("enabled", "true"));
	ok("tsa-name", P("name", "subject"));
	ok("tsa-name", P("name", "CN=Test TSA,O=Example"));
	ok("tsa-name", P0);
	ok("cert-id", P("version", "2", "hash", "sha256", "issuer_serial", "true"));
	ok("cert-id", P("version", "1", "issuer_serial", "false"));
	ok("cert-id", P("hash", "sha3-512"));
	ok("cert-chain", P("include", "leaf"));
	ok("cert-chain", P("include", "chain"));
	ok("signing-time", P("enabled", "true"));
	ok("status-text", P("enabled", "false"));
	ok("serial", P("bytes", "20"));
	ok("serial", P("bytes", "8"));
	ok("serial", P0);
}
END_TEST

START_TEST(filters_refuse_unknown_keys)
{
	bad("hash-algorithms", P("accepted", "sha256"), "unknown parameter 'accepted'");
	bad("policy-oid", P("oid", "1.2.3"), "unknown parameter 'oid'");
	bad("extensions", P("accept", "1.2.3", "reject", "1.2.4"), "unknown parameter 'reject'");
	bad("accuracy", P("seconds", "1", "nanos", "5"), "unknown parameter 'nanos'");
	bad("accuracy", P("seconds", "0", "digits", "0"), "an accuracy of zero states nothing");
	bad("tsa-name", P("name", ""), "'name' must be");
	bad("ordering", P("enable", "true"), "unknown parameter 'enable'");
	bad("tsa-name", P("dn", "CN=x"), "unknown parameter 'dn'");
	bad("cert-id", P("issuerSerial", "true"), "unknown parameter 'issuerSerial'");
	bad("cert-chain", P("certs", "leaf"), "unknown parameter 'certs'");
	bad("signing-time", P("on", "true"), "unknown parameter 'on'");
	bad("status-text", P("text", "true"), "unknown parameter 'text'");
	bad("serial", P("length", "20"), "unknown parameter 'length'");
	/* The error names the filter. */
	bad("serial", P("length", "20"), "filter serial: ");
}
END_TEST

START_TEST(filters_refuse_bad_hashes)
{
	bad("hash-algorithms", P("accept", "md5"), "unknown hash algorithm 'md5'");
	bad("hash-algorithms", P("accept", "SHA256"), "unknown hash algorithm 'SHA256'");
	bad("hash-algorithms", P("accept", "sha256", "accept", "sha-512"), "'sha-512'");
	bad("hash-algorithms", P0, "'accept' must name at least one algorithm");
	bad("cert-id", P("hash", "sha1"), "'hash' must be a SHA-2 or SHA-3 name");
	bad("cert-id", P("hash", "md5"), "'hash' must be a SHA-2 or SHA-3 name");
}
END_TEST

START_TEST(filters_refuse_bad_numbers)
{
	bad("accuracy", P("seconds", "3601"), "'seconds' must be a whole number from 0 to 3600");
	bad("accuracy", P("millis", "1000"), "'millis' must be a whole number from 0 to 999");
	bad("accuracy", P("micros", "-1"), "'micros' must be a whole number from 0 to 999");
	bad("accuracy", P("digits", "7"), "'digits' must be a whole number from 0 to 6");
	bad("accuracy", P("seconds", "1.5"), "not '1.5'");
	bad("accuracy", P("seconds", ""), "'seconds' must be a whole number");
	bad("accuracy", P("seconds", " 1"), "'seconds' must be a whole number");
	bad("accuracy", P("seconds", "1 "), "'seconds' must be a whole number");
	bad("accuracy", P("seconds", "+1"), "'seconds' must be a whole number");
	bad("accuracy", P("seconds", "0x1"), "'seconds' must be a whole number");
	bad("accuracy", P("seconds", "null"), "'seconds' must be a whole number");
	bad("accuracy", P("seconds", "99999999999999999999999"), "'seconds' must be");
	bad("accuracy", P("seconds", "4294967297"), "'seconds' must be");	/* 2^32 + 1 */
	bad("serial", P("bytes", "7"), "'bytes' must be a whole number from 8 to 20");
	bad("serial", P("bytes", "21"), "'bytes' must be a whole number from 8 to 20");
	bad("cert-id", P("version", "0"), "'version' must be a whole number from 1 to 2");
	bad("cert-id", P("version", "3"), "'version' must be a whole number from 1 to 2");
}
END_TEST

START_TEST(filters_refuse_bad_booleans)
{
	static const char *const bads[] = { "yes", "no", "1", "0", "TRUE", "False", "", "null" };
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		bad("ordering", P("enabled", bads[i]), "'enabled' must be true or false");
		bad("signing-time", P("enabled", bads[i]), "must be true or false");
		bad("status-text", P("enabled", bads[i]), "must be true or false");
		bad("cert-id", P("issuer_serial", bads[i]), "'issuer_serial' must be true or false");
	}
}
END_TEST

START_TEST(filters_refuse_bad_oids)
{
	static const char *const bads[] = { "1", "1.", ".1.2", "1..2", "a.b", "1.2.3x", "1.2 ",
	    " 1.2", "1,2", "", "-1.2" };
	char longoid[TSA_MAX_OID_TEXT + 8];
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		bad("policy-oid", P("accept", bads[i]), "is not an OID in dotted form");
		bad("extensions", P("accept", bads[i]), "is not an OID in dotted form");
	}
	/* "any" is a word for requested policies only. */
	bad("extensions", P("accept", "any"), "'any' is not an OID in dotted form");
	bad("policy-oid", P("accept", "anything"), "(or \"any\")");
	/* As long as an OID may be, and one character longer. */
	memset(longoid, 0, sizeof(longoid));
	for (i = 0; i + 2 < TSA_MAX_OID_TEXT - 1; i += 2)
		memcpy(longoid + i, "1.", 2);
	longoid[i] = '1';
	ck_assert_uint_eq(strlen(longoid), TSA_MAX_OID_TEXT - 1);
	ok("policy-oid", P("accept", longoid));
	memcpy(longoid + i, "1.1", 3);
	ck_assert_uint_eq(strlen(longoid), TSA_MAX_OID_TEXT + 1);
	bad("policy-oid", P("accept", longoid), "is not an OID");
}
END_TEST

START_TEST(filters_refuse_bad_values)
{
	bad("tsa-name", P("name", "not a dn"), "'not a dn' is not a distinguished name");
	bad("tsa-name", P("name", "CN"), "is not a distinguished name");
	bad("tsa-name", P("name", "XX=abc"), "is not a distinguished name");
	bad("tsa-name", P("name", "CN=a,,O=b"), "is not a distinguished name");
	bad("tsa-name", P("name", "Subject"), "is not a distinguished name");
	bad("cert-chain", P("include", "all"), "'include' must be leaf or chain, not 'all'");
	bad("cert-chain", P("include", "none"), "must be leaf or chain");
}
END_TEST

START_TEST(filters_refuse_too_many_params)
{
	struct plist ps;
	size_t i;

	memset(&ps, 0, sizeof(ps));
	for (i = 0; i <= TSA_MAX_FILTER_PARAMS; i++) {
		ps.p[i].key = "accept";
		ps.p[i].value = "sha256";
	}
	ps.n = TSA_MAX_FILTER_PARAMS;
	ok("hash-algorithms", ps);
	ps.n = TSA_MAX_FILTER_PARAMS + 1;
	bad("hash-algorithms", ps, "more than 64 parameters");
}
END_TEST

/* ---- policy_apply ----------------------------------------------------------------------- */

static char pol_name[] = "test-policy", pol_oid[] = OWN_OID;

static void
pol_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	tsa_opts_defaults(&p->opts);
	p->id = 1;
	p->name = pol_name;
	p->match_protocol = -1;
	p->match_client_cert = -1;
	p->policy_oid = pol_oid;
}

static void
pol_add(struct policy *p, const char *name, struct plist ps)
{
	char err[512] = "";

	ck_assert_msg(policy_add_filter(p, name, ps.p, ps.n, err, sizeof(err)) == 0, "%s: %s",
	    name, err);
}

static void
pol_free(struct policy *p)
{
	policy_filters_free(p);
}

static void
req_init(struct tsa_request *r, const char *hash)
{
	memset(r, 0, sizeof(*r));
	r->protocol = TSA_PROTO_RFC3161;
	r->hash = hash_by_name(hash);
	ck_assert_ptr_nonnull(r->hash);
	snprintf(r->hash_oid, sizeof(r->hash_oid), "%s", r->hash->oid);
	r->imprint_len = r->hash->len;
}

static void
req_policy(struct tsa_request *r, const char *oid)
{
	r->has_req_policy = 1;
	snprintf(r->req_policy, sizeof(r->req_policy), "%s", oid);
}

static void
req_ext(struct tsa_request *r, const char *oid, int critical)
{
	snprintf(r->ext[r->n_ext].oid, sizeof(r->ext[r->n_ext].oid), "%s", oid);
	r->ext[r->n_ext].critical = critical;
	r->n_ext++;
}

static void
applies(const struct policy *p, const struct tsa_request *r, struct tsa_opts *o)
{
	struct tsa_refusal ref;

	memset(&ref, 0, sizeof(ref));
	ck_assert_msg(policy_apply(p, r, NULL, o, &ref) == 0, "refused (%d): %s",
	    (int)ref.fail, ref.detail);
}

static void
refuses(const struct policy *p, const struct tsa_request *r, enum tsa_fail fail,
    const char *want)
{
	struct tsa_opts o;
	struct tsa_refusal ref;

	memset(&ref, 0, sizeof(ref));
	ck_assert_msg(policy_apply(p, r, NULL, &o, &ref) == -1, "accepted, expected: %s", want);
	ck_assert_msg(ref.fail == fail, "failInfo %d, expected %d (detail '%s')", (int)ref.fail,
	    (int)fail, ref.detail);
	ck_assert_ptr_nonnull(ref.text);
	ck_assert_int_eq(ref.http_status, 0);
	ck_assert_msg(strstr(ref.detail, want) != NULL, "detail '%s' does not say '%s'",
	    ref.detail, want);
}

/* Bit i of hash_accept for the named algorithm. */
static unsigned
hbit(const char *name)
{
	size_t n;

	return 1u << (unsigned)(hash_by_name(name) - hash_table(&n));
}

START_TEST(apply_defaults)
{
	struct tsa_opts o, d;
	struct tsa_request r;
	struct policy p;
	size_t n, i;
	unsigned all = 0;

	tsa_opts_defaults(&d);
	hash_table(&n);
	for (i = 0; i < n; i++)
		all |= 1u << i;
	/* ETSI EN 319 422 profile: every digest but SHA-1, accuracy 1 s, whole seconds... */
	ck_assert_uint_eq(d.hash_accept, all & ~hbit("sha1"));
	ck_assert_int_eq(d.policy_any, 0);
	ck_assert_uint_eq(d.n_policy_accept, 0);
	ck_assert_uint_eq(d.n_ext_accept, 0);
	ck_assert_uint_eq(d.acc_seconds, 1);
	ck_assert_uint_eq(d.acc_millis, 0);
	ck_assert_uint_eq(d.acc_micros, 0);
	ck_assert_int_eq(d.digits, 0);
	ck_assert_int_eq(d.ordering, 0);
	ck_assert_int_eq(d.tsa_name, 0);
	ck_assert_ptr_null(d.tsa_name_der);
	ck_assert_int_eq(d.ess_version, 2);
	ck_assert_ptr_eq(d.ess_hash, hash_by_name("sha256"));
	ck_assert_int_eq(d.ess_issuer_serial, 1);
	ck_assert_int_eq(d.certs, CMS_CERTS_SIGNER);
	ck_assert_int_eq(d.signing_time, 0);
	ck_assert_int_eq(d.status_text, 1);
	ck_assert_uint_eq(d.serial_bytes, TSA_SERIAL_MAX);

	/* policy_apply with no filters gives exactly the defaults. */
	pol_init(&p);
	req_init(&r, "sha256");
	memset(&o, 0xa5, sizeof(o));
	applies(&p, &r, &o);
	ck_assert_mem_eq(&o, &d, sizeof(o));
}
END_TEST

START_TEST(apply_hash_acceptance)
{
	struct tsa_opts o;
	struct tsa_request r;
	struct policy p;
	size_t n, i;
	const struct hash_alg *t = hash_table(&n);

	pol_init(&p);
	/* Defaults: every SHA-2 and SHA-3, not SHA-1. */
	for (i = 0; i < n; i++) {
		req_init(&r, t[i].name);
		if (strcmp(t[i].name, "sha1") == 0)
			refuses(&p, &r, TSA_FAIL_BAD_ALG, "hash sha1 not accepted by policy "
			    "test-policy");
		else
			applies(&p, &r, &o);
	}
	/* An algorithm we do not know at all: named by its OID. */
	req_init(&r, "sha256");
	r.hash = NULL;
	snprintf(r.hash_oid, sizeof(r.hash_oid), "1.2.840.113549.2.5");
	refuses(&p, &r, TSA_FAIL_BAD_ALG, "hash 1.2.840.113549.2.5 not accepted");

	/* A chain naming sha1 and sha384: exactly those two. */
	pol_add(&p, "hash-algorithms", P("accept", "sha1", "accept", "sha384"));
	req_init(&r, "sha1");
	applies(&p, &r, &o);
	ck_assert_uint_eq(o.hash_accept, hbit("sha1") | hbit("sha384"));
	req_init(&r, "sha384");
	applies(&p, &r, &o);
	req_init(&r, "sha256");
	refuses(&p, &r, TSA_FAIL_BAD_ALG, "hash sha256 not accepted");
	req_init(&r, "sha3-384");
	refuses(&p, &r, TSA_FAIL_BAD_ALG, "hash sha3-384 not accepted");
	pol_free(&p);
}
END_TEST

START_TEST(apply_requested_policy)
{
	struct tsa_opts o;
	struct tsa_request r;
	struct policy p;

	pol_init(&p);
	req_init(&r, "sha256");
	applies(&p, &r, &o);			/* no reqPolicy */
	req_policy(&r, OWN_OID);
	applies(&p, &r, &o);			/* the policy's own */
	req_policy(&r, OTHER_OID);
	refuses(&p, &r, TSA_FAIL_UNACCEPTED_POLICY,
	    "reqPolicy " OTHER_OID " not accepted by policy test-policy");
	req_policy(&r, OWN_OID ".1");		/* a longer OID is another OID */
	refuses(&p, &r, TSA_FAIL_UNACCEPTED_POLICY, "not accepted");

	/* policy-oid accept: the listed ones too, not others. */
	pol_add(&p, "policy-oid", P("accept", OTHER_OID, "accept", "1.2.3"));
	req_policy(&r, OTHER_OID);
	applies(&p, &r, &o);
	ck_assert_int_eq(o.policy_any, 0);
	ck_assert_uint_eq(o.n_policy_accept, 2);
	ck_assert_str_eq(o.policy_accept[0], OTHER_OID);
	ck_assert_str_eq(o.policy_accept[1], "1.2.3");
	req_policy(&r, "1.2.3");
	applies(&p, &r, &o);
	req_policy(&r, OWN_OID);
	applies(&p, &r, &o);
	req_policy(&r, "1.2.4");
	refuses(&p, &r, TSA_FAIL_UNACCEPTED_POLICY, "reqPolicy 1.2.4 not accepted");
	pol_free(&p);

	/* policy-oid any: every requested policy. */
	pol_add(&p, "policy-oid", P("accept", "any"));
	req_policy(&r, "1.2.4");
	applies(&p, &r, &o);
	ck_assert_int_eq(o.policy_any, 1);
	pol_free(&p);
}
END_TEST

START_TEST(apply_extensions)
{
	struct tsa_opts o;
	struct tsa_request r;
	struct policy p;

	pol_init(&p);
	req_init(&r, "sha256");
	req_ext(&r, "1.2.3.1", 0);
	refuses(&p, &r, TSA_FAIL_UNACCEPTED_EXTENSION,
	    "extension 1.2.3.1 not accepted by policy test-policy");
	pol_add(&p, "extensions", P("accept", "1.2.3.1"));
	applies(&p, &r, &o);
	ck_assert_uint_eq(o.n_ext_accept, 1);
	ck_assert_str_eq(o.ext_accept[0], "1.2.3.1");
	/* Critical or not, an extension not listed is refused; the first one not listed named. */
	req_ext(&r, "1.2.3.2", 1);
	req_ext(&r, "1.2.3.3", 0);
	refuses(&p, &r, TSA_FAIL_UNACCEPTED_EXTENSION, "extension 1.2.3.2 not accepted");
	pol_free(&p);
}
END_TEST

START_TEST(apply_check_order)
{
	struct tsa_request r;
	struct policy p;

	/* OpenSSL's order: badAlg, then unacceptedPolicy, then unacceptedExtension. */
	pol_init(&p);
	req_init(&r, "sha1");
	req_policy(&r, OTHER_OID);
	req_ext(&r, "1.2.3.1", 1);
	refuses(&p, &r, TSA_FAIL_BAD_ALG, "hash sha1");
	req_init(&r, "sha256");
	req_policy(&r, OTHER_OID);
	req_ext(&r, "1.2.3.1", 1);
	refuses(&p, &r, TSA_FAIL_UNACCEPTED_POLICY, "reqPolicy");
}
END_TEST

/* The DER Name GnuTLS writes for "CN=Test TSA,O=Example" reads back as that text. */
static void
check_dn(const unsigned char *der, size_t len, const char *want)
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)der, (unsigned)len }, out = { 0 };
	gnutls_x509_dn_t dn;

	ck_assert_int_eq(gnutls_x509_dn_init(&dn), 0);
	ck_assert_int_eq(gnutls_x509_dn_import(dn, &in), 0);
	ck_assert_int_eq(gnutls_x509_dn_get_str2(dn, &out, 0), 0);
	ck_assert_str_eq((const char *)out.data, want);
	gnutls_free(out.data);
	gnutls_x509_dn_deinit(dn);
}

START_TEST(apply_options)
{
	/* Name { RDN { CN PrintableString "Test TSA" } } */
	static const unsigned char cn_der[] = { 0x30, 0x13, 0x31, 0x11, 0x30, 0x0f, 0x06, 0x03,
	    0x55, 0x04, 0x03, 0x13, 0x08, 'T', 'e', 's', 't', ' ', 'T', 'S', 'A' };
	struct tsa_opts o, d;
	struct tsa_request r;
	struct policy p;

	pol_init(&p);
	req_init(&r, "sha256");
	pol_add(&p, "accuracy", P("seconds", "0", "millis", "500", "micros", "250", "digits", "3"));
	pol_add(&p, "ordering", P("enabled", "true"));
	pol_add(&p, "tsa-name", P("name", "subject"));
	pol_add(&p, "cert-id", P("version", "1"));
	pol_add(&p, "cert-chain", P("include", "chain"));
	pol_add(&p, "signing-time", P("enabled", "true"));
	pol_add(&p, "status-text", P("enabled", "false"));
	pol_add(&p, "serial", P("bytes", "8"));
	applies(&p, &r, &o);
	ck_assert_uint_eq(o.acc_seconds, 0);
	ck_assert_uint_eq(o.acc_millis, 500);
	ck_assert_uint_eq(o.acc_micros, 250);
	ck_assert_int_eq(o.digits, 3);
	ck_assert_int_eq(o.ordering, 1);
	ck_assert_int_eq(o.tsa_name, 1);
	ck_assert_ptr_null(o.tsa_name_der);
	ck_assert_int_eq(o.ess_version, 1);
	ck_assert_int_eq(o.ess_issuer_serial, 1);
	ck_assert_int_eq(o.certs, CMS_CERTS_CHAIN);
	ck_assert_int_eq(o.signing_time, 1);
	ck_assert_int_eq(o.status_text, 0);
	ck_assert_uint_eq(o.serial_bytes, 8);
	/* What no filter touched keeps its default. */
	tsa_opts_defaults(&d);
	ck_assert_uint_eq(o.hash_accept, d.hash_accept);
	ck_assert_ptr_eq(o.ess_hash, d.ess_hash);
	pol_free(&p);

	/* The other values of each. */
	pol_add(&p, "accuracy", P("seconds", "2"));
	pol_add(&p, "ordering", P("enabled", "false"));
	pol_add(&p, "tsa-name", P("name", "CN=Test TSA"));
	pol_add(&p, "cert-id", P("hash", "sha384", "issuer_serial", "false"));
	pol_add(&p, "cert-chain", P("include", "leaf"));
	pol_add(&p, "signing-time", P("enabled", "false"));
	pol_add(&p, "status-text", P("enabled", "true"));
	pol_add(&p, "serial", P("bytes", "20"));
	applies(&p, &r, &o);
	ck_assert_uint_eq(o.acc_seconds, 2);
	ck_assert_uint_eq(o.acc_millis, 0);
	ck_assert_uint_eq(o.acc_micros, 0);
	ck_assert_int_eq(o.digits, 0);
	ck_assert_int_eq(o.ordering, 0);
	ck_assert_int_eq(o.tsa_name, 2);
	ck_assert_uint_eq(o.tsa_name_len, sizeof(cn_der));
	ck_assert_mem_eq(o.tsa_name_der, cn_der, sizeof(cn_der));
	ck_assert_int_eq(o.ess_version, 2);
	ck_assert_ptr_eq(o.ess_hash, hash_by_name("sha384"));
	ck_assert_int_eq(o.ess_issuer_serial, 0);
	ck_assert_int_eq(o.certs, CMS_CERTS_SIGNER);
	ck_assert_int_eq(o.signing_time, 0);
	ck_assert_int_eq(o.status_text, 1);
	ck_assert_uint_eq(o.serial_bytes, 20);
	pol_free(&p);

	/* A two-RDN name, in DER order (RFC 4514 writes the last RDN first). */
	pol_add(&p, "tsa-name", P("name", "CN=Test TSA,O=Example"));
	applies(&p, &r, &o);
	ck_assert_int_eq(o.tsa_name, 2);
	check_dn(o.tsa_name_der, o.tsa_name_len, "CN=Test TSA,O=Example");
	pol_free(&p);

	/* Filters run in order: the last one of a kind wins. */
	pol_add(&p, "serial", P("bytes", "12"));
	pol_add(&p, "serial", P("bytes", "16"));
	pol_add(&p, "status-text", P0);		/* no parameters: enabled */
	applies(&p, &r, &o);
	ck_assert_uint_eq(o.serial_bytes, 16);
	ck_assert_int_eq(o.status_text, 1);
	pol_free(&p);
}
END_TEST

/* ---- the filters of issue 3: parameters ------------------------------------------------- */

START_TEST(new_filters_params)
{
	ok("qualified", P("enabled", "true"));
	ok("archive", P("store", "index"));
	ok("archive", P("store", "request"));
	ok("clock", P0);
	ok("clock", P("leap", "stop", "max_error_ms", "100", "status_file", "/tmp/x"));
	ok("client-auth", P0);
	ok("ip-allow", P("allow", "127.0.0.0/8", "allow", "::1/128", "allow", "192.0.2.7"));
	ok("policy-oid", P("default", OWN_OID, "accept", "any"));
	bad("archive", P("store", "all"), "'store' must be index, token or request");
	bad("clock", P("leap", "smear"), "'leap' must be none, pause or stop");
	bad("clock", P("max_error_ms", "0"), "'max_error_ms' must be");
	bad("clock", P("status_file", "relative"), "absolute path");
	bad("clock", P("source", "gps"), "unknown parameter 'source'");
	bad("client-auth", P("require", "true"), "unknown parameter 'require'");
	bad("ip-allow", P0, "at least one");
	bad("ip-allow", P("allow", "10.0.0.0/33"), "not an IPv4 or IPv6");
	bad("ip-allow", P("allow", "::1/129"), "not an IPv4 or IPv6");
	bad("ip-allow", P("allow", "10.0.0.0/"), "not an IPv4 or IPv6");
	bad("ip-allow", P("allow", "example.org"), "not an IPv4 or IPv6");
	bad("policy-oid", P("default", "1.x"), "'default' must be an OID");
}
END_TEST

/* Runs the policy with a client; returns policy_apply's result, refusal in *ref. */
static int
apply_with(const struct policy *p, const struct tsa_client *c, struct tsa_opts *o,
    struct tsa_refusal *ref)
{
	struct tsa_request r;

	req_init(&r, "sha256");
	memset(ref, 0, sizeof(*ref));
	return policy_apply(p, &r, c, o, ref);
}

START_TEST(apply_ip_allow)
{
	static const struct {
		const char *addr;
		int ok;
	} cases[] = {
		{ "10.1.2.3", 1 }, { "10.127.255.255", 1 }, { "10.128.0.0", 0 },
		{ "192.0.2.7", 1 }, { "192.0.2.8", 0 }, { "::ffff:10.0.0.1", 1 },
		{ "2001:db8::1", 1 }, { "2001:db9::1", 0 }, { "::1", 0 }, { "garbage", 0 },
		{ NULL, 0 },
	};
	struct policy p;
	struct tsa_opts o;
	struct tsa_refusal ref;
	size_t i;

	pol_init(&p);
	pol_add(&p, "ip-allow", P("allow", "10.0.0.0/9", "allow", "192.0.2.7",
	    "allow", "2001:db8::/32"));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tsa_client c = { .remote_addr = cases[i].addr };
		int rc = apply_with(&p, &c, &o, &ref);

		ck_assert_msg(rc == (cases[i].ok ? 0 : -1), "%s", cases[i].addr ? cases[i].addr :
		    "(none)");
		if (rc == -1)
			ck_assert_int_eq(ref.http_status, 403);
	}
	pol_free(&p);
}
END_TEST

START_TEST(apply_client_auth)
{
	struct policy p;
	struct tsa_opts o;
	struct tsa_refusal ref;
	struct tsa_client c = { .remote_addr = "127.0.0.1" };

	pol_init(&p);
	pol_add(&p, "client-auth", P0);
	ck_assert_int_eq(apply_with(&p, &c, &o, &ref), -1);
	ck_assert_int_eq(ref.http_status, 403);
	ck_assert_ptr_nonnull(strstr(ref.detail, "no certificate"));
	c.cert_verified = 1;
	ck_assert_int_eq(apply_with(&p, &c, &o, &ref), -1);
	ck_assert_int_eq(ref.http_status, 403);
	ck_assert_ptr_nonnull(strstr(ref.detail, "not registered"));
	c.registered = "alice";
	ck_assert_int_eq(apply_with(&p, &c, &o, &ref), 0);
	pol_free(&p);
}
END_TEST

static char clock_file[64];

static void
clock_write(const char *text)
{
	FILE *f = fopen(clock_file, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(apply_clock)
{
	struct policy pause, stop, tight;
	struct tsa_opts o;
	struct tsa_refusal ref;
	struct tsa_client c = { .remote_addr = "127.0.0.1" };
	const char *kind;
	char detail[256];
	int fd;

	snprintf(clock_file, sizeof(clock_file), "/tmp/tsa-test-clock-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(clock_file), 0);
	close(fd);
	pol_init(&pause);
	pol_add(&pause, "clock", P("leap", "pause", "status_file", clock_file));
	pol_init(&stop);
	pol_add(&stop, "clock", P("leap", "stop", "status_file", clock_file));
	pol_init(&tight);
	pol_add(&tight, "accuracy", P("millis", "10"));
	pol_add(&tight, "clock", P("status_file", clock_file));

	clock_write("unsync=0\nesterror_us=500\nmaxerror_us=900\nleap=none\n");
	ck_assert_int_eq(apply_with(&pause, &c, &o, &ref), 0);
	ck_assert_int_eq(apply_with(&tight, &c, &o, &ref), 0);
	(void)clock_take_event(&kind, detail, sizeof(detail));
	/* Unsynchronised: timeNotAvailable, and one loss event. */
	clock_write("unsync=1\nesterror_us=500\nmaxerror_us=900\n");
	ck_assert_int_eq(apply_with(&pause, &c, &o, &ref), -1);
	ck_assert_int_eq(ref.fail, TSA_FAIL_TIME_NOT_AVAILABLE);
	ck_assert_int_eq(clock_take_event(&kind, detail, sizeof(detail)), 1);
	ck_assert_str_eq(kind, "clock-sync-lost");
	ck_assert_int_eq(apply_with(&pause, &c, &o, &ref), -1);
	ck_assert_int_eq(clock_take_event(&kind, detail, sizeof(detail)), 0);
	/* Error beyond the stated accuracy (10 ms) but within 1 s. */
	clock_write("unsync=0\nesterror_us=20000\nmaxerror_us=20000\n");
	ck_assert_int_eq(apply_with(&tight, &c, &o, &ref), -1);
	ck_assert_int_eq(ref.fail, TSA_FAIL_TIME_NOT_AVAILABLE);
	ck_assert_int_eq(apply_with(&pause, &c, &o, &ref), 0);
	ck_assert_int_eq(clock_take_event(&kind, detail, sizeof(detail)), 1);
	ck_assert_str_eq(kind, "clock-sync-recovered");
	/* Leap second: pause refuses within 2 s of midnight, stop within 60 s. */
	clock_write("unsync=0\nleap=insert\nseconds_to_midnight=1\n");
	ck_assert_int_eq(apply_with(&pause, &c, &o, &ref), -1);
	ck_assert_ptr_nonnull(strstr(ref.detail, "leap second"));
	clock_write("unsync=0\nleap=delete\nseconds_to_midnight=30\n");
	ck_assert_int_eq(apply_with(&pause, &c, &o, &ref), 0);
	ck_assert_int_eq(apply_with(&stop, &c, &o, &ref), -1);
	clock_write("unsync=0\nleap=insert\nseconds_to_midnight=86399\n");
	ck_assert_int_eq(apply_with(&pause, &c, &o, &ref), -1);
	clock_write("unsync=0\nleap=none\nseconds_to_midnight=1\n");
	ck_assert_int_eq(apply_with(&stop, &c, &o, &ref), 0);
	/* A malformed or missing status is no time source. */
	clock_write("unsync=maybe\n");
	ck_assert_int_eq(apply_with(&pause, &c, &o, &ref), -1);
	clock_write("leap=sometimes\n");
	ck_assert_int_eq(apply_with(&pause, &c, &o, &ref), -1);
	unlink(clock_file);
	ck_assert_int_eq(apply_with(&pause, &c, &o, &ref), -1);
	ck_assert_int_eq(ref.fail, TSA_FAIL_TIME_NOT_AVAILABLE);
	pol_free(&pause);
	pol_free(&stop);
	pol_free(&tight);
}
END_TEST

START_TEST(apply_issue3_options)
{
	struct policy p;
	struct tsa_opts o;
	struct tsa_request r;

	pol_init(&p);
	req_init(&r, "sha256");
	applies(&p, &r, &o);
	ck_assert_int_eq(o.archive, ARCHIVE_TOKEN);
	ck_assert_int_eq(o.qualified, 0);
	ck_assert_ptr_null(o.policy_default);
	ck_assert_ptr_null(o.clock);
	pol_add(&p, "qualified", P("enabled", "true"));
	pol_add(&p, "archive", P("store", "request"));
	pol_add(&p, "policy-oid", P("default", OTHER_OID));
	applies(&p, &r, &o);
	ck_assert_int_eq(o.archive, ARCHIVE_REQUEST);
	ck_assert_int_eq(o.qualified, 1);
	ck_assert_str_eq(o.policy_default, OTHER_OID);
	pol_free(&p);
}
END_TEST

/* ---- the chain compiled at load ----------------------------------------------------------- */

START_TEST(chain_compiled_at_load)
{
	struct policy p;
	struct tsa_opts o, before;
	struct tsa_request r;
	struct tsa_client c = { .remote_addr = "127.0.0.1", .cert_verified = 1,
	    .registered = "alice" };
	struct tsa_refusal ref;

	/* Option filters become the policy's options; only ip-allow and client-auth are run. */
	pol_init(&p);
	pol_add(&p, "hash-algorithms", P("accept", "sha384"));
	pol_add(&p, "ip-allow", P("allow", "127.0.0.0/8"));
	pol_add(&p, "accuracy", P("millis", "500", "digits", "3"));
	pol_add(&p, "client-auth", P0);
	pol_add(&p, "cert-chain", P("include", "chain"));
	ck_assert_uint_eq(p.n_chain, 5);
	ck_assert_uint_eq(p.n_filters, 2);
	ck_assert_str_eq(p.filters[0].def->name, "ip-allow");
	ck_assert_str_eq(p.filters[1].def->name, "client-auth");
	ck_assert_uint_eq(p.opts.hash_accept, hbit("sha384"));
	ck_assert_uint_eq(p.opts.acc_seconds, 0);
	ck_assert_uint_eq(p.opts.acc_millis, 500);
	ck_assert_int_eq(p.opts.digits, 3);
	ck_assert_int_eq(p.opts.certs, CMS_CERTS_CHAIN);
	/* A request gets a copy: the same options, the policy's untouched. */
	before = p.opts;
	req_init(&r, "sha384");
	memset(&ref, 0, sizeof(ref));
	ck_assert_int_eq(policy_apply(&p, &r, &c, &o, &ref), 0);
	ck_assert_mem_eq(&o, &p.opts, sizeof(o));
	ck_assert_mem_eq(&p.opts, &before, sizeof(before));
	pol_free(&p);
	ck_assert_uint_eq(p.n_chain, 0);
	ck_assert_ptr_null(p.blocks);
}
END_TEST

START_TEST(chain_later_overrides)
{
	const struct clock_gate *first;
	struct policy p;

	/* A filter sets what it names; a later one of the same option overrides it. */
	pol_init(&p);
	pol_add(&p, "accuracy", P("millis", "500"));
	pol_add(&p, "accuracy", P("digits", "3"));		/* the accuracy stays */
	ck_assert_uint_eq(p.opts.acc_seconds, 0);
	ck_assert_uint_eq(p.opts.acc_millis, 500);
	ck_assert_int_eq(p.opts.digits, 3);
	pol_add(&p, "accuracy", P("seconds", "2"));		/* all three parts, not digits */
	ck_assert_uint_eq(p.opts.acc_seconds, 2);
	ck_assert_uint_eq(p.opts.acc_millis, 0);
	ck_assert_int_eq(p.opts.digits, 3);
	/* Naming a filter again sets its defaults for what it leaves out. */
	pol_add(&p, "cert-id", P("version", "1", "issuer_serial", "false"));
	pol_add(&p, "cert-id", P("hash", "sha384"));
	ck_assert_int_eq(p.opts.ess_version, 2);
	ck_assert_int_eq(p.opts.ess_issuer_serial, 1);
	ck_assert_ptr_eq(p.opts.ess_hash, hash_by_name("sha384"));
	/* Lists are replaced, policy-oid's default kept unless named. */
	pol_add(&p, "policy-oid", P("default", OTHER_OID, "accept", "any"));
	pol_add(&p, "policy-oid", P("accept", "1.2.3", "accept", "1.2.4"));
	ck_assert_str_eq(p.opts.policy_default, OTHER_OID);
	ck_assert_int_eq(p.opts.policy_any, 0);
	ck_assert_uint_eq(p.opts.n_policy_accept, 2);
	ck_assert_str_eq(p.opts.policy_accept[1], "1.2.4");
	pol_add(&p, "extensions", P("accept", "1.2.5"));
	pol_add(&p, "extensions", P0);
	ck_assert_uint_eq(p.opts.n_ext_accept, 0);
	pol_add(&p, "hash-algorithms", P("accept", "sha1"));
	pol_add(&p, "hash-algorithms", P("accept", "sha512"));
	ck_assert_uint_eq(p.opts.hash_accept, hbit("sha512"));
	/* A second clock filter is a gate of its own, with its own defaults. */
	pol_add(&p, "clock", P("leap", "stop", "max_error_ms", "5", "status_file", "/x"));
	first = p.opts.clock;
	ck_assert_int_eq(first->leap_mode, CLOCK_LEAP_STOP);
	ck_assert_int_eq(first->max_error_us, 5000);
	ck_assert_str_eq(first->status_file, "/x");
	pol_add(&p, "clock", P0);
	ck_assert_ptr_ne(p.opts.clock, first);
	ck_assert_int_eq(p.opts.clock->leap_mode, CLOCK_LEAP_PAUSE);
	ck_assert_int_eq(p.opts.clock->max_error_us, 0);
	ck_assert_ptr_null(p.opts.clock->status_file);
	/* A tsa-name DN, then "subject". */
	pol_add(&p, "tsa-name", P("name", "CN=x"));
	ck_assert_int_eq(p.opts.tsa_name, 2);
	pol_add(&p, "tsa-name", P0);
	ck_assert_int_eq(p.opts.tsa_name, 1);
	ck_assert_ptr_null(p.opts.tsa_name_der);
	pol_free(&p);
}
END_TEST

/* The first refusing filter in chain order wins; the option checks come after all of them,
 * wherever the option filters stand. */
START_TEST(chain_refusal_order)
{
	struct policy a, b;
	struct tsa_opts o;
	struct tsa_refusal ref;
	struct tsa_client c = { .remote_addr = "192.0.2.1" };

	pol_init(&a);
	pol_add(&a, "hash-algorithms", P("accept", "sha384"));
	pol_add(&a, "ip-allow", P("allow", "10.0.0.0/8"));
	pol_init(&b);
	pol_add(&b, "ip-allow", P("allow", "10.0.0.0/8"));
	pol_add(&b, "hash-algorithms", P("accept", "sha384"));
	ck_assert_int_eq(apply_with(&a, &c, &o, &ref), -1);
	ck_assert_int_eq(ref.http_status, 403);
	ck_assert_ptr_nonnull(strstr(ref.detail, "ip-allow"));
	ck_assert_int_eq(apply_with(&b, &c, &o, &ref), -1);
	ck_assert_int_eq(ref.http_status, 403);
	ck_assert_ptr_nonnull(strstr(ref.detail, "ip-allow"));
	/* Allowed: the hash check refuses (sha256 not accepted). */
	c.remote_addr = "10.0.0.1";
	ck_assert_int_eq(apply_with(&a, &c, &o, &ref), -1);
	ck_assert_int_eq(ref.fail, TSA_FAIL_BAD_ALG);
	pol_free(&a);
	pol_free(&b);

	/* Two run-time filters: the earlier one's refusal. */
	c.remote_addr = "192.0.2.1";
	pol_add(&a, "ip-allow", P("allow", "10.0.0.0/8"));
	pol_add(&a, "client-auth", P0);
	pol_add(&b, "client-auth", P0);
	pol_add(&b, "ip-allow", P("allow", "10.0.0.0/8"));
	ck_assert_int_eq(apply_with(&a, &c, &o, &ref), -1);
	ck_assert_ptr_nonnull(strstr(ref.detail, "ip-allow"));
	ck_assert_int_eq(apply_with(&b, &c, &o, &ref), -1);
	ck_assert_ptr_nonnull(strstr(ref.detail, "client-auth"));
	pol_free(&a);
	pol_free(&b);
}
END_TEST

/* ---- policy_select, config_service -------------------------------------------------------- */

START_TEST(select_by_protocol_and_policy)
{
	char n0[] = "soap-only", n1[] = "rfc3161-other", n2[] = "any", oid[] = OTHER_OID;
	struct policy pols[3];
	struct service svc = { .id = 1, .name = NULL, .policies = pols, .n_policies = 3 };
	struct tsa_client anon = { .service = NULL };
	struct tsa_request r;

	pol_init(&pols[0]);
	pols[0].name = n0;
	pols[0].match_protocol = TSA_PROTO_SOAP;
	pol_init(&pols[1]);
	pols[1].name = n1;
	pols[1].match_protocol = TSA_PROTO_RFC3161;
	pols[1].match_req_policy = oid;
	pol_init(&pols[2]);
	pols[2].name = n2;

	req_init(&r, "sha256");
	ck_assert_ptr_eq(policy_select(&svc, &r, &anon), &pols[2]);
	req_policy(&r, OTHER_OID);
	ck_assert_ptr_eq(policy_select(&svc, &r, &anon), &pols[1]);
	req_policy(&r, OWN_OID);
	ck_assert_ptr_eq(policy_select(&svc, &r, &anon), &pols[2]);
	r.protocol = TSA_PROTO_SOAP;
	ck_assert_ptr_eq(policy_select(&svc, &r, &anon), &pols[0]);
	r.protocol = TSA_PROTO_AUTHENTICODE;
	r.has_req_policy = 0;
	ck_assert_ptr_eq(policy_select(&svc, &r, &anon), &pols[2]);
	/* The first that fits wins: with "any" first, it takes everything. */
	svc.policies = &pols[2];
	svc.n_policies = 1;
	ck_assert_ptr_eq(policy_select(&svc, &r, &anon), &pols[2]);
	/* Nothing fits: NULL. */
	svc.policies = pols;
	svc.n_policies = 2;
	ck_assert_ptr_null(policy_select(&svc, &r, &anon));
	r.protocol = TSA_PROTO_RFC3161;
	ck_assert_ptr_null(policy_select(&svc, &r, &anon));		/* no reqPolicy */
	svc.n_policies = 0;
	ck_assert_ptr_null(policy_select(&svc, &r, &anon));
}
END_TEST

START_TEST(select_by_client)
{
	char n0[] = "registered-alice", n1[] = "any-verified", n2[] = "no-cert", alice[] = "alice";
	struct policy pols[3];
	struct service svc = { .id = 1, .name = NULL, .policies = pols, .n_policies = 3 };
	struct tsa_client c = { .service = NULL };
	struct tsa_request r;

	pol_init(&pols[0]);
	pols[0].name = n0;
	pols[0].match_client = alice;
	pol_init(&pols[1]);
	pols[1].name = n1;
	pols[1].match_client_cert = 1;
	pol_init(&pols[2]);
	pols[2].name = n2;
	pols[2].match_client_cert = 0;
	req_init(&r, "sha256");
	ck_assert_ptr_eq(policy_select(&svc, &r, &c), &pols[2]);
	c.cert_verified = 1;
	ck_assert_ptr_eq(policy_select(&svc, &r, &c), &pols[1]);
	c.registered = "bob";
	ck_assert_ptr_eq(policy_select(&svc, &r, &c), &pols[1]);
	c.registered = "alice";
	ck_assert_ptr_eq(policy_select(&svc, &r, &c), &pols[0]);
}
END_TEST

/*
 * A certificate made here with GnuTLS: EC P-256 key *key (made when NULL), the given serial
 * and CN, signed by ca/ca_key (self-signed when ca is NULL).  The caller deinits both.
 */
static gnutls_x509_crt_t
make_cert(gnutls_x509_privkey_t *key, const unsigned char *serial, size_t serial_len,
    const char *cn, gnutls_x509_crt_t ca, gnutls_x509_privkey_t ca_key)
{
	gnutls_x509_crt_t crt;
	time_t now = time(NULL);

	if (*key == NULL) {
		ck_assert_int_eq(gnutls_x509_privkey_init(key), 0);
		ck_assert_int_eq(gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
		    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	}
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, serial, serial_len), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
	    (unsigned)strlen(cn)), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, now - 60), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, now + 86400), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(crt, *key), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_basic_constraints(crt, ca == NULL, -1), 0);
	ck_assert_int_eq(gnutls_x509_crt_sign2(crt, ca != NULL ? ca : crt,
	    ca_key != NULL ? ca_key : *key, GNUTLS_DIG_SHA256, 0), 0);
	return crt;
}

/* The certificate as the web server passes it: PEM, into a malloc'd string. */
static char *
cert_pem(gnutls_x509_crt_t crt)
{
	gnutls_datum_t d;
	char *s;

	ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
	s = strndup((const char *)d.data, d.size);
	ck_assert_ptr_nonnull(s);
	gnutls_free(d.data);
	return s;
}

/*
 * Issue 17 item 7: a registered client is its certificate.  Another certificate of the same
 * client CA with the same issuer, serial and subject but a new key was taken for the
 * registered client; it is a stranger now (verified by the web server, registered as nothing).
 */
START_TEST(identify_by_certificate)
{
	static const unsigned char serial[] = { 0x4e, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };
	char alice[] = "alice", *pem_orig, *pem_forged;
	gnutls_x509_privkey_t ca_key = NULL, k1 = NULL, k2 = NULL;
	gnutls_x509_crt_t ca, orig, forged;
	struct registered_client rc;
	struct service svc = { .id = 1, .clients = &rc, .n_clients = 1 };
	struct tsa_client c = { .tls_verify = "SUCCESS" };
	unsigned char ca_serial[] = { 1 };
	size_t len = sizeof(rc.fingerprint);

	ca = make_cert(&ca_key, ca_serial, sizeof(ca_serial), "test client CA", NULL, NULL);
	orig = make_cert(&k1, serial, sizeof(serial), "alice", ca, ca_key);
	forged = make_cert(&k2, serial, sizeof(serial), "alice", ca, ca_key);
	memset(&rc, 0, sizeof(rc));
	rc.name = alice;
	/* Registered as tsactl client add registers it. */
	ck_assert_int_eq(gnutls_x509_crt_get_fingerprint(orig, GNUTLS_DIG_SHA256, rc.fingerprint,
	    &len), 0);
	pem_orig = cert_pem(orig);
	pem_forged = cert_pem(forged);

	c.tls_cert = pem_orig;
	client_identify(&svc, &c);
	ck_assert_int_eq(c.cert_verified, 1);
	ck_assert_ptr_eq(c.registered, alice);
	c.tls_cert = pem_forged;
	client_identify(&svc, &c);
	ck_assert_int_eq(c.cert_verified, 1);
	ck_assert_ptr_null(c.registered);
	/* Not verified by the web server: nobody, whatever the certificate. */
	c.tls_cert = pem_orig;
	c.tls_verify = "FAILED:unable to verify";
	client_identify(&svc, &c);
	ck_assert_int_eq(c.cert_verified, 0);
	ck_assert_ptr_null(c.registered);

	free(pem_orig);
	free(pem_forged);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(orig);
	gnutls_x509_crt_deinit(forged);
	gnutls_x509_privkey_deinit(ca_key);
	gnutls_x509_privkey_deinit(k1);
	gnutls_x509_privkey_deinit(k2);
}
END_TEST

/* RFC 3161 2.4.2: a tsa-name DN must be the signer's subject, checked at load; it then names
 * the signer's subject.  Only the DN the chain ends with counts. */
START_TEST(chain_check_signer)
{
	static const unsigned char serial[] = { 0x01 };
	static char sname[] = "test-signer";
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = { NULL, 0 };
	struct signer sg;
	struct policy p;
	char err[512] = "";

	crt = make_cert(&key, serial, sizeof(serial), "Test TSA", NULL, NULL);
	ck_assert_int_eq(gnutls_x509_crt_get_raw_dn(crt, &dn), 0);
	memset(&sg, 0, sizeof(sg));
	sg.name = sname;
	sg.subject_dn.data = dn.data;
	sg.subject_dn.len = dn.size;
	pol_init(&p);
	p.signer = &sg;
	ck_assert_int_eq(policy_check_signer(&p, err, sizeof(err)), 0);	/* no tsa-name */
	pol_add(&p, "tsa-name", P("name", "CN=Test TSA"));
	ck_assert_int_eq(p.opts.tsa_name, 2);
	ck_assert_int_eq(policy_check_signer(&p, err, sizeof(err)), 0);
	ck_assert_int_eq(p.opts.tsa_name, 1);
	pol_free(&p);
	pol_add(&p, "tsa-name", P("name", "CN=Another TSA"));
	ck_assert_int_eq(policy_check_signer(&p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "filter tsa-name: RFC 3161 2.4.2: the name 'CN=Another TSA' "
	    "is not the subject of signer test-signer") != NULL, "%s", err);
	pol_add(&p, "tsa-name", P("name", "subject"));
	ck_assert_int_eq(policy_check_signer(&p, err, sizeof(err)), 0);
	pol_free(&p);
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}
END_TEST

START_TEST(service_lookup_and_free)
{
	struct tsa_config *c;
	struct policy *p;
	char err[512] = "";
	struct plist ps = P("accept", "1.2.3"), name = P("name", "CN=x");
	struct plist allow = P("allow", "127.0.0.1");

	/* A configuration on the heap, as config_load builds it, freed by config_free. */
	ck_assert_ptr_nonnull(c = calloc(1, sizeof(*c)));
	ck_assert_ptr_nonnull(c->services = calloc(2, sizeof(*c->services)));
	c->n_services = 2;
	c->services[0].name = strdup("rfc3161");
	c->services[1].name = strdup("internal");
	ck_assert_ptr_nonnull(c->services[1].policies = calloc(1, sizeof(struct policy)));
	c->services[1].n_policies = 1;
	p = &c->services[1].policies[0];
	p->name = strdup("p");
	p->policy_oid = strdup(OWN_OID);
	p->match_req_policy = strdup(OTHER_OID);
	p->match_protocol = -1;
	tsa_opts_defaults(&p->opts);
	ck_assert_int_eq(policy_add_filter(p, "extensions", ps.p, ps.n, err, sizeof(err)), 0);
	ck_assert_int_eq(policy_add_filter(p, "tsa-name", name.p, name.n, err, sizeof(err)), 0);
	ck_assert_int_eq(policy_add_filter(p, "ip-allow", allow.p, allow.n, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(p->n_chain, 3);
	ck_assert_uint_eq(p->n_filters, 1);

	ck_assert_ptr_eq(config_service(c, "rfc3161"), &c->services[0]);
	ck_assert_ptr_eq(config_service(c, "internal"), &c->services[1]);
	ck_assert_ptr_null(config_service(c, "Internal"));
	ck_assert_ptr_null(config_service(c, NULL));
	ck_assert_ptr_null(config_service(NULL, "rfc3161"));
	config_free(c);
	config_free(NULL);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");

	tl_tcase(s, "filters", 0, filters_known, filters_accept_documented_params,
	    filters_refuse_unknown_keys, filters_refuse_bad_hashes, filters_refuse_bad_numbers,
	    filters_refuse_bad_booleans, filters_refuse_bad_oids, filters_refuse_bad_values,
	    filters_refuse_too_many_params, NULL);
	tl_tcase(s, "apply", 0, apply_defaults, apply_hash_acceptance, apply_requested_policy,
	    apply_extensions, apply_check_order, apply_options, NULL);
	tl_tcase(s, "select", 0, select_by_protocol_and_policy, select_by_client,
	    new_filters_params, apply_ip_allow, apply_client_auth, identify_by_certificate,
	    apply_clock, apply_issue3_options, service_lookup_and_free, NULL);
	tl_tcase(s, "chain", 0, chain_compiled_at_load, chain_later_overrides,
	    chain_refusal_order, chain_check_signer, NULL);
	return s;
}

int
main(void)
{
	return tl_run(policy_suite());
}
