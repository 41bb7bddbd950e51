/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_netq_flow — the flow table's bounds (never more than max flows; a flood evicts the
 * least recently used, each eviction seen once by the callback), lookup, idle expiry, clear,
 * direction inference (from the flow a SYN oriented, so a client port below the server's does
 * not swap the sides; the port guess only for packets of no known flow) and the per-side
 * signal bounds. The ClientHello reassembly
 * (netq_flow_hello) on a real OpenSSL hello cut into pieces: named at the last piece, in order
 * or with retransmitted and overlapping pieces, across a sequence-number wrap; no name after
 * a gap, for bytes that are not a hello or a hello over the size bound; a full pool refuses a
 * new reassembly until a flow leaving the table mid-reassembly gives its slot back, and an
 * abandoned one (an impairment ended the flow) gives its slot back too. An HTTP request cut
 * at every byte (netq_flow_http) is named at its last piece and never from a cut Host value;
 * a gap, a line that stops reading as a request and a head over the bound end it unnamed.
 * Also the hold queue
 * (netq_hold.h) the handler keeps beside it: due-time order and its capacity.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netq_flow.h"
#include "netq_hold.h"
#include "util.h"

#define HELLO_FILE	"tests/fixtures/clienthello/openssl_tls13.bin"	/* SNI lab.example */

static int n_cb;
static char last_why[16];
static uint16_t last_port;

/* Count callbacks. */
static void
cb(struct netq_flow *f, const char *why, void *arg)
{
	(void)arg;
	n_cb++;
	last_port = f->cport;
	strncpy(last_why, why, sizeof(last_why) - 1);
}

/* A flood of 1000 flows into 4 slots. */
static void
test_bound(void **state)
{
	struct netq_flow_table *t = netq_flow_table_new(4, cb, NULL);
	struct netq_flow *f;
	int created, i;

	(void)state;
	n_cb = 0;
	assert_non_null(t);
	for (i = 0; i < 1000; i++) {
		f = netq_flow_get(t, 1, (uint16_t)(1000 + i), 2, 443, (uint64_t)i, 1, &created);
		assert_non_null(f);
		assert_true(created);
		assert_true(netq_flow_count(t) <= 4);
	}
	assert_int_equal(netq_flow_count(t), 4);
	assert_int_equal(netq_flow_evictions(t), 996);
	assert_int_equal(n_cb, 996);
	assert_string_equal(last_why, "evict");
	/* the newest four are still there */
	for (i = 996; i < 1000; i++)
		assert_non_null(netq_flow_get(t, 1, (uint16_t)(1000 + i), 2, 443, 2000, 0, NULL));
	assert_null(netq_flow_get(t, 1, 1000, 2, 443, 2000, 0, NULL));
	netq_flow_clear(t);
	assert_int_equal(netq_flow_count(t), 0);
	assert_int_equal(n_cb, 1000);
	assert_string_equal(last_why, "exit");
	netq_flow_table_free(t);
	assert_null(netq_flow_table_new(0, NULL, NULL));
}

/* Touching a flow protects it from eviction. */
static void
test_lru(void **state)
{
	struct netq_flow_table *t = netq_flow_table_new(3, cb, NULL);
	int created;

	(void)state;
	n_cb = 0;
	netq_flow_get(t, 1, 1, 2, 443, 1, 1, NULL);
	netq_flow_get(t, 1, 2, 2, 443, 2, 1, NULL);
	netq_flow_get(t, 1, 3, 2, 443, 3, 1, NULL);
	assert_non_null(netq_flow_get(t, 1, 1, 2, 443, 4, 1, &created));	/* touch 1 */
	assert_false(created);
	netq_flow_get(t, 1, 4, 2, 443, 5, 1, &created);
	assert_true(created);
	assert_int_equal(last_port, 2);		/* 2 was the least recently used */
	assert_non_null(netq_flow_get(t, 1, 1, 2, 443, 6, 0, NULL));
	/* idle expiry: flows last used before now - 5 go, oldest first, bounded per call */
	n_cb = 0;
	assert_int_equal(netq_flow_expire(t, 10, 5, 100), 1);	/* 3 (used at 3) */
	assert_int_equal(last_port, 3);
	assert_int_equal(netq_flow_expire(t, 20, 5, 1), 1);	/* 4 (at 5), bound 1 */
	assert_int_equal(last_port, 4);
	assert_int_equal(netq_flow_expire(t, 20, 5, 100), 1);	/* 1 (at 6) */
	assert_string_equal(last_why, "idle");
	assert_int_equal(netq_flow_count(t), 0);
	netq_flow_table_free(t);
}

