/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testpki — the unit tests' maker of test certificates (see testpki.h): the name, validity,
 * key, extension and signing steps in one place, so tests that compare certificates or chains
 * build them the same way; and the in-memory handshake the TLS tests share. It asserts with
 * cmocka, so it only runs inside a test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include <openssl/x509v3.h>

#include "testpki.h"

/* Add extension nid with config text value to x (ctx: issuer and subject set). */
static void
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for cn and key signed by (issuer, ikey); issuer NULL: a self-signed CA. */
X509 *
testpki_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, long not_before_s,
    long not_after_s, long serial, const char *san)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;

	assert_non_null(x);
	assert_non_null(n);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), not_before_s);
	X509_gmtime_adj(X509_getm_notAfter(x), not_after_s);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (issuer == NULL)
		add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE");
	if (san != NULL)
		add_ext(x, &v3, NID_subject_alt_name, san);
	assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
	return x;
}

/* Both handshakes over an in-memory BIO pair, until both finish or the client fails
 * (testpki.h). */
int
testpki_try_handshake(SSL *c, SSL *s)
{
	BIO *bc, *bs;
	int i, rc = 0, rs = 0;

	assert_non_null(c);
	assert_non_null(s);
	assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (i = 0; i < 20 && (rc != 1 || rs != 1); i++) {
		if (rc != 1 && (rc = SSL_do_handshake(c)) <= 0 &&
		    SSL_get_error(c, rc) == SSL_ERROR_SSL)
			return 0;
		if (rs != 1)
			rs = SSL_do_handshake(s);
	}
	return rc == 1 && rs == 1;
}

/* The same, failing the test unless both complete (testpki.h). */
void
testpki_handshake(SSL *c, SSL *s)
{
	assert_int_equal(testpki_try_handshake(c, s), 1);
}

/* subjectAltName text of n names n00000.a.test ... and a.test (testpki.h). */
char *
testpki_names(int n)
{
	size_t cap = (size_t)n * 24 + 16, o = 0;
	char *san = malloc(cap);
	int i;

	assert_non_null(san);
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(san + o, cap - o, "DNS:n%05d.a.test,", i);
	snprintf(san + o, cap - o, "DNS:a.test");
	return san;
}
