/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_stats — the run totals of `mitmlab client`: counts by outcome, achieved rate and
 * nearest-rank percentiles of handshake and total times, published as client.summary.
 */
#ifndef MITMLAB_CLIENT_STATS_H
#define MITMLAB_CLIENT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "client_result.h"

struct client_series {
	uint64_t *v;
	size_t	n, cap;
};

struct client_stats {
	uint64_t counts[CLIENT_NOUTCOMES];
	uint64_t launched, aborted;
	struct client_series handshake_us, total_us;
	char	example[CLIENT_NOUTCOMES][200];	/* first error detail per outcome */
};

/* Nearest-rank percentile p (0 < p <= 100) of v[0..n); sorts v in place; 0 when n == 0. */
uint64_t client_stats_percentile(uint64_t *v, size_t n, double p);
/* Append a sample (silently dropped when out of memory). */
void client_stats_push(struct client_series *s, uint64_t v);
/* Count one finished connection. */
void client_stats_add(struct client_stats *st, const struct client_record *r);
/* The client.summary event (new reference); stopped_by is "count", "duration" or "signal". */
json_t *client_stats_summary(struct client_stats *st, uint64_t elapsed_ns,
    const char *stopped_by);
void client_stats_free(struct client_stats *st);

#endif
