/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_tls — the TLS side of `mitmlab origin`: one SSL_CTX per configured site (certificate,
 * chain, key, version bounds, ciphers, ALPN preference, client-certificate policy, and the
 * install page's root file when the site has one, so --check loads it too) and the
 * dispatch rule that picks a site for a connection: SNI name or alias, else the site whose
 * default_for names the local address, else the first site. The connection code picks the
 * site from the peeked ClientHello before SSL_new; a servername callback repeats the choice
 * inside OpenSSL in case the peek could not parse the hello. It leaves sockets and HTTP to
 * origin_conn.
 */
#ifndef MITMLAB_ORIGIN_TLS_H
#define MITMLAB_ORIGIN_TLS_H

#include <stdio.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "origin_conf.h"

struct origin_tls;

struct origin_site {
	const struct origin_site_conf *conf;	/* borrowed from the origin_conf */
	struct origin_tls *tls;
	SSL_CTX *ctx;
	unsigned char alpn[64];			/* server preference, wire form */
	unsigned int alpn_len;
	char subject[256];			/* leaf subject, for logs */
	struct origin_install *install;		/* owned; NULL unless install_root */
};

/* Build every site's SSL_CTX; conf must outlive the result. Errors name the site and file. */
struct origin_tls *origin_tls_new(const struct origin_conf *conf, char **cause);
void origin_tls_free(struct origin_tls *tls);
/* The site whose name or alias matches sni (case-insensitive), or NULL. */
const struct origin_site *origin_tls_by_name(const struct origin_tls *tls, const char *sni);
/* The dispatch rule: by SNI (may be NULL or ""), else default_for of local, else the first. */
const struct origin_site *origin_tls_pick(const struct origin_tls *tls, const char *sni,
    const struct sockaddr *local);
/* The same rule for a plain-HTTP request by its Host name (may be NULL or ""): default_for
 * then matches the local IP whatever the port (the site that owns that address). */
const struct origin_site *origin_tls_pick_plain(const struct origin_tls *tls, const char *host,
    const struct sockaddr *local);
/* The site an SSL object is serving now (after any switch by the servername callback). */
const struct origin_site *origin_tls_site_of(const SSL *ssl);

#endif
