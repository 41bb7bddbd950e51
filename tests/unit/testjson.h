/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testjson — random jansson trees for the unit tests that compare a JSON writer or parser of
 * ours with jansson's own (test_jsonout, test_jsonload). Deterministic: a xorshift generator
 * with a fixed seed. Strings are pieces of ASCII text with every character JSON escapes
 * (quote, backslash, slash, newline, tab, control bytes, DEL) and, at rare_pct percent per
 * piece, a non-ASCII character of two, three or four bytes; numbers are integers (random and
 * the int64 edges) and, at rare_pct percent, reals (fractions, tiny and huge); containers
 * nest at most five deep. Not a test program: it is linked into every unit test. Also
 * testjson_same_error, which the fuzz harnesses may use too (inline: nothing to link).
 */
#ifndef MITMLAB_TESTJSON_H
#define MITMLAB_TESTJSON_H

#include <stdint.h>
#include <string.h>

#include <jansson.h>

/* The next pseudo-random number. */
uint64_t testjson_rnd(void);
/* A random object or array (a new reference) holding one random value. */
json_t *testjson_tree(unsigned rare_pct);

/* Do two json_error_t say the same: text, source, position, line and column? */
static inline int
testjson_same_error(const json_error_t *a, const json_error_t *b)
{
	return strcmp(a->text, b->text) == 0 && strcmp(a->source, b->source) == 0 &&
	    a->position == b->position && a->line == b->line && a->column == b->column;
}

#endif
