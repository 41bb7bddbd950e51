/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpstat — small statistics for the throughput measure: nearest-rank percentiles over an
 * array of samples, a rate guarded against a zero-length window, and the packet plane's
 * packets/s from its cumulative proxy.stats counters. Pure; tested in tests/unit/test_tpstat.c.
 */
#ifndef THROUGHPUT_TPSTAT_H
#define THROUGHPUT_TPSTAT_H

#include <stddef.h>

/* Nearest-rank percentile p (0 < p <= 100) of v[0..n) — v is sorted in place. 0 when n == 0. */
double tpstat_percentile(double *v, size_t n, double p);
/* count / seconds, 0 when seconds <= 0. */
double tpstat_rate(double count, double seconds);

/* The packet plane's throughput from its proxy.stats samples (cumulative "packets", the
 * period's "packets_per_s"): peak of the periods, and the mean over the whole window as
 * packets counted between the first and the last sample over the time between them. A
 * counter that goes down is a restarted handler: its count starts a new segment. */
struct tpstat_pp {
	long	 samples;
	double	 first_ts, last_ts;	/* ns */
	double	 last_packets, counted;	/* packets seen after the first sample */
	double	 peak_pps;
};
void tpstat_pp_add(struct tpstat_pp *pp, double ts_ns, double packets, double pps);
/* Mean packets/s over the window (0 with fewer than two samples). */
double tpstat_pp_mean(const struct tpstat_pp *pp);

#endif
