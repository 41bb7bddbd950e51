/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_report — the pure parts of the report: base64, the OneCRL entries (decoded back to the
 * certificate's issuer Name DER and serial content octets, including a serial that needs a
 * leading zero), the SPKI SHA-256 in base64 and the Chromium file name, certificate fields,
 * field-by-field diffing, target matching, percentiles, and the refusal to write any text
 * containing "PRIVATE KEY". Certificates are generated in the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "report.h"
#include "report_cert.h"
#include "report_chart.h"
#include "report_detect.h"
#include "report_flows.h"
#include "util.h"

/* A self-signed certificate with serial 0x8001 (high bit set: DER content 00 80 01) and a SAN. */
static X509 *
make_cert(void)
{
	EVP_PKEY *k = pki_keygen(0, 0, NULL);
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x8001);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"KZ", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Test Root", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "DNS:a.example,DNS:b.example");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	return x;
}

/* Decode base64 into a malloc'd buffer; *len gets the length without padding. */
static unsigned char *
unb64(const char *s, int *len)
{
	size_t n = strlen(s);
	unsigned char *out = malloc(n + 1);
	int pad = (n > 0 && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');

	*len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n) - pad;
	return out;
}

/* Base64 against known vectors. */
static void
test_b64(void **state)
{
	char *s;

	(void)state;
	s = report_cert_b64((const unsigned char *)"abc", 3);
	assert_string_equal(s, "YWJj");
	free(s);
	s = report_cert_b64((const unsigned char *)"ab", 2);
	assert_string_equal(s, "YWI=");
	free(s);
	s = report_cert_b64((const unsigned char *)"", 0);
	assert_string_equal(s, "");
	free(s);
}

/* OneCRL issuer + serial decodes back to the issuer DER and the serial content octets. */
static void
test_onecrl(void **state)
{
	X509 *x = make_cert();
	json_t *e = report_cert_onecrl_issuer_serial(x), *k = report_cert_onecrl_subject_key(x);
	unsigned char *der = NULL, *got, d[32];
	int dlen, glen;
	char *b;

	(void)state;
	dlen = i2d_X509_NAME(X509_get_issuer_name(x), &der);
	got = unb64(json_string_value(json_object_get(e, "issuerName")), &glen);
	assert_int_equal(glen, dlen);
	assert_memory_equal(got, der, (size_t)dlen);
	assert_int_equal(got[0], 0x30);			/* a SEQUENCE (Name) */
	free(got);
	OPENSSL_free(der);
	got = unb64(json_string_value(json_object_get(e, "serialNumber")), &glen);
	assert_int_equal(glen, 3);
	assert_memory_equal(got, "\x00\x80\x01", 3);	/* INTEGER content, sign byte kept */
	free(got);
	assert_int_equal(pki_spki_sha256(x, d), 0);
	b = report_cert_b64(d, 32);
	assert_string_equal(json_string_value(json_object_get(k, "pubKeyHash")), b);
	free(b);
	json_decref(e);
	json_decref(k);
	X509_free(x);
}

