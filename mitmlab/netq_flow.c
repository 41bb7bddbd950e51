/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_flow — fixed-size flow table with chained hashing over slot indexes and an LRU list
 * (netq_flow.h), and a pool of reassembly buffers for ClientHellos and HTTP requests. All
 * memory is allocated by netq_flow_table_new; nothing grows afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netq_flow.h"
#include "netq_sig.h"

#define NETQ_FLOW_NIL (-1)

struct netq_flow_table {
	struct netq_flow *slots;
	int32_t	*buckets;
	size_t	 nbuckets;	/* power of two */
	size_t	 max, count;
	int32_t	 free_head;	/* free slots chained through hnext */
	int32_t	 lru_head;	/* most recently used */
	int32_t	 lru_tail;	/* least recently used */
	uint64_t evictions;
	netq_flow_cb *cb;
	void	*arg;
	uint8_t	*hello_pool;		/* NETQ_HELLO_SLOTS x NETQ_HELLO_MAX */
	int32_t	 hello_free[NETQ_HELLO_SLOTS];	/* free slots, a stack */
	size_t	 n_hello_free;
	int32_t	 hello_owner[NETQ_HELLO_SLOTS];	/* the flow (slots index) holding each */
	uint64_t reclaimed;
	/* searches that named the flow / ended without: [0] ClientHellos, [1] HTTP requests
	 * (the index is netq_flow.hello_http) */
	uint64_t joined[2], lost[2];
};

/* Hash of the four-tuple. */
static size_t
netq_flow_hash(const struct netq_flow_table *t, uint32_t cip, uint16_t cport, uint32_t sip,
    uint16_t sport)
{
	uint64_t h = 1469598103934665603ULL;
	uint64_t k = ((uint64_t)cip << 32 | sip) ^ ((uint64_t)cport << 16 | sport) * 0x9e3779b97f4a7c15ULL;
	int i;

	for (i = 0; i < 8; i++) {
		h ^= (k >> (i * 8)) & 0xff;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 29)) & (t->nbuckets - 1);
}

/* Create the table. */
struct netq_flow_table *
netq_flow_table_new(size_t max, netq_flow_cb *cb, void *arg)
{
	struct netq_flow_table *t;
	size_t i;

	if (max == 0 || max > (1u << 24))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	for (t->nbuckets = 16; t->nbuckets < max * 2; t->nbuckets *= 2)
		;
	t->slots = calloc(max, sizeof(*t->slots));
	t->buckets = malloc(t->nbuckets * sizeof(*t->buckets));
	t->hello_pool = malloc((size_t)NETQ_HELLO_SLOTS * NETQ_HELLO_MAX);
	if (t->slots == NULL || t->buckets == NULL || t->hello_pool == NULL) {
		netq_flow_table_free(t);
		return NULL;
	}
	for (i = 0; i < t->nbuckets; i++)
		t->buckets[i] = NETQ_FLOW_NIL;
	for (i = 0; i < max; i++)
		t->slots[i].hnext = i + 1 < max ? (int32_t)(i + 1) : NETQ_FLOW_NIL;
	for (i = 0; i < NETQ_HELLO_SLOTS; i++)
		t->hello_free[i] = (int32_t)(NETQ_HELLO_SLOTS - 1 - i);
	t->n_hello_free = NETQ_HELLO_SLOTS;
	t->free_head = 0;
	t->lru_head = t->lru_tail = NETQ_FLOW_NIL;
	t->max = max;
	t->cb = cb;
	t->arg = arg;
	return t;
}

/* Free the table (no callbacks). */
void
netq_flow_table_free(struct netq_flow_table *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t->buckets);
	free(t->hello_pool);
	free(t);
}

/* Unlink slot i from the LRU list. */
static void
netq_flow_lru_unlink(struct netq_flow_table *t, int32_t i)
{
	struct netq_flow *f = &t->slots[i];

	if (f->lprev != NETQ_FLOW_NIL)
		t->slots[f->lprev].lnext = f->lnext;
	else
		t->lru_head = f->lnext;
	if (f->lnext != NETQ_FLOW_NIL)
		t->slots[f->lnext].lprev = f->lprev;
	else
		t->lru_tail = f->lprev;
	f->lprev = f->lnext = NETQ_FLOW_NIL;
}

