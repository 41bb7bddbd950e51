/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_probe — `mitmlab probe ttl ...`: localise an interceptor from a client namespace with
 * TTL-limited handshakes (probe.h). Sweeps TTL 1..--max-ttl, stopping early once both names
 * got a certificate and the server answered an echo, then prints the probe.ttl event as one
 * JSON line and publishes it on --bus. Bounded: at most max_ttl * (2 TLS + 1 echo) * tries
 * attempts of --timeout-ms each. Exit status: 0 done, 1 runtime failure, 2 usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cmd.h"
#include "log.h"
#include "probe.h"
#include "util.h"

#define CMD_PROBE_MAX_TRUST	16

/* Print usage to f. */
static void
cmd_probe_usage(FILE *f)
{
	fprintf(f,
	    "usage: mitmlab probe ttl --host NAME --connect IP[:PORT] [options]\n"
	    "  TTL-limited TLS handshakes (Censored Planet's localisation method): per TTL one\n"
	    "  connection with the targeted SNI and one with an untargeted control SNI, the TTL\n"
	    "  lowered after the TCP handshake; plus a TTL-limited ICMP echo to the server.\n"
	    "  --host NAME          the host probed (default targeted SNI)\n"
	    "  --connect IP[:PORT]  the server's address [port 443]\n"
	    "  --sni NAME           targeted SNI [--host]\n"
	    "  --control-sni NAME   untargeted SNI [example.org]\n"
	    "  --max-ttl N          last TTL tried, 1..%d [16]\n"
	    "  --tries N            attempts per TTL and name without a certificate [2]\n"
	    "  --timeout-ms N       per attempt [1000]\n"
	    "  --trust FILE         PEM roots a real certificate chains to (repeatable); without\n"
	    "                       it, real = same leaf or issuer as the control's certificate\n"
	    "  --no-icmp            no ICMP echoes (server distance from the control instead)\n"
	    "  --full               sweep every TTL up to --max-ttl (no early stop)\n"
	    "  --bus EP             publish probe.ttl to EP\n"
	    "  --id NAME            source id on the bus [probe]\n", PROBE_MAX_TTL);
}

/* The sweep, the decision, the output. */
static int
cmd_probe_sweep(struct probe_ttl *p, const char *sni, const char *control, int max_ttl,
    int full, json_t *head, struct bus *b)
{
	struct probe_obs obs[PROBE_MAX_TTL];
	struct probe_result res;
	size_t n = 0;
	int ttl;
	json_t *body, *ev;
	char *line;

	memset(obs, 0, sizeof(obs));
	for (ttl = 1; ttl <= max_ttl; ttl++) {
		struct probe_obs *o = &obs[n++];
		o->ttl = ttl;
		/* The echo first: routers rate-limit time-exceeded messages, and the hellos
		 * dying at this TTL would use up the allowance. */
		o->echo = probe_ttl_echo(p, ttl, o->icmp_from, sizeof(o->icmp_from));
		probe_ttl_tls(p, ttl, sni, &o->target);
		probe_ttl_tls(p, ttl, control, &o->control);
		log_debug("ttl %d: target %s control %s echo %d from %s", ttl,
		    o->target.cert ? "cert" : o->target.error,
		    o->control.cert ? "cert" : o->control.error, o->echo, o->icmp_from);
		if (!full && probe_done(obs, n))
			break;
	}
	probe_decide(obs, n, &res);
	if ((body = probe_json(obs, n, &res)) == NULL || (ev = bus_event("probe.ttl")) == NULL) {
		json_decref(body);
		log_warnx("out of memory");
		return 1;
	}
	json_object_update(ev, head);
	json_object_update(ev, body);
	json_decref(body);
	if ((line = json_dumps(ev, JSON_COMPACT)) != NULL) {
		printf("%s\n", line);
		free(line);
	}
	fflush(stdout);
	log_info("%s: injection hop %d, server hop %d (%s), control answered at %d",
	    sni, res.injection_hop, res.server_hop,
	    res.server_hop_source != NULL ? res.server_hop_source : "none", res.control_hop);
	bus_publish(b, ev);
	return 0;
}

