/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_opts — option table and parser for `mitmlab client` (tmux options-table style).
 * Both the config file and getopt_long go through client_opts_set, so bounds and choices are
 * checked in one place and a config-file mistake is reported as file:line.
 */
#include <ctype.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "client_opts.h"
#include "util.h"

enum client_opt_type { CLIENT_OPT_STR, CLIENT_OPT_INT, CLIENT_OPT_LIST, CLIENT_OPT_FLAG };

static const struct client_opt {
	const char *name;
	enum client_opt_type type;
	size_t	off;
	long long min, max;
	const char *def;
	const char *choices;		/* space-separated, for strings with a fixed set */
	const char *arg;
	const char *help;
} client_opts_table[] = {
	{ "url", CLIENT_OPT_LIST, offsetof(struct client_config, url), 0, 0, NULL, NULL,
	  "URL", "https://HOST[:PORT]/PATH to fetch (repeatable)" },
	{ "connect", CLIENT_OPT_LIST, offsetof(struct client_config, connect), 0, 0, NULL, NULL,
	  "HOST=IP[:PORT]", "connect to IP for HOST instead of resolving (repeatable)" },
	{ "count", CLIENT_OPT_INT, offsetof(struct client_config, count), 1, 100000000, "1", NULL,
	  "N", "total connections" },
	{ "concurrency", CLIENT_OPT_INT, offsetof(struct client_config, concurrency), 1, 10000,
	  "1", NULL, "C", "connections open at once" },
	{ "rate", CLIENT_OPT_INT, offsetof(struct client_config, rate), 0, 1000000, "0", NULL,
	  "R", "new connections per second (0 = as fast as concurrency allows)" },
	{ "duration-ms", CLIENT_OPT_INT, offsetof(struct client_config, duration_ms), 1,
	  86400000, "60000", NULL, "T", "hard bound on the whole run" },
	{ "timeout-ms", CLIENT_OPT_INT, offsetof(struct client_config, timeout_ms), 1, 3600000,
	  "10000", NULL, "T", "per connection: no progress for this long is a timeout" },
	{ "http", CLIENT_OPT_STR, offsetof(struct client_config, http), 0, 0, "auto",
	  "1.1 2 auto", "1.1|2|auto", "HTTP version (auto offers ALPN h2,http/1.1)" },
	{ "ua", CLIENT_OPT_STR, offsetof(struct client_config, ua), 0, 0, NULL, NULL,
	  "STRING", "User-Agent (default: Chrome's for browser, mitmlab-client/0.1 otherwise)" },
	{ "hello", CLIENT_OPT_STR, offsetof(struct client_config, hello), 0, 0, "openssl",
	  "openssl browser", "openssl|browser", "ClientHello profile" },
	{ "trust", CLIENT_OPT_LIST, offsetof(struct client_config, trust), 0, 0, NULL, NULL,
	  "FILE", "PEM bundle of trusted roots (repeatable; none = trust nothing)" },
	{ "blocklist", CLIENT_OPT_LIST, offsetof(struct client_config, blocklist), 0, 0, NULL,
	  NULL, "FILE", "SPKI SHA-256 block-list, hex or base64 per line (repeatable)" },
	{ "pin", CLIENT_OPT_LIST, offsetof(struct client_config, pin), 0, 0, NULL, NULL,
	  "HOST=sha256/BASE64", "the chain must contain this SPKI (repeatable)" },
	{ "tls-max", CLIENT_OPT_STR, offsetof(struct client_config, tls_max), 0, 0, NULL,
	  "1.2 1.3", "1.2|1.3", "highest TLS version offered" },
	{ "bus", CLIENT_OPT_STR, offsetof(struct client_config, bus), 0, 0, NULL, NULL,
	  "ENDPOINT", "publish events to this bus forwarder input" },
	{ "id", CLIENT_OPT_STR, offsetof(struct client_config, id), 0, 0, "client", NULL,
	  "NAME", "component id (\"src\" of the events)" },
	{ "seed", CLIENT_OPT_INT, offsetof(struct client_config, seed), 0, 0x7fffffffffffffffLL,
	  NULL, NULL, "N", "random URL order from this seed (default round-robin)" },
	{ "keylog", CLIENT_OPT_STR, offsetof(struct client_config, keylog), 0, 0, NULL, NULL,
	  "FILE", "append TLS secrets in SSLKEYLOGFILE format" },
	{ "summary", CLIENT_OPT_FLAG, offsetof(struct client_config, summary), 0, 0, NULL, NULL,
	  NULL, "print the client.summary JSON on stdout at the end" },
	{ "results", CLIENT_OPT_FLAG, offsetof(struct client_config, results), 0, 0, NULL, NULL,
	  NULL, "print every client.result JSON line on stdout" },
	{ "verbose", CLIENT_OPT_FLAG, offsetof(struct client_config, verbose), 0, 0, NULL, NULL,
	  NULL, "log each connection's outcome and debug messages" },
};

