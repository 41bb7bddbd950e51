/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_bgsched — the bus consumers' background scheduling: the hysteresis table, and, in a
 * thread of its own, the scheduling class the kernel reports through a whole cycle (idle,
 * behind → normal, caught up → idle, stop → normal); MITMLAB_BUS_BACKGROUND=0; and a process
 * without CAP_SYS_NICE, which must keep the normal class because it could not leave the idle
 * one. The cycle and the unprivileged case need root (make test runs as root).
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
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bgsched.h"
#include "util.h"

#define SEC 1000000000LL

/* The calling thread's scheduling policy as the kernel has it. */
static int
policy_now(void)
{
	struct sched_param p;
	int pol = -1;

	assert_int_equal(pthread_getschedparam(pthread_self(), &pol, &p), 0);
	return pol;
}

/* Boost above BGSCHED_BOOST_NS, back below BGSCHED_CALM_NS, nothing in between. */
static void
test_next(void **state)
{
	static const struct { int boosted; int64_t age; int want; } t[] = {
		{ 0, 0, 0 }, { 0, -5 * SEC, 0 }, { 0, BGSCHED_BOOST_NS, 0 },
		{ 0, BGSCHED_BOOST_NS + 1, 1 }, { 0, 100 * SEC, 1 },
		{ 1, 100 * SEC, 1 }, { 1, BGSCHED_BOOST_NS / 2, 1 }, { 1, BGSCHED_CALM_NS, 1 },
		{ 1, BGSCHED_CALM_NS - 1, 0 }, { 1, 0, 0 }, { 1, -SEC, 0 },
	};
	size_t i;

	(void)state;
	assert_true(BGSCHED_CALM_NS < BGSCHED_BOOST_NS);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(bgsched_next(t[i].boosted, t[i].age), t[i].want);
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
		return "not enabled as root";
	if (policy_now() != SCHED_IDLE)
		return "not SCHED_IDLE after start";
	now = (int64_t)util_now_ns();
	bgsched_event(&b, now);
	if (policy_now() != SCHED_IDLE || b.boosted || b.boosts != 0)
		return "a fresh event left the idle class";
	bgsched_event(&b, now - 3 * SEC);
	if (policy_now() != SCHED_OTHER || !b.boosted || b.boosts != 1)
		return "an event 3 s old did not give the normal class";
	bgsched_event(&b, (int64_t)util_now_ns() - SEC);
	if (policy_now() != SCHED_OTHER || b.boosts != 1)
		return "an event 1 s old ended the boost";
	usleep(20000);
	bgsched_event(&b, (int64_t)util_now_ns());
	if (policy_now() != SCHED_IDLE || b.boosted)
		return "a fresh event did not return to the idle class";
	if (b.boosted_ns < 20000000ull)
		return "the boost's time was not counted";
	bgsched_event(&b, now - 10 * SEC);
	bgsched_stop(&b);
	if (policy_now() != SCHED_OTHER || b.enabled || b.boosts != 2)
		return "stop did not leave the normal class";
	bgsched_event(&b, now - 10 * SEC);
	if (b.boosts != 2)
		return "events after stop still switched";
	return NULL;
}

/* Root: the class the kernel reports follows the events' age. */
static void
test_cycle(void **state)
{
	pthread_t th;
	void *why = NULL;

	(void)state;
	if (geteuid() != 0)
		skip();
	unsetenv("MITMLAB_BUS_BACKGROUND");
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
	assert_int_equal(b.boosts, 0);
	assert_int_equal(policy_now(), SCHED_OTHER);
	bgsched_stop(&b);
	assert_int_equal(policy_now(), SCHED_OTHER);
	unsetenv("MITMLAB_BUS_BACKGROUND");
}

/* A process without CAP_SYS_NICE (root's child turned nobody, RLIMIT_NICE 0) keeps the
 * normal class: it could not come back from the idle one when it falls behind. */
static void
test_unprivileged(void **state)
{
	const struct rlimit zero = { 0, 0 };
	struct sched_param p;
	struct bgsched b;
	int st = 0, pol = -1;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	unsetenv("MITMLAB_BUS_BACKGROUND");
	if ((pid = fork()) == 0) {
		if (setrlimit(RLIMIT_NICE, &zero) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		if (bgsched_start(&b, "test") != 0)
			_exit(3);
		if (pthread_getschedparam(pthread_self(), &pol, &p) != 0 || pol != SCHED_OTHER)
			_exit(4);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_env_off),
		cmocka_unit_test(test_unprivileged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
