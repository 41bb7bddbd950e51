/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_conn — the per-connection state machine of the load generator. It drives the socket
 * and the SSL object directly from one libevent event (re-armed for read or write as OpenSSL
 * asks) instead of a bufferevent, so that every failure keeps its real cause: the errno of the
 * socket call, the TLS alert or the X509 verify code. An http:// URL skips the handshake and
 * speaks HTTP/1.1 with send()/recv() on the same socket, through the same stages, timer and
 * record (its TLS fields stay empty and are published as null). One way out: client_conn_finish
 * classifies, closes and calls the owner's done callback; nothing touches the connection after
 * that call. Timings are CLOCK_MONOTONIC microseconds: t_connect_us and t_handshake_us are the
 * durations of those phases, t_first_byte_us and t_total_us count from the connect() call (like
 * curl's time_starttransfer and time_total).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <event2/buffer.h>

#include "client_conn.h"
#include "client_h1.h"
#include "client_h2.h"
#include "log.h"
#include "util.h"

struct client_conn {
	struct client_conn_params p;
	struct client_record r;
	int	fd;
	SSL	*ssl;
	struct event *io, *tmo;
	enum client_stage stage;
	int	h2;			/* ALPN chose h2 */
	int	early_fail;		/* failed inside client_conn_start; finish from the timer */
	int	finished;
	struct client_h1 h1;
	struct client_h2 s2;
	struct evbuffer *out;		/* plaintext waiting for SSL_write */
	uint64_t t0, t_est, t_hs;
};

static void client_conn_io(evutil_socket_t fd, short what, void *arg);

/* Microseconds from a to b. */
static int64_t
client_conn_us(uint64_t a, uint64_t b)
{
	return (int64_t)((b - a) / 1000);
}

/* Wait for what (EV_READ / EV_WRITE) on the socket. */
static void
client_conn_wait(struct client_conn *c, short what)
{
	event_del(c->io);
	event_assign(c->io, c->p.base, c->fd, what, client_conn_io, c);
	event_add(c->io, NULL);
}

/* Progress was made: restart the idle timer. */
static void
client_conn_progress(struct client_conn *c)
{
	struct timeval tv = { c->p.timeout_ms / 1000, (c->p.timeout_ms % 1000) * 1000 };

	evtimer_add(c->tmo, &tv);
}

/* Fill the 4-tuple fields of the record. */
static void
client_conn_addrs(struct client_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char a[UTIL_ADDRSTRLEN + 8], b[UTIL_ADDRSTRLEN + 8];

	if (c->r.client_ip[0] != '\0')
		return;
	memset(&ss, 0, sizeof(ss));
	if (c->fd == -1 || getsockname(c->fd, (struct sockaddr *)&ss, &sl) == -1)
		ss.ss_family = c->p.url->addr.ss_family;
	c->r.client_port = util_sa_host((struct sockaddr *)&ss, c->r.client_ip,
	    sizeof(c->r.client_ip));
	c->r.server_port = util_sa_host((const struct sockaddr *)&c->p.url->addr, c->r.server_ip,
	    sizeof(c->r.server_ip));
	snprintf(c->r.flow, sizeof(c->r.flow), "%s>%s",
	    util_sa_str((struct sockaddr *)&ss, a, sizeof(a)),
	    util_sa_str((const struct sockaddr *)&c->p.url->addr, b, sizeof(b)));
}

/* The one way out: classify, close, report. */
static void
client_conn_finish(struct client_conn *c)
{
	if (c->finished)
		return;
	c->finished = 1;
	event_del(c->io);
	event_del(c->tmo);
	client_conn_addrs(c);
	c->r.f.stage = c->stage;
	c->r.t_total_us = client_conn_us(c->t0, util_mono_ns());
	c->r.end_ns = util_now_ns();	/* the event's ts: close_notify below may yield the CPU */
	if (c->h2) {
		c->r.f.http_status = c->s2.status;
		c->r.body_bytes = c->s2.body_bytes;
		snprintf(c->r.location, sizeof(c->r.location), "%s", c->s2.location);
	} else if (c->stage >= CLIENT_STAGE_HTTP) {
		c->r.f.http_status = c->h1.status;
		c->r.body_bytes = c->h1.body_bytes;
		snprintf(c->r.location, sizeof(c->r.location), "%s", c->h1.location);
	}
	c->r.outcome = client_result_classify(&c->r.f);
	if (c->r.outcome == CLIENT_HTTP_ERROR && c->r.error[0] == '\0')
		client_result_error(&c->r, "HTTP status %d", c->r.f.http_status);
	if (c->r.outcome == CLIENT_REDIRECT && c->r.error[0] == '\0')
		client_result_error(&c->r, "HTTP %d to %s", c->r.f.http_status, c->r.location);
	if (c->ssl != NULL && c->stage == CLIENT_STAGE_DONE)
		(void)SSL_shutdown(c->ssl);	/* best effort close_notify */
	ERR_clear_error();
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->p.done(c, c->p.arg);
}

/* Mark the HTTP exchange broken, why being the first error (the caller finishes). */
static void
client_conn_malformed(struct client_conn *c, const char *why)
{
	c->r.f.http_malformed = 1;
	client_result_error(&c->r, "%s", why);
}

/* Wait for the socket when OpenSSL's error e asks to; 1 when it did. */
static int
client_conn_retry(struct client_conn *c, int e)
{
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return 0;
	client_conn_wait(c, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
	return 1;
}

/* Record a failed SSL call (rc, with the errno it left) and finish. */
static void
client_conn_ssl_fail(struct client_conn *c, int rc, int sys, const char *what)
{
	int e = SSL_get_error(c->ssl, rc);
	unsigned long q = ERR_peek_error();

	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && sys == 0 && q == 0)) {
		c->r.f.eof = 1;
		client_result_error(&c->r, "%s: server closed the connection", what);
	} else if (e == SSL_ERROR_SYSCALL) {
		if (q != 0 && ERR_GET_LIB(q) == ERR_LIB_SYS)
			sys = ERR_GET_REASON(q);
		c->r.f.sys_errno = sys != 0 ? sys : ECONNRESET;
		client_result_error(&c->r, "%s: %s", what, strerror(c->r.f.sys_errno));
	} else {
		if (q != 0 && ERR_GET_LIB(q) == ERR_LIB_SYS) {
			c->r.f.sys_errno = ERR_GET_REASON(q);
			client_result_error(&c->r, "%s: %s", what, strerror(c->r.f.sys_errno));
		} else {
			c->r.f.tls_error = 1;
			client_result_error(&c->r, "%s: %s", what, log_ssl_reason());
		}
	}
	ERR_clear_error();
	client_conn_finish(c);
}

