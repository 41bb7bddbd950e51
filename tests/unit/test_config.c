/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config — the option table through both syntaxes: defaults, argv (--name value,
 * --name=value, flags, -c FILE in order), files (comments, quotes, flags with on/off), bounds
 * and choice errors, unknown options (named, pointing at --help), file:line errors, rule order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void
test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	assert_string_equal(cfg.listen, "0.0.0.0:8443");
	assert_int_equal(cfg.mode, CONFIG_MODE_REDIRECT);
	assert_int_equal(cfg.workers, 0);
	assert_string_equal(cfg.profile, "kz2019");
	assert_int_equal(cfg.upstream_hello, CONFIG_HELLO_OPENSSL);
	assert_int_equal(cfg.ca_issuer, CONFIG_CA_CURRENT);
	assert_int_equal(cfg.upstream_verify, -1);
	assert_string_equal(cfg.default_action, "splice");
	assert_string_equal(cfg.id, "proxy");
	assert_int_equal(cfg.block_ms, 30000);
	assert_int_equal(cfg.require_valid, 0);
	assert_null(cfg.ca_dir);
	config_free(&cfg);
}

static void
test_argv(void **state)
{
	char *argv[] = { "proxy", "--listen", "127.0.0.1:1", "--workers=4", "--mode", "tproxy",
	    "--upstream-hello", "mirror", "--upstream-verify", "on", "--require-valid-upstream",
	    "--rule", "splice sni=a.com", "--target", "*.b.com", "--target-dst", "10.0.0.0/8",
	    "--target-list", "list.txt", "--allow-upstream", "10.77.2.0/24",
	    "--allow-upstream", "10.77.3.0/24", "--debug", "--max-conns", "7",
	    "--ca-issuer", "expired" };
	struct config cfg;
	char *cause = NULL;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_parse_argv(&cfg, ARGC(argv), argv, &cause), 0);
	assert_string_equal(cfg.listen, "127.0.0.1:1");
	assert_int_equal(cfg.workers, 4);
	assert_int_equal(cfg.mode, CONFIG_MODE_TPROXY);
	assert_int_equal(cfg.upstream_hello, CONFIG_HELLO_MIRROR);
	assert_int_equal(cfg.upstream_verify, 1);
	assert_int_equal(cfg.require_valid, 1);
	assert_int_equal(cfg.debug, 1);
	assert_int_equal(cfg.max_conns, 7);
	assert_int_equal(cfg.ca_issuer, CONFIG_CA_EXPIRED);
	assert_int_equal(cfg.nrules, 4);
	assert_string_equal(cfg.rules[0].text, "splice sni=a.com");
	assert_string_equal(cfg.rules[1].text, "intercept sni=*.b.com");
	assert_string_equal(cfg.rules[2].text, "intercept dst=10.0.0.0/8");
	assert_int_equal(cfg.rules[3].kind, CONFIG_RULE_LIST);
	assert_string_equal(cfg.rules[3].text, "list.txt");
	assert_int_equal(cfg.nallow, 2);
	assert_string_equal(cfg.allow[1], "10.77.3.0/24");
	config_free(&cfg);
}

/* Parse argv and return the error text (caller frees); fails the test on success. */
static char *
argv_error(int argc, char **argv)
{
	struct config cfg;
	char *cause = NULL;

	config_init(&cfg);
	assert_int_equal(config_parse_argv(&cfg, argc, argv, &cause), -1);
	assert_non_null(cause);
	config_free(&cfg);
	return cause;
}

