/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * truth — the ground-truth analyzer (proxy vantage). Per client connection (one client.result
 * = one flow) it says whether the interception engine intercepted it: yes when a
 * proxy.conn.open for the same "flow" (CLIENTIP:CPORT>DSTIP:DPORT, the same id on both
 * vantages) has action "intercept"; spliced, blocked, refused and undiverted flows are no.
 * Because the bus interleaves sources, a proxy event may arrive after the client's result, so
 * verdicts are held until lab.run.end and published then, in client.result order, with
 * confidence 1 and "at" = when the intercepted flow began (proxy.conn.open's accepted_ts, or
 * its ts in a run recorded before the engine gave one) or the ts of the client.result.
 * `mitmlab compare` scores every detector against these verdicts. A flow id the client reused
 * (the same 4-tuple twice in a run) is judged by its LAST proxy.conn.open and client.result,
 * at the place of its first: scoring takes each detector's last verdict per flow, and the
 * report the last open, so a detector right about the latest flow is scored right.
 */
#include <string.h>

#include "mitmlab-analyzer.h"

/* Only what the verdicts need is kept, not the events: a run's events stay parsed in memory
 * otherwise, and keeping a 700-byte proxy.conn.open whole cost as much as parsing it. */
struct truth {
	json_t *opens;		/* flow -> {action, ts} of its last proxy.conn.open */
	json_t *flows;		/* {flow, sni, src, outcome, ts} of each flow's last client.result,
				 * in the order of their first */
	json_t *seen;		/* flow -> its index in flows */
	json_t *actions;	/* action -> count over client flows */
	long	 noflow;	/* client.result without a flow id (e.g. s_client): not scored */
};

/* Remember the last proxy.conn.open and client.result per flow, flows in order. */
static int
truth_event(struct analyzer *a, const char *topic, const char *src, json_t *ev, void *arg)
{
	struct truth *t = arg;
	const char *flow = json_string_value(json_object_get(ev, "flow"));

	(void)a;
	(void)src;
	if (flow == NULL) {
		t->noflow += strcmp(topic, "client.result") == 0;
		return 0;
	}
	if (strcmp(topic, "proxy.conn.open") == 0) {	/* the last one wins */
		/* the flow's start (accepted_ts) when the engine says it, else the decision */
		json_t *ts = json_object_get(ev, "accepted_ts");
		if (!json_is_integer(ts) || json_integer_value(ts) <= 0)
			ts = json_object_get(ev, "ts");
		json_object_set_new(t->opens, flow, json_pack("{s:O*, s:O*}", "action",
		    json_object_get(ev, "action"), "ts", ts));
	} else if (strcmp(topic, "client.result") == 0) {
		json_t *cr = json_pack("{s:s, s:O*, s:O*, s:O*, s:O*}", "flow", flow, "sni",
		    json_object_get(ev, "sni"), "src", json_object_get(ev, "src"), "outcome",
		    json_object_get(ev, "outcome"), "ts", json_object_get(ev, "ts"));
		json_t *at = json_object_get(t->seen, flow);
		if (at != NULL)		/* a reused flow id: the last one wins, in place */
			json_array_set_new(t->flows, (size_t)json_integer_value(at), cr);
		else {
			json_object_set_new(t->seen, flow, json_integer((json_int_t)json_array_size(
			    t->flows)));
			json_array_append_new(t->flows, cr);
		}
	}
	return 0;
}

/* One verdict per client flow, then the summary. */
static int
truth_end(struct analyzer *a, json_t *result, int complete, void *arg)
{
	struct truth *t = arg;
	size_t i;
	json_t *cr;
	long intercepted = 0, proxy_only = 0;
	const char *flow;
	json_t *open;

	(void)complete;
	json_array_foreach(t->flows, i, cr) {
		const char *action;
		int yes;
		flow = json_string_value(json_object_get(cr, "flow"));
		open = json_object_get(t->opens, flow);
		action = open != NULL ? json_string_value(json_object_get(open, "action")) : NULL;
		yes = action != NULL && strcmp(action, "intercept") == 0;
		intercepted += yes;
		action = action != NULL ? action : "none";
		json_object_set_new(t->actions, action, json_integer(
		    json_integer_value(json_object_get(t->actions, action)) + 1));
		analyzer_verdict_at(a, flow, yes, 1.0, yes ? "proxy-intercept" : "no-intercept",
		    json_pack("{s:s, s:O*, s:O*, s:O*}", "action", action,
		    "sni", json_object_get(cr, "sni"), "client", json_object_get(cr, "src"),
		    "outcome", json_object_get(cr, "outcome")),
		    (int64_t)json_integer_value(json_object_get(yes ? open : cr, "ts")));
	}
	json_object_foreach(t->opens, flow, open)
		if (json_object_get(t->seen, flow) == NULL)
			proxy_only++;
	json_object_set_new(result, "summary", json_pack("{s:I, s:I, s:I, s:I, s:O}",
	    "flows", (json_int_t)json_array_size(t->flows), "intercepted", (json_int_t)intercepted,
	    "proxy_only", (json_int_t)proxy_only, "client_results_without_flow",
	    (json_int_t)t->noflow, "actions", t->actions));
	return 0;
}

/* Entry point. */
int
main(int argc, char **argv)
{
	struct truth t = { json_object(), json_array(), json_object(), json_object(), 0 };
	static const char *const topics[] = { "proxy.conn.open", "client.result", NULL };
	struct analyzer_def def = { "truth", ANALYZER_PROXY | ANALYZER_CLIENT, truth_event,
	    truth_end, &t, topics };
	int rc = analyzer_main(&def, argc, argv);

	json_decref(t.opens);
	json_decref(t.flows);
	json_decref(t.seen);
	json_decref(t.actions);
	return rc;
}
