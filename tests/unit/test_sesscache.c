/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sesscache — the upstream session cache alone (hit and miss, LRU eviction at the bound,
 * replacement, key separation by address, port, SNI, hello profile and mirrored parameters,
 * expiry by timeout and by ticket lifetime, non-resumable sessions, drop only of the session
 * offered) and as the engine uses it (upstream.c): in-memory TLS 1.3 and TLS 1.2 handshakes
 * against an OpenSSL server with keys made in setup, checking that a resumed session gives
 * the origin's leaf, chain and verification result (also a failed one), that a refused
 * session is dropped, and that a session without its chain is refused. Run under SAN=1 to see
 * reference-count mistakes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "config.h"
#include "sesscache.h"
#include "testpki.h"
#include "tlspeek.h"
#include "uplib.h"
#include "upstream.h"

static const time_t NOW = 1800000000;

/* A resumable session with id byte b, created at t, valid for life seconds. */
static SSL_SESSION *
sess(unsigned char b, time_t t, long life)
{
	SSL_SESSION *s = SSL_SESSION_new();
	unsigned char id[32], mk[48];

	assert_non_null(s);
	memset(id, b, sizeof(id));
	memset(mk, b, sizeof(mk));
	assert_int_equal(SSL_SESSION_set1_id(s, id, sizeof(id)), 1);
	assert_int_equal(SSL_SESSION_set1_master_key(s, mk, sizeof(mk)), 1);
	SSL_SESSION_set_time(s, (long)t);
	SSL_SESSION_set_timeout(s, life);
	return s;
}

/* The key of (ip:port, sni, hello). */
static void
key(const char *ip, int port, const char *sni, int hello, unsigned char k[SESSCACHE_KEYLEN])
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	assert_int_equal(sesscache_key((struct sockaddr *)&ss, sni, hello, NULL, 0, k), 0);
}

/* Put a fresh session with id byte b under key byte kb; the cache keeps its own reference. */
static SSL_SESSION *
put(struct sesscache *sc, unsigned char kb, unsigned char b)
{
	unsigned char k[SESSCACHE_KEYLEN];
	SSL_SESSION *s = sess(b, NOW, 300);

	memset(k, kb, sizeof(k));
	sesscache_put(sc, k, s, NULL);
	SSL_SESSION_free(s);
	return s;
}

/* The id byte of key byte kb's session at now, or -1. */
static int
get(struct sesscache *sc, unsigned char kb, time_t now)
{
	unsigned char k[SESSCACHE_KEYLEN];
	unsigned int len;
	SSL_SESSION *s;
	int b;

	memset(k, kb, sizeof(k));
	if ((s = sesscache_get(sc, k, now)) == NULL)
		return -1;
	b = SSL_SESSION_get_id(s, &len)[0];
	SSL_SESSION_free(s);
	return b;
}

static void
test_hit_miss_replace(void **state)
{
	struct sesscache *sc = sesscache_new(4);
	struct sesscache_stats st;

	(void)state;
	assert_null(sesscache_new(0));
	assert_int_equal(get(sc, 1, NOW), -1);
	put(sc, 1, 0x11);
	assert_int_equal(get(sc, 1, NOW), 0x11);
	put(sc, 1, 0x12);			/* a newer session replaces the entry */
	assert_int_equal(get(sc, 1, NOW), 0x12);
	sesscache_stats(sc, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 1);
	sesscache_free(sc);
}