/* Direction and per-side notes. */
static void
test_note(void **state)
{
	struct netq_sig_pkt p;
	struct netq_flow f;
	int i;

	(void)state;
	memset(&p, 0, sizeof(p));
	memset(&f, 0, sizeof(f));
	p.flags = NETQ_SIG_SYN;
	p.sport = 80;
	p.dport = 50000;
	assert_true(netq_flow_c2s(&p));		/* a bare SYN decides, whatever the ports */
	p.flags = NETQ_SIG_SYN | NETQ_SIG_ACK;
	assert_false(netq_flow_c2s(&p));
	p.flags = NETQ_SIG_ACK;
	p.sport = 50000;
	p.dport = 443;
	assert_true(netq_flow_c2s(&p));
	p.flags = NETQ_SIG_SYN;
	p.ttl = 60;
	p.window = 1000;
	p.opts.has_mss = 1;
	p.opts.mss = 1460;
	netq_flow_note(&f, &p, 1, 100);
	assert_true(f.c.have_hs);
	assert_int_equal(f.c.ttl, 60);
	assert_int_equal(f.c.opts.mss, 1460);
	assert_false(netq_flow_complete(&f));
	p.flags = NETQ_SIG_ACK;
	p.payload_len = 517;
	for (i = 0; i < 100; i++) {
		p.ipid = (uint16_t)i;
		netq_flow_note(&f, &p, 1, 200 + (uint64_t)i);
	}
	assert_int_equal(f.c.pkts, 101);
	assert_int_equal(f.c.n_ipid, NETQ_FLOW_PKTS);
	assert_int_equal(f.c.data_len, 517);
	assert_int_equal(f.c.data_ns, 200);
	assert_false(netq_flow_complete(&f));
	netq_flow_note(&f, &p, 0, 300);
	assert_true(netq_flow_complete(&f));
}

/* p: ACK src:sport > dst:dport. */
static void
ack(struct netq_sig_pkt *p, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	memset(p, 0, sizeof(*p));
	p->flags = NETQ_SIG_ACK;
	p->src = src;
	p->sport = sport;
	p->dst = dst;
	p->dport = dport;
}

/* Direction in the table: a client on a port below the server's (100 > 443) stays the client
 * after its SYN; only packets of no known flow fall back to the port guess; with both
 * orientations held, the one a handshake oriented wins. */
static void
test_dir(void **state)
{
	struct netq_flow_table *t = netq_flow_table_new(8, NULL, NULL);
	struct netq_sig_pkt p;
	struct netq_flow *f;

	(void)state;
	assert_non_null(t);
	ack(&p, 1, 100, 2, 443);
	p.flags = NETQ_SIG_SYN;
	assert_true(netq_flow_dir(t, &p));		/* a SYN decides */
	f = netq_flow_get(t, 1, 100, 2, 443, 1, 1, NULL);
	netq_flow_note(f, &p, 1, 1);
	ack(&p, 2, 443, 1, 100);
	p.flags = NETQ_SIG_SYN | NETQ_SIG_ACK;
	assert_false(netq_flow_dir(t, &p));
	ack(&p, 1, 100, 2, 443);			/* the client's data ... */
	assert_false(netq_flow_c2s(&p));		/* ... the port guess gets wrong */
	assert_true(netq_flow_dir(t, &p));
	ack(&p, 2, 443, 1, 100);			/* the server's answer */
	assert_true(netq_flow_c2s(&p));
	assert_false(netq_flow_dir(t, &p));
	assert_int_equal(netq_flow_count(t), 1);
	/* no flow: the port guess */
	ack(&p, 1, 50000, 2, 443);
	assert_true(netq_flow_dir(t, &p));
	ack(&p, 1, 100, 3, 443);
	assert_false(netq_flow_dir(t, &p));
	/* a flow guessed mid-stream the wrong way round (2:443 the "client"), then a new
	 * connection on the same ports whose SYN orients it: the SYN's flow wins both ways */
	(void)netq_flow_get(t, 2, 443, 1, 200, 2, 1, NULL);
	ack(&p, 1, 200, 2, 443);
	assert_false(netq_flow_dir(t, &p));		/* only the guessed flow yet */
	p.flags = NETQ_SIG_SYN;
	f = netq_flow_get(t, 1, 200, 2, 443, 3, 1, NULL);
	netq_flow_note(f, &p, 1, 3);
	ack(&p, 1, 200, 2, 443);
	assert_true(netq_flow_dir(t, &p));
	ack(&p, 2, 443, 1, 200);
	assert_false(netq_flow_dir(t, &p));
	netq_flow_table_free(t);
}

