/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * splice — the actions that never touch TLS: splice (relay the raw bytes, including the
 * unconsumed ClientHello, so the client gets the origin's certificate byte for byte),
 * block-reset (close with RST) and block-timeout (hold the socket silently, then close).
 */
#ifndef MITMLAB_SPLICE_H
#define MITMLAB_SPLICE_H

struct conn;

/* The upstream TCP connection is up: relay raw bytes. */
void splice_connected(struct conn *c);
/* block-reset: publish and mark for a closing RST. */
void splice_block_reset(struct conn *c);
/* block-timeout: publish and hold the connection for --block-timeout. */
void splice_block_hold(struct conn *c);

#endif
