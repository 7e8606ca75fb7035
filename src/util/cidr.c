/*
 * cidr.c - address blocks and membership (see cidr.h).  Input: operator configuration (the
 * ip-allow filter's parameters, tsa.conf's fcgi_allow), parsed strictly; and peer addresses,
 * from the web server's REMOTE_ADDR or from accept().
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

int
cidr_parse(const char *text, struct cidr *c)
{
	char buf[64], *slash;
	unsigned max;

	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		return -1;
	c->prefix = max;
	if (slash != NULL) {
		char *end;
		unsigned long v;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		v = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || v > max)
			return -1;
		c->prefix = (unsigned)v;
	}
	return 0;
}

static int
prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return 0;
	return rest == 0 || ((a[whole] ^ b[whole]) & (0xff << (8 - rest))) == 0;
}

/* a: 4 or 16 bytes of family; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as IPv4. */
static int
match(const struct cidr *nets, size_t n, int family, const unsigned char *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	size_t i;

	if (family == AF_INET6 && memcmp(a, mapped, sizeof(mapped)) == 0) {
		family = AF_INET;
		a += 12;
	}
	for (i = 0; i < n; i++)
		if (nets[i].family == family && prefix_match(a, nets[i].addr, nets[i].prefix))
			return 1;
	return 0;
}

int
cidr_match_text(const struct cidr *nets, size_t n, const char *addr)
{
	unsigned char a[16];

	if (addr == NULL)
		return 0;
	if (inet_pton(AF_INET, addr, a) == 1)
		return match(nets, n, AF_INET, a);
	if (inet_pton(AF_INET6, addr, a) == 1)
		return match(nets, n, AF_INET6, a);
	return 0;
}

int
cidr_match_sockaddr(const struct cidr *nets, size_t n, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return match(nets, n, AF_INET,
		    (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return match(nets, n, AF_INET6,
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	return 0;
}
