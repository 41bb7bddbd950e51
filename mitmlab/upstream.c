/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * upstream — upstream TLS client contexts, per-flow ClientHello shaping (upstream.h lists what
 * each profile sends and what cannot be mirrored) and the certificate verdict. Verification
 * always runs with SSL_VERIFY_NONE and is judged afterwards from SSL_get_verify_result (chain
 * under --upstream-cafile, no name) and X509_check_host (name), so that
 * --require-valid-upstream can fall back to splice instead of failing the handshake. With
 * --require-valid-upstream the name is never checked and a bad chain means splice; otherwise
 * --upstream-verify checks chain and name and a failure closes the client connection.
 * Resumption: each flow that may resume carries its sesscache key in SSL ex_data; the context's
 * new-session callback files every resumable session the origin sends under that key (the
 * cache takes its own reference), and the flow keeps a reference to the session it offered so
 * that a refused or unusable one is dropped from the cache only if it is still the entry's.
 * OpenSSL 3.0 keeps the origin's leaf (SSL_SESSION peer), chain (peer_chain) and verification
 * result in the session and SSL_set_session restores the result, so after a resumed handshake
 * SSL_get1_peer_certificate, SSL_get_peer_cert_chain and SSL_get_verify_result answer for the
 * handshake that created the session (test_sesscache checks this for TLS 1.2 and 1.3). A session
 * that went through i2d/d2i has no chain, and one without a leaf cannot be forged from: both
 * are refused. One session per key, offered to every flow until a newer one replaces it (TLS
 * 1.3 tickets issued by OpenSSL and nginx may be used more than once; RFC 8446 C.4 advises
 * single use against linkability, which matters to browsers, not to this lab).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "config.h"
#include "jsonout.h"
#include "keylog.h"
#include "log.h"
#include "sesscache.h"
#include "upstream.h"
#include "util.h"

/* A flow's resumption state, SSL ex_data freed with the SSL. */
struct upstream_flow {
	struct sesscache	*sc;
	unsigned char		 key[SESSCACHE_KEYLEN];
	SSL_SESSION		*offered;	/* reference; NULL: nothing offered */
};

static CRYPTO_ONCE upstream_once = CRYPTO_ONCE_STATIC_INIT;
static int upstream_idx = -1;

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

/* A client context for the profile in library context lib (uplib.h; NULL: the default). */
SSL_CTX *
upstream_ctx_new(OSSL_LIB_CTX *lib, int hello, const char *cafile, char **cause)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new_ex(lib, NULL, TLS_client_method())) == NULL) {
		util_cause(cause, "upstream SSL_CTX: %s", log_ssl_reason());
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);	/* EOF without close_notify */
	SSL_CTX_set_max_cert_list(ctx, UPSTREAM_MAX_CERT_LIST);
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

/* ex_data free function: the flow's state goes with its SSL. */
static void
upstream_flow_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct upstream_flow *f = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (f == NULL)
		return;
	SSL_SESSION_free(f->offered);
	free(f);
}

/* The ex_data index, made once per process. */
static void
upstream_index_init(void)
{
	upstream_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, upstream_flow_free);
}

/* The origin issued a session (TLS 1.3: a ticket after the handshake): file it under the
 * flow's key. Returns 0: OpenSSL keeps its reference, the cache took its own. */
static int
upstream_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct upstream_flow *f = SSL_get_ex_data(ssl, upstream_idx);

	if (f != NULL && SSL_SESSION_is_resumable(sess))
		sesscache_put(f->sc, f->key, sess, SSL_get_peer_cert_chain(ssl));
	return 0;
}

/* Turn on session capture. */
int
upstream_ctx_resume(SSL_CTX *ctx, char **cause)
{
	if (!CRYPTO_THREAD_run_once(&upstream_once, upstream_index_init) || upstream_idx < 0)
		return util_cause(cause, "cannot allocate SSL ex_data for upstream sessions");
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, upstream_new_session_cb);
	return 0;
}

/* Append a 16-bit list, length first, to a key buffer of cap bytes; the list is cut where
 * it would not fit (never happens with the buffer upstream_resume_key sizes). */
