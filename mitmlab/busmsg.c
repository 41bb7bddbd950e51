/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * busmsg — checks one [topic, json] bus message against the event contract before anything
 * records, forwards or interprets it. Parsing is jansson's (json_loadb with duplicate keys
 * rejected, through jsonload: the same tree or error, built faster from yajl's lexer); this
 * file only adds the size bounds, the topic and src syntax and the required keys and types.
 * Causes are short and printable (untrusted bytes are never copied into them unchecked), so the
 * forwarder can log them as they are.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "busmsg.h"
#include "jsonload.h"
#include "util.h"

/* One topic byte: letter, digit, '_' or '-'. */
static int
busmsg_topic_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-';
}

/* Dotted topic: non-empty segments of topic characters separated by single dots. */
int
busmsg_topic_ok(const void *topic, size_t len)
{
	const unsigned char *p = topic;
	size_t i;
	int seg = 0;

	if (topic == NULL || len == 0 || len > BUSMSG_MAX_TOPIC)
		return 0;
	for (i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (seg == 0)
				return 0;
			seg = 0;
		} else if (busmsg_topic_char(p[i]))
			seg++;
		else
			return 0;
	}
	return seg > 0;
}

/* Component id: 1..BUSMSG_MAX_SRC printable ASCII bytes without spaces or quotes. */
int
busmsg_src_ok(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= BUSMSG_MAX_SRC)
			return 0;
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
			return 0;
	}
	return 1;
}

/* Integer member key of ev within [min, max]; -1 with a cause naming the key otherwise. */
static int
busmsg_int(const json_t *ev, const char *key, json_int_t min, json_int_t max, const char *who,
    char **cause)
{
	const json_t *v = json_object_get(ev, key);

	if (v == NULL)
		return util_cause(cause, "%smissing required key \"%s\"", who, key);
	if (!json_is_integer(v))
		return util_cause(cause, "%s\"%s\" is not an integer", who, key);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return util_cause(cause, "%s\"%s\" out of range (%lld not in %lld..%lld)", who, key,
		    (long long)json_integer_value(v), (long long)min, (long long)max);
	return 0;
}

/* Contract check of a parsed event. */
int
busmsg_check(const json_t *ev, const void *topic, size_t topiclen, char **cause)
{
	const json_t *t, *src;
	const char *s;
	char who[BUSMSG_MAX_SRC + 16];

	if (!json_is_object(ev))
		return util_cause(cause, "event is not a JSON object");
	src = json_object_get(ev, "src");
	s = json_string_value(src);
	who[0] = '\0';
	if (s != NULL && busmsg_src_ok(s))
		snprintf(who, sizeof(who), "src \"%s\": ", s);
	if (src == NULL)
		return util_cause(cause, "missing required key \"src\"");
	if (s == NULL)
		return util_cause(cause, "\"src\" is not a string");
	if (who[0] == '\0')
		return util_cause(cause, "\"src\" is not a component id (1..%d printable bytes)",
		    BUSMSG_MAX_SRC);
	if ((t = json_object_get(ev, "t")) == NULL)
		return util_cause(cause, "%smissing required key \"t\"", who);
	if (!json_is_string(t))
		return util_cause(cause, "%s\"t\" is not a string", who);
	if (!busmsg_topic_ok(json_string_value(t), json_string_length(t)))
		return util_cause(cause, "%s\"t\" is not a dotted topic", who);
	if (topic != NULL && (json_string_length(t) != topiclen ||
	    memcmp(json_string_value(t), topic, topiclen) != 0))
		return util_cause(cause, "%stopic frame does not match \"t\" \"%s\"", who,
		    json_string_value(t));
	if (busmsg_int(ev, "v", 1, BUS_SCHEMA_VERSION, who, cause) == -1 ||
	    busmsg_int(ev, "ts", 1, LLONG_MAX, who, cause) == -1 ||
	    busmsg_int(ev, "seq", 0, LLONG_MAX, who, cause) == -1)
		return -1;
	return 0;
}

/* Replace bytes that are not printable ASCII in place (jansson quotes input tokens in errors). */
static void
busmsg_printable(char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s >= 0x7f)
			*s = '?';
}

/* Bounds, topic syntax, JSON parse, then the contract. */
json_t *
busmsg_parse(const void *topic, size_t topiclen, const void *body, size_t bodylen, char **cause)
{
	json_t *ev;
	json_error_t err;

	if (topiclen > BUSMSG_MAX_TOPIC) {
		util_cause(cause, "topic frame too long (%zu bytes, at most %d)", topiclen,
		    BUSMSG_MAX_TOPIC);
		return NULL;
	}
	if (!busmsg_topic_ok(topic, topiclen)) {
		util_cause(cause, "topic frame is not a dotted topic");
		return NULL;
	}
	if (bodylen > BUSMSG_MAX_BODY) {
		util_cause(cause, "body too long (%zu bytes, at most %d)", bodylen, BUSMSG_MAX_BODY);
		return NULL;
	}
	if (body == NULL || bodylen == 0) {
		util_cause(cause, "empty body");
		return NULL;
	}
	if ((ev = jsonload(body, bodylen, &err)) == NULL) {
		busmsg_printable(err.text);
		util_cause(cause, "body is not JSON: %.80s (byte %d)", err.text, err.position);
		return NULL;
	}
	if (busmsg_check(ev, topic, topiclen, cause) == -1) {
		json_decref(ev);
		return NULL;
	}
	return ev;
}

/* Validate without keeping the parsed object (the fuzz target). */
int
busmsg_validate(const void *topic, size_t topiclen, const void *body, size_t bodylen,
    char **cause)
{
	json_t *ev;

	if ((ev = busmsg_parse(topic, topiclen, body, bodylen, cause)) == NULL)
		return -1;
	json_decref(ev);
	return 0;
}
