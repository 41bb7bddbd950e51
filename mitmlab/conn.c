/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn — lifecycle of one diverted connection: accept (original destination, --allow-upstream,
 * --max-conns), the policy decision after the ClientHello peek, the single timer, the
 * proxy.conn.open / proxy.conn.close events and conn_close(), the only place that frees a
 * connection. The protocol steps are in peek.c, dial.c, splice.c, intercept.c and leaf.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <jansson.h>

#include "bus.h"
#include "conn.h"
#include "dial.h"
#include "jsonout.h"
#include "keypool.h"
#include "log.h"
#include "peek.h"
#include "proxy.h"
#include "splice.h"
#include "worker.h"

/* Phase names for logs. */
const char *
conn_phase_name(enum conn_phase p)
{
	static const char *const names[] = { "peek", "dial", "upstream-tls", "keywait",
	    "client-tls", "relay", "block" };

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}

/* REDIRECT with conntrack at hand: the original tuple in one lookup (ctlookup.h), the
 * destination and, when NAT changed the client's source port, the client's own address, so
 * that the flow id is the one the client and the network saw. 0 when conntrack answered. */
static int
conn_orig_ct(struct conn *c)
{
	struct conn_setup *s = c->setup;
	struct sockaddr_storage local, src, dst;
	socklen_t len = sizeof(local);
	char was[UTIL_ADDRSTRLEN + 8], is[UTIL_ADDRSTRLEN + 8];

	if (getsockname(c->cfd, (struct sockaddr *)&local, &len) == -1)
		return -1;
	(void)util_sa_unmap(&local);
	if (ctlookup_orig(c->w->ct, (struct sockaddr *)&local, (struct sockaddr *)&s->csa, &src,
	    &dst) != 1 || src.ss_family != s->csa.ss_family)
		return -1;
	if (memcmp(&src, &s->csa, sizeof(src)) != 0) {
		log_debug("%s: NAT had changed the client's port; the client used %s",
		    util_sa_str((struct sockaddr *)&s->csa, was, sizeof(was)),
		    util_sa_str((struct sockaddr *)&src, is, sizeof(is)));
		memcpy(&s->csa, &src, sizeof(src));
	}
	memcpy(&s->dsa, &dst, sizeof(dst));
	/* unmapped as the other two ways unmap it: an IPv6 allow entry (::/0) must not admit
	 * ::ffff:a.b.c.d, which an AF_INET6 socket would dial as that IPv4 host */
	(void)util_sa_unmap(&s->dsa);
	s->dsalen = s->dsa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	return 0;
}

/* Original destination of an accepted socket (REDIRECT: conntrack; TPROXY: local address). The
 * client's address is already unmapped: an IPv4 flow on a [::] listener asks the IPv4
 * conntrack (SOL_IP works on such a socket), and its local address is unmapped too. */
static int
conn_origdst(struct conn *c, int mode, char **cause)
{
	struct conn_setup *s = c->setup;
	socklen_t len = sizeof(s->dsa);
	int r;

	if (mode == CONFIG_MODE_REDIRECT && c->w->ct != NULL && conn_orig_ct(c) == 0)
		return 0;
	if (mode == CONFIG_MODE_TPROXY)
		r = getsockname(c->cfd, (struct sockaddr *)&s->dsa, &len);
	else if (s->csa.ss_family == AF_INET6)
		r = getsockopt(c->cfd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &s->dsa, &len);
	else
		r = getsockopt(c->cfd, SOL_IP, SO_ORIGINAL_DST, &s->dsa, &len);
	if (r == -1)
		return util_cause(cause, "no original destination (%s): not a diverted flow?",
		    strerror(errno));
	if (util_sa_unmap(&s->dsa))
		len = sizeof(struct sockaddr_in);
	s->dsalen = len;
	return 0;
}

/* Whether the engine may dial dst: inside --allow-upstream, and not its own listener (a flow
 * sent to the gateway itself, not diverted on its way to an origin, would loop back here).
 * 0, or 1 with the reason in why. */
