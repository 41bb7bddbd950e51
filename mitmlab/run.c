/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run — the scenario runner of run.h. It owns the order of things and the clean-up; the
 * pieces are elsewhere: scenario.c (validation), pki.c/webpki.c (certificates), lab.c
 * (namespaces), bus.c (forwarder + events.jsonl), capture.c (pcaps), and the component
 * programs (mitmlab origin / proxy / client / wrap) that it starts inside the namespaces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cyaml/cyaml.h>
#include <event2/event.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <pcap/pcap.h>
#include <zmq.h>

#include "amanifest.h"
#include "bus.h"
#include "capture.h"
#include "client_opts.h"
#include "config.h"
#include "harness.h"
#include "lab.h"
#include "log.h"
#include "netq_conf.h"
#include "netq_rules.h"
#include "pki.h"
#include "report.h"
#include "run.h"
#include "scenario.h"
#include "util.h"
#include "version.h"
#include "webpki.h"

#define RUN_MAX_PROCS	256
#define RUN_MAX_CAPS	256
#define RUN_CAP_BYTES	(256ull << 20)
/* Waits and timeouts --timeout-scale multiplies, and the most each taker accepts */
#define RUN_QUEUE_WAIT_MS	10000	/* the packet plane and monitor binding their queues */
#define RUN_PORT_WAIT_MS	20000	/* the engine and the origins listening */
#define RUN_WAIT_MAX		3600000	/* a scaled start-up wait stops at an hour */
#define RUN_ENGINE_HS_MS	10000	/* the engine's own --handshake-timeout default */
#define RUN_END_QUIET_MS	5000	/* lab.run.end waits this long for the lab's last events */

struct run_proc {
	pid_t	 pid;
	char	 what[64];
	int	 role;		/* LAB_CLIENT / LAB_ORIGIN / LAB_GATEWAY */
	int	 status;	/* -1 while running */
	int	 wstatus;	/* waitpid's, once it has ended */
	int	 termed;	/* the runner sent it SIGTERM (stop) */
	int	 killed;	/* ... and SIGKILL after the grace period */
};

struct run {
	const struct run_opts	*o;
	struct scenario		*s;
	struct lab		*lab;
	char			 dir[PATH_MAX];
	char			 self[PATH_MAX];
	char			 bus_in[PATH_MAX + 16], bus_out[PATH_MAX + 16];
	uint64_t		 seed;
	struct bus		*bus;
	struct harness		*harness;	/* live analyzers (NULL: none) */
	pthread_t		 fwd;
	int			 fwd_started;
	volatile int		 fwd_stop;
	struct bus_fwd_live	 fwd_live;	/* the forwarder's progress, for the end barrier */
	struct run_proc		 procs[RUN_MAX_PROCS];
	pid_t			 origin_pids[64];
	size_t			 n_procs;
	struct capture		*caps[RUN_MAX_CAPS];
	char			 cap_names[RUN_MAX_CAPS][64];
	struct capture_stats	 cap_stats[RUN_MAX_CAPS];	/* filled as each stops */
	size_t			 n_caps;
	uint64_t		 t_start;	/* monotonic, for progress and timings */
	uint64_t		 wall_start, wall_end;	/* ns since the epoch, for the manifest */
	json_t			*timings;
	int			 lock_fd;	/* DIR/runner.lock, flocked for the run (-1: none) */
	int			 claimed;	/* the run directory is this run's */
	int			 held;		/* lab up: the lab served and was held */
	json_t			*problems;	/* [{what, detail}]: what makes the run degraded */
	char			 fwd_error[512];	/* the forwarder's failure ("": none) */
};

static volatile sig_atomic_t run_interrupted;

static int run_reap(struct run *r, int role);
static int run_alive(struct run *r, const char *what);

/* SIGINT/SIGTERM/SIGHUP/SIGQUIT: end the run early; the normal stop path still runs. */
static void
run_on_signal(int sig)
{
	(void)sig;
	run_interrupted = 1;
}

/* Progress line (unless quiet). */
static void __attribute__((format(printf, 2, 3)))
run_say(const struct run *r, const char *fmt, ...)
{
	va_list ap;
	double t = (double)(util_mono_ns() - r->t_start) / 1e9;

	if (r->o->quiet)
		return;
	printf("[%6.1fs] ", t);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Record something that makes the run degraded (manifest "problems"; exit status 3). */
static void __attribute__((format(printf, 3, 4)))
run_problem(struct run *r, const char *what, const char *fmt, ...)
{
	va_list ap;
	char detail[1024];

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_array_append_new(r->problems, json_pack("{s:s, s:s}", "what", what, "detail",
	    detail));
}

/* Path under the run directory. */
static char *
run_path(const struct run *r, char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(buf, len, "%s/", r->dir);

	va_start(ap, fmt);
	vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return buf;
}

/* The forwarder thread: bus.in → bus.out, recording events.jsonl. */
static void *
run_forward_main(void *arg)
{
	struct run *r = arg;
	char rec[PATH_MAX + 16], *cause = NULL;

	run_path(r, rec, sizeof(rec), "events.jsonl");
	if (bus_forward_live(r->bus_in, r->bus_out, rec, &r->fwd_stop, NULL, &r->fwd_live,
	    &cause) == -1) {
		log_warnx("bus forwarder: %s", cause);
		/* read by the runner after pthread_join */
		snprintf(r->fwd_error, sizeof(r->fwd_error), "%s", cause != NULL ? cause : "failed");
		free(cause);
	}
	return NULL;
}

/* Take the run directory for this run alone: an exclusive flock on DIR/runner.lock, held
 * (the descriptor stays open, close-on-exec) until the runner exits; run_own then writes the
 * runner's pid in the file so that a second runner given the same --out can name it. */
static int
run_claim(struct run *r, char **cause)
{
	char p[PATH_MAX + 64], pid[32];
	ssize_t n = 0;
	int fd, e, tries;

	run_path(r, p, sizeof(p), "runner.lock");
	if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1)
		return util_cause(cause, "%s: %s", p, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		e = errno;
		/* the holder writes its pid right after it locks: give it a moment */
		for (tries = 0; tries < 10 && (n = pread(fd, pid, sizeof(pid) - 1, 0)) <= 0;
		    tries++)
			usleep(20000);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (e == EWOULDBLOCK)
			return util_cause(cause, "%s is in use by another mitmlab run (pid %s); "
			    "choose another --out", r->dir, pid[0] != '\0' ? pid : "unknown");
		return util_cause(cause, "%s: lock: %s", p, strerror(e));
	}
	r->lock_fd = fd;	/* the pid is written once the directory is ours (run_own) */
	return 0;
}

/* The locked directory is this run's: write the runner's pid into runner.lock (not before:
 * a run refused for an existing events.jsonl must leave the finished run's pid there). */
static int
run_own(struct run *r, char **cause)
{
	char p[PATH_MAX + 64];

	run_path(r, p, sizeof(p), "runner.lock");
	if (ftruncate(r->lock_fd, 0) == -1 || dprintf(r->lock_fd, "%ld\n", (long)getpid()) < 0)
		return util_cause(cause, "%s: %s", p, strerror(errno));
	return 0;
}

/* The run's Unix sockets (bus.in, bus.out, and per analyzer the harness's two) live in the
 * run directory; refuse a directory whose longest socket path would not fit sun_path, before
 * anything is built or claimed (ZeroMQ would fail only once the lab is up). */
static int
run_sockets_fit(const struct run *r, char **cause)
{
	struct sockaddr_un sun;
	size_t l, i;

	if ((l = strlen(r->dir) + strlen("/bus.out")) >= sizeof(sun.sun_path))
		return util_cause(cause, "run directory %s: its bus socket %s/bus.out would be %zu "
		    "bytes, longer than a Unix socket allows (%zu); use a shorter run directory",
		    r->dir, r->dir, l, sizeof(sun.sun_path) - 1);
	for (i = 0; i < r->s->analyzers_count + r->o->n_analyzers; i++) {
		const char *an = i < r->s->analyzers_count ? r->s->analyzers[i] :
		    r->o->analyzers[i - r->s->analyzers_count];
		if ((l = harness_sock_len(r->dir, an)) >= sizeof(sun.sun_path))
			return util_cause(cause, "run directory %s: analyzer %s's socket would be "
			    "%zu bytes, longer than a Unix socket allows (%zu); use a shorter run "
			    "directory", r->dir, an, l, sizeof(sun.sun_path) - 1);
	}
	return 0;
}

/* Make the run directory, claim it (run_claim) and copy the scenario into it. The default
 * name is taken by mkdir itself (EEXIST: the next suffix), so two runs started in the same
 * second get two directories; a given --out may exist but must hold no run and no live
 * runner. */
