/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proxy — process setup and teardown for `mitmlab proxy`: compile the policy, resolve the
 * forging profile and verification, load the national CA (its current or, with --ca-issuer
 * expired, its expired issuer, key and chain) when a rule can intercept, prepare the
 * per-process key or the keypool and the host-key map, open the key log, bind one
 * SO_REUSEPORT listener per worker (IP_TRANSPARENT in tproxy mode; refused where another
 * process listens, checked before binding and again after), start the workers and
 * wait for SIGTERM/SIGINT, then drain them (bounded by PROXY_DRAIN_MS) and free everything.
 * Only cmd_proxy exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/thread.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "bus.h"
#include "forge.h"
#include "hostkey.h"
#include "keylog.h"
#include "keypool.h"
#include "listeners.h"
#include "log.h"
#include "pki.h"
#include "policy.h"
#include "proxy.h"
#include "uplib.h"
#include "worker.h"

/* Compile rules, target lists, default and --allow-upstream into px->pol. */
static int
proxy_policy(struct proxy *px, char **cause)
{
	const struct config *cfg = px->cfg;
	enum policy_action def;
	size_t i;

	if ((px->pol = policy_new()) == NULL)
		return util_cause(cause, "out of memory");
	for (i = 0; i < cfg->nrules; i++) {
		const struct config_rule *r = &cfg->rules[i];
		if (r->kind == CONFIG_RULE_LIST ? policy_load_list(px->pol, r->text, cause) :
		    policy_add_rule(px->pol, r->text, r->origin, cause))
			return -1;
	}
	if (policy_action_parse(cfg->default_action, &def) == -1)
		return util_cause(cause, "--default: unknown action \"%s\" (known: intercept, "
		    "splice, block-reset, block-timeout)", cfg->default_action);
	policy_set_default(px->pol, def);
	for (i = 0; i < cfg->nallow; i++)
		if (policy_add_allow(px->pol, cfg->allow[i], "--allow-upstream", cause) == -1)
			return -1;
	if (policy_nallow(px->pol) == 0)
		return util_cause(cause, "--allow-upstream CIDR is required: the lab's own origin "
		    "subnets (the engine never connects anywhere else)");
	return 0;
}

/* CPUs the engine may run on (its affinity mask), at least 1: what --workers 0 and
 * --keygen-threads 0 count, so that an engine pinned with taskset starts no more threads than
 * it has CPUs. */
static int
proxy_cpus(void)
{
	cpu_set_t set;
	int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;

	return n < 1 ? 1 : n;
}

/* The key pool's generator threads: --keygen-threads, or one per CPU this process may run on
 * (a proxy pinned to one core gets one: a second would only take turns with it), at most
 * PROXY_KEYGEN_THREADS_AUTO. Per-host keys are made on these threads only, so once a run has
 * met more new hosts than the pool held, they set how fast it forges (kz2019: RSA-2048 e=3
 * keys, 6-8 a second per thread on the bench machine). */
#define PROXY_KEYGEN_THREADS_AUTO 4

static int
proxy_keygen_threads(const struct config *cfg)
{
	int n;

	if (cfg->keygen_threads > 0)
		return cfg->keygen_threads;
	n = proxy_cpus();
	return n > PROXY_KEYGEN_THREADS_AUTO ? PROXY_KEYGEN_THREADS_AUTO : n;
}

