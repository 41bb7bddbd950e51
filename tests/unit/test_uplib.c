/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_uplib — the upstream legs' library context cuts OpenSSL's tables and nothing a TLS client
 * sees: it has fewer ciphers and decoders than the default context (no ECB, no private-key
 * decoders) but a SubjectPublicKeyInfo decoder for every key type; the engine's upstream
 * context offers the same cipher suites and sends the same ClientHello (suites, extensions,
 * groups, sigalgs, versions, ALPN) for every hello profile as one in the default context;
 * certificates of every signing key type decode, in this context, to the same key and verify;
 * real handshakes (TLS 1.3 with each suite; TLS 1.2 with GCM, CBC with and without
 * encrypt-then-MAC, ChaCha20, CCM, RSA and DHE key exchange; TLS 1.1 and 1.0; the kz2019
 * hello; trust from a CA file) verify the origin's chain and carry data both ways; a
 * configuration with another provider keeps the default context; one context per process.
 * `mitmlab client` builds its context here too: every client hello profile, with each ALPN
 * offer and version cap, sends the same ClientHello as in the default context, and its
 * handshakes decode the server's key in the context it was given.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "client_tls.h"
#include "config.h"
#include "testpki.h"
#include "tlspeek.h"
#include "uplib.h"
#include "upstream.h"

static OSSL_LIB_CTX *lib;
static EVP_PKEY *rootkey, *eckey, *rsakey;
static X509 *root, *ecleaf, *rsaleaf;

static int
setup(void **state)
{
	char *cause = NULL;

	(void)state;
	if ((lib = uplib_new(&cause)) == NULL) {
		fprintf(stderr, "uplib_new: %s\n", cause);
		free(cause);
		return 1;
	}
	rootkey = EVP_EC_gen("P-256");
	eckey = EVP_EC_gen("P-256");
	rsakey = EVP_RSA_gen(2048);
	root = testpki_cert("Uplib Test Root", rootkey, NULL, rootkey, -3600, 86400, 1, NULL);
	ecleaf = testpki_cert("a.test", eckey, root, rootkey, -3600, 86400, 2, "DNS:a.test");
	rsaleaf = testpki_cert("a.test", rsakey, root, rootkey, -3600, 86400, 3, "DNS:a.test");
	return root == NULL || ecleaf == NULL || rsaleaf == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(root);
	X509_free(ecleaf);
	X509_free(rsaleaf);
	EVP_PKEY_free(rootkey);
	EVP_PKEY_free(eckey);
	EVP_PKEY_free(rsakey);
	uplib_free(lib);
	return 0;
}

static void
count_one(void *method, void *arg)
{
	(void)method;
	(*(int *)arg)++;
}

static void
count_cipher(EVP_CIPHER *c, void *arg)
{
	count_one(c, arg);
}

static void
count_decoder(OSSL_DECODER *d, void *arg)
{
	count_one(d, arg);
}

