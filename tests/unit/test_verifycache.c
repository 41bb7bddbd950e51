/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_verifycache — cached upstream chain verdicts, through in-memory TLS 1.3 handshakes of
 * the engine's upstream context against an OpenSSL server with keys made in setup: a repeated
 * chain is a hit with the same verdict as a full check (valid and invalid chains); a
 * certificate that differs only in its signature, another leaf or another chain order is
 * checked anew and cannot borrow a kept verdict; a verdict is not kept past its ttl, the
 * first notAfter or a notBefore still ahead (on a moved clock, and for real: a leaf and a
 * trusted root that expire two seconds after being checked), nor past a trusted root outside
 * the chain becoming valid (including one added later), nor when the clock steps back;
 * a changed security level is another key; a context that names the host is never cached;
 * the map stays within its bound; a hit lends the kept certificates, so connections of one
 * chain share one decoded copy as their peer and peer chain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "testpki.h"
#include "uplib.h"
#include "upstream.h"
#include "verifycache.h"

static OSSL_LIB_CTX *lib;
static EVP_PKEY *rootkey, *leafkey, *evilkey;
static X509 *root, *leaf, *evil_root;
static time_t fake_now;

/* A clock the tests move. */
static time_t
clock_fake(void)
{
	return fake_now;
}

static int
setup(void **state)
{
	(void)state;
	if ((lib = uplib_new(NULL)) == NULL)	/* the engine's upstream context */
		return 1;
	rootkey = EVP_EC_gen("P-256");
	leafkey = EVP_EC_gen("P-256");
	evilkey = EVP_EC_gen("P-256");
	root = testpki_cert("Verify Test Root", rootkey, NULL, rootkey, -3600, 86400 * 30, 1, NULL);
	/* same name as the real root, another key: what it signs must never pass */
	evil_root = testpki_cert("Verify Test Root", evilkey, NULL, evilkey, -3600, 86400 * 30, 1,
	    NULL);
	leaf = testpki_cert("a.test", leafkey, root, rootkey, -3600, 86400, 2, "DNS:a.test");
	return root == NULL || leaf == NULL || evil_root == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(root);
	X509_free(evil_root);
	X509_free(leaf);
	EVP_PKEY_free(rootkey);
	EVP_PKEY_free(leafkey);
	EVP_PKEY_free(evilkey);
	uplib_free(lib);
	return 0;
}

/* A TLS 1.3 server presenting x (then chain certs ch, ch2, if any). */
static SSL_CTX *
server_ctx2(X509 *x, X509 *ch, X509 *ch2)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, leafkey), 1);
	if (ch != NULL)
		assert_int_equal(SSL_CTX_add1_chain_cert(ctx, ch), 1);
	if (ch2 != NULL)
		assert_int_equal(SSL_CTX_add1_chain_cert(ctx, ch2), 1);
	return ctx;
}

/* A TLS 1.3 server presenting x (and chain cert ch, if any). */
static SSL_CTX *
server_ctx(X509 *x, X509 *ch)
{
	return server_ctx2(x, ch, NULL);
}

/* The engine's upstream context trusting the root, with vc attached (NULL: none). */
static SSL_CTX *
client_ctx(struct verifycache *vc)
{
	SSL_CTX *ctx = upstream_ctx_new(lib, CONFIG_HELLO_OPENSSL, NULL, NULL);

	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), root), 1);
	if (vc != NULL)
		verifycache_attach(ctx, vc);
	return ctx;
}

/* One in-memory handshake; host, if set, is named on the client SSL. The verify result. */
static long
handshake(SSL_CTX *cctx, SSL_CTX *sctx, const char *host)
{
	SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
	long vr;

	assert_non_null(c);
	SSL_set_tlsext_host_name(c, "a.test");
	if (host != NULL)
		assert_int_equal(SSL_set1_host(c, host), 1);
	testpki_handshake(c, s);	/* SSL_VERIFY_NONE: a bad chain still completes */
	assert_int_equal(ERR_peek_error(), 0);
	vr = SSL_get_verify_result(c);
	SSL_free(c);
	SSL_free(s);
	return vr;
}

