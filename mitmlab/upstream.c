/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * upstream — upstream TLS client contexts, per-flow ClientHello shaping (upstream.h lists what
 * each profile sends and what cannot be mirrored) and the certificate verdict. Verification
 * always runs with SSL_VERIFY_NONE and is judged afterwards from SSL_get_verify_result (chain
 * under --upstream-cafile, no name) and X509_check_host (name), so that
 * --require-valid-upstream can fall back to splice instead of failing the handshake. With
 * --require-valid-upstream the name is never checked and a bad chain means splice; otherwise
 * --upstream-verify checks chain and name and a failure closes the client connection.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "config.h"
#include "keylog.h"
#include "log.h"
#include "upstream.h"
#include "util.h"

struct upstream_name {
	uint16_t    id;
	const char *name;
};

/* IANA supported_groups values OpenSSL 3.0 can offer. */
static const struct upstream_name upstream_groups[] = {
	{ 0x0015, "secp224r1" }, { 0x0016, "secp256k1" }, { 0x0017, "P-256" },
	{ 0x0018, "P-384" }, { 0x0019, "P-521" }, { 0x001d, "X25519" }, { 0x001e, "X448" },
	{ 0x0100, "ffdhe2048" }, { 0x0101, "ffdhe3072" }, { 0x0102, "ffdhe4096" },
	{ 0x0103, "ffdhe6144" }, { 0x0104, "ffdhe8192" },
};

/* IANA signature schemes OpenSSL 3.0 knows by name. */
static const struct upstream_name upstream_sigalgs[] = {
	{ 0x0201, "RSA+SHA1" }, { 0x0203, "ECDSA+SHA1" }, { 0x0301, "RSA+SHA224" },
	{ 0x0303, "ECDSA+SHA224" }, { 0x0401, "rsa_pkcs1_sha256" },
	{ 0x0501, "rsa_pkcs1_sha384" }, { 0x0601, "rsa_pkcs1_sha512" },
	{ 0x0403, "ecdsa_secp256r1_sha256" }, { 0x0503, "ecdsa_secp384r1_sha384" },
	{ 0x0603, "ecdsa_secp521r1_sha512" }, { 0x0804, "rsa_pss_rsae_sha256" },
	{ 0x0805, "rsa_pss_rsae_sha384" }, { 0x0806, "rsa_pss_rsae_sha512" },
	{ 0x0807, "ed25519" }, { 0x0808, "ed448" }, { 0x0809, "rsa_pss_pss_sha256" },
	{ 0x080a, "rsa_pss_pss_sha384" }, { 0x080b, "rsa_pss_pss_sha512" },
};

/* A client context for the profile. */
SSL_CTX *
upstream_ctx_new(int hello, const char *cafile, char **cause)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		util_cause(cause, "upstream SSL_CTX: %s", log_ssl_reason());
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);	/* EOF without close_notify */
	if (cafile != NULL && SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		util_cause(cause, "--upstream-cafile %s: %s", cafile, log_ssl_reason());
		SSL_CTX_free(ctx);
		return NULL;
	}
	keylog_attach(ctx);
	if (hello == CONFIG_HELLO_KZ2019) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
		if (SSL_CTX_set_cipher_list(ctx, UPSTREAM_KZ2019_CIPHERS) != 1) {
			util_cause(cause, "kz2019 cipher list: %s", log_ssl_reason());
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (hello == CONFIG_HELLO_MIRROR) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	}
	return ctx;
}

/* Append name to a ':'-joined list in buf. */
static void
upstream_join(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n ? ":" : "", name);
}

/* Look an IANA id up in a name table. */
static const char *
upstream_lookup(const struct upstream_name *t, size_t n, uint16_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].id == id)
			return t[i].name;
	return NULL;
}

/* Mirror the client's TLS 1.2 cipher order and TLS 1.3 suites (known ones only). */
static void
upstream_mirror_ciphers(SSL *ssl, const struct tlspeek_hello *h)
{
	unsigned char wire[2 * TLSPEEK_MAX_CIPHERS];
	STACK_OF(SSL_CIPHER) *sk = NULL, *scsv = NULL;
	char l12[8192] = "", l13[512] = "";
	const SSL_CIPHER *ci;
	size_t i;

	for (i = 0; i < h->n_ciphers; i++) {
		wire[2 * i] = (unsigned char)(h->ciphers[i] >> 8);
		wire[2 * i + 1] = (unsigned char)h->ciphers[i];
	}
	if (h->n_ciphers == 0 || !SSL_bytes_to_cipher_list(ssl, wire, 2 * h->n_ciphers, 0, &sk,
	    &scsv))
		return;
	for (i = 0; i < (size_t)sk_SSL_CIPHER_num(sk); i++) {
		ci = sk_SSL_CIPHER_value(sk, (int)i);
		if ((SSL_CIPHER_get_protocol_id(ci) >> 8) == 0x13)
			upstream_join(l13, sizeof(l13), SSL_CIPHER_get_name(ci));
		else
			upstream_join(l12, sizeof(l12), SSL_CIPHER_get_name(ci));
	}
	sk_SSL_CIPHER_free(sk);
	sk_SSL_CIPHER_free(scsv);
	if (*l12 && SSL_set_cipher_list(ssl, l12) != 1)
		log_ssl("mirror: cipher list \"%s\"", l12);
	if (*l13 && SSL_set_ciphersuites(ssl, l13) != 1)
		log_ssl("mirror: ciphersuites \"%s\"", l13);
}