/* The tables are cut: fewer ciphers and decoders, none of the left-out kinds, all TLS needs. */
static void
test_tables_cut(void **state)
{
	static const char *const unused[] = { "AES-128-ECB", "AES-256-CTR", "AES-128-CFB",
	    "AES-256-XTS", "AES-128-WRAP", "AES-128-OCB", "AES-128-SIV", "AES-128-CBC-CTS",
	    "ChaCha20", "DES-EDE3-ECB" };
	static const char *const tls[] = { "AES-128-CBC", "AES-256-CBC", "AES-128-GCM",
	    "AES-256-GCM", "AES-128-CCM", "AES-256-CCM", "ChaCha20-Poly1305", "DES-EDE3-CBC",
	    "CAMELLIA-128-CBC", "CAMELLIA-256-CBC", "ARIA-128-GCM", "ARIA-256-GCM",
	    "AES-128-CBC-HMAC-SHA1", "AES-256-CBC-HMAC-SHA256", "NULL" };
	static const char *const keytypes[] = { "RSA", "RSA-PSS", "EC", "ED25519", "ED448",
	    "X25519", "X448", "DSA", "DH", "DHX", "SM2" };
	int ndef = 0, nup = 0;
	size_t i;
	EVP_CIPHER *c;
	OSSL_DECODER *d;

	(void)state;
	EVP_CIPHER_do_all_provided(NULL, count_cipher, &ndef);
	EVP_CIPHER_do_all_provided(lib, count_cipher, &nup);
	assert_true(nup > 0);
	assert_true(nup * 3 < ndef);		/* 30 of 124 with OpenSSL 3.0 */
	ndef = nup = 0;
	OSSL_DECODER_do_all_provided(NULL, count_decoder, &ndef);
	OSSL_DECODER_do_all_provided(lib, count_decoder, &nup);
	assert_true(nup > 0);
	assert_true(nup * 2 < ndef);		/* 12 of 40 */
	for (i = 0; i < sizeof(unused) / sizeof(unused[0]); i++) {
		assert_non_null(c = EVP_CIPHER_fetch(NULL, unused[i], NULL));
		EVP_CIPHER_free(c);
		ERR_set_mark();
		assert_null(EVP_CIPHER_fetch(lib, unused[i], NULL));
		ERR_pop_to_mark();
	}
	for (i = 0; i < sizeof(tls) / sizeof(tls[0]); i++) {
		ERR_set_mark();		/* the stitched CBC-HMAC ciphers need AES-NI */
		c = EVP_CIPHER_fetch(NULL, tls[i], NULL);
		ERR_pop_to_mark();
		if (c == NULL)
			continue;
		EVP_CIPHER_free(c);
		c = EVP_CIPHER_fetch(lib, tls[i], NULL);
		if (c == NULL)
			fail_msg("TLS cipher %s missing from the upstream context", tls[i]);
		EVP_CIPHER_free(c);
	}
	for (i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++) {
		d = OSSL_DECODER_fetch(lib, keytypes[i], "input=der,structure=SubjectPublicKeyInfo");
		if (d == NULL)
			fail_msg("no SubjectPublicKeyInfo decoder for %s", keytypes[i]);
		OSSL_DECODER_free(d);
		ERR_set_mark();
		assert_null(d = OSSL_DECODER_fetch(lib, keytypes[i],
		    "input=der,structure=PrivateKeyInfo"));
		ERR_pop_to_mark();
	}
}

/* Every cipher suite OpenSSL can offer, at security level 0, is offered in both contexts. */
static void
test_same_suites(void **state)
{
	SSL_CTX *ctx[2] = { SSL_CTX_new(TLS_client_method()),
	    SSL_CTX_new_ex(lib, NULL, TLS_client_method()) };
	STACK_OF(SSL_CIPHER) *sk[2];
	int i, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		assert_non_null(ctx[k]);
		SSL_CTX_set_security_level(ctx[k], 0);
		assert_int_equal(SSL_CTX_set_cipher_list(ctx[k], "ALL:COMPLEMENTOFALL:@SECLEVEL=0"),
		    1);
		assert_int_equal(SSL_CTX_set_ciphersuites(ctx[k], "TLS_AES_256_GCM_SHA384:"
		    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:"
		    "TLS_AES_128_CCM_8_SHA256"), 1);
		sk[k] = SSL_CTX_get_ciphers(ctx[k]);
	}
	assert_true(sk_SSL_CIPHER_num(sk[0]) > 60);
	assert_int_equal(sk_SSL_CIPHER_num(sk[0]), sk_SSL_CIPHER_num(sk[1]));
	for (i = 0; i < sk_SSL_CIPHER_num(sk[0]); i++)
		assert_string_equal(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk[0], i)),
		    SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk[1], i)));
	SSL_CTX_free(ctx[0]);
	SSL_CTX_free(ctx[1]);
}

/* The ClientHello ssl sends first, parsed. */
static void
hello_of(SSL *ssl, struct tlspeek_hello *h)
{
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	char *data;
	long n;

	assert_non_null(rb);
	assert_non_null(wb);
	SSL_set_bio(ssl, rb, wb);
	SSL_set_connect_state(ssl);
	assert_int_equal(SSL_do_handshake(ssl), -1);	/* waits for the server */
	n = BIO_get_mem_data(wb, &data);
	assert_true(n > 0);
	memset(h, 0, sizeof(*h));
	assert_int_equal(tlspeek_parse((const uint8_t *)data, (size_t)n, h, NULL), TLSPEEK_OK);
}

/* Two parsed hellos offer the same: versions, SNI, suites, extensions (in order), groups,
 * point formats, signature algorithms, supported versions and ALPN. */
