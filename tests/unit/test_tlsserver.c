/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_tlsserver — the client leg's SSL (tlsserver_ssl_new) in an in-memory handshake against
 * an OpenSSL client offering "h2" and "http/1.1": the forged leaf is what the client sees, and
 * ALPN follows the origin's choice handed over in wire form: selected when the client offered
 * it, nothing when it did not, and nothing when the origin chose nothing, whether that comes as
 * a NULL selection (the engine's way since it stopped keeping a 256-byte array per connection)
 * or as a zero length.
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

/* Handshake a client offering offer (wire form, NULL: no ALPN) with the engine's client-leg
 * SSL for selection sel; the negotiated protocol goes into out ("" for none). */
static void
handshake(const unsigned char *offer, size_t offerlen, const unsigned char *sel, char *out,
    size_t outlen)
{
	SSL *c = SSL_new(cctx), *s = tlsserver_ssl_new(sctx, leaf, key, NULL, sel, NULL);
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
}

/* The origin chose h2 and the client offered it. */
static void
test_alpn_selected(void **state)
{
	static const unsigned char sel[] = "\x02h2";
	char got[32];

	(void)state;
	handshake(OFFER, sizeof(OFFER) - 1, sel, got, sizeof(got));
	assert_string_equal(got, "h2");
}

/* The origin chose a protocol the client did not offer: none. */
static void
test_alpn_not_offered(void **state)
{
	static const unsigned char sel[] = "\x06spdy/3";
	char got[32];

	(void)state;
	handshake(OFFER, sizeof(OFFER) - 1, sel, got, sizeof(got));
	assert_string_equal(got, "");
}

/* The origin chose nothing: NULL and a zero length both mean none. */
static void
test_alpn_none(void **state)
{
	static const unsigned char zero[] = { 0 };
	char got[32];

	(void)state;
	handshake(OFFER, sizeof(OFFER) - 1, NULL, got, sizeof(got));
	assert_string_equal(got, "");
	handshake(OFFER, sizeof(OFFER) - 1, zero, got, sizeof(got));
	assert_string_equal(got, "");
}

/* A client without ALPN gets none, whatever the origin chose. */
static void
test_client_without_alpn(void **state)
{
	static const unsigned char sel[] = "\x02h2";
	char got[32];

	(void)state;
	handshake(NULL, 0, sel, got, sizeof(got));
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
