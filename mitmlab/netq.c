/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq — the packet plane's queue handler (netq.h): opens the NFQUEUE, runs its own poll loop
 * over the netlink socket (a burst of packets per wake-up, then one batch verdict), turns each
 * packet into a verdict (netq_packet), releases held packets when due, and publishes net.*
 * events. Parsing, flow state, impairment rules and packet building live in netq_sig.c,
 * netq_flow.c, netq_impair.c; the rules that feed the queue in netq_rules.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include <jansson.h>

#include "bus.h"
#include "log.h"
#include "netq.h"
#include "netq_flow.h"
#include "netq_hold.h"
#include "netq_impair.h"
#include "netq_sig.h"
#include "tlspeek.h"
#include "util.h"

#define NETQ_BURST		64		/* packets read per wake-up before verdicts go out */
#define NETQ_BUFSZ		(256 * 1024)	/* one netlink message (GSO packets up to 64 KiB) */
#define NETQ_EXPIRE_PER_TICK	256		/* idle flows reported per stats period */
#define NETQ_RCVBUF		(8 * 1024 * 1024)

/* Cumulative counters, reported in net.stats. */
struct netq_counts {
	uint64_t pkts, bytes, accept, mark, drop, hold, release, hold_full, malformed, other;
	uint64_t injected, inject_err, flows_new, diverted, published, impaired, suppressed;
	uint64_t verdict_err, overruns, off_path;
	uint64_t bad_opts;	/* packets with TCP options Linux ignores (netq_sig_opts) */
};

/* The kernel's counters of our queue (/proc/self/net/netfilter/nfnetlink_queue). */
struct netq_kstat {
	int	 ok;
	unsigned len, dropped, user_dropped;
};

struct netq {
	const struct netq_conf *conf;
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	int	 fd, raw;
	struct bus *bus;
	struct netq_flow_table *flows;
	struct netq_hold *hold;
	struct netq_impair impair;	/* copy: the generator advances */
	uint32_t batch_id;
	int	 batch_pending;
	struct netq_counts n, last;
	double	 tokens;
	uint64_t tok_ns, tick_ns, last_tick_ns;
	struct tlspeek_hello hello;	/* scratch for the ClientHello parser */
	char	 src[NETQ_CONF_VANTAGE + 8];	/* bus source */
};

/* Send an event; capped events spend a token of the events_per_s bucket or are counted. */
static void
netq_emit(struct netq *q, json_t *ev, int capped)
{
	uint64_t now;

	if (ev == NULL)
		return;
	if (capped) {
		now = util_mono_ns();
		q->tokens += (double)(now - q->tok_ns) / 1e9 * q->conf->events_per_s;
		if (q->tokens > q->conf->events_per_s)
			q->tokens = q->conf->events_per_s;
		q->tok_ns = now;
		if (q->tokens < 1) {
			q->n.suppressed++;
			json_decref(ev);
			return;
		}
		q->tokens -= 1;
	}
	(void)bus_publish(q->bus, ev);
}

/* The JSON of one direction; hs names its handshake packet ("syn" / "synack"). */
static json_t *
netq_side_json(const struct netq_flow_side *s, const char *hs)
{
	json_t *o = json_object(), *h;

	json_object_set_new(o, "pkts", json_integer(s->pkts));
	json_object_set_new(o, "bytes", json_integer((json_int_t)s->bytes));
	if (s->pkts == 0)
		return o;
	json_object_set_new(o, "ttl", json_integer(s->ttl));
	json_object_set_new(o, "ttl_initial", json_integer(netq_sig_ttl_initial(s->ttl)));
	json_object_set_new(o, "hops", json_integer(netq_sig_hops(s->ttl)));
	json_object_set_new(o, "ttl_min", json_integer(s->ttl_min));
	json_object_set_new(o, "ttl_max", json_integer(s->ttl_max));
	json_object_set_new(o, "ipid", json_string(netq_sig_ipid_class(s->ipid, s->n_ipid)));
	json_object_set_new(o, "df", json_boolean(s->df));
	json_object_set_new(o, "win", json_integer(s->window));
	if (s->have_hs) {
		h = json_object();
		if (s->opts.has_mss)
			json_object_set_new(h, "mss", json_integer(s->opts.mss));
		if (s->opts.has_ws)
			json_object_set_new(h, "wscale", json_integer(s->opts.ws));
		json_object_set_new(h, "sack", json_boolean(s->opts.sack_perm));
		json_object_set_new(h, "ts", json_boolean(s->opts.has_ts));
		json_object_set_new(h, "opts", json_string(s->opts.layout));
		json_object_set_new(h, "opts_malformed", json_boolean(s->opts.malformed));
		json_object_set_new(h, "win", json_integer(s->window));
		json_object_set_new(o, hs, h);
	}
	if (s->data_ns != 0) {
		json_object_set_new(o, "first_data_bytes", json_integer(s->data_len));
		json_object_set_new(o, "flight_bytes", json_integer(netq_flow_flight_bytes(s)));
	}
	json_object_set_new(o, "fin", json_boolean(s->fin));
	json_object_set_new(o, "rst", json_boolean(s->rst));
	return o;
}

