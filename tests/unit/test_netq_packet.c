/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_netq_packet — the handler's verdict on packets built byte by byte here (netq_packet,
 * through netq_new: no queue, no bus): a client's SYN to a divert target gets the divert mark,
 * also when Linux would ignore some of its options (three shapes; the flow notes them), while
 * one to another destination and the server's SYN-ACK do not; a flow's ClientHello names it
 * and brings its SNI impairment into force, also when the client's port is below the server's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netq.h"
#include "netq_flow.h"
#include "netq_sig.h"
#include "util.h"

#define HELLO_FILE	"tests/fixtures/clienthello/openssl_tls13.bin"	/* SNI lab.example */
#define CLIENT		0x0a010002u	/* 10.1.0.2 */
#define TARGET		0x0a020002u	/* 10.2.0.2, --divert-dst */
#define OTHER		0x0a020003u	/* 10.2.0.3 */
#define MARK_IN		0x100u		/* a mark the packet already carries */

/* The Linux SYN options: MSS 1460, SACK-permitted, TS 1/0, NOP, WS 7. */
static const uint8_t linux_opts[20] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

static struct netq_conf conf;
static struct netq *q;

/* Build an IPv4/TCP packet into b (room for 40 + olen + plen bytes): TTL 63, DF, window
 * 64240, options opt[0..olen) (a multiple of 4), payload data[0..plen) (NULL: none). Returns
 * its length. */
static size_t
pkt(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq,
    uint8_t flags, const uint8_t *opt, size_t olen, const uint8_t *data, size_t plen)
{
	size_t len = 40 + olen + plen;
	uint8_t *t = b + 20;

	memset(b, 0, 40);
	b[0] = 0x45;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[6] = 0x40;
	b[8] = 63;
	b[9] = 6;
	b[12] = (uint8_t)(src >> 24); b[13] = (uint8_t)(src >> 16);
	b[14] = (uint8_t)(src >> 8); b[15] = (uint8_t)src;
	b[16] = (uint8_t)(dst >> 24); b[17] = (uint8_t)(dst >> 16);
	b[18] = (uint8_t)(dst >> 8); b[19] = (uint8_t)dst;
	t[0] = (uint8_t)(sport >> 8); t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8); t[3] = (uint8_t)dport;
	t[4] = (uint8_t)(seq >> 24); t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8); t[7] = (uint8_t)seq;
	t[12] = (uint8_t)((20 + olen) / 4 << 4);
	t[13] = flags;
	t[14] = 0xfa;
	t[15] = 0xf0;
	if (opt != NULL)
		memcpy(t + 20, opt, olen);
	if (data != NULL)
		memcpy(t + 20 + olen, data, plen);
	return len;
}

/* The verdict on b[0..len); *mark the mark it leaves. */
static enum netq_verdict
verdict(const uint8_t *b, size_t len, uint32_t *mark)
{
	uint32_t hold_ms = 0;

	*mark = MARK_IN;
	return netq_packet(q, b, len, MARK_IN, mark, &hold_ms);
}

/* A handler diverting 10.2.0.2:443 and delaying flows named lab.example. */
static int
setup(void **state)
{
	char *cause = NULL;

	(void)state;
	netq_conf_init(&conf);
	if (netq_conf_add_cidr(&conf, 'd', "10.2.0.2/32", &cause) == -1 ||
	    netq_impair_add(&conf.impair, "delay:10 sni=lab.example", "test", &cause) == -1 ||
	    (q = netq_new(&conf, &cause)) == NULL) {
		free(cause);
		return -1;
	}
	return 0;
}

/* Free the handler. */
static int
teardown(void **state)
{
	(void)state;
	netq_free(q);
	netq_conf_free(&conf);
	return 0;
}

/* A client's SYN to the target is marked, keeping the mark it had; one to another destination
 * and the server's SYN-ACK are accepted as they are. */
static void
test_divert(void **state)
{
	uint8_t b[128];
	uint32_t mark;
	size_t len;
	struct netq_flow *f;

	(void)state;
	len = pkt(b, CLIENT, 40000, TARGET, 443, 1000, NETQ_SIG_SYN, linux_opts, 20, NULL, 0);
	assert_int_equal(verdict(b, len, &mark), NETQ_V_MARK);
	assert_int_equal(mark, MARK_IN | conf.mark);
	f = netq_flow_get(netq_flows(q), CLIENT, 40000, TARGET, 443, 0, 0, NULL);
	assert_non_null(f);
	assert_true(f->diverted);
	assert_string_equal(f->c.opts.layout, "M,S,T,N,W");
	len = pkt(b, TARGET, 443, CLIENT, 40000, 5000, NETQ_SIG_SYN | NETQ_SIG_ACK, linux_opts,
	    20, NULL, 0);
	assert_int_equal(verdict(b, len, &mark), NETQ_V_ACCEPT);
	assert_int_equal(mark, MARK_IN);
	assert_true(f->s.have_hs);
	len = pkt(b, CLIENT, 40001, OTHER, 443, 1000, NETQ_SIG_SYN, linux_opts, 20, NULL, 0);
	assert_int_equal(verdict(b, len, &mark), NETQ_V_ACCEPT);
	assert_int_equal(mark, MARK_IN);
}

