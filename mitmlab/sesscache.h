/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sesscache — a bounded LRU of upstream TLS sessions (SSL_SESSION references) for one worker
 * thread, keyed by a 32-byte digest of what must match for a session to be offered again: the
 * upstream destination address and port, the SNI sent upstream and the upstream-hello profile
 * (for the mirror profile, the mirrored hello parameters too). One session per key, the newest
 * the origin issued. Expired and non-resumable sessions are dropped when looked up. No locking:
 * the engine keeps one cache per worker. Offering the session and judging the resumed handshake
 * is upstream.c's job. Besides the count, sessions are bounded in bytes: capacity x
 * LRU_ENTRY_BUDGET (64 KiB), a session costing LRU_CERT_COST of each certificate of the
 * chain the origin sent (a session keeps it decoded) plus its ticket's length; least recent
 * sessions go first, and one above the whole budget is not kept (too_big).
 */
#ifndef MITMLAB_SESSCACHE_H
#define MITMLAB_SESSCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/ssl.h>

#define SESSCACHE_KEYLEN 32

struct sesscache;

struct sesscache_stats {
	uint64_t hits, misses, inserts, evictions, expired, dropped;
	uint64_t too_big;	/* sessions not kept: they cost more than the whole budget */
	size_t	 entries, capacity, bytes;	/* bytes: estimated, against the budget */
};

/* New cache holding at most capacity sessions (>= 1); NULL when out of memory or out of range. */
struct sesscache *sesscache_new(size_t capacity);
void sesscache_free(struct sesscache *sc);
/*
 * Key for (destination, SNI or NULL, hello profile, extra bytes or NULL): extra is what else
 * shapes the hello (the mirror profile passes the client's mirrored parameters). -1 when dst
 * is not AF_INET/AF_INET6 or hashing fails.
 */
int sesscache_key(const struct sockaddr *dst, const char *sni, int hello, const void *extra,
    size_t extralen, unsigned char key[SESSCACHE_KEYLEN]);
/*
 * A new reference to key's session (caller frees), the entry becoming most recent; NULL on a
 * miss. A session that is not resumable or has expired at now (its time plus its timeout, or
 * plus the ticket lifetime hint when that is shorter) is dropped and counts as a miss.
 */
SSL_SESSION *sesscache_get(struct sesscache *sc, const unsigned char key[SESSCACHE_KEYLEN],
    time_t now);
/* Insert or replace key's session; takes its own reference. Evicts the least recent when full.
 * chain: the certificates the origin sent, which the session holds (SSL_get_peer_cert_chain;
 * NULL: the session's leaf alone is counted). */
void sesscache_put(struct sesscache *sc, const unsigned char key[SESSCACHE_KEYLEN],
    SSL_SESSION *sess, STACK_OF(X509) *chain);
/* Remove key's entry if it still holds sess (NULL: whatever it holds); 1 if one was removed. */
int sesscache_drop(struct sesscache *sc, const unsigned char key[SESSCACHE_KEYLEN],
    const SSL_SESSION *sess);
void sesscache_stats(const struct sesscache *sc, struct sesscache_stats *st);

#endif
