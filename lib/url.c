/* url: strict parsing of https server URLs; see include/muster/url.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "muster/ascii.h"
#include "muster/url.h"

static int
dns_name_ok(const char *h)
{
	size_t label = 0;

	if (*h == '\0' || *h == '.' || *h == '-')
		return 0;
	for (; *h != '\0'; h++) {
		if (*h == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*h) && *h != '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

int
url_parse(const char *s, struct url *u, struct muster_err *e)
{
	const char *p, *hend, *after;
	unsigned char addr[16];
	size_t hlen;
	char *end;
	long port;

	memset(u, 0, sizeof *u);
	if (strlen(s) > URL_MAX)
		return err_set(e, MUSTER_EUSAGE, "server URL too long");
	if (strncmp(s, "https://", 8) != 0)
		return err_set(e, MUSTER_EUSAGE, "server URL \"%s\" must start "
		    "with https://", s);
	p = s + 8;
	if (*p == '[') {
		if ((hend = strchr(p, ']')) == NULL)
			return err_set(e, MUSTER_EUSAGE, "server URL: "
			    "unclosed [");
		p++;
		after = hend + 1;
		u->is_v6 = 1;
	} else {
		hend = p + strcspn(p, ":/");
		after = hend;
	}
	hlen = (size_t)(hend - p);
	if (hlen == 0 || ascii_copyn(u->host, sizeof u->host, p, hlen) != 0)
		return err_set(e, MUSTER_EUSAGE, "server URL: bad host");
	u->port = 443;
	if (*after == ':') {
		port = strtol(after + 1, &end, 10);
		if (end == after + 1 || port < 1 || port > 65535 ||
		    !isdigit((unsigned char)after[1]))
			return err_set(e, MUSTER_EUSAGE, "server URL: bad "
			    "port");
		u->port = (unsigned)port;
		after = end;
	}
	if (*after != '\0' && strcmp(after, "/") != 0)
		return err_set(e, MUSTER_EUSAGE, "server URL \"%s\": only "
		    "https://HOST[:PORT] is accepted, no path or query", s);
	if (u->is_v6) {
		if (inet_pton(AF_INET6, u->host, addr) != 1)
			return err_set(e, MUSTER_EUSAGE, "server URL: bad IPv6 "
			    "address");
		u->is_ip = 1;
	} else if (inet_pton(AF_INET, u->host, addr) == 1)
		u->is_ip = 1;
	else if (!dns_name_ok(u->host))
		return err_set(e, MUSTER_EUSAGE, "server URL: bad host name "
		    "\"%s\"", u->host);
	return 0;
}
