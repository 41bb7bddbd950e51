/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc — fork/execvp of an argv, or of a word-split command line, with stderr captured through
 * a pipe (see proc.h). Used by the lab builder and the packet plane's rule installer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* fork with the parent's signal handlers out of the child's way (proc.h). */
pid_t
proc_fork(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	struct sigaction sa;
	sigset_t all, old;
	size_t i;
	pid_t pid;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == 0) {
		setpgid(0, 0);
		/* A SIGINT, SIGQUIT or SIGHUP pending now came to the runner's process group
		 * (a terminal's ^C, ^\ or hang-up) while the child was still in it: the runner
		 * has it too and ends the run in order; the child drops it (ignoring a pending
		 * signal discards it). A SIGTERM sent to the child stays pending and acts. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGQUIT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sa.sa_handler = SIG_DFL;
		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			sigaction(sigs[i], &sa, NULL);
		sigemptyset(&old);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return pid;
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
	if ((pid = proc_fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return util_cause(cause, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* proc_fork put it in its own process group: the terminal's ^C is the runner's
		 * to handle (it lets the lab build finish and then tears it down), not a reason
		 * for ip to die */
		dup2(pfd[1], STDERR_FILENO);
		if ((devnull = open("/dev/null", O_RDWR)) >= 0)
			dup2(devnull, STDOUT_FILENO);
		/* execvp's argv is char *const[] for history's sake; it does not write to it */
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		dprintf(STDERR_FILENO, "%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while (got < sizeof(err) - 1 && ((r = read(pfd[0], err + got, sizeof(err) - 1 - got)) > 0 ||
	    (r == -1 && errno == EINTR)))
		got += r > 0 ? (size_t)r : 0;
	err[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	err[strcspn(err, "\n")] = '\0';
	proc_line(argv, line, sizeof(line));
	log_debug("failed: %s: %s", line, err);
	if (WIFSIGNALED(status))
		return util_cause(cause, "\"%s\" failed: killed by signal %d%s%s", line,
		    WTERMSIG(status), err[0] != '\0' ? ": " : "", err);
	if (err[0] != '\0')
		return util_cause(cause, "\"%s\" failed: %s", line, err);
	return util_cause(cause, "\"%s\" failed: exit status %d", line, WEXITSTATUS(status));
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
