/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_flow — the packet plane's per-flow table: a fixed number of slots allocated once, a
 * hash on the flow's addresses and ports, and a least-recently-used list so that a flood of
 * new flows evicts old ones instead of growing memory. Each flow keeps the signals of its
 * first NETQ_FLOW_PKTS packets per direction (netq_sig.h), its timing, its diversion decision
 * and its impairment state; the table never publishes anything itself — eviction and expiry
 * call the owner's callback, which decides what to report. It also reassembles a ClientHello
 * that spans TCP segments (a post-quantum key share makes one larger than a segment, and
 * splitting the hello is a known way around a DPI box that reads only the first packet), and
 * a plain HTTP request whose Host header comes in a later segment than the request's start
 * (the same evasion against Host-based blocking), in a pool of NETQ_HELLO_SLOTS buffers
 * allocated with the table. Not thread-safe (one handler).
 */
#ifndef MITMLAB_NETQ_FLOW_H
#define MITMLAB_NETQ_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "netq_sig.h"
#include "tlspeek.h"

#define NETQ_FLOW_PKTS	8	/* packets per direction whose signals are kept */
#define NETQ_FLOW_NAME	256	/* SNI or HTTP Host */
#define NETQ_HELLO_MAX	16384	/* bytes of a ClientHello or request head the table reassembles */
#define NETQ_HELLO_SLOTS 64	/* flows reassembling at once (the pool: 1 MiB) */
/* With every slot taken, a new search takes the slot of the one that began longest ago if that
 * was at least this long before (counted as not reassembled, and as reclaimed): a split hello
 * or request completes within a round trip, so a search this old has stalled, and 64 clients
 * that start one and never finish it cannot keep every other flow from being named. */
#define NETQ_HELLO_STALE_NS 1000000000ull
#define NETQ_FLOW_FLIGHT_MAX (1u << 30)	/* a first flight's size stops here */

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
	/* this side's first flight (see netq_flow_note; its size: netq_flow_flight_bytes) */
	int	 flight_on;	/* it has begun: */
	uint32_t flight_seq0;	/* its lowest sequence number */
	uint32_t flight_end;	/* one past its highest */
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
	int	 impair_reported;	/* net.impair sent */
	enum netq_flow_end state;
	int	 name_tried;		/* looked for a ClientHello / Host already */
	int	 c_second;		/* the client sent data after the server's first data */
	int	 http;			/* the client's first data is an HTTP/1.x request (set once
					 * its Host line or header block has ended) */
	char	 name[NETQ_FLOW_NAME];	/* SNI or HTTP Host, "" unknown */
	/* the ClientHello or HTTP request being reassembled (netq_flow_hello; private) */
	int32_t	 hello_slot;		/* pool slot + 1; 0: none */
	int	 hello_http;		/* 1: the slot holds an HTTP request, 0: a hello */
	uint32_t hello_len;		/* bytes held */
	uint32_t hello_seq0;		/* the sequence number of the first */
	uint64_t hello_t0;		/* when the search took its slot (the flow's last_ns) */
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

/*
 * Look for the SNI of f's ClientHello in the client's TCP payload data[0..len) at sequence
 * number seq; call it with the flow's first client data, then with every later client segment
 * while netq_flow_hello_pending(f). A hello that parses from the first data names f at once.
 * One that needs more bytes is copied into a pool slot and the following segments are
 * appended in sequence until it parses: bytes already held (a retransmission) are skipped; a
 * gap (a segment out of order), a hello over NETQ_HELLO_MAX, no free slot, or bytes that are
 * not a ClientHello end the search without a name. The name goes into f->name (a hello
 * without SNI leaves it ""). Returns 1 while more is wanted, 0 when the search is over. h is
 * the parser's scratch.
 */
int netq_flow_hello(struct netq_flow_table *t, struct netq_flow *f, uint32_t seq,
    const uint8_t *data, size_t len, struct tlspeek_hello *h);
