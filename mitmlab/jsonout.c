/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jsonout — see jsonout.h. The writer counts every byte it would write and copies a piece
 * only while the whole text still fits, so the length comes back even when the buffer is too
 * small, as json_dumpb's does.
 */
#include "jsonout.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct jsonout {
	char *buf;
	size_t size;
	size_t used;
};

/* Why the fast walk gave up: the caller then runs json_dumpb on the whole value. */
#define JSONOUT_FALLBACK (-1)

static void
jsonout_put(struct jsonout *o, const char *s, size_t n)
{
	if (n > 0 && o->used + n <= o->size)
		memcpy(o->buf + o->used, s, n);
	o->used += n;
}

/* "%" JSON_INTEGER_FORMAT without printf. */
static void
jsonout_int(struct jsonout *o, json_int_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	jsonout_put(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* Per byte: 0 written as is, 1 escaped, 2 not ASCII (the fallback). */
static const unsigned char jsonout_class[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* '"' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,	/* '\\' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,	/* 0x80 .. 0xff */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/*
 * A quoted string as jansson escapes it without JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH:
 * backslash, quote, the five short control escapes, other bytes below 0x20 as \u00XX in upper
 * case. A byte >= 0x80 falls back (jansson decodes and validates it as UTF-8).
 */
static int
jsonout_str(struct jsonout *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, run;
	char esc[6];

	jsonout_put(o, "\"", 1);
	for (;;) {
		unsigned char c;
		size_t elen = 2;

		for (run = i; i < n && jsonout_class[(unsigned char)s[i]] == 0; i++)
			;
		jsonout_put(o, s + run, i - run);
		if (i == n)
			break;
		if ((c = (unsigned char)s[i++]) >= 0x80)
			return JSONOUT_FALLBACK;
		esc[0] = '\\';
		switch (c) {
		case '"':  esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			elen = 6;
			break;
		}
		jsonout_put(o, esc, elen);
	}
	jsonout_put(o, "\"", 1);
	return 0;
}

static int
jsonout_value(struct jsonout *o, const json_t *j, int depth)
{
	size_t i, n;
	void *it;

	if (j == NULL || depth > JSONOUT_MAX_DEPTH)
		return JSONOUT_FALLBACK;
	switch (json_typeof(j)) {
	case JSON_NULL:
		jsonout_put(o, "null", 4);
		return 0;
	case JSON_TRUE:
		jsonout_put(o, "true", 4);
		return 0;
	case JSON_FALSE:
		jsonout_put(o, "false", 5);
		return 0;
	case JSON_INTEGER:
		jsonout_int(o, json_integer_value(j));
		return 0;
	case JSON_STRING:
		return jsonout_str(o, json_string_value(j), json_string_length(j));
	case JSON_ARRAY:
		jsonout_put(o, "[", 1);
		for (i = 0, n = json_array_size(j); i < n; i++) {
			if (i > 0)
				jsonout_put(o, ",", 1);
			if (jsonout_value(o, json_array_get(j, i), depth + 1) == JSONOUT_FALLBACK)
				return JSONOUT_FALLBACK;
		}
		jsonout_put(o, "]", 1);
		return 0;
	case JSON_OBJECT:	/* jansson's iterator API takes a non-const object */
		jsonout_put(o, "{", 1);
		for (it = json_object_iter((json_t *)(uintptr_t)j), i = 0; it != NULL;
		    it = json_object_iter_next((json_t *)(uintptr_t)j, it), i++) {
			if (i > 0)
				jsonout_put(o, ",", 1);
			if (jsonout_str(o, json_object_iter_key(it),
			    json_object_iter_key_len(it)) == JSONOUT_FALLBACK)
				return JSONOUT_FALLBACK;
			jsonout_put(o, ":", 1);
			if (jsonout_value(o, json_object_iter_value(it), depth + 1) == JSONOUT_FALLBACK)
				return JSONOUT_FALLBACK;
		}
		jsonout_put(o, "}", 1);
		return 0;
	default:		/* JSON_REAL: jansson's formatting */
		return JSONOUT_FALLBACK;
	}
}

size_t
jsonout_compact(const json_t *json, char *buf, size_t size)
{
	struct jsonout o = { buf, size, 0 };

	if (json == NULL || (!json_is_object(json) && !json_is_array(json)))
		return 0;
	if (jsonout_value(&o, json, 0) == JSONOUT_FALLBACK)
		return json_dumpb(json, buf, size, JSON_COMPACT);
	return o.used;
}

/* Length of the well-formed UTF-8 sequence at p[0..n) (no overlongs, surrogates or code
 * points above U+10FFFF), or 0. */
static size_t
jsonout_utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* JSON string of s[0..len), invalid bytes as \xHH. */
json_t *
jsonout_text(const char *s, size_t len, int *utf8)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, k;
	char *buf;
	json_t *j;

	if ((j = json_stringn(s, len)) != NULL) {	/* NULL: not UTF-8 (or out of memory) */
		if (utf8 != NULL)
			*utf8 = 1;
		return j;
	}
	if (utf8 != NULL)
		*utf8 = 0;
	if ((buf = malloc(4 * len + 1)) == NULL)
		return NULL;
	while (i < len) {
		if ((k = jsonout_utf8_seq(p + i, len - i)) > 0) {
			memcpy(buf + o, p + i, k);
			o += k;
			i += k;
			continue;
		}
		buf[o++] = '\\';
		buf[o++] = 'x';
		buf[o++] = hex[p[i] >> 4];
		buf[o++] = hex[p[i] & 15];
		i++;
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

/* Hex of s[0..len). */
json_t *
jsonout_hex(const char *s, size_t len)
{
	char *buf;
	json_t *j;

	if ((buf = malloc(2 * len + 1)) == NULL)
		return NULL;
	j = json_stringn(util_hex((const unsigned char *)s, len, buf), 2 * len);
	free(buf);
	return j;
}
