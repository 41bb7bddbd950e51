/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mitmlab-analyzer.h — the analyzer SDK: the public C API for programs that watch a mitmlab
 * run's event bus and say, per flow, whether they believe it was intercepted.
 *
 * Build against it with `pkg-config --cflags --libs mitmlab-analyzer` (libmitmlab-analyzer.a,
 * which needs jansson and libzmq). analyzers/README.md walks through a whole analyzer; the
 * ground-truth analyzer analyzers/truth/truth.c is a complete example in ~150 lines.
 *
 * THE MODEL
 *   An analyzer is a separate process. The harness (`mitmlab run` for a live run, `mitmlab
 *   replay` / `mitmlab compare` for a recorded one) starts it with its manifest's command
 *   (analyzers/<name>/analyzer.json) and gives it, in the environment:
 *     MITMLAB_ANALYZER_NAME      the manifest name; the analyzer publishes as src
 *                                "analyzer.<name>"
 *     MITMLAB_ANALYZER_SUB       its PRIVATE event feed (a ZeroMQ endpoint to SUB to); it
 *                                carries only the topics of the vantages the manifest declares
 *     MITMLAB_ANALYZER_PUB       its own input, where verdicts and the result are published (the
 *                                harness checks the src and topic, then forwards to the bus)
 *     MITMLAB_ANALYZER_VANTAGES  what the harness granted, e.g. "client,origin"
 *     MITMLAB_RUN_DIR            the run directory (read-only for analyzers)
 *   The command line options --sub EP, --pub EP and --name NAME override these, so an
 *   analyzer can also be run by hand against a live forwarder
 *   (`--sub ipc://RUN/bus.out --pub ipc://RUN/bus.in`); without --pub it prints its verdicts
 *   and result as JSON lines on stdout.
 *
 * VANTAGES (what an analyzer may see; declare the smallest set that does the job)
 *   ANALYZER_CLIENT   client.*   what clients saw (client.result: outcome, chain, timings)
 *   ANALYZER_ORIGIN   origin.*   what servers saw (origin.hello: JA3/JA4, UA; origin.request)
 *   ANALYZER_NET      net.*      packet-level signals on the path
 *   ANALYZER_PROXY    proxy.* and lab.truth.*: GROUND TRUTH. Only an analyzer whose manifest
 *                     says "role": "truth" may declare it; a detector that asks for it is
 *                     refused by the harness before it starts.
 *   Every analyzer also receives lab.run.* (lab.run.start with the scenario name, and
 *   lab.run.end, which ends the analysis). The declared set in struct analyzer_def must be a
 *   subset of what the harness granted (the manifest), or analyzer_open fails with a message
 *   saying which; events outside the declared set are dropped by the SDK as well.
 *
 * EVENTS
 *   Every event is a JSON object with "v" (schema version), "t" (topic), "ts" (ns since the
 *   epoch), "src" (component id), "seq" (per-source sequence). Flow-scoped events carry
 *   "flow" = "CLIENTIP:CPORT>DSTIP:DPORT", the same on every vantage for one client
 *   connection: that is the key verdicts are about. The SDK validates every message before
 *   the callback sees it. Events arrive in the order the bus recorded them; in a replay, in
 *   the order of events.jsonl — an analyzer that is a deterministic function of its input
 *   therefore gives identical verdicts live and in every replay. Do not read the wall clock to
 *   decide anything; use analyzer_now() (the ts of the event being handled).
 *
 * OUTPUT
 *   analysis.verdict (one or more per flow; the last one per flow counts when scoring):
 *     "flow"         the flow id
 *     "intercepted"  true / false
 *     "confidence"   0..1
 *     "signal"       short name of what decided it ("root-not-web-pki", "ja3-mismatch", ...)
 *     "evidence"     object, free form: what a human needs to check the verdict
 *     "at"           ts (ns) of the event the verdict is based on; set by the SDK to
 *                    analyzer_now() unless given (time-to-detection is measured with it)
 *   analysis.result (exactly one, at lab.run.end — or at SIGTERM with "complete": false):
 *     "analyzer", "complete", "events" (events handled), "verdicts", "flagged" (verdicts with
 *     intercepted true), plus whatever the on_end callback adds (a summary object is usual).
 *   The harness writes both into RUN_DIR/results/<name>.json.
 *
 * THREADS AND ERRORS
 *   One analyzer per process, single-threaded: every function must be called from the thread
 *   that runs analyzer_run (callbacks run on it). Functions returning int return 0 on
 *   success and -1 on failure. Publishing queues up to 100,000 messages; when the harness
 *   stops reading and that queue is full, a publish waits up to 2 s for room, then drops
 *   the message and counts it in analyzer_dropped (so a stalled reader costs at most 2 s
 *   per message, never the message silently). Symbols with the prefixes analyzer_, busmsg_,
 *   util_ and vantage_ are reserved by the library.
 *
 * SCHEDULING
 *   analyzer_run puts its thread in Linux's SCHED_IDLE class while it keeps up with the feed,
 *   so that the lab's own processes keep their cores and the feed is read in batches when a
 *   core is idle. An event more than 2 s old (it fell behind) returns it to the normal class
 *   at once; it goes back to idle after a pass that emptied the feed with every event under
 *   50 ms old. on_end runs in the normal class. This is done only where the thread can leave
 *   the idle class again (CAP_SYS_NICE, as the harness runs analyzers as root, or an
 *   RLIMIT_NICE that allows nice 0; tried at start), not with MITMLAB_BUS_BACKGROUND=0, and
 *   not when the process was started in another class than SCHED_OTHER. Threads and
 *   processes started from a callback inherit the idle class. ZeroMQ's I/O thread is
 *   SCHED_BATCH: it gets its fair share but does not preempt. A replay's events are old, so
 *   an analyzer replaying a run stays in the normal class.
 */
