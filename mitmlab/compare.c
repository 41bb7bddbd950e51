/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compare — detector comparison (compare.h): replay (replay.c) per run, read the result files,
 * score (score.c), and format the table, compare.json and compare.csv.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "amanifest.h"
#include "compare.h"
#include "replay.h"
#include "score.h"
#include "util.h"

#define COMPARE_MAX 64

/* The scenario name of a run: lab.run.start's "scenario" (the first one found). */
static void
compare_scenario(const char *run, char *out, size_t len)
{
	char path[PATH_MAX + 32], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(out, len, "unknown");
	snprintf(path, sizeof(path), "%.4000s/events.jsonl", run);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (getline(&line, &cap, f) != -1) {
		json_t *ev;
		const char *s;
		if (strstr(line, "\"lab.run.start\"") == NULL)
			continue;
		if ((ev = json_loads(line, 0, NULL)) != NULL &&
		    (s = json_string_value(json_object_get(ev, "scenario"))) != NULL) {
			snprintf(out, len, "%s", s);
			json_decref(ev);
			break;
		}
		json_decref(ev);
	}
	free(line);
	fclose(f);
}

/* Base name of a path without trailing slashes. */
static void
compare_base(const char *path, char *out, size_t len)
{
	char tmp[PATH_MAX];
	size_t n;
	const char *b;

	snprintf(tmp, sizeof(tmp), "%s", path);
	n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';
	b = strrchr(tmp, '/');
	b = b != NULL ? b + 1 : tmp;
	/* "." and ".." would name the results directory itself or its parent */
	if ((strcmp(b, ".") == 0 || strcmp(b, "..") == 0 || *b == '\0') &&
	    realpath(path, tmp) != NULL && (b = strrchr(tmp, '/')) != NULL)
		b++;
	snprintf(out, len, "%s", b == NULL || *b == '\0' || strcmp(b, "..") == 0 ||
	    strcmp(b, ".") == 0 ? "run" : b);
}

/* Make bn unique among the runs already compared (two run directories of one name in
 * different places, /a/run and /b/run, get results/run and results/run-2). */
static void
compare_unique(const json_t *runs, char *bn, size_t len)
{
	char base[PATH_MAX];
	const json_t *r;
	size_t i;
	int k = 1, taken;

	snprintf(base, sizeof(base), "%s", bn);
	do {
		taken = 0;
		json_array_foreach(runs, i, r)
			taken |= strcmp(json_string_value(json_object_get(r, "run")), bn) == 0;
		if (taken)
			snprintf(bn, len, "%.*s-%d", (int)(len - 12), base, ++k);
	} while (taken && k < 100000);
}

/* One CSV field: quoted (RFC 4180) when it holds a comma, a quote or a line break. */
static void
compare_csv_field(FILE *f, const char *v, int last)
{
	if (v == NULL)
		v = "";
	if (strpbrk(v, ",\"\r\n") == NULL)
		fputs(v, f);
	else {
		fputc('"', f);
		for (; *v != '\0'; v++) {
			if (*v == '"')
				fputc('"', f);
			fputc(*v, f);
		}
		fputc('"', f);
	}
	fputc(last ? '\n' : ',', f);
}

/* A results file. */
static json_t *
compare_load(const char *dir, const char *name, char **cause)
{
	char path[PATH_MAX + 64];
	json_error_t err;
	json_t *r;

	snprintf(path, sizeof(path), "%.4000s/%s.json", dir, name);
	if ((r = json_load_file(path, 0, &err)) == NULL)
		util_cause(cause, "%s: %s", path, err.text);
	return r;
}

/* "%.3f" or "-". */
static const char *
compare_fmt(char *buf, size_t len, const json_t *v, const char *fmt)
{
	if (!json_is_number(v))
		return "-";
	snprintf(buf, len, fmt, json_number_value(v));
	return buf;
}

