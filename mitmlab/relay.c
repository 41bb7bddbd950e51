/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relay — the byte pump between two bufferevents (relayd relay_read style): every callback gets
 * a half and writes to half->peer, so no callback works out its direction. Backpressure uses
 * the peer's write low-watermark: its write callback fires when its output has drained to
 * RELAY_HIGH / 2, and re-enables reading on this side. EOF: the closing side's input is moved
 * over, then the peer's output is flushed (write low-watermark 0) before done() is called.
 * Plain sockets half-close: once a closing side's bytes are flushed, the other side is shut
 * down for writing and keeps sending until it closes too (relay_eof_flushed).
 * Plain sockets: libevent 2.1's evbuffer_read takes at most 4 KiB per event-loop pass (its
 * EVBUFFER_MAX_READ), which capped the splice path's bulk rate, so the read callback takes
 * what else the socket already holds itself, up to RELAY_CHUNK.
 * TLS mode (relay.h): SSL_read into a per-thread buffer and SSL_write from it; only what a
 * socket would not take is copied, into the half's queue, and the reading side stops while
 * the queue holds RELAY_HIGH. A pass reads at most RELAY_CHUNK (and the rest of the record it
 * ends in), then waits for the next poll, as bufferevents do: other connections and timers
 * run in between. Frees nothing but the bufferevents it replaces and what relay_free frees,
 * and never touches a half after calling done().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "relay.h"
#include "util.h"

/* Link the halves. */
void
relay_link(struct relay_half *a, struct relay_half *b, void *owner, relay_done_cb done,
    const char *aname, const char *bname)
{
	a->peer = b;
	b->peer = a;
	a->owner = b->owner = owner;
	a->done = b->done = done;
	a->name = aname;
	b->name = bname;
}

/* Bytes queued for writing on h. */
size_t
relay_pending(const struct relay_half *h)
{
	if (h->bev == NULL)
		return h->out != NULL ? evbuffer_get_length(h->out) : 0;
	return evbuffer_get_length(bufferevent_get_output(h->bev));
}

/* Free an idle half's empty input chain and OpenSSL record buffers. libevent's evbuffer_drain
 * returns early on an empty buffer, so the empty chain left by a reservation is freed by
 * prepending one byte (it lands in that chain) and draining it (a full drain frees every
 * chain). */
void
relay_trim(struct relay_half *h)
{
	struct evbuffer *in;
	SSL *ssl;

	if (h->ssl != NULL && h->out == NULL)
		(void)SSL_free_buffers(h->ssl);	/* TLS mode holds no empty chain */
	if (h->bev == NULL)
		return;
	in = bufferevent_get_input(h->bev);
	if (evbuffer_get_length(in) == 0 && evbuffer_prepend(in, "", 1) == 0)
		evbuffer_drain(in, 1);
	if ((ssl = bufferevent_openssl_get_ssl(h->bev)) != NULL)
		(void)SSL_free_buffers(ssl);	/* 0: a record is pending; keep them */
}

/* Tell the owner once that the relay is over; h may be freed on return. */
static void
relay_end(struct relay_half *h, const char *reason, const char *err)
{
	if (h->ended || h->peer->ended)
		return;
	h->ended = 1;
	h->done(h, reason, err);
}

/* Reason text for EOF on h. */
static const char *
relay_eof_reason(const struct relay_half *h)
{
	return strcmp(h->name, "client") == 0 ? "eof-client" : "eof-upstream";
}

/* Move h's input to the peer's output; pause h when the peer is full. */
static void
relay_move(struct relay_half *h)
{
	struct evbuffer *in = bufferevent_get_input(h->bev);
	struct evbuffer *out = bufferevent_get_output(h->peer->bev);
	size_t n = evbuffer_get_length(in);

	if (n == 0)
		return;
	evbuffer_add_buffer(out, in);
	h->nread += n;
	h->last_ns = util_mono_ns();
	if (evbuffer_get_length(out) >= RELAY_HIGH && !h->paused) {
		bufferevent_disable(h->bev, EV_READ);
		h->paused = 1;
	}
}

/* A plain socket's bufferevent read only 4 KiB: append what else is queued on the socket
 * now, up to RELAY_CHUNK. EOF and errors are left to the bufferevent's next read. */
