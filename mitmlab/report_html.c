/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_html — the report model as ONE self-contained HTML page: inline CSS (screen and
 * print), inline SVG charts (report_chart), no script, no external resource of any kind.
 * Every string from the model is HTML-escaped. Sections follow report.h; analyzers are
 * summed up in the detection table, and their raw results, whose shape belongs to them, are
 * rendered generically (objects as key/value tables, arrays of objects as tables) inside
 * collapsed <details> blocks.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "report.h"
#include "report_chart.h"
#include "util.h"

#define REPORT_HTML_MAX_DEPTH	5

static const char report_html_css[] =
"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;"
"max-width:1180px;margin:0 auto;padding:18px 28px;background:#fff}"
"h1{font-size:24px;margin:.2em 0}h2{font-size:19px;border-bottom:2px solid #d0d7de;"
"padding-bottom:4px;margin-top:1.8em}h3{font-size:16px;margin-top:1.3em}"
".meta{color:#57606a;font-size:12px}"
"table{border-collapse:collapse;margin:.6em 0;font-size:13px}"
"th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:left;vertical-align:top}"
"th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}"
"code,pre,.mono{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:12px}"
".hash{word-break:break-all}"
"pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px;white-space:pre-wrap;"
"word-break:break-all;margin:.4em 0}"
"pre.pem{font-size:10.5px;line-height:1.25}"
"tr.diff td{background:#fff4d6}tr.diff td.mark{color:#b35900;font-weight:bold}"
"td.mark{width:1.4em;text-align:center}"
"table.cmp{width:100%;table-layout:fixed}table.cmp th:nth-child(2){width:17%}"
"table.cmp th.m{width:1.4em}"
".summary li{margin:.25em 0}"
".grid td{text-align:center;font-size:12px;min-width:70px}"
".legend span{display:inline-block;padding:2px 8px;margin:2px;border-radius:3px;font-size:12px}"
".o-ok{background:#c8e6c9}.o-cert-untrusted{background:#ffcc80}"
".o-blocked-root{background:#ce93d8}.o-pin-mismatch{background:#f8bbd0}"
".o-hostname-mismatch{background:#fff59d}.o-handshake-failure{background:#ef9a9a}"
".o-reset{background:#e57373}.o-timeout{background:#b0bec5}.o-connect-failed{background:#90a4ae}"
".o-http-error{background:#f48fb1}.o-redirect{background:#90caf9}.o-other{background:#e0e0e0}"
".o-mixed{background-image:repeating-linear-gradient(45deg,transparent 0 6px,"
"rgba(0,0,0,.07) 6px 12px)}"
".chart svg{width:100%;max-width:760px;height:auto;border:1px solid #eaeef2}"
".note{color:#57606a;font-style:italic}"
"details.raw{margin:.3em 0}details.raw summary{cursor:pointer;color:#57606a}"
".yes{color:#1a7f37;font-weight:bold}.no{color:#cf222e;font-weight:bold}"
"@media print{body{max-width:none;padding:0;font-size:10pt}h2{break-after:avoid}"
"h3{break-after:avoid}table,pre,.chart{break-inside:avoid}pre.pem{font-size:7.5pt}"
"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
"@page{margin:14mm}}";

