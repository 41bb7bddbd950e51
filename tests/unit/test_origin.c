/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_origin — unit tests for the pure parts of `mitmlab origin`: configuration parsing
 * (good files, defaults, and bad files whose errors must name the file, the JSON path or line,
 * and the fix), the HTTP/1.1 request-head parser (table of good, malformed and oversized
 * heads), response heads and the body pattern. Fixtures: tests/fixtures/origin/ (run from the
 * repository root).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "origin_conf.h"
#include "origin_http.h"

#define FIX "tests/fixtures/origin/"

/* A full configuration parses into the expected fields. */
static void
test_conf_good(void **state)
{
	struct origin_conf *c;
	char *cause = NULL;

	(void)state;
	c = origin_conf_load(FIX "good.json", &cause);
	if (c == NULL)
		fail_msg("%s", cause);
	assert_string_equal(c->id, "origin-a");
	assert_string_equal(c->bus, "ipc:///tmp/mitmlab-bus.in");
	assert_int_equal(c->listen.text.n, 2);
	assert_int_equal(c->listen.ss[1].ss_family, AF_INET6);
	assert_int_equal(c->max_conns, 500);
	assert_int_equal(c->handshake_timeout, 10);
	assert_int_equal(c->n_sites, 2);
	assert_string_equal(c->sites[0].name, "www.google.com");
	assert_int_equal(c->sites[0].aliases.n, 2);
	assert_string_equal(c->sites[0].chain, "pki/chain.pem");
	assert_int_equal(c->sites[0].hsts, ORIGIN_HSTS_PRELOAD);
	assert_int_equal(c->sites[0].body_bytes, 1048576);
	assert_int_equal(c->sites[0].tls_min, TLS1_2_VERSION);
	assert_int_equal(c->sites[0].alpn.n, 2);
	assert_int_equal(c->sites[1].default_for.text.n, 1);
	assert_int_equal(c->sites[1].hsts, ORIGIN_HSTS_ON);
	assert_int_equal(c->sites[1].alpn.n, 0);
	assert_int_equal(c->sites[1].client_cert, ORIGIN_CCERT_REQUIRED);
	assert_int_equal(c->sites[1].status, 404);
	origin_conf_free(c);
}

/* A minimal configuration gets the table's defaults. */
static void
test_conf_defaults(void **state)
{
	struct origin_conf *c;
	char *cause = NULL;

	(void)state;
	c = origin_conf_load(FIX "minimal.json", &cause);
	if (c == NULL)
		fail_msg("%s", cause);
	assert_string_equal(c->id, "origin");
	assert_null(c->bus);
	assert_null(c->keylog);
	assert_int_equal(c->max_conns, 1024);
	assert_int_equal(c->idle_timeout, 30);
	assert_null(c->sites[0].chain);
	assert_int_equal(c->sites[0].tls_min, TLS1_2_VERSION);
	assert_int_equal(c->sites[0].tls_max, TLS1_3_VERSION);
	assert_int_equal(c->sites[0].alpn.n, 2);
	assert_string_equal(c->sites[0].alpn.v[0], "h2");
	assert_int_equal(c->sites[0].hsts, ORIGIN_HSTS_OFF);
	assert_int_equal(c->sites[0].client_cert, ORIGIN_CCERT_NONE);
	assert_int_equal(c->sites[0].body_bytes, 1024);
	assert_int_equal(c->sites[0].status, 200);
	origin_conf_free(c);
}

