/*
 * test_units.c - units and hosts (src/policy/units.c): which unit of a policy's group serves
 * it on a server; a policy with none, or with two that fit, refused alone; host-less units
 * for every server; the single-host configuration unchanged.  No database, no token: the
 * configuration is built on the heap as config_load builds it.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "units.h"

/* Unit i: its name, host (NULL: any) and group (NULL: none). */
struct unit_row {
	const char	*name, *host, *group;
};

/* A configuration of the units rows and one service of n_pol policies, policy j naming unit
 * named[j]. */
static struct tsa_config *
config_of(const struct unit_row *rows, size_t n, const size_t *named, size_t n_pol)
{
	struct tsa_config *c;
	size_t i;

	ck_assert_ptr_nonnull(c = calloc(1, sizeof(*c)));
	ck_assert_ptr_nonnull(c->signers = calloc(n, sizeof(*c->signers)));
	for (i = 0; i < n; i++) {
		struct signer *s = &c->signers[c->n_signers++];

		s->id = (long)i + 1;
		s->name = strdup(rows[i].name);
		s->host = rows[i].host != NULL ? strdup(rows[i].host) : NULL;
		s->group = rows[i].group != NULL ? strdup(rows[i].group) : NULL;
	}
	ck_assert_ptr_nonnull(c->services = calloc(1, sizeof(*c->services)));
	c->n_services = 1;
	c->services[0].name = strdup("timestamp");
	ck_assert_ptr_nonnull(c->services[0].policies = calloc(n_pol, sizeof(struct policy)));
	for (i = 0; i < n_pol; i++) {
		struct policy *p = &c->services[0].policies[c->services[0].n_policies++];

		p->name = strdup("p");
		p->policy_oid = strdup("1.3.6.1.4.1.32473.1.1");
		p->match_protocol = -1;
		tsa_opts_defaults(&p->opts);
		p->signer = &c->signers[named[i]];
	}
	return c;
}

static const struct unit_row si_tsa[] = {
	{ "SI-TSA-1", "tsa-be1", "SI-TSA" },
	{ "SI-TSA-2", "tsa-be2", "SI-TSA" },
	{ "other", NULL, NULL },
};

START_TEST(each_host_signs_with_its_own_unit)
{
	static const size_t named[] = { 0 };
	struct tsa_config *c;
	const struct policy *p;

	c = config_of(si_tsa, 3, named, 1);
	p = &c->services[0].policies[0];
	ck_assert_int_eq(units_resolve(c, "tsa-be2"), 0);
	ck_assert_ptr_null(p->refused);
	ck_assert_str_eq(p->signer->name, "SI-TSA-2");
	ck_assert_int_eq(c->signers[0].used, 0);	/* the other server's: never opened here */
	ck_assert_int_eq(c->signers[1].used, 1);
	ck_assert_int_eq(c->signers[2].used, 0);
	config_free(c);

	c = config_of(si_tsa, 3, named, 1);
	p = &c->services[0].policies[0];
	ck_assert_int_eq(units_resolve(c, "tsa-be1"), 0);
	ck_assert_str_eq(p->signer->name, "SI-TSA-1");
	ck_assert_int_eq(c->signers[0].used, 1);
	ck_assert_int_eq(c->signers[1].used, 0);
	config_free(c);
}
END_TEST

START_TEST(a_third_unit_is_data)
{
	static const struct unit_row rows[] = {
		{ "SI-TSA-1", "tsa-be1", "SI-TSA" }, { "SI-TSA-2", "tsa-be2", "SI-TSA" },
		{ "SI-TSA-3", "tsa-be3", "SI-TSA" },
	};
	static const size_t named[] = { 1 };
	struct tsa_config *c = config_of(rows, 3, named, 1);

	ck_assert_int_eq(units_resolve(c, "tsa-be3"), 0);
	ck_assert_str_eq(c->services[0].policies[0].signer->name, "SI-TSA-3");
	config_free(c);
}
END_TEST

START_TEST(no_unit_on_this_host_refuses_the_policy_alone)
{
	static const size_t named[] = { 0, 2 };
	struct tsa_config *c = config_of(si_tsa, 3, named, 2);
	const struct policy *p = &c->services[0].policies[0];

	ck_assert_int_eq(units_resolve(c, "tsa-be9"), 0);
	ck_assert_ptr_nonnull(p->refused);
	ck_assert_ptr_nonnull(strstr(p->refused, "no unit for host tsa-be9"));
	ck_assert_ptr_nonnull(strstr(p->refused, "SI-TSA-1 on tsa-be1, SI-TSA-2 on tsa-be2"));
	ck_assert_str_eq(p->signer->name, "SI-TSA-1");	/* named, never used */
	ck_assert_int_eq(c->signers[0].used, 0);
	ck_assert_int_eq(c->signers[1].used, 0);
	/* The other policy's unit is for any host: it serves here. */
	ck_assert_ptr_null(c->services[0].policies[1].refused);
	ck_assert_int_eq(c->signers[2].used, 1);
	config_free(c);
}
END_TEST

