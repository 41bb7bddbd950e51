/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_labreg — the lab registry's liveness check (lab_pid_alive): a running process with its
 * recorded start time is alive; the same PID with another start time (a reused PID) is not;
 * neither is a zombie nor a PID that does not exist.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"

/* Field 22 of /proc/self/stat, read independently of lab.c. */
static unsigned long long
self_start(void)
{
	char buf[1024], *p;
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	int i;

	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	assert_non_null(p);
	p += 2;		/* field 3 */
	for (i = 3; i < 22; i++)
		p = strchr(p, ' ') + 1;
	v = strtoull(p, NULL, 10);
	assert_true(v > 0);
	return v;
}

static void
test_alive_and_reuse(void **state)
{
	unsigned long long st = self_start();

	(void)state;
	assert_true(lab_pid_alive((long)getpid(), 0));
	assert_true(lab_pid_alive((long)getpid(), st));
	assert_false(lab_pid_alive((long)getpid(), st + 1));	/* the PID, but another process */
	assert_false(lab_pid_alive(0, 0));
	assert_false(lab_pid_alive(4194304 + 7, 0));		/* above pid_max */
}

static void
test_zombie(void **state)
{
	pid_t pid = fork();
	int st;

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	for (st = 0; st < 200; st++) {		/* wait until it is a zombie, without reaping */
		if (!lab_pid_alive((long)pid, 0))
			break;
		usleep(10000);
	}
	assert_false(lab_pid_alive((long)pid, 0));
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alive_and_reuse),
		cmocka_unit_test(test_zombie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