/* One table line and one CSV line (the CSV leaves undefined ratios empty instead of "-"). */
static void
compare_emit(const json_t *row, FILE *csv, int quiet)
{
	static const char *const rk[] = { "precision", "recall", "f1", "fpr", "ttd_ms" };
	static const char *const ik[] = { "flows", "positives", "tp", "fp", "tn", "fn",
	    "unmatched" };
	char b[5][32];
	const char *s[5], *c[5];
	long long v[7];
	size_t i;
	int trained = json_is_true(json_object_get(row, "trained_on_run"));

	for (i = 0; i < 5; i++) {
		s[i] = compare_fmt(b[i], sizeof(b[i]), json_object_get(row, rk[i]),
		    i == 4 ? "%.1f" : "%.3f");
		c[i] = s[i] == b[i] ? s[i] : "";
	}
	for (i = 0; i < 7; i++)
		v[i] = (long long)json_integer_value(json_object_get(row, ik[i]));
	if (!quiet)
		printf("%-16s %-16s %6lld %5lld %5lld %5lld %5lld %5lld %6s %6s %6s %6s %9s  %s%s\n",
		    json_string_value(json_object_get(row, "detector")),
		    json_string_value(json_object_get(row, "scenario")),
		    v[0], v[1], v[2], v[3], v[4], v[5], s[0], s[1], s[2], s[3], s[4],
		    json_string_value(json_object_get(row, "status")),
		    trained ? " (learned from this run)" : "");
	compare_csv_field(csv, json_string_value(json_object_get(row, "detector")), 0);
	compare_csv_field(csv, json_string_value(json_object_get(row, "run")), 0);
	compare_csv_field(csv, json_string_value(json_object_get(row, "scenario")), 0);
	compare_csv_field(csv, json_string_value(json_object_get(row, "status")), 0);
	fprintf(csv, "%lld,%lld,%lld,%lld,%lld,%lld,%lld,%s,%s,%s,%s,%s,%d\n",
	    v[0], v[1], v[2], v[3], v[4], v[5], v[6], c[0], c[1], c[2], c[3], c[4], trained);
}

/* Whether run is the baseline run (the same directory, however named). */
static int
compare_is_baseline(const struct compare_opts *o, const char *run)
{
	return o->baseline != NULL && util_same_path(run, o->baseline);
}

/* Whether the detector learns from {baseline} (its manifest names it); 0 when unreadable. */
static int
compare_learns(const char *det)
{
	struct amanifest m;
	int learns = 0;

	memset(&m, 0, sizeof(m));
	if (amanifest_load(det, &m, NULL) == 0)
		learns = amanifest_learns(&m);
	amanifest_free(&m);
	return learns;
}

/* Score every detector on one run; rows appended; baseline counts accumulated. A detector
 * that learns from the baseline and is scored on that same run is marked trained_on_run, and
 * that row is left out of its baseline false-positive rate: it was measured on the detector's
 * own training data. */