/* Profile, CA, chain and keys: everything interception needs. */
static int
proxy_pki(struct proxy *px, char **cause)
{
	const struct config *cfg = px->cfg;
	enum forge_keymode km;

	if ((px->fp = forge_profile_find(cfg->profile)) == NULL)
		return util_cause(cause, "--profile: unknown forging profile \"%s\" (known: %s)",
		    cfg->profile, forge_profile_names());
	px->verify = cfg->upstream_verify == -1 ? forge_profile_verifies_upstream(px->fp) :
	    cfg->upstream_verify;
	if (!policy_can_intercept(px->pol))
		return 0;
	if (cfg->upstream_verify == -1 && px->verify && cfg->upstream_cafile == NULL) {
		log_info("profile %s verifies upstream, but there is no --upstream-cafile: "
		    "upstream verification off", cfg->profile);
		px->verify = 0;
	}
	if (cfg->ca_dir == NULL)
		return util_cause(cause, "--ca DIR is needed: a rule or the default intercepts "
		    "(make one with `mitmlab ca init --out DIR`)");
	if ((px->verify || cfg->require_valid) && cfg->upstream_cafile == NULL)
		return util_cause(cause, "%s needs --upstream-cafile FILE (the lab's web roots)%s",
		    cfg->require_valid ? "--require-valid-upstream" : "upstream verification",
		    cfg->require_valid ? "" : "; or give --upstream-verify off");
	/* the expired variant signs with the expired intermediate's key too, not only serves it */
	if (cfg->ca_issuer == CONFIG_CA_EXPIRED) {
		char *why = NULL;
		if ((px->ca = pki_ca_load_expired(cfg->ca_dir, &why)) == NULL) {
			util_cause(cause, "--ca-issuer expired: %s (only an isca-2024 CA has an "
			    "expired issuer: `mitmlab ca init --profile isca-2024`)",
			    why != NULL ? why : "cannot load it");
			free(why);
			return -1;
		}
	} else {
		char *why = NULL, key[PATH_MAX], cert[PATH_MAX];
		if ((px->ca = pki_ca_load(cfg->ca_dir, &why)) == NULL) {
			/* a CA whose certificates are there but not its issuer's key: a run's
			 * pki/national, whose keys the runner removes */
			snprintf(cert, sizeof(cert), "%s/issuer.pem", cfg->ca_dir);
			snprintf(key, sizeof(key), "%s/issuer.key", cfg->ca_dir);
			util_cause(cause, "--ca %s: %s%s", cfg->ca_dir, why != NULL ? why :
			    "cannot load it", access(cert, F_OK) == 0 && access(key, F_OK) == -1 ?
			    " (a run keeps its CA's keys only with --keep-keys; make a CA with "
			    "`mitmlab ca init --out DIR`)" : "");
			free(why);
			return -1;
		}
	}
	if (cfg->chain != NULL) {
		char *why = NULL;
		if ((px->chain = pki_read_certs(cfg->chain, &why)) == NULL) {
			util_cause(cause, "--chain %s: %s", cfg->chain, why != NULL ? why :
			    "cannot read it");
			free(why);
			return -1;
		}
		px->chain_owned = 1;
	} else
		px->chain = pki_ca_chain(px->ca);
	if (px->verify && forge_profile_signs_untrusted(px->fp)) {
		if (pki_untrusted_ca(pki_ca_issuer(px->ca), &px->untrusted, &px->untrusted_key,
		    cause) == -1)
			return -1;
		if ((px->untrusted_chain = sk_X509_new_null()) == NULL ||
		    !X509_up_ref(px->untrusted))
			return util_cause(cause, "the untrusted signing CA's chain: out of memory");
		if (!sk_X509_push(px->untrusted_chain, px->untrusted)) {
			X509_free(px->untrusted);	/* the reference the stack did not take */
			return util_cause(cause, "the untrusted signing CA's chain: out of memory");
		}
	}
	km = forge_profile_keymode(px->fp);
	if (km == FORGE_KEY_PER_PROCESS && (px->proc_key = pki_keygen(
	    forge_profile_key_bits(px->fp), forge_profile_key_exponent(px->fp), cause)) == NULL)
		return -1;
	if (km == FORGE_KEY_PER_HOST) {
		/* one key now: a configuration that refuses the profile's keys (a FIPS provider
		 * refuses e=3) fails here, not as every connection parked in keywait */
		char *why = NULL;
		EVP_PKEY *probe = pki_keygen(forge_profile_key_bits(px->fp),
		    forge_profile_key_exponent(px->fp), &why);
		if (probe == NULL) {
			util_cause(cause, "--profile %s: %s (this OpenSSL refuses the profile's "
			    "keys: check its configuration, OPENSSL_CONF, for a FIPS provider)",
			    forge_profile_name(px->fp), why != NULL ? why : "key generation failed");
			free(why);
			return -1;
		}
		if (cfg->keypool > 0 && (px->kp = keypool_new(forge_profile_key_bits(px->fp),
		    forge_profile_key_exponent(px->fp), (size_t)cfg->keypool,
		    proxy_keygen_threads(cfg), cause)) == NULL) {
			EVP_PKEY_free(probe);
			return -1;
		}
		if (px->kp != NULL) {
			struct keypool_stats ks;

			keypool_seed(px->kp, probe);	/* the pool's first key */
			keypool_stats(px->kp, &ks);
			log_info("keypool: %d keys ahead, %d generator thread(s)", cfg->keypool,
			    ks.threads);
		} else
			EVP_PKEY_free(probe);
	}
	return 0;
}

/* The per-host key profiles' host -> key map: --host-keys, or by default PROXY_HOSTKEYS_PER
 * times as many hosts as all the workers' certificate caches hold together. More than they
 * hold, because the map is touched only on misses while a cache keeps its hot hosts by their
 * hits: a host one cache keeps serving must still be in the map when another worker, or the
 * same one after an eviction, misses it. A host held by a cache costs the map an entry
 * (about 100 bytes: the key is shared); one no cache holds any more, its key (an RSA-2048
 * key measured 2.1 KB before use, more once its signing caches fill). */
#define PROXY_HOSTKEYS_PER 4
/* The default's ceiling: the map's bucket array is allocated whole at start (two pointers a
 * host), so a large --cache-size must not make it gigabytes; --host-keys can go up to 4 M. */