static void
relay_read_more(struct relay_half *h)
{
	struct evbuffer *in = bufferevent_get_input(h->bev);
	struct evbuffer_iovec v[2];
	struct iovec iov[2];
	evutil_socket_t fd = bufferevent_getfd(h->bev);
	int avail = 0, nv, i;
	ssize_t n;

	if (fd < 0 || h->paused || bufferevent_openssl_get_ssl(h->bev) != NULL ||
	    ioctl(fd, FIONREAD, &avail) == -1 || avail <= 0)
		return;
	if (avail > RELAY_CHUNK)
		avail = RELAY_CHUNK;
	/* a socket bufferevent keeps its input's end frozen except inside its own read: unfreeze
	 * it for this read (reserve_space fails on a frozen end) and freeze it again after */
	evbuffer_unfreeze(in, 0);
	nv = evbuffer_reserve_space(in, avail, v, 2);
	if (nv <= 0) {
		evbuffer_freeze(in, 0);
		return;
	}
	for (i = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	if ((n = readv(fd, iov, nv)) <= 0) {
		evbuffer_commit_space(in, v, 0);	/* release the reservation */
		evbuffer_freeze(in, 0);
		return;
	}
	for (i = 0; i < nv; i++) {		/* the bytes fill the vectors in order */
		if ((size_t)n < v[i].iov_len)
			v[i].iov_len = (size_t)n;
		n -= (ssize_t)v[i].iov_len;
	}
	evbuffer_commit_space(in, v, nv);
	evbuffer_freeze(in, 0);
}

/* Data arrived on h. */
static void
relay_readcb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	relay_read_more(arg);
	relay_move(arg);
}

/* Everything h sent before its EOF has reached its peer's socket. A plain socket peer gets the
 * EOF as a half-close (shutdown for writing) and the other direction goes on; the relay ends
 * when both sides have closed, named by the side that closed first. A peer without a socket
 * of its own (a pair) or one that cannot be shut down ends the relay now. */
static void
relay_eof_flushed(struct relay_half *h)
{
	struct relay_half *peer = h->peer;
	evutil_socket_t fd = bufferevent_getfd(peer->bev);

	if (peer->shut)
		return;
	if (peer->eof) {		/* the second EOF: the first one names the end */
		if (relay_pending(h) == 0)	/* else h's write callback comes back here */
			relay_end(h, relay_eof_reason(h->first_eof ? h : peer), NULL);
		return;
	}
	if (fd < 0 || bufferevent_openssl_get_ssl(peer->bev) != NULL ||
	    shutdown(fd, SHUT_WR) == -1) {
		relay_end(h, relay_eof_reason(h), NULL);
		return;
	}
	peer->shut = 1;
}

/* h's output drained to its low-watermark: resume the peer, or finish a pending EOF. */
static void
relay_writecb(struct bufferevent *bev, void *arg)
{
	struct relay_half *h = arg, *peer = h->peer;

	if (peer->eof) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			relay_eof_flushed(peer);
		return;
	}
	if (peer->paused) {
		peer->paused = 0;
		bufferevent_enable(peer->bev, EV_READ);
		relay_move(peer);
	}
}

/* Text for an EOF or error event on bev: OpenSSL's queue first, then errno (relay.h). */
const char *
relay_error_text(struct bufferevent *bev, short what, char *buf, size_t len)
{
	int err = EVUTIL_SOCKET_ERROR();	/* libevent restores it for a deferred callback */
	unsigned long e, first = 0;
	int syscall = 0;

	/* libevent queues SSL_get_error's code (SSL_ERROR_SYSCALL = 5 after a reset) beside
	 * OpenSSL's own errors; a code has no library, an OpenSSL error always has one */
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (first == 0 && ERR_GET_LIB(e) != 0)
			first = e;
		syscall |= e == SSL_ERROR_SYSCALL;
	}
	if (first != 0)
		ERR_error_string_n(first, buf, len);
	/* the engine's contexts ignore an EOF without close_notify (SSL_OP_IGNORE_UNEXPECTED_EOF),
	 * so SSL_ERROR_SYSCALL is a failed socket call even when libevent, allowing a dirty
	 * shutdown, reports it as an EOF; errno names it ("Connection reset by peer") */
	else if (syscall && err != 0 && err != EAGAIN && err != EINTR)
		snprintf(buf, len, "%s", evutil_socket_error_to_string(err));
	else if (what & BEV_EVENT_EOF)
		snprintf(buf, len, "connection closed");
	else if (err != 0)
		snprintf(buf, len, "%s", evutil_socket_error_to_string(err));
	else
		snprintf(buf, len, "connection error");
	return buf;
}

