/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_policy — table tests of the pure policy functions: SNI patterns (exact, *.suffix, case,
 * trailing dot), CIDR parsing and matching (IPv4, IPv6, v4-mapped), rule compilation errors,
 * first-match order, the default, --allow-upstream, and target-list files with file:line errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/* A sockaddr for ip (v4 or v6) in storage ss. */
static const struct sockaddr *
sa(struct sockaddr_storage *ss, const char *ip)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
	}
	return (const struct sockaddr *)ss;
}

static void
test_sni_match(void **state)
{
	static const struct { const char *pat, *sni; int want; } t[] = {
		{ "google.com", "google.com", 1 },
		{ "google.com", "GOOGLE.com", 1 },
		{ "Google.COM", "google.com", 1 },
		{ "google.com", "google.com.", 1 },
		{ "google.com", "www.google.com", 0 },
		{ "google.com", "oogle.com", 0 },
		{ "google.com", "google.co", 0 },
		{ "*.example.com", "sub.example.com", 1 },
		{ "*.example.com", "a.b.example.com", 1 },
		{ "*.example.com", "SUB.Example.Com", 1 },
		{ "*.example.com", "example.com", 0 },
		{ "*.example.com", ".example.com", 0 },
		{ "*.example.com", "badexample.com", 0 },
		{ "*.example.com", "sub.example.org", 0 },
		{ "*.example.com", "", 0 },
		{ "example.com", NULL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(policy_sni_match(t[i].pat, t[i].sni), t[i].want);
}

static void
test_pattern_check(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_int_equal(policy_pattern_check("google.com", NULL), 0);
	assert_int_equal(policy_pattern_check("*.google.com", NULL), 0);
	assert_int_equal(policy_pattern_check("", NULL), -1);
	assert_int_equal(policy_pattern_check("*google.com", NULL), -1);
	assert_int_equal(policy_pattern_check("*.", NULL), -1);
	assert_int_equal(policy_pattern_check("www.*.com", &cause), -1);
	assert_non_null(strstr(cause, "www.*.com"));
	free(cause);
}

static void
test_cidr(void **state)
{
	static const struct { const char *cidr, *ip; int want; } t[] = {
		{ "10.77.2.0/24", "10.77.2.9", 1 },
		{ "10.77.2.0/24", "10.77.3.9", 0 },
		{ "10.77.2.0/23", "10.77.3.9", 1 },
		{ "10.77.2.5", "10.77.2.5", 1 },
		{ "10.77.2.5", "10.77.2.6", 0 },
		{ "0.0.0.0/0", "8.8.8.8", 1 },
		{ "10.0.0.0/8", "::ffff:10.1.2.3", 1 },
		{ "10.0.0.0/8", "fd00::1", 0 },
		{ "fd00:77::/32", "fd00:77:1::2", 1 },
		{ "fd00:77::/32", "fd00:78::2", 0 },
		{ "fd00:77::/33", "fd00:77:8000::1", 0 },
		{ "fd00:77::/33", "fd00:77:7fff::1", 1 },
		{ "fd00::/8", "10.0.0.1", 0 },
		/* a v4-mapped address is its IPv4 host: no IPv6 entry admits it */
		{ "::/0", "::ffff:8.8.8.8", 0 },
		{ "::/0", "fd00::1", 1 },
	};
	struct policy_cidr c;
	struct sockaddr_storage ss;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(policy_cidr_parse(t[i].cidr, &c, NULL), 0);
		assert_int_equal(policy_cidr_match(&c, sa(&ss, t[i].ip)), t[i].want);
	}
	assert_int_equal(policy_cidr_parse("10.0.0.0/33", &c, NULL), -1);
	assert_int_equal(policy_cidr_parse("fd00::/129", &c, NULL), -1);
	assert_int_equal(policy_cidr_parse("example.com", &c, NULL), -1);
	assert_int_equal(policy_cidr_parse("10.0.0.0/x", &c, NULL), -1);
	/* a prefix that could only hold v4-mapped addresses: refused, with the IPv4 to write;
	 * /96 is the shortest such prefix, and other IPv6 host prefixes are kept */
	{
		char *cause = NULL;
		assert_int_equal(policy_cidr_parse("::ffff:10.77.2.0/120", &c, &cause), -1);
		assert_non_null(strstr(cause, "write it as IPv4 (10.77.2.0/24)"));
		free(cause);
	}
	assert_int_equal(policy_cidr_parse("::ffff:0:0/96", &c, NULL), -1);
	assert_int_equal(policy_cidr_parse("::ffff:0:0/95", &c, NULL), 0);
	assert_int_equal(policy_cidr_parse("::1/128", &c, NULL), 0);
}

static void
test_rule_errors(void **state)
{
	struct policy *p = policy_new();
	char *cause = NULL;

	(void)state;
	assert_int_equal(policy_add_rule(p, "intercept", "--rule", &cause), -1);
	assert_non_null(strstr(cause, "--rule"));
	free(cause);
	assert_int_equal(policy_add_rule(p, "steal sni=a.com", "x.conf:3", &cause), -1);
	assert_non_null(strstr(cause, "x.conf:3"));
	assert_non_null(strstr(cause, "unknown action \"steal\""));
	free(cause);
	assert_int_equal(policy_add_rule(p, "splice host=a.com", "--rule", &cause), -1);
	assert_non_null(strstr(cause, "unknown match"));
	free(cause);
	assert_int_equal(policy_add_rule(p, "splice dst=300.1.1.1/8", "--rule", &cause), -1);
	free(cause);
	assert_int_equal(policy_add_rule(p, "splice sni=a.com extra", "--rule", &cause), -1);
	free(cause);
	assert_int_equal(policy_nrules(p), 0);
	policy_free(p);
}

static void
test_first_match_and_default(void **state)
{
	struct policy *p = policy_new();
	struct sockaddr_storage ss;
	char why[128];

	(void)state;
	assert_int_equal(policy_add_rule(p, "block-reset sni=bad.google.com", "r", NULL), 0);
	assert_int_equal(policy_add_rule(p, "intercept sni=*.google.com", "r", NULL), 0);
	assert_int_equal(policy_add_rule(p, "block-timeout dst=10.9.0.0/16", "r", NULL), 0);
	assert_int_equal(policy_add_rule(p, "intercept dst=fd00:1::/32", "r", NULL), 0);
	assert_int_equal(policy_add_rule(p, "splice sni=*.google.com", "r", NULL), 0);
	assert_int_equal(policy_can_intercept(p), 1);
	assert_int_equal(policy_decide(p, "bad.google.com", sa(&ss, "10.9.1.1"), why,
	    sizeof(why)), POLICY_BLOCK_RESET);
	assert_string_equal(why, "rule 1: sni=bad.google.com");
	assert_int_equal(policy_decide(p, "www.google.com", sa(&ss, "10.9.1.1"), why,
	    sizeof(why)), POLICY_INTERCEPT);
	assert_string_equal(why, "rule 2: sni=*.google.com");
	assert_int_equal(policy_decide(p, "google.com", sa(&ss, "10.9.1.1"), why, sizeof(why)),
	    POLICY_BLOCK_TIMEOUT);
	assert_string_equal(why, "rule 3: dst=10.9.0.0/16");
	assert_int_equal(policy_decide(p, NULL, sa(&ss, "fd00:1:2::3"), why, sizeof(why)),
	    POLICY_INTERCEPT);
	assert_int_equal(policy_decide(p, "other.org", sa(&ss, "10.8.0.1"), why, sizeof(why)),
	    POLICY_SPLICE);
	assert_string_equal(why, "default");
	policy_set_default(p, POLICY_BLOCK_RESET);
	assert_int_equal(policy_decide(p, NULL, sa(&ss, "10.8.0.1"), NULL, 0),
	    POLICY_BLOCK_RESET);
	policy_free(p);
}

static void
test_allow(void **state)
{
	struct policy *p = policy_new();
	struct sockaddr_storage ss;
	char *cause = NULL;

	(void)state;
	assert_int_equal(policy_can_intercept(p), 0);
	assert_int_equal(policy_allowed(p, sa(&ss, "10.77.2.2")), 0);
	assert_int_equal(policy_add_allow(p, "10.77.2.0/24", "--allow-upstream", NULL), 0);
	assert_int_equal(policy_add_allow(p, "fd00:77::/48", "--allow-upstream", NULL), 0);
	assert_int_equal(policy_allowed(p, sa(&ss, "10.77.2.2")), 1);
	assert_int_equal(policy_allowed(p, sa(&ss, "10.99.0.2")), 0);
	assert_int_equal(policy_allowed(p, sa(&ss, "fd00:77::5")), 1);
	assert_int_equal(policy_add_allow(p, "nonsense", "cfg:4", &cause), -1);
	assert_non_null(strstr(cause, "cfg:4"));
	free(cause);
	assert_int_equal(policy_nallow(p), 2);
	policy_free(p);
}

static void
test_list_file(void **state)
{
	struct policy *p = policy_new();
	struct sockaddr_storage ss;
	char *cause = NULL, why[128];

	(void)state;
	assert_int_equal(policy_load_list(p, "tests/fixtures/policy/targets.txt", &cause), 0);
	assert_int_equal(policy_nrules(p), 3);
	assert_int_equal(policy_decide(p, "facebook.com", sa(&ss, "1.1.1.1"), why, sizeof(why)),
	    POLICY_INTERCEPT);
	assert_string_equal(why, "rule 3: sni=FaceBook.com");
	assert_int_equal(policy_decide(p, "mail.google.com", sa(&ss, "1.1.1.1"), why,
	    sizeof(why)), POLICY_INTERCEPT);
	assert_string_equal(why, "rule 2: sni=*.google.com");
	assert_int_equal(policy_decide(p, "www.facebook.com", sa(&ss, "1.1.1.1"), NULL, 0),
	    POLICY_SPLICE);
	assert_int_equal(policy_load_list(p, "tests/fixtures/policy/bad-targets.txt", &cause),
	    -1);
	assert_non_null(strstr(cause, "tests/fixtures/policy/bad-targets.txt:3:"));
	free(cause);
	cause = NULL;
	assert_int_equal(policy_load_list(p, "tests/fixtures/policy/missing.txt", &cause), -1);
	assert_non_null(strstr(cause, "missing.txt"));
	free(cause);
	policy_free(p);
}

static void
test_action_names(void **state)
{
	enum policy_action a;

	(void)state;
	assert_int_equal(policy_action_parse("block-timeout", &a), 0);
	assert_int_equal(a, POLICY_BLOCK_TIMEOUT);
	assert_string_equal(policy_action_name(POLICY_SPLICE), "splice");
	assert_int_equal(policy_action_parse("Intercept", &a), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni_match),
		cmocka_unit_test(test_pattern_check),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_rule_errors),
		cmocka_unit_test(test_first_match_and_default),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_list_file),
		cmocka_unit_test(test_action_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
