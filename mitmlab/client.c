/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client — the run loop of `mitmlab client`: loads trust inputs, resolves the URLs once, then
 * keeps up to --concurrency connections open on one event base, paced by --rate, until
 * --count connections have finished, --duration-ms has passed or a signal arrives. Each
 * finished connection is counted and published; the summary is published last. Connection
 * mechanics are in client_conn, TLS in client_tls, classification in client_result.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/event.h>

#include "bus.h"
#include "client.h"
#include "client_conn.h"
#include "client_stats.h"
#include "client_tls.h"
#include "client_trust.h"
#include "client_url.h"
#include "log.h"
#include "uplib.h"
#include "util.h"

struct client_run {
	const struct client_config *cfg;
	struct event_base *base;
	struct client_tls *tls;
	OSSL_LIB_CTX *lib;	/* the TLS context's library context (uplib.h) or NULL */
	struct bus *bus;
	struct client_url *urls;
	size_t	nurls, next_url;
	struct client_blocklist bl;
	struct client_pins pins;
	struct client_stats st;
	struct client_conn **active;
	size_t	nactive;
	uint64_t t_start, rng;
	double	cpu_start;	/* the process's CPU seconds when the load began */
	struct event *tick, *deadline, *sigint, *sigterm;
	int	stopping, aborting;
	const char *stopped_by;
};

static void client_pump(struct client_run *run);

/* xorshift64* step, for the --seed URL order. */
static uint64_t
client_rand(struct client_run *run)
{
	run->rng ^= run->rng >> 12;
	run->rng ^= run->rng << 25;
	run->rng ^= run->rng >> 27;
	return run->rng * 0x2545F4914F6CDD1DULL;
}

/* The URL of the next connection. */
static const struct client_url *
client_pick(struct client_run *run)
{
	if (run->nurls == 1)
		return &run->urls[0];
	if (run->cfg->seed_set)
		return &run->urls[client_rand(run) % run->nurls];
	return &run->urls[run->next_url++ % run->nurls];
}

/* A connection finished: count, publish, free, refill. */
static void
client_done(struct client_conn *c, void *arg)
{
	struct client_run *run = arg;
	const struct client_record *r = client_conn_record(c);
	json_t *ev = client_result_event(r);
	size_t i;

	client_stats_add(&run->st, r);
	if (run->aborting)
		run->st.aborted++;
	if (run->cfg->verbose)
		log_info("%s %s %s%s%s", r->flow, r->url, client_result_name(r->outcome),
		    r->error[0] ? ": " : "", r->error);
	if (run->cfg->results) {
		char *s = json_dumps(ev, JSON_COMPACT);
		if (s != NULL) {
			printf("%s\n", s);
			free(s);
		}
	}
	bus_publish(run->bus, ev);
	for (i = 0; i < run->nactive; i++)
		if (run->active[i] == c) {
			run->active[i] = run->active[--run->nactive];
			break;
		}
	client_conn_free(c);
	if (!run->aborting)
		client_pump(run);
}

/* Stop the run: no new connections, abort the open ones, leave the loop. */
static void
client_stop(struct client_run *run, const char *why)
{
	if (run->stopping)
		return;
	run->stopping = 1;
	run->stopped_by = why;
	run->aborting = 1;
	while (run->nactive > 0)
		client_conn_abort(run->active[0], strcmp(why, "signal") == 0 ?
		    "interrupted" : "--duration-ms reached");
	run->aborting = 0;
	event_base_loopbreak(run->base);
}

/* Start as many connections as the limits allow. */
static void
client_pump(struct client_run *run)
{
	const struct client_config *cfg = run->cfg;
	struct client_conn_params p;
	char *cause = NULL;

	while (!run->stopping && run->nactive < (size_t)cfg->concurrency &&
	    run->st.launched < (uint64_t)cfg->count) {
		struct client_conn *c;

		if (cfg->rate > 0) {
			uint64_t el = util_mono_ns() - run->t_start;
			uint64_t allowed = (uint64_t)((double)el / 1e9 * (double)cfg->rate) + 1;
			if (run->st.launched >= allowed) {
				double next = (double)run->st.launched / (double)cfg->rate * 1e9;
				uint64_t wait = next > (double)el ? (uint64_t)(next - (double)el) : 0;
				struct timeval tv = { (time_t)(wait / 1000000000),
				    (suseconds_t)(wait % 1000000000 / 1000) + 1 };
				evtimer_add(run->tick, &tv);
				return;
			}
		}
		memset(&p, 0, sizeof(p));
		p.base = run->base;
		p.tls = run->tls;
		p.url = client_pick(run);
		p.ua = cfg->ua;
		p.hello = cfg->hello;
		p.http = cfg->http;
		p.timeout_ms = (int)cfg->timeout_ms;
		p.done = client_done;
		p.arg = run;
		if ((c = client_conn_start(&p, &cause)) == NULL) {
			log_warnx("connection: %s", cause);
			free(cause);
			client_stop(run, "count");
			return;
		}
		run->active[run->nactive++] = c;
		run->st.launched++;
	}
	if (run->nactive == 0 && run->st.launched >= (uint64_t)cfg->count && !run->stopping) {
		run->stopping = 1;
		run->stopped_by = "count";
		event_base_loopbreak(run->base);
	}
}

/* Rate timer. */
static void
client_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_pump(arg);
}

/* --duration-ms reached. */
static void
client_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_stop(arg, "duration");
}

