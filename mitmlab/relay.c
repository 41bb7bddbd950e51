/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relay — the byte pump between two bufferevents (relayd relay_read style): every callback gets
 * a half and writes to half->peer, so no callback works out its direction. Backpressure uses
 * the peer's write low-watermark: its write callback fires when its output has drained to
 * RELAY_HIGH / 2, and re-enables reading on this side. EOF: the closing side's input is moved
 * over, then the peer's output is flushed (write low-watermark 0) before done() is called.
 * Plain sockets: libevent 2.1's evbuffer_read takes at most 4 KiB per event-loop pass (its
 * EVBUFFER_MAX_READ), which capped the splice path's bulk rate, so the read callback takes
 * what else the socket already holds itself, up to RELAY_CHUNK.
 * Frees nothing and never touches a half after calling done().
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

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
		return 0;
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

/* h's output drained to its low-watermark: resume the peer, or finish a pending EOF. */
static void
relay_writecb(struct bufferevent *bev, void *arg)
{
	struct relay_half *h = arg, *peer = h->peer;

	if (peer->eof) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			relay_end(peer, relay_eof_reason(peer), NULL);
		return;
	}
	if (peer->paused) {
		peer->paused = 0;
		bufferevent_enable(peer->bev, EV_READ);
		relay_move(peer);
	}
}

/* Text for an EOF or error event on bev: OpenSSL's queue first, then errno. */
const char *
relay_error_text(struct bufferevent *bev, short what, char *buf, size_t len)
{
	unsigned long e = bufferevent_get_openssl_error(bev);
	int err = EVUTIL_SOCKET_ERROR();

	if (e != 0) {
		ERR_error_string_n(e, buf, len);
		while (bufferevent_get_openssl_error(bev) != 0)
			;
	} else if (what & BEV_EVENT_EOF)
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
		bufferevent_disable(bev, EV_READ);
		if (relay_pending(h->peer) == 0) {
			relay_end(h, relay_eof_reason(h), NULL);
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

/* Start relaying on both halves. */
void
relay_start(struct relay_half *a)
{
	struct relay_half *h = a;
	int i;

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
