/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * harness — runs analyzers (analyzers/README.md) against a bus: a live run's or a replay's.
 * For each named analyzer it reads the manifest (amanifest.h) and, for a "bus" analyzer,
 * starts its command with a PRIVATE feed: an XPUB bound at ipc://SOCK_DIR/an-<name>.sock that
 * one relay thread in the harness fills from the bus output with only the topics the
 * analyzer's vantages allow (vantage.h: lab.run.* always; lab.truth.* and proxy.* only for the
 * proxy vantage, which only role "truth" may hold). An analyzer is never connected to the raw
 * bus output, so a detector cannot see ground truth. Nor can it write any: each analyzer
 * publishes into its own input, a SUB the harness binds at ipc://SOCK_DIR/an-<name>.in.sock,
 * and the harness takes from it only analysis.* events whose src is "analyzer.<name>" and
 * whose verdicts have a string flow and a boolean intercepted (the rest is counted as
 * "invalid" or "spoofed" in the result file's delivery). Those it files into
 * RESULTS_DIR/<name>.json and publishes onto the bus input unchanged, for the recorder.
 *
 * The environment contract (any language): MITMLAB_ANALYZER_NAME, MITMLAB_ANALYZER_SUB (the
 * private feed: connect a SUB), MITMLAB_ANALYZER_PUB (its own input: connect a PUB/XPUB),
 * MITMLAB_ANALYZER_VANTAGES ("client,origin": what was granted), MITMLAB_RUN_DIR. stdout and
 * stderr go to LOG_DIR/analyzer-<name>.log.
 *
 * Never stalls: every send to an analyzer is non-blocking with a bounded queue
 * (MITMLAB_HARNESS_HWM events, default HARNESS_HWM_DEFAULT); a full queue drops the event and
 * counts it ("delivery" in the result file). harness_start waits at most
 * MITMLAB_HARNESS_READY_MS (default 10 s) for the relay's own subscription (proven by a
 * "harness.probe" event round trip through the forwarder) and for each analyzer's
 * subscription; harness_stop waits at most MITMLAB_HARNESS_WAIT_MS (default 10 s) for each
 * analysis.result, then SIGTERMs (2 s) and SIGKILLs what is left.
 *
 * "capture" analyzers (external tools reading RUN_DIR/capture/) are run by harness_stop, after
 * the captures are closed, for at most MITMLAB_HARNESS_CAPTURE_MS (default 300 s); each stdout
 * line that is a JSON object with "flow" and boolean "intercepted" becomes a verdict.
 *
 * Where the runner calls it (run.c): harness_start after the forwarder thread is up and the
 * runner's own bus is open, BEFORE lab.run.start is published; harness_stop after lab.run.end
 * has been published and the runner's bus closed, BEFORE the forwarder is stopped.
 */
#ifndef MITMLAB_HARNESS_H
#define MITMLAB_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define HARNESS_HWM_DEFAULT	200000
#define HARNESS_READY_MS	10000
#define HARNESS_WAIT_MS		10000
#define HARNESS_CAPTURE_MS	300000

struct harness;

/* The longest Unix socket path the harness binds for analyzer name under sock_dir (its
 * input, sock_dir/an-<name>.in.sock), in bytes without the NUL; binding fails unless it is
 * below sizeof(sun_path), 108 on Linux. The runner checks it before it builds anything. */
size_t harness_sock_len(const char *sock_dir, const char *name);

struct harness_opts {
	const char *run_dir;		/* {run} and MITMLAB_RUN_DIR */
	const char *bus_in;		/* forwarder input (analyzers publish here) */
	const char *bus_out;		/* forwarder output (the relay reads here) */
	const char *sock_dir;		/* private endpoints; NULL: run_dir */
	const char *results_dir;	/* NULL: run_dir/results */
	const char *log_dir;		/* NULL: run_dir/logs */
	const char *mode;		/* "live" or "replay", recorded in "meta" */
	const char *const *names;	/* analyzer names (manifests) */
	size_t n;
	const char *baseline;		/* {baseline}: a baseline run directory; NULL: none */
};

/* Start the analyzers of a live run with the defaults above (sock_dir = run_dir,
 * results in run_dir/results, logs in run_dir/logs). NULL with *cause if a manifest is
 * missing or invalid or nothing could be started; an analyzer that starts but dies is only
 * reported in its result file. */
struct harness *harness_start(const char *run_dir, const char *bus_in, const char *bus_out,
    const char *const *names, size_t n, char **cause);
/* harness_start with every option. Copies what it needs from o. */
struct harness *harness_start_opts(const struct harness_opts *o, char **cause);
/* Events the relay has read from the bus so far (for a feeder's pacing; thread-safe). */
uint64_t harness_received(const struct harness *h);
/* Wait for the results, stop the analyzers, run capture analyzers, write the result files,
 * free h. Returns the number of analyzers without a result (0: all delivered), -1 with *cause
 * if a result file could not be written. NULL is a no-op returning 0. */
int harness_stop(struct harness *h, char **cause);

#endif
