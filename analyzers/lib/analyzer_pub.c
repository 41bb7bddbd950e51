/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * analyzer_pub — the SDK's publishing half: the XPUB connected to the analyzer's input (waiting
 * out ZeroMQ's slow-joiner window so the first verdict is not lost), the envelope every event
 * needs (v, t, ts, src, seq), and analysis.verdict / analysis.* events. Receiving is
 * analyzer.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "analyzer_int.h"
#include "util.h"

#define ANALYZER_PUB_WAIT_MS	5000
#define ANALYZER_PUB_HWM	100000
#define ANALYZER_PUB_TIMEO_MS	2000
#define ANALYZER_PUB_LINGER_MS	2000

/* XPUB with NODROP and a bounded blocking send; waits for the forwarder's subscription. */
int
analyzer_pub_open(struct analyzer *a, char **cause)
{
	int one = 1, hwm = ANALYZER_PUB_HWM, timeo = ANALYZER_PUB_TIMEO_MS;
	int linger = ANALYZER_PUB_LINGER_MS;
	uint64_t end;
	unsigned char buf[64];

	if (a->pub_ep == NULL)
		return 0;
	if ((a->pub = zmq_socket(a->ctx, ZMQ_XPUB)) == NULL)
		return util_cause(cause, "zmq_socket: %s", zmq_strerror(zmq_errno()));
	zmq_setsockopt(a->pub, ZMQ_XPUB_NODROP, &one, sizeof(one));
	zmq_setsockopt(a->pub, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(a->pub, ZMQ_SNDTIMEO, &timeo, sizeof(timeo));
	zmq_setsockopt(a->pub, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(a->pub, a->pub_ep) == -1)
		return util_cause(cause, "connect %s: %s", a->pub_ep, zmq_strerror(zmq_errno()));
	end = util_mono_ns() + ANALYZER_PUB_WAIT_MS * 1000000ull;
	while (util_mono_ns() < end) {
		zmq_pollitem_t it = { a->pub, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(&it, 1, 50) > 0 && zmq_recv(a->pub, buf, sizeof(buf), ZMQ_DONTWAIT) >= 1 &&
		    buf[0] == 1)
			return 0;
	}
	return util_cause(cause, "no subscription from the bus at %s within %d ms (is the "
	    "forwarder running?)", a->pub_ep, ANALYZER_PUB_WAIT_MS);
}

/* Envelope and send. */
int
analyzer_pub_send(struct analyzer *a, const char *topic, json_t *ev)
{
	struct timespec ts;
	char *body;
	int rc = -1;

	if (ev == NULL || !json_is_object(ev)) {
		json_decref(ev);
		a->dropped++;
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(ev, "v", json_integer(1));
	json_object_set_new(ev, "t", json_string(topic));
	json_object_set_new(ev, "ts", json_integer((json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec));
	json_object_set_new(ev, "src", json_string(a->src));
	json_object_set_new(ev, "seq", json_integer((json_int_t)a->seq++));
	body = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (body == NULL) {
		a->dropped++;
		return -1;
	}
	if (a->pub == NULL) {
		printf("%s\n", body);
		fflush(stdout);
		rc = 0;
	} else if (zmq_send(a->pub, topic, strlen(topic), ZMQ_SNDMORE) != -1 &&
	    zmq_send(a->pub, body, strlen(body), 0) != -1)
		rc = 0;
	if (rc == -1)
		a->dropped++;
	free(body);
	return rc;
}

/* A verdict at the current event's time. */
int
analyzer_verdict(struct analyzer *a, const char *flow, int intercepted, double confidence,
    const char *signal, json_t *evidence)
{
	return analyzer_verdict_at(a, flow, intercepted, confidence, signal, evidence, 0);
}

/* A verdict with an explicit time. */
int
analyzer_verdict_at(struct analyzer *a, const char *flow, int intercepted, double confidence,
    const char *signal, json_t *evidence, int64_t at)
{
	json_t *ev;

	if (flow == NULL || *flow == '\0' || signal == NULL || *signal == '\0' ||
	    (evidence != NULL && !json_is_object(evidence))) {
		json_decref(evidence);
		a->dropped++;
		return -1;
	}
	if (!(confidence >= 0.0))	/* also NAN */
		confidence = 0.0;
	if (confidence > 1.0)
		confidence = 1.0;
	ev = json_pack("{s:s, s:b, s:f, s:s, s:o, s:I}", "flow", flow, "intercepted",
	    intercepted != 0, "confidence", confidence, "signal", signal,
	    "evidence", evidence != NULL ? evidence : json_object(),
	    "at", (json_int_t)(at != 0 ? at : a->now));
	if (ev == NULL) {
		a->dropped++;
		return -1;
	}
	a->verdicts++;
	if (intercepted)
		a->flagged++;
	return analyzer_pub_send(a, "analysis.verdict", ev);
}

/* Any analysis.* event. */
int
analyzer_publish(struct analyzer *a, const char *topic, json_t *ev)
{
	if (topic == NULL || strncmp(topic, "analysis.", 9) != 0 || strlen(topic) > 128) {
		json_decref(ev);
		a->dropped++;
		return -1;
	}
	return analyzer_pub_send(a, topic, ev);
}