static void
test_bound_lru(void **state)
{
	struct sesscache *sc = sesscache_new(3);
	struct sesscache_stats st;
	int i;

	(void)state;
	put(sc, 1, 1);
	put(sc, 2, 2);
	put(sc, 3, 3);
	assert_int_equal(get(sc, 1, NOW), 1);	/* 1 becomes most recent: 2 is the oldest */
	put(sc, 4, 4);
	assert_int_equal(get(sc, 2, NOW), -1);
	assert_int_equal(get(sc, 1, NOW), 1);
	assert_int_equal(get(sc, 3, NOW), 3);
	assert_int_equal(get(sc, 4, NOW), 4);
	for (i = 10; i < 100; i++)		/* never more than the bound */
		put(sc, (unsigned char)i, (unsigned char)i);
	sesscache_stats(sc, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.evictions, 91);
	assert_int_equal(get(sc, 99, NOW), 99);
	assert_int_equal(get(sc, 97, NOW), 97);
	assert_int_equal(get(sc, 96, NOW), -1);
	sesscache_free(sc);
	sc = sesscache_new(1);			/* capacity 1 */
	put(sc, 1, 1);
	put(sc, 2, 2);
	assert_int_equal(get(sc, 1, NOW), -1);
	assert_int_equal(get(sc, 2, NOW), 2);
	sesscache_free(sc);
}

static void
test_key_separation(void **state)
{
	unsigned char k[8][SESSCACHE_KEYLEN], again[SESSCACHE_KEYLEN], x1[SESSCACHE_KEYLEN];
	unsigned char x2[SESSCACHE_KEYLEN];
	struct sockaddr_in s4;
	const char extra[] = "mirror";
	int i, j;

	(void)state;
	key("10.0.0.1", 443, "a.test", CONFIG_HELLO_OPENSSL, k[0]);
	key("10.0.0.1", 443, "b.test", CONFIG_HELLO_OPENSSL, k[1]);	/* SNI */
	key("10.0.0.2", 443, "a.test", CONFIG_HELLO_OPENSSL, k[2]);	/* address */
	key("10.0.0.1", 8443, "a.test", CONFIG_HELLO_OPENSSL, k[3]);	/* port */
	key("10.0.0.1", 443, "a.test", CONFIG_HELLO_KZ2019, k[4]);	/* hello profile */
	key("10.0.0.1", 443, NULL, CONFIG_HELLO_OPENSSL, k[5]);		/* no SNI */
	key("::ffff:10.0.0.1", 443, "a.test", CONFIG_HELLO_OPENSSL, k[6]);	/* family */
	key("10.0.0.1", 443, "a.test.", CONFIG_HELLO_OPENSSL, k[7]);
	for (i = 0; i < 8; i++)
		for (j = i + 1; j < 8; j++)
			assert_memory_not_equal(k[i], k[j], SESSCACHE_KEYLEN);
	key("10.0.0.1", 443, "a.test", CONFIG_HELLO_OPENSSL, again);
	assert_memory_equal(k[0], again, SESSCACHE_KEYLEN);
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(443);
	inet_pton(AF_INET, "10.0.0.1", &s4.sin_addr);
	assert_int_equal(sesscache_key((struct sockaddr *)&s4, "a.test", CONFIG_HELLO_MIRROR,
	    extra, 6, x1), 0);
	assert_int_equal(sesscache_key((struct sockaddr *)&s4, "a.test", CONFIG_HELLO_MIRROR,
	    extra, 5, x2), 0);			/* mirrored parameters */
	assert_memory_not_equal(x1, x2, SESSCACHE_KEYLEN);
	s4.sin_family = AF_UNIX;
	assert_int_equal(sesscache_key((struct sockaddr *)&s4, "a.test", 0, NULL, 0, x1), -1);
}

static void
test_expiry(void **state)
{
	struct sesscache *sc = sesscache_new(8);
	unsigned char k[SESSCACHE_KEYLEN];
	struct sesscache_stats st;
	SSL_SESSION *s;

	(void)state;
	memset(k, 7, sizeof(k));
	s = sess(7, NOW, 300);
	sesscache_put(sc, k, s, NULL);
	SSL_SESSION_free(s);
	assert_int_equal(get(sc, 7, NOW + 299), 7);
	assert_int_equal(get(sc, 7, NOW + 300), -1);	/* expired: dropped */
	assert_int_equal(get(sc, 7, NOW), -1);		/* and gone for good */
	s = sess(8, NOW, 300);
	memset(k, 8, sizeof(k));
	sesscache_put(sc, k, s, NULL);
	SSL_SESSION_free(s);
	assert_int_equal(get(sc, 8, NOW + 200), 8);
	s = SSL_SESSION_new();				/* not resumable: no id, no ticket */
	memset(k, 9, sizeof(k));
	SSL_SESSION_set_time(s, (long)NOW);
	SSL_SESSION_set_timeout(s, 300);
	sesscache_put(sc, k, s, NULL);
	SSL_SESSION_free(s);
	assert_int_equal(get(sc, 9, NOW), -1);
	sesscache_stats(sc, &st);
	assert_int_equal(st.expired, 2);
	assert_int_equal(st.entries, 1);
	sesscache_free(sc);
}

