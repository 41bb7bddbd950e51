/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bus — the mitmlab event bus over ZeroMQ (DESIGN.md "Contracts"). Components publish events
 * through an XPUB socket connected to the forwarder's XSUB side; the recorder and analyzers
 * subscribe on the forwarder's XPUB side. An event is a JSON object sent as the two-part
 * message [topic, json] with the required keys "v" (BUS_SCHEMA_VERSION), "t" (topic), "ts" (ns
 * since the epoch), "src" (component id) and "seq" (per-source sequence number, from 0, so a
 * reader can prove that nothing was lost). Publishing never blocks: when the queue to the
 * forwarder is full, or no forwarder has subscribed yet, the event is dropped and counted
 * (bus_dropped), and the sequence number is still consumed so the gap is visible. One struct
 * bus per thread (ZeroMQ sockets are not thread-safe); the ZeroMQ context is shared.
 * The forwarder subscribes to everything on its input as soon as it binds, so a publisher gets
 * a subscription as soon as it connects and the recorder sees every event; it validates every
 * message (busmsg.h), drops and counts invalid ones, and at shutdown records a "bus.stats"
 * event with the counts and the per-source sequence gaps.
 */
#ifndef MITMLAB_BUS_H
#define MITMLAB_BUS_H

#include <stdatomic.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <zmq.h>

#define BUS_SCHEMA_VERSION 1
#define BUS_SNDHWM_DEFAULT 100000	/* events queued per publisher; env MITMLAB_BUS_HWM */
#define BUS_LINGER_MS 2000		/* bus_close waits at most this long to flush */

struct bus;

/* The process-wide ZeroMQ context (created on first use; thread-safe). */
void *bus_zctx(void);
/* Terminate the context at exit, after every bus_close and bus_forward has returned. */
void bus_zctx_term(void);
/*
 * Connect a publisher for component src to endpoint (the forwarder's input, e.g.
 * "ipc:///run/dir/bus.in"). Waits at most wait_ms for the forwarder's subscription so that
 * early events are not lost to the ZeroMQ slow-joiner effect; returns the bus even when none
 * came (bus_subscribed tells). endpoint NULL gives a disabled bus on which bus_publish only
 * frees the event. The send queue holds MITMLAB_BUS_HWM events (default BUS_SNDHWM_DEFAULT).
 * Copies src and endpoint.
 */
struct bus *bus_open(const char *endpoint, const char *src, int wait_ms, char **cause);
/* bus_open with an explicit send queue length (sndhwm > 0 events). */
struct bus *bus_open_hwm(const char *endpoint, const char *src, int wait_ms, int sndhwm,
    char **cause);
/* Close, flushing queued events for at most BUS_LINGER_MS. NULL is a no-op. */
void bus_close(struct bus *b);
/* A new event object {"v":BUS_SCHEMA_VERSION, "t":topic, "ts":now}; NULL if out of memory.
 * For events that go elsewhere too (a client's result lines, the forwarder's own stats). */
json_t *bus_event(const char *topic);
/*
 * Receive one whole [topic, json] message from a ZeroMQ socket without waiting: its first two
 * frames into part[0..1] (both initialised here; the caller closes both, also on -1), any
 * more drained. *nframes gets 1, 2, or 3 for "more than two". Returns -1 when none was waiting.
 */
int bus_recv2(void *sock, zmq_msg_t part[2], int *nframes);
/* bus_event for publishing on b, or NULL when b is NULL or disabled (nothing would carry it)
 * or out of memory: a publisher builds nothing when the component runs without a bus. */
json_t *bus_prepare(const struct bus *b, const char *topic);
/* Stamp v/ts/src/seq (ts only if absent) and send; steals the reference to ev. Returns 0 if
 * sent, -1 if dropped (counted; an event without a string "t" is dropped too). */
