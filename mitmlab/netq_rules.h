/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_rules — the netfilter rules of the packet plane, as code. REDIRECT mode: mangle
 * PREROUTING sends TCP packets of the queued ports to NFQUEUE (--queue-bypass when fail-open);
 * the handler marks the SYNs it diverts; nat PREROUTING saves that mark in CONNMARK and
 * REDIRECTs connections carrying it to the engine's port. TPROXY mode: the queue sits in raw
 * PREROUTING (so the handler's mark is there before mangle), mangle saves it in CONNMARK and
 * TPROXYs marked connections, and policy routing (fwmark → table 100, local route) delivers
 * them. Everything lives in a chain MITMLAB_NETQ per table so removal is exact. Monitor mode
 * (a passive netq on a router): one chain MITMLAB_NETQ_MON in mangle FORWARD queues the
 * forwarded TCP packets of the queued ports, always with --queue-bypass, and nothing else —
 * no mark, no divert; its own chain name, so the gateway's rules and a monitor's never remove
 * each other. Commands run as argv (no shell), in namespace ns via `ip netns exec` (ns NULL:
 * the current namespace).
 */
#ifndef MITMLAB_NETQ_RULES_H
#define MITMLAB_NETQ_RULES_H

#include <stddef.h>

#include "netq_conf.h"

#define NETQ_RULES_CMDLEN	512
#define NETQ_RULES_MAX		24

/* The commands (without the namespace prefix) that install (install=1) or remove (0) the rule
 * set of c into cmds; returns how many, or -1 if c->mode is unknown. */
int netq_rules_commands(const struct netq_conf *c, int install,
    char cmds[][NETQ_RULES_CMDLEN], size_t max);
/* Install the rule set in ns; on failure removes what it installed, -1 with *cause. */
int netq_rules_install(const char *ns, const struct netq_conf *c, char **cause);
/* Remove the rule set from ns, best effort (missing pieces are not errors). */
void netq_rules_remove(const char *ns, const struct netq_conf *c);

#endif
