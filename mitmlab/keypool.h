/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keypool — RSA keys generated ahead of need on background threads, so that key generation
 * never runs on a connection's path. A worker takes a ready key at once, or registers a
 * request that completes on its own event base (the callback runs in the worker's thread)
 * when a generator thread has made one. Requests can be cancelled when a connection dies.
 * Requires evthread_use_pthreads() before the event bases are created.
 */
#ifndef MITMLAB_KEYPOOL_H
#define MITMLAB_KEYPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/evp.h>

struct keypool;
struct keypool_req;

struct keypool_stats {
	uint64_t generated;	/* keys made (and seeded) so far */
	size_t	 ready;		/* keys ready now */
	size_t	 generating;	/* keys being generated now (at most one per thread) */
	int	 threads;	/* generator threads */
	uint64_t waited;	/* requests that had to wait */
	size_t	 queued;	/* requests waiting now (all workers'; cancelled ones have left) */
	uint64_t returned;	/* keys given back (keypool_give, keys delivered to cancelled requests) */
	uint64_t failed;	/* generations that failed (each retried after 1 s, doubling to 60 s) */
};

typedef void (*keypool_cb)(EVP_PKEY *key, void *arg);	/* key: caller owns it */

/* Start threads generator threads (at least one) keeping up to target keys of bits/exponent
 * ready; together they never start more keys than waiting requests and empty places need. */
struct keypool *keypool_new(int bits, unsigned long exponent, size_t target, int threads,
    char **cause);
/* Stop the generator threads and free every key; outstanding requests must be cancelled. */
void keypool_free(struct keypool *kp);
/* A ready key (caller owns it) or NULL when the pool is empty right now. Never blocks. */
EVP_PKEY *keypool_take(struct keypool *kp);
/* Ask for a key delivered later by cb(key, arg) in base's thread. Returns a handle. */
struct keypool_req *keypool_request(struct keypool *kp, struct event_base *base,
    keypool_cb cb, void *arg);
/* Give back a key the caller does not need after all (takes ownership; NULL is ignored): the
 * first waiting request gets it, else the ready stack, else it is freed. Any thread. */
void keypool_give(struct keypool *kp, EVP_PKEY *key);
/* Cancel; after return cb will not run (a key already delivered is given back). Must be
 * called from base's thread. */
void keypool_cancel(struct keypool_req *req);
/* Add a key made elsewhere with the pool's bits and exponent (takes ownership), counted as
 * generated: to the first waiting request, else the ready stack, else freed. */
void keypool_seed(struct keypool *kp, EVP_PKEY *key);
/* The counters, read together. */
void keypool_stats(struct keypool *kp, struct keypool_stats *st);

#endif