/* The verdict of a context without the cache: the ground truth. */
static long
truth(SSL_CTX *sctx)
{
	SSL_CTX *plain = client_ctx(NULL);
	long vr = handshake(plain, sctx, NULL);

	SSL_CTX_free(plain);
	return vr;
}

static void
test_new(void **state)
{
	struct verifycache *vc = verifycache_new(4, 60);
	struct verifycache_stats st;

	(void)state;
	assert_null(verifycache_new(0, 60));
	assert_null(verifycache_new(4, 0));
	assert_non_null(vc);
	verifycache_stats(vc, &st);
	assert_int_equal(st.capacity, 4);
	assert_int_equal(st.entries, 0);
	verifycache_free(vc);
	verifycache_free(NULL);
}

/* A repeated chain is a hit and gives the full check's verdict, valid or not. */
static void
test_hit_same_verdict(void **state)
{
	struct verifycache *vc = verifycache_new(16, 60);
	SSL_CTX *good = server_ctx(leaf, root), *bad = server_ctx(leaf, NULL), *cctx;
	X509 *self = testpki_cert("a.test", leafkey, NULL, leafkey, -3600, 86400, 9, NULL);
	SSL_CTX *selfsrv = server_ctx(self, NULL);
	struct verifycache_stats st;
	long want;

	(void)state;
	cctx = client_ctx(vc);
	assert_int_equal(truth(good), X509_V_OK);
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);	/* miss, kept */
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);	/* hit */
	verifycache_stats(vc, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.inserts, 1);
	/* another chain (the leaf alone) is another key; the root is trusted, so still valid */
	assert_int_equal(handshake(cctx, bad, NULL), truth(bad));
	/* a self-signed leaf fails, and its failure is replayed, same code */
	want = truth(selfsrv);
	assert_int_not_equal(want, X509_V_OK);
	assert_int_equal(handshake(cctx, selfsrv, NULL), want);
	assert_int_equal(handshake(cctx, selfsrv, NULL), want);
	verifycache_stats(vc, &st);
	assert_int_equal(st.misses, 3);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.entries, 3);
	SSL_CTX_free(cctx);
	SSL_CTX_free(good);
	SSL_CTX_free(bad);
	SSL_CTX_free(selfsrv);
	X509_free(self);
	verifycache_free(vc);
}

/* A leaf that differs only in its signature (same name, key and serial, signed by an impostor
 * root) is checked anew and fails, after the genuine one was kept as valid. */
static void
test_forged_signature_not_borrowed(void **state)
{
	struct verifycache *vc = verifycache_new(16, 60);
	X509 *fake = testpki_cert("a.test", leafkey, evil_root, evilkey, -3600, 86400, 2,
	    "DNS:a.test");
	SSL_CTX *good = server_ctx(leaf, NULL), *forged = server_ctx(fake, NULL), *cctx;
	struct verifycache_stats st;

	(void)state;
	cctx = client_ctx(vc);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(fake), X509_get_issuer_name(leaf)),
	    0);
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);
	assert_int_equal(handshake(cctx, forged, NULL), X509_V_ERR_CERT_SIGNATURE_FAILURE);
	assert_int_equal(handshake(cctx, forged, NULL), X509_V_ERR_CERT_SIGNATURE_FAILURE);
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);
	verifycache_stats(vc, &st);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.hits, 3);
	SSL_CTX_free(cctx);
	SSL_CTX_free(good);
	SSL_CTX_free(forged);
	X509_free(fake);
	verifycache_free(vc);
}