int bus_publish(struct bus *b, json_t *ev);
/*
 * bus_publish, and append members to the event: a run of already serialized JSON object
 * members ("k":v,... without braces; NULL or "" for none) that must not repeat a key of ev
 * (the forwarder rejects an event with a repeated key and counts it invalid).
 * For fields that stay the same over many events (proxy.forge's PEMs, serialized once per
 * forged certificate instead of escaped anew for every connection).
 */
int bus_publish_members(struct bus *b, json_t *ev, const char *members);
uint64_t bus_sent(const struct bus *b);
uint64_t bus_dropped(const struct bus *b);
const char *bus_src(const struct bus *b);
/* Non-zero once the forwarder's subscription has arrived (a disabled bus: 1). */
int bus_subscribed(struct bus *b);
/* Non-zero unless b is a disabled bus (endpoint NULL): whether an event is worth building. */
int bus_enabled(const struct bus *b);

/* What a forwarder saw; filled when bus_forward_live returns. */
struct bus_fwd_stats {
	uint64_t received;	/* messages read on the input side (valid or not) */
	uint64_t forwarded;	/* valid messages handed to the output side */
	uint64_t recorded;	/* lines written to the record file */
	uint64_t invalid;	/* messages dropped by validation (busmsg.h) */
	uint64_t sources;	/* distinct src values tracked */
	uint64_t gaps;		/* seq discontinuities, all sources */
	uint64_t missing;	/* events the gaps say were lost */
	uint64_t boosts;	/* times the forwarder fell behind and left the idle class */
	int background;		/* its thread ran in the idle class while it kept up (bgsched.h;
				 * MITMLAB_BUS_BACKGROUND=0 turns it off) */
};

/* Run the forwarder (XSUB bind in_ep, XPUB bind out_ep) until *stop becomes non-zero (checked
 * at least every 100 ms and after every signal); when record_path is non-NULL, append every
 * valid event as one line to it, then the final "bus.stats" event. The calling thread runs in
 * the background (bgsched.h) until *stop, then drains the input in the normal class. */
int bus_forward(const char *in_ep, const char *out_ep, const char *record_path,
    volatile int *stop, char **cause);

/* What a running forwarder has done so far, readable from another thread while it runs. */
struct bus_fwd_live {
	_Atomic uint64_t lab_events;	/* valid events read from sources other than analyzer.* */
	_Atomic uint64_t passes;	/* turns of its loop (each reads its input until empty or
					 * BUS_FWD_BATCH messages, or found it empty) */
	/* set by the forwarder: the thread it runs on (for bus_fwd_wait_quiet) */
	pthread_t	 thread;
	_Atomic int	 has_thread;
	_Atomic int	 final;		/* set by bus_fwd_wait_quiet: stay in the normal class */
};
/* bus_forward that also returns the counts in *stats and keeps *live up to date (either may
 * be NULL). */
int bus_forward_live(const char *in_ep, const char *out_ep, const char *record_path,
    volatile int *stop, struct bus_fwd_stats *stats, struct bus_fwd_live *live, char **cause);
/*
 * The end-of-run barrier. It first puts the forwarder's thread in the normal scheduling class
 * for the rest of its run (it may be in the idle class, bgsched.h, which a busy machine would
 * not give a turn). The forwarder's input queues each publisher's messages apart and
 * takes them in turn, so an event published now can be read before events that publishers
 * which have already closed left queued. Call this once every lab component whose events must
 * come first has closed its bus (bus_close flushed them): it returns 1 when the forwarder has
 * turned its loop twice without reading a lab event (analyzers' verdicts may go on), so every
 * earlier lab event is recorded and forwarded before what is published next; 0 when max_ms
 * passed first.
 */
int bus_fwd_wait_quiet(struct bus_fwd_live *live, int max_ms);

/*
 * Subscribe to endpoint (a forwarder's output) for the given topic prefixes (none: all) and
 * write each valid event as one JSON line to out, until count events (0: no limit), timeout_ms
 * since the start (0: no limit) or *stop. Returns the number of events written, -1 on error.
 */
long bus_tail(const char *endpoint, const char *const *topics, int ntopics, long count,
    long timeout_ms, FILE *out, volatile int *stop, char **cause);

#endif
