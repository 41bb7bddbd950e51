/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lru — lru.c: least recent evicted first, get promotes and peek does not, replacing
 * frees the old value, remove frees, everything is freed exactly once (counted by the free
 * function), and keys that share a bucket stay apart; with a byte budget, values are evicted
 * by cost and one above the budget is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lru.h"

static int freed;

static void
count_free(void *v)
{
	freed++;
	free(v);
}

/* A key whose hash bytes are h (so tests choose buckets) and whose tail is t. */
static void
mkkey(unsigned char k[LRU_KEYLEN], uint64_t h, unsigned char t)
{
	memset(k, t, LRU_KEYLEN);
	memcpy(k, &h, sizeof(h));
}

static int *
val(int x)
{
	int *p = malloc(sizeof(*p));

	assert_non_null(p);
	*p = x;
	return p;
}

static void
test_evicts_least_recent(void **state)
{
	unsigned char k[4][LRU_KEYLEN];
	struct lru *m = lru_new(3, 100, count_free);
	int i, ev;

	(void)state;
	freed = 0;
	for (i = 0; i < 4; i++)
		mkkey(k[i], (uint64_t)i * 7919, (unsigned char)i);
	for (i = 0; i < 3; i++) {
		assert_int_equal(lru_put(m, k[i], val(i), &ev), 0);
		assert_int_equal(ev, 0);
	}
	assert_int_equal(*(int *)lru_get(m, k[0]), 0);	/* 0 becomes most recent */
	assert_int_equal(*(int *)lru_peek(m, k[1]), 1);	/* peek does not promote 1 */
	assert_int_equal(lru_put(m, k[3], val(3), &ev), 0);
	assert_int_equal(ev, 1);
	assert_null(lru_peek(m, k[1]));			/* 1 was the least recent */
	assert_non_null(lru_peek(m, k[0]));
	assert_non_null(lru_peek(m, k[2]));
	assert_int_equal(lru_size(m), 3);
	assert_int_equal(freed, 1);
	lru_free(m);
	assert_int_equal(freed, 4);
}

static void
test_replace_and_remove(void **state)
{
	unsigned char a[LRU_KEYLEN], b[LRU_KEYLEN];
	struct lru *m = lru_new(2, 100, count_free);
	int ev;

	(void)state;
	freed = 0;
	mkkey(a, 1, 'a');
	mkkey(b, 2, 'b');
	lru_put(m, a, val(1), NULL);
	lru_put(m, a, val(2), &ev);		/* replace: the old value is freed, no eviction */
	assert_int_equal(ev, 0);
	assert_int_equal(freed, 1);
	assert_int_equal(*(int *)lru_get(m, a), 2);
	assert_int_equal(lru_size(m), 1);
	assert_int_equal(lru_remove(m, b), 0);
	lru_put(m, b, val(3), NULL);
	assert_int_equal(lru_remove(m, a), 1);
	assert_int_equal(freed, 2);
	assert_null(lru_get(m, a));
	assert_int_equal(lru_size(m), 1);
	lru_free(m);
	assert_int_equal(freed, 3);
}

/* Every key in one bucket (same hash bytes, different tails), capacity smaller than the set. */
static void
test_collisions(void **state)
{
	unsigned char k[LRU_KEYLEN];
	struct lru *m = lru_new(8, 100, count_free);
	int i;

	(void)state;
	freed = 0;
	for (i = 0; i < 20; i++) {
		mkkey(k, 42, (unsigned char)i);
		assert_int_equal(lru_put(m, k, val(i), NULL), 0);
	}
	assert_int_equal(lru_size(m), 8);
	assert_int_equal(freed, 12);
	for (i = 0; i < 20; i++) {
		int *v;
		mkkey(k, 42, (unsigned char)i);
		v = lru_peek(m, k);
		if (i < 12)
			assert_null(v);
		else
			assert_int_equal(*v, i);
	}
	lru_free(m);
	assert_int_equal(freed, 20);
}

/* Budget 100: least recent values go until a new one fits, however many that takes; replacing
 * re-costs; a value above the whole budget is freed and the old one kept; no budget, no bound. */
static void
test_budget(void **state)
{
	unsigned char k[5][LRU_KEYLEN];
	struct lru *m = lru_new(10, 100, count_free);
	int i, ev;

	(void)state;
	freed = 0;
	for (i = 0; i < 5; i++)
		mkkey(k[i], (uint64_t)i * 104729, (unsigned char)i);
	lru_set_budget(m, 100);
	assert_int_equal(lru_put_cost(m, k[0], val(0), 40, &ev), 0);
	assert_int_equal(lru_put_cost(m, k[1], val(1), 40, &ev), 0);
	assert_int_equal(ev, 0);
	assert_int_equal(lru_bytes(m), 80);
	assert_int_equal(lru_put_cost(m, k[2], val(2), 40, &ev), 0);	/* 0 goes */
	assert_int_equal(ev, 1);
	assert_null(lru_peek(m, k[0]));
	assert_int_equal(lru_bytes(m), 80);
	assert_int_equal(lru_put_cost(m, k[3], val(3), 90, &ev), 0);	/* 1 and 2 go */
	assert_int_equal(ev, 2);
	assert_int_equal(lru_size(m), 1);
	assert_int_equal(lru_bytes(m), 90);
	assert_int_equal(lru_put_cost(m, k[4], val(4), 101, &ev), 1);	/* refused, freed */
	assert_int_equal(ev, 0);
	assert_null(lru_peek(m, k[4]));
	assert_int_equal(lru_put_cost(m, k[3], val(33), 101, &ev), 1);	/* the old one stays */
	assert_int_equal(*(int *)lru_peek(m, k[3]), 3);
	assert_int_equal(lru_put_cost(m, k[0], val(0), 10, &ev), 0);
	assert_int_equal(lru_put_cost(m, k[0], val(0), 20, &ev), 0);	/* replace: 3 goes */
	assert_int_equal(ev, 1);
	assert_int_equal(lru_bytes(m), 20);
	assert_int_equal(lru_remove(m, k[0]), 1);
	assert_int_equal(lru_bytes(m), 0);
	lru_set_budget(m, 0);
	assert_int_equal(lru_put_cost(m, k[1], val(1), 1000, &ev), 0);
	assert_int_equal(freed, 8);
	lru_free(m);
	assert_int_equal(freed, 9);
}

static void
test_bounds(void **state)
{
	(void)state;
	assert_null(lru_new(0, 100, count_free));
	assert_null(lru_new(101, 100, count_free));
	assert_null(lru_new(1, 100, NULL));
	lru_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evicts_least_recent),
		cmocka_unit_test(test_replace_and_remove),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