/* Put slot i at the head of the LRU list. */
static void
netq_flow_lru_push(struct netq_flow_table *t, int32_t i)
{
	struct netq_flow *f = &t->slots[i];

	f->lprev = NETQ_FLOW_NIL;
	f->lnext = t->lru_head;
	if (t->lru_head != NETQ_FLOW_NIL)
		t->slots[t->lru_head].lprev = i;
	t->lru_head = i;
	if (t->lru_tail == NETQ_FLOW_NIL)
		t->lru_tail = i;
}

/* The buffer of f's reassembly slot. */
static uint8_t *
netq_flow_hello_buf(const struct netq_flow_table *t, const struct netq_flow *f)
{
	return t->hello_pool + (size_t)(f->hello_slot - 1) * NETQ_HELLO_MAX;
}

/* Give f's reassembly slot back; lost counts a search that ends without a name. */
static void
netq_flow_hello_release(struct netq_flow_table *t, struct netq_flow *f, int lost)
{
	if (f->hello_slot == 0)
		return;
	t->hello_free[t->n_hello_free++] = f->hello_slot - 1;
	f->hello_slot = 0;
	f->hello_len = 0;
	if (lost)
		t->lost[f->hello_http]++;
	f->hello_http = 0;
}

/* With no slot free: end the search that began longest ago if it began NETQ_HELLO_STALE_NS or
 * more before now (the flow asking; its last_ns), freeing its slot. */
static void
netq_flow_hello_reclaim(struct netq_flow_table *t, uint64_t now)
{
	struct netq_flow *g, *old = NULL;
	int i;

	for (i = 0; i < NETQ_HELLO_SLOTS; i++) {
		g = &t->slots[t->hello_owner[i]];
		if (g->hello_slot == i + 1 && (old == NULL || g->hello_t0 < old->hello_t0))
			old = g;
	}
	if (old != NULL && now >= old->hello_t0 && now - old->hello_t0 >= NETQ_HELLO_STALE_NS) {
		netq_flow_hello_release(t, old, 1);
		t->reclaimed++;
	}
}

/* Take a pool slot for f and hold data[0..len) (at sequence number seq) in it; 0 when there is
 * no slot to be had or len is over NETQ_HELLO_MAX (lost is then counted for the kind). */
static int
netq_flow_hold(struct netq_flow_table *t, struct netq_flow *f, uint32_t seq,
    const uint8_t *data, size_t len, int http)
{
	if (len <= NETQ_HELLO_MAX && t->n_hello_free == 0)
		netq_flow_hello_reclaim(t, f->last_ns);
	if (len > NETQ_HELLO_MAX || t->n_hello_free == 0) {
		t->lost[http]++;
		return 0;
	}
	f->hello_slot = t->hello_free[--t->n_hello_free] + 1;
	t->hello_owner[f->hello_slot - 1] = (int32_t)(f - t->slots);
	f->hello_t0 = f->last_ns;
	f->hello_http = http;
	memcpy(netq_flow_hello_buf(t, f), data, len);
	f->hello_len = (uint32_t)len;
	f->hello_seq0 = seq;
	return 1;
}

/* Remove slot i from its bucket, the LRU list and the table, after the callback. */
static void
netq_flow_remove(struct netq_flow_table *t, int32_t i, const char *why)
{
	struct netq_flow *f = &t->slots[i];
	int32_t *pp;

	if (t->cb != NULL)
		t->cb(f, why, t->arg);
	netq_flow_hello_release(t, f, 1);
	pp = &t->buckets[netq_flow_hash(t, f->cip, f->cport, f->sip, f->sport)];
	while (*pp != NETQ_FLOW_NIL && *pp != i)
		pp = &t->slots[*pp].hnext;
	if (*pp == i)
		*pp = f->hnext;
	netq_flow_lru_unlink(t, i);
	memset(f, 0, sizeof(*f));
	f->hnext = t->free_head;
	t->free_head = i;
	t->count--;
}

