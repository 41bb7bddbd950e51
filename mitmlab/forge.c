/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * forge — the forging profiles of forge.h, field by field. kz2019*: subject and the SAN
 * extension copied verbatim (never from the SNI), serial = original with its low 33 bits
 * random, both validity bounds shifted earlier, no other extension. sslsplit (ssl.c
 * ssl_x509_forge): SKI, AKI keyid+issuer, basicConstraints copied (else CA:FALSE), keyUsage by
 * key type, EKU copied (else serverAuth), SAN copied with DNS:<sni> appended when the original
 * does not cover the SNI, serial + random 32-bit offset, now-1d..now+364d. mitmproxy
 * (certs.py dummy_cert + addons/tlsconfig.py get_cert): names = [upstream CN] + upstream DNS/IP
 * SANs + [SNI], de-duplicated; CN = first name if under 64 characters; O copied; SAN = names
 * (critical when the subject has no CN); EKU serverAuth; AKI keyid; no SKI; 159-bit random
 * serial; now-2d..now+199d (KZ-FACTS.md; current mitmproxy uses +365d); key = the CA's. squid
 * mimic: subject, validity (verbatim encodings), SAN, keyUsage, EKU and basicConstraints
 * copied, AKI keyid; serial = SHA-1(signing cert DER || TBS of the fake certificate with
 * serial SHA-1(signing SPKI) and the signing key's public key) with bit 159 cleared, so the
 * same upstream certificate gets the same serial in every process. Input certificates are
 * hostile: bad times, absent names and huge serials give NULL with a cause, never a crash.
 * Key generation, caching and I/O are the caller's (keypool, certcache).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "forge.h"
#include "log.h"
#include "pki.h"
#include "util.h"

#define FORGE_HOUR		3600L
#define FORGE_DAY		86400L
#define FORGE_MAX_SERIAL_BITS	1024	/* larger upstream serials are refused */
#define FORGE_MAX_NAMES		4096	/* mitmproxy: SAN entries considered */

enum forge_kind { FORGE_KZ2019, FORGE_SSLSPLIT, FORGE_MITMPROXY, FORGE_SQUID };

struct forge_profile {
	const char		*name;
	enum forge_kind		 kind;
	enum forge_keymode	 keymode;
	int			 bits;
	unsigned long		 exponent;
	int			 verifies;
	long			 shift;		/* kz2019: validity shift in seconds */
	int			 untrusted;	/* signs with an untrusted CA when the upstream
						 * fails verification (Squid) */
};

static const struct forge_profile forge_profiles[] = {
	{ "kz2019",       FORGE_KZ2019,    FORGE_KEY_PER_HOST,    2048, 3,     1, -6 * FORGE_HOUR, 0 },
	{ "kz2019-late",  FORGE_KZ2019,    FORGE_KEY_PER_HOST,    2048, 3,     1, -24 * FORGE_HOUR, 0 },
	{ "kz2019-early", FORGE_KZ2019,    FORGE_KEY_PER_HOST,    1024, 3,     1, -6 * FORGE_HOUR, 0 },
	{ "sslsplit",     FORGE_SSLSPLIT,  FORGE_KEY_PER_PROCESS, 2048, 65537, 0, 0, 0 },
	{ "mitmproxy",    FORGE_MITMPROXY, FORGE_KEY_CA,          0,    0,     1, 0, 0 },
	{ "squid",        FORGE_SQUID,     FORGE_KEY_PER_HOST,    2048, 65537, 1, 0, 1 },
};
#define FORGE_NPROFILES (sizeof(forge_profiles) / sizeof(forge_profiles[0]))

/* Find a profile by name. */
const struct forge_profile *
forge_profile_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < FORGE_NPROFILES; i++)
		if (strcmp(forge_profiles[i].name, name) == 0)
			return &forge_profiles[i];
	return NULL;
}