/* First flights: hello, the server's answer in three segments, then the client again. */
static void
test_flight(void **state)
{
	/* off: the segment's offset in its side's byte stream (the sequence numbers start near
	 * the wrap, so spans cross it) */
	static const struct { int c2s; uint32_t off; size_t len; } seg[] = {
		{ 1, 0, 0 }, { 0, 0, 0 }, { 1, 0, 0 },		/* handshake */
		{ 1, 0, 300 }, { 1, 300, 17 },			/* client flight: 317 */
		{ 1, 0, 300 },			/* a retransmitted hello: neither counted nor "again" */
		{ 0, 1448, 1448 }, { 0, 0, 1448 },		/* server flight, reordered ... */
		{ 1, 0, 300 },			/* ... the hello again (not the client's second flight) */
		{ 1, 317, 0 }, { 0, 1448, 1448 },		/* ... an ACK, a retransmission ... */
		{ 0, 2896, 15 },				/* ... 2911 in all */
		{ 1, 317, 80 },					/* the client's second flight */
		{ 0, 2911, 500 }, { 1, 397, 100 },		/* later data counts in neither */
	};
	struct netq_sig_pkt p;
	struct netq_flow f;
	size_t i;

	(void)state;
	memset(&f, 0, sizeof(f));
	for (i = 0; i < sizeof(seg) / sizeof(seg[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = NETQ_SIG_ACK;
		p.seq = (seg[i].c2s ? 0xfffffe00u : 0xffffff00u) + seg[i].off;
		p.payload_len = seg[i].len;
		netq_flow_note(&f, &p, seg[i].c2s, 100 + i);
	}
	assert_int_equal(netq_flow_flight_bytes(&f.c), 317);
	assert_int_equal(netq_flow_flight_bytes(&f.s), 2911);
	assert_int_equal(f.s.data_len, 1448);
	assert_true(f.c_second);
}

/* The hold queue: due order, capacity, pop_due. */
static void
test_hold(void **state)
{
	struct netq_hold *h = netq_hold_new(4);
	struct netq_hold_item it;
	static const uint64_t due[] = { 50, 10, 40, 20 };
	size_t i;

	(void)state;
	assert_non_null(h);
	for (i = 0; i < 4; i++) {
		memset(&it, 0, sizeof(it));
		it.due_ns = due[i];
		it.id = (uint32_t)i;
		assert_int_equal(netq_hold_push(h, &it), 0);
	}
	assert_int_equal(netq_hold_push(h, &it), -1);	/* full */
	assert_int_equal(netq_hold_next(h), 10);
	assert_int_equal(netq_hold_pop_due(h, 5, &it), -1);
	assert_int_equal(netq_hold_pop_due(h, 25, &it), 0);
	assert_int_equal(it.id, 1);
	assert_int_equal(netq_hold_pop_due(h, 25, &it), 0);
	assert_int_equal(it.id, 3);
	assert_int_equal(netq_hold_pop_due(h, 25, &it), -1);
	assert_int_equal(netq_hold_pop(h, &it), 0);
	assert_int_equal(it.id, 2);
	assert_int_equal(netq_hold_count(h), 1);
	assert_int_equal(netq_hold_pop(h, &it), 0);
	assert_int_equal(netq_hold_pop(h, &it), -1);
	assert_int_equal(netq_hold_next(h), 0);
	netq_hold_free(h);
}

/* Feed hello[0..len) to f as segments cut at cuts[] (offsets, increasing), starting at seq;
 * each piece is an exact-size heap copy. The return of the last call; *n_more counts the 1s. */
static int
feed(struct netq_flow_table *t, struct netq_flow *f, const uint8_t *hello, size_t len,
    uint32_t seq, const size_t *cuts, size_t ncuts, int *n_more)
{
	static struct tlspeek_hello h;
	size_t i, from = 0, to;
	int r = 0;

	*n_more = 0;
	for (i = 0; i <= ncuts; i++) {
		uint8_t *piece;

		to = i < ncuts ? cuts[i] : len;
		piece = malloc(to - from);
		assert_non_null(piece);
		memcpy(piece, hello + from, to - from);
		r = netq_flow_hello(t, f, seq + (uint32_t)from, piece, to - from, &h);
		free(piece);
		*n_more += r;
		from = to;
	}
	return r;
}

/* A new flow on port p. */
static struct netq_flow *
flow(struct netq_flow_table *t, uint16_t p)
{
	int created;
	struct netq_flow *f = netq_flow_get(t, 1, p, 2, 443, 1, 1, &created);

	assert_non_null(f);
	assert_true(created);
	return f;
}

static void
test_hello(void **state)
{
	struct netq_flow_table *t = netq_flow_table_new(2 * NETQ_HELLO_SLOTS, NULL, NULL);
	static struct tlspeek_hello h;
	static uint8_t big[20000];
	size_t len, none[] = { 0 }, one[] = { 60 }, three[] = { 7, 100, 300 };
	uint8_t *hello = (uint8_t *)util_read_file(HELLO_FILE, &len, NULL);
	uint64_t joined, lost;
	struct netq_flow *f, *fs[NETQ_HELLO_SLOTS];
	int more, i;

	(void)state;
	assert_non_null(t);
	assert_non_null(hello);
	assert_true(len > 300);
	/* in one segment: named at once, no slot taken */
	f = flow(t, 1000);
	assert_int_equal(feed(t, f, hello, len, 5, none, 0, &more), 0);
	assert_string_equal(f->name, "lab.example");
	assert_false(netq_flow_hello_pending(f));
	/* two and four pieces, the second across a sequence-number wrap */
	f = flow(t, 1001);
	assert_int_equal(feed(t, f, hello, len, 1000, one, 1, &more), 0);
	assert_int_equal(more, 1);
	assert_string_equal(f->name, "lab.example");
	f = flow(t, 1002);
	assert_int_equal(feed(t, f, hello, len, 0xffffff00u, three, 3, &more), 0);
	assert_int_equal(more, 3);
	assert_string_equal(f->name, "lab.example");
	netq_flow_hello_counts(t, &joined, &lost);
	assert_int_equal(joined, 2);
	assert_int_equal(lost, 0);
	/* a retransmission of held bytes is skipped; a segment overlapping them adds the rest */
	f = flow(t, 1003);
	assert_int_equal(netq_flow_hello(t, f, 50, hello, 100, &h), 1);
	assert_int_equal(netq_flow_hello(t, f, 50, hello, 100, &h), 1);	/* the same again */
	assert_int_equal(netq_flow_hello(t, f, 100, hello + 50, 150, &h), 1);	/* 50 held */
	assert_int_equal(netq_flow_hello(t, f, 250, hello + 200, len - 200, &h), 0);
	assert_string_equal(f->name, "lab.example");
	/* a gap ends the search without a name */
	f = flow(t, 1004);
	assert_int_equal(netq_flow_hello(t, f, 0, hello, 100, &h), 1);
	assert_int_equal(netq_flow_hello(t, f, 200, hello + 200, len - 200, &h), 0);
	assert_string_equal(f->name, "");
	assert_false(netq_flow_hello_pending(f));
	/* not a hello: nothing held */
	f = flow(t, 1005);
	assert_int_equal(netq_flow_hello(t, f, 0, (const uint8_t *)"SSH-2.0-x\r\n", 11, &h), 0);
	assert_false(netq_flow_hello_pending(f));
	/* a hello that announces more than the bound: given up once the bound is passed */
	/* a 32 KiB hello over two records: TLS 1.2 version, zero random, no session id, one
	 * suite, null compression, and a 32,721-byte padding extension */
	memcpy(big, "\x16\x03\x01\x40\x00\x01\x00\x80\x00\x03\x03", 11);
	memcpy(big + 43, "\x00\x00\x02\x13\x01\x01\x00\x7f\xd5\x00\x15\x7f\xd1", 13);
	memcpy(big + 5 + 16384, "\x16\x03\x01\x40\x00", 5);	/* the second record */
	assert_int_equal(tlspeek_parse(big, sizeof(big), &h, NULL), TLSPEEK_NEED_MORE);	/* valid so far */
	f = flow(t, 1006);
	for (i = 0; i < 4; i++)
		assert_int_equal(netq_flow_hello(t, f, 4000u * (uint32_t)i, big + 4000 * i, 4000, &h),
		    1);
	assert_int_equal(netq_flow_hello(t, f, 16000, big + 16000, 4000, &h), 0);	/* the bound */
	netq_flow_hello_counts(t, &joined, &lost);
	assert_int_equal(joined, 3);
	assert_int_equal(lost, 2);
	/* a full pool: the next reassembly is refused until a flow leaves the table */
	for (i = 0; i < NETQ_HELLO_SLOTS; i++) {
		fs[i] = flow(t, (uint16_t)(2000 + i));
		assert_int_equal(netq_flow_hello(t, fs[i], 0, hello, 60, &h), 1);
	}
	assert_int_equal(netq_flow_hello_free(t), 0);
	f = flow(t, 3000);
	assert_int_equal(netq_flow_hello(t, f, 0, hello, 60, &h), 0);
	assert_false(netq_flow_hello_pending(f));
	/* the eight oldest flows leave (ports 1000-1006, then 2000 mid-reassembly) */
	assert_int_equal(netq_flow_expire(t, 10, 0, 8), 8);
	assert_null(netq_flow_get(t, 1, 2000, 2, 443, 10, 0, NULL));
	assert_int_equal(netq_flow_hello_free(t), 1);
	f = flow(t, 3001);
	assert_int_equal(netq_flow_hello(t, f, 0, hello, 60, &h), 1);
	netq_flow_hello_abandon(t, f);		/* an impairment ended the flow */
	assert_int_equal(netq_flow_hello_free(t), 1);
	assert_false(netq_flow_hello_pending(f));
	netq_flow_clear(t);			/* the pending ones leave: counted as lost */
	assert_int_equal(netq_flow_hello_free(t), NETQ_HELLO_SLOTS);
	netq_flow_hello_counts(t, &joined, &lost);
	assert_int_equal(joined, 3);
	/* gap, too large, pool full, 2000 expired, 3001 abandoned, 63 cleared */
	assert_int_equal(lost, 5 + NETQ_HELLO_SLOTS - 1);
	netq_flow_table_free(t);
	free(hello);
}

/* With every slot taken, a search that began NETQ_HELLO_STALE_NS or more ago gives its slot to
 * a new one (the oldest first; counted as not reassembled and as reclaimed); a younger one
 * does not, and the new search is refused as before. */
static void
test_hello_stale_reclaimed(void **state)
{
	struct netq_flow_table *t = netq_flow_table_new(2 * NETQ_HELLO_SLOTS, NULL, NULL);
	static struct tlspeek_hello h;
	size_t len;
	uint8_t *hello = (uint8_t *)util_read_file(HELLO_FILE, &len, NULL);
	const uint64_t s = 1000000000ull;
	uint64_t joined, lost;
	struct netq_flow *f, *fs[NETQ_HELLO_SLOTS];
	int i, created;

	(void)state;
	assert_non_null(t);
	assert_non_null(hello);
	for (i = 0; i < NETQ_HELLO_SLOTS; i++) {	/* stalled searches, begun at 10 s + i ms */
		fs[i] = netq_flow_get(t, 1, (uint16_t)(2000 + i), 2, 443, 10 * s + (uint64_t)i *
		    1000000, 1, &created);
		assert_int_equal(netq_flow_hello(t, fs[i], 0, hello, 60, &h), 1);
	}
	assert_int_equal(netq_flow_hello_free(t), 0);
	/* 0.9 s after the oldest began: nothing is stale yet, the new search is refused */
	f = netq_flow_get(t, 1, 3000, 2, 443, 10 * s + 900000000ull, 1, &created);
	assert_int_equal(netq_flow_hello(t, f, 0, hello, 60, &h), 0);
	assert_int_equal(netq_flow_hello_reclaimed(t), 0);
	for (i = 0; i < NETQ_HELLO_SLOTS; i++)
		assert_true(netq_flow_hello_pending(fs[i]));
	/* 1.0005 s after: the oldest (port 2000) is stale and gives its slot, only it */
	f = netq_flow_get(t, 1, 3001, 2, 443, 11 * s + 500000, 1, &created);
	assert_int_equal(netq_flow_hello(t, f, 0, hello, 60, &h), 1);
	assert_int_equal(netq_flow_hello_reclaimed(t), 1);
	assert_false(netq_flow_hello_pending(fs[0]));
	for (i = 1; i < NETQ_HELLO_SLOTS; i++)
		assert_true(netq_flow_hello_pending(fs[i]));
	/* the new search completes and names its flow */
	assert_int_equal(netq_flow_hello(t, f, 60, hello + 60, len - 60, &h), 0);
	assert_string_equal(f->name, "lab.example");
	netq_flow_hello_counts(t, &joined, &lost);
	assert_int_equal(joined, 1);
	assert_int_equal(lost, 2);			/* 3000 refused, 2000 reclaimed */
	/* its slot came back: an HTTP request takes it without reclaiming; the next one takes the
	 * next stale slot (port 2001's) */
	f = netq_flow_get(t, 1, 3002, 2, 80, 12 * s, 1, &created);
	assert_int_equal(netq_flow_http(t, f, 0, (const uint8_t *)"GET / HTTP/1.1\r\nHo", 19), 1);
	assert_int_equal(netq_flow_hello_reclaimed(t), 1);
	assert_true(netq_flow_hello_pending(fs[1]));
	f = netq_flow_get(t, 1, 3003, 2, 80, 12 * s, 1, &created);
	assert_int_equal(netq_flow_http(t, f, 0, (const uint8_t *)"GET / HTTP/1.1\r\nHo", 19), 1);
	assert_int_equal(netq_flow_hello_reclaimed(t), 2);
	assert_false(netq_flow_hello_pending(fs[1]));
	assert_true(netq_flow_hello_pending(fs[2]));
	netq_flow_table_free(t);
	free(hello);
}

/* The client's first data through the handler's path: sniffed, and held when the request's
 * Host line has not ended in it (netq.c's netq_learn_name); 1 while more is wanted. */
static int
http_first(struct netq_flow_table *t, struct netq_flow *f, uint32_t seq, const char *d,
    size_t len)
{
	enum netq_http h = netq_sig_http_request((const uint8_t *)d, len, f->name, sizeof(f->name));

	assert_int_not_equal(h, NETQ_HTTP_NO);
	return h == NETQ_HTTP_MORE ? netq_flow_http(t, f, seq, (const uint8_t *)d, len) : 0;
}

/* An HTTP request cut in two at every byte: named at the second piece, never from a part of
 * the Host value; a gap, bytes that stop reading as a request, and a head over the bound end
 * the search without a name; the pool is the hellos' (counted apart). */
static void
test_http(void **state)
{
	static const char req[] = "GET /index.html HTTP/1.1\r\nUser-Agent: curl/7.88\r\n"
	    "Host: Plain.Lab:80\r\nAccept: */*\r\n\r\n";
	struct netq_flow_table *t = netq_flow_table_new(NETQ_HELLO_SLOTS, NULL, NULL);
	static struct tlspeek_hello h;
	static char big[NETQ_HELLO_MAX + 200];
	size_t len = strlen(req), k, hostend = strstr(req, "\r\nAccept") - req + 2;
	uint64_t joined, lost, hj, hl;
	struct netq_flow *f;
	int r, n = 0;

	(void)state;
	assert_non_null(t);
	for (k = 1; k < len; k++) {
		f = flow(t, (uint16_t)(1000 + k % 64));
		r = http_first(t, f, 7, req, k);
		if (k >= hostend) {		/* the Host line was whole in the first piece */
			assert_int_equal(r, 0);
			assert_string_equal(f->name, "plain.lab");
		} else {
			assert_int_equal(r, 1);
			assert_string_equal(f->name, "");
			assert_true(netq_flow_hello_pending(f));
			assert_false(f->http);	/* not called HTTP before it reads as a request */
			assert_int_equal(netq_flow_hello(t, f, 7 + (uint32_t)k,
			    (const uint8_t *)req + k, len - k, &h), 0);
			assert_string_equal(f->name, "plain.lab");
			assert_true(f->http);
			n++;
		}
		assert_false(netq_flow_hello_pending(f));
		netq_flow_clear(t);
	}
	netq_flow_http_counts(t, &joined, &lost);
	assert_int_equal(joined, n);
	assert_int_equal(lost, 0);
	/* three pieces, the Host value itself cut ("...Host: Pla" | "in.Lab:80..."), one piece
	 * retransmitted */
	assert_memory_equal(req + 49, "Host: Pla", 9);
	f = flow(t, 2000);
	assert_int_equal(http_first(t, f, 0, req, 30), 1);
	assert_int_equal(netq_flow_hello(t, f, 30, (const uint8_t *)req + 30, 28, &h), 1);
	assert_string_equal(f->name, "");	/* "pla" is not taken for the name */
	assert_int_equal(netq_flow_hello(t, f, 30, (const uint8_t *)req + 30, 28, &h), 1);
	assert_int_equal(netq_flow_hello(t, f, 58, (const uint8_t *)req + 58, len - 58, &h), 0);
	assert_string_equal(f->name, "plain.lab");
	/* a gap */
	f = flow(t, 2001);
	assert_int_equal(http_first(t, f, 0, req, 20), 1);
	assert_int_equal(netq_flow_hello(t, f, 40, (const uint8_t *)req + 40, len - 40, &h), 0);
	assert_string_equal(f->name, "");
	/* a request line that does not end in HTTP/1.x once it ends */
	f = flow(t, 2002);
	assert_int_equal(http_first(t, f, 0, "GET /a", 6), 1);
	assert_int_equal(netq_flow_hello(t, f, 6, (const uint8_t *)" SSH\r\n", 6, &h), 0);
	assert_string_equal(f->name, "");
	assert_false(f->http);
	/* header lines past the bound without their end */
	memcpy(big, "GET / HTTP/1.1\r\n", 16);
	memset(big + 16, 'x', sizeof(big) - 16);
	f = flow(t, 2003);
	assert_int_equal(http_first(t, f, 0, big, 8000), 1);
	assert_int_equal(netq_flow_hello(t, f, 8000, (const uint8_t *)big + 8000, 8000, &h), 1);
	assert_int_equal(netq_flow_hello(t, f, 16000, (const uint8_t *)big + 16000, 500, &h), 0);
	assert_false(netq_flow_hello_pending(f));
	/* headers that end without a Host: joined, no name */
	f = flow(t, 2004);
	assert_int_equal(http_first(t, f, 0, "HEAD / HTTP/1.0\r\n", 17), 1);
	assert_int_equal(netq_flow_hello(t, f, 17, (const uint8_t *)"\r\n", 2, &h), 0);
	assert_string_equal(f->name, "");
	assert_true(f->http);			/* a request: a rule by address acts on it */
	assert_int_equal(netq_flow_hello_free(t), NETQ_HELLO_SLOTS);	/* every slot back */
	netq_flow_http_counts(t, &joined, &lost);
	assert_int_equal(joined, n + 2);
	assert_int_equal(lost, 3);
	netq_flow_hello_counts(t, &hj, &hl);	/* none of it is a hello's */
	assert_int_equal(hj, 0);
	assert_int_equal(hl, 0);
	netq_flow_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_note),
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_flight),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_hello_stale_reclaimed),
		cmocka_unit_test(test_http),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