/* The slot of the flow (cip:cport > sip:sport) in bucket h, NETQ_FLOW_NIL if none. */
static int32_t
netq_flow_find(const struct netq_flow_table *t, size_t h, uint32_t cip, uint16_t cport,
    uint32_t sip, uint16_t sport)
{
	const struct netq_flow *f;
	int32_t i;

	for (i = t->buckets[h]; i != NETQ_FLOW_NIL; i = t->slots[i].hnext) {
		f = &t->slots[i];
		if (f->cip == cip && f->sip == sip && f->cport == cport && f->sport == sport)
			return i;
	}
	return NETQ_FLOW_NIL;
}

/* Find or create a flow. */
struct netq_flow *
netq_flow_get(struct netq_flow_table *t, uint32_t cip, uint16_t cport, uint32_t sip,
    uint16_t sport, uint64_t now_ns, int create, int *created)
{
	size_t h = netq_flow_hash(t, cip, cport, sip, sport);
	struct netq_flow *f;
	int32_t i;

	if (created != NULL)
		*created = 0;
	if ((i = netq_flow_find(t, h, cip, cport, sip, sport)) != NETQ_FLOW_NIL) {
		f = &t->slots[i];
		netq_flow_lru_unlink(t, i);
		netq_flow_lru_push(t, i);
		f->last_ns = now_ns;
		return f;
	}
	if (!create)
		return NULL;
	if (t->free_head == NETQ_FLOW_NIL) {
		t->evictions++;
		netq_flow_remove(t, t->lru_tail, "evict");
	}
	i = t->free_head;
	f = &t->slots[i];
	t->free_head = f->hnext;
	memset(f, 0, sizeof(*f));
	f->cip = cip;
	f->sip = sip;
	f->cport = cport;
	f->sport = sport;
	f->first_ns = f->last_ns = now_ns;
	f->impair = -1;
	f->hnext = t->buckets[h];
	t->buckets[h] = i;
	f->lprev = f->lnext = NETQ_FLOW_NIL;
	netq_flow_lru_push(t, i);
	t->count++;
	if (created != NULL)
		*created = 1;
	return f;
}

/* Expire idle flows from the LRU end. */
size_t
netq_flow_expire(struct netq_flow_table *t, uint64_t now_ns, uint64_t idle_ns, size_t max)
{
	size_t n = 0;

	while (n < max && t->lru_tail != NETQ_FLOW_NIL &&
	    t->slots[t->lru_tail].last_ns + idle_ns < now_ns) {
		netq_flow_remove(t, t->lru_tail, "idle");
		n++;
	}
	return n;
}

/* Remove every flow. */
void
netq_flow_clear(struct netq_flow_table *t)
{
	size_t bound = t->max;

	while (t->lru_tail != NETQ_FLOW_NIL && bound-- > 0)
		netq_flow_remove(t, t->lru_tail, "exit");
}

/* Name f from a parsed hello. */
static void
netq_flow_hello_name(struct netq_flow *f, const struct tlspeek_hello *h)
{
	snprintf(f->name, sizeof(f->name), "%s", h->sni);
}

/* The held request, after a segment was appended: named, or more wanted, or not a request. */
static int
netq_flow_http_step(struct netq_flow_table *t, struct netq_flow *f)
{
	switch (netq_sig_http_request(netq_flow_hello_buf(t, f), f->hello_len, f->name,
	    sizeof(f->name))) {
	case NETQ_HTTP_MORE:
		return 1;
	case NETQ_HTTP_YES:
		f->http = 1;
		t->joined[1]++;
		netq_flow_hello_release(t, f, 0);
		return 0;
	default:
		netq_flow_hello_release(t, f, 1);
		return 0;
	}
}