/* Record a failed socket call on a plain connection and finish. */
static void
client_conn_sys_fail(struct client_conn *c, int err, const char *what)
{
	c->r.f.sys_errno = err;
	client_result_error(&c->r, "%s: %s", what, strerror(err));
	client_conn_finish(c);
}

/* Write pending plaintext; returns 1 when all written, 0 when waiting, -1 when finished. */
static int
client_conn_flush(struct client_conn *c)
{
	if (c->h2) {
		const unsigned char *data;
		ssize_t n;

		while ((n = client_h2_pending(&c->s2, &data)) > 0)
			evbuffer_add(c->out, data, (size_t)n);
		if (n < 0) {
			client_conn_malformed(c, c->s2.error);
			client_conn_finish(c);
			return -1;
		}
	}
	while (evbuffer_get_length(c->out) > 0) {
		size_t len = evbuffer_get_length(c->out);
		int chunk = len > 16384 ? 16384 : (int)len, rc, sys;
		const unsigned char *p = evbuffer_pullup(c->out, chunk);

		if (c->ssl == NULL) {
			ssize_t w = send(c->fd, p, (size_t)chunk, MSG_NOSIGNAL);
			if (w > 0) {
				evbuffer_drain(c->out, (size_t)w);
				client_conn_progress(c);
				continue;
			}
			if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
				client_conn_wait(c, EV_WRITE);
				return 0;
			}
			client_conn_sys_fail(c, w < 0 ? errno : EPIPE, "write");
			return -1;
		}
		ERR_clear_error();
		errno = 0;
		rc = SSL_write(c->ssl, p, chunk);
		sys = errno;
		if (rc > 0) {
			evbuffer_drain(c->out, (size_t)rc);
			client_conn_progress(c);
			continue;
		}
		if (client_conn_retry(c, SSL_get_error(c->ssl, rc)))
			return 0;
		client_conn_ssl_fail(c, rc, sys, "write");
		return -1;
	}
	return 1;
}

/* The response is complete (or broken): finish. */
static void
client_conn_http_done(struct client_conn *c)
{
	if (c->h2 && c->s2.failed)
		client_conn_malformed(c, c->s2.error);
	else if (!c->h2 && c->h1.state == CLIENT_H1_ERROR)
		client_conn_malformed(c, c->h1.error);
	if (!c->r.f.http_malformed && !c->r.f.eof)
		c->stage = CLIENT_STAGE_DONE;
	client_conn_finish(c);
}

