/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_netq_sig — the packet parser and signal inferences on golden packets built byte by byte
 * here (a Linux-like SYN with MSS/SACK/TS/NOP/WS, a data segment), every truncation of them,
 * malformed headers, options Linux ignores (the packet still parses), the TTL / IP ID tables,
 * the flow id, the HTTP sniff and the checksums.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netq_sig.h"

/* 10.1.0.2:40000 > 10.2.0.2:443 SYN, TTL 63, ID 0x1234, DF, win 64240,
 * options MSS 1460, SACK-permitted, TS 1/0, NOP, WS 7 (the Linux layout). */
static const uint8_t syn[60] = {
	0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x06, 0x00, 0x00,
	0x0a, 0x01, 0x00, 0x02, 0x0a, 0x02, 0x00, 0x02,
	0x9c, 0x40, 0x01, 0xbb, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xa0, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* The golden SYN parses field by field. */
static void
test_syn(void **state)
{
	struct netq_sig_pkt p;

	(void)state;
	assert_int_equal(netq_sig_parse(syn, sizeof(syn), &p), NETQ_SIG_OK);
	assert_int_equal(p.src, 0x0a010002);
	assert_int_equal(p.dst, 0x0a020002);
	assert_int_equal(p.ttl, 63);
	assert_int_equal(p.ipid, 0x1234);
	assert_true(p.df);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.seq, 0x1000);
	assert_int_equal(p.flags, NETQ_SIG_SYN);
	assert_int_equal(p.window, 64240);
	assert_true(p.opts.has_mss);
	assert_int_equal(p.opts.mss, 1460);
	assert_true(p.opts.sack_perm);
	assert_true(p.opts.has_ts);
	assert_int_equal(p.opts.tsval, 1);
	assert_true(p.opts.has_ws);
	assert_int_equal(p.opts.ws, 7);
	assert_string_equal(p.opts.layout, "M,S,T,N,W");
	assert_int_equal(p.payload_len, 0);
}

/* Every prefix of the SYN is refused, never read past. */
static void
test_truncated(void **state)
{
	struct netq_sig_pkt p;
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(syn); n++)
		assert_int_equal(netq_sig_parse(syn, n, &p), NETQ_SIG_TRUNCATED);
}

/* Bad header lengths, options and protocols. */
static void
test_malformed(void **state)
{
	struct netq_sig_pkt p;
	uint8_t b[sizeof(syn)];

	(void)state;
	memcpy(b, syn, sizeof(b));
	b[0] = 0x44;				/* IHL 16 bytes */
	assert_int_equal(netq_sig_parse(b, sizeof(b), &p), NETQ_SIG_MALFORMED);
	memcpy(b, syn, sizeof(b));
	b[32] = 0x40;				/* TCP data offset 16 bytes */
	assert_int_equal(netq_sig_parse(b, sizeof(b), &p), NETQ_SIG_MALFORMED);
	memcpy(b, syn, sizeof(b));
	b[2] = 0x00; b[3] = 0x10;		/* total length below the header */
	assert_int_equal(netq_sig_parse(b, sizeof(b), &p), NETQ_SIG_MALFORMED);
	memcpy(b, syn, sizeof(b));
	b[9] = 17;
	assert_int_equal(netq_sig_parse(b, sizeof(b), &p), NETQ_SIG_NOT_TCP);
	memcpy(b, syn, sizeof(b));
	b[0] = 0x60;
	assert_int_equal(netq_sig_parse(b, sizeof(b), &p), NETQ_SIG_NOT_IPV4);
	memcpy(b, syn, sizeof(b));
	b[7] = 0x10;				/* fragment offset */
	assert_int_equal(netq_sig_parse(b, sizeof(b), &p), NETQ_SIG_FRAGMENT);
	memcpy(b, syn, sizeof(b));
	b[40] = 0x00;				/* end of options first: the rest is ignored */
	assert_int_equal(netq_sig_parse(b, sizeof(b), &p), NETQ_SIG_OK);
	assert_string_equal(p.opts.layout, "E");
}

/* Options Linux ignores do not make the packet malformed (the kernel completes the handshake):
 * the packet parses, the options before them are kept, opts.malformed is set and the layout
 * shows "!" where they are. A known option of the wrong length is skipped and parsing goes on;
 * a length below 2, one past the options area or a lone kind byte at the end stops it. */
