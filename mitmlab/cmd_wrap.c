/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_wrap — `mitmlab wrap`: real clients (curl, openssl s_client) as workload steps. Parses
 * the options, then runs the tool once per connection (--count runs, cycling over the URLs in
 * order, no new run after --duration-ms or a signal), classifies each run (wrap.c), publishes
 * client.result per run and client.summary at the end, like `mitmlab client` does. Running a
 * process is wrap_exec.c. Outcomes are observations, not failures: the exit status is 0 when
 * every run could be started, 1 when a tool could not be run, 2 on a usage error.
 */
#include <getopt.h>
#include <signal.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "bus.h"
#include "client_stats.h"
#include "client_trust.h"
#include "log.h"
#include "util.h"
#include "wrap.h"
#include "wrap_exec.h"

#define CMD_WRAP_MAX_URLS	64
#define CMD_WRAP_MAX_PINS	32
#define CMD_WRAP_MAX_CONNECT	32

/* A --connect override. */
struct cmd_wrap_connect {
	char	host[CLIENT_URL_HOSTMAX];
	char	ip[UTIL_ADDRSTRLEN];
	int	port;
};

/* A --pin for one host, as curl takes it: "sha256//" and 44 base64 characters. */
struct cmd_wrap_pin {
	char	host[CLIENT_URL_HOSTMAX];
	char	pin[8 + 44 + 1];
};

/* Everything the options say. */
struct cmd_wrap_cfg {
	enum wrap_tool tool;
	int	tool_set;
	struct client_url urls[CMD_WRAP_MAX_URLS];
	size_t	nurls;
	struct cmd_wrap_pin pins[CMD_WRAP_MAX_PINS];
	size_t	npins;
	struct cmd_wrap_connect connects[CMD_WRAP_MAX_CONNECT];
	size_t	nconnects;
	long long count, timeout_ms, duration_ms;
	const char *cafile, *ua, *bus, *id;
	enum wrap_http http;
	int	summary, results, verbose;
};

static volatile sig_atomic_t cmd_wrap_stop;

/* SIGINT/SIGTERM: start no new run. */
static void
cmd_wrap_signal(int sig)
{
	(void)sig;
	cmd_wrap_stop = 1;
}

/* Print usage to f. */
static void
cmd_wrap_usage(FILE *f)
{
	fprintf(f,
	    "usage: mitmlab wrap --tool curl|openssl --url URL... [options]\n"
	    "  --tool T          curl or openssl (s_client)\n"
	    "  --url URL         https://HOST[:PORT][/PATH] (repeatable; runs cycle in order)\n"
	    "  --count N         total runs (default 1)\n"
	    "  --timeout-ms T    per run (default 5000)\n"
	    "  --cafile FILE     PEM bundle: the whole trust store\n"
	    "  --pin HOST=sha256//BASE64   SPKI pin of the leaf (repeatable; curl --pinnedpubkey;\n"
	    "                    sha256/BASE64 too)\n"
	    "  --http V          1.1, 2 or auto (default auto; openssl: auto = http/1.1)\n"
	    "  --ua STRING       User-Agent\n"
	    "  --connect HOST=IP[:PORT]    connect there instead of resolving HOST (repeatable)\n"
	    "  --bus EP          publish client.result / client.summary to this forwarder input\n"
	    "  --id NAME         component id on the bus (default wrap)\n"
	    "  --duration-ms T   start no run after T ms (default 60000)\n"
	    "  --summary         print the client.summary JSON on stdout at the end\n"
	    "  --results         print every client.result JSON on stdout\n"
	    "  --verbose         one line per run on stderr, and debug messages\n");
}

/* Parse HOST=sha256//BASE64 (curl's form) or HOST=sha256/BASE64 (Chromium's, which the runner
 * and the native client use). */
