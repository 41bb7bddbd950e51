/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_run — `mitmlab run SCENARIO.yaml [--out DIR] [--seed N] [--scale X] [--timeout-scale F]
 * [--keep-keys]`,
 * `mitmlab check SCENARIO.yaml` (validate only), and the option parser `mitmlab lab up`
 * shares. Option parsing and messages only; run.c does the work.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amanifest.h"
#include "cmd.h"
#include "log.h"
#include "run.h"
#include "scenario.h"
#include "util.h"

/* Usage of run. */
static void
cmd_run_usage(FILE *f)
{
	fprintf(f, "usage: mitmlab run SCENARIO.yaml [--out DIR] [--seed N] [--scale X] "
	    "[--timeout-scale F] [--keep-keys] [--quiet]\n"
	    "  --out DIR     run directory (default runs/<scenario>-<UTC stamp>)\n"
	    "  --seed N      override the scenario's seed\n"
	    "  --scale X     multiply every client's connection count (0.01 .. 1000)\n"
	    "  --timeout-scale F  multiply the clients' timeouts, the engine's handshake and\n"
	    "                block timeouts and the waits for components to start (1 .. 100;\n"
	    "                for slow machines such as a VM under emulation; the workload's\n"
	    "                duration and the TTL probe's per-hop wait are not scaled)\n"
	    "  --keep-keys   keep private keys in DIR/pki (mode 0600); default: removed\n"
	    "  --analyzer NAME[,NAME]  run analyzers live too (repeatable; results/NAME.json)\n"
	    "  --baseline DIR   baseline run for analyzers that learn from one ({baseline})\n"
	    "  --no-report   do not write report.{json,md,html} and capture/evidence.pcapng\n"
	    "  --quiet       no progress lines\n"
	    "exit status: 0 the run completed; 1 it could not be run (the message says why;\n"
	    "  no lab is left; a run directory already made keeps manifest.json with status\n"
	    "  \"failed\", the certificates and logs); 2 a usage error; 3 it ran to the end but degraded\n"
	    "  (a component died or was killed, a capture or events.jsonl could not be\n"
	    "  written: manifest.json \"status\" and \"problems\"); 130 interrupted by\n"
	    "  SIGINT, SIGTERM, SIGHUP or SIGQUIT (torn down, the run directory holds what\n"
	    "  was recorded). With 3 and 130 the run directory is as complete as with 0\n"
	    "  (manifest, summary, report), except that a run interrupted before its bus\n"
	    "  started has only a manifest, and one interrupted before its run directory\n"
	    "  was made has nothing.\n");
}

/* A plain decimal number (digits and one '.', no sign, blank, exponent, hex, nan or inf) from
 * lo to hi into *v; -1 otherwise. */
static int
cmd_run_number(const char *s, double lo, double hi, double *v)
{
	char *end;

	if (*s == '\0' || strspn(s, "0123456789.") != strlen(s))
		return -1;
	*v = strtod(s, &end);
	return *end == '\0' && *v >= lo && *v <= hi ? 0 : -1;
}

/*
 * The options `mitmlab run` and `mitmlab lab up` share, parsed into o (an: storage for the
 * analyzer names, n_an slots). lab: accept --max-s (lab up). Returns -1 to go on (optind is
 * the scenario), or the exit status (0 after --help, 2 on a usage error).
 */
int
cmd_run_opts(int argc, char **argv, struct run_opts *o, const char **an, size_t n_an, int lab,
    void (*usage)(FILE *))
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 's' },
		{ "scale", required_argument, NULL, 'x' },
		{ "timeout-scale", required_argument, NULL, 'T' },
		{ "keep-keys", no_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "analyzer", required_argument, NULL, 'a' },
		{ "no-report", no_argument, NULL, 'R' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "max-s", required_argument, NULL, 'm' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *prog = lab ? "mitmlab lab up" : "mitmlab run";
	char *cause = NULL;
	long long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->scale = 1.0;
	o->timeout_scale = 1.0;
	o->analyzers = an;
	o->interactive = lab;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:s:x:kqdh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':	/* NAME or NAME,NAME… as for replay and compare */
			if (amanifest_names(optarg, an, n_an, &o->n_analyzers) == -1) {
				fprintf(stderr, "%s: at most %zu analyzers\n", prog, n_an);
				return 2;
			}
			break;
		case 'R':
			o->no_report = 1;
			break;
		case 'b':
			o->baseline = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 's':
		case 'm':
			if (c == 'm' && !lab) {
				usage(stderr);
				return 2;
			}
			if (util_parse_ll(optarg, c == 's' ? 1 : 0, c == 's' ? (long long)1 << 62 :
			    7 * 86400, &v, &cause) == -1) {
				fprintf(stderr, "%s: --%s: %s\n", prog, c == 's' ? "seed" : "max-s", cause);
				free(cause);
				return 2;
			}
			if (c == 's')
				o->seed = (uint64_t)v;
			else
				o->max_s = (unsigned)v;
			break;
		case 'x':
			if (cmd_run_number(optarg, 0.01, 1000, &o->scale) == -1) {
				fprintf(stderr, "%s: --scale \"%s\": use a number from 0.01 to 1000\n",
				    prog, optarg);
				return 2;
			}
			break;
		case 'T':
			if (cmd_run_number(optarg, 1, 100, &o->timeout_scale) == -1) {
				fprintf(stderr, "%s: --timeout-scale \"%s\": use a number from 1 to "
				    "100\n", prog, optarg);
				return 2;
			}
			break;
		case 'k':
			o->keep_keys = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'd':
			log_set_debug(1);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	o->scenario = argv[optind];
	return -1;
}

/* Join argv for the manifest ("mitmlab" + words). */
char *
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
	struct run_opts o;
	const char *an[64];
	char *cause = NULL, *dir = NULL, *cmdline;
	int rc;

	cmdline = cmd_run_cmdline(argc, argv);	/* before getopt permutes argv */
	if ((rc = cmd_run_opts(argc, argv, &o, an, sizeof(an) / sizeof(an[0]), 0,
	    cmd_run_usage)) != -1) {
		free(cmdline);
		return rc;
	}
	o.cmdline = cmdline;
	rc = run_scenario(&o, &dir, &cause);
	if (rc == -1) {
		fprintf(stderr, "mitmlab run: %s\n", cause ? cause : "failed");
		free(cause);
	}
	free(dir);
	free(cmdline);
	return rc == -1 ? 1 : rc;	/* 0, RUN_EXIT_DEGRADED or RUN_EXIT_INTERRUPTED */
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
		if ((s = scenario_load(argv[i], &cause)) == NULL ||
		    scenario_check_analyzers(s, &cause) == -1) {
			scenario_free(s);
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
