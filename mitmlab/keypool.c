/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keypool — generator threads keep `target` keys ready and serve waiting requests first. A
 * thread starts a key only while the keys being made (inflight) are fewer than the requests
 * waiting plus the places empty in the stack, so N threads never start more than are needed.
 * A request is an event created in the requester's base; a generator hands it a key under
 * the pool lock and calls event_active(), which needs a thread-enabled libevent: the engine
 * (and every test) must call evthread_use_pthreads() before creating its event bases. The
 * callback then runs in the requester's thread. keypool_cancel takes the lock, so either no
 * generator sees the request again or one has already delivered it; a delivered key
 * whose callback has not run is given back by the cancel, as keypool_give does with a key the
 * caller no longer needs: to the first waiting request, else to the ready stack (freed when
 * that is full). Keys come from pki_keygen.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "keypool.h"
#include "log.h"
#include "pki.h"
#include "util.h"

enum keypool_state { KEYPOOL_WAITING, KEYPOOL_DELIVERED };

struct keypool_req {
	struct keypool		*kp;
	struct event		*ev;
	keypool_cb		 cb;
	void			*arg;
	EVP_PKEY		*key;		/* set on delivery, under kp->mu */
	enum keypool_state	 state;
	TAILQ_ENTRY(keypool_req) entry;
};

TAILQ_HEAD(keypool_reqs, keypool_req);

struct keypool {
	int			 bits;
	unsigned long		 exponent;
	size_t			 target;
	pthread_t		*threads;
	int			 nthreads;	/* started (keypool_free joins them) */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* work for a generator, or stop */
	pthread_cond_t		 pause_cv;	/* stop (a pause after a failure waits on it) */
	EVP_PKEY		**ready;	/* stack of target slots */
	size_t			 nready;
	struct keypool_reqs	 waiting;
	size_t			 nwaiting;	/* length of waiting */
	size_t			 inflight;	/* keys being generated now */
	uint64_t		 fail_streak;	/* failures since the last key made (any thread) */
	unsigned		 pause_s;	/* the next failure's pause (doubling, pool-wide) */
	struct timespec		 retry_at;	/* with fail_streak: no key is started before */
	int			 stop;
	uint64_t		 generated, waited;
	uint64_t		 returned;	/* keys given back (keypool_give, keypool_cancel) */
	uint64_t		 failed;	/* generations that failed */
};

#define KEYPOOL_RETRY_MIN_S	1	/* after a failed generation: pause, doubling */
#define KEYPOOL_RETRY_MAX_S	60

/* Hand key to req and wake its event base; called with kp->mu held. */
static void
keypool_deliver(struct keypool_req *req, EVP_PKEY *key)
{
	req->key = key;
	req->state = KEYPOOL_DELIVERED;
	event_active(req->ev, 0, 1);
}

/* A key nobody needs any more (takes ownership): to the first waiting request, else onto the
 * ready stack, else freed; called with kp->mu held. */
static void
keypool_recycle(struct keypool *kp, EVP_PKEY *key)
{
	struct keypool_req *req;

	if ((req = TAILQ_FIRST(&kp->waiting)) != NULL) {
		TAILQ_REMOVE(&kp->waiting, req, entry);
		kp->nwaiting--;
		keypool_deliver(req, key);
	} else if (kp->nready < kp->target && !kp->stop) {
		kp->ready[kp->nready++] = key;
	} else {
		EVP_PKEY_free(key);
	}
}