#define CLIENT_NOPTS (sizeof(client_opts_table) / sizeof(client_opts_table[0]))

/* Find a table entry. */
static const struct client_opt *
client_opts_find(const char *name)
{
	size_t i;

	for (i = 0; i < CLIENT_NOPTS; i++)
		if (strcmp(client_opts_table[i].name, name) == 0)
			return &client_opts_table[i];
	return NULL;
}

/* Is value one of the space-separated choices? */
static int
client_opts_choice(const char *choices, const char *value)
{
	size_t l = strlen(value);
	const char *p = choices;

	while ((p = strstr(p, value)) != NULL) {
		if ((p == choices || p[-1] == ' ') && (p[l] == '\0' || p[l] == ' '))
			return 1;
		p += l;
	}
	return 0;
}

/* Set one option. */
int
client_opts_set(struct client_config *cfg, const char *name, const char *value, char **cause)
{
	const struct client_opt *o = client_opts_find(name);
	char *base = (char *)cfg, *c2 = NULL, *dup;

	if (o == NULL)
		return util_cause(cause, "unknown option \"%s\"", name);
	if (o->type != CLIENT_OPT_FLAG && value == NULL)
		return util_cause(cause, "option \"%s\" needs a value (%s)", name, o->arg);
	switch (o->type) {
	case CLIENT_OPT_FLAG:
		if (value != NULL && strcmp(value, "yes") != 0 && strcmp(value, "1") != 0 &&
		    strcmp(value, "no") != 0 && strcmp(value, "0") != 0)
			return util_cause(cause, "option \"%s\": \"%s\" is not yes/no", name, value);
		*(int *)(void *)(base + o->off) = value == NULL || strcmp(value, "yes") == 0 ||
		    strcmp(value, "1") == 0;
		return 0;
	case CLIENT_OPT_INT:
		if (util_parse_ll(value, o->min, o->max, (long long *)(void *)(base + o->off),
		    &c2) == -1) {
			util_cause(cause, "option \"%s\": %s", name, c2);
			free(c2);
			return -1;
		}
		if (strcmp(name, "seed") == 0)
			cfg->seed_set = 1;
		return 0;
	case CLIENT_OPT_STR:
		if (o->choices != NULL && !client_opts_choice(o->choices, value))
			return util_cause(cause, "option \"%s\": unknown value \"%s\" (known: %s)",
			    name, value, o->choices);
		if ((dup = strdup(value)) == NULL)
			return util_cause(cause, "out of memory");
		free(*(char **)(void *)(base + o->off));
		*(char **)(void *)(base + o->off) = dup;
		return 0;
	case CLIENT_OPT_LIST: {
		struct client_list *l = (struct client_list *)(void *)(base + o->off);
		char **nv = realloc(l->v, (l->n + 1) * sizeof(*l->v));

		if (nv == NULL || (dup = strdup(value)) == NULL) {
			if (nv != NULL)
				l->v = nv;
			return util_cause(cause, "out of memory");
		}
		l->v = nv;
		l->v[l->n++] = dup;
		return 0;
	}
	}
	return util_cause(cause, "option \"%s\": bad type", name);
}

/* Defaults. */
void
client_opts_init(struct client_config *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < CLIENT_NOPTS; i++)
		if (client_opts_table[i].def != NULL)
			(void)client_opts_set(cfg, client_opts_table[i].name,
			    client_opts_table[i].def, NULL);
}

