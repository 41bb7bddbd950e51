/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_tls — per-site SSL_CTX construction and SNI / local-address dispatch for
 * `mitmlab origin`. Each SSL_CTX carries its struct origin_site as app data, so every callback
 * (ALPN selection, client hello, servername, key log) finds its site without a lookup table.
 * Sockets and HTTP are origin_conn's business.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "log.h"
#include "origin_install.h"
#include "origin_tls.h"
#include "tlspeek.h"
#include "util.h"

struct origin_tls {
	const struct origin_conf *conf;
	struct origin_site *sites;
	size_t n;
	FILE *keylog;
};

/* Whether pattern (a name, or "*.rest" matching exactly one more label) matches name. */
static int
origin_tls_match(const char *pattern, const char *name)
{
	const char *dot;

	if (strcasecmp(pattern, name) == 0)
		return 1;
	if (pattern[0] != '*' || pattern[1] != '.')
		return 0;
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return 0;
	return strcasecmp(dot + 1, pattern + 2) == 0;
}

/* Site by SNI name or alias. */
const struct origin_site *
origin_tls_by_name(const struct origin_tls *tls, const char *sni)
{
	size_t i, j;

	if (sni == NULL || *sni == '\0')
		return NULL;
	for (i = 0; i < tls->n; i++)
		if (strcasecmp(tls->sites[i].conf->name, sni) == 0)
			return &tls->sites[i];
	for (i = 0; i < tls->n; i++)
		for (j = 0; j < tls->sites[i].conf->aliases.n; j++)
			if (origin_tls_match(tls->sites[i].conf->aliases.v[j], sni))
				return &tls->sites[i];
	return NULL;
}

/* Whether configured address want matches the local address (any-address = any address);
 * any_port: compare the IPs only. */
static int
origin_tls_addr_match(const struct sockaddr_storage *want, const struct sockaddr *local,
    int any_port)
{
	char hw[UTIL_ADDRSTRLEN], hl[UTIL_ADDRSTRLEN];
	int pw, pl;

	if (local == NULL)
		return 0;
	pw = util_sa_host((const struct sockaddr *)want, hw, sizeof(hw));
	pl = util_sa_host(local, hl, sizeof(hl));
	if (pw != pl && !any_port)
		return 0;
	if (strcmp(hw, "0.0.0.0") == 0 || strcmp(hw, "::") == 0)
		return 1;
	/* An IPv4 address reached through a v4-mapped IPv6 socket. */
	if (strncmp(hl, "::ffff:", 7) == 0 && strcmp(hl + 7, hw) == 0)
		return 1;
	return strcmp(hw, hl) == 0;
}

/* The dispatch rule; any_port for plain HTTP. */
static const struct origin_site *
origin_tls_pick_any(const struct origin_tls *tls, const char *name,
    const struct sockaddr *local, int any_port)
{
	const struct origin_site *s;
	size_t i, j;

	if ((s = origin_tls_by_name(tls, name)) != NULL)
		return s;
	for (i = 0; i < tls->n; i++)
		for (j = 0; j < tls->sites[i].conf->default_for.text.n; j++)
			if (origin_tls_addr_match(&tls->sites[i].conf->default_for.ss[j], local,
			    any_port))
				return &tls->sites[i];
	return &tls->sites[0];
}

/* The dispatch rule by SNI. */
const struct origin_site *
origin_tls_pick(const struct origin_tls *tls, const char *sni, const struct sockaddr *local)
{
	return origin_tls_pick_any(tls, sni, local, 0);
}

/* The dispatch rule by Host. */
const struct origin_site *
origin_tls_pick_plain(const struct origin_tls *tls, const char *host,
    const struct sockaddr *local)
{
	return origin_tls_pick_any(tls, host, local, 1);
}