/* Facts: SPKI hex and base64 agree, Chromium file name, fields and no key material. */
static void
test_facts(void **state)
{
	X509 *x = make_cert();
	json_t *f = report_cert_facts(x), *fl;
	unsigned char d[32];
	char hex[65], file[80], *b;
	const json_t *v;
	size_t i;
	int san = 0, ext = 0;

	(void)state;
	assert_int_equal(pki_spki_sha256(x, d), 0);
	assert_string_equal(json_string_value(json_object_get(f, "spki_sha256")), util_hex(d, 32, hex));
	b = report_cert_b64(d, 32);
	assert_string_equal(json_string_value(json_object_get(f, "spki_sha256_b64")), b);
	free(b);
	assert_int_equal(pki_cert_sha256(x, d), 0);
	snprintf(file, sizeof(file), "%s.pem", util_hex(d, 32, hex));
	assert_string_equal(json_string_value(json_object_get(f, "chromium_blocklist_file")), file);
	assert_string_equal(json_string_value(json_object_get(f, "serial")), "8001");
	assert_string_equal(json_string_value(json_object_get(f, "subject")), "CN=Test Root,C=KZ");
	fl = json_object_get(f, "fields");
	json_array_foreach(fl, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));

		if (strcmp(n, "SAN") == 0) {
			assert_string_equal(json_string_value(json_object_get(v, "value")),
			    "DNS:a.example, DNS:b.example");
			san = 1;
		}
		if (strcmp(n, "ext: X509v3 Subject Alternative Name") == 0)
			ext = 1;
		if (strcmp(n, "key type") == 0)
			assert_string_equal(json_string_value(json_object_get(v, "value")), "EC");
	}
	assert_true(san && ext);
	assert_non_null(strstr(json_string_value(json_object_get(f, "pem")), "BEGIN CERTIFICATE"));
	assert_null(strstr(json_string_value(json_object_get(f, "pem")), "PRIVATE"));
	json_decref(f);
	X509_free(x);
}

/* Diff: equal rows unmarked, changed marked, one-sided rows null on the other side and
 * forged-only fields placed after their forged-side predecessor. */
static void
test_diff(void **state)
{
	json_t *a = json_loads("[{\"name\":\"subject\",\"value\":\"CN=x\"},"
	    "{\"name\":\"key bits\",\"value\":\"256\"},{\"name\":\"ext: A\",\"value\":\"v\"}]", 0, NULL);
	json_t *b = json_loads("[{\"name\":\"subject\",\"value\":\"CN=x\"},"
	    "{\"name\":\"key bits\",\"value\":\"2048\"},{\"name\":\"key exponent\",\"value\":\"3\"}]",
	    0, NULL);
	json_t *d = report_cert_diff(a, b);
	const char *names[] = { "subject", "key bits", "key exponent", "ext: A" };
	const int differs[] = { 0, 1, 1, 1 };
	size_t i;

	(void)state;
	assert_int_equal(json_array_size(d), 4);
	for (i = 0; i < 4; i++) {
		json_t *r = json_array_get(d, i);

		assert_string_equal(json_string_value(json_object_get(r, "name")), names[i]);
		assert_int_equal(json_is_true(json_object_get(r, "differs")), differs[i]);
	}
	assert_true(json_is_null(json_object_get(json_array_get(d, 2), "orig")));
	assert_true(json_is_null(json_object_get(json_array_get(d, 3), "forged")));
	json_decref(a);
	json_decref(b);
	json_decref(d);
}

/* Target patterns and percentiles. */
static void
test_match_stats(void **state)
{
	json_t *v = json_array(), *s;
	int i;

	(void)state;
	assert_true(report_flows_match("google.com", "GOOGLE.com"));
	assert_false(report_flows_match("google.com", "www.google.com"));
	assert_true(report_flows_match("*.google.com", "mail.google.com"));
	assert_false(report_flows_match("*.google.com", "google.com"));
	assert_false(report_flows_match(NULL, "x"));
	for (i = 100; i >= 1; i--)
		json_array_append_new(v, json_integer(i));
	s = report_flows_stats(v);
	assert_int_equal(json_integer_value(json_object_get(s, "n")), 100);
	assert_true(json_number_value(json_object_get(s, "p50")) == 50);
	assert_true(json_number_value(json_object_get(s, "p99")) == 99);
	assert_true(json_number_value(json_object_get(s, "max")) == 100);
	json_decref(s);
	json_decref(v);
}

