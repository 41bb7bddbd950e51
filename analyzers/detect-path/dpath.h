/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpath — the pure half of the detect-path analyzer: what the path to a destination looked
 * like in a baseline run (server hop distance from net.flow, TLS handshake time from
 * client.result) against this run, per destination, and the verdicts that follow. An
 * interceptor that terminates TCP is nearer than the server, so the server side's packets
 * arrive with fewer hops; it also adds an upstream handshake before answering, which inflates
 * the client's handshake time. Destinations are keyed by name (SNI) and, failing that, by
 * "IP:PORT". No sockets, no SDK: the unit test includes dpath.c directly.
 */
#ifndef MITMLAB_DPATH_H
#define MITMLAB_DPATH_H

#include <jansson.h>

#define DPATH_RTT_RATIO		2.0	/* handshake at least this many times the baseline... */
#define DPATH_RTT_MIN_US	500.0	/* ...and at least this much longer */
#define DPATH_SAMPLES		256	/* handshake samples kept per destination */

/* Hop comparison: 1 intercepted (fewer hops than the baseline), 0 not, -1 unknown (either
 * side < 0). Sets *conf and *signal. */
int dpath_hops_cmp(int base_hops, int run_hops, double *conf, const char **signal);
/* Handshake comparison against the baseline median: 1 inflated, 0 not, -1 unknown (either
 * side <= 0). */
int dpath_rtt_cmp(double base_median_us, double run_us, double *conf, const char **signal);
/* Median of the numbers in a JSON array (0 when empty). */
double dpath_median(const json_t *arr);

struct dpath;
struct dpath *dpath_new(void);
void dpath_free(struct dpath *d);
/* Learn from one baseline event (net.flow, client.result; others ignored). */
void dpath_baseline(struct dpath *d, const json_t *ev);
/* Baseline events learnt. */
long dpath_baseline_events(const struct dpath *d);
/* Remember one event of this run (net.flow, client.result, probe.ttl). */
void dpath_observe(struct dpath *d, json_t *ev);
/* Verdicts for client flows (a client.result seen), in first-seen flow order: [{flow, intercepted, confidence, signal, evidence,
 * at}] (new reference). */
json_t *dpath_judge(struct dpath *d);
/* Summary for analysis.result: baseline size, signals counted, probe.ttl localisations. */
json_t *dpath_summary(const struct dpath *d);

#endif
