/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * detect-fingerprint — an origin-vantage detector after Durumeric et al. (NDSS 2017) and
 * Cloudflare's MITMEngine: the HTTP User-Agent claims one client, the ClientHello that reached
 * the server belongs to another. Fingerprints are LEARNED from a baseline run (--baseline DIR,
 * the manifest's {baseline}): User-Agent -> the JA3 and JA4 values the origins saw with it, and
 * every JA3/JA4 seen at all. Per origin.hello:
 *   ua-hello-mismatch   the UA is known to the baseline and neither JA3 nor JA4 is one of its
 *   fingerprint-unknown the UA is absent (no request came: origin.hello's ua is only known
 *                       once one does) or unknown, and neither JA3 nor JA4 was ever seen
 *   grade-f             the cipher list offers NULL / EXPORT / anonymous / DES suites
 *   grade-below-baseline (evidence only) the list grades worse than anything the UA's
 *                       baseline hellos offered
 * Any of the first three means intercepted. The cipher-list grade (A/B/C/F, MITMEngine's) is
 * in every verdict's evidence.
 * Verdicts are about client flows: an origin.hello whose client_random is a client.result's
 * is that flow's own hello, arrived unchanged (a spliced flow's, whatever address it came
 * from; cost -2); one with the client's own 4-tuple maps directly (cost -1); one from a
 * middlebox's upstream leg (the engine connects from its own address, with its own random)
 * maps to a client.result for the same server address and SNI that started before the
 * hello's ts and whose request, as far as both ends tell (dfp_same_ua), is the one the origin
 * saw, pairs taken cheapest first by their distance in time (dfp_map_all): origin.hello is
 * published once the request came, then against the client's first response byte (ts -
 * t_total_us + t_first_byte_us), or when the connection ended without one, then against the
 * client's end (client.result's ts, taken when t_total_us was). The client vantage is read
 * for this mapping only. A client.result without client_random (a tool that logged no secrets,
 * a hello never sent) joins by the other two. Hellos no client flow maps to keep their own
 * flow id. Held until
 * lab.run.end; deterministic. A client.result whose t_total_us is not in 0..DFP_US_MAX (11.6
 * days) is absurd: ignored, and counted in summary.ignored_events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anrun.h"
#include "fpgrade.h"
#include "mitmlab-analyzer.h"

#define DFP_UNTIMED_NS	60000000000LL	/* a client flow without t_total_us: open up to 60 s */
#define DFP_CANDIDATES	16		/* cheapest client flows kept per hello for the mapping */
#define DFP_US_MAX	1000000000000LL	/* the longest sane t_total_us (11.6 days) */

/* What is kept of a client.result: the join's key and times (dfp_index sorts these). */
struct dfp_ref {
	char		*addr;		/* "IP:PORT" of its server, as dfp_addr writes it */
	char		*sni;		/* NULL: none */
	char		*flow;
	char		*ua;		/* the User-Agent the client sent; NULL: not known */
	char		*rnd;		/* its ClientHello.random (64 hex); NULL: not known */
	int		 tls_failed;	/* its outcome says the client's TLS failed: no request */
	int		 completed;	/* its outcome says a request was answered */
	int64_t		 start, end;	/* ns: end is the client.result's ts */
	int64_t		 fb;		/* ns: its first response byte (start + t_first_byte_us),
					 * else end */
	int64_t		 gdur;		/* the longest end - start of its server and SNI */
	int64_t		 gtail;		/* the longest end - fb of its server and SNI */
	size_t		 r;		/* its place among the client results, in order */
};

struct dfp {
	json_t	*ua;		/* baseline: ua -> {ja3: {}, ja4: {}, grade: "B"} */
	json_t	*ja3, *ja4;	/* baseline: every value seen */
	long	 base_hellos;
	long	 n_hellos;	/* origin.hello events of the run */
	json_t	*hellos;	/* what dfp_hello keeps of each origin.hello, in order (none
				 * without a baseline) */
	struct dfp_ref *refs;	/* client results (none without a baseline) */
	size_t	 nrefs, caprefs;
	json_t	*counts;	/* signal -> count */
	long	 flagged, mapped;
	long	 ignored;	/* client.result with an absurd t_total_us */
};

