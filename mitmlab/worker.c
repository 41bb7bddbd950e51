/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker — one engine thread (worker.h): the accept callback with a back-off when accept()
 * fails (EMFILE), the one-second proxy.stats timer, and the drain on stop: stop accepting, let
 * connections finish for PROXY_DRAIN_MS, close the rest with reason "shutdown", publish final
 * stats, leave the loop. Everything a connection does is conn.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bus.h"
#include "certcache.h"
#include "conn.h"
#include "hostkey.h"
#include "keypool.h"
#include "log.h"
#include "proxy.h"
#include "sesscache.h"
#include "tlsserver.h"
#include "upstream.h"
#include "verifycache.h"
#include "worker.h"

/* Publish on this worker's bus with the "worker" key. */
void
worker_publish(struct worker *w, json_t *ev)
{
	worker_publish_members(w, ev, NULL);
}

/* The same, with members already serialized. */
void
worker_publish_members(struct worker *w, json_t *ev, const char *members)
{
	json_object_set_new(ev, "worker", json_string(w->name));
	bus_publish_members(w->bus, ev, members);
}

/* Resident set size in KiB from /proc/self/statm. */
static long
worker_rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The upstream-handshake and session-resumption counters of proxy.stats. */
static void
worker_stats_upstream(struct worker *w, json_t *ev)
{
	struct sesscache_stats ss;
	struct verifycache_stats vs;

	json_object_set_new(ev, "upstream_handshakes", json_integer((json_int_t)
	    w->st.up_handshakes));
	if (w->vcache != NULL) {
		verifycache_stats(w->vcache, &vs);
		json_object_set_new(ev, "upstream_verify_cache_hits", json_integer((json_int_t)
		    vs.hits));
		json_object_set_new(ev, "upstream_verify_cache_misses", json_integer((json_int_t)
		    (vs.misses + vs.uncached)));
		json_object_set_new(ev, "upstream_certs_shared", json_integer((json_int_t)
		    vs.shared));
		json_object_set_new(ev, "upstream_verify_cache_bytes", json_integer((json_int_t)
		    vs.bytes));
		json_object_set_new(ev, "upstream_verify_cache_too_big", json_integer((json_int_t)
		    vs.too_big));
	}
	if (w->sess == NULL)
		return;
	sesscache_stats(w->sess, &ss);
	json_object_set_new(ev, "upstream_resume_offered", json_integer((json_int_t)
	    w->st.up_offered));
	json_object_set_new(ev, "upstream_resumed", json_integer((json_int_t)w->st.up_resumed));
	json_object_set_new(ev, "upstream_resume_refused", json_integer((json_int_t)
	    w->st.up_refused));
	json_object_set_new(ev, "upstream_resume_unusable", json_integer((json_int_t)
	    w->st.up_unusable));
	json_object_set_new(ev, "upstream_sessions", json_integer((json_int_t)ss.entries));
	json_object_set_new(ev, "upstream_sessions_bytes", json_integer((json_int_t)ss.bytes));
	json_object_set_new(ev, "upstream_sessions_too_big", json_integer((json_int_t)
	    ss.too_big));
	json_object_set_new(ev, "upstream_sessions_evicted", json_integer((json_int_t)
	    ss.evictions));
	json_object_set_new(ev, "upstream_sessions_expired", json_integer((json_int_t)
	    ss.expired));
}

/* The host-key map's counters (process-wide, like keys_generated: every worker publishes
 * the same figures). Per-host key profiles only. */
static void
worker_stats_hostkeys(struct worker *w, json_t *ev, const struct keypool_stats *ks)
{
	struct hostkey_stats hs;

	if (w->px->hostkeys == NULL)
		return;
	hostkey_stats(w->px->hostkeys, &hs);
	json_object_set_new(ev, "host_keys", json_integer((json_int_t)hs.entries));
	json_object_set_new(ev, "host_keys_max", json_integer((json_int_t)hs.capacity));
	json_object_set_new(ev, "host_keys_reused", json_integer((json_int_t)hs.reused));
	json_object_set_new(ev, "host_keys_surplus", json_integer((json_int_t)hs.surplus));
	json_object_set_new(ev, "host_keys_evicted", json_integer((json_int_t)hs.evicted));
	json_object_set_new(ev, "keys_returned", json_integer((json_int_t)ks->returned));
	json_object_set_new(ev, "keygen_failed", json_integer((json_int_t)ks->failed));
	json_object_set_new(ev, "keygen_threads", json_integer(ks->threads));
}