static void
test_drop(void **state)
{
	struct sesscache *sc = sesscache_new(8);
	unsigned char k[SESSCACHE_KEYLEN];
	SSL_SESSION *old, *cur;

	(void)state;
	memset(k, 5, sizeof(k));
	old = sesscache_get(sc, k, NOW);
	assert_null(old);
	put(sc, 5, 0x50);
	old = sesscache_get(sc, k, NOW);		/* the flow's reference to what it offered */
	put(sc, 5, 0x51);				/* a newer session arrived meanwhile */
	assert_int_equal(sesscache_drop(sc, k, old), 0);	/* not the offered one: kept */
	assert_int_equal(get(sc, 5, NOW), 0x51);
	cur = sesscache_get(sc, k, NOW);
	assert_int_equal(sesscache_drop(sc, k, cur), 1);
	assert_int_equal(get(sc, 5, NOW), -1);
	assert_int_equal(sesscache_drop(sc, k, NULL), 0);
	SSL_SESSION_free(old);
	SSL_SESSION_free(cur);
	sesscache_free(sc);
}

/* A session's byte cost is the chain the origin sent (the session keeps it decoded), not its
 * leaf alone: 16 certificates are over one entry's 64 KiB and the session is not kept, where
 * its leaf alone fits. */
static void
test_chain_cost(void **state)
{
	struct sesscache *sc = sesscache_new(1);
	STACK_OF(X509) *chain = sk_X509_new_null();
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = testpki_cert("c.test", k, NULL, k, -3600, 86400, 1, NULL);
	SSL_SESSION *s = sess(0x61, NOW, 300);
	unsigned char kk[SESSCACHE_KEYLEN];
	struct sesscache_stats st;
	int i;

	(void)state;
	assert_non_null(x);
	for (i = 0; i < 16; i++)
		assert_true(sk_X509_push(chain, x) > 0);
	memset(kk, 6, sizeof(kk));
	sesscache_put(sc, kk, s, chain);
	sesscache_stats(sc, &st);
	assert_int_equal(st.too_big, 1);
	assert_int_equal(get(sc, 6, NOW), -1);
	sesscache_put(sc, kk, s, NULL);
	assert_int_equal(get(sc, 6, NOW), 0x61);
	SSL_SESSION_free(s);
	sk_X509_free(chain);
	X509_free(x);
	EVP_PKEY_free(k);
	sesscache_free(sc);
}

/* ---- as the engine uses it: in-memory handshakes against an OpenSSL server ---- */

static OSSL_LIB_CTX *lib;
static EVP_PKEY *rootkey, *leafkey;
static X509 *root, *leaf;

static int
setup_pki(void **state)
{
	(void)state;
	if ((lib = uplib_new(NULL)) == NULL)	/* the engine's upstream context */
		return 1;
	rootkey = EVP_EC_gen("P-256");
	leafkey = EVP_EC_gen("P-256");
	root = testpki_cert("Resume Test Root", rootkey, NULL, rootkey, -3600, 86400, 1, NULL);
	leaf = testpki_cert("a.test", leafkey, root, rootkey, -3600, 86400, 2, "DNS:a.test");
	return root == NULL || leaf == NULL;
}

static int
teardown_pki(void **state)
{
	(void)state;
	X509_free(root);
	X509_free(leaf);
	EVP_PKEY_free(rootkey);
	EVP_PKEY_free(leafkey);
	uplib_free(lib);
	return 0;
}