static int
conn_dst_refused(const struct proxy *px, const struct sockaddr *dst, char *why, size_t len)
{
	char host[UTIL_ADDRSTRLEN];
	int port = util_sa_port(dst);

	if (policy_allowed(px->pol, dst) && (port != px->listen_port || !util_sa_is_local(dst)))
		return 0;
	util_sa_host(dst, host, sizeof(host));
	if (!policy_allowed(px->pol, dst))
		snprintf(why, len, "destination %s outside --allow-upstream", host);
	else
		snprintf(why, len, "destination %s:%d is the engine's own listener (the flow was sent "
		    "to the gateway, not diverted on its way to an origin)", host, port);
	return 1;
}

/* Accept a client connection. */
void
conn_accept(struct worker *w, int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct proxy *px = w->px;
	struct conn *c;
	struct conn_setup *s;
	char cs[UTIL_ADDRSTRLEN], ds[UTIL_ADDRSTRLEN], *cause = NULL;
	int one = 1;

	if (atomic_fetch_add(&px->active, 1) >= (unsigned)px->cfg->max_conns) {
		atomic_fetch_sub(&px->active, 1);
		w->st.refused_over_limit++;
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || (s = calloc(1, sizeof(*s))) == NULL) {
		free(c);
		atomic_fetch_sub(&px->active, 1);
		close(fd);
		return;
	}
	c->w = w;
	c->setup = s;
	c->cfd = fd;
	c->ufd = -1;
	c->t_start = util_mono_ns();
	memcpy(&s->csa, sa, salen < sizeof(s->csa) ? salen : sizeof(s->csa));
	(void)util_sa_unmap(&s->csa);	/* an IPv4 client of a [::] listener */
	relay_link(&c->client, &c->upstream, c, NULL, "client", "upstream");
	TAILQ_INSERT_TAIL(&w->conns, c, entry);
	w->active++;
	w->st.accepted++;
	evutil_make_socket_nonblocking(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (conn_origdst(c, px->cfg->mode, &cause) == -1) {
		snprintf(c->flow, sizeof(c->flow), "%s>?", util_sa_str((struct sockaddr *)&s->csa, cs,
		    sizeof(cs)));
		log_warnx("%s: %s", c->flow, cause);
		c->refused = 1;
		c->opened = 1;	/* nothing to report as a flow */
		conn_close(c, "refused", cause);
		free(cause);
		return;
	}
	snprintf(c->flow, sizeof(c->flow), "%s>%s", util_sa_str((struct sockaddr *)&s->csa, cs,
	    sizeof(cs)),
	    util_sa_str((struct sockaddr *)&s->dsa, ds, sizeof(ds)));
	if (conn_dst_refused(px, (struct sockaddr *)&s->dsa, s->why, sizeof(s->why))) {
		log_warnx("%s: refused: %s", c->flow, s->why);
		c->refused = c->decided = 1;
		conn_publish_open(c);
		conn_close(c, "refused", s->why);
		return;
	}
	conn_timer(c, px->cfg->handshake_ms);
	if (peek_start(c) == -1)
		conn_settle(c);
}

/* The client's SNI or NULL (conn.h). */
const char *
conn_sni(const struct conn *c)
{
	return c->hello != NULL && c->hello->has_sni ? c->hello->sni : NULL;
}

/* Decide by policy and start the action. */
void
conn_decide(struct conn *c)
{
	struct proxy *px = c->w->px;
	struct conn_setup *s = c->setup;
	const char *sni = conn_sni(c);

	c->action = policy_decide(px->pol, sni, (struct sockaddr *)&s->dsa, s->why,
	    sizeof(s->why));
	c->decided = 1;
	if (c->hello == NULL && c->action == POLICY_INTERCEPT) {
		conn_why(c, "no ClientHello (%s) → splice", s->hello_err);
		c->action = POLICY_SPLICE;
	}
	log_debug("%s: %s (%s)", c->flow, policy_action_name(c->action), s->why);
	if (c->action != POLICY_INTERCEPT) {
		peek_stop(c);
	} else if (c->client_eof) {	/* it can never finish a handshake: nothing to dial */
		conn_term(c, "eof-client", "closed right after its ClientHello");
		return;
	}
	switch (c->action) {
	case POLICY_BLOCK_RESET:
		splice_block_reset(c);
		break;
	case POLICY_BLOCK_TIMEOUT:
		splice_block_hold(c);
		break;
	case POLICY_SPLICE:
	case POLICY_INTERCEPT:
		c->phase = CONN_DIAL;
		dial_start(c);
		break;
	}
}

/* {"ip":..,"port":..} of a sockaddr. */
static json_t *
conn_addr_json(const struct sockaddr_storage *ss)
{
	char host[UTIL_ADDRSTRLEN];
	int port = util_sa_host((const struct sockaddr *)ss, host, sizeof(host));

	return json_pack("{s:s,s:i}", "ip", host, "port", port);
}

/* The ClientHello fields of proxy.conn.open. */
static void
conn_hello_json(struct conn *c, json_t *ev)
{
	char ja3s[TLSPEEK_JA3_MAX], md5[33], ja4[TLSPEEK_JA4_LEN], name[256], ver[8];
	json_t *alpn = json_array(), *alpn_hex = NULL;
	size_t i;
	int n, utf8;

	if (c->hello == NULL) {
		json_object_set_new(ev, "ja3", json_null());
		json_object_set_new(ev, "ja3_str", json_null());
		json_object_set_new(ev, "ja4", json_null());
		json_object_set_new(ev, "alpn", alpn);
		json_object_set_new(ev, "hello_version", json_null());
		json_object_set_new(ev, "hello_error", jsonout_text(c->setup->hello_err,
		    strlen(c->setup->hello_err), NULL));
		return;
	}
	tlspeek_ja3(c->hello, ja3s, sizeof(ja3s), md5);
	tlspeek_ja4(c->hello, ja4);
	/* a name that is not UTF-8 is escaped (jsonout_text), and then all go in alpn_hex too */
	for (i = 0; (n = tlspeek_alpn_at(c->hello, i, name, sizeof(name))) >= 0; i++) {
		json_array_append_new(alpn, jsonout_text(name, (size_t)n, &utf8));
		if (!utf8 && alpn_hex == NULL)
			alpn_hex = json_array();
	}
	for (i = 0; alpn_hex != NULL && (n = tlspeek_alpn_at(c->hello, i, name,
	    sizeof(name))) >= 0; i++)
		json_array_append_new(alpn_hex, jsonout_hex(name, (size_t)n));
	snprintf(ver, sizeof(ver), "0x%04x", c->hello->max_version);
	json_object_set_new(ev, "ja3", json_string(md5));
	json_object_set_new(ev, "ja3_str", json_string(ja3s));
	json_object_set_new(ev, "ja4", json_string(ja4));
	json_object_set_new(ev, "alpn", alpn);
	if (alpn_hex != NULL)
		json_object_set_new(ev, "alpn_hex", alpn_hex);
	json_object_set_new(ev, "hello_version", json_string(ver));
	snprintf(ver, sizeof(ver), "0x%04x", c->hello->record_version);
	json_object_set_new(ev, "hello_record_version", json_string(ver));
}

/* Publish proxy.conn.open once the final action is known. */
void
conn_publish_open(struct conn *c)
{
	json_t *ev;
	const char *sni = conn_sni(c);
	int utf8 = 1;

	if (c->opened)
		return;
	c->opened = 1;
	if ((ev = bus_prepare(c->w->bus, "proxy.conn.open")) == NULL)
		return;
	json_object_set_new(ev, "flow", json_string(c->flow));
	json_object_set_new(ev, "client", conn_addr_json(&c->setup->csa));
	json_object_set_new(ev, "dst", conn_addr_json(&c->setup->dsa));
	if (c->upstream_connected)
		json_object_set_new(ev, "upstream", conn_addr_json(&c->setup->usa));
	/* an SNI that is not UTF-8 keeps its key, escaped, with its bytes in sni_hex */
	json_object_set_new(ev, "sni", sni ? jsonout_text(sni, strlen(sni), &utf8) : json_null());
	if (!utf8)
		json_object_set_new(ev, "sni_hex", jsonout_hex(sni, strlen(sni)));
	json_object_set_new(ev, "action", json_string(c->refused ? "refuse" :
	    policy_action_name(c->action)));
	/* why and error may quote the SNI */
	json_object_set_new(ev, "why", jsonout_text(c->setup->why, strlen(c->setup->why), NULL));
	conn_hello_json(c, ev);
	json_object_set_new(ev, "mode", json_string(config_mode_name(c->w->px->cfg->mode)));
	/* when the flow began at the engine (ns since the epoch): ts is when it was decided,
	 * after the ClientHello and, for an intercepted flow, the upstream's certificate */
	json_object_set_new(ev, "accepted_ts", json_integer(json_integer_value(json_object_get(ev,
	    "ts")) - (json_int_t)(util_mono_ns() - c->t_start)));
	worker_publish(c->w, ev);
}

/* Relay buffers are trimmed (relay_trim) when the relay starts and by the connection's timer:
 * CONN_TRIM_MS after the relay starts (a TLS 1.3 origin's session tickets arrive about one
 * round trip after its handshake), then CONN_TRIM_MS after each pass that saw traffic, and at
 * every idle check. SSL_MODE_RELEASE_BUFFERS would do it after every record instead (a 17 KiB
 * free and malloc per record and leg; one noisy QUICK bench on 2026-11-23 gave 2.19 against
 * 1.81 CPU-s/GB) and saves nothing more at idle (38.1 against 37.7 KiB per connection). */
#define CONN_TRIM_MS 1000

/* The single timer fired: handshake timeout, block end, or idle check. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	uint64_t last, now, idle;
	int ms;

	(void)fd;
	(void)what;
	if (c->phase == CONN_BLOCK) {
		conn_close(c, "blocked", NULL);
		return;
	}
	if (c->phase != CONN_RELAY) {
		char err[64];
		snprintf(err, sizeof(err), "no progress in phase %s", conn_phase_name(c->phase));
		conn_close(c, "timeout-handshake", err);
		return;
	}
	last = c->client.last_ns > c->upstream.last_ns ? c->client.last_ns : c->upstream.last_ns;
	now = util_mono_ns();
	idle = (uint64_t)c->w->px->cfg->idle_ms * 1000000ull;
	if (now - last >= idle) {
		conn_close(c, "timeout-idle", NULL);
		return;
	}
	relay_trim(&c->client);
	relay_trim(&c->upstream);
	ms = (int)((idle - (now - last)) / 1000000ull) + 1;
	if (last >= c->trim_ns && ms > CONN_TRIM_MS)	/* traffic since the last pass */
		ms = CONN_TRIM_MS;
	c->trim_ns = now;
	conn_timer(c, ms);
}

