/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_conn — accept → peek → handshake → HTTP driver → close for one connection of
 * `mitmlab origin`, and the origin-vantage events. The peek reads the ClientHello with
 * recv(MSG_PEEK) on an edge-triggered event (a partial hello waits for the next segment instead
 * of spinning) under an absolute handshake deadline and TLSPEEK_MAX_BYTES, so OpenSSL later
 * reads the very same bytes. Plain-HTTP connections go straight to origin_h1 on a socket
 * bufferevent. Parsing HTTP is left to origin_h1 / origin_h2.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <jansson.h>
#include <openssl/err.h>

#include "bus.h"
#include "log.h"
#include "origin_conn.h"
#include "origin_h1.h"
#include "origin_h2.h"
#include "origin_http.h"

#define ORIGIN_CONN_PEEK_START	4096

static void origin_conn_event_cb(struct bufferevent *bev, short what, void *arg);

/* Absolute handshake deadline left, as a timeval (at least 1 ms). */
static struct timeval
origin_conn_hs_left(const struct origin_conn *c)
{
	uint64_t limit = (uint64_t)c->srv->conf->handshake_timeout * 1000000000ull;
	uint64_t spent = util_mono_ns() - c->t_accept;
	uint64_t left = spent < limit ? limit - spent : 0;
	struct timeval tv;

	if (left < 1000000)
		left = 1000000;
	tv.tv_sec = (time_t)(left / 1000000000ull);
	tv.tv_usec = (suseconds_t)((left % 1000000000ull) / 1000);
	return tv;
}

/* A JSON string or null. */
static json_t *
origin_conn_jstr(const char *s)
{
	return s != NULL && *s != '\0' ? json_string(s) : json_null();
}

/* {"ip": ..., "port": ...} */
static json_t *
origin_conn_jaddr(const char *ip, int port)
{
	return json_pack("{s:s, s:i}", "ip", ip, "port", port);
}

/* Emit origin.hello once, with error (may be NULL). */
static void
origin_conn_hello_event(struct origin_conn *c, const char *error)
{
	char vb[16], rb[16];
	json_t *ev;

	if (c->hello_sent)
		return;
	c->hello_sent = 1;
	if ((ev = bus_prepare(c->srv->bus, "origin.hello")) == NULL)
		return;
	json_object_set_new(ev, "flow", json_string(c->flow));
	json_object_set_new(ev, "tls", json_boolean(!c->plain));
	json_object_set_new(ev, "client", origin_conn_jaddr(c->peer_ip, c->peer_port));
	json_object_set_new(ev, "local", origin_conn_jaddr(c->local_ip, c->local_port));
	json_object_set_new(ev, "sni", origin_conn_jstr(c->sni));
	json_object_set_new(ev, "site", origin_conn_jstr(c->site ? c->site->conf->name : NULL));
	json_object_set_new(ev, "ja3", origin_conn_jstr(c->hello_parsed ? c->ja3 : NULL));
	json_object_set_new(ev, "ja3_str", origin_conn_jstr(c->hello_parsed ? c->ja3_str : NULL));
	json_object_set_new(ev, "ja4", origin_conn_jstr(c->hello_parsed ? c->ja4 : NULL));
	/* joins a hello that arrived unchanged (a spliced flow's) to client.result's */
	json_object_set_new(ev, "client_random", origin_conn_jstr(c->hello_parsed ?
	    c->random : NULL));
	json_object_set_new(ev, "hello_version", c->hello_parsed ?
	    json_string(origin_conf_tls_name(c->hello_version, vb)) : json_null());
	json_object_set_new(ev, "record_version", c->hello_parsed ?
	    json_string(origin_conf_tls_name(c->record_version, rb)) : json_null());
	json_object_set_new(ev, "peek_error", origin_conn_jstr(c->peek_error));
	json_object_set_new(ev, "version", origin_conn_jstr(c->version));
	json_object_set_new(ev, "cipher", origin_conn_jstr(c->cipher));
	json_object_set_new(ev, "alpn", origin_conn_jstr(c->alpn));
	json_object_set_new(ev, "ua", c->ua != NULL ? json_string(c->ua) : json_null());
	json_object_set_new(ev, "client_cert", c->plain ? json_null() :
	    json_boolean(c->client_cert));
	json_object_set_new(ev, "error", origin_conn_jstr(error));
	bus_publish(c->srv->bus, ev);
}

