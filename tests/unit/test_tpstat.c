/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_tpstat — the throughput measure's statistics (analyzers/throughput/tpstat.c, built
 * into this test): nearest-rank percentiles on small and unsorted inputs, empty input, rates
 * over empty windows, and the packet plane's packets/s from cumulative counters (peak, mean,
 * a restarted handler).
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

static void
test_packet_plane(void **state)
{
	struct tpstat_pp pp = { 0 };

	(void)state;
	assert_true(tpstat_pp_mean(&pp) == 0);
	tpstat_pp_add(&pp, 1e9, 1000, 1000);
	assert_true(tpstat_pp_mean(&pp) == 0);		/* one sample: no window */
	tpstat_pp_add(&pp, 2e9, 5000, 4000);
	tpstat_pp_add(&pp, 3e9, 6000, 1000);
	assert_true(pp.peak_pps == 4000);
	assert_true(tpstat_pp_mean(&pp) == 2500);	/* 5000 packets in 2 s */
	tpstat_pp_add(&pp, 4e9, 500, 500);		/* restarted: 500 new packets */
	assert_true(tpstat_pp_mean(&pp) == 5500.0 / 3);
	assert_int_equal(pp.samples, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_packet_plane),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
