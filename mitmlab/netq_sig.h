/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_sig — packet signals from raw IPv4/TCP bytes as the gateway's queue hands them over:
 * addresses, ports, TTL, IP ID, flags, window, the TCP options a SYN or SYN-ACK carries (MSS,
 * window scale, SACK, timestamps, in wire order), and the payload. Also the inferences built
 * on them (initial TTL and hop distance, IP ID behaviour), the contract flow id, the first
 * line of a plain HTTP request, and the Internet checksums injected packets need. Pure
 * functions: no sockets, no allocation. Untrusted input: every length is checked, and a
 * truncated or hostile packet ends with a negative status, never a read past the buffer.
 */
#ifndef MITMLAB_NETQ_SIG_H
#define MITMLAB_NETQ_SIG_H

#include <stddef.h>
#include <stdint.h>

#define NETQ_SIG_FIN	0x01
#define NETQ_SIG_SYN	0x02
#define NETQ_SIG_RST	0x04
#define NETQ_SIG_PSH	0x08
#define NETQ_SIG_ACK	0x10

#define NETQ_SIG_LAYOUT	24	/* option layout string, e.g. "M,S,T,N,W" */
#define NETQ_SIG_FLOWID	48	/* "255.255.255.255:65535>255.255.255.255:65535" + NUL */
#define NETQ_SIG_IPID_STEP 1024	/* largest per-packet IP ID step still called "incrementing" */

enum netq_sig_status {
	NETQ_SIG_OK = 0,
	NETQ_SIG_TRUNCATED = -1,	/* fewer bytes than the headers need */
	NETQ_SIG_MALFORMED = -2,	/* an IP or TCP header length is inconsistent */
	NETQ_SIG_NOT_TCP = -3,		/* IPv4 but not TCP */
	NETQ_SIG_NOT_IPV4 = -4,		/* version is not 4 */
	NETQ_SIG_FRAGMENT = -5,		/* a non-first fragment (no TCP header) */
};

/* TCP options as sent (all zero when absent). Options Linux ignores do not refuse the packet
 * (the kernel completes a handshake with them, so netq must still decide the flow): an MSS,
 * window scale, SACK-permitted or timestamp option of the wrong length is skipped, and a
 * length below 2, one running past the options area or a lone kind byte at the end ends the
 * list; each sets malformed and shows as "!" in layout. */
struct netq_sig_opts {
	int	 has_mss;
	uint16_t mss;
	int	 has_ws;
	uint8_t	 ws;
	int	 sack_perm;
	int	 has_ts;
	uint32_t tsval;
	uint32_t tsecr;
	int	 malformed;	/* an option Linux ignores (above) */
	char	 layout[NETQ_SIG_LAYOUT];	/* kinds in order: M S T N W E(nd) ? (other)
						 * !(malformed) */
};

/* One parsed IPv4/TCP packet; addresses in host byte order. payload points into the input. */
struct netq_sig_pkt {
	uint32_t src, dst;
	uint8_t	 ttl;
	uint8_t	 tos;
	uint16_t ipid;
	int	 df;
	uint16_t ip_len;	/* total length from the header */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t	 flags;
	uint16_t window;
	struct netq_sig_opts opts;
	const uint8_t *payload;
	size_t	 payload_len;	/* TCP payload bytes present in the buffer */
};

/* Parse buf[0..len). NETQ_SIG_OK fills *p; any other status leaves *p unspecified. */
enum netq_sig_status netq_sig_parse(const uint8_t *buf, size_t len, struct netq_sig_pkt *p);
/* Parse the TCP options area opt[0..len) into *o (o->malformed for options Linux ignores). */
void netq_sig_opts_parse(const uint8_t *opt, size_t len, struct netq_sig_opts *o);

/* The initial TTL a sender most likely used: the smallest of 64, 128, 255 not below ttl. */
int netq_sig_ttl_initial(uint8_t ttl);
/* The sequence number of p's first payload byte: one past the SYN's own on a SYN that carries
 * data (TCP Fast Open), p->seq otherwise. */
uint32_t netq_sig_data_seq(const struct netq_sig_pkt *p);
/* Routers between the sender and the observer: netq_sig_ttl_initial(ttl) - ttl. */
int netq_sig_hops(uint8_t ttl);
/* IP ID behaviour of a side from the IDs of its first packets, in order: "zero", "constant",
 * "incrementing" (every step 1..NETQ_SIG_IPID_STEP mod 2^16), "random", or "unknown" (n < 2
 * and not zero). */
const char *netq_sig_ipid_class(const uint16_t *ids, size_t n);
/* "CLIENTIP:CPORT>DSTIP:DPORT" (the contract flow id) into out[NETQ_SIG_FLOWID]. */
char *netq_sig_flow_id(uint32_t cip, uint16_t cport, uint32_t sip, uint16_t sport, char *out);
/* Dotted quad of a host-order address into out (16 bytes). */
char *netq_sig_ip_str(uint32_t ip, char *out);
/*
 * Sniff an HTTP/1.x request ("GET /x HTTP/1.1\r\nHost: a.lab\r\n...") in data[0..len), a
 * connection's first client bytes or only the start of them. NETQ_HTTP_YES: a request whose
 * Host line has ended (its value, lower case, port removed, cut to hostlen - 1, into host) or
 * whose header block has ended without one (host ""). NETQ_HTTP_MORE: a request so far, the
 * rest to come: a method (or a prefix of one), then a request line, a header line or the
 * header block not yet ended (host ""; a Host line is taken only once its line ends, so a
 * value cut by a segment boundary is never taken for the name). NETQ_HTTP_NO: not a request.
 */
enum netq_http { NETQ_HTTP_NO = 0, NETQ_HTTP_YES, NETQ_HTTP_MORE };
enum netq_http netq_sig_http_request(const uint8_t *data, size_t len, char *host, size_t hostlen);

/* The Internet checksum of an IPv4 header hdr[0..len) (checksum field taken as is). */
uint16_t netq_sig_ip_csum(const uint8_t *hdr, size_t len);
/* The TCP checksum over the pseudo-header and seg[0..len) (checksum field taken as is). */
uint16_t netq_sig_tcp_csum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len);

#endif
