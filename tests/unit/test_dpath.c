/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dpath — detect-path's comparison (analyzers/detect-path/dpath.c, built into this test)
 * with a passive monitor's net.flow (vantage "ri1") beside the gateway's: the monitor's view
 * wins for a flow, baselines are per vantage, fewer server hops with a changed first flight is
 * an interception, fewer hops with the baseline's first flight is a relaying (spliced) flow,
 * and the summary localises the terminator at client_hops + 1 + server_hops; events with absurd
 * numbers are ignored and counted, and the baseline's destinations are counted once each. The
 * baseline comparison without vantages stays covered by test_probe.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../analyzers/detect-path/dpath.c"

/* Feed a list of JSON texts to fn. */
static void
feed(struct dpath *d, const char *const *evs, size_t n, int baseline)
{
	json_t *ev;
	size_t i;

	for (i = 0; i < n; i++) {
		ev = json_loads(evs[i], 0, NULL);
		assert_non_null(ev);
		if (baseline)
			dpath_baseline(d, ev);
		else
			dpath_observe(d, ev);
		json_decref(ev);
	}
}

static void
test_flight_cmp(void **state)
{
	double c;
	const char *s;

	(void)state;
	assert_int_equal(dpath_flight_cmp(1778, 2911, &c, &s), 1);
	assert_string_equal(s, "server-flight-changed");
	assert_int_equal(dpath_flight_cmp(1778, 1779, &c, &s), 0);	/* ticket jitter */
	assert_int_equal(dpath_flight_cmp(1476, 1467, &c, &s), 0);
	assert_int_equal(dpath_flight_cmp(1000, 1060, &c, &s), 0);	/* < 64 bytes */
	assert_int_equal(dpath_flight_cmp(4000, 4100, &c, &s), 0);	/* < 5 % */
	assert_int_equal(dpath_flight_cmp(1000, 900, &c, &s), 1);	/* smaller counts too */
	assert_int_equal(dpath_flight_cmp(0, 900, &c, &s), -1);
	assert_int_equal(dpath_flight_cmp(1000, 0, &c, &s), -1);
}

