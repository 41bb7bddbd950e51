/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_flows — the report sections computed from recorded events: hosts and triggers,
 * ClientHello fingerprints, forged-certificate samples, the breakage matrix and timing
 * distributions. Input is the events grouped by topic ({"topic": [event, ...]}); each function
 * returns a new JSON section and never fails on missing topics (a section then says so).
 */
#ifndef MITMLAB_REPORT_FLOWS_H
#define MITMLAB_REPORT_FLOWS_H

#include <jansson.h>

/* Does SNI match a target pattern ("name" or "*.suffix", case-insensitive)? */
int report_flows_match(const char *pattern, const char *sni);
/* Targets, rules, observed names with actions and trigger reasons. */
json_t *report_flows_hosts(const json_t *by);
/* flow id -> the flow's last proxy.conn.open (the engine's decision on it; a reused flow id
 * counts by its last), as a new object holding references to the events. */
json_t *report_flows_opens(const json_t *by);
/* Interceptor's upstream hello (origin view) vs clients' (origin and proxy views). */
json_t *report_flows_fingerprints(const json_t *by);
/* Up to max distinct hosts: original vs forged leaf, field by field. */
json_t *report_flows_forged(const json_t *by, int max);
/* Clients x sites -> outcome counts. */
json_t *report_flows_breakage(const json_t *by);
/* Handshake/total time distributions by client and by path; proxy.stats series. */
json_t *report_flows_performance(const json_t *by);
/* Summary statistics of an array of numbers: {n, min, p50, p90, p99, max, mean}. */
json_t *report_flows_stats(const json_t *values);

#endif
