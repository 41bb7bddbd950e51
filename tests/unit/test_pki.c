/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pki — pki_ca_init for every profile: names with the lab marker, key sizes and
 * exponents, validity windows, CA extensions, chain verification at the right time (and the
 * isca-2024 expired intermediate failing), file modes, ca.json, and --seed reproducibility;
 * and the public-only twin that puts a key into certificates without OpenSSL 3.0's encoder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "util.h"

/* UTC midnight. */
static time_t
day(int y, int m, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	return timegm(&tm);
}

/* A fresh CA directory of profile made at now. */
static char *
make_ca(const char *profile, uint64_t seed, time_t now)
{
	char tmpl[] = "/tmp/test_pki.XXXXXX", *dir, *cause = NULL;

	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(asprintf(&dir, "%s/ca", tmpl), (int)strlen(tmpl) + 3);
	if (pki_ca_init(dir, profile, seed, now, &cause) != 0)
		fail_msg("pki_ca_init %s: %s", profile, cause);
	return dir;
}

/* Remove a CA directory made by make_ca. */
static void
rm_ca(char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 3), dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

/* Read dir/name as a certificate. */
static X509 *
cert_at(const char *dir, const char *name)
{
	char path[512], *cause = NULL;
	X509 *x;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	x = pki_read_cert(path, &cause);
	if (x == NULL)
		fail_msg("%s", cause);
	return x;
}

/* Text of the first entry nid of the subject. */
static const char *
subj(X509 *x, int nid, char *buf, size_t len)
{
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), nid, buf, (int)len) < 0)
		buf[0] = '\0';
	return buf;
}

/* Seconds since the epoch of an ASN1_TIME. */
static time_t
tt(const ASN1_TIME *t)
{
	struct tm tm;

	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return timegm(&tm);
}

/* X509_verify_cert result code for leaf with chain under root at time at. */
static int
verify_at(X509 *root, STACK_OF(X509) *chain, X509 *leaf, time_t at)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rv;

	X509_STORE_add_cert(st, root);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, chain), 1);
	X509_STORE_CTX_set_time(ctx, 0, at);
	rv = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rv;
}

/* RSA modulus bits and exponent of a certificate's key. */
static void
rsa_params(X509 *x, int *bits, unsigned long *e)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	BIGNUM *bn = NULL;

	assert_int_equal(EVP_PKEY_base_id(pk), EVP_PKEY_RSA);
	*bits = EVP_PKEY_get_bits(pk);
	assert_int_equal(EVP_PKEY_get_bn_param(pk, "e", &bn), 1);
	*e = BN_get_word(bn);
	BN_free(bn);
}

/* File mode bits of dir/name. */
static unsigned
mode_of(const char *dir, const char *name)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_mode & 07777;
}

/* CA extensions: critical CA:TRUE with pathlen, critical keyCertSign|cRLSign, SKI+AKI. */
static void
check_ca_exts(X509 *x, long pathlen)
{
	BASIC_CONSTRAINTS *bc;
	int crit = -1;

	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_true(bc->ca);
	if (pathlen < 0)
		assert_null(bc->pathlen);
	else
		assert_int_equal(ASN1_INTEGER_get(bc->pathlen), pathlen);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_true(X509_get_extension_flags(x) & EXFLAG_CA);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x,
	    X509_get_ext_by_NID(x, NID_key_usage, -1))), 1);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
}