static void
test_monitor_judge(void **state)
{
	static const char *const base[] = {
		/* the gateway cannot see the server of a routed flow any differently: 3 hops */
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:1>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"gateway\",\"server_hops\":3,\"server_flight_bytes\":1778}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:1>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"client_hops\":1,\"server_hops\":4,\"server_flight_bytes\":1778}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:2>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"client_hops\":1,\"server_hops\":4,\"server_flight_bytes\":1777}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:3>10.2.2.2:443\",\"name\":\"w.org\",\"vantage\":\"ri1\",\"client_hops\":1,\"server_hops\":4,\"server_flight_bytes\":1476}",
	};
	static const char *const run[] = {
		/* intercepted: the gateway saw no server packet, the monitor saw the engine's */
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"sni\":\"a.kz\",\"ts\":5,\"t_handshake_us\":900}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"gateway\",\"ts\":6,\"client_hops\":1}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"ts\":7,\"client_hops\":1,\"server_hops\":0,\"server_flight_bytes\":2911}",
		/* spliced: terminated at the gateway too, but the origin's flight relayed */
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:8>10.2.2.2:443\",\"sni\":\"w.org\",\"ts\":8,\"t_handshake_us\":900}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:8>10.2.2.2:443\",\"name\":\"w.org\",\"vantage\":\"ri1\",\"ts\":8,\"client_hops\":1,\"server_hops\":0,\"server_flight_bytes\":1467}",
		/* a later gateway view does not replace the monitor's */
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:8>10.2.2.2:443\",\"name\":\"w.org\",\"vantage\":\"gateway\",\"ts\":9,\"client_hops\":1,\"server_hops\":3}",
		/* routed untouched: the monitor's hops as in the baseline */
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:7>10.2.1.2:443\",\"sni\":\"a.kz\",\"ts\":10,\"t_handshake_us\":900}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:7>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"ts\":10,\"client_hops\":1,\"server_hops\":4,\"server_flight_bytes\":1779}",
		/* intercepted, client gave up before any server data: hops alone */
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:6>10.2.1.2:443\",\"sni\":\"a.kz\",\"ts\":11}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:6>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"ts\":11,\"client_hops\":1,\"server_hops\":0}",
		/* a monitor with no baseline of its own (another router): no hop verdict */
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:5>10.2.1.2:443\",\"sni\":\"a.kz\",\"ts\":12}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:5>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri2\",\"ts\":12,\"client_hops\":0,\"server_hops\":1}",
	};
	static const struct { const char *flow; int yes; const char *sig; } want[] = {
		{ "10.1.1.2:9>10.2.1.2:443", 1, "server-nearer-flight-changed" },
		{ "10.1.1.2:8>10.2.2.2:443", 0, "server-nearer-relayed" },
		{ "10.1.1.2:7>10.2.1.2:443", 0, "server-hops-same" },
		{ "10.1.1.2:6>10.2.1.2:443", 1, "server-hops-shortened" },
	};
	struct dpath *d = dpath_new();
	json_t *v, *e, *t;
	size_t i;

	(void)state;
	feed(d, base, sizeof(base) / sizeof(base[0]), 1);
	feed(d, run, sizeof(run) / sizeof(run[0]), 0);
	v = dpath_judge(d);
	assert_int_equal(json_array_size(v), 4);	/* :5 has nothing to compare with */
	for (i = 0; i < 4; i++) {
		e = json_array_get(v, i);
		assert_string_equal(json_string_value(json_object_get(e, "flow")), want[i].flow);
		assert_int_equal(json_is_true(json_object_get(e, "intercepted")), want[i].yes);
		assert_string_equal(json_string_value(json_object_get(e, "signal")), want[i].sig);
		assert_string_equal(json_string_value(json_object_get(json_object_get(e,
		    "evidence"), "vantage")), "ri1");
	}
	e = json_object_get(json_array_get(v, 0), "evidence");
	assert_int_equal(json_integer_value(json_object_get(e, "baseline_server_hops")), 4);
	assert_int_equal(json_integer_value(json_object_get(e, "terminator_hop")), 2);
	assert_true(json_number_value(json_object_get(e, "baseline_server_flight_median")) == 1777.5);
	json_decref(v);
	v = dpath_summary(d);
	t = json_object_get(v, "terminator");
	assert_string_equal(json_string_value(json_object_get(t, "vantage")), "ri1");
	assert_int_equal(json_integer_value(json_object_get(t, "hop")), 2);
	assert_int_equal(json_integer_value(json_object_get(t, "flows")), 2);
	assert_int_equal(json_integer_value(json_object_get(v, "relayed")), 1);
	assert_int_equal(json_integer_value(json_object_get(v, "by_flight")), 1);
	json_decref(v);
	dpath_free(d);
}

/* A reused flow id is judged by its latest flow (as truth and the scoring take it): first
 * routed untouched, then terminated nearer; one verdict, in first-seen order, intercepted. The
 * gateway's later view still does not replace the monitor's. */
static void
test_reuse(void **state)
{
	static const char *const base[] = {
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:1>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"client_hops\":1,\"server_hops\":4,\"server_flight_bytes\":1778}",
	};
	static const char *const run[] = {
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"sni\":\"a.kz\",\"ts\":5,\"t_handshake_us\":900}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"ts\":6,\"client_hops\":1,\"server_hops\":4,\"server_flight_bytes\":1778}",
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"sni\":\"a.kz\",\"ts\":7}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"ts\":8,\"client_hops\":1,\"server_hops\":0}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"gateway\",\"ts\":9,\"client_hops\":1,\"server_hops\":4}",
	};
	struct dpath *d = dpath_new();
	json_t *v, *e;

	(void)state;
	feed(d, base, sizeof(base) / sizeof(base[0]), 1);
	feed(d, run, sizeof(run) / sizeof(run[0]), 0);
	v = dpath_judge(d);
	assert_int_equal(json_array_size(v), 1);
	e = json_array_get(v, 0);
	assert_true(json_is_true(json_object_get(e, "intercepted")));
	assert_string_equal(json_string_value(json_object_get(e, "signal")), "server-hops-shortened");
	json_decref(v);
	dpath_free(d);
}

