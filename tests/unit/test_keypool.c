/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_keypool — the generator fills the pool to target and refills after a take; a request
 * completes on the caller's event base in the caller's thread with a key of the asked size;
 * cancel before delivery and after delivery (callback pending) both stop the callback; a
 * cancelled waiting request leaves the queue at once, so the next key goes to the next; a key
 * given back (or delivered to a cancelled request) serves the next waiter, else the ready
 * stack; free with keys ready or mid-generation. EC keys where the size does not matter, for speed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/bn.h>
#include <openssl/ec.h>

#include "keypool.h"
#include "util.h"

struct got {
	EVP_PKEY	*key;
	int		 calls;
	pthread_t	 thread;
	struct event_base *base;
};

/* The pool's counters, read together. */
static struct keypool_stats
stats(struct keypool *kp)
{
	struct keypool_stats st;

	keypool_stats(kp, &st);
	return st;
}

/* Request callback: remember the key and the thread, stop the loop. */
static void
on_key(EVP_PKEY *key, void *arg)
{
	struct got *g = arg;

	g->key = key;
	g->calls++;
	g->thread = pthread_self();
	event_base_loopbreak(g->base);
}

/* Wait up to 10 s for the pool to hold n ready keys. */
static void
wait_ready(struct keypool *kp, size_t n)
{
	size_t ready = 0;
	int i;

	for (i = 0; i < 1000; i++) {
		ready = stats(kp).ready;
		if (ready >= n)
			return;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	fail_msg("pool never reached %zu ready keys (has %zu)", n, ready);
}

/* Run base for at most ms milliseconds (or until a loopbreak). */
static void
run_for(struct event_base *base, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
}

/* The pool fills to target; take hands out a key and the pool refills. */
static void
test_take_refill(void **state)
{
	struct keypool *kp = keypool_new(0, 0, 3, 1, NULL);
	struct keypool_stats st;
	uint64_t generated = 0, waited = 1;
	EVP_PKEY *k;

	(void)state;
	assert_non_null(kp);
	wait_ready(kp, 3);
	assert_non_null(k = keypool_take(kp));
	assert_int_equal(EVP_PKEY_base_id(k), EVP_PKEY_EC);
	EVP_PKEY_free(k);
	wait_ready(kp, 3);
	st = stats(kp);
	generated = st.generated;
	waited = st.waited;
	assert_int_equal(generated, 4);
	assert_int_equal(waited, 0);
	keypool_free(kp);
}

/* An empty pool: the request waits, then completes in this thread with an RSA-1024 e=3 key. */
static void
test_request(void **state)
{
	struct keypool *kp = keypool_new(1024, 3, 0, 1, NULL);
	struct got g = { .base = event_base_new() };
	BIGNUM *e = NULL;
	uint64_t waited = 0;

	(void)state;
	assert_null(keypool_take(kp));
	assert_non_null(keypool_request(kp, g.base, on_key, &g));
	run_for(g.base, 20000);
	assert_int_equal(g.calls, 1);
	assert_non_null(g.key);
	assert_true(pthread_equal(g.thread, pthread_self()));
	assert_int_equal(EVP_PKEY_get_bits(g.key), 1024);
	assert_int_equal(EVP_PKEY_get_bn_param(g.key, "e", &e), 1);
	assert_int_equal(BN_get_word(e), 3);
	waited = stats(kp).waited;
	assert_int_equal(waited, 1);
	BN_free(e);
	EVP_PKEY_free(g.key);
	keypool_free(kp);
	event_base_free(g.base);
}

/* A request served from ready keys still runs through the base, not inline. */
static void
test_request_ready(void **state)
{
	struct keypool *kp = keypool_new(0, 0, 1, 1, NULL);
	struct got g = { .base = event_base_new() };

	(void)state;
	wait_ready(kp, 1);
	assert_non_null(keypool_request(kp, g.base, on_key, &g));
	assert_int_equal(g.calls, 0);
	run_for(g.base, 5000);
	assert_int_equal(g.calls, 1);
	assert_non_null(g.key);
	EVP_PKEY_free(g.key);
	keypool_free(kp);
	event_base_free(g.base);
}

/* Cancel before delivery and after delivery: the callback never runs, nothing leaks. */
static void
test_cancel(void **state)
{
	struct keypool *kp = keypool_new(0, 0, 0, 1, NULL), *kp2 = keypool_new(0, 0, 1, 1, NULL);
	struct got g = { .base = event_base_new() };
	struct keypool_req *r;

	(void)state;
	r = keypool_request(kp, g.base, on_key, &g);
	keypool_cancel(r);
	run_for(g.base, 200);
	assert_int_equal(g.calls, 0);

	wait_ready(kp2, 1);
	r = keypool_request(kp2, g.base, on_key, &g);	/* delivered: its event is active */
	keypool_cancel(r);				/* the key goes back to the stack */
	run_for(g.base, 200);
	assert_int_equal(g.calls, 0);
	keypool_free(kp);
	keypool_free(kp2);
	event_base_free(g.base);
}

/* Cancelled waiting requests leave the queue at once (a closed client's request must not hold
 * a place in front of live ones): of three waiters, the one not cancelled gets the first key
 * generated after the cancel, and the cancelled ones never get called. */
static void
test_cancel_frees_place(void **state)
{
	struct keypool *kp = keypool_new(2048, 3, 0, 1, NULL);
	struct got g = { .base = event_base_new() }, dead = { .base = g.base };
	struct keypool_req *a, *b;
	uint64_t generated = 0;

	(void)state;
	a = keypool_request(kp, g.base, on_key, &dead);
	b = keypool_request(kp, g.base, on_key, &dead);
	assert_non_null(keypool_request(kp, g.base, on_key, &g));
	assert_int_equal(stats(kp).queued, 3);	/* RSA-2048: the first key is far off */
	keypool_cancel(b);
	keypool_cancel(a);
	assert_int_equal(stats(kp).queued, 1);
	run_for(g.base, 20000);
	assert_int_equal(g.calls, 1);
	assert_non_null(g.key);
	assert_int_equal(dead.calls, 0);
	assert_int_equal(stats(kp).queued, 0);
	generated = stats(kp).generated;
	assert_int_equal(generated, 1);	/* the cancelled two took none */
	EVP_PKEY_free(g.key);
	keypool_free(kp);
	event_base_free(g.base);
}

/* A key given back goes to the first waiting request (that very key, before any new one),
 * else onto the ready stack; a key delivered to a request cancelled before its callback ran
 * is given back the same way, not freed. */
static void
test_give(void **state)
{
	struct keypool *kp = keypool_new(2048, 3, 1, 1, NULL);
	struct got g = { .base = event_base_new() }, dead = { .base = g.base };
	struct keypool_req *r;
	EVP_PKEY *k, *mine;
	size_t ready = 0;

	(void)state;
	/* each step runs within microseconds of a take, long before RSA-2048 refills the pool */
	wait_ready(kp, 1);
	assert_non_null(mine = keypool_take(kp));
	assert_non_null(keypool_request(kp, g.base, on_key, &g));
	assert_int_equal(stats(kp).queued, 1);
	keypool_give(kp, mine);				/* to the waiting request */
	assert_int_equal(stats(kp).queued, 0);
	run_for(g.base, 5000);
	assert_int_equal(g.calls, 1);
	assert_ptr_equal(g.key, mine);

	wait_ready(kp, 1);
	assert_non_null(k = keypool_take(kp));
	keypool_give(kp, k);				/* nobody waits: onto the stack */
	ready = stats(kp).ready;
	assert_int_equal(ready, 1);
	assert_ptr_equal(keypool_take(kp), k);

	r = keypool_request(kp, g.base, on_key, &dead);
	keypool_give(kp, k);				/* r gets k: its event is active */
	keypool_cancel(r);				/* and k goes back to the stack */
	ready = stats(kp).ready;
	assert_int_equal(ready, 1);
	assert_ptr_equal(keypool_take(kp), k);
	run_for(g.base, 200);
	assert_int_equal(dead.calls, 0);
	assert_int_equal(stats(kp).returned, 4);
	EVP_PKEY_free(k);
	EVP_PKEY_free(g.key);
	keypool_free(kp);
	event_base_free(g.base);
}

/* Free with keys ready, and while the generator is busy. */
static void
test_free_pending(void **state)
{
	struct keypool *kp = keypool_new(0, 0, 4, 1, NULL);
	size_t ready = 0;

	(void)state;
	wait_ready(kp, 4);
	ready = stats(kp).ready;
	assert_int_equal(ready, 4);
	keypool_free(kp);
	kp = keypool_new(1024, 65537, 8, 1, NULL);
	keypool_free(kp);	/* joins a thread that may be mid-keygen */
}

/* Key generation that always fails (RSA with an even exponent, as OpenSSL refuses e=3 under
 * FIPS; it fails at once): the generator retries after a pause that doubles, at 0, 1 and 3 s
 * (a fixed 1 s pause would make a third attempt at 2 s), instead of at once, which spun a core
 * and wrote hundreds of thousands of warnings a second; free ends the pause at once. */
static void
test_failing_generation_backs_off(void **state)
{
	struct keypool *kp = keypool_new(2048, 4, 1, 1, NULL);
	uint64_t t0;

	(void)state;
	assert_non_null(kp);
	usleep(2500000);
	assert_int_equal(stats(kp).generated, 0);
	assert_int_equal(stats(kp).failed, 2);
	t0 = util_mono_ns();
	keypool_free(kp);	/* mid-pause: the 2 s wait must not hold it */
	assert_true(util_mono_ns() - t0 < 500000000ull);
}

/* The pause after a failure holds the whole pool, not only the thread that failed: with three
 * threads, requests that arrive during the pause (each waking an idle thread) start no
 * generation before it ends, so the attempts are still at 0, 1 and 3 s. */
static void
test_failing_generation_pauses_every_thread(void **state)
{
	struct keypool *kp = keypool_new(2048, 4, 1, 3, NULL);
	struct event_base *base = event_base_new();
	struct keypool_req *r[3];
	struct got g = { .base = base };
	int i;

	(void)state;
	assert_non_null(kp);
	usleep(200000);			/* the first attempt has failed */
	assert_int_equal(stats(kp).failed, 1);
	for (i = 0; i < 3; i++)
		assert_non_null(r[i] = keypool_request(kp, base, on_key, &g));
	usleep(2300000);
	assert_int_equal(stats(kp).failed, 2);
	assert_int_equal(stats(kp).queued, 3);
	for (i = 0; i < 3; i++)
		keypool_cancel(r[i]);
	keypool_free(kp);
	event_base_free(base);
	assert_int_equal(g.calls, 0);
}

/* keypool_seed: a key made elsewhere (the engine's start-up probe) is the pool's first
 * ready key and counts as generated; here the generator itself can make none. */
static void
test_seed(void **state)
{
	struct keypool *kp = keypool_new(2048, 4, 2, 1, NULL);
	EVP_PKEY *k = EVP_EC_gen("P-256"), *got;
	struct keypool_stats st;
	uint64_t generated = 0;
	size_t ready = 0;

	(void)state;
	assert_non_null(kp);
	assert_non_null(k);
	keypool_seed(kp, k);
	st = stats(kp);
	generated = st.generated;
	ready = st.ready;
	assert_int_equal(generated, 1);
	assert_int_equal(ready, 1);
	assert_ptr_equal(got = keypool_take(kp), k);
	EVP_PKEY_free(got);
	keypool_free(kp);
}

/* Several generator threads: together they start no more keys than the empty places need
 * (two threads' worth of RSA-1024 for a pool of one: one key, not two), and waiting requests
 * are served by keys generated side by side (three requests, three threads: three in flight at
 * once; one thread has one at a time). */
static void
test_threads(void **state)
{
	struct keypool *kp = keypool_new(1024, 65537, 1, 2, NULL);
	struct got g[3];
	size_t most = 0, i;
	int n;

	(void)state;
	assert_non_null(kp);
	wait_ready(kp, 1);
	usleep(300000);		/* a second key, had it been started, would be made by now */
	assert_int_equal(stats(kp).generated, 1);
	assert_int_equal(stats(kp).generating, 0);
	keypool_free(kp);

	kp = keypool_new(3072, 65537, 0, 3, NULL);
	assert_non_null(kp);
	memset(g, 0, sizeof(g));
	g[0].base = event_base_new();
	for (i = 0; i < 3; i++) {
		g[i].base = g[0].base;
		assert_non_null(keypool_request(kp, g[0].base, on_key, &g[i]));
	}
	for (n = 0; n < 200 && most < 3; n++) {	/* RSA-3072 takes far longer than 2 s / 200 */
		if (stats(kp).generating > most)
			most = stats(kp).generating;
		usleep(10000);
	}
	assert_int_equal(most, 3);
	for (n = 0; n < 3000 && (g[0].calls + g[1].calls + g[2].calls) < 3; n++)
		run_for(g[0].base, 10);
	for (i = 0; i < 3; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(EVP_PKEY_get_bits(g[i].key), 3072);
		EVP_PKEY_free(g[i].key);
	}
	assert_int_equal(stats(kp).generated, 3);
	keypool_free(kp);
	event_base_free(g[0].base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_refill),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_ready),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_cancel_frees_place),
		cmocka_unit_test(test_give),
		cmocka_unit_test(test_free_pending),
		cmocka_unit_test(test_failing_generation_backs_off),
		cmocka_unit_test(test_failing_generation_pauses_every_thread),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_threads),
	};

	evthread_use_pthreads();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
