/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * forge — build a forged leaf certificate from the upstream server's real certificate by a
 * named forging profile that reproduces how a real interceptor does it, field by field
 * (KZ-FACTS.md, "How peers forge"):
 *   kz2019       subject + SAN copied, host-specific RSA-2048 e=3 key, validity shifted -6 h,
 *                serial = original with low 33 bits random, every other extension removed
 *   kz2019-late  as kz2019 with validity shifted -24 h (after 2019-07-30)
 *   kz2019-early as kz2019 with RSA-1024 keys (before 2019-07-19)
 *   sslsplit     subject copied, SAN copied + SNI added on mismatch, serial = original +
 *                random 32-bit offset, basicConstraints + EKU copied, now-1d..now+364d,
 *                one RSA-2048 key per process
 *   mitmproxy    CN (<64 chars), O and SANs copied, random serial, now-2d..now+199d,
 *                leaf key = the issuing CA's key
 *   squid        subject, SAN and validity copied, serial = SHA-1 over the signing cert and the
 *                fake certificate's fields (deterministic), a new RSA-2048 key per certificate
 * The profile decides the key strategy (forge_keymode); the caller supplies the key.
 * Pure: no I/O, no global state beyond the profile table; random values come from OpenSSL's
 * RAND unless a deterministic rule says otherwise.
 */
#ifndef MITMLAB_FORGE_H
#define MITMLAB_FORGE_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum forge_keymode {
	FORGE_KEY_PER_HOST,	/* a fresh key per upstream certificate (kz2019, squid) */
	FORGE_KEY_PER_PROCESS,	/* one key for every forged leaf (sslsplit) */
	FORGE_KEY_CA,		/* the issuing CA's own key (mitmproxy) */
};

struct forge_profile;

/* Look a profile up by name; NULL if unknown. */
const struct forge_profile *forge_profile_find(const char *name);
/* "kz2019, kz2019-late, kz2019-early, sslsplit, mitmproxy, squid" for error messages. */
const char *forge_profile_names(void);
const char *forge_profile_name(const struct forge_profile *p);
enum forge_keymode forge_profile_keymode(const struct forge_profile *p);
/* RSA modulus bits and public exponent of keys this profile generates. */
int forge_profile_key_bits(const struct forge_profile *p);
unsigned long forge_profile_key_exponent(const struct forge_profile *p);
/* Whether the real interceptor verified the upstream certificate by default. */
int forge_profile_verifies_upstream(const struct forge_profile *p);
/* Whether the real interceptor, when that verification fails, still mimics the certificate
 * but signs it with an "untrusted" CA of its own, so the client sees an error as it would
 * have directly (Squid's ssl-bump: "Not trusted by ..."), instead of closing. */
int forge_profile_signs_untrusted(const struct forge_profile *p);

/*
 * Forge a leaf for orig (the upstream leaf) as seen for sni (may be NULL) with public key
 * leafkey, signed by issuer/issuer_key at time now. Copies what it needs; takes no ownership.
 * Returns a new certificate (caller frees) or NULL with *cause.
 */
X509 *forge_cert(const struct forge_profile *p, X509 *orig, const char *sni,
    EVP_PKEY *leafkey, X509 *issuer, EVP_PKEY *issuer_key, time_t now, char **cause);

#endif
