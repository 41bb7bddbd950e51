/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc — fork/execvp of a word-split command line with stderr captured through a pipe (see
 * proc.h). Used by the lab builder and the packet plane's rule installer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "util.h"

#define PROC_MAX_WORDS 64

/* Run line and wait. */
int
proc_run(const char *line, char **cause)
{
	char copy[2048], err[512], *argv[PROC_MAX_WORDS + 1], *save = NULL, *w;
	int pfd[2], status, n = 0, devnull;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	if (snprintf(copy, sizeof(copy), "%s", line) >= (int)sizeof(copy))
		return util_cause(cause, "command too long: %.60s…", line);
	for (w = strtok_r(copy, " ", &save); w != NULL && n < PROC_MAX_WORDS;
	    w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	if (n == 0)
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
		execvp(argv[0], argv);
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
	log_debug("failed: %s: %s", line, err);
	return util_cause(cause, "\"%s\" failed: %s", line, err[0] ? err : "non-zero exit");
}
