/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sesscache — a bounded LRU of upstream TLS sessions for one worker thread (sesscache.h). The
 * shape is certcache.c's: a chained hash table (power-of-two buckets, at least twice the
 * capacity, indexed by the key's first bytes, which are already a SHA-256) and a doubly linked
 * recency list, so get, put, drop and eviction are O(1). Each entry holds its own reference to
 * its SSL_SESSION. Time is passed in, so expiry can be tested without waiting.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sesscache.h"

struct sesscache_entry {
	unsigned char		 key[SESSCACHE_KEYLEN];
	SSL_SESSION		*sess;
	struct sesscache_entry	*hnext;			/* bucket chain */
	struct sesscache_entry	*prev, *next;		/* recency: head = most recent */
};

struct sesscache {
	struct sesscache_entry	**buckets;
	size_t			  nbuckets;		/* power of two */
	struct sesscache_entry	 *head, *tail;
	struct sesscache_stats	  st;
};

/* New cache of at most capacity sessions. */
struct sesscache *
sesscache_new(size_t capacity)
{
	struct sesscache *sc;
	size_t n = 16;

	if (capacity < 1 || capacity > ((size_t)1 << 24))
		return NULL;
	while (n < capacity * 2)
		n <<= 1;
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	if ((sc->buckets = calloc(n, sizeof(*sc->buckets))) == NULL) {
		free(sc);
		return NULL;
	}
	sc->nbuckets = n;
	sc->st.capacity = capacity;
	return sc;
}

/* Free the cache and drop every session reference. */
void
sesscache_free(struct sesscache *sc)
{
	struct sesscache_entry *e, *next;

	if (sc == NULL)
		return;
	for (e = sc->head; e != NULL; e = next) {
		next = e->next;
		SSL_SESSION_free(e->sess);
		free(e);
	}
	free(sc->buckets);
	free(sc);
}

/* SHA-256(family || address || port || hello || SNI length || SNI || extra). */
int
sesscache_key(const struct sockaddr *dst, const char *sni, int hello, const void *extra,
    size_t extralen, unsigned char key[SESSCACHE_KEYLEN])
{
	unsigned char head[1 + 16 + 2 + 4 + 2];
	size_t hl, snilen = sni != NULL ? strlen(sni) : 0;
	unsigned int n = SESSCACHE_KEYLEN;
	uint16_t port;
	EVP_MD_CTX *mc;
	int ok = 0;

	memset(head, 0, sizeof(head));
	head[0] = (unsigned char)dst->sa_family;
	if (dst->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)dst;
		memcpy(head + 1, &s4->sin_addr, 4);
		port = s4->sin_port;
	} else if (dst->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)dst;
		memcpy(head + 1, &s6->sin6_addr, 16);
		port = s6->sin6_port;
	} else
		return -1;
	memcpy(head + 17, &port, 2);		/* network order as stored */
	hl = 19;
	head[hl++] = (unsigned char)((unsigned)hello >> 24);
	head[hl++] = (unsigned char)((unsigned)hello >> 16);
	head[hl++] = (unsigned char)((unsigned)hello >> 8);
	head[hl++] = (unsigned char)hello;
	head[hl++] = (unsigned char)(snilen >> 8);	/* no SNI and "" both give 0 */
	head[hl++] = (unsigned char)snilen;
	if ((mc = EVP_MD_CTX_new()) != NULL)
		ok = EVP_DigestInit_ex(mc, EVP_sha256(), NULL) == 1 &&
		    EVP_DigestUpdate(mc, head, hl) == 1 &&
		    (snilen == 0 || EVP_DigestUpdate(mc, sni, snilen) == 1) &&
		    (extralen == 0 || EVP_DigestUpdate(mc, extra, extralen) == 1) &&
		    EVP_DigestFinal_ex(mc, key, &n) == 1;
	EVP_MD_CTX_free(mc);
	return ok ? 0 : -1;
}