/* Comma-separated profile names for messages. */
const char *
forge_profile_names(void)
{
	return "kz2019, kz2019-late, kz2019-early, sslsplit, mitmproxy, squid";
}

/* The profile's name. */
const char *
forge_profile_name(const struct forge_profile *p)
{
	return p->name;
}

/* The profile's key strategy. */
enum forge_keymode
forge_profile_keymode(const struct forge_profile *p)
{
	return p->keymode;
}

/* RSA bits of generated keys (0: the profile generates none). */
int
forge_profile_key_bits(const struct forge_profile *p)
{
	return p->bits;
}

/* RSA public exponent of generated keys (0: none). */
unsigned long
forge_profile_key_exponent(const struct forge_profile *p)
{
	return p->exponent;
}

/* Whether the real tool verified the upstream certificate. */
int
forge_profile_verifies_upstream(const struct forge_profile *p)
{
	return p->verifies;
}

/* Whether a failed upstream check is passed on by signing with an untrusted CA. */
int
forge_profile_signs_untrusted(const struct forge_profile *p)
{
	return p->untrusted;
}

/* Set a validity bound to base + off seconds (UTCTime up to 2049, GeneralizedTime after). */
static int
forge_set_time(ASN1_TIME *t, time_t base, long off)
{
	return ASN1_TIME_adj(t, base, 0, off) != NULL ? 0 : -1;
}

/* The original's serial as a non-negative BIGNUM, refusing absurd sizes. */
static BIGNUM *
forge_orig_serial(X509 *orig, char **cause)
{
	BIGNUM *bn;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(orig), NULL)) == NULL) {
		util_cause(cause, "upstream serial unusable: %s", log_ssl_reason());
		return NULL;
	}
	if (BN_num_bits(bn) > FORGE_MAX_SERIAL_BITS) {
		BN_free(bn);
		util_cause(cause, "upstream serial too long (more than %d bits)",
		    FORGE_MAX_SERIAL_BITS);
		return NULL;
	}
	BN_set_negative(bn, 0);
	return bn;
}

/* Store bn as the serial (a zero result becomes 1: serials must be positive). */
static int
forge_set_serial(X509 *x, BIGNUM *bn)
{
	if (BN_is_zero(bn) && !BN_one(bn))
		return -1;
	return BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL ? 0 : -1;
}

/* kz2019: the original serial with its low 33 bits replaced at random. */
static int
forge_serial_kz(X509 *x, X509 *orig, char **cause)
{
	BIGNUM *bn, *r;
	int rv = -1;

	if ((bn = forge_orig_serial(orig, cause)) == NULL)
		return -1;
	if ((r = BN_new()) != NULL && BN_rshift(bn, bn, 33) && BN_lshift(bn, bn, 33) &&
	    BN_rand(r, 33, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) && BN_add(bn, bn, r))
		rv = forge_set_serial(x, bn);
	if (rv == -1)
		util_cause(cause, "serial: %s", log_ssl_reason());
	BN_free(r);
	BN_free(bn);
	return rv;
}

/* sslsplit: the original serial plus a random 32-bit offset. */
static int
forge_serial_sslsplit(X509 *x, X509 *orig, char **cause)
{
	unsigned char rnd[4];
	BIGNUM *bn;
	int rv = -1;

	if ((bn = forge_orig_serial(orig, cause)) == NULL)
		return -1;
	if (RAND_bytes(rnd, sizeof(rnd)) == 1 &&
	    BN_add_word(bn, ((BN_ULONG)rnd[0] << 24) | ((BN_ULONG)rnd[1] << 16) |
	    ((BN_ULONG)rnd[2] << 8) | rnd[3]))
		rv = forge_set_serial(x, bn);
	if (rv == -1)
		util_cause(cause, "serial: %s", log_ssl_reason());
	BN_free(bn);
	return rv;
}

