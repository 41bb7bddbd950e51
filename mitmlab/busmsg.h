/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * busmsg — validation of one event-bus message received from the network (DESIGN.md
 * "Contracts"). Bus messages are untrusted input: the forwarder, the tail utility and analyzers
 * run every [topic, json] pair through busmsg_parse before they record or act on it. A valid
 * message has a dotted topic ([A-Za-z0-9_-] segments joined by '.', at most BUSMSG_MAX_TOPIC
 * bytes), a body of at most BUSMSG_MAX_BODY bytes that is exactly one JSON object without
 * duplicate keys, and in that object "v" (integer 1..BUS_SCHEMA_VERSION), "t" (string equal to
 * the topic), "ts" (integer > 0), "src" (1..BUSMSG_MAX_SRC printable ASCII bytes, no space) and
 * "seq" (integer >= 0). Pure functions: no sockets, no logging, no global state.
 */
#ifndef MITMLAB_BUSMSG_H
#define MITMLAB_BUSMSG_H

#include <stddef.h>

#include <jansson.h>

#define BUSMSG_MAX_TOPIC 128
#define BUSMSG_MAX_BODY (1024 * 1024)
#define BUSMSG_MAX_SRC 128
#define BUSMSG_ANALYZER_SRC "analyzer."	/* an analyzer's src: this and its name */

/*
 * Parse and validate one message. Returns the event object (a new reference the caller
 * decrefs) or NULL with *cause set; the cause names the event's src when it could be read.
 */
json_t *busmsg_parse(const void *topic, size_t topiclen, const void *body, size_t bodylen,
    char **cause);
/* busmsg_parse without keeping the object: 0 if valid, -1 with *cause if not. */
int busmsg_validate(const void *topic, size_t topiclen, const void *body, size_t bodylen,
    char **cause);
/* Check an already-parsed event against the contract; topic NULL skips the "t" == topic test. */
int busmsg_check(const json_t *ev, const void *topic, size_t topiclen, char **cause);
/* Non-zero when topic[0..len) is a well-formed dotted topic. */
int busmsg_topic_ok(const void *topic, size_t len);
/* Non-zero when s is a well-formed component id (src). */
int busmsg_src_ok(const char *s);

#endif
