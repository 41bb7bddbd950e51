/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pki — generates the mock national CAs of KZ-FACTS.md into a directory and loads them back.
 * kz-2019: root "Qaznet Trust Network" (RSA-4096, its real 2016-02-02..2046-02-02 window) and
 * intermediate "Security Certificate" (RSA-2048, e=65537, 3 years). The real intermediate's
 * start date is not reproduced: it starts at the lab's reference date (--date, by default
 * today minus PKI_DATE_BACKDATE, 3 days) so that the lab's clients accept it at the current
 * clock and no leaf forged under it starts before it.
 * kz-2020: root "Information Security Certification Authority CA" (RSA-4096, 2020-02-28..
 * 2040-02-28) and one RSA-2048 intermediate "Information Security CA Intermediate" for 3
 * years from --date; the published observations name only the root, so the intermediate
 * (name included) is a lab assumption.
 * isca-2024: 7 consecutive 75-day intermediates "C=KZ, O=ISCA, CN=Information Security
 * Certification Authority" (the issuer OONI saw) placed so that the 7th contains --date (it
 * started 10 days before) and the 6th expired before it; the 7th issues by default, the 6th is
 * written as issuer-expired/chain-expired. Their root is "C=KZ, O=ISCA, CN=Information
 * Security Certification Authority CA", 2020-02-28..2040-02-28: name and dates are a lab
 * assumption (the 2020 root's; OONI names only the issuer). It must not share the
 * intermediates' name: kz2019 leaves carry no authorityKeyIdentifier, so a verifier finds
 * their issuer by name alone and, given two candidates, may try the root and fail with
 * "certificate signature failure".
 * plain: ECDSA P-256 root and intermediate, for benchmarks.
 * mitmproxy: the one self-signed CA mitmproxy makes for itself (O=mitmproxy, CN=mitmproxy,
 * RSA-2048, now-2d..+10 years), which signs the leaves itself and is served after them.
 * Every subject gets " (LAB mock)" after its real CN and an OU naming the lab. Serials come
 * from SHA-256(seed || role), so the same --seed gives the same serials; key material always
 * comes from OpenSSL's RNG and is NOT reproducible. This file does not forge leaves (forge.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pki.h"
#include "util.h"

#define PKI_LAB_OU	"mitmlab lab - not a real CA"
#define PKI_LAB_MARK	" (LAB mock)"
#define PKI_DAY		86400
#define PKI_MAX_CERTS	9

struct pki_ca {
	X509		*root;
	X509		*issuer;
	EVP_PKEY	*issuer_key;
	STACK_OF(X509)	*chain;
};

/* One certificate of a profile: who it is, its key and its validity. */
struct pki_item {
	char		 role[16];	/* "root", "int-1", ... (also the file name stem) */
	const char	*c, *o, *cn;
	int		 bits;		/* 0 = EC P-256 */
	unsigned long	 e;
	time_t		 nb, na;
	X509		*cert;
	EVP_PKEY	*key;
};

/* The names of the profiles pki_ca_init knows. */
const char *
pki_profile_names(void)
{
	return "kz-2019 kz-2020 isca-2024 plain mitmproxy";
}

/* UTC midnight of y-m-d as time_t. */
static time_t
pki_date(int y, int m, int d)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return timegm(&tm);
}

/* t plus n calendar years (same month/day/time, UTC). */
static time_t
pki_add_years(time_t t, int n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_year += n;
	return timegm(&tm);
}

/*
 * Certificate public keys without OpenSSL 3.0's encoder. X509_set_pubkey encodes a provider
 * key to DER with an OSSL_ENCODER and decodes it back with an OSSL_DECODER, and 3.0 builds
 * both from scratch on every call. A key with a legacy method (EC_KEY, RSA) is encoded by
 * that method instead, and the SubjectPublicKeyInfo is the same bytes: on the bench VM a
 * forge (certificate, signature, SSL_use_certificate and SSL_use_PrivateKey) took 262-357
 * µs with the provider key and 56-60 µs with a legacy one, most of what a cold connection
 * cost over a warm one. So every key
 * that pki_keygen makes or pki_read_key loads carries, in its ex_data, a public-only legacy
 * twin, which forge puts into certificates (pki_key_certpub). The twin is attached while one
 * thread owns the key and only read afterwards. The legacy calls are deprecated in 3.0 (and
 * still there in every 3.x), hence the pragmas around them; other key types get no twin.
 */
