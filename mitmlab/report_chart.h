/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_chart — line charts as inline SVG, drawn by gnuplot (run with fork/execvp, the
 * script and the data on its stdin, the SVG on its stdout). The SVG is made embeddable: no
 * XML prolog, and gnuplot's fixed element ids renamed per chart so several charts can share
 * one HTML document. No file is written.
 */
#ifndef MITMLAB_REPORT_CHART_H
#define MITMLAB_REPORT_CHART_H

#include <stddef.h>

/* One line: n points (x[i], y[i]). */
struct report_chart_series {
	const char	*name;
	const double	*x, *y;
	size_t		 n;
	int		 steps;		/* draw as a step function (CDFs) */
};

/* A chart. */
struct report_chart {
	const char	*id;		/* unique in the document: [a-z0-9] */
	const char	*title, *xlabel, *ylabel;
	int		 logx;
	const struct report_chart_series *series;
	size_t		 nseries;
};

/* The chart as a malloc'd inline <svg> element; NULL with *cause (no gnuplot, no data). */
char *report_chart_svg(const struct report_chart *c, char **cause);
/* The empirical CDF of v[n] (sorted in place): x = v, y = fraction <= x; malloc'd y. */
double *report_chart_cdf(double *v, size_t n);

#endif