#define PROXY_HOSTKEYS_DEFAULT_MAX ((size_t)1 << 20)

static int
proxy_hostkeys(struct proxy *px, char **cause)
{
	size_t n;

	if (px->fp == NULL || forge_profile_keymode(px->fp) != FORGE_KEY_PER_HOST ||
	    !policy_can_intercept(px->pol))
		return 0;
	n = px->cfg->host_keys > 0 ? (size_t)px->cfg->host_keys : PROXY_HOSTKEYS_PER *
	    (size_t)px->cfg->cache_size * (size_t)px->nworkers;
	if (px->cfg->host_keys == 0 && n > PROXY_HOSTKEYS_DEFAULT_MAX)
		n = PROXY_HOSTKEYS_DEFAULT_MAX;
	if (n > HOSTKEY_MAX)
		n = HOSTKEY_MAX;
	if ((px->hostkeys = hostkey_new(n)) == NULL)
		return util_cause(cause, "out of memory for a host-key map of %zu hosts "
		    "(--host-keys)", n);
	return 0;
}

/* A TCP socket for --listen with SO_REUSEADDR (a previous engine's TIME_WAIT connections do
 * not count), its address in ss; -1 with *cause. */
static int
proxy_listen_new(const struct config *cfg, int flags, struct sockaddr_storage *ss,
    socklen_t *len, char **cause)
{
	int l, fd, one = 1;

	if ((l = util_parse_hostport(cfg->listen, ss, cause)) == -1)
		return -1;
	*len = (socklen_t)l;
	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0)) == -1)
		return util_cause(cause, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return fd;
}

/* One listening socket (SO_REUSEPORT; IP_TRANSPARENT in tproxy mode); its inode in *ino and
 * whether it is IPv6-only in *v6only. */
static int
proxy_listen_socket(const struct config *cfg, int *port, unsigned long *ino, int *v6only,
    char **cause)
{
	struct sockaddr_storage ss;
	struct stat st;
	socklen_t len, olen = sizeof(*v6only);
	int fd, one = 1;

	if ((fd = proxy_listen_new(cfg, SOCK_NONBLOCK, &ss, &len, cause)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1)
		goto fail;
	if (cfg->mode == CONFIG_MODE_TPROXY && (ss.ss_family == AF_INET6 ?
	    setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)) :
	    setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one))) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 || listen(fd, 1024) == -1 ||
	    fstat(fd, &st) == -1)
		goto fail;
	*port = util_sa_port((struct sockaddr *)&ss);
	*ino = (unsigned long)st.st_ino;
	if (ss.ss_family != AF_INET6 || getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only,
	    &olen) == -1)
		*v6only = 0;
	return fd;
fail:
	util_cause(cause, "--listen %s: %s", cfg->listen, strerror(errno));
	close(fd);
	return -1;
}

#define PROXY_LISTEN_BUSY "another process already listens there (an engine left running, " \
	"or started at the same moment? `ss -ltnp` in this namespace names it)"

/* Refuse an address another process listens on. Every worker's socket sets SO_REUSEPORT,
 * which would let this engine join another's listening group (a forgotten `mitmlab proxy`
 * in the same namespace) and silently take part of its connections; a socket without it
 * cannot bind there. Checked before binding, so that a running engine loses no connection
 * to this one; proxy_listen_alone checks again once this engine listens. */
static int
proxy_listen_free(const struct config *cfg, char **cause)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, e;

	if ((fd = proxy_listen_new(cfg, 0, &ss, &len, cause)) == -1)
		return -1;
	e = bind(fd, (struct sockaddr *)&ss, len) == -1 ? errno : 0;
	close(fd);
	if (e == EADDRINUSE)
		return util_cause(cause, "--listen %s: %s", cfg->listen, PROXY_LISTEN_BUSY);
	return 0;	/* any other error is the listener's own to report */
}

/* After binding: refuse if a listening socket that is not one of ours[0..n) takes
 * connections for --listen. Two engines started together can both pass proxy_listen_free
 * before either binds; each binds before it looks here, so the later look sees the other's
 * sockets and at most one engine goes on. Without /proc it warns and goes on: the check
 * before binding covers all but that race. */
static int
proxy_listen_alone(const struct config *cfg, int v6only, const unsigned long *ours, size_t n,
    char **cause)
{
	struct sockaddr_storage ss, other;
	char o[UTIL_ADDRSTRLEN], *why = NULL;
	int found;

	if (util_parse_hostport(cfg->listen, &ss, cause) == -1)
		return -1;
	if ((found = listeners_foreign_here((struct sockaddr *)&ss, v6only, ours, n, &other,
	    &why)) == -1) {
		log_warnx("--listen %s: not checked for other listeners once bound (%s)",
		    cfg->listen, why != NULL ? why : "?");
		free(why);
		return 0;
	}
	if (found == 0)
		return 0;
	util_sa_str((struct sockaddr *)&other, o, sizeof(o));
	return util_cause(cause, "--listen %s: %s (%d socket(s) not this engine's, %s first)",
	    cfg->listen, PROXY_LISTEN_BUSY, found, o);
}

