/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_sig — IPv4/TCP header and option parsing, the TTL / IP ID inferences, the flow id, the
 * HTTP request sniff and Internet checksums (netq_sig.h). Everything works on caller buffers;
 * the packet plane (netq.c) decides what to do with the results.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "netq_sig.h"

/* Big-endian 16-bit read. */
static uint16_t
netq_sig_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* Big-endian 32-bit read. */
static uint32_t
netq_sig_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Append one layout character, keeping the string bounded. */
static void
netq_sig_layout_add(struct netq_sig_opts *o, char c)
{
	size_t n = strlen(o->layout);

	if (n + 2 >= sizeof(o->layout))
		return;
	if (n > 0)
		o->layout[n++] = ',';
	o->layout[n++] = c;
	o->layout[n] = '\0';
}

/* Mark the options malformed where they went wrong (netq_sig.h). */
static void
netq_sig_opts_bad(struct netq_sig_opts *o)
{
	o->malformed = 1;
	netq_sig_layout_add(o, '!');
}

/* Parse the TCP options area as Linux does (tcp_parse_options): a known option of the wrong
 * length is ignored, a length below 2 or past the area, or a lone kind byte at the end, ends
 * the list; each is noted as malformed, none refuses the packet. */
void
netq_sig_opts_parse(const uint8_t *opt, size_t len, struct netq_sig_opts *o)
{
	size_t i = 0, olen;
	uint8_t kind;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		kind = opt[i];
		if (kind == 0) {		/* end of list */
			netq_sig_layout_add(o, 'E');
			return;
		}
		if (kind == 1) {		/* NOP */
			netq_sig_layout_add(o, 'N');
			i++;
			continue;
		}
		if (i + 1 >= len) {		/* a kind without its length */
			netq_sig_opts_bad(o);
			return;
		}
		olen = opt[i + 1];
		if (olen < 2 || i + olen > len) {
			netq_sig_opts_bad(o);
			return;
		}
		switch (kind) {
		case 2:
			if (olen != 4) {
				netq_sig_opts_bad(o);
				break;
			}
			o->has_mss = 1;
			o->mss = netq_sig_be16(opt + i + 2);
			netq_sig_layout_add(o, 'M');
			break;
		case 3:
			if (olen != 3) {
				netq_sig_opts_bad(o);
				break;
			}
			o->has_ws = 1;
			o->ws = opt[i + 2];
			netq_sig_layout_add(o, 'W');
			break;
		case 4:
			if (olen != 2) {
				netq_sig_opts_bad(o);
				break;
			}
			o->sack_perm = 1;
			netq_sig_layout_add(o, 'S');
			break;
		case 8:
			if (olen != 10) {
				netq_sig_opts_bad(o);
				break;
			}
			o->has_ts = 1;
			o->tsval = netq_sig_be32(opt + i + 2);
			o->tsecr = netq_sig_be32(opt + i + 6);
			netq_sig_layout_add(o, 'T');
			break;
		default:
			netq_sig_layout_add(o, '?');
			break;
		}
		i += olen;
	}
}

/* Parse one IPv4/TCP packet. */
enum netq_sig_status
netq_sig_parse(const uint8_t *buf, size_t len, struct netq_sig_pkt *p)
{
	size_t ihl, thl, end;
	uint16_t frag;

	memset(p, 0, sizeof(*p));
	if (len < 1)
		return NETQ_SIG_TRUNCATED;
	if ((buf[0] >> 4) != 4)
		return NETQ_SIG_NOT_IPV4;
	if (len < 20)
		return NETQ_SIG_TRUNCATED;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < 20)
		return NETQ_SIG_MALFORMED;
	if (len < ihl)
		return NETQ_SIG_TRUNCATED;
	p->tos = buf[1];
	p->ip_len = netq_sig_be16(buf + 2);
	p->ipid = netq_sig_be16(buf + 4);
	frag = netq_sig_be16(buf + 6);
	p->df = (frag & 0x4000) != 0;
	p->ttl = buf[8];
	p->src = netq_sig_be32(buf + 12);
	p->dst = netq_sig_be32(buf + 16);
	/* ip_len 0 happens on GSO super-packets: then the buffer is the packet */
	if (p->ip_len != 0 && p->ip_len < ihl)
		return NETQ_SIG_MALFORMED;
	if (buf[9] != 6)
		return NETQ_SIG_NOT_TCP;
	if ((frag & 0x1fff) != 0)
		return NETQ_SIG_FRAGMENT;
	end = p->ip_len != 0 && p->ip_len < len ? p->ip_len : len;
	if (end < ihl + 20)
		return NETQ_SIG_TRUNCATED;
	buf += ihl;
	end -= ihl;
	p->sport = netq_sig_be16(buf);
	p->dport = netq_sig_be16(buf + 2);
	p->seq = netq_sig_be32(buf + 4);
	p->ack = netq_sig_be32(buf + 8);
	thl = (size_t)(buf[12] >> 4) * 4;
	p->flags = buf[13];
	p->window = netq_sig_be16(buf + 14);
	if (thl < 20)
		return NETQ_SIG_MALFORMED;
	if (thl > end)
		return NETQ_SIG_TRUNCATED;
	netq_sig_opts_parse(buf + 20, thl - 20, &p->opts);
	p->payload = buf + thl;
	p->payload_len = end - thl;
	return NETQ_SIG_OK;
}

