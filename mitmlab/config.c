/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config — the option table of `mitmlab proxy` (tmux options-table.c style); opttab.c parses
 * it from the configuration file and the command line. What is particular to the proxy stays
 * here: the ordered rule sources with where each came from, and the names of the enum values.
 * Cross-option checks belong to the engine (proxy.c), rule syntax to policy.c.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

static opttab_fn config_add_rule;

#define OFF(f) offsetof(struct config, f)
#define RULE(fmt) OPTTAB_CUSTOM, 0, 0, NULL, fmt, 0, config_add_rule

static const struct opttab_opt config_opts[] = {
	{ "config", 'c', OPTTAB_CONF, 0, 0, NULL, NULL, 0, NULL, "FILE",
	  "read options from FILE (\"name value\" lines, # comments) at this point" },
	{ "listen", 0, OPTTAB_STR, 0, 0, "0.0.0.0:8443", NULL, OFF(listen), NULL, "ADDR:PORT",
	  "listening address for diverted flows; \"[::]:PORT\" takes IPv6 and IPv4 flows" },
	{ "mode", 0, OPTTAB_CHOICE, 0, 0, "redirect", "redirect|tproxy", OFF(mode), NULL, "MODE",
	  "how flows arrive: iptables REDIRECT (SO_ORIGINAL_DST) or TPROXY (IP_TRANSPARENT)" },
	{ "workers", 0, OPTTAB_INT, 0, 256, "0", NULL, OFF(workers), NULL, "N",
	  "worker threads (0: one per CPU the engine may run on)" },
	{ "ca", 0, OPTTAB_STR, 0, 0, NULL, NULL, OFF(ca_dir), NULL, "DIR",
	  "CA directory from `mitmlab ca init` (needed when a rule can intercept)" },
	{ "chain", 0, OPTTAB_STR, 0, 0, NULL, NULL, OFF(chain), NULL, "FILE",
	  "serve this chain after the leaf instead of the --ca-issuer's chain" },
	{ "ca-issuer", 0, OPTTAB_CHOICE, 0, 0, "current", "current|expired", OFF(ca_issuer), NULL,
	  "WHICH", "CA issuer that signs forged leaves: current (DIR/issuer.*, sends chain.pem) "
	  "or expired (DIR/issuer-expired.*, sends chain-expired.pem; isca-2024)" },
	{ "profile", 0, OPTTAB_STR, 0, 0, "kz2019", NULL, OFF(profile), NULL, "NAME",
	  "forging profile (kz2019, kz2019-late, kz2019-early, sslsplit, mitmproxy, squid)" },
	{ "upstream-hello", 0, OPTTAB_CHOICE, 0, 0, "openssl", "openssl|mirror|kz2019",
	  OFF(upstream_hello), NULL, "P",
	  "upstream ClientHello: library defaults, the client's, or kz2019" },
	{ "upstream-verify", 0, OPTTAB_BOOL, 0, 0, NULL, NULL, OFF(upstream_verify), NULL,
	  "on|off", "verify the upstream chain and name (default: the forging profile's habit)" },
	{ "upstream-cafile", 0, OPTTAB_STR, 0, 0, NULL, NULL, OFF(upstream_cafile), NULL, "FILE",
	  "roots for upstream verification (the lab's web PKI)" },
	{ "require-valid-upstream", 0, OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(require_valid), NULL,
	  NULL, "intercept only if the upstream chain verifies (name not checked); else splice" },
	{ "upstream-resume", 0, OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(upstream_resume), NULL, NULL,
	  "resume upstream TLS sessions the origin issued (per destination, SNI and hello "
	  "profile); off: every upstream hello is exactly the profile's" },
	{ "upstream-resume-cache", 0, OPTTAB_INT, 1, 1000000, "1024", NULL,
	  OFF(upstream_resume_cache), NULL, "N", "upstream TLS sessions cached per worker (LRU)" },
	{ "upstream-verify-cache", 0, OPTTAB_INT, 0, 1000000, "1024", NULL,
	  OFF(upstream_verify_cache), NULL, "N",
	  "upstream chain verdicts cached per worker (LRU; keyed by the exact chain; 0: verify "
	  "every chain)" },
	{ "upstream-verify-ttl", 0, OPTTAB_INT, 1, 86400, "60", NULL, OFF(upstream_verify_ttl),
	  NULL, "S", "keep a cached verdict at most S seconds (never past a certificate's "
	  "notAfter or a notBefore still ahead)" },
	{ "rule", 0, RULE("%s"), "\"ACTION MATCH\"",
	  "ACTION intercept|splice|block-reset|block-timeout, MATCH sni=PATTERN|dst=CIDR" },
	{ "target", 0, RULE("intercept sni=%s"), "PATTERN",
	  "same as --rule \"intercept sni=PATTERN\"" },
	{ "target-list", 0, RULE(""), "FILE", "one SNI pattern to intercept per line (# comments)" },
	{ "target-dst", 0, RULE("intercept dst=%s"), "CIDR",
	  "same as --rule \"intercept dst=CIDR\"" },
	{ "default", 0, OPTTAB_STR, 0, 0, "splice", NULL, OFF(default_action), NULL, "ACTION",
	  "action for flows no rule matches" },
	{ "allow-upstream", 0, OPTTAB_LIST, 0, 0, NULL, NULL, OFF(allow_list), NULL, "CIDR",
	  "origin subnet the engine may connect to (repeatable; required)" },
	{ "bus", 0, OPTTAB_STR, 0, 0, NULL, NULL, OFF(bus), NULL, "ENDPOINT",
	  "publish events to this bus forwarder input (ipc://...)" },
	{ "id", 0, OPTTAB_STR, 0, 0, "proxy", NULL, OFF(id), NULL, "NAME",
	  "component id; worker N publishes as NAME.wN" },
	{ "keylog", 0, OPTTAB_STR, 0, 0, NULL, NULL, OFF(keylog), NULL, "FILE",
	  "append TLS secrets of both legs in SSLKEYLOGFILE format (mode 0600)" },
	{ "max-conns", 0, OPTTAB_INT, 1, 10000000, "100000", NULL, OFF(max_conns), NULL, "N",
	  "open connections per process; beyond it new ones are closed" },
	{ "handshake-timeout", 0, OPTTAB_INT, 10, CONFIG_HANDSHAKE_MS_MAX, "10000", NULL, OFF(handshake_ms), NULL,
	  "MS", "from accept until both TLS legs are up" },
	{ "idle-timeout", 0, OPTTAB_INT, 10, 86400000, "120000", NULL, OFF(idle_ms), NULL, "MS",
	  "close a relayed connection without traffic for this long" },
	{ "block-timeout", 0, OPTTAB_INT, 0, CONFIG_BLOCK_MS_MAX, "30000", NULL, OFF(block_ms), NULL, "MS",
	  "how long block-timeout holds a connection silently" },
	{ "cache-size", 0, OPTTAB_INT, 1, 10000000, "1024", NULL, OFF(cache_size), NULL, "N",
	  "forged certificates cached per worker" },
	{ "keypool", 0, OPTTAB_INT, 0, 100000, "32", NULL, OFF(keypool), NULL, "N",
	  "keys generated ahead of need (per-host key profiles)" },
	{ "keygen-threads", 0, OPTTAB_INT, 0, 64, "0", NULL, OFF(keygen_threads), NULL, "N",
	  "threads generating the key pool's keys (0: one per CPU the engine may run on, at "
	  "most 4)" },
	{ "host-keys", 0, OPTTAB_INT, 0, 4000000, "0", NULL, OFF(host_keys), NULL, "N",
	  "hosts that keep their key for the process's life (per-host key profiles; least "
	  "recently forged forgotten first; 0: 4 x cache-size x workers, at most 1048576)" },
	{ "pidfile", 0, OPTTAB_STR, 0, 0, NULL, NULL, OFF(pidfile), NULL, "FILE",
	  "write the process id here" },
	{ "debug", 0, OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(debug), NULL, NULL, "debug logging" },
	{ "help", 'h', OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(help), NULL, NULL, "this text" },
};

