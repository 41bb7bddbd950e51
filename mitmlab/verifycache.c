/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verifycache — cached upstream chain verdicts (verifycache.h), on lru.c. The digest context
 * is made once per cache and the digest fetched once per process (pki_sha256), not per
 * connection: OpenSSL 3.0's implicit fetches cost more than hashing two certificates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include "lru.h"
#include "pki.h"
#include "verifycache.h"

struct verifycache {
	struct lru			*map;
	int				 ttl;
	time_t				(*clock)(void);
	EVP_MD_CTX			*mc;
	struct verifycache_stats	 st;
	/* the trusted store's earliest validity bound at or after store_at, kept so that a miss
	 * does not walk the whole store (a system bundle holds about 140 roots); valid while the
	 * store and its object count stay the same (X509_STORE only grows) and the clock stays
	 * within [store_at, store_next] */
	const X509_STORE		*store;
	int				 store_n;
	time_t				 store_at, store_next;
};

/* Later than any validity bound. */
#define VERIFYCACHE_NEVER ((time_t)(sizeof(time_t) == 8 ? INT64_MAX : INT32_MAX))

/* One kept verdict. */
struct verifycache_entry {
	int		 code;		/* X509_V_* */
	time_t		 made;		/* not used before this second (the clock stepped back) */
	time_t		 until;		/* nor from this second on */
	STACK_OF(X509)	*sent;		/* the chain as sent, leaf first, decoded once and lent
					 * to every hit (references); NULL: none kept */
};

/* Free one kept verdict and its chain (the map's value destructor). */
static void
verifycache_entry_free(void *p)
{
	struct verifycache_entry *e = p;

	if (e == NULL)
		return;
	sk_X509_pop_free(e->sent, X509_free);
	free(e);
}

/* The default clock. */
static time_t
verifycache_now(void)
{
	return time(NULL);
}

/* New cache. */
struct verifycache *
verifycache_new(size_t capacity, int ttl)
{
	struct verifycache *vc;

	if (ttl < 1 || (vc = calloc(1, sizeof(*vc))) == NULL)
		return NULL;
	vc->ttl = ttl;
	vc->clock = verifycache_now;
	vc->map = lru_new(capacity, (size_t)1 << 24, verifycache_entry_free);
	if (vc->map != NULL)
		lru_set_budget(vc->map, capacity * LRU_ENTRY_BUDGET);
	vc->mc = EVP_MD_CTX_new();
	if (vc->map == NULL || pki_sha256() == NULL || vc->mc == NULL) {
		verifycache_free(vc);
		return NULL;
	}
	return vc;
}

/* Free the cache. */
void
verifycache_free(struct verifycache *vc)
{
	if (vc == NULL)
		return;
	lru_free(vc->map);
	EVP_MD_CTX_free(vc->mc);
	free(vc);
}

/* Replace the clock. */
void
verifycache_set_clock(struct verifycache *vc, time_t (*clock)(void))
{
	vc->clock = clock != NULL ? clock : verifycache_now;
}

/* Counters and occupancy. */
void
verifycache_stats(const struct verifycache *vc, struct verifycache_stats *st)
{
	*st = vc->st;
	st->entries = lru_size(vc->map);
	st->capacity = lru_capacity(vc->map);
	st->bytes = lru_bytes(vc->map);
}

/* 0 if the answer for these parameters depends on more than the chain and its times. */
static int
verifycache_cacheable(X509_STORE_CTX *xs)
{
	X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(xs);
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	unsigned long bad = X509_V_FLAG_USE_CHECK_TIME | X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL;
	char *ip;
	int named;

	if (p == NULL || (X509_VERIFY_PARAM_get_flags(p) & bad) != 0)
		return 0;
	if (ssl != NULL && (SSL_get_verify_callback(ssl) != NULL || SSL_ct_is_enabled(ssl)))
		return 0;		/* a callback may overrule errors; CT needs the built chain */
	if (X509_STORE_get_verify_cb(X509_STORE_CTX_get0_store(xs)) != NULL)
		return 0;
	ERR_set_mark();			/* the getters queue an error when nothing is set */
	named = X509_VERIFY_PARAM_get0_host(p, 0) != NULL ||
	    X509_VERIFY_PARAM_get0_email(p) != NULL;
	if ((ip = X509_VERIFY_PARAM_get1_ip_asc(p)) != NULL) {
		named = 1;
		OPENSSL_free(ip);
	}
	ERR_pop_to_mark();
	return !named;
}

