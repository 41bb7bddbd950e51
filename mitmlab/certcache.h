/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * certcache — bounded LRU of forged certificates and their keys, keyed by a 32-byte digest
 * (SHA-256 over the upstream certificate's DER and the forging profile name). One cache per
 * worker thread: no locking. O(1) get/put (hash table + doubly linked list).
 */
#ifndef MITMLAB_CERTCACHE_H
#define MITMLAB_CERTCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct certcache;

struct certcache_stats {
	uint64_t hits, misses, inserts, evictions;
	size_t	 entries, capacity;
};

/* New cache holding at most capacity entries (>= 1). */
struct certcache *certcache_new(size_t capacity);
void certcache_free(struct certcache *cc);
/* Key for (upstream cert, profile name). -1 when the certificate cannot be DER-encoded
 * (then do not cache it). */
int certcache_key(X509 *orig, const char *profile, unsigned char key[32]);
/* On a hit, *cert and *pkey get new references (caller frees) and the entry becomes most
 * recent; returns 1. Returns 0 on a miss. */
int certcache_get(struct certcache *cc, const unsigned char key[32], X509 **cert,
    EVP_PKEY **pkey);
/* Insert or replace; takes its own references to cert and pkey (pkey may be NULL). Evicts
 * the least recent entry when full. */
void certcache_put(struct certcache *cc, const unsigned char key[32], X509 *cert,
    EVP_PKEY *pkey);
void certcache_stats(const struct certcache *cc, struct certcache_stats *st);

#endif