/*
 * The same for an HTTP/1.x request: call it with the flow's first client data when
 * netq_sig_http_request said NETQ_HTTP_MORE (a request whose Host line or header block has
 * not ended in these bytes). They are held in a pool slot, and netq_flow_hello's calls for the
 * following segments append to them until the request names the flow (f->name; "" when its
 * headers end without a Host) or the search ends as for a hello (a gap, over NETQ_HELLO_MAX,
 * no free slot, bytes that stop reading as a request). f->http is set once it has read as a
 * request. Returns 1 while more is wanted.
 */
int netq_flow_http(struct netq_flow_table *t, struct netq_flow *f, uint32_t seq,
    const uint8_t *data, size_t len);
/* Non-zero while f's ClientHello (or HTTP request) is being reassembled. */
int netq_flow_hello_pending(const struct netq_flow *f);
/* Stop reassembling f's hello (the flow is ended): its slot goes back, counted as lost. */
void netq_flow_hello_abandon(struct netq_flow_table *t, struct netq_flow *f);
/* Pool slots free (NETQ_HELLO_SLOTS when no flow is reassembling). */
size_t netq_flow_hello_free(const struct netq_flow_table *t);
/* Slots taken from a stalled search for a new one (NETQ_HELLO_STALE_NS). */
uint64_t netq_flow_hello_reclaimed(const struct netq_flow_table *t);
/* Hellos reassembled from more than one segment (with or without an SNI), and searches that
 * ended without a parsed hello after taking or asking for a slot: a gap, too large, no free
 * slot, bytes that stop parsing as a ClientHello, or the flow ended or left the table
 * meanwhile. A first segment that is not TLS at all is not counted. */
void netq_flow_hello_counts(const struct netq_flow_table *t, uint64_t *joined, uint64_t *lost);
/* The same for HTTP requests (netq_flow_http): named from more than one segment (with or
 * without a Host), and searches that ended without their Host line or header block. These
 * include first segments that only looked like the start of a request ("P", "GET" then no
 * line end) and turned out not to be one, and flows an impairment ended meanwhile. */
void netq_flow_http_counts(const struct netq_flow_table *t, uint64_t *joined, uint64_t *lost);

/* Which way p goes by its flags and ports alone: 1 client→server, 0 server→client. A SYN
 * decides; otherwise the lower port is the server's (443 and 80 are below any ephemeral port,
 * but not below a port a client chose to bind: netq_flow_dir). */
int netq_flow_c2s(const struct netq_sig_pkt *p);
/* Which way p goes in t: a SYN decides (SYN-ACK: server→client); any other packet goes the way
 * of the flow t holds for its addresses and ports, looked up both ways round, as that flow's
 * SYN or SYN-ACK oriented it (so a client bound to a port below the server's, 100 > 443, is
 * still the client). Should t hold both orientations, the one a handshake oriented wins. Only
 * a packet of no flow in t (first seen mid-stream, or after its flow left the table) falls
 * back to netq_flow_c2s's port guess. Touches nothing. */
int netq_flow_dir(const struct netq_flow_table *t, const struct netq_sig_pkt *p);
/* Record p's signals in its side of f (bounded: only the first NETQ_FLOW_PKTS keep IP IDs).
 * First flights: the client's is its payload before the server's first data (the
 * ClientHello), the server's is its payload from then until the client sends again (TLS: the
 * ServerHello .. Finished flight, whose size follows the certificate chain even when it is
 * encrypted). A flight's size is the span of sequence numbers its segments cover, so a
 * retransmitted or reordered segment counts once; the client "sends again" only with bytes
 * beyond its flight (a retransmitted ClientHello does not end the server's flight). Sizes
 * stop growing at NETQ_FLOW_FLIGHT_MAX. */
void netq_flow_note(struct netq_flow *f, const struct netq_sig_pkt *p, int c2s, uint64_t now_ns);
/* The payload bytes of s's first flight (0 before it begins). */
uint32_t netq_flow_flight_bytes(const struct netq_flow_side *s);
/* Non-zero once both sides have sent data, or a side closed: the flow's signals are final. */
int netq_flow_complete(const struct netq_flow *f);

#endif
