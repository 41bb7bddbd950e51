/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * breakage — a measure (client vantage, no verdicts): the matrix of client profiles x sites
 * with the outcome class of each cell, compared with the same cells of a baseline run
 * (--baseline DIR). A client profile is the client.result "src" plus its "hello" (browser,
 * curl, openssl...), a site is the SNI. Each cell counts outcomes and error texts; its class is
 * the most frequent outcome (ties: the first in client.result's contract order). A cell whose
 * class differs from the baseline's is listed under "changed" — what interception broke (or,
 * rarely, fixed). A client the baseline lacks is compared with the baseline's clients of the
 * same hello on that site. The whole matrix goes into analysis.result's "matrix"; deterministic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anrun.h"
#include "mitmlab-analyzer.h"

/* client.result's outcomes in contract order (ties in a cell go to the earlier one). */
static const char *const brk_outcomes[] = { "ok", "redirect", "http-error", "cert-untrusted",
    "blocked-root", "pin-mismatch", "hostname-mismatch", "handshake-failure", "reset",
    "timeout", "connect-failed", NULL };

struct brk {
	json_t	*run;		/* profile -> site -> cell */
	json_t	*base;		/* the same for the baseline */
	json_t	*base_any;	/* baseline by "*" + "/HELLO" (any client of that hello) -> site -> cell */
	long	 flows;
};

/* The profile key of a client.result. */
static void
brk_profile(const json_t *cr, char *out, size_t len)
{
	const char *src = json_string_value(json_object_get(cr, "src"));
	const char *hello = json_string_value(json_object_get(cr, "hello"));

	snprintf(out, len, "%s/%s", src != NULL ? src : "?", hello != NULL ? hello : "-");
}

/* Increment obj[key]. */
static void
brk_inc(json_t *obj, const char *key)
{
	json_object_set_new(obj, key, json_integer(json_integer_value(json_object_get(obj,
	    key)) + 1));
}

/* Add one client.result to a matrix. */
static void
brk_add(json_t *m, const json_t *cr)
{
	const char *sni = json_string_value(json_object_get(cr, "sni"));
	const char *out = json_string_value(json_object_get(cr, "outcome"));
	const char *err = json_string_value(json_object_get(cr, "verify_error"));
	const char *url = json_string_value(json_object_get(cr, "url"));
	char prof[256], e[96], plain[300];
	json_t *p, *c;

	if (out == NULL)
		return;
	if (json_is_false(json_object_get(cr, "tls")) && url != NULL &&
	    strncmp(url, "http://", 7) == 0) {	/* plain HTTP: keyed "http://HOST" */
		snprintf(plain, sizeof(plain), "http://%.*s", (int)strcspn(url + 7, ":/"), url + 7);
		sni = plain;
	}
	if (err == NULL)
		err = json_string_value(json_object_get(cr, "error"));
	snprintf(e, sizeof(e), "%s", err != NULL ? err : "none");
	brk_profile(cr, prof, sizeof(prof));
	if ((p = json_object_get(m, prof)) == NULL)
		json_object_set_new(m, prof, p = json_object());
	sni = sni != NULL ? sni : "(no sni)";
	if ((c = json_object_get(p, sni)) == NULL)
		json_object_set_new(p, sni, c = json_pack("{s:i, s:{}, s:{}}", "n", 0, "outcomes",
		    "errors"));
	json_object_set_new(c, "n", json_integer(json_integer_value(json_object_get(c, "n")) + 1));
	brk_inc(json_object_get(c, "outcomes"), out);
	brk_inc(json_object_get(c, "errors"), e);
}

/* Set every cell's class (its most frequent outcome). */
static void
brk_classify(json_t *m)
{
	const char *prof, *site;
	json_t *p, *c;
	size_t i;

	json_object_foreach(m, prof, p) {
		json_object_foreach(p, site, c) {
			json_int_t best = 0;
			const char *cls = "none";
			for (i = 0; brk_outcomes[i] != NULL; i++) {
				json_int_t k = json_integer_value(json_object_get(json_object_get(c,
				    "outcomes"), brk_outcomes[i]));
				if (k > best) {
					best = k;
					cls = brk_outcomes[i];
				}
			}
			json_object_set_new(c, "class", json_string(cls));
		}
	}
}

/* Baseline client.result. */
static int
brk_learn(json_t *ev, void *arg)
{
	struct brk *b = arg;
	json_t *any = json_deep_copy(ev);

	brk_add(b->base, ev);
	json_object_set_new(any, "src", json_string("*"));
	brk_add(b->base_any, any);
	json_decref(any);
	return 0;
}

/* Collect client.result. */
static int
brk_event(struct analyzer *a, const char *topic, const char *src, json_t *ev, void *arg)
{
	struct brk *b = arg;

	(void)a;
	(void)src;
	if (strcmp(topic, "client.result") == 0) {
		brk_add(b->run, ev);
		b->flows++;
	}
	return 0;
}

/* Compare with the baseline and report. */
static int
brk_end(struct analyzer *a, json_t *result, int complete, void *arg)
{
	struct brk *b = arg;
	json_t *changed = json_array(), *p, *c, *bc, *classes = json_object();
	const char *prof, *site;
	long same = 0, nobase = 0, cells = 0;

	(void)a;
	(void)complete;
	brk_classify(b->run);
	brk_classify(b->base);
	brk_classify(b->base_any);
	json_object_foreach(b->run, prof, p) {
		json_object_foreach(p, site, c) {
			const char *cls = json_string_value(json_object_get(c, "class"));
			cells++;
			brk_inc(classes, cls);
			bc = json_object_get(json_object_get(b->base, prof), site);
			if (bc == NULL) {	/* a client the baseline lacks: any with its hello */
				char any[128];
				const char *slash = strrchr(prof, '/');
				snprintf(any, sizeof(any), "*%s", slash != NULL ? slash : "/-");
				bc = json_object_get(json_object_get(b->base_any, any), site);
			}
			if (bc == NULL) {
				json_object_set_new(c, "baseline", json_null());
				nobase++;
				continue;
			}
			json_object_set(c, "baseline", json_object_get(bc, "class"));
			if (strcmp(cls, json_string_value(json_object_get(bc, "class"))) == 0) {
				same++;
				continue;
			}
			json_array_append_new(changed, json_pack("{s:s, s:s, s:O, s:s, s:O}",
			    "profile", prof, "site", site, "baseline", json_object_get(bc, "class"),
			    "now", cls, "errors", json_object_get(c, "errors")));
		}
	}
	json_object_set_new(result, "summary", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, "
	    "s:b}", "flows", (json_int_t)b->flows, "profiles", (json_int_t)json_object_size(b->run),
	    "cells", (json_int_t)cells, "unchanged", (json_int_t)same, "changed",
	    (json_int_t)json_array_size(changed), "no_baseline", (json_int_t)nobase, "classes",
	    classes, "baseline_given", json_object_size(b->base) > 0));
	json_object_set_new(result, "changed", changed);
	json_object_set(result, "matrix", b->run);
	return 0;
}

/* Entry point. */
int
main(int argc, char **argv)
{
	struct brk b = { json_object(), json_object(), json_object(), 0 };
	static const char *const topics[] = { "client.result", NULL };
	struct analyzer_def def = { "breakage", ANALYZER_CLIENT, brk_event, brk_end, &b, topics };
	int rc;

	anrun_baseline(argc, argv, "client.result", brk_learn, &b, "breakage");
	rc = analyzer_main(&def, argc, argv);
	json_decref(b.run);
	json_decref(b.base);
	json_decref(b.base_any);
	return rc;
}
