/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * leaf — cache, key and forge steps of interception. The per-worker certcache needs no lock;
 * the keypool request is the only cross-thread handoff, and it is cancelled by conn_close()
 * if the connection dies while parked. The cache keeps, with each forged certificate, the
 * proxy.forge facts (PEMs, hashes, key size) already serialized, so a hit costs one hash of
 * the upstream certificate and neither PEM encoding nor JSON escaping. Certificate forging
 * itself is forge.c's job.
 *
 * proxy.forge carries each certificate's PEM only up to LEAF_PEM_MAX (16 KiB; real leaves
 * take 2-3 KiB of PEM): a larger one has "orig_pem" / "forged_pem" null and
 * "orig_pem_omitted" / "forged_pem_omitted" true (the SHA-256 fields stay), so that an
 * origin's oversized certificate cannot make every connection's event hundreds of KiB (the
 * bus queues up to 100,000 events per worker while its forwarder is away). Events of normal
 * certificates are unchanged, byte for byte.
 *
 * Per-host keys (hostkey.h): a host — named by its certificate-cache key, (upstream leaf,
 * profile, SNI), so that a cache entry and its key agree — keeps one key for the process's
 * life (within the map's bound, --host-keys): a miss first asks the process-wide map; only a
 * host without a key takes one from the pool or parks, and a key that arrives is offered to
 * the map, which keeps the first one offered. A parked connection thus re-checks when its key
 * arrives: if another connection (of any worker) fixed the host's key meanwhile, it forges
 * with that one and gives its own back to the pool, where the next parked request takes it at
 * once. The map's mutex is taken on a certificate-cache miss only (a forgery follows), never
 * on a hit or while relaying: DESIGN's "no lock on the data path" is kept.
 *
 * Parked key requests: per-host keys come from one generator thread (about 6 RSA-2048 keys a
 * second per core), so a worker parks at most LEAF_KEYWAIT_MAX connections for a key; the next
 * one is closed at once with reason "keywait-full" (counted as keys_refused in proxy.stats)
 * instead of queueing behind more keys than the handshake timeout could see generated. A
 * parked client that closes leaves the queue at once (peek.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "bus.h"
#include "certcache.h"
#include "conn.h"
#include "forge.h"
#include "hostkey.h"
#include "intercept.h"
#include "keypool.h"
#include "leaf.h"
#include "log.h"
#include "peek.h"
#include "pki.h"
#include "proxy.h"
#include "worker.h"

/* Longest certificate PEM that proxy.forge carries (leaf.c's header). */
#define LEAF_PEM_MAX (16 * 1024)

/* Most connections one worker parks waiting for a key (leaf.c's header). */
#define LEAF_KEYWAIT_MAX 64

/* "per-host" / "per-process" / "ca". */
static const char *
leaf_strategy(enum forge_keymode m)
{
	return m == FORGE_KEY_PER_HOST ? "per-host" : m == FORGE_KEY_PER_PROCESS ?
	    "per-process" : "ca";
}

/* Certificate PEM (up to LEAF_PEM_MAX, else null and "<pemkey>_omitted": true) and SHA-256
 * hex into facts under the given keys. */
static void
leaf_cert_json(json_t *facts, const char *pemkey, const char *shakey, X509 *x)
{
	unsigned char sha[32];
	char hex[65], omitted[32], *pem = pki_cert_pem(x);

	if (pem != NULL && strlen(pem) > LEAF_PEM_MAX) {
		json_object_set_new(facts, pemkey, json_null());
		snprintf(omitted, sizeof(omitted), "%s_omitted", pemkey);
		json_object_set_new(facts, omitted, json_true());
	} else {
		json_object_set_new(facts, pemkey, pem ? json_string(pem) : json_null());
	}
	free(pem);
	if (pki_cert_sha256(x, sha) == 0)
		json_object_set_new(facts, shakey, json_string(util_hex(sha, 32, hex)));
	else
		json_object_set_new(facts, shakey, json_null());
}

/* The proxy.forge fields that depend only on the forged certificate (computed once per
 * forgery and cached with it): both PEMs and SHA-256s, key bits and RSA exponent, as a JSON
 * string holding their serialized members (bus_publish_members); NULL when out of memory. */
static json_t *
leaf_facts(X509 *orig, X509 *forged, EVP_PKEY *key)
{
	json_t *facts = json_object(), *members = NULL;
	BIGNUM *e = NULL;
	char *s;
	size_t len;

	if (facts == NULL)
		return NULL;
	leaf_cert_json(facts, "orig_pem", "orig_sha256", orig);
	leaf_cert_json(facts, "forged_pem", "forged_sha256", forged);
	json_object_set_new(facts, "key_bits", json_integer(EVP_PKEY_get_bits(key)));
	if (EVP_PKEY_is_a(key, "RSA") &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1)
		json_object_set_new(facts, "key_exponent", json_integer((json_int_t)BN_get_word(e)));
	else
		json_object_set_new(facts, "key_exponent", json_null());
	BN_free(e);
	if ((s = json_dumps(facts, JSON_COMPACT)) != NULL && (len = strlen(s)) > 2) {
		s[len - 1] = '\0';		/* {MEMBERS} → MEMBERS */
		members = json_string(s + 1);
	}
	free(s);
	json_decref(facts);
	return members;
}

/* Publish proxy.forge with the forgery's facts (may be NULL: out of memory). */
static void
leaf_publish(struct conn *c, json_t *facts, int hit, uint64_t forge_us)
{
	const struct forge_profile *fp = c->w->px->fp;
	json_t *ev = bus_prepare(c->w->bus, "proxy.forge");

	if (ev == NULL)
		return;
	json_object_set_new(ev, "flow", json_string(c->flow));
	json_object_set_new(ev, "profile", json_string(forge_profile_name(fp)));
	json_object_set_new(ev, "key_strategy", json_string(leaf_strategy(
	    forge_profile_keymode(fp))));
	json_object_set_new(ev, "cache_hit", json_boolean(hit));
	json_object_set_new(ev, "forge_us", json_integer((json_int_t)forge_us));
	json_object_set_new(ev, "key_waited", json_boolean(c->key_waited));
	json_object_set_new(ev, "untrusted_issuer", json_boolean(c->untrusted));
	worker_publish_members(c->w, ev, json_string_value(facts));
}

/* Forge with key (takes ownership); 1 on success, -1 marks c. */
static int
leaf_forge(struct conn *c, EVP_PKEY *key)
{
	struct worker *w = c->w;
	struct proxy *px = w->px;
	const char *sni = conn_sni(c);
	uint64_t t0 = util_mono_ns();
	char *cause = NULL;
	json_t *facts;
	X509 *x;

	x = forge_cert(px->fp, c->orig_leaf, sni, key, c->untrusted ? px->untrusted :
	    pki_ca_issuer(px->ca), c->untrusted ? px->untrusted_key : pki_ca_issuer_key(px->ca),
	    time(NULL), &cause);
	if (x == NULL) {
		EVP_PKEY_free(key);
		conn_term(c, "forge-failed", cause ? cause : "forge_cert failed");
		free(cause);
		return -1;
	}
	/* the facts exist for proxy.forge: without a bus nothing would read them */
	facts = bus_enabled(w->bus) ? leaf_facts(c->orig_leaf, x, key) : NULL;
	if (c->setup->cacheable)
		certcache_put(w->cache, c->setup->cache_key, x, key, facts);
	c->forged = x;
	c->leafkey = key;
	w->st.forges++;
	peek_stop(c);	/* the client leg's TLS takes the socket next */
	leaf_publish(c, facts, 0, (util_mono_ns() - t0) / 1000);
	json_decref(facts);
	return 1;
}

/* A new key (takes ownership) becomes the host's key, unless another connection of any
 * worker fixed one first: then that one is returned and the new key goes back to the pool
 * (the next waiting request gets it). Returns the key to forge with (caller owns it). */
static EVP_PKEY *
leaf_fix_key(struct conn *c, EVP_PKEY *key)
{
	struct proxy *px = c->w->px;
	EVP_PKEY *k, *surplus = NULL;

	if (px->hostkeys == NULL || !c->setup->cacheable)
		return key;	/* no name for the host: a key of its own, as before */
	k = hostkey_fix(px->hostkeys, c->setup->cache_key, key, &surplus);
	if (surplus != NULL) {
		log_debug("%s: the host's key was fixed meanwhile: forging with it, this key "
		    "goes back to the pool", c->flow);
		if (px->kp != NULL)
			keypool_give(px->kp, surplus);
		else
			EVP_PKEY_free(surplus);
	}
	return k;
}

/* The keypool delivered a key for a parked connection. */
static void
leaf_keycb(EVP_PKEY *key, void *arg)
{
	struct conn *c = arg;

	c->kreq = NULL;
	c->w->keywait--;
	if (key == NULL) {
		conn_close(c, "error", "the keypool delivered no key");
		return;
	}
	/* re-check: the host may have got its key while this connection was parked */
	if (leaf_forge(c, leaf_fix_key(c, key)) == 1)
		intercept_leaf_ready(c);
	conn_settle(c);
}

/* The host's key, a new one now, or park; NULL with *parked = 1 when parked. */
static EVP_PKEY *
leaf_host_key(struct conn *c, int *parked)
{
	struct proxy *px = c->w->px;
	EVP_PKEY *k;
	char *cause = NULL;

	/* on a certificate-cache miss only, as in leaf_fix_key: the host-key lock (hostkey.c)
	 * is never taken on a hit or while relaying */
	if (px->hostkeys != NULL && c->setup->cacheable &&
	    (k = hostkey_get(px->hostkeys, c->setup->cache_key)) != NULL)
		return k;
	if (px->kp == NULL) {	/* --keypool 0: generate on the connection's path */
		k = pki_keygen(forge_profile_key_bits(px->fp),
		    forge_profile_key_exponent(px->fp), &cause);
		if (k == NULL) {
			conn_term(c, "error", cause);
			free(cause);
			return NULL;
		}
		return leaf_fix_key(c, k);
	}
	if ((k = keypool_take(px->kp)) != NULL)
		return leaf_fix_key(c, k);
	if (c->w->keywait >= LEAF_KEYWAIT_MAX) {
		c->w->st.keys_refused++;
		conn_term(c, "keywait-full", "too many connections of this worker wait for a key");
		return NULL;
	}
	c->kreq = keypool_request(px->kp, c->w->base, leaf_keycb, c);
	if (c->kreq == NULL) {
		conn_term(c, "error", "keypool request failed");
		return NULL;
	}
	c->w->keywait++;
	c->key_waited = 1;
	c->w->st.keys_waited++;
	c->phase = CONN_KEYWAIT;
	*parked = 1;
	return NULL;
}

/* Cache hit, or key + forge. */
int
leaf_get(struct conn *c)
{
	struct worker *w = c->w;
	struct proxy *px = w->px;
	struct conn_setup *s = c->setup;
	const char *sni = conn_sni(c);
	EVP_PKEY *key = NULL;
	json_t *facts = NULL;
	int parked = 0;
	char pname[64];

	/* an untrusted forgery is another certificate than the trusted one for the same origin
	 * leaf: its own cache entry (and host key) */
	snprintf(pname, sizeof(pname), "%s%s", forge_profile_name(px->fp), c->untrusted ?
	    "+untrusted" : "");
	s->cacheable = certcache_key(c->orig_leaf, pname, sni, s->cache_key) == 0;
	if (s->cacheable && certcache_get(w->cache, s->cache_key, &c->forged, &c->leafkey,
	    &facts)) {
		w->st.cache_hits++;
		peek_stop(c);
		leaf_publish(c, facts, 1, 0);
		json_decref(facts);
		return 1;
	}
	w->st.cache_misses++;
	switch (forge_profile_keymode(px->fp)) {
	case FORGE_KEY_PER_HOST:
		if ((key = leaf_host_key(c, &parked)) == NULL)
			return parked ? 0 : -1;
		break;
	case FORGE_KEY_PER_PROCESS:
		key = px->proc_key;
		EVP_PKEY_up_ref(key);
		break;
	case FORGE_KEY_CA:
		key = pki_ca_issuer_key(px->ca);
		EVP_PKEY_up_ref(key);
		break;
	}
	return leaf_forge(c, key);
}