/* Publish net.flow for f once. */
static void
netq_publish_flow(struct netq *q, struct netq_flow *f, const char *why)
{
	char id[NETQ_SIG_FLOWID];
	json_t *ev;

	if (f->published)
		return;
	f->published = 1;
	if ((ev = bus_prepare(q->bus, "net.flow")) == NULL)
		return;
	json_object_set_new(ev, "flow", json_string(netq_sig_flow_id(f->cip, f->cport, f->sip,
	    f->sport, id)));
	json_object_set_new(ev, "why", json_string(why));
	json_object_set_new(ev, "vantage", json_string(q->conf->vantage));
	if (!q->conf->monitor) {
		json_object_set_new(ev, "diverted", json_boolean(f->diverted));
		json_object_set_new(ev, "on_path", json_boolean(f->on_path));
	}
	if (f->name[0] != '\0')
		json_object_set_new(ev, "name", json_string(f->name));
	json_object_set_new(ev, "client", netq_side_json(&f->c, "syn"));
	json_object_set_new(ev, "server", netq_side_json(&f->s, "synack"));
	if (f->c.pkts > 0) {
		json_object_set_new(ev, "client_ttl", json_integer(f->c.ttl));
		json_object_set_new(ev, "client_hops", json_integer(netq_sig_hops(f->c.ttl)));
	}
	if (f->s.pkts > 0) {
		json_object_set_new(ev, "server_ttl", json_integer(f->s.ttl));
		json_object_set_new(ev, "server_hops", json_integer(netq_sig_hops(f->s.ttl)));
	}
	if (f->s.data_ns != 0)
		json_object_set_new(ev, "server_flight_bytes", json_integer(netq_flow_flight_bytes(&f->s)));
	if (f->c.have_hs && f->s.have_hs && f->s.hs_ns >= f->c.hs_ns)
		json_object_set_new(ev, "syn_synack_us",
		    json_integer((json_int_t)((f->s.hs_ns - f->c.hs_ns) / 1000)));
	if (f->s.have_hs && f->c.data_ns >= f->s.hs_ns && f->c.data_ns != 0)
		json_object_set_new(ev, "synack_data_us",
		    json_integer((json_int_t)((f->c.data_ns - f->s.hs_ns) / 1000)));
	if (f->c.data_ns != 0 && f->s.data_ns > f->c.data_ns)
		json_object_set_new(ev, "data_reply_us",
		    json_integer((json_int_t)((f->s.data_ns - f->c.data_ns) / 1000)));
	if (f->impair >= 0)
		json_object_set_new(ev, "impair", json_string(q->impair.rules[f->impair].text));
	if (f->c.pkts > 0 && f->s.pkts > 0 && q->conf->monitor)
		json_object_set_new(ev, "path_hops",
		    json_integer(netq_sig_hops(f->c.ttl) + 1 + netq_sig_hops(f->s.ttl)));
	json_object_set_new(ev, "duration_ms",
	    json_integer((json_int_t)((f->last_ns - f->first_ns) / 1000000)));
	q->n.published++;
	netq_emit(q, ev, 1);
}

/* The flow table's callback: report flows leaving it. */
static void
netq_flow_gone(struct netq_flow *f, const char *why, void *arg)
{
	netq_publish_flow(arg, f, why);
}

