/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpath — baseline-versus-run comparison of path signals for the detect-path analyzer (see
 * dpath.h): server hop distance (net.flow server_hops) and server first-flight size
 * (net.flow server_flight_bytes) per vantage and destination, TLS handshake time
 * (client.result t_handshake_us) per destination, joined per flow at the end, plus the
 * terminator's hop and the probe.ttl localisations in the summary. Every table is a jansson
 * object; net.flow tables are keyed "VANTAGE|NAME" and "VANTAGE|IP:PORT".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpath.h"

struct dpath {
	json_t	*base_hops;	/* vantage|key -> smallest server_hops in the baseline */
	json_t	*base_flight;	/* vantage|key -> [server_flight_bytes...] */
	json_t	*base_hs;	/* key -> [t_handshake_us...] */
	json_t	*base_names;	/* name -> true: the baseline's destination names */
	json_t	*base_addrs;	/* IP:PORT -> whether it was ever seen with a name */
	long	 base_events;
	json_t	*flows;		/* flow -> {net: net.flow, client: client.result}, each only the
				 * fields dpath reads (dpath_slim) */
	json_t	*order;		/* flows in first-seen order */
	json_t	*probes;	/* probe.ttl summaries */
	json_t	*term;		/* vantage -> {HOP: flows} of flows judged intercepted by hops */
	long	 n_hops, n_rtt, n_flight, n_relayed;	/* verdicts decided by each signal */
	long	 ignored;	/* events (baseline or run) with absurd numbers */
};

/* Hops: fewer than the baseline means something nearer answered for the server. */
int
dpath_hops_cmp(int base_hops, int run_hops, double *conf, const char **signal)
{
	if (base_hops < 0 || run_hops < 0) {
		*conf = 0;
		*signal = "no-hops";
		return -1;
	}
	if (run_hops < base_hops) {
		*conf = 0.9;
		*signal = "server-hops-shortened";
		return 1;
	}
	*conf = run_hops == base_hops ? 0.7 : 0.4;
	*signal = run_hops == base_hops ? "server-hops-same" : "server-hops-longer";
	return 0;
}

/* First flight: changed when it is off the baseline by enough bytes and enough of it. */
int
dpath_flight_cmp(double base_median, double run_bytes, double *conf, const char **signal)
{
	double d = run_bytes - base_median;

	if (base_median <= 0 || run_bytes <= 0) {
		*conf = 0;
		*signal = "no-flight";
		return -1;
	}
	if (d < 0)
		d = -d;
	if (d >= DPATH_FLIGHT_MIN && d >= base_median * DPATH_FLIGHT_RATIO) {
		*conf = 0.95;
		*signal = "server-flight-changed";
		return 1;
	}
	*conf = 0.7;
	*signal = "server-flight-same";
	return 0;
}

/* Handshake: inflated when both the ratio and the difference are large. */
int
dpath_rtt_cmp(double base_median_us, double run_us, double *conf, const char **signal)
{
	if (base_median_us <= 0 || run_us <= 0) {
		*conf = 0;
		*signal = "no-handshake-time";
		return -1;
	}
	if (run_us >= base_median_us * DPATH_RTT_RATIO && run_us - base_median_us >=
	    DPATH_RTT_MIN_US) {
		*conf = 0.6;
		*signal = "handshake-inflated";
		return 1;
	}
	*conf = 0.5;
	*signal = "handshake-normal";
	return 0;
}

/* qsort comparator for doubles. */
static int
dpath_dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of a JSON array of numbers. */
double
dpath_median(const json_t *arr)
{
	size_t i, n = json_array_size(arr);
	double *v, m;

	if (n == 0 || (v = calloc(n, sizeof(*v))) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		v[i] = json_number_value(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), dpath_dcmp);
	m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	free(v);
	return m;
}

/* New, empty. */
struct dpath *
dpath_new(void)
{
	struct dpath *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->base_hops = json_object();
	d->base_flight = json_object();
	d->base_hs = json_object();
	d->base_names = json_object();
	d->base_addrs = json_object();
	d->term = json_object();
	d->flows = json_object();
	d->order = json_array();
	d->probes = json_array();
	return d;
}

