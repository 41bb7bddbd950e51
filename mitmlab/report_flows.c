/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_flows — report sections computed from a run's events, grouped by topic. Flows are
 * joined across vantages by their "flow" id (client.result and proxy.conn.open carry the same
 * one) and, for the upstream connections the engine opens, by the upstream address it
 * reports (what the origin sees as its client): the interceptor's own hello on intercepted
 * flows, the client's relayed hello on spliced ones. Ground truth (lab.truth.scenario)
 * names the targets and the clients. Reading files and rendering belong to report.c and the
 * renderers; this file only counts.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_result.h"
#include "report_cert.h"
#include "report_flows.h"

#define REPORT_FLOWS_SAMPLES_MAX	20000	/* timing samples per path given to the charts */

/* The events of topic t (an array; an empty static one when absent). */
static const json_t *
report_flows_topic(const json_t *by, const char *t)
{
	static json_t *empty;
	const json_t *a = json_object_get(by, t);

	if (a != NULL)
		return a;
	if (empty == NULL)
		empty = json_array();
	return empty;
}

/* The ground truth event, or NULL. */
static const json_t *
report_flows_truth(const json_t *by)
{
	return json_array_get(report_flows_topic(by, "lab.truth.scenario"), 0);
}

/* String member or NULL. */
static const char *
report_flows_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Add n to counter obj[key]. */
static void
report_flows_count(json_t *obj, const char *key, json_int_t n)
{
	json_int_t v = json_integer_value(json_object_get(obj, key));

	json_object_set_new(obj, key, json_integer(v + n));
}

/* Append s to array a unless present. */
static void
report_flows_add_unique(json_t *a, const char *s)
{
	const json_t *v;
	size_t i;

	if (s == NULL)
		return;
	json_array_foreach(a, i, v) {
		if (strcmp(json_string_value(v), s) == 0)
			return;
	}
	json_array_append_new(a, json_string(s));
}

/* Pattern match as the engine's policy does: exact name or "*.suffix" (strict subdomain). */
int
report_flows_match(const char *pattern, const char *sni)
{
	size_t pl, sl;

	if (pattern == NULL || sni == NULL)
		return 0;
	if (strncmp(pattern, "*.", 2) == 0) {
		pl = strlen(pattern + 1);
		sl = strlen(sni);
		return sl > pl && strcasecmp(sni + sl - pl, pattern + 1) == 0;
	}
	return strcasecmp(pattern, sni) == 0;
}

/* Is sni one of the truth's targets? */
static int
report_flows_targeted(const json_t *truth, const char *sni)
{
	const json_t *t;
	size_t i;

	json_array_foreach(json_object_get(truth, "targets"), i, t) {
		if (report_flows_match(json_string_value(t), sni))
			return 1;
	}
	return 0;
}

/* Client name for an address (from the truth's clients), or NULL. */
static const char *
report_flows_client_by_ip(const json_t *truth, const char *ip)
{
	const json_t *c;
	size_t i;

	if (ip == NULL)
		return NULL;
	json_array_foreach(json_object_get(truth, "clients"), i, c) {
		const char *a = report_flows_str(c, "addr");

		if (a != NULL && strcmp(a, ip) == 0)
			return report_flows_str(c, "name");
	}
	return NULL;
}

/* "client.user-root" -> "user-root". */
static const char *
report_flows_client_name(const char *src)
{
	if (src == NULL)
		return "?";
	return strncmp(src, "client.", 7) == 0 ? src + 7 : src;
}

/* flow id -> its last proxy.conn.open (report_flows.h). */
json_t *
report_flows_opens(const json_t *by)
{
	json_t *m = json_object();
	const json_t *e;
	size_t i;

	json_array_foreach(report_flows_topic(by, "proxy.conn.open"), i, e) {
		const char *f = report_flows_str(e, "flow");

		if (f != NULL)
			json_object_set(m, f, (json_t *)(uintptr_t)e);
	}
	return m;
}