static int
run_mkdir(struct run *r, char **cause)
{
	char stamp[32], p[PATH_MAX + 64], *text;
	time_t now = time(NULL);
	struct tm tm;
	size_t len;
	int i;

	if (r->o->out != NULL) {
		snprintf(r->dir, sizeof(r->dir), "%s", r->o->out);
		if (util_mkdirs(r->dir, 0755, cause) == -1)
			return -1;
	} else {
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		if (util_mkdirs("runs", 0755, cause) == -1)
			return -1;
		snprintf(r->dir, sizeof(r->dir), "runs/%s-%s", r->s->name, stamp);
		for (i = 2; mkdir(r->dir, 0755) == -1; i++) {
			if (errno != EEXIST || i >= 100)
				return util_cause(cause, "%s: %s", r->dir, errno == EEXIST ?
				    "exists (and 98 more with suffixes); use --out" : strerror(errno));
			snprintf(r->dir, sizeof(r->dir), "runs/%s-%s-%d", r->s->name, stamp, i);
		}
	}
	{
		char abs[PATH_MAX];
		if (realpath(r->dir, abs) != NULL)
			snprintf(r->dir, sizeof(r->dir), "%s", abs);
	}
	/* before the claim, so a refused directory keeps whatever runner.lock it had */
	if (run_sockets_fit(r, cause) == -1) {
		rmdir(r->dir);		/* only if it is empty: one we just made */
		return -1;
	}
	if (run_claim(r, cause) == -1)
		return -1;
	run_path(r, p, sizeof(p), "events.jsonl");
	if (access(p, F_OK) == 0)
		return util_cause(cause, "%s already holds a run (events.jsonl); choose "
		    "another --out", r->dir);
	if (run_own(r, cause) == -1)
		return -1;
	r->claimed = 1;
	if (util_mkdirs(run_path(r, p, sizeof(p), "pki"), 0700, cause) == -1 ||
	    util_mkdirs(run_path(r, p, sizeof(p), "capture"), 0755, cause) == -1 ||
	    util_mkdirs(run_path(r, p, sizeof(p), "results"), 0755, cause) == -1 ||
	    util_mkdirs(run_path(r, p, sizeof(p), "logs"), 0755, cause) == -1 ||
	    util_mkdirs(run_path(r, p, sizeof(p), "conf"), 0755, cause) == -1)
		return -1;
	if ((text = util_read_file(r->s->path, &len, cause)) == NULL)
		return -1;
	if (util_write_file(run_path(r, p, sizeof(p), "scenario.yaml"), text, len, 0644, cause) == -1) {
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

/* National chain, web PKI, the browsers' block list and per-client trust bundles. */
static int
run_pki(struct run *r, char **cause)
{
	char p[PATH_MAX + 64], hex[65], line[160];
	unsigned char spki[32];
	X509 *root;

	/* the reference date lies PKI_DATE_BACKDATE back, so no forged leaf predates its issuer */
	if (pki_ca_init(run_path(r, p, sizeof(p), "pki/national"), r->s->national_ca, r->seed,
	    time(NULL) - PKI_DATE_BACKDATE, cause) == -1 ||
	    webpki_create(run_path(r, p, sizeof(p), "pki/web"), r->s, r->seed, time(NULL),
	    r->o->keep_keys, cause) == -1)
		return -1;
	if ((root = pki_read_cert(run_path(r, p, sizeof(p), "pki/national/root.pem"), cause)) == NULL)
		return -1;
	pki_spki_sha256(root, spki);
	X509_free(root);
	util_hex(spki, 32, hex);
	snprintf(line, sizeof(line), "# SPKI SHA-256 of the national root, as browsers block it\n"
	    "%s\n", hex);
	return util_write_file(run_path(r, p, sizeof(p), "pki/blocklist.txt"), line, strlen(line),
	    0644, cause);
}

/* Remember a started process. */
static void
run_track(struct run *r, pid_t pid, int role, const char *what)
{
	struct run_proc *p;

	if (r->n_procs >= RUN_MAX_PROCS)
		return;
	p = &r->procs[r->n_procs++];
	p->pid = pid;
	p->role = role;
	p->status = -1;
	p->termed = p->killed = 0;
	snprintf(p->what, sizeof(p->what), "%s", what);
}

/* A timeout or start-up wait of ms milliseconds, times --timeout-scale (options that never
 * set it count as 1); a scaled value stops at max, the most the component takes (unscaled
 * values are within it: scenario_load checks them). */
static unsigned
run_ms(const struct run *r, unsigned ms, unsigned max)
{
	double v;

	if (!(r->o->timeout_scale > 1.0))
		return ms;
	v = (double)ms * r->o->timeout_scale;
	return v > (double)max ? max : (unsigned)(v + 0.5);
}

/* First line of a component's log: the node and the command line, quoted for the shell, so
 * that one component can be rerun by hand (`mitmlab lab exec NODE -- ...`) with exactly what
 * the run gave it. The log is created as lab_spawn would (0644). */
static void
run_log_argv(const char *logp, const struct lab_node *n, char *const *argv)
{
	FILE *f;
	int fd;

	if ((fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) == -1)
		return;	/* lab_spawn reports an unusable log */
	if ((f = fdopen(fd, "a")) == NULL) {
		close(fd);
		return;
	}
	util_argv_line(f, argv, "# started in %s:", n->name);
	fclose(f);
}

/* Start a mitmlab subcommand in a node; argv without the program. */
static pid_t
run_start(struct run *r, const struct lab_node *n, int role, const char *what, json_t *args,
    char **cause)
{
	char **argv, logp[PATH_MAX + 64];
	size_t i, na = json_array_size(args);
	pid_t pid;

	/* sized to the arguments: a scenario's rules, URLs and targets are bounded by its
	 * schema (1,024 rules, 256 URLs a client), not by a fixed array here */
	if ((argv = calloc(na + 2, sizeof(*argv))) == NULL)
		return util_cause(cause, "%s: out of memory", what);
	argv[0] = r->self;
	for (i = 0; i < na; i++)
		argv[i + 1] = (char *)(uintptr_t)json_string_value(json_array_get(args, i));
	argv[na + 1] = NULL;
	run_path(r, logp, sizeof(logp), "logs/%s.log", what);
	run_log_argv(logp, n, argv);
	pid = lab_spawn(r->lab, n, argv, logp, cause);
	free(argv);
	if (pid == -1)
		return -1;
	run_track(r, pid, role, what);
	return pid;
}

/* Append strings to a JSON array of arguments. */
static void
run_arg(json_t *a, const char *s1, const char *s2)
{
	json_array_append_new(a, json_string(s1));
	if (s2 != NULL)
		json_array_append_new(a, json_string(s2));
}

/* A scenario name that may be an origin's or a client's, as a CIDR: the member's /24, or the
 * text itself when it names no member (already a CIDR — scenario_load checked). */
static const char *
run_cidr(const struct run *r, const char *name)
{
	const struct scn_origin *o = scenario_origin_named(r->s, name);
	unsigned k;

	if (o != NULL)
		return lab_origin(r->lab, scenario_origin_index(r->s, o))->net;
	for (k = 0; k < r->s->clients_count; k++)
		if (strcmp(r->s->clients[k].name, name) == 0)
			return lab_client(r->lab, (int)k)->net;
	return name;
}

/* Path of the root a trust store name stands for ("web" or "national"). */
static char *
run_trust_root(const struct run *r, const char *which, char *buf, size_t len)
{
	return run_path(r, buf, len, strcmp(which, "web") == 0 ? "pki/web/root.pem" :
	    "pki/national/root.pem");
}

/* Write an origin's configuration (origin_conf.h) and start it. */
static int
run_origin(struct run *r, int i, char **cause)
{
	const struct scn_origin *o = &r->s->origins[i];
	const struct lab_node *n = lab_origin(r->lab, i);
	json_t *conf = json_object(), *sites = json_array(), *args;
	char p[PATH_MAX + 128], listen[64], id[64], what[64];
	unsigned j, k;
	int rc;


	snprintf(listen, sizeof(listen), "%s:443", n->addr);
	snprintf(id, sizeof(id), "origin.%s", o->name);
	json_object_set_new(conf, "id", json_string(id));
	json_object_set_new(conf, "bus", json_string(r->bus_in));
	json_object_set_new(conf, "listen", json_pack("[s]", listen));
	json_object_set_new(conf, "http_port", json_integer(80));	/* plain HTTP, as the web has */
	json_object_set_new(conf, "keylog", json_string(run_path(r, p, sizeof(p), "capture/keylog.txt")));
	for (j = 0; j < o->sites_count; j++) {
		const struct scn_site *st = &o->sites[j];
		json_t *site = json_object(), *al = json_array(), *alpn = json_array();
		for (k = 0; k < st->aliases_count; k++)
			json_array_append_new(al, json_string(st->aliases[k]));
		if (st->alpn_count == 0) {
			json_array_append_new(alpn, json_string("h2"));
			json_array_append_new(alpn, json_string("http/1.1"));
		}
		for (k = 0; k < st->alpn_count; k++)
			json_array_append_new(alpn, json_string(st->alpn[k]));
		json_object_set_new(site, "name", json_string(st->host));
		json_object_set_new(site, "aliases", al);
		json_object_set_new(site, "cert", json_string(run_path(r, p, sizeof(p), "pki/web/sites/%s.pem", st->host)));
		json_object_set_new(site, "key", json_string(run_path(r, p, sizeof(p), "pki/web/sites/%s.key", st->host)));
		json_object_set_new(site, "chain", json_string(run_path(r, p, sizeof(p), "pki/web/int.pem")));
		if (j == 0)
			json_object_set_new(site, "default_for", json_pack("[s]", listen));
		json_object_set_new(site, "tls_min", json_string(st->tls_min));
		json_object_set_new(site, "tls_max", json_string(st->tls_max));
		json_object_set_new(site, "alpn", alpn);
		json_object_set_new(site, "hsts", strcmp(st->hsts, "preload") == 0 ?
		    json_string("preload") : json_boolean(strcmp(st->hsts, "on") == 0));
		if (st->client_cert) {
			json_object_set_new(site, "client_cert", json_string("required"));
			json_object_set_new(site, "client_ca", json_string(run_path(r, p, sizeof(p), "pki/web/client-ca.pem")));
		}
		json_object_set_new(site, "body_bytes", json_integer((json_int_t)st->body_bytes));
		if (st->install_page)	/* the national root, as the ISPs offered it */
			json_object_set_new(site, "install_root", json_string(run_path(r, p,
			    sizeof(p), "pki/national/root.pem")));
		json_array_append_new(sites, site);
	}
	json_object_set_new(conf, "sites", sites);
	run_path(r, p, sizeof(p), "conf/origin-%s.json", o->name);
	rc = json_dump_file(conf, p, JSON_INDENT(2));
	json_decref(conf);
	if (rc != 0)
		return util_cause(cause, "%s: cannot write", p);
	args = json_array();
	run_arg(args, "origin", "-c");
	run_arg(args, p, NULL);
	snprintf(what, sizeof(what), "origin-%s", o->name);
	r->origin_pids[i] = run_start(r, n, LAB_ORIGIN, what, args, cause);
	json_decref(args);
	return r->origin_pids[i] == -1 ? -1 : 0;
}

/* Fill the packet plane's configuration from the scenario (diversion and path CIDRs). */
static int
run_netq_conf(struct run *r, struct netq_conf *c, char **cause)
{
	const struct scn_gateway *g = r->s->gateway;
	unsigned i;

	netq_conf_init(c);
	c->proxy_port = LAB_PROXY_PORT;
	c->fail_open = g->fail_open;
	snprintf(c->mode, sizeof(c->mode), "%s", g->mode);
	for (i = 0; i < g->target_dst_count; i++)
		if (netq_conf_add_cidr(c, 'd', run_cidr(r, g->target_dst[i]), cause) == -1)
			return -1;
	/* intercepting by SNI needs every on-path flow at the engine; dst targets narrow it */
	c->divert_all = g->intercept && g->target_dst_count == 0;
	for (i = 0; i < g->on_path_count; i++)
		if (netq_conf_add_cidr(c, 'p', run_cidr(r, g->on_path[i]), cause) == -1)
			return -1;
	return 0;
}

struct run_qprobe {
	int	 timeout_ms;
	int	 ok;
	unsigned num;		/* the queue to wait for */
};

/* Thread in a namespace: wait until NFQUEUE q->num has a listener. */
static void *
run_qprobe_main(void *arg)
{
	struct run_qprobe *q = arg;
	uint64_t end = util_mono_ns() + (uint64_t)q->timeout_ms * 1000000ull;
	char line[256];
	unsigned num;
	FILE *f;

	while (!q->ok && util_mono_ns() < end) {
		if ((f = fopen("/proc/thread-self/net/netfilter/nfnetlink_queue", "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (sscanf(line, "%u", &num) == 1 && num == q->num)
					q->ok = 1;
			fclose(f);
		}
		if (!q->ok)
			usleep(20000);
	}
	return NULL;
}

/* Install the packet plane's rules and start `mitmlab netq` in the gateway. */
static int
run_packet_plane(struct run *r, char **cause)
{
	const struct scn_gateway *g = r->s->gateway;
	const struct lab_node *gw = &r->lab->nodes[r->lab->gw];
	struct netq_conf c;
	struct run_qprobe q = { (int)run_ms(r, RUN_QUEUE_WAIT_MS, RUN_WAIT_MAX), 0, 0 };
	unsigned long tid;
	json_t *a = json_array();
	char buf[64];
	size_t i;
	pid_t pid;
	int rc = -1;

	if (run_netq_conf(r, &c, cause) == -1 || netq_rules_install(gw->ns, &c, cause) == -1)
		goto out;
	run_arg(a, "netq", NULL);
	run_arg(a, "--bus", r->bus_in);
	run_arg(a, "--mode", g->mode);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)r->seed);
	run_arg(a, "--seed", buf);
	if (c.divert_all)
		run_arg(a, "--divert-all", NULL);
	for (i = 0; i < g->target_dst_count; i++)
		run_arg(a, "--divert-dst", run_cidr(r, g->target_dst[i]));
	for (i = 0; i < g->on_path_count; i++)
		run_arg(a, "--on-path", run_cidr(r, g->on_path[i]));
	for (i = 0; i < g->impair_count; i++)
		run_arg(a, "--impair", g->impair[i]);
	if (g->fail_open)
		run_arg(a, "--fail-open", NULL);
	if ((pid = run_start(r, gw, LAB_GATEWAY, "netq", a, cause)) == -1)
		goto out;
	if (lab_thread(gw, run_qprobe_main, &q, &tid, cause) == -1)
		goto out;
	pthread_join((pthread_t)tid, NULL);
	if (!q.ok) {
		util_cause(cause, "the packet plane did not bind its queue within %u s (see "
		    "%s/logs/netq.log)", q.timeout_ms / 1000, r->dir);
		goto out;
	}
	rc = 0;
out:
	json_decref(a);
	netq_conf_free(&c);
	return rc;
}

/* Start the passive packet monitor (`mitmlab netq --monitor`) in the router just before the
 * gateway on the inside, if there is one, and wait until it has bound its queue (1). It is
 * tracked with the gateway's processes, so teardown stops it (SIGTERM: it removes its rules). */
static int
run_monitor(struct run *r, char **cause)
{
	const struct lab_node *rn;
	struct run_qprobe q = { (int)run_ms(r, RUN_QUEUE_WAIT_MS, RUN_WAIT_MAX), 0, 1 };
	unsigned long tid;
	json_t *a;
	char what[64];
	pid_t pid;

	if (r->lab->gw == 0)
		return 0;	/* no router before the gateway: the members hang off it */
	rn = &r->lab->nodes[r->lab->gw - 1];
	a = json_array();
	run_arg(a, "netq", "--monitor");
	run_arg(a, "--vantage", rn->name);
	run_arg(a, "--bus", r->bus_in);
	run_arg(a, "--on-path", "10.1.0.0/16");	/* inside members: the clients this side */
	run_arg(a, "--install-rules", NULL);
	snprintf(what, sizeof(what), "netq-monitor-%s", rn->name);
	pid = run_start(r, rn, LAB_GATEWAY, what, a, cause);
	json_decref(a);
	if (pid == -1 || lab_thread(rn, run_qprobe_main, &q, &tid, cause) == -1)
		return -1;
	pthread_join((pthread_t)tid, NULL);
	if (!q.ok)
		return util_cause(cause, "the packet monitor did not bind its queue within %u s "
		    "(see %s/logs/%s.log)", q.timeout_ms / 1000, r->dir, what);
	return 0;
}

/* Start the interception engine in the gateway. */
static int
run_gateway(struct run *r, char **cause)
{
	const struct scn_gateway *g = r->s->gateway;
	const struct lab_node *gw = &r->lab->nodes[r->lab->gw];
	json_t *a = json_array();
	char p[PATH_MAX + 64], buf[64], lp[PATH_MAX + 64];
	unsigned i, wait_ms;
	pid_t pid;

	run_arg(a, "proxy", NULL);
	snprintf(buf, sizeof(buf), "0.0.0.0:%d", LAB_PROXY_PORT);
	run_arg(a, "--listen", buf);
	run_arg(a, "--mode", g->mode);
	snprintf(buf, sizeof(buf), "%u", g->workers);
	run_arg(a, "--workers", buf);
	run_arg(a, "--ca", run_path(r, p, sizeof(p), "pki/national"));
	/* the expired intermediate both signs the forged leaves and is served after them */
	if (strcmp(g->chain, "expired") == 0)
		run_arg(a, "--ca-issuer", "expired");
	run_arg(a, "--profile", g->forging);
	run_arg(a, "--upstream-hello", g->upstream_hello);
	run_arg(a, "--upstream-cafile", run_path(r, p, sizeof(p), "pki/web/root.pem"));
	if (g->require_valid_upstream)
		run_arg(a, "--require-valid-upstream", NULL);
	for (i = 0; i < g->rules_count; i++)
		run_arg(a, "--rule", g->rules[i]);
	if (r->s->target_names_count > 0) {
		/* every target pattern, in scenario order, through one list file */
		FILE *f = fopen(run_path(r, p, sizeof(p), "conf/targets.txt"), "w");
		if (f == NULL) {
			json_decref(a);
			return util_cause(cause, "%s: %s", p, strerror(errno));
		}
		fprintf(f, "# SNI patterns the gateway intercepts (scenario targets + target_lists)\n");
		for (i = 0; i < r->s->target_names_count; i++)
			fprintf(f, "%s\n", r->s->target_names[i]);
		fclose(f);
		run_arg(a, "--target-list", p);
	}
	for (i = 0; i < g->target_dst_count; i++)
		run_arg(a, "--target-dst", run_cidr(r, g->target_dst[i]));
	run_arg(a, "--default", g->default_action);
	/* scaled with the clients' timeouts: a block-timeout rule holds a connection past the
	 * client's patience, and that order is what scenarios assert */
	snprintf(buf, sizeof(buf), "%u", run_ms(r, g->block_timeout_ms, CONFIG_BLOCK_MS_MAX));
	run_arg(a, "--block-timeout", buf);
	for (i = 0; i < r->s->origins_count; i++)
		run_arg(a, "--allow-upstream", lab_origin(r->lab, (int)i)->net);
	run_arg(a, "--bus", r->bus_in);
	run_arg(a, "--keylog", run_path(r, lp, sizeof(lp), "capture/keylog.txt"));
	if (r->o->timeout_scale > 1.0) {	/* otherwise the engine's own default applies */
		snprintf(buf, sizeof(buf), "%u", run_ms(r, RUN_ENGINE_HS_MS, CONFIG_HANDSHAKE_MS_MAX));
		run_arg(a, "--handshake-timeout", buf);
	}
	run_arg(a, "--id", "proxy");
	pid = run_start(r, gw, LAB_GATEWAY, "gateway", a, cause);
	json_decref(a);
	if (pid == -1)
		return -1;
	wait_ms = run_ms(r, RUN_PORT_WAIT_MS, RUN_WAIT_MAX);
	if (lab_wait_port(gw, LAB_PROXY_PORT, pid, (int)wait_ms) == -1)
		return util_cause(cause, "the interception engine is not listening (it %s within "
		    "%u s; see %s/logs/gateway.log)", !run_alive(r, "gateway") ? "exited" :
		    "did not start", wait_ms / 1000, r->dir);
	return 0;
}

/* sha256/BASE64 pin of a site's real (web PKI) key. */
static int
run_pin(struct run *r, const char *host, char *out, size_t len, char **cause)
{
	char p[PATH_MAX + 300];
	unsigned char spki[32], b64[64];
	const struct scn_site *st = scenario_site_of(r->s, host, NULL);	/* checked at load */
	X509 *x;

	if ((x = pki_read_cert(run_path(r, p, sizeof(p), "pki/web/sites/%s.pem", st->host),
	    cause)) == NULL)
		return -1;
	pki_spki_sha256(x, spki);
	X509_free(x);
	EVP_EncodeBlock(b64, spki, 32);
	snprintf(out, len, "%s=sha256/%s", host, b64);
	return 0;
}

/* Trust bundle file for a client (the roots it trusts, concatenated). */
static int
run_bundle(struct run *r, const struct scn_client *c, char *out, size_t len, char **cause)
{
	char p[PATH_MAX + 64], *t;
	FILE *f;
	unsigned i;

	run_path(r, out, len, "pki/trust-%s.pem", c->name);
	if ((f = fopen(out, "w")) == NULL)
		return util_cause(cause, "%s: %s", out, strerror(errno));
	for (i = 0; i < c->trust_count; i++) {
		if ((t = util_read_file(run_trust_root(r, c->trust[i], p, sizeof(p)), NULL,
		    cause)) == NULL) {
			fclose(f);
			return -1;
		}
		fputs(t, f);
		free(t);
	}
	return fclose(f) == 0 ? 0 : util_cause(cause, "%s: write failed", out);
}

/* A `tool: probe-ttl` client: one `mitmlab probe ttl` per URL (Censored Planet's TTL-limited
 * localisation), all started at once, publishing probe.ttl as probe.<client>.<url index>
 * (one source per process, so sequence numbers stay per source). Each probe
 * pairs the URL's host with an untargeted control name and checks chains against the
 * client's trust stores. */
static int
run_probe_client(struct run *r, int i, char **cause)
{
	const struct scn_client *c = &r->s->clients[i];
	char p[PATH_MAX + 64], host[256], buf[64], what[64];
	const struct scn_origin *o;
	const char *addr;
	unsigned j, k;
	json_t *a;
	int rc;

	for (j = 0; j < c->urls_count; j++) {	/* scenario_load checked every URL and host */
		if (scenario_url_host(c->urls[j], host, sizeof(host), NULL) == -1 ||
		    (o = scenario_client_origin(r->s, c, host)) == NULL)
			return util_cause(cause, "clients %s: no origin serves %s", c->name, c->urls[j]);
		addr = lab_origin(r->lab, scenario_origin_index(r->s, o))->addr;
		a = json_array();
		run_arg(a, "probe", "ttl");
		run_arg(a, "--host", host);
		run_arg(a, "--connect", addr);
		run_arg(a, "--control-sni", "example.org");
		run_arg(a, "--max-ttl", "16");
		/* per hop, and not scaled: up to --max-ttl silent hops each wait this long, and
		 * the workload's duration (which --timeout-scale leaves alone) bounds the probe */
		snprintf(buf, sizeof(buf), "%u", c->timeout_ms < 1000 ? c->timeout_ms : 1000);
		run_arg(a, "--timeout-ms", buf);
		for (k = 0; k < c->trust_count; k++)
			run_arg(a, "--trust", run_trust_root(r, c->trust[k], p, sizeof(p)));
		run_arg(a, "--bus", r->bus_in);
		snprintf(buf, sizeof(buf), "probe.%s.%u", c->name, j);
		run_arg(a, "--id", buf);
		snprintf(what, sizeof(what), "probe-%s-%u", c->name, j);
		rc = run_start(r, lab_client(r->lab, i), LAB_CLIENT, what, a, cause);
		json_decref(a);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Start one client (native load generator or a wrapped real client). */
static int
run_client(struct run *r, int i, char **cause)
{
	const struct scn_client *c = &r->s->clients[i];
	const struct lab_node *n = lab_client(r->lab, i);
	json_t *a = json_array();
	char p[PATH_MAX + 64], buf[512], what[64];
	unsigned j, count;
	int native = strcmp(c->tool, "mitmlab") == 0, rc = -1;

	if (strcmp(c->tool, "probe-ttl") == 0) {
		json_decref(a);
		return run_probe_client(r, i, cause);
	}
	count = (unsigned)((double)c->count * r->o->scale + 0.5);
	if (count < 1)
		count = 1;
	run_arg(a, native ? "client" : "wrap", NULL);
	if (!native)
		run_arg(a, "--tool", c->tool);
	for (j = 0; j < c->urls_count; j++)
		run_arg(a, "--url", c->urls[j]);
	snprintf(buf, sizeof(buf), "%u", count);
	run_arg(a, "--count", buf);
	snprintf(buf, sizeof(buf), "%u", run_ms(r, c->timeout_ms, CLIENT_TIMEOUT_MS_MAX));
	run_arg(a, "--timeout-ms", buf);
	snprintf(buf, sizeof(buf), "%u", r->s->duration_s * 1000);
	run_arg(a, "--duration-ms", buf);
	if (strcmp(c->http, "auto") != 0 || native)
		run_arg(a, "--http", c->http);
	if (c->ua != NULL)
		run_arg(a, "--ua", c->ua);
	for (j = 0; j < c->pins_count; j++) {
		if (run_pin(r, c->pins[j], buf, sizeof(buf), cause) == -1)
			goto out;
		run_arg(a, "--pin", buf);
	}
	if (native) {
		snprintf(buf, sizeof(buf), "%u", c->concurrency);
		run_arg(a, "--concurrency", buf);
		snprintf(buf, sizeof(buf), "%u", c->rate);
		run_arg(a, "--rate", buf);
		run_arg(a, "--hello", c->hello);
		for (j = 0; j < c->trust_count; j++)
			run_arg(a, "--trust", run_trust_root(r, c->trust[j], p, sizeof(p)));
		if (c->block_national)
			run_arg(a, "--blocklist", run_path(r, p, sizeof(p), "pki/blocklist.txt"));
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(r->seed + (uint64_t)i));
		run_arg(a, "--seed", buf);
		run_arg(a, "--keylog", run_path(r, p, sizeof(p), "capture/keylog.txt"));
	} else {
		if (run_bundle(r, c, p, sizeof(p), cause) == -1)
			goto out;
		run_arg(a, "--cafile", p);
	}
	run_arg(a, "--bus", r->bus_in);
	snprintf(buf, sizeof(buf), "client.%s", c->name);
	run_arg(a, "--id", buf);
	snprintf(what, sizeof(what), "client-%s", c->name);
	rc = run_start(r, n, LAB_CLIENT, what, a, cause) == -1 ? -1 : 0;
out:
	json_decref(a);
	return rc;
}

/* Captures: each client and origin interface, both gateway sides. */
static void
run_captures(struct run *r)
{
	const struct lab *lab = r->lab;
	char p[PATH_MAX + 64], *cause = NULL;
	size_t i;

	for (i = 0; i < lab->n_nodes && r->n_caps + 2 < RUN_MAX_CAPS; i++) {
		const struct lab_node *n = &lab->nodes[i];
		const char *ifs[2] = { NULL, NULL }, *names[2] = { NULL, NULL };
		char nm[2][64], in_if[32], out_if[32];
		int k;
		if (n->role == LAB_CLIENT || n->role == LAB_ORIGIN) {
			ifs[0] = "eth0";
			snprintf(nm[0], sizeof(nm[0]), "%s-%s", n->role == LAB_CLIENT ? "client" :
			    "origin", n->name + 2);
			names[0] = nm[0];
		} else if (n->role == LAB_GATEWAY) {
			snprintf(nm[0], sizeof(nm[0]), "gateway-in");
			snprintf(nm[1], sizeof(nm[1]), "gateway-out");
			names[0] = nm[0];
			names[1] = nm[1];
			/* chain links: t<i-1>b toward the inside, t<i>a toward the outside; at an
			 * end of the chain the member links m<k> are on that side */
			snprintf(in_if, sizeof(in_if), "t%zub", lab->gw - 1);
			snprintf(out_if, sizeof(out_if), "t%zua", lab->gw);
			ifs[0] = lab->gw > 0 ? in_if : NULL;
			ifs[1] = lab->gw + 1 < lab->n_chain ? out_if : NULL;
		}
		for (k = 0; k < 2; k++) {
			if (ifs[k] == NULL)
				continue;
			run_path(r, p, sizeof(p), "capture/%s.pcap", names[k]);
			r->caps[r->n_caps] = capture_start(n, ifs[k], p, RUN_CAP_BYTES, &cause);
			if (r->caps[r->n_caps] == NULL) {
				log_warnx("capture %s: %s (continuing without it)", names[k], cause);
				free(cause);
				cause = NULL;
				continue;
			}
			snprintf(r->cap_names[r->n_caps], sizeof(r->cap_names[0]), "%s", names[k]);
			r->n_caps++;
		}
	}
}

/* Reap finished processes; returns how many of role are still running. */
static int
run_reap(struct run *r, int role)
{
	size_t i;
	int running = 0, st;

	for (i = 0; i < r->n_procs; i++) {
		struct run_proc *p = &r->procs[i];
		if (p->status == -1 && waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			p->wstatus = st;
			if (p->status != 0)
				log_warnx("%s %s %d (see %s/logs/%s.log)", p->what, WIFSIGNALED(st) ?
				    "was killed by signal" : "exited with status", WIFSIGNALED(st) ?
				    WTERMSIG(st) : p->status, r->dir, p->what);
			/* degraded: a failure, a death by any signal but the runner's SIGTERM, or
			 * a service (not a client) that ended before it was asked to; a SIGKILL
			 * after the grace period is run_stop_role's to record */
			if (!p->killed && ((p->status != 0 && !(p->termed && WIFSIGNALED(st) &&
			    WTERMSIG(st) == SIGTERM)) || (p->role != LAB_CLIENT && !p->termed)))
				run_problem(r, "component", "%s %s %d %s (see logs/%s.log)", p->what,
				    WIFSIGNALED(st) ? "was killed by signal" : "exited with status",
				    WIFSIGNALED(st) ? WTERMSIG(st) : p->status, p->termed ?
				    "when the run stopped it" : "before the run stopped it", p->what);
		}
		if (p->status == -1 && p->role == role)
			running++;
	}
	return running;
}

/* SIGTERM every process of role, wait up to grace_ms, then SIGKILL. */
static void
run_stop_role(struct run *r, int role, int grace_ms)
{
	uint64_t end = util_mono_ns() + (uint64_t)grace_ms * 1000000ull;
	size_t i;

	for (i = 0; i < r->n_procs; i++)
		if (r->procs[i].role == role && r->procs[i].status == -1) {
			r->procs[i].termed = 1;
			kill(r->procs[i].pid, SIGTERM);
		}
	while (run_reap(r, role) > 0 && util_mono_ns() < end)
		usleep(20000);
	for (i = 0; i < r->n_procs; i++)
		if (r->procs[i].role == role && r->procs[i].status == -1) {
			log_warnx("%s did not stop within %d ms; killing it", r->procs[i].what, grace_ms);
			r->procs[i].killed = 1;
			run_problem(r, "component-killed", "%s did not stop within %d ms of SIGTERM "
			    "and was killed (see logs/%s.log)", r->procs[i].what, grace_ms,
			    r->procs[i].what);
			kill(r->procs[i].pid, SIGKILL);
		}
	while (run_reap(r, role) > 0)
		usleep(10000);
}

/* Every --analyzer can be found and its manifest parses: refused before the lab is built. */
static int
run_check_analyzers(const struct run_opts *o, char **cause)
{
	size_t i;

	for (i = 0; i < o->n_analyzers; i++)
		if (amanifest_check(o->analyzers[i], cause) == -1)
			return -1;
	return 0;
}

/* Start the scenario's analyzers and those given with --analyzer (live, via the harness). */
static int
run_analyzers(struct run *r, char **cause)
{
	const char *names[96];
	size_t n = 0, i;

	for (i = 0; i < r->s->analyzers_count && n < 64; i++)
		names[n++] = r->s->analyzers[i];
	for (i = 0; i < r->o->n_analyzers && n < 96; i++)
		names[n++] = r->o->analyzers[i];
	if (n == 0)
		return 0;
	struct harness_opts ho = { .run_dir = r->dir, .bus_in = r->bus_in, .bus_out = r->bus_out,
	    .mode = "live", .names = names, .n = n, .baseline = r->o->baseline };
	if ((r->harness = harness_start_opts(&ho, cause)) == NULL)
		return -1;
	run_say(r, "%zu analyzer(s) attached", n);
	return 0;
}

/* Publish the lab's ground truth: where everything is. */
static void
run_publish_topology(struct run *r)
{
	json_t *ev = bus_event("lab.truth.topology"), *nodes = json_array();
	size_t i;

	for (i = 0; i < r->lab->n_nodes; i++) {
		const struct lab_node *n = &r->lab->nodes[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "name", n->name, "role", lab_role_name(n->role),
		    "ns", n->ns);
		if (n->role == LAB_CLIENT || n->role == LAB_ORIGIN) {
			json_object_set_new(o, "addr", json_string(n->addr));
			json_object_set_new(o, "net", json_string(n->net));
			json_object_set_new(o, "side", json_string(n->side ? "outside" : "inside"));
		} else {
			json_object_set_new(o, "hop", json_integer(n->hop));
		}
		json_array_append_new(nodes, o);
	}
	json_object_set_new(ev, "nodes", nodes);
	json_object_set_new(ev, "gateway_hop", json_integer((json_int_t)r->lab->gw));
	json_object_set_new(ev, "hops_inside", json_integer(r->s->topology->hops_inside));
	json_object_set_new(ev, "hops_outside", json_integer(r->s->topology->hops_outside));
	json_object_set_new(ev, "intercept", json_boolean(r->s->gateway->intercept));
	bus_publish(r->bus, ev);
}

/* Publish the scenario as ground truth: targets, gateway settings, clients, origins. */
static void
run_publish_truth(struct run *r)
{
	const struct scenario *s = r->s;
	const struct scn_gateway *g = s->gateway;
	json_t *ev = bus_event("lab.truth.scenario"), *t = json_array(), *cl = json_array(),
	    *or = json_array(), *rules = json_array();
	unsigned i, j, k;

	for (i = 0; i < s->target_names_count; i++)
		json_array_append_new(t, json_string(s->target_names[i]));
	for (i = 0; i < g->rules_count; i++)
		json_array_append_new(rules, json_string(g->rules[i]));
	for (i = 0; i < s->clients_count; i++) {
		const struct scn_client *c = &s->clients[i];
		json_t *tr = json_array(), *urls = json_array();
		for (j = 0; j < c->trust_count; j++)
			json_array_append_new(tr, json_string(c->trust[j]));
		for (j = 0; j < c->urls_count; j++)
			json_array_append_new(urls, json_string(c->urls[j]));
		json_array_append_new(cl, json_pack("{s:s, s:o, s:s, s:s, s:o, s:b, s:o, s:s}",
		    "name", c->name, "src", json_sprintf("%s.%s", strcmp(c->tool, "probe-ttl") == 0 ?
		    "probe" : "client", c->name), "tool", c->tool,
		    "side", c->side, "trust", tr, "block_national", c->block_national, "urls", urls,
		    "addr", lab_client(r->lab, (int)i)->addr));
	}
	for (i = 0; i < s->origins_count; i++) {
		json_t *hosts = json_array(), *sites = json_array();
		for (j = 0; j < s->origins[i].sites_count; j++) {
			const struct scn_site *st = &s->origins[i].sites[j];
			json_t *names = json_array();
			json_array_append_new(hosts, json_string(st->host));
			json_array_append_new(names, json_string(st->host));
			for (k = 0; k < st->aliases_count; k++) {
				json_array_append_new(hosts, json_string(st->aliases[k]));
				json_array_append_new(names, json_string(st->aliases[k]));
			}
			/* every name of the site, and how its certificate was issued */
			json_array_append_new(sites, json_pack("{s:o, s:s}", "names", names, "cert",
			    st->cert));
		}
		json_array_append_new(or, json_pack("{s:s, s:s, s:s, s:o, s:o}", "name",
		    s->origins[i].name, "addr", lab_origin(r->lab, (int)i)->addr, "side",
		    s->origins[i].side, "hosts", hosts, "sites", sites));
	}
	json_object_set_new(ev, "scenario", json_string(s->name));
	{
		json_t *an = json_array();
		for (i = 0; i < s->analyzers_count; i++)
			json_array_append_new(an, json_string(s->analyzers[i]));
		for (i = 0; i < r->o->n_analyzers; i++)
			json_array_append_new(an, json_string(r->o->analyzers[i]));
		json_object_set_new(ev, "analyzers", an);
	}
	json_object_set_new(ev, "intercept", json_boolean(g->intercept));
	json_object_set_new(ev, "forging", json_string(g->forging));
	json_object_set_new(ev, "upstream_hello", json_string(g->upstream_hello));
	json_object_set_new(ev, "require_valid_upstream", json_boolean(g->require_valid_upstream));
	json_object_set_new(ev, "default", json_string(g->default_action));
	json_object_set_new(ev, "chain", json_string(g->chain));
	json_object_set_new(ev, "targets", t);
	json_object_set_new(ev, "rules", rules);
	{
		json_t *im = json_array();
		for (i = 0; i < g->impair_count; i++)
			json_array_append_new(im, json_string(g->impair[i]));
		json_object_set_new(ev, "impair", im);
		json_object_set_new(ev, "fail_open", json_boolean(g->fail_open));
	}
	{
		json_t *td = json_array();
		for (i = 0; i < g->target_dst_count; i++)
			json_array_append_new(td, json_string(run_cidr(r, g->target_dst[i])));
		json_object_set_new(ev, "target_dst", td);
		json_object_set_new(ev, "packet_plane", json_boolean(g->packet_plane));
	}
	json_object_set_new(ev, "clients", cl);
	json_object_set_new(ev, "origins", or);
	bus_publish(r->bus, ev);
}

/* Remove private keys from pki/ unless --keep-keys. */
static void
run_strip_keys(struct run *r, const char *sub)
{
	char p[PATH_MAX + 64], f[PATH_MAX + 400];
	DIR *d;
	struct dirent *de;

	if ((d = opendir(run_path(r, p, sizeof(p), "%s", sub))) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".key") == 0) {
			snprintf(f, sizeof(f), "%s/%s", p, de->d_name);
			unlink(f);
		}
	}
	closedir(d);
}

/* The versions of the libraries this binary runs with, as they report themselves (the
 * loaded library, not the headers it was built against). libnetfilter_queue reports none. */
static json_t *
run_libraries(void)
{
	int zmaj, zmin, zpat;
	char zv[32];
	const nghttp2_info *h2 = nghttp2_version(0);

	zmq_version(&zmaj, &zmin, &zpat);
	snprintf(zv, sizeof(zv), "%d.%d.%d", zmaj, zmin, zpat);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "openssl", OpenSSL_version(OPENSSL_VERSION), "libevent", event_get_version(),
	    "zeromq", zv, "jansson", jansson_version_str(), "libcyaml", cyaml_version_str,
	    "libpcap", pcap_lib_version(), "nghttp2", h2 != NULL ? h2->version_str : "");
}

