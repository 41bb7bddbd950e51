/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compare — `mitmlab compare`: replay each run to the ground-truth analyzer "truth" and to the
 * detectors (bus analyzers and capture tools alike), score every detector on every run
 * (score.h), print a table and write OUT/compare.json and OUT/compare.csv. Result files go to
 * OUT/results/<run basename>/ so the runs themselves are not modified. compare.json holds one
 * row per (detector, run): detector, run, scenario, status, flows, positives, tp, fp, tn, fn,
 * unmatched, precision, recall, f1, fpr, ttd_ms; and "baseline_fpr": per detector, its
 * false-positive rate on the runs whose scenario is "baseline" (pooled). No wall-clock value
 * appears in either file, so comparing the same runs twice gives identical files.
 */
#ifndef MITMLAB_COMPARE_H
#define MITMLAB_COMPARE_H

#include <stddef.h>

struct compare_opts {
	const char *const	*runs;
	size_t			 nruns;
	const char *const	*detectors;	/* none: every analyzer with role "detector" */
	size_t			 ndet;
	const char		*out_dir;	/* default "." */
	const char		*baseline;	/* {baseline}; NULL: the first run of scenario baseline */
	int			 quiet;
};

/* Run the comparison; 0, or -1 with *cause (a run without ground truth is an error). */
int compare_run(const struct compare_opts *o, char **cause);

#endif
