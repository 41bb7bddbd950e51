/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testpki — test certificates for the unit tests that handshake or verify against keys made in
 * setup. A certificate has a CN-only subject, the caller's serial, a validity given in seconds
 * from now and a SHA-256 signature by ikey. With no issuer it is a self-signed CA (issuer name
 * its own, basicConstraints critical,CA:TRUE; ikey is then normally its own key); with one, a
 * leaf named as issued by the issuer's subject, without basicConstraints. Either carries
 * subjectAltName san (config text such as "DNS:a.test") when san is not NULL. Not a test
 * program: it is linked into every unit test, and it fails the running test through cmocka.
 */
#ifndef MITMLAB_TESTPKI_H
#define MITMLAB_TESTPKI_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* A certificate for cn and key signed by (issuer, ikey); issuer NULL: a self-signed CA. */
X509 *testpki_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    long not_before_s, long not_after_s, long serial, const char *san);
/* Join client c and server s by an in-memory BIO pair and run both handshakes: 1 when both
 * complete, 0 when the client fails (its reason stays on OpenSSL's error queue). */
int testpki_try_handshake(SSL *c, SSL *s);
/* The same, failing the test unless both complete. */
void testpki_handshake(SSL *c, SSL *s);
/* subjectAltName text (malloc'd) of n names "DNS:n00000.a.test" ... plus "DNS:a.test": a
 * certificate as large as a test needs (about 15 bytes of DER a name). */
char *testpki_names(int n);

#endif
