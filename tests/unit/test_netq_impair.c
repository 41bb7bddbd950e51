/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_netq_impair — impairment rules (syntax, errors, first match wins, name vs destination),
 * the seeded drop decisions (same seed, same drops; the rate matches the probability), the
 * injected RSTs' sequence numbers and the 302's bytes and checksums; and the packet plane's
 * configuration: the diversion decision and the rule set's commands, and the passive
 * monitor's (no active option accepted, fail-open, queue 1, its own FORWARD chain).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netq_conf.h"
#include "netq_impair.h"
#include "netq_rules.h"
#include "netq_sig.h"

/* Rule syntax. */
static void
test_rules(void **state)
{
	static const char *const bad[] = { "drop", "drop:2 dst=1.2.3.4", "drop:x dst=1.2.3.4",
	    "delay:0 dst=1.2.3.4", "delay:99999 dst=1.2.3.4", "reset", "reset:1 sni=a",
	    "redirect:ftp://x sni=a", "redirect sni=a", "explode sni=a", "reset host=a",
	    "reset dst=300.1.1.1", "reset dst=::1/128", "reset sni=" };
	struct netq_impair im;
	char *cause = NULL;
	size_t i;

	(void)state;
	netq_impair_init(&im, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(netq_impair_add(&im, bad[i], "t", &cause), -1);
		assert_non_null(cause);
		assert_non_null(strstr(cause, "t: "));
		free(cause);
		cause = NULL;
	}
	assert_int_equal(im.n, 0);
	assert_int_equal(netq_impair_add(&im, "timeout sni=*.google.com", "t", NULL), 0);
	assert_int_equal(netq_impair_add(&im, "drop:0.25 dst=10.2.1.0/24", "t", NULL), 0);
	assert_int_equal(netq_impair_add(&im, "reset sni=twitter.com", "t", NULL), 0);
	assert_int_equal(netq_impair_add(&im, "delay:50 dst=10.0.0.0/8", "t", NULL), 0);
	assert_int_equal(netq_impair_add(&im, "redirect:http://w.lab/i sni=plain.lab", "t", NULL), 0);
	assert_int_equal(im.rules[1].kind, NETQ_IMPAIR_DROP);
	assert_true(im.rules[1].prob == 0.25);
	assert_int_equal(im.rules[3].delay_ms, 50);
	assert_string_equal(im.rules[4].url, "http://w.lab/i");
	/* first match wins; name rules need a name */
	assert_int_equal(netq_impair_match(&im, 0x0a020105, NULL), 1);
	assert_int_equal(netq_impair_match(&im, 0x0a020105, "mail.google.com"), 0);
	assert_int_equal(netq_impair_match(&im, 0x0a030105, "twitter.com"), 2);
	assert_int_equal(netq_impair_match(&im, 0x0a030105, ""), 3);
	assert_int_equal(netq_impair_match(&im, 0x0b000001, "plain.lab"), 4);
	assert_int_equal(netq_impair_match(&im, 0x0b000001, "other.lab"), -1);
	assert_string_equal(netq_impair_kind_name(NETQ_IMPAIR_REDIRECT), "redirect");
}

/* Seeded drops: reproducible and at the configured rate. */
static void
test_roll(void **state)
{
	struct netq_impair a, b;
	int i, na = 0, same = 1;

	(void)state;
	netq_impair_init(&a, 42);
	netq_impair_init(&b, 42);
	for (i = 0; i < 100000; i++) {
		int x = netq_impair_roll(&a, 0.3), y = netq_impair_roll(&b, 0.3);
		na += x;
		same &= x == y;
	}
	assert_true(same);
	assert_in_range(na, 29000, 31000);
	netq_impair_init(&b, 43);
	netq_impair_init(&a, 42);
	for (i = 0, same = 1; i < 64; i++)
		same &= netq_impair_roll(&a, 0.5) == netq_impair_roll(&b, 0.5);
	assert_false(same);
	for (i = 0; i < 1000; i++) {
		assert_false(netq_impair_roll(&a, 0));
		assert_true(netq_impair_roll(&a, 1));
	}
}

/* The client's 517-byte ClientHello segment the injections answer. */
static void
hello_pkt(struct netq_sig_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->src = 0x0a010002;
	p->dst = 0x0a020002;
	p->sport = 40000;
	p->dport = 443;
	p->seq = 1001;
	p->ack = 5001;
	p->flags = NETQ_SIG_ACK | NETQ_SIG_PSH;
	p->payload_len = 517;
}

