/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay — the replay engine of replay.h: a temporary bus (bus_forward in a thread), the
 * harness with the chosen analyzers, and a raw publisher that sends each recorded line
 * unchanged (original ts, src and seq) as [topic, line]. Option parsing is cmd_replay.c's;
 * scoring is compare.c's.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#include "amanifest.h"
#include "bus.h"
#include "harness.h"
#include "log.h"
#include "replay.h"
#include "util.h"
#include "vantage.h"

#define REPLAY_SUB_WAIT_MS	5000
#define REPLAY_STALL_MS		5000

struct replay_fwd {
	char in[PATH_MAX + 16], out[PATH_MAX + 16];
	volatile int stop;
	pthread_t th;
};

/* The temporary forwarder. */
static void *
replay_fwd_main(void *arg)
{
	struct replay_fwd *f = arg;
	char *cause = NULL;

	if (bus_forward(f->in, f->out, NULL, &f->stop, &cause) == -1) {
		log_warnx("replay forwarder: %s", cause);
		free(cause);
	}
	return NULL;
}

/* Union of the vantages of the named analyzers. */
static int
replay_vantages(const struct replay_opts *o, unsigned *set, char **cause)
{
	struct amanifest m;
	size_t i;

	*set = 0;
	for (i = 0; i < o->n; i++) {
		if (amanifest_load(o->names[i], &m, cause) == -1) {
			amanifest_free(&m);
			return -1;
		}
		if (m.kind == AMANIFEST_BUS)
			*set |= m.vantages;
		amanifest_free(&m);
	}
	return 0;
}

/* Raw publisher on the bus input; waits for the forwarder's subscription. */
static void *
replay_pub(const char *ep, char **cause)
{
	void *s = zmq_socket(bus_zctx(), ZMQ_XPUB);
	int one = 1, hwm = 1000000, linger = 5000;
	uint64_t end = util_mono_ns() + REPLAY_SUB_WAIT_MS * 1000000ull;
	unsigned char b[8];

	if (s == NULL) {
		util_cause(cause, "zmq_socket: %s", zmq_strerror(zmq_errno()));
		return NULL;
	}
	zmq_setsockopt(s, ZMQ_XPUB_NODROP, &one, sizeof(one));
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(s, ep) == 0)
		while (util_mono_ns() < end) {
			zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
			if (zmq_poll(&it, 1, 50) > 0 && zmq_recv(s, b, sizeof(b), ZMQ_DONTWAIT) >= 1 &&
			    b[0] == 1)
				return s;
		}
	util_cause(cause, "replay: no subscription from the temporary forwarder at %s", ep);
	zmq_close(s);
	return NULL;
}

/* Send one event; blocking (the forwarder's queue is large and drained). */
static int
replay_send(void *s, const char *topic, const char *body, size_t len)
{
	if (zmq_send(s, topic, strlen(topic), ZMQ_SNDMORE) == -1 ||
	    zmq_send(s, body, len, 0) == -1)
		return -1;
	return 0;
}

/* Keep the feeder at most REPLAY_INFLIGHT events ahead of the relay (bounded wait). */
static void
replay_pace(struct harness *h, uint64_t sent, uint64_t base)
{
	uint64_t last = harness_received(h), since = util_mono_ns();

	while (sent > harness_received(h) - base + REPLAY_INFLIGHT) {
		usleep(1000);
		if (harness_received(h) != last) {
			last = harness_received(h);
			since = util_mono_ns();
		} else if (util_mono_ns() - since > REPLAY_STALL_MS * 1000000ull)
			return;		/* never hang on a stuck relay */
	}
}