/* HTTP stage: write what is pending, read what arrived. */
static void
client_conn_http(struct client_conn *c)
{
	unsigned char buf[16384];
	int rc, sys, fl, e;

	for (;;) {
		if ((fl = client_conn_flush(c)) == -1)
			return;
		if (fl == 0)
			return;
		if (c->ssl == NULL) {
			ssize_t got = recv(c->fd, buf, sizeof(buf), 0);
			if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
				client_conn_wait(c, EV_READ);
				return;
			}
			if (got < 0) {
				client_conn_sys_fail(c, errno, "read");
				return;
			}
			rc = (int)got;
			e = got == 0 ? SSL_ERROR_ZERO_RETURN : SSL_ERROR_NONE;
			sys = 0;
		} else {
			ERR_clear_error();
			errno = 0;
			rc = SSL_read(c->ssl, buf, sizeof(buf));
			sys = errno;
			e = rc > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, rc);
		}
		if (rc > 0) {
			/* the response's first byte: on h2 its first HEADERS or DATA, not the
			 * server's SETTINGS, which come at once */
			if (c->r.t_first_byte_us < 0 && !c->h2)
				c->r.t_first_byte_us = client_conn_us(c->t0, util_mono_ns());
			client_conn_progress(c);
			if (c->h2) {
				client_h2_recv(&c->s2, buf, (size_t)rc);
				if (c->r.t_first_byte_us < 0 && c->s2.responded)
					c->r.t_first_byte_us = client_conn_us(c->t0, util_mono_ns());
			} else
				client_h1_feed(&c->h1, buf, (size_t)rc);
			if ((c->h2 && c->s2.done) || (!c->h2 && (c->h1.state == CLIENT_H1_DONE ||
			    c->h1.state == CLIENT_H1_ERROR))) {
				client_conn_http_done(c);
				return;
			}
			continue;
		}
		if (client_conn_retry(c, e))
			return;
		if (e != SSL_ERROR_ZERO_RETURN) {
			client_conn_ssl_fail(c, rc, sys, "read");
			return;
		}
		if (!c->h2 && client_h1_eof(&c->h1) == 0) {
			client_conn_http_done(c);
			return;
		}
		if (!c->h2 && c->h1.state == CLIENT_H1_ERROR)
			client_conn_malformed(c, c->h1.error);
		c->r.f.eof = 1;
		client_result_error(&c->r, "server closed before the response was complete");
		client_conn_finish(c);
		return;
	}
}

/* Handshake done: describe it and queue the request. */
static void
client_conn_request(struct client_conn *c)
{
	char req[CLIENT_URL_PATHMAX + 1024], why[128];
	char *cause = NULL;
	int n;

	c->t_hs = util_mono_ns();
	if (c->ssl != NULL) {
		c->r.t_handshake_us = client_conn_us(c->t_est, c->t_hs);
		client_tls_describe(c->ssl, &c->r);
	}
	c->stage = CLIENT_STAGE_HTTP;
	if (strcmp(c->r.alpn, "h2") == 0) {
		c->h2 = 1;
		if (client_h2_start(&c->s2, c->p.url->authority, c->p.url->path, c->p.ua,
		    &cause) == -1) {
			client_conn_malformed(c, cause);
			free(cause);
			client_conn_finish(c);
			return;
		}
	} else if (strcmp(c->p.http, "2") == 0) {
		snprintf(why, sizeof(why), "--http 2 but the server did not negotiate h2 (ALPN %s)",
		    c->r.alpn[0] != '\0' ? c->r.alpn : "none");
		client_conn_malformed(c, why);
		client_conn_finish(c);
		return;
	} else {
		client_h1_init(&c->h1);
		n = client_h1_request(req, sizeof(req), c->p.url->path, c->p.url->authority,
		    c->p.ua);
		if (n < 0) {
			client_conn_malformed(c, "request too long");
			client_conn_finish(c);
			return;
		}
		evbuffer_add(c->out, req, (size_t)n);
	}
	client_conn_http(c);
}

/* TLS handshake step. */
static void
client_conn_handshake(struct client_conn *c)
{
	int rc, sys;

	ERR_clear_error();
	errno = 0;
	rc = SSL_connect(c->ssl);
	sys = errno;
	if (c->r.client_random[0] == '\0')
		client_tls_random(c->ssl, &c->r);
	if (rc == 1) {
		client_conn_progress(c);
		client_conn_request(c);
		return;
	}
	if (!client_conn_retry(c, SSL_get_error(c->ssl, rc)))
		client_conn_ssl_fail(c, rc, sys, "handshake");
}