/* Object of counters -> array of {key: k, "count": n} sorted by count, descending. */
static int
report_flows_cmp_count(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "count"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "count"));

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Sort an array of objects with "count" by count, descending (in place). */
static void
report_flows_sort_count(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	json_t **v;

	if (n < 2 || (v = calloc(n, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), report_flows_cmp_count);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

/* Targets, rules, observed names and trigger reasons. */
json_t *
report_flows_hosts(const json_t *by)
{
	const json_t *truth = report_flows_truth(by), *e, *o, *h;
	json_t *out = json_object(), *names = json_object(), *obs = json_array();
	json_t *trig = json_object(), *trig_arr = json_array(), *untargeted = json_array();
	const char *key, *sni;
	json_t *v;
	size_t i, j;
	json_int_t iflows = 0, inames = 0;
	int engine = json_array_size(report_flows_topic(by, "proxy.conn.open")) > 0;

	json_object_set_new(out, "intercept_enabled", json_boolean(json_is_true(
	    json_object_get(truth, "intercept"))));
	json_object_set_new(out, "engine_events", json_boolean(engine));
	json_object_set_new(out, "forging", json_incref(json_object_get(truth, "forging")) ?: json_null());
	json_object_set_new(out, "default_action", json_incref(json_object_get(truth, "default")) ?: json_null());
	json_object_set_new(out, "upstream_hello", json_incref(json_object_get(truth, "upstream_hello")) ?: json_null());
	json_object_set_new(out, "require_valid_upstream",
	    json_incref(json_object_get(truth, "require_valid_upstream")) ?: json_null());
	json_object_set_new(out, "targets", json_incref(json_object_get(truth, "targets")) ?: json_array());
	json_object_set_new(out, "rules", json_incref(json_object_get(truth, "rules")) ?: json_array());

	/* Each name seen: from the engine when it ran, else from the clients (direct). */
	json_array_foreach(report_flows_topic(by, engine ? "proxy.conn.open" : "client.result"), i, e) {
		const char *act = engine ? report_flows_str(e, "action") : "direct";
		const json_t *dst = json_object_get(e, engine ? "dst" : "server");

		sni = report_flows_str(e, "sni");
		key = sni != NULL ? sni : "(no SNI)";
		if ((v = json_object_get(names, key)) == NULL) {
			v = json_pack("{s:s,s:b,s:{},s:[],s:[]}", "sni", key, "targeted",
			    report_flows_targeted(truth, sni), "actions", "why", "servers");
			json_object_set_new(names, key, v);
			json_array_append(obs, v);
		}
		report_flows_count(json_object_get(v, "actions"), act ? act : "?", 1);
		report_flows_add_unique(json_object_get(v, "why"), report_flows_str(e, "why"));
		report_flows_add_unique(json_object_get(v, "servers"), report_flows_str(dst, "ip"));
		if (engine) {
			/* trig[action][why]: counts per pair, whatever the strings hold */
			const char *why = report_flows_str(e, "why");
			json_t *byw = json_object_get(trig, act ? act : "?");

			if (byw == NULL) {
				byw = json_object();
				json_object_set_new(trig, act ? act : "?", byw);
			}
			report_flows_count(byw, why ? why : "", 1);
		}
	}
	json_array_foreach(obs, i, v) {
		if (json_object_get(json_object_get(v, "actions"), "intercept") != NULL)
			inames++;
	}
	/* flows, not events: a flow id the engine saw twice (a client port reused for the same
	 * destination) counts once, by its last decision, as the detection table and scoring do */
	if (engine) {
		json_t *opens = report_flows_opens(by);

		json_object_foreach(opens, key, v) {
			const char *act = report_flows_str(v, "action");

			if (act != NULL && strcmp(act, "intercept") == 0)
				iflows++;
		}
		json_decref(opens);
	}
	json_object_foreach(trig, key, v) {
		const char *why;
		json_t *n;

		json_object_foreach(v, why, n)
			json_array_append_new(trig_arr, json_pack("{s:s,s:s,s:I}", "action", key,
			    "why", why, "count", json_integer_value(n)));
	}
	report_flows_sort_count(trig_arr);
	json_array_foreach(json_object_get(truth, "origins"), i, o) {
		json_array_foreach(json_object_get(o, "hosts"), j, h) {
			if (!report_flows_targeted(truth, json_string_value(h)))
				report_flows_add_unique(untargeted, json_string_value(h));
		}
	}
	json_object_set_new(out, "observed", obs);
	json_object_set_new(out, "triggers", trig_arr);
	json_object_set_new(out, "untargeted_hosts", untargeted);
	json_object_set_new(out, "intercepted_flows", json_integer(iflows));
	json_object_set_new(out, "intercepted_names", json_integer(inames));
	json_object_set_new(out, "flows", json_integer((json_int_t)json_array_size(
	    report_flows_topic(by, engine ? "proxy.conn.open" : "client.result"))));
	json_decref(names);
	json_decref(trig);
	return out;
}

/* Count a fingerprint under who in groups (object keyed by who|ja3|ja4). */
static void
report_flows_fp(json_t *groups, const char *who, const json_t *e)
{
	const char *ja3 = report_flows_str(e, "ja3"), *ja4 = report_flows_str(e, "ja4");
	char key[512];
	json_t *g;

	if (ja3 == NULL && ja4 == NULL)
		return;
	snprintf(key, sizeof(key), "%s|%s|%s", who, ja3 ? ja3 : "", ja4 ? ja4 : "");
	if ((g = json_object_get(groups, key)) == NULL) {
		g = json_pack("{s:s,s:O,s:O,s:O,s:O,s:I}", "who", who,
		    "ja3", json_object_get(e, "ja3") ?: json_null(),
		    "ja3_str", json_object_get(e, "ja3_str") ?: json_null(),
		    "ja4", json_object_get(e, "ja4") ?: json_null(),
		    "hello_version", json_object_get(e, "hello_version") ?: json_null(),
		    "count", (json_int_t)0);
		json_object_set_new(groups, key, g);
	}
	report_flows_count(g, "count", 1);
}

/* Object of groups -> sorted array (new reference); consumes groups. */
static json_t *
report_flows_groups(json_t *groups)
{
	json_t *arr = json_array(), *g;
	const char *k;

	json_object_foreach(groups, k, g)
		json_array_append(arr, g);
	json_decref(groups);
	report_flows_sort_count(arr);
	return arr;
}

/* The proxy.conn.open whose upstream address is key and whose flow began last at or before ts
 * (an upstream port is reused over a run), from opens {key: [open, ...]}; NULL if none. A flow
 * begins at its accepted_ts: the open itself is published after the upstream hello and the
 * origin's certificate, so its ts comes after the hello it should claim. */
static const json_t *
report_flows_open_of(const json_t *opens, const char *key, double ts)
{
	const json_t *e, *best = NULL, *at;
	double bt = 0, t;
	size_t i;

	json_array_foreach(json_object_get(opens, key), i, e) {
		at = json_object_get(e, "accepted_ts");
		t = json_number_value(json_is_number(at) ? at : json_object_get(e, "ts"));
		if ((t <= ts || ts <= 0) && (best == NULL || t >= bt)) {
			best = e;
			bt = t;
		}
	}
	return best;
}

/* Names of the client groups of cs whose JA3 is one of the interceptor's (ia) into names. */
static void
report_flows_fp_matches(const json_t *ia, const json_t *cs, json_t *names)
{
	const json_t *g, *c;
	size_t i, j;

	json_array_foreach(ia, i, g) {
		json_array_foreach(cs, j, c) {
			if (json_is_string(json_object_get(g, "ja3")) &&
			    json_equal(json_object_get(g, "ja3"), json_object_get(c, "ja3")))
				report_flows_add_unique(names, report_flows_str(c, "who"));
		}
	}
}

/*
 * Interceptor's upstream hello vs the clients'. An origin.hello is the interceptor's only
 * when it came from the upstream address of an intercepted flow: in REDIRECT mode the engine
 * also opens the upstream connection of a spliced flow, and that hello is the client's own
 * bytes, so it counts as that client's (named after the conn.open's client). A hello from an
 * address the engine never reported is a client's that reached the origin directly.
 */
json_t *
report_flows_fingerprints(const json_t *by)
{
	const json_t *truth = report_flows_truth(by), *e;
	json_t *up = json_object(), *inter = json_object(), *atorigin = json_object();
	json_t *atproxy = json_object(), *out, *ia, *ca, *pa, *names = json_array(), *a;
	json_t *ja3s = json_array();
	char key[128];
	size_t i;

	json_array_foreach(report_flows_topic(by, "proxy.conn.open"), i, e) {
		const json_t *u = json_object_get(e, "upstream");

		if (u != NULL && report_flows_str(u, "ip") != NULL) {
			snprintf(key, sizeof(key), "%s:%lld", report_flows_str(u, "ip"),
			    (long long)json_integer_value(json_object_get(u, "port")));
			if ((a = json_object_get(up, key)) == NULL)
				json_object_set_new(up, key, a = json_array());
			json_array_append(a, (json_t *)(uintptr_t)e);
		}
		if (report_flows_str(e, "sni") != NULL || report_flows_str(e, "ja3") != NULL) {
			const char *who = report_flows_client_by_ip(truth,
			    report_flows_str(json_object_get(e, "client"), "ip"));

			report_flows_fp(atproxy, who ? who : report_flows_str(json_object_get(e,
			    "client"), "ip") ?: "?", e);
		}
	}
	json_array_foreach(report_flows_topic(by, "origin.hello"), i, e) {
		const json_t *cl = json_object_get(e, "client"), *open;
		const char *ip = report_flows_str(cl, "ip"), *act, *who;

		snprintf(key, sizeof(key), "%s:%lld", ip ? ip : "",
		    (long long)json_integer_value(json_object_get(cl, "port")));
		open = report_flows_open_of(up, key, json_number_value(json_object_get(e, "ts")));
		act = report_flows_str(open, "action");
		if (act != NULL && strcmp(act, "intercept") == 0) {
			report_flows_fp(inter, "interceptor", e);
			continue;
		}
		if (open != NULL)	/* a spliced flow: the client's hello, relayed */
			ip = report_flows_str(json_object_get(open, "client"), "ip");
		who = report_flows_client_by_ip(truth, ip);
		report_flows_fp(atorigin, who ? who : ip ? ip : "?", e);
	}
	ia = report_flows_groups(inter);
	ca = report_flows_groups(atorigin);
	pa = report_flows_groups(atproxy);
	report_flows_fp_matches(ia, pa, names);
	report_flows_fp_matches(ia, ca, names);
	out = json_pack("{s:o,s:o,s:o}", "interceptor", ia, "clients_at_origin", ca,
	    "clients_at_proxy", pa);
	/* unknown (null) when there is nothing on one side to compare */
	json_object_set_new(out, "interceptor_matches_a_client", json_array_size(ia) > 0 &&
	    json_array_size(ca) + json_array_size(pa) > 0 ? json_boolean(json_array_size(names) > 0) :
	    json_null());
	json_object_set_new(out, "interceptor_matching_clients", names);
	json_array_foreach(ca, i, e)
		report_flows_add_unique(ja3s, report_flows_str(e, "ja3"));
	json_array_foreach(pa, i, e)
		report_flows_add_unique(ja3s, report_flows_str(e, "ja3"));
	json_object_set_new(out, "client_ja3_distinct", json_integer((json_int_t)
	    json_array_size(ja3s)));
	json_decref(ja3s);
	json_decref(up);
	return out;
}

/* Original vs forged for up to max distinct hosts. */
json_t *
report_flows_forged(const json_t *by, int max)
{
	json_t *opens = report_flows_opens(by), *seen = json_object(), *samples = json_array();
	json_t *profiles = json_object(), *keys = json_object(), *forged = json_object(), *out;
	const json_t *e;
	size_t i;

	json_array_foreach(report_flows_topic(by, "proxy.forge"), i, e) {
		const json_t *open = json_object_get(opens, report_flows_str(e, "flow") ?: "");
		const char *sni = report_flows_str(open, "sni");
		const char *prof = report_flows_str(e, "profile");
		char kd[96], host[300];
		X509 *ox = NULL, *fx = NULL;
		json_t *of, *ff, *s, *empty;

		report_flows_count(profiles, prof ? prof : "?", 1);
		snprintf(kd, sizeof(kd), "%s %lld bits, e=%lld", report_flows_str(e,
		    "key_strategy") ?: "key", (long long)json_integer_value(json_object_get(e,
		    "key_bits")), (long long)json_integer_value(json_object_get(e, "key_exponent")));
		report_flows_count(keys, kd, 1);
		if (report_flows_str(e, "forged_sha256") != NULL)
			json_object_set_new(forged, report_flows_str(e, "forged_sha256"), json_true());
		else if (report_flows_str(e, "forged_pem") != NULL)
			json_object_set_new(forged, report_flows_str(e, "forged_pem"), json_true());
		snprintf(host, sizeof(host), "%s", sni ? sni : "(no SNI)");
		if ((int)json_array_size(samples) >= max || json_object_get(seen, host) != NULL)
			continue;
		ox = report_cert_from_pem(report_flows_str(e, "orig_pem"), NULL);
		fx = report_cert_from_pem(report_flows_str(e, "forged_pem"), NULL);
		if (fx == NULL) {
			X509_free(ox);
			continue;
		}
		json_object_set_new(seen, host, json_true());
		of = ox != NULL ? report_cert_facts(ox) : json_object();
		ff = report_cert_facts(fx);
		s = json_pack("{s:s,s:O,s:O,s:O,s:O,s:O}", "sni", host,
		    "flow", json_object_get(e, "flow") ?: json_null(),
		    "server", json_object_get(json_object_get(open, "dst"), "ip") ?: json_null(),
		    "profile", json_object_get(e, "profile") ?: json_null(),
		    "key_strategy", json_object_get(e, "key_strategy") ?: json_null(),
		    "cache_hit", json_object_get(e, "cache_hit") ?: json_null());
		empty = json_object_get(of, "fields") == NULL ? json_array() : NULL;
		json_object_set_new(s, "diff", report_cert_diff(json_object_get(of, "fields") ?:
		    empty, json_object_get(ff, "fields")));
		json_decref(empty);
		json_object_set_new(s, "orig", of);
		json_object_set_new(s, "forged", ff);
		json_array_append_new(samples, s);
		X509_free(ox);
		X509_free(fx);
	}
	out = json_pack("{s:I,s:I,s:o,s:o,s:o}",
	    "count", (json_int_t)json_array_size(report_flows_topic(by, "proxy.forge")),
	    "distinct", (json_int_t)json_object_size(forged),
	    "profiles", profiles, "keys", keys, "samples", samples);
	json_decref(opens);
	json_decref(seen);
	json_decref(forged);
	return out;
}

/* The site a client.result is about: its SNI, else the URL's host. */
static const char *
report_flows_site(const json_t *e, char *buf, size_t len)
{
	const char *s = report_flows_str(e, "sni"), *u = report_flows_str(e, "url"), *p;
	size_t n;

	if (s != NULL)
		return s;
	if (u == NULL)
		return "?";
	if ((p = strstr(u, "://")) != NULL)
		u = p + 3;
	n = strcspn(u, ":/?#");
	snprintf(buf, len, "%.*s", (int)n, u);
	return buf;
}

/* Clients x sites -> outcome counts. */
json_t *
report_flows_breakage(const json_t *by)
{
	const json_t *truth = report_flows_truth(by), *e, *c;
	json_t *clients = json_array(), *sites = json_array(), *cells = json_object();
	json_t *byc = json_object(), *present = json_object(), *outcomes = json_array();
	size_t i;
	int o;

	json_array_foreach(json_object_get(truth, "clients"), i, c)
		report_flows_add_unique(clients, report_flows_str(c, "name"));
	json_array_foreach(report_flows_topic(by, "client.result"), i, e) {
		const char *cl = report_flows_client_name(report_flows_str(e, "src"));
		const char *oc = report_flows_str(e, "outcome");
		char buf[256];
		const char *site = report_flows_site(e, buf, sizeof(buf));
		json_t *row, *cell;

		oc = oc ? oc : "?";
		report_flows_add_unique(clients, cl);
		report_flows_add_unique(sites, site);
		if ((row = json_object_get(cells, cl)) == NULL)
			json_object_set_new(cells, cl, row = json_object());
		if ((cell = json_object_get(row, site)) == NULL)
			json_object_set_new(row, site, cell = json_object());
		report_flows_count(cell, oc, 1);
		if (json_object_get(byc, cl) == NULL)
			json_object_set_new(byc, cl, json_object());
		report_flows_count(json_object_get(byc, cl), oc, 1);
		json_object_set_new(present, oc, json_true());
	}
	for (o = 0; o < CLIENT_NOUTCOMES; o++) {
		if (json_object_get(present, client_result_name((enum client_outcome)o)) != NULL) {
			json_array_append_new(outcomes, json_string(client_result_name(
			    (enum client_outcome)o)));
			json_object_del(present, client_result_name((enum client_outcome)o));
		}
	}
	{
		const char *k;
		json_t *v;

		json_object_foreach(present, k, v)
			json_array_append_new(outcomes, json_string(k));
	}
	json_decref(present);
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:I}", "outcomes", outcomes, "clients", clients,
	    "sites", sites, "cells", cells, "by_client", byc, "total",
	    (json_int_t)json_array_size(report_flows_topic(by, "client.result")));
}

