/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sesscache — a bounded LRU of upstream TLS sessions for one worker thread (sesscache.h), on
 * lru.c. Each value is an SSL_SESSION reference of the map's own. Time is passed in, so expiry
 * can be tested without waiting.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lru.h"
#include "pki.h"
#include "sesscache.h"

_Static_assert(SESSCACHE_KEYLEN == LRU_KEYLEN, "sesscache keys are lru keys");

struct sesscache {
	struct lru		*map;
	struct sesscache_stats	 st;
};

/* The map's free function: drop the session reference. */
static void
sesscache_val_free(void *sess)
{
	SSL_SESSION_free(sess);
}

/* New cache of at most capacity sessions. */
struct sesscache *
sesscache_new(size_t capacity)
{
	struct sesscache *sc;

	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	if ((sc->map = lru_new(capacity, (size_t)1 << 24, sesscache_val_free)) == NULL) {
		free(sc);
		return NULL;
	}
	lru_set_budget(sc->map, capacity * LRU_ENTRY_BUDGET);
	return sc;
}

/* Free the cache and drop every session reference. */
void
sesscache_free(struct sesscache *sc)
{
	if (sc == NULL)
		return;
	lru_free(sc->map);
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
		ok = EVP_DigestInit_ex(mc, pki_sha256(), NULL) == 1 &&
		    EVP_DigestUpdate(mc, head, hl) == 1 &&
		    (snilen == 0 || EVP_DigestUpdate(mc, sni, snilen) == 1) &&
		    (extralen == 0 || EVP_DigestUpdate(mc, extra, extralen) == 1) &&
		    EVP_DigestFinal_ex(mc, key, &n) == 1;
	EVP_MD_CTX_free(mc);
	return ok ? 0 : -1;
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
	SSL_SESSION *sess = lru_get(sc->map, key);

	if (sess != NULL && sesscache_stale(sess, now)) {
		lru_remove(sc->map, key);
		sc->st.expired++;
		sess = NULL;
	}
	if (sess == NULL) {
		sc->st.misses++;
		return NULL;
	}
	sc->st.hits++;
	SSL_SESSION_up_ref(sess);
	return sess;
}

/* Insert or replace key's session with a new reference to sess. */
void
sesscache_put(struct sesscache *sc, const unsigned char key[SESSCACHE_KEYLEN],
    SSL_SESSION *sess, STACK_OF(X509) *chain)
{
	X509 *peer;
	const unsigned char *tick;
	size_t ticklen = 0, cost = 0;
	int evicted, der = 0, r, i;

	if (sess == NULL)
		return;
	/* what an origin makes large: its certificates (kept decoded, the whole chain it sent)
	 * and its ticket; the length of a received certificate's cached encoding costs no
	 * encoding */
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if ((der = i2d_X509(sk_X509_value(chain, i), NULL)) > 0)
			cost += LRU_CERT_COST(der);
	if (chain == NULL && (peer = SSL_SESSION_get0_peer(sess)) != NULL &&
	    (der = i2d_X509(peer, NULL)) > 0)
		cost += LRU_CERT_COST(der);
	SSL_SESSION_get0_ticket(sess, &tick, &ticklen);
	cost += ticklen;
	SSL_SESSION_up_ref(sess);
	if ((r = lru_put_cost(sc->map, key, sess, cost, &evicted)) != 0) {
		sc->st.too_big += r == 1;
		return;		/* a cache that cannot grow just misses later */
	}
	sc->st.evictions += (uint64_t)evicted;
	sc->st.inserts++;
}

/* Remove key's entry if it holds sess (or any session when sess is NULL). */
int
sesscache_drop(struct sesscache *sc, const unsigned char key[SESSCACHE_KEYLEN],
    const SSL_SESSION *sess)
{
	const SSL_SESSION *held = lru_peek(sc->map, key);

	if (held == NULL || (sess != NULL && held != sess))
		return 0;
	lru_remove(sc->map, key);
	sc->st.dropped++;
	return 1;
}

/* Copy the counters. */
void
sesscache_stats(const struct sesscache *sc, struct sesscache_stats *st)
{
	*st = sc->st;
	st->entries = lru_size(sc->map);
	st->capacity = lru_capacity(sc->map);
	st->bytes = lru_bytes(sc->map);
}
