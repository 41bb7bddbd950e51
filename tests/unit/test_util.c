/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_util — address helpers the engine's accept path uses: util_sa_unmap turns what a [::]
 * listener sees of an IPv4 peer (::ffff:a.b.c.d) into that IPv4 address with its port, and
 * leaves real IPv6 addresses (including the IPv4-compatible and NAT64 forms) and IPv4 ones as
 * they were; util_sa_str and util_parse_hostport agree on both families. Also the bounded
 * file read, path comparison, a child's environment (util_env) and the string vector that it
 * and wrap's argv append to (util_strv_vaddf).
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
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* The text of ss after util_sa_unmap, and whether it unmapped. */
static int
unmap(const char *hostport, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	int r;

	assert_true(util_parse_hostport(hostport, &ss, NULL) > 0);
	r = util_sa_unmap(&ss);
	util_sa_str((struct sockaddr *)&ss, out, outlen);
	return r;
}

static void
test_unmap(void **state)
{
	static const struct { const char *in, *out; int mapped; } t[] = {
		{ "[::ffff:10.77.1.2]:40000", "10.77.1.2:40000", 1 },
		{ "[::ffff:0.0.0.0]:1", "0.0.0.0:1", 1 },
		{ "[fd77:1::2]:443", "[fd77:1::2]:443", 0 },
		{ "[::10.77.1.2]:443", "[::10.77.1.2]:443", 0 },		/* IPv4-compatible: not mapped */
		{ "[64:ff9b::a4d:102]:443", "[64:ff9b::a4d:102]:443", 0 },	/* NAT64 */
		{ "10.77.1.2:443", "10.77.1.2:443", 0 },
	};
	char out[UTIL_ADDRSTRLEN + 8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(unmap(t[i].in, out, sizeof(out)), t[i].mapped);
		assert_string_equal(out, t[i].out);
	}
}

/* An unmapped address is a whole sockaddr_in: nothing of the IPv6 form is left behind. */
static void
test_unmap_clean(void **state)
{
	struct sockaddr_storage ss, want;
	struct sockaddr_in *in = (struct sockaddr_in *)&want;

	(void)state;
	assert_true(util_parse_hostport("[::ffff:192.0.2.7]:8443", &ss, NULL) > 0);
	assert_int_equal(util_sa_unmap(&ss), 1);
	memset(&want, 0, sizeof(want));
	in->sin_family = AF_INET;
	in->sin_port = htons(8443);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &in->sin_addr), 1);
	assert_memory_equal(&ss, &want, sizeof(ss));
	assert_int_equal(util_sa_unmap(&ss), 0);	/* already IPv4 */
}

/* util_read_file stops at UTIL_READ_MAX: an endless file is an error, not all memory. */
static void
test_read_cap(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_null(util_read_file("/dev/zero", NULL, &cause));
	assert_non_null(strstr(cause, "/dev/zero: larger than 64 MiB"));
	free(cause);
}

/* util_same_path: the same directory however named (a trailing ".", a symlink), not a
 * sibling; paths that do not exist compare as strings. */
static void
test_same_path(void **state)
{
	char dir[] = "/tmp/mitmlab-same.XXXXXX", a[64], b[64], link[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(link, sizeof(link), "%s/l", dir);
	assert_int_equal(mkdir(a, 0700), 0);
	assert_int_equal(mkdir(b, 0700), 0);
	assert_int_equal(symlink("a", link), 0);
	assert_true(util_same_path(a, link));
	assert_true(util_same_path(link, a));
	snprintf(link, sizeof(link), "%s/a/.", dir);
	assert_true(util_same_path(a, link));
	assert_false(util_same_path(a, b));
	assert_true(util_same_path("/nonexistent/x", "/nonexistent/x"));
	assert_false(util_same_path("/nonexistent/x", "/nonexistent/./x"));
	assert_false(util_same_path(a, "/nonexistent/x"));
	snprintf(link, sizeof(link), "%s/l", dir);
	unlink(link);
	rmdir(a);
	rmdir(b);
	rmdir(dir);
}

/* A child's environment: ours without the dropped prefixes, the added ones after it, no room
 * beyond what was asked for; free leaves ours alone. */
static void
test_env(void **state)
{
	static const char *const drop[] = { "MLTEST_DROP", NULL };
	static const char *const none[] = { NULL };
	struct util_env e, z;
	size_t i, keep = 0, ours = 0;

	(void)state;
	assert_int_equal(setenv("MLTEST_DROP_A", "1", 1), 0);
	assert_int_equal(setenv("MLTEST_KEEP", "2", 1), 0);
	assert_int_equal(util_env_init(&e, drop, 2), 0);
	assert_int_equal(util_env_add(&e, "MLTEST_NEW=%d", 3), 0);
	assert_int_equal(util_env_add(&e, "MLTEST_DROP_A=%s", "mine"), 0);
	assert_int_equal(util_env_add(&e, "MLTEST_MORE=4"), -1);	/* room for 2 only */
	assert_null(e.v[e.n]);
	for (i = 0; i < e.n; i++) {
		assert_true(strcmp(e.v[i], "MLTEST_DROP_A=1") != 0);
		keep += strcmp(e.v[i], "MLTEST_KEEP=2") == 0;
		ours += strcmp(e.v[i], "MLTEST_NEW=3") == 0 ||
		    strcmp(e.v[i], "MLTEST_DROP_A=mine") == 0;
	}
	assert_int_equal(keep, 1);
	assert_int_equal(ours, 2);
	assert_int_equal(e.n, e.inherited + 2);
	util_env_free(&e);
	assert_null(e.v);
	assert_string_equal(getenv("MLTEST_KEEP"), "2");	/* borrowed, not freed */
	assert_int_equal(util_env_init(&e, none, 0), 0);
	assert_int_equal(util_env_add(&e, "X=1"), -1);
	util_env_free(&e);
	memset(&z, 0, sizeof(z));
	util_env_free(&z);	/* a zeroed one */
	unsetenv("MLTEST_DROP_A");
	unsetenv("MLTEST_KEEP");
}

static int
addf(char **v, size_t *n, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = util_strv_vaddf(v, n, cap, fmt, ap);
	va_end(ap);
	return rc;
}

/* A bounded vector: entries appended formatted and NULL-terminated; full is refused and
 * leaves it as it was. */
static void
test_strv(void **state)
{
	char *v[3] = { NULL, NULL, NULL };
	size_t n = 0;

	(void)state;
	assert_int_equal(addf(v, &n, 2, "a=%d", 1), 0);
	assert_int_equal(addf(v, &n, 2, "%s", "b"), 0);
	assert_int_equal(addf(v, &n, 2, "c"), -1);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "a=1");
	assert_string_equal(v[1], "b");
	assert_null(v[2]);
	free(v[0]);
	free(v[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unmap),
		cmocka_unit_test(test_unmap_clean),
		cmocka_unit_test(test_read_cap),
		cmocka_unit_test(test_same_path),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_strv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