static void
test_bad_opts(void **state)
{
	static const struct {
		uint8_t opt[20];
		const char *layout;
		int mss, ws;
	} t[] = {
		/* MSS of length 6, SACK-permitted, TS, NOP, NOP */
		{ { 2, 6, 5, 0xb4, 0, 0, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1 },
		    "!,S,T,N,N", -1, -1 },
		/* MSS, window scale of length 4, SACK-permitted, TS */
		{ { 2, 4, 5, 0xb4, 3, 4, 7, 0, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0 },
		    "M,!,S,T", 1460, -1 },
		/* MSS, SACK-permitted, TS, NOP x 3, a lone window-scale kind byte at the end */
		{ { 2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 3 },
		    "M,S,T,N,N,N,!", 1460, -1 },
		/* an option length 0; an option running past the area */
		{ { 2, 4, 5, 0xb4, 8, 0, 3, 3, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 },
		    "M,!", 1460, -1 },
		{ { 3, 3, 7, 8, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		    "W,!", -1, 7 },
	};
	struct netq_sig_pkt p;
	uint8_t b[sizeof(syn) + 3];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memcpy(b, syn, sizeof(syn));
		memcpy(b + 40, t[i].opt, 20);
		memcpy(b + sizeof(syn), "abc", 3);	/* a payload after the options */
		b[3] = sizeof(b);
		assert_int_equal(netq_sig_parse(b, sizeof(b), &p), NETQ_SIG_OK);
		assert_int_equal(p.flags, NETQ_SIG_SYN);
		assert_int_equal(p.sport, 40000);
		assert_int_equal(p.dport, 443);
		assert_true(p.opts.malformed);
		assert_int_equal(p.opts.has_mss, t[i].mss >= 0);
		if (t[i].mss >= 0)
			assert_int_equal(p.opts.mss, t[i].mss);
		assert_int_equal(p.opts.has_ws, t[i].ws >= 0);
		if (t[i].ws >= 0)
			assert_int_equal(p.opts.ws, t[i].ws);
		assert_int_equal(p.payload_len, 3);
		assert_ptr_equal(p.payload, b + sizeof(syn));
		assert_string_equal(p.opts.layout, t[i].layout);
	}
	assert_int_equal(netq_sig_parse(syn, sizeof(syn), &p), NETQ_SIG_OK);
	assert_false(p.opts.malformed);
}

/* A data segment: payload bounded by the IP total length, not the buffer. */
static void
test_payload(void **state)
{
	struct netq_sig_pkt p;
	uint8_t b[80];

	(void)state;
	memset(b, 0xee, sizeof(b));
	memcpy(b, syn, 20);
	b[3] = 50;				/* total 50: 20 IP + 20 TCP + 10 data */
	memcpy(b + 20, syn + 20, 20);
	b[32] = 0x50;
	b[33] = NETQ_SIG_ACK | NETQ_SIG_PSH;
	assert_int_equal(netq_sig_parse(b, sizeof(b), &p), NETQ_SIG_OK);
	assert_int_equal(p.payload_len, 10);
	assert_ptr_equal(p.payload, b + 40);
	assert_string_equal(p.opts.layout, "");
}

/* Initial TTL and hop tables. */
static void
test_ttl(void **state)
{
	(void)state;
	assert_int_equal(netq_sig_ttl_initial(64), 64);
	assert_int_equal(netq_sig_ttl_initial(1), 64);
	assert_int_equal(netq_sig_ttl_initial(65), 128);
	assert_int_equal(netq_sig_ttl_initial(128), 128);
	assert_int_equal(netq_sig_ttl_initial(129), 255);
	assert_int_equal(netq_sig_hops(63), 1);
	assert_int_equal(netq_sig_hops(116), 12);
	assert_int_equal(netq_sig_hops(250), 5);
}

/* IP ID classes. */
static void
test_ipid(void **state)
{
	static const uint16_t zero[] = { 0, 0, 0 }, inc[] = { 65534, 65535, 0, 3 },
	    rnd[] = { 100, 40000, 7 }, same[] = { 9, 9, 9 }, one[] = { 5 };

	(void)state;
	assert_string_equal(netq_sig_ipid_class(zero, 3), "zero");
	assert_string_equal(netq_sig_ipid_class(zero, 1), "zero");
	assert_string_equal(netq_sig_ipid_class(inc, 4), "incrementing");
	assert_string_equal(netq_sig_ipid_class(rnd, 3), "random");
	assert_string_equal(netq_sig_ipid_class(same, 3), "constant");
	assert_string_equal(netq_sig_ipid_class(one, 1), "unknown");
	assert_string_equal(netq_sig_ipid_class(NULL, 0), "unknown");
}

