/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy — compile "ACTION MATCH" rules and target lists, and decide per flow. SNI patterns are
 * exact names or "*.suffix" (which matches any name below suffix, not suffix itself), compared
 * without case and without a trailing dot. dst matches an IPv4 or IPv6 CIDR; IPv4-mapped IPv6
 * addresses are compared as IPv4. Reading the list file is the only I/O here.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opttab.h"
#include "policy.h"
#include "util.h"

enum policy_match { MATCH_SNI, MATCH_DST };

struct policy_rule {
	enum policy_action action;
	enum policy_match  match;
	char		  *pattern;	/* MATCH_SNI */
	struct policy_cidr cidr;	/* MATCH_DST */
	char		  *text;	/* "sni=*.google.com" for why */
};

struct policy {
	struct policy_rule *rules;
	size_t		    nrules;
	struct policy_cidr *allow;
	size_t		    nallow;
	enum policy_action  def;
};

static const char *const policy_names[] = {
	"intercept", "splice", "block-reset", "block-timeout",
};

/* New empty policy. */
struct policy *
policy_new(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (p != NULL)
		p->def = POLICY_SPLICE;
	return p;
}

/* Free the policy and its rules. */
void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrules; i++) {
		free(p->rules[i].pattern);
		free(p->rules[i].text);
	}
	free(p->rules);
	free(p->allow);
	free(p);
}

/* Action name. */
const char *
policy_action_name(enum policy_action a)
{
	return (unsigned)a < 4 ? policy_names[a] : "?";
}

/* Parse an action name. */
int
policy_action_parse(const char *s, enum policy_action *a)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, policy_names[i]) == 0) {
			*a = (enum policy_action)i;
			return 0;
		}
	}
	return -1;
}

/* Check an SNI pattern's syntax. */
int
policy_pattern_check(const char *pattern, char **cause)
{
	const char *s = pattern;
	size_t len = strlen(pattern);

	if (len == 0 || len > 253)
		return util_cause(cause, "empty or overlong SNI pattern");
	if (s[0] == '*') {
		if (s[1] != '.' || s[2] == '\0')
			return util_cause(cause, "bad SNI pattern \"%s\" (use NAME or *.SUFFIX)",
			    pattern);
		s += 2;
	}
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' && *s != '_')
			return util_cause(cause, "bad character '%c' in SNI pattern \"%s\"", *s,
			    pattern);
	}
	return 0;
}

/* Case-insensitive compare of n bytes of a with b, where b has blen bytes. */
static int
policy_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* Does pattern match sni. */
int
policy_sni_match(const char *pattern, const char *sni)
{
	size_t sl, pl;

	if (sni == NULL || *sni == '\0')
		return 0;
	sl = strlen(sni);
	if (sl > 0 && sni[sl - 1] == '.')
		sl--;
	pl = strlen(pattern);
	if (pl > 0 && pattern[pl - 1] == '.')
		pl--;
	if (pattern[0] == '*' && pattern[1] == '.') {
		/* "*.example.com": sni must end in ".example.com" with a label before */
		if (sl <= pl - 1)
			return 0;
		return policy_eq(sni + sl - (pl - 1), pl - 1, pattern + 1, pl - 1);
	}
	return policy_eq(sni, sl, pattern, pl);
}

/* Parse "a.b.c.d/n" or "v6/n" (no /n: a host). */
int
policy_cidr_parse(const char *s, struct policy_cidr *c, char **cause)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	long long bits;
	int max;

	memset(c, 0, sizeof(*c));
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return util_cause(cause, "bad CIDR \"%s\"", s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		return util_cause(cause, "bad CIDR \"%s\": not an IPv4 or IPv6 address", s);
	c->bits = max;
	if (slash != NULL) {
		if (util_parse_ll(slash, 0, max, &bits, NULL) == -1)
			return util_cause(cause, "bad CIDR \"%s\": prefix length must be 0..%d", s,
			    max);
		c->bits = (int)bits;
	}
	/* a v4-mapped address is matched as its IPv4 host (policy_cidr_match), so a prefix
	 * inside ::ffff:0:0/96 would never match: say how to write it */
	if (c->family == AF_INET6 && c->bits >= 96 &&
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)c->addr)) {
		char v4[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, c->addr + 12, v4, sizeof(v4));
		return util_cause(cause, "bad CIDR \"%s\": a v4-mapped prefix; write it as IPv4 "
		    "(%s/%d)", s, v4, c->bits - 96);
	}
	return 0;
}