/* Parse a built packet and check its checksums. */
static void
check_built(const uint8_t *b, size_t len, struct netq_sig_pkt *q)
{
	assert_true(len >= 40);
	assert_int_equal(netq_sig_parse(b, len, q), NETQ_SIG_OK);
	assert_int_equal(q->ip_len, len);
	assert_int_equal(netq_sig_ip_csum(b, 20), 0);
	assert_int_equal(netq_sig_tcp_csum(q->src, q->dst, b + 20, len - 20), 0);
}

/* RSTs to both ends. */
static void
test_rst(void **state)
{
	uint8_t c[NETQ_IMPAIR_PKT], s[NETQ_IMPAIR_PKT];
	struct netq_sig_pkt p, q;
	size_t lc, ls;

	(void)state;
	hello_pkt(&p);
	netq_impair_rst_pair(&p, c, &lc, s, &ls);
	check_built(c, lc, &q);
	assert_int_equal(q.src, p.dst);
	assert_int_equal(q.sport, 443);
	assert_int_equal(q.dport, 40000);
	assert_int_equal(q.seq, 5001);		/* what the client expects from the server */
	assert_int_equal(q.ack, 1001 + 517);
	assert_int_equal(q.flags, NETQ_SIG_RST | NETQ_SIG_ACK);
	check_built(s, ls, &q);
	assert_int_equal(q.src, p.src);
	assert_int_equal(q.dport, 443);
	assert_int_equal(q.seq, 1001);		/* the server never got the hello */
	assert_int_equal(q.ttl, 64);
}

/* The 302. */
static void
test_redirect(void **state)
{
	static const char want[] = "HTTP/1.1 302 Found\r\nLocation: http://w.lab/install\r\n";
	uint8_t b[NETQ_IMPAIR_PKT];
	struct netq_sig_pkt p, q;
	char url[NETQ_IMPAIR_URL];
	size_t len;

	(void)state;
	hello_pkt(&p);
	p.dport = 80;
	p.payload_len = 78;
	len = netq_impair_redirect(&p, "http://w.lab/install", b, sizeof(b));
	check_built(b, len, &q);
	assert_int_equal(q.sport, 80);
	assert_int_equal(q.seq, 5001);
	assert_int_equal(q.ack, 1001 + 78);
	assert_int_equal(q.flags, NETQ_SIG_PSH | NETQ_SIG_ACK | NETQ_SIG_FIN);
	assert_memory_equal(q.payload, want, strlen(want));
	/* too long for the buffer */
	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	assert_int_equal(netq_impair_redirect(&p, url, b, 100), 0);
	assert_int_equal(netq_impair_build(b, 39, 1, 2, 3, 4, 0, 0, 0, 0, NULL, 0), 0);
}

/* Diversion: target destination AND on-path source AND the divert port. */
static void
test_divert(void **state)
{
	struct netq_conf c;

	(void)state;
	netq_conf_init(&c);
	assert_false(netq_conf_divert(&c, 0x0a010002, 0x0a020002, 443));	/* no targets */
	assert_int_equal(netq_conf_add_cidr(&c, 'd', "10.2.0.0/24", NULL), 0);
	assert_true(netq_conf_divert(&c, 0x0a010002, 0x0a020002, 443));
	assert_false(netq_conf_divert(&c, 0x0a010002, 0x0a020002, 80));
	assert_false(netq_conf_divert(&c, 0x0a010002, 0x0a030002, 443));
	assert_int_equal(netq_conf_add_cidr(&c, 'p', "10.1.0.0/16", NULL), 0);
	assert_true(netq_conf_divert(&c, 0x0a010002, 0x0a020002, 443));
	assert_false(netq_conf_divert(&c, 0x0a040002, 0x0a020002, 443));	/* off path */
	c.divert_all = 1;
	assert_true(netq_conf_divert(&c, 0x0a010002, 0x0a090002, 443));
	assert_false(netq_conf_divert(&c, 0x0a040002, 0x0a090002, 443));
	assert_int_equal(netq_conf_add_cidr(&c, 'd', "::/0", NULL), -1);
	assert_int_equal(netq_conf_set_ports(&c, "443,8080", NULL), 0);
	assert_int_equal(c.n_ports, 2);
	assert_int_equal(c.ports[0], 443);
	assert_int_equal(c.ports[1], 8080);
	assert_int_equal(netq_conf_set_ports(&c, "0", NULL), -1);
	netq_conf_free(&c);
}

