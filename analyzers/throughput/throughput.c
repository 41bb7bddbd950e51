/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * throughput — a measure (proxy vantage, role "measure": it reads the engine's own events,
 * which is ground truth, so it gives no verdicts and is never scored). From proxy.conn.open /
 * proxy.conn.close / proxy.forge / proxy.stats and client.result it reports:
 *   handshakes/s           client-side TLS handshakes the engine completed (intercepted flows)
 *   forged certificates/s  proxy.forge without a cache hit; cache hit ratio over all forges
 *   plaintext bytes/s      bytes_c2s and bytes_s2c of intercepted flows (decrypted relay)
 *   added latency          client t_handshake_us and t_first_byte_us of intercepted flows
 *                          against every flow of the baseline run (--baseline DIR):
 *                          p50/p95/p99 of each (null without samples) and the difference of
 *                          the p50s (null unless both sides have samples)
 *   cpu_s per 1000 conns   the engine's CPU time over the connections its workers accepted.
 *                          cpu_s and rss_kb in proxy.stats are PROCESS-wide (every worker thread
 *                          reports getrusage(RUSAGE_SELF) and /proc/self/statm), so cpu_s and
 *                          rss_kb here are the maximum over the workers' last proxy.stats, not
 *                          their sum; accepted is per worker and summed
 *   series                 per second since the earliest proxy event, for an hour at most
 *                          (TP_SERIES_MAX s): opens, intercepts, forges, closes, bytes each way;
 *                          an event past that hour is left out and summary.series_truncated
 *                          says so
 *   packet_plane           the packet plane's handler (proxy.stats with "component": "netq",
 *                          kept apart from the engine's workers): packets, packets/s peak and
 *                          mean, its last verdict and kernel queue drop counters, CPU per
 *                          million packets; null when the run had no packet plane
 * The window is the earliest proxy.conn.open to the latest proxy.conn.close (by ts, whatever
 * order the bus delivered them in). Deterministic.
 * An event whose numbers are absurd (negative, non-numeric, or past tp_bounds: 2^53 for
 * counts, 1e12 us, 1e9 s of CPU) is ignored whole and counted in summary.ignored_events, so that no sum can
 * overflow or become infinite; a real that still is not finite is written as null.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anrun.h"
#include "mitmlab-analyzer.h"
#include "tpstat.h"

#define TP_SERIES_MAX	3600
#define TP_COUNT_MAX	9007199254740992.0	/* 2^53: bytes, packets, connections */
#define TP_US_MAX	1e12			/* 11.6 days, in us */
#define TP_CPU_S_MAX	1e9			/* 31 years of CPU */

/* The numbers tp_event reads, per topic, and their largest sane value. */
static const struct tp_bound {
	const char	*topic, *key;
	double		 max;
} tp_bounds[] = {
	{ "proxy.conn.close",	"bytes_c2s",		TP_COUNT_MAX },
	{ "proxy.conn.close",	"bytes_s2c",		TP_COUNT_MAX },
	{ "proxy.conn.close",	"hs_client_us",		TP_US_MAX },
	{ "proxy.forge",	"forge_us",		TP_US_MAX },
	{ "proxy.stats",	"cpu_s",		TP_CPU_S_MAX },
	{ "proxy.stats",	"rss_kb",		TP_COUNT_MAX },
	{ "proxy.stats",	"accepted",		TP_COUNT_MAX },
	{ "proxy.stats",	"packets",		TP_COUNT_MAX },
	{ "proxy.stats",	"packets_per_s",	TP_COUNT_MAX },
	{ "proxy.stats",	"handler_cpu_s",	TP_CPU_S_MAX },
	{ "client.result",	"t_handshake_us",	TP_US_MAX },
	{ "client.result",	"t_first_byte_us",	TP_US_MAX },
};

struct tp {
	json_t	*actions;	/* flow -> action of proxy.conn.open */
	json_t	*workers;	/* worker -> {cpu_s, rss_kb, accepted} of its last proxy.stats */
	json_t	*results;	/* {flow, t_handshake_us, t_first_byte_us} of each client.result */
	json_t	*base;		/* the same of the baseline's */
	json_t	*series;	/* array of per-second objects */
	json_t	*netq;		/* last proxy.stats of the packet plane */
	struct tpstat_pp pp;
	int64_t	 t0, t_first, t_last;
	long	 opens, intercepts, closes_i, forges, cache_hits, hs;
	long	 ignored;	/* events with absurd numbers */
	long	 unseries;	/* events left out of the series (outside its hour) */
	double	 c2s, s2c, forge_us;
};