/* Publish net.impair for f once. */
static void
netq_report_impair(struct netq *q, struct netq_flow *f, const struct netq_impair_rule *r)
{
	char id[NETQ_SIG_FLOWID];
	json_t *ev;

	if (f->impair_reported)
		return;
	f->impair_reported = 1;
	q->n.impaired++;
	if ((ev = bus_prepare(q->bus, "net.impair")) == NULL)
		return;
	json_object_set_new(ev, "flow", json_string(netq_sig_flow_id(f->cip, f->cport, f->sip,
	    f->sport, id)));
	json_object_set_new(ev, "vantage", json_string(q->conf->vantage));
	json_object_set_new(ev, "action", json_string(netq_impair_kind_name(r->kind)));
	json_object_set_new(ev, "rule", json_string(r->text));
	if (f->name[0] != '\0')
		json_object_set_new(ev, "name", json_string(f->name));
	netq_emit(q, ev, 1);
}

/* Send one built packet through the raw socket (its destination is in the IP header). */
static void
netq_inject(struct netq *q, const uint8_t *pkt, size_t len)
{
	struct sockaddr_in sin;

	if (len < 20) {
		q->n.inject_err++;
		return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, pkt + 16, 4);
	if (sendto(q->raw, pkt, len, 0, (struct sockaddr *)&sin, sizeof(sin)) != (ssize_t)len) {
		q->n.inject_err++;
		log_debug("inject: %s", strerror(errno));
	} else
		q->n.injected++;
}

/* Learn the flow's name from its first client data: HTTP Host, or TLS SNI (from this segment,
 * or once the segments that follow complete the request's header lines or the ClientHello:
 * netq_flow_http, netq_flow_hello). */
static void
netq_learn_name(struct netq *q, struct netq_flow *f, const struct netq_sig_pkt *p)
{
	enum netq_http h;

	f->name_tried = 1;
	h = netq_sig_http_request(p->payload, p->payload_len, f->name, sizeof(f->name));
	if (h == NETQ_HTTP_YES) {
		f->http = 1;
		return;
	}
	if (h == NETQ_HTTP_MORE) {	/* not called HTTP until the request says so */
		(void)netq_flow_http(q->flows, f, netq_sig_data_seq(p), p->payload, p->payload_len);
		return;
	}
	(void)netq_flow_hello(q->flows, f, netq_sig_data_seq(p), p->payload, p->payload_len,
	    &q->hello);
}

/* End f by impairment: no packet of it passes from now on. */
static void
netq_kill(struct netq *q, struct netq_flow *f, const struct netq_impair_rule *r)
{
	f->state = NETQ_FLOW_DEAD;
	netq_flow_hello_abandon(q->flows, f);	/* no later segment will be looked at */
	netq_report_impair(q, f, r);
	netq_publish_flow(q, f, "impair");
}

/* Apply f's impairment rule to packet p; returns the verdict (v if untouched). at_hello: p is
 * the flow's first client data, or the segment that completed a ClientHello or HTTP request
 * spanning several (the reset, timeout and, on a request, redirect rules act there: the
 * origin has then seen part of it, as behind a real DPI box that reassembles). */
static enum netq_verdict
netq_apply(struct netq *q, struct netq_flow *f, const struct netq_sig_pkt *p, int at_hello,
    enum netq_verdict v, uint32_t *hold_ms)
{
	const struct netq_impair_rule *r = &q->impair.rules[f->impair];
	uint8_t a[NETQ_IMPAIR_PKT], b[NETQ_IMPAIR_PKT], x[NETQ_IMPAIR_PKT];
	size_t la, lb, lx;

	switch (r->kind) {
	case NETQ_IMPAIR_DROP:
		if (netq_impair_roll(&q->impair, r->prob)) {
			netq_report_impair(q, f, r);
			return NETQ_V_DROP;
		}
		break;
	case NETQ_IMPAIR_DELAY:
		netq_report_impair(q, f, r);
		*hold_ms = r->delay_ms;
		return NETQ_V_HOLD;
	case NETQ_IMPAIR_RESET:
		if (!at_hello)
			break;
		netq_impair_rst_pair(p, a, &la, b, &lb);
		netq_inject(q, a, la);
		netq_inject(q, b, lb);
		netq_kill(q, f, r);
		return NETQ_V_DROP;
	case NETQ_IMPAIR_TIMEOUT:
		if (!at_hello)
			break;
		netq_kill(q, f, r);
		return NETQ_V_DROP;
	case NETQ_IMPAIR_REDIRECT:
		if (!at_hello || !f->http)
			break;
		la = netq_impair_redirect(p, r->url, a, sizeof(a));
		netq_impair_rst_pair(p, x, &lx, b, &lb);	/* only the RST to the server */
		netq_inject(q, a, la);
		netq_inject(q, b, lb);
		netq_kill(q, f, r);
		return NETQ_V_DROP;
	}
	return v;
}

