/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_url — the targets of `mitmlab client`: parses https and http URLs, applies --connect
 * overrides (HOST=IP[:PORT], like curl --resolve) and resolves the rest once with getaddrinfo.
 * Pure parsing plus one resolver call; no sockets are opened here.
 */
#ifndef MITMLAB_CLIENT_URL_H
#define MITMLAB_CLIENT_URL_H

#include <sys/socket.h>

#define CLIENT_URL_HOSTMAX	256
#define CLIENT_URL_PATHMAX	2048

struct client_url {
	char	text[CLIENT_URL_PATHMAX + CLIENT_URL_HOSTMAX + 16];	/* as given */
	int	tls;				/* 1: https, 0: http (clear text) */
	char	host[CLIENT_URL_HOSTMAX];	/* no brackets; SNI and certificate name */
	int	port;				/* 443 (https) or 80 (http) when absent */
	char	path[CLIENT_URL_PATHMAX];	/* starts with '/', "/" when absent */
	char	authority[CLIENT_URL_HOSTMAX + 8];	/* Host header / :authority */
	struct sockaddr_storage addr;		/* where to connect */
	socklen_t addrlen;			/* 0 until resolved */
};

/* Parse "https://HOST[:PORT][/PATH]" or "http://..." into u (addr left unresolved). */
int client_url_parse(const char *s, struct client_url *u, char **cause);
/* Parse "HOST=IP[:PORT]" (IPv6 as [IP]:PORT or bare IP); *port = 0 when absent. host needs
 * CLIENT_URL_HOSTMAX bytes. */
int client_url_parse_connect(const char *s, char *host, struct sockaddr_storage *ss,
    socklen_t *sslen, int *port, char **cause);
/* Fill u->addr: the first --connect entry naming u->host wins, else getaddrinfo. */
int client_url_resolve(struct client_url *u, char *const *connects, size_t nconnects,
    char **cause);

#endif
