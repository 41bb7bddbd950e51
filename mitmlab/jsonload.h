/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jsonload — json_loadb(buf, len, JSON_REJECT_DUPLICATES, err) for the bus's messages, the
 * same tree or the same error, at a fraction of the cost.
 *
 * Why: every process on the bus parses every event it reads (the forwarder and recorder all
 * of them, each analyzer its topics), and on this project's 2-core rig they share a core with
 * the load generator, so their parsing is what the throughput of a run with analyzers attached
 * loses (bench rows anfeed and pubpair). jansson 2.14's parser reads one byte at a time
 * through a stream with a UTF-8 decode and a buffer append per byte: about 14 µs for a
 * 1.6 KB proxy.forge with two certificate PEMs on this machine, against about 4 µs for yajl's
 * lexer (Debian's libyajl2) feeding the same jansson tree.
 *
 * jsonload_fast builds the jansson tree from yajl's callbacks and gives up (NULL) on anything
 * where the two parsers could read the input differently: the form feed and vertical tab,
 * which yajl takes for whitespace and jansson does not; any \u escape of a surrogate (yajl
 * turns a lone high one into '?', a lone low one into its 3-byte form, and joins a high one
 * with whatever \u escape follows, "\ud800\u0041" into U+10041; jansson refuses all three); a
 * NUL in a string or key; a string or key that is not UTF-8 (jansson's own check, json_stringn
 * and json_object_setn); a duplicate key; a top level that is not an object or array; text
 * after it other than whitespace (yajl keeps an unterminated string there as a token it has
 * not finished, so the text must end with the top level's closing bracket); a number that is
 * out of range or does not convert exactly as jansson's would; nesting deeper than
 * JSONLOAD_MAX_DEPTH; and any input yajl refuses. jsonload then runs json_loadb itself, so its
 * result and error are always jansson's. tests/unit/test_jsonload.c and the fuzz_jsonload
 * harness compare the two parsers on every input they try.
 */
#ifndef MITMLAB_JSONLOAD_H
#define MITMLAB_JSONLOAD_H

#include <stddef.h>

#include <jansson.h>

#define JSONLOAD_MAX_DEPTH 32

/* json_loadb(buf, len, JSON_REJECT_DUPLICATES, err): a new reference or NULL with *err. */
json_t *jsonload(const void *buf, size_t len, json_error_t *err);
/* The fast path alone: the tree json_loadb would give, or NULL when it gives up (above). */
json_t *jsonload_fast(const void *buf, size_t len);

#endif
