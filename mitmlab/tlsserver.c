/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tlsserver — server context and per-flow SSL for the client leg. Certificates are set per SSL
 * (each flow has its own forged leaf); the chain is shared read-only and referenced. The ALPN
 * select callback reads the origin's choice from the upstream leg's SSL, kept as app data
 * (nothing copied per connection).
 */
#include <string.h>

#include "keylog.h"
#include "log.h"
#include "tlsserver.h"
#include "util.h"

/* Select the origin's ALPN protocol if the client offered it (in: the client's list in wire
 * form); otherwise none. */
static int
tlsserver_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	const SSL *origin = SSL_get_app_data(ssl);
	const unsigned char *sel = NULL;
	unsigned int sellen = 0, i;

	(void)arg;
	if (origin != NULL)
		SSL_get0_alpn_selected(origin, &sel, &sellen);
	for (i = 0; sellen > 0 && i < inlen; i += 1u + in[i])
		if (in[i] == sellen && sellen <= inlen - i - 1 &&
		    memcmp(in + i + 1, sel, sellen) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)sellen;
			return SSL_TLSEXT_ERR_OK;
		}
	return SSL_TLSEXT_ERR_NOACK;
}

/* Server context for the client leg. */
SSL_CTX *
tlsserver_ctx_new(char **cause)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		util_cause(cause, "server SSL_CTX: %s", log_ssl_reason());
		return NULL;
	}
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);	/* EOF without close_notify */
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	SSL_CTX_set_alpn_select_cb(ctx, tlsserver_alpn_cb, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"mitmlab", 7);
	keylog_attach(ctx);
	return ctx;
}

/* Per-flow server SSL. */
SSL *
tlsserver_ssl_new(SSL_CTX *ctx, X509 *leaf, EVP_PKEY *key, STACK_OF(X509) *chain,
    SSL *origin, char **cause)
{
	const unsigned char *sel = NULL;
	unsigned int sellen = 0;
	SSL *ssl;

	if ((ssl = SSL_new(ctx)) == NULL) {
		util_cause(cause, "SSL_new: %s", log_ssl_reason());
		return NULL;
	}
	if (SSL_use_certificate(ssl, leaf) != 1 || SSL_use_PrivateKey(ssl, key) != 1 ||
	    (chain != NULL && SSL_set1_chain(ssl, chain) != 1)) {
		util_cause(cause, "forged certificate unusable: %s", log_ssl_reason());
		SSL_free(ssl);
		return NULL;
	}
	if (origin != NULL)
		SSL_get0_alpn_selected(origin, &sel, &sellen);
	if (sellen > 0)		/* the first ex_data costs an allocation; none reads as "no ALPN" */
		SSL_set_app_data(ssl, origin);
	SSL_set_accept_state(ssl);
	return ssl;
}