/* Compare doubles for qsort. */
static int
report_flows_cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Nearest-rank percentile of sorted v[n]. */
static double
report_flows_pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p / 100.0 * (double)n);

	return v[k == 0 ? 0 : k - 1];
}

/* {n, min, p50, p90, p99, max, mean} of an array of numbers. */
json_t *
report_flows_stats(const json_t *values)
{
	size_t n = json_array_size(values), i, m = 0;
	const json_t *x;
	double *v, sum = 0;
	json_t *o;

	if (n == 0 || (v = calloc(n, sizeof(*v))) == NULL)
		return json_pack("{s:i}", "n", 0);
	json_array_foreach(values, i, x) {
		if (json_is_number(x))
			sum += (v[m++] = json_number_value(x));
	}
	if (m == 0) {
		free(v);
		return json_pack("{s:i}", "n", 0);
	}
	qsort(v, m, sizeof(*v), report_flows_cmp_d);
	o = json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f}", "n", (json_int_t)m, "min", v[0],
	    "p50", report_flows_pct(v, m, 50), "p90", report_flows_pct(v, m, 90),
	    "p99", report_flows_pct(v, m, 99), "max", v[m - 1], "mean", sum / (double)m);
	free(v);
	return o;
}

/* Append e's key (>= 0) to samples[group][key]; every sample is kept for the statistics. */
static void
report_flows_sample(json_t *samples, const char *group, const char *key, const json_t *e)
{
	const json_t *v = json_object_get(e, key);
	json_t *g, *a;

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return;
	if ((g = json_object_get(samples, group)) == NULL)
		json_object_set_new(samples, group, g = json_object());
	if ((a = json_object_get(g, key)) == NULL)
		json_object_set_new(g, key, a = json_array());
	json_array_append(a, (json_t *)(uintptr_t)v);
}

