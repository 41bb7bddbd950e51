/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_netq — `mitmlab netq [options]`: the packet plane, run inside the gateway namespace
 * (or, with --monitor --vantage NAME, as a passive monitor inside a router before it).
 * Parses the options into a netq_conf, optionally installs the rule set (and removes it on a
 * clean exit), prints it (--print-rules), and runs the queue handler (netq.c) until SIGTERM or
 * SIGINT; --remove-rules cleans up after a killed handler. Exit status: 0 clean exit,
 * 1 runtime failure, 2 usage error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cmd.h"
#include "log.h"
#include "netq.h"
#include "netq_conf.h"
#include "netq_rules.h"
#include "util.h"

static volatile int cmd_netq_stop;

/* SIGTERM/SIGINT: finish the loop. */
static void
cmd_netq_signal(int sig)
{
	(void)sig;
	cmd_netq_stop = 1;
}

/* Print usage to f. */
static void
cmd_netq_usage(FILE *f)
{
	fprintf(f,
	    "usage: mitmlab netq [options]   (inside the gateway namespace, as root)\n"
	    "       mitmlab netq --monitor --vantage NAME [options]   (inside a router)\n"
	    "  --bus EP             publish net.flow / net.impair / net.stats (src \"net\") and\n"
	    "                       proxy.stats (\"component\": \"netq\") to EP\n"
	    "  --monitor            passive monitor: queue forwarded packets (mangle FORWARD),\n"
	    "                       accept all, no diversion or impairment, always fail-open;\n"
	    "                       net.flow / net.stats with src \"net.NAME\", no proxy.stats\n"
	    "  --vantage NAME       \"vantage\" key of the events [gateway]; a monitor's router\n"
	    "  --queue N            NFQUEUE number [0; a monitor: 1]\n"
	    "  --queue-maxlen N     packets the kernel may queue [4096]\n"
	    "  --fail-open          rules use --queue-bypass: without a handler traffic flows\n"
	    "                       untouched (default fail-closed: it stops)\n"
	    "  --ports LIST         queued TCP ports, either side [443,80]\n"
	    "  --divert-dst CIDR    divert SYNs to these destinations to the engine (repeatable)\n"
	    "  --divert-all         divert every on-path SYN to the divert port\n"
	    "  --on-path CIDR       client networks on the interceptor's path (repeatable;\n"
	    "                       none: all); other sources are never diverted or impaired\n"
	    "                       (a monitor records only flows of these clients)\n"
	    "  --divert-port N      only SYNs to this port are diverted [443]\n"
	    "  --mark HEX           divert bit set on the SYN and saved in CONNMARK [0x1]\n"
	    "  --mode M             rule set: redirect | tproxy [redirect]\n"
	    "  --proxy-port N       the engine's port [8443]\n"
	    "  --impair RULE        drop:P | delay:MS | reset | timeout | redirect:URL, then\n"
	    "                       sni=PATTERN | dst=CIDR (repeatable, first match wins)\n"
	    "  --seed N             seed of the drop generator [1]\n"
	    "  --max-flows N        flow table slots, LRU eviction beyond [4096]\n"
	    "  --hold-max N         packets held by delay at once [1024]\n"
	    "  --events-per-s N     cap on net.flow + net.impair events [2000]\n"
	    "  --idle-s N           report and forget flows silent this long [30]\n"
	    "  --stats-ms N         net.stats period [1000]\n"
	    "  --install-rules      install the rule set at start, remove it at a clean exit\n"
	    "  --print-rules        print the rule set's commands and exit\n"
	    "  --remove-rules       remove the rule set (after a killed handler) and exit\n"
	    "  --debug              debug messages\n");
}