/* Non-zero when every number tp_bounds lists for topic is absent, null, or in 0..max. */
static int
tp_sane(const char *topic, const json_t *ev)
{
	const json_t *v;
	double x;
	size_t i;

	for (i = 0; i < sizeof(tp_bounds) / sizeof(tp_bounds[0]); i++) {
		if (strcmp(tp_bounds[i].topic, topic) != 0 ||
		    (v = json_object_get(ev, tp_bounds[i].key)) == NULL || json_is_null(v))
			continue;
		x = json_number_value(v);
		if (!json_is_number(v) || !isfinite(x) || x < 0 || x > tp_bounds[i].max)
			return 0;
	}
	return 1;
}

/* A real, or null when it is not finite (jansson refuses those, and so would JSON). */
static json_t *
tp_real(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

/* An empty series bucket for second s. */
static json_t *
tp_second(size_t s)
{
	return json_pack("{s:I, s:i, s:i, s:i, s:i, s:I, s:I}", "s", (json_int_t)s, "opens", 0,
	    "intercepts", 0, "forges", 0, "closes", 0, "bytes_c2s", (json_int_t)0, "bytes_s2c",
	    (json_int_t)0);
}

/* The series bucket of ts (created on demand; an event earlier than the series' start, as
 * sources interleave, moves the start back), or NULL when the series would pass its hour. */
static json_t *
tp_bucket(struct tp *t, int64_t ts)
{
	int64_t s, k;
	size_t i;
	json_t *b;

	if (t->t0 == 0)
		t->t0 = ts;
	if (ts < t->t0) {
		k = (t->t0 - ts) / 1000000000LL + ((t->t0 - ts) % 1000000000LL != 0);
		if (k + (int64_t)json_array_size(t->series) > TP_SERIES_MAX) {
			t->unseries++;
			return NULL;
		}
		for (i = 0; i < (size_t)k; i++)
			json_array_insert_new(t->series, 0, tp_second(0));
		json_array_foreach(t->series, i, b)
			json_object_set_new(b, "s", json_integer((json_int_t)i));
		t->t0 -= k * 1000000000LL;
	}
	if ((s = (ts - t->t0) / 1000000000LL) >= TP_SERIES_MAX) {
		t->unseries++;
		return NULL;
	}
	while ((int64_t)json_array_size(t->series) <= s)
		json_array_append_new(t->series, tp_second(json_array_size(t->series)));
	return json_array_get(t->series, (size_t)s);
}

/* Add n (>= 0) to bucket[key], saturating. */
static void
tp_add(json_t *b, const char *key, json_int_t n)
{
	json_int_t cur = json_integer_value(json_object_get(b, key));

	if (b != NULL)
		json_object_set_new(b, key, json_integer(n > LLONG_MAX - cur ? LLONG_MAX :
		    cur + n));
}

/* Only what tp_pcts reads of a client.result: a run's events would otherwise stay in memory
 * whole, chains and all (~11 KB a flow). */
static json_t *
tp_timings(const json_t *cr)
{
	return json_pack("{s:O*, s:O*, s:O*}", "flow", json_object_get(cr, "flow"),
	    "t_handshake_us", json_object_get(cr, "t_handshake_us"), "t_first_byte_us",
	    json_object_get(cr, "t_first_byte_us"));
}

/* Handle proxy events and keep client results. */
static int
tp_event(struct analyzer *a, const char *topic, const char *src, json_t *ev, void *arg)
{
	struct tp *t = arg;
	const char *flow = json_string_value(json_object_get(ev, "flow"));
	const char *act = json_string_value(json_object_get(ev, "action"));
	int64_t ts = json_integer_value(json_object_get(ev, "ts"));
	json_t *b;

	(void)a;
	if (!tp_sane(topic, ev)) {
		t->ignored++;
		return 0;
	}
	if (strcmp(topic, "client.result") == 0) {
		json_array_append_new(t->results, tp_timings(ev));
		return 0;
	}
	if (strncmp(topic, "proxy.", 6) != 0)
		return 0;
	if (strcmp(topic, "proxy.stats") == 0) {
		const char *w = json_string_value(json_object_get(ev, "worker"));
		const char *comp = json_string_value(json_object_get(ev, "component"));
		if (comp != NULL && strcmp(comp, "netq") == 0) {
			tpstat_pp_add(&t->pp, (double)ts,
			    json_number_value(json_object_get(ev, "packets")),
			    json_number_value(json_object_get(ev, "packets_per_s")));
			json_decref(t->netq);
			t->netq = json_incref(ev);
			return 0;
		}
		json_object_set_new(t->workers, w != NULL ? w : src, json_pack("{s:O*, s:O*, s:O*}",
		    "cpu_s", json_object_get(ev, "cpu_s"), "rss_kb", json_object_get(ev, "rss_kb"),
		    "accepted", json_object_get(ev, "accepted")));
		return 0;
	}
	b = tp_bucket(t, ts);
	if (strcmp(topic, "proxy.conn.open") == 0) {
		if (t->t_first == 0 || ts < t->t_first)
			t->t_first = ts;
		t->opens++;
		tp_add(b, "opens", 1);
		if (flow != NULL && act != NULL)
			json_object_set_new(t->actions, flow, json_string(act));
		if (act != NULL && strcmp(act, "intercept") == 0) {
			t->intercepts++;
			tp_add(b, "intercepts", 1);
		}
	} else if (strcmp(topic, "proxy.forge") == 0) {
		t->forges++;
		t->forge_us += json_number_value(json_object_get(ev, "forge_us"));
		if (json_is_true(json_object_get(ev, "cache_hit")))
			t->cache_hits++;
		else
			tp_add(b, "forges", 1);
	} else if (strcmp(topic, "proxy.conn.close") == 0) {
		if (ts > t->t_last)
			t->t_last = ts;
		tp_add(b, "closes", 1);
		if (act != NULL && strcmp(act, "intercept") == 0) {
			json_int_t c = json_integer_value(json_object_get(ev, "bytes_c2s"));
			json_int_t s = json_integer_value(json_object_get(ev, "bytes_s2c"));
			t->closes_i++;
			if (json_integer_value(json_object_get(ev, "hs_client_us")) > 0)
				t->hs++;
			t->c2s += (double)c;
			t->s2c += (double)s;
			tp_add(b, "bytes_c2s", c);
			tp_add(b, "bytes_s2c", s);
		}
	}
	return 0;
}

/* A percentile of n samples, or null without samples (a percentile of nothing is not 0). */
static json_t *
tp_pct(double *v, size_t n, double p)
{
	return n > 0 ? tp_real(tpstat_percentile(v, n, p)) : json_null();
}

/* Percentiles of one client timing over results (only intercepted flows when actions); *n
 * gets the number of samples, *p50 their median (0 without samples). */
static json_t *
tp_pcts(const json_t *results, const json_t *actions, const char *key, size_t *n, double *p50)
{
	double *v = calloc(json_array_size(results) + 1, sizeof(*v));
	size_t i;
	json_t *cr, *o;

	*n = 0;
	json_array_foreach(results, i, cr) {
		const char *flow = json_string_value(json_object_get(cr, "flow"));
		const char *act = flow != NULL && actions != NULL ?
		    json_string_value(json_object_get(actions, flow)) : NULL;
		json_t *x = json_object_get(cr, key);
		if (actions != NULL && (act == NULL || strcmp(act, "intercept") != 0))
			continue;
		if (json_is_integer(x) && v != NULL)
			v[(*n)++] = (double)json_integer_value(x);
	}
	*p50 = tpstat_percentile(v, *n, 50);
	o = json_pack("{s:I, s:o, s:o, s:o}", "n", (json_int_t)*n, "p50_us", tp_pct(v, *n, 50),
	    "p95_us", tp_pct(v, *n, 95), "p99_us", tp_pct(v, *n, 99));
	free(v);
	return o;
}

/* Baseline client.result (absurd ones ignored and counted, as in the run). */
static int
tp_learn(json_t *ev, void *arg)
{
	struct tp *t = arg;

	if (!tp_sane("client.result", ev))
		t->ignored++;
	else
		json_array_append_new(t->base, tp_timings(ev));
	return 0;
}

/* The packet plane's summary, or null. */
static json_t *
tp_packet_plane(const struct tp *t)
{
	const json_t *n = t->netq;
	double cpu = json_number_value(json_object_get(n, "handler_cpu_s"));
	double pk = json_number_value(json_object_get(n, "packets"));

	if (n == NULL)
		return json_null();
	return json_pack("{s:I, s:o, s:o, s:o, s:O*, s:O*, s:O*, s:O*, s:o, s:o}",
	    "samples", (json_int_t)t->pp.samples, "packets", tp_real(pk),
	    "packets_per_s_peak", tp_real(t->pp.peak_pps),
	    "packets_per_s_mean", tp_real(tpstat_pp_mean(&t->pp)),
	    "verdicts", json_object_get(n, "verdicts"),
	    "queue_dropped", json_object_get(n, "queue_dropped"),
	    "queue_user_dropped", json_object_get(n, "queue_user_dropped"),
	    "queue_overruns", json_object_get(n, "queue_overruns"),
	    "handler_cpu_s", tp_real(cpu), "cpu_s_per_million_packets",
	    tp_real(tpstat_rate(cpu * 1e6, pk)));
}

/* The report. */
static int
tp_end(struct analyzer *a, json_t *result, int complete, void *arg)
{
	static const char *const keys[] = { "t_handshake_us", "t_first_byte_us" };
	struct tp *t = arg;
	double secs = t->t_last > t->t_first ? (double)(t->t_last - t->t_first) / 1e9 : 0;
	double cpu = 0, rss = 0, accepted = 0, pi, pb;
	json_t *lat = json_object(), *w, *sum;
	const char *k;
	size_t i, ni, nb;

	(void)complete;
	json_object_foreach(t->workers, k, w) {	/* process-wide: max; per worker: sum */
		if (json_number_value(json_object_get(w, "cpu_s")) > cpu)
			cpu = json_number_value(json_object_get(w, "cpu_s"));
		if (json_number_value(json_object_get(w, "rss_kb")) > rss)
			rss = json_number_value(json_object_get(w, "rss_kb"));
		accepted += (double)json_integer_value(json_object_get(w, "accepted"));
	}
	for (i = 0; i < 2; i++) {
		json_t *o = json_pack("{s:o}", "intercepted", tp_pcts(t->results, t->actions,
		    keys[i], &ni, &pi));
		if (json_array_size(t->base) > 0) {	/* null unless both sides have samples */
			json_object_set_new(o, "baseline", tp_pcts(t->base, NULL, keys[i], &nb,
			    &pb));
			json_object_set_new(o, "added_p50_us", ni > 0 && nb > 0 ?
			    tp_real(pi - pb) : json_null());
		}
		json_object_set_new(lat, keys[i], o);
	}
	sum = json_pack("{s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, "
	    "s:I, s:o, s:I, s:I, s:b}",
	    "window_s", tp_real(secs), "connections", (json_int_t)t->opens, "intercepted",
	    (json_int_t)t->intercepts, "handshakes", (json_int_t)t->hs,
	    "handshakes_per_s", tp_real(tpstat_rate((double)t->hs, secs)),
	    "forged_per_s", tp_real(tpstat_rate((double)(t->forges - t->cache_hits), secs)),
	    "forge_us_mean", tp_real(tpstat_rate(t->forge_us, (double)t->forges)),
	    "cache_hit_ratio", t->forges > 0 ? tp_real((double)t->cache_hits /
	    (double)t->forges) : json_null(),
	    "plaintext_c2s_bytes_per_s", tp_real(tpstat_rate(t->c2s, secs)),
	    "plaintext_s2c_bytes_per_s", tp_real(tpstat_rate(t->s2c, secs)),
	    "cpu_s", tp_real(cpu), "latency", lat,
	    "cpu_s_per_1000_conns", tp_real(tpstat_rate(cpu * 1000, accepted)),
	    "workers", (json_int_t)json_object_size(t->workers),
	    "baseline_flows", (json_int_t)json_array_size(t->base),
	    "packet_plane", tp_packet_plane(t), "rss_kb", (json_int_t)rss,
	    "ignored_events", (json_int_t)t->ignored, "series_truncated", t->unseries > 0);
	if (sum == NULL) {	/* never a result that says ok without its summary */
		analyzer_log(a, 0, "cannot build the summary");
		return -1;
	}
	json_object_set_new(result, "summary", sum);
	json_object_set(result, "series", t->series);
	return 0;
}

/* Entry point. */
int
main(int argc, char **argv)
{
	struct tp t;
	static const char *const topics[] = { "proxy.conn.open", "proxy.conn.close", "proxy.forge",
	    "proxy.stats", "client.result", NULL };
	struct analyzer_def def = { "throughput", ANALYZER_PROXY | ANALYZER_CLIENT, tp_event,
	    tp_end, &t, topics };
	int rc;

	memset(&t, 0, sizeof(t));
	t.actions = json_object();
	t.workers = json_object();
	t.results = json_array();
	t.base = json_array();
	t.series = json_array();
	anrun_baseline(argc, argv, "client.result", tp_learn, &t, "throughput");
	rc = analyzer_main(&def, argc, argv);
	json_decref(t.actions);
	json_decref(t.workers);
	json_decref(t.results);
	json_decref(t.base);
	json_decref(t.series);
	json_decref(t.netq);
	return rc;
}
