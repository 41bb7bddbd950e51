/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq — the packet plane (`mitmlab netq`, DESIGN.md "Packet plane"): a libnetfilter_queue
 * handler in the gateway namespace that sees the TCP packets of the queued ports before the
 * engine does. On each SYN it decides diversion (netq_conf_divert) and marks the packet, which
 * the divert rules (netq_rules.h) turn into CONNMARK + REDIRECT/TPROXY; flows not diverted
 * never reach the engine. It records each flow's packet signals (netq_flow.h) and publishes
 * them from the network vantage (src "net"): one "net.flow" per flow when its signals are
 * final (both sides sent data, a side closed, or the flow left the table), one "net.impair"
 * per impaired flow, and "net.stats" every stats period; every net.* event carries
 * "vantage" ("gateway"). The same period publishes the handler's own throughput as a
 * "proxy.stats" event with "component": "netq" (ground truth: it counts diverted flows).
 * It applies the impairments (netq_impair.h): drops with the seeded generator, delays
 * through a bounded hold queue (never sleeping), RST and HTTP-302 injection through a raw
 * socket, silence after the hello.
 *
 * Monitor mode (--monitor, conf->monitor): a passive observer in a router before the gateway.
 * It sees forwarded packets (mangle FORWARD, after this router decremented the TTL, so the TTL
 * is reported as it arrived: seen + 1), accepts every one, diverts and impairs nothing, records
 * only flows whose client is --on-path (all when none given), and publishes net.flow (with
 * "path_hops": routers from client to server as this vantage infers them) and net.stats with
 * src "net.<vantage>" and "vantage": "<vantage>", without the gateway's "diverted" /
 * "on_path" keys (it cannot know them) and without proxy.stats.
 *
 * Bounds: a fixed flow table with LRU eviction, signals from the first NETQ_FLOW_PKTS packets
 * per direction, at most one net.flow and one net.impair per flow and a token bucket of
 * events_per_s on both; net.stats reports what was suppressed and what the bus dropped.
 * Verdicts: plain accepts within one read burst go out as one batch verdict while no packet
 * is held; marks, drops and released holds get their own.
 */
#ifndef MITMLAB_NETQ_H
#define MITMLAB_NETQ_H

#include <stddef.h>
#include <stdint.h>

#include "netq_conf.h"

/* What becomes of a packet: accepted as is, accepted with the divert mark, dropped, or held
 * and accepted later (an impairment's delay). */
enum netq_verdict { NETQ_V_ACCEPT, NETQ_V_MARK, NETQ_V_DROP, NETQ_V_HOLD };

struct netq;
struct netq_flow_table;

/* Run the handler until *stop becomes non-zero (checked at least every stats period and after
 * every signal). -1 with *cause if the queue cannot be opened or fails. */
int netq_run(const struct netq_conf *c, volatile int *stop, char **cause);

/*
 * The handler's decisions without its queue (netq_run uses them; the unit tests drive them
 * directly). netq_new: the state for c (kept by reference, not copied), with its flow table
 * and hold queue but no queue, raw socket or bus: it publishes no events, and a packet an
 * impairment would inject counts as an injection error. NULL with *cause if out of memory.
 */
struct netq *netq_new(const struct netq_conf *c, char **cause);
/* Close what q opened and free it (NULL is a no-op). */
void netq_free(struct netq *q);
/* The verdict on one IPv4 packet data[0..len) as the queue hands it over, carrying the mark
 * mark_in: its signals go into its flow; a client's SYN to divert gets NETQ_V_MARK with
 * *mark_out = mark_in | conf->mark; an impairment may drop it or hold it for *hold_ms. */
enum netq_verdict netq_packet(struct netq *q, const uint8_t *data, size_t len, uint32_t mark_in,
    uint32_t *mark_out, uint32_t *hold_ms);
/* The flow table of q (netq_flow_get reads the flows netq_packet keeps). */
struct netq_flow_table *netq_flows(struct netq *q);

#endif