/* Whether the monotonic clock has reached t. */
static int
keypool_reached(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* After a failed generation: wait until the pool's retry_at (or until stopped); called with
 * kp->mu held. */
static void
keypool_pause(struct keypool *kp)
{
	while (!kp->stop && pthread_cond_timedwait(&kp->pause_cv, &kp->mu, &kp->retry_at) !=
	    ETIMEDOUT)
		;
}

/* Whether one more key should be started: fewer are being made than the waiting requests
 * and the stack's empty places need, and no failure's pause is running. Called with kp->mu
 * held. */
static int
keypool_short(const struct keypool *kp)
{
	size_t need = kp->nwaiting + (kp->nready < kp->target ? kp->target - kp->nready : 0);

	if (kp->fail_streak > 0 && !keypool_reached(&kp->retry_at))
		return 0;
	return kp->inflight < need;
}

/* Generator thread: make keys while keypool_short. A generation that fails (OpenSSL refusing
 * the profile's key, as a FIPS configuration refuses e=3) stops the whole pool for a pause
 * that doubles up to KEYPOOL_RETRY_MAX_S, after which the thread that failed tries again; it
 * is logged once until a key is made again. Retrying at once would spin a core and fill the
 * log, and a pause per thread would let the other threads fail in between. */
static void *
keypool_main(void *arg)
{
	struct keypool *kp = arg;
	EVP_PKEY *key;
	char *cause = NULL;

	pthread_mutex_lock(&kp->mu);
	for (;;) {
		while (!kp->stop && !keypool_short(kp))
			pthread_cond_wait(&kp->cv, &kp->mu);
		if (kp->stop)
			break;
		kp->inflight++;
		pthread_mutex_unlock(&kp->mu);
		key = pki_keygen(kp->bits, kp->exponent, &cause);
		pthread_mutex_lock(&kp->mu);
		kp->inflight--;
		if (key == NULL) {
			kp->failed++;
			if (kp->fail_streak++ == 0) {
				kp->pause_s = KEYPOOL_RETRY_MIN_S;
				log_warnx("keypool: %s; retrying after %u s, then less often (up to "
				    "every %u s); waiting connections stay parked until a key is made",
				    cause != NULL ? cause : "key generation failed", kp->pause_s,
				    KEYPOOL_RETRY_MAX_S);
			}
			free(cause);
			cause = NULL;
			clock_gettime(CLOCK_MONOTONIC, &kp->retry_at);
			kp->retry_at.tv_sec += kp->pause_s;
			kp->pause_s = kp->pause_s * 2 < KEYPOOL_RETRY_MAX_S ? kp->pause_s * 2 :
			    KEYPOOL_RETRY_MAX_S;
			keypool_pause(kp);
			continue;
		}
		if (kp->fail_streak > 0) {
			log_info("keypool: key generation works again after %llu failures",
			    (unsigned long long)kp->fail_streak);
			kp->fail_streak = 0;
			pthread_cond_broadcast(&kp->cv);	/* the threads held by the pause */
		}
		kp->generated++;
		keypool_recycle(kp, key);
	}
	pthread_mutex_unlock(&kp->mu);
	return NULL;
}

/* Start a pool and its generator threads. */
struct keypool *
keypool_new(int bits, unsigned long exponent, size_t target, int threads, char **cause)
{
	struct keypool *kp;
	pthread_condattr_t ca;
	int err;

	if (threads < 1)
		threads = 1;
	if ((kp = calloc(1, sizeof(*kp))) == NULL ||
	    (kp->ready = calloc(target > 0 ? target : 1, sizeof(*kp->ready))) == NULL ||
	    (kp->threads = calloc((size_t)threads, sizeof(*kp->threads))) == NULL) {
		if (kp != NULL)
			free(kp->ready);
		free(kp);
		util_cause(cause, "keypool: out of memory");
		return NULL;
	}
	kp->bits = bits;
	kp->exponent = exponent;
	kp->target = target;
	TAILQ_INIT(&kp->waiting);
	pthread_mutex_init(&kp->mu, NULL);
	pthread_cond_init(&kp->cv, NULL);
	pthread_condattr_init(&ca);	/* keypool_pause's deadline is on the monotonic clock */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&kp->pause_cv, &ca);
	pthread_condattr_destroy(&ca);
	for (; kp->nthreads < threads; kp->nthreads++) {
		if ((err = pthread_create(&kp->threads[kp->nthreads], NULL, keypool_main,
		    kp)) != 0) {
			util_cause(cause, "keypool: pthread_create: %s", strerror(err));
			keypool_free(kp);	/* joins those started */
			return NULL;
		}
	}
	return kp;
}

/* Stop and join the generators, free the ready keys. */
void
keypool_free(struct keypool *kp)
{
	size_t i;
	int t;

	if (kp == NULL)
		return;
	pthread_mutex_lock(&kp->mu);
	kp->stop = 1;
	pthread_cond_broadcast(&kp->cv);
	pthread_cond_broadcast(&kp->pause_cv);
	pthread_mutex_unlock(&kp->mu);
	for (t = 0; t < kp->nthreads; t++)
		pthread_join(kp->threads[t], NULL);
	for (i = 0; i < kp->nready; i++)
		EVP_PKEY_free(kp->ready[i]);
	free(kp->ready);
	free(kp->threads);
	pthread_cond_destroy(&kp->pause_cv);
	pthread_cond_destroy(&kp->cv);
	pthread_mutex_destroy(&kp->mu);
	free(kp);
}