/* First payload byte's sequence number. */
uint32_t
netq_sig_data_seq(const struct netq_sig_pkt *p)
{
	return p->seq + ((p->flags & NETQ_SIG_SYN) ? 1u : 0u);
}

/* Guess the initial TTL. */
int
netq_sig_ttl_initial(uint8_t ttl)
{
	if (ttl <= 64)
		return 64;
	if (ttl <= 128)
		return 128;
	return 255;
}

/* Hop distance from the guessed initial TTL. */
int
netq_sig_hops(uint8_t ttl)
{
	return netq_sig_ttl_initial(ttl) - ttl;
}

/* Classify a sequence of IP IDs. */
const char *
netq_sig_ipid_class(const uint16_t *ids, size_t n)
{
	size_t i;
	int zero = 1, same = 1, inc = 1;
	uint16_t step;

	if (n == 0)
		return "unknown";
	for (i = 0; i < n; i++) {
		if (ids[i] != 0)
			zero = 0;
		if (ids[i] != ids[0])
			same = 0;
		if (i > 0) {
			step = (uint16_t)(ids[i] - ids[i - 1]);
			if (step == 0 || step > NETQ_SIG_IPID_STEP)
				inc = 0;
		}
	}
	if (zero)
		return "zero";
	if (n < 2)
		return "unknown";
	if (same)
		return "constant";
	return inc ? "incrementing" : "random";
}

/* Dotted quad. */
char *
netq_sig_ip_str(uint32_t ip, char *out)
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return out;
}

/* The contract flow id. */
char *
netq_sig_flow_id(uint32_t cip, uint16_t cport, uint32_t sip, uint16_t sport, char *out)
{
	char a[16], b[16];

	snprintf(out, NETQ_SIG_FLOWID, "%s:%u>%s:%u", netq_sig_ip_str(cip, a), cport,
	    netq_sig_ip_str(sip, b), sport);
	return out;
}

/* Sniff an HTTP/1.x request line and its Host header (netq_sig.h). */
enum netq_http
netq_sig_http_request(const uint8_t *data, size_t len, char *host, size_t hostlen)
{
	static const char *const methods[] = { "GET ", "HEAD ", "POST ", "PUT ", "DELETE ",
	    "OPTIONS ", "PATCH ", "CONNECT " };
	size_t i, m, eol, j, k, o;
	int found = 0;

	if (hostlen > 0)
		host[0] = '\0';
	if (len == 0)
		return NETQ_HTTP_NO;
	for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		size_t ml = strlen(methods[m]);
		if (memcmp(data, methods[m], len < ml ? len : ml) == 0) {
			if (len < ml)
				return NETQ_HTTP_MORE;	/* "GE" | "T / HTTP/1.1..." */
			found = 1;
			break;
		}
	}
	if (!found)
		return NETQ_HTTP_NO;
	/* the request line must end in " HTTP/1.x" */
	for (eol = 0; eol < len && data[eol] != '\n'; eol++)
		;
	if (eol == len)
		return NETQ_HTTP_MORE;
	if (eol < 10)
		return NETQ_HTTP_NO;
	j = data[eol - 1] == '\r' ? eol - 1 : eol;
	if (j < 9 || memcmp(data + j - 9, " HTTP/1.", 8) != 0)
		return NETQ_HTTP_NO;
	/* header lines, each taken once it has ended */
	for (i = eol + 1; i < len; i = k + 1) {
		for (k = i; k < len && data[k] != '\n'; k++)
			;
		if (k == len)
			return NETQ_HTTP_MORE;
		if (k == i || (k == i + 1 && data[i] == '\r'))
			return NETQ_HTTP_YES;	/* end of headers, no Host */
		if (k - i >= 5 && strncasecmp((const char *)data + i, "host:", 5) == 0) {
			for (j = i + 5; j < k && (data[j] == ' ' || data[j] == '\t'); j++)
				;
			for (o = 0; j < k && data[j] != '\r' && data[j] != ':' && data[j] != ' ' &&
			    o + 1 < hostlen; j++)
				host[o++] = (char)tolower(data[j]);
			if (hostlen > 0)
				host[o] = '\0';
			return NETQ_HTTP_YES;
		}
	}
	return NETQ_HTTP_MORE;
}

/* Ones' complement sum of buf, folded later. */
static uint32_t
netq_sig_sum(uint32_t sum, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)((buf[i] << 8) | buf[i + 1]);
	if (len & 1)
		sum += (uint32_t)(buf[len - 1] << 8);
	return sum;
}

/* Fold a 32-bit sum into the 16-bit ones' complement checksum. */
static uint16_t
netq_sig_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* IPv4 header checksum. */
uint16_t
netq_sig_ip_csum(const uint8_t *hdr, size_t len)
{
	return netq_sig_fold(netq_sig_sum(0, hdr, len));
}

/* TCP checksum with the IPv4 pseudo-header. */
uint16_t
netq_sig_tcp_csum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len)
{
	uint32_t sum = 0;

	sum += src >> 16;
	sum += src & 0xffff;
	sum += dst >> 16;
	sum += dst & 0xffff;
	sum += 6;
	sum += (uint32_t)len;
	return netq_sig_fold(netq_sig_sum(sum, seg, len));
}
