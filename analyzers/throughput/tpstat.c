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

/* One packet-plane sample. */
void
tpstat_pp_add(struct tpstat_pp *pp, double ts_ns, double packets, double pps)
{
	if (pp->samples++ == 0)
		pp->first_ts = ts_ns;
	else
		pp->counted += packets >= pp->last_packets ? packets - pp->last_packets : packets;
	pp->last_ts = ts_ns;
	pp->last_packets = packets;
	if (pps > pp->peak_pps)
		pp->peak_pps = pps;
}

/* Mean packets/s over the samples' window. */
double
tpstat_pp_mean(const struct tpstat_pp *pp)
{
	return pp->samples < 2 ? 0 : tpstat_rate(pp->counted, (pp->last_ts - pp->first_ts) / 1e9);
}