/* Find the SNI, reassembling a hello (or continuing an HTTP request) that spans segments. */
int
netq_flow_hello(struct netq_flow_table *t, struct netq_flow *f, uint32_t seq,
    const uint8_t *data, size_t len, struct tlspeek_hello *h)
{
	uint8_t *buf;
	uint32_t next, skip;
	enum tlspeek_status st;

	if (f->hello_slot == 0) {	/* the first data */
		st = tlspeek_parse(data, len, h, NULL);
		if (st == TLSPEEK_OK)
			netq_flow_hello_name(f, h);
		if (st != TLSPEEK_NEED_MORE)
			return 0;
		return netq_flow_hold(t, f, seq, data, len, 0);
	}
	next = f->hello_seq0 + f->hello_len;		/* the first byte not held */
	if ((int32_t)(seq - next) > 0) {		/* a gap: out of order or lost */
		netq_flow_hello_release(t, f, 1);
		return 0;
	}
	skip = next - seq;				/* bytes of this segment already held */
	if (skip >= len)
		return 1;
	data += skip;
	len -= skip;
	if (len > NETQ_HELLO_MAX - f->hello_len) {
		netq_flow_hello_release(t, f, 1);
		return 0;
	}
	buf = netq_flow_hello_buf(t, f);
	memcpy(buf + f->hello_len, data, len);
	f->hello_len += (uint32_t)len;
	if (f->hello_http)
		return netq_flow_http_step(t, f);
	st = tlspeek_parse(buf, f->hello_len, h, NULL);
	if (st == TLSPEEK_NEED_MORE)
		return 1;
	if (st == TLSPEEK_OK) {
		netq_flow_hello_name(f, h);
		t->joined[0]++;
	}
	netq_flow_hello_release(t, f, st != TLSPEEK_OK);
	return 0;
}

/* Hold the start of an HTTP request (netq_flow.h). */
int
netq_flow_http(struct netq_flow_table *t, struct netq_flow *f, uint32_t seq,
    const uint8_t *data, size_t len)
{
	if (f->hello_slot != 0)
		return 1;
	return netq_flow_hold(t, f, seq, data, len, 1);
}

/* Reassembling. */
int
netq_flow_hello_pending(const struct netq_flow *f)
{
	return f->hello_slot != 0;
}

/* Stop reassembling. */
void
netq_flow_hello_abandon(struct netq_flow_table *t, struct netq_flow *f)
{
	netq_flow_hello_release(t, f, 1);
}

/* Free slots. */
size_t
netq_flow_hello_free(const struct netq_flow_table *t)
{
	return t->n_hello_free;
}

/* Slots taken from stalled searches. */
uint64_t
netq_flow_hello_reclaimed(const struct netq_flow_table *t)
{
	return t->reclaimed;
}

/* Reassembly counters. */
void
netq_flow_hello_counts(const struct netq_flow_table *t, uint64_t *joined, uint64_t *lost)
{
	*joined = t->joined[0];
	*lost = t->lost[0];
}

/* HTTP request reassembly counters. */
void
netq_flow_http_counts(const struct netq_flow_table *t, uint64_t *joined, uint64_t *lost)
{
	*joined = t->joined[1];
	*lost = t->lost[1];
}

/* Flows in the table. */
size_t
netq_flow_count(const struct netq_flow_table *t)
{
	return t->count;
}

/* Flows evicted for space so far. */
uint64_t
netq_flow_evictions(const struct netq_flow_table *t)
{
	return t->evictions;
}

/* Direction of a packet from its flags and ports alone. */
int
netq_flow_c2s(const struct netq_sig_pkt *p)
{
	if ((p->flags & NETQ_SIG_SYN) != 0)
		return (p->flags & NETQ_SIG_ACK) == 0;
	return p->dport < p->sport;
}

/* Direction of a packet: the flow the table holds for it, either way round, else the guess. */
int
netq_flow_dir(const struct netq_flow_table *t, const struct netq_sig_pkt *p)
{
	int32_t fwd, rev;
	const struct netq_flow *a, *b;
	int la, lb;

	if ((p->flags & NETQ_SIG_SYN) != 0)
		return netq_flow_c2s(p);
	fwd = netq_flow_find(t, netq_flow_hash(t, p->src, p->sport, p->dst, p->dport), p->src,
	    p->sport, p->dst, p->dport);		/* p from that flow's client */
	rev = netq_flow_find(t, netq_flow_hash(t, p->dst, p->dport, p->src, p->sport), p->dst,
	    p->dport, p->src, p->sport);		/* p from that flow's server */
	if (fwd != NETQ_FLOW_NIL && rev != NETQ_FLOW_NIL && fwd != rev) {
		/* one guessed mid-stream, the other (a new connection) oriented by its SYN */
		a = &t->slots[fwd];
		b = &t->slots[rev];
		la = a->c.have_hs || a->s.have_hs;
		lb = b->c.have_hs || b->s.have_hs;
		return la != lb ? la : netq_flow_c2s(p);
	}
	if (fwd != NETQ_FLOW_NIL)
		return 1;
	if (rev != NETQ_FLOW_NIL)
		return 0;
	return netq_flow_c2s(p);
}

