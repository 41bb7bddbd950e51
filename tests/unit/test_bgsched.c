/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_bgsched — the bus consumers' background scheduling: the hysteresis table; root with
 * CAP_SYS_NICE is capable; in a thread of its own, the scheduling class the kernel reports
 * through a whole cycle (idle; behind → normal; a fresh event among old ones, or a pass that
 * did not empty the input, keeps it normal; caught up → idle; stop → normal);
 * MITMLAB_BUS_BACKGROUND=0; as nobody: without RLIMIT_NICE the class never changes, with it
 * the cycle works; and losing the way back while idle (RLIMIT_NICE lowered, or CAP_SYS_NICE
 * dropped) ends background scheduling without harm. The cycle needs the capability and the
 * nobody cases root (make test runs as root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bgsched.h"
#include "util.h"

#define SEC 1000000000LL

/* The calling thread's scheduling policy as the kernel has it (glibc's pthread_getschedparam
 * may answer from its own copy). */
static int
policy_now(void)
{
	return sched_getscheduler(0);
}

/* Boost on an event older than BGSCHED_BOOST_NS; back only after a pass that emptied the
 * input with every event younger than BGSCHED_CALM_NS. */
static void
test_next(void **state)
{
	static const struct { int boosted; int64_t oldest; int drained; int want; } t[] = {
		{ 0, 0, 1, 0 }, { 0, -5 * SEC, 1, 0 }, { 0, BGSCHED_BOOST_NS, 0, 0 },
		{ 0, BGSCHED_BOOST_NS + 1, 0, 1 }, { 0, BGSCHED_BOOST_NS + 1, 1, 1 },
		{ 0, 100 * SEC, 1, 1 }, { 0, INT64_MIN, 1, 0 },
		{ 1, 100 * SEC, 1, 1 }, { 1, BGSCHED_BOOST_NS / 2, 1, 1 },
		{ 1, BGSCHED_CALM_NS, 1, 1 }, { 1, BGSCHED_CALM_NS - 1, 1, 0 },
		{ 1, BGSCHED_CALM_NS - 1, 0, 1 }, { 1, 0, 0, 1 }, { 1, 0, 1, 0 },
		{ 1, -SEC, 1, 0 }, { 1, INT64_MIN, 1, 0 }, { 1, INT64_MIN, 0, 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(bgsched_next(t[i].boosted, t[i].oldest, t[i].drained), t[i].want);
}

/* Root with CAP_SYS_NICE in the initial user namespace (make test's case) must be capable:
 * otherwise every check below would skip. */
static void
test_capable_as_root(void **state)
{
	unsigned long long eff = 0;
	char line[256];
	unsigned a = 1, b = 1, n = 0;
	FILE *f;

	(void)state;
	if ((f = fopen("/proc/self/status", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "CapEff: %llx", &eff) == 1)
				break;
		fclose(f);
	}
	if ((f = fopen("/proc/self/uid_map", "r")) != NULL) {
		if (fscanf(f, "%u %u %u", &a, &b, &n) != 3)
			n = 0;
		fclose(f);
	}
	if (geteuid() != 0 || !(eff & (1ull << CAP_SYS_NICE)) || a != 0 || b != 0 || n != 4294967295u)
		skip();
	assert_int_equal(bgsched_capable(), 1);
}

/* One cycle in a thread of its own; returns NULL when every check held (cmocka's asserts
 * belong to the main thread, so this reports the first failed step instead). */
static void *
cycle_main(void *arg)
{
	struct bgsched b;
	int64_t now;

	(void)arg;
	if (!bgsched_start(&b, "test"))
		return "not enabled though capable";
	if (policy_now() != SCHED_IDLE)
		return "not SCHED_IDLE after start";
	now = (int64_t)util_now_ns();
	bgsched_event(&b, now);
	bgsched_pass(&b, 1);
	if (policy_now() != SCHED_IDLE || b.boosted || b.boosts != 0)
		return "a fresh event left the idle class";
	bgsched_event(&b, now - 3 * SEC);
	if (policy_now() != SCHED_OTHER || !b.boosted || b.boosts != 1)
		return "an event 3 s old did not give the normal class";
	bgsched_pass(&b, 1);
	if (policy_now() != SCHED_OTHER)
		return "a pass with an event 3 s old ended the boost";
	/* a fresh event between old ones (another publisher's) does not end it */
	bgsched_event(&b, now - 3 * SEC);
	bgsched_event(&b, (int64_t)util_now_ns());
	bgsched_event(&b, now - 1 * SEC);
	bgsched_pass(&b, 1);
	if (policy_now() != SCHED_OTHER || b.boosts != 1)
		return "fresh and old events in one pass ended the boost";
	usleep(20000);
	bgsched_event(&b, (int64_t)util_now_ns());
	bgsched_pass(&b, 0);
	if (policy_now() != SCHED_OTHER)
		return "a pass that did not empty the input ended the boost";
	bgsched_event(&b, (int64_t)util_now_ns());
	bgsched_pass(&b, 1);
	if (policy_now() != SCHED_IDLE || b.boosted)
		return "a drained pass of fresh events did not return to the idle class";
	if (b.boosted_ns < 20000000ull)
		return "the boost's time was not counted";
	bgsched_event(&b, now - 10 * SEC);
	bgsched_stop(&b);
	if (policy_now() != SCHED_OTHER || b.enabled || b.boosts != 2)
		return "stop did not leave the normal class";
	bgsched_event(&b, now - 10 * SEC);
	if (b.boosts != 2)
		return "events after stop still switched";
	/* stop from the idle class too */
	if (!bgsched_start(&b, "test") || policy_now() != SCHED_IDLE)
		return "a second start did not give the idle class";
	bgsched_stop(&b);
	if (policy_now() != SCHED_OTHER)
		return "stop from the idle class did not give the normal class";
	return NULL;
}

/* Capable: the class the kernel reports follows the events' age. */
static void
test_cycle(void **state)
{
	pthread_t th;
	void *why = NULL;

	(void)state;
	unsetenv("MITMLAB_BUS_BACKGROUND");
	if (!bgsched_capable())
		skip();
	assert_int_equal(pthread_create(&th, NULL, cycle_main, NULL), 0);
	assert_int_equal(pthread_join(th, &why), 0);
	if (why != NULL)
		fail_msg("%s", (const char *)why);
	assert_int_equal(policy_now(), SCHED_OTHER);	/* the main thread was not touched */
}

/* MITMLAB_BUS_BACKGROUND=0: the class stays, events are not acted on. */
static void
test_env_off(void **state)
{
	struct bgsched b;

	(void)state;
	setenv("MITMLAB_BUS_BACKGROUND", "0", 1);
	assert_int_equal(bgsched_start(&b, "test"), 0);
	assert_int_equal(policy_now(), SCHED_OTHER);
	bgsched_event(&b, 1);
	bgsched_pass(&b, 1);
	assert_int_equal(b.boosts, 0);
	assert_int_equal(policy_now(), SCHED_OTHER);
	bgsched_stop(&b);
	assert_int_equal(policy_now(), SCHED_OTHER);
	unsetenv("MITMLAB_BUS_BACKGROUND");
}

/* In a child that just lost the way back to the normal class while idle: the next old
 * event's switch is refused, which must end background scheduling without harm; 20 when so. */
static int
refused(struct bgsched *b)
{
	bgsched_event(b, (int64_t)util_now_ns() - 3 * SEC);	/* refused */
	if (b->enabled || b->boosted || policy_now() != SCHED_IDLE)
		return 6;
	bgsched_stop(b);					/* refused too */
	return policy_now() == SCHED_IDLE ? 20 : 7;
}

/* As nobody with RLIMIT_NICE rl (set while still root); the child's exit status says what
 * happened: 10 when background scheduling was not enabled, 2 when it could not become
 * nobody, 3-7 for a step that went wrong. Enabled, it also loses the way back (RLIMIT_NICE
 * lowered to 0) while idle: the next old event's switch is refused, which must end background
 * scheduling without harm (exit 20 when so). */
static int
run_as_nobody(rlim_t rl)
{
	const struct rlimit lim = { rl, rl }, none = { 0, 0 };
	struct bgsched b;
	int st = 0, en;
	pid_t pid;

	if ((pid = fork()) == 0) {
		if (setrlimit(RLIMIT_NICE, &lim) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		en = bgsched_start(&b, "test");
		if (policy_now() != (en ? SCHED_IDLE : SCHED_OTHER))
			_exit(3);
		if (!en)
			_exit(10);
		bgsched_event(&b, (int64_t)util_now_ns() - 3 * SEC);
		if (policy_now() != SCHED_OTHER || b.boosts != 1)
			_exit(4);
		bgsched_pass(&b, 1);		/* the pass of the old event: still behind */
		bgsched_event(&b, (int64_t)util_now_ns());
		bgsched_pass(&b, 1);
		if (policy_now() != SCHED_IDLE || setrlimit(RLIMIT_NICE, &none) != 0)
			_exit(5);
		_exit(refused(&b));
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Without CAP_SYS_NICE and RLIMIT_NICE the thread keeps the normal class: it could not come
 * back from the idle one. */
static void
test_unprivileged(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	unsetenv("MITMLAB_BUS_BACKGROUND");
	assert_int_equal(run_as_nobody(0), 10);
}

/* Root that drops CAP_SYS_NICE (and has RLIMIT_NICE 0) while idle: refused() in a child. */
static void
test_cap_dropped(void **state)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	const struct rlimit none = { 0, 0 };
	struct bgsched b;
	int st = 0;
	pid_t pid;

	(void)state;
	unsetenv("MITMLAB_BUS_BACKGROUND");
	if (!bgsched_capable())
		skip();
	if ((pid = fork()) == 0) {
		if (setrlimit(RLIMIT_NICE, &none) != 0 || !bgsched_start(&b, "test"))
			_exit(2);
		memset(d, 0, sizeof(d));
		if (syscall(SYS_capget, &h, d) != 0)
			_exit(3);
		d[0].effective &= ~(1u << CAP_SYS_NICE);
		d[0].permitted &= ~(1u << CAP_SYS_NICE);
		if (syscall(SYS_capset, &h, d) != 0)
			_exit(4);
		_exit(refused(&b));
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 20);
}

/* RLIMIT_NICE 20 (nice 0 allowed) is enough to switch both ways; raising it needs
 * CAP_SYS_RESOURCE, which a container's root may lack (then skipped: exit 2). */
static void
test_rlimit_nice(void **state)
{
	int rc;

	(void)state;
	if (geteuid() != 0)
		skip();
	unsetenv("MITMLAB_BUS_BACKGROUND");
	if ((rc = run_as_nobody(20)) == 2)
		skip();
	assert_int_equal(rc, 20);
}

/* The table, root's capability, a cycle, the switch off, and the unprivileged cases. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_capable_as_root),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_env_off),
		cmocka_unit_test(test_unprivileged),
		cmocka_unit_test(test_rlimit_nice),
		cmocka_unit_test(test_cap_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
