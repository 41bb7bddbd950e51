/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_install — the "install the certificate" page (see origin_install.h). The root file is
 * kept byte for byte for the download; OpenSSL reads it once (PEM, else DER) only to name it on
 * the page, so a file that is not one certificate is refused at start with its path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "origin_install.h"
#include "pki.h"
#include "util.h"

struct origin_install {
	unsigned char	*cert;		/* the file as given */
	size_t		 cert_len;
	char		*html;
	size_t		 html_len;
};

/* Append s to the growing buffer *b (len *n, capacity *cap), HTML-escaped when esc; -1 OOM. */
static int
origin_install_put(char **b, size_t *n, size_t *cap, const char *s, int esc)
{
	for (; *s != '\0'; s++) {
		const char *rep = NULL;
		size_t rl;
		char one[2] = { *s, '\0' };

		if (esc) {
			switch (*s) {
			case '&': rep = "&amp;"; break;
			case '<': rep = "&lt;"; break;
			case '>': rep = "&gt;"; break;
			case '"': rep = "&quot;"; break;
			case '\'': rep = "&#39;"; break;
			}
		}
		if (rep == NULL)
			rep = one;
		rl = strlen(rep);
		if (*n + rl + 1 > *cap) {
			size_t nc = *cap ? *cap * 2 : 4096;
			char *nb;
			while (nc < *n + rl + 1)
				nc *= 2;
			if ((nb = realloc(*b, nc)) == NULL)
				return -1;
			*b = nb;
			*cap = nc;
		}
		memcpy(*b + *n, rep, rl);
		*n += rl;
		(*b)[*n] = '\0';
	}
	return 0;
}

/* Build the page. */
char *
origin_install_html(const char *subject, const char *sha256_hex, const char *host,
    size_t *len)
{
	/* Pieces in order; NULL entries are the escaped values, in the order of vals. */
	const char *parts[] = {
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>Install the security certificate</title>\n</head>\n<body>\n"
		"<h1>Install the security certificate</h1>\n"
		"<p>Problems with access to some foreign internet resources can be eliminated by "
		"installing a security certificate. Without it, secure sites may not open.</p>\n"
		"<p><a id=\"download\" href=\"" ORIGIN_INSTALL_CERT_PATH "\">Download the "
		"certificate</a> (served by ", NULL, ")</p>\n"
		"<table>\n<tr><th>Certificate</th><td id=\"subject\">", NULL,
		"</td></tr>\n<tr><th>SHA-256 fingerprint</th><td id=\"sha256\">", NULL,
		"</td></tr>\n</table>\n"
		"<h2>How to install it</h2>\n<ol>\n"
		"<li>Windows: open the file, choose <em>Install Certificate</em>, "
		"<em>Local Machine</em>, and place it in <em>Trusted Root Certification "
		"Authorities</em>.</li>\n"
		"<li>macOS: open the file in Keychain Access, then set <em>Always Trust</em>.</li>\n"
		"<li>Firefox: Settings, Privacy &amp; Security, Certificates, <em>View "
		"Certificates</em>, Authorities, <em>Import</em>, and trust it to identify "
		"websites.</li>\n"
		"<li>Android: Settings, Security, <em>Install a certificate</em>, CA "
		"certificate.</li>\n</ol>\n"
		"<p><small>mitmlab lab page (mock). Browsers block this kind of root: installing "
		"it lets the network read your encrypted traffic.</small></p>\n"
		"</body>\n</html>\n",
	};
	const char *vals[] = { host, subject, sha256_hex };
	char *b = NULL;
	size_t n = 0, cap = 0, i, v = 0;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const char *s = parts[i] != NULL ? parts[i] : vals[v++];
		if (origin_install_put(&b, &n, &cap, s != NULL ? s : "", parts[i] == NULL) == -1) {
			free(b);
			return NULL;
		}
	}
	*len = n;
	return b;
}

/* Load the root and build the page. */
struct origin_install *
origin_install_load(const char *path, const char *host, char **cause)
{
	struct origin_install *in;
	const unsigned char *p;
	unsigned char h[32];
	char subject[512], hex[65];
	X509 *x = NULL;
	BIO *b;

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		util_cause(cause, "install_root %s: out of memory", path);
		return NULL;
	}
	if ((in->cert = (unsigned char *)util_read_file(path, &in->cert_len, cause)) == NULL)
		goto fail;
	if (in->cert_len > 0 && in->cert_len < 1 << 20 &&
	    (b = BIO_new_mem_buf(in->cert, (int)in->cert_len)) != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (x == NULL) {
		p = in->cert;
		x = d2i_X509(NULL, &p, (long)in->cert_len);
	}
	ERR_clear_error();
	if (x == NULL) {
		util_cause(cause, "install_root %s: not a PEM or DER certificate (give the national "
		    "root's certificate file)", path);
		goto fail;
	}
	pki_name_text(X509_get_subject_name(x), subject, sizeof(subject));
	if (pki_cert_sha256(x, h) == -1) {
		X509_free(x);
		util_cause(cause, "install_root %s: cannot hash the certificate", path);
		goto fail;
	}
	X509_free(x);
	util_hex(h, 32, hex);
	if ((in->html = origin_install_html(subject, hex, host, &in->html_len)) == NULL) {
		util_cause(cause, "install_root %s: out of memory", path);
		goto fail;
	}
	return in;
fail:
	origin_install_free(in);
	return NULL;
}

/* Free. */
void
origin_install_free(struct origin_install *in)
{
	if (in == NULL)
		return;
	free(in->cert);
	free(in->html);
	free(in);
}

/* The answer for a path. */
int
origin_install_route(const struct origin_install *in, const char *path,
    const unsigned char **body, size_t *len, const char **ctype)
{
	size_t pl = strcspn(path, "?#");

	if (pl == strlen(ORIGIN_INSTALL_CERT_PATH) &&
	    strncmp(path, ORIGIN_INSTALL_CERT_PATH, pl) == 0) {
		*body = in->cert;
		*len = in->cert_len;
		*ctype = ORIGIN_INSTALL_CERT_TYPE;
		return 1;
	}
	*body = (const unsigned char *)in->html;
	*len = in->html_len;
	*ctype = ORIGIN_INSTALL_PAGE_TYPE;
	return 0;
}
