/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_compare — `mitmlab compare RUN_DIR... [--detector NAME...] [--out DIR]`: options only;
 * replaying and scoring are compare.c's.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amanifest.h"
#include "cmd.h"
#include "compare.h"
#include "log.h"

#define CMD_COMPARE_MAX 64

/* Usage. */
static void
cmd_compare_usage(FILE *f)
{
	fprintf(f,
	    "usage: mitmlab compare RUN_DIR... [--detector NAME[,NAME...]]... [--out DIR]\n"
	    "       [--baseline DIR] [--quiet]\n"
	    "  replays each run to the ground truth (analyzer \"truth\") and to each detector\n"
	    "  (default: every analyzer with role \"detector\"), scores them and writes\n"
	    "  DIR/compare.json, DIR/compare.csv and DIR/results/<run>/ (default DIR: .);\n"
	    "  {baseline} in manifests = --baseline DIR, else the first run of scenario baseline;\n"
	    "  a detector's rows for the run it learned from say trained_on_run and stay out of\n"
	    "  its baseline false-positive rate (give a second baseline run to measure one)\n");
}

/* Entry point. */
int
cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "detector", required_argument, NULL, 'D' },
		{ "out", required_argument, NULL, 'o' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dets[CMD_COMPARE_MAX];
	struct compare_opts o;
	char *cause = NULL;
	int c;

	memset(&o, 0, sizeof(o));
	o.detectors = dets;
	while ((c = getopt_long(argc, argv, "D:o:b:qdh", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			if (amanifest_names(optarg, dets, CMD_COMPARE_MAX, &o.ndet) == -1) {
				fprintf(stderr, "mitmlab compare: at most %d detectors\n",
				    CMD_COMPARE_MAX);
				return 2;
			}
			break;
		case 'o':
			o.out_dir = optarg;
			break;
		case 'b':
			o.baseline = optarg;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'd':
			log_set_debug(1);
			break;
		case 'h':
			cmd_compare_usage(stdout);
			return 0;
		default:
			cmd_compare_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		cmd_compare_usage(stderr);
		return 2;
	}
	o.runs = (const char *const *)(argv + optind);
	o.nruns = (size_t)(argc - optind);
	if (compare_run(&o, &cause) == -1) {
		log_warnx("%s", cause != NULL ? cause : "compare failed");
		free(cause);
		return 1;
	}
	return 0;
}
