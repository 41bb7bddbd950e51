/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wrap_exec — runs one real client for `mitmlab wrap`: fork/execvp with an argv array (never
 * a shell), the given bytes on its stdin, stdout and stderr captured through pipes, and
 * SIGKILL at the deadline. Knows nothing about what the tool prints (wrap.h classifies it).
 */
#ifndef MITMLAB_WRAP_EXEC_H
#define MITMLAB_WRAP_EXEC_H

#include <stddef.h>

#include "wrap.h"

#define WRAP_EXEC_CAPTURE_MAX	(8u << 20)	/* bytes kept per stream; the rest is read and dropped */

/*
 * Run argv[0] (looked up on PATH) with input (inlen bytes, may be NULL) on its stdin and fill
 * *o; the process is killed when it has not finished deadline_ms after the start. Returns -1
 * with *cause only when the program could not be started (fork, pipes, execvp); a program
 * that ran and failed is a result in *o. Free *o with wrap_exec_free.
 */
int wrap_exec_run(char *const argv[], const char *input, size_t inlen, long deadline_ms,
    struct wrap_output *o, char **cause);
/* The same with envp as the program's whole environment (built before the fork; NULL: ours). */
int wrap_exec_run_env(char *const argv[], char *const envp[], const char *input, size_t inlen,
    long deadline_ms, struct wrap_output *o, char **cause);
/* Free the captures. */
void wrap_exec_free(struct wrap_output *o);

#endif