START_TEST(own_host_before_any_host)
{
	static const struct unit_row rows[] = {
		{ "fallback", NULL, "G" }, { "own", "h1", "G" },
	};
	static const size_t named[] = { 0 };
	struct tsa_config *c = config_of(rows, 2, named, 1);

	ck_assert_int_eq(units_resolve(c, "h1"), 0);
	ck_assert_str_eq(c->services[0].policies[0].signer->name, "own");
	config_free(c);
	c = config_of(rows, 2, named, 1);
	ck_assert_int_eq(units_resolve(c, "h2"), 0);
	ck_assert_str_eq(c->services[0].policies[0].signer->name, "fallback");
	config_free(c);
}
END_TEST

START_TEST(two_units_that_fit_refuse_the_policy)
{
	static const struct unit_row rows[] = {
		{ "a", "h1", "G" }, { "b", "h1", "G" }, { "c", NULL, "H" }, { "d", NULL, "H" },
	};
	static const size_t named[] = { 0, 2 };
	struct tsa_config *c = config_of(rows, 4, named, 2);

	ck_assert_int_eq(units_resolve(c, "h1"), 0);
	ck_assert_ptr_nonnull(strstr(c->services[0].policies[0].refused,
	    "units a and b of group G are both bound to h1"));
	ck_assert_ptr_nonnull(strstr(c->services[0].policies[1].refused,
	    "units c and d of group H are both bound to any host"));
	ck_assert_int_eq(c->signers[0].used + c->signers[1].used + c->signers[2].used +
	    c->signers[3].used, 0);
	config_free(c);
}
END_TEST

START_TEST(single_host_unchanged)
{
	/* No host and no group anywhere (every configuration before units): each policy signs
	 * with the unit it names, on any server, and so do tsactl's checks (host NULL). */
	static const struct unit_row rows[] = { { "tsa", NULL, NULL }, { "spare", NULL, NULL } };
	static const size_t named[] = { 0 };
	struct tsa_config *c = config_of(rows, 2, named, 1);

	ck_assert_int_eq(units_resolve(c, "anything"), 0);
	ck_assert_ptr_null(c->services[0].policies[0].refused);
	ck_assert_str_eq(c->services[0].policies[0].signer->name, "tsa");
	ck_assert_int_eq(c->signers[0].used, 1);
	ck_assert_int_eq(c->signers[1].used, 0);
	config_free(c);

	c = config_of(si_tsa, 3, named, 1);
	ck_assert_int_eq(units_resolve(c, NULL), 0);
	ck_assert_ptr_null(c->services[0].policies[0].refused);
	ck_assert_str_eq(c->services[0].policies[0].signer->name, "SI-TSA-1");
	config_free(c);
}
END_TEST

START_TEST(host_names)
{
	char longest[TSA_MAX_HOST_NAME + 2];

	ck_assert_int_eq(conf_host_ok("tsa-be1"), 1);
	ck_assert_int_eq(conf_host_ok("be1.tsa.example"), 1);
	ck_assert_int_eq(conf_host_ok("9"), 1);
	ck_assert_int_eq(conf_host_ok(""), 0);
	ck_assert_int_eq(conf_host_ok("-be1"), 0);
	ck_assert_int_eq(conf_host_ok(".be1"), 0);
	ck_assert_int_eq(conf_host_ok("be 1"), 0);
	ck_assert_int_eq(conf_host_ok("be_1"), 0);
	ck_assert_int_eq(conf_host_ok("be1\n"), 0);
	ck_assert_int_eq(conf_host_ok("b\xc3\xa9"), 0);
	memset(longest, 'a', TSA_MAX_HOST_NAME);
	longest[TSA_MAX_HOST_NAME] = '\0';
	ck_assert_int_eq(conf_host_ok(longest), 1);
	longest[TSA_MAX_HOST_NAME] = 'a';
	longest[TSA_MAX_HOST_NAME + 1] = '\0';
	ck_assert_int_eq(conf_host_ok(longest), 0);
}
END_TEST

int
main(void)
{
	return tl_run(tl_suite("units", 0, each_host_signs_with_its_own_unit,
	    a_third_unit_is_data, no_unit_on_this_host_refuses_the_policy_alone,
	    own_host_before_any_host, two_units_that_fit_refuse_the_policy,
	    single_host_unchanged, host_names, NULL));
}