/* Arm the timer. */
void
conn_timer(struct conn *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (c->ev_timer == NULL)
		c->ev_timer = evtimer_new(c->w->base, conn_timer_cb, c);
	if (c->ev_timer != NULL)
		evtimer_add(c->ev_timer, &tv);
}

/* The relay is over: close. */
static void
conn_relay_done(struct relay_half *h, const char *reason, const char *err)
{
	conn_close(h->owner, reason, err);
}

/* Start relaying. */
void
conn_relay(struct conn *c)
{
	c->phase = CONN_RELAY;
	c->client.done = c->upstream.done = conn_relay_done;
	conn_publish_open(c);	/* a no-op when the caller has published it, as all do */
	relay_start(&c->client);
	free(c->hello);		/* only proxy.conn.open reads these */
	c->hello = NULL;
	free(c->setup);
	c->setup = NULL;
	/* trim now as well as on the timer: freed before the next connections allocate, the
	 * handshake buffers leave no holes that keep RSS up (without this pass: 51.5 against
	 * 35.1 KiB per idle connection, QUICK bench, same run, 2026-11-23) */
	relay_trim(&c->client);
	relay_trim(&c->upstream);
	c->trim_ns = util_mono_ns();
	conn_timer(c, c->w->px->cfg->idle_ms < CONN_TRIM_MS ? c->w->px->cfg->idle_ms :
	    CONN_TRIM_MS);
}