/* Decide one packet: signals, diversion, impairment. mark_out gets the verdict mark. */
enum netq_verdict
netq_packet(struct netq *q, const uint8_t *data, size_t len, uint32_t mark_in,
    uint32_t *mark_out, uint32_t *hold_ms)
{
	const struct netq_conf *c = q->conf;
	enum netq_verdict v = NETQ_V_ACCEPT;
	enum netq_sig_status st;
	struct netq_sig_pkt p;
	struct netq_flow *f;
	uint32_t cip, sip;
	uint16_t cport, sport;
	int c2s, created, first_data, learned = 0, joined = 0;
	uint64_t now = util_now_ns();

	q->n.pkts++;
	q->n.bytes += len;
	if ((st = netq_sig_parse(data, len, &p)) != NETQ_SIG_OK) {
		if (st == NETQ_SIG_TRUNCATED || st == NETQ_SIG_MALFORMED)
			q->n.malformed++;
		else
			q->n.other++;
		return NETQ_V_ACCEPT;
	}
	/* options Linux ignores in part are no reason to skip the packet: the kernel completes
	 * the handshake, so the flow is diverted, named and impaired as any other (a counter and
	 * the flow's "opts_malformed" say they were there) */
	if (p.opts.malformed) {		/* "malformed" counts them as it always did */
		q->n.bad_opts++;
		q->n.malformed++;
	}
	c2s = netq_flow_dir(q->flows, &p);
	cip = c2s ? p.src : p.dst;
	sip = c2s ? p.dst : p.src;
	cport = c2s ? p.sport : p.dport;
	sport = c2s ? p.dport : p.sport;
	/* Monitor mode (passive: netq_conf_monitor allows no diversion and no impairment, so the
	 * rest only notes signals): only clients on the path are tracked, and as the queue sits
	 * in FORWARD after this router's own TTL decrement, undo it so that hops count the
	 * routers between the sender and this router, as at the gateway. */
	if (c->monitor) {
		if (!netq_conf_on_path(c, cip)) {
			q->n.off_path++;
			return NETQ_V_ACCEPT;
		}
		if (p.ttl < 255)
			p.ttl++;
	}
	f = netq_flow_get(q->flows, cip, cport, sip, sport, now, 1, &created);
	if (created) {
		f->on_path = netq_conf_on_path(c, cip);
		q->n.flows_new++;
	}
	first_data = c2s && p.payload_len > 0 && f->c.data_ns == 0;
	netq_flow_note(f, &p, c2s, now);
	if (f->state == NETQ_FLOW_DEAD)
		return NETQ_V_DROP;
	if (c2s && (p.flags & (NETQ_SIG_SYN | NETQ_SIG_ACK)) == NETQ_SIG_SYN &&
	    netq_conf_divert(c, cip, sip, sport)) {
		if (!f->diverted)
			q->n.diverted++;
		f->diverted = 1;
		*mark_out = mark_in | c->mark;
		v = NETQ_V_MARK;
	}
	if (first_data && !f->name_tried) {
		netq_learn_name(q, f, &p);
		learned = 1;
	} else if (c2s && p.payload_len > 0 && netq_flow_hello_pending(f) &&
	    netq_flow_hello(q->flows, f, p.seq, p.payload, p.payload_len, &q->hello) == 0)
		/* named, or an HTTP request whose headers ended without a Host (a rule by
		 * address acts there, as on a request whole in its first segment) */
		learned = joined = f->name[0] != '\0' || f->http;
	if (f->on_path && q->impair.n > 0) {
		if (created || (learned && f->impair < 0))
			f->impair = netq_impair_match(&q->impair, sip, f->name);
		if (f->impair >= 0)
			v = netq_apply(q, f, &p, first_data || joined, v, hold_ms);
	}
	if (!f->published && netq_flow_complete(f))
		netq_publish_flow(q, f, "complete");
	return v;
}

/* Give a verdict now. */
static void
netq_verdict(struct netq *q, uint32_t id, uint32_t verdict, int set_mark, uint32_t mark)
{
	int r;

	if (set_mark)
		r = nfq_set_verdict2(q->qh, id, verdict, mark, 0, NULL);
	else
		r = nfq_set_verdict(q->qh, id, verdict, 0, NULL);
	if (r < 0)
		q->n.verdict_err++;
}