static void
test_argv_errors(void **state)
{
	char *a1[] = { "proxy", "--wrokers", "2" };
	char *a2[] = { "proxy", "--workers", "0x" };
	char *a3[] = { "proxy", "--workers", "257" };
	char *a4[] = { "proxy", "--mode", "nat" };
	char *a5[] = { "proxy", "--listen" };
	char *a6[] = { "proxy", "stray" };
	char *a7[] = { "proxy", "--upstream-verify", "maybe" };
	char *a8[] = { "proxy", "--ca-issuer", "old" };
	/* the host-key map's buckets are allocated at start: no gigabytes on a typo */
	char *a9[] = { "proxy", "--host-keys", "4000001" };
	/* each refused command line, and what its error must say (NULL: any error) */
	const struct {
		int	 argc;
		char	**argv;
		const char *says[2];
	} cases[] = {
		{ ARGC(a1), a1, { "unknown option \"--wrokers\"", "--help" } },
		{ ARGC(a2), a2, { "--workers", NULL } },
		{ ARGC(a3), a3, { "out of range", NULL } },
		{ ARGC(a4), a4, { "redirect|tproxy", NULL } },
		{ ARGC(a5), a5, { "--listen needs a value", NULL } },
		{ ARGC(a6), a6, { NULL, NULL } },
		{ ARGC(a7), a7, { NULL, NULL } },
		{ ARGC(a8), a8, { "current|expired", NULL } },
		{ ARGC(a9), a9, { "out of range", NULL } },
	};
	size_t i, j;
	char *e;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = argv_error(cases[i].argc, cases[i].argv);
		for (j = 0; j < 2 && cases[i].says[j] != NULL; j++)
			if (strstr(e, cases[i].says[j]) == NULL)
				fail_msg("%s %s: \"%s\" does not say \"%s\"", cases[i].argv[0],
				    cases[i].argv[1], e, cases[i].says[j]);
		free(e);
	}
}

static void
test_file(void **state)
{
	char *argv[] = { "proxy", "--workers", "9", "-c", "tests/fixtures/config/good.conf",
	    "--target", "late.com" };
	struct config cfg;
	char *cause = NULL;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_parse_argv(&cfg, ARGC(argv), argv, &cause), 0);
	assert_string_equal(cfg.listen, "127.0.0.1:9443");
	assert_int_equal(cfg.workers, 3);	/* the file came after --workers 9 */
	assert_int_equal(cfg.mode, CONFIG_MODE_TPROXY);
	assert_int_equal(cfg.require_valid, 1);
	assert_int_equal(cfg.upstream_verify, 0);
	assert_int_equal(cfg.debug, 1);
	assert_int_equal(cfg.nrules, 3);
	assert_string_equal(cfg.rules[0].text, "block-reset sni=blocked.example");
	assert_string_equal(cfg.rules[0].origin, "tests/fixtures/config/good.conf:5");
	assert_string_equal(cfg.rules[1].text, "intercept sni=*.google.com");
	assert_string_equal(cfg.rules[2].text, "intercept sni=late.com");
	assert_int_equal(cfg.nallow, 1);
	config_free(&cfg);
}

static void
test_file_errors(void **state)
{
	struct config cfg;
	char *cause = NULL;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_parse_file(&cfg, "tests/fixtures/config/bad-bounds.conf",
	    &cause), -1);
	assert_non_null(strstr(cause, "tests/fixtures/config/bad-bounds.conf:3: --workers"));
	assert_non_null(strstr(cause, "out of range"));
	free(cause);
	cause = NULL;
	assert_int_equal(config_parse_file(&cfg, "tests/fixtures/config/bad-name.conf",
	    &cause), -1);
	assert_non_null(strstr(cause, "bad-name.conf:3: unknown option \"wrokers\""));
	assert_non_null(strstr(cause, "--help"));
	free(cause);
	cause = NULL;
	assert_int_equal(config_parse_file(&cfg, "tests/fixtures/config/none.conf", &cause),
	    -1);
	assert_non_null(strstr(cause, "none.conf"));
	free(cause);
	config_free(&cfg);
}

static void
test_set_and_usage(void **state)
{
	struct config cfg;
	char *cause = NULL, buf[16384];
	FILE *f;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_set(&cfg, "block-timeout", "0", "x:1", NULL), 0);
	assert_int_equal(cfg.block_ms, 0);
	assert_int_equal(config_set(&cfg, "keylog", NULL, "x:2", &cause), -1);
	assert_non_null(strstr(cause, "x:2: --keylog needs a value"));
	free(cause);
	f = fmemopen(buf, sizeof(buf), "w");
	config_usage(f, "mitmlab proxy");
	fclose(f);
	assert_non_null(strstr(buf, "--require-valid-upstream"));
	assert_non_null(strstr(buf, "--allow-upstream CIDR"));
	assert_non_null(strstr(buf, "-c, --config FILE"));
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_argv_errors),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_set_and_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
