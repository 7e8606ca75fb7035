/*
 * fuzz_filters.c - fuzz target of the filter parameters (src/policy/filters.c): what
 * src/store/config.c hands policy_add_filter() at configuration load, a filter's name and its
 * jsonb parameters flattened by PostgreSQL into key/value text pairs (an array gives one pair
 * per element, a JSON null the text "null").  The database is an administrator's, but a bad
 * row must be refused at load with a message, never crash or leak a worker.
 *
 * Input: text lines; the first is the filter's name, each next one a parameter "key=value"
 * (a line without '=' is a key whose value is empty).  More lines than TSA_MAX_FILTER_PARAMS
 * are passed on, so that the cap is exercised too.  Every string is an exact-size copy, so a
 * read past its end shows under ASan.
 * Checked with abort(): a refusal has a message and leaves the policy as it was; a filter
 * taken makes a one-filter policy that is applied (policy_apply) to a fixed RFC 3161 request
 * from two client addresses, and the options it compiled to stay within their limits
 * (genTime digits, serial length, ESS hash).  A clock filter is compiled but not applied (its
 * status_file is a path it would read).
 * Built by libFuzzer (tests/fuzz/run.sh) or with tests/fuzz/replay.c (make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashalg.h"
#include "policy.h"
#include "tsa_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_LINES	(TSA_MAX_FILTER_PARAMS + 8)

/* An exact-size NUL-terminated copy of p[0..n). */
static char *
copy(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void
run(const struct policy *pol, const char *addr)
{
	struct tsa_request req;
	struct tsa_client client;
	struct tsa_refusal ref;
	struct tsa_opts o;

	memset(&req, 0, sizeof(req));
	req.protocol = TSA_PROTO_RFC3161;
	req.hash = hash_by_name("sha256");
	strcpy(req.hash_oid, req.hash->oid);
	req.imprint_len = req.hash->len;
	req.has_req_policy = 1;
	strcpy(req.req_policy, "1.2.3.4.5");
	req.n_ext = 1;
	strcpy(req.ext[0].oid, "1.3.6.1.4.1.311.3.3.1");
	memset(&client, 0, sizeof(client));
	client.service = "tsa";
	client.remote_addr = addr;
	memset(&ref, 0, sizeof(ref));
	if (policy_apply(pol, &req, &client, &o, &ref) == -1) {
		if (ref.text == NULL)
			abort();
		return;
	}
	if (o.digits < 0 || o.digits > TSA_MAX_TIME_DIGITS ||
	    o.serial_bytes < TSA_SERIAL_MIN || o.serial_bytes > TSA_SERIAL_MAX ||
	    o.ess_hash == NULL || (o.tsa_name == 2 && o.tsa_name_der == NULL))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_param params[FUZZ_MAX_LINES];
	char *strings[2 * FUZZ_MAX_LINES + 1];
	static char pol_name[] = "fuzz", pol_oid[] = "1.2.3.4";
	struct policy pol;
	struct tsa_opts d;
	const uint8_t *p = data, *end = data + size, *nl, *eq;
	char *name, err[256];
	size_t n = 0, ns = 0, i;

	nl = memchr(p, '\n', size);
	name = strings[ns++] = copy(p, nl != NULL ? (size_t)(nl - p) : size);
	p = nl != NULL ? nl + 1 : end;
	while (p < end && n < FUZZ_MAX_LINES) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		eq = memchr(p, '=', (size_t)(nl - p));
		if (eq == NULL)
			eq = nl;
		params[n].key = strings[ns++] = copy(p, (size_t)(eq - p));
		params[n].value = strings[ns++] = eq < nl ? copy(eq + 1, (size_t)(nl - eq - 1)) :
		    copy(p, 0);
		n++;
		p = nl < end ? nl + 1 : end;
	}
	memset(err, 0, sizeof(err));
	memset(&pol, 0, sizeof(pol));
	pol.name = pol_name;
	pol.policy_oid = pol_oid;
	tsa_opts_defaults(&pol.opts);
	tsa_opts_defaults(&d);
	if (policy_add_filter(&pol, name, params, n, err, sizeof(err)) == -1) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL ||
		    pol.n_chain != 0 || pol.blocks != NULL ||
		    memcmp(&pol.opts, &d, sizeof(d)) != 0)
			abort();
	} else {
		if (pol.n_chain != 1)
			abort();
		if (strcmp(name, "clock") != 0) {
			run(&pol, "192.0.2.7");
			run(&pol, "::ffff:127.0.0.1");
		}
	}
	policy_filters_free(&pol);
	for (i = 0; i < ns; i++)
		free(strings[i]);
	return 0;
}
