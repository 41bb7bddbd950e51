/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_tpstat — the throughput measure's statistics (analyzers/throughput/tpstat.c, built
 * into this test): nearest-rank percentiles on small and unsorted inputs, empty input, and
 * rates over empty windows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../analyzers/throughput/tpstat.c"

static void
test_percentile(void **state)
{
	double v[10] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 }, one[1] = { 42 };
	double h[100];
	int i;

	(void)state;
	assert_true(tpstat_percentile(v, 10, 50) == 5);
	assert_true(tpstat_percentile(v, 10, 95) == 10);
	assert_true(tpstat_percentile(v, 10, 99) == 10);
	assert_true(tpstat_percentile(v, 10, 10) == 1);
	assert_true(tpstat_percentile(v, 10, 0) == 1);
	assert_true(tpstat_percentile(one, 1, 99) == 42);
	assert_true(tpstat_percentile(NULL, 0, 50) == 0);
	for (i = 0; i < 100; i++)
		h[i] = 100 - i;
	assert_true(tpstat_percentile(h, 100, 95) == 95);
	assert_true(tpstat_percentile(h, 100, 99) == 99);
}

static void
test_rate(void **state)
{
	(void)state;
	assert_true(tpstat_rate(10, 2) == 5);
	assert_true(tpstat_rate(10, 0) == 0);
	assert_true(tpstat_rate(10, -1) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
