/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verifycache — a bounded LRU of upstream certificate-chain verdicts for one upstream SSL_CTX
 * (one per worker thread; no locking), on lru.c. Attached as the context's certificate
 * verification callback, it stands in for X509_verify_cert: the key is a SHA-256 of the chain
 * exactly as the origin sent it (each certificate's DER, in order) and of the verification
 * parameters that can change the answer (auth level, flags, depth); the value is the verdict
 * (X509_V_* code). A hit replays the code, so SSL_get_verify_result reads what a full check
 * would have given, without its signature checks (two P-256 verifies and the chain building:
 * about a tenth of the engine's CPU per intercepted connection). A miss runs X509_verify_cert
 * and keeps its verdict until the earliest of ttl seconds and every notAfter or notBefore still
 * ahead among the sent certificates, the built chain and the trusted store, so that the
 * passing of time cannot make a kept verdict wrong; a verdict is not replayed either if the
 * clock has stepped back to before it was reached.
 * Always checked in full, never cached: parameters naming a host, e-mail or IP address (the
 * engine checks the name itself after the handshake, upstream_check), a fixed check time, CRL
 * checks, verify callbacks (per SSL or on the store), Certificate Transparency, and failures
 * of the verifier itself (unspecified, out of memory, store lookup). A hit does not rebuild
 * the verified chain, so SSL_get0_verified_chain is NULL after it (the engine never reads it),
 * nor the error depth. The trusted store's earliest bound ahead is remembered between misses
 * and found anew when the clock passes it or a certificate is added. The trusted store must
 * not change once the cache is attached (kept verdicts are not revisited; the engine loads
 * it when the context is made), and DANE must not be enabled on the context's
 * connections (the engine never does; OpenSSL has no getter to check it).
 * A kept verdict also keeps references to the certificates as the origin sent them, and a hit
 * lends them to the connection in place of the copies OpenSSL just decoded (same DER), which
 * it frees: every connection of one chain then holds one decoded copy instead of its own
 * (OpenSSL 3.0 decodes a 436-byte P-256 leaf into about 5 KiB of heap, kept as long as the
 * connection). The certificates must be treated as read-only (the engine only reads them);
 * at most capacity chains are kept, each at most ttl seconds after its miss, and at most
 * capacity x LRU_ENTRY_BUDGET (64 KiB) bytes of them as estimated by LRU_CERT_COST of each
 * certificate's DER: an origin's oversized chain evicts by bytes, and one above the whole
 * budget is not kept (too_big).
 */
#ifndef MITMLAB_VERIFYCACHE_H
#define MITMLAB_VERIFYCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

struct verifycache;

struct verifycache_stats {
	uint64_t hits, misses, inserts, evictions, expired, uncached;
	uint64_t shared;	/* certificates of a hit replaced by the kept, shared ones */
	uint64_t too_big;	/* verdicts not kept: the chain costs more than the budget */
	size_t	 entries, capacity, bytes;	/* bytes: estimated, against the budget */
};

/* New cache of at most capacity verdicts (>= 1), each kept at most ttl seconds (>= 1); NULL
 * when out of range or out of memory. */
struct verifycache *verifycache_new(size_t capacity, int ttl);
void verifycache_free(struct verifycache *vc);
/* Make vc the verification of ctx (vc must outlive ctx's connections; not owned by ctx). */
void verifycache_attach(SSL_CTX *ctx, struct verifycache *vc);
/* Replace the clock (tests: expiry without waiting); NULL restores time(). */
void verifycache_set_clock(struct verifycache *vc, time_t (*clock)(void));
void verifycache_stats(const struct verifycache *vc, struct verifycache_stats *st);

#endif
