/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker — one shared-nothing engine thread: its own event base, SO_REUSEPORT listener,
 * certificate cache, upstream TLS session cache (--upstream-resume), bus publisher (component
 * id NAME.wN) and SSL_CTX objects for both legs. It accepts connections, publishes
 * proxy.stats every second, and drains on stop. Nothing in here is touched by another thread
 * except through worker_stop() (event_active is thread-safe once evthread_use_pthreads() has
 * run). In proxy.stats the counters are this worker's, while cpu_s and rss_kb are the whole
 * process's (every worker publishes the same figures: take the largest, never the sum), and
 * so are keys_generated, keys_ready, keys_queued, keys_returned and the host_keys* figures;
 * worker_cpu_s is this thread's own CPU time.
 */
#ifndef MITMLAB_WORKER_H
#define MITMLAB_WORKER_H

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "ctlookup.h"
#include "tlspeek.h"

struct proxy;
struct bus;
struct certcache;
struct sesscache;
struct verifycache;

struct worker_stats {
	uint64_t accepted, handshakes, forges, cache_hits, cache_misses;
	uint64_t untrusted_signed;	/* upstream failed verification, signed untrusted */
	uint64_t client_resumed;	/* client-leg handshakes that resumed a session we issued */
	uint64_t bytes_c2s, bytes_s2c, refused_over_limit, keys_waited;
	uint64_t keys_refused;		/* not parked: LEAF_KEYWAIT_MAX were waiting (leaf.c) */
	uint64_t accept_errors;		/* failed accepts (out of descriptors: one per back-off) */
	/* intercepted upstream TLS handshakes, and what became of offered sessions */
	uint64_t up_handshakes, up_offered, up_resumed, up_refused, up_unusable;
};

struct worker {
	int			 idx;
	struct proxy		*px;
	pthread_t		 thread;
	int			 started;
	int			 lfd;		/* listening socket, handed to the listener */
	struct event_base	*base;
	struct evconnlistener	*lis;
	struct certcache	*cache;
	struct sesscache	*sess;		/* NULL unless --upstream-resume */
	struct verifycache	*vcache;	/* NULL with --upstream-verify-cache 0 */
	struct bus		*bus;
	struct ctlookup		*ct;		/* REDIRECT mode: NAT's source remaps undone */
	SSL_CTX			*up_ctx, *down_ctx;
	struct event		*ev_stats, *ev_stop;
	int			 draining;
	uint64_t		 accept_log_ns;	/* last accept failure logged (rate limit) */
	uint64_t		 accept_quiet;	/* accept failures not logged since */
	uint64_t		 drain_deadline;
	struct worker_stats	 st;
	unsigned		 active;
	unsigned		 keywait;	/* connections parked for a key (conn->kreq set) */
	TAILQ_HEAD(, conn)	 conns;
	char			 name[16];	/* "w0" */
	uint8_t			 peekbuf[TLSPEEK_MAX_BYTES];
};

/* Build a worker around listening socket lfd (takes ownership); NULL with *cause. */
struct worker *worker_new(struct proxy *px, int idx, int lfd, char **cause);
/* Start its thread. */
int worker_start(struct worker *w, char **cause);
/* Ask it to stop accepting and drain (any thread). */
void worker_stop(struct worker *w);
/* Wait for its thread, then free it. */
void worker_free(struct worker *w);
/* Publish ev (steals it) on the worker's bus, adding "worker". */
void worker_publish(struct worker *w, json_t *ev);
/* worker_publish with serialized members appended (bus_publish_members). */
void worker_publish_members(struct worker *w, json_t *ev, const char *members);

#endif
