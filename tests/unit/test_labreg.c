/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_labreg — the lab registry's liveness check (lab_pid_alive): a running process with its
 * recorded start time is alive; the same PID with another start time (a reused PID) is not;
 * neither is a zombie nor a PID that does not exist. The plan refuses a client or origin name
 * or a lab id that would not be one word of an `ip` command line (a name with spaces could carry
 * options of its own, such as a second `-n` into another namespace). lab_gc skips another run's
 * half-written registry file, and a lab id another run holds is refused before anything is made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenario.h"
#include "util.h"

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

/* With *name set to value, lab_plan refuses, saying want; *name is restored. */
static void
plan_refuses(const struct scenario *s, char **name, char *value, const char *want)
{
	char *saved = *name, *cause = NULL;

	*name = value;
	assert_null(lab_plan(s, "t1", &cause));
	assert_non_null(strstr(cause, want));
	free(cause);
	*name = saved;
}

/* lab_plan: every name it puts into a command is one identifier. */
static void
test_plan_names(void **state)
{
	static char hostile[] = "x -n ../../proc/1/ns/net", dash[] = "-n";
	char *cause = NULL;
	struct scenario *s = scenario_load("scenarios/baseline.yaml", &cause);
	struct lab *lab;
	size_t i;

	(void)state;
	assert_non_null(s);
	lab = lab_plan(s, "t1", &cause);
	assert_non_null(lab);
	for (i = 0; i < lab->n_nodes; i++)
		assert_null(strpbrk(lab->nodes[i].ns, " /\t"));
	lab_free(lab);
	plan_refuses(s, &s->origins[0].name, hostile,
	    "origin name \"x -n ../../proc/1/ns/net\" is not a lab identifier");
	plan_refuses(s, &s->clients[0].name, dash, "client name \"-n\"");
	assert_null(lab_plan(s, "t 1", &cause));
	assert_non_null(strstr(cause, "lab id"));
	free(cause);
	scenario_free(s);
}

/* lab_gc leaves alone a registry file another run is still writing (util_write_file's
 * <id>.tmpXXXXXX, renamed into place once complete): read half-written it looks dead. */
static void
test_gc_skips_partial(void **state)
{
	char path[128];
	struct stat st;
	FILE *f;

	(void)state;
	assert_true(mkdir(LAB_STATE_DIR, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/t%ld.tmpAbC123", LAB_STATE_DIR, (long)getpid());
	assert_non_null(f = fopen(path, "w"));
	fputs("pid 0\n", f);		/* a dead owner, as a half-written file reads */
	fclose(f);
	(void)lab_gc(0, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(unlink(path), 0);
}

/* Two runs with one lab id: the second one's lab_up refuses before it makes anything, and
 * neither it nor its lab_down touches the first one's registry entry. */
static void
test_id_taken(void **state)
{
	char *cause = NULL, id[24], path[128], *buf;
	struct scenario *s = scenario_load("scenarios/baseline.yaml", &cause);
	struct lab *lab;
	FILE *f;

	(void)state;
	assert_non_null(s);
	snprintf(id, sizeof(id), "t%ldz", (long)getpid());
	snprintf(path, sizeof(path), "%s/%s", LAB_STATE_DIR, id);
	assert_true(mkdir(LAB_STATE_DIR, 0700) == 0 || errno == EEXIST);
	assert_non_null(f = fopen(path, "w"));
	fputs("pid 1\nscenario other\n", f);
	fclose(f);
	assert_non_null(lab = lab_plan(s, id, &cause));
	assert_int_equal(lab_up(lab, s, &cause), -1);
	assert_non_null(strstr(cause, "another run has this id"));
	free(cause);
	lab_down(lab);
	assert_non_null(buf = util_read_file(path, NULL, NULL));
	assert_string_equal(buf, "pid 1\nscenario other\n");
	free(buf);
	assert_int_equal(unlink(path), 0);
	lab_free(lab);
	scenario_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alive_and_reuse),
		cmocka_unit_test(test_zombie),
		cmocka_unit_test(test_plan_names),
		cmocka_unit_test(test_gc_skips_partial),
		cmocka_unit_test(test_id_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
