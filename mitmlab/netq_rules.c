/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_rules — builds and runs the iptables / ip commands of the packet plane's rule set
 * (netq_rules.h). Builds the text first (unit-tested), then runs each command with fork and
 * execvp, capturing its stderr for the error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netq_rules.h"
#include "util.h"

/* Append one formatted command if there is room. */
static void __attribute__((format(printf, 4, 5)))
netq_rules_add(char cmds[][NETQ_RULES_CMDLEN], size_t max, size_t *n, const char *fmt, ...)
{
	va_list ap;

	if (*n >= max)
		return;
	va_start(ap, fmt);
	vsnprintf(cmds[*n], NETQ_RULES_CMDLEN, fmt, ap);
	va_end(ap);
	(*n)++;
}

/* Build the command list. */
int
netq_rules_commands(const struct netq_conf *c, int install, char cmds[][NETQ_RULES_CMDLEN],
    size_t max)
{
	char ports[64] = "", q[64];
	size_t n = 0, i, o = 0;
	unsigned m = c->mark;
	int tproxy;

	if (strcmp(c->mode, "redirect") == 0)
		tproxy = 0;
	else if (strcmp(c->mode, "tproxy") == 0)
		tproxy = 1;
	else
		return -1;
	for (i = 0; i < c->n_ports && o < sizeof(ports) - 8; i++)
		o += (size_t)snprintf(ports + o, sizeof(ports) - o, "%s%d", i ? "," : "", c->ports[i]);
	snprintf(q, sizeof(q), "--queue-num %d%s", c->queue_num, c->fail_open ? " --queue-bypass" : "");
	const char *qt = tproxy ? "raw" : "mangle";	/* where the queue is */
	const char *dt = tproxy ? "mangle" : "nat";	/* where the divert is */
	if (!install) {
		netq_rules_add(cmds, max, &n, "iptables -w -t %s -D PREROUTING -p tcp -j MITMLAB_NETQ", qt);
		netq_rules_add(cmds, max, &n, "iptables -w -t %s -F MITMLAB_NETQ", qt);
		netq_rules_add(cmds, max, &n, "iptables -w -t %s -X MITMLAB_NETQ", qt);
		netq_rules_add(cmds, max, &n, "iptables -w -t %s -D PREROUTING -p tcp -j MITMLAB_NETQ", dt);
		netq_rules_add(cmds, max, &n, "iptables -w -t %s -F MITMLAB_NETQ", dt);
		netq_rules_add(cmds, max, &n, "iptables -w -t %s -X MITMLAB_NETQ", dt);
		if (tproxy) {
			netq_rules_add(cmds, max, &n, "ip rule del fwmark 0x%x/0x%x lookup 100", m, m);
			netq_rules_add(cmds, max, &n, "ip route flush table 100");
		}
		return (int)n;
	}
	netq_rules_add(cmds, max, &n, "iptables -w -t %s -N MITMLAB_NETQ", qt);
	netq_rules_add(cmds, max, &n, "iptables -w -t %s -A MITMLAB_NETQ -p tcp -m multiport "
	    "--ports %s -j NFQUEUE %s", qt, ports, q);
	netq_rules_add(cmds, max, &n, "iptables -w -t %s -N MITMLAB_NETQ", dt);
	netq_rules_add(cmds, max, &n, "iptables -w -t %s -A MITMLAB_NETQ -p tcp -m mark --mark "
	    "0x%x/0x%x -j CONNMARK --save-mark --nfmask 0x%x --ctmask 0x%x", dt, m, m, m, m);
	if (tproxy) {
		netq_rules_add(cmds, max, &n, "iptables -w -t mangle -A MITMLAB_NETQ -p tcp -m socket "
		    "--transparent -j MARK --set-xmark 0x%x/0x%x", m, m);
		netq_rules_add(cmds, max, &n, "iptables -w -t mangle -A MITMLAB_NETQ -p tcp -m socket "
		    "--transparent -j ACCEPT");
		netq_rules_add(cmds, max, &n, "iptables -w -t mangle -A MITMLAB_NETQ -p tcp --dport %d "
		    "-m connmark --mark 0x%x/0x%x -j TPROXY --tproxy-mark 0x%x/0x%x --on-port %d",
		    c->divert_port, m, m, m, m, c->proxy_port);
		netq_rules_add(cmds, max, &n, "ip rule add fwmark 0x%x/0x%x lookup 100", m, m);
		netq_rules_add(cmds, max, &n, "ip route add local 0.0.0.0/0 dev lo table 100");
	} else {
		netq_rules_add(cmds, max, &n, "iptables -w -t nat -A MITMLAB_NETQ -p tcp --dport %d "
		    "-m connmark --mark 0x%x/0x%x -j REDIRECT --to-ports %d", c->divert_port, m, m,
		    c->proxy_port);
	}
	/* hook the chains in last, so no packet sees a half-built set */
	netq_rules_add(cmds, max, &n, "iptables -w -t %s -A PREROUTING -p tcp -j MITMLAB_NETQ", dt);
	netq_rules_add(cmds, max, &n, "iptables -w -t %s -A PREROUTING -p tcp -j MITMLAB_NETQ", qt);
	return (int)n;
}

/* Run one command (split on spaces) in ns; -1 with *cause carrying its stderr. */
static int
netq_rules_exec(const char *ns, const char *cmd, char **cause)
{
	char line[NETQ_RULES_CMDLEN + 128], err[512], *argv[48], *save = NULL, *w;
	int pfd[2], status, n = 0, devnull;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	if (ns != NULL)
		snprintf(line, sizeof(line), "ip netns exec %s %s", ns, cmd);
	else
		snprintf(line, sizeof(line), "%s", cmd);
	for (w = strtok_r(line, " ", &save); w != NULL && n < 47; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
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
	while (got < sizeof(err) - 1 &&
	    (r = read(pfd[0], err + got, sizeof(err) - 1 - got)) > 0)
		got += (size_t)r;
	err[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	err[strcspn(err, "\n")] = '\0';
	return util_cause(cause, "\"%s\" failed: %s", cmd, err[0] ? err : "non-zero exit");
}

/* Install. */
int
netq_rules_install(const char *ns, const struct netq_conf *c, char **cause)
{
	char cmds[NETQ_RULES_MAX][NETQ_RULES_CMDLEN];
	int n, i;

	if ((n = netq_rules_commands(c, 1, cmds, NETQ_RULES_MAX)) == -1)
		return util_cause(cause, "unknown divert mode \"%s\" (known: redirect, tproxy)", c->mode);
	for (i = 0; i < n; i++) {
		if (netq_rules_exec(ns, cmds[i], cause) == -1) {
			netq_rules_remove(ns, c);
			return -1;
		}
	}
	return 0;
}

/* Remove, best effort. */
void
netq_rules_remove(const char *ns, const struct netq_conf *c)
{
	char cmds[NETQ_RULES_MAX][NETQ_RULES_CMDLEN];
	int n, i;

	if ((n = netq_rules_commands(c, 0, cmds, NETQ_RULES_MAX)) == -1)
		return;
	for (i = 0; i < n; i++)
		(void)netq_rules_exec(ns, cmds[i], NULL);
}
