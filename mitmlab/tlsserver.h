/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tlsserver — the client-facing TLS leg: one server SSL_CTX per worker (TLS 1.0-1.3, security
 * level 0 so that weak forged keys such as kz2019-early's RSA-1024 still load) and one SSL per
 * flow serving the forged leaf, its key and the national chain. ALPN answers with the protocol
 * the ORIGIN chose, or nothing if it chose none, so h2 works end to end.
 */
#ifndef MITMLAB_TLSSERVER_H
#define MITMLAB_TLSSERVER_H

#include <openssl/ssl.h>

/* The worker's server context. */
SSL_CTX *tlsserver_ctx_new(char **cause);
/* An accepting SSL with leaf + key + chain (references taken). origin is the upstream leg
 * whose negotiated ALPN protocol the client leg answers with (NULL, or none negotiated: no
 * ALPN); it must outlive this SSL (the callback runs in any handshake on it). */
SSL *tlsserver_ssl_new(SSL_CTX *ctx, X509 *leaf, EVP_PKEY *key, STACK_OF(X509) *chain,
    SSL *origin, char **cause);

#endif