/* The writers refuse anything that contains "PRIVATE KEY", in every format. */
static void
test_refuse_private_key(void **state)
{
	json_t *m = json_pack("{s:i,s:s,s:[s]}", "schema", 1, "title", "t",
	    "summary", "-----BEGIN PRIVATE KEY-----");
	char tmpl[] = "/tmp/test_report.XXXXXX", path[64], *cause = NULL;
	enum report_format f;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	for (f = REPORT_JSON; f <= REPORT_HTML; f++) {
		snprintf(path, sizeof(path), "%s/r", tmpl);
		assert_int_equal(report_write(m, f, path, &cause), -1);
		assert_non_null(strstr(cause, "PRIVATE KEY"));
		free(cause);
		cause = NULL;
		assert_int_not_equal(access(path, F_OK), 0);
	}
	rmdir(tmpl);
	json_decref(m);
}

/* Both renderers show every row of the shared certificate table, with its value. */
static void
test_render_rows(void **state)
{
	X509 *x = make_cert();
	json_t *m = json_pack("{s:i,s:{s:[o]}}", "schema", 1, "national_ca", "certs",
	    report_cert_facts(x));
	const json_t *c = json_array_get(json_object_get(json_object_get(m, "national_ca"),
	    "certs"), 0);
	const struct report_row *r;
	char *out[2];
	int i;

	(void)state;
	out[0] = report_md_render(m, NULL);
	out[1] = report_html_render(m, NULL);
	for (i = 0; i < 2; i++) {
		assert_non_null(out[i]);
		for (r = report_rows_cert; r->label != NULL; r++)
			assert_non_null(strstr(out[i], r->label));
		assert_non_null(strstr(out[i], json_string_value(json_object_get(c,
		    "spki_sha256_b64"))));
		free(out[i]);
	}
	json_decref(m);
	X509_free(x);
}

/* Names the report quotes from files (a results file, the compare file, a baseline analyzer)
 * cannot break a Markdown table: '|' is escaped. */
static void
test_md_escapes_names(void **state)
{
	json_t *m = json_pack("{s:i,s:{s:{s:[{s:s,s:s}]},s:{s:{s:f}},s:s,s:[]}}", "schema", 1,
	    "detection", "table", "rows", "file", "a|b.json", "error", "bad|json", "compare",
	    "baseline_fpr", "x|y", 0.5, "compare_file", "c|d.json", "compare_rows");
	char *md;

	(void)state;
	md = report_md_render(m, NULL);
	assert_non_null(md);
	assert_non_null(strstr(md, "results/a\\|b.json is unreadable: bad\\|json"));
	assert_non_null(strstr(md, "from c\\|d.json)"));
	assert_non_null(strstr(md, "x\\|y 0.5"));
	assert_null(strstr(md, "a|b"));
	free(md);
	json_decref(m);
}

/* The root is the certificate whose role is root, wherever it stands; both renderers say so,
 * and Markdown carries the lab's block list as HTML does. */
static void
test_root_by_role(void **state)
{
	X509 *x = make_cert(), *y = make_cert();
	const char *hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	json_t *ri = report_cert_facts(x), *rr = report_cert_facts(y), *m;
	const json_t *nat;
	char *md, *html, *p;

	(void)state;
	json_object_set_new(ri, "role", json_string("intermediate"));
	json_object_set_new(rr, "role", json_string("root"));
	m = json_pack("{s:i,s:{s:[o,o],s:[s]}}", "schema", 1, "national_ca", "certs", ri, rr,
	    "lab_blocklist_spki", hash);
	nat = json_object_get(m, "national_ca");
	assert_ptr_equal(report_national_root(nat), json_array_get(json_object_get(nat, "certs"), 1));
	md = report_md_render(m, NULL);
	html = report_html_render(m, NULL);
	assert_non_null(md);
	assert_non_null(html);
	assert_non_null(p = strstr(md, "### Intermediate: "));
	assert_non_null(strstr(p, "### Root: "));
	assert_null(strstr(strstr(md, "### Root: ") + 1, "### Root: "));
	assert_non_null(strstr(md, hash));
	assert_non_null(p = strstr(html, "<h3>Intermediate: "));
	assert_non_null(strstr(p, "<h3>Root: "));
	free(md);
	free(html);
	json_object_set_new(rr, "role", json_string("intermediate"));
	assert_null(report_national_root(nat));
	json_decref(m);
	X509_free(x);
	X509_free(y);
}