/* SIGINT / SIGTERM. */
static void
client_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d: stopping", (int)sig);
	client_stop(arg, "signal");
}

/* Load block-lists, pins, URLs and the TLS context. */
static int
client_setup(struct client_run *run, char **cause)
{
	const struct client_config *cfg = run->cfg;
	struct client_tls_opts to;
	size_t i;

	for (i = 0; i < cfg->blocklist.n; i++)
		if (client_trust_blocklist_load(&run->bl, cfg->blocklist.v[i], cause) == -1)
			return -1;
	for (i = 0; i < cfg->pin.n; i++)
		if (client_trust_pin_add(&run->pins, cfg->pin.v[i], cause) == -1)
			return -1;
	if ((run->urls = calloc(cfg->url.n, sizeof(*run->urls))) == NULL)
		return util_cause(cause, "out of memory");
	run->nurls = cfg->url.n;
	for (i = 0; i < cfg->url.n; i++) {
		if (client_url_parse(cfg->url.v[i], &run->urls[i], cause) == -1 ||
		    client_url_resolve(&run->urls[i], cfg->connect.v, cfg->connect.n, cause) == -1)
			return -1;
		if (!run->urls[i].tls && strcmp(cfg->http, "2") == 0)
			return util_cause(cause, "URL \"%s\": --http 2 needs https (h2 in clear text "
			    "is not supported; use --http 1.1 or auto)", cfg->url.v[i]);
	}
	memset(&to, 0, sizeof(to));
	to.hello = cfg->hello;
	to.http = cfg->http;
	to.tls_max = cfg->tls_max;
	to.trust = cfg->trust.v;
	to.ntrust = cfg->trust.n;
	to.keylog = cfg->keylog;
	to.blocklist = &run->bl;
	to.pins = &run->pins;
	/* OpenSSL 3.0 builds a decoder context for every certificate's key, walking its library
	 * context's tables: in uplib's trimmed one the client spends about 10% less CPU per
	 * connection (NOTES "Twenty-second session"), with the same ClientHello (test_uplib) */
	if (uplib_open("the client's TLS", &run->lib, cause) == -1)
		return -1;
	to.lib = run->lib;
	if ((run->tls = client_tls_new(&to, cause)) == NULL)
		return -1;
	if ((run->active = calloc((size_t)cfg->concurrency, sizeof(*run->active))) == NULL)
		return util_cause(cause, "out of memory");
	if ((run->base = event_base_new()) == NULL)
		return util_cause(cause, "event_base_new failed");
	run->tick = evtimer_new(run->base, client_tick, run);
	run->deadline = evtimer_new(run->base, client_deadline, run);
	run->sigint = evsignal_new(run->base, SIGINT, client_signal, run);
	run->sigterm = evsignal_new(run->base, SIGTERM, client_signal, run);
	if (run->tick == NULL || run->deadline == NULL || run->sigint == NULL ||
	    run->sigterm == NULL)
		return util_cause(cause, "out of memory");
	if ((run->bus = bus_open(cfg->bus, cfg->id, 1000, cause)) == NULL)
		return -1;
	return 0;
}

/* Release everything client_setup made. */
static void
client_teardown(struct client_run *run)
{
	if (run->tick != NULL)
		event_free(run->tick);
	if (run->deadline != NULL)
		event_free(run->deadline);
	if (run->sigint != NULL)
		event_free(run->sigint);
	if (run->sigterm != NULL)
		event_free(run->sigterm);
	if (run->base != NULL)
		event_base_free(run->base);
	if (run->bus != NULL)
		bus_close(run->bus);
	client_tls_free(run->tls);
	uplib_free(run->lib);	/* after the last SSL of the run and its context */
	client_trust_blocklist_free(&run->bl);
	client_trust_pins_free(&run->pins);
	client_stats_free(&run->st);
	free(run->active);
	free(run->urls);
}

/* Run the load. */
int
client_run(const struct client_config *cfg, json_t **summary, char **cause)
{
	struct client_run run;
	struct timeval tv;
	json_t *ev;
	int rc = -1;

	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.rng = cfg->seed_set ? (uint64_t)cfg->seed * 0x9E3779B97F4A7C15ULL + 1 : 1;
	if (summary != NULL)
		*summary = NULL;
	signal(SIGPIPE, SIG_IGN);
	if (client_setup(&run, cause) == -1)
		goto out;
	tv.tv_sec = (time_t)(cfg->duration_ms / 1000);
	tv.tv_usec = (suseconds_t)(cfg->duration_ms % 1000 * 1000);
	evtimer_add(run.deadline, &tv);
	evsignal_add(run.sigint, NULL);
	evsignal_add(run.sigterm, NULL);
	run.t_start = util_mono_ns();
	run.cpu_start = util_cpu_s(RUSAGE_SELF);
	client_pump(&run);
	if (!run.stopping)
		event_base_dispatch(run.base);
	if (run.stopped_by == NULL)
		run.stopped_by = "count";
	ev = client_stats_summary(&run.st, util_mono_ns() - run.t_start, run.stopped_by);
	/* what the load itself cost the client (user + system, every thread): a load generator
	 * that shares a core with what it measures has to know it (the bench's latload) */
	json_object_set_new(ev, "cpu_us", json_integer((json_int_t)((util_cpu_s(RUSAGE_SELF) -
	    run.cpu_start) * 1e6)));
	if (summary != NULL)
		*summary = json_incref(ev);
	bus_publish(run.bus, ev);
	rc = 0;
out:
	client_teardown(&run);
	return rc;
}
