/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peek — wait for the client's ClientHello and parse it with recv(MSG_PEEK), so that nothing is
 * consumed: a spliced flow forwards the original bytes, and the client-facing TLS stack later
 * reads the same hello. An edge-triggered read event avoids spinning on a partial hello; the
 * connection's handshake timer bounds the wait. Then hands over to conn_decide().
 */
#ifndef MITMLAB_PEEK_H
#define MITMLAB_PEEK_H

struct conn;

/* Start waiting for the hello; -1 marks c for termination. */
int peek_start(struct conn *c);

#endif