/* kz-2019: names, keys, dates, extensions, chain, modes, ca.json. */
static void
test_kz2019(void **state)
{
	time_t date = day(2019, 7, 17);
	char *dir = make_ca("kz-2019", 42, date), buf[256], path[512], hex[65], *cause = NULL;
	X509 *root = cert_at(dir, "root.pem"), *in = cert_at(dir, "int-1.pem");
	struct pki_ca *ca;
	unsigned char d[32];
	unsigned long e;
	json_t *j, *c;
	int bits;

	(void)state;
	assert_string_equal(subj(root, NID_commonName, buf, sizeof(buf)),
	    "Qaznet Trust Network (LAB mock)");
	assert_string_equal(subj(root, NID_countryName, buf, sizeof(buf)), "KZ");
	assert_non_null(strstr(subj(root, NID_organizationalUnitName, buf, sizeof(buf)),
	    "not a real CA"));
	assert_string_equal(subj(in, NID_commonName, buf, sizeof(buf)),
	    "Security Certificate (LAB mock)");
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(in), X509_get_subject_name(root)), 0);
	rsa_params(root, &bits, &e);
	assert_int_equal(bits, 4096);
	rsa_params(in, &bits, &e);
	assert_int_equal(bits, 2048);
	assert_int_equal(e, 65537);
	assert_int_equal(tt(X509_get0_notBefore(root)), day(2016, 2, 2));
	assert_int_equal(tt(X509_get0_notAfter(root)), day(2046, 2, 2));
	assert_int_equal(tt(X509_get0_notBefore(in)), date);
	assert_int_equal(tt(X509_get0_notAfter(in)), day(2022, 7, 17));
	assert_int_equal(X509_get_signature_nid(in), NID_sha256WithRSAEncryption);
	check_ca_exts(root, -1);
	check_ca_exts(in, 0);
	assert_int_equal(verify_at(root, NULL, in, date + 3600), X509_V_OK);
	assert_int_equal(verify_at(root, NULL, in, date - 3600), X509_V_ERR_CERT_NOT_YET_VALID);
	{	/* Squid's untrusted CA for the issuer: its name, its own key, self-signed */
		X509 *u;
		EVP_PKEY *uk;
		assert_int_equal(pki_untrusted_ca(in, &u, &uk, &cause), 0);
		assert_string_equal(subj(u, NID_commonName, buf, sizeof(buf)),
		    "Not trusted by \"Security Certificate (LAB mock)\"");
		assert_string_equal(subj(u, NID_countryName, buf, sizeof(buf)), "KZ");
		assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(u), X509_get_subject_name(u)), 0);
		assert_int_equal(X509_verify(u, uk), 1);
		assert_int_equal(X509_check_ca(u), 1);
		assert_int_equal(EVP_PKEY_eq(uk, X509_get0_pubkey(in)), 0);
		assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(u), X509_get0_notAfter(in)), 0);
		assert_int_equal(verify_at(root, NULL, u, date + 3600), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
		X509_free(u);
		EVP_PKEY_free(uk);
	}

	assert_int_equal(mode_of(dir, "."), 0700);
	assert_int_equal(mode_of(dir, "root.key"), 0600);
	assert_int_equal(mode_of(dir, "int-1.key"), 0600);
	assert_int_equal(mode_of(dir, "issuer.key"), 0600);

	ca = pki_ca_load(dir, &cause);
	if (ca == NULL)
		fail_msg("%s", cause);
	assert_int_equal(X509_cmp(pki_ca_issuer(ca), in), 0);
	assert_int_equal(X509_cmp(pki_ca_root(ca), root), 0);
	assert_int_equal(sk_X509_num(pki_ca_chain(ca)), 1);
	assert_int_equal(X509_cmp(sk_X509_value(pki_ca_chain(ca), 0), in), 0);
	assert_int_equal(X509_check_private_key(in, pki_ca_issuer_key(ca)), 1);

	snprintf(path, sizeof(path), "%s/ca.json", dir);
	assert_non_null(j = json_load_file(path, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(j, "profile")), "kz-2019");
	assert_string_equal(json_string_value(json_object_get(j, "seed")), "42");
	assert_string_equal(json_string_value(json_object_get(j, "issuer")), "int-1");
	assert_int_equal(json_array_size(json_object_get(j, "certs")), 2);
	c = json_array_get(json_object_get(j, "certs"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "role")), "root");
	assert_int_equal(pki_cert_sha256(root, d), 0);
	assert_string_equal(json_string_value(json_object_get(c, "sha256")), util_hex(d, 32, hex));
	assert_int_equal(pki_spki_sha256(root, d), 0);
	assert_string_equal(json_string_value(json_object_get(c, "spki_sha256")),
	    util_hex(d, 32, hex));
	assert_string_equal(json_string_value(json_object_get(c, "not_before")),
	    "2016-02-02T00:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(c, "key_bits")), 4096);
	assert_non_null(strstr(json_string_value(json_object_get(c, "subject")),
	    "CN=Qaznet Trust Network (LAB mock)"));
	c = json_array_get(json_object_get(j, "certs"), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "exponent")), 65537);
	json_decref(j);
	pki_ca_free(ca);
	X509_free(root);
	X509_free(in);
	rm_ca(dir);
}

