/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpstat — percentiles and rates for the throughput measure (tpstat.h).
 */
#include <math.h>
#include <stdlib.h>

#include "tpstat.h"
#include "util.h"

/* qsort order for doubles. */
static int
tpstat_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile (sorts v). */
double
tpstat_percentile(double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), tpstat_cmp);
	return v[util_rank(n, p)];
}

/* A rate. */
double
tpstat_rate(double count, double seconds)
{
	return seconds > 0 ? count / seconds : 0;
}