/* First request parsed. */
void
origin_conn_first_request(struct origin_conn *c, const char *ua)
{
	if (c->hello_sent)
		return;
	free(c->ua);
	c->ua = ua != NULL ? strdup(ua) : NULL;
	origin_conn_hello_event(c, NULL);
}

/* Emit origin.request. */
void
origin_conn_request(struct origin_conn *c, const char *method, const char *path,
    const char *authority, const char *ua, int status, uint64_t bytes)
{
	json_t *ev;

	c->n_requests++;
	if ((ev = bus_prepare(c->srv->bus, "origin.request")) == NULL)
		return;
	json_object_set_new(ev, "flow", json_string(c->flow));
	json_object_set_new(ev, "site", json_string(c->site->conf->name));
	json_object_set_new(ev, "method", origin_conn_jstr(method));
	json_object_set_new(ev, "path", origin_conn_jstr(path));
	json_object_set_new(ev, "authority", origin_conn_jstr(authority));
	json_object_set_new(ev, "ua", ua != NULL ? json_string(ua) : json_null());
	json_object_set_new(ev, "status", json_integer(status));
	json_object_set_new(ev, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(ev, "proto", json_string(c->phase == ORIGIN_CONN_H2 ? "h2" :
	    "http/1.1"));
	json_object_set_new(ev, "tls", json_boolean(!c->plain));
	bus_publish(c->srv->bus, ev);
}

/* The /echo body. */
char *
origin_conn_echo(const struct origin_conn *c, const char *proto, const char *authority,
    const char *path, const char *ua, size_t *len)
{
	char vb[16], client[UTIL_ADDRSTRLEN + 8];
	json_t *o;
	char *s;

	snprintf(client, sizeof(client), "%s:%d", c->peer_ip, c->peer_port);
	o = json_object();
	json_object_set_new(o, "site", json_string(c->site->conf->name));
	json_object_set_new(o, "sni", origin_conn_jstr(c->sni));
	json_object_set_new(o, "ja3", origin_conn_jstr(c->hello_parsed ? c->ja3 : NULL));
	json_object_set_new(o, "ja3_str", origin_conn_jstr(c->hello_parsed ? c->ja3_str : NULL));
	json_object_set_new(o, "ja4", origin_conn_jstr(c->hello_parsed ? c->ja4 : NULL));
	json_object_set_new(o, "hello_version", c->hello_parsed ?
	    json_string(origin_conf_tls_name(c->hello_version, vb)) : json_null());
	json_object_set_new(o, "version", origin_conn_jstr(c->version));
	json_object_set_new(o, "cipher", origin_conn_jstr(c->cipher));
	json_object_set_new(o, "alpn", origin_conn_jstr(c->alpn));
	json_object_set_new(o, "proto", json_string(proto));
	json_object_set_new(o, "tls", json_boolean(!c->plain));
	json_object_set_new(o, "client", json_string(client));
	json_object_set_new(o, "flow", json_string(c->flow));
	json_object_set_new(o, "client_cert", c->plain ? json_null() :
	    json_boolean(c->client_cert));
	json_object_set_new(o, "authority", origin_conn_jstr(authority));
	json_object_set_new(o, "path", origin_conn_jstr(path));
	json_object_set_new(o, "ua", ua != NULL ? json_string(ua) : json_null());
	s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (s != NULL) {
		size_t n = strlen(s);
		/* One line, for curl users. */
		char *t = realloc(s, n + 2);
		if (t != NULL) {
			s = t;
			s[n++] = '\n';
			s[n] = '\0';
		}
		*len = n;
	}
	return s;
}

/* Close and free. */
void
origin_conn_close(struct origin_conn *c, const char *reason)
{
	struct origin_srv *srv = c->srv;

	log_debug("%s: close (%s) after %lu requests", c->flow, reason, c->n_requests);
	if (!c->hello_sent && c->plain) {
		/* A plain connection that never sent a request (the packet plane may have
		 * answered it and reset this side): say how it ended. */
		char why[128];
		snprintf(why, sizeof(why), "no request: %s", reason);
		origin_conn_hello_event(c, why);
	} else if (!c->hello_sent && c->phase >= ORIGIN_CONN_H1)
		origin_conn_hello_event(c, NULL);	/* a handshake with no request */
	if (c->h1 != NULL)
		origin_h1_free(c);
	if (c->h2 != NULL)
		origin_h2_free(c);
	if (c->peek_ev != NULL)
		event_free(c->peek_ev);
	if (c->hs_ev != NULL)
		event_free(c->hs_ev);
	free(c->peek_buf);
	if (c->bev != NULL) {
		/* A finished TLS session ends with close_notify, as real servers do (clients such
		 * as s_client report a bare EOF as an error); best effort, never blocks. */
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		if (ssl != NULL && SSL_is_init_finished(ssl) &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
			SSL_shutdown(ssl);
			ERR_clear_error();
		}
		bufferevent_free(c->bev);
	} else {
		if (c->ssl != NULL)
			SSL_free(c->ssl);
		if (c->fd != -1)
			close(c->fd);
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->n_conns--;
	free(c->ja3_str);
	free(c->ua);
	free(c);
}

/* Close everything. */
void
origin_conn_close_all(struct origin_srv *srv)
{
	int bound = 10000000;

	while (srv->conns != NULL && bound-- > 0)
		origin_conn_close(srv->conns, "shutdown");
}

/* The handshake failed: say why from the OpenSSL queue or errno. */
static void
origin_conn_hs_fail(struct origin_conn *c, short what)
{
	char err[256];
	unsigned long e;

	if (what & BEV_EVENT_TIMEOUT)
		snprintf(err, sizeof(err), "handshake timeout");
	else if ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		ERR_error_string_n(e, err, sizeof(err));
		while (bufferevent_get_openssl_error(c->bev) != 0)
			;
	} else if (what & BEV_EVENT_EOF)
		snprintf(err, sizeof(err), "client closed during the handshake");
	else if (EVUTIL_SOCKET_ERROR() != 0)
		snprintf(err, sizeof(err), "socket: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else
		snprintf(err, sizeof(err), "handshake failed");
	ERR_clear_error();
	log_debug("%s: handshake failed: %s", c->flow, err);
	origin_conn_hello_event(c, err);
	origin_conn_close(c, "handshake failed");
}

/* The handshake's deadline passed (however the client paced its bytes). */
static void
origin_conn_hs_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct origin_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->phase == ORIGIN_CONN_HANDSHAKE)
		origin_conn_hs_fail(c, BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
}

/* Handshake done: record what was negotiated and start the HTTP driver. */
static void
origin_conn_established(struct origin_conn *c)
{
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;
	const SSL_CIPHER *ciph;
	struct timeval idle = { (time_t)c->srv->conf->idle_timeout, 0 };
	int rc;

	c->site = origin_tls_site_of(c->ssl);
	snprintf(c->version, sizeof(c->version), "%s", SSL_get_version(c->ssl));
	if ((ciph = SSL_get_current_cipher(c->ssl)) != NULL)
		snprintf(c->cipher, sizeof(c->cipher), "%s", SSL_CIPHER_standard_name(ciph));
	SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
	if (alpn_len > 0 && alpn_len < sizeof(c->alpn)) {
		memcpy(c->alpn, alpn, alpn_len);
		c->alpn[alpn_len] = '\0';
	}
	c->client_cert = SSL_get0_peer_certificate(c->ssl) != NULL;
	if (c->hs_ev != NULL) {
		event_free(c->hs_ev);
		c->hs_ev = NULL;
	}
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	if (strcmp(c->alpn, "h2") == 0) {
		c->phase = ORIGIN_CONN_H2;
		rc = origin_h2_start(c);
	} else {
		c->phase = ORIGIN_CONN_H1;
		rc = origin_h1_start(c);
	}
	if (rc == -1)
		origin_conn_close(c, c->why ? c->why : "driver start failed");
}

/* Read callback: hand plaintext to the driver. */
static void
origin_conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct origin_conn *c = arg;
	int rc = 0;

	(void)bev;
	if (c->phase == ORIGIN_CONN_H1)
		rc = origin_h1_read(c);
	else if (c->phase == ORIGIN_CONN_H2)
		rc = origin_h2_read(c);
	if (rc == -1)
		origin_conn_close(c, c->why ? c->why : "protocol error");
}

