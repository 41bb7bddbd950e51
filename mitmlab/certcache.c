/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * certcache — a bounded LRU of forged certificates for one worker thread. Entries sit in a
 * chained hash table (power-of-two buckets, at least twice the capacity, indexed by the key's
 * first bytes, which are already a SHA-256) and on a doubly linked recency list, so get, put
 * and eviction are O(1). Entries hold their own references to the certificate, key and facts.
 * No locking: the engine keeps one cache per worker. Forging is the caller's job.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "certcache.h"

struct certcache_entry {
	unsigned char		 key[32];
	X509			*cert;
	EVP_PKEY		*pkey;
	json_t			*facts;
	struct certcache_entry	*hnext;			/* bucket chain */
	struct certcache_entry	*prev, *next;		/* recency: head = most recent */
};

struct certcache {
	struct certcache_entry	**buckets;
	size_t			  nbuckets;		/* power of two */
	struct certcache_entry	 *head, *tail;
	struct certcache_stats	  st;
};

/* New cache of at most capacity entries. */
struct certcache *
certcache_new(size_t capacity)
{
	struct certcache *cc;
	size_t n = 16;

	if (capacity < 1 || capacity > ((size_t)1 << 28))
		return NULL;
	while (n < capacity * 2)
		n <<= 1;
	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return NULL;
	if ((cc->buckets = calloc(n, sizeof(*cc->buckets))) == NULL) {
		free(cc);
		return NULL;
	}
	cc->nbuckets = n;
	cc->st.capacity = capacity;
	return cc;
}

/* Drop an entry's references and memory. */
static void
certcache_entry_free(struct certcache_entry *e)
{
	X509_free(e->cert);
	EVP_PKEY_free(e->pkey);
	json_decref(e->facts);
	free(e);
}

/* Free the cache and every entry. */
void
certcache_free(struct certcache *cc)
{
	struct certcache_entry *e, *next;

	if (cc == NULL)
		return;
	for (e = cc->head; e != NULL; e = next) {
		next = e->next;
		certcache_entry_free(e);
	}
	free(cc->buckets);
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
		ok = EVP_DigestInit_ex(mc, EVP_sha256(), NULL) == 1 &&
		    EVP_DigestUpdate(mc, der, (size_t)len) == 1 &&
		    EVP_DigestUpdate(mc, profile, strlen(profile) + 1) == 1 &&
		    (sni == NULL || EVP_DigestUpdate(mc, sni, strlen(sni)) == 1) &&
		    EVP_DigestFinal_ex(mc, key, &n) == 1;
	EVP_MD_CTX_free(mc);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

/* Bucket index of a key. */
static size_t
certcache_bucket(const struct certcache *cc, const unsigned char key[32])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)h & (cc->nbuckets - 1);
}

/* The bucket-chain link that points at key's entry (or at the chain's NULL end). */
static struct certcache_entry **
certcache_slot(struct certcache *cc, const unsigned char key[32])
{
	struct certcache_entry **pp = &cc->buckets[certcache_bucket(cc, key)];

	while (*pp != NULL && memcmp((*pp)->key, key, 32) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

/* Unlink e from the recency list. */
static void
certcache_unlink(struct certcache *cc, struct certcache_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		cc->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		cc->tail = e->prev;
	e->prev = e->next = NULL;
}

/* Put e at the most recent end. */
static void
certcache_push_head(struct certcache *cc, struct certcache_entry *e)
{
	e->prev = NULL;
	e->next = cc->head;
	if (cc->head != NULL)
		cc->head->prev = e;
	cc->head = e;
	if (cc->tail == NULL)
		cc->tail = e;
}

/* Set (*e)'s references to new ones of cert, pkey and facts. */
static void
certcache_set(struct certcache_entry *e, X509 *cert, EVP_PKEY *pkey, json_t *facts)
{
	X509_up_ref(cert);
	if (pkey != NULL)
		EVP_PKEY_up_ref(pkey);
	json_incref(facts);
	X509_free(e->cert);
	EVP_PKEY_free(e->pkey);
	json_decref(e->facts);
	e->cert = cert;
	e->pkey = pkey;
	e->facts = facts;
}

/* Look up; on a hit hand out new references and mark the entry most recent. */
int
certcache_get(struct certcache *cc, const unsigned char key[32], X509 **cert,
    EVP_PKEY **pkey, json_t **facts)
{
	struct certcache_entry *e = *certcache_slot(cc, key);

	if (e == NULL) {
		cc->st.misses++;
		return 0;
	}
	cc->st.hits++;
	certcache_unlink(cc, e);
	certcache_push_head(cc, e);
	X509_up_ref(e->cert);
	*cert = e->cert;
	if (pkey != NULL) {
		if (e->pkey != NULL)
			EVP_PKEY_up_ref(e->pkey);
		*pkey = e->pkey;
	}
	if (facts != NULL)
		*facts = json_incref(e->facts);
	return 1;
}

/* Remove the least recent entry. */
static void
certcache_evict(struct certcache *cc)
{
	struct certcache_entry *e = cc->tail, **pp;

	if (e == NULL)
		return;
	pp = certcache_slot(cc, e->key);
	*pp = e->hnext;
	certcache_unlink(cc, e);
	certcache_entry_free(e);
	cc->st.entries--;
	cc->st.evictions++;
}

/* Insert or replace key's entry with new references to cert, pkey and facts. */
void
certcache_put(struct certcache *cc, const unsigned char key[32], X509 *cert,
    EVP_PKEY *pkey, json_t *facts)
{
	struct certcache_entry *e, **pp;

	if (cert == NULL)
		return;
	pp = certcache_slot(cc, key);
	if ((e = *pp) != NULL) {
		certcache_set(e, cert, pkey, facts);
		certcache_unlink(cc, e);
		certcache_push_head(cc, e);
		cc->st.inserts++;
		return;
	}
	if (cc->st.entries >= cc->st.capacity) {
		certcache_evict(cc);
		pp = certcache_slot(cc, key);	/* eviction may have changed the chain */
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;		/* a cache that cannot grow just misses later */
	memcpy(e->key, key, 32);
	certcache_set(e, cert, pkey, facts);
	e->hnext = *pp;
	*pp = e;
	certcache_push_head(cc, e);
	cc->st.entries++;
	cc->st.inserts++;
}

/* Copy the counters. */
void
certcache_stats(const struct certcache *cc, struct certcache_stats *st)
{
	*st = cc->st;
}