/* A server context (TLS up to maxv, tickets on: OpenSSL's default). */
static SSL_CTX *
server_ctx(int maxv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_use_certificate(ctx, leaf), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, leafkey), 1);
	assert_int_equal(SSL_CTX_add1_chain_cert(ctx, root), 1);
	SSL_CTX_set_max_proto_version(ctx, maxv);
	return ctx;
}

/* The engine's upstream context with resumption; trusting the root if trust is set. */
static SSL_CTX *
client_ctx(int trust)
{
	SSL_CTX *ctx = upstream_ctx_new(lib, CONFIG_HELLO_OPENSSL, NULL, NULL);

	assert_non_null(ctx);
	if (trust)
		assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), root), 1);
	assert_int_equal(upstream_ctx_resume(ctx, NULL), 0);
	return ctx;
}

/* The flows' target: SNI a.test at 10.0.0.1:443. */
static void
flow_target(struct tlspeek_hello *h, struct sockaddr_in *dst)
{
	memset(h, 0, sizeof(*h));
	h->has_sni = 1;
	strcpy(h->sni, "a.test");
	memset(dst, 0, sizeof(*dst));
	dst->sin_family = AF_INET;
	dst->sin_port = htons(443);
	inet_pton(AF_INET, "10.0.0.1", &dst->sin_addr);
}

/*
 * One upstream flow to "10.0.0.1:443" with SNI a.test: offer from sc, handshake in memory,
 * read once so that TLS 1.3 tickets reach the cache. *offered gets upstream_resume_offer's
 * answer; returns the client SSL (caller frees).
 */
static SSL *
flow(SSL_CTX *cctx, SSL_CTX *sctx, struct sesscache *sc, int *offered)
{
	struct tlspeek_hello h;
	struct sockaddr_in dst;
	SSL *c, *s;
	char buf[16];

	flow_target(&h, &dst);
	c = upstream_ssl_new(cctx, CONFIG_HELLO_OPENSSL, &h, NULL);
	s = SSL_new(sctx);
	assert_non_null(c);
	assert_non_null(s);
	*offered = upstream_resume_offer(c, sc, (struct sockaddr *)&dst, CONFIG_HELLO_OPENSSL,
	    &h, 1);
	testpki_handshake(c, s);
	assert_int_equal(SSL_write(s, "x", 1), 1);	/* after the tickets */
	assert_int_equal(SSL_read(c, buf, sizeof(buf)), 1);
	SSL_free(s);
	return c;
}

/* End a flow cleanly: OpenSSL marks the session of an SSL freed without close_notify as not
 * resumable (ssl_clear_bad_session), and so does the engine's conn_close on unclean ends. */
static void
done(SSL *c)
{
	(void)SSL_shutdown(c);
	SSL_free(c);
}

