/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proxy — the `mitmlab proxy` process: checks the configuration against itself, loads what every
 * worker shares read-only (policy, CA, chain, forging profile, per-process key, keypool, key
 * log), binds one SO_REUSEPORT listener per worker, runs the workers (worker.c) and turns
 * SIGTERM/SIGINT into a bounded drain. The struct is shared read-only by the workers, except
 * the atomic connection count (--max-conns is per process), the stop flag, and what the
 * keypool and the host-key map guard with their own locks.
 */
#ifndef MITMLAB_PROXY_H
#define MITMLAB_PROXY_H

#include <stdatomic.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"

struct policy;
struct pki_ca;
struct forge_profile;
struct keypool;
struct hostkey;
struct worker;

#define PROXY_DRAIN_MS 5000	/* grace for open connections after SIGTERM */

struct proxy {
	const struct config	   *cfg;
	struct policy		   *pol;
	struct pki_ca		   *ca;
	STACK_OF(X509)		   *chain;	/* served after the leaf */
	int			    chain_owned;
	/* a profile that signs with an untrusted CA when the upstream fails verification
	 * (Squid): that CA's certificate and key, and the chain served with such a leaf */
	X509			   *untrusted;
	EVP_PKEY		   *untrusted_key;
	STACK_OF(X509)		   *untrusted_chain;
	const struct forge_profile *fp;
	int			    verify;	/* --upstream-verify resolved */
	EVP_PKEY		   *proc_key;	/* FORGE_KEY_PER_PROCESS */
	struct keypool		   *kp;		/* FORGE_KEY_PER_HOST */
	struct hostkey		   *hostkeys;	/* FORGE_KEY_PER_HOST: host -> key (own lock) */
	OSSL_LIB_CTX		   *uplib;	/* the upstream legs' OpenSSL context (uplib.h) */
	int			    listen_port; /* of --listen: a flow to it here is not diverted */
	int			    nworkers;
	struct worker		  **workers;
	/* session-ticket keys every worker's client-facing SSL_CTX shares (name, HMAC and AES
	 * keys, 16 + 32 + 32 bytes, as SSL_CTX_set_tlsext_ticket_keys takes them), so that a
	 * client resumes whichever worker accepts it; random per run, never written anywhere */
	unsigned char		    ticket_keys[80];
	atomic_uint		    active;	/* open connections, all workers */
};

/* Run the engine until SIGTERM/SIGINT; 0 on a clean exit, -1 with *cause on setup errors. */
int proxy_run(const struct config *cfg, char **cause);

#endif
