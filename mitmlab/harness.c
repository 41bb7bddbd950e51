/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * harness — the analyzer harness of harness.h: starting analyzer processes with their private
 * feeds, the relay thread that filters the bus by vantage and collects analysis.* events, and
 * the result files. Manifests are amanifest.c's, the topic table vantage.c's, the bus itself
 * bus.c's; feeding a recorded run is replay.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#include "amanifest.h"
#include "bus.h"
#include "busmsg.h"
#include "harness.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "vantage.h"

#define HARNESS_POLL_MS		50
#define HARNESS_PROBE_EVERY_MS	50
#define HARNESS_TERM_MS		2000
#define HARNESS_MAX		64
#define HARNESS_EP_MAX		(PATH_MAX + 32)
#define HARNESS_SUN_PATH	sizeof(((struct sockaddr_un *)0)->sun_path)	/* with its NUL */
#define HARNESS_SOCK_FMT	"%s/an-%s.sock"		/* an analyzer's private feed */
#define HARNESS_IN_SOCK_FMT	"%s/an-%s.in.sock"	/* its input: the longer of the two */
#define HARNESS_IN_HWM		100000	/* messages queued from one analyzer (the SDK's own) */
/* Verdicts kept per analyzer: a few per event it was offered (a verdict is per flow, and a
 * flow is several events), with room for an analyzer that reads files too. */
#define HARNESS_VERDICTS(a)	(4 * (size_t)(a)->events + 10000)

struct harness_an {
	struct amanifest m;
	char	 ep[HARNESS_EP_MAX];	/* private feed */
	char	 in_ep[HARNESS_EP_MAX];	/* its own input: what it publishes comes only here */
	char	 src[AMANIFEST_NAME_MAX + 16];
	char	 log[PATH_MAX + 64];
	void	*xpub;
	void	*in;			/* SUB bound at in_ep */
	pid_t	 pid;			/* 0: not started */
	int	 status;		/* exit status, -1 while running */
	int	 ready;			/* subscription seen on the private feed */
	int	 result_seen;		/* atomic: analysis.result collected */
	uint64_t events, dropped, missed, foreign, spoofed, excess, unrecorded;
	json_t	*verdicts, *result;
	uint64_t t_start, t_end;
	char	 failure[256];		/* why it could not run, "" if none */
};

struct harness {
	char	 run_dir[PATH_MAX], sock_dir[PATH_MAX], results_dir[PATH_MAX], log_dir[PATH_MAX];
	char	 bus_in[HARNESS_EP_MAX], bus_out[HARNESS_EP_MAX], mode[16];
	char	 baseline[PATH_MAX];	/* {baseline}; "" = none given */
	struct harness_an *an;
	size_t	 n;
	void	*sub;
	void	*pub;			/* the analyzers' events, checked, onto the bus */
	int	 probe_seen;
	uint64_t received;		/* atomic */
	pthread_t th;
	int	 th_started;
	volatile int stop;
};

/* Integer from the environment within [min, max], else def. */
static long
harness_env(const char *name, long def, long min, long max)
{
	const char *s = getenv(name);
	long long v;

	if (s == NULL || *s == '\0' || util_parse_ll(s, min, max, &v, NULL) == -1)
		return def;
	return (long)v;
}

/* Current time as a JSON integer of ns. */
static json_t *
harness_ns(uint64_t ns)
{
	return json_integer((json_int_t)ns);
}

/* A copy of an event without the bus envelope (v, t, ts, src, seq). */
static json_t *
harness_strip(const json_t *ev)
{
	json_t *c = json_deep_copy(ev);

	if (c == NULL)
		return NULL;
	json_object_del(c, "v");
	json_object_del(c, "t");
	json_object_del(c, "ts");
	json_object_del(c, "src");
	json_object_del(c, "seq");
	return c;
}

/* A verdict the scorer can use: an object with a string flow and a boolean intercepted. */
static int
harness_verdict_ok(const json_t *v)
{
	return json_is_object(v) && json_is_string(json_object_get(v, "flow")) &&
	    json_is_boolean(json_object_get(v, "intercepted"));
}

/*
 * One message from analyzer a's own input. Only analysis.* events whose src is a's own name
 * are taken: a detector cannot speak as truth (or as another detector), nor inject engine,
 * client or network events into the run. Taken events are filed under a and published onto
 * the bus unchanged, so the recorder keeps them. Returns -1 when none was waiting.
 */