/* Send the pending batch of plain accepts. */
static void
netq_flush(struct netq *q)
{
	if (!q->batch_pending)
		return;
	q->batch_pending = 0;
	if (nfq_set_verdict_batch(q->qh, q->batch_id, NF_ACCEPT) < 0)
		q->n.verdict_err++;
}

/* libnetfilter_queue callback: one packet. */
static int
netq_cb(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *arg)
{
	struct netq *q = arg;
	struct nfqnl_msg_packet_hdr *ph;
	struct netq_hold_item it;
	unsigned char *data = NULL;
	uint32_t id, mark_in, mark_out, hold_ms = 0;
	enum netq_verdict v;
	int len;

	(void)qh;
	(void)msg;
	if ((ph = nfq_get_msg_packet_hdr(nfa)) == NULL)
		return 0;
	id = ntohl(ph->packet_id);
	len = nfq_get_payload(nfa, &data);
	mark_in = mark_out = nfq_get_nfmark(nfa);
	v = len > 0 ? netq_packet(q, data, (size_t)len, mark_in, &mark_out, &hold_ms) : NETQ_V_ACCEPT;
	if (v == NETQ_V_ACCEPT && netq_hold_count(q->hold) == 0) {
		q->n.accept++;
		q->batch_id = id;
		q->batch_pending = 1;
		return 0;
	}
	netq_flush(q);
	switch (v) {
	case NETQ_V_ACCEPT:
		q->n.accept++;
		netq_verdict(q, id, NF_ACCEPT, 0, 0);
		break;
	case NETQ_V_MARK:
		q->n.mark++;
		netq_verdict(q, id, NF_ACCEPT, 1, mark_out);
		break;
	case NETQ_V_DROP:
		q->n.drop++;
		netq_verdict(q, id, NF_DROP, 0, 0);
		break;
	case NETQ_V_HOLD:
		it.due_ns = util_mono_ns() + (uint64_t)hold_ms * 1000000;
		it.id = id;
		it.mark = mark_out;
		it.set_mark = mark_out != mark_in;
		if (netq_hold_push(q->hold, &it) == -1) {
			q->n.hold_full++;
			netq_verdict(q, id, NF_ACCEPT, it.set_mark, it.mark);
		} else
			q->n.hold++;
		break;
	}
	return 0;
}

/* Release held packets due by now (all of them if all). */
static void
netq_release(struct netq *q, int all)
{
	struct netq_hold_item it;
	uint64_t now = util_mono_ns();

	while ((all ? netq_hold_pop(q->hold, &it) : netq_hold_pop_due(q->hold, now, &it)) == 0) {
		q->n.release++;
		netq_verdict(q, it.id, NF_ACCEPT, it.set_mark, it.mark);
	}
}

/* The kernel's counters of queue num in this namespace; ok stays 0 when not found. */
static void
netq_kstat_read(int num, struct netq_kstat *k)
{
	char line[256];
	unsigned qn, portid, total, mode, range, dropped, udropped;
	FILE *f;

	memset(k, 0, sizeof(*k));
	if ((f = fopen("/proc/self/net/netfilter/nfnetlink_queue", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%u %u %u %u %u %u %u", &qn, &portid, &total, &mode, &range,
		    &dropped, &udropped) == 7 && (int)qn == num) {
			k->ok = 1;
			k->len = total;
			k->dropped = dropped;
			k->user_dropped = udropped;
			break;
		}
	}
	fclose(f);
}

/* The verdict counters as JSON. */
static json_t *
netq_verdicts_json(const struct netq_counts *n)
{
	json_t *v = json_object();

	json_object_set_new(v, "accept", json_integer((json_int_t)n->accept));
	json_object_set_new(v, "mark", json_integer((json_int_t)n->mark));
	json_object_set_new(v, "drop", json_integer((json_int_t)n->drop));
	json_object_set_new(v, "hold", json_integer((json_int_t)n->hold));
	json_object_set_new(v, "release", json_integer((json_int_t)n->release));
	json_object_set_new(v, "hold_full", json_integer((json_int_t)n->hold_full));
	json_object_set_new(v, "errors", json_integer((json_int_t)n->verdict_err));
	return v;
}

