/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_client_http — the plain-HTTP side of the client vantage: client.result of an http://
 * record (every TLS key null, "tls": false, a 3xx classified "redirect" with its Location),
 * and `mitmlab wrap` on http:// (curl's -w json of a real 302 run classified the same way,
 * TLS fields left null even though curl reports ssl_verify_result 0 and an http_version;
 * s_client refused). The h2 client's "responded" (what stamps t_first_byte_us) stays unset
 * through the server's SETTINGS and is set by the response's HEADERS, against a real nghttp2
 * server session in memory. No sockets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "client_h2.h"
#include "client_result.h"
#include "client_url.h"
#include "wrap.h"

/* TLS keys of client.result, null for a plain record. */
static const char *const tls_keys[] = {
	"sni", "verify_error", "chain_sha256", "chain_spki_sha256", "chain_pem",
	"leaf_spki_sha256", "leaf_subject", "leaf_issuer", "root_subject", "version", "cipher",
	"alpn", "client_random", "t_handshake_us",
};

/* A plain record's event: tls false, TLS keys present and null, HTTP facts kept. */
static void
test_plain_event(void **state)
{
	struct client_record r;
	uint64_t before;
	json_t *ev;
	size_t i;

	(void)state;
	client_result_init(&r);
	r.plain = 1;
	r.url = "http://www.google.com/";
	snprintf(r.flow, sizeof(r.flow), "10.1.0.2:40000>10.2.0.10:80");
	/* Stray values a TLS path could leave must not leak into a plain event. */
	snprintf(r.version, sizeof(r.version), "TLSv1.3");
	snprintf(r.alpn, sizeof(r.alpn), "http/1.1");
	snprintf(r.client_random, sizeof(r.client_random), "%064d", 7);
	r.t_handshake_us = 5;
	r.t_connect_us = 100;
	r.f.stage = CLIENT_STAGE_DONE;
	r.f.http_status = 302;
	snprintf(r.location, sizeof(r.location), "http://warning.lab/install");
	r.outcome = client_result_classify(&r.f);
	assert_int_equal(r.outcome, CLIENT_REDIRECT);
	ev = client_result_event(&r);
	assert_true(json_is_false(json_object_get(ev, "tls")));
	for (i = 0; i < sizeof(tls_keys) / sizeof(tls_keys[0]); i++) {
		json_t *v = json_object_get(ev, tls_keys[i]);
		if (v == NULL || !json_is_null(v))
			fail_msg("key %s is not null in a plain client.result", tls_keys[i]);
	}
	assert_string_equal(json_string_value(json_object_get(ev, "outcome")), "redirect");
	assert_string_equal(json_string_value(json_object_get(ev, "location")),
	    "http://warning.lab/install");
	assert_int_equal(json_integer_value(json_object_get(ev, "http_status")), 302);
	assert_int_equal(json_integer_value(json_object_get(ev, "t_connect_us")), 100);
	assert_string_equal(json_string_value(json_object_get(ev, "flow")),
	    "10.1.0.2:40000>10.2.0.10:80");
	json_decref(ev);

	/* The same record over TLS keeps its TLS keys and says tls: true; its ts is the end the
	 * record names (ts - t_total_us is when the connection started), else the event's. */
	r.plain = 0;
	r.sni = "www.google.com";
	r.end_ns = 1795463001000000000ull;
	ev = client_result_event(&r);
	assert_true(json_is_true(json_object_get(ev, "tls")));
	assert_string_equal(json_string_value(json_object_get(ev, "sni")), "www.google.com");
	assert_string_equal(json_string_value(json_object_get(ev, "version")), "TLSv1.3");
	assert_true(json_is_array(json_object_get(ev, "chain_sha256")));
	assert_string_equal(json_string_value(json_object_get(ev, "client_random")),
	    r.client_random);
	assert_int_equal(json_integer_value(json_object_get(ev, "ts")), 1795463001000000000ll);
	json_decref(ev);
	r.end_ns = 0;
	before = util_now_ns();
	ev = client_result_event(&r);
	assert_true(json_integer_value(json_object_get(ev, "ts")) >= (json_int_t)before);
	json_decref(ev);
	client_result_free(&r);
}

/* curl 7.88's -w '%{json}' of `curl http://plain.lab/` answered "302 Found" (trimmed to the
 * members wrap reads, values as curl printed them). */
static const char curl_302[] =
    "{\"content_type\":null,\"errormsg\":null,\"exitcode\":0,\"http_code\":302,"
    "\"http_version\":\"1.1\",\"local_ip\":\"10.78.1.2\",\"local_port\":41234,"
    "\"redirect_url\":\"http://warning.lab/install-certificate\",\"remote_ip\":\"10.78.3.4\","
    "\"remote_port\":80,\"response_code\":302,\"scheme\":\"HTTP\",\"size_download\":0,"
    "\"ssl_verify_result\":0,\"time_appconnect\":0.000000,\"time_connect\":0.000412,"
    "\"time_starttransfer\":0.001210,\"time_total\":0.001250,\"url\":\"http://plain.lab/\","
    "\"certs\":\"\"}";