static int
harness_take(struct harness *h, struct harness_an *a)
{
	zmq_msg_t part[2];
	char *why = NULL;
	const char *src, *t;
	json_t *ev;
	int frames;

	if (bus_recv2(a->in, part, &frames) == -1) {
		zmq_msg_close(&part[0]);
		zmq_msg_close(&part[1]);
		return -1;
	}
	ev = frames != 2 ? NULL : busmsg_parse(zmq_msg_data(&part[0]), zmq_msg_size(&part[0]),
	    zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), &why);
	t = ev != NULL ? json_string_value(json_object_get(ev, "t")) : NULL;
	src = ev != NULL ? json_string_value(json_object_get(ev, "src")) : NULL;
	if (ev == NULL || strncmp(t, "analysis.", 9) != 0) {
		log_debug("harness: %s sent %s", a->m.name, why ? why : "a non-analysis event");
		a->foreign++;
	} else if (strcmp(src, a->src) != 0) {
		if (a->spoofed++ == 0)
			log_warnx("analyzer %s published as \"%s\": dropped (and any more)", a->m.name,
			    src);
	} else if (strcmp(t, "analysis.verdict") == 0 && !harness_verdict_ok(ev)) {
		a->foreign++;		/* no flow or no boolean: not scorable */
	} else if (strcmp(t, "analysis.verdict") == 0 &&
	    json_array_size(a->verdicts) >= HARNESS_VERDICTS(a)) {
		a->excess++;		/* a flood: the harness keeps only so many */
	} else {
		if (strcmp(t, "analysis.verdict") == 0)
			json_array_append_new(a->verdicts, harness_strip(ev));
		else if (strcmp(t, "analysis.result") == 0 && a->result == NULL) {
			a->result = harness_strip(ev);
			__atomic_store_n(&a->result_seen, 1, __ATOMIC_RELEASE);
		}
		if (zmq_msg_send(&part[0], h->pub, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1 ||
		    zmq_msg_send(&part[1], h->pub, ZMQ_DONTWAIT) == -1)
			a->unrecorded++;	/* filed, but the recorder will not see it */
	}
	json_decref(ev);
	free(why);
	zmq_msg_close(&part[0]);
	zmq_msg_close(&part[1]);
	return 0;
}

