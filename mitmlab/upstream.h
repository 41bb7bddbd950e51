/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * upstream — the engine's own TLS client towards the origin: one SSL_CTX per worker for the
 * chosen ClientHello profile, one SSL per flow carrying the client's SNI and exactly its ALPN
 * list, and the verdict on the origin's certificate after the handshake.
 * Hello profiles:
 *   openssl  library defaults (TLS 1.2-1.3)
 *   kz2019   TLS 1.0 record layer (OpenSSL writes 0x0301 on the first ClientHello record),
 *            versions TLS 1.0-1.2, 13 cipher-suite values on the wire: the 12 suites of
 *            UPSTREAM_KZ2019_CIPHERS plus OpenSSL's renegotiation SCSV (0x00ff), security level 0
 *   mirror   the client's TLS 1.2 cipher order (those OpenSSL knows), TLS 1.3 suites,
 *            supported_groups and signature_algorithms (known names), version range, and the
 *            presence of session_ticket, extended_master_secret, encrypt_then_mac and
 *            status_request. Not mirrored (OpenSSL decides): extension order, GREASE, padding,
 *            key_share choice, psk modes, compression, record_size_limit, unknown groups
 *            (post-quantum hybrids), unknown ciphers and sigalgs, point formats.
 */
#ifndef MITMLAB_UPSTREAM_H
#define MITMLAB_UPSTREAM_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "tlspeek.h"

#define UPSTREAM_KZ2019_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:" \
	"ECDHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA"

enum upstream_verdict {
	UPSTREAM_OK,		/* go on intercepting */
	UPSTREAM_SPLICE,	/* --require-valid-upstream failed: splice this flow instead */
	UPSTREAM_REFUSE,	/* --upstream-verify failed: close the client */
};

/* A client SSL_CTX for hello profile (enum config_hello); cafile may be NULL. */
SSL_CTX *upstream_ctx_new(int hello, const char *cafile, char **cause);
/* An SSL for one flow (h may be NULL: no SNI, no ALPN, no mirroring). */
SSL *upstream_ssl_new(SSL_CTX *ctx, int hello, const struct tlspeek_hello *h, char **cause);
/* Judge the finished handshake; why gets the reason text when not UPSTREAM_OK. */
enum upstream_verdict upstream_check(SSL *ssl, const char *sni, int verify, int require_valid,
    char *why, size_t whylen);
/* Add version, cipher, alpn, verify, verify_code to ev. */
void upstream_describe(SSL *ssl, json_t *ev);

#endif
