/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_detect — the report's detection section as data: one table row per analyzer result
 * (results/<name>.json, or an analyzer heard only on the bus), counted from its verdicts the
 * way `mitmlab compare` scores them (the last verdict per flow counts) against the engine's
 * decisions in events.jsonl; the `compare` scores with the rows of this run marked; and the
 * summary's detection sentences built from those same rows. Reading the files is report.c's.
 */
#ifndef MITMLAB_REPORT_DETECT_H
#define MITMLAB_REPORT_DETECT_H

#include <jansson.h>

/*
 * The detection table from results ([{"file": F, "data": D} or {"file": F, "error": E}]) and
 * the events grouped by topic (by): {"rows": [...], "intercepted_flows": N, "truth_from": S}
 * (new reference). A row: analyzer, file, source, role, kind, status, complete, verdicts,
 * flows_seen, flagged, flagged_intercepted, flagged_not_intercepted, flagged_unknown_flow,
 * signals ({signal: flagged flows}), signals_intercepted, signals_text, analyzer_flagged,
 * analyzer_signals (the analyzer's own result.summary.signals), analyzer_signals_text.
 */
json_t *report_detect_table(const json_t *results, const json_t *by);
/* The rows of a compare.json document, each with "this_run" (its run's path is run_dir);
 * a new array, empty when compare is not a compare document. */
json_t *report_detect_compare_rows(const json_t *compare, const char *run_dir);
/* Append to sentences the summary's detection sentences from a model's "detection". */
void report_detect_summary(json_t *sentences, const json_t *det);

#endif