/* A SYN whose options Linux ignores in part (it completes the handshake) is diverted like any
 * other: an MSS of length 6, a window scale of length 4, a lone kind byte at the end. */
static void
test_bad_opts(void **state)
{
	static const uint8_t opts[][8] = {
		{ 0x02, 0x06, 0x05, 0xb4, 0x00, 0x00, 0x04, 0x02 },
		{ 0x02, 0x04, 0x05, 0xb4, 0x03, 0x04, 0x07, 0x00 },
		{ 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x01, 0x03 },
	};
	uint8_t b[128];
	uint32_t mark;
	size_t i, len;
	struct netq_flow *f;

	(void)state;
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		len = pkt(b, CLIENT, (uint16_t)(41000 + i), TARGET, 443, 1000, NETQ_SIG_SYN,
		    opts[i], sizeof(opts[i]), NULL, 0);
		assert_int_equal(verdict(b, len, &mark), NETQ_V_MARK);
		assert_int_equal(mark, MARK_IN | conf.mark);
		f = netq_flow_get(netq_flows(q), CLIENT, (uint16_t)(41000 + i), TARGET, 443, 0, 0,
		    NULL);
		assert_non_null(f);
		assert_true(f->diverted);
		assert_true(f->c.have_hs);
		assert_true(f->c.opts.malformed);	/* the flow's signal */
	}
}

/* The client at port cport: SYN, SYN-ACK, a bare ACK, then its ClientHello in one segment,
 * which the SNI rule holds. *hlen gets the hello's length. */
static void
hello_flow(uint16_t cport, size_t *hlen)
{
	static uint8_t b[40 + 20 + 2048];
	uint8_t *hello = (uint8_t *)util_read_file(HELLO_FILE, hlen, NULL);
	uint32_t mark;
	size_t len;

	assert_non_null(hello);
	assert_true(*hlen <= 2048);
	len = pkt(b, CLIENT, cport, OTHER, 443, 1000, NETQ_SIG_SYN, linux_opts, 20, NULL, 0);
	assert_int_equal(verdict(b, len, &mark), NETQ_V_ACCEPT);
	len = pkt(b, OTHER, 443, CLIENT, cport, 5000, NETQ_SIG_SYN | NETQ_SIG_ACK, linux_opts, 20,
	    NULL, 0);
	assert_int_equal(verdict(b, len, &mark), NETQ_V_ACCEPT);
	len = pkt(b, CLIENT, cport, OTHER, 443, 1001, NETQ_SIG_ACK, NULL, 0, NULL, 0);
	assert_int_equal(verdict(b, len, &mark), NETQ_V_ACCEPT);
	len = pkt(b, CLIENT, cport, OTHER, 443, 1001, NETQ_SIG_ACK | NETQ_SIG_PSH, NULL, 0, hello,
	    *hlen);
	assert_int_equal(verdict(b, len, &mark), NETQ_V_HOLD);
	free(hello);
}

/* A ClientHello in one segment names the flow, and its SNI rule holds the segment. */
static void
test_named(void **state)
{
	struct netq_flow *f;
	size_t hlen;

	(void)state;
	hello_flow(40002, &hlen);
	f = netq_flow_get(netq_flows(q), CLIENT, 40002, OTHER, 443, 0, 0, NULL);
	assert_non_null(f);
	assert_string_equal(f->name, "lab.example");
	assert_int_equal(f->c.data_len, hlen);
}

/* A client bound to a port below the server's (100 > 443): its packets are the client's, as
 * its SYN said, so its ClientHello names the flow and the SNI rule holds it; the server's
 * answer counts as the server's. */
static void
test_low_port(void **state)
{
	static uint8_t b[40 + 20 + 16];
	struct netq_flow *f;
	uint32_t mark;
	size_t hlen, len;

	(void)state;
	hello_flow(100, &hlen);
	len = pkt(b, OTHER, 443, CLIENT, 100, 5001, NETQ_SIG_ACK | NETQ_SIG_PSH, NULL, 0,
	    (const uint8_t *)"\x16\x03\x03", 3);
	assert_int_equal(verdict(b, len, &mark), NETQ_V_HOLD);
	assert_int_equal(netq_flow_count(netq_flows(q)), 1);	/* one flow, not two */
	f = netq_flow_get(netq_flows(q), CLIENT, 100, OTHER, 443, 0, 0, NULL);
	assert_non_null(f);
	assert_string_equal(f->name, "lab.example");
	assert_int_equal(f->c.pkts, 3);
	assert_int_equal(f->c.data_len, hlen);
	assert_int_equal(f->s.pkts, 2);
	assert_int_equal(f->s.data_len, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_divert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_opts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_low_port, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
