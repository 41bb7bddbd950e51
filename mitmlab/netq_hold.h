/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_hold — the bounded timer queue behind the "delay" impairment: packets whose verdict is
 * withheld until a due time. A binary min-heap on the due time with a fixed capacity chosen at
 * creation; when it is full the caller gets -1 and must give the verdict at once (and count
 * it). Pure data structure: times are given by the caller, nothing sleeps.
 */
#ifndef MITMLAB_NETQ_HOLD_H
#define MITMLAB_NETQ_HOLD_H

#include <stddef.h>
#include <stdint.h>

struct netq_hold_item {
	uint64_t due_ns;
	uint32_t id;		/* the queue's packet id */
	uint32_t mark;		/* verdict mark to give */
	int	 set_mark;
};

struct netq_hold;

/* A queue of at most cap items (>= 1). */
struct netq_hold *netq_hold_new(size_t cap);
void netq_hold_free(struct netq_hold *h);
/* Add an item; -1 if the queue is full. */
int netq_hold_push(struct netq_hold *h, const struct netq_hold_item *it);
/* Remove the earliest item due at or before now_ns into *it; 0 if there was one, -1 if not. */
int netq_hold_pop_due(struct netq_hold *h, uint64_t now_ns, struct netq_hold_item *it);
/* Remove the earliest item regardless of time; -1 if empty. */
int netq_hold_pop(struct netq_hold *h, struct netq_hold_item *it);
/* Due time of the earliest item, 0 if empty. */
uint64_t netq_hold_next(const struct netq_hold *h);
size_t netq_hold_count(const struct netq_hold *h);

#endif