static int
cmd_wrap_add_pin(struct cmd_wrap_cfg *c, const char *s, char **cause)
{
	const char *eq = strchr(s, '='), *b64 = NULL;
	unsigned char raw[32];

	if (c->npins == CMD_WRAP_MAX_PINS)
		return util_cause(cause, "at most %d --pin options", CMD_WRAP_MAX_PINS);
	/* by length, not by the second '/': base64 may itself begin with '/' */
	if (eq != NULL && strncmp(eq + 1, "sha256/", 7) == 0)
		b64 = strlen(eq + 8) == 45 && eq[8] == '/' ? eq + 9 : eq + 8;
	if (eq == NULL || eq == s || (size_t)(eq - s) >= CLIENT_URL_HOSTMAX || b64 == NULL ||
	    strlen(b64) != 44 || client_trust_parse_hash(b64, raw) == -1)
		return util_cause(cause, "--pin \"%s\": expected HOST=sha256//BASE64 or "
		    "HOST=sha256/BASE64 (44 base64 characters)", s);
	snprintf(c->pins[c->npins].host, CLIENT_URL_HOSTMAX, "%.*s", (int)(eq - s), s);
	snprintf(c->pins[c->npins++].pin, sizeof(c->pins[0].pin), "sha256//%s", b64);
	return 0;
}

/* Parse HOST=IP[:PORT]. */
static int
cmd_wrap_add_connect(struct cmd_wrap_cfg *c, const char *s, char **cause)
{
	struct cmd_wrap_connect *e;
	struct sockaddr_storage ss;
	socklen_t sl;

	if (c->nconnects == CMD_WRAP_MAX_CONNECT)
		return util_cause(cause, "at most %d --connect options", CMD_WRAP_MAX_CONNECT);
	e = &c->connects[c->nconnects];
	if (client_url_parse_connect(s, e->host, &ss, &sl, &e->port, cause) == -1)
		return -1;
	util_sa_host((struct sockaddr *)&ss, e->ip, sizeof(e->ip));
	c->nconnects++;
	return 0;
}

