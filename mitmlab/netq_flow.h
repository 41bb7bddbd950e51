/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_flow — the packet plane's per-flow table: a fixed number of slots allocated once, a
 * hash on the flow's addresses and ports, and a least-recently-used list so that a flood of
 * new flows evicts old ones instead of growing memory. Each flow keeps the signals of its
 * first NETQ_FLOW_PKTS packets per direction (netq_sig.h), its timing, its diversion decision
 * and its impairment state; the table never publishes anything itself — eviction and expiry
 * call the owner's callback, which decides what to report. Not thread-safe (one handler).
 */
#ifndef MITMLAB_NETQ_FLOW_H
#define MITMLAB_NETQ_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "netq_sig.h"

#define NETQ_FLOW_PKTS	8	/* packets per direction whose signals are kept */
#define NETQ_FLOW_NAME	256	/* SNI or HTTP Host */

/* What one direction of a flow showed. */
struct netq_flow_side {
	uint32_t pkts;		/* packets seen (all of them) */
	uint64_t bytes;		/* IP bytes seen */
	uint8_t	 ttl;		/* of the first packet */
	uint8_t	 ttl_min, ttl_max;
	uint16_t window;	/* of the handshake packet (SYN / SYN-ACK), else the first */
	int	 df;
	size_t	 n_ipid;
	uint16_t ipid[NETQ_FLOW_PKTS];
	int	 have_hs;	/* saw the SYN (client) / SYN-ACK (server) */
	struct netq_sig_opts opts;	/* of that handshake packet */
	uint64_t hs_ns;		/* when */
	uint64_t data_ns;	/* first payload byte */
	uint32_t data_len;	/* payload of the first data packet */
	uint32_t flight_bytes;	/* payload of this side's first flight (see netq_flow_note) */
	int	 fin, rst;
};

enum netq_flow_end { NETQ_FLOW_OPEN = 0, NETQ_FLOW_DEAD };	/* DEAD: impairment ended it */

struct netq_flow {
	uint32_t cip, sip;		/* client / server, host order */
	uint16_t cport, sport;
	uint64_t first_ns, last_ns;
	struct netq_flow_side c, s;	/* client→server, server→client */
	int	 diverted;		/* the SYN got the divert mark */
	int	 on_path;		/* the client network is on the interceptor's path */
	int	 published;		/* net.flow sent */
	int	 impair;		/* index of the matched impairment rule, -1 none */
	int	 impair_checked_name;	/* rules re-checked once the name was known */
	int	 impair_reported;	/* net.impair sent */
	enum netq_flow_end state;
	int	 name_tried;		/* looked for a ClientHello / Host already */
	int	 c_second;		/* the client sent data after the server's first data */
	char	 name[NETQ_FLOW_NAME];	/* SNI or HTTP Host, "" unknown */
	/* table links (private) */
	int32_t	 hnext, lprev, lnext;
};

struct netq_flow_table;

/* Called for a flow about to leave the table (evicted for space, or expired). why is
 * "evict" or "idle". The flow is valid only during the call. */
typedef void netq_flow_cb(struct netq_flow *f, const char *why, void *arg);

/* A table of at most max flows (>= 1); cb (may be NULL) sees every flow that leaves it. */
struct netq_flow_table *netq_flow_table_new(size_t max, netq_flow_cb *cb, void *arg);
void netq_flow_table_free(struct netq_flow_table *t);
/*
 * The flow of (cip:cport > sip:sport), most recently used now; with create, a new flow
 * (the LRU one evicted if the table is full, *created set) when there is none. NULL if absent
 * and !create.
 */
struct netq_flow *netq_flow_get(struct netq_flow_table *t, uint32_t cip, uint16_t cport,
    uint32_t sip, uint16_t sport, uint64_t now_ns, int create, int *created);
/* Remove flows idle since before now_ns - idle_ns, oldest first, at most max of them; returns
 * how many left. */
size_t netq_flow_expire(struct netq_flow_table *t, uint64_t now_ns, uint64_t idle_ns,
    size_t max);
/* Remove every flow (cb sees each with why "exit"). */
void netq_flow_clear(struct netq_flow_table *t);
size_t netq_flow_count(const struct netq_flow_table *t);
uint64_t netq_flow_evictions(const struct netq_flow_table *t);

/* Which way p goes: 1 client→server, 0 server→client. A SYN decides; otherwise the lower port
 * is the server's (443 and 80 are below any ephemeral port). */
int netq_flow_c2s(const struct netq_sig_pkt *p);
/* Record p's signals in its side of f (bounded: only the first NETQ_FLOW_PKTS keep IP IDs).
 * First flights: the client's is its payload before the server's first data (the
 * ClientHello), the server's is its payload from then until the client sends again (TLS: the
 * ServerHello .. Finished flight, whose size follows the certificate chain even when it is
 * encrypted). Retransmitted bytes count again. */
void netq_flow_note(struct netq_flow *f, const struct netq_sig_pkt *p, int c2s, uint64_t now_ns);
/* Non-zero once both sides have sent data, or a side closed: the flow's signals are final. */
int netq_flow_complete(const struct netq_flow *f);

#endif
