/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_opts — the option table of `mitmlab client` (tmux options-table style); opttab.c
 * parses it from the config file and the command line. What is particular to the client stays
 * here: --seed remembers that it was given, and client_opts_finish checks for a URL and derives
 * the User-Agent from the hello profile.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "client_opts.h"
#include "util.h"

/* --seed was given: random URL order. */
static int
client_opts_seed(void *base, const struct opttab_opt *o, const char *value, const char *origin,
    char **cause)
{
	(void)o, (void)value, (void)origin, (void)cause;
	((struct client_config *)base)->seed_set = 1;
	return 0;
}

#define OFF(f) offsetof(struct client_config, f)

static const struct opttab_opt client_opts_table[] = {
	{ "url", 0, OPTTAB_LIST, 0, 0, NULL, NULL, OFF(url), NULL, "URL",
	  "https://HOST[:PORT]/PATH (or http:// in clear text) to fetch (repeatable)" },
	{ "connect", 0, OPTTAB_LIST, 0, 0, NULL, NULL, OFF(connect), NULL, "HOST=IP[:PORT]",
	  "connect to IP for HOST instead of resolving (repeatable)" },
	{ "count", 0, OPTTAB_LONG, 1, 100000000, "1", NULL, OFF(count), NULL, "N",
	  "total connections" },
	{ "concurrency", 0, OPTTAB_LONG, 1, 10000, "1", NULL, OFF(concurrency), NULL, "C",
	  "connections open at once" },
	{ "rate", 0, OPTTAB_LONG, 0, 1000000, "0", NULL, OFF(rate), NULL, "R",
	  "new connections per second (0 = as fast as concurrency allows)" },
	{ "duration-ms", 0, OPTTAB_LONG, 1, 86400000, "60000", NULL, OFF(duration_ms), NULL, "T",
	  "hard bound on the whole run" },
	{ "timeout-ms", 0, OPTTAB_LONG, 1, CLIENT_TIMEOUT_MS_MAX, "10000", NULL, OFF(timeout_ms), NULL, "T",
	  "per connection: no progress for this long is a timeout" },
	{ "http", 0, OPTTAB_STR, 0, 0, "auto", "1.1 2 auto", OFF(http), NULL, "1.1|2|auto",
	  "HTTP version (auto offers ALPN h2,http/1.1)" },
	{ "ua", 0, OPTTAB_STR, 0, 0, NULL, NULL, OFF(ua), NULL, "STRING",
	  "User-Agent (default: Chrome's for browser, mitmlab-client/0.1 otherwise)" },
	{ "hello", 0, OPTTAB_STR, 0, 0, "openssl", "openssl browser", OFF(hello), NULL,
	  "openssl|browser", "ClientHello profile" },
	{ "trust", 0, OPTTAB_LIST, 0, 0, NULL, NULL, OFF(trust), NULL, "FILE",
	  "PEM bundle of trusted roots (repeatable; none = trust nothing)" },
	{ "blocklist", 0, OPTTAB_LIST, 0, 0, NULL, NULL, OFF(blocklist), NULL, "FILE",
	  "SPKI SHA-256 block-list, hex or base64 per line (repeatable)" },
	{ "pin", 0, OPTTAB_LIST, 0, 0, NULL, NULL, OFF(pin), NULL, "HOST=sha256/BASE64",
	  "the verified chain must contain this SPKI, as HPKP did (repeatable; wrapped curl pins "
	  "the leaf only, s_client the certificates sent)" },
	{ "tls-max", 0, OPTTAB_STR, 0, 0, NULL, "1.2 1.3", OFF(tls_max), NULL, "1.2|1.3",
	  "highest TLS version offered" },
	{ "bus", 0, OPTTAB_STR, 0, 0, NULL, NULL, OFF(bus), NULL, "ENDPOINT",
	  "publish events to this bus forwarder input" },
	{ "id", 0, OPTTAB_STR, 0, 0, "client", NULL, OFF(id), NULL, "NAME",
	  "component id (\"src\" of the events)" },
	{ "seed", 0, OPTTAB_LONG, 0, 0x7fffffffffffffffLL, NULL, NULL, OFF(seed),
	  client_opts_seed, "N", "random URL order from this seed (default round-robin)" },
	{ "keylog", 0, OPTTAB_STR, 0, 0, NULL, NULL, OFF(keylog), NULL, "FILE",
	  "append TLS secrets in SSLKEYLOGFILE format" },
	{ "summary", 0, OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(summary), NULL, NULL,
	  "print the client.summary JSON on stdout at the end" },
	{ "results", 0, OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(results), NULL, NULL,
	  "print every client.result JSON line on stdout" },
	{ "verbose", 0, OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(verbose), NULL, NULL,
	  "log each connection's outcome and debug messages" },
	/* Not listed: -c is in the synopsis, -v is short for --verbose. */
	{ "config", 'c', OPTTAB_CONF, 0, 0, NULL, NULL, 0, NULL, "FILE", NULL },
	{ "verbose", 'v', OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(verbose), NULL, NULL, NULL },
	{ "help", 'h', OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(help), NULL, NULL, NULL },
};

static const struct opttab client_opts_tab = OPTTAB(client_opts_table, "mitmlab client",
    " [-c FILE] --url URL [options]\n"
    "  -c FILE                            read options from FILE (\"name value\" lines)\n", "");

/* Defaults. */
void
client_opts_init(struct client_config *cfg)
{
	opttab_init(&client_opts_tab, cfg, sizeof(*cfg));
}

/* Set one option. */
int
client_opts_set(struct client_config *cfg, const char *name, const char *value, char **cause)
{
	return opttab_set(&client_opts_tab, cfg, name, value, NULL, cause);
}

/* Parse a config file. */
int
client_opts_file(struct client_config *cfg, const char *path, char **cause)
{
	return opttab_file(&client_opts_tab, cfg, path, cause);
}

/* Usage text. */
void
client_opts_usage(FILE *f)
{
	opttab_usage(&client_opts_tab, f, "mitmlab client");
}

/* Parse the command line; --help prints the usage. */
int
client_opts_argv(struct client_config *cfg, int argc, char **argv, char **cause)
{
	if (opttab_argv(&client_opts_tab, cfg, argc, argv, cause) == -1)
		return -1;
	if (cfg->help)
		client_opts_usage(stdout);
	return cfg->help ? 1 : 0;
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

/* Free the configuration. */
void
client_opts_free(struct client_config *cfg)
{
	opttab_free(&client_opts_tab, cfg);
	memset(cfg, 0, sizeof(*cfg));
}