/* A positive random serial of 159 bits (mitmproxy's x509.random_serial_number()). */
static int
forge_serial_random(X509 *x, char **cause)
{
	BIGNUM *bn;
	int rv = -1;

	if ((bn = BN_new()) != NULL && BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
		rv = forge_set_serial(x, bn);
	BN_free(bn);
	if (rv == -1)
		util_cause(cause, "serial: %s", log_ssl_reason());
	return rv;
}

/* Copy the first extension with nid from orig, verbatim; 1 copied, 0 absent, -1 error. */
static int
forge_copy_ext(X509 *x, X509 *orig, int nid)
{
	int i = X509_get_ext_by_NID(orig, nid, -1);

	if (i < 0)
		return 0;
	return X509_add_ext(x, X509_get_ext(orig, i), -1) ? 1 : -1;
}

/* authorityKeyIdentifier with keyid only: the issuer's SKI, or SHA-1 of its public key
 * bits (RFC 5280 4.2.1.2 method 1) when it has none, as cryptography's from_issuer_public_key. */
static int
forge_add_akid(X509 *x, X509 *issuer)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(issuer);
	unsigned char md[20];
	unsigned int n = 20;
	AUTHORITY_KEYID *akid;
	int rv = -1;

	if ((akid = AUTHORITY_KEYID_new()) == NULL)
		return -1;
	if (ski != NULL)
		akid->keyid = ASN1_OCTET_STRING_dup(ski);
	else if (bits != NULL && EVP_Digest(ASN1_STRING_get0_data(bits),
	    (size_t)ASN1_STRING_length(bits), md, &n, EVP_sha1(), NULL) == 1 &&
	    (akid->keyid = ASN1_OCTET_STRING_new()) != NULL &&
	    !ASN1_OCTET_STRING_set(akid->keyid, md, (int)n)) {
		ASN1_OCTET_STRING_free(akid->keyid);
		akid->keyid = NULL;
	}
	if (akid->keyid != NULL &&
	    X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) == 1)
		rv = 0;
	AUTHORITY_KEYID_free(akid);
	return rv;
}

/* A GENERAL_NAME of type DNS, or IP when s parses as an address. */
static GENERAL_NAME *
forge_gen_name(const char *s)
{
	GENERAL_NAME *gn;
	ASN1_OCTET_STRING *ip;
	ASN1_IA5STRING *ia5;

	if ((ip = a2i_IPADDRESS(s)) != NULL) {
		if ((gn = GENERAL_NAME_new()) == NULL) {
			ASN1_OCTET_STRING_free(ip);
			return NULL;
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		return gn;
	}
	ERR_clear_error();
	if ((ia5 = ASN1_IA5STRING_new()) == NULL)
		return NULL;
	if (!ASN1_STRING_set(ia5, s, -1) || (gn = GENERAL_NAME_new()) == NULL) {
		ASN1_IA5STRING_free(ia5);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	return gn;
}

/* Whether s is a plausible host name or address for a SAN (printable ASCII, no spaces). */
static int
forge_hostlike(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ',' || s[i] == '/')
			return 0;
	return 1;
}

/* sslsplit: SAN copied; DNS:<sni> appended when the original does not match the SNI. */
static int
forge_san_sslsplit(X509 *x, X509 *orig, const char *sni)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *gn;
	int crit = 0, rv;

	if (sni == NULL || X509_check_host(orig, sni, strlen(sni), 0, NULL) == 1)
		return forge_copy_ext(x, orig, NID_subject_alt_name) < 0 ? -1 : 0;
	ERR_clear_error();
	gens = X509_get_ext_d2i(orig, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL && (gens = GENERAL_NAMES_new()) == NULL)
		return -1;
	if ((gn = forge_gen_name(sni)) == NULL || !sk_GENERAL_NAME_push(gens, gn)) {
		GENERAL_NAME_free(gn);
		GENERAL_NAMES_free(gens);
		return -1;
	}
	rv = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, crit > 0, X509V3_ADD_DEFAULT);
	GENERAL_NAMES_free(gens);
	return rv == 1 ? 0 : -1;
}