/* Parse argv into c; 0 ok, 1 --help, 2 --print-rules, 3 --remove-rules, -1 usage error. */
static int
cmd_netq_parse(struct netq_conf *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bus", required_argument, NULL, 'b' },
		{ "queue", required_argument, NULL, 'q' },
		{ "queue-maxlen", required_argument, NULL, 'Q' },
		{ "fail-open", no_argument, NULL, 'o' },
		{ "ports", required_argument, NULL, 'P' },
		{ "divert-dst", required_argument, NULL, 'd' },
		{ "divert-all", no_argument, NULL, 'A' },
		{ "on-path", required_argument, NULL, 'p' },
		{ "divert-port", required_argument, NULL, 'D' },
		{ "mark", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "proxy-port", required_argument, NULL, 'x' },
		{ "impair", required_argument, NULL, 'i' },
		{ "seed", required_argument, NULL, 's' },
		{ "max-flows", required_argument, NULL, 'F' },
		{ "hold-max", required_argument, NULL, 'H' },
		{ "events-per-s", required_argument, NULL, 'E' },
		{ "idle-s", required_argument, NULL, 'I' },
		{ "stats-ms", required_argument, NULL, 'S' },
		{ "install-rules", no_argument, NULL, 'R' },
		{ "print-rules", no_argument, NULL, 'r' },
		{ "remove-rules", no_argument, NULL, 'X' },
		{ "debug", no_argument, NULL, 'g' },
		{ "monitor", no_argument, NULL, 'W' },
		{ "vantage", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *cause = NULL, *end;
	long long v;
	int ch, print = 0, monitor = 0, queue_set = 0;
	unsigned long m;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			free(c->bus);
			c->bus = strdup(optarg);
			break;
		case 'q':
			if (cmd_opt_num("queue", optarg, 0, 65535, &v) == -1)
				return -1;
			c->queue_num = (int)v;
			queue_set = 1;
			break;
		case 'Q':
			if (cmd_opt_num("queue-maxlen", optarg, 1, 1 << 20, &v) == -1)
				return -1;
			c->queue_maxlen = (uint32_t)v;
			break;
		case 'o':
			c->fail_open = 1;
			break;
		case 'P':
			if (netq_conf_set_ports(c, optarg, &cause) == -1)
				goto bad;
			break;
		case 'd':
		case 'p':
			if (netq_conf_add_cidr(c, ch, optarg, &cause) == -1)
				goto bad;
			break;
		case 'A':
			c->divert_all = 1;
			break;
		case 'D':
			if (cmd_opt_num("divert-port", optarg, 1, 65535, &v) == -1)
				return -1;
			c->divert_port = (int)v;
			break;
		case 'm':
			m = strtoul(optarg, &end, 0);
			if (*end != '\0' || m == 0 || m > 0xffffffffUL) {
				log_warnx("--mark: \"%s\" is not a non-zero 32-bit mask (0x1)", optarg);
				return -1;
			}
			c->mark = (uint32_t)m;
			break;
		case 'M':
			if (strcmp(optarg, "redirect") != 0 && strcmp(optarg, "tproxy") != 0) {
				log_warnx("--mode: unknown \"%s\" (known: redirect, tproxy)", optarg);
				return -1;
			}
			snprintf(c->mode, sizeof(c->mode), "%s", optarg);
			break;
		case 'x':
			if (cmd_opt_num("proxy-port", optarg, 1, 65535, &v) == -1)
				return -1;
			c->proxy_port = (int)v;
			break;
		case 'i':
			if (netq_impair_add(&c->impair, optarg, "--impair", &cause) == -1)
				goto bad;
			break;
		case 's':
			if (cmd_opt_num("seed", optarg, 0, INT64_MAX, &v) == -1)
				return -1;
			c->seed = (uint64_t)v;
			break;
		case 'F':
			if (cmd_opt_num("max-flows", optarg, 1, 1 << 22, &v) == -1)
				return -1;
			c->max_flows = (size_t)v;
			break;
		case 'H':
			if (cmd_opt_num("hold-max", optarg, 1, 1 << 20, &v) == -1)
				return -1;
			c->hold_max = (size_t)v;
			break;
		case 'E':
			if (cmd_opt_num("events-per-s", optarg, 1, 1000000, &v) == -1)
				return -1;
			c->events_per_s = (int)v;
			break;
		case 'I':
			if (cmd_opt_num("idle-s", optarg, 1, 86400, &v) == -1)
				return -1;
			c->idle_s = (int)v;
			break;
		case 'S':
			if (cmd_opt_num("stats-ms", optarg, 10, 60000, &v) == -1)
				return -1;
			c->stats_ms = (int)v;
			break;
		case 'R':
			c->install_rules = 1;
			break;
		case 'r':
			print = 1;
			break;
		case 'X':
			print = 3;
			break;
		case 'g':
			c->debug = 1;
			break;
		case 'W':
			monitor = 1;
			break;
		case 'V':
			if (netq_conf_set_vantage(c, optarg, &cause) == -1)
				goto bad;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		log_warnx("unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (monitor && netq_conf_monitor(c, queue_set, &cause) == -1)
		goto bad;
	return print;
bad:
	log_warnx("%s", cause != NULL ? cause : "bad option");
	free(cause);
	return -1;
}

/* Entry point of the subcommand. */
int
cmd_netq(int argc, char **argv)
{
	char cmds[NETQ_RULES_MAX][NETQ_RULES_CMDLEN], *cause = NULL;
	struct netq_conf c;
	struct sigaction sa;
	int r, n, i, rc = 1;

	netq_conf_init(&c);
	if ((r = cmd_netq_parse(&c, argc, argv)) != 0) {
		if (r == 1)
			cmd_netq_usage(stdout);
		else if (r == 2) {
			n = netq_rules_commands(&c, 1, cmds, NETQ_RULES_MAX);
			for (i = 0; i < n; i++)
				printf("%s\n", cmds[i]);
		} else if (r == 3)
			netq_rules_remove(NULL, &c);
		else
			cmd_netq_usage(stderr);
		netq_conf_free(&c);
		return r == -1 ? 2 : 0;
	}
	log_set_debug(c.debug);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cmd_netq_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (c.install_rules && netq_rules_install(NULL, &c, &cause) == -1)
		goto out;
	if (netq_run(&c, &cmd_netq_stop, &cause) == 0)
		rc = 0;
	if (c.install_rules)
		netq_rules_remove(NULL, &c);
	bus_zctx_term();	/* flush the final stats (bounded by the bus linger); exit drops them */
out:
	if (rc != 0)
		log_warnx("%s", cause != NULL ? cause : "failed");
	free(cause);
	netq_conf_free(&c);
	return rc;
}
