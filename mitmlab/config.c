/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config — option table and the one parser behind `mitmlab proxy` options and its
 * configuration file (tmux options-table.c style). A file line is "name value" (the value is the
 * rest of the line, optionally in double quotes; flags may stand alone or take on/off); blank
 * lines and # comments are skipped. Values are checked against the table's bounds and choices
 * here; cross-option checks belong to the engine (proxy.c), rule syntax to policy.c.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

enum config_type {
	CT_STR,		/* string, replaces */
	CT_INT,		/* integer within [min, max] */
	CT_FLAG,	/* no value on the command line; on|off in a file */
	CT_ONOFF,	/* on|off value */
	CT_CHOICE,	/* one of choices, stored as its index */
	CT_RULE,	/* appended to the ordered rule list through fmt */
	CT_LIST,	/* appended to a string list (--allow-upstream) */
	CT_CONF,	/* -c FILE: parse FILE now */
	CT_HELP,	/* --help */
};

struct config_option {
	const char	*name;
	char		 shortopt;
	enum config_type type;
	long long	 min, max;
	const char	*def;		/* default as text, NULL: none */
	const char	*choices;	/* CT_CHOICE: "a|b|c"; CT_RULE: format, "" = list file */
	size_t		 off;		/* offset of the field in struct config */
	const char	*arg;		/* metavar for --help */
	const char	*help;
};

#define OFF(f) offsetof(struct config, f)

static const struct config_option config_table[] = {
	{ "config", 'c', CT_CONF, 0, 0, NULL, NULL, 0, "FILE",
	  "read options from FILE (\"name value\" lines, # comments) at this point" },
	{ "listen", 0, CT_STR, 0, 0, "0.0.0.0:8443", NULL, OFF(listen), "ADDR:PORT",
	  "listening address for diverted flows" },
	{ "mode", 0, CT_CHOICE, 0, 0, "redirect", "redirect|tproxy", OFF(mode), "MODE",
	  "how flows arrive: iptables REDIRECT (SO_ORIGINAL_DST) or TPROXY (IP_TRANSPARENT)" },
	{ "workers", 0, CT_INT, 0, 256, "0", NULL, OFF(workers), "N",
	  "worker threads (0: number of online CPUs)" },
	{ "ca", 0, CT_STR, 0, 0, NULL, NULL, OFF(ca_dir), "DIR",
	  "CA directory from `mitmlab ca init` (needed when a rule can intercept)" },
	{ "chain", 0, CT_STR, 0, 0, NULL, NULL, OFF(chain), "FILE",
	  "serve this chain after the leaf instead of DIR/chain.pem" },
	{ "profile", 0, CT_STR, 0, 0, "kz2019", NULL, OFF(profile), "NAME",
	  "forging profile (kz2019, kz2019-late, kz2019-early, sslsplit, mitmproxy, squid)" },
	{ "upstream-hello", 0, CT_CHOICE, 0, 0, "openssl", "openssl|mirror|kz2019",
	  OFF(upstream_hello), "P", "upstream ClientHello: library defaults, the client's, or kz2019" },
	{ "upstream-verify", 0, CT_ONOFF, 0, 0, NULL, NULL, OFF(upstream_verify), "on|off",
	  "verify the upstream chain and name (default: the forging profile's habit)" },
	{ "upstream-cafile", 0, CT_STR, 0, 0, NULL, NULL, OFF(upstream_cafile), "FILE",
	  "roots for upstream verification (the lab's web PKI)" },
	{ "require-valid-upstream", 0, CT_FLAG, 0, 0, NULL, NULL, OFF(require_valid), NULL,
	  "intercept only if the upstream chain verifies (name not checked); else splice" },
	{ "rule", 0, CT_RULE, 0, 0, NULL, "%s", 0, "\"ACTION MATCH\"",
	  "ACTION intercept|splice|block-reset|block-timeout, MATCH sni=PATTERN|dst=CIDR" },
	{ "target", 0, CT_RULE, 0, 0, NULL, "intercept sni=%s", 0, "PATTERN",
	  "same as --rule \"intercept sni=PATTERN\"" },
	{ "target-list", 0, CT_RULE, 0, 0, NULL, "", 0, "FILE",
	  "one SNI pattern to intercept per line (# comments)" },
	{ "target-dst", 0, CT_RULE, 0, 0, NULL, "intercept dst=%s", 0, "CIDR",
	  "same as --rule \"intercept dst=CIDR\"" },
	{ "default", 0, CT_STR, 0, 0, "splice", NULL, OFF(default_action), "ACTION",
	  "action for flows no rule matches" },
	{ "allow-upstream", 0, CT_LIST, 0, 0, NULL, NULL, OFF(allow), "CIDR",
	  "origin subnet the engine may connect to (repeatable; required)" },
	{ "bus", 0, CT_STR, 0, 0, NULL, NULL, OFF(bus), "ENDPOINT",
	  "publish events to this bus forwarder input (ipc://...)" },
	{ "id", 0, CT_STR, 0, 0, "proxy", NULL, OFF(id), "NAME",
	  "component id; worker N publishes as NAME.wN" },
	{ "keylog", 0, CT_STR, 0, 0, NULL, NULL, OFF(keylog), "FILE",
	  "append TLS secrets of both legs in SSLKEYLOGFILE format (mode 0600)" },
	{ "max-conns", 0, CT_INT, 1, 10000000, "100000", NULL, OFF(max_conns), "N",
	  "open connections per process; beyond it new ones are closed" },
	{ "handshake-timeout", 0, CT_INT, 10, 3600000, "10000", NULL, OFF(handshake_ms), "MS",
	  "from accept until both TLS legs are up" },
	{ "idle-timeout", 0, CT_INT, 10, 86400000, "120000", NULL, OFF(idle_ms), "MS",
	  "close a relayed connection without traffic for this long" },
	{ "block-timeout", 0, CT_INT, 0, 86400000, "30000", NULL, OFF(block_ms), "MS",
	  "how long block-timeout holds a connection silently" },
	{ "cache-size", 0, CT_INT, 1, 10000000, "1024", NULL, OFF(cache_size), "N",
	  "forged certificates cached per worker" },
	{ "keypool", 0, CT_INT, 0, 100000, "32", NULL, OFF(keypool), "N",
	  "keys generated ahead of need (per-host key profiles)" },
	{ "pidfile", 0, CT_STR, 0, 0, NULL, NULL, OFF(pidfile), "FILE",
	  "write the process id here" },
	{ "debug", 0, CT_FLAG, 0, 0, NULL, NULL, OFF(debug), NULL, "debug logging" },
	{ "help", 'h', CT_HELP, 0, 0, NULL, NULL, OFF(help), NULL, "this text" },
};