/* Site of an SSL object. */
const struct origin_site *
origin_tls_site_of(const SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

/* ALPN: the first of the site's protocols that the client offers (server preference). */
static int
origin_tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	const struct origin_site *site = origin_tls_site_of(ssl);
	unsigned char *sel = NULL;

	(void)arg;
	if (site == NULL || site->alpn_len == 0)
		return SSL_TLSEXT_ERR_NOACK;
	if (SSL_select_next_proto(&sel, outlen, site->alpn, site->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Move ssl to site's SSL_CTX. SSL_set_SSL_CTX swaps certificates only; copy the rest of the
 * site's policy. */
static int
origin_tls_use_site(SSL *ssl, const struct origin_site *site)
{
	STACK_OF(X509_NAME) *cas;

	if (site == NULL || site->ctx == SSL_get_SSL_CTX(ssl))
		return 0;
	if (SSL_set_SSL_CTX(ssl, site->ctx) == NULL)
		return -1;
	SSL_set_verify(ssl, SSL_CTX_get_verify_mode(site->ctx), NULL);
	SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(site->ctx));
	SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(site->ctx));
	if ((cas = SSL_CTX_get_client_CA_list(site->ctx)) != NULL)
		SSL_set_client_CA_list(ssl, SSL_dup_CA_list(cas));
	if (site->conf->ciphers != NULL)
		SSL_set_cipher_list(ssl, site->conf->ciphers);
	if (site->conf->ciphersuites != NULL)
		SSL_set_ciphersuites(ssl, site->conf->ciphersuites);
	return 0;
}

/* ClientHello: switch to the SNI's site before OpenSSL picks the protocol version, so that
 * site's tls_min and tls_max hold. The connection code starts on the site its own peek of
 * the hello named, and this finds it already there; it matters when the peek could not read
 * the hello (over TLSPEEK_MAX_BYTES). An unknown or malformed name keeps the current site
 * (OpenSSL's own parser judges a malformed extension). */
static int
origin_tls_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct origin_tls *tls = arg;
	const unsigned char *p;
	size_t len;
	char sni[256];

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) != 1 ||
	    tlspeek_sni_ext(p, len, sni, NULL) != 1)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (origin_tls_use_site(ssl, origin_tls_by_name(tls, sni)) == -1) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* Servername: the same switch by the name OpenSSL parsed (a no-op after origin_tls_hello_cb);
 * answering it acknowledges the name. An unknown name keeps the current site (a server with
 * one certificate answers anyway). */
static int
origin_tls_sni_cb(SSL *ssl, int *al, void *arg)
{
	struct origin_tls *tls = arg;

	(void)al;
	if (origin_tls_use_site(ssl, origin_tls_by_name(tls, SSL_get_servername(ssl,
	    TLSEXT_NAMETYPE_host_name))) == -1)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

/* Key log: one SSLKEYLOGFILE line per secret. */
static void
origin_tls_keylog_cb(const SSL *ssl, const char *line)
{
	const struct origin_site *site = origin_tls_site_of(ssl);

	if (site != NULL && site->tls->keylog != NULL) {
		fprintf(site->tls->keylog, "%s\n", line);
		fflush(site->tls->keylog);
	}
}

/* Load the PEM chain file into ctx as extra chain certificates. */
static int
origin_tls_chain(SSL_CTX *ctx, const char *path, char **cause)
{
	BIO *b;
	X509 *x;
	int n = 0;

	if ((b = BIO_new_file(path, "r")) == NULL)
		return util_cause(cause, "%s: %s", path, log_ssl_reason());
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			BIO_free(b);
			return util_cause(cause, "%s: %s", path, log_ssl_reason());
		}
		n++;
	}
	BIO_free(b);
	ERR_clear_error();	/* the PEM end-of-file "error" */
	if (n == 0)
		return util_cause(cause, "%s: no PEM certificate in the chain file", path);
	return 0;
}

/* Fail early, with errno's words, on a file that cannot be read (OpenSSL says "unknown"). */
static int
origin_tls_file(const char *what, const char *path, char **cause)
{
	if (path != NULL && access(path, R_OK) == -1)
		return util_cause(cause, "%s %s: %s (check the path in the configuration)", what,
		    path, strerror(errno));
	return 0;
}