/* Hash one certificate's DER, length first. */
static int
verifycache_hash_cert(EVP_MD_CTX *mc, X509 *x, size_t *cost)
{
	unsigned char *der = NULL, len[4];
	int n, ok;

	if ((n = i2d_X509(x, &der)) <= 0)
		return 0;
	len[0] = (unsigned char)((unsigned)n >> 24);
	len[1] = (unsigned char)((unsigned)n >> 16);
	len[2] = (unsigned char)((unsigned)n >> 8);
	len[3] = (unsigned char)n;
	*cost += LRU_CERT_COST(n);
	ok = EVP_DigestUpdate(mc, len, sizeof(len)) == 1 && EVP_DigestUpdate(mc, der,
	    (size_t)n) == 1;
	OPENSSL_free(der);
	return ok;
}

/* SHA-256(auth level || flags || depth || each sent certificate, leaf first); -1 on failure. */
static int
verifycache_key(struct verifycache *vc, X509_STORE_CTX *xs, unsigned char key[LRU_KEYLEN],
    size_t *cost)
{
	X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(xs);
	X509 *leaf = X509_STORE_CTX_get0_cert(xs), *x;
	STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(xs);
	uint64_t head[3];
	unsigned int n = LRU_KEYLEN;
	int i;

	if (leaf == NULL)
		return -1;
	head[0] = (uint64_t)(int64_t)X509_VERIFY_PARAM_get_auth_level(p);
	head[1] = (uint64_t)X509_VERIFY_PARAM_get_flags(p);
	head[2] = (uint64_t)(int64_t)X509_VERIFY_PARAM_get_depth(p);
	if (EVP_DigestInit_ex(vc->mc, pki_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(vc->mc, head, sizeof(head)) != 1 ||
	    !verifycache_hash_cert(vc->mc, leaf, cost))
		return -1;
	for (i = 0; i < sk_X509_num(sent); i++)
		if ((x = sk_X509_value(sent, i)) != leaf && !verifycache_hash_cert(vc->mc, x, cost))
			return -1;
	return EVP_DigestFinal_ex(vc->mc, key, &n) == 1 ? 0 : -1;
}

/* Pull *until in to the first of x's validity bounds still ahead of now; 0 if unreadable. */
static int
verifycache_bound(X509 *x, time_t now, time_t *until)
{
	const ASN1_TIME *t[2] = { X509_get0_notBefore(x), X509_get0_notAfter(x) };
	time_t s;
	int i;

	for (i = 0; i < 2; i++) {
		if (pki_time_t(t[i], &s) == -1)
			return 0;
		if (s >= now && s < *until)
			*until = s;
	}
	return 1;
}

/* The trusted store's earliest validity bound at or after now (VERIFYCACHE_NEVER: none); -1 if a time is
 * unreadable. */
static time_t
verifycache_store_next(struct verifycache *vc, X509_STORE *store, time_t now)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	time_t next = VERIFYCACHE_NEVER;
	X509 *x;
	int j, n = sk_X509_OBJECT_num(objs);

	if (store == vc->store && n == vc->store_n && vc->store_at <= now && now <= vc->store_next)
		return vc->store_next;
	for (j = 0; j < n; j++)
		if ((x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, j))) != NULL &&
		    !verifycache_bound(x, now, &next))
			return -1;
	vc->store = store;
	vc->store_n = n;
	vc->store_at = now;
	vc->store_next = next;
	return next;
}

/*
 * Until when a verdict reached at now may be replayed: the ttl, pulled in by every validity
 * bound still ahead among the sent certificates, the chain the verifier built and the trusted
 * store's certificates (one that is not yet valid could build another chain later; their
 * earliest bound is remembered, verifycache_store_next). now (do not keep) if a time is
 * unreadable.
 */
static time_t
verifycache_until(struct verifycache *vc, X509_STORE_CTX *xs, time_t now)
{
	STACK_OF(X509) *sk[2] = { X509_STORE_CTX_get0_untrusted(xs),
	    X509_STORE_CTX_get0_chain(xs) };
	time_t until = now + vc->ttl, store_next;
	int i, j;

	if (!verifycache_bound(X509_STORE_CTX_get0_cert(xs), now, &until))
		return now;
	for (i = 0; i < 2; i++)
		for (j = 0; j < sk_X509_num(sk[i]); j++)
			if (!verifycache_bound(sk_X509_value(sk[i], j), now, &until))
				return now;
	if ((store_next = verifycache_store_next(vc, X509_STORE_CTX_get0_store(xs), now)) == -1)
		return now;
	return store_next < until ? store_next : until;
}