/* Write callback: the driver refills; close once flushed when asked to. */
static void
origin_conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct origin_conn *c = arg;
	int rc = 0;

	if (c->phase == ORIGIN_CONN_H1)
		rc = origin_h1_write(c);
	else if (c->phase == ORIGIN_CONN_H2)
		rc = origin_h2_write(c);
	if (rc == -1) {
		origin_conn_close(c, c->why ? c->why : "protocol error");
		return;
	}
	if (c->close_when_flushed && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		origin_conn_close(c, c->why ? c->why : "done");
}

/* Event callback: handshake done, EOF, errors, timeouts. */
static void
origin_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct origin_conn *c = arg;
	int busy;

	if (what & BEV_EVENT_CONNECTED) {
		origin_conn_established(c);
		return;
	}
	if (c->phase == ORIGIN_CONN_HANDSHAKE) {
		origin_conn_hs_fail(c, what);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		/* A client that only downloads is not idle while its response flows. */
		busy = evbuffer_get_length(bufferevent_get_output(bev)) > 0 ||
		    (c->phase == ORIGIN_CONN_H1 && origin_h1_busy(c));
		if (busy) {
			bufferevent_enable(bev, EV_READ);
			return;
		}
		origin_conn_close(c, "idle timeout");
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		origin_conn_close(c, "write timeout");
	else if (what & BEV_EVENT_EOF)
		origin_conn_close(c, "eof");
	else if (c->plain && EVUTIL_SOCKET_ERROR() == ECONNRESET)
		origin_conn_close(c, "reset");
	else
		origin_conn_close(c, "error");
	ERR_clear_error();
}