/* Write manifest.json; status is complete, degraded, interrupted or failed. */
static void
run_manifest(struct run *r, const char *status)
{
	struct utsname u;
	char p[PATH_MAX + 64], host[256] = "";
	json_t *m, *caps = json_array(), *cstats = json_array(), *comps = json_array();
	size_t i;

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	for (i = 0; i < r->n_caps; i++) {
		const struct capture_stats *st = &r->cap_stats[i];
		json_array_append_new(caps, json_string(r->cap_names[i]));
		json_array_append_new(cstats, json_pack("{s:s, s:I, s:I, s:b, s:I, s:I}", "name",
		    r->cap_names[i], "packets", (json_int_t)st->packets, "dropped",
		    (json_int_t)st->dropped, "truncated", st->over_cap > 0, "over_cap",
		    (json_int_t)st->over_cap, "write_errors", (json_int_t)st->write_errors));
	}
	for (i = 0; i < r->n_procs; i++) {
		const struct run_proc *pr = &r->procs[i];
		json_t *c = json_pack("{s:s, s:s}", "name", pr->what, "role", lab_role_name(pr->role));
		if (pr->status == -1)
			json_object_set_new(c, "exit", json_null());	/* not reaped: cannot happen */
		else if (WIFSIGNALED(pr->wstatus))
			json_object_set_new(c, "signal", json_integer(WTERMSIG(pr->wstatus)));
		else
			json_object_set_new(c, "exit", json_integer(pr->status));
		json_object_set_new(c, "stopped_by_runner", json_boolean(pr->termed));
		json_array_append_new(comps, c);
	}
	m = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:f, s:f, s:b, s:s, s:{s:s, s:s, s:s}, "
	    "s:o, s:I, s:I, s:f, s:o, s:s}",
	    "v", 1, "scenario", r->s->name, "scenario_file", r->s->path,
	    "mitmlab_version", MITMLAB_VERSION, "git", MITMLAB_GIT,
	    "seed", (json_int_t)r->seed, "scale", r->o->scale, "timeout_scale", r->o->timeout_scale,
	    "keep_keys", r->o->keep_keys,
	    "command", r->o->cmdline ? r->o->cmdline : "",
	    "host", "name", host, "kernel", u.release, "machine", u.machine,
	    "libraries", run_libraries(),
	    "start_ns", (json_int_t)r->wall_start, "end_ns", (json_int_t)r->wall_end,
	    "duration_s", (double)(r->wall_end - r->wall_start) / 1e9, "captures", caps,
	    "lab_id", r->lab ? r->lab->id : "");
	if (m != NULL) {
		json_object_set(m, "timings", r->timings);
		json_object_set_new(m, "interactive", json_boolean(r->o->interactive));
		json_object_set_new(m, "status", json_string(status));
		json_object_set(m, "problems", r->problems);
		json_object_set_new(m, "components", comps);
		json_object_set_new(m, "capture_stats", cstats);
		if (json_dump_file(m, run_path(r, p, sizeof(p), "manifest.json"),
		    JSON_INDENT(2)) != 0)
			log_warnx("%s: cannot write (disk full?)", p);
		json_decref(m);
	} else {
		json_decref(comps);
		json_decref(cstats);
	}
}