/* A ready key or NULL; wakes a generator to refill. */
EVP_PKEY *
keypool_take(struct keypool *kp)
{
	EVP_PKEY *key = NULL;

	pthread_mutex_lock(&kp->mu);
	if (kp->nready > 0) {
		key = kp->ready[--kp->nready];
		pthread_cond_signal(&kp->cv);
	}
	pthread_mutex_unlock(&kp->mu);
	return key;
}

/* Event callback in the requester's thread: pass the key on and free the request. */
static void
keypool_fire(evutil_socket_t fd, short what, void *arg)
{
	struct keypool_req *req = arg;
	struct keypool *kp = req->kp;
	keypool_cb cb = req->cb;
	void *cbarg = req->arg;
	EVP_PKEY *key;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&kp->mu);
	key = req->key;
	req->key = NULL;
	pthread_mutex_unlock(&kp->mu);
	event_free(req->ev);
	free(req);
	cb(key, cbarg);
}

/* Register a request completed in base's thread (at once if a key is ready). */
struct keypool_req *
keypool_request(struct keypool *kp, struct event_base *base, keypool_cb cb, void *arg)
{
	struct keypool_req *req;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return NULL;
	req->kp = kp;
	req->cb = cb;
	req->arg = arg;
	if ((req->ev = event_new(base, -1, 0, keypool_fire, req)) == NULL) {
		free(req);
		return NULL;
	}
	pthread_mutex_lock(&kp->mu);
	if (kp->nready > 0) {
		keypool_deliver(req, kp->ready[--kp->nready]);
	} else {
		req->state = KEYPOOL_WAITING;
		TAILQ_INSERT_TAIL(&kp->waiting, req, entry);
		kp->nwaiting++;
		kp->waited++;
	}
	pthread_cond_signal(&kp->cv);
	pthread_mutex_unlock(&kp->mu);
	return req;
}

/* Hand back an unused key (takes ownership): the next waiting request gets it. */
void
keypool_give(struct keypool *kp, EVP_PKEY *key)
{
	if (key == NULL)
		return;
	pthread_mutex_lock(&kp->mu);
	kp->returned++;
	keypool_recycle(kp, key);
	pthread_mutex_unlock(&kp->mu);
}

/* Withdraw a request; its callback will not run and a delivered key is given back. */
void
keypool_cancel(struct keypool_req *req)
{
	struct keypool *kp;
	EVP_PKEY *key = NULL;

	if (req == NULL)
		return;
	kp = req->kp;
	pthread_mutex_lock(&kp->mu);
	if (req->state == KEYPOOL_WAITING) {
		TAILQ_REMOVE(&kp->waiting, req, entry);
		kp->nwaiting--;
	}
	if ((key = req->key) != NULL) {
		req->key = NULL;
		kp->returned++;
		keypool_recycle(kp, key);
	}
	pthread_mutex_unlock(&kp->mu);
	event_free(req->ev);	/* removes it from the active queue: in base's thread */
	free(req);
}

/* Everything counted, under one lock (keypool.h). */
void
keypool_stats(struct keypool *kp, struct keypool_stats *st)
{
	pthread_mutex_lock(&kp->mu);
	st->generated = kp->generated;
	st->ready = kp->nready;
	st->generating = kp->inflight;
	st->threads = kp->nthreads;
	st->waited = kp->waited;
	st->queued = kp->nwaiting;
	st->returned = kp->returned;
	st->failed = kp->failed;
	pthread_mutex_unlock(&kp->mu);
}

/* A key made elsewhere with the pool's parameters, counted as generated (keypool.h). */
void
keypool_seed(struct keypool *kp, EVP_PKEY *key)
{
	if (key == NULL)
		return;
	pthread_mutex_lock(&kp->mu);
	kp->generated++;
	keypool_recycle(kp, key);
	pthread_mutex_unlock(&kp->mu);
}