/* Parse a config file. */
int
client_opts_file(struct client_config *cfg, const char *path, char **cause)
{
	char *text, *p, *line;
	unsigned lineno = 0;
	char *c2 = NULL;
	int rc = 0;

	if ((text = util_read_file(path, NULL, cause)) == NULL)
		return -1;
	p = text;
	while (rc == 0 && p != NULL && *p != '\0') {
		char *nl = strchr(p, '\n'), *name, *value, *e, *h;

		lineno++;
		if (nl != NULL)
			*nl = '\0';
		line = p;
		p = nl != NULL ? nl + 1 : NULL;
		if ((h = strchr(line, '#')) != NULL)
			*h = '\0';
		for (name = line; isspace((unsigned char)*name); name++)
			;
		for (e = name + strlen(name); e > name && isspace((unsigned char)e[-1]); e--)
			e[-1] = '\0';
		if (*name == '\0')
			continue;
		for (value = name; *value != '\0' && !isspace((unsigned char)*value) &&
		    *value != '='; value++)
			;
		if (*value != '\0') {
			*value++ = '\0';
			while (isspace((unsigned char)*value) || *value == '=')
				value++;
		}
		if (client_opts_set(cfg, name, *value != '\0' ? value : NULL, &c2) == -1) {
			util_cause(cause, "%s:%u: %s", path, lineno, c2);
			free(c2);
			rc = -1;
		}
	}
	free(text);
	return rc;
}

/* Usage text. */
void
client_opts_usage(FILE *f)
{
	size_t i;
	char left[64];

	fprintf(f, "usage: mitmlab client [-c FILE] --url URL [options]\n");
	fprintf(f, "  %-34s %s\n", "-c FILE", "read options from FILE (\"name value\" lines)");
	for (i = 0; i < CLIENT_NOPTS; i++) {
		const struct client_opt *o = &client_opts_table[i];
		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
		    o->arg ? o->arg : "");
		fprintf(f, "  %-34s %s%s%s%s\n", left, o->help, o->def ? " [" : "",
		    o->def ? o->def : "", o->def ? "]" : "");
	}
}

/* Parse the command line. */
int
client_opts_argv(struct client_config *cfg, int argc, char **argv, char **cause)
{
	struct option longopts[CLIENT_NOPTS + 3];
	size_t i;
	int ch, idx;
	char *c2 = NULL;

	for (i = 0; i < CLIENT_NOPTS; i++) {
		longopts[i].name = client_opts_table[i].name;
		longopts[i].has_arg = client_opts_table[i].type == CLIENT_OPT_FLAG ?
		    no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 0;
	}
	longopts[i++] = (struct option){ "config", required_argument, NULL, 'c' };
	longopts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[i] = (struct option){ NULL, 0, NULL, 0 };
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:hv", longopts, &idx)) != -1) {
		switch (ch) {
		case 0:
			if (client_opts_set(cfg, longopts[idx].name, optarg, &c2) == -1) {
				util_cause(cause, "--%s: %s", longopts[idx].name, c2);
				free(c2);
				return -1;
			}
			break;
		case 'c':
			if (client_opts_file(cfg, optarg, cause) == -1)
				return -1;
			break;
		case 'v':
			cfg->verbose = 1;
			break;
		case 'h':
			client_opts_usage(stdout);
			return 1;
		case ':':
			return util_cause(cause, "%s needs a value", argv[optind - 1]);
		default:
			return util_cause(cause, "unknown option \"%s\" (see --help)",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return util_cause(cause, "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

/* Validate and derive. */
int
client_opts_finish(struct client_config *cfg, char **cause)
{
	if (cfg->url.n == 0)
		return util_cause(cause, "no --url given (e.g. --url https://example.lab/)");
	if (cfg->ua == NULL && (cfg->ua = strdup(strcmp(cfg->hello, "browser") == 0 ?
	    CLIENT_UA_BROWSER : CLIENT_UA_OPENSSL)) == NULL)
		return util_cause(cause, "out of memory");
	return 0;
}

/* Free a list. */
static void
client_opts_list_free(struct client_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Free the configuration. */
void
client_opts_free(struct client_config *cfg)
{
	client_opts_list_free(&cfg->url);
	client_opts_list_free(&cfg->connect);
	client_opts_list_free(&cfg->trust);
	client_opts_list_free(&cfg->blocklist);
	client_opts_list_free(&cfg->pin);
	free(cfg->http);
	free(cfg->ua);
	free(cfg->hello);
	free(cfg->tls_max);
	free(cfg->bus);
	free(cfg->id);
	free(cfg->keylog);
	memset(cfg, 0, sizeof(*cfg));
}
