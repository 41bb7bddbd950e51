/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_chainsig — detect-chain's certificate facts (analyzers/detect-chain/chainsig.c, built
 * into this test): a chain verifies to its own root and not to another, RSA exponent 3 and
 * a SAN-only leaf are seen, validity is read, the known-interception list matches the names
 * the lab's national chains carry and not the web PKI's, verify errors are classed. Keys and
 * certificates are made in setup (small RSA keys: speed, not security).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "../../analyzers/detect-chain/chainsig.c"

/* An RSA key with exponent e. */
static EVP_PKEY *
key(unsigned e)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	EVP_PKEY *k = NULL;
	BIGNUM *bn = BN_new();

	BN_set_word(bn, e);
	assert_int_equal(EVP_PKEY_keygen_init(c), 1);
	EVP_PKEY_CTX_set_rsa_keygen_bits(c, 1024);
	EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, bn);
	assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
	BN_free(bn);
	EVP_PKEY_CTX_free(c);
	return k;
}

/* A certificate for cn with key k signed by (issuer, ik); self-signed CA when issuer NULL. */
static X509 *
cert(const char *cn, EVP_PKEY *k, X509 *issuer, EVP_PKEY *ik, int san_only)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v;
	X509_EXTENSION *ext;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	ASN1_TIME_set(X509_getm_notBefore(x), 1700000000);
	ASN1_TIME_set(X509_getm_notAfter(x), 1800000000);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (issuer == NULL) {
		ext = X509V3_EXT_conf_nid(NULL, &v, NID_basic_constraints, "critical,CA:TRUE");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	} else {
		ext = X509V3_EXT_conf_nid(NULL, &v, NID_subject_alt_name, "DNS:example.test");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
		if (!san_only) {
			ext = X509V3_EXT_conf_nid(NULL, &v, NID_ext_key_usage, "serverAuth");
			X509_add_ext(x, ext, -1);
			X509_EXTENSION_free(ext);
		}
	}
	assert_true(X509_sign(x, ik != NULL ? ik : k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

/* PEM text (malloc'd). */
static char *
pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out;
	long l;

	PEM_write_bio_X509(b, x);
	l = BIO_get_mem_data(b, &p);
	out = strndup(p, (size_t)l);
	BIO_free(b);
	return out;
}

static void
test_chain(void **state)
{
	EVP_PKEY *rk = key(65537), *ok = key(65537), *lk = key(3);
	X509 *root = cert("Lab Web Root", rk, NULL, NULL, 0);
	X509 *other = cert("Qaznet Trust Network (LAB mock)", ok, NULL, NULL, 0);
	X509 *good = cert("good.test", ok, root, rk, 0);
	X509 *forged = cert("forged.test", lk, other, ok, 1);
	char *p[2] = { pem(good), pem(forged) }, why[160];
	const char *one[1];
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *sk;
	struct chainsig_leaf lf;

	(void)state;
	X509_STORE_add_cert(store, root);
	one[0] = p[0];
	assert_non_null(sk = chainsig_parse(one, 1));
	assert_int_equal(chainsig_leads_to(sk, store, why, sizeof(why)), 1);
	assert_int_equal(chainsig_describe(sk_X509_value(sk, 0), &lf), 0);
	assert_int_equal(lf.rsa_exponent, 65537);
	assert_false(lf.only_san);
	assert_int_equal(lf.next, 2);
	assert_int_equal(lf.not_before, 1700000000);
	assert_int_equal(lf.not_after, 1800000000);
	assert_string_equal(lf.subject, "CN=good.test");
	assert_string_equal(lf.issuer, "CN=Lab Web Root");
	chainsig_free(sk);
	one[0] = p[1];
	assert_non_null(sk = chainsig_parse(one, 1));
	assert_int_equal(chainsig_leads_to(sk, store, why, sizeof(why)), 0);
	assert_true(strlen(why) > 0);
	assert_int_equal(chainsig_describe(sk_X509_value(sk, 0), &lf), 0);
	assert_int_equal(lf.rsa_exponent, 3);
	assert_true(lf.only_san);
	chainsig_free(sk);
	one[0] = "not a certificate";
	assert_null(chainsig_parse(one, 1));
	free(p[0]);
	free(p[1]);
	X509_STORE_free(store);
	X509_free(root);
	X509_free(other);
	X509_free(good);
	X509_free(forged);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ok);
	EVP_PKEY_free(lk);
}

static void
test_patterns(void **state)
{
	struct chainsig_patterns p;
	static const struct { const char *name; int hit; } t[] = {
		{ "CN=Qaznet Trust Network (LAB mock),OU=mitmlab lab - not a real CA,C=KZ", 1 },
		{ "CN=Security Certificate (LAB mock),OU=mitmlab lab - not a real CA,C=KZ", 1 },
		{ "CN=Information Security Certification Authority CA (LAB mock),C=KZ", 1 },
		{ "CN=ISCA-7 (LAB mock),O=ISCA,C=KZ", 1 },
		{ "CN=Lab Web CA 1 (LAB mock),O=mitmlab web PKI,C=XX", 0 },
		{ "CN=mitmlab LAB root (LAB mock),OU=mitmlab,C=XX", 0 },
		{ "CN=Network Security Certificates,O=Example,C=US", 0 },
	};
	size_t i;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(chainsig_patterns_load(&p, "analyzers/detect-chain/known-interception.txt"),
	    0);
	assert_true(p.n >= 4);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(chainsig_patterns_match(&p, t[i].name) != NULL, t[i].hit);
	assert_null(chainsig_patterns_match(&p, NULL));
	assert_int_equal(chainsig_patterns_load(&p, "/nonexistent"), -1);
	chainsig_patterns_free(&p);
	assert_int_equal(p.n, 0);
}

static void
test_issuer_error(void **state)
{
	(void)state;
	assert_true(chainsig_issuer_error("unable to get local issuer certificate"));
	assert_true(chainsig_issuer_error("self-signed certificate in certificate chain"));
	assert_true(chainsig_issuer_error("self signed certificate"));
	assert_false(chainsig_issuer_error("certificate has expired"));
	assert_false(chainsig_issuer_error("hostname mismatch"));
	assert_false(chainsig_issuer_error(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_issuer_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