/* Learn one baseline origin.hello. */
static int
dfp_learn(json_t *ev, void *arg)
{
	struct dfp *d = arg;
	const char *ua = json_string_value(json_object_get(ev, "ua"));
	const char *j3 = json_string_value(json_object_get(ev, "ja3"));
	const char *j4 = json_string_value(json_object_get(ev, "ja4"));
	const char *js = json_string_value(json_object_get(ev, "ja3_str"));
	json_t *u;
	char g = fpgrade_ja3(js), gs[2] = { g, '\0' };
	const char *old;

	if (j3 == NULL && j4 == NULL)
		return 0;
	d->base_hellos++;
	if (j3 != NULL)
		json_object_set_new(d->ja3, j3, json_true());
	if (j4 != NULL)
		json_object_set_new(d->ja4, j4, json_true());
	if (ua == NULL)
		return 0;
	if ((u = json_object_get(d->ua, ua)) == NULL)
		json_object_set_new(d->ua, ua, u = json_pack("{s:{}, s:{}}", "ja3", "ja4"));
	if (j3 != NULL)
		json_object_set_new(json_object_get(u, "ja3"), j3, json_true());
	if (j4 != NULL)
		json_object_set_new(json_object_get(u, "ja4"), j4, json_true());
	old = json_string_value(json_object_get(u, "grade"));
	if (g != 0 && (old == NULL || fpgrade_worse(g, old[0])))
		json_object_set_new(u, "grade", json_string(gs));
	return 0;
}

/* "IP:PORT" of an {ip, port} object into out. */
static void
dfp_addr(const json_t *o, char *out, size_t len)
{
	snprintf(out, len, "%s:%lld", json_string_value(json_object_get(o, "ip")) != NULL ?
	    json_string_value(json_object_get(o, "ip")) : "?",
	    (long long)json_integer_value(json_object_get(o, "port")));
}

/* What the join and the verdict need of an origin.hello: its ids, fingerprints, the address
 * it reached ("addr") and its cipher grade ("grade": a character code, 0 for none). */
static json_t *
dfp_hello(const json_t *ev)
{
	char local[96];

	dfp_addr(json_object_get(ev, "local"), local, sizeof(local));
	return json_pack("{s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:s, s:i}", "flow",
	    json_object_get(ev, "flow"), "sni", json_object_get(ev, "sni"), "ts",
	    json_object_get(ev, "ts"), "ua", json_object_get(ev, "ua"), "ja3",
	    json_object_get(ev, "ja3"), "ja4", json_object_get(ev, "ja4"), "rnd",
	    json_object_get(ev, "client_random"), "addr", local, "grade",
	    (int)fpgrade_ja3(json_string_value(json_object_get(ev, "ja3_str"))));
}

/* Keep a client.result as a ref; 0, or -1 when out of memory. */
static int
dfp_ref_add(struct dfp *d, const json_t *cr)
{
	const json_t *tt = json_object_get(cr, "t_total_us");
	const json_t *fbt = json_object_get(cr, "t_first_byte_us");
	const char *sni = json_string_value(json_object_get(cr, "sni"));
	const char *ua = json_string_value(json_object_get(cr, "ua"));
	const char *outcome = json_string_value(json_object_get(cr, "outcome"));
	const char *rnd = json_string_value(json_object_get(cr, "client_random"));
	struct dfp_ref *x;
	char addr[96];

	if (d->nrefs == d->caprefs) {
		size_t cap = d->caprefs > 0 ? d->caprefs * 2 : 256;
		if ((x = realloc(d->refs, cap * sizeof(*x))) == NULL)
			return -1;
		d->refs = x;
		d->caprefs = cap;
	}
	x = &d->refs[d->nrefs];
	memset(x, 0, sizeof(*x));
	dfp_addr(json_object_get(cr, "server"), addr, sizeof(addr));
	x->addr = strdup(addr);
	x->sni = sni != NULL ? strdup(sni) : NULL;
	x->flow = strdup(json_string_value(json_object_get(cr, "flow")));
	x->ua = ua != NULL ? strdup(ua) : NULL;
	if (rnd != NULL && strlen(rnd) != 64)
		rnd = NULL;	/* not a random: no exact join */
	x->rnd = rnd != NULL ? strdup(rnd) : NULL;
	/* not pin-mismatch: a wrapped s_client checks pins after its request went out */
	x->tls_failed = outcome != NULL && (strcmp(outcome, "cert-untrusted") == 0 ||
	    strcmp(outcome, "hostname-mismatch") == 0 || strcmp(outcome, "blocked-root") == 0 ||
	    strcmp(outcome, "handshake-failure") == 0);
	x->completed = outcome != NULL && (strcmp(outcome, "ok") == 0 ||
	    strcmp(outcome, "http-error") == 0 || strcmp(outcome, "redirect") == 0);
	if (x->addr == NULL || (sni != NULL && x->sni == NULL) || x->flow == NULL ||
	    (ua != NULL && x->ua == NULL) || (rnd != NULL && x->rnd == NULL)) {
		free(x->addr);
		free(x->sni);
		free(x->flow);
		free(x->ua);
		free(x->rnd);
		return -1;
	}
	x->end = json_integer_value(json_object_get(cr, "ts"));
	x->start = x->end - (json_is_integer(tt) ? json_integer_value(tt) * 1000 :
	    DFP_UNTIMED_NS);
	x->fb = x->end;
	if (json_is_integer(tt) && json_is_integer(fbt) && json_integer_value(fbt) >= 0 &&
	    json_integer_value(fbt) <= json_integer_value(tt))
		x->fb = x->start + json_integer_value(fbt) * 1000;
	x->r = d->nrefs++;
	return 0;
}