/* samples {group: {key: [..]}} with each array thinned to at most REPORT_FLOWS_SAMPLES_MAX
 * evenly spaced samples (for the charts; the statistics use them all). */
static json_t *
report_flows_thin(const json_t *samples)
{
	json_t *out = json_object(), *g, *a;
	const char *gk, *k;
	size_t n, i;

	json_object_foreach((json_t *)(uintptr_t)samples, gk, g) {
		json_t *go = json_object();

		json_object_foreach(g, k, a) {
			json_t *t = json_array();

			n = json_array_size(a);
			for (i = 0; n > 0 && i < (n < REPORT_FLOWS_SAMPLES_MAX ? n :
			    REPORT_FLOWS_SAMPLES_MAX); i++)
				json_array_append(t, json_array_get(a, n <= REPORT_FLOWS_SAMPLES_MAX ?
				    i : i * n / REPORT_FLOWS_SAMPLES_MAX));
			json_object_set_new(go, k, t);
		}
		json_object_set_new(out, gk, go);
	}
	return out;
}

/* samples {group: {key: [..]}} -> {group: {key: stats}}. */
static json_t *
report_flows_stats_of(const json_t *samples)
{
	json_t *out = json_object(), *g, *a;
	const char *gk, *k;

	json_object_foreach((json_t *)(uintptr_t)samples, gk, g) {
		json_t *so = json_object();

		json_object_foreach(g, k, a)
			json_object_set_new(so, k, report_flows_stats(a));
		json_object_set_new(out, gk, so);
	}
	return out;
}