/* wrap classifies a plain curl 302 as redirect with the location, TLS fields null. */
static void
test_wrap_curl_plain(void **state)
{
	struct client_record r;
	struct wrap_output o;
	json_t *ev;
	size_t i;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.out = (char *)(uintptr_t)curl_302;
	o.outlen = strlen(curl_302);
	o.err = (char *)(uintptr_t)"> GET / HTTP/1.1\n< HTTP/1.1 302 Found\n";
	o.errlen = strlen(o.err);
	o.elapsed_ns = 2000000;
	client_result_init(&r);
	r.plain = 1;
	r.url = "http://plain.lab/";
	wrap_curl_classify(&o, &r);
	assert_int_equal(r.outcome, CLIENT_REDIRECT);
	assert_string_equal(r.location, "http://warning.lab/install-certificate");
	assert_string_equal(r.flow, "10.78.1.2:41234>10.78.3.4:80");
	assert_int_equal(r.f.verify_err, -1);
	assert_string_equal(r.alpn, "");
	assert_true(r.t_handshake_us < 0);
	ev = wrap_event(&r, WRAP_CURL, 0);
	assert_true(json_is_false(json_object_get(ev, "tls")));
	for (i = 0; i < sizeof(tls_keys) / sizeof(tls_keys[0]); i++)
		if (!json_is_null(json_object_get(ev, tls_keys[i])))
			fail_msg("key %s is not null in a plain wrap event", tls_keys[i]);
	assert_string_equal(json_string_value(json_object_get(ev, "outcome")), "redirect");
	assert_string_equal(json_string_value(json_object_get(ev, "tool")), "curl");
	json_decref(ev);
	client_result_free(&r);
}

/* curl runs an http:// URL as given; openssl s_client refuses it. */
static void
test_wrap_argv_plain(void **state)
{
	struct client_url u;
	struct wrap_job j;
	struct wrap_argv a;
	char *cause = NULL;

	(void)state;
	assert_int_equal(client_url_parse("http://plain.lab/x", &u, NULL), 0);
	memset(&j, 0, sizeof(j));
	j.tool = WRAP_CURL;
	j.u = &u;
	j.connect_ip = "10.0.0.1";
	j.timeout_ms = 1000;
	assert_int_equal(wrap_argv_build(&j, &a, NULL), 0);
	assert_string_equal(a.v[a.n - 1], "http://plain.lab/x");
	wrap_argv_free(&a);
	j.tool = WRAP_OPENSSL;
	assert_int_equal(wrap_argv_build(&j, &a, &cause), -1);
	assert_non_null(strstr(cause, "TLS only"));
	free(cause);
}

/* Move what one side has queued into the other. */
static void
h2_client_to_server(struct client_h2 *c, nghttp2_session *srv)
{
	const unsigned char *p;
	ssize_t n;

	while ((n = client_h2_pending(c, &p)) > 0)
		assert_int_equal(nghttp2_session_mem_recv(srv, p, (size_t)n), n);
}

static void
h2_server_to_client(nghttp2_session *srv, struct client_h2 *c)
{
	const uint8_t *p;
	ssize_t n;

	while ((n = nghttp2_session_mem_send(srv, &p)) > 0)
		assert_int_equal(client_h2_recv(c, p, (size_t)n), 0);
}

/* The first byte of an h2 response is its HEADERS, not the server's SETTINGS. */
static void
test_h2_first_byte(void **state)
{
	nghttp2_session_callbacks *cb;
	nghttp2_session *srv;
	nghttp2_nv nv[] = { { (uint8_t *)":status", (uint8_t *)"200", 7, 3, 0 } };
	struct client_h2 c;
	char *cause = NULL;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(client_h2_start(&c, "lab.test", "/", "ua", &cause), 0);
	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	assert_int_equal(nghttp2_session_server_new(&srv, cb, NULL), 0);
	nghttp2_session_callbacks_del(cb);
	/* a server's own SETTINGS go first, before it acknowledges the client's */
	assert_int_equal(nghttp2_submit_settings(srv, NGHTTP2_FLAG_NONE, NULL, 0), 0);
	h2_client_to_server(&c, srv);
	h2_server_to_client(srv, &c);
	h2_client_to_server(&c, srv);		/* the client's SETTINGS ACK */
	assert_false(c.responded);		/* SETTINGS (and its ACK) only */
	assert_int_equal(nghttp2_submit_response(srv, c.stream, nv, 1, NULL), 0);
	h2_server_to_client(srv, &c);
	assert_true(c.responded);
	assert_int_equal(c.status, 200);
	nghttp2_session_del(srv);
	client_h2_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_event),
		cmocka_unit_test(test_wrap_curl_plain),
		cmocka_unit_test(test_wrap_argv_plain),
		cmocka_unit_test(test_h2_first_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
