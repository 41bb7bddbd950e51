/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_chart — writes a gnuplot script with the data as inline datablocks, runs gnuplot
 * through wrap_exec (argv array, no shell, deadline), and post-processes the SVG it prints so
 * it can sit inline in an HTML page: the XML prolog is dropped and gnuplot's element ids
 * (gpPt*, gpDot, gnuplot_*, greybox, textbox) get a per-chart prefix. Labels pass through an
 * allow-list (report_chart_label_char): no backtick, quote, backslash, macro or markup
 * character reaches the script.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_chart.h"
#include "util.h"
#include "wrap.h"
#include "wrap_exec.h"

#define REPORT_CHART_DEADLINE_MS	20000

/* Whether c may stand in a gnuplot double-quoted string of the script: letters, digits,
 * UTF-8 (µs) and punctuation gnuplot gives no meaning there. What is left out does something:
 * ` runs a shell command even inside quotes, " and \ end or escape the string, @ is a macro,
 * and ^ _ { } & ~ are enhanced-text markup. */
static int
report_chart_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c >= 0x80 || (c != '\0' && strchr(" .,:;-+/()%=<>#*!?[]|'", c) != NULL);
}

/* Print s to f as a gnuplot double-quoted string body; any other character becomes a space.
 * Series names come from events (a flow's action), so this is a guard on untrusted text. */
static void
report_chart_label(FILE *f, const char *s)
{
	for (; s != NULL && *s; s++)
		fputc(report_chart_label_char((unsigned char)*s) ? *s : ' ', f);
}

/* Compare doubles for qsort. */
static int
report_chart_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Sort v and return the CDF heights. */
double *
report_chart_cdf(double *v, size_t n)
{
	double *y;
	size_t i;

	if (n == 0 || (y = calloc(n, sizeof(*y))) == NULL)
		return NULL;
	qsort(v, n, sizeof(*v), report_chart_cmp);
	for (i = 0; i < n; i++)
		y[i] = (double)(i + 1) / (double)n;
	return y;
}

/* The gnuplot script for c; malloc'd. */
static char *
report_chart_script(const struct report_chart *c)
{
	char *buf = NULL;
	size_t len = 0, i, j;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	fprintf(f, "set terminal svg size 760,320 dynamic enhanced font 'sans,11' "
	    "background rgb 'white'\nset encoding utf8\n");
	fprintf(f, "set title \"");
	report_chart_label(f, c->title);
	fprintf(f, "\"\nset xlabel \"");
	report_chart_label(f, c->xlabel);
	fprintf(f, "\"\nset ylabel \"");
	report_chart_label(f, c->ylabel);
	fprintf(f, "\"\nset grid\nset key outside right top\nset border 3\nset tics nomirror\n");
	if (c->logx)
		fprintf(f, "set logscale x\n");
	for (i = 0; i < c->nseries; i++) {
		fprintf(f, "$d%zu << EOD\n", i);
		for (j = 0; j < c->series[i].n; j++)
			if (!c->logx || c->series[i].x[j] > 0)
				fprintf(f, "%.6g %.6g\n", c->series[i].x[j], c->series[i].y[j]);
		fprintf(f, "EOD\n");
	}
	fprintf(f, "plot ");
	for (i = 0; i < c->nseries; i++) {
		fprintf(f, "%s$d%zu using 1:2 with %s lw 2 title \"", i ? ", " : "", i,
		    c->series[i].steps ? "steps" : "lines");
		report_chart_label(f, c->series[i].name);
		fprintf(f, "\"");
	}
	fprintf(f, "\n");
	fclose(f);
	return buf;
}

/* Replace every occurrence of from by to in s (malloc'd result; s freed). */
static char *
report_chart_replace(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	char *p, *out, *o;

	for (p = s; (p = strstr(p, from)) != NULL; p += fl)
		n++;
	if (n == 0)
		return s;
	if ((out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1)) == NULL) {
		free(s);
		return NULL;
	}
	for (o = out, p = s;;) {
		char *q = strstr(p, from);

		if (q == NULL) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
	free(s);
	return out;
}

/* Draw the chart. */
char *
report_chart_svg(const struct report_chart *c, char **cause)
{
	static const char *const ids[] = { "gpPt", "gpDot", "gnuplot_", "greybox", "textbox" };
	char *argv[] = { (char *)(uintptr_t)"gnuplot", NULL };
	char *script, *svg, *start, pre[64];
	struct wrap_output o;
	size_t i, pts = 0;

	for (i = 0; i < c->nseries; i++)
		pts += c->series[i].n;
	if (pts == 0) {
		util_cause(cause, "no data");
		return NULL;
	}
	if ((script = report_chart_script(c)) == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	if (wrap_exec_run(argv, script, strlen(script), REPORT_CHART_DEADLINE_MS, &o,
	    cause) != 0) {
		free(script);
		return NULL;
	}
	free(script);
	if (o.exit_code != 0 || o.out == NULL || (start = strstr(o.out, "<svg")) == NULL) {
		util_cause(cause, "gnuplot failed (exit %d): %.200s", o.exit_code,
		    o.err ? o.err : "");
		wrap_exec_free(&o);
		return NULL;
	}
	svg = strdup(start);
	wrap_exec_free(&o);
	for (i = 0; svg != NULL && i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(pre, sizeof(pre), "%s_%s", c->id, ids[i]);
		svg = report_chart_replace(svg, ids[i], pre);
	}
	if (svg == NULL)
		util_cause(cause, "out of memory");
	return svg;
}
