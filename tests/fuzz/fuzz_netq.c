/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_netq — libFuzzer harness for the packet plane's parser of untrusted bytes (netq_sig.h):
 * parse the input as a TCP options area (options Linux ignores are noted, never refused) and
 * as an IPv4/TCP packet and, when it parses, run every inference the handler runs on it
 * (direction, also in a flow table that holds its flow, flow notes and first flights, IP ID
 * class, HTTP sniff) and rebuild the RST / 302 answers, checking the invariants callers rely
 * on (payload inside the input, first flights no larger than it, terminated layout and host
 * strings, built packets that parse back with valid checksums), and the ClientHello or HTTP
 * request reassembly with the payload cut in three at offsets taken from it, one piece
 * retransmitted (the flow's name is always a terminated string, a Host value lower case
 * without port or CR; every slot is back in the pool once the flow leaves). Seeds:
 * tests/fixtures/fuzz/fuzz_netq (a SYN, one with an MSS of length 6 and a lone kind byte, a
 * ClientHello segment, an HTTP GET).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netq_flow.h"
#include "netq_impair.h"
#include "netq_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Counters of both kinds of search, summed. */
static void
fuzz_counts(const struct netq_flow_table *t, uint64_t *joined, uint64_t *lost)
{
	uint64_t hj, hl, rj, rl;

	netq_flow_hello_counts(t, &hj, &hl);
	netq_flow_http_counts(t, &rj, &rl);
	*joined = hj + rj;
	*lost = hl + rl;
}

/* Feed p's payload to a fresh flow as three segments, the middle one sent twice; the first
 * is sniffed as the handler does (netq_learn_name): an HTTP request whose Host line has not
 * ended is held (netq_flow_http), anything else goes to the ClientHello search. */
static void
fuzz_hello(const struct netq_sig_pkt *p)
{
	static struct netq_flow_table *t;
	static struct tlspeek_hello h;
	const uint8_t *d = p->payload;
	size_t n = p->payload_len, c1, c2, i;
	uint64_t joined, lost, joined2, lost2;
	struct netq_flow *f;
	enum netq_http http;
	int created, more;

	if (t == NULL && (t = netq_flow_table_new(4, NULL, NULL)) == NULL)
		abort();
	if (n == 0)
		return;
	c1 = d[0] % (n + 1);
	c2 = c1 + (n > 1 ? d[n - 1] : 0) % (n - c1 + 1);
	fuzz_counts(t, &joined, &lost);
	f = netq_flow_get(t, p->src, p->sport, p->dst, p->dport, 1, 1, &created);
	http = netq_sig_http_request(d, c1, f->name, sizeof(f->name));
	if (http == NETQ_HTTP_MORE)
		more = netq_flow_http(t, f, p->seq, d, c1);
	else if (http == NETQ_HTTP_NO)
		more = netq_flow_hello(t, f, p->seq, d, c1, &h);
	else
		more = 0;
	if (more == 1 &&
	    netq_flow_hello(t, f, p->seq + (uint32_t)c1, d + c1, c2 - c1, &h) == 1 &&
	    netq_flow_hello(t, f, p->seq + (uint32_t)c1, d + c1, c2 - c1, &h) == 1)
		(void)netq_flow_hello(t, f, p->seq + (uint32_t)c2, d + c2, n - c2, &h);
	if (memchr(f->name, '\0', sizeof(f->name)) == NULL)
		abort();
	if (http != NETQ_HTTP_NO)	/* a Host value: lower case, without its port or CR */
		for (i = 0; f->name[i] != '\0'; i++)
			if (f->name[i] == '\r' || f->name[i] == ':' || f->name[i] == ' ' ||
			    (f->name[i] >= 'A' && f->name[i] <= 'Z'))
				abort();
	netq_flow_clear(t);
	if (netq_flow_hello_free(t) != NETQ_HELLO_SLOTS)	/* every slot is back */
		abort();
	fuzz_counts(t, &joined2, &lost2);
	if (joined2 - joined + lost2 - lost > 1)	/* one search, one outcome at most */
		abort();
}

/* Direction in a table: with no flow, the port guess; once p's flow is there as a SYN would
 * orient it (p's source the client), p goes client→server and its answer server→client. */
static void
fuzz_dir(const struct netq_sig_pkt *p)
{
	static struct netq_flow_table *t;
	struct netq_sig_pkt r = *p;

	if (t == NULL && (t = netq_flow_table_new(4, NULL, NULL)) == NULL)
		abort();
	if (netq_flow_dir(t, p) != netq_flow_c2s(p))
		abort();
	r.src = p->dst;
	r.sport = p->dport;
	r.dst = p->src;
	r.dport = p->sport;
	(void)netq_flow_get(t, p->src, p->sport, p->dst, p->dport, 1, 1, NULL);
	if ((p->flags & NETQ_SIG_SYN) == 0 && (p->src != p->dst || p->sport != p->dport) &&
	    (netq_flow_dir(t, p) != 1 || netq_flow_dir(t, &r) != 0))
		abort();
	netq_flow_clear(t);
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct netq_flow f;
	uint8_t a[NETQ_IMPAIR_PKT], b[NETQ_IMPAIR_PKT];
	struct netq_sig_pkt p, q;
	char host[64], id[NETQ_SIG_FLOWID];
	size_t la, lb;
	int c2s;

	/* any bytes as an options area: never refused, the layout always terminated */
	netq_sig_opts_parse(data, size < 40 ? size : 40, &p.opts);
	if (memchr(p.opts.layout, '\0', sizeof(p.opts.layout)) == NULL ||
	    (strchr(p.opts.layout, '!') != NULL && !p.opts.malformed))
		abort();
	if (netq_sig_parse(data, size, &p) != NETQ_SIG_OK)
		return 0;
	if (p.payload < data || p.payload + p.payload_len > data + size ||
	    memchr(p.opts.layout, '\0', sizeof(p.opts.layout)) == NULL)
		abort();
	c2s = netq_flow_c2s(&p);
	fuzz_dir(&p);
	memset(&f, 0, sizeof(f));
	netq_flow_note(&f, &p, c2s, 1);
	netq_flow_note(&f, &p, !c2s, 2);
	(void)netq_flow_complete(&f);
	/* each side's first flight holds at most the payload it was given */
	if (netq_flow_flight_bytes(&f.c) > p.payload_len ||
	    netq_flow_flight_bytes(&f.s) > p.payload_len)
		abort();
	(void)netq_sig_ipid_class(f.c.ipid, f.c.n_ipid);
	netq_sig_flow_id(p.src, p.sport, p.dst, p.dport, id);
	if (netq_sig_http_request(p.payload, p.payload_len, host, sizeof(host)) &&
	    memchr(host, '\0', sizeof(host)) == NULL)
		abort();
	netq_impair_rst_pair(&p, a, &la, b, &lb);
	if (netq_sig_parse(a, la, &q) != NETQ_SIG_OK || netq_sig_ip_csum(a, 20) != 0 ||
	    netq_sig_tcp_csum(q.src, q.dst, a + 20, la - 20) != 0)
		abort();
	la = netq_impair_redirect(&p, "http://warning.lab/install", a, sizeof(a));
	if (la == 0 || netq_sig_parse(a, la, &q) != NETQ_SIG_OK || q.payload_len != la - 40)
		abort();
	fuzz_hello(&p);
	return 0;
}