/* Resumption end to end at one TLS version. */
static void
resume_at(int maxv)
{
	SSL_CTX *sctx = server_ctx(maxv), *sctx2 = server_ctx(maxv), *cctx = client_ctx(1);
	SSL_CTX *untrusted = client_ctx(0);
	struct sesscache *sc = sesscache_new(16), *sc2 = sesscache_new(16);
	struct sesscache_stats st;
	STACK_OF(X509) *chain;
	unsigned char *der = NULL;
	const unsigned char *p;
	SSL_SESSION *s, *copy;
	char why[256];
	SSL *c;
	int off, len;

	c = flow(cctx, sctx, sc, &off);			/* full handshake, sessions captured */
	assert_int_equal(off, 0);
	assert_int_equal(upstream_resume_result(c), UPSTREAM_RESUME_NONE);
	assert_int_equal(SSL_get_verify_result(c), X509_V_OK);
	done(c);
	sesscache_stats(sc, &st);
	assert_int_equal(st.entries, 1);

	c = flow(cctx, sctx, sc, &off);			/* resumed */
	assert_int_equal(off, 1);
	assert_true(SSL_session_reused(c));
	assert_int_equal(upstream_resume_result(c), UPSTREAM_RESUMED);
	assert_non_null(SSL_get0_peer_certificate(c));
	assert_int_equal(X509_cmp(SSL_get0_peer_certificate(c), leaf), 0);
	assert_non_null(chain = SSL_get_peer_cert_chain(c));
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), leaf), 0);
	assert_int_equal(SSL_get_verify_result(c), X509_V_OK);
	assert_int_equal(upstream_check(c, "a.test", 1, 0, why, sizeof(why)), UPSTREAM_OK);
	assert_int_equal(upstream_check(c, "b.test", 1, 0, why, sizeof(why)), UPSTREAM_REFUSE);
	done(c);

	c = flow(untrusted, sctx, sc2, &off);		/* a failed verification is kept, too */
	assert_int_not_equal(SSL_get_verify_result(c), X509_V_OK);
	done(c);
	c = flow(untrusted, sctx, sc2, &off);
	assert_int_equal(upstream_resume_result(c), UPSTREAM_RESUMED);
	assert_int_not_equal(SSL_get_verify_result(c), X509_V_OK);
	assert_int_equal(upstream_check(c, "a.test", 0, 1, why, sizeof(why)), UPSTREAM_SPLICE);
	done(c);

	c = flow(cctx, sctx2, sc, &off);		/* another server: refused, verified anew */
	assert_int_equal(off, 1);
	assert_int_equal(upstream_resume_result(c), UPSTREAM_RESUME_REFUSED);
	assert_int_equal(SSL_get_verify_result(c), X509_V_OK);
	assert_non_null(SSL_get0_peer_certificate(c));
	done(c);
	sesscache_stats(sc, &st);
	assert_int_equal(st.entries, 1);		/* the new server's session */

	/* a session that lost its chain (i2d/d2i keeps the leaf only): not forged from */
	c = flow(cctx, sctx2, sc, &off);
	assert_int_equal(upstream_resume_result(c), UPSTREAM_RESUMED);
	s = SSL_get1_session(c);
	done(c);
	len = i2d_SSL_SESSION(s, &der);
	assert_true(len > 0);
	p = der;
	copy = d2i_SSL_SESSION(NULL, &p, len);
	assert_non_null(copy);
	{
		unsigned char k[SESSCACHE_KEYLEN];
		struct sockaddr_in dst;

		memset(&dst, 0, sizeof(dst));
		dst.sin_family = AF_INET;
		dst.sin_port = htons(443);
		inet_pton(AF_INET, "10.0.0.1", &dst.sin_addr);
		assert_int_equal(sesscache_key((struct sockaddr *)&dst, "a.test",
		    CONFIG_HELLO_OPENSSL, NULL, 0, k), 0);
		sesscache_put(sc, k, copy, NULL);
	}
	c = flow(cctx, sctx2, sc, &off);
	assert_int_equal(off, 1);
	assert_true(SSL_session_reused(c));
	assert_int_equal(upstream_resume_result(c), UPSTREAM_RESUME_UNUSABLE);
	done(c);
	OPENSSL_free(der);
	SSL_SESSION_free(copy);
	SSL_SESSION_free(s);

	sesscache_free(sc);
	sesscache_free(sc2);
	SSL_CTX_free(sctx);
	SSL_CTX_free(sctx2);
	SSL_CTX_free(cctx);
	SSL_CTX_free(untrusted);
}

static void
test_resume_tls13(void **state)
{
	(void)state;
	resume_at(TLS1_3_VERSION);
}

static void
test_resume_tls12(void **state)
{
	(void)state;
	resume_at(TLS1_2_VERSION);
}

/* A TLS 1.3 ticket that lives shorter (the origin's 60 s) than the session's own timeout (the
 * client context's 7200 s): the cached session expires with the ticket. */