/*
 * The handler's own throughput as proxy.stats (gateway only). Keys do not reuse the engine
 * workers' names (accepted, handshakes, bytes_*, cpu_s, rss_kb, active), so a reader summing
 * proxy.stats over workers counts nothing of it; "component": "netq" tells them apart.
 */
static void
netq_proxy_stats(struct netq *q, uint64_t dt, json_int_t pps, const struct netq_kstat *k,
    double cpu, int final)
{
	json_t *ev;

	if ((ev = bus_prepare(q->bus, "proxy.stats")) == NULL)
		return;
	json_object_set_new(ev, "component", json_string("netq"));
	json_object_set_new(ev, "vantage", json_string(q->conf->vantage));
	json_object_set_new(ev, "queue", json_integer(q->conf->queue_num));
	json_object_set_new(ev, "fail_open", json_boolean(q->conf->fail_open));
	json_object_set_new(ev, "interval_ms", json_integer((json_int_t)(dt / 1000000)));
	json_object_set_new(ev, "packets", json_integer((json_int_t)q->n.pkts));
	json_object_set_new(ev, "packets_per_s", json_integer(pps));
	json_object_set_new(ev, "ip_bytes", json_integer((json_int_t)q->n.bytes));
	json_object_set_new(ev, "ip_bytes_per_s", json_integer(dt == 0 ? 0 :
	    (json_int_t)((double)(q->n.bytes - q->last.bytes) * 1e9 / (double)dt)));
	json_object_set_new(ev, "verdicts", netq_verdicts_json(&q->n));
	json_object_set_new(ev, "flows", json_integer((json_int_t)netq_flow_count(q->flows)));
	json_object_set_new(ev, "flows_diverted", json_integer((json_int_t)q->n.diverted));
	json_object_set_new(ev, "queue_len", k->ok ? json_integer(k->len) : json_null());
	json_object_set_new(ev, "queue_dropped", k->ok ? json_integer(k->dropped) : json_null());
	json_object_set_new(ev, "queue_user_dropped", k->ok ? json_integer(k->user_dropped) :
	    json_null());
	json_object_set_new(ev, "queue_overruns", json_integer((json_int_t)q->n.overruns));
	json_object_set_new(ev, "handler_cpu_s", json_real(cpu));
	if (final)
		json_object_set_new(ev, "final", json_true());
	netq_emit(q, ev, 0);
}