/* Write s HTML-escaped. */
static void
report_html_esc(FILE *f, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* Write a scalar JSON value as escaped text ("—" for null/absent). */
static void
report_html_val(FILE *f, const json_t *v)
{
	char *s;

	if (v == NULL || json_is_null(v)) {
		fputs("—", f);
	} else if (json_is_string(v)) {
		report_html_esc(f, json_string_value(v));
	} else if (json_is_integer(v)) {
		fprintf(f, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		fprintf(f, "%.4g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "yes" : "no", f);
	} else if ((s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
		fputs("<code>", f);
		report_html_esc(f, s);
		fputs("</code>", f);
		free(s);
	}
}

/* Member k of o as text. */
static void
report_html_get(FILE *f, const json_t *o, const char *k)
{
	report_html_val(f, json_object_get(o, k));
}

/* String member or "". */
static const char *
report_html_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static void report_html_json(FILE *f, const json_t *j, int depth);

/* Is a an array of objects (a table)? Collect the union of keys into keys. */
static int
report_html_table_keys(const json_t *a, json_t *keys)
{
	const json_t *o, *v;
	const char *k;
	size_t i, j;
	int seen;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return 0;
	json_array_foreach(a, i, o) {
		if (!json_is_object(o))
			return 0;
		json_object_foreach((json_t *)(uintptr_t)o, k, v) {
			const json_t *e;

			seen = 0;
			json_array_foreach(keys, j, e)
				seen |= strcmp(json_string_value(e), k) == 0;
			if (!seen)
				json_array_append_new(keys, json_string(k));
		}
	}
	return json_array_size(keys) <= 12;
}

/* Generic JSON: objects as key/value tables, arrays of objects as tables, else text. */
static void
report_html_json(FILE *f, const json_t *j, int depth)
{
	json_t *keys = json_array();
	const json_t *v, *o, *kk;
	const char *k;
	size_t i, n;
	char *s;

	if (depth >= REPORT_HTML_MAX_DEPTH && (json_is_object(j) || json_is_array(j))) {
		if ((s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) != NULL) {
			fputs("<pre>", f);
			report_html_esc(f, s);
			fputs("</pre>", f);
			free(s);
		}
	} else if (json_is_object(j)) {
		fputs("<table>", f);
		json_object_foreach((json_t *)(uintptr_t)j, k, v) {
			fputs("<tr><th>", f);
			report_html_esc(f, k);
			fputs("</th><td>", f);
			report_html_json(f, v, depth + 1);
			fputs("</td></tr>", f);
		}
		fputs("</table>", f);
	} else if (report_html_table_keys(j, keys)) {
		fputs("<table><tr>", f);
		json_array_foreach(keys, i, kk) {
			fputs("<th>", f);
			report_html_esc(f, json_string_value(kk));
			fputs("</th>", f);
		}
		fputs("</tr>", f);
		json_array_foreach(j, i, o) {
			fputs("<tr>", f);
			json_array_foreach(keys, n, kk) {
				fputs("<td>", f);
				report_html_json(f, json_object_get(o, json_string_value(kk)),
				    depth + 1);
				fputs("</td>", f);
			}
			fputs("</tr>", f);
		}
		fputs("</table>", f);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (i)
				fputs(json_is_object(v) || json_is_array(v) ? "" : ", ", f);
			report_html_json(f, v, depth + 1);
		}
		if (json_array_size(j) == 0)
			fputs("[]", f);
	} else {
		report_html_val(f, j);
	}
	json_decref(keys);
}

/* One table cell: scalars as text, JSON as nested tables; true is marked "yes". */
static void
report_html_td(FILE *f, const json_t *v, const char *cls)
{
	if (cls == NULL && json_is_true(v))
		cls = "yes";
	fprintf(f, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
	report_html_json(f, v, 3);
	fputs("</td>", f);
}

/* Key/value rows of o's members, one per entry of r (the caller opens the table). */
static void
report_html_rows(FILE *f, const json_t *o, const struct report_row *r)
{
	for (; r->label != NULL; r++) {
		fputs("<tr><th>", f);
		report_html_esc(f, r->label);
		fputs("</th>", f);
		report_html_td(f, json_object_get(o, r->key), r->cls);
		fputs("</tr>", f);
	}
}

/* The cells of o, one per column of c. */
static void
report_html_cells(FILE *f, const json_t *o, const struct report_row *c)
{
	for (; c->label != NULL; c++)
		report_html_td(f, json_object_get(o, c->key), c->cls);
}

/* The header cells of columns c. */
static void
report_html_head(FILE *f, const struct report_row *c)
{
	for (; c->label != NULL; c++) {
		fputs("<th>", f);
		report_html_esc(f, c->label);
		fputs("</th>", f);
	}
}

/* An array of objects as a table with columns c. */
static void
report_html_table(FILE *f, const json_t *a, const struct report_row *c)
{
	const json_t *o;
	size_t i;

	fputs("<table><tr>", f);
	report_html_head(f, c);
	fputs("</tr>", f);
	json_array_foreach(a, i, o) {
		fputs("<tr>", f);
		report_html_cells(f, o, c);
		fputs("</tr>", f);
	}
	fputs("</table>", f);
}

/* 1. Summary. */
static void
report_html_summary(FILE *f, const json_t *m)
{
	const json_t *s;
	size_t i;

	fputs("<section id=\"summary\"><h2>1. Summary</h2><ul class=\"summary\">", f);
	json_array_foreach(json_object_get(m, "summary"), i, s) {
		fputs("<li>", f);
		report_html_val(f, s);
		fputs("</li>", f);
	}
	fputs("</ul></section>\n", f);
}

/* One OneCRL entry as JSON text. */
static void
report_html_pre_json(FILE *f, const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	fputs("<pre>", f);
	report_html_esc(f, s);
	fputs("</pre>", f);
	free(s);
}

/* 2. National root and intermediates. */
static void
report_html_national(FILE *f, const json_t *m)
{
	const json_t *nat = json_object_get(m, "national_ca"), *c;
	size_t i;

	fputs("<section id=\"national-ca\"><h2>2. National root and intermediates</h2>", f);
	fputs("<p>The forms browser vendors block a certificate by: Chromium lists the SHA-256 "
	    "of the SubjectPublicKeyInfo (<code>kSPKIBlockList</code>, also the pin form) and "
	    "names the block-list file after the certificate's SHA-256; Mozilla's OneCRL takes "
	    "issuer + serial or subject + public-key hash (base64 DER).</p>", f);
	if (json_array_size(json_object_get(nat, "certs")) == 0)
		fputs("<p class=\"note\">No national CA certificate in pki/national.</p>", f);
	json_array_foreach(json_object_get(nat, "certs"), i, c) {
		fprintf(f, "<h3>%s: ", c == report_national_root(nat) ? "Root" : "Intermediate");
		report_html_esc(f, report_html_str(c, "subject"));
		fputs("</h3><table>", f);
		report_html_rows(f, c, report_rows_cert);
		fputs("<tr><th>OneCRL (issuer + serial)</th><td>", f);
		report_html_pre_json(f, json_array_get(json_object_get(c, "onecrl"), 0));
		fputs("</td></tr><tr><th>OneCRL (subject + key)</th><td>", f);
		report_html_pre_json(f, json_array_get(json_object_get(c, "onecrl"), 1));
		fputs("</td></tr></table><pre class=\"pem\">", f);
		report_html_esc(f, report_html_str(c, "pem"));
		fputs("</pre>", f);
	}
	if (json_array_size(json_object_get(nat, "lab_blocklist_spki")) > 0) {
		fputs("<p>The lab's block list (pki/blocklist.txt): <code class=\"hash\">", f);
		report_html_json(f, json_object_get(nat, "lab_blocklist_spki"), 1);
		fputs("</code></p>", f);
	}
	fputs("</section>\n", f);
}

/* 3. Forged certificates, original vs forged. */
static void
report_html_forged(FILE *f, const json_t *m)
{
	const json_t *fg = json_object_get(m, "forged"), *s, *row;
	size_t i, j;

	fputs("<section id=\"forged\"><h2>3. Forged certificates</h2>", f);
	if (json_array_size(json_object_get(fg, "samples")) == 0) {
		fputs("<p class=\"note\">No forged certificate was recorded (no proxy.forge "
		    "event).</p></section>\n", f);
		return;
	}
	fprintf(f, "<p>%lld forged-certificate events, %lld distinct forged leaves. Profiles: ",
	    (long long)json_integer_value(json_object_get(fg, "count")),
	    (long long)json_integer_value(json_object_get(fg, "distinct")));
	report_html_json(f, json_object_get(fg, "profiles"), 4);
	fputs(" Keys: ", f);
	report_html_json(f, json_object_get(fg, "keys"), 4);
	fputs("</p><p>Rows marked ≠ differ between the server's real certificate and the "
	    "interceptor's forgery.</p>", f);
	json_array_foreach(json_object_get(fg, "samples"), i, s) {
		fputs("<h3>SNI ", f);
		report_html_esc(f, report_html_str(s, "sni"));
		fputs(" → server ", f);
		report_html_get(f, s, "server");
		fputs(" <span class=\"meta\">(flow ", f);
		report_html_get(f, s, "flow");
		fputs(", profile ", f);
		report_html_get(f, s, "profile");
		fputs(")</span></h3><table class=\"cmp\"><tr><th class=\"m\"></th>", f);
		report_html_head(f, report_cols_diff);
		fputs("</tr>", f);
		json_array_foreach(json_object_get(s, "diff"), j, row) {
			int d = json_is_true(json_object_get(row, "differs"));

			fprintf(f, "<tr%s><td class=\"mark\">%s</td>", d ? " class=\"diff\"" : "",
			    d ? "≠" : "");
			report_html_cells(f, row, report_cols_diff);
			fputs("</tr>", f);
		}
		fputs("<tr><td></td><th>SHA-256</th><td class=\"mono hash\">", f);
		report_html_get(f, json_object_get(s, "orig"), "sha256");
		fputs("</td><td class=\"mono hash\">", f);
		report_html_get(f, json_object_get(s, "forged"), "sha256");
		fputs("</td></tr></table>", f);
	}
	fputs("</section>\n", f);
}

/* 4. Targeted and untargeted hosts, triggers, fingerprints. */
static void
report_html_hosts(FILE *f, const json_t *m)
{
	const json_t *h = json_object_get(m, "hosts"), *fp = json_object_get(m, "fingerprints");
	const json_t *mt;
	const struct report_row *g;

	fputs("<section id=\"hosts\"><h2>4. Targeted and untargeted hosts</h2><table>", f);
	report_html_rows(f, h, report_rows_hosts);
	fputs("</table><h3>Names observed and what the gateway did</h3>", f);
	report_html_table(f, json_object_get(h, "observed"), report_cols_observed);
	fputs("<h3>Trigger conditions observed</h3>", f);
	if (json_array_size(json_object_get(h, "triggers")) == 0)
		fputs("<p class=\"note\">No engine decision recorded.</p>", f);
	else
		report_html_json(f, json_object_get(h, "triggers"), 1);
	fputs("<h3>ClientHello fingerprints</h3><p>The interceptor's own upstream hello (what the "
	    "origins saw on intercepted flows) against the clients' hellos.", f);
	mt = json_object_get(fp, "interceptor_matches_a_client");
	if (json_is_boolean(mt))
		fprintf(f, " The interceptor's JA3 <span class=\"%s\">%s</span> a client's.",
		    json_is_true(mt) ? "no" : "yes", json_is_true(mt) ? "matches" : "matches none of");
	fputs("</p>", f);
	for (g = report_rows_fp_groups; g->label != NULL; g++) {
		fputs("<h3>", f);
		report_html_esc(f, g->label);
		fputs("</h3>", f);
		if (json_array_size(json_object_get(fp, g->key)) == 0)
			fputs("<p class=\"note\">none recorded</p>", f);
		else
			report_html_table(f, json_object_get(fp, g->key), report_cols_fp);
	}
	fputs("</section>\n", f);
}

/* The CSS class of an outcome. */
static const char *
report_html_oclass(const char *o, char *buf, size_t len)
{
	static const char *const known[] = { "ok", "cert-untrusted", "blocked-root",
	    "pin-mismatch", "hostname-mismatch", "handshake-failure", "reset", "timeout",
	    "connect-failed", "http-error", "redirect" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(o, known[i]) == 0) {
			snprintf(buf, len, "o-%s", o);
			return buf;
		}
	return "o-other";
}

/* Breakage grid: clients x sites, coloured by the most frequent outcome. */
static void
report_html_breakage(FILE *f, const json_t *m)
{
	const json_t *b = json_object_get(m, "breakage"), *c, *s, *o, *cell;
	char cls[64];
	size_t i, j;

	fputs("<h3>Breakage matrix (clients × sites → outcome class)</h3><p class=\"legend\">", f);
	json_array_foreach(json_object_get(b, "outcomes"), i, o) {
		fprintf(f, "<span class=\"%s\">", report_html_oclass(json_string_value(o), cls,
		    sizeof(cls)));
		report_html_val(f, o);
		fputs("</span>", f);
	}
	fputs("</p><table class=\"grid\"><tr><th>client \\ site</th>", f);
	json_array_foreach(json_object_get(b, "sites"), j, s) {
		fputs("<th>", f);
		report_html_val(f, s);
		fputs("</th>", f);
	}
	fputs("</tr>", f);
	json_array_foreach(json_object_get(b, "clients"), i, c) {
		const json_t *row = json_object_get(json_object_get(b, "cells"), json_string_value(c));

		fputs("<tr><th>", f);
		report_html_val(f, c);
		fputs("</th>", f);
		json_array_foreach(json_object_get(b, "sites"), j, s) {
			const char *k, *best = NULL;
			json_t *v;
			json_int_t bn = 0;

			cell = json_object_get(row, json_string_value(s));
			if (cell == NULL) {
				fputs("<td></td>", f);
				continue;
			}
			json_object_foreach((json_t *)(uintptr_t)cell, k, v) {
				if (json_integer_value(v) > bn) {
					bn = json_integer_value(v);
					best = k;
				}
			}
			fprintf(f, "<td class=\"%s%s\">", report_html_oclass(best ? best : "?", cls,
			    sizeof(cls)), json_object_size(cell) > 1 ? " o-mixed" : "");
			json_object_foreach((json_t *)(uintptr_t)cell, k, v) {
				report_html_esc(f, k);
				fprintf(f, " ×%lld<br>", (long long)json_integer_value(v));
			}
			fputs("</td>", f);
		}
		fputs("</tr>", f);
	}
	fputs("</table>", f);
}

/* Embed one chart, or a note why not. */
static void
report_html_chart(FILE *f, const struct report_chart *c)
{
	char *cause = NULL, *svg = report_chart_svg(c, &cause);

	if (svg == NULL) {
		fputs("<p class=\"note\">Chart \"", f);
		report_html_esc(f, c->title);
		fputs("\" not drawn: ", f);
		report_html_esc(f, cause);
		fputs("</p>", f);
		free(cause);
		return;
	}
	fputs("<div class=\"chart\">", f);
	fputs(svg, f);
	fputs("</div>", f);
	free(svg);
}

/* CDF charts of one timing key, one line per path. */
static void
report_html_cdf(FILE *f, const json_t *perf, const char *key, const char *id,
    const char *title)
{
	struct report_chart_series ser[8];
	struct report_chart c = { id, title, "milliseconds (log scale)", "fraction of connections",
	    1, ser, 0 };
	double *xs[8] = { 0 }, *ys[8] = { 0 };
	const json_t *g, *v;
	const char *path;
	size_t n = 0, i, k;

	json_object_foreach((json_t *)(uintptr_t)json_object_get(perf, "samples_by_path"), path, g) {
		const json_t *a = json_object_get(g, key);

		if (n >= 8 || json_array_size(a) == 0)
			continue;
		if ((xs[n] = calloc(json_array_size(a), sizeof(double))) == NULL)
			break;
		k = 0;
		json_array_foreach(a, i, v)
			xs[n][k++] = json_number_value(v) / 1000.0;
		if ((ys[n] = report_chart_cdf(xs[n], k)) == NULL) {
			free(xs[n]);
			xs[n] = NULL;
			continue;
		}
		ser[n] = (struct report_chart_series){ path, xs[n], ys[n], k, 1 };
		n++;
	}
	c.nseries = n;
	report_html_chart(f, &c);
	for (i = 0; i < n; i++) {
		free(xs[i]);
		free(ys[i]);
	}
}

/* proxy.stats series: active connections and throughput over time. */
static void
report_html_series(FILE *f, const json_t *perf)
{
	const json_t *s = json_object_get(perf, "proxy_series"), *p, *prev = NULL;
	size_t n = json_array_size(s), i;
	double *t, *act, *thr;
	struct report_chart_series sa, st;
	struct report_chart ca = { "active", "Interception engine: active connections",
	    "seconds since the run started", "connections", 0, &sa, 1 };
	struct report_chart ct = { "thru", "Interception engine: relayed throughput",
	    "seconds since the run started", "MB/s (both directions)", 0, &st, 1 };

	if (n == 0) {
		fputs("<p class=\"note\">No proxy.stats series (the engine did not run).</p>", f);
		return;
	}
	t = calloc(n, sizeof(*t));
	act = calloc(n, sizeof(*act));
	thr = calloc(n, sizeof(*thr));
	if (t == NULL || act == NULL || thr == NULL)
		goto out;
	json_array_foreach(s, i, p) {
		double dt, db;

		t[i] = json_number_value(json_object_get(p, "t_s"));
		act[i] = json_number_value(json_object_get(p, "active"));
		thr[i] = 0;
		if (prev != NULL) {
			dt = t[i] - json_number_value(json_object_get(prev, "t_s"));
			db = json_number_value(json_object_get(p, "bytes_c2s")) +
			    json_number_value(json_object_get(p, "bytes_s2c")) -
			    json_number_value(json_object_get(prev, "bytes_c2s")) -
			    json_number_value(json_object_get(prev, "bytes_s2c"));
			thr[i] = dt > 0.05 && db >= 0 ? db / dt / 1e6 : (i ? thr[i - 1] : 0);
		}
		prev = p;
	}
	sa = (struct report_chart_series){ "active", t, act, n, 0 };
	st = (struct report_chart_series){ "throughput", t, thr, n, 0 };
	report_html_chart(f, &ca);
	report_html_chart(f, &ct);
out:
	free(t);
	free(act);
	free(thr);
}

/* A table of timing statistics {group: {key: stats}}. */
static void
report_html_stats(FILE *f, const char *title, const json_t *groups)
{
	const struct report_row *c;
	const json_t *g, *st;
	const char *gk, *k;
	char buf[32];

	fputs("<h3>", f);
	report_html_esc(f, title);
	fputs(" (milliseconds)</h3><table><tr><th>group</th><th>metric</th>", f);
	report_html_head(f, report_cols_stats);
	fputs("</tr>", f);
	json_object_foreach((json_t *)(uintptr_t)groups, gk, g) {
		json_object_foreach((json_t *)(uintptr_t)g, k, st) {
			fputs("<tr><td>", f);
			report_html_esc(f, gk);
			fputs("</td><td>", f);
			report_html_esc(f, k);
			fputs("</td>", f);
			for (c = report_cols_stats; c->label != NULL; c++)
				fprintf(f, "<td class=\"num\">%s</td>",
				    report_stat_text(st, c->key, buf, sizeof(buf)));
			fputs("</tr>", f);
		}
	}
	fputs("</table>", f);
}

/* The detection table, the raw results collapsed, and the compare scores. */
static void
report_html_detection(FILE *f, const json_t *d)
{
	const json_t *tab = json_object_get(d, "table"), *r, *v;
	const json_t *bf = json_object_get(json_object_get(d, "compare"), "baseline_fpr");
	const char *k;
	size_t i;

	fprintf(f, "<p>One row per analyzer result. Intercepted flows: %lld (ground truth: ",
	    (long long)json_integer_value(json_object_get(tab, "intercepted_flows")));
	report_html_get(f, tab, "truth_from");
	fputs("). An analyzer's verdict on a flow is its last one, as <code>mitmlab compare"
	    "</code> scores it.</p><div id=\"detection-table\">", f);
	report_html_table(f, json_object_get(tab, "rows"), report_cols_detect);
	fputs("</div>", f);
	json_array_foreach(json_object_get(d, "results"), i, r) {
		if (json_object_get(r, "error") != NULL) {
			fputs("<p class=\"no\">results/", f);
			report_html_get(f, r, "file");
			fputs(" is unreadable: ", f);
			report_html_get(f, r, "error");
			fputs("</p>", f);
			continue;
		}
		fputs("<details class=\"raw\"><summary>Raw output: results/", f);
		report_html_get(f, r, "file");
		fprintf(f, " (%zu verdicts)</summary>", json_array_size(json_object_get(
		    json_object_get(r, "data"), "verdicts")));
		report_html_json(f, json_object_get(r, "data"), 1);
		fputs("</details>", f);
	}
	if (json_array_size(json_object_get(d, "analysis_results")) > 0) {
		fprintf(f, "<details class=\"raw\"><summary>Raw output: %zu analysis.result "
		    "event(s)</summary>", json_array_size(json_object_get(d, "analysis_results")));
		report_html_json(f, json_object_get(d, "analysis_results"), 1);
		fputs("</details>", f);
	}
	if (json_is_null(json_object_get(d, "compare")) || json_object_get(d, "compare") == NULL)
		return;
	fputs("<h3>Detector comparison (<code>mitmlab compare</code>, from ", f);
	report_html_get(f, d, "compare_file");
	fputs(")</h3><div id=\"compare-table\">", f);
	report_html_table(f, json_object_get(d, "compare_rows"), report_cols_compare);
	fputs("</div>", f);
	if (json_object_size(bf) > 0) {
		fputs("<p>Baseline false-positive rate (<code>baseline_fpr</code>):", f);
		i = 0;
		json_object_foreach((json_t *)(uintptr_t)bf, k, v) {
			fputs(i++ ? ", " : " ", f);
			report_html_esc(f, k);
			fputs(" ", f);
			report_html_val(f, v);
		}
		fputs(".</p>", f);
	}
}

/* 5. Detection, breakage, performance. */
static void
report_html_results(FILE *f, const json_t *m)
{
	const json_t *d = json_object_get(m, "detection");
	const json_t *perf = json_object_get(m, "performance");
	char added[512];

	fputs("<section id=\"results\"><h2>5. Detection, breakage and cost</h2>"
	    "<h3>Detection</h3>", f);
	if (json_is_true(json_object_get(d, "none")))
		fputs("<p class=\"note\">No detector was run on this run: results/ is empty and "
		    "events.jsonl holds no analysis.result.</p>", f);
	else
		report_html_detection(f, d);
	report_html_breakage(f, m);
	fputs("<h3>Added latency and throughput</h3>", f);
	if (report_added_text(perf, added, sizeof(added)) != NULL) {
		fputs("<p>", f);
		report_html_esc(f, added);
		fputs("</p>", f);
	} else
		fputs("<p class=\"note\">No added-latency comparison: the run has no intercepted "
		    "flows to compare with untouched ones (compare against the baseline run).</p>", f);
	report_html_cdf(f, perf, "t_handshake_us", "hs", "Client TLS handshake time (CDF by path)");
	report_html_cdf(f, perf, "t_total_us", "tot", "Client total request time (CDF by path)");
	report_html_series(f, perf);
	report_html_stats(f, "Client timings by path", json_object_get(perf, "by_path"));
	report_html_stats(f, "Client timings by client", json_object_get(perf, "by_client"));
	if (json_is_object(json_object_get(perf, "proxy_close"))) {
		json_t *w = json_pack("{s:O}", "intercepted", json_object_get(perf, "proxy_close"));

		report_html_stats(f, "Engine per-flow times (proxy.conn.close)", w);
		json_decref(w);
	}
	fputs("</section>\n", f);
}

/* 6. Reproducibility and evidence. */
static void
report_html_repro(FILE *f, const json_t *m)
{
	fputs("<section id=\"reproducibility\"><h2>6. Reproducibility</h2><table>", f);
	report_html_rows(f, json_object_get(m, "reproducibility"), report_rows_repro);
	fputs("</table><h3>Evidence</h3>", f);
	report_html_json(f, json_object_get(m, "evidence"), 1);
	fputs("</section>\n", f);
}

/* The whole page. */
char *
report_html_render(const json_t *m, char **cause)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		util_cause(cause, "open_memstream failed");
		return NULL;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	    "<title>", f);
	report_html_esc(f, report_html_str(m, "title"));
	fprintf(f, "</title><style>%s</style></head><body><header><h1>", report_html_css);
	report_html_esc(f, report_html_str(m, "title"));
	fputs("</h1><p class=\"meta\">Run directory <code>", f);
	report_html_esc(f, report_html_str(m, "run_dir"));
	fputs("</code> · generated ", f);
	report_html_esc(f, report_html_str(m, "generated"));
	fprintf(f, " · report schema %lld · LAB run with MOCK certificate authorities</p>"
	    "</header>\n", (long long)json_integer_value(json_object_get(m, "schema")));
	report_html_summary(f, m);
	report_html_national(f, m);
	report_html_forged(f, m);
	report_html_hosts(f, m);
	report_html_results(f, m);
	report_html_repro(f, m);
	fputs("<footer class=\"meta\"><p>mitmlab — all certificates above are lab mocks, "
	    "not real certificate authorities.</p></footer></body></html>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		util_cause(cause, "cannot render HTML");
		return NULL;
	}
	return buf;
}