/* The rule set as text. */
static void
test_rule_set(void **state)
{
	char cmds[NETQ_RULES_MAX][NETQ_RULES_CMDLEN];
	struct netq_conf c;
	int n, i, q = -1, hook = -1;

	(void)state;
	netq_conf_init(&c);
	n = netq_rules_commands(&c, 1, cmds, NETQ_RULES_MAX);
	assert_true(n > 4);
	for (i = 0; i < n; i++) {
		if (strstr(cmds[i], "-j NFQUEUE") != NULL) {
			q = i;
			assert_non_null(strstr(cmds[i], "-t mangle"));
			assert_non_null(strstr(cmds[i], "--ports 443,80"));
			assert_null(strstr(cmds[i], "--queue-bypass"));
		}
		if (strstr(cmds[i], "-A PREROUTING") != NULL && hook == -1)
			hook = i;
	}
	assert_true(q >= 0 && hook > q);	/* chains hooked in after they are built */
	assert_non_null(strstr(cmds[n - 3], "-m connmark --mark 0x1/0x1 -j REDIRECT --to-ports 8443"));
	c.fail_open = 1;
	snprintf(c.mode, sizeof(c.mode), "tproxy");
	n = netq_rules_commands(&c, 1, cmds, NETQ_RULES_MAX);
	for (i = 0, q = 0; i < n; i++)
		q += strstr(cmds[i], "-t raw -A MITMLAB_NETQ") != NULL &&
		    strstr(cmds[i], "--queue-bypass") != NULL;
	assert_int_equal(q, 1);
	assert_true(netq_rules_commands(&c, 0, cmds, NETQ_RULES_MAX) > 6);
	snprintf(c.mode, sizeof(c.mode), "bogus");
	assert_int_equal(netq_rules_commands(&c, 1, cmds, NETQ_RULES_MAX), -1);
	netq_conf_free(&c);
}

/* Monitor mode: passive options only, fail-open, queue 1, its own FORWARD chain. */
static void
test_monitor(void **state)
{
	char cmds[NETQ_RULES_MAX][NETQ_RULES_CMDLEN], src[64], *cause = NULL;
	struct netq_conf c;
	int n, i, q = 0;

	(void)state;
	netq_conf_init(&c);
	assert_string_equal(c.vantage, "gateway");
	assert_string_equal(netq_conf_src(&c, src, sizeof(src)), "net");
	assert_int_equal(netq_conf_monitor(&c, 0, &cause), -1);	/* no --vantage */
	free(cause);
	cause = NULL;
	assert_int_equal(netq_conf_set_vantage(&c, "Ri 1", NULL), -1);
	assert_int_equal(netq_conf_set_vantage(&c, "ri1", NULL), 0);
	assert_int_equal(netq_conf_add_cidr(&c, 'd', "10.2.0.0/16", NULL), 0);
	assert_int_equal(netq_conf_monitor(&c, 0, &cause), -1);	/* diversion asked */
	assert_non_null(strstr(cause, "--divert-dst"));
	free(cause);
	cause = NULL;
	c.n_dst = 0;
	assert_int_equal(netq_impair_add(&c.impair, "reset sni=x", "t", NULL), 0);
	assert_int_equal(netq_conf_monitor(&c, 0, NULL), -1);		/* impairment asked */
	c.impair.n = 0;
	assert_int_equal(netq_conf_monitor(&c, 0, NULL), 0);
	assert_true(c.monitor && c.fail_open);
	assert_int_equal(c.queue_num, NETQ_CONF_MON_QUEUE);
	assert_string_equal(netq_conf_src(&c, src, sizeof(src)), "net.ri1");
	n = netq_rules_commands(&c, 1, cmds, NETQ_RULES_MAX);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_null(strstr(cmds[i], "PREROUTING"));
		assert_null(strstr(cmds[i], "MITMLAB_NETQ "));	/* never the gateway's chain */
		q += strstr(cmds[i], "-t mangle -A MITMLAB_NETQ_MON") != NULL &&
		    strstr(cmds[i], "--queue-num 1 --queue-bypass") != NULL;
	}
	assert_int_equal(q, 1);
	assert_non_null(strstr(cmds[n - 1], "-A FORWARD -p tcp -j MITMLAB_NETQ_MON"));
	n = netq_rules_commands(&c, 0, cmds, NETQ_RULES_MAX);
	assert_int_equal(n, 3);
	assert_non_null(strstr(cmds[0], "-D FORWARD"));
	c.queue_num = 0;
	c.monitor = 0;
	assert_int_equal(netq_conf_monitor(&c, 1, NULL), 0);		/* --queue given: kept */
	assert_int_equal(c.queue_num, 0);
	netq_conf_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_roll),
		cmocka_unit_test(test_rst),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_divert),
		cmocka_unit_test(test_rule_set),
		cmocka_unit_test(test_monitor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
