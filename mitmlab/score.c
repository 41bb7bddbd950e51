/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * score — the confusion matrix, precision/recall/F1/false-positive rate and time to detection
 * of score.h, computed from two arrays of verdicts. Reading result files and printing tables
 * is compare.c's job.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "score.h"
#include "util.h"

/* a / b, NAN when b == 0. */
static double
score_ratio(long a, long b)
{
	return b == 0 ? NAN : (double)a / (double)b;
}

/* Check that v is an array of verdicts; 0 or -1 with *cause. */
static int
score_check(const json_t *v, const char *what, char **cause)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v))
		return util_cause(cause, "%s verdicts: not an array", what);
	json_array_foreach(v, i, x) {
		if (!json_is_string(json_object_get(x, "flow")) ||
		    !json_is_boolean(json_object_get(x, "intercepted")))
			return util_cause(cause, "%s verdict %zu: needs a string \"flow\" and a "
			    "boolean \"intercepted\"", what, i);
	}
	return 0;
}

/* Confusion matrix and derived figures. */
int
score_compute(const json_t *truth, const json_t *det, struct score *s, char **cause)
{
	json_t *t = NULL, *d = NULL, *x;
	const char *flow;
	size_t i;
	int64_t first_pos = INT64_MAX, first_hit = 0;
	int have_hit = 0;

	memset(s, 0, sizeof(*s));
	if (score_check(truth, "truth", cause) == -1 || score_check(det, "detector", cause) == -1)
		return -1;
	if ((t = json_object()) == NULL || (d = json_object()) == NULL) {
		json_decref(t);
		return util_cause(cause, "out of memory");
	}
	/* truth: the last verdict per flow wins too (the truth analyzer gives one) */
	json_array_foreach(truth, i, x)
		json_object_set(t, json_string_value(json_object_get(x, "flow")), x);
	json_array_foreach(det, i, x) {
		flow = json_string_value(json_object_get(x, "flow"));
		json_t *tv = json_object_get(t, flow);
		if (tv == NULL) {
			s->unmatched++;
			continue;
		}
		json_object_set(d, flow, x);
	}
	json_object_foreach(t, flow, x) {
		int truly = json_is_true(json_object_get(x, "intercepted"));
		int said = json_is_true(json_object_get(json_object_get(d, flow), "intercepted"));
		s->flows++;
		if (truly) {
			s->positives++;
			if (json_is_integer(json_object_get(x, "at"))) {
				int64_t at = (int64_t)json_integer_value(json_object_get(x, "at"));
				if (at < first_pos)
					first_pos = at;
			}
		}
		if (truly && said) {
			/* time to detection: from the detector's final verdicts that are hits (one
			 * it later took back does not count), with a time an event could carry */
			json_t *at = json_object_get(json_object_get(d, flow), "at");
			if (json_is_integer(at) && json_integer_value(at) > 0 &&
			    (!have_hit || (int64_t)json_integer_value(at) < first_hit)) {
				first_hit = (int64_t)json_integer_value(at);
				have_hit = 1;
			}
			s->tp++;
		}
		else if (truly)
			s->fn++;
		else if (said)
			s->fp++;
		else
			s->tn++;
	}
	s->precision = score_ratio(s->tp, s->tp + s->fp);
	s->recall = score_ratio(s->tp, s->tp + s->fn);
	s->f1 = isnan(s->precision) || isnan(s->recall) || s->precision + s->recall == 0 ?
	    (s->tp + s->fp + s->fn == 0 ? NAN : 0.0) :
	    2 * s->precision * s->recall / (s->precision + s->recall);
	s->fpr = score_ratio(s->fp, s->fp + s->tn);
	/* both are positive, so the difference cannot overflow; a detection said to come before
	 * the first intercepted flow began is no time to detection (null) */
	if (first_pos != INT64_MAX && have_hit && first_pos > 0 && first_hit >= first_pos) {
		s->has_ttd = 1;
		s->ttd_ns = first_hit - first_pos;
	}
	json_decref(t);
	json_decref(d);
	return 0;
}

/* A ratio or null. */
static json_t *
score_real(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

/* JSON form. */
json_t *
score_json(const struct score *s)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "flows", (json_int_t)s->flows, "positives", (json_int_t)s->positives,
	    "tp", (json_int_t)s->tp, "fp", (json_int_t)s->fp, "tn", (json_int_t)s->tn,
	    "fn", (json_int_t)s->fn, "unmatched", (json_int_t)s->unmatched);

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "precision", score_real(s->precision));
	json_object_set_new(o, "recall", score_real(s->recall));
	json_object_set_new(o, "f1", score_real(s->f1));
	json_object_set_new(o, "fpr", score_real(s->fpr));
	json_object_set_new(o, "ttd_ms", s->has_ttd ? json_real((double)s->ttd_ns / 1e6) :
	    json_null());
	return o;
}
