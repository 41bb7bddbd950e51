/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc — run a system program given as one line of space-separated words (ip, iptables,
 * sysctl …), without a shell, and wait for it. Every word must be ours (no quoting, no
 * untrusted strings); its stdout goes to /dev/null and its stderr becomes the cause on failure.
 * Programs with their own input, output or deadline (curl, s_client) are wrap_exec's job.
 */
#ifndef MITMLAB_PROC_H
#define MITMLAB_PROC_H

/* Run the command line; 0 when it exits 0, -1 with *cause = "\"LINE\" failed: STDERR". */
int proc_run(const char *line, char **cause);

#endif
