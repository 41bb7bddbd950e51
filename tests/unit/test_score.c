/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_score — the scoring math: confusion matrix with the last verdict per flow winning,
 * missing verdicts as negatives, unmatched flows, undefined ratios, time to detection, and
 * malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "score.h"

static json_t *
J(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	assert_non_null(j);
	return j;
}

static void
test_matrix(void **state)
{
	json_t *truth = J("[{\"flow\":\"a\",\"intercepted\":true,\"at\":100},"
	    "{\"flow\":\"b\",\"intercepted\":true,\"at\":200},"
	    "{\"flow\":\"c\",\"intercepted\":false,\"at\":50},"
	    "{\"flow\":\"d\",\"intercepted\":false,\"at\":60},"
	    "{\"flow\":\"e\",\"intercepted\":true,\"at\":300}]");
	/* a: TP (last verdict wins), b: FN (no verdict), c: FP, d: TN, e: TP; z: unmatched */
	json_t *det = J("[{\"flow\":\"a\",\"intercepted\":false,\"at\":110},"
	    "{\"flow\":\"e\",\"intercepted\":true,\"at\":350},"
	    "{\"flow\":\"a\",\"intercepted\":true,\"at\":400},"
	    "{\"flow\":\"c\",\"intercepted\":true,\"at\":55},"
	    "{\"flow\":\"d\",\"intercepted\":false},"
	    "{\"flow\":\"z\",\"intercepted\":true,\"at\":1}]");
	struct score s;
	json_t *o;

	(void)state;
	assert_int_equal(score_compute(truth, det, &s, NULL), 0);
	assert_int_equal(s.flows, 5);
	assert_int_equal(s.positives, 3);
	assert_int_equal(s.tp, 2);
	assert_int_equal(s.fn, 1);
	assert_int_equal(s.fp, 1);
	assert_int_equal(s.tn, 1);
	assert_int_equal(s.unmatched, 1);
	assert_true(fabs(s.precision - 2.0 / 3) < 1e-12);
	assert_true(fabs(s.recall - 2.0 / 3) < 1e-12);
	assert_true(fabs(s.f1 - 2.0 / 3) < 1e-12);
	assert_true(fabs(s.fpr - 0.5) < 1e-12);
	/* first truth positive at 100; first correct "yes" at 350 (e), not 1 (z) nor 55 (c) */
	assert_true(s.has_ttd);
	assert_int_equal(s.ttd_ns, 250);
	o = score_json(&s);
	assert_int_equal(json_integer_value(json_object_get(o, "tp")), 2);
	assert_true(fabs(json_real_value(json_object_get(o, "ttd_ms")) - 0.00025) < 1e-12);
	json_decref(o);
	json_decref(truth);
	json_decref(det);
}

/* Time to detection counts only final verdicts that are hits, with times an event can carry:
 * a "yes" taken back later gives none, and extreme times neither overflow nor count. */
static void
test_ttd_bounds(void **state)
{
	json_t *truth = J("[{\"flow\":\"a\",\"intercepted\":true,\"at\":100}]");
	json_t *retracted = J("[{\"flow\":\"a\",\"intercepted\":true,\"at\":120},"
	    "{\"flow\":\"a\",\"intercepted\":false,\"at\":130}]");
	json_t *extreme = J("[{\"flow\":\"a\",\"intercepted\":true,\"at\":-9223372036854775807}]");
	json_t *early = J("[{\"flow\":\"a\",\"intercepted\":true,\"at\":99}]");
	json_t *late = J("[{\"flow\":\"a\",\"intercepted\":true,\"at\":9223372036854775807}]");
	struct score s;

	(void)state;
	assert_int_equal(score_compute(truth, retracted, &s, NULL), 0);
	assert_int_equal(s.tp, 0);
	assert_false(s.has_ttd);
	assert_int_equal(score_compute(truth, extreme, &s, NULL), 0);
	assert_int_equal(s.tp, 1);
	assert_false(s.has_ttd);
	assert_int_equal(score_compute(truth, early, &s, NULL), 0);
	assert_false(s.has_ttd);
	assert_int_equal(score_compute(truth, late, &s, NULL), 0);
	assert_true(s.has_ttd);
	assert_true(s.ttd_ns == INT64_MAX - 100);
	json_decref(truth);
	json_decref(retracted);
	json_decref(extreme);
	json_decref(early);
	json_decref(late);
}

static void
test_undefined(void **state)
{
	json_t *truth = J("[{\"flow\":\"a\",\"intercepted\":false},"
	    "{\"flow\":\"b\",\"intercepted\":false}]");
	json_t *none = J("[]");
	struct score s;
	json_t *o;

	(void)state;
	assert_int_equal(score_compute(truth, none, &s, NULL), 0);
	assert_int_equal(s.tn, 2);
	assert_true(isnan(s.precision) && isnan(s.recall) && isnan(s.f1));
	assert_true(s.fpr == 0.0);
	assert_false(s.has_ttd);
	o = score_json(&s);
	assert_true(json_is_null(json_object_get(o, "precision")));
	assert_true(json_is_null(json_object_get(o, "ttd_ms")));
	json_decref(o);
	assert_int_equal(score_compute(none, none, &s, NULL), 0);
	assert_true(isnan(s.fpr));
	json_decref(truth);
	json_decref(none);
}

static void
test_all_missed(void **state)
{
	json_t *truth = J("[{\"flow\":\"a\",\"intercepted\":true,\"at\":1}]");
	json_t *det = J("[{\"flow\":\"a\",\"intercepted\":false,\"at\":2}]");
	struct score s;

	(void)state;
	assert_int_equal(score_compute(truth, det, &s, NULL), 0);
	assert_int_equal(s.fn, 1);
	assert_true(s.f1 == 0.0);
	assert_true(isnan(s.precision));
	assert_false(s.has_ttd);
	json_decref(truth);
	json_decref(det);
}

static void
test_malformed(void **state)
{
	json_t *good = J("[]"), *bad1 = J("{}"), *bad2 = J("[{\"flow\":1,\"intercepted\":true}]"),
	    *bad3 = J("[{\"flow\":\"a\",\"intercepted\":1}]");
	struct score s;
	char *cause = NULL;

	(void)state;
	assert_int_equal(score_compute(bad1, good, &s, NULL), -1);
	assert_int_equal(score_compute(good, bad2, &s, NULL), -1);
	assert_int_equal(score_compute(good, bad3, &s, &cause), -1);
	assert_non_null(cause);
	free(cause);
	json_decref(good);
	json_decref(bad1);
	json_decref(bad2);
	json_decref(bad3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_ttd_bounds),
		cmocka_unit_test(test_undefined),
		cmocka_unit_test(test_all_missed),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
