/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_wrap — the pure half of `mitmlab wrap`: classification of real curl `-w '%{json}'`
 * and openssl s_client outputs captured against a loopback s_server (tests/fixtures/wrap/:
 * ok, untrusted, hostname mismatch, refused, timeout, reset, pin), synthetic cases for the
 * rest of the outcome table, chain hashing against the served PEM, the argv of each tool,
 * and the extra keys of the event. Run from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "pki.h"
#include "util.h"
#include "wrap.h"
#include "wrap_exec.h"

#define FIX "tests/fixtures/wrap/"

/* An output from a fixture pair (err may be NULL) or literal strings. */
static void
load(struct wrap_output *o, const char *out, const char *err, int is_file, int code,
    int killed)
{
	char *cause = NULL;

	memset(o, 0, sizeof(*o));
	if (is_file) {
		o->out = util_read_file(out, &o->outlen, &cause);
		if (o->out == NULL)
			fail_msg("%s", cause);
		o->err = err != NULL ? util_read_file(err, &o->errlen, &cause) : NULL;
	} else {
		o->out = strdup(out);
		o->outlen = strlen(out);
		o->err = err != NULL ? strdup(err) : NULL;
		o->errlen = err != NULL ? strlen(err) : 0;
	}
	o->exit_code = code;
	o->killed = killed;
	o->elapsed_ns = 5000000;
}

/* Classify o with tool t. */
static void
classify(enum wrap_tool t, struct wrap_output *o, struct client_record *r)
{
	client_result_init(r);
	if (t == WRAP_CURL)
		wrap_curl_classify(o, r);
	else
		wrap_sclient_classify(o, NULL, 0, r);
	free(o->out);
	free(o->err);
}

/* Hex SHA-256 of certificate i of the fixture chain. */
static void
fixture_hash(int i, char hex[65])
{
	STACK_OF(X509) *sk = pki_read_certs(FIX "lab.test.chain.pem", NULL);
	unsigned char h[32];

	assert_non_null(sk);
	assert_int_equal(pki_cert_sha256(sk_X509_value(sk, i), h), 0);
	util_hex(h, 32, hex);
	sk_X509_pop_free(sk, X509_free);
}

/* Captured curl runs. */
static void
test_curl_fixtures(void **state)
{
	static const struct { const char *name; int code; const char *outcome; size_t nchain; }
	    t[] = {
		{ "ok", 0, "ok", 2 },
		{ "untrusted", 60, "cert-untrusted", 0 },
		{ "mismatch", 60, "hostname-mismatch", 2 },
		{ "refused", 7, "connect-failed", 0 },
		{ "timeout", 28, "timeout", 0 },
		{ "reset", 35, "reset", 0 },
		{ "pin", 90, "pin-mismatch", 2 },
		/* a site that requires a client certificate, curl 7.88 without one: over h2 it
		 * reports a reset after the server's certificates (exit 16, timings 0), over
		 * HTTP/1.1 the server's alert (exit 56) */
		{ "h2_reset_after_certs", 16, "reset", 2 },
		{ "alert_after_certs", 56, "handshake-failure", 2 },
	};
	struct client_record r;
	struct wrap_output o;
	char path[256], hex[65];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(path, sizeof(path), FIX "curl_%s.json", t[i].name);
		load(&o, path, NULL, 1, t[i].code, 0);
		classify(WRAP_CURL, &o, &r);
		assert_string_equal(client_result_name(r.outcome), t[i].outcome);
		assert_int_equal(r.nchain, t[i].nchain);
	}
	load(&o, FIX "curl_ok.json", NULL, 1, 0, 0);
	classify(WRAP_CURL, &o, &r);
	assert_non_null(strstr(r.flow, "127.0.0.1:"));
	assert_non_null(strstr(r.flow, ">127.0.0.1:24431"));
	assert_string_equal(r.server_ip, "127.0.0.1");
	assert_int_equal(r.server_port, 24431);
	assert_true(r.client_port > 0);
	assert_int_equal(r.f.http_status, 200);
	assert_string_equal(r.alpn, "http/1.0");
	assert_string_equal(r.leaf_subject, "CN=lab.test,O=Lab Origin,C=XX");
	assert_string_equal(r.leaf_issuer, "CN=Lab Web CA 1 (LAB mock),O=mitmlab web PKI,C=XX");
	fixture_hash(0, hex);
	assert_string_equal(r.chain_sha256[0], hex);
	fixture_hash(1, hex);
	assert_string_equal(r.chain_sha256[1], hex);
	/* durations of the phases, as `mitmlab client` reports them, from the fixture's
	 * namelookup 16 µs, connect 132, appconnect 8888; first byte and total count from
	 * curl's start */
	assert_int_equal(r.t_connect_us, 132 - 16);
	assert_int_equal(r.t_handshake_us, 8888 - 132);
	assert_int_equal(r.t_first_byte_us, 9214);
	assert_int_equal(r.t_total_us, 9282);

	/* the handshake failed after the certificates: its phase still has a duration */
	load(&o, FIX "curl_alert_after_certs.json", NULL, 1, 0, 0);
	classify(WRAP_CURL, &o, &r);
	assert_int_equal(r.t_connect_us, 123 - 12);
	assert_int_equal(r.t_handshake_us, 3618 - 123);
	assert_int_equal(r.t_first_byte_us, -1);

	load(&o, FIX "curl_untrusted.json", NULL, 1, 60, 0);
	classify(WRAP_CURL, &o, &r);
	assert_string_equal(r.verify_error, "unable to get local issuer certificate");
	assert_int_equal(r.t_handshake_us, -1);
}

