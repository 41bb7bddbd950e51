/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * score — how well a detector's verdicts match the ground truth of one run. A flow is one
 * client connection; the universe is the set of flows the truth analyzer gave a verdict for
 * (one per client.result). A detector's prediction for a flow is its LAST verdict for that
 * flow; no verdict counts as "not intercepted". Verdicts for flows outside the universe are
 * counted as unmatched and not scored. Time to detection: from the first truly intercepted
 * flow (the smallest "at" among the truth's positive verdicts) to the detector's first verdict
 * that says "intercepted" about a truly intercepted flow (smallest "at"); "at" is the ts of the
 * event the verdict was based on, so a replay scores the same as the live run. Undefined
 * ratios (0/0) are NAN and become null in JSON. Pure: no I/O.
 */
#ifndef MITMLAB_SCORE_H
#define MITMLAB_SCORE_H

#include <stdint.h>

#include <jansson.h>

struct score {
	long	 flows;		/* universe size */
	long	 positives;	/* truly intercepted flows */
	long	 tp, fp, tn, fn;
	long	 unmatched;	/* detector verdicts about flows outside the universe */
	double	 precision, recall, f1, fpr;	/* NAN when undefined */
	int	 has_ttd;
	int64_t	 ttd_ns;	/* valid when has_ttd */
};

/* Score det (array of verdict objects: "flow", "intercepted", optional "at") against truth
 * (the same shape). -1 with *cause when either is not an array of such objects. */
int score_compute(const json_t *truth, const json_t *det, struct score *s, char **cause);
/* The score as a JSON object (new reference): counts, ratios (null if undefined), ttd_ms. */
json_t *score_json(const struct score *s);

#endif
