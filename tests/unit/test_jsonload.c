/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_jsonload — jsonload gives json_loadb(JSON_REJECT_DUPLICATES)'s tree (the same text when
 * both are dumped, so key order and integer/real kinds too) or its error text, and the fast
 * path gives either that tree or nothing: for events shaped like the engine's (which must take
 * the fast path), for every case where the two parsers could read a text differently (which
 * must not), for number, escape, UTF-8 and nesting edges, for 20,000 random trees written
 * compact, indented and ASCII-only, and for three random byte mutations of each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonload.h"
#include "testjson.h"

/* Compact text of v (NULL: NULL), for comparing trees with their order and number kinds. */
static char *
dump(const json_t *v)
{
	return v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* jsonload agrees with json_loadb on s[0..n); returns whether the fast path took it. */
static int
agree(const char *s, size_t n)
{
	json_error_t ej, el;
	json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES, &ej);
	json_t *f = jsonload_fast(s, n);
	json_t *l = jsonload(s, n, &el);
	char *dj = dump(j), *df = dump(f), *dl = dump(l);
	int fast = f != NULL;

	if (f != NULL && (j == NULL || dj == NULL || df == NULL || strcmp(dj, df) != 0))
		fail_msg("fast path differs on %.*s: %s against jansson's %s", (int)n, s,
		    df ? df : "?", j ? (dj ? dj : "?") : ej.text);
	if ((j == NULL) != (l == NULL))
		fail_msg("jsonload %s what jansson %s: %.*s", l ? "accepts" : "refuses",
		    j ? "accepts" : "refuses", (int)n, s);
	if (j != NULL && (dj == NULL || dl == NULL || strcmp(dj, dl) != 0))
		fail_msg("jsonload's tree differs on %.*s", (int)n, s);
	/* the error as json_loadb leaves it, on success too */
	if (!testjson_same_error(&el, &ej))
		fail_msg("jsonload's error differs on %.*s: \"%s\" %s %d:%d@%d, json_loadb's \"%s\" "
		    "%s %d:%d@%d", (int)n, s, el.text, el.source, el.line, el.column, el.position,
		    ej.text, ej.source, ej.line, ej.column, ej.position);
	free(dj);
	free(df);
	free(dl);
	json_decref(j);
	json_decref(f);
	json_decref(l);
	return fast;
}

static int
agree_s(const char *s)
{
	return agree(s, strlen(s));
}

