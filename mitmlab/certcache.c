/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * certcache — a bounded LRU of forged certificates for one worker thread, on lru.c. Values
 * hold their own references to the certificate, key and facts. No locking: the engine keeps
 * one cache per worker. Forging is the caller's job.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "certcache.h"
#include "lru.h"
#include "pki.h"

struct certcache_val {
	X509		*cert;
	EVP_PKEY	*pkey;
	json_t		*facts;
};

_Static_assert(LRU_KEYLEN == 32, "certcache keys are 32-byte lru keys");

struct certcache {
	struct lru		*map;
	struct certcache_stats	 st;
};

/* Drop a value's references and memory (the map's free function). */
static void
certcache_val_free(void *arg)
{
	struct certcache_val *v = arg;

	X509_free(v->cert);
	EVP_PKEY_free(v->pkey);
	json_decref(v->facts);
	free(v);
}

/* New cache of at most capacity entries. */
struct certcache *
certcache_new(size_t capacity)
{
	struct certcache *cc;

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return NULL;
	if ((cc->map = lru_new(capacity, (size_t)1 << 28, certcache_val_free)) == NULL) {
		free(cc);
		return NULL;
	}
	lru_set_budget(cc->map, capacity * LRU_ENTRY_BUDGET);
	return cc;
}

/* Free the cache and every entry. */
void
certcache_free(struct certcache *cc)
{
	if (cc == NULL)
		return;
	lru_free(cc->map);
	free(cc);
}

/* SHA-256(orig DER || profile || NUL || sni). */
int
certcache_key(X509 *orig, const char *profile, const char *sni, unsigned char key[32])
{
	unsigned char *der = NULL;
	unsigned int n = 32;
	EVP_MD_CTX *mc;
	int len, ok = 0;

	if ((len = i2d_X509(orig, &der)) <= 0)
		return -1;
	if ((mc = EVP_MD_CTX_new()) != NULL)
		ok = EVP_DigestInit_ex(mc, pki_sha256(), NULL) == 1 &&
		    EVP_DigestUpdate(mc, der, (size_t)len) == 1 &&
		    EVP_DigestUpdate(mc, profile, strlen(profile) + 1) == 1 &&
		    (sni == NULL || EVP_DigestUpdate(mc, sni, strlen(sni)) == 1) &&
		    EVP_DigestFinal_ex(mc, key, &n) == 1;
	EVP_MD_CTX_free(mc);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

/* Look up; on a hit hand out new references and mark the entry most recent. */
int
certcache_get(struct certcache *cc, const unsigned char key[32], X509 **cert,
    EVP_PKEY **pkey, json_t **facts)
{
	struct certcache_val *v = lru_get(cc->map, key);

	if (v == NULL) {
		cc->st.misses++;
		return 0;
	}
	cc->st.hits++;
	X509_up_ref(v->cert);
	*cert = v->cert;
	if (pkey != NULL) {
		if (v->pkey != NULL)
			EVP_PKEY_up_ref(v->pkey);
		*pkey = v->pkey;
	}
	if (facts != NULL)
		*facts = json_incref(v->facts);
	return 1;
}

/* Insert or replace key's entry with new references to cert, pkey and facts. */
void
certcache_put(struct certcache *cc, const unsigned char key[32], X509 *cert,
    EVP_PKEY *pkey, json_t *facts)
{
	struct certcache_val *v;
	size_t cost;
	int der, evicted, r;

	if (cert == NULL || (v = calloc(1, sizeof(*v))) == NULL)
		return;		/* a cache that cannot grow just misses later */
	der = i2d_X509(cert, NULL);
	cost = LRU_CERT_COST(der > 0 ? der : 0) +
	    (json_is_string(facts) ? json_string_length(facts) : 0);
	X509_up_ref(cert);
	if (pkey != NULL)
		EVP_PKEY_up_ref(pkey);
	v->cert = cert;
	v->pkey = pkey;
	v->facts = json_incref(facts);
	if ((r = lru_put_cost(cc->map, key, v, cost, &evicted)) != 0) {
		cc->st.too_big += r == 1;
		return;
	}
	cc->st.evictions += (uint64_t)evicted;
	cc->st.inserts++;
}

/* Copy the counters. */
void
certcache_stats(const struct certcache *cc, struct certcache_stats *st)
{
	*st = cc->st;
	st->entries = lru_size(cc->map);
	st->capacity = lru_capacity(cc->map);
	st->bytes = lru_bytes(cc->map);
}