/* pki/blocklist.txt: CRLF lines, upper case and trailing blanks are read; comments and
 * anything that is not 64 hex digits are not. */
static void
test_blocklist_file(void **state)
{
	char tmpl[] = "/tmp/test_report.XXXXXX", path[128], *cause = NULL;
	const char *good = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	json_t *m, *bl;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/pki", tmpl);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/pki/blocklist.txt", tmpl);
	assert_non_null(f = fopen(path, "w"));
	fputs("# lab block list\r\n"
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789ABCDEF \r\n"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n"
	    "0123456789abcdef\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/events.jsonl", tmpl);	/* an empty run */
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	m = report_build(tmpl, &cause);
	if (m == NULL)
		fail_msg("report_build: %s", cause);
	bl = json_object_get(json_object_get(m, "national_ca"), "lab_blocklist_spki");
	assert_int_equal(json_array_size(bl), 1);
	assert_string_equal(json_string_value(json_array_get(bl, 0)), good);
	json_decref(m);
	snprintf(path, sizeof(path), "rm -rf '%s'", tmpl);
	assert_int_equal(system(path), 0);
}

/* Format names. */
static void
test_formats(void **state)
{
	enum report_format f;
	char *cause = NULL;

	(void)state;
	assert_int_equal(report_format_parse("md", &f, NULL), 0);
	assert_int_equal(f, REPORT_MD);
	assert_string_equal(report_format_file(f), "report.md");
	assert_int_equal(report_format_parse("pdf", &f, &cause), -1);
	assert_non_null(strstr(cause, "html, md, json"));
	free(cause);
}

/* A series named by an event (a flow's action) cannot run commands through gnuplot: a
 * backtick runs one even inside a double-quoted string. Runs the real gnuplot. */
static void
test_chart_label(void **state)
{
	char dir[] = "/tmp/test_report_chart.XXXXXX", name[1024], mark[300], *svg, *cause = NULL;
	static const double x[] = { 1, 2, 3 }, y[] = { 0.3, 0.6, 1 };
	struct report_chart_series ser;
	struct report_chart c = { "t", "title", "x", "y", 0, &ser, 1 };
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(mark, sizeof(mark), "%s/ran", dir);
	snprintf(name, sizeof(name), "a`touch %s`\" @x \\\" `touch %s`", mark, mark);
	ser = (struct report_chart_series){ name, x, y, 3, 1 };
	svg = report_chart_svg(&c, &cause);
	if (svg == NULL)
		fail_msg("report_chart_svg: %s", cause);
	assert_int_equal(stat(mark, &st), -1);
	/* the label is drawn, its unsafe characters as spaces */
	assert_non_null(strstr(svg, "touch "));
	assert_null(strchr(svg, '`'));
	free(svg);
	assert_int_equal(rmdir(dir), 0);
}

/* An open of flow i (action act) and its client.result (outcome, total time us). */
static void
add_flow(json_t *by, int i, const char *act, const char *outcome, json_int_t total)
{
	char flow[64];

	snprintf(flow, sizeof(flow), "10.1.1.2:%d>10.2.1.2:443", 1024 + i);
	json_array_append_new(json_object_get(by, "proxy.conn.open"), json_pack(
	    "{s:s,s:s,s:s,s:s}", "t", "proxy.conn.open", "flow", flow, "action", act, "why", "w"));
	json_array_append_new(json_object_get(by, "client.result"), json_pack(
	    "{s:s,s:s,s:s,s:s,s:I,s:I}", "t", "client.result", "flow", flow, "src", "client.u",
	    "outcome", outcome, "t_handshake_us", total / 2, "t_total_us", total));
}