/* Kept no longer than the ttl, the first notAfter ahead, or a notBefore ahead. */
static void
test_expiry(void **state)
{
	struct verifycache *vc = verifycache_new(16, 60);
	X509 *soon = testpki_cert("a.test", leafkey, root, rootkey, -3600, 20, 3, "DNS:a.test");
	X509 *later = testpki_cert("a.test", leafkey, root, rootkey, 30, 86400, 4, "DNS:a.test");
	SSL_CTX *good = server_ctx(leaf, NULL), *ssoon = server_ctx(soon, NULL);
	SSL_CTX *slater = server_ctx(later, NULL), *cctx;
	struct verifycache_stats st;
	time_t t0 = time(NULL);

	(void)state;
	cctx = client_ctx(vc);
	verifycache_set_clock(vc, clock_fake);
	fake_now = t0;
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);
	assert_int_equal(handshake(cctx, ssoon, NULL), X509_V_OK);
	assert_int_equal(handshake(cctx, slater, NULL), X509_V_ERR_CERT_NOT_YET_VALID);
	fake_now = t0 + 15;		/* all three still kept */
	handshake(cctx, good, NULL);
	handshake(cctx, ssoon, NULL);
	handshake(cctx, slater, NULL);
	verifycache_stats(vc, &st);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.expired, 0);
	fake_now = t0 + 35;		/* past soon's notAfter and later's notBefore */
	handshake(cctx, good, NULL);
	handshake(cctx, ssoon, NULL);
	handshake(cctx, slater, NULL);
	verifycache_stats(vc, &st);
	assert_int_equal(st.hits, 4);
	assert_int_equal(st.expired, 2);
	fake_now = t0 + 61;		/* past the ttl */
	handshake(cctx, good, NULL);
	verifycache_stats(vc, &st);
	assert_int_equal(st.hits, 4);
	assert_int_equal(st.expired, 3);
	fake_now = t0 + 50;		/* the clock stepped back: not before it was reached */
	handshake(cctx, good, NULL);
	verifycache_stats(vc, &st);
	assert_int_equal(st.hits, 4);
	assert_int_equal(st.expired, 4);
	SSL_CTX_free(cctx);
	SSL_CTX_free(good);
	SSL_CTX_free(ssoon);
	SSL_CTX_free(slater);
	X509_free(soon);
	X509_free(later);
	verifycache_free(vc);
}

/* Another order of the same certificates is another key; so is another security level. */
static void
test_order_and_level(void **state)
{
	struct verifycache *vc = verifycache_new(16, 60);
	SSL_CTX *ab = server_ctx2(leaf, root, evil_root), *ba = server_ctx2(leaf, evil_root, root);
	SSL_CTX *cctx;
	struct verifycache_stats st;

	(void)state;
	cctx = client_ctx(vc);
	assert_int_equal(handshake(cctx, ab, NULL), truth(ab));
	assert_int_equal(handshake(cctx, ba, NULL), truth(ba));
	verifycache_stats(vc, &st);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.hits, 0);
	assert_int_equal(handshake(cctx, ab, NULL), truth(ab));
	SSL_CTX_set_security_level(cctx, 0);		/* the auth level is part of the key */
	assert_int_equal(handshake(cctx, ab, NULL), X509_V_OK);
	verifycache_stats(vc, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 3);
	SSL_CTX_free(cctx);
	SSL_CTX_free(ab);
	SSL_CTX_free(ba);
	verifycache_free(vc);
}

/* For real: a leaf, and separately a trusted root, that expire 2 s after a valid check; 3 s
 * later the kept verdicts must not be replayed: each answer equals a full check's. */