/* Send a copy of the two frames to one analyzer without blocking; counts drops. */
static void
harness_send(struct harness_an *a, zmq_msg_t part[2])
{
	zmq_msg_t c[2];

	if (!a->ready || a->status != -1) {
		a->missed++;
		return;
	}
	zmq_msg_init(&c[0]);
	zmq_msg_init(&c[1]);
	zmq_msg_copy(&c[0], &part[0]);
	zmq_msg_copy(&c[1], &part[1]);
	if (zmq_msg_send(&c[0], a->xpub, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
		a->dropped++;
		zmq_msg_close(&c[0]);
		zmq_msg_close(&c[1]);
		return;
	}
	/* XPUB admits whole messages: once the first frame is queued the second is too. */
	if (zmq_msg_send(&c[1], a->xpub, ZMQ_DONTWAIT) == -1) {
		a->dropped++;
		zmq_msg_close(&c[1]);
		return;
	}
	a->events++;
}

/* Read one message from the bus and relay or collect it; -1 if none was waiting. */
static int
harness_relay(struct harness *h)
{
	zmq_msg_t part[2];
	const char *topic;
	size_t tlen, i;
	int frames;

	if (bus_recv2(h->sub, part, &frames) == -1) {
		zmq_msg_close(&part[0]);
		zmq_msg_close(&part[1]);
		return -1;
	}
	__atomic_add_fetch(&h->received, 1, __ATOMIC_RELAXED);
	if (frames != 2)
		goto out;
	topic = zmq_msg_data(&part[0]);
	tlen = zmq_msg_size(&part[0]);
	if (tlen > 8 && memcmp(topic, "harness.", 8) == 0)
		h->probe_seen = 1;
	else
		for (i = 0; i < h->n; i++)
			if (h->an[i].m.kind == AMANIFEST_BUS && h->an[i].xpub != NULL &&
			    vantage_allows(h->an[i].m.vantages, topic, tlen))
				harness_send(&h->an[i], part);
out:
	zmq_msg_close(&part[0]);
	zmq_msg_close(&part[1]);
	return 0;
}

/* Read subscription messages on an analyzer's feed; the first one makes it ready. */
static void
harness_subs(struct harness_an *a)
{
	unsigned char buf[256];
	int n;

	while ((n = zmq_recv(a->xpub, buf, sizeof(buf), ZMQ_DONTWAIT)) >= 0)
		if (n >= 1 && buf[0] == 1 && !a->ready) {
			a->ready = 1;
			log_debug("harness: analyzer %s attached", a->m.name);
		}
}

/* One poll round over the bus and every feed. */
static int
harness_poll(struct harness *h, long ms)
{
	zmq_pollitem_t it[2 * HARNESS_MAX + 1];
	size_t i, n = 0;
	int k;

	it[n++] = (zmq_pollitem_t){ h->sub, 0, ZMQ_POLLIN, 0 };
	for (i = 0; i < h->n; i++)
		if (h->an[i].xpub != NULL) {
			it[n++] = (zmq_pollitem_t){ h->an[i].xpub, 0, ZMQ_POLLIN, 0 };
			it[n++] = (zmq_pollitem_t){ h->an[i].in, 0, ZMQ_POLLIN, 0 };
		}
	if (zmq_poll(it, (int)n, ms) == -1)
		return zmq_errno() == EINTR ? 0 : -1;
	if (it[0].revents & ZMQ_POLLIN)
		for (k = 0; k < 1024; k++)
			if (harness_relay(h) == -1)
				break;
	for (i = 0; i < h->n; i++)
		if (h->an[i].xpub != NULL) {
			harness_subs(&h->an[i]);
			for (k = 0; k < 1024; k++)
				if (harness_take(h, &h->an[i]) == -1)
					break;
		}
	return 0;
}

/* The relay thread: poll until stop, then take what is still queued. */
static void *
harness_main(void *arg)
{
	struct harness *h = arg;
	size_t i;
	int k;

	while (!h->stop)
		if (harness_poll(h, HARNESS_POLL_MS) == -1)
			break;
	for (k = 0; k < 100000; k++)
		if (harness_relay(h) == -1)
			break;
	for (i = 0; i < h->n; i++)
		for (k = 0; h->an[i].in != NULL && k < 100000; k++)
			if (harness_take(h, &h->an[i]) == -1)
				break;
	return NULL;
}

/* Signal an analyzer's process group (harness_spawn made it the leader of one), so that a
 * wrapper's children (`sh -c ...`) stop with it; its PID alone if that fails. */
static void
harness_signal(const struct harness_an *a, int sig)
{
	if (a->pid > 0 && kill(-a->pid, sig) == -1)
		kill(a->pid, sig);
}

/* Reap an analyzer without waiting; returns non-zero once it has exited. */
static int
harness_reap(struct harness_an *a)
{
	int st;

	if (a->pid <= 0)
		return 1;
	if (a->status == -1 && waitpid(a->pid, &st, WNOHANG) == a->pid) {
		a->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		a->t_end = util_now_ns();
		if (a->status != 0)
			log_warnx("analyzer %s exited with status %d (see %s)", a->m.name, a->status,
			    a->log);
	}
	return a->status != -1;
}

/* The environment for an analyzer: ours plus the contract variables (util_env); -1 when out
 * of memory. */
static int
harness_envp(struct harness *h, struct harness_an *a, struct util_env *e)
{
	static const char *const drop[] = { "MITMLAB_ANALYZER_", "MITMLAB_RUN_DIR=", NULL };
	char vs[64];

	vantage_format(a->m.vantages, vs, sizeof(vs));
	if (util_env_init(e, drop, 6) == -1 ||
	    util_env_add(e, "MITMLAB_ANALYZER_NAME=%s", a->m.name) == -1 ||
	    util_env_add(e, "MITMLAB_ANALYZER_SUB=%s", a->ep) == -1 ||
	    util_env_add(e, "MITMLAB_ANALYZER_PUB=%s", a->in_ep) == -1 ||
	    util_env_add(e, "MITMLAB_ANALYZER_VANTAGES=%s", vs) == -1 ||
	    util_env_add(e, "MITMLAB_RUN_DIR=%s", h->run_dir) == -1 ||
	    util_env_add(e, "PYTHONUNBUFFERED=1") == -1) {
		util_env_free(e);
		return -1;
	}
	return 0;
}

/* Fork and exec an analyzer's command; stdout to out_path (NULL: the log), stderr to the log. */
static pid_t
harness_spawn(struct harness *h, struct harness_an *a, const char *out_path, char **cause)
{
	struct util_env env;
	char **argv;
	int logfd, outfd, nullfd;
	pid_t pid;

	if ((argv = amanifest_argv(&a->m, h->run_dir, h->baseline[0] != '\0' ? h->baseline :
	    NULL, cause)) == NULL)
		return -1;
	if (harness_envp(h, a, &env) == -1) {
		amanifest_argv_free(argv);
		return util_cause(cause, "out of memory");
	}
	logfd = open(a->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	outfd = out_path != NULL ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) :
	    logfd;
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd == -1 || outfd == -1 || nullfd == -1) {
		util_cause(cause, "%s: %s", logfd == -1 ? a->log : out_path, strerror(errno));
		pid = -1;
		goto out;
	}
	{	/* the log's first line, as the lab's components have: how to rerun it */
		FILE *f;
		int fd = dup(logfd);
		if (fd != -1 && (f = fdopen(fd, "a")) != NULL) {
			util_argv_line(f, argv, "# started on the host (analyzer %s, %s; its "
			    "MITMLAB_ANALYZER_* environment is the contract's):", a->m.name, h->mode);
			fclose(f);
		} else if (fd != -1)
			close(fd);
	}
	if ((pid = proc_fork()) == -1) {
		util_cause(cause, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* proc_fork made it a process group: helpers it starts are stopped with it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(nullfd, 0);
		dup2(outfd, 1);
		dup2(logfd, 2);
		execvpe(argv[0], argv, env.v);
		dprintf(2, "mitmlab harness: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	a->t_start = util_now_ns();
out:
	if (logfd != -1)
		close(logfd);
	if (outfd != -1 && outfd != logfd)
		close(outfd);
	if (nullfd != -1)
		close(nullfd);
	amanifest_argv_free(argv);
	util_env_free(&env);
	return pid;
}

/* The longest socket path an analyzer's endpoints need (harness.h). */
size_t
harness_sock_len(const char *sock_dir, const char *name)
{
	return (size_t)snprintf(NULL, 0, HARNESS_IN_SOCK_FMT, sock_dir, name);
}

/* Bind an analyzer's private feed. */
static int
harness_feed(struct harness *h, struct harness_an *a, char **cause)
{
	int hwm = (int)harness_env("MITMLAB_HARNESS_HWM", HARNESS_HWM_DEFAULT, 1, 100000000);
	int one = 1, zero = 0;
	int64_t maxsz = (int64_t)BUSMSG_MAX_BODY * 4;

	if ((size_t)snprintf(a->ep, sizeof(a->ep), "ipc://" HARNESS_SOCK_FMT, h->sock_dir,
	    a->m.name) >= HARNESS_SUN_PATH + 6)
		return util_cause(cause, "analyzer %s: socket path %s is longer than a Unix socket "
		    "allows (107 bytes); use a shorter run directory", a->m.name, a->ep + 6);
	if ((a->xpub = zmq_socket(bus_zctx(), ZMQ_XPUB)) == NULL)
		return util_cause(cause, "zmq_socket: %s", zmq_strerror(zmq_errno()));
	zmq_setsockopt(a->xpub, ZMQ_XPUB_NODROP, &one, sizeof(one));
	zmq_setsockopt(a->xpub, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(a->xpub, ZMQ_LINGER, &zero, sizeof(zero));
	unlink(a->ep + 6);
	if (zmq_bind(a->xpub, a->ep) == -1)
		return util_cause(cause, "bind %s: %s", a->ep, zmq_strerror(zmq_errno()));
	/* its input: a SUB of everything, whose subscription the SDK's XPUB waits for */
	if ((size_t)snprintf(a->in_ep, sizeof(a->in_ep), "ipc://" HARNESS_IN_SOCK_FMT,
	    h->sock_dir, a->m.name) >= HARNESS_SUN_PATH + 6)
		return util_cause(cause, "analyzer %s: socket path %s is longer than a Unix socket "
		    "allows (107 bytes); use a shorter run directory", a->m.name, a->in_ep + 6);
	if ((a->in = zmq_socket(bus_zctx(), ZMQ_SUB)) == NULL)
		return util_cause(cause, "zmq_socket: %s", zmq_strerror(zmq_errno()));
	/* bounded like the bus's own input: no message over 4 bodies' worth is read (the peer
	 * is cut off at its header), and at most as many queued as the SDK itself queues */
	hwm = HARNESS_IN_HWM;
	zmq_setsockopt(a->in, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(a->in, ZMQ_MAXMSGSIZE, &maxsz, sizeof(maxsz));
	zmq_setsockopt(a->in, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(a->in, ZMQ_SUBSCRIBE, "", 0);
	unlink(a->in_ep + 6);
	if (zmq_bind(a->in, a->in_ep) == -1)
		return util_cause(cause, "bind %s: %s", a->in_ep, zmq_strerror(zmq_errno()));
	return 0;
}

/* The relay's SUB on the bus output: the union of every analyzer's prefixes. */
static int
harness_sub(struct harness *h, char **cause)
{
	const char *pre[VANTAGE_MAX_PREFIXES];
	unsigned all = 0;
	int hwm = 1000000, zero = 0, i, np;
	size_t k;

	for (k = 0; k < h->n; k++)
		if (h->an[k].m.kind == AMANIFEST_BUS)
			all |= h->an[k].m.vantages;
	if ((h->sub = zmq_socket(bus_zctx(), ZMQ_SUB)) == NULL)
		return util_cause(cause, "zmq_socket: %s", zmq_strerror(zmq_errno()));
	zmq_setsockopt(h->sub, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(h->sub, ZMQ_LINGER, &zero, sizeof(zero));
	np = vantage_prefixes(all, pre, VANTAGE_MAX_PREFIXES);
	for (i = 0; i < np; i++)
		zmq_setsockopt(h->sub, ZMQ_SUBSCRIBE, pre[i], strlen(pre[i]));
	zmq_setsockopt(h->sub, ZMQ_SUBSCRIBE, "harness.", 8);
	if (zmq_connect(h->sub, h->bus_out) == -1)
		return util_cause(cause, "connect %s: %s", h->bus_out, zmq_strerror(zmq_errno()));
	if ((h->pub = zmq_socket(bus_zctx(), ZMQ_PUB)) == NULL)
		return util_cause(cause, "zmq_socket: %s", zmq_strerror(zmq_errno()));
	hwm = 1000000;
	zmq_setsockopt(h->pub, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(h->pub, ZMQ_LINGER, &zero, sizeof(zero));
	if (zmq_connect(h->pub, h->bus_in) == -1)
		return util_cause(cause, "connect %s: %s", h->bus_in, zmq_strerror(zmq_errno()));
	return 0;
}

/* Wait until the relay's subscription is in effect and every analyzer has attached. */
static void
harness_ready(struct harness *h, char **cause)
{
	uint64_t end = util_mono_ns() + (uint64_t)harness_env("MITMLAB_HARNESS_READY_MS",
	    HARNESS_READY_MS, 1, 600000) * 1000000ull, next_probe = 0;
	struct bus *probe;
	size_t i, waiting;

	(void)cause;
	probe = bus_open(h->bus_in, "harness", 3000, NULL);
	while (util_mono_ns() < end) {
		if (!h->probe_seen && util_mono_ns() >= next_probe) {
			bus_publish(probe, bus_event("harness.probe"));
			next_probe = util_mono_ns() + HARNESS_PROBE_EVERY_MS * 1000000ull;
		}
		harness_poll(h, 10);
		for (i = 0, waiting = 0; i < h->n; i++)
			if (h->an[i].pid > 0 && !h->an[i].ready && !harness_reap(&h->an[i]))
				waiting++;
		if (h->probe_seen && waiting == 0)
			break;
	}
	bus_close(probe);
	if (!h->probe_seen)
		log_warnx("harness: the relay saw no probe through %s; analyzers may miss the first "
		    "events", h->bus_out);
	for (i = 0; i < h->n; i++)
		if (h->an[i].pid > 0 && !h->an[i].ready && h->an[i].status == -1)
			log_warnx("analyzer %s has not attached yet; it misses events until it does "
			    "(see %s)", h->an[i].m.name, h->an[i].log);
}

/* Free everything (processes must be gone). */
static void
harness_free(struct harness *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++) {
		struct harness_an *a = &h->an[i];
		if (a->xpub != NULL) {
			zmq_close(a->xpub);
			unlink(a->ep + 6);
		}
		if (a->in != NULL) {
			zmq_close(a->in);
			unlink(a->in_ep + 6);
		}
		json_decref(a->verdicts);
		json_decref(a->result);
		amanifest_free(&a->m);
	}
	if (h->sub != NULL)
		zmq_close(h->sub);
	if (h->pub != NULL)
		zmq_close(h->pub);
	free(h->an);
	free(h);
}

/* Kill and reap every analyzer that still runs (used on failure paths). */
static void
harness_kill_all(struct harness *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->an[i].pid > 0 && !harness_reap(&h->an[i])) {
			harness_signal(&h->an[i], SIGKILL);
			waitpid(h->an[i].pid, NULL, 0);
			h->an[i].status = 137;
		}
}

/* Live-run defaults. */
struct harness *
harness_start(const char *run_dir, const char *bus_in, const char *bus_out,
    const char *const *names, size_t n, char **cause)
{
	struct harness_opts o = { run_dir, bus_in, bus_out, NULL, NULL, NULL, "live", names, n,
	    NULL };

	return harness_start_opts(&o, cause);
}

/* Load manifests, bind feeds, start processes, wait for readiness, start the relay. */
struct harness *
harness_start_opts(const struct harness_opts *o, char **cause)
{
	struct harness *h;
	size_t i, j;

	if (o->n > HARNESS_MAX) {
		util_cause(cause, "at most %d analyzers per run", HARNESS_MAX);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL || (h->an = calloc(o->n + 1, sizeof(*h->an))) == NULL) {
		free(h);
		util_cause(cause, "out of memory");
		return NULL;
	}
	h->n = o->n;
	snprintf(h->run_dir, sizeof(h->run_dir), "%s", o->run_dir);
	snprintf(h->sock_dir, sizeof(h->sock_dir), "%s", o->sock_dir ? o->sock_dir : o->run_dir);
	if (o->results_dir != NULL)
		snprintf(h->results_dir, sizeof(h->results_dir), "%s", o->results_dir);
	else
		snprintf(h->results_dir, sizeof(h->results_dir), "%.4000s/results", o->run_dir);
	if (o->log_dir != NULL)
		snprintf(h->log_dir, sizeof(h->log_dir), "%s", o->log_dir);
	else
		snprintf(h->log_dir, sizeof(h->log_dir), "%.4000s/logs", o->run_dir);
	snprintf(h->bus_in, sizeof(h->bus_in), "%s", o->bus_in);
	snprintf(h->bus_out, sizeof(h->bus_out), "%s", o->bus_out);
	snprintf(h->mode, sizeof(h->mode), "%s", o->mode ? o->mode : "live");
	if (o->baseline != NULL)
		snprintf(h->baseline, sizeof(h->baseline), "%s", o->baseline);
	for (i = 0; i < h->n; i++) {
		struct harness_an *a = &h->an[i];
		a->status = -1;
		if (amanifest_load(o->names[i], &a->m, cause) == -1)
			goto fail;
		for (j = 0; j < i; j++)
			if (strcmp(h->an[j].m.name, a->m.name) == 0) {
				util_cause(cause, "analyzer %s named twice", a->m.name);
				goto fail;
			}
		snprintf(a->src, sizeof(a->src), BUSMSG_ANALYZER_SRC "%s", a->m.name);
		snprintf(a->log, sizeof(a->log), "%.4000s/analyzer-%s.log", h->log_dir, a->m.name);
		if ((a->verdicts = json_array()) == NULL) {
			util_cause(cause, "out of memory");
			goto fail;
		}
	}
	if (util_mkdirs(h->log_dir, 0755, cause) == -1 ||
	    util_mkdirs(h->results_dir, 0755, cause) == -1 || harness_sub(h, cause) == -1)
		goto fail;
	for (i = 0; i < h->n; i++) {
		struct harness_an *a = &h->an[i];
		char *why = NULL;
		if (a->m.kind != AMANIFEST_BUS)
			continue;
		if (harness_feed(h, a, cause) == -1)
			goto fail;
		if ((a->pid = harness_spawn(h, a, NULL, &why)) == -1) {
			snprintf(a->failure, sizeof(a->failure), "%s", why ? why : "cannot start");
			log_warnx("analyzer %s: %s", a->m.name, a->failure);
			free(why);
			a->pid = 0;
			a->status = 127;
		}
	}
	harness_ready(h, cause);
	if (pthread_create(&h->th, NULL, harness_main, h) != 0) {
		util_cause(cause, "cannot start the harness relay thread");
		goto fail;
	}
	h->th_started = 1;
	return h;
fail:
	harness_kill_all(h);
	harness_free(h);
	return NULL;
}

/* Relay progress. */
uint64_t
harness_received(const struct harness *h)
{
	return h != NULL ? __atomic_load_n(&h->received, __ATOMIC_RELAXED) : 0;
}

/* Turn a capture analyzer's stdout (JSON lines) into verdicts. */
static void
harness_capture_lines(struct harness_an *a, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	json_t *v;

	if (f == NULL)
		return;
	while (getline(&line, &cap, f) != -1) {
		if ((v = json_loads(line, 0, NULL)) == NULL || !json_is_object(v) ||
		    !json_is_string(json_object_get(v, "flow")) ||
		    !json_is_boolean(json_object_get(v, "intercepted"))) {
			if (line[strspn(line, " \t\r\n")] != '\0')
				a->foreign++;
			json_decref(v);
			continue;
		}
		json_array_append_new(a->verdicts, v);
	}
	free(line);
	fclose(f);
}

/* Run one capture analyzer to completion (bounded) and collect its verdicts. */
static void
harness_capture(struct harness *h, struct harness_an *a)
{
	char out[PATH_MAX + 64], *why = NULL;
	uint64_t end = util_mono_ns() + (uint64_t)harness_env("MITMLAB_HARNESS_CAPTURE_MS",
	    HARNESS_CAPTURE_MS, 1, 3600000) * 1000000ull;

	snprintf(out, sizeof(out), "%.4000s/analyzer-%s.out", h->log_dir, a->m.name);
	if ((a->pid = harness_spawn(h, a, out, &why)) == -1) {
		snprintf(a->failure, sizeof(a->failure), "%s", why ? why : "cannot start");
		free(why);
		a->pid = 0;
		a->status = 127;
		return;
	}
	a->status = -1;
	while (!harness_reap(a) && util_mono_ns() < end)
		usleep(20000);
	if (a->status == -1) {
		log_warnx("analyzer %s still running after its time limit; killing it", a->m.name);
		harness_signal(a, SIGKILL);
		waitpid(a->pid, NULL, 0);
		a->status = 137;
		a->t_end = util_now_ns();
	}
	harness_capture_lines(a, out);
	if (a->status == 0) {
		a->result = json_pack("{s:s, s:I}", "analyzer", a->m.name, "verdicts",
		    (json_int_t)json_array_size(a->verdicts));
		a->result_seen = 1;
	}
}

/* The delivery status word of an analyzer. */
static const char *
harness_status(const struct harness_an *a)
{
	if (a->failure[0] != '\0')
		return "failed";
	if (a->result != NULL)	/* stopped before it had read everything: SIGTERM, time limit */
		return json_is_false(json_object_get(a->result, "complete")) ? "incomplete" : "ok";
	if (a->m.kind == AMANIFEST_BUS && !a->ready)
		return "not-ready";
	return "no-result";
}

/* Write RESULTS_DIR/<name>.json. */
static int
harness_write(struct harness *h, struct harness_an *a, char **cause)
{
	static const char *roles[] = { "detector", "truth", "measure" };
	char path[PATH_MAX + 64], vs[64], *text;
	json_t *o, *van = json_array();
	unsigned b;
	int rc;

	for (b = 1; b <= VANTAGE_ALL; b <<= 1)
		if (a->m.vantages & b)
			json_array_append_new(van, json_string(vantage_name(b)));
	vantage_format(a->m.vantages, vs, sizeof(vs));
	o = json_pack("{s:i, s:s, s:s, s:s, s:o, s:O, s:O*}", "v", 1, "analyzer", a->m.name,
	    "role", roles[a->m.role], "kind", a->m.kind == AMANIFEST_BUS ? "bus" : "capture",
	    "vantages", van, "verdicts", a->verdicts, "result", a->result);
	if (o == NULL)
		return util_cause(cause, "out of memory");
	if (a->result == NULL)
		json_object_set_new(o, "result", json_null());
	json_object_set_new(o, "delivery", json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "status", harness_status(a), "events", (json_int_t)a->events,
	    "dropped", (json_int_t)a->dropped, "missed", (json_int_t)a->missed,
	    "invalid", (json_int_t)a->foreign, "spoofed", (json_int_t)a->spoofed,
	    "excess", (json_int_t)a->excess, "unrecorded", (json_int_t)a->unrecorded));
	json_object_set_new(o, "meta", json_pack("{s:s, s:s, s:o, s:o, s:f, s:i, s:s, s:s}",
	    "mode", h->mode, "run_dir", h->run_dir, "started_ns", harness_ns(a->t_start),
	    "finished_ns", harness_ns(a->t_end),
	    "wall_ms", a->t_end > a->t_start ? (double)(a->t_end - a->t_start) / 1e6 : 0.0,
	    "exit", a->status, "log", a->log, "failure", a->failure));
	text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		return util_cause(cause, "out of memory");
	snprintf(path, sizeof(path), "%.4000s/%s.json", h->results_dir, a->m.name);
	rc = util_write_file(path, text, strlen(text), 0644, cause);
	free(text);
	return rc;
}

/* Wait for results, stop everything, run capture analyzers, write files. */
int
harness_stop(struct harness *h, char **cause)
{
	uint64_t end;
	size_t i, pending;
	int rc = 0, missing = 0;

	if (h == NULL)
		return 0;
	end = util_mono_ns() + (uint64_t)harness_env("MITMLAB_HARNESS_WAIT_MS", HARNESS_WAIT_MS, 1,
	    600000) * 1000000ull;
	do {
		for (i = 0, pending = 0; i < h->n; i++) {
			struct harness_an *a = &h->an[i];
			if (a->m.kind == AMANIFEST_BUS && a->pid > 0 && !harness_reap(a) &&
			    !__atomic_load_n(&a->result_seen, __ATOMIC_ACQUIRE))
				pending++;
		}
		if (pending > 0)
			usleep(20000);
	} while (pending > 0 && util_mono_ns() < end);
	/* Those that delivered get a grace period to exit on their own (flushing, lingering). */
	end = util_mono_ns() + HARNESS_TERM_MS * 1000000ull;
	do {
		for (i = 0, pending = 0; i < h->n; i++)
			if (h->an[i].pid > 0 && __atomic_load_n(&h->an[i].result_seen,
			    __ATOMIC_ACQUIRE) && !harness_reap(&h->an[i]))
				pending++;
		if (pending > 0)
			usleep(20000);
	} while (pending > 0 && util_mono_ns() < end);
	/* Stragglers get SIGTERM (the SDK then publishes a partial result) while the relay runs. */
	for (i = 0; i < h->n; i++)
		if (h->an[i].pid > 0 && !harness_reap(&h->an[i]))
			harness_signal(&h->an[i], SIGTERM);
	end = util_mono_ns() + HARNESS_TERM_MS * 1000000ull;
	do {
		for (i = 0, pending = 0; i < h->n; i++)
			if (h->an[i].pid > 0 && !harness_reap(&h->an[i]))
				pending++;
		if (pending > 0)
			usleep(20000);
	} while (pending > 0 && util_mono_ns() < end);
	for (i = 0; i < h->n; i++)
		if (h->an[i].pid > 0 && !harness_reap(&h->an[i])) {
			log_warnx("analyzer %s did not stop; killing it", h->an[i].m.name);
			harness_signal(&h->an[i], SIGKILL);
			waitpid(h->an[i].pid, NULL, 0);
			h->an[i].status = 137;
			h->an[i].t_end = util_now_ns();
		}
	/* what an analyzer that exited by itself left running in its group */
	for (i = 0; i < h->n; i++)
		if (h->an[i].pid > 0)
			kill(-h->an[i].pid, SIGKILL);
	if (h->th_started) {
		usleep(100000);		/* the last analysis.* events in flight through the forwarder */
		h->stop = 1;
		pthread_join(h->th, NULL);
		h->th_started = 0;
	}
	for (i = 0; i < h->n; i++)
		if (h->an[i].m.kind == AMANIFEST_CAPTURE)
			harness_capture(h, &h->an[i]);
	for (i = 0; i < h->n; i++) {
		if (h->an[i].result == NULL)
			missing++;
		if (rc == 0 && harness_write(h, &h->an[i], cause) == -1)
			rc = -1;
	}
	harness_free(h);
	return rc == -1 ? -1 : missing;
}
