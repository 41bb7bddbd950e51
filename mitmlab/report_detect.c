/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_detect — the detection section of the report as data. Each analyzer result becomes one
 * row counted from its verdicts (the last verdict per flow id is the analyzer's verdict on that
 * flow, as in `mitmlab compare`), split by what the engine did with the flow (proxy.conn.open:
 * the last action recorded for the flow id), with the signals that fired. That split is not
 * compare's score: compare judges only the flows truth joined to a client.result, so a flow
 * the engine saw but no client reported (a probe, a wrapped tool's retry) counts here and not
 * there, and compare's "unmatched" counts verdicts, not flows;
 * the analyzer's own figures (result.flagged, result.summary.signals) sit beside them. The
 * compare scores are passed through with the rows of this run marked, and the summary's
 * detection sentences are written from these rows only. Loading files is report.c's job and
 * drawing the tables the renderers'.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_detect.h"
#include "report_flows.h"
#include "util.h"

/* String member or NULL. */
static const char *
report_detect_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Integer member (0 when absent). */
static json_int_t
report_detect_int(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* Add 1 to counter obj[key]. */
static void
report_detect_count(json_t *obj, const char *key)
{
	json_object_set_new(obj, key, json_integer(report_detect_int(obj, key) + 1));
}

/* qsort: {"k", "n"} pairs by n descending, then k. */
static int
report_detect_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t nx = report_detect_int(x, "n"), ny = report_detect_int(y, "n");

	if (nx != ny)
		return nx < ny ? 1 : -1;
	return strcmp(report_detect_str(x, "k"), report_detect_str(y, "k"));
}

/* Counters {"k": n} as "k ×n, k2 ×n2" (largest first), or null when there are none. */
static json_t *
report_detect_counts_text(const json_t *counts)
{
	size_t n = json_object_size(counts), i = 0;
	json_t **v, *out;
	const char *k;
	json_t *c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!json_is_object(counts) || n == 0 || (v = calloc(n, sizeof(*v))) == NULL)
		return json_null();
	json_object_foreach((json_t *)(uintptr_t)counts, k, c)
		v[i++] = json_pack("{s:s,s:I}", "k", k, "n", json_integer_value(c));
	qsort(v, n, sizeof(*v), report_detect_cmp);
	if ((f = open_memstream(&buf, &len)) != NULL) {
		for (i = 0; i < n; i++)
			fprintf(f, "%s%s ×%lld", i ? ", " : "", report_detect_str(v[i], "k"),
			    (long long)report_detect_int(v[i], "n"));
		fclose(f);
	}
	for (i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
	out = buf != NULL ? json_string(buf) : json_null();
	free(buf);
	return out ? out : json_null();
}

/* The ground truth of the table: flow ids the engine or a client recorded (known) and those
 * whose last proxy.conn.open says intercept (inter). Returns whether the engine recorded any. */
static int
report_detect_truth(const json_t *by, json_t *known, json_t *inter)
{
	json_t *opens = report_flows_opens(by), *e;
	const char *f, *a;
	size_t i;
	int engine = json_object_size(opens) > 0;

	json_array_foreach(json_object_get(by, "client.result"), i, e) {
		if (report_detect_str(e, "flow") != NULL)
			json_object_set_new(known, report_detect_str(e, "flow"), json_true());
	}
	json_object_foreach(opens, f, e) {
		json_object_set_new(known, f, json_true());
		if ((a = report_detect_str(e, "action")) != NULL && strcmp(a, "intercept") == 0)
			json_object_set_new(inter, f, json_true());
	}
	json_decref(opens);
	return engine;
}

/* One row from an analyzer's document (a results file, or NULL), its verdicts and result. */
static json_t *
report_detect_row(const char *name, const char *file, const char *source, const json_t *doc,
    const json_t *verdicts, const json_t *result, const json_t *known, const json_t *inter)
{
	json_t *last = json_object(), *sig = json_object(), *sigi = json_object(), *row, *v;
	const json_t *as = json_object_get(json_object_get(result, "summary"), "signals");
	const char *f, *status = report_detect_str(json_object_get(doc, "delivery"), "status");
	json_int_t flagged = 0, fi = 0, fni = 0, unk = 0, nv = 0;
	size_t i;

	json_array_foreach(verdicts, i, v) {
		if (report_detect_str(v, "flow") == NULL ||
		    !json_is_boolean(json_object_get(v, "intercepted")))
			continue;	/* the harness drops these too */
		nv++;
		json_object_set(last, report_detect_str(v, "flow"), v);
	}
	json_object_foreach(last, f, v) {
		const char *s = report_detect_str(v, "signal");

		if (!json_is_true(json_object_get(v, "intercepted")))
			continue;
		flagged++;
		report_detect_count(sig, s ? s : "(no signal)");
		if (json_object_get(inter, f) != NULL) {
			fi++;
			report_detect_count(sigi, s ? s : "(no signal)");
		} else if (json_object_get(known, f) != NULL) {
			fni++;
		} else {
			unk++;
		}
	}
	row = json_pack("{s:s,s:s?,s:s,s:O?,s:O?,s:s?,s:O?,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "analyzer", name, "file", file, "source", source,
	    "role", json_object_get(doc, "role"), "kind", json_object_get(doc, "kind"),
	    "status", status ? status : doc == NULL ? "bus only" : NULL,
	    "complete", json_object_get(result, "complete"),
	    "verdicts", nv, "flows_seen", (json_int_t)json_object_size(last),
	    "flagged", flagged, "flagged_intercepted", fi, "flagged_not_intercepted", fni,
	    "flagged_unknown_flow", unk);
	json_object_set_new(row, "signals_text", report_detect_counts_text(sig));
	json_object_set_new(row, "signals", sig);
	json_object_set_new(row, "signals_intercepted", sigi);
	json_object_set_new(row, "analyzer_flagged", json_incref(json_object_get(result,
	    "flagged")) ?: json_null());
	json_object_set_new(row, "analyzer_signals", json_is_object(as) ?
	    json_incref((json_t *)(uintptr_t)as) : json_null());
	json_object_set_new(row, "analyzer_signals_text", report_detect_counts_text(as));
	json_decref(last);
	return row;
}

/* The detection table. */
json_t *
report_detect_table(const json_t *results, const json_t *by)
{
	json_t *known = json_object(), *inter = json_object(), *rows = json_array(), *names, *out;
	const json_t *r, *e;
	size_t i;
	int engine = report_detect_truth(by, known, inter);

	names = json_object();
	json_array_foreach(results, i, r) {
		const char *file = report_detect_str(r, "file");
		const json_t *d = json_object_get(r, "data");
		char stem[256];
		const char *name;

		snprintf(stem, sizeof(stem), "%.*s", file && strlen(file) > 5 ?
		    (int)(strlen(file) - 5) : INT_MAX, file ? file : "?");
		name = report_detect_str(d, "analyzer") ?: stem;
		json_object_set_new(names, name, json_true());
		if (d == NULL) {
			json_array_append_new(rows, json_pack("{s:s,s:s?,s:s,s:s,s:O?}",
			    "analyzer", name, "file", file, "source", "results file",
			    "status", "unreadable", "error", json_object_get(r, "error")));
			continue;
		}
		json_array_append_new(rows, report_detect_row(name, file, "results file", d,
		    json_object_get(d, "verdicts"), json_object_get(d, "result"), known, inter));
	}
	/* analyzers heard on the bus that left no results file (their verdicts are events) */
	json_array_foreach(json_object_get(by, "analysis.result"), i, e) {
		const char *src = report_detect_str(e, "src");
		json_t *vs;
		const json_t *v;
		size_t j;

		if (src == NULL || strncmp(src, "analyzer.", 9) != 0 ||
		    json_object_get(names, src + 9) != NULL)
			continue;
		json_object_set_new(names, src + 9, json_true());
		vs = json_array();
		json_array_foreach(json_object_get(by, "analysis.verdict"), j, v) {
			if (report_detect_str(v, "src") != NULL &&
			    strcmp(report_detect_str(v, "src"), src) == 0)
				json_array_append(vs, (json_t *)(uintptr_t)v);
		}
		json_array_append_new(rows, report_detect_row(src + 9, NULL, "bus", NULL, vs, e,
		    known, inter));
		json_decref(vs);
	}
	out = json_pack("{s:o,s:I,s:b,s:s}", "rows", rows, "intercepted_flows",
	    (json_int_t)json_object_size(inter), "engine", engine, "truth_from", engine ?
	    "the engine's decisions: a flow id whose last proxy.conn.open has action intercept, "
	    "over every flow it saw; compare scores only the flows a client reported" :
	    "no engine event: no flow was intercepted");
	json_decref(names);
	json_decref(known);
	json_decref(inter);
	return out;
}

/* Rows of a compare document, marked this_run when their run's path is run_dir. */
json_t *
report_detect_compare_rows(const json_t *compare, const char *run_dir)
{
	json_t *out = json_array(), *row, *mine = json_object();
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(compare, "runs"), i, r) {
		const char *p = report_detect_str(r, "path"), *n = report_detect_str(r, "run");

		if (p == NULL || n == NULL)
			continue;
		if (util_same_path(p, run_dir))
			json_object_set_new(mine, n, json_true());
	}
	json_array_foreach(json_object_get(compare, "rows"), i, r) {
		if (!json_is_object(r))
			continue;
		row = json_deep_copy(r);
		json_object_set_new(row, "this_run", json_boolean(report_detect_str(r, "run") &&
		    json_object_get(mine, report_detect_str(r, "run")) != NULL));
		json_array_append_new(out, row);
	}
	json_decref(mine);
	return out;
}

