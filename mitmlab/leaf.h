/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * leaf — the forged certificate for an intercepted flow: certcache lookup by (origin leaf,
 * forging profile, SNI), else a key by the profile's strategy (per host: the host's key from
 * the process-wide hostkey map, else one from the keypool — possibly parking the connection
 * until the generator thread delivers —; one per process; or the CA's own) and forge_cert()
 * under the national issuer. Publishes proxy.forge for hits and misses.
 */
#ifndef MITMLAB_LEAF_H
#define MITMLAB_LEAF_H

struct conn;

/* Fill c->forged / c->leafkey from c->orig_leaf. 1: ready; 0: parked, intercept_leaf_ready()
 * follows from the keypool callback; -1: failed, c is marked for termination. */
int leaf_get(struct conn *c);

#endif
