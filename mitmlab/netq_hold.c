/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_hold — fixed-capacity min-heap of held packet verdicts (netq_hold.h). Ties keep no
 * particular order; callers that need FIFO for equal delays get it from increasing due times.
 */
#include <stdlib.h>

#include "netq_hold.h"

struct netq_hold {
	size_t	 n, cap;
	struct netq_hold_item *v;
};

/* Create. */
struct netq_hold *
netq_hold_new(size_t cap)
{
	struct netq_hold *h;

	if (cap == 0 || (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->v = calloc(cap, sizeof(*h->v))) == NULL) {
		free(h);
		return NULL;
	}
	h->cap = cap;
	return h;
}

/* Free. */
void
netq_hold_free(struct netq_hold *h)
{
	if (h == NULL)
		return;
	free(h->v);
	free(h);
}

/* Earlier-than for heap order: due time, then packet id (queue order). */
static int
netq_hold_less(const struct netq_hold_item *a, const struct netq_hold_item *b)
{
	if (a->due_ns != b->due_ns)
		return a->due_ns < b->due_ns;
	return a->id < b->id;
}

/* Insert. */
int
netq_hold_push(struct netq_hold *h, const struct netq_hold_item *it)
{
	size_t i, p;
	struct netq_hold_item tmp;

	if (h->n == h->cap)
		return -1;
	i = h->n++;
	h->v[i] = *it;
	while (i > 0) {
		p = (i - 1) / 2;
		if (!netq_hold_less(&h->v[i], &h->v[p]))
			break;
		tmp = h->v[p];
		h->v[p] = h->v[i];
		h->v[i] = tmp;
		i = p;
	}
	return 0;
}

/* Remove the root. */
int
netq_hold_pop(struct netq_hold *h, struct netq_hold_item *it)
{
	size_t i = 0, l, r, m;
	struct netq_hold_item tmp;

	if (h->n == 0)
		return -1;
	*it = h->v[0];
	h->v[0] = h->v[--h->n];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < h->n && netq_hold_less(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && netq_hold_less(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			break;
		tmp = h->v[m];
		h->v[m] = h->v[i];
		h->v[i] = tmp;
		i = m;
	}
	return 0;
}

/* Remove the root if due. */
int
netq_hold_pop_due(struct netq_hold *h, uint64_t now_ns, struct netq_hold_item *it)
{
	if (h->n == 0 || h->v[0].due_ns > now_ns)
		return -1;
	return netq_hold_pop(h, it);
}

/* Earliest due time. */
uint64_t
netq_hold_next(const struct netq_hold *h)
{
	return h->n == 0 ? 0 : h->v[0].due_ns;
}

/* Items held. */
size_t
netq_hold_count(const struct netq_hold *h)
{
	return h->n;
}