static int
compare_one(const struct compare_opts *o, const char *const *dets, size_t ndet,
    const char *run, json_t *runs, json_t *rows, json_t *base, char **cause)
{
	const char *names[COMPARE_MAX + 1];
	char scen[128], bn[PATH_MAX], dir[PATH_MAX * 2], abs[PATH_MAX];
	struct replay_opts ro;
	json_t *truth, *tv, *empty;
	struct score s;
	size_t i;
	int rc = -1, is_base = compare_is_baseline(o, run), trained;

	compare_scenario(run, scen, sizeof(scen));
	compare_base(run, bn, sizeof(bn));
	compare_unique(runs, bn, sizeof(bn));
	snprintf(dir, sizeof(dir), "%.4000s/results/%s", o->out_dir, bn);
	names[0] = "truth";
	for (i = 0; i < ndet; i++)
		names[i + 1] = dets[i];
	memset(&ro, 0, sizeof(ro));
	ro.run_dir = run;
	ro.names = names;
	ro.n = ndet + 1;
	ro.out_dir = dir;
	ro.baseline = o->baseline;
	if (!o->quiet)
		fprintf(stderr, "compare: replaying %s (%s) to %zu analyzer(s)\n", run, scen, ro.n);
	if (util_mkdirs(dir, 0755, cause) == -1 || replay_run(&ro, cause) == -1)
		return -1;
	if ((truth = compare_load(dir, "truth", cause)) == NULL)
		return -1;
	empty = json_array();
	tv = json_object_get(truth, "verdicts");
	if (json_is_null(json_object_get(truth, "result"))) {
		util_cause(cause, "%s: the truth analyzer delivered no result (see %s/"
		    "analyzer-truth.log)", run, dir);
		goto out;
	}
	if (json_is_false(json_object_get(json_object_get(truth, "result"), "complete"))) {
		util_cause(cause, "%s: the truth analyzer stopped before the end of the run (a "
		    "partial ground truth would score every detector wrongly); give it longer with "
		    "MITMLAB_HARNESS_WAIT_MS (see %s/analyzer-truth.log)", run, dir);
		goto out;
	}
	if (score_compute(tv, empty, &s, cause) == -1)
		goto out;
	/* the absolute path, so that a report made from another directory finds this run */
	if (realpath(run, abs) == NULL)
		snprintf(abs, sizeof(abs), "%s", run);
	json_array_append_new(runs, json_pack("{s:s, s:s, s:s, s:I, s:I}", "run", bn, "path", abs,
	    "scenario", scen, "flows", (json_int_t)s.flows, "intercepted",
	    (json_int_t)s.positives));
	for (i = 0; i < ndet; i++) {
		json_t *r = compare_load(dir, dets[i], NULL), *row;
		const char *status = json_string_value(json_object_get(json_object_get(r,
		    "delivery"), "status"));
		if (status == NULL)
			status = "missing";
		if (score_compute(tv, r != NULL ? json_object_get(r, "verdicts") : empty, &s,
		    NULL) == -1) {
			score_compute(tv, empty, &s, NULL);	/* the row's figures: none given */
			status = "unscorable";
		}
		trained = is_base && compare_learns(dets[i]);
		row = score_json(&s);
		json_object_set_new(row, "trained_on_run", json_boolean(trained));
		json_object_set_new(row, "detector", json_string(dets[i]));
		json_object_set_new(row, "run", json_string(bn));
		json_object_set_new(row, "scenario", json_string(scen));
		json_object_set_new(row, "status", json_string(status));
		json_array_append_new(rows, row);
		if (strcmp(scen, "baseline") == 0) {
			json_t *b = json_object_get(base, dets[i]);
			if (b == NULL)
				json_object_set_new(base, dets[i], b = json_pack("{s:I, s:I, s:b}",
				    "fp", (json_int_t)0, "negatives", (json_int_t)0, "trained", 0));
			if (trained)
				json_object_set_new(b, "trained", json_true());
			/* only a detector that ran to the end has a false-positive rate; one that
			 * never did keeps 0 negatives, which reads as none (null) */
			if (strcmp(status, "ok") == 0 && !trained) {
				json_object_set_new(b, "fp", json_integer(json_integer_value(
				    json_object_get(b, "fp")) + s.fp));
				json_object_set_new(b, "negatives", json_integer(json_integer_value(
				    json_object_get(b, "negatives")) + s.fp + s.tn));
			}
		}
		json_decref(r);
	}
	rc = 0;
out:
	json_decref(empty);
	json_decref(truth);
	return rc;
}

