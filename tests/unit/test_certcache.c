/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_certcache — hit and miss, LRU eviction order, capacity 1, replacing an entry, the key
 * derivation (certificate, profile, SNI), the stored facts, the byte budget (entries of normal
 * size fill the cache by count; large ones are evicted by bytes or not kept), and reference
 * counting (the
 * cache's references outlive the caller's; run under SAN=1 to see leaks or double frees).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "certcache.h"
#include "lru.h"
#include "pki.h"

/* A distinct throw-away certificate (serial n). */
static X509 *
cert(long n)
{
	X509 *x = X509_new();

	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), n);
	return x;
}

/* A key made of byte b. */
static void
key(unsigned char k[32], unsigned char b)
{
	memset(k, b, 32);
}

/* Whether key b is cached, and if so its serial. */
static long
lookup(struct certcache *cc, unsigned char b)
{
	unsigned char k[32];
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;
	long serial;

	key(k, b);
	if (!certcache_get(cc, k, &x, &pk, NULL))
		return -1;
	serial = ASN1_INTEGER_get(X509_get0_serialNumber(x));
	X509_free(x);
	EVP_PKEY_free(pk);
	return serial;
}

/* Insert serial n under key b with key pk and facts (either may be NULL); the cache takes its
 * own references. */
static void
put(struct certcache *cc, unsigned char b, long n, EVP_PKEY *pk, json_t *facts)
{
	unsigned char k[32];
	X509 *x = cert(n);

	key(k, b);
	certcache_put(cc, k, x, pk, facts);
	X509_free(x);
}

/* Miss, then hit with the stored certificate and key; stats count both. */
static void
test_hit_miss(void **state)
{
	struct certcache *cc = certcache_new(4);
	EVP_PKEY *pk = pki_keygen(0, 0, NULL), *got = NULL;
	struct certcache_stats st;
	unsigned char k[32];
	X509 *x = NULL;

	(void)state;
	assert_int_equal(lookup(cc, 1), -1);
	put(cc, 1, 100, pk, NULL);
	key(k, 1);
	assert_int_equal(certcache_get(cc, k, &x, &got, NULL), 1);
	assert_ptr_equal(got, pk);
	assert_int_equal(ASN1_INTEGER_get(X509_get0_serialNumber(x)), 100);
	X509_free(x);
	EVP_PKEY_free(got);
	EVP_PKEY_free(pk);	/* the cache still holds a reference */
	assert_int_equal(lookup(cc, 1), 100);
	certcache_stats(cc, &st);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.capacity, 4);
	certcache_free(cc);
}

/* The least recently used entry goes first; a get refreshes an entry. */
static void
test_lru_order(void **state)
{
	struct certcache *cc = certcache_new(3);
	struct certcache_stats st;

	(void)state;
	put(cc, 1, 1, NULL, NULL);
	put(cc, 2, 2, NULL, NULL);
	put(cc, 3, 3, NULL, NULL);
	assert_int_equal(lookup(cc, 1), 1);	/* order now 1,3,2 (most recent first) */
	put(cc, 4, 4, NULL, NULL);			/* evicts 2 */
	assert_int_equal(lookup(cc, 2), -1);
	assert_int_equal(lookup(cc, 3), 3);
	put(cc, 5, 5, NULL, NULL);			/* evicts 1 */
	assert_int_equal(lookup(cc, 1), -1);
	assert_int_equal(lookup(cc, 3), 3);
	assert_int_equal(lookup(cc, 4), 4);
	assert_int_equal(lookup(cc, 5), 5);
	certcache_stats(cc, &st);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(st.entries, 3);
	certcache_free(cc);
}

/* Capacity 1: every new key replaces the only entry. */
static void
test_capacity_one(void **state)
{
	struct certcache *cc = certcache_new(1);
	int i;

	(void)state;
	assert_null(certcache_new(0));
	for (i = 1; i <= 50; i++) {
		put(cc, (unsigned char)i, i, NULL, NULL);
		assert_int_equal(lookup(cc, (unsigned char)i), i);
		if (i > 1)
			assert_int_equal(lookup(cc, (unsigned char)(i - 1)), -1);
	}
	certcache_free(cc);
}

/* Putting an existing key replaces its value without growing or evicting. */
static void
test_replace(void **state)
{
	struct certcache *cc = certcache_new(2);
	struct certcache_stats st;

	(void)state;
	put(cc, 1, 10, NULL, NULL);
	put(cc, 2, 20, NULL, NULL);
	put(cc, 1, 11, NULL, NULL);	/* 1 becomes most recent */
	assert_int_equal(lookup(cc, 1), 11);
	certcache_stats(cc, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evictions, 0);
	put(cc, 3, 30, NULL, NULL);	/* evicts 2, the least recent */
	assert_int_equal(lookup(cc, 2), -1);
	assert_int_equal(lookup(cc, 1), 11);
	certcache_free(cc);
}

/* Insert serial n under key b with facts of len bytes (a serialized proxy.forge). */
static void
put_facts(struct certcache *cc, unsigned char b, long n, size_t len)
{
	char *s = malloc(len + 1);
	json_t *facts;

	assert_non_null(s);
	memset(s, 'x', len);
	s[len] = '\0';
	facts = json_string(s);
	free(s);
	put(cc, b, n, NULL, facts);
	json_decref(facts);
}

/* Normal entries (a few KiB of facts) fill 4 places by count; 100 KiB ones are evicted by
 * bytes (the budget is 4 x 64 KiB: two fit) and a 300 KiB one is not kept at all. */
