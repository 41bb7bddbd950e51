/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy — what the engine does with one flow, from its SNI and original destination. An
 * ordered list of rules "ACTION MATCH" (first match wins), a default action, and the list of
 * upstream subnets the engine may reach at all. Pure functions over the compiled rules: no
 * sockets, no logging; errors come back through char **cause naming the origin ("file:line").
 */
#ifndef MITMLAB_POLICY_H
#define MITMLAB_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum policy_action {
	POLICY_INTERCEPT,
	POLICY_SPLICE,
	POLICY_BLOCK_RESET,
	POLICY_BLOCK_TIMEOUT,
};

struct policy_cidr {
	int	 family;	/* AF_INET or AF_INET6 */
	uint8_t	 addr[16];
	int	 bits;
};

struct policy;

/* A new empty policy whose default action is splice. */
struct policy *policy_new(void);
void policy_free(struct policy *p);
/* Append "ACTION sni=PATTERN" or "ACTION dst=CIDR"; origin names the place for errors. */
int policy_add_rule(struct policy *p, const char *spec, const char *origin, char **cause);
/* Append "intercept sni=LINE" for every pattern line of a list file (# comments, blanks). */
int policy_load_list(struct policy *p, const char *path, char **cause);
/* Permit upstream connections into cidr. */
int policy_add_allow(struct policy *p, const char *cidr, const char *origin, char **cause);
void policy_set_default(struct policy *p, enum policy_action a);
/* Number of rules and allowed subnets. */
size_t policy_nrules(const struct policy *p);
size_t policy_nallow(const struct policy *p);
/* Non-zero if some rule or the default intercepts (a CA is needed). */
int policy_can_intercept(const struct policy *p);
/*
 * Decide for a flow: sni may be NULL (no or unparsable ClientHello: only dst rules can match).
 * why (whylen bytes) gets "rule 3: sni=*.google.com" or "default".
 */
enum policy_action policy_decide(const struct policy *p, const char *sni,
    const struct sockaddr *dst, char *why, size_t whylen);
/* Non-zero if dst lies in an --allow-upstream subnet. */
int policy_allowed(const struct policy *p, const struct sockaddr *dst);

/* Pure helpers. */
const char *policy_action_name(enum policy_action a);
int policy_action_parse(const char *s, enum policy_action *a);
/* Non-zero if pattern ("host" or "*.suffix") matches sni, ignoring case and a final dot. */
int policy_sni_match(const char *pattern, const char *sni);
/* Syntax check of an SNI pattern; -1 with *cause. */
int policy_pattern_check(const char *pattern, char **cause);
int policy_cidr_parse(const char *s, struct policy_cidr *c, char **cause);
int policy_cidr_match(const struct policy_cidr *c, const struct sockaddr *sa);

#endif