/* The performance and hosts sections from synthetic events: statistics over every sample (not
 * the charts' first 20,000), failed requests left out of the timings, a figure with no
 * samples on one side null rather than 0, process-wide proxy.stats figures not summed over
 * workers, an action of any length counted (a 600-byte one used to crash the report), and
 * intercepted flows counted by flow id, by each one's last decision. */
static void
test_flows_sections(void **state)
{
	json_t *by = json_pack("{s:[],s:[],s:[]}", "proxy.conn.open", "client.result",
	    "proxy.stats"), *perf, *hosts, *st, *added, *trig;
	char longact[601];
	int i;

	(void)state;
	for (i = 0; i < 30000; i++)
		add_flow(by, i, "intercept", "ok", i < 20000 ? 1000 : 5000);
	add_flow(by, 30000, "intercept", "cert-untrusted", 900000);
	for (i = 0; i < 10; i++)
		add_flow(by, 40000 + i, "splice", "ok", 700);
	for (i = 0; i < 2; i++)
		json_array_append_new(json_object_get(by, "proxy.stats"), json_pack(
		    "{s:s,s:s,s:I,s:I,s:f,s:I}", "src", "proxy.w", "worker", i ? "w1" : "w0",
		    "ts", (json_int_t)1000 + i, "accepted", (json_int_t)10, "cpu_s", 7.5,
		    "rss_kb", (json_int_t)200000));
	perf = report_flows_performance(by);
	st = json_object_get(json_object_get(perf, "by_path"), "intercepted");
	st = json_object_get(st, "t_total_us");
	assert_int_equal(json_integer_value(json_object_get(st, "n")), 30000);
	assert_true(json_number_value(json_object_get(st, "p90")) == 5000);
	assert_true(json_number_value(json_object_get(st, "max")) == 5000);	/* not 900000 */
	assert_int_equal(json_array_size(json_object_get(json_object_get(json_object_get(perf,
	    "samples_by_path"), "intercepted"), "t_total_us")), 20000);
	added = json_object_get(perf, "added_latency");
	assert_true(json_number_value(json_object_get(added, "total_p50_us")) == 1000 - 700);
	st = json_array_get(json_object_get(perf, "proxy_series"), 1);
	assert_true(json_number_value(json_object_get(st, "cpu_s")) == 7.5);
	assert_true(json_number_value(json_object_get(st, "rss_kb")) == 200000);
	assert_true(json_number_value(json_object_get(st, "accepted")) == 20);
	json_decref(perf);
	/* the spliced side without timings: the comparison says it has no figure */
	json_array_foreach(json_object_get(by, "client.result"), i, st)
		if (i >= 30001)
			json_object_del(st, "t_total_us");
	perf = report_flows_performance(by);
	added = json_object_get(perf, "added_latency");
	assert_true(json_is_null(json_object_get(added, "total_p50_us")));
	assert_true(json_is_number(json_object_get(added, "handshake_p50_us")));
	json_decref(perf);
	memset(longact, 'A', 600);
	longact[600] = '\0';
	add_flow(by, 50000, longact, "ok", 1);
	hosts = report_flows_hosts(by);
	trig = json_object_get(hosts, "triggers");
	assert_int_equal(json_array_size(trig), 3);
	json_array_foreach(trig, i, st)
		if (strlen(json_string_value(json_object_get(st, "action"))) == 600)
			break;
	assert_true((size_t)i < json_array_size(trig));
	assert_string_equal(json_string_value(json_object_get(st, "why")), "w");
	/* flows, not opens: 30,001 intercepted flow ids; one reopened (a reused client port)
	 * still counts once, and one reopened as a splice counts by its last decision */
	assert_int_equal(json_integer_value(json_object_get(hosts, "intercepted_flows")), 30001);
	json_decref(hosts);
	add_flow(by, 7, "intercept", "ok", 1000);
	add_flow(by, 8, "splice", "ok", 700);
	hosts = report_flows_hosts(by);
	assert_int_equal(json_integer_value(json_object_get(hosts, "intercepted_flows")), 30000);
	json_decref(hosts);
	json_decref(by);
}

