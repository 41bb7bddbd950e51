/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_proc — running system programs without a shell: proc_runv passes each word as it is
 * (spaces, quotes, semicolons and a leading '-' stay inside one argument), proc_run_after
 * passes its head's words whole and splits only the line, a failure's cause names the
 * command and carries its stderr, and a line of more words than PROC_MAX_WORDS is refused
 * rather than cut (a cut command line is a different command).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

/* A script that succeeds only if its arguments are exactly "$1" and "$2" as given. */
#define EXACT2 "[ $# -eq 2 ] && [ \"$1\" = \"$A1\" ] && [ \"$2\" = \"$A2\" ]"

static void
test_words_whole(void **state)
{
	const char *hostile = "x -n ../../proc/1/ns/net; touch /tmp/no";
	const char *argv[] = { "sh", "-c", EXACT2, "sh", hostile, "-b", NULL };
	const char *wrong[] = { "sh", "-c", EXACT2, "sh", "x", "-n", NULL };
	char *cause = NULL;

	(void)state;
	assert_int_equal(setenv("A1", hostile, 1), 0);
	assert_int_equal(setenv("A2", "-b", 1), 0);
	assert_int_equal(proc_runv(argv, &cause), 0);
	assert_null(cause);
	/* the same script does fail when the words differ, so the 0 above means something */
	assert_int_equal(proc_runv(wrong, &cause), -1);
	assert_non_null(cause);
	free(cause);
}

static void
test_cause(void **state)
{
	const char *argv[] = { "sh", "-c", "echo 'it broke' >&2; exit 3", NULL };
	const char *none[] = { "mitmlab-no-such-program", "a", NULL };
	char *cause = NULL;

	(void)state;
	assert_int_equal(proc_runv(argv, &cause), -1);
	assert_non_null(strstr(cause, "\"sh -c echo 'it broke' >&2; exit 3\" failed"));
	assert_non_null(strstr(cause, "it broke"));
	free(cause);
	cause = NULL;
	assert_int_equal(proc_runv(none, &cause), -1);
	assert_non_null(strstr(cause, "mitmlab-no-such-program"));
	free(cause);
}

static void
test_run_after(void **state)
{
	const char *head[] = { "sh", "-c", EXACT2, "sh", "a b", NULL };
	char *cause = NULL;

	(void)state;
	assert_int_equal(setenv("A1", "a b", 1), 0);
	assert_int_equal(setenv("A2", "c", 1), 0);
	assert_int_equal(proc_run_after(head, "c", &cause), 0);
	/* the line is split: "c d" is two more words */
	assert_int_equal(proc_run_after(head, "c d", &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(proc_run("sh -c true", &cause), 0);
	assert_int_equal(proc_run("   ", &cause), -1);
	assert_non_null(strstr(cause, "empty"));
	free(cause);
}

static void
test_word_cap(void **state)
{
	char line[4 * (PROC_MAX_WORDS + 2)];
	size_t o;
	int i;
	char *cause = NULL;

	(void)state;
	/* exactly PROC_MAX_WORDS words: runs */
	o = (size_t)snprintf(line, sizeof(line), "true");
	for (i = 1; i < PROC_MAX_WORDS; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, " a");
	assert_int_equal(proc_run(line, &cause), 0);
	/* one more: refused, where it used to run the first 64 words */
	snprintf(line + o, sizeof(line) - o, " a");
	assert_int_equal(proc_run(line, &cause), -1);
	assert_non_null(strstr(cause, "more than 64 words"));
	free(cause);
}

/* A helper killed by a signal is reported as such, not as a "non-zero exit" (a Ctrl-C that
 * reached ip during the lab build looked like an ip error). */
static void
test_signal_cause(void **state)
{
	const char *argv[] = { "sh", "-c", "kill -KILL $$", NULL };
	char *cause = NULL;

	(void)state;
	assert_int_equal(proc_runv(argv, &cause), -1);
	assert_non_null(strstr(cause, "killed by signal 9"));
	free(cause);
}

/* The child is in its own process group (the terminal's ^C is the runner's, not ip's), and
 * gets the default action back for signals the runner ignores or blocks: an ignored SIGTERM
 * would survive exec and keep a component from stopping. */
static void
test_child_signals(void **state)
{
	const char *own[] = { "sh", "-c", "set -- $(cat /proc/$$/stat); [ \"$5\" = \"$$\" ]", NULL };
	const char *term[] = { "sh", "-c", "kill -TERM $$; exit 0", NULL };
	sigset_t block, old;
	char *cause = NULL;

	(void)state;
	assert_int_equal(proc_runv(own, &cause), 0);
	signal(SIGTERM, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	assert_int_equal(proc_runv(term, &cause), -1);
	assert_non_null(strstr(cause, "killed by signal 15"));
	free(cause);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGTERM, SIG_DFL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_whole),
		cmocka_unit_test(test_cause),
		cmocka_unit_test(test_run_after),
		cmocka_unit_test(test_word_cap),
		cmocka_unit_test(test_signal_cause),
		cmocka_unit_test(test_child_signals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