/* Events as the engine and the analyzers write them take the fast path. */
static void
test_events_fast(void **state)
{
	static const char *const ev[] = {
		"{\"v\":1,\"t\":\"proxy.conn.open\",\"ts\":1763935200123456789,\"seq\":0,"
		    "\"client\":{\"ip\":\"10.88.1.2\",\"port\":40000},\"alpn\":[\"http/1.1\",\"h2\"],"
		    "\"sni\":null,\"x\":-9223372036854775808,\"y\":9223372036854775807,"
		    "\"cpu_s\":0.125,\"e\":1e-3,\"E\":-2.5E+10,\"z\":-0,\"ok\":true,\"no\":false}",
		/* a PEM as proxy.forge carries it: escaped newlines */
		"{\"t\":\"proxy.forge\",\"orig_pem\":\"-----BEGIN CERTIFICATE-----\\nMIIB+zCCAaGg"
		    "AwIBAgIU\\n-----END CERTIFICATE-----\\n\",\"k\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
		"{\"utf8\":\"caf\xc3\xa9 \xf0\x9f\x94\x92\x7f\",\"esc\":\"\\u00e9\\u20ac\\u001f\\uFFFD\"}",
		"[]", "{}", "[[],{},[1,[2,[3]]],{\"a\":{\"b\":{}}}]",
		" \t\r\n{ \"a\" : [ 1 , 2 ] }\n ",
		"{\"\":\"empty key\",\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}",
		"{\"under\":1e-400,\"big\":1.7976931348623157e308}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ev) / sizeof(ev[0]); i++)
		if (!agree_s(ev[i]))
			fail_msg("the fast path gave up on %s", ev[i]);
}

/* Where the two parsers could differ the fast path gives up and jansson decides. */
static void
test_gives_up(void **state)
{
	static const struct {
		const char *s;
		size_t n;		/* 0: strlen */
	} t[] = {
		{ "{\f}", 0 }, { "{\v}", 0 }, { "{\"a\":1}\f", 0 },	/* yajl's whitespace only */
		{ "{\"a\":\"\\ud800\"}", 0 }, { "{\"a\":\"\\uDC00x\"}", 0 },	/* lone surrogates */
		{ "{\"a\":\"\\ud83d\\ude00\"}", 0 },			/* a pair: jansson takes it */
		{ "{\"\\udbff\\udfff\":1}", 0 }, { "{\"a\":\"\\ud800\\u0041\"}", 0 },
		{ "{\"a\":\"x\\u0000y\"}", 0 }, { "{\"x\\u0000\":1}", 0 },	/* NUL */
		{ "{\"a\":\"x\0y\"}", 11 },
		{ "{\"a\":\"\xc0\xaf\"}", 0 }, { "{\"a\":\"\xed\xa0\x80\"}", 0 },	/* not UTF-8 */
		{ "{\"a\":\"\xf4\x90\x80\x80\"}", 0 }, { "{\"a\":\"\xe2\x82\"}", 0 },
		{ "{\"\xff\":1}", 0 }, { "{\"\xc3\":1}", 0 },
		{ "{\"a\":\"\x01\"}", 0 }, { "{\"a\":\"\x1f\"}", 0 },
		{ "[1]\"]", 0 }, { "[1]\"", 0 }, { "{} \"}", 0 }, { "[1] tr", 0 }, { "[1]-", 0 },
		{ "{\"a\":1,\"a\":2}", 0 }, { "{\"b\":{\"a\":1,\"a\":1}}", 0 },	/* duplicates */
		{ "1", 0 }, { "\"s\"", 0 }, { "null", 0 }, { "true", 0 },	/* top level */
		{ "", 0 }, { " ", 0 }, { "{", 0 }, { "}", 0 }, { "{}}", 0 }, { "{} x", 0 },
		{ "{}{}", 0 }, { "[] []", 0 }, { "{/*c*/}", 0 }, { "{\"a\":1,}", 0 }, { "[1,]", 0 },
		{ "{'a':1}", 0 }, { "{a:1}", 0 }, { "{\"a\" 1}", 0 }, { "[NaN]", 0 },
		{ "[Infinity]", 0 }, { "[-Infinity]", 0 }, { "\xef\xbb\xbf{}", 0 },
		{ "[9223372036854775808]", 0 }, { "[-9223372036854775809]", 0 },
		{ "[1e400]", 0 }, { "[-1e400]", 0 }, { "[01]", 0 }, { "[-]", 0 }, { "[1.]", 0 },
		{ "[.5]", 0 }, { "[1e]", 0 }, { "[1e+]", 0 }, { "[+1]", 0 }, { "[-01]", 0 },
		{ "[0x10]", 0 }, { "[1 2]", 0 }, { "[\"\\x\"]", 0 }, { "[\"\\u12\"]", 0 },
		{ "[\"\\u12g4\"]", 0 }, { "[\"a]", 0 }, { "[tru]", 0 }, { "[nul]", 0 },
		{ "[1111111111111111111111111111111111111111111111111111111111111111111.5]", 0 },
	};
	char deep[6000];
	size_t i, d;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (agree(t[i].s, t[i].n ? t[i].n : strlen(t[i].s)))
			fail_msg("the fast path took case %zu", i);
	}
	/* nesting: the fast path to JSONLOAD_MAX_DEPTH, jansson to 2048 */
	for (d = JSONLOAD_MAX_DEPTH - 1; d <= JSONLOAD_MAX_DEPTH + 1; d++) {
		memset(deep, '[', d);
		memset(deep + d, ']', d);
		assert_int_equal(agree(deep, 2 * d), d <= JSONLOAD_MAX_DEPTH);
	}
	memset(deep, '[', 2049);
	memset(deep + 2049, ']', 2049);
	assert_false(agree(deep, 4098));
	/* an escaped backslash before a 'u' is no \u escape */
	assert_true(agree_s("[\"\\\\ud800\"]"));
	assert_true(agree_s("[\"\\\\u0041\"]"));
}

/* A byte that changes how a text parses: structure, escapes, whitespace, bytes of UTF-8. */
static char
rnd_byte(void)
{
	static const char pick[] = "{}[]:,\"\\u0123456789abcdefABCDEF.eE+-tfnrl \t\r\n\f\v\x01\x7f"
	    "\x80\xbf\xc0\xc3\xed\xf0\xf4\xff";

	return testjson_rnd() % 8 == 0 ? (char)testjson_rnd() :
	    pick[testjson_rnd() % (sizeof(pick) - 1)];
}

static void
test_random(void **state)
{
	static const size_t flags[] = { JSON_COMPACT, JSON_INDENT(2), JSON_ENSURE_ASCII,
	    JSON_COMPACT | JSON_ENSURE_ASCII };
	long took = 0, tried = 0;
	int i, m;

	(void)state;
	for (i = 0; i < 20000; i++) {
		json_t *t = testjson_tree(20);
		char *s, *mut;
		size_t n, at;

		s = json_dumps(t, flags[testjson_rnd() % 4]);
		assert_non_null(s);
		n = strlen(s);
		took += agree(s, n);
		tried++;
		mut = malloc(n + 2);
		assert_non_null(mut);
		for (m = 0; m < 3; m++) {
			memcpy(mut, s, n + 1);
			at = testjson_rnd() % (n + 1);
			switch (testjson_rnd() % 3) {
			case 0:				/* replace */
				if (at < n)
					mut[at] = rnd_byte();
				agree(mut, n);
				break;
			case 1:				/* insert */
				memmove(mut + at + 1, mut + at, n - at + 1);
				mut[at] = rnd_byte();
				agree(mut, n + 1);
				break;
			default:			/* delete */
				if (at < n)
					memmove(mut + at, mut + at + 1, n - at);
				agree(mut, at < n ? n - 1 : n);
				break;
			}
		}
		free(mut);
		free(s);
		json_decref(t);
	}
	/* ASCII-only texts escape characters beyond the BMP as surrogate pairs (the fallback);
	 * most others must have taken the fast path, or the comparison tested nothing */
	if (took * 2 < tried)
		fail_msg("the fast path took only %ld of %ld valid texts", took, tried);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_fast),
		cmocka_unit_test(test_gives_up),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
