/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_url — URL and --connect parsing for the load generator, and the one-time address
 * resolution. https URLs are the client's purpose (it observes TLS); http URLs are accepted
 * too, for the plain-HTTP side of a scenario (a redirect to an install page). The parsers are
 * pure (table-tested in tests/unit/test_client.c); client_url_resolve is the only function
 * that may touch the resolver.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_url.h"
#include "util.h"

/* Parse a decimal port in [1, 65535] from s[0..len). */
static int
client_url_port(const char *s, size_t len, int *port)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* Parse an https or http URL. */
int
client_url_parse(const char *s, struct client_url *u, char **cause)
{
	const char *p, *hs, *he, *slash, *portp = NULL;
	size_t hl, i;
	int defport;

	memset(u, 0, sizeof(*u));
	if (strlen(s) >= sizeof(u->text))
		return util_cause(cause, "URL \"%.40s...\": too long", s);
	snprintf(u->text, sizeof(u->text), "%s", s);
	if (strncasecmp(s, "https://", 8) == 0) {
		u->tls = 1;
		p = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		u->tls = 0;
		p = s + 7;
	} else
		return util_cause(cause, "URL \"%s\": only https://HOST[:PORT]/PATH or "
		    "http://HOST[:PORT]/PATH is supported", s);
	defport = u->tls ? 443 : 80;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	if (memchr(p, '@', (size_t)(slash - p)) != NULL)
		return util_cause(cause, "URL \"%s\": user info is not supported", s);
	if (*p == '[') {
		hs = p + 1;
		he = memchr(hs, ']', (size_t)(slash - hs));
		if (he == NULL)
			return util_cause(cause, "URL \"%s\": unterminated IPv6 address", s);
		if (he + 1 < slash) {
			if (he[1] != ':')
				return util_cause(cause, "URL \"%s\": junk after IPv6 address", s);
			portp = he + 2;
		}
	} else {
		hs = p;
		he = memchr(hs, ':', (size_t)(slash - hs));
		if (he != NULL)
			portp = he + 1;
		else
			he = slash;
	}
	hl = (size_t)(he - hs);
	if (hl == 0)
		return util_cause(cause, "URL \"%s\": empty host", s);
	if (hl >= sizeof(u->host))
		return util_cause(cause, "URL \"%s\": host too long", s);
	for (i = 0; i < hl; i++) {
		unsigned char c = (unsigned char)hs[i];
		if (c <= ' ' || c == '/' || c == '?' || c == '#' || c >= 0x7f)
			return util_cause(cause, "URL \"%s\": bad character in host", s);
	}
	memcpy(u->host, hs, hl);
	u->host[hl] = '\0';
	u->port = defport;
	if (portp != NULL && client_url_port(portp, (size_t)(slash - portp), &u->port) == -1)
		return util_cause(cause, "URL \"%s\": bad port", s);
	if (*slash == '\0')
		snprintf(u->path, sizeof(u->path), "/");
	else {
		for (i = 0; slash[i] != '\0'; i++)
			if ((unsigned char)slash[i] <= ' ' || slash[i] == 0x7f)
				return util_cause(cause, "URL \"%s\": bad character in path", s);
		snprintf(u->path, sizeof(u->path), "%s", slash);
	}
	if (strchr(u->host, ':') != NULL)
		snprintf(u->authority, sizeof(u->authority), u->port == defport ? "[%s]" :
		    "[%s]:%d", u->host, u->port);
	else
		snprintf(u->authority, sizeof(u->authority), u->port == defport ? "%s" : "%s:%d",
		    u->host, u->port);
	return 0;
}

/* Parse HOST=IP[:PORT]. */
int
client_url_parse_connect(const char *s, char *host, struct sockaddr_storage *ss,
    socklen_t *sslen, int *port, char **cause)
{
	const char *eq = strchr(s, '='), *a;
	char ip[UTIL_ADDRSTRLEN];
	const char *pp = NULL;
	size_t hl, il;

	memset(ss, 0, sizeof(*ss));
	*port = 0;
	if (eq == NULL || eq == s)
		return util_cause(cause, "--connect \"%s\": expected HOST=IP[:PORT]", s);
	hl = (size_t)(eq - s);
	if (hl >= CLIENT_URL_HOSTMAX)
		return util_cause(cause, "--connect \"%s\": host too long", s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	a = eq + 1;
	if (*a == '[') {
		const char *e = strchr(a, ']');
		if (e == NULL)
			return util_cause(cause, "--connect \"%s\": unterminated [IPv6]", s);
		il = (size_t)(e - a - 1);
		if (il >= sizeof(ip))
			return util_cause(cause, "--connect \"%s\": address too long", s);
		memcpy(ip, a + 1, il);
		ip[il] = '\0';
		if (e[1] == ':')
			pp = e + 2;
		else if (e[1] != '\0')
			return util_cause(cause, "--connect \"%s\": junk after [IPv6]", s);
	} else {
		const char *c = strchr(a, ':');
		if (c != NULL && strchr(c + 1, ':') != NULL)
			c = NULL;	/* bare IPv6 without a port */
		il = c != NULL ? (size_t)(c - a) : strlen(a);
		if (il >= sizeof(ip))
			return util_cause(cause, "--connect \"%s\": address too long", s);
		memcpy(ip, a, il);
		ip[il] = '\0';
		if (c != NULL)
			pp = c + 1;
	}
	if (pp != NULL && client_url_port(pp, strlen(pp), port) == -1)
		return util_cause(cause, "--connect \"%s\": bad port", s);
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, ip, &in6->sin6_addr) != 1)
			return util_cause(cause, "--connect \"%s\": \"%s\" is not an IP address", s, ip);
		in6->sin6_family = AF_INET6;
		*sslen = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, ip, &in->sin_addr) != 1)
			return util_cause(cause, "--connect \"%s\": \"%s\" is not an IP address", s, ip);
		in->sin_family = AF_INET;
		*sslen = sizeof(*in);
	}
	return 0;
}

/* Set the port of an IPv4/IPv6 sockaddr. */
static void
client_url_setport(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

/* Resolve the URL's host to one address. */
int
client_url_resolve(struct client_url *u, char *const *connects, size_t nconnects,
    char **cause)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[CLIENT_URL_HOSTMAX], portstr[8];
	size_t i;
	int port, rc;

	for (i = 0; i < nconnects; i++) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (client_url_parse_connect(connects[i], host, &ss, &sl, &port, cause) == -1)
			return -1;
		if (strcasecmp(host, u->host) != 0)
			continue;
		u->addr = ss;
		u->addrlen = sl;
		client_url_setport(&u->addr, port != 0 ? port : u->port);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", u->port);
	if ((rc = getaddrinfo(u->host, portstr, &hints, &res)) != 0)
		return util_cause(cause, "%s: cannot resolve: %s (use --connect %s=IP)",
		    u->host, gai_strerror(rc), u->host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		memcpy(&u->addr, ai->ai_addr, ai->ai_addrlen);
		u->addrlen = ai->ai_addrlen;
		break;
	}
	freeaddrinfo(res);
	if (u->addrlen == 0)
		return util_cause(cause, "%s: no IPv4/IPv6 address", u->host);
	return 0;
}
