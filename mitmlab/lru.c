/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lru — the bounded LRU map of lru.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"

struct lru_entry {
	unsigned char	 key[LRU_KEYLEN];
	void		*value;
	size_t		 cost;			/* bytes, as the caller estimated */
	struct lru_entry *hnext;		/* bucket chain */
	struct lru_entry *prev, *next;		/* recency: head = most recent */
};

struct lru {
	struct lru_entry **buckets;
	size_t		   nbuckets;		/* power of two */
	struct lru_entry  *head, *tail;
	size_t		   n, capacity;
	size_t		   bytes, budget;	/* sum of costs; budget 0: none */
	void		 (*free_value)(void *);
};

/* New map. */
struct lru *
lru_new(size_t capacity, size_t max, void (*free_value)(void *))
{
	struct lru *m;
	size_t n = 16;

	if (capacity < 1 || capacity > max || free_value == NULL)
		return NULL;
	while (n < capacity * 2)
		n <<= 1;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->buckets = calloc(n, sizeof(*m->buckets))) == NULL) {
		free(m);
		return NULL;
	}
	m->nbuckets = n;
	m->capacity = capacity;
	m->free_value = free_value;
	return m;
}

/* Free the map and every value. */
void
lru_free(struct lru *m)
{
	struct lru_entry *e, *next;

	if (m == NULL)
		return;
	for (e = m->head; e != NULL; e = next) {
		next = e->next;
		m->free_value(e->value);
		free(e);
	}
	free(m->buckets);
	free(m);
}

/* The bucket-chain link that points at key's entry (or at the chain's NULL end). */
static struct lru_entry **
lru_slot(const struct lru *m, const unsigned char key[LRU_KEYLEN])
{
	struct lru_entry **pp;
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	pp = &m->buckets[(size_t)h & (m->nbuckets - 1)];
	while (*pp != NULL && memcmp((*pp)->key, key, LRU_KEYLEN) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

/* Unlink e from the recency list. */
static void
lru_unlink(struct lru *m, struct lru_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		m->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		m->tail = e->prev;
	e->prev = e->next = NULL;
}

/* Put e at the most recent end. */
static void
lru_push_head(struct lru *m, struct lru_entry *e)
{
	e->prev = NULL;
	e->next = m->head;
	if (m->head != NULL)
		m->head->prev = e;
	m->head = e;
	if (m->tail == NULL)
		m->tail = e;
}

/* Remove the entry *pp points at from its chain and the recency list, and free it. */
static void
lru_drop(struct lru *m, struct lru_entry **pp)
{
	struct lru_entry *e = *pp;

	*pp = e->hnext;
	lru_unlink(m, e);
	m->free_value(e->value);
	m->bytes -= e->cost;
	free(e);
	m->n--;
}

/* Look up and mark most recent. */
void *
lru_get(struct lru *m, const unsigned char key[LRU_KEYLEN])
{
	struct lru_entry *e = *lru_slot(m, key);

	if (e == NULL)
		return NULL;
	lru_unlink(m, e);
	lru_push_head(m, e);
	return e->value;
}

/* Look up only. */
void *
lru_peek(const struct lru *m, const unsigned char key[LRU_KEYLEN])
{
	struct lru_entry *e = *lru_slot(m, key);

	return e != NULL ? e->value : NULL;
}

/* Insert or replace (no cost). */
int
lru_put(struct lru *m, const unsigned char key[LRU_KEYLEN], void *value, int *evicted)
{
	return lru_put_cost(m, key, value, 0, evicted);
}

/* Evict least recent values other than keep while over the count or the byte bound for a new
 * value of cost (need: the room one more value takes in the count, 0 or 1); how many. */
static int
lru_make_room(struct lru *m, const struct lru_entry *keep, size_t need, size_t cost)
{
	int n = 0;

	while (m->tail != NULL && m->tail != keep && (m->n + need > m->capacity ||
	    (m->budget > 0 && m->bytes + cost > m->budget))) {
		lru_drop(m, lru_slot(m, m->tail->key));
		n++;
	}
	return n;
}

/* Insert or replace, with a cost against the byte budget. */
int
lru_put_cost(struct lru *m, const unsigned char key[LRU_KEYLEN], void *value, size_t cost,
    int *evicted)
{
	struct lru_entry *e, **pp = lru_slot(m, key);
	int ev;

	if (evicted != NULL)
		*evicted = 0;
	if (m->budget > 0 && cost > m->budget) {
		m->free_value(value);
		return 1;
	}
	if ((e = *pp) != NULL) {
		m->free_value(e->value);
		e->value = value;
		m->bytes -= e->cost;
		lru_unlink(m, e);
		lru_push_head(m, e);
		ev = lru_make_room(m, e, 0, cost);
		e->cost = cost;
		m->bytes += cost;
		if (evicted != NULL)
			*evicted = ev;
		return 0;
	}
	if ((ev = lru_make_room(m, NULL, 1, cost)) > 0)
		pp = lru_slot(m, key);	/* the eviction may have changed key's chain */
	if (evicted != NULL)
		*evicted = ev;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		m->free_value(value);
		return -1;
	}
	memcpy(e->key, key, LRU_KEYLEN);
	e->value = value;
	e->cost = cost;
	e->hnext = *pp;
	*pp = e;
	lru_push_head(m, e);
	m->n++;
	m->bytes += cost;
	return 0;
}

/* Remove. */
int
lru_remove(struct lru *m, const unsigned char key[LRU_KEYLEN])
{
	struct lru_entry **pp = lru_slot(m, key);

	if (*pp == NULL)
		return 0;
	lru_drop(m, pp);
	return 1;
}

size_t
lru_size(const struct lru *m)
{
	return m->n;
}

size_t
lru_capacity(const struct lru *m)
{
	return m->capacity;
}

void
lru_set_budget(struct lru *m, size_t bytes)
{
	m->budget = bytes;
}

size_t
lru_bytes(const struct lru *m)
{
	return m->bytes;
}
