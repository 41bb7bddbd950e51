/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wrap_exec — process handling of `mitmlab wrap`: one child per run, started with
 * fork/execvp (argv array, no shell), fed its stdin and drained of stdout/stderr by one
 * poll(2) loop, killed with SIGKILL at the deadline and always reaped. An exec failure
 * comes back through a close-on-exec pipe so "curl not installed" is an error, not a result.
 * The loop is bounded: after the kill it waits at most WRAP_EXEC_REAP_MS for the pipes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "wrap_exec.h"

#define WRAP_EXEC_REAP_MS	2000

/* A growing capture buffer. */
struct wrap_buf {
	char	*p;
	size_t	len, cap;
};

/* Append n bytes (beyond WRAP_EXEC_CAPTURE_MAX they are dropped); -1 on out of memory. */
static int
wrap_exec_append(struct wrap_buf *b, const char *data, size_t n)
{
	char *np;
	size_t ncap;

	if (b->len >= WRAP_EXEC_CAPTURE_MAX)
		return 0;
	if (n > WRAP_EXEC_CAPTURE_MAX - b->len)
		n = WRAP_EXEC_CAPTURE_MAX - b->len;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap != 0 ? b->cap : 4096;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return -1;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Close fd if open and mark it closed. */
static void
wrap_exec_close(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/* In the child: wire the pipes and exec; never returns. The tool dies with its parent: a wrap
 * SIGKILLed by the runner at the end of a run must not leave curl or s_client behind. */
static void
wrap_exec_child(char *const argv[], char *const envp[], int in, int out, int err, int ex,
    pid_t parent)
{
	int e;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);			/* the parent is already gone */
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1) {
		e = errno;
		(void)!write(ex, &e, sizeof(e));
		_exit(127);
	}
	if (envp != NULL)
		execvpe(argv[0], argv, envp);
	else
		execvp(argv[0], argv);
	e = errno;
	(void)!write(ex, &e, sizeof(e));
	_exit(127);
}

/* Milliseconds left until deadline (monotonic ns), at least 0. */
static int
wrap_exec_left(uint64_t deadline)
{
	uint64_t now = util_mono_ns();

	return now >= deadline ? 0 : (int)((deadline - now) / 1000000 + 1);
}