static void
same_hello(const struct tlspeek_hello *a, const struct tlspeek_hello *b)
{
	assert_true(a->n_ciphers > 0);
	assert_int_equal(a->record_version, b->record_version);
	assert_int_equal(a->legacy_version, b->legacy_version);
	assert_int_equal(a->max_version, b->max_version);
	assert_string_equal(a->sni, b->sni);
#define SAME_LIST(f, n) do {						\
	assert_int_equal(a->n, b->n);					\
	assert_memory_equal(a->f, b->f, a->n * sizeof(a->f[0]));	\
} while (0)
	SAME_LIST(ciphers, n_ciphers);
	SAME_LIST(exts, n_exts);
	SAME_LIST(groups, n_groups);
	SAME_LIST(pf, n_pf);
	SAME_LIST(sigalgs, n_sigalgs);
	SAME_LIST(versions, n_versions);
	SAME_LIST(alpn, alpn_len);
#undef SAME_LIST
}

/* A browser-like hello for the mirror profile: every suite, groups, sigalgs, h2 and http/1.1. */
static void
rich_hello(struct tlspeek_hello *h)
{
	static const unsigned char alpn[] = "\x02h2\x08http/1.1";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	assert_non_null(ctx);
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	assert_int_equal(SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0"), 1);
	assert_int_equal(SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384:P-521:X448:"
	    "ffdhe2048"), 1);
	assert_int_equal(SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1), 0);
	assert_non_null(ssl = SSL_new(ctx));
	SSL_set_tlsext_host_name(ssl, "a.test");
	SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
	hello_of(ssl, h);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* The engine's upstream hello is the same in both contexts, for every profile. */
static void
test_same_hello(void **state)
{
	static const int profiles[] = { CONFIG_HELLO_OPENSSL, CONFIG_HELLO_MIRROR,
	    CONFIG_HELLO_KZ2019 };
	struct tlspeek_hello client, h[2];
	size_t mirrored = 0;
	SSL_CTX *ctx[2];
	SSL *ssl;
	size_t p;
	int k;

	(void)state;
	rich_hello(&client);
	assert_true(client.n_ciphers > 40);
	for (p = 0; p < sizeof(profiles) / sizeof(profiles[0]); p++) {
		for (k = 0; k < 2; k++) {
			ctx[k] = upstream_ctx_new(k == 0 ? NULL : lib, profiles[p], NULL, NULL);
			assert_non_null(ctx[k]);
			/* an origin's chain is bounded (it is copied into forgeries and caches) */
			assert_int_equal(SSL_CTX_get_max_cert_list(ctx[k]), UPSTREAM_MAX_CERT_LIST);
			assert_non_null(ssl = upstream_ssl_new(ctx[k], profiles[p], &client, NULL));
			hello_of(ssl, &h[k]);
			SSL_free(ssl);
			SSL_CTX_free(ctx[k]);
		}
		same_hello(&h[0], &h[1]);
		if (profiles[p] == CONFIG_HELLO_MIRROR)
			mirrored = h[1].n_ciphers;
	}
	/* mirror followed the client: the comparison covered its long suite list */
	assert_true(mirrored > 40);
}

/* `mitmlab client`'s hello is the same in both contexts for every profile it has, with each
 * ALPN offer and with TLS 1.2 as the highest version. */
static void
test_client_same_hello(void **state)
{
	static const char *const https[] = { "1.1", "2", "auto" };
	static const char *const maxes[] = { NULL, "1.2" };
	char profiles[64], *name, *save = NULL;
	struct client_tls_opts o;
	struct client_record rec;
	struct client_tls *t[2];
	struct tlspeek_hello h[2];
	size_t i, j, compared = 0;
	int k;
	SSL *ssl;

	(void)state;
	snprintf(profiles, sizeof(profiles), "%s", client_tls_profiles());
	for (name = strtok_r(profiles, " ", &save); name != NULL;
	    name = strtok_r(NULL, " ", &save)) {
		for (i = 0; i < sizeof(https) / sizeof(https[0]); i++) {
			for (j = 0; j < sizeof(maxes) / sizeof(maxes[0]); j++) {
				for (k = 0; k < 2; k++) {
					memset(&o, 0, sizeof(o));
					o.hello = name;
					o.http = https[i];
					o.tls_max = maxes[j];
					o.lib = k == 0 ? NULL : lib;
					assert_non_null(t[k] = client_tls_new(&o, NULL));
					memset(&rec, 0, sizeof(rec));
					ssl = client_tls_ssl(t[k], -1, "a.test", &rec, NULL);
					assert_non_null(ssl);
					hello_of(ssl, &h[k]);
					SSL_free(ssl);
					client_tls_free(t[k]);
				}
				same_hello(&h[0], &h[1]);
				compared++;
			}
		}
	}
	assert_int_equal(compared, 2 * 3 * 2);	/* both profiles were compared */
}

