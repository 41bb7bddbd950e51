/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_probe — the pure decisions of localisation: probe.c (observations -> injection hop,
 * server hop, early stop) and the detect-path analyzer's baseline comparison (dpath.c, included
 * directly: analyzers are not part of libmitmlab).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "probe.h"
#include "../../analyzers/detect-path/dpath.c"

/* A TLS attempt: cert 'r' real leaf, 'i' injected leaf, '-' none; verified from roots when
 * roots != 0, else -1. */
static void
tls(struct probe_tls *t, char c, int roots)
{
	memset(t, 0, sizeof(*t));
	t->tcp = 1;
	t->verified = -1;
	if (c == '-')
		return;
	t->cert = 1;
	snprintf(t->leaf_sha256, sizeof(t->leaf_sha256), "%s", c == 'r' ? "aa" : "bb");
	snprintf(t->issuer, sizeof(t->issuer), "%s", c == 'r' ? "/CN=Web CA" : "/CN=Security Certificate");
	if (roots)
		t->verified = c == 'r';
}

/* Build observations from strings: one char per TTL for target, control, echo ('1','0','-'). */
static size_t
mk(struct probe_obs *o, const char *tg, const char *ct, const char *echo, int roots)
{
	size_t i, n = strlen(tg);

	for (i = 0; i < n; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		o[i].ttl = (int)i + 1;
		tls(&o[i].target, tg[i], roots);
		tls(&o[i].control, ct[i], roots);
		o[i].echo = echo[i] == '1' ? 1 : echo[i] == '0' ? 0 : -1;
	}
	return n;
}

static void
test_decide_table(void **state)
{
	static const struct {
		const char *tg, *ct, *echo;
		int roots, inj, server, before, terminated, ctl_inj;
		const char *src;
	} t[] = {
		/* KZ 2019 shape: on-path injector at 3, no TCP termination, server at 6 */
		{ "--iiii", "-----r", "000001", 1, 3, 6, 3, 0, 0, "icmp-echo" },
		{ "--iiii", "-----r", "------", 1, 3, 6, 3, 0, 0, "control-tls" },
		/* transparent proxy at 3 answers the control too; the echo finds the server */
		{ "--iiii", "--rrrr", "000001", 1, 3, 6, 3, 3, 0, "icmp-echo" },
		/* same without roots: classified against the control's certificate */
		{ "--iiii", "--rrrr", "000001", 0, 3, 6, 3, 3, 0, "icmp-echo" },
		/* no interception */
		{ "-----r", "-----r", "000001", 1, 0, 6, 0, 0, 0, "icmp-echo" },
		/* nothing answered */
		{ "------", "------", "000000", 1, 0, 0, 0, 0, 0, NULL },
		/* everything intercepted: the control is injected too */
		{ "--iiii", "--iiii", "000001", 1, 3, 6, 3, 0, 1, "icmp-echo" },
	};
	struct probe_obs o[PROBE_MAX_TTL];
	struct probe_result r;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = mk(o, t[i].tg, t[i].ct, t[i].echo, t[i].roots);
		probe_decide(o, n, &r);
		if (r.injection_hop != t[i].inj || r.server_hop != t[i].server ||
		    r.hops_before_server != t[i].before || r.untargeted_terminated_hop !=
		    t[i].terminated || r.control_injected != t[i].ctl_inj ||
		    (t[i].src == NULL) != (r.server_hop_source == NULL) ||
		    (t[i].src != NULL && strcmp(t[i].src, r.server_hop_source) != 0))
			fail_msg("case %zu: inj %d server %d before %d term %d ctl_inj %d src %s", i,
			    r.injection_hop, r.server_hop, r.hops_before_server,
			    r.untargeted_terminated_hop, r.control_injected,
			    r.server_hop_source != NULL ? r.server_hop_source : "null");
	}
}

static void
test_classify(void **state)
{
	struct probe_tls a, ref;

	(void)state;
	tls(&ref, 'r', 0);
	tls(&a, '-', 0);
	assert_int_equal(probe_classify(&a, &ref), PROBE_NONE);
	tls(&a, 'i', 0);
	assert_int_equal(probe_classify(&a, &ref), PROBE_INJECTED);
	assert_int_equal(probe_classify(&a, NULL), PROBE_REAL);	/* nothing to compare with */
	snprintf(a.issuer, sizeof(a.issuer), "/CN=Web CA");	/* other leaf, same issuer */
	assert_int_equal(probe_classify(&a, &ref), PROBE_REAL);
	tls(&a, 'i', 1);	/* roots decide over the control */
	assert_int_equal(probe_classify(&a, &a), PROBE_INJECTED);
	assert_string_equal(probe_class_name(PROBE_INJECTED), "injected");
}

static void
test_done_and_json(void **state)
{
	struct probe_obs o[PROBE_MAX_TTL];
	struct probe_result r;
	size_t n;
	json_t *j;

	(void)state;
	n = mk(o, "--ii", "--rr", "0000", 1);
	assert_false(probe_done(o, 2));
	assert_false(probe_done(o, n));		/* certificates but the echo has not arrived */
	n = mk(o, "--iii", "--rrr", "00001", 1);
	assert_true(probe_done(o, n));
	n = mk(o, "--i", "--r", "---", 1);
	assert_true(probe_done(o, n));		/* no echoes: the certificates are enough */
	assert_false(probe_done(o, 0));
	n = mk(o, "--iii", "--rrr", "00001", 1);
	probe_decide(o, n, &r);
	j = probe_json(o, n, &r);
	assert_int_equal(json_integer_value(json_object_get(j, "injection_hop")), 3);
	assert_int_equal(json_integer_value(json_object_get(j, "hops_before_server")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "observations")), 5);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(
	    json_object_get(j, "observations"), 2), "target"), "cert")), "injected");
	assert_true(json_is_true(json_object_get(j, "intercepted")));
	json_decref(j);
	n = mk(o, "---", "---", "000", 1);
	probe_decide(o, n, &r);
	j = probe_json(o, n, &r);
	assert_true(json_is_null(json_object_get(j, "injection_hop")));
	assert_true(json_is_null(json_object_get(j, "hops_before_server")));
	json_decref(j);
}