/* Publish proxy.stats. */
static void
worker_publish_stats(struct worker *w, int final)
{
	struct certcache_stats cs;
	struct keypool_stats ks = { 0 };
	json_t *ev = bus_prepare(w->bus, "proxy.stats");

	if (ev == NULL)
		return;
	if (w->px->kp != NULL)
		keypool_stats(w->px->kp, &ks);
	json_object_set_new(ev, "active", json_integer(w->active));
	json_object_set_new(ev, "accepted", json_integer((json_int_t)w->st.accepted));
	json_object_set_new(ev, "handshakes", json_integer((json_int_t)w->st.handshakes));
	json_object_set_new(ev, "client_resumed", json_integer((json_int_t)w->st.client_resumed));
	json_object_set_new(ev, "forges", json_integer((json_int_t)w->st.forges));
	json_object_set_new(ev, "untrusted_signed", json_integer((json_int_t)
	    w->st.untrusted_signed));
	json_object_set_new(ev, "cache_hits", json_integer((json_int_t)w->st.cache_hits));
	json_object_set_new(ev, "cache_misses", json_integer((json_int_t)w->st.cache_misses));
	certcache_stats(w->cache, &cs);
	json_object_set_new(ev, "cache_bytes", json_integer((json_int_t)cs.bytes));
	json_object_set_new(ev, "cache_too_big", json_integer((json_int_t)cs.too_big));
	json_object_set_new(ev, "bytes_c2s", json_integer((json_int_t)w->st.bytes_c2s));
	json_object_set_new(ev, "bytes_s2c", json_integer((json_int_t)w->st.bytes_s2c));
	json_object_set_new(ev, "cpu_s", json_real(util_cpu_s(RUSAGE_SELF)));
	json_object_set_new(ev, "rss_kb", json_integer(worker_rss_kb()));
	json_object_set_new(ev, "worker_cpu_s", json_real(util_cpu_s(RUSAGE_THREAD)));
	json_object_set_new(ev, "bus_dropped", json_integer((json_int_t)bus_dropped(w->bus)));
	json_object_set_new(ev, "bus_sent", json_integer((json_int_t)bus_sent(w->bus)));
	json_object_set_new(ev, "refused_over_limit",
	    json_integer((json_int_t)w->st.refused_over_limit));
	json_object_set_new(ev, "accept_errors", json_integer((json_int_t)w->st.accept_errors));
	json_object_set_new(ev, "keys_generated", json_integer((json_int_t)ks.generated));
	json_object_set_new(ev, "keys_ready", json_integer((json_int_t)ks.ready));
	json_object_set_new(ev, "keys_waited", json_integer((json_int_t)w->st.keys_waited));
	json_object_set_new(ev, "keys_parked", json_integer(w->keywait));
	json_object_set_new(ev, "keys_queued", json_integer((json_int_t)ks.queued));
	json_object_set_new(ev, "keys_refused", json_integer((json_int_t)w->st.keys_refused));
	worker_stats_hostkeys(w, ev, &ks);
	worker_stats_upstream(w, ev);
	if (final)
		json_object_set_new(ev, "final", json_true());
	worker_publish(w, ev);
}

/* Close what is left, publish the final stats and leave the loop. */
static void
worker_finish(struct worker *w)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_close(c, "shutdown", NULL);
	worker_publish_stats(w, 1);
	log_info("%s: client handshakes: %llu completed, %llu resumed a session", w->name,
	    (unsigned long long)w->st.handshakes, (unsigned long long)w->st.client_resumed);
	if (w->sess != NULL)
		log_info("%s: upstream sessions: %llu intercepted upstream handshakes, %llu offered a "
		    "session, %llu resumed, %llu not resumed (full handshake), %llu unusable", w->name,
		    (unsigned long long)w->st.up_handshakes, (unsigned long long)w->st.up_offered,
		    (unsigned long long)w->st.up_resumed, (unsigned long long)w->st.up_refused,
		    (unsigned long long)w->st.up_unusable);
	event_base_loopexit(w->base, NULL);
}