/* obj[key] += 1 for a JSON object of counters. */
static void
run_count(json_t *obj, const char *key)
{
	json_object_set_new(obj, key, json_integer(json_integer_value(json_object_get(obj, key)) + 1));
}

/* Summary from events.jsonl: flows by action, client outcomes, lost events. */
static void
run_summary(struct run *r)
{
	char p[PATH_MAX + 64], line[1 << 16];
	json_t *actions, *outcomes, *probes, *ev;
	const char *k;
	json_t *v;
	FILE *f;
	long events = 0, gaps = -1;
	size_t i;

	if ((f = fopen(run_path(r, p, sizeof(p), "events.jsonl"), "r")) == NULL)
		return;
	actions = json_object();
	outcomes = json_object();
	probes = json_array();
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *t;
		events++;
		if ((ev = json_loads(line, 0, NULL)) == NULL)
			continue;
		t = json_string_value(json_object_get(ev, "t"));
		if (t != NULL && strcmp(t, "proxy.conn.open") == 0) {
			const char *a = json_string_value(json_object_get(ev, "action"));
			if (a != NULL)
				run_count(actions, a);
		} else if (t != NULL && strcmp(t, "client.result") == 0) {
			const char *src = json_string_value(json_object_get(ev, "src"));
			const char *o = json_string_value(json_object_get(ev, "outcome"));
			json_t *per;
			if (src != NULL && o != NULL) {
				if ((per = json_object_get(outcomes, src)) == NULL)
					json_object_set_new(outcomes, src, per = json_object());
				run_count(per, o);
			}
		} else if (t != NULL && strcmp(t, "bus.stats") == 0) {
			gaps = (long)json_integer_value(json_object_get(ev, "gaps"));
		} else if (t != NULL && strcmp(t, "probe.ttl") == 0) {
			json_array_append(probes, ev);
		}
		json_decref(ev);
	}
	fclose(f);
	if (!r->o->quiet) {
		printf("\n== %s: %ld events", r->s->name, events);
		if (gaps >= 0)
			printf(", %ld sequence gaps", gaps);
		printf("\nflows at the gateway:");
		if (json_object_size(actions) == 0)
			printf(" none diverted");
		json_object_foreach(actions, k, v)
			printf(" %s=%lld", k, (long long)json_integer_value(v));
		printf("\nclient outcomes:\n");
		json_object_foreach(outcomes, k, v) {
			const char *o;
			json_t *n;
			printf("  %-28s", k);
			json_object_foreach(v, o, n)
				printf(" %s=%lld", o, (long long)json_integer_value(n));
			printf("\n");
		}
		json_array_foreach(probes, i, v) {
			json_t *hop = json_object_get(v, "injection_hop");
			printf("  %-28s %s: ", json_string_value(json_object_get(v, "src")),
			    json_string_value(json_object_get(v, "host")));
			if (json_is_integer(hop))
				printf("certificate injected at hop %lld (server at hop %lld)\n",
				    (long long)json_integer_value(hop),
				    (long long)json_integer_value(json_object_get(v, "server_hop")));
			else
				printf("no injection seen\n");
		}
		printf("run directory: %s\n  events.jsonl, manifest.json, capture/, pki/, logs/\n",
		    r->dir);
	}
	json_decref(probes);
	json_decref(actions);
	json_decref(outcomes);
}