/* Synthetic curl outputs for the rest of the table. */
static void
test_curl_synthetic(void **state)
{
	static const struct { const char *json; const char *outcome; } t[] = {
		{ "{\"exitcode\":0,\"response_code\":404}", "http-error" },
		{ "{\"exitcode\":22,\"response_code\":503}", "http-error" },
		{ "{\"exitcode\":0,\"response_code\":301,\"redirect_url\":\"https://x.test/\"}",
		  "redirect" },
		{ "{\"exitcode\":56,\"errormsg\":\"Recv failure\"}", "reset" },
		{ "{\"exitcode\":35,\"errormsg\":\"alert handshake failure\"}", "handshake-failure" },
		{ "{\"exitcode\":60,\"errormsg\":\"SSL: certificate subject name 'a' does not "
		  "match target host name 'b'\"}", "hostname-mismatch" },
		{ "{\"exitcode\":60,\"ssl_verify_result\":10,\"errormsg\":\"SSL certificate "
		  "problem: certificate has expired\"}", "cert-untrusted" },
		{ "{\"exitcode\":6,\"errormsg\":\"Could not resolve host\"}", "connect-failed" },
		{ "{\"exitcode\":52,\"time_connect\":0.1,\"time_appconnect\":0.2}", "http-error" },
		{ "{\"exitcode\":0,\"response_code\":200}", "ok" },
	};
	struct client_record r;
	struct wrap_output o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		load(&o, t[i].json, NULL, 0, 0, 0);
		classify(WRAP_CURL, &o, &r);
		if (strcmp(client_result_name(r.outcome), t[i].outcome) != 0)
			fail_msg("%s: %s, want %s", t[i].json, client_result_name(r.outcome),
			    t[i].outcome);
	}
	load(&o, "{\"exitcode\":0,\"response_code\":302,\"redirect_url\":\"https://x.test/\"}",
	    NULL, 0, 0, 0);
	classify(WRAP_CURL, &o, &r);
	assert_string_equal(r.location, "https://x.test/");
	load(&o, "{\"exitcode\":60,\"ssl_verify_result\":10}", NULL, 0, 60, 0);
	classify(WRAP_CURL, &o, &r);
	assert_string_equal(r.verify_error, "certificate has expired");
	/* No JSON: killed is a timeout, anything else a handshake failure with stderr. */
	load(&o, "", NULL, 0, -1, 1);
	classify(WRAP_CURL, &o, &r);
	assert_string_equal(client_result_name(r.outcome), "timeout");
	load(&o, "garbage", "curl: (2) boom\n", 0, 2, 0);
	classify(WRAP_CURL, &o, &r);
	assert_string_equal(client_result_name(r.outcome), "handshake-failure");
	assert_non_null(strstr(r.error, "curl: (2) boom"));
	/* -v lines give the TLS version, cipher and the real ALPN. */
	load(&o, "{\"exitcode\":0,\"response_code\":200,\"http_version\":\"2\"}",
	    "* SSL connection using TLSv1.2 / ECDHE-RSA-AES128-GCM-SHA256\n"
	    "* ALPN: server accepted h2\n", 0, 0, 0);
	classify(WRAP_CURL, &o, &r);
	assert_string_equal(r.version, "TLSv1.2");
	assert_string_equal(r.cipher, "ECDHE-RSA-AES128-GCM-SHA256");
	assert_string_equal(r.alpn, "h2");
	assert_string_equal(r.flow, "");
	/* phases: a connect without a name lookup counts from curl's start; a handshake that
	 * was not reached is -1, and so is a connect that was not */
	load(&o, "{\"exitcode\":0,\"response_code\":200,\"time_connect\":0.000200,"
	    "\"time_appconnect\":0.001000,\"time_starttransfer\":0.001500}", NULL, 0, 0, 0);
	classify(WRAP_CURL, &o, &r);
	assert_int_equal(r.t_connect_us, 200);
	assert_int_equal(r.t_handshake_us, 800);
	assert_int_equal(r.t_first_byte_us, 1500);
	load(&o, "{\"exitcode\":35,\"time_namelookup\":0.000010,\"time_connect\":0.000200,"
	    "\"time_appconnect\":0}", NULL, 0, 35, 0);
	classify(WRAP_CURL, &o, &r);
	assert_int_equal(r.t_connect_us, 190);
	assert_int_equal(r.t_handshake_us, -1);
	load(&o, "{\"exitcode\":7,\"time_namelookup\":0.000010,\"time_connect\":0}", NULL, 0,
	    7, 0);
	classify(WRAP_CURL, &o, &r);
	assert_int_equal(r.t_connect_us, -1);
	assert_int_equal(r.t_handshake_us, -1);
}