static CRYPTO_ONCE pki_twin_once = CRYPTO_ONCE_STATIC_INIT;
static int pki_twin_idx = -1;

/* ex_data free callback: the twin goes with its key. */
static void
pki_twin_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	EVP_PKEY_free(ptr);
}

/* The ex_data index (once). */
static void
pki_twin_init(void)
{
	pki_twin_idx = EVP_PKEY_get_ex_new_index(0, NULL, NULL, NULL, pki_twin_free);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* A legacy EC key holding only k's group and public point, in a new EVP_PKEY; NULL if not. */
static EVP_PKEY *
pki_twin_ec(EVP_PKEY *k)
{
	EC_KEY *full = EVP_PKEY_get1_EC_KEY(k), *pub = EC_KEY_new();
	EVP_PKEY *t = EVP_PKEY_new();

	if (full != NULL && pub != NULL && t != NULL &&
	    EC_KEY_set_group(pub, EC_KEY_get0_group(full)) == 1 &&
	    EC_KEY_set_public_key(pub, EC_KEY_get0_public_key(full)) == 1 &&
	    EVP_PKEY_assign_EC_KEY(t, pub) == 1)
		pub = NULL;		/* t owns it */
	else {
		EVP_PKEY_free(t);
		t = NULL;
	}
	EC_KEY_free(pub);
	EC_KEY_free(full);
	return t;
}

/* A legacy RSA key holding only k's modulus and exponent, in a new EVP_PKEY; NULL if not. */
static EVP_PKEY *
pki_twin_rsa(EVP_PKEY *k)
{
	RSA *full = EVP_PKEY_get1_RSA(k), *pub = RSA_new();
	const BIGNUM *fn = NULL, *fe = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *t = EVP_PKEY_new();

	if (full != NULL)
		RSA_get0_key(full, &fn, &fe, NULL);
	if (fn != NULL && fe != NULL && pub != NULL && t != NULL &&
	    (n = BN_dup(fn)) != NULL && (e = BN_dup(fe)) != NULL &&
	    RSA_set0_key(pub, n, e, NULL) == 1) {
		n = e = NULL;		/* pub owns them */
		if (EVP_PKEY_assign_RSA(t, pub) == 1)
			pub = NULL;	/* t owns it */
	}
	if (pub != NULL) {
		EVP_PKEY_free(t);
		t = NULL;
	}
	BN_free(n);
	BN_free(e);
	RSA_free(pub);
	RSA_free(full);
	return t;
}
#pragma GCC diagnostic pop

/* Attach k's twin (k is not shared yet). Without one, certificates take k itself. */
static void
pki_twin_attach(EVP_PKEY *k)
{
	EVP_PKEY *t = NULL;

	if (!CRYPTO_THREAD_run_once(&pki_twin_once, pki_twin_init) || pki_twin_idx < 0)
		return;
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC)
		t = pki_twin_ec(k);
	else if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA)
		t = pki_twin_rsa(k);
	/* Comparing the two (as SSL_use_PrivateKey will, on every worker) exports the twin to
	 * the provider once and caches that in it, now, while no other thread sees it; a twin
	 * that does not match is not used. */
	if (t != NULL && (EVP_PKEY_eq(t, k) != 1 || EVP_PKEY_set_ex_data(k, pki_twin_idx, t) != 1))
		EVP_PKEY_free(t);
	ERR_clear_error();
}

/* The key to put into a certificate for k: its twin, or k. */
EVP_PKEY *
pki_key_certpub(EVP_PKEY *k)
{
	EVP_PKEY *t;

	if (k == NULL || !CRYPTO_THREAD_run_once(&pki_twin_once, pki_twin_init) ||
	    pki_twin_idx < 0)
		return k;
	t = EVP_PKEY_get_ex_data(k, pki_twin_idx);
	return t != NULL ? t : k;
}

