/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listeners — foreign listening sockets from /proc/self/net/tcp{,6} (listeners.h). A table
 * line is "sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ...", addresses as
 * ADDR:PORT in hex: the port a number, the address the kernel's 32-bit words (one for IPv4,
 * four for IPv6) each printed as a host-order integer, so each word is parsed and stored
 * back in host order to give the address's bytes.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listeners.h"
#include "util.h"

#define LISTENERS_TCP_LISTEN 0x0A	/* the tables' state of a listening socket */

/* A socket address as family, 4 or 16 address bytes and port; an IPv4-mapped IPv6 address
 * becomes IPv4. 0 if sa is neither family. */
struct lsaddr {
	int		family;
	unsigned char	addr[16];
	unsigned	port;
};

static int
listeners_norm(const struct sockaddr *sa, struct lsaddr *o)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(o, 0, sizeof(*o));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		o->family = AF_INET;
		memcpy(o->addr, &in->sin_addr, 4);
		o->port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		o->port = ntohs(in6->sin6_port);
		if (memcmp(&in6->sin6_addr, mapped, sizeof(mapped)) == 0) {
			o->family = AF_INET;
			memcpy(o->addr, (const unsigned char *)&in6->sin6_addr + 12, 4);
		} else {
			o->family = AF_INET6;
			memcpy(o->addr, &in6->sin6_addr, 16);
		}
	} else {
		return 0;
	}
	return 1;
}

/* Whether a is its family's wildcard. */
static int
listeners_wild(const struct lsaddr *a)
{
	static const unsigned char zero[16];

	return memcmp(a->addr, zero, a->family == AF_INET ? 4 : 16) == 0;
}

/* (listeners.h) */
int
listeners_overlap(const struct sockaddr *ours, int v6only, const struct sockaddr *theirs)
{
	struct lsaddr a, b;

	if (!listeners_norm(ours, &a) || !listeners_norm(theirs, &b) || a.port != b.port)
		return 0;
	if (a.family == AF_INET6 && listeners_wild(&a) && !v6only)
		return 1;
	return a.family == b.family && (listeners_wild(&a) || listeners_wild(&b) ||
	    memcmp(a.addr, b.addr, a.family == AF_INET ? 4 : 16) == 0);
}

/* hex (8 or 32 digits) as the table's words into a sockaddr of family with port. */
static int
listeners_sockaddr(const char *hex, int family, unsigned port, struct sockaddr_storage *ss)
{
	size_t words = family == AF_INET ? 1 : 4, i;
	unsigned char addr[16];
	char w[9];

	if (strlen(hex) != words * 8)
		return 0;
	for (i = 0; i < words; i++) {
		uint32_t v;
		char *end;

		memcpy(w, hex + i * 8, 8);
		w[8] = '\0';
		v = (uint32_t)strtoul(w, &end, 16);
		if (*end != '\0')
			return 0;
		memcpy(addr + i * 4, &v, 4);
	}
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		memcpy(&in->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		memcpy(&in6->sin6_addr, addr, 16);
	}
	return 1;
}

/* (listeners.h) */
size_t
listeners_foreign(const char *table, int family, const struct sockaddr *addr,
    int v6only, const unsigned long *ours, size_t nours, struct sockaddr_storage *first)
{
	const char *line = table, *nl;
	struct sockaddr_storage ss;
	size_t found = 0, i;

	for (; line != NULL && *line != '\0'; line = nl != NULL ? nl + 1 : NULL) {
		char hex[40], buf[256];
		unsigned port, st;
		unsigned long ino;
		size_t len;

		nl = strchr(line, '\n');
		len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (len >= sizeof(buf))		/* the tables' lines are about 150 bytes */
			continue;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (sscanf(buf, " %*u: %39[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x "
		    "%*x %*u %*u %lu", hex, &port, &st, &ino) != 4 || st != LISTENERS_TCP_LISTEN ||
		    port > 65535 || !listeners_sockaddr(hex, family, port, &ss) ||
		    !listeners_overlap(addr, v6only, (struct sockaddr *)&ss))
			continue;
		for (i = 0; i < nours && ours[i] != ino; i++)
			;
		if (i < nours)
			continue;
		if (found++ == 0 && first != NULL)
			*first = ss;
	}
	return found;
}

/* (listeners.h) */
int
listeners_foreign_here(const struct sockaddr *addr, int v6only, const unsigned long *ours,
    size_t nours, struct sockaddr_storage *first, char **cause)
{
	static const struct { const char *path; int family; } tabs[] = {
		{ "/proc/self/net/tcp", AF_INET }, { "/proc/self/net/tcp6", AF_INET6 },
	};
	size_t found = 0, t;

	for (t = 0; t < sizeof(tabs) / sizeof(tabs[0]); t++) {
		char *why = NULL, *text = util_read_file(tabs[t].path, NULL, &why);
		struct sockaddr_storage one;
		size_t n;

		if (text == NULL && tabs[t].family == AF_INET) {
			util_cause(cause, "%s", why != NULL ? why : tabs[t].path);
			free(why);
			return -1;
		}
		free(why);
		if (text == NULL)	/* tcp6 is absent when IPv6 is off */
			continue;
		n = listeners_foreign(text, tabs[t].family, addr, v6only, ours, nours, &one);
		if (n > 0 && found == 0 && first != NULL)
			*first = one;
		found += n;
		free(text);
	}
	return (int)found;
}
