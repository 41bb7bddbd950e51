/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * intercept — the two TLS legs of an intercepted flow, in order: upstream TLS handshake (SNI and
 * ALPN from the client's hello), verdict on the origin's certificate (may fall back to splice
 * on a fresh TCP connection, because the client's hello is still unread), the forged leaf
 * (leaf.c, may park for a key), the client-facing handshake on the socket whose ClientHello is
 * still waiting, then the plaintext relay.
 */
#ifndef MITMLAB_INTERCEPT_H
#define MITMLAB_INTERCEPT_H

struct conn;

/* Upstream TCP is up: start the upstream TLS handshake. */
void intercept_connected(struct conn *c);
/* The forged leaf and key are in c: start the client-facing handshake. */
void intercept_leaf_ready(struct conn *c);

#endif
