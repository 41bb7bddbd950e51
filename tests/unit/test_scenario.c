/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_scenario — the scenario loader: every shipped scenario loads with its defaults
 * applied; each broken variant is rejected with "FILE:LINE: what" naming the right line and
 * the fix; the target list file is read in order. Variants are written to a temp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenario.h"

static char tmpdir[64];

/* Write text as DIR/name and return the path (static buffer). */
static const char *
write_tmp(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static const char *base =
    "name: t\n"				/* 1 */
    "gateway:\n"			/* 2 */
    "  intercept: true\n"		/* 3 */
    "  forging: kz2019\n"		/* 4 */
    "  target_lists: [list.txt]\n"	/* 5 */
    "origins:\n"			/* 6 */
    "  - name: g\n"			/* 7 */
    "    sites:\n"			/* 8 */
    "      - host: www.google.com\n"	/* 9 */
    "        aliases: [google.com]\n"	/* 10 */
    "clients:\n"			/* 11 */
    "  - name: u\n"			/* 12 */
    "    trust: [web, national]\n"	/* 13 */
    "    urls: [https://google.com/]\n";	/* 14 */

/* Replace the first occurrence of from with to in base, load, expect the message. */
static void
expect_error(const char *from, const char *to, const char *want)
{
	char text[4096], *cause = NULL;
	const char *p = strstr(base, from), *path;
	struct scenario *s;

	assert_non_null(p);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - base), base, to, p + strlen(from));
	path = write_tmp("bad.yaml", text);
	s = scenario_load(path, &cause);
	if (s != NULL || cause == NULL || strstr(cause, want) == NULL)
		fail_msg("for \"%s\" → \"%s\": got \"%s\", want \"%s\"", from, to,
		    cause ? cause : "(loaded)", want);
	free(cause);
	scenario_free(s);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_scenario.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	write_tmp("list.txt", "# two names\nmail.google.com\n\n*.youtube.com  # wildcard\n");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The minimal file loads, defaults are applied, the list is read in order. */
static void
test_defaults(void **state)
{
	char *cause = NULL;
	struct scenario *s;

	(void)state;
	s = scenario_load(write_tmp("ok.yaml", base), &cause);
	assert_non_null(s);
	assert_string_equal(s->gateway->mode, "redirect");
	assert_string_equal(s->gateway->default_action, "splice");
	assert_string_equal(s->clients[0].tool, "mitmlab");
	assert_int_equal(s->clients[0].count, 10);
	assert_string_equal(s->origins[0].side, "outside");
	assert_string_equal(s->origins[0].sites[0].hsts, "off");
	assert_int_equal(s->target_names_count, 2);
	assert_string_equal(s->target_names[0], "mail.google.com");
	assert_string_equal(s->target_names[1], "*.youtube.com");
	assert_ptr_equal(scenario_origin_of(s, "GOOGLE.com"), &s->origins[0]);
	assert_null(scenario_origin_of(s, "example.org"));
	scenario_free(s);
}

/* Every shipped scenario is valid. */
static void
test_shipped(void **state)
{
	static const char *names[] = { "baseline", "kz-2019", "kz-2020", "isca-2024", "corporate",
	    "mitmproxy-like", "vendor-block", "dst-target" };
	char path[128], *cause = NULL;
	struct scenario *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "scenarios/%s.yaml", names[i]);
		s = scenario_load(path, &cause);
		if (s == NULL)
			fail_msg("%s: %s", path, cause);
		assert_string_equal(s->name, names[i]);
		scenario_free(s);
	}
	s = scenario_load("scenarios/kz-2019.yaml", &cause);
	assert_int_equal(s->target_names_count, 37);	/* KZ-FACTS.md: 37 domains */
	scenario_free(s);
}