/* Publish net.stats (and, at the gateway, proxy.stats); final on the way out. */
static void
netq_stats(struct netq *q, uint64_t now, int final)
{
	uint64_t dt = now - q->last_tick_ns;
	json_int_t pps = dt == 0 ? 0 :
	    (json_int_t)((double)(q->n.pkts - q->last.pkts) * 1e9 / (double)dt);
	struct netq_kstat k;
	double cpu = util_cpu_s(RUSAGE_SELF);
	uint64_t joined, lost, rjoined, rlost;
	json_t *ev;

	netq_kstat_read(q->conf->queue_num, &k);
	netq_flow_hello_counts(q->flows, &joined, &lost);
	netq_flow_http_counts(q->flows, &rjoined, &rlost);
	if ((ev = bus_prepare(q->bus, "net.stats")) != NULL) {
		json_object_set_new(ev, "vantage", json_string(q->conf->vantage));
		json_object_set_new(ev, "monitor", json_boolean(q->conf->monitor));
		json_object_set_new(ev, "interval_ms", json_integer((json_int_t)(dt / 1000000)));
		json_object_set_new(ev, "pkts", json_integer((json_int_t)q->n.pkts));
		json_object_set_new(ev, "bytes", json_integer((json_int_t)q->n.bytes));
		json_object_set_new(ev, "pkts_per_s", json_integer(pps));
		json_object_set_new(ev, "verdicts", netq_verdicts_json(&q->n));
		json_object_set_new(ev, "flows", json_integer((json_int_t)netq_flow_count(q->flows)));
		json_object_set_new(ev, "flows_new", json_integer((json_int_t)q->n.flows_new));
		json_object_set_new(ev, "flows_evicted",
		    json_integer((json_int_t)netq_flow_evictions(q->flows)));
		json_object_set_new(ev, "flows_diverted", json_integer((json_int_t)q->n.diverted));
		json_object_set_new(ev, "flows_impaired", json_integer((json_int_t)q->n.impaired));
		json_object_set_new(ev, "hellos_reassembled", json_integer((json_int_t)joined));
		json_object_set_new(ev, "hellos_not_reassembled", json_integer((json_int_t)lost));
		json_object_set_new(ev, "requests_reassembled", json_integer((json_int_t)rjoined));
		json_object_set_new(ev, "requests_not_reassembled", json_integer((json_int_t)rlost));
		json_object_set_new(ev, "reassembly_slots_reclaimed", json_integer((json_int_t)
		    netq_flow_hello_reclaimed(q->flows)));
		json_object_set_new(ev, "held", json_integer((json_int_t)netq_hold_count(q->hold)));
		json_object_set_new(ev, "injected", json_integer((json_int_t)q->n.injected));
		json_object_set_new(ev, "inject_errors", json_integer((json_int_t)q->n.inject_err));
		json_object_set_new(ev, "malformed", json_integer((json_int_t)q->n.malformed));
		json_object_set_new(ev, "malformed_options",
		    json_integer((json_int_t)q->n.bad_opts));
		json_object_set_new(ev, "not_tcp", json_integer((json_int_t)q->n.other));
		json_object_set_new(ev, "off_path", json_integer((json_int_t)q->n.off_path));
		json_object_set_new(ev, "queue_overruns", json_integer((json_int_t)q->n.overruns));
		json_object_set_new(ev, "queue_len", k.ok ? json_integer(k.len) : json_null());
		json_object_set_new(ev, "queue_dropped", k.ok ? json_integer(k.dropped) : json_null());
		json_object_set_new(ev, "queue_user_dropped", k.ok ? json_integer(k.user_dropped) :
		    json_null());
		json_object_set_new(ev, "cpu_s", json_real(cpu));
		json_object_set_new(ev, "events_flow", json_integer((json_int_t)q->n.published));
		json_object_set_new(ev, "events_suppressed", json_integer((json_int_t)q->n.suppressed));
		json_object_set_new(ev, "bus_dropped", json_integer((json_int_t)bus_dropped(q->bus)));
		if (final)
			json_object_set_new(ev, "final", json_true());
		netq_emit(q, ev, 0);
	}
	if (!q->conf->monitor)
		netq_proxy_stats(q, dt, pps, &k, cpu, final);
	q->last = q->n;
	q->last_tick_ns = now;
}

/* The state for c without the queue, raw socket or bus (netq.h). */
struct netq *
netq_new(const struct netq_conf *c, char **cause)
{
	struct netq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	q->conf = c;
	q->fd = q->raw = -1;
	q->impair = c->impair;
	q->impair.rng = c->seed;
	if ((q->flows = netq_flow_table_new(c->max_flows, netq_flow_gone, q)) == NULL ||
	    (q->hold = netq_hold_new(c->hold_max)) == NULL) {
		util_cause(cause, "out of memory for %zu flows / %zu held packets", c->max_flows,
		    c->hold_max);
		netq_free(q);
		return NULL;
	}
	q->tokens = c->events_per_s;
	q->tok_ns = q->last_tick_ns = util_mono_ns();
	q->tick_ns = q->tok_ns + (uint64_t)c->stats_ms * 1000000;
	return q;
}

/* The flow table of q. */
struct netq_flow_table *
netq_flows(struct netq *q)
{
	return q->flows;
}

