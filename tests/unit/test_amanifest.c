/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_amanifest — analyzer manifests: a table of good and bad manifests (the error names the
 * problem), the proxy-vantage rule, command expansion, and loading the shipped manifests from
 * the source tree through MITMLAB_ANALYZERS; amanifest_check refuses a manifest whose program
 * is not there (an unbuilt {bin} analyzer names `make analyzers`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amanifest.h"
#include "vantage.h"

static void
test_bad_table(void **state)
{
	static const struct { const char *text, *want; } t[] = {
		{ "[1]", "not a JSON object" },
		{ "{", "analyzer.json:" },
		{ "{\"name\":\"x\",\"vantages\":[\"client\"],\"command\":[\"a\"],\"extra\":1}",
		  "unknown key \"extra\"" },
		{ "{\"name\":\"X\",\"vantages\":[\"client\"],\"command\":[\"a\"]}", "\"name\"" },
		{ "{\"name\":\"x\",\"vantages\":[],\"command\":[\"a\"]}", "non-empty array" },
		{ "{\"name\":\"x\",\"vantages\":[\"truth\"],\"command\":[\"a\"]}",
		  "unknown vantage \"truth\"" },
		{ "{\"name\":\"x\",\"vantages\":[\"proxy\"],\"command\":[\"a\"]}",
		  "only an analyzer with \"role\": \"truth\"" },
		{ "{\"name\":\"x\",\"role\":\"judge\",\"vantages\":[\"client\"],\"command\":[\"a\"]}",
		  "unknown role" },
		{ "{\"name\":\"x\",\"kind\":\"pcap\",\"vantages\":[\"client\"],\"command\":[\"a\"]}",
		  "unknown kind" },
		{ "{\"name\":\"x\",\"vantages\":[\"client\"],\"command\":[]}", "\"command\"" },
		{ "{\"name\":\"x\",\"vantages\":[\"client\"],\"command\":[\"\"]}", "command\"[0]" },
		{ "{\"name\":\"x\",\"name\":\"y\",\"vantages\":[\"client\"],\"command\":[\"a\"]}",
		  "duplicate" },
	};
	struct amanifest m;
	char *cause;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cause = NULL;
		if (amanifest_parse(t[i].text, "/d", "analyzer.json", &m, &cause) != -1)
			fail_msg("case %zu accepted: %s", i, t[i].text);
		if (cause == NULL || strstr(cause, t[i].want) == NULL)
			fail_msg("case %zu: cause \"%s\" lacks \"%s\"", i, cause ? cause : "(null)",
			    t[i].want);
		free(cause);
		amanifest_free(&m);
	}
}

static void
test_good_and_expand(void **state)
{
	struct amanifest m;
	char **argv, *cause = NULL;

	(void)state;
	assert_int_equal(amanifest_parse("{\"name\":\"t-1\",\"role\":\"truth\",\"kind\":\"bus\","
	    "\"vantages\":[\"proxy\",\"client\"],\"command\":[\"{dir}/x.py\",\"--run={run}\","
	    "\"{dir}{dir}\",\"--baseline={baseline}\"]}", "/a/b", "f", &m, &cause), 0);
	assert_string_equal(m.name, "t-1");
	assert_int_equal(m.role, AMANIFEST_TRUTH);
	assert_int_equal(m.kind, AMANIFEST_BUS);
	assert_int_equal(m.vantages, VANTAGE_PROXY | VANTAGE_CLIENT);
	assert_int_equal(m.argc, 4);
	argv = amanifest_argv(&m, "/runs/r1", "/runs/base", &cause);
	assert_non_null(argv);
	assert_string_equal(argv[0], "/a/b/x.py");
	assert_string_equal(argv[1], "--run=/runs/r1");
	assert_string_equal(argv[2], "/a/b/a/b");
	assert_string_equal(argv[3], "--baseline=/runs/base");
	assert_null(argv[4]);
	assert_true(amanifest_learns(&m));	/* "--baseline={baseline}" */
	amanifest_argv_free(argv);
	amanifest_free(&m);
	assert_int_equal(amanifest_parse("{\"name\":\"c\",\"kind\":\"capture\",\"vantages\":"
	    "[\"origin\"],\"command\":[\"tool\"]}", "/d", "f", &m, NULL), 0);
	assert_int_equal(m.role, AMANIFEST_DETECTOR);
	assert_int_equal(m.kind, AMANIFEST_CAPTURE);
	assert_false(amanifest_learns(&m));
	amanifest_free(&m);
	assert_true(amanifest_name_ok("example-py"));
	assert_false(amanifest_name_ok("-x"));
	assert_false(amanifest_name_ok("a/b"));
	assert_false(amanifest_name_ok(""));
}