/* 1 if k was made in the upstream context (its key manager is the filter's). */
static int
from_uplib(const EVP_PKEY *k)
{
	const OSSL_PROVIDER *p = EVP_PKEY_get0_provider(k);

	return p != NULL && strcmp(OSSL_PROVIDER_get0_name(p), "mitmlab-upstream") == 0;
}

/* A self-signed certificate for key (SHA-256, or no digest for EdDSA). */
static X509 *
selfsigned(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *n;
	int ed = EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448");

	assert_non_null(x);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"k.test", -1, -1,
	    0);
	X509_set_issuer_name(x, n);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, ed ? NULL : EVP_sha256()) > 0);
	return x;
}

/* An RSA-PSS key (EVP_PKEY_Q_keygen does not make these in OpenSSL 3.0). */
static EVP_PKEY *
rsapss_key(void)
{
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
	EVP_PKEY *k = NULL;

	assert_non_null(kc);
	assert_int_equal(EVP_PKEY_keygen_init(kc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(kc, 1024), 1);
	assert_int_equal(EVP_PKEY_keygen(kc, &k), 1);
	EVP_PKEY_CTX_free(kc);
	return k;
}

/* Certificates of every signing key type decode to the same key and verify. */
static void
test_decode_keys(void **state)
{
	EVP_PKEY *keys[] = { EVP_RSA_gen(1024), EVP_EC_gen("P-256"), EVP_EC_gen("P-384"),
	    EVP_EC_gen("P-521"), EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED448"), rsapss_key() };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		X509 *orig, *x;
		unsigned char *der = NULL;
		const unsigned char *p;
		int len;

		assert_non_null(keys[i]);
		orig = selfsigned(keys[i]);
		assert_true((len = i2d_X509(orig, &der)) > 0);
		p = der;
		assert_non_null(x = X509_new_ex(lib, NULL));
		assert_non_null(d2i_X509(&x, &p, len));
		assert_non_null(X509_get0_pubkey(x));
		assert_true(from_uplib(X509_get0_pubkey(x)));
		assert_false(from_uplib(X509_get0_pubkey(orig)));
		if (EVP_PKEY_eq(X509_get0_pubkey(x), keys[i]) != 1)
			fail_msg("key %zu (%s) decoded differently", i,
			    EVP_PKEY_get0_type_name(keys[i]));
		assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
		X509_free(x);
		X509_free(orig);
		OPENSSL_free(der);
		EVP_PKEY_free(keys[i]);
	}
}

/* One handshake case: the engine's upstream context (hello profile, trusting the root by
 * cafile or by its store) against a default-context server limited to one version and suite,
 * serving the EC or RSA leaf, with extra server options. */
struct hs_case {
	int		 hello;
	int		 version;
	const char	*suite;
	int		 rsa, cafile;
	uint64_t	 server_opts;
};

/* The root as a PEM file (the engine's --upstream-cafile); the caller unlinks it. */
static void
root_file(char *path, size_t len)
{
	FILE *f;
	int fd;

	snprintf(path, len, "/tmp/test_uplib.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	assert_int_equal(PEM_write_X509(f, root), 1);
	assert_int_equal(fclose(f), 0);
}

/* Run one case: the chain verifies, the peer's key was decoded in the upstream context, data
 * crosses both ways. */
static void
handshake(const struct hs_case *t)
{
	X509 *leaf = t->rsa ? rsaleaf : ecleaf;
	EVP_PKEY *key = t->rsa ? rsakey : eckey;
	SSL_CTX *cctx, *sctx = SSL_CTX_new(TLS_server_method());
	char buf[16], path[64] = "";
	SSL *c, *s;

	print_message("TLS %x %s%s\n", (unsigned)t->version, t->suite,
	    t->hello == CONFIG_HELLO_KZ2019 ? " (kz2019 hello)" : "");
	if (t->cafile)
		root_file(path, sizeof(path));
	cctx = upstream_ctx_new(lib, t->hello, t->cafile ? path : NULL, NULL);
	if (t->cafile)
		unlink(path);
	assert_non_null(cctx);
	assert_non_null(sctx);
	if (!t->cafile)
		assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), root), 1);
	SSL_CTX_set_min_proto_version(cctx, t->version);
	SSL_CTX_set_max_proto_version(cctx, t->version);
	SSL_CTX_set_security_level(cctx, 0);
	SSL_CTX_set_security_level(sctx, 0);
	SSL_CTX_set_min_proto_version(sctx, TLS1_VERSION);
	SSL_CTX_set_options(sctx, t->server_opts);
	SSL_CTX_set_dh_auto(sctx, 1);
	if (t->version == TLS1_3_VERSION) {
		assert_int_equal(SSL_CTX_set_ciphersuites(cctx, t->suite), 1);
		assert_int_equal(SSL_CTX_set_ciphersuites(sctx, t->suite), 1);
	} else {
		if (t->hello != CONFIG_HELLO_KZ2019)	/* kz2019 keeps its own list */
			assert_int_equal(SSL_CTX_set_cipher_list(cctx, t->suite), 1);
		assert_int_equal(SSL_CTX_set_cipher_list(sctx, t->suite), 1);
	}
	assert_int_equal(SSL_CTX_use_certificate(sctx, leaf), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, key), 1);
	assert_non_null(c = SSL_new(cctx));
	assert_non_null(s = SSL_new(sctx));
	testpki_handshake(c, s);
	assert_int_equal(SSL_version(c), t->version);
	assert_string_equal(SSL_CIPHER_get_name(SSL_get_current_cipher(c)), t->suite);
	assert_int_equal(SSL_get_verify_result(c), X509_V_OK);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(SSL_get0_peer_certificate(c)), key), 1);
	assert_true(from_uplib(X509_get0_pubkey(SSL_get0_peer_certificate(c))));
	assert_int_equal(SSL_write(c, "ping", 4), 4);
	assert_int_equal(SSL_read(s, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(SSL_write(s, "pong", 4), 4);
	assert_int_equal(SSL_read(c, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

/* Real handshakes in the upstream context: TLS 1.3 suites, TLS 1.2 record protections (CBC
 * with and without encrypt-then-MAC, the latter on the stitched ciphers where the CPU has
 * them) and key exchanges, TLS 1.0 and 1.1, the kz2019 hello, trust from a CA file. */
static void
test_handshakes(void **state)
{
	static const struct hs_case cases[] = {
		{ CONFIG_HELLO_OPENSSL, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", 0, 1, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", 0, 0, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", 1, 0, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_3_VERSION, "TLS_AES_128_CCM_SHA256", 0, 0, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", 0, 0, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA", 0, 0, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA", 0, 0,
		    SSL_OP_NO_ENCRYPT_THEN_MAC },
		{ CONFIG_HELLO_OPENSSL, TLS1_2_VERSION, "ECDHE-RSA-AES128-SHA256", 1, 0,
		    SSL_OP_NO_ENCRYPT_THEN_MAC },
		{ CONFIG_HELLO_OPENSSL, TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", 0, 0, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-CCM", 0, 0, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_2_VERSION, "ECDHE-RSA-AES256-GCM-SHA384", 1, 1, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_2_VERSION, "AES128-SHA256", 1, 0, 0 },	/* RSA kx */
		{ CONFIG_HELLO_OPENSSL, TLS1_2_VERSION, "DHE-RSA-AES128-GCM-SHA256", 1, 0, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_2_VERSION, "ECDHE-RSA-CAMELLIA128-SHA256", 1, 0, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_1_VERSION, "ECDHE-ECDSA-AES128-SHA", 0, 0, 0 },
		{ CONFIG_HELLO_OPENSSL, TLS1_VERSION, "ECDHE-RSA-AES256-SHA", 1, 0, 0 },
		{ CONFIG_HELLO_KZ2019, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", 0, 1, 0 },
		{ CONFIG_HELLO_KZ2019, TLS1_2_VERSION, "AES256-SHA", 1, 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		handshake(&cases[i]);
}

/* The stock configuration (only the default provider) lets the upstream context stand in;
 * another provider in the default context (legacy here) keeps the default one: uplib_open
 * then gives NULL without trying, and otherwise makes one (refused here: the test's exists). */
static void
test_unusable(void **state)
{
	OSSL_PROVIDER *legacy;
	OSSL_LIB_CTX *other = lib;
	char *cause = NULL;
	const char *why;

	(void)state;
	assert_null(uplib_unusable());
	assert_non_null(legacy = OSSL_PROVIDER_load(NULL, "legacy"));
	assert_non_null(why = uplib_unusable());
	assert_non_null(strstr(why, "other than"));
	assert_int_equal(uplib_open("test", &other, &cause), 0);
	assert_null(other);
	assert_null(cause);
	assert_int_equal(OSSL_PROVIDER_unload(legacy), 1);
	assert_null(uplib_unusable());
	assert_int_equal(uplib_open("test", &other, &cause), -1);
	assert_null(other);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "exists already"));
	free(cause);
}

/* `mitmlab client`'s context is the one it was given: through it a handshake with a
 * default-context server verifies (roots from a --trust file) and the server's key was
 * decoded in uplib; with no context given, in the default one. */
static void
test_client_handshake(void **state)
{
	SSL_CTX *sctx;
	struct client_tls_opts o;
	struct client_record rec;
	struct client_tls *t;
	char path[64], *trust[1] = { path };
	SSL *c, *s;
	int k;

	(void)state;
	root_file(path, sizeof(path));
	for (k = 0; k < 2; k++) {
		memset(&o, 0, sizeof(o));
		o.hello = "browser";
		o.http = "1.1";
		o.trust = trust;
		o.ntrust = 1;
		o.lib = k == 0 ? NULL : lib;
		assert_non_null(t = client_tls_new(&o, NULL));
		assert_non_null(sctx = SSL_CTX_new(TLS_server_method()));
		assert_int_equal(SSL_CTX_use_certificate(sctx, ecleaf), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(sctx, eckey), 1);
		memset(&rec, 0, sizeof(rec));
		assert_non_null(c = client_tls_ssl(t, -1, "a.test", &rec, NULL));
		assert_non_null(s = SSL_new(sctx));
		testpki_handshake(c, s);
		assert_int_equal(SSL_get_verify_result(c), X509_V_OK);
		assert_non_null(strstr(rec.root_subject, "Uplib Test Root"));
		assert_int_equal(from_uplib(X509_get0_pubkey(SSL_get0_peer_certificate(c))), k);
		SSL_free(c);
		SSL_free(s);
		client_result_free(&rec);
		SSL_CTX_free(sctx);
		client_tls_free(t);
	}
	unlink(path);
}

/* One context per process: a second one is refused with a cause until the first is freed. */
static void
test_one_per_process(void **state)
{
	char *cause = NULL;
	SSL_CTX *ctx;

	(void)state;
	assert_null(uplib_new(&cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "exists already"));
	free(cause);
	uplib_free(NULL);
	uplib_free(lib);
	assert_non_null(lib = uplib_new(NULL));	/* made again after the free */
	assert_non_null(ctx = SSL_CTX_new_ex(lib, NULL, TLS_client_method()));
	SSL_CTX_free(ctx);
}

/* An origin's Certificate message over UPSTREAM_MAX_CERT_LIST (64 KiB: a leaf of 5000 names)
 * fails the upstream handshake as too large; the same leaf passes with OpenSSL's own bound,
 * so it is the engine's bound that refuses it. */
static void
test_cert_list_bound(void **state)
{
	char *san = testpki_names(5000);
	X509 *big;
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method()), *cctx;
	SSL *c, *s;
	int k;

	(void)state;
	assert_non_null(sctx);
	big = testpki_cert("a.test", eckey, root, rootkey, -3600, 86400, 77, san);
	assert_true(i2d_X509(big, NULL) > UPSTREAM_MAX_CERT_LIST);
	assert_int_equal(SSL_CTX_use_certificate(sctx, big), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, eckey), 1);
	for (k = 0; k < 2; k++) {
		assert_non_null(cctx = upstream_ctx_new(lib, CONFIG_HELLO_OPENSSL, NULL, NULL));
		assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), root), 1);
		if (k == 1)
			SSL_CTX_set_max_cert_list(cctx, 1024 * 1024);
		assert_non_null(c = SSL_new(cctx));
		assert_non_null(s = SSL_new(sctx));
		ERR_clear_error();
		assert_int_equal(testpki_try_handshake(c, s), k);
		if (k == 0)
			assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()),
			    SSL_R_EXCESSIVE_MESSAGE_SIZE);
		SSL_free(c);
		SSL_free(s);
		SSL_CTX_free(cctx);
	}
	SSL_CTX_free(sctx);
	X509_free(big);
	free(san);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_cut),
		cmocka_unit_test(test_same_suites),
		cmocka_unit_test(test_same_hello),
		cmocka_unit_test(test_client_same_hello),
		cmocka_unit_test(test_client_handshake),
		cmocka_unit_test(test_decode_keys),
		cmocka_unit_test(test_handshakes),
		cmocka_unit_test(test_cert_list_bound),
		cmocka_unit_test(test_one_per_process),
		cmocka_unit_test(test_unusable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