/* 0 for verdicts that say nothing about the chain: the verifier itself failed. */
static int
verifycache_keepable(int code)
{
	return code != X509_V_ERR_UNSPECIFIED && code != X509_V_ERR_OUT_OF_MEM &&
	    code != X509_V_ERR_STORE_LOOKUP;
}

/* The chain the origin sent, if it is what the key hashed in that order (leaf first, as the
 * TLS client passes it); NULL otherwise. */
static STACK_OF(X509) *
verifycache_sent(X509_STORE_CTX *xs)
{
	STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(xs);

	if (sk_X509_num(sent) < 1 || sk_X509_value(sent, 0) != X509_STORE_CTX_get0_cert(xs))
		return NULL;
	return sent;
}

/* Keep code for key from now until until, with references to the sent chain. */
static void
verifycache_keep(struct verifycache *vc, X509_STORE_CTX *xs,
    const unsigned char key[LRU_KEYLEN], int code, time_t now, time_t until, size_t cost)
{
	STACK_OF(X509) *sent = verifycache_sent(xs);
	struct verifycache_entry *e;
	int evicted = 0;

	if ((e = malloc(sizeof(*e))) == NULL)
		return;
	e->code = code;
	e->made = now;
	e->until = until;
	e->sent = sent != NULL ? X509_chain_up_ref(sent) : NULL;	/* NULL: nothing to lend */
	switch (lru_put_cost(vc->map, key, e, cost, &evicted)) {
	case 0:
		vc->st.inserts++;
		break;
	case 1:
		vc->st.too_big++;
		break;
	}
	vc->st.evictions += (uint64_t)evicted;
}

/*
 * On a hit, put the kept certificates in place of the ones just decoded from the handshake
 * (same DER: the key hashed every byte of both), in the chain the TLS client passed and in the
 * store context's leaf, and free the new ones. OpenSSL 3.0 passes the session's peer chain
 * itself and reads the leaf back from it after this callback, so every connection of one
 * chain holds one decoded copy (about 5 KiB a certificate) instead of its own; if a release
 * passed a copy instead, nothing would be shared, and nothing would break either (the stack's
 * owner frees what it holds). test_verifycache checks the sharing through real handshakes.
 */
static void
verifycache_lend(struct verifycache *vc, X509_STORE_CTX *xs, STACK_OF(X509) *kept)
{
	STACK_OF(X509) *sent = verifycache_sent(xs);
	X509 *x, *old;
	int i, n = sk_X509_num(kept);

	if (sent == NULL || n < 1 || sk_X509_num(sent) != n)
		return;
	for (i = 0; i < n; i++) {
		x = sk_X509_value(kept, i);
		if ((old = sk_X509_value(sent, i)) == x || !X509_up_ref(x))
			continue;
		sk_X509_set(sent, i, x);
		if (i == 0)
			X509_STORE_CTX_set_cert(xs, x);
		X509_free(old);
		vc->st.shared++;
	}
}

/* The context's verification: a kept verdict, or X509_verify_cert and keep its verdict. */
static int
verifycache_verify(X509_STORE_CTX *xs, void *arg)
{
	struct verifycache *vc = arg;
	struct verifycache_entry *e;
	unsigned char key[LRU_KEYLEN];
	time_t now = vc->clock(), until;
	size_t cost = 0;
	int rc, code;

	if (!verifycache_cacheable(xs) || verifycache_key(vc, xs, key, &cost) == -1) {
		vc->st.uncached++;
		return X509_verify_cert(xs);
	}
	if ((e = lru_get(vc->map, key)) != NULL) {
		if (e->made <= now && now < e->until) {
			vc->st.hits++;
			verifycache_lend(vc, xs, e->sent);
			X509_STORE_CTX_set_error(xs, e->code);
			return e->code == X509_V_OK;
		}
		lru_remove(vc->map, key);
		vc->st.expired++;
	}
	vc->st.misses++;
	rc = X509_verify_cert(xs);
	code = X509_STORE_CTX_get_error(xs);
	if (rc < 0 || (rc == 1) != (code == X509_V_OK) || !verifycache_keepable(code))
		return rc;		/* internal error or an overruled failure: not kept */
	if ((until = verifycache_until(vc, xs, now)) > now)
		verifycache_keep(vc, xs, key, code, now, until, cost);
	return rc;
}

/* Make vc the verification of ctx. */
void
verifycache_attach(SSL_CTX *ctx, struct verifycache *vc)
{
	SSL_CTX_set_cert_verify_callback(ctx, verifycache_verify, vc);
}