/* Keep what the join and the verdicts need of origin.hello and client.result events: a run's
 * events would otherwise stay in memory whole (~11 KB a flow with the client's chain). Only
 * count them without a baseline: there is nothing to judge them by. */
static int
dfp_event(struct analyzer *a, const char *topic, const char *src, json_t *ev, void *arg)
{
	struct dfp *d = arg;

	(void)a;
	(void)src;
	if (json_string_value(json_object_get(ev, "flow")) == NULL ||
	    json_is_false(json_object_get(ev, "tls")))	/* plain HTTP: no ClientHello to judge */
		return 0;
	if (strcmp(topic, "origin.hello") == 0) {
		d->n_hellos++;
		if (d->base_hellos > 0)
			json_array_append_new(d->hellos, dfp_hello(ev));
	} else if (strcmp(topic, "client.result") == 0) {
		json_t *tt = json_object_get(ev, "t_total_us");
		if (json_is_integer(tt) && (json_integer_value(tt) < 0 ||
		    json_integer_value(tt) > DFP_US_MAX))
			d->ignored++;	/* its start would overflow: no basis for a mapping */
		else if (d->base_hellos > 0 && dfp_ref_add(d, ev) == -1)
			return -1;
	}
	return 0;
}

struct dfp_pair {
	size_t	 h, r;		/* hello index, client.result index */
	int64_t	 cost;		/* ns between the hello and the client's first byte or end
				 * (dfp_candidates); -1: same 4-tuple; -2: same random */
};

static int
dfp_pair_cmp(const void *a, const void *b)
{
	const struct dfp_pair *x = a, *y = b;

	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->r < y->r ? -1 : (x->r > y->r);
}

/* Order of the index: server address, SNI (none first), end, index. */
static int
dfp_ref_cmp(const void *a, const void *b)
{
	const struct dfp_ref *x = a, *y = b;
	int c;

	if ((c = strcmp(x->addr, y->addr)) != 0)
		return c;
	if ((x->sni == NULL) != (y->sni == NULL))
		return x->sni == NULL ? -1 : 1;
	if (x->sni != NULL && (c = strcmp(x->sni, y->sni)) != 0)
		return c;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->r < y->r ? -1 : (x->r > y->r);
}

/* An exact-key index of the client results (by flow id, or by ClientHello random): entries
 * sorted by key, then by the results' order. */
struct dfp_exact {
	const char		*key;
	const struct dfp_ref	*ref;
};
struct dfp_idx {
	struct dfp_exact	*v;
	size_t			 n;
};

static int
dfp_exact_cmp(const void *a, const void *b)
{
	const struct dfp_exact *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : x->ref->r < y->ref->r ? -1 : (x->ref->r > y->ref->r);
}