/* kz-2020: root name and real dates; the assumed intermediate chains to it. */
static void
test_kz2020(void **state)
{
	time_t date = day(2020, 12, 6);
	char *dir = make_ca("kz-2020", 7, date), buf[256];
	X509 *root = cert_at(dir, "root.pem"), *in = cert_at(dir, "issuer.pem");
	unsigned long e;
	int bits;

	(void)state;
	assert_string_equal(subj(root, NID_commonName, buf, sizeof(buf)),
	    "Information Security Certification Authority CA (LAB mock)");
	assert_int_equal(tt(X509_get0_notBefore(root)), day(2020, 2, 28));
	assert_int_equal(tt(X509_get0_notAfter(root)), day(2040, 2, 28));
	rsa_params(root, &bits, &e);
	assert_int_equal(bits, 4096);
	rsa_params(in, &bits, &e);
	assert_int_equal(bits, 2048);
	assert_int_equal(tt(X509_get0_notAfter(in)), day(2023, 12, 6));
	check_ca_exts(in, 0);
	assert_int_equal(verify_at(root, NULL, in, date + 60), X509_V_OK);
	X509_free(root);
	X509_free(in);
	rm_ca(dir);
}

/* isca-2024: seven consecutive 75-day intermediates; the 6th expired, the 7th issues. */
static void
test_isca2024(void **state)
{
	time_t date = day(2024, 3, 1), prev_na = 0;
	char *dir = make_ca("isca-2024", 9, date), buf[256], name[32], path[512];
	X509 *root = cert_at(dir, "root.pem"), *x;
	struct pki_ca *ca, *old;
	json_t *j;
	int i;

	(void)state;
	assert_string_equal(subj(root, NID_organizationName, buf, sizeof(buf)), "ISCA");
	assert_string_equal(subj(root, NID_commonName, buf, sizeof(buf)),
	    "Information Security Certification Authority CA (LAB mock)");
	for (i = 1; i <= 7; i++) {
		snprintf(name, sizeof(name), "int-%d.pem", i);
		x = cert_at(dir, name);
		/* the issuer OONI saw, a name the root does not share */
		assert_string_equal(subj(x, NID_commonName, buf, sizeof(buf)),
		    "Information Security Certification Authority (LAB mock)");
		assert_string_equal(subj(x, NID_organizationName, buf, sizeof(buf)), "ISCA");
		assert_int_not_equal(X509_NAME_cmp(X509_get_subject_name(x),
		    X509_get_subject_name(root)), 0);
		assert_int_equal(tt(X509_get0_notAfter(x)) - tt(X509_get0_notBefore(x)),
		    75 * 86400);
		if (i > 1)
			assert_int_equal(tt(X509_get0_notBefore(x)), prev_na);
		prev_na = tt(X509_get0_notAfter(x));
		if (i == 6)
			assert_true(prev_na < date);
		if (i == 7)
			assert_true(tt(X509_get0_notBefore(x)) <= date && prev_na > date);
		X509_free(x);
	}
	assert_non_null(ca = pki_ca_load(dir, NULL));
	assert_non_null(old = pki_ca_load_expired(dir, NULL));
	x = cert_at(dir, "int-7.pem");
	assert_int_equal(X509_cmp(pki_ca_issuer(ca), x), 0);
	X509_free(x);
	x = cert_at(dir, "int-6.pem");
	assert_int_equal(X509_cmp(pki_ca_issuer(old), x), 0);
	assert_int_equal(X509_cmp(sk_X509_value(pki_ca_chain(old), 0), x), 0);
	X509_free(x);
	assert_int_equal(X509_check_private_key(pki_ca_issuer(old), pki_ca_issuer_key(old)), 1);
	assert_int_equal(verify_at(root, NULL, pki_ca_issuer(ca), date), X509_V_OK);
	assert_int_equal(verify_at(root, NULL, pki_ca_issuer(old), date),
	    X509_V_ERR_CERT_HAS_EXPIRED);
	snprintf(path, sizeof(path), "%s/ca.json", dir);
	assert_non_null(j = json_load_file(path, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(j, "issuer")), "int-7");
	assert_string_equal(json_string_value(json_object_get(j, "issuer_expired")), "int-6");
	assert_non_null(strstr(json_string_value(json_object_get(j, "assumption")),
	    "root's name"));
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(j, "certs"), 6),
	    "expired_at_date")));
	assert_true(json_is_false(json_object_get(json_array_get(json_object_get(j, "certs"), 7),
	    "expired_at_date")));
	json_decref(j);
	pki_ca_free(ca);
	pki_ca_free(old);
	X509_free(root);
	rm_ca(dir);
}