static void
test_expiry_real(void **state)
{
	struct verifycache *vc = verifycache_new(16, 60);
	EVP_PKEY *k2 = EVP_EC_gen("P-256");
	X509 *shortleaf = testpki_cert("a.test", leafkey, root, rootkey, -3600, 2, 5, "DNS:a.test");
	X509 *shortroot = testpki_cert("Short Root", k2, NULL, k2, -3600, 2, 6, NULL);
	X509 *leaf2 = testpki_cert("a.test", leafkey, shortroot, k2, -3600, 86400, 7, "DNS:a.test");
	SSL_CTX *s1 = server_ctx(shortleaf, NULL), *s2 = server_ctx(leaf2, NULL), *cctx, *plain;
	struct verifycache_stats st;

	(void)state;
	cctx = client_ctx(vc);
	plain = client_ctx(NULL);
	assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), shortroot), 1);
	assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(plain), shortroot), 1);
	assert_int_equal(handshake(cctx, s1, NULL), X509_V_OK);
	assert_int_equal(handshake(cctx, s2, NULL), X509_V_OK);
	verifycache_stats(vc, &st);		/* both verdicts were kept ... */
	assert_int_equal(st.inserts, 2);
	assert_int_equal(st.entries, 2);
	sleep(3);
	assert_int_equal(handshake(plain, s1, NULL), X509_V_ERR_CERT_HAS_EXPIRED);
	assert_int_equal(handshake(cctx, s1, NULL), X509_V_ERR_CERT_HAS_EXPIRED);
	assert_int_equal(handshake(plain, s2, NULL), X509_V_ERR_CERT_HAS_EXPIRED);
	assert_int_equal(handshake(cctx, s2, NULL), X509_V_ERR_CERT_HAS_EXPIRED);
	verifycache_stats(vc, &st);		/* ... and neither was replayed once past its bound */
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.expired, 2);
	SSL_CTX_free(cctx);
	SSL_CTX_free(plain);
	SSL_CTX_free(s1);
	SSL_CTX_free(s2);
	X509_free(shortleaf);
	X509_free(shortroot);
	X509_free(leaf2);
	EVP_PKEY_free(k2);
	verifycache_free(vc);
}

/* Trusted roots outside the chain that become valid later pull a verdict's end in (another
 * chain could be built then); the store's earliest bound is remembered, found anew once the
 * clock passes it, and found anew when a root is added. */
static void
test_store_bound(void **state)
{
	struct verifycache *vc = verifycache_new(16, 600);
	EVP_PKEY *k = EVP_EC_gen("P-256");
	time_t t0 = time(NULL);
	X509 *ra = testpki_cert("Later Root A", k, NULL, k, 20, 86400, 30, NULL);
	X509 *rb = testpki_cert("Later Root B", k, NULL, k, 40, 86400, 31, NULL);
	X509 *rc = testpki_cert("Later Root C", k, NULL, k, 30, 86400, 32, NULL);
	X509 *other = testpki_cert("a.test", leafkey, root, rootkey, -3600, 86400, 33, "DNS:a.test");
	SSL_CTX *good = server_ctx(leaf, NULL), *sother = server_ctx(other, NULL), *cctx;
	X509_STORE *store;
	struct verifycache_stats st;

	(void)state;
	assert_non_null(rc);
	cctx = client_ctx(vc);
	store = SSL_CTX_get_cert_store(cctx);
	assert_int_equal(X509_STORE_add_cert(store, ra), 1);
	assert_int_equal(X509_STORE_add_cert(store, rb), 1);
	verifycache_set_clock(vc, clock_fake);
	fake_now = t0;
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);	/* kept until root A */
	fake_now = t0 + 10;
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);
	verifycache_stats(vc, &st);
	assert_int_equal(st.hits, 1);
	fake_now = t0 + 25;	/* past root A: checked again, kept until root B */
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);
	verifycache_stats(vc, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.misses, 2);
	assert_int_equal(X509_STORE_add_cert(store, rc), 1);
	fake_now = t0 + 27;	/* another chain, after root C was added: kept until root C */
	assert_int_equal(handshake(cctx, sother, NULL), X509_V_OK);
	fake_now = t0 + 28;
	assert_int_equal(handshake(cctx, sother, NULL), X509_V_OK);
	fake_now = t0 + 35;
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);	/* still before root B */
	assert_int_equal(handshake(cctx, sother, NULL), X509_V_OK);	/* past root C */
	verifycache_stats(vc, &st);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.expired, 2);
	fake_now = t0 + 45;	/* past root B */
	assert_int_equal(handshake(cctx, good, NULL), X509_V_OK);
	verifycache_stats(vc, &st);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.expired, 3);
	SSL_CTX_free(cctx);
	SSL_CTX_free(good);
	SSL_CTX_free(sother);
	X509_free(ra);
	X509_free(rb);
	X509_free(rc);
	X509_free(other);
	EVP_PKEY_free(k);
	verifycache_free(vc);
}

