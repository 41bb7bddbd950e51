/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bgsched — background scheduling for the bus's consumers (the forwarder and recorder, and the
 * analyzer library's event loop). A consumer thread runs in Linux's SCHED_IDLE class while it
 * keeps up with the events it reads, so that it takes a core only when the lab's own
 * processes (clients, origins, routers, the engine) leave it idle, and reads what queued
 * meanwhile in one pass instead of waking for each event. It watches how far behind it is —
 * the age of each event it handles, now minus the event's "ts" — and returns to the normal
 * class (SCHED_OTHER, its nice value unchanged) once that exceeds BGSCHED_BOOST_NS, so that on
 * a machine the lab keeps busy it gets its fair share again and its queues cannot fill; it
 * goes back to the idle class when it has caught up (age under BGSCHED_CALM_NS).
 *
 * It applies to the calling thread only (the I/O threads of a ZeroMQ context are SCHED_BATCH,
 * bus_zctx), and only where the thread may leave the idle class again: root, CAP_SYS_NICE, or
 * an RLIMIT_NICE that allows its nice value. Elsewhere, or with MITMLAB_BUS_BACKGROUND=0, the
 * thread keeps its class and these calls only count.
 */
#ifndef MITMLAB_BGSCHED_H
#define MITMLAB_BGSCHED_H

#include <stdint.h>

/* Back to the normal class when the event being handled is this old (2 s). */
#define BGSCHED_BOOST_NS	2000000000LL
/* Back to the idle class when it is younger than this (50 ms). */
#define BGSCHED_CALM_NS		50000000LL

struct bgsched {
	int		 enabled;	/* this thread switches classes */
	int		 boosted;	/* in the normal class because it fell behind */
	uint64_t	 boosts;	/* times it fell behind */
	uint64_t	 boosted_ns;	/* time spent boosted, up to the last switch back */
	uint64_t	 since_ns;	/* monotonic time of the last boost */
	const char	*who;		/* for log lines; not copied */
};

/* The next state for an event of age age_ns: 1 boosted, 0 idle (hysteresis between
 * BGSCHED_CALM_NS and BGSCHED_BOOST_NS). */
int bgsched_next(int boosted, int64_t age_ns);
/* Start background scheduling for the calling thread (see above); who names it in log lines
 * and must outlive b. Returns b->enabled. */
int bgsched_start(struct bgsched *b, const char *who);
/* Account an event stamped ts_ns (ns since the Unix epoch): switch class when bgsched_next
 * says so. Cheap: one clock read. */
void bgsched_event(struct bgsched *b, int64_t ts_ns);
/* Leave background scheduling: the thread is back in the normal class (for a drain or the
 * final results, which should not wait for an idle core); boosted_ns is brought up to date. */
void bgsched_stop(struct bgsched *b);

#endif
