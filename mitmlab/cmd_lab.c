/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_lab — the interactive lab.
 *
 *   mitmlab lab up SCENARIO.yaml [run options] [--max-s S]
 *       builds the scenario's lab as `mitmlab run` does (PKI, namespaces, bus recorder,
 *       captures, origins, gateway, live analyzers) but starts no clients; a background
 *       runner holds it and this command returns once everything serves, printing the lab id,
 *       the run directory and the nodes.
 *   mitmlab lab exec [--lab ID] NODE -- CMD [ARG...]
 *       runs CMD inside NODE's namespace (with the lab's /etc/netns hosts file), its exit
 *       status passed through; MITMLAB_LAB, MITMLAB_NODE, MITMLAB_RUN_DIR and MITMLAB_BUS
 *       (the run's bus input) are set so lab programs can publish into the recorded run.
 *   mitmlab lab ls [ID...]              the labs on this host (or those)
 *   mitmlab lab down [ID...]            end labs (all when no ID): the runner stops the
 *                                       components, records and removes the namespaces
 *   mitmlab lab gc                      remove labs whose runner died
 *
 * The registry in /run/mitmlab (lab.c) is the only state shared between these commands.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "lab.h"
#include "log.h"
#include "run.h"
#include "util.h"

#define CMD_LAB_DOWN_MS	120000	/* a runner gets this long to record and tear down */

static volatile sig_atomic_t cmd_lab_sig;

static void
cmd_lab_on_signal(int sig)
{
	cmd_lab_sig = sig;
}

static void
cmd_lab_usage(FILE *f)
{
	fprintf(f, "usage: mitmlab lab up SCENARIO.yaml [--out DIR] [--seed N] [--timeout-scale F] [--keep-keys] "
	    "[--analyzer NAME[,NAME]] [--baseline DIR] [--no-report] [--max-s S] [--quiet]\n"
	    "       mitmlab lab exec [--lab ID] NODE -- CMD [ARG...]\n"
	    "       mitmlab lab ls [ID...]\n"
	    "       mitmlab lab down [--wait S] [ID...]   (no ID: every lab on this host; a runner\n"
	    "                  gets S seconds, default 120, to end before it is killed)\n"
	    "       mitmlab lab gc             remove labs whose runner died\n"
	    "  up holds the lab (origins and gateway serving, no clients) until `lab down`;\n"
	    "  --max-s S ends it after S seconds. NODE: gw, ri1.., ro1.., c-CLIENT, o-ORIGIN\n"
	    "  (or just the client's / origin's name); `mitmlab lab ls` lists them.\n"
	    "  --quiet: up prints only the lab id.\n"
	    "  up exits 0 when the lab is up, 1 when it did not come up, 2 on a usage error,\n"
	    "  130 when a signal ended it while it was being built or coming up.\n");
}

/* In the runner, once the lab serves: leave the terminal (logs/lab.log from now on), then
 * tell the waiting `lab up` the id and run directory. */
static void
cmd_lab_ready(void *arg, const char *dir, const char *id)
{
	int *fd = arg, lfd;
	char path[4200], msg[4300];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/logs/lab.log", dir);
	fflush(stdout);
	fflush(stderr);
	if ((lfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) >= 0) {
		dup2(lfd, STDOUT_FILENO);
		dup2(lfd, STDERR_FILENO);
		close(lfd);
	}
	n = snprintf(msg, sizeof(msg), "ok %s %s\n", id, dir);
	if (*fd >= 0) {
		if (write(*fd, msg, (size_t)n) != n)
			log_warnx("lab up: the waiting command is gone");
		close(*fd);
		*fd = -1;
	}
}

/* The one registered lab id names, or the only live one when id is NULL. */
static struct lab_entry *
cmd_lab_find(struct lab_entry *v, size_t n, const char *id, const char *prog)
{
	struct lab_entry *hit = NULL;
	size_t i, live = 0;

	for (i = 0; i < n; i++) {
		if (id != NULL && strcmp(v[i].id, id) == 0)
			return &v[i];
		if (id == NULL && v[i].alive) {
			hit = &v[i];
			live++;
		}
	}
	if (id != NULL) {
		fprintf(stderr, "%s: no lab \"%s\" (`mitmlab lab ls` lists them)\n", prog, id);
		return NULL;
	}
	if (live == 1)
		return hit;
	if (live == 0)
		fprintf(stderr, "%s: no lab is running (start one with `mitmlab lab up "
		    "SCENARIO.yaml`)\n", prog);
	else
		fprintf(stderr, "%s: %zu labs are running; say which with --lab ID "
		    "(`mitmlab lab ls`)\n", prog, live);
	return NULL;
}

/* Print one lab: id, runner, scenario, run directory and nodes. */
static void
cmd_lab_print(const struct lab_entry *e, int nodes)
{
	size_t i;

	printf("lab %s  scenario %s  runner %ld (%s%s)\n  run directory %s\n", e->id,
	    e->scenario, e->pid, e->alive ? "running" : "gone",
	    e->interactive ? ", interactive" : "", e->run_dir);
	for (i = 0; nodes && i < e->n_nodes; i++)
		printf("  %-20s %-8s %-16s %s\n", e->nodes[i].name,
		    lab_role_name(e->nodes[i].role), e->nodes[i].addr[0] ? e->nodes[i].addr : "-",
		    e->nodes[i].ns);
}

/* mitmlab lab up (argv[0] is "up", argv[-1] "lab") */
static int
cmd_lab_up(int argc, char **argv)
{
	struct run_opts o;
	struct sigaction sa;
	struct lab_entry *v;
	const char *an[64];
	char buf[4400], id[32], *cause = NULL, *dir = NULL, *cmdline;
	size_t len = 0, n, i;
	ssize_t got;
	int p[2], rc, st, forwarded = 0, up;
	pid_t pid;

	cmdline = cmd_run_cmdline(argc + 1, argv - 1);	/* "lab up …" as typed */
	if ((rc = cmd_run_opts(argc, argv, &o, an, sizeof(an) / sizeof(an[0]), 1,
	    cmd_lab_usage)) != -1) {
		free(cmdline);
		return rc;
	}
	o.cmdline = cmdline;
	if (pipe2(p, O_CLOEXEC) == -1) {
		fprintf(stderr, "mitmlab lab up: pipe: %s\n", strerror(errno));
		return 1;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "mitmlab lab up: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {		/* the runner: its own session, so the terminal's ^C is not its */
		int fd;
		close(p[0]);
		setsid();
		if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		o.ready = cmd_lab_ready;
		o.ready_arg = &p[1];
		rc = run_scenario(&o, &dir, &cause);
		if (rc == -1)
			fprintf(stderr, "mitmlab lab up: %s\n", cause ? cause : "failed");
		fflush(stdout);
		fflush(stderr);
		_exit(rc == -1 ? 1 : rc);
	}
	close(p[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cmd_lab_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (len < sizeof(buf) - 1) {
		got = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (got == -1 && errno == EINTR) {
			if (cmd_lab_sig != 0) {	/* ^C while building: the runner cleans up */
				kill(pid, SIGTERM);
				cmd_lab_sig = 0;
				forwarded = 1;
			}
			continue;
		}
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(p[0]);
	free(cmdline);
	buf[len] = '\0';
	up = sscanf(buf, "ok %31s", id) == 1;
	if (forwarded || !up) {
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		if (forwarded && up)	/* the signal came as the lab came up: it served, then ended */
			fprintf(stderr, "mitmlab lab up: interrupted as lab %s came up; its runner "
			    "ended it (the run directory is complete)\n", id);
		else
			fprintf(stderr, "mitmlab lab up: %s\n", forwarded ? "interrupted; the runner "
			    "removed what it had built" : "the lab did not come up (see the messages "
			    "above)");
		return forwarded ? 130 : 1;	/* as `mitmlab run` exits when interrupted */
	}
	if (o.quiet) {		/* for scripts: the id alone */
		printf("%s\n", id);
		return 0;
	}
	v = lab_list(&n, NULL);
	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			cmd_lab_print(&v[i], 1);
	lab_list_free(v, n);
	printf("lab %s is up. Run commands in it with `mitmlab lab exec --lab %s NODE -- CMD`;\n"
	    "end it with `mitmlab lab down %s` (the run directory then has events.jsonl, "
	    "captures and the report).\n", id, id, id);
	return 0;
}

/* mitmlab lab exec [--lab ID] NODE -- CMD... */
static int
cmd_lab_exec(int argc, char **argv)
{
	struct lab_entry *v, *e;
	const struct lab_node *nd;
	const char *id = NULL;
	char bus[4200], **av;
	size_t n;
	int i = 1, k;

	if (i < argc && strcmp(argv[i], "--lab") == 0) {
		if (i + 1 >= argc) {
			cmd_lab_usage(stderr);
			return 2;
		}
		id = argv[i + 1];
		i += 2;
	}
	if (i >= argc || argv[i][0] == '-') {
		cmd_lab_usage(stderr);
		return 2;
	}
	k = i + 1;
	if (k < argc && strcmp(argv[k], "--") == 0)
		k++;
	if (k >= argc) {
		fprintf(stderr, "mitmlab lab exec: no command to run in %s\n", argv[i]);
		return 2;
	}
	v = lab_list(&n, NULL);
	if ((e = cmd_lab_find(v, n, id, "mitmlab lab exec")) == NULL) {
		lab_list_free(v, n);
		return 2;
	}
	if (!e->alive) {
		fprintf(stderr, "mitmlab lab exec: lab %s's runner is gone; remove it with "
		    "`mitmlab lab gc`\n", e->id);
		lab_list_free(v, n);
		return 1;
	}
	if ((nd = lab_entry_node(e, argv[i])) == NULL) {
		size_t j;
		fprintf(stderr, "mitmlab lab exec: lab %s has no node \"%s\"; its nodes:", e->id,
		    argv[i]);
		for (j = 0; j < e->n_nodes; j++)
			fprintf(stderr, " %s", e->nodes[j].name);
		fprintf(stderr, "\n");
		lab_list_free(v, n);
		return 2;
	}
	snprintf(bus, sizeof(bus), "ipc://%s/bus.in", e->run_dir);
	if (setenv("MITMLAB_LAB", e->id, 1) == -1 || setenv("MITMLAB_NODE", nd->name, 1) == -1 ||
	    setenv("MITMLAB_RUN_DIR", e->run_dir, 1) == -1 || setenv("MITMLAB_BUS", bus, 1) == -1 ||
	    (av = calloc((size_t)(argc - k) + 5, sizeof(*av))) == NULL) {
		fprintf(stderr, "mitmlab lab exec: out of memory\n");
		lab_list_free(v, n);
		return 1;
	}
	av[0] = "ip";
	av[1] = "netns";
	av[2] = "exec";
	av[3] = strdup(nd->ns);
	memcpy(&av[4], &argv[k], (size_t)(argc - k) * sizeof(*av));
	lab_list_free(v, n);
	fflush(stdout);
	execvp("ip", av);
	fprintf(stderr, "mitmlab lab exec: ip: %s\n", strerror(errno));
	return 1;
}

/* mitmlab lab ls [ID...] */
static int
cmd_lab_ls(int argc, char **argv)
{
	struct lab_entry *v;
	char *cause = NULL;
	size_t n, i, shown = 0;
	int j, want, rc = 0;

	v = lab_list(&n, &cause);
	if (cause != NULL) {
		fprintf(stderr, "mitmlab lab ls: %s\n", cause);
		free(cause);
		return 1;
	}
	for (i = 0; i < n; i++) {
		for (want = argc <= 2, j = 2; j < argc && !want; j++)
			want = strcmp(v[i].id, argv[j]) == 0;
		if (want) {
			cmd_lab_print(&v[i], 1);
			shown++;
		}
	}
	for (j = 2; j < argc; j++) {
		for (i = 0; i < n && strcmp(v[i].id, argv[j]) != 0; i++)
			;
		if (i == n) {
			fprintf(stderr, "mitmlab lab ls: no lab \"%s\"\n", argv[j]);
			rc = 1;
		}
	}
	if (argc <= 2 && shown == 0)
		printf("no labs\n");
	lab_list_free(v, n);
	return rc;
}

/* mitmlab lab down [--wait S] [ID...] */
static int
cmd_lab_down(int argc, char **argv)
{
	struct lab_entry *v;
	size_t n, i;
	int j, rc = 0, done = 0, wait_ms = CMD_LAB_DOWN_MS;
	long long s;

	if (argc >= 3 && strcmp(argv[2], "--wait") == 0) {	/* mainly for tests of the forced path */
		if (argc < 4) {
			fprintf(stderr, "mitmlab lab down: --wait needs the seconds a runner gets "
			    "to end (0 .. 3600)\n");
			return 2;
		}
		if (cmd_opt_num("wait", argv[3], 0, 3600, &s) == -1)
			return 2;
		wait_ms = (int)s * 1000;
		argc -= 2;
		argv += 2;
	}
	v = lab_list(&n, NULL);
	for (j = 2; j < argc; j++) {
		for (i = 0; i < n && strcmp(v[i].id, argv[j]) != 0; i++)
			;
		if (i == n) {
			fprintf(stderr, "mitmlab lab down: no lab \"%s\" (`mitmlab lab ls`)\n", argv[j]);
			rc = 1;
		}
	}
	for (i = 0; i < n; i++) {
		int want = argc <= 2;
		for (j = 2; j < argc && !want; j++)
			want = strcmp(v[i].id, argv[j]) == 0;
		if (!want)
			continue;
		if (lab_stop(&v[i], wait_ms) == 0)
			printf("lab %s stopped by its runner; run directory %s\n", v[i].id,
			    v[i].run_dir);
		else
			printf("lab %s removed (its runner %s)\n", v[i].id,
			    v[i].alive ? "did not end in time and was killed" : "was already gone");
		done++;
	}
	if (argc <= 2)
		printf("removed %d lab(s)\n", done);
	lab_list_free(v, n);
	return rc;
}

/* For ls, down, gc and exec (up has its own options): 0 when argv[2..] (for exec, up to its
 * NODE) holds no option but down's --wait and exec's --lab; 1 after printing the usage for
 * -h/--help; 2 after naming an unknown option, which would otherwise be taken for a lab id. */
static int
cmd_lab_options(int argc, char **argv)
{
	int j, exec = strcmp(argv[1], "exec") == 0;

	for (j = 2; j < argc && !(exec && argv[j][0] != '-'); j++) {
		if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
			cmd_lab_usage(stdout);
			return 1;
		}
		if (argv[j][0] == '-' && !(strcmp(argv[1], "down") == 0 && j == 2 &&
		    strcmp(argv[j], "--wait") == 0) && !(exec && j == 2 &&
		    strcmp(argv[j], "--lab") == 0)) {
			fprintf(stderr, "mitmlab lab %s: unknown option %s\n", argv[1], argv[j]);
			cmd_lab_usage(stderr);
			return 2;
		}
		if (j == 2 && (strcmp(argv[j], "--wait") == 0 || strcmp(argv[j], "--lab") == 0))
			j++;	/* its value */
	}
	return 0;
}

/* mitmlab lab up|exec|ls|down|gc */
int
cmd_lab(int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";
	int rc;

	if ((strcmp(sub, "exec") == 0 || strcmp(sub, "ls") == 0 || strcmp(sub, "down") == 0 ||
	    strcmp(sub, "gc") == 0) && (rc = cmd_lab_options(argc, argv)) != 0)
		return rc == 1 ? 0 : 2;

	if (strcmp(sub, "up") == 0)
		return cmd_lab_up(argc - 1, argv + 1);
	if (strcmp(sub, "exec") == 0)
		return cmd_lab_exec(argc - 1, argv + 1);
	if (strcmp(sub, "ls") == 0)
		return cmd_lab_ls(argc, argv);
	if (strcmp(sub, "down") == 0)
		return cmd_lab_down(argc, argv);
	if (strcmp(sub, "gc") == 0 && argc == 2) {
		printf("removed %d lab(s) of runs no longer running\n", lab_gc(0, 1));
		return 0;
	}
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		cmd_lab_usage(stdout);
		return 0;
	}
	cmd_lab_usage(stderr);
	return 2;
}
