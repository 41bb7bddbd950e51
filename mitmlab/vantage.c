/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vantage — the table from vantage names to topic prefixes and the prefix test the harness
 * and the analyzer SDK apply to every event. Prefixes end with '.', so "client." never matches
 * a topic "clientx.y"; "lab.run." is always allowed, "lab.truth." only with the proxy vantage.
 */
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "vantage.h"

static const struct {
	unsigned bit;
	const char *name;
	const char *prefix[2];
} vantage_table[] = {
	{ VANTAGE_CLIENT, "client", { "client.", "probe." } },	/* probe.*: active probes from a client */
	{ VANTAGE_ORIGIN, "origin", { "origin.", NULL } },
	{ VANTAGE_NET,    "net",    { "net.", NULL } },
	{ VANTAGE_PROXY,  "proxy",  { "proxy.", "lab.truth." } },
};

#define VANTAGE_N (sizeof(vantage_table) / sizeof(vantage_table[0]))
#define VANTAGE_CONTROL "lab.run."

/* Bit of a name. */
unsigned
vantage_bit(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < VANTAGE_N; i++)
		if (strcmp(name, vantage_table[i].name) == 0)
			return vantage_table[i].bit;
	return 0;
}

/* Name of a bit. */
const char *
vantage_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < VANTAGE_N; i++)
		if (vantage_table[i].bit == bit)
			return vantage_table[i].name;
	return NULL;
}

/* "a,b,c" into a set. */
int
vantage_parse_list(const char *s, unsigned *set, char **cause)
{
	char name[32];
	const char *p = s, *e;
	unsigned b;
	size_t n;

	*set = 0;
	if (s == NULL || *s == '\0')
		return util_cause(cause, "no vantage named (known: client, origin, net, proxy)");
	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n >= sizeof(name))
			return util_cause(cause, "empty or overlong vantage name in \"%.64s\"", s);
		memcpy(name, p, n);
		name[n] = '\0';
		if ((b = vantage_bit(name)) == 0)
			return util_cause(cause, "unknown vantage \"%s\" (known: client, origin, net, "
			    "proxy)", name);
		*set |= b;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

/* Set as "a,b". */
char *
vantage_format(unsigned set, char *buf, size_t len)
{
	size_t i, used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < VANTAGE_N; i++) {
		if (!(set & vantage_table[i].bit))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
		    vantage_table[i].name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* Prefixes of a set, control first. */
int
vantage_prefixes(unsigned set, const char **out, int max)
{
	size_t i, j;
	int n = 0;

	if (n < max)
		out[n++] = VANTAGE_CONTROL;
	for (i = 0; i < VANTAGE_N; i++) {
		if (!(set & vantage_table[i].bit))
			continue;
		for (j = 0; j < 2 && vantage_table[i].prefix[j] != NULL; j++)
			if (n < max)
				out[n++] = vantage_table[i].prefix[j];
	}
	return n;
}

/* Prefix test against the set's prefixes. */
int
vantage_allows(unsigned set, const char *topic, size_t len)
{
	const char *pre[VANTAGE_MAX_PREFIXES];
	int i, n = vantage_prefixes(set, pre, VANTAGE_MAX_PREFIXES);

	for (i = 0; i < n; i++) {
		size_t pl = strlen(pre[i]);
		if (len > pl && memcmp(topic, pre[i], pl) == 0)
			return 1;
	}
	return 0;
}
