/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hostkey — the process-wide host → key map of hostkey.h, an lru.c map under a mutex. The
 * lock is off the data path by construction: leaf.c asks the map only when a worker's own
 * certificate cache misses (a forgery follows, which costs far more than the lock), and a
 * cache hit or a relayed byte never reaches this file. Values are EVP_PKEY pointers with
 * one reference held by the map; lru frees them with EVP_PKEY_free.
 */
#include <pthread.h>
#include <stdlib.h>

#include "hostkey.h"
#include "lru.h"

_Static_assert(LRU_KEYLEN == 32, "hosts are named by 32-byte lru keys");

struct hostkey {
	pthread_mutex_t		 mu;
	struct lru		*map;		/* host digest -> EVP_PKEY */
	struct hostkey_stats	 st;
};

/* The map's free function: drop its reference. */
static void
hostkey_val_free(void *arg)
{
	EVP_PKEY_free(arg);
}

/* New map of at most capacity hosts. */
struct hostkey *
hostkey_new(size_t capacity)
{
	struct hostkey *hk;

	if ((hk = calloc(1, sizeof(*hk))) == NULL)
		return NULL;
	if ((hk->map = lru_new(capacity, HOSTKEY_MAX, hostkey_val_free)) == NULL) {
		free(hk);
		return NULL;
	}
	pthread_mutex_init(&hk->mu, NULL);
	return hk;
}

/* Free the map and its references. */
void
hostkey_free(struct hostkey *hk)
{
	if (hk == NULL)
		return;
	lru_free(hk->map);
	pthread_mutex_destroy(&hk->mu);
	free(hk);
}

/* host's key (new reference) or NULL. */
EVP_PKEY *
hostkey_get(struct hostkey *hk, const unsigned char host[32])
{
	EVP_PKEY *k;

	pthread_mutex_lock(&hk->mu);
	if ((k = lru_get(hk->map, host)) != NULL) {
		EVP_PKEY_up_ref(k);
		hk->st.reused++;
	}
	pthread_mutex_unlock(&hk->mu);
	return k;
}

/* Fix key as host's key unless it has one; return host's key (new reference). */
EVP_PKEY *
hostkey_fix(struct hostkey *hk, const unsigned char host[32], EVP_PKEY *key,
    EVP_PKEY **surplus)
{
	EVP_PKEY *k;
	int evicted = 0;

	*surplus = NULL;
	pthread_mutex_lock(&hk->mu);
	if ((k = lru_get(hk->map, host)) != NULL) {
		EVP_PKEY_up_ref(k);
		hk->st.reused++;
		hk->st.surplus++;
		*surplus = key;
	} else {
		/* the map's own reference; lru_put frees it on failure, key stays the caller's */
		EVP_PKEY_up_ref(key);
		if (lru_put(hk->map, host, key, &evicted) == 0) {
			hk->st.fixed++;
			hk->st.evicted += (uint64_t)evicted;
		}
		k = key;
	}
	pthread_mutex_unlock(&hk->mu);
	return k;
}

/* Copy the counters. */
void
hostkey_stats(struct hostkey *hk, struct hostkey_stats *st)
{
	pthread_mutex_lock(&hk->mu);
	*st = hk->st;
	st->entries = lru_size(hk->map);
	st->capacity = lru_capacity(hk->map);
	pthread_mutex_unlock(&hk->mu);
}