/* The contract flow id. */
static void
test_flow_id(void **state)
{
	char id[NETQ_SIG_FLOWID];

	(void)state;
	assert_string_equal(netq_sig_flow_id(0x0a010002, 40000, 0x0a020002, 443, id),
	    "10.1.0.2:40000>10.2.0.2:443");
	assert_string_equal(netq_sig_flow_id(0xffffffff, 65535, 0xffffffff, 65535, id),
	    "255.255.255.255:65535>255.255.255.255:65535");
}

/* HTTP request sniffing. */
static void
test_http(void **state)
{
	static const char req[] = "GET /x HTTP/1.1\r\nUser-Agent: t\r\nHost: Plain.Lab:8080\r\n\r\n";
	static const char nohost[] = "HEAD / HTTP/1.0\r\n\r\n";
	char host[64];

	(void)state;
	assert_int_equal(netq_sig_http_request((const uint8_t *)req, strlen(req), host, sizeof(host)), NETQ_HTTP_YES);
	assert_string_equal(host, "plain.lab");
	assert_int_equal(netq_sig_http_request((const uint8_t *)nohost, strlen(nohost), host, sizeof(host)), NETQ_HTTP_YES);
	assert_string_equal(host, "");
	assert_int_equal(netq_sig_http_request((const uint8_t *)"\x16\x03\x01", 3, host, sizeof(host)), NETQ_HTTP_NO);
	assert_int_equal(netq_sig_http_request((const uint8_t *)"GET /\r\n", 7, host, sizeof(host)), NETQ_HTTP_NO);
	assert_int_equal(netq_sig_http_request((const uint8_t *)"SSH-2.0", 7, host, sizeof(host)), NETQ_HTTP_NO);
	assert_int_equal(netq_sig_http_request((const uint8_t *)"", 0, host, sizeof(host)), NETQ_HTTP_NO);
	/* the start of a request: more to come, no name yet */
	assert_int_equal(netq_sig_http_request((const uint8_t *)"GE", 2, host, sizeof(host)), NETQ_HTTP_MORE);
	assert_int_equal(netq_sig_http_request((const uint8_t *)"GET / HTTP", 10, host, sizeof(host)), NETQ_HTTP_MORE);
	assert_int_equal(netq_sig_http_request((const uint8_t *)req, 32, host, sizeof(host)), NETQ_HTTP_MORE);
	assert_int_equal(netq_sig_http_request((const uint8_t *)req, 40, host, sizeof(host)), NETQ_HTTP_MORE);
	assert_string_equal(host, "");		/* "Host: Pl" is cut, not taken */
	assert_int_equal(netq_sig_http_request((const uint8_t *)req, strlen(req) - 2, host, sizeof(host)), NETQ_HTTP_YES);
	assert_string_equal(host, "plain.lab");	/* the Host line has ended */
	/* a host longer than the buffer is cut, still terminated */
	assert_int_equal(netq_sig_http_request((const uint8_t *)req, strlen(req), host, 4), NETQ_HTTP_YES);
	assert_string_equal(host, "pla");
}

/* Checksums: a header with its checksum filled in sums to zero. */
static void
test_csum(void **state)
{
	uint8_t b[sizeof(syn)];
	uint16_t c;

	(void)state;
	memcpy(b, syn, sizeof(b));
	c = netq_sig_ip_csum(b, 20);
	b[10] = (uint8_t)(c >> 8);
	b[11] = (uint8_t)c;
	assert_int_equal(netq_sig_ip_csum(b, 20), 0);
	c = netq_sig_tcp_csum(0x0a010002, 0x0a020002, b + 20, 40);
	b[36] = (uint8_t)(c >> 8);
	b[37] = (uint8_t)c;
	assert_int_equal(netq_sig_tcp_csum(0x0a010002, 0x0a020002, b + 20, 40), 0);
	/* odd length: the last byte is the high half of a zero-padded word (RFC 1071);
	 * ~(6 + 3 + 0x1234 + 0xab00) = 0x42c2 */
	assert_int_equal(netq_sig_tcp_csum(0, 0, (const uint8_t[]){ 0x12, 0x34, 0xab }, 3),
	    0x42c2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bad_opts),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_ipid),
		cmocka_unit_test(test_flow_id),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_csum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
