/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lru — a bounded least-recently-used map from 32-byte digests to owned values: a chained hash
 * table (power-of-two buckets, at least twice the capacity, indexed by the key's first bytes,
 * which must already be a good hash such as a SHA-256) and a doubly linked recency list, so
 * get, put, remove and eviction are O(1). The map owns its values and releases them with the
 * free function it was made with. No locking. certcache (forged certificates), sesscache
 * (upstream TLS sessions) and verifycache (chain verdicts) are built on it.
 * Besides the count, a map can have a byte budget (lru_set_budget): each value is put with its
 * cost (what the caller estimates it holds, in bytes), least recent values are evicted until
 * the new one fits, and a value costing more than the whole budget is not kept. The count
 * bounds a cache of normal values; the budget bounds one whose values a peer can make large.
 */
#ifndef MITMLAB_LRU_H
#define MITMLAB_LRU_H

#include <stddef.h>

#define LRU_KEYLEN 32
/* The engine's caches estimate what an entry holds (an estimate, not a measurement): a
 * certificate decoded by OpenSSL 3.0 as about 4 KiB plus four times its DER; and give
 * themselves a byte budget of LRU_ENTRY_BUDGET per entry of capacity, which by that estimate
 * a chain of four 2 KB certificates (48 KiB) stays under: only entries made large by a peer
 * are evicted by bytes. */
#define LRU_CERT_COST(der) ((size_t)4096 + 4 * (size_t)(der))
#define LRU_ENTRY_BUDGET ((size_t)64 * 1024)

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
/* lru_put with the value's cost in bytes; *evicted (if not NULL) counts the values evicted to
 * make room. 1 when cost exceeds the budget: value is freed and key's old value kept. */
int lru_put_cost(struct lru *m, const unsigned char key[LRU_KEYLEN], void *value, size_t cost,
    int *evicted);
/* Most bytes (sum of costs) the values may hold; 0 (the default): no byte bound. Takes effect
 * at the next put. */
void lru_set_budget(struct lru *m, size_t bytes);
/* Sum of the costs of the values held. */
size_t lru_bytes(const struct lru *m);
/* Free key's value and forget it; 1 if there was one. */
int lru_remove(struct lru *m, const unsigned char key[LRU_KEYLEN]);
/* Values held. */
size_t lru_size(const struct lru *m);
/* Most values held. */
size_t lru_capacity(const struct lru *m);

#endif