/* UTF-8 text of the first entry nid of name (malloc'd via OpenSSL) or NULL. */
static char *
forge_name_entry(const X509_NAME *name, int nid, int *len)
{
	const X509_NAME_ENTRY *e;
	unsigned char *s = NULL;
	int i;

	if ((i = X509_NAME_get_index_by_NID(name, nid, -1)) < 0)
		return NULL;
	if ((e = X509_NAME_get_entry(name, i)) == NULL ||
	    (*len = ASN1_STRING_to_UTF8(&s, X509_NAME_ENTRY_get_data(e))) < 0) {
		ERR_clear_error();
		return NULL;
	}
	if (memchr(s, '\0', (size_t)*len) != NULL) {	/* embedded NUL: not a name */
		OPENSSL_free(s);
		return NULL;
	}
	return (char *)s;
}

/* Number of code points in a UTF-8 string (Python's len()). */
static int
forge_utf8_len(const char *s, int len)
{
	int i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* Append gn to gens unless an equal name is there already; takes ownership of gn. */
static int
forge_push_unique(GENERAL_NAMES *gens, GENERAL_NAME *gn)
{
	int i;

	if (gn == NULL)
		return -1;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(gens, i), gn) == 0) {
			GENERAL_NAME_free(gn);
			return 0;
		}
	}
	if (!sk_GENERAL_NAME_push(gens, gn)) {
		GENERAL_NAME_free(gn);
		return -1;
	}
	return 0;
}

/* mitmproxy: subject CN/O and the SAN list from the upstream names plus the SNI. */
static int
forge_names_mitmproxy(X509 *x, X509 *orig, const char *sni, char **cause)
{
	const X509_NAME *on = X509_get_subject_name(orig);
	GENERAL_NAMES *gens = NULL, *ogens;
	GENERAL_NAME *g;
	X509_NAME *subj = NULL;
	ASN1_STRING *first;
	char *cn, *o, buf[256];
	int cnlen = 0, olen = 0, i, has_cn = 0, caused = 0, rv = -1;

	cn = forge_name_entry(on, NID_commonName, &cnlen);
	o = forge_name_entry(on, NID_organizationName, &olen);
	if ((gens = GENERAL_NAMES_new()) == NULL || (subj = X509_NAME_new()) == NULL)
		goto out;
	if (cn != NULL && forge_hostlike(cn, (size_t)cnlen) &&
	    forge_push_unique(gens, forge_gen_name(cn)) == -1)
		goto out;
	ogens = X509_get_ext_d2i(orig, NID_subject_alt_name, NULL, NULL);
	ERR_clear_error();
	if (ogens != NULL && sk_GENERAL_NAME_num(ogens) > FORGE_MAX_NAMES) {
		GENERAL_NAMES_free(ogens);
		caused = util_cause(cause, "upstream SAN has more than %d entries",
		    FORGE_MAX_NAMES);
		goto out;
	}
	for (i = 0; ogens != NULL && i < sk_GENERAL_NAME_num(ogens); i++) {
		g = sk_GENERAL_NAME_value(ogens, i);
		if (g->type != GEN_DNS && g->type != GEN_IPADD)
			continue;
		if (forge_push_unique(gens, GENERAL_NAME_dup(g)) == -1) {
			GENERAL_NAMES_free(ogens);
			goto out;
		}
	}
	GENERAL_NAMES_free(ogens);
	if (sni != NULL && forge_hostlike(sni, strlen(sni)) &&
	    forge_push_unique(gens, forge_gen_name(sni)) == -1)
		goto out;
	/* CN = the first name (upstream CN, else first SAN, else SNI) when under 64 chars */
	if (sk_GENERAL_NAME_num(gens) > 0) {
		g = sk_GENERAL_NAME_value(gens, 0);
		if (g->type == GEN_DNS) {
			first = g->d.dNSName;
			if (ASN1_STRING_length(first) > 0 &&
			    forge_utf8_len((const char *)ASN1_STRING_get0_data(first),
			    ASN1_STRING_length(first)) < 64 &&
			    memchr(ASN1_STRING_get0_data(first), '\0',
			    (size_t)ASN1_STRING_length(first)) == NULL) {
				has_cn = X509_NAME_add_entry_by_NID(subj, NID_commonName,
				    MBSTRING_UTF8, ASN1_STRING_get0_data(first),
				    ASN1_STRING_length(first), -1, 0);
			}
		} else if (g->type == GEN_IPADD) {
			int alen = ASN1_STRING_length(g->d.iPAddress);
			if ((alen == 4 || alen == 16) && inet_ntop(alen == 4 ? AF_INET :
			    AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), buf,
			    sizeof(buf)) != NULL) {
				has_cn = X509_NAME_add_entry_by_NID(subj, NID_commonName,
				    MBSTRING_ASC, (unsigned char *)buf, -1, -1, 0);
			}
		}
		ERR_clear_error();
	}
	if (o != NULL && olen > 0 &&
	    !X509_NAME_add_entry_by_NID(subj, NID_organizationName, MBSTRING_UTF8,
	    (unsigned char *)o, olen, -1, 0))
		ERR_clear_error();	/* e.g. over the length bound: mitmproxy would fail too */
	if (!X509_set_subject_name(x, subj))
		goto out;
	if (sk_GENERAL_NAME_num(gens) > 0 &&
	    X509_add1_ext_i2d(x, NID_subject_alt_name, gens, !has_cn, X509V3_ADD_DEFAULT) != 1)
		goto out;
	rv = 0;