/* Generate an RSA key (bits, e) or an EC P-256 key when bits == 0. */
EVP_PKEY *
pki_keygen(int bits, unsigned long e, char **cause)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = NULL;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, bits == 0 ? "EC" : "RSA", NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0)
		goto fail;
	if (bits == 0) {
		if (EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) <= 0)
			goto fail;
	} else {
		if ((bn = BN_new()) == NULL || !BN_set_word(bn, e) ||
		    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
		    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, bn) <= 0)
			goto fail;
	}
	if (EVP_PKEY_keygen(ctx, &pk) <= 0)
		goto fail;
	BN_free(bn);
	EVP_PKEY_CTX_free(ctx);
	pki_twin_attach(pk);
	return pk;
fail:
	if (bits == 0)
		util_cause(cause, "EC P-256 key generation failed: %s", log_ssl_reason());
	else
		util_cause(cause, "RSA-%d e=%lu key generation failed: %s", bits, e,
		    log_ssl_reason());
	BN_free(bn);
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

static CRYPTO_ONCE pki_md_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *pki_sha256_md, *pki_md5_md;

/* Fetch the per-connection digests (once). */
static void
pki_md_fetch(void)
{
	pki_sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	pki_md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
}

/* SHA-256 fetched once. */
const EVP_MD *
pki_sha256(void)
{
	if (!CRYPTO_THREAD_run_once(&pki_md_once, pki_md_fetch))
		return NULL;
	return pki_sha256_md;
}

/* MD5 fetched once. */
const EVP_MD *
pki_md5(void)
{
	if (!CRYPTO_THREAD_run_once(&pki_md_once, pki_md_fetch))
		return NULL;
	return pki_md5_md;
}

/* SHA-256 of the certificate DER. */
int
pki_cert_sha256(X509 *x, unsigned char out[32])
{
	unsigned int n = 32;

	return X509_digest(x, pki_sha256(), out, &n) == 1 ? 0 : -1;
}

/* SHA-256 of the SubjectPublicKeyInfo DER. */
int
pki_spki_sha256(X509 *x, unsigned char out[32])
{
	unsigned char *der = NULL;
	unsigned int n = 32;
	int len, rv;

	if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
		return -1;
	rv = EVP_Digest(der, (size_t)len, out, &n, pki_sha256(), NULL) == 1 ? 0 : -1;
	OPENSSL_free(der);
	return rv;
}

/* Copy a memory BIO's contents into a malloc'd NUL-terminated string. */
static char *
pki_bio_str(BIO *b)
{
	char *data, *s;
	long n;

	n = BIO_get_mem_data(b, &data);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

/* PEM text of a certificate. */
char *
pki_cert_pem(X509 *x)
{
	BIO *b;
	char *s = NULL;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_X509(b, x) == 1)
		s = pki_bio_str(b);
	BIO_free(b);
	return s;
}

/* Every certificate of a PEM file. */
STACK_OF(X509) *
pki_read_certs(const char *path, char **cause)
{
	STACK_OF(X509) *sk;
	BIO *b;
	X509 *x;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		util_cause(cause, "%s: %s", path, strerror(errno));
		ERR_clear_error();
		return NULL;
	}
	if ((sk = sk_X509_new_null()) == NULL) {
		BIO_free(b);
		util_cause(cause, "out of memory");
		return NULL;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	}
	ERR_clear_error();	/* the end of the file shows up as a PEM "no start line" */
	BIO_free(b);
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		util_cause(cause, "%s: no PEM certificate in the file", path);
		return NULL;
	}
	return sk;
}

/* The first certificate of a PEM file. */
X509 *
pki_read_cert(const char *path, char **cause)
{
	STACK_OF(X509) *sk;
	X509 *x;

	if ((sk = pki_read_certs(path, cause)) == NULL)
		return NULL;
	x = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return x;
}