/* p50 of samples[group][key], or NAN. */
static double
report_flows_p50(const json_t *stats, const char *group, const char *key)
{
	const json_t *s = json_object_get(json_object_get(stats, group), key);

	return json_integer_value(json_object_get(s, "n")) > 0 ?
	    json_number_value(json_object_get(s, "p50")) : NAN;
}

/* The proxy.stats series over workers, t relative to the run's start: counters summed,
 * process-wide figures (every worker publishes its process's CPU time and RSS) the largest. */
static json_t *
report_flows_series(const json_t *by)
{
	static const char *const keys[] = { "active", "accepted", "handshakes", "forges",
	    "bytes_c2s", "bytes_s2c", "cpu_s", "rss_kb" };
	static const char *const process_wide[] = { "cpu_s", "rss_kb" };
	const json_t *start = json_array_get(report_flows_topic(by, "lab.run.start"), 0), *e;
	json_t *latest = json_object(), *series = json_array(), *pt, *w;
	double t0 = start ? json_number_value(json_object_get(start, "ts")) : 0;
	const char *wk;
	size_t i, k;

	json_array_foreach(report_flows_topic(by, "proxy.stats"), i, e) {
		const char *src = report_flows_str(e, "src");
		const char *wn = report_flows_str(e, "worker");
		char id[256];

		if (report_flows_str(e, "component") != NULL)
			continue;	/* the packet plane's own stats (netq), not an engine worker */
		snprintf(id, sizeof(id), "%s/%s", src ? src : "", wn ? wn : "");
		json_object_set(latest, id, (json_t *)(uintptr_t)e);
		if (t0 == 0)
			t0 = json_number_value(json_object_get(e, "ts"));
		pt = json_pack("{s:f}", "t_s", (json_number_value(json_object_get(e, "ts")) - t0) / 1e9);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			int max = strcmp(keys[k], process_wide[0]) == 0 ||
			    strcmp(keys[k], process_wide[1]) == 0;
			double sum = 0, x;

			json_object_foreach(latest, wk, w) {
				x = json_number_value(json_object_get(w, keys[k]));
				sum = max ? (x > sum ? x : sum) : sum + x;
			}
			json_object_set_new(pt, keys[k], json_real(sum));
		}
		json_object_set_new(pt, "workers", json_integer((json_int_t)json_object_size(latest)));
		json_array_append_new(series, pt);
	}
	json_decref(latest);
	return series;
}

