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
#include <sys/resource.h>
#include <unistd.h>

#include "bgsched.h"
#include "log.h"
#include "util.h"

/* CAP_SYS_NICE's bit in the capability sets (linux/capability.h). */
#define BGSCHED_CAP_SYS_NICE	23

/* May this thread leave SCHED_IDLE again? The kernel lets it with CAP_SYS_NICE, or when
 * RLIMIT_NICE allows its nice value (sched(7)). */
static int
bgsched_may_return(void)
{
	char line[256];
	unsigned long long eff = 0;
	struct rlimit rl;
	FILE *f;
	int nice_now, ok = 0;

	if ((f = fopen("/proc/thread-self/status", "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "CapEff: %llx", &eff) == 1)
				break;
		fclose(f);
	}
	if (eff & (1ull << BGSCHED_CAP_SYS_NICE))
		return 1;
	errno = 0;
	nice_now = getpriority(PRIO_PROCESS, 0);
	if (errno == 0 && getrlimit(RLIMIT_NICE, &rl) == 0)
		ok = rl.rlim_cur == RLIM_INFINITY || (rlim_t)(20 - nice_now) <= rl.rlim_cur;
	return ok;
}

/* Put the calling thread in policy (priority 0, the only one these classes have). */
static int
bgsched_set(int policy)
{
	struct sched_param p;

	memset(&p, 0, sizeof(p));
	return pthread_setschedparam(pthread_self(), policy, &p);
}

/* Hysteresis (bgsched.h). */
int
bgsched_next(int boosted, int64_t age_ns)
{
	if (boosted)
		return age_ns >= BGSCHED_CALM_NS;
	return age_ns > BGSCHED_BOOST_NS;
}

/* Start (bgsched.h). */
int
bgsched_start(struct bgsched *b, const char *who)
{
	const char *env = getenv("MITMLAB_BUS_BACKGROUND");
	int e;

	memset(b, 0, sizeof(*b));
	b->who = who;
	if (env != NULL && strcmp(env, "0") == 0) {
		log_debug("%s: normal scheduling (MITMLAB_BUS_BACKGROUND=0)", who);
		return 0;
	}
	if (!bgsched_may_return()) {
		log_debug("%s: normal scheduling: without CAP_SYS_NICE it could not leave the idle "
		    "class when it falls behind", who);
		return 0;
	}
	if ((e = bgsched_set(SCHED_IDLE)) != 0) {
		log_debug("%s: SCHED_IDLE: %s; normal scheduling", who, strerror(e));
		return 0;
	}
	b->enabled = 1;
	return 1;
}

/* One event (bgsched.h). */
void
bgsched_event(struct bgsched *b, int64_t ts_ns)
{
	int64_t age;
	uint64_t now;
	int next, e;

	if (!b->enabled)
		return;
	age = (int64_t)util_now_ns() - ts_ns;
	if ((next = bgsched_next(b->boosted, age)) == b->boosted)
		return;
	now = util_mono_ns();
	if ((e = bgsched_set(next ? SCHED_OTHER : SCHED_IDLE)) != 0) {
		/* unexpected after bgsched_may_return; stop switching */
		log_warnx("%s: cannot switch scheduling class: %s; it stays where it is", b->who,
		    strerror(e));
		if (b->boosted)
			b->boosted_ns += now - b->since_ns;
		b->boosted = 0;
		b->enabled = 0;
		return;
	}
	if (next) {
		b->boosts++;
		b->since_ns = now;
		log_debug("%s: %lld ms behind: normal scheduling until it catches up", b->who,
		    (long long)(age / 1000000));
	} else
		b->boosted_ns += now - b->since_ns;
	b->boosted = next;
}

/* Stop (bgsched.h). */
void
bgsched_stop(struct bgsched *b)
{
	if (!b->enabled)
		return;
	if (b->boosted)
		b->boosted_ns += util_mono_ns() - b->since_ns;
	b->boosted = 0;
	b->enabled = 0;
	if (bgsched_set(SCHED_OTHER) != 0)
		log_warnx("%s: cannot return to normal scheduling", b->who);
}