/* EOF, error or timeout on h. */
static void
relay_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct relay_half *h = arg;
	char eb[256];

	if (what & BEV_EVENT_EOF) {
		relay_move(h);
		h->eof = 1;
		h->first_eof = !h->peer->eof;
		bufferevent_disable(bev, EV_READ);
		if (relay_pending(h->peer) == 0) {
			relay_eof_flushed(h);
			return;
		}
		bufferevent_setwatermark(h->peer->bev, EV_WRITE, 0, 0);
		bufferevent_enable(h->peer->bev, EV_WRITE);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		relay_end(h, "error", relay_error_text(bev, what, eb, sizeof(eb)));
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		relay_end(h, "timeout-idle", NULL);
}

/* ---- TLS mode ---- */

/* Where records are read to and written from: one per worker thread. */
static _Thread_local unsigned char relay_scratch[RELAY_CHUNK];

static void relay_tls_cb(evutil_socket_t fd, short what, void *arg);

/* h's queue, made when first needed (an idle half holds none); NULL out of memory. */
static struct evbuffer *
relay_tls_queue(struct relay_half *h)
{
	if (h->out == NULL)
		h->out = evbuffer_new();
	return h->out;
}

/* Drop h's queue (emptied, or the half is going). */
static void
relay_tls_unqueue(struct relay_half *h)
{
	if (h->out != NULL)
		evbuffer_free(h->out);
	h->out = NULL;
}

/* Free what TLS mode added to h: its event and its queue. */
static void
relay_tls_drop(struct relay_half *h)
{
	if (h->ev != NULL)
		event_free(h->ev);
	h->ev = NULL;
	relay_tls_unqueue(h);
}

/* Text for a failed SSL_read or SSL_write: OpenSSL's queue (a failure with an empty queue
 * is an EOF, relay_tls_failed). */
static const char *
relay_tls_error(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "TLS error without a reason");
	ERR_clear_error();
	return buf;
}

/* A failed SSL call on h: 1 if it only has to wait (*want set), else the relay is ended as
 * bufferevent_openssl with dirty shutdown allowed would report it: close_notify, EOF without
 * one and a reset with OpenSSL's queue empty are h's EOF, the rest an error; -1. */
static int
relay_tls_failed(struct relay_half *h, int rc, short *want)
{
	int e = SSL_get_error(h->ssl, rc);
	char eb[256];

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*want = e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE;
		return 1;
	}
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
		ERR_clear_error();
		return 0;
	}
	relay_end(h, "error", relay_tls_error(eb, sizeof(eb)));
	return -1;
}

/* Write p[0..n) to h with SSL_write until h would block. 1 all written, 0 h is full (*done
 * says how much went), -1 the relay ended. Partial writes are enabled on h's SSL, and a retry
 * always offers the same bytes first, as OpenSSL asks. */
static int
relay_tls_write(struct relay_half *h, const unsigned char *p, size_t n, size_t *done)
{
	int rc;

	*done = 0;
	while (*done < n) {
		ERR_clear_error();
		rc = SSL_write(h->ssl, p + *done, n - *done > INT32_MAX ? INT32_MAX :
		    (int)(n - *done));
		if (rc > 0) {
			*done += (size_t)rc;
			continue;
		}
		switch (relay_tls_failed(h, rc, &h->wwant)) {
		case 1:
			return 0;
		case 0:				/* h is gone: what it was sent is lost */
			relay_end(h, relay_eof_reason(h), NULL);
			return -1;
		default:
			return -1;
		}
	}
	h->wwant = 0;
	return 1;
}

/* Send p[0..n) to h: written at once when nothing is queued for h and h is not known to be
 * full, else (and what h would not take) queued behind. -1 the relay ended. */
static int
relay_tls_send(struct relay_half *h, const unsigned char *p, size_t n)
{
	size_t done = 0;
	int r;

	if (h->out == NULL && h->wwant == 0 && (r = relay_tls_write(h, p, n, &done)) != 0)
		return r < 0 ? -1 : 0;
	if (relay_tls_queue(h) != NULL && evbuffer_add(h->out, p + done, n - done) == 0) {
		if (h->wwant == 0)		/* queued behind bytes not tried yet */
			h->wwant = EV_WRITE;
		return 0;
	}
	relay_end(h, "error", "out of memory");
	return -1;
}

/* Write what is queued for h, a chain at a time (a retry offers the same first chain, no
 * shorter: chains only grow at the end); the emptied queue is freed. -1 the relay ended. */
static int
relay_tls_flush(struct relay_half *h)
{
	struct evbuffer_iovec v;
	size_t done;
	int r;

	while (h->out != NULL && evbuffer_peek(h->out, -1, NULL, &v, 1) > 0) {
		if ((r = relay_tls_write(h, v.iov_base, v.iov_len, &done)) < 0)
			return -1;
		evbuffer_drain(h->out, done);
		if (r == 0)
			return 0;
	}
	relay_tls_unqueue(h);
	return 0;
}

