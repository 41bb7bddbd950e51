/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_impair — what the packet plane does to a targeted flow: the rules ("ACTION MATCH",
 * first match wins, the syntax of the engine's policy rules), the seeded pseudo-random
 * generator behind probabilistic drops (the same seed drops the same packets), and the
 * packets it injects (TCP RSTs to both ends with the right sequence numbers, an HTTP 302
 * answering a plain-HTTP request). Pure: building a packet fills a caller's buffer; sending
 * it is netq.c's job.
 *
 * Rules:  drop:P MATCH       drop each packet of the flow with probability P (0..1)
 *         delay:MS MATCH     hold each packet of the flow MS milliseconds (1..10000)
 *         reset MATCH        after the ClientHello: drop it, RST to client and server
 *         timeout MATCH      after the ClientHello: drop it and everything after (silence)
 *         redirect:URL MATCH plain HTTP: answer the request with "302 Found, Location: URL"
 *                            and reset the server side
 * MATCH:  sni=PATTERN (SNI, or Host for plain HTTP; "name" or "*.suffix") | dst=CIDR
 */
#ifndef MITMLAB_NETQ_IMPAIR_H
#define MITMLAB_NETQ_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "netq_sig.h"
#include "policy.h"

#define NETQ_IMPAIR_MAX		64	/* rules */
#define NETQ_IMPAIR_URL		512
#define NETQ_IMPAIR_PKT		1500	/* largest packet built here */

enum netq_impair_kind {
	NETQ_IMPAIR_DROP,
	NETQ_IMPAIR_DELAY,
	NETQ_IMPAIR_RESET,
	NETQ_IMPAIR_TIMEOUT,
	NETQ_IMPAIR_REDIRECT,
};

struct netq_impair_rule {
	enum netq_impair_kind kind;
	double	 prob;			/* drop */
	uint32_t delay_ms;		/* delay */
	char	 url[NETQ_IMPAIR_URL];	/* redirect */
	int	 by_name;		/* 1: sni=PATTERN, 0: dst=CIDR */
	char	 pattern[256];
	struct policy_cidr cidr;
	char	 text[320];		/* the rule as given, for events */
};

struct netq_impair {
	size_t	 n;
	struct netq_impair_rule rules[NETQ_IMPAIR_MAX];
	uint64_t rng;
};

/* Empty rule set with the generator seeded from seed. */
void netq_impair_init(struct netq_impair *im, uint64_t seed);
/* Append a rule; -1 with *cause naming origin ("--impair", "file:line") on a bad spec. */
int netq_impair_add(struct netq_impair *im, const char *spec, const char *origin, char **cause);
/*
 * The first rule matching a flow to dst (host order) with name (SNI / Host, NULL or "" when not
 * known yet: only dst= rules can match). Returns its index or -1.
 */
int netq_impair_match(const struct netq_impair *im, uint32_t dst, const char *name);
/* Next 64 pseudo-random bits (splitmix64). */
uint64_t netq_impair_rand(struct netq_impair *im);
/* Non-zero with probability prob (0: never, 1: always). */
int netq_impair_roll(struct netq_impair *im, double prob);
const char *netq_impair_kind_name(enum netq_impair_kind k);

/*
 * Build an IPv4/TCP packet (no options, DF, TTL 64) into out[outlen]: returns its length, or 0
 * if it does not fit. Checksums are filled in.
 */
size_t netq_impair_build(uint8_t *out, size_t outlen, uint32_t src, uint16_t sport,
    uint32_t dst, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
    const uint8_t *payload, size_t plen);
/* For a client packet p (client→server): the RST to the client (as from the server) into
 * to_c and the RST to the server (as from the client) into to_s; both NETQ_IMPAIR_PKT bytes.
 * The client's packet itself is assumed dropped. */
void netq_impair_rst_pair(const struct netq_sig_pkt *p, uint8_t *to_c, size_t *lc,
    uint8_t *to_s, size_t *ls);
/* For an HTTP request p (client→server): the 302 to url as from the server (PSH|ACK|FIN) into
 * out[outlen]; returns its length, 0 if it does not fit. */
size_t netq_impair_redirect(const struct netq_sig_pkt *p, const char *url, uint8_t *out,
    size_t outlen);

#endif
