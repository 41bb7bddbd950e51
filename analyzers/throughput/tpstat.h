/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpstat — small statistics for the throughput measure: nearest-rank percentiles over an
 * array of samples and a rate guarded against a zero-length window. Pure; tested in
 * tests/unit/test_tpstat.c.
 */
#ifndef THROUGHPUT_TPSTAT_H
#define THROUGHPUT_TPSTAT_H

#include <stddef.h>

/* Nearest-rank percentile p (0 < p <= 100) of v[0..n) — v is sorted in place. 0 when n == 0. */
double tpstat_percentile(double *v, size_t n, double p);
/* count / seconds, 0 when seconds <= 0. */
double tpstat_rate(double count, double seconds);

#endif
