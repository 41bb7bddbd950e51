/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jsonload — see jsonload.h. yajl calls back once per token; the tree grows on a stack of
 * open containers. A key's value always comes in the next callback (a scalar, or the start of
 * the container that is its value), so one pending key is all the builder keeps.
 */
#include "jsonload.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

struct jsonload {
	json_t *root;
	json_t *open[JSONLOAD_MAX_DEPTH];	/* borrowed: each is held by its parent or root */
	int depth;
	char *key;			/* the pending key of open[depth - 1], an object */
	size_t klen, kcap;
	int has_key;
};

/* Whether s[0..len) is ASCII, which is UTF-8 without a check (jansson's checks each byte
 * through a function call: a tenth of an analyzer's time on a proxy.forge's PEMs). */
static int
jsonload_ascii(const unsigned char *s, size_t len)
{
	uint64_t w, acc = 0;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < len; i++)
		acc |= s[i];
	return (acc & 0x8080808080808080ull) == 0;
}

/* Attach v (a new reference, may be NULL) where the parse stands; 0 gives up. */
static int
jsonload_add(struct jsonload *j, json_t *v)
{
	json_t *parent;

	if (v == NULL)
		return 0;
	if (j->depth == 0) {		/* the top level: one object or array */
		if (j->root != NULL || !(json_is_object(v) || json_is_array(v))) {
			json_decref(v);
			return 0;
		}
		j->root = v;
		return 1;
	}
	parent = j->open[j->depth - 1];
	if (json_is_array(parent))
		return json_array_append_new(parent, v) == 0;
	if (!j->has_key) {
		json_decref(v);
		return 0;
	}
	j->has_key = 0;
	/* json_object_setn_new checks that the key is UTF-8 (and takes v even when it fails) */
	if (jsonload_ascii((const unsigned char *)j->key, j->klen))
		return json_object_setn_new_nocheck(parent, j->key, j->klen, v) == 0;
	return json_object_setn_new(parent, j->key, j->klen, v) == 0;
}

/* Open a container as the value where the parse stands. */
static int
jsonload_open(struct jsonload *j, json_t *c)
{
	if (c == NULL || j->depth >= JSONLOAD_MAX_DEPTH) {
		json_decref(c);
		return 0;
	}
	json_incref(c);			/* kept alive until it is on the stack */
	if (!jsonload_add(j, c)) {
		json_decref(c);
		return 0;
	}
	j->open[j->depth++] = c;
	json_decref(c);			/* its parent (or root) holds it now */
	return 1;
}

static int
jsonload_null(void *ctx)
{
	return jsonload_add(ctx, json_null());
}

static int
jsonload_bool(void *ctx, int b)
{
	return jsonload_add(ctx, json_boolean(b));
}

/* Whether s[0..len) is exactly one number of jansson's grammar, -?(0|[1-9]d*)(.d+)?
 * ([eE][+-]?d+)? (yajl's lexer has the same, but the fast path does not rely on that); *real
 * says whether it has a fraction or an exponent (jansson makes those reals, others integers). */
