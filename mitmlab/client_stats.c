/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_stats — aggregates finished connections into the client.summary event. Samples are
 * kept whole (a run is bounded by --count) so percentiles are exact nearest-rank values rather
 * than histogram estimates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "client_stats.h"
#include "util.h"

/* qsort comparator for uint64_t. */
static int
client_stats_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile (sorts v). */
uint64_t
client_stats_percentile(uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), client_stats_cmp);
	return v[util_rank(n, p)];
}

/* Append to a series. */
void
client_stats_push(struct client_series *s, uint64_t v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint64_t *nv = realloc(s->v, cap * sizeof(*nv));
		if (nv == NULL)
			return;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
}

/* Count one record. */
void
client_stats_add(struct client_stats *st, const struct client_record *r)
{
	if ((unsigned)r->outcome < CLIENT_NOUTCOMES) {
		st->counts[r->outcome]++;
		if (st->example[r->outcome][0] == '\0' && r->error[0] != '\0')
			snprintf(st->example[r->outcome], sizeof(st->example[0]), "%.199s",
			    r->error);
	}
	if (r->t_handshake_us >= 0)
		client_stats_push(&st->handshake_us, (uint64_t)r->t_handshake_us);
	if (r->t_total_us >= 0 && r->outcome == CLIENT_OK)
		client_stats_push(&st->total_us, (uint64_t)r->t_total_us);
}

/* p50/p95/p99 object of a series (nulls when empty). */
static json_t *
client_stats_pct(struct client_series *s)
{
	if (s->n == 0)
		return json_pack("{s:n,s:n,s:n,s:i}", "p50", "p95", "p99", "n", 0);
	return json_pack("{s:I,s:I,s:I,s:I}",
	    "p50", (json_int_t)client_stats_percentile(s->v, s->n, 50),
	    "p95", (json_int_t)client_stats_percentile(s->v, s->n, 95),
	    "p99", (json_int_t)client_stats_percentile(s->v, s->n, 99),
	    "n", (json_int_t)s->n);
}

/* Build client.summary. */
json_t *
client_stats_summary(struct client_stats *st, uint64_t elapsed_ns, const char *stopped_by)
{
	json_t *ev = bus_event("client.summary");
	json_t *counts = json_object(), *ex = json_object();
	uint64_t done = 0;
	double secs = (double)elapsed_ns / 1e9;
	int i;

	for (i = 0; i < CLIENT_NOUTCOMES; i++) {
		json_object_set_new(counts, client_result_name(i), json_integer((json_int_t)st->counts[i]));
		if (st->example[i][0] != '\0')
			json_object_set_new(ex, client_result_name(i), json_string(st->example[i]));
		done += st->counts[i];
	}
	json_object_set_new(ev, "counts", counts);
	json_object_set_new(ev, "errors", ex);
	json_object_set_new(ev, "launched", json_integer((json_int_t)st->launched));
	json_object_set_new(ev, "completed", json_integer((json_int_t)done));
	json_object_set_new(ev, "aborted", json_integer((json_int_t)st->aborted));
	json_object_set_new(ev, "elapsed_ms", json_integer((json_int_t)(elapsed_ns / 1000000)));
	json_object_set_new(ev, "rate", json_real(secs > 0 ? (double)done / secs : 0.0));
	json_object_set_new(ev, "handshake_us", client_stats_pct(&st->handshake_us));
	json_object_set_new(ev, "total_us", client_stats_pct(&st->total_us));
	json_object_set_new(ev, "stopped_by", json_string(stopped_by));
	return ev;
}

/* Free the sample arrays. */
void
client_stats_free(struct client_stats *st)
{
	free(st->handshake_us.v);
	free(st->total_us.v);
	memset(st, 0, sizeof(*st));
}
