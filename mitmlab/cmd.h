/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd — the subcommands of the one mitmlab binary. Each takes argc/argv with argv[0] = the
 * subcommand name, parses its own options (getopt_long), and returns the process exit status:
 * 0 success, 1 runtime failure, 2 usage error. Only main() exits.
 */
#ifndef MITMLAB_CMD_H
#define MITMLAB_CMD_H

#include <stddef.h>
#include <stdio.h>

int cmd_ca(int argc, char **argv);	/* mitmlab ca init --out DIR [--profile P] [--seed N] */
int cmd_proxy(int argc, char **argv);	/* mitmlab proxy [options | -c FILE] */
int cmd_bus(int argc, char **argv);	/* mitmlab bus --in EP --out EP [--record FILE] */
int cmd_probe(int argc, char **argv);	/* mitmlab probe ttl --host NAME --connect IP[:PORT] */
int cmd_run(int argc, char **argv);	/* mitmlab run SCENARIO.yaml [options] */
int cmd_check(int argc, char **argv);	/* mitmlab check SCENARIO.yaml... */
int cmd_lab(int argc, char **argv);	/* mitmlab lab up|exec|ls|down|gc */
int cmd_origin(int argc, char **argv);	/* mitmlab origin -c FILE.json | --listen --site */
int cmd_client(int argc, char **argv);	/* mitmlab client --url URL... */
int cmd_wrap(int argc, char **argv);	/* mitmlab wrap --tool curl|openssl --url URL... */
int cmd_netq(int argc, char **argv);	/* mitmlab netq [options]   the packet plane (gateway ns) */
int cmd_report(int argc, char **argv);	/* mitmlab report RUN_DIR [--format html|md|json] [--out FILE] */
int cmd_replay(int argc, char **argv);	/* mitmlab replay RUN_DIR --analyzer NAME... [--out DIR] */
int cmd_compare(int argc, char **argv);	/* mitmlab compare RUN_DIR... [--detector NAME...] [--out DIR] */

/* Shared by run and lab up (cmd_run.c). */
struct run_opts;
int cmd_run_opts(int argc, char **argv, struct run_opts *o, const char **an, size_t n_an,
    int lab, void (*usage)(FILE *));
char *cmd_run_cmdline(int argc, char **argv);
/* A bounded integer option (cmd_util.c): -1 after saying "--NAME: why". */
int cmd_opt_num(const char *name, const char *s, long long min, long long max, long long *v);

#endif