/* Start the TLS handshake on the chosen site's SSL_CTX. */
static void
origin_conn_start_tls(struct origin_conn *c)
{
	struct timeval left = origin_conn_hs_left(c);

	event_free(c->peek_ev);
	c->peek_ev = NULL;
	free(c->peek_buf);
	c->peek_buf = NULL;
	c->site = origin_tls_pick(c->srv->tls, c->sni, (const struct sockaddr *)&c->local);
	c->phase = ORIGIN_CONN_HANDSHAKE;
	if ((c->ssl = SSL_new(c->site->ctx)) == NULL) {
		log_ssl("%s: SSL_new", c->flow);
		origin_conn_close(c, "SSL_new failed");
		return;
	}
	SSL_set_app_data(c->ssl, c);
	c->bev = bufferevent_openssl_socket_new(c->srv->base, c->fd, c->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("%s: cannot create the TLS bufferevent", c->flow);
		origin_conn_close(c, "bufferevent failed");
		return;
	}
	/* The bufferevent now owns ssl and fd. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, origin_conn_read_cb, origin_conn_write_cb, origin_conn_event_cb,
	    c);
	bufferevent_set_timeouts(c->bev, &left, &left);
	/* The bufferevent's timeouts restart on every byte, so a client trickling its flight
	 * would never hit them: the deadline itself is a timer of its own. */
	if ((c->hs_ev = evtimer_new(c->srv->base, origin_conn_hs_deadline, c)) == NULL ||
	    evtimer_add(c->hs_ev, &left) == -1) {
		origin_conn_close(c, "cannot arm the handshake deadline");
		return;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* Keep the fingerprints of a parsed hello. */
static void
origin_conn_hello_parsed(struct origin_conn *c, const struct tlspeek_hello *h)
{
	char ja3s[TLSPEEK_JA3_MAX];

	c->hello_parsed = 1;
	if (h->has_sni)
		snprintf(c->sni, sizeof(c->sni), "%s", h->sni);
	c->hello_version = h->max_version;
	c->record_version = h->record_version;
	tlspeek_ja3(h, ja3s, sizeof(ja3s), c->ja3);
	c->ja3_str = strdup(ja3s);
	tlspeek_ja4(h, c->ja4);
	util_hex(h->random, sizeof(h->random), c->random);
}

/* Peek callback: read what has arrived without consuming it and try to parse a hello. */
static void
origin_conn_peek_cb(evutil_socket_t fd, short what, void *arg)
{
	struct origin_conn *c = arg;
	struct tlspeek_hello *h;
	enum tlspeek_status st = TLSPEEK_NEED_MORE;
	char *why = NULL;
	ssize_t n = 0;
	int rounds;

	if ((what & EV_TIMEOUT) || util_mono_ns() - c->t_accept >=
	    (uint64_t)c->srv->conf->handshake_timeout * 1000000000ull) {
		snprintf(c->peek_error, sizeof(c->peek_error), "no complete ClientHello in time");
		origin_conn_hello_event(c, "handshake timeout (waiting for the ClientHello)");
		origin_conn_close(c, "peek timeout");
		return;
	}
	if ((h = malloc(sizeof(*h))) == NULL) {
		origin_conn_close(c, "out of memory");
		return;
	}
	for (rounds = 0; rounds < 8; rounds++) {
		n = recv(fd, c->peek_buf, c->peek_cap, MSG_PEEK);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			free(h);
			origin_conn_hello_event(c, n == 0 ? "client closed before the ClientHello" :
			    "socket error before the ClientHello");
			origin_conn_close(c, "closed while peeking");
			return;
		}
		if (n < 0) {
			free(h);
			return;		/* spurious wakeup; wait for the next edge */
		}
		st = tlspeek_parse(c->peek_buf, (size_t)n, h, &why);
		if (st == TLSPEEK_NEED_MORE && (size_t)n == c->peek_cap &&
		    c->peek_cap < TLSPEEK_MAX_BYTES) {
			/* The buffer was the limit, not the data: grow and peek again. */
			size_t cap = c->peek_cap * 4 > TLSPEEK_MAX_BYTES ? TLSPEEK_MAX_BYTES :
			    c->peek_cap * 4;
			uint8_t *nb = realloc(c->peek_buf, cap);
			free(why);
			why = NULL;
			if (nb == NULL)
				break;
			c->peek_buf = nb;
			c->peek_cap = cap;
			continue;
		}
		break;
	}
	if (st == TLSPEEK_NEED_MORE && (size_t)n < c->peek_cap) {
		struct timeval left = origin_conn_hs_left(c);
		free(h);
		free(why);
		event_add(c->peek_ev, &left);	/* keep the deadline absolute */
		return;		/* wait for more segments (edge-triggered) */
	}
	if (st == TLSPEEK_OK)
		origin_conn_hello_parsed(c, h);
	else
		snprintf(c->peek_error, sizeof(c->peek_error), "%s",
		    why ? why : "ClientHello not parsed");
	free(why);
	free(h);
	origin_conn_start_tls(c);
}

/* Register an accepted connection (common to TLS and plain); NULL when refused. */
static struct origin_conn *
origin_conn_new(struct origin_srv *srv, evutil_socket_t fd, const struct sockaddr *peer)
{
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	struct origin_conn *c;
	char ps[UTIL_ADDRSTRLEN + 8], ls[UTIL_ADDRSTRLEN + 8];
	int one = 1;

	if (srv->n_conns >= (size_t)srv->conf->max_conns) {
		srv->refused++;
		close(fd);
		return NULL;
	}
	memset(&local, 0, sizeof(local));
	if (getsockname(fd, (struct sockaddr *)&local, &ll) == -1 ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = srv;
	c->fd = fd;
	c->t_accept = util_mono_ns();
	c->local = local;
	c->peer_port = util_sa_host(peer, c->peer_ip, sizeof(c->peer_ip));
	c->local_port = util_sa_host((struct sockaddr *)&local, c->local_ip, sizeof(c->local_ip));
	snprintf(c->flow, sizeof(c->flow), "%s>%s", util_sa_str(peer, ps, sizeof(ps)),
	    util_sa_str((struct sockaddr *)&local, ls, sizeof(ls)));
	c->phase = ORIGIN_CONN_PEEK;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	srv->accepted++;
	return c;
}

/* Accept: register the connection and wait for its ClientHello. */
int
origin_conn_accept(struct origin_srv *srv, evutil_socket_t fd, const struct sockaddr *peer)
{
	struct timeval hs = { (time_t)srv->conf->handshake_timeout, 0 };
	struct origin_conn *c;

	if ((c = origin_conn_new(srv, fd, peer)) == NULL)
		return -1;
	c->peek_cap = ORIGIN_CONN_PEEK_START;
	if ((c->peek_buf = malloc(c->peek_cap)) == NULL ||
	    (c->peek_ev = event_new(srv->base, fd, EV_READ | EV_PERSIST | EV_ET,
	    origin_conn_peek_cb, c)) == NULL || event_add(c->peek_ev, &hs) == -1) {
		origin_conn_close(c, "out of memory");
		return -1;
	}
	log_debug("%s: accepted", c->flow);
	return 0;
}

/* Plain HTTP: pick the request's site by its Host. */
void
origin_conn_plain_site(struct origin_conn *c, const char *host)
{
	char name[ORIGIN_HTTP_MAX_HOST];

	if (!c->plain)
		return;
	if (origin_http_host(host, name, sizeof(name)) == -1)
		name[0] = '\0';
	c->site = origin_tls_pick_plain(c->srv->tls, name, (const struct sockaddr *)&c->local);
}

/* Accept on a plain-HTTP listener: straight to the HTTP/1.1 driver. */
int
origin_conn_accept_plain(struct origin_srv *srv, evutil_socket_t fd,
    const struct sockaddr *peer)
{
	struct timeval idle = { (time_t)srv->conf->idle_timeout, 0 };
	struct origin_conn *c;

	if ((c = origin_conn_new(srv, fd, peer)) == NULL)
		return -1;
	c->plain = 1;
	c->phase = ORIGIN_CONN_H1;
	origin_conn_plain_site(c, NULL);	/* until a request names its Host */
	evutil_make_socket_nonblocking(fd);
	if ((c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		origin_conn_close(c, "out of memory");
		return -1;
	}
	/* The bufferevent now owns fd. */
	bufferevent_setcb(c->bev, origin_conn_read_cb, origin_conn_write_cb, origin_conn_event_cb,
	    c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_debug("%s: accepted (plain HTTP)", c->flow);
	if (origin_h1_start(c) == -1) {
		origin_conn_close(c, c->why ? c->why : "driver start failed");
		return -1;
	}
	return 0;
}