/* Stop everything that was started, in order, and remove the lab. */
static void
run_teardown(struct run *r)
{
	size_t i;
	json_t *ev;

	run_stop_role(r, LAB_CLIENT, 2000);
	run_stop_role(r, LAB_GATEWAY, 10000);
	run_stop_role(r, LAB_ORIGIN, 5000);
	for (i = 0; i < r->n_caps; i++) {
		struct capture_stats *st = &r->cap_stats[i];
		capture_stop(r->caps[i], st);
		r->caps[i] = NULL;
		if (st->write_errors > 0) {
			log_warnx("capture %s: %llu write errors (disk full?); capture/%s.pcap is "
			    "incomplete", r->cap_names[i], (unsigned long long)st->write_errors,
			    r->cap_names[i]);
			run_problem(r, "capture", "capture/%s.pcap: %llu write errors",
			    r->cap_names[i], (unsigned long long)st->write_errors);
		}
	}
	r->wall_end = util_now_ns();
	if (r->bus != NULL) {
		unsigned quiet_ms = run_ms(r, RUN_END_QUIET_MS, RUN_WAIT_MAX);

		/* Every component has exited and flushed its bus; lab.run.end must come after
		 * all of their events, or analyzers end without the last ones. Without this
		 * barrier it could overtake events still queued from a closed publisher (see
		 * bus_fwd_wait_quiet; test_bus's test_end_barrier shows it). */
		if (r->fwd_started && !bus_fwd_wait_quiet(&r->fwd_live, (int)quiet_ms))
			log_warnx("bus: lab events still arriving %u ms after the lab stopped; "
			    "lab.run.end may come before some of them (analyzers miss those)",
			    quiet_ms);
		ev = bus_event("lab.run.end");
		/* a held lab is ended by a signal (`lab down`): that is no interruption, as the
		 * manifest's status says */
		json_object_set_new(ev, "interrupted", json_boolean(run_interrupted && !r->held));
		bus_publish(r->bus, ev);
		bus_close(r->bus);
		r->bus = NULL;
	}
	if (r->harness != NULL) {
		char *cause = NULL;
		int missing = harness_stop(r->harness, &cause);
		r->harness = NULL;
		if (missing != 0)
			log_warnx("analyzers: %s", missing > 0 ? "some delivered no result (see "
			    "results/)" : cause);
		free(cause);
	}
	if (r->fwd_started) {
		usleep(300000);		/* let the forwarder take the last events */
		r->fwd_stop = 1;
		pthread_join(r->fwd, NULL);
		r->fwd_started = 0;
		unlink(r->bus_in + 6);		/* the ipc:// socket files */
		unlink(r->bus_out + 6);
		if (r->fwd_error[0] != '\0')
			run_problem(r, "events", "%s", r->fwd_error);
	}
	if (r->lab != NULL)
		lab_down(r->lab);
}