/* Free; NULL is a no-op. */
void
dpath_free(struct dpath *d)
{
	if (d == NULL)
		return;
	json_decref(d->base_hops);
	json_decref(d->base_flight);
	json_decref(d->base_hs);
	json_decref(d->base_names);
	json_decref(d->base_addrs);
	json_decref(d->term);
	json_decref(d->flows);
	json_decref(d->order);
	json_decref(d->probes);
	free(d);
}

/* The destination part of a flow id ("C:P>D:Q" -> "D:Q"), or NULL. */
static const char *
dpath_dst(const json_t *ev)
{
	const char *flow = json_string_value(json_object_get(ev, "flow")), *gt;

	return flow != NULL && (gt = strchr(flow, '>')) != NULL ? gt + 1 : NULL;
}

/* The destination's name: client.result sni, net.flow name. */
static const char *
dpath_name(const json_t *ev)
{
	const char *n = json_string_value(json_object_get(ev, "sni"));

	if (n == NULL || *n == '\0')
		n = json_string_value(json_object_get(ev, "name"));
	return n != NULL && *n != '\0' ? n : NULL;
}

/* The vantage of a net.flow ("gateway" when it says none: events before monitors). */
static const char *
dpath_vantage(const json_t *ev)
{
	const char *v = json_string_value(json_object_get(ev, "vantage"));

	return v != NULL && *v != '\0' ? v : "gateway";
}

/* "vantage|key" into buf, or NULL when key is NULL. */
static const char *
dpath_vkey(const json_t *ev, const char *key, char *buf, size_t len)
{
	if (key == NULL)
		return NULL;
	snprintf(buf, len, "%s|%s", dpath_vantage(ev), key);
	return buf;
}

/* Is this topic t? */
static int
dpath_is(const json_t *ev, const char *t)
{
	const char *topic = json_string_value(json_object_get(ev, "t"));

	return topic != NULL && strcmp(topic, t) == 0;
}

/* Non-zero when the numbers dpath reads from ev are sane (dpath.h): each present number is in
 * 0..its max. Absent, null or another type stays "unknown", as before. */
static int
dpath_sane(const json_t *ev)
{
	static const struct {
		const char	*key;
		double		 max;
	} lim[] = {
		{ "client_hops", DPATH_HOPS_MAX }, { "server_hops", DPATH_HOPS_MAX },
		{ "server_flight_bytes", DPATH_BYTES_MAX }, { "t_handshake_us", DPATH_US_MAX },
	};
	const json_t *v;
	double x;
	size_t i;

	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		if (!json_is_number(v = json_object_get(ev, lim[i].key)))
			continue;
		x = json_number_value(v);
		if (!(x >= 0 && x <= lim[i].max))	/* NaN too */
			return 0;
	}
	return 1;
}

/* Keep the smallest hop count under key. */
static void
dpath_min_hops(json_t *tab, const char *key, json_int_t hops)
{
	json_t *cur;

	if (key == NULL)
		return;
	cur = json_object_get(tab, key);
	if (cur == NULL || json_integer_value(cur) > hops)
		json_object_set_new(tab, key, json_integer(hops));
}

/* Add a handshake sample under key (bounded). */
static void
dpath_add_hs(json_t *tab, const char *key, double us)
{
	json_t *arr;

	if (key == NULL)
		return;
	if ((arr = json_object_get(tab, key)) == NULL) {
		arr = json_array();
		json_object_set_new(tab, key, arr);
	}
	if (json_array_size(arr) < DPATH_SAMPLES)
		json_array_append_new(arr, json_real(us));
}

/* Note the destination of a baseline event learnt: its name, its address, and whether that
 * address had a name. */
static void
dpath_destination(struct dpath *d, const json_t *ev)
{
	const char *name = dpath_name(ev), *dst = dpath_dst(ev);

	if (name != NULL)
		json_object_set_new(d->base_names, name, json_true());
	if (dst != NULL && (name != NULL || json_object_get(d->base_addrs, dst) == NULL))
		json_object_set_new(d->base_addrs, dst, json_boolean(name != NULL ||
		    json_is_true(json_object_get(d->base_addrs, dst))));
}