static void
test_dpath_cmp(void **state)
{
	double c;
	const char *s;
	json_t *a = json_pack("[f,f,f,f]", 4.0, 1.0, 3.0, 2.0);

	(void)state;
	assert_int_equal(dpath_hops_cmp(4, 0, &c, &s), 1);
	assert_string_equal(s, "server-hops-shortened");
	assert_int_equal(dpath_hops_cmp(4, 4, &c, &s), 0);
	assert_int_equal(dpath_hops_cmp(4, 5, &c, &s), 0);
	assert_string_equal(s, "server-hops-longer");
	assert_int_equal(dpath_hops_cmp(-1, 3, &c, &s), -1);
	assert_int_equal(dpath_rtt_cmp(1000, 5000, &c, &s), 1);
	assert_int_equal(dpath_rtt_cmp(1000, 1400, &c, &s), 0);	/* not twice */
	assert_int_equal(dpath_rtt_cmp(100, 400, &c, &s), 0);		/* 4x but only 300 us */
	assert_int_equal(dpath_rtt_cmp(0, 400, &c, &s), -1);
	assert_true(dpath_median(a) > 2.49 && dpath_median(a) < 2.51);
	assert_true(dpath_median(NULL) == 0);
	json_decref(a);
}

/* Baseline events, run events, verdicts: keyed by name, falling back to the destination. */
static void
test_dpath_judge(void **state)
{
	struct dpath *d = dpath_new();
	json_t *ev, *v;
	size_t i;
	static const char *base[] = {
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:1>10.2.1.2:443\",\"name\":\"a.kz\",\"server_hops\":3}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:2>10.2.2.2:443\",\"server_hops\":3}",
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:3>10.2.3.2:443\",\"sni\":\"c.kz\",\"t_handshake_us\":1000}",
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:3>10.2.3.2:443\",\"sni\":\"c.kz\",\"t_handshake_us\":1200}",
		"{\"t\":\"origin.hello\",\"flow\":\"x\"}",
	};
	static const char *run[] = {
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"sni\":\"a.kz\",\"ts\":5,\"t_handshake_us\":900}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:9>10.2.1.2:443\",\"name\":\"a.kz\",\"ts\":7,\"server_hops\":0}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:8>10.2.2.2:443\",\"ts\":8,\"server_hops\":3}",
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:8>10.2.2.2:443\",\"ts\":8,\"t_handshake_us\":900}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:5>10.2.2.2:443\",\"ts\":11,\"client_hops\":2}",
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:5>10.2.2.2:443\",\"ts\":11,\"t_handshake_us\":900}",
		"{\"t\":\"net.flow\",\"flow\":\"10.1.1.2:4>10.2.2.2:443\",\"ts\":12,\"server_hops\":3}",
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:7>10.2.3.2:443\",\"sni\":\"c.kz\",\"ts\":9,\"t_handshake_us\":9000}",
		"{\"t\":\"client.result\",\"flow\":\"10.1.1.2:6>10.9.9.9:443\",\"sni\":\"new.kz\",\"ts\":10,\"t_handshake_us\":9000}",
		"{\"t\":\"probe.ttl\",\"host\":\"a.kz\",\"injection_hop\":3,\"server_hop\":6,\"hops_before_server\":3}",
	};
	static const struct { const char *flow; int yes; const char *sig; } want[] = {
		{ "10.1.1.2:9>10.2.1.2:443", 1, "server-hops-shortened" },
		{ "10.1.1.2:8>10.2.2.2:443", 0, "server-hops-same" },
		{ "10.1.1.2:5>10.2.2.2:443", 0, "server-unseen" },
		{ "10.1.1.2:7>10.2.3.2:443", 1, "handshake-inflated" },
	};

	(void)state;
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		ev = json_loads(base[i], 0, NULL);
		dpath_baseline(d, ev);
		json_decref(ev);
	}
	assert_int_equal(dpath_baseline_events(d), 4);
	for (i = 0; i < sizeof(run) / sizeof(run[0]); i++) {
		ev = json_loads(run[i], 0, NULL);
		dpath_observe(d, ev);
		json_decref(ev);
	}
	v = dpath_judge(d);
	/* new.kz: no baseline; :4 no client.result: no verdicts */
	assert_int_equal(json_array_size(v), 4);
	for (i = 0; i < 4; i++) {
		json_t *e = json_array_get(v, i);
		assert_string_equal(json_string_value(json_object_get(e, "flow")), want[i].flow);
		assert_int_equal(json_is_true(json_object_get(e, "intercepted")), want[i].yes);
		assert_string_equal(json_string_value(json_object_get(e, "signal")), want[i].sig);
	}
	assert_int_equal(json_integer_value(json_object_get(json_array_get(v, 0), "at")), 7);
	assert_true(json_is_true(json_object_get(json_object_get(json_array_get(v, 2), "evidence"),
	    "server_unseen")));
	json_decref(v);
	v = dpath_summary(d);
	assert_int_equal(json_array_size(json_object_get(v, "localised")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(v,
	    "localised"), 0), "injection_hop")), 3);
	json_decref(v);
	dpath_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_table),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_done_and_json),
		cmocka_unit_test(test_dpath_cmp),
		cmocka_unit_test(test_dpath_judge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