/* Open the queue, the raw socket and the bus of q (netq_new made the tables). */
static int
netq_open(struct netq *q, char **cause)
{
	const struct netq_conf *c = q->conf;
	uint32_t flags = NFQA_CFG_F_GSO | (c->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
	int one = 1, rcv = NETQ_RCVBUF;

	if ((q->h = nfq_open()) == NULL)
		return util_cause(cause, "nfq_open: %s (needs root and nfnetlink_queue)",
		    strerror(errno));
	(void)nfq_bind_pf(q->h, AF_INET);	/* a no-op on kernels since 3.8 */
	if ((q->qh = nfq_create_queue(q->h, (uint16_t)c->queue_num, netq_cb, q)) == NULL)
		return util_cause(cause, "queue %d: %s (is another handler bound to it in this "
		    "namespace?)", c->queue_num, strerror(errno));
	if (nfq_set_mode(q->qh, NFQNL_COPY_PACKET, 0xffff) < 0)
		return util_cause(cause, "queue %d: cannot set copy mode", c->queue_num);
	if (nfq_set_queue_maxlen(q->qh, c->queue_maxlen) < 0)
		log_warnx("queue %d: cannot set the queue length %u", c->queue_num, c->queue_maxlen);
	if (nfq_set_queue_flags(q->qh, NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN, flags) < 0)
		log_warnx("queue %d: kernel refused the GSO/fail-open flags", c->queue_num);
	q->fd = nfq_fd(q->h);
	(void)setsockopt(q->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	(void)setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	if (!c->monitor &&
	    (q->raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) == -1)
		return util_cause(cause, "raw socket: %s", strerror(errno));
	if ((q->bus = bus_open(c->bus, netq_conf_src(c, q->src, sizeof(q->src)), 2000,
	    cause)) == NULL)
		return -1;
	q->tokens = c->events_per_s;	/* the clocks start again once the bus is up */
	q->tok_ns = q->last_tick_ns = util_mono_ns();
	q->tick_ns = q->tok_ns + (uint64_t)c->stats_ms * 1000000;
	return 0;
}

/* Close everything netq_new and netq_open opened (any subset), and free q. */
void
netq_free(struct netq *q)
{
	if (q == NULL)
		return;
	if (q->qh != NULL)
		nfq_destroy_queue(q->qh);
	if (q->h != NULL)
		nfq_close(q->h);
	if (q->raw != -1)
		close(q->raw);
	bus_close(q->bus);
	netq_flow_table_free(q->flows);
	netq_hold_free(q->hold);
	free(q);
}

/* Read up to NETQ_BURST packets; -1 with *cause on a socket error. */
static int
netq_read(struct netq *q, char *buf, char **cause)
{
	ssize_t r;
	int i;

	for (i = 0; i < NETQ_BURST; i++) {
		r = recv(q->fd, buf, NETQ_BUFSZ, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				q->n.overruns++;
				continue;
			}
			if (errno == EINTR)
				continue;
			return util_cause(cause, "queue read: %s", strerror(errno));
		}
		(void)nfq_handle_packet(q->h, buf, (int)r);
	}
	netq_flush(q);
	return 0;
}

/* The handler's loop. */
int
netq_run(const struct netq_conf *c, volatile int *stop, char **cause)
{
	struct netq *q;
	struct pollfd pfd;
	uint64_t now, next;
	char *buf = NULL;
	int rc = -1, timeout;

	if ((buf = malloc(NETQ_BUFSZ)) == NULL)
		return util_cause(cause, "out of memory");
	if ((q = netq_new(c, cause)) == NULL) {
		free(buf);
		return -1;
	}
	if (netq_open(q, cause) == -1)
		goto out;
	if (c->monitor)
		log_info("queue %d: monitoring as vantage %s (passive, fail-open, %zu flows max)",
		    c->queue_num, c->vantage, c->max_flows);
	else
		log_info("queue %d: handling (%s, mark 0x%x, %zu flows max)", c->queue_num,
		    c->fail_open ? "fail-open" : "fail-closed", c->mark, c->max_flows);
	while (!*stop) {
		now = util_mono_ns();
		next = q->tick_ns;
		if (netq_hold_count(q->hold) > 0 && netq_hold_next(q->hold) < next)
			next = netq_hold_next(q->hold);
		timeout = next > now ? (int)((next - now + 999999) / 1000000) : 0;
		pfd.fd = q->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, timeout) == -1 && errno != EINTR) {
			util_cause(cause, "poll: %s", strerror(errno));
			goto out;
		}
		if ((pfd.revents & POLLIN) && netq_read(q, buf, cause) == -1)
			goto out;
		netq_release(q, 0);
		now = util_mono_ns();
		if (now >= q->tick_ns) {
			netq_stats(q, now, 0);
			netq_flow_expire(q->flows, util_now_ns(), (uint64_t)c->idle_s * 1000000000ULL,
			    NETQ_EXPIRE_PER_TICK);
			q->tick_ns += (uint64_t)c->stats_ms * 1000000;
			if (q->tick_ns <= now)
				q->tick_ns = now + (uint64_t)c->stats_ms * 1000000;
		}
	}
	rc = 0;
out:
	if (q->qh != NULL) {
		netq_flush(q);
		netq_release(q, 1);
		netq_flow_clear(q->flows);
		netq_stats(q, util_mono_ns(), 1);
	}
	netq_free(q);
	free(buf);
	return rc;
}
