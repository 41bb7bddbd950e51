/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The analyzer SDK's feed: an analyzer that declares the topics it reads is fed those and
 * lab.run.* only (the others are not even sent; a topic that merely starts like a declared
 * one is sent, by ZeroMQ's prefix match, and dropped by the SDK), one
 * without declared topics gets every topic of its vantages, and a declared topic outside the
 * vantages is refused at open, naming it. The event loop runs in the idle scheduling class
 * (as root) and on_end in the normal one, with ZeroMQ's I/O thread SCHED_BATCH. The SDK's
 * sources are compiled in; the bus side is an XPUB on a private ipc socket, as the harness
 * binds one per analyzer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#include "../../analyzers/lib/analyzer.c"
#include "../../analyzers/lib/analyzer_pub.c"
#include "bus.h"

struct seen {
	char	topics[16][40];
	int	n;
	long	filtered;	/* delivered by ZeroMQ but dropped by the SDK */
	int	policy_event;	/* the event loop's scheduling class at the first event */
	int	policy_end;	/* and at on_end */
	int	batch_io;	/* SCHED_BATCH ZeroMQ I/O threads while the analyzer was open */
};

/* The calling thread's scheduling policy. */
static int
sdk_policy(void)
{
	return sched_getscheduler(0);	/* the kernel's answer, not glibc's copy */
}

/* How many of this process's ZeroMQ I/O threads are SCHED_BATCH (/proc: policy is the 41st
 * field of a task's stat, after the parenthesised command, which has no spaces here). */
static int
sdk_batch_io(void)
{
	char path[64], comm[64], stat[1024], *f;
	struct dirent *d;
	DIR *dp = opendir("/proc/self/task");
	int n = 0, i;
	FILE *fp;

	assert_non_null(dp);
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/comm", d->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		comm[0] = '\0';
		if (fgets(comm, sizeof(comm), fp) == NULL)
			comm[0] = '\0';
		fclose(fp);
		if (strncmp(comm, "ZMQbg/IO/", 9) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/stat", d->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		if (fgets(stat, sizeof(stat), fp) != NULL && (f = strrchr(stat, ')')) != NULL) {
			for (i = 3; i <= 41 && f != NULL; i++)	/* field 3 follows ") " */
				f = strchr(f + 1, ' ');
			if (f != NULL && atoi(f + 1) == 3)	/* SCHED_BATCH */
				n++;
		}
		fclose(fp);
	}
	closedir(dp);
	return n;
}

/* Remember each topic delivered. */
static int
sdk_event(struct analyzer *a, const char *topic, const char *src, json_t *ev, void *arg)
{
	struct seen *s = arg;

	(void)a;
	(void)src;
	(void)ev;
	if (s->n == 0)
		s->policy_event = sdk_policy();
	if (s->n < 16)
		snprintf(s->topics[s->n++], sizeof(s->topics[0]), "%s", topic);
	return 0;
}

/* Note the class on_end runs in. */
static int
sdk_end(struct analyzer *a, json_t *result, int complete, void *arg)
{
	struct seen *s = arg;

	(void)a;
	(void)result;
	(void)complete;
	s->policy_end = sdk_policy();
	return 0;
}

/* Send one valid event [topic, json] on the feed. */
static void
sdk_send(void *xpub, const char *topic, int seq)
{
	json_t *ev = bus_event(topic);
	char *body;

	json_object_set_new(ev, "src", json_string("client.test"));
	json_object_set_new(ev, "seq", json_integer(seq));
	body = json_dumps(ev, JSON_COMPACT);
	assert_non_null(body);
	assert_int_equal(zmq_send(xpub, topic, strlen(topic), ZMQ_SNDMORE), (int)strlen(topic));
	assert_int_equal(zmq_send(xpub, body, strlen(body), 0), (int)strlen(body));
	free(body);
	json_decref(ev);
}

/* Open an analyzer on a fresh feed, wait until each of its nsubs subscriptions is in, send
 * the topics and run it to lab.run.end; what it was handed goes into s (zeroed). */