/* Learn a baseline event. */
void
dpath_baseline(struct dpath *d, const json_t *ev)
{
	json_t *v;

	char k1[320], k2[320];

	if ((dpath_is(ev, "net.flow") || dpath_is(ev, "client.result")) && !dpath_sane(ev)) {
		d->ignored++;
		return;
	}
	if (dpath_is(ev, "net.flow") && json_is_integer(v = json_object_get(ev, "server_hops"))) {
		dpath_min_hops(d->base_hops, dpath_vkey(ev, dpath_name(ev), k1, sizeof(k1)),
		    json_integer_value(v));
		dpath_min_hops(d->base_hops, dpath_vkey(ev, dpath_dst(ev), k2, sizeof(k2)),
		    json_integer_value(v));
		if (json_integer_value(v = json_object_get(ev, "server_flight_bytes")) > 0) {
			dpath_add_hs(d->base_flight, dpath_vkey(ev, dpath_name(ev), k1, sizeof(k1)),
			    (double)json_integer_value(v));
			dpath_add_hs(d->base_flight, dpath_vkey(ev, dpath_dst(ev), k2, sizeof(k2)),
			    (double)json_integer_value(v));
		}
		d->base_events++;
		dpath_destination(d, ev);
	} else if (dpath_is(ev, "client.result") &&
	    json_is_number(v = json_object_get(ev, "t_handshake_us")) && json_number_value(v) > 0) {
		dpath_add_hs(d->base_hs, dpath_name(ev), json_number_value(v));
		dpath_add_hs(d->base_hs, dpath_dst(ev), json_number_value(v));
		d->base_events++;
		dpath_destination(d, ev);
	}
}

/* Baseline events learnt. */
long
dpath_baseline_events(const struct dpath *d)
{
	return d->base_events;
}

/* The fields of a net.flow or client.result that the judging reads: a run's events would
 * otherwise stay in memory whole (a client.result's chain, a net.flow's per-side detail). */
static json_t *
dpath_slim(const json_t *ev)
{
	return json_pack("{s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:O*}",
	    "flow", json_object_get(ev, "flow"), "ts", json_object_get(ev, "ts"),
	    "sni", json_object_get(ev, "sni"), "name", json_object_get(ev, "name"),
	    "vantage", json_object_get(ev, "vantage"),
	    "client_hops", json_object_get(ev, "client_hops"),
	    "server_hops", json_object_get(ev, "server_hops"),
	    "server_flight_bytes", json_object_get(ev, "server_flight_bytes"),
	    "t_handshake_us", json_object_get(ev, "t_handshake_us"));
}

/* Remember a run event. */
void
dpath_observe(struct dpath *d, json_t *ev)
{
	const char *flow = json_string_value(json_object_get(ev, "flow")), *slot;
	json_t *f;

	if (dpath_is(ev, "probe.ttl")) {
		json_array_append_new(d->probes, json_pack("{s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, "
		    "s:O*, s:O*}", "host", json_object_get(ev, "host"),
		    "sni", json_object_get(ev, "sni"), "src", json_object_get(ev, "src"),
		    "injection_hop", json_object_get(ev, "injection_hop"),
		    "server_hop", json_object_get(ev, "server_hop"),
		    "hops_before_server", json_object_get(ev, "hops_before_server"),
		    "untargeted_terminated_hop", json_object_get(ev, "untargeted_terminated_hop"),
		    "control_injected", json_object_get(ev, "control_injected")));
		return;
	}
	if (dpath_is(ev, "net.flow"))
		slot = "net";
	else if (dpath_is(ev, "client.result"))
		slot = "client";
	else
		return;
	if (flow == NULL)
		return;
	if (!dpath_sane(ev)) {
		d->ignored++;
		return;
	}
	if ((f = json_object_get(d->flows, flow)) == NULL) {
		f = json_object();
		json_object_set_new(d->flows, flow, f);
		json_array_append_new(d->order, json_string(flow));
	}
	/* the last wins (a reused flow id is judged by its latest flow, as truth and the scoring
	 * take it), except that the gateway's view never replaces a monitor's: only a vantage
	 * before the terminator sees the server side of a diverted flow */
	if (json_object_get(f, slot) == NULL || strcmp(slot, "net") != 0 ||
	    strcmp(dpath_vantage(json_object_get(f, slot)), "gateway") == 0 ||
	    strcmp(dpath_vantage(ev), "gateway") != 0)
		json_object_set_new(f, slot, dpath_slim(ev));
}

