/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * anrun — reading another recorded run (a baseline) from an analyzer: its events.jsonl, in
 * file order, filtered by topic prefix. Part of libmitmlab-analyzer.a, not of the bus
 * contract: an analyzer that learns from a baseline is given its directory on the command
 * line (the manifest placeholder {baseline}) and reads it with this, before or after the
 * live feed. Pure file reading; no sockets.
 */
#ifndef MITMLAB_ANRUN_H
#define MITMLAB_ANRUN_H

#include <jansson.h>

/* Called per matching event (borrowed); return 0 to go on, -1 to stop with failure. */
typedef int (*anrun_fn)(json_t *ev, void *arg);

/* Feed every event of RUN_DIR/events.jsonl whose topic starts with prefix ("" = all) to fn.
 * Returns the number of events fed, or -1 (with *cause, malloc'd) when the file cannot be read
 * or fn failed. Lines that are not JSON objects with a string "t" are skipped. */
long anrun_events(const char *run_dir, const char *prefix, anrun_fn fn, void *arg, char **cause);

/* The "--baseline=DIR" / "--baseline DIR" value among args, or NULL when absent or empty. */
const char *anrun_baseline_arg(int argc, char **argv);

/* Feed the events under prefix of the baseline named among args (anrun_baseline_arg) to fn.
 * Returns the number fed, 0 without a baseline, -1 when it cannot be read — reported on stderr
 * as "who: baseline: cause", the analyzer then runs without it. */
long anrun_baseline(int argc, char **argv, const char *prefix, anrun_fn fn, void *arg,
    const char *who);

#endif
