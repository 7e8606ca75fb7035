/*
 * cidr.h - IPv4 and IPv6 address blocks ("10.0.0.0/8", "::1/128", a bare address meaning its
 * own /32 or /128), and whether an address lies in one of them: the ip-allow filter on
 * REMOTE_ADDR and tsa-fcgi's allow-list of FastCGI peers (fcgi_allow).
 */
#ifndef TSA_CIDR_H
#define TSA_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	unsigned	prefix;
};

/* Parses text (strict: an address, optionally "/bits" within its family's width); 0 or -1. */
int	cidr_parse(const char *text, struct cidr *c);
/* 1 when the address text (IPv4, IPv6, or IPv4-mapped IPv6) lies in one of the n blocks. */
int	cidr_match_text(const struct cidr *nets, size_t n, const char *addr);
/* The same for a peer's socket address; 0 for families other than AF_INET and AF_INET6. */
int	cidr_match_sockaddr(const struct cidr *nets, size_t n, const struct sockaddr *sa);

#endif