/* A proxy.conn.open (client 10.1.1.2, upstream 10.255.0.1:uport) and, when ja3 is given, the
 * origin.hello the origin saw from that upstream address. */
static void
add_upstream(json_t *by, json_int_t ts, const char *act, int uport, const char *ja3)
{
	json_array_append_new(json_object_get(by, "proxy.conn.open"), json_pack(
	    "{s:I,s:s,s:{s:s,s:i},s:{s:s,s:i},s:s,s:s}", "ts", ts, "action", act, "client", "ip",
	    "10.1.1.2", "port", 1000 + uport, "upstream", "ip", "10.255.0.1", "port", uport,
	    "sni", "a.example", "ja3", "client-ja3"));
	if (ja3 != NULL)
		json_array_append_new(json_object_get(by, "origin.hello"), json_pack(
		    "{s:I,s:{s:s,s:i},s:s}", "ts", ts + 10, "client", "ip", "10.255.0.1",
		    "port", uport, "ja3", ja3));
}

/* Fingerprints: only intercepted flows' upstream hellos are the interceptor's; a spliced flow's
 * upstream hello is its client's (named by the conn.open's client), also when the upstream
 * port was used before by an intercepted flow; the interceptor is compared with the clients
 * seen by the engine as well as by the origins. */
static void
test_fingerprints(void **state)
{
	json_t *by = json_pack("{s:[],s:[],s:[{s:[{s:s,s:s},{s:s,s:s}]}]}", "proxy.conn.open",
	    "origin.hello", "lab.truth.scenario", "clients", "name", "browser", "addr", "10.1.1.2",
	    "name", "curl", "addr", "10.1.3.2"), *fp, *g;

	(void)state;
	add_upstream(by, 100, "intercept", 5000, "interceptor-ja3");
	add_upstream(by, 200, "splice", 5001, "client-ja3");
	add_upstream(by, 300, "splice", 5000, "client-ja3");	/* port 5000 again, spliced */
	json_array_append_new(json_object_get(by, "origin.hello"), json_pack(
	    "{s:I,s:{s:s,s:i},s:s}", "ts", 400, "client", "ip", "10.1.3.2", "port", 7,
	    "ja3", "curl-ja3"));				/* a client straight to the origin */
	fp = report_flows_fingerprints(by);
	assert_int_equal(json_array_size(json_object_get(fp, "interceptor")), 1);
	g = json_array_get(json_object_get(fp, "interceptor"), 0);
	assert_string_equal(json_string_value(json_object_get(g, "ja3")), "interceptor-ja3");
	assert_int_equal(json_integer_value(json_object_get(g, "count")), 1);
	assert_int_equal(json_array_size(json_object_get(fp, "clients_at_origin")), 2);
	g = json_array_get(json_object_get(fp, "clients_at_origin"), 0);
	assert_string_equal(json_string_value(json_object_get(g, "who")), "browser");
	assert_string_equal(json_string_value(json_object_get(g, "ja3")), "client-ja3");
	assert_int_equal(json_integer_value(json_object_get(g, "count")), 2);
	assert_true(json_is_false(json_object_get(fp, "interceptor_matches_a_client")));
	assert_int_equal(json_integer_value(json_object_get(fp, "client_ja3_distinct")), 2);
	json_decref(fp);
	/* the interceptor sends a client's hello (as the mirror profile does): a match, named; the
	 * client's JA3 is known only to the engine (no spliced flow reached an origin) */
	json_array_clear(json_object_get(by, "origin.hello"));
	add_upstream(by, 500, "intercept", 5002, "client-ja3");
	fp = report_flows_fingerprints(by);
	assert_int_equal(json_array_size(json_object_get(fp, "clients_at_origin")), 0);
	assert_true(json_is_true(json_object_get(fp, "interceptor_matches_a_client")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(fp,
	    "interceptor_matching_clients"), 0)), "browser");
	json_decref(fp);
	json_decref(by);
}

