/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report — `mitmlab report`: everything a run directory holds, gathered into one JSON model
 * ("schema": REPORT_SCHEMA) and rendered as report.json, report.md and one self-contained
 * report.html (inline CSS and SVG charts), plus capture/evidence.pcapng (evidence.h).
 *
 * Model sections (report.json, stable keys): "summary" (sentences and counts), "national_ca"
 * (certificates with SHA-256, SPKI SHA-256 hex/base64, OneCRL entries, Chromium block-list
 * file name, PEM), "forged" (sampled original vs forged leaves, field by field), "hosts"
 * (targets, observed names and decisions, triggers), "fingerprints" (interceptor's upstream
 * hello vs the clients'), "detection" (results/<name>.json and analysis.result as found,
 * "table": one row per analyzer (report_detect.h), "compare" and "compare_rows": the
 * `mitmlab compare` scores from --compare FILE, results/compare.json or compare.json),
 * "breakage" (client x site outcome matrix), "performance" (handshake/total time
 * distributions, proxy.stats series), "reproducibility" (manifest), "evidence".
 * No rendered output may contain PEM private-key armor ("PRIVATE KEY-----"): report_build
 * replaces any string of the model holding it with a note (counted in the model's
 * "redacted_private_keys"), and the writers refuse output that still has it.
 */
#ifndef MITMLAB_REPORT_H
#define MITMLAB_REPORT_H

#include <stddef.h>

#include <jansson.h>

#define REPORT_SCHEMA		1
#define REPORT_FORGED_SAMPLES	5	/* distinct hosts shown original vs forged */
#define REPORT_KEY_ARMOR	"PRIVATE KEY-----"	/* ends "-----BEGIN [RSA |EC ]PRIVATE KEY-----" */

enum report_format { REPORT_JSON, REPORT_MD, REPORT_HTML };

/* What a report takes besides the run directory. */
struct report_opts {
	const char	*compare;	/* a compare.json to show; NULL: the run directory's own */
};

/* Build the model of run_dir (new reference); NULL with *cause when it is no run directory. */
json_t *report_build(const char *run_dir, char **cause);
/* The same with options (o may be NULL); NULL with *cause also when o->compare is unreadable
 * or no compare.json. */
json_t *report_build_opts(const char *run_dir, const struct report_opts *o, char **cause);
/* Render the model in fmt into a malloc'd NUL-terminated string; NULL with *cause. */
char *report_render(const json_t *model, enum report_format fmt, char **cause);
/* Render and write one file (refuses any text containing REPORT_KEY_ARMOR). */
int report_write(const json_t *model, enum report_format fmt, const char *path, char **cause);
/* Everything, as the runner should call it at the end of a run: report.json, report.md,
 * report.html in run_dir and capture/evidence.pcapng. */
int report_write_all(const char *run_dir, char **cause);
/* The same with options (o may be NULL). */
int report_write_all_opts(const char *run_dir, const struct report_opts *o, char **cause);
/* Parse "json" / "md" / "html". */
int report_format_parse(const char *s, enum report_format *fmt, char **cause);
/* The file name of a format in a run directory ("report.json", ...). */
const char *report_format_file(enum report_format fmt);
/* The national CA's root certificate facts (role "root") in a model's national_ca, or NULL. */
const json_t *report_national_root(const json_t *nat);

/* Renderers (report_md.c, report_html.c); malloc'd strings or NULL with *cause. */
char *report_md_render(const json_t *model, char **cause);
/* Append one printf-formatted sentence to the JSON array arr (the report's summary). */
void report_sentence(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *report_html_render(const json_t *model, char **cause);

/*
 * What both renderers show, defined once in report.c: a row of a key/value table or a column
 * of a table of objects is a label, the model key and an HTML cell class (may be NULL).
 * Arrays end with a NULL label.
 */
struct report_row {
	const char	*label, *key, *cls;
};
extern const struct report_row report_rows_cert[];	/* national_ca.certs[i] */
extern const struct report_row report_rows_hosts[];	/* hosts */
extern const struct report_row report_rows_repro[];	/* reproducibility */
extern const struct report_row report_cols_observed[];	/* hosts.observed[] */
extern const struct report_row report_cols_fp[];	/* a fingerprint group */
extern const struct report_row report_rows_fp_groups[];	/* fingerprints: label = title */
extern const struct report_row report_cols_diff[];	/* forged.samples[].diff[] */
extern const struct report_row report_cols_stats[];	/* a timing statistics object */
extern const struct report_row report_cols_detect[];	/* detection.table.rows[] */
extern const struct report_row report_cols_compare[];	/* detection.compare_rows[] */
/* One timing statistic as text: the count as an integer, times (us) in ms with 2 decimals. */
const char *report_stat_text(const json_t *stats, const char *key, char *buf, size_t len);
/* The model's performance.added_latency as one sentence (figures not measured say so), or
 * NULL when the run has no comparison. */
const char *report_added_text(const json_t *perf, char *buf, size_t len);

#endif