/* A PEM private key. */
EVP_PKEY *
pki_read_key(const char *path, char **cause)
{
	EVP_PKEY *k;
	BIO *b;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		util_cause(cause, "%s: %s", path, strerror(errno));
		ERR_clear_error();
		return NULL;
	}
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		util_cause(cause, "%s: not a PEM private key: %s", path, log_ssl_reason());
	else
		pki_twin_attach(k);
	return k;
}

/* Subject name: C, O (optional), the lab OU, CN + lab marker. */
static X509_NAME *
pki_name(const struct pki_item *it)
{
	X509_NAME *n;
	char cn[256];

	snprintf(cn, sizeof(cn), "%s%s", it->cn, PKI_LAB_MARK);
	if ((n = X509_NAME_new()) == NULL)
		return NULL;
	if (it->c != NULL && !X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)it->c, -1, -1, 0))
		goto fail;
	if (it->o != NULL && !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)it->o, -1, -1, 0))
		goto fail;
	if (!X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
	    (const unsigned char *)PKI_LAB_OU, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0))
		goto fail;
	return n;
fail:
	X509_NAME_free(n);
	return NULL;
}

/* Serial = first 16 bytes of SHA-256(seed as 8 big-endian bytes || label), positive and
 * always 16 bytes long: the same seed and label give the same serial. */
int
pki_serial(uint64_t seed, const char *label, ASN1_INTEGER *out)
{
	unsigned char be[8], md[32];
	EVP_MD_CTX *ctx;
	BIGNUM *bn;
	int i, rv = -1;

	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)(seed >> (56 - 8 * i));
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, be, sizeof(be)) == 1 &&
	    EVP_DigestUpdate(ctx, label, strlen(label)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, NULL) == 1)
		rv = 0;
	EVP_MD_CTX_free(ctx);
	if (rv == -1)
		return -1;
	md[0] &= 0x7f;
	md[0] |= 0x40;
	if ((bn = BN_bin2bn(md, 16, NULL)) == NULL)
		return -1;
	rv = BN_to_ASN1_INTEGER(bn, out) != NULL ? 0 : -1;
	BN_free(bn);
	return rv;
}

/* Add one extension from its OpenSSL config text. */
int
pki_add_ext(X509V3_CTX *ctx, X509 *x, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* Add extensions and sign (pki.h). */
int
pki_extend_sign(X509 *x, X509 *issuer, EVP_PKEY *signkey, const int *nids,
    const char *const *vals)
{
	X509V3_CTX ctx;
	int i;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	for (i = 0; nids[i] != NID_undef; i++)
		if (pki_add_ext(&ctx, x, nids[i], vals[i]) == -1)
			return -1;
	return X509_sign(x, signkey, EVP_sha256()) > 0 ? 0 : -1;
}

/* Make it->key and it->cert, signed by parent (NULL: self-signed root). */
static int
pki_issue(struct pki_item *it, const struct pki_item *parent, uint64_t seed, char **cause)
{
	static const int nids[] = { NID_basic_constraints, NID_key_usage,
	    NID_subject_key_identifier, NID_authority_key_identifier, NID_undef };
	const char *vals[] = { NULL, "critical,keyCertSign,cRLSign", "hash", "keyid:always" };
	X509_NAME *name;
	X509 *x;

	if ((it->key = pki_keygen(it->bits, it->e, cause)) == NULL)
		return -1;
	if ((x = X509_new()) == NULL || (name = pki_name(it)) == NULL) {
		X509_free(x);
		return util_cause(cause, "%s: cannot build the subject (CN over 64 chars?): %s",
		    it->role, log_ssl_reason());
	}
	if (!X509_set_version(x, X509_VERSION_3) ||
	    pki_serial(seed, it->role, X509_get_serialNumber(x)) == -1 ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, parent != NULL ? X509_get_subject_name(parent->cert) : name) ||
	    ASN1_TIME_set(X509_getm_notBefore(x), it->nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), it->na) == NULL ||
	    !X509_set_pubkey(x, it->key)) {
		X509_NAME_free(name);
		X509_free(x);
		return util_cause(cause, "%s: building the certificate: %s", it->role,
		    log_ssl_reason());
	}
	X509_NAME_free(name);
	vals[0] = parent != NULL ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE";
	if (pki_extend_sign(x, parent != NULL ? parent->cert : NULL, parent != NULL ?
	    parent->key : it->key, nids, vals) == -1) {
		X509_free(x);
		return util_cause(cause, "%s: extensions or signature: %s", it->role,
		    log_ssl_reason());
	}
	it->cert = x;
	return 0;
}