/* Comma lists of names: appended across calls, empty items skipped, bounded. */
static void
test_names(void **state)
{
	char a[] = "truth,,detect-chain", b[] = "x,y";
	const char *names[3];
	size_t n = 0;

	(void)state;
	assert_int_equal(amanifest_names(a, names, 3, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "truth");
	assert_string_equal(names[1], "detect-chain");
	assert_int_equal(amanifest_names(b, names, 3, &n), -1);
	assert_int_equal(n, 3);
	assert_string_equal(names[2], "x");
}

static void
test_shipped(void **state)
{
	struct amanifest m;
	char **names = NULL, *cause = NULL;
	int n, i, has_truth = 0;

	(void)state;
	setenv("MITMLAB_ANALYZERS", "analyzers", 1);	/* run from the repository root */
	assert_int_equal(amanifest_load("truth", &m, &cause), 0);
	assert_int_equal(m.role, AMANIFEST_TRUTH);
	assert_true(m.vantages & VANTAGE_PROXY);
	amanifest_free(&m);
	assert_int_equal(amanifest_load("example-py", &m, &cause), 0);
	assert_int_equal(m.vantages, VANTAGE_CLIENT);
	amanifest_free(&m);
	assert_int_equal(amanifest_load("no-such-analyzer", &m, &cause), -1);
	assert_non_null(strstr(cause, "MITMLAB_ANALYZERS"));
	free(cause);
	n = amanifest_list(AMANIFEST_DETECTOR, &names, NULL);
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		has_truth |= strcmp(names[i], "truth") == 0;
		if (i > 0)
			assert_true(strcmp(names[i - 1], names[i]) < 0);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	assert_false(has_truth);
}

/* dir/name/analyzer.json with command [prog]. */
static void
write_manifest(const char *dir, const char *name, const char *prog)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/%s/analyzer.json", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fprintf(f, "{\"name\": \"%s\", \"role\": \"detector\", \"kind\": \"bus\", "
	    "\"vantages\": [\"client\"], \"command\": [\"%s\", \"--x\"]}\n", name, prog);
	fclose(f);
}

/* The pre-check a run makes for --analyzer: the program must resolve as exec will. */
static void
test_check_program(void **state)
{
	char dir[] = "/tmp/test_amanifest.XXXXXX", p[512], *cause = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/bin", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/bin/built", dir);
	assert_non_null(f = fopen(p, "w"));
	fputs("#!/bin/sh\n", f);
	fclose(f);
	assert_int_equal(chmod(p, 0755), 0);
	write_manifest(dir, "built", "{bin}/built");
	write_manifest(dir, "unbuilt", "{bin}/unbuilt");
	write_manifest(dir, "onpath", "sh");
	write_manifest(dir, "notonpath", "mitmlab-no-such-program");
	write_manifest(dir, "script", "{dir}/run.sh");
	snprintf(p, sizeof(p), "%s/script/run.sh", dir);	/* there, but not executable */
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
	setenv("MITMLAB_ANALYZERS", dir, 1);
	snprintf(p, sizeof(p), "%s/bin", dir);
	setenv("MITMLAB_ANALYZER_BIN", p, 1);

	assert_int_equal(amanifest_check("built", &cause), 0);
	assert_int_equal(amanifest_check("onpath", &cause), 0);
	assert_int_equal(amanifest_check("unbuilt", &cause), -1);
	assert_non_null(strstr(cause, "unbuilt"));
	assert_non_null(strstr(cause, "make analyzers"));
	free(cause);
	cause = NULL;
	assert_int_equal(amanifest_check("notonpath", &cause), -1);
	assert_non_null(strstr(cause, "not on PATH"));
	free(cause);
	cause = NULL;
	assert_int_equal(amanifest_check("script", &cause), -1);
	assert_non_null(strstr(cause, "run.sh"));
	free(cause);
	unsetenv("MITMLAB_ANALYZER_BIN");
	unsetenv("MITMLAB_ANALYZERS");
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_good_and_expand),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_check_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
