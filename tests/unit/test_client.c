/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_client — unit tests for the pure parts of `mitmlab client`: outcome classification
 * from X509 verify codes and errno values, block-list and pin parsing (errors name file:line),
 * URL and --connect parsing, the HTTP/1.1 response parser, percentiles and the option parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509_vfy.h>

#include "client_h1.h"
#include "client_opts.h"
#include "client_result.h"
#include "client_stats.h"
#include "client_trust.h"
#include "client_url.h"

#define FIX "tests/fixtures/client/"

/* Facts shorthand for the classification table. */
struct classify_case {
	const char *name;
	struct client_facts f;
	const char *want;
};

static void
test_classify(void **state)
{
	static const struct classify_case cases[] = {
		{ "ok 200", { CLIENT_STAGE_DONE, 0, 0, X509_V_OK, 0, 0, 0, 0, 200, 0 }, "ok" },
		{ "ok 204", { CLIENT_STAGE_DONE, 0, 0, X509_V_OK, 0, 0, 0, 0, 204, 0 }, "ok" },
		{ "unknown issuer", { CLIENT_STAGE_HANDSHAKE, 0, 0,
		    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 0, 0, 1, 0, 0, 0 }, "cert-untrusted" },
		{ "self-signed", { CLIENT_STAGE_HANDSHAKE, 0, 0,
		    X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 0, 0, 1, 0, 0, 0 }, "cert-untrusted" },
		{ "expired", { CLIENT_STAGE_HANDSHAKE, 0, 0, X509_V_ERR_CERT_HAS_EXPIRED, 0, 0, 1,
		    0, 0, 0 }, "cert-untrusted" },
		{ "hostname", { CLIENT_STAGE_HANDSHAKE, 0, 0, X509_V_ERR_HOSTNAME_MISMATCH, 0, 0,
		    1, 0, 0, 0 }, "hostname-mismatch" },
		{ "ip mismatch", { CLIENT_STAGE_HANDSHAKE, 0, 0, X509_V_ERR_IP_ADDRESS_MISMATCH, 0,
		    0, 1, 0, 0, 0 }, "hostname-mismatch" },
		{ "blocked and trusted", { CLIENT_STAGE_HANDSHAKE, 1, 0, X509_V_OK, 0, 0, 1, 0, 0,
		    0 }, "blocked-root" },
		{ "blocked beats untrusted", { CLIENT_STAGE_HANDSHAKE, 1, 0,
		    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 0, 0, 1, 0, 0, 0 }, "blocked-root" },
		{ "blocked beats hostname", { CLIENT_STAGE_HANDSHAKE, 1, 0,
		    X509_V_ERR_HOSTNAME_MISMATCH, 0, 0, 1, 0, 0, 0 }, "blocked-root" },
		{ "pin", { CLIENT_STAGE_HANDSHAKE, 0, 1, X509_V_OK, 0, 0, 1, 0, 0, 0 },
		    "pin-mismatch" },
		{ "alert", { CLIENT_STAGE_HANDSHAKE, 0, 0, -1, 0, 0, 1, 0, 0, 0 },
		    "handshake-failure" },
		{ "cert required after finished", { CLIENT_STAGE_HTTP, 0, 0, X509_V_OK, 0, 0, 1, 0,
		    0, 0 }, "handshake-failure" },
		{ "fin in handshake", { CLIENT_STAGE_HANDSHAKE, 0, 0, -1, 0, 0, 0, 1, 0, 0 },
		    "handshake-failure" },
		{ "rst in handshake", { CLIENT_STAGE_HANDSHAKE, 0, 0, -1, ECONNRESET, 0, 0, 0, 0,
		    0 }, "reset" },
		{ "rst in http", { CLIENT_STAGE_HTTP, 0, 0, X509_V_OK, ECONNRESET, 0, 0, 0, 0, 0 },
		    "reset" },
		{ "epipe", { CLIENT_STAGE_HTTP, 0, 0, X509_V_OK, EPIPE, 0, 0, 0, 0, 0 }, "reset" },
		{ "rst on connect", { CLIENT_STAGE_CONNECT, 0, 0, -1, ECONNRESET, 0, 0, 0, 0, 0 },
		    "reset" },
		{ "refused", { CLIENT_STAGE_CONNECT, 0, 0, -1, ECONNREFUSED, 0, 0, 0, 0, 0 },
		    "connect-failed" },
		{ "host unreachable", { CLIENT_STAGE_CONNECT, 0, 0, -1, EHOSTUNREACH, 0, 0, 0, 0,
		    0 }, "connect-failed" },
		{ "net unreachable", { CLIENT_STAGE_CONNECT, 0, 0, -1, ENETUNREACH, 0, 0, 0, 0, 0 },
		    "connect-failed" },
		{ "connect ETIMEDOUT", { CLIENT_STAGE_CONNECT, 0, 0, -1, ETIMEDOUT, 0, 0, 0, 0, 0 },
		    "timeout" },
		{ "silent after hello", { CLIENT_STAGE_HANDSHAKE, 0, 0, -1, 0, 1, 0, 0, 0, 0 },
		    "timeout" },
		{ "slow body", { CLIENT_STAGE_HTTP, 0, 0, X509_V_OK, 0, 1, 0, 0, 200, 0 },
		    "timeout" },
		{ "404", { CLIENT_STAGE_DONE, 0, 0, X509_V_OK, 0, 0, 0, 0, 404, 0 }, "http-error" },
		{ "500", { CLIENT_STAGE_DONE, 0, 0, X509_V_OK, 0, 0, 0, 0, 500, 0 }, "http-error" },
		{ "malformed", { CLIENT_STAGE_HTTP, 0, 0, X509_V_OK, 0, 0, 0, 0, 0, 1 },
		    "http-error" },
		{ "truncated", { CLIENT_STAGE_HTTP, 0, 0, X509_V_OK, 0, 0, 0, 1, 200, 0 },
		    "http-error" },
		{ "301", { CLIENT_STAGE_DONE, 0, 0, X509_V_OK, 0, 0, 0, 0, 301, 0 }, "redirect" },
		{ "302", { CLIENT_STAGE_DONE, 0, 0, X509_V_OK, 0, 0, 0, 0, 302, 0 }, "redirect" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = client_result_name(client_result_classify(&cases[i].f));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got %s, want %s", cases[i].name, got, cases[i].want);
	}
	assert_string_equal(client_result_name(CLIENT_NOUTCOMES), "?");
}

static void
test_hash(void **state)
{
	unsigned char h[32], z[32];

	(void)state;
	memset(z, 0, sizeof(z));
	z[31] = 0xab;
	assert_int_equal(client_trust_parse_hash(
	    "00000000000000000000000000000000000000000000000000000000000000AB", h), 0);
	assert_memory_equal(h, z, 32);
	assert_int_equal(client_trust_parse_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAKs=", h), 0);
	assert_memory_equal(h, z, 32);
	assert_int_equal(client_trust_parse_hash(
	    "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAKs=", h), 0);
	assert_int_equal(client_trust_parse_hash("deadbeef", h), -1);
	assert_int_equal(client_trust_parse_hash(
	    "0000000000000000000000000000000000000000000000000000000000000g00", h), -1);
	assert_int_equal(client_trust_parse_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=A", h), -1);
	assert_int_equal(client_trust_parse_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", h), -1);
}

static void
test_blocklist(void **state)
{
	struct client_blocklist bl = { NULL, 0 };
	unsigned char h[32];
	char *cause = NULL;

	(void)state;
	assert_int_equal(client_trust_blocklist_load(&bl, FIX "blocklist.txt", &cause), 0);
	assert_int_equal(bl.n, 3);
	memset(h, 0, sizeof(h));
	h[31] = 2;
	assert_true(client_trust_blocked(&bl, h));
	h[31] = 3;
	assert_true(client_trust_blocked(&bl, h));
	h[31] = 4;
	assert_false(client_trust_blocked(&bl, h));
	client_trust_blocklist_free(&bl);

	assert_int_equal(client_trust_blocklist_load(&bl, FIX "blocklist-bad.txt", &cause), -1);
	assert_non_null(strstr(cause, "blocklist-bad.txt:3:"));
	free(cause);
	cause = NULL;
	client_trust_blocklist_free(&bl);
	assert_int_equal(client_trust_blocklist_load(&bl, FIX "nonexistent.txt", &cause), -1);
	assert_non_null(strstr(cause, "nonexistent.txt"));
	free(cause);
	client_trust_blocklist_free(&bl);
}

static void
test_pins(void **state)
{
	struct client_pins p = { NULL, 0 };
	unsigned char h[32];
	char *cause = NULL;

	(void)state;
	assert_int_equal(client_trust_pin_add(&p,
	    "site.lab=sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAKs=", &cause), 0);
	assert_int_equal(client_trust_pin_count(&p, "SITE.lab"), 1);
	assert_int_equal(client_trust_pin_count(&p, "other.lab"), 0);
	memset(h, 0, sizeof(h));
	h[31] = 0xab;
	assert_true(client_trust_pin_match(&p, "site.lab", h));
	h[31] = 0;
	assert_false(client_trust_pin_match(&p, "site.lab", h));
	assert_int_equal(client_trust_pin_add(&p, "site.lab=AAAA", &cause), -1);
	assert_non_null(strstr(cause, "sha256/BASE64"));
	free(cause);
	cause = NULL;
	assert_int_equal(client_trust_pin_add(&p, "=sha256/AAAA", &cause), -1);
	free(cause);
	client_trust_pins_free(&p);
}

static void
test_url(void **state)
{
	struct client_url u;
	char *cause = NULL;
	static const char *const bad[] = {
		"http:/site.lab/", "http://", "https://", "https:///x", "https://site.lab:0/",
		"https://site.lab:65536/", "https://site.lab:x/", "https://[::1/", "https://u@h/",
		"https://site.lab/a b", "ftp://x",
	};
	size_t i;

	(void)state;
	assert_int_equal(client_url_parse("https://site.lab", &u, NULL), 0);
	assert_string_equal(u.host, "site.lab");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/");
	assert_string_equal(u.authority, "site.lab");
	assert_int_equal(client_url_parse("HTTPS://site.lab:8443/a/b?c=d", &u, NULL), 0);
	assert_int_equal(u.port, 8443);
	assert_string_equal(u.path, "/a/b?c=d");
	assert_string_equal(u.authority, "site.lab:8443");
	assert_int_equal(client_url_parse("https://[::1]:4433/x", &u, NULL), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.authority, "[::1]:4433");
	assert_int_equal(u.tls, 1);
	/* http://: clear text, port 80 by default and left out of Host only when 80. */
	assert_int_equal(client_url_parse("http://site.lab", &u, NULL), 0);
	assert_int_equal(u.tls, 0);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.path, "/");
	assert_string_equal(u.authority, "site.lab");
	assert_int_equal(client_url_parse("HTTP://site.lab:443/install", &u, NULL), 0);
	assert_int_equal(u.tls, 0);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.authority, "site.lab:443");
	assert_string_equal(u.path, "/install");
	assert_int_equal(client_url_parse("http://[::1]:8080/", &u, NULL), 0);
	assert_string_equal(u.authority, "[::1]:8080");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (client_url_parse(bad[i], &u, &cause) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(cause);
		free(cause);
		cause = NULL;
	}
}

static void
test_connect(void **state)
{
	struct client_url u;
	struct sockaddr_storage ss;
	socklen_t sl;
	char host[CLIENT_URL_HOSTMAX], *cause = NULL;
	char *conn[] = { (char *)(uintptr_t)"other.lab=10.0.0.1",
	    (char *)(uintptr_t)"site.lab=127.0.0.2:9443" };
	int port;

	(void)state;
	assert_int_equal(client_url_parse_connect("a.lab=127.0.0.1", host, &ss, &sl, &port, NULL), 0);
	assert_string_equal(host, "a.lab");
	assert_int_equal(port, 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(client_url_parse_connect("a.lab=[::1]:8443", host, &ss, &sl, &port, NULL), 0);
	assert_int_equal(port, 8443);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(client_url_parse_connect("a.lab=::1", host, &ss, &sl, &port, NULL), 0);
	assert_int_equal(port, 0);
	assert_int_equal(client_url_parse_connect("a.lab", host, &ss, &sl, &port, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(client_url_parse_connect("a.lab=not.an.ip", host, &ss, &sl, &port,
	    &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(client_url_parse("https://site.lab/", &u, NULL), 0);
	assert_int_equal(client_url_resolve(&u, conn, 2, NULL), 0);
	{
		char a[UTIL_ADDRSTRLEN + 8];
		assert_string_equal(util_sa_str((struct sockaddr *)&u.addr, a, sizeof(a)),
		    "127.0.0.2:9443");
	}
	assert_int_equal(client_url_parse("https://other.lab:444/", &u, NULL), 0);
	assert_int_equal(client_url_resolve(&u, conn, 2, NULL), 0);
	{
		char a[UTIL_ADDRSTRLEN + 8];
		assert_string_equal(util_sa_str((struct sockaddr *)&u.addr, a, sizeof(a)),
		    "10.0.0.1:444");
	}
}

/* Feed a response in one-byte pieces and whole; both must agree. */
static void
h1_both(const char *resp, int want_rc, int status, uint64_t body, int need_eof)
{
	struct client_h1 a, b;
	size_t i, n = strlen(resp);
	int rc = 0;

	client_h1_init(&a);
	client_h1_init(&b);
	for (i = 0; i < n && rc == 0; i++)
		rc = client_h1_feed(&a, (const unsigned char *)resp + i, 1);
	if (rc == 0 && need_eof)
		rc = client_h1_eof(&a);
	assert_int_equal(rc, want_rc);
	rc = client_h1_feed(&b, (const unsigned char *)resp, n);
	if (rc == 0 && need_eof)
		rc = client_h1_eof(&b);
	assert_int_equal(rc, want_rc);
	if (want_rc == 0) {
		assert_int_equal(a.state, CLIENT_H1_DONE);
		assert_int_equal(a.status, status);
		assert_int_equal(b.status, status);
		assert_int_equal(a.body_bytes, body);
		assert_int_equal(b.body_bytes, body);
	}
}

static void
test_h1(void **state)
{
	char buf[256];
	struct client_h1 h;

	(void)state;
	assert_int_equal(client_h1_request(buf, sizeof(buf), "/x", "site.lab", "ua/1"),
	    (int)strlen("GET /x HTTP/1.1\r\nHost: site.lab\r\nUser-Agent: ua/1\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n"));
	assert_int_equal(client_h1_request(buf, 10, "/x", "site.lab", "ua/1"), -1);
	h1_both("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 200, 5, 0);
	h1_both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
	    "A;ext=1\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", 0, 200, 15, 0);
	h1_both("HTTP/1.0 200 ok\r\nContent-type: text/plain\r\n\r\nuntil close", 0, 200, 11, 1);
	h1_both("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
	    0, 404, 0, 0);
	h1_both("HTTP/1.1 204 No Content\r\n\r\n", 0, 204, 0, 0);
	h1_both("HTTP/1.1 301 Moved\nLocation: /new\nContent-Length: 0\n\n", 0, 301, 0, 0);
	h1_both("SSH-2.0-OpenSSH\r\n", -1, 0, 0, 0);
	h1_both("HTTP/1.1 200 OK\r\nbad header\r\n\r\n", -1, 0, 0, 0);
	h1_both("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -1, 0, 0, 0);
	h1_both("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -1, 0, 0, 0);
	h1_both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -1, 0, 0, 0);
	h1_both("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", -1, 0, 0, 1);
	/* a head that never ends (a hostile server's endless header lines) is refused at
	 * 256 KiB, whole or byte by byte; just under it is fine */
	{
		size_t i, n = 0, cap = CLIENT_H1_MAX_HEAD + 4096;
		char *big = malloc(cap + 2048);	/* the last line may pass cap by one line */
		assert_non_null(big);
		n += (size_t)sprintf(big, "HTTP/1.1 200 OK\r\n");
		for (i = 0; n + 1100 < CLIENT_H1_MAX_HEAD; i++)
			n += (size_t)sprintf(big + n, "X-%06zu: %01000d\r\n", i, 0);
		sprintf(big + n, "Content-Length: 0\r\n\r\n");
		h1_both(big, 0, 200, 0, 0);
		for (; n < cap; i++)
			n += (size_t)sprintf(big + n, "X-%06zu: %01000d\r\n", i, 0);
		big[n] = '\0';
		h1_both(big, -1, 0, 0, 0);
		client_h1_init(&h);
		assert_int_equal(client_h1_feed(&h, (const unsigned char *)big, n), -1);
		assert_non_null(strstr(h.error, "over 256 KiB"));
		free(big);
	}
	client_h1_init(&h);
	assert_int_equal(client_h1_eof(&h), -1);
	assert_non_null(strstr(h.error, "empty reply"));
	client_h1_init(&h);
	client_h1_feed(&h, (const unsigned char *)"HTTP/1.1 302 Found\r\nLocation: https://x/y\r\n", 43);
	assert_string_equal(h.location, "https://x/y");
}

static void
test_percentile(void **state)
{
	uint64_t v[100], one[1] = { 7 };
	size_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		v[i] = 100 - i;	/* 100..1, unsorted */
	assert_int_equal(client_stats_percentile(v, 100, 50), 50);
	assert_int_equal(client_stats_percentile(v, 100, 95), 95);
	assert_int_equal(client_stats_percentile(v, 100, 99), 99);
	assert_int_equal(client_stats_percentile(v, 100, 100), 100);
	assert_int_equal(client_stats_percentile(v, 0, 50), 0);
	assert_int_equal(client_stats_percentile(one, 1, 99), 7);
	{
		uint64_t w[4] = { 40, 10, 30, 20 };
		assert_int_equal(client_stats_percentile(w, 4, 50), 20);	/* rank ceil(2) */
		assert_int_equal(client_stats_percentile(w, 4, 51), 30);
		assert_int_equal(client_stats_percentile(w, 4, 99), 40);
	}
}

static void
test_opts(void **state)
{
	struct client_config cfg;
	char *cause = NULL;
	char *argv[] = { (char *)(uintptr_t)"client", (char *)(uintptr_t)"-c",
	    (char *)(uintptr_t)FIX "client.conf", (char *)(uintptr_t)"--count",
	    (char *)(uintptr_t)"7", (char *)(uintptr_t)"--url",
	    (char *)(uintptr_t)"https://third.lab/", NULL };

	(void)state;
	client_opts_init(&cfg);
	assert_int_equal(cfg.count, 1);
	assert_int_equal(cfg.timeout_ms, 10000);
	assert_string_equal(cfg.http, "auto");
	assert_int_equal(client_opts_argv(&cfg, 7, argv, &cause), 0);
	assert_int_equal(client_opts_finish(&cfg, &cause), 0);
	assert_int_equal(cfg.url.n, 3);
	assert_string_equal(cfg.url.v[1], "https://other.lab:8443/x");
	assert_int_equal(cfg.count, 7);	/* command line after -c overrides */
	assert_int_equal(cfg.concurrency, 5);
	assert_true(cfg.summary);
	assert_non_null(strstr(cfg.ua, "Chrome/"));	/* browser profile's UA */
	assert_int_equal(client_opts_set(&cfg, "http", "3", &cause), -1);
	assert_non_null(strstr(cause, "1.1 2 auto"));
	free(cause);
	cause = NULL;
	assert_int_equal(client_opts_set(&cfg, "concurrency", "0", &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(client_opts_set(&cfg, "nope", "1", &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(client_opts_file(&cfg, FIX "client-bad.conf", &cause), -1);
	assert_non_null(strstr(cause, "client-bad.conf:2: --count: 0 is out of range"));
	free(cause);
	client_opts_free(&cfg);

	client_opts_init(&cfg);
	cause = NULL;
	assert_int_equal(client_opts_finish(&cfg, &cause), -1);	/* no --url */
	free(cause);
	client_opts_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_blocklist),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_h1),
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