/* A baseline value under the name of ev, else its destination (prefixed by ev's vantage
 * when vantage is set: the net.flow tables). */
static json_t *
dpath_base(json_t *tab, const json_t *ev, int vantage)
{
	const char *name = ev != NULL ? dpath_name(ev) : NULL, *dst = ev != NULL ?
	    dpath_dst(ev) : NULL;
	char k[320];
	json_t *v;

	if (vantage && ev != NULL) {
		name = dpath_vkey(ev, name, k, sizeof(k));
		v = name != NULL ? json_object_get(tab, name) : NULL;
		if (v != NULL)
			return v;
		dst = dpath_vkey(ev, dst, k, sizeof(k));
		return dst != NULL ? json_object_get(tab, dst) : NULL;
	}
	v = name != NULL ? json_object_get(tab, name) : NULL;
	return v != NULL ? v : dst != NULL ? json_object_get(tab, dst) : NULL;
}

/* Count a flow judged intercepted by hops at the hop of its terminator (monitors only). */
static json_int_t
dpath_terminator(struct dpath *d, const json_t *net)
{
	json_t *ch = json_object_get(net, "client_hops"), *sh = json_object_get(net,
	    "server_hops"), *tab;
	const char *v = dpath_vantage(net);
	char hop[24];
	json_int_t h;

	if (strcmp(v, "gateway") == 0 || !json_is_integer(ch) || !json_is_integer(sh))
		return -1;
	h = json_integer_value(ch) + 1 + json_integer_value(sh);
	if ((tab = json_object_get(d->term, v)) == NULL) {
		tab = json_object();
		json_object_set_new(d->term, v, tab);
	}
	snprintf(hop, sizeof(hop), "%lld", (long long)h);
	json_object_set_new(tab, hop, json_integer(json_integer_value(json_object_get(tab, hop)) + 1));
	return h;
}

/* One flow's verdict. */
static json_t *
dpath_flow(struct dpath *d, const char *flow, json_t *f)
{
	json_t *net = json_object_get(f, "net"), *cl = json_object_get(f, "client");
	json_t *bh = dpath_base(d->base_hops, net != NULL ? net : cl, 1);
	json_t *bfl = dpath_base(d->base_flight, net != NULL ? net : cl, 1);
	json_t *bs = dpath_base(d->base_hs, cl != NULL ? cl : net, 0);
	json_t *rh = json_object_get(net, "server_hops"), *rs = json_object_get(cl,
	    "t_handshake_us"), *rf = json_object_get(net, "server_flight_bytes"), *ev;
	int hops, rtt, flight, yes, unseen;
	double hc, rc, fc, base_med = dpath_median(bs), base_fl = dpath_median(bfl), conf;
	const char *hsig, *rsig, *fsig, *sig;
	json_int_t term = -1;

	hops = dpath_hops_cmp(bh != NULL ? (int)json_integer_value(bh) : -1,
	    json_is_integer(rh) ? (int)json_integer_value(rh) : -1, &hc, &hsig);
	rtt = dpath_rtt_cmp(base_med, json_number_value(rs), &rc, &rsig);
	flight = dpath_flight_cmp(base_fl, (double)json_integer_value(rf), &fc, &fsig);
	/* The path saw the client's packets but none of the server's, yet the client finished
	 * a handshake: something at or before the observer terminated TCP for a server it saw in
	 * the baseline. Evidence only: a transparent proxy terminates spliced flows too, so this
	 * says "TCP terminated", not "TLS intercepted"; the handshake time decides. */
	unseen = hops < 0 && bh != NULL && net != NULL && !json_is_integer(rh) &&
	    json_is_integer(json_object_get(net, "client_hops")) && json_number_value(rs) > 0;
	if (cl == NULL || (hops < 0 && rtt < 0 && !unseen))
		return NULL;	/* verdicts are about client flows (the proxy's own are not) */

	/* Hops are the stronger signal: a same-hops path with an inflated handshake stays "not
	 * intercepted"; the handshake decides only when hops are unknown. Fewer hops with the
	 * server's first flight as the baseline saw it is a terminator that relays (splice). */
	if (hops == 1 && flight == 0) {
		yes = 0, conf = fc, sig = "server-nearer-relayed";
		d->n_relayed++;
	} else if (hops == 1) {
		yes = 1, conf = flight == 1 ? fc : hc;
		sig = flight == 1 ? "server-nearer-flight-changed" : hsig;
		d->n_hops++;
		if (flight == 1)
			d->n_flight++;
		term = dpath_terminator(d, net);
	} else if (rtt == 1 && hops != 0) {
		yes = 1, conf = rc, sig = rsig;
		d->n_rtt++;
	} else if (hops == 0) {
		yes = 0, conf = hc, sig = hsig;
		d->n_hops++;
	} else if (rtt == 0) {
		yes = 0, conf = rc, sig = rsig;
		d->n_rtt++;
	} else {
		yes = 0, conf = 0.3, sig = "server-unseen";
	}
	ev = json_pack("{s:s, s:b, s:f, s:s, s:{s:O*, s:O*, s:O*, s:f, s:s, s:s, s:s, s:O*, s:f, "
	    "s:s}, s:O*}",
	    "flow", flow, "intercepted", yes, "confidence", conf, "signal", sig, "evidence",
	    "server_hops", rh, "baseline_server_hops", bh, "t_handshake_us", rs,
	    "baseline_handshake_median_us", base_med, "hops", hsig, "handshake", rsig,
	    "flight", fsig, "server_flight_bytes", rf, "baseline_server_flight_median", base_fl,
	    "vantage", net != NULL ? dpath_vantage(net) : "none",
	    "at", json_object_get(net != NULL ? net : cl, "ts"));
	if (ev != NULL && unseen)
		json_object_set_new(json_object_get(ev, "evidence"), "server_unseen", json_true());
	if (ev != NULL && term >= 0)
		json_object_set_new(json_object_get(ev, "evidence"), "terminator_hop",
		    json_integer(term));
	return ev;
}

