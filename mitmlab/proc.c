/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc — fork/execvp of an argv, or of a word-split command line, with stderr captured through
 * a pipe (see proc.h). Used by the lab builder and the packet plane's rule installer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "util.h"

/* The words as one line, for messages (cut to fit). */
static void
proc_line(const char *const argv[], char *buf, size_t size)
{
	size_t used = 0, i;
	int n;

	buf[0] = '\0';
	for (i = 0; argv[i] != NULL && used < size; i++) {
		n = snprintf(buf + used, size - used, "%s%s", i ? " " : "", argv[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Run argv and wait. */
int
proc_runv(const char *const argv[], char **cause)
{
	char err[512], line[256];
	int pfd[2], status, devnull;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	if (argv[0] == NULL)
		return util_cause(cause, "empty command");
	if (pipe2(pfd, O_CLOEXEC) == -1)
		return util_cause(cause, "pipe: %s", strerror(errno));
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return util_cause(cause, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		if ((devnull = open("/dev/null", O_RDWR)) >= 0)
			dup2(devnull, STDOUT_FILENO);
		/* execvp's argv is char *const[] for history's sake; it does not write to it */
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		dprintf(STDERR_FILENO, "%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while (got < sizeof(err) - 1 && (r = read(pfd[0], err + got, sizeof(err) - 1 - got)) > 0)
		got += (size_t)r;
	err[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	err[strcspn(err, "\n")] = '\0';
	proc_line(argv, line, sizeof(line));
	log_debug("failed: %s: %s", line, err);
	return util_cause(cause, "\"%s\" failed: %s", line, err[0] ? err : "non-zero exit");
}

/* head's words, then line's split on spaces, and run them. */
int
proc_run_after(const char *const head[], const char *line, char **cause)
{
	char copy[2048], *save = NULL, *w;
	const char *argv[PROC_MAX_WORDS + 1];
	int n = 0;

	if (snprintf(copy, sizeof(copy), "%s", line) >= (int)sizeof(copy))
		return util_cause(cause, "command too long: %.60s…", line);
	for (; head != NULL && head[n] != NULL; n++) {
		if (n == PROC_MAX_WORDS)
			goto toolong;
		argv[n] = head[n];
	}
	for (w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
		if (n == PROC_MAX_WORDS)
			goto toolong;
		argv[n++] = w;
	}
	argv[n] = NULL;
	return proc_runv(argv, cause);
toolong:
	return util_cause(cause, "command has more than %d words: %.60s…", PROC_MAX_WORDS, line);
}

/* Split line on spaces and run it. */
int
proc_run(const char *line, char **cause)
{
	return proc_run_after(NULL, line, cause);
}