/* Bad files: each error names the file and contains the expected place and fix. */
static void
test_conf_bad(void **state)
{
	static const struct { const char *file, *want1, *want2; } cases[] = {
		{ "bad-syntax.json", "bad-syntax.json:4:", "fix the JSON syntax" },
		{ "bad-tls.json", "sites[1].tls_min", "use \"1.0\", \"1.1\", \"1.2\" or \"1.3\"" },
		{ "bad-key.json", "unknown key \"hst\"", "known: name, aliases" },
		{ "bad-ccert.json", "sites[0].client_ca: missing", "CA that signs" },
		{ "bad-listen.json", "listen[0]", "10.1.0.10:443" },
		{ "bad-missing-cert.json", "sites[0].cert: missing", "add \"cert\"" },
		{ "bad-dup.json", "sites[1].name", "use aliases" },
		{ "bad-range.json", "sites[0].status", "use 200..599" },
		{ "bad-order.json", "tls_min is above tls_max", "lower tls_min" },
		{ "bad-alpn.json", "sites[0].alpn[0]", "use \"h2\" or \"http/1.1\"" },
		{ "bad-nosites.json", "sites:", "--site" },
		{ "does-not-exist.json", "does-not-exist.json", "check the path" },
	};
	char path[256], *cause;
	struct origin_conf *c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cause = NULL;
		snprintf(path, sizeof(path), FIX "%s", cases[i].file);
		c = origin_conf_load(path, &cause);
		if (c != NULL)
			fail_msg("%s: parsed, expected an error", cases[i].file);
		assert_non_null(cause);
		if (strstr(cause, cases[i].file) == NULL || strstr(cause, cases[i].want1) == NULL ||
		    strstr(cause, cases[i].want2) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\" / \"%s\"", cases[i].file, cause,
			    cases[i].want1, cases[i].want2);
		free(cause);
	}
}

/* The command-line path: a JSON object built in memory, labelled "command line". */
static void
test_conf_object(void **state)
{
	json_t *root = json_pack("{s:[s], s:[{s:s, s:s, s:s}]}", "listen", "127.0.0.1:1",
	    "sites", "name", "x.lab", "cert", "x.pem", "key", "x.key");
	struct origin_conf *c;
	char *cause = NULL;

	(void)state;
	c = origin_conf_parse(root, "command line", &cause);
	assert_non_null(c);
	assert_string_equal(c->sites[0].name, "x.lab");
	origin_conf_free(c);
	json_object_set_new(root, "max_conns", json_string("many"));
	assert_null(origin_conf_parse(root, "command line", &cause));
	assert_non_null(strstr(cause, "command line: max_conns: expected an integer"));
	free(cause);
	json_decref(root);
}

struct http_case {
	const char *in;
	enum origin_http_status want;
	const char *method, *path, *host, *ua;
	int keep_alive;
	uint64_t cl;
};

