/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vantage — the topic filter that keeps ground truth away from detectors: a table of
 * (vantage set, topic, allowed), name parsing and formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "vantage.h"

static void
test_allows_table(void **state)
{
	static const struct { unsigned set; const char *topic; int ok; } t[] = {
		{ VANTAGE_CLIENT, "client.result", 1 },
		{ VANTAGE_CLIENT, "lab.run.start", 1 },
		{ VANTAGE_CLIENT, "lab.run.end", 1 },
		{ VANTAGE_CLIENT, "lab.truth.scenario", 0 },
		{ VANTAGE_CLIENT, "proxy.conn.open", 0 },
		{ VANTAGE_CLIENT, "origin.hello", 0 },
		{ VANTAGE_CLIENT, "clientx.result", 0 },
		{ VANTAGE_CLIENT, "client", 0 },
		{ VANTAGE_CLIENT, "client.", 0 },
		{ VANTAGE_CLIENT, "analysis.verdict", 0 },
		{ VANTAGE_CLIENT, "probe.ttl", 1 },
		{ VANTAGE_NET, "probe.ttl", 0 },
		{ VANTAGE_CLIENT, "bus.stats", 0 },
		{ VANTAGE_ORIGIN, "origin.hello", 1 },
		{ VANTAGE_NET, "net.pkt", 1 },
		{ VANTAGE_NET, "lab.truth.topology", 0 },
		{ VANTAGE_PROXY, "proxy.forge", 1 },
		{ VANTAGE_PROXY, "lab.truth.topology", 1 },
		{ VANTAGE_PROXY, "client.result", 0 },
		{ VANTAGE_CLIENT | VANTAGE_ORIGIN | VANTAGE_NET, "proxy.stats", 0 },
		{ VANTAGE_CLIENT | VANTAGE_ORIGIN | VANTAGE_NET, "lab.truth.scenario", 0 },
		{ VANTAGE_ALL, "proxy.stats", 1 },
		{ 0, "lab.run.end", 1 },
		{ 0, "client.result", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int got = vantage_allows(t[i].set, t[i].topic, strlen(t[i].topic));
		if (got != t[i].ok)
			fail_msg("set %#x topic %s: got %d want %d", t[i].set, t[i].topic, got, t[i].ok);
	}
}

static void
test_prefixes(void **state)
{
	const char *p[VANTAGE_MAX_PREFIXES];
	int n;

	(void)state;
	n = vantage_prefixes(VANTAGE_CLIENT, p, VANTAGE_MAX_PREFIXES);
	assert_int_equal(n, 3);
	assert_string_equal(p[0], "lab.run.");
	assert_string_equal(p[1], "client.");
	assert_string_equal(p[2], "probe.");
	n = vantage_prefixes(VANTAGE_ALL, p, VANTAGE_MAX_PREFIXES);
	assert_int_equal(n, 7);
	assert_int_equal(vantage_prefixes(VANTAGE_ALL, p, 2), 2);
}

static void
test_parse_format(void **state)
{
	unsigned set;
	char buf[64], *cause = NULL;

	(void)state;
	assert_int_equal(vantage_parse_list("client,origin", &set, NULL), 0);
	assert_int_equal(set, VANTAGE_CLIENT | VANTAGE_ORIGIN);
	assert_string_equal(vantage_format(set, buf, sizeof(buf)), "client,origin");
	assert_int_equal(vantage_parse_list("client,truth", &set, &cause), -1);
	assert_non_null(strstr(cause, "truth"));
	free(cause);
	assert_int_equal(vantage_parse_list("", &set, NULL), -1);
	assert_int_equal(vantage_parse_list("client,", &set, NULL), -1);
	assert_int_equal(vantage_bit("proxy"), VANTAGE_PROXY);
	assert_int_equal(vantage_bit("Proxy"), 0);
	assert_null(vantage_name(VANTAGE_CLIENT | VANTAGE_NET));
	assert_string_equal(vantage_format(0, buf, sizeof(buf)), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allows_table),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_parse_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
