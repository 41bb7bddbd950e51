/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bgsched — background scheduling for the bus's consumers (the forwarder and recorder, and the
 * analyzer library's event loop). A consumer thread runs in Linux's SCHED_IDLE class while it
 * keeps up with the events it reads, so that it takes a core only when the lab's own
 * processes (clients, origins, routers, the engine) leave it idle, and reads what queued
 * meanwhile in one pass instead of waking for each event. It watches how far behind it is —
 * the age of each event it handles, now minus the event's "ts" — and returns to the normal
 * class (SCHED_OTHER, its nice value unchanged) as soon as an event is older than
 * BGSCHED_BOOST_NS, so that on a machine the lab keeps busy it gets its fair share of a core
 * again; it goes back to the idle class only after a pass over its input that emptied the
 * input and in which every event was younger than BGSCHED_CALM_NS. (Per pass, not per event:
 * the input interleaves publishers, and a fresh event of a quiet one — an analyzer's verdict —
 * does not mean the busy ones' backlog is gone.)
 *
 * It applies to the calling thread only; threads and processes that thread starts inherit
 * its class. The I/O threads of a ZeroMQ context are SCHED_BATCH (bus_zctx). It is used only
 * where the thread can be seen to leave the idle class again (bgsched_capable: CAP_SYS_NICE in
 * the initial user namespace, or an RLIMIT_NICE that allows its nice value); elsewhere, or
 * with MITMLAB_BUS_BACKGROUND=0, the thread keeps its class and these calls do nothing.
 */
#ifndef MITMLAB_BGSCHED_H
#define MITMLAB_BGSCHED_H

#include <stdint.h>

/* Back to the normal class when an event being handled is this old (2 s). */
#define BGSCHED_BOOST_NS	2000000000LL
/* Back to the idle class after a pass that emptied the input with events younger than this
 * (50 ms). */
#define BGSCHED_CALM_NS		50000000LL
_Static_assert(BGSCHED_CALM_NS < BGSCHED_BOOST_NS, "hysteresis: calm below boost");

struct bgsched {
	int		 enabled;	/* this thread switches classes */
	int		 boosted;	/* in the normal class because it fell behind */
	int		 changed;	/* it has left its original class, and bgsched_stop has not
					 * put it back yet */
	int64_t		 pass_oldest;	/* age of the oldest event of this pass, ns */
	uint64_t	 boosts;	/* times it fell behind */
	uint64_t	 boosted_ns;	/* time spent boosted, up to the last switch back */
	uint64_t	 since_ns;	/* monotonic time of the last boost */
	const char	*who;		/* for log lines; not copied */
};

/* The next state: 1 boosted, 0 idle. oldest_ns is the age of the oldest event seen (of the
 * pass, or of the one event being handled); drained says the input was emptied. */
int bgsched_next(int boosted, int64_t oldest_ns, int drained);
/* Can this thread leave SCHED_IDLE again? Tried in a short-lived thread of its own: idle,
 * then normal. */
int bgsched_capable(void);
/* Start background scheduling for the calling thread (see above); who names it in log lines
 * and must outlive b. Returns b->enabled. */
int bgsched_start(struct bgsched *b, const char *who);
/* An event stamped ts_ns (ns since the Unix epoch): the normal class at once when it is too
 * old. Cheap: one clock read. */
void bgsched_event(struct bgsched *b, int64_t ts_ns);
/* The end of a pass over the input (drained: it was emptied): back to the idle class when
 * bgsched_next says so; the next pass starts. */
void bgsched_pass(struct bgsched *b, int drained);
/* Leave background scheduling: the thread is put back in the normal class (for a drain or
 * the final results, which should not wait for an idle core) if it ever left it. Once: a
 * second call does nothing. */
void bgsched_stop(struct bgsched *b);
/* ZeroMQ context zctx's I/O threads in SCHED_BATCH (they read while their consumer may be in
 * the idle class, and must keep a fair share to do so), set only from the normal class:
 * libzmq aborts when its thread cannot take the policy, and a thread started in the idle
 * class may not leave it. 0 when set or not tried; -1 when libzmq refused (zmq_errno). */
int bgsched_zctx_batch(void *zctx);

#endif