/* Captured s_client runs. */
static void
test_sclient_fixtures(void **state)
{
	static const struct { const char *name; int code, killed; const char *outcome;
	    size_t nchain; } t[] = {
		{ "ok", 0, 0, "ok", 2 },
		{ "untrusted", 1, 0, "cert-untrusted", 2 },
		{ "mismatch", 1, 0, "hostname-mismatch", 2 },
		{ "refused", 1, 0, "connect-failed", 0 },
		{ "timeout", -1, 1, "timeout", 0 },
		{ "reset", 1, 0, "reset", 0 },
	};
	struct client_record r;
	struct wrap_output o;
	char out[256], err[256], hex[65];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(out, sizeof(out), FIX "sclient_%s.out", t[i].name);
		snprintf(err, sizeof(err), FIX "sclient_%s.err", t[i].name);
		load(&o, out, err, 1, t[i].code, t[i].killed);
		classify(WRAP_OPENSSL, &o, &r);
		if (strcmp(client_result_name(r.outcome), t[i].outcome) != 0)
			fail_msg("%s: %s (%s), want %s", t[i].name,
			    client_result_name(r.outcome), r.error, t[i].outcome);
		assert_int_equal(r.nchain, t[i].nchain);
		assert_string_equal(r.flow, "");
	}
	load(&o, FIX "sclient_ok.out", FIX "sclient_ok.err", 1, 0, 0);
	classify(WRAP_OPENSSL, &o, &r);
	assert_string_equal(r.version, "TLSv1.3");
	assert_string_equal(r.cipher, "TLS_AES_256_GCM_SHA384");
	assert_string_equal(r.alpn, "http/1.1");
	assert_int_equal(r.f.http_status, 200);
	assert_string_equal(r.leaf_subject, "CN=lab.test,O=Lab Origin,C=XX");
	fixture_hash(0, hex);
	assert_string_equal(r.chain_sha256[0], hex);
	load(&o, FIX "sclient_untrusted.out", FIX "sclient_untrusted.err", 1, 1, 0);
	classify(WRAP_OPENSSL, &o, &r);
	assert_string_equal(r.verify_error, "unable to get local issuer certificate");
	load(&o, FIX "sclient_refused.out", FIX "sclient_refused.err", 1, 1, 0);
	classify(WRAP_OPENSSL, &o, &r);
	assert_string_equal(r.error, "connect: Connection refused");
}