/* The HTTP/1.1 parser against a table of heads. */
static void
test_http_parse(void **state)
{
	static const struct http_case cases[] = {
		{ "GET / HTTP/1.1\r\nHost: a.lab\r\nUser-Agent: curl/8\r\n\r\n", ORIGIN_HTTP_OK,
		  "GET", "/", "a.lab", "curl/8", 1, 0 },
		{ "GET /x?y=1 HTTP/1.0\r\nHost: a\r\n\r\n", ORIGIN_HTTP_OK, "GET", "/x?y=1", "a",
		  "", 0, 0 },
		{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", ORIGIN_HTTP_OK, "GET", "/", "",
		  "", 1, 0 },
		{ "GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", ORIGIN_HTTP_OK, "GET", "/", "",
		  "", 0, 0 },
		{ "POST /p HTTP/1.1\nContent-Length: 12\nHost:  h  \n\n", ORIGIN_HTTP_OK, "POST",
		  "/p", "h", "", 1, 12 },
		{ "\r\nGET / HTTP/1.1\r\n\r\n", ORIGIN_HTTP_OK, "GET", "/", "", "", 1, 0 },
		{ "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
		  ORIGIN_HTTP_OK, "GET", "/", "", "", 1, 5 },
		{ "GET / HTTP/1.1\r\nHost: a", ORIGIN_HTTP_NEED_MORE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "GET / HTTP/1.1\r\n", ORIGIN_HTTP_NEED_MORE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "", ORIGIN_HTTP_NEED_MORE, NULL, NULL, NULL, NULL, 0, 0 },
		{ "GARBAGE\r\n\r\n", ORIGIN_HTTP_BAD, NULL, NULL, NULL, NULL, 0, 0 },
		{ "GET  / HTTP/1.1\r\n\r\n", ORIGIN_HTTP_BAD, NULL, NULL, NULL, NULL, 0, 0 },
		{ "G(T / HTTP/1.1\r\n\r\n", ORIGIN_HTTP_BAD, NULL, NULL, NULL, NULL, 0, 0 },
		{ "GET / HTTP/1.1 \r\n\r\n", ORIGIN_HTTP_BAD, NULL, NULL, NULL, NULL, 0, 0 },
		{ "GET / HTTP/2.0\r\n\r\n", ORIGIN_HTTP_UNSUPPORTED, NULL, NULL, NULL, NULL, 0, 0 },
		{ "GET / HTTP/1.1\r\nX: a\r b\r\n\r\n", ORIGIN_HTTP_BAD, NULL, NULL, NULL, NULL, 0,
		  0 },
		{ "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", ORIGIN_HTTP_BAD, NULL, NULL, NULL,
		  NULL, 0, 0 },
		{ "GET / HTTP/1.1\r\nX : a\r\n\r\n", ORIGIN_HTTP_BAD, NULL, NULL, NULL, NULL, 0, 0 },
		{ "GET / HTTP/1.1\r\nnocolon\r\n\r\n", ORIGIN_HTTP_BAD, NULL, NULL, NULL, NULL, 0,
		  0 },
		{ "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		  ORIGIN_HTTP_BAD, NULL, NULL, NULL, NULL, 0, 0 },
		{ "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", ORIGIN_HTTP_BAD, NULL, NULL, NULL,
		  NULL, 0, 0 },
		{ "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", ORIGIN_HTTP_BAD,
		  NULL, NULL, NULL, NULL, 0, 0 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", ORIGIN_HTTP_BAD, NULL, NULL, NULL,
		  NULL, 0, 0 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", ORIGIN_HTTP_UNSUPPORTED,
		  NULL, NULL, NULL, NULL, 0, 0 },
	};
	struct origin_http_req req;
	enum origin_http_status st;
	char *cause;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cause = NULL;
		st = origin_http_parse(cases[i].in, strlen(cases[i].in), &req, &cause);
		if (st != cases[i].want)
			fail_msg("case %zu: status %d, want %d (%s)", i, st, cases[i].want,
			    cause ? cause : "");
		if (st < 0 && cause == NULL)
			fail_msg("case %zu: error without a cause", i);
		free(cause);
		if (st != ORIGIN_HTTP_OK)
			continue;
		assert_string_equal(req.method, cases[i].method);
		assert_string_equal(req.path, cases[i].path);
		assert_string_equal(req.host, cases[i].host);
		assert_string_equal(req.ua, cases[i].ua);
		assert_int_equal(req.keep_alive, cases[i].keep_alive);
		assert_int_equal(req.content_length, cases[i].cl);
		assert_int_equal(req.head_len, strlen(cases[i].in));
	}
}