/* A named host makes the answer depend on more than the chain: always a full check. */
static void
test_named_host_uncached(void **state)
{
	struct verifycache *vc = verifycache_new(16, 60);
	SSL_CTX *good = server_ctx(leaf, NULL), *cctx;
	struct verifycache_stats st;

	(void)state;
	cctx = client_ctx(vc);
	assert_int_equal(handshake(cctx, good, "a.test"), X509_V_OK);
	assert_int_equal(handshake(cctx, good, "b.test"), X509_V_ERR_HOSTNAME_MISMATCH);
	assert_int_equal(handshake(cctx, good, "a.test"), X509_V_OK);
	verifycache_stats(vc, &st);
	assert_int_equal(st.uncached, 3);
	assert_int_equal(st.hits + st.misses + st.entries, 0);
	SSL_CTX_free(cctx);
	SSL_CTX_free(good);
	verifycache_free(vc);
}

/* One in-memory handshake whose client SSL is kept (the caller frees it); host as handshake. */
static SSL *
handshake_keep(SSL_CTX *cctx, SSL_CTX *sctx, const char *host)
{
	SSL *c = SSL_new(cctx), *s = SSL_new(sctx);

	assert_non_null(c);
	SSL_set_tlsext_host_name(c, "a.test");
	if (host != NULL)
		assert_int_equal(SSL_set1_host(c, host), 1);
	testpki_handshake(c, s);
	assert_int_equal(ERR_peek_error(), 0);
	SSL_free(s);
	return c;
}

/* 1 if a and b hold the very same certificate objects as peer and peer chain. */
static int
same_objects(SSL *a, SSL *b)
{
	STACK_OF(X509) *ca = SSL_get_peer_cert_chain(a), *cb = SSL_get_peer_cert_chain(b);
	int i;

	if (SSL_get0_peer_certificate(a) != SSL_get0_peer_certificate(b) ||
	    sk_X509_num(ca) != sk_X509_num(cb) || sk_X509_num(ca) < 1)
		return 0;
	for (i = 0; i < sk_X509_num(ca); i++)
		if (sk_X509_value(ca, i) != sk_X509_value(cb, i))
			return 0;
	return 1;
}

/* A hit lends the kept certificates: every connection of one chain holds the same decoded
 * objects as peer and peer chain (the session's, as OpenSSL keeps them after the callback),
 * with the sent DER and the full check's verdict, and they outlive the connection that was
 * the miss and the cache itself. A miss, another chain or an uncached check decodes its own. */
static void
test_hit_shares_certificates(void **state)
{
	struct verifycache *vc = verifycache_new(16, 60);
	SSL_CTX *good = server_ctx(leaf, root), *alone = server_ctx(leaf, NULL), *cctx;
	struct verifycache_stats st;
	SSL *c[4], *other, *named[2];
	int i;

	(void)state;
	cctx = client_ctx(vc);
	for (i = 0; i < 3; i++)
		c[i] = handshake_keep(cctx, good, NULL);
	assert_true(same_objects(c[0], c[1]));
	assert_true(same_objects(c[1], c[2]));
	verifycache_stats(vc, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.shared, 4);		/* two hits, two certificates each */
	for (i = 0; i < 3; i++) {
		assert_int_equal(SSL_get_verify_result(c[i]), X509_V_OK);
		assert_int_equal(X509_cmp(SSL_get0_peer_certificate(c[i]), leaf), 0);
		assert_int_equal(X509_cmp(sk_X509_value(SSL_get_peer_cert_chain(c[i]), 1), root),
		    0);
	}
	/* the miss's connection goes; the kept chain lives on in the cache and in c[1] */
	SSL_free(c[0]);
	c[3] = handshake_keep(cctx, good, NULL);
	assert_true(same_objects(c[1], c[3]));
	/* another chain (the leaf alone) is a miss with its own objects, same DER */
	other = handshake_keep(cctx, alone, NULL);
	assert_ptr_not_equal(SSL_get0_peer_certificate(other), SSL_get0_peer_certificate(c[1]));
	assert_int_equal(X509_cmp(SSL_get0_peer_certificate(other), leaf), 0);
	/* a named host is checked in full and lends nothing */
	named[0] = handshake_keep(cctx, good, "a.test");
	named[1] = handshake_keep(cctx, good, "a.test");
	assert_ptr_not_equal(SSL_get0_peer_certificate(named[0]),
	    SSL_get0_peer_certificate(named[1]));
	assert_ptr_not_equal(SSL_get0_peer_certificate(named[0]), SSL_get0_peer_certificate(c[1]));
	verifycache_stats(vc, &st);
	assert_int_equal(st.shared, 6);
	/* the connections keep their references past the cache (ASan: no use after free) */
	SSL_CTX_free(cctx);
	verifycache_free(vc);
	assert_int_equal(X509_cmp(SSL_get0_peer_certificate(c[3]), leaf), 0);
	for (i = 1; i < 4; i++)
		SSL_free(c[i]);
	SSL_free(other);
	SSL_free(named[0]);
	SSL_free(named[1]);
	SSL_CTX_free(good);
	SSL_CTX_free(alone);
}