/* Synthetic s_client outputs: expired, alert, redirect, pins. */
static void
test_sclient_synthetic(void **state)
{
	struct client_record r;
	struct wrap_output o;
	char *ok, *chain, hex[65], pin[80];
	const char *pins[1];
	unsigned char h[32];
	STACK_OF(X509) *sk;
	size_t len;

	(void)state;
	load(&o, "CONNECTED(00000003)\n---\nCertificate chain\n 0 s:CN = a\n---\n"
	    "Verify return code: 10 (certificate has expired)\n---\n", NULL, 0, 1, 0);
	classify(WRAP_OPENSSL, &o, &r);
	assert_string_equal(client_result_name(r.outcome), "cert-untrusted");
	assert_string_equal(r.verify_error, "certificate has expired");
	load(&o, "CONNECTED(00000003)\n---\nno peer certificate available\n---\n"
	    "New, (NONE), Cipher is (NONE)\nVerify return code: 0 (ok)\n",
	    "40D7:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake "
	    "failure:../ssl/record/rec_layer_s3.c:1584:SSL alert number 40\n", 0, 1, 0);
	classify(WRAP_OPENSSL, &o, &r);
	assert_string_equal(client_result_name(r.outcome), "handshake-failure");
	assert_string_equal(r.error, "sslv3 alert handshake failure");
	load(&o, "CONNECTED(00000003)\nNew, TLSv1.3, Cipher is X\n---\nHTTP/1.1 302 Found\r\n"
	    "Server: t\r\nlocation: https://y.test/\r\n\r\n", NULL, 0, 0, 0);
	classify(WRAP_OPENSSL, &o, &r);
	assert_string_equal(client_result_name(r.outcome), "redirect");
	assert_string_equal(r.location, "https://y.test/");
	/* Pins against the served chain: the intermediate's SPKI matches. */
	assert_non_null(ok = util_read_file(FIX "sclient_ok.out", &len, NULL));
	assert_non_null(sk = pki_read_certs(FIX "lab.test.chain.pem", NULL));
	assert_int_equal(pki_spki_sha256(sk_X509_value(sk, 1), h), 0);
	sk_X509_pop_free(sk, X509_free);
	strcpy(pin, "sha256//");
	assert_int_equal(EVP_EncodeBlock((unsigned char *)pin + 8, h, 32), 44);
	pins[0] = pin;
	memset(&o, 0, sizeof(o));
	o.out = ok;
	o.outlen = len;
	client_result_init(&r);
	wrap_sclient_classify(&o, pins, 1, &r);
	assert_string_equal(client_result_name(r.outcome), "ok");
	pin[10] ^= 1;
	client_result_init(&r);
	wrap_sclient_classify(&o, pins, 1, &r);
	assert_string_equal(client_result_name(r.outcome), "pin-mismatch");
	free(ok);
	/* wrap_chain_pem skips text around the blocks. */
	assert_non_null(chain = util_read_file(FIX "lab.test.chain.pem", &len, NULL));
	client_result_init(&r);
	assert_int_equal(wrap_chain_pem(chain, len, &r), 2);
	fixture_hash(1, hex);
	assert_string_equal(r.chain_sha256[1], hex);
	assert_int_equal(wrap_chain_pem("no certs here", 13, &r), 0);
	free(chain);
}

/* Index of arg in a, or -1. */
static int
argi(const struct wrap_argv *a, const char *arg)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], arg) == 0)
			return (int)i;
	return -1;
}

