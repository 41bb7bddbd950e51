/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vantage — which event topics an analyzer may see. A vantage is a point of observation a real
 * detector could have: "client" (client.*: what the browser saw), "origin" (origin.*: what the
 * server saw), "net" (net.*: packets on the path). "proxy" is ground truth (proxy.* and
 * lab.truth.*) and is granted only to analyzers whose role is "truth". Every analyzer also
 * receives the run's control events (lab.run.*: start and end). The harness (harness.c) and the
 * analyzer SDK (analyzers/lib) both filter with these functions, so the table lives in one
 * place. Pure functions: no state, no I/O.
 */
#ifndef MITMLAB_VANTAGE_H
#define MITMLAB_VANTAGE_H

#include <stddef.h>

#define VANTAGE_CLIENT	0x1u
#define VANTAGE_ORIGIN	0x2u
#define VANTAGE_NET	0x4u
#define VANTAGE_PROXY	0x8u	/* ground truth: proxy.* and lab.truth.* */
#define VANTAGE_ALL	0xfu
#define VANTAGE_MAX_PREFIXES 8	/* enough for every vantage plus lab.run. */

/* The bit of a vantage name ("client", "origin", "net", "proxy"), 0 if unknown. */
unsigned vantage_bit(const char *name);
/* The name of one vantage bit, NULL if it is not exactly one known bit. */
const char *vantage_name(unsigned bit);
/* Parse "client,origin" (comma-separated, no spaces) into *set; -1 with *cause on an unknown
 * or empty name. */
int vantage_parse_list(const char *s, unsigned *set, char **cause);
/* Format a set as "client,origin" into buf (always NUL-terminated); returns buf. */
char *vantage_format(unsigned set, char *buf, size_t len);
/* The topic prefixes a set may receive, "lab.run." first; returns how many were stored
 * (at most max). */
int vantage_prefixes(unsigned set, const char **out, int max);
/* Non-zero when topic[0..len) may be delivered to an analyzer holding set. */
int vantage_allows(unsigned set, const char *topic, size_t len);

#endif
