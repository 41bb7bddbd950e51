/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_h2 — the HTTP/2 driver of `mitmlab origin` (ALPN "h2") on nghttp2's server session:
 * one nghttp2_session per connection fed from the TLS bufferevent, every stream answered with
 * the site's status and headers and a body produced by a data provider from the pattern (or
 * the /echo JSON), so no body is held whole. Output is bounded: the send callback refuses
 * (WOULDBLOCK) above ORIGIN_H2_OUT_HIGH and resumes from the write callback. Closing is left to
 * origin_conn.
 */
#ifndef MITMLAB_ORIGIN_H2_H
#define MITMLAB_ORIGIN_H2_H

struct origin_conn;

/* Attach: create the session and send our SETTINGS; -1 (c->why set) to close. */
int origin_h2_start(struct origin_conn *c);
/* Feed received plaintext to nghttp2 and send what it produces; -1 to close. */
int origin_h2_read(struct origin_conn *c);
/* Output drained: let nghttp2 send more; -1 to close (session over). */
int origin_h2_write(struct origin_conn *c);
void origin_h2_free(struct origin_conn *c);

#endif