/* Does sa fall in c. */
int
policy_cidr_match(const struct policy_cidr *c, const struct sockaddr *sa)
{
	const uint8_t *a;
	int family = sa->sa_family, full, rem;

	if (family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		/* ::ffff:a.b.c.d is the IPv4 host a.b.c.d (an AF_INET6 socket dials it): it is
		 * matched as that, never by an IPv6 entry such as ::/0 */
		if (IN6_IS_ADDR_V4MAPPED(
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr)) {
			a += 12;
			family = AF_INET;
		}
	} else
		return 0;
	if (family != c->family)
		return 0;
	full = c->bits / 8;
	rem = c->bits % 8;
	if (memcmp(a, c->addr, (size_t)full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	return ((a[full] ^ c->addr[full]) & (0xff << (8 - rem))) == 0;
}

/* Append a compiled rule. */
static int
policy_push(struct policy *p, const struct policy_rule *r, const char *origin, char **cause)
{
	struct policy_rule *nr;

	if ((nr = realloc(p->rules, (p->nrules + 1) * sizeof(*nr))) == NULL)
		return util_cause(cause, "%s: out of memory", origin);
	p->rules = nr;
	p->rules[p->nrules++] = *r;
	return 0;
}

/* Compile "ACTION MATCH". */
int
policy_add_rule(struct policy *p, const char *spec, const char *origin, char **cause)
{
	struct policy_rule r;
	char action[32], match[512], *c2 = NULL;
	int n = -1;

	memset(&r, 0, sizeof(r));
	if (sscanf(spec, " %31s %511s %n", action, match, &n) != 2 || n < 0 || spec[n] != '\0')
		return util_cause(cause, "%s: rule \"%s\": expected \"ACTION sni=PATTERN\" or "
		    "\"ACTION dst=CIDR\"", origin, spec);
	if (policy_action_parse(action, &r.action) == -1)
		return util_cause(cause, "%s: rule \"%s\": unknown action \"%s\" (known: "
		    "intercept, splice, block-reset, block-timeout)", origin, spec, action);
	if (strncmp(match, "sni=", 4) == 0) {
		r.match = MATCH_SNI;
		if (policy_pattern_check(match + 4, &c2) == -1)
			goto bad;
		r.pattern = strdup(match + 4);
	} else if (strncmp(match, "dst=", 4) == 0) {
		r.match = MATCH_DST;
		if (policy_cidr_parse(match + 4, &r.cidr, &c2) == -1)
			goto bad;
	} else
		return util_cause(cause, "%s: rule \"%s\": unknown match \"%s\" (use sni=PATTERN "
		    "or dst=CIDR)", origin, spec, match);
	r.text = strdup(match);
	if (policy_push(p, &r, origin, cause) == -1) {
		free(r.pattern);
		free(r.text);
		return -1;
	}
	return 0;
bad:
	util_cause(cause, "%s: rule \"%s\": %s", origin, spec, c2);
	free(c2);
	return -1;
}

/* One target-list line: an SNI pattern to intercept. */
static int
policy_list_line(void *arg, char *line, const char *origin, char **cause)
{
	char spec[600];

	if (strpbrk(line, " \t") != NULL || strlen(line) > 300)
		return util_cause(cause, "%s: bad SNI pattern \"%.300s\" (one pattern per line)",
		    origin, line);
	snprintf(spec, sizeof(spec), "intercept sni=%s", line);
	return policy_add_rule(arg, spec, origin, cause);
}

/* Load a target list: one SNI pattern per line. */
int
policy_load_list(struct policy *p, const char *path, char **cause)
{
	return opttab_lines(path, policy_list_line, p, cause);
}

/* Add an allowed upstream subnet. */
int
policy_add_allow(struct policy *p, const char *cidr, const char *origin, char **cause)
{
	struct policy_cidr c, *na;
	char *c2 = NULL;

	if (policy_cidr_parse(cidr, &c, &c2) == -1) {
		util_cause(cause, "%s: --allow-upstream: %s", origin, c2);
		free(c2);
		return -1;
	}
	if ((na = realloc(p->allow, (p->nallow + 1) * sizeof(*na))) == NULL)
		return util_cause(cause, "%s: out of memory", origin);
	p->allow = na;
	p->allow[p->nallow++] = c;
	return 0;
}

/* Set the default action. */
void
policy_set_default(struct policy *p, enum policy_action a)
{
	p->def = a;
}

/* Rule count. */
size_t
policy_nrules(const struct policy *p)
{
	return p->nrules;
}

/* Allowed subnet count. */
size_t
policy_nallow(const struct policy *p)
{
	return p->nallow;
}

/* Whether anything can lead to interception. */
int
policy_can_intercept(const struct policy *p)
{
	size_t i;

	if (p->def == POLICY_INTERCEPT)
		return 1;
	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].action == POLICY_INTERCEPT)
			return 1;
	return 0;
}

/* First matching rule, else the default. */
enum policy_action
policy_decide(const struct policy *p, const char *sni, const struct sockaddr *dst, char *why,
    size_t whylen)
{
	const struct policy_rule *r;
	size_t i;
	int hit;

	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		if (r->match == MATCH_SNI)
			hit = policy_sni_match(r->pattern, sni);
		else
			hit = dst != NULL && policy_cidr_match(&r->cidr, dst);
		if (hit) {
			if (why != NULL)
				snprintf(why, whylen, "rule %zu: %s", i + 1, r->text);
			return r->action;
		}
	}
	if (why != NULL)
		snprintf(why, whylen, "default");
	return p->def;
}

/* Whether dst may be reached. */
int
policy_allowed(const struct policy *p, const struct sockaddr *dst)
{
	size_t i;

	for (i = 0; i < p->nallow; i++)
		if (policy_cidr_match(&p->allow[i], dst))
			return 1;
	return 0;
}
