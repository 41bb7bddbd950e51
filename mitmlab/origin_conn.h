/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_conn — one client connection of `mitmlab origin`, from accept to close: peek the raw
 * ClientHello (JA3/JA4 by tlspeek), pick the site, run the TLS handshake on a libevent
 * OpenSSL bufferevent, hand the plaintext to the HTTP/1.1 or h2 driver chosen by ALPN, and
 * publish what the origin saw (origin.hello, origin.request). A plain-HTTP connection (the
 * http_port listeners) skips the peek and TLS: it starts in the HTTP/1.1 driver on a socket
 * bufferevent, and its site is picked per request from the Host header. The drivers see the
 * fields of
 * struct origin_conn and call back here for events, /echo bodies and closing; they never free
 * the connection: a driver returns -1 (setting c->why) and the top-level callback closes it.
 */
#ifndef MITMLAB_ORIGIN_CONN_H
#define MITMLAB_ORIGIN_CONN_H

#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/bufferevent.h>
#include <openssl/ssl.h>

#include "origin_conf.h"
#include "origin_tls.h"
#include "tlspeek.h"
#include "util.h"

struct bus;
struct origin_h1;
struct origin_h2;

/* The server state a connection needs (owned by origin.c). */
struct origin_srv {
	struct event_base	*base;
	const struct origin_conf *conf;
	const struct origin_tls	*tls;
	struct bus		*bus;		/* NULL: events off */
	struct origin_conn	*conns;		/* every open connection */
	size_t			 n_conns;
	uint64_t		 accepted, refused;
};

enum origin_conn_phase {
	ORIGIN_CONN_PEEK,
	ORIGIN_CONN_HANDSHAKE,
	ORIGIN_CONN_H1,
	ORIGIN_CONN_H2,
};

struct origin_conn {
	struct origin_srv	*srv;
	struct origin_conn	*prev, *next;
	evutil_socket_t		 fd;
	int			 plain;			/* plain HTTP: no TLS at all */
	int			 phase;			/* enum origin_conn_phase */
	uint64_t		 t_accept;		/* monotonic ns */
	char			 peer_ip[UTIL_ADDRSTRLEN], local_ip[UTIL_ADDRSTRLEN];
	int			 peer_port, local_port;
	struct sockaddr_storage	 local;
	char			 flow[2 * UTIL_ADDRSTRLEN + 16];

	/* Peek phase. */
	struct event		*peek_ev;
	struct event		*hs_ev;		/* the handshake's absolute deadline */
	uint8_t			*peek_buf;
	size_t			 peek_cap;

	/* What the ClientHello said (hello_parsed = 0: tlspeek could not parse it). */
	int			 hello_parsed;
	char			 peek_error[96];
	char			 sni[256];
	char			 ja3[33];
	char			*ja3_str;
	char			 ja4[TLSPEEK_JA4_LEN];
	char			 random[65];	/* ClientHello.random, lower-case hex */
	int			 hello_version, record_version;

	/* TLS. */
	const struct origin_site *site;
	SSL			*ssl;
	struct bufferevent	*bev;
	char			 version[16], cipher[80], alpn[32];
	int			 client_cert;

	/* HTTP. */
	char			*ua;			/* first request's User-Agent, or NULL */
	int			 hello_sent;
	unsigned long		 n_requests;
	int			 close_when_flushed;
	const char		*why;			/* close reason set by a driver */
	struct origin_h1	*h1;
	struct origin_h2	*h2;
};

/* Take the accepted socket fd (takes ownership) and start peeking; -1 if refused. */
int origin_conn_accept(struct origin_srv *srv, evutil_socket_t fd, const struct sockaddr *peer);
/* The same for a plain-HTTP listener: no peek, no TLS, straight to HTTP/1.1. */
int origin_conn_accept_plain(struct origin_srv *srv, evutil_socket_t fd,
    const struct sockaddr *peer);
/* Plain HTTP: pick the site for a request's Host header value (may be "" or malformed: the
 * default_for / first-site rule then applies). No-op on TLS connections. */
void origin_conn_plain_site(struct origin_conn *c, const char *host);
/* The only way a connection ends: emits a pending origin.hello, frees everything. */
void origin_conn_close(struct origin_conn *c, const char *reason);
/* Close every connection (shutdown). */
void origin_conn_close_all(struct origin_srv *srv);
/* The first request was parsed: remember its User-Agent (may be NULL) and emit origin.hello. */
void origin_conn_first_request(struct origin_conn *c, const char *ua);
/* Emit origin.request. */
void origin_conn_request(struct origin_conn *c, const char *method, const char *path,
    const char *authority, const char *ua, int status, uint64_t bytes);
/* The /echo body (malloc'd JSON text, *len its length) describing what the origin saw. */
char *origin_conn_echo(const struct origin_conn *c, const char *proto, const char *authority,
    const char *path, const char *ua, size_t *len);

#endif
