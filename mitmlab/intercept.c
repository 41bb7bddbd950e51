/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * intercept — drives an intercepted flow through both TLS handshakes on OpenSSL bufferevents
 * (BUFFEREVENT_SSL_CONNECTING upstream, BUFFEREVENT_SSL_ACCEPTING towards the client) and
 * publishes proxy.upstream (with "resumed"). With --upstream-resume the upstream leg offers the
 * worker's cached session for its destination, SNI and hello profile (upstream.c); a resumed
 * session without the origin's certificate chain is not forged from: the upstream leg is
 * redialled for a full handshake. An origin that fails the upstream check is spliced
 * (--require-valid-upstream), refused, or, for a profile that does so (Squid), forged under
 * the proxy's untrusted CA and served with it, so the client sees an error as it would have
 * directly (proxy.forge "untrusted_issuer", proxy.stats "untrusted_signed"). Until the relay
 * starts, an event on either leg ends the connection with a reason naming the leg
 * ("upstream-tls", "client-tls", "eof-upstream", ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <jansson.h>

#include "bus.h"
#include "conn.h"
#include "dial.h"
#include "intercept.h"
#include "leaf.h"
#include "log.h"
#include "proxy.h"
#include "tlsserver.h"
#include "upstream.h"
#include "worker.h"

/* Wrap fd in an OpenSSL bufferevent for the handshake; the half owns fd and ssl from then on
 * (relay_free), not the bufferevent, so that the relay can drop it (relay.h). NULL frees ssl
 * and leaves fd to the caller. */
static struct bufferevent *
intercept_bev(struct conn *c, int *fdp, SSL *ssl, enum bufferevent_ssl_state st,
    bufferevent_event_cb cb)
{
	struct bufferevent *bev;

	bev = bufferevent_openssl_socket_new(c->w->base, *fdp, ssl, st, BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	*fdp = -1;
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setwatermark(bev, EV_READ, 0, RELAY_HIGH);
	bufferevent_setcb(bev, NULL, NULL, cb, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return bev;
}

/* Publish proxy.upstream for the finished upstream handshake. */
static void
intercept_publish_upstream(struct conn *c, SSL *ssl, enum upstream_verdict v)
{
	static const char *const verdicts[] = { "intercept", "splice", "refuse" };
	json_t *ev = bus_prepare(c->w->bus, "proxy.upstream");

	if (ev == NULL)
		return;
	json_object_set_new(ev, "flow", json_string(c->flow));
	json_object_set_new(ev, "hello", json_string(config_hello_name(
	    c->w->px->cfg->upstream_hello)));
	upstream_describe(ssl, ev);
	json_object_set_new(ev, "verdict", json_string(verdicts[v]));
	json_object_set_new(ev, "hs_upstream_us", json_integer((json_int_t)c->hs_upstream_us));
	worker_publish(c->w, ev);
}

/* The upstream handshake finished: judge it, then forge or fall back. */
static void
intercept_upstream_done(struct conn *c)
{
	struct proxy *px = c->w->px;
	SSL *ssl = bufferevent_openssl_get_ssl(c->upstream.bev);
	const char *sni = conn_sni(c);
	enum upstream_verdict v;
	char why[256] = "";

	c->hs_upstream_us = (util_mono_ns() - c->t_up_start) / 1000;
	c->w->st.up_handshakes++;
	switch (upstream_resume_result(ssl)) {
	case UPSTREAM_RESUME_NONE:
		break;
	case UPSTREAM_RESUME_REFUSED:
		c->w->st.up_refused++;
		break;
	case UPSTREAM_RESUMED:
		c->w->st.up_resumed++;
		break;
	case UPSTREAM_RESUME_UNUSABLE:	/* never forge from a session without the origin's chain */
		c->w->st.up_unusable++;
		log_debug("%s: resumed upstream session has no certificate chain: full handshake",
		    c->flow);
		relay_free(&c->upstream, 0);
		c->up_full = 1;
		dial_start(c);
		return;
	}
	v = upstream_check(ssl, sni, px->verify, px->cfg->require_valid, why, sizeof(why));
	intercept_publish_upstream(c, ssl, v);
	if (v == UPSTREAM_SPLICE) {
		conn_why(c, "%s", why);
		relay_free(&c->upstream, 0);
		c->action = POLICY_SPLICE;
		dial_start(c);
		return;
	}
	if (v == UPSTREAM_REFUSE && px->untrusted != NULL) {	/* Squid passes the error on */
		conn_why(c, "%s → signed by the untrusted CA", why);
		c->untrusted = 1;
		c->w->st.untrusted_signed++;
	} else if (v == UPSTREAM_REFUSE) {
		conn_why(c, "%s", why);
		conn_publish_open(c);
		conn_term(c, "upstream-verify", why);
		return;
	}
	if ((c->orig_leaf = SSL_get1_peer_certificate(ssl)) == NULL) {
		conn_term(c, "upstream-tls", "the origin sent no certificate");
		return;
	}
	conn_publish_open(c);
	if (leaf_get(c) == 1)
		intercept_leaf_ready(c);
}

/* Upstream leg event before the relay runs. */
static void
intercept_up_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char eb[256];

	if (what & BEV_EVENT_CONNECTED) {
		intercept_upstream_done(c);
		conn_settle(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->phase != CONN_UP_TLS) {
		c->upstream.eof = 1;	/* the relay delivers what the origin sent, then closes */
		bufferevent_disable(bev, EV_READ);
		return;
	}
	relay_error_text(bev, what, eb, sizeof(eb));
	if (c->phase == CONN_UP_TLS)
		conn_close(c, "upstream-tls", eb);
	else
		conn_close(c, (what & BEV_EVENT_EOF) ? "eof-upstream" : "error", eb);
}

/* Client leg event before the relay runs. */
static void
intercept_client_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char eb[256];

	if (what & BEV_EVENT_CONNECTED) {
		c->hs_client_us = (util_mono_ns() - c->t_client_start) / 1000;
		c->w->st.handshakes++;
		if (SSL_session_reused(bufferevent_openssl_get_ssl(bev)))
			c->w->st.client_resumed++;
		conn_relay(c);
		return;
	}
	conn_close(c, "client-tls", relay_error_text(bev, what, eb, sizeof(eb)));
}

/* Start the upstream TLS handshake. */
void
intercept_connected(struct conn *c)
{
	struct worker *w = c->w;
	char *cause = NULL;
	SSL *ssl;

	if ((ssl = upstream_ssl_new(w->up_ctx, w->px->cfg->upstream_hello, c->hello,
	    &cause)) == NULL) {
		conn_term(c, "error", cause);
		free(cause);
		return;
	}
	if (w->sess != NULL && upstream_resume_offer(ssl, w->sess,
	    (struct sockaddr *)&c->setup->dsa, w->px->cfg->upstream_hello, c->hello,
	    !c->up_full) == 1)
		w->st.up_offered++;
	c->phase = CONN_UP_TLS;
	c->t_up_start = util_mono_ns();
	c->upstream.bev = intercept_bev(c, &c->ufd, ssl, BUFFEREVENT_SSL_CONNECTING,
	    intercept_up_eventcb);
	if (c->upstream.bev == NULL)
		conn_term(c, "error", "cannot create the upstream TLS bufferevent");
}

/* Start the client-facing handshake with the forged leaf. */
void
intercept_leaf_ready(struct conn *c)
{
	struct worker *w = c->w;
	char *cause = NULL;
	SSL *ssl;

	/* the upstream leg lives until conn_close frees it after the client leg: the client leg
	 * answers ALPN with the origin's choice read from it */
	ssl = tlsserver_ssl_new(w->down_ctx, c->forged, c->leafkey, c->untrusted ?
	    w->px->untrusted_chain : w->px->chain,
	    c->upstream.bev != NULL ? bufferevent_openssl_get_ssl(c->upstream.bev) : NULL, &cause);
	if (ssl == NULL) {
		conn_term(c, "forge-failed", cause);
		free(cause);
		return;
	}
	c->phase = CONN_CLIENT_TLS;
	c->t_client_start = util_mono_ns();
	c->client.bev = intercept_bev(c, &c->cfd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    intercept_client_eventcb);
	if (c->client.bev == NULL)
		conn_term(c, "error", "cannot create the client TLS bufferevent");
}
