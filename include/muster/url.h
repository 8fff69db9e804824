/*
 * url: the server URLs Muster accepts: https://HOST[:PORT][/], where HOST
 * is a DNS name, an IPv4 address or a bracketed IPv6 address.  Nothing
 * else (no user info, query, fragment or other scheme) so that what a
 * token covers is exactly what a device connects to.
 */
#ifndef MUSTER_URL_H
#define MUSTER_URL_H

#include "muster/err.h"

#define URL_HOST_MAX	254
#define URL_MAX		300

struct url {
	char		host[URL_HOST_MAX];	/* without brackets */
	unsigned	port;			/* 443 when absent */
	int		is_ip;			/* host is an address literal */
	int		is_v6;
};

/* Parses s into u; returns 0 or MUSTER_EUSAGE naming what is wrong. */
int	url_parse(const char *s, struct url *u, struct muster_err *e);

#endif
