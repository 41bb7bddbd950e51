/* SPDX-License-Identifier: BSD-2-Clause */
/* testjson — see testjson.h. */
#include "testjson.h"

#include <string.h>

static uint64_t testjson_state = 0x9e3779b97f4a7c15ull;

uint64_t
testjson_rnd(void)
{
	testjson_state ^= testjson_state >> 12;
	testjson_state ^= testjson_state << 25;
	testjson_state ^= testjson_state >> 27;
	return testjson_state * 0x2545f4914f6cdd1dull;
}

/* Up to 11 pieces: ASCII (escapes and control bytes included), now and then UTF-8. */
static json_t *
testjson_string(unsigned rare_pct)
{
	static const char *const ascii[] = { "a", "Z", "0", ".", "-", " ", "\"", "\\", "/", "\n",
	    "\t", "\x01", "\x1f", "\x7f", "u" };
	static const char *const utf8[] = { "\xc3\xa9", "\xc3\xbc", "\xe2\x82\xac",
	    "\xef\xbf\xbf", "\xf0\x9f\x94\x92" };
	char s[64];
	size_t n = testjson_rnd() % 12, i, len = 0;

	for (i = 0; i < n; i++) {
		const char *p = testjson_rnd() % 100 < rare_pct ?
		    utf8[testjson_rnd() % (sizeof(utf8) / sizeof(utf8[0]))] :
		    ascii[testjson_rnd() % (sizeof(ascii) / sizeof(ascii[0]))];

		memcpy(s + len, p, strlen(p));
		len += strlen(p);
	}
	return json_stringn(s, len);
}

static json_t *
testjson_value(int depth, unsigned rare_pct)
{
	static const json_int_t edge[] = { 0, -1, 1, 9223372036854775807LL,
	    -9223372036854775807LL - 1, 4294967296LL };
	json_t *v;
	size_t i, n;

	switch (testjson_rnd() % (depth < 5 ? 9 : 7)) {
	case 0: return json_null();
	case 1: return testjson_rnd() % 2 ? json_true() : json_false();
	case 2: return json_integer((json_int_t)testjson_rnd());
	case 3: return json_integer(edge[testjson_rnd() % (sizeof(edge) / sizeof(edge[0]))]);
	case 4: return json_integer((json_int_t)(testjson_rnd() % 2000) - 1000);
	case 5:
		if (testjson_rnd() % 100 >= rare_pct)
			return testjson_string(rare_pct);
		switch (testjson_rnd() % 3) {
		case 0: return json_real((double)(int64_t)testjson_rnd() /
		    (double)(1 + testjson_rnd() % 100000));
		case 1: return json_real(1e-300 * (double)(testjson_rnd() % 1000));
		default: return json_real(1e300);
		}
	case 6: return testjson_string(rare_pct);
	case 7:
		v = json_array();
		for (i = 0, n = testjson_rnd() % 5; i < n; i++)
			json_array_append_new(v, testjson_value(depth + 1, rare_pct));
		return v;
	default:
		v = json_object();
		for (i = 0, n = testjson_rnd() % 6; i < n; i++) {
			json_t *k = testjson_string(rare_pct);

			json_object_setn_new(v, json_string_value(k), json_string_length(k),
			    testjson_value(depth + 1, rare_pct));
			json_decref(k);
		}
		return v;
	}
}

json_t *
testjson_tree(unsigned rare_pct)
{
	json_t *t = testjson_rnd() % 2 ? json_object() : json_array();
	json_t *v = testjson_value(0, rare_pct);

	if (json_is_object(t))
		json_object_set_new(t, "k", v);
	else
		json_array_append_new(t, v);
	return t;
}