/* The comparison. */
int
compare_run(const struct compare_opts *o0, char **cause)
{
	struct compare_opts o = *o0;
	char **found = NULL, path[PATH_MAX + 32], *text = NULL, *csvbuf = NULL;
	size_t csvlen = 0;
	const char *const *dets = o.detectors;
	size_t ndet = o.ndet, i;
	int nfound = 0, rc = -1;
	json_t *runs = json_array(), *rows = json_array(), *base = json_object(), *doc = NULL;
	json_t *bfpr = json_object(), *row, *b;
	const char *k;
	FILE *csv = NULL;

	if (o.out_dir == NULL)
		o.out_dir = ".";
	if (o.nruns == 0) {
		util_cause(cause, "no run directory given");
		goto out;
	}
	if (ndet == 0) {
		if ((nfound = amanifest_list(AMANIFEST_DETECTOR, &found, cause)) == -1)
			goto out;
		if (nfound == 0) {
			util_cause(cause, "no detector found (set MITMLAB_ANALYZERS or name one with "
			    "--detector)");
			goto out;
		}
		dets = (const char *const *)found;
		ndet = (size_t)nfound;
	}
	if (ndet > COMPARE_MAX) {
		util_cause(cause, "at most %d detectors", COMPARE_MAX);
		goto out;
	}
	for (i = 0; i < ndet; i++)
		if (strcmp(dets[i], "truth") == 0) {
			util_cause(cause, "\"truth\" is the ground truth, not a detector");
			goto out;
		}
	if (util_mkdirs(o.out_dir, 0755, cause) == -1)
		goto out;
	for (i = 0; i < o.nruns && o.baseline == NULL; i++) {
		char scen[128];
		compare_scenario(o.runs[i], scen, sizeof(scen));
		if (strcmp(scen, "baseline") == 0)
			o.baseline = o.runs[i];
	}
	for (i = 0; i < o.nruns; i++)
		if (compare_one(&o, dets, ndet, o.runs[i], runs, rows, base, cause) == -1)
			goto out;
	json_object_foreach(base, k, b) {
		long fp = (long)json_integer_value(json_object_get(b, "fp"));
		long neg = (long)json_integer_value(json_object_get(b, "negatives"));
		json_object_set_new(bfpr, k, neg > 0 ? json_real((double)fp / (double)neg) :
		    json_null());
	}
	doc = json_pack("{s:i, s:O, s:O, s:O}", "v", 1, "runs", runs, "rows", rows,
	    "baseline_fpr", bfpr);
	/* both files are made whole in memory and written by util_write_file (a temporary name,
	 * then rename): a reader never sees half of one, nor an earlier comparison's beside it */
	snprintf(path, sizeof(path), "%.4000s/compare.json", o.out_dir);
	if (doc == NULL || (text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL) {
		util_cause(cause, "%s: out of memory", path);
		goto out;
	}
	if (util_write_file(path, text, strlen(text), 0644, cause) == -1)
		goto out;
	if ((csv = open_memstream(&csvbuf, &csvlen)) == NULL) {
		util_cause(cause, "compare.csv: %s", strerror(errno));
		goto out;
	}
	fprintf(csv, "detector,run,scenario,status,flows,positives,tp,fp,tn,fn,unmatched,"
	    "precision,recall,f1,fpr,ttd_ms,trained_on_run\n");
	if (!o.quiet)
		printf("%-16s %-16s %6s %5s %5s %5s %5s %5s %6s %6s %6s %6s %9s  %s\n", "detector",
		    "scenario", "flows", "pos", "TP", "FP", "TN", "FN", "prec", "recall", "F1", "FPR",
		    "TTD(ms)", "status");
	json_array_foreach(rows, i, row)
		compare_emit(row, csv, o.quiet);
	if (fclose(csv) != 0) {
		csv = NULL;
		util_cause(cause, "compare.csv: out of memory");
		goto out;
	}
	csv = NULL;
	snprintf(path, sizeof(path), "%.4000s/compare.csv", o.out_dir);
	if (util_write_file(path, csvbuf, csvlen, 0644, cause) == -1)
		goto out;
	if (!o.quiet) {
		json_object_foreach(bfpr, k, b)
			printf("baseline false-positive rate of %s: %s%s\n", k, json_is_number(b) ?
			    (snprintf(path, sizeof(path), "%.4f", json_number_value(b)), path) : "-",
			    !json_is_number(b) && json_is_true(json_object_get(json_object_get(base,
			    k), "trained")) ? " (its only baseline run is the one it learned from: "
			    "give another baseline run as well)" : "");
		printf("wrote %s/compare.json and compare.csv\n", o.out_dir);
	}
	rc = 0;
out:
	if (csv != NULL)
		fclose(csv);
	free(csvbuf);
	free(text);
	for (i = 0; i < (size_t)(nfound > 0 ? nfound : 0); i++)
		free(found[i]);
	free(found);
	json_decref(doc);
	json_decref(runs);
	json_decref(rows);
	json_decref(base);
	json_decref(bfpr);
	return rc;
}