/* Fill the item table of profile; returns the count, or -1 for an unknown profile.
 * *issuer and *expired get the indexes of the issuing and the expired intermediate. */
static int
pki_profile_items(const char *profile, time_t now, struct pki_item *it, int *issuer,
    int *expired)
{
	time_t nb7;
	int i;

	memset(it, 0, sizeof(*it) * PKI_MAX_CERTS);
	*expired = -1;
	if (strcmp(profile, "kz-2019") == 0) {
		it[0] = (struct pki_item){ "root", "KZ", NULL, "Qaznet Trust Network", 4096,
		    65537, pki_date(2016, 2, 2), pki_date(2046, 2, 2), NULL, NULL };
		it[1] = (struct pki_item){ "int-1", "KZ", NULL, "Security Certificate", 2048,
		    65537, now, pki_add_years(now, 3), NULL, NULL };
		*issuer = 1;
		return 2;
	}
	if (strcmp(profile, "kz-2020") == 0) {
		it[0] = (struct pki_item){ "root", "KZ", NULL,
		    "Information Security Certification Authority CA", 4096, 65537,
		    pki_date(2020, 2, 28), pki_date(2040, 2, 28), NULL, NULL };
		it[1] = (struct pki_item){ "int-1", "KZ", NULL,
		    "Information Security CA Intermediate", 2048, 65537,
		    now, pki_add_years(now, 3), NULL, NULL };
		*issuer = 1;
		return 2;
	}
	if (strcmp(profile, "isca-2024") == 0) {
		/* not the intermediates' name: see the top of the file */
		it[0] = (struct pki_item){ "root", "KZ", "ISCA",
		    "Information Security Certification Authority CA", 4096, 65537,
		    pki_date(2020, 2, 28), pki_date(2040, 2, 28), NULL, NULL };
		nb7 = now - 10 * PKI_DAY;
		for (i = 1; i <= 7; i++) {
			it[i] = (struct pki_item){ "", "KZ", "ISCA",
			    "Information Security Certification Authority", 2048, 65537,
			    nb7 - (time_t)(7 - i) * 75 * PKI_DAY,
			    nb7 - (time_t)(6 - i) * 75 * PKI_DAY, NULL, NULL };
			snprintf(it[i].role, sizeof(it[i].role), "int-%d", i);
		}
		*issuer = 7;
		*expired = 6;
		return 8;
	}
	if (strcmp(profile, "plain") == 0) {
		it[0] = (struct pki_item){ "root", "XX", "mitmlab", "mitmlab LAB root", 0, 0,
		    now - PKI_DAY, pki_add_years(now, 10), NULL, NULL };
		it[1] = (struct pki_item){ "int-1", "XX", "mitmlab", "mitmlab LAB intermediate",
		    0, 0, now - PKI_DAY, pki_add_years(now, 3), NULL, NULL };
		*issuer = 1;
		return 2;
	}
	if (strcmp(profile, "mitmproxy") == 0) {	/* mitmproxy's own CA: it signs leaves */
		it[0] = (struct pki_item){ "root", NULL, "mitmproxy", "mitmproxy", 2048, 65537,
		    now - 2 * PKI_DAY, now + 3650 * PKI_DAY, NULL, NULL };
		*issuer = 0;
		return 1;
	}
	return -1;
}

/* ISO 8601 UTC text of an ASN1_TIME (pki.h). */
const char *
pki_time_str(const ASN1_TIME *t, char *out, size_t len)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		snprintf(out, len, "?");
	else
		strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

/* ASN1_TIME to time_t (pki.h). */
int
pki_time_t(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return -1;
	}
	*out = timegm(&tm);
	return 0;
}