#define CONFIG_NOPTS (sizeof(config_table) / sizeof(config_table[0]))

/* Find an option by long name. */
static const struct config_option *
config_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NOPTS; i++)
		if (strcmp(config_table[i].name, name) == 0)
			return &config_table[i];
	return NULL;
}

/* Find an option by its short letter. */
static const struct config_option *
config_find_short(char c)
{
	size_t i;

	for (i = 0; i < CONFIG_NOPTS; i++)
		if (config_table[i].shortopt == c && c != 0)
			return &config_table[i];
	return NULL;
}

/* Index of value in a "a|b|c" choice list, or -1. */
static int
config_choice(const char *choices, const char *value)
{
	const char *p = choices, *bar;
	size_t len = strlen(value);
	int i = 0;

	for (;;) {
		bar = strchr(p, '|');
		if ((size_t)((bar ? bar : p + strlen(p)) - p) == len && strncmp(p, value, len) == 0)
			return i;
		if (bar == NULL)
			return -1;
		p = bar + 1;
		i++;
	}
}

/* Parse on/off style booleans; -1 if neither. */
static int
config_bool(const char *v)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		return 0;
	return -1;
}

/* Append a rule source to cfg->rules; copies text and origin. */
static int
config_add_rule(struct config *cfg, const struct config_option *o, const char *value,
    const char *origin, char **cause)
{
	struct config_rule *nr, *r;
	char *text;

	if (*o->choices == '\0')
		text = strdup(value);
	else if (asprintf(&text, o->choices, value) < 0)
		text = NULL;
	nr = realloc(cfg->rules, (cfg->nrules + 1) * sizeof(*nr));
	if (text == NULL || nr == NULL) {
		free(text);
		if (nr != NULL)
			cfg->rules = nr;
		return util_cause(cause, "%s: out of memory", origin);
	}
	cfg->rules = nr;
	r = &cfg->rules[cfg->nrules++];
	r->kind = *o->choices == '\0' ? CONFIG_RULE_LIST : CONFIG_RULE;
	r->text = text;
	r->origin = strdup(origin);
	return 0;
}