/* Is the component started as `what` still running? (Reaps what has ended.) A dead packet
 * plane does not end a run: fail-open or fail-closed is then what the run records. */
static int
run_alive(struct run *r, const char *what)
{
	size_t i;

	run_reap(r, -1);
	for (i = 0; i < r->n_procs; i++)
		if (strcmp(r->procs[i].what, what) == 0)
			return r->procs[i].status == -1;
	return 0;
}

/* `lab up`: the lab serves; hold it until asked to end (or the gateway dies, or max_s). */
static void
run_hold(struct run *r)
{
	uint64_t deadline = r->o->max_s ? util_mono_ns() + (uint64_t)r->o->max_s * 1000000000ull : 0;

	if (run_interrupted) {	/* asked to end while it was being built: never report it up */
		log_warnx("interrupted while the lab was being built; removing it");
		return;
	}
	run_say(r, "lab %s is up and held: `mitmlab lab exec --lab %s NODE -- CMD`, "
	    "`mitmlab lab down %s` ends it", r->lab->id, r->lab->id, r->lab->id);
	if (r->o->ready != NULL)
		r->o->ready(r->o->ready_arg, r->dir, r->lab->id);
	r->held = 1;	/* from now on a signal is how the lab is ended, not an interruption */
	while (!run_interrupted) {
		if (r->s->gateway->intercept && !run_alive(r, "gateway")) {
			log_warnx("the interception engine died; ending the lab");
			break;
		}
		if (deadline != 0 && util_mono_ns() >= deadline) {
			log_info("lab held for --max-s %u s; ending it", r->o->max_s);
			break;
		}
		usleep(100000);
	}
}