/* Parse the options into c; 0 ok, 1 help printed, -1 error with *cause. */
static int
cmd_wrap_opts(int argc, char **argv, struct cmd_wrap_cfg *c, char **cause)
{
	static const struct option opts[] = {
		{ "tool", required_argument, NULL, 't' },
		{ "url", required_argument, NULL, 'u' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout-ms", required_argument, NULL, 'w' },
		{ "cafile", required_argument, NULL, 'C' },
		{ "pin", required_argument, NULL, 'P' },
		{ "http", required_argument, NULL, 'H' },
		{ "ua", required_argument, NULL, 'A' },
		{ "connect", required_argument, NULL, 'c' },
		{ "bus", required_argument, NULL, 'b' },
		{ "id", required_argument, NULL, 'i' },
		{ "duration-ms", required_argument, NULL, 'D' },
		{ "summary", no_argument, NULL, 's' },
		{ "results", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(c, 0, sizeof(*c));
	c->count = 1;
	c->timeout_ms = 5000;
	c->duration_ms = 60000;
	c->id = "wrap";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (wrap_tool_parse(optarg, &c->tool, cause) == -1)
				return -1;
			c->tool_set = 1;
			break;
		case 'u':
			if (c->nurls == CMD_WRAP_MAX_URLS)
				return util_cause(cause, "at most %d --url options", CMD_WRAP_MAX_URLS);
			if (client_url_parse(optarg, &c->urls[c->nurls], cause) == -1)
				return -1;
			c->nurls++;
			break;
		case 'n':
			if (util_parse_ll(optarg, 1, 1000000, &c->count, cause) == -1)
				return -1;
			break;
		case 'w':
			if (util_parse_ll(optarg, 1, 3600000, &c->timeout_ms, cause) == -1)
				return -1;
			break;
		case 'D':
			if (util_parse_ll(optarg, 1, 86400000, &c->duration_ms, cause) == -1)
				return -1;
			break;
		case 'C': c->cafile = optarg; break;
		case 'A': c->ua = optarg; break;
		case 'b': c->bus = optarg; break;
		case 'i': c->id = optarg; break;
		case 's': c->summary = 1; break;
		case 'r': c->results = 1; break;
		case 'v': c->verbose = 1; break;
		case 'P':
			if (cmd_wrap_add_pin(c, optarg, cause) == -1)
				return -1;
			break;
		case 'c':
			if (cmd_wrap_add_connect(c, optarg, cause) == -1)
				return -1;
			break;
		case 'H':
			if (wrap_http_parse(optarg, &c->http, cause) == -1)
				return -1;
			break;
		case 'h':
			cmd_wrap_usage(stdout);
			return 1;
		default:
			return util_cause(cause, "bad option (mitmlab wrap --help)");
		}
	}
	if (optind < argc)
		return util_cause(cause, "unexpected argument \"%s\"", argv[optind]);
	if (!c->tool_set)
		return util_cause(cause, "--tool is required (curl or openssl)");
	if (c->nurls == 0)
		return util_cause(cause, "at least one --url is required");
	if (c->tool == WRAP_OPENSSL) {
		size_t i;
		for (i = 0; i < c->nurls; i++)
			if (!c->urls[i].tls)
				return util_cause(cause, "--url %s: openssl s_client speaks TLS only "
				    "(use --tool curl for http:// URLs)", c->urls[i].text);
	}
	if (c->cafile != NULL && access(c->cafile, R_OK) == -1)
		return util_cause(cause, "--cafile %s: cannot read it", c->cafile);
	return 0;
}

/* The job for URL u. */
static void
cmd_wrap_job(const struct cmd_wrap_cfg *c, const struct client_url *u, struct wrap_job *j)
{
	size_t i;

	memset(j, 0, sizeof(*j));
	j->tool = c->tool;
	j->u = u;
	j->cafile = c->cafile;
	j->ua = c->ua;
	j->http = c->http;
	j->timeout_ms = (long)c->timeout_ms;
	for (i = 0; i < c->npins && j->npins < WRAP_PINS_MAX; i++)
		if (strcasecmp(c->pins[i].host, u->host) == 0)
			j->pins[j->npins++] = c->pins[i].pin;
	for (i = 0; i < c->nconnects; i++)
		if (strcasecmp(c->connects[i].host, u->host) == 0) {
			j->connect_ip = c->connects[i].ip;
			j->connect_port = c->connects[i].port;
			break;
		}
}


/* The address s_client will connect to for host (the same resolver, files in the lab), as
 * text into out; empty when it does not resolve. */
static void
cmd_wrap_resolve(const char *host, char *out, size_t outlen)
{
	struct addrinfo hints, *res = NULL;

	out[0] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
		return;
	util_sa_host(res->ai_addr, out, outlen);
	freeaddrinfo(res);
}

/* A local end for a connection to ip:port: the route's source address (the name of a
 * connected UDP socket; nothing is sent) and a port the kernel hands a TCP socket bound to
 * it, closed again before s_client binds it. 0, or -1: s_client picks its own and the run
 * has no flow id. Between the close and s_client's bind another socket of the client's
 * namespace could take that port (only its own wraps run there, and the kernel starts each
 * search for a free port at a random offset): a rare race this does not close, in which two
 * connections of the client could share a local port. */
static int
cmd_wrap_local(const char *ip, int port, char *lip, size_t liplen, int *lport)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ps[16];
	int fd = -1, rc = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	snprintf(ps, sizeof(ps), "%d", port);
	if (ip[0] == '\0' || getaddrinfo(ip, ps, &hints, &res) != 0 || res == NULL)
		return -1;
	if ((fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		goto out;
	close(fd);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	sl = sizeof(ss);
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		goto out;
	*lport = util_sa_host((struct sockaddr *)&ss, lip, liplen);
	rc = *lport > 0 ? 0 : -1;
out:
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return rc;
}

/*
 * The tool's key log, for its hello's random (wrap_keylog_random): an anonymous memory file
 * of our own for each run (never on disk; it dies with us), which the tool reaches as
 * /proc/self/fd/N, inherited across fork and exec. -1 when there is none (then no random).
 */
static int
cmd_wrap_keylog_open(char *path, size_t len)
{
	int fd = memfd_create("mitmlab-wrap-keylog", 0);	/* not close-on-exec */

	if (fd != -1)
		snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/* What a tool inherits of our environment: not SSLKEYLOGFILE (wrap gives curl its own). */
static const char *const cmd_wrap_env_drop[] = { "SSLKEYLOGFILE=", NULL };

/* curl's default User-Agent ("curl/VERSION", asked of `curl --version` once), or NULL. */
static const char *
cmd_wrap_curl_ua(void)
{
	static char ua[48];
	static int asked;
	char *const argv[] = { (char *)(uintptr_t)"curl", (char *)(uintptr_t)"--version", NULL };
	struct wrap_output o;
	struct util_env env;

	if (!asked) {
		asked = 1;
		memset(&o, 0, sizeof(o));
		/* without SSLKEYLOGFILE: curl would create the user's file just to print this (when
		 * building fails, env.v is NULL: our environment) */
		(void)util_env_init(&env, cmd_wrap_env_drop, 0);
		if (wrap_exec_run_env(argv, env.v, NULL, 0, 5000, &o, NULL) == 0) {
			wrap_curl_ua(o.out, ua, sizeof(ua));
			wrap_exec_free(&o);
		}
		util_env_free(&env);
	}
	return ua[0] != '\0' ? ua : NULL;
}

/*
 * After the run: the random from the first well-formed line the tool logged, then the lines
 * appended to the user's SSLKEYLOGFILE when one is set (created mode 0600), as curl would
 * have written them itself (and s_client too, which does not read the variable). Closes fd.
 */
static void
cmd_wrap_keylog_done(int fd, struct client_record *r)
{
	const char *user = getenv("SSLKEYLOGFILE");
	char buf[16384];
	ssize_t n, w;
	off_t off = 0;
	int ufd = -1;

	if (user != NULL && user[0] != '\0' &&
	    (ufd = open(user, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600)) == -1)
		log_warn("SSLKEYLOGFILE %s: cannot open to append the key log", user);
	while ((n = pread(fd, buf, sizeof(buf) - 1, off)) > 0) {
		buf[n] = '\0';
		if (off == 0)	/* one handshake's lines: a few hundred bytes */
			wrap_keylog_random(buf, r);
		if (ufd != -1 && (w = write(ufd, buf, (size_t)n)) != n) {
			if (w == -1)
				log_warn("SSLKEYLOGFILE %s: cannot append the key log", user);
			else
				log_warnx("SSLKEYLOGFILE %s: key log cut short", user);
			close(ufd);
			ufd = -1;
		}
		off += n;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (ufd != -1)
		close(ufd);
	close(fd);
}

/* One run of the tool against u into *r; -1 with *cause when the tool could not be run. */
static int
cmd_wrap_once(const struct cmd_wrap_cfg *c, const struct client_url *u,
    struct client_record *r, int *exit_code, char **cause)
{
	struct wrap_output o;
	struct wrap_argv a;
	struct wrap_job j;
	struct util_env env = { 0 };
	char *req = NULL, keylog[64], lip[UTIL_ADDRSTRLEN];
	int rc, lport = 0, klfd = -1;
	uint64_t t_start;

	cmd_wrap_job(c, u, &j);
	client_result_init(r);
	r->url = u->text;
	r->plain = !u->tls;
	r->sni = u->tls ? u->host : NULL;
	/* the User-Agent the origin will see: what the tool sends when none is given */
	r->ua = c->ua != NULL ? c->ua : c->tool == WRAP_OPENSSL ? WRAP_SCLIENT_UA :
	    cmd_wrap_curl_ua();
	r->hello = wrap_tool_name(c->tool);
	if (c->tool == WRAP_OPENSSL) {
		if (j.connect_ip != NULL)
			snprintf(r->server_ip, sizeof(r->server_ip), "%s", j.connect_ip);
		else
			cmd_wrap_resolve(u->host, r->server_ip, sizeof(r->server_ip));
		r->server_port = j.connect_port != 0 ? j.connect_port : u->port;
		if (cmd_wrap_local(r->server_ip, r->server_port, lip, sizeof(lip), &lport) == 0) {
			j.bind_ip = lip;
			j.bind_port = lport;
		}
	}
	if (u->tls && (klfd = cmd_wrap_keylog_open(keylog, sizeof(keylog))) != -1) {
		if (c->tool == WRAP_OPENSSL)
			j.keylog = keylog;
		else if (util_env_init(&env, cmd_wrap_env_drop, 1) == -1 ||	/* curl: env only */
		    util_env_add(&env, "SSLKEYLOGFILE=%s", keylog) == -1) {
			util_env_free(&env);
			close(klfd);
			klfd = -1;
		}
	}
	if (wrap_argv_build(&j, &a, cause) == -1) {
		rc = -1;
		goto out;
	}
	if (c->tool == WRAP_OPENSSL && (req = wrap_request(&j)) == NULL) {
		wrap_argv_free(&a);
		rc = util_cause(cause, "out of memory");
		goto out;
	}
	t_start = util_now_ns();
	rc = wrap_exec_run_env(a.v, env.v, req, req != NULL ? strlen(req) : 0,
	    wrap_deadline_ms(&j), &o, cause);
	r->end_ns = util_now_ns();	/* the tool has ended (curl's own end: below) */
	free(req);
	wrap_argv_free(&a);
	if (rc == -1) {
		wrap_exec_free(&o);
		goto out;
	}
	if (c->tool == WRAP_CURL) {
		wrap_curl_classify(&o, r);
		/* curl's time_total ends before it tears down, exits and is reaped: ts from its
		 * start (t_total_us is curl's time_total, or the run as measured) */
		r->end_ns = t_start + (uint64_t)r->t_total_us * 1000;
	} else {
		wrap_sclient_classify(&o, j.pins, j.npins, r);
		/* the flow exists once TCP connected, as curl's local_port says for curl */
		if (j.bind_ip != NULL && o.out != NULL && strstr(o.out, "CONNECTED(") != NULL) {
			snprintf(r->client_ip, sizeof(r->client_ip), "%s", j.bind_ip);
			r->client_port = j.bind_port;
			wrap_set_flow(r);
		}
	}
	if (klfd != -1) {
		cmd_wrap_keylog_done(klfd, r);
		klfd = -1;
	}
	*exit_code = o.exit_code;
	if (c->verbose && o.errlen > 0)
		log_debug("%s stderr: %.*s", wrap_tool_name(c->tool), (int)(o.errlen > 2000 ?
		    2000 : o.errlen), o.err);
	wrap_exec_free(&o);
	rc = 0;
out:
	if (klfd != -1)
		close(klfd);
	util_env_free(&env);
	return rc;
}

/* Print ev as one JSON line on stdout. */
static void
cmd_wrap_print(json_t *ev)
{
	char *s = json_dumps(ev, JSON_COMPACT);

	if (s != NULL) {
		printf("%s\n", s);
		free(s);
	}
}

/* Catch SIGINT/SIGTERM (no new run starts) and ignore SIGPIPE (children get it back). */
static void
cmd_wrap_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cmd_wrap_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The run loop; -1 with *cause when a tool could not be run. */
static int
cmd_wrap_run(const struct cmd_wrap_cfg *c, struct bus *b, char **cause)
{
	struct client_stats st;
	struct client_record r;
	const char *stopped_by = "count";
	uint64_t t0 = util_mono_ns();
	long long i;
	int exit_code = -1, rc = 0;
	json_t *ev;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < c->count; i++) {
		if (cmd_wrap_stop) {
			stopped_by = "signal";
			break;
		}
		if ((util_mono_ns() - t0) / 1000000 >= (uint64_t)c->duration_ms) {
			stopped_by = "duration";
			break;
		}
		st.launched++;
		if (cmd_wrap_once(c, &c->urls[(size_t)i % c->nurls], &r, &exit_code, cause) == -1) {
			st.aborted++;
			rc = -1;
			stopped_by = "error";
			break;
		}
		client_stats_add(&st, &r);
		if (c->verbose)
			log_info("%s %s %s (exit %d)%s%s", wrap_tool_name(c->tool), r.url,
			    client_result_name(r.outcome), exit_code, r.error[0] ? ": " : "",
			    r.error);
		if ((ev = wrap_event(&r, c->tool, exit_code)) == NULL)
			continue;
		if (c->results)
			cmd_wrap_print(ev);
		bus_publish(b, ev);
	}
	ev = client_stats_summary(&st, util_mono_ns() - t0, stopped_by);
	if (ev != NULL) {
		json_object_set_new(ev, "tool", json_string(wrap_tool_name(c->tool)));
		if (c->summary)
			cmd_wrap_print(ev);
		bus_publish(b, ev);
	}
	fflush(stdout);
	client_stats_free(&st);
	return rc;
}

/* mitmlab wrap: parse options, run, report. */
int
cmd_wrap(int argc, char **argv)
{
	struct cmd_wrap_cfg *c;
	struct bus *b = NULL;
	char *cause = NULL;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory");
		return 1;
	}
	if ((rc = cmd_wrap_opts(argc, argv, c, &cause)) != 0) {
		if (rc == -1) {
			log_warnx("%s", cause != NULL ? cause : "bad options");
			free(cause);
		}
		free(c);
		return rc == 1 ? 0 : 2;
	}
	log_set_debug(c->verbose);
	cmd_wrap_signals();
	if ((b = bus_open(c->bus, c->id, 1000, &cause)) == NULL) {
		log_warnx("%s", cause != NULL ? cause : "cannot open the bus");
		free(cause);
		free(c);
		return 1;
	}
	rc = cmd_wrap_run(c, b, &cause);
	if (rc == -1) {
		log_warnx("%s", cause != NULL ? cause : "run failed");
		free(cause);
	}
	bus_close(b);
	if (c->bus != NULL)
		bus_zctx_term();
	free(c);
	return rc == -1 ? 1 : 0;
}