/* RFC 2253 text of a name (UTF-8 kept). */
char *
pki_name_str(const X509_NAME *n)
{
	BIO *b;
	char *s = NULL;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		s = pki_bio_str(b);
	BIO_free(b);
	return s;
}

/* RFC 2253 text of a name into out (truncated to outlen; empty on failure). */
void
pki_name_text(const X509_NAME *n, char *out, size_t outlen)
{
	char *s = pki_name_str(n);

	snprintf(out, outlen, "%s", s != NULL ? s : "");
	free(s);
}

/* The ca.json description of one certificate. */
static json_t *
pki_cert_json(const struct pki_item *it, time_t now)
{
	unsigned char d[32];
	char hex[65], nb[32], na[32], *subj, *iss, *serial;
	BIGNUM *bn;
	json_t *o;

	subj = pki_name_str(X509_get_subject_name(it->cert));
	iss = pki_name_str(X509_get_issuer_name(it->cert));
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(it->cert), NULL);
	serial = bn != NULL ? BN_bn2hex(bn) : NULL;
	pki_time_str(X509_get0_notBefore(it->cert), nb, sizeof(nb));
	pki_time_str(X509_get0_notAfter(it->cert), na, sizeof(na));
	o = json_pack("{s:s, s:s+, s:s+, s:s?, s:s?, s:s?, s:s, s:s, s:s, s:i, s:b}",
	    "role", it->role, "cert", it->role, ".pem", "key", it->role, ".key",
	    "subject", subj, "issuer", iss, "serial", serial,
	    "not_before", nb, "not_after", na,
	    "key_type", it->bits == 0 ? "EC P-256" : "RSA", "key_bits",
	    it->bits == 0 ? 256 : it->bits,
	    "expired_at_date", X509_cmp_time(X509_get0_notAfter(it->cert), &now) < 0);
	if (o != NULL && it->bits != 0)
		json_object_set_new(o, "exponent", json_integer((json_int_t)it->e));
	if (o != NULL && pki_cert_sha256(it->cert, d) == 0)
		json_object_set_new(o, "sha256", json_string(util_hex(d, 32, hex)));
	if (o != NULL && pki_spki_sha256(it->cert, d) == 0)
		json_object_set_new(o, "spki_sha256", json_string(util_hex(d, 32, hex)));
	free(subj);
	free(iss);
	OPENSSL_free(serial);
	BN_free(bn);
	return o;
}

/* Write PEM (pki.h): certificates 0644, or a key alone (unencrypted PKCS#8) 0600. The text
 * is built in a memory BIO, which OpenSSL clears when it grows and when it is freed. */
int
pki_write_pem(const char *path, X509 *const *certs, int ncerts, EVP_PKEY *key, char **cause)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int i, ok = b != NULL, rv;

	if (ok && key != NULL)
		ok = PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1;
	for (i = 0; ok && key == NULL && i < ncerts; i++)
		ok = PEM_write_bio_X509(b, certs[i]) == 1;
	if (!ok) {
		BIO_free(b);
		return util_cause(cause, "%s: cannot encode it as PEM: %s", path, log_ssl_reason());
	}
	len = BIO_get_mem_data(b, &data);
	rv = util_write_file(path, data, (size_t)len, key != NULL ? 0600 : 0644, cause);
	BIO_free(b);
	return rv;
}

/* Write one certificate (0644) and, when key != NULL, its key (0600) as dir/stem.{pem,key}. */
static int
pki_write_pair(const char *dir, const char *stem, X509 *const *certs, int ncerts,
    EVP_PKEY *key, char **cause)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.pem", dir, stem);
	if (pki_write_pem(path, certs, ncerts, NULL, cause) == -1)
		return -1;
	if (key == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/%s.key", dir, stem);
	return pki_write_pem(path, NULL, 0, key, cause);
}

