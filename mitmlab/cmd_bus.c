/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_bus — `mitmlab bus`: runs the event forwarder and recorder (--in/--out [--record]
 * [--pidfile]) until SIGTERM or SIGINT, or tails a forwarder's output (--tail) as JSON lines.
 * Option parsing, signals, the pid file and the exit status live here; the bus itself is bus.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "cmd.h"
#include "log.h"
#include "util.h"

#define CMD_BUS_MAX_TOPICS 32

static volatile int cmd_bus_stop;

/* SIGTERM/SIGINT: ask the loop to finish. */
static void
cmd_bus_signal(int sig)
{
	(void)sig;
	cmd_bus_stop = 1;
}

/* Print usage to f. */
static void
cmd_bus_usage(FILE *f)
{
	fprintf(f,
	    "usage: mitmlab bus --in EP --out EP [--record FILE] [--pidfile FILE] [--debug]\n"
	    "       mitmlab bus --tail EP [--topic PREFIX]... [--count N] [--timeout-ms T]\n"
	    "  --in EP          bind the publishers' side (XSUB), e.g. ipc:///run/dir/bus.in\n"
	    "  --out EP         bind the subscribers' side (XPUB), e.g. ipc:///run/dir/bus.out\n"
	    "  --record FILE    append every valid event as one JSON line (events.jsonl)\n"
	    "  --pidfile FILE   write the process id to FILE, removed at exit\n"
	    "  --tail EP        subscribe to a forwarder's output and print events on stdout\n"
	    "  --topic PREFIX   only topics starting with PREFIX (repeatable; default all)\n"
	    "  --count N        stop after N events (exit 1 if the timeout comes first)\n"
	    "  --timeout-ms T   stop after T milliseconds\n");
}

/* Catch SIGTERM/SIGINT without SA_RESTART so the poll loop wakes up. */
static void
cmd_bus_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cmd_bus_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Forwarder mode. */
static int
cmd_bus_forward(const char *in, const char *out, const char *record, const char *pidfile)
{
	struct bus_fwd_stats st;
	char *cause = NULL, pid[32];
	int n, rc;

	if (pidfile != NULL) {
		n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (util_write_file(pidfile, pid, (size_t)n, 0644, &cause) == -1) {
			log_warnx("%s", cause);
			free(cause);
			return 1;
		}
	}
	rc = bus_forward_live(in, out, record, &cmd_bus_stop, &st, NULL, &cause);
	if (rc == -1) {
		log_warnx("%s", cause != NULL ? cause : "forwarder failed");
		free(cause);
	}
	fprintf(stderr, "mitmlab bus: received %llu, forwarded %llu, recorded %llu, invalid %llu, "
	    "sources %llu, seq gaps %llu (missing %llu), %s\n",
	    (unsigned long long)st.received, (unsigned long long)st.forwarded,
	    (unsigned long long)st.recorded, (unsigned long long)st.invalid,
	    (unsigned long long)st.sources, (unsigned long long)st.gaps,
	    (unsigned long long)st.missing, !st.background ? "normal scheduling" :
	    st.boosts == 0 ? "in the background, never behind" : "in the background, behind at times");
	if (pidfile != NULL)
		unlink(pidfile);
	bus_zctx_term();
	return rc == -1 ? 1 : 0;
}

/* Tail mode. */
static int
cmd_bus_tail(const char *ep, const char *const *topics, int ntopics, long count, long timeout)
{
	char *cause = NULL;
	long got;

	got = bus_tail(ep, topics, ntopics, count, timeout, stdout, &cmd_bus_stop, &cause);
	bus_zctx_term();
	if (got < 0) {
		log_warnx("%s", cause != NULL ? cause : "tail failed");
		free(cause);
		return 1;
	}
	if (count > 0 && got < count && !cmd_bus_stop) {
		log_warnx("%s: %ld of %ld events before the %ld ms timeout", ep, got, count, timeout);
		return 1;
	}
	return 0;
}

/* mitmlab bus: parse options, run the forwarder or the tail. */
int
cmd_bus(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "record", required_argument, NULL, 'r' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "tail", required_argument, NULL, 'T' },
		{ "topic", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout-ms", required_argument, NULL, 'w' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *in = NULL, *out = NULL, *record = NULL, *pidfile = NULL, *tail = NULL;
	const char *topics[CMD_BUS_MAX_TOPICS];
	long long count = 0, timeout = 0;
	char *cause = NULL;
	int c, ntopics = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:o:r:p:T:t:n:w:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		case 'r': record = optarg; break;
		case 'p': pidfile = optarg; break;
		case 'T': tail = optarg; break;
		case 'd': log_set_debug(1); break;
		case 't':
			if (ntopics == CMD_BUS_MAX_TOPICS) {
				log_warnx("at most %d --topic options", CMD_BUS_MAX_TOPICS);
				return 2;
			}
			topics[ntopics++] = optarg;
			break;
		case 'n':
		case 'w':
			if (util_parse_ll(optarg, 0, 1000000000000LL, c == 'n' ? &count : &timeout,
			    &cause) == -1) {
				log_warnx("--%s: %s", c == 'n' ? "count" : "timeout-ms", cause);
				free(cause);
				return 2;
			}
			break;
		case 'h':
			cmd_bus_usage(stdout);
			return 0;
		default:
			cmd_bus_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (tail == NULL && (in == NULL || out == NULL)) ||
	    (tail != NULL && (in != NULL || out != NULL || record != NULL))) {
		cmd_bus_usage(stderr);
		return 2;
	}
	cmd_bus_signals();
	if (tail != NULL)
		return cmd_bus_tail(tail, topics, ntopics, (long)count, (long)timeout);
	return cmd_bus_forward(in, out, record, pidfile);
}