static void
sdk_run(const char *const *topics, int nsubs, struct seen *s)
{
	static const char *const send[] = { "client.summary", "client.result", "client.resultx",
	    "lab.truth.topology", "lab.run.start", "client.result", "lab.run.end" };
	char ep[96], *cause = NULL;
	char *argv[] = { "sdk", "--sub", ep, NULL };
	struct analyzer_def def = { "sdk", ANALYZER_CLIENT, sdk_event, sdk_end, s, topics };
	struct analyzer *a;
	void *ctx = zmq_ctx_new(), *xpub = zmq_socket(ctx, ZMQ_XPUB);
	unsigned char buf[64];
	int subs = 0, i, zero = 0;

	snprintf(ep, sizeof(ep), "ipc:///tmp/mitmlab-test-sdk-%ld.sock", (long)getpid());
	zmq_setsockopt(xpub, ZMQ_LINGER, &zero, sizeof(zero));
	unlink(ep + 6);
	assert_int_equal(zmq_bind(xpub, ep), 0);
	a = analyzer_open(&def, 3, argv, &cause);
	assert_non_null(a);
	for (i = 0; i < 300 && subs < nsubs; i++) {	/* at most 3 s */
		zmq_pollitem_t it = { xpub, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(&it, 1, 10) > 0 && zmq_recv(xpub, buf, sizeof(buf), ZMQ_DONTWAIT) >= 1 &&
		    buf[0] == 1)
			subs++;
	}
	assert_int_equal(subs, nsubs);
	s->batch_io = sdk_batch_io();
	for (i = 0; i < (int)(sizeof(send) / sizeof(send[0])); i++)
		sdk_send(xpub, send[i], i);
	/* the result goes to stdout when there is no --pub: keep the test's output readable */
	fflush(stdout);
	{
		int saved = dup(1), null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		assert_int_equal(analyzer_run(a), 0);
		fflush(stdout);
		dup2(saved, 1);
		close(saved);
		close(null);
	}
	s->filtered = (long)a->filtered;
	analyzer_close(a);
	zmq_close(xpub);
	zmq_ctx_term(ctx);
	unlink(ep + 6);
}

/* Declared topics: those and lab.run.*, in order; not client.summary, not client.resultx. */
static void
test_declared_topics(void **state)
{
	static const char *const topics[] = { "client.result", NULL };
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	sdk_run(topics, 2, &s);		/* lab.run. and client.result */
	assert_int_equal(s.n, 4);
	assert_string_equal(s.topics[0], "client.result");
	assert_string_equal(s.topics[1], "lab.run.start");
	assert_string_equal(s.topics[2], "client.result");
	assert_string_equal(s.topics[3], "lab.run.end");
	/* client.summary and lab.truth.topology were never sent (the subscriptions filter at the
	 * sender); client.resultx matches the prefix "client.result" and is dropped by the SDK */
	assert_int_equal(s.filtered, 1);
	/* the loop ran in the idle class where it can (bgsched_capable; make test runs as root),
	 * its results
	 * in the normal one, and its ZeroMQ I/O thread is SCHED_BATCH (the test's own is not) */
	assert_int_equal(s.policy_event, bgsched_capable() ? SCHED_IDLE : SCHED_OTHER);
	assert_int_equal(s.policy_end, SCHED_OTHER);
	assert_int_equal(s.batch_io, 1);
	assert_int_equal(sdk_policy(), SCHED_OTHER);
}

/* No declared topics: every topic of the client vantage (client.*, probe.*) and lab.run.*;
 * lab.truth.* belongs to the proxy vantage and is not delivered. */
static void
test_all_topics(void **state)
{
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	sdk_run(NULL, 3, &s);		/* lab.run., client., probe. */
	assert_int_equal(s.n, 6);
	assert_string_equal(s.topics[0], "client.summary");
	assert_string_equal(s.topics[2], "client.resultx");
	assert_string_equal(s.topics[3], "lab.run.start");
	assert_string_equal(s.topics[5], "lab.run.end");
	assert_int_equal(s.filtered, 0);	/* lab.truth.topology was not sent */
}

/* A declared topic outside the vantages is refused at open, naming it. */
static void
test_topic_outside_vantages(void **state)
{
	static const char *const topics[] = { "client.result", "proxy.conn.open", NULL };
	char *argv[] = { "sdk", "--sub", "ipc:///tmp/mitmlab-test-sdk-unused.sock", NULL };
	struct analyzer_def def = { "sdk", ANALYZER_CLIENT, sdk_event, NULL, NULL, topics };
	char *cause = NULL;

	(void)state;
	assert_null(analyzer_open(&def, 3, argv, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "\"proxy.conn.open\""));
	assert_non_null(strstr(cause, "vantages do not carry"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_declared_topics),
		cmocka_unit_test(test_all_topics),
		cmocka_unit_test(test_topic_outside_vantages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
