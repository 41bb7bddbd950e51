/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relay — move bytes between the two halves of a connection, both ways, with backpressure: a
 * half stops reading while its peer's output buffer holds RELAY_HIGH bytes or more and resumes
 * when that buffer drains to RELAY_HIGH / 2. When one side reaches EOF, the other side's output
 * is flushed, then the owner is told through done(). Works on any bufferevent (socket, OpenSSL,
 * pair), so it is tested without sockets. It never frees anything: the owner does, in done().
 */
#ifndef MITMLAB_RELAY_H
#define MITMLAB_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#define RELAY_HIGH (256 * 1024)
#define RELAY_CHUNK (64 * 1024)	/* most bytes one read or write pass moves per side */

struct relay_half;
/* The relay is over for h's owner: reason "eof-<name>", "error" (err set) or "timeout-idle". */
typedef void (*relay_done_cb)(struct relay_half *h, const char *reason, const char *err);

struct relay_half {
	struct bufferevent *bev;	/* owned by the owner, not by the relay */
	struct relay_half  *peer;
	void		   *owner;
	const char	   *name;	/* "client" or "upstream" */
	relay_done_cb	    done;
	uint64_t	    nread;	/* bytes read from this side and passed to the peer */
	uint64_t	    last_ns;	/* monotonic time of the last read on this side */
	int		    paused;	/* reading stopped by backpressure */
	int		    eof;	/* this side has closed */
	int		    ended;	/* done() was called for this pair */
};

/* Link two halves to each other and to owner; names are static strings. */
void relay_link(struct relay_half *a, struct relay_half *b, void *owner, relay_done_cb done,
    const char *aname, const char *bname);
/* Install the relay callbacks on both bufferevents and start moving bytes, including any
 * input already buffered. Both halves must have a bev. */
void relay_start(struct relay_half *a);
/* Text for an EOF or error event on any bufferevent (OpenSSL's error queue, drained, then
 * errno); written into buf, which is returned. */
const char *relay_error_text(struct bufferevent *bev, short what, char *buf, size_t len);
/* Bytes waiting in h's output buffer. */
size_t relay_pending(const struct relay_half *h);
/* Give back what an idle half holds for nothing: the empty input chain an OpenSSL bufferevent
 * reserves before a read that yields no application data (a TLS 1.3 NewSessionTicket, say:
 * up to 128 KiB of address space, 32 KiB typically), and OpenSSL's record buffers when no
 * record is pending (SSL_free_buffers). Never drops data; a no-op on a busy half. */
void relay_trim(struct relay_half *h);

#endif