/* Every second: stats, and the drain check. */
static void
worker_stats_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (w->draining) {
		if (w->active == 0 || util_mono_ns() >= w->drain_deadline)
			worker_finish(w);
		return;
	}
	worker_publish_stats(w, 0);
}

/* Stop accepting and start draining (runs in the worker's thread). */
static void
worker_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	if (w->draining)
		return;
	if (w->lis != NULL) {
		evconnlistener_free(w->lis);
		w->lis = NULL;
	}
	w->draining = 1;
	w->drain_deadline = util_mono_ns() + PROXY_DRAIN_MS * 1000000ull;
	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->phase == CONN_PEEK || c->phase == CONN_BLOCK)
			conn_close(c, "shutdown", NULL);
	}
	if (w->active == 0)
		worker_finish(w);
}

/* A new client connection. */
static void
worker_accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	(void)lis;
	conn_accept(arg, fd, sa, (socklen_t)salen);
}

/* Re-enable accepting after a back-off. */
static void
worker_relisten_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (w->lis != NULL)
		evconnlistener_enable(w->lis);
}

/* The accept failure is logged at most once per WORKER_ACCEPT_LOG_MS, with the count of those
 * not logged since: out of descriptors, the back-off below retries every 100 ms. */
#define WORKER_ACCEPT_LOG_MS 10000

/* accept() failed (e.g. out of descriptors): back off 100 ms instead of spinning. */
static void
worker_accept_error_cb(struct evconnlistener *lis, void *arg)
{
	struct timeval tv = { 0, 100000 };
	struct worker *w = arg;
	int err = EVUTIL_SOCKET_ERROR();
	uint64_t now = util_mono_ns();

	w->st.accept_errors++;
	if (w->accept_log_ns == 0 || now - w->accept_log_ns >= WORKER_ACCEPT_LOG_MS * 1000000ull) {
		if (w->accept_quiet > 0)
			log_warnx("%s: accept: %s (%llu more failures since the last message)",
			    w->name, evutil_socket_error_to_string(err),
			    (unsigned long long)w->accept_quiet);
		else
			log_warnx("%s: accept: %s", w->name, evutil_socket_error_to_string(err));
		w->accept_log_ns = now;
		w->accept_quiet = 0;
	} else {
		w->accept_quiet++;
	}
	evconnlistener_disable(lis);
	event_base_once(w->base, -1, EV_TIMEOUT, worker_relisten_cb, w, &tv);
}

