/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_run — `mitmlab run SCENARIO.yaml [--out DIR] [--seed N] [--scale X] [--keep-keys]`,
 * `mitmlab check SCENARIO.yaml` (validate only) and `mitmlab lab gc` (remove what crashed
 * runs left). Option parsing and messages only; run.c does the work.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amanifest.h"
#include "cmd.h"
#include "lab.h"
#include "log.h"
#include "run.h"
#include "scenario.h"
#include "util.h"

/* Usage of run. */
static void
cmd_run_usage(FILE *f)
{
	fprintf(f, "usage: mitmlab run SCENARIO.yaml [--out DIR] [--seed N] [--scale X] "
	    "[--keep-keys] [--quiet]\n"
	    "  --out DIR     run directory (default runs/<scenario>-<UTC stamp>)\n"
	    "  --seed N      override the scenario's seed\n"
	    "  --scale X     multiply every client's connection count (0.01 .. 1000)\n"
	    "  --keep-keys   keep private keys in DIR/pki (mode 0600); default: removed\n"
	    "  --analyzer NAME[,NAME]  run analyzers live too (repeatable; results/NAME.json)\n"
	    "  --baseline DIR   baseline run for analyzers that learn from one ({baseline})\n"
	    "  --no-report   do not write report.{json,md,html} and capture/evidence.pcapng\n"
	    "  --quiet       no progress lines\n");
}

/* Join argv for the manifest. */
static char *
cmd_run_cmdline(int argc, char **argv)
{
	size_t len = 16;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((s = calloc(1, len)) == NULL)
		return NULL;
	strcat(s, "mitmlab");
	for (i = 0; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* mitmlab run */
int
cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 's' },
		{ "scale", required_argument, NULL, 'x' },
		{ "keep-keys", no_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "analyzer", required_argument, NULL, 'a' },
		{ "no-report", no_argument, NULL, 'R' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct run_opts o;
	const char *an[64];
	char *cause = NULL, *dir = NULL, *end;
	long long seed;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.scale = 1.0;
	o.analyzers = an;
	while ((c = getopt_long(argc, argv, "o:s:x:kqdh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':	/* NAME or NAME,NAME… as for replay and compare */
			if (amanifest_names(optarg, an, sizeof(an) / sizeof(an[0]),
			    &o.n_analyzers) == -1) {
				fprintf(stderr, "mitmlab run: at most %zu analyzers\n",
				    sizeof(an) / sizeof(an[0]));
				return 2;
			}
			break;
		case 'R':
			o.no_report = 1;
			break;
		case 'b':
			o.baseline = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 's':
			if (util_parse_ll(optarg, 1, (long long)1 << 62, &seed, &cause) == -1) {
				fprintf(stderr, "mitmlab run: --seed: %s\n", cause);
				free(cause);
				return 2;
			}
			o.seed = (uint64_t)seed;
			break;
		case 'x':
			o.scale = strtod(optarg, &end);
			if (*end != '\0' || o.scale < 0.01 || o.scale > 1000) {
				fprintf(stderr, "mitmlab run: --scale \"%s\": use a number from 0.01 to 1000\n", optarg);
				return 2;
			}
			break;
		case 'k':
			o.keep_keys = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'd':
			log_set_debug(1);
			break;
		case 'h':
			cmd_run_usage(stdout);
			return 0;
		default:
			cmd_run_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		cmd_run_usage(stderr);
		return 2;
	}
	o.scenario = argv[optind];
	o.cmdline = cmd_run_cmdline(argc, argv);
	rc = run_scenario(&o, &dir, &cause);
	if (rc == -1) {
		fprintf(stderr, "mitmlab run: %s\n", cause ? cause : "failed");
		free(cause);
	}
	free(dir);
	free((char *)(uintptr_t)o.cmdline);
	return rc == 0 ? 0 : 1;
}

/* mitmlab check SCENARIO... */
int
cmd_check(int argc, char **argv)
{
	struct scenario *s;
	char *cause = NULL;
	int i, bad = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fprintf(argc < 2 ? stderr : stdout, "usage: mitmlab check SCENARIO.yaml...\n");
		return argc < 2 ? 2 : 0;
	}
	for (i = 1; i < argc; i++) {
		if ((s = scenario_load(argv[i], &cause)) == NULL) {
			fprintf(stderr, "%s\n", cause);
			free(cause);
			cause = NULL;
			bad = 1;
			continue;
		}
		printf("%s: ok: scenario %s, %u origin(s), %u client(s), %u target name(s), "
		    "gateway %s\n", argv[i], s->name, s->origins_count, s->clients_count,
		    s->target_names_count, s->gateway->intercept ? s->gateway->forging : "not intercepting");
		scenario_free(s);
	}
	return bad ? 1 : 0;
}

/* mitmlab lab gc|down: remove labs left behind. */
int
cmd_lab(int argc, char **argv)
{
	int n;

	if (argc >= 2 && strcmp(argv[1], "gc") == 0) {
		n = lab_gc(0, 1);
		printf("removed %d lab(s) of runs no longer running\n", n);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "down") == 0) {
		n = lab_gc(1, 1);
		printf("removed %d lab(s)\n", n);
		return 0;
	}
	fprintf(stderr, "usage: mitmlab lab gc     remove labs whose runner died\n"
	    "       mitmlab lab down   remove every mitmlab lab on this host\n");
	return 2;
}