/* Create and start the workers. */
static int
proxy_workers(struct proxy *px, char **cause)
{
	unsigned long *inos;
	int i, fd, rc, v6only = 0;

	px->nworkers = px->cfg->workers > 0 ? px->cfg->workers : proxy_cpus();
	if ((px->workers = calloc((size_t)px->nworkers, sizeof(*px->workers))) == NULL)
		return util_cause(cause, "out of memory");
	if (RAND_bytes(px->ticket_keys, sizeof(px->ticket_keys)) != 1)
		return util_cause(cause, "no random bytes for the session-ticket keys");
	if (proxy_hostkeys(px, cause) == -1)
		return -1;
	if (uplib_open("upstream legs", &px->uplib, cause) == -1)
		return -1;
	if (proxy_listen_free(px->cfg, cause) == -1)
		return -1;
	if ((inos = calloc((size_t)px->nworkers, sizeof(*inos))) == NULL)
		return util_cause(cause, "out of memory");
	for (i = 0; i < px->nworkers; i++) {
		if ((fd = proxy_listen_socket(px->cfg, &px->listen_port, &inos[i], &v6only,
		    cause)) == -1 ||
		    (px->workers[i] = worker_new(px, i, fd, cause)) == NULL) {
			free(inos);
			return -1;
		}
	}
	rc = proxy_listen_alone(px->cfg, v6only, inos, (size_t)px->nworkers, cause);
	free(inos);
	if (rc == -1)
		return -1;
	for (i = 0; i < px->nworkers; i++)
		if (worker_start(px->workers[i], cause) == -1)
			return -1;
	return 0;
}

/* Write the pid file. */
static int
proxy_pidfile(const char *path, char **cause)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	return util_write_file(path, buf, (size_t)n, 0644, cause);
}

/* Free everything; workers are joined first. */
static void
proxy_free(struct proxy *px)
{
	int i;

	for (i = 0; px->workers != NULL && i < px->nworkers; i++)
		worker_free(px->workers[i]);
	free(px->workers);
	uplib_free(px->uplib);	/* after the workers' upstream contexts and connections */
	if (px->kp != NULL)
		keypool_free(px->kp);
	hostkey_free(px->hostkeys);
	EVP_PKEY_free(px->proc_key);
	if (px->chain_owned)
		sk_X509_pop_free(px->chain, X509_free);
	sk_X509_pop_free(px->untrusted_chain, X509_free);
	X509_free(px->untrusted);
	EVP_PKEY_free(px->untrusted_key);
	if (px->ca != NULL)
		pki_ca_free(px->ca);
	policy_free(px->pol);
	OPENSSL_cleanse(px->ticket_keys, sizeof(px->ticket_keys));
	keylog_close();
	bus_zctx_term();
}

/* Block the stop signals in every thread (workers inherit the mask); ignore SIGPIPE. */
static void
proxy_signals(sigset_t *set)
{
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Run the engine. */
int
proxy_run(const struct config *cfg, char **cause)
{
	struct proxy px;
	sigset_t set;
	int sig = 0, i, rc = -1;

	memset(&px, 0, sizeof(px));
	px.cfg = cfg;
	atomic_init(&px.active, 0);
	proxy_signals(&set);
	if (evthread_use_pthreads() == -1) {
		util_cause(cause, "evthread_use_pthreads failed");
		goto out;
	}
	if (proxy_policy(&px, cause) == -1 || proxy_pki(&px, cause) == -1)
		goto out;
	if (cfg->keylog != NULL && keylog_open(cfg->keylog, cause) == -1)
		goto out;
	if (proxy_workers(&px, cause) == -1)
		goto stop;
	if (cfg->pidfile != NULL && proxy_pidfile(cfg->pidfile, cause) == -1)
		goto stop;
	log_info("listening on %s (%s mode, %d workers, profile %s, %zu rules, default %s)",
	    cfg->listen, config_mode_name(cfg->mode), px.nworkers, cfg->profile,
	    policy_nrules(px.pol), cfg->default_action);
	while (sigwait(&set, &sig) != 0)
		;
	log_info("signal %d: draining for at most %d ms", sig, PROXY_DRAIN_MS);
	rc = 0;
stop:
	for (i = 0; px.workers != NULL && i < px.nworkers; i++)
		if (px.workers[i] != NULL)
			worker_stop(px.workers[i]);
out:
	proxy_free(&px);
	if (cfg->pidfile != NULL && rc == 0)
		unlink(cfg->pidfile);
	return rc;
}
