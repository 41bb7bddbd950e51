/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_h1 — the HTTP/1.1 driver of `mitmlab origin` for one TLS connection: parses request
 * heads with origin_http (bounded, strict), discards request bodies, answers every request with
 * the site's status and a streamed pattern body (or the /echo JSON), keeps the connection alive
 * between requests and serves pipelined requests in order. Backpressure: the body is refilled
 * from the write callback only while the output buffer is under a limit, and reading stops at
 * a high watermark while a response is streaming. Closing is left to origin_conn.
 */
#ifndef MITMLAB_ORIGIN_H1_H
#define MITMLAB_ORIGIN_H1_H

struct origin_conn;

/* Attach the driver to an established connection; -1 (c->why set) to close. */
int origin_h1_start(struct origin_conn *c);
/* Plaintext arrived; -1 (c->why set) to close. */
int origin_h1_read(struct origin_conn *c);
/* Output drained below the low watermark: refill; -1 to close. */
int origin_h1_write(struct origin_conn *c);
/* Non-zero while a response body is still being produced. */
int origin_h1_busy(const struct origin_conn *c);
void origin_h1_free(struct origin_conn *c);

#endif