static const struct opttab config_tab = OPTTAB(config_opts, "mitmlab proxy",
    " [-c FILE] [options]\nEvery option can also be given in FILE as a \"name value\" line.\n\n",
    "   ");

/* Append a rule source (text through o->words, "" = list file) with its origin. */
static int
config_add_rule(void *base, const struct opttab_opt *o, const char *value, const char *origin,
    char **cause)
{
	struct config *cfg = base;
	struct config_rule *nr, *r;
	char *text, *orig = NULL;

	if (*o->words == '\0')
		text = strdup(value);
	else if (asprintf(&text, o->words, value) < 0)
		text = NULL;
	if (text == NULL || (orig = strdup(origin)) == NULL ||
	    (nr = realloc(cfg->rules, (cfg->nrules + 1) * sizeof(*nr))) == NULL) {
		free(text);
		free(orig);
		return util_cause(cause, "%s: out of memory", origin);
	}
	cfg->rules = nr;
	r = &cfg->rules[cfg->nrules++];
	r->kind = *o->words == '\0' ? CONFIG_RULE_LIST : CONFIG_RULE;
	r->text = text;
	r->origin = orig;
	return 0;
}

/* Set defaults from the table. */
void
config_init(struct config *cfg)
{
	opttab_init(&config_tab, cfg, sizeof(*cfg));
	cfg->upstream_verify = -1;
}

/* Release all strings and lists. */
void
config_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nrules; i++) {
		free(cfg->rules[i].text);
		free(cfg->rules[i].origin);
	}
	free(cfg->rules);
	opttab_free(&config_tab, cfg);
	memset(cfg, 0, sizeof(*cfg));
}

/* Set an option by name. */
int
config_set(struct config *cfg, const char *name, const char *value, const char *origin,
    char **cause)
{
	return opttab_set(&config_tab, cfg, name, value, origin, cause);
}

/* Parse the command line. */
int
config_parse_argv(struct config *cfg, int argc, char **argv, char **cause)
{
	return opttab_argv(&config_tab, cfg, argc, argv, cause);
}

/* Parse a file of "name value" lines. */
int
config_parse_file(struct config *cfg, const char *path, char **cause)
{
	return opttab_file(&config_tab, cfg, path, cause);
}

/* --help text built from the table. */
void
config_usage(FILE *f, const char *prog)
{
	opttab_usage(&config_tab, f, prog);
}

/* "redirect" / "tproxy". */
const char *
config_mode_name(int mode)
{
	return mode == CONFIG_MODE_TPROXY ? "tproxy" : "redirect";
}

/* "openssl" / "mirror" / "kz2019". */
const char *
config_hello_name(int hello)
{
	static const char *names[] = { "openssl", "mirror", "kz2019" };

	return hello >= 0 && hello < 3 ? names[hello] : "?";
}
