/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relay — move bytes between the two halves of a connection, both ways, with backpressure: a
 * half stops reading while its peer's output buffer holds RELAY_HIGH bytes or more and resumes
 * when that buffer drains to RELAY_HIGH / 2. When one side reaches EOF, the other side's output
 * is flushed; then, between two plain sockets (the splice action), the other side is shut down
 * for writing (a TCP half-close, as a transparent gateway passes it on) and the relay goes on
 * the other way until that side closes too; otherwise (a pair, an OpenSSL bufferevent) the
 * relay is over at once. The owner is told through done(), named by the side that closed
 * first. Works on any bufferevent (socket, pair), so it is tested without sockets. The owner frees the halves, in done() (relay_free).
 * Two OpenSSL bufferevents (an intercepted flow, once both handshakes are done) are relayed in
 * TLS mode instead: relay_start moves what they buffered into the halves' queues, frees them,
 * and moves records with SSL_read / SSL_write on one event per socket, through a per-thread
 * buffer; a half's queue (an evbuffer) holds only what its socket would not take yet, up to
 * RELAY_HIGH (as above), and is freed once written. In TLS mode a close_notify or EOF from one
 * side ends the relay once what was read from it has been written to the other, as sslsplit
 * ends an intercepted flow (TLS 1.2 has no half-close at all). An OpenSSL bufferevent costs about 1.1 KiB
 * beyond its SSL and BIO, for as long as the connection lives. A
 * relay half's OpenSSL bufferevent must not own its SSL and socket (no BEV_OPT_CLOSE_ON_FREE):
 * the half does, and relay_free frees them in either mode.
 */
#ifndef MITMLAB_RELAY_H
#define MITMLAB_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#define RELAY_HIGH (256 * 1024)
#define RELAY_CHUNK (64 * 1024)	/* most bytes one read or write pass moves per side */

struct relay_half;
/* The relay is over for h's owner: reason "eof-<name>", "error" (err set) or "timeout-idle". */
typedef void (*relay_done_cb)(struct relay_half *h, const char *reason, const char *err);

struct relay_half {
	struct bufferevent *bev;	/* owned by the owner, not by the relay; NULL in TLS mode */
	/* TLS mode (all zero otherwise): the half's SSL and socket, one event on it, and what
	 * the relay could not write to this side yet */
	SSL		   *ssl;
	evutil_socket_t	    fd;
	struct event	   *ev;
	short		    evflags;	/* what ev waits for now */
	short		    rwant;	/* what reading from this side waits for (0: not reading) */
	short		    wwant;	/* what writing out to this side waits for (0: nothing queued) */
	int		    more;	/* the relay has just started: run the first pass */
	struct evbuffer	   *out;	/* queued for this side; NULL: nothing */
	struct relay_half  *peer;
	void		   *owner;
	const char	   *name;	/* "client" or "upstream" */
	relay_done_cb	    done;
	uint64_t	    nread;	/* bytes read from this side and passed to the peer */
	uint64_t	    last_ns;	/* monotonic time of the last read on this side */
	int		    paused;	/* reading stopped by backpressure */
	int		    eof;	/* this side has closed */
	int		    first_eof;	/* ... before its peer did */
	int		    shut;	/* this side was shut down for writing (half-close) */
	int		    ended;	/* done() was called for this pair */
};

/* Link two halves to each other and to owner; names are static strings. */
void relay_link(struct relay_half *a, struct relay_half *b, void *owner, relay_done_cb done,
    const char *aname, const char *bname);
/* Install the relay callbacks on both bufferevents and start moving bytes, including any
 * input already buffered. Both halves must have a bev. */
void relay_start(struct relay_half *a);
/* Text for an EOF or error event on any bufferevent (OpenSSL's error queue, drained, then
 * errno); written into buf, which is returned. A failed socket call under TLS (libevent
 * queues SSL_ERROR_SYSCALL, which is no OpenSSL error) is named by errno, e.g. an origin's
 * reset "Connection reset by peer", even when a dirty shutdown makes it an EOF event. */
const char *relay_error_text(struct bufferevent *bev, short what, char *buf, size_t len);
/* Bytes waiting in h's output buffer. */
size_t relay_pending(const struct relay_half *h);
/* Free what h holds: its bufferevent (and, for an OpenSSL one, its SSL and socket) or, in TLS
 * mode, its event, SSL, socket and queue. clean: send close_notify first when the TLS
 * handshake has finished. Safe on a half that holds nothing; h can be reused after. */
void relay_free(struct relay_half *h, int clean);
/* Give back what an idle half holds for nothing: the empty input chain a bufferevent reserves
 * before a read that yields no data, and OpenSSL's record buffers when no record is pending
 * (SSL_free_buffers; in TLS mode when nothing is queued for the half either). Never drops
 * data; a no-op on a busy half. */
void relay_trim(struct relay_half *h);

#endif
