/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_jsonout — jsonout_compact gives json_dumpb(JSON_COMPACT)'s bytes and length: for every
 * escape, control byte and integer edge, for the values it hands to json_dumpb (non-ASCII,
 * invalid UTF-8, reals, deep nesting, a cycle) at every buffer size from 0 to past the text's
 * length, for 20,000 random trees at the text's length, one byte less and more and 4,096, and
 * for an event shaped like proxy.conn.open; never writing past the buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonout.h"
#include "testjson.h"

/* Both writers agree on the length and, where the text fits, on every byte; jsonout leaves
 * the byte after the buffer alone. */
static void
same_as_jansson(const json_t *j, size_t size)
{
	char *a = malloc(size + 1), *b = malloc(size + 1);
	size_t na, nb;

	assert_non_null(a);
	assert_non_null(b);
	b[size] = 0x5a;
	na = json_dumpb(j, a, size, JSON_COMPACT);
	nb = jsonout_compact(j, b, size);
	assert_int_equal(nb, na);
	assert_int_equal(b[size], 0x5a);
	if (na > 0 && na <= size)
		assert_memory_equal(b, a, na);
	free(a);
	free(b);
}

/* Every buffer size from 0 to a little past the text's length. */
static void
same_at_every_size(const json_t *j)
{
	size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT), s;

	for (s = 0; s <= n + 2; s++)
		same_as_jansson(j, s);
}

static void
test_escapes(void **state)
{
	static const char all[] = "\x01\x02\x07\b\t\n\v\f\r\x1b\x1f \"\\/'<>&~\x7f";
	char every[0x80];
	json_t *o = json_object(), *a = json_array();
	int i;

	(void)state;
	for (i = 0; i < 0x80; i++)
		every[i] = (char)i;
	json_object_set_new(o, "plain", json_string("bench.example"));
	json_object_set_new(o, "escapes", json_string(all));
	json_object_set_new(o, "every ascii byte", json_stringn(every, sizeof(every)));
	json_object_set_new(o, "nul inside", json_stringn("a\0b", 3));
	json_object_set_new(o, "", json_string(""));
	json_object_set_new(o, "key \"quoted\"\n", json_true());
	json_object_set_new(o, "f", json_false());
	json_object_set_new(o, "n", json_null());
	json_object_set_new(o, "empty object", json_object());
	json_object_set_new(o, "empty array", json_array());
	json_array_append_new(a, json_integer(0));
	json_array_append_new(a, json_integer(-1));
	json_array_append_new(a, json_integer(9));
	json_array_append_new(a, json_integer(10));
	json_array_append_new(a, json_integer(INT64_MAX));
	json_array_append_new(a, json_integer(INT64_MIN));
	json_array_append_new(a, json_integer(INT64_MIN + 1));
	json_object_set_new(o, "ints", a);
	json_object_setn_new(o, "key\0with nul", 12, json_integer(1));
	same_at_every_size(o);
	same_at_every_size(a);
	json_decref(o);
}

/* Values jsonout hands to json_dumpb: the result must still be json_dumpb's. */
static void
test_fallbacks(void **state)
{
	json_t *o = json_object(), *deep = json_array(), *cur = deep, *cyc = json_array(), *inner;
	int i;

	(void)state;
	json_object_set_new(o, "utf8", json_string("Қазақстан — ✓ 😀"));
	json_object_set_new(o, "real", json_real(0.1));
	json_object_set_new(o, "big real", json_real(1e300));
	json_object_set_new(o, "whole real", json_real(3.0));
	json_object_set_new(o, "ключ", json_integer(1));
	same_at_every_size(o);
	json_decref(o);

	/* invalid UTF-8 (json_stringn_nocheck): json_dumpb fails, so must jsonout */
	o = json_object();
	json_object_set_new(o, "bad", json_stringn_nocheck("\xff\xfe", 2));
	same_as_jansson(o, 64);
	assert_int_equal(jsonout_compact(o, NULL, 0), 0);
	json_decref(o);

	/* nesting past JSONOUT_MAX_DEPTH goes to json_dumpb, which writes it */
	for (i = 0; i < JSONOUT_MAX_DEPTH + 8; i++) {
		json_t *next = json_array();

		json_array_append_new(cur, next);
		cur = next;
	}
	json_array_append_new(cur, json_string("bottom"));
	same_at_every_size(deep);
	json_decref(deep);

	/* a cycle (jansson refuses an array in itself, not one level down): json_dumpb refuses
	 * it (0) and jsonout does not loop */
	inner = json_array();
	json_array_append_new(cyc, inner);
	json_array_append(inner, cyc);
	assert_int_equal(json_dumpb(cyc, NULL, 0, JSON_COMPACT), 0);
	assert_int_equal(jsonout_compact(cyc, NULL, 0), 0);
	json_array_clear(inner);
	json_decref(cyc);

	/* top levels json_dumpb refuses without JSON_ENCODE_ANY */
	o = json_string("top");
	assert_int_equal(jsonout_compact(o, NULL, 0), 0);
	same_as_jansson(o, 16);
	json_decref(o);
	assert_int_equal(jsonout_compact(NULL, NULL, 0), 0);
}