/* Broken variants name the line and the fix. */
static void
test_errors(void **state)
{
	(void)state;
	expect_error("forging: kz2019", "forging: kz2091",
	    ":4: unknown forging profile \"kz2091\" (known: kz2019");
	expect_error("trust: [web, national]", "trust: [web, natoinal]",
	    ":13: unknown trust store \"natoinal\" (known: web national)");
	expect_error("https://google.com/", "https://nosuch.kz/", ":14: no origin serves \"nosuch.kz\"");
	expect_error("    urls:", "    urlz:", ":14: clients[0].urlz: unknown key \"urlz\" (a typo?");
	expect_error("    trust: [web, national]\n", "    trust: [web, national]\n    count: -3\n",
	    ":14: clients[0].count: Invalid");
	expect_error("  intercept: true", "  intercept: maybe", ":3:");
	expect_error("[list.txt]", "[nolist.txt]", ":5: target list");
	expect_error("        aliases: [google.com]\n", "        aliases: [google.com]\n"
	    "        cert: revoked\n", "unknown certificate \"revoked\" (known: valid self-signed "
	    "expired untrusted)");
	expect_error("name: t\n", "name: T!\n", ":1: scenario name \"T!\"");
	/* names become namespace names, words of `ip` command lines */
	expect_error("  - name: g\n", "  - name: \"x -n ../../proc/1/ns/net\"\n",
	    ":7: origin name \"x -n ../../proc/1/ns/net\": use lower-case letters");
	expect_error("  - name: u\n", "  - name: \"-n\"\n", ":12: client name \"-n\": use lower-case");
	expect_error("name: t\n", "name: \"-t\"\n", ":1: scenario name \"-t\"");
	expect_error("  - name: u\n", "  - name: u\n    side: middle\n", "unknown side \"middle\"");
	expect_error("gateway:\n", "gateway:\n  impair: [\"reset sni=x.y\"]\n",
	    "need packet_plane: true");
	/* the most the clients and the engine take (run --timeout-scale multiplies from there) */
	expect_error("    trust: [web, national]\n", "    trust: [web, national]\n    timeout_ms: 3600001\n",
	    ":14: timeout_ms 3600001 is over 3600000");
	expect_error("  intercept: true\n", "  intercept: true\n  block_timeout_ms: 86400001\n",
	    "block_timeout_ms 86400001 is over 86400000");
	/* what the engine and the packet plane would refuse once the lab is up, refused here
	 * with the line (their own parsers) */
	expect_error("  intercept: true\n",
	    "  intercept: true\n  rules: [\"intercept sni=a.example, b.example\"]\n",
	    ":4: the engine: rule \"intercept sni=a.example, b.example\"");
	expect_error("  intercept: true\n", "  intercept: true\n  rules: [\"intercept sni=\"]\n",
	    ":4: the engine: rule \"intercept sni=\"");
	expect_error("  intercept: true\n", "  intercept: true\n  rules: [\"splice dst=999.1.1.1/8\"]\n",
	    ":4: the engine: rule \"splice dst=999.1.1.1/8\"");
	expect_error("  intercept: true\n", "  intercept: true\n  target_dst: [10.0.0.0/99]\n",
	    ":4: \"10.0.0.0/99\" is neither a CIDR nor an origin name");
	expect_error("  intercept: true\n", "  intercept: true\n  packet_plane: true\n"
	    "  target_dst: [\"fd00::/64\"]\n", ":5: with packet_plane: true, \"fd00::/64\": the "
	    "packet plane handles IPv4 only");
	expect_error("  intercept: true\n", "  intercept: true\n  packet_plane: true\n"
	    "  on_path: [10.0.0.0/33]\n", ":5: \"10.0.0.0/33\" is neither a client name nor an "
	    "IPv4 CIDR");
	expect_error("  intercept: true\n", "  intercept: true\n  packet_plane: true\n"
	    "  impair: [\"drop:50 dst=10.0.0.0/8\"]\n", "drop needs a probability");
	expect_error("name: t\n", "name: t\nseed: 18446744073709551615\n",
	    ":2: seed 18446744073709551615 is over 2^62");
	expect_error("name: t\n", "name: t\nschema: 2\n", ":2: schema 2: this mitmlab reads "
	    "schema 1");
	/* aliases and resolve hosts go into certificates and hosts files */
	expect_error("aliases: [google.com]", "aliases: [\"b.example,IP:10.9.9.9\"]",
	    ":10: alias \"b.example,IP:10.9.9.9\" is not a hostname pattern");
	expect_error("aliases: [google.com]", "aliases: [\"a.example\\n10.0.0.66 x\"]",
	    "is not a hostname pattern");
	expect_error("    trust: [web, national]\n",
	    "    trust: [web, national]\n    resolve: [\"Bad Host=g\"]\n",
	    ":14: \"Bad Host=g\": HOST must be a lower-case hostname");
	/* one name, one site */
	expect_error("        aliases: [google.com]\n",
	    "        aliases: [google.com]\n      - host: google.com\n",
	    ":11: \"google.com\" is already served by site www.google.com of origin g");
	/* libcyaml's messages, made to name the key, the line and the fix */
	expect_error("name: t\n", "name: \"\"\n", ":1: name: an empty value (give one");
	expect_error("clients:\n", "clients: 5\nx:\n", ":11: Expecting SEQUENCE, got event: "
	    "SCALAR: here a list is needed");
	expect_error("    sites:\n      - host: www.google.com\n",
	    "    sites:\n      - host: www.google.com\n        host: a.example\n",
	    ":10: key \"host\" is given twice in one mapping (first on line 9): keep one");
	expect_error("    urls: [https://google.com/]\n",
	    "    urls: [https://google.com/]\nname: again\n",
	    ":15: key \"name\" is given twice in one mapping (first on line 1)");
	/* keys that only share their first 47 characters are two keys; a complex key is refused */
	expect_error("name: t\n", "name: t\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaX: 1\n"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaY: 2\n", ":2: aaaaaaaaa");
	expect_error("name: t\n", "name: t\n? [a]\n: 1\n", ":2: a key must be a plain word");
	/* anchors and aliases: a few hundred bytes expand to gigabytes in libcyaml */
	expect_error("name: t\n", "name: t\nx: &a [1, 2]\ny: [*a, *a]\n",
	    ":2: YAML anchors and aliases");
}

/* Files that are not scenarios, or too large or too deep to parse in bounded time, are refused
 * before libcyaml reads them. */
static void
test_not_a_scenario(void **state)
{
	char *cause = NULL, *big;
	size_t n = SCENARIO_MAX_BYTES + 2;

	(void)state;
	assert_null(scenario_load("/dev/zero", &cause));
	assert_non_null(strstr(cause, "/dev/zero: not a regular file"));
	free(cause);
	cause = NULL;
	assert_null(scenario_load(tmpdir, &cause));
	assert_non_null(strstr(cause, "not a regular file"));
	free(cause);
	cause = NULL;
	assert_non_null(big = malloc(n));
	memset(big, '#', n - 1);
	big[n - 1] = '\0';
	assert_null(scenario_load(write_tmp("big.yaml", big), &cause));
	assert_non_null(strstr(cause, "a scenario is at most 1048576"));
	free(big);
	free(cause);
}

/* A target list must be a regular text file; a line that is no hostname is not echoed when
 * it holds characters no hostname has (any path can be given). */
static void
test_list_files(void **state)
{
	char *cause = NULL, text[2048];
	struct scenario *s;
	FILE *f;

	(void)state;
	snprintf(text, sizeof(text), "%s", base);
	*strstr(text, "[list.txt]") = '\0';
	strcat(text, "[/dev/zero]\n");
	strcat(text, strstr(base, "origins:"));
	assert_null(s = scenario_load(write_tmp("z.yaml", text), &cause));
	assert_non_null(strstr(cause, ":5: target list /dev/zero: not a regular file"));
	free(cause);
	cause = NULL;
	write_tmp("list.txt", "ok.example\nroot:$y$j9T$secret:19000:0:99999:7:::\n");
	assert_null(s = scenario_load(write_tmp("ok.yaml", base), &cause));
	assert_non_null(strstr(cause, "list.txt:2: not a hostname pattern"));
	assert_null(strstr(cause, "secret"));
	free(cause);
	cause = NULL;
	assert_non_null(f = fopen(write_tmp("list.txt", ""), "w"));
	fwrite("ok.example\n\0bad.example\n", 1, 25, f);
	fclose(f);
	assert_null(s = scenario_load(write_tmp("ok.yaml", base), &cause));
	assert_non_null(strstr(cause, "list.txt:2: a NUL byte"));
	free(cause);
	write_tmp("list.txt", "mail.google.com\n");
}

/* The analyzers a scenario names must exist (checked by `mitmlab check` and before a run's
 * lab is built, not by scenario_load alone). */
static void
test_analyzers(void **state)
{
	char *cause = NULL, text[2048];
	struct scenario *s;

	(void)state;
	assert_int_equal(setenv("MITMLAB_ANALYZERS", "analyzers", 1), 0);
	snprintf(text, sizeof(text), "%sanalyzers: [truth, nope]\n", base);
	assert_non_null(s = scenario_load(write_tmp("an.yaml", text), &cause));
	assert_int_equal(scenario_check_analyzers(s, &cause), -1);
	assert_non_null(strstr(cause, ":15: "));
	assert_non_null(strstr(cause, "nope"));
	free(cause);
	scenario_free(s);
	snprintf(text, sizeof(text), "%sanalyzers: [truth]\n", base);
	assert_non_null(s = scenario_load(write_tmp("an.yaml", text), &cause));
	assert_int_equal(scenario_check_analyzers(s, &cause), 0);
	scenario_free(s);
}

/* A list file with a bad entry names the list's own line. */
static void
test_list_error(void **state)
{
	char *cause = NULL;
	struct scenario *s;

	(void)state;
	write_tmp("list.txt", "ok.example\nNot A Host\n");
	s = scenario_load(write_tmp("ok.yaml", base), &cause);
	assert_null(s);
	assert_non_null(strstr(cause, "list.txt:2: \"Not A Host\" is not a hostname pattern"));
	free(cause);
	write_tmp("list.txt", "mail.google.com\n");
}

/* An empty file is an error, not a crash (found by fuzz_scenario). */
static void
test_empty(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_null(scenario_load(write_tmp("empty.yaml", ""), &cause));
	assert_non_null(strstr(cause, "holds no scenario"));
	free(cause);
	cause = NULL;
	assert_null(scenario_load(write_tmp("null.yaml", "~\n"), &cause));
	assert_non_null(strstr(cause, "must be a mapping of keys"));
	free(cause);
	cause = NULL;
	assert_null(scenario_load(write_tmp("list.yaml", "- a\n"), &cause));
	assert_non_null(strstr(cause, "list.yaml: the file must be a mapping of keys"));
	free(cause);
}

/* Values nested deeper than the line locator's 32 levels (found by fuzz_scenario: the walker
 * ran its stack below zero) are an error naming the right line, not a crash; so is a file
 * that closes more than it opened. */
static void
test_deep(void **state)
{
	char deep[256], text[512], *cause = NULL;
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < 40; i++)
		deep[n++] = '[';
	deep[n++] = 'x';
	for (i = 0; i < 40; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	snprintf(text, sizeof(text), "    trust: [web, national]\n    deep: %s\n", deep);
	expect_error("    trust: [web, national]\n", text, ":14: nested more than 16 levels deep");
	n = 0;
	for (i = 0; i < 64; i++)
		text[n++] = '{';
	for (i = 0; i < 40; i++)
		text[n++] = '}';
	memcpy(text + n, ",d: [x]\n}}}}\n", 14);
	text[n + 14] = '\0';
	assert_null(scenario_load(write_tmp("deep.yaml", text), &cause));
	assert_non_null(strstr(cause, "deep.yaml"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_list_error),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_deep),
		cmocka_unit_test(test_not_a_scenario),
		cmocka_unit_test(test_list_files),
		cmocka_unit_test(test_analyzers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