#ifndef MITMLAB_ANALYZER_H
#define MITMLAB_ANALYZER_H

#include <stdint.h>

#include <jansson.h>

#define ANALYZER_API_VERSION	1

#define ANALYZER_CLIENT		0x1u
#define ANALYZER_ORIGIN		0x2u
#define ANALYZER_NET		0x4u
#define ANALYZER_PROXY		0x8u	/* ground truth: role "truth" only */

struct analyzer;	/* opaque; one per process */

/*
 * Called once per event in the declared vantages (and for lab.run.*), in bus order. topic and
 * src point into ev; ev is borrowed (json_incref it to keep it). Return 0 to go on, -1 to stop
 * the analyzer with a failure (it still publishes a result with "complete": false).
 */
typedef int (*analyzer_event_fn)(struct analyzer *a, const char *topic, const char *src,
    json_t *ev, void *arg);

/*
 * Called once at lab.run.end (after on_event saw it) or on SIGTERM/SIGINT (complete == 0),
 * before analysis.result is published: publish any verdicts held back until the end, and add
 * summary keys to result (borrowed; json_object_set_new into it). Return 0, or -1 to mark the
 * run as failed (the exit status becomes 1).
 */
typedef int (*analyzer_end_fn)(struct analyzer *a, json_t *result, int complete, void *arg);

struct analyzer_def {
	const char		*name;		/* default name (the manifest's overrides it) */
	unsigned		 vantages;	/* ANALYZER_* bits */
	analyzer_event_fn	 on_event;	/* required */
	analyzer_end_fn		 on_end;	/* may be NULL */
	void			*arg;		/* passed to both callbacks */
	/* The topics on_event reads, NULL-terminated, each inside the vantages; NULL: every topic
	 * of the vantages. on_event then gets only these and lab.run.*; the feed is subscribed
	 * to them, so other events are not even sent (bar longer topics with one as prefix,
	 * which the SDK drops). */
	const char *const	*topics;
};

/*
 * The whole life of an analyzer: analyzer_open, analyzer_run, analyzer_close. Returns the
 * process exit status for main() (0 ok, 1 failure, 2 usage). Typical main():
 *     int main(int argc, char **argv) { return analyzer_main(&def, argc, argv); }
 */
int analyzer_main(const struct analyzer_def *def, int argc, char **argv);

/* Parse --sub/--pub/--name/--debug (other arguments are kept for analyzer_args), read the
 * environment, check the vantages against the grant, connect the publisher and then the
 * feed. NULL with *cause (malloc'd; the caller frees) on failure. */
struct analyzer *analyzer_open(const struct analyzer_def *def, int argc, char **argv,
    char **cause);
/* Receive and dispatch events until lab.run.end, a signal, or a callback's -1; then call
 * on_end and publish analysis.result. Returns 0, or -1 when a callback failed. */
int analyzer_run(struct analyzer *a);
/* Close sockets (flushing what is queued, at most 2 s) and free. NULL is a no-op. */
void analyzer_close(struct analyzer *a);

/*
 * Publish a verdict about flow. signal: short name of the deciding signal (required).
 * evidence: an object or NULL; the reference is STOLEN (json_pack(...) can be passed
 * directly). confidence is clamped to 0..1. "at" is analyzer_now().
 */
int analyzer_verdict(struct analyzer *a, const char *flow, int intercepted, double confidence,
    const char *signal, json_t *evidence);
/* analyzer_verdict with an explicit "at" (ns; 0 means analyzer_now()). */
int analyzer_verdict_at(struct analyzer *a, const char *flow, int intercepted,
    double confidence, const char *signal, json_t *evidence, int64_t at);
/* Publish any other analysis.* event (topic must start with "analysis."); steals ev. */
int analyzer_publish(struct analyzer *a, const char *topic, json_t *ev);

/* The analyzer's name (the manifest's when run by the harness). */
const char *analyzer_name(const struct analyzer *a);
/* The ts (ns) of the event being handled; of the last event outside a callback. */
int64_t analyzer_now(const struct analyzer *a);
/* Events delivered to on_event so far. */
uint64_t analyzer_events(const struct analyzer *a);
/* Messages that could not be published. */
uint64_t analyzer_dropped(const struct analyzer *a);
/* Arguments the SDK did not consume (argv[0] excluded); *argc gets their number. */
char **analyzer_args(const struct analyzer *a, int *argc);
/* printf-style line on stderr (the analyzer's log file under the harness), prefixed with the
 * name; only when --debug was given if debug is non-zero. */
void analyzer_log(const struct analyzer *a, int debug, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