/* Append "; " and the formatted text to the decision's why (before the relay starts). */
void
conn_why(struct conn *c, const char *fmt, ...)
{
	char *why = c->setup->why;
	size_t n = strlen(why);
	va_list ap;

	if (n + 2 >= sizeof(c->setup->why))
		return;
	memcpy(why + n, "; ", 3);
	va_start(ap, fmt);
	vsnprintf(why + n + 2, sizeof(c->setup->why) - n - 2, fmt, ap);
	va_end(ap);
}

/* Mark for termination. */
void
conn_term(struct conn *c, const char *reason, const char *err)
{
	if (c->term_reason != NULL)
		return;
	c->term_reason = reason;
	c->term_err = err != NULL ? strdup(err) : NULL;
}

/* Close if marked. */
int
conn_settle(struct conn *c)
{
	char *err;

	if (c->term_reason == NULL)
		return 0;
	err = c->term_err;
	c->term_err = NULL;
	conn_close(c, c->term_reason, err);
	free(err);
	return 1;
}

/* Publish proxy.conn.close. */
static void
conn_publish_close(struct conn *c, const char *reason, const char *err)
{
	json_t *ev;
	uint64_t now = util_mono_ns();

	if ((ev = bus_prepare(c->w->bus, "proxy.conn.close")) == NULL)
		return;
	json_object_set_new(ev, "flow", json_string(c->flow));
	json_object_set_new(ev, "action", c->refused ? json_string("refuse") : c->decided ?
	    json_string(policy_action_name(c->action)) : json_null());
	json_object_set_new(ev, "bytes_c2s", json_integer((json_int_t)c->client.nread));
	json_object_set_new(ev, "bytes_s2c", json_integer((json_int_t)c->upstream.nread));
	json_object_set_new(ev, "hs_client_us", json_integer((json_int_t)c->hs_client_us));
	json_object_set_new(ev, "hs_upstream_us", json_integer((json_int_t)c->hs_upstream_us));
	json_object_set_new(ev, "duration_us", json_integer((json_int_t)((now - c->t_start) /
	    1000)));
	json_object_set_new(ev, "reason", json_string(reason));
	json_object_set_new(ev, "error", err ? jsonout_text(err, strlen(err), NULL) : json_null());
	json_object_set_new(ev, "phase", json_string(conn_phase_name(c->phase)));
	worker_publish(c->w, ev);
}