/* Oversized heads, long targets, many headers, a truncated User-Agent, pipelining. */
static void
test_http_limits(void **state)
{
	struct origin_http_req req;
	char *buf = malloc(3 * ORIGIN_HTTP_MAX_HEAD), *cause = NULL;
	size_t n;
	int i;

	(void)state;
	/* No blank line within the limit. */
	n = (size_t)snprintf(buf, 64, "GET / HTTP/1.1\r\nX-Big: ");
	memset(buf + n, 'a', 2 * ORIGIN_HTTP_MAX_HEAD);
	assert_int_equal(origin_http_parse(buf, n + 2 * ORIGIN_HTTP_MAX_HEAD, &req, &cause),
	    ORIGIN_HTTP_TOO_LARGE);
	free(cause);
	cause = NULL;
	/* Under the limit without a blank line: wait for more. */
	assert_int_equal(origin_http_parse(buf, 1000, &req, NULL), ORIGIN_HTTP_NEED_MORE);
	/* A request target over ORIGIN_HTTP_MAX_PATH. */
	n = (size_t)snprintf(buf, 16, "GET /");
	memset(buf + n, 'p', ORIGIN_HTTP_MAX_PATH);
	n += ORIGIN_HTTP_MAX_PATH;
	n += (size_t)snprintf(buf + n, 32, " HTTP/1.1\r\n\r\n");
	assert_int_equal(origin_http_parse(buf, n, &req, NULL), ORIGIN_HTTP_TOO_LARGE);
	/* More than ORIGIN_HTTP_MAX_HEADERS headers. */
	n = (size_t)snprintf(buf, 32, "GET / HTTP/1.1\r\n");
	for (i = 0; i <= ORIGIN_HTTP_MAX_HEADERS; i++)
		n += (size_t)snprintf(buf + n, 16, "X: %d\r\n", i);
	n += (size_t)snprintf(buf + n, 8, "\r\n");
	assert_int_equal(origin_http_parse(buf, n, &req, NULL), ORIGIN_HTTP_TOO_LARGE);
	/* A long User-Agent is truncated, not refused. */
	n = (size_t)snprintf(buf, 64, "GET / HTTP/1.1\r\nUser-Agent: ");
	memset(buf + n, 'u', 2000);
	n += 2000;
	n += (size_t)snprintf(buf + n, 8, "\r\n\r\n");
	assert_int_equal(origin_http_parse(buf, n, &req, NULL), ORIGIN_HTTP_OK);
	assert_int_equal(strlen(req.ua), ORIGIN_HTTP_MAX_UA - 1);
	/* Pipelined: head_len stops at the first blank line. */
	n = (size_t)snprintf(buf, 128, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
	assert_int_equal(origin_http_parse(buf, n, &req, NULL), ORIGIN_HTTP_OK);
	assert_string_equal(req.path, "/1");
	assert_int_equal(origin_http_parse(buf + req.head_len, n - req.head_len, &req, NULL),
	    ORIGIN_HTTP_OK);
	assert_string_equal(req.path, "/2");
	/* A NUL in the head. */
	memcpy(buf, "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27);
	assert_int_equal(origin_http_parse(buf, 27, &req, NULL), ORIGIN_HTTP_BAD);
	free(buf);
}

/* Response heads carry the site, the length and HSTS as configured. */
static void
test_http_head(void **state)
{
	char out[1024];
	int n;

	(void)state;
	n = origin_http_head(out, sizeof(out), 200, "text/plain", 4194304, ORIGIN_HSTS_PRELOAD,
	    "www.google.com", 1);
	assert_true(n > 0);
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(out, "Content-Length: 4194304\r\n"));
	assert_non_null(strstr(out, "Strict-Transport-Security: max-age=31536000; "
	    "includeSubDomains; preload\r\n"));
	assert_non_null(strstr(out, "X-Mitmlab-Site: www.google.com\r\n"));
	assert_non_null(strstr(out, "Connection: keep-alive\r\n\r\n"));
	n = origin_http_head(out, sizeof(out), 404, "text/plain", 0, ORIGIN_HSTS_OFF, "a", 0);
	assert_true(n > 0);
	assert_null(strstr(out, "Strict-Transport-Security"));
	assert_non_null(strstr(out, "HTTP/1.1 404 Not Found\r\n"));
	assert_int_equal(origin_http_head(out, 20, 200, "text/plain", 0, 0, "a", 1), -1);
	assert_false(origin_http_has_body(204));
	assert_false(origin_http_has_body(304));
	assert_true(origin_http_has_body(200));
}

/* The pattern is the same however the body is cut into pieces. */
static void
test_http_pattern(void **state)
{
	uint8_t whole[1000], parts[1000];
	size_t off = 0, cut;

	(void)state;
	origin_http_pattern(whole, sizeof(whole), 0);
	assert_memory_equal(whole, ORIGIN_HTTP_PATTERN, ORIGIN_HTTP_PATTERN_LEN);
	assert_memory_equal(whole + 64, ORIGIN_HTTP_PATTERN, ORIGIN_HTTP_PATTERN_LEN);
	for (cut = 1; off < sizeof(parts); cut = cut * 3 + 1) {
		size_t n = cut < sizeof(parts) - off ? cut : sizeof(parts) - off;
		origin_http_pattern(parts + off, n, off);
		off += n;
	}
	assert_memory_equal(whole, parts, sizeof(whole));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_good),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_bad),
		cmocka_unit_test(test_conf_object),
		cmocka_unit_test(test_http_parse),
		cmocka_unit_test(test_http_limits),
		cmocka_unit_test(test_http_head),
		cmocka_unit_test(test_http_pattern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