/* An origin hello is claimed by the flow that had BEGUN (accepted_ts) on its upstream port by
 * then: the engine publishes proxy.conn.open after the upstream handshake, so the open's ts
 * comes after its own hello, and by ts alone the hello would go to an earlier spliced flow
 * that used the same upstream port (and count as that client's). */
static void
test_fingerprints_accepted_ts(void **state)
{
	json_t *by = json_pack("{s:[],s:[],s:[{s:[{s:s,s:s}]}]}", "proxy.conn.open",
	    "origin.hello", "lab.truth.scenario", "clients", "name", "browser", "addr", "10.1.1.2");
	json_t *opens = json_object_get(by, "proxy.conn.open"), *fp, *g;

	(void)state;
	/* a spliced flow on upstream port 6000, then an intercepted one on the same port that was
	 * accepted at 700, sent its upstream hello at 750 and was published at 800 */
	json_array_append_new(opens, json_pack("{s:I,s:I,s:s,s:{s:s,s:i},s:{s:s,s:i}}", "ts",
	    (json_int_t)600, "accepted_ts", (json_int_t)590, "action", "splice", "client", "ip",
	    "10.1.1.2", "port", 1500, "upstream", "ip", "10.255.0.1", "port", 6000));
	json_array_append_new(opens, json_pack("{s:I,s:I,s:s,s:{s:s,s:i},s:{s:s,s:i}}", "ts",
	    (json_int_t)800, "accepted_ts", (json_int_t)700, "action", "intercept", "client", "ip",
	    "10.1.1.2", "port", 1501, "upstream", "ip", "10.255.0.1", "port", 6000));
	json_array_append_new(json_object_get(by, "origin.hello"), json_pack(
	    "{s:I,s:{s:s,s:i},s:s}", "ts", (json_int_t)750, "client", "ip", "10.255.0.1", "port",
	    6000, "ja3", "interceptor-ja3"));
	fp = report_flows_fingerprints(by);
	assert_int_equal(json_array_size(json_object_get(fp, "interceptor")), 1);
	g = json_array_get(json_object_get(fp, "interceptor"), 0);
	assert_string_equal(json_string_value(json_object_get(g, "ja3")), "interceptor-ja3");
	assert_int_equal(json_array_size(json_object_get(fp, "clients_at_origin")), 0);
	json_decref(fp);
	/* a hello before the intercepted flow began is still the spliced flow's (its client's) */
	json_object_set_new(json_array_get(json_object_get(by, "origin.hello"), 0), "ts",
	    json_integer(650));
	fp = report_flows_fingerprints(by);
	assert_int_equal(json_array_size(json_object_get(fp, "interceptor")), 0);
	assert_int_equal(json_array_size(json_object_get(fp, "clients_at_origin")), 1);
	g = json_array_get(json_object_get(fp, "clients_at_origin"), 0);
	assert_string_equal(json_string_value(json_object_get(g, "who")), "browser");
	json_decref(fp);
	json_decref(by);
}

/* A verdict of an analyzer on flow "f<n>". */
static json_t *
verdict(int n, int intercepted, const char *signal)
{
	char flow[32];

	snprintf(flow, sizeof(flow), "f%d", n);
	return json_pack("{s:s,s:b,s:s}", "flow", flow, "intercepted", intercepted, "signal", signal);
}

/* The detection table counts each flow by its LAST verdict and splits the flagged ones by what
 * the engine did (intercepted, not intercepted, flow id unknown); the summary names the detector
 * with the count and the signal, and leaves the truth analyzer out. */