/* Build one site's SSL_CTX. */
static int
origin_tls_site(struct origin_tls *tls, struct origin_site *site, char **cause)
{
	const struct origin_site_conf *c = site->conf;
	unsigned char sid[SSL_MAX_SID_CTX_LENGTH];
	const char *ciphers = c->ciphers;
	X509 *leaf;
	size_t i, sl;
	SSL_CTX *ctx;

	site->tls = tls;
	if (origin_tls_file("cert", c->cert, cause) == -1 ||
	    origin_tls_file("key", c->key, cause) == -1 ||
	    origin_tls_file("chain", c->chain, cause) == -1 ||
	    origin_tls_file("client_ca", c->client_ca, cause) == -1 ||
	    origin_tls_file("install_root", c->install_root, cause) == -1)
		return -1;
	if (c->install_root != NULL &&
	    (site->install = origin_install_load(c->install_root, c->name, cause)) == NULL)
		return -1;
	if ((ctx = site->ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return util_cause(cause, "SSL_CTX_new: %s", log_ssl_reason());
	SSL_CTX_set_app_data(ctx, site);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* Old protocol versions need security level 0 (SHA-1 signatures, small keys). */
	if (ciphers == NULL && c->tls_min < TLS1_2_VERSION)
		ciphers = "DEFAULT:@SECLEVEL=0";
	if (ciphers != NULL && SSL_CTX_set_cipher_list(ctx, ciphers) != 1)
		return util_cause(cause, "ciphers \"%s\": %s (see openssl ciphers -v)", ciphers,
		    log_ssl_reason());
	if (c->ciphersuites != NULL && SSL_CTX_set_ciphersuites(ctx, c->ciphersuites) != 1)
		return util_cause(cause, "ciphersuites \"%s\": %s", c->ciphersuites,
		    log_ssl_reason());
	if (SSL_CTX_set_min_proto_version(ctx, c->tls_min) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, c->tls_max) != 1)
		return util_cause(cause, "TLS version bounds: %s", log_ssl_reason());
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1)
		return util_cause(cause, "cert %s: %s (a PEM certificate is needed)", c->cert,
		    log_ssl_reason());
	if (c->chain != NULL && origin_tls_chain(ctx, c->chain, cause) == -1)
		return -1;
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1)
		return util_cause(cause, "key %s: %s (a PEM private key is needed)", c->key,
		    log_ssl_reason());
	if (SSL_CTX_check_private_key(ctx) != 1)
		return util_cause(cause, "key %s does not match cert %s", c->key, c->cert);
	if ((leaf = SSL_CTX_get0_certificate(ctx)) != NULL)
		X509_NAME_oneline(X509_get_subject_name(leaf), site->subject,
		    sizeof(site->subject));
	if (c->client_cert != ORIGIN_CCERT_NONE) {
		STACK_OF(X509_NAME) *names;
		if (SSL_CTX_load_verify_locations(ctx, c->client_ca, NULL) != 1)
			return util_cause(cause, "client_ca %s: %s", c->client_ca, log_ssl_reason());
		if ((names = SSL_load_client_CA_file(c->client_ca)) == NULL)
			return util_cause(cause, "client_ca %s: no certificate names", c->client_ca);
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (c->client_cert == ORIGIN_CCERT_REQUIRED ?
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	}
	/* Session resumption with client certificates needs a session id context. */
	sl = strlen(c->name) < sizeof(sid) ? strlen(c->name) : sizeof(sid);
	memcpy(sid, c->name, sl);
	SSL_CTX_set_session_id_context(ctx, sid, (unsigned int)sl);
	site->alpn_len = 0;
	for (i = 0; i < c->alpn.n; i++) {
		size_t l = strlen(c->alpn.v[i]);
		if (site->alpn_len + 1 + l > sizeof(site->alpn))
			break;
		site->alpn[site->alpn_len++] = (unsigned char)l;
		memcpy(site->alpn + site->alpn_len, c->alpn.v[i], l);
		site->alpn_len += (unsigned int)l;
	}
	SSL_CTX_set_alpn_select_cb(ctx, origin_tls_alpn_cb, NULL);
	SSL_CTX_set_client_hello_cb(ctx, origin_tls_hello_cb, tls);
	SSL_CTX_set_tlsext_servername_callback(ctx, origin_tls_sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, tls);
	if (tls->keylog != NULL)
		SSL_CTX_set_keylog_callback(ctx, origin_tls_keylog_cb);
	return 0;
}

/* Build all sites. */
struct origin_tls *
origin_tls_new(const struct origin_conf *conf, char **cause)
{
	struct origin_tls *tls;
	char *c2 = NULL;
	size_t i;

	if ((tls = calloc(1, sizeof(*tls))) == NULL ||
	    (tls->sites = calloc(conf->n_sites, sizeof(*tls->sites))) == NULL) {
		free(tls);
		util_cause(cause, "out of memory");
		return NULL;
	}
	tls->conf = conf;
	if (conf->keylog != NULL) {
		if ((tls->keylog = fopen(conf->keylog, "a")) == NULL) {
			util_cause(cause, "keylog %s: %s (check the directory exists)", conf->keylog,
			    strerror(errno));
			origin_tls_free(tls);
			return NULL;
		}
	}
	for (i = 0; i < conf->n_sites; i++) {
		tls->sites[i].conf = &conf->sites[i];
		tls->n = i + 1;
		if (origin_tls_site(tls, &tls->sites[i], &c2) == -1) {
			util_cause(cause, "site %s (sites[%zu]): %s", conf->sites[i].name, i,
			    c2 ? c2 : "TLS setup failed");
			free(c2);
			origin_tls_free(tls);
			return NULL;
		}
	}
	return tls;
}

/* Free every SSL_CTX. */
void
origin_tls_free(struct origin_tls *tls)
{
	size_t i;

	if (tls == NULL)
		return;
	for (i = 0; i < tls->n; i++) {
		SSL_CTX_free(tls->sites[i].ctx);
		origin_install_free(tls->sites[i].install);
	}
	if (tls->keylog != NULL)
		fclose(tls->keylog);
	free(tls->sites);
	free(tls);
}
