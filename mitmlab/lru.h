/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lru — a bounded least-recently-used map from 32-byte digests to owned values: a chained hash
 * table (power-of-two buckets, at least twice the capacity, indexed by the key's first bytes,
 * which must already be a good hash such as a SHA-256) and a doubly linked recency list, so
 * get, put, remove and eviction are O(1). The map owns its values and releases them with the
 * free function it was made with. No locking. certcache (forged certificates) and sesscache
 * (upstream TLS sessions) are built on it.
 */
#ifndef MITMLAB_LRU_H
#define MITMLAB_LRU_H

#include <stddef.h>

#define LRU_KEYLEN 32

struct lru;

/* New map of at most capacity values (1 .. max); NULL when out of range or out of memory. */
struct lru *lru_new(size_t capacity, size_t max, void (*free_value)(void *));
/* Free the map and every value. */
void lru_free(struct lru *m);
/* key's value (still owned by the map), which becomes most recent; NULL on a miss. */
void *lru_get(struct lru *m, const unsigned char key[LRU_KEYLEN]);
/* key's value without touching the recency order; NULL on a miss. */
void *lru_peek(const struct lru *m, const unsigned char key[LRU_KEYLEN]);
/*
 * Insert value under key (or replace key's value, freeing the old one), most recent. When the
 * map is full the least recent value is freed first and *evicted (if not NULL) set to 1. On
 * -1 (out of memory) value is freed: the caller never owns it after the call.
 */
int lru_put(struct lru *m, const unsigned char key[LRU_KEYLEN], void *value, int *evicted);
/* Free key's value and forget it; 1 if there was one. */
int lru_remove(struct lru *m, const unsigned char key[LRU_KEYLEN]);
/* Values held. */
size_t lru_size(const struct lru *m);
/* Most values held. */
size_t lru_capacity(const struct lru *m);

#endif