/* TCP connect completed (or failed). */
static void
client_conn_connected(struct client_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	char *cause = NULL;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		c->r.f.sys_errno = err;
		client_result_error(&c->r, "connect: %s", strerror(err));
		client_conn_finish(c);
		return;
	}
	c->t_est = util_mono_ns();
	c->r.t_connect_us = client_conn_us(c->t0, c->t_est);
	client_conn_addrs(c);
	client_conn_progress(c);
	if (!c->p.url->tls) {
		client_conn_request(c);		/* plain HTTP: no handshake */
		return;
	}
	c->stage = CLIENT_STAGE_HANDSHAKE;
	if ((c->ssl = client_tls_ssl(c->p.tls, c->fd, c->p.url->host, &c->r, &cause)) == NULL) {
		c->r.f.tls_error = 1;
		client_result_error(&c->r, "%s", cause);
		free(cause);
		client_conn_finish(c);
		return;
	}
	client_conn_handshake(c);
}

/* Socket event. */
static void
client_conn_io(evutil_socket_t fd, short what, void *arg)
{
	struct client_conn *c = arg;

	(void)fd;
	(void)what;
	switch (c->stage) {
	case CLIENT_STAGE_CONNECT:
		client_conn_connected(c);
		break;
	case CLIENT_STAGE_HANDSHAKE:
		client_conn_handshake(c);
		break;
	case CLIENT_STAGE_HTTP:
		client_conn_http(c);
		break;
	default:
		break;
	}
}

/* Idle timer, or the deferred finish of an early failure. */
static void
client_conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct client_conn *c = arg;
	static const char *const stage[] = { "connect", "TLS handshake", "HTTP response", "" };

	(void)fd;
	(void)what;
	if (!c->early_fail) {
		c->r.f.timed_out = 1;
		client_result_error(&c->r, "no progress for %d ms during %s", c->p.timeout_ms,
		    stage[c->stage]);
	}
	client_conn_finish(c);
}

/* Start a connection. */
struct client_conn *
client_conn_start(const struct client_conn_params *p, char **cause)
{
	struct client_conn *c;
	const struct client_url *u = p->url;
	int one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	c->p = *p;
	c->fd = -1;
	client_result_init(&c->r);
	c->r.plain = !u->tls;
	c->r.sni = u->tls ? u->host : NULL;
	c->r.url = u->text;
	c->r.ua = p->ua;
	c->r.hello = p->hello;
	c->stage = CLIENT_STAGE_CONNECT;
	c->t0 = util_mono_ns();
	c->out = evbuffer_new();
	c->io = event_new(p->base, -1, 0, client_conn_io, c);
	c->tmo = evtimer_new(p->base, client_conn_timer, c);
	if (c->out == NULL || c->io == NULL || c->tmo == NULL) {
		client_conn_free(c);
		util_cause(cause, "out of memory");
		return NULL;
	}
	c->fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		c->r.f.sys_errno = errno;
		client_result_error(&c->r, "socket: %s", strerror(errno));
		goto early;
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&u->addr, u->addrlen) == 0 ||
	    errno == EINPROGRESS) {
		client_conn_wait(c, EV_WRITE);
		client_conn_progress(c);
		return c;
	}
	c->r.f.sys_errno = errno;
	client_result_error(&c->r, "connect: %s", strerror(errno));
early:
	{
		struct timeval zero = { 0, 0 };

		c->early_fail = 1;
		evtimer_add(c->tmo, &zero);
	}
	return c;
}

/* The record. */
const struct client_record *
client_conn_record(const struct client_conn *c)
{
	return &c->r;
}

/* Stop an unfinished connection. */
void
client_conn_abort(struct client_conn *c, const char *why)
{
	if (c->finished)
		return;
	c->r.f.timed_out = 1;
	client_result_error(&c->r, "aborted: %s", why);
	client_conn_finish(c);
}

/* Free a connection (after done, or one that never started). */
void
client_conn_free(struct client_conn *c)
{
	if (c == NULL)
		return;
	if (c->io != NULL)
		event_free(c->io);
	if (c->tmo != NULL)
		event_free(c->tmo);
	if (c->out != NULL)
		evbuffer_free(c->out);
	client_h2_free(&c->s2);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
	client_result_free(&c->r);
	free(c);
}