static void
test_detect_table(void **state)
{
	json_t *by = json_pack("{s:[],s:[]}", "proxy.conn.open", "client.result"), *res, *t, *r;
	json_t *vs = json_array(), *sum = json_array();
	char flow[32];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {		/* f0..f2 intercepted, f3 spliced */
		snprintf(flow, sizeof(flow), "f%d", i);
		json_array_append_new(json_object_get(by, "proxy.conn.open"), json_pack("{s:s,s:s}",
		    "flow", flow, "action", i < 3 ? "intercept" : "splice"));
	}
	json_array_append_new(vs, verdict(0, 0, "clean"));
	json_array_append_new(vs, verdict(0, 1, "rsa-e3"));	/* the last verdict counts */
	json_array_append_new(vs, verdict(1, 1, "rsa-e3"));
	json_array_append_new(vs, verdict(2, 1, "odd-root"));
	json_array_append_new(vs, verdict(2, 0, "clean"));	/* ... also when it clears */
	json_array_append_new(vs, verdict(3, 1, "odd-root"));	/* spliced: not intercepted */
	json_array_append_new(vs, verdict(9, 1, "odd-root"));	/* no such flow */
	res = json_pack("[{s:s,s:{s:s,s:s,s:o,s:{s:s}}},{s:s,s:{s:s,s:s,s:[o]}},{s:s,s:s}]",
	    "file", "det.json", "data", "role", "detector", "analyzer", "det", "verdicts", vs,
	    "delivery", "status", "ok",
	    "file", "truth.json", "data", "role", "truth", "analyzer", "truth", "verdicts",
	    verdict(0, 1, "proxy-intercept"), "file", "bad.json", "error", "bad.json:1: junk");
	t = report_detect_table(res, by);
	assert_int_equal(json_integer_value(json_object_get(t, "intercepted_flows")), 3);
	assert_int_equal(json_array_size(json_object_get(t, "rows")), 3);
	r = json_array_get(json_object_get(t, "rows"), 0);
	assert_string_equal(json_string_value(json_object_get(r, "analyzer")), "det");
	assert_string_equal(json_string_value(json_object_get(r, "status")), "ok");
	assert_int_equal(json_integer_value(json_object_get(r, "flows_seen")), 5);
	assert_int_equal(json_integer_value(json_object_get(r, "flagged")), 4);
	assert_int_equal(json_integer_value(json_object_get(r, "flagged_intercepted")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "flagged_not_intercepted")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "flagged_unknown_flow")), 1);
	assert_string_equal(json_string_value(json_object_get(r, "signals_text")),
	    "odd-root ×2, rsa-e3 ×2");
	r = json_array_get(json_object_get(t, "rows"), 2);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "unreadable");
	json_object_set_new(by, "table", t);	/* a model's "detection" holds the table */
	report_detect_summary(sum, by);
	assert_int_equal(json_array_size(sum), 1);
	assert_non_null(strstr(json_string_value(json_array_get(sum, 0)),
	    "of the 3 intercepted flows"));
	assert_non_null(strstr(json_string_value(json_array_get(sum, 0)),
	    "det flagged 2 of them (by rsa-e3 ×2), and 1 flow that was not intercepted"));
	assert_null(strstr(json_string_value(json_array_get(sum, 0)), "truth flagged"));
	json_decref(sum);
	json_decref(res);
	json_decref(by);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_onecrl),
		cmocka_unit_test(test_facts),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_match_stats),
		cmocka_unit_test(test_refuse_private_key),
		cmocka_unit_test(test_render_rows),
		cmocka_unit_test(test_md_escapes_names),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_root_by_role),
		cmocka_unit_test(test_blocklist_file),
		cmocka_unit_test(test_chart_label),
		cmocka_unit_test(test_flows_sections),
		cmocka_unit_test(test_fingerprints),
		cmocka_unit_test(test_fingerprints_accepted_ts),
		cmocka_unit_test(test_detect_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
