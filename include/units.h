/*
 * units.h - units and hosts: which unit (signer) of a policy's group serves it on this
 * server (src/policy/units.c).  README "Units and hosts".
 */
#ifndef TSA_UNITS_H
#define TSA_UNITS_H

#include "policy.h"

/* 1 when s stands for named: named itself, or a unit of named's group. */
int	unit_in_group(const struct signer *named, const struct signer *s);
/*
 * Points each usable policy of cfg at the unit of its group that serves host (bound to it,
 * else bound to none) and marks that unit used; a policy with none (or two that fit) is
 * refused (policy.refused says why) and keeps the unit it names.  host NULL: every policy
 * keeps the unit it names (checks made for all servers).  0, or -1 out of memory.
 */
int	units_resolve(struct tsa_config *cfg, const char *host);

#endif
