/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webpki — the lab's mock PUBLIC web PKI: a root and an intermediate that the lab's clients
 * trust as "the web", and one certificate per origin site (ECDSA P-256 or RSA-2048) with the
 * site's host and aliases in its SAN. Files under DIR:
 *   root.pem                     the web root (the "public store" of the lab)
 *   int.pem                      the intermediate
 *   sites/HOST.pem .key .chain.pem   leaf, key (0600), leaf + intermediate
 *   client-ca.pem                root that origins requiring client certificates trust
 *   untrusted-root.pem           the root of sites with `cert: untrusted` (no store has it;
 *                                only when a site asks for it)
 * A site's `cert` (scenario.h) says how its leaf is issued: valid, self-signed (its chain file
 * is the leaf alone), expired (ended 30 days ago) or untrusted.
 * Keys of the CAs are kept only in memory (nothing in the lab needs to issue more later),
 * unless asked for: root.key int.key client-ca.key (0600), as `mitmlab run --keep-keys` does.
 */
#ifndef MITMLAB_WEBPKI_H
#define MITMLAB_WEBPKI_H

#include <stdint.h>
#include <time.h>

#include "scenario.h"

/* Origin leaves (and the web CAs) start this long before the time webpki_create is given. */
#define WEBPKI_LEAF_BACKDATE	86400L

/* Create the web PKI for every site of s under dir; keep_keys: also write the CAs' keys
 * (root.key, int.key, client-ca.key, mode 0600) for --keep-keys. */
int webpki_create(const char *dir, const struct scenario *s, uint64_t seed, time_t now,
    int keep_keys, char **cause);

#endif