/*
 * Move what src has to its peer (dst) until src has nothing to read, dst holds RELAY_HIGH
 * queued, src has ended, or a pass's budget (RELAY_CHUNK, and the rest of the record it ends
 * in) is spent. As with bufferevents, src goes on being read while dst is full, into dst's
 * queue, up to RELAY_HIGH, and is read again once the queue has drained to RELAY_HIGH / 2.
 * flush: try to write dst's queue first (dst's socket is writable, or the relay starts);
 * otherwise only when dst is not known to be full. 0 carry on (events decide), -1 the relay
 * ended (nothing may be touched).
 */
static int
relay_tls_flow(struct relay_half *src, int flush)
{
	struct relay_half *dst = src->peer;
	size_t budget = RELAY_CHUNK;
	int rc;

	for (;;) {
		if ((flush || dst->wwant == 0) && relay_tls_flush(dst) < 0)
			return -1;
		flush = 0;
		if (relay_pending(dst) >= RELAY_HIGH ||
		    (src->paused && relay_pending(dst) > RELAY_HIGH / 2)) {
			src->paused = 1;	/* dst is full: src waits for it */
			src->rwant = 0;
			return 0;
		}
		src->paused = 0;
		if (src->eof) {			/* ends once dst has taken what it was sent */
			if (relay_pending(dst) > 0)
				return 0;
			relay_end(src, relay_eof_reason(src), NULL);
			return -1;
		}
		if (budget == 0 && (budget = (size_t)SSL_pending(src->ssl)) == 0) {
			/* spent: back after the next poll (what is left is in the socket, not in the
			 * SSL: the rest of a record is read above, and read_ahead is off) */
			src->rwant = EV_READ;
			return 0;
		}
		ERR_clear_error();
		rc = SSL_read(src->ssl, relay_scratch, (int)budget);
		if (rc > 0) {
			src->nread += (uint64_t)rc;
			src->last_ns = util_mono_ns();
			budget -= (size_t)rc;
			if (relay_tls_send(dst, relay_scratch, (size_t)rc) < 0)
				return -1;
			continue;
		}
		switch (relay_tls_failed(src, rc, &src->rwant)) {
		case 1:
			return 0;
		case 0:
			src->eof = 1;
			src->rwant = 0;
			continue;
		default:
			return -1;
		}
	}
}

/* Make h's event wait for what its reads and writes wait for; run the first pass (more). */
static void
relay_tls_arm(struct relay_half *h)
{
	short want = (short)(h->rwant | h->wwant);

	if (h->ev == NULL)
		return;
	if (want != h->evflags) {
		event_del(h->ev);
		h->evflags = want;
		if (want != 0 && (event_assign(h->ev, event_get_base(h->ev), h->fd,
		    (short)(want | EV_PERSIST), relay_tls_cb, h) == -1 ||
		    event_add(h->ev, NULL) == -1))
			h->evflags = 0;
	}
	if (h->more)			/* the first pass; cleared by the callback */
		event_active(h->ev, EV_READ, 0);
}

/* h's socket is ready: write what is queued for it (then go on reading its peer), read it.
 * Run by hand once, for one half, when the relay starts (more): both ways. A write that
 * waited for h to be readable (TLS 1.2 renegotiation) is tried again after the read, which
 * may have been what it waited for. */
static void
relay_tls_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_half *h = arg, *peer = h->peer;
	int all = h->more;

	(void)fd;
	h->more = 0;
	if ((all || (h->wwant & what) != 0) && relay_tls_flow(peer, 1) < 0)
		return;
	if ((all || (h->rwant & what) != 0) && relay_tls_flow(h, 0) < 0)
		return;
	if (h->wwant == EV_READ && relay_pending(h) > 0 && relay_tls_flow(peer, 1) < 0)
		return;
	relay_tls_arm(h);
	relay_tls_arm(peer);
}

/* Make what h needs to take over from its bufferevent: its event, and the queues that its
 * buffered output (for h) and input (for the peer) will move to; -1 out of memory. */
static int
relay_tls_prepare(struct relay_half *h)
{
	h->ev = event_new(bufferevent_get_base(h->bev), bufferevent_getfd(h->bev), 0,
	    relay_tls_cb, h);
	if (h->ev == NULL)
		return -1;
	if (evbuffer_get_length(bufferevent_get_output(h->bev)) > 0 && relay_tls_queue(h) == NULL)
		return -1;
	if (evbuffer_get_length(bufferevent_get_input(h->bev)) > 0 &&
	    relay_tls_queue(h->peer) == NULL)
		return -1;
	return 0;
}