/* Absurd numbers (a hop count of 2^63-1, handshakes of 1.7e308 whose mean is inf) ignore the
 * event and are counted; the sane events around them are judged as usual. */
static void
test_extreme(void **state)
{
	static const char *const base[] = {
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:1>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"client_hops\":1,\"server_hops\":4,\"server_flight_bytes\":1778}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:2>10.2.2.2:443\",\"name\":\"b.kz\",\"vantage\":\"ri1\",\"client_hops\":1,\"server_hops\":9223372036854775807}",
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:3>10.2.1.2:443\",\"sni\":\"a.kz\",\"t_handshake_us\":1.7e308}",
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:4>10.2.1.2:443\",\"sni\":\"a.kz\",\"t_handshake_us\":1.7e308}",
	};
	static const char *const run[] = {
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"sni\":\"a.kz\",\"ts\":5,\"t_handshake_us\":900}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"ts\":6,\"client_hops\":9223372036854775807,\"server_hops\":0,\"server_flight_bytes\":2911}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"ts\":7,\"client_hops\":1,\"server_hops\":0,\"server_flight_bytes\":-2911}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"ts\":8,\"client_hops\":1,\"server_hops\":0,\"server_flight_bytes\":2911}",
	};
	struct dpath *d = dpath_new();
	json_t *v, *e;

	(void)state;
	feed(d, base, sizeof(base) / sizeof(base[0]), 1);
	feed(d, run, sizeof(run) / sizeof(run[0]), 0);
	assert_int_equal(dpath_baseline_events(d), 1);
	v = dpath_judge(d);
	assert_int_equal(json_array_size(v), 1);
	e = json_array_get(v, 0);
	assert_true(json_is_true(json_object_get(e, "intercepted")));
	assert_string_equal(json_string_value(json_object_get(e, "signal")),
	    "server-nearer-flight-changed");
	e = json_object_get(e, "evidence");
	assert_int_equal(json_integer_value(json_object_get(e, "terminator_hop")), 2);
	assert_true(json_number_value(json_object_get(e, "baseline_handshake_median_us")) == 0);
	json_decref(v);
	v = dpath_summary(d);
	assert_int_equal(json_integer_value(json_object_get(v, "ignored_events")), 5);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "terminator"),
	    "hop")), 2);
	json_decref(v);
	dpath_free(d);
}

/* The baseline's destinations are counted once each, whatever the vantages and lookup keys: a
 * name (SNI or Host), or an address never seen with a name. */
static void
test_destinations(void **state)
{
	static const char *const base[] = {
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:1>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"ri1\",\"server_hops\":4}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:1>10.2.1.2:443\",\"name\":\"a.kz\",\"vantage\":\"gateway\",\"server_hops\":3}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:2>10.2.1.2:443\",\"name\":\"b.kz\",\"vantage\":\"ri1\",\"server_hops\":4}",
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:3>10.2.2.2:443\",\"sni\":\"c.kz\",\"t_handshake_us\":900}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:4>10.2.3.2:443\",\"vantage\":\"ri1\",\"server_hops\":4}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:5>10.2.1.2:443\",\"vantage\":\"ri1\",\"server_hops\":4}",
	};
	struct dpath *d = dpath_new();
	json_t *v;

	(void)state;
	feed(d, base, sizeof(base) / sizeof(base[0]), 1);
	v = dpath_summary(d);
	assert_int_equal(json_integer_value(json_object_get(v, "baseline_names")), 3);
	assert_int_equal(json_integer_value(json_object_get(v, "baseline_addresses")), 3);
	assert_int_equal(json_integer_value(json_object_get(v, "baseline_destinations")), 4);
	json_decref(v);
	dpath_free(d);
}

/* No monitor: no terminator in the summary. */
static void
test_no_monitor(void **state)
{
	struct dpath *d = dpath_new();
	json_t *v;

	(void)state;
	v = dpath_judge(d);
	json_decref(v);
	v = dpath_summary(d);
	assert_true(json_is_null(json_object_get(v, "terminator")));
	json_decref(v);
	dpath_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flight_cmp),
		cmocka_unit_test(test_monitor_judge),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_extreme),
		cmocka_unit_test(test_destinations),
		cmocka_unit_test(test_no_monitor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
