/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bgsched — the bus consumers' background scheduling (bgsched.h): the calling thread in
 * SCHED_IDLE while it keeps up, SCHED_OTHER while it is behind. Which events a consumer reads
 * and what it does with them is its own business; this only decides when it runs.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "bgsched.h"
#include "log.h"
#include "util.h"

/* Put the calling thread in policy (priority 0, the only one these classes have). Returns
 * 0 or an errno value. */
static int
bgsched_set(int policy)
{
	struct sched_param p;

	memset(&p, 0, sizeof(p));
	return pthread_setschedparam(pthread_self(), policy, &p);
}

/* bgsched_capable's trial thread: idle, then normal; NULL when both switches held. */
static void *
bgsched_trial(void *arg)
{
	(void)arg;
	if (bgsched_set(SCHED_IDLE) != 0)
		return "no idle class";
	if (bgsched_set(SCHED_OTHER) != 0 || sched_getscheduler(0) != SCHED_OTHER)
		return "no way back";
	return NULL;
}

/* Capable (bgsched.h). The kernel decides (CAP_SYS_NICE in the initial user namespace, or
 * RLIMIT_NICE; an LSM or seccomp may refuse too): a thread of our own asks it. */
int
bgsched_capable(void)
{
	pthread_t th;
	void *why = "no thread";

	if (pthread_create(&th, NULL, bgsched_trial, NULL) != 0 ||
	    pthread_join(th, &why) != 0)
		return 0;
	return why == NULL;
}

/* Hysteresis (bgsched.h). */
int
bgsched_next(int boosted, int64_t oldest_ns, int drained)
{
	if (oldest_ns > BGSCHED_BOOST_NS)
		return 1;
	if (boosted)
		return !(drained && oldest_ns < BGSCHED_CALM_NS);
	return 0;
}

/* Start (bgsched.h). */
int
bgsched_start(struct bgsched *b, const char *who)
{
	const char *env = getenv("MITMLAB_BUS_BACKGROUND");
	int e;

	memset(b, 0, sizeof(*b));
	b->who = who;
	b->pass_oldest = INT64_MIN;
	if (env != NULL && strcmp(env, "0") == 0) {
		log_debug("%s: normal scheduling (MITMLAB_BUS_BACKGROUND=0)", who);
		return 0;
	}
	if (sched_getscheduler(0) != SCHED_OTHER) {
		log_debug("%s: keeps the scheduling class it was started in", who);
		return 0;
	}
	if (!bgsched_capable()) {
		log_debug("%s: normal scheduling: it could not leave the idle class again when it "
		    "falls behind (that needs CAP_SYS_NICE or RLIMIT_NICE)", who);
		return 0;
	}
	if ((e = bgsched_set(SCHED_IDLE)) != 0) {
		log_debug("%s: SCHED_IDLE: %s; normal scheduling", who, strerror(e));
		return 0;
	}
	b->enabled = b->changed = 1;
	return 1;
}

/* No more switching: a boost still running is counted up to now. */
static void
bgsched_disable(struct bgsched *b, uint64_t now)
{
	if (b->enabled && b->boosted)
		b->boosted_ns += now - b->since_ns;
	b->boosted = 0;
	b->enabled = 0;
}

/* Switch to next (1 boosted, 0 idle); a refusal ends background scheduling. */
static void
bgsched_switch(struct bgsched *b, int next, int64_t oldest_ns)
{
	uint64_t now = util_mono_ns();
	int e;

	if ((e = bgsched_set(next ? SCHED_OTHER : SCHED_IDLE)) != 0) {
		/* unexpected after bgsched_capable; stop switching (bgsched_stop tries again) */
		log_warnx("%s: cannot switch scheduling class: %s", b->who, strerror(e));
		bgsched_disable(b, now);
		return;
	}
	if (next) {
		b->boosts++;
		b->since_ns = now;
		log_debug("%s: %lld ms behind: normal scheduling until it catches up", b->who,
		    (long long)(oldest_ns / 1000000));
	} else
		b->boosted_ns += now - b->since_ns;
	b->boosted = next;
}

/* One event (bgsched.h). */
void
bgsched_event(struct bgsched *b, int64_t ts_ns)
{
	int64_t age;

	if (!b->enabled)
		return;
	age = (int64_t)util_now_ns() - ts_ns;
	if (age > b->pass_oldest)
		b->pass_oldest = age;
	if (!b->boosted && bgsched_next(0, age, 0))
		bgsched_switch(b, 1, age);
}

/* The end of a pass (bgsched.h). */
void
bgsched_pass(struct bgsched *b, int drained)
{
	if (!b->enabled)
		return;
	if (b->boosted && !bgsched_next(1, b->pass_oldest, drained))
		bgsched_switch(b, 0, b->pass_oldest);
	b->pass_oldest = INT64_MIN;
}

/* Stop (bgsched.h). */
void
bgsched_stop(struct bgsched *b)
{
	int e;

	bgsched_disable(b, util_mono_ns());
	if (b->changed && sched_getscheduler(0) != SCHED_OTHER &&
	    (e = bgsched_set(SCHED_OTHER)) != 0)
		log_warnx("%s: cannot return to normal scheduling: %s", b->who, strerror(e));
	b->changed = 0;
}

/* I/O threads in SCHED_BATCH (bgsched.h). */
int
bgsched_zctx_batch(void *zctx)
{
	if (sched_getscheduler(0) != SCHED_OTHER)
		return 0;
	return zmq_ctx_set(zctx, ZMQ_THREAD_SCHED_POLICY, SCHED_BATCH);
}