/* Feed events.jsonl; returns the number of events sent or -1. */
static long
replay_feed(const char *path, void *pub, unsigned set, struct harness *h, char **cause)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long sent = 0, lineno = 0;
	int64_t last_ts = 0;
	int ended = 0;
	uint64_t base = harness_received(h);

	if (f == NULL)
		return util_cause(cause, "%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) != -1) {
		json_t *ev;
		const char *t;
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if ((ev = json_loadb(line, (size_t)len, 0, NULL)) == NULL ||
		    (t = json_string_value(json_object_get(ev, "t"))) == NULL) {
			log_warnx("%s:%ld: not an event; skipped", path, lineno);
			json_decref(ev);
			continue;
		}
		if (json_is_integer(json_object_get(ev, "ts")))
			last_ts = (int64_t)json_integer_value(json_object_get(ev, "ts"));
		if (strcmp(t, "lab.run.end") == 0)
			ended = 1;
		if (vantage_allows(set, t, strlen(t))) {
			if (replay_send(pub, t, line, (size_t)len) == -1) {
				json_decref(ev);
				free(line);
				fclose(f);
				return util_cause(cause, "replay: send: %s", zmq_strerror(zmq_errno()));
			}
			sent++;
			if (sent % 256 == 0)
				replay_pace(h, (uint64_t)sent, base);
		}
		json_decref(ev);
		if (ended)
			break;
	}
	free(line);
	fclose(f);
	if (!ended) {
		char buf[256];
		int n = snprintf(buf, sizeof(buf), "{\"v\":1,\"t\":\"lab.run.end\",\"ts\":%lld,"
		    "\"src\":\"replay\",\"seq\":0,\"interrupted\":true,\"synthesized\":true}",
		    (long long)(last_ts > 0 ? last_ts : 1));
		log_warnx("%s has no lab.run.end (an interrupted run?); ending the replay with a "
		    "synthesized one", path);
		if (replay_send(pub, "lab.run.end", buf, (size_t)n) == -1)
			return util_cause(cause, "replay: send: %s", zmq_strerror(zmq_errno()));
		sent++;
	}
	return sent;
}

/* The whole replay. */
int
replay_run(const struct replay_opts *o, char **cause)
{
	char tmp[] = "/tmp/mitmlab-replay.XXXXXX", events[PATH_MAX + 32], out[PATH_MAX + 32];
	struct replay_fwd fwd;
	struct harness_opts ho;
	struct harness *h = NULL;
	void *pub = NULL;
	unsigned set;
	int rc = -1, fwd_started = 0;

	memset(&fwd, 0, sizeof(fwd));
	snprintf(events, sizeof(events), "%.4000s/events.jsonl", o->run_dir);
	if (access(events, R_OK) != 0)
		return util_cause(cause, "%s: %s (is %s a run directory?)", events, strerror(errno),
		    o->run_dir);
	if (o->n == 0)
		return util_cause(cause, "no analyzer named (--analyzer NAME)");
	if (replay_vantages(o, &set, cause) == -1)
		return -1;
	if (o->out_dir != NULL)
		snprintf(out, sizeof(out), "%s", o->out_dir);
	else
		snprintf(out, sizeof(out), "%.4000s/results", o->run_dir);
	if (mkdtemp(tmp) == NULL)
		return util_cause(cause, "mkdtemp: %s", strerror(errno));
	snprintf(fwd.in, sizeof(fwd.in), "ipc://%s/bus.in", tmp);
	snprintf(fwd.out, sizeof(fwd.out), "ipc://%s/bus.out", tmp);
	if (pthread_create(&fwd.th, NULL, replay_fwd_main, &fwd) != 0) {
		util_cause(cause, "cannot start the replay forwarder");
		goto out;
	}
	fwd_started = 1;
	if ((pub = replay_pub(fwd.in, cause)) == NULL)
		goto out;
	memset(&ho, 0, sizeof(ho));
	ho.run_dir = o->run_dir;
	ho.bus_in = fwd.in;
	ho.bus_out = fwd.out;
	ho.sock_dir = tmp;
	ho.results_dir = out;
	ho.log_dir = out;
	ho.mode = "replay";
	ho.names = o->names;
	ho.n = o->n;
	ho.baseline = o->baseline;
	if ((h = harness_start_opts(&ho, cause)) == NULL)
		goto out;
	if (replay_feed(events, pub, set, h, cause) == -1)
		goto out;
	rc = harness_stop(h, cause);
	h = NULL;
out:
	if (h != NULL)
		harness_stop(h, NULL);
	if (pub != NULL)
		zmq_close(pub);
	if (fwd_started) {
		fwd.stop = 1;
		pthread_join(fwd.th, NULL);
	}
	unlink(fwd.in + 6);
	unlink(fwd.out + 6);
	rmdir(tmp);
	return rc;
}