/* Poll the pipes until both outputs close or the (extended) deadline passes. */
static int
wrap_exec_pump(pid_t pid, int *in, int *out, int *err, const char *input, size_t inlen,
    uint64_t deadline, struct wrap_buf *bo, struct wrap_buf *be, int *killed)
{
	struct pollfd pf[3];
	char buf[16384];
	size_t off = 0;
	ssize_t n;
	int i, nfd, rc;

	while (*out != -1 || *err != -1) {
		nfd = 0;
		if (*out != -1)
			pf[nfd++] = (struct pollfd){ .fd = *out, .events = POLLIN };
		if (*err != -1)
			pf[nfd++] = (struct pollfd){ .fd = *err, .events = POLLIN };
		if (*in != -1)
			pf[nfd++] = (struct pollfd){ .fd = *in, .events = POLLOUT };
		if ((rc = poll(pf, (nfds_t)nfd, wrap_exec_left(deadline))) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (rc == 0) {
			if (*killed)
				return 0;	/* pipes held open by someone else: give up */
			kill(pid, SIGKILL);
			*killed = 1;
			deadline = util_mono_ns() + (uint64_t)WRAP_EXEC_REAP_MS * 1000000;
			continue;
		}
		for (i = 0; i < nfd; i++) {
			if (pf[i].revents == 0)
				continue;
			if (pf[i].fd == *in) {
				n = write(*in, input + off, inlen - off);
				if (n > 0)
					off += (size_t)n;
				if ((n == -1 && errno != EAGAIN && errno != EINTR) || off == inlen)
					wrap_exec_close(in);
				continue;
			}
			n = read(pf[i].fd, buf, sizeof(buf));
			if (n > 0) {
				if (wrap_exec_append(pf[i].fd == *out ? bo : be, buf, (size_t)n) == -1)
					return -1;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				wrap_exec_close(pf[i].fd == *out ? out : err);
		}
	}
	return 0;
}

/* Run one program to completion or the deadline, in our environment. */
int
wrap_exec_run(char *const argv[], const char *input, size_t inlen, long deadline_ms,
    struct wrap_output *o, char **cause)
{
	return wrap_exec_run_env(argv, NULL, input, inlen, deadline_ms, o, cause);
}

/* Run one program to completion or the deadline. */
int
wrap_exec_run_env(char *const argv[], char *const envp[], const char *input, size_t inlen,
    long deadline_ms, struct wrap_output *o, char **cause)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, pex[2] = { -1, -1 };
	struct wrap_buf bo = { 0 }, be = { 0 };
	uint64_t start;
	ssize_t n;
	pid_t pid, parent;
	int st, e = 0, rc = -1, killed = 0;

	memset(o, 0, sizeof(*o));
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1 ||
	    pipe2(perr, O_CLOEXEC) == -1 || pipe2(pex, O_CLOEXEC) == -1) {
		util_cause(cause, "pipe: %s", strerror(errno));
		goto out;
	}
	start = util_mono_ns();
	parent = getpid();
	if ((pid = fork()) == -1) {
		util_cause(cause, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		wrap_exec_child(argv, envp, pin[0], pout[1], perr[1], pex[1], parent);
	wrap_exec_close(&pin[0]);
	wrap_exec_close(&pout[1]);
	wrap_exec_close(&perr[1]);
	wrap_exec_close(&pex[1]);
	/* Returns 0 bytes once execvp succeeded (close-on-exec), the errno otherwise. */
	while ((n = read(pex[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		util_cause(cause, "cannot run %s: %s", argv[0], strerror(e));
		goto out;
	}
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	fcntl(pout[0], F_SETFL, O_NONBLOCK);
	fcntl(perr[0], F_SETFL, O_NONBLOCK);
	if (input == NULL || inlen == 0)
		wrap_exec_close(&pin[1]);
	if (wrap_exec_pump(pid, &pin[1], &pout[0], &perr[0], input, inlen,
	    start + (uint64_t)deadline_ms * 1000000, &bo, &be, &killed) == -1)
		util_cause(cause, "%s: capturing output: %s", argv[0], strerror(errno));
	else
		rc = 0;
	if (rc == -1 && !killed) {
		kill(pid, SIGKILL);
		killed = 1;
	}
	/* The pipes closed when it exited; a stuck child was SIGKILLed: waiting is bounded. */
	if (waitpid(pid, &st, WNOHANG) == 0) {
		uint64_t until = util_mono_ns() + (uint64_t)WRAP_EXEC_REAP_MS * 1000000;
		while (waitpid(pid, &st, WNOHANG) == 0 && util_mono_ns() < until)
			usleep(2000);
		if (waitpid(pid, &st, WNOHANG) == 0) {
			kill(pid, SIGKILL);
			killed = 1;
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
		}
	}
	o->elapsed_ns = util_mono_ns() - start;
	o->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	o->killed = killed;
	if (wrap_exec_append(&bo, "", 0) == -1 || wrap_exec_append(&be, "", 0) == -1) {
		rc = util_cause(cause, "out of memory");
	}
	o->out = bo.p;
	o->outlen = bo.len;
	o->err = be.p;
	o->errlen = be.len;
	bo.p = be.p = NULL;
out:
	free(bo.p);
	free(be.p);
	wrap_exec_close(&pin[0]);
	wrap_exec_close(&pin[1]);
	wrap_exec_close(&pout[0]);
	wrap_exec_close(&pout[1]);
	wrap_exec_close(&perr[0]);
	wrap_exec_close(&perr[1]);
	wrap_exec_close(&pex[0]);
	wrap_exec_close(&pex[1]);
	return rc;
}

/* Free the captures. */
void
wrap_exec_free(struct wrap_output *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof(*o));
}