/* A small deterministic generator (xorshift64*), so a failure replays. */
static void
test_random_trees(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		/* mostly ASCII (jsonout's own path); now and then UTF-8 or a real (the fallback) */
		json_t *t = testjson_tree(3);
		size_t n, s;

		n = json_dumpb(t, NULL, 0, JSON_COMPACT);
		/* the exact size, one less and one more, and a large buffer */
		for (s = n > 0 ? n - 1 : 0; s <= n + 1; s++)
			same_as_jansson(t, s);
		same_as_jansson(t, 4096);
		json_decref(t);
	}
}

/* The shape and values of a proxy.conn.open event. */
static void
test_conn_open(void **state)
{
	json_t *ev = json_pack("{s:i, s:s, s:I, s:s, s:I, s:{s:s,s:i}, s:{s:s,s:i}, s:{s:s,s:i}, "
	    "s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s, s:s, s:s, s:I}",
	    "v", 1, "t", "proxy.conn.open", "ts", (json_int_t)1763935200123456789LL,
	    "flow", "10.88.1.2:40000>10.88.2.2:443", "seq", (json_int_t)1234,
	    "client", "ip", "10.88.1.2", "port", 40000, "dst", "ip", "10.88.2.2", "port", 443,
	    "upstream", "ip", "10.88.1.1", "port", 40000, "sni", "bench.example",
	    "action", "intercept", "why", "default", "ja3", "5a1edc7f170af1014fc65c994878e63c",
	    "ja3_str", "771,4866-4867-4865-49196,0-11-10-35-16-22-23-13-43-45-51,29-23-30,0-1-2",
	    "ja4", "t13d3111h2_e8f1e7e78f70_1f22a2ca17c4", "alpn", "http/1.1",
	    "hello_version", "0x0304", "hello_record_version", "0x0301", "mode", "redirect",
	    "src", "proxy.w0", "x", (json_int_t)-5);
	char buf[1024];
	size_t n;

	(void)state;
	assert_non_null(ev);
	same_at_every_size(ev);
	n = jsonout_compact(ev, buf, sizeof(buf));
	assert_true(n > 0 && n < sizeof(buf));
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\"client\":{\"ip\":\"10.88.1.2\",\"port\":40000},"));
	assert_non_null(strstr(buf, "\"alpn\":[\"http/1.1\"],"));
	json_decref(ev);
}

/* jsonout_text: UTF-8 as is (NUL included); otherwise each byte outside a well-formed
 * sequence (stray continuation, truncated sequence, overlong, surrogate, above U+10FFFF) as
 * \xHH, the sequences around it kept; jsonout_hex of the raw bytes. */
static void
test_text(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
		int utf8;
	} t[] = {
		{ "bench.example", 13, "bench.example", 1 },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9", 1 },
		{ "a\0b", 3, "a\0b", 1 },
		{ "caf\xe9.kz", 7, "caf\\xe9.kz", 0 },
		{ "\x80\xc3\xa9\xff", 4, "\\x80\xc3\xa9\\xff", 0 },
		{ "x\xe2\x82", 3, "x\\xe2\\x82", 0 },			/* truncated */
		{ "\xc0\xaf", 2, "\\xc0\\xaf", 0 },			/* overlong */
		{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80", 0 },		/* surrogate */
		{ "\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80", 0 },	/* > U+10FFFF */
		{ "\xf0\x9f\x94\x92\xfe", 5, "\xf0\x9f\x94\x92\\xfe", 0 },
	};
	size_t i;
	json_t *j;
	int utf8;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		utf8 = -1;
		assert_non_null(j = jsonout_text(t[i].in, t[i].len, &utf8));
		assert_int_equal(utf8, t[i].utf8);
		assert_int_equal(json_string_length(j), t[i].utf8 ? t[i].len : strlen(t[i].out));
		assert_memory_equal(json_string_value(j), t[i].out, json_string_length(j));
		json_decref(j);
	}
	assert_non_null(j = jsonout_hex("caf\xe9", 4));
	assert_string_equal(json_string_value(j), "636166e9");
	json_decref(j);
	assert_non_null(j = jsonout_text("", 0, NULL));
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_random_trees),
		cmocka_unit_test(test_conn_open),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