/* Never more verdicts than the bound; the least recent goes. */
static void
test_bound(void **state)
{
	struct verifycache *vc = verifycache_new(2, 60);
	X509 *x[3];
	SSL_CTX *s[3], *cctx;
	struct verifycache_stats st;
	int i;

	(void)state;
	cctx = client_ctx(vc);
	for (i = 0; i < 3; i++) {
		x[i] = testpki_cert("a.test", leafkey, root, rootkey, -3600, 86400, 10 + i,
		    "DNS:a.test");
		s[i] = server_ctx(x[i], NULL);
		assert_int_equal(handshake(cctx, s[i], NULL), X509_V_OK);
	}
	verifycache_stats(vc, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evictions, 1);
	handshake(cctx, s[0], NULL);	/* evicted: checked again */
	handshake(cctx, s[2], NULL);	/* kept */
	verifycache_stats(vc, &st);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.hits, 1);
	for (i = 0; i < 3; i++) {
		SSL_CTX_free(s[i]);
		X509_free(x[i]);
	}
	SSL_CTX_free(cctx);
	verifycache_free(vc);
}

/* Besides the count, verdicts are bounded in bytes (capacity x 64 KiB, a certificate costing
 * 4 KiB + 4 x its DER): a leaf with 1300 names (about 18 KB of DER) does not fit a one-entry
 * cache and is checked anew each time (too_big), while two entries' budget keeps it. */
static void
test_byte_budget(void **state)
{
	struct verifycache *small = verifycache_new(1, 60), *two = verifycache_new(2, 60);
	struct verifycache_stats st;
	SSL_CTX *s, *c1, *c2;
	char *san = testpki_names(1300);
	X509 *big;
	int i;

	(void)state;
	big = testpki_cert("a.test", leafkey, root, rootkey, -3600, 86400, 40, san);
	assert_non_null(big);
	assert_true(i2d_X509(big, NULL) > 16000);	/* 4 KiB + 4 x DER > 64 KiB */
	s = server_ctx(big, NULL);
	c1 = client_ctx(small);
	c2 = client_ctx(two);
	for (i = 0; i < 2; i++) {
		assert_int_equal(handshake(c1, s, NULL), X509_V_OK);
		assert_int_equal(handshake(c2, s, NULL), X509_V_OK);
	}
	verifycache_stats(small, &st);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.too_big, 2);
	verifycache_stats(two, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.too_big, 0);
	assert_true(st.bytes > 64 * 1024 && st.bytes <= 128 * 1024);
	SSL_CTX_free(c1);
	SSL_CTX_free(c2);
	SSL_CTX_free(s);
	X509_free(big);
	free(san);
	verifycache_free(small);
	verifycache_free(two);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_hit_same_verdict),
		cmocka_unit_test(test_forged_signature_not_borrowed),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_order_and_level),
		cmocka_unit_test(test_expiry_real),
		cmocka_unit_test(test_store_bound),
		cmocka_unit_test(test_named_host_uncached),
		cmocka_unit_test(test_byte_budget),
		cmocka_unit_test(test_hit_shares_certificates),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
