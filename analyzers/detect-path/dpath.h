/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpath — the pure half of the detect-path analyzer: what the path to a destination looked
 * like in a baseline run (server hop distance and the server's first-flight size from
 * net.flow, TLS handshake time from client.result) against this run, per destination and per
 * network vantage ("vantage" of net.flow: "gateway", or the router a passive monitor runs in),
 * and the verdicts that follow. An interceptor that terminates TCP is nearer than the server,
 * so the server side's packets arrive with fewer hops — seen only from a vantage before the
 * terminator (a monitor), never at the gateway itself, where the engine's packets are local.
 * Fewer hops says "TCP terminated", which a splicing proxy does too; the server's first flight
 * (ServerHello .. Finished, its size set by the certificate chain even under TLS 1.3) tells
 * the two apart: relayed, it is the size the baseline saw for that destination; forged, it is
 * not. The terminator's hop (routers from the client: client_hops + 1 + server_hops at the
 * monitor) localises the interceptor. Without hops the handshake time decides: an upstream
 * handshake before answering inflates it. Destinations are keyed by name (SNI) and, failing
 * that, by "IP:PORT". No sockets, no SDK: the unit tests include dpath.c directly.
 */
#ifndef MITMLAB_DPATH_H
#define MITMLAB_DPATH_H

#include <jansson.h>

#define DPATH_RTT_RATIO		2.0	/* handshake at least this many times the baseline... */
#define DPATH_RTT_MIN_US	500.0	/* ...and at least this much longer */
#define DPATH_SAMPLES		256	/* handshake / flight samples kept per destination */
#define DPATH_FLIGHT_MIN	64	/* server flight "changed": off the baseline median by at
					 * least this many bytes... */
#define DPATH_FLIGHT_RATIO	0.05	/* ...and this fraction of it */
/* The largest sane values; an event with a number outside 0..max (or a hop count of any
 * other integer) is ignored whole and counted ("ignored_events" in the summary). */
#define DPATH_HOPS_MAX		255			/* client_hops, server_hops */
#define DPATH_BYTES_MAX		1073741824.0		/* server_flight_bytes */
#define DPATH_US_MAX		1e12			/* t_handshake_us (11.6 days) */

/* Hop comparison: 1 intercepted (fewer hops than the baseline), 0 not, -1 unknown (either
 * side < 0). Sets *conf and *signal. */
int dpath_hops_cmp(int base_hops, int run_hops, double *conf, const char **signal);
/* Handshake comparison against the baseline median: 1 inflated, 0 not, -1 unknown (either
 * side <= 0). */
int dpath_rtt_cmp(double base_median_us, double run_us, double *conf, const char **signal);
/* Server first-flight comparison against the baseline median: 1 changed, 0 the same, -1
 * unknown (either side <= 0). */
int dpath_flight_cmp(double base_median, double run_bytes, double *conf, const char **signal);
/* Median of the numbers in a JSON array (0 when empty). */
double dpath_median(const json_t *arr);

struct dpath;
struct dpath *dpath_new(void);
void dpath_free(struct dpath *d);
/* Learn from one baseline event (net.flow, client.result; others ignored, as are events with
 * absurd numbers: counted). */
void dpath_baseline(struct dpath *d, const json_t *ev);
/* Baseline events learnt. */
long dpath_baseline_events(const struct dpath *d);
/* Remember one event of this run (net.flow, client.result, probe.ttl). */
void dpath_observe(struct dpath *d, json_t *ev);
/* Verdicts for client flows (a client.result seen), in first-seen flow order: [{flow,
 * intercepted, confidence, signal, evidence, at}] (new reference). */
json_t *dpath_judge(struct dpath *d);
/* The same verdicts one at a time, each borrowed by fn for the call: a run's worth of them
 * is never held at once. */
void dpath_judge_each(struct dpath *d, void (*fn)(json_t *, void *), void *arg);
/* Summary for analysis.result: baseline size (events; baseline_destinations: the destinations
 * it has, each counted once over vantages and lookup keys: a name, or an address never seen
 * with one; baseline_names and baseline_addresses: the distinct names and IP:PORTs), signals
 * counted, the terminator's hop as the monitor saw it ("terminator": {vantage, hop, hops:
 * {HOP: flows}}, null without one), probe.ttl localisations and the events of the run or the
 * baseline ignored for absurd numbers ("ignored_events"). Call after dpath_judge or
 * dpath_judge_each. */
json_t *dpath_summary(const struct dpath *d);

#endif
