/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * certcache — bounded LRU of forged certificates, their keys and the facts computed once when
 * they were forged (a JSON value the caller defines: leaf.c keeps proxy.forge's members
 * serialized in a JSON string), keyed by a 32-byte digest (SHA-256 over
 * the upstream certificate's DER, the forging profile name and the SNI). One cache per worker
 * thread: no locking. O(1) get/put (hash table + doubly linked list). Besides the count the
 * cache has a byte budget, capacity x LRU_ENTRY_BUDGET (64 KiB): an entry costs
 * LRU_CERT_COST of the forged certificate's DER plus the facts' serialized length (a forgery
 * copies the origin's certificate, so an origin decides both), least recent entries go first
 * when the budget is spent, and an entry above the whole budget is not kept (too_big).
 */
#ifndef MITMLAB_CERTCACHE_H
#define MITMLAB_CERTCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

struct certcache;

struct certcache_stats {
	uint64_t hits, misses, inserts, evictions;
	uint64_t too_big;	/* entries not kept: they cost more than the whole budget */
	size_t	 entries, capacity, bytes;	/* bytes: estimated, against the budget */
};

/* New cache holding at most capacity entries (>= 1). */
struct certcache *certcache_new(size_t capacity);
void certcache_free(struct certcache *cc);
/* Key for (upstream cert, profile name, SNI or NULL): profiles that name the SNI in the
 * forged certificate must not hand one host's forgery to another. -1 when the certificate
 * cannot be DER-encoded (then do not cache it). */
int certcache_key(X509 *orig, const char *profile, const char *sni, unsigned char key[32]);
/* On a hit, *cert, *pkey and *facts get new references (caller frees; pkey and facts may be
 * NULL: not wanted) and the entry becomes most recent; returns 1. Returns 0 on a miss. */
int certcache_get(struct certcache *cc, const unsigned char key[32], X509 **cert,
    EVP_PKEY **pkey, json_t **facts);
/* Insert or replace; takes its own references to cert, pkey and facts (both may be NULL).
 * Evicts the least recent entries when full or over the byte budget. */
void certcache_put(struct certcache *cc, const unsigned char key[32], X509 *cert,
    EVP_PKEY *pkey, json_t *facts);
void certcache_stats(const struct certcache *cc, struct certcache_stats *st);

#endif
