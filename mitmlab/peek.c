/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peek — ClientHello peek on the raw client socket (EV_READ|EV_ET|EV_PERSIST, MSG_PEEK into the
 * worker's scratch buffer, tlspeek_parse). A complete hello, or input that is not / cannot be a
 * ClientHello (NOT_TLS, MALFORMED, TOO_LARGE), ends the peek and goes to the policy decision;
 * the latter decide on the destination alone. Parsing is tlspeek's job. After the decision an
 * intercepted flow keeps the event until the client leg's TLS starts (peek_stop), as a watch
 * for the client's close (peek.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"
#include "log.h"
#include "peek.h"
#include "worker.h"

/* What went wrong with the hello, short, into c->setup->hello_err. */
static void
peek_fail(struct conn *c, enum tlspeek_status st, const char *cause)
{
	const char *what = st == TLSPEEK_NOT_TLS ? "not TLS" : st == TLSPEEK_TOO_LARGE ?
	    "hello too large" : "malformed hello";

	snprintf(c->setup->hello_err, sizeof(c->setup->hello_err), "%s%s%s", what,
	    cause ? ": " : "", cause ? cause : "");
	free(c->hello);
	c->hello = NULL;
}

/* Non-zero if the client has already sent its FIN (a partial hello will never complete). */
static int
peek_client_done(int fd)
{
	struct pollfd pfd = { fd, POLLRDHUP, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* New bytes on the client socket: try to parse the hello. */
static void
peek_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	uint8_t *buf = c->w->peekbuf;
	enum tlspeek_status st;
	char *cause = NULL;
	ssize_t n;

	/* watching an intercepted flow's client (peek.h): EPOLLRDHUP comes with a FIN and with a
	 * reset; anything else (the edge of the hello already parsed, early data) costs no call */
	if (c->phase != CONN_PEEK) {
		if (what & EV_CLOSED) {
			char err[80];
			snprintf(err, sizeof(err), "closed before the TLS handshake (phase %s)",
			    conn_phase_name(c->phase));
			conn_close(c, "eof-client", err);
		}
		return;
	}
	n = recv(fd, buf, TLSPEEK_MAX_BYTES, MSG_PEEK);
	if (n == 0) {
		conn_close(c, "eof-client", "closed before a ClientHello");
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_close(c, "error", strerror(errno));
		return;
	}
	st = tlspeek_parse(buf, (size_t)n, c->hello, &cause);
	if (st == TLSPEEK_NEED_MORE) {
		if ((size_t)n < TLSPEEK_MAX_BYTES) {
			if (peek_client_done(fd))
				conn_close(c, "eof-client", "closed in the middle of a ClientHello");
			return;
		}
		st = TLSPEEK_TOO_LARGE;
	}
	if (st != TLSPEEK_OK)
		peek_fail(c, st, cause);
	free(cause);
	c->client_eof = (what & EV_CLOSED) != 0;
	conn_decide(c);	/* stops the peek event unless it intercepts (peek_stop) */
	conn_settle(c);
}

/* Register the edge-triggered peek. */
int
peek_start(struct conn *c)
{
	c->phase = CONN_PEEK;
	if ((c->hello = calloc(1, sizeof(*c->hello))) == NULL) {
		conn_term(c, "error", "out of memory");
		return -1;
	}
	c->ev_peek = event_new(c->w->base, c->cfd, EV_READ | EV_CLOSED | EV_ET | EV_PERSIST,
	    peek_cb, c);
	if (c->ev_peek == NULL || event_add(c->ev_peek, NULL) == -1) {
		conn_term(c, "error", "cannot watch the client socket");
		return -1;
	}
	/* Under load the hello is often in by the time the connection is accepted: try the peek
	 * in this loop pass instead of after another epoll_wait (EAGAIN leaves the edge armed).
	 * TCP_DEFER_ACCEPT would save the accept wakeup too (5.0 -> 4.3 wakeups per connection
	 * in the bench) but hides a silent client from --max-conns and the handshake timeout. */
	event_active(c->ev_peek, EV_READ, 0);
	return 0;
}

/* The client socket goes to a bufferevent (or is not needed): stop the peek / close watch. */
void
peek_stop(struct conn *c)
{
	if (c->ev_peek == NULL)
		return;
	event_free(c->ev_peek);
	c->ev_peek = NULL;
}