/* Write ca.json. */
static int
pki_write_json(const char *dir, const char *profile, uint64_t seed, time_t now,
    const struct pki_item *it, int n, int issuer, int expired, char **cause)
{
	char path[PATH_MAX], date[32], seedstr[32], *text;
	json_t *root, *certs;
	struct tm tm;
	int i, rv;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(seedstr, sizeof(seedstr), "%llu", (unsigned long long)seed);
	certs = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(certs, pki_cert_json(&it[i], now));
	root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:[s], s:o, s:s}",
	    "v", 1, "profile", profile, "seed", seedstr, "date", date,
	    "issuer", it[issuer].role, "chain", it[issuer].role, "certs", certs,
	    "note", "LAB mock CA: not a real certificate authority. Serials derive from the "
	    "seed; keys come from OpenSSL's RNG.");
	if (root == NULL)
		return util_cause(cause, "ca.json: out of memory");
	if (expired >= 0) {
		json_object_set_new(root, "issuer_expired", json_string(it[expired].role));
		json_object_set_new(root, "chain_expired", json_pack("[s]", it[expired].role));
	}
	if (strcmp(profile, "kz-2020") == 0)
		json_object_set_new(root, "assumption", json_string("the intermediate is a lab "
		    "assumption; only the root was observed"));
	if (strcmp(profile, "isca-2024") == 0)
		json_object_set_new(root, "assumption", json_string("the root's name (the 2020 "
		    "root's, Information Security Certification Authority CA) and dates are a lab "
		    "assumption; only the intermediates' issuer name was observed"));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text == NULL)
		return util_cause(cause, "ca.json: out of memory");
	snprintf(path, sizeof(path), "%s/ca.json", dir);
	rv = util_write_file(path, text, strlen(text), 0644, cause);
	free(text);
	return rv;
}

/* Generate and write a whole CA directory. */
int
pki_ca_init(const char *outdir, const char *profile, uint64_t seed, time_t now, char **cause)
{
	struct pki_item it[PKI_MAX_CERTS];
	int n, i, issuer, expired, rv = -1;
	const struct pki_item *parent;

	if ((n = pki_profile_items(profile, now, it, &issuer, &expired)) < 0)
		return util_cause(cause, "unknown CA profile \"%s\" (known: %s)", profile,
		    pki_profile_names());
	if (util_mkdirs(outdir, 0700, cause) == -1)
		return -1;
	if (chmod(outdir, 0700) == -1)
		return util_cause(cause, "%s: %s", outdir, strerror(errno));
	for (i = 0; i < n; i++) {
		parent = i == 0 ? NULL : &it[0];
		if (pki_issue(&it[i], parent, seed, cause) == -1)
			goto out;
		if (pki_write_pair(outdir, it[i].role, &it[i].cert, 1, it[i].key, cause) == -1)
			goto out;
	}
	if (pki_write_pair(outdir, "issuer", &it[issuer].cert, 1, it[issuer].key, cause) == -1 ||
	    pki_write_pair(outdir, "chain", &it[issuer].cert, 1, NULL, cause) == -1)
		goto out;
	if (expired >= 0 &&
	    (pki_write_pair(outdir, "issuer-expired", &it[expired].cert, 1, it[expired].key,
	    cause) == -1 ||
	    pki_write_pair(outdir, "chain-expired", &it[expired].cert, 1, NULL, cause) == -1))
		goto out;
	rv = pki_write_json(outdir, profile, seed, now, it, n, issuer, expired, cause);
out:
	for (i = 0; i < n; i++) {
		X509_free(it[i].cert);
		EVP_PKEY_free(it[i].key);
	}
	return rv;
}