static void
test_ticket_lifetime(void **state)
{
	SSL_CTX *sctx = server_ctx(TLS1_3_VERSION), *cctx = client_ctx(1);
	struct sesscache *sc = sesscache_new(4);
	unsigned char k[SESSCACHE_KEYLEN];
	struct tlspeek_hello h;
	struct sockaddr_in dst;
	SSL_SESSION *s;
	time_t t;
	int off;

	(void)state;
	SSL_CTX_set_timeout(sctx, 60);
	SSL_CTX_set_timeout(cctx, 7200);
	done(flow(cctx, sctx, sc, &off));
	flow_target(&h, &dst);
	assert_int_equal(upstream_resume_key((struct sockaddr *)&dst, CONFIG_HELLO_OPENSSL, &h, k),
	    0);
	assert_non_null(s = sesscache_get(sc, k, time(NULL)));
	assert_int_equal(SSL_SESSION_get_ticket_lifetime_hint(s), 60);
	assert_true(SSL_SESSION_get_timeout(s) > 60);	/* so the hint is what decides */
	t = (time_t)SSL_SESSION_get_time(s);
	SSL_SESSION_free(s);
	assert_non_null(s = sesscache_get(sc, k, t + 59));
	SSL_SESSION_free(s);
	assert_null(sesscache_get(sc, k, t + 60));
	sesscache_free(sc);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/* upstream_resume_key with a mirrored ClientHello at every tlspeek limit: it fits (the buffer
 * once was 4 bytes short: a stack overflow a client could trigger with --upstream-hello mirror
 * --upstream-resume), and the last entry of each list still changes the key. */
static void
test_mirror_key_at_limits(void **state)
{
	static struct tlspeek_hello h;
	unsigned char k0[SESSCACHE_KEYLEN], k1[SESSCACHE_KEYLEN];
	struct sockaddr_in sin;
	size_t i;

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(443);
	memset(&h, 0, sizeof(h));
	h.legacy_version = 0x0303;
	h.max_version = 0x0304;
	h.n_ciphers = TLSPEEK_MAX_CIPHERS;
	h.n_exts = TLSPEEK_MAX_EXTS;
	h.n_groups = TLSPEEK_MAX_GROUPS;
	h.n_sigalgs = TLSPEEK_MAX_SIGALGS;
	h.n_versions = TLSPEEK_MAX_VERSIONS;
	for (i = 0; i < TLSPEEK_MAX_CIPHERS; i++)
		h.ciphers[i] = (uint16_t)(0x1000 + i);
	assert_int_equal(upstream_resume_key((struct sockaddr *)&sin, CONFIG_HELLO_MIRROR, &h, k0), 0);
	h.versions[TLSPEEK_MAX_VERSIONS - 1] = 0x0304;
	assert_int_equal(upstream_resume_key((struct sockaddr *)&sin, CONFIG_HELLO_MIRROR, &h, k1), 0);
	assert_memory_not_equal(k0, k1, SESSCACHE_KEYLEN);
	h.ciphers[TLSPEEK_MAX_CIPHERS - 1] ^= 1;
	assert_int_equal(upstream_resume_key((struct sockaddr *)&sin, CONFIG_HELLO_MIRROR, &h, k0), 0);
	assert_memory_not_equal(k0, k1, SESSCACHE_KEYLEN);
	/* other profiles ignore the mirrored parameters */
	assert_int_equal(upstream_resume_key((struct sockaddr *)&sin, CONFIG_HELLO_OPENSSL, &h, k0), 0);
	h.ciphers[0] ^= 1;
	assert_int_equal(upstream_resume_key((struct sockaddr *)&sin, CONFIG_HELLO_OPENSSL, &h, k1), 0);
	assert_memory_equal(k0, k1, SESSCACHE_KEYLEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_miss_replace),
		cmocka_unit_test(test_bound_lru),
		cmocka_unit_test(test_key_separation),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_mirror_key_at_limits),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_chain_cost),
		cmocka_unit_test(test_resume_tls13),
		cmocka_unit_test(test_resume_tls12),
		cmocka_unit_test(test_ticket_lifetime),
	};

	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
