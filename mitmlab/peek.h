/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peek — wait for the client's ClientHello and parse it with recv(MSG_PEEK), so that nothing is
 * consumed: a spliced flow forwards the original bytes, and the client-facing TLS stack later
 * reads the same hello. An edge-triggered read event avoids spinning on a partial hello; the
 * connection's handshake timer bounds the wait. Then hands over to conn_decide().
 * For an intercepted flow the same event (it asks for EV_CLOSED, i.e. EPOLLRDHUP, which works
 * while the peeked hello is still unread) stays on the client socket through the dial, the
 * upstream handshake and the wait for a key: a client that closes in the meantime can never
 * finish its handshake, so its connection is closed at once and a queued key request is
 * withdrawn (conn_close). It costs no extra syscall: the event is deleted when the client
 * leg's TLS bufferevent takes the socket, instead of after the peek.
 */
#ifndef MITMLAB_PEEK_H
#define MITMLAB_PEEK_H

struct conn;

/* Start waiting for the hello; -1 marks c for termination. */
int peek_start(struct conn *c);
/* Stop watching the client socket (before anything else reads it); a no-op if not watching. */
void peek_stop(struct conn *c);

#endif
