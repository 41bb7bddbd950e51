/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uplib — the OpenSSL library context of the lab's TLS clients: the engine's upstream leg and
 * `mitmlab client` (client.c). OpenSSL 3.0 decodes every certificate the server sends on every
 * full handshake, and for each public key it builds a decoder context anew: it walks every
 * algorithm its library context has fetched (copying each one's implementation list) and every
 * decoder it has, twice (openssl/openssl#17950; 3.2
 * caches these contexts, 3.0 does not). In the default context every cipher mode of the
 * default provider (124) has been fetched and all 40 decoders are listed; NOTES.md "Eleventh
 * session" has what cutting them saved.
 *
 * uplib_new makes a library context whose only provider is a filter over OpenSSL's own default
 * provider (loaded into an inner context of its own): every operation passes through unchanged
 * except two tables, which are cut to what a TLS client and its certificate checks use:
 *   ciphers   the modes TLS never uses are left out: ECB, CFB*, OFB, CTR, XTS, key wrap, OCB,
 *             SIV, CTS and raw ChaCha20; the CBC, GCM, CCM and ChaCha20-Poly1305 ciphers,
 *             the stitched CBC-HMAC ones (offered only on CPUs with AES-NI) and NULL stay, a
 *             superset of what OpenSSL 3.0's suites use (30 of 124 on the bench VM);
 *   decoders  only SubjectPublicKeyInfo decoders are kept (12 of 40: the form a certificate
 *             carries keys in; private-key, PEM, MSBLOB and PVK decoders are left out).
 * Everything the algorithms do inside (a DRBG fetching its AES-CTR, a signature its digest)
 * happens in the inner context, which has the whole default provider. Objects made in this
 * context (the origin's certificates and keys) work with those of the default context.
 * Randomness comes from three sets of per-thread DRBGs (libssl's randoms from this context's,
 * key shares and nonces from the inner context's, the rest of the process from the default
 * context's); a peer cannot tell.
 * The default context reads openssl.cnf, this one does not: where the configuration
 * activates another provider (legacy, FIPS) or asks for FIPS properties, uplib_unusable says
 * so and the caller keeps the default context, so that the upstream legs and the client offer
 * what the configuration gives them.
 * One per process (the filter's state is static); not thread-safe to make or free, safe to use
 * from any thread once made.
 */
#ifndef MITMLAB_UPLIB_H
#define MITMLAB_UPLIB_H

#include <openssl/types.h>

/* NULL if uplib_new's context can stand in for the default one; else why not (static text). */
const char *uplib_unusable(void);

/* The trimmed library context; NULL with *cause set on failure or when one already exists. */
OSSL_LIB_CTX *uplib_new(char **cause);

/* For a caller that makes one: *lib = uplib_new's context, or NULL (OpenSSL's default, with
 * a log line naming who and why) where uplib_unusable says so; -1 with *cause when it cannot
 * be made. */
int uplib_open(const char *who, OSSL_LIB_CTX **lib, char **cause);

/* Free the context uplib_new made (NULL is a no-op); objects made in it must be gone first. */
void uplib_free(OSSL_LIB_CTX *lib);

#endif
