/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_install — the "install the certificate" page of `mitmlab origin` (kz-2020: ISPs
 * redirected users without the national root to a page telling them to install it). A site
 * with "install_root" answers every path with an HTML page that names the root (subject,
 * SHA-256 fingerprint) and says how to install it, and answers /root.crt with the root file's
 * bytes exactly as given (PEM or DER) as application/x-x509-ca-cert. The page text is built
 * once at start; answering is a lookup. Sockets and HTTP framing are the drivers' business.
 */
#ifndef MITMLAB_ORIGIN_INSTALL_H
#define MITMLAB_ORIGIN_INSTALL_H

#include <stddef.h>

#define ORIGIN_INSTALL_CERT_PATH	"/root.crt"
#define ORIGIN_INSTALL_CERT_TYPE	"application/x-x509-ca-cert"
#define ORIGIN_INSTALL_PAGE_TYPE	"text/html; charset=utf-8"

struct origin_install;

/* Read the root certificate file (PEM or DER, checked to be one X.509 certificate) and build
 * the page for host; NULL with *cause naming the file. */
struct origin_install *origin_install_load(const char *path, const char *host, char **cause);
void origin_install_free(struct origin_install *in);
/* The page for a certificate whose subject and SHA-256 (hex) are given, for host, and the
 * URL path of the download (malloc'd HTML, *len its length; NULL when out of memory). Pure:
 * the text is escaped for HTML. */
char *origin_install_html(const char *subject, const char *sha256_hex, const char *host,
    size_t *len);
/* What to answer for request path (query ignored): the body (borrowed from in), its length and
 * content type. Returns 1 for the certificate, 0 for the page. */
int origin_install_route(const struct origin_install *in, const char *path,
    const unsigned char **body, size_t *len, const char **ctype);

#endif