/* argv of both tools. */
static void
test_argv(void **state)
{
	struct client_url u;
	struct wrap_job j;
	struct wrap_argv a;
	char *req;
	size_t i;

	(void)state;
	assert_int_equal(client_url_parse("https://lab.test:8443/p?q=1", &u, NULL), 0);
	memset(&j, 0, sizeof(j));
	j.tool = WRAP_CURL;
	j.u = &u;
	j.cafile = "/ca.pem";
	j.pins[0] = "sha256//A";
	j.pins[1] = "sha256//B";
	j.npins = 2;
	j.ua = "UA x";
	j.connect_ip = "10.0.0.1";
	j.http = WRAP_HTTP_2;
	j.timeout_ms = 2500;
	assert_int_equal(wrap_argv_build(&j, &a, NULL), 0);
	assert_string_equal(a.v[0], "curl");
	assert_string_equal(a.v[a.n - 1], "https://lab.test:8443/p?q=1");
	assert_null(a.v[a.n]);
	assert_string_equal(a.v[argi(&a, "--max-time") + 1], "2.500");
	assert_string_equal(a.v[argi(&a, "-w") + 1], "%{json}");
	assert_string_equal(a.v[argi(&a, "--cacert") + 1], "/ca.pem");
	assert_string_equal(a.v[argi(&a, "--pinnedpubkey") + 1], "sha256//A;sha256//B");
	assert_string_equal(a.v[argi(&a, "-A") + 1], "UA x");
	assert_string_equal(a.v[argi(&a, "--resolve") + 1], "lab.test:8443:10.0.0.1");
	assert_true(argi(&a, "--http2") > 0);
	wrap_argv_free(&a);
	j.connect_ip = "::1";
	j.connect_port = 443;
	assert_int_equal(wrap_argv_build(&j, &a, NULL), 0);
	assert_string_equal(a.v[argi(&a, "--connect-to") + 1], "lab.test:8443:[::1]:443");
	wrap_argv_free(&a);
	assert_int_equal(wrap_deadline_ms(&j), 4500);

	j.tool = WRAP_OPENSSL;
	j.connect_ip = "10.0.0.1";
	j.connect_port = 0;
	j.http = WRAP_HTTP_AUTO;
	assert_int_equal(wrap_argv_build(&j, &a, NULL), 0);
	assert_string_equal(a.v[0], "openssl");
	assert_string_equal(a.v[1], "s_client");
	assert_string_equal(a.v[argi(&a, "-connect") + 1], "10.0.0.1:8443");
	assert_string_equal(a.v[argi(&a, "-servername") + 1], "lab.test");
	assert_string_equal(a.v[argi(&a, "-verify_hostname") + 1], "lab.test");
	assert_string_equal(a.v[argi(&a, "-CAfile") + 1], "/ca.pem");
	assert_string_equal(a.v[argi(&a, "-alpn") + 1], "http/1.1");
	for (i = 0; i < a.n; i++)
		assert_null(strstr(a.v[i], "UA"));	/* the UA goes in the request */
	assert_int_equal(argi(&a, "-bind"), -1);	/* no local end chosen */
	wrap_argv_free(&a);
	j.bind_ip = "10.1.1.2";
	j.bind_port = 40001;
	assert_int_equal(wrap_argv_build(&j, &a, NULL), 0);
	assert_string_equal(a.v[argi(&a, "-bind") + 1], "10.1.1.2:40001");
	wrap_argv_free(&a);
	j.bind_ip = "fd00::2";
	assert_int_equal(wrap_argv_build(&j, &a, NULL), 0);
	assert_string_equal(a.v[argi(&a, "-bind") + 1], "[fd00::2]:40001");
	wrap_argv_free(&a);
	j.bind_ip = NULL;
	assert_int_equal(argi(&a, "-keylogfile"), -1);
	j.keylog = "/tmp/kl";
	assert_int_equal(wrap_argv_build(&j, &a, NULL), 0);
	assert_string_equal(a.v[argi(&a, "-keylogfile") + 1], "/tmp/kl");
	wrap_argv_free(&a);
	j.keylog = NULL;
	assert_int_equal(wrap_deadline_ms(&j), 2500);
	assert_non_null(req = wrap_request(&j));
	assert_string_equal(req, "GET /p?q=1 HTTP/1.1\r\nHost: lab.test:8443\r\nUser-Agent: UA x"
	    "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
	free(req);
}

/* The flow id from the record's addresses: only with both ports; IPv6 in brackets. */
static void
test_set_flow(void **state)
{
	struct client_record r;

	(void)state;
	client_result_init(&r);
	snprintf(r.client_ip, sizeof(r.client_ip), "10.1.1.2");
	snprintf(r.server_ip, sizeof(r.server_ip), "10.2.2.2");
	r.server_port = 443;
	wrap_set_flow(&r);
	assert_string_equal(r.flow, "");	/* no client port: no flow */
	r.client_port = 40001;
	wrap_set_flow(&r);
	assert_string_equal(r.flow, "10.1.1.2:40001>10.2.2.2:443");
	snprintf(r.client_ip, sizeof(r.client_ip), "fd00::2");
	snprintf(r.server_ip, sizeof(r.server_ip), "fd00::1");
	wrap_set_flow(&r);
	assert_string_equal(r.flow, "[fd00::2]:40001>[fd00::1]:443");
}

/* The hello's random from a key log: the first line's, whatever its label (TLS 1.3's first is
 * SERVER_HANDSHAKE_TRAFFIC_SECRET, logged before the certificate is checked), lower-cased;
 * comments and malformed lines are skipped; the secrets are not kept. */
static void
test_keylog_random(void **state)
{
	static const char r1[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char r2[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
	struct client_record r;
	char text[1024];

	(void)state;
	client_result_init(&r);
	wrap_keylog_random("", &r);
	assert_string_equal(r.client_random, "");
	wrap_keylog_random("# comment\nSERVER_HANDSHAKE_TRAFFIC_SECRET 00 11\n"
	    "CLIENT_RANDOM 0011 22\nCLIENT_HANDSHAKE_TRAFFIC_SECRET zz\n", &r);
	assert_string_equal(r.client_random, "");	/* no line with a 64-digit random */
	snprintf(text, sizeof(text), "# %s\n %s\nSERVER_HANDSHAKE_TRAFFIC_SECRET %s 99\n"
	    "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s 77\n", r2, r2, r1, r2);
	wrap_keylog_random(text, &r);
	assert_string_equal(r.client_random, r1);	/* a failed verify logs only this */
	client_result_init(&r);
	snprintf(text, sizeof(text), "CLIENT_RANDOM FFEEDDCCBBAA99887766554433221100"
	    "FFEEDDCCBBAA99887766554433221100 aabb");
	wrap_keylog_random(text, &r);
	assert_string_equal(r.client_random, r2);	/* TLS 1.2, no newline at the end */
}

/* curl's default User-Agent from `curl --version`. */
static void
test_curl_ua(void **state)
{
	char ua[48];

	(void)state;
	wrap_curl_ua("curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.19\n", ua,
	    sizeof(ua));
	assert_string_equal(ua, "curl/7.88.1");
	wrap_curl_ua("something else\n", ua, sizeof(ua));
	assert_string_equal(ua, "");
	wrap_curl_ua(NULL, ua, sizeof(ua));
	assert_string_equal(ua, "");
}

/* Extra keys and nulls of the event. */
static void
test_event(void **state)
{
	struct client_record r;
	struct wrap_output o;
	json_t *ev;

	(void)state;
	load(&o, FIX "curl_ok.json", NULL, 1, 0, 0);
	classify(WRAP_CURL, &o, &r);
	ev = wrap_event(&r, WRAP_CURL, 0);
	assert_string_equal(json_string_value(json_object_get(ev, "t")), "client.result");
	assert_string_equal(json_string_value(json_object_get(ev, "tool")), "curl");
	assert_int_equal(json_integer_value(json_object_get(ev, "exit_code")), 0);
	assert_true(json_is_string(json_object_get(ev, "flow")));
	assert_true(json_is_object(json_object_get(ev, "client")));
	json_decref(ev);
	load(&o, FIX "sclient_timeout.out", FIX "sclient_timeout.err", 1, -1, 1);
	classify(WRAP_OPENSSL, &o, &r);
	ev = wrap_event(&r, WRAP_OPENSSL, -1);
	assert_string_equal(json_string_value(json_object_get(ev, "outcome")), "timeout");
	assert_true(json_is_null(json_object_get(ev, "flow")));
	assert_true(json_is_null(json_object_get(ev, "client")));
	assert_true(json_is_null(json_object_get(ev, "exit_code")));
	json_decref(ev);
}

/* Is a process with this exact command line (NUL-separated) running? */
static int
cmdline_running(const char *want, size_t wantlen)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[300], buf[256];
	int found = 0;

	assert_non_null(d);
	while (!found && (de = readdir(d)) != NULL) {
		FILE *f;
		size_t n;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		found = n == wantlen && memcmp(buf, want, wantlen) == 0;
	}
	closedir(d);
	return found;
}

/* A wrapped tool dies with the wrap: SIGKILL the process running wrap_exec_run (as the runner
 * does to a wrap that outlives its grace) and the tool goes too. */
static void
test_exec_dies_with_parent(void **state)
{
	char arg[32], want[64];
	size_t wantlen;
	pid_t pid;
	int i, st;

	(void)state;
	snprintf(arg, sizeof(arg), "%d.%03d", 40 + getpid() % 10, getpid() % 1000);
	wantlen = (size_t)snprintf(want, sizeof(want), "sleep%c%s", '\0', arg) + 1;
	if ((pid = fork()) == 0) {
		char *argv[] = { (char *)"sleep", arg, NULL };
		struct wrap_output o;
		wrap_exec_run(argv, NULL, 0, 60000, &o, NULL);
		_exit(0);
	}
	assert_true(pid > 0);
	for (i = 0; i < 200 && !cmdline_running(want, wantlen); i++)
		usleep(10000);
	assert_true(cmdline_running(want, wantlen));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	for (i = 0; i < 200 && cmdline_running(want, wantlen); i++)
		usleep(10000);
	assert_false(cmdline_running(want, wantlen));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_curl_fixtures),
		cmocka_unit_test(test_curl_synthetic),
		cmocka_unit_test(test_sclient_fixtures),
		cmocka_unit_test(test_sclient_synthetic),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_set_flow),
		cmocka_unit_test(test_curl_ua),
		cmocka_unit_test(test_keylog_random),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_exec_dies_with_parent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
