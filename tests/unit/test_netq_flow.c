/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_netq_flow — the flow table's bounds (never more than max flows; a flood evicts the
 * least recently used, each eviction seen once by the callback), lookup, idle expiry, clear,
 * direction inference and the per-side signal bounds. Also the hold queue (netq_hold.h) the
 * handler keeps beside it: due-time order and its capacity.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netq_flow.h"
#include "netq_hold.h"

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

/* First flights: hello, the server's answer in three segments, then the client again. */
static void
test_flight(void **state)
{
	static const struct { int c2s; size_t len; } seq[] = {
		{ 1, 0 }, { 0, 0 }, { 1, 0 },		/* handshake */
		{ 1, 300 }, { 1, 17 },			/* client flight: 317 */
		{ 0, 1448 }, { 1, 0 }, { 0, 1448 }, { 0, 15 },	/* server flight: 2911 (ACK between) */
		{ 1, 80 },				/* the client's second flight */
		{ 0, 500 }, { 1, 100 },			/* later data counts in neither */
	};
	struct netq_sig_pkt p;
	struct netq_flow f;
	size_t i;

	(void)state;
	memset(&f, 0, sizeof(f));
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = NETQ_SIG_ACK;
		p.payload_len = seq[i].len;
		netq_flow_note(&f, &p, seq[i].c2s, 100 + i);
	}
	assert_int_equal(f.c.flight_bytes, 317);
	assert_int_equal(f.s.flight_bytes, 2911);
	assert_int_equal(f.s.data_len, 1448);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_note),
		cmocka_unit_test(test_flight),
		cmocka_unit_test(test_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
