/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * detect-path — a detector on path signals (vantages net + client) against a baseline run
 * given as --baseline DIR (the manifest passes {baseline}): per destination and network
 * vantage, fewer server hops in net.flow than in the baseline (an interceptor that terminates
 * TCP is nearer than the server; seen by the passive monitor before the gateway, `mitmlab
 * netq --monitor`), told from a splicing relay by the server's first-flight size, and a client
 * handshake much slower than the baseline's median when hops are unknown. The summary's
 * "terminator" is the hop the shortened flows point at. Verdicts are held
 * until lab.run.end (net.flow is published when a flow ends, after client.result) and then
 * published per flow in first-seen order; probe.ttl events (client vantage) are summarised as
 * "localised". Without a baseline it publishes no verdicts and says so in the result. The
 * comparisons themselves are dpath.c's.
 */
#include <stdlib.h>

#include "anrun.h"
#include "dpath.h"
#include "mitmlab-analyzer.h"

/* Feed a baseline event to the tables. */
static int
detect_path_learn(json_t *ev, void *arg)
{
	dpath_baseline(arg, ev);
	return 0;
}

/* Remember the run's events. */
static int
detect_path_event(struct analyzer *a, const char *topic, const char *src, json_t *ev, void *arg)
{
	(void)a;
	(void)topic;
	(void)src;
	dpath_observe(arg, ev);
	return 0;
}

/* Publish one verdict of dpath_judge_each. */
static void
detect_path_publish(json_t *v, void *a)
{
	json_t *at = json_object_get(v, "at");

	analyzer_verdict_at(a, json_string_value(json_object_get(v, "flow")),
	    json_is_true(json_object_get(v, "intercepted")),
	    json_number_value(json_object_get(v, "confidence")),
	    json_string_value(json_object_get(v, "signal")),
	    json_incref(json_object_get(v, "evidence")),
	    json_is_integer(at) ? (int64_t)json_integer_value(at) : 0);
}

/* Publish the held verdicts and the summary. */
static int
detect_path_end(struct analyzer *a, json_t *result, int complete, void *arg)
{
	(void)complete;
	dpath_judge_each(arg, detect_path_publish, a);
	json_object_set_new(result, "summary", dpath_summary(arg));
	return 0;
}

/* Entry point: load the baseline, then run. The baseline is read before the feed is opened:
 * the harness feeds an analyzer once it subscribes, and what it sends meanwhile would wait in
 * this process's queue. */
int
main(int argc, char **argv)
{
	struct dpath *d = dpath_new();
	static const char *const topics[] = { "net.flow", "client.result", "probe.ttl", NULL };
	struct analyzer_def def = { "detect-path", ANALYZER_NET | ANALYZER_CLIENT,
	    detect_path_event, detect_path_end, d, topics };
	struct analyzer *a;
	const char *base = anrun_baseline_arg(argc, argv);
	char *cause = NULL, *why = NULL;
	long n = 0;
	int rc;

	if (d == NULL)
		return 1;
	if (base != NULL)
		n = anrun_events(base, "", detect_path_learn, d, &why);
	if ((a = analyzer_open(&def, argc, argv, &cause)) == NULL) {
		fprintf(stderr, "detect-path: %s\n", cause != NULL ? cause : "cannot start");
		free(cause);
		free(why);
		dpath_free(d);
		return 1;
	}
	if (base == NULL)
		analyzer_log(a, 0, "no baseline run (--baseline DIR): no verdicts, probe.ttl only");
	else if (n < 0)
		analyzer_log(a, 0, "baseline %s: %s", base, why != NULL ? why : "unreadable");
	else
		analyzer_log(a, 0, "baseline %s: %ld path events", base, dpath_baseline_events(d));
	free(why);
	rc = analyzer_run(a) == 0 ? 0 : 1;
	analyzer_close(a);
	dpath_free(d);
	return rc;
}
