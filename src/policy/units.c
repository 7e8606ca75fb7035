/*
 * units.c - which unit (a signers row) serves each policy on this server.  A policy names one
 * unit; the units of that unit's group (signers.unit_group) stand for one another, and each
 * server signs with the group's unit bound to its own host (signers.host), else with the
 * group's unit bound to no host (any server).  A policy with no unit here, or with two that
 * would fit (the schema's unique indexes forbid it; checked again since the data is not
 * ours), is refused alone with the reason (policy.refused): it answers systemFailure, and the
 * rest of the configuration loads.  With no host (tsactl's checks of a write, made for every
 * server at once), a policy keeps the unit it names.
 * Input: the configuration rows already loaded (store/config.c); nothing from a peer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "units.h"

int
unit_in_group(const struct signer *named, const struct signer *s)
{
	if (s == named)
		return 1;
	return named->group != NULL && s->group != NULL && strcmp(named->group, s->group) == 0;
}

/* "SI-TSA-1 on be1, SI-TSA-2 on any host" into buf: the group's units, for a refusal. */
static void
group_list(const struct tsa_config *cfg, const struct signer *named, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < cfg->n_signers && used < len; i++) {
		const struct signer *s = &cfg->signers[i];
		int n;

		if (!unit_in_group(named, s))
			continue;
		n = snprintf(buf + used, len - used, "%s%s on %s", used > 0 ? ", " : "", s->name,
		    s->host != NULL ? s->host : "any host");
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/*
 * The unit of named's group for host: bound to host, else bound to none.  0 with *unit (NULL
 * when there is none), or -1 when two fit (why says which).
 */
static int
unit_pick(const struct tsa_config *cfg, struct signer *named, const char *host,
    struct signer **unit, char *why, size_t len)
{
	struct signer *own = NULL, *any = NULL;
	size_t i;

	for (i = 0; i < cfg->n_signers; i++) {
		struct signer *s = &cfg->signers[i];
		struct signer **slot;

		if (!unit_in_group(named, s))
			continue;
		if (s->host == NULL)
			slot = &any;
		else if (strcmp(s->host, host) == 0)
			slot = &own;
		else
			continue;
		if (*slot != NULL) {
			snprintf(why, len, "units %s and %s of group %s are both bound to %s",
			    (*slot)->name, s->name, named->group != NULL ? named->group : "-",
			    s->host != NULL ? s->host : "any host");
			return -1;
		}
		*slot = s;
	}
	*unit = own != NULL ? own : any;
	return 0;
}

int
units_resolve(struct tsa_config *cfg, const char *host)
{
	char why[384], list[256];
	size_t i, j;

	for (i = 0; i < cfg->n_signers; i++)
		cfg->signers[i].used = 0;
	for (i = 0; i < cfg->n_services; i++)
		for (j = 0; j < cfg->services[i].n_policies; j++) {
			struct policy *p = &cfg->services[i].policies[j];
			struct signer *unit = NULL;

			if (p->signer == NULL || p->refused != NULL)
				continue;
			if (host == NULL) {
				p->signer->used = 1;
				continue;
			}
			why[0] = '\0';
			if (unit_pick(cfg, p->signer, host, &unit, why, sizeof(why)) == 0 &&
			    unit == NULL) {
				group_list(cfg, p->signer, list, sizeof(list));
				snprintf(why, sizeof(why), "no unit for host %s: its unit %s%s%s has "
				    "%s", host, p->signer->name, p->signer->group != NULL ?
				    " of group " : "", p->signer->group != NULL ?
				    p->signer->group : "", list);
			}
			if (unit == NULL) {
				if ((p->refused = strdup(why)) == NULL)
					return -1;
				continue;
			}
			p->signer = unit;
			unit->used = 1;
		}
	return 0;
}
