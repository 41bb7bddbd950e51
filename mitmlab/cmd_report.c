/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_report — `mitmlab report RUN_DIR [--format html|md|json] [--out FILE] [--compare FILE]`:
 * without --format, writes report.json, report.md, report.html and capture/evidence.pcapng
 * into RUN_DIR (report_write_all_opts); with --format, only that rendering, to --out or to its
 * usual name in RUN_DIR ("-" writes to stdout). --compare names the compare.json whose scores
 * the report shows (else RUN_DIR/results/compare.json or RUN_DIR/compare.json, if present).
 * The work is report.c, evidence.c and the renderers.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "report.h"
#include "util.h"

/* Print the report usage. */
static void
cmd_report_usage(FILE *f)
{
	fprintf(f,
	    "usage: mitmlab report RUN_DIR [--format html|md|json] [--out FILE] [--compare FILE]\n"
	    "  without --format   write report.json, report.md, report.html and\n"
	    "                     capture/evidence.pcapng (decryptable pcapng) into RUN_DIR\n"
	    "  --format FMT       only this rendering (html, md or json)\n"
	    "  --out FILE         where to write it (default RUN_DIR/report.FMT; - = stdout)\n"
	    "  --compare FILE     show the detector scores of this compare.json (written by\n"
	    "                     `mitmlab compare --out DIR` as DIR/compare.json); default:\n"
	    "                     RUN_DIR/results/compare.json, else RUN_DIR/compare.json\n");
}

/* Write one rendering to stdout. */
static int
cmd_report_stdout(const json_t *m, enum report_format fmt, char **cause)
{
	char *s = report_render(m, fmt, cause);

	if (s == NULL)
		return -1;
	if (strstr(s, "PRIVATE KEY") != NULL) {
		free(s);
		return util_cause(cause, "the rendered report contains \"PRIVATE KEY\": refusing");
	}
	fputs(s, stdout);
	free(s);
	return fflush(stdout) == 0 ? 0 : util_cause(cause, "write error on stdout");
}

/* mitmlab report ... */
int
cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "out",    required_argument, NULL, 'o' },
		{ "compare", required_argument, NULL, 'c' },
		{ "help",   no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL, *run_dir;
	struct report_opts ro = { NULL };
	enum report_format fmt = REPORT_HTML;
	char *cause = NULL, path[4200];
	int c, have_fmt = 0, rv;
	json_t *m;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (report_format_parse(optarg, &fmt, &cause) != 0) {
				fprintf(stderr, "mitmlab report: %s\n", cause);
				free(cause);
				return 2;
			}
			have_fmt = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'c':
			ro.compare = optarg;
			break;
		case 'h':
			cmd_report_usage(stdout);
			return 0;
		default:
			cmd_report_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		cmd_report_usage(stderr);
		return 2;
	}
	run_dir = argv[optind];
	if (out != NULL && !have_fmt) {
		fprintf(stderr, "mitmlab report: --out needs --format (one file per format)\n");
		return 2;
	}
	if (!have_fmt) {
		if (report_write_all_opts(run_dir, &ro, &cause) != 0) {
			fprintf(stderr, "mitmlab report: %s\n", cause);
			free(cause);
			return 1;
		}
		printf("%s/report.json\n%s/report.md\n%s/report.html\n", run_dir, run_dir, run_dir);
		return 0;
	}
	if ((m = report_build_opts(run_dir, &ro, &cause)) == NULL) {
		fprintf(stderr, "mitmlab report: %s\n", cause);
		free(cause);
		return 1;
	}
	if (out != NULL && strcmp(out, "-") == 0) {
		rv = cmd_report_stdout(m, fmt, &cause);
	} else {
		if (out == NULL) {
			snprintf(path, sizeof(path), "%s/%s", run_dir, report_format_file(fmt));
			out = path;
		}
		rv = report_write(m, fmt, out, &cause);
	}
	json_decref(m);
	if (rv != 0) {
		fprintf(stderr, "mitmlab report: %s\n", cause);
		free(cause);
		return 1;
	}
	return 0;
}