/* Load root, an issuer pair and a chain file from dir. */
static struct pki_ca *
pki_ca_load_stem(const char *dir, const char *issuer, const char *chain, char **cause)
{
	struct pki_ca *ca;
	char path[PATH_MAX];

	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/root.pem", dir);
	if ((ca->root = pki_read_cert(path, cause)) == NULL)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s.pem", dir, issuer);
	if ((ca->issuer = pki_read_cert(path, cause)) == NULL)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s.key", dir, issuer);
	if ((ca->issuer_key = pki_read_key(path, cause)) == NULL)
		goto fail;
	if (X509_check_private_key(ca->issuer, ca->issuer_key) != 1) {
		util_cause(cause, "%s/%s.key does not match %s.pem", dir, issuer, issuer);
		ERR_clear_error();
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s.pem", dir, chain);
	if ((ca->chain = pki_read_certs(path, cause)) == NULL)
		goto fail;
	return ca;
fail:
	pki_ca_free(ca);
	return NULL;
}

/* Load the default issuer of a CA directory. */
struct pki_ca *
pki_ca_load(const char *dir, char **cause)
{
	return pki_ca_load_stem(dir, "issuer", "chain", cause);
}

/* Load the expired-issuer variant of a CA directory (isca-2024). */
struct pki_ca *
pki_ca_load_expired(const char *dir, char **cause)
{
	return pki_ca_load_stem(dir, "issuer-expired", "chain-expired", cause);
}

/* Free a loaded CA. */
void
pki_ca_free(struct pki_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->root);
	X509_free(ca->issuer);
	EVP_PKEY_free(ca->issuer_key);
	sk_X509_pop_free(ca->chain, X509_free);
	free(ca);
}

/* Squid's untrusted signing CA (pki.h). */
int
pki_untrusted_ca(X509 *trusted, X509 **cert, EVP_PKEY **key, char **cause)
{
	X509_NAME *name = X509_NAME_dup(X509_get_subject_name(trusted));
	static const int nids[] = { NID_basic_constraints, NID_key_usage,
	    NID_subject_key_identifier, NID_undef };
	static const char *const vals[] = { "critical,CA:TRUE", "critical,keyCertSign,cRLSign",
	    "hash" };
	X509 *x = X509_new();
	EVP_PKEY *k = NULL;
	char cn[256] = "", ncn[300];
	int i;

	*cert = NULL;
	*key = NULL;
	X509_NAME_get_text_by_NID(X509_get_subject_name(trusted), NID_commonName, cn, sizeof(cn));
	snprintf(ncn, sizeof(ncn), "Not trusted by \"%s\"", cn);
	while (name != NULL && (i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) >= 0)
		X509_NAME_ENTRY_free(X509_NAME_delete_entry(name, i));
	if (name == NULL || x == NULL || (k = pki_keygen(2048, 65537, cause)) == NULL ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)ncn, -1, -1, 0) ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), (uint64_t)time(NULL)) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_set1_notBefore(x, X509_get0_notBefore(trusted)) ||
	    !X509_set1_notAfter(x, X509_get0_notAfter(trusted)) || !X509_set_pubkey(x, k))
		goto fail;
	if (pki_extend_sign(x, NULL, k, nids, vals) == -1)
		goto fail;
	X509_NAME_free(name);
	*cert = x;
	*key = k;
	return 0;
fail:
	if (cause != NULL && *cause == NULL)
		util_cause(cause, "untrusted CA for \"%s\": %s", cn, log_ssl_reason());
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(k);
	return -1;
}

/* The certificate that signs forged leaves. */
X509 *
pki_ca_issuer(const struct pki_ca *ca)
{
	return ca->issuer;
}

/* The issuing certificate's private key. */
EVP_PKEY *
pki_ca_issuer_key(const struct pki_ca *ca)
{
	return ca->issuer_key;
}

/* The national root. */
X509 *
pki_ca_root(const struct pki_ca *ca)
{
	return ca->root;
}

/* The chain served after a forged leaf. */
STACK_OF(X509) *
pki_ca_chain(const struct pki_ca *ca)
{
	return ca->chain;
}

/* SHA-256 hex of a file's contents into hex (65 bytes), read in chunks; -1 if unreadable. */
int
pki_file_sha256(const char *path, char hex[65])
{
	unsigned char buf[65536], d[32];
	unsigned int dn = 32;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	size_t got;
	int rv = -1;

	if (md != NULL && f != NULL && EVP_DigestInit_ex(md, pki_sha256(), NULL) == 1) {
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
			if (EVP_DigestUpdate(md, buf, got) != 1)
				break;
		if (!ferror(f) && feof(f) && EVP_DigestFinal_ex(md, d, &dn) == 1) {
			util_hex(d, 32, hex);
			rv = 0;
		}
	}
	if (f != NULL)
		fclose(f);
	EVP_MD_CTX_free(md);
	return rv;
}
