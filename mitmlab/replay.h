/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay — `mitmlab replay`: feed a recorded run (RUN_DIR/events.jsonl) through a fresh bus
 * (its own forwarder on ipc:// sockets in a temporary directory) to analyzers started by the
 * harness (harness.h), in recorded order, ending with lab.run.end (synthesized, marked
 * "synthesized": true, when the recording has none), and collect their result files. Recorded
 * analysis.*, harness.* and bus.* events are not replayed (they are outputs, not
 * observations), nor events no selected analyzer may see. The feeder keeps at most
 * REPLAY_INFLIGHT events ahead of the harness's relay, so a fast replay does not overrun the
 * bus queues; results are therefore identical from one replay to the next for analyzers that
 * are a function of their input (only the "meta" part of a result file differs).
 */
#ifndef MITMLAB_REPLAY_H
#define MITMLAB_REPLAY_H

#include <stddef.h>

#define REPLAY_INFLIGHT 20000

struct replay_opts {
	const char		*run_dir;
	const char *const	*names;		/* analyzers */
	size_t			 n;
	const char		*out_dir;	/* NULL: RUN_DIR/results */
	const char		*baseline;	/* {baseline} for the analyzers; NULL: none */
};

/* Replay and write OUT_DIR/<name>.json per analyzer. Returns the number of analyzers that
 * delivered no result (0: all did), -1 with *cause when the replay itself failed. */
int replay_run(const struct replay_opts *o, char **cause);

#endif