/* plain: ECDSA P-256 with ecdsa-with-SHA256; same seed = same serials. */
static void
test_plain_and_seed(void **state)
{
	time_t now = time(NULL) - 86400;
	char *a = make_ca("plain", 1234, now), *b = make_ca("plain", 1234, now);
	char *c = make_ca("plain", 1235, now), buf[256];
	X509 *ra = cert_at(a, "root.pem"), *rb = cert_at(b, "root.pem"), *rc = cert_at(c, "root.pem");
	X509 *ia = cert_at(a, "issuer.pem"), *ib = cert_at(b, "issuer.pem");

	(void)state;
	assert_string_equal(subj(ra, NID_commonName, buf, sizeof(buf)),
	    "mitmlab LAB root (LAB mock)");
	assert_string_equal(subj(ra, NID_countryName, buf, sizeof(buf)), "XX");
	assert_int_equal(EVP_PKEY_base_id(X509_get0_pubkey(ia)), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(ia)), 256);
	assert_int_equal(X509_get_signature_nid(ia), NID_ecdsa_with_SHA256);
	assert_int_equal(verify_at(ra, NULL, ia, time(NULL)), X509_V_OK);
	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(ra), X509_get0_serialNumber(rb)), 0);
	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(ia), X509_get0_serialNumber(ib)), 0);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(ra),
	    X509_get0_serialNumber(ia)), 0);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(ra),
	    X509_get0_serialNumber(rc)), 0);
	/* keys are not seeded */
	assert_int_not_equal(X509_cmp(ra, rb), 0);
	X509_free(ra); X509_free(rb); X509_free(rc); X509_free(ia); X509_free(ib);
	rm_ca(a); rm_ca(b); rm_ca(c);
}

/* mitmproxy: one self-signed RSA-2048 CA, no country, that is itself the issuer and the
 * whole served chain; ten years from two days before the date. */
static void
test_mitmproxy(void **state)
{
	time_t now = time(NULL) - 86400;
	char *dir = make_ca("mitmproxy", 5, now), buf[256], *cause = NULL;
	X509 *root = cert_at(dir, "root.pem"), *is = cert_at(dir, "issuer.pem");
	struct pki_ca *ca;
	unsigned long e;
	int bits;

	(void)state;
	assert_string_equal(subj(root, NID_commonName, buf, sizeof(buf)), "mitmproxy (LAB mock)");
	assert_string_equal(subj(root, NID_organizationName, buf, sizeof(buf)), "mitmproxy");
	assert_int_equal(X509_NAME_get_index_by_NID(X509_get_subject_name(root), NID_countryName,
	    -1), -1);
	assert_int_equal(X509_cmp(root, is), 0);
	rsa_params(root, &bits, &e);
	assert_int_equal(bits, 2048);
	assert_int_equal(tt(X509_get0_notBefore(root)), now - 2 * 86400);
	assert_int_equal(tt(X509_get0_notAfter(root)), now + 3650 * 86400);
	assert_non_null(ca = pki_ca_load(dir, &cause));
	assert_int_equal(sk_X509_num(pki_ca_chain(ca)), 1);
	assert_int_equal(X509_cmp(sk_X509_value(pki_ca_chain(ca), 0), root), 0);
	assert_int_equal(X509_cmp(pki_ca_issuer(ca), root), 0);
	pki_ca_free(ca);
	X509_free(root);
	X509_free(is);
	rm_ca(dir);
}