/* |a - b| in ns. */
static int64_t
dfp_dist(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

/* Does x carry this ClientHello random (NULL: none)? */
static int
dfp_same_rnd(const struct dfp_ref *x, const char *rnd)
{
	return rnd != NULL && x->rnd != NULL && strcmp(x->rnd, rnd) == 0;
}

/* Same server address and SNI? */
static int
dfp_ref_group(const struct dfp_ref *x, const char *addr, const char *sni)
{
	return strcmp(x->addr, addr) == 0 && (x->sni == NULL) == (sni == NULL) &&
	    (sni == NULL || strcmp(x->sni, sni) == 0);
}

/* A ref against a hello's place in the index order: its server address, SNI and ts. */
static int
dfp_key_cmp(const struct dfp_ref *x, const char *addr, const char *sni, int64_t ts)
{
	int c;

	if ((c = strcmp(x->addr, addr)) != 0)
		return c;
	if ((x->sni == NULL) != (sni == NULL))
		return x->sni == NULL ? -1 : 1;
	if (sni != NULL && (c = strcmp(x->sni, sni)) != 0)
		return c;
	return x->end < ts ? -1 : (x->end > ts);
}

/* Keep c among the DFP_CANDIDATES cheapest of best[0..*nb), sorted (insertion). */
static void
dfp_keep(struct dfp_pair *best, size_t *nb, const struct dfp_pair *c)
{
	size_t k;

	if (*nb == DFP_CANDIDATES && dfp_pair_cmp(c, &best[*nb - 1]) >= 0)
		return;
	for (k = *nb < DFP_CANDIDATES ? (*nb)++ : *nb - 1; k > 0 &&
	    dfp_pair_cmp(c, &best[k - 1]) < 0; k--)
		best[k] = best[k - 1];
	best[k] = *c;
}

/* Sort the client results by dfp_ref_cmp (noting each group's longest duration and longest
 * end - first byte) and index them by flow id and, those with one, by random; -1 when out of
 * memory (the caller frees both indexes either way). */
static int
dfp_index(struct dfp *d, struct dfp_idx *byflow, struct dfp_idx *byrnd)
{
	struct dfp_ref *ref = d->refs;
	size_t nr = d->nrefs, i, j;

	byflow->v = calloc(nr + 1, sizeof(*byflow->v));
	byrnd->v = calloc(nr + 1, sizeof(*byrnd->v));
	if (byflow->v == NULL || byrnd->v == NULL)
		return -1;
	if (nr > 1)
		qsort(ref, nr, sizeof(*ref), dfp_ref_cmp);
	for (i = 0; i < nr; i = j) {	/* per group: the longest duration and tail */
		int64_t g = 0, gt = 0;
		for (j = i; j < nr && dfp_ref_group(&ref[j], ref[i].addr, ref[i].sni); j++) {
			if (ref[j].end - ref[j].start > g)
				g = ref[j].end - ref[j].start;
			if (ref[j].end - ref[j].fb > gt)
				gt = ref[j].end - ref[j].fb;
		}
		for (j = i; j < nr && dfp_ref_group(&ref[j], ref[i].addr, ref[i].sni); j++) {
			ref[j].gdur = g;
			ref[j].gtail = gt;
		}
	}
	for (i = 0; i < nr; i++) {
		byflow->v[byflow->n++] = (struct dfp_exact){ ref[i].flow, &ref[i] };
		if (ref[i].rnd != NULL)
			byrnd->v[byrnd->n++] = (struct dfp_exact){ ref[i].rnd, &ref[i] };
	}
	qsort(byflow->v, byflow->n, sizeof(*byflow->v), dfp_exact_cmp);
	qsort(byrnd->v, byrnd->n, sizeof(*byrnd->v), dfp_exact_cmp);
	return 0;
}

/* Whether a client flow can be the one a hello served, by what both ends say of the request:
 * the origin sees the client's User-Agent unchanged (KZ-FACTS: no header is modified), so a
 * hello with a UA (a request came) is not a flow whose client sent another UA or whose TLS
 * failed before any request; and a hello without one is not a flow whose client sent a known
 * UA and got an answer. */
static int
dfp_same_ua(const struct dfp_ref *x, const char *ua)
{
	if (ua != NULL)
		return !x->tls_failed && (x->ua == NULL || strcmp(x->ua, ua) == 0);
	return !(x->ua != NULL && x->completed);
}

/* Pairs of hello c->h with every result whose key in ix is key (none for a NULL key), at
 * cost, into best (dfp_keep) — except those with the ClientHello random skip, already paired
 * by it (one pair per hello and result). */
static void
dfp_exact_add(const struct dfp_idx *ix, const char *key, int64_t cost, const char *skip,
    struct dfp_pair *c, struct dfp_pair *best, size_t *nb)
{
	size_t lo = 0, up = ix->n, mid;

	if (key == NULL)
		return;
	while (lo < up) {	/* the first entry with this key */
		mid = lo + (up - lo) / 2;
		if (strcmp(ix->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			up = mid;
	}
	for (; lo < ix->n && strcmp(ix->v[lo].key, key) == 0; lo++) {
		if (dfp_same_rnd(ix->v[lo].ref, skip))
			continue;
		c->r = ix->v[lo].ref->r;
		c->cost = cost;
		dfp_keep(best, nb, c);
	}
}

/*
 * One hello's DFP_CANDIDATES cheapest pairs into best (returns how many): the client results
 * with its ClientHello.random (cost -2), those with its own flow id (cost -1), then those of
 * its server address and SNI, walked outwards from its ts in the index (cost |fb - ts| for a
 * hello with a UA, |end - ts| for one without; the walk stops on a side once a lower bound of
 * the cost there, rising outwards, exceeds the worst pair kept); results that end after ts
 * are admissible only when they started by ts, which none ending more than the group's
 * longest duration after ts can have.
 */
static size_t
dfp_candidates(const struct dfp_ref *ref, size_t nr, const struct dfp_idx *byflow,
    const struct dfp_idx *byrnd, const json_t *h, size_t hi, struct dfp_pair *best)
{
	const char *flow = json_string_value(json_object_get(h, "flow"));
	const char *rnd = json_string_value(json_object_get(h, "rnd"));
	const char *sni = json_string_value(json_object_get(h, "sni"));
	const char *local = json_string_value(json_object_get(h, "addr"));
	const char *ua = json_string_value(json_object_get(h, "ua"));
	int64_t ts = json_integer_value(json_object_get(h, "ts")), lc, rc, rb;
	size_t nb = 0, lo, up, mid, l, r;
	const struct dfp_ref *x;
	struct dfp_pair c;
	int lok, rok;

	c.h = hi;
	dfp_exact_add(byrnd, rnd, -2, NULL, &c, best, &nb);
	dfp_exact_add(byflow, flow, -1, rnd, &c, best, &nb);
	for (lo = 0, up = nr; lo < up; ) {	/* first of the group ending after ts */
		mid = lo + (up - lo) / 2;
		if (dfp_key_cmp(&ref[mid], local, sni, ts) <= 0)
			lo = mid + 1;
		else
			up = mid;
	}
	for (l = r = lo; ; ) {
		/* Lower bounds of the cost on each side, rising outwards: lc, as fb <= end <= ts
		 * on the left; on the right rc, or for a hello with a UA rc less the group's
		 * longest tail (fb >= end - gtail). */
		lok = l > 0 && dfp_ref_group(&ref[l - 1], local, sni);
		rok = r < nr && dfp_ref_group(&ref[r], local, sni);
		lc = lok ? ts - ref[l - 1].end : 0;
		rc = rok ? ref[r].end - ts : 0;
		rb = rok && ua != NULL ? (rc > ref[r].gtail ? rc - ref[r].gtail : 0) : rc;
		if (lok && nb == DFP_CANDIDATES && lc > best[nb - 1].cost)
			lok = 0;
		if (rok && ((nb == DFP_CANDIDATES && rb > best[nb - 1].cost) || rc > ref[r].gdur))
			rok = 0;
		if (!lok && !rok)
			break;
		x = lok && (!rok || lc <= rb) ? &ref[--l] : &ref[r++];
		if (x->start > ts || strcmp(x->flow, flow) == 0 || dfp_same_rnd(x, rnd) ||
		    !dfp_same_ua(x, ua))
			continue;	/* inadmissible, or paired above */
		c.r = x->r;
		/* a hello with a UA was published when the request came: against the flow's
		 * first response byte; one without when the connection ended: against its end */
		c.cost = ua != NULL ? dfp_dist(x->fb, ts) : dfp_dist(x->end, ts);
		dfp_keep(best, &nb, &c);
	}
	return nb;
}

/*
 * Map origin hellos to client flows (see the header comment): every admissible pair (same
 * 4-tuple; or same server address and SNI, the client flow started before the hello) costs
 * the distance in time between the hello and the client flow's first response byte (a hello
 * with a UA) or end (one without); pairs are taken cheapest first,
 * each hello and each client flow at most once. A global order, unlike taking the hellos one
 * by one, cannot let an early hello take the flow a later one fits better and leave that
 * later hello's own flow unmapped. Each hello keeps only its DFP_CANDIDATES cheapest pairs, so
 * memory grows with the hellos, not with hellos x flows; they are found in an index of the
 * client results by server address, SNI and end (dfp_candidates), so the time is about
 * (hellos + flows) x log(flows), not hellos x flows. Returns the client flow per hello (NULL:
 * unmapped) in a new array of json_array_size(d->hellos) entries, or NULL when out of memory.
 */
static const char **
dfp_map_all(struct dfp *d)
{
	size_t nh = json_array_size(d->hellos), nr = d->nrefs, i, np = 0;
	struct dfp_pair *p = calloc(nh * DFP_CANDIDATES + 1, sizeof(*p));
	const char **map = calloc(nh + 1, sizeof(*map));
	const char **rflow = calloc(nr + 1, sizeof(*rflow));
	unsigned char *rused = calloc(nr + 1, 1);
	struct dfp_idx byflow = { NULL, 0 }, byrnd = { NULL, 0 };

	if (p == NULL || map == NULL || rflow == NULL || rused == NULL ||
	    dfp_index(d, &byflow, &byrnd) == -1) {
		free(map);
		map = NULL;
		goto out;
	}
	for (i = 0; i < nr; i++)
		rflow[d->refs[i].r] = d->refs[i].flow;
	for (i = 0; i < nh; i++)
		np += dfp_candidates(d->refs, nr, &byflow, &byrnd, json_array_get(d->hellos, i), i,
		    &p[np]);
	if (np > 1)
		qsort(p, np, sizeof(*p), dfp_pair_cmp);
	for (i = 0; i < np; i++) {
		if (map[p[i].h] != NULL || rused[p[i].r])
			continue;
		rused[p[i].r] = 1;
		map[p[i].h] = rflow[p[i].r];
	}
out:
	free(byflow.v);
	free(byrnd.v);
	free(p);
	free(rflow);
	free(rused);
	return map;
}

/* Count a signal. */
static void
dfp_count(struct dfp *d, json_t *sig, const char *name, json_t *detail)
{
	json_object_set_new(sig, name, detail != NULL ? detail : json_true());
	json_object_set_new(d->counts, name, json_integer(json_integer_value(
	    json_object_get(d->counts, name)) + 1));
}

/* Judge one hello into sig; returns non-zero when intercepted. */
static int
dfp_judge(struct dfp *d, const json_t *h, json_t *sig, char *grade)
{
	const char *ua = json_string_value(json_object_get(h, "ua"));
	const char *j3 = json_string_value(json_object_get(h, "ja3"));
	const char *j4 = json_string_value(json_object_get(h, "ja4"));
	json_t *u = ua != NULL ? json_object_get(d->ua, ua) : NULL;
	const char *bg;
	int yes = 0;

	*grade = (char)json_integer_value(json_object_get(h, "grade"));
	if (u != NULL) {
		if ((j3 == NULL || json_object_get(json_object_get(u, "ja3"), j3) == NULL) &&
		    (j4 == NULL || json_object_get(json_object_get(u, "ja4"), j4) == NULL)) {
			dfp_count(d, sig, "ua-hello-mismatch", json_pack("{s:s, s:s*, s:s*, s:O}",
			    "ua_family", fpgrade_ua_family(ua), "ja3", j3, "ja4", j4,
			    "baseline_ja4", json_object_get(u, "ja4")));
			yes = 1;
		}
		bg = json_string_value(json_object_get(u, "grade"));
		if (bg != NULL && fpgrade_worse(*grade, bg[0]))
			dfp_count(d, sig, "grade-below-baseline", json_pack("{s:s}", "baseline", bg));
	} else if ((j3 == NULL || json_object_get(d->ja3, j3) == NULL) &&
	    (j4 == NULL || json_object_get(d->ja4, j4) == NULL)) {
		dfp_count(d, sig, "fingerprint-unknown", json_pack("{s:s*, s:s*, s:b}", "ja3", j3,
		    "ja4", j4, "ua_known", ua != NULL));
		yes = 1;
	}
	if (*grade == 'F') {
		dfp_count(d, sig, "grade-f", NULL);
		yes = 1;
	}
	return yes;
}

/* Map, judge and publish (without a baseline, nothing was learned: no basis for a verdict,
 * and no hello was kept to map). */
static int
dfp_end(struct analyzer *a, json_t *result, int complete, void *arg)
{
	struct dfp *d = arg;
	json_t *h, *grades = json_object();
	const char **map = dfp_map_all(d);
	size_t i;

	(void)complete;
	if (map == NULL) {
		json_decref(grades);
		return -1;
	}
	json_array_foreach(d->hellos, i, h) {
		json_t *sig = json_object();
		const char *cf = map[i];
		const char *flow = cf != NULL ? cf : json_string_value(json_object_get(h, "flow"));
		char grade, gs[2];
		int yes;

		if (cf != NULL)
			d->mapped++;
		yes = dfp_judge(d, h, sig, &grade);
		gs[0] = grade != 0 ? grade : '?';
		gs[1] = '\0';
		json_object_set_new(grades, gs, json_integer(json_integer_value(
		    json_object_get(grades, gs)) + 1));
		d->flagged += yes;
		analyzer_verdict_at(a, flow, yes, yes ? 0.9 : 0.6, yes ?
		    json_object_iter_key(json_object_iter(sig)) : "hello-matches-baseline",
		    json_pack("{s:o, s:s, s:O*, s:O*, s:O*, s:O*, s:s*}", "signals", sig, "grade", gs,
		    "ja3", json_object_get(h, "ja3"), "ja4", json_object_get(h, "ja4"), "ua",
		    json_object_get(h, "ua"), "sni", json_object_get(h, "sni"), "origin_flow",
		    cf != NULL ? json_string_value(json_object_get(h, "flow")) : NULL),
		    (int64_t)json_integer_value(json_object_get(h, "ts")));
	}
	json_object_set_new(result, "summary", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:O, "
	    "s:o, s:I}", "hellos", (json_int_t)d->n_hellos, "mapped",
	    (json_int_t)d->mapped, "flagged", (json_int_t)d->flagged, "baseline_hellos",
	    (json_int_t)d->base_hellos, "baseline_uas", (json_int_t)json_object_size(d->ua),
	    "baseline_ja4", (json_int_t)json_object_size(d->ja4), "signals", d->counts,
	    "grades", grades, "ignored_events", (json_int_t)d->ignored));
	if (d->base_hellos == 0)
		json_object_set_new(result, "warning", json_string("no baseline fingerprints "
		    "(give --baseline DIR); no verdicts"));
	free(map);
	return 0;
}

/* Entry point. */
int
main(int argc, char **argv)
{
	struct dfp d;
	static const char *const topics[] = { "origin.hello", "client.result", NULL };
	struct analyzer_def def = { "detect-fingerprint", ANALYZER_ORIGIN | ANALYZER_CLIENT,
	    dfp_event, dfp_end, &d, topics };
	size_t i;
	int rc;

	memset(&d, 0, sizeof(d));
	d.ua = json_object();
	d.ja3 = json_object();
	d.ja4 = json_object();
	d.hellos = json_array();
	d.counts = json_object();
	anrun_baseline(argc, argv, "origin.hello", dfp_learn, &d, "detect-fingerprint");
	rc = analyzer_main(&def, argc, argv);
	json_decref(d.ua);
	json_decref(d.ja3);
	json_decref(d.ja4);
	json_decref(d.hellos);
	for (i = 0; i < d.nrefs; i++) {
		free(d.refs[i].addr);
		free(d.refs[i].sni);
		free(d.refs[i].ua);
		free(d.refs[i].flow);
		free(d.refs[i].rnd);
	}
	free(d.refs);
	json_decref(d.counts);
	return rc;
}