/* The only way out. */
void
conn_close(struct conn *c, const char *reason, const char *err)
{
	struct worker *w = c->w;
	struct linger lg = { 1, 0 };
	int clean = strncmp(reason, "eof-", 4) == 0;

	if (!c->opened && c->decided)
		conn_publish_open(c);
	conn_publish_close(c, reason, err);
	log_debug("%s: close %s%s%s", c->flow, reason, err ? ": " : "", err ? err : "");
	if (c->kreq != NULL) {
		keypool_cancel(c->kreq);
		w->keywait--;
	}
	if (c->ev_peek != NULL)
		event_free(c->ev_peek);
	if (c->ev_dial != NULL)
		event_free(c->ev_dial);
	if (c->ev_timer != NULL)
		event_free(c->ev_timer);
	if (c->rst && c->cfd >= 0 && c->client.bev == NULL)
		setsockopt(c->cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	relay_free(&c->client, clean);	/* close_notify on a clean end */
	relay_free(&c->upstream, clean);
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->ufd >= 0)
		close(c->ufd);
	X509_free(c->orig_leaf);
	X509_free(c->forged);
	EVP_PKEY_free(c->leafkey);
	free(c->setup);
	free(c->hello);
	free(c->term_err);
	w->st.bytes_c2s += c->client.nread;
	w->st.bytes_s2c += c->upstream.nread;
	TAILQ_REMOVE(&w->conns, c, entry);
	w->active--;
	atomic_fetch_sub(&w->px->active, 1);
	free(c);
}
