/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_tls — the TLS side of `mitmlab client`: one SSL_CTX per run built from a hello
 * profile ("openssl" = library defaults, "browser" = Chrome-like cipher, group and signature
 * algorithm order, ALPN, status_request and SCT extensions), the trust store from --trust, and
 * a certificate verification step that also applies the SPKI block-list and the host pins. It
 * records what the server sent into the connection's client_record.
 */
#ifndef MITMLAB_CLIENT_TLS_H
#define MITMLAB_CLIENT_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "client_result.h"
#include "client_trust.h"

struct client_tls_opts {
	const char *hello;		/* "openssl" | "browser" */
	const char *http;		/* "1.1" | "2" | "auto": the ALPN offered */
	const char *tls_max;		/* NULL | "1.2" | "1.3" */
	char *const *trust;		/* PEM bundles of trusted roots */
	size_t	ntrust;
	const char *keylog;		/* SSLKEYLOGFILE-format file to append to, or NULL */
	const struct client_blocklist *blocklist;	/* borrowed for the context's lifetime */
	const struct client_pins *pins;			/* borrowed for the context's lifetime */
	OSSL_LIB_CTX *lib;	/* the library context (uplib.h); NULL: OpenSSL's default */
};

struct client_tls;

/* Space-separated hello profile names, for messages. */
const char *client_tls_profiles(void);
/* Build the context; NULL with *cause on error. */
struct client_tls *client_tls_new(const struct client_tls_opts *o, char **cause);
void client_tls_free(struct client_tls *t);
/* A client SSL on fd for host (SNI unless an IP literal, and the verified name) that writes its
 * verification findings into r (borrowed until SSL_free). */
SSL *client_tls_ssl(struct client_tls *t, int fd, const char *host, struct client_record *r,
    char **cause);
/* Copy version, cipher and ALPN of a finished handshake into r. */
void client_tls_describe(SSL *ssl, struct client_record *r);
/* Its ClientHello.random into r->client_random, once the hello is built; nothing before. */
void client_tls_random(const SSL *ssl, struct client_record *r);

#endif
