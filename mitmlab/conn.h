/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn — one diverted client connection inside the engine: two symmetric halves (client side,
 * upstream side, see relay.h), the original destination, the peeked ClientHello, the policy
 * decision and the timers. conn.c owns the lifecycle: accept, original destination, decision,
 * the proxy.conn.open / proxy.conn.close events and the ONE way out, conn_close(). The steps
 * live beside it: peek.c (ClientHello), dial.c (upstream TCP), splice.c (splice and block),
 * intercept.c (both TLS legs), leaf.c (the forged certificate). Helpers that fail only mark the
 * connection (conn_term); the libevent callback that called them finishes with conn_settle(),
 * which closes a marked connection last.
 */
#ifndef MITMLAB_CONN_H
#define MITMLAB_CONN_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "policy.h"
#include "relay.h"
#include "tlspeek.h"
#include "util.h"

struct worker;
struct keypool_req;

enum conn_phase {
	CONN_PEEK,		/* waiting for the ClientHello */
	CONN_DIAL,		/* upstream TCP connect in progress */
	CONN_UP_TLS,		/* upstream TLS handshake */
	CONN_KEYWAIT,		/* parked until the keypool delivers a key */
	CONN_CLIENT_TLS,	/* client-facing TLS handshake */
	CONN_RELAY,		/* relaying */
	CONN_BLOCK,		/* block-timeout: holding silently */
};

/* What only the way to the relay reads: the addresses and texts of proxy.conn.open, the dial
 * target and the certificate-cache key. conn_relay() frees it once proxy.conn.open is out, so
 * an idle relaying connection keeps none of it (struct conn was 1.6 KiB with these inline and
 * a 256-byte ALPN array; it is 0.5 KiB now). */
struct conn_setup {
	struct sockaddr_storage	 csa, dsa, usa;	/* client, original destination, upstream local */
	socklen_t		 dsalen;
	char			 why[384];
	char			 hello_err[128];
	unsigned char		 cache_key[32];	/* certcache key of orig_leaf; valid if cacheable */
	int			 cacheable;
};

struct conn {
	struct worker		*w;
	TAILQ_ENTRY(conn)	 entry;
	enum conn_phase		 phase;
	/* the upstream leg's SSL lives until conn_close frees it after the client leg's: the
	 * client leg's ALPN callback reads the origin's choice from it (tlsserver_ssl_new) */
	struct relay_half	 client, upstream;
	int			 cfd, ufd;	/* raw fds until a relay half takes them */
	struct conn_setup	*setup;		/* NULL once relaying (conn_relay) */
	char			 flow[2 * UTIL_ADDRSTRLEN + 2];
	enum policy_action	 action;
	int			 refused, decided, opened, rst, upstream_connected;
	int			 client_eof;	/* the client's FIN came with its hello */
	struct tlspeek_hello	*hello;		/* NULL until parsed */
	struct event		*ev_peek, *ev_dial, *ev_timer;
	struct keypool_req	*kreq;
	X509			*orig_leaf, *forged;
	EVP_PKEY		*leafkey;
	uint64_t		 t_start, t_up_start, t_client_start;
	uint64_t		 trim_ns;	/* last relay_trim pass (conn.c's timer) */
	uint64_t		 hs_upstream_us, hs_client_us;
	int			 key_waited;
	int			 untrusted;	/* upstream failed verification: signed by the
						 * untrusted CA (a profile that does so, Squid) */
	int			 up_full;	/* a resumed session was unusable: no resumption */
	/* termination mark set by nested helpers */
	const char		*term_reason;
	char			*term_err;
};

/* Take a freshly accepted client socket (takes ownership of fd); closes it on failure. */
void conn_accept(struct worker *w, int fd, const struct sockaddr *sa, socklen_t salen);
/* The only way out: publish proxy.conn.close, free everything, count it. */
void conn_close(struct conn *c, const char *reason, const char *err);
/* Mark c for termination (first mark wins); copies err. */
void conn_term(struct conn *c, const char *reason, const char *err);
/* Append "; " and printf-style text to the decision's why (while c->setup exists). */
void conn_why(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close c if marked; returns 1 if it was closed (c is gone). */
int conn_settle(struct conn *c);
/* Apply the policy to the peeked flow and start the chosen action. */
void conn_decide(struct conn *c);
/* Publish proxy.conn.open (once). */
void conn_publish_open(struct conn *c);
/* Arm the connection's single timer for ms milliseconds (phase decides what it means). */
void conn_timer(struct conn *c, int ms);
/* Both halves have bufferevents: start relaying and the idle timer; once proxy.conn.open is
 * out, free what only the way here needed (c->setup, c->hello). */
void conn_relay(struct conn *c);
/* "peek", "dial", ... for logs. */
const char *conn_phase_name(enum conn_phase p);
/* The client's SNI, or NULL when its hello is not parsed yet or named no server. */
const char *conn_sni(const struct conn *c);

#endif