static int
jsonload_number_ok(const char *s, size_t len, int *real)
{
	size_t i = 0;

	*real = 0;
	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < len && s[i] == '.') {
		*real = 1;
		if (++i >= len || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		*real = 1;
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

/* A number as yajl found it: an integer (jansson: strtoll, refused out of range) or a real
 * (strtod, refused when it overflows); anything longer than the buffer goes to jansson. */
static int
jsonload_number(void *ctx, const char *s, size_t len)
{
	char buf[64], *end;
	int real;

	if (len >= sizeof(buf) || !jsonload_number_ok(s, len, &real))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	if (!real) {
		long long v = strtoll(buf, &end, 10);

		if (errno == ERANGE || end != buf + len)
			return 0;
		return jsonload_add(ctx, json_integer((json_int_t)v));
	} else {
		double d = strtod(buf, &end);

		/* a locale whose decimal point is not '.' stops strtod early: jansson's then */
		if (end != buf + len || (errno == ERANGE && isinf(d)))
			return 0;
		return jsonload_add(ctx, json_real(d));
	}
}

static int
jsonload_string(void *ctx, const unsigned char *s, size_t len)
{
	if (memchr(s, '\0', len) != NULL)	/* \u0000: jansson refuses it without ALLOW_NUL */
		return 0;
	/* json_stringn: NULL unless UTF-8 */
	return jsonload_add(ctx, jsonload_ascii(s, len) ?
	    json_stringn_nocheck((const char *)s, len) : json_stringn((const char *)s, len));
}

static int
jsonload_key(void *ctx, const unsigned char *s, size_t len)
{
	struct jsonload *j = ctx;
	char *k;

	if (j->has_key || memchr(s, '\0', len) != NULL ||
	    json_object_getn(j->open[j->depth - 1], (const char *)s, len) != NULL)
		return 0;		/* a duplicate: JSON_REJECT_DUPLICATES */
	if (len >= j->kcap) {
		if ((k = realloc(j->key, len + 64)) == NULL)
			return 0;
		j->key = k;
		j->kcap = len + 64;
	}
	memcpy(j->key, s, len);
	j->key[len] = '\0';
	j->klen = len;
	j->has_key = 1;
	return 1;
}

static int
jsonload_start_map(void *ctx)
{
	return jsonload_open(ctx, json_object());
}

static int
jsonload_start_array(void *ctx)
{
	return jsonload_open(ctx, json_array());
}

static int
jsonload_end(void *ctx)
{
	struct jsonload *j = ctx;

	if (j->depth == 0 || j->has_key)
		return 0;
	j->depth--;
	return 1;
}

static const yajl_callbacks jsonload_callbacks = {
	.yajl_null = jsonload_null,
	.yajl_boolean = jsonload_bool,
	.yajl_number = jsonload_number,		/* the raw text: integer and double are unused */
	.yajl_string = jsonload_string,
	.yajl_start_map = jsonload_start_map,
	.yajl_map_key = jsonload_key,
	.yajl_end_map = jsonload_end,
	.yajl_start_array = jsonload_start_array,
	.yajl_end_array = jsonload_end,
};

/* Whether buf holds something yajl and jansson may read differently before any token is
 * built: a form feed or vertical tab (whitespace to yajl, not to jansson), or a \u escape of
 * a surrogate (\uD800-\uDFFF). Backslashes pair up as escapes in valid JSON, so "\\\\u" is no \u
 * escape; in invalid JSON a misread only costs the fallback. */
static int
jsonload_differs(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	if (memchr(buf, '\f', len) != NULL || memchr(buf, '\v', len) != NULL)
		return 1;
	while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		if (end - p >= 4 && p[1] == 'u' && (p[2] == 'd' || p[2] == 'D') &&
		    strchr("89abcdefABCDEF", p[3]) != NULL && p[3] != '\0')
			return 1;
		p += 2;			/* past the escaped character: "\\\\u" is no escape of a 'u' */
		if (p >= end)
			break;
	}
	return 0;
}

/* Whether the top-level value is complete: it opened, and every container closed again. */
static int
jsonload_done(const struct jsonload *j)
{
	return j->root != NULL && j->depth == 0;
}

json_t *
jsonload_fast(const void *buf, size_t len)
{
	const char *s = buf;
	struct jsonload j;
	yajl_handle h;
	int ok;

	if (s == NULL || jsonload_differs(s, len))
		return NULL;
	/* yajl quietly keeps an unterminated string after the top-level value ("[1]\"]") as a
	 * token it has not finished. So the text, trailing whitespace aside, must end with the
	 * bracket that closes the top level: all but that byte leaves it open, and that byte
	 * (a token of its own, which yajl acts on at once) closes it. */
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
	    s[len - 1] == '\r'))
		len--;
	if (len < 2 || (s[len - 1] != '}' && s[len - 1] != ']'))
		return NULL;
	memset(&j, 0, sizeof(j));
	if ((h = yajl_alloc(&jsonload_callbacks, NULL, &j)) == NULL)
		return NULL;
	/* strings are checked by jansson's own UTF-8 test (json_stringn, json_object_setn) */
	yajl_config(h, yajl_dont_validate_strings, 1);
	ok = yajl_parse(h, buf, len - 1) == yajl_status_ok && !jsonload_done(&j) &&
	    yajl_parse(h, (const unsigned char *)s + len - 1, 1) == yajl_status_ok &&
	    jsonload_done(&j) && yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	free(j.key);
	if (!ok) {
		json_decref(j.root);
		return NULL;
	}
	return j.root;
}

json_t *
jsonload(const void *buf, size_t len, json_error_t *err)
{
	json_t *v = jsonload_fast(buf, len);

	if (v != NULL) {
		if (err != NULL) {	/* as json_loadb leaves it on success */
			memset(err, 0, sizeof(*err));
			err->line = err->column = -1;
			err->position = (int)len;	/* the bytes it read: all */
			strcpy(err->source, "<buffer>");
		}
		return v;
	}
	return json_loadb(buf, len, JSON_REJECT_DUPLICATES, err);
}