static void
test_byte_budget(void **state)
{
	struct certcache *cc = certcache_new(4);
	struct certcache_stats st;
	int i;

	(void)state;
	for (i = 1; i <= 4; i++)
		put_facts(cc, (unsigned char)i, i, 6000);
	certcache_stats(cc, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.evictions, 0);
	for (i = 1; i <= 4; i++)
		assert_int_equal(lookup(cc, (unsigned char)i), i);
	for (i = 11; i <= 13; i++)
		put_facts(cc, (unsigned char)i, i, 100 * 1024);
	certcache_stats(cc, &st);
	assert_true(st.bytes <= 4 * LRU_ENTRY_BUDGET);
	assert_int_equal(st.entries, 2);
	assert_int_equal(lookup(cc, 13), 13);
	assert_int_equal(lookup(cc, 12), 12);
	assert_int_equal(lookup(cc, 11), -1);
	assert_int_equal(lookup(cc, 4), -1);
	put_facts(cc, 20, 20, 300 * 1024);
	certcache_stats(cc, &st);
	assert_int_equal(st.too_big, 1);
	assert_int_equal(lookup(cc, 20), -1);
	assert_int_equal(lookup(cc, 13), 13);	/* a refused entry evicts nothing */
	certcache_free(cc);
}

/* Many keys colliding in a small table stay retrievable; evicted entries are freed. */
static void
test_many(void **state)
{
	struct certcache *cc = certcache_new(64);
	unsigned char k[32];
	X509 *x;
	EVP_PKEY *pk;
	int i, hits = 0;

	(void)state;
	for (i = 0; i < 1000; i++) {
		memset(k, 0, 32);
		k[31] = (unsigned char)i;
		k[30] = (unsigned char)(i >> 8);	/* same bucket bytes: one long chain */
		x = cert(i);
		certcache_put(cc, k, x, NULL, NULL);
		X509_free(x);
	}
	for (i = 0; i < 1000; i++) {
		memset(k, 0, 32);
		k[31] = (unsigned char)i;
		k[30] = (unsigned char)(i >> 8);
		if (certcache_get(cc, k, &x, &pk, NULL)) {
			assert_int_equal(ASN1_INTEGER_get(X509_get0_serialNumber(x)), i);
			assert_true(i >= 1000 - 64);
			X509_free(x);
			hits++;
		}
	}
	assert_int_equal(hits, 64);
	certcache_free(cc);
}

/* The key depends on both the certificate and the profile name. */
static void
test_key(void **state)
{
	X509 *a = cert(1), *b = cert(2), *bare = cert(3);
	EVP_PKEY *pk = pki_keygen(0, 0, NULL);
	unsigned char k1[32], k2[32], k3[32], k4[32];

	(void)state;
	assert_int_equal(certcache_key(bare, "kz2019", NULL, k1), -1);	/* not encodable */
	X509_set_pubkey(a, pk);
	X509_set_pubkey(b, pk);
	assert_true(X509_sign(a, pk, EVP_sha256()) > 0);
	assert_true(X509_sign(b, pk, EVP_sha256()) > 0);
	assert_int_equal(certcache_key(a, "kz2019", "a.test", k1), 0);
	assert_int_equal(certcache_key(a, "kz2019", "a.test", k2), 0);
	assert_int_equal(certcache_key(a, "squid", "a.test", k3), 0);
	assert_int_equal(certcache_key(b, "kz2019", "a.test", k4), 0);
	assert_memory_equal(k1, k2, 32);
	assert_memory_not_equal(k1, k3, 32);
	assert_memory_not_equal(k1, k4, 32);
	/* another SNI (or none) on the same certificate is another entry */
	assert_int_equal(certcache_key(a, "kz2019", "b.test", k2), 0);
	assert_memory_not_equal(k1, k2, 32);
	assert_int_equal(certcache_key(a, "kz2019", NULL, k2), 0);
	assert_memory_not_equal(k1, k2, 32);
	/* the profile and SNI do not run together: ("ab", "c") differs from ("a", "bc") */
	assert_int_equal(certcache_key(a, "ab", "c", k3), 0);
	assert_int_equal(certcache_key(a, "a", "bc", k4), 0);
	assert_memory_not_equal(k3, k4, 32);
	X509_free(a);
	X509_free(b);
	X509_free(bare);
	EVP_PKEY_free(pk);
}

/* The facts stored with an entry come back as a new reference and outlive the caller's. */
static void
test_facts(void **state)
{
	struct certcache *cc = certcache_new(2);
	json_t *facts = json_pack("{s:i}", "key_bits", 2048), *got = NULL;
	unsigned char k[32];
	X509 *x = cert(7), *gx = NULL;

	(void)state;
	key(k, 9);
	certcache_put(cc, k, x, NULL, facts);
	json_decref(facts);	/* the cache still holds a reference */
	X509_free(x);
	assert_int_equal(certcache_get(cc, k, &gx, NULL, &got), 1);
	assert_non_null(got);
	assert_int_equal(json_integer_value(json_object_get(got, "key_bits")), 2048);
	json_decref(got);
	X509_free(gx);
	put(cc, 9, 8, NULL, NULL);	/* replacing drops the old facts */
	assert_int_equal(certcache_get(cc, k, &gx, NULL, &got), 1);
	assert_null(got);
	X509_free(gx);
	certcache_free(cc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_miss),
		cmocka_unit_test(test_lru_order),
		cmocka_unit_test(test_capacity_one),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_byte_budget),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_facts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
