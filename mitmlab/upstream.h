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
 * Resumption (--upstream-resume, off by default): the context captures the sessions the origin
 * issues (TLS 1.3 tickets after the handshake, TLS 1.2 sessions at its end) into the worker's
 * sesscache under the flow's key (destination, SNI, profile; for mirror also the mirrored
 * parameters) and a later flow with the same key offers the newest one. Off, the context caches
 * nothing and every hello is exactly the profile's; on, a hello that offers a session carries
 * it (session id / ticket, or a TLS 1.3 pre_shared_key). A resumed handshake carries no
 * certificate: the leaf, chain and verification result come from the session, and a session
 * without them is refused (upstream_resume_result) so that the caller redoes a full handshake.
 * The origin's Certificate message may be at most UPSTREAM_MAX_CERT_LIST bytes (64 KiB, against
 * OpenSSL's default of 100 KiB; real chains take a few KiB): a larger one fails the upstream
 * handshake ("excessive message size"), as its chain would be copied into every forgery and
 * cache entry made from it.
 */
#ifndef MITMLAB_UPSTREAM_H
#define MITMLAB_UPSTREAM_H

#include <stddef.h>
#include <sys/socket.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "sesscache.h"
#include "tlspeek.h"

#define UPSTREAM_MAX_CERT_LIST (64 * 1024)	/* bytes: the origin's Certificate message */

#define UPSTREAM_KZ2019_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:" \
	"ECDHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA"

struct sesscache;

enum upstream_verdict {
	UPSTREAM_OK,		/* go on intercepting */
	UPSTREAM_SPLICE,	/* --require-valid-upstream failed: splice this flow instead */
	UPSTREAM_REFUSE,	/* --upstream-verify failed: close the client */
};

/* What became of a flow's resumption, judged after its upstream handshake. */
enum upstream_resume {
	UPSTREAM_RESUME_NONE,		/* no session offered */
	UPSTREAM_RESUME_REFUSED,	/* offered, but a full handshake happened (entry dropped) */
	UPSTREAM_RESUMED,		/* resumed: certificate and verdict from the session */
	UPSTREAM_RESUME_UNUSABLE,	/* resumed, but the session lacks the origin's certificate
					 * or chain (entry dropped): redo with a full handshake */
};

/* A client SSL_CTX for hello profile (enum config_hello) in library context lib (uplib.h;
 * NULL: the default context); cafile may be NULL. */
SSL_CTX *upstream_ctx_new(OSSL_LIB_CTX *lib, int hello, const char *cafile, char **cause);
/* An SSL for one flow (h may be NULL: no SNI, no ALPN, no mirroring). */
SSL *upstream_ssl_new(SSL_CTX *ctx, int hello, const struct tlspeek_hello *h, char **cause);
/* Capture the origin's sessions on ctx (client session cache, new-session callback). */
int upstream_ctx_resume(SSL_CTX *ctx, char **cause);
/* The session-cache key of an upstream leg: destination, SNI, hello profile and, for the
 * mirror profile, every mirrored hello parameter (all of them: a ClientHello at tlspeek's
 * limits fits). -1 when dst is not IPv4/IPv6. */
int upstream_resume_key(const struct sockaddr *dst, int hello, const struct tlspeek_hello *h,
    unsigned char key[SESSCACHE_KEYLEN]);
/*
 * Key ssl's flow in sc (dst: the upstream destination; h as for upstream_ssl_new) so that the
 * sessions it receives are cached, and, if offer is set, offer the cached session for that key.
 * Returns 1 if a session was offered, 0 if not, -1 if the flow could not be keyed (it then
 * runs without resumption). The flow's state is freed with ssl.
 */
int upstream_resume_offer(SSL *ssl, struct sesscache *sc, const struct sockaddr *dst, int hello,
    const struct tlspeek_hello *h, int offer);
/* After the handshake: whether the offered session was used and can be relied on. */
enum upstream_resume upstream_resume_result(SSL *ssl);
/* Judge the finished handshake; why gets the reason text when not UPSTREAM_OK. */
enum upstream_verdict upstream_check(SSL *ssl, const char *sni, int verify, int require_valid,
    char *why, size_t whylen);
/* Add version, cipher, alpn, verify, verify_code, resumed to ev. */
void upstream_describe(SSL *ssl, json_t *ev);

#endif
