/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_md — the report model as Markdown (GitHub-flavoured tables). Same sections as the
 * HTML page; charts are replaced by their numbers (timing percentiles), and analyzer results
 * are summed up in the detection table (their raw output stays in results/ and report.json).
 * Table cells have '|' and newlines escaped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

/* Write s escaped for a table cell. */
static void
report_md_cell(FILE *f, const char *s)
{
	for (; s != NULL && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

/* A JSON value as cell text. */
static void
report_md_val(FILE *f, const json_t *v)
{
	char *s;

	if (v == NULL || json_is_null(v))
		fputs("—", f);
	else if (json_is_string(v))
		report_md_cell(f, json_string_value(v));
	else if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		fprintf(f, "%.4g", json_real_value(v));
	else if (json_is_boolean(v))
		fputs(json_is_true(v) ? "yes" : "no", f);
	else if ((s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
		fputc('`', f);
		report_md_cell(f, s);
		fputc('`', f);
		free(s);
	}
}

/* A fenced JSON block. */
static void
report_md_json(FILE *f, const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	fprintf(f, "```json\n%s\n```\n\n", s ? s : "null");
	free(s);
}

/* A key/value table of o's members, one row per entry of rows. */
static void
report_md_rows(FILE *f, const char *head, const json_t *o, const struct report_row *r)
{
	fprintf(f, "| %s | value |\n|---|---|\n", head);
	for (; r->label != NULL; r++) {
		fprintf(f, "| %s | ", r->label);
		report_md_val(f, json_object_get(o, r->key));
		fputs(" |\n", f);
	}
	fputs("\n", f);
}

/* The rest of a table row: one cell per column, then the line end. */
static void
report_md_cells(FILE *f, const json_t *o, const struct report_row *c)
{
	for (; c->label != NULL; c++) {
		fputc(' ', f);
		report_md_val(f, json_object_get(o, c->key));
		fputs(" |", f);
	}
	fputs("\n", f);
}

/* A header row after lead ("|" or "|  |"): the column labels and the separator line. */
static void
report_md_head(FILE *f, const char *lead, const struct report_row *c)
{
	const struct report_row *h;
	const char *p;

	fputs(lead, f);
	for (h = c; h->label != NULL; h++)
		fprintf(f, " %s |", h->label);
	fputs("\n|", f);
	for (p = lead + 1; *p != '\0'; p++)
		if (*p == '|')
			fputs("---|", f);
	for (h = c; h->label != NULL; h++)
		fputs("---|", f);
	fputs("\n", f);
}

/* An array of objects as a table with columns c. */
static void
report_md_table(FILE *f, const json_t *a, const struct report_row *c)
{
	const json_t *o;
	size_t i;

	report_md_head(f, "|", c);
	json_array_foreach(a, i, o) {
		fputc('|', f);
		report_md_cells(f, o, c);
	}
	fputs("\n", f);
}

/* Section 2. */
static void
report_md_national(FILE *f, const json_t *m)
{
	const json_t *c;
	size_t i;

	fputs("## 2. National root and intermediates\n\n", f);
	const json_t *nat = json_object_get(m, "national_ca"), *bl;

	json_array_foreach(json_object_get(nat, "certs"), i, c) {
		fprintf(f, "### %s: %s\n\n", c == report_national_root(nat) ? "Root" : "Intermediate",
		    json_string_value(json_object_get(c, "subject")) ?: "?");
		report_md_rows(f, "field", c, report_rows_cert);
		fputs("Mozilla OneCRL entries:\n\n", f);
		report_md_json(f, json_object_get(c, "onecrl"));
		fprintf(f, "```\n%s```\n\n", json_string_value(json_object_get(c, "pem")) ?: "");
	}
	if (json_array_size(bl = json_object_get(nat, "lab_blocklist_spki")) > 0) {
		fputs("The lab's block list (pki/blocklist.txt), SPKI SHA-256:\n\n", f);
		json_array_foreach(bl, i, c)
			fprintf(f, "- `%s`\n", json_string_value(c) ?: "?");
		fputs("\n", f);
	}
}

/* Section 3. */
static void
report_md_forged(FILE *f, const json_t *m)
{
	const json_t *fg = json_object_get(m, "forged"), *s, *r;
	size_t i, j;

	fputs("## 3. Forged certificates\n\n", f);
	if (json_array_size(json_object_get(fg, "samples")) == 0) {
		fputs("No forged certificate was recorded.\n\n", f);
		return;
	}
	fprintf(f, "%lld forged-certificate events, %lld distinct forged leaves.\n\n",
	    (long long)json_integer_value(json_object_get(fg, "count")),
	    (long long)json_integer_value(json_object_get(fg, "distinct")));
	json_array_foreach(json_object_get(fg, "samples"), i, s) {
		fputs("### SNI ", f);
		report_md_val(f, json_object_get(s, "sni"));
		fputs(" → ", f);
		report_md_val(f, json_object_get(s, "server"));
		fputs("\n\n", f);
		report_md_head(f, "|  |", report_cols_diff);
		json_array_foreach(json_object_get(s, "diff"), j, r) {
			fprintf(f, "| %s |", json_is_true(json_object_get(r, "differs")) ? "≠" : "");
			report_md_cells(f, r, report_cols_diff);
		}
		fputs("\n", f);
	}
}

/* Section 4. */
static void
report_md_hosts(FILE *f, const json_t *m)
{
	const json_t *fp = json_object_get(m, "fingerprints");
	const json_t *h = json_object_get(m, "hosts");
	const struct report_row *g;

	fputs("## 4. Targeted and untargeted hosts\n\n", f);
	report_md_rows(f, "setting", h, report_rows_hosts);
	report_md_table(f, json_object_get(h, "observed"), report_cols_observed);
	fputs("Trigger conditions observed:\n\n", f);
	report_md_json(f, json_object_get(h, "triggers"));
	for (g = report_rows_fp_groups; g->label != NULL; g++) {
		fprintf(f, "**%s**\n\n", g->label);
		if (json_array_size(json_object_get(fp, g->key)) == 0)
			fputs("none recorded\n\n", f);
		else
			report_md_table(f, json_object_get(fp, g->key), report_cols_fp);
	}
}

/* Timing statistics table. */
static void
report_md_stats(FILE *f, const char *title, const json_t *groups)
{
	const struct report_row *c;
	const json_t *g, *st;
	const char *gk, *k;
	char buf[32];

	fprintf(f, "**%s** (ms)\n\n", title);
	report_md_head(f, "| group | metric |", report_cols_stats);
	json_object_foreach((json_t *)(uintptr_t)groups, gk, g) {
		json_object_foreach((json_t *)(uintptr_t)g, k, st) {
			fprintf(f, "| %s | %s |", gk, k);
			for (c = report_cols_stats; c->label != NULL; c++)
				fprintf(f, " %s |", report_stat_text(st, c->key, buf, sizeof(buf)));
			fputs("\n", f);
		}
	}
	fputs("\n", f);
}

/* The detection table, where the raw results are, and the compare scores. */
static void
report_md_detection(FILE *f, const json_t *d)
{
	const json_t *tab = json_object_get(d, "table"), *r, *v;
	const json_t *bf = json_object_get(json_object_get(d, "compare"), "baseline_fpr");
	const char *k;
	size_t i, n = 0;

	fprintf(f, "One row per analyzer result. Intercepted flows: %lld (ground truth: %s). "
	    "An analyzer's verdict on a flow is its last one, as `mitmlab compare` scores it.\n\n",
	    (long long)json_integer_value(json_object_get(tab, "intercepted_flows")),
	    json_string_value(json_object_get(tab, "truth_from")) ?: "?");
	report_md_table(f, json_object_get(tab, "rows"), report_cols_detect);
	json_array_foreach(json_object_get(tab, "rows"), i, r) {
		if (json_object_get(r, "error") != NULL) {
			fputs("- results/", f);
			report_md_val(f, json_object_get(r, "file"));
			fputs(" is unreadable: ", f);
			report_md_val(f, json_object_get(r, "error"));
			fputs("\n", f);
			n++;
		}
	}
	fprintf(f, "%sThe analyzers' raw output (every verdict with its evidence) is not "
	    "reproduced here: it is in `results/<analyzer>.json` in the run directory and under "
	    "`detection.results` in report.json (%zu analysis.result event(s) on the bus: "
	    "`detection.analysis_results`).\n\n", n ? "\n" : "",
	    json_array_size(json_object_get(d, "analysis_results")));
	if (json_is_null(json_object_get(d, "compare")) || json_object_get(d, "compare") == NULL)
		return;
	fputs("### Detector comparison (`mitmlab compare`, from ", f);
	report_md_cell(f, json_string_value(json_object_get(d, "compare_file")) ?: "compare.json");
	fputs(")\n\n", f);
	report_md_table(f, json_object_get(d, "compare_rows"), report_cols_compare);
	if (json_object_size(bf) > 0) {
		fputs("Baseline false-positive rate (compare's `baseline_fpr`):", f);
		i = 0;
		json_object_foreach((json_t *)(uintptr_t)bf, k, v) {
			fprintf(f, "%s ", i++ ? "," : "");
			report_md_cell(f, k);
			fputc(' ', f);
			report_md_val(f, v);
		}
		fputs(".\n\n", f);
	}
}

/* Section 5. */
static void
report_md_results(FILE *f, const json_t *m)
{
	const json_t *d = json_object_get(m, "detection"), *b = json_object_get(m, "breakage");
	const json_t *perf = json_object_get(m, "performance"), *c, *s;
	char added[512];
	size_t i, j;

	fputs("## 5. Detection, breakage and cost\n\n### Detection\n\n", f);
	if (json_is_true(json_object_get(d, "none")))
		fputs("No detector was run on this run.\n\n", f);
	else
		report_md_detection(f, d);
	fputs("### Breakage matrix\n\n| client \\ site |", f);
	json_array_foreach(json_object_get(b, "sites"), j, s) {
		fputs(" ", f);
		report_md_val(f, s);
		fputs(" |", f);
	}
	fputs("\n|---|", f);
	for (j = 0; j < json_array_size(json_object_get(b, "sites")); j++)
		fputs("---|", f);
	fputs("\n", f);
	json_array_foreach(json_object_get(b, "clients"), i, c) {
		const json_t *row = json_object_get(json_object_get(b, "cells"), json_string_value(c));

		fputs("| ", f);
		report_md_val(f, c);
		fputs(" |", f);
		json_array_foreach(json_object_get(b, "sites"), j, s) {
			const json_t *cell = json_object_get(row, json_string_value(s)), *v;
			const char *k;
			int first = 1;

			fputs(" ", f);
			json_object_foreach((json_t *)(uintptr_t)cell, k, v) {
				fprintf(f, "%s%s ×%lld", first ? "" : ", ", k,
				    (long long)json_integer_value(v));
				first = 0;
			}
			fputs(" |", f);
		}
		fputs("\n", f);
	}
	fputs("\n### Added latency and throughput\n\n", f);
	if (report_added_text(perf, added, sizeof(added)) != NULL)
		fprintf(f, "%s\n\n", added);
	report_md_stats(f, "Client timings by path", json_object_get(perf, "by_path"));
	report_md_stats(f, "Client timings by client", json_object_get(perf, "by_client"));
	fprintf(f, "proxy.stats samples: %zu (charts in report.html).\n\n",
	    json_array_size(json_object_get(perf, "proxy_series")));
}

/* Section 6. */
static void
report_md_repro(FILE *f, const json_t *m)
{
	fputs("## 6. Reproducibility\n\n", f);
	report_md_rows(f, "item", json_object_get(m, "reproducibility"), report_rows_repro);
	fputs("### Evidence\n\n", f);
	report_md_json(f, json_object_get(m, "evidence"));
}

/* The whole document. */
char *
report_md_render(const json_t *m, char **cause)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	const json_t *s;

	if (f == NULL) {
		util_cause(cause, "open_memstream failed");
		return NULL;
	}
	fprintf(f, "# %s\n\nRun directory `%s`, generated %s, report schema %lld. "
	    "LAB run with MOCK certificate authorities.\n\n## 1. Summary\n\n",
	    json_string_value(json_object_get(m, "title")) ?: "mitmlab report",
	    json_string_value(json_object_get(m, "run_dir")) ?: "?",
	    json_string_value(json_object_get(m, "generated")) ?: "?",
	    (long long)json_integer_value(json_object_get(m, "schema")));
	json_array_foreach(json_object_get(m, "summary"), i, s)
		fprintf(f, "- %s\n", json_string_value(s));
	fputs("\n", f);
	report_md_national(f, m);
	report_md_forged(f, m);
	report_md_hosts(f, m);
	report_md_results(f, m);
	report_md_repro(f, m);
	if (fclose(f) != 0) {
		free(buf);
		util_cause(cause, "cannot render Markdown");
		return NULL;
	}
	return buf;
}
