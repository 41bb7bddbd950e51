/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_tls — SSL_CTX construction and certificate checks for the load generator. The
 * "browser" profile approximates Chrome's ClientHello as far as OpenSSL 3 allows: Chrome's
 * TLS 1.3 and TLS 1.2 cipher order, groups X25519:P-256:P-384, Chrome's signature algorithms,
 * TLS 1.2 minimum, no encrypt-then-mac, status_request and signed_certificate_timestamp
 * extensions, session tickets. It cannot send GREASE, ALPS or Chrome's extension permutation,
 * so a JA4/extension-order detector can still tell it from Chrome; its JA3 differs from the
 * "openssl" profile's. Certificate verification runs X509_verify_cert itself (an app verify
 * callback) so that the block-list sees the built chain, including a trusted anchor the
 * server did not send, and pins are checked only on a chain that verified.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "client_tls.h"
#include "log.h"
#include "pki.h"
#include "util.h"

struct client_tls {
	SSL_CTX	*ctx;
	FILE	*keylog;
	const struct client_blocklist *blocklist;
	const struct client_pins *pins;
};

/* The hello profiles, as a static table. */
static const struct client_tls_profile {
	const char *name;
	const char *ciphersuites;	/* TLS 1.3, NULL = library default */
	const char *ciphers;		/* TLS 1.2 and below */
	const char *groups;
	const char *sigalgs;
	int	min_version;
	uint64_t options;
	int	status_request, sct;
} client_tls_profiles_table[] = {
	{ "openssl", NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
	{ "browser",
	  "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
	  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
	  "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:"
	  "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA",
	  "X25519:P-256:P-384",
	  "ECDSA+SHA256:rsa_pss_rsae_sha256:RSA+SHA256:ECDSA+SHA384:rsa_pss_rsae_sha384:"
	  "RSA+SHA384:rsa_pss_rsae_sha512:RSA+SHA512",
	  TLS1_2_VERSION, SSL_OP_NO_ENCRYPT_THEN_MAC | SSL_OP_NO_COMPRESSION, 1, 1 },
};

/* Names of the profiles. */
const char *
client_tls_profiles(void)
{
	return "openssl browser";
}

/* SSLKEYLOGFILE writer. */
static void
client_tls_keylog_cb(const SSL *ssl, const char *line)
{
	struct client_tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (t != NULL && t->keylog != NULL) {
		fputs(line, t->keylog);
		fputc('\n', t->keylog);
		fflush(t->keylog);
	}
}

/* If any certificate of sk is block-listed, describe it into r and return 1. */
static int
client_tls_check_blocked(struct client_tls *t, STACK_OF(X509) *sk, struct client_record *r)
{
	unsigned char h[32];
	char hex[65], subj[160];
	int i;

	if (sk == NULL || t->blocklist == NULL || t->blocklist->n == 0)
		return 0;
	for (i = 0; i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);
		if (pki_spki_sha256(x, h) == -1 || !client_trust_blocked(t->blocklist, h))
			continue;
		pki_name_text(X509_get_subject_name(x), subj, sizeof(subj));
		client_result_error(r, "certificate \"%s\" has block-listed SPKI %s", subj,
		    util_hex(h, 32, hex));
		r->f.blocked = 1;
		return 1;
	}
	return 0;
}

