/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pki — the mock national certificate authorities (`mitmlab ca init`) and loading them back
 * for the engine. A CA directory holds PEM certificates and mode-0600 PEM keys plus ca.json,
 * which names the issuing certificate and the chain the interceptor serves:
 *   root.pem root.key       the national root
 *   int-N.pem int-N.key     intermediates (N = 1..), oldest first
 *   issuer.pem issuer.key   copies of the intermediate (or root) that signs forged leaves
 *   chain.pem               what the interceptor sends after the leaf (issuer first, no root)
 *   ca.json                 profile, names, validity, SHA-256s, which intermediate issues
 *   issuer-expired.pem/.key, chain-expired.pem   (isca-2024 only) the EXPIRED intermediate
 *                           as issuer and served chain, to reproduce "kept serving EXPIRED
 *                           intermediates"; pki_ca_load_expired loads this variant
 * Profiles: kz-2019, kz-2020, isca-2024, plain (see KZ-FACTS.md). Every subject carries a lab
 * marker. Keys are not derived from --seed (OpenSSL draws them); serials and dates are.
 */
#ifndef MITMLAB_PKI_H
#define MITMLAB_PKI_H

#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct pki_ca;

/*
 * How long before now the lab's reference date lies when none is given (`ca init` without
 * --date, and every run): kz intermediates start at that date, and an issuer must not start
 * after the leaves it signs (the real intermediates were years old). The newest notBefore a
 * run forges: the web PKI's origin leaves start WEBPKI_LEAF_BACKDATE (1 day) before the run,
 * kz2019-late moves a forged leaf 24 h earlier still (kz2019: 6 h), mitmproxy forges from
 * 2 days before the forging time, sslsplit 1 day, squid copies the origin's; so no forged
 * leaf starts earlier than 2 days before the run. One more day is margin.
 */
#define PKI_DATE_BACKDATE	(3 * 86400L)

/* Space-separated list of known CA profile names, for error messages. */
const char *pki_profile_names(void);
/* Create the CA files of profile under outdir (created 0700 if missing). now is the lab's
 * reference time ("--date"; by default PKI_DATE_BACKDATE before the clock): kz intermediates
 * start at now, the isca-2024 current
 * intermediate contains now and its predecessor has expired before it. Fixed roots keep
 * their real dates. seed makes serials reproducible. */
int pki_ca_init(const char *outdir, const char *profile, uint64_t seed, time_t now,
    char **cause);
/* Load a CA directory made by pki_ca_init. NULL with *cause on error. */
struct pki_ca *pki_ca_load(const char *dir, char **cause);
/* Load the expired-issuer variant (issuer-expired.*, chain-expired.pem; isca-2024 only). */
struct pki_ca *pki_ca_load_expired(const char *dir, char **cause);
void pki_ca_free(struct pki_ca *ca);
/* Borrowed pointers, valid until pki_ca_free. */
X509 *pki_ca_issuer(const struct pki_ca *ca);
EVP_PKEY *pki_ca_issuer_key(const struct pki_ca *ca);
X509 *pki_ca_root(const struct pki_ca *ca);
/* Certificates to send after a forged leaf (issuer first, root excluded). */
STACK_OF(X509) *pki_ca_chain(const struct pki_ca *ca);
/* Squid's "untrusted" signing CA for a trusted one: a self-signed CA certificate with the
 * trusted certificate's subject and validity but the CN `Not trusted by "<its CN>"`, and a
 * new RSA-2048 key; no store holds it. 0, or -1 with *cause. */
int pki_untrusted_ca(X509 *trusted, X509 **cert, EVP_PKEY **key, char **cause);

/* Helpers shared with the web PKI and the report. */
/* SHA-256 of the certificate's DER. */
int pki_cert_sha256(X509 *x, unsigned char out[32]);
/* SHA-256 and MD5, fetched once for the process: OpenSSL 3.0 fetches EVP_sha256() anew (a
 * locked method-store lookup) on every EVP_DigestInit_ex, which the per-connection keys of
 * the certificate, session and verdict caches and the JA3/JA4 of every proxy.conn.open would
 * pay each time. NULL if the fetch failed. */
const EVP_MD *pki_sha256(void);
const EVP_MD *pki_md5(void);
/* SHA-256 of the certificate's SubjectPublicKeyInfo DER (Chromium's SPKI block-list form). */
int pki_spki_sha256(X509 *x, unsigned char out[32]);
/* SHA-256 hex of a file's contents into hex (65 bytes), read in chunks (any size); -1 if
 * it cannot be read. */
int pki_file_sha256(const char *path, char hex[65]);
/* The certificate as a malloc'd PEM string. */
char *pki_cert_pem(X509 *x);
/* Write a PEM file: the ncerts certificates (mode 0644) when key is NULL, else the key alone
 * (mode 0600, its PEM text wiped from memory after). Every private key the lab writes goes
 * through here. */
int pki_write_pem(const char *path, X509 *const *certs, int ncerts, EVP_PKEY *key,
    char **cause);
/* Read the first certificate of a PEM file / a whole PEM bundle. */
X509 *pki_read_cert(const char *path, char **cause);
STACK_OF(X509) *pki_read_certs(const char *path, char **cause);
/* Read a PEM private key. */
EVP_PKEY *pki_read_key(const char *path, char **cause);
/* Reproducible serial for (seed, label) into out (SHA-256 based, 16 bytes, positive). */
int pki_serial(uint64_t seed, const char *label, ASN1_INTEGER *out);
/* RFC 2253 text of a name (the form every vantage publishes), malloc'd / into a buffer. */
char *pki_name_str(const X509_NAME *n);
/* "YYYY-MM-DDTHH:MM:SSZ" (UTC) of a certificate time into out (21 bytes or more), "?" when
 * it cannot be read; returns out. */
const char *pki_time_str(const ASN1_TIME *t, char *out, size_t len);
/* An ASN1_TIME as seconds since the epoch into *out; -1 (OpenSSL's error queue cleared) when
 * t is NULL or its encoding unusable. */
int pki_time_t(const ASN1_TIME *t, time_t *out);
void pki_name_text(const X509_NAME *n, char *out, size_t outlen);
/* Add one extension to x from its OpenSSL config text ("critical,CA:TRUE"); 0 or -1. */
int pki_add_ext(X509V3_CTX *ctx, X509 *x, int nid, const char *value);
/* Add the extensions nids[i] = vals[i] (up to NID_undef) to x, issued by issuer (NULL:
 * self-issued), and sign it with signkey (SHA-256); 0 or -1 (OpenSSL's error queued). */
int pki_extend_sign(X509 *x, X509 *issuer, EVP_PKEY *signkey, const int *nids,
    const char *const *vals);
/* Generate an RSA key of bits with public exponent e, or an EC P-256 key when bits == 0. */
EVP_PKEY *pki_keygen(int bits, unsigned long e, char **cause);
/*
 * The key to give X509_set_pubkey for k: a public-only legacy twin that pki_keygen and
 * pki_read_key attach to EC and RSA keys (OpenSSL 3.0 then encodes it without building an
 * encoder and a decoder: 200-300 µs less per forged certificate), else k itself.
 */
EVP_PKEY *pki_key_certpub(EVP_PKEY *k);

#endif