/* Mirror groups and signature algorithms (names OpenSSL knows). */
static void
upstream_mirror_lists(SSL *ssl, const struct tlspeek_hello *h)
{
	char groups[1024] = "", sigalgs[2048] = "";
	const char *name;
	size_t i;

	for (i = 0; i < h->n_groups; i++)
		if ((name = upstream_lookup(upstream_groups, sizeof(upstream_groups) /
		    sizeof(upstream_groups[0]), h->groups[i])) != NULL)
			upstream_join(groups, sizeof(groups), name);
	for (i = 0; i < h->n_sigalgs; i++)
		if ((name = upstream_lookup(upstream_sigalgs, sizeof(upstream_sigalgs) /
		    sizeof(upstream_sigalgs[0]), h->sigalgs[i])) != NULL)
			upstream_join(sigalgs, sizeof(sigalgs), name);
	if (*groups && SSL_set1_groups_list(ssl, groups) != 1)
		log_ssl("mirror: groups \"%s\"", groups);
	if (*sigalgs && SSL_set1_sigalgs_list(ssl, sigalgs) != 1)
		log_ssl("mirror: sigalgs \"%s\"", sigalgs);
}

/* Non-zero if the hello carried extension type. */
static int
upstream_has_ext(const struct tlspeek_hello *h, uint16_t type)
{
	size_t i;

	for (i = 0; i < h->n_exts; i++)
		if (h->exts[i] == type)
			return 1;
	return 0;
}

/* Mirror the version range and the on/off extensions. */
static void
upstream_mirror_misc(SSL *ssl, const struct tlspeek_hello *h)
{
	uint16_t lo = h->legacy_version, hi = h->max_version, v;
	size_t i;

	for (i = 0; i < h->n_versions; i++) {
		v = h->versions[i];
		if (!tlspeek_is_grease(v) && v >= TLS1_VERSION && v <= TLS1_3_VERSION && v < lo)
			lo = v;
	}
	if (lo < TLS1_VERSION)
		lo = TLS1_VERSION;
	if (hi >= TLS1_VERSION && hi <= TLS1_3_VERSION && lo <= hi) {
		SSL_set_min_proto_version(ssl, lo);
		SSL_set_max_proto_version(ssl, hi);
	}
	if (!h->has_session_ticket)
		SSL_set_options(ssl, SSL_OP_NO_TICKET);
	if (!upstream_has_ext(h, 23))
		SSL_set_options(ssl, SSL_OP_NO_EXTENDED_MASTER_SECRET);
	if (!upstream_has_ext(h, 22))
		SSL_set_options(ssl, SSL_OP_NO_ENCRYPT_THEN_MAC);
	if (upstream_has_ext(h, 5))
		SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
}

/* A per-flow SSL. */
SSL *
upstream_ssl_new(SSL_CTX *ctx, int hello, const struct tlspeek_hello *h, char **cause)
{
	SSL *ssl;

	if ((ssl = SSL_new(ctx)) == NULL) {
		util_cause(cause, "SSL_new: %s", log_ssl_reason());
		return NULL;
	}
	SSL_set_connect_state(ssl);
	if (h == NULL)
		return ssl;
	if (h->has_sni && SSL_set_tlsext_host_name(ssl, h->sni) != 1)
		log_ssl("upstream SNI \"%s\"", h->sni);
	if (h->alpn_len > 0 && SSL_set_alpn_protos(ssl, h->alpn, (unsigned)h->alpn_len) != 0)
		log_ssl("upstream ALPN");
	if (hello == CONFIG_HELLO_MIRROR) {
		upstream_mirror_ciphers(ssl, h);
		upstream_mirror_lists(ssl, h);
		upstream_mirror_misc(ssl, h);
	}
	return ssl;
}

/* Verdict on the origin's certificate. */
enum upstream_verdict
upstream_check(SSL *ssl, const char *sni, int verify, int require_valid, char *why,
    size_t whylen)
{
	long vr = SSL_get_verify_result(ssl);
	X509 *peer;
	int host_ok = 1;

	if (require_valid) {	/* kz-2019: a valid chain, whatever name it is for */
		if (vr == X509_V_OK)
			return UPSTREAM_OK;
		snprintf(why, whylen, "upstream certificate not valid under lab roots (%s) → "
		    "splice", X509_verify_cert_error_string(vr));
		return UPSTREAM_SPLICE;
	}
	if (!verify)
		return UPSTREAM_OK;
	if (vr != X509_V_OK) {
		snprintf(why, whylen, "upstream verification failed: %s",
		    X509_verify_cert_error_string(vr));
		return UPSTREAM_REFUSE;
	}
	if (sni != NULL && (peer = SSL_get1_peer_certificate(ssl)) != NULL) {
		host_ok = X509_check_host(peer, sni, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
		    NULL) == 1;
		X509_free(peer);
	}
	if (!host_ok) {
		snprintf(why, whylen, "upstream certificate does not match \"%s\"", sni);
		return UPSTREAM_REFUSE;
	}
	return UPSTREAM_OK;
}

/* Handshake facts for proxy.upstream. */
void
upstream_describe(SSL *ssl, json_t *ev)
{
	const unsigned char *alpn = NULL;
	unsigned alen = 0;
	long vr = SSL_get_verify_result(ssl);
	const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);

	SSL_get0_alpn_selected(ssl, &alpn, &alen);
	json_object_set_new(ev, "version", json_string(SSL_get_version(ssl)));
	json_object_set_new(ev, "cipher", ci ? json_string(SSL_CIPHER_get_name(ci)) :
	    json_null());
	json_object_set_new(ev, "alpn", alen ? json_stringn((const char *)alpn, alen) :
	    json_null());
	json_object_set_new(ev, "verify", json_string(X509_verify_cert_error_string(vr)));
	json_object_set_new(ev, "verify_code", json_integer(vr));
}