/* Unknown profile and missing directory give a cause naming the choices / the path. */
static void
test_errors(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_int_equal(pki_ca_init("/tmp/never-made", "kz-2091", 1, 0, &cause), -1);
	assert_non_null(strstr(cause, "kz-2091"));
	assert_non_null(strstr(cause, "kz-2019 kz-2020 isca-2024 plain"));
	free(cause);
	cause = NULL;
	assert_null(pki_ca_load("/nonexistent/ca", &cause));
	assert_non_null(strstr(cause, "/nonexistent/ca/root.pem"));
	free(cause);
	assert_null(pki_keygen(1, 3, NULL));
}

/* A self-signed certificate for pub, signed with priv; its SubjectPublicKeyInfo as DER. */
static int
spki_of(EVP_PKEY *pub, EVP_PKEY *priv, unsigned char **der, X509 **out)
{
	X509 *x = X509_new();
	int len;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(X509_set_pubkey(x, pub), 1);
	assert_true(X509_sign(x, priv, EVP_sha256()) > 0);
	*der = NULL;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), der);
	assert_true(len > 0);
	*out = x;
	return len;
}

/* The twin of k: another object, without the private part, that puts the same
 * SubjectPublicKeyInfo into a certificate as k, which k's private key then matches. */
static void
check_twin(EVP_PKEY *k)
{
	EVP_PKEY *t = pki_key_certpub(k);
	unsigned char *a, *b;
	X509 *xa, *xb;
	int la, lb;

	assert_non_null(t);
	assert_ptr_not_equal(t, k);
	/* the private key encodes, the twin has none to encode */
	assert_true(i2d_PrivateKey(k, NULL) > 0);
	assert_true(i2d_PrivateKey(t, NULL) <= 0);
	ERR_clear_error();
	la = spki_of(k, k, &a, &xa);
	lb = spki_of(t, k, &b, &xb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, (size_t)la);
	assert_int_equal(X509_check_private_key(xb, k), 1);
	assert_int_equal(X509_verify(xb, k), 1);
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_free(xa);
	X509_free(xb);
}

/* pki_keygen and pki_read_key give EC and RSA keys a public-only twin for certificates;
 * keys made elsewhere are their own. */
static void
test_certpub_twin(void **state)
{
	char tmpl[] = "/tmp/test_pki_twin.XXXXXX", path[64], *cause = NULL;
	EVP_PKEY *ec = pki_keygen(0, 0, NULL), *rsa = pki_keygen(2048, 3, NULL), *other, *read;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(ec);
	assert_non_null(rsa);
	check_twin(ec);
	check_twin(rsa);
	/* read back from PEM */
	assert_true((fd = mkstemp(tmpl)) >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s", tmpl);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(PEM_write_PrivateKey(f, ec, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	read = pki_read_key(path, &cause);
	unlink(path);
	assert_non_null(read);
	check_twin(read);
	/* not made by pki: no twin */
	assert_non_null(other = EVP_EC_gen("P-256"));
	assert_ptr_equal(pki_key_certpub(other), other);
	assert_null(pki_key_certpub(NULL));
	EVP_PKEY_free(other);
	EVP_PKEY_free(read);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

/* pki_time_t: both encodings read as UTC seconds; NULL and an unusable encoding give -1
 * with OpenSSL's error queue left empty. */
static void
test_time_t(void **state)
{
	ASN1_TIME *t = ASN1_TIME_new();
	time_t v = 0;

	(void)state;
	assert_non_null(t);
	assert_int_equal(ASN1_TIME_set_string(t, "250101000000Z"), 1);		/* UTCTime */
	assert_int_equal(pki_time_t(t, &v), 0);
	assert_int_equal((long long)v, 1735689600LL);
	assert_int_equal(ASN1_TIME_set_string(t, "20500101000000Z"), 1);	/* GeneralizedTime */
	assert_int_equal(pki_time_t(t, &v), 0);
	assert_int_equal((long long)v, 2524608000LL);
	assert_int_equal(pki_time_t(NULL, &v), -1);
	assert_int_equal(ASN1_STRING_set(t, "2501", 4), 1);			/* cut short */
	assert_int_equal(pki_time_t(t, &v), -1);
	assert_int_equal(ERR_peek_error(), 0);
	ASN1_TIME_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kz2019),
		cmocka_unit_test(test_kz2020),
		cmocka_unit_test(test_isca2024),
		cmocka_unit_test(test_mitmproxy),
		cmocka_unit_test(test_plain_and_seed),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_certpub_twin),
		cmocka_unit_test(test_time_t),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