/* The bucket-chain link that points at key's entry (or at the chain's NULL end). */
static struct sesscache_entry **
sesscache_slot(struct sesscache *sc, const unsigned char key[SESSCACHE_KEYLEN])
{
	struct sesscache_entry **pp;
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	pp = &sc->buckets[(size_t)h & (sc->nbuckets - 1)];
	while (*pp != NULL && memcmp((*pp)->key, key, SESSCACHE_KEYLEN) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

/* Unlink e from the recency list. */
static void
sesscache_unlink(struct sesscache *sc, struct sesscache_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		sc->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		sc->tail = e->prev;
	e->prev = e->next = NULL;
}

/* Put e at the most recent end. */
static void
sesscache_push_head(struct sesscache *sc, struct sesscache_entry *e)
{
	e->prev = NULL;
	e->next = sc->head;
	if (sc->head != NULL)
		sc->head->prev = e;
	sc->head = e;
	if (sc->tail == NULL)
		sc->tail = e;
}

/* Remove the entry *pp points at (from its chain and the recency list) and free it. */
static void
sesscache_remove(struct sesscache *sc, struct sesscache_entry **pp)
{
	struct sesscache_entry *e = *pp;

	*pp = e->hnext;
	sesscache_unlink(sc, e);
	SSL_SESSION_free(e->sess);
	free(e);
	sc->st.entries--;
}

/* Non-zero if sess can no longer be offered at now. */
static int
sesscache_stale(SSL_SESSION *sess, time_t now)
{
	long t = (long)SSL_SESSION_get_time(sess), life = SSL_SESSION_get_timeout(sess);
	unsigned long hint = SSL_SESSION_get_ticket_lifetime_hint(sess);

	if (!SSL_SESSION_is_resumable(sess))
		return 1;
	if (hint > 0 && hint < (unsigned long)life)
		life = (long)hint;
	return (long)now >= t + life;
}

/* Look up; a stale entry is dropped. */
SSL_SESSION *
sesscache_get(struct sesscache *sc, const unsigned char key[SESSCACHE_KEYLEN], time_t now)
{
	struct sesscache_entry **pp = sesscache_slot(sc, key), *e = *pp;

	if (e != NULL && sesscache_stale(e->sess, now)) {
		sesscache_remove(sc, pp);
		sc->st.expired++;
		e = NULL;
	}
	if (e == NULL) {
		sc->st.misses++;
		return NULL;
	}
	sc->st.hits++;
	sesscache_unlink(sc, e);
	sesscache_push_head(sc, e);
	SSL_SESSION_up_ref(e->sess);
	return e->sess;
}

/* Insert or replace key's session with a new reference to sess. */
void
sesscache_put(struct sesscache *sc, const unsigned char key[SESSCACHE_KEYLEN],
    SSL_SESSION *sess)
{
	struct sesscache_entry *e, **pp;

	if (sess == NULL)
		return;
	pp = sesscache_slot(sc, key);
	if ((e = *pp) != NULL) {
		SSL_SESSION_up_ref(sess);
		SSL_SESSION_free(e->sess);
		e->sess = sess;
		sesscache_unlink(sc, e);
		sesscache_push_head(sc, e);
		sc->st.inserts++;
		return;
	}
	if (sc->st.entries >= sc->st.capacity && sc->tail != NULL) {
		sesscache_remove(sc, sesscache_slot(sc, sc->tail->key));
		sc->st.evictions++;
		pp = sesscache_slot(sc, key);	/* eviction may have changed the chain */
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;		/* a cache that cannot grow just misses later */
	memcpy(e->key, key, SESSCACHE_KEYLEN);
	SSL_SESSION_up_ref(sess);
	e->sess = sess;
	e->hnext = *pp;
	*pp = e;
	sesscache_push_head(sc, e);
	sc->st.entries++;
	sc->st.inserts++;
}

/* Remove key's entry if it holds sess (or any session when sess is NULL). */
int
sesscache_drop(struct sesscache *sc, const unsigned char key[SESSCACHE_KEYLEN],
    const SSL_SESSION *sess)
{
	struct sesscache_entry **pp = sesscache_slot(sc, key);

	if (*pp == NULL || (sess != NULL && (*pp)->sess != sess))
		return 0;
	sesscache_remove(sc, pp);
	sc->st.dropped++;
	return 1;
}

/* Copy the counters. */
void
sesscache_stats(const struct sesscache *sc, struct sesscache_stats *st)
{
	*st = sc->st;
}
