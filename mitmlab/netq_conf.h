/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_conf — the packet plane's configuration: queue, rule mode, diversion (destination
 * targets and the client networks on the interceptor's path), impairments and bounds, with
 * its defaults, and the pure diversion decision made on each SYN. Filled by cmd_netq.c from
 * the command line (the runner passes scenario keys as options); read by netq.c and
 * netq_rules.c. A monitor (`--monitor`) is the passive variant for a router before the
 * gateway: forwarded packets, always accepted, no diversion, no impairment, always fail-open.
 */
#ifndef MITMLAB_NETQ_CONF_H
#define MITMLAB_NETQ_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "netq_impair.h"
#include "policy.h"

#define NETQ_CONF_CIDRS		64
#define NETQ_CONF_PORTS		8
#define NETQ_CONF_VANTAGE	32
#define NETQ_CONF_MON_QUEUE	1	/* a monitor's default queue: never the gateway's 0 */

struct netq_conf {
	int	 queue_num;		/* [0] NFQUEUE number (per network namespace) */
	uint32_t queue_maxlen;		/* [4096] packets the kernel queues for us */
	int	 fail_open;		/* [0] --queue-bypass in the rules + F_FAIL_OPEN */
	uint32_t mark;			/* [0x1] divert bit set on the SYN and saved in CONNMARK */
	char	 mode[16];		/* [redirect] redirect | tproxy (rule set) */
	int	 proxy_port;		/* [8443] the engine's port */
	int	 divert_port;		/* [443] only SYNs to this port can be diverted */
	size_t	 n_ports;
	int	 ports[NETQ_CONF_PORTS];	/* [443, 80] queued TCP ports (either side) */
	int	 divert_all;		/* divert every on-path flow to divert_port */
	size_t	 n_dst;
	struct policy_cidr dst[NETQ_CONF_CIDRS];	/* --divert-dst */
	size_t	 n_path;
	struct policy_cidr path[NETQ_CONF_CIDRS];	/* --on-path (none: every source) */
	struct netq_impair impair;
	uint64_t seed;			/* [1] drop decisions */
	size_t	 max_flows;		/* [4096] flow table slots */
	size_t	 hold_max;		/* [1024] packets held by "delay" at once */
	int	 events_per_s;		/* [2000] cap on net.flow + net.impair */
	int	 idle_s;		/* [30] a flow silent this long is reported and dropped */
	int	 stats_ms;		/* [1000] net.stats period */
	char	*bus;			/* bus endpoint (NULL: no events) */
	int	 install_rules;		/* install the rules at start, remove them at exit */
	int	 monitor;		/* passive monitor: FORWARD, accept only, fail-open */
	char	 vantage[NETQ_CONF_VANTAGE];	/* ["gateway"] "vantage" key of net.* events */
	int	 debug;
};

/* Defaults. */
void netq_conf_init(struct netq_conf *c);
/* Free what netq_conf_init and the setters allocated. */
void netq_conf_free(struct netq_conf *c);
/* Add an IPv4 CIDR to --divert-dst (which 'd') or --on-path (which 'p'). */
int netq_conf_add_cidr(struct netq_conf *c, int which, const char *cidr, char **cause);
/* Set the queued ports from "443,80". */
int netq_conf_set_ports(struct netq_conf *c, const char *list, char **cause);
/* Non-zero if traffic from src (host order) is on the interceptor's path. */
int netq_conf_on_path(const struct netq_conf *c, uint32_t src);
/* Non-zero if a SYN src→dst:dport (host order) is to be diverted to the engine. */
int netq_conf_divert(const struct netq_conf *c, uint32_t src, uint32_t dst, uint16_t dport);
/* Set the vantage name ([a-z0-9_-], 1..31 bytes). */
int netq_conf_set_vantage(struct netq_conf *c, const char *name, char **cause);
/* Make c a monitor and check that nothing active was asked of it (diversion, impairments,
 * a rule mode other than the default); forces fail-open and, unless queue_set, the queue
 * NETQ_CONF_MON_QUEUE. -1 with *cause naming the offending option. */
int netq_conf_monitor(struct netq_conf *c, int queue_set, char **cause);
/* The bus source of c's events: "net" for the gateway, "net.<vantage>" for a monitor (one
 * sequence per process, so the forwarder's gap count stays exact). */
const char *netq_conf_src(const struct netq_conf *c, char *buf, size_t len);

#endif