/* The verdict of every flow that has a baseline to compare with, one at a time. */
void
dpath_judge_each(struct dpath *d, void (*fn)(json_t *, void *), void *arg)
{
	json_t *v, *f, *verdict;
	size_t i;

	json_array_foreach(d->order, i, v) {
		const char *flow = json_string_value(v);
		if ((f = json_object_get(d->flows, flow)) == NULL)
			continue;
		if ((verdict = dpath_flow(d, flow, f)) != NULL) {
			fn(verdict, arg);
			json_decref(verdict);
		}
	}
}

/* Append a verdict to an array. */
static void
dpath_append(json_t *verdict, void *arr)
{
	json_array_append(arr, verdict);
}

/* Verdicts for every flow that has a baseline to compare with. */
json_t *
dpath_judge(struct dpath *d)
{
	json_t *out = json_array();

	dpath_judge_each(d, dpath_append, out);
	return out;
}

/* Summary for the result. */
json_t *
dpath_summary(const struct dpath *d)
{
	json_t *term = json_null(), *tab, *n;
	const char *v, *hop, *best_v = NULL, *best_h = NULL;
	json_int_t best = 0, unnamed = 0;

	/* the terminator: the hop most flows judged by hops point at, at the busiest monitor */
	json_object_foreach(d->term, v, tab)
		json_object_foreach(tab, hop, n)
			if (json_integer_value(n) > best) {
				best = json_integer_value(n);
				best_v = v;
				best_h = hop;
			}
	if (best_v != NULL)
		term = json_pack("{s:s, s:I, s:I, s:O}", "vantage", best_v, "hop",
		    (json_int_t)strtoll(best_h, NULL, 10), "flows", best, "hops",
		    json_object_get(d->term, best_v));
	json_object_foreach(d->base_addrs, v, n)	/* addresses never seen with a name */
		unnamed += json_is_false(n);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:O, s:I}",
	    "baseline_events", (json_int_t)d->base_events,
	    "baseline_destinations", (json_int_t)json_object_size(d->base_names) + unnamed,
	    "baseline_names", (json_int_t)json_object_size(d->base_names),
	    "baseline_addresses", (json_int_t)json_object_size(d->base_addrs),
	    "flows", (json_int_t)json_array_size(d->order),
	    "by_hops", (json_int_t)d->n_hops, "by_handshake", (json_int_t)d->n_rtt,
	    "by_flight", (json_int_t)d->n_flight, "relayed", (json_int_t)d->n_relayed,
	    "terminator", term, "localised", d->probes, "ignored_events", (json_int_t)d->ignored);
}