/* The app verify callback: X509 verification, then block-list, then pins. */
static int
client_tls_verify_cb(X509_STORE_CTX *xs, void *arg)
{
	struct client_tls *t = arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct client_record *r = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(xs), *chain;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	unsigned char h[32];
	int ok, err, i, n;

	if (r == NULL)
		return 0;
	/* What the server sent, leaf first (a TLS client's untrusted set starts with the leaf). */
	n = sent != NULL ? sk_X509_num(sent) : 0;
	r->nchain = 0;
	client_result_free(r);
	for (i = 0; i < n && r->nchain < CLIENT_CHAIN_MAX; i++) {
		X509 *x = sent != NULL ? sk_X509_value(sent, i) : NULL;
		BIO *pb = BIO_new(BIO_s_mem());
		char *pd;
		long pl;
		if (pb != NULL && PEM_write_bio_X509(pb, x) == 1 && (pl = BIO_get_mem_data(pb, &pd)) > 0)
			client_result_set_pem(r, r->nchain, pd, (size_t)pl);
		BIO_free(pb);
		if (pki_cert_sha256(x, h) == 0)
			util_hex(h, 32, r->chain_sha256[r->nchain]);
		if (pki_spki_sha256(x, h) == 0)
			util_hex(h, 32, r->chain_spki_sha256[r->nchain]);
		r->nchain++;
	}
	if (leaf != NULL) {
		pki_name_text(X509_get_subject_name(leaf), r->leaf_subject, sizeof(r->leaf_subject));
		pki_name_text(X509_get_issuer_name(leaf), r->leaf_issuer, sizeof(r->leaf_issuer));
	}
	ok = X509_verify_cert(xs);
	err = X509_STORE_CTX_get_error(xs);
	r->f.verify_err = ok > 0 ? X509_V_OK : err;
	if (ok <= 0)
		snprintf(r->verify_error, sizeof(r->verify_error), "%s",
		    X509_verify_cert_error_string(err));
	chain = X509_STORE_CTX_get0_chain(xs);
	if (client_tls_check_blocked(t, sent, r) || client_tls_check_blocked(t, chain, r)) {
		if (ok > 0)
			X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (ok <= 0) {
		client_result_error(r, "certificate verify failed: %s", r->verify_error);
		return 0;
	}
	if (chain != NULL && sk_X509_num(chain) > 0)
		pki_name_text(X509_get_subject_name(sk_X509_value(chain, sk_X509_num(chain) - 1)),
		    r->root_subject, sizeof(r->root_subject));
	if (t->pins != NULL && r->sni != NULL && client_trust_pin_count(t->pins, r->sni) > 0) {
		for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
			if (pki_spki_sha256(sk_X509_value(chain, i), h) == 0 &&
			    client_trust_pin_match(t->pins, r->sni, h))
				return 1;
		r->f.pin_failed = 1;
		client_result_error(r, "no certificate in the verified chain matches the %zu "
		    "pin(s) for %s", client_trust_pin_count(t->pins, r->sni), r->sni);
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

/* Build the ALPN wire list for --http. */
static int
client_tls_alpn(SSL_CTX *ctx, const char *http)
{
	static const unsigned char h11[] = "\x08http/1.1", h2[] = "\x02h2",
	    both[] = "\x02h2\x08http/1.1";

	if (http == NULL || strcmp(http, "auto") == 0)
		return SSL_CTX_set_alpn_protos(ctx, both, sizeof(both) - 1);
	if (strcmp(http, "2") == 0)
		return SSL_CTX_set_alpn_protos(ctx, h2, sizeof(h2) - 1);
	return SSL_CTX_set_alpn_protos(ctx, h11, sizeof(h11) - 1);
}

/* Create the run's TLS context. */
struct client_tls *
client_tls_new(const struct client_tls_opts *o, char **cause)
{
	const struct client_tls_profile *p = NULL;
	struct client_tls *t;
	X509_STORE *store;
	size_t i;

	for (i = 0; i < sizeof(client_tls_profiles_table) / sizeof(client_tls_profiles_table[0]); i++)
		if (strcmp(o->hello, client_tls_profiles_table[i].name) == 0)
			p = &client_tls_profiles_table[i];
	if (p == NULL) {
		util_cause(cause, "unknown hello profile \"%s\" (known: %s)", o->hello,
		    client_tls_profiles());
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	t->blocklist = o->blocklist;
	t->pins = o->pins;
	if ((t->ctx = SSL_CTX_new_ex(o->lib, NULL, TLS_client_method())) == NULL)
		goto ssl_fail;
	SSL_CTX_set_app_data(t->ctx, t);
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | p->options);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (p->min_version != 0 && !SSL_CTX_set_min_proto_version(t->ctx, p->min_version))
		goto ssl_fail;
	if (o->tls_max != NULL && !SSL_CTX_set_max_proto_version(t->ctx,
	    strcmp(o->tls_max, "1.2") == 0 ? TLS1_2_VERSION : TLS1_3_VERSION))
		goto ssl_fail;
	if (p->ciphersuites != NULL && !SSL_CTX_set_ciphersuites(t->ctx, p->ciphersuites))
		goto ssl_fail;
	if (p->ciphers != NULL && !SSL_CTX_set_cipher_list(t->ctx, p->ciphers))
		goto ssl_fail;
	if (p->groups != NULL && !SSL_CTX_set1_groups_list(t->ctx, p->groups))
		goto ssl_fail;
	if (p->sigalgs != NULL && !SSL_CTX_set1_sigalgs_list(t->ctx, p->sigalgs))
		goto ssl_fail;
	if (p->status_request)
		SSL_CTX_set_tlsext_status_type(t->ctx, TLSEXT_STATUSTYPE_ocsp);
	if (p->sct && !SSL_CTX_enable_ct(t->ctx, SSL_CT_VALIDATION_PERMISSIVE))
		goto ssl_fail;
	if (client_tls_alpn(t->ctx, o->http) != 0)
		goto ssl_fail;
	store = SSL_CTX_get_cert_store(t->ctx);
	for (i = 0; i < o->ntrust; i++) {
		if (!X509_STORE_load_file_ex(store, o->trust[i], o->lib, NULL)) {
			util_cause(cause, "--trust %s: %s", o->trust[i], log_ssl_reason());
			goto fail;
		}
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(t->ctx, client_tls_verify_cb, t);
	if (o->keylog != NULL) {
		if ((t->keylog = fopen(o->keylog, "a")) == NULL) {
			util_cause(cause, "--keylog %s: cannot open for appending", o->keylog);
			goto fail;
		}
		SSL_CTX_set_keylog_callback(t->ctx, client_tls_keylog_cb);
	}
	return t;
ssl_fail:
	util_cause(cause, "hello profile %s: %s", p->name, log_ssl_reason());
fail:
	client_tls_free(t);
	return NULL;
}

/* Free the context. */
void
client_tls_free(struct client_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	if (t->keylog != NULL)
		fclose(t->keylog);
	free(t);
}

/* A new SSL for one connection. */
SSL *
client_tls_ssl(struct client_tls *t, int fd, const char *host, struct client_record *r,
    char **cause)
{
	unsigned char ipbuf[16];
	int is_ip;
	SSL *ssl;

	if ((ssl = SSL_new(t->ctx)) == NULL) {
		util_cause(cause, "SSL_new: %s", log_ssl_reason());
		return NULL;
	}
	is_ip = inet_pton(AF_INET, host, ipbuf) == 1 || inet_pton(AF_INET6, host, ipbuf) == 1;
	if ((!is_ip && !SSL_set_tlsext_host_name(ssl, host)) ||
	    (!is_ip && !SSL_set1_host(ssl, host)) ||
	    (is_ip && !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)) ||
	    !SSL_set_fd(ssl, fd)) {
		util_cause(cause, "%s: TLS setup: %s", host, log_ssl_reason());
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_app_data(ssl, r);
	SSL_set_connect_state(ssl);
	return ssl;
}

/* The ClientHello's random into the record once the hello is built (all zero before). */
void
client_tls_random(const SSL *ssl, struct client_record *r)
{
	unsigned char rnd[32];
	size_t i;

	if (SSL_get_client_random(ssl, rnd, sizeof(rnd)) != sizeof(rnd))
		return;
	for (i = 0; i < sizeof(rnd) && rnd[i] == 0; i++)
		;
	if (i < sizeof(rnd))
		util_hex(rnd, sizeof(rnd), r->client_random);
}

/* Negotiated parameters into the record. */
void
client_tls_describe(SSL *ssl, struct client_record *r)
{
	const unsigned char *alpn = NULL;
	unsigned alen = 0;

	snprintf(r->version, sizeof(r->version), "%s", SSL_get_version(ssl));
	snprintf(r->cipher, sizeof(r->cipher), "%s", SSL_get_cipher_name(ssl));
	SSL_get0_alpn_selected(ssl, &alpn, &alen);
	if (alpn != NULL && alen > 0)
		snprintf(r->alpn, sizeof(r->alpn), "%.*s", (int)alen, (const char *)alpn);
}
