/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * analyzer — the SDK's lifecycle and event loop (mitmlab-analyzer.h): options and the
 * harness's environment, the vantage check against the grant, the private feed (SUB), message
 * validation (busmsg), dispatch to on_event, and the final analysis.result. Publishing is
 * analyzer_pub.c's; which topics belong to which vantage is vantage.c's (linked in).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "analyzer_int.h"
#include "busmsg.h"
#include "util.h"
#include "vantage.h"

#define ANALYZER_POLL_MS 200

_Static_assert(ANALYZER_CLIENT == VANTAGE_CLIENT && ANALYZER_ORIGIN == VANTAGE_ORIGIN &&
    ANALYZER_NET == VANTAGE_NET && ANALYZER_PROXY == VANTAGE_PROXY, "vantage bits");

static volatile sig_atomic_t analyzer_signalled;

/* SIGTERM/SIGINT: finish with a partial result. */
static void
analyzer_on_signal(int sig)
{
	(void)sig;
	analyzer_signalled = 1;
}

/* Usage on stderr. */
static void
analyzer_usage(const char *name)
{
	fprintf(stderr, "usage: %s [--sub EP] [--pub EP] [--name NAME] [--debug] [ARGS...]\n"
	    "  normally started by the mitmlab harness, which sets MITMLAB_ANALYZER_SUB/_PUB/_NAME/"
	    "_VANTAGES\n", name);
}

/* Does on_event take topic: one of the declared topics or lab.run.* (each declared topic lies
 * inside the vantages, analyzer_subscribe checks), or with none declared any topic of the
 * vantages? */
static int
analyzer_wants(const struct analyzer *a, const char *topic)
{
	const char *ctl;
	size_t i;

	if (a->def.topics == NULL)
		return vantage_allows(a->def.vantages, topic, strlen(topic));
	(void)vantage_prefixes(0, &ctl, 1);	/* lab.run. */
	if (strncmp(topic, ctl, strlen(ctl)) == 0)
		return 1;
	for (i = 0; a->def.topics[i] != NULL; i++)
		if (strcmp(topic, a->def.topics[i]) == 0)
			return 1;
	return 0;
}

/* Subscribe the feed: the vantages' prefixes, or lab.run. and the declared topics, each of
 * which must lie inside the vantages. */
static int
analyzer_subscribe(struct analyzer *a, char **cause)
{
	const char *pre[VANTAGE_MAX_PREFIXES];
	const char *const *t = a->def.topics;
	int i, np;

	if (t == NULL) {
		np = vantage_prefixes(a->def.vantages, pre, VANTAGE_MAX_PREFIXES);
		for (i = 0; i < np; i++)
			zmq_setsockopt(a->sub, ZMQ_SUBSCRIBE, pre[i], strlen(pre[i]));
		return 0;
	}
	for (i = 0; t[i] != NULL; i++)
		if (!vantage_allows(a->def.vantages, t[i], strlen(t[i])))
			return util_cause(cause, "%s reads topic \"%.60s\", which its vantages do not "
			    "carry: add the vantage or drop the topic", a->name, t[i]);
	(void)vantage_prefixes(0, pre, 1);	/* lab.run.: the end of the run */
	zmq_setsockopt(a->sub, ZMQ_SUBSCRIBE, pre[0], strlen(pre[0]));
	for (i = 0; t[i] != NULL; i++)
		zmq_setsockopt(a->sub, ZMQ_SUBSCRIBE, t[i], strlen(t[i]));
	return 0;
}

