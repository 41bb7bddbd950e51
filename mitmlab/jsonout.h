/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jsonout — json_dumpb(json, buf, size, JSON_COMPACT) for the events the engine publishes on
 * every connection, byte for byte the same output and the same return contract, at a fraction
 * of the cost.
 *
 * Why: under cachegrind (bench row pubinstr) jansson 2.14's dump was about half of what
 * publishing adds to an intercepted connection, about 34,000 instructions per event. Each
 * call builds and frees a hash table, formats every object's and array's address with
 * snprintf("%p") into it to detect reference cycles, decodes each string one UTF-8 code point
 * at a time and hands every piece to a callback. The engine's events are trees it has just
 * built (no cycles) of ASCII strings, integers, booleans, null, objects and arrays, which
 * this writes directly.
 *
 * Anything else falls back to json_dumpb itself for the whole value, so the bytes never
 * differ: a string or key with a byte >= 0x80 (jansson validates UTF-8 there and fails on
 * invalid text), a real (jansson's own formatting and precision), nesting deeper than
 * JSONOUT_MAX_DEPTH (where a cycle would be), or a top level that is not an object or array
 * (which json_dumpb refuses without JSON_ENCODE_ANY). Keys go out in the object's iteration
 * order, as json_dumpb's without JSON_SORT_KEYS.
 *
 * jsonout_text makes a JSON string of bytes a peer chose (an SNI, an ALPN name), which
 * json_string would refuse (NULL) when they are not UTF-8, so that an event never loses the key.
 */
#ifndef MITMLAB_JSONOUT_H
#define MITMLAB_JSONOUT_H

#include <stddef.h>

#include <jansson.h>

#define JSONOUT_MAX_DEPTH 32

/*
 * Compact JSON text of json (no terminating NUL) into buf. Returns its length, which may be
 * more than size: then buf holds an unspecified prefix and the caller retries with a buffer of
 * the returned length. 0 when json cannot be written (as json_dumpb: NULL, not an object or
 * array, invalid UTF-8, a reference cycle).
 */
size_t jsonout_compact(const json_t *json, char *buf, size_t size);
/*
 * A JSON string of the bytes s[0..len): the text itself when it is UTF-8; otherwise the UTF-8
 * sequences in it kept and each other byte written as the four characters \xHH (lower-case
 * hex). *utf8 (if not NULL) says which. NULL only when out of memory.
 */
json_t *jsonout_text(const char *s, size_t len, int *utf8);
/* Lower-case hex of s[0..len) as a JSON string; NULL when out of memory. */
json_t *jsonout_hex(const char *s, size_t len);

#endif