/* Append to a string list field. */
static int
config_add_list(struct config *cfg, const struct config_option *o, const char *value,
    const char *origin, char **cause)
{
	char ***listp = (char ***)(void *)((char *)cfg + o->off);
	size_t *np = &cfg->nallow;	/* the only list option */
	char **nl;

	if ((nl = realloc(*listp, (*np + 1) * sizeof(*nl))) == NULL)
		return util_cause(cause, "%s: out of memory", origin);
	*listp = nl;
	if ((nl[*np] = strdup(value)) == NULL)
		return util_cause(cause, "%s: out of memory", origin);
	(*np)++;
	return 0;
}

/* Store value for option o; value may be NULL only for flags and help. */
static int
config_apply(struct config *cfg, const struct config_option *o, const char *value,
    const char *origin, char **cause)
{
	void *field = (char *)cfg + o->off;
	long long n;
	char *c2 = NULL;
	int b;

	switch (o->type) {
	case CT_STR:
		free(*(char **)field);
		*(char **)field = value ? strdup(value) : NULL;
		return 0;
	case CT_INT:
		if (util_parse_ll(value, o->min, o->max, &n, &c2) == -1) {
			util_cause(cause, "%s: --%s: %s", origin, o->name, c2);
			free(c2);
			return -1;
		}
		*(int *)field = (int)n;
		return 0;
	case CT_FLAG:
	case CT_ONOFF:
	case CT_HELP:
		b = value == NULL ? 1 : config_bool(value);
		if (b == -1)
			return util_cause(cause, "%s: --%s: \"%s\" is not on or off", origin,
			    o->name, value);
		*(int *)field = b;
		return 0;
	case CT_CHOICE:
		if ((b = config_choice(o->choices, value)) == -1)
			return util_cause(cause, "%s: --%s: unknown value \"%s\" (known: %s)",
			    origin, o->name, value, o->choices);
		*(int *)field = b;
		return 0;
	case CT_RULE:
		return config_add_rule(cfg, o, value, origin, cause);
	case CT_LIST:
		return config_add_list(cfg, o, value, origin, cause);
	case CT_CONF:
		return config_parse_file(cfg, value, cause);
	}
	return util_cause(cause, "%s: --%s: bad option type", origin, o->name);
}

/* Set defaults from the table. */
void
config_init(struct config *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->upstream_verify = -1;
	for (i = 0; i < CONFIG_NOPTS; i++)
		if (config_table[i].def != NULL)
			(void)config_apply(cfg, &config_table[i], config_table[i].def, "default",
			    NULL);
}

/* Release all strings and lists. */
void
config_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < CONFIG_NOPTS; i++)
		if (config_table[i].type == CT_STR)
			free(*(char **)(void *)((char *)cfg + config_table[i].off));
	for (i = 0; i < cfg->nrules; i++) {
		free(cfg->rules[i].text);
		free(cfg->rules[i].origin);
	}
	free(cfg->rules);
	for (i = 0; i < cfg->nallow; i++)
		free(cfg->allow[i]);
	free(cfg->allow);
	memset(cfg, 0, sizeof(*cfg));
}

/* Set an option by name. */
int
config_set(struct config *cfg, const char *name, const char *value, const char *origin,
    char **cause)
{
	const struct config_option *o = config_find(name);

	if (o == NULL)
		return util_cause(cause, "%s: unknown option \"%s\" (see mitmlab proxy --help)",
		    origin, name);
	if (value == NULL && o->type != CT_FLAG && o->type != CT_HELP)
		return util_cause(cause, "%s: --%s needs a value (%s)", origin, o->name,
		    o->arg ? o->arg : "VALUE");
	return config_apply(cfg, o, value, origin, cause);
}

