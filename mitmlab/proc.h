/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc — run a system program (ip, iptables, sysctl …) without a shell and wait for it. Its
 * stdout goes to /dev/null and its stderr becomes the cause on failure. proc_runv takes the
 * words as an argv array, so a word is passed as it is whatever it contains; proc_run splits
 * one line on spaces and is only for lines whose every word is ours (no names from a
 * scenario or a command line). Programs with their own input, output or deadline (curl,
 * s_client) are wrap_exec's job.
 */
#ifndef MITMLAB_PROC_H
#define MITMLAB_PROC_H

#include <sys/types.h>

/* Most words proc_run accepts in one line; a longer line is refused, not cut. */
#define PROC_MAX_WORDS 64

/* fork() for a child that will exec, in a process group of its own (a terminal's ^C is the
 * parent's to handle). Signals are blocked across the fork; the child drops a SIGINT, SIGQUIT
 * or SIGHUP that reached it while it was still in the parent's group, then gets the default
 * action back for SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGPIPE (which a runner catches or
 * ignores) with nothing blocked, so a SIGTERM sent to it right after fork is acted on, not
 * taken by a copy of the parent's handler. Returns as fork() does. */
pid_t proc_fork(void);

/* Run argv (NULL-terminated, argv[0] looked up in PATH); 0 when it exits 0, -1 with
 * *cause = "\"WORDS\" failed: STDERR". */
int proc_runv(const char *const argv[], char **cause);

/* The same for a line of space-separated words (at most PROC_MAX_WORDS). */
int proc_run(const char *line, char **cause);

/* head's words (NULL-terminated; NULL: none) as they are, then line's split on spaces: for a
 * prefix that carries a name, such as {"ip", "netns", "exec", ns, NULL}. */
int proc_run_after(const char *const head[], const char *line, char **cause);

#endif