/* Asked to stop (a signal) while setting up? Then the set-up ends here and the run goes
 * straight to teardown; the caller jumps to its out: label. */
static int
run_setup_stop(const char *phase)
{
	if (!run_interrupted)
		return 0;
	log_warnx("interrupted during set-up (after %s); removing what was built", phase);
	return 1;
}

/* Run a scenario end to end. */
int
run_scenario(const struct run_opts *o, char **rundir, char **cause)
{
	struct run *r;
	struct sigaction sa;
	char id[16], *err = NULL;
	const char *status;
	ssize_t n;
	int rc = -1, i;
	uint64_t deadline;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return util_cause(cause, "out of memory");
	r->o = o;
	r->lock_fd = -1;
	r->t_start = util_mono_ns();
	r->wall_start = util_now_ns();
	r->timings = json_object();
	r->problems = json_array();
	if ((r->s = scenario_load(o->scenario, cause)) == NULL ||
	    scenario_check_analyzers(r->s, cause) == -1 || run_check_analyzers(o, cause) == -1 ||
	    scenario_check_tools(r->s, cause) == -1)
		goto out;
	r->seed = o->seed ? o->seed : r->s->seed;
	if ((n = readlink("/proc/self/exe", r->self, sizeof(r->self) - 1)) < 0) {
		util_cause(cause, "/proc/self/exe: %s", strerror(errno));
		goto out;
	}
	r->self[n] = '\0';
	if (geteuid() != 0) {
		util_cause(cause, "mitmlab run needs root (it creates network namespaces)");
		goto out;
	}
	/* Ctrl-C, kill, a closing terminal or ssh session (SIGHUP) and Ctrl-\ all end the run
	 * through teardown; a reader of our output that went away with the terminal must not
	 * kill us either (SIGPIPE). Children get the defaults back before exec (proc_fork). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lab_gc(0, 1);
	if (run_setup_stop("start"))
		goto out_ok;
	if (run_mkdir(r, cause) == -1)
		goto out;
	if (rundir != NULL)
		*rundir = strdup(r->dir);
	run_say(r, "scenario %s (seed %llu) → %s", r->s->name, (unsigned long long)r->seed, r->dir);
	if (run_pki(r, cause) == -1)
		goto out;
	json_object_set_new(r->timings, "pki_s", json_real((double)(util_mono_ns() - r->t_start) / 1e9));
	run_say(r, "PKI ready: national chain (%s) and web PKI", r->s->national_ca);
	if (run_setup_stop("the PKI"))
		goto out_ok;
	snprintf(id, sizeof(id), "%x%03x", (unsigned)getpid() & 0xfffff, (unsigned)(util_now_ns() / 1000) & 0xfff);
	if ((r->lab = lab_plan(r->s, id, cause)) == NULL)
		goto out;
	snprintf(r->lab->run_dir, sizeof(r->lab->run_dir), "%s", r->dir);
	snprintf(r->lab->scenario, sizeof(r->lab->scenario), "%s", r->s->name);
	r->lab->interactive = o->interactive;
	if (lab_up(r->lab, r->s, cause) == -1)
		goto out;
	if (r->s->gateway->intercept && !r->s->gateway->packet_plane &&
	    lab_divert(r->lab, r->s->gateway->mode, cause) == -1)
		goto out;
	run_say(r, "lab %s up: %zu namespaces, gateway %zu hop(s) from the inside edge", id,
	    r->lab->n_nodes, r->lab->gw);
	if (run_setup_stop("the lab's namespaces"))
		goto out_ok;
	snprintf(r->bus_in, sizeof(r->bus_in), "ipc://%s/bus.in", r->dir);
	snprintf(r->bus_out, sizeof(r->bus_out), "ipc://%s/bus.out", r->dir);
	if (pthread_create(&r->fwd, NULL, run_forward_main, r) != 0) {
		util_cause(cause, "cannot start the bus forwarder thread");
		goto out;
	}
	r->fwd_started = 1;
	if ((r->bus = bus_open(r->bus_in, "lab", 3000, cause)) == NULL)
		goto out;
	if (run_analyzers(r, cause) == -1)
		goto out;
	{
		json_t *ev = bus_event("lab.run.start");
		json_object_set_new(ev, "scenario", json_string(r->s->name));
		json_object_set_new(ev, "seed", json_integer((json_int_t)r->seed));
		json_object_set_new(ev, "scale", json_real(o->scale));
		json_object_set_new(ev, "timeout_scale", json_real(o->timeout_scale));
		json_object_set_new(ev, "run_dir", json_string(r->dir));
		bus_publish(r->bus, ev);
	}
	run_publish_topology(r);
	run_publish_truth(r);
	run_captures(r);
	if (run_setup_stop("the bus and the captures"))
		goto out_ok;
	for (i = 0; i < (int)r->s->origins_count; i++)
		if (run_origin(r, i, cause) == -1)
			goto out;
	for (i = 0; i < (int)r->s->origins_count; i++)
		if (lab_wait_port(lab_origin(r->lab, i), 443, r->origin_pids[i],
		    (int)run_ms(r, RUN_PORT_WAIT_MS, RUN_WAIT_MAX)) == -1) {
			util_cause(cause, "origin %s is not listening on port 443 (see "
			    "%s/logs/origin-%s.log)", r->s->origins[i].name, r->dir, r->s->origins[i].name);
			goto out;
		}
	run_say(r, "%u origin(s) serving", r->s->origins_count);
	if (run_setup_stop("the origins"))
		goto out_ok;
	if (r->s->gateway->packet_plane) {
		if (run_packet_plane(r, cause) == -1 || run_monitor(r, cause) == -1)
			goto out;
		run_say(r, "packet plane on (%s)", r->s->gateway->fail_open ? "fail-open" : "fail-closed");
		if (run_setup_stop("the packet plane"))
			goto out_ok;
	}
	if (r->s->gateway->intercept) {
		if (run_gateway(r, cause) == -1)
			goto out;
		run_say(r, "gateway intercepting (%s, forging %s, %u target names)",
		    r->s->gateway->mode, r->s->gateway->forging, r->s->target_names_count);
	} else {
		run_say(r, "gateway is a plain router (no interception)");
	}
	json_object_set_new(r->timings, "lab_ready_s", json_real((double)(util_mono_ns() - r->t_start) / 1e9));
	if (o->interactive) {
		run_hold(r);
		goto out_ok;
	}
	if (run_setup_stop("the gateway"))
		goto out_ok;
	for (i = 0; i < (int)r->s->clients_count; i++)
		if (run_client(r, i, cause) == -1)
			goto out;
	run_say(r, "%u client(s) started", r->s->clients_count);
	deadline = util_mono_ns() + (uint64_t)r->s->duration_s * 1000000000ull;
	{
		uint64_t next = util_mono_ns() + 2000000000ull;
		int left;
		while ((left = run_reap(r, LAB_CLIENT)) > 0 && !run_interrupted &&
		    util_mono_ns() < deadline) {
			if (r->s->gateway->intercept && !run_alive(r, "gateway")) {
				log_warnx("the interception engine died; ending the workload");
				break;
			}
			if (util_mono_ns() > next) {
				run_say(r, "%d client(s) still running", left);
				next += 2000000000ull;
			}
			usleep(20000);
		}
		if (left > 0 && util_mono_ns() >= deadline)
			log_warnx("duration_s %u reached with %d client(s) running; stopping them",
			    r->s->duration_s, left);
	}
	json_object_set_new(r->timings, "workload_done_s", json_real((double)(util_mono_ns() - r->t_start) / 1e9));
out_ok:
	rc = 0;
out:
	/* the cause is the caller's to print; said here too only when a lab's teardown (and
	 * its messages) comes between the failure and the caller's message */
	if (rc == -1 && r->lab != NULL && cause != NULL && *cause != NULL)
		log_warnx("stopping: %s", *cause);
	run_teardown(r);
	if (rc == -1)
		status = "failed";
	else if (run_interrupted && !r->held)
		status = "interrupted";
	else if (json_array_size(r->problems) > 0)
		status = "degraded";
	else
		status = "complete";
	if (r->claimed) {
		/* whatever happened, no private key stays behind unless asked for */
		if (!o->keep_keys) {
			run_strip_keys(r, "pki/national");
			run_strip_keys(r, "pki/web");
			run_strip_keys(r, "pki/web/sites");
		}
		if (rc == -1 && cause != NULL && *cause != NULL)
			run_problem(r, "error", "%s", *cause);
		run_manifest(r, status);
		if (rc == 0 && r->bus_in[0] != '\0')
			run_summary(r);
		if (rc == 0 && r->bus_in[0] != '\0' && !o->no_report) {
			char *rcause = NULL;
			if (report_write_all(r->dir, &rcause) == -1)
				log_warnx("report: %s", rcause);
			else if (!o->quiet)
				printf("report: %s/report.html\n", r->dir);
			free(rcause);
		}
	}
	if (rc == 0 && strcmp(status, "interrupted") == 0)
		log_warnx("interrupted: the run directory holds what was recorded until then");
	else if (rc == 0 && strcmp(status, "degraded") == 0) {
		size_t k;
		json_t *pv;
		log_warnx("degraded: %zu problem(s), listed in %s/manifest.json:",
		    json_array_size(r->problems), r->dir);
		json_array_foreach(r->problems, k, pv)
			log_warnx("  %s: %s", json_string_value(json_object_get(pv, "what")),
			    json_string_value(json_object_get(pv, "detail")));
	}
	if (rc == 0)
		rc = strcmp(status, "interrupted") == 0 ? RUN_EXIT_INTERRUPTED :
		    strcmp(status, "degraded") == 0 ? RUN_EXIT_DEGRADED : 0;
	free(err);
	if (r->lock_fd != -1)
		close(r->lock_fd);	/* the run directory is free for another runner */
	json_decref(r->problems);
	json_decref(r->timings);
	lab_free(r->lab);
	scenario_free(r->s);
	free(r);
	return rc;
}