/* Parse the command line. */
int
config_parse_argv(struct config *cfg, int argc, char **argv, char **cause)
{
	const struct config_option *o;
	const char *arg, *value, *eq;
	char name[64];
	int i;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		value = NULL;
		eq = NULL;
		if (arg[0] == '-' && arg[1] == '-' && arg[2] != '\0') {
			eq = strchr(arg + 2, '=');
			snprintf(name, sizeof(name), "%.*s",
			    (int)(eq ? (size_t)(eq - arg - 2) : strlen(arg + 2)), arg + 2);
			if (eq != NULL)
				value = eq + 1;
			o = config_find(name);
		} else if (arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0') {
			o = config_find_short(arg[1]);
			snprintf(name, sizeof(name), "%s", arg);
		} else
			return util_cause(cause, "unexpected argument \"%s\" (see mitmlab proxy "
			    "--help)", arg);
		if (o == NULL)
			return util_cause(cause, "unknown option \"%s\" (see mitmlab proxy --help)",
			    arg);
		if (o->type == CT_FLAG || o->type == CT_HELP) {
			if (value != NULL && eq != NULL && config_bool(value) == -1)
				return util_cause(cause, "--%s: \"%s\" is not on or off", o->name,
				    value);
		} else if (value == NULL) {
			if (i + 1 >= argc)
				return util_cause(cause, "--%s needs a value (%s)", o->name,
				    o->arg ? o->arg : "VALUE");
			value = argv[++i];
		}
		if (config_apply(cfg, o, value, "command line", cause) == -1)
			return -1;
	}
	return 0;
}

/* Trim spaces at both ends in place; returns the start. */
static char *
config_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Parse one non-empty line "name [value]". */
static int
config_parse_line(struct config *cfg, char *line, const char *origin, char **cause)
{
	char *name = line, *value, *p;
	size_t vl;

	for (p = line; *p != '\0' && !isspace((unsigned char)*p); p++)
		;
	if (*p != '\0')
		*p++ = '\0';
	value = config_trim(p);
	if (name[0] == '-' && name[1] == '-')
		name += 2;
	vl = strlen(value);
	if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
		value[vl - 1] = '\0';
		value++;
	}
	if (strcmp(name, "config") == 0)
		return util_cause(cause, "%s: \"config\" cannot be nested", origin);
	return config_set(cfg, name, *value ? value : NULL, origin, cause);
}

/* Parse a file of "name value" lines. */
int
config_parse_file(struct config *cfg, const char *path, char **cause)
{
	char origin[512], *buf, *line, *next, *hash;
	unsigned lineno = 0;
	int rc = 0;

	if ((buf = util_read_file(path, NULL, cause)) == NULL)
		return -1;
	for (line = buf; line != NULL && rc == 0; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((hash = strchr(line, '#')) != NULL && (hash == line || isspace(
		    (unsigned char)hash[-1])))
			*hash = '\0';
		line = config_trim(line);
		if (*line == '\0')
			continue;
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		rc = config_parse_line(cfg, line, origin, cause);
	}
	free(buf);
	return rc;
}

/* --help text built from the table. */
void
config_usage(FILE *f, const char *prog)
{
	char left[64];
	size_t i;

	fprintf(f, "usage: %s [-c FILE] [options]\n"
	    "Every option can also be given in FILE as a \"name value\" line.\n\n", prog);
	for (i = 0; i < CONFIG_NOPTS; i++) {
		const struct config_option *o = &config_table[i];
		snprintf(left, sizeof(left), "%s%c%s--%s%s%s", o->shortopt ? "-" : "",
		    o->shortopt ? o->shortopt : ' ', o->shortopt ? ", " : "  ", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-34s %s", left, o->help);
		if (o->def != NULL && o->type != CT_FLAG)
			fprintf(f, " [%s]", o->def);
		fprintf(f, "\n");
	}
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
