/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_impair — impairment rules, the seeded generator and packet building (netq_impair.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netq_impair.h"
#include "util.h"

/* Start with no rules. */
void
netq_impair_init(struct netq_impair *im, uint64_t seed)
{
	memset(im, 0, sizeof(*im));
	im->rng = seed;
}

/* Parse "ACTION[:ARG] MATCH". */
int
netq_impair_add(struct netq_impair *im, const char *spec, const char *origin, char **cause)
{
	struct netq_impair_rule r;
	char buf[1024], *match, *arg, *end, *c2 = NULL;
	long long ms;

	memset(&r, 0, sizeof(r));
	if (im->n == NETQ_IMPAIR_MAX)
		return util_cause(cause, "%s: more than %d impairment rules", origin,
		    NETQ_IMPAIR_MAX);
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return util_cause(cause, "%s: impairment rule too long", origin);
	snprintf(r.text, sizeof(r.text), "%s", spec);
	if ((match = strchr(buf, ' ')) == NULL)
		return util_cause(cause, "%s: impairment \"%s\": expected \"ACTION MATCH\" (e.g. "
		    "\"drop:0.3 dst=10.2.1.0/24\", \"reset sni=twitter.com\")", origin, spec);
	*match++ = '\0';
	while (*match == ' ')
		match++;
	if ((arg = strchr(buf, ':')) != NULL)
		*arg++ = '\0';
	if (strcmp(buf, "drop") == 0) {
		r.kind = NETQ_IMPAIR_DROP;
		if (arg == NULL || (r.prob = strtod(arg, &end), *end != '\0') ||
		    !(r.prob >= 0 && r.prob <= 1))
			return util_cause(cause, "%s: impairment \"%s\": drop needs a probability "
			    "0..1 (drop:0.25)", origin, spec);
	} else if (strcmp(buf, "delay") == 0) {
		r.kind = NETQ_IMPAIR_DELAY;
		if (arg == NULL || util_parse_ll(arg, 1, 10000, &ms, NULL) == -1)
			return util_cause(cause, "%s: impairment \"%s\": delay needs milliseconds "
			    "1..10000 (delay:50)", origin, spec);
		r.delay_ms = (uint32_t)ms;
	} else if (strcmp(buf, "reset") == 0 && arg == NULL) {
		r.kind = NETQ_IMPAIR_RESET;
	} else if (strcmp(buf, "timeout") == 0 && arg == NULL) {
		r.kind = NETQ_IMPAIR_TIMEOUT;
	} else if (strcmp(buf, "redirect") == 0) {
		r.kind = NETQ_IMPAIR_REDIRECT;
		if (arg == NULL || strncmp(arg, "http", 4) != 0 || strpbrk(arg, "\r\n ") != NULL ||
		    snprintf(r.url, sizeof(r.url), "%s", arg) >= (int)sizeof(r.url))
			return util_cause(cause, "%s: impairment \"%s\": redirect needs a URL "
			    "(redirect:http://warning.lab/install)", origin, spec);
	} else
		return util_cause(cause, "%s: impairment \"%s\": unknown action \"%s\" (known: "
		    "drop:P delay:MS reset timeout redirect:URL)", origin, spec, buf);
	if (strncmp(match, "sni=", 4) == 0) {
		r.by_name = 1;
		if (policy_pattern_check(match + 4, &c2) == -1 ||
		    snprintf(r.pattern, sizeof(r.pattern), "%s", match + 4) >= (int)sizeof(r.pattern))
			goto bad;
	} else if (strncmp(match, "dst=", 4) == 0) {
		if (policy_cidr_parse(match + 4, &r.cidr, &c2) == -1)
			goto bad;
		if (r.cidr.family != AF_INET) {
			c2 = strdup("IPv4 only");
			goto bad;
		}
	} else
		return util_cause(cause, "%s: impairment \"%s\": unknown match \"%s\" (use "
		    "sni=PATTERN or dst=CIDR)", origin, spec, match);
	im->rules[im->n++] = r;
	return 0;
bad:
	util_cause(cause, "%s: impairment \"%s\": %s", origin, spec, c2 != NULL ? c2 : "bad match");
	free(c2);
	return -1;
}

/* First matching rule. */
int
netq_impair_match(const struct netq_impair *im, uint32_t dst, const char *name)
{
	struct sockaddr_in sin;
	size_t i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(dst);
	for (i = 0; i < im->n; i++) {
		const struct netq_impair_rule *r = &im->rules[i];
		if (r->by_name) {
			if (name != NULL && name[0] != '\0' && policy_sni_match(r->pattern, name))
				return (int)i;
		} else if (policy_cidr_match(&r->cidr, (const struct sockaddr *)&sin))
			return (int)i;
	}
	return -1;
}

/* splitmix64. */
uint64_t
netq_impair_rand(struct netq_impair *im)
{
	uint64_t z = (im->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Bernoulli trial. */
int
netq_impair_roll(struct netq_impair *im, double prob)
{
	if (prob <= 0)
		return 0;
	if (prob >= 1)
		return 1;
	return (double)(netq_impair_rand(im) >> 11) * (1.0 / 9007199254740992.0) < prob;
}

/* Name of a kind. */
const char *
netq_impair_kind_name(enum netq_impair_kind k)
{
	switch (k) {
	case NETQ_IMPAIR_DROP:		return "drop";
	case NETQ_IMPAIR_DELAY:		return "delay";
	case NETQ_IMPAIR_RESET:		return "reset";
	case NETQ_IMPAIR_TIMEOUT:	return "timeout";
	case NETQ_IMPAIR_REDIRECT:	return "redirect";
	}
	return "?";
}

/* Store 16 / 32 bits big-endian. */
static void
netq_impair_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
netq_impair_put32(uint8_t *p, uint32_t v)
{
	netq_impair_put16(p, (uint16_t)(v >> 16));
	netq_impair_put16(p + 2, (uint16_t)v);
}

/* Build one IPv4/TCP packet. */
size_t
netq_impair_build(uint8_t *out, size_t outlen, uint32_t src, uint16_t sport, uint32_t dst,
    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
    const uint8_t *payload, size_t plen)
{
	size_t len = 40 + plen;
	uint8_t *t = out + 20;

	if (len > outlen || len > 0xffff)
		return 0;
	memset(out, 0, 40);
	out[0] = 0x45;
	netq_impair_put16(out + 2, (uint16_t)len);
	netq_impair_put16(out + 6, 0x4000);	/* DF */
	out[8] = 64;
	out[9] = 6;
	netq_impair_put32(out + 12, src);
	netq_impair_put32(out + 16, dst);
	netq_impair_put16(out + 10, netq_sig_ip_csum(out, 20));
	netq_impair_put16(t, sport);
	netq_impair_put16(t + 2, dport);
	netq_impair_put32(t + 4, seq);
	netq_impair_put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	netq_impair_put16(t + 14, window);
	if (plen > 0)
		memcpy(t + 20, payload, plen);
	netq_impair_put16(t + 16, netq_sig_tcp_csum(src, dst, t, 20 + plen));
	return len;
}

/* RSTs to both ends of the flow of client packet p. */
void
netq_impair_rst_pair(const struct netq_sig_pkt *p, uint8_t *to_c, size_t *lc, uint8_t *to_s,
    size_t *ls)
{
	uint32_t after = p->seq + (uint32_t)p->payload_len +
	    ((p->flags & (NETQ_SIG_SYN | NETQ_SIG_FIN)) ? 1 : 0);

	/* the client expects the server's next byte (its ack) and gets ack of what it sent */
	*lc = netq_impair_build(to_c, NETQ_IMPAIR_PKT, p->dst, p->dport, p->src, p->sport,
	    p->ack, after, NETQ_SIG_RST | NETQ_SIG_ACK, 0, NULL, 0);
	/* the server never got p: its next expected byte is p's first */
	*ls = netq_impair_build(to_s, NETQ_IMPAIR_PKT, p->src, p->sport, p->dst, p->dport,
	    p->seq, p->ack, NETQ_SIG_RST | NETQ_SIG_ACK, 0, NULL, 0);
}

/* A 302 answering HTTP request p. */
size_t
netq_impair_redirect(const struct netq_sig_pkt *p, const char *url, uint8_t *out, size_t outlen)
{
	char body[NETQ_IMPAIR_URL + 256];
	int n;

	n = snprintf(body, sizeof(body), "HTTP/1.1 302 Found\r\nLocation: %s\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n", url);
	if (n < 0 || n >= (int)sizeof(body))
		return 0;
	return netq_impair_build(out, outlen, p->dst, p->dport, p->src, p->sport, p->ack,
	    p->seq + (uint32_t)p->payload_len, NETQ_SIG_PSH | NETQ_SIG_ACK | NETQ_SIG_FIN, 65535,
	    (const uint8_t *)body, (size_t)n);
}