/* Per-thread objects that can fail. */
static int
worker_setup(struct worker *w, char **cause)
{
	const struct config *cfg = w->px->cfg;
	struct timeval sec = { 1, 0 };
	char src[160];

	if ((w->base = event_base_new()) == NULL)
		return util_cause(cause, "cannot create worker %s's event loop (out of memory or "
		    "file descriptors?)", w->name);
	if ((w->cache = certcache_new((size_t)cfg->cache_size)) == NULL)
		return util_cause(cause, "out of memory for a certificate cache of %d entries per "
		    "worker (--cache-size)", cfg->cache_size);
	snprintf(src, sizeof(src), "%s.%s", cfg->id, w->name);
	if ((w->bus = bus_open(cfg->bus, src, cfg->bus ? 1000 : 0, cause)) == NULL)
		return -1;
	if ((w->up_ctx = upstream_ctx_new(w->px->uplib, cfg->upstream_hello,
	    cfg->upstream_cafile, cause)) == NULL)
		return -1;
	if (cfg->upstream_verify_cache > 0) {
		w->vcache = verifycache_new((size_t)cfg->upstream_verify_cache,
		    cfg->upstream_verify_ttl);
		if (w->vcache == NULL)
			return util_cause(cause, "out of memory for a verification cache of %d "
			    "entries per worker (--upstream-verify-cache)", cfg->upstream_verify_cache);
		verifycache_attach(w->up_ctx, w->vcache);
	}
	if (cfg->upstream_resume) {
		if ((w->sess = sesscache_new((size_t)cfg->upstream_resume_cache)) == NULL)
			return util_cause(cause, "out of memory for a session cache of %d entries "
			    "per worker (--upstream-resume-cache)", cfg->upstream_resume_cache);
		if (upstream_ctx_resume(w->up_ctx, cause) == -1)
			return -1;
	}
	if ((w->down_ctx = tlsserver_ctx_new(cause)) == NULL)
		return -1;
	if (cfg->mode == CONFIG_MODE_REDIRECT) {
		char *why = NULL;
		if ((w->ct = ctlookup_open(&why)) == NULL && w->idx == 0)
			log_warnx("%s: flows whose source port NAT changed (a client port reused "
			    "for another destination) will carry the changed port in their flow id",
			    why != NULL ? why : "conntrack");
		free(why);
	}
	if (SSL_CTX_set_tlsext_ticket_keys(w->down_ctx, w->px->ticket_keys,
	    sizeof(w->px->ticket_keys)) != 1)
		return util_cause(cause, "cannot install the session-ticket keys");
	w->lis = evconnlistener_new(w->base, worker_accept_cb, w, LEV_OPT_CLOSE_ON_FREE, 0,
	    w->lfd);
	if (w->lis == NULL)
		return util_cause(cause, "--listen %s: worker %s cannot take the listening socket "
		    "(out of memory?)", cfg->listen, w->name);
	w->lfd = -1;
	evconnlistener_set_error_cb(w->lis, worker_accept_error_cb);
	w->ev_stats = event_new(w->base, -1, EV_PERSIST, worker_stats_cb, w);
	w->ev_stop = event_new(w->base, -1, 0, worker_stop_cb, w);
	if (w->ev_stats == NULL || w->ev_stop == NULL || event_add(w->ev_stats, &sec) == -1)
		return util_cause(cause, "cannot create worker %s's timers (out of memory?)",
		    w->name);
	return 0;
}

/* New worker (not started). */
struct worker *
worker_new(struct proxy *px, int idx, int lfd, char **cause)
{
	struct worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		close(lfd);
		util_cause(cause, "out of memory");
		return NULL;
	}
	w->px = px;
	w->idx = idx;
	w->lfd = lfd;
	TAILQ_INIT(&w->conns);
	snprintf(w->name, sizeof(w->name), "w%d", idx);
	if (worker_setup(w, cause) == -1) {
		worker_free(w);
		return NULL;
	}
	return w;
}

/* Thread body. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

/* Start the thread. */
int
worker_start(struct worker *w, char **cause)
{
	int err;

	if ((err = pthread_create(&w->thread, NULL, worker_main, w)) != 0)
		return util_cause(cause, "pthread_create: %s", strerror(err));
	w->started = 1;
	return 0;
}

/* Ask the worker to drain (thread-safe). */
void
worker_stop(struct worker *w)
{
	if (w->ev_stop != NULL)
		event_active(w->ev_stop, EV_TIMEOUT, 0);
}

/* Join and free. */
void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	if (w->started)
		pthread_join(w->thread, NULL);
	if (w->lis != NULL)
		evconnlistener_free(w->lis);
	if (w->lfd >= 0)
		close(w->lfd);
	if (w->ev_stats != NULL)
		event_free(w->ev_stats);
	if (w->ev_stop != NULL)
		event_free(w->ev_stop);
	SSL_CTX_free(w->up_ctx);
	SSL_CTX_free(w->down_ctx);
	if (w->cache != NULL)
		certcache_free(w->cache);
	sesscache_free(w->sess);
	verifycache_free(w->vcache);	/* after up_ctx, which points at it */
	bus_close(w->bus);
	ctlookup_close(w->ct);
	if (w->base != NULL)
		event_base_free(w->base);
	free(w);
}
