/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_rules — builds and runs the iptables / ip commands of the packet plane's rule set
 * (netq_rules.h). Builds the text first (unit-tested), then runs each command with fork and
 * execvp, capturing its stderr for the error message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netq_rules.h"
#include "proc.h"
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
	if (c->monitor) {
		/* passive: bypass always (a dead or slow monitor must never stop the lab) */
		if (!install) {
			netq_rules_add(cmds, max, &n, "iptables -w -t mangle -D FORWARD -p tcp -j "
			    "MITMLAB_NETQ_MON");
			netq_rules_add(cmds, max, &n, "iptables -w -t mangle -F MITMLAB_NETQ_MON");
			netq_rules_add(cmds, max, &n, "iptables -w -t mangle -X MITMLAB_NETQ_MON");
			return (int)n;
		}
		netq_rules_add(cmds, max, &n, "iptables -w -t mangle -N MITMLAB_NETQ_MON");
		netq_rules_add(cmds, max, &n, "iptables -w -t mangle -A MITMLAB_NETQ_MON -p tcp -m "
		    "multiport --ports %s -j NFQUEUE --queue-num %d --queue-bypass", ports,
		    c->queue_num);
		netq_rules_add(cmds, max, &n, "iptables -w -t mangle -A FORWARD -p tcp -j "
		    "MITMLAB_NETQ_MON");
		return (int)n;
	}
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

/* Run one command in ns (NULL: here); the namespace's name is passed as one word. */
static int
netq_rules_exec(const char *ns, const char *cmd, char **cause)
{
	const char *in_ns[] = { "ip", "netns", "exec", ns, NULL };

	return proc_run_after(ns != NULL ? in_ns : NULL, cmd, cause);
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