/* Move all of b (a bufferevent's, whose ends it froze) to the end of q. */
static void
relay_tls_move(struct evbuffer *q, struct evbuffer *b)
{
	if (q == NULL)
		return;
	evbuffer_unfreeze(b, 0);
	evbuffer_unfreeze(b, 1);
	evbuffer_add_buffer(q, b);	/* fails only on a frozen end */
}

/* Start relaying two OpenSSL bufferevents in TLS mode; -1 (nothing changed) out of memory. */
static int
relay_tls_start(struct relay_half *a)
{
	struct relay_half *h = a;
	int i;

	if (relay_tls_prepare(a) == -1 || relay_tls_prepare(a->peer) == -1) {
		relay_tls_drop(a);
		relay_tls_drop(a->peer);
		return -1;
	}
	/* from here on nothing can fail; what each bufferevent was to write comes before what
	 * the other had read */
	for (i = 0; i < 2; i++, h = h->peer)
		relay_tls_move(h->out, bufferevent_get_output(h->bev));
	for (i = 0; i < 2; i++, h = h->peer) {
		h->nread += evbuffer_get_length(bufferevent_get_input(h->bev));
		relay_tls_move(h->peer->out, bufferevent_get_input(h->bev));
	}
	for (i = 0; i < 2; i++, h = h->peer) {
		h->last_ns = util_mono_ns();
		h->ssl = bufferevent_openssl_get_ssl(h->bev);
		h->fd = bufferevent_getfd(h->bev);
		bufferevent_disable(h->bev, EV_READ | EV_WRITE);	/* see relay_free */
		bufferevent_free(h->bev);
		h->bev = NULL;
		SSL_set_mode(h->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
		h->rwant = h->eof ? 0 : EV_READ;
	}
	/* the first pass runs from the loop, as bufferevents deliver what they had buffered: the
	 * owner may still be setting up when relay_start returns, and the relay may end at once
	 * (an EOF before it ran, say); one half's pass covers both ways */
	a->more = 1;
	relay_tls_arm(a);
	relay_tls_arm(a->peer);
	return 0;
}

/* Free what h holds. */
void
relay_free(struct relay_half *h, int clean)
{
	SSL *ssl = h->ssl;
	evutil_socket_t fd = h->fd;

	if (h->bev != NULL && (ssl = bufferevent_openssl_get_ssl(h->bev)) != NULL)
		fd = bufferevent_getfd(h->bev);
	if (ssl != NULL && clean && SSL_is_init_finished(ssl))
		(void)SSL_shutdown(ssl);
	if (h->bev != NULL) {
		/* delete its events now: with a reference still held (from inside its own
		 * callback) bufferevent_free leaves them to the last one, and the socket closed
		 * below could meanwhile be another connection's */
		bufferevent_disable(h->bev, EV_READ | EV_WRITE);
		bufferevent_free(h->bev);
	}
	relay_tls_drop(h);
	if (ssl != NULL) {
		SSL_free(ssl);
		if (fd >= 0)
			close(fd);
	}
	h->bev = NULL;
	h->ssl = NULL;
	h->fd = -1;
	h->evflags = h->rwant = h->wwant = 0;
	h->more = 0;
}

/* Start relaying on both halves. */
void
relay_start(struct relay_half *a)
{
	struct relay_half *h = a;
	int i;

	if (bufferevent_openssl_get_ssl(a->bev) != NULL &&
	    bufferevent_openssl_get_ssl(a->peer->bev) != NULL && relay_tls_start(a) == 0)
		return;			/* else (out of memory) on the bufferevents */

	for (i = 0; i < 2; i++, h = h->peer) {
		h->last_ns = util_mono_ns();
		bufferevent_setcb(h->bev, relay_readcb, relay_writecb, relay_eventcb, h);
		bufferevent_setwatermark(h->bev, EV_WRITE, RELAY_HIGH / 2, 0);
		bufferevent_set_max_single_read(h->bev, RELAY_CHUNK);
		bufferevent_set_max_single_write(h->bev, RELAY_CHUNK);
		bufferevent_enable(h->bev, EV_READ | EV_WRITE);
	}
	relay_move(a);
	relay_move(a->peer);
	for (i = 0; i < 2; i++, h = h->peer)	/* a side that closed before the relay ran */
		if (h->eof)
			bufferevent_trigger_event(h->bev, BEV_EVENT_EOF, BEV_TRIG_DEFER_CALLBACKS);
}