/* mitmlab probe ttl ... */
int
cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "connect", required_argument, NULL, 'c' },
		{ "sni", required_argument, NULL, 's' },
		{ "control-sni", required_argument, NULL, 'C' },
		{ "max-ttl", required_argument, NULL, 'm' },
		{ "tries", required_argument, NULL, 'r' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "trust", required_argument, NULL, 'T' },
		{ "no-icmp", no_argument, NULL, 'I' },
		{ "full", no_argument, NULL, 'F' },
		{ "bus", required_argument, NULL, 'b' },
		{ "id", required_argument, NULL, 'i' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *host = NULL, *connect_to = NULL, *sni = NULL, *control = "example.org";
	const char *bus_ep = NULL, *id = "probe", *trust[CMD_PROBE_MAX_TRUST + 1];
	long long max_ttl = 16, tries = 2, timeout = 1000;
	size_t n_trust = 0;
	int ch, no_icmp = 0, full = 0, rc;
	struct probe_ttl_opts po;
	struct probe_ttl *p;
	struct bus *b;
	char addr[300], *cause = NULL;
	json_t *head;

	if (argc < 2 || strcmp(argv[1], "ttl") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			cmd_probe_usage(stdout);
			return 0;
		}
		cmd_probe_usage(stderr);
		return 2;
	}
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'H': host = optarg; break;
		case 'c': connect_to = optarg; break;
		case 's': sni = optarg; break;
		case 'C': control = optarg; break;
		case 'm':
			if (cmd_opt_num("max-ttl", optarg, 1, PROBE_MAX_TTL, &max_ttl) == -1)
				return 2;
			break;
		case 'r':
			if (cmd_opt_num("tries", optarg, 1, 10, &tries) == -1)
				return 2;
			break;
		case 't':
			if (cmd_opt_num("timeout-ms", optarg, 10, 60000, &timeout) == -1)
				return 2;
			break;
		case 'T':
			if (n_trust == CMD_PROBE_MAX_TRUST) {
				log_warnx("--trust: at most %d files", CMD_PROBE_MAX_TRUST);
				return 2;
			}
			trust[n_trust++] = optarg;
			break;
		case 'I': no_icmp = 1; break;
		case 'F': full = 1; break;
		case 'b': bus_ep = optarg; break;
		case 'i': id = optarg; break;
		case 'd': log_set_debug(1); break;
		case 'h': cmd_probe_usage(stdout); return 0;
		default: cmd_probe_usage(stderr); return 2;
		}
	}
	trust[n_trust] = NULL;
	if (optind != argc || host == NULL || connect_to == NULL) {
		log_warnx("probe ttl: --host NAME and --connect IP[:PORT] are required "
		    "(mitmlab probe ttl --help)");
		return 2;
	}
	if (sni == NULL)
		sni = host;
	/* A bare address gets port 443. */
	snprintf(addr, sizeof(addr), strchr(connect_to, ':') == NULL ? "%s:443" : "%s",
	    connect_to);
	memset(&po, 0, sizeof(po));
	if ((rc = util_parse_hostport(addr, &po.addr, &cause)) == -1) {
		log_warnx("--connect %s: %s", connect_to, cause != NULL ? cause : "bad address");
		free(cause);
		return 2;
	}
	po.addrlen = (socklen_t)rc;
	po.timeout_ms = (int)timeout;
	po.tries = (unsigned)tries;
	po.trust = trust;
	if ((p = probe_ttl_new(&po, &cause)) == NULL) {
		log_warnx("probe ttl: %s", cause);
		free(cause);
		return 1;
	}
	if (no_icmp)
		probe_ttl_no_icmp(p);
	if ((b = bus_open(bus_ep, id, 1000, &cause)) == NULL) {
		log_warnx("--bus %s: %s", bus_ep, cause);
		free(cause);
		probe_ttl_free(p);
		return 1;
	}
	head = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:b}", "host", host, "sni", sni,
	    "control_sni", control, "connect", addr, "max_ttl", (int)max_ttl, "tries", (int)tries,
	    "timeout_ms", (int)timeout, "icmp", probe_ttl_has_icmp(p));
	rc = head == NULL ? 1 : cmd_probe_sweep(p, sni, control, (int)max_ttl, full, head, b);
	json_decref(head);
	bus_close(b);
	bus_zctx_term();	/* flushes what bus_close left queued (bounded by its linger) */
	probe_ttl_free(p);
	return rc;
}