/* Is a row a detector's (role detector; or, heard on the bus only, not the ground truth)? */
static int
report_detect_is_detector(const json_t *row)
{
	const char *role = report_detect_str(row, "role"), *n = report_detect_str(row, "analyzer");

	if (role != NULL)
		return strcmp(role, "detector") == 0;
	return report_detect_int(row, "verdicts") > 0 && n != NULL && strcmp(n, "truth") != 0;
}

/* A compare score as text ("0.979", or "n/a" when null). */
static const char *
report_detect_score(const json_t *row, const char *k, char *buf, size_t len)
{
	const json_t *v = json_object_get(row, k);

	if (!json_is_number(v))
		return "n/a";
	snprintf(buf, len, "%.3f", json_number_value(v));
	return buf;
}

/* The detection sentences. */
void
report_detect_summary(json_t *sentences, const json_t *det)
{
	const json_t *tab = json_object_get(det, "table"), *r;
	const json_t *cmp = json_object_get(det, "compare_rows");
	json_int_t ni = report_detect_int(tab, "intercepted_flows");
	char *buf = NULL, p[16], rc[16], f1[16];
	size_t len = 0, i, nd = 0, nc = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return;
	json_array_foreach(json_object_get(tab, "rows"), i, r) {
		json_t *st;
		const char *status = report_detect_str(r, "status");
		json_int_t fni, unk;

		if (!report_detect_is_detector(r))
			continue;
		fputs(nd++ ? "; " : "", f);
		if (report_detect_int(r, "flagged") == 0) {
			fprintf(f, "%s flagged none of the %lld flows it judged",
			    report_detect_str(r, "analyzer"), (long long)report_detect_int(r,
			    "flows_seen"));
		} else if (ni > 0) {
			st = json_object_get(r, "signals_intercepted");
			fprintf(f, "%s flagged %lld of them", report_detect_str(r, "analyzer"),
			    (long long)report_detect_int(r, "flagged_intercepted"));
			if (json_object_size(st) > 0) {
				json_t *t = report_detect_counts_text(st);

				fprintf(f, " (by %s)", json_string_value(t));
				json_decref(t);
			}
		} else {
			fprintf(f, "%s flagged %lld flows", report_detect_str(r, "analyzer"),
			    (long long)report_detect_int(r, "flagged"));
		}
		fni = report_detect_int(r, "flagged_not_intercepted");
		unk = report_detect_int(r, "flagged_unknown_flow");
		if (ni > 0 && fni > 0)
			fprintf(f, ", and %lld flow%s that %s not intercepted", (long long)fni,
			    fni == 1 ? "" : "s", fni == 1 ? "was" : "were");
		else if (ni == 0 && fni > 0)
			fputs(" (none of them was intercepted)", f);
		if (unk > 0)
			fprintf(f, ", and %lld flow id%s that match%s no client or engine flow",
			    (long long)unk, unk == 1 ? "" : "s", unk == 1 ? "es" : "");
		if (status != NULL && strcmp(status, "ok") != 0)
			fprintf(f, " [result status: %s]", status);
	}
	fclose(f);
	if (nd == 0)
		report_sentence(sentences, "Detection: no detector's result is in this run "
		    "(%zu analyzer result(s) of other roles: see the detection table), so nothing "
		    "here says how the interception could be detected.",
		    json_array_size(json_object_get(tab, "rows")));
	else if (ni > 0)
		report_sentence(sentences, "Detection, of the %lld intercepted flows "
		    "(ground truth: the engine's decisions; a detector sees only its vantages): "
		    "%s.", (long long)ni, buf);
	else
		report_sentence(sentences, "Detection: no flow was intercepted in this run; "
		    "%s.", buf);
	free(buf);
	buf = NULL;
	if (json_array_size(cmp) == 0)
		return;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return;
	json_array_foreach(cmp, i, r) {
		if (!json_is_true(json_object_get(r, "this_run")))
			continue;
		fprintf(f, "%s%s precision %s, recall %s, F1 %s (%lld true and %lld false "
		    "positives, %lld missed)", nc++ ? "; " : "", report_detect_str(r, "detector") ?: "?",
		    report_detect_score(r, "precision", p, sizeof(p)),
		    report_detect_score(r, "recall", rc, sizeof(rc)),
		    report_detect_score(r, "f1", f1, sizeof(f1)),
		    (long long)report_detect_int(r, "tp"), (long long)report_detect_int(r, "fp"),
		    (long long)report_detect_int(r, "fn"));
	}
	fclose(f);
	if (nc > 0)
		report_sentence(sentences, "Scored against the ground truth by mitmlab "
		    "compare on this run: %s.", buf);
	else
		report_sentence(sentences, "A detector comparison of %zu row(s) is attached "
		    "(section 5); none of its runs is this run directory.", json_array_size(cmp));
	free(buf);
}
