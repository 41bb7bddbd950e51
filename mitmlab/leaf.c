/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * leaf — cache, key and forge steps of interception. The per-worker certcache needs no lock;
 * the keypool request is the only cross-thread handoff, and it is cancelled by conn_close()
 * if the connection dies while parked. Certificate forging itself is forge.c's job.
 */
#include <stdlib.h>
#include <time.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "bus.h"
#include "certcache.h"
#include "conn.h"
#include "forge.h"
#include "intercept.h"
#include "keypool.h"
#include "leaf.h"
#include "log.h"
#include "pki.h"
#include "proxy.h"
#include "worker.h"

/* "per-host" / "per-process" / "ca". */
static const char *
leaf_strategy(enum forge_keymode m)
{
	return m == FORGE_KEY_PER_HOST ? "per-host" : m == FORGE_KEY_PER_PROCESS ?
	    "per-process" : "ca";
}

/* Certificate PEM and SHA-256 hex into ev under the given keys. */
static void
leaf_cert_json(json_t *ev, const char *pemkey, const char *shakey, X509 *x)
{
	unsigned char sha[32];
	char hex[65], *pem = pki_cert_pem(x);

	json_object_set_new(ev, pemkey, pem ? json_string(pem) : json_null());
	free(pem);
	if (pki_cert_sha256(x, sha) == 0)
		json_object_set_new(ev, shakey, json_string(util_hex(sha, 32, hex)));
	else
		json_object_set_new(ev, shakey, json_null());
}

/* Publish proxy.forge. */
static void
leaf_publish(struct conn *c, int hit, uint64_t forge_us)
{
	const struct forge_profile *fp = c->w->px->fp;
	json_t *ev = bus_event("proxy.forge");
	BIGNUM *e = NULL;

	if (ev == NULL)
		return;
	json_object_set_new(ev, "flow", json_string(c->flow));
	json_object_set_new(ev, "profile", json_string(forge_profile_name(fp)));
	leaf_cert_json(ev, "orig_pem", "orig_sha256", c->orig_leaf);
	leaf_cert_json(ev, "forged_pem", "forged_sha256", c->forged);
	json_object_set_new(ev, "key_bits", json_integer(EVP_PKEY_get_bits(c->leafkey)));
	if (EVP_PKEY_is_a(c->leafkey, "RSA") &&
	    EVP_PKEY_get_bn_param(c->leafkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1)
		json_object_set_new(ev, "key_exponent", json_integer((json_int_t)BN_get_word(e)));
	else
		json_object_set_new(ev, "key_exponent", json_null());
	BN_free(e);
	json_object_set_new(ev, "key_strategy", json_string(leaf_strategy(
	    forge_profile_keymode(fp))));
	json_object_set_new(ev, "cache_hit", json_boolean(hit));
	json_object_set_new(ev, "forge_us", json_integer((json_int_t)forge_us));
	json_object_set_new(ev, "key_waited", json_boolean(c->key_waited));
	worker_publish(c->w, ev);
}

/* Forge with key (takes ownership); 1 on success, -1 marks c. */
static int
leaf_forge(struct conn *c, EVP_PKEY *key)
{
	struct worker *w = c->w;
	struct proxy *px = w->px;
	const char *sni = c->hello != NULL && c->hello->has_sni ? c->hello->sni : NULL;
	unsigned char ck[32];
	uint64_t t0 = util_mono_ns();
	char *cause = NULL;
	X509 *x;

	x = forge_cert(px->fp, c->orig_leaf, sni, key, pki_ca_issuer(px->ca),
	    pki_ca_issuer_key(px->ca), time(NULL), &cause);
	if (x == NULL) {
		EVP_PKEY_free(key);
		conn_term(c, "forge-failed", cause ? cause : "forge_cert failed");
		free(cause);
		return -1;
	}
	certcache_key(c->orig_leaf, forge_profile_name(px->fp), ck);
	certcache_put(w->cache, ck, x, key);
	c->forged = x;
	c->leafkey = key;
	w->st.forges++;
	leaf_publish(c, 0, (util_mono_ns() - t0) / 1000);
	return 1;
}

/* The keypool delivered a key for a parked connection. */
static void
leaf_keycb(EVP_PKEY *key, void *arg)
{
	struct conn *c = arg;

	c->kreq = NULL;
	if (key == NULL) {
		conn_close(c, "error", "the keypool delivered no key");
		return;
	}
	if (leaf_forge(c, key) == 1)
		intercept_leaf_ready(c);
	conn_settle(c);
}

/* A per-host key now, or park; NULL with *parked = 1 when parked. */
static EVP_PKEY *
leaf_host_key(struct conn *c, int *parked)
{
	struct proxy *px = c->w->px;
	EVP_PKEY *k;
	char *cause = NULL;

	if (px->kp == NULL) {	/* --keypool 0: generate on the connection's path */
		k = pki_keygen(forge_profile_key_bits(px->fp),
		    forge_profile_key_exponent(px->fp), &cause);
		if (k == NULL) {
			conn_term(c, "error", cause);
			free(cause);
		}
		return k;
	}
	if ((k = keypool_take(px->kp)) != NULL)
		return k;
	c->kreq = keypool_request(px->kp, c->w->base, leaf_keycb, c);
	if (c->kreq == NULL) {
		conn_term(c, "error", "keypool request failed");
		return NULL;
	}
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
	unsigned char ck[32];
	EVP_PKEY *key = NULL;
	int parked = 0;

	certcache_key(c->orig_leaf, forge_profile_name(px->fp), ck);
	if (certcache_get(w->cache, ck, &c->forged, &c->leafkey)) {
		w->st.cache_hits++;
		leaf_publish(c, 1, 0);
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