/* Timing distributions by client and by path, added latency, proxy series. */
json_t *
report_flows_performance(const json_t *by)
{
	json_t *opens = report_flows_opens(by), *byc = json_object(), *byp = json_object();
	json_t *closes = json_object(), *out, *cst, *pst, *cl_st, *added = json_null();
	const json_t *e;
	const char *base;
	size_t i;
	int engine = json_object_size(opens) > 0;
	double ih, bh, it, bt;

	json_array_foreach(report_flows_topic(by, "client.result"), i, e) {
		const json_t *open = json_object_get(opens, report_flows_str(e, "flow") ?: "");
		const char *outcome = report_flows_str(e, "outcome");

		/* timings of completed requests only: a refused handshake or a timeout is the
		 * breakage matrix's business and would skew the comparison of paths */
		if (outcome == NULL || strcmp(outcome, "ok") != 0)
			continue;
		const char *act = report_flows_str(open, "action");
		const char *path = !engine ? "direct" : act == NULL ? "not diverted" :
		    strcmp(act, "intercept") == 0 ? "intercepted" :
		    strcmp(act, "splice") == 0 ? "spliced" : act;
		const char *cl = report_flows_client_name(report_flows_str(e, "src"));

		report_flows_sample(byc, cl, "t_handshake_us", e);
		report_flows_sample(byc, cl, "t_total_us", e);
		report_flows_sample(byp, path, "t_handshake_us", e);
		report_flows_sample(byp, path, "t_total_us", e);
	}
	json_array_foreach(report_flows_topic(by, "proxy.conn.close"), i, e) {
		const char *act = report_flows_str(e, "action");

		if (act == NULL || strcmp(act, "intercept") != 0)
			continue;
		report_flows_sample(closes, "intercept", "hs_client_us", e);
		report_flows_sample(closes, "intercept", "hs_upstream_us", e);
		report_flows_sample(closes, "intercept", "duration_us", e);
	}
	cst = report_flows_stats_of(byc);
	pst = report_flows_stats_of(byp);
	base = json_object_get(pst, "spliced") ? "spliced" : "not diverted";
	ih = report_flows_p50(pst, "intercepted", "t_handshake_us");
	bh = report_flows_p50(pst, base, "t_handshake_us");
	it = report_flows_p50(pst, "intercepted", "t_total_us");
	bt = report_flows_p50(pst, base, "t_total_us");
	if ((!isnan(ih) && !isnan(bh)) || (!isnan(it) && !isnan(bt)))
		added = json_pack("{s:s,s:o,s:o}", "against", base,
		    "handshake_p50_us", isnan(ih) || isnan(bh) ? json_null() : json_real(ih - bh),
		    "total_p50_us", isnan(it) || isnan(bt) ? json_null() : json_real(it - bt));
	cl_st = report_flows_stats_of(closes);
	out = json_pack("{s:o,s:o,s:o,s:s,s:o,s:O,s:o}", "by_client", cst, "by_path", pst,
	    "samples_by_path", report_flows_thin(byp), "timings_of",
	    "client.result with outcome ok", "added_latency", added,
	    "proxy_close", json_object_get(cl_st, "intercept") ?: json_null(),
	    "proxy_series", report_flows_series(by));
	json_decref(cl_st);
	json_decref(byc);
	json_decref(byp);
	json_decref(closes);
	json_decref(opens);
	return out;
}