out:
	if (rv == -1 && !caused)
		util_cause(cause, "mitmproxy names: %s", log_ssl_reason());
	OPENSSL_free(cn);
	OPENSSL_free(o);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(subj);
	return rv;
}

/* squid: serial = SHA-1(signing cert DER || TBS of x with a provisional serial/key). The
 * provisional certificate is signed once so that its TBS carries the signature algorithm;
 * x gets its own key back afterwards. */
static int
forge_serial_squid(X509 *x, X509 *issuer, EVP_PKEY *issuer_key, char **cause)
{
	unsigned char spki_md[20], md[20], *der = NULL, *tbs = NULL;
	unsigned int n = 20;
	int dlen, tlen, rv = -1;
	EVP_MD_CTX *mc = NULL;
	EVP_PKEY *leaf = X509_get_pubkey(x);	/* a reference: the provisional key replaces it */
	BIGNUM *bn = NULL;

	/* provisional serial: SHA-1 of the signing certificate's public key */
	if (X509_pubkey_digest(issuer, EVP_sha1(), spki_md, &n) != 1 ||
	    (bn = BN_bin2bn(spki_md, 20, NULL)) == NULL || forge_set_serial(x, bn) == -1 ||
	    !X509_set_pubkey(x, X509_get0_pubkey(issuer)) ||
	    X509_sign(x, issuer_key, EVP_sha256()) <= 0)
		goto out;
	if ((dlen = i2d_X509(issuer, &der)) <= 0 || (tlen = i2d_re_X509_tbs(x, &tbs)) <= 0)
		goto out;
	if ((mc = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(mc, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(mc, der, (size_t)dlen) != 1 ||
	    EVP_DigestUpdate(mc, tbs, (size_t)tlen) != 1 ||
	    EVP_DigestFinal_ex(mc, md, &n) != 1)
		goto out;
	md[0] &= 0x7f;		/* positive: clear bit 159 */
	if (BN_bin2bn(md, 20, bn) == NULL || forge_set_serial(x, bn) == -1 || leaf == NULL ||
	    !X509_set_pubkey(x, leaf))
		goto out;
	rv = 0;
out:
	if (rv == -1)
		util_cause(cause, "squid serial: %s", log_ssl_reason());
	EVP_PKEY_free(leaf);
	EVP_MD_CTX_free(mc);
	OPENSSL_free(der);
	OPENSSL_free(tbs);
	BN_free(bn);
	return rv;
}

/* kz2019 family body: subject, SAN, shifted validity, serial. */
static int
forge_body_kz(const struct forge_profile *p, X509 *x, X509 *orig, char **cause)
{
	time_t nb, na;

	if (pki_time_t(X509_get0_notBefore(orig), &nb) == -1 ||
	    pki_time_t(X509_get0_notAfter(orig), &na) == -1)
		return util_cause(cause, "upstream validity is not a valid time");
	if (forge_set_time(X509_getm_notBefore(x), nb, p->shift) == -1 ||
	    forge_set_time(X509_getm_notAfter(x), na, p->shift) == -1)
		return util_cause(cause, "shifted validity out of range");
	if (!X509_set_subject_name(x, X509_get_subject_name(orig)) ||
	    forge_copy_ext(x, orig, NID_subject_alt_name) == -1)
		return util_cause(cause, "copying subject/SAN: %s", log_ssl_reason());
	return forge_serial_kz(x, orig, cause);
}

/* sslsplit body. */
static int
forge_body_sslsplit(X509 *x, X509 *orig, const char *sni, X509 *issuer, EVP_PKEY *key,
    time_t now, char **cause)
{
	X509V3_CTX ctx;
	int rv;

	if (!X509_set_subject_name(x, X509_get_subject_name(orig)) ||
	    forge_set_time(X509_getm_notBefore(x), now, -FORGE_DAY) == -1 ||
	    forge_set_time(X509_getm_notAfter(x), now, 364 * FORGE_DAY) == -1)
		return util_cause(cause, "sslsplit fields: %s", log_ssl_reason());
	if (forge_serial_sslsplit(x, orig, cause) == -1)
		return -1;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if (pki_add_ext(&ctx, x, NID_subject_key_identifier, "hash") == -1 ||
	    pki_add_ext(&ctx, x, NID_authority_key_identifier, "keyid,issuer:always") == -1)
		return util_cause(cause, "SKI/AKI: %s", log_ssl_reason());
	if ((rv = forge_copy_ext(x, orig, NID_basic_constraints)) == 0)
		rv = pki_add_ext(&ctx, x, NID_basic_constraints, "CA:FALSE");
	if (rv == -1 || pki_add_ext(&ctx, x, NID_key_usage,
	    EVP_PKEY_base_id(key) == EVP_PKEY_RSA ? "digitalSignature,keyEncipherment" :
	    "digitalSignature") == -1)
		return util_cause(cause, "basicConstraints/keyUsage: %s", log_ssl_reason());
	if ((rv = forge_copy_ext(x, orig, NID_ext_key_usage)) == 0)
		rv = pki_add_ext(&ctx, x, NID_ext_key_usage, "serverAuth");
	if (rv == -1 || forge_san_sslsplit(x, orig, sni) == -1)
		return util_cause(cause, "EKU/SAN: %s", log_ssl_reason());
	return 0;
}

/* mitmproxy body. */
static int
forge_body_mitmproxy(X509 *x, X509 *orig, const char *sni, X509 *issuer, time_t now,
    char **cause)
{
	X509V3_CTX ctx;

	if (forge_set_time(X509_getm_notBefore(x), now, -2 * FORGE_DAY) == -1 ||
	    forge_set_time(X509_getm_notAfter(x), now, 199 * FORGE_DAY) == -1)
		return util_cause(cause, "mitmproxy validity: %s", log_ssl_reason());
	if (forge_serial_random(x, cause) == -1)
		return -1;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if (pki_add_ext(&ctx, x, NID_ext_key_usage, "serverAuth") == -1)
		return util_cause(cause, "EKU: %s", log_ssl_reason());
	if (forge_names_mitmproxy(x, orig, sni, cause) == -1)
		return -1;
	if (forge_add_akid(x, issuer) == -1)
		return util_cause(cause, "AKI: %s", log_ssl_reason());
	return 0;
}

/* squid mimic body. */
static int
forge_body_squid(X509 *x, X509 *orig, X509 *issuer, EVP_PKEY *issuer_key, char **cause)
{
	time_t t;

	if (pki_time_t(X509_get0_notBefore(orig), &t) == -1 ||
	    pki_time_t(X509_get0_notAfter(orig), &t) == -1)
		return util_cause(cause, "upstream validity is not a valid time");
	if (!X509_set_subject_name(x, X509_get_subject_name(orig)) ||
	    !X509_set1_notBefore(x, X509_get0_notBefore(orig)) ||
	    !X509_set1_notAfter(x, X509_get0_notAfter(orig)) ||
	    forge_copy_ext(x, orig, NID_key_usage) == -1 ||
	    forge_copy_ext(x, orig, NID_ext_key_usage) == -1 ||
	    forge_copy_ext(x, orig, NID_basic_constraints) == -1 ||
	    forge_copy_ext(x, orig, NID_subject_alt_name) == -1)
		return util_cause(cause, "squid copy: %s", log_ssl_reason());
	if (forge_add_akid(x, issuer) == -1)
		return util_cause(cause, "AKI: %s", log_ssl_reason());
	return forge_serial_squid(x, issuer, issuer_key, cause);
}

/* Forge a leaf for orig under issuer by profile p. */
X509 *
forge_cert(const struct forge_profile *p, X509 *orig, const char *sni, EVP_PKEY *leafkey,
    X509 *issuer, EVP_PKEY *issuer_key, time_t now, char **cause)
{
	EVP_PKEY *key = leafkey;
	X509 *x;
	int rv = -1;

	if (p == NULL || orig == NULL || issuer == NULL || issuer_key == NULL) {
		util_cause(cause, "forge: missing profile, certificate or issuer");
		return NULL;
	}
	if (p->keymode == FORGE_KEY_CA)
		key = issuer_key;	/* mitmproxy: the leaf's public key is the CA's */
	if (key == NULL) {
		util_cause(cause, "forge %s: no leaf key supplied", p->name);
		return NULL;
	}
	if (sni != NULL && strlen(sni) > 255) {
		util_cause(cause, "forge %s: SNI longer than 255 bytes", p->name);
		return NULL;
	}
	if ((x = X509_new()) == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	/* The key goes in before the body: sslsplit's subjectKeyIdentifier "hash" is computed
	 * from it, as sslsplit does (set after, every such leaf had SHA-1 of an empty key). */
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(issuer)) ||
	    !X509_set_pubkey(x, pki_key_certpub(key))) {
		util_cause(cause, "forge %s: %s", p->name, log_ssl_reason());
		goto out;
	}
	switch (p->kind) {
	case FORGE_KZ2019:
		rv = forge_body_kz(p, x, orig, cause);
		break;
	case FORGE_SSLSPLIT:
		rv = forge_body_sslsplit(x, orig, sni, issuer, key, now, cause);
		break;
	case FORGE_MITMPROXY:
		rv = forge_body_mitmproxy(x, orig, sni, issuer, now, cause);
		break;
	case FORGE_SQUID:
		rv = forge_body_squid(x, orig, issuer, issuer_key, cause);
		break;
	}
	if (rv == 0 && X509_sign(x, issuer_key, EVP_sha256()) <= 0) {
		util_cause(cause, "forge %s: signing: %s", p->name, log_ssl_reason());
		rv = -1;
	}
out:
	ERR_clear_error();
	if (rv == -1) {
		X509_free(x);
		return NULL;
	}
	return x;
}
