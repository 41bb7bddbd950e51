/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_origin_plain — unit tests for the plain-HTTP and install-page parts of `mitmlab origin`:
 * the Host-header name parser (table of good and bad values), response heads with Location,
 * the new configuration keys (http_port, location, install_root) and their errors, and the
 * install page (HTML escaping, routing of /root.crt, loading a PEM and a DER root generated
 * in setup, refusing a file that is not a certificate). Writes only under a mkdtemp directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "origin_conf.h"
#include "origin_http.h"
#include "origin_install.h"

/* Host header values and the name dispatch must see ("" = refused). */
static void
test_host(void **state)
{
	static const struct { const char *in, *want; } t[] = {
		{ "www.google.com", "www.google.com" },
		{ "www.google.com:80", "www.google.com" },
		{ "WWW.Google.com:8080", "WWW.Google.com" },
		{ "10.1.0.10", "10.1.0.10" },
		{ "10.1.0.10:80", "10.1.0.10" },
		{ "[::1]", "::1" },
		{ "[::1]:80", "::1" },
		{ "", "" },
		{ ":80", "" },
		{ "a.lab:", "" },
		{ "a.lab:80x", "" },
		{ "a.lab:123456", "" },
		{ "a.lab:80:81", "" },
		{ "::1", "" },
		{ "[::1", "" },
		{ "[]:80", "" },
		{ "[::1]x", "" },
		{ "a b.lab", "" },
		{ "user@a.lab", "" },
		{ "a.lab/x", "" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = origin_http_host(t[i].in, out, sizeof(out));
		if ((rc == 0) != (t[i].want[0] != '\0') || strcmp(out, t[i].want) != 0)
			fail_msg("Host \"%s\": rc %d, got \"%s\", want \"%s\"", t[i].in, rc, out,
			    t[i].want);
	}
	assert_int_equal(origin_http_host(NULL, out, sizeof(out)), -1);
	assert_int_equal(origin_http_host("abcdefgh.lab", out, 8), -1);
	assert_string_equal(out, "");
}

/* Location appears when given, and only then; HSTS still follows its argument. */
static void
test_head_location(void **state)
{
	char out[1024];
	int n;

	(void)state;
	n = origin_http_head_loc(out, sizeof(out), 302, "text/plain", 0, ORIGIN_HSTS_OFF, "r.lab",
	    0, "http://warning.lab/install");
	assert_true(n > 0);
	assert_non_null(strstr(out, "HTTP/1.1 302 Found\r\n"));
	assert_non_null(strstr(out, "\r\nLocation: http://warning.lab/install\r\n"));
	assert_null(strstr(out, "Strict-Transport-Security"));
	n = origin_http_head(out, sizeof(out), 200, "text/plain", 5, ORIGIN_HSTS_ON, "a", 1);
	assert_true(n > 0);
	assert_null(strstr(out, "Location:"));
	assert_non_null(strstr(out, "Strict-Transport-Security: max-age=31536000"));
	assert_int_equal(origin_http_head_loc(out, 40, 302, "text/plain", 0, 0, "a", 0,
	    "http://x/"), -1);
}

/* Parse a JSON text; NULL with *cause on error. */
static struct origin_conf *
conf_of(const char *text, char **cause)
{
	json_t *root = json_loads(text, 0, NULL);
	struct origin_conf *c;

	assert_non_null(root);
	c = origin_conf_parse(root, "t.json", cause);
	json_decref(root);
	return c;
}

/* The new keys: defaults, values, and errors that name the path. */
static void
test_conf_keys(void **state)
{
	struct origin_conf *c;
	char *cause = NULL;

	(void)state;
	c = conf_of("{\"listen\": [\":443\"], \"sites\": [{\"name\": \"a\", \"cert\": \"c\", "
	    "\"key\": \"k\"}]}", &cause);
	assert_non_null(c);
	assert_int_equal(c->http_port, 0);
	assert_null(c->sites[0].location);
	assert_null(c->sites[0].install_root);
	origin_conf_free(c);
	c = conf_of("{\"listen\": [\":443\"], \"http_port\": 80, \"sites\": [{\"name\": \"a\", "
	    "\"cert\": \"c\", \"key\": \"k\", \"status\": 302, \"location\": \"http://w.lab/\"}, "
	    "{\"name\": \"w.lab\", \"cert\": \"c\", \"key\": \"k\", \"install_root\": \"r.pem\"}]}",
	    &cause);
	if (c == NULL)
		fail_msg("%s", cause);
	assert_int_equal(c->http_port, 80);
	assert_int_equal(c->sites[0].status, 302);
	assert_string_equal(c->sites[0].location, "http://w.lab/");
	assert_string_equal(c->sites[1].install_root, "r.pem");
	origin_conf_free(c);
	assert_null(conf_of("{\"listen\": [\":443\"], \"http_port\": 70000, \"sites\": [{\"name\": "
	    "\"a\", \"cert\": \"c\", \"key\": \"k\"}]}", &cause));
	assert_non_null(strstr(cause, "t.json: http_port: 70000 is out of range"));
	free(cause);
	cause = NULL;
	assert_null(conf_of("{\"listen\": [\":443\"], \"sites\": [{\"name\": \"a\", \"cert\": \"c\", "
	    "\"key\": \"k\", \"location\": \"http://x/\\r\\nSet-Cookie: a=b\"}]}", &cause));
	assert_non_null(strstr(cause, "sites[0].location: contains a line break"));
	free(cause);
	cause = NULL;
	assert_null(conf_of("{\"listen\": [\":443\"], \"sites\": [{\"name\": \"a\", \"cert\": \"c\", "
	    "\"key\": \"k\", \"install_root\": 5}]}", &cause));
	assert_non_null(strstr(cause, "sites[0].install_root: expected a non-empty string"));
	free(cause);
}

/* The page escapes what it shows and routes /root.crt (query ignored) to the certificate. */
static void
test_install_html(void **state)
{
	size_t len;
	char *h;

	(void)state;
	h = origin_install_html("CN=<script>&\"x\"", "ab12", "w.lab", &len);
	assert_non_null(h);
	assert_int_equal(strlen(h), len);
	assert_null(strstr(h, "<script>"));
	assert_non_null(strstr(h, "CN=&lt;script&gt;&amp;&quot;x&quot;"));
	assert_non_null(strstr(h, ">ab12<"));
	assert_non_null(strstr(h, "href=\"/root.crt\""));
	assert_non_null(strstr(h, "install"));
	free(h);
}

/* A fresh self-signed root written as PEM and DER under dir; paths into pem/der. */
static void
make_root(const char *dir, char *pem, char *der, size_t len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;

	assert_non_null(k);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"KZ", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Test National Root (LAB mock)", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	snprintf(pem, len, "%s/root.pem", dir);
	snprintf(der, len, "%s/root.der", dir);
	assert_non_null(f = fopen(pem, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	assert_non_null(f = fopen(der, "wb"));
	i2d_X509_fp(f, x);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* Read a whole file (test helper). */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = malloc(1 << 16);

	assert_non_null(f);
	assert_non_null(b);
	*len = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

/* Loading serves the file's bytes as given (PEM or DER) and names the root on the page. */
static void
test_install_load(void **state)
{
	char dir[] = "/tmp/mitmlab-test-origin-plain.XXXXXX", pem[256], der[256], bad[256];
	const unsigned char *body;
	const char *ctype;
	struct origin_install *in;
	unsigned char *want;
	size_t len, wlen;
	char *cause = NULL;
	const char *paths[2];
	int i;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	make_root(dir, pem, der, sizeof(pem));
	paths[0] = pem;
	paths[1] = der;
	for (i = 0; i < 2; i++) {
		in = origin_install_load(paths[i], "warning.lab", &cause);
		if (in == NULL)
			fail_msg("%s", cause);
		want = slurp(paths[i], &wlen);
		assert_int_equal(origin_install_route(in, "/root.crt?x=1", &body, &len, &ctype), 1);
		assert_string_equal(ctype, "application/x-x509-ca-cert");
		assert_int_equal(len, wlen);
		assert_memory_equal(body, want, wlen);
		free(want);
		assert_int_equal(origin_install_route(in, "/install-certificate", &body, &len,
		    &ctype), 0);
		assert_string_equal(ctype, "text/html; charset=utf-8");
		assert_non_null(strstr((const char *)body,
		    "CN=Test National Root (LAB mock),C=KZ"));
		assert_int_equal(origin_install_route(in, "/root.crtx", &body, &len, &ctype), 0);
		origin_install_free(in);
	}
	snprintf(bad, sizeof(bad), "%s/not-a-cert.pem", dir);
	assert_non_null(f = fopen(bad, "w"));
	fputs("hello\n", f);
	fclose(f);
	assert_null(origin_install_load(bad, "w", &cause));
	assert_non_null(strstr(cause, "not a PEM or DER certificate"));
	assert_non_null(strstr(cause, bad));
	free(cause);
	cause = NULL;
	assert_null(origin_install_load("/nonexistent/root.pem", "w", &cause));
	assert_non_null(strstr(cause, "/nonexistent/root.pem"));
	free(cause);
	unlink(pem);
	unlink(der);
	unlink(bad);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_head_location),
		cmocka_unit_test(test_conf_keys),
		cmocka_unit_test(test_install_html),
		cmocka_unit_test(test_install_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
