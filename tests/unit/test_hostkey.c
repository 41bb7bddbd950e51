/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hostkey — two threads (two workers) that both missed a host and then offer their own
 * keys get the same key, the second one's key back as surplus; threads racing over a set of
 * hosts all agree on each host's key; the map holds at most its capacity (least recently used
 * host forgotten first, a lookup refreshes) and its references outlive the callers' (ASan and
 * LSan in the SAN build). The map does not look inside a key: empty EVP_PKEYs, for speed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "hostkey.h"

#define NTHREADS 4
#define NHOSTS 64

/* A host digest: n in the first bytes (lru indexes by them), the rest fixed. */
static void
host(unsigned char h[32], unsigned n)
{
	memset(h, 0xa5, 32);
	memcpy(h, &n, sizeof(n));
}

struct racer {
	struct hostkey		*hk;
	pthread_barrier_t	*bar;
	unsigned		 first;		/* first host of the round */
	EVP_PKEY		*got[NHOSTS];	/* the key each host's forge would use */
	int			 surplus;
};

/* One worker in the missed-together test: both look up (miss), meet, then offer a key. */
static void *
racer_both_missed(void *arg)
{
	struct racer *r = arg;
	unsigned char h[32];
	EVP_PKEY *k, *surplus;

	host(h, r->first);
	k = hostkey_get(r->hk, h);
	pthread_barrier_wait(r->bar);		/* both have missed before either offers */
	if (k == NULL) {
		k = hostkey_fix(r->hk, h, EVP_PKEY_new(), &surplus);
		r->surplus += surplus != NULL;
		EVP_PKEY_free(surplus);
	}
	r->got[0] = k;
	return NULL;
}

/* Two workers miss one host at once: both forge with the key fixed first. */
static void
test_missed_together(void **state)
{
	struct hostkey *hk = hostkey_new(16);
	struct hostkey_stats st;
	pthread_barrier_t bar;
	struct racer r[2];
	pthread_t t[2];
	int i, round;

	(void)state;
	assert_non_null(hk);
	pthread_barrier_init(&bar, NULL, 2);
	for (round = 0; round < 8; round++) {
		memset(r, 0, sizeof(r));
		for (i = 0; i < 2; i++) {
			r[i] = (struct racer){ .hk = hk, .bar = &bar, .first = (unsigned)round };
			assert_int_equal(pthread_create(&t[i], NULL, racer_both_missed, &r[i]), 0);
		}
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		assert_non_null(r[0].got[0]);
		assert_ptr_equal(r[0].got[0], r[1].got[0]);
		assert_int_equal(r[0].surplus + r[1].surplus, 1);
		EVP_PKEY_free(r[0].got[0]);
		EVP_PKEY_free(r[1].got[0]);
	}
	hostkey_stats(hk, &st);
	assert_int_equal(st.fixed, 8);
	assert_int_equal(st.surplus, 8);
	assert_int_equal(st.entries, 8);
	pthread_barrier_destroy(&bar);
	hostkey_free(hk);
}

/* A worker's run over every host: look up, else offer a key of its own. */
static void *
racer_all(void *arg)
{
	struct racer *r = arg;
	unsigned char h[32];
	EVP_PKEY *surplus;
	unsigned i;

	pthread_barrier_wait(r->bar);
	for (i = 0; i < NHOSTS; i++) {
		host(h, (r->first + i) % NHOSTS);	/* each thread starts elsewhere */
		if ((r->got[(r->first + i) % NHOSTS] = hostkey_get(r->hk, h)) != NULL)
			continue;
		r->got[(r->first + i) % NHOSTS] = hostkey_fix(r->hk, h, EVP_PKEY_new(),
		    &surplus);
		EVP_PKEY_free(surplus);
	}
	return NULL;
}

/* Threads racing over the same hosts agree on every host's key. */
static void
test_threads_agree(void **state)
{
	struct hostkey *hk = hostkey_new(NHOSTS);
	struct hostkey_stats st;
	pthread_barrier_t bar;
	struct racer r[NTHREADS];
	pthread_t t[NTHREADS];
	unsigned i, j;

	(void)state;
	pthread_barrier_init(&bar, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		r[i] = (struct racer){ .hk = hk, .bar = &bar, .first = i * NHOSTS / NTHREADS / 2 };
		assert_int_equal(pthread_create(&t[i], NULL, racer_all, &r[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (j = 0; j < NHOSTS; j++)
		for (i = 0; i < NTHREADS; i++)
			assert_ptr_equal(r[i].got[j], r[0].got[j]);
	for (i = 0; i < NTHREADS; i++)
		for (j = 0; j < NHOSTS; j++)
			EVP_PKEY_free(r[i].got[j]);
	hostkey_stats(hk, &st);
	assert_int_equal(st.fixed, NHOSTS);
	assert_int_equal(st.entries, NHOSTS);
	assert_int_equal(st.evicted, 0);
	pthread_barrier_destroy(&bar);
	hostkey_free(hk);
}

/* At most capacity hosts; the least recently used goes first; the map's references outlive
 * the callers'. */
static void
test_bound(void **state)
{
	struct hostkey *hk = hostkey_new(4);
	struct hostkey_stats st;
	unsigned char h[32];
	EVP_PKEY *k, *k0, *surplus;
	unsigned i;

	(void)state;
	assert_null(hostkey_new(0));
	assert_null(hostkey_new(HOSTKEY_MAX + 1));
	host(h, 0);
	k0 = hostkey_fix(hk, h, EVP_PKEY_new(), &surplus);
	assert_null(surplus);
	EVP_PKEY_free(k0);		/* the map still holds host 0's key */
	for (i = 1; i < 10; i++) {
		host(h, 0);		/* host 0 stays recent: looked up before each new host */
		assert_ptr_equal(k = hostkey_get(hk, h), k0);
		EVP_PKEY_free(k);
		host(h, i);
		EVP_PKEY_free(hostkey_fix(hk, h, EVP_PKEY_new(), &surplus));
		assert_null(surplus);
		hostkey_stats(hk, &st);
		assert_true(st.entries <= 4);
	}
	hostkey_stats(hk, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.capacity, 4);
	assert_int_equal(st.fixed, 10);
	assert_int_equal(st.evicted, 6);
	for (i = 1; i < 7; i++) {	/* hosts 1..6 were forgotten, oldest first */
		host(h, i);
		assert_null(hostkey_get(hk, h));
	}
	for (i = 7; i < 10; i++) {
		host(h, i);
		assert_non_null(k = hostkey_get(hk, h));
		EVP_PKEY_free(k);
	}
	host(h, 0);
	assert_ptr_equal(k = hostkey_get(hk, h), k0);
	EVP_PKEY_free(k);
	hostkey_free(hk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missed_together),
		cmocka_unit_test(test_threads_agree),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
