/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hostkey — the engine process's one key per host for the per-host key profiles (kz2019,
 * squid): KZ-FACTS' "host-specific RSA-2048 key" means every forgery for a host shows the
 * same public key, whichever worker forges it, however many connections miss at once, and
 * after the certificate cache has evicted the host. A host is named by a 32-byte digest;
 * leaf.c uses the certificate-cache key (upstream leaf, profile, SNI), so one cache entry
 * and one map entry agree. The map is bounded in entries (least recently used host first:
 * beyond the bound a host forged again gets a new key) and shared by all workers under one
 * mutex, which leaf.c takes only on a certificate-cache miss, never while relaying. Keys are
 * reference-counted EVP_PKEYs: the map holds one reference, every caller gets its own.
 * Key generation is keypool.c's job.
 */
#ifndef MITMLAB_HOSTKEY_H
#define MITMLAB_HOSTKEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct hostkey;

/* Most hosts a map may hold. */
#define HOSTKEY_MAX ((size_t)1 << 28)

struct hostkey_stats {
	uint64_t fixed;		/* hosts given their key */
	uint64_t reused;	/* lookups and fixes answered with a host's existing key */
	uint64_t surplus;	/* keys offered for a host that already had one */
	uint64_t evicted;	/* hosts forgotten to stay within capacity */
	size_t	 entries, capacity;
};

/* New map of at most capacity hosts (1 .. HOSTKEY_MAX); NULL when out of range or out of memory. */
struct hostkey *hostkey_new(size_t capacity);
/* Free the map and drop its references. */
void hostkey_free(struct hostkey *hk);
/* host's key as a new reference (caller frees), and host becomes most recent; NULL when host
 * has none yet. */
EVP_PKEY *hostkey_get(struct hostkey *hk, const unsigned char host[32]);
/* Make key (takes ownership) host's key unless host has one already. Returns host's key as a
 * new reference (caller frees): key itself, or the key fixed earlier, in which case *surplus
 * gets key back (the caller owns it again and may return it to the pool); else *surplus is
 * NULL. Out of memory: returns key unmapped. */
EVP_PKEY *hostkey_fix(struct hostkey *hk, const unsigned char host[32], EVP_PKEY *key,
    EVP_PKEY **surplus);
/* Copy the counters (taken under the lock). */
void hostkey_stats(struct hostkey *hk, struct hostkey_stats *st);

#endif