static size_t
upstream_key_list(unsigned char *buf, size_t n, size_t cap, const uint16_t *v, size_t count)
{
	size_t i;

	if (n + 2 > cap)
		return n;
	if (count > (cap - n - 2) / 2)
		count = (cap - n - 2) / 2;
	buf[n++] = (unsigned char)(count >> 8);
	buf[n++] = (unsigned char)count;
	for (i = 0; i < count; i++) {
		buf[n++] = (unsigned char)(v[i] >> 8);
		buf[n++] = (unsigned char)v[i];
	}
	return n;
}

/* The session-cache key of an upstream leg (see upstream.h). */
int
upstream_resume_key(const struct sockaddr *dst, int hello, const struct tlspeek_hello *h,
    unsigned char key[SESSCACHE_KEYLEN])
{
	/* two version fields, then five lists: a 2-byte count and 2 bytes per entry each */
	unsigned char ex[4 + 2 * 5 + 2 * (TLSPEEK_MAX_CIPHERS + TLSPEEK_MAX_EXTS +
	    TLSPEEK_MAX_GROUPS + TLSPEEK_MAX_SIGALGS + TLSPEEK_MAX_VERSIONS)];
	const char *sni = h != NULL && h->has_sni ? h->sni : NULL;
	size_t exlen = 0;

	if (hello == CONFIG_HELLO_MIRROR && h != NULL) {	/* what upstream_mirror_* copy */
		ex[exlen++] = (unsigned char)(h->legacy_version >> 8);
		ex[exlen++] = (unsigned char)h->legacy_version;
		ex[exlen++] = (unsigned char)(h->max_version >> 8);
		ex[exlen++] = (unsigned char)h->max_version;
		exlen = upstream_key_list(ex, exlen, sizeof(ex), h->ciphers, h->n_ciphers);
		exlen = upstream_key_list(ex, exlen, sizeof(ex), h->exts, h->n_exts);
		exlen = upstream_key_list(ex, exlen, sizeof(ex), h->groups, h->n_groups);
		exlen = upstream_key_list(ex, exlen, sizeof(ex), h->sigalgs, h->n_sigalgs);
		exlen = upstream_key_list(ex, exlen, sizeof(ex), h->versions, h->n_versions);
	}
	return sesscache_key(dst, sni, hello, ex, exlen, key);
}

/* Key the flow and offer a cached session. */
int
upstream_resume_offer(SSL *ssl, struct sesscache *sc, const struct sockaddr *dst, int hello,
    const struct tlspeek_hello *h, int offer)
{
	struct upstream_flow *f;

	if (upstream_idx < 0 || (f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	if (upstream_resume_key(dst, hello, h, f->key) == -1 ||
	    !SSL_set_ex_data(ssl, upstream_idx, f)) {
		free(f);
		return -1;
	}
	f->sc = sc;
	if (!offer || (f->offered = sesscache_get(sc, f->key, time(NULL))) == NULL)
		return 0;
	if (SSL_set_session(ssl, f->offered) != 1) {
		log_ssl("upstream: SSL_set_session");
		sesscache_drop(sc, f->key, f->offered);
		SSL_SESSION_free(f->offered);
		f->offered = NULL;
		return 0;
	}
	return 1;
}

/* Judge the resumption of a finished handshake. */
enum upstream_resume
upstream_resume_result(SSL *ssl)
{
	struct upstream_flow *f = upstream_idx < 0 ? NULL : SSL_get_ex_data(ssl, upstream_idx);

	if (f == NULL || f->offered == NULL)
		return UPSTREAM_RESUME_NONE;
	if (!SSL_session_reused(ssl)) {
		sesscache_drop(f->sc, f->key, f->offered);
		return UPSTREAM_RESUME_REFUSED;
	}
	if (SSL_get0_peer_certificate(ssl) == NULL || SSL_get_peer_cert_chain(ssl) == NULL) {
		sesscache_drop(f->sc, f->key, f->offered);
		return UPSTREAM_RESUME_UNUSABLE;
	}
	return UPSTREAM_RESUMED;
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
	json_object_set_new(ev, "alpn", alen ? jsonout_text((const char *)alpn, alen, NULL) :
	    json_null());	/* the origin's choice among the client's names: escaped as those */
	json_object_set_new(ev, "verify", json_string(X509_verify_cert_error_string(vr)));
	json_object_set_new(ev, "verify_code", json_integer(vr));
	json_object_set_new(ev, "resumed", json_boolean(SSL_session_reused(ssl)));
}
