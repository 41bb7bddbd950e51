/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_tlsserver — the client leg's SSL (tlsserver_ssl_new) in an in-memory handshake against
 * an OpenSSL client offering "h2" and "http/1.1": the forged leaf is what the client sees, and
 * ALPN follows the origin's choice, read from an upstream leg that negotiated it in a real
 * in-memory handshake: selected when the client offered it, nothing when it did not, and
 * nothing when the origin chose nothing, whether no upstream leg is given or its handshake
 * negotiated no protocol.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/ssl.h>

#include "testpki.h"
#include "tlsserver.h"

static EVP_PKEY *key;
static X509 *leaf;
static SSL_CTX *sctx, *cctx;

static const unsigned char OFFER[] = "\x02h2\x08http/1.1";
static const unsigned char PREFIXED[] = "\x03h2c\x06spdy/3";

static int
setup(void **state)
{
	(void)state;
	key = EVP_EC_gen("P-256");
	leaf = key != NULL ? testpki_cert("a.test", key, NULL, key, -3600, 86400, 1, NULL) : NULL;
	sctx = tlsserver_ctx_new(NULL);
	cctx = SSL_CTX_new(TLS_client_method());
	return leaf == NULL || sctx == NULL || cctx == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	X509_free(leaf);
	EVP_PKEY_free(key);
	return 0;
}

/* The origin's ALPN callback: the first protocol offered. */
static int
pick_first(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
    unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	if (inlen < 2)
		return SSL_TLSEXT_ERR_NOACK;
	*out = in + 1;
	*outlen = in[0];
	return SSL_TLSEXT_ERR_OK;
}

/* An upstream leg (the engine's side of an origin handshake) that negotiated proto; NULL: it
 * offered no ALPN. */
static SSL *
upstream_leg(const char *proto)
{
	SSL_CTX *octx = SSL_CTX_new(TLS_server_method());
	SSL *up = SSL_new(cctx), *origin;
	unsigned char wire[32];
	const unsigned char *p = NULL;
	unsigned plen = 0;
	size_t n = proto != NULL ? strlen(proto) : 0;

	assert_non_null(octx);
	assert_non_null(up);
	assert_true(n < sizeof(wire));
	assert_int_equal(SSL_CTX_use_certificate(octx, leaf), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(octx, key), 1);
	SSL_CTX_set_alpn_select_cb(octx, pick_first, NULL);
	if (proto != NULL) {
		wire[0] = (unsigned char)n;
		memcpy(wire + 1, proto, n);
		assert_int_equal(SSL_set_alpn_protos(up, wire, (unsigned)n + 1), 0);
	}
	assert_non_null(origin = SSL_new(octx));
	testpki_handshake(up, origin);
	SSL_free(origin);
	SSL_CTX_free(octx);
	SSL_get0_alpn_selected(up, &p, &plen);
	assert_int_equal(plen, n);	/* it negotiated what the test says */
	if (n > 0)
		assert_memory_equal(p, proto, n);
	return up;
}

/* Handshake a client offering offer (wire form, NULL: no ALPN) with the engine's client-leg
 * SSL whose upstream leg negotiated proto (NULL: no upstream leg given; "": it negotiated
 * none); the protocol the client negotiated goes into out ("" for none). */
static void
handshake(const unsigned char *offer, size_t offerlen, const char *proto, char *out,
    size_t outlen)
{
	SSL *up = proto == NULL ? NULL : upstream_leg(proto[0] != '\0' ? proto : NULL);
	SSL *c = SSL_new(cctx), *s = tlsserver_ssl_new(sctx, leaf, key, NULL, up, NULL);
	const unsigned char *p = NULL;
	unsigned plen = 0;
	X509 *peer;

	assert_non_null(c);
	if (offer != NULL)
		assert_int_equal(SSL_set_alpn_protos(c, offer, (unsigned)offerlen), 0);
	testpki_handshake(c, s);
	peer = SSL_get1_peer_certificate(c);
	assert_non_null(peer);
	assert_int_equal(X509_cmp(peer, leaf), 0);
	X509_free(peer);
	SSL_get0_alpn_selected(c, &p, &plen);
	assert_true(plen < outlen);
	if (plen > 0)			/* p is NULL when nothing was negotiated */
		memcpy(out, p, plen);
	out[plen] = '\0';
	SSL_free(c);
	SSL_free(s);
	SSL_free(up);
}

/* The origin chose h2 and the client offered it. */
static void
test_alpn_selected(void **state)
{
	char got[32];

	(void)state;
	handshake(OFFER, sizeof(OFFER) - 1, "h2", got, sizeof(got));
	assert_string_equal(got, "h2");
	handshake(OFFER, sizeof(OFFER) - 1, "http/1.1", got, sizeof(got));
	assert_string_equal(got, "http/1.1");
}

/* The origin chose a protocol the client did not offer: none. */
static void
test_alpn_not_offered(void **state)
{
	char got[32];

	(void)state;
	handshake(OFFER, sizeof(OFFER) - 1, "spdy/3", got, sizeof(got));
	assert_string_equal(got, "");
	handshake(PREFIXED, sizeof(PREFIXED) - 1, "h2", got, sizeof(got));	/* "h2c" is not "h2" */
	assert_string_equal(got, "");
}

/* The origin chose nothing: no upstream leg and a leg without ALPN both mean none. */
static void
test_alpn_none(void **state)
{
	char got[32];

	(void)state;
	handshake(OFFER, sizeof(OFFER) - 1, NULL, got, sizeof(got));
	assert_string_equal(got, "");
	handshake(OFFER, sizeof(OFFER) - 1, "", got, sizeof(got));
	assert_string_equal(got, "");
}

/* A client without ALPN gets none, whatever the origin chose. */
static void
test_client_without_alpn(void **state)
{
	char got[32];

	(void)state;
	handshake(NULL, 0, "h2", got, sizeof(got));
	assert_string_equal(got, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alpn_selected),
		cmocka_unit_test(test_alpn_not_offered),
		cmocka_unit_test(test_alpn_none),
		cmocka_unit_test(test_client_without_alpn),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
