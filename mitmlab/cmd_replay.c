/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_replay — `mitmlab replay RUN_DIR --analyzer NAME... [--out DIR]`: options and the
 * closing summary; the replay itself is replay.c's.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "amanifest.h"
#include "cmd.h"
#include "log.h"
#include "replay.h"
#include "util.h"

#define CMD_REPLAY_MAX 64

/* Usage. */
static void
cmd_replay_usage(FILE *f)
{
	fprintf(f,
	    "usage: mitmlab replay RUN_DIR --analyzer NAME[,NAME...]... [--out DIR] [--baseline DIR]\n"
	    "  [--quiet]\n"
	    "  feeds RUN_DIR/events.jsonl through a fresh bus to the analyzers and writes\n"
	    "  DIR/<name>.json (default RUN_DIR/results); analyzers: analyzers/README.md\n");
}

/* Print one line per analyzer from its result file. */
static void
cmd_replay_summary(const char *dir, const char *const *names, size_t n)
{
	char path[PATH_MAX + 64];
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *r, *d;
		size_t k, flagged = 0;
		json_t *v;
		snprintf(path, sizeof(path), "%.4000s/%s.json", dir, names[i]);
		if ((r = json_load_file(path, 0, NULL)) == NULL) {
			printf("  %-16s (no result file)\n", names[i]);
			continue;
		}
		d = json_object_get(r, "delivery");
		json_array_foreach(json_object_get(r, "verdicts"), k, v)
			flagged += json_is_true(json_object_get(v, "intercepted"));
		printf("  %-16s %-10s %6lld events %6zu verdicts %6zu intercepted %lld dropped  %s\n",
		    names[i], json_string_value(json_object_get(d, "status")),
		    (long long)json_integer_value(json_object_get(d, "events")),
		    json_array_size(json_object_get(r, "verdicts")), flagged,
		    (long long)json_integer_value(json_object_get(d, "dropped")), path);
		json_decref(r);
	}
}

/* Entry point. */
int
cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "analyzer", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *names[CMD_REPLAY_MAX];
	char out[PATH_MAX + 32], *cause = NULL;
	struct replay_opts o;
	size_t n = 0;
	int c, quiet = 0, rc;

	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, "a:o:b:qdh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (amanifest_names(optarg, names, CMD_REPLAY_MAX, &n) == -1) {
				fprintf(stderr, "mitmlab replay: at most %d analyzers\n", CMD_REPLAY_MAX);
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
			quiet = 1;
			break;
		case 'd':
			log_set_debug(1);
			break;
		case 'h':
			cmd_replay_usage(stdout);
			return 0;
		default:
			cmd_replay_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || n == 0) {
		cmd_replay_usage(stderr);
		return 2;
	}
	o.run_dir = argv[optind];
	o.names = names;
	o.n = n;
	if ((rc = replay_run(&o, &cause)) == -1) {
		log_warnx("%s", cause != NULL ? cause : "replay failed");
		free(cause);
		return 1;
	}
	if (o.out_dir != NULL)
		snprintf(out, sizeof(out), "%s", o.out_dir);
	else
		snprintf(out, sizeof(out), "%.4000s/results", o.run_dir);
	if (!quiet) {
		printf("replayed %s to %zu analyzer(s):\n", o.run_dir, n);
		cmd_replay_summary(out, names, n);
	}
	if (rc > 0)
		log_warnx("%d analyzer(s) delivered no result (see their analyzer-NAME.log in %s)",
		    rc, out);
	return rc > 0 ? 1 : 0;
}