/* Options, environment, sockets. */
struct analyzer *
analyzer_open(const struct analyzer_def *def, int argc, char **argv, char **cause)
{
	struct analyzer *a;
	const char *env, *sub = getenv("MITMLAB_ANALYZER_SUB"), *pub = getenv("MITMLAB_ANALYZER_PUB");
	const char *name = getenv("MITMLAB_ANALYZER_NAME");
	unsigned granted;
	char have[64], want[64];
	int i, hwm = 1000000, zero = 0;
	struct sigaction sa;

	if (def == NULL || def->on_event == NULL || def->vantages == 0 ||
	    (def->vantages & ~VANTAGE_ALL)) {
		util_cause(cause, "analyzer_def needs on_event and a non-empty set of ANALYZER_* "
		    "vantages");
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL || (a->argv = calloc((size_t)argc + 1,
	    sizeof(char *))) == NULL) {
		free(a);
		util_cause(cause, "out of memory");
		return NULL;
	}
	a->def = *def;
	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--sub") == 0 || strcmp(argv[i], "--pub") == 0 ||
		    strcmp(argv[i], "--name") == 0) && i + 1 < argc) {
			if (argv[i][2] == 's')
				sub = argv[++i];
			else if (argv[i][2] == 'p')
				pub = argv[++i];
			else
				name = argv[++i];
		} else if (strcmp(argv[i], "--debug") == 0)
			a->debug = 1;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			analyzer_usage(argv[0]);
			util_cause(cause, "usage");
			goto fail;
		} else
			a->argv[a->argc++] = argv[i];
	}
	if (name == NULL || *name == '\0')
		name = def->name != NULL ? def->name : "analyzer";
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->src, sizeof(a->src), BUSMSG_ANALYZER_SRC "%s", a->name);
	if (!busmsg_src_ok(a->src)) {
		util_cause(cause, "bad analyzer name \"%.40s\"", name);
		goto fail;
	}
	if ((env = getenv("MITMLAB_ANALYZER_VANTAGES")) != NULL && *env != '\0') {
		if (vantage_parse_list(env, &granted, cause) == -1)
			goto fail;
		if (def->vantages & ~granted) {
			util_cause(cause, "%s declares vantages %s but the harness granted only %s: "
			    "the program and its analyzer.json disagree", a->name,
			    vantage_format(def->vantages, want, sizeof(want)),
			    vantage_format(granted, have, sizeof(have)));
			goto fail;
		}
	}
	if (sub == NULL || *sub == '\0') {
		util_cause(cause, "no event feed: set MITMLAB_ANALYZER_SUB or pass --sub EP");
		goto fail;
	}
	if ((a->sub_ep = strdup(sub)) == NULL || (pub != NULL && *pub != '\0' &&
	    (a->pub_ep = strdup(pub)) == NULL) || (a->ctx = zmq_ctx_new()) == NULL) {
		util_cause(cause, "out of memory");
		goto fail;
	}
	/* ZeroMQ's I/O thread in SCHED_BATCH, as bus_zctx's: it reads the feed while the event
	 * loop may be in the idle class (analyzer_run) */
	if (bgsched_zctx_batch(a->ctx) == -1)
		analyzer_log(a, 1, "SCHED_BATCH for the I/O thread: %s", zmq_strerror(zmq_errno()));
	/* Publisher first: once the harness sees our feed subscription, verdicts can flow. */
	if (analyzer_pub_open(a, cause) == -1)
		goto fail;
	if ((a->sub = zmq_socket(a->ctx, ZMQ_SUB)) == NULL) {
		util_cause(cause, "zmq_socket: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	zmq_setsockopt(a->sub, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(a->sub, ZMQ_LINGER, &zero, sizeof(zero));
	if (analyzer_subscribe(a, cause) == -1)
		goto fail;
	if (zmq_connect(a->sub, a->sub_ep) == -1) {
		util_cause(cause, "connect %s: %s", a->sub_ep, zmq_strerror(zmq_errno()));
		goto fail;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = analyzer_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	analyzer_log(a, 1, "feed %s, publishing to %s", a->sub_ep, a->pub_ep ? a->pub_ep : "stdout");
	return a;
fail:
	analyzer_close(a);
	return NULL;
}

/* on_end and the analysis.result event. */
static int
analyzer_finish(struct analyzer *a, int complete)
{
	json_t *res = json_object();
	int rc = 0;

	if (a->finished)
		return 0;
	a->finished = 1;
	if (a->def.on_end != NULL && a->def.on_end(a, res, complete, a->def.arg) == -1)
		rc = -1;
	json_object_set_new(res, "analyzer", json_string(a->name));
	json_object_set_new(res, "complete", json_boolean(complete && rc == 0));
	json_object_set_new(res, "events", json_integer((json_int_t)a->events));
	json_object_set_new(res, "verdicts", json_integer((json_int_t)a->verdicts));
	json_object_set_new(res, "flagged", json_integer((json_int_t)a->flagged));
	if (analyzer_pub_send(a, "analysis.result", res) == -1)
		rc = -1;
	return rc;
}

/* analyzer_one: no message was waiting. */
#define ANALYZER_NONE 2

/* Receive one message and dispatch it. 1: lab.run.end seen, 0: go on, -1: callback failed,
 * ANALYZER_NONE: nothing to receive. */
static int
analyzer_one(struct analyzer *a)
{
	zmq_msg_t part[2];
	char *why = NULL;
	json_t *ev = NULL;
	const char *topic;
	int64_t ts;
	int rc = 0;

	zmq_msg_init(&part[0]);
	zmq_msg_init(&part[1]);
	if (zmq_msg_recv(&part[0], a->sub, ZMQ_DONTWAIT) == -1) {
		if (zmq_errno() == EAGAIN)
			rc = ANALYZER_NONE;
		goto out;
	}
	if (!zmq_msg_more(&part[0]) || zmq_msg_recv(&part[1], a->sub, 0) == -1)
		goto out;
	while (zmq_msg_more(&part[1])) {	/* extra frames: drain, then reject */
		zmq_msg_t x;
		zmq_msg_init(&x);
		int more = zmq_msg_recv(&x, a->sub, 0) != -1 && zmq_msg_more(&x);
		zmq_msg_close(&x);
		if (!more)
			goto out;
	}
	ev = busmsg_parse(zmq_msg_data(&part[0]), zmq_msg_size(&part[0]),
	    zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), &why);
	if (ev == NULL) {
		analyzer_log(a, 1, "skipped invalid event: %s", why);
		free(why);
		goto out;
	}
	ts = (int64_t)json_integer_value(json_object_get(ev, "ts"));
	bgsched_event(&a->bg, ts);	/* lag is the age of anything in the feed */
	topic = json_string_value(json_object_get(ev, "t"));
	if (!analyzer_wants(a, topic)) {
		a->filtered++;
		goto out;
	}
	a->now = ts;	/* analyzer_now(): the ts of the event being handled */
	a->events++;
	if (a->def.on_event(a, topic, json_string_value(json_object_get(ev, "src")), ev,
	    a->def.arg) == -1)
		rc = -1;
	else if (strcmp(topic, "lab.run.end") == 0)
		rc = 1;
out:
	json_decref(ev);
	zmq_msg_close(&part[0]);
	zmq_msg_close(&part[1]);
	return rc;
}

/* The event loop. */
int
analyzer_run(struct analyzer *a)
{
	int rc = 0, k;

	/* in the background while it keeps up with the feed (bgsched.h); on_end and the result
	 * are computed in the normal class */
	bgsched_start(&a->bg, a->name);
	while (!analyzer_signalled) {
		zmq_pollitem_t it = { a->sub, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(&it, 1, ANALYZER_POLL_MS) == -1) {
			if (zmq_errno() == EINTR)
				continue;
			analyzer_log(a, 0, "poll: %s", zmq_strerror(zmq_errno()));
			rc = -1;
			break;
		}
		if (!(it.revents & ZMQ_POLLIN)) {
			bgsched_pass(&a->bg, 1);
			continue;
		}
		/* then read until nothing is waiting, without a zmq_poll before each message:
		 * fed 3,000 connections' events, truth made 10,675 system calls instead of
		 * 18,319 and throughput 10,826 instead of 22,257 (strace -c, 2026-11-23) */
		for (k = 0; k < 1024 && rc == 0; k++)
			rc = analyzer_one(a);
		bgsched_pass(&a->bg, rc == ANALYZER_NONE);	/* the feed was emptied */
		if (rc == ANALYZER_NONE)
			rc = 0;
		else if (rc != 0)
			break;
	}
	bgsched_stop(&a->bg);
	/* said only when it happened: the analyzer's log then shows it competed with the lab */
	analyzer_log(a, a->bg.boosts == 0, "fell behind the feed %llu times (%.1f s in the normal "
	    "class)", (unsigned long long)a->bg.boosts, (double)a->bg.boosted_ns / 1e9);
	if (rc == 1)
		return analyzer_finish(a, 1);
	analyzer_finish(a, 0);
	return rc == -1 ? -1 : 0;
}

/* Close and free. */
void
analyzer_close(struct analyzer *a)
{
	if (a == NULL)
		return;
	if (a->sub != NULL)
		zmq_close(a->sub);
	if (a->pub != NULL)
		zmq_close(a->pub);
	if (a->ctx != NULL)
		zmq_ctx_term(a->ctx);
	free(a->sub_ep);
	free(a->pub_ep);
	free(a->argv);
	free(a);
}

/* open + run + close with an exit status. */
int
analyzer_main(const struct analyzer_def *def, int argc, char **argv)
{
	struct analyzer *a;
	char *cause = NULL;
	int rc;

	if ((a = analyzer_open(def, argc, argv, &cause)) == NULL) {
		int usage = cause != NULL && strcmp(cause, "usage") == 0;
		if (!usage)
			fprintf(stderr, "%s: %s\n", def != NULL && def->name ? def->name : "analyzer",
			    cause != NULL ? cause : "cannot start");
		free(cause);
		return usage ? 2 : 1;
	}
	rc = analyzer_run(a) == 0 ? 0 : 1;
	if (analyzer_dropped(a) > 0)
		analyzer_log(a, 0, "%llu messages could not be published",
		    (unsigned long long)analyzer_dropped(a));
	analyzer_close(a);
	return rc;
}

/* Accessors. */
const char *
analyzer_name(const struct analyzer *a)
{
	return a->name;
}

/* ts of the current event. */
int64_t
analyzer_now(const struct analyzer *a)
{
	return a->now;
}

/* Events handled. */
uint64_t
analyzer_events(const struct analyzer *a)
{
	return a->events;
}

/* Publish failures. */
uint64_t
analyzer_dropped(const struct analyzer *a)
{
	return a->dropped;
}

/* Unconsumed arguments. */
char **
analyzer_args(const struct analyzer *a, int *argc)
{
	*argc = a->argc;
	return a->argv;
}

/* Log line on stderr. */
void
analyzer_log(const struct analyzer *a, int debug, const char *fmt, ...)
{
	va_list ap;

	if (debug && !a->debug)
		return;
	fprintf(stderr, "%s: ", a->name[0] ? a->name : "analyzer");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