/* Widen s's first flight to cover p's payload; its size is the span covered. */
static void
netq_flow_flight(struct netq_flow_side *s, const struct netq_sig_pkt *p)
{
	uint32_t seq = netq_sig_data_seq(p);
	uint32_t end = seq + (uint32_t)p->payload_len;

	if (netq_flow_flight_bytes(s) >= NETQ_FLOW_FLIGHT_MAX)
		return;		/* frozen: the span must stay far from the sequence wrap */
	if (!s->flight_on) {
		s->flight_on = 1;
		s->flight_seq0 = seq;
		s->flight_end = end;
	} else {
		if ((int32_t)(seq - s->flight_seq0) < 0)	/* reordered: an earlier segment */
			s->flight_seq0 = seq;
		if ((int32_t)(end - s->flight_end) > 0)
			s->flight_end = end;
	}
}

/* The span the first flight covers, capped. */
uint32_t
netq_flow_flight_bytes(const struct netq_flow_side *s)
{
	uint32_t n = s->flight_on ? s->flight_end - s->flight_seq0 : 0;

	return n < NETQ_FLOW_FLIGHT_MAX ? n : NETQ_FLOW_FLIGHT_MAX;
}

/* Record a packet's signals. */
void
netq_flow_note(struct netq_flow *f, const struct netq_sig_pkt *p, int c2s, uint64_t now_ns)
{
	struct netq_flow_side *s = c2s ? &f->c : &f->s;
	int hs = (p->flags & NETQ_SIG_SYN) != 0 && ((p->flags & NETQ_SIG_ACK) != 0) != c2s;

	if (s->pkts == 0) {
		s->ttl = s->ttl_min = s->ttl_max = p->ttl;
		s->window = p->window;
		s->df = p->df;
	}
	s->pkts++;
	s->bytes += p->ip_len;
	if (s->pkts <= NETQ_FLOW_PKTS) {
		if (p->ttl < s->ttl_min)
			s->ttl_min = p->ttl;
		if (p->ttl > s->ttl_max)
			s->ttl_max = p->ttl;
		if (s->n_ipid < NETQ_FLOW_PKTS)
			s->ipid[s->n_ipid++] = p->ipid;
	}
	if (hs && !s->have_hs) {
		s->have_hs = 1;
		s->opts = p->opts;
		s->window = p->window;
		s->hs_ns = now_ns;
		s->ttl = p->ttl;
	}
	if (p->payload_len > 0 && s->data_ns == 0) {
		s->data_ns = now_ns;
		s->data_len = (uint32_t)p->payload_len;
	}
	if (p->payload_len > 0) {
		if (c2s && f->s.data_ns == 0)
			netq_flow_flight(&f->c, p);
		else if (c2s) {
			if (!f->c.flight_on || (int32_t)(p->seq + (uint32_t)p->payload_len -
			    f->c.flight_end) > 0)
				f->c_second = 1;	/* new bytes, not a retransmission */
		} else if (!f->c_second)
			netq_flow_flight(&f->s, p);
	}
	if (p->flags & NETQ_SIG_FIN)
		s->fin = 1;
	if (p->flags & NETQ_SIG_RST)
		s->rst = 1;
}

/* Are the flow's signals final? */
int
netq_flow_complete(const struct netq_flow *f)
{
	if (f->c.fin || f->c.rst || f->s.fin || f->s.rst)
		return 1;
	return f->c.data_ns != 0 && f->s.data_ns != 0;
}
