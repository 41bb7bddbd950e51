/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main — the mitmlab command line: finds the subcommand in a static table and runs it.
 * Everything else (parsing options, doing the work) belongs to the cmd_* functions.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "version.h"

struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
};

static const struct command commands[] = {
	{ "ca",    cmd_ca,    "ca init --out DIR [--profile kz-2019|kz-2020|isca-2024|plain|mitmproxy] [--seed N]" },
	{ "proxy", cmd_proxy, "proxy [options | -c FILE]   the transparent interception engine" },
	{ "bus",   cmd_bus,   "bus --in EP --out EP [--record FILE] | bus --tail EP [--topic T]   event forwarder, recorder, tail" },
	{ "origin", cmd_origin, "origin -c FILE.json | --listen ADDR:PORT --site NAME,CERT,KEY   the lab's web" },
	{ "client", cmd_client, "client --url URL... [options]   load generator (the client vantage)" },
	{ "wrap",  cmd_wrap,  "wrap --tool curl|openssl --url URL...   real clients as workload steps" },
	{ "netq",  cmd_netq,  "netq [options]   the packet plane: NFQUEUE diversion, signals, impairments" },
	{ "probe", cmd_probe, "probe ttl --host NAME --connect IP[:PORT] [options]   localise an interceptor (TTL-limited hellos)" },
	{ "run",   cmd_run,   "run SCENARIO.yaml [--out DIR] [--seed N] [--scale X] [--keep-keys] [--analyzer NAME[,NAME]]...   (run --help)" },
	{ "check", cmd_check, "check SCENARIO.yaml...   validate scenarios without running them" },
	{ "lab",   cmd_lab,   "lab up SCENARIO.yaml | exec NODE -- CMD | ls | down [ID...] | gc   the interactive lab" },
	{ "report", cmd_report, "report RUN_DIR [--format html|md|json] [--out FILE]   evidence report of a run" },
	{ "replay", cmd_replay, "replay RUN_DIR --analyzer NAME[,NAME]... [--out DIR]   run analyzers on a recorded run" },
	{ "compare", cmd_compare, "compare RUN_DIR... [--detector NAME[,NAME]]... [--out DIR]   score detectors against the ground truth" },
};

/* Print the list of subcommands. */
static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: mitmlab COMMAND [ARGS]   (mitmlab COMMAND --help for options)\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  mitmlab %s\n", commands[i].help);
	fprintf(f, "  mitmlab version\n");
}

/* Dispatch to the subcommand. */
int
main(int argc, char **argv)
{
	char prog[64];
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("mitmlab %s (%s)\n", MITMLAB_VERSION, MITMLAB_GIT);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			snprintf(prog, sizeof(prog), "mitmlab %s", commands[i].name);
			log_init(prog);
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "mitmlab: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
